"""Fuzz numpy key arrays: every key dtype, memory placement and layout.

Decoding: one byte picks the ring, then the dtype (int8..uint64 in both byte
orders, S1..S40, U1..U20 in both byte orders, object, StringDType with or
without an NA object, or an unsupported dtype), the number of elements and
their bytes (valid text or raw code points for U, keys of any kind for
object), the memory (plain, unaligned, ending or starting at a guard page,
read-only), the view (reversed, strided, N-D, transposed, 0-D, zero-size,
Fortran order), and a wrapper: none, a plain subclass, np.matrix, a masked
array, or an ndarray subclass whose view / reshape / dtype / strides / shape /
__array_interface__ lie. route, route(null=, threads=) and hash_keys must
agree with the reference (given the real ndarray when the subclass lies; the
core may then also refuse cleanly). A U array holding a code point with no
UTF-8 must fail with a ValueError naming its first bad element as keys[i].
"""

import numpy as np

import _driver

with _driver.instrumented():
    import _arrays
    import ringcore
    from ringcore import reference

from _compare import agree, agree_or_refuse, clip, run, safe_repr
from _driver import Finding

RINGS = (
    ((), 160),
    (("a", "b", "c"), 3),
    ({"x": 0.5, "y": 2.0, "é": 1.0}, 16),
)
_built: dict = {}
NULLS = (None, -1, 0, 2, 2**31, True)
THREADS = (None, 1, 2, 3, 0, 2.0)
WRAPS = ("none", "none", "none", "subclass", "matrix", "masked", "odd")


def rings(i: int):
    if i not in _built:
        nodes, vnodes = RINGS[i]
        _built[i] = (ringcore.HashRing(nodes, vnodes=vnodes),
                     reference.HashRing(nodes, vnodes=vnodes))
    return _built[i]


def wrap(r, arr: np.ndarray, how: str):
    if how == "subclass":
        return arr.view(_arrays.Sub)
    if how == "matrix" and arr.ndim <= 2 and arr.dtype.kind != "T":
        return np.asmatrix(arr)
    if how == "masked":
        return np.ma.masked_array(arr, mask=np.zeros(arr.shape, dtype=bool))
    if how == "odd":
        return _arrays.odd(r, arr)
    return arr


def first_bad_text(keys: np.ndarray):
    """Flat index of the first U element with a surrogate or a code point
    above U+10FFFF, or None."""
    if type(keys) is not np.ndarray or keys.dtype.kind != "U" or keys.size == 0:
        return None
    flat = np.ascontiguousarray(keys).reshape(-1)
    cps = flat.view(np.dtype("u4").newbyteorder(flat.dtype.byteorder)).reshape(flat.size, -1)
    bad = ((cps > 0x10FFFF) | ((cps >= 0xD800) & (cps <= 0xDFFF))).any(axis=1)
    return int(bad.argmax()) if bad.any() else None


def expect_key_error(what, outcome: tuple, index: int) -> None:
    err = outcome[1]
    if not isinstance(err, ValueError) or f"keys[{index}]" not in str(err):
        raise Finding(f"{what()}\n  expected a ValueError naming keys[{index}], got "
                      f"{type(err).__name__ if err else 'a result'}: {err}")


def test_one_input(data: bytes) -> None:
    r = _driver.Reader(data)
    ring_index = r.int(0, len(RINGS) - 1)
    core, ref = rings(ring_index)
    arr, how = _arrays.array(r)
    wrapper = r.pick(WRAPS)
    keys = wrap(r, arr, wrapper)
    null, threads = r.pick(NULLS), r.pick(THREADS)
    compare, truth = agree, keys
    if isinstance(keys, _arrays.Odd):
        # The core must see through the lies (or refuse): the answer is the real array's.
        compare, truth = agree_or_refuse, np.ndarray.view(keys, np.ndarray)
    bad = first_bad_text(keys)
    case = lambda: clip(  # noqa: E731
        f"ring=HashRing{RINGS[ring_index]!r}\narray: {how}, wrapper {wrapper}, "
        f"null={null!r} threads={threads!r}\nkeys={safe_repr(keys)}")
    _driver.note(case)

    calls = (("route(keys)", "route", {}),
             (f"route(keys, null={null!r}, threads={threads!r})", "route",
              {"null": null, "threads": threads}),
             (f"hash_keys(keys, threads={threads!r})", "hash_keys", {"threads": threads}))
    for call, method, kwargs in calls:
        what = lambda: f"{call}\n{case()}"  # noqa: E731
        got = run(getattr(core, method), keys, **kwargs)
        compare(what, got, run(getattr(ref, method), truth, **kwargs))
        valid_threads = threads is None or (type(threads) is int and threads >= 1)
        # a bad null or threads argument is reported first
        if bad is not None and kwargs.get("null") is None and valid_threads:
            expect_key_error(what, got, bad)


if __name__ == "__main__":
    _driver.main(test_one_input)
