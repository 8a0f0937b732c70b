"""Turning the inputs of batch calls into what the core's kernels take."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

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
        hashes = np.asarray(hashes)
        if hashes.size == 0:
            return np.empty(0, dtype=np.uint64), hashes.shape
        if hashes.dtype.kind == "O":
            try:
                hashes = np.array(hashes.tolist(), dtype=np.uint64)
            except OverflowError:
                raise ValueError("hashes must be in [0, 2**64)") from None
            except (TypeError, ValueError):
                raise TypeError("hashes must be integers") from None
    kind = hashes.dtype.kind
    if kind not in "iu":
        raise TypeError(f"hashes must be integers, not {hashes.dtype}")
    if kind == "i" and hashes.size and hashes.min() < 0:
        raise ValueError("hashes must be in [0, 2**64); found a negative value")
    return np.ascontiguousarray(hashes.reshape(-1), dtype=np.uint64), hashes.shape
