import numpy as np

import ringcore
from ringcore import reference


def test_core_matches_reference_on_a_small_ring():
    nodes = {"a": 1.0, "b": 2.0, "c": 0.5}
    core, ref = ringcore.HashRing(nodes, vnodes=40), reference.HashRing(nodes, vnodes=40)
    keys = [f"key-{i}" for i in range(1000)]
    assert np.array_equal(core.route(keys), ref.route(keys))
