"""Plan: what moves between two versions of a ring (SPEC.md 13).

``old.diff(new)`` lists the hash ranges ``(start, end]`` whose owner changes,
each with its old and new node, exactly covering the space that changes
hands; the moved fraction and the node-to-node transfers follow from the
ranges exactly, and ``moved(keys)`` / ``transfers(keys)`` answer for real
keys in batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

__all__ = ["Plan"]

_RING = 2**64


def _exact_sum(sizes: np.ndarray) -> int:
    """The exact sum of uint64 sizes (0 standing for 2**64: the whole ring)."""
    if not len(sizes):
        return 0
    whole = int(np.count_nonzero(sizes == 0))
    high = int(np.sum(sizes >> np.uint64(32), dtype=np.uint64))
    low = int(np.sum(sizes & np.uint64(0xFFFFFFFF), dtype=np.uint64))
    return whole * _RING + (high << 32) + low


class Plan:
    """The ranges of the hash space that change owner from ``old`` to ``new``.

    ``starts``/``ends`` (uint64) bound each range ``(start, end]``; a range
    with ``start >= end`` wraps past 2**64 - 1 (``start == end``: the whole
    ring). ``sources`` are indices into ``old.nodes`` and ``targets`` into
    ``new.nodes`` (-1 on an empty ring's side). Neighbouring ranges with the
    same pair are one range. On a ring of a narrower dialect (32 bits:
    ketama, libmemcached) sizes and fractions are of that ring's 2**32
    hashes, and its whole ring is a size of 2**32.
    """

    __slots__ = ("old", "new", "starts", "ends", "sources", "targets", "_union", "_space")

    def __init__(self, old: Any, new: Any, starts: np.ndarray, ends: np.ndarray,
                 sources: np.ndarray, targets: np.ndarray) -> None:
        self.old, self.new = old, new
        self.starts = _frozen(starts, np.uint64)
        self.ends = _frozen(ends, np.uint64)
        self.sources = _frozen(sources, np.int32)
        self.targets = _frozen(targets, np.int32)
        if not len(self.starts) == len(self.ends) == len(self.sources) == len(self.targets):
            raise ValueError("a Plan needs one start, end, source and target per range")
        # new node index -> old node index of the same name, or -2 (not in old;
        # -1 is nobody, the owner on an empty ring)
        index = {name: i for i, name in enumerate(old.nodes)}
        self._union = np.array([index.get(name, -2) for name in new.nodes], dtype=np.int64)
        self._space = _hash_space(old)

    # -- the ranges -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.starts)

    def __iter__(self) -> Iterator[tuple[int, int, str | None, str | None]]:
        """(start, end, old node, new node) of each range."""
        old, new = self.old.nodes, self.new.nodes
        for start, end, a, b in zip(self.starts.tolist(), self.ends.tolist(),
                                    self.sources.tolist(), self.targets.tolist()):
            yield start, end, old[a] if a >= 0 else None, new[b] if b >= 0 else None

    @property
    def sizes(self) -> np.ndarray:
        """uint64 number of hashes in each range (0 stands for 2**64, the whole
        64-bit ring; a 32-bit ring's whole is 2**32)."""
        sizes = self.ends - self.starts  # modulo 2**64: wrapping ranges come out right
        if self._space < _RING:  # modulo the narrower ring, its whole ring spelled out
            sizes &= np.uint64(self._space - 1)
            sizes[sizes == 0] = self._space
        return sizes

    @property
    def moved_hashes(self) -> int:
        """The exact number of hashes whose owner changes."""
        return _exact_sum(self.sizes)

    @property
    def moved_fraction(self) -> float:
        """The fraction of the hash space that changes owner (exact, rounded once)."""
        return self.moved_hashes / self._space

    def transfer(self) -> dict[tuple[str | None, str | None], float]:
        """(old node, new node) -> fraction of the hash space that goes from
        one to the other, for every pair that moves anything."""
        if not len(self):
            return {}
        width = len(self.new.nodes) + 1
        pair = (self.sources.astype(np.int64) + 1) * width + (self.targets.astype(np.int64) + 1)
        order = np.argsort(pair, kind="stable")
        pairs, starts = np.unique(pair[order], return_index=True)
        sizes = self.sizes[order]
        high = np.add.reduceat(sizes >> np.uint64(32), starts)
        low = np.add.reduceat(sizes & np.uint64(0xFFFFFFFF), starts)
        whole = np.add.reduceat((sizes == 0).astype(np.int64), starts)
        old, new = self.old.nodes, self.new.nodes
        result = {}
        for p, h, lo, w in zip(pairs.tolist(), high.tolist(), low.tolist(), whole.tolist()):
            a, b = divmod(p, width)
            key = (old[a - 1] if a else None, new[b - 1] if b else None)
            result[key] = (w * _RING + (h << 32) + lo) / self._space
        return result

    def transfer_matrix(self) -> np.ndarray:
        """float64 (len(old.nodes), len(new.nodes)): the fraction of the hash
        space that moves from each old node to each new node."""
        matrix = np.zeros((len(self.old.nodes), len(self.new.nodes)), dtype=np.float64)
        old = {name: i for i, name in enumerate(self.old.nodes)}
        new = {name: i for i, name in enumerate(self.new.nodes)}
        for (a, b), fraction in self.transfer().items():
            if a is not None and b is not None:
                matrix[old[a], new[b]] = fraction
        return matrix

    # -- real keys ------------------------------------------------------------------------

    def _owners(self, keys: object, threads: int | None) -> tuple[np.ndarray, np.ndarray, tuple]:
        """Each key's owner in both rings as indices into their nodes (-1 on
        an empty ring), and the keys' shape: each key is hashed once."""
        hashes = self.old.hash_keys(keys, threads=threads)
        flat = hashes.reshape(-1)
        if len(self.old.nodes) and flat.size:
            before = self.old.route_hashes(flat, threads=threads)
        else:
            before = np.full(flat.size, -1, dtype=np.int32)
        if len(self.new.nodes) and flat.size:
            after = self.new.route_hashes(flat, threads=threads)
        else:
            after = np.full(flat.size, -1, dtype=np.int32)
        return before, after, hashes.shape

    def _moving(self, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Where the owner's name differs (nobody, on an empty ring, differs from any node)."""
        same_name = np.take(self._union, after) if len(self.new.nodes) else after
        return same_name != before

    def moved(self, keys: object, *, threads: int | None = None) -> np.ndarray:
        """bool array shaped like the keys: True where the key's node (by
        name) differs between the two rings."""
        before, after, shape = self._owners(keys, threads)
        return self._moving(before, after).reshape(shape)

    def transfers(self, keys: object, *, threads: int | None = None) -> dict[
            tuple[str | None, str | None], int]:
        """(old node, new node) -> how many of the keys move between them."""
        before, after, _ = self._owners(keys, threads)
        moving = self._moving(before, after)
        width = len(self.new.nodes) + 1
        pair = (before[moving].astype(np.int64) + 1) * width + after[moving] + 1
        pairs, counts = np.unique(pair, return_counts=True)
        old, new = self.old.nodes, self.new.nodes
        result = {}
        for p, count in zip(pairs.tolist(), counts.tolist()):
            a, b = divmod(p, width)
            result[(old[a - 1] if a else None, new[b - 1] if b else None)] = count
        return result

    def __repr__(self) -> str:
        return (f"Plan({len(self)} ranges, moved_fraction={self.moved_fraction:.6g}, "
                f"{len(self.old.nodes)} -> {len(self.new.nodes)} nodes)")


def _hash_space(ring: Any) -> int:
    """How many hashes the ring's dialect has: 2**64, or 2**32 for the
    32-bit dialects (a reference ring has no dialect: 2**64)."""
    dialect = getattr(ring, "dialect", None)
    return int(getattr(dialect, "ring_size", _RING))


def _frozen(values: np.ndarray, dtype: Any) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    if array.ndim != 1:
        raise ValueError("a Plan's columns are 1-D")
    array.flags.writeable = False
    return array


def diff_layouts(old: Any, new: Any) -> Plan:
    """old.diff(new) for two layouts of the same dialect."""
    from ._layout import diff_segments

    if old.dialect != new.dialect:
        raise ValueError(
            f"a plan compares rings of one dialect, not {old.dialect.name!r} and "
            f"{new.dialect.name!r}: their keys hash differently"
        )
    if not len(old.positions) and not len(new.positions):
        empty = np.empty(0, dtype=np.uint64)
        return Plan(old, new, empty, empty, empty.astype(np.int32), empty.astype(np.int32))
    # owners as ids that compare across the rings: old index, or the old
    # index of a new node's name (new names not in old come after)
    index = {name: i for i, name in enumerate(old.names)}
    extra = len(old.names)
    union = np.empty(len(new.names), dtype=np.int32)
    for i, name in enumerate(new.names):
        at = index.get(name)
        if at is None:
            at, extra = extra, extra + 1
        union[i] = at
    old_positions, old_owners = old.positions, old.owners
    new_positions = new.positions
    new_owners = union[new.owners] if len(new.owners) else new.owners
    # an empty side: one point owned by nobody (-1) stands for the whole ring
    if not len(old_positions):
        old_positions, old_owners = new_positions[:1], np.full(1, -1, dtype=np.int32)
    if not len(new_positions):
        new_positions, new_owners = old_positions[:1], np.full(1, -1, dtype=np.int32)
    starts, ends, before, after = diff_segments(old_positions, old_owners, new_positions,
                                                new_owners)
    # back from ids to indices into new.nodes
    to_new = np.full(extra + 1, -1, dtype=np.int32)
    to_new[union] = np.arange(len(new.names), dtype=np.int32)
    targets = to_new[after]  # after == -1 reads the last slot: -1
    return Plan(old, new, starts, ends, before, targets)
