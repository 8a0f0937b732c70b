/* What every ringcore C layer shares: status codes, limits, prefetch hints.
 *
 * Functions that take lengths or indices from a caller check them and return
 * an rc_status; kernels that only read memory a checked structure describes
 * return nothing.
 */
#ifndef RC_COMMON_H
#define RC_COMMON_H

#include <stddef.h>
#include <stdint.h>
#if defined(_MSC_VER) && !defined(__clang__)
#  include <intrin.h>  /* _BitScanForward, _umul128, __umulh */
#  include <stdlib.h>  /* _byteswap_uint64 */
#endif

typedef enum {
    RC_OK = 0,
    RC_ERR_ARG = -1,    /* a length, index or order the caller passed is wrong */
    RC_ERR_NOMEM = -2,
    RC_ERR_NULL = -3,   /* a null key where nulls are not allowed */
    RC_ERR_KEY = -4,    /* a key with no bytes: bad code point, offset or view */
} rc_status;

/* The SIMD the C may use: SSE2 (every x86-64 CPU; MSVC says so with _M_X64)
 * or NEON (every aarch64 CPU). RC_NO_SIMD builds the plain C instead (the
 * tests build both). */
#if !defined(RC_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64) \
                             || (defined(_M_IX86_FP) && _M_IX86_FP >= 2))
#  define RC_SSE2 1
#elif !defined(RC_NO_SIMD) && defined(__aarch64__) && defined(__ARM_NEON)
#  define RC_NEON 1
#endif

/* Point and node indices are int32 in every array. */
#define RC_MAX_POINTS 0x7fffffffu

#if defined(__GNUC__) || defined(__clang__)
#  define RC_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#  define RC_LIKELY(x) __builtin_expect(!!(x), 1)
#  define RC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#  include <xmmintrin.h>
#  define RC_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#  define RC_LIKELY(x) (x)
#  define RC_UNLIKELY(x) (x)
#else
#  define RC_PREFETCH(p) ((void)(p))
#  define RC_LIKELY(x) (x)
#  define RC_UNLIKELY(x) (x)
#endif

/* Prefetch the first two cache lines at p: a str object's header and the
 * start of its characters (batch loops over Python objects touch memory the
 * hardware prefetcher cannot predict). */
static inline void rc_prefetch_object(const void *p)
{
    RC_PREFETCH(p);
    RC_PREFETCH((const char *)p + 64);
}

static inline uint64_t rc_bswap64(uint64_t v)
{
#if defined(_MSC_VER) && !defined(__clang__)
    return _byteswap_uint64(v);
#elif defined(__GNUC__) || defined(__clang__)
    return __builtin_bswap64(v);
#else
    v = ((v & 0x00FF00FF00FF00FFull) << 8) | ((v >> 8) & 0x00FF00FF00FF00FFull);
    v = ((v & 0x0000FFFF0000FFFFull) << 16) | ((v >> 16) & 0x0000FFFF0000FFFFull);
    return (v << 32) | (v >> 32);
#endif
}

/* The 128-bit product a * b: returns the high half, *lo the low half.
 * RC_XXH3_PORTABLE (rc_xxh3.h's switch for testing) forces the 32-bit
 * multiplies. */
static inline uint64_t rc_mul64(uint64_t a, uint64_t b, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__) && !defined(RC_XXH3_PORTABLE)
    __extension__ typedef unsigned __int128 rc_u128;
    rc_u128 product = (rc_u128)a * b;
    *lo = (uint64_t)product;
    return (uint64_t)(product >> 64);
#elif defined(_MSC_VER) && !defined(__clang__) && (defined(_M_X64) || defined(_M_AMD64)) \
    && !defined(RC_XXH3_PORTABLE)
    uint64_t hi;
    *lo = _umul128(a, b, &hi);
    return hi;
#elif defined(_MSC_VER) && !defined(__clang__) && defined(_M_ARM64) && !defined(RC_XXH3_PORTABLE)
    *lo = a * b;
    return __umulh(a, b);
#else
    uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32, b_lo = b & 0xffffffffu, b_hi = b >> 32;
    uint64_t low = a_lo * b_lo, mid1 = a_hi * b_lo, mid2 = a_lo * b_hi, high = a_hi * b_hi;
    uint64_t cross = (low >> 32) + (mid1 & 0xffffffffu) + (mid2 & 0xffffffffu);
    *lo = (cross << 32) | (low & 0xffffffffu);
    return high + (mid1 >> 32) + (mid2 >> 32) + (cross >> 32);
#endif
}

/* The index of the lowest set bit of a nonzero mask. */
static inline unsigned rc_lowest_bit(uint32_t mask)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctz(mask);
#elif defined(_MSC_VER)
    unsigned long i;
    _BitScanForward(&i, mask);
    return (unsigned)i;
#else
    unsigned i = 0;
    while (!(mask & 1u)) {
        mask >>= 1;
        i++;
    }
    return i;
#endif
}

#endif /* RC_COMMON_H */
