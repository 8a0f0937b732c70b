"""Calling the core and the reference side by side and judging the answers."""

from __future__ import annotations

import re

import numpy as np

from _driver import CLEAN, Finding

_INDEX = re.compile(r"keys\[(\d+)\]")


def run(fn, *args, **kwargs) -> tuple:
    """(result, None) or (None, exception)."""
    try:
        return fn(*args, **kwargs), None
    except Exception as err:  # noqa: BLE001 - judged by the caller
        return None, err


def same(a, b) -> bool:
    """Same answer: arrays by dtype, shape and values, tuples and lists item by
    item, anything else by ==."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            type(a) is type(b)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b)
        )
    return type(a) is type(b) and a == b


def safe_repr(obj) -> str:
    """repr, or a description when repr itself fails (numpy cannot print a U
    array holding a code point above U+10FFFF)."""
    try:
        return repr(obj)
    except Exception as err:  # noqa: BLE001
        if isinstance(obj, np.ndarray):
            raw = np.ascontiguousarray(obj).tobytes()
            return (f"<{type(obj).__name__} {obj.dtype} shape {obj.shape}, repr failed "
                    f"({type(err).__name__}); bytes {raw[:2000].hex()}>")
        return f"<{type(obj).__name__}: repr failed ({type(err).__name__})>"


def clip(text: str, limit: int = 3000) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} chars)"


def show(outcome: tuple) -> str:
    value, err = outcome
    if err is not None:
        return f"{type(err).__name__}: {err}"
    return clip(safe_repr(value), 400)


def check_clean(what, outcome: tuple, allowed: tuple = CLEAN) -> None:
    """A public call must answer or raise one of the documented exception types."""
    err = outcome[1]
    if err is not None and (isinstance(err, SystemError) or not isinstance(err, allowed)):
        raise Finding(f"{what()}\n  raised {type(err).__name__}: {err}") from err


def agree(what, core: tuple, ref: tuple) -> None:
    """Core and reference agree: the same answer, or the same exception type
    naming the same key indices."""
    (got, core_err), (expected, ref_err) = core, ref
    if isinstance(core_err, SystemError):
        raise Finding(f"{what()}\n  core raised SystemError: {core_err}") from core_err
    if core_err is None and ref_err is None:
        if same(got, expected):
            return
    elif core_err is not None and ref_err is not None and type(core_err) is type(ref_err):
        if _INDEX.findall(str(core_err)) == _INDEX.findall(str(ref_err)):
            return
    where = ""
    if isinstance(got, np.ndarray) and isinstance(expected, np.ndarray):
        if got.shape == expected.shape and got.dtype == expected.dtype:
            first = np.argwhere(got != expected)
            if len(first):
                i = tuple(first[0].tolist())
                where = f"\n  first difference at {i}: core {got[i]!r}, reference {expected[i]!r}"
    raise Finding(f"{what()}\n  core:      {show(core)}\n  reference: {show(ref)}{where}")


def agree_or_refuse(what, core: tuple, ref: tuple) -> None:
    """For inputs whose validity is debatable (objects that lie about
    themselves): answers, if both give one, must agree; the core may instead
    refuse with a clean exception."""
    check_clean(what, core)
    if core[1] is None and ref[1] is None:
        agree(what, core, ref)
