"""Ring operations in batch over one layout: replica sets, bounded loads and
key loads (SPEC.md 10-12). Each takes keys in every format route() takes and
answers from the one version of the ring it is given."""

from __future__ import annotations

import importlib
import os
import threading
from typing import Any

import numpy as np

from . import _config, _exec
from ._batch import Batch, batch_keys
from ._layout import take_rows
from .load import Load

__all__ = ["Load"]

# Keys whose point indices are found before their rows are copied.
_INDEX_BLOCK = 16384
# Replica rows kept per layout (each 4 * n bytes a point); the oldest goes first.
_KEPT_ROWS = 2
_KEPT_LOCK = threading.Lock()


def _new_lock_after_fork() -> None:
    global _KEPT_LOCK
    _KEPT_LOCK = threading.Lock()  # a thread of the parent may have held it at the fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)


def point_indices(layout: Any, keys: object, threads: int | None, allow_nulls: bool) -> np.ndarray:
    """int32 array shaped like the keys: the index in ring order of the point
    that owns each key (SPEC.md 5); -1 for a null when nulls are allowed."""
    batch = keys if isinstance(keys, Batch) else batch_keys(keys)
    if batch.size and not len(layout.positions):
        _exec.check_all_then_empty(batch, layout, allow_nulls)
    return _exec.map_keys(
        batch, np.int32, threads,
        lambda b, o, lo, hi: layout.route_batch_into(b, o, lo, hi, allow_nulls, -1, True),
        lambda keys, o: layout.route_list_into(keys, o, allow_nulls, -1, True),
    )


def replica_rows(layout: Any, n: int, distinct_zones: bool) -> np.ndarray:
    """The layout's (npoints, n) replica rows, made when first asked and kept
    with the layout."""
    key = ("replicas", n, distinct_zones)
    rows = layout.derived.get(key)
    if rows is None:
        classes = (layout.zone_classes()[0] if distinct_zones
                   else np.arange(len(layout.names), dtype=np.int32))
        rows = layout.replica_rows_of(n, classes)
        kept = layout.derived
        with _KEPT_LOCK:  # threads may make rows at once: the cache stays bounded
            older = [k for k in kept if k[0] == "replicas" and k != key]
            for old in older[: max(0, len(older) - _KEPT_ROWS + 1)]:
                del kept[old]
            kept[key] = rows
    return rows


def route_replicas(
    layout: Any, keys: object, n: object, threads: object, null: object, distinct_zones: object
) -> np.ndarray:
    """SPEC.md 10: row i is get_nodes(keys[i], n) as indices into nodes."""
    threads = _config.check_threads(threads)
    allow_nulls = null is not None
    null_value = _config.check_null(null) if allow_nulls else -1
    count = _config.check_replica_count(n)
    zones = _config.check_distinct_zones(distinct_zones)
    batch = batch_keys(keys)
    if batch.size and not len(layout.positions):
        _exec.check_all_then_empty(batch, layout, allow_nulls)
    if len(layout.names):
        # (n is checked against the nodes after the keys: see SPEC.md 10)
        zone_count = layout.zone_classes()[1] if zones else len(layout.names)
        if count > zone_count or count == 0 or batch.size == 0:
            point_indices(layout, batch, threads, allow_nulls)  # the keys' errors first
            _config.check_replica_range(count, len(layout.names), allow_zero=True)
            _config.check_zone_range(count, zone_count)
            return np.empty(batch.shape + (count,), dtype=np.int32)
        rows = replica_rows(layout, count, zones)
    else:
        return np.empty(batch.shape + (count,), dtype=np.int32)

    def from_part(part: Any, out: np.ndarray, lo: int, hi: int) -> None:
        # point indices a block at a time, in a buffer that stays in cache
        at = np.empty(min(hi - lo, _INDEX_BLOCK), dtype=np.int32)
        for start in range(lo, hi, _INDEX_BLOCK):
            stop = min(start + _INDEX_BLOCK, hi)
            block = at[: stop - start]
            layout.route_batch_into(part, block, start, stop, allow_nulls, -1, True)
            take_rows(rows, block, out[start - lo : stop - lo], null_value)

    def from_list(items: list, out: np.ndarray) -> None:
        at = np.empty(len(items), dtype=np.int32)
        layout.route_list_into(items, at, allow_nulls, -1, True)
        take_rows(rows, at, out, null_value)

    return _exec.map_keys(batch, np.int32, threads, from_part, from_list, width=count)


def assign_bounded(
    layout: Any, keys: object, epsilon: object, threads: object, null: object
) -> np.ndarray:
    """SPEC.md 11: consistent hashing with bounded loads, keys in input order."""
    threads = _config.check_threads(threads)
    eps = _config.check_epsilon(epsilon)
    allow_nulls = null is not None
    null_value = _config.check_null(null) if allow_nulls else -1
    indices = point_indices(layout, keys, threads, allow_nulls)
    flat = np.ascontiguousarray(indices.reshape(-1))
    out = np.empty(flat.size, dtype=np.int32)
    if flat.size:
        nkeys = int(np.count_nonzero(flat >= 0)) if allow_nulls else flat.size
        capacity = np.array(
            _config.bounded_capacities(eps, nkeys, layout.node_weights), dtype=np.int64
        )
        layout.assign_bounded_into(flat, capacity, null_value, out)
    return out.reshape(indices.shape)


def load(layout: Any, keys: object, threads: object, skip_nulls: object) -> Load:
    """SPEC.md 12: how many of the keys each node owns."""
    if not isinstance(skip_nulls, bool):
        raise TypeError(f"skip_nulls must be a bool, not {type(skip_nulls).__name__}")
    owners = layout.route(keys, threads=threads, null=-1 if skip_nulls else None).reshape(-1)
    if skip_nulls:
        owners = owners[owners >= 0]
    counts = np.bincount(owners, minlength=len(layout.names)).astype(np.int64)
    return Load(layout.names, counts)


def names_of(layout: Any, owners: object, format: object) -> Any:
    """Node indices of this layout (route's output) as names without a
    Python object per key: a pandas Categorical or a pyarrow DictionaryArray
    whose categories (dictionary) are the layout's nodes; negative indices
    (the null= value of route, if negative) are missing values."""
    if format not in ("pandas", "arrow"):
        raise ValueError(f"format must be 'pandas' or 'arrow', got {format!r}")
    codes = np.asarray(owners)
    if codes.ndim != 1 or codes.dtype.kind not in "iu":
        raise TypeError(
            f"names_of takes a 1-D array of node indices, not {codes.ndim}-D {codes.dtype}"
        )
    if codes.size and int(codes.max()) >= len(layout.names):
        raise ValueError(
            f"node index {int(codes.max())} is past the {len(layout.names)} nodes of this layout"
        )
    missing = codes < 0
    codes = np.where(missing, -1, codes).astype(np.int32)
    if format == "pandas":
        pd = importlib.import_module("pandas")
        return pd.Categorical.from_codes(codes, categories=pd.Index(layout.names, dtype=object))
    pa = importlib.import_module("pyarrow")

    indices = pa.array(codes, mask=missing if missing.any() else None)
    return pa.DictionaryArray.from_arrays(indices, pa.array(layout.names, type=pa.string()))
