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

from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import _config
from .._keys import HASH_MD5_LOW32, HASH_XXH3_64, POINTS_KETAMA, POINTS_NAME_HASH_J, Hasher

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
        return self.count_rule == "ketama"

    @property
    def ring_size(self) -> int:
        """2**hash_bits: the number of positions on the ring."""
        return 1 << self.hash_bits

    def point_counts(self, vnodes: int, weights: tuple[float, ...], names: tuple[str, ...]) -> list[int]:
        """The points of every node of a ring."""
        if self.count_rule == "ketama":
            return _ketama_counts(vnodes, weights, names)
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
        digests = (vnodes * len(weights) * weight) // total
        if digests < 1:
            raise ValueError(
                f"node {name!r} gets no points (vnodes={vnodes} x {len(weights)} nodes x "
                f"weight={weight!r} / total weight {total!r} < 1)"
            )
        if 4 * digests > _config.MAX_POINTS:
            raise ValueError(f"node {name!r} would get more than {_config.MAX_POINTS} points")
        counts.append(4 * int(digests))
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
