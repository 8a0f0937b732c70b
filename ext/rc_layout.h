/* The layout of a built ring: its points in ring order and the guide table
 * that finds a key's point with one or two cache lines. Build, sort, merge,
 * remove and validate; the lookups that read it are in rc_lookup.h.
 *
 * Points are 16-byte records (position, owner, a spare word), npoints of them
 * plus a sentinel {UINT64_MAX, owner of point 0}: a search that runs off the
 * end stops there and wraps to the first point's owner without a branch.
 * Keeping a point's position and owner in one record makes a lookup touch one
 * line of points instead of two.
 *
 * The guide table splits the ring (2^hash_bits wide) into 2^table_bits equal
 * buckets, 1 to 2 per point. An entry is the index of the bucket's first point
 * (or of the next point clockwise), and the lookup steps over the points below
 * the hash: two steps almost always. On a big ring (RC_BIG_BYTES) the table
 * has 2 to 4 buckets per point and an empty bucket answers every hash in it by
 * itself: its entry is RC_TABLE_OWNER | the owner of the next point clockwise,
 * so most lookups read one cache line, not two.
 *
 * Memory per point: 16 bytes of points + 4 to 8 bytes of table (8 to 16 on a
 * big ring), 32 at most.
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

#define RC_TABLE_OWNER 0x80000000u
#define RC_MAX_TABLE_BITS 31
/* Rings whose points and table are larger than this do not stay in a core's
 * cache: their table has empty buckets that name owners, and batch lookups
 * prefetch ahead. */
#define RC_BIG_BYTES ((size_t)1 << 20)

typedef struct {
    const rc_point *points;     /* npoints + 1 records, the last the sentinel */
    const uint32_t *table;      /* 1 << table_bits entries */
    uint32_t npoints;           /* >= 1 for lookups */
    int table_bits;
    int shift;                  /* hash_bits - table_bits */
    uint32_t last_bucket;       /* (1 << table_bits) - 1: larger hashes wrap */
    int big;                    /* RC_BIG_BYTES or more: owner entries, prefetches */
} rc_layout;

/* Whether a ring of npoints gets the big layout. */
int rc_layout_is_big(size_t npoints);

/* Table bits for a ring of npoints on a ring of hash_bits (64 or 32). */
int rc_layout_table_bits(size_t npoints, int hash_bits);

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

/* Merge a new node's points (sorted positions, all owned by new_owner) into
 * a ring's points. new_sorts_first[k] is nonzero when the new node's name
 * sorts before node k's; it breaks ties between equal positions. */
rc_status rc_merge_points(const rc_point *old, size_t n_old, const uint64_t *new_pos,
                          size_t n_new, int32_t new_owner, const uint8_t *new_sorts_first,
                          size_t nnodes, rc_point *out, size_t out_len);

/* Copy the points not owned by `removed`, renumbering owners above it down
 * by one; *out_n is the number written. */
rc_status rc_remove_owner(const rc_point *old, size_t n_old, int32_t removed, size_t nnodes,
                          rc_point *out, size_t out_len, size_t *out_n);

/* Complete a layout over points[0 .. npoints) (npoints + 1 records, table_len
 * table entries): check the points (sorted, owners in [0, nnodes), positions
 * below 2^hash_bits) unless `trusted` (points this library just sorted or
 * merged from checked ones), write the sentinel, fill the table, set the
 * fields. */
rc_status rc_layout_init(rc_layout *layout, rc_point *points, size_t npoints, int hash_bits,
                         int32_t nnodes, uint32_t *table, size_t table_len, int trusted);

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
