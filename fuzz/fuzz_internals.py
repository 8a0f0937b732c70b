"""Fuzz the internal state and the compiled functions directly.

Decoding: the first byte chooses the part.

* Pickles: a valid pickle of a core or reference ring (any protocol) with up
  to 6 byte edits (overwrite, insert, delete, or an interesting opcode). An
  unpickler limited to ringcore's own classes and a few builtins loads it: it
  must raise or give an object whose methods raise or answer, never crash.
* RingState(names, weights, positions, owners) from decoded tuples and arrays
  (raw or sorted positions, owners in or out of range, wrong dtypes, strided,
  read-only or guarded memory): a state that is built must hold sorted points
  with valid owners, and its route_hashes / route_list / get_node / get_nodes
  (through RingBase) must match a bisect over the same points.
* Functions: xxh3_64 on guarded memory of every length class against the
  xxhash package; hash_key, hash_list, hashes_from_list, node_points,
  sort_points and merge_points with decoded (often wrong) arguments, checked
  against plain-Python answers where the arguments are valid.
"""

import bisect
import io
import pickle
import pickletools

import numpy as np
import xxhash

import _driver

with _driver.instrumented():
    import _keys
    import ringcore
    from ringcore import reference
    from ringcore._core import (
        KeyBatch,
        RingBase,
        RingState,
        hash_batch,
        hash_key,
        hash_list,
        hashes_from_list,
        merge_points,
        node_points,
        sort_points,
        xxh3_64,
    )

from _compare import check_clean, run, same
from _driver import Finding
from guarded import Guarded, guarded_array

# -- pickles ----------------------------------------------------------------------

MAX_FUZZ_POINTS = 20_000  # larger rings are valid but too slow to build per input


def _small(nodes, vnodes) -> bool:
    try:
        weights = nodes.values() if isinstance(nodes, dict) else [w for _, w in nodes]
        return float(vnodes) * sum(max(float(w), 0.0) for w in weights) <= MAX_FUZZ_POINTS
    except Exception:  # noqa: BLE001 - let the real code report bad values
        return True


def _restore(cls, nodes, vnodes):
    if not _small(nodes, vnodes):
        raise pickle.UnpicklingError("ring too large for the fuzzer")
    return ringcore.ring._restore(cls, nodes, vnodes)


class SmallReferenceRing(reference.HashRing):
    """reference.HashRing whose unpickling refuses rings too large to fuzz fast."""

    def __setstate__(self, state):
        if isinstance(state, dict) and not _small(state.get("nodes", ()), state.get("vnodes", 1)):
            raise pickle.UnpicklingError("ring too large for the fuzzer")
        super().__setstate__(state)


ALLOWED = {
    ("ringcore.ring", "_restore"): _restore,
    ("ringcore.reference", "HashRing"): SmallReferenceRing,
    ("ringcore.ring", "HashRing"): ringcore.HashRing,
    ("ringcore", "HashRing"): ringcore.HashRing,
    ("ringcore._core", "RingState"): RingState,
    ("ringcore._core", "RingBase"): RingBase,
    ("ringcore._core", "KeyBatch"): KeyBatch,
    ("copyreg", "_reconstructor"): __import__("copyreg")._reconstructor,
    ("builtins", "object"): object,
    ("builtins", "dict"): dict,
    ("builtins", "list"): list,
    ("builtins", "tuple"): tuple,
    ("builtins", "float"): float,
}


class Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed here") from None


PICKLED = [
    pickle.dumps(cls(nodes, vnodes=vnodes), protocol=protocol)
    for cls in (ringcore.HashRing, reference.HashRing)
    for nodes, vnodes in ((["a", "b"], 3), ({"é": 0.5, "🙂#1": 2.0}, 4), ([], 2))
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
        lambda: obj.get_node("key"),
        lambda: obj.get_nodes(b"key", 1),
        lambda: obj.route(["a", 1, b"b"], null=-1),
        lambda: obj.route(np.arange(5, dtype=np.uint64), threads=2),
        lambda: obj.route_hashes([0, 2**64 - 1]),
        lambda: obj.ownership(),
        lambda: (obj.positions.sum(), obj.owners.sum()),
        lambda: obj.add_node("fuzz-added"),
        lambda: obj.remove_node("a"),
        lambda: obj == obj,
        lambda: pickle.loads(pickle.dumps(obj)),
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


def pickles(r) -> None:
    data = mutate(r, r.pick(PICKLED))
    if cpython_trouble(data):
        return
    what = lambda: f"restricted pickle.loads({data!r})"  # noqa: E731
    _driver.note(what)
    loaded = run(lambda: Unpickler(io.BytesIO(data)).load())
    check_clean(what, loaded, Exception)
    if loaded[1] is None:
        exercise(what, loaded[0])


# -- RingState from arbitrary arrays ------------------------------------------------

NAMES = ("a", "b", "é", "🙂", "a#1", "")


def int_array(r, dtype, n: int, lo: int, hi: int, sorted_: bool) -> np.ndarray:
    values = [r.int(lo, hi) for _ in range(n)]
    if sorted_:
        values.sort()
    return np.array(values, dtype=dtype)


def placed(r, a: np.ndarray):
    """The array in some memory and layout, or a wrong kind of argument."""
    how = r.int(0, 9)
    if how == 0:
        return guarded_array(a, at_start=r.bool())
    if how == 1:
        return np.repeat(a, 2)[::2]  # strided
    if how == 2:
        return a.astype(r.pick((np.int64, np.uint32, np.float64, ">u8")))
    if how == 3:
        return a.tobytes()
    if how == 4:
        b = a.copy()
        b.flags.writeable = False
        return b
    if how == 5:
        return r.pick((None, list(a.tolist()), a.reshape(1, -1)))
    return a


def lookup(positions: list, owners: list, h: int) -> int:
    """SPEC.md 5: the first point at or after h, wrapping to point 0."""
    i = bisect.bisect_left(positions, h)
    return owners[0] if i == len(positions) else owners[i]


def walk(positions: list, owners: list, h: int, n: int) -> list:
    i = bisect.bisect_left(positions, h) % len(positions)
    taken: list = []
    for step in range(len(positions)):
        owner = owners[(i + step) % len(positions)]
        if owner not in taken:
            taken.append(owner)
            if len(taken) == n:
                break
    return taken


def ring_state(r) -> None:
    n_names = r.int(0, 4)
    names = tuple(r.pick(NAMES) if r.int(0, 7) else r.pick((1, None, b"x")) for _ in range(n_names))
    weights = tuple(1.0 for _ in range(n_names + (r.chance(8) and 1)))
    npoints = r.int(0, 24)
    sorted_ = r.int(0, 3) > 0
    edge = r.pick((2**64 - 1, 2**64 - 2, 0, 1, 2**63))
    pos = int_array(r, np.uint64, npoints, 0, 2**64 - 1, sorted_)
    if npoints and r.chance(3):
        pos[r.int(0, npoints - 1)] = edge
        if sorted_:
            pos.sort()
    own = int_array(r, np.int32, npoints, -1 if r.chance(8) else 0,
                    max(n_names - 1 + (r.chance(8) and 1), 0), False)
    pos_arg, own_arg = placed(r, pos), placed(r, own)
    if r.chance(16):
        names = list(names)
    what = lambda: f"RingState({names!r}, {weights!r}, {pos_arg!r}, {own_arg!r})"  # noqa: E731
    _driver.note(what)
    made = run(RingState, names, weights, pos_arg, own_arg)
    check_clean(what, made, Exception)
    state = made[0]
    if state is None:
        return
    positions = state.positions.tolist()
    owners = state.owners.tolist()
    if positions != sorted(positions) or any(not 0 <= o < len(names) for o in owners):
        raise Finding(f"{what()}\n  built a state with unsorted points or bad owners")
    if len(positions) != (npoints if isinstance(pos_arg, np.ndarray) else len(positions)):
        raise Finding(f"{what()}\n  the state has {len(positions)} points")
    probes = [r.int(0, 2**64 - 1) for _ in range(r.int(0, 6))]
    probes += [p + d for p in positions[:4] for d in (-1, 0, 1) if 0 <= p + d < 2**64]
    probes += [0, 2**64 - 1]
    hashes = np.array(probes, dtype=np.uint64)
    out = np.full(len(probes), -7, dtype=np.int32)
    got = run(state.route_hashes, hashes, out)
    check_clean(what, got, Exception)
    if not positions:
        if not isinstance(got[1], ringcore.EmptyRingError):
            raise Finding(f"{what()}\n  route_hashes on no points gave {got!r}")
        return
    expected = [lookup(positions, owners, h) for h in probes]
    if got[1] is not None or out.tolist() != expected:
        raise Finding(f"{what()}\n  route_hashes({probes}) gave {out.tolist()} {got[1]!r}, "
                      f"expected {expected}")
    keys = _keys.keys(r, 6, hooks=False)
    out = np.full(len(keys), -7, dtype=np.int32)
    routed = run(state.route_list, keys, out, True, -5)
    check_clean(what, routed, Exception)
    if routed[1] is None:
        expected = [-5 if k is None else lookup(positions, owners, reference.hash_key(k))
                    for k in keys]
        if out.tolist() != expected:
            raise Finding(f"{what()}\n  route_list({keys!r}) gave {out.tolist()}, "
                          f"expected {expected}")
    holder = RingBase()
    holder._state = state
    key, count = _keys.key(r, hooks=False), r.int(0, len(names) + 1)
    single = run(holder.get_node, key)
    several = run(holder.get_nodes, key, count)
    check_clean(what, single, Exception)
    check_clean(what, several, Exception)
    if single[1] is None:
        h = reference.hash_key(key)
        if single[0] is not names[lookup(positions, owners, h)]:
            raise Finding(f"{what()}\n  get_node({key!r}) gave {single[0]!r}")
        if several[1] is None:
            taken = [names[i] for i in walk(positions, owners, h, count)]
            if several[0] != taken or len(taken) != count:
                raise Finding(f"{what()}\n  get_nodes({key!r}, {count}) gave {several[0]!r}, "
                              f"expected {taken!r}")


# -- the functions ------------------------------------------------------------------

XXH_LENGTHS = (0, 1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 63, 64, 65, 127, 128, 129, 239, 240, 241,
               255, 256, 1023, 1024, 1025, 2047, 2048, 4095, 4096)


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
    ours, theirs = run(hash_key, key), run(reference.hash_key, key)
    if not (same(ours[0], theirs[0]) and type(ours[1]) is type(theirs[1])):
        raise Finding(f"hash_key({key!r}): {ours!r} vs reference {theirs!r}")


def lists(r) -> None:
    keys = _keys.keys(r, 10, hooks=False)
    n = len(keys) + (r.int(-1, 1) if r.chance(4) else 0)
    out = np.zeros(max(n, 0), dtype=r.pick((np.uint64, np.uint64, np.int64, np.uint32)))
    if r.chance(6) and out.size > 1:
        out = np.zeros(out.size * 2, dtype=out.dtype)[::2]
    what = lambda: f"hash_list({keys!r}, out of {out.size} {out.dtype})"  # noqa: E731
    _driver.note(what)
    got = run(hash_list, keys, out)
    check_clean(what, got, Exception)
    if got[1] is None:
        expected = run(lambda: [reference.hash_key(k) for k in keys])
        if expected[1] is not None or out.tolist() != expected[0]:
            raise Finding(f"{what()}\n  gave {out.tolist()}, expected {expected!r}")
    values = [r.pick(_keys.EDGE_INTS) if r.bool() else r.int(0, 2**64 - 1)
              for _ in range(r.int(0, 8))]
    out = np.zeros(len(values) + (r.chance(8) and 1), dtype=np.uint64)
    got = run(hashes_from_list, values, out)
    check_clean(lambda: f"hashes_from_list({values!r})", got, Exception)
    if got[1] is None and (len(out) != len(values) or out.tolist() != values):
        raise Finding(f"hashes_from_list({values!r}) gave {out.tolist()}")


def points(r) -> None:
    name = r.pick((b"a", "a".encode(), "é".encode(), b"", b"x" * 300, r.blob(20), "a", None))
    count = r.pick((0, 1, 2, 10, 160, 1000, -1, 2**32, 2**64, 1.5, None))
    what = lambda: f"node_points({name!r}, {count!r})"  # noqa: E731
    got = run(node_points, name, count)
    check_clean(what, got, Exception)
    if got[1] is None:
        expected = [xxhash.xxh3_64_intdigest(name + b"#" + str(j).encode())
                    for j in range(int(count))]  # Cython truncates a float count
        if got[0].tolist() != expected:
            raise Finding(f"{what()}\n  positions differ from XXH3-64(name#j)")
    n = r.int(0, 40)
    pos = int_array(r, np.uint64, n, 0, r.pick((3, 2**64 - 1)), False)
    own = int_array(r, np.int32, n + (r.chance(8) and 1), -3, 3, False)
    pos_arg, own_arg = placed(r, pos), placed(r, own)
    before = list(zip(pos.tolist(), own.tolist()))
    what = lambda: f"sort_points({before!r}) as {type(pos_arg)}, {type(own_arg)}"  # noqa: E731
    got = run(sort_points, pos_arg, own_arg)
    check_clean(what, got, Exception)
    if got[1] is None and pos_arg is pos and own_arg is own:
        expected = sorted(before, key=lambda point: point[0])  # stable
        if list(zip(pos.tolist(), own.tolist())) != expected:
            raise Finding(f"{what()}\n  is not a stable sort")
    merging(r)


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


def merging(r) -> None:
    nnodes = r.int(0, 4)
    old = int_array(r, np.uint64, r.int(0, 12), 0, r.pick((5, 2**64 - 1)), r.int(0, 3) > 0)
    old_own = int_array(r, np.int32, len(old) + (r.chance(8) and 1), -1 if r.chance(8) else 0,
                        max(nnodes - 1 + (r.chance(8) and 1), 0), False)
    new = int_array(r, np.uint64, r.int(0, 12), 0, r.pick((5, 2**64 - 1)), r.int(0, 3) > 0)
    first = np.array([r.bool() for _ in range(nnodes)], dtype=np.uint8)
    owner = r.pick((nnodes, 0, -1, 2**31 - 1, 2**31))
    what = lambda: f"merge_points({old!r}, {old_own!r}, {new!r}, {owner}, {first!r})"  # noqa: E731
    got = run(merge_points, placed(r, old), old_own, new, owner, first)
    check_clean(what, got, Exception)
    valid = (len(old) == len(old_own) and list(old) == sorted(old) and list(new) == sorted(new)
             and all(0 <= o < nnodes for o in old_own.tolist()))
    if got[1] is None and valid:
        expected = merge(old.tolist(), old_own.tolist(), new.tolist(), owner, first.tolist())
        if (got[0][0].tolist(), got[0][1].tolist()) != expected:
            raise Finding(f"{what()}\n  gave {got[0]!r}, expected {expected!r}")
    out, start, stop = np.zeros(r.int(0, 2), np.uint64), r.int(-1, 1), r.int(-1, 1)
    check_clean(lambda: f"hash_batch(KeyBatch(), {out!r}, {start}, {stop})",
                run(hash_batch, KeyBatch(), out, start, stop), Exception)


def test_one_input(data: bytes) -> None:
    r = _driver.Reader(data)
    part = r.int(0, 4)
    (pickles, ring_state, hashing, lists, points)[part](r)


if __name__ == "__main__":
    _driver.main(test_one_input)
