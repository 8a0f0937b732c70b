"""Dialects: how a ring hashes keys and places node points.

A dialect is the part of a ring that other clients of the same cluster must
agree on: the hash of a key, the points a node gets for its weight, the width
of the ring. The lookup kernels know none of it; a layout carries its dialect
and hands its hasher to them.

Dialects live in a registry keyed by name, and round-trip through a config
dict (``get_config()`` / ``get_dialect(config)``), as codecs do in numcodecs.
``"ringcore"`` (docs/SPEC.md) is the default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .. import _config
from .._keys import (
    HASH_MD5_LOW32,
    HASH_OAAT,
    HASH_XXH3_64,
    POINTS_KETAMA,
    POINTS_NAME_HASH_J,
    POINTS_OAAT_NAME_I,
    Hasher,
)

__all__ = ["Dialect", "DEFAULT", "available_dialects", "get_dialect", "register_dialect"]


@dataclass(frozen=True)
class Dialect:
    """One dialect: its registry name, the C hash and point rule it selects,
    the ring width, and where its golden vectors live (relative to the
    project's docs/ folder), which the tests check it against."""

    name: str
    hash_kind: int
    points_kind: int
    hash_bits: int
    description: str
    vectors: str | None = None
    # how many points a node gets: "vnodes" (SPEC.md 3, from its own weight)
    # or "ketama" (4 * floor(vnodes * nodes * weight / total weight): from the
    # whole ring, so every update rebuilds)
    count_rule: str = "vnodes"
    # which node's point comes first among equal positions (and so owns the
    # hashes up to it): "name" (UTF-8 order, SPEC.md 4) or "last" (the node
    # listed last, as uhashring's ketama ring keeps the last one it places)
    tie_order: str = "name"
    default_vnodes: int = 160
    # the text a node's points hash: its "name", or "memcached": a server
    # "host:port" as libmemcached names it (the host alone for port 11211)
    point_base: str = "name"
    hasher: Hasher = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "hasher", Hasher(self.hash_kind, self.points_kind, self.hash_bits)
        )

    def point_count(self, vnodes: int, weight: float, name: str) -> int:
        """How many points a node of this weight gets (SPEC.md 3); only for
        dialects whose counts do not depend on the rest of the ring."""
        if self.counts_depend_on_ring:
            raise ValueError(f"in the {self.name} dialect a node's points depend on the whole ring")
        return _config.point_count(vnodes, weight, name)

    @property
    def counts_depend_on_ring(self) -> bool:
        """Whether adding or removing a node changes other nodes' points."""
        return self.count_rule != "vnodes"

    def point_name(self, name: str) -> str:
        """The text a node's points are hashed from."""
        if self.point_base == "memcached":
            host, colon, port = name.rpartition(":")
            return host if colon and port == "11211" else name
        return name

    def points_hasher(self, weights: tuple[float, ...]) -> Hasher:
        """The hasher that places a ring's points: libmemcached's ketama ring
        without weights hashes one point per "name-i" with the key hash;
        with a weight other than 1 it takes the weighted (MD5) points."""
        if self.count_rule == "libmemcached" and any(w != 1.0 for w in weights):
            return _OAAT_WEIGHTED
        return self.hasher

    @property
    def ring_size(self) -> int:
        """2**hash_bits: the number of positions on the ring."""
        return 1 << self.hash_bits

    def point_counts(self, vnodes: int, weights: tuple[float, ...], names: tuple[str, ...]) -> list[int]:
        """The points of every node of a ring."""
        if self.count_rule == "ketama":
            return _ketama_counts(vnodes, weights, names)
        if self.count_rule in ("libmemcached", "libmemcached-weighted"):
            for name, weight in zip(names, weights):
                if weight != int(weight):
                    raise ValueError(
                        f"weight of node {name!r} must be a whole number in the {self.name} "
                        f"dialect (libmemcached weights are integers), got {weight!r}"
                    )
            if self.count_rule == "libmemcached" and all(w == 1.0 for w in weights):
                if weights and vnodes > _config.MAX_POINTS:
                    raise ValueError(
                        f"node {names[0]!r} would get more than {_config.MAX_POINTS} points"
                    )
                return [vnodes] * len(weights)
            return _memcached_weighted_counts(weights, names)
        return _config.point_counts(vnodes, list(weights), list(names))

    def get_config(self) -> dict[str, str]:
        return {"id": self.name}

    def __reduce__(self) -> tuple:
        # by name: the registry's own object comes back
        return (get_dialect, (self.name,))


def _ketama_counts(vnodes: int, weights: tuple[float, ...], names: tuple[str, ...]) -> list[int]:
    """4 * floor(vnodes * N * w / W) per node, W summed left to right, in
    binary64 (exact for integer weights), as uhashring's ketama ring counts."""
    total = 0.0
    for weight in weights:
        total += weight
    counts = []
    for name, weight in zip(names, weights):
        try:
            digests = (vnodes * len(weights) * weight) // total
        except OverflowError:  # vnodes beyond any binary64
            digests = math.inf
        if math.isnan(digests):  # weights whose sum is inf
            raise ValueError(f"node {name!r} gets no number of points (total weight {total!r})")
        if digests < 1:
            raise ValueError(
                f"node {name!r} gets no points (vnodes={vnodes} x {len(weights)} nodes x "
                f"weight={weight!r} / total weight {total!r} < 1)"
            )
        if 4 * digests > _config.MAX_POINTS:
            raise ValueError(f"node {name!r} would get more than {_config.MAX_POINTS} points")
        counts.append(4 * int(digests))
    return counts


def _memcached_weighted_counts(weights: tuple[float, ...], names: tuple[str, ...]) -> list[int]:
    """libmemcached's weighted ketama: 4 * floor(x + 1e-10) points a server,
    x = pct * 160 / 4 * N in float32 steps, pct = float32(w) / float32(W)."""
    f32 = np.float32
    with np.errstate(over="ignore", invalid="ignore"):  # checked below
        total = f32(sum(weights))
        count = f32(len(weights))
        shares = [f32(f32(f32(f32(w) / total) * f32(160)) / f32(4)) * count for w in weights]
    counts = []
    for name, weight, x in zip(names, weights, shares):
        if not math.isfinite(float(x)):  # libmemcached's weights are 32-bit integers
            raise ValueError(f"node {name!r}: weight {weight!r} of {float(total)!r} is beyond "
                             "the binary32 arithmetic of libmemcached's weighted ring")
        digests = math.floor(float(x) + 1e-10)
        if digests < 1:
            raise ValueError(f"node {name!r} gets no points (weight {weight!r} of {float(total)!r})")
        counts.append(4 * digests)
    return counts


_REGISTRY: dict[str, Dialect] = {}


def register_dialect(dialect: Dialect) -> Dialect:
    """Add a dialect to the registry; a name can be registered once."""
    if not isinstance(dialect, Dialect):
        raise TypeError(f"register_dialect takes a Dialect, not {type(dialect).__name__}")
    if dialect.name in _REGISTRY:
        raise ValueError(f"dialect {dialect.name!r} is already registered")
    _REGISTRY[dialect.name] = dialect
    return dialect


def get_dialect(spec: object = None) -> Dialect:
    """The dialect named by spec: None (the default), a name, a config dict
    ({"id": name}), or a Dialect (returned as it is)."""
    if spec is None:
        return DEFAULT
    if isinstance(spec, Dialect):
        return spec
    if isinstance(spec, Mapping):
        config = dict(spec)
        name = config.pop("id", None)
        if config:
            raise ValueError(f"unknown dialect settings {sorted(config)}")
        if name is None:
            raise ValueError("a dialect config needs an 'id'")
        spec = name
    if not isinstance(spec, str):
        raise TypeError(f"dialect must be a name, a config dict or a Dialect, not "
                        f"{type(spec).__name__}")
    try:
        return _REGISTRY[str.__str__(spec)]
    except KeyError:
        raise ValueError(
            f"unknown dialect {spec!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None


def available_dialects() -> tuple[str, ...]:
    return tuple(_REGISTRY)


DEFAULT = register_dialect(
    Dialect(
        name="ringcore",
        hash_kind=HASH_XXH3_64,
        points_kind=POINTS_NAME_HASH_J,
        hash_bits=64,
        description="docs/SPEC.md: XXH3-64 keys, points name#j, floor(vnodes * weight + 0.5)",
        vectors="spec_vectors.json",
    )
)

KETAMA = register_dialect(
    Dialect(
        name="ketama",
        hash_kind=HASH_MD5_LOW32,
        points_kind=POINTS_KETAMA,
        hash_bits=32,
        description=(
            "libketama / uhashring hash_fn='ketama': keys hashed as the first 4 bytes of MD5 "
            "(little-endian), per node floor(vnodes * nodes * weight / total) MD5 digests of "
            "'name-i' giving 4 points each, a 32-bit ring, the first point >= the hash"
        ),
        vectors="ketama_vectors.json",
        count_rule="ketama",
        tie_order="last",
        default_vnodes=40,
    )
)

_OAAT_WEIGHTED = Hasher(HASH_OAAT, POINTS_KETAMA, 32)

LIBMEMCACHED = register_dialect(
    Dialect(
        name="libmemcached",
        hash_kind=HASH_OAAT,
        points_kind=POINTS_OAAT_NAME_I,
        hash_bits=32,
        description=(
            "libmemcached's ketama ring (pylibmc behaviors {'ketama': True}): keys and points "
            "hashed with Jenkins one-at-a-time, 100 points 'base-i' a server (base: host for "
            "port 11211, else host:port); a weight other than 1 switches to the weighted points"
        ),
        vectors="libmemcached_vectors.json",
        count_rule="libmemcached",
        tie_order="given",
        default_vnodes=100,
        point_base="memcached",
    )
)

LIBMEMCACHED_WEIGHTED = register_dialect(
    Dialect(
        name="libmemcached-weighted",
        hash_kind=HASH_MD5_LOW32,
        points_kind=POINTS_KETAMA,
        hash_bits=32,
        description=(
            "libmemcached's weighted ketama ring (pylibmc behaviors {'ketama_weighted': True}): "
            "keys hashed with MD5, 4 * floor(float32(w / W * 160 / 4 * n) + 1e-10) points a "
            "server from MD5 digests of 'base-i'"
        ),
        vectors="libmemcached_weighted_vectors.json",
        count_rule="libmemcached-weighted",
        tie_order="given",
        default_vnodes=160,
        point_base="memcached",
    )
)
