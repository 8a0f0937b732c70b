/* Jump consistent hash (Lamping and Veach, "A Fast, Minimal Memory,
 * Consistent Hash Algorithm", arXiv:1406.2294): a key's bucket among
 * `buckets`, with no ring at all. Going from b to b + 1 buckets moves only
 * the keys that land in the new bucket. */
#ifndef RC_JUMP_H
#define RC_JUMP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The bucket of key in [0, buckets), buckets >= 1, as the paper's code
 * computes it (a 64-bit linear congruential step per jump, the next jump
 * from the top 31 bits in double arithmetic). */
static inline int32_t rc_jump_bucket(uint64_t key, int32_t buckets)
{
    int64_t b = -1, j = 0;
    while (j < buckets) {
        b = j;
        key = key * 2862933555777941757ULL + 1;
        j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
    }
    return (int32_t)b;
}

/* out[i] = rc_jump_bucket(keys[i], buckets); buckets < 1 writes nothing and returns -1. */
int rc_jump_buckets(const uint64_t *keys, size_t n, int32_t buckets, int32_t *out);

#ifdef __cplusplus
}
#endif

#endif /* RC_JUMP_H */
