/* Lookups over a ring layout: the one owner-lookup loop (pipelined with
 * prefetches on rings larger than a core's cache), key batches routed chunk
 * by chunk through it, and the clockwise walk for replicas.
 */
#ifndef RC_LOOKUP_H
#define RC_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "rc_common.h"
#include "rc_hash.h"
#include "rc_keys.h"
#include "rc_layout.h"

#if defined(RC_SSE2)
#  include <emmintrin.h>
#elif defined(RC_NEON)
#  include <arm_neon.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Keys hashed per chunk before their lookups: the hashes stay in L1. */
#define RC_CHUNK 1024

/* The bucket of hash h. On a 64-bit ring the shift alone keeps it inside the
 * table; on a narrower ring a hash beyond the ring goes to the last bucket
 * (rc_bucket_clamped), whence it wraps to point 0. `narrow` is
 * layout->narrow, passed as a constant where a loop is compiled for one. */
static inline uint32_t rc_bucket_of(const rc_layout *layout, uint64_t h, int narrow)
{
    return narrow ? (uint32_t)rc_bucket_clamped(h, layout->shift, layout->last_bucket)
                  : (uint32_t)(h >> layout->shift);
}

static inline uint32_t rc_layout_bucket(const rc_layout *layout, uint64_t h)
{
    return rc_bucket_of(layout, h, layout->narrow);
}

/* The index of the point that owns hash h (up to npoints) on a ring that is
 * not big: the bucket's first point, then two branch-free steps (a loop for
 * the rare crowded bucket). */
static inline uint32_t rc_index_small(const rc_layout *layout, uint64_t h, int narrow)
{
    const uint64_t *pos = layout->positions;
    uint32_t i = layout->table[rc_bucket_of(layout, h, narrow)];
    i += pos[i] < h;
    i += pos[i] < h;
    while (RC_UNLIKELY(pos[i] < h))
        i++;
    return i;
}

/* The owner of hash h on a ring that is not big. */
static inline int32_t rc_owner_small(const rc_layout *layout, uint64_t h, int narrow)
{
    return layout->owners[rc_index_small(layout, h, narrow)];
}

static inline int32_t rc_lookup_owner_small(const rc_layout *layout, uint64_t h)
{
    return rc_owner_small(layout, h, layout->narrow);
}

/* How many of a line's first eight slots hold keys below key: its points
 * before the hash's, up to eight (the keys ascend, the unused slots holding
 * the largest). */
static inline unsigned rc_line_count_below8(const rc_line *line, int16_t key)
{
#if defined(RC_SSE2)
    __m128i below = _mm_cmpgt_epi16(_mm_set1_epi16(key),
                                    _mm_loadu_si128((const __m128i *)line->keys));
    return rc_lowest_bit(~(uint32_t)_mm_movemask_epi8(below)) >> 1;
#elif defined(RC_NEON)
    uint16x8_t below = vcltq_s16(vld1q_s16(line->keys), vdupq_n_s16(key));
    return vaddvq_u16(vshrq_n_u16(below, 15));
#else
    unsigned c = 0;
    for (int s = 0; s < 8; s++)
        c += line->keys[s] < key;
    return c;
#endif
}

/* How many of a line's slots hold keys below key. */
static inline unsigned rc_line_count_below(const rc_line *line, int16_t key)
{
    unsigned c = rc_line_count_below8(line, key);
    return c + ((c == 8) & (line->keys[8] < key));
}

/* The index of the first point at or after index i whose position is at
 * least h (the sentinel stops the scan). */
uint32_t rc_line_scan(const rc_layout *layout, uint32_t i, uint64_t h);

/* rc_line_owner when the first eight slots do not decide. */
int32_t rc_line_owner_slow(const rc_layout *layout, const rc_line *line, int16_t key, uint64_t h);

/* The owner of hash h, whose key in `line` is key, on a big ring: the slot
 * after the keys below it. The first eight slots decide almost always;
 * otherwise (the key equals a slot's, the offsets differing below 16 bits;
 * the ninth point is below the hash, and the line may overflow) the slow
 * path looks further, to the full positions if it must. For the first
 * eight slots, keys[c] <= key means keys[c] == key (slot c is the first not
 * below); for c == 8 it means the ninth point may be below the hash. */
static inline int32_t rc_line_owner(const rc_layout *layout, const rc_line *line, int16_t key,
                                    uint64_t h)
{
    unsigned c = rc_line_count_below8(line, key);
    if (RC_UNLIKELY(line->keys[c] <= key))
        return rc_line_owner_slow(layout, line, key, h);
    return line->owners[c]; /* a point's owner or the one after the line: never overflow */
}

/* How many of a compact line's slots hold keys below key. */
static inline unsigned rc_cline_count_below(const rc_cline *line, int16_t key)
{
#if defined(RC_SSE2)
    __m128i k = _mm_set1_epi16(key);
    __m128i low = _mm_cmpgt_epi16(k, _mm_loadu_si128((const __m128i *)line->keys));
    __m128i high = _mm_cmpgt_epi16(k, _mm_loadu_si128((const __m128i *)(line->keys + 8)));
    /* lanes 14 and 15 (the last key, the first owner) are not slots */
    unsigned below = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(low, high)) & 0x3fffu;
    return rc_lowest_bit(~below);
#elif defined(RC_NEON)
    static const uint16_t slot_lanes[8] = {1, 1, 1, 1, 1, 1, 0, 0};
    int16x8_t k = vdupq_n_s16(key);
    uint16x8_t low = vshrq_n_u16(vcltq_s16(vld1q_s16(line->keys), k), 15);
    uint16x8_t high = vandq_u16(vshrq_n_u16(vcltq_s16(vld1q_s16(line->keys + 8), k), 15),
                                vld1q_u16(slot_lanes));
    return vaddvq_u16(low) + vaddvq_u16(high);
#else
    unsigned c = 0;
    for (int s = 0; s < RC_CLINE_SLOTS; s++)
        c += line->keys[s] < key;
    return c;
#endif
}

/* The index (in ring order, up to npoints) of the point that owns hash h,
 * whose key in `line` is key: the slot's point when the first eight slots
 * decide (a key strictly above the hash's follows keys strictly below it),
 * else a scan of the full positions. */
static inline uint32_t rc_line_index(const rc_layout *layout, const rc_line *line, int16_t key,
                                     uint64_t h)
{
    unsigned c = rc_line_count_below8(line, key);
    if (RC_UNLIKELY(line->keys[c] <= key))
        return rc_line_scan(layout, line->first + rc_line_count_below(line, key), h);
    return line->first + c;
}

/* rc_line_owner for a compact line: one test covers a tie and an overflow
 * (whose last key is below every key). */
static inline int32_t rc_cline_owner(const rc_layout *layout, const rc_cline *line, int16_t key,
                                     uint64_t h)
{
    unsigned c = rc_cline_count_below(line, key);
    if (RC_UNLIKELY(line->keys[c] <= key))
        return layout->points[rc_line_scan(layout, line->first + c, h)].owner;
    return line->owners[c];
}

/* rc_line_index for a compact line. */
static inline uint32_t rc_cline_index(const rc_layout *layout, const rc_cline *line, int16_t key,
                                      uint64_t h)
{
    unsigned c = rc_cline_count_below(line, key);
    if (RC_UNLIKELY(line->keys[c] <= key))
        return rc_line_scan(layout, line->first + c, h);
    return line->first + c;
}

static inline int32_t rc_lookup_owner_big(const rc_layout *layout, uint64_t h)
{
    int16_t key;
    uint64_t line = rc_line_of(layout, h, layout->narrow, &key);
    if (layout->compact)
        return rc_cline_owner(layout, layout->clines + line, key, h);
    return rc_line_owner(layout, layout->lines + line, key, h);
}

/* The owner of hash h (SPEC.md 5). */
static inline int32_t rc_lookup_owner(const rc_layout *layout, uint64_t h)
{
    return layout->big ? rc_lookup_owner_big(layout, h) : rc_lookup_owner_small(layout, h);
}

/* Index in ring order of the point that owns hash h, in [0, npoints]
 * (npoints: the wrap-around to point 0). */
uint32_t rc_lookup_index(const rc_layout *layout, uint64_t h);

/* out[i] = owner of hashes[i]. */
void rc_lookup_owners(const rc_layout *layout, const uint64_t *hashes, size_t n, int32_t *out);

/* out[i] = index in ring order of the point that owns hashes[i], in
 * [0, npoints) (the wrap-around is point 0): where replica rows are looked up. */
void rc_lookup_indices(const rc_layout *layout, const uint64_t *hashes, size_t n, int32_t *out);

/* What rc_route_keys writes for each key. */
typedef enum { RC_WANT_OWNERS = 0, RC_WANT_INDICES = 1 } rc_want;

/* out[i - start] = owner of key i for i in [start, stop); a null key gets
 * null_owner when nulls are allowed and is an RC_ERR_NULL otherwise. On an
 * error, *bad is the index of the key. */
rc_status rc_route_keys(const rc_layout *layout, const rc_dialect *d, const rc_keys *keys,
                        size_t start, size_t stop, int32_t *out, int allow_nulls,
                        int32_t null_owner, size_t *bad, uint8_t *scratch, rc_want want);

/* Replica rows: rows[i * n + r] for r < n is the r-th of the first n owners
 * of distinct classes met walking clockwise from point i (class_of[owner]:
 * the node itself for distinct nodes, its zone for distinct zones). Needs
 * n <= the number of classes that own points; rows holds npoints * n. */
rc_status rc_replica_rows(const rc_layout *layout, const int32_t *class_of, size_t nnodes,
                          size_t n, int32_t *rows, size_t rows_len);

/* Consistent hashing with bounded loads: out[k] for each key k in order,
 * the owner of the first point clockwise from point start[k] whose node is
 * below its capacity; load[node] counts what it took so far (on entry too).
 * start[k] < 0: a null, out[k] = null_owner, no load. The caller makes the
 * capacities sum above the loads and keys (else RC_ERR_ARG, never a hang).
 * links: npoints zeroed words of scratch. */
rc_status rc_assign_bounded(const rc_layout *layout, const int32_t *start, size_t nkeys,
                            const int64_t *capacity, int64_t *load, size_t nnodes,
                            uint32_t *links, int32_t null_owner, int32_t *out);

/* out[k * width ...] = the row of rows (nrows x width) at indices[k], or
 * null_value across it where indices[k] < 0; returns n, or the first k whose
 * index is past the rows. The rows of later keys are prefetched. */
size_t rc_take_rows(const int32_t *rows, size_t nrows, size_t width, const int32_t *indices,
                    size_t n, int32_t null_value, int32_t *out);

/* Walk ring order from point `start` (npoints means 0), wrapping, and write
 * the first `want` owners of distinct classes to out: class_of[owner] in
 * [0, nclasses), or the owner itself when class_of is NULL (nclasses is then
 * nnodes). seen must be nclasses zeroed bytes. Returns the number written,
 * or a negative rc_status. */
int64_t rc_walk_owners(const rc_layout *layout, uint32_t start, size_t want,
                       const int32_t *class_of, uint8_t *seen, size_t nclasses, size_t nnodes,
                       int32_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RC_LOOKUP_H */
