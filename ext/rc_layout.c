/* Ring layout: build, sort, merge, remove, table; see rc_layout.h. */
#include "rc_layout.h"

#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#  include <sys/mman.h>
#endif


int rc_layout_is_big(size_t npoints)
{
    return (npoints + 1) * sizeof(rc_point) + 2 * npoints * sizeof(uint32_t) > RC_BIG_BYTES;
}

int rc_layout_table_bits(size_t npoints, int hash_bits)
{
    /* 1 to 2 buckets per point; 2 to 4 on a big ring, where most buckets are
     * empty and answer a lookup without reading a point */
    int bits = 1;
    while (bits < RC_MAX_TABLE_BITS && bits < hash_bits && ((size_t)1 << bits) < npoints)
        bits++;
    if (rc_layout_is_big(npoints) && bits < RC_MAX_TABLE_BITS && bits < hash_bits)
        bits++;
    return bits;
}

static void insertion_sort(rc_point *p, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        rc_point v = p[i];
        size_t j = i;
        while (j && p[j - 1].pos > v.pos) {
            p[j] = p[j - 1];
            j--;
        }
        p[j] = v;
    }
}

/* Stable LSD radix sort of n records on position bits [0, bits), 8 at a time,
 * through tmp; the result ends in p. */
static void radix_sort_low(rc_point *p, size_t n, rc_point *tmp, int bits)
{
    size_t count[256];
    rc_point *src = p, *dst = tmp;
    for (int shift = 0; shift < bits; shift += 8) {
        memset(count, 0, sizeof(count));
        for (size_t i = 0; i < n; i++)
            count[(src[i].pos >> shift) & 255]++;
        if (count[(src[0].pos >> shift) & 255] == n)
            continue; /* every record has this digit */
        size_t sum = 0;
        for (size_t d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].pos >> shift) & 255]++] = src[i];
        rc_point *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != p)
        memcpy(p, src, n * sizeof(rc_point));
}

enum { DIGIT = 12, BUCKETS = 1 << DIGIT, SMALL = 48 };

rc_status rc_sort_points(rc_point *p, size_t n, rc_point *tmp, int hash_bits)
{
    if (n > RC_MAX_POINTS || (hash_bits != 64 && hash_bits != 32))
        return RC_ERR_ARG;
    if (hash_bits < 64)
        for (size_t i = 0; i < n; i++)
            if (p[i].pos >> hash_bits)
                return RC_ERR_ARG;
    if (n <= SMALL) {
        insertion_sort(p, n);
        return RC_OK;
    }
    /* Two counting passes on the top 24 bits (the second inside one first-level
     * bucket, which fits in cache), then each run of equal 24-bit prefixes:
     * about one point for hashed positions, sorted by insertion; a longer run
     * (crafted positions) by radix on the remaining bits. Every step is stable. */
    uint32_t *count = (uint32_t *)malloc(BUCKETS * sizeof(uint32_t));
    uint32_t *sub = (uint32_t *)malloc((BUCKETS + 1) * sizeof(uint32_t));
    if (count == NULL || sub == NULL) {
        free(count);
        free(sub);
        return RC_ERR_NOMEM;
    }
    int top = hash_bits - DIGIT, next = hash_bits - 2 * DIGIT;
    memset(count, 0, BUCKETS * sizeof(uint32_t));
    for (size_t i = 0; i < n; i++)
        count[p[i].pos >> top]++;
    uint32_t sum = 0;
    for (size_t d = 0; d < BUCKETS; d++) {
        uint32_t c = count[d];
        count[d] = sum;
        sum += c;
    }
    for (size_t i = 0; i < n; i++)
        tmp[count[p[i].pos >> top]++] = p[i];
    /* count[d] is now the end of bucket d */
    size_t lo = 0;
    for (size_t d = 0; d < BUCKETS; d++) {
        size_t hi = count[d], m = hi - lo;
        if (m <= SMALL) {
            memcpy(p + lo, tmp + lo, m * sizeof(rc_point));
            insertion_sort(p + lo, m);
            lo = hi;
            continue;
        }
        memset(sub, 0, (BUCKETS + 1) * sizeof(uint32_t));
        for (size_t i = lo; i < hi; i++)
            sub[((tmp[i].pos >> next) & (BUCKETS - 1)) + 1]++;
        for (size_t s = 1; s <= BUCKETS; s++)
            sub[s] += sub[s - 1];
        /* sub[s] is the start of run s within the bucket */
        for (size_t i = lo; i < hi; i++)
            p[lo + sub[(tmp[i].pos >> next) & (BUCKETS - 1)]++] = tmp[i];
        /* sub[s] is now the end of run s */
        size_t run = lo;
        for (size_t s = 0; s < BUCKETS; s++) {
            size_t end = lo + sub[s];
            if (end - run <= SMALL)
                insertion_sort(p + run, end - run);
            else
                radix_sort_low(p + run, end - run, tmp + run, next);
            run = end;
        }
        lo = hi;
    }
    free(count);
    free(sub);
    return RC_OK;
}

rc_status rc_place_nodes(const rc_dialect *d, const char *names, const int64_t *name_offsets,
                         size_t names_len, const uint32_t *counts, const int32_t *owners,
                         size_t nnodes, rc_point *out, size_t out_len)
{
    if (rc_dialect_check(d) != RC_OK || nnodes > RC_MAX_POINTS)
        return RC_ERR_ARG;
    size_t total = 0, longest = 0;
    for (size_t k = 0; k < nnodes; k++) {
        int64_t a = name_offsets[k], b = name_offsets[k + 1];
        if (a < 0 || b < a || (uint64_t)b > names_len || owners[k] < 0)
            return RC_ERR_ARG;
        if ((size_t)(b - a) > longest)
            longest = (size_t)(b - a);
        if (counts[k] > RC_MAX_POINTS - total)
            return RC_ERR_ARG;
        total += counts[k];
    }
    if (total != out_len)
        return RC_ERR_ARG;
    size_t scratch_len = rc_node_points_scratch_len(d, longest);
    enum { BLOCK = 256 };  /* nodes with more points take a buffer of their own */
    uint64_t positions[BLOCK];
    char *scratch = (char *)malloc(scratch_len ? scratch_len : 1);
    if (scratch == NULL)
        return RC_ERR_NOMEM;
    rc_status status = scratch_len ? RC_OK : RC_ERR_ARG;
    size_t at = 0;
    for (size_t k = 0; k < nnodes && status == RC_OK; k++) {
        const char *name = names + name_offsets[k];
        size_t name_len = (size_t)(name_offsets[k + 1] - name_offsets[k]);
        uint32_t count = counts[k];
        uint64_t *dst = positions;
        uint64_t *big = NULL;
        if (count > BLOCK) {
            big = (uint64_t *)malloc(count * sizeof(uint64_t));
            if (big == NULL) {
                status = RC_ERR_NOMEM;
                break;
            }
            dst = big;
        }
        status = rc_node_points(d, name, name_len, count, scratch, scratch_len, dst);
        for (uint32_t j = 0; j < count && status == RC_OK; j++) {
            out[at].pos = dst[j];
            out[at].owner = owners[k];
            out[at].spare = 0;
            at++;
        }
        free(big);
    }
    free(scratch);
    return status;
}

rc_status rc_merge_points(const rc_point *old, size_t n_old, const uint64_t *new_pos,
                          size_t n_new, int32_t new_owner, const uint8_t *new_sorts_first,
                          size_t nnodes, rc_point *out, size_t out_len)
{
    if (out_len != n_old + n_new || n_old + n_new > RC_MAX_POINTS || new_owner < 0)
        return RC_ERR_ARG;
    for (size_t m = 1; m < n_new; m++)
        if (new_pos[m] < new_pos[m - 1])
            return RC_ERR_ARG;
    size_t i = 0, j = 0, k = 0;
    while (i < n_old && j < n_new) {
        int32_t owner = old[i].owner;
        if (owner < 0 || (size_t)owner >= nnodes)
            return RC_ERR_ARG;
        int take_new = new_pos[j] < old[i].pos
                       || (new_pos[j] == old[i].pos && new_sorts_first[owner]);
        if (take_new) {
            out[k].pos = new_pos[j++];
            out[k].owner = new_owner;
            out[k++].spare = 0;
        } else {
            out[k++] = old[i++];
        }
    }
    if (i < n_old)
        memcpy(out + k, old + i, (n_old - i) * sizeof(rc_point));
    k += n_old - i;
    for (; j < n_new; j++, k++) {
        out[k].pos = new_pos[j];
        out[k].owner = new_owner;
        out[k].spare = 0;
    }
    return RC_OK;
}

rc_status rc_remove_owner(const rc_point *old, size_t n_old, int32_t removed, size_t nnodes,
                          rc_point *out, size_t out_len, size_t *out_n)
{
    if (removed < 0 || (size_t)removed >= nnodes || n_old > RC_MAX_POINTS)
        return RC_ERR_ARG;
    size_t k = 0;
    for (size_t i = 0; i < n_old; i++) {
        int32_t owner = old[i].owner;
        if (owner < 0 || (size_t)owner >= nnodes)
            return RC_ERR_ARG;
        if (owner == removed)
            continue;
        if (k >= out_len)
            return RC_ERR_ARG;
        out[k] = old[i];
        out[k++].owner = owner - (owner > removed);
    }
    *out_n = k;
    return RC_OK;
}

rc_status rc_layout_init(rc_layout *layout, rc_point *points, size_t npoints, int hash_bits,
                         int32_t nnodes, uint32_t *table, size_t table_len, int trusted)
{
    if (npoints > RC_MAX_POINTS || (hash_bits != 64 && hash_bits != 32)
        || (npoints && nnodes < 1))
        return RC_ERR_ARG;
    int bits = rc_layout_table_bits(npoints, hash_bits);
    size_t nbuckets = (size_t)1 << bits;
    if (table_len != nbuckets)
        return RC_ERR_ARG;
    if (!trusted) {
        int bad = 0;
        for (size_t i = 0; i < npoints; i++)
            bad |= (points[i].owner < 0) | (points[i].owner >= nnodes)
                   | (i > 0 && points[i].pos < points[i - 1].pos);
        if (hash_bits < 64 && npoints)
            bad |= (points[npoints - 1].pos >> hash_bits) != 0;
        if (bad)
            return RC_ERR_ARG;
    }
    points[npoints].pos = UINT64_MAX;
    points[npoints].owner = npoints ? points[0].owner : 0;
    points[npoints].spare = 0;
    /* count the points of each bucket (the positions are sorted, so this
     * walks the table in order), then turn counts into entries */
    int shift = hash_bits - bits, big = rc_layout_is_big(npoints);
    memset(table, 0, nbuckets * sizeof(uint32_t));
    for (size_t i = 0; i < npoints; i++) {
        uint64_t b = points[i].pos >> shift; /* < nbuckets for checked points */
        table[b < nbuckets ? b : nbuckets - 1]++;
    }
    uint32_t first = 0;
    for (size_t b = 0; b < nbuckets; b++) {
        uint32_t c = table[b];
        uint32_t owner_entry = RC_TABLE_OWNER | (uint32_t)points[first].owner;
        table[b] = c || !big ? first : owner_entry;
        first += c;
    }
    layout->points = points;
    layout->table = table;
    layout->npoints = (uint32_t)npoints;
    layout->table_bits = bits;
    layout->shift = shift;
    layout->last_bucket = (uint32_t)(nbuckets - 1);
    layout->big = big;
    return RC_OK;
}

void *rc_alloc_big(size_t len)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    enum { HUGE_PAGE = 2 << 20 };
    if (len >= 2 * (size_t)HUGE_PAGE) {
        void *data = NULL;
        if (posix_memalign(&data, HUGE_PAGE, len) != 0)
            return NULL;
        (void)madvise(data, len, MADV_HUGEPAGE); /* advice: failure is harmless */
        return data;
    }
#endif
    return malloc(len ? len : 1);
}

void rc_free_big(void *data)
{
    free(data);
}
