"""The HashRing facade: validates inputs, keeps the ring's current state, and
calls the compiled core."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterable, Mapping
from typing import Literal, overload

import numpy as np

from . import _config, _threads
from ._batch import Batch, batch_hashes, batch_keys
from ._core import (
    KeyBatch,
    RingBase,
    RingState,
    hash_batch,
    hash_list,
    merge_points,
    node_points,
    sort_points,
)

__all__ = ["HashRing"]

_RING = 2**64

# Every live ring, so that a forked child can replace write locks that a
# thread of the parent held at the fork (that thread does not exist in the
# child, so the lock would never be released).
_live_rings: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # id -> ring


def _new_locks_after_fork() -> None:
    for ring in list(_live_rings.values()):
        ring._write_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_locks_after_fork)


def _build_state(nodes: list[tuple[str, float]], vnodes: int) -> RingState:
    """A ring state built from scratch: every node's points, sorted in ring order."""
    names = tuple(name for name, _ in nodes)
    counts = [_config.point_count(vnodes, weight, name) for name, weight in nodes]
    if sum(counts) > _config.MAX_POINTS:
        raise ValueError(f"the ring would have more than {_config.MAX_POINTS} points")
    # Lay the nodes out in UTF-8 name order: a stable sort by position then
    # breaks ties by name as SPEC.md 4 requires (ties within a node do not
    # change any owner, so j order needs no care).
    raw_names = [name.encode("utf-8") for name in names]
    by_name = sorted(range(len(nodes)), key=raw_names.__getitem__)
    total = sum(counts)
    positions = np.empty(total, dtype=np.uint64)
    owners = np.empty(total, dtype=np.int32)
    start = 0
    for i in by_name:
        positions[start : start + counts[i]] = node_points(raw_names[i], counts[i])
        owners[start : start + counts[i]] = i
        start += counts[i]
    sort_points(positions, owners)
    return RingState(names, tuple(w for _, w in nodes), positions, owners)


class HashRing(RingBase):
    """A consistent-hash ring with virtual nodes.

    ``nodes`` is an iterable of node names, or a mapping name -> weight; node N
    gets ``floor(vnodes * weight + 0.5)`` points on the ring (docs/SPEC.md).
    Lookups are safe from any thread while another thread updates the ring.
    """

    __slots__ = ("_vnodes", "_write_lock", "__weakref__")
    _vnodes: int
    _write_lock: threading.Lock

    def __new__(cls, *args: object, **kwargs: object) -> HashRing:
        # Here rather than in __init__, so that a ring is usable (empty) even
        # when a subclass never calls __init__.
        self = super().__new__(cls)
        self._vnodes = 160
        self._write_lock = threading.Lock()
        _live_rings[id(self)] = self
        return self

    def __init__(self, nodes: Iterable[str] | Mapping[str, float] = (), *, vnodes: int = 160):
        vnodes = _config.check_vnodes(vnodes)
        state = _build_state(_config.normalize_nodes(nodes), vnodes)
        with self._write_lock:
            self._vnodes = vnodes
            self._state = state

    # -- configuration ---------------------------------------------------------------

    @property
    def nodes(self) -> tuple[str, ...]:
        """Node names in insertion order; route() returns indices into this."""
        return self._state.names

    @property
    def weights(self) -> dict[str, float]:
        """Node name -> weight, in insertion order."""
        state = self._state
        return dict(zip(state.names, state.weights))

    @property
    def vnodes(self) -> int:
        return self._vnodes

    @property
    def positions(self) -> np.ndarray:
        """Read-only uint64 array of the ring's points in ring order."""
        return self._state.positions

    @property
    def owners(self) -> np.ndarray:
        """Read-only int32 array: index into ``nodes`` of each point's owner."""
        return self._state.owners

    def add_node(self, name: str, weight: float = 1.0) -> None:
        """Add a node; only keys that now belong to it move. Existing name -> ValueError."""
        name = _config.check_name(name)
        weight = _config.check_weight(weight, name)
        raw = name.encode("utf-8")
        with self._write_lock:
            count = _config.point_count(self._vnodes, weight, name)
            old = self._state
            if name in old.index:
                raise ValueError(f"node {name!r} is already in the ring")
            if len(old.positions) + count > _config.MAX_POINTS:
                raise ValueError(f"the ring would have more than {_config.MAX_POINTS} points")
            new_points = np.sort(node_points(raw, count))
            sorts_first = np.array([raw < n.encode("utf-8") for n in old.names], dtype=np.uint8)
            positions, owners = merge_points(
                old.positions, old.owners, new_points, len(old.names), sorts_first
            )
            self._state = RingState(
                old.names + (name,), old.weights + (weight,), positions, owners
            )

    def remove_node(self, name: str) -> None:
        """Remove a node; only its keys move. Missing name -> KeyError."""
        name = _config.exact_name(name)
        with self._write_lock:
            old = self._state
            index = old.index.get(name)
            if index is None:
                raise KeyError(f"node {name!r} is not in the ring")
            keep = old.owners != index
            owners = old.owners[keep]
            owners -= owners > index
            self._state = RingState(
                old.names[:index] + old.names[index + 1 :],
                old.weights[:index] + old.weights[index + 1 :],
                old.positions[keep],
                owners,
            )

    # -- lookups ---------------------------------------------------------------------

    def hash_keys(self, keys: object, *, threads: int | None = None) -> np.ndarray:
        """uint64 array of the ring hash of each key (nulls are an error)."""
        threads = _config.check_threads(threads)
        return _over_parts(batch_keys(keys), np.uint64, threads, hash_batch, hash_list)

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
        threads = _config.check_threads(threads)
        values, shape = batch_hashes(hashes)
        out = np.empty(len(values), dtype=np.int32)
        state = self._state
        count = _threads.thread_count(len(values), threads)
        _threads.run_split(
            len(values), count, lambda lo, hi: state.route_hashes(values[lo:hi], out[lo:hi])
        )
        out = out.reshape(shape)
        return (out, state.names) if return_nodes else out

    @overload
    def route(
        self,
        keys: object,
        *,
        threads: int | None = ...,
        null: int | None = ...,
        return_nodes: Literal[False] = ...,
    ) -> np.ndarray: ...
    @overload
    def route(
        self,
        keys: object,
        *,
        threads: int | None = ...,
        null: int | None = ...,
        return_nodes: Literal[True],
    ) -> tuple[np.ndarray, tuple[str, ...]]: ...
    def route(
        self,
        keys: object,
        *,
        threads: int | None = None,
        null: int | None = None,
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
        threads = _config.check_threads(threads)
        allow_nulls = null is not None
        null_owner = _config.check_null(null) if allow_nulls else -1
        state = self._state
        out = _over_parts(
            batch_keys(keys), np.int32, threads,
            lambda b, o, lo, hi: state.route_batch(b, o, lo, hi, allow_nulls, null_owner),
            lambda keys, o: state.route_list(keys, o, allow_nulls, null_owner),
        )
        return (out, state.names) if return_nodes else out

    def ownership(self) -> dict[str, float]:
        """Fraction of the 2**64 hash space each node owns (SPEC.md 7)."""
        state = self._state
        owned = dict.fromkeys(state.names, 0)
        if not len(state.positions):
            return {name: 0.0 for name in owned}
        positions = state.positions
        # Point 0 wraps: it owns (last point, 2**64) and [0, its position].
        spans = np.empty_like(positions)
        spans[1:] = positions[1:] - positions[:-1]
        spans[0] = 0
        wrap = int(positions[0]) + _RING - int(positions[-1])
        owners = state.owners
        # Sum exactly: the spans of all points but the first add up to < 2**64.
        order = np.argsort(owners, kind="stable")
        sorted_owners = owners[order]
        starts = np.flatnonzero(np.r_[True, sorted_owners[1:] != sorted_owners[:-1]])
        sums = np.add.reduceat(spans[order], starts)
        for owner, total in zip(sorted_owners[starts].tolist(), sums.tolist()):
            owned[state.names[owner]] = total
        owned[state.names[owners[0]]] += wrap
        return {name: total / _RING for name, total in owned.items()}

    # -- protocol --------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._state.names)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and str.__str__(name) in self._state.index

    def __eq__(self, other: object) -> bool:
        """Equal rings have the same vnodes and the same nodes, weights and
        node order, so they give every key the same owner index."""
        if not isinstance(other, HashRing):
            return NotImplemented
        mine, theirs = self._state, other._state
        return (
            self._vnodes == other._vnodes
            and mine.names == theirs.names
            and mine.weights == theirs.weights
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        state = self._state
        if len(state.names) > 8:
            nodes = f"<{len(state.names)} nodes>"
        elif all(w == 1.0 for w in state.weights):
            nodes = repr(list(state.names))
        else:
            nodes = repr(self.weights)
        return f"HashRing({nodes}, vnodes={self._vnodes}, points={len(state.positions)})"

    def __reduce__(self) -> tuple:
        state = self._state
        return (_restore, (type(self), list(zip(state.names, state.weights)), self._vnodes))


def _over_parts(batch: Batch, dtype: type, threads: int | None, array_kernel, list_kernel):
    """Run the kernels over the parts of a batch into one output array:
    array_kernel(part, out, lo, hi) on array memory, split across threads,
    list_kernel(keys, out) on lists of keys."""
    out: np.ndarray = np.empty(batch.size, dtype=dtype)
    offset = 0
    for part in batch.parts:
        end = offset + len(part)
        target = out[offset:end]
        if isinstance(part, KeyBatch):

            def work(lo: int, hi: int, part: KeyBatch = part, target: np.ndarray = target) -> None:
                array_kernel(part, target[lo:hi], lo, hi)

            _threads.run_split(len(part), _threads.thread_count(len(part), threads), work)
        else:
            list_kernel(part, target)
        offset = end
    return out.reshape(batch.shape)


def _restore(cls: type, nodes: list[tuple[str, float]], vnodes: int) -> HashRing:
    """Unpickle a ring: rebuild it from its configuration, in the same node order."""
    return cls(dict(nodes), vnodes=vnodes)
