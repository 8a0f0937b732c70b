"""numpy key arrays decoded from fuzz data: every dtype, memory placement and
view, and ndarray subclasses whose Python-level attributes lie."""

from __future__ import annotations

import numpy as np

import _keys
from guarded import Guarded, guarded_array

INT_CODES = ("i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8")
UNSUPPORTED = ("f8", "f2", "?", "c16", "M8[s]", "m8[ns]", "V8", [("a", "i4")])
STRING_DTYPE = getattr(getattr(np, "dtypes", None), "StringDType", None)
_NA_OBJECTS = (None, float("nan"), "NA")


def dtype(r):
    """A key dtype, sometimes an unsupported one."""
    kind = r.int(0, 11)
    if kind <= 4:
        return np.dtype(r.pick("<>=") + r.pick(INT_CODES))
    if kind <= 6:
        return np.dtype(f"S{r.int(1, 40)}")
    if kind <= 8:
        return np.dtype(r.pick("<>=") + f"U{r.int(1, 20)}")
    if kind == 9:
        return np.dtype(object)
    if kind == 10 and STRING_DTYPE is not None:
        na = r.int(0, len(_NA_OBJECTS))
        return STRING_DTYPE() if na == len(_NA_OBJECTS) else STRING_DTYPE(na_object=_NA_OBJECTS[na])
    return np.dtype(r.pick(UNSUPPORTED))


def values(r, dt: np.dtype, n: int) -> np.ndarray | None:
    """A contiguous 1-D array of n elements of dtype dt (None if numpy refuses)."""
    if dt.kind == "O":
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = _keys.key(r)
        return out
    if dt.kind == "T":
        na = getattr(dt, "na_object", None)
        has_na = hasattr(dt, "na_object")
        items = [na if has_na and r.chance(6) else _keys.text(r) for _ in range(n)]
        try:
            return np.array(items, dtype=dt)
        except (ValueError, TypeError, UnicodeEncodeError):
            return None
    if dt.kind == "U" and r.bool():
        out = np.array([_keys.text(r, dt.itemsize // 4) for _ in range(n)], dtype=dt)
        if n and r.chance(4):  # one raw code point anywhere, maybe past U+10FFFF
            cps = out.view(np.dtype("u4").newbyteorder(dt.byteorder))
            cps[r.int(0, cps.size - 1)] = r.pick((0xD800, 0xDFFF, 0x110000, 0xFFFFFFFF,
                                                  r.int(0, 2**32 - 1)))
        return out
    raw = r.bytes(n * dt.itemsize)
    return np.frombuffer(raw.ljust(n * dt.itemsize, b"\0"), dtype=dt).copy()


PLACEMENTS = ("plain", "plain", "unaligned", "guard end", "guard start", "guard unaligned")
VIEWS = ("none", "none", "reverse", "step", "reverse step", "2-D", "2-D transposed",
         "3-D", "0-D", "zero-size", "zero-size 2-D", "newaxis", "fortran", "broadcast",
         "overlapping")


def place(r, base: np.ndarray) -> tuple[np.ndarray, str]:
    """base's elements in memory of a decoded kind: plain, unaligned, or ending
    (starting) at a guard page. Object and StringDType arrays stay plain."""
    how = r.pick(PLACEMENTS)
    if base.dtype.kind in "OT" or how == "plain":
        return base, "plain"
    if how == "unaligned":
        buffer = bytearray(1 + base.nbytes)
        out = np.frombuffer(buffer, dtype=base.dtype, count=base.size, offset=1)
        out[...] = base
        return out, how
    readonly = r.bool()
    out = guarded_array(base, at_start=how == "guard start", unaligned=how == "guard unaligned",
                        readonly=readonly)
    return out, how + (" (PROT_READ)" if readonly else "")


def view(r, a: np.ndarray) -> tuple[np.ndarray, str]:
    how = r.pick(VIEWS)
    n = a.size
    if how == "reverse":
        return a[::-1], how
    if how in ("step", "reverse step"):
        step = r.int(2, 4) * (-1 if how == "reverse step" else 1)
        return a[r.int(0, 2) :: step], how
    if how.startswith("2-D") and n and n % 2 == 0:
        b = a.reshape(2, n // 2)
        return (b.T if how.endswith("transposed") else b), how
    if how == "3-D" and n and n % 4 == 0:
        return a.reshape(2, 2, n // 4)[:, ::-1], how
    if how == "0-D" and n:
        return a[0:1].reshape(()), how
    if how == "zero-size":
        return a[:0], how
    if how == "zero-size 2-D":
        return a[:0].reshape(0, r.int(0, 3)), how
    if how == "newaxis":
        return a[:, None], how
    if how == "fortran" and n and n % 3 == 0:
        return np.asfortranarray(a.reshape(3, n // 3)), how
    if how == "broadcast" and n:
        return np.broadcast_to(a[r.int(0, n - 1) :][:1], (r.int(1, 9),)), how  # stride 0
    if how == "overlapping" and n >= 2 and a.dtype.kind not in "OT":
        # elements that share bytes: each starts one byte after the previous
        return np.lib.stride_tricks.as_strided(a, shape=(n - a.itemsize + 1,) if a.itemsize <= n
                                               else (1,), strides=(1,), writeable=False), how
    return a, "none"


def array(r, max_n: int = 24) -> tuple[np.ndarray, str]:
    """A key array and a description of how it was made."""
    dt = dtype(r)
    n = r.int(0, max_n)
    base = values(r, dt, n)
    if base is None:
        base = np.zeros(0, dtype=np.int64)
    if n and r.chance(16):
        base = np.tile(base, r.int(2, 3000 // n + 2))  # past the kernels' chunks of keys
        n = base.size
    placed, where = place(r, base)
    out, how = view(r, placed)
    if out.dtype.kind not in "OT" and r.chance(8) and out.flags.writeable:
        out.flags.writeable = False
        how += ", read-only"
    return out, f"{dt} n={n}, memory {where}, view {how}"


# -- subclasses ---------------------------------------------------------------------


class Sub(np.ndarray):
    """A subclass that changes nothing."""


class Odd(np.ndarray):
    """A subclass whose Python-level attributes lie, as listed in `lies`."""

    lies: frozenset = frozenset()
    fake: object = None

    def __array_finalize__(self, obj):
        self.lies = getattr(obj, "lies", frozenset())
        self.fake = getattr(obj, "fake", None)

    def view(self, *args, **kwargs):
        if "view fake" in self.lies:
            return self.fake
        if "view self" in self.lies:
            return self
        return super().view(*args, **kwargs)

    def reshape(self, *args, **kwargs):
        if "reshape fake" in self.lies:
            return self.fake
        return super().reshape(*args, **kwargs)

    @property
    def dtype(self):
        real = np.ndarray.dtype.__get__(self)
        return np.dtype("S64") if "dtype" in self.lies else real

    @property
    def strides(self):
        real = np.ndarray.strides.__get__(self)
        return tuple(-(1 << 40) for _ in real) if "strides" in self.lies else real

    @property
    def shape(self):
        real = np.ndarray.shape.__get__(self)
        return tuple(s + 1000 for s in real) if "shape" in self.lies else real

    @property
    def __array_interface__(self):
        real = np.ndarray.__array_interface__.__get__(self)
        if "interface" in self.lies:
            return dict(real, data=(self.fake.address if self.fake else 16, False))
        return real

    def __repr__(self):
        try:
            inner = repr(np.ndarray.view(self, np.ndarray))
        except Exception:  # noqa: BLE001 - e.g. code points numpy cannot print
            inner = "<unprintable>"
        return f"Odd(lies={sorted(self.lies)}, {inner})"


class FakeArray:
    """Not an array: attributes of a 1-D array of `n` elements whose memory is
    `memory` (far too small for n), ending at a guard page."""

    def __init__(self, dt: np.dtype, n: int, memory: Guarded):
        self.memory = memory
        self.address = memory.address
        self.dtype = dt
        self.ndim = 1
        self.shape = (n,)
        self.size = n
        self.strides = (dt.itemsize,)
        self.flags = np.empty(1, dtype=dt if dt.kind in "iuSU" else np.uint8).flags
        self.__array_interface__ = {
            "data": (memory.address, False), "shape": (n,), "strides": (dt.itemsize,),
            "typestr": dt.str, "version": 3,
        }

    def view(self, *args, **kwargs):
        return self

    def reshape(self, *args, **kwargs):
        return self

    def __len__(self):
        return self.size

    def __repr__(self):
        return f"FakeArray({self.dtype}, n={self.size}, {self.memory.size} bytes)"


ODD_LIES = ("view fake", "view self", "reshape fake", "dtype", "strides", "shape", "interface")


def fake(r) -> FakeArray:
    dt = np.dtype(r.pick(("<u8", "<i1", ">i4", "S7", "U3")))
    return FakeArray(dt, r.pick((1, 2, 100, 10**6)), Guarded(r.blob(16)))


def odd(r, a: np.ndarray) -> Odd:
    o = a.view(Odd)
    o.lies = frozenset(lie for lie in ODD_LIES if r.chance(3))
    o.fake = fake(r)
    return o
