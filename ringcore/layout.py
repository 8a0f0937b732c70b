"""RingLayout: one immutable, built version of a ring.

A layout holds the node names and weights, the points in ring order and the
table that finds a key's point; every read of a ring works on one. HashRing
keeps its current layout and swaps in a new one, made here, on every update.
A layout pickles as its arrays (nothing is re-hashed when it is loaded) and
compares equal to another with the same nodes in the same order, weights,
vnodes, dialect and points, which therefore routes every key to the same
index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, overload

import numpy as np

from . import _config, _exec, ops
from ._batch import batch_hashes, batch_keys
from ._layout import (
    LayoutBase,
    count_present,
    make_layout,
    merge_node,
    place_nodes,
    points_from_saved,
    utf8_names,
)
from ._layout import remove_node as _remove_points
from .dialects import Dialect, get_dialect
from .plan import Plan, diff_layouts

__all__ = ["RingLayout"]


class RingLayout(LayoutBase):
    """An immutable ring: ``RingLayout(nodes, vnodes=160, dialect="ringcore")``.

    ``nodes`` is an iterable of node names, or a mapping name -> weight. Reads
    (get_node, get_nodes, route, route_hashes, hash_keys, ownership) are the
    same as HashRing's; ``with_node`` and ``without_node`` return new layouts.
    """

    __slots__ = ()

    def __new__(
        cls,
        nodes: Iterable[str] | Mapping[str, Any] = (),
        *,
        vnodes: int | None = None,
        dialect: object = None,
    ) -> RingLayout:
        chosen = get_dialect(dialect)
        vnodes = _config.check_vnodes(chosen.default_vnodes if vnodes is None else vnodes)
        names, weights, zones = _config.node_columns(nodes, distinct_checked_later=True)
        return _build(cls, names, weights, vnodes, chosen, zones)

    @classmethod
    def from_arrays(
        cls,
        nodes: Mapping[str, float] | Iterable[str],
        positions: object,
        owners: object,
        *,
        vnodes: int | None = None,
        dialect: object = None,
    ) -> RingLayout:
        """A layout from its arrays as they were saved (positions sorted,
        owners indices into nodes); they are checked, not re-hashed."""
        names, weights, zones = _config.node_columns(nodes)
        return _from_columns(cls, names, weights, vnodes, dialect, positions, owners, zones=zones)

    # -- updates: new layouts ---------------------------------------------------------

    def with_node(self, name: str, weight: float = 1.0, zone: str | None = None) -> RingLayout:
        """This layout with one more node (in a zone, or none); only keys that
        now belong to it move."""
        name = _config.check_name(name)
        weight = _config.check_weight(weight, name)
        zone = _config.check_zone(zone, name)
        if self.position_of(name) >= 0:
            raise ValueError(f"node {name!r} is already in the ring")
        dialect: Dialect = self.dialect
        if dialect.counts_depend_on_ring:  # every node's points change: built anew
            return _build(
                type(self), self.names + (name,), self.node_weights + (weight,), self.vnodes,
                dialect, self.node_zones + (zone,), version=self.version + 1,
            )
        count = dialect.point_count(self.vnodes, weight, name)
        _config.check_total_points(len(self.positions) + count)
        raw = name.encode("utf-8")
        new_points = np.sort(_node_points(dialect, raw, count))
        # Name order breaks ties between equal positions (SPEC.md 4): the flags
        # are read only where a new point falls on an old one.
        # (the dialects with another tie order rebuild on every update, above)
        if count_present(self, new_points):
            sorts_first = np.fromiter(
                (raw < other.encode("utf-8") for other in self.names), dtype=np.uint8,
                count=len(self.names),
            )
        else:
            sorts_first = np.zeros(len(self.names), dtype=np.uint8)
        points, npoints = merge_node(self, new_points, len(self.names), sorts_first)
        return make_layout(
            type(self), self.names + (name,), self.node_weights + (weight,), self.vnodes,
            dialect, self.hasher, points, npoints, names_checked=True, version=self.version + 1,
            zones=self.node_zones + (zone,),
        )

    def without_node(self, name: str) -> RingLayout:
        """This layout without a node; only its keys move. Missing -> KeyError."""
        name = _config.exact_name(name)
        index = self.position_of(name)
        if index < 0:
            raise KeyError(f"node {name!r} is not in the ring")
        if self.dialect.counts_depend_on_ring:
            keep = [i for i in range(len(self.names)) if i != index]
            return _build(
                type(self), tuple(self.names[i] for i in keep),
                tuple(self.node_weights[i] for i in keep), self.vnodes, self.dialect,
                tuple(self.node_zones[i] for i in keep), version=self.version + 1,
            )
        points, npoints = _remove_points(self, index)
        return make_layout(
            type(self),
            self.names[:index] + self.names[index + 1 :],
            self.node_weights[:index] + self.node_weights[index + 1 :],
            self.vnodes, self.dialect, self.hasher, points, npoints, names_checked=True,
            version=self.version + 1, zones=self.node_zones[:index] + self.node_zones[index + 1 :],
        )

    # -- reads ------------------------------------------------------------------------

    @property
    def zones(self) -> dict[str, str | None]:
        """Node name -> zone (None for a node without one), in insertion order."""
        return dict(zip(self.names, self.node_zones))

    @property
    def weights(self) -> dict[str, float]:
        """Node name -> weight, in insertion order."""
        return dict(zip(self.names, self.node_weights))

    def hash_keys(self, keys: object, *, threads: int | None = None) -> np.ndarray:
        """uint64 array of the ring hash of each key (nulls are an error)."""
        threads = _config.check_threads(threads)
        hasher = self.hasher
        return _exec.map_keys(
            batch_keys(keys), np.uint64, threads, hasher.hash_batch, hasher.hash_list
        )

    @overload
    def route_hashes(
        self, hashes: object, *, threads: int | None = ..., return_nodes: Literal[False] = ...
    ) -> np.ndarray: ...
    @overload
    def route_hashes(
        self, hashes: object, *, threads: int | None = ..., return_nodes: Literal[True]
    ) -> tuple[np.ndarray, tuple[str, ...]]: ...
    @overload
    def route_hashes(
        self, hashes: object, *, threads: int | None = ..., return_nodes: bool
    ) -> np.ndarray | tuple[np.ndarray, tuple[str, ...]]: ...
    def route_hashes(
        self, hashes: object, *, threads: int | None = None, return_nodes: bool = False
    ) -> np.ndarray | tuple[np.ndarray, tuple[str, ...]]:
        """int32 array: index into ``nodes`` of the owner of each uint64 hash.
        With return_nodes=True, (indices, nodes)."""
        threads = _config.check_threads(threads)
        values, shape = batch_hashes(hashes)
        out = _exec.map_array(values, np.int32, threads, self.route_hashes_into)
        routed = out.reshape(shape)
        return (routed, self.names) if return_nodes else routed

    @overload
    def route(
        self, keys: object, *, threads: int | None = ..., null: int | None = ...,
        return_nodes: Literal[False] = ...,
    ) -> np.ndarray: ...
    @overload
    def route(
        self, keys: object, *, threads: int | None = ..., null: int | None = ...,
        return_nodes: Literal[True],
    ) -> tuple[np.ndarray, tuple[str, ...]]: ...
    @overload
    def route(
        self, keys: object, *, threads: int | None = ..., null: int | None = ...,
        return_nodes: bool,
    ) -> np.ndarray | tuple[np.ndarray, tuple[str, ...]]: ...
    def route(
        self, keys: object, *, threads: int | None = None, null: int | None = None,
        return_nodes: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, tuple[str, ...]]:
        """int32 array: index into ``nodes`` of the owner of each key.

        keys: a list/tuple/iterable of keys, or a numpy, Arrow, pandas or polars
        array. threads: None uses the cores for large array batches, 1 forces
        one. null: the value written for null keys (the nulls of Arrow, pandas
        and polars, and None); without it a null is a NullKeyError (ValueError).
        return_nodes: return (indices, nodes).
        """
        threads = _config.check_threads(threads)
        allow_nulls = null is not None
        null_owner = _config.check_null(null) if allow_nulls else -1
        batch = batch_keys(keys)
        if batch.size and not len(self.positions):
            _exec.check_all_then_empty(batch, self, allow_nulls)
        out = _exec.map_keys(
            batch, np.int32, threads,
            lambda b, o, lo, hi: self.route_batch_into(b, o, lo, hi, allow_nulls, null_owner),
            lambda keys, o: self.route_list_into(keys, o, allow_nulls, null_owner),
        )
        return (out, self.names) if return_nodes else out

    def route_replicas(
        self, keys: object, n: int, *, threads: int | None = None, null: int | None = None,
        distinct_zones: bool = False,
    ) -> np.ndarray:
        """int32 matrix (keys, n): row i is ``get_nodes(keys[i], n)`` as
        indices into ``nodes`` (SPEC.md 10). Takes every key format that
        route() takes; null: the value written across the row of a null key.
        The first call for an n builds per-point rows (4 * n bytes a point)
        that the layout keeps, so each key costs one lookup and one row read.
        distinct_zones: rows of get_nodes(key, n, distinct_zones=True)."""
        return ops.route_replicas(self, keys, n, threads, null, distinct_zones)

    def assign_bounded(
        self, keys: object, epsilon: float, *, threads: int | None = None,
        null: int | None = None,
    ) -> np.ndarray:
        """int32 node indices with bounded loads (SPEC.md 11): keys in input
        order, each to the first node clockwise from its hash that holds fewer
        than ``ceil((1 + epsilon) * len(keys) * weight / total weight)`` keys.
        null: the value for null keys, which take no room and are not counted."""
        return ops.assign_bounded(self, keys, epsilon, threads, null)

    def diff(self, new: object) -> Plan:
        """What moves from this layout to ``new`` (a RingLayout or HashRing
        of the same dialect): the hash ranges that change owner, with their
        old and new nodes (SPEC.md 13)."""
        from .ring import HashRing

        if isinstance(new, HashRing):
            new = new.snapshot()
        if not isinstance(new, RingLayout):
            raise TypeError(f"diff takes a RingLayout or HashRing, not {type(new).__name__}")
        return diff_layouts(self, new)

    def names_of(self, owners: object, *, format: str = "pandas") -> Any:
        """Node indices from this layout (route's output) as names, vectorised:
        a pandas ``Categorical`` (format="pandas") or a pyarrow
        ``DictionaryArray`` (format="arrow") whose categories are ``nodes``.
        Negative indices (a negative null= value of route) are missing."""
        return ops.names_of(self, owners, format)

    def load(
        self, keys: object, *, threads: int | None = None, skip_nulls: bool = False
    ) -> ops.Load:
        """How many of the keys each node owns, with the spread (SPEC.md 12)."""
        return ops.load(self, keys, threads, skip_nulls)

    def ownership(self) -> dict[str, float]:
        """Fraction of the hash space each node owns (SPEC.md 7)."""
        ring_size = self.dialect.ring_size
        owned = dict.fromkeys(self.names, 0)
        positions = self.positions
        if not len(positions):
            return {name: 0.0 for name in owned}
        # Point 0 wraps: it owns (last point, ring end) and [0, its position].
        spans = np.empty(len(positions), dtype=np.uint64)
        spans[1:] = positions[1:] - positions[:-1]
        spans[0] = 0
        wrap = int(positions[0]) + ring_size - int(positions[-1])
        owners = self.owners
        # Sum exactly: the spans of all points but the first add up to < 2**64.
        order = np.argsort(owners, kind="stable")
        sorted_owners = owners[order]
        starts = np.flatnonzero(np.r_[True, sorted_owners[1:] != sorted_owners[:-1]])
        sums = np.add.reduceat(spans[order], starts)
        for owner, total in zip(sorted_owners[starts].tolist(), sums.tolist()):
            owned[self.names[owner]] = total
        owned[self.names[int(owners[0])]] += wrap
        return {name: total / ring_size for name, total in owned.items()}

    # -- protocol ---------------------------------------------------------------------

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and str.__str__(name) in self.index

    def __eq__(self, other: object) -> bool:
        """Same nodes in the same order, weights, vnodes, dialect and points."""
        if not isinstance(other, RingLayout):
            return NotImplemented
        return self is other or (
            self.names == other.names
            and self.node_weights == other.node_weights
            and self.node_zones == other.node_zones
            and self.vnodes == other.vnodes
            and self.dialect == other.dialect
            and np.array_equal(self.positions, other.positions)
            and np.array_equal(self.owners, other.owners)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({describe(self)})"

    def __reduce__(self) -> tuple:
        return (
            _restore,
            (
                type(self),
                self.names,
                self.vnodes,
                self.dialect.get_config(),
                np.ascontiguousarray(self.positions),
                np.ascontiguousarray(self.owners),
                self.node_weights,
                self.version,
                self.node_zones,
            ),
        )


def describe(layout: LayoutBase) -> str:
    """The arguments part of a ring's repr."""
    zoned = any(zone is not None for zone in layout.node_zones)
    if len(layout.names) > 8:
        nodes = f"<{len(layout.names)} nodes>"
        if zoned:
            zone_count = len({z for z in layout.node_zones if z is not None})
            nodes += f", <{zone_count} zones>"
    elif zoned:
        nodes = repr({
            name: {"weight": weight, "zone": zone}
            for name, weight, zone in zip(layout.names, layout.node_weights, layout.node_zones)
        })
    elif all(w == 1.0 for w in layout.node_weights):
        nodes = repr(list(layout.names))
    else:
        nodes = repr(dict(zip(layout.names, layout.node_weights)))
    extra = "" if layout.dialect.name == "ringcore" else f", dialect={layout.dialect.name!r}"
    return f"{nodes}, vnodes={layout.vnodes}{extra}, points={len(layout.positions)}"


def _build(
    cls: type, names: tuple[str, ...], weights: tuple[float, ...], vnodes: int, dialect: Dialect,
    zones: tuple[str | None, ...], *, version: int = 0,
) -> RingLayout:
    """A layout built from scratch: every node's points, sorted in ring order
    (names as node_columns(distinct_checked_later=True) left them)."""
    # (str order is code point order, which UTF-8 byte order equals)
    by_name = sorted(range(len(names)), key=names.__getitem__)
    names_by_name = [names[i] for i in by_name]
    _config.check_sorted_names(names_by_name, names, weights)
    # The stable sort keeps the placing order among equal positions: UTF-8
    # name order (SPEC.md 4), or for a dialect the node listed last first, or
    # the order given.
    if dialect.tie_order == "last":
        placing = list(range(len(names) - 1, -1, -1))
    elif dialect.tie_order == "given":
        placing = list(range(len(names)))
    else:
        placing = by_name
    if dialect.point_base == "name":
        texts = names_by_name if placing is by_name else [names[i] for i in placing]
    else:
        texts = [dialect.point_name(names[i]) for i in placing]
    try:
        blob, offsets = utf8_names(texts)
    except UnicodeEncodeError:
        _config.checked_columns(names, weights)  # raises, naming the culprit
        raise
    listed = dialect.point_counts(vnodes, weights, names)
    _config.check_total_points(sum(listed))  # in Python ints: no int64 sum to wrap
    counts = np.array(listed, dtype=np.int64)
    order = np.array(placing, dtype=np.int32)
    points, npoints = _place(
        dialect,
        blob,
        offsets,
        counts[order].astype(np.uint32) if len(order) else np.empty(0, dtype=np.uint32),
        order,
        weights,
    )
    return make_layout(
        cls, names, weights, vnodes, dialect, dialect.hasher, points, npoints, names_checked=True,
        zones=zones, version=version,
    )


# The two places where a dialect's point rule runs; tests replace them to force
# positions that collide.
def _node_points(dialect: Dialect, raw_name: bytes, count: int) -> np.ndarray:
    """Positions of one node's points, in point order."""
    return dialect.hasher.node_points(raw_name, count)


def _place(
    dialect: Dialect, blob: bytes, offsets: np.ndarray, counts: np.ndarray, owners: np.ndarray,
    weights: tuple[float, ...] = (),
):
    """Every point of these nodes (UTF-8 names in one blob, given in
    tie-breaking order), sorted: (points, npoints)."""
    return place_nodes(dialect.points_hasher(weights), blob, offsets, counts, owners)


def _from_columns(
    cls: type, names: tuple[str, ...], weights: tuple[float, ...], vnodes: object,
    dialect: object, positions: object, owners: object, *, version: int = 0,
    zones: tuple[str | None, ...] | None = None,
) -> RingLayout:
    """A layout of checked names and weights over saved arrays, checked as
    they are copied into the layout."""
    chosen = get_dialect(dialect)
    vnodes = _config.check_vnodes(chosen.default_vnodes if vnodes is None else vnodes)
    points, npoints, every_node_owns = points_from_saved(
        positions, owners, len(names), chosen.hasher.hash_bits
    )
    made = make_layout(
        cls, names, weights, vnodes, chosen, chosen.hasher, points, npoints, names_checked=True,
        version=version, zones=zones,
    )
    if not every_node_owns:
        raise ValueError("every node of a layout must own at least one point")
    return made


def _restore(
    cls: type[RingLayout], nodes: object, vnodes: int, dialect: object, positions: object,
    owners: object, weights: object = None, version: object = 0, zones: object = None,
) -> RingLayout:
    """Unpickle a layout from its arrays: checked, not re-hashed. nodes is the
    names (weights beside them) or, as first pickled, (name, weight) pairs."""
    if not (isinstance(cls, type) and issubclass(cls, RingLayout)):
        raise TypeError("a pickled RingLayout names a class that is not a RingLayout")
    if weights is None:
        names, node_weights, _ = _config.node_columns(dict(nodes))  # type: ignore[call-overload]
    elif isinstance(nodes, tuple) and isinstance(weights, tuple):
        names, node_weights = _config.checked_columns(nodes, weights)
    else:
        raise TypeError("a pickled RingLayout holds its names and weights as tuples")
    if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < 2**62:
        raise TypeError("a pickled RingLayout holds its version as an int in [0, 2**62)")
    node_zones: tuple[str | None, ...]
    if zones is None:
        node_zones = (None,) * len(names)
    elif isinstance(zones, tuple) and len(zones) == len(names):
        node_zones = tuple(_config.check_zone(z, name) for z, name in zip(zones, names))
    else:
        raise TypeError("a pickled RingLayout holds its zones as a tuple, one per node")
    return _from_columns(
        cls, names, node_weights, vnodes, dialect, positions, owners, version=version,
        zones=node_zones,
    )


EMPTY = RingLayout()
