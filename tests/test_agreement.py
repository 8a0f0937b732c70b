"""The compiled core (ringcore.HashRing) and the pure-Python reference
(ringcore.reference.HashRing) agree on every ring and every key."""

import numpy as np
import pytest
import xxhash
from hypothesis import given
from hypothesis import strategies as st
from strategies import (
    NP_INT_TYPES,
    RingConfig,
    assert_rings_agree,
    hash_values,
    int_key_arrays,
    key_lists,
    keys,
    node_names,
    object_array,
    ring_configs,
    string_key_arrays,
)

import ringcore
from ringcore import reference

Core = ringcore.HashRing
Ref = reference.HashRing


def build_both(cfg: RingConfig):
    return cfg.build(Core), cfg.build(Ref)


def check_same(method, dtype, core, ref, batch_core, batch_ref, shape):
    got, expected = getattr(core, method)(batch_core), getattr(ref, method)(batch_ref)
    assert got.dtype == dtype and expected.dtype == dtype
    assert got.shape == shape == expected.shape
    assert np.array_equal(got, expected)
    return got


def check_route(core, ref, batch_core, batch_ref, shape):
    return check_same("route", np.int32, core, ref, batch_core, batch_ref, shape)


def check_hash_keys(core, ref, batch_core, batch_ref, shape):
    return check_same("hash_keys", np.uint64, core, ref, batch_core, batch_ref, shape)


# -- ring construction --------------------------------------------------------------


@given(ring_configs(min_nodes=0))
def test_built_rings_agree(cfg):
    core, ref = build_both(cfg)
    assert_rings_agree(core, ref)
    assert len(core.positions) == cfg.point_count()
    assert core.nodes == tuple(cfg.names)


@given(ring_configs(max_nodes=3, max_points=300))
def test_positions_match_spec_formula(cfg):
    """Point j of node N is XXH3-64(UTF-8(N) + b'#' + decimal j), computed here
    with the xxhash package, independently of both implementations."""
    core = cfg.build(Core)
    expected = sorted(
        (xxhash.xxh3_64_intdigest(name.encode() + b"#" + str(j).encode()), name.encode(), j, name)
        for name, count in (
            (name, int(np.floor(cfg.vnodes * w + 0.5))) for name, w in cfg.weights.items()
        )
        for j in range(count)
    )
    assert core.positions.tolist() == [p[0] for p in expected]
    assert [core.nodes[i] for i in core.owners.tolist()] == [p[3] for p in expected]


# -- single keys -------------------------------------------------------------------


@given(keys)
def test_hash_key_agrees(key):
    expected = xxhash.xxh3_64_intdigest(reference.key_bytes(key))
    assert reference.hash_key(key) == expected
    assert ringcore.hash_key(key) == expected


@given(ring_configs(), key_lists)
def test_get_node_and_get_nodes_agree(cfg, batch):
    core, ref = build_both(cfg)
    n_nodes = len(cfg.names)
    counts = sorted({1, 2, n_nodes // 2 or 1, n_nodes} & set(range(1, n_nodes + 1)))
    for key in batch:
        assert core.get_node(key) == ref.get_node(key)
        for n in counts:
            assert core.get_nodes(key, n) == ref.get_nodes(key, n)


# -- batches of Python objects -------------------------------------------------------


@given(ring_configs(), key_lists)
def test_batches_agree_list_tuple_generator(cfg, batch):
    core, ref = build_both(cfg)
    shape = (len(batch),)
    routed = check_route(core, ref, batch, batch, shape)
    check_route(core, ref, tuple(batch), tuple(batch), shape)
    check_route(core, ref, (k for k in batch), iter(batch), shape)
    check_hash_keys(core, ref, batch, batch, shape)
    check_hash_keys(core, ref, tuple(batch), tuple(batch), shape)
    check_hash_keys(core, ref, (k for k in batch), iter(batch), shape)
    # an object array of the same keys routes the same
    check_route(core, ref, object_array(batch), object_array(batch), shape)
    # and each index names the node get_node gives
    assert [core.nodes[i] for i in routed.tolist()] == [ref.get_node(k) for k in batch]


@given(ring_configs(), st.lists(keys, min_size=2, max_size=40).filter(lambda b: len(b) % 2 == 0))
def test_2d_object_array_keeps_shape(cfg, batch):
    core, ref = build_both(cfg)
    arr = object_array(batch, shape=(2, -1))
    routed = check_route(core, ref, arr, arr, arr.shape)
    check_hash_keys(core, ref, arr, arr, arr.shape)
    assert np.array_equal(routed.ravel(), ref.route(batch))


# -- numpy arrays --------------------------------------------------------------------


@given(ring_configs(), int_key_arrays())
def test_int_arrays_agree(cfg, arr):
    core, ref = build_both(cfg)
    routed = check_route(core, ref, arr, arr, arr.shape)
    hashed = check_hash_keys(core, ref, arr, arr, arr.shape)
    # Same answer as the equal Python ints, and as the numpy scalars themselves.
    as_ints = [int(v) for v in arr.ravel()]
    assert np.array_equal(hashed.ravel(), [reference.hash_key(v) for v in as_ints])
    assert np.array_equal(routed.ravel(), ref.route(as_ints))
    assert np.array_equal(routed.ravel(), core.route(list(arr.ravel())))


@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("t", NP_INT_TYPES, ids=lambda t: t.__name__)
def test_every_int_dtype_and_byte_order(t, byteorder):
    """A fixed sweep over each dtype's extremes, in both byte orders."""
    info = np.iinfo(t)
    values = [int(info.min), int(info.min) + 1, -1 if info.min < 0 else 0, 0, 1, int(info.max)]
    values += list(range(max(int(info.min), -300), min(int(info.max), 300) + 1, 7))
    arr = np.array(values, dtype=np.dtype(t).newbyteorder(byteorder))
    core, ref = Core({"a": 1, "b": 2, "ü": 0.5}, vnodes=50), Ref({"a": 1, "b": 2, "ü": 0.5}, vnodes=50)
    expected_hashes = np.array([reference.hash_key(v) for v in values], dtype=np.uint64)
    assert np.array_equal(core.hash_keys(arr), expected_hashes)
    assert np.array_equal(core.route(arr), ref.route(values))
    assert np.array_equal(core.route(arr[::-2]), ref.route(values[::-2]))
    two_d = np.stack([arr, arr[::-1]])
    assert np.array_equal(core.route(two_d.T), ref.route(two_d.T))
    assert core.route(two_d.T).shape == (len(values), 2)


@given(ring_configs(), string_key_arrays())
def test_string_and_object_arrays_agree(cfg, arr):
    core, ref = build_both(cfg)
    routed = check_route(core, ref, arr, arr, arr.shape)
    check_hash_keys(core, ref, arr, arr, arr.shape)
    # numpy's own element values (e.g. S arrays drop trailing NULs) route the same
    assert np.array_equal(routed.ravel(), ref.route(arr.ravel().tolist()))


# -- hashes --------------------------------------------------------------------------


@given(ring_configs(), st.data())
def test_route_hashes_uint64_arrays_agree(cfg, data):
    core, ref = build_both(cfg)
    values = data.draw(st.lists(hash_values(core.positions.tolist()), max_size=80))
    arr = np.array(values, dtype=np.uint64)
    got = core.route_hashes(arr)
    assert got.dtype == np.int32
    assert np.array_equal(got, ref.route_hashes(arr))
    # and through other integer dtypes that hold the values
    small = arr[arr < 2**63]
    assert np.array_equal(core.route_hashes(small.astype(np.int64)), ref.route_hashes(small))
    assert np.array_equal(
        core.route_hashes(small.astype(">i8")[::-1]), ref.route_hashes(small[::-1])
    )
    if len(arr) % 2 == 0 and len(arr):
        two_d = arr.reshape(2, -1)
        assert core.route_hashes(two_d).shape == two_d.shape
        assert np.array_equal(core.route_hashes(two_d), ref.route_hashes(two_d))


@given(ring_configs(), st.data())
def test_route_hashes_python_ints_agree(cfg, data):
    """Hashes given as Python ints (a list, a tuple, a generator), e.g.
    ``hash_keys(keys).tolist()``: half of all hashes are >= 2**63."""
    core, ref = build_both(cfg)
    values = data.draw(st.lists(hash_values(core.positions.tolist()), max_size=80))
    expected = ref.route_hashes(np.array(values, dtype=np.uint64))
    assert np.array_equal(ref.route_hashes(values), expected)
    assert np.array_equal(core.route_hashes(values), expected)
    assert np.array_equal(core.route_hashes(tuple(values)), expected)


@given(ring_configs(), st.lists(hash_values(), max_size=20))
def test_route_hashes_generator_agrees(cfg, values):
    """route_hashes takes any iterable of ints, like route() does."""
    core, ref = build_both(cfg)
    expected = ref.route_hashes(np.array(values, dtype=np.uint64))
    assert np.array_equal(ref.route_hashes(v for v in values), expected)
    assert np.array_equal(core.route_hashes(v for v in values), expected)


@given(ring_configs(), key_lists)
def test_route_is_route_hashes_of_hash_keys(cfg, batch):
    core, ref = build_both(cfg)
    hashed = core.hash_keys(batch)
    assert np.array_equal(core.route_hashes(hashed), core.route(batch))
    assert np.array_equal(core.route_hashes(hashed), ref.route_hashes(hashed))


# -- ties on the ring (SPEC.md 4) ----------------------------------------------------


def _coarse_position(name: str, j: int) -> int:
    """A deliberately colliding stand-in for a point's position: one of four
    values, so that many points of different nodes share a position."""
    full = xxhash.xxh3_64_intdigest(name.encode() + b"#" + str(j).encode())
    return (full % 4) << 62


def patch_points(mp, node_points) -> None:
    """Make the core place points with node_points(raw_name, count), sorted
    by its own C sort."""
    from ringcore import _layout, layout

    def place(dialect, blob, offsets, counts, owners, weights=()):
        names_utf8 = [blob[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
        positions = [node_points(raw, int(c)) for raw, c in zip(names_utf8, counts)]
        owner_of = [np.full(int(c), o, dtype=np.int32) for c, o in zip(counts, owners)]
        return _layout.sort_placed(
            np.concatenate(positions) if positions else np.empty(0, np.uint64),
            np.concatenate(owner_of) if owner_of else np.empty(0, np.int32),
            dialect.hash_bits,
        )

    mp.setattr(layout, "_place", place)
    mp.setattr(layout, "_node_points", lambda dialect, raw, count: node_points(raw, count))


def _coarse_node_points(raw: bytes, count: int) -> np.ndarray:
    name = raw.decode("utf-8")
    return np.array([_coarse_position(name, j) for j in range(count)], dtype=np.uint64)


@given(
    ring_configs(min_nodes=1, max_nodes=6, max_vnodes=6, max_points=40),
    st.lists(node_names, max_size=3),
    st.lists(hash_values([0, 2**62, 2**63, 3 * 2**62]), min_size=1, max_size=20),
)
def test_ties_are_broken_by_name_then_j(cfg, extra, hashes):
    """With positions forced to collide, both implementations order points by
    (position, UTF-8 name, j), whether built at once or node by node."""
    extra = [name for name in dict.fromkeys(extra) if name not in cfg.weights]
    with pytest.MonkeyPatch.context() as mp:
        patch_points(mp, _coarse_node_points)
        mp.setattr(reference, "vnode_position", _coarse_position)
        core, ref = build_both(cfg)
        incremental = Core({}, vnodes=cfg.vnodes)
        for name, weight in cfg.weights.items():
            incremental.add_node(name, weight)
        for name in extra:
            core.add_node(name)
            ref.add_node(name)
            incremental.add_node(name)
        assert_rings_agree(core, ref)
        assert_rings_agree(incremental, ref)
        # the spec's order, computed here from the coarse positions
        counts = {n: int(np.floor(cfg.vnodes * w + 0.5)) for n, w in ref.weights.items()}
        expected = sorted(
            (_coarse_position(n, j), n.encode(), j, n) for n, c in counts.items() for j in range(c)
        )
        assert [ref.nodes[i] for i in ref.owners.tolist()] == [p[3] for p in expected]
        assert [core.nodes[i] for i in core.owners.tolist()] == [p[3] for p in expected]
        arr = np.array(hashes, dtype=np.uint64)
        assert np.array_equal(core.route_hashes(arr), ref.route_hashes(arr))
        assert np.array_equal(incremental.route_hashes(arr), ref.route_hashes(arr))
        for key in ["k", b"k", 0, 1, 2, "x" * 30]:
            for n in range(1, len(ref) + 1):
                assert core.get_nodes(key, n) == ref.get_nodes(key, n)
                assert incremental.get_nodes(key, n) == ref.get_nodes(key, n)


# -- after updates -------------------------------------------------------------------


@given(
    ring_configs(min_nodes=0, max_nodes=5, max_vnodes=300, max_points=2000),
    st.lists(st.tuples(st.booleans(), node_names, st.sampled_from([0.5, 1.0, 2.0, 3])), max_size=8),
    key_lists,
)
def test_agree_after_adds_and_removes(cfg, ops, batch):
    core, ref = build_both(cfg)
    for add, name, weight in ops:
        if add and name not in ref:
            core.add_node(name, weight)
            ref.add_node(name, weight)
        elif not add and name in ref:
            core.remove_node(name)
            ref.remove_node(name)
        elif not add and ref.nodes:
            victim = ref.nodes[len(name) % len(ref.nodes)]
            core.remove_node(victim)
            ref.remove_node(victim)
    assert_rings_agree(core, ref)
    if len(ref):
        assert np.array_equal(core.route(batch), ref.route(batch))
        for key in batch[:10]:
            assert core.get_nodes(key, len(ref)) == ref.get_nodes(key, len(ref))


def test_empty_rings_agree():
    for core, ref in [(Core([]), Ref([])), (Core({}, vnodes=3), Ref({}, vnodes=3))]:
        assert_rings_agree(core, ref)
        assert core.ownership() == ref.ownership() == {}
        for batch in ([], (), iter([]), np.array([], dtype=np.int64), np.array([], dtype="U3")):
            out = core.route(batch)
            assert out.dtype == np.int32 and out.shape == (0,)
        assert core.hash_keys(["a", 1]).tolist() == ref.hash_keys(["a", 1]).tolist()


# -- inputs where the two once disagreed (SPEC.md 1 and 8) -------------------------------


def _either(call):
    """The result of a call, or the type of the exception it raised."""
    try:
        return call()
    except Exception as err:  # noqa: BLE001 - the type is what is compared
        return type(err)


def assert_agree(method, batch_core, batch_ref=None, *, ring=(), **kwargs):
    core = Core(list(ring) or ["a", "b", "c", "d"], vnodes=16)
    ref = Ref(list(ring) or ["a", "b", "c", "d"], vnodes=16)
    got = _either(lambda: getattr(core, method)(batch_core, **kwargs))
    want = _either(lambda: getattr(ref, method)(batch_ref if batch_ref is not None else batch_core,
                                                **kwargs))
    if isinstance(got, type) or isinstance(want, type):
        assert got is want, (got, want)
    else:
        assert got.dtype == want.dtype and got.shape == want.shape
        assert np.array_equal(got, want), (got, want)
    return got


class LoudStr(str):
    def encode(self, *args, **kwargs):  # never called: the value is hashed
        return b"not the value"

    def __eq__(self, other):
        return False

    __hash__ = str.__hash__


class LoudBytes(bytes):
    def __bytes__(self):
        return b"not the value"

    def __getitem__(self, index):
        return b"not the value"


class LoudBytearray(bytearray):
    def __bytes__(self):
        return b"not the value"


class LoudInt(int):
    def __int__(self):
        return 7

    def __index__(self):
        return 7

    def __lt__(self, other):
        raise AssertionError("compared")


SUBCLASS_KEYS = [
    (LoudStr("user:1"), "user:1"),
    (LoudStr("héllo"), "héllo"),
    (LoudBytes(b"raw"), b"raw"),
    (LoudBytearray(b"raw"), b"raw"),
    (LoudInt(42), 42),
    (LoudInt(2**64 - 1), 2**64 - 1),
    (LoudInt(-(2**63)), -(2**63)),
]


@pytest.mark.parametrize("key, plain", SUBCLASS_KEYS, ids=lambda k: type(k).__name__)
def test_subclasses_are_hashed_by_value(key, plain):
    assert ringcore.hash_key(key) == reference.hash_key(key) == reference.hash_key(plain)
    got = assert_agree("route", [key, plain, "x"])
    assert got[0] == got[1]
    assert_agree("hash_keys", (key, plain))


def test_int_subclass_out_of_range_agrees():
    for value in (2**64, -(2**63) - 1):
        assert assert_agree("route", [LoudInt(value)]) is OverflowError


pa = pytest.importorskip("pyarrow")


def arrow_cases():
    pc = pytest.importorskip("pyarrow.compute")
    fixed = pa.array([b"abcd", b"ab\0\0", None, b"\0\0\0\0"], type=pa.binary(4))
    strings = pa.array(["a", "bb", None, "a", "ccc"])
    cases = {
        "fixed_size_binary": fixed,
        "fixed_size_binary sliced": fixed.slice(1, 3),
        "fixed_size_binary(0)": pa.array([b"", b""], type=pa.binary(0)),
        "null": pa.nulls(3),
        "run-end encoded": pc.run_end_encode(strings),
        "run-end encoded sliced": pc.run_end_encode(strings).slice(2, 3),
        "run-end encoded ints": pc.run_end_encode(pa.array([5, 5, 6, None])),
        "dictionary": strings.dictionary_encode(),
        "dictionary of views": pa.DictionaryArray.from_arrays(
            pa.array([1, 0, None, 1]), pa.array(["x", "yy"], type=pa.string_view())),
        "chunked mixed": pa.chunked_array([["a", None], ["b"]]),
    }
    if hasattr(pa, "uuid"):
        cases["uuid extension"] = pa.ExtensionArray.from_storage(
            pa.uuid(), pa.array([b"0123456789abcdef", None], type=pa.binary(16)))
    bad_utf8 = pa.Array.from_buffers(pa.string(), 2, [None, pa.py_buffer(
        np.array([0, 2, 3], dtype=np.int32).tobytes()), pa.py_buffer(b"\xff\xfe\x80")])
    cases["string with invalid UTF-8"] = bad_utf8
    cases["large_string with invalid UTF-8"] = bad_utf8.cast(pa.binary()).cast(
        pa.large_binary()).view(pa.large_string())
    return cases


@pytest.mark.parametrize("name", list(arrow_cases()))
@pytest.mark.parametrize("null", [None, -1])
def test_arrow_types_agree(name, null):
    array = arrow_cases()[name]
    got = assert_agree("route", array, null=null)
    if null is not None:
        assert not isinstance(got, type), got
    if array.null_count == 0:
        assert_agree("hash_keys", array)


def test_fixed_size_binary_keeps_its_nul_bytes():
    array = pa.array([b"ab\0\0"], type=pa.binary(4))
    assert Core(["a"]).hash_keys(array)[0] == ringcore.hash_key(b"ab\0\0")
    assert Core(["a"]).hash_keys(np.array([b"ab"], dtype="S4"))[0] == ringcore.hash_key(b"ab")


def test_invalid_utf8_in_an_arrow_string_is_hashed_as_its_bytes():
    array = arrow_cases()["string with invalid UTF-8"]
    assert Core(["a"]).hash_keys(array).tolist() == [ringcore.hash_key(b"\xff\xfe"),
                                                     ringcore.hash_key(b"\x80")]


@pytest.mark.parametrize("values", [
    memoryview(np.arange(5, dtype=np.uint64)),
    memoryview(np.arange(6, dtype=np.int32).reshape(2, 3)),
    memoryview(b"abc"),
    memoryview(np.array([1, -1], dtype=np.int64)),
    memoryview(np.array([1.5])),
    __import__("array").array("B", [1, 2]),
    __import__("array").array("Q", [1, 2**64 - 1]),
    (__import__("ctypes").c_uint8 * 2)(1, 2),
    (__import__("ctypes").c_uint64 * 2)(1, 2),
    bytearray(16),
], ids=["u64", "i32 2-D", "bytes", "negative", "float", "array B", "array Q", "ctypes u8",
        "ctypes u64", "bytearray"])
def test_route_hashes_on_buffers_agrees(values):
    assert_agree("route_hashes", values)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_matrix_keys_agree():
    keys = np.matrix([[1, 2, 3], [4, 5, 6]], dtype=np.int64)
    got = assert_agree("route", keys)
    assert got.shape == (2, 3)
    assert_agree("route", np.matrix([["a", "b"]]))


def _u_array(*codes_per_key, width=3, byteorder="<"):
    codes = np.zeros((len(codes_per_key), width), dtype=np.dtype(np.uint32).newbyteorder(byteorder))
    for i, key in enumerate(codes_per_key):
        codes[i, : len(key)] = key
    return np.frombuffer(codes.tobytes(), dtype=np.dtype(f"{byteorder}U{width}"))


@pytest.mark.parametrize("byteorder", ["<", ">"])
@pytest.mark.parametrize("codes, error, index", [
    (([0x61], [0x110000]), ValueError, 1),
    (([0x61], [0x62, 0xFFFFFFFF]), ValueError, 1),
    (([0xD800, 0x61], [0x110000]), UnicodeEncodeError, 0),
    (([0x61, 0xD800, 0x110000],), ValueError, 0),
    (([0x61], [0xDFFF]), UnicodeEncodeError, 1),
], ids=["above", "max", "surrogate first", "both in one key", "surrogate"])
def test_u_arrays_without_utf8_fail_alike(byteorder, codes, error, index):
    array = _u_array(*codes, byteorder=byteorder)
    for method in ("route", "hash_keys"):
        for cls in (Core, Ref):
            with pytest.raises(error) as info:
                getattr(cls(["a"]), method)(array)
            assert type(info.value) is error
            assert f"keys[{index}]" in str(info.value)


@pytest.mark.parametrize("threads", ["x", 0, 1.5])
def test_bad_threads_fail_alike(threads):
    for method in ("route", "hash_keys", "route_hashes"):
        assert assert_agree(method, [1, 2], threads=threads) in (TypeError, ValueError)


def test_rejected_inputs_fail_alike_even_when_empty():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    for batch in (pa.array([], type=pa.float64()), pa.array([1.5]), pd.Series([], dtype=float),
                  pd.Series([1.5]), np.array([], dtype=float), pa.array([[1]]),
                  pa.chunked_array([], type=pa.float64()), pa.chunked_array([], type=pa.date32()),
                  pd.Series([], dtype="Float64"), pd.Series([True], dtype="boolean"),
                  pd.Series([], dtype="period[D]"), pd.Series([1, 2], dtype="Sparse[int64]"),
                  pd.Series([], dtype="datetime64[ns, UTC]"), pl.Series([1, 2], dtype=pl.Int128),
                  pl.Series([], dtype=pl.Float64)):
        assert assert_agree("route", batch) is TypeError, batch


def test_route_hashes_takes_integer_columns_only():
    pd = pytest.importorskip("pandas")
    pl = pytest.importorskip("polars")
    for column in (pd.Series([1, 2], dtype=object), pa.array([], type=pa.string()), pa.nulls(2),
                   pd.Series(["a"]), pl.Series(["a"]), pl.Series([1], dtype=pl.UInt128),
                   pa.chunked_array([], type=pa.float32())):
        assert assert_agree("route_hashes", column) is TypeError, column
    for column in (pa.array([1, None]), pd.Series([1, None], dtype="Int64"),
                   pl.Series([1, None])):
        assert assert_agree("route_hashes", column) is ValueError, column
    for column in (pa.array([1, 2**64 - 1], type=pa.uint64()), pd.Series([3, 4], dtype="UInt64"),
                   pl.Series([5, 6], dtype=pl.UInt8), pa.chunked_array([[1], [2]])):
        assert_agree("route_hashes", column)
