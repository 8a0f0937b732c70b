"""The HashRing facade: a mutable ring that holds one immutable RingLayout
at a time and swaps in a new one, under its lock, on every update."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Any, Literal, cast, overload

import numpy as np

from ._layout import RingBase
from .dialects import Dialect, get_dialect
from .layout import EMPTY, RingLayout, describe
from .ops import Load
from .plan import Plan

__all__ = ["HashRing"]

# Every live ring, so that a forked child can replace write locks that a
# thread of the parent held at the fork (that thread does not exist in the
# child, so the lock would never be released).
_live_rings: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id -> ring


def _new_locks_after_fork() -> None:
    for ring in list(_live_rings.values()):
        ring._write_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_locks_after_fork)


class HashRing(RingBase):
    """A consistent-hash ring with virtual nodes.

    ``nodes`` is an iterable of node names, or a mapping name -> weight (or
    name -> {"weight": w, "zone": z}); node N gets ``floor(vnodes * weight +
    0.5)`` points on the ring (docs/SPEC.md). ``dialect`` names how keys and
    points are hashed (ringcore.dialects: "ringcore", the default, or
    "ketama"); ``vnodes`` defaults to the dialect's (160, or 40 for ketama).
    Lookups are safe from any thread while another thread updates the ring.
    """

    __slots__ = ("_write_lock", "__weakref__")
    _write_lock: threading.Lock

    def __new__(cls, *args: object, **kwargs: object) -> HashRing:
        # Here rather than in __init__, so that a ring is usable (empty) even
        # when a subclass never calls __init__.
        self = super().__new__(cls)
        self._write_lock = threading.Lock()
        self._layout = EMPTY
        _live_rings[id(self)] = self
        return self

    def __init__(
        self,
        nodes: Iterable[str] | Mapping[str, Any] = (),
        *,
        vnodes: int | None = None,
        dialect: str | Mapping[str, str] | Dialect | None = None,
    ):
        layout = RingLayout(nodes, vnodes=vnodes, dialect=get_dialect(dialect))
        with self._write_lock:
            self._layout = layout

    @classmethod
    def from_layout(cls, layout: RingLayout) -> HashRing:
        """A mutable ring that starts from a layout (shared, not copied)."""
        if not isinstance(layout, RingLayout):
            raise TypeError(f"from_layout takes a RingLayout, not {type(layout).__name__}")
        ring = cls.__new__(cls)
        ring._layout = layout
        return ring

    # -- configuration ---------------------------------------------------------------

    @property
    def layout(self) -> RingLayout:
        """The current immutable layout: every read of it sees one version."""
        return cast(RingLayout, self._layout)

    def snapshot(self) -> RingLayout:
        """The ring as it is now: an immutable, picklable RingLayout with the
        same reads (nodes, get_node, get_nodes, route, route_replicas, ...)
        that later updates of this ring do not change. It shares the arrays;
        nothing is copied. Read names and indices from one snapshot: a call to
        ``ring.route`` followed by a read of ``ring.nodes`` is racy."""
        return self.layout

    @property
    def version(self) -> int:
        """How many updates the ring has had since it was built (kept by pickle)."""
        return cast(int, self.layout.version)

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names in insertion order; route() returns indices into this."""
        return self.layout.names

    @property
    def weights(self) -> dict[str, float]:
        """Node name -> weight, in insertion order."""
        return self.layout.weights

    @property
    def zones(self) -> dict[str, str | None]:
        """Node name -> zone (None for a node without one), in insertion order."""
        return self.layout.zones

    @property
    def vnodes(self) -> int:
        return self.layout.vnodes

    @property
    def dialect(self) -> Dialect:
        return self.layout.dialect

    @property
    def positions(self) -> np.ndarray:
        """Read-only uint64 array of the ring's points in ring order."""
        return self.layout.positions

    @property
    def owners(self) -> np.ndarray:
        """Read-only int32 array: index into ``nodes`` of each point's owner."""
        return self.layout.owners

    def add_node(self, name: str, weight: float = 1.0, zone: str | None = None) -> None:
        """Add a node (in a zone, or none); only keys that now belong to it
        move. Existing name -> ValueError."""
        with self._write_lock:
            self._layout = self.layout.with_node(name, weight, zone)

    def remove_node(self, name: str) -> None:
        """Remove a node; only its keys move. Missing name -> KeyError."""
        with self._write_lock:
            self._layout = self.layout.without_node(name)

    # -- lookups ---------------------------------------------------------------------

    def hash_keys(self, keys: object, *, threads: int | None = None) -> np.ndarray:
        """uint64 array of the ring hash of each key (nulls are an error)."""
        return self.layout.hash_keys(keys, threads=threads)

    @overload
    def route_hashes(
        self, hashes: object, *, threads: int | None = ..., return_nodes: Literal[False] = ...
    ) -> np.ndarray: ...
    @overload
    def route_hashes(
        self, hashes: object, *, threads: int | None = ..., return_nodes: Literal[True]
    ) -> tuple[np.ndarray, tuple[str, ...]]: ...
    def route_hashes(
        self, hashes: object, *, threads: int | None = None, return_nodes: bool = False
    ) -> np.ndarray | tuple[np.ndarray, tuple[str, ...]]:
        """int32 array: index into ``nodes`` of the owner of each uint64 hash.
        With return_nodes=True, (indices, nodes) of one version of the ring."""
        return self.layout.route_hashes(hashes, threads=threads, return_nodes=return_nodes)

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
    def route(
        self, keys: object, *, threads: int | None = None, null: int | None = None,
        return_nodes: bool = False,
    ) -> np.ndarray | tuple[np.ndarray, tuple[str, ...]]:
        """int32 array: index into ``nodes`` of the owner of each key.

        keys: a list/tuple/iterable of keys, or a numpy, Arrow, pandas or polars
        array. threads: None uses the cores for large array batches, 1 forces
        one. null: the value written for null keys (the nulls of Arrow, pandas
        and polars, and None); without it a null is a NullKeyError (ValueError).
        return_nodes: return (indices, nodes), the node names of the very
        version of the ring that answered; reading ``ring.nodes`` after the
        call is racy when another thread adds or removes nodes.
        """
        return self.layout.route(keys, threads=threads, null=null, return_nodes=return_nodes)

    def route_replicas(
        self, keys: object, n: int, *, threads: int | None = None, null: int | None = None,
        distinct_zones: bool = False,
    ) -> np.ndarray:
        """int32 matrix (keys, n): row i is ``get_nodes(keys[i], n)`` as indices
        into ``nodes`` (see RingLayout.route_replicas)."""
        return self.layout.route_replicas(
            keys, n, threads=threads, null=null, distinct_zones=distinct_zones
        )

    def assign_bounded(
        self, keys: object, epsilon: float, *, threads: int | None = None,
        null: int | None = None,
    ) -> np.ndarray:
        """int32 node indices with bounded loads (see RingLayout.assign_bounded)."""
        return self.layout.assign_bounded(keys, epsilon, threads=threads, null=null)

    def load(self, keys: object, *, threads: int | None = None, skip_nulls: bool = False) -> Load:
        """How many of the keys each node owns, with the spread (SPEC.md 12)."""
        return self.layout.load(keys, threads=threads, skip_nulls=skip_nulls)

    def diff(self, new: object) -> Plan:
        """What moves from this ring, as it is now, to ``new`` (a HashRing or
        RingLayout): see RingLayout.diff."""
        return self.layout.diff(new)

    def ownership(self) -> dict[str, float]:
        """Fraction of the hash space each node owns (SPEC.md 7)."""
        return self.layout.ownership()

    # -- protocol --------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.layout.names)

    def __contains__(self, name: object) -> bool:
        return name in self.layout

    def __eq__(self, other: object) -> bool:
        """Equal rings have the same vnodes, dialect, nodes, weights and node
        order (and so the same points): they give every key the same owner index."""
        if not isinstance(other, HashRing):
            return NotImplemented
        return self.layout == other.layout

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HashRing({describe(self.layout)})"

    def __reduce__(self) -> tuple:
        return (_restore, (type(self), self.layout))


def _restore(cls: type, layout: object, vnodes: object = None) -> HashRing:
    """Unpickle a ring from its pickled layout (arrays, not re-hashed), or,
    from a pickle of ringcore 0.1's first format, (nodes, vnodes) rebuilt."""
    if not (isinstance(cls, type) and issubclass(cls, HashRing)):
        raise TypeError("a pickled HashRing names a class that is not a HashRing")
    if vnodes is not None:
        if not isinstance(layout, list) or not isinstance(vnodes, int):
            raise TypeError("a pickled HashRing of the first format holds (nodes, vnodes)")
        ring = cls.__new__(cls)
        ring._layout = RingLayout(dict(layout), vnodes=vnodes)
        return ring
    if not isinstance(layout, RingLayout):
        raise TypeError("a pickled HashRing holds no RingLayout")
    return cls.from_layout(layout)
