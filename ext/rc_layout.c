/* Ring layout: build, sort, merge, remove, table; see rc_layout.h. */
#include "rc_layout.h"

#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#  include <sys/mman.h>
#endif


int rc_layout_is_big(size_t npoints)
{
    return npoints > RC_BIG_POINTS;
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

enum { DIGIT = 12, BUCKETS = RC_SORT_BUCKETS, SMALL = 48 };

rc_status rc_sort_top(const rc_point *p, size_t n, rc_point *tmp, int hash_bits,
                      uint32_t *bucket_ends)
{
    if (n > RC_MAX_POINTS || (hash_bits != 64 && hash_bits != 32))
        return RC_ERR_ARG;
    if (hash_bits < 64)
        for (size_t i = 0; i < n; i++)
            if (p[i].pos >> hash_bits)
                return RC_ERR_ARG;
    int top = hash_bits - DIGIT;
    uint32_t *count = bucket_ends;
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
    return RC_OK;
}

rc_status rc_sort_buckets(rc_point *p, rc_point *tmp, size_t n, const uint32_t *bucket_ends,
                          size_t first, size_t last, int hash_bits)
{
    if (first > last || last > BUCKETS || (hash_bits != 64 && hash_bits != 32))
        return RC_ERR_ARG;
    for (size_t d = 1; d < BUCKETS; d++)
        if (bucket_ends[d] < bucket_ends[d - 1])
            return RC_ERR_ARG;
    if (bucket_ends[BUCKETS - 1] != n)
        return RC_ERR_ARG;
    uint32_t *sub = (uint32_t *)malloc((BUCKETS + 1) * sizeof(uint32_t));
    if (sub == NULL)
        return RC_ERR_NOMEM;
    int top = hash_bits - DIGIT;
    for (size_t d = first; d < last; d++) {
        size_t lo = d ? bucket_ends[d - 1] : 0, hi = bucket_ends[d], m = hi - lo;
        if (m <= SMALL) {
            memcpy(p + lo, tmp + lo, m * sizeof(rc_point));
            insertion_sort(p + lo, m);
            continue;
        }
        /* runs of about one point: 2^bits2 of them, sorted by insertion */
        int bits2 = 4;
        while (bits2 < DIGIT && ((size_t)1 << bits2) < m)
            bits2++;
        int shift2 = top - bits2;
        size_t runs = (size_t)1 << bits2, mask = runs - 1;
        memset(sub, 0, (runs + 1) * sizeof(uint32_t));
        for (size_t i = lo; i < hi; i++)
            sub[((tmp[i].pos >> shift2) & mask) + 1]++;
        for (size_t r = 1; r <= runs; r++)
            sub[r] += sub[r - 1];
        /* sub[r] is the start of run r within the bucket */
        for (size_t i = lo; i < hi; i++)
            p[lo + sub[(tmp[i].pos >> shift2) & mask]++] = tmp[i];
        /* sub[r] is now the end of run r */
        size_t run = lo;
        for (size_t r = 0; r < runs; r++) {
            size_t end = lo + sub[r];
            if (end - run <= SMALL)
                insertion_sort(p + run, end - run);
            else
                radix_sort_low(p + run, end - run, tmp + run, shift2);
            run = end;
        }
    }
    free(sub);
    return RC_OK;
}

rc_status rc_sort_points(rc_point *p, size_t n, rc_point *tmp, int hash_bits)
{
    /* A counting pass on the top 12 bits, then inside each bucket (which fits
     * in cache) a counting pass on the next bits into runs of about one point
     * for hashed positions, each sorted by insertion; a longer run (crafted
     * positions) by radix on the remaining bits. Every step is stable. */
    if (n > RC_MAX_POINTS || (hash_bits != 64 && hash_bits != 32))
        return RC_ERR_ARG;
    if (n <= SMALL) {
        for (size_t i = 0; i < n; i++)
            if (hash_bits < 64 && p[i].pos >> hash_bits)
                return RC_ERR_ARG;
        insertion_sort(p, n);
        return RC_OK;
    }
    uint32_t *ends = (uint32_t *)malloc(BUCKETS * sizeof(uint32_t));
    if (ends == NULL)
        return RC_ERR_NOMEM;
    rc_status status = rc_sort_top(p, n, tmp, hash_bits, ends);
    if (status == RC_OK)
        status = rc_sort_buckets(p, tmp, n, ends, 0, BUCKETS, hash_bits);
    free(ends);
    return status;
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

rc_status rc_merge_points(const rc_layout *old, const uint64_t *new_pos, size_t n_new,
                          int32_t new_owner, const uint8_t *new_sorts_first, size_t nnodes,
                          rc_point *out, size_t out_len)
{
    size_t n_old = old->npoints;
    if (out_len != n_old + n_new || n_old + n_new > RC_MAX_POINTS || new_owner < 0)
        return RC_ERR_ARG;
    for (size_t m = 1; m < n_new; m++)
        if (new_pos[m] < new_pos[m - 1])
            return RC_ERR_ARG;
    size_t i = 0, j = 0, k = 0;
    while (i < n_old || j < n_new) {
        int take_new;
        if (i == n_old) {
            take_new = 1;
        } else if (j == n_new) {
            take_new = 0;
        } else {
            int32_t owner = rc_layout_owner(old, i);
            if (owner < 0 || (size_t)owner >= nnodes)
                return RC_ERR_ARG;
            uint64_t pos = rc_layout_pos(old, i);
            take_new = new_pos[j] < pos || (new_pos[j] == pos && new_sorts_first[owner]);
        }
        if (take_new) {
            out[k].pos = new_pos[j++];
            out[k].owner = new_owner;
        } else {
            out[k].pos = rc_layout_pos(old, i);
            out[k].owner = rc_layout_owner(old, i);
            i++;
        }
        out[k++].spare = 0;
    }
    return RC_OK;
}

rc_status rc_remove_owner(const rc_layout *old, int32_t removed, size_t nnodes, rc_point *out,
                          size_t out_len, size_t *out_n)
{
    size_t n_old = old->npoints;
    if (removed < 0 || (size_t)removed >= nnodes || n_old > RC_MAX_POINTS)
        return RC_ERR_ARG;
    size_t k = 0;
    for (size_t i = 0; i < n_old; i++) {
        int32_t owner = rc_layout_owner(old, i);
        if (owner < 0 || (size_t)owner >= nnodes)
            return RC_ERR_ARG;
        if (owner == removed)
            continue;
        if (k >= out_len)
            return RC_ERR_ARG;
        out[k].pos = rc_layout_pos(old, i);
        out[k].owner = owner - (owner > removed);
        out[k++].spare = 0;
    }
    *out_n = k;
    return RC_OK;
}

rc_status rc_layout_init(rc_layout *layout, rc_point *points, size_t npoints, int hash_bits,
                         int32_t nnodes, uint32_t *table, size_t table_len, int trusted,
                         uint64_t *positions_out, int32_t *owners_out)
{
    if (npoints > RC_MAX_POINTS || (hash_bits != 64 && hash_bits != 32)
        || (npoints && nnodes < 1))
        return RC_ERR_ARG;
    int bits = rc_layout_table_bits(npoints, hash_bits);
    size_t nbuckets = (size_t)1 << bits;
    if (table_len != nbuckets)
        return RC_ERR_ARG;
    int big = rc_layout_is_big(npoints);
    if (!big && (positions_out == NULL || owners_out == NULL))
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
    /* One pass in ring order: the first point of each bucket writes its
     * entry and those of the empty buckets before it. Every entry is written
     * once, whatever the points hold, and is at most npoints. */
    int shift = hash_bits - bits;
    size_t next = 0; /* the first bucket not written yet */
    for (size_t i = 0; i < npoints; i++) {
        uint64_t b = points[i].pos >> shift; /* < nbuckets for checked points */
        if (b >= nbuckets)
            b = nbuckets - 1;
        if (b >= next) {
            uint32_t empty = big ? RC_TABLE_OWNER | (uint32_t)points[i].owner : (uint32_t)i;
            for (size_t e = next; e < b; e++)
                table[e] = empty;
            table[b] = (uint32_t)i;
            next = b + 1;
        }
    }
    uint32_t tail = big ? RC_TABLE_OWNER | (uint32_t)points[npoints].owner : (uint32_t)npoints;
    for (size_t e = next; e < nbuckets; e++)
        table[e] = tail;
    if (big) {
        layout->points = points;
        layout->positions = NULL;
        layout->owners = NULL;
    } else {
        for (size_t i = 0; i <= npoints; i++) {
            positions_out[i] = points[i].pos;
            owners_out[i] = points[i].owner;
        }
        layout->points = NULL;
        layout->positions = positions_out;
        layout->owners = owners_out;
    }
    layout->table = table;
    layout->npoints = (uint32_t)npoints;
    layout->table_bits = bits;
    layout->shift = shift;
    layout->last_bucket = (uint32_t)(nbuckets - 1);
    layout->narrow = hash_bits < 64;
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
