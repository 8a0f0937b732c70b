"""Regressions for what adversarial use once broke: inputs that lie about
their memory, overflowing bounds, racy reads of node names, equality, and
the errors users see."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import ringcore
from ringcore import RingLayout, _layout, reference
from ringcore._keys import KeyBatch
from ringcore.dialects import DEFAULT

hash_batch = DEFAULT.hasher.hash_batch

pa = pytest.importorskip("pyarrow")

NODES = [f"node-{i}" for i in range(12)]


@pytest.fixture
def ring():
    return ringcore.HashRing(NODES, vnodes=32)


# -- inputs that lie about their memory ------------------------------------------------


class FakeArray:
    """Describes memory it does not own: 10**6 elements at address 16."""

    dtype = np.dtype("S8")
    ndim = 1
    shape = (10**6,)
    strides = (8,)
    size = 10**6
    flags = np.ones(1).flags
    __array_interface__ = {"data": (16, False), "shape": (10**6,), "typestr": "|S8", "version": 3}

    def reshape(self, *args):
        return self


class ViewLies(np.ndarray):
    def view(self, *args, **kwargs):
        return FakeArray()

    def reshape(self, *args, **kwargs):
        return FakeArray()


class InterfaceLies(np.ndarray):
    @property
    def __array_interface__(self):
        return FakeArray.__array_interface__

    @property
    def dtype(self):
        return np.dtype("S8")

    @property
    def shape(self):
        return (10**6,)


@pytest.mark.parametrize("cls", [ViewLies, InterfaceLies])
def test_ndarray_subclasses_are_read_as_the_array_they_are(ring, cls):
    values = np.arange(10, dtype=np.uint64)
    lying = values.view(cls)
    want = ring.route(values)
    assert np.array_equal(ring.route(lying), want)
    assert np.array_equal(ring.hash_keys(lying), ring.hash_keys(values))
    assert np.array_equal(ring.route_hashes(lying), ring.route_hashes(values))
    batch = KeyBatch.from_numpy(lying)
    out = np.empty(10, dtype=np.uint64)
    hash_batch(batch, out, 0, 10)
    assert np.array_equal(out, ring.hash_keys(values))


def test_key_batch_takes_no_array_lookalikes():
    with pytest.raises(TypeError):
        KeyBatch.from_numpy(FakeArray())

    class PosesAsArray(FakeArray):
        @property
        def __class__(self):
            return np.ndarray

    with pytest.raises(TypeError):
        KeyBatch.from_numpy(PosesAsArray())


def test_arrow_buffers_are_measured_through_the_buffer_protocol():
    class FakeBuffer:
        address = 16
        size = 1 << 40

    for layout in ("int", "fixed", "offsets32", "views"):
        with pytest.raises(TypeError, match="buffer protocol"):
            KeyBatch.from_arrow(layout, 1, 0, None, FakeBuffer(), data=FakeBuffer(),
                                view_buffers=[FakeBuffer()], width=8)
    batch = KeyBatch.from_arrow("int", 2, 0, None, bytearray(16), width=8)
    out = np.empty(2, np.uint64)
    hash_batch(batch, out, 0, 2)
    assert out.tolist() == [ringcore.hash_key(0)] * 2


@pytest.mark.parametrize("layout, unit", [("int", 8), ("fixed", 8), ("offsets32", 4),
                                           ("offsets64", 8), ("views", 16)])
@pytest.mark.parametrize("n, offset", [
    (4, 2**63 - 2), (2**63 - 2, 4), (2**62, 2**62), (1, 2**61), (2**60, 0), (3, 2**59 - 1),
    (2**64, 0), (-1, 0), (0, -1),
])
def test_arrow_bounds_cannot_wrap(layout, unit, n, offset):
    buffer = pa.py_buffer(b"\0" * 64)
    with pytest.raises((ValueError, OverflowError)):
        KeyBatch.from_arrow(layout, n, offset, buffer, buffer, data=buffer, view_buffers=[buffer],
                            width=8)


def test_arrow_validity_bitmap_is_bounded():
    values = pa.py_buffer(np.arange(64, dtype=np.int64).tobytes())
    with pytest.raises(ValueError, match="validity"):
        KeyBatch.from_arrow("int", 64, 0, pa.py_buffer(b"\xff" * 7), values, width=8)
    with pytest.raises(ValueError, match="validity"):
        KeyBatch.from_arrow("int", 7, 50, pa.py_buffer(b"\xff" * 7), values, width=8)
    KeyBatch.from_arrow("int", 6, 50, pa.py_buffer(b"\xff" * 7), values, width=8)


def test_a_buffer_stays_lent_while_a_batch_holds_it():
    data = bytearray(64)
    batch = KeyBatch.from_arrow("int", 8, 0, None, data, width=8)
    with pytest.raises(BufferError):
        data.extend(b"x" * 10**6)  # would move the memory the batch points at
    del batch
    data.extend(b"x")


def test_layout_built_directly_is_checked():
    pos = np.array([1, 5, 9], dtype=np.uint64)
    own = np.array([0, 1, 0], dtype=np.int32)
    with pytest.raises(ValueError):
        RingLayout.from_arrays(["a"], pos, own)  # owner 1 of one node
    with pytest.raises(ValueError):
        RingLayout.from_arrays(["a", "b"], pos[::-1].copy(), own)  # unsorted
    with pytest.raises(ValueError):
        RingLayout.from_arrays(["a", "b"], pos, own[:2])
    points, n = _layout.points_from_arrays(pos, own)
    with pytest.raises(ValueError):  # weights and names differ
        _layout.make_layout(RingLayout, ("a", "b"), (1.0,), 160, DEFAULT, DEFAULT.hasher, points, n)
    with pytest.raises(ValueError):  # a buffer of the wrong size
        _layout.make_layout(RingLayout, ("a", "b"), (1.0, 1.0), 160, DEFAULT, DEFAULT.hasher,
                            points, n + 1)
    with pytest.raises(TypeError):
        _layout.make_layout(int, ("a", "b"), (1.0, 1.0), 160, DEFAULT, DEFAULT.hasher, points, n)
    layout = RingLayout.from_arrays(["a", "b"], pos, own)
    out = np.empty(3, dtype=np.int32)
    layout.route_hashes_into(np.array([0, 6, 2**64 - 1], dtype=np.uint64), out)
    assert out.tolist() == [0, 0, 0]
    # frozen: no attribute can be set, no array written, no index edited
    for name in ("names", "node_weights", "vnodes", "positions", "owners", "table", "dialect",
                 "x"):
        with pytest.raises(AttributeError):
            setattr(layout, name, None)
    for array in (layout.positions, layout.owners, layout.table):
        with pytest.raises(ValueError):
            array[0] = array[1]
        with pytest.raises(ValueError):
            array.flags.writeable = True
    with pytest.raises(TypeError):
        layout.index["c"] = 2
    layout.__init__(["x"])  # object's: changes nothing
    assert layout.positions.tolist() == [1, 5, 9] and layout.nodes == ("a", "b")


# -- names of one version ----------------------------------------------------------------


def test_return_nodes_gives_the_names_of_the_answering_version(ring):
    keys = [f"user:{i}" for i in range(1000)]
    owners, nodes = ring.route(keys, return_nodes=True)
    assert nodes == ring.nodes and np.array_equal(owners, ring.route(keys))
    assert [nodes[i] for i in owners] == [ring.get_node(k) for k in keys]
    hashes = ring.hash_keys(keys)
    owners2, nodes2 = ring.route_hashes(hashes, return_nodes=True)
    assert nodes2 == nodes and np.array_equal(owners2, owners)
    ref = reference.HashRing(NODES, vnodes=32)
    owners3, nodes3 = ref.route(keys, return_nodes=True)
    assert nodes3 == nodes and np.array_equal(owners3, owners)


def test_return_nodes_under_a_concurrent_writer(ring):
    """Every (owners, nodes) pair is one whole version: mapping the owners
    through its nodes gives what a ring frozen in that version gives."""
    keys = np.arange(20_000, dtype=np.uint64)
    frozen: dict = {}
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            for name in NODES[:3]:
                ring.remove_node(name)
                ring.add_node(name)  # back at the end: the indices of later nodes shift

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(200):
            owners, nodes = ring.route(keys, return_nodes=True)
            if nodes not in frozen:
                version = ringcore.HashRing(list(nodes), vnodes=32)
                frozen[nodes] = np.array(nodes)[version.route(keys)]
            assert np.array_equal(np.array(nodes)[owners], frozen[nodes])
    finally:
        stop.set()
        thread.join()
    assert len(frozen) > 1, "the writer never changed the ring during the reads"


# -- equality ---------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [ringcore.HashRing, reference.HashRing])
def test_equal_rings_route_alike(cls):
    a = cls({"a": 1.0, "b": 2.0, "c": 1.0}, vnodes=20)
    b = cls({"c": 1.0, "b": 2.0, "a": 1.0}, vnodes=20)
    keys = [f"k{i}" for i in range(500)]
    assert a != b and not (a == b)
    assert not np.array_equal(a.route(keys), b.route(keys))
    assert a.weights == b.weights and a.vnodes == b.vnodes  # the same placement
    assert [a.nodes[i] for i in a.route(keys)] == [b.nodes[i] for i in b.route(keys)]
    c = cls({}, vnodes=20)
    for name, weight in a.weights.items():
        c.add_node(name, weight)
    assert a == c and np.array_equal(a.route(keys), c.route(keys))


# -- numpy text arrays -------------------------------------------------------------------


@pytest.mark.parametrize("offset", [1, 2, 3])
@pytest.mark.parametrize("byteorder", ["<", ">"])
def test_unaligned_and_foreign_u_arrays_are_read_in_place(ring, offset, byteorder):
    words = np.array(["alpha", "", "héllo", "🙂🙂", "zz"], dtype=f"{byteorder}U5")
    raw = b"\0" * offset + words.tobytes()
    unaligned = np.frombuffer(raw, dtype=words.dtype, offset=offset)
    assert unaligned.flags.aligned is False or offset % 4 == 0
    want = ring.route(words.tolist())
    assert np.array_equal(ring.route(unaligned), want)
    assert np.array_equal(ring.hash_keys(unaligned), ring.hash_keys(words.tolist()))
    assert np.array_equal(ring.route(unaligned[::-2]), want[::-2])


def test_memory_mapped_records_route_in_place(ring, tmp_path):
    record = np.dtype([("flag", "u1"), ("name", "<U6"), ("id", "<i8")], align=False)
    rows = np.zeros(50, dtype=record)
    rows["name"] = [f"u{i}é" for i in range(50)]
    rows["id"] = np.arange(50) * 7
    path = tmp_path / "records.bin"
    rows.tofile(path)
    mapped = np.memmap(path, dtype=record, mode="r")
    assert not mapped["name"].flags.aligned
    assert np.array_equal(ring.route(mapped["name"]), ring.route(rows["name"].tolist()))
    assert np.array_equal(ring.route(mapped["id"]), ring.route(rows["id"].tolist()))


# -- lists changed by another thread -----------------------------------------------------


@pytest.mark.parametrize("method", ["route", "hash_keys"])
@pytest.mark.parametrize("change", ["append", "pop"])
def test_a_list_resized_by_another_thread_says_so(ring, method, change):
    """A key's hook hands over to another thread, which resizes the list
    while the core is in the middle of it."""
    keys = [f"user:{i}" for i in range(3000)]
    resize, resized = threading.Event(), threading.Event()

    class HandsOver(np.int64):
        def __int__(self):
            resize.set()
            assert resized.wait(10)
            return 7

    def resizer():
        assert resize.wait(10)
        keys.append("extra") if change == "append" else keys.pop()
        resized.set()

    keys[1500] = HandsOver(7)
    thread = threading.Thread(target=resizer)
    thread.start()
    try:
        with pytest.raises(RuntimeError, match="changed size"):
            getattr(ring, method)(keys)
    finally:
        resize.set()
        thread.join()


# -- polars ------------------------------------------------------------------------------


def test_polars_enum_and_categorical_route_like_strings(ring):
    pl = pytest.importorskip("polars")
    words = ["b", "a", None, "c", "a"]
    want = ring.route(words, null=-1)
    enum = pl.Series(words, dtype=pl.Enum(["a", "b", "c"]))
    assert np.array_equal(ring.route(enum, null=-1), want)
    assert np.array_equal(ring.route(pl.Series(words, dtype=pl.Categorical), null=-1), want)
    assert np.array_equal(ring.route(pl.Series(words), null=-1), want)
    assert np.array_equal(ring.route(pl.Series([None, None]), null=-5), [-5, -5])


def test_polars_strings_are_read_from_polars_memory(ring):
    pl = pytest.importorskip("polars")
    from ringcore._batch import batch_keys

    series = pl.Series([f"user:{i}" for i in range(1000)])
    exported = series.to_arrow(compat_level=pl.CompatLevel.newest())
    assert pa.types.is_string_view(exported.type)  # polars' own layout: no copy
    (part,) = batch_keys(series).parts
    assert isinstance(part, KeyBatch) and pa.types.is_string_view(part.source.type)
    assert np.array_equal(ring.route(series), ring.route(series.to_list()))


# -- messages ----------------------------------------------------------------------------


def test_none_in_a_list_points_to_null(ring):
    with pytest.raises(TypeError, match=r"keys\[1\].*NoneType.*null=") as info:
        ring.route(["a", None])
    assert "null=" in str(info.value)
    with pytest.raises(TypeError, match=r"keys\[1\].*NoneType") as info:
        ring.hash_keys(["a", None])
    assert "null=" not in str(info.value)  # hash_keys takes no null value


def test_hash_keys_on_nulls_does_not_offer_a_null_value(ring):
    for batch in (pa.array(["a", None]), ["a", ringcore._batch.NULL]):
        with pytest.raises(ringcore.NullKeyError, match=r"keys\[1\]") as info:
            ring.hash_keys(batch)
        assert "hash_keys takes no nulls" in str(info.value)
    with pytest.raises(ringcore.NullKeyError, match=r"pass null=<int>"):
        ring.route(pa.array(["a", None]))


def test_remove_node_names_the_missing_node(ring):
    with pytest.raises(KeyError, match="'nope' is not in the ring"):
        ring.remove_node("nope")
    with pytest.raises(KeyError, match="'nope' is not in the ring"):
        reference.HashRing(["a"]).remove_node("nope")


def test_xxh3_and_route_hashes_explain_what_they_take(ring):
    with pytest.raises(TypeError, match="encode it first"):
        ringcore.xxh3_64("text")
    with pytest.raises(TypeError, match="bytes-like"):
        ringcore.xxh3_64(12)
    assert ringcore.xxh3_64(memoryview(b"abcdef")[::2]) == ringcore.xxh3_64(b"ace")
    with pytest.raises(TypeError, match="integers"):
        ring.route_hashes(b"\0" * 8)


def test_the_source_tree_says_how_to_import_ringcore(tmp_path):
    source = Path(ringcore.__file__).resolve().parent  # its .py files, without the core
    copy = tmp_path / "ringcore"
    copy.mkdir()
    for path in source.glob("*.py"):
        (copy / path.name).write_text(path.read_text())
    done = subprocess.run([sys.executable, "-S", "-E", "-c", "import ringcore"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "source tree" in done.stderr and "pip install" in done.stderr
    assert "Traceback" in done.stderr and "ModuleNotFoundError" not in done.stderr.splitlines()[-1]


def test_license_file_is_mit():
    license_file = Path(__file__).resolve().parent.parent / "LICENSE"
    if not license_file.exists():
        pytest.skip("run from a checkout")
    assert "MIT License" in license_file.read_text()


def test_null_key_error_pickles():
    import pickle

    err = pickle.loads(pickle.dumps(ringcore.NullKeyError(3)))
    assert err.index == 3 and "keys[3]" in str(err)


def test_objects_posing_as_arrays_are_not_read_as_arrays(ring):
    class PosesAsArray:
        @property
        def __class__(self):
            return np.ndarray

        def __iter__(self):
            return iter(["a", "b"])

    class PosesAsMasked(np.ndarray):
        @property
        def __class__(self):
            return np.ma.MaskedArray

    want = ring.route(["a", "b"])
    assert np.array_equal(ring.route(PosesAsArray()), want)
    assert np.array_equal(reference.HashRing(NODES, vnodes=32).route(PosesAsArray()), want)
    values = np.arange(4).view(PosesAsMasked)
    assert np.array_equal(ring.route(values), ring.route(np.arange(4)))


def test_vnodes_of_an_int_subclass_is_its_value():
    class Seven(int):
        def __int__(self):
            return 7

        __index__ = __int__

    for cls in (ringcore.HashRing, reference.HashRing):
        assert cls(["a"], vnodes=Seven(5)).vnodes == 5


def test_xxh3_of_empty_buffers_of_any_shape():
    empty = ringcore.xxh3_64(b"")
    assert ringcore.xxh3_64(np.empty((0, 3))) == empty == ringcore.xxh3_64(memoryview(b""))
    assert ringcore.hash_key(memoryview(np.empty((0, 3)))) == empty


def test_split_work_finishes_every_range_when_the_pool_is_stopping(monkeypatch):
    from ringcore import _threads

    class StoppingPool:
        submitted = 0

        def submit(self, fn, *args):
            if self.submitted:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self.submitted += 1
            future = __import__("concurrent.futures").futures.Future()
            thread = threading.Thread(target=lambda: (fn(*args), future.set_result(None)))
            thread.start()
            return future

    monkeypatch.setattr(_threads, "_executor", lambda pool=StoppingPool(): pool)
    done = []
    lock = threading.Lock()

    def work(lo, hi):
        time.sleep(0.01)
        with lock:
            done.append((lo, hi))

    _threads.run_split(100, 4, work)
    assert sorted(done) == [(0, 25), (25, 50), (50, 75), (75, 100)]


def _corrupt_strings():
    """A string array whose second offset points far past its data: only a
    full validation sees it."""
    offsets = pa.py_buffer(np.array([0, 1 << 30, 5], dtype=np.int32).tobytes())
    return pa.Array.from_buffers(pa.string(), 2, [None, offsets, pa.py_buffer(b"hello")])


@pytest.mark.parametrize("cls", [ringcore.HashRing, reference.HashRing])
def test_corrupt_arrow_layouts_are_refused_before_pyarrow_reads_them(ring, cls):
    pc = pytest.importorskip("pyarrow.compute")
    words = _corrupt_strings()
    dictionary = pa.DictionaryArray.from_arrays(pa.array([0, 1, 1]), words)
    run_ends = pa.Array.from_buffers(pa.run_end_encoded(pa.int32(), pa.string()), 3, [None],
                                     children=[pa.array([1, 3], type=pa.int32()), words])
    target = cls(NODES, vnodes=32)
    for batch in (words, dictionary, run_ends, pa.chunked_array([words])):
        with pytest.raises(ValueError):
            target.route(batch)
        with pytest.raises(ValueError):
            target.hash_keys(batch)
    good = pa.array(["a", "b", "a"]).dictionary_encode()
    assert np.array_equal(target.route(good), target.route(["a", "b", "a"]))
    assert np.array_equal(target.route(pc.run_end_encode(pa.array(["a", "a", "b"]))),
                          target.route(["a", "a", "b"]))


def test_dictionary_of_views_with_garbage_in_its_null_slots(ring):
    """Arrow leaves the view of a null slot unspecified and validation skips
    it; pyarrow's cast reads it. A long view pointing nowhere must not crash."""
    good = np.zeros((3, 16), dtype=np.uint8)  # three views: "a", a null, ""
    good[0, :4] = np.frombuffer(np.int32(1).tobytes(), dtype=np.uint8)
    good[0, 4] = ord("a")
    good[1, :4] = np.frombuffer(np.int32(-471662592).tobytes(), dtype=np.uint8)  # null slot
    validity = pa.py_buffer(bytes([0b101]))
    values = pa.Array.from_buffers(pa.binary_view(), 3, [validity, pa.py_buffer(good.tobytes())])
    array = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2, 0]), values)
    got = ring.route(array, null=-1)
    assert got.tolist() == [ring.route([b"a"])[0], -1, ring.route([b""])[0], ring.route([b"a"])[0]]
    assert np.array_equal(reference.HashRing(NODES, vnodes=32).route(array, null=-1), got)
