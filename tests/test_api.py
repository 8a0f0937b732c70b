"""The public API's protocol and conveniences: pickle, equality, hashing,
repr, len, `in`, properties, dtypes, the package namespace, and a huge ring."""

import copy
import pickle

import numpy as np
import pytest
import xxhash
from conftest import IMPLS
from hypothesis import given
from strategies import keys, owner_names, ring_configs

import ringcore
from ringcore import reference

WEIGHTED = {"alpha": 1.0, "βeta": 2.5, "🙂#1": 0.5, "名前": 1.0}
PROBE = ["", "a", "é", "🙂", b"\xff", 0, -1, 2**64 - 1] + [f"k{i}" for i in range(300)]


# -- pickle / copy -------------------------------------------------------------------


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_round_trip(cls, protocol):
    ring = cls(WEIGHTED, vnodes=37)
    ring.add_node("late", 1.5)
    ring.remove_node("alpha")
    ring.add_node("alpha", 3.0)  # now last in insertion order
    clone = pickle.loads(pickle.dumps(ring, protocol=protocol))
    assert type(clone) is cls
    assert clone == ring
    assert clone.nodes == ring.nodes == ("βeta", "🙂#1", "名前", "late", "alpha")
    assert clone.weights == ring.weights
    assert clone.vnodes == 37
    assert np.array_equal(clone.positions, ring.positions)
    assert np.array_equal(clone.owners, ring.owners)
    assert np.array_equal(clone.route(PROBE), ring.route(PROBE))
    assert clone.ownership() == ring.ownership()
    # the clone is independent and fully working
    clone.add_node("extra")
    assert "extra" in clone and "extra" not in ring
    clone.remove_node("extra")
    assert clone == ring


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_empty_ring(cls, protocol):
    ring = cls([], vnodes=5)
    clone = pickle.loads(pickle.dumps(ring, protocol=protocol))
    assert clone == ring and len(clone) == 0 and clone.vnodes == 5
    with pytest.raises(ringcore.EmptyRingError):
        clone.get_node("k")
    clone.add_node("a")
    assert clone.get_node("k") == "a"


@given(ring_configs(min_nodes=0, max_points=2000))
def test_pickle_any_ring(cfg):
    for cls in IMPLS:
        ring = cfg.build(cls)
        clone = pickle.loads(pickle.dumps(ring))
        assert clone == ring
        assert clone.nodes == ring.nodes and clone.weights == ring.weights
        assert np.array_equal(clone.positions, ring.positions)
        assert np.array_equal(clone.owners, ring.owners)


def test_copy_and_deepcopy_are_independent(cls):
    ring = cls(WEIGHTED, vnodes=20)
    for clone in (copy.copy(ring), copy.deepcopy(ring)):
        assert clone == ring and clone is not ring
        clone.remove_node("alpha")
        assert "alpha" in ring and clone != ring


def test_pickle_does_not_cross_implementations():
    core, ref = ringcore.HashRing(WEIGHTED), reference.HashRing(WEIGHTED)
    assert type(pickle.loads(pickle.dumps(core))) is ringcore.HashRing
    assert type(pickle.loads(pickle.dumps(ref))) is reference.HashRing


# -- equality and hashing --------------------------------------------------------------


def test_same_config_is_equal(cls):
    a = cls({"a": 1.0, "b": 2.0}, vnodes=10)
    b = cls({"a": 1, "b": 2}, vnodes=10)
    c = cls({}, vnodes=10)
    c.add_node("a")
    c.add_node("b", 2.0)
    d = cls({"a": 1.0, "b": 2.0, "c": 1.0}, vnodes=10)
    d.remove_node("c")
    for other in (b, c, d):
        assert a == other and other == a
        assert not (a != other)
    assert cls(["x", "y"]) == cls({"x": 1.0, "y": 1.0}) == cls(iter(["x", "y"]), vnodes=160)
    assert cls([]) == cls([])
    ring = cls(["a"])
    assert ring == ring


def test_different_config_is_unequal(cls):
    base = cls({"a": 1.0, "b": 2.0}, vnodes=10)
    for other in (
        cls({"a": 1.0, "b": 2.0}, vnodes=11),  # vnodes
        cls({"a": 1.0, "b": 2.000001}, vnodes=10),  # a weight
        cls({"a": 1.0, "b": 1.0}, vnodes=10),
        cls({"a": 1.0}, vnodes=10),  # nodes
        cls({"a": 1.0, "b": 2.0, "c": 1.0}, vnodes=10),
        cls({"a": 1.0, "c": 2.0}, vnodes=10),
        cls([], vnodes=10),
    ):
        assert base != other and other != base
        assert not (base == other)


def test_equality_with_other_types(cls):
    ring = cls(["a"])
    assert ring != ["a"] and ring != {"a": 1.0} and ring != "a" and ring != None  # noqa: E711
    assert not (ring == 1)


def test_core_and_reference_are_not_equal_to_each_other():
    assert ringcore.HashRing(["a"]) != reference.HashRing(["a"])


def test_mutation_changes_equality(cls):
    a, b = cls(["a", "b"]), cls(["a", "b"])
    a.add_node("c")
    assert a != b
    b.add_node("c")
    assert a == b


def test_unhashable(cls):
    ring = cls(["a"])
    with pytest.raises(TypeError):
        hash(ring)
    with pytest.raises(TypeError):
        {ring}  # noqa: B018


# -- repr, len, in -------------------------------------------------------------------


def test_repr(cls):
    ring = cls({"alpha": 1.0, "βeta": 2.5}, vnodes=7)
    text = repr(ring)
    assert isinstance(text, str)
    assert "HashRing" in text and "vnodes=7" in text
    assert "'alpha'" in text and "'βeta'" in text
    assert "vnodes=160" in repr(cls(["n"]))
    assert "HashRing" in repr(cls([]))
    big = cls([f"node{i}" for i in range(50)], vnodes=2)
    assert "HashRing" in repr(big) and len(repr(big)) < 10_000


def test_core_repr_shows_weights_and_points():
    assert repr(ringcore.HashRing(["a", "b"], vnodes=3)) == "HashRing(['a', 'b'], vnodes=3, points=6)"
    weighted = repr(ringcore.HashRing({"a": 1.0, "b": 2.0}, vnodes=3))
    assert "2.0" in weighted and "points=9" in weighted
    assert "<20 nodes>" in repr(ringcore.HashRing([f"n{i}" for i in range(20)], vnodes=1))


def test_len_and_contains(cls):
    ring = cls(WEIGHTED, vnodes=5)
    assert len(ring) == 4
    for name in WEIGHTED:
        assert name in ring
    for name in ("zeta", "", "🙂", "ALPHA", "alpha "):
        assert name not in ring
    assert 1 not in ring and None not in ring
    ring.remove_node("alpha")
    assert len(ring) == 3 and "alpha" not in ring
    ring.add_node("alpha")
    assert len(ring) == 4 and "alpha" in ring
    assert len(cls([])) == 0


# -- nodes, weights, vnodes --------------------------------------------------------------


def test_nodes_in_insertion_order(cls):
    ring = cls(["c", "a", "b"], vnodes=3)
    assert ring.nodes == ("c", "a", "b") and type(ring.nodes) is tuple
    ring.remove_node("a")
    assert ring.nodes == ("c", "b")
    ring.add_node("a")
    assert ring.nodes == ("c", "b", "a")
    ring.add_node("0")
    assert ring.nodes == ("c", "b", "a", "0")
    # route() indices follow the same order
    assert set(ring.route(PROBE).tolist()) == {0, 1, 2, 3}
    for key, index in zip(PROBE, ring.route(PROBE).tolist()):
        assert ring.nodes[index] == ring.get_node(key)
    assert cls({"z": 1.0, "y": 2.0, "x": 3.0}).nodes == ("z", "y", "x")
    assert cls(name for name in ["q", "p"]).nodes == ("q", "p")


def test_weights_property(cls):
    ring = cls({"a": 2, "b": 0.5}, vnodes=10)
    weights = ring.weights
    assert weights == {"a": 2.0, "b": 0.5} and list(weights) == ["a", "b"]
    assert all(type(w) is float for w in weights.values())
    weights["a"] = 100.0
    weights["zzz"] = 1.0
    assert ring.weights == {"a": 2.0, "b": 0.5}  # a copy, not the ring's own state
    ring.add_node("c")
    assert ring.weights == {"a": 2.0, "b": 0.5, "c": 1.0}
    assert cls(["x"]).weights == {"x": 1.0}
    assert ring.vnodes == 10 and cls(["x"]).vnodes == 160


# -- positions and owners ------------------------------------------------------------------


def test_positions_and_owners_arrays(cls):
    ring = cls(WEIGHTED, vnodes=40)
    positions, owners = ring.positions, ring.owners
    assert positions.dtype == np.uint64 and owners.dtype == np.int32
    assert positions.ndim == owners.ndim == 1
    counts = [int(np.floor(40 * w + 0.5)) for w in WEIGHTED.values()]
    assert len(positions) == len(owners) == sum(counts)
    assert np.all(positions[1:] >= positions[:-1])
    assert np.bincount(owners, minlength=len(ring)).tolist() == counts
    raw = {name: name.encode() for name in WEIGHTED}
    expected = sorted(
        xxhash.xxh3_64_intdigest(raw[name] + b"#" + str(j).encode())
        for name, c in zip(WEIGHTED, counts)
        for j in range(c)
    )
    assert positions.tolist() == expected


def test_positions_and_owners_are_read_only(cls):
    ring = cls(WEIGHTED, vnodes=10)
    before_pos, before_own = ring.positions.copy(), ring.owners.copy()
    with pytest.raises(ValueError):
        ring.positions[0] = 0
    with pytest.raises(ValueError):
        ring.owners[0] = 1
    with pytest.raises(ValueError):
        ring.positions[:] = 0
    with pytest.raises(ValueError):
        ring.owners.fill(0)
    with pytest.raises(ValueError):
        ring.positions.sort()
    with pytest.raises(AttributeError):
        ring.positions = np.zeros(3, dtype=np.uint64)
    with pytest.raises(AttributeError):
        ring.owners = np.zeros(3, dtype=np.int32)
    assert np.array_equal(ring.positions, before_pos)
    assert np.array_equal(ring.owners, before_own)


def test_ring_cannot_be_changed_through_its_arrays(cls):
    """Neither the arrays nor any array they are views of can be made writeable
    while sharing memory with the ring's points (the kernels trust them: the
    core's lookup scans up to a sentinel after the last point). Nothing is
    written here, so a failure cannot corrupt the process."""
    ring = cls(WEIGHTED, vnodes=10)
    for attr in ("positions", "owners"):
        target = getattr(ring, attr)
        while isinstance(target, np.ndarray):
            try:
                target.flags.writeable = True
            except ValueError:
                pass  # refused: really read-only
            else:
                target.flags.writeable = False
                assert not np.shares_memory(target, getattr(ring, attr)), (
                    f"ring.{attr} (or its .base) can be made writeable in place"
                )
            target = target.base


def test_arrays_taken_before_an_update_are_not_changed_by_it(cls):
    ring = cls(WEIGHTED, vnodes=10)
    positions, owners = ring.positions, ring.owners
    saved = positions.copy(), owners.copy()
    ring.add_node("new", 2.0)
    ring.remove_node("alpha")
    assert np.array_equal(positions, saved[0]) and np.array_equal(owners, saved[1])
    assert len(ring.positions) != len(positions)


# -- output dtypes and shapes ---------------------------------------------------------------


def test_route_of_empty_batches(cls):
    ring = cls(WEIGHTED)
    for batch in ([], (), iter([]), np.array([], dtype=np.int64), np.array([], dtype="U1"),
                  np.array([], dtype=object), np.empty((0, 4), dtype=np.uint8)):
        out = ring.route(batch)
        assert out.dtype == np.int32 and out.size == 0
        assert out.shape == getattr(batch, "shape", (0,))
        hashed = ring.hash_keys(batch if not hasattr(batch, "__next__") else iter([]))
        assert hashed.dtype == np.uint64 and hashed.size == 0
    out = ring.route_hashes([])
    assert out.dtype == np.int32 and out.shape == (0,)
    out = ring.route_hashes(np.array([], dtype=np.uint64))
    assert out.dtype == np.int32 and out.shape == (0,)


@pytest.mark.parametrize(
    "batch",
    [
        ["a", "b"],
        ("a", 1, b"c"),
        np.arange(10, dtype=np.int16),
        np.arange(12, dtype=np.uint64).reshape(3, 4),
        np.array(["x", "y"]),
        np.array([b"x", b"y"]),
    ],
    ids=lambda b: type(b).__name__ + str(getattr(b, "dtype", "")),
)
def test_output_dtypes_and_shapes(cls, batch):
    ring = cls(WEIGHTED, vnodes=10)
    shape = getattr(batch, "shape", (len(batch),))
    routed, hashed = ring.route(batch), ring.hash_keys(batch)
    assert routed.dtype == np.int32 and routed.shape == shape
    assert hashed.dtype == np.uint64 and hashed.shape == shape
    assert routed.min() >= 0 and routed.max() < len(ring)
    expected = [reference.hash_key(k) for k in np.asarray(batch, dtype=object).ravel().tolist()]
    assert hashed.ravel().tolist() == expected
    by_hash = ring.route_hashes(hashed)
    assert by_hash.dtype == np.int32 and by_hash.shape == shape
    assert np.array_equal(by_hash, routed)


def test_get_node_and_get_nodes_return_types(cls):
    ring = cls(WEIGHTED, vnodes=10)
    assert type(ring.get_node("k")) is str
    nodes = ring.get_nodes("k", 3)
    assert type(nodes) is list and all(type(n) is str for n in nodes)
    own = ring.ownership()
    assert type(own) is dict and list(own) == list(ring.nodes)


# -- the package namespace ------------------------------------------------------------------


def test_package_namespace():
    assert {"HashRing", "EmptyRingError", "hash_key"} <= set(ringcore.__all__)
    assert len(set(ringcore.__all__)) == len(ringcore.__all__)
    for name in ringcore.__all__:
        assert getattr(ringcore, name) is not None
    namespace = {}
    exec("from ringcore import *", namespace)
    for name in ringcore.__all__:
        assert name in namespace
    assert issubclass(ringcore.EmptyRingError, LookupError)
    assert isinstance(ringcore.__version__, str) and ringcore.__version__
    for name in ("HashRing", "hash_key", "key_bytes", "vnode_position"):
        assert hasattr(reference, name)
    assert reference.HashRing is not ringcore.HashRing


@given(keys)
def test_hash_key_matches_reference_and_xxhash(key):
    expected = xxhash.xxh3_64_intdigest(reference.key_bytes(key))
    assert ringcore.hash_key(key) == reference.hash_key(key) == expected
    assert type(ringcore.hash_key(key)) is int


def test_hash_key_equal_keys_of_different_types():
    h = ringcore.hash_key
    assert h("abc") == h(b"abc") == h(bytearray(b"abc")) == h(memoryview(b"abc"))
    assert h("é") == h("é".encode()) != h("é".encode("latin-1"))
    assert h("") == h(b"") == xxhash.xxh3_64_intdigest(b"")
    assert h(-1) == h(2**64 - 1) == h(np.int8(-1)) == h(np.int64(-1)) == h(np.uint64(2**64 - 1))
    assert h(5) == h(np.uint8(5)) == h(np.int16(5)) == h(np.dtype(">i4").type(5))
    assert h(5) == xxhash.xxh3_64_intdigest((5).to_bytes(8, "little"))
    assert h(5) != h("5") and h(0) != h(b"")
    if hasattr(ringcore, "xxh3_64"):
        assert ringcore.xxh3_64(b"abc") == xxhash.xxh3_64_intdigest(b"abc")


# -- a huge ring ----------------------------------------------------------------------------


def test_huge_ring_sanity():
    names = [f"server-{i:04d}.example" for i in range(2000)]
    ring = ringcore.HashRing(names, vnodes=160)
    positions, owners = ring.positions, ring.owners
    assert len(positions) == len(owners) == 320_000
    assert np.all(positions[1:] >= positions[:-1])
    assert np.array_equal(np.bincount(owners, minlength=2000), np.full(2000, 160))
    # a sample of nodes' points against the spec formula
    for i in (0, 777, 1999):
        raw = names[i].encode()
        expected = sorted(xxhash.xxh3_64_intdigest(raw + b"#" + str(j).encode()) for j in range(160))
        assert positions[owners == i].tolist() == expected
    # routing against searchsorted over the ring's own arrays
    keys = np.random.default_rng(7).integers(0, 2**63, size=200_000, dtype=np.int64)
    hashes = np.array([reference.hash_key(int(k)) for k in keys[:5000]], dtype=np.uint64)
    assert np.array_equal(ring.hash_keys(keys[:5000]), hashes)
    idx = np.searchsorted(positions, hashes, side="left")
    idx[idx == len(positions)] = 0
    routed = ring.route(keys)
    assert np.array_equal(routed[:5000], owners[idx])
    assert np.array_equal(routed, ring.route_hashes(ring.hash_keys(keys)))
    counts = np.bincount(routed, minlength=2000)
    assert counts.min() > 0 and counts.max() < 5 * counts.mean()
    own = ring.ownership()
    assert abs(sum(own.values()) - 1.0) < 1e-12
    assert min(own.values()) > 0.1 / 2000 and max(own.values()) < 10 / 2000
    # an update on the huge ring moves only the keys it must
    ring.add_node("newcomer")
    after = ring.route(keys)
    moved = after != routed
    assert np.all(after[moved] == 2000) and moved.any()
    ring.remove_node("newcomer")
    assert np.array_equal(ring.route(keys), routed)
    assert owner_names(ring)[:10] == [names[i] for i in owners[:10].tolist()]
