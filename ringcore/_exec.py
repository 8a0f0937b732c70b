"""The executor: runs a kernel over a batch of keys into one output array.

The contract every batch operation relies on:

- Output: one row per key, in key order. ``width=None`` makes a 1-D array
  (one value per key: route, hash_keys); ``width=k`` a (keys, k) matrix
  (replica sets), the kernel writing whole rows.
- Kernels: ``array_kernel(part, out, lo, hi)`` fills ``out`` (rows lo..hi of
  a KeyBatch part held in array memory; it runs without the GIL and may run
  on several threads at once); ``list_kernel(keys, out)`` fills the rows of
  a list part (holding the GIL).
- Order: with ``ordered=False`` array parts are cut into ranges that run in
  parallel, up to ``threads``; with ``ordered=True`` every part runs whole,
  in key order, on the calling thread (work whose result depends on the keys
  before it, such as bounded loads).
- Errors: every range finishes; the error of the earliest failing range is
  raised, and the output is discarded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _threads
from ._batch import Batch
from ._keys import KeyBatch
from .errors import EmptyRingError


def _output(size: int, dtype: Any, width: int | None) -> np.ndarray:
    if width is None:
        return np.empty(size, dtype=dtype)
    if width < 0:
        raise ValueError(f"row width must be >= 0, got {width}")
    return np.empty((size, width), dtype=dtype)


def map_keys(
    batch: Batch,
    dtype: Any,
    threads: int | None,
    array_kernel: Callable[[KeyBatch, np.ndarray, int, int], None],
    list_kernel: Callable[[list, np.ndarray], None],
    *,
    width: int | None = None,
    ordered: bool = False,
) -> np.ndarray:
    """The kernels' output over every part of a batch, shaped like the keys
    (plus the row width)."""
    out = _output(batch.size, dtype, width)
    offset = 0
    for part in batch.parts:
        end = offset + len(part)
        target = out[offset:end]
        if isinstance(part, KeyBatch):

            def work(lo: int, hi: int, part: KeyBatch = part, target: np.ndarray = target) -> None:
                array_kernel(part, target[lo:hi], lo, hi)

            count = 1 if ordered else _threads.thread_count(len(part), threads)
            _threads.run_split(len(part), count, work)
        else:
            list_kernel(part, target)
        offset = end
    return out.reshape(batch.shape if width is None else batch.shape + (width,))


def map_array(
    values: np.ndarray,
    dtype: Any,
    threads: int | None,
    kernel: Callable[[np.ndarray, np.ndarray], None],
    *,
    width: int | None = None,
    ordered: bool = False,
) -> np.ndarray:
    """kernel(values[lo:hi], out[lo:hi]) over a 1-D array, split across
    threads unless ordered."""
    out = _output(len(values), dtype, width)
    count = 1 if ordered else _threads.thread_count(len(values), threads)
    _threads.run_split(len(values), count, lambda lo, hi: kernel(values[lo:hi], out[lo:hi]))
    return out


def check_all_then_empty(batch: Batch, layout: Any, allow_nulls: bool) -> None:
    """On an empty ring: the error of the first bad key of the whole batch
    (every part, in order, one thread), else EmptyRingError (SPEC.md 8)."""

    def check(kernel: Callable[..., None], *args: object) -> None:
        try:
            kernel(*args)
        except EmptyRingError:  # this part's keys are good: check the next part
            pass

    map_keys(
        batch, np.int32, 1,
        lambda b, o, lo, hi: check(layout.route_batch_into, b, o, lo, hi, allow_nulls),
        lambda keys, o: check(layout.route_list_into, keys, o, allow_nulls),
        ordered=True,
    )
    raise EmptyRingError()
