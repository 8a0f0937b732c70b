"""Migration plans (SPEC.md 13): old.diff(new), its ranges, fractions and
transfers, against the reference and as properties."""

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import ring_configs

from ringcore import HashRing, Plan, RingLayout, reference

Core, Ref = HashRing, reference.HashRing
RING = 2**64


def exact_ownership(ring) -> dict:
    """Hashes each node owns, exactly (SPEC.md 7)."""
    positions, owners = ring.positions.tolist(), ring.owners.tolist()
    owned = dict.fromkeys(ring.nodes, 0)
    for i, (p, o) in enumerate(zip(positions, owners)):
        span = p - positions[i - 1] if i else p + RING - positions[-1]
        owned[ring.nodes[o]] += span if len(positions) > 1 else RING
    return owned


def owner_of(ring, h: int):
    if not len(ring.positions):
        return None
    return ring.nodes[int(ring.route_hashes(np.array([h], dtype=np.uint64))[0])]


@st.composite
def ring_pairs(draw):
    """Two versions of a ring: the second from the first by adds, removes,
    weight changes, or drawn on its own."""
    cfg = draw(ring_configs(min_nodes=0, max_nodes=7, max_vnodes=40, max_points=400))
    old = dict(cfg.weights)
    how = draw(st.sampled_from(["edit", "edit", "other", "same", "reorder"]))
    if how == "same":
        new = dict(old)
    elif how == "reorder":
        new = dict(reversed(list(old.items())))
    elif how == "other":
        other = draw(ring_configs(min_nodes=0, max_nodes=7, max_vnodes=40, max_points=400))
        new = dict.fromkeys(other.weights, 1.0)  # (its weights fit its own vnodes, not these)
    else:
        new = dict(old)
        for name in draw(st.lists(st.sampled_from(sorted(old)), unique=True)) if old else []:
            if draw(st.booleans()):
                del new[name]
            else:
                new[name] = draw(st.sampled_from([0.5, 1.0, 2.0]))
        for i in range(draw(st.integers(0, 2))):
            new[f"added-{i}"] = 1.0
    return old, new, cfg.vnodes


@given(ring_pairs(), st.lists(st.integers(0, RING - 1), max_size=40))
def test_plans_agree_with_the_reference_and_hold_their_properties(pair, probes):
    old_w, new_w, vnodes = pair
    old, new = Core(old_w, vnodes=vnodes), Core(new_w, vnodes=vnodes)
    plan = old.diff(new)
    ref_plan = Ref(old_w, vnodes=vnodes).diff(Ref(new_w, vnodes=vnodes))
    assert list(plan) == list(ref_plan)
    assert plan.moved_hashes == ref_plan.moved_hashes
    # old ownership plus the plan is new ownership, exactly
    owned = exact_ownership(old)
    balance = {name: owned.get(name, 0) for name in set(old.nodes) | set(new.nodes)}
    sizes = [int(s) or RING for s in plan.sizes.tolist()]
    for (_, _, a, b), size in zip(plan, sizes):
        assert a != b
        if a is not None:
            balance[a] -= size
        if b is not None:
            balance[b] += size
    target = exact_ownership(new)
    assert {n: v for n, v in balance.items() if v} == {n: v for n, v in target.items() if v}
    assert plan.moved_hashes == sum(sizes) <= RING
    assert plan.moved_fraction == plan.moved_hashes / RING
    # the ranges are exactly the hashes whose owner changes
    bounds = list(zip(plan.starts.tolist(), plan.ends.tolist()))
    edges = [h for s, e in bounds for h in (s, e, (s + 1) % RING, (e + 1) % RING)]
    for h in probes + edges + list(old.positions.tolist()) + list(new.positions.tolist()):
        inside = any((s < h <= e) if s < e else (h > s or h <= e) for s, e in bounds)
        assert inside == (owner_of(old, h) != owner_of(new, h)), h
    # fractions per pair add up to the moved fraction
    transfer = plan.transfer()
    assert sum(int(f * RING) for f in transfer.values()) == pytest.approx(
        plan.moved_hashes, rel=1e-9, abs=len(transfer) * 2**12)


@given(ring_pairs(), st.lists(st.text(max_size=6), max_size=80))
def test_moved_keys_are_the_keys_whose_node_name_changes(pair, keys):
    old_w, new_w, vnodes = pair
    old, new = Core(old_w, vnodes=vnodes), Core(new_w, vnodes=vnodes)
    plan = old.diff(new)
    moved = plan.moved(keys)
    assert moved.dtype == bool and moved.shape == (len(keys),)
    before = [old.get_node(k) if len(old) else None for k in keys]
    after = [new.get_node(k) if len(new) else None for k in keys]
    assert moved.tolist() == [a != b for a, b in zip(before, after)]
    expected: dict = {}
    for a, b in zip(before, after):
        if a != b:
            expected[(a, b)] = expected.get((a, b), 0) + 1
    assert plan.transfers(keys) == expected
    ref = Ref(old_w, vnodes=vnodes).diff(Ref(new_w, vnodes=vnodes))
    assert ref.moved(keys).tolist() == moved.tolist()


def test_identical_rings_and_reordered_nodes_give_an_empty_plan(cls=None):
    nodes = {f"n{i}": 1.0 + (i % 3) for i in range(12)}
    for cls in (Core, Ref):
        ring = cls(nodes, vnodes=50)
        for other in (cls(nodes, vnodes=50), cls(dict(reversed(list(nodes.items()))), vnodes=50)):
            plan = ring.diff(other)
            assert len(plan) == 0 and plan.moved_fraction == 0.0 and plan.transfer() == {}
            assert not plan.moved([f"k{i}" for i in range(1000)]).any()


def test_adding_a_node_moves_only_to_it():
    old = Core([f"n{i}" for i in range(20)], vnodes=100)
    new = Core([f"n{i}" for i in range(20)] + ["fresh"], vnodes=100)
    plan = old.diff(new)
    assert {b for _, _, _, b in plan} == {"fresh"}
    assert plan.moved_fraction == pytest.approx(new.ownership()["fresh"], rel=1e-12)
    matrix = plan.transfer_matrix()
    assert matrix.shape == (20, 21) and (matrix[:, :20] == 0).all()
    assert matrix[:, 20].sum() == pytest.approx(plan.moved_fraction)
    keys = np.arange(200_000, dtype=np.uint64)
    moved = plan.moved(keys)
    assert np.array_equal(moved, new.route(keys) == 20)
    assert sum(plan.transfers(keys).values()) == moved.sum()
    # the reverse plan moves the same ranges back
    back = new.diff(old)
    assert back.moved_hashes == plan.moved_hashes and {a for _, _, a, _ in back} == {"fresh"}


def test_plans_with_an_empty_ring():
    ring = Core(["a", "b"], vnodes=10)
    empty = Core([])
    for plan in (empty.diff(ring), ring.diff(empty)):
        assert plan.moved_hashes == RING and plan.moved_fraction == 1.0
        assert plan.moved(["x", "y"]).all()
    assert empty.diff(ring).transfers(["x"]) == {(None, ring.get_node("x")): 1}
    assert len(empty.diff(Core([]))) == 0
    one = Core(["solo"], vnodes=1)
    whole = one.diff(Core(["other"], vnodes=1))
    assert whole.moved_hashes == RING  # two points: two ranges, wrapping


def test_one_point_each_at_the_same_position_is_the_whole_ring():
    a = RingLayout.from_arrays(["a"], np.array([7], np.uint64), np.array([0], np.int32), vnodes=1)
    b = RingLayout.from_arrays(["b"], np.array([7], np.uint64), np.array([0], np.int32), vnodes=1)
    plan = a.diff(b)
    assert list(plan) == [(7, 7, "a", "b")] and plan.moved_hashes == RING


def test_diff_checks_its_argument_and_dialect():
    ring = Core(["a"])
    with pytest.raises(TypeError, match="diff takes"):
        ring.diff(["a"])
    with pytest.raises(TypeError, match="diff takes"):
        Ref(["a"]).diff(ring)


def test_plan_between_big_rings_and_a_snapshot():
    old = Core([f"n{i}" for i in range(5000)], vnodes=160)
    assert old.layout.big
    snap = old.snapshot()
    old.add_node("extra")
    plan = snap.diff(old)
    assert {b for _, _, _, b in plan} == {"extra"} and 0 < len(plan) <= 160
    assert plan.moved_fraction == pytest.approx(old.ownership()["extra"], rel=1e-9)
    keys = np.random.default_rng(1).integers(0, 2**64, 100_000, dtype=np.uint64)
    assert np.array_equal(plan.moved(keys), old.route(keys) == old.nodes.index("extra"))
    assert isinstance(plan, Plan) and "ranges" in repr(plan)
    assert pickle.loads(pickle.dumps(plan.starts)).tolist() == plan.starts.tolist()


@pytest.mark.parametrize("dialect", ["ketama", "libmemcached", "libmemcached-weighted"])
def test_plans_of_32_bit_dialects_measure_their_own_ring(dialect):
    """Sizes, moved_fraction and transfers are modulo 2**32 on a 32-bit ring:
    a wrapping range is not 2**64 - something."""
    old = HashRing([f"10.0.0.{i}:11211" for i in range(3)], dialect=dialect)
    new = HashRing([f"10.0.0.{i}:11211" for i in range(4)], dialect=dialect)
    plan = old.diff(new)
    assert (plan.sizes < 2**32).all()
    joined = new.ownership()["10.0.0.3:11211"]
    assert plan.moved_fraction == pytest.approx(joined, abs=1e-12)
    assert sum(plan.transfer().values()) == pytest.approx(joined, abs=1e-12)
    assert set(plan.transfer()) == {(f"10.0.0.{i}:11211", "10.0.0.3:11211") for i in range(3)}
    keys = [f"key:{i}" for i in range(20_000)]
    moved = plan.moved(keys).mean()
    assert abs(moved - joined) < 0.02
    whole = HashRing(["a"], dialect=dialect).diff(HashRing(["b"], dialect=dialect))
    assert whole.moved_fraction == 1.0
