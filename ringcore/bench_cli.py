"""`ringcore bench --cli`: `ringcore route` over a Parquet file against the same
work written with the library in Python, each in a process of its own (rows
per second, median of runs, and the process's peak memory)."""

from __future__ import annotations

import importlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

from . import __version__

LIBRARY_SCRIPT = """
import sys
import pyarrow as pa, pyarrow.parquet as pq, ringcore
source, target, nodes = sys.argv[1], sys.argv[2], int(sys.argv[3])
layout = ringcore.HashRing([f"cache-{i:03d}" for i in range(nodes)]).snapshot()
writer = None
for batch in pq.ParquetFile(source, pre_buffer=False).iter_batches(batch_size=1 << 20):
    owners = layout.route(batch.column("id"))
    table = pa.Table.from_batches([batch]).append_column(
        "node", layout.names_of(owners, format="arrow"))
    if writer is None:
        writer = pq.ParquetWriter(target, table.schema)
    writer.write_table(table)
writer.close()
"""


def make_input(path: str, rows: int, seed: int = 5) -> None:
    """A Parquet file of `rows` keys ('user:<n>') and a float column."""
    pa = importlib.import_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")

    rng = np.random.default_rng(seed)
    writer = None
    step = 1 << 20
    for start in range(0, rows, step):
        n = min(step, rows - start)
        ids = pa.array([f"user:{v}" for v in rng.integers(0, 2**40, n).tolist()], pa.string())
        table = pa.table({"id": ids, "amount": rng.random(n)})
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    if writer is not None:
        writer.close()


def high_water_mark(pid: int | str = "self") -> int | None:
    """Peak resident bytes of a live process's own memory (Linux VmHWM), or None.

    Not ru_maxrss: a child forked and exec'd keeps its parent's resident size
    at the fork as a floor of it, so every child of a big parent would report
    the parent's size."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def measured_run(argv: list[str], cwd: str) -> tuple[float, int]:
    """(seconds, peak resident bytes) of a child process that must succeed;
    the peak is sampled from /proc while it runs (ru_maxrss elsewhere).

    The child runs in ``cwd`` (the bench's scratch folder): from the root of a
    source checkout, ``python -c`` would import the unbuilt source tree."""
    import threading

    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd)
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak = high_water_mark(child.pid)
            if peak is not None:
                samples.append(peak)
            done.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode != 0:
        last = err.strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"{os.path.basename(argv[0])} {argv[1]} (bench child) exited with "
                           f"{child.returncode}: {last[0]}")
    if samples:
        return seconds, max(samples)
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return seconds, usage.ru_maxrss * scale


def ringcore_command() -> list[str]:
    script = shutil.which("ringcore", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "ringcore"]


def run_cli_bench(rows: int, nodes: int = 100, repeat: int = 3) -> dict[str, Any]:
    pyarrow = importlib.import_module("pyarrow")

    with tempfile.TemporaryDirectory(prefix="ringcore-bench-") as folder:
        source = os.path.join(folder, "keys.parquet")
        make_input(source, rows)
        names = ",".join(f"cache-{i:03d}" for i in range(nodes))
        cases = {
            "ringcore route (command line)": lambda out: ringcore_command() + [
                "route", source, "--column", "id", "--nodes", names, "-o", out, "--quiet"],
            "library from Python (iter_batches, route, names_of, ParquetWriter)": lambda out: [
                sys.executable, "-c", LIBRARY_SCRIPT, source, out, str(nodes)],
        }
        results: list[dict[str, Any]] = []
        for label, argv in cases.items():
            times, peaks = [], []
            for i in range(repeat):
                out = os.path.join(folder, f"out-{i}.parquet")
                seconds, peak = measured_run(argv(out), folder)
                os.unlink(out)
                times.append(seconds)
                peaks.append(peak)
            results.append({"impl": label, "seconds": statistics.median(times),
                            "rows_per_s": rows / statistics.median(times),
                            "peak_bytes": max(peaks)})
        input_bytes = os.path.getsize(source)
    base = results[0]["seconds"]
    for r in results:
        r["ratio"] = r["seconds"] / base
    return {"rows": rows, "nodes": nodes, "repeat": repeat, "input_bytes": input_bytes,
            "versions": {"ringcore": __version__, "python": platform.python_version(),
                         "numpy": np.__version__, "pyarrow": pyarrow.__version__},
            "results": results}


def format_cli_bench(result: dict[str, Any]) -> str:
    v = result["versions"]
    lines = [f"ringcore {v['ringcore']}  Python {v['python']}  numpy {v['numpy']}  "
             f"pyarrow {v['pyarrow']}",
             f"route {result['rows']:,} rows of Parquet ({result['input_bytes'] / 1e6:.0f} MB) "
             f"over {result['nodes']} nodes to Parquet with a node column; median of "
             f"{result['repeat']} runs, whole processes (start-up included)", "",
             f"{'implementation':<68} {'time':>8} {'rows/s':>12} {'peak memory':>12} {'ratio':>7}"]
    for r in result["results"]:
        lines.append(f"{r['impl']:<68} {r['seconds']:>6.2f} s {r['rows_per_s'] / 1e6:>9.2f} M/s "
                     f"{r['peak_bytes'] / 2**20:>9.0f} MiB {r['ratio']:>6.2f}x")
    return "\n".join(lines)
