"""The bad-input matrix: every rejected input raises the documented exception
type (with a message naming the type or the index), in both implementations,
and leaves the ring exactly as it was."""

import math
from contextlib import contextmanager
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
from conftest import IMPLS
from strategies import assert_snapshot_equal, object_array, snapshot

import ringcore
from ringcore import EmptyRingError, reference

HASH_KEY = [ringcore.hash_key, reference.hash_key]


@pytest.fixture
def ring(cls):
    return cls({"a": 1.0, "b": 2.0, "ü": 0.5, "🙂": 1}, vnodes=20)


@contextmanager
def fails_unchanged(ring, exc, match=None):
    """The block raises exc (matching `match`) and the ring is unchanged."""
    before = snapshot(ring)
    own = ring.ownership()
    with pytest.raises(exc, match=match) as info:
        yield info
    assert_snapshot_equal(snapshot(ring), before)
    assert ring.ownership() == own


# -- keys ----------------------------------------------------------------------------

BAD_KEYS = [
    (True, "bool"),
    (False, "bool"),
    (1.5, "float"),
    (0.0, "float"),
    (None, "NoneType"),
    ([], "list"),
    (["a"], "list"),
    ({}, "dict"),
    ({"a": 1}, "dict"),
    ((1,), "tuple"),
    ({1}, "set"),
    (object(), "object"),
    (1j, "complex"),
    (Decimal(1), "Decimal"),
    (Fraction(1, 2), "Fraction"),
    (np.bool_(True), type(np.bool_(True)).__name__),  # "bool_" before numpy 2
    (np.float64(1.0), "float64"),
    (np.float32(2.0), "float32"),
    (np.array([1, 2]), "ndarray"),
]
bad_key = pytest.mark.parametrize(
    "key, type_name", BAD_KEYS, ids=[f"{n}-{i}" for i, (_, n) in enumerate(BAD_KEYS)]
)


@bad_key
def test_get_node_rejects_key_type(ring, key, type_name):
    with fails_unchanged(ring, TypeError, match=rf"\b{type_name}\b"):
        ring.get_node(key)


@bad_key
def test_get_nodes_rejects_key_type(ring, key, type_name):
    with fails_unchanged(ring, TypeError, match=rf"\b{type_name}\b"):
        ring.get_nodes(key, 2)


@bad_key
@pytest.mark.parametrize("hash_key", HASH_KEY, ids=["core", "reference"])
def test_hash_key_rejects_key_type(hash_key, key, type_name):
    with pytest.raises(TypeError, match=rf"\b{type_name}\b"):
        hash_key(key)


@bad_key
@pytest.mark.parametrize("method", ["route", "hash_keys"])
@pytest.mark.parametrize("container", ["list", "tuple", "generator", "object-array"])
def test_batch_rejects_key_type_naming_the_index(ring, method, container, key, type_name):
    items = ["a", b"b", 3, key, "e"]
    batch = {
        "list": lambda: items,
        "tuple": lambda: tuple(items),
        "generator": lambda: (k for k in items),
        "object-array": lambda: object_array(items),
    }[container]()
    with fails_unchanged(ring, TypeError, match=r"keys\[3\]") as info:
        getattr(ring, method)(batch)
    assert type_name in str(info.value)


@pytest.mark.parametrize("method", ["route", "hash_keys"])
def test_batch_error_index_is_global_past_the_first_chunk(ring, method):
    """The index is the key's position in the whole batch, not in an internal chunk."""
    batch = [f"k{i}" for i in range(3000)]
    batch[2500] = None
    with fails_unchanged(ring, TypeError, match=r"keys\[2500\]"):
        getattr(ring, method)(batch)
    batch[2500] = "\ud800"
    with fails_unchanged(ring, UnicodeEncodeError) as info:
        getattr(ring, method)(batch)
    assert "keys[2500]" in str(info.value)


@pytest.mark.parametrize("method", ["route", "hash_keys"])
def test_2d_object_array_error_names_the_flat_index(ring, method):
    arr = object_array(["a", "b", "c", "d", 1.5, "f"], shape=(2, 3))
    with fails_unchanged(ring, TypeError, match=r"keys\[4\].*float"):
        getattr(ring, method)(arr)


# -- int keys out of range -------------------------------------------------------------

OUT_OF_RANGE = [2**64, -(2**63) - 1, 2**64 + 1, 2**100, -(2**100)]


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_int_key_out_of_range_overflows(ring, value):
    with fails_unchanged(ring, OverflowError):
        ring.get_node(value)
    with fails_unchanged(ring, OverflowError):
        ring.get_nodes(value, 1)
    for method in ("route", "hash_keys"):
        with fails_unchanged(ring, OverflowError, match=r"keys\[2\]"):
            getattr(ring, method)([0, 1, value])
        with fails_unchanged(ring, OverflowError, match=r"keys\[1\]"):
            getattr(ring, method)(object_array([0, value, 1]))


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("hash_key", HASH_KEY, ids=["core", "reference"])
def test_hash_key_out_of_range_overflows(hash_key, value):
    with pytest.raises(OverflowError):
        hash_key(value)


@pytest.mark.parametrize("hash_key", HASH_KEY, ids=["core", "reference"])
def test_int_key_range_edges_are_accepted(hash_key):
    """[-2**63, 2**64) is accepted; -1 and 2**64-1 are the same 8 bytes."""
    assert hash_key(-(2**63)) == hash_key(2**63)
    assert hash_key(-1) == hash_key(2**64 - 1)
    assert hash_key(-1) != hash_key(1)


# -- str keys with lone surrogates -----------------------------------------------------

SURROGATES = ["\ud800", "\udfff", "abc\udc80def", "é\ud83d"]


@pytest.mark.parametrize("key", SURROGATES, ids=ascii)
def test_lone_surrogate_key(ring, key):
    with fails_unchanged(ring, UnicodeEncodeError):
        ring.get_node(key)
    with fails_unchanged(ring, ValueError):  # UnicodeEncodeError is a ValueError
        ring.get_nodes(key, 1)
    for hash_key in HASH_KEY:
        with pytest.raises(UnicodeEncodeError):
            hash_key(key)


@pytest.mark.parametrize("key", SURROGATES, ids=ascii)
@pytest.mark.parametrize("method", ["route", "hash_keys"])
def test_lone_surrogate_in_a_batch_names_the_index(ring, method, key):
    for batch in (["x", "y", "z", key], np.array(["x", "y", "z", key])):
        with fails_unchanged(ring, UnicodeEncodeError) as info:
            getattr(ring, method)(batch)
        assert isinstance(info.value, ValueError)
        assert "keys[3]" in str(info.value)


# -- batch containers --------------------------------------------------------------------


@pytest.mark.parametrize(
    "batch", ["abc", "", b"abc", bytearray(b"ab"), memoryview(b"ab")], ids=repr
)
@pytest.mark.parametrize("method", ["route", "hash_keys"])
def test_single_str_or_bytes_is_not_a_batch(ring, method, batch):
    with fails_unchanged(ring, TypeError, match=type(batch).__name__):
        getattr(ring, method)(batch)


@pytest.mark.parametrize("batch", [5, None, 1.5, object()], ids=repr)
@pytest.mark.parametrize("method", ["route", "hash_keys"])
def test_non_iterable_batch(ring, method, batch):
    with fails_unchanged(ring, TypeError):
        getattr(ring, method)(batch)


BAD_ARRAYS = [
    np.array([1.0, 2.0]),
    np.array([1.0], dtype=np.float32),
    np.array([], dtype=np.float64),
    np.array([True, False]),
    np.array([1 + 2j]),
    np.array(["2024-01-01"], dtype="datetime64[D]"),
    np.array([1, 2], dtype="timedelta64[s]"),
    np.zeros((2, 2), dtype=np.float16),
]


@pytest.mark.parametrize("arr", BAD_ARRAYS, ids=lambda a: str(a.dtype))
@pytest.mark.parametrize("method", ["route", "hash_keys"])
def test_non_integer_numeric_arrays_are_rejected(ring, method, arr):
    with fails_unchanged(ring, TypeError, match=str(arr.dtype).split("[")[0]):
        getattr(ring, method)(arr)


# -- route_hashes --------------------------------------------------------------------------

NEGATIVE_OR_TOO_BIG = {
    "neg-list": [-1],
    "neg-mixed-list": [5, -1, 7],
    "neg-int64": np.array([3, -2], dtype=np.int64),
    "neg-int8": np.array([-128], dtype=np.int8),
    "neg-big-endian": np.array([1, -1], dtype=">i4"),
    "2**64-list": [2**64],
    "2**64-mixed": [0, 2**64],
    "2**100": [2**100],
    "neg-and-big": [2**64 - 1, -1],
    "neg-and-2**63": [-1, 2**63],
}


@pytest.mark.parametrize("hashes", NEGATIVE_OR_TOO_BIG.values(), ids=NEGATIVE_OR_TOO_BIG.keys())
def test_route_hashes_out_of_range_is_value_error(ring, hashes):
    with fails_unchanged(ring, ValueError):
        ring.route_hashes(hashes)


NOT_INTEGERS = {
    "float-list": [1.5],
    "float-int-list": [1, 2.0],
    "float-array": np.array([1.0, 2.0]),
    "float32-array": np.array([3.0], dtype=np.float32),
    "none": [None],
    "str-in-list": ["1"],
    "bytes-in-list": [1, b"1"],
    "bool-list": [True],
    "bool-after-int": [1, True],
    "bool-array": np.array([True]),
    "bool-in-object-array": object_array([1, False]),
    "str": "123",
    "bytes": b"\x01\x02",
    "not-iterable": 1.5,
}


@pytest.mark.parametrize("hashes", NOT_INTEGERS.values(), ids=NOT_INTEGERS.keys())
def test_route_hashes_non_integers_is_type_error(ring, hashes):
    with fails_unchanged(ring, TypeError):
        ring.route_hashes(hashes)


def test_route_hashes_range_edges_are_accepted(ring):
    for hashes in ([0, 2**64 - 1], np.array([0, 2**64 - 1], dtype=np.uint64), (2**63, 2**63 - 1)):
        out = ring.route_hashes(hashes)
        assert out.dtype == np.int32 and out.shape == (2,)
        assert set(out.tolist()) <= set(range(len(ring)))


# -- node names ------------------------------------------------------------------------

BAD_NODE_ARGS = {
    "int-name": ([1], TypeError, "int"),
    "none-name": ([None], TypeError, "NoneType"),
    "bytes-name": ([b"a"], TypeError, "bytes"),
    "int-key-mapping": ({1: 1.0}, TypeError, "int"),
    "empty-name": ([""], ValueError, None),
    "empty-name-mapping": ({"a": 1.0, "": 1.0}, ValueError, None),
    "duplicate": (["a", "b", "a"], ValueError, "duplicate"),
    "bare-str": ("abc", TypeError, "str"),
    "bare-empty-str": ("", TypeError, "str"),
    "bare-bytes": (b"ab", TypeError, "bytes"),
    "not-iterable": (5, TypeError, None),
    "none": (None, TypeError, None),
    "surrogate": (["ok", "\ud800"], UnicodeEncodeError, None),
}


@pytest.mark.parametrize(
    "nodes, exc, match", BAD_NODE_ARGS.values(), ids=BAD_NODE_ARGS.keys()
)
def test_constructor_rejects_bad_nodes(cls, nodes, exc, match):
    with pytest.raises(exc, match=match):
        cls(nodes)


@pytest.mark.parametrize("bad, exc, match", [
    ("n-17", ValueError, "duplicate node name 'n-17'"),
    ("", ValueError, "non-empty"),
    ("\ud800", UnicodeEncodeError, None),
], ids=["duplicate", "empty", "surrogate"])
def test_many_names_name_the_first_culprit_in_order(cls, bad, exc, match):
    """Plain names are checked in bulk (sorted, not as a set); the error still
    names the first bad name in the order given, whichever sorts first."""
    names = [f"n-{i}" for i in range(3000)] + [bad, "\udfff" if bad != "\ud800" else "n-5"]
    with pytest.raises(exc, match=match):
        cls(names, vnodes=2)
    if bad != "n-17":  # a mapping holds no duplicates
        with pytest.raises(exc, match=match):
            cls(dict.fromkeys(names, 1.5), vnodes=2)


BAD_NAMES = [(1, TypeError), (None, TypeError), (b"a", TypeError), (("a",), TypeError),
             ("", ValueError), ("\ud800", UnicodeEncodeError), ("x\udfff", UnicodeEncodeError)]


@pytest.mark.parametrize("name, exc", BAD_NAMES, ids=repr)
def test_add_node_rejects_bad_names(ring, name, exc):
    with fails_unchanged(ring, exc):
        ring.add_node(name)


@pytest.mark.parametrize("name", [1, None, b"a", 2.5], ids=repr)
def test_remove_node_rejects_non_str(ring, name):
    with fails_unchanged(ring, TypeError):
        ring.remove_node(name)


# -- weights ------------------------------------------------------------------------------

BAD_WEIGHTS = [
    (0, ValueError),
    (0.0, ValueError),
    (-0.0, ValueError),
    (-1, ValueError),
    (-0.5, ValueError),
    (math.nan, ValueError),
    (math.inf, ValueError),
    (-math.inf, ValueError),
    (np.float64("nan"), ValueError),
    ("1", TypeError),
    (None, TypeError),
    (True, TypeError),
    (False, TypeError),
    (np.bool_(True), TypeError),
    ([1.0], TypeError),
    (1j, TypeError),
]
bad_weight = pytest.mark.parametrize("weight, exc", BAD_WEIGHTS, ids=repr)


@bad_weight
def test_constructor_rejects_bad_weight(cls, weight, exc):
    with pytest.raises(exc, match="weight"):
        cls({"a": 1.0, "b": weight})


@bad_weight
def test_add_node_rejects_bad_weight(ring, weight, exc):
    with fails_unchanged(ring, exc, match="weight"):
        ring.add_node("new", weight)


def test_valid_weight_types_are_accepted(cls):
    ring = cls({"a": 2, "b": np.float32(0.5), "c": Fraction(3, 2), "d": np.int64(1)}, vnodes=10)
    assert ring.weights == {"a": 2.0, "b": 0.5, "c": 1.5, "d": 1.0}
    assert all(type(w) is float for w in ring.weights.values())
    assert np.bincount(ring.owners).tolist() == [20, 5, 15, 10]


# -- vnodes --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "vnodes, exc",
    [(0, ValueError), (-1, ValueError), (-160, ValueError), (1.5, TypeError), (2.0, TypeError),
     (True, TypeError), (False, TypeError), ("3", TypeError), ([160], TypeError)],
    ids=repr,
)
def test_constructor_rejects_bad_vnodes(cls, vnodes, exc):
    with pytest.raises(exc, match="vnodes"):
        cls(["a"], vnodes=vnodes)
    with pytest.raises(exc, match="vnodes"):
        cls([], vnodes=vnodes)


def test_vnodes_none_is_the_dialects_default(cls):
    assert cls(["a"], vnodes=None).vnodes == 160 == cls(["a"]).vnodes


def test_vnodes_is_keyword_only(cls):
    with pytest.raises(TypeError):
        cls(["a"], 10)


@pytest.mark.parametrize(
    "weight, vnodes", [(0.4, 1), (0.49, 1), (0.001, 160), (0.003, 160), (1e-300, 1000)]
)
def test_weight_times_vnodes_rounding_to_zero_points(cls, weight, vnodes):
    with pytest.raises(ValueError):
        cls({"a": 1.0, "b": weight}, vnodes=vnodes)
    ring = cls({"a": 1.0}, vnodes=vnodes)
    with fails_unchanged(ring, ValueError):
        ring.add_node("b", weight)


@pytest.mark.parametrize("weight, vnodes", [(0.5, 1), (0.0032, 160), (0.00051, 1000)])
def test_weight_times_vnodes_rounding_to_one_point(cls, weight, vnodes):
    ring = cls({"a": 1.0, "b": weight}, vnodes=vnodes)
    assert int((ring.owners == 1).sum()) == 1
    ring.remove_node("b")
    ring.add_node("b", weight)
    assert int((ring.owners == 1).sum()) == 1


# -- get_nodes n ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "n, exc",
    [(0, ValueError), (-1, ValueError), (5, ValueError), (10**9, ValueError),
     (1.5, TypeError), (2.0, TypeError), ("1", TypeError), (None, TypeError), (True, TypeError)],
    ids=repr,
)
def test_get_nodes_rejects_bad_n(ring, n, exc):
    assert len(ring) == 4
    with fails_unchanged(ring, exc):
        ring.get_nodes("key", n)


def test_get_nodes_accepts_numpy_int_n(ring):
    assert ring.get_nodes("key", np.int64(3)) == ring.get_nodes("key", 3)
    assert len(ring.get_nodes("key", np.uint8(4))) == 4


# -- add / remove ------------------------------------------------------------------------

@pytest.mark.parametrize("weight", [1.0, 2.0, 0.5])
def test_add_existing_node_is_value_error(ring, weight):
    for name in ring.nodes:
        with fails_unchanged(ring, ValueError, match="already"):
            ring.add_node(name, weight)


def test_remove_missing_node_is_key_error(ring):
    for name in ["zz", "A", "u", "ü ", "🙃", ""]:
        with fails_unchanged(ring, KeyError):
            ring.remove_node(name)
    ring.remove_node("a")
    with fails_unchanged(ring, KeyError):
        ring.remove_node("a")


# -- empty ring ----------------------------------------------------------------------------

def empty_rings(cls):
    emptied = cls(["x", "y"], vnodes=3)
    emptied.remove_node("x")
    emptied.remove_node("y")
    return [cls([]), cls({}, vnodes=7), emptied]


EMPTY_LOOKUPS = {
    "get_node": lambda r: r.get_node("k"),
    "get_node-int": lambda r: r.get_node(5),
    "get_nodes": lambda r: r.get_nodes("k", 1),
    "route-list": lambda r: r.route(["k"]),
    "route-int-array": lambda r: r.route(np.array([1, 2], dtype=np.int64)),
    "route-str-array": lambda r: r.route(np.array(["a"])),
    "route-2d": lambda r: r.route(np.zeros((2, 2), dtype=np.uint64)),
    "route_hashes-list": lambda r: r.route_hashes([1]),
    "route_hashes-array": lambda r: r.route_hashes(np.array([1, 2], dtype=np.uint64)),
}


@pytest.mark.parametrize("call", EMPTY_LOOKUPS.values(), ids=EMPTY_LOOKUPS.keys())
def test_empty_ring_lookups_raise_empty_ring_error(cls, call):
    assert issubclass(EmptyRingError, LookupError)
    for ring in empty_rings(cls):
        with fails_unchanged(ring, EmptyRingError) as info:
            call(ring)
        assert isinstance(info.value, LookupError)


def test_empty_ring_empty_batches_and_hashing_work(cls):
    for ring in empty_rings(cls):
        for batch in ([], (), iter([]), np.array([], dtype=np.int64), np.empty((0, 3), dtype="U2")):
            out = ring.route(batch)
            assert out.dtype == np.int32 and out.size == 0
        assert ring.route_hashes([]).dtype == np.int32
        assert ring.hash_keys(["a", 1]).tolist() == [reference.hash_key("a"), reference.hash_key(1)]
        assert ring.ownership() == {}
        assert len(ring) == 0 and ring.nodes == ()


# -- which error wins: core and reference must agree -------------------------------------

CROSS_IMPL = {
    "add-existing-with-str-weight": lambda r: r.add_node("a", "1"),
    "add-existing-with-nan-weight": lambda r: r.add_node("a", math.nan),
    "add-existing-with-tiny-weight": lambda r: r.add_node("a", 1e-9),
    "get_nodes-bad-key-and-bad-n": lambda r: r.get_nodes(None, 0),
    "get_nodes-bad-key-and-float-n": lambda r: r.get_nodes(1.5, 1.5),
    "contains-unhashable": lambda r: [] in r,
}


@pytest.mark.parametrize("call", CROSS_IMPL.values(), ids=CROSS_IMPL.keys())
def test_core_and_reference_raise_the_same_error(call):
    """A bad call (some wrong in two ways at once) has the same outcome in both
    implementations: the reference is the spec's literal reading."""
    outcomes = []
    for cls in IMPLS:
        ring = cls({"a": 1.0, "b": 2.0}, vnodes=10)
        before = snapshot(ring)
        try:
            outcomes.append(("ok", call(ring)))
        except Exception as err:  # noqa: BLE001 - the type is what is compared
            outcomes.append(("raised", type(err)))
        assert_snapshot_equal(snapshot(ring), before)
    assert outcomes[0] == outcomes[1]


EMPTY_PRECEDENCE = {
    "route-bad-key": lambda r: r.route([None]),
    "route-overflow": lambda r: r.route([2**64]),
    "get_nodes-float-n": lambda r: r.get_nodes("k", 1.5),
    "route_hashes-negative": lambda r: r.route_hashes([-1]),
}


@pytest.mark.parametrize("call", EMPTY_PRECEDENCE.values(), ids=EMPTY_PRECEDENCE.keys())
def test_core_and_reference_raise_the_same_error_on_an_empty_ring(call):
    types = []
    for cls in IMPLS:
        with pytest.raises(Exception) as info:
            call(cls([]))
        types.append(type(info.value))
    assert types[0] is types[1]
