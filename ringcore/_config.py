"""Validation of ring configuration, shared by the core and the reference.

These rules are SPEC.md sections 3 and 6; both implementations must reject
the same inputs with the same exception types, so they live in one place.
"""

from __future__ import annotations

import itertools
import math
import numbers
import operator
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
    names, weights, _ = node_columns(nodes)
    return list(zip(names, weights))


def node_columns(
    nodes: object, *, distinct_checked_later: bool = False
) -> tuple[tuple[str, ...], tuple[float, ...], tuple[str | None, ...]]:
    """The checked names, weights and zones of the `nodes` argument, in order.

    With distinct_checked_later, plain names are not yet checked for being
    distinct, non-empty and UTF-8: the caller encodes and sorts them anyway
    and calls check_sorted_names."""
    if isinstance(nodes, (str, bytes, bytearray)):
        raise TypeError(
            f"nodes must be an iterable of names or a mapping name -> weight, "
            f"not a single {type(nodes).__name__}"
        )
    unit_weights = False
    raw_zones: list[object] | None = None
    if isinstance(nodes, Mapping):
        items = list(nodes.items())
        names = tuple(name for name, _ in items)
        if any(isinstance(value, Mapping) for _, value in items):
            settings = [node_setting(name, value) for name, value in items]
            weights = tuple(weight for weight, _ in settings)
            raw_zones = [zone for _, zone in settings]
        else:
            weights = tuple(weight for _, weight in items)
    elif isinstance(nodes, Iterable):
        names = tuple(nodes)
        weights = (1.0,) * len(names)
        unit_weights = True
    else:
        raise TypeError(
            f"nodes must be an iterable of names or a mapping name -> weight, "
            f"not {type(nodes).__name__}"
        )
    names, weights = checked_columns(
        names, weights, distinct_checked_later=distinct_checked_later, unit_weights=unit_weights
    )
    if raw_zones is None:
        return names, weights, (None,) * len(names)
    return names, weights, tuple(check_zone(z, name) for z, name in zip(raw_zones, names))


def checked_columns(
    names: tuple, weights: tuple, *, distinct_checked_later: bool = False,
    unit_weights: bool = False,
) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Names and weights as parallel tuples, checked (in bulk when they are
    plain, one by one naming the culprit when they are not). unit_weights:
    the caller made every weight 1.0."""
    if len(names) != len(weights):
        raise ValueError("names and weights differ in length")
    if _all_plain(names, () if unit_weights else weights, distinct=not distinct_checked_later):
        return names, weights
    seen: set[str] = set()
    checked_names, checked_weights = [], []
    for name, weight in zip(names, weights):
        name = check_name(name)
        if name in seen:
            raise ValueError(f"duplicate node name {name!r}")
        seen.add(name)
        checked_names.append(name)
        checked_weights.append(check_weight(weight, name))
    return tuple(checked_names), tuple(checked_weights)


def _all_plain(names: tuple, weights: tuple, *, distinct: bool = True) -> bool:
    """Whether every name is a plain str (with distinct: distinct, non-empty,
    with UTF-8) and every weight a finite float > 0, checked in bulk (a ring
    of a million nodes); if not, the caller checks one by one and names what
    is wrong."""
    if set(map(type, names)) - {str} or set(map(type, weights)) - {float}:
        return False
    if distinct:
        unique = set(names)
        if len(unique) != len(names) or "" in unique:
            return False
        try:
            "".join(names).encode("utf-8")
        except UnicodeEncodeError:
            return False
    return not weights or (
        min(weights) > 0.0 and max(weights) < math.inf and not any(map(math.isnan, weights))
    )


def check_sorted_names(
    sorted_names: list[str], names: tuple[str, ...], weights: tuple[float, ...]
) -> None:
    """Check, as node_columns(distinct_checked_later=True) left to its caller,
    that the names (here sorted) are distinct and non-empty: a sort makes
    duplicates neighbours, cheaper than a set of a million names. UTF-8 is
    the caller's to check as it encodes them."""
    if (sorted_names and not sorted_names[0]) or any(
        map(operator.eq, sorted_names, itertools.islice(sorted_names, 1, None))
    ):
        checked_columns(names, weights)  # raises, naming the culprit
        raise AssertionError("names failed the sorted check but not the full one")


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


def check_replica_range(n: int, node_count: int, *, allow_zero: bool = False) -> None:
    if not (0 if allow_zero else 1) <= n <= node_count:
        low = 0 if allow_zero else 1
        raise ValueError(
            f"n must be between {low} and the number of nodes ({node_count}), got {n}"
        )


def check_zone_range(n: int, zone_count: int) -> None:
    if n > zone_count:
        raise ValueError(
            f"n must be at most the number of zones ({zone_count}) with distinct_zones, got {n}"
        )


def check_distinct_zones(distinct_zones: object) -> bool:
    if not isinstance(distinct_zones, bool):
        raise TypeError(f"distinct_zones must be a bool, not {type(distinct_zones).__name__}")
    return distinct_zones


SETTINGS = ("weight", "zone")


def node_setting(name: object, value: object) -> tuple[object, object]:
    """(weight, zone) of a node's value in a nodes mapping: a weight, or a
    mapping of settings (uhashring style: {"weight": 2, "zone": "eu-1a"})."""
    if isinstance(value, Mapping):
        for key in value:
            if key not in SETTINGS:
                raise ValueError(
                    f"node {name!r}: unknown setting {key!r} (the settings are weight and zone)"
                )
        return value.get("weight", 1.0), value.get("zone")
    return value, None


def check_zone(zone: object, name: str) -> str | None:
    """A node's zone: None (no zone) or a non-empty str, kept as a plain str."""
    if zone is None:
        return None
    if not isinstance(zone, str):
        raise TypeError(f"zone of node {name!r} must be a str or None, not {type(zone).__name__}")
    zone = str.__str__(zone)
    if not zone:
        raise ValueError(f"zone of node {name!r} must be a non-empty str")
    return zone


def check_replica_count(n: object) -> int:
    """route_replicas' n: an int >= 0 (checked against the nodes later)."""
    count = check_replica_type(n)
    if count < 0:
        raise ValueError(f"n must be >= 0, got {count}")
    return count


def check_epsilon(epsilon: object) -> float:
    """Bounded loads' epsilon: a finite real number > 0."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"epsilon must be a real number, not {type(epsilon).__name__}")
    value = float(epsilon)
    if not (math.isfinite(value) and value > 0.0):
        raise ValueError(f"epsilon must be finite and > 0, got {value!r}")
    return value


def bounded_capacities(epsilon: float, nkeys: int, weights: tuple[float, ...]) -> list[int]:
    """SPEC.md 11: node i takes at most ceil((1 + epsilon) * nkeys * w_i / W)
    keys, W the exactly rounded sum of the weights, each product and
    quotient rounded to binary64 in that order."""
    total = math.fsum(weights)
    scaled = (1.0 + epsilon) * nkeys
    # (no node takes more than every key: a larger bound, or inf, is nkeys)
    return [math.ceil(x) if (x := scaled * w / total) < nkeys else nkeys for w in weights]


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
