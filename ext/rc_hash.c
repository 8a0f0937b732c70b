/* Hashing per dialect; see rc_hash.h. */
#include "rc_hash.h"

#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#  define RC_ALWAYS_INLINE static inline __attribute__((always_inline))
#else
#  define RC_ALWAYS_INLINE static inline
#endif

rc_status rc_dialect_check(const rc_dialect *d)
{
    /* XXH3-64 fills the whole 64-bit ring; ketama's MD5 words a 32-bit one */
    if (d->hash == RC_HASH_XXH3_64 && d->points == RC_POINTS_NAME_HASH_J && d->hash_bits == 64)
        return RC_OK;
    if (d->hash_bits != 32)
        return RC_ERR_ARG;
    /* the libketama and libmemcached combinations of key hash and points */
    if (d->hash == RC_HASH_MD5_LOW32 && d->points == RC_POINTS_KETAMA)
        return RC_OK;
    if (d->hash == RC_HASH_OAAT
        && (d->points == RC_POINTS_OAAT_NAME_I || d->points == RC_POINTS_KETAMA))
        return RC_OK;
    return RC_ERR_ARG;
}

/* The decimal digits of v (no sign, no leading zeros) at out; their count
 * (at most 20): int keys' text and the "j" of point names. */
static size_t rc_decimal(uint64_t v, char *out)
{
    char rev[20];
    size_t nd = 0;
    do {
        rev[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < nd; i++)
        out[i] = rev[nd - 1 - i];
    return nd;
}

uint64_t rc_md5_low32_int(uint64_t value)
{
    char text[20];
    return rc_md5_low32(text, rc_decimal(value, text));
}

uint64_t rc_oaat_int(uint64_t value)
{
    char text[20];
    return rc_oaat(text, rc_decimal(value, text));
}

/* Whether key i is null, marked as the loops below mark it: 0 when it is not
 * (is_null[i - start] cleared), 1 when it is and nulls are marked (the mark
 * set, its hash 0), -1 when it is and nulls are errors (*bad = i). */
RC_ALWAYS_INLINE int null_mark(const rc_keys *k, size_t i, size_t start, uint64_t *out,
                               uint8_t *is_null, size_t *bad)
{
    int null = rc_keys_is_null(k, i);
    if (null && is_null == NULL) {
        *bad = i;
        return -1;
    }
    if (is_null != NULL)
        is_null[i - start] = (uint8_t)null;
    if (null)
        out[i - start] = 0;
    return null;
}

/* The loop for hash functions that take one key at a time (XXH3): the entry
 * point below passes constant functions, which the compiler inlines. */
RC_ALWAYS_INLINE rc_status hash_keys_with(uint64_t (*hash_bytes)(const void *, size_t),
                                          uint64_t (*hash_int)(uint64_t), const rc_keys *k,
                                          size_t start, size_t stop, uint64_t *out,
                                          uint8_t *is_null, size_t *bad, uint8_t *scratch)
{
    if (rc_keys_plain_int64(k)) {
        const char *p = k->base + (ptrdiff_t)start * k->stride;
        for (size_t i = start; i < stop; i++, p += k->stride) {
            uint64_t v;
            memcpy(&v, p, 8);
            out[i - start] = hash_int(v);
        }
        if (is_null != NULL)
            memset(is_null, 0, stop - start);
        return RC_OK;
    }
    for (size_t i = start; i < stop; i++) {
        int null = null_mark(k, i, start, out, is_null, bad);
        if (null < 0)
            return RC_ERR_NULL;
        if (null)
            continue;
        if (k->kind == RC_KEYS_INT) {
            out[i - start] = hash_int(rc_keys_int(k, i));
            continue;
        }
        const char *p;
        size_t len;
        rc_status status = rc_keys_bytes(k, i, &p, &len, scratch);
        if (status != RC_OK) {
            *bad = i;
            return status;
        }
        out[i - start] = hash_bytes(p, len);
    }
    return RC_OK;
}

void rc_hash_group_init(rc_hash_group *g, const rc_dialect *d)
{
    g->hash = d->hash;
    g->n = 0;
    g->n2 = 0;
    g->direct = 0;
    g->two_clear = 0;
    if (g->hash == RC_HASH_MD5_LOW32) {
        rc_md5x_clear(&g->block.md5.one); /* (lanes past the last put are run too) */
    } else if (g->hash == RC_HASH_OAAT) {
        /* one OAAT is a few ns already: lanes pay only with SIMD */
        g->direct = rc_lanes_level() == RC_LANES_SCALAR;
        rc_oaatx_clear(&g->block.oaat);
    }
}

void rc_hash_group_run(rc_hash_group *g, int two)
{
    uint32_t hashes[RC_LANES];
    if (two) {
        if (g->n2 == 0)
            return;
        rc_md5x2_run_low32(&g->block.md5.two, hashes, g->n2);
        for (unsigned l = 0; l < g->n2; l++)
            *g->slot2[l] = hashes[l];
        g->n2 = 0;
        return;
    }
    if (g->n == 0)
        return;
    if (g->hash == RC_HASH_MD5_LOW32)
        rc_md5x_run_low32(&g->block.md5.one, hashes, g->n);
    else
        rc_oaatx_run(&g->block.oaat, hashes, g->n);
    for (unsigned l = 0; l < g->n; l++)
        *g->slot[l] = hashes[l];
    g->n = 0;
}

void rc_hash_group_flush(rc_hash_group *g)
{
    rc_hash_group_run(g, 0);
    rc_hash_group_run(g, 1);
}

/* Arrow offset i: of 64 bits (wide), else of 32, sign-extended. */
RC_ALWAYS_INLINE int64_t offset_at(const char *offsets, int wide, size_t i)
{
    if (wide) {
        int64_t v;
        memcpy(&v, offsets + 8 * i, 8);
        return v;
    }
    int32_t v32;
    memcpy(&v32, offsets + 4 * i, 4);
    return v32;
}

/* Whether keys i .. i + count - 1 are all valid (none null). */
static int all_valid(const rc_keys *k, size_t i, size_t count)
{
    for (size_t j = 0; j < count; j++)
        if (rc_keys_is_null(k, i + j))
            return 0;
    return 1;
}

/* The hash (MD5's word 0, or OAAT) of RC_LANES Arrow keys i, i + 1, .. at
 * once, read in place (rc_md5x_refs), into out[0 .. RC_LANES) (is_null, if
 * given, cleared): when none is null, their offsets are in order and inside
 * the buffer, every key is under 32 bytes and 32 bytes can be read from the
 * last one's start.
 * Otherwise 0, and nothing written: the key-by-key loop takes them, and
 * reports what is wrong. */
RC_ALWAYS_INLINE int refs_group(rc_hash_kind hash, const rc_keys *k, const char *offsets, int wide,
                                int nullable, size_t i, uint64_t *out, uint8_t *is_null)
{
    int64_t at[RC_LANES + 1];
    uint64_t too_long = 0;
    for (size_t l = 0; l <= RC_LANES; l++)
        at[l] = offset_at(offsets, wide, i + l);
    /* a negative length is a huge one: too long as well (unsigned: forged
     * 64-bit offsets must not overflow) */
    for (size_t l = 0; l < RC_LANES; l++)
        too_long |= ((uint64_t)at[l + 1] - (uint64_t)at[l]) >> 5;
    if (too_long || at[0] < 0 || (uint64_t)at[RC_LANES] > k->data_len
        || k->data_len - (uint64_t)at[RC_LANES - 1] < 32)
        return 0;
    if (nullable && !all_valid(k, i, RC_LANES))
        return 0;
    rc_md5x_refs refs;
    uint32_t low32[RC_LANES];
    for (size_t l = 0; l < RC_LANES; l++) {
        refs.p[l] = (const uint8_t *)k->base + at[l];
        refs.len[l] = (uint32_t)((uint64_t)at[l + 1] - (uint64_t)at[l]);
    }
    if (hash == RC_HASH_OAAT)
        rc_oaatx_run_refs(&refs, low32);
    else
        rc_md5x_run_low32_refs(&refs, low32);
    for (size_t l = 0; l < RC_LANES; l++)
        out[l] = low32[l];
    if (is_null != NULL)
        memset(is_null, 0, RC_LANES);
    return 1;
}

/* Arrow string/binary keys into the lanes: each offset read once, no switch
 * per key; `wide` (64-bit offsets) and `nullable` are constants where it is
 * inlined. Nulls, bounds and the order of errors as in rc_keys_bytes' loop. */
RC_ALWAYS_INLINE rc_status offsets_grouped(rc_hash_group *g, const rc_keys *k, int wide,
                                           int nullable, int with_refs, size_t start,
                                           size_t stop, uint64_t *out, uint8_t *is_null,
                                           size_t *bad)
{
    /* locals, not fields: the lane stores could alias the fields in memory,
     * which would reload each one for every key, and chain every key's put
     * to the one before through g->n */
    const rc_keys keys = *k;
    const char *offsets = (const char *)keys.offsets;
    const rc_hash_kind hash = g->hash;
    const int direct = g->direct;
    /* whole groups of short keys read in place (with_refs: a constant, so
     * that the loops without it stay as small as they were); retried a group
     * after one could not be */
    const int refs = with_refs && ((hash == RC_HASH_MD5_LOW32 && rc_md5x_refs_in_place())
                                   || (hash == RC_HASH_OAAT && rc_oaatx_refs_in_place()));
    size_t refs_retry = start;
    unsigned n = g->n;
    int64_t a, b;
    if (start == stop)
        return RC_OK; /* an empty batch may have no offsets at all */
    a = offset_at(offsets, wide, start);
    for (size_t i = start; i < stop; i++, a = b) {
        if (refs && n == 0 && i >= refs_retry && stop - i >= RC_LANES) {
            if (refs_group(hash, &keys, offsets, wide, nullable, i, &out[i - start],
                               is_null != NULL ? &is_null[i - start] : NULL)) {
                i += RC_LANES - 1;
                b = offset_at(offsets, wide, i + 1);
                continue;
            }
            refs_retry = i + RC_LANES;
        }
        b = offset_at(offsets, wide, i + 1);
        if (nullable) {
            int null = null_mark(&keys, i, start, out, is_null, bad);
            if (null < 0) {
                g->n = n;
                return RC_ERR_NULL;
            }
            if (null)
                continue;
        } else if (is_null != NULL) {
            is_null[i - start] = 0;
        }
        if (a < 0 || b < a || (uint64_t)b > keys.data_len) {
            g->n = n;
            *bad = i;
            return RC_ERR_KEY;
        }
        const char *p = keys.base + a;
        size_t len = (size_t)(b - a);
        if (hash == RC_HASH_MD5_LOW32 && len <= RC_MD5X_MAX_LEN) {
            /* the rest of the data buffer may be read: the lane masks it off */
            rc_md5x_put_spare(&g->block.md5.one, n, p, len, keys.data_len - (size_t)a);
        } else if (hash == RC_HASH_OAAT && !direct && len <= RC_OAATX_MAX_LEN) {
            rc_oaatx_put_spare(&g->block.oaat, n, p, len, keys.data_len - (size_t)a);
        } else {
            g->n = n;
            rc_hash_group_add_spare(g, p, len, keys.data_len - (size_t)a, &out[i - start]);
            n = g->n;
            continue;
        }
        g->slot[n++] = &out[i - start];
        if (n == RC_LANES) {
            g->n = n;
            rc_hash_group_run(g, 0);
            n = 0;
        }
    }
    g->n = n;
    return RC_OK;
}

/* offsets_grouped for the four kinds of offsets: constant `wide` and
 * `nullable` each. */
RC_ALWAYS_INLINE rc_status offsets_grouped_any(rc_hash_group *g, const rc_keys *k, int with_refs,
                                               size_t start, size_t stop, uint64_t *out,
                                               uint8_t *is_null, size_t *bad)
{
    int wide = k->kind == RC_KEYS_OFFSETS64;
    if (k->validity == NULL)
        return wide ? offsets_grouped(g, k, 1, 0, with_refs, start, stop, out, is_null, bad)
                    : offsets_grouped(g, k, 0, 0, with_refs, start, stop, out, is_null, bad);
    return wide ? offsets_grouped(g, k, 1, 1, with_refs, start, stop, out, is_null, bad)
                : offsets_grouped(g, k, 0, 1, with_refs, start, stop, out, is_null, bad);
}

static rc_status offsets_grouped_base(rc_hash_group *g, const rc_keys *k, size_t start,
                                      size_t stop, uint64_t *out, uint8_t *is_null, size_t *bad)
{
    return offsets_grouped_any(g, k, 0, start, stop, out, is_null, bad);
}

#ifdef RC_LANES_X86_DISPATCH
/* The same with AVX2: whole groups of short keys read in place, and each
 * other MD5 lane's put two 32-byte loads and stores, not four of 16 bytes. */
__attribute__((target("avx2"))) static rc_status
offsets_grouped_avx2(rc_hash_group *g, const rc_keys *k, size_t start, size_t stop,
                     uint64_t *out, uint8_t *is_null, size_t *bad)
{
    return offsets_grouped_any(g, k, 1, start, stop, out, is_null, bad);
}
#endif

/* hash_keys_with for the hashes that go through lanes: int keys as their
 * decimal text, nulls and errors as there. On an error the keys before it are
 * hashed too, as there. */
static rc_status hash_keys_grouped(const rc_dialect *d, const rc_keys *k, size_t start,
                                   size_t stop, uint64_t *out, uint8_t *is_null, size_t *bad,
                                   uint8_t *scratch)
{
    rc_hash_group g;
    /* 20 digits at most, but GCC's bounds warnings see the lane put's
     * fixed-size copies for every length up to RC_MD5X2_MAX_LEN */
    char text[RC_MD5X2_MAX_LEN + 1];
    rc_status status = RC_OK;
    rc_hash_group_init(&g, d);
    if (rc_keys_plain_int64(k)) {
        const char *p = k->base + (ptrdiff_t)start * k->stride;
        for (size_t i = start; i < stop; i++, p += k->stride) {
            uint64_t v;
            memcpy(&v, p, 8);
            rc_hash_group_add(&g, text, rc_decimal(v, text), &out[i - start]);
        }
        if (is_null != NULL)
            memset(is_null, 0, stop - start);
        rc_hash_group_flush(&g);
        return RC_OK;
    }
    if (k->kind == RC_KEYS_OFFSETS32 || k->kind == RC_KEYS_OFFSETS64) {
#ifdef RC_LANES_X86_DISPATCH
        if (rc_lanes_level() >= RC_LANES_AVX2)
            status = offsets_grouped_avx2(&g, k, start, stop, out, is_null, bad);
        else
#endif
            status = offsets_grouped_base(&g, k, start, stop, out, is_null, bad);
        rc_hash_group_flush(&g);
        return status;
    }
    for (size_t i = start; i < stop; i++) {
        int null = null_mark(k, i, start, out, is_null, bad);
        if (null < 0) {
            status = RC_ERR_NULL;
            break;
        }
        if (null)
            continue;
        if (k->kind == RC_KEYS_INT) {
            rc_hash_group_add(&g, text, rc_decimal(rc_keys_int(k, i), text), &out[i - start]);
            continue;
        }
        const char *p;
        size_t len;
        status = rc_keys_bytes(k, i, &p, &len, scratch);
        if (status != RC_OK) {
            *bad = i;
            break;
        }
        /* copied into the lane now: p may point into scratch */
        rc_hash_group_add(&g, p, len, &out[i - start]);
    }
    rc_hash_group_flush(&g);
    return status;
}

rc_status rc_hash_keys(const rc_dialect *d, const rc_keys *k, size_t start, size_t stop,
                       uint64_t *out, uint8_t *is_null, size_t *bad, uint8_t *scratch)
{
    if (start > stop || stop > k->n)
        return RC_ERR_ARG;
    switch (d->hash) {
    case RC_HASH_XXH3_64:
        return hash_keys_with(rc_xxh3_64, rc_xxh3_64_u64, k, start, stop, out, is_null, bad,
                              scratch);
    case RC_HASH_MD5_LOW32:
    case RC_HASH_OAAT:
        return hash_keys_grouped(d, k, start, stop, out, is_null, bad, scratch);
    }
    return RC_ERR_ARG;
}

size_t rc_node_points_scratch_len(const rc_dialect *d, size_t name_len)
{
    (void)d;
    /* "#" (or "-") and at most 10 decimal digits follow the name */
    return name_len > SIZE_MAX - 11 ? 0 : name_len + 11;
}

/* Ketama's points: the four little-endian words of MD5("name-i") for each
 * digest i, in that order. count is a multiple of 4. */
static rc_status ketama_points(const char *name, size_t name_len, uint32_t count, char *scratch,
                               uint64_t *out)
{
    if (count % 4 != 0)
        return RC_ERR_ARG;
    memcpy(scratch, name, name_len);
    scratch[name_len] = '-';
    if (name_len + 11 <= RC_MD5X_MAX_LEN) {
        /* "name-i" of any i fits one MD5 block: RC_LANES digests at a time */
        rc_md5x_block block;
        uint32_t digest[4][RC_LANES];
        rc_md5x_clear(&block);
        for (uint32_t first = 0; first < count / 4; first += RC_LANES) {
            unsigned m = count / 4 - first < RC_LANES ? count / 4 - first : RC_LANES;
            for (unsigned k = 0; k < m; k++)
                rc_md5x_put(&block, k, scratch,
                            name_len + 1 + rc_decimal(first + k, scratch + name_len + 1));
            rc_md5x_run(&block, digest, m);
            for (unsigned k = 0; k < m; k++)
                for (int w = 0; w < 4; w++)
                    out[4 * ((size_t)first + k) + w] = digest[w][k];
        }
        return RC_OK;
    }
    for (uint32_t i = 0; i < count / 4; i++) {
        uint8_t digest[16];
        rc_md5(scratch, name_len + 1 + rc_decimal(i, scratch + name_len + 1), digest);
        for (int w = 0; w < 4; w++)
            out[4 * i + w] = (uint64_t)digest[4 * w] | (uint64_t)digest[4 * w + 1] << 8
                             | (uint64_t)digest[4 * w + 2] << 16
                             | (uint64_t)digest[4 * w + 3] << 24;
    }
    return RC_OK;
}

rc_status rc_node_points(const rc_dialect *d, const char *name, size_t name_len, uint32_t count,
                         char *scratch, size_t scratch_len, uint64_t *out)
{
    size_t needed = rc_node_points_scratch_len(d, name_len);
    if (needed == 0 || scratch_len < needed || count > RC_MAX_POINTS)
        return RC_ERR_ARG;
    if (d->points == RC_POINTS_KETAMA)
        return ketama_points(name, name_len, count, scratch, out);
    if (d->points == RC_POINTS_OAAT_NAME_I) {
        memcpy(scratch, name, name_len);
        scratch[name_len] = '-';
        for (uint32_t i = 0; i < count; i++)
            out[i] = rc_oaat(scratch, name_len + 1 + rc_decimal(i, scratch + name_len + 1));
        return RC_OK;
    }
    if (d->points != RC_POINTS_NAME_HASH_J)
        return RC_ERR_ARG;
    enum { SLOT = 64, BLOCK = 32 };
    if (name_len + 11 <= SLOT) {
        /* Short names (nearly all): write a block of "name#j" strings, then
         * hash them. Hashing each string right after writing it byte by byte
         * would stall every word load on the stores still in flight. */
        char block[BLOCK][SLOT];
        size_t lens[BLOCK];
        for (uint32_t first = 0; first < count; first += BLOCK) {
            uint32_t m = count - first < BLOCK ? count - first : BLOCK;
            for (uint32_t k = 0; k < m; k++) {
                memcpy(block[k], name, name_len);
                block[k][name_len] = '#';
                lens[k] = name_len + 1 + rc_decimal(first + k, block[k] + name_len + 1);
            }
            for (uint32_t k = 0; k < m; k++)
                out[first + k] = rc_hash_bytes(d, block[k], lens[k]);
        }
        return RC_OK;
    }
    memcpy(scratch, name, name_len);
    scratch[name_len] = '#';
    for (uint32_t j = 0; j < count; j++)
        out[j] = rc_hash_bytes(d, scratch, name_len + 1 + rc_decimal(j, scratch + name_len + 1));
    return RC_OK;
}
