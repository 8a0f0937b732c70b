"""The ketama dialect: key for key with uhashring's ketama ring (which
agrees with libketama), and the rule of SPEC.md 14 written out here."""

import hashlib
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import place_on_two_positions

import ringcore
from ringcore import HashRing

uhashring = pytest.importorskip("uhashring")


def md5_low32(data: bytes) -> int:
    return int.from_bytes(hashlib.md5(data).digest()[:4], "little")


def model_points(nodes: dict, vnodes: int = 40) -> list[tuple[int, str]]:
    """(position, node) of every point, by the rule, in ring order with the
    node listed last first among equal positions."""
    total = 0.0
    for w in nodes.values():
        total += w
    points = []
    for order, (name, w) in enumerate(nodes.items()):
        for i in range(int((vnodes * len(nodes) * w) // total)):
            digest = hashlib.md5(f"{name}-{i}".encode()).digest()
            points += [(int.from_bytes(digest[4 * k: 4 * k + 4], "little"), -order, name)
                       for k in range(4)]
    return [(p, name) for p, _, name in sorted(points)]


node_sets = st.dictionaries(
    st.text("abcdefghij-_.:0123456789", min_size=1, max_size=12),
    st.integers(1, 5), min_size=1, max_size=12,
)


@settings(max_examples=40)
@given(node_sets, st.lists(st.text(max_size=20), min_size=1, max_size=200))
def test_ketama_agrees_with_uhashring(nodes, keys):
    ring = HashRing({name: float(w) for name, w in nodes.items()}, dialect="ketama")
    peer = uhashring.HashRing(nodes={name: {"weight": w} for name, w in nodes.items()},
                              hash_fn="ketama")
    assert ring.positions.tolist() == peer.runtime._keys  # same points, same order
    got = [ring.nodes[i] for i in ring.route(keys)]
    # uhashring takes the first point above the hash, ketama the first at or
    # above it: they differ only for a key whose hash is a point
    points = set(ring.positions.tolist())
    for key, node in zip(keys, got):
        if md5_low32(key.encode()) not in points:
            assert node == peer.get_node(key)
        assert ring.get_node(key) == node


def test_ketama_points_and_hashes_follow_the_rule():
    nodes = {"10.0.0.1:11211": 1.0, "10.0.0.2:11211": 2.0, "cache-c": 3.0, "é": 1.0}
    ring = HashRing(nodes, dialect="ketama")
    model = model_points(nodes)
    assert ring.positions.tolist() == [p for p, _ in model]
    assert [ring.nodes[o] for o in ring.owners.tolist()] == [n for _, n in model]
    assert ring.vnodes == 40 and ring.dialect.name == "ketama"
    assert int(ring.positions.max()) < 2**32
    keys = ["user:1", "", "héllo", "x" * 300]
    assert ring.hash_keys(keys).tolist() == [md5_low32(k.encode()) for k in keys]
    assert ring.hash_keys([b"\x00\xff", 12345, 2**64 - 1]).tolist() == [
        md5_low32(b"\x00\xff"), md5_low32(b"12345"), md5_low32(b"18446744073709551615")]
    assert ring.get_node(12345) == ring.get_node("12345")
    # a key on a point belongs to it (at or above); the next hash to the next point
    for i in (0, 7, len(model) - 1):
        h = np.array([model[i][0]], dtype=np.uint64)
        assert ring.nodes[ring.route_hashes(h)[0]] == model[i][1]
    beyond = np.array([2**32 + 5, 2**64 - 1], dtype=np.uint64)  # past a 32-bit ring: point 0
    assert [ring.nodes[i] for i in ring.route_hashes(beyond)] == [model[0][1]] * 2


def test_ketama_ties_go_to_the_node_listed_last(monkeypatch):
    """Equal points (rare on a 32-bit ring, forced here: every point of
    every node at one of two positions): the node listed last owns them."""
    from ringcore import layout

    monkeypatch.setattr(layout, "_place", place_on_two_positions)
    for order in (["b", "a", "c"], ["c", "a", "b"], ["a", "b", "c"]):
        ring = HashRing(order, dialect="ketama")
        assert ring.nodes[ring.owners[0]] == order[-1]
        ring.add_node("d")
        assert ring.nodes[ring.owners[0]] == "d"


def test_ketama_updates_rebuild_every_node():
    names = [f"10.0.0.{i}:11211" for i in range(1, 9)]
    ring = HashRing(names[:5], dialect="ketama")
    ring.add_node(names[5], 2.0)
    assert ring == HashRing({**dict.fromkeys(names[:5], 1.0), names[5]: 2.0}, dialect="ketama")
    ring.remove_node(names[0])
    assert ring == HashRing({**dict.fromkeys(names[1:5], 1.0), names[5]: 2.0}, dialect="ketama")
    assert ring.version == 2
    for name in list(ring.nodes):
        ring.remove_node(name)
    assert len(ring) == 0 and len(ring.positions) == 0
    ring.add_node("solo")
    assert len(ring.positions) == 160


def test_ketama_batches_replicas_pickle_and_errors():
    pa = pytest.importorskip("pyarrow")
    ring = HashRing([f"s{i}" for i in range(10)], dialect="ketama")
    keys = [f"key-{i}" for i in range(5000)]
    expected = ring.route(keys)
    assert np.array_equal(ring.route(np.array(keys)), expected)
    assert np.array_equal(ring.route(pa.array(keys)), expected)
    assert np.array_equal(ring.route(pa.array(keys, type=pa.large_string())), expected)
    rows = ring.route_replicas(keys[:200], 3)
    assert [[ring.nodes[i] for i in row] for row in rows.tolist()] == [
        ring.get_nodes(k, 3) for k in keys[:200]]
    again = pickle.loads(pickle.dumps(ring))
    assert again == ring and again.dialect.name == "ketama"
    assert ring != HashRing([f"s{i}" for i in range(10)])
    assert "dialect='ketama'" in repr(ring)
    with pytest.raises(ValueError, match="gets no points"):
        HashRing({"big": 1000.0, "tiny": 1.0}, vnodes=1, dialect="ketama")
    with pytest.raises(ValueError, match="unknown dialect"):
        HashRing(["a"], dialect="ketamaa")
    assert HashRing(["a"], vnodes=10, dialect={"id": "ketama"}).vnodes == 10
    assert ringcore.dialects.get_dialect("ketama").get_config() == {"id": "ketama"}
