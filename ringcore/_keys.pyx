"""Keys and their hashes: key batches in array memory (KeyBatch), keys in
lists, and the hashers that turn them into ring positions per dialect.

The C below this module (ext/rc_keys.h, ext/rc_hash.h) reads keys and hashes
them without the GIL; this module measures and checks everything it hands to
that C, and raises the errors the kernels report.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_GET_SIZE
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.object cimport PyObject
from cpython.long cimport PyLong_AsLongLongAndOverflow, PyLong_AsUnsignedLongLong
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t, uintptr_t
from libc.stdlib cimport free, malloc

import numpy as np

from ringcore._cdefs cimport *
from ringcore._config import HASH_SPACE as _HASH_SPACE, int_value
from ringcore._null import NULL as NULL_KEY
from ringcore.errors import NullKeyError, batch_item_error, null_key_error


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


cdef enum:
    # How many list items ahead to prefetch the key objects.
    PREFETCH_AHEAD = 16

cdef object _np_integer = np.integer


cdef inline bint _is_np_integer(object value):
    # By type: an object's __class__ attribute cannot make it a numpy integer.
    return issubclass(type(value), _np_integer)
cdef object _TWO_64 = _HASH_SPACE


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


cdef int _hash_str(const rc_dialect *spec, object key, uint64_t *out) except -1:
    """The hash of the UTF-8 of a str, encoded here rather than by
    PyUnicode_AsUTF8, which would keep a UTF-8 copy inside every key."""
    cdef PyObject *text = <PyObject *>key
    cdef size_t length = <size_t>_str_length(text)
    if _is_ascii(text):
        out[0] = rc_hash_bytes(spec, _str_data(text), length)
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
        out[0] = rc_hash_bytes(spec, buffer, <size_t>written)
    if buffer != stack_buffer:
        free(buffer)
    if written < 0:
        str.encode(key, "utf-8")  # raises the UnicodeEncodeError for the surrogate
        raise ValueError("str key has no UTF-8 encoding")
    return 0


cdef int hash_object(const rc_dialect *spec, object key, uint64_t *out) except -1:
    """The hash of one key (SPEC.md 1-2)."""
    cdef uint64_t value
    if isinstance(key, str):
        return _hash_str(spec, key, out)
    if isinstance(key, bytes):
        out[0] = rc_hash_bytes(spec, PyBytes_AS_STRING(key), <size_t>PyBytes_GET_SIZE(key))
        return 0
    if isinstance(key, int):
        if isinstance(key, bool):
            raise TypeError("unsupported key type bool")
        _int_key_value(key, &value)
        out[0] = rc_hash_int(spec, value)
        return 0
    if isinstance(key, bytearray):
        out[0] = rc_hash_bytes(spec, PyByteArray_AS_STRING(key),
                               <size_t>PyByteArray_GET_SIZE(key))
        return 0
    if isinstance(key, memoryview):
        return hash_object(spec, key.tobytes(), out)
    if _is_np_integer(key):
        return hash_object(spec, int(key), out)
    raise TypeError(f"unsupported key type {type(key).__name__}")


cdef object batch_error(Exception err, object index):
    return batch_item_error(err, index)


cdef object null_error(object index, int purpose):
    return null_key_error(index, purpose == FOR_ROUTING)


cdef int hash_range(const rc_dialect *spec, list keys, Py_ssize_t start, Py_ssize_t stop,
                    uint64_t *out, uint8_t *is_null, int purpose) except -1:
    """out[i - start] = hash of keys[i]. A null marker (NULL_KEY) is a
    NullKeyError, unless is_null is given: then it and None are marked there."""
    cdef Py_ssize_t i = start, size
    cdef PyObject *item
    cdef bint null
    # MD5 and OAAT hash many keys side by side (rc_lanes.h): the group copies
    # each ASCII str's bytes in at once and writes its hash when its lanes run
    cdef bint grouped = spec.hash != RC_HASH_XXH3_64
    cdef rc_hash_group group
    if grouped:
        rc_hash_group_init(&group, spec)
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
                if grouped:
                    rc_hash_group_add(&group, _str_data(item), <size_t>_str_length(item),
                                      &out[i - start])
                else:
                    out[i - start] = rc_hash_bytes(spec, _str_data(item),
                                                   <size_t>_str_length(item))
            else:
                key = <object>item  # a new reference: the code below may run Python
                if key is NULL_KEY or (is_null != NULL and key is None):
                    if is_null == NULL:
                        raise null_error(i, purpose)
                    null = True
                    out[i - start] = 0
                elif key is None and purpose == FOR_ROUTING:
                    raise TypeError("unsupported key type NoneType (pass null=<int> to "
                                    "route None and nulls to that value)")
                else:
                    hash_object(spec, key, &out[i - start])
            if is_null != NULL:
                is_null[i - start] = null
            i += 1
        if grouped:
            rc_hash_group_flush(&group)
    except NullKeyError:
        raise
    except (TypeError, ValueError, OverflowError) as err:
        raise batch_error(err, i) from None
    return 0


cdef object _byte_view(data, str who):
    """data (bytes-like, not str) as a C-contiguous memoryview of bytes."""
    if isinstance(data, str):
        raise TypeError(f"{who} takes bytes, not str: encode it first "
                        "(hash_key(key) hashes a str key as its UTF-8)")
    try:
        view_of_data = memoryview(data)
    except TypeError:
        raise TypeError(f"{who} takes a bytes-like object, not {type(data).__name__}") from None
    if not view_of_data.c_contiguous:
        view_of_data = memoryview(view_of_data.tobytes())
    return view_of_data.cast("B") if view_of_data.nbytes else memoryview(b"")


def xxh3_64(data) -> int:
    """XXH3-64 (seed 0) of a bytes-like object."""
    cdef const unsigned char[::1] view = _byte_view(data, "xxh3_64")
    if view.shape[0] == 0:
        return rc_xxh3_64(b"", 0)
    return rc_xxh3_64(&view[0], <size_t>view.shape[0])


def md5(data) -> bytes:
    """The 16-byte MD5 digest (RFC 1321) of a bytes-like object, from the
    project's own C (the ketama dialects hash with it)."""
    cdef const unsigned char[::1] view = _byte_view(data, "md5")
    cdef unsigned char digest[16]
    if view.shape[0] == 0:
        rc_md5(b"", 0, digest)
    else:
        rc_md5(&view[0], <size_t>view.shape[0], digest)
    return digest[:16]


def _lanes_force(int kind) -> bool:
    """rc_lanes_force on this module's own copy of the C (see ringcore._lanes)."""
    return rc_lanes_force(kind) == RC_OK


def _lanes_state() -> tuple:
    """(the kinds this module's C can run here, the kind it runs)."""
    return (tuple(k for k in range(<int>RC_LANES_AVX512 + 1)
                  if rc_lanes_available(<rc_lanes_kind>k)),
            <int>rc_lanes_level())


cdef int check_list_size(list keys, Py_ssize_t expected) except -1:
    if len(keys) != expected:
        raise RuntimeError("the list of keys changed size while it was being read "
                           f"({expected} keys expected, {len(keys)} found)")
    return 0


def hashes_from_list(list hashes not None, uint64_t[::1] out not None) -> None:
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


cdef class Hasher:
    """The hashing of one dialect: its hash function (for key bytes and int
    keys), its point rule and its ring width, as the C kernels take them."""

    def __cinit__(self, int hash_kind, int points_kind, int hash_bits):
        self.spec.hash = <rc_hash_kind>hash_kind
        self.spec.points = <rc_points_kind>points_kind
        self.spec.hash_bits = hash_bits
        if rc_dialect_check(&self.spec) != RC_OK:
            raise ValueError(f"Hasher: this build has no hash {hash_kind} with points "
                             f"{points_kind} on a {hash_bits}-bit ring")

    @property
    def hash_bits(self) -> int:
        return self.spec.hash_bits

    def __reduce__(self):
        return (Hasher, (<int>self.spec.hash, <int>self.spec.points, self.spec.hash_bits))

    def hash_key(self, key) -> int:
        """The ring hash of one key (SPEC.md 1-2)."""
        cdef uint64_t h
        hash_object(&self.spec, key, &h)
        return h

    def hash_list(self, list keys not None, uint64_t[::1] out not None) -> None:
        """out[i] = hash of keys[i] for a list of keys (nulls are an error)."""
        cdef Py_ssize_t n = out.shape[0]
        check_list_size(keys, n)
        if n:
            hash_range(&self.spec, keys, 0, n, &out[0], NULL, FOR_HASHING)
        check_list_size(keys, n)

    def hash_batch(self, KeyBatch batch not None, uint64_t[::1] out not None, Py_ssize_t start,
                   Py_ssize_t stop) -> None:
        """out = hashes of keys [start, stop) of the batch (nulls are an error)."""
        check_range(batch, out.shape[0], start, stop)
        if start == stop:
            return
        cdef size_t bad = 0
        cdef rc_status status
        cdef uint8_t *scratch = batch_scratch(batch)
        with nogil:
            status = rc_hash_keys(&self.spec, &batch.keys, <size_t>start, <size_t>stop, &out[0],
                                  NULL, &bad, scratch)
        free(scratch)
        if status != RC_OK:
            batch.raise_for(status, bad, FOR_HASHING)

    def node_points(self, bytes name, uint32_t count):
        """Positions of a node's points 0 .. count-1, in point order (SPEC.md 3)."""
        cdef Py_ssize_t name_len = len(name)
        cdef size_t scratch_len = rc_node_points_scratch_len(&self.spec, <size_t>name_len)
        out = np.empty(count, dtype=np.uint64)
        cdef uint64_t[::1] out_view = out
        scratch = bytearray(scratch_len)
        cdef char *scratch_ptr = PyByteArray_AS_STRING(scratch)
        cdef const char *name_ptr = name
        cdef rc_status status
        with nogil:
            status = rc_node_points(&self.spec, name_ptr, <size_t>name_len, count, scratch_ptr,
                                    scratch_len, &out_view[0] if count else NULL)
        if status != RC_OK:
            raise ValueError(f"cannot place {count} points for a name of {name_len} bytes")
        return out


cdef class KeyBatch:
    """Where the keys of one batch live in array memory (a numpy array or one
    Arrow array), described for the C kernels, with the objects that own that
    memory kept alive. Everything the kernels may read is measured here from
    numpy's own array object or from the buffer protocol, never from Python
    attributes a caller could fake, and every length is checked against it."""

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
            raise null_error(index, purpose)
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
        return batch_error(err, index)
    return ValueError(f"keys[{index}]: the text has no UTF-8")


cdef int check_range(KeyBatch batch, Py_ssize_t out_len, Py_ssize_t start,
                      Py_ssize_t stop) except -1:
    if not 0 <= start <= stop <= <Py_ssize_t>batch.keys.n:
        raise ValueError(f"range [{start}, {stop}) is outside the batch of {batch.keys.n}")
    if out_len != stop - start:
        raise ValueError("out must have one slot per key of the range")
    return 0


cdef uint8_t *batch_scratch(KeyBatch batch) except? NULL:
    cdef size_t length = rc_keys_scratch_len(&batch.keys)
    if length == 0:
        return NULL
    cdef uint8_t *scratch = <uint8_t *>malloc(length)
    if scratch == NULL:
        raise MemoryError()
    return scratch


cdef Hasher DEFAULT_HASHER = Hasher(RC_HASH_XXH3_64, RC_POINTS_NAME_HASH_J, 64)


cdef Hasher default_hasher():
    """The hasher of the default dialect (docs/SPEC.md)."""
    return DEFAULT_HASHER


def hash_key(key) -> int:
    """The ring hash of one key in the default dialect (SPEC.md 1-2)."""
    cdef uint64_t h
    hash_object(&DEFAULT_HASHER.spec, key, &h)
    return h


# The C enums a dialect names (ringcore.dialects).
HASH_XXH3_64 = RC_HASH_XXH3_64
HASH_MD5_LOW32 = RC_HASH_MD5_LOW32
HASH_OAAT = RC_HASH_OAAT
POINTS_NAME_HASH_J = RC_POINTS_NAME_HASH_J
POINTS_KETAMA = RC_POINTS_KETAMA
POINTS_OAAT_NAME_I = RC_POINTS_OAAT_NAME_I
