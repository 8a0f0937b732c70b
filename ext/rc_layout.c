/* Ring layout: build, sort, merge, remove, table; see rc_layout.h. */
#include "rc_layout.h"

#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#  include <sys/mman.h>
#endif
#if defined(RC_SSE2)
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
#if defined(RC_SSE2)
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
    int bits = 1; /* 1 to 2 buckets per point */
    while (bits < RC_MAX_TABLE_BITS && bits < hash_bits && ((size_t)1 << bits) < npoints)
        bits++;
    return bits;
}

int rc_layout_is_compact(size_t npoints, size_t nnodes)
{
    return rc_layout_is_big(npoints) && nnodes <= RC_CLINE_MAX_NODES;
}

size_t rc_layout_line_count(size_t npoints, int compact)
{
    size_t lines = npoints / (compact ? RC_CLINE_POINTS : RC_LINE_POINTS), top = 1;
    while (top <= lines / 2)
        top *= 2;
    size_t grain = top >= 64 ? top / 64 : 1;
    lines = lines / grain * grain;
    return lines ? lines : 1;
}

size_t rc_layout_table_units(size_t npoints, int hash_bits, size_t nnodes)
{
    if (rc_layout_is_big(npoints))
        return rc_layout_line_count(npoints, rc_layout_is_compact(npoints, nnodes));
    return (size_t)1 << rc_layout_table_bits(npoints, hash_bits);
}

size_t rc_layout_table_len(size_t npoints, int hash_bits, size_t nnodes)
{
    size_t units = rc_layout_table_units(npoints, hash_bits, nnodes);
    return rc_layout_is_big(npoints) ? units * RC_LINE_WORDS : units;
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
#if defined(RC_SSE2)
    int stream = n >= RC_STREAM_MIN && ((uintptr_t)out & 15) == 0;
#endif
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = positions[i];
        int32_t owner = owners[i];
        int in_range = owner >= 0 && owner < nnodes;
#if defined(RC_SSE2)
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
#if defined(RC_SSE2)
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

int rc_layout_same_shape(const rc_layout *old, size_t npoints, size_t nnodes)
{
    if (npoints == 0 || old->npoints == 0 || rc_layout_is_big(npoints) != old->big)
        return 0;
    if (old->big) {
        int compact = rc_layout_is_compact(npoints, nnodes);
        return compact == old->compact && rc_layout_line_count(npoints, compact) == old->nlines;
    }
    return rc_layout_table_bits(npoints, old->hash_bits) == old->table_bits;
}

/* Store a line (either kind: 64 bytes): past the cache when `stream` (a
 * whole table written once, which lookups will not read soon), else
 * plainly. */
static inline void store_line(void *dst, const void *line, int stream)
{
#if defined(RC_SSE2)
    if (stream) {
        const __m128i *src = (const __m128i *)line;
        __m128i *out = (__m128i *)dst;
        for (int q = 0; q < 4; q++)
            _mm_stream_si128(out + q, _mm_loadu_si128(src + q));
        return;
    }
#else
    (void)stream;
#endif
    memcpy(dst, line, sizeof(rc_line));
}

static inline void end_stores(int stream)
{
#if defined(RC_SSE2)
    if (stream)
        _mm_sfence();
#else
    (void)stream;
#endif
}

/* dst = src with `up` added to and `down` taken from its first point's
 * index and, when removed >= 0, its owners above `removed` one lower. */
static inline void shift_line(rc_line *dst, const rc_line *src, uint32_t up, uint32_t down,
                              int32_t removed, int stream)
{
#if defined(RC_SSE2)
    /* words 0-4 keys, 5-14 owners, 15 the first point: in four registers,
     * without a round trip through memory */
    const __m128i *in = (const __m128i *)src;
    __m128i w4 = _mm_loadu_si128(in + 1), w8 = _mm_loadu_si128(in + 2);
    __m128i w12 = _mm_loadu_si128(in + 3);
    if (removed >= 0) {
        __m128i limit = _mm_set1_epi32(removed);
        /* owner - (owner > removed): the compare gives -1 in those lanes */
        w4 = _mm_add_epi32(w4, _mm_and_si128(_mm_cmpgt_epi32(w4, limit),
                                             _mm_set_epi32(-1, -1, -1, 0)));
        w8 = _mm_add_epi32(w8, _mm_cmpgt_epi32(w8, limit));
        w12 = _mm_add_epi32(w12, _mm_and_si128(_mm_cmpgt_epi32(w12, limit),
                                               _mm_set_epi32(0, -1, -1, -1)));
    }
    w12 = _mm_add_epi32(w12, _mm_set_epi32((int)(up - down), 0, 0, 0));
    __m128i *out = (__m128i *)dst;
    if (stream) {
        _mm_stream_si128(out, _mm_loadu_si128(in));
        _mm_stream_si128(out + 1, w4);
        _mm_stream_si128(out + 2, w8);
        _mm_stream_si128(out + 3, w12);
    } else {
        _mm_storeu_si128(out, _mm_loadu_si128(in));
        _mm_storeu_si128(out + 1, w4);
        _mm_storeu_si128(out + 2, w8);
        _mm_storeu_si128(out + 3, w12);
    }
#else
    (void)stream;
    rc_line line = *src;
    line.first += up - down;
    if (removed >= 0)
        for (int s = 0; s <= RC_LINE_SLOTS; s++)
            line.owners[s] -= line.owners[s] > removed;
    *dst = line;
#endif
}

/* shift_line for a compact line. */
static inline void shift_cline(rc_cline *dst, const rc_cline *src, uint32_t up, uint32_t down,
                               int32_t removed, int stream)
{
    rc_cline line = *src;
    line.first += up - down;
    if (removed >= 0)
        for (int s = 0; s <= RC_CLINE_SLOTS; s++)
            line.owners[s] = (uint16_t)(line.owners[s] - (line.owners[s] > removed));
    store_line(dst, &line, stream);
}

/* The first of n sorted points in line e or above. */
static size_t first_in_line(const rc_point *points, size_t n, uint64_t e, uint64_t nlines,
                            int hash_bits)
{
    size_t lo = 0, hi = n;
    int16_t key;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rc_line_at(points[mid].pos, nlines, hash_bits, &key) < e)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Lines [first, end) of nlines (compact ones when `compact`) from npoints
 * (>= 1) sorted points. */
static void fill_lines(const rc_point *points, size_t npoints, int hash_bits, void *table,
                       uint64_t nlines, uint64_t first, uint64_t end, int stream, int compact)
{
    size_t i = first == 0 ? 0 : first_in_line(points, npoints, first, nlines, hash_bits);
    int16_t key = 0;
    uint64_t at = i < npoints ? rc_line_at(points[i].pos, nlines, hash_bits, &key) : nlines;
    unsigned slots = compact ? RC_CLINE_SLOTS : RC_LINE_SLOTS;
    for (uint64_t e = first; e < end; e++) {
        int16_t keys[RC_CLINE_SLOTS + 1];
        int32_t owners[RC_CLINE_SLOTS + 1];
        unsigned count = 0;
        uint32_t first_point = (uint32_t)i;
        while (at == e) {
            if (count < slots) {
                keys[count] = key;
                owners[count] = points[i].owner;
            }
            count++;
            i++;
            at = i < npoints ? rc_line_at(points[i].pos, nlines, hash_bits, &key) : nlines;
        }
        int overflow = count > slots;
        int32_t after = points[i < npoints ? i : 0].owner;
        for (unsigned s = overflow ? slots : count; s <= slots; s++) {
            keys[s] = RC_LINE_KEY_NONE;
            owners[s] = after;
        }
        if (compact) {
            rc_cline line;
            for (unsigned s = 0; s <= RC_CLINE_SLOTS; s++) {
                line.keys[s] = keys[s];
                line.owners[s] = (uint16_t)owners[s];
            }
            if (overflow)
                line.keys[RC_CLINE_SLOTS] = RC_CLINE_KEY_OVERFLOW;
            line.first = first_point;
            store_line((rc_cline *)table + e, &line, stream);
        } else {
            rc_line line;
            for (unsigned s = 0; s <= RC_LINE_SLOTS; s++) {
                line.keys[s] = keys[s];
                line.owners[s] = owners[s];
            }
            if (overflow)
                line.owners[RC_LINE_SLOTS] = RC_LINE_OVERFLOW;
            line.first = first_point;
            store_line((rc_line *)table + e, &line, stream);
        }
    }
    end_stores(stream);
}

/* The line of a point's position. */
static inline uint64_t line_of_pos(uint64_t nlines, int hash_bits, uint64_t pos)
{
    int16_t key;
    return rc_line_at(pos, nlines, hash_bits, &key);
}

/* The first point index that old's line e records. */
static inline uint32_t line_first(const rc_layout *old, uint64_t e)
{
    return old->compact ? old->clines[e].first : old->lines[e].first;
}

/* Rebuild lines [lo, last] from the new points, except those before `done`
 * (rebuilt already); returns the new `done`. */
static uint64_t refill(const rc_layout *old, const rc_point *points, size_t new_n, void *lines,
                       uint64_t lo, uint64_t last, uint64_t done)
{
    uint64_t hi = (last < old->nlines ? last : old->nlines - 1) + 1;
    if (lo < done)
        lo = done;
    if (lo < hi)
        fill_lines(points, new_n, old->hash_bits, lines, old->nlines, lo, hi, 0, old->compact);
    return hi > done ? hi : done;
}

/* After a change of point 0: the lines past the last point, which name the
 * first point's owner. */
static void refill_wrap(const rc_layout *old, const rc_point *points, size_t new_n, void *lines)
{
    refill(old, points, new_n, lines,
           line_of_pos(old->nlines, old->hash_bits, points[new_n - 1].pos), old->nlines - 1, 0);
}

/* Lines [first, end) of old into out, each line's first point moved by the
 * changed points before it: up by the new points whose slots (ascending) are
 * at or below it, or, when removing (removed >= 0), down by the removed
 * points (ascending indices) below it, with owners above `removed` one
 * lower. */
static void shift_lines(const rc_layout *old, const uint32_t *marks, size_t n_marks,
                        int32_t removed, void *out, uint64_t first, uint64_t end)
{
    int stream = ((uintptr_t)out & 15) == 0;
    /* the marks before the range's first line, by binary search */
    size_t k = 0, hi = n_marks;
    if (first < end) {
        uint32_t start = line_first(old, first);
        while (k < hi) {
            size_t mid = k + (hi - k) / 2;
            if (removed >= 0 ? marks[mid] < start : marks[mid] <= start)
                k = mid + 1;
            else
                hi = mid;
        }
    }
    for (uint64_t e = first; e < end; e++) {
        uint32_t at = line_first(old, e);
        uint32_t up = 0, down = 0;
        if (removed >= 0) {
            while (k < n_marks && marks[k] < at)
                k++;
            down = (uint32_t)k;
        } else {
            while (k < n_marks && marks[k] <= at)
                k++;
            up = (uint32_t)k;
        }
        if (old->compact)
            shift_cline((rc_cline *)out + e, old->clines + e, up, down, removed, stream);
        else
            shift_line((rc_line *)out + e, old->lines + e, up, down, removed, stream);
    }
    end_stores(stream);
}

rc_status rc_lines_shift(const rc_layout *old, const uint32_t *marks, size_t n_marks,
                         int32_t removed, uint32_t *out, size_t out_len, size_t first, size_t end)
{
    if (!old->big || out_len != old->nlines * RC_LINE_WORDS || first > end || end > old->nlines
        || ((uintptr_t)out % sizeof(rc_line)) != 0)
        return RC_ERR_ARG;
    shift_lines(old, marks, n_marks, removed, out, first, end);
    return RC_OK;
}

static rc_status lines_after_merge(const rc_layout *old, const uint64_t *new_pos,
                                   const uint32_t *slots, size_t n_new, const rc_point *points,
                                   size_t new_n, void *out, int shifted)
{
    uint64_t nlines = old->nlines;
    int hash_bits = old->hash_bits;
    if (!shifted)
        shift_lines(old, slots, n_new, -1, out, 0, nlines);
    /* Then the lines each new point falls in or follows: from that of the
     * point before it (merged index m - 1) to its own. */
    uint64_t done = 0;
    for (size_t j = 0; j < n_new; j++) {
        size_t m = (size_t)slots[j] + j;
        uint64_t lo = m ? line_of_pos(nlines, hash_bits, points[m - 1].pos) : 0;
        done = refill(old, points, new_n, out, lo, line_of_pos(nlines, hash_bits, new_pos[j]),
                      done);
    }
    if (n_new && slots[0] == 0)
        refill_wrap(old, points, new_n, out);
    return RC_OK;
}

static rc_status lines_after_remove(const rc_layout *old, const uint32_t *removed_at,
                                    size_t n_removed, int32_t removed, const rc_point *points,
                                    size_t new_n, void *out, int shifted)
{
    uint64_t nlines = old->nlines;
    int hash_bits = old->hash_bits;
    if (!shifted)
        shift_lines(old, removed_at, n_removed, removed, out, 0, nlines);
    /* Then the lines each removed point was in or followed. */
    uint64_t done = 0;
    for (size_t q = 0; q < n_removed; q++) {
        size_t r = removed_at[q];
        uint64_t lo = r ? line_of_pos(nlines, hash_bits, old->points[r - 1].pos) : 0;
        done = refill(old, points, new_n, out, lo,
                      line_of_pos(nlines, hash_bits, old->points[r].pos), done);
    }
    if (n_removed && removed_at[0] == 0)
        refill_wrap(old, points, new_n, out);
    return RC_OK;
}

/* The bucket of pos in old's guide table. */
static inline uint64_t bucket_in(const rc_layout *old, uint64_t pos)
{
    return rc_bucket_clamped(pos, old->shift, old->last_bucket);
}

rc_status rc_table_after_merge(const rc_layout *old, const uint64_t *new_pos,
                               const uint32_t *slots, size_t n_new, int32_t new_owner,
                               size_t new_nnodes, const rc_point *points, size_t new_n,
                               uint32_t *out, size_t out_len, int lines_shifted)
{
    size_t n_old = old->npoints;
    if (n_new > RC_MAX_POINTS - n_old || new_n != n_old + n_new || new_owner < 0
        || (size_t)new_owner >= new_nnodes || !rc_layout_same_shape(old, new_n, new_nnodes)
        || out_len != rc_layout_table_len(new_n, old->hash_bits, new_nnodes))
        return RC_ERR_ARG;
    for (size_t j = 0; j < n_new; j++)
        if (slots[j] > n_old || (j && (slots[j] < slots[j - 1] || new_pos[j] < new_pos[j - 1])))
            return RC_ERR_ARG;
    if (old->big)
        return lines_after_merge(old, new_pos, slots, n_new, points, new_n, out, lines_shifted);
    /* The buckets above j new points (a run of buckets each) move their
     * first point up by j. One pass the compiler vectorises. */
    const uint32_t *table = old->table;
    size_t e = 0, nbuckets = (size_t)old->last_bucket + 1;
    for (size_t j = 0; j <= n_new; j++) {
        size_t end = j < n_new ? bucket_in(old, new_pos[j]) + 1 : nbuckets;
        for (; e < end; e++)
            out[e] = table[e] + (uint32_t)j;
    }
    return RC_OK;
}

rc_status rc_table_after_remove(const rc_layout *old, const uint32_t *removed_at,
                                size_t n_removed, int32_t removed, size_t new_nnodes,
                                const rc_point *points, size_t new_n, uint32_t *out,
                                size_t out_len, int lines_shifted)
{
    size_t n_old = old->npoints;
    if (n_removed >= n_old || new_n != n_old - n_removed || removed < 0
        || !rc_layout_same_shape(old, new_n, new_nnodes)
        || out_len != rc_layout_table_len(new_n, old->hash_bits, new_nnodes))
        return RC_ERR_ARG;
    for (size_t q = 0; q < n_removed; q++)
        if (removed_at[q] >= n_old || (q && removed_at[q] <= removed_at[q - 1])
            || rc_layout_owner(old, removed_at[q]) != removed)
            return RC_ERR_ARG;
    if (old->big)
        return lines_after_remove(old, removed_at, n_removed, removed, points, new_n, out,
                                  lines_shifted);
    /* The buckets above q removed points move their first point down by q. */
    const uint32_t *table = old->table;
    size_t e = 0, nbuckets = (size_t)old->last_bucket + 1;
    for (size_t q = 0; q <= n_removed; q++) {
        size_t end = q < n_removed
                         ? bucket_in(old, rc_layout_pos(old, removed_at[q])) + 1
                         : nbuckets;
        for (; e < end; e++)
            out[e] = table[e] - (uint32_t)q;
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
                              size_t nnodes, uint32_t *table, size_t table_len, size_t first,
                              size_t end)
{
    /* Guide table: count the points of each bucket, then turn the counts
     * into the index of each bucket's first point (the number of points
     * before it): no branch depends on the data, whatever the points hold.
     * A range of buckets (or lines) needs only its own points: ranges run in
     * parallel. */
    if (npoints > RC_MAX_POINTS || (hash_bits != 64 && hash_bits != 32))
        return RC_ERR_ARG;
    size_t units = rc_layout_table_units(npoints, hash_bits, nnodes);
    if (table_len != rc_layout_table_len(npoints, hash_bits, nnodes) || first > end
        || end > units)
        return RC_ERR_ARG;
    if (rc_layout_is_big(npoints)) {
        if (npoints)
            fill_lines(points, npoints, hash_bits, table, units, first, end,
                       ((uintptr_t)table & 15) == 0, rc_layout_is_compact(npoints, nnodes));
        return RC_OK;
    }
    int bits = rc_layout_table_bits(npoints, hash_bits);
    int shift = hash_bits - bits;
    uint64_t last = units - 1;
    size_t lo = first == 0 ? 0 : first == units ? npoints
                                                : first_in_bucket(points, npoints, first, shift);
    size_t hi = end == units ? npoints : first_in_bucket(points, npoints, end, shift);
    memset(table + first, 0, (end - first) * sizeof(uint32_t));
    for (size_t i = lo; i < hi; i++)
        table[rc_bucket_clamped(points[i].pos, shift, last)]++;
    uint32_t before = (uint32_t)lo;
    for (size_t e = first; e < end; e++) {
        uint32_t count = table[e];
        table[e] = before;
        before += count;
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
    size_t units = rc_layout_table_units(npoints, hash_bits, (size_t)nnodes);
    if (table_len != rc_layout_table_len(npoints, hash_bits, (size_t)nnodes))
        return RC_ERR_ARG;
    int big = rc_layout_is_big(npoints);
    if ((!big && (positions_out == NULL || owners_out == NULL)) || (table_ready && !trusted)
        || (big && ((uintptr_t)table % sizeof(rc_line)) != 0))
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
    if (!table_ready) {
        rc_status status = rc_fill_table_range(points, npoints, hash_bits, (size_t)nnodes, table,
                                               table_len, 0, units);
        if (status != RC_OK)
            return status;
    }

    if (big) {
        layout->points = points;
        layout->positions = NULL;
        layout->owners = NULL;
        layout->table = NULL;
        layout->compact = rc_layout_is_compact(npoints, (size_t)nnodes);
        layout->lines = layout->compact ? NULL : (const rc_line *)table;
        layout->clines = layout->compact ? (const rc_cline *)table : NULL;
        layout->nlines = units;
    } else {
        for (size_t i = 0; i <= npoints; i++) {
            positions_out[i] = points[i].pos;
            owners_out[i] = points[i].owner;
        }
        layout->points = NULL;
        layout->positions = positions_out;
        layout->owners = owners_out;
        layout->table = table;
        layout->lines = NULL;
        layout->clines = NULL;
        layout->nlines = 0;
        layout->compact = 0;
    }
    layout->npoints = (uint32_t)npoints;
    layout->table_bits = bits;
    layout->shift = hash_bits - bits;
    layout->hash_bits = hash_bits;
    layout->last_bucket = (uint32_t)(((size_t)1 << bits) - 1);
    layout->narrow = hash_bits < 64;
    layout->big = big;
    return RC_OK;
}

void *rc_alloc_big(size_t len)
{
    /* 64-byte aligned at least: a big ring's lines are cache lines */
    if (len == 0)
        len = 1;
#if defined(_WIN32)
    return _aligned_malloc(len, 64);
#else
    size_t align = 64;
#  if defined(__linux__) && defined(MADV_HUGEPAGE)
    enum { HUGE_PAGE = 2 << 20 };
    if (len >= 2 * (size_t)HUGE_PAGE)
        align = HUGE_PAGE;
#  endif
    void *data = NULL;
    if (posix_memalign(&data, align, len) != 0)
        return NULL;
#  if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == HUGE_PAGE)
        (void)madvise(data, len, MADV_HUGEPAGE); /* advice: failure is harmless */
#  endif
    return data;
#endif
}

void rc_free_big(void *data)
{
#if defined(_WIN32)
    _aligned_free(data);
#else
    free(data);
#endif
}
