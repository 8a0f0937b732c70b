/* The layout of a built ring: its points in ring order and the table that
 * finds a key's point. Build, sort, merge, remove and validate; the lookups
 * that read it are in rc_lookup.h.
 *
 * Points are built as 16-byte records (position, owner, a spare word). A
 * ring of up to RC_BIG_POINTS points keeps them as two arrays, positions
 * (uint64) and owners (int32), and a guide table; a big ring keeps the
 * records and a line table. Either way there are npoints entries plus a
 * sentinel {UINT64_MAX, owner of point 0}: a search that runs off the end
 * stops there and wraps to the first point's owner without a branch.
 *
 * The guide table (rings that sit in cache) splits the ring (2^hash_bits
 * wide) into 2^table_bits equal buckets, 1 to 2 per point. An entry is the
 * index of the bucket's first point (or of the next point clockwise), and
 * the lookup steps over the points below the hash: two steps almost always.
 * Memory per point: 12 bytes of points + 4 to 8 of table (16 to 20 in all).
 *
 * The line table (big rings, whose lookups miss the cache) splits the ring
 * into nlines equal lines, about RC_LINE_POINTS points each, and answers a
 * lookup from one 64-byte cache line: the line's points as 16-bit keys (the
 * top bits of their offset in the line) with their owners, the owner after
 * the line, and the index of the line's first point. A hash's key, compared
 * with the line's keys, picks the owner; only when it equals a key (the
 * offsets differ below 16 bits) or the line holds more points than it has
 * slots are the full positions read, from the line's first point on.
 * Lines are counted by a multiply, not a shift, so that their number follows
 * the points closely. Memory per point: 16 bytes of records + 16 of lines
 * (32 in all, at most), or 9 of compact lines (25) on rings of at most
 * RC_CLINE_MAX_NODES nodes, whose owners fit in 16 bits.
 */
#ifndef RC_LAYOUT_H
#define RC_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "rc_common.h"
#include "rc_hash.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t pos;
    int32_t owner;
    int32_t spare;              /* zero; reserved for per-point walk data */
} rc_point;

#define RC_MAX_TABLE_BITS 31
/* Rings of more points than this do not stay in cache: they keep records and
 * a line table, and batch lookups prefetch ahead. */
#define RC_BIG_POINTS ((size_t)1 << 19)

/* One line of a big ring's line table: 64 bytes, one cache line. Slots
 * [0, count) hold the line's points in ring order (up to RC_LINE_SLOTS);
 * the slots after them hold key RC_LINE_KEY_NONE and the owner after the
 * line: that of the next point clockwise, or RC_LINE_OVERFLOW when the
 * line has more points than slots. keys[RC_LINE_SLOTS] is always
 * RC_LINE_KEY_NONE. Keys are stored with their top bit flipped, so that
 * signed comparisons order them as unsigned. */
#define RC_LINE_SLOTS 9
#define RC_LINE_POINTS 4            /* points per line, on average */
#define RC_LINE_KEY_NONE 0x7fff     /* the largest key, flipped */
#define RC_LINE_OVERFLOW (-1)
typedef struct {
    int16_t keys[RC_LINE_SLOTS + 1];
    int32_t owners[RC_LINE_SLOTS + 1];
    uint32_t first;                 /* index of the first point at or after the line */
} rc_line;
#define RC_LINE_WORDS (sizeof(rc_line) / sizeof(uint32_t))
typedef char rc_line_is_one_cache_line[sizeof(rc_line) == 64 ? 1 : -1];

/* A compact line, for big rings of at most RC_CLINE_MAX_NODES nodes: owners
 * take 16 bits, so a line holds up to RC_CLINE_SLOTS points (about
 * RC_CLINE_POINTS on average) and the table takes 9 bytes a point instead of
 * 16: more of it stays in cache. Slots as in rc_line; keys[RC_CLINE_SLOTS]
 * is RC_LINE_KEY_NONE, or RC_CLINE_KEY_OVERFLOW (below every key, so that a
 * hash past the last slot takes the slow path) when the line has more
 * points than slots; owners[RC_CLINE_SLOTS] is the owner after the line. */
#define RC_CLINE_SLOTS 14
#define RC_CLINE_POINTS 7
#define RC_CLINE_MAX_NODES 65535
#define RC_CLINE_KEY_OVERFLOW INT16_MIN
typedef struct {
    int16_t keys[RC_CLINE_SLOTS + 1];
    uint16_t owners[RC_CLINE_SLOTS + 1];
    uint32_t first;
} rc_cline;
typedef char rc_cline_is_one_cache_line[sizeof(rc_cline) == 64 ? 1 : -1];

typedef struct {
    const rc_point *points;     /* big: npoints + 1 records, the last the sentinel */
    const uint64_t *positions;  /* not big: npoints + 1 positions, the last UINT64_MAX */
    const int32_t *owners;      /* not big: npoints + 1 owners, the last owners[0] */
    const uint32_t *table;      /* not big: 1 << table_bits entries */
    const rc_line *lines;       /* big, not compact: nlines lines */
    const rc_cline *clines;     /* big and compact: nlines compact lines */
    uint64_t nlines;
    uint32_t npoints;           /* >= 1 for lookups */
    int table_bits;
    int shift;                  /* hash_bits - table_bits */
    int hash_bits;
    uint32_t last_bucket;       /* (1 << table_bits) - 1 */
    int narrow;                 /* a ring of fewer than 64 bits: buckets are clamped */
    int big;                    /* more than RC_BIG_POINTS: records, lines */
    int compact;                /* big, of at most RC_CLINE_MAX_NODES nodes: compact lines */
} rc_layout;

static inline uint64_t rc_layout_pos(const rc_layout *layout, size_t i)
{
    return layout->big ? layout->points[i].pos : layout->positions[i];
}

static inline int32_t rc_layout_owner(const rc_layout *layout, size_t i)
{
    return layout->big ? layout->points[i].owner : layout->owners[i];
}

/* The bucket of a position or hash: above the ring (a hash of more bits than
 * a narrow ring has), the last bucket, whose lookup wraps to point 0 as it
 * must, every position being below such a hash. */
static inline uint64_t rc_bucket_clamped(uint64_t pos, int shift, uint64_t last_bucket)
{
    uint64_t b = pos >> shift;
    return b < last_bucket ? b : last_bucket;
}

/* The line of a hash (or position) h on a big ring of nlines lines, and in
 * *key its key in that line. A narrow ring's values are first stretched to
 * 64 bits (a hash beyond the ring to the top, whence it wraps to point 0). */
static inline uint64_t rc_line_at(uint64_t h, uint64_t nlines, int hash_bits, int16_t *key)
{
    if (hash_bits < 64)
        h = h >> hash_bits ? UINT64_MAX : h << (64 - hash_bits);
    uint64_t offset;
    uint64_t line = rc_mul64(h, nlines, &offset);
    *key = (int16_t)((offset >> 48) ^ 0x8000u);
    return line;
}

/* rc_line_at on a layout; `narrow` is layout->narrow, passed as a constant
 * where a loop is compiled for one. */
static inline uint64_t rc_line_of(const rc_layout *layout, uint64_t h, int narrow, int16_t *key)
{
    return rc_line_at(h, layout->nlines, narrow ? layout->hash_bits : 64, key);
}

/* Whether a layout of npoints points and nnodes nodes made from old has
 * old's table shape (size and kind): then its table can be derived from
 * old's. */
int rc_layout_same_shape(const rc_layout *old, size_t npoints, size_t nnodes);

/* Whether a ring of npoints gets the big layout, and compact lines. */
int rc_layout_is_big(size_t npoints);
int rc_layout_is_compact(size_t npoints, size_t nnodes);

/* Table bits for a ring of npoints on a ring of hash_bits (64 or 32); used
 * by rings that are not big. */
int rc_layout_table_bits(size_t npoints, int hash_bits);

/* Lines of a big ring of npoints: about npoints / RC_LINE_POINTS (or
 * RC_CLINE_POINTS when compact; never more), rounded down to 1/64 of a power
 * of two, so that adding or removing a node mostly keeps the count (and the
 * table can be derived). */
size_t rc_layout_line_count(size_t npoints, int compact);

/* The table of a ring of npoints and nnodes: its units (buckets or lines)
 * and its length in uint32 words. */
size_t rc_layout_table_units(size_t npoints, int hash_bits, size_t nnodes);
size_t rc_layout_table_len(size_t npoints, int hash_bits, size_t nnodes);

/* Sort n records by position, stable (equal positions keep their order);
 * tmp holds n records. Every position must be below 2^hash_bits. */
rc_status rc_sort_points(rc_point *points, size_t n, rc_point *tmp, int hash_bits);

/* The same sort in two steps, the second of which can run on several
 * threads over disjoint bucket ranges: rc_sort_top scatters the points into
 * tmp by their top 12 bits (bucket_ends: RC_SORT_BUCKETS entries, the end of
 * each bucket in tmp); rc_sort_buckets sorts buckets [first, last) from tmp
 * into points. */
#define RC_SORT_BUCKETS 4096
rc_status rc_sort_top(const rc_point *points, size_t n, rc_point *tmp, int hash_bits,
                      uint32_t *bucket_ends);
rc_status rc_sort_buckets(rc_point *points, rc_point *tmp, size_t n, const uint32_t *bucket_ends,
                          size_t first, size_t last, int hash_bits);

/* Write the points of nodes 0 .. nnodes-1 (given in the order their equal
 * positions should sort, SPEC.md 4) into out, unsorted: node k's name is
 * names[name_offsets[k] .. name_offsets[k + 1]), it gets counts[k] points,
 * owned by owners[k]. out_len must be the sum of counts. */
rc_status rc_place_nodes(const rc_dialect *d, const char *names, const int64_t *name_offsets,
                         size_t names_len, const uint32_t *counts, const int32_t *owners,
                         size_t nnodes, rc_point *out, size_t out_len);

/* Merge a new node's points (sorted positions below 2^hash_bits, all owned
 * by new_owner) into a ring's points, as records. new_sorts_first[k] is nonzero when the new
 * node's name sorts before node k's; it breaks ties between equal positions
 * (read only where a new position equals an old one). slots (n_new entries,
 * or NULL) receives for each new point the index of the old point it goes
 * before. */
rc_status rc_merge_points(const rc_layout *old, const uint64_t *new_pos, size_t n_new,
                          int32_t new_owner, const uint8_t *new_sorts_first, size_t nnodes,
                          int hash_bits, rc_point *out, size_t out_len, uint32_t *slots);

/* Records of a saved ring's arrays, checked on the way (positions sorted and
 * below 2^hash_bits, owners in [0, nnodes)): whether they hold. owned
 * (nnodes bytes, zeroed; one at least) gets a 1 for each owner seen. */
int rc_points_from_arrays(const uint64_t *positions, const int32_t *owners, size_t n,
                          int32_t nnodes, int hash_bits, rc_point *out, uint8_t *owned);

/* How many of pos[0 .. n) are positions of the layout's points (a merge
 * needs its tie flags only when some are). */
size_t rc_count_present(const rc_layout *layout, const uint64_t *pos, size_t n);

/* Copy the points not owned by `removed` as records, renumbering owners
 * above it down by one; *out_n is the number written. removed_at (or NULL)
 * receives the old indices of the points left out (removed_len at most). */
rc_status rc_remove_owner(const rc_layout *old, int32_t removed, size_t nnodes, rc_point *out,
                          size_t out_len, size_t *out_n, uint32_t *removed_at,
                          size_t removed_len);

/* The table of the layout that rc_merge_points (with its slots) or
 * rc_remove_owner (with its removed_at) made from old, derived from old's
 * table in one pass over it instead of rebuilt from the points: the same
 * entries, for a fraction of the work. points (new_n of them) are the new
 * layout's: a big ring's lines that the update touched are rebuilt from
 * them. Only when the new layout has old's table shape (size and kind):
 * RC_ERR_ARG otherwise. On a big ring, lines_shifted says that
 * rc_lines_shift has already copied every line (in ranges, on several
 * threads): then only the touched lines are rebuilt. */
rc_status rc_table_after_merge(const rc_layout *old, const uint64_t *new_pos,
                               const uint32_t *slots, size_t n_new, int32_t new_owner,
                               size_t new_nnodes, const rc_point *points, size_t new_n,
                               uint32_t *out, size_t out_len, int lines_shifted);
rc_status rc_table_after_remove(const rc_layout *old, const uint32_t *removed_at,
                                size_t n_removed, int32_t removed, size_t new_nnodes,
                                const rc_point *points, size_t new_n, uint32_t *out,
                                size_t out_len, int lines_shifted);

/* Lines [first, end) of a big ring's table copied into out (a table of
 * old's shape, out_len words) with each line's first point moved past the
 * update: marks are the merge's slots (removed < 0) or the removal's
 * removed_at (owners above `removed` then one lower). */
rc_status rc_lines_shift(const rc_layout *old, const uint32_t *marks, size_t n_marks,
                         int32_t removed, uint32_t *out, size_t out_len, size_t first,
                         size_t end);

/* Fill table units (buckets or lines) [first, end) of a ring of npoints
 * sorted, checked points: what rc_layout_init does for the whole table, in
 * ranges that can run on several threads. */
rc_status rc_fill_table_range(const rc_point *points, size_t npoints, int hash_bits,
                              size_t nnodes, uint32_t *table, size_t table_len, size_t first,
                              size_t end);

/* Complete a layout over points[0 .. npoints) (npoints + 1 records; a table
 * of table_len words as rc_layout_table_len says, 64-byte aligned on a big
 * ring): check the points (sorted, owners in [0, nnodes), positions
 * below 2^hash_bits) unless `trusted` (points this library just sorted or
 * merged from checked ones), write the sentinel, fill the table (unless
 * `table_ready`: trusted points whose table was derived), set the fields.
 * A ring that is not big is copied into positions_out and owners_out
 * (npoints + 1 entries each), which the layout then uses instead of points. */
rc_status rc_layout_init(rc_layout *layout, rc_point *points, size_t npoints, int hash_bits,
                         int32_t nnodes, uint32_t *table, size_t table_len, int trusted,
                         int table_ready, uint64_t *positions_out, int32_t *owners_out);

/* Memory for a layout's arrays: large blocks are aligned to 2 MiB and backed
 * by huge pages where the kernel offers them (a 16M-point ring is touched
 * with 512 times fewer page faults, and looked up with fewer TLB misses).
 * Free with rc_free_big. */
void *rc_alloc_big(size_t len);
void rc_free_big(void *data);

#ifdef __cplusplus
}
#endif

#endif /* RC_LAYOUT_H */
