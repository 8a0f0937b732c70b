"""The parts of fuzz_internals.py for the dialects' compiled pieces: MD5,
OAAT and murmur3 against hashlib and the Python models of _dialects.py, over
every bytes-like form; the dialect hashers' key hashes and node points; and
the kernels of jump and rendezvous hashing (ringcore._layout.jump_into,
rendezvous_scores, rendezvous_route) with hostile arguments: other dtypes,
strides, read-only or guarded memory, lengths and offsets out of range, and
outputs that share memory with the inputs. Each answers as the model does or
raises a clean exception, and never writes outside its output."""

from __future__ import annotations

import array
import hashlib

import _dialects
import _keys
import numpy as np
from _compare import check_clean, run, same
from _driver import CLEAN, Finding, note
from guarded import Guarded, guarded_array

from ringcore._keys import (
    HASH_MD5_LOW32,
    HASH_OAAT,
    POINTS_KETAMA,
    POINTS_OAAT_NAME_I,
    Hasher,
    md5,
    xxh3_64,
)
from ringcore._layout import jump_into, rendezvous_route, rendezvous_scores
from ringcore.dialects import get_dialect

MD5_LENGTHS = (0, 1, 3, 4, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000)
DIALECT_HASHERS = {
    "md5": Hasher(HASH_MD5_LOW32, POINTS_KETAMA, 32),
    "oaat": Hasher(HASH_OAAT, POINTS_OAAT_NAME_I, 32),
    "oaat-weighted": Hasher(HASH_OAAT, POINTS_KETAMA, 32),
}


def bytes_like(r, raw: bytes):
    """raw in some bytes-like form, the bytes a reader of it must see (None:
    it must be refused), and a description."""
    form = r.int(0, 13)
    if form == 0:
        return raw, raw, "bytes"
    if form == 1:
        return bytearray(raw), raw, "bytearray"
    if form == 2:
        return memoryview(raw), raw, "memoryview"
    if form == 3:
        memory = Guarded(raw, at_start=r.bool(), readonly=r.bool())
        return memory.memoryview(), raw, "guarded memoryview"
    if form == 4:
        return Guarded(raw, at_start=r.bool()).numpy(), raw, "guarded numpy"
    if form == 5:
        step = r.pick((2, 3, -1, -2))
        return memoryview(raw)[::step], raw[::step], f"memoryview[::{step}]"
    if form == 6:
        code = r.pick("hHiIqQd")
        values = array.array(code)
        cut = raw[: len(raw) // values.itemsize * values.itemsize]
        values.frombytes(cut)
        return values, cut, f"array.array({code!r})"
    if form == 7:
        cut = raw[: len(raw) // 4 * 4]
        a = np.frombuffer(cut, dtype=r.pick(("<u4", ">i4", "<f4")))
        if r.bool() and a.size >= 2:
            a = a[::2]
            return a, a.tobytes(), "numpy 4-byte [::2]"
        return a, cut, "numpy 4-byte"
    if form == 8:
        cut = raw[: len(raw) // 2 * 2]
        a = np.frombuffer(cut, dtype=np.uint8).reshape(2, -1) if cut else np.zeros((2, 0), np.uint8)
        if r.bool():
            a = a.T
        return a, a.tobytes(), "numpy 2-D"
    if form == 9:
        b = np.frombuffer(raw, dtype=np.uint8).copy()
        b.flags.writeable = False
        return b, raw, "read-only numpy"
    if form == 10:
        view = memoryview(raw)
        view.release()
        return view, None, "released memoryview"
    if form == 11:
        text = raw.decode("latin-1")
        return text, None, "str"
    if form == 12:
        return Guarded(raw).arrow(), raw, "arrow buffer"
    junk = r.pick((None, 5, 1.5, [1, 2], _keys.BytesDunder(raw), _keys.BytesClassInt(raw)))
    if isinstance(junk, bytes):
        return junk, raw, type(junk).__name__  # a bytes subclass: its value
    return junk, None, repr(junk)


def digests(r) -> None:
    """md5 and xxh3_64 of a bytes-like object; the dialect hashers' key
    hashes and node points against the models."""
    length = r.pick(MD5_LENGTHS) + (r.int(-1, 1) if r.chance(3) else 0)
    seed = r.blob(16) or b"\x80"
    raw = (seed * (max(length, 0) // len(seed) + 1))[: max(length, 0)]
    data, expected, form = bytes_like(r, raw)
    what = lambda: f"md5({form} of {raw[:40]!r}... ({len(raw)} bytes))"  # noqa: E731
    note(what)
    for fn, model in ((md5, lambda b: hashlib.md5(b).digest()),
                      (xxh3_64, lambda b: __import__("xxhash").xxh3_64_intdigest(b))):
        got = run(fn, data)
        check_clean(what, got)
        if expected is None:
            if got[1] is None:
                raise Finding(f"{what()}\n  {fn.__name__} took it: {got[0]!r}")
            if form == "str" and not isinstance(got[1], TypeError):
                raise Finding(f"{what()}\n  a str gave {got[1]!r}, not TypeError")
        elif got[1] is not None or not same(got[0], model(expected)):
            raise Finding(f"{what()}\n  {fn.__name__} gave {got!r}, expected {model(expected)!r}")

    key = _keys.key(r, hooks=r.chance(4))
    for name in ("ketama", "libmemcached", "libmemcached-weighted"):
        hasher = get_dialect(name).hasher
        ours = run(hasher.hash_key, key)
        theirs = run(_dialects.key_hash, name, key)
        if not (same(ours[0], theirs[0]) and type(ours[1]) is type(theirs[1])):
            raise Finding(f"{name} hash_key({key!r}): {ours!r}, model {theirs!r}")

    name = r.pick((b"a", "é".encode(), b"10.0.0.1", b"", r.blob(12), b"x" * 300, "a", None))
    count = r.pick((0, 1, 3, 4, 8, 100, 160, -1, 5, 2**32, 1.5, None))
    kind = r.pick(tuple(DIALECT_HASHERS))
    what = lambda: f"Hasher[{kind}].node_points({name!r}, {count!r})"  # noqa: E731
    note(what)
    got = run(DIALECT_HASHERS[kind].node_points, name, count)
    check_clean(what, got, CLEAN + (MemoryError,))
    if got[1] is None:
        n = int(count)
        if type(name) is not bytes:
            raise Finding(f"{what()}\n  took a name that is not bytes")
        if kind == "oaat":
            expected = [_dialects.oaat(name + b"-" + str(i).encode()) for i in range(n)]
        else:
            if n % 4:
                raise Finding(f"{what()}\n  placed {n} ketama points, not a multiple of 4")
            expected = [p for i in range(n // 4)
                        for p in _dialects._four(hashlib.md5(name + b"-" + str(i).encode()).digest())]
        if got[0].dtype != np.uint64 or got[0].tolist() != expected:
            raise Finding(f"{what()}\n  gave {got[0].tolist()[:8]}..., model {expected[:8]}...")


# -- the jump and rendezvous kernels ------------------------------------------------------


def _hostile(r, a: np.ndarray):
    """a, or a in other memory or form (the kernels take C-contiguous arrays
    of one dtype): guarded, strided, another dtype, read-only, a list, None."""
    how = r.int(0, 9)
    if how == 0:
        return guarded_array(a, at_start=r.bool())
    if how == 1:
        return np.repeat(a, 2)[::2]
    if how == 2:
        return a.astype(r.pick((np.int64, np.uint32, np.int32, np.float64, ">u8", np.uint64)))
    if how == 3:
        b = a.copy()
        b.flags.writeable = False
        return b
    if how == 4:
        return r.pick((None, a.tolist(), a.reshape(1, -1), a.tobytes(), memoryview(a)))
    return a


def _plain(arg, dtype) -> np.ndarray | None:
    """The values a kernel must read from arg if it takes it: an exact-dtype
    1-D C-contiguous array or memoryview of one (any memory, read-only too
    for inputs)."""
    if isinstance(arg, memoryview):
        arg = np.asarray(arg)
    if isinstance(arg, np.ndarray) and arg.dtype == np.dtype(dtype) and arg.ndim == 1 and \
            arg.flags.c_contiguous:
        return arg.copy()
    return None


def _out(r, n: int, dtype):
    """An output: fresh, guarded, the wrong length, dtype or memory, read-only."""
    how = r.int(0, 8)
    if how == 0:
        return guarded_array(np.full(n, 77, dtype), at_start=r.bool())
    if how == 1:
        return np.full(n + r.pick((1, -1)), 77, dtype) if n else np.full(1, 77, dtype)
    if how == 2:
        return np.full(n, 77, r.pick((np.int64, np.uint32, np.int32, np.uint64)))
    if how == 3:
        b = np.full(n, 77, dtype)
        b.flags.writeable = False
        return b
    if how == 4:
        return np.full(2 * n, 77, dtype)[::2]
    return np.full(n, 77, dtype)


def jump_kernel(r) -> None:
    keys = np.array([r.int(0, 2**64 - 1) if r.int(0, 3) else r.pick(_keys.EDGE_INTS) % 2**64
                     for _ in range(r.int(0, 8))], dtype=np.uint64)
    buckets = r.pick((1, 2, 3, 10, 2**31 - 1, 0, -1, -(2**31), 2**31, 2**64, True, 2.0, None,
                      np.int64(7))) if r.chance(3) else r.int(1, 100)
    keys_arg = _hostile(r, keys)
    shared = bool(r.chance(6) and len(keys)) and isinstance(keys_arg, np.ndarray) and \
        keys_arg.dtype == np.uint64 and keys_arg.flags.c_contiguous and keys_arg.flags.writeable
    # out over the keys' own memory, or an output of its own
    out = keys_arg.view(np.int32)[: len(keys)] if shared else _out(r, len(keys), np.int32)
    what = lambda: f"jump_into({keys.tolist()} as {type(keys_arg).__name__}, {buckets!r}, out of {getattr(out, 'dtype', None)} {np.shape(out)})"  # noqa: E501, E731
    note(what)
    before = out.copy() if isinstance(out, np.ndarray) else None
    got = run(jump_into, keys_arg, buckets, out)
    check_clean(what, got)
    read = _plain(keys_arg, np.uint64)
    valid_out = isinstance(out, np.ndarray) and out.dtype == np.int32 and out.ndim == 1 and \
        out.flags.c_contiguous and out.flags.writeable and len(out) == len(keys)
    # (Cython takes bools and truncates floats for a C int)
    valid_buckets = type(buckets) in (int, bool, float, np.int64) and 1 <= int(buckets) <= 2**31 - 1
    valid = read is not None and valid_out and valid_buckets
    if got[1] is None:
        if not valid:
            raise Finding(f"{what()}\n  took invalid arguments")
        if shared:
            if not all(0 <= v < int(buckets) for v in out.tolist()):
                raise Finding(f"{what()}\n  wrote buckets out of range: {out.tolist()}")
            return
        expected = [_dialects.jump(v, int(buckets)) for v in read.tolist()]
        if out.tolist() != expected:
            raise Finding(f"{what()}\n  gave {out.tolist()}, model {expected}")
    else:
        if valid:
            raise Finding(f"{what()}\n  refused valid arguments: {got[1]!r}")
        if before is not None and not np.array_equal(out, before) and out.flags.writeable:
            raise Finding(f"{what()}\n  failed, but wrote its output")


def _texts(r) -> list:
    return [r.pick((b"a", b"b", "é".encode("latin-1"), b"n1", b"", b"x" * 40, r.blob(6)))
            for _ in range(r.int(0, 5))]


def rendezvous_kernels(r) -> None:
    names = _texts(r)
    blob = b"".join(names)
    offsets = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum([len(n) for n in names], out=offsets[1:])
    if r.chance(4) and len(offsets) > 1:  # offsets out of range or decreasing
        offsets[r.int(0, len(offsets) - 1)] = r.pick((-1, len(blob) + 1, 2**62, -(2**63), 0))
    key = r.blob(12) if r.int(0, 5) else r.pick(("str", None, bytearray(b"k"), b"k" * 300))
    offsets_arg = _hostile(r, offsets)
    shared = r.chance(5) and len(names)
    if shared and isinstance(offsets_arg, np.ndarray) and offsets_arg.dtype == np.int64 and \
            offsets_arg.flags.c_contiguous and offsets_arg.flags.writeable:
        out = offsets_arg.view(np.uint32)[1 : 1 + len(names)]  # over the offsets
    else:
        shared = False
        out = _out(r, len(names), np.uint32)
    what = lambda: f"rendezvous_scores({blob!r}, {offsets.tolist()} as {type(offsets_arg).__name__}, {key!r}, out {getattr(out, 'dtype', None)} {np.shape(out)}; shared={bool(shared)})"  # noqa: E501, E731
    note(what)
    read = _plain(offsets_arg, np.int64)
    got = run(rendezvous_scores, blob, offsets_arg, key, out)
    check_clean(what, got)
    good_offsets = read is not None and len(read) == len(names) + 1 and all(
        0 <= read[i] <= read[i + 1] <= len(blob) for i in range(len(names)))
    valid_out = isinstance(out, np.ndarray) and out.dtype == np.uint32 and out.ndim == 1 and \
        out.flags.c_contiguous and out.flags.writeable and len(out) == len(names)
    valid = good_offsets and valid_out and type(key) is bytes
    if (got[1] is None) != valid:
        raise Finding(f"{what()}\n  gave {got!r}, valid arguments: {valid}")
    if valid:
        expected = [_dialects.murmur3_32(blob[read[i]:read[i + 1]] + b"-" + key)
                    for i in range(len(names))]
        if out.tolist() != expected:
            raise Finding(f"{what()}\n  gave {out.tolist()}, model {expected}")

    keys = [r.blob(8) if r.int(0, 7) else r.pick(("s", None, bytearray(b"x"), 5))
            for _ in range(r.int(0, 6))]
    rank = np.arange(len(names), dtype=np.int32)
    r_shuffle = r.int(0, 3)
    if r_shuffle == 1:
        rank = rank[::-1].copy()
    elif r_shuffle == 2 and len(rank):
        rank = np.array([r.int(-(2**31), 2**31 - 1) for _ in rank], dtype=np.int32)
    offsets = np.zeros(len(names) + 1, dtype=np.int64)
    np.cumsum([len(n) for n in names], out=offsets[1:])
    rank_arg, offsets_arg = _hostile(r, rank), _hostile(r, offsets)
    out = _out(r, len(keys), np.int32)
    if r.chance(5) and isinstance(rank_arg, np.ndarray) and rank_arg.dtype == np.int32 and \
            rank_arg.flags.c_contiguous and rank_arg.flags.writeable and len(keys) == len(rank):
        out = rank_arg  # out over the ranks
    what = lambda: f"rendezvous_route({blob!r}, {offsets.tolist()}, {rank.tolist()} as {type(rank_arg).__name__}, {keys!r}, out {getattr(out, 'dtype', None)} {np.shape(out)})"  # noqa: E501, E731
    note(what)
    read_rank = _plain(rank_arg, np.int32)
    read_offsets = _plain(offsets_arg, np.int64)
    got = run(rendezvous_route, blob, offsets_arg, rank_arg, keys, out)
    check_clean(what, got)
    valid_out = isinstance(out, np.ndarray) and out.dtype == np.int32 and out.ndim == 1 and \
        out.flags.c_contiguous and out.flags.writeable and len(out) == len(keys)
    valid = read_rank is not None and read_offsets is not None and valid_out and \
        len(names) > 0 and all(type(k) is bytes for k in keys)
    if (got[1] is None) != valid:
        raise Finding(f"{what()}\n  gave {got!r}, valid arguments: {valid}")
    if valid:
        expected = []
        for k in keys:
            scores = [_dialects.murmur3_32(n + b"-" + k) for n in names]
            expected.append(max(range(len(names)), key=lambda i: (scores[i], read_rank[i], -i)))
        if out.tolist() != expected:
            raise Finding(f"{what()}\n  gave {out.tolist()}, model {expected}")
