"""`ringcore plan OLD NEW`: what moves when a ring changes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ._common import CliError, UsageError, format_table, percent, publish
from .inputs import key_chunks
from .ringfile import ring_from_file

MATRIX_PRINT_MAX = 12  # print the whole transfer matrix up to this many nodes a side


def run(args: Any) -> int:
    if args.top < 0:
        raise UsageError(f"--top must be >= 0, got {args.top}")
    old_ring = ring_from_file(args.old)
    old = old_ring.snapshot()
    new = changed_layout(old_ring, args)
    if args.plot:
        from .plots import check_plot_target

        check_plot_target(args.plot, args.force)
    try:
        plan = old.diff(new)
    except (TypeError, ValueError) as e:
        raise CliError(f"{args.old} -> {args.new}: {e}") from None
    moving = count_moving(plan, args) if args.keys else None
    report = plan_report(plan, args.top, moving)

    def draw(path: str) -> None:
        from .plots import plot_plan

        plot_plan(plan, report, path)

    return publish(report, args, format_plan, draw)


def changed_layout(old: Any, args: Any) -> Any:
    """NEW: the second ring file, or OLD with --add and --remove applied."""
    if args.new is not None:
        if args.add or args.remove:
            raise UsageError("give NEW or --add/--remove, not both")
        return ring_from_file(args.new).snapshot()
    if not (args.add or args.remove):
        raise UsageError("give the ring to be: NEW, or --add NODE / --remove NODE")
    layout = old.snapshot()
    for name in args.remove:
        if name not in layout:
            raise CliError(f"--remove {name}: no node {name!r} in {args.old} "
                           f"(nodes: {_some(layout.nodes)})")
        layout = layout.without_node(name)
    for spec in args.add:
        name, _, weight_text = spec.partition("=")
        try:
            weight = float(weight_text) if weight_text else 1.0
        except ValueError:
            raise UsageError(f"--add {spec}: the weight after '=' is not a number") from None
        if name in layout:
            raise CliError(f"--add {name}: {args.old} already has node {name!r}")
        try:
            layout = layout.with_node(name, weight)
        except (TypeError, ValueError) as e:
            raise CliError(f"--add {spec}: {e}") from None
    return layout


def _some(names: tuple[str, ...], most: int = 8) -> str:
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "")


def count_moving(plan: Any, args: Any) -> dict:
    total = 0
    pairs: Counter = Counter()
    for source, keys in key_chunks(args):
        try:
            pairs.update(plan.transfers(keys))
        except (TypeError, ValueError) as e:
            raise CliError(f"{source.name}: {e}") from None
        total += len(keys)
    return {"total": total, "pairs": pairs}


def plan_report(plan: Any, top: int, moving: dict | None) -> dict:
    old, new = plan.old, plan.new
    bits = 64 if old.dialect.ring_size == 2**64 else 32
    sizes = plan.sizes.astype(np.float64)
    sizes[sizes == 0] = float(old.dialect.ring_size)  # a whole-ring range
    largest = np.argsort(-sizes, kind="stable")[:top]
    ranges = []
    for i in largest.tolist():
        a, b = int(plan.sources[i]), int(plan.targets[i])
        ranges.append({"start": int(plan.starts[i]), "end": int(plan.ends[i]),
                       "fraction": float(sizes[i]) / old.dialect.ring_size,
                       "from": old.nodes[a] if a >= 0 else None,
                       "to": new.nodes[b] if b >= 0 else None})
    transfers = sorted(plan.transfer().items(), key=lambda kv: -kv[1])
    report: dict[str, Any] = {
        "old": {"nodes": list(old.nodes), "points": len(old.positions)},
        "new": {"nodes": list(new.nodes), "points": len(new.positions)},
        "dialect": old.dialect.name, "ring_bits": bits,
        "moved_fraction": plan.moved_fraction if bits == 64 else
        plan.moved_hashes / old.dialect.ring_size,
        "ranges": len(plan),
        "transfers": [{"from": a, "to": b, "fraction": f} for (a, b), f in transfers],
        "transfer_matrix": plan.transfer_matrix().tolist(),
        "largest_ranges": ranges,
    }
    if moving is not None:
        pairs = sorted(moving["pairs"].items(), key=lambda kv: -kv[1])
        moved = sum(c for _, c in pairs)
        report["keys"] = {"total": moving["total"], "moving": moved,
                          "moving_fraction": moved / moving["total"] if moving["total"] else 0.0,
                          "transfers": [{"from": a, "to": b, "keys": c} for (a, b), c in pairs]}
    return report


def format_plan(report: dict) -> str:
    old, new = report["old"], report["new"]
    digits = report["ring_bits"] // 4
    lines = [f"old: {len(old['nodes'])} nodes, {old['points']:,} points; "
             f"new: {len(new['nodes'])} nodes, {new['points']:,} points "
             f"(dialect {report['dialect']})",
             f"moved: {percent(report['moved_fraction'])} of the hash space, "
             f"in {report['ranges']:,} ranges"]
    if report["transfers"]:
        lines += ["", "transfers (share of the hash space):",
                  format_table(["from", "to", "moves"],
                               [[t["from"] or "-", t["to"] or "-", percent(t["fraction"])]
                                for t in report["transfers"]], [False, False, True])]
    if report["transfers"] and max(len(old["nodes"]), len(new["nodes"])) <= MATRIX_PRINT_MAX:
        matrix = report["transfer_matrix"]
        rows = [[name] + [percent(f) if f else "." for f in row]
                for name, row in zip(old["nodes"], matrix)]
        lines += ["", "transfer matrix (rows: old nodes, columns: new nodes):",
                  format_table(["old \\ new"] + new["nodes"], rows,
                               [False] + [True] * len(new["nodes"]))]
    if report["largest_ranges"]:
        lines += ["", "largest moving ranges (start, end]:",
                  format_table(["start", "end", "size", "from", "to"],
                               [[f"{r['start']:#0{digits + 2}x}", f"{r['end']:#0{digits + 2}x}",
                                 percent(r["fraction"]), r["from"] or "-", r["to"] or "-"]
                                for r in report["largest_ranges"]],
                               [False, False, True, False, False])]
    if "keys" in report:
        keys = report["keys"]
        lines += ["", f"keys: {keys['total']:,}, moving: {keys['moving']:,} "
                      f"({percent(keys['moving_fraction'])})"]
        if keys["transfers"]:
            lines.append(format_table(["from", "to", "keys"],
                                      [[t["from"] or "-", t["to"] or "-", f"{t['keys']:,}"]
                                       for t in keys["transfers"]], [False, False, True]))
    return "\n".join(lines)
