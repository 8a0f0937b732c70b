"""Rings from the command line: a TOML or JSON ring file, or --nodes a,b,c.

A ring file holds a ``nodes`` list, each a table with ``name`` and optional
``weight`` and ``zone`` (a bare string is a node of weight 1), and optional
top-level ``vnodes`` and ``dialect``. Anything else is an error, so that a
typo (``weigth``) never passes silently.
"""

from __future__ import annotations

import importlib
import json
import numbers
import os
from typing import Any

from ..dialects import available_dialects as dialect_names
from ..ring import HashRing
from ._common import CliError, UsageError

TOP_FIELDS = ("nodes", "vnodes", "dialect")
NODE_FIELDS = ("name", "weight", "zone")


def _toml_loads(text: str) -> dict:
    try:
        toml = importlib.import_module("tomllib")
    except ModuleNotFoundError:  # Python 3.10
        try:
            toml = importlib.import_module("tomli")
        except ModuleNotFoundError:
            raise CliError("reading TOML on Python 3.10 needs tomli: "
                           "pip install 'ringcore[cli]' (or give a .json ring file)") from None
    return toml.loads(text)


def read_ring_file(path: str) -> dict:
    """The parsed contents of a ring file (not yet checked)."""
    kind = os.path.splitext(path)[1].lower()
    if kind not in (".toml", ".json"):
        raise UsageError(f"{path}: a ring file ends in .toml or .json")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise CliError(f"cannot read ring file {path}: {_reason(e)}") from None
    try:
        config = _toml_loads(text) if kind == ".toml" else json.loads(text)
    except ValueError as e:  # TOMLDecodeError and JSONDecodeError both are
        raise CliError(f"{path}: not valid {kind[1:].upper()}: {e}") from None
    if not isinstance(config, dict):
        raise CliError(f"{path}: a ring file holds a table with a 'nodes' list")
    return config


def ring_from_config(config: dict, where: str) -> HashRing:
    """A HashRing from a ring file's contents; errors name ``where`` and the node."""
    unknown = [k for k in config if k not in TOP_FIELDS]
    if unknown:
        raise CliError(f"{where}: unknown field {unknown[0]!r} "
                       f"(a ring file has {', '.join(TOP_FIELDS)})")
    if "nodes" not in config:
        raise CliError(f"{where}: no 'nodes' list")
    nodes = config["nodes"]
    if not isinstance(nodes, list) or not nodes:
        raise CliError(f"{where}: 'nodes' must be a list of at least one node")
    table: dict[str, dict[str, Any]] = {}
    for i, node in enumerate(nodes, 1):
        entry = _node(node, f"{where}: node {i}")
        name = entry.pop("name")
        if name in table:
            raise CliError(f"{where}: node {i}: node {name!r} is listed twice")
        table[name] = entry
    vnodes = config.get("vnodes")
    if vnodes is not None and (isinstance(vnodes, bool) or not isinstance(vnodes, int)):
        raise CliError(f"{where}: 'vnodes' must be an integer, not {vnodes!r}")
    return build_ring(table, vnodes, config.get("dialect"), where)


def _node(node: object, where: str) -> dict[str, Any]:
    if isinstance(node, str):
        node = {"name": node}
    if not isinstance(node, dict):
        raise CliError(f"{where}: a node is a table with 'name' (and 'weight', 'zone')")
    unknown = [k for k in node if k not in NODE_FIELDS]
    if unknown:
        raise CliError(f"{where}: unknown field {unknown[0]!r} "
                       f"(a node has {', '.join(NODE_FIELDS)})")
    name = node.get("name")
    if not isinstance(name, str) or not name:
        raise CliError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name!r})"
    entry: dict[str, Any] = {"name": name}
    if "weight" in node:
        weight = node["weight"]
        if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
            raise CliError(f"{where}: 'weight' must be a number, not {weight!r}")
        entry["weight"] = weight
    if "zone" in node:
        zone = node["zone"]
        if not isinstance(zone, str) or not zone:
            raise CliError(f"{where}: 'zone' must be a non-empty string")
        entry["zone"] = zone
    return entry


def build_ring(table: dict[str, dict[str, Any]], vnodes: object, dialect: object,
               where: str) -> HashRing:
    if dialect is not None and dialect not in dialect_names():
        raise CliError(f"{where}: unknown dialect {dialect!r} "
                       f"(one of {', '.join(dialect_names())})")
    try:
        return HashRing(table, vnodes=vnodes, dialect=dialect)  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError) as e:
        raise CliError(f"{where}: {_message(e)}") from None


def ring_from_args(args: Any) -> HashRing:
    """The ring of --ring FILE or --nodes a,b,c (exactly one), with --vnodes
    and --dialect overriding the file's."""
    if (args.ring is None) == (args.nodes is None):
        raise UsageError("give the ring with --ring FILE or --nodes a,b,c (one of them)")
    if args.ring is not None:
        config = read_ring_file(args.ring)
        where = args.ring
    else:
        names = [n.strip() for n in args.nodes.split(",")]
        if not all(names):
            raise UsageError(f"--nodes {args.nodes!r}: empty node name")
        config = {"nodes": names}
        where = "--nodes"
    if args.vnodes is not None:
        config["vnodes"] = args.vnodes
    if args.dialect is not None:
        config["dialect"] = args.dialect
    return ring_from_config(config, where)


def ring_from_file(path: str) -> HashRing:
    return ring_from_config(read_ring_file(path), path)


def _reason(e: BaseException) -> str:
    return getattr(e, "strerror", None) or str(e)


def _message(e: BaseException) -> str:
    return str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
