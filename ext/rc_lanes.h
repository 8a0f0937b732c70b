/* Multi-buffer hashing: MD5 and Jenkins one-at-a-time over RC_LANES
 * independent short messages side by side, one message per SIMD lane.
 *
 * One MD5 (or OAAT) of a short key is a single long chain of dependent
 * steps, so a scalar loop waits on latency; RC_LANES messages hashed
 * together fill the vector units instead. The caller copies each message into
 * a lane of a block (rc_md5x_put, rc_oaatx_put: the bytes are copied at once,
 * so the source may be reused), runs the block, and reads one result per
 * lane. Lanes not put since the last run hash stale data: their results are
 * to be ignored.
 *
 * Kernels: AVX-512F or AVX2 chosen at run time on x86-64 (GCC, clang), SSE2
 * (x86-64) or NEON (aarch64) as the baseline, all from one source through GCC
 * vector extensions; plain C otherwise (MSVC, RC_NO_SIMD, other CPUs). Every
 * kernel gives the same results as rc_md5 and rc_oaat; the blocks are filled
 * from bytes by arithmetic, so the byte order of the host does not matter.
 */
#ifndef RC_LANES_H
#define RC_LANES_H

#include <stddef.h>
#include <stdint.h>

#include "rc_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RC_LANES 64           /* messages per block */
#define RC_MD5X_MAX_LEN 55    /* the longest message that fits one MD5 block */
#define RC_OAATX_MAX_LEN 64   /* the longest key the OAAT lanes take */

#if defined(_MSC_VER) && !defined(__clang__)
#  define RC_ALIGN64 __declspec(align(64))
#  define RC_ALIGN64_AFTER
#else
#  define RC_ALIGN64
#  define RC_ALIGN64_AFTER __attribute__((aligned(64)))
#endif

/* The kernels a build has; rc_lanes_level picks the best the CPU runs. */
typedef enum {
    RC_LANES_SCALAR = 0,      /* plain C */
    RC_LANES_BASE = 1,        /* SSE2 on x86-64, NEON on aarch64 */
    RC_LANES_AVX2 = 2,
    RC_LANES_AVX512 = 3,
} rc_lanes_kind;

/* The kernel the blocks run: the best one this build and CPU have, or the one
 * forced by rc_lanes_force. */
rc_lanes_kind rc_lanes_level(void);

/* Whether this build and CPU can run kernel `kind`. */
int rc_lanes_available(rc_lanes_kind kind);

/* Force kernel `kind` for every later run (tests), or go back to the best
 * with -1. RC_ERR_ARG when the kernel is not available. Not thread-safe:
 * call it while no block runs. */
rc_status rc_lanes_force(int kind);

/* MD5 of one 64-byte block per lane: word k of lane l at w[k][l]. rows is
 * how many of rows 0..13 may hold nonzero words (the run zeroes them again). */
typedef struct {
    RC_ALIGN64 uint32_t w[16][RC_LANES] RC_ALIGN64_AFTER;
    size_t rows;
} rc_md5x_block;

void rc_md5x_clear(rc_md5x_block *b);

static inline uint32_t rc_lanes_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The last len % 4 bytes of p[0 .. len) as a little-endian word, zero above:
 * for len >= 4 from the word that ends the message (no loop over bytes,
 * whose trip count would change from key to key). */
static inline uint32_t rc_lanes_tail(const uint8_t *p, size_t len)
{
    size_t r = len % 4;
    if (r == 0)
        return 0;
    if (len >= 4)
        return rc_lanes_le32(p + len - 4) >> (8 * (4 - r));
    return (uint32_t)p[0] | (r > 1 ? (uint32_t)p[1] << 8 : 0u) | (r > 2 ? (uint32_t)p[2] << 16 : 0u);
}

/* Lane `lane` holds data[0 .. len) (len <= RC_MD5X_MAX_LEN), padded as MD5
 * pads it: 0x80, zeros, the length in bits in word 14. */
static inline void rc_md5x_put(rc_md5x_block *b, unsigned lane, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t full = len / 4, k;
    for (k = 0; k < full; k++)
        b->w[k][lane] = rc_lanes_le32(p + 4 * k);
    b->w[full][lane] = rc_lanes_tail(p, len) | 0x80u << (8 * (len % 4));
    b->w[14][lane] = (uint32_t)(len * 8);
    if (full + 1 > b->rows)
        b->rows = full + 1;
}

/* digest[w][l]: word w (0..3, little-endian words of the digest) of lane l's
 * MD5, for lanes 0 .. nlanes-1 (others may be written too: the kernels go a
 * register at a time); then the block is empty again. */
void rc_md5x_run(rc_md5x_block *b, uint32_t digest[4][RC_LANES], unsigned nlanes);

/* OAAT: bytes 4k .. 4k+3 of lane l in w[k][l] as a little-endian word (4
 * bytes a store, not 1), zero past the message; each byte is read as a
 * signed char. */
typedef struct {
    RC_ALIGN64 uint32_t w[RC_OAATX_MAX_LEN / 4][RC_LANES] RC_ALIGN64_AFTER;
    RC_ALIGN64 uint32_t len[RC_LANES] RC_ALIGN64_AFTER;
    size_t rows;              /* the longest message put since the last run */
} rc_oaatx_block;

void rc_oaatx_clear(rc_oaatx_block *b);

/* Lane `lane` holds data[0 .. len), len <= RC_OAATX_MAX_LEN. */
static inline void rc_oaatx_put(rc_oaatx_block *b, unsigned lane, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    size_t full = len / 4, k;
    for (k = 0; k < full; k++)
        b->w[k][lane] = rc_lanes_le32(p + 4 * k);
    if (len % 4)
        b->w[full][lane] = rc_lanes_tail(p, len);
    b->len[lane] = (uint32_t)len;
    if (len > b->rows)
        b->rows = len;
}

/* out[l] = rc_oaat of lane l's message for lanes 0 .. nlanes-1 (others may
 * be written too); then the block is empty again. */
void rc_oaatx_run(rc_oaatx_block *b, uint32_t out[RC_LANES], unsigned nlanes);

#ifdef __cplusplus
}
#endif

#endif /* RC_LANES_H */
