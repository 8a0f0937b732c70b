"""`ringcore bench --scale`: how lookups, builds and updates grow with the ring.

A sweep over ring sizes (nodes x 160 vnodes: 16k, 160k, 1.6M and 16M points
by default). For each size: building the ring, adding and removing a node,
unpickling it (against a plain copy of its arrays), and one-thread batch
lookups of pre-hashed uint64 values, uint64 keys and str keys, beside numpy's
searchsorted on the same hashes. Medians of `repeat` timings, in one process.
"""

from __future__ import annotations

import pickle
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .benchmark import _versions, pyplot
from .benchmark import median_seconds as _median
from .ring import HashRing

DEFAULT_NODES = (100, 1_000, 10_000, 100_000)


def run_scale(
    nodes_list: tuple[int, ...] = DEFAULT_NODES,
    vnodes: int = 160,
    int_keys: int = 2_000_000,
    str_keys: int = 500_000,
    repeat: int = 5,
) -> dict[str, Any]:
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**64, int_keys, dtype=np.uint64)
    ints = rng.integers(0, 2**63, int_keys, dtype=np.int64).astype(np.uint64)
    strs = [f"user:{i}:{i * 2654435761 % 1000003}" for i in range(str_keys)]
    rows: list[dict[str, Any]] = []
    for nodes in nodes_list:
        rows += _measure(nodes, vnodes, hashes, ints, strs, repeat)
    return {
        "config": {"nodes": list(nodes_list), "vnodes": vnodes, "int_keys": int_keys,
                   "str_keys": str_keys, "repeat": repeat},
        "versions": _versions(),
        "rows": rows,
    }


def _measure(
    nodes: int, vnodes: int, hashes: np.ndarray, ints: np.ndarray, strs: list[str], repeat: int
) -> list[dict[str, Any]]:
    """Every row of one ring size."""
    rows: list[dict[str, Any]] = []
    int_keys, str_keys = len(hashes), len(strs)
    names = [f"node-{i}" for i in range(nodes)]
    build_repeat = min(repeat, 3) if nodes >= 10_000 else repeat
    build_s = _median(lambda: HashRing(names, vnodes=vnodes), build_repeat)
    ring = HashRing(names, vnodes=vnodes)
    layout = ring.layout
    points = len(layout.positions)

    def timed(update: Callable[[], object]) -> float:
        start = time.perf_counter()
        update()
        return time.perf_counter() - start

    # each timing adds a node and takes it out again: both timed on their own
    pairs = [(timed(lambda: ring.add_node("extra-node")),
              timed(lambda: ring.remove_node("extra-node"))) for _ in range(build_repeat)]
    add_s = statistics.median(added for added, _ in pairs)
    remove_s = statistics.median(removed for _, removed in pairs)
    blob = pickle.dumps(ring, protocol=5)
    unpickle_s = _median(lambda: pickle.loads(blob), build_repeat)
    arrays = (np.ascontiguousarray(layout.positions), np.ascontiguousarray(layout.owners))
    copy_s = _median(lambda: [a.copy() for a in arrays], build_repeat)
    positions = arrays[0]

    def lookup(case: str, fn: Callable[[], object], count: int) -> None:
        seconds = _median(fn, repeat)
        rows.append({"points": points, "nodes": nodes, "case": case, "unit": "ns/key",
                     "value": seconds / count * 1e9})

    lookup("route_hashes(uint64)", lambda: ring.route_hashes(hashes, threads=1), int_keys)
    lookup("route(uint64 keys)", lambda: ring.route(ints, threads=1), int_keys)
    lookup("route(list[str])", lambda: ring.route(strs, threads=1), str_keys)
    lookup("numpy searchsorted (pre-hashed)",
           lambda: np.searchsorted(positions, hashes, side="left"), int_keys)
    for case, seconds in (("build", build_s), ("add_node", add_s),
                          ("remove_node", remove_s), ("unpickle", unpickle_s),
                          ("copy of the arrays", copy_s)):
        rows.append({"points": points, "nodes": nodes, "case": case, "unit": "ms",
                     "value": seconds * 1e3})
    rows.append({"points": points, "nodes": nodes, "case": "memory", "unit": "bytes/point",
                 "value": layout.memory_bytes / points})
    return rows


def format_scale(result: dict[str, Any]) -> str:
    """One line per case, one column per ring size."""
    rows = result["rows"]
    sizes = sorted({r["points"] for r in rows})
    cases = list(dict.fromkeys((r["case"], r["unit"]) for r in rows))
    value = {(r["case"], r["points"]): r["value"] for r in rows}
    v, c = result["versions"], result["config"]
    head = f"{'case':<34} {'unit':<12}" + "".join(f"{p:>14,}" for p in sizes)
    lines = [
        f"ringcore {v['ringcore']}  Python {v['python']}  numpy {v['numpy']}  {v['machine']}",
        f"ring sizes in points (nodes x {c['vnodes']} vnodes); one thread; "
        f"median of {c['repeat']}",
        "",
        head,
    ]
    for case, unit in cases:
        cells = "".join(
            f"{value[(case, p)]:>14.2f}" if (case, p) in value else f"{'':>14}" for p in sizes
        )
        lines.append(f"{case:<34} {unit:<12}" + cells)
    return "\n".join(lines)


def plot_scale(result: dict[str, Any], path: str) -> None:
    """ns/key of each lookup case against ring size (log x)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    rows = [r for r in result["rows"] if r["unit"] == "ns/key"]
    for case in dict.fromkeys(r["case"] for r in rows):
        mine = [r for r in rows if r["case"] == case]
        ax.plot([r["points"] for r in mine], [r["value"] for r in mine], marker="o", label=case)
    ax.set_xscale("log")
    ax.set_xlabel("points on the ring (log scale)")
    ax.set_yscale("log")
    ax.set_ylabel("ns per key, one thread (log scale, lower is better)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    v = result["versions"]
    ax.set_title(f"ringcore {v['ringcore']}: lookup cost against ring size", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
