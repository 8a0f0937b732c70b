"""Core and reference driven side by side through random add/remove sequences,
including calls that must fail and leave both rings unchanged."""

import copy
import math

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from strategies import (
    assert_rings_agree,
    assert_snapshot_equal,
    key_lists,
    node_names,
    snapshot,
    vnodes_values,
)

import ringcore
from ringcore import reference

PROBE_KEYS = ["", "a", "é", "🙂", b"\x00", bytearray(b"xy"), 0, -1, 2**64 - 1, np.uint8(7)] + [
    f"key-{i}" for i in range(150)
]
PROBE_INTS = np.arange(-500, 500, dtype=np.int64) * 7919

valid_weights = st.one_of(
    st.sampled_from([1.0, 0.5, 2.0, 3]),
    st.floats(0.5, 4.0),
)
bad_weights = st.sampled_from(
    [0, 0.0, -1.0, -0.5, math.nan, math.inf, -math.inf, 1e-9, "1", None, True, False, [1.0]]
)
bad_names = st.sampled_from([1, None, b"a", ("a",), "", "\ud800", "a\udfff"])


class CoreVsReference(RuleBasedStateMachine):
    @initialize(
        vnodes=vnodes_values(200),
        pool=st.lists(node_names, min_size=1, max_size=8, unique=True),
    )
    def setup(self, vnodes, pool):
        self.pool = pool
        self.vnodes = vnodes
        self.core = ringcore.HashRing([], vnodes=vnodes)
        self.ref = reference.HashRing([], vnodes=vnodes)
        self.expected_weights: dict[str, float] = {}
        self.expected_zones: dict[str, str | None] = {}
        self.updates = 0
        self.snapshots = (self.core.snapshot(), copy.deepcopy(self.ref))

    # -- helpers -----------------------------------------------------------------

    def both_fail(self, call, expected):
        """call(ring) raises `expected` on both rings, which stay unchanged."""
        before = (snapshot(self.core), snapshot(self.ref))
        errors = []
        for ring in (self.core, self.ref):
            with pytest.raises(expected) as info:
                call(ring)
            errors.append(type(info.value))
        assert errors[0] is errors[1], errors
        assert_snapshot_equal(snapshot(self.core), before[0])
        assert_snapshot_equal(snapshot(self.ref), before[1])

    def weight_ok(self, weight):
        return math.floor(self.vnodes * float(weight) + 0.5) >= 1

    # -- rules ---------------------------------------------------------------------

    @rule(data=st.data(), weight=valid_weights)
    def add_node(self, data, weight):
        name = data.draw(st.sampled_from(self.pool))
        if not self.weight_ok(weight):
            weight = 1.0
        if name in self.expected_weights:
            self.both_fail(lambda r: r.add_node(name, weight), ValueError)
            return
        self.core.add_node(name, weight)
        self.ref.add_node(name, weight)
        self.expected_weights[name] = float(weight)
        self.expected_zones[name] = None
        self.updates += 1

    @rule(name=node_names, weight=valid_weights)
    def add_new_name(self, name, weight):
        if name in self.expected_weights or not self.weight_ok(weight):
            return
        if name not in self.pool:
            self.pool.append(name)
        self.core.add_node(name, weight)
        self.ref.add_node(name, weight)
        self.expected_weights[name] = float(weight)
        self.expected_zones[name] = None
        self.updates += 1

    @rule(name=node_names, zone=st.sampled_from(["z1", "z2", "z3"]))
    def add_zoned_node(self, name, zone):
        if name in self.expected_weights:
            return
        if name not in self.pool:
            self.pool.append(name)
        self.core.add_node(name, zone=zone)
        self.ref.add_node(name, zone=zone)
        self.expected_weights[name] = 1.0
        self.expected_zones[name] = zone
        self.updates += 1

    @rule(data=st.data())
    def remove_node(self, data):
        name = data.draw(st.sampled_from(self.pool))
        if name not in self.expected_weights:
            self.both_fail(lambda r: r.remove_node(name), KeyError)
            return
        self.core.remove_node(name)
        self.ref.remove_node(name)
        del self.expected_weights[name]
        del self.expected_zones[name]
        self.updates += 1

    @precondition(lambda self: self.expected_weights)
    @rule(data=st.data())
    def remove_present_node(self, data):
        name = data.draw(st.sampled_from(sorted(self.expected_weights)))
        self.core.remove_node(name)
        self.ref.remove_node(name)
        del self.expected_weights[name]
        del self.expected_zones[name]
        self.updates += 1

    @rule()
    def take_snapshot(self):
        self.snapshots = (self.core.snapshot(), copy.deepcopy(self.ref))

    @rule(batch=key_lists, data=st.data())
    def batch_operations_agree(self, batch, data):
        batch = [k for k in batch if k is not None]
        old_core, old_ref = self.snapshots
        assert list(old_core.diff(self.core)) == list(old_ref.diff(self.ref))
        assert np.array_equal(old_core.diff(self.core).moved(batch),
                              old_ref.diff(self.ref).moved(batch))
        if not self.expected_weights:
            return
        zones = data.draw(st.booleans())
        marks = {z or ("node", name) for name, z in self.expected_zones.items()}
        n = data.draw(st.integers(0, len(marks) if zones else len(self.expected_weights)))
        assert np.array_equal(self.core.route_replicas(batch, n, distinct_zones=zones),
                              self.ref.route_replicas(batch, n, distinct_zones=zones))
        eps = data.draw(st.sampled_from([0.01, 0.3, 2.0]))
        assert np.array_equal(self.core.assign_bounded(batch, eps),
                              self.ref.assign_bounded(batch, eps))
        assert self.core.load(batch) == self.ref.load(batch)

    @precondition(lambda self: self.expected_weights)
    @rule(data=st.data(), weight=valid_weights)
    def add_duplicate(self, data, weight):
        name = data.draw(st.sampled_from(sorted(self.expected_weights)))
        self.both_fail(lambda r: r.add_node(name, weight), ValueError)

    @rule(name=node_names, weight=bad_weights)
    def add_with_bad_weight(self, name, weight):
        if name in self.expected_weights:
            return  # which error wins for a duplicate name is another test's business
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            expected = TypeError
        else:
            expected = ValueError
        self.both_fail(lambda r: r.add_node(name, weight), expected)

    @rule(name=bad_names)
    def add_bad_name(self, name):
        expected = TypeError if not isinstance(name, str) else ValueError
        self.both_fail(lambda r: r.add_node(name), expected)

    @rule(name=st.sampled_from([1, None, b"a", 2.5]))
    def remove_non_str(self, name):
        self.both_fail(lambda r: r.remove_node(name), TypeError)

    @rule(name=node_names)
    def remove_missing(self, name):
        if name in self.expected_weights:
            return
        self.both_fail(lambda r: r.remove_node(name), KeyError)

    @rule(n=st.sampled_from([0, -1, 10**6]))
    def get_nodes_bad_n(self, n):
        if not self.expected_weights:
            self.both_fail(lambda r: r.get_nodes("k", 1), ringcore.EmptyRingError)
            return
        self.both_fail(lambda r: r.get_nodes("k", n), ValueError)

    @rule(batch=key_lists)
    def lookups_agree(self, batch):
        if not self.expected_weights:
            for call in (
                lambda r: r.get_node("k"),
                lambda r: r.get_nodes("k", 1),
                lambda r: r.route(["k"]),
                lambda r: r.route(PROBE_INTS),
                lambda r: r.route_hashes([1]),
            ):
                self.both_fail(call, ringcore.EmptyRingError)
            assert self.core.route(batch[:0]).shape == (0,)
            return
        assert np.array_equal(self.core.route(batch), self.ref.route(batch))
        n = len(self.expected_weights)
        for key in batch[:8]:
            assert self.core.get_node(key) == self.ref.get_node(key)
            assert self.core.get_nodes(key, n) == self.ref.get_nodes(key, n)

    # -- invariants --------------------------------------------------------------

    @invariant()
    def rings_agree(self):
        if not hasattr(self, "core"):
            return
        assert_rings_agree(self.core, self.ref)
        assert self.core.weights == self.expected_weights
        assert self.core.zones == self.ref.zones == self.expected_zones
        assert self.core.version == self.ref.version == self.updates
        assert self.core.nodes == tuple(self.expected_weights)
        settings = {name: {"weight": w, "zone": self.expected_zones[name]}
                    for name, w in self.expected_weights.items()}
        assert self.core == ringcore.HashRing(settings, vnodes=self.vnodes)
        if self.expected_weights:
            assert np.array_equal(self.core.route(PROBE_KEYS), self.ref.route(PROBE_KEYS))
            assert np.array_equal(self.core.route(PROBE_INTS), self.ref.route(PROBE_INTS))


TestCoreVsReference = CoreVsReference.TestCase
TestCoreVsReference.settings = settings(
    settings.default,
    stateful_step_count=30,
)
