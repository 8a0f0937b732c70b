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

/* The owner of hash h on a ring that is not big: the bucket's first point,
 * then two branch-free steps (a loop for the rare crowded bucket). */
static inline int32_t rc_owner_small(const rc_layout *layout, uint64_t h, int narrow)
{
    const uint64_t *pos = layout->positions;
    uint32_t i = layout->table[rc_bucket_of(layout, h, narrow)];
    i += pos[i] < h;
    i += pos[i] < h;
    while (RC_UNLIKELY(pos[i] < h))
        i++;
    return layout->owners[i];
}

static inline int32_t rc_lookup_owner_small(const rc_layout *layout, uint64_t h)
{
    return rc_owner_small(layout, h, layout->narrow);
}

/* The owner of hash h on a big ring. Free of unpredictable branches: an
 * entry that names the owner still steps from point 0 (over no point, every
 * position being >= 0; point 0 stays in cache) and the owner is picked by a
 * select. */
static inline int32_t rc_lookup_owner_big(const rc_layout *layout, uint64_t h)
{
    uint32_t entry = layout->table[rc_layout_bucket(layout, h)];
    int direct = (entry & RC_TABLE_OWNER) != 0;
    uint32_t i = direct ? 0 : entry;
    uint64_t target = direct ? 0 : h;
    const rc_point *points = layout->points;
    i += points[i].pos < target;
    i += points[i].pos < target;
    while (RC_UNLIKELY(points[i].pos < target))
        i++;
    int32_t stepped = points[i].owner;
    return direct ? (int32_t)(entry & ~RC_TABLE_OWNER) : stepped;
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

/* out[i - start] = owner of key i for i in [start, stop); a null key gets
 * null_owner when nulls are allowed and is an RC_ERR_NULL otherwise. On an
 * error, *bad is the index of the key. */
rc_status rc_route_keys(const rc_layout *layout, const rc_dialect *d, const rc_keys *keys,
                        size_t start, size_t stop, int32_t *out, int allow_nulls,
                        int32_t null_owner, size_t *bad, uint8_t *scratch);

/* Walk ring order from point `start` (npoints means 0), wrapping, and write
 * the first `want` distinct owners to out. seen must be nnodes zeroed bytes.
 * Returns the number written, or a negative rc_status. */
int64_t rc_walk_owners(const rc_layout *layout, uint32_t start, size_t want, uint8_t *seen,
                       size_t nnodes, int32_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RC_LOOKUP_H */
