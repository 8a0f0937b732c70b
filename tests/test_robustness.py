"""Adversarial inputs and concurrency: no crash, no hang, the documented error."""

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import ringcore
from ringcore import reference
from ringcore._keys import KeyBatch
from ringcore._layout import RingBase
from ringcore.dialects import DEFAULT

hash_batch = DEFAULT.hasher.hash_batch

pa = pytest.importorskip("pyarrow")
pd = pytest.importorskip("pandas")

BOTH = [ringcore.HashRing, reference.HashRing]


def ring_of(cls=ringcore.HashRing, n=20):
    return cls([f"n{i}" for i in range(n)], vnodes=20)


def test_get_nodes_while_n_conversion_updates_the_ring():
    ring = ring_of()
    before = ring.get_nodes("key", 3)

    class SneakyInt(int):
        def __int__(self):
            ring.remove_node("n0")
            ring.remove_node("n1")
            return 3

    got = ring.get_nodes("key", SneakyInt(3))
    assert len(got) == 3 and len(set(got)) == 3
    assert got == before or all(name in ring.nodes for name in got)


def test_lookups_with_numpy_n_survive_concurrent_updates():
    ring = ring_of()
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            ring.add_node(f"x{i}")
            ring.remove_node(f"x{i}")
            i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for k in range(20_000):
            nodes = ring.get_nodes(k, np.int64(3))
            assert len(set(nodes)) == 3
            assert ring.get_node(np.uint32(k)).startswith(("n", "x"))
    finally:
        stop.set()
        thread.join()


def test_a_ring_whose_init_never_ran_is_empty_not_a_crash():
    with pytest.raises(ringcore.EmptyRingError):
        ringcore.HashRing.__new__(ringcore.HashRing).get_node("a")
    with pytest.raises(ringcore.EmptyRingError):
        RingBase().get_nodes("a", 1)
    with pytest.raises(TypeError):
        RingBase()._layout = None


def test_a_key_whose_type_check_empties_the_list():
    keys = []

    class Evil:
        @property
        def __class__(self):
            keys.clear()
            return Evil

    keys[:] = ["x"] * 5 + [Evil()] + ["y"] * 5
    with pytest.raises((TypeError, RuntimeError), match=r"keys\[5\]|shrank"):
        ring_of().route(keys)


def test_int_subclass_hooks_never_run_while_routed():
    keys = ["a"] * 10

    class Shrinker(int):
        def __lt__(self, other):
            keys.clear()
            return NotImplemented

        __int__ = __index__ = __lt__

    keys.insert(3, Shrinker(2**64 - 1))  # > int64: the overflow path
    ring = ring_of()
    assert np.array_equal(ring.route(keys), ring.route(["a"] * 3 + [2**64 - 1] + ["a"] * 7))
    assert len(keys) == 11


@pytest.mark.parametrize("change", ["clear", "append"])
def test_a_list_that_changes_size_while_routed(change):
    keys = ["a"] * 10

    class Resizer(np.int64):
        def __int__(self):
            keys.clear() if change == "clear" else keys.append("b")
            return 5

    keys.insert(3, Resizer(5))
    for method in ("route", "hash_keys"):
        with pytest.raises(RuntimeError, match="changed size"):
            getattr(ring_of(), method)(keys)
        keys[:] = ["a"] * 3 + [Resizer(5)] + ["a"] * 7


def test_routing_at_interpreter_exit(tmp_path):
    script = textwrap.dedent("""
        import atexit, numpy as np, ringcore
        ring = ringcore.HashRing(["a", "b", "c"])
        keys = np.arange(1_000_000, dtype=np.uint64)
        atexit.register(lambda: print(int(ring.route(keys, threads=2).sum())))
    """)
    env = dict(os.environ, PYTHONPATH=str(Path(ringcore.__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, timeout=60,
                          capture_output=True, text=True)
    ring = ringcore.HashRing(["a", "b", "c"])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) == int(ring.route(np.arange(1_000_000, dtype=np.uint64)).sum())


def test_an_ndarray_subclass_cannot_lie_about_its_layout():
    class Lying(np.ndarray):
        @property
        def strides(self):
            return (1 << 40,)

    values = np.arange(4, dtype=np.int64)
    ring = ring_of()
    assert np.array_equal(ring.route(values.view(Lying), threads=1), ring.route(values))


@pytest.mark.parametrize("cls", BOTH)
def test_masked_arrays_are_rejected(cls):
    with pytest.raises(TypeError, match="masked"):
        ring_of(cls).route(np.ma.array([1, 2, 3], mask=[0, 1, 0]))


def test_arrow_batch_bounds_cannot_overflow():
    data = pa.py_buffer(b"x" * 16)
    with pytest.raises(ValueError, match="too short|out of range"):
        KeyBatch.from_arrow("int", 2**61, 0, None, data, width=8)
    with pytest.raises(ValueError, match="too short|out of range"):
        KeyBatch.from_arrow("int", 1, 2**62, None, data, width=8)
    batch = KeyBatch.from_arrow("int", 2, 0, None, data, width=8)
    with pytest.raises(ValueError):
        hash_batch(batch, np.empty(1, np.uint64), 2**40, 2**40 + 1)


def test_unaligned_inputs_give_the_same_answers():
    ring = ring_of()
    raw = np.zeros(8 * 100 + 1, dtype=np.uint8)
    hashes = raw[1:].view(np.uint64)
    hashes[:] = np.arange(100, dtype=np.uint64) * np.uint64(2**57)
    assert not hashes.flags.aligned
    assert np.array_equal(ring.route_hashes(hashes), ring.route_hashes(hashes.copy()))
    assert np.array_equal(ring.route(hashes), ring.route(hashes.copy()))


def test_list_subclasses_are_lists():
    class Keys(list):
        pass

    ring = ring_of()
    assert np.array_equal(ring.route(Keys(["a", "b"])), ring.route(["a", "b"]))
    assert np.array_equal(ring.hash_keys(Keys(["a"])), ring.hash_keys(["a"]))


@pytest.mark.parametrize("cls", BOTH)
def test_bad_keys_fail_before_the_empty_ring_even_with_a_null_value(cls):
    with pytest.raises(TypeError, match=r"keys\[0\]"):
        cls().route([1.5], null=-1)
    with pytest.raises(ringcore.EmptyRingError):
        cls().route([None, "a"], null=-1)
    with pytest.raises(ringcore.EmptyRingError):
        cls().route([None, None], null=-1)


@pytest.mark.parametrize("bad", ["x", 0, -5, 1.5, True])
def test_threads_is_checked_for_every_input(bad):
    ring = ring_of()
    for call in (ring.route, ring.hash_keys, ring.route_hashes):
        with pytest.raises((TypeError, ValueError)):
            call([1, 2], threads=bad)


def test_threads_accepts_numpy_ints_and_caps_huge_counts():
    ring = ring_of()
    keys = np.arange(10**5)
    assert np.array_equal(ring.route(keys, threads=np.int64(2)), ring.route(keys, threads=1))
    assert np.array_equal(ring.route(keys, threads=10**6), ring.route(keys, threads=1))


@pytest.mark.parametrize("cls", BOTH)
def test_astronomical_vnodes_is_a_value_error(cls):
    with pytest.raises(ValueError):
        cls(["a"], vnodes=10**400)


def test_route_hashes_rejects_what_is_not_a_column_of_integers():
    ring = ring_of()
    for bad in (pa.table({"a": [1]}), pa.scalar(1), memoryview(b"abc")):
        with pytest.raises(TypeError):
            ring.route_hashes(bad)


@pytest.mark.parametrize("cls", BOTH)
def test_the_first_problem_in_a_pandas_object_series_is_reported(cls):
    with pytest.raises(TypeError, match=r"keys\[0\]"):
        cls(["a", "b"]).route(pd.Series([1.5, None], dtype=object))
    with pytest.raises(ringcore.NullKeyError, match=r"keys\[1\]"):
        cls(["a", "b"]).route(pd.Series(["a", None, 1.5], dtype=object))


@pytest.mark.skipif(not hasattr(np, "dtypes") or not hasattr(np.dtypes, "StringDType"),
                    reason="StringDType needs numpy >= 2")
@pytest.mark.parametrize("cls", BOTH)
def test_string_dtype_missing_values_are_nulls(cls):
    dtype = np.dtypes.StringDType(na_object=np.nan)
    keys = np.array(["a", np.nan, "b"], dtype=dtype)
    routed = cls(["x", "y", "z"]).route(keys, null=-7)
    assert routed[1] == -7
    assert routed[0] == cls(["x", "y", "z"]).route(["a"])[0]
    with pytest.raises(ringcore.NullKeyError, match=r"keys\[1\]"):
        cls(["x", "y", "z"]).route(keys)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("cls", BOTH)
def test_every_key_is_checked_before_the_empty_ring(cls, threads):
    bad_u = np.frombuffer(np.array([0x61, 0, 0x62, 0x110000], dtype=np.uint32).tobytes(), "U2")
    with pytest.raises(ValueError, match=r"keys\[1\]"):
        cls().route(bad_u, threads=threads, null=-1)
    keys = np.concatenate([np.arange(300_000, dtype=np.int64)]).astype(object)
    keys[-1] = 1.5
    with pytest.raises(TypeError, match=r"keys\[299999\]"):
        cls().route(np.array(keys), threads=threads)
    chunked = pa.chunked_array([["a", "b"], ["c", None]])
    with pytest.raises(ringcore.NullKeyError, match=r"keys\[3\]"):
        cls().route(chunked, threads=threads)
    with pytest.raises(ringcore.EmptyRingError):
        cls().route(chunked, threads=threads, null=0)
