/* Ring search kernels for ringcore: the guide table, lookups, merges, walks.
 *
 * A ring is `npoints` points in ring order: `positions` (sorted uint64) and
 * `owners` (node index per point). Both arrays carry one more entry, a
 * sentinel: positions[npoints] = UINT64_MAX and owners[npoints] = owners[0],
 * so a search that runs off the end stops there and wraps to the first point's
 * owner without a branch.
 *
 * The guide table splits the 64-bit hash space into 2^bits equal buckets (1 to 2
 * per point); table[b] is the index of the first point whose position is
 * >= b << (64 - bits). A lookup loads its bucket's entry and steps over the
 * points of the bucket below the hash: two branch-free steps cover almost every
 * bucket, a loop the rest.
 *
 * Every function that takes lengths or indices from the caller checks them and
 * returns an rc_status; the lookup functions trust a ring that passed
 * rc_ring_validate().
 */
#ifndef RC_RING_H
#define RC_RING_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RC_OK = 0,
    RC_ERR_ARG = -1,    /* a length, index or order the caller passed is wrong */
    RC_ERR_NOMEM = -2,
    RC_ERR_NULL = -3,   /* a null key where nulls are not allowed */
    RC_ERR_KEY = -4,    /* a key with no bytes: bad code point, offset or view */
} rc_status;

#define RC_MAX_POINTS 0x7fffffffu
#define RC_MAX_TABLE_BITS 31

typedef struct {
    const uint64_t *positions;  /* npoints + 1 entries, the last UINT64_MAX */
    const int32_t *owners;      /* npoints + 1 entries, the last == owners[0] */
    const uint32_t *table;      /* 1 << bits entries */
    uint32_t npoints;           /* >= 1 for lookups */
    int bits;                   /* 1 .. RC_MAX_TABLE_BITS */
} rc_ring;

/* Table bits for a ring of npoints: 1 to 2 buckets per point, at least 2 buckets. */
int rc_table_bits(uint32_t npoints);

/* Fill table[0 .. (1 << bits) - 1] for sorted positions. */
rc_status rc_build_table(const uint64_t *positions, size_t npoints, int bits,
                         uint32_t *table, size_t table_len);

/* Check that the ring is well formed: sorted positions, owners in [0, nnodes),
 * the sentinels, and a monotonic table of indices <= npoints. */
rc_status rc_ring_validate(const rc_ring *ring, size_t table_len, int32_t nnodes);

/* Index in ring order of the point that owns hash h (SPEC.md 5), except that
 * npoints stands for the wrap-around to point 0. */
static inline uint32_t rc_ring_search(const rc_ring *ring, uint64_t h)
{
    const uint64_t *pos = ring->positions;
    uint32_t i = ring->table[h >> (64 - ring->bits)];
    i += pos[i] < h;
    i += pos[i] < h;
    while (pos[i] < h)
        i++;
    return i;
}

/* The owner of hash h. */
static inline int32_t rc_ring_owner(const rc_ring *ring, uint64_t h)
{
    return ring->owners[rc_ring_search(ring, h)];
}

/* Sort n points by position, in place, keeping the input order of equal
 * positions (stable); tmp_pos and tmp_own hold n entries each. */
rc_status rc_sort_points(uint64_t *pos, int32_t *own, size_t n, uint64_t *tmp_pos,
                         int32_t *tmp_own);

/* out[i] = owner of hashes[i]. */
void rc_route_hashes(const rc_ring *ring, const uint64_t *hashes, size_t n, int32_t *out);

/* Positions of points 0 .. count-1 of a node: XXH3-64(name + "#" + decimal j).
 * scratch must hold name_len + 11 bytes. */
rc_status rc_node_points(const char *name, size_t name_len, uint32_t count,
                         char *scratch, size_t scratch_len, uint64_t *out);

/* Merge the sorted points of a new node (all owned by new_owner) into a ring.
 * new_sorts_first[k] is nonzero when the new node's UTF-8 name sorts before
 * node k's; it breaks ties between equal positions (SPEC.md 4). */
rc_status rc_merge_points(const uint64_t *old_pos, const int32_t *old_own, size_t n_old,
                          const uint64_t *new_pos, size_t n_new, int32_t new_owner,
                          const uint8_t *new_sorts_first, size_t nnodes,
                          uint64_t *out_pos, int32_t *out_own, size_t out_len);

/* Walk ring order from point `start` (npoints means 0), wrapping, and write the first `want`
 * distinct owners to out. seen must be nnodes zeroed bytes. Returns the number
 * written, or a negative rc_status. */
int64_t rc_ring_walk(const rc_ring *ring, uint32_t start, size_t want,
                  uint8_t *seen, size_t nnodes, int32_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RC_RING_H */
