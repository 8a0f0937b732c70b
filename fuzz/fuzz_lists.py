"""Fuzz the Python-object paths: lists, tuples and other iterables of mixed keys.

Decoding: one byte picks the ring (empty, 1, 3, 4 weighted or 40 nodes), one
the container (list, tuple, generator, list subclass, dict keys, iterator),
then the keys (_keys.keys: str ASCII or not, with surrogates, bytes,
bytearray, memoryview of any layout, ints of any size, numpy integers, junk,
subclasses with lying hooks), sometimes repeated past the core's 1024-key
chunks, then the null value, the thread count and the n of get_nodes.
route (with and without null=, with threads=), hash_keys, get_node and
get_nodes must give the core's and the reference's answer or exception type.
One input in 32 instead routes a list that empties itself from a key's hook:
the core must answer or raise cleanly.
"""

import numpy as np

import _driver

with _driver.instrumented():
    import _keys
    import ringcore
    from ringcore import reference

from _compare import agree, check_clean, clip, run
from _driver import CLEAN

RINGS = (
    ((), 160),
    (("a",), 1),
    (("a", "b", "c"), 3),
    ({"x": 0.5, "y": 2.0, "é": 1.0, "🙂#1": 0.25}, 8),
    (tuple(f"n{i}" for i in range(40)), 2),
)
_built: dict = {}

CONTAINERS = ("list", "tuple", "generator", "list subclass", "dict keys", "iterator")
NULLS = (None, -1, 0, 1, 7, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, True, 1.5,
         np.int32(3), np.uint64(2**40), "1")
THREADS = (None, 1, 2, 3, np.int64(2), 0, -1, 1.5, True, "2")
REPLICAS = (1, 2, 3, 4, 0, -1, 41, True, 2.0, np.int8(2), _keys.IntDunder(1), "2", None)


class KeyList(list):
    pass


def rings(i: int):
    if i not in _built:
        nodes, vnodes = RINGS[i]
        _built[i] = (ringcore.HashRing(nodes, vnodes=vnodes),
                     reference.HashRing(nodes, vnodes=vnodes))
    return _built[i]


def container(kind: str, keys: list):
    """A fresh container (generators are single use) holding the keys."""
    if kind == "list":
        return list(keys)
    if kind == "tuple":
        return tuple(keys)
    if kind == "generator":
        return (k for k in keys)
    if kind == "list subclass":
        return KeyList(keys)
    if kind == "dict keys":
        try:  # both rings get the same view, whatever equal keys it merged
            return dict.fromkeys(keys).keys()
        except Exception:  # noqa: BLE001 - unhashable keys, or hooks that raise
            return list(keys)
    return iter(list(keys))


class ClearsInt(np.int64):
    """Empties the list being routed when the core asks for its value."""

    victim: list = []

    def __int__(self):
        ClearsInt.victim.clear()
        return 1

    __index__ = __int__


class ClearsStr(str):
    """A str with no UTF-8 whose encode() empties the list being routed."""

    def encode(self, *args, **kwargs):
        ClearsInt.victim.clear()
        return b"x"


def shrinking(r, core) -> None:
    """A list that empties itself while the core walks it: any clean error
    (or RuntimeError, which the core raises for it) or an answer, no crash."""
    keys = _keys.keys(r) * r.int(1, 200)
    keys.insert(r.int(0, len(keys)), ClearsInt(3) if r.bool() else ClearsStr("\ud800"))
    ClearsInt.victim = keys
    what = lambda: f"route(a list that empties itself: {clip(repr(keys))})"  # noqa: E731
    _driver.note(what)
    check_clean(what, run(core.route, keys, null=r.pick((None, 0))), CLEAN + (RuntimeError,))
    ClearsInt.victim = []


def test_one_input(data: bytes) -> None:
    r = _driver.Reader(data)
    ring_index = r.int(0, len(RINGS) - 1)
    core, ref = rings(ring_index)
    if r.chance(32):
        return shrinking(r, core)
    kind = r.pick(CONTAINERS)
    keys = _keys.keys(r)
    if keys and r.chance(32):
        keys = keys * r.int(2, 300)
    null, threads, n = r.pick(NULLS), r.pick(THREADS), r.pick(REPLICAS)
    case = lambda: clip(  # noqa: E731
        f"ring=HashRing{RINGS[ring_index]!r} container={kind} null={null!r} "
        f"threads={threads!r} n={n!r}\nkeys={keys!r}")
    _driver.note(case)

    def both(call: str, method: str, **kwargs) -> None:
        outcomes = [run(getattr(ring, method), container(kind, keys), **kwargs)
                    for ring in (core, ref)]
        agree(lambda: f"{call}\n{case()}", *outcomes)

    both("route(keys)", "route")
    both(f"route(keys, null={null!r}, threads={threads!r})", "route", null=null, threads=threads)
    both(f"hash_keys(keys, threads={threads!r})", "hash_keys", threads=threads)
    for i, key in enumerate(keys[:4]):
        agree(lambda: f"get_node(keys[{i}])\n{case()}", run(core.get_node, key),
              run(ref.get_node, key))
        agree(lambda: f"get_nodes(keys[{i}], {n!r})\n{case()}", run(core.get_nodes, key, n),
              run(ref.get_nodes, key, n))


if __name__ == "__main__":
    _driver.main(test_one_input)
