# C declarations of the ringcore kernels (ext/*.h), shared by the Cython modules.

from libc.stdint cimport int32_t, int64_t, uint8_t, uint32_t, uint64_t


cdef extern from "rc_common.h":
    ctypedef enum rc_status:
        RC_OK
        RC_ERR_ARG
        RC_ERR_NOMEM
        RC_ERR_NULL
        RC_ERR_KEY
    uint32_t RC_MAX_POINTS
    void rc_prefetch_object(const void *p) noexcept nogil


cdef extern from "rc_utf8.h":
    size_t rc_utf8_capacity(int kind, size_t length) noexcept nogil
    int64_t rc_utf8_encode(int kind, const void *data, size_t length, uint8_t *out) noexcept nogil


cdef extern from "rc_xxh3.h":
    uint64_t rc_xxh3_64(const void *data, size_t length) noexcept nogil


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
    rc_status rc_keys_check(const rc_keys *keys) noexcept nogil
    size_t rc_keys_scratch_len(const rc_keys *keys) noexcept nogil


cdef extern from "rc_hash.h":
    ctypedef enum rc_hash_kind:
        RC_HASH_XXH3_64
        RC_HASH_MD5_LOW32
        RC_HASH_OAAT
    ctypedef enum rc_points_kind:
        RC_POINTS_NAME_HASH_J
        RC_POINTS_KETAMA
        RC_POINTS_OAAT_NAME_I
    ctypedef struct rc_dialect:
        rc_hash_kind hash
        rc_points_kind points
        int hash_bits
    rc_status rc_dialect_check(const rc_dialect *d) noexcept nogil
    uint64_t rc_hash_bytes(const rc_dialect *d, const void *data, size_t length) noexcept nogil
    uint64_t rc_hash_int(const rc_dialect *d, uint64_t value) noexcept nogil
    rc_status rc_hash_keys(const rc_dialect *d, const rc_keys *keys, size_t start, size_t stop,
                           uint64_t *out, uint8_t *is_null, size_t *bad,
                           uint8_t *scratch) noexcept nogil
    ctypedef struct rc_hash_group:
        pass
    void rc_hash_group_init(rc_hash_group *g, const rc_dialect *d) noexcept nogil
    void rc_hash_group_add(rc_hash_group *g, const void *data, size_t length,
                           uint64_t *slot) noexcept nogil
    void rc_hash_group_flush(rc_hash_group *g) noexcept nogil
    size_t rc_node_points_scratch_len(const rc_dialect *d, size_t name_len) noexcept nogil
    rc_status rc_node_points(const rc_dialect *d, const char *name, size_t name_len,
                             uint32_t count, char *scratch, size_t scratch_len,
                             uint64_t *out) noexcept nogil


cdef extern from "rc_layout.h":
    ctypedef struct rc_point:
        uint64_t pos
        int32_t owner
        int32_t spare
    ctypedef struct rc_line:
        pass
    ctypedef struct rc_cline:
        pass
    ctypedef struct rc_layout:
        const rc_point *points
        const uint64_t *positions
        const int32_t *owners
        const uint32_t *table
        const rc_line *lines
        const rc_cline *clines
        uint64_t nlines
        uint32_t npoints
        int table_bits
        int shift
        int hash_bits
        uint32_t last_bucket
        int narrow
        int big
        int compact
    enum: RC_LINE_SLOTS
    enum: RC_CLINE_SLOTS
    enum: RC_LINE_POINTS
    size_t rc_layout_table_units(size_t npoints, int hash_bits, size_t nnodes) noexcept nogil
    size_t rc_layout_table_len(size_t npoints, int hash_bits, size_t nnodes) noexcept nogil
    rc_status rc_sort_points(rc_point *points, size_t n, rc_point *tmp,
                             int hash_bits) noexcept nogil
    enum: RC_SORT_BUCKETS
    rc_status rc_sort_top(const rc_point *points, size_t n, rc_point *tmp, int hash_bits,
                          uint32_t *bucket_ends) noexcept nogil
    rc_status rc_sort_buckets(rc_point *points, rc_point *tmp, size_t n,
                              const uint32_t *bucket_ends, size_t first, size_t last,
                              int hash_bits) noexcept nogil
    rc_status rc_place_nodes(const rc_dialect *d, const char *names, const int64_t *name_offsets,
                             size_t names_len, const uint32_t *counts, const int32_t *owners,
                             size_t nnodes, rc_point *out, size_t out_len) noexcept nogil
    int rc_layout_is_big(size_t npoints) noexcept nogil
    int rc_layout_same_shape(const rc_layout *old, size_t npoints, size_t nnodes) noexcept nogil
    rc_status rc_merge_points(const rc_layout *old, const uint64_t *new_pos, size_t n_new,
                              int32_t new_owner, const uint8_t *new_sorts_first, size_t nnodes,
                              int hash_bits, rc_point *out, size_t out_len,
                              uint32_t *slots) noexcept nogil
    int rc_points_from_arrays(const uint64_t *positions, const int32_t *owners, size_t n,
                              int32_t nnodes, int hash_bits, rc_point *out,
                              uint8_t *owned) noexcept nogil
    size_t rc_count_present(const rc_layout *layout, const uint64_t *pos, size_t n) noexcept nogil
    rc_status rc_remove_owner(const rc_layout *old, int32_t removed, size_t nnodes,
                              rc_point *out, size_t out_len, size_t *out_n,
                              uint32_t *removed_at, size_t removed_len) noexcept nogil
    rc_status rc_table_after_merge(const rc_layout *old, const uint64_t *new_pos,
                                   const uint32_t *slots, size_t n_new, int32_t new_owner,
                                   size_t new_nnodes, const rc_point *points, size_t new_n,
                                   uint32_t *out, size_t out_len, int lines_shifted) noexcept nogil
    rc_status rc_table_after_remove(const rc_layout *old, const uint32_t *removed_at,
                                    size_t n_removed, int32_t removed, size_t new_nnodes,
                                    const rc_point *points, size_t new_n, uint32_t *out,
                                    size_t out_len, int lines_shifted) noexcept nogil
    rc_status rc_lines_shift(const rc_layout *old, const uint32_t *marks, size_t n_marks,
                             int32_t removed, uint32_t *out, size_t out_len, size_t first,
                             size_t end) noexcept nogil
    rc_status rc_fill_table_range(const rc_point *points, size_t npoints, int hash_bits,
                                  size_t nnodes, uint32_t *table, size_t table_len,
                                  size_t first, size_t end) noexcept nogil
    rc_status rc_layout_init(rc_layout *layout, rc_point *points, size_t npoints, int hash_bits,
                             int32_t nnodes, uint32_t *table, size_t table_len,
                             int trusted, int table_ready, uint64_t *positions_out,
                             int32_t *owners_out) noexcept nogil
    void *rc_alloc_big(size_t length) noexcept nogil
    void rc_free_big(void *data) noexcept nogil


cdef extern from "rc_lookup.h":
    enum: RC_CHUNK
    int32_t rc_lookup_owner(const rc_layout *layout, uint64_t h) noexcept nogil
    uint32_t rc_lookup_index(const rc_layout *layout, uint64_t h) noexcept nogil
    void rc_lookup_owners(const rc_layout *layout, const uint64_t *hashes, size_t n,
                          int32_t *out) noexcept nogil
    void rc_lookup_indices(const rc_layout *layout, const uint64_t *hashes, size_t n,
                           int32_t *out) noexcept nogil
    ctypedef enum rc_want:
        RC_WANT_OWNERS
        RC_WANT_INDICES
    rc_status rc_route_keys(const rc_layout *layout, const rc_dialect *d, const rc_keys *keys,
                            size_t start, size_t stop, int32_t *out, int allow_nulls,
                            int32_t null_owner, size_t *bad, uint8_t *scratch,
                            rc_want want) noexcept nogil
    rc_status rc_replica_rows(const rc_layout *layout, const int32_t *class_of, size_t nnodes,
                              size_t n, int32_t *rows, size_t rows_len) noexcept nogil
    rc_status rc_assign_bounded(const rc_layout *layout, const int32_t *start, size_t nkeys,
                                const int64_t *capacity, int64_t *load, size_t nnodes,
                                uint32_t *links, int32_t null_owner, int32_t *out) noexcept nogil
    size_t rc_take_rows(const int32_t *rows, size_t nrows, size_t width, const int32_t *indices,
                        size_t n, int32_t null_value, int32_t *out) noexcept nogil
    int64_t rc_walk_owners(const rc_layout *layout, uint32_t start, size_t want,
                           const int32_t *class_of, uint8_t *seen, size_t nclasses,
                           size_t nnodes, int32_t *out) noexcept nogil


cdef extern from "rc_jump.h":
    int32_t rc_jump_bucket(uint64_t key, int32_t buckets) noexcept nogil
    int rc_jump_buckets(const uint64_t *keys, size_t n, int32_t buckets, int32_t *out) noexcept nogil


cdef extern from "rc_lanes.h":
    enum: RC_LANES
    ctypedef enum rc_lanes_kind:
        RC_LANES_SCALAR
        RC_LANES_BASE
        RC_LANES_AVX2
        RC_LANES_AVX512
    rc_lanes_kind rc_lanes_level() noexcept nogil
    int rc_lanes_available(rc_lanes_kind kind) noexcept nogil
    rc_status rc_lanes_force(int kind) noexcept nogil


cdef extern from "rc_md5.h":
    void rc_md5(const void *data, size_t length, uint8_t *digest) noexcept nogil
    uint32_t rc_md5_low32(const void *data, size_t length) noexcept nogil
