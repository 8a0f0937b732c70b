"""The consistent-hashing properties of SPEC.md, as hypothesis properties.

Most run against both implementations (``impl``); the expensive ones against
the core only, since test_agreement.py ties the reference to it.
"""

import math
import random

import numpy as np
import pytest
from conftest import IMPL_IDS, IMPLS
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import (
    assert_snapshot_equal,
    key_lists,
    keys,
    node_names,
    owner_names,
    ring_configs,
    snapshot,
)

import ringcore
from ringcore import reference

impl = pytest.mark.parametrize("cls", IMPLS, ids=IMPL_IDS)

# A fixed batch of int keys (the array path) plus the str keys of a drawn list
# (the object path) give each property many keys to move or not.
INT_KEYS = np.random.default_rng(20240601).integers(-(2**63), 2**63 - 1, size=3000, dtype=np.int64)


def names_of(ring, indices) -> list[str]:
    nodes = ring.nodes
    return [nodes[i] for i in np.asarray(indices).tolist()]


def assignment(ring, batch) -> list[str]:
    """The owner name of every INT_KEYS key and every key of batch."""
    return names_of(ring, ring.route(INT_KEYS)) + names_of(ring, ring.route(batch))


def fresh_name(ring, name: str) -> str:
    while name in ring:
        name += "+"
    return name


# -- add / remove move only what they must ----------------------------------------------


@impl
@given(cfg=ring_configs(max_points=3000), new=node_names, weight=st.sampled_from([0.5, 1.0, 2.5]), batch=key_lists)
def test_adding_a_node_moves_keys_only_to_it(cls, cfg, new, weight, batch):
    ring = cfg.build(cls)
    new = fresh_name(ring, new)
    before = assignment(ring, batch)
    ring.add_node(new, weight)
    after = assignment(ring, batch)
    moved = [(b, a) for b, a in zip(before, after) if b != a]
    assert all(a == new for _, a in moved)
    assert 0 < ring.ownership()[new] < 1


@impl
@given(cfg=ring_configs(min_nodes=2, max_points=3000), pick=st.integers(0, 10**6), batch=key_lists)
def test_removing_a_node_moves_only_its_keys(cls, cfg, pick, batch):
    ring = cfg.build(cls)
    victim = ring.nodes[pick % len(ring)]
    before = assignment(ring, batch)
    ring.remove_node(victim)
    after = assignment(ring, batch)
    for b, a in zip(before, after):
        if b == victim:
            assert a != victim and a in ring.nodes
        else:
            assert a == b


@impl
@given(cfg=ring_configs(min_nodes=0, max_points=3000), new=node_names, weight=st.sampled_from([0.5, 1.0, 3.0]), batch=key_lists)
def test_removing_what_was_added_restores_everything(cls, cfg, new, weight, batch):
    ring = cfg.build(cls)
    new = fresh_name(ring, new)
    state = snapshot(ring)
    before = ring.route(batch) if len(ring) else None
    own = ring.ownership()
    ring.add_node(new, weight)
    ring.remove_node(new)
    assert_snapshot_equal(snapshot(ring), state)
    assert ring.ownership() == own
    if before is not None:
        assert np.array_equal(ring.route(batch), before)
        assert np.array_equal(ring.route(INT_KEYS), cfg.build(cls).route(INT_KEYS))


@impl
@given(cfg=ring_configs(min_nodes=1, max_points=3000), pick=st.integers(0, 10**6))
def test_remove_then_readd_gives_the_same_points(cls, cfg, pick):
    """Re-adding a removed node puts its points back where they were; its
    index moves to the end of ``nodes``."""
    ring = cfg.build(cls)
    victim = ring.nodes[pick % len(ring)]
    weight = ring.weights[victim]
    positions, owners = ring.positions.copy(), owner_names(ring)
    ring.remove_node(victim)
    ring.add_node(victim, weight)
    assert ring.nodes[-1] == victim
    assert np.array_equal(ring.positions, positions)
    assert owner_names(ring) == owners


@st.composite
def op_sequences(draw):
    cfg = draw(ring_configs(min_nodes=0, max_nodes=6, max_vnodes=400, max_points=2000))
    names = list(cfg.weights)
    ops = []
    for _ in range(draw(st.integers(0, 10))):
        if names and draw(st.booleans()):
            victim = draw(st.sampled_from(names))
            names.remove(victim)
            ops.append(("remove", victim, None))
        else:
            name = draw(node_names.filter(lambda n: n not in names))
            names.append(name)
            ops.append(("add", name, draw(st.sampled_from([0.5, 1.0, 1.7, 4]))))
    return cfg, ops


@impl
@given(op_sequences())
def test_incremental_updates_equal_a_fresh_build(cls, cfg_ops):
    cfg, ops = cfg_ops
    ring = cfg.build(cls)
    weights = dict(cfg.weights)
    for op, name, weight in ops:
        if op == "add":
            ring.add_node(name, weight)
            weights[name] = float(weight)
        else:
            ring.remove_node(name)
            del weights[name]
    fresh = cls(weights, vnodes=cfg.vnodes)
    assert ring.nodes == fresh.nodes == tuple(weights)
    assert ring.weights == fresh.weights
    assert ring == fresh
    assert np.array_equal(ring.positions, fresh.positions)
    assert ring.owners.dtype == fresh.owners.dtype == np.int32
    assert owner_names(ring) == owner_names(fresh)
    assert np.array_equal(ring.owners, fresh.owners)  # same nodes order -> same indices
    assert ring.ownership() == fresh.ownership()
    if weights:
        assert np.array_equal(ring.route(INT_KEYS), fresh.route(INT_KEYS))


@impl
@given(cfg=ring_configs(min_nodes=1, max_points=3000), seed=st.integers(0, 2**32 - 1), batch=key_lists)
def test_insertion_order_does_not_change_which_name_gets_a_key(cls, cfg, seed, batch):
    ring = cfg.build(cls)
    items = list(cfg.weights.items())
    random.Random(seed).shuffle(items)
    shuffled = cls(dict(items), vnodes=cfg.vnodes)
    assert shuffled.nodes == tuple(name for name, _ in items)
    assert np.array_equal(ring.positions, shuffled.positions)
    assert owner_names(ring) == owner_names(shuffled)
    assert assignment(ring, batch) == assignment(shuffled, batch)
    for key in batch[:10]:
        assert ring.get_nodes(key, len(ring)) == shuffled.get_nodes(key, len(ring))
    # a ring grown one node at a time, in yet another order, agrees too
    grown = cls({}, vnodes=cfg.vnodes)
    for name, weight in reversed(items):
        grown.add_node(name, weight)
    assert owner_names(grown) == owner_names(ring)
    assert assignment(grown, batch) == assignment(ring, batch)


# -- lookups -------------------------------------------------------------------------


def spec_owner_index(positions: np.ndarray, h: int) -> int:
    """SPEC.md 5, computed from the ring's own arrays: the first point whose
    position is >= h, wrapping to point 0."""
    i = int(np.searchsorted(positions, np.uint64(h), side="left"))
    return 0 if i == len(positions) else i


@impl
@given(cfg=ring_configs(max_points=3000), batch=key_lists)
def test_get_node_follows_the_lookup_rule(cls, cfg, batch):
    ring = cfg.build(cls)
    positions, owners = ring.positions, ring.owners
    for key in batch:
        point = spec_owner_index(positions, reference.hash_key(key))
        assert ring.get_node(key) == ring.nodes[owners[point]]


@impl
@given(cfg=ring_configs(max_points=3000), batch=key_lists)
def test_route_is_get_node_of_every_key(cls, cfg, batch):
    ring = cfg.build(cls)
    routed = ring.route(batch)
    assert routed.dtype == np.int32 and routed.shape == (len(batch),)
    assert names_of(ring, routed) == [ring.get_node(k) for k in batch]
    int_batch = INT_KEYS[:200]
    assert names_of(ring, ring.route(int_batch)) == [ring.get_node(int(k)) for k in int_batch]


@impl
@given(cfg=ring_configs(max_points=3000), key=keys, data=st.data())
def test_get_nodes_distinct_first_is_get_node(cls, cfg, key, data):
    ring = cfg.build(cls)
    n = data.draw(st.integers(1, len(ring)))
    got = ring.get_nodes(key, n)
    assert type(got) is list and len(got) == n
    assert len(set(got)) == n
    assert set(got) <= set(ring.nodes)
    assert got[0] == ring.get_node(key)
    # the walk of SPEC.md 6 over the ring's own arrays
    positions, owners = ring.positions, ring.owners.tolist()
    start = spec_owner_index(positions, reference.hash_key(key))
    walk = []
    for step in range(len(owners)):
        name = ring.nodes[owners[(start + step) % len(owners)]]
        if name not in walk:
            walk.append(name)
    assert got == walk[:n]


@impl
@given(cfg=ring_configs(max_points=3000), key=keys)
def test_get_nodes_is_a_prefix_of_the_next(cls, cfg, key):
    ring = cfg.build(cls)
    full = ring.get_nodes(key, len(ring))
    assert sorted(full) == sorted(ring.nodes)
    for k in range(1, len(ring)):
        assert ring.get_nodes(key, k) == ring.get_nodes(key, k + 1)[:k] == full[:k]


# -- ownership -----------------------------------------------------------------------


@impl
@given(ring_configs(max_points=3000))
def test_ownership_sums_to_one_and_is_positive(cls, cfg):
    ring = cfg.build(cls)
    own = ring.ownership()
    assert list(own) == list(ring.nodes)
    assert all(type(v) is float and 0 < v <= 1 for v in own.values())
    assert abs(math.fsum(own.values()) - 1.0) <= 1e-12
    # SPEC.md 7 with exact integers: each point owns (previous point, p]
    positions, owners = ring.positions.tolist(), ring.owners.tolist()
    exact = dict.fromkeys(ring.nodes, 0)
    for i, p in enumerate(positions):
        exact[ring.nodes[owners[i]]] += (p - positions[i - 1]) % 2**64 if i else p + 2**64 - positions[-1]
    assert sum(exact.values()) == 2**64
    assert own == {name: total / 2**64 for name, total in exact.items()}


@impl
def test_single_point_owns_everything(cls):
    ring = cls(["only"], vnodes=1)
    assert ring.ownership() == {"only": 1.0}
    assert ring.get_nodes("k", 1) == ["only"]
    assert ring.route([0, "x", b"y"]).tolist() == [0, 0, 0]


@settings(max_examples=min(15, settings.default.max_examples))
@given(
    names=st.lists(node_names, min_size=2, max_size=5, unique=True),
    weights=st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]), min_size=5, max_size=5),
)
def test_weights_are_roughly_proportional_for_many_vnodes(names, weights):
    """With ~1000 points per unit of weight, a node's share is within 20% of
    its weight's share (the relative standard deviation is ~3%); the same
    holds for keys actually routed."""
    config = dict(zip(names, weights))
    ring = ringcore.HashRing(config, vnodes=1000)
    total = sum(config.values())
    own = ring.ownership()
    for name, w in config.items():
        assert 0.8 < own[name] / (w / total) < 1.25, (name, own[name], w / total)
    keys = np.arange(200_000, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    counts = np.bincount(ring.route(keys), minlength=len(config)) / len(keys)
    for i, name in enumerate(ring.nodes):
        # keys land where ownership says, within ~10 binomial standard deviations
        assert abs(counts[i] - own[name]) < 0.012, (name, counts[i], own[name])


@given(cfg=ring_configs(min_nodes=2, max_nodes=6, max_vnodes=200, max_points=1200), factor=st.sampled_from([2, 3, 4]))
def test_point_count_follows_weight(cfg, factor):
    """Node N gets floor(vnodes * weight + 0.5) points, and scaling one weight
    changes only that node's points."""
    ring = cfg.build(ringcore.HashRing)
    counts = np.bincount(ring.owners, minlength=len(ring))
    for i, name in enumerate(ring.nodes):
        assert counts[i] == math.floor(cfg.vnodes * cfg.weights[name] + 0.5)
    name = ring.nodes[0]
    weights = dict(cfg.weights)
    weights[name] *= factor
    bigger = ringcore.HashRing(weights, vnodes=cfg.vnodes)
    others_before = ring.positions[ring.owners != 0]
    others_after = bigger.positions[bigger.owners != 0]
    assert np.array_equal(others_before, others_after)
    assume(cfg.vnodes * cfg.weights[name] >= 1)
    assert (bigger.owners == 0).sum() > counts[0]
