/* Hashing, chosen per dialect: how keys and node points become positions on
 * the ring. This layer reads keys through rc_keys and knows no ring.
 *
 * A dialect names a hash function (applied to key bytes and to the 8-byte
 * value of int keys), a rule that turns a node name into its points, and the
 * width of the ring (64 or 32 bits: every hash and point is below 2^bits).
 * Today's ring is RC_HASH_XXH3_64 + RC_POINTS_NAME_HASH_J on 64 bits
 * (docs/SPEC.md 1-3); other dialects add cases here, not new loops.
 */
#ifndef RC_HASH_H
#define RC_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "rc_common.h"
#include "rc_keys.h"
#include "rc_lanes.h"
#include "rc_md5.h"
#include "rc_xxh3.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RC_HASH_XXH3_64 = 1,        /* XXH3-64, seed 0; int keys as their 8 little-endian bytes */
    RC_HASH_MD5_LOW32 = 2,      /* bytes 0..3 of MD5, little-endian; int keys as the decimal
                                 * text of their value modulo 2^64 */
    RC_HASH_OAAT = 3,           /* Jenkins one-at-a-time over bytes read as signed char (as
                                 * libmemcached on x86); int keys as their decimal text */
} rc_hash_kind;

typedef enum {
    RC_POINTS_NAME_HASH_J = 1,  /* point j of node N: hash(UTF-8 N + "#" + decimal j) */
    RC_POINTS_KETAMA = 2,       /* points 4i .. 4i+3 of node N: the four little-endian 32-bit
                                 * words of MD5(UTF-8 N + "-" + decimal i) */
    RC_POINTS_OAAT_NAME_I = 3,  /* point i of node N: OAAT(UTF-8 N + "-" + decimal i) */
} rc_points_kind;

typedef struct {
    rc_hash_kind hash;
    rc_points_kind points;
    int hash_bits;              /* 64 or 32 */
} rc_dialect;

/* RC_OK when every field names something this build knows. */
rc_status rc_dialect_check(const rc_dialect *d);

/* Jenkins one-at-a-time, each byte added as a signed char (sign-extended
 * when >= 0x80), as libmemcached computes it where char is signed. */
static inline uint32_t rc_oaat(const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    uint32_t h = 0;
    for (size_t i = 0; i < len; i++) {
        h += (uint32_t)(int32_t)(int8_t)p[i];
        h += h << 10;
        h ^= h >> 6;
    }
    h += h << 3;
    h ^= h >> 11;
    h += h << 15;
    return h;
}

/* The OAAT hash of an int key: of the decimal text of its value. */
uint64_t rc_oaat_int(uint64_t value);

/* The MD5 hash of an int key: of the decimal text of its value. */
uint64_t rc_md5_low32_int(uint64_t value);

/* The hash of a key's bytes. */
static inline uint64_t rc_hash_bytes(const rc_dialect *d, const void *data, size_t len)
{
    switch (d->hash) {
    case RC_HASH_MD5_LOW32:
        return rc_md5_low32(data, len);
    case RC_HASH_OAAT:
        return rc_oaat(data, len);
    case RC_HASH_XXH3_64:
    default:
        return rc_xxh3_64(data, len);
    }
}

/* The hash of an int key's value (modulo 2^64). */
static inline uint64_t rc_hash_int(const rc_dialect *d, uint64_t value)
{
    switch (d->hash) {
    case RC_HASH_MD5_LOW32:
        return rc_md5_low32_int(value);
    case RC_HASH_OAAT:
        return rc_oaat_int(value);
    case RC_HASH_XXH3_64:
    default:
        return rc_xxh3_64_u64(value);
    }
}

/* Keys hashed RC_LANES at a time (MD5 and OAAT; see rc_lanes.h): each key's
 * bytes are copied in at once, its hash lands at the slot given with it when
 * its group runs, at the latest on rc_hash_group_flush. MD5 keys of one
 * block and of two fill groups of their own; longer keys are hashed at once.
 * XXH3 (short keys take a few ns anyway) and OAAT without SIMD hash every key
 * at once. */
typedef struct {
    rc_hash_kind hash;
    int direct;                         /* no lanes: hash each key when added */
    unsigned n;                         /* lanes filled: OAAT, or MD5 of one block */
    unsigned n2;                        /* lanes filled: MD5 of two blocks */
    int two_clear;                      /* block.md5.two cleared (on its first key) */
    uint64_t *slot[RC_LANES];
    uint64_t *slot2[RC_LANES];
    union {
        struct {
            rc_md5x_block one;
            rc_md5x2_block two;
        } md5;
        rc_oaatx_block oaat;
    } block;
} rc_hash_group;

void rc_hash_group_init(rc_hash_group *g, const rc_dialect *d);

/* Hash the lanes filled so far into their slots: the two-block MD5 lanes
 * (two = 1) or the others (two = 0). */
void rc_hash_group_run(rc_hash_group *g, int two);

/* Hash every lane filled so far into its slot. */
void rc_hash_group_flush(rc_hash_group *g);

/* *slot = the hash of data[0 .. len), now or by the next flush; data may be
 * read up to data[spare - 1] (spare >= len: a key inside a larger buffer
 * fills an MD5 lane without a branch on its length). */
RC_LANES_INLINE void rc_hash_group_add_spare(rc_hash_group *g, const void *data, size_t len,
                                             size_t spare, uint64_t *slot)
{
    switch (g->hash) {
    case RC_HASH_MD5_LOW32:
        if (len > RC_MD5X_MAX_LEN) {
            if (len > RC_MD5X2_MAX_LEN) {
                *slot = rc_md5_low32(data, len);
                return;
            }
            if (!g->two_clear) {
                rc_md5x2_clear(&g->block.md5.two);
                g->two_clear = 1;
            }
            rc_md5x2_put(&g->block.md5.two, g->n2, data, len);
            g->slot2[g->n2++] = slot;
            if (g->n2 == RC_LANES)
                rc_hash_group_run(g, 1);
            return;
        }
        rc_md5x_put_spare(&g->block.md5.one, g->n, data, len, spare);
        break;
    case RC_HASH_OAAT:
        if (g->direct || len > RC_OAATX_MAX_LEN) {
            *slot = rc_oaat(data, len);
            return;
        }
        rc_oaatx_put_spare(&g->block.oaat, g->n, data, len, spare);
        break;
    case RC_HASH_XXH3_64:
    default:
        *slot = rc_xxh3_64(data, len);
        return;
    }
    g->slot[g->n++] = slot;
    if (g->n == RC_LANES)
        rc_hash_group_run(g, 0);
}

/* *slot = the hash of data[0 .. len), now or by the next flush. */
RC_LANES_INLINE void rc_hash_group_add(rc_hash_group *g, const void *data, size_t len,
                                       uint64_t *slot)
{
    rc_hash_group_add_spare(g, data, len, len, slot);
}

/* out[i - start] = hash of key i for i in [start, stop). A null key is an
 * RC_ERR_NULL unless is_null is given, where is_null[i - start] = 1 marks it
 * (and its hash is 0). On an error, *bad is the index of the key. */
rc_status rc_hash_keys(const rc_dialect *d, const rc_keys *keys, size_t start, size_t stop,
                       uint64_t *out, uint8_t *is_null, size_t *bad, uint8_t *scratch);

/* Bytes of scratch rc_node_points needs for a name of name_len bytes, or 0
 * when the name is too long to place. */
size_t rc_node_points_scratch_len(const rc_dialect *d, size_t name_len);

/* Positions of points 0 .. count-1 of a node, in point order. */
rc_status rc_node_points(const rc_dialect *d, const char *name, size_t name_len, uint32_t count,
                         char *scratch, size_t scratch_len, uint64_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RC_HASH_H */
