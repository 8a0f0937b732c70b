"""`ringcore lookup KEY...`: where keys live."""

from __future__ import annotations

import os
from typing import Any

from ._common import CliError, UsageError, dump_json, nodes_text, write_stdout
from .ringfile import ring_from_args


def run(args: Any) -> int:
    if args.replicas < 1:
        raise UsageError(f"--replicas must be >= 1, got {args.replicas}")
    if args.distinct_zones and args.replicas == 1:
        raise UsageError("--distinct-zones goes with --replicas N (N >= 2)")
    layout = ring_from_args(args).snapshot()
    if not len(layout.nodes):
        raise CliError("the ring has no nodes")
    if args.replicas > len(layout.nodes):
        raise CliError(f"--replicas {args.replicas}: the ring has {nodes_text(len(layout.nodes))}")
    # the keys' bytes as given: an argument that is not UTF-8 routes as route does its line
    keys = [os.fsencode(key) for key in args.keys]
    try:
        owners = layout.route_replicas(keys, args.replicas, distinct_zones=args.distinct_zones)
    except ValueError as e:
        raise CliError(str(e)) from None
    names = layout.nodes
    rows = [[names[i] for i in row if i >= 0] for row in owners.tolist()]
    if args.json:
        dump_json([{"key": key, "nodes": nodes} for key, nodes in zip(args.keys, rows)])
        return 0
    write_stdout(b"".join(key + "".join("\t" + n for n in nodes).encode("utf-8") + b"\n"
                          for key, nodes in zip(keys, rows)))
    return 0
