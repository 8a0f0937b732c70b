"""Batch routing of 1M keys: the core against the naive numpy pipeline
(xxhash per key + numpy.searchsorted) and the reference (on a 50k sample)."""

import numpy as np
import pytest

from ringcore import benchmark as rc_bench


@pytest.mark.benchmark(group="route 1M str")
def test_core_str(benchmark, ring, str_keys):
    out = benchmark(ring.route, str_keys)
    assert len(out) == len(str_keys)


@pytest.mark.benchmark(group="route 1M str")
def test_naive_numpy_str(benchmark, ring, str_keys):
    route = rc_bench.naive_numpy_router(ring)
    out = benchmark.pedantic(route, (str_keys,), rounds=3)
    assert np.array_equal(out, ring.route(str_keys))


@pytest.mark.benchmark(group="route 1M str (reference: 50k sample, x20)")
def test_reference_str_sample(benchmark, ref_ring, str_keys):
    benchmark.pedantic(ref_ring.route, (str_keys[:50_000],), rounds=1)


@pytest.mark.benchmark(group="route 1M uint64")
def test_core_uint64(benchmark, ring, int_keys):
    benchmark(ring.route, int_keys)


@pytest.mark.benchmark(group="route_hashes 1M")
def test_core_route_hashes(benchmark, ring, int_keys):
    hashes = ring.hash_keys(int_keys)
    benchmark(ring.route_hashes, hashes)


@pytest.mark.benchmark(group="route_hashes 1M")
def test_numpy_searchsorted(benchmark, ring, int_keys):
    hashes = ring.hash_keys(int_keys)
    benchmark(np.searchsorted, ring.positions, hashes)
