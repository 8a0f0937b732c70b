"""Pure-Python reference implementation of docs/SPEC.md.

A literal reading of the spec: lists, ``bisect`` and the ``xxhash`` package.
It is the yardstick the compiled core is tested against, and a baseline in
the benchmarks. numpy is used only to return arrays in the same form as the
core; every rule of the spec is plain Python here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import xxhash

from . import _config
from .errors import EmptyRingError

__all__ = ["HashRing", "key_bytes", "hash_key", "vnode_position"]

_RING = 2**64


def key_bytes(key: object) -> bytes:
    """The bytes a key is hashed as (SPEC.md 1)."""
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytes, bytearray)):
        return bytes(key)
    if isinstance(key, memoryview):
        return key.tobytes()
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        value = int(key)
        if not -(2**63) <= value < 2**64:
            raise OverflowError(f"int key {value} is outside [-2**63, 2**64)")
        return (value % _RING).to_bytes(8, "little")
    raise TypeError(f"unsupported key type {type(key).__name__}")


def hash_key(key: object) -> int:
    """XXH3-64 (seed 0) of the key's bytes (SPEC.md 2)."""
    return xxhash.xxh3_64_intdigest(key_bytes(key))


def vnode_position(name: str, j: int) -> int:
    """Position of point j of node `name` (SPEC.md 3)."""
    return xxhash.xxh3_64_intdigest(name.encode("utf-8") + b"#" + str(j).encode("ascii"))


def _batch(keys: object) -> tuple[Sequence, tuple[int, ...]]:
    """The keys of a batch as a list, and the shape of the result."""
    if isinstance(keys, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"keys must be a sequence of keys, not a single {type(keys).__name__}")
    if isinstance(keys, np.ndarray):
        if keys.dtype.kind not in "iuSUOT":
            raise TypeError(f"unsupported key array dtype {keys.dtype}")
        return keys.ravel().tolist(), keys.shape
    if not isinstance(keys, (list, tuple)):
        if not isinstance(keys, Iterable):
            raise TypeError(f"keys must be an iterable of keys, not {type(keys).__name__}")
        keys = list(keys)
    return keys, (len(keys),)


def _batch_item_error(err: Exception, index: int) -> Exception:
    if isinstance(err, UnicodeEncodeError):
        return UnicodeEncodeError(
            err.encoding, err.object, err.start, err.end, f"{err.reason} (keys[{index}])"
        )
    return type(err)(f"keys[{index}]: {err}")


class HashRing:
    """Consistent-hash ring with virtual nodes (pure-Python reference)."""

    def __init__(self, nodes: Iterable[str] | Mapping[str, float] = (), *, vnodes: int = 160):
        self._setup(nodes, vnodes)

    def _setup(self, nodes: object, vnodes: object) -> None:
        self._vnodes = _config.check_vnodes(vnodes)
        self._weights: dict[str, float] = {}
        # Ring order: sorted by (position, UTF-8 name, j) (SPEC.md 4).
        self._points: list[tuple[int, bytes, int, str]] = []
        pending = _config.normalize_nodes(nodes)
        counts = [_config.point_count(self._vnodes, w, name) for name, w in pending]
        if sum(counts) > _config.MAX_POINTS:
            raise ValueError(f"the ring would have more than {_config.MAX_POINTS} points")
        for (name, weight), count in zip(pending, counts):
            self._weights[name] = weight
            self._points.extend(self._node_points(name, count))
        self._points.sort()

    @staticmethod
    def _node_points(name: str, count: int) -> list[tuple[int, bytes, int, str]]:
        raw = name.encode("utf-8")
        return [(vnode_position(name, j), raw, j, name) for j in range(count)]

    # -- configuration -------------------------------------------------------------

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self._weights)

    @property
    def weights(self) -> dict[str, float]:
        return dict(self._weights)

    @property
    def vnodes(self) -> int:
        return self._vnodes

    def add_node(self, name: str, weight: float = 1.0) -> None:
        _config.check_name(name)
        weight = _config.check_weight(weight, name)
        count = _config.point_count(self._vnodes, weight, name)
        if name in self._weights:
            raise ValueError(f"node {name!r} is already in the ring")
        if len(self._points) + count > _config.MAX_POINTS:
            raise ValueError(f"the ring would have more than {_config.MAX_POINTS} points")
        self._points = sorted(self._points + self._node_points(name, count))
        self._weights[name] = weight

    def remove_node(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"node name must be a str, not {type(name).__name__}")
        if name not in self._weights:
            raise KeyError(name)
        self._points = [p for p in self._points if p[3] != name]
        del self._weights[name]

    # -- lookups -------------------------------------------------------------------

    def _first_point(self, h: int) -> int:
        """Index in ring order of the point that owns hash h (SPEC.md 5)."""
        if not self._points:
            raise EmptyRingError()
        i = bisect.bisect_left(self._points, (h,))
        return 0 if i == len(self._points) else i

    def get_node(self, key: object) -> str:
        h = hash_key(key)
        return self._points[self._first_point(h)][3]

    def get_nodes(self, key: object, n: int) -> list[str]:
        h = hash_key(key)
        n = _config.check_replica_type(n)
        if not self._points:
            raise EmptyRingError()
        _config.check_replica_range(n, len(self._weights))
        start = self._first_point(h)
        taken: list[str] = []
        for step in range(len(self._points)):
            owner = self._points[(start + step) % len(self._points)][3]
            if owner not in taken:
                taken.append(owner)
                if len(taken) == n:
                    break
        return taken

    def hash_keys(self, keys: object) -> np.ndarray:
        items, shape = _batch(keys)
        hashes = []
        for i, key in enumerate(items):
            try:
                hashes.append(hash_key(key))
            except (TypeError, ValueError, OverflowError) as err:
                raise _batch_item_error(err, i) from None
        return np.array(hashes, dtype=np.uint64).reshape(shape)

    def route_hashes(self, hashes: object) -> np.ndarray:
        if isinstance(hashes, np.ndarray) and hashes.dtype.kind not in "iu":
            raise TypeError(f"hashes must be an integer array, not {hashes.dtype}")
        values, shape = _batch(hashes)
        index = {name: i for i, name in enumerate(self._weights)}
        out = []
        for i, h in enumerate(values):
            if isinstance(h, bool) or not isinstance(h, (int, np.integer)):
                raise TypeError(f"hashes[{i}]: a hash must be an int, not {type(h).__name__}")
            if not 0 <= h < _RING:
                raise ValueError(f"hashes[{i}]: {h} is outside [0, 2**64)")
            out.append(index[self._points[self._first_point(int(h))][3]])
        return np.array(out, dtype=np.int32).reshape(shape)

    def route(self, keys: object) -> np.ndarray:
        return self.route_hashes(self.hash_keys(keys))

    def ownership(self) -> dict[str, float]:
        """Fraction of the 2**64 hash space each node owns (SPEC.md 7)."""
        owned = {name: 0 for name in self._weights}
        for i, (pos, _, _, name) in enumerate(self._points):
            prev = self._points[i - 1][0]
            owned[name] += (pos - prev) % _RING if i else pos - prev + _RING
        return {name: total / _RING for name, total in owned.items()}

    @property
    def positions(self) -> np.ndarray:
        arr = np.array([p[0] for p in self._points], dtype=np.uint64)
        arr.flags.writeable = False
        return arr

    @property
    def owners(self) -> np.ndarray:
        index = {name: i for i, name in enumerate(self._weights)}
        arr = np.array([index[p[3]] for p in self._points], dtype=np.int32)
        arr.flags.writeable = False
        return arr

    # -- protocol ------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._weights)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._weights

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HashRing):
            return NotImplemented
        return self._vnodes == other._vnodes and self._weights == other._weights

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"reference.HashRing({self._weights!r}, vnodes={self._vnodes})"

    def __getstate__(self) -> dict:
        return {"vnodes": self._vnodes, "nodes": list(self._weights.items())}

    def __setstate__(self, state: dict) -> None:
        self._setup(dict(state["nodes"]), state["vnodes"])
