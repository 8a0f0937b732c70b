"""The null marker of the core's batch inputs.

Arrow, pandas and polars inputs (and numpy StringDType arrays with an NA
object) can hold nulls. Where the core reads them as a list of keys they
become NULL, which it treats as SPEC.md 8 says: an error naming its index, or
the caller's null value. (The reference has a marker of its own.)
"""

from __future__ import annotations

import math

import numpy as np


class _Null:
    def __repr__(self) -> str:
        return "<null>"


NULL = _Null()


def string_dtype_values(array: np.ndarray) -> list:
    """The elements of a 1-D StringDType array, its NA object as NULL."""
    values = array.tolist()
    if not hasattr(array.dtype, "na_object"):
        return values
    na = array.dtype.na_object
    if isinstance(na, float) and math.isnan(na):
        return [NULL if isinstance(v, float) and math.isnan(v) else v for v in values]
    return [NULL if v is na else v for v in values]
