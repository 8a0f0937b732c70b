"""Keys decoded from fuzz data: every type a key can be, or be mistaken for,
including subclasses whose hooks lie."""

from __future__ import annotations

import array
from decimal import Decimal
from fractions import Fraction

import numpy as np

EDGE_INTS = (
    0, 1, -1, 2, 7, 127, 128, 255, 256, -128, -129, 2**15, 2**16 - 1, 2**16,
    2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 2**32 - 1, 2**32, 2**53 + 1,
    2**62, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64 - 1, 2**64, 2**64 + 1,
    -(2**64), 2**65, 10**30, -(10**30), 2**200,
)

CHAR_RANGES = (
    (0x20, 0x7E), (0x00, 0x1F), (0x80, 0xFF), (0x100, 0x7FF), (0x800, 0xFFFF),
    (0xD800, 0xDFFF), (0x10000, 0x10FFFF),
)
SPECIAL_CHARS = ("\0", "#", "é", "\u0301", "\ud800", "\udfff", "\uffff", "🙂", "\U0010ffff")

NP_INT_TYPES = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)


def any_int(r) -> int:
    """Edges, their neighbours, and ints of any byte length and sign."""
    mode = r.int(0, 3)
    if mode == 0:
        return r.pick(EDGE_INTS)
    if mode == 1:
        return r.pick(EDGE_INTS) + r.int(-3, 3)
    if mode == 2:
        return int.from_bytes(r.bytes(r.int(1, 17)), "little", signed=True)
    return r.int(-300, 300)


def text(r, max_len: int = 12, ascii_only: bool = False) -> str:
    n = r.int(0, max_len)
    if ascii_only:
        return "".join(chr(0x20 + r.byte() % 0x60) for _ in range(n))
    chars = []
    for _ in range(n):
        kind = r.int(0, len(CHAR_RANGES) + 1)
        if kind < len(CHAR_RANGES):
            lo, hi = CHAR_RANGES[kind]
            chars.append(chr(r.int(lo, hi)))
        else:
            chars.append(r.pick(SPECIAL_CHARS))
    s = "".join(chars)
    if s and r.chance(16):
        s *= r.int(20, 700)  # past the core's 1 KiB stack buffer for UTF-8
    return s


# -- keys whose hooks lie ------------------------------------------------------------


class HookError(Exception):
    """Raised on purpose by a key's hook."""


def _repr(self) -> str:
    for base in type(self).__mro__[1:]:
        if base.__module__ == "builtins":
            return f"{type(self).__name__}({base.__repr__(self)})"
        if base.__module__ == "numpy":
            return f"{type(self).__name__}({base.__str__(self)})"
    return type(self).__name__


class StrEncode(str):
    __repr__ = _repr

    def encode(self, *args, **kwargs):
        return b"not the UTF-8"


class StrEncodeRaises(str):
    __repr__ = _repr

    def encode(self, *args, **kwargs):
        raise HookError("encode")


class StrEqAll(str):
    __repr__ = _repr

    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0

    def __len__(self):
        return 0

    def __str__(self):
        return "something else"


class StrClassBytes(str):
    __repr__ = _repr
    __class__ = property(lambda self: bytes)  # type: ignore[assignment]


class BytesDunder(bytes):
    __repr__ = _repr

    def __bytes__(self):
        return b"other bytes"


class BytesClassInt(bytes):
    __repr__ = _repr
    __class__ = property(lambda self: int)  # type: ignore[assignment]

    def __len__(self):
        return 3


class IntDunder(int):
    __repr__ = _repr

    def __int__(self):
        return 7

    def __index__(self):
        return 8


class IntDunderHuge(int):
    __repr__ = _repr

    def __int__(self):
        return 2**80

    def __index__(self):
        return -(2**80)


class IntDunderRaises(int):
    __repr__ = _repr

    def __int__(self):
        raise HookError("__int__")

    __index__ = __int__


class IntCompares(int):
    """Claims to be smaller and larger than anything."""

    __repr__ = _repr
    __lt__ = __le__ = __gt__ = __ge__ = lambda self, other: True

    def __eq__(self, other):
        return False

    __hash__ = int.__hash__


class IntClassStr(int):
    __repr__ = _repr
    __class__ = property(lambda self: str)  # type: ignore[assignment]

    def encode(self, *args, **kwargs):
        return b"int posing as str"


class NotAStr:
    """Not a str, but says so through __class__."""

    __class__ = property(lambda self: str)  # type: ignore[assignment]

    def encode(self, *args, **kwargs):
        return b"posing"

    def __repr__(self):
        return "NotAStr()"


class NotAnInt:
    __class__ = property(lambda self: int)  # type: ignore[assignment]

    def __int__(self):
        return 5

    __index__ = __int__

    def __repr__(self):
        return "NotAnInt()"


class NpIntDunder(np.int64):
    __repr__ = _repr

    def __int__(self):
        return 11

    def __index__(self):
        return 12


STR_HOOKS = (StrEncode, StrEncodeRaises, StrEqAll, StrClassBytes)
BYTES_HOOKS = (BytesDunder, BytesClassInt)
INT_HOOKS = (IntDunder, IntDunderHuge, IntDunderRaises, IntCompares, IntClassStr)

JUNK = (
    None, True, False, 0.0, 1.5, float("nan"), float("inf"), 1j, (), [], {}, set(), object(),
    np.float64(1.0), np.bool_(True), np.array(3), np.array([1, 2]), Decimal(1), Fraction(1, 2),
    type, Ellipsis, array.array("b", [1]),
)
LIARS = (NotAStr(), NotAnInt())


def memoryview_key(r) -> memoryview:
    raw = r.blob(24)
    mode = r.int(0, 6)
    if mode == 0:
        return memoryview(raw)
    if mode == 1:
        return memoryview(raw)[:: r.pick((2, 3, -1, -2))]
    if mode == 2:
        code = r.pick("bBhHiIlLqQfd")
        values = array.array(code)
        values.frombytes(raw[: len(raw) // values.itemsize * values.itemsize])
        return memoryview(values)
    if mode == 3:
        shaped = np.frombuffer(raw[: len(raw) // 4 * 4], dtype=r.pick(("<i2", ">u2", "u1")))
        if shaped.size >= 4:
            shaped = shaped[: shaped.size // 2 * 2].reshape(2, -1)[:, :: r.pick((1, 2, -1))]
        return memoryview(shaped)
    if mode == 4:
        view = memoryview(raw)
        view.release()
        return view
    if mode == 5:
        return memoryview(bytearray(raw)).cast("B", (len(raw),)) if raw else memoryview(b"")
    return memoryview(np.array(r.int(0, 100), dtype=r.pick(NP_INT_TYPES)))  # 0-d


def key(r, hooks: bool = True):
    """One key (or non-key) of any kind."""
    kind = r.int(0, 17 if hooks else 12)
    if kind <= 2:
        return text(r, ascii_only=True)
    if kind == 3:
        return text(r)
    if kind == 4:
        return r.blob(20)
    if kind == 5:
        return bytearray(r.blob(20))
    if kind == 6:
        return memoryview_key(r)
    if kind <= 8:
        return any_int(r)
    if kind == 9:
        dtype = r.pick(NP_INT_TYPES)
        info = np.iinfo(dtype)
        return dtype(r.int(int(info.min), int(info.max)))
    if kind == 10:
        return r.pick(JUNK)
    if kind == 11:
        return r.pick((np.str_(text(r)), np.bytes_(r.blob(8))))
    if kind == 12:
        return r.pick((None, True, 1.0))
    if kind == 13:
        return r.pick(STR_HOOKS)(text(r)) if r.int(0, 3) else r.pick(LIARS)
    if kind == 14:
        return r.pick(BYTES_HOOKS)(r.blob(12))
    if kind <= 16:
        return r.pick(INT_HOOKS)(any_int(r))
    return NpIntDunder(r.int(-5, 5))


def keys(r, max_n: int = 12, hooks: bool = True) -> list:
    """A list of keys: often all of one kind, as real batches are."""
    n = r.int(0, max_n)
    if r.bool():
        return [key(r, hooks) for _ in range(n)]
    uniform = r.int(0, 3)
    if uniform == 0:
        return [text(r, ascii_only=True) for _ in range(n)]
    if uniform == 1:
        return [text(r) for _ in range(n)]
    if uniform == 2:
        return [any_int(r) for _ in range(n)]
    return [r.blob(12) for _ in range(n)]
