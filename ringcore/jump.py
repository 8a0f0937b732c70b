"""Jump consistent hash (Lamping and Veach, arXiv:1406.2294), in batch.

``jump_hash(keys, buckets)`` is bit-exact with the paper's C code (and the
``jump-consistent-hash`` package). ``JumpHash(nodes)`` names the buckets:
bucket i is ``nodes[i]``. Jump hashing has no ring and no points: it needs
no memory per node and moves only the keys of the bucket added, but nodes
have no weights and only the last node can be removed.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _config, _exec
from ._batch import batch_hashes, batch_keys
from ._keys import hash_key
from ._layout import jump_into
from ._named import NamedNodes
from .dialects import DEFAULT

__all__ = ["jump_hash", "JumpHash"]

MAX_BUCKETS = 2**31 - 1


def _check_buckets(buckets: object) -> int:
    if isinstance(buckets, bool) or not isinstance(buckets, numbers.Integral):
        raise TypeError(f"buckets must be an int, not {type(buckets).__name__}")
    value = _config.int_value(buckets)
    if not 1 <= value <= MAX_BUCKETS:
        raise ValueError(f"buckets must be between 1 and {MAX_BUCKETS}, got {value}")
    return value


def jump_hash(keys: object, buckets: int, *, threads: int | None = None) -> np.ndarray:
    """int32 array shaped like keys: the jump consistent hash bucket, in
    [0, buckets), of each 64-bit key (integers in [0, 2**64), read as
    route_hashes reads hashes: numpy, Arrow, pandas, polars or an iterable)."""
    threads = _config.check_threads(threads)
    count = _check_buckets(buckets)
    values, shape = batch_hashes(keys)
    return _exec.map_array(
        values, np.int32, threads, lambda part, out: jump_into(part, count, out)
    ).reshape(shape)


class JumpHash(NamedNodes):
    """Jump consistent hashing over named nodes: bucket i is ``nodes[i]``.

    A numpy uint64 array (of either byte order) given to ``route``, or a
    ``numpy.uint64`` given to ``get_node``, jumps on its values directly, so
    ``get_node(keys[i]) == nodes[route(keys)[i]]`` for such an array; every
    other key (str, bytes, int, and the other batch formats of
    ``HashRing.route``, numpy scalars inside a list included) jumps on its
    XXH3-64 key hash (docs/SPEC.md 2), so ``JumpHash`` routes the keys a
    ``HashRing`` takes.
    """

    __slots__ = ()
    _no_weights = "jump hashing has no weights: give the node names alone"

    def add_node(self, name: str) -> None:
        """Add a node as the last bucket: only keys that move to it move."""
        name = _config.check_name(name)
        if name in self._index:
            raise ValueError(f"node {name!r} is already in the ring")
        if len(self._nodes) >= MAX_BUCKETS:
            raise ValueError(f"jump hashing holds at most {MAX_BUCKETS} nodes")
        self._nodes = self._nodes + (name,)
        self._index[name] = len(self._nodes) - 1

    def remove_node(self, name: str) -> None:
        """Remove the last node (the only one jump hashing can remove without
        moving keys between the others)."""
        name = _config.exact_name(name)
        if name not in self._index:
            raise KeyError(f"node {name!r} is not in the ring")
        if name != self._nodes[-1]:
            raise ValueError(
                f"jump hashing can remove only the last node ({self._nodes[-1]!r}), "
                f"not {name!r}: removing another would renumber the buckets after it"
            )
        self._nodes = self._nodes[:-1]
        del self._index[name]

    def _buckets(self) -> int:
        if not self._nodes:
            from .errors import EmptyRingError

            raise EmptyRingError()
        return len(self._nodes)

    def get_node(self, key: object) -> str:
        """The node of one key."""
        value = int(key) if isinstance(key, np.uint64) else hash_key(key)
        out = np.empty(1, dtype=np.int32)
        jump_into(np.array([value], dtype=np.uint64), self._buckets(), out)
        return self._nodes[int(out[0])]

    def route(self, keys: object, *, threads: int | None = None) -> np.ndarray:
        """int32 array shaped like keys: the index into ``nodes`` of each key's node."""
        threads = _config.check_threads(threads)
        values: np.ndarray
        # by value: a uint64 array of either byte order
        if isinstance(keys, np.ndarray) and keys.dtype.kind == "u" and keys.dtype.itemsize == 8:
            values = keys
        else:
            batch = batch_keys(keys)
            if batch.size == 0:
                return np.empty(batch.shape, dtype=np.int32)
            values = _exec.map_keys(
                batch, np.uint64, threads, DEFAULT.hasher.hash_batch, DEFAULT.hasher.hash_list
            )
        if not values.size:
            return np.empty(values.shape, dtype=np.int32)
        return jump_hash(values, self._buckets(), threads=threads)
