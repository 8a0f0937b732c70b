"""Shared inputs of the pytest-benchmark suites: the `ringcore bench` default
ring (100 nodes x 160 vnodes) and 1M synthetic keys.

Run: pip install ".[bench]" && pytest bench --benchmark-group-by=group
"""

import numpy as np
import pytest

import ringcore
from ringcore import benchmark, reference

NODES = [f"node-{i:03d}" for i in range(100)]
VNODES = 160
KEYS = 1_000_000


@pytest.fixture(scope="session")
def names():
    return NODES


@pytest.fixture(scope="session")
def ring():
    return ringcore.HashRing(NODES, vnodes=VNODES)


@pytest.fixture(scope="session")
def ref_ring():
    return reference.HashRing(NODES, vnodes=VNODES)


@pytest.fixture(scope="session")
def str_keys():
    return benchmark.synthetic_keys(KEYS)


@pytest.fixture(scope="session")
def int_keys():
    return np.random.default_rng(7).integers(0, 2**64, size=KEYS, dtype=np.uint64)
