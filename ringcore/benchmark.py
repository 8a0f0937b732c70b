"""`ringcore bench`: route synthetic keys through every path and compare.

Each case is timed several times in this process; the table shows the median.
Baselines that are far slower run on a sample of the keys and are reported
per key, so every row is comparable.
"""

from __future__ import annotations

import bisect
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from . import __version__, reference
from .ring import HashRing

# Slow baselines (pure Python) time this many keys, not the whole batch.
SLOW_SAMPLE = 100_000


@dataclass
class Row:
    case: str
    impl: str
    keys: int
    ns_per_key: float
    ratio: float = 1.0  # this row's time / the core's time for the same case

    @property
    def keys_per_s(self) -> float:
        return 1e9 / self.ns_per_key


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def synthetic_keys(count: int, seed: int = 42) -> list[str]:
    """Keys shaped like real cache keys: 'user:' and a random 64-bit number."""
    rng = np.random.default_rng(seed)
    return [f"user:{v}" for v in rng.integers(0, 2**63, size=count).tolist()]


def naive_numpy_router(ring: HashRing) -> Callable[[list], np.ndarray]:
    """What a user writes in a few lines: xxhash per key, then searchsorted."""
    import xxhash

    positions, owners = ring.positions, ring.owners

    def route(keys: list) -> np.ndarray:
        hashes = np.fromiter(
            (xxhash.xxh3_64_intdigest(k.encode()) for k in keys), dtype=np.uint64, count=len(keys)
        )
        idx = np.searchsorted(positions, hashes, side="left")
        idx[idx == len(positions)] = 0
        return owners[idx]

    return route


def uhashring_ring(names: list[str], vnodes: int):
    try:
        from uhashring import HashRing as UHashRing  # type: ignore[import-untyped]
    except ImportError:
        return None
    return UHashRing(nodes={name: {"vnodes": vnodes} for name in names})


def run(nodes: int = 100, vnodes: int = 160, keys: int = 1_000_000, repeat: int = 5) -> dict:
    names = [f"node-{i:03d}" for i in range(nodes)]
    str_keys = synthetic_keys(keys)
    int_keys = np.random.default_rng(7).integers(0, 2**64, size=keys, dtype=np.uint64)
    sample = str_keys[: min(keys, SLOW_SAMPLE)]
    ring = HashRing(names, vnodes=vnodes)
    ref = reference.HashRing(names, vnodes=vnodes)
    uhr = uhashring_ring(names, vnodes)
    hashes = ring.hash_keys(int_keys)
    rows: list[Row] = []

    def add(case: str, impl: str, count: int, fn: Callable[[], object], reps: int = repeat):
        rows.append(Row(case, impl, count, median_seconds(fn, reps) * 1e9 / count))

    add("build", "ringcore", 1, lambda: HashRing(names, vnodes=vnodes))
    add("build", "reference", 1, lambda: reference.HashRing(names, vnodes=vnodes), 1)
    if uhr is not None:
        add("build", "uhashring", 1, lambda: uhashring_ring(names, vnodes), 1)

    one = sample[: min(len(sample), 20_000)]
    get_node = ring.get_node
    add("get_node(str)", "ringcore", len(one), lambda: [get_node(k) for k in one])
    add("get_node(str)", "reference", len(one), lambda: [ref.get_node(k) for k in one])
    if uhr is not None:
        add("get_node(str)", "uhashring", len(one), lambda: [uhr.get_node(k) for k in one])

    add("route(list[str])", "ringcore", keys, lambda: ring.route(str_keys))
    naive = naive_numpy_router(ring)
    add("route(list[str])", "naive numpy", keys, lambda: naive(str_keys))
    add("route(list[str])", "reference", len(sample), lambda: ref.route(sample), 1)
    if uhr is not None:
        add("route(list[str])", "uhashring", len(sample), lambda: [uhr.get_node(k) for k in sample], 1)

    add("route(uint64 array)", "ringcore", keys, lambda: ring.route(int_keys))
    add("route_hashes(uint64)", "ringcore", keys, lambda: ring.route_hashes(hashes))
    positions = ring.positions
    add("route_hashes(uint64)", "numpy searchsorted", keys,
        lambda: np.searchsorted(positions, hashes, side="left"))

    core_ns = {r.case: r.ns_per_key for r in rows if r.impl == "ringcore"}
    for r in rows:
        r.ratio = r.ns_per_key / core_ns[r.case]

    counts = np.bincount(ring.route(str_keys), minlength=nodes)
    mean = counts.mean()
    return {
        "config": {"nodes": nodes, "vnodes": vnodes, "keys": keys, "repeat": repeat},
        "versions": {
            "ringcore": __version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "machine": platform.machine(),
        },
        "rows": [asdict(r) | {"keys_per_s": r.keys_per_s} for r in rows],
        "load": {
            "min": int(counts.min()),
            "max": int(counts.max()),
            "mean": float(mean),
            "max_over_mean": float(counts.max() / mean),
            "stdev_over_mean": float(counts.std() / mean),
        },
        "ownership_spread": _ownership_spread(ring),
    }


def _ownership_spread(ring: HashRing) -> dict:
    shares = np.array(list(ring.ownership().values()))
    ideal = 1 / len(shares)
    return {"min_over_ideal": float(shares.min() / ideal), "max_over_ideal": float(shares.max() / ideal)}


def format_table(result: dict) -> str:
    v, c = result["versions"], result["config"]
    lines = [
        f"ringcore {v['ringcore']}  Python {v['python']}  numpy {v['numpy']}  {v['machine']}",
        f"ring: {c['nodes']} nodes x {c['vnodes']} vnodes; {c['keys']:,} keys; "
        f"median of {c['repeat']} runs (slow baselines: one run on a sample)",
        "",
        f"{'case':<22} {'implementation':<20} {'keys timed':>10} {'ns/key':>12} {'keys/s':>14} {'x ringcore time':>16}",
    ]
    last_case = None
    for r in result["rows"]:
        if r["case"] != last_case and last_case is not None:
            lines.append("")
        last_case = r["case"]
        unit = "ms/build" if r["case"] == "build" else "ns/key"
        value = r["ns_per_key"] / 1e6 if r["case"] == "build" else r["ns_per_key"]
        rate = "" if r["case"] == "build" else f"{r['keys_per_s']:,.0f}"
        lines.append(
            f"{r['case']:<22} {r['impl']:<20} {r['keys']:>10,} {value:>9.1f} {unit[:2]:<2} {rate:>14} {r['ratio']:>15.2f}x"
        )
    load = result["load"]
    lines += [
        "",
        f"per-node load of route(list[str]): min {load['min']:,}  max {load['max']:,}  "
        f"mean {load['mean']:,.0f}  max/mean {load['max_over_mean']:.3f}  "
        f"stdev/mean {load['stdev_over_mean']:.3f}",
        "ownership of the hash space vs ideal: min {min_over_ideal:.3f}x  max {max_over_ideal:.3f}x".format(
            **result["ownership_spread"]
        ),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="ringcore bench", description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--vnodes", type=int, default=160)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    if min(args.nodes, args.vnodes, args.keys, args.repeat) < 1:
        parser.error("--nodes, --vnodes, --keys and --repeat must be >= 1")
    result = run(args.nodes, args.vnodes, args.keys, args.repeat)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0
