/* Multi-buffer hashing: MD5 and Jenkins one-at-a-time over RC_LANES
 * independent short messages side by side, one message per SIMD lane.
 *
 * One MD5 (or OAAT) of a short key is a single long chain of dependent
 * steps, so a scalar loop waits on latency; RC_LANES messages hashed
 * together fill the vector units instead. The caller copies each message into
 * a lane of a block (rc_md5x_put, rc_md5x_put_spare, rc_oaatx_put, rc_oaatx_put_spare: the bytes
 * are copied at once, so the source may be reused), runs the block, and reads
 * one result per lane. Lanes not put since the last run hash stale data:
 * their results are to be ignored.
 *
 * Kernels: AVX-512F or AVX2 chosen at run time on x86-64 (GCC, clang), SSE2
 * (x86-64) or NEON (aarch64) as the baseline, all from one source through GCC
 * vector extensions; plain C otherwise (MSVC, RC_NO_SIMD, other CPUs). Every
 * kernel gives the same results as rc_md5 and rc_oaat. The blocks hold bytes
 * and the kernels read them as little-endian words (byte by byte in plain C;
 * by vector loads only where the host is little-endian), so the byte order of
 * the host does not matter.
 */
#ifndef RC_LANES_H
#define RC_LANES_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rc_common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RC_LANES 64           /* messages per block */
#define RC_MD5X_MAX_LEN 55    /* the longest message that fits one MD5 block */
#define RC_MD5X2_MAX_LEN 119  /* the longest that fits two (rc_md5x2_block) */
#define RC_OAATX_MAX_LEN 128  /* the longest key the OAAT lanes take */

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

static inline uint32_t rc_lanes_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#if defined(__GNUC__) || defined(__clang__)
#  define RC_LANES_INLINE static inline __attribute__((always_inline))
#else
#  define RC_LANES_INLINE static inline
#endif

/* m[0 .. len) = p[0 .. len), len <= 128, as two copies of a fixed size that
 * overlap (as a memcpy does, inline): no byte of m past len is written. */
RC_LANES_INLINE void rc_lanes_copy(uint8_t *m, const uint8_t *p, size_t len)
{
    if (len >= 16) {
        if (len >= 64) {
            memcpy(m, p, 64);
            memcpy(m + len - 64, p + len - 64, 64);
        } else if (len >= 32) {
            memcpy(m, p, 32);
            memcpy(m + len - 32, p + len - 32, 32);
        } else {
            memcpy(m, p, 16);
            memcpy(m + len - 16, p + len - 16, 16);
        }
    } else if (len >= 8) {
        memcpy(m, p, 8);
        memcpy(m + len - 8, p + len - 8, 8);
    } else if (len >= 4) {
        memcpy(m, p, 4);
        memcpy(m + len - 4, p + len - 4, 4);
    } else if (len > 0) {
        m[0] = p[0];
        m[len / 2] = p[len / 2];
        m[len - 1] = p[len - 1];
    }
}

/* MD5 of one 64-byte block per lane: lane l's block, padded, at m[l] in
 * message order (bytes, not words: a put is a few vector stores, and the run
 * turns the blocks of many lanes into rows of words at once). */
typedef struct {
    RC_ALIGN64 uint8_t m[RC_LANES][64] RC_ALIGN64_AFTER;
    /* each lane's length in bits (word 14 of its block, kept apart too: the
     * kernel for messages under 32 bytes reads no other word past word 7) */
    RC_ALIGN64 uint32_t bits[RC_LANES] RC_ALIGN64_AFTER;
} rc_md5x_block;

/* The same for messages of RC_MD5X_MAX_LEN + 1 .. RC_MD5X2_MAX_LEN bytes,
 * which MD5 pads to two blocks: lane l's at m[l]. */
typedef struct {
    RC_ALIGN64 uint8_t m[RC_LANES][128] RC_ALIGN64_AFTER;
} rc_md5x2_block;

void rc_md5x_clear(rc_md5x_block *b);
void rc_md5x2_clear(rc_md5x2_block *b);

/* m[0 .. cap) = data[0 .. len) padded as MD5 pads it: 0x80, zeros, the length
 * in bits in the last 8 bytes (little-endian); len <= cap - 9. */
RC_LANES_INLINE void rc_md5x_pad_into(uint8_t *m, size_t cap, const uint8_t *p, size_t len)
{
    uint32_t bits = (uint32_t)(len * 8);
    memset(m, 0, cap);
    rc_lanes_copy(m, p, len);
    m[len] = 0x80;
    m[cap - 8] = (uint8_t)bits;
    m[cap - 7] = (uint8_t)(bits >> 8);
}

/* Lane `lane` holds data[0 .. len), len <= RC_MD5X_MAX_LEN. */
RC_LANES_INLINE void rc_md5x_put(rc_md5x_block *b, unsigned lane, const void *data, size_t len)
{
    rc_md5x_pad_into(b->m[lane], 64, (const uint8_t *)data, len);
    b->bits[lane] = (uint32_t)(len * 8);
}

/* Lane `lane` holds data[0 .. len), RC_MD5X_MAX_LEN < len <= RC_MD5X2_MAX_LEN. */
RC_LANES_INLINE void rc_md5x2_put(rc_md5x2_block *b, unsigned lane, const void *data, size_t len)
{
    rc_md5x_pad_into(b->m[lane], 128, (const uint8_t *)data, len);
}

#if !defined(RC_NO_SIMD) && (defined(__GNUC__) || defined(__clang__)) \
    && (defined(RC_SSE2) || defined(RC_NEON))
#  define RC_LANES_VECTORS 1     /* GCC vector extensions over SSE2 or NEON */
#  if defined(__x86_64__)
#    define RC_LANES_X86_DISPATCH 1  /* AVX2 and AVX-512 kernels, picked at run time */
#  endif
#endif

#if defined(RC_LANES_VECTORS) && defined(__BYTE_ORDER__) \
    && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#  define RC_MD5X_PUT_WIDE 1
/* Half a block: one AVX2 register, two SSE2 or NEON ones. */
typedef uint8_t rc_md5x_u8x32 __attribute__((vector_size(32), aligned(1), may_alias));
/* For a message of len bytes: rc_md5x_pad[len].keep[i] is 0xff for i < len,
 * and rc_md5x_pad[len].tail is its padding in its block: 0x80 at byte len,
 * the length in bits at bytes 56 and 57. Aligned rows: a load that crossed
 * cache lines would cost two. */
typedef struct {
    RC_ALIGN64 uint8_t keep[64] RC_ALIGN64_AFTER;
    uint8_t tail[64];
} rc_md5x_pad_row;
extern const rc_md5x_pad_row rc_md5x_pad[RC_MD5X_MAX_LEN + 1];
#endif

/* rc_md5x_put for data that may be read up to data[spare - 1] (spare >=
 * len), such as a key inside a larger buffer: with 64 bytes to read, the
 * block is two loads masked past len and or-ed with its padding, no branch on
 * the length. */
RC_LANES_INLINE void rc_md5x_put_spare(rc_md5x_block *b, unsigned lane, const void *data,
                                       size_t len, size_t spare)
{
    assert(len <= RC_MD5X_MAX_LEN && len <= spare);
#ifdef RC_MD5X_PUT_WIDE
    if (spare >= 64) {
        rc_md5x_u8x32 *m = (rc_md5x_u8x32 *)(void *)b->m[lane];
        const rc_md5x_u8x32 *p = (const rc_md5x_u8x32 *)data;
        const rc_md5x_u8x32 *keep = (const rc_md5x_u8x32 *)(const void *)rc_md5x_pad[len].keep;
        const rc_md5x_u8x32 *tail = (const rc_md5x_u8x32 *)(const void *)rc_md5x_pad[len].tail;
        m[0] = (p[0] & keep[0]) | tail[0];
        m[1] = (p[1] & keep[1]) | tail[1];
        b->bits[lane] = (uint32_t)(len * 8);
        return;
    }
#endif
    (void)spare;
    rc_md5x_put(b, lane, data, len);
}

/* digest[w][l]: word w (0..3, little-endian words of the digest) of lane l's
 * MD5, for lanes 0 .. nlanes-1 (others may be written too: the kernels go a
 * register at a time). */
void rc_md5x_run(const rc_md5x_block *b, uint32_t digest[4][RC_LANES], unsigned nlanes);
void rc_md5x2_run(const rc_md5x2_block *b, uint32_t digest[4][RC_LANES], unsigned nlanes);

/* low32[l]: word 0 of lane l's MD5 alone (ketama's key hash), for lanes
 * 0 .. nlanes-1 (others may be written too): three steps fewer, and when
 * the messages of these lanes are all shorter than 32 bytes, the words that
 * are then zero skipped. */
void rc_md5x_run_low32(const rc_md5x_block *b, uint32_t low32[RC_LANES], unsigned nlanes);
void rc_md5x2_run_low32(const rc_md5x2_block *b, uint32_t low32[RC_LANES], unsigned nlanes);

/* RC_LANES messages by reference: lane l's is p[l][0 .. len[l]), len[l] < 32
 * (larger lengths are taken modulo 32, by every kernel), with p[l][0 .. 32)
 * readable (a key inside a larger buffer). With AVX2 or AVX-512 the kernel reads each message where it is:
 * no copy into a block, no lane count kept per key. */
typedef struct {
    const uint8_t *p[RC_LANES];
    RC_ALIGN64 uint32_t len[RC_LANES] RC_ALIGN64_AFTER;
} rc_md5x_refs;

/* Whether rc_md5x_run_low32_refs reads the messages in place on this CPU
 * (else it copies them into lanes first, no faster than rc_md5x_put). */
int rc_md5x_refs_in_place(void);

/* low32[l]: word 0 of the MD5 of every lane's message. */
void rc_md5x_run_low32_refs(const rc_md5x_refs *refs, uint32_t low32[RC_LANES]);

/* OAAT: lane l's message at m[l][0 .. len[l]), each byte read as a signed
 * char. The bytes past a message are never hashed: they may hold anything
 * (a put copies whole vectors), and the kernels turn the rows into words. */
typedef struct {
    RC_ALIGN64 uint8_t m[RC_LANES][RC_OAATX_MAX_LEN] RC_ALIGN64_AFTER;
    RC_ALIGN64 uint32_t len[RC_LANES] RC_ALIGN64_AFTER;
} rc_oaatx_block;

void rc_oaatx_clear(rc_oaatx_block *b);

/* Lane `lane` holds data[0 .. len), len <= RC_OAATX_MAX_LEN. */
RC_LANES_INLINE void rc_oaatx_put(rc_oaatx_block *b, unsigned lane, const void *data, size_t len)
{
    assert(len <= RC_OAATX_MAX_LEN);
    rc_lanes_copy(b->m[lane], (const uint8_t *)data, len);
    b->len[lane] = (uint32_t)len;
}

/* rc_oaatx_put for data that may be read up to data[spare - 1] (spare >=
 * len): a message of up to 32 bytes with 32 to read is one copy of 32. */
RC_LANES_INLINE void rc_oaatx_put_spare(rc_oaatx_block *b, unsigned lane, const void *data,
                                        size_t len, size_t spare)
{
    assert(len <= RC_OAATX_MAX_LEN && len <= spare);
    if (len <= 32 && spare >= 32) {
        memcpy(b->m[lane], data, 32);
        b->len[lane] = (uint32_t)len;
        return;
    }
    rc_oaatx_put(b, lane, data, len);
}

/* out[l] = rc_oaat of lane l's message for lanes 0 .. nlanes-1 (others may
 * be written too). */
void rc_oaatx_run(const rc_oaatx_block *b, uint32_t out[RC_LANES], unsigned nlanes);

/* Whether rc_oaatx_run_refs reads the messages in place on this CPU (else
 * it copies them into lanes first). */
int rc_oaatx_refs_in_place(void);

/* out[l] = rc_oaat of each of the RC_LANES messages of refs (rc_md5x_refs:
 * under 32 bytes each, 32 bytes readable from each start). */
void rc_oaatx_run_refs(const rc_md5x_refs *refs, uint32_t out[RC_LANES]);

#ifdef __cplusplus
}
#endif

#endif /* RC_LANES_H */
