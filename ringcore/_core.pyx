"""Compiled core of ringcore: key hashing and ring lookups.

The facade (ringcore.ring) validates and converts inputs; this module turns
keys into hashes and hashes into owners. Array kernels run without the GIL.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.list cimport PyList_New, PyList_SET_ITEM
from cpython.ref cimport Py_INCREF
from cpython.object cimport PyObject
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_AsUnsignedLongLong
from libc.stdint cimport UINT64_MAX, int32_t, int64_t, uint8_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset
from cpython.pyport cimport PY_SSIZE_T_MAX

import numpy as np

from ringcore._config import check_replica_range, check_replica_type, int_value
from ringcore._null import NULL as NULL_KEY
from ringcore.errors import EmptyRingError, NullKeyError


cdef extern from "Python.h":
    # These take PyObject *, so the list loop can look at an item through its
    # borrowed reference: an exact, ASCII str is hashed without running any
    # Python code, so nothing can free it in between.
    PyObject *_list_item "PyList_GET_ITEM" (object, Py_ssize_t)
    bint _is_exact_str "PyUnicode_CheckExact" (PyObject *)
    bint _is_ascii "PyUnicode_IS_ASCII" (PyObject *)
    int _str_kind "PyUnicode_KIND" (PyObject *)
    void *_str_data "PyUnicode_DATA" (PyObject *)
    Py_ssize_t _str_length "PyUnicode_GET_LENGTH" (PyObject *)


cdef extern from "rc_prefetch.h":
    void rc_prefetch_object(const void *p) noexcept nogil


cdef extern from "rc_utf8.h":
    size_t rc_utf8_capacity(int kind, size_t length) noexcept nogil
    int64_t rc_utf8_encode(int kind, const void *data, size_t length, uint8_t *out) noexcept nogil


cdef extern from "rc_xxh3.h":
    uint64_t rc_xxh3_64(const void *data, size_t length) noexcept nogil
    uint64_t rc_xxh3_64_u64(uint64_t v) noexcept nogil


cdef extern from "rc_ring.h":
    ctypedef struct rc_ring:
        const uint64_t *positions
        const int32_t *owners
        const uint32_t *table
        uint32_t npoints
        int bits
    int RC_OK
    int RC_ERR_NOMEM
    int RC_ERR_NULL
    int RC_ERR_KEY
    int RC_MAX_POINTS
    int rc_table_bits(uint32_t npoints) noexcept nogil
    int rc_build_table(const uint64_t *positions, size_t npoints, int bits,
                       uint32_t *table, size_t table_len) noexcept nogil
    int rc_ring_validate(const rc_ring *ring, size_t table_len, int32_t nnodes) noexcept nogil
    uint32_t rc_ring_search(const rc_ring *ring, uint64_t h) noexcept nogil
    int32_t rc_ring_owner(const rc_ring *ring, uint64_t h) noexcept nogil
    void rc_route_hashes(const rc_ring *ring, const uint64_t *hashes, size_t n,
                         int32_t *out) noexcept nogil
    int rc_node_points(const char *name, size_t name_len, uint32_t count,
                       char *scratch, size_t scratch_len, uint64_t *out) noexcept nogil
    int rc_merge_points(const uint64_t *old_pos, const int32_t *old_own, size_t n_old,
                        const uint64_t *new_pos, size_t n_new, int32_t new_owner,
                        const uint8_t *new_sorts_first, size_t nnodes,
                        uint64_t *out_pos, int32_t *out_own, size_t out_len) noexcept nogil
    int rc_sort_points(uint64_t *pos, int32_t *own, size_t n, uint64_t *tmp_pos,
                       int32_t *tmp_own) noexcept nogil
    int64_t rc_ring_walk(const rc_ring *ring, uint32_t start, size_t want,
                         uint8_t *seen, size_t nnodes, int32_t *out) noexcept nogil


cdef extern from "rc_keys.h":
    ctypedef enum rc_keys_kind:
        RC_KEYS_INT, RC_KEYS_FIXED, RC_KEYS_UCS4, RC_KEYS_OFFSETS32, RC_KEYS_OFFSETS64,
        RC_KEYS_VIEWS
    ctypedef struct rc_keys:
        rc_keys_kind kind
        size_t n
        const char *base
        Py_ssize_t stride
        size_t width
        int is_signed
        int swap
        int strip_nuls
        const void *offsets
        size_t data_len
        const char *const *buffers
        const int64_t *buffer_lens
        size_t nbuffers
        const uint8_t *validity
        size_t validity_offset
    int rc_keys_check(const rc_keys *keys) noexcept nogil
    size_t rc_keys_scratch_len(const rc_keys *keys) noexcept nogil
    int rc_keys_hash(const rc_keys *keys, size_t start, size_t stop, uint64_t *out,
                     uint8_t *is_null, size_t *bad, uint8_t *scratch) noexcept nogil
    int rc_keys_route(const rc_ring *ring, const rc_keys *keys, size_t start, size_t stop,
                      int32_t *out, int allow_nulls, int32_t null_owner, size_t *bad,
                      uint8_t *scratch) noexcept nogil


cdef enum:
    # Keys hashed per chunk before their lookups, so the hashes stay in L1.
    CHUNK = 1024
    # How many list items ahead to prefetch the key objects.
    PREFETCH_AHEAD = 16

cdef object _np_integer = np.integer


cdef inline bint _is_np_integer(object value):
    # By type: an object's __class__ attribute cannot make it a numpy integer.
    return issubclass(type(value), _np_integer)
cdef object _TWO_64 = 2**64


cdef int _int_key_value(object key, uint64_t *out) except -1:
    """The value of an int key modulo 2**64 (SPEC.md 1). Only the int's own
    value is read: no method of an int subclass runs."""
    cdef int overflow = 0
    cdef long long value = PyLong_AsLongLongAndOverflow(key, &overflow)
    if overflow == 0:
        out[0] = <uint64_t>value
        return 0
    if overflow > 0:
        try:
            out[0] = PyLong_AsUnsignedLongLong(key)
            return 0
        except OverflowError:
            pass
    raise OverflowError(f"int key {int.__index__(key)} is outside [-2**63, 2**64)")


cdef int _hash_str(object key, uint64_t *out) except -1:
    """XXH3-64 of the UTF-8 of a str, encoded here rather than by
    PyUnicode_AsUTF8, which would keep a UTF-8 copy inside every key."""
    cdef PyObject *text = <PyObject *>key
    cdef size_t length = <size_t>_str_length(text)
    if _is_ascii(text):
        out[0] = rc_xxh3_64(_str_data(text), length)
        return 0
    cdef int kind = _str_kind(text)
    cdef uint8_t stack_buffer[1024]
    cdef uint8_t *buffer = stack_buffer
    cdef size_t capacity = rc_utf8_capacity(kind, length)
    if capacity > sizeof(stack_buffer):
        buffer = <uint8_t *>malloc(capacity)
        if buffer == NULL:
            raise MemoryError()
    cdef int64_t written = rc_utf8_encode(kind, _str_data(text), length, buffer)
    if written >= 0:
        out[0] = rc_xxh3_64(buffer, <size_t>written)
    if buffer != stack_buffer:
        free(buffer)
    if written < 0:
        str.encode(key, "utf-8")  # raises the UnicodeEncodeError for the surrogate
        raise ValueError("str key has no UTF-8 encoding")
    return 0


cdef int _hash_object(object key, uint64_t *out) except -1:
    """XXH3-64 of the bytes of one key (SPEC.md 1-2)."""
    cdef uint64_t value
    if isinstance(key, str):
        return _hash_str(key, out)
    if isinstance(key, bytes):
        out[0] = rc_xxh3_64(PyBytes_AS_STRING(key), <size_t>PyBytes_GET_SIZE(key))
        return 0
    if isinstance(key, int):
        if isinstance(key, bool):
            raise TypeError("unsupported key type bool")
        _int_key_value(key, &value)
        out[0] = rc_xxh3_64_u64(value)
        return 0
    if isinstance(key, bytearray):
        out[0] = rc_xxh3_64(PyByteArray_AS_STRING(key), <size_t>PyByteArray_GET_SIZE(key))
        return 0
    if isinstance(key, memoryview):
        return _hash_object(key.tobytes(), out)
    if _is_np_integer(key):
        return _hash_object(int(key), out)
    raise TypeError(f"unsupported key type {type(key).__name__}")


cdef object _batch_error(Exception err, object index):
    """The same kind of error (the builtin class: a subclass's constructor
    may take other arguments), naming the position of the key in its batch."""
    if isinstance(err, UnicodeEncodeError):
        return UnicodeEncodeError(err.encoding, err.object, err.start, err.end,
                                  f"{err.reason} (keys[{index}])")
    kind = OverflowError if isinstance(err, OverflowError) else (
        TypeError if isinstance(err, TypeError) else ValueError)
    return kind(f"keys[{index}]: {err}")


cdef enum:
    # What a batch of keys is read for, to give errors the right hint.
    FOR_HASHING = 0
    FOR_ROUTING = 1


cdef object _null_error(object index, int purpose):
    if purpose == FOR_HASHING:
        return NullKeyError(index, f"keys[{index}] is null; hash_keys takes no nulls "
                                   "(drop them first, or use route(..., null=<int>))")
    return NullKeyError(index)


cdef int _hash_range(list keys, Py_ssize_t start, Py_ssize_t stop, uint64_t *out,
                     uint8_t *is_null, int purpose) except -1:
    """out[i - start] = hash of keys[i]. A null marker (NULL_KEY) is a
    NullKeyError, unless is_null is given: then it and None are marked there."""
    cdef Py_ssize_t i = start, size
    cdef PyObject *item
    cdef bint null
    try:
        while i < stop:
            size = len(keys)
            if i >= size:
                raise RuntimeError("the list of keys changed size while it was being read")
            if i + PREFETCH_AHEAD < size:
                rc_prefetch_object(_list_item(keys, i + PREFETCH_AHEAD))
            item = _list_item(keys, i)
            null = False
            if _is_exact_str(item) and _is_ascii(item):
                out[i - start] = rc_xxh3_64(_str_data(item), <size_t>_str_length(item))
            else:
                key = <object>item  # a new reference: the code below may run Python
                if key is NULL_KEY or (is_null != NULL and key is None):
                    if is_null == NULL:
                        raise _null_error(i, purpose)
                    null = True
                    out[i - start] = 0
                elif key is None and purpose == FOR_ROUTING:
                    raise TypeError("unsupported key type NoneType (pass null=<int> to "
                                    "route None and nulls to that value)")
                else:
                    _hash_object(key, &out[i - start])
            if is_null != NULL:
                is_null[i - start] = null
            i += 1
    except NullKeyError:
        raise
    except (TypeError, ValueError, OverflowError) as err:
        raise _batch_error(err, i) from None
    return 0


def xxh3_64(data) -> int:
    """XXH3-64 (seed 0) of a bytes-like object."""
    if isinstance(data, str):
        raise TypeError("xxh3_64 takes bytes, not str: encode it first "
                        "(hash_key(key) hashes a str key as its UTF-8)")
    try:
        view_of_data = memoryview(data)
    except TypeError:
        raise TypeError(f"xxh3_64 takes a bytes-like object, not {type(data).__name__}") from None
    if view_of_data.nbytes == 0:
        return rc_xxh3_64(b"", 0)
    if not view_of_data.c_contiguous:
        view_of_data = memoryview(view_of_data.tobytes())
    cdef const unsigned char[::1] view = view_of_data.cast("B")
    if view.shape[0] == 0:
        return rc_xxh3_64(b"", 0)
    return rc_xxh3_64(&view[0], <size_t>view.shape[0])


def hash_key(key) -> int:
    """The ring hash of one key (SPEC.md 1-2)."""
    cdef uint64_t h
    _hash_object(key, &h)
    return h


cdef int _check_list_size(list keys, Py_ssize_t expected) except -1:
    if len(keys) != expected:
        raise RuntimeError("the list of keys changed size while it was being read "
                           f"({expected} keys expected, {len(keys)} found)")
    return 0


def hash_list(list keys, uint64_t[::1] out) -> None:
    """out[i] = hash of keys[i] for a list of keys."""
    cdef Py_ssize_t n = out.shape[0]
    _check_list_size(keys, n)
    if n:
        _hash_range(keys, 0, n, &out[0], NULL, FOR_HASHING)
    _check_list_size(keys, n)


def hashes_from_list(list hashes, uint64_t[::1] out) -> None:
    """out[i] = hashes[i], each an int in [0, 2**64)."""
    cdef Py_ssize_t i, n = len(hashes)
    if out.shape[0] != n:
        raise ValueError("out must have one slot per hash")
    for i in range(n):
        if i >= len(hashes):
            raise RuntimeError("the list of hashes shrank while it was being read")
        value = hashes[i]
        if isinstance(value, bool) or not (isinstance(value, int) or _is_np_integer(value)):
            raise TypeError(f"hashes[{i}]: a hash must be an int, not {type(value).__name__}")
        value = int_value(value)
        if not 0 <= value < _TWO_64:
            raise ValueError(f"hashes[{i}]: {value} is outside [0, 2**64)")
        out[i] = <uint64_t>value


def node_points(bytes name, uint32_t count):
    """Positions of a node's points 0 .. count-1, in j order (SPEC.md 3)."""
    cdef Py_ssize_t name_len = len(name)
    out = np.empty(count, dtype=np.uint64)
    cdef uint64_t[::1] out_view = out
    scratch = bytearray(name_len + 11)
    cdef char *scratch_ptr = PyByteArray_AS_STRING(scratch)
    cdef const char *name_ptr = name
    cdef int status
    with nogil:
        status = rc_node_points(name_ptr, <size_t>name_len, count, scratch_ptr,
                                <size_t>(name_len + 11), &out_view[0] if count else NULL)
    if status != RC_OK:
        raise ValueError(f"cannot place {count} points for a name of {name_len} bytes")
    return out


def sort_points(uint64_t[::1] positions, int32_t[::1] owners) -> None:
    """Sort points by position in place; equal positions keep their order."""
    cdef Py_ssize_t n = positions.shape[0]
    if owners.shape[0] != n:
        raise ValueError("positions and owners differ in length")
    if n == 0:
        return
    tmp_pos = np.empty(n, dtype=np.uint64)
    tmp_own = np.empty(n, dtype=np.int32)
    cdef uint64_t[::1] tmp_pos_view = tmp_pos
    cdef int32_t[::1] tmp_own_view = tmp_own
    cdef int status
    with nogil:
        status = rc_sort_points(&positions[0], &owners[0], <size_t>n, &tmp_pos_view[0],
                                &tmp_own_view[0])
    if status != RC_OK:
        raise MemoryError() if status == RC_ERR_NOMEM else ValueError("sort_points: too many points")


def merge_points(const uint64_t[::1] old_pos, const int32_t[::1] old_own,
                 const uint64_t[::1] new_pos, int32_t new_owner,
                 const uint8_t[::1] new_sorts_first):
    """Merge a new node's sorted points into ring order (SPEC.md 4)."""
    cdef Py_ssize_t n_old = old_pos.shape[0], n_new = new_pos.shape[0]
    if old_own.shape[0] != n_old:
        raise ValueError("positions and owners differ in length")
    out_pos = np.empty(n_old + n_new, dtype=np.uint64)
    out_own = np.empty(n_old + n_new, dtype=np.int32)
    cdef uint64_t[::1] pos_view = out_pos
    cdef int32_t[::1] own_view = out_own
    cdef int status
    with nogil:
        status = rc_merge_points(
            &old_pos[0] if n_old else NULL, &old_own[0] if n_old else NULL, <size_t>n_old,
            &new_pos[0] if n_new else NULL, <size_t>n_new, new_owner,
            &new_sorts_first[0] if new_sorts_first.shape[0] else NULL,
            <size_t>new_sorts_first.shape[0],
            &pos_view[0] if n_old + n_new else NULL,
            &own_view[0] if n_old + n_new else NULL, <size_t>(n_old + n_new))
    if status != RC_OK:
        raise ValueError("merge_points: inconsistent ring arrays")
    return out_pos, out_own


cdef class KeyBatch:
    """Where the keys of one batch live in array memory (a numpy array or one
    Arrow array), described for the C kernels, with the objects that own that
    memory kept alive. Everything the kernels may read is measured here from
    numpy's own array object or from the buffer protocol, never from Python
    attributes a caller could fake, and every length is checked against it."""

    cdef rc_keys keys
    cdef readonly object source     # the array, for error messages
    cdef readonly object first      # index of key 0 in the whole input
    cdef list _alive
    cdef object _buffer_ptrs
    cdef object _buffer_lens

    def __len__(self):
        return <Py_ssize_t>self.keys.n

    @staticmethod
    def from_numpy(values, first=0):
        """A 1-D numpy array of integers, S bytes or U text, any byte order,
        alignment or stride. An ndarray subclass is read as the plain ndarray
        it is; its Python-level hooks are not used."""
        cdef KeyBatch batch = KeyBatch.__new__(KeyBatch)
        if not issubclass(type(values), np.ndarray):
            raise TypeError(f"KeyBatch.from_numpy needs a numpy array, not {type(values).__name__}")
        values = _ndarray_view(values, np.ndarray)
        if values.ndim != 1:
            raise ValueError("KeyBatch.from_numpy needs a 1-D array")
        dtype = values.dtype
        kind = dtype.kind
        if kind in "iu":
            batch.keys.kind = RC_KEYS_INT
            batch.keys.is_signed = kind == "i"
            batch.keys.swap = not dtype.isnative
        elif kind == "S":
            batch.keys.kind = RC_KEYS_FIXED
            batch.keys.strip_nuls = 1
        elif kind == "U":
            batch.keys.kind = RC_KEYS_UCS4
            batch.keys.swap = not dtype.isnative
        else:
            raise TypeError(f"KeyBatch.from_numpy cannot read dtype {dtype}")
        batch.keys.n = <size_t>values.shape[0]
        batch.keys.stride = values.strides[0]
        batch.keys.width = <size_t>dtype.itemsize
        batch.keys.base = <const char *><uintptr_t>values.__array_interface__["data"][0]
        batch._finish(values, first, [values])
        return batch

    @staticmethod
    def from_arrow(str layout, n, offset, validity, main, data=None,
                   list view_buffers=None, width=0, bint is_signed=False, source=None,
                   first=0):
        """One Arrow array from its buffers (pyarrow.Buffer, or any object with
        the buffer protocol, or None).

        layout: "int" (main = values, `width` bytes each), "fixed" (main =
        values, `width` bytes each, read whole: fixed_size_binary), "offsets32"
        or "offsets64" (main = offsets, data = value bytes), "views" (main =
        the 16-byte views, view_buffers = the data buffers)."""
        cdef KeyBatch batch = KeyBatch.__new__(KeyBatch)
        cdef list alive = []
        n, offset, width = _index(n, "length"), _index(offset, "offset"), _index(width, "width")
        cdef const char *main_ptr
        cdef const char *other_ptr
        main_len = _hold_buffer(main, alive, &main_ptr)
        if layout in ("int", "fixed"):
            if layout == "int":
                if width not in (1, 2, 4, 8):
                    raise ValueError("KeyBatch.from_arrow: integer width must be 1, 2, 4 or 8")
                batch.keys.kind = RC_KEYS_INT
                batch.keys.is_signed = is_signed
            else:
                batch.keys.kind = RC_KEYS_FIXED
            batch.keys.width = <size_t>width
            batch.keys.stride = <Py_ssize_t>width
            unit, needed = width, (offset + n) * width
        elif layout in ("offsets32", "offsets64"):
            batch.keys.kind = RC_KEYS_OFFSETS32 if layout == "offsets32" else RC_KEYS_OFFSETS64
            unit = 4 if layout == "offsets32" else 8
            needed = (offset + n + 1) * unit if n else 0
            batch.keys.data_len = <size_t>_hold_buffer(data, alive, &other_ptr)
            batch.keys.base = other_ptr
        elif layout == "views":
            batch.keys.kind = RC_KEYS_VIEWS
            unit, needed = 16, (offset + n) * 16
            addresses, lengths = [], []
            for buffer in view_buffers or ():
                lengths.append(_hold_buffer(buffer, alive, &other_ptr))
                addresses.append(<uintptr_t>other_ptr)
            batch._buffer_ptrs = np.array(addresses, dtype=np.uintp)
            batch._buffer_lens = np.array(lengths, dtype=np.int64)
            batch.keys.nbuffers = len(addresses)
            if addresses:
                batch.keys.buffers = <const char *const *><uintptr_t>batch._buffer_ptrs.ctypes.data
                batch.keys.buffer_lens = <const int64_t *><uintptr_t>batch._buffer_lens.ctypes.data
        else:
            raise ValueError(f"KeyBatch.from_arrow: unknown layout {layout!r}")
        # Python ints: the products and sums above cannot wrap.
        if n and main_len < needed:
            raise ValueError("KeyBatch.from_arrow: the values buffer is too short "
                             f"({main_len} bytes for {n} values at offset {offset})")
        batch.keys.n = <size_t>n
        if n:
            if batch.keys.kind in (RC_KEYS_OFFSETS32, RC_KEYS_OFFSETS64):
                batch.keys.offsets = main_ptr + <size_t>(offset * unit)
            else:
                batch.keys.base = main_ptr + <size_t>(offset * unit)
        if validity is not None and n:
            validity_len = _hold_buffer(validity, alive, &other_ptr)
            if validity_len * 8 < offset + n:
                raise ValueError("KeyBatch.from_arrow: the validity bitmap is too short")
            batch.keys.validity = <const uint8_t *>other_ptr
            batch.keys.validity_offset = <size_t>offset
        batch._finish(source, first, alive)
        return batch

    cdef int _finish(self, source, first, list alive) except -1:
        if rc_keys_check(&self.keys) != RC_OK:
            raise ValueError("KeyBatch: inconsistent description of the keys")
        self.source = source
        self.first = _index(first, "first")
        self._alive = alive
        return 0

    cdef int raise_for(self, int status, size_t bad, int purpose) except -1:
        """Raise the error a kernel reported for key `bad` of this batch."""
        index = self.first + bad
        if status == RC_ERR_NULL:
            raise _null_error(index, purpose)
        if status == RC_ERR_KEY:
            if self.keys.kind == RC_KEYS_UCS4:
                raise _ucs4_error(self.source, bad, index)
            raise ValueError(f"keys[{index}]: the array's offsets or views are invalid")
        raise ValueError(f"keys[{index}]: the kernel rejected the batch (status {status})")


cdef object _ndarray_view = np.ndarray.view
cdef char _empty_buffer[1]
cdef Py_ssize_t _MAX_INDEX = PY_SSIZE_T_MAX // 16


cdef object _index(value, str what):
    """A length, offset or width given to KeyBatch: an int in [0, 2**59)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"KeyBatch: {what} must be an int, not {type(value).__name__}")
    value = int.__index__(value)
    if not 0 <= value <= _MAX_INDEX:
        raise ValueError(f"KeyBatch: {what} {value} is out of range")
    return value


cdef Py_ssize_t _hold_buffer(buffer, list alive, const char **address) except -1:
    """The address and size of the memory a buffer exporter lends (for a
    pyarrow.Buffer, its data), kept in `alive` so it stays lent. None or an
    empty buffer gets a valid empty address."""
    address[0] = _empty_buffer
    if buffer is None:
        return 0
    cdef const unsigned char[::1] view
    try:
        view = memoryview(buffer).cast("B")
    except TypeError:
        raise TypeError(f"an Arrow buffer must be contiguous memory with the buffer "
                        f"protocol, not {type(buffer).__name__}") from None
    alive.append(view)
    if view.shape[0] == 0:
        return 0
    address[0] = <const char *>&view[0]
    return view.shape[0]


def _ucs4_error(array, Py_ssize_t bad, index):
    """The error for element `bad` of a numpy U array that has no UTF-8: a
    code point above U+10FFFF (ValueError) or a surrogate (UnicodeEncodeError).
    Read from the raw code points: numpy may not turn such an element into a str."""
    element = array[bad : bad + 1]
    codes = np.frombuffer(element.tobytes(), dtype=np.dtype(np.uint32).newbyteorder(
        element.dtype.byteorder)).tolist()
    while codes and codes[len(codes) - 1] == 0:  # no negative indices: wraparound is off
        codes.pop()
    for position, code in enumerate(codes):
        if code > 0x10FFFF:
            return ValueError(f"keys[{index}]: code point {code:#x} at position {position} "
                              "is above U+10FFFF and has no UTF-8")
    try:
        "".join(map(chr, codes)).encode("utf-8")
    except UnicodeEncodeError as err:
        return _batch_error(err, index)
    return ValueError(f"keys[{index}]: the text has no UTF-8")


def hash_batch(KeyBatch batch, uint64_t[::1] out, Py_ssize_t start, Py_ssize_t stop) -> None:
    """out = hashes of keys [start, stop) of the batch (nulls are an error)."""
    _check_range(batch, out.shape[0], start, stop)
    if start == stop:
        return
    cdef size_t bad = 0
    cdef int status
    cdef uint8_t *scratch = _scratch(batch)
    with nogil:
        status = rc_keys_hash(&batch.keys, <size_t>start, <size_t>stop, &out[0], NULL, &bad,
                              scratch)
    free(scratch)
    if status != RC_OK:
        batch.raise_for(status, bad, FOR_HASHING)


cdef int _check_batch(KeyBatch batch, Py_ssize_t start, Py_ssize_t stop,
                      bint allow_nulls) except -1:
    """Raise the error of the first bad key in [start, stop), if any."""
    cdef uint64_t hashes[CHUNK]
    cdef uint8_t nulls[CHUNK]
    cdef size_t bad = 0, lo, hi
    cdef int status = RC_OK
    cdef uint8_t *scratch = _scratch(batch)
    with nogil:
        lo = <size_t>start
        while lo < <size_t>stop and status == RC_OK:
            hi = min(lo + CHUNK, <size_t>stop)
            status = rc_keys_hash(&batch.keys, lo, hi, hashes, nulls if allow_nulls else NULL,
                                  &bad, scratch)
            lo = hi
    free(scratch)
    if status != RC_OK:
        batch.raise_for(status, bad, FOR_ROUTING)
    return 0


cdef int _check_range(KeyBatch batch, Py_ssize_t out_len, Py_ssize_t start,
                      Py_ssize_t stop) except -1:
    if not 0 <= start <= stop <= <Py_ssize_t>batch.keys.n:
        raise ValueError(f"range [{start}, {stop}) is outside the batch of {batch.keys.n}")
    if out_len != stop - start:
        raise ValueError("out must have one slot per key of the range")
    return 0


cdef uint8_t *_scratch(KeyBatch batch) except? NULL:
    cdef size_t length = rc_keys_scratch_len(&batch.keys)
    if length == 0:
        return NULL
    cdef uint8_t *scratch = <uint8_t *>malloc(length)
    if scratch == NULL:
        raise MemoryError()
    return scratch


cdef class RingState:
    """One immutable version of a ring: the point arrays, the guide table and
    the node names. The facade swaps a whole new state in on every update."""

    cdef readonly tuple names
    cdef readonly tuple weights
    cdef readonly dict index         # name -> position in names
    cdef readonly object positions   # read-only view of the points, ring order
    cdef readonly object owners      # read-only view: node index of each point
    cdef readonly object table
    cdef object _padded_positions    # positions + the UINT64_MAX sentinel
    cdef object _padded_owners       # owners + owners[0] (the wrap-around)
    cdef rc_ring ring

    def __cinit__(self, tuple names, tuple weights, positions, owners):
        cdef const uint64_t[::1] pos_in = positions
        cdef const int32_t[::1] own_in = owners
        cdef Py_ssize_t npoints = pos_in.shape[0]
        if own_in.shape[0] != npoints or len(weights) != len(names):
            raise ValueError("RingState: arrays or tuples differ in length")
        if npoints > RC_MAX_POINTS or len(names) > RC_MAX_POINTS:
            raise ValueError("RingState: too many points or nodes")
        if npoints and not names:
            raise ValueError("RingState: points without nodes")
        self.names = names
        self.weights = weights
        self.index = {name: i for i, name in enumerate(names)}
        cdef int bits = rc_table_bits(<uint32_t>npoints)
        cdef size_t table_len = (<size_t>1) << bits
        # The arrays live in bytes objects, filled here before anyone sees them:
        # no one can make them writeable and break what the kernels rely on.
        padded_positions = PyBytes_FromStringAndSize(NULL, (npoints + 1) * sizeof(uint64_t))
        padded_owners = PyBytes_FromStringAndSize(NULL, (npoints + 1) * sizeof(int32_t))
        table = PyBytes_FromStringAndSize(NULL, table_len * sizeof(uint32_t))
        cdef uint64_t *pos = <uint64_t *>PyBytes_AS_STRING(padded_positions)
        cdef int32_t *own = <int32_t *>PyBytes_AS_STRING(padded_owners)
        cdef uint32_t *table_ptr = <uint32_t *>PyBytes_AS_STRING(table)
        cdef int status = RC_OK
        cdef int32_t nnodes = <int32_t>len(names)
        with nogil:
            if npoints:
                memcpy(pos, &pos_in[0], npoints * sizeof(uint64_t))
                memcpy(own, &own_in[0], npoints * sizeof(int32_t))
            pos[npoints] = UINT64_MAX
            own[npoints] = own[0] if npoints else 0
            memset(table_ptr, 0, table_len * sizeof(uint32_t))
            self.ring.positions = pos
            self.ring.owners = own
            self.ring.table = table_ptr
            self.ring.npoints = <uint32_t>npoints
            self.ring.bits = bits
            if npoints:
                status = rc_build_table(pos, <size_t>npoints, bits, table_ptr, table_len)
                if status == RC_OK:
                    status = rc_ring_validate(&self.ring, table_len, nnodes)
        if status != RC_OK:
            raise ValueError("RingState: positions are not sorted or owners are out of range")
        self._padded_positions = np.frombuffer(padded_positions, dtype=np.uint64)
        self._padded_owners = np.frombuffer(padded_owners, dtype=np.int32)
        self.table = np.frombuffer(table, dtype=np.uint32)
        self.positions = self._padded_positions[:npoints]
        self.owners = self._padded_owners[:npoints]

    cdef inline int _check_not_empty(self) except -1:
        if self.ring.npoints == 0:
            raise EmptyRingError()
        return 0

    cdef str _get_node(self, key):
        cdef uint64_t h
        _hash_object(key, &h)
        self._check_not_empty()
        return <str>self.names[rc_ring_owner(&self.ring, h)]

    cdef list _get_nodes(self, key, object count):
        cdef uint64_t h
        _hash_object(key, &h)
        if type(count) is not int:
            count = check_replica_type(count)
        self._check_not_empty()
        cdef size_t nnodes = len(self.names)
        if count < 1 or count > nnodes:
            check_replica_range(count, nnodes)
        cdef size_t n = <size_t>count
        cdef uint8_t stack_seen[512]
        cdef int32_t stack_taken[512]
        cdef uint8_t *seen = stack_seen
        cdef int32_t *taken = stack_taken
        if nnodes > 512:
            seen = <uint8_t *>malloc(nnodes)
            taken = <int32_t *>malloc(nnodes * sizeof(int32_t))
        cdef int64_t found = -1
        cdef size_t i
        try:
            if seen == NULL or taken == NULL:
                raise MemoryError()
            memset(seen, 0, nnodes)
            found = rc_ring_walk(&self.ring, rc_ring_search(&self.ring, h), n, seen, nnodes, taken)
            if found != <int64_t>n:
                raise RuntimeError("ring walk found too few owners")
            result = PyList_New(n)
            for i in range(n):
                name = self.names[taken[i]]
                Py_INCREF(name)
                PyList_SET_ITEM(result, i, name)
            return result
        finally:
            if seen != stack_seen:
                free(seen)
                free(taken)

    def route_hashes(self, const uint64_t[::1] hashes, int32_t[::1] out) -> None:
        """out[i] = owner index of hashes[i]."""
        if out.shape[0] != hashes.shape[0]:
            raise ValueError("out must have one slot per hash")
        if hashes.shape[0] == 0:
            return
        self._check_not_empty()
        with nogil:
            rc_route_hashes(&self.ring, &hashes[0], <size_t>hashes.shape[0], &out[0])

    def route_list(self, list keys, int32_t[::1] out, bint allow_nulls=False,
                   int32_t null_owner=-1) -> None:
        """out[i] = owner index of keys[i] for a list of keys; with allow_nulls,
        a null or None key gets null_owner."""
        cdef Py_ssize_t n = out.shape[0], start, stop, i
        cdef uint64_t hashes[CHUNK]
        cdef uint8_t nulls[CHUNK]
        cdef uint8_t *is_null = nulls if allow_nulls else NULL
        _check_list_size(keys, n)
        if n == 0:
            return
        if self.ring.npoints == 0:
            for start in range(0, n, CHUNK):  # bad keys fail before the empty ring
                _hash_range(keys, start, min(start + CHUNK, n), hashes, is_null, FOR_ROUTING)
            self._check_not_empty()
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            _hash_range(keys, start, stop, hashes, is_null, FOR_ROUTING)
            rc_route_hashes(&self.ring, hashes, <size_t>(stop - start), &out[start])
            if allow_nulls:
                for i in range(stop - start):
                    if nulls[i]:
                        out[start + i] = null_owner
        _check_list_size(keys, n)

    def route_batch(self, KeyBatch batch, int32_t[::1] out, Py_ssize_t start, Py_ssize_t stop,
                    bint allow_nulls=False, int32_t null_owner=-1) -> None:
        """out = owner indices of keys [start, stop) of the batch, without the GIL."""
        _check_range(batch, out.shape[0], start, stop)
        if start == stop:
            return
        if self.ring.npoints == 0:
            _check_batch(batch, start, stop, allow_nulls)  # bad keys fail first
            self._check_not_empty()
        cdef size_t bad = 0
        cdef int status
        cdef uint8_t *scratch = _scratch(batch)
        with nogil:
            status = rc_keys_route(&self.ring, &batch.keys, <size_t>start, <size_t>stop,
                                   &out[0], allow_nulls, null_owner, &bad, scratch)
        free(scratch)
        if status != RC_OK:
            batch.raise_for(status, bad, FOR_ROUTING)


cdef class RingBase:
    """Base of the HashRing facade: holds the current RingState and answers
    single-key lookups with one call from Python into compiled code."""

    cdef RingState _current

    def __cinit__(self, *args, **kwargs):
        self._current = _EMPTY_STATE

    @property
    def _state(self) -> RingState:
        return self._current

    @_state.setter
    def _state(self, RingState state not None) -> None:
        self._current = state

    def get_node(self, key) -> str:
        """The node that owns key (str, bytes-like or int)."""
        # A local reference: another thread may swap in a new state meanwhile.
        cdef RingState state = self._current
        return state._get_node(key)

    def get_nodes(self, key, n) -> list:
        """The n distinct nodes clockwise from key: the owner first, then replicas."""
        cdef RingState state = self._current
        return state._get_nodes(key, n)


cdef RingState _EMPTY_STATE = RingState((), (), np.empty(0, dtype=np.uint64),
                                        np.empty(0, dtype=np.int32))
