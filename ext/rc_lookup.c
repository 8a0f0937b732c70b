/* Lookups; see rc_lookup.h. */
#include "rc_lookup.h"

/* How many keys ahead the pipelined loop prefetches lines on a big ring, so
 * that many misses are in flight while key i resolves (measured on 1.6M and
 * 16M points: 16 was as fast as any). */
#ifndef RC_AHEAD
#  define RC_AHEAD 16
#endif

uint32_t rc_line_scan(const rc_layout *layout, uint32_t i, uint64_t h)
{
    const rc_point *points = layout->points;
    while (points[i].pos < h)
        i++;
    return i;
}

int32_t rc_line_owner_slow(const rc_layout *layout, const rc_line *line, int16_t key, uint64_t h)
{
    unsigned c = rc_line_count_below(line, key);
    int32_t owner = line->owners[c];
    if ((line->keys[c] == key) | (owner < 0))
        return layout->points[rc_line_scan(layout, line->first + c, h)].owner;
    return owner;
}

uint32_t rc_lookup_index(const rc_layout *layout, uint64_t h)
{
    if (layout->big) {
        int16_t key;
        uint64_t e = rc_line_of(layout, h, layout->narrow, &key);
        if (layout->compact) {
            const rc_cline *line = layout->clines + e;
            return rc_line_scan(layout, line->first + rc_cline_count_below(line, key), h);
        }
        const rc_line *line = layout->lines + e;
        return rc_line_scan(layout, line->first + rc_line_count_below(line, key), h);
    }
    const uint64_t *pos = layout->positions;
    uint32_t i = layout->table[rc_layout_bucket(layout, h)];
    while (pos[i] < h)
        i++;
    return i;
}

/* The table of a big ring as bytes (either kind of line: 64 bytes), and the
 * owner of hash h whose line is e and key is key. */
static inline const char *line_base(const rc_layout *l, int compact)
{
    return compact ? (const char *)l->clines : (const char *)l->lines;
}

static inline int32_t owner_in_line(const rc_layout *l, const char *base, uint64_t e,
                                    int16_t key, uint64_t h, int compact)
{
    if (compact)
        return rc_cline_owner(l, (const rc_cline *)base + e, key, h);
    return rc_line_owner(l, (const rc_line *)base + e, key, h);
}

/* Owners of n hashes on a big ring: the line of key i + RC_AHEAD is
 * prefetched (and its key kept) while key i resolves. */
static inline void lookup_lines(const rc_layout *l, const uint64_t *hashes, size_t n,
                                int32_t *out, int narrow, int compact)
{
    const char *base = line_base(l, compact);
    uint64_t line_at[RC_AHEAD];
    int16_t key_at[RC_AHEAD];
    size_t i;
    for (i = 0; i < n && i < RC_AHEAD; i++) {
        line_at[i] = rc_line_of(l, hashes[i], narrow, &key_at[i]);
        RC_PREFETCH(base + line_at[i] * 64);
    }
    for (i = 0; i + RC_AHEAD < n; i++) {
        size_t s = i % RC_AHEAD;
        uint64_t e = line_at[s];
        int16_t key = key_at[s];
        line_at[s] = rc_line_of(l, hashes[i + RC_AHEAD], narrow, &key_at[s]);
        RC_PREFETCH(base + line_at[s] * 64);
        out[i] = owner_in_line(l, base, e, key, hashes[i], compact);
    }
    for (; i < n; i++) {
        size_t s = i % RC_AHEAD;
        out[i] = owner_in_line(l, base, line_at[s], key_at[s], hashes[i], compact);
    }
}

void rc_lookup_owners(const rc_layout *layout, const uint64_t *hashes, size_t n, int32_t *out)
{
    const rc_layout l = *layout; /* a local copy: stores to out cannot alias it */
    /* each loop compiled for each kind of ring, without the narrow ring's
     * stretch on 64-bit rings */
    if (l.big) {
        if (l.compact) {
            if (l.narrow)
                lookup_lines(&l, hashes, n, out, 1, 1);
            else
                lookup_lines(&l, hashes, n, out, 0, 1);
        } else {
            if (l.narrow)
                lookup_lines(&l, hashes, n, out, 1, 0);
            else
                lookup_lines(&l, hashes, n, out, 0, 0);
        }
        return;
    }
    if (l.narrow) {
        for (size_t i = 0; i < n; i++)
            out[i] = rc_owner_small(&l, hashes[i], 1);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = rc_owner_small(&l, hashes[i], 0);
    }
}

rc_status rc_route_keys(const rc_layout *layout, const rc_dialect *d, const rc_keys *k,
                        size_t start, size_t stop, int32_t *out, int allow_nulls,
                        int32_t null_owner, size_t *bad, uint8_t *scratch)
{
    if (start > stop || stop > k->n || layout->npoints == 0)
        return RC_ERR_ARG;
    /* without a validity bitmap no key is null: skip the marks */
    int with_nulls = allow_nulls && k->validity != NULL;
    /* A chunk is hashed, then looked up. Hashing a few keys ahead of each
     * lookup in one pipeline instead, so that hashing would overlap the
     * memory's latency, measured the same (the core is busy either way). */
    uint64_t hashes[RC_CHUNK];
    uint8_t is_null[RC_CHUNK];
    uint8_t *nulls = with_nulls ? is_null : NULL;
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
