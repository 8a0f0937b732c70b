import pytest
from conftest import NODES, VNODES

import ringcore
from ringcore import reference


@pytest.mark.benchmark(group="build 100x160")
def test_core(benchmark):
    benchmark(ringcore.HashRing, NODES, vnodes=VNODES)


@pytest.mark.benchmark(group="build 100x160")
def test_reference(benchmark):
    benchmark.pedantic(reference.HashRing, (NODES,), {"vnodes": VNODES}, rounds=3)


@pytest.mark.benchmark(group="build 100x160")
def test_uhashring(benchmark):
    uhashring = pytest.importorskip("uhashring")
    benchmark.pedantic(
        uhashring.HashRing, kwargs={"nodes": {n: {"vnodes": VNODES} for n in NODES}}, rounds=3
    )
