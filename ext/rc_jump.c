/* Jump consistent hash in batch; see rc_jump.h. */
#include "rc_jump.h"

/* Keys jumped side by side: one key's jumps wait on a division each, and
 * independent keys fill that wait (measured: LANES keys in lockstep take
 * a fraction of the time of one after another). */
enum { LANES = 8 };

int rc_jump_buckets(const uint64_t *keys, size_t n, int32_t buckets, int32_t *out)
{
    if (buckets < 1)
        return -1;
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        uint64_t key[LANES];
        int64_t b[LANES], j[LANES];
        for (int l = 0; l < LANES; l++) {
            key[l] = keys[i + l];
            b[l] = -1;
            j[l] = 0;
        }
        int active = 1;
        while (active) {
            active = 0;
            for (int l = 0; l < LANES; l++) {
                /* the step of rc_jump_bucket, kept only where the lane goes on */
                int go = j[l] < buckets;
                int64_t from = go ? j[l] : 0; /* a finished lane's j could overflow the product */
                uint64_t next_key = key[l] * 2862933555777941757ULL + 1;
                int64_t next_j = (int64_t)((double)(from + 1)
                                           * ((double)(1LL << 31) / (double)((next_key >> 33) + 1)));
                b[l] = go ? j[l] : b[l];
                key[l] = go ? next_key : key[l];
                j[l] = go ? next_j : j[l];
                active |= go;
            }
        }
        for (int l = 0; l < LANES; l++)
            out[i + l] = (int32_t)b[l];
    }
    for (; i < n; i++)
        out[i] = rc_jump_bucket(keys[i], buckets);
    return 0;
}
