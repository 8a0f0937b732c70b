"""Fuzz the Arrow paths: arrays built from arbitrary buffers, and the internal
KeyBatch constructors and kernels called with arbitrary arguments.

Decoding: the first byte chooses the part.

* Public part: the type (string, large_string, binary, large_binary,
  string_view, binary_view, the eight integer types, dictionary, fixed_size_binary,
  null, run-end encoded, an extension type over string, or an unsupported one),
  then each chunk: length, offset, null count, validity bitmap and buffers,
  either well formed (offsets, views) or raw bytes; every buffer is placed at a
  guard page. Then maybe a slice and maybe several chunks. route, route(null=,
  threads=) and hash_keys on the core must answer or raise a clean exception;
  where the array passes validate(full=True), or fails it only for invalid
  UTF-8, the reference must agree.
* Internal part: KeyBatch.from_arrow with a decoded layout, length, offset,
  width, signedness and guarded buffers (edge values included: huge, negative,
  overflowing), or KeyBatch.from_numpy with a decoded array, a lying subclass
  or an object posing as an array; then hash_batch and RingLayout.route_batch_into
  over a decoded range. Anything may be raised but SystemError. A batch that
  is accepted must lie inside its buffers, and its answers must match a
  plain-Python reading of the buffers.
"""

import numpy as np
import pyarrow as pa
import xxhash

import _driver

with _driver.instrumented():
    import _arrays
    import _keys
    import ringcore
    from ringcore import reference
    from ringcore._keys import KeyBatch
    from ringcore.dialects import DEFAULT

    hash_batch = DEFAULT.hasher.hash_batch

from _compare import agree, check_clean, clip, run, safe_repr, same
from _driver import Finding
from guarded import Guarded

RING_NODES, RING_VNODES = ("a", "b", "c"), 4
CORE = ringcore.HashRing(RING_NODES, vnodes=RING_VNODES)
REF = reference.HashRing(RING_NODES, vnodes=RING_VNODES)
EMPTY = ringcore.HashRing([])
EMPTY_REF = reference.HashRing([])

INT_TYPES = (pa.int8(), pa.int16(), pa.int32(), pa.int64(),
             pa.uint8(), pa.uint16(), pa.uint32(), pa.uint64())
OFFSET_TYPES = (pa.string(), pa.binary(), pa.large_string(), pa.large_binary())
VIEW_TYPES = tuple(getattr(pa, f)() for f in ("string_view", "binary_view") if hasattr(pa, f))
TEXT_TWINS = {pa.string(): pa.binary(), pa.large_string(): pa.large_binary(),
              **({VIEW_TYPES[0]: VIEW_TYPES[1]} if VIEW_TYPES else {})}
NULLS = (None, -1, 0, 2, 2**31, True)
THREADS = (None, 1, 2, 3, 0, 2.0)


class Labels(pa.ExtensionType):
    """An extension type over string, as a user-defined key column would be."""

    def __init__(self):
        super().__init__(pa.string(), "ringcore.fuzz.labels")

    def __arrow_ext_serialize__(self):
        return b""

    @classmethod
    def __arrow_ext_deserialize__(cls, storage_type, serialized):
        return cls()


def guarded(r, data: bytes) -> pa.Buffer:
    return Guarded(data, at_start=r.chance(4)).arrow()


def lent(r, data: bytes):
    """Guarded memory as any buffer exporter KeyBatch.from_arrow takes."""
    memory = Guarded(data, at_start=r.chance(4))
    kind = r.int(0, 5)
    if kind == 0:
        return memory.memoryview()
    if kind == 1:
        return memory.numpy()
    return memory.arrow()


# -- public part: arrays from arbitrary buffers -----------------------------------


def arrow_type(r):
    kind = r.int(0, 15)
    if kind <= 3:
        return r.pick(OFFSET_TYPES)
    if kind <= 5:
        return r.pick(VIEW_TYPES or OFFSET_TYPES)
    if kind <= 8:
        return r.pick(INT_TYPES)
    if kind == 9:
        return pa.dictionary(r.pick(INT_TYPES), r.pick((pa.string(), pa.binary(), pa.int32(),
                                                          pa.large_string()) + VIEW_TYPES))
    if kind == 10:
        return pa.binary(r.int(0, 9))  # fixed_size_binary
    if kind == 11:
        return pa.null()
    if kind == 12:
        return pa.run_end_encoded(pa.int32(), r.pick((pa.string(), pa.int64())))
    if kind == 13:
        return Labels()
    return r.pick((pa.bool_(), pa.float64(), pa.date32(), pa.list_(pa.string())))


def validity(r, bits: int):
    if r.int(0, 2):
        return None
    size = (bits + 7) // 8
    if r.chance(8):
        size = r.int(0, size + 2)
    return guarded(r, r.bytes(size).ljust(size, b"\xff"))


def offsets_buffers(r, t, count: int) -> list:
    """Offsets and data buffers for `count` slots: well formed or raw."""
    wide = t in (pa.large_string(), pa.large_binary())
    dtype = np.int64 if wide else np.int32
    if r.int(0, 3):
        start = r.int(0, 3)
        sizes = [r.int(0, 9) for _ in range(count)]
        offsets = np.cumsum([start] + sizes, dtype=dtype)
        data = b"".join(_keys.text(r, 4).encode("utf-8", "surrogatepass") if r.int(0, 3)
                        else r.bytes(6) for _ in range(3))
        data = data.ljust(int(offsets[-1]) + r.int(0, 2), b"x")
    else:
        offsets = np.frombuffer(r.bytes((count + 1) * 8).ljust((count + 1) * 8, b"\0"),
                                dtype=dtype)[: count + 1]
        data = r.blob(40)
    return [guarded(r, offsets.tobytes()), guarded(r, data)]


def view_buffers(r, count: int) -> list:
    """Views and their data buffers for `count` slots: well formed or raw."""
    datas = [r.blob(48) for _ in range(r.int(0, 2))]
    views = bytearray()
    for _ in range(count):
        if r.int(0, 3):
            if datas and r.bool():
                b = r.int(0, len(datas) - 1)
                off = r.int(0, len(datas[b]))
                length = r.int(0, len(datas[b]) - off)
                value = datas[b][off : off + length]
            else:
                b, off, value = 0, 0, r.blob(12)
                length = len(value)
            if length <= 12:
                views += length.to_bytes(4, "little") + value[:length].ljust(12, b"\0")
            else:
                views += (length.to_bytes(4, "little") + value[:4]
                          + b.to_bytes(4, "little") + off.to_bytes(4, "little"))
        else:
            views += r.bytes(16).ljust(16, b"\0")
    return [guarded(r, bytes(views))] + [guarded(r, d) for d in datas]


def dictionary_values(t):
    items = ["a", "b", "é", "🙂", ""]
    if pa.types.is_integer(t):
        return pa.array([0, 1, -1, 2**31 - 1, 5], type=t)
    if pa.types.is_binary(t):
        return pa.array([s.encode() for s in items], type=t)
    return pa.array(items, type=t)


def chunk(r, t):
    """One array of type t from decoded buffers (None if pyarrow refuses)."""
    n, offset = (r.int(0, 16) if r.int(0, 15) else r.int(200, 1100)), r.int(0, 8)
    slots = n + offset
    null_count = r.pick((-1, -1, 0, 1, n))
    if pa.types.is_dictionary(t):
        # the dictionary well formed, or from raw buffers (pyarrow's take trusts them)
        values = dictionary_values(t.value_type) if r.int(0, 2) else chunk(r, t.value_type)
        if values is None:
            return None
        raw = np.frombuffer(r.bytes(n * 8).ljust(n * 8, b"\0"), dtype=np.uint8)[:n]
        # modulo one more than the dictionary's length: some indices out of range
        modulus = max(1, len(values) + r.int(0, 1))
        picks = (raw % modulus).astype(t.index_type.to_pandas_dtype())
        indices = pa.array(picks, type=t.index_type, mask=raw > 200 if r.bool() else None)
        return pa.DictionaryArray.from_arrays(indices, values, safe=r.bool())
    if pa.types.is_run_end_encoded(t):
        if r.bool():  # values from raw buffers; from_buffers checks only the structure
            values = chunk(r, t.value_type)
            if values is None:
                return None
            ends = np.cumsum([r.int(1, 3) for _ in range(len(values))], dtype=np.int32)
            try:
                return pa.Array.from_buffers(t, int(ends[-1]) if len(ends) else 0, [None],
                                             children=[pa.array(ends, pa.int32()), values])
            except (pa.ArrowInvalid, ValueError):
                return None
        ends = np.cumsum([r.int(1, 3) for _ in range(r.int(0, 5))], dtype=np.int32)
        values = (pa.array([_keys.text(r, 4) for _ in ends], type=pa.string())
                  if t.value_type == pa.string() else pa.array(list(range(len(ends))), pa.int64()))
        return pa.RunEndEncodedArray.from_arrays(pa.array(ends, pa.int32()), values)
    if isinstance(t, Labels):
        return pa.ExtensionArray.from_storage(t, chunk(r, pa.string()))
    if t == pa.null():
        return pa.Array.from_buffers(t, n, [None], offset=offset)
    bitmap = validity(r, slots)
    if t in OFFSET_TYPES:
        buffers = [bitmap] + offsets_buffers(r, t, slots)
    elif t in VIEW_TYPES:
        buffers = [bitmap] + view_buffers(r, slots)
    elif pa.types.is_fixed_size_binary(t) or pa.types.is_integer(t):
        width = t.byte_width
        buffers = [bitmap, guarded(r, r.bytes(slots * width).ljust(slots * width, b"\0"))]
    elif t == pa.bool_():
        buffers = [bitmap, guarded(r, r.bytes((slots + 7) // 8).ljust((slots + 7) // 8, b"\0"))]
    elif t == pa.float64() or t == pa.date32():
        width = t.bit_width // 8
        buffers = [bitmap, guarded(r, r.bytes(slots * width).ljust(slots * width, b"\0"))]
    else:
        return pa.array([["a"], None, []][:n], type=t)
    return pa.Array.from_buffers(t, n, buffers, null_count=null_count, offset=offset)


def fully_valid(array) -> bool:
    try:
        array.validate(full=True)
        return True
    except (pa.ArrowException, ValueError, TypeError):
        return False


def only_bad_utf8(array) -> bool:
    """A text array whose only fault is invalid UTF-8 (its binary twin is valid)."""
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    for c in chunks:
        twin = next((b for t, b in TEXT_TWINS.items() if c.type == t), None)
        if twin is None:
            return False
        try:
            c = pa.Array.from_buffers(twin, len(c), c.buffers(), offset=c.offset)
        except (pa.ArrowException, ValueError, TypeError):
            return False
        if not fully_valid(c):
            return False
    return True


def describe_chunks(array) -> list:
    chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
    return [(c.offset, len(c), [b.to_pybytes() if b else None for b in c.buffers()])
            for c in chunks]


def public(r) -> None:
    t = arrow_type(r)
    try:
        chunks = [chunk(r, t) for _ in range(r.pick((1, 1, 1, 2, 3)))]
        array = chunks[0] if len(chunks) == 1 and r.int(0, 2) else pa.chunked_array(chunks, type=t)
        if r.chance(4) and len(array):
            start = r.int(0, len(array))
            array = array.slice(start, r.int(0, len(array) - start))
    except (pa.ArrowException, ValueError, TypeError, IndexError, OverflowError):
        return  # pyarrow refused these buffers
    null, threads = r.pick(NULLS), r.pick(THREADS)
    core, ref = (CORE, REF) if r.int(0, 3) else (EMPTY, EMPTY_REF)
    comparable = fully_valid(array) or only_bad_utf8(array)
    case = lambda: clip(  # noqa: E731
        f"type {t}, ring {core!r}, null={null!r} threads={threads!r}, "
        f"{'valid' if comparable else 'INVALID'} array, chunks as (offset, length, buffers):\n"
        f"{describe_chunks(array)}")
    _driver.note(case)
    calls = (("route(keys)", "route", {}),
             (f"route(keys, null={null!r}, threads={threads!r})", "route",
              {"null": null, "threads": threads}),
             (f"hash_keys(keys, threads={threads!r})", "hash_keys", {"threads": threads}))
    for call, method, kwargs in calls:
        what = lambda: f"{call}\n{case()}"  # noqa: E731
        got = run(getattr(core, method), array, **kwargs)
        check_clean(what, got)
        if comparable:
            agree(what, got, run(getattr(ref, method), array, **kwargs))


# -- internal part: KeyBatch and the kernels ----------------------------------------

SIZES = (0, 1, 2, 3, 7, 8, 9, 16, 255, 2**31 - 1, 2**31, 2**32 + 1, 2**59, 2**60 + 1,
         2**61, 2**62, 2**63 - 2, 2**63 - 1, 2**63, 2**64, -1, -2, -(2**63), -(2**63) - 1)
WIDTHS = (1, 2, 4, 8, 0, 3, 16, -1, 2**31, -(2**31) - 1)
LAYOUTS = ("int", "fixed", "offsets32", "offsets64", "views", "", None, "INT")
SIGNS = (False, True, 0, 2, None, "")


def size(r) -> int:
    return r.int(0, 20) if r.bool() else r.pick(SIZES) + r.int(-1, 1) * r.bool()


def some_buffer(r):
    kind = r.int(0, 9)
    if kind == 0:
        return None
    if kind == 1:
        return r.pick((b"abcd", memoryview(b"abcd"), np.zeros(4, np.uint8), 7, "abcd",
                       memoryview(b"abcdefgh")[::2], np.arange(6, dtype=np.uint16)[::-1],
                       np.zeros((2, 3), np.int32)))
    data = r.blob(160)
    if r.chance(4):
        return lent(r, data)
    buffer = guarded(r, data)
    return buffer.slice(r.int(0, buffer.size)) if r.chance(8) else buffer


def contents(buffer) -> bytes | None:
    """The bytes a buffer lends through the buffer protocol (b"" for None),
    or None when it lends none."""
    if buffer is None:
        return b""
    try:
        return memoryview(buffer).cast("B").tobytes()
    except (TypeError, ValueError):
        return None


def required(layout, n, offset, width) -> int | None:
    """Bytes of the main buffer a batch of n keys at `offset` reaches, as
    Python ints (None: no such layout or width)."""
    if not all(type(v) is int and v >= 0 for v in (n, offset, width)):
        return None
    unit = {"int": width if width in (1, 2, 4, 8) else None, "fixed": width,
            "offsets32": 4, "offsets64": 8, "views": 16}.get(layout)
    if unit is None:
        return None
    extra = 1 if layout in ("offsets32", "offsets64") else 0
    return (offset + n + extra) * unit


def key_bytes(a: dict, j: int):
    """The bytes of slot j, or None when the slot has no valid key."""
    main = contents(a["main"])
    if a["layout"] == "fixed":
        return main[j * a["width"] : (j + 1) * a["width"]]
    if a["layout"] in ("offsets32", "offsets64"):
        unit = 4 if a["layout"] == "offsets32" else 8
        lo = int.from_bytes(main[j * unit : (j + 1) * unit], "little", signed=True)
        hi = int.from_bytes(main[(j + 1) * unit : (j + 2) * unit], "little", signed=True)
        data = contents(a["data"])
        return None if lo < 0 or hi < lo or hi > len(data) else data[lo:hi]
    view = main[16 * j : 16 * j + 16]
    length = int.from_bytes(view[:4], "little", signed=True)
    if length < 0:
        return None
    if length <= 12:
        return view[4 : 4 + length]
    index = int.from_bytes(view[8:12], "little", signed=True)
    at = int.from_bytes(view[12:16], "little", signed=True)
    buffers = [contents(b) for b in a["view_buffers"] or []]
    if index < 0 or index >= len(buffers) or at < 0 or at + length > len(buffers[index]):
        return None
    return buffers[index][at : at + length]


def expected_hashes(a: dict, start: int, stop: int, nulls_allowed: bool) -> tuple:
    """(hashes with None for nulls, None) or (None, (error type, key index))."""
    main, offset = contents(a["main"]), a["offset"]
    bits = contents(a["validity"]) if a["validity"] is not None else None
    out = []
    for i in range(start, stop):
        j = offset + i
        if bits is not None and not (bits[j >> 3] >> (j & 7)) & 1:
            if not nulls_allowed:
                return None, (ringcore.NullKeyError, a["first"] + i)
            out.append(None)
            continue
        if a["layout"] == "int":
            w = a["width"]
            value = int.from_bytes(main[j * w : (j + 1) * w], "little",
                                   signed=bool(a["is_signed"]))
            raw = (value % 2**64).to_bytes(8, "little")
        else:
            raw = key_bytes(a, j)
            if raw is None:
                return None, (ValueError, a["first"] + i)
        out.append(xxhash.xxh3_64_intdigest(raw))
    return out, None


def check_kernel(what, got: tuple, expected: tuple, convert) -> None:
    values, error = expected
    if error is not None:
        err = got[1]
        if type(err) is not error[0] or f"keys[{error[1]}]" not in str(err):
            raise Finding(f"{what()}\n  expected {error[0].__name__} naming keys[{error[1]}], "
                          f"got {type(err).__name__ if err else 'an answer'}: {err}")
    elif got[1] is not None or not same(got[0], convert(values)):
        raise Finding(f"{what()}\n  expected {convert(values)!r}\n  got {got!r}")


def run_kernels(r, batch, a: dict | None, describe, truth=None) -> None:
    """hash_batch and route_batch over a decoded range; check the answers
    against `a` (from_arrow arguments) or `truth` (a real 1-D array)."""
    n = len(batch)
    start = r.int(0, min(n, 40)) if r.int(0, 5) else size(r)
    stop = r.int(start, min(n, start + 40)) if r.int(0, 5) and 0 <= start <= n else size(r)
    good = 0 <= start <= stop <= n and stop - start <= 1000
    length = stop - start if good and r.int(0, 5) else r.int(0, 4)
    allow_nulls, null_owner = r.bool(), r.pick((-1, 0, 7, -(2**31)))
    empty = r.chance(4)
    what = lambda: (f"{describe()}\n  range [{start}, {stop}), out of {length}, "  # noqa: E731
                    f"allow_nulls={allow_nulls} null_owner={null_owner} empty ring={empty}")
    _driver.note(what)
    out64 = np.full(length, 12345, dtype=np.uint64)
    got = run(hash_batch, batch, out64, start, stop)
    check_clean(what, got, Exception)
    out32 = np.full(length, 12345, dtype=np.int32)
    state = (EMPTY if empty else CORE).layout
    routed = run(state.route_batch_into, batch, out32, start, stop, allow_nulls, null_owner)
    check_clean(what, routed, Exception)
    if not good or length != stop - start:
        return
    if a is not None:
        check_kernel(lambda: f"hash_batch: {what()}", (out64 if got[1] is None else None, got[1]),
                     expected_hashes(a, start, stop, False), lambda v: np.array(v, np.uint64))
        hashes, error = expected_hashes(a, start, stop, allow_nulls)
        if empty and start < stop and error is None:
            error = (ringcore.EmptyRingError, None)
        if error is not None and error[0] is ringcore.EmptyRingError:
            if type(routed[1]) is not ringcore.EmptyRingError:
                raise Finding(f"route_batch: {what()}\n  expected EmptyRingError, got {routed!r}")
            return
        owners = lambda v: np.array(  # noqa: E731
            [null_owner if h is None else o
             for h, o in zip(v, REF.route_hashes([h or 0 for h in v]).tolist())], np.int32)
        check_kernel(lambda: f"route_batch: {what()}",
                     (out32 if routed[1] is None else None, routed[1]), (hashes, error), owners)
    elif truth is not None and got[1] is None:
        agree(lambda: f"hash_batch: {what()}", (out64, None),
              run(REF.hash_keys, truth[start:stop]))


def wild_arguments(r) -> dict:
    """Anything: edge lengths and offsets, buffers of any size or kind."""
    a = {"layout": r.pick(LAYOUTS), "n": size(r), "offset": size(r),
         "validity": some_buffer(r) if r.chance(3) else None, "main": some_buffer(r),
         "data": some_buffer(r), "width": r.pick(WIDTHS), "is_signed": r.pick(SIGNS),
         "first": r.pick((0, 0, 5, 2**62, 2**63 - 1, -(2**63), -1))}
    a["view_buffers"] = r.pick((None, [], "list", ("tuple",)))
    if a["view_buffers"] == "list":
        a["view_buffers"] = [some_buffer(r) for _ in range(r.int(0, 3))]
    return a


def fitting_arguments(r) -> dict:
    """A layout with buffers of about the size it needs (sometimes a little
    short) and contents well formed or raw: batches that get accepted."""
    layout = r.pick(("int", "fixed", "offsets32", "offsets64", "views"))
    n, offset, width = r.int(0, 40), r.int(0, 10), r.pick((1, 2, 4, 8, 0, 3, 13))
    slots = n + offset
    a = {"layout": layout, "n": n, "offset": offset, "width": width,
         "is_signed": r.bool(), "first": r.pick((0, 0, 3, 1000)), "data": None,
         "view_buffers": None, "validity": None}
    if r.chance(3):
        size = (slots + 7) // 8 - (r.int(0, 1) if r.chance(8) else 0)
        a["validity"] = lent(r, r.bytes(max(size, 0)).ljust(max(size, 0), b"\xff"))
    if layout in ("int", "fixed"):
        main = r.bytes(slots * width).ljust(slots * width, b"\0")
        a["main"] = lent(r, main[: max(len(main) - (r.int(1, 3) if r.chance(8) else 0), 0)])
    elif layout == "views":
        buffers = view_buffers(r, slots)
        a["main"], a["view_buffers"] = buffers[0], buffers[1:]
    else:
        t = pa.string() if layout == "offsets32" else pa.large_string()
        a["main"], a["data"] = offsets_buffers(r, t, slots)
        if r.chance(8):
            a["main"] = a["main"].slice(0, max(a["main"].size - r.int(1, 8), 0))
    return a


def from_arrow(r) -> None:
    a = wild_arguments(r) if r.chance(3) else fitting_arguments(r)
    describe = lambda: clip(f"KeyBatch.from_arrow({a!r})")  # noqa: E731
    _driver.note(describe)
    made = run(KeyBatch.from_arrow, a["layout"], a["n"], a["offset"], a["validity"], a["main"],
               data=a["data"], view_buffers=a["view_buffers"], width=a["width"],
               is_signed=a["is_signed"], first=a["first"])
    check_clean(describe, made, Exception)
    batch = made[0]
    if batch is None:
        return
    need = required(a["layout"], a["n"], a["offset"], a["width"])
    main, bits = contents(a["main"]), contents(a["validity"])
    short_main = need is None or main is None or len(main) < need
    short_bits = bits is None or (a["validity"] is not None
                                  and len(bits) * 8 < a["offset"] + a["n"])
    if a["n"] and (short_main or short_bits):
        raise Finding(f"{describe()}\n  accepted a batch that reaches past its buffers "
                      f"(main buffer needs {need} bytes)")
    if len(batch) != a["n"]:
        raise Finding(f"{describe()}\n  len(batch) = {len(batch)}")
    run_kernels(r, batch, a if a["n"] and a["n"] <= 10**6 else None, describe)


def from_numpy(r) -> None:
    arr, how = _arrays.array(r)
    kind = r.int(0, 5)
    if kind == 0:
        values, how = _arrays.fake(r), "a FakeArray"
    elif kind == 1:
        values, how = _arrays.odd(r, arr.reshape(-1)), how + " as Odd"
    else:
        values = arr.reshape(-1) if r.int(0, 3) else arr
    first = r.pick((0, 3, 2**63 - 1, -(2**63)))
    describe = lambda: clip(  # noqa: E731
        f"KeyBatch.from_numpy({safe_repr(values)}, first={first}), {how}")
    _driver.note(describe)
    made = run(KeyBatch.from_numpy, values, first)
    check_clean(describe, made, Exception)
    if made[0] is not None:
        truth = None
        if isinstance(values, np.ndarray) and values.ndim == 1 and first == 0:
            truth = np.ndarray.view(values, np.ndarray)
        run_kernels(r, made[0], None, describe, truth)


def test_one_input(data: bytes) -> None:
    r = _driver.Reader(data)
    part = r.int(0, 3)
    if part <= 1:
        public(r)
    elif part == 2:
        from_arrow(r)
    else:
        from_numpy(r)


if __name__ == "__main__":
    _driver.main(test_one_input)
