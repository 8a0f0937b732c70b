/* Batch key kernels: hash (and route) keys held in array memory, without the
 * GIL and without a Python object per key.
 *
 * An rc_keys describes where the keys of one batch live: a numpy integer,
 * fixed-width bytes (S) or UCS-4 text (U) array, or an Arrow binary/string
 * array with 32- or 64-bit offsets or 16-byte views. The kernels work on any
 * sub-range [start, stop), so callers can split a batch across threads.
 */
#ifndef RC_KEYS_H
#define RC_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "rc_ring.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RC_KEYS_INT = 1,    /* integers of width 1, 2, 4 or 8 bytes */
    RC_KEYS_FIXED,      /* numpy S (trailing NULs stripped), Arrow fixed_size_binary: `width` bytes */
    RC_KEYS_UCS4,       /* numpy U: width / 4 code points, trailing NULs stripped */
    RC_KEYS_OFFSETS32,  /* Arrow string/binary: int32 offsets into `base` */
    RC_KEYS_OFFSETS64,  /* Arrow large_string/large_binary: int64 offsets */
    RC_KEYS_VIEWS,      /* Arrow string_view/binary_view: 16-byte views */
} rc_keys_kind;

typedef struct {
    rc_keys_kind kind;
    size_t n;                       /* number of keys */
    const char *base;               /* element 0; OFFSETS: the value bytes; VIEWS: the views */
    ptrdiff_t stride;               /* INT, FIXED, UCS4: bytes from one element to the next */
    size_t width;                   /* INT: 1, 2, 4 or 8; FIXED, UCS4: itemsize in bytes */
    int is_signed;                  /* INT: sign-extend to 64 bits */
    int swap;                       /* INT, UCS4: stored in the other byte order */
    int strip_nuls;                 /* FIXED: the key ends before its trailing NUL bytes */
    const void *offsets;            /* OFFSETS: n + 1 offsets, the slice start applied */
    size_t data_len;                /* OFFSETS: bytes at base */
    const char *const *buffers;     /* VIEWS: the data buffers of out-of-line values */
    const int64_t *buffer_lens;
    size_t nbuffers;
    const uint8_t *validity;        /* Arrow validity bitmap (bit set = valid), or NULL */
    size_t validity_offset;         /* bit of element 0 in validity */
} rc_keys;

/* Check the description itself (kind, width, offsets' ends); RC_OK or RC_ERR_ARG. */
rc_status rc_keys_check(const rc_keys *keys);

/* Bytes of scratch the kernels need for these keys. */
size_t rc_keys_scratch_len(const rc_keys *keys);

/* out[i - start] = hash of key i for i in [start, stop). A null key is an
 * RC_ERR_NULL unless is_null is given, where is_null[i - start] = 1 marks it.
 * On an error, *bad is the index of the key. */
rc_status rc_keys_hash(const rc_keys *keys, size_t start, size_t stop, uint64_t *out,
                       uint8_t *is_null, size_t *bad, uint8_t *scratch);

/* out[i - start] = owner of key i; a null key gets null_owner when nulls are
 * allowed and is an RC_ERR_NULL otherwise. */
rc_status rc_keys_route(const rc_ring *ring, const rc_keys *keys, size_t start, size_t stop,
                        int32_t *out, int allow_nulls, int32_t null_owner, size_t *bad,
                        uint8_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* RC_KEYS_H */
