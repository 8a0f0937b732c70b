/* Lookups; see rc_lookup.h. */
#include "rc_lookup.h"

/* How far ahead the pipelined loop prefetches on a big ring: the table line
 * of key i + 32 and, once that has (most likely) arrived, the point line of
 * key i + 16, so that many misses are in flight while key i resolves.
 * Distances from 16/8 to 96/48 were measured on 1.6M and 16M points; 32/16
 * was fastest. */
#ifndef RC_AHEAD_TABLE
#  define RC_AHEAD_TABLE 32
#endif
#ifndef RC_AHEAD_POINT
#  define RC_AHEAD_POINT 16
#endif

uint32_t rc_lookup_index(const rc_layout *layout, uint64_t h)
{
    uint32_t b = rc_layout_bucket(layout, h);
    uint32_t entry = layout->table[b];
    if (!layout->big) {
        const uint64_t *pos = layout->positions;
        while (pos[entry] < h)
            entry++;
        return entry;
    }
    /* an empty bucket: its hashes go to the first point of a later bucket */
    while (entry & RC_TABLE_OWNER) {
        if (b == layout->last_bucket)
            return layout->npoints;
        entry = layout->table[++b];
    }
    const rc_point *p = layout->points + entry;
    while (p->pos < h)
        p++;
    return (uint32_t)(p - layout->points);
}

static inline void prefetch_table(const rc_layout *l, uint64_t h)
{
    RC_PREFETCH(l->table + rc_layout_bucket(l, h));
}

static inline void prefetch_point(const rc_layout *l, uint64_t h)
{
    uint32_t entry = l->table[rc_layout_bucket(l, h)];
    if (!(entry & RC_TABLE_OWNER))
        RC_PREFETCH(l->points + entry);
}

void rc_lookup_owners(const rc_layout *layout, const uint64_t *hashes, size_t n, int32_t *out)
{
    const rc_layout l = *layout; /* a local copy: stores to out cannot alias it */
    if (!l.big) {
        /* one loop, compiled twice: without the mask on 64-bit rings */
        if (l.narrow) {
            for (size_t i = 0; i < n; i++)
                out[i] = rc_owner_small(&l, hashes[i], 1);
        } else {
            for (size_t i = 0; i < n; i++)
                out[i] = rc_owner_small(&l, hashes[i], 0);
        }
        return;
    }
    size_t i = 0;
    for (; i < n && i < RC_AHEAD_TABLE; i++)
        prefetch_table(&l, hashes[i]);
    for (i = 0; i < n && i < RC_AHEAD_POINT; i++)
        prefetch_point(&l, hashes[i]);
    size_t steady = n > RC_AHEAD_TABLE ? n - RC_AHEAD_TABLE : 0;
    for (i = 0; i < steady; i++) {
        prefetch_table(&l, hashes[i + RC_AHEAD_TABLE]);
        prefetch_point(&l, hashes[i + RC_AHEAD_POINT]);
        out[i] = rc_lookup_owner_big(&l, hashes[i]);
    }
    for (; i < n; i++) {
        if (i + RC_AHEAD_POINT < n)
            prefetch_point(&l, hashes[i + RC_AHEAD_POINT]);
        out[i] = rc_lookup_owner_big(&l, hashes[i]);
    }
}

rc_status rc_route_keys(const rc_layout *layout, const rc_dialect *d, const rc_keys *k,
                        size_t start, size_t stop, int32_t *out, int allow_nulls,
                        int32_t null_owner, size_t *bad, uint8_t *scratch)
{
    if (start > stop || stop > k->n || layout->npoints == 0)
        return RC_ERR_ARG;
    uint64_t hashes[RC_CHUNK];
    uint8_t is_null[RC_CHUNK];
    /* without a validity bitmap no key is null: skip the marks */
    uint8_t *nulls = allow_nulls && k->validity != NULL ? is_null : NULL;
    for (size_t lo = start; lo < stop; lo += RC_CHUNK) {
        size_t hi = stop - lo < RC_CHUNK ? stop : lo + RC_CHUNK;
        rc_status status = rc_hash_keys(d, k, lo, hi, hashes, nulls, bad, scratch);
        if (status != RC_OK)
            return status;
        int32_t *target = out + (lo - start);
        rc_lookup_owners(layout, hashes, hi - lo, target);
        if (nulls != NULL)
            for (size_t i = 0; i < hi - lo; i++)
                if (nulls[i])
                    target[i] = null_owner;
    }
    return RC_OK;
}

int64_t rc_walk_owners(const rc_layout *layout, uint32_t start, size_t want, uint8_t *seen,
                       size_t nnodes, int32_t *out)
{
    uint32_t n = layout->npoints;
    if (start > n || want > nnodes)
        return RC_ERR_ARG;
    if (start == n)
        start = 0;
    size_t taken = 0;
    uint32_t i = start;
    for (uint32_t step = 0; step < n && taken < want; step++) {
        int32_t owner = rc_layout_owner(layout, i);
        if (owner < 0 || (size_t)owner >= nnodes)
            return RC_ERR_ARG;
        if (!seen[owner]) {
            seen[owner] = 1;
            out[taken++] = owner;
        }
        if (++i == n)
            i = 0;
    }
    return (int64_t)taken;
}
