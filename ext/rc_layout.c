/* Ring layout: build, sort, merge, remove, table; see rc_layout.h. */
#include "rc_layout.h"

#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#  include <sys/mman.h>
#endif
#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

/* Rings big enough to leave the cache are copied with stores that bypass
 * it: a plain store first reads the line it writes (a third of the memory
 * traffic of a copy), and the copy would evict what lookups keep cached. */
#define RC_STREAM_MIN ((size_t)1 << 16)

/* Records src[0 .. n) into dst, owners above `removed` (or none, when it is
 * negative) one lower; the removed owner's records are left out and their
 * indices (offset by first) written to removed_at. Returns the records
 * written. */
static size_t copy_records(rc_point *dst, const rc_point *src, size_t n, int32_t removed,
                           uint32_t *removed_at, size_t first)
{
    size_t k = 0;
#if defined(__SSE2__)
    if (n >= RC_STREAM_MIN && ((uintptr_t)dst & 15) == 0) {
        const __m128i owner_lane = _mm_set_epi32(0, -1, 0, 0);
        const __m128i limit = _mm_set1_epi32(removed < 0 ? INT32_MAX : removed);
        for (size_t i = 0; i < n; i++) {
            __m128i point = _mm_loadu_si128((const __m128i *)(src + i));
            if (removed >= 0 && src[i].owner == removed) {
                *removed_at++ = (uint32_t)(first + i);
                continue;
            }
            /* owner - (owner > removed): the compare gives -1 in that lane */
            __m128i above = _mm_and_si128(_mm_cmpgt_epi32(point, limit), owner_lane);
            _mm_stream_si128((__m128i *)(dst + k), _mm_add_epi32(point, above));
            k++;
        }
        _mm_sfence();
        return k;
    }
#endif
    for (size_t i = 0; i < n; i++) {
        rc_point point = src[i];
        if (removed >= 0 && point.owner == removed) {
            *removed_at++ = (uint32_t)(first + i);
            continue;
        }
        point.owner -= removed >= 0 && point.owner > removed;
        dst[k++] = point;
    }
    return k;
}


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

/* The first point of the layout at or after index lo whose position is at
 * least value (npoints if none). */
static size_t lower_bound(const rc_layout *layout, size_t lo, uint64_t value)
{
    size_t hi = layout->npoints;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rc_layout_pos(layout, mid) < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Where new_pos goes among old points [lo, n_old): after the points below
 * it and after the equal ones whose names sort first. */
static size_t merge_slot(const rc_layout *old, size_t lo, uint64_t new_pos,
                         const uint8_t *new_sorts_first, size_t nnodes, int *bad)
{
    lo = lower_bound(old, lo, new_pos);
    while (lo < old->npoints && rc_layout_pos(old, lo) == new_pos) {
        int32_t owner = rc_layout_owner(old, lo);
        if (owner < 0 || (size_t)owner >= nnodes) {
            *bad = 1;
            return lo;
        }
        if (new_sorts_first[owner])
            break;
        lo++;
    }
    return lo;
}

int rc_points_from_arrays(const uint64_t *positions, const int32_t *owners, size_t n,
                          int32_t nnodes, int hash_bits, rc_point *out, uint8_t *owned)
{
    uint64_t above = hash_bits < 64 ? ~(((uint64_t)1 << hash_bits) - 1) : 0;
    uint64_t previous = 0;
    int bad = nnodes < 1 && n > 0;
#if defined(__SSE2__)
    int stream = n >= RC_STREAM_MIN && ((uintptr_t)out & 15) == 0;
#endif
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = positions[i];
        int32_t owner = owners[i];
        int in_range = owner >= 0 && owner < nnodes;
#if defined(__SSE2__)
        if (stream) {
            _mm_stream_si128((__m128i *)(out + i),
                             _mm_set_epi64x((int64_t)(uint32_t)owner, (int64_t)pos));
        } else
#endif
        {
            out[i].pos = pos;
            out[i].owner = owner;
            out[i].spare = 0;
        }
        bad |= !in_range | (pos < previous) | ((pos & above) != 0);
        owned[in_range ? owner : 0] = 1;
        previous = pos;
    }
#if defined(__SSE2__)
    if (stream)
        _mm_sfence();
#endif
    return !bad;
}

size_t rc_count_present(const rc_layout *layout, const uint64_t *pos, size_t n)
{
    size_t found = 0;
    for (size_t j = 0; j < n; j++) {
        size_t at = lower_bound(layout, 0, pos[j]);
        found += at < layout->npoints && rc_layout_pos(layout, at) == pos[j];
    }
    return found;
}

/* Old points [from, to) as records into out. */
static void copy_points(const rc_layout *old, size_t from, size_t to, rc_point *out)
{
    if (old->big) {
        copy_records(out, old->points + from, to - from, -1, NULL, 0);
        return;
    }
    for (size_t i = from; i < to; i++) {
        out[i - from].pos = old->positions[i];
        out[i - from].owner = old->owners[i];
        out[i - from].spare = 0;
    }
}

rc_status rc_merge_points(const rc_layout *old, const uint64_t *new_pos, size_t n_new,
                          int32_t new_owner, const uint8_t *new_sorts_first, size_t nnodes,
                          int hash_bits, rc_point *out, size_t out_len, uint32_t *slots)
{
    /* A few new points among many old ones: each new point's place by binary
     * search, the old points between them copied as blocks. */
    size_t n_old = old->npoints;
    if (out_len != n_old + n_new || n_old + n_new > RC_MAX_POINTS || new_owner < 0
        || (hash_bits != 64 && hash_bits != 32))
        return RC_ERR_ARG;
    for (size_t m = 1; m < n_new; m++)
        if (new_pos[m] < new_pos[m - 1])
            return RC_ERR_ARG;
    if (hash_bits < 64 && n_new && new_pos[n_new - 1] >> hash_bits)
        return RC_ERR_ARG; /* the merged points are trusted to fit the ring */
    size_t i = 0, k = 0;
    int bad = 0;
    for (size_t j = 0; j < n_new; j++) {
        size_t slot = merge_slot(old, i, new_pos[j], new_sorts_first, nnodes, &bad);
        if (bad)
            return RC_ERR_ARG;
        copy_points(old, i, slot, out + k);
        k += slot - i;
        i = slot;
        if (slots != NULL)
            slots[j] = (uint32_t)slot;
        out[k].pos = new_pos[j];
        out[k].owner = new_owner;
        out[k++].spare = 0;
    }
    copy_points(old, i, n_old, out + k);
    return RC_OK;
}

rc_status rc_remove_owner(const rc_layout *old, int32_t removed, size_t nnodes, rc_point *out,
                          size_t out_len, size_t *out_n, uint32_t *removed_at, size_t removed_len)
{
    size_t n_old = old->npoints;
    if (removed < 0 || (size_t)removed >= nnodes || n_old > RC_MAX_POINTS)
        return RC_ERR_ARG;
    size_t k = 0;
    /* a layout's owners were checked (or made here) when it was filled */
    if (old->big && out_len >= n_old && removed_at != NULL && removed_len >= n_old) {
        *out_n = copy_records(out, old->points, n_old, removed, removed_at, 0);
        return RC_OK;
    }
    for (size_t i = 0; i < n_old; i++) {
        int32_t owner = rc_layout_owner(old, i);
        if (owner == removed) {
            if (removed_at != NULL) {
                if (i - k >= removed_len)
                    return RC_ERR_ARG;
                removed_at[i - k] = (uint32_t)i;
            }
            continue;
        }
        if (k >= out_len)
            return RC_ERR_ARG;
        out[k].pos = rc_layout_pos(old, i);
        out[k].owner = owner - (owner > removed);
        out[k++].spare = 0;
    }
    *out_n = k;
    return RC_OK;
}

int rc_layout_same_shape(const rc_layout *old, size_t npoints)
{
    int hash_bits = old->shift + old->table_bits;
    return npoints > 0 && old->npoints > 0
           && rc_layout_table_bits(npoints, hash_bits) == old->table_bits
           && rc_layout_is_big(npoints) == old->big;
}

/* The bucket of pos in old's table. */
static inline uint64_t bucket_in(const rc_layout *old, uint64_t pos)
{
    return rc_bucket_clamped(pos, old->shift, old->last_bucket);
}

rc_status rc_table_after_merge(const rc_layout *old, const uint64_t *new_pos,
                               const uint32_t *slots, size_t n_new, int32_t new_owner,
                               uint32_t *out, size_t out_len)
{
    size_t n_old = old->npoints, nbuckets = (size_t)old->last_bucket + 1;
    if (out_len != nbuckets || n_new > RC_MAX_POINTS - n_old || new_owner < 0
        || !rc_layout_same_shape(old, n_old + n_new))
        return RC_ERR_ARG;
    for (size_t j = 0; j < n_new; j++)
        if (slots[j] > n_old || (j && (slots[j] < slots[j - 1] || new_pos[j] < new_pos[j - 1])))
            return RC_ERR_ARG;
    const uint32_t *table = old->table;
    /* The buckets above j new points (a run of buckets each) move their
     * first point up by j; an owner entry keeps its owner. One pass the
     * compiler vectorises. */
    size_t e = 0;
    for (size_t j = 0; j <= n_new; j++) {
        size_t end = j < n_new ? bucket_in(old, new_pos[j]) + 1 : nbuckets;
        for (; e < end; e++) {
            uint32_t entry = table[e];
            out[e] = entry + ((uint32_t)j & ((entry >> 31) - 1));
        }
    }
    if (!old->big || n_new == 0)
        return RC_OK;
    /* Then the few entries a new point changes: the empty buckets between it
     * and the old point before it now name its owner, an empty bucket that
     * it falls in now starts at it, and the empty buckets past the last point
     * name the owner of the first. */
    uint32_t new_entry = RC_TABLE_OWNER | (uint32_t)new_owner;
    for (size_t j = 0; j < n_new; j++) {
        uint64_t bucket = bucket_in(old, new_pos[j]);
        uint64_t lo = slots[j] ? bucket_in(old, old->points[slots[j] - 1].pos) + 1 : 0;
        if (j) {
            uint64_t after_previous = bucket_in(old, new_pos[j - 1]) + 1;
            lo = lo > after_previous ? lo : after_previous;
        }
        for (uint64_t f = lo; f < bucket; f++)
            out[f] = new_entry;
        int first_in_bucket = j == 0 || bucket_in(old, new_pos[j - 1]) != bucket;
        if (first_in_bucket && (table[bucket] & RC_TABLE_OWNER))
            out[bucket] = slots[j] + (uint32_t)j;
    }
    if (slots[0] == 0) {
        uint64_t last_old = bucket_in(old, old->points[n_old - 1].pos);
        uint64_t last_new = bucket_in(old, new_pos[n_new - 1]);
        for (size_t f = (last_old > last_new ? last_old : last_new) + 1; f < nbuckets; f++)
            out[f] = new_entry;
    }
    return RC_OK;
}

rc_status rc_table_after_remove(const rc_layout *old, const uint32_t *removed_at,
                                size_t n_removed, int32_t removed, uint32_t *out, size_t out_len)
{
    size_t n_old = old->npoints, nbuckets = (size_t)old->last_bucket + 1;
    if (out_len != nbuckets || n_removed >= n_old || removed < 0
        || !rc_layout_same_shape(old, n_old - n_removed))
        return RC_ERR_ARG;
    for (size_t q = 0; q < n_removed; q++)
        if (removed_at[q] >= n_old || (q && removed_at[q] <= removed_at[q - 1])
            || rc_layout_owner(old, removed_at[q]) != removed)
            return RC_ERR_ARG;
    const uint32_t *table = old->table;
    /* The buckets above q removed points move their first point down by q;
     * an owner entry above the removed node's index moves down by one. */
    size_t e = 0;
    for (size_t q = 0; q <= n_removed; q++) {
        size_t end = q < n_removed
                         ? bucket_in(old, rc_layout_pos(old, removed_at[q])) + 1
                         : nbuckets;
        for (; e < end; e++) {
            uint32_t entry = table[e];
            uint32_t is_index = (entry >> 31) - 1;
            uint32_t above = (uint32_t)((entry & ~RC_TABLE_OWNER) > (uint32_t)removed);
            out[e] = entry - (((uint32_t)q & is_index) | (above & ~is_index));
        }
    }
    if (!old->big || n_removed == 0)
        return RC_OK;
    /* Then the buckets whose first point at or after them was removed: the
     * next point that stays decides (the first point, past the last one). */
    size_t first = 0;
    while (first < n_removed && removed_at[first] == first)
        first++;
    int32_t first_owner = old->points[first].owner;
    uint32_t wrap_entry = RC_TABLE_OWNER | (uint32_t)(first_owner - (first_owner > removed));
    size_t q = 0;
    while (q < n_removed) {
        size_t next = removed_at[q], run_end = q;
        while (run_end < n_removed && removed_at[run_end] == next) {
            run_end++;
            next++;
        }
        /* removed points removed_at[q .. run_end) are consecutive; next stays */
        uint32_t index = removed_at[q] - (uint32_t)q;
        uint32_t entry = wrap_entry;
        uint64_t next_bucket = nbuckets;
        if (next < n_old) {
            int32_t o = old->points[next].owner;
            entry = RC_TABLE_OWNER | (uint32_t)(o - (o > removed));
            next_bucket = bucket_in(old, old->points[next].pos);
        }
        uint64_t lo = removed_at[q] ? bucket_in(old, old->points[removed_at[q] - 1].pos) + 1
                                    : 0;
        uint64_t hi = bucket_in(old, old->points[next - 1].pos);
        for (uint64_t f = lo; f <= hi; f++)
            out[f] = f == next_bucket ? index : entry;
        q = run_end;
    }
    if (removed_at[0] == 0) {
        for (size_t f = bucket_in(old, old->points[n_old - 1].pos) + 1; f < nbuckets; f++)
            out[f] = wrap_entry;
    }
    return RC_OK;
}

/* The first of n sorted points in bucket e or above (e below the last bucket + 1). */
static size_t first_in_bucket(const rc_point *points, size_t n, uint64_t e, int shift)
{
    uint64_t value = e << shift; /* e < 2^bits: no bit is shifted out */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (points[mid].pos < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

rc_status rc_fill_table_range(const rc_point *points, size_t npoints, int hash_bits,
                              uint32_t *table, size_t table_len, size_t first, size_t end)
{
    /* Count the points of each bucket, then turn the counts into the index
     * of each bucket's first point (the number of points before it): no
     * branch depends on the data, whatever the points hold. On a big ring an
     * empty bucket names the owner of the next point clockwise instead. A
     * range of buckets needs only its own points: ranges run in parallel. */
    if (npoints > RC_MAX_POINTS || (hash_bits != 64 && hash_bits != 32))
        return RC_ERR_ARG;
    int bits = rc_layout_table_bits(npoints, hash_bits);
    size_t nbuckets = (size_t)1 << bits;
    if (table_len != nbuckets || first > end || end > nbuckets)
        return RC_ERR_ARG;
    int shift = hash_bits - bits, big = rc_layout_is_big(npoints);
    uint64_t last = nbuckets - 1;
    size_t lo = first == 0 ? 0 : first == nbuckets ? npoints
                                                   : first_in_bucket(points, npoints, first, shift);
    size_t hi = end == nbuckets ? npoints : first_in_bucket(points, npoints, end, shift);
    memset(table + first, 0, (end - first) * sizeof(uint32_t));
    for (size_t i = lo; i < hi; i++)
        table[rc_bucket_clamped(points[i].pos, shift, last)]++;
    uint32_t before = (uint32_t)lo;
    if (big) {
        for (size_t e = first; e < end; e++) {
            uint32_t count = table[e];
            uint32_t owner_entry = RC_TABLE_OWNER | (uint32_t)points[before].owner;
            /* a select, not a branch: empty and full buckets alternate at random */
            uint32_t full = (uint32_t)0 - (uint32_t)(count != 0);
            table[e] = (before & full) | (owner_entry & ~full);
            before += count;
        }
    } else {
        for (size_t e = first; e < end; e++) {
            uint32_t count = table[e];
            table[e] = before;
            before += count;
        }
    }
    return RC_OK;
}

rc_status rc_layout_init(rc_layout *layout, rc_point *points, size_t npoints, int hash_bits,
                         int32_t nnodes, uint32_t *table, size_t table_len, int trusted,
                         int table_ready, uint64_t *positions_out, int32_t *owners_out)
{
    if (npoints > RC_MAX_POINTS || (hash_bits != 64 && hash_bits != 32)
        || (npoints && nnodes < 1))
        return RC_ERR_ARG;
    int bits = rc_layout_table_bits(npoints, hash_bits);
    size_t nbuckets = (size_t)1 << bits;
    if (table_len != nbuckets)
        return RC_ERR_ARG;
    int big = rc_layout_is_big(npoints);
    if ((!big && (positions_out == NULL || owners_out == NULL)) || (table_ready && !trusted))
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
    int shift = hash_bits - bits;
    if (!table_ready) {
        rc_status status = rc_fill_table_range(points, npoints, hash_bits, table, nbuckets, 0,
                                               nbuckets);
        if (status != RC_OK)
            return status;
    }

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
