"""`ringcore bench`: route synthetic keys through every path, side by side.

Every case is timed `repeat` times in this process and reported as the median.
Each row's ratio is its time over the single-thread ringcore time of the same
case, measured in the same run: a baseline at 10.0x is ten times slower than
ringcore; a threaded row at 0.5x is twice as fast as one thread. Pure-Python
baselines time a sample of the keys and are reported per key.
"""

from __future__ import annotations

import functools
import importlib
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import __version__, _threads, reference
from .ring import HashRing

SLOW_SAMPLE = 100_000  # keys timed for pure-Python baselines
SINGLE_SAMPLE = 20_000  # keys looked up one call at a time


@dataclass
class Row:
    case: str
    impl: str
    keys: int  # keys (or operations) per timing
    value: float  # in unit: nanoseconds a key ("ns/key"), or milliseconds a call ("ms")
    ratio: float = 1.0  # this row's time / ringcore's single-thread time, same case
    unit: str = "ns/key"

    def as_json(self) -> dict:
        """The row for --json, its time in a field named for its unit."""
        row: dict[str, Any] = {"case": self.case, "impl": self.impl, "keys": self.keys,
                               "unit": self.unit}
        if self.unit == "ns/key":
            row |= {"ns_per_key": self.value, "keys_per_s": 1e9 / self.value}
        else:
            row["ms"] = self.value
        return row | {"ratio": self.ratio}


def optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _each(fn: Callable[[Any], object], items: list) -> list:
    """fn of each item, one call at a time (how pure-Python peers are used)."""
    return [fn(item) for item in items]


def synthetic_keys(count: int, seed: int = 42) -> list[str]:
    """Keys shaped like real cache keys: 'user:' and a random 63-bit number."""
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


def uhashring_ring(names: list[str], vnodes: int) -> Any:
    uhashring = optional("uhashring")
    if uhashring is None:
        return None
    return uhashring.HashRing(nodes={name: {"vnodes": vnodes} for name in names})


def fastring_ring(names: list[str], vnodes: int) -> Any:
    fastring = optional("fastring")
    if fastring is None:
        return None
    ring = fastring.HashRing(virtual_nodes=vnodes)
    for name in names:
        ring.add_node(name)
    return ring


def run(
    nodes: int = 100,
    vnodes: int = 160,
    keys: int = 1_000_000,
    int_keys: int = 10_000_000,
    repeat: int = 5,
    threads: int | None = None,
) -> dict:
    names = [f"node-{i:03d}" for i in range(nodes)]
    ring = HashRing(names, vnodes=vnodes)
    ref = reference.HashRing(names, vnodes=vnodes)
    uhr, fr = uhashring_ring(names, vnodes), fastring_ring(names, vnodes)
    str_keys = synthetic_keys(keys)
    sample = str_keys[:SLOW_SAMPLE]
    single = str_keys[:SINGLE_SAMPLE]
    ints = np.random.default_rng(7).integers(0, 2**64, size=int_keys, dtype=np.uint64)
    hashes = ring.hash_keys(ints)
    workers = _threads.thread_count(int_keys, threads)
    rows: list[Row] = []
    notes: list[str] = []

    def add(case: str, impl: str, count: int, fn: Callable[[], object], reps: int = repeat,
            unit: str = "ns/key") -> None:
        per = 1e9 if unit == "ns/key" else 1e3
        rows.append(Row(case, impl, count, median_seconds(fn, reps) * per / count, unit=unit))

    def threaded(case: str, count: int, fn: Callable[[int], object],
                 reference_sample: object = None) -> None:
        # untimed first calls: the pool's threads start and the output's pages
        # are mapped before any timing (the first calls were erratic)
        fn(1)
        if workers > 1:
            fn(workers)
        add(case, "ringcore", count, lambda: fn(1))
        if workers > 1:
            add(case, f"ringcore, {workers} threads", count, lambda: fn(workers))
        if reference_sample is not None:
            n = len(reference_sample)  # type: ignore[arg-type]
            add(case, "reference", n, lambda: ref.route(reference_sample), 1)

    # -- building and updating ------------------------------------------------------------
    case = f"build {nodes}x{vnodes}"
    add(case, "ringcore", 1, lambda: HashRing(names, vnodes=vnodes), unit="ms")
    add(case, "reference", 1, lambda: reference.HashRing(names, vnodes=vnodes), 1, unit="ms")
    if uhr is not None:
        add(case, "uhashring", 1, lambda: uhashring_ring(names, vnodes), 1, unit="ms")
    if fr is not None:
        add(case, "fastring", 1, lambda: fastring_ring(names, vnodes), 1, unit="ms")
    big_names = [f"node-{i:04d}" for i in range(1000)]
    add("build 1000x160", "ringcore", 1, lambda: HashRing(big_names, vnodes=160), unit="ms")
    big = HashRing(big_names, vnodes=160)

    def add_remove() -> None:
        big.add_node("extra")
        big.remove_node("extra")

    add("add_node + remove_node, 1000x160", "ringcore", 2, add_remove, unit="ms")

    # -- one key per call ----------------------------------------------------------------
    case = "get_node(str), one call"
    lookups: list[tuple[str, Callable[[str], object]]] = [
        ("ringcore", ring.get_node), ("reference", ref.get_node)
    ]
    lookups += [(name, peer.get_node) for name, peer in (("uhashring", uhr), ("fastring", fr)) if peer]
    for impl, get in lookups:

        def one_by_one(get: Callable[[str], object] = get) -> object:
            return [get(k) for k in single]

        add(case, impl, len(single), one_by_one)
    case = "get_nodes(str, 3), one call"
    add(case, "ringcore", len(single), lambda: [ring.get_nodes(k, 3) for k in single])
    add(case, "reference", len(single) // 10, lambda: [ref.get_nodes(k, 3) for k in single[::10]])
    if fr is not None:
        add(case, "fastring", len(single), lambda: [fr.get_replicas(k, 3) for k in single])

    # -- batches of str keys -------------------------------------------------------------
    case = f"route(list[str]), {keys:,} keys"
    add(case, "ringcore", keys, lambda: ring.route(str_keys))
    add(case, "naive numpy (xxhash + searchsorted)", keys,
        lambda: naive_numpy_router(ring)(str_keys), max(1, repeat // 2))
    if fr is not None:
        add(case, "fastring get_node_batch", keys, lambda: fr.get_node_batch(str_keys))
    else:
        notes.append("fastring: not installed (its wheels need Python >= 3.13)")
    add(case, "reference", len(sample), lambda: ref.route(sample), 1)
    if uhr is not None:
        add(case, "uhashring get_node loop", len(sample), lambda: [uhr.get_node(k) for k in sample], 1)

    # The same keys, but with the str objects scattered in memory, as keys read
    # from a database or a network usually are: every key is a cache miss.
    scattered = [str_keys[i] for i in np.random.default_rng(3).permutation(keys).tolist()]
    scattered = [(k + ".")[:-1] for k in scattered]  # fresh objects, allocated in this order
    scattered = [scattered[i] for i in np.random.default_rng(4).permutation(keys).tolist()]
    case = "route(list[str]), objects scattered in memory"
    add(case, "ringcore", keys, lambda: ring.route(scattered))
    if fr is not None:
        add(case, "fastring get_node_batch", keys, lambda: fr.get_node_batch(scattered))

    fixed = np.array([k.encode() for k in str_keys])
    threaded(f"route(numpy S{fixed.dtype.itemsize})", keys, lambda t: ring.route(fixed, threads=t),
             fixed[:SLOW_SAMPLE])
    text = np.array(str_keys)
    threaded(f"route(numpy U{text.dtype.itemsize // 4})", keys,
             lambda t: ring.route(text, threads=t), text[:SLOW_SAMPLE])
    pa = optional("pyarrow")
    if pa is not None:
        for type_name in ("string", "large_string", "string_view"):
            arrow = pa.array(str_keys, type=getattr(pa, type_name)())

            def route_arrow(t: int, arrow: Any = arrow) -> object:
                return ring.route(arrow, threads=t)

            threaded(f"route(Arrow {type_name})", keys, route_arrow, arrow.slice(0, SLOW_SAMPLE))
    else:
        notes.append("pyarrow: not installed, Arrow rows skipped")

    # -- integer keys and hashes ---------------------------------------------------------
    positions = ring.positions
    case = f"route(uint64 array), {int_keys:,} keys"
    int_sample = ints[:SLOW_SAMPLE]
    threaded(case, int_keys, lambda t: ring.route(ints, threads=t), int_sample)

    def naive_ints() -> np.ndarray:
        import xxhash

        hashed = np.fromiter((xxhash.xxh3_64_intdigest(v.to_bytes(8, "little"))
                              for v in int_sample.tolist()), dtype=np.uint64, count=len(int_sample))
        idx = np.searchsorted(positions, hashed, side="left")
        idx[idx == len(positions)] = 0
        return ring.owners[idx]

    add(case, "naive numpy (xxhash + searchsorted)", len(int_sample), naive_ints, 1)
    add(case, "numpy searchsorted alone (pre-hashed)", int_keys,
        lambda: np.searchsorted(positions, hashes, side="left"), max(1, repeat // 2))
    case = f"route_hashes(uint64), {int_keys:,} hashes"
    threaded(case, int_keys, lambda t: ring.route_hashes(hashes, threads=t))
    add(case, "numpy searchsorted", int_keys,
        lambda: np.searchsorted(positions, hashes, side="left"), max(1, repeat // 2))

    # -- operations in batch -------------------------------------------------------------
    ring.route_replicas(str_keys[:10], 3)  # the per-point rows are made once per ring version
    case = f"route_replicas(list[str], 3), {keys:,} keys"
    add(case, "ringcore", keys, lambda: ring.route_replicas(str_keys, 3))
    add(case, "ringcore route(), same keys (n = 1)", keys, lambda: ring.route(str_keys))
    add(case, "get_nodes(key, 3) loop", len(single), lambda: [ring.get_nodes(k, 3) for k in single])
    add(case, "reference", len(sample) // 10, lambda: ref.route_replicas(sample[::10], 3), 1)
    case = f"route_replicas(uint64 array, 3), {int_keys:,} keys"
    threaded(case, int_keys, lambda t: ring.route_replicas(ints, 3, threads=t))
    add(case, "ringcore route(), same keys (n = 1)", int_keys, lambda: ring.route(ints, threads=1))
    bounded_keys = ints[:1_000_000]
    case = f"assign_bounded(uint64 array, 0.25), {len(bounded_keys):,} keys"
    add(case, "ringcore", len(bounded_keys), lambda: ring.assign_bounded(bounded_keys, 0.25))
    add(case, "ringcore route(), same keys", len(bounded_keys),
        lambda: ring.route(bounded_keys, threads=1))
    add(case, "reference", len(sample) // 10,
        lambda: ref.assign_bounded(int_sample[: len(sample) // 10], 0.25), 1)
    plan_names = [f"node-{i:05d}" for i in range(10_000)]
    plan_old = HashRing(plan_names, vnodes=160)
    plan_new = HashRing(plan_names + ["node-new"], vnodes=160)
    add("diff of 10000x160 rings, one node added", "ringcore", 1,
        lambda: plan_old.diff(plan_new), unit="ms")
    plan = ring.diff(HashRing(names + ["node-new"], vnodes=vnodes))
    case = f"plan.moved(uint64 array), {int_keys:,} keys"
    threaded(case, int_keys, lambda t: plan.moved(ints, threads=t))
    add(case, "ringcore route(), same keys", int_keys, lambda: ring.route(ints, threads=1))
    from .jump import JumpHash, jump_hash

    case = f"jump_hash(uint64 array, {nodes}), {int_keys:,} keys"
    threaded(case, int_keys, lambda t: jump_hash(ints, nodes, threads=t))
    jump = optional("jump")
    if jump is not None:
        add(case, "jump-consistent-hash (per key)", len(int_sample) // 10,
            lambda: [jump.hash(k, nodes) for k in int_sample[: len(int_sample) // 10].tolist()], 1)
    jumper = JumpHash(names)
    add(f"JumpHash.route(list[str]), {keys:,} keys", "ringcore", keys,
        lambda: jumper.route(str_keys))
    server_names = [f"10.0.{i // 256}.{i % 256}:11211" for i in range(nodes)]
    case = f"route(list[str]) by dialect, {len(sample):,} keys, {nodes} servers"
    arrow_case = f"route(Arrow string) by dialect, {len(sample):,} keys, {nodes} servers"
    arrow_sample = pa.array(sample, type=pa.string()) if pa is not None else None
    dialects = ("ringcore", "ketama", "libmemcached", "libmemcached-weighted")
    dialect_rings = {d: HashRing(server_names, dialect=d) for d in dialects}
    for dialect, dialect_ring in dialect_rings.items():
        label = "ringcore" if dialect == "ringcore" else f"ringcore, dialect {dialect}"
        add(case, label, len(sample), functools.partial(dialect_ring.route, sample))
    uhr_ketama = optional("uhashring")
    if uhr_ketama is not None:
        peer_ring = uhr_ketama.HashRing(nodes=server_names, hash_fn="ketama")
        few = sample[:20_000]
        add(case, "uhashring ketama get_node loop", len(few),
            functools.partial(_each, peer_ring.get_node, few), 1)
    if arrow_sample is not None:
        for dialect, dialect_ring in dialect_rings.items():
            label = "ringcore" if dialect == "ringcore" else f"ringcore, dialect {dialect}"
            add(arrow_case, label, len(sample), functools.partial(dialect_ring.route, arrow_sample))

    from .rendezvous import RendezvousHash

    rendezvous_keys = str_keys[:20_000]
    for count in (10, 100, 1000):
        rendezvous_names = [f"node-{i:04d}" for i in range(count)]
        case = f"RendezvousHash.route(list[str]), {count} nodes (O(nodes) a key)"
        rendezvous = RendezvousHash(rendezvous_names)
        sample_keys = rendezvous_keys[: max(200, 200_000 // count)]
        add(case, "ringcore", len(sample_keys), functools.partial(rendezvous.route, sample_keys))
        pymemcache_rendezvous = optional("pymemcache.client.rendezvous")
        if pymemcache_rendezvous is not None:
            peer = pymemcache_rendezvous.RendezvousHash(list(rendezvous_names))
            few = sample_keys[: max(20, len(sample_keys) // 20)]
            add(case, "pymemcache RendezvousHash", len(few),
                functools.partial(_each, peer.get_node, few), 1)
    case = f"load(list[str]), {keys:,} keys"
    add(case, "ringcore", keys, lambda: ring.load(str_keys))
    add(case, "numpy bincount of route()", keys,
        lambda: np.bincount(ring.route(str_keys), minlength=nodes))

    base = {r.case: r.value for r in rows if r.impl == "ringcore"}
    for r in rows:
        r.ratio = r.value / base[r.case]

    counts = np.bincount(ring.route(str_keys), minlength=nodes)
    shares = np.array(list(ring.ownership().values())) * nodes
    layout = ring.layout
    return {
        "config": {"nodes": nodes, "vnodes": vnodes, "keys": keys, "int_keys": int_keys,
                   "repeat": repeat, "threads": workers},
        "versions": _versions(),
        "rows": [r.as_json() for r in rows],
        "load": {
            "min": int(counts.min()), "max": int(counts.max()), "mean": float(counts.mean()),
            "max_over_mean": float(counts.max() / counts.mean()),
            "stdev_over_mean": float(counts.std() / counts.mean()),
            "ownership_min_over_ideal": float(shares.min()),
            "ownership_max_over_ideal": float(shares.max()),
        },
        "memory": {
            "points": len(layout.positions),
            "bytes_per_point": (layout.memory_bytes - layout.table.nbytes)
            / max(1, len(layout.positions)),
            "table_bytes_per_point": layout.table.nbytes / max(1, len(layout.positions)),
        },
        "notes": notes,
    }


def _versions() -> dict:
    versions = {"ringcore": __version__, "python": platform.python_version(),
                "numpy": np.__version__, "machine": platform.machine()}
    for name in ("uhashring", "fastring", "pyarrow", "xxhash"):
        module = optional(name)
        if module is not None:
            versions[name] = getattr(module, "__version__", None) or _dist_version(name)
    return versions


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def format_table(result: dict) -> str:
    v, c = result["versions"], result["config"]
    others = "  ".join(f"{k} {val}" for k, val in v.items() if k not in ("ringcore", "python", "machine"))
    lines = [
        f"ringcore {v['ringcore']}  Python {v['python']}  {v['machine']}  {others}",
        f"ring: {c['nodes']} nodes x {c['vnodes']} vnodes; median of {c['repeat']} runs; "
        f"ratio = time / ringcore's single-thread time in the same case",
        "",
        f"{'case':<46} {'implementation':<38} {'time':>12} {'keys/s':>14} {'ratio':>9}",
    ]
    last = None
    for r in result["rows"]:
        if last is not None and r["case"] != last:
            lines.append("")
        case = r["case"] if r["case"] != last else ""
        last = r["case"]
        if r["unit"] == "ms":
            timing, rate = f"{r['ms']:9.2f} ms", ""
        else:
            timing, rate = f"{r['ns_per_key']:9.1f} ns", f"{r['keys_per_s']:,.0f}"
        lines.append(f"{case:<46} {r['impl']:<38} {timing:>12} {rate:>14} {r['ratio']:>8.2f}x")
    load, mem = result["load"], result["memory"]
    lines += [
        "",
        f"per-node load of route(list[str]): min {load['min']:,}  max {load['max']:,}  "
        f"mean {load['mean']:,.0f}  max/mean {load['max_over_mean']:.3f}  "
        f"stdev/mean {load['stdev_over_mean']:.3f}",
        f"ownership of the hash space vs ideal: min {load['ownership_min_over_ideal']:.3f}x  "
        f"max {load['ownership_max_over_ideal']:.3f}x",
        f"memory: {mem['points']:,} points x {mem['bytes_per_point']:.1f} bytes + table "
        f"{mem['table_bytes_per_point']:.2f} bytes per point",
    ]
    lines += [f"note: {n}" for n in result["notes"]]
    return "\n".join(lines)


def pyplot() -> Any:
    """matplotlib.pyplot drawing to files, or a clear exit when it is missing."""
    matplotlib = optional("matplotlib")
    if matplotlib is None:
        raise SystemExit("ringcore bench: error: --plot needs matplotlib: "
                         "pip install 'ringcore[cli]'")
    matplotlib.use("Agg")
    return importlib.import_module("matplotlib.pyplot")


def check_plot_path(path: str) -> None:
    """Before a run that takes minutes: matplotlib is there and the plot's
    folder exists, so the results are never lost at the end."""
    import os

    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise SystemExit(f"ringcore bench: error: --plot {path}: no folder {folder}")
    if not os.access(folder, os.W_OK):
        raise SystemExit(f"ringcore bench: error: --plot {path}: cannot write in {folder}")
    pyplot()


def plot(result: dict, path: str) -> None:
    """A horizontal bar chart of ns/key for every per-key row (log scale)."""
    plt = pyplot()
    from matplotlib.patches import Patch

    rows = [r for r in result["rows"] if r["unit"] == "ns/key"]
    labels = [f"{r['case']} | {r['impl']}" for r in rows]
    values = [r["ns_per_key"] for r in rows]
    colors = ["tab:blue" if r["impl"].startswith("ringcore") else "tab:gray" for r in rows]
    fig, ax = plt.subplots(figsize=(12, 0.32 * len(rows) + 2))
    ax.barh(range(len(rows)), values, color=colors)
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(min(values) / 2, max(values) * 4)  # room for the value after the longest bar
    ax.set_xlabel("ns per key (log scale, lower is better)")
    v = result["versions"]
    ax.set_title(f"ringcore {v['ringcore']} - Python {v['python']}, numpy {v['numpy']}", fontsize=9)
    for i, value in enumerate(values):
        ax.text(value, i, f" {value:.1f}", va="center", fontsize=6)
    ax.legend(handles=[Patch(color="tab:blue", label="ringcore"),
                       Patch(color="tab:gray", label="peers, baselines and the reference")],
              loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")  # long labels are never cut


def _scale_main(args: Any, parser: Any) -> int:
    import json

    from . import bench_scale

    try:
        nodes = tuple(int(n) for n in args.scale_nodes.split(","))
    except ValueError:
        parser.error("--scale-nodes takes comma-separated integers")
    if min(nodes) < 1:
        parser.error("--scale-nodes must be >= 1")
    result = bench_scale.run_scale(nodes, args.vnodes, min(args.int_keys, 2_000_000),
                                   min(args.keys, 500_000), args.repeat)
    print(json.dumps(result, indent=2) if args.json else bench_scale.format_scale(result))
    if args.plot:
        bench_scale.plot_scale(result, args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="ringcore bench", description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--vnodes", type=int, default=160)
    parser.add_argument("--keys", type=int, default=1_000_000, help="str keys per batch")
    parser.add_argument("--int-keys", type=int, default=10_000_000, help="uint64 keys per batch")
    parser.add_argument("--repeat", type=int, default=5, help="timings per case (median)")
    parser.add_argument("--threads", type=int, default=None, help="threads for threaded rows")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--plot", metavar="FILE.png", help="also draw the ns/key rows")
    parser.add_argument("--scale", action="store_true",
                        help="sweep ring sizes instead (ringcore.bench_scale)")
    parser.add_argument("--scale-nodes", default="100,1000,10000,100000",
                        help="with --scale: node counts to sweep (comma-separated)")
    parser.add_argument("--cli", action="store_true",
                        help="instead: 'ringcore route' over a Parquet file against the "
                        "library from Python (ringcore.bench_cli)")
    parser.add_argument("--cli-rows", type=int, default=10_000_000,
                        help="with --cli: rows in the Parquet file (default 10,000,000)")
    parser.add_argument("--dask", action="store_true",
                        help="instead: route a Parquet data set on a dask LocalCluster "
                        "against one process (ringcore.bench_dask)")
    parser.add_argument("--dask-rows", type=int, default=20_000_000,
                        help="with --dask: keys in the data set (default 20,000,000)")
    parser.add_argument("--dask-workers", type=int, default=2,
                        help="with --dask: worker processes (default 2)")
    args = parser.parse_args(argv)
    if min(args.nodes, args.vnodes, args.keys, args.int_keys, args.repeat) < 1:
        parser.error("--nodes, --vnodes, --keys, --int-keys and --repeat must be >= 1")
    if args.plot:
        check_plot_path(args.plot)
    if args.scale:
        return _scale_main(args, parser)
    if args.dask:
        from . import bench_dask

        if min(args.dask_rows, args.dask_workers) < 1:
            parser.error("--dask-rows and --dask-workers must be >= 1")
        if optional("distributed") is None or optional("pyarrow") is None:
            parser.error("--dask needs dask and pyarrow: pip install 'ringcore[dask]'")
        result = bench_dask.run_dask_bench(args.dask_rows, args.nodes, args.dask_workers,
                                           min(args.repeat, 3))
        print(json.dumps(result, indent=2) if args.json else bench_dask.format_dask_bench(result))
        return 0
    if args.cli:
        from . import bench_cli

        if args.cli_rows < 1:
            parser.error("--cli-rows must be >= 1")
        if optional("pyarrow") is None:
            parser.error("--cli needs pyarrow: pip install 'ringcore[cli]'")
        result = bench_cli.run_cli_bench(args.cli_rows, args.nodes, min(args.repeat, 3))
        print(json.dumps(result, indent=2) if args.json else bench_cli.format_cli_bench(result))
        return 0
    result = run(args.nodes, args.vnodes, args.keys, args.int_keys, args.repeat, args.threads)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    if args.plot:
        plot(result, args.plot)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0
