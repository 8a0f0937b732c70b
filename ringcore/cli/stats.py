"""`ringcore stats`: how evenly a ring spreads the hash space and real keys."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import CliError, format_table, percent, publish, ratio
from .inputs import key_chunks
from .ringfile import ring_from_args


def run(args: Any) -> int:
    layout = ring_from_args(args).snapshot()
    names = layout.nodes
    if not names:
        raise CliError("the ring has no nodes")
    if args.plot:
        from .plots import check_plot_target

        check_plot_target(args.plot, args.force)
    counts = count_keys(layout, args) if args.keys else None
    report = stats_report(layout, counts)

    def draw(path: str) -> None:
        from .plots import plot_stats

        plot_stats(layout, report, path)

    return publish(report, args, format_stats, draw)


def count_keys(layout: Any, args: Any) -> np.ndarray:
    counts = np.zeros(len(layout.nodes), dtype=np.int64)
    for source, keys in key_chunks(args):
        try:
            owners = layout.route(keys)
        except (TypeError, ValueError) as e:
            raise CliError(f"{source.name}: {e}") from None
        counts += np.bincount(owners, minlength=len(counts))
    return counts


def stats_report(layout: Any, counts: np.ndarray | None) -> dict:
    names = layout.nodes
    owned = layout.ownership()
    weights, zones = layout.weights, layout.zones
    points = np.bincount(layout.owners, minlength=len(names)).tolist()
    total_weight = sum(weights.values())
    nodes = []
    for i, name in enumerate(names):
        share = weights[name] / total_weight
        entry = {"name": name, "zone": zones[name], "weight": weights[name],
                 "points": points[i], "share": share, "ownership": owned[name],
                 "ownership_over_share": owned[name] / share}
        if counts is not None:
            total = int(counts.sum())
            entry["keys"] = int(counts[i])
            entry["keys_over_share"] = (int(counts[i]) / total / share) if total else float("nan")
        nodes.append(entry)
    over = np.array([n["ownership_over_share"] for n in nodes])
    spread: dict[str, Any] = {
        "ownership_max_over_share": float(over.max()),
        "ownership_min_over_share": float(over.min()),
        "ownership_stdev_over_share": float(over.std()),
    }
    if counts is not None:
        keys_over = np.array([n["keys_over_share"] for n in nodes])  # nan without keys
        spread.update({"keys": int(counts.sum()),
                       "keys_max_over_share": float(keys_over.max()),
                       "keys_min_over_share": float(keys_over.min()),
                       "keys_stdev_over_share": float(keys_over.std())})
    return {"ring": {"nodes": len(names), "points": len(layout.positions),
                     "vnodes": layout.vnodes, "dialect": layout.dialect.name},
            "nodes": nodes, "spread": spread}


def format_stats(report: dict) -> str:
    ring, nodes, spread = report["ring"], report["nodes"], report["spread"]
    zoned = any(n["zone"] is not None for n in nodes)
    keyed = "keys" in spread
    header = ["node"] + (["zone"] if zoned else []) + ["weight", "points", "share", "owns",
                                                        "owns/share"]
    if keyed:
        header += ["keys", "keys/share"]
    rows = []
    for n in nodes:
        row = [n["name"]] + ([n["zone"] or "-"] if zoned else [])
        row += [f"{n['weight']:g}", f"{n['points']:,}", percent(n["share"]),
                percent(n["ownership"]), ratio(n["ownership_over_share"])]
        if keyed:
            row += [f"{n['keys']:,}", ratio(n["keys_over_share"])]
        rows.append(row)
    right = [False] + ([False] if zoned else []) + [True] * (len(header) - 1 - zoned)
    lines = [f"{ring['nodes']} nodes, {ring['points']:,} points "
             f"(vnodes {ring['vnodes']}, dialect {ring['dialect']})", "",
             format_table(header, rows, right), ""]
    lines.append(f"hash space owned over weight share: max {ratio(spread['ownership_max_over_share'])}, "
                 f"min {ratio(spread['ownership_min_over_share'])}, "
                 f"stdev {ratio(spread['ownership_stdev_over_share'])}")
    if keyed:
        lines.append(f"keys ({spread['keys']:,}) over weight share: "
                     f"max {ratio(spread['keys_max_over_share'])}, "
                     f"min {ratio(spread['keys_min_over_share'])}, "
                     f"stdev {ratio(spread['keys_stdev_over_share'])}")
    return "\n".join(lines)
