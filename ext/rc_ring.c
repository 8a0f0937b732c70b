/* Ring search kernels; see rc_ring.h. */
#include "rc_ring.h"

#include <stdlib.h>
#include <string.h>

#include "rc_xxh3.h"

int rc_table_bits(uint32_t npoints)
{
    int bits = 1;
    while (bits < RC_MAX_TABLE_BITS && ((uint64_t)1 << bits) < npoints)
        bits++;
    return bits;
}

rc_status rc_build_table(const uint64_t *positions, size_t npoints, int bits,
                         uint32_t *table, size_t table_len)
{
    if (bits < 1 || bits > RC_MAX_TABLE_BITS || npoints > RC_MAX_POINTS)
        return RC_ERR_ARG;
    size_t nbuckets = (size_t)1 << bits;
    if (table_len != nbuckets)
        return RC_ERR_ARG;
    /* table[b] = number of points in buckets before b: count the points per
     * bucket (shifted by one), then take prefix sums. No data-dependent
     * branches, unlike a walk that compares bucket starts with positions. */
    int shift = 64 - bits;
    memset(table, 0, nbuckets * sizeof(uint32_t));
    for (size_t i = 0; i < npoints; i++) {
        size_t b = (size_t)(positions[i] >> shift) + 1;
        if (b < nbuckets)
            table[b]++;
    }
    for (size_t b = 1; b < nbuckets; b++)
        table[b] += table[b - 1];
    return RC_OK;
}

rc_status rc_ring_validate(const rc_ring *ring, size_t table_len, int32_t nnodes)
{
    uint32_t n = ring->npoints;
    if (ring->bits < 1 || ring->bits > RC_MAX_TABLE_BITS || n < 1 || n > RC_MAX_POINTS)
        return RC_ERR_ARG;
    size_t nbuckets = (size_t)1 << ring->bits;
    if (table_len != nbuckets)
        return RC_ERR_ARG;
    if (ring->positions[n] != UINT64_MAX || ring->owners[n] != ring->owners[0])
        return RC_ERR_ARG;
    int bad = 0;
    for (uint32_t i = 0; i < n; i++)
        bad |= (ring->owners[i] < 0) | (ring->owners[i] >= nnodes);
    for (uint32_t i = 1; i < n; i++)
        bad |= ring->positions[i] < ring->positions[i - 1];
    /* Lookups stay inside the arrays when the table is monotonic and <= n. */
    bad |= ring->table[0] != 0;
    for (size_t b = 1; b < nbuckets; b++)
        bad |= (ring->table[b] < ring->table[b - 1]) | (ring->table[b] > n);
    return bad ? RC_ERR_ARG : RC_OK;
}

rc_status rc_sort_points(uint64_t *pos, int32_t *own, size_t n, uint64_t *tmp_pos,
                         int32_t *tmp_own)
{
    /* LSD radix sort, 11 bits a pass: stable, so points that share a position
     * keep the order they came in. */
    enum { DIGIT = 11, BUCKETS = 1 << DIGIT };
    if (n > RC_MAX_POINTS)
        return RC_ERR_ARG;
    size_t *count = (size_t *)malloc(BUCKETS * sizeof(size_t));
    if (count == NULL)
        return RC_ERR_NOMEM;
    uint64_t *src_pos = pos, *dst_pos = tmp_pos;
    int32_t *src_own = own, *dst_own = tmp_own;
    for (int shift = 0; shift < 64; shift += DIGIT) {
        memset(count, 0, BUCKETS * sizeof(size_t));
        for (size_t i = 0; i < n; i++)
            count[(src_pos[i] >> shift) & (BUCKETS - 1)]++;
        if (n && count[(src_pos[0] >> shift) & (BUCKETS - 1)] == n)
            continue; /* every key has this digit: the pass would not move anything */
        size_t sum = 0;
        for (size_t d = 0; d < BUCKETS; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t at = count[(src_pos[i] >> shift) & (BUCKETS - 1)]++;
            dst_pos[at] = src_pos[i];
            dst_own[at] = src_own[i];
        }
        uint64_t *swap_pos = src_pos;
        src_pos = dst_pos;
        dst_pos = swap_pos;
        int32_t *swap_own = src_own;
        src_own = dst_own;
        dst_own = swap_own;
    }
    if (src_pos != pos) {
        memcpy(pos, src_pos, n * sizeof(uint64_t));
        memcpy(own, src_own, n * sizeof(int32_t));
    }
    free(count);
    return RC_OK;
}

void rc_route_hashes(const rc_ring *ring, const uint64_t *hashes, size_t n, int32_t *out)
{
    const rc_ring r = *ring; /* a local copy: stores to out cannot alias it */
    for (size_t i = 0; i < n; i++)
        out[i] = rc_ring_owner(&r, hashes[i]);
}

rc_status rc_node_points(const char *name, size_t name_len, uint32_t count,
                         char *scratch, size_t scratch_len, uint64_t *out)
{
    /* "#" and at most 10 decimal digits follow the name */
    if (name_len > SIZE_MAX - 11 || scratch_len < name_len + 11 || count > RC_MAX_POINTS)
        return RC_ERR_ARG;
    memcpy(scratch, name, name_len);
    scratch[name_len] = '#';
    char *digits = scratch + name_len + 1;
    for (uint32_t j = 0; j < count; j++) {
        char rev[10];
        int nd = 0;
        uint32_t v = j;
        do {
            rev[nd++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        for (int d = 0; d < nd; d++)
            digits[d] = rev[nd - 1 - d];
        out[j] = rc_xxh3_64(scratch, name_len + 1 + (size_t)nd);
    }
    return RC_OK;
}

rc_status rc_merge_points(const uint64_t *old_pos, const int32_t *old_own, size_t n_old,
                          const uint64_t *new_pos, size_t n_new, int32_t new_owner,
                          const uint8_t *new_sorts_first, size_t nnodes,
                          uint64_t *out_pos, int32_t *out_own, size_t out_len)
{
    if (out_len != n_old + n_new || n_old + n_new > RC_MAX_POINTS)
        return RC_ERR_ARG;
    size_t i = 0, j = 0, k = 0;
    while (i < n_old && j < n_new) {
        int32_t owner = old_own[i];
        if (owner < 0 || (size_t)owner >= nnodes)
            return RC_ERR_ARG;
        int take_new = new_pos[j] < old_pos[i]
                       || (new_pos[j] == old_pos[i] && new_sorts_first[owner]);
        if (take_new) {
            out_pos[k] = new_pos[j++];
            out_own[k++] = new_owner;
        } else {
            out_pos[k] = old_pos[i];
            out_own[k++] = old_own[i++];
        }
    }
    for (; i < n_old; i++, k++) {
        out_pos[k] = old_pos[i];
        out_own[k] = old_own[i];
    }
    for (; j < n_new; j++, k++) {
        out_pos[k] = new_pos[j];
        out_own[k] = new_owner;
    }
    return RC_OK;
}

int64_t rc_ring_walk(const rc_ring *ring, uint32_t start, size_t want,
                  uint8_t *seen, size_t nnodes, int32_t *out)
{
    if (start > ring->npoints || want > nnodes)
        return RC_ERR_ARG;
    if (start == ring->npoints)
        start = 0;
    size_t taken = 0;
    uint32_t i = start;
    for (uint32_t step = 0; step < ring->npoints && taken < want; step++) {
        int32_t owner = ring->owners[i];
        if (owner < 0 || (size_t)owner >= nnodes)
            return RC_ERR_ARG;
        if (!seen[owner]) {
            seen[owner] = 1;
            out[taken++] = owner;
        }
        if (++i == ring->npoints)
            i = 0;
    }
    return (int64_t)taken;
}
