"""One key at a time, as a service looks up a cache shard."""

import pytest

KEY = "user:1234567890"


@pytest.mark.benchmark(group="get_node(str)")
def test_core(benchmark, ring):
    assert benchmark(ring.get_node, KEY) in ring.nodes


@pytest.mark.benchmark(group="get_node(str)")
def test_reference(benchmark, ref_ring):
    assert benchmark(ref_ring.get_node, KEY) in ref_ring.nodes


@pytest.mark.benchmark(group="get_node(str)")
def test_uhashring(benchmark, names):
    uhashring = pytest.importorskip("uhashring")
    ring = uhashring.HashRing(nodes={n: {"vnodes": 160} for n in names})
    assert benchmark(ring.get_node, KEY) in names
