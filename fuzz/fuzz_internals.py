"""Fuzz the internal state and the compiled functions directly.

Decoding: the first byte chooses the part.

* Pickles: a valid pickle of a core ring, a RingLayout or a reference ring
  (any protocol), or a crafted one (layouts from bad arrays, unknown
  dialects, a Hasher, layouts and rings made without their constructor), with
  up to 6 byte edits (overwrite, insert, delete, or an interesting opcode). An
  unpickler limited to the classes and functions those pickles name loads it:
  it must raise or give an object whose methods raise or answer, never crash;
  a ring or layout that loads must answer lookups as its own points say.
* Layouts from arbitrary arrays: make_layout over points_from_arrays, or
  RingLayout.from_arrays, with decoded names, weights, positions and owners
  (raw or sorted positions, owners in or out of range, wrong dtypes, strided,
  read-only or guarded memory) and decoded (often wrong) other arguments. It
  must raise a clean TypeError / ValueError, or build a layout that holds
  exactly the given points, was given valid ones, and whose route_hashes_into,
  route_list_into, route_batch_into, get_node and get_nodes (also through
  RingBase) and, for a RingLayout, route / route_hashes / hash_keys, agree
  with a numpy searchsorted over the same points. Valid arguments must build;
  points make one layout only.
* Hashing: xxh3_64 on guarded memory of every length class against the
  xxhash package; hash_key and Hasher (decoded constructor arguments, its
  hash_key, pickling) against the reference.
* Lists: Hasher.hash_list, Hasher.hash_batch and hashes_from_list with decoded
  (often wrong) arguments, against plain-Python answers where they are valid.
* Points: Hasher.node_points, place_nodes and sort_placed (any hash_bits, the
  radix paths of long runs; owners that misreport themselves: an ndarray
  subclass's min / max, ints with lying hooks) against XXH3-64(name#j) and a
  stable sort.
* Updates: merge_node and remove_node on a layout built from decoded arrays,
  with decoded new points, owner, tie flags and index, against a plain-Python
  merge and filter; and RingLayout.with_node / without_node against the same.
  The points any of these functions make are read-only, and make a layout
  (which routes right) exactly when their owners are in range for its nodes.
* Unfilled: layouts and rings made without their constructor
  (LayoutBase.__new__, copyreg._reconstructor, RingBase()): every call raises,
  routing valid keys as an empty ring does (EmptyRingError).
* Batch operations: on a layout of no points, a few, a few hundred (owners in
  runs, nodes that own none), a ketama ring (32 bits) or just over
  RC_BIG_POINTS, the entry points of
  ringcore.ops with valid and hostile arguments (other dtypes, strides,
  shapes and kinds, read-only outputs, guarded memory, None, indices and
  counts out of range, capacities of 0 or below, classes of any int32 value):
  route_hashes_into / route_list_into / route_batch_into with indices=True
  against searchsorted(positions, hash) % npoints; replica_rows_of against a
  walk taking the first owner of each class; assign_bounded_into against
  SPEC.md 11 walked point by point (an output over its own starts too);
  take_rows against out[k] = rows[indices[k]] (rows and out that overlap: a
  clean answer only). Arguments a typed memoryview takes give the model's
  answer or its error type; others, a clean error.
"""

import copyreg
import io
import itertools
import pickle
import pickletools

import numpy as np
import xxhash

import _driver

with _driver.instrumented():
    import _keys
    import ringcore
    from ringcore import _config, reference
    from ringcore import layout as layout_module
    from ringcore import ring as ring_module
    from ringcore._keys import (
        HASH_XXH3_64,
        POINTS_NAME_HASH_J,
        Hasher,
        KeyBatch,
        hash_key,
        hashes_from_list,
        xxh3_64,
    )
    from ringcore._layout import (
        POINT_DTYPE,
        LayoutBase,
        RingBase,
        make_layout,
        merge_node,
        place_nodes,
        points_from_arrays,
        remove_node,
        sort_placed,
        take_rows,
        utf8_names,
    )
    from ringcore.dialects import DEFAULT, available_dialects, get_dialect
    from ringcore.layout import RingLayout
    import _dialects
    import _internals_dialects

from _compare import agree, check_clean, clip, run, same, show
from _driver import CLEAN, Finding
from guarded import Guarded, guarded_array

HASHER = DEFAULT.hasher
EMPTY_RING = ringcore.EmptyRingError
MAX_POINTS = 2**31 - 1  # RC_MAX_POINTS

# -- pickles ----------------------------------------------------------------------

MAX_FUZZ_POINTS = 20_000  # larger rings are valid but too slow to build per input


def _weights(nodes) -> list:
    if isinstance(nodes, dict):
        return list(nodes.values())
    return [item[1] if isinstance(item, tuple) and len(item) == 2 else 1.0 for item in nodes]


def _small(nodes, vnodes) -> bool:
    """Whether the ring, and the ring with one more node of weight 1 (what
    exercise() adds), has few enough points to fuzz fast."""
    try:
        total = sum(max(float(w), 0.0) for w in _weights(nodes)) + 1.0
        return float(160 if vnodes is None else vnodes) * total <= MAX_FUZZ_POINTS
    except Exception:  # noqa: BLE001 - let the real code report bad values
        return True


def _few(array) -> bool:
    if isinstance(array, (bytes, bytearray)):  # an array's data
        return len(array) <= 8 * MAX_FUZZ_POINTS
    try:
        return np.size(array) <= MAX_FUZZ_POINTS
    except Exception:  # noqa: BLE001
        return True


def _restore_layout(cls, nodes, vnodes, dialect, positions, owners):
    if not (_small(nodes, vnodes) and _few(positions) and _few(owners)):
        raise pickle.UnpicklingError("ring too large for the fuzzer")
    return layout_module._restore(cls, nodes, vnodes, dialect, positions, owners)


class SmallLayout(RingLayout):
    """RingLayout whose constructor refuses rings too large to fuzz fast (an
    edited pickle may call the class itself)."""

    __slots__ = ()

    def __new__(cls, nodes=(), *, vnodes=160, dialect=None):
        if not _small(nodes, vnodes):
            raise pickle.UnpicklingError("ring too large for the fuzzer")
        return super().__new__(cls, nodes, vnodes=vnodes, dialect=dialect)


class SmallRing(ringcore.HashRing):
    """HashRing whose constructor refuses rings too large to fuzz fast."""

    __slots__ = ()

    def __init__(self, nodes=(), *, vnodes=160, dialect=None):
        if not _small(nodes, vnodes):
            raise pickle.UnpicklingError("ring too large for the fuzzer")
        super().__init__(nodes, vnodes=vnodes, dialect=dialect)


class SmallReferenceRing(reference.HashRing):
    """reference.HashRing whose unpickling refuses rings too large to fuzz fast."""

    def __init__(self, nodes=(), *, vnodes=160):
        if not _small(nodes, vnodes):
            raise pickle.UnpicklingError("ring too large for the fuzzer")
        super().__init__(nodes, vnodes=vnodes)

    def __setstate__(self, state):
        if isinstance(state, dict) and not _small(state.get("nodes", ()), state.get("vnodes", 1)):
            raise pickle.UnpicklingError("ring too large for the fuzzer")
        super().__setstate__(state)


def _latin1(text, encoding="utf-8"):
    """_codecs.encode as protocols 0-2 use it for bytes: latin-1 only."""
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"codec {encoding!r} is not allowed here")
    return __import__("_codecs").encode(text, encoding)


# numpy's arrays as their pickles make them, with every argument checked first:
# numpy's own dtype __setstate__ takes an edited state, returns NULL without an
# exception (a SystemError) and leaves its int32 dtype broken for later calls.
# That is numpy's bug; this harness looks for ringcore's.
DTYPE_STATE = (None, None, None, -1, -1, 0)


class PickledDtype:
    """numpy.dtype(name, align, copy) then __setstate__(state), for plain numbers."""

    def __init__(self, name, align=False, copy=False):
        if not isinstance(name, str):
            raise pickle.UnpicklingError(f"dtype name {name!r}")
        self.dtype = np.dtype(name)
        if self.dtype.kind not in "biuf" or self.dtype.str[1:] != name.lstrip("<>|="):
            raise pickle.UnpicklingError(f"dtype {name!r} is not allowed here")

    def __setstate__(self, state):
        if not (type(state) is tuple and len(state) == 8 and state[0] == 3
                and state[1] in ("<", ">", "|", "=") and state[2:] == DTYPE_STATE):
            raise pickle.UnpicklingError(f"dtype state {state!r}")
        if state[1] in "<>":
            self.dtype = self.dtype.newbyteorder(state[1])


def _dtype(dtype) -> np.dtype:
    if isinstance(dtype, PickledDtype):
        return dtype.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":  # a round trip's own pickle
        return dtype
    raise pickle.UnpicklingError(f"not a dtype: {dtype!r}")


class PickledArray(np.ndarray):
    """An array unpickled by numpy's _reconstruct, its state checked."""

    def __setstate__(self, state):
        if not (type(state) is tuple and len(state) == 5):
            raise pickle.UnpicklingError("array state")
        version, shape, dtype, fortran, raw = state
        if type(raw) is not bytes or not _few(raw):
            raise pickle.UnpicklingError("array data")
        np.ndarray.__setstate__(self, (version, shape, _dtype(dtype), fortran, raw))


def _reconstruct(subtype, shape, typecode):
    if subtype is not np.ndarray and subtype is not PickledArray:
        raise pickle.UnpicklingError(f"_reconstruct of {subtype!r}")
    if shape != (0,) or typecode != b"b":
        raise pickle.UnpicklingError("_reconstruct arguments")
    return np.ndarray.__new__(PickledArray, (0,), np.int8)


def _frombuffer(buf, dtype, shape, order, axis_order=None):
    """numpy._core.numeric._frombuffer (protocol 5), without axis orders."""
    if axis_order is not None or type(shape) is not tuple or not _few(buf):
        raise pickle.UnpicklingError("_frombuffer arguments")
    return np.frombuffer(buf, dtype=_dtype(dtype)).reshape(shape, order=order)


REAL = None  # looked up by pickle's own find_class (__builtin__ names of protocols 0-2)

ALLOWED = {
    ("ringcore.ring", "_restore"): ring_module._restore,
    ("ringcore.ring", "HashRing"): SmallRing,
    ("ringcore", "HashRing"): SmallRing,
    ("ringcore.layout", "_restore"): _restore_layout,
    ("ringcore.layout", "RingLayout"): SmallLayout,
    ("ringcore", "RingLayout"): SmallLayout,
    ("ringcore.reference", "HashRing"): SmallReferenceRing,
    ("ringcore.jump", "JumpHash"): ringcore.JumpHash,
    ("ringcore", "JumpHash"): ringcore.JumpHash,
    ("ringcore.rendezvous", "RendezvousHash"): ringcore.RendezvousHash,
    ("ringcore", "RendezvousHash"): ringcore.RendezvousHash,
    ("ringcore.dialects", "get_dialect"): get_dialect,
    ("ringcore._layout", "LayoutBase"): LayoutBase,
    ("ringcore._layout", "RingBase"): RingBase,
    ("ringcore._keys", "KeyBatch"): KeyBatch,
    ("ringcore._keys", "Hasher"): Hasher,
    ("copyreg", "_reconstructor"): copyreg._reconstructor,
    ("copyreg", "__newobj__"): copyreg.__newobj__,
    ("copy_reg", "_reconstructor"): copyreg._reconstructor,
    ("copy_reg", "__newobj__"): copyreg.__newobj__,
    ("_codecs", "encode"): _latin1,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): PickledDtype,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("__builtin__", "bytes"): REAL,
    ("__builtin__", "object"): REAL,
    ("builtins", "bytes"): bytes,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "object"): object,
    ("builtins", "dict"): dict,
    ("builtins", "list"): list,
    ("builtins", "tuple"): tuple,
    ("builtins", "float"): float,
}


class Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            found = ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed here") from None
        return super().find_class(module, name) if found is REAL else found


class Crafted:
    """Pickles as fn(*args) (and state, when given): pickles no public API makes."""

    def __init__(self, fn, *args, state=None):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)


class CraftedNew(Crafted):
    """Pickles as cls.__new__(cls) (NEWOBJ from protocol 2), then the state."""

    def __init__(self, cls, state=None):
        super().__init__(copyreg.__newobj__, cls, state=state)

    @property
    def __class__(self):  # pickle checks that NEWOBJ makes the object's own class
        return self.args[0]


def _crafted_layout(nodes, positions, owners, vnodes=2, dialect=None):
    return Crafted(layout_module._restore, RingLayout, nodes, vnodes,
                   {"id": "ringcore"} if dialect is None else dialect, positions, owners)


def _crafted() -> list:
    u64, i32 = np.uint64, np.int32
    two = [("a", 1.0), ("b", 1.0)]
    good = _crafted_layout(two, np.array([5, 9, 2**64 - 1], u64), np.array([1, 0, 1], i32))
    unfilled = CraftedNew(LayoutBase)
    return [
        good,
        _crafted_layout(two, np.array([9, 5], u64), np.array([0, 1], i32)),          # unsorted
        _crafted_layout(two, np.array([5, 9], u64), np.array([0, 2], i32)),          # bad owner
        _crafted_layout(two, np.array([5, 9], u64), np.array([-1, 0], i32)),
        _crafted_layout(two, np.array([5, 9], u64), np.array([0], i32)),             # lengths
        _crafted_layout(two, [1, 2, 2**64 - 1], [0, 1, 0]),                          # lists
        _crafted_layout(two, np.array([1.5, 2e19]), np.array([0, 1], np.int64)),
        _crafted_layout(two, np.array([[1, 2]], u64), np.array([[0, 1]], i32)),      # 2-D
        _crafted_layout(two, np.array([3, 3, 3], u64)[::-1], np.array([1, 0, 1], i32)),
        _crafted_layout([], np.array([1], u64), np.array([0], i32)),                 # no nodes
        _crafted_layout([], np.zeros(0, u64), np.zeros(0, i32)),
        _crafted_layout([("a", 1.0)], np.array([0, 2**63], u64), np.array([0, 0], i32),
                        dialect={"id": "nope"}),
        _crafted_layout([("a", 1.0)], np.array([7], u64), np.array([0], i32), dialect="ringcore"),
        _crafted_layout([("a", -1.0)], np.array([7], u64), np.array([0], i32)),
        _crafted_layout([("a", 1.0), ("a", 1.0)], np.array([7], u64), np.array([1], i32)),
        Crafted(ring_module._restore, ringcore.HashRing, good),
        Crafted(ring_module._restore, RingLayout, good),
        Crafted(ring_module._restore, ringcore.HashRing, 5),
        Crafted(ring_module._restore, ringcore.HashRing, unfilled),
        Crafted(Hasher, HASH_XXH3_64, POINTS_NAME_HASH_J, 64),
        Crafted(Hasher, HASH_XXH3_64, POINTS_NAME_HASH_J, 32),
        Crafted(get_dialect, "ringcore"),
        Crafted(get_dialect, {"id": "ringcore", "x": 1}),
        unfilled,
        CraftedNew(RingBase),
        Crafted(copyreg._reconstructor, RingLayout, LayoutBase, None),
        # A HashRing whose layout was set to an unfilled one by the pickle's BUILD
        CraftedNew(ringcore.HashRing, state=(None, {"_layout": unfilled})),
        # dialect layouts: points past the 32-bit ring, ties, an unknown id
        _crafted_layout(two, np.array([5, 2**32], u64), np.array([0, 1], i32),
                        dialect={"id": "ketama"}),
        _crafted_layout(two, np.array([5, 5, 2**32 - 1], u64), np.array([1, 0, 1], i32),
                        dialect={"id": "libmemcached"}),
        _crafted_layout(two, np.array([0, 7], u64), np.array([0, 1], i32),
                        dialect={"id": "libmemcached-weighted"}, vnodes=None),
        _crafted_layout(two, np.array([0, 7], u64), np.array([0, 1], i32), dialect="ketama"),
        Crafted(get_dialect, {"id": "libmemcached"}),
        # JumpHash / RendezvousHash: bad node lists, and states set past the constructor
        Crafted(ringcore.JumpHash, ["a", "a"]),
        Crafted(ringcore.JumpHash, {"a": 1.0}),
        Crafted(ringcore.RendezvousHash, "ab"),
        Crafted(ringcore.RendezvousHash, ["a", "", "b"]),
        Crafted(ringcore.JumpHash, ["\ud800"]),
        CraftedNew(ringcore.JumpHash, state=(None, {"_nodes": ("a", "a", "b"), "_index": {"a": 7}})),
        CraftedNew(ringcore.JumpHash, state=(None, {"_nodes": "abc", "_index": None})),
        CraftedNew(ringcore.JumpHash),
        CraftedNew(ringcore.RendezvousHash),
        CraftedNew(ringcore.RendezvousHash, state=(None, {
            "_nodes": ("a", "b"), "_index": {"a": 0, "b": 1}, "_text": b"ab",
            "_offsets": np.array([0, 5, 1], np.int64), "_rank": np.array([0, 1], i32)})),
        CraftedNew(ringcore.RendezvousHash, state=(None, {
            "_nodes": ("a", "b", "c"), "_index": {}, "_text": "ab",
            "_offsets": np.array([0, 1, 2], np.int64), "_rank": np.array([0], np.int64)})),
    ]


PICKLED = [
    pickle.dumps(obj, protocol=protocol)
    for obj in [cls(nodes, vnodes=vnodes)
                for cls in (ringcore.HashRing, RingLayout, reference.HashRing)
                for nodes, vnodes in ((["a", "b"], 3), ({"é": 0.5, "🙂#1": 2.0}, 4), ([], 2))]
    + [cls(nodes, vnodes=vnodes, dialect=dialect)
       for cls in (ringcore.HashRing, RingLayout)
       for nodes, vnodes, dialect in (
           (["10.0.0.1:11211", "b:1"], None, "libmemcached"), ({"a": 1.0, "é": 3.0}, 2, "ketama"),
           ({"a:11211": 2.0, "b": 1.0}, None, "libmemcached-weighted"), ([], None, "ketama"))]
    + [cls(nodes) for cls in (ringcore.JumpHash, ringcore.RendezvousHash)
       for nodes in (["a", "b", "é"], [], ["🙂#1"])]
    + _crafted()
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1)
]
OPCODES = (b"R", b"b", b"\x81", b"\x93", b"}", b"]", b")", b"(", b"t", b"s", b"u", b"K\xff",
           b"J\xff\xff\xff\x7f", b"G\x7f\xf0\x00\x00\x00\x00\x00\x00", b"N", b"\x88", b"0", b"2")


def mutate(r, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(r.int(0, 6)):
        at = r.int(0, len(out))
        kind = r.int(0, 3)
        if kind == 0 and at < len(out):
            out[at] = r.byte()
        elif kind == 1:
            out[at:at] = r.blob(4)
        elif kind == 2:
            del out[at : at + r.int(1, 8)]
        else:
            out[at:at] = r.pick(OPCODES)
    return bytes(out)


def exercise(what, obj) -> None:
    """Use whatever came out of a pickle: any exception, no crash."""
    calls = (
        lambda: (obj.nodes, obj.weights, obj.vnodes, len(obj), "a" in obj, repr(obj)),
        lambda: (obj.names, obj.node_weights, obj.index, obj.dialect, obj.hasher, obj.table),
        lambda: (obj.layout, obj._layout),
        lambda: obj.get_node("key"),
        lambda: obj.get_nodes(b"key", 1),
        lambda: obj.route(["a", 1, b"b"], null=-1),
        lambda: obj.route(np.arange(5, dtype=np.uint64), threads=2),
        lambda: obj.route_hashes([0, 2**64 - 1]),
        lambda: obj.hash_keys(["a", 7]),
        lambda: obj.route_hashes_into(np.array([0, 2**64 - 1], np.uint64), np.zeros(2, np.int32)),
        lambda: obj.route_list_into(["a", None], np.zeros(2, np.int32), True, -1),
        lambda: obj.route_batch_into(KeyBatch.from_numpy(np.arange(3)), np.zeros(3, np.int32),
                                     0, 3),
        lambda: obj.route_hashes_into(np.array([0, 2**64 - 1], np.uint64), np.zeros(2, np.int32),
                                      True),
        lambda: obj.route_list_into(["a", None], np.zeros(2, np.int32), True, -1, True),
        lambda: obj.route_batch_into(KeyBatch.from_numpy(np.arange(3)), np.zeros(3, np.int32),
                                     0, 3, False, -1, True),
        lambda: obj.replica_rows_of(1, np.zeros(len(obj.names), np.int32)),
        lambda: obj.replica_rows_of(len(obj.names), np.arange(len(obj.names), dtype=np.int32)),
        lambda: obj.assign_bounded_into(np.array([0, -1, 0], np.int32),
                                        np.full(len(obj.names), 2, np.int64), -1,
                                        np.zeros(3, np.int32)),
        lambda: obj.ownership(),
        lambda: (obj.positions.sum(), obj.owners.sum()),
        lambda: merge_node(obj, np.array([1], np.uint64), len(obj.names),
                           np.zeros(len(obj.names), np.uint8)),
        lambda: remove_node(obj, 0),
        lambda: obj.with_node("fuzz-added"),
        lambda: obj.without_node("a"),
        lambda: obj.add_node("fuzz-added"),
        lambda: obj.remove_node("a"),
        lambda: (obj.hash_bits, obj.hash_key("a"), obj.node_points(b"a", 3)),
        lambda: obj == obj,
        lambda: pickle.loads(pickle.dumps(obj)),
        lambda: obj.route(["a", 1, b"b"]),
        lambda: obj.route(np.arange(3, dtype=np.uint64).reshape(1, 3)),
        lambda: obj.scores("k"),
        lambda: obj.get_nodes(7, 2),
        lambda: obj.diff(obj),
        lambda: obj.remove_node(obj.nodes[-1]),
    )
    for call in calls:
        check_clean(what, run(call), Exception)


def cpython_trouble(data: bytes) -> bool:
    """Pickles that only test CPython's unpickler, skipped: malformed ones
    (a truncated bytearray makes CPython 3.11 print a SystemError) and memo
    indices that make it allocate gigabytes."""
    try:
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("PUT", "BINPUT", "LONG_BINPUT") and int(arg) > 10_000:
                return True
    except Exception:  # noqa: BLE001 - any parse error
        return True
    return False


# Python classes an edited pickle can reach. Its BUILD may apply a state to
# a class itself (when the edit removed the call that made the instance), and
# pickle then sets class attributes: JumpHash._index = {...} hides the slot of
# every later JumpHash. That is pickle's way, not ringcore's bug: each pickle
# leaves these classes as it found them.
_REACHABLE = {c for v in ALLOWED.values() if isinstance(v, type) for c in v.__mro__
              if c.__module__ != "builtins" and not c.__module__.startswith("numpy")}
_CLASS_STATE = {c: dict(vars(c)) for c in _REACHABLE}


def _restore_classes() -> None:
    for cls, saved in _CLASS_STATE.items():
        current = vars(cls)
        if current.keys() == saved.keys() and all(current[k] is v for k, v in saved.items()):
            continue
        for key in set(current) - set(saved):
            delattr(cls, key)
        for key, value in saved.items():
            if current.get(key) is not value and key not in ("__dict__", "__weakref__"):
                setattr(cls, key, value)


def pickles(r) -> None:
    try:
        _pickles(r)
    finally:
        _restore_classes()


def _pickles(r) -> None:
    data = mutate(r, r.pick(PICKLED))
    if cpython_trouble(data):
        return
    what = lambda: f"restricted pickle.loads({data!r})"  # noqa: E731
    _driver.note(what)
    loaded = run(lambda: Unpickler(io.BytesIO(data)).load())
    check_clean(what, loaded, Exception)
    if loaded[1] is not None:
        return
    obj = loaded[0]
    exercise(what, obj)
    # A ring or layout that loaded answers as its points say (or, unfilled, as an empty ring).
    if isinstance(obj, ringcore.HashRing):
        got = run(lambda: obj._layout)
        if got[1] is None:
            judge_layout(what, got[0], r)
    elif isinstance(obj, LayoutBase):
        judge_layout(what, obj, r)
    elif isinstance(obj, RingBase):
        unfilled(r, obj)
    elif isinstance(obj, (ringcore.JumpHash, ringcore.RendezvousHash)):
        judge_placer(what, obj, r)


def judge_placer(what, obj, r) -> None:
    """A JumpHash or RendezvousHash whose state is what its constructor
    makes of its nodes routes as the model of those nodes does."""
    nodes = run(lambda: obj.nodes)
    fresh = run(type(obj), list(nodes[0])) if nodes[1] is None and \
        isinstance(nodes[0], tuple) else (None, TypeError())
    if fresh[1] is not None:
        return
    fresh = fresh[0]
    for slot in type(fresh).__slots__ + ("_nodes", "_index"):
        mine, theirs = run(getattr, obj, slot), getattr(fresh, slot)
        if mine[1] is not None or not same_state(mine[0], theirs):
            return  # a state the constructor does not make: any clean answer
    model = (_dialects.JumpModel if isinstance(obj, ringcore.JumpHash)
             else _dialects.RendezvousModel)(list(nodes[0]))
    keys = _keys.keys(r, 6, hooks=False)
    agree(lambda: f"{what()}\n  route({keys!r})", run(obj.route, keys), run(model.route, keys))


def same_state(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return same(a, b)
    return type(a) is type(b) and a == b


# -- layouts from arbitrary arrays --------------------------------------------------

NAMES = ("a", "b", "é", "🙂", "a#1", "")
GOOD_NAMES = ("a", "b", "é", "🙂", "a#1")  # what RingLayout.from_arrays takes
BAD_NAMES = ("", "\ud800", 1, None, b"x", ("t",), ["unhashable"])
INT32_NULLS = (-1, -5, 0, 3, 2**31 - 1, -(2**31))
REPLICAS = (1, 2, 3, 0, -1, 5, True, 2.0, np.int64(2), None)


def int_array(r, dtype, n: int, lo: int, hi: int, sorted_: bool) -> np.ndarray:
    values = [r.int(lo, hi) for _ in range(n)]
    if sorted_:
        values.sort()
    return np.array(values, dtype=dtype)


def placed(r, a: np.ndarray):
    """The array in some memory and layout, or a wrong kind of argument."""
    how = r.int(0, 12)
    if how == 0:
        return guarded_array(a, at_start=r.bool())
    if how == 1:
        return np.repeat(a, 2)[::2]  # strided
    if how == 2:
        return a.astype(r.pick((np.int64, np.uint32, np.float64, ">u8", np.int8)))
    if how == 3:
        return a.tobytes()
    if how == 4:
        b = a.copy()
        b.flags.writeable = False
        return b
    if how == 5:
        return r.pick((None, list(a.tolist()), a.reshape(1, -1), a.astype(object),
                       memoryview(a), a[:1].reshape(()) if a.size else a, "12"))
    return a


def converted(arg, dtype):
    """The array of `dtype` the core must make of an argument, as (array, None),
    or (None, error) when it must refuse it: a 1-D array of integers (or of
    objects whose int() is one) that all fit the dtype, or an empty one; no
    value may wrap in a cast (SPEC: arrays are read by value)."""
    return run(_model_ints, arg, dtype)


def _model_ints(arg, dtype):
    info = np.iinfo(dtype)
    array = np.asarray(arg)
    if array.ndim != 1:
        raise ValueError("not 1-D")
    if len(array) == 0:
        return np.empty(0, dtype=dtype)
    if array.dtype.kind == "O":
        values = [int(v) for v in array.tolist()]
    elif array.dtype.kind in "iu":
        values = array.tolist()
    else:
        raise TypeError(f"not integers: {array.dtype}")
    if not all(info.min <= v <= info.max for v in values):
        raise ValueError("out of range")
    return np.array(values, dtype=dtype)


def held(arg, original: np.ndarray) -> np.ndarray:
    """The values a typed-memoryview argument holds if the core takes it: the
    original's (the same array, or a copy in other memory), or none for None
    (Cython reads a None memoryview as empty)."""
    return np.empty(0, original.dtype) if arg is None else original


def lookup(positions: np.ndarray, owners: np.ndarray, hashes) -> list:
    """SPEC.md 5: the owner of the first point at or after each hash, wrapping
    to point 0: numpy's searchsorted over the ring's uint64 positions."""
    hashes = np.asarray(hashes, dtype=np.uint64)
    at = np.searchsorted(positions, hashes, side="left")
    wrapped = np.where(at == len(positions), 0, at)
    return owners[wrapped].tolist()


def walk(positions: np.ndarray, owners: np.ndarray, h: int, n: int) -> list:
    """The first n distinct owners clockwise from h (fewer if there are not n)."""
    start = int(np.searchsorted(positions, np.uint64(h), side="left")) % len(positions)
    taken: list = []
    for step in range(len(positions)):
        owner = int(owners[(start + step) % len(positions)])
        if owner not in taken:
            taken.append(owner)
            if len(taken) == n:
                break
    return taken


def dialect_hashing(layout) -> tuple:
    """(hashes of a list, hash of one key) by the layout's dialect: the
    reference's for the default one, _dialects' model for the others."""
    name = run(lambda: layout.dialect.name)[0]
    if name in (None, "ringcore"):
        return reference._hashes, reference.hash_key
    return (lambda keys, null, routing: _dialects._hashes(name, keys, null, routing),
            lambda key: _dialects.key_hash(name, key))


def expected_route(positions, owners, keys: list, null, hashes_of=None) -> tuple:
    """The reference outcome of routing a list of keys over these points."""
    hashes = run(hashes_of or reference._hashes, keys, null, True)
    if hashes[1] is not None:
        return hashes
    if not keys:
        return [], None
    if not len(positions):
        return None, EMPTY_RING()
    found = iter(lookup(positions, owners, [h for h in hashes[0] if h is not None]))
    return [null if h is None else next(found) for h in hashes[0]], None


def key_array(r):
    """A small numpy array of keys, and the keys the reference reads in it."""
    n = r.int(0, 8)
    kind = r.int(0, 3)
    if kind == 0:
        dtype = r.pick(_keys.NP_INT_TYPES)
        info = np.iinfo(dtype)
        array = np.array([r.int(int(info.min), int(info.max)) for _ in range(n)], dtype=dtype)
    elif kind == 1:
        array = np.array([r.blob(6) for _ in range(n)], dtype="S6")
    elif kind == 2:
        array = np.array([_keys.text(r, 4) for _ in range(n)], dtype="U4")
    else:
        array = np.array([_keys.text(r, 4, ascii_only=True) for _ in range(n)], dtype="U4")
    return array, array.tolist()


def check_points(what, layout) -> tuple:
    """The layout's points as plain arrays, after checking they make a ring."""
    positions = np.array(layout.positions, dtype=np.uint64)
    owners = np.array(layout.owners, dtype=np.int64)
    for array in (layout.positions, layout.owners, layout.table):
        if array.flags.writeable or run(setattr, array.flags, "writeable", True)[1] is None:
            raise Finding(f"{what()}\n  the layout's arrays can be written")
    if np.any(positions[1:] < positions[:-1]) or np.any(owners < 0) or \
            np.any(owners >= len(layout.names)):
        raise Finding(f"{what()}\n  built a layout with unsorted points or bad owners: "
                      f"{positions.tolist()} {owners.tolist()}")
    return positions, owners


def check_lookups(what, layout, r) -> None:
    """Every lookup of a built layout agrees with searchsorted over its points."""
    names = layout.names
    positions, owners = check_points(what, layout)
    probes = [r.int(0, 2**64 - 1) for _ in range(r.int(0, 6))]
    probes += [p + d for p in positions[:4].tolist() for d in (-1, 0, 1) if 0 <= p + d < 2**64]
    probes += [0, 2**64 - 1, int(positions[-1]) if len(positions) else 2**63]
    hashes = np.array(probes, dtype=np.uint64)
    expected = (lookup(positions, owners, probes), None) if len(positions) else \
        (None, EMPTY_RING())
    out = np.full(len(probes), -7, dtype=np.int32)
    got = run(layout.route_hashes_into, hashes, out)
    agree(lambda: f"{what()}\n  route_hashes_into({probes})",
          (out.tolist() if got[1] is None else None, got[1]), expected)
    if isinstance(layout, RingLayout):
        got = run(layout.route_hashes, probes)
        agree(lambda: f"{what()}\n  route_hashes({probes})",
              (got[0].tolist() if got[1] is None else None, got[1]), expected)

    keys = _keys.keys(r, 6, hooks=False)
    allow_nulls = r.bool()
    null = r.pick(INT32_NULLS) if allow_nulls else None
    hashes_of, hash_of = dialect_hashing(layout)
    expected = expected_route(positions, owners, keys, null, hashes_of)
    out = np.full(max(len(keys) + (r.int(-1, 1) if r.chance(8) else 0), 0), -7, dtype=np.int32)
    shown = lambda: f"{what()}\n  route_list_into({keys!r}, null={null!r})"  # noqa: E731
    _driver.note(shown)
    got = run(layout.route_list_into, keys, out, allow_nulls, -1 if null is None else null)
    if len(out) != len(keys):
        check_clean(shown, got, Exception)
    else:
        agree(shown, (out.tolist() if got[1] is None else None, got[1]), expected)
    if isinstance(layout, RingLayout):
        got = run(layout.route, keys, null=null, threads=r.pick((None, 1, 2)))
        agree(lambda: f"{what()}\n  route({keys!r}, null={null!r})",
              (got[0].tolist() if got[1] is None else None, got[1]), expected)
        got = run(layout.hash_keys, keys)
        hashed = run(hashes_of, keys, None, False)
        agree(lambda: f"{what()}\n  hash_keys({keys!r})",
              (got[0].tolist() if got[1] is None else None, got[1]), hashed)

    array, listed = key_array(r)
    batch = KeyBatch.from_numpy(array)
    start, stop = (0, len(array)) if r.int(0, 5) else (r.int(-1, 2), r.int(-1, len(array) + 1))
    out = np.full(max(stop - start, 0), -7, dtype=np.int32)
    shown = lambda: f"{what()}\n  route_batch_into({array!r}, {start}, {stop}, null={null!r})"  # noqa: E731
    got = run(layout.route_batch_into, batch, out, start, stop, allow_nulls,
              -1 if null is None else null)
    if (start, stop) != (0, len(array)):
        if not 0 <= start <= stop <= len(array):
            if not isinstance(got[1], ValueError):
                raise Finding(f"{shown()}\n  gave {got!r} for a range outside the batch")
        else:
            check_clean(shown, got, Exception)
    else:
        agree(shown, (out.tolist() if got[1] is None else None, got[1]),
              expected_route(positions, owners, listed, null, hashes_of))

    key, count = _keys.key(r, hooks=False), r.pick(REPLICAS)
    holder = RingBase()
    holder._layout = layout
    # The order of the checks: the key, the type of n, an empty ring, the range of n.
    h = run(hash_of, key)
    single = h if h[1] is not None else (None, EMPTY_RING()) if not len(positions) else \
        (names[lookup(positions, owners, [h[0]])[0]], None)
    several = h if h[1] is not None else run(_config.check_replica_type, count)
    if several[1] is None and not len(positions):
        several = (None, EMPTY_RING())
    if several[1] is None:
        wanted = several[0]
        several = run(_config.check_replica_range, wanted, len(names))
        if several[1] is None:
            taken = walk(positions, owners, h[0], wanted)
            several = ([names[i] for i in taken], None) if len(taken) == wanted else None
    for target in (layout, holder):
        shown = lambda: f"{what()}\n  {type(target).__name__}.get_node({key!r})"  # noqa: E731
        agree(shown, run(target.get_node, key), single)
        got = run(target.get_nodes, key, count)
        shown = lambda: f"{what()}\n  {type(target).__name__}.get_nodes({key!r}, {count!r})"  # noqa: E731
        if several is None:  # fewer distinct owners than asked for: an error, never a list
            check_clean(shown, got, Exception)
            if got[1] is None:
                raise Finding(f"{shown()}\n  gave {got[0]!r}: the points have fewer owners")
        else:
            agree(shown, got, several)


def judge_layout(what, layout, r) -> None:
    if len(layout.positions) == 0:  # made without its constructor, or empty: no points
        unfilled(r, layout)
    else:
        check_lookups(what, layout, r)


class SubLayout(RingLayout):
    __slots__ = ()


LAYOUT_CLASSES = (LayoutBase, RingLayout, RingLayout, SubLayout, LayoutBase, ringcore.HashRing,
                  int, None)


def layout_arrays(r) -> None:
    n_names = r.int(0, 4)
    names = tuple(r.pick(NAMES) if r.int(0, 7) else r.pick(BAD_NAMES) for _ in range(n_names))
    weights = tuple(r.pick((1.0, 1.0, 0.5, 2.0, 0.0, -1.0, "1"))
                    for _ in range(n_names + (r.chance(8) and 1)))
    npoints = r.int(0, 24)
    sorted_ = r.int(0, 3) > 0
    edge = r.pick((2**64 - 1, 2**64 - 2, 0, 1, 2**63))
    pos = int_array(r, np.uint64, npoints, 0, r.pick((2**64 - 1, 2**64 - 1, 7)), sorted_)
    if npoints and r.chance(3):
        pos[r.int(0, npoints - 1)] = edge
        if sorted_:
            pos.sort()
    own = int_array(r, np.int32, npoints + (r.chance(12) and r.pick((1, -1))),
                    -1 if r.chance(8) else 0, max(n_names - 1 + (r.chance(8) and 1), 0), False)
    pos_arg, own_arg = placed(r, pos), placed(r, own)
    want_pos, want_own = converted(pos_arg, np.uint64), converted(own_arg, np.int32)
    if r.bool():
        built_by_make(r, names, weights, pos_arg, own_arg, want_pos, want_own)
    else:
        built_by_from_arrays(r, names, weights, pos_arg, own_arg, want_pos, want_own)


def valid_points(want_pos, want_own, nnodes: int) -> bool:
    """Whether the converted arrays are points a layout of nnodes must accept."""
    if want_pos[1] is not None or want_own[1] is not None:
        return False
    p, o = want_pos[0], want_own[0]
    return (p.ndim == 1 and o.ndim == 1 and len(p) == len(o) and not np.any(p[1:] < p[:-1])
            and not np.any(o < 0) and not np.any(o >= nnodes))


def check_memory(what, points, n: int) -> None:
    """Points a function made: n records and the sentinel, in memory no one can write."""
    view = memoryview(points)
    if view.nbytes != (n + 1) * POINT_DTYPE.itemsize or not view.readonly:
        raise Finding(f"{what()}\n  gave {view.nbytes} bytes (read-only: {view.readonly}) "
                      f"for {n} points")
    array = np.frombuffer(points, dtype=np.uint8)
    if run(setattr, array.flags, "writeable", True)[1] is None:
        raise Finding(f"{what()}\n  its points can be made writeable")


def layout_fields(layout) -> tuple:
    """What a layout holds but its vnodes."""
    return (layout.names, layout.node_weights, layout.dialect, layout.positions.tolist(),
            layout.owners.tolist())


def check_built(what, made, valid: bool, names, want_pos, want_own, r) -> None:
    """A layout that was built holds the given valid points and routes by them;
    valid arguments build one."""
    check_clean(what, made, CLEAN)
    if made[1] is not None:
        if valid:
            raise Finding(f"{what()}\n  refused valid arguments: "
                          f"{type(made[1]).__name__}: {made[1]}")
        return
    layout = made[0]
    if not valid:
        raise Finding(f"{what()}\n  built a layout from invalid arguments: "
                      f"{layout.positions.tolist()} {layout.owners.tolist()}")
    if layout.names != tuple(names) or \
            layout.positions.tolist() != want_pos[0].tolist() or \
            layout.owners.tolist() != want_own[0].tolist():
        raise Finding(f"{what()}\n  the layout holds {layout.names} "
                      f"{layout.positions.tolist()} {layout.owners.tolist()}")
    check_lookups(what, layout, r)
    if isinstance(layout, RingLayout) and layout.dialect is DEFAULT:
        check_clean(what, run(layout.ownership), Exception)
        copy = run(lambda: pickle.loads(pickle.dumps(layout, protocol=r.int(0, 5))))
        check_clean(what, copy, Exception)
        distinct = len(set(layout.index)) == len(layout.names)  # make_layout takes repeats
        # make_layout keeps the vnodes it is given (its callers check them): None, the
        # dialect's default, comes back from a pickle as that number (so != the layout)
        same_copy = copy[1] is None and type(copy[0]) is type(layout) and (
            copy[0] == layout or (layout.vnodes is None
                                  and copy[0].vnodes == DEFAULT.default_vnodes
                                  and layout_fields(copy[0]) == layout_fields(layout)))
        if copy[1] is None and distinct and not same_copy:
            raise Finding(f"{what()}\n  the pickled copy differs: {copy[0]!r}")


def built_by_make(r, names, weights, pos_arg, own_arg, want_pos, want_own) -> None:
    made = run(points_from_arrays, pos_arg, own_arg)
    what = lambda: f"points_from_arrays({pos_arg!r}, {own_arg!r})"  # noqa: E731
    _driver.note(what)
    check_clean(what, made, CLEAN)
    converts = (want_pos[1] is None and want_own[1] is None and want_pos[0].ndim == 1
                and want_own[0].ndim == 1 and len(want_pos[0]) == len(want_own[0]))
    if (made[1] is None) != converts:
        raise Finding(f"{what()}\n  gave {made!r}; the arrays convert: {converts}")
    if made[1] is not None:
        return
    points, n = made[0]
    check_memory(what, points, n)
    records = np.frombuffer(points, dtype=POINT_DTYPE)[:n]
    if records["pos"].tolist() != want_pos[0].tolist() or \
            records["owner"].tolist() != want_own[0].tolist() or np.any(records["spare"] != 0):
        raise Finding(f"{what()}\n  the points differ from the arrays: {records!r}")
    cls = r.pick(LAYOUT_CLASSES)
    names_arg = list(names) if r.chance(16) else names
    hasher = HASHER if r.int(0, 15) else r.pick((None, "x", DEFAULT))
    vnodes = r.pick((4, 160, None, -1, "x"))
    dialect = DEFAULT if r.int(0, 7) else r.pick((None, "x", 5))
    how = r.int(0, 11)
    npoints = n
    if how == 0:
        npoints = r.pick((n + 1, n - 1, -1, 2**31, 2**62, 2**63))
    elif how == 1:  # other memory: of another size, its bytes, unfilled, none
        points = r.pick((
            lambda: points_from_arrays(np.zeros(n + 1, np.uint64), np.zeros(n + 1, np.int32))[0],
            lambda: bytes(memoryview(points)), lambda: bytearray(memoryview(points)),
            lambda: type(points)(), lambda: None))()
    what = lambda: (f"make_layout({getattr(cls, '__name__', cls)}, {names_arg!r}, {weights!r}, "  # noqa: E731
                    f"{vnodes!r}, {dialect!r}, {hasher!r}, <{n} points from arrays "
                    f"{pos_arg!r}, {own_arg!r}, variant {how}>, {npoints!r})")
    _driver.note(what)
    made = run(make_layout, cls, names_arg, weights, vnodes, dialect, hasher, points, npoints)
    hashable = run(lambda: {name: i for i, name in enumerate(names)})[1] is None
    valid = (isinstance(cls, type) and issubclass(cls, LayoutBase) and type(names_arg) is tuple
             and len(weights) == len(names) and hasher is HASHER and how not in (0, 1)
             and hashable and valid_points(want_pos, want_own, len(names)))
    check_built(what, made, valid, names, want_pos, want_own, r)
    if made[1] is None and type(made[0]) is not cls:
        raise Finding(f"{what()}\n  made a {type(made[0]).__name__}")
    if made[1] is None and (how == 2 or r.chance(4)):  # points make one layout, once
        again = run(make_layout, LayoutBase, names_arg, weights, vnodes, dialect, hasher, points,
                    npoints)
        if again[1] is None:
            raise Finding(f"{what()}\n  made a second layout of the same points")
        check_clean(what, again, CLEAN)


def built_by_from_arrays(r, names, weights, pos_arg, own_arg, want_pos, want_own) -> None:
    as_dict = r.bool() and run(lambda: dict(zip(names, weights)))[1] is None
    nodes = dict(zip(names, weights)) if as_dict else list(names)
    vnodes = r.pick((160, 1, 4, 0, True, 2.0, None))
    dialect = r.pick((None, None, "ringcore", {"id": "ringcore"}, DEFAULT, "nope", 5))
    what = lambda: (f"RingLayout.from_arrays({nodes!r}, {pos_arg!r}, {own_arg!r}, "  # noqa: E731
                    f"vnodes={vnodes!r}, dialect={dialect!r})")
    _driver.note(what)
    made = run(RingLayout.from_arrays, nodes, pos_arg, own_arg, vnodes=vnodes, dialect=dialect)
    listed = list(nodes)
    good_nodes = (all(n in GOOD_NAMES for n in listed if isinstance(n, str))
                  and all(isinstance(n, str) for n in listed) and len(set(listed)) == len(listed)
                  and (not as_dict or all(w in (1.0, 0.5, 2.0) for w in nodes.values())))
    # (vnodes=None is the dialect's default: 160 for ringcore)
    valid = (good_nodes and (vnodes is None or (vnodes in (160, 1, 4) and type(vnodes) is int))
             and (dialect is None or dialect in ("ringcore", {"id": "ringcore"}, DEFAULT))
             and valid_points(want_pos, want_own, len(listed))
             # the public constructor also wants every node to own a point
             and set(want_own[0].tolist()) == set(range(len(listed))))
    check_built(what, made, valid, listed, want_pos, want_own, r)
    if made[1] is None:
        layout = made[0]
        want_vnodes = 160 if vnodes is None else vnodes
        if layout.dialect is not DEFAULT or layout.vnodes != want_vnodes or \
                list(layout.weights.items()) != [(n, float(nodes[n]) if as_dict else 1.0)
                                                 for n in listed]:
            raise Finding(f"{what()}\n  the layout is {layout!r}")


# -- hashing --------------------------------------------------------------------------

XXH_LENGTHS = (0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 239, 240, 241,
               255, 256, 1023, 1024, 1025, 2047, 2048, 4095, 4096)
HASHER_ARGS = (HASH_XXH3_64, POINTS_NAME_HASH_J, 64, 32, 0, -1, 2, 2**31, 2**64, None, 1.0, True)


def build_hashers() -> dict:
    """The hashers this build has, by their arguments: every dialect's, and the
    one that places the points of a dialect's rings of other weights (if any)."""
    found = {}
    for name in available_dialects():
        dialect = get_dialect(name)
        placing = getattr(dialect, "points_hasher", None)
        for hasher in (dialect.hasher, *((placing((1.0, 2.0)),) if placing else ())):
            found[hasher.__reduce__()[1]] = hasher
    return found


BUILD_HASHERS = build_hashers()


def hashing(r) -> None:
    length = r.pick(XXH_LENGTHS) + (r.int(-2, 2) if r.chance(4) else 0)
    seed = r.blob(32) or b"\0"
    raw = (seed * (max(length, 0) // len(seed) + 1))[: max(length, 0)]
    memory = Guarded(raw, at_start=r.chance(4))
    form = r.int(0, 4)
    data = (memory.memoryview(), memory.arrow(), memory.numpy(), raw, bytearray(raw))[form]
    what = lambda: f"xxh3_64 of {len(raw)} bytes {raw[:64]!r}... as form {form}"  # noqa: E731
    _driver.note(what)
    got = run(xxh3_64, data)
    if got != (xxhash.xxh3_64_intdigest(raw), None):
        raise Finding(f"{what()}\n  gave {got!r}, expected {xxhash.xxh3_64_intdigest(raw)}")
    key = _keys.key(r, hooks=False)
    theirs = run(reference.hash_key, key)
    for name, fn in (("hash_key", hash_key), ("Hasher.hash_key", HASHER.hash_key)):
        ours = run(fn, key)
        if not (same(ours[0], theirs[0]) and type(ours[1]) is type(theirs[1])):
            raise Finding(f"{name}({key!r}): {ours!r} vs reference {theirs!r}")
    args = tuple(r.pick(HASHER_ARGS) if r.chance(3) else default
                 for default in (HASH_XXH3_64, POINTS_NAME_HASH_J, 64))
    what = lambda: f"Hasher{args!r}"  # noqa: E731
    _driver.note(what)
    made = run(Hasher, *args)
    check_clean(what, made, CLEAN)
    known = all(type(a) is int for a in args) and args in BUILD_HASHERS
    if made[1] is None:
        hasher = made[0]
        taken = hasher.__reduce__()[1]  # the arguments as it took them
        if taken not in BUILD_HASHERS:
            raise Finding(f"{what()}\n  made a hasher this build has not: {taken}")
        if taken != (HASH_XXH3_64, POINTS_NAME_HASH_J, 64):  # another dialect's: no reference
            theirs = run(BUILD_HASHERS[taken].hash_key, key)
        bits = BUILD_HASHERS[taken].hash_bits
        copy = pickle.loads(pickle.dumps(hasher))
        for h in (hasher, copy):
            ours = run(h.hash_key, key)
            if h.hash_bits != bits or not (same(ours[0], theirs[0])
                                           and type(ours[1]) is type(theirs[1])):
                raise Finding(f"{what()}.hash_key({key!r}): {ours!r} vs reference {theirs!r}")
    elif known:
        raise Finding(f"{what()}\n  refused a hasher of this build's dialects: {made[1]!r}")


# -- lists ----------------------------------------------------------------------------


def lists(r) -> None:
    keys = _keys.keys(r, 10, hooks=False)
    n = len(keys) + (r.int(-1, 1) if r.chance(4) else 0)
    out = np.zeros(max(n, 0), dtype=r.pick((np.uint64, np.uint64, np.int64, np.uint32)))
    if r.chance(6) and out.size > 1:
        out = np.zeros(out.size * 2, dtype=out.dtype)[::2]
    what = lambda: f"Hasher.hash_list({keys!r}, out of {out.size} {out.dtype})"  # noqa: E731
    _driver.note(what)
    got = run(HASHER.hash_list, keys, out)
    check_clean(what, got, Exception)
    if got[1] is None:
        expected = run(reference._hashes, keys, None, False)
        if expected[1] is not None or out.tolist() != expected[0]:
            raise Finding(f"{what()}\n  gave {out.tolist()}, expected {expected!r}")
    elif out.dtype == np.uint64 and out.flags.c_contiguous and len(out) == len(keys):
        agree(what, got, run(reference._hashes, keys, None, False))
    values = [r.pick(_keys.EDGE_INTS) if r.bool() else r.int(0, 2**64 - 1)
              for _ in range(r.int(0, 8))]
    out = np.zeros(len(values) + (r.chance(8) and 1), dtype=np.uint64)
    got = run(hashes_from_list, values, out)
    check_clean(lambda: f"hashes_from_list({values!r})", got, Exception)
    fits = len(out) == len(values) and all(0 <= v < 2**64 for v in values)
    if (got[1] is None) != fits or (got[1] is None and out.tolist() != values):
        raise Finding(f"hashes_from_list({values!r}) gave {out.tolist()} {got[1]!r}")
    array, listed = key_array(r)
    start, stop = (0, len(array)) if r.int(0, 3) else (r.int(-1, 2), r.int(-1, len(array) + 1))
    out = np.zeros(max(stop - start, 0) + (r.chance(8) and 1), dtype=np.uint64)
    what = lambda: f"Hasher.hash_batch({array!r}, out of {out.size}, {start}, {stop})"  # noqa: E731
    _driver.note(what)
    got = run(HASHER.hash_batch, KeyBatch.from_numpy(array), out, start, stop)
    check_clean(what, got, Exception)
    if not (0 <= start <= stop <= len(array) and len(out) == stop - start):
        if not isinstance(got[1], ValueError):
            raise Finding(f"{what()}\n  gave {got!r} for a bad range or out")
        return
    expected = run(reference._hashes, listed[start:stop], None, False)
    got = (out.tolist() if got[1] is None else None, got[1])
    if (start, stop) == (0, len(array)):
        agree(what, got, expected)
    elif got[1] is None or expected[1] is None or type(got[1]) is not type(expected[1]):
        agree(what, got, expected)  # (a key's index is counted from the batch's start)


# -- node points, placing and sorting -------------------------------------------------


def node_positions(name: bytes, count: int) -> list:
    return [xxhash.xxh3_64_intdigest(name + b"#" + str(j).encode()) for j in range(count)]


def points(r) -> None:
    name = r.pick((b"a", "a".encode(), "é".encode(), b"", b"x" * 300, r.blob(20), "a", None,
                   bytearray(b"a")))
    count = r.pick((0, 1, 2, 10, 160, 1000, -1, 2**32, 2**64, 1.5, None, True))
    what = lambda: f"Hasher.node_points({name!r}, {count!r})"  # noqa: E731
    got = run(HASHER.node_points, name, count)
    check_clean(what, got, Exception)
    if got[1] is None:
        if type(name) is not bytes:
            raise Finding(f"{what()}\n  took a name that is not bytes")
        expected = node_positions(name, int(count))  # Cython truncates a float count
        if got[0].dtype != np.uint64 or got[0].tolist() != expected:
            raise Finding(f"{what()}\n  positions differ from XXH3-64(name#j)")
    placing(r)
    sorting(r)
    check_clean(lambda: "Hasher.hash_batch(KeyBatch(), ...)",
                run(HASHER.hash_batch, KeyBatch(), np.zeros(r.int(0, 2), np.uint64),
                    r.int(-1, 1), r.int(-1, 1)), Exception)


class StrSubclass(str):
    """A str whose own hooks must not run when its UTF-8 is read."""

    def encode(self, *args, **kwargs):  # noqa: ARG002
        raise AssertionError("the core ran a name's own encode")


def encoding(r) -> None:
    """utf8_names: the names' UTF-8 in one blob, or a clean error for a name
    that is no str or has none."""
    items = [r.pick(("a", "é", "", "\ud800", "x" * r.int(0, 40), b"a", None, StrSubclass("s")))
             for _ in range(r.int(0, 5))]
    what = lambda: f"utf8_names({items!r})"  # noqa: E731
    got = run(utf8_names, items if r.int(0, 3) else tuple(items))
    check_clean(what, got, CLEAN)
    sane = all(type(n) is str and n != "\ud800" for n in items)  # subclasses: TypeError
    if (got[1] is None) != sane:
        raise Finding(f"{what()}\n  gave {got!r}; valid: {sane}")
    if got[1] is None:
        blob, offsets = got[0]
        encoded = [n.encode() for n in items]
        if blob != b"".join(encoded) or offsets.tolist() != [0, *itertools.accumulate(map(len, encoded))]:
            raise Finding(f"{what()}\n  gave {got!r}")


def placing(r) -> None:
    encoding(r)
    nnodes = r.int(0, 4)
    names = [r.pick((b"a", b"b", "é".encode(), b"", r.blob(8))) for _ in range(nnodes)]
    blob = b"".join(names)
    offsets = np.zeros(nnodes + 1, dtype=np.int64)
    np.cumsum([len(name) for name in names], out=offsets[1:])
    offsets_sane = True
    if r.chance(8):  # offsets that name no names of the blob
        broken = r.int(0, 3)
        offsets_sane = False
        if broken == 0:
            offsets = offsets[:-1] if r.bool() else np.append(offsets, offsets[-1])
        elif broken == 1:
            offsets[r.int(0, nnodes)] = r.pick((-1, -(2**63), 2**63 - 1))
        elif broken == 2:
            offsets[-1] = len(blob) + r.int(1, 3)
        elif nnodes:
            offsets[1] = offsets[0] - 1
        else:
            offsets_sane = True
    blob_arg = blob if r.int(0, 11) else r.pick((None, bytearray(blob), blob.decode("latin-1")))
    if r.chance(16):
        counts = np.array(r.pick(([2**31], [2**32 - 1], [2**30, 2**30], [2**31 - 1, 2])),
                          dtype=np.uint32)
    else:
        counts = int_array(r, np.uint32, nnodes + (r.chance(12) and 1), 0, r.pick((3, 40)), False)
    owners = int_array(r, np.int32, nnodes + (r.chance(12) and 1), -1 if r.chance(8) else 0,
                       nnodes + 1, False)
    offsets_arg = placed(r, offsets) if r.chance(6) else offsets
    counts_arg, owners_arg = placed(r, counts), placed(r, owners)
    counts, owners = held(counts_arg, counts), held(owners_arg, owners)
    hasher = HASHER if r.int(0, 15) else r.pick((None, DEFAULT, "x"))
    what = lambda: (f"place_nodes({hasher!r}, {blob_arg!r}, {offsets_arg!r}, "  # noqa: E731
                    f"{counts_arg!r}, {owners_arg!r})")
    _driver.note(what)
    got = run(place_nodes, hasher, blob_arg, offsets_arg, counts_arg, owners_arg)
    check_clean(what, got, CLEAN)
    total = int(counts.sum())
    # Valid values; and given as bytes and the arrays themselves, which must be taken
    # (other memory holding the same values may be taken as well).
    offsets = held(offsets_arg, offsets)
    # (with no points to make, no name is read: nor are the offsets checked)
    names_sane = bool(len(offsets) and offsets[0] >= 0 and offsets[-1] <= len(blob)
                      and np.all(np.diff(offsets) >= 0))
    sane = (hasher is HASHER and len(counts) == len(owners) == len(offsets) - 1
            and (total == 0 or (names_sane and not np.any(owners < 0))) and total <= MAX_POINTS
            and type(blob_arg) is bytes)
    strict = (sane and offsets_sane and offsets_arg is offsets
              and counts_arg is counts and owners_arg is owners)
    if (got[1] is None and not sane) or (got[1] is not None and strict):
        raise Finding(f"{what()}\n  gave {got!r}; valid: {sane}")
    if got[1] is not None:
        return
    points_, n = got[0]
    check_memory(what, points_, n)
    names = [blob[offsets[k]:offsets[k + 1]] for k in range(len(counts))]
    placed_points = [(p, int(owners[k])) for k, name in enumerate(names)
                     for p in node_positions(bytes(name), int(counts[k]))]
    expected = sorted(placed_points, key=lambda point: point[0])  # stable
    records = np.frombuffer(points_, dtype=POINT_DTYPE)[:n]
    if n != total or list(zip(records["pos"].tolist(), records["owner"].tolist())) != expected \
            or np.any(records["spare"] != 0):
        raise Finding(f"{what()}\n  gave {n} points {records!r}, expected {expected!r}")
    layout_of(r, what, points_, n, expected)


def layout_of(r, what, points_, n: int, expected: list) -> None:
    """A layout over points a function made (expected: its (position, owner)
    pairs), of as many nodes as the owners need or fewer: it is built, and
    routes right, exactly when its owners are in range."""
    owners = [owner for _, owner in expected]
    nnodes = max(max(owners, default=-1) + 1 - r.int(0, 1), 0) if r.int(0, 3) else r.int(0, 3)
    names = tuple(f"n{i}" for i in range(nnodes))
    made = run(make_layout, LayoutBase, names, (1.0,) * nnodes, 1, DEFAULT, HASHER, points_, n)
    want_pos = (np.array([p for p, _ in expected], np.uint64), None)
    want_own = (np.array(owners, np.int32), None)
    check_built(lambda: f"{what()}\n  make_layout of {nnodes} nodes over its points", made,
                valid_points(want_pos, want_own, nnodes), names, want_pos, want_own, r)


def sorting(r) -> None:
    n = r.int(0, 40) if r.int(0, 3) else r.int(41, 300)  # past 48: the radix paths
    hi = r.pick((3, 2**20, 2**32 - 1, 2**40, 2**64 - 1))
    pos = int_array(r, np.uint64, n, 0, hi, False)
    if n and r.chance(4):
        pos |= np.uint64(r.pick((0, 2**63, 2**52, 2**31)))  # one long run of a top prefix
    own = int_array(r, np.int32, n + (r.chance(8) and 1), -3, 3, False)
    pos_arg, own_arg = placed(r, pos), placed(r, own) if r.int(0, 5) else lying(r, own)
    bits = r.pick((64, 64, 32, 0, 63, -1, 2**40))
    before = list(zip(pos.tolist(), own.tolist()))
    what = lambda: (f"sort_placed({before!r}, {bits}) as {type(pos_arg)} "  # noqa: E731
                    f"{getattr(pos_arg, 'dtype', '')}, {type(own_arg)}")
    _driver.note(what)
    want_pos, want_own = converted(pos_arg, np.uint64), converted(own_arg, np.int32)
    got = run(sort_placed, pos_arg, own_arg, bits)
    check_clean(what, got, CLEAN + (_keys.HookError,))  # a lying owner's hook may raise
    converts = (want_pos[1] is None and want_own[1] is None and want_pos[0].ndim == 1
                and want_own[0].ndim == 1 and len(want_pos[0]) == len(want_own[0]))
    valid = converts and bits in (32, 64) and (bits == 64 or not np.any(want_pos[0] >> 32))
    # Owners that are not int32 values as given (a wider or float dtype, hooks) may be refused.
    exact = valid and run(lambda: np.asarray(own_arg).tolist() == want_own[0].tolist())[0]
    if (got[1] is None and not valid) or (got[1] is not None and exact):
        raise Finding(f"{what()}\n  gave {got!r}, valid: {valid}")
    if got[1] is not None:
        return
    points_, count = got[0]
    check_memory(what, points_, count)
    given = list(zip(want_pos[0].tolist(), want_own[0].tolist()))
    expected = sorted(given, key=lambda point: point[0])  # stable
    records = np.frombuffer(points_, dtype=POINT_DTYPE)[:count]
    if count != len(given) or \
            list(zip(records["pos"].tolist(), records["owner"].tolist())) != expected:
        raise Finding(f"{what()}\n  is not a stable sort: {records!r}")
    layout_of(r, what, points_, count, expected)


class LyingOwners(np.ndarray):
    """An owners array whose min() and max() (which np.min and np.max call)
    say every owner is 0."""

    def min(self, *args, **kwargs):
        return 0

    max = min


def lying(r, own: np.ndarray):
    """Owners that misreport themselves: an ndarray subclass, or ints whose
    hooks lie (np.ascontiguousarray and comparisons read them differently)."""
    if r.bool():
        return own.view(LyingOwners)
    values = [r.pick(_keys.INT_HOOKS)(v) if r.chance(3) else v for v in own.tolist()]
    return np.array(values, dtype=object) if r.bool() else values


# -- updates: merge_node, remove_node, with_node, without_node ------------------------


def merge(old: list, old_own: list, new: list, owner: int, first: list) -> tuple:
    """Ring order after adding a node's sorted points (SPEC.md 4): at equal
    positions the new node goes first when its name sorts first."""
    pos, own, i, j = [], [], 0, 0
    while i < len(old) or j < len(new):
        take_new = i == len(old) or (j < len(new) and (
            new[j] < old[i] or (new[j] == old[i] and first[old_own[i]])))
        if take_new:
            pos.append(new[j])
            own.append(owner)
            j += 1
        else:
            pos.append(old[i])
            own.append(old_own[i])
            i += 1
    return pos, own


def small_layout(r, cls=LayoutBase):
    """A valid layout of 0 to 4 nodes over decoded points (often tied)."""
    nnodes = r.int(0, 4)
    names = tuple(GOOD_NAMES[:nnodes])
    n = r.int(0, 12) if nnodes else 0
    pos = int_array(r, np.uint64, n, 0, r.pick((5, 2**64 - 1)), True)
    own = int_array(r, np.int32, n, 0, max(nnodes - 1, 0), False)
    points_, count = points_from_arrays(pos, own)
    return make_layout(cls, names, (1.0,) * nnodes, 2, DEFAULT, HASHER, points_, count)


def updates(r) -> None:
    old = small_layout(r, r.pick((LayoutBase, RingLayout)))
    nnodes = len(old.names)
    old_pos, old_own = old.positions.tolist(), old.owners.tolist()
    new = int_array(r, np.uint64, r.int(0, 12), 0, r.pick((5, 2**64 - 1)), r.int(0, 3) > 0)
    first = np.array([r.bool() for _ in range(nnodes + (r.chance(8) and r.pick((1, -1))))],
                     dtype=np.uint8)
    owner = r.pick((nnodes, nnodes, 0, -1, 2**31 - 1, 2**31))
    new_arg, first_arg = placed(r, new), placed(r, first)
    new, first = held(new_arg, new), held(first_arg, first)
    what = lambda: (f"merge_node(<layout {old.names} {old_pos} {old_own}>, {new_arg!r}, "  # noqa: E731
                    f"{owner}, {first_arg!r})")
    _driver.note(what)
    got = run(merge_node, old, new_arg, owner, first_arg)
    check_clean(what, got, CLEAN)
    sane = len(first) == nnodes and 0 <= owner < 2**31 and not np.any(new[1:] < new[:-1])
    strict = sane and new_arg is new and first_arg is first
    if (got[1] is None and not sane) or (got[1] is not None and strict):
        raise Finding(f"{what()}\n  gave {got!r}; valid: {sane}")
    if got[1] is None:
        points_, count = got[0]
        check_memory(what, points_, count)
        expected = merge(old_pos, old_own, new.tolist(), owner, first.tolist())
        records = np.frombuffer(points_, dtype=POINT_DTYPE)[:count]
        if (records["pos"].tolist(), records["owner"].tolist()) != expected or \
                np.any(records["spare"] != 0):
            raise Finding(f"{what()}\n  gave {records!r}, expected {expected!r}")
        names = old.names + ("fuzz-new",)
        made = run(make_layout, LayoutBase, names, (1.0,) * len(names), 2, DEFAULT, HASHER,
                   points_, count)
        want_pos = (np.array(expected[0], np.uint64), None)
        want_own = (np.array(expected[1], np.int32), None)
        check_built(what, made, valid_points(want_pos, want_own, len(names)), names,
                    want_pos, want_own, r)

    index = r.pick((0, 1, nnodes - 1, nnodes, -1, 2**31, None))
    what = lambda: f"remove_node(<layout {old.names} {old_pos} {old_own}>, {index!r})"  # noqa: E731
    _driver.note(what)
    got = run(remove_node, old, index)
    check_clean(what, got, CLEAN)
    valid = type(index) is int and 0 <= index < nnodes
    if (got[1] is None) != valid:
        raise Finding(f"{what()}\n  gave {got!r}, valid: {valid}")
    if got[1] is None:
        points_, count = got[0]
        check_memory(what, points_, count)
        kept = [(p, o - (o > index)) for p, o in zip(old_pos, old_own) if o != index]
        records = np.frombuffer(points_, dtype=POINT_DTYPE)[:count]
        if list(zip(records["pos"].tolist(), records["owner"].tolist())) != kept:
            raise Finding(f"{what()}\n  gave {records!r}, expected {kept!r}")
        names = old.names[:index] + old.names[index + 1 :]
        made = run(make_layout, LayoutBase, names, (1.0,) * len(names), 2, DEFAULT, HASHER,
                   points_, count)
        check_built(what, made, True, names, (np.array([p for p, _ in kept], np.uint64), None),
                    (np.array([o for _, o in kept], np.int32), None), r)
    if isinstance(old, RingLayout):
        public_updates(r, old)


def public_updates(r, old) -> None:
    """with_node / without_node of a RingLayout against merge and filter."""
    name = r.pick(("new", "a", "b", "zz", "é", "", None))
    weight = r.pick((1.0, 0.5, 3.0, 0.0, -1.0))
    what = lambda: f"{old!r}.with_node({name!r}, {weight!r})"  # noqa: E731
    _driver.note(what)
    got = run(old.with_node, name, weight)
    check_clean(what, got, CLEAN)
    valid = isinstance(name, str) and name != "" and name not in old.names and weight > 0
    if (got[1] is None) != valid:
        raise Finding(f"{what()}\n  gave {got!r}, valid: {valid}")
    if got[1] is None:
        raw = name.encode()
        count = _config.point_count(old.vnodes, weight, name)
        first = [raw < other.encode() for other in old.names]
        expected = merge(old.positions.tolist(), old.owners.tolist(),
                         sorted(node_positions(raw, count)), len(old.names), first)
        layout = got[0]
        if (layout.positions.tolist(), layout.owners.tolist()) != expected or \
                layout.names != old.names + (name,) or type(layout) is not type(old):
            raise Finding(f"{what()}\n  gave {layout!r}, expected points {expected!r}")
        check_lookups(what, layout, r)
    name = r.pick(old.names + ("missing", 5)) if old.names else "missing"
    what = lambda: f"{old!r}.without_node({name!r})"  # noqa: E731
    got = run(old.without_node, name)
    check_clean(what, got, CLEAN)
    if (got[1] is None) != (name in old.names):
        raise Finding(f"{what()}\n  gave {got!r}")
    if got[1] is None:
        index = old.names.index(name)
        kept = [(p, o - (o > index)) for p, o in zip(old.positions.tolist(),
                                                       old.owners.tolist()) if o != index]
        layout = got[0]
        if list(zip(layout.positions.tolist(), layout.owners.tolist())) != kept:
            raise Finding(f"{what()}\n  gave {layout!r}, expected points {kept!r}")
        check_lookups(what, layout, r)


# -- batch operations: point indices, replica rows, bounded loads, take_rows ----------

BIG_POINTS = 2**19  # RC_BIG_POINTS: rings of more points keep records and lines
_BIG: list = []  # one big layout per process, made when first asked (0.1 s)


def big_layout():
    """A layout of just over BIG_POINTS points (lines, records) over 5 nodes."""
    if not _BIG:
        rng = np.random.default_rng(20240917)
        m = BIG_POINTS + 37
        pos = np.sort(rng.integers(0, 2**64 - 1, m, dtype=np.uint64, endpoint=True))
        pos[:3] = 0  # ties at both ends
        pos[-3:] = 2**64 - 1
        own = rng.integers(0, 5, m).astype(np.int32)
        own[-2000:] = 4  # a long run of one owner, round the wrap-around
        own[:2000] = 4
        points_, count = points_from_arrays(pos, own)
        _BIG.append(make_layout(LayoutBase, GOOD_NAMES, (1.0,) * 5, 2, DEFAULT, HASHER, points_,
                                count))
    return _BIG[0]


def wide_layout(r, cls=LayoutBase):
    """A valid layout of 13 to 400 points over 1 to 8 nodes, some of which own
    none: its owners in runs, its positions often tied."""
    rng = np.random.default_rng(r.int(0, 2**32 - 1))
    nnodes = r.int(1, 8)
    m = r.int(13, 400)
    hi = r.pick((2**64 - 1, 2**64 - 1, 50, 3))
    pos = np.sort(rng.integers(0, hi, m, dtype=np.uint64, endpoint=True))
    owning = rng.choice(nnodes, r.int(1, nnodes), replace=False)
    runs = rng.choice(owning, m)
    own = np.repeat(runs, rng.integers(1, r.pick((2, 4, 40)), m))[:m].astype(np.int32)
    points_, count = points_from_arrays(pos, own)
    names = tuple(f"w{i}" for i in range(nnodes))
    return make_layout(cls, names, (1.0,) * nnodes, 2, DEFAULT, HASHER, points_, count)


def batch_layout(r):
    """A layout for the batch entry points: none of its points, few, many, big."""
    how = r.int(0, 23)
    if how == 23:
        return LayoutBase.__new__(r.pick((LayoutBase, RingLayout)))  # no nodes, no points
    if how == 22:
        return big_layout()
    if how >= 18:  # a ring of the default dialect or of ketama's (a 32-bit ring)
        items = {name: r.pick((1.0, 1.0, 0.5, 3.0)) for name in GOOD_NAMES[: r.int(0, 5)]}
        made = run(RingLayout, items, vnodes=r.int(1, 6), dialect=r.pick((None, None, "ketama")))
        if made[1] is None:  # (ketama gives a light node no point: refused)
            return made[0]
    if how >= 12:
        return wide_layout(r, r.pick((LayoutBase, RingLayout)))
    return small_layout(r, r.pick((LayoutBase, RingLayout)))


def describe_layout(layout) -> str:
    if len(layout.positions) > 64:
        return (f"<{type(layout).__name__} {layout.names}, {len(layout.positions)} points, "
                f"owners {layout.owners[:16].tolist()}...>")
    return (f"<{type(layout).__name__} {layout.names} {layout.positions.tolist()} "
            f"{layout.owners.tolist()}>")


def takes(arg, dtype, ndim: int, writable: bool = False) -> bool:
    """Whether a typed memoryview (C-contiguous, of dtype and ndim; writable for an
    output) takes arg: an array or memoryview of that dtype and shape that numpy
    calls C-contiguous (strides of axes of length 1, and of empty arrays, aside)."""
    if isinstance(arg, memoryview):
        arg = np.asarray(arg)  # the same memory, format and flags
    if not isinstance(arg, np.ndarray) or arg.dtype.kind == "O":
        return False
    if arg.dtype != np.dtype(dtype) or arg.ndim != ndim:
        return False
    return bool(arg.flags.c_contiguous and (arg.flags.writeable or not writable))


def writable_guarded(a: np.ndarray, at_start: bool) -> np.ndarray:
    """A writable copy of a whose last (first) byte is next to a guard page."""
    memory = Guarded(a.tobytes(), at_start=at_start)
    return np.frombuffer(memory.memoryview(), dtype=a.dtype).reshape(a.shape)


def out_arg(r, out: np.ndarray):
    """An output argument standing for out (a writable int32 array): itself or
    other memory (guarded, a memoryview), or one that must be refused (read-only,
    strided, another dtype, shape or kind). Returns (argument, the array the
    results land in when it is taken)."""
    how = r.int(0, 15)
    if how == 0:
        target = writable_guarded(out, r.bool())
        return target, target
    if how == 1:
        return memoryview(out), out
    if how == 2:
        target = out.copy()
        target.flags.writeable = False
        return target, target
    if how == 3:
        target = np.repeat(out, 2, axis=0)[::2]
        return target, target
    if how == 4:
        target = out.astype(r.pick((np.int64, np.uint32, np.int16, ">i4", np.float32)))
        return target, target
    if how == 5:
        target = np.zeros((max(out.shape[0] + r.pick((1, -1)), 0),) + out.shape[1:], np.int32)
        return target, target
    if how == 6:
        return r.pick((None, out.tolist(), bytearray(out.nbytes), out[None], "out")), None
    if how == 7 and out.ndim == 2:
        target = np.asfortranarray(out)
        return target, target
    return out, out


def int32_arg(value):
    """What an int32_t argument makes of value: (int, taken) with taken True,
    False or None (a float: Cython truncates it, or may refuse it)."""
    if isinstance(value, float):
        return int(value), None
    if isinstance(value, (int, np.integer)) and -(2**31) <= int(value) < 2**31:
        return int(value), True
    return None, False


def truth(value):
    """A bint argument's value: (bool, taken)."""
    got = run(bool, value)
    return got[0], got[1] is None


INDICES_FLAGS = (True, True, True, False, 1, 0, np.bool_(True), None, "x", np.array([1, 2]))
BAD_INT32_ARGS = (2**31, -(2**31) - 1, None, "1", 1.5, -0.5)


def int32_value(r):
    """An int32_t argument: a value in range, or now and then one that is not."""
    return r.pick(BAD_INT32_ARGS) if r.int(0, 9) == 9 else r.pick(INT32_NULLS)


def judged(what, got, taken, valid, expected, results, allowed=CLEAN) -> None:
    """A call of arguments that convert (taken: True, False or None, unknown) and,
    converted, are valid (valid: the outcome the model gives, (value, error)):
    taken arguments give the model's outcome; refused ones a clean error. When
    both answer, results() is what the call gave, compared with expected."""
    check_clean(what, got, allowed)
    if taken is False:
        if got[1] is None:
            raise Finding(f"{what()}\n  took an argument it must refuse")
        return
    if got[1] is None:
        if valid[1] is not None:
            raise Finding(f"{what()}\n  answered {clip(show((results(), None)))}; the model "
                          f"raises {type(valid[1]).__name__}: {valid[1]}")
        if not same(results(), expected):
            raise Finding(f"{what()}\n  gave      {clip(show((results(), None)))}\n"
                          f"  expected  {clip(show((expected, None)))}")
    elif taken is True and (valid[1] is None or type(got[1]) is not type(valid[1])):
        raise Finding(f"{what()}\n  raised {type(got[1]).__name__}: {got[1]}; the model "
                      f"gives {show(valid)}")


def point_index_model(positions: np.ndarray, hashes) -> list:
    """The index of the point that owns each hash: searchsorted, wrapping to 0."""
    at = np.searchsorted(positions, np.asarray(hashes, dtype=np.uint64), side="left")
    return (at % len(positions)).tolist()


def routed_indices(positions, keys: list, null, hasher) -> tuple:
    """The reference outcome of routing keys to their points' indices (keys
    hashed by the reference, or of another dialect, by that dialect's hasher)."""
    hashes = run(reference._hashes, keys, null, True)
    if hashes[1] is not None:
        return hashes
    if hasher is not None:
        hashes = run(lambda: [None if h is None else hasher.hash_key(key)
                              for h, key in zip(hashes[0], keys)])
        if hashes[1] is not None:
            return hashes
    if not keys:
        return [], None
    if not len(positions):
        return None, EMPTY_RING()
    found = iter(point_index_model(positions, [h for h in hashes[0] if h is not None]))
    return [null if h is None else next(found) for h in hashes[0]], None


def batch_indices(r, layout) -> None:
    """route_hashes_into, route_list_into and route_batch_into with indices."""
    positions = np.array(layout.positions, dtype=np.uint64)
    m = len(positions)
    shown = describe_layout(layout)
    # keys of another dialect (ketama) hash by its own hasher: the reference has none
    hasher = layout.hasher if layout.dialect not in (None, DEFAULT) else None
    probes = [r.int(0, r.pick((2**64 - 1, 2**32 - 1))) for _ in range(r.int(0, 6))]
    picks = [int(positions[r.int(0, m - 1)]) for _ in range(r.int(0, 4))] if m else []
    probes += [p + d for p in picks + positions[:2].tolist() + positions[-2:].tolist()
               for d in (-1, 0, 1) if 0 <= p + d < 2**64]
    probes += [0, 2**64 - 1][: r.int(0, 2)]
    if r.chance(4):
        probes = probes[: r.int(0, len(probes))]
    hashes = np.array(probes, dtype=np.uint64)
    flag = r.pick(INDICES_FLAGS)
    want_indices, flag_taken = truth(flag)
    hashes_arg = placed(r, hashes) if r.chance(3) else hashes
    out = np.full(len(hashes), -7, dtype=np.int32)
    arg, target = out_arg(r, out) if r.chance(3) else (out, out)
    taken = (takes(hashes_arg, np.uint64, 1), takes(arg, np.int32, 1, writable=True),
             flag_taken)
    taken = False if False in taken else None if None in taken else True
    what = lambda: (f"{shown}.route_hashes_into({hashes_arg!r}, {arg!r}, "  # noqa: E731
                    f"indices={flag!r})")
    _driver.note(what)
    got = run(layout.route_hashes_into, hashes_arg, arg, flag)
    if target is None or len(target) != len(hashes):
        valid = (None, ValueError())
    elif not len(hashes):
        valid = (None, None)
    elif not m:
        valid = (None, EMPTY_RING())
    else:
        valid = (None, None)
    expected = (point_index_model(positions, hashes) if want_indices
                else lookup(positions, np.array(layout.owners), hashes)) if m else []
    judged(what, got, taken, valid, expected, lambda: target.tolist())

    keys = _keys.keys(r, 6, hooks=False)
    allow_nulls, null = r.bool(), int32_value(r)
    null_value, null_taken = int32_arg(null)
    out = np.full(max(len(keys) + (r.pick((-1, 1)) if r.int(0, 7) == 7 else 0), 0), -7,
                  np.int32)
    arg, target = out_arg(r, out) if r.chance(4) else (out, out)
    keys_arg = r.pick((tuple(keys), None, iter(keys))) if r.int(0, 15) == 15 else keys
    taken = (type(keys_arg) is list, takes(arg, np.int32, 1, writable=True), null_taken)
    taken = False if False in taken else None if None in taken else True
    what = lambda: (f"{shown}.route_list_into({keys_arg!r}, {arg!r}, {allow_nulls}, "  # noqa: E731
                    f"{null!r}, indices=True)")
    _driver.note(what)
    got = run(layout.route_list_into, keys_arg, arg, allow_nulls, null, True)
    null_model = null_value if allow_nulls else None
    if target is None or len(target) != len(keys):
        # (an out of another length: "the list of keys changed size", as check_lookups takes)
        expected, valid = None, (None, RuntimeError())
    else:
        valid = routed_indices(positions, keys, null_model, hasher)
        expected = valid[0]
        if taken is True and got[1] is not None and type(got[1]) is type(valid[1]):
            agree(what, got, valid)  # the same error, naming the same key
    judged(what, got, taken, valid, expected, lambda: target.tolist(),
           CLEAN + (RuntimeError,))

    array, listed = key_array(r)
    batch = KeyBatch.from_numpy(array)
    start, stop = (0, len(array))
    if r.int(0, 5) == 5:
        start, stop = r.int(-1, 2), r.int(-1, len(array) + 1)
    out = np.full(max(stop - start, 0), -7, dtype=np.int32)
    arg, target = out_arg(r, out) if r.chance(4) else (out, out)
    taken = (takes(arg, np.int32, 1, writable=True), null_taken)
    taken = False if False in taken else None if None in taken else True
    what = lambda: (f"{shown}.route_batch_into({array!r}, {arg!r}, {start}, {stop}, "  # noqa: E731
                    f"{allow_nulls}, {null!r}, indices=True)")
    _driver.note(what)
    got = run(layout.route_batch_into, batch, arg, start, stop, allow_nulls, null, True)
    if target is None or not 0 <= start <= stop <= len(array) or len(target) != stop - start:
        expected, valid = None, (None, ValueError())
    else:
        valid = routed_indices(positions, listed[start:stop], null_model, hasher)
        expected = valid[0]
        # (a part of a batch names its keys from the batch's start: the error's type only)
        if taken is True and got[1] is not None and type(got[1]) is type(valid[1]) \
                and (start, stop) == (0, len(array)):
            agree(what, got, valid)
    judged(what, got, taken, valid, expected, lambda: target.tolist())


def rows_model(owners: list, labels: list, n: int, starts) -> list:
    """Row i: the first n owners of distinct labels walking clockwise from point i."""
    rows = []
    m = len(owners)
    for i in starts:
        row, seen = [], set()
        for step in range(m):
            owner = owners[(i + step) % m]
            if labels[owner] not in seen:
                seen.add(labels[owner])
                row.append(owner)
                if len(row) == n:
                    break
        rows.append(row)
    return rows


REPLICA_COUNTS = (1, 1, 2, 3, "nodes", "nodes", "nodes+1", 0, -1, 2**31, 2**63, -(2**63) - 1,
                  True, 2.0, None, np.int64(2), "2")


def replica_rows(r, layout) -> None:
    """replica_rows_of against a walk over the points' owners and their classes."""
    nnodes = len(layout.names)
    owners = np.array(layout.owners, dtype=np.int64).tolist()
    m = len(owners)
    n = r.pick(REPLICA_COUNTS)
    n = nnodes if n == "nodes" else nnodes + 1 if n == "nodes+1" else n
    kind = r.int(0, 5)
    if kind <= 1:
        classes = np.arange(nnodes, dtype=np.int32)  # distinct nodes
    elif kind <= 3:  # zones: nodes sharing labels, any int32 label
        pool = [r.pick((0, 1, 2, -1, 2**31 - 1, -(2**31), nnodes, 7)) for _ in range(3)]
        classes = np.array([r.pick(pool) for _ in range(nnodes)], dtype=np.int32)
    else:
        classes = int_array(r, np.int32, max(nnodes + r.pick((1, -1, 0)), 0), -3, 3, False)
    classes_arg = placed(r, classes) if r.chance(3) else classes
    classes = held(classes_arg, classes)
    what = lambda: (f"{describe_layout(layout)}.replica_rows_of({n!r}, "  # noqa: E731
                    f"{classes_arg!r})")
    _driver.note(what)
    got = run(layout.replica_rows_of, n, classes_arg)
    index = run(lambda: n.__index__())  # Py_ssize_t: an int, or what has __index__
    taken = takes(classes_arg, np.int32, 1)
    if index[1] is not None or not -(2**63) <= index[0] < 2**63:
        taken = False
    labels = classes.tolist()
    count = index[0] if index[1] is None else 0
    if not m:
        valid = (None, EMPTY_RING())
    elif len(labels) != nnodes or not 1 <= count <= nnodes:
        valid = (None, ValueError())
    elif len({labels[o] for o in set(owners)}) < count:
        valid = (None, ValueError())  # fewer classes own points than asked for
    else:
        valid = (None, None)
    expected = starts = None
    if valid == (None, None) and got[1] is None:
        if m <= 48:
            starts = list(range(m))
        else:
            starts = sorted({*range(8), *range(m - 8, m), *(r.int(0, m - 1) for _ in range(32))})
        expected = rows_model(owners, labels, count, starts)
        rows = got[0]
        if type(rows) is not np.ndarray or rows.dtype != np.int32 or rows.shape != (m, count) \
                or rows.flags.writeable:
            raise Finding(f"{what()}\n  gave {type(rows).__name__} "
                          f"{getattr(rows, 'dtype', '')} {getattr(rows, 'shape', '')}, "
                          f"writeable: {getattr(getattr(rows, 'flags', None), 'writeable', '')}"
                          f"; expected read-only int32 ({m}, {count})")
    judged(what, got, taken, valid, expected, lambda: got[0][starts].tolist())


CAPACITIES = (0, 1, 1, 2, 3, 5, 40, -1, 2**63 - 1, -(2**63))


def bounded_model(owners: list, start: list, capacity: list, null: int) -> tuple:
    """SPEC.md 11 by the rule: keys in order, each from its start point clockwise
    to the first point whose node has room. ((out, loads), None) or (None, error)."""
    m = len(owners)
    load = [0] * len(capacity)
    with_points = set(owners)
    out = []
    for s in start:
        if s < 0:
            out.append(null)
            continue
        if s >= m or not any(load[v] < capacity[v] for v in with_points):
            return None, ValueError()
        i = s
        while load[owners[i]] >= capacity[owners[i]]:
            i = (i + 1) % m
        load[owners[i]] += 1
        out.append(owners[i])
    return (out, load), None


def bounded(r, layout) -> None:
    """assign_bounded_into against bounded_model."""
    nnodes = len(layout.names)
    owners = np.array(layout.owners, dtype=np.int64).tolist()
    m = len(owners)
    nkeys = r.int(0, 40)
    hi = r.pick((m, m + 2, 2**31 - 1)) if r.int(0, 5) == 5 else m - 1
    lo = r.pick((-1, -3, -(2**31))) if r.chance(3) else 0
    start = int_array(r, np.int32, nkeys, min(lo, max(hi, 0)), max(hi, 0), False)
    if r.chance(3):  # starts at the very ends of the ring (and past them, as nulls)
        start = np.array([r.pick((0, m - 1, m - 1, -1)) if r.bool() else s
                          for s in start.tolist()], dtype=np.int32)
    shape = r.int(0, 5)
    if shape == 5:
        capacity = np.full(nnodes, r.pick(CAPACITIES), dtype=np.int64)
    elif shape == 4:
        capacity = np.array([r.pick(CAPACITIES) for _ in range(nnodes)], dtype=np.int64)
    else:  # room for the keys (or about), spread round the nodes as bounded loads are
        total = max(int(np.count_nonzero(start >= 0)), 1)
        fair = -(-total * r.int(1, 3) // max(nnodes, 1))
        capacity = np.array([fair + r.pick((0, 0, 0, 1, -1, -fair, total))
                             for _ in range(nnodes)], dtype=np.int64)
    if r.int(0, 9) == 9:
        capacity = np.append(capacity, 1) if r.bool() or not nnodes else capacity[:-1]
    null = int32_value(r)
    null_value, null_taken = int32_arg(null)
    start_arg = placed(r, start) if r.chance(4) else start
    capacity_arg = placed(r, capacity) if r.chance(4) else capacity
    start, capacity = held(start_arg, start), held(capacity_arg, capacity)
    out = np.full(len(start), -7, dtype=np.int32)
    if r.int(0, 11) == 11 and start_arg is start and start.flags.writeable:
        arg, target = start, start  # out over the starts: each read before it is written
        start = start.copy()
    else:
        arg, target = out_arg(r, out) if r.chance(4) else (out, out)
    taken = (takes(start_arg, np.int32, 1), takes(capacity_arg, np.int64, 1), null_taken,
             takes(arg, np.int32, 1, writable=True))
    taken = False if False in taken else None if None in taken else True
    what = lambda: (f"{describe_layout(layout)}.assign_bounded_into({start_arg!r}, "  # noqa: E731
                    f"{capacity_arg!r}, {null!r}, {arg!r})")
    _driver.note(what)
    got = run(layout.assign_bounded_into, start_arg, capacity_arg, null, arg)
    expected = None
    if len(capacity) != nnodes or target is None or len(target) != len(start):
        valid = (None, ValueError())
    elif not len(start):
        valid, expected = (None, None), ([], [0] * nnodes)
    elif not m:
        valid = (None, EMPTY_RING())
    else:
        valid = bounded_model(owners, start.tolist(), capacity.tolist(), null_value)
        expected = valid[0]
        valid = (None, valid[1])
    if got[1] is None:
        loads = got[0]
        if type(loads) is not np.ndarray or loads.dtype != np.int64 or loads.shape != (nnodes,):
            raise Finding(f"{what()}\n  returned {loads!r}, not int64 loads of {nnodes} nodes")
    judged(what, got, taken, valid, expected, lambda: (target.tolist(), got[0].tolist()))


def rows_arg(r, rows: np.ndarray):
    """rows as a take_rows argument: itself, guarded, read-only, or a wrong kind."""
    how = r.int(0, 11)
    if how == 0:
        return guarded_array(rows, at_start=r.bool()).reshape(rows.shape)
    if how == 1:
        return np.asfortranarray(rows)
    if how == 2:
        return rows.astype(r.pick((np.int64, np.uint32, ">i4")))
    if how == 3:
        return r.pick((None, rows.tolist(), rows.reshape(-1), rows[None], memoryview(rows)))
    if how == 4:
        copy = rows.copy()
        copy.flags.writeable = False
        return copy
    if how == 5:
        return rows[:, ::-1] if rows.shape[1] > 1 else rows[::-1]
    return rows


def overlapping(r, rows: np.ndarray, n: int):
    """rows and an out of n rows in one buffer, overlapping at any element offset."""
    nrows, width = rows.shape
    size = max(nrows, n) * width + 2 * width + 4
    buffer = np.zeros(size, dtype=np.int32)
    at_rows, at_out = r.int(0, size - nrows * width), r.int(0, size - n * width)
    rows_view = buffer[at_rows : at_rows + nrows * width].reshape(nrows, width)
    rows_view[...] = rows
    return rows_view, buffer[at_out : at_out + n * width].reshape(n, width)


def rows_taken(r) -> None:
    """take_rows against out[k] = rows[indices[k]], or null_value across the row."""
    nrows, width, n = r.int(0, 6), r.int(0, 4), r.int(0, 10)
    rows = int_array(r, np.int32, nrows * width, -(2**31), 2**31 - 1, False).reshape(
        nrows, width)
    hi = r.pick((nrows - 1, nrows - 1, nrows, nrows + 3, 2**31 - 1))
    indices = int_array(r, np.int32, n, r.pick((0, -1, -(2**31))), max(hi, 0), False)
    null = int32_value(r)
    null_value, null_taken = int32_arg(null)
    overlap = r.int(0, 15) == 15
    if overlap and width:
        rows_in, out = overlapping(r, rows, n)
        arg = target = out
    else:
        overlap = False
        rows_in = rows_arg(r, rows) if r.chance(3) else rows
        out = np.full((n, width), -7, dtype=np.int32)
        arg, target = out_arg(r, out) if r.chance(3) else (out, out)
    indices_arg = placed(r, indices) if r.chance(4) else indices
    indices = held(indices_arg, indices)
    taken = (takes(rows_in, np.int32, 2), takes(indices_arg, np.int32, 1), null_taken,
             takes(arg, np.int32, 2, writable=True))
    taken = False if False in taken else None if None in taken else True
    what = lambda: (f"take_rows({rows_in!r}, {indices_arg!r}, {arg!r}, {null!r})"  # noqa: E731
                    + (" (rows and out overlap)" if overlap else ""))
    _driver.note(what)
    got = run(take_rows, rows_in, indices_arg, arg, null)
    if overlap:  # which rows are read after being written is not part of the rule
        check_clean(what, got, CLEAN)
        return
    expected = None
    past = any(at >= nrows for at in indices.tolist())
    if target is None or np.shape(target) != (len(indices), width):
        valid = (None, ValueError())
    elif past and width:
        valid = (None, ValueError())
    elif past:  # no columns to copy: take_rows returns before it checks an index
        valid, expected = (None, None if got[1] is None else ValueError()), [[]] * len(indices)
    else:
        listed = rows.tolist()
        valid = (None, None)
        expected = [[null_value] * width if at < 0 else listed[at] for at in indices.tolist()]
    judged(what, got, taken, valid, expected, lambda: target.tolist())


def batch_ops(r) -> None:
    layout = batch_layout(r)
    what = lambda: f"batch entry points of {describe_layout(layout)}"  # noqa: E731
    _driver.note(what)
    step = r.int(0, 3)
    if step == 0 or r.chance(4):
        batch_indices(r, layout)
    if step == 1 or r.chance(4):
        replica_rows(r, layout)
    if step == 2 or r.chance(4):
        bounded(r, layout)
    if step == 3 or r.chance(4):
        rows_taken(r)


# -- layouts and rings made without their constructor ---------------------------------


def unfilled(r, obj=None) -> None:
    """An object made without its constructor: every call raises cleanly, and
    routing valid keys raises what an empty ring raises."""
    if obj is None:
        how = r.int(0, 5)
        obj = (lambda: LayoutBase.__new__(LayoutBase),
               lambda: LayoutBase.__new__(RingLayout),
               lambda: LayoutBase.__new__(SubLayout),
               lambda: copyreg._reconstructor(RingLayout, LayoutBase, None),
               lambda: RingBase(),
               lambda: RingBase.__new__(ringcore.HashRing))[how]()
        if isinstance(obj, RingBase) and r.bool():
            obj._layout = LayoutBase.__new__(r.pick((LayoutBase, RingLayout)))
    what = lambda: f"unfilled {type(obj).__name__}"  # noqa: E731
    _driver.note(what)
    exercise(what, obj)
    layout = run(lambda: obj._layout)[0] if isinstance(obj, RingBase) else obj
    keys, array = ["a", 1, b"b"][: r.int(1, 3)], np.arange(r.int(1, 4), dtype=np.int64)
    empty = [
        ("get_node", lambda: obj.get_node(r.pick(("k", 5, b"k")))),
        ("get_nodes", lambda: obj.get_nodes("k", 1)),
    ]
    if isinstance(layout, LayoutBase) and len(layout.positions) == 0:
        empty += [
            ("route_hashes_into", lambda: layout.route_hashes_into(
                np.arange(len(array), dtype=np.uint64), np.zeros(len(array), np.int32))),
            ("route_list_into", lambda: layout.route_list_into(
                keys, np.zeros(len(keys), np.int32), r.bool(), -1)),
            ("route_batch_into", lambda: layout.route_batch_into(
                KeyBatch.from_numpy(array), np.zeros(len(array), np.int32), 0, len(array),
                r.bool(), -1)),
            ("route_hashes_into with indices", lambda: layout.route_hashes_into(
                np.arange(len(array), dtype=np.uint64), np.zeros(len(array), np.int32), True)),
            ("route_list_into with indices", lambda: layout.route_list_into(
                keys, np.zeros(len(keys), np.int32), r.bool(), -1, True)),
            ("route_batch_into with indices", lambda: layout.route_batch_into(
                KeyBatch.from_numpy(array), np.zeros(len(array), np.int32), 0, len(array),
                r.bool(), -1, True)),
            ("replica_rows_of", lambda: layout.replica_rows_of(
                r.int(1, 3), np.zeros(len(layout.names), np.int32))),
            ("assign_bounded_into", lambda: layout.assign_bounded_into(
                np.zeros(len(array), np.int32), np.ones(len(layout.names), np.int64), -1,
                np.zeros(len(array), np.int32))),
        ]
    for name, call in empty:
        got = run(call)
        if not isinstance(got[1], EMPTY_RING):
            raise Finding(f"{what()}\n  {name} of valid keys gave {got!r}, not EmptyRingError "
                          "(as a layout with no points)")


def test_one_input(data: bytes) -> None:
    r = _driver.Reader(data)
    part = r.int(0, 10)
    with np.errstate(all="ignore"):  # float arrays cast to uint64, by the core and here alike
        (pickles, layout_arrays, hashing, lists, points, updates, unfilled, batch_ops,
         _internals_dialects.digests, _internals_dialects.jump_kernel,
         _internals_dialects.rendezvous_kernels)[part](r)


if __name__ == "__main__":
    _driver.main(test_one_input)
