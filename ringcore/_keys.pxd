# What ringcore._layout uses of ringcore._keys.

from libc.stdint cimport uint8_t, uint64_t

from ringcore._cdefs cimport rc_dialect, rc_keys


cdef enum:
    # What a batch of keys is read for, to give errors the right hint.
    FOR_HASHING = 0
    FOR_ROUTING = 1


cdef class Hasher:
    cdef rc_dialect spec


cdef class KeyBatch:
    cdef rc_keys keys
    cdef readonly object source     # the array, for error messages
    cdef readonly object first      # index of key 0 in the whole input
    cdef list _alive
    cdef object _buffer_ptrs
    cdef object _buffer_lens
    cdef int _finish(self, source, first, list alive) except -1
    cdef int raise_for(self, int status, size_t bad, int purpose) except -1


cdef int hash_object(const rc_dialect *spec, object key, uint64_t *out) except -1
cdef int hash_range(const rc_dialect *spec, list keys, Py_ssize_t start, Py_ssize_t stop,
                    uint64_t *out, uint8_t *is_null, int purpose) except -1
cdef int check_list_size(list keys, Py_ssize_t expected) except -1
cdef int check_range(KeyBatch batch, Py_ssize_t out_len, Py_ssize_t start,
                     Py_ssize_t stop) except -1
cdef uint8_t *batch_scratch(KeyBatch batch) except? NULL
cdef object batch_error(Exception err, object index)
cdef Hasher default_hasher()
