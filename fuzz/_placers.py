"""The parts of fuzz_ring_ops.py beyond the default ring: sequences of
operations on a dialect ring ("ketama", "libmemcached",
"libmemcached-weighted"), on JumpHash and RendezvousHash, and on
ringcore.pymemcache.Hasher, each beside its model in _dialects.py (and
pymemcache's own RendezvousHash where the keys are plain).

Every call must give the model's answer or an exception of the model's
type; after every call the core and the model hold the same nodes (for a
ring: the same weights, vnodes, points and version), and a call that fails
leaves both as they were.
"""

from __future__ import annotations

import math
import pickle
from decimal import Decimal
from fractions import Fraction

import _dialects
import _keys
import numpy as np
from _compare import agree, check_clean, clip, run
from _driver import Finding, note

import ringcore
import ringcore.pymemcache
from ringcore import reference

try:
    from pymemcache.client.rendezvous import RendezvousHash as PeerRendezvous
except ImportError:  # the model alone
    PeerRendezvous = None

SERVERS = ("10.0.0.1:11211", "10.0.0.1", "10.0.0.1:11212", "cache-a:11211", "cache-b:1",
           "h:11211:11211", ":11211", "a", "a-1", "é:11211", "[::1]:11211", "x" * 30)
BAD_NAMES = ("", "\ud800", b"a", 1, None, _keys.StrEncode("a"), _keys.StrEqAll("b"))
WEIGHTS = (1, 1.0, 2, 3.0, 5, 0.5, 1.5, 10, True, -1, 0, math.nan, math.inf, "1", None,
           np.int64(2), np.float32(2.0), Fraction(3, 1), Decimal(2), 1e300, 2**40, 1e-300)
VNODES = (None, None, None, 1, 2, 3, 5, 8, 0, -1, True, 2.0, "4", np.int64(3), 2**31,
          2**62, 2**63, 2**1100, 10**12)
DIALECT_SPECS = ("ketama", "libmemcached", "libmemcached-weighted", {"id": "ketama"},
                 {"id": "libmemcached"})
REPLICAS = (1, 2, 3, 0, -1, 13, True, 2.0, np.int64(2), None)
NULLS = (None, -1, 0, 5, 2**31)
THREADS = (None, 1, 2, 0, True)
MAX_MODEL_POINTS = 4000  # larger rings are valid, but slow in the Python model


def _name(r, pool=SERVERS):
    return r.pick(BAD_NAMES) if r.chance(10) else r.pick(pool)


def _weight(r):
    return r.pick(WEIGHTS) if r.chance(3) else 1


def _spec_name(spec) -> str:
    return spec["id"] if isinstance(spec, dict) else spec


def _nodes(r):
    """A nodes argument factory: names, names with weights, or a generator."""
    items = [(_name(r), _weight(r)) for _ in range(r.int(0, 6))]
    kind = r.int(0, 3)
    if kind == 0:
        return lambda: [n for n, _ in items]
    if kind == 1:
        return lambda: (n for n, _ in items)
    if kind == 2 and all(_hashable(n) for n, _ in items):
        return lambda: dict(items)
    return lambda: [n for n, _ in items][:2]


def _hashable(x) -> bool:
    try:
        hash(x)
        return True
    except TypeError:
        return False


def _too_big(nodes, vnodes) -> bool:
    """Rings the Python model would take too long over (the core is checked
    to refuse or build them alike by the tests, not here)."""
    count = len(nodes)
    v = vnodes if isinstance(vnodes, int) and not isinstance(vnodes, bool) else 160
    return count * min(v, 10**6) > MAX_MODEL_POINTS and v <= 2**31 - 1 and count > 0


# -- state --------------------------------------------------------------------------------


def ring_state(ring) -> tuple:
    names = tuple(str.__str__(n) if isinstance(n, str) else n for n in ring.nodes)
    if isinstance(ring, _dialects.DialectRing):
        return (names, ring.node_weights, ring.vnodes, ring.pos, ring.own, ring.version)
    return (names, tuple(ring.weights.values()), ring.vnodes, ring.positions.tolist(),
            ring.owners.tolist(), ring.version)


def same_state(what, core, model) -> None:
    if ring_state(core) != ring_state(model):
        a, b = ring_state(core), ring_state(model)
        raise Finding(f"{what()}\n  the rings differ:\n  core:  {clip(repr(a[:3]), 600)} "
                      f"{len(a[3])} points, version {a[5]}\n  model: {clip(repr(b[:3]), 600)} "
                      f"{len(b[3])} points, version {b[5]}"
                      + ("" if a[3] == b[3] else "\n  (positions differ)"))
    if any(type(n) is not str for n in core.nodes):
        raise Finding(f"{what()}\n  a node name is not a plain str")


# -- dialect rings --------------------------------------------------------------------------


def dialect_hashes(r, model):
    """route_hashes' argument: 32-bit hashes near the points, the ring's edge,
    64-bit ones (past the ring: point 0) and bad ones; a list or an array."""
    values = []
    for _ in range(r.int(0, 8)):
        kind = r.int(0, 5)
        if kind == 0 and model.pos:
            values.append(max(0, r.pick(model.pos) + r.int(-1, 1)))
        elif kind == 1:
            values.append(r.pick((0, 2**32 - 1, 2**32, 2**64 - 1, 2**63)))
        elif kind == 2:
            values.append(r.int(0, 2**64 - 1))
        elif kind == 3 and r.chance(4):
            values.append(r.pick((-1, 2**64, True, 1.5, None, np.uint64(7), "1")))
        else:
            values.append(r.int(0, 2**32 - 1))
    form = r.int(0, 3)
    clean = [v for v in values if type(v) is int and 0 <= v < 2**64]
    if form == 0:
        return lambda: list(values), repr(values)
    if form == 1:
        return lambda: np.array(clean, dtype=np.uint64), f"np.array({clean}, np.uint64)"
    if form == 2:
        return (lambda: np.array(clean, dtype=np.uint64).astype(">u8")[::-1],
                f"np.array({clean}, '>u8')[::-1]")
    even = clean[: len(clean) // 2 * 2]
    return (lambda: np.array(even, dtype=np.uint64).reshape(2, -1),
            f"np.array({even}).reshape(2, -1)")


def dialect_keys(r):
    """Keys for a batch: a list, or a numpy array of ints or text."""
    keys = _keys.keys(r, 8, hooks=r.chance(4))
    if r.chance(4) and keys:
        if r.bool():
            values = [_keys.any_int(r) % 2**63 for _ in keys]
        else:
            values = [_keys.text(r, 6) for _ in keys]
        arr = run(np.array, values)[0]
        if arr is not None:
            return lambda: arr.copy(), f"np.array({values!r})"
    return lambda: list(keys), repr(keys)


def build_dialect(what, make, vnodes, spec):
    """(core ring, model ring) of one dialect, or None when both refuse alike."""
    name = _spec_name(spec)
    core = run(ringcore.HashRing, make(), vnodes=vnodes, dialect=spec)
    model = run(_dialects.DialectRing, make(), vnodes=vnodes, dialect=name)
    agree(what, (None, core[1]), (None, model[1]))
    if core[1] is not None:
        return None
    same_state(what, core[0], model[0])
    if core[0].dialect.name != name or core[0].vnodes != model[0].vnodes:
        raise Finding(f"{what()}\n  dialect {core[0].dialect.name!r}, vnodes {core[0].vnodes}")
    return core[0], model[0]


def dialect_ring(r) -> None:
    log: list = []
    what = lambda: clip("\n".join(log), 6000)  # noqa: E731
    spec = r.pick(DIALECT_SPECS)
    make, vnodes = _nodes(r), r.pick(VNODES) if r.chance(4) else None
    if _too_big(list(make()), vnodes):
        return
    log.append(f"HashRing({list(make())!r}, vnodes={vnodes!r}, dialect={spec!r})")
    note(lambda: log[-1])
    built = build_dialect(what, make, vnodes, spec)
    if built is None:
        return
    core, model = built
    for _ in range(r.int(0, 12)):
        op = r.int(0, 13)
        before = ring_state(core), ring_state(model)
        if op <= 1:
            n, w, plain = _name(r), _weight(r), r.chance(3)
            if _too_big(core.nodes + (n,), core.vnodes):
                continue
            log.append(f"add_node({n!r})" if plain else f"add_node({n!r}, {w!r})")
            note(lambda: log[-1])
            args = (n,) if plain else (n, w)
            outcomes = run(core.add_node, *args), run(model.add_node, *args)
            updated(what, outcomes, (core, model), before)
        elif op == 2:
            n = _name(r) if r.chance(3) or not len(core) else r.pick(core.nodes)
            log.append(f"remove_node({n!r})")
            note(lambda: log[-1])
            outcomes = run(core.remove_node, n), run(model.remove_node, n)
            updated(what, outcomes, (core, model), before)
        elif op == 3:
            k = _keys.key(r, hooks=r.chance(4))
            log.append(f"get_node({k!r})")
            note(lambda: log[-1])
            got = run(core.get_node, k)
            agree(what, got, run(model.get_node, k))
            if got[1] is None:  # one key alone and in a batch: the same node
                batch = run(core.route, [k])
                if batch[1] is not None or core.nodes[int(batch[0][0])] != got[0]:
                    raise Finding(f"{what()}\n  route([key]) gives {batch!r}, get_node {got[0]!r}")
        elif op == 4:
            k, count = _keys.key(r, hooks=False), r.pick(REPLICAS)
            log.append(f"get_nodes({k!r}, {count!r})")
            note(lambda: log[-1])
            agree(what, run(core.get_nodes, k, count), run(model.get_nodes, k, count))
        elif op == 5:
            make_keys, shown = dialect_keys(r)
            null, threads, both = r.pick(NULLS), r.pick(THREADS), r.bool()
            log.append(f"route({shown}, null={null!r}, threads={threads!r}, return_nodes={both})")
            note(lambda: log[-1])
            agree(what, run(core.route, make_keys(), null=null, threads=threads, return_nodes=both),
                  run(model.route, make_keys(), null=null, threads=threads, return_nodes=both))
        elif op == 6:
            make_hashes, shown = dialect_hashes(r, model)
            both = r.bool()
            log.append(f"route_hashes({shown}, return_nodes={both})")
            note(lambda: log[-1])
            agree(what, run(core.route_hashes, make_hashes(), return_nodes=both),
                  run(model.route_hashes, make_hashes(), return_nodes=both))
        elif op == 7:
            make_keys, shown = dialect_keys(r)
            log.append(f"hash_keys({shown})")
            note(lambda: log[-1])
            agree(what, run(core.hash_keys, make_keys()), run(model.hash_keys, make_keys()))
        elif op == 8:
            make_keys, shown = dialect_keys(r)
            count, null = r.pick(REPLICAS), r.pick(NULLS)
            target = core.snapshot() if r.bool() else core
            log.append(f"route_replicas({shown}, {count!r}, null={null!r})")
            note(lambda: log[-1])
            agree(what, run(target.route_replicas, make_keys(), count, null=null),
                  run(model.route_replicas, make_keys(), count, null=null))
        elif op == 9:
            dialect_diff(r, what, log, core, model)
        elif op == 10:
            protocol = r.int(0, pickle.HIGHEST_PROTOCOL)
            log.append(f"pickle round trip, protocol {protocol}")
            note(lambda: log[-1])
            for obj in (core, core.snapshot()):
                copy = pickle.loads(pickle.dumps(obj, protocol=protocol))
                if type(copy) is not type(obj) or copy != obj or \
                        copy.dialect is not obj.dialect or ring_state(copy)[:5] != before[0][:5]:
                    raise Finding(f"{what()}\n  the copy of the {type(obj).__name__} differs")
        elif op == 11:
            log.append("ownership()")
            note(lambda: log[-1])
            got = run(lambda: list(core.ownership().items()))
            expected = run(lambda: list(model.ownership().items()))
            if got[1] is not None or [n for n, _ in got[0]] != [n for n, _ in expected[0]] or \
                    any(abs(a - b) > 1e-12 for (_, a), (_, b) in zip(got[0], expected[0])):
                raise Finding(f"{what()}\n  ownership {got!r}\n  model     {expected!r}")
        elif op == 12:
            log.append("== the ring built again from its nodes; !=  the default dialect's")
            note(lambda: log[-1])
            again = ringcore.HashRing(dict(zip(core.nodes, core.weights.values())),
                                      vnodes=core.vnodes, dialect=core.dialect.name)
            if again != core or again.layout != core.layout:
                raise Finding(f"{what()}\n  the same configuration built again differs")
            plain = run(ringcore.HashRing, list(core.nodes), vnodes=min(core.vnodes, 100))
            if plain[1] is None and core.vnodes <= 100 and len(core) and plain[0] == core:
                raise Finding(f"{what()}\n  a default-dialect ring equals the dialect ring")
        else:
            spec, make = r.pick(DIALECT_SPECS), _nodes(r)
            vnodes = r.pick(VNODES) if r.chance(4) else None
            if _too_big(list(make()), vnodes):
                continue
            log.append(f"ring = HashRing({list(make())!r}, vnodes={vnodes!r}, dialect={spec!r})")
            note(lambda: log[-1])
            built = build_dialect(what, make, vnodes, spec)
            if built is not None:
                core, model = built
                before = ring_state(core), ring_state(model)
        if op > 2 and op != 13 and before != (ring_state(core), ring_state(model)):
            raise Finding(f"{what()}\n  a lookup changed the ring")
        same_state(what, core, model)


def updated(what, outcomes, rings, before) -> None:
    agree(what, *outcomes)
    for (_, err), ring, old in zip(outcomes, rings, before):
        if err is not None and ring_state(ring) != old:
            raise Finding(f"{what()}\n  {type(ring).__name__}: the failed update "
                          f"({type(err).__name__}) changed the ring")


def dialect_diff(r, what, log, core, model) -> None:
    """core.diff(other) against the model's plan on the 2**32 ring."""
    items = list(zip(core.nodes, core.weights.values()))
    change = r.int(0, 4)
    if change == 1 and items:
        items.pop(r.int(0, len(items) - 1))
    elif change == 2:
        n = r.pick(SERVERS)
        if n not in dict(items):
            items.append((n, 1.0))
    elif change == 3 and len(items) > 1:
        items.reverse()
    if _too_big(items, core.vnodes) or (other_spec := core.dialect.name if r.int(0, 7) else
                                         r.pick(("ringcore", "ketama", "libmemcached"))) \
            != core.dialect.name and core.vnodes > 1000:
        return
    log.append(f"diff(HashRing({dict(items)!r}, vnodes={core.vnodes}, dialect={other_spec!r}))")
    note(lambda: log[-1])
    other = run(ringcore.HashRing, dict(items), vnodes=core.vnodes, dialect=other_spec)
    if other[1] is not None:
        return
    other = other[0]
    got = run(core.diff, other if r.bool() else other.snapshot())
    if other_spec != core.dialect.name:
        if not isinstance(got[1], ValueError):
            raise Finding(f"{what()}\n  a plan across dialects gave {got!r}")
        return
    check_clean(what, got)
    plan = got[0]
    other_model = _dialects.DialectRing(dict(items), vnodes=core.vnodes, dialect=other_spec)
    starts, ends, olds, news, moved = model.diff(other_model)
    ours = (plan.starts.tolist(), plan.ends.tolist(),
            [core.nodes[i] if i >= 0 else None for i in plan.sources.tolist()],
            [other.nodes[i] if i >= 0 else None for i in plan.targets.tolist()])
    if ours != (starts, ends, olds, news):
        raise Finding(f"{what()}\n  plan {clip(repr(ours), 800)}\n  model "
                      f"{clip(repr((starts, ends, olds, news)), 800)}")
    if plan.moved_hashes != moved or plan.moved_fraction != moved / 2**32:
        raise Finding(f"{what()}\n  moved_hashes {plan.moved_hashes} (fraction "
                      f"{plan.moved_fraction}), model {moved} ({moved / 2**32})")
    moving = run(plan.moved, [f"k{i}" for i in range(20)])
    check_clean(what, moving)


# -- JumpHash and RendezvousHash ---------------------------------------------------------------

NODE_NAMES = ("a", "b", "c", "é", "节点", "🙂", "a-1", "n1", "A", "x" * 20, "\x00", "ÿ", "Āb")
BUCKETS = (1, 2, 3, 10, 1000, 2**31 - 1, 0, -1, 2**31, 2**64, True, 2.0, np.int32(5),
           np.uint64(7), None, "3")


def placer_keys(r):
    """Keys for JumpHash.route / RendezvousHash.route: a list, or numpy
    arrays (uint64, which jump on their values, in either byte order and
    shape; other ints; text), or a str / bytes given for a batch."""
    kind = r.int(0, 6)
    if kind <= 2:
        keys = _keys.keys(r, 8, hooks=r.chance(4))
        return lambda: list(keys), repr(keys)
    if kind == 3:
        values = [r.int(0, 2**64 - 1) for _ in range(r.int(0, 6))]
        dtype = r.pick(("<u8", ">u8", "<i8", "u4"))
        shape = (2, -1) if len(values) % 2 == 0 and values and r.bool() else (-1,)
        with np.errstate(all="ignore"):
            arr = np.array(values, dtype=np.uint64).astype(dtype).reshape(shape)
        return lambda: arr.copy(), f"np.array({values}, {dtype!r}).reshape{shape}"
    if kind == 4:
        values = [_keys.text(r, 5) for _ in range(r.int(0, 5))]
        arr = run(np.array, values, dtype="U5")[0]
        if arr is not None:
            return lambda: arr.copy(), f"np.array({values!r}, 'U5')"
        return lambda: list(values), repr(values)
    if kind == 5:
        values = [r.blob(5).rstrip(b"\0") for _ in range(r.int(0, 5))]
        return lambda: np.array(values, dtype="S5"), f"np.array({values!r}, 'S5')"
    single = r.pick(("ab", b"ab", 5, None, "iter"))
    if single == "iter":
        return lambda: iter(["a"]), "iter(['a'])"
    return lambda: single, repr(single)


def placer(r) -> None:
    jumping = r.bool()
    cls, model_cls = ((ringcore.JumpHash, _dialects.JumpModel) if jumping
                      else (ringcore.RendezvousHash, _dialects.RendezvousModel))
    log: list = []
    what = lambda: clip("\n".join(log), 6000)  # noqa: E731
    names = [_name(r, NODE_NAMES) for _ in range(r.int(0, 6))]
    form = r.int(0, 5)
    make = (lambda: list(names), lambda: tuple(names), lambda: iter(names),
            lambda: dict.fromkeys(n for n in names if _hashable(n)), lambda: "abc",
            lambda: None)[form]
    log.append(f"{cls.__name__}(form {form} of {names!r})")
    note(lambda: log[-1])
    core, model = run(cls, make()), run(model_cls, make())
    agree(what, (None, core[1]), (None, model[1]))
    if core[1] is not None:
        return
    core, model = core[0], model[0]
    peer = None
    if PeerRendezvous is not None and not jumping:
        peer = PeerRendezvous(list(model.nodes))
    for _ in range(r.int(0, 12)):
        op = r.int(0, 9)
        before = core.nodes, model.nodes
        if op <= 1:
            n = _name(r, NODE_NAMES)
            log.append(f"add_node({n!r})")
            note(lambda: log[-1])
            outcomes = run(core.add_node, n), run(model.add_node, n)
            agree(what, *outcomes)
            if outcomes[0][1] is None and peer is not None:
                peer.add_node(str.__str__(n))
        elif op == 2:
            n = _name(r, NODE_NAMES) if r.chance(3) or not len(core) else (
                core.nodes[-1] if r.bool() else r.pick(core.nodes))
            log.append(f"remove_node({n!r})")
            note(lambda: log[-1])
            outcomes = run(core.remove_node, n), run(model.remove_node, n)
            agree(what, *outcomes)
            if outcomes[0][1] is None and peer is not None:
                peer.remove_node(str.__str__(n))
        elif op <= 4:
            k = _keys.key(r, hooks=r.chance(4))
            if jumping and r.chance(4):
                k = np.uint64(r.int(0, 2**64 - 1))
            log.append(f"get_node({k!r})")
            note(lambda: log[-1])
            got = run(core.get_node, k)
            agree(what, got, run(model.get_node, k))
            plain = type(k) in (str, int, bytes) and (type(k) is not int or k >= 0)
            if peer is not None and got[1] is None and plain:
                theirs = peer.get_node(k)
                if theirs != got[0]:
                    raise Finding(f"{what()}\n  pymemcache's RendezvousHash gives {theirs!r}")
        elif op == 5:
            make_keys, shown = placer_keys(r)
            threads = r.pick(THREADS) if jumping and r.chance(3) else None
            log.append(f"route({shown}" + (f", threads={threads!r})" if jumping else ")"))
            note(lambda: log[-1])
            if jumping:
                agree(what, run(core.route, make_keys(), threads=threads),
                      run(model.route, make_keys(), threads=threads))
            else:
                agree(what, run(core.route, make_keys()), run(model.route, make_keys()))
        elif op == 6 and not jumping:
            k, count = _keys.key(r, hooks=r.chance(4)), r.pick(REPLICAS)
            log.append(f"get_nodes({k!r}, {count!r})")
            note(lambda: log[-1])
            agree(what, run(core.get_nodes, k, count), run(model.get_nodes, k, count))
            got = run(core.scores, k)
            expected = run(model.scores, k)
            agree(what, (got[0].tolist() if got[1] is None else None, got[1]), expected)
        elif op == 6:
            values = [r.int(0, 2**64 - 1) for _ in range(r.int(0, 6))]
            if r.chance(4):
                values.append(r.pick((-1, 2**64, 1.5, None, True, "1")))
            buckets = r.pick(BUCKETS) if r.chance(2) else r.int(1, 40)
            form = r.int(0, 2)
            arg = (lambda: list(values), lambda: np.array(values, dtype=np.uint64)[::-1],
                   lambda: np.array(values, dtype=np.uint64).reshape(1, -1))[form]
            if form and not all(type(v) is int and 0 <= v < 2**64 for v in values):
                arg = lambda: list(values)  # noqa: E731
            log.append(f"jump_hash(form {form} of {values!r}, {buckets!r})")
            note(lambda: log[-1])
            agree(what, run(ringcore.jump_hash, arg(), buckets),
                  run(_dialects.jump_hash, arg(), buckets))
        elif op == 7:
            protocol = r.int(0, pickle.HIGHEST_PROTOCOL)
            log.append(f"pickle round trip, protocol {protocol}; ==, len, in, repr")
            note(lambda: log[-1])
            copy = pickle.loads(pickle.dumps(core, protocol=protocol))
            if type(copy) is not type(core) or copy != core or copy.nodes != core.nodes:
                raise Finding(f"{what()}\n  the copy differs")
            other = (ringcore.RendezvousHash if jumping else ringcore.JumpHash)(core.nodes)
            if other == core or core == other or len(core) != len(model.nodes):
                raise Finding(f"{what()}\n  ==/len wrong")
            for n in NODE_NAMES[:4]:
                if (n in core) != (n in model.nodes):
                    raise Finding(f"{what()}\n  {n!r} in differs")
            repr(core)
        else:
            k = _keys.key(r, hooks=False)
            log.append(f"get_node({k!r}) == nodes[route([key])[0]]")
            note(lambda: log[-1])
            single, batch = run(core.get_node, k), run(core.route, [k])
            # (JumpHash.get_node jumps on a numpy.uint64's value, as route
            # does on a uint64 array's; in a list it is an int key, hashed)
            if jumping and isinstance(k, np.uint64):
                batch = run(core.route, np.array([k], dtype=np.uint64))
            if single[1] is None and (batch[1] is not None or
                                      core.nodes[int(batch[0][0])] != single[0]):
                raise Finding(f"{what()}\n  get_node {single!r}, route {batch!r}")
        if before[0] != core.nodes and op > 2:
            raise Finding(f"{what()}\n  a lookup changed the nodes")
        if core.nodes != model.nodes or any(type(n) is not str for n in core.nodes):
            raise Finding(f"{what()}\n  nodes {core.nodes!r}, model {model.nodes!r}")
        if peer is not None and list(core.nodes) != peer.nodes:
            raise Finding(f"{what()}\n  pymemcache holds {peer.nodes!r}")


# -- ringcore.pymemcache.Hasher ----------------------------------------------------------------

HASHER_DIALECTS = (None, "ringcore", "ketama", "libmemcached", "libmemcached-weighted",
                   {"id": "ketama"}, "nope", 5)
HASHER_VNODES = (None, None, None, 2, 3, 0, -1, True, 2.0)


def _model_ring(dialect, vnodes, names):
    name = _spec_name(dialect)
    if name is not None and not isinstance(name, str):
        raise TypeError("a dialect is a name")
    if name not in (None, "ringcore", *_dialects.DIALECTS):
        raise ValueError(f"unknown dialect {name!r}")
    if name in (None, "ringcore"):
        return reference.HashRing(list(names), vnodes=vnodes)
    return _dialects.DialectRing(list(names), vnodes=vnodes, dialect=name)


def memcache_hasher(r) -> None:
    dialect, vnodes = r.pick(HASHER_DIALECTS), r.pick(HASHER_VNODES)
    log = [f"Hasher(dialect={dialect!r}, vnodes={vnodes!r})"]
    what = lambda: clip("\n".join(log), 6000)  # noqa: E731
    note(lambda: log[-1])
    core = run(ringcore.pymemcache.Hasher, dialect=dialect, vnodes=vnodes)
    model = run(_model_ring, dialect, vnodes, [])
    agree(what, (None, core[1]), (None, model[1]))
    if core[1] is not None:
        return
    hasher, names = core[0], []
    for _ in range(r.int(0, 16)):
        op = r.int(0, 3)
        if op == 0:
            n = _name(r)
            log.append(f"add_node({n!r})")
            note(lambda: log[-1])
            got = run(hasher.add_node, n)
            expected = (None, None)
            if not (isinstance(n, str) and str.__str__(n) in names):
                expected = run(_model_ring, dialect, vnodes, names + [n])
                expected = (None, expected[1])
                if expected[1] is None:
                    names.append(str.__str__(n))
            agree(what, got, expected)
        elif op == 1:
            n = r.pick(names) if names and r.int(0, 2) else _name(r)
            log.append(f"remove_node({n!r})")
            note(lambda: log[-1])
            got = run(hasher.remove_node, n)
            if isinstance(n, str) and str.__str__(n) in names:
                names.remove(str.__str__(n))
            check_clean(what, got)
            if got[1] is not None:
                raise Finding(f"{what()}\n  remove_node raised {got[1]!r}")
        else:
            k = _keys.key(r, hooks=r.chance(4))
            log.append(f"get_node({k!r})")
            note(lambda: log[-1])
            expected = (None, None) if not names else \
                run(lambda: _model_ring(dialect, vnodes, names).get_node(k))
            agree(what, run(hasher.get_node, k), expected)
        if list(hasher.ring.nodes) != names:
            raise Finding(f"{what()}\n  the hasher holds {hasher.ring.nodes!r}, expected {names!r}")
