"""Fuzz sequences of ring operations on the core and the reference side by side.

The first byte chooses the part: the default ring against the reference
(below), a dialect ring ("ketama", "libmemcached", "libmemcached-weighted"),
JumpHash or RendezvousHash, or ringcore.pymemcache.Hasher, each against its
model in _dialects.py (see _placers.py).

Default ring. Decoding: the next bytes build a ring (names from a small pool, some invalid
or with lying hooks; weights and vnodes from small pools of good and bad
values, as a list, a dict or a generator), then up to 16 operations, one byte
each plus their arguments: construct again, add_node, remove_node, get_node,
get_nodes, route and route_hashes (with or without return_nodes), hash_keys,
ownership, ==, pickle round trip, reading positions / owners / nodes /
weights, taking the core ring's layout, the batch operations route_replicas,
assign_bounded and load (on the core ring or its snapshot(); keys as a list
or a numpy array, decoded n, epsilon, threads, null and skip_nulls), and
ring.snapshot(). Every call must give the same answer or exception type on
both rings; after every call the two rings must be the same ring, with node
names stored as plain str and the same version (updates that succeeded), and
a call that fails must leave each ring as it was. Two rings are equal when
vnodes and the nodes with their weights, in order, are equal. A layout taken
from the core ring (ring.layout or ring.snapshot(), of the ring's version)
equals a RingLayout built from the reference's configuration, makes an equal
ring with HashRing.from_layout, and never changes (nor its version) while the
ring it came from is updated.
"""

import math
import pickle
from decimal import Decimal
from fractions import Fraction

import _driver
import numpy as np

with _driver.instrumented():
    import _keys
    import _placers

    import ringcore
    from ringcore import reference
    from ringcore.layout import RingLayout

from _compare import agree, clip, run
from _driver import Finding

NAMES = ("a", "b", "c", "é", "节点", "a#1", "#", "🙂", "x" * 40, "n1", "A", "b#")
BAD_NAMES = ("", "\ud800", b"a", 1, None, _keys.StrEncode("a"), _keys.StrEqAll("b"))
WEIGHTS = (1.0, 1.0, 0.5, 2.0, 1, 3, 0.02, 0.1, 1e-9, 0.0, -1.0, math.nan, math.inf, True,
           "1", None, np.float32(0.5), np.float64(1.5), Fraction(1, 3), Decimal(1), 1e12, 2**70)
VNODES = (1, 2, 3, 5, 8, 16, 16, 0, -1, True, 2.0, np.int64(4), "8", None, 10**12, 2**1100)
REPLICAS = (1, 2, 3, 0, -1, 13, True, 2.0, np.int64(2), None)
NULLS = (None, -1, 0, 5, 2**31)
THREADS = (None, 1, 2, 0, True)
EPSILONS = (0.5, 0.1, 1.0, 2.0, 1e-9, 1e-300, 1e308, 1, np.float64(0.25), Fraction(1, 3), 0.0,
            -0.5, math.inf, math.nan, True, "0.5", None, Decimal("0.5"))
SKIP_NULLS = (False, True, None, 1, np.bool_(True))
HASH_EDGES = (0, 1, 2**63, 2**64 - 1, -1, 2**64, True, 1.5, np.uint64(7), np.int8(-1))


def name(r):
    return r.pick(BAD_NAMES) if r.chance(8) else r.pick(NAMES)


def weight(r):
    return r.pick(WEIGHTS) if r.chance(3) else 1.0


def nodes(r):
    """A nodes argument, and a function giving a fresh copy (generators are single use)."""
    items = [(name(r), weight(r)) for _ in range(r.int(0, 6))]
    kind = r.int(0, 3)
    if kind == 0:
        return lambda: [n for n, _ in items]
    if kind == 1:
        return lambda: (n for n, _ in items)
    if kind == 2 and all(_hashable(n) for n, _ in items):
        return lambda: dict(items)
    return lambda: [n for n, _ in items][:1]


def _hashable(x) -> bool:
    try:
        hash(x)
        return True
    except TypeError:
        return False


def hashes(r):
    """A route_hashes argument factory (fresh on each call) and its description."""
    values = [r.pick(HASH_EDGES) if r.chance(4) else r.int(0, 2**64 - 1)
              for _ in range(r.int(0, 8))]
    kind = r.int(0, 7)
    if kind == 0:
        return lambda: list(values), repr(values)
    if kind == 1:
        return lambda: tuple(values), repr(tuple(values))
    if kind == 2:
        return lambda: iter(values), f"iter({values!r})"
    clean = [v % 2**64 for v in values if type(v) is int]
    dtype = r.pick((np.uint64, np.int64, np.uint8, np.float64, ">u8"))
    text = f"np.array({clean!r}, dtype=np.uint64)"
    if kind == 3:
        return lambda: np.array(clean, dtype=np.uint64).astype(dtype), f"{text}.astype({dtype!r})"
    if kind == 4:
        return lambda: np.array(clean, dtype=np.uint64).astype(np.int64)[::-1], \
            f"{text}.astype(np.int64)[::-1]"
    if kind == 5:
        return lambda: memoryview(np.array(clean, dtype=np.uint64)), f"memoryview({text})"
    if kind == 6:
        return lambda: bytes(8 * len(clean)), f"bytes({8 * len(clean)})"
    even = clean[: len(clean) // 2 * 2]
    return (lambda: np.array(even, dtype=np.uint64).reshape(2, -1),
            f"np.array({even!r}, dtype=np.uint64).reshape(2, -1)")


def snapshot(ring) -> tuple:
    # str.__str__: the plain value, whatever a subclass's __eq__ says
    names = tuple(str.__str__(n) if isinstance(n, str) else n for n in ring.nodes)
    return (names, [(str.__str__(n), type(w), w) for n, w in ring.weights.items()],
            ring.vnodes, ring.positions.tobytes(), ring.owners.tobytes(), ring.version)


def layout_snapshot(layout) -> tuple:
    return (layout.names, layout.node_weights, layout.vnodes, layout.dialect,
            layout.positions.tobytes(), layout.owners.tobytes())


def batch_keys(r):
    """Keys for the batch operations (a factory, fresh on each call, and a
    description): a list, a numpy array (1-D or 2-D) of ints or strings, or a
    run of up to 300 ints (enough keys to fill the nodes bounded loads allow)."""
    keys = _keys.keys(r, 8, hooks=False)
    kind = r.int(0, 7)
    if kind == 7:
        first, count = _keys.any_int(r) % 2**62, r.int(0, 300)
        return lambda: np.arange(first, first + count), f"np.arange({first}, {first + count})"
    if kind == 3 and keys:
        values = [_keys.any_int(r) % 2**63 for _ in keys]
        if r.bool():
            values = [_keys.text(r, 6, ascii_only=True) for _ in keys]
        shape = (2, -1) if len(values) % 2 == 0 and r.bool() else (-1,)
        return lambda: np.array(values).reshape(shape), f"np.array({values!r}).reshape{shape}"
    return lambda: list(keys), repr(keys)


def load_summary(load) -> tuple:
    """Everything a Load tells, NaN as a string (NaN != NaN)."""
    def plain(x):
        return "nan" if isinstance(x, float) and math.isnan(x) else x

    return (type(load), load.nodes, load.counts.dtype, load.counts.tolist(),
            load.counts.flags.writeable, load.total, plain(load.mean), plain(load.max_over_mean),
            plain(load.stdev_over_mean), load.most if load.nodes else None,
            load.least if load.nodes else None, load.as_dict(), repr(load))


def same_ring(what, core, ref) -> None:
    if snapshot(core) != snapshot(ref):
        raise Finding(f"{what()}\n  the rings differ:\n  core:      {snapshot(core)[:3]}\n"
                      f"  reference: {snapshot(ref)[:3]}")
    for n in NAMES:
        if (n in core) != (n in ref):
            raise Finding(f"{what()}\n  {n!r} in ring differs")
    for ring in (core, ref):
        if any(type(n) is not str for n in ring.nodes + tuple(ring.weights)):
            raise Finding(f"{what()}\n  {type(ring).__module__}: a node name is not a plain str")
    if len(core) != len(ref):
        raise Finding(f"{what()}\n  len differs")


def equal_config(a, b) -> bool:
    """The rule: same vnodes and the same nodes with the same weights, in order."""
    return a.vnodes == b.vnodes and list(a.weights.items()) == list(b.weights.items())


def test_one_input(data: bytes) -> None:
    r = _driver.Reader(data)
    part = r.int(0, 9)
    if part <= 4:
        default_ring(r)
    elif part <= 6:
        _placers.dialect_ring(r)
    elif part <= 8:
        _placers.placer(r)
    else:
        _placers.memcache_hasher(r)


def default_ring(r) -> None:
    log = []
    what = lambda: clip("\n".join(log), 6000)  # noqa: E731
    make, vnodes = nodes(r), r.pick(VNODES) if r.chance(4) else 4
    log.append(f"HashRing({list(make())!r}, vnodes={vnodes!r})")
    built = construct(what, make, vnodes)
    if built is None:
        return
    core, ref = built
    held: list = []  # (layout taken from the core ring, its snapshot then)
    for _ in range(r.int(0, 16)):
        op = r.int(0, 19)
        before = snapshot(core), snapshot(ref)
        if op == 0:
            make, vnodes = nodes(r), r.pick(VNODES) if r.chance(4) else 4
            log.append(f"ring = HashRing({list(make())!r}, vnodes={vnodes!r})")
            built = construct(what, make, vnodes)
            if built is not None:
                core, ref = built
                before = snapshot(core), snapshot(ref)
        elif op <= 2:
            n, w, plain = name(r), weight(r), r.chance(4)
            log.append(f"add_node({n!r})" if plain else f"add_node({n!r}, {w!r})")
            args = (n,) if plain else (n, w)
            update(what, (run(core.add_node, *args), run(ref.add_node, *args)), core, ref, before)
        elif op == 3:
            n = name(r) if r.chance(3) or not len(core) else r.pick(core.nodes)
            log.append(f"remove_node({n!r})")
            update(what, (run(core.remove_node, n), run(ref.remove_node, n)), core, ref, before)
        elif op == 4:
            k = _keys.key(r, hooks=False)
            log.append(f"get_node({k!r})")
            agree(what, run(core.get_node, k), run(ref.get_node, k))
        elif op == 5:
            k, count = _keys.key(r, hooks=False), r.pick(REPLICAS)
            log.append(f"get_nodes({k!r}, {count!r})")
            agree(what, run(core.get_nodes, k, count), run(ref.get_nodes, k, count))
        elif op == 6:
            keys, null, threads = _keys.keys(r, 8, hooks=False), r.pick(NULLS), r.pick(THREADS)
            both = r.bool()
            log.append(f"route({keys!r}, null={null!r}, threads={threads!r}, return_nodes={both})")
            agree(what, run(core.route, keys, null=null, threads=threads, return_nodes=both),
                  run(ref.route, keys, null=null, threads=threads, return_nodes=both))
        elif op == 7:
            make_hashes, shown = hashes(r)
            both = r.bool()
            log.append(f"route_hashes({shown}, return_nodes={both})")
            agree(what, run(core.route_hashes, make_hashes(), return_nodes=both),
                  run(ref.route_hashes, make_hashes(), return_nodes=both))
        elif op == 8:
            keys = _keys.keys(r, 8, hooks=False)
            log.append(f"hash_keys({keys!r})")
            agree(what, run(core.hash_keys, keys), run(ref.hash_keys, keys))
        elif op == 9:
            log.append("ownership()")
            agree(what, run(lambda: list(core.ownership().items())),
                  run(lambda: list(ref.ownership().items())))
        elif op == 10:
            equality(r, core, ref, log, what)
        elif op == 11:
            protocol = r.int(0, pickle.HIGHEST_PROTOCOL)
            log.append(f"pickle round trip, protocol {protocol}")
            for ring in (core, ref):
                copy = pickle.loads(pickle.dumps(ring, protocol=protocol))
                if type(copy) is not type(ring) or snapshot(copy) != snapshot(ring) or copy != ring:
                    raise Finding(f"{what()}\n  {type(ring).__module__}: the copy differs")
        elif op == 12:
            log.append("read nodes, weights, vnodes, positions, owners")
            for ring in (core, ref):
                if ring.positions.flags.writeable or ring.owners.flags.writeable:
                    raise Finding(f"{what()}\n  {type(ring).__module__}: writeable points")
        elif op >= 15:
            batch_op(r, op, core, ref, log, what, held)
        else:
            log.append("layout = ring.layout; HashRing.from_layout(layout)")
            take_layout(what, core, ref, held)
        if op > 3 and before != (snapshot(core), snapshot(ref)):
            raise Finding(f"{what()}\n  a lookup changed the ring")
        same_ring(what, core, ref)
        for layout, then in held:
            if layout_snapshot(layout) + (layout.version,) != then:
                raise Finding(f"{what()}\n  a layout taken earlier changed: {layout!r}")


def batch_op(r, op, core, ref, log, what, held) -> None:
    """route_replicas, assign_bounded or load on both rings (the core's through
    its snapshot now and then), or ring.snapshot()."""
    target, on = core, "ring"
    if r.int(0, 3) == 3:
        target, on = core.snapshot(), "ring.snapshot()"
    make_keys, shown = batch_keys(r)
    threads = r.pick(THREADS) if r.chance(3) else None
    null = r.pick(NULLS)
    if op == 15:
        count = r.pick(REPLICAS)
        log.append(f"{on}.route_replicas({shown}, {count!r}, threads={threads!r}, "
                   f"null={null!r})")
        agree(what, run(target.route_replicas, make_keys(), count, threads=threads, null=null),
              run(ref.route_replicas, make_keys(), count, threads=threads, null=null))
    elif op == 16:
        epsilon = r.pick(EPSILONS)
        log.append(f"{on}.assign_bounded({shown}, {epsilon!r}, threads={threads!r}, "
                   f"null={null!r})")
        agree(what, run(target.assign_bounded, make_keys(), epsilon, threads=threads, null=null),
              run(ref.assign_bounded, make_keys(), epsilon, threads=threads, null=null))
    elif op == 17:
        skip = r.pick(SKIP_NULLS)
        log.append(f"{on}.load({shown}, threads={threads!r}, skip_nulls={skip!r})")
        agree(what, run(lambda: load_summary(target.load(make_keys(), threads=threads,
                                                         skip_nulls=skip))),
              run(lambda: load_summary(ref.load(make_keys(), threads=threads,
                                                skip_nulls=skip))))
    else:
        log.append("layout = ring.snapshot()")
        layout = core.snapshot()
        if type(layout) is not RingLayout or layout.version != core.version or \
                layout.version != ref.version or layout != core.layout or \
                layout_snapshot(layout) != layout_snapshot(core.layout):
            raise Finding(f"{what()}\n  ring.snapshot() is {layout!r} of version "
                          f"{layout.version}, the ring's is {core.version}")
        held.append((layout, layout_snapshot(layout) + (layout.version,)))


def take_layout(what, core, ref, held: list) -> None:
    """The core ring's current layout: the reference's configuration built
    again, and a ring of its own."""
    layout = core.layout
    if type(layout) is not RingLayout:
        raise Finding(f"{what()}\n  ring.layout is a {type(layout).__name__}")
    held.append((layout, layout_snapshot(layout) + (layout.version,)))
    rebuilt = RingLayout(ref.weights, vnodes=ref.vnodes)
    if rebuilt != layout or layout_snapshot(rebuilt) != layout_snapshot(layout):
        raise Finding(f"{what()}\n  the layout {layout!r} differs from the reference's "
                      f"configuration built again: {rebuilt!r}")
    ring = ringcore.HashRing.from_layout(layout)
    if ring.layout is not layout or ring != core or snapshot(ring) != snapshot(core):
        raise Finding(f"{what()}\n  HashRing.from_layout(ring.layout) differs from the ring")


def construct(what, make, vnodes):
    """(core ring, reference ring), or None when both refuse the same way."""
    built = [run(cls, make(), vnodes=vnodes) for cls in (ringcore.HashRing, reference.HashRing)]
    agree(what, *[(None, err) for _, err in built])
    if built[0][1] is not None:
        return None
    same_ring(what, built[0][0], built[1][0])
    return built[0][0], built[1][0]


def update(what, outcomes, core, ref, before) -> None:
    """Same outcome on both rings; a failed update leaves its ring as it was."""
    agree(what, *outcomes)
    for (_, err), ring, old in zip(outcomes, (core, ref), before):
        if err is not None and snapshot(ring) != old:
            raise Finding(f"{what()}\n  {type(ring).__module__}: the failed update "
                          f"({type(err).__name__}) changed the ring")


def equality(r, core, ref, log, what) -> None:
    """== against a ring built from a variation of this one's configuration."""
    items = list(core.weights.items())
    change = r.int(0, 4)
    vnodes = core.vnodes
    if change == 1 and len(items) > 1:
        i = r.int(1, len(items) - 1)
        items[0], items[i] = items[i], items[0]
    elif change == 2 and items:
        items[-1] = (items[-1][0], items[-1][1] * 2)
    elif change == 3:
        vnodes += 1
    elif change == 4 and items:
        items.pop(r.int(0, len(items) - 1))
    log.append(f"== HashRing({dict(items)!r}, vnodes={vnodes})")
    other_core = ringcore.HashRing(dict(items), vnodes=vnodes)
    other_ref = reference.HashRing(dict(items), vnodes=vnodes)
    expected = equal_config(core, other_core)
    for ring, other in ((core, other_core), (ref, other_ref)):
        if (ring == other) != expected or (other == ring) != expected:
            raise Finding(f"{what()}\n  {type(ring).__module__}: == gives {ring == other}, "
                          f"expected {expected} (nodes {ring.nodes} vs {other.nodes})")
    if core == ref or ref == core or core == 5:
        raise Finding(f"{what()}\n  a ring equals something that is not the same kind of ring")


if __name__ == "__main__":
    _driver.main(test_one_input)
