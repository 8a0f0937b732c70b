"""Validation of ring configuration, shared by the core and the reference.

These rules are SPEC.md sections 3 and 6; both implementations must reject
the same inputs with the same exception types, so they live in one place.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping

# Point indices are stored as int32/uint32 in the core.
MAX_POINTS = 2**31 - 1
# Hashes, route_hashes' inputs and int keys (modulo) live in [0, HASH_SPACE).
HASH_SPACE = 2**64


def check_vnodes(vnodes: object) -> int:
    if isinstance(vnodes, bool) or not isinstance(vnodes, numbers.Integral):
        raise TypeError(f"vnodes must be an int, not {type(vnodes).__name__}")
    vnodes = int_value(vnodes)
    if vnodes < 1:
        raise ValueError(f"vnodes must be >= 1, got {vnodes}")
    return vnodes


def check_name(name: object) -> str:
    """A node name as a plain str (a subclass's hooks never run again), or raise."""
    name = exact_name(name)
    if not name:
        raise ValueError("node name must be a non-empty str")
    name.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError
    return name


def exact_name(name: object) -> str:
    """The value of a str (subclass) as a plain str; TypeError for anything else."""
    if not isinstance(name, str):
        raise TypeError(f"node name must be a str, not {type(name).__name__}")
    return str.__str__(name)


def check_weight(weight: object, name: str) -> float:
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real):
        raise TypeError(
            f"weight of node {name!r} must be a real number, not {type(weight).__name__}"
        )
    weight = float(weight)
    if not math.isfinite(weight) or weight <= 0.0:
        raise ValueError(f"weight of node {name!r} must be finite and > 0, got {weight!r}")
    return weight


def point_count(vnodes: int, weight: float, name: str) -> int:
    """floor(vnodes * weight + 0.5) in IEEE-754 double arithmetic (SPEC.md 3)."""
    try:
        scaled = float(vnodes) * weight + 0.5
    except OverflowError:  # vnodes beyond any float
        scaled = math.inf
    if not math.isfinite(scaled) or scaled > MAX_POINTS:
        raise ValueError(f"node {name!r} would get more than {MAX_POINTS} points")
    count = math.floor(scaled)
    if count < 1:
        raise ValueError(
            f"node {name!r} gets {count} points (vnodes={vnodes} x weight={weight!r}); "
            "it needs at least 1"
        )
    return count


def check_total_points(total: int) -> None:
    """A whole ring holds at most MAX_POINTS points."""
    if total > MAX_POINTS:
        raise ValueError(f"the ring would have more than {MAX_POINTS} points")


def normalize_nodes(nodes: object) -> list[tuple[str, float]]:
    """Turn the `nodes` argument (iterable of names or mapping name -> weight)
    into a checked list of (name, weight) in the given order."""
    if isinstance(nodes, (str, bytes, bytearray)):
        raise TypeError(
            f"nodes must be an iterable of names or a mapping name -> weight, "
            f"not a single {type(nodes).__name__}"
        )
    if isinstance(nodes, Mapping):
        items = list(nodes.items())
    elif isinstance(nodes, Iterable):
        items = [(name, 1.0) for name in nodes]
    else:
        raise TypeError(
            f"nodes must be an iterable of names or a mapping name -> weight, "
            f"not {type(nodes).__name__}"
        )
    fast = _all_plain(items)
    if fast is not None:
        return fast
    seen: set[str] = set()
    checked = []
    for name, weight in items:
        name = check_name(name)
        if name in seen:
            raise ValueError(f"duplicate node name {name!r}")
        seen.add(name)
        checked.append((name, check_weight(weight, name)))
    return checked


def _all_plain(items: list) -> list[tuple[str, float]] | None:
    """The checked nodes when every name is a plain, distinct, non-empty str
    with UTF-8 and every weight a finite float > 0 (checked in bulk: a ring of
    a million nodes); None to check one by one (and name what is wrong)."""
    names = [item[0] for item in items]
    weights = [item[1] for item in items]
    if not all(type(name) is str for name in names) or not all(type(w) is float for w in weights):
        return None
    distinct = set(names)
    if len(distinct) != len(names) or "" in distinct:
        return None
    try:
        "".join(names).encode("utf-8")
    except UnicodeEncodeError:
        return None
    if weights and not all(0.0 < w < math.inf for w in weights):
        return None
    return list(zip(names, weights))


def point_counts(vnodes: int, weights: list[float], names: list[str]) -> list[int]:
    """point_count of every node, computed in bulk (the same double arithmetic)."""
    import numpy as np

    if not weights:
        return []
    try:
        factor = float(vnodes)
    except OverflowError:  # vnodes beyond any float
        factor = math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = factor * np.array(weights, dtype=np.float64) + 0.5
    if np.isfinite(scaled).all() and scaled.max() <= MAX_POINTS and scaled.min() >= 1.0:
        return np.floor(scaled).astype(np.int64).tolist()
    return [point_count(vnodes, w, n) for n, w in zip(names, weights)]  # raises for the culprit


def check_replica_type(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be an int, not {type(n).__name__}")
    return int_value(n)


def check_replica_range(n: int, node_count: int) -> None:
    if not 1 <= n <= node_count:
        raise ValueError(f"n must be between 1 and the number of nodes ({node_count}), got {n}")


def check_threads(threads: object) -> int | None:
    """The `threads` argument of batch calls: None or an int >= 1."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be an int or None, not {type(threads).__name__}")
    threads = int_value(threads)
    if threads < 1:
        raise ValueError(f"threads must be >= 1, got {threads}")
    return threads


def check_null(null: object) -> int:
    """The `null` argument of route(): an int that fits in int32."""
    if isinstance(null, bool) or not isinstance(null, numbers.Integral):
        raise TypeError(f"null must be an int, not {type(null).__name__}")
    value = int_value(null)
    if not -(2**31) <= value < 2**31:
        raise ValueError(f"null must fit in int32, got {value}")
    return value


def int_value(value: numbers.Integral) -> int:
    """The value of an int (its own, whatever a subclass overrides) or of
    another integral number (numpy integers: int(value))."""
    return int.__index__(value) if isinstance(value, int) else int(value)
