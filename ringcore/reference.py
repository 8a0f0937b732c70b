"""Pure-Python reference implementation of docs/SPEC.md.

A literal reading of the spec: lists, ``bisect`` and the ``xxhash`` package.
It is the yardstick the compiled core is tested against, and a baseline in
the benchmarks. numpy is used only to return arrays in the same form as the
core; every rule of the spec is plain Python here.
"""

from __future__ import annotations

import bisect
import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xxhash

from . import _config
from ._null import NULL, string_dtype_values
from .errors import EmptyRingError, NullKeyError

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
    """The keys of a batch as a list (NULL for columnar nulls), and the shape
    of the result."""
    if isinstance(keys, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"keys must be a sequence of keys, not a single {type(keys).__name__}")
    if isinstance(keys, np.ndarray):
        if isinstance(keys, np.ma.MaskedArray):
            raise TypeError("masked arrays are not supported")
        if keys.dtype.kind not in "iuSUOT":
            raise TypeError(f"unsupported key array dtype {keys.dtype}")
        if keys.dtype.kind == "T":
            return string_dtype_values(keys.ravel()), keys.shape
        return keys.ravel().tolist(), keys.shape
    module = type(keys).__module__.partition(".")[0]
    if module in ("pyarrow", "pandas", "polars"):
        items = _columnar_values(keys, module)
        return items, (len(items),)
    if not isinstance(keys, (list, tuple)):
        if not isinstance(keys, Iterable):
            raise TypeError(f"keys must be an iterable of keys, not {type(keys).__name__}")
        keys = list(keys)
    return keys, (len(keys),)


def _columnar_values(keys: Any, module: str) -> list:
    """The values of an Arrow array or a pandas/polars Series as Python keys."""
    if module == "pandas":
        pd = importlib.import_module("pandas")

        if not isinstance(keys, (pd.Series, pd.Index)):
            raise TypeError(f"unsupported pandas input {type(keys).__name__}; pass a Series")
        values = keys.to_numpy(dtype=object)
        missing = pd.isna(values)
        return [NULL if m else v for v, m in zip(values.tolist(), missing.tolist())]
    values = keys.to_pylist() if module == "pyarrow" else keys.to_list()
    return [NULL if v is None else v for v in values]


def _batch_item_error(err: Exception, index: int) -> Exception:
    if isinstance(err, UnicodeEncodeError):
        return UnicodeEncodeError(
            err.encoding, err.object, err.start, err.end, f"{err.reason} (keys[{index}])"
        )
    return type(err)(f"keys[{index}]: {err}")


def _hashes(items: Sequence, null: int | None) -> list:
    """The hash of every key; None for a null when a null value is given."""
    hashes: list = []
    for i, key in enumerate(items):
        if key is NULL or (key is None and null is not None):
            if null is None:
                raise NullKeyError(i)
            hashes.append(None)
            continue
        try:
            hashes.append(hash_key(key))
        except (TypeError, ValueError, OverflowError) as err:
            raise _batch_item_error(err, i) from None
    return hashes


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

    def hash_keys(self, keys: object, *, threads: int | None = None) -> np.ndarray:
        items, shape = _batch(keys)
        return np.array(_hashes(items, None), dtype=np.uint64).reshape(shape)

    def route_hashes(self, hashes: object, *, threads: int | None = None) -> np.ndarray:
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

    def route(
        self, keys: object, *, threads: int | None = None, null: int | None = None
    ) -> np.ndarray:
        """Owner indices; `null` is written for nulls (and None) when given.
        `threads` is accepted for the same signature as the core and ignored."""
        if null is not None:
            if isinstance(null, bool) or not isinstance(null, (int, np.integer)):
                raise TypeError(f"null must be an int, not {type(null).__name__}")
            if not -(2**31) <= null < 2**31:
                raise ValueError(f"null must fit in int32, got {null}")
        items, shape = _batch(keys)
        hashes = _hashes(items, null)
        routed = self.route_hashes([0 if h is None else h for h in hashes])
        out = [null if h is None else int(r) for h, r in zip(hashes, routed.tolist())]
        return np.array(out, dtype=np.int32).reshape(shape)

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
