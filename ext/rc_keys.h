/* Key access: where the keys of one batch live and how to read the bytes (or
 * the integer value) of key i, without the GIL and without a Python object
 * per key. This layer knows no hash function and no ring.
 *
 * An rc_keys describes a numpy integer, fixed-width bytes (S) or UCS-4 text
 * (U) array, or an Arrow binary/string array with 32- or 64-bit offsets or
 * 16-byte views. Readers work on any index below n, so callers can split a
 * batch across threads.
 */
#ifndef RC_KEYS_H
#define RC_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rc_common.h"
#include "rc_utf8.h"

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

/* Bytes of scratch rc_keys_bytes needs for these keys. */
size_t rc_keys_scratch_len(const rc_keys *keys);

/* Native 8-byte integers without nulls: the case that gets the tightest loop. */
static inline int rc_keys_plain_int64(const rc_keys *k)
{
    return k->kind == RC_KEYS_INT && k->width == 8 && !k->swap && k->validity == NULL;
}

static inline int rc_keys_is_null(const rc_keys *k, size_t i)
{
    if (k->validity == NULL)
        return 0;
    size_t bit = k->validity_offset + i;
    return !((k->validity[bit >> 3] >> (bit & 7)) & 1);
}

/* The value of integer key i, sign-extended or zero-extended to 64 bits. */
static inline uint64_t rc_keys_int(const rc_keys *k, size_t i)
{
    const char *p = k->base + (ptrdiff_t)i * k->stride;
    switch (k->width) {
    case 1: {
        uint8_t v = (uint8_t)*p;
        return k->is_signed ? (uint64_t)(int64_t)(int8_t)v : v;
    }
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        if (k->swap)
            v = (uint16_t)((v << 8) | (v >> 8));
        return k->is_signed ? (uint64_t)(int64_t)(int16_t)v : v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        if (k->swap)
            v = (uint32_t)(rc_bswap64(v) >> 32);
        return k->is_signed ? (uint64_t)(int64_t)(int32_t)v : v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return k->swap ? rc_bswap64(v) : v;
    }
    }
}

/* Arrow offset i, 32- or 64-bit; memcpy because a buffer may sit at any address. */
static inline int64_t rc_keys_offset(const rc_keys *k, size_t i)
{
    if (k->kind == RC_KEYS_OFFSETS32) {
        int32_t o;
        memcpy(&o, (const char *)k->offsets + 4 * i, 4);
        return o;
    }
    int64_t o;
    memcpy(&o, (const char *)k->offsets + 8 * i, 8);
    return o;
}

/* The bytes of key i (not an INT key, not null): *ptr and *len, or
 * RC_ERR_KEY. UCS4 keys are encoded into scratch. */
static inline rc_status rc_keys_bytes(const rc_keys *k, size_t i, const char **ptr, size_t *len,
                                      uint8_t *scratch)
{
    switch (k->kind) {
    case RC_KEYS_FIXED: {
        const char *p = k->base + (ptrdiff_t)i * k->stride;
        size_t n = k->width;
        if (k->strip_nuls)
            while (n && p[n - 1] == 0)
                n--;
        *ptr = p;
        *len = n;
        return RC_OK;
    }
    case RC_KEYS_UCS4: {
        const char *raw = k->base + (ptrdiff_t)i * k->stride;
        const uint32_t *p = (const uint32_t *)(const void *)raw;
        size_t n = k->width / 4;
        if (n && (k->swap || ((uintptr_t)raw & 3) != 0)) {
            /* unaligned (a memory-mapped record, an offset view) or foreign order */
            uint32_t *copy = (uint32_t *)(void *)scratch;
            memcpy(copy, raw, k->width);
            if (k->swap)
                for (size_t c = 0; c < n; c++)
                    copy[c] = (uint32_t)(rc_bswap64(copy[c]) >> 32);
            p = copy;
            scratch += k->width;
        }
        while (n && p[n - 1] == 0)
            n--;
        /* ASCII is the common case: one pass to check, one to narrow, both
         * free of early exits so the compiler can vectorise them */
        uint32_t any = 0;
        for (size_t c = 0; c < n; c++)
            any |= p[c];
        if (any < 0x80) {
            for (size_t c = 0; c < n; c++)
                scratch[c] = (uint8_t)p[c];
            *ptr = (const char *)scratch;
            *len = n;
            return RC_OK;
        }
        int64_t got = rc_utf8_encode(4, p, n, scratch);
        if (got < 0)
            return RC_ERR_KEY;
        *ptr = (const char *)scratch;
        *len = (size_t)got;
        return RC_OK;
    }
    case RC_KEYS_OFFSETS32:
    case RC_KEYS_OFFSETS64: {
        int64_t a = rc_keys_offset(k, i), b = rc_keys_offset(k, i + 1);
        if (a < 0 || b < a || (uint64_t)b > k->data_len)
            return RC_ERR_KEY;
        *ptr = k->base + a;
        *len = (size_t)(b - a);
        return RC_OK;
    }
    case RC_KEYS_VIEWS: {
        const char *v = k->base + 16 * i;
        int32_t n, buffer, offset;
        memcpy(&n, v, 4);
        if (n < 0)
            return RC_ERR_KEY;
        if (n <= 12) {
            *ptr = v + 4;
        } else {
            memcpy(&buffer, v + 8, 4);
            memcpy(&offset, v + 12, 4);
            if (buffer < 0 || (size_t)buffer >= k->nbuffers || offset < 0
                || (int64_t)offset + n > k->buffer_lens[buffer])
                return RC_ERR_KEY;
            *ptr = k->buffers[buffer] + offset;
        }
        *len = (size_t)n;
        return RC_OK;
    }
    default:
        return RC_ERR_ARG;
    }
}

#ifdef __cplusplus
}
#endif

#endif /* RC_KEYS_H */
