"""Memory next to a PROT_NONE guard page, so that an out-of-bounds read by a
C kernel faults at once instead of reading a neighbour's bytes.

``Guarded(data)`` copies ``data`` into a fresh anonymous mapping so that its
last byte is the last one before an inaccessible page (``at_start=True``:
its first byte is the first one after an inaccessible page). ``.arrow()``
and ``.numpy()`` expose that memory; they keep the mapping alive. On systems
without mmap + mprotect (anything but Linux here) it is plain memory.
"""

from __future__ import annotations

import ctypes
import mmap
import sys

import numpy as np

PAGE = mmap.PAGESIZE
_PROT_NONE, _PROT_READ = 0, 1

_mprotect = None
if sys.platform.startswith("linux"):
    try:
        _mprotect = ctypes.CDLL(None, use_errno=True).mprotect
        _mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        _mprotect.restype = ctypes.c_int
    except (OSError, AttributeError):
        _mprotect = None

GUARDED = _mprotect is not None


def _address(buffer) -> int:
    probe = ctypes.c_char.from_buffer(buffer)
    try:
        return ctypes.addressof(probe)
    finally:
        del probe  # releases the export, or the mapping could never be freed


class Guarded:
    """``data`` copied next to a guard page; read-only memory with ``readonly``."""

    __slots__ = ("_memory", "_offset", "size", "address", "__weakref__")

    def __init__(self, data: bytes = b"", *, at_start: bool = False, readonly: bool = False):
        size = len(data)
        self.size = size
        if _mprotect is None:
            self._memory = bytearray(data) + b"\0"  # never empty: it needs an address
            self._offset = 0
            self.address = _address(self._memory)
            return
        body = -(-max(size, 1) // PAGE) * PAGE
        # guard page | body | guard page; the data at one end of the body
        memory = mmap.mmap(-1, body + 2 * PAGE)
        self._offset = PAGE if at_start else PAGE + body - size
        memory[self._offset : self._offset + size] = data
        base = _address(memory)
        self._protect(base, PAGE, _PROT_NONE)
        self._protect(base + PAGE + body, PAGE, _PROT_NONE)
        if readonly:
            self._protect(base + PAGE, body, _PROT_READ)
        self._memory = memory
        self.address = base + self._offset

    @staticmethod
    def _protect(address: int, length: int, prot: int) -> None:
        if _mprotect(address, length, prot) != 0:
            raise OSError(ctypes.get_errno(), "mprotect failed")

    def memoryview(self) -> memoryview:
        """The data's bytes (a view of the mapping: it stays alive with the view)."""
        return memoryview(self._memory)[self._offset : self._offset + self.size]

    def arrow(self):
        """A pyarrow.Buffer over the data, keeping this mapping alive."""
        import pyarrow as pa

        return pa.foreign_buffer(self.address, self.size, base=self)

    def numpy(self, dtype=np.uint8, count: int = -1, offset: int = 0) -> np.ndarray:
        """np.frombuffer over the data; read-only (the memory may be PROT_READ)."""
        array = np.frombuffer(self.memoryview(), dtype=dtype, count=count, offset=offset)
        array.flags.writeable = False
        return array


def guarded_array(values: np.ndarray, *, at_start: bool = False, unaligned: bool = False,
                  readonly: bool = False) -> np.ndarray:
    """A read-only contiguous 1-D copy of ``values`` (not object or StringDType)
    whose last element ends at a guard page, or with ``at_start`` whose first
    element starts right after one. ``unaligned`` moves it one byte off its
    natural alignment: then one byte separates its end from the guard."""
    raw = np.ascontiguousarray(values).reshape(-1).tobytes()
    pad = b"\0" if unaligned else b""
    if at_start:
        memory, start = Guarded(pad + raw, at_start=True, readonly=readonly), len(pad)
    else:
        memory, start = Guarded(raw + pad, readonly=readonly), 0
    return memory.numpy(values.dtype, count=values.size, offset=start)
