"""Turning the inputs of batch calls into what the core's kernels read.

Keys arrive as Python sequences, numpy arrays, Arrow arrays, pandas or polars
Series. Each becomes a list of parts, in order: a KeyBatch (keys in array
memory, read by the C kernels without the GIL and without copying) or a Python
list (keys as objects). pyarrow, pandas and polars are imported only when such
an input arrives.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._keys import KeyBatch, hashes_from_list
from ._null import NULL, string_dtype_values

# numpy dtype kinds whose elements are keys: integers, bytes, str, objects, StringDType
_KEY_KINDS = "iuSUOT"
_SINGLE_KEY_TYPES = (str, bytes, bytearray, memoryview)


@dataclass
class Batch:
    parts: list  # KeyBatch or list of keys, in input order
    size: int
    shape: tuple[int, ...]


def _module_of(obj: object) -> str:
    return type(obj).__module__.partition(".")[0]


def _is(value: object, cls: type | tuple[type, ...]) -> bool:
    """isinstance by the real type: a __class__ attribute cannot change it."""
    return issubclass(type(value), cls)


def batch_keys(keys: object) -> Batch:
    """The parts of a batch of keys and the shape of the result; nulls of
    columnar inputs become NULL in the list parts."""
    if _is(keys, _SINGLE_KEY_TYPES):
        raise TypeError(f"keys must be a sequence of keys, not a single {type(keys).__name__}")
    if _is(keys, np.ndarray):
        return _from_numpy(keys)  # type: ignore[arg-type]
    if type(keys) is list:
        n = len(keys)  # once: another thread may resize the list
        return Batch([keys], n, (n,))
    if _is(keys, (list, tuple)):
        items = list(keys)  # type: ignore[call-overload]  # its __len__ may not match
        return Batch([items], len(items), (len(items),))
    module = _module_of(keys)
    if module == "pyarrow":
        return _from_arrow(keys)
    if module == "pandas":
        return _from_pandas(keys)
    if module == "polars":
        return _from_polars(keys)
    if isinstance(keys, Iterable):
        items = list(keys)
        return Batch([items], len(items), (len(items),))
    raise TypeError(f"keys must be an iterable of keys, not {type(keys).__name__}")


def plain_ndarray(array: np.ndarray) -> np.ndarray:
    """The array as a plain ndarray: numpy's own method, so that a subclass's
    hooks (view, reshape, dtype, ...) play no part in what the kernels read."""
    return np.ndarray.view(array, np.ndarray)


def _from_numpy(keys: np.ndarray) -> Batch:
    if _is(keys, np.ma.MaskedArray):
        raise TypeError("masked arrays are not supported: pass .filled(...) or an Arrow/pandas array")
    keys = plain_ndarray(keys)
    kind = keys.dtype.kind
    if kind not in _KEY_KINDS:
        raise TypeError(f"unsupported key array dtype {keys.dtype}")
    flat: np.ndarray = keys.reshape(-1)  # a view when the layout allows, else a copy
    if kind == "T":
        return Batch([string_dtype_values(flat)], flat.size, keys.shape)
    if kind == "O":
        return Batch([flat.tolist()], flat.size, keys.shape)
    return Batch([KeyBatch.from_numpy(flat)], flat.size, keys.shape)


# -- Arrow -----------------------------------------------------------------------------


def _from_arrow(keys: Any) -> Batch:
    pa = importlib.import_module("pyarrow")

    if isinstance(keys, pa.ChunkedArray):
        chunks = keys.chunks
    elif isinstance(keys, pa.Array):
        chunks = [keys]
    else:
        raise TypeError(f"unsupported pyarrow input {type(keys).__name__}")
    check_arrow_key_type(pa, keys.type)
    parts, first = [], 0
    for chunk in chunks:
        parts.append(_arrow_part(pa, chunk, first))
        first += len(chunk)
    return Batch(parts, first, (first,))


def check_arrow_key_type(pa, t) -> None:
    """TypeError unless an Arrow type holds keys (SPEC.md 8), checked before
    any value is read, so that an empty batch of another type fails too."""
    if isinstance(t, pa.BaseExtensionType):
        return check_arrow_key_type(pa, t.storage_type)
    if pa.types.is_dictionary(t):
        return check_arrow_key_type(pa, t.value_type)
    if pa.types.is_run_end_encoded(t):
        return check_arrow_key_type(pa, t.value_type)
    if not any(test(t) for test in (
        pa.types.is_integer, pa.types.is_string, pa.types.is_large_string, pa.types.is_binary,
        pa.types.is_large_binary, pa.types.is_fixed_size_binary, pa.types.is_null,
        pa.types.is_string_view, pa.types.is_binary_view,
    )):
        raise TypeError(f"unsupported key array type {t} (Arrow)")
    return None


def _arrow_part(pa, array, first: int) -> KeyBatch | list:
    array = _plain(pa, array)
    t = array.type
    if pa.types.is_null(t):
        return [NULL] * len(array)
    buffers = array.buffers()
    common = dict(n=len(array), offset=array.offset, validity=buffers[0], source=array, first=first)
    if pa.types.is_integer(t):
        if sys.byteorder != "little":
            return KeyBatch.from_numpy(array.to_numpy(zero_copy_only=False), first)
        return KeyBatch.from_arrow(
            "int", main=buffers[1], width=t.bit_width // 8, is_signed=pa.types.is_signed_integer(t),
            **common,
        )
    if pa.types.is_fixed_size_binary(t):
        return KeyBatch.from_arrow("fixed", main=buffers[1], width=t.byte_width, **common)
    if pa.types.is_string(t) or pa.types.is_binary(t):
        return KeyBatch.from_arrow("offsets32", main=buffers[1], data=buffers[2], **common)
    if pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        return KeyBatch.from_arrow("offsets64", main=buffers[1], data=buffers[2], **common)
    return KeyBatch.from_arrow("views", main=buffers[1], view_buffers=buffers[2:], **common)


_AS_BYTES = {"string": "binary", "large_string": "large_binary", "string_view": "binary_view"}


def _checked(pa, array):
    """The array rebuilt from its buffers (its null count recounted from the
    bitmap, as ringcore's kernels read it; the views of null slots emptied)
    and fully validated by pyarrow, text viewed as bytes: for pyarrow's own
    kernels, which trust offsets and views where ringcore's kernels check
    each one. Text is hashed as stored, valid UTF-8 or not. ArrowInvalid is
    a ValueError."""
    name = str(array.type)
    t = pa.type_for_alias(_AS_BYTES[name]) if name in _AS_BYTES else array.type
    buffers = array.buffers()
    rebuilt = pa.Array.from_buffers(t, len(array), buffers, offset=array.offset)
    if pa.types.is_binary_view(t) and rebuilt.null_count:
        # Validation skips null slots, but cast and take read their views.
        slots = array.offset + len(array)
        views = np.frombuffer(buffers[1], dtype=np.uint8, count=16 * slots).reshape(slots, 16)
        views = views.copy()
        views[array.offset + np.flatnonzero(rebuilt.is_null().to_numpy(zero_copy_only=False))] = 0
        buffers = [buffers[0], pa.py_buffer(views), *buffers[2:]]
        rebuilt = pa.Array.from_buffers(t, len(array), buffers, offset=array.offset)
    rebuilt.validate(full=True)
    return rebuilt


def _plain(pa, array):
    """The values an extension, dictionary or run-end encoded array stands for,
    as a plain array (decoded by pyarrow: a copy); any other array as it is."""
    t = array.type
    if isinstance(t, pa.BaseExtensionType):
        return _plain(pa, array.storage)
    if pa.types.is_dictionary(t):
        return _take(pa, array.dictionary, array.indices)
    if pa.types.is_run_end_encoded(t):
        # logical slot i holds the value of the first run that ends after it
        ends = _checked(pa, array.run_ends).to_numpy(zero_copy_only=False)
        runs = np.searchsorted(ends, array.offset + np.arange(len(array)), side="right")
        return _take(pa, array.values, pa.array(runs))
    return array


def _take(pa, values, indices):
    """values[indices] (a null index gives a null), both checked first. Arrow's
    take has no kernel for view types: they are cast to the large layout
    (polars exports categoricals with string views)."""
    values = _checked(pa, _plain(pa, values))
    if pa.types.is_binary_view(values.type):
        values = values.cast(pa.large_binary())
    return values.take(_checked(pa, indices))


# -- pandas and polars -------------------------------------------------------------------


def _from_pandas(keys: Any) -> Batch:
    pd = importlib.import_module("pandas")

    if isinstance(keys, pd.DataFrame) or not isinstance(keys, (pd.Series, pd.Index)):
        raise TypeError(f"unsupported pandas input {type(keys).__name__}; pass a Series")
    array = keys.array
    if _arrow_backed_or_masked(array):
        return _from_arrow(array.__arrow_array__())
    dtype = keys.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuSU":
        return _from_numpy(keys.to_numpy())
    if not (dtype == object or isinstance(dtype, (pd.StringDtype, pd.CategoricalDtype))):  # noqa: E721 - a numpy dtype
        raise TypeError(f"unsupported key Series dtype {dtype}")
    values = keys.to_numpy(dtype=object)
    missing = pd.isna(values)
    items = values.tolist()
    for i in np.flatnonzero(missing).tolist():
        items[i] = NULL
    return Batch([items], len(items), (len(items),))


def _arrow_backed_or_masked(array: object) -> bool:
    pd = importlib.import_module("pandas")

    arrow_types = tuple(
        getattr(pd.arrays, name) for name in ("ArrowExtensionArray", "ArrowStringArray")
        if hasattr(pd.arrays, name)
    )
    masked = (pd.arrays.IntegerArray,)
    return isinstance(array, arrow_types + masked)


def _from_polars(keys: Any) -> Batch:
    pl = importlib.import_module("polars")

    if not isinstance(keys, pl.Series):
        raise TypeError(f"unsupported polars input {type(keys).__name__}; pass a Series")
    dtype = keys.dtype
    if not (polars_integer(pl, dtype) or isinstance(dtype, (pl.Categorical, pl.Enum))
            or dtype in (pl.String, pl.Binary, pl.Null)):
        raise TypeError(f"unsupported key Series dtype {dtype} (polars)")
    # The newest Arrow layout is polars' own memory (string views): no copy.
    compat = getattr(pl, "CompatLevel", None)
    return _from_arrow(keys.to_arrow(compat_level=compat.newest()) if compat else keys.to_arrow())


def polars_integer(pl, dtype) -> bool:
    """An integer dtype of at most 64 bits (keys and hashes are 64-bit)."""
    wide = tuple(getattr(pl, name) for name in ("Int128", "UInt128") if hasattr(pl, name))
    return bool(dtype.is_integer()) and dtype not in wide


# -- hashes ------------------------------------------------------------------------------


def batch_hashes(hashes: object) -> tuple[np.ndarray, tuple[int, ...]]:
    """A contiguous native uint64 array of the hashes, and the result's shape."""
    if _is(hashes, str):
        raise TypeError("hashes must be integers, not str")
    if _is(hashes, np.ndarray):
        array = plain_ndarray(hashes)  # type: ignore[arg-type]
    elif _module_of(hashes) in ("pyarrow", "pandas", "polars"):
        array = _hashes_from_columnar(hashes, _module_of(hashes))
    else:
        try:
            view = memoryview(hashes)  # type: ignore[arg-type]  # any buffer
        except TypeError:
            if not isinstance(hashes, Iterable):
                raise TypeError(
                    f"hashes must be an iterable of ints, not {type(hashes).__name__}"
                ) from None
            items = list(hashes)
            values = np.empty(len(items), dtype=np.uint64)
            hashes_from_list(items, values)
            return values, values.shape
        if view.format.lstrip("@=<>!") in ("B", "b", "c"):
            raise TypeError(
                f"hashes must be integers, not bytes ({type(hashes).__name__}); for raw "
                "uint64 hashes use np.frombuffer(data, dtype='<u8')"
            )
        array = np.asarray(view)
    kind = array.dtype.kind
    if kind not in "iu":
        raise TypeError(f"hashes must be integers, not {array.dtype}")
    if kind == "i" and array.size and array.min() < 0:
        raise ValueError("hashes must be in [0, 2**64); found a negative value")
    flat = np.require(array.reshape(-1), dtype=np.uint64, requirements=["C", "A"])
    return flat, array.shape


def _hashes_from_columnar(hashes: Any, module: str) -> np.ndarray:
    """The values of an integer column without nulls (SPEC.md 8)."""
    if module == "pandas":
        pd = importlib.import_module("pandas")
        if not isinstance(hashes, (pd.Series, pd.Index)):
            raise TypeError(f"unsupported pandas input {type(hashes).__name__}; pass a Series")
        if hashes.dtype.kind not in "iu":
            raise TypeError(f"hashes must be integers, not {hashes.dtype}")
        if hashes.isna().any():
            raise ValueError("hashes must not contain nulls")
        return np.asarray(hashes.to_numpy())
    if module == "polars":
        pl = importlib.import_module("polars")
        if not isinstance(hashes, pl.Series):
            raise TypeError(f"unsupported polars input {type(hashes).__name__}; pass a Series")
        if not polars_integer(pl, hashes.dtype):
            raise TypeError(f"hashes must be integers, not {hashes.dtype} (polars)")
        if hashes.null_count():
            raise ValueError("hashes must not contain nulls")
        return np.asarray(hashes.to_numpy())
    pa = importlib.import_module("pyarrow")
    if not isinstance(hashes, (pa.Array, pa.ChunkedArray)):
        raise TypeError(f"unsupported pyarrow input {type(hashes).__name__}; pass an Array")
    if not pa.types.is_integer(hashes.type):
        raise TypeError(f"hashes must be integers, not {hashes.type} (Arrow)")
    if hashes.null_count:
        raise ValueError("hashes must not contain nulls")
    if isinstance(hashes, pa.ChunkedArray):
        hashes = hashes.combine_chunks()
    return np.asarray(hashes.to_numpy(zero_copy_only=False))
