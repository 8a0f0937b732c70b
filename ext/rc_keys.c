/* Batch key kernels; see rc_keys.h. */
#include "rc_keys.h"

#include <string.h>

#include "rc_utf8.h"
#include "rc_xxh3.h"

/* Keys hashed per round before their lookups, so the hashes stay in L1. */
#define RC_CHUNK 256

static inline uint64_t rc_bswap64(uint64_t v)
{
    v = ((v & 0x00FF00FF00FF00FFull) << 8) | ((v >> 8) & 0x00FF00FF00FF00FFull);
    v = ((v & 0x0000FFFF0000FFFFull) << 16) | ((v >> 16) & 0x0000FFFF0000FFFFull);
    return (v << 32) | (v >> 32);
}

rc_status rc_keys_check(const rc_keys *k)
{
    if (k->n > (size_t)INT64_MAX)
        return RC_ERR_ARG;
    switch (k->kind) {
    case RC_KEYS_INT:
        if (k->width != 1 && k->width != 2 && k->width != 4 && k->width != 8)
            return RC_ERR_ARG;
        return RC_OK;
    case RC_KEYS_FIXED:
        return RC_OK;
    case RC_KEYS_UCS4:
        return k->width % 4 == 0 ? RC_OK : RC_ERR_ARG;
    case RC_KEYS_OFFSETS32:
    case RC_KEYS_OFFSETS64:
        return k->n == 0 || (k->offsets != NULL && k->base != NULL) ? RC_OK : RC_ERR_ARG;
    case RC_KEYS_VIEWS:
        return k->nbuffers == 0 || (k->buffers != NULL && k->buffer_lens != NULL) ? RC_OK
                                                                                   : RC_ERR_ARG;
    }
    return RC_ERR_ARG;
}

size_t rc_keys_scratch_len(const rc_keys *k)
{
    /* UCS4: an aligned, native-order copy of one element, then its UTF-8
     * (at most 4 bytes per code point, so width bytes). */
    return k->kind == RC_KEYS_UCS4 ? 2 * k->width : 0;
}

static inline int rc_is_null(const rc_keys *k, size_t i)
{
    if (k->validity == NULL)
        return 0;
    size_t bit = k->validity_offset + i;
    return !((k->validity[bit >> 3] >> (bit & 7)) & 1);
}

static inline uint64_t rc_int_value(const char *p, size_t width, int is_signed, int swap)
{
    switch (width) {
    case 1: {
        uint8_t v = (uint8_t)*p;
        return is_signed ? (uint64_t)(int64_t)(int8_t)v : v;
    }
    case 2: {
        uint16_t v;
        memcpy(&v, p, 2);
        if (swap)
            v = (uint16_t)((v << 8) | (v >> 8));
        return is_signed ? (uint64_t)(int64_t)(int16_t)v : v;
    }
    case 4: {
        uint32_t v;
        memcpy(&v, p, 4);
        if (swap)
            v = (uint32_t)(rc_bswap64(v) >> 32);
        return is_signed ? (uint64_t)(int64_t)(int32_t)v : v;
    }
    default: {
        uint64_t v;
        memcpy(&v, p, 8);
        return swap ? rc_bswap64(v) : v;
    }
    }
}

/* Arrow offset i, 32- or 64-bit; memcpy because a buffer may sit at any address. */
static inline int64_t rc_offset(const rc_keys *k, size_t i)
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

/* The bytes of key i: *ptr and *len, or RC_ERR_KEY. The caller has checked
 * for nulls. UCS4 keys are encoded into scratch. */
static inline rc_status rc_key_bytes(const rc_keys *k, size_t i, const char **ptr, size_t *len,
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
        int64_t a = rc_offset(k, i), b = rc_offset(k, i + 1);
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

rc_status rc_keys_hash(const rc_keys *k, size_t start, size_t stop, uint64_t *out,
                       uint8_t *is_null, size_t *bad, uint8_t *scratch)
{
    if (start > stop || stop > k->n)
        return RC_ERR_ARG;
    if (k->kind == RC_KEYS_INT && k->width == 8 && !k->swap && k->validity == NULL) {
        const char *p = k->base + (ptrdiff_t)start * k->stride;
        for (size_t i = start; i < stop; i++, p += k->stride) {
            uint64_t v;
            memcpy(&v, p, 8);
            out[i - start] = rc_xxh3_64_u64(v);
        }
        return RC_OK;
    }
    for (size_t i = start; i < stop; i++) {
        if (rc_is_null(k, i)) {
            if (is_null == NULL) {
                *bad = i;
                return RC_ERR_NULL;
            }
            is_null[i - start] = 1;
            out[i - start] = 0;
            continue;
        }
        if (is_null != NULL)
            is_null[i - start] = 0;
        if (k->kind == RC_KEYS_INT) {
            const char *p = k->base + (ptrdiff_t)i * k->stride;
            out[i - start] = rc_xxh3_64_u64(rc_int_value(p, k->width, k->is_signed, k->swap));
            continue;
        }
        const char *p;
        size_t len;
        rc_status status = rc_key_bytes(k, i, &p, &len, scratch);
        if (status != RC_OK) {
            *bad = i;
            return status;
        }
        out[i - start] = rc_xxh3_64(p, len);
    }
    return RC_OK;
}

/* The common case gets its own loop: native 8-byte integers, no nulls. */
static void rc_route_int64(const rc_ring *ring, const rc_keys *k, size_t start, size_t stop,
                           int32_t *out)
{
    /* Local copies: stores to out cannot alias them, so they stay in registers. */
    const rc_ring r = *ring;
    const ptrdiff_t stride = k->stride;
    const char *p = k->base + (ptrdiff_t)start * stride;
    for (size_t i = start; i < stop; i++, p += stride) {
        uint64_t v;
        memcpy(&v, p, 8);
        out[i - start] = rc_ring_owner(&r, rc_xxh3_64_u64(v));
    }
}

rc_status rc_keys_route(const rc_ring *ring, const rc_keys *k, size_t start, size_t stop,
                        int32_t *out, int allow_nulls, int32_t null_owner, size_t *bad,
                        uint8_t *scratch)
{
    if (start > stop || stop > k->n || ring->npoints == 0)
        return RC_ERR_ARG;
    if (k->kind == RC_KEYS_INT && k->width == 8 && !k->swap && k->validity == NULL) {
        rc_route_int64(ring, k, start, stop, out);
        return RC_OK;
    }
    uint64_t hashes[RC_CHUNK];
    uint8_t is_null[RC_CHUNK];
    for (size_t lo = start; lo < stop; lo += RC_CHUNK) {
        size_t hi = stop - lo < RC_CHUNK ? stop : lo + RC_CHUNK;
        rc_status status = rc_keys_hash(k, lo, hi, hashes, allow_nulls ? is_null : NULL, bad,
                                        scratch);
        if (status != RC_OK)
            return status;
        const rc_ring r = *ring;
        for (size_t i = lo; i < hi; i++)
            out[i - start] = allow_nulls && is_null[i - lo] ? null_owner
                                                            : rc_ring_owner(&r, hashes[i - lo]);
    }
    return RC_OK;
}
