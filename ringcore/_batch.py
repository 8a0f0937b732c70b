"""Turning the inputs of batch calls into what the core's kernels take."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ._core import hashes_from_list

# numpy dtype kinds whose elements are keys: integers, bytes, str, objects, StringDType
_KEY_KINDS = "iuSUOT"


def batch_keys(keys: object) -> tuple[np.ndarray | list, tuple[int, ...]]:
    """A batch of keys as a contiguous uint64 array (integer keys, by value) or
    as a list of keys, with the shape the result takes."""
    if isinstance(keys, (str, bytes, bytearray, memoryview)):
        raise TypeError(f"keys must be a sequence of keys, not a single {type(keys).__name__}")
    if isinstance(keys, np.ndarray):
        kind = keys.dtype.kind
        if kind not in _KEY_KINDS:
            raise TypeError(f"unsupported key array dtype {keys.dtype}")
        flat = keys.reshape(-1)
        if kind in "iu":
            # value modulo 2**64, native byte order, contiguous (SPEC.md 1)
            return np.ascontiguousarray(flat, dtype=np.uint64), keys.shape
        return flat.tolist(), keys.shape
    if isinstance(keys, list):
        return keys, (len(keys),)
    if isinstance(keys, tuple):
        return list(keys), (len(keys),)
    if isinstance(keys, Iterable):
        items = list(keys)
        return items, (len(items),)
    raise TypeError(f"keys must be an iterable of keys, not {type(keys).__name__}")


def batch_hashes(hashes: object) -> tuple[np.ndarray, tuple[int, ...]]:
    """A contiguous native uint64 array of the hashes, and the result's shape."""
    if isinstance(hashes, (str, bytes, bytearray)):
        raise TypeError(f"hashes must be integers, not a {type(hashes).__name__}")
    if not isinstance(hashes, np.ndarray):
        try:
            hashes = np.asarray(memoryview(hashes))  # type: ignore[arg-type]  # any buffer
        except TypeError:
            if not isinstance(hashes, Iterable):
                raise TypeError(f"hashes must be an iterable of ints, not {type(hashes).__name__}")
            items = list(hashes)
            values = np.empty(len(items), dtype=np.uint64)
            hashes_from_list(items, values)
            return values, values.shape
    kind = hashes.dtype.kind
    if kind not in "iu":
        raise TypeError(f"hashes must be integers, not {hashes.dtype}")
    if kind == "i" and hashes.size and hashes.min() < 0:
        raise ValueError("hashes must be in [0, 2**64); found a negative value")
    return np.ascontiguousarray(hashes.reshape(-1), dtype=np.uint64), hashes.shape
