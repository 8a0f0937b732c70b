"""`ringcore bench --dask`: route the keys of a Parquet data set and count them
per node, on a distributed.LocalCluster of worker processes against one
process with the library alone (rows per second, medians; peak memory of the
process and of each worker)."""

from __future__ import annotations

import importlib
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Any

import numpy as np

from . import __version__
from .bench_cli import high_water_mark, measured_run

ONE_PROCESS = """
import sys, os
import numpy as np, pyarrow.parquet as pq, ringcore
folder, nodes = sys.argv[1], int(sys.argv[2])
layout = ringcore.HashRing([f"cache-{i:03d}" for i in range(nodes)]).snapshot()
counts = np.zeros(nodes, dtype=np.int64)
for name in sorted(os.listdir(folder)):
    for batch in pq.ParquetFile(os.path.join(folder, name), pre_buffer=False).iter_batches(
            batch_size=1 << 20, columns=["id"]):
        counts += np.bincount(layout.route(batch.column(0)), minlength=nodes)
print(int(counts.sum()))
"""


def make_dataset(folder: str, rows: int, files: int, seed: int = 11) -> None:
    """`files` Parquet files of 'user:<n>' keys and a float column."""
    pa = importlib.import_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")
    rng = np.random.default_rng(seed)
    per_file = -(-rows // files)
    for f in range(files):
        n = min(per_file, rows - f * per_file)
        if n <= 0:
            break
        ids = pa.array([f"user:{v}" for v in rng.integers(0, 2**40, n).tolist()], pa.string())
        pq.write_table(pa.table({"id": ids, "amount": rng.random(n)}),
                       os.path.join(folder, f"part-{f:04d}.parquet"), row_group_size=1 << 20)


def _one_process(folder: str, nodes: int) -> tuple[float, int]:
    return measured_run([sys.executable, "-c", ONE_PROCESS, folder, str(nodes)], folder)


def _worker_peak() -> int:
    peak = high_water_mark()
    if peak is not None:
        return peak
    import resource

    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def run_dask_bench(rows: int, nodes: int = 100, workers: int = 2, repeat: int = 3,
                   files: int = 20) -> dict[str, Any]:
    import logging

    dd = importlib.import_module("dask.dataframe")
    distributed = importlib.import_module("distributed")
    rdask = importlib.import_module("ringcore.dask")
    from .ring import HashRing

    for name in ("distributed", "distributed.shuffle"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ring = HashRing([f"cache-{i:03d}" for i in range(nodes)])
    with tempfile.TemporaryDirectory(prefix="ringcore-dask-bench-") as folder:
        make_dataset(folder, rows, files)
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        alone = [_one_process(folder, nodes) for _ in range(repeat)]
        started = time.perf_counter()
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, host="127.0.0.1") as cluster, \
                distributed.Client(cluster) as client:
            startup = time.perf_counter() - started
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                keys = dd.read_parquet(folder, columns=["id"])
                load = rdask.load(keys, "id", ring)
                times.append(time.perf_counter() - start)
                if load.total != rows:
                    raise RuntimeError(f"dask counted {load.total} keys, not {rows}")
            peaks = sorted(client.run(_worker_peak).values())
    one = statistics.median(t for t, _ in alone)
    cluster_time = statistics.median(times)
    return {
        "rows": rows, "nodes": nodes, "workers": workers, "repeat": repeat, "files": files,
        "input_bytes": size, "cluster_startup_s": startup,
        "versions": {"ringcore": __version__, "python": platform.python_version(),
                     "numpy": np.__version__,
                     "dask": importlib.import_module("dask").__version__,
                     "distributed": distributed.__version__,
                     "pyarrow": importlib.import_module("pyarrow").__version__},
        "results": [
            {"impl": "one process, the library alone", "seconds": one,
             "rows_per_s": rows / one, "peak_bytes": [max(p for _, p in alone)], "ratio": 1.0},
            {"impl": f"dask LocalCluster, {workers} worker processes", "seconds": cluster_time,
             "rows_per_s": rows / cluster_time, "peak_bytes": peaks,
             "ratio": cluster_time / one},
        ],
    }


def format_dask_bench(result: dict[str, Any]) -> str:
    v = result["versions"]
    lines = [f"ringcore {v['ringcore']}  Python {v['python']}  numpy {v['numpy']}  "
             f"dask {v['dask']}  distributed {v['distributed']}  pyarrow {v['pyarrow']}",
             f"route and count per node {result['rows']:,} keys read from {result['files']} "
             f"Parquet files ({result['input_bytes'] / 1e6:.0f} MB), {result['nodes']} nodes; "
             f"median of {result['repeat']} runs (cluster start-up, "
             f"{result['cluster_startup_s']:.1f} s, not included)", "",
             f"{'implementation':<44} {'time':>8} {'rows/s':>12}  peak memory (per process)"]
    for r in result["results"]:
        peaks = ", ".join(f"{p / 2**20:.0f}" for p in r["peak_bytes"])
        lines.append(f"{r['impl']:<44} {r['seconds']:>6.2f} s {r['rows_per_s'] / 1e6:>9.2f} M/s"
                     f"  {peaks} MiB  ({r['ratio']:.2f}x the time)")
    return "\n".join(lines)
