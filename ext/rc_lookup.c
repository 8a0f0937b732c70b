/* Lookups; see rc_lookup.h. */
#include "rc_lookup.h"

#include <stdlib.h>
#include <string.h>

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
        if (layout->compact)
            return rc_cline_index(layout, layout->clines + e, key, h);
        return rc_line_index(layout, layout->lines + e, key, h);
    }
    return rc_index_small(layout, h, layout->narrow);
}

/* The table of a big ring as bytes (either kind of line: 64 bytes), and the
 * owner of hash h whose line is e and key is key. */
static inline const char *line_base(const rc_layout *l, int compact)
{
    return compact ? (const char *)l->clines : (const char *)l->lines;
}

/* want_index: the index of the owning point (point 0 for the wrap-around),
 * else its owner. */
static inline int32_t owner_in_line(const rc_layout *l, const char *base, uint64_t e,
                                    int16_t key, uint64_t h, int compact, int want_index)
{
    if (want_index) {
        uint32_t i = compact ? rc_cline_index(l, (const rc_cline *)base + e, key, h)
                             : rc_line_index(l, (const rc_line *)base + e, key, h);
        return i == l->npoints ? 0 : (int32_t)i;
    }
    if (compact)
        return rc_cline_owner(l, (const rc_cline *)base + e, key, h);
    return rc_line_owner(l, (const rc_line *)base + e, key, h);
}

/* Owners (or point indices) of n hashes on a big ring: the line of key
 * i + RC_AHEAD is prefetched (and its key kept) while key i resolves. */
static inline void lookup_lines(const rc_layout *l, const uint64_t *hashes, size_t n,
                                int32_t *out, int narrow, int compact, int want_index)
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
        out[i] = owner_in_line(l, base, e, key, hashes[i], compact, want_index);
    }
    for (; i < n; i++) {
        size_t s = i % RC_AHEAD;
        out[i] = owner_in_line(l, base, line_at[s], key_at[s], hashes[i], compact, want_index);
    }
}

/* The one lookup loop, compiled for each kind of ring (without the narrow
 * ring's stretch on 64-bit rings) and each output. */
static inline void lookup_all(const rc_layout *layout, const uint64_t *hashes, size_t n,
                              int32_t *out, int want_index)
{
    const rc_layout l = *layout; /* a local copy: stores to out cannot alias it */
    if (l.big) {
        if (l.compact) {
            if (l.narrow)
                lookup_lines(&l, hashes, n, out, 1, 1, want_index);
            else
                lookup_lines(&l, hashes, n, out, 0, 1, want_index);
        } else {
            if (l.narrow)
                lookup_lines(&l, hashes, n, out, 1, 0, want_index);
            else
                lookup_lines(&l, hashes, n, out, 0, 0, want_index);
        }
        return;
    }
    if (want_index) {
        for (size_t i = 0; i < n; i++) {
            uint32_t at = rc_index_small(&l, hashes[i], l.narrow);
            out[i] = at == l.npoints ? 0 : (int32_t)at;
        }
    } else if (l.narrow) {
        for (size_t i = 0; i < n; i++)
            out[i] = rc_owner_small(&l, hashes[i], 1);
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = rc_owner_small(&l, hashes[i], 0);
    }
}

void rc_lookup_owners(const rc_layout *layout, const uint64_t *hashes, size_t n, int32_t *out)
{
    lookup_all(layout, hashes, n, out, 0);
}

void rc_lookup_indices(const rc_layout *layout, const uint64_t *hashes, size_t n, int32_t *out)
{
    lookup_all(layout, hashes, n, out, 1);
}

rc_status rc_route_keys(const rc_layout *layout, const rc_dialect *d, const rc_keys *k,
                        size_t start, size_t stop, int32_t *out, int allow_nulls,
                        int32_t null_owner, size_t *bad, uint8_t *scratch, rc_want want)
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
        if (want == RC_WANT_INDICES)
            rc_lookup_indices(layout, hashes, hi - lo, target);
        else
            rc_lookup_owners(layout, hashes, hi - lo, target);
        if (nulls != NULL)
            for (size_t i = 0; i < hi - lo; i++)
                if (nulls[i])
                    target[i] = null_owner;
    }
    return RC_OK;
}

int64_t rc_walk_owners(const rc_layout *layout, uint32_t start, size_t want,
                       const int32_t *class_of, uint8_t *seen, size_t nclasses, size_t nnodes,
                       int32_t *out)
{
    uint32_t n = layout->npoints;
    if (start > n || want > nclasses || (class_of == NULL && nclasses != nnodes))
        return RC_ERR_ARG;
    if (start == n)
        start = 0;
    size_t taken = 0;
    uint32_t i = start;
    for (uint32_t step = 0; step < n && taken < want; step++) {
        int32_t owner = rc_layout_owner(layout, i);
        if (owner < 0 || (size_t)owner >= nnodes)
            return RC_ERR_ARG;
        int32_t cls = class_of != NULL ? class_of[owner] : owner;
        if (cls < 0 || (size_t)cls >= nclasses)
            return RC_ERR_ARG;
        if (!seen[cls]) {
            seen[cls] = 1;
            out[taken++] = owner;
        }
        if (++i == n)
            i = 0;
    }
    return (int64_t)taken;
}

/* Row i from row i + 1 (next, or NULL at the start of the first pass): the
 * owner of point i, then next's owners of other classes. */
static void replica_row(int32_t owner, const int32_t *class_of, const int32_t *next, size_t n,
                        int32_t *row)
{
    size_t taken = 0;
    row[taken++] = owner;
    int32_t cls = class_of[owner];
    for (size_t r = 0; next != NULL && r < n && taken < n; r++) {
        int32_t o = next[r];
        if (o < 0)
            break;
        if (class_of[o] != cls)
            row[taken++] = o;
    }
    while (taken < n)
        row[taken++] = -1;
}

rc_status rc_replica_rows(const rc_layout *layout, const int32_t *class_of, size_t nnodes,
                          size_t n, int32_t *rows, size_t rows_len)
{
    size_t m = layout->npoints;
    if (m == 0 || n == 0 || n > nnodes || n > SIZE_MAX / m || rows_len != m * n)
        return RC_ERR_ARG;
    for (size_t i = 0; i < m; i++) {
        int32_t o = rc_layout_owner(layout, i);
        if (o < 0 || (size_t)o >= nnodes)
            return RC_ERR_ARG;
    }
    /* A walk from point i takes the first point of each class in order, so
     * row i is point i's owner followed by row i + 1 without that owner's
     * class. The first pass (backwards, no wrap-around) leaves rows short
     * near the end; the second carries row 0 (complete: every class is met
     * from point 0) round into them, until a row that was complete. */
    for (size_t i = m; i-- > 0;)
        replica_row(rc_layout_owner(layout, i), class_of,
                    i + 1 < m ? rows + (i + 1) * n : NULL, n, rows + i * n);
    if (rows[n - 1] < 0)
        return RC_ERR_ARG; /* fewer classes own points than n */
    for (size_t i = m; i-- > 0;) {
        if (rows[i * n + n - 1] >= 0)
            break;
        replica_row(rc_layout_owner(layout, i), class_of,
                    i + 1 < m ? rows + (i + 1) * n : rows, n, rows + i * n);
    }
    return RC_OK;
}

size_t rc_take_rows(const int32_t *rows, size_t nrows, size_t width, const int32_t *indices,
                    size_t n, int32_t null_value, int32_t *out)
{
    /* the rows of keys RC_AHEAD further on are fetched while these are
     * copied (64 ahead measured no faster on 1.6M points) */
    for (size_t k = 0; k < n; k++) {
        if (k + RC_AHEAD < n) {
            int32_t ahead = indices[k + RC_AHEAD];
            if (ahead >= 0 && (size_t)ahead < nrows)
                RC_PREFETCH(rows + (size_t)ahead * width);
        }
        int32_t at = indices[k];
        int32_t *row = out + k * width;
        if (at < 0) {
            for (size_t r = 0; r < width; r++)
                row[r] = null_value;
        } else if ((size_t)at >= nrows) {
            return k;
        } else {
            /* memmove: a caller may pass rows and out over the same memory */
            memmove(row, rows + (size_t)at * width, width * sizeof(int32_t));
        }
    }
    return n;
}

/* The first point from point i on (wrapping) whose node has room. links[p]
 * is 0 while point p leads to itself, else 1 + the point it leads to: the
 * points of full nodes are linked onward when a walk first meets them (so
 * the links start as zeroed memory, nothing to set up per point), and a
 * walk's path is then pointed straight at the point it found. */
static uint32_t first_with_room(const rc_layout *layout, uint32_t *links, uint32_t i,
                                const int64_t *capacity, const int64_t *load)
{
    uint32_t m = layout->npoints;
    uint32_t root = i;
    for (;;) {
        while (links[root] != 0)
            root = links[root] - 1;
        int32_t owner = rc_layout_owner(layout, root);
        if (load[owner] < capacity[owner])
            break;
        uint32_t next = root + 1 == m ? 0 : root + 1;
        links[root] = next + 1;
        root = next;
    }
    while (i != root) {
        uint32_t after = links[i] - 1;
        links[i] = root + 1;
        i = after;
    }
    return root;
}

rc_status rc_assign_bounded(const rc_layout *layout, const int32_t *start, size_t nkeys,
                            const int64_t *capacity, int64_t *load, size_t nnodes,
                            uint32_t *links, int32_t null_owner, int32_t *out)
{
    uint32_t m = layout->npoints;
    if (m == 0 || nnodes == 0)
        return RC_ERR_ARG;
    /* every owner must be a node; nodes with room and points keep walks finite */
    uint8_t *owns = (uint8_t *)calloc(nnodes, 1);
    if (owns == NULL)
        return RC_ERR_NOMEM;
    for (uint32_t i = 0; i < m; i++) {
        int32_t o = rc_layout_owner(layout, i);
        if (o < 0 || (size_t)o >= nnodes) {
            free(owns);
            return RC_ERR_ARG;
        }
        owns[o] = 1;
    }
    size_t open = 0; /* nodes with points and room */
    rc_status status = RC_OK;
    for (size_t v = 0; v < nnodes; v++) {
        if (load[v] < 0)
            status = RC_ERR_ARG;
        else if (owns[v] && load[v] < capacity[v])
            open++;
    }
    free(owns);
    if (status != RC_OK)
        return status;
    for (size_t k = 0; k < nkeys; k++) {
        if (start[k] < 0) {
            out[k] = null_owner;
            continue;
        }
        /* with a node open, every walk ends at one of its points */
        if ((uint32_t)start[k] >= m || open == 0)
            return RC_ERR_ARG;
        int32_t o = rc_layout_owner(layout,
                                    first_with_room(layout, links, (uint32_t)start[k], capacity,
                                                    load));
        out[k] = o;
        if (++load[o] == capacity[o])
            open--;
    }
    return RC_OK;
}
