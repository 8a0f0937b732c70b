/*
 * rc_xxh3.h - XXH3-64 (seed 0, default secret), header-only, portable C99.
 *
 * Written for ringcore from the xxHash specification (doc/xxhash_spec.md,
 * "XXH3 Algorithm Description").  Only the published constants and the
 * default secret are taken from the specification; the code is our own.
 * Output is bit-identical to XXH3_64bits() / xxhash.xxh3_64_intdigest().
 *
 *   uint64_t rc_xxh3_64(const void *data, size_t len);
 *   uint64_t rc_xxh3_64_u64(uint64_t v);   == rc_xxh3_64(8 LE bytes of v)
 *
 * No global mutable state, no allocation: safe to call from any thread.
 * Define RC_XXH3_PORTABLE to force the byte-wise loads and 32-bit multiply
 * fallbacks (for testing them).
 */
#ifndef RC_XXH3_H
#define RC_XXH3_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rc_common.h"  /* rc_bswap64, rc_mul64 */

#if defined(_MSC_VER) && !defined(__clang__)
#  define RC_XXH3_INLINE   static __inline
#  define RC_XXH3_NOINLINE static __declspec(noinline)
#elif defined(__GNUC__) || defined(__clang__)
#  define RC_XXH3_INLINE   static inline
#  define RC_XXH3_NOINLINE static __attribute__((noinline))
#else
#  define RC_XXH3_INLINE   static inline
#  define RC_XXH3_NOINLINE static
#endif

/* ---- host byte order (0 = unknown: use byte-wise loads) ---------------- */
#if defined(RC_XXH3_PORTABLE)
#  define RC_XXH3_ENDIAN 0
#elif defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
      __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#  define RC_XXH3_ENDIAN 1
#elif defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
      __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#  define RC_XXH3_ENDIAN 2
#elif defined(_MSC_VER) || defined(_WIN32)  /* all Windows targets are LE */
#  define RC_XXH3_ENDIAN 1
#else
#  define RC_XXH3_ENDIAN 0
#endif

/* ---- constants (spec: "XXH3 Algorithm Overview") ----------------------- */
#define RC_XXH_P32_1 0x9E3779B1U
#define RC_XXH_P32_2 0x85EBCA77U
#define RC_XXH_P32_3 0xC2B2AE3DU
#define RC_XXH_P64_1 0x9E3779B185EBCA87ULL
#define RC_XXH_P64_2 0xC2B2AE3D27D4EB4FULL
#define RC_XXH_P64_3 0x165667B19E3779F9ULL
#define RC_XXH_P64_4 0x85EBCA77C2B2AE63ULL
#define RC_XXH_P64_5 0x27D4EB2F165667C5ULL
#define RC_XXH_PMX_1 0x165667919E3779F9ULL
#define RC_XXH_PMX_2 0x9FB21C651E98DF25ULL
#define RC_XXH3_STRIPE 64      /* large inputs: 64-byte stripes ...        */
#define RC_XXH3_BLOCK  1024    /* ... 16 per block with the 192-byte secret */

/* Default 192-byte secret (spec: "Seed and Secret"). */
static const uint8_t rc_xxh3_secret[192] = {
    0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c,
    0xf7, 0x21, 0xad, 0x1c, 0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb,
    0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f, 0xcb, 0x79, 0xe6, 0x4e,
    0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
    0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6,
    0x81, 0x3a, 0x26, 0x4c, 0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb,
    0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3, 0x71, 0x64, 0x48, 0x97,
    0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
    0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7,
    0xc7, 0x0b, 0x4f, 0x1d, 0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31,
    0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64, 0xea, 0xc5, 0xac, 0x83,
    0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
    0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26,
    0x29, 0xd4, 0x68, 0x9e, 0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc,
    0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce, 0x45, 0xcb, 0x3a, 0x8f,
    0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
};

/* secret[8:16] xor secret[16:24] as little-endian u64 (4-8 byte class). */
#define RC_XXH3_K_4TO8 0xC73AB174C5ECD5A2ULL

/* ---- primitive helpers -------------------------------------------------- */
RC_XXH3_INLINE uint64_t rc_xxh_rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64u - r));       /* r is always in 1..63 */
}

/* Little-endian loads of possibly unaligned bytes. */
RC_XXH3_INLINE uint64_t rc_xxh_read64(const uint8_t *p)
{
#if RC_XXH3_ENDIAN == 0
    return  (uint64_t)p[0]        | ((uint64_t)p[1] << 8)  |
           ((uint64_t)p[2] << 16) | ((uint64_t)p[3] << 24) |
           ((uint64_t)p[4] << 32) | ((uint64_t)p[5] << 40) |
           ((uint64_t)p[6] << 48) | ((uint64_t)p[7] << 56);
#else
    uint64_t v;
    memcpy(&v, p, sizeof v);
#  if RC_XXH3_ENDIAN == 2
    v = rc_bswap64(v);
#  endif
    return v;
#endif
}

RC_XXH3_INLINE uint32_t rc_xxh_read32(const uint8_t *p)
{
#if RC_XXH3_ENDIAN == 0
    return  (uint32_t)p[0]        | ((uint32_t)p[1] << 8) |
           ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
#else
    uint32_t v;
    memcpy(&v, p, sizeof v);
#  if RC_XXH3_ENDIAN == 2
    v = (uint32_t)(rc_bswap64((uint64_t)v) >> 32);
#  endif
    return v;
#endif
}

/* 64x64->128 multiply, returning low64 xor high64 (the spec's "fold"). */
RC_XXH3_INLINE uint64_t rc_xxh_mulfold(uint64_t a, uint64_t b)
{
    uint64_t lo;
    uint64_t hi = rc_mul64(a, b, &lo);
    return lo ^ hi;
}

/* spec: avalanche_XXH64() */
RC_XXH3_INLINE uint64_t rc_xxh_avalanche64(uint64_t x)
{
    x ^= x >> 33;
    x *= RC_XXH_P64_2;
    x ^= x >> 29;
    x *= RC_XXH_P64_3;
    return x ^ (x >> 32);
}

/* spec: avalanche() (XXH3 variant) */
RC_XXH3_INLINE uint64_t rc_xxh3_avalanche(uint64_t x)
{
    x ^= x >> 37;
    x *= RC_XXH_PMX_1;
    return x ^ (x >> 32);
}

/* Final mixing of the 4-8 byte class (spec: "4-8 bytes of input"). */
RC_XXH3_INLINE uint64_t rc_xxh3_mix4to8(uint64_t v, uint64_t len)
{
    v ^= rc_xxh_rotl64(v, 49) ^ rc_xxh_rotl64(v, 24);
    v *= RC_XXH_PMX_2;
    v ^= (v >> 35) + len;
    v *= RC_XXH_PMX_2;
    return v ^ (v >> 28);
}

/* spec "Mixing operation": mixStep() of 16 input bytes with 16 secret bytes. */
RC_XXH3_INLINE uint64_t rc_xxh3_mix16(const uint8_t *p, const uint8_t *s)
{
    return rc_xxh_mulfold(rc_xxh_read64(p) ^ rc_xxh_read64(s),
                          rc_xxh_read64(p + 8) ^ rc_xxh_read64(s + 8));
}

/* ---- length classes ----------------------------------------------------- */

/* spec: "1-3 bytes of input" */
RC_XXH3_INLINE uint64_t rc_xxh3_1to3(const uint8_t *p, size_t len)
{
    uint32_t combined = (uint32_t)p[len - 1] | ((uint32_t)len << 8) |
                        ((uint32_t)p[0] << 16) | ((uint32_t)p[len >> 1] << 24);
    uint32_t key = rc_xxh_read32(rc_xxh3_secret) ^ rc_xxh_read32(rc_xxh3_secret + 4);
    return rc_xxh_avalanche64((uint64_t)(key ^ combined));
}

/* spec: "4-8 bytes of input" */
RC_XXH3_INLINE uint64_t rc_xxh3_4to8(const uint8_t *p, size_t len)
{
    uint64_t first = rc_xxh_read32(p);
    uint64_t last = rc_xxh_read32(p + len - 4);
    return rc_xxh3_mix4to8(RC_XXH3_K_4TO8 ^ (last | (first << 32)), (uint64_t)len);
}

/* spec: "9-16 bytes of input" */
RC_XXH3_INLINE uint64_t rc_xxh3_9to16(const uint8_t *p, size_t len)
{
    const uint8_t *s = rc_xxh3_secret;
    uint64_t lo = rc_xxh_read64(s + 24) ^ rc_xxh_read64(s + 32) ^ rc_xxh_read64(p);
    uint64_t hi = rc_xxh_read64(s + 40) ^ rc_xxh_read64(s + 48) ^
                  rc_xxh_read64(p + len - 8);
    uint64_t acc = (uint64_t)len + rc_bswap64(lo) + hi + rc_xxh_mulfold(lo, hi);
    return rc_xxh3_avalanche(acc);
}

/* spec: "17-128 bytes of input": N chunks from the front paired with N from
 * the back, N = ceil(len / 32); chunk pair i uses secret[32i : 32i+32]. */
RC_XXH3_INLINE uint64_t rc_xxh3_17to128(const uint8_t *p, size_t len)
{
    uint64_t acc = (uint64_t)len * RC_XXH_P64_1;
    size_t rounds = ((len - 1) >> 5) + 1, i;
    for (i = 0; i < rounds; i++) {
        acc += rc_xxh3_mix16(p + 16 * i, rc_xxh3_secret + 32 * i);
        acc += rc_xxh3_mix16(p + len - 16 - 16 * i, rc_xxh3_secret + 32 * i + 16);
    }
    return rc_xxh3_avalanche(acc);
}

/* spec: "129-240 bytes of input": 8 chunks, intermediate avalanche, the
 * remaining whole chunks at secret offset 3, last 16 bytes at offset 119. */
RC_XXH3_INLINE uint64_t rc_xxh3_129to240(const uint8_t *p, size_t len)
{
    uint64_t acc = (uint64_t)len * RC_XXH_P64_1;
    size_t chunks = len >> 4, i;
    for (i = 0; i < 8; i++)
        acc += rc_xxh3_mix16(p + 16 * i, rc_xxh3_secret + 16 * i);
    acc = rc_xxh3_avalanche(acc);
    for (i = 8; i < chunks; i++)
        acc += rc_xxh3_mix16(p + 16 * i, rc_xxh3_secret + 16 * (i - 8) + 3);
    acc += rc_xxh3_mix16(p + len - 16, rc_xxh3_secret + 119);
    return rc_xxh3_avalanche(acc);
}

/* spec "Step 2-1": accumulate one 64-byte stripe with secret[off:off+64]. */
RC_XXH3_INLINE void rc_xxh3_accumulate(uint64_t acc[8], const uint8_t *p,
                                       const uint8_t *s)
{
    int i;
    for (i = 0; i < 8; i++) {
        uint64_t d = rc_xxh_read64(p + 8 * i);
        uint64_t k = d ^ rc_xxh_read64(s + 8 * i);
        acc[i ^ 1] += d;
        acc[i] += (k & 0xFFFFFFFFULL) * (k >> 32);
    }
}

/* spec "Step 2-2": scramble with the last 64 bytes of the secret. */
RC_XXH3_INLINE void rc_xxh3_scramble(uint64_t acc[8])
{
    int i;
    for (i = 0; i < 8; i++) {
        uint64_t a = acc[i];
        a ^= a >> 47;
        a ^= rc_xxh_read64(rc_xxh3_secret + 128 + 8 * i);
        acc[i] = a * RC_XXH_P32_1;
    }
}

/* spec: "Large inputs" (> 240 bytes).  Default secret: 16 stripes of 64
 * bytes per 1024-byte block; kept out of line so hot callers stay small. */
RC_XXH3_NOINLINE uint64_t rc_xxh3_long(const uint8_t *p, size_t len)
{
    const uint8_t *s = rc_xxh3_secret;
    uint64_t acc[8] = { RC_XXH_P32_3, RC_XXH_P64_1, RC_XXH_P64_2, RC_XXH_P64_3,
                        RC_XXH_P64_4, RC_XXH_P32_2, RC_XXH_P64_5, RC_XXH_P32_1 };
    size_t blocks = (len - 1) / RC_XXH3_BLOCK;  /* last block: no scramble */
    size_t b, n, stripes;
    uint64_t result = (uint64_t)len * RC_XXH_P64_1;

    /* Step 2: whole blocks, each followed by a scramble. */
    for (b = 0; b < blocks; b++, p += RC_XXH3_BLOCK) {
        for (n = 0; n < RC_XXH3_BLOCK / RC_XXH3_STRIPE; n++)
            rc_xxh3_accumulate(acc, p + n * RC_XXH3_STRIPE, s + 8 * n);
        rc_xxh3_scramble(acc);
    }
    /* Step 3: stripes of the last block except the final one, then the
     * last 64 bytes of input (may overlap) with secret offset 192-64-7. */
    len -= blocks * RC_XXH3_BLOCK;
    stripes = (len - 1) / RC_XXH3_STRIPE;
    for (n = 0; n < stripes; n++)
        rc_xxh3_accumulate(acc, p + n * RC_XXH3_STRIPE, s + 8 * n);
    rc_xxh3_accumulate(acc, p + len - RC_XXH3_STRIPE, s + 121);

    /* Step 4: finalMerge(len * PRIME64_1, secret offset 11). */
    for (n = 0; n < 4; n++)
        result += rc_xxh_mulfold(acc[2 * n] ^ rc_xxh_read64(s + 11 + 16 * n),
                                 acc[2 * n + 1] ^ rc_xxh_read64(s + 19 + 16 * n));
    return rc_xxh3_avalanche(result);
}

/* ---- public API ---------------------------------------------------------- */

/* XXH3-64 of data[0:len], seed 0, default secret. */
RC_XXH3_INLINE uint64_t rc_xxh3_64(const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    if (len <= 16) {
        if (len > 8)
            return rc_xxh3_9to16(p, len);
        if (len >= 4)
            return rc_xxh3_4to8(p, len);
        if (len > 0)
            return rc_xxh3_1to3(p, len);
        /* spec: "Empty input": avalanche_XXH64(secret[56:64] ^ secret[64:72]) */
        return rc_xxh_avalanche64(rc_xxh_read64(rc_xxh3_secret + 56) ^
                                  rc_xxh_read64(rc_xxh3_secret + 64));
    }
    if (len <= 128)
        return rc_xxh3_17to128(p, len);
    if (len <= 240)
        return rc_xxh3_129to240(p, len);
    return rc_xxh3_long(p, len);
}

/* XXH3-64 of the 8 LE bytes of v: the 4-8 byte class with len = 8; first =
 * low half, last = high half, so the combined word is v rotated by 32. */
RC_XXH3_INLINE uint64_t rc_xxh3_64_u64(uint64_t v)
{
    return rc_xxh3_mix4to8(RC_XXH3_K_4TO8 ^ rc_xxh_rotl64(v, 32), 8u);
}

#endif /* RC_XXH3_H */
