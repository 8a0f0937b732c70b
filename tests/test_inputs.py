"""Every input format the core reads zero-copy gives the reference's answer:
numpy integer/S/U arrays (any byte order, strided), Arrow string, binary,
view and integer arrays (sliced, chunked, dictionary-encoded), pandas and
polars Series; nulls; results that do not depend on the thread count."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import int_keys, str_keys

import ringcore
from ringcore import reference

NODES = {f"node-{i}": 1.0 + (i % 3) / 2 for i in range(12)} | {"nœud": 1.0}
CORE = ringcore.HashRing(NODES, vnodes=40)
REF = reference.HashRing(NODES, vnodes=40)

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")
pl = pytest.importorskip("polars")

# Text keys without NUL: numpy S and U strip trailing NULs (tested separately).
text_keys = st.lists(str_keys.map(lambda s: s.replace("\x00", "")), min_size=1, max_size=60)


def expected(keys):
    return REF.route(list(keys))


@given(text_keys, st.integers(1, 3))
def test_numpy_bytes_and_text_arrays(keys, step):
    as_bytes = np.array([k.encode() for k in keys])
    as_text = np.array(keys)
    want = expected(keys)
    assert np.array_equal(CORE.route(as_bytes), want)
    assert np.array_equal(CORE.route(as_text), want)
    assert np.array_equal(CORE.route(as_bytes[::step]), want[::step])
    assert np.array_equal(CORE.route(as_text[::-step]), want[::-step])
    assert np.array_equal(CORE.route(as_text.astype(as_text.dtype.newbyteorder(">"))), want)
    assert np.array_equal(CORE.hash_keys(as_text), REF.hash_keys(keys))


def test_numpy_arrays_follow_numpy_values_for_trailing_nuls():
    keys = ["a\x00", "b\x00\x00", "\x00c"]
    for array in (np.array(keys), np.array([k.encode() for k in keys])):
        assert np.array_equal(CORE.route(array), REF.route(array.tolist()))
        assert CORE.route(array)[0] == CORE.route(["a"])[0]


@given(st.lists(int_keys, min_size=1, max_size=60), st.sampled_from(["<", ">"]), st.integers(1, 3))
def test_numpy_integer_arrays_every_width(values, order, step):
    for dtype in ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"):
        dt = np.dtype(order + dtype)
        info = np.iinfo(dt)
        fitting = [v for v in values if info.min <= v <= info.max]
        array = np.array(fitting, dtype=dt)[::step]
        assert np.array_equal(CORE.route(array), REF.route(array.tolist())), dt


@pytest.mark.parametrize(
    "arrow_type", ["string", "large_string", "string_view", "binary", "large_binary", "binary_view"]
)
@given(keys=text_keys, cut=st.integers(0, 10))
def test_arrow_string_and_binary_arrays(arrow_type, keys, cut):
    t = getattr(pa, arrow_type)()
    values = keys if "string" in arrow_type else [k.encode() for k in keys]
    array = pa.array(values, type=t)
    want = expected(keys)
    assert np.array_equal(CORE.route(array), want)
    sliced = array.slice(min(cut, len(keys)))
    assert np.array_equal(CORE.route(sliced), want[min(cut, len(keys)):])
    chunked = pa.chunked_array([array.slice(0, cut), array.slice(cut)], type=t)
    assert np.array_equal(CORE.route(chunked), want)
    assert np.array_equal(CORE.hash_keys(array), REF.hash_keys(keys))


@pytest.mark.parametrize("arrow_type", ["int8", "int16", "int32", "int64", "uint8", "uint32", "uint64"])
@given(values=st.lists(int_keys, min_size=1, max_size=60))
def test_arrow_integer_arrays(arrow_type, values):
    t = getattr(pa, arrow_type)()
    info = np.iinfo(t.to_pandas_dtype())
    fitting = [v for v in values if info.min <= v <= info.max] or [0]
    assert np.array_equal(CORE.route(pa.array(fitting, type=t)), REF.route(fitting))


def test_arrow_dictionary_arrays_route_their_values():
    keys = ["x", "y", "x", "z"] * 5
    assert np.array_equal(CORE.route(pa.array(keys).dictionary_encode()), expected(keys))


@given(text_keys)
def test_pandas_series_of_every_string_storage(keys):
    want = expected(keys)
    for dtype in (object, "string[python]", "string[pyarrow]", None):
        assert np.array_equal(CORE.route(pd.Series(keys, dtype=dtype)), want), dtype


def test_pandas_integer_series():
    values = list(range(-50, 50))
    want = REF.route(values)
    for dtype in ("int64", "int16", "Int64", "int64[pyarrow]"):
        assert np.array_equal(CORE.route(pd.Series(values, dtype=dtype)), want), dtype


@given(text_keys)
def test_polars_series(keys):
    assert np.array_equal(CORE.route(pl.Series(keys)), expected(keys))
    assert np.array_equal(CORE.route(pl.Series(keys, dtype=pl.Categorical)), expected(keys))
    values = list(range(len(keys)))
    assert np.array_equal(CORE.route(pl.Series(values, dtype=pl.UInt32)), REF.route(values))


NULL_INPUTS = {
    "list": lambda: ["a", None, "b"],
    "arrow": lambda: pa.array(["a", None, "b"]),
    "arrow view": lambda: pa.array(["a", None, "b"], type=pa.string_view()),
    "arrow int": lambda: pa.array([1, None, 3]),
    "pandas object": lambda: pd.Series(["a", None, "b"], dtype=object),
    "pandas nan": lambda: pd.Series(["a", float("nan"), "b"], dtype=object),
    "pandas str": lambda: pd.Series(["a", None, "b"], dtype="string[pyarrow]"),
    "pandas Int64": lambda: pd.Series([1, None, 3], dtype="Int64"),
    "polars": lambda: pl.Series(["a", None, "b"]),
}


@pytest.mark.parametrize("make", NULL_INPUTS.values(), ids=NULL_INPUTS.keys())
def test_nulls_are_an_error_naming_the_position_unless_a_sentinel_is_asked(make):
    with pytest.raises((ValueError, TypeError), match=r"keys\[1\]"):
        CORE.route(make())
    routed = CORE.route(make(), null=-1)
    assert routed[1] == -1
    first = make()[0]
    first = first.as_py() if hasattr(first, "as_py") else first
    assert routed[0] == CORE.route([first])[0]


def test_list_none_is_a_type_error_without_a_sentinel():
    with pytest.raises(TypeError, match=r"keys\[1\].*NoneType"):
        CORE.route(["a", None])
    with pytest.raises(ValueError, match=r"keys\[1\] is null"):
        CORE.route(pa.array(["a", None]))


@pytest.mark.parametrize("bad", [True, 1.5, 2**31, -(2**31) - 1, "x"])
def test_null_sentinel_must_be_an_int32(bad):
    with pytest.raises((TypeError, ValueError)):
        CORE.route(["a"], null=bad)


def test_unsupported_columnar_types_are_type_errors():
    with pytest.raises(TypeError, match="double"):
        CORE.route(pa.array([1.5, 2.5]))
    with pytest.raises(TypeError, match="float64"):
        CORE.route(pd.Series([1.5]))
    with pytest.raises(TypeError, match="Float64"):
        CORE.route(pl.Series([1.5]))
    with pytest.raises(TypeError, match="DataFrame"):
        CORE.route(pd.DataFrame({"a": [1]}))


def test_surrogates_in_text_arrays_name_their_index():
    with pytest.raises(UnicodeEncodeError, match=r"keys\[2\]"):
        CORE.route(np.array(["a", "b", "\ud800"]))


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_results_do_not_depend_on_the_thread_count(threads):
    ints = np.random.default_rng(0).integers(0, 2**64, 200_003, dtype=np.uint64)
    text = pa.array([f"k{i}" for i in range(100_001)])
    assert np.array_equal(CORE.route(ints, threads=threads), CORE.route(ints, threads=1))
    assert np.array_equal(CORE.route(text, threads=threads), CORE.route(text, threads=1))
    hashes = CORE.hash_keys(ints, threads=threads)
    assert np.array_equal(hashes, CORE.hash_keys(ints, threads=1))
    assert np.array_equal(
        CORE.route_hashes(hashes, threads=threads), CORE.route_hashes(hashes, threads=1)
    )


def test_threaded_errors_name_the_first_bad_key():
    keys = pa.array(["k"] * 300_000 + [None] * 10 + ["k"] * 300_000)
    with pytest.raises(ValueError, match=r"keys\[300000\]"):
        CORE.route(keys, threads=4)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_thread_count_must_be_a_positive_int(bad):
    with pytest.raises((TypeError, ValueError)):
        CORE.route(np.arange(10), threads=bad)


@given(st.integers(1, 40), st.integers(1, 300))
def test_guide_table_points_at_the_first_point_of_each_bucket(nodes, vnodes):
    ring = ringcore.HashRing([f"n{i}" for i in range(nodes)], vnodes=vnodes)
    check_guide_table(ring.layout)


def check_guide_table(layout):
    """Each entry is the index of the first point at or after its bucket's start."""
    table = layout.table.astype(np.int64)
    bits = int(np.log2(len(table)))
    n = len(layout.positions)
    assert not layout.big and len(layout.lines) == 0
    assert len(table) == 1 << bits and n <= len(table) <= 2 * max(n, 1)
    starts = np.arange(len(table) + 1, dtype=np.uint64)[:-1] << np.uint64(64 - bits)
    assert np.array_equal(table, np.searchsorted(layout.positions, starts, side="left"))


def check_line_table(layout):
    """Each line holds the keys (top 16 bits of the offset in the line) and
    owners of its points, up to nine (fourteen in a compact line, for rings
    of at most 65,535 nodes), then the owner after the line, and its first
    point's index. A line with more points than slots says so: owner -1 after
    it, or a last key below every key in a compact line."""
    lines = layout.lines
    count, n = len(lines), len(layout.positions)
    compact = len(layout.names) <= 65535
    slots, per_line = (14, 7) if compact else (9, 4)
    assert layout.big and layout.compact == compact
    assert layout.table.nbytes == lines.nbytes == 64 * count
    assert n / (per_line * 1.02) < count <= n / per_line
    assert layout.memory_bytes <= (16 + 64 / per_line) * n + 64  # 25 or 32 bytes a point
    positions = [int(p) for p in layout.positions]
    line_of = [(p * count) >> 64 for p in positions]
    key_of = [(((p * count) % 2**64) >> 48) ^ 0x8000 for p in positions]
    key_of = [k - 2**16 if k >= 2**15 else k for k in key_of]  # stored as int16
    first = np.searchsorted(line_of, np.arange(count), side="left")
    ends = np.r_[first[1:], n]
    owners = layout.owners
    overflowed = 0
    for e in range(count):
        line = lines[e]
        lo, hi = int(first[e]), int(ends[e])
        assert line["first"] == lo
        held = min(hi - lo, slots)
        assert line["keys"][:held].tolist() == key_of[lo:lo + held]
        assert line["owners"][:held].tolist() == owners[lo:lo + held].tolist()
        if hi - lo > slots:
            overflowed += 1
            if compact:
                assert line["keys"][slots] == -(2**15)
            else:
                assert line["owners"][slots] == -1 and line["keys"][slots] == 0x7FFF
            continue
        assert (line["keys"][held:] == 0x7FFF).all()
        assert (line["owners"][held:] == int(owners[hi % n])).all()
    assert overflowed > 0  # both cases were seen


@pytest.mark.parametrize("nodes, vnodes", [(3300, 160), (40_000, 14), (70_000, 8)])
def test_guide_table_of_big_rings(nodes, vnodes):
    ring = ringcore.HashRing([f"n{i}" for i in range(nodes)], vnodes=vnodes)
    check_line_table(ring.layout)
    hashes = np.random.default_rng(5).integers(0, 2**64, 100_000, dtype=np.uint64)
    expected = np.append(ring.owners, ring.owners[0])[np.searchsorted(ring.positions, hashes)]
    assert np.array_equal(ring.route_hashes(hashes), expected)
    assert np.array_equal(ring.route_hashes(hashes, threads=2), expected)


maybe_text = st.lists(st.one_of(st.none(), str_keys.map(lambda s: s.replace("\x00", ""))),
                      min_size=1, max_size=40)


def columnar_forms(values):
    yield "arrow", pa.array(values, type=pa.string())
    yield "arrow view", pa.array(values, type=pa.string_view())
    yield "pandas arrow", pd.Series(values, dtype="string[pyarrow]")
    yield "pandas object", pd.Series(values, dtype=object)
    yield "polars", pl.Series(values, dtype=pl.String)


@given(maybe_text, st.integers(-(2**31), 2**31 - 1))
def test_columnar_inputs_with_nulls_agree_with_the_reference(values, null):
    for form, column in columnar_forms(values):
        assert np.array_equal(CORE.route(column, null=null), REF.route(column, null=null)), form
        if None in values:
            first = values.index(None)
            for ring in (CORE, REF):
                with pytest.raises(ValueError, match=rf"keys\[{first}\] is null"):
                    ring.route(column)
        else:
            assert np.array_equal(CORE.route(column), REF.route(column)), form
            assert np.array_equal(CORE.hash_keys(column), REF.hash_keys(column)), form
