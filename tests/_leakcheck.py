"""Worker of tests/test_leaks.py: run every ringcore call path many times and
report how memory and reference counts moved, as JSON on stdout.

Run as ``python tests/_leakcheck.py LOOPS [CASE ...]`` in a fresh process, so
that nothing else (pytest, other tests) allocates while it measures. For each
case: warm up, collect garbage, take a snapshot, then three times: call the
case LOOPS times, collect, take another snapshot. Each measure is reported as
its smallest growth over the three windows (a leak grows in every window; a
cache that fills once, or allocator noise, does not). A snapshot holds:

* ``blocks``: ``sys.getallocatedblocks()``, the Python objects and other
  small blocks pymalloc has handed out (a leaked object is one more);
* ``malloc``: bytes in use in the C heap (glibc ``mallinfo2``: ``uordblks``
  + ``hblkhd``), where numpy data, C scratch buffers and big objects live;
* ``rss``: resident set size from /proc/self/statm;
* ``refs``: ``sys.getrefcount`` of the case's own objects (keys, the input
  container, the ring, ...);
* ``total_refs``: ``sys.gettotalrefcount()`` on debug builds of CPython;
* ``arrow``: ``pyarrow.total_allocated_bytes()`` when pyarrow is loaded.
"""

from __future__ import annotations

import ctypes
import gc
import json
import os
import pickle
import struct
import sys
import time
from collections.abc import Callable

import numpy as np

import ringcore

# -- measuring ------------------------------------------------------------------------


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _malloc_probe() -> Callable[[], int] | None:
    try:
        libc = ctypes.CDLL(None)
        mallinfo2 = libc.mallinfo2
    except (OSError, AttributeError, TypeError):
        return None  # not glibc >= 2.33
    mallinfo2.restype = _MallInfo2
    mallinfo2.argtypes = []

    def in_use() -> int:
        info = mallinfo2()
        return info.uordblks + info.hblkhd

    return in_use


MALLOC_IN_USE = _malloc_probe()
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except OSError:
        return None


def snapshot(objects: list) -> dict:
    arrow = sys.modules.get("pyarrow")
    return {
        "blocks": sys.getallocatedblocks(),
        "malloc": MALLOC_IN_USE() if MALLOC_IN_USE else None,
        "rss": rss(),
        "refs": [sys.getrefcount(o) for o in objects],
        "total_refs": sys.gettotalrefcount() if hasattr(sys, "gettotalrefcount") else None,
        "arrow": arrow.total_allocated_bytes() if arrow else None,
    }


def delta(before: dict, after: dict) -> dict:
    out = {}
    for key in before:
        if key == "refs":
            out[key] = [b - a for a, b in zip(before[key], after[key])]
        elif before[key] is None or after[key] is None:
            out[key] = None
        else:
            out[key] = after[key] - before[key]
    return out


# -- the cases ----------------------------------------------------------------------------

CASES: dict[str, Callable[[], tuple[Callable[[], object], list]]] = {}


def case(name: str):
    """Register a factory: () -> (call, objects whose refcounts must not move)."""
    def register(factory):
        assert name not in CASES, name
        CASES[name] = factory
        return factory
    return register


def raises(exc: type[BaseException], fn: Callable, *args, **kwargs) -> Callable[[], None]:
    """A call that must raise exc (the error is dropped at once)."""
    def call():
        try:
            fn(*args, **kwargs)
        except exc:
            return
        raise AssertionError(f"{fn!r} did not raise {exc.__name__}")
    return call


def fresh_strs(n: int, prefix: str = "user") -> list[str]:
    # Built at run time: neither interned nor immortal, so refcounts move.
    return [f"{prefix}:{i}:" + "k" * (i % 5) for i in range(n)]


RING = ringcore.HashRing({f"node-{i}": 1.0 + (i % 3) * 0.5 for i in range(16)}, vnodes=40)
EMPTY = ringcore.HashRing()
N = 64
STRS = fresh_strs(N)
TEXT = [f"ключ-{i}-é" for i in range(N)]
LONG_TEXT = "é" * 1500 + "-long"  # UTF-8 longer than the core's 1,024-byte stack buffer
SURROGATE = "bad-\ud800-" + str(len(STRS))
LONG_SURROGATE = "é" * 1500 + "\udfff"
MIXED = [STRS[0], b"bytes-key", bytearray(b"bytearray-key"), memoryview(b"view-key"),
         12345678901, -(2**63), 2**64 - 1, np.int64(-5), np.uint32(7), TEXT[0], LONG_TEXT] * 6
INTS = np.arange(-N // 2, N // 2, dtype=np.int64) * 1_000_003
HASHES = np.random.default_rng(1).integers(0, 2**64 - 1, size=N, dtype=np.uint64, endpoint=True)


def route_and_hash(keys, objects, **kwargs) -> tuple[Callable[[], object], list]:
    """route (plain and with return_nodes) and hash_keys over the same input."""
    def call():
        RING.route(keys, **kwargs)
        RING.route(keys, return_nodes=True, **kwargs)
        if "null" not in kwargs:
            RING.hash_keys(keys, **{k: v for k, v in kwargs.items() if k == "threads"})
    return call, [keys, RING, *objects]


def with_bad(keys: list, bad, at: int = N // 2) -> list:
    return keys[:at] + [bad] + keys[at:]


# Python sequences
@case("list[str]")
def _():
    return route_and_hash(STRS, STRS[:3])


@case("list[non-ASCII str]")
def _():
    return route_and_hash(TEXT, TEXT[:3])


@case("list[mixed str/bytes/int/...]")
def _():
    return route_and_hash(MIXED, MIXED[:11])


@case("tuple[str]")
def _():
    keys = tuple(STRS)
    return route_and_hash(keys, [keys[1]])


@case("iterator of str")
def _():
    def call():
        RING.route(iter(STRS))
        RING.hash_keys(x for x in STRS)
    return call, [RING, STRS, STRS[5]]


@case("list with None, null=")
def _():
    keys = with_bad(STRS, None)
    return route_and_hash(keys, [keys[0]], null=-1)


# numpy
@case("numpy int64")
def _():
    return route_and_hash(INTS, [])


@case("numpy uint32")
def _():
    return route_and_hash(np.arange(N, dtype=np.uint32) * 65_537, [])


@case("numpy int64 big-endian")
def _():
    return route_and_hash(INTS.astype(">i8"), [])


@case("numpy int8")
def _():
    return route_and_hash(np.arange(-N // 2, N // 2, dtype=np.int8), [])


@case("numpy int64 strided")
def _():
    big = np.arange(3 * N, dtype=np.int64)
    return route_and_hash(big[::3], [big])


@case("numpy int64 2-D")
def _():
    return route_and_hash(INTS.reshape(8, -1), [INTS])


@case("numpy S")
def _():
    return route_and_hash(np.array([s.encode() for s in STRS]), [])


@case("numpy S strided")
def _():
    big = np.array([s.encode() for s in STRS * 2])
    return route_and_hash(big[::2], [big])


@case("numpy U")
def _():
    return route_and_hash(np.array(TEXT + [LONG_TEXT]), [])


@case("numpy U big-endian")
def _():
    keys = np.array(TEXT)
    return route_and_hash(keys.astype(keys.dtype.newbyteorder(">")), [])


@case("numpy object")
def _():
    keys = np.array(MIXED, dtype=object)
    return route_and_hash(keys, [MIXED[0], MIXED[1]])


@case("numpy StringDType with NA, null=")
def _():
    if not hasattr(np, "dtypes") or not hasattr(np.dtypes, "StringDType"):
        return None
    dtype = np.dtypes.StringDType(na_object=None)
    keys = np.array(STRS[:10] + [None] + STRS[10:], dtype=dtype)
    return route_and_hash(keys, [], null=-1)


# threads=2: the pool splits even small arrays when asked
@case("numpy int64, threads=2")
def _():
    return route_and_hash(INTS, [], threads=2)


@case("numpy S, threads=2")
def _():
    return route_and_hash(np.array([s.encode() for s in STRS]), [], threads=2)


# Arrow
def arrow():
    import pyarrow as pa
    return pa


@case("arrow string")
def _():
    return route_and_hash(arrow().array(STRS), [])


@case("arrow string sliced")
def _():
    return route_and_hash(arrow().array(["pad"] + STRS).slice(1), [])


@case("arrow large_string")
def _():
    pa = arrow()
    return route_and_hash(pa.array(TEXT, pa.large_string()), [])


@case("arrow string_view")
def _():
    pa = arrow()
    return route_and_hash(pa.array(STRS + TEXT, pa.string_view()), [])


@case("arrow binary")
def _():
    pa = arrow()
    return route_and_hash(pa.array([s.encode() for s in STRS], pa.binary()), [])


@case("arrow large_binary")
def _():
    pa = arrow()
    return route_and_hash(pa.array([s.encode() for s in STRS], pa.large_binary()), [])


@case("arrow binary_view")
def _():
    pa = arrow()
    return route_and_hash(pa.array([s.encode() for s in STRS], pa.binary_view()), [])


@case("arrow int64")
def _():
    return route_and_hash(arrow().array(INTS), [])


@case("arrow uint32")
def _():
    return route_and_hash(arrow().array(np.arange(N, dtype=np.uint32)), [])


@case("arrow dictionary")
def _():
    return route_and_hash(arrow().array(STRS).dictionary_encode(), [])


@case("arrow chunked string")
def _():
    return route_and_hash(arrow().chunked_array([STRS[:20], STRS[20:], []]), [])


@case("arrow chunked dictionary")
def _():
    pa = arrow()
    chunks = [pa.array(STRS[:30]).dictionary_encode(), pa.array(STRS[30:]).dictionary_encode()]
    return route_and_hash(pa.chunked_array(chunks), [])


@case("arrow string with nulls, null=")
def _():
    return route_and_hash(arrow().array(with_bad(STRS, None)), [], null=-1)


@case("arrow string, threads=2")
def _():
    return route_and_hash(arrow().array(STRS), [], threads=2)


# pandas
def pandas():
    import pandas as pd
    return pd


@case("pandas string[pyarrow]")
def _():
    return route_and_hash(pandas().Series(STRS, dtype="string[pyarrow]"), [])


@case("pandas object")
def _():
    keys = pandas().Series(MIXED, dtype=object)
    return route_and_hash(keys, [MIXED[0]])


@case("pandas object with None, null=")
def _():
    keys = pandas().Series(with_bad(STRS, None), dtype=object)
    return route_and_hash(keys, [STRS[0]], null=-1)


@case("pandas int64[pyarrow]")
def _():
    return route_and_hash(pandas().Series(INTS, dtype="int64[pyarrow]"), [])


@case("pandas Int64 nullable")
def _():
    return route_and_hash(pandas().Series(INTS, dtype="Int64"), [])


@case("pandas int64")
def _():
    return route_and_hash(pandas().Series(INTS), [])


# polars
def polars():
    import polars as pl
    return pl


@case("polars String")
def _():
    return route_and_hash(polars().Series(STRS), [])


@case("polars Categorical")
def _():
    pl = polars()
    return route_and_hash(pl.Series(STRS, dtype=pl.Categorical), [])


@case("polars Int64")
def _():
    return route_and_hash(polars().Series(INTS), [])


# route_hashes
@case("route_hashes uint64")
def _():
    def call():
        RING.route_hashes(HASHES)
        RING.route_hashes(HASHES, return_nodes=True)
        RING.route_hashes(HASHES, threads=2)
    return call, [HASHES, RING]


@case("route_hashes other forms")
def _():
    pa = arrow()
    as_list = [int(h) for h in HASHES]
    as_int64 = (HASHES >> np.uint64(1)).astype(np.int64)
    swapped = HASHES.astype(">u8")
    as_arrow = pa.array(HASHES)

    def call():
        RING.route_hashes(as_list)
        RING.route_hashes(as_int64)
        RING.route_hashes(swapped)
        RING.route_hashes(as_arrow)
    return call, [as_list, as_list[0], as_int64, swapped, as_arrow, RING]


# single keys
@case("get_node / get_nodes")
def _():
    keys = [STRS[3], TEXT[3], LONG_TEXT, b"raw", bytearray(b"ba"), 2**64 - 1, -(2**63),
            np.uint32(9)]
    count = np.int64(4)

    def call():
        for key in keys:
            RING.get_node(key)
            RING.get_nodes(key, 3)
            RING.get_nodes(key, count)
            RING.get_nodes(key, len(RING))
        ringcore.hash_key(keys[0])
        ringcore.xxh3_64(keys[3])
    return call, [RING, count, *keys]


@case("get_nodes on a ring of 600 nodes")
def _():
    # More than 512 nodes: the walk's bookkeeping is on the heap, not the stack.
    ring = ringcore.HashRing([f"w{i}" for i in range(600)], vnodes=1)
    keys = [STRS[1], 2**40, b"b"]

    def call():
        for key in keys:
            ring.get_nodes(key, 3)
            ring.get_nodes(key, 600)
            raises(ValueError, ring.get_nodes, key, 601)()
    return call, [ring, *keys]


@case("list[str] of 3,000 keys (several chunks)")
def _():
    keys = fresh_strs(3000, "many")
    return route_and_hash(keys, keys[:2] + keys[-2:])


# updates and protocol
@case("add_node / remove_node")
def _():
    ring = ringcore.HashRing({f"n{i}": 1.0 for i in range(8)}, vnodes=40)
    name = "new-" + str(len(STRS))

    def call():
        ring.add_node(name, 1.5)
        ring.remove_node(name)
        ring.add_node("n0-again", 0.5)
        ring.remove_node("n0-again")
    return call, [ring, name]


@case("pickle round trip, ==, repr, ownership")
def _():
    def call():
        copy = pickle.loads(pickle.dumps(RING))
        assert copy == RING
        repr(copy)
        copy.ownership()
        copy.weights
        len(copy)
        "node-1" in copy
    return call, [RING]


@case("build and drop a ring")
def _():
    config = {f"n{i}": 1.0 + i for i in range(6)}

    def call():
        ringcore.HashRing(config, vnodes=30)
    return call, [config]


# -- error paths --------------------------------------------------------------------------


def both_fail(exc, keys, **kwargs):
    def call():
        raises(exc, RING.route, keys, **kwargs)()
        if "null" not in kwargs:
            raises(exc, RING.hash_keys, keys)()
    return call


@case("error: float key mid-list")
def _():
    bad = 1.5 + len(STRS)
    keys = with_bad(STRS, bad)
    return both_fail(TypeError, keys), [keys, bad, keys[0], RING]


@case("error: bool key mid-list")
def _():
    keys = with_bad(STRS, True)
    return both_fail(TypeError, keys), [keys, keys[0]]


@case("error: None without null=")
def _():
    keys = with_bad(STRS, None)
    return both_fail(TypeError, keys), [keys, keys[0]]


@case("error: surrogate str mid-list")
def _():
    keys = with_bad(TEXT, SURROGATE)
    long_keys = with_bad(TEXT, LONG_SURROGATE)

    def call():
        both_fail(UnicodeEncodeError, keys)()
        both_fail(UnicodeEncodeError, long_keys)()
        raises(UnicodeEncodeError, RING.get_node, SURROGATE)()
        raises(UnicodeEncodeError, RING.get_nodes, LONG_SURROGATE, 2)()
    return call, [keys, long_keys, SURROGATE, LONG_SURROGATE, TEXT[0]]


@case("error: out-of-range ints")
def _():
    too_big, too_small = 2**64 + len(STRS), -(2**63) - 1 - len(STRS)
    keys = with_bad(STRS, too_big)
    low = with_bad(STRS, too_small)

    def call():
        both_fail(OverflowError, keys)()
        both_fail(OverflowError, low)()
        raises(OverflowError, RING.get_node, too_big)()
    return call, [keys, low, too_big, too_small]


@case("error: bad element mid object array")
def _():
    bad = object()
    keys = np.array(with_bad(MIXED, bad), dtype=object)
    return both_fail(TypeError, keys), [keys, bad, MIXED[0]]


@case("error: numpy U with a lone surrogate")
def _():
    keys = np.array(with_bad(TEXT, SURROGATE))
    above = np.array([0x41, 0x110000, 0x42], dtype=np.uint32).view("U1")
    assert keys.dtype.kind == "U"

    def call():
        both_fail(UnicodeEncodeError, keys)()
        both_fail(ValueError, above)()
    return call, [keys, above]


@case("error: arrow nulls without null=")
def _():
    keys = arrow().array(with_bad(STRS, None))
    return both_fail(ringcore.NullKeyError, keys), [keys]


@case("error: pandas and polars nulls without null=")
def _():
    obj = pandas().Series(with_bad(STRS, None), dtype=object)
    arrow_backed = pandas().Series(with_bad(STRS, None), dtype="string[pyarrow]")
    pl_keys = polars().Series(with_bad(STRS, None))

    def call():
        both_fail(ringcore.NullKeyError, obj)()
        both_fail(ringcore.NullKeyError, arrow_backed)()
        both_fail(ringcore.NullKeyError, pl_keys)()
    return call, [obj, arrow_backed, pl_keys]


@case("error: invalid Arrow offsets and views")
def _():
    pa = arrow()
    data = pa.py_buffer(b"abcdefgh" * 4)
    decreasing = pa.Array.from_buffers(pa.string(), 3, [
        None, pa.py_buffer(np.array([0, 8, 4, 12], dtype=np.int32).tobytes()), data])
    large = pa.Array.from_buffers(pa.large_binary(), 3, [
        None, pa.py_buffer(np.array([0, 30, 2, 6], dtype=np.int64).tobytes()), data])
    views = struct.pack("<i12s", 3, b"abc") + struct.pack("<i4sii", 20, b"abcd", 7, 0)
    bad_view = pa.Array.from_buffers(pa.string_view(), 2, [None, pa.py_buffer(views), data])

    def call():
        for keys in (decreasing, large, bad_view):
            both_fail(ValueError, keys)()
    return call, [decreasing, large, bad_view, data]


@case("error: empty ring")
def _():
    array = np.arange(N, dtype=np.uint64)
    text = np.array(TEXT)  # U: the empty-ring check reads it with a scratch buffer

    def call():
        raises(ringcore.EmptyRingError, EMPTY.route, STRS)()
        raises(ringcore.EmptyRingError, EMPTY.route, array)()
        raises(ringcore.EmptyRingError, EMPTY.route, text)()
        raises(ringcore.EmptyRingError, EMPTY.route_hashes, array)()
        raises(ringcore.EmptyRingError, EMPTY.get_node, STRS[0])()
        raises(ringcore.EmptyRingError, EMPTY.get_nodes, STRS[0], 1)()
    return call, [EMPTY, array, text, STRS, STRS[0]]


@case("error: bad n")
def _():
    key = STRS[7]

    def call():
        raises(ValueError, RING.get_nodes, key, 0)()
        raises(ValueError, RING.get_nodes, key, 10**6)()
        raises(TypeError, RING.get_nodes, key, 1.5)()
        raises(TypeError, RING.get_nodes, key, "3")()
    return call, [RING, key]


@case("error: bad threads and null")
def _():
    array = INTS

    def call():
        raises(ValueError, RING.route, array, threads=0)()
        raises(TypeError, RING.route, array, threads="2")()
        raises(TypeError, RING.hash_keys, STRS, threads=True)()
        raises(ValueError, RING.route_hashes, HASHES, threads=-1)()
        raises(TypeError, RING.route, array, null="x")()
        raises(ValueError, RING.route, array, null=2**40)()
    return call, [array, STRS, HASHES, RING]


@case("error: bad batches")
def _():
    floats = np.linspace(0, 1, N)
    masked = np.ma.array(INTS, mask=[i % 2 for i in range(N)])
    frame = pandas().DataFrame({"a": STRS})

    def call():
        raises(TypeError, RING.route, floats)()
        raises(TypeError, RING.route, masked)()
        raises(TypeError, RING.route, STRS[0])()
        raises(TypeError, RING.route, frame)()
        raises(TypeError, RING.route, 12)()
    return call, [floats, masked, frame, STRS[0]]


@case("error: bad hashes")
def _():
    negative = -INTS
    with_float = [1, 2, 3.5]
    too_big = [1, 2**64]

    def call():
        raises(ValueError, RING.route_hashes, negative)()
        raises(TypeError, RING.route_hashes, with_float)()
        raises(ValueError, RING.route_hashes, too_big)()
        raises(TypeError, RING.route_hashes, b"bytes")()
    return call, [negative, with_float, too_big, too_big[1]]


@case("error: bad single keys")
def _():
    bad = 2.5 + len(STRS)

    def call():
        raises(TypeError, RING.get_node, bad)()
        raises(TypeError, RING.get_node, None)()
        raises(TypeError, RING.get_nodes, [1], 2)()
    return call, [bad]


@case("error: bad updates")
def _():
    ring = ringcore.HashRing({f"n{i}": 1.0 for i in range(4)}, vnodes=20)
    missing = "missing-" + str(len(STRS))

    def call():
        raises(KeyError, ring.remove_node, missing)()
        raises(ValueError, ring.add_node, "n1")()
        raises(ValueError, ring.add_node, missing, -1.0)()
        raises(TypeError, ring.add_node, 42)()
        raises(UnicodeEncodeError, ring.add_node, SURROGATE)()
        raises(ValueError, ring.add_node, "")()
    return call, [ring, missing, SURROGATE]


# -- main -------------------------------------------------------------------------------------


def smallest(deltas: list[dict]) -> dict:
    """Per measure, the smallest growth over the windows: a leak grows in
    every window, a cache that fills up once does not."""
    out = {}
    for key in deltas[0]:
        if key == "refs":
            out[key] = [min(d[key][i] for d in deltas) for i in range(len(deltas[0][key]))]
        elif deltas[0][key] is None:
            out[key] = None
        else:
            out[key] = min(d[key] for d in deltas)
    return out


def run(loops: int, names: list[str], windows: int = 3) -> dict:
    results: dict = {}
    built = {}
    for name in names:
        try:
            made = CASES[name]()
        except ImportError as err:
            made, reason = None, f"needs {err.name}"
        else:
            reason = "not available here"
        if made is None:
            results[name] = {"skipped": reason}
        else:
            built[name] = made
    # Warm every case first (caches, lazy imports, the thread pool), then
    # measure each in turn: warm it again, then `windows` windows of `loops`
    # calls each, with a snapshot between windows.
    for call, _ in built.values():
        for _ in range(20):
            call()
    gc.collect()
    # What exists now (modules, caches, the cases' inputs) is never garbage:
    # set it aside, so that each collection below scans only the new objects.
    gc.freeze()
    start_rss = rss()
    started = time.monotonic()
    for name, (call, objects) in built.items():
        for _ in range(max(20, loops // 4)):
            call()
        gc.collect()
        before = snapshot(objects)
        deltas = []
        t0 = time.monotonic()
        for _ in range(windows):
            for _ in range(loops):
                call()
            gc.collect()
            after = snapshot(objects)
            deltas.append(delta(before, after))
            before = after
        results[name] = {"loops": loops, "windows": windows,
                         "seconds": round(time.monotonic() - t0, 3), **smallest(deltas),
                         "largest_blocks": max(d["blocks"] for d in deltas)}
    gc.collect()
    end_rss = rss()
    results["_summary"] = {
        "loops": loops, "windows": windows, "cases": len(built),
        "calls": len(built) * loops * windows,
        "seconds": round(time.monotonic() - started, 2),
        "rss_growth": None if start_rss is None else end_rss - start_rss,
        "malloc_probe": MALLOC_IN_USE is not None, "python": sys.version.split()[0],
    }
    return results


if __name__ == "__main__":
    loops = int(sys.argv[1])
    names = sys.argv[2:] or list(CASES)
    json.dump(run(loops, names), sys.stdout, indent=1)
