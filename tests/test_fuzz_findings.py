"""Regressions for what fuzzing the dialects, jump and rendezvous hashing
found (fuzz/fuzz_ring_ops.py, fuzz/fuzz_internals.py): small, fixed cases."""

import numpy as np
import pytest

from ringcore import HashRing


def test_plan_of_a_32_bit_ring_measures_its_own_hash_space():
    """A plan between two ketama rings measured its ranges in 2**64 hashes:
    moved_fraction came out near 5e-11 while a fifth of the keys moved, and
    a range wrapping past the last point counted 2**64 - gap hashes."""
    old = HashRing(["a", "b", "c"], dialect="ketama")
    new = HashRing(["a", "b", "c", "d"], dialect="ketama")
    plan = old.diff(new)
    sizes = plan.sizes.tolist()
    expected = [(end - start) % 2**32 for start, end in zip(plan.starts.tolist(),
                                                             plan.ends.tolist())]
    assert sizes == expected
    assert plan.moved_hashes == sum(expected)
    assert plan.moved_fraction == sum(expected) / 2**32
    assert plan.moved_fraction == pytest.approx(new.ownership()["d"])
    assert sum(plan.transfer().values()) == pytest.approx(plan.moved_fraction)
    # a wrapping range: the empty ring's side is one range over the whole ring
    whole = HashRing([], dialect="libmemcached").diff(HashRing(["x"], dialect="libmemcached"))
    assert whole.sizes.tolist() == [2**32] and whole.moved_fraction == 1.0
    assert whole.transfer() == {(None, "x"): 1.0}
    back = HashRing(["x", "y"], dialect="ketama").diff(HashRing(["y"], dialect="ketama"))
    assert 0 < back.moved_fraction < 1
    assert back.moved_fraction == pytest.approx(
        HashRing(["x", "y"], dialect="ketama").ownership()["x"])
    # the default ring is unchanged: 0 still stands for the whole 2**64 ring
    default = HashRing([]).diff(HashRing(["x"]))
    assert default.sizes.tolist() == [0] and default.moved_fraction == 1.0
    assert np.array_equal(default.sizes, np.zeros(1, dtype=np.uint64))
