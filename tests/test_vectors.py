"""Both implementations against the spec's test vectors (docs/spec_vectors.json)."""

import json
from pathlib import Path

import numpy as np
import pytest

import ringcore
import ringcore.dialects
from ringcore import reference

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent / "docs" / "spec_vectors.json").read_text("utf-8")
)
IMPLEMENTATIONS = [ringcore.HashRing, reference.HashRing]


def decode_key(entry):
    if entry["type"] == "str":
        return entry["value"]
    if entry["type"] == "bytes":
        return bytes.fromhex(entry["hex"])
    return int(entry["value"])


@pytest.mark.parametrize("entry", VECTORS["key_hashes"], ids=lambda e: e["bytes"][:16])
def test_key_hash(entry):
    key = decode_key(entry["key"])
    expected = int(entry["hash"], 16)
    assert reference.key_bytes(key).hex() == entry["bytes"]
    assert ringcore.hash_key(key) == expected
    assert reference.hash_key(key) == expected
    assert ringcore.xxh3_64(bytes.fromhex(entry["bytes"])) == expected


def test_key_hash_batches():
    keys = [decode_key(e["key"]) for e in VECTORS["key_hashes"]]
    expected = np.array([int(e["hash"], 16) for e in VECTORS["key_hashes"]], dtype=np.uint64)
    for cls in IMPLEMENTATIONS:
        assert np.array_equal(cls(["n"]).hash_keys(keys), expected)


@pytest.mark.parametrize("entry", VECTORS["points"], ids=lambda e: f"{e['node']}#{e['j']}")
def test_point_position(entry):
    position = int(entry["position"], 16)
    assert reference.vnode_position(entry["node"], entry["j"]) == position
    ring = ringcore.HashRing([entry["node"]], vnodes=entry["j"] + 1)
    assert position in ring.positions.tolist()


@pytest.mark.parametrize("cls", IMPLEMENTATIONS)
@pytest.mark.parametrize("index", range(len(VECTORS["rings"])))
def test_ring(cls, index):
    spec = VECTORS["rings"][index]
    ring = cls({name: weight for name, weight in spec["nodes"]}, vnodes=spec["vnodes"])
    assert list(ring.nodes) == [name for name, _ in spec["nodes"]]
    assert [f"{p:#018x}" for p in ring.positions.tolist()] == [p for p, _ in spec["points"]]
    assert [ring.nodes[o] for o in ring.owners.tolist()] == [n for _, n in spec["points"]]
    assert {n: s.hex() for n, s in ring.ownership().items()} == spec["ownership"]
    keys = [decode_key(lookup["key"]) for lookup in spec["lookups"]]
    routed = ring.route(keys)
    for key, lookup, index_ in zip(keys, spec["lookups"], routed.tolist()):
        assert ring.get_node(key) == lookup["node"]
        assert ring.nodes[index_] == lookup["node"]
        for n in range(1, len(spec["nodes"]) + 1):
            assert ring.get_nodes(key, n) == lookup["replicas"][:n]


def colliding_points(name_bytes, count):
    """Every node's point j at position j * 2**40: all nodes collide."""
    return np.arange(count, dtype=np.uint64) * np.uint64(2**40)


def test_equal_positions_are_ordered_by_name(monkeypatch):
    """SPEC.md 4: equal positions are ordered by UTF-8 name bytes, in both
    implementations, whether the ring is built at once or node by node."""
    from test_agreement import patch_points

    patch_points(monkeypatch, colliding_points)
    monkeypatch.setattr(reference, "vnode_position", lambda name, j: j * 2**40)
    names = ["é", "b", "a", "Z", "bb"]  # UTF-8 order: Z a b bb é
    rings = [ringcore.HashRing(names, vnodes=3), reference.HashRing(names, vnodes=3)]
    grown = ringcore.HashRing(names[:1], vnodes=3)
    for name in names[1:]:
        grown.add_node(name)
    rings.append(grown)
    for ring in rings:
        assert ring.positions.tolist() == [j * 2**40 for j in range(3) for _ in names]
        assert [ring.nodes[o] for o in ring.owners.tolist()] == ["Z", "a", "b", "bb", "é"] * 3
        # a hash equal to the shared position goes to the first in name order
        assert ring.nodes[ring.route_hashes([2**40])[0]] == "Z"
        assert ring.nodes[ring.route_hashes([2**40 + 1])[0]] == "Z"
        assert ring.ownership()["a"] == 0.0


@pytest.mark.parametrize("name", ringcore.dialects.available_dialects())
def test_every_dialect_matches_its_golden_vectors(name):
    """Each registered dialect names a vectors file in docs/; its key hashes,
    points and lookups are the dialect's fixture."""
    dialect = ringcore.dialects.get_dialect(name)
    assert dialect.vectors, f"dialect {name!r} has no golden vectors"
    docs = Path(__file__).resolve().parent.parent / "docs"
    vectors = json.loads((docs / dialect.vectors).read_text("utf-8"))
    for entry in vectors["key_hashes"]:
        assert dialect.hasher.hash_key(decode_key(entry["key"])) == int(entry["hash"], 16)
    for spec in vectors["rings"]:
        ring = ringcore.HashRing(dict(spec["nodes"]), vnodes=spec["vnodes"], dialect=name)
        assert [f"{p:#018x}" for p in ring.positions.tolist()] == [p for p, _ in spec["points"]]
        for lookup in spec["lookups"]:
            assert ring.get_node(decode_key(lookup["key"])) == lookup["node"]
