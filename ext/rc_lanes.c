/* Multi-buffer MD5 and OAAT; see rc_lanes.h.
 *
 * Each kernel is one macro body instantiated per vector type: VT holds NL
 * lanes' 32-bit words (one register), and the body walks the block G * NL
 * lanes at a time: G independent chains the compiler interleaves, which is
 * what hides the latency of MD5's dependent steps. With VT = uint32_t the
 * same body is the plain C kernel (four chains: still 2.5 times the speed of
 * one MD5 after another).
 */
#include "rc_lanes.h"

#include <string.h>

#include "rc_md5_table.h"

#ifdef RC_LANES_X86_DISPATCH
#  include <immintrin.h>
#endif

#ifdef RC_MD5X_PUT_WIDE
#  define MD5X_PAD(n)                                                                  \
    [n] = {.keep = {[0 ...(n) - 1] = 0xff},                                                \
           .tail = {[n] = 0x80, [56] = (uint8_t)((n) * 8), [57] = (uint8_t)((n) * 8 >> 8)}}
#  define MD5X_PAD4(n) MD5X_PAD(n), MD5X_PAD(n + 1), MD5X_PAD(n + 2), MD5X_PAD(n + 3)
const rc_md5x_pad_row rc_md5x_pad[RC_MD5X_MAX_LEN + 1] = {
    [0] = {.tail = {[0] = 0x80}}, MD5X_PAD(1), MD5X_PAD(2), MD5X_PAD(3), MD5X_PAD4(4), MD5X_PAD4(8), MD5X_PAD4(12), MD5X_PAD4(16),
    MD5X_PAD4(20), MD5X_PAD4(24), MD5X_PAD4(28), MD5X_PAD4(32), MD5X_PAD4(36),
    MD5X_PAD4(40), MD5X_PAD4(44), MD5X_PAD4(48), MD5X_PAD4(52),
};
#  undef MD5X_PAD4
#  undef MD5X_PAD
#endif

/* ---- MD5 ---------------------------------------------------------------- */

#define MD5X_F(b, c, d) ((d) ^ ((b) & ((c) ^ (d))))
#define MD5X_G(b, c, d) ((c) ^ ((d) & ((b) ^ (c))))
#define MD5X_H(b, c, d) ((b) ^ (c) ^ (d))
/* I(b, c, d) = c ^ (b | ~d) = ~(c ^ (d & ~b)) = -(c ^ (d & ~b)) - 1: an
 * and-not, and a negation the step's additions absorb, instead of a not
 * (AVX2 on Zen 3: 9.8 ns a key against 10.0) */
#define MD5X_I(b, c, d) (0u - ((c) ^ ((d) & ~(b))) - 1u)
#define MD5X_ROTL(x, s) (((x) << (s)) | ((x) >> (32 - (s))))

/* Whether word k of a message shorter than 32 bytes is zero. */
#define MD5X_ZERO_IF_SHORT(k) ((k) >= 8 && (k) != 14)

/* a = b + rotl(a + f(b, c, d) + x[k] + T[i], s) in each of the G groups of
 * NL lanes: G independent chains the CPU overlaps (one MD5 step waits on the
 * step before it). Word k of group g: the NL lanes at w[k][g * NL]; in the
 * kernels for short messages (`short_words`, a constant), zero where
 * MD5X_ZERO_IF_SHORT says. */
#define MD5X_STEP(f, a, b, c, d, k, s, i)                                     \
    for (int g = 0; g < MD5X_G_COUNT; g++) {                                  \
        VT x = zero + RC_MD5_SINE[i];                                         \
        if (!(short_words && MD5X_ZERO_IF_SHORT(k)))                          \
            x += *(const VT *)(const void *)&w[k][g * NL];                    \
        a[g] = b[g] + MD5X_ROTL(a[g] + f(b[g], c[g], d[g]) + x, s);           \
    }

/* four steps, the registers turning as RFC 1321 turns them */
#define MD5X_QUAD(f, i, k0, k1, k2, k3, s0, s1, s2, s3) \
    MD5X_STEP(f, a, b, c, d, k0, s0, i);                \
    MD5X_STEP(f, d, a, b, c, k1, s1, i + 1);            \
    MD5X_STEP(f, c, d, a, b, k2, s2, i + 2);            \
    MD5X_STEP(f, b, c, d, a, k3, s3, i + 3)

/* Words 0 .. nwords-1 of one block of lanes off .. off + width - 1 as rows:
 * lane j's block at m + j * stride; w[k * width + j] = its little-endian
 * word k. With nwords 8 (messages under 32 bytes), row 14 from bits. */
static inline void md5x_words_c(const uint8_t *m, const uint32_t *bits, size_t stride,
                                size_t off, size_t width, size_t nwords, uint32_t *w)
{
    for (size_t j = 0; j < width; j++)
        for (size_t k = 0; k < nwords; k++)
            w[k * width + j] = rc_lanes_le32(m + (off + j) * stride + 4 * k);
    if (nwords == 8)
        memcpy(w + 14 * width, bits + off, width * sizeof *w);
}

/* The kernel `name`: the MD5 of each lane's NBLOCKS blocks (lane l's at m +
 * l * 64 * NBLOCKS, one after another; a constant, so that one block runs
 * without the chaining loop), for lanes 0 .. nlanes-1 (and up to the end
 * of their pass), G * NL lanes a pass: the four digest words in digest[0 ..
 * 3], or with FULL 0 word 0 alone in digest[0] (the last block's last three
 * steps only change the other words). With SHORT (one block, messages under
 * 32 bytes) only words 0..7 are read from the blocks and word 14 from bits;
 * the others are zero. VT holds NL lanes (one register); the macros above
 * read VT, NL and MD5X_G_COUNT, which each instantiation defines. The arrays
 * of G vectors become registers (the loops over g unroll). WORDS(block,
 * bits, stride, off, nwords, w) fills rows 0 .. nwords-1 of w[16][NL * G]
 * for the pass, and with nwords 8 row 14 (from bits). */
#define MD5X_KERNEL(name, ATTR, WORDS, FULL, NBLOCKS, SHORT)                      \
    ATTR static void name(const uint8_t *m, const uint32_t *bits,                 \
                          uint32_t (*digest)[RC_LANES], size_t nlanes)            \
    {                                                                             \
        const VT zero = {0};                                                      \
        const int short_words = SHORT;                                            \
        (void)bits;                                                               \
        /* passes that end past lane 63 would read and write past the block */  \
        (void)sizeof(char[RC_LANES % (NL * MD5X_G_COUNT) == 0 ? 1 : -1]);         \
        const unsigned nblocks = NBLOCKS;                                         \
        const size_t stride = 64 * NBLOCKS;                                       \
        RC_ALIGN64 uint32_t w[16][NL * MD5X_G_COUNT] RC_ALIGN64_AFTER;            \
        for (size_t off = 0; off < nlanes; off += NL * MD5X_G_COUNT) {            \
            VT a[MD5X_G_COUNT], b[MD5X_G_COUNT], c[MD5X_G_COUNT], d[MD5X_G_COUNT]; \
            VT sa[MD5X_G_COUNT], sb[MD5X_G_COUNT], sc[MD5X_G_COUNT], sd[MD5X_G_COUNT]; \
            for (int g = 0; g < MD5X_G_COUNT; g++) {                              \
                sa[g] = zero + 0x67452301u;                                       \
                sb[g] = zero + 0xefcdab89u;                                       \
                sc[g] = zero + 0x98badcfeu;                                       \
                sd[g] = zero + 0x10325476u;                                       \
            }                                                                     \
            for (unsigned blk = 0; blk < nblocks; blk++) {                        \
                int all = FULL || blk + 1 < nblocks;                              \
                WORDS(m + 64 * (size_t)blk, bits, stride, off, short_words ? 8 : 16, &w[0][0]); \
                for (int g = 0; g < MD5X_G_COUNT; g++) {                          \
                    a[g] = sa[g];                                                 \
                    b[g] = sb[g];                                                 \
                    c[g] = sc[g];                                                 \
                    d[g] = sd[g];                                                 \
                }                                                                 \
                MD5X_QUAD(MD5X_F, 0, 0, 1, 2, 3, 7, 12, 17, 22);                  \
                MD5X_QUAD(MD5X_F, 4, 4, 5, 6, 7, 7, 12, 17, 22);                  \
                MD5X_QUAD(MD5X_F, 8, 8, 9, 10, 11, 7, 12, 17, 22);                \
                MD5X_QUAD(MD5X_F, 12, 12, 13, 14, 15, 7, 12, 17, 22);             \
                MD5X_QUAD(MD5X_G, 16, 1, 6, 11, 0, 5, 9, 14, 20);                 \
                MD5X_QUAD(MD5X_G, 20, 5, 10, 15, 4, 5, 9, 14, 20);                \
                MD5X_QUAD(MD5X_G, 24, 9, 14, 3, 8, 5, 9, 14, 20);                 \
                MD5X_QUAD(MD5X_G, 28, 13, 2, 7, 12, 5, 9, 14, 20);                \
                MD5X_QUAD(MD5X_H, 32, 5, 8, 11, 14, 4, 11, 16, 23);               \
                MD5X_QUAD(MD5X_H, 36, 1, 4, 7, 10, 4, 11, 16, 23);                \
                MD5X_QUAD(MD5X_H, 40, 13, 0, 3, 6, 4, 11, 16, 23);                \
                MD5X_QUAD(MD5X_H, 44, 9, 12, 15, 2, 4, 11, 16, 23);               \
                MD5X_QUAD(MD5X_I, 48, 0, 7, 14, 5, 6, 10, 15, 21);                      \
                MD5X_QUAD(MD5X_I, 52, 12, 3, 10, 1, 6, 10, 15, 21);                     \
                MD5X_QUAD(MD5X_I, 56, 8, 15, 6, 13, 6, 10, 15, 21);                     \
                MD5X_STEP(MD5X_I, a, b, c, d, 4, 6, 60);                                \
                if (all) {                                                        \
                    MD5X_STEP(MD5X_I, d, a, b, c, 11, 10, 61);                          \
                    MD5X_STEP(MD5X_I, c, d, a, b, 2, 15, 62);                           \
                    MD5X_STEP(MD5X_I, b, c, d, a, 9, 21, 63);                           \
                }                                                                 \
                for (int g = 0; g < MD5X_G_COUNT; g++) {                          \
                    sa[g] += a[g];                                                \
                    sb[g] += b[g];                                                \
                    sc[g] += c[g];                                                \
                    sd[g] += d[g];                                                \
                }                                                                 \
            }                                                                     \
            for (int g = 0; g < MD5X_G_COUNT; g++) {                              \
                VT *ov = (VT *)(void *)&digest[0][off + g * NL];                  \
                ov[0] = sa[g];                                                    \
                if (FULL) {                                                       \
                    ov[RC_LANES / NL] = sb[g];                                    \
                    ov[2 * (RC_LANES / NL)] = sc[g];                              \
                    ov[3 * (RC_LANES / NL)] = sd[g];                              \
                }                                                                 \
            }                                                                     \
        }                                                                         \
    }

/* The kernels of one instruction set: MD5 of one block and of two, all four
 * words or word 0, and word 0 of messages under 32 bytes. */
#define MD5X_KERNEL_SET(isa, ATTR, WORDS)                      \
    MD5X_KERNEL(md5x_##isa, ATTR, WORDS, 1, 1, 0)              \
    MD5X_KERNEL(md5x2_##isa, ATTR, WORDS, 1, 2, 0)             \
    MD5X_KERNEL(md5x_##isa##_low32, ATTR, WORDS, 0, 1, 0)      \
    MD5X_KERNEL(md5x2_##isa##_low32, ATTR, WORDS, 0, 2, 0)     \
    MD5X_KERNEL(md5x_##isa##_low32_short, ATTR, WORDS, 0, 1, 1)

/* Four chains everywhere (measured on Zen 4: AVX-512 64 lanes a pass 4.2
 * ns/key, 32 lanes 5.2, 16 lanes 14.5; AVX2 4 x 8 lanes 7.5, 2 x 8 9.6;
 * SSE2 4 x 4 13.6, 2 x 4 18.5; plain C 4 x 1 38, 1 x 1 98). */
#define MD5X_G_COUNT 4
#define VT uint32_t
#define NL 1
#define MD5X_WORDS_C(m, bits, stride, off, nwords, w) \
    md5x_words_c(m, bits, stride, off, NL * MD5X_G_COUNT, nwords, w)
MD5X_KERNEL_SET(scalar, , MD5X_WORDS_C)
#undef VT
#undef NL

#ifdef RC_LANES_VECTORS
/* Vectors of 4, 8 and 16 lanes; aligned(4) and may_alias: they read rows of
 * uint32_t at any lane offset. */
typedef uint32_t rc_u32x4 __attribute__((vector_size(16), aligned(4), may_alias));
typedef uint32_t rc_u32x8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef uint32_t rc_u32x16 __attribute__((vector_size(64), aligned(4), may_alias));
typedef int32_t rc_i32x4 __attribute__((vector_size(16), aligned(4), may_alias));
typedef int32_t rc_i32x8 __attribute__((vector_size(32), aligned(4), may_alias));
typedef int32_t rc_i32x16 __attribute__((vector_size(64), aligned(4), may_alias));

#  define VT rc_u32x4
#  define NL 4
/* SSE2 or NEON */
MD5X_KERNEL_SET(base, , MD5X_WORDS_C)
#  undef VT
#  undef NL
#  ifdef RC_LANES_X86_DISPATCH
/* Eight rows of 8 lanes' words from r[i], lane i's words 0..7: an 8 x 8
 * transpose of 32-bit words (unpack words, then pairs, then 128-bit halves)
 * into w[k * width] for k = 0..7. */
__attribute__((target("avx2"), always_inline)) static inline void
md5x_transpose8_avx2(const __m256i r[8], size_t width, uint32_t *w)
{
    __m256i t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm256_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm256_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm256_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 4; i++) {
        _mm256_store_si256((__m256i *)(void *)&w[i * width],
                           _mm256_permute2x128_si256(u[i], u[i + 4], 0x20));
        _mm256_store_si256((__m256i *)(void *)&w[(i + 4) * width],
                           _mm256_permute2x128_si256(u[i], u[i + 4], 0x31));
    }
}

/* md5x_words_c with AVX2: two transposes (one for short messages) of 8
 * lanes at a time. */
__attribute__((target("avx2"), always_inline)) static inline void
md5x_words_avx2(const uint8_t *m, const uint32_t *bits, size_t stride, size_t off, size_t width,
                size_t nwords, uint32_t *w)
{
    for (size_t j0 = 0; j0 < width; j0 += 8) {
        for (size_t k0 = 0; k0 < nwords; k0 += 8) {
            __m256i r[8];
            /* 16-byte loads (measured: 32-byte ones were slower, even
             * after 32-byte puts) */
            for (int i = 0; i < 8; i++) {
                const __m128i *row = (const __m128i *)(const void *)(m + (off + j0 + i) * stride
                                                                    + 4 * k0);
                r[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(row)),
                                               _mm_loadu_si128(row + 1), 1);
            }
            md5x_transpose8_avx2(r, width, w + k0 * width + j0);
        }
    }
    if (nwords == 8)
        memcpy(w + 14 * width, bits + off, width * sizeof *w);
}

/* Words 0..7 and 14 of lanes off .. off + width - 1 of refs (`m`): each
 * message read where it is, masked past its end and padded in a register. */
__attribute__((target("avx2"), always_inline)) static inline void
md5x_words_refs_avx2(const uint8_t *m, const uint32_t *bits, size_t stride, size_t off,
                     size_t width, size_t nwords, uint32_t *w)
{
    const rc_md5x_refs *refs = (const rc_md5x_refs *)(const void *)m;
    (void)bits, (void)stride, (void)nwords;
    for (size_t j0 = 0; j0 < width; j0 += 8) {
        __m256i r[8];
        for (int i = 0; i < 8; i++) {
            size_t lane = off + j0 + i;
            const rc_md5x_pad_row *pad = &rc_md5x_pad[refs->len[lane] % 32];
            __m256i data = _mm256_loadu_si256((const __m256i *)(const void *)refs->p[lane]);
            r[i] = _mm256_or_si256(
                _mm256_and_si256(data, _mm256_load_si256((const __m256i *)(const void *)pad->keep)),
                _mm256_load_si256((const __m256i *)(const void *)pad->tail));
        }
        md5x_transpose8_avx2(r, width, w + j0);
        __m256i len = _mm256_and_si256(
            _mm256_loadu_si256((const __m256i *)(const void *)&refs->len[off + j0]),
            _mm256_set1_epi32(31));
        _mm256_store_si256((__m256i *)(void *)&w[14 * width + j0], _mm256_slli_epi32(len, 3));
    }
}
#    define MD5X_WORDS_AVX2(m, bits, stride, off, nwords, w) \
        md5x_words_avx2(m, bits, stride, off, NL * MD5X_G_COUNT, nwords, w)
#    define MD5X_WORDS_REFS_AVX2(m, bits, stride, off, nwords, w) \
        md5x_words_refs_avx2(m, bits, stride, off, NL * MD5X_G_COUNT, nwords, w)
#    define VT rc_u32x8
#    define NL 8
MD5X_KERNEL_SET(avx2, __attribute__((target("avx2"))), MD5X_WORDS_AVX2)
MD5X_KERNEL(md5x_avx2_low32_refs, __attribute__((target("avx2"))), MD5X_WORDS_REFS_AVX2, 0, 1, 1)
#    undef VT
#    undef NL
#    define VT rc_u32x16
#    define NL 16
MD5X_KERNEL_SET(avx512, __attribute__((target("avx512f"))), MD5X_WORDS_AVX2)
MD5X_KERNEL(md5x_avx512_low32_refs, __attribute__((target("avx512f"))), MD5X_WORDS_REFS_AVX2, 0, 1, 1)
#    undef VT
#    undef NL
#  endif
#endif

/* ---- OAAT --------------------------------------------------------------- */

static void oaatx_scalar(const rc_oaatx_block *b, size_t nlanes, uint32_t *out)
{
    for (size_t l = 0; l < nlanes; l++) {
        uint32_t h = 0;
        for (size_t i = 0; i < b->len[l] && i < RC_OAATX_MAX_LEN; i++) {
            h += (uint32_t)(int32_t)(int8_t)b->m[l][i];
            h += h << 10;
            h ^= h >> 6;
        }
        h += h << 3;
        h ^= h >> 11;
        h += h << 15;
        out[l] = h;
    }
}

#ifdef RC_LANES_VECTORS
/* Words k0 .. k0 + 7 of lanes off .. off + width - 1 as rows: lane j's
 * message at rows + j * stride; w[k * width + j] = its little-endian word
 * k0 + k. */
static inline void oaatx_words_c(const uint8_t *rows, size_t stride, size_t off, size_t width,
                                 size_t k0, uint32_t *w)
{
    for (size_t j = 0; j < width; j++)
        for (size_t k = 0; k < 8; k++)
            w[k * width + j] = rc_lanes_le32(rows + (off + j) * stride + 4 * (k0 + k));
}

/* One OAAT step of byte B (0..3) of the words x, for the lanes whose message
 * still runs (m all ones while i - len, `ahead`, is negative). The byte,
 * sign-extended: shifted to the top, then arithmetically back down. */
#  define OAATX_STEP(VT, VS, B)                                                 \
    do {                                                                         \
        VT m = (VT)(ahead[g] >> 31);                                             \
        VT t = h[g] + (VT)((VS)(x << (24 - 8 * (B))) >> 24);                     \
        t += t << 10;                                                            \
        t ^= t >> 6;                                                             \
        h[g] ^= (t ^ h[g]) & m;                                                  \
        ahead[g] += 1;                                                           \
    } while (0)

/* The same step where every lane's message runs: no mask. */
#  define OAATX_STEP_ALL(VT, VS, B)                                             \
    do {                                                                         \
        VT t = h[g] + (VT)((VS)(x << (24 - 8 * (B))) >> 24);                     \
        t += t << 10;                                                            \
        h[g] = t ^ (t >> 6);                                                     \
    } while (0)

/* The four steps of word k (row k - k0 of w) in each of the G vectors. */
#  define OAATX_WORD(VT, VS, NL, G, STEP)                                       \
    do {                                                                         \
        for (int g = 0; g < (G); g++) {                                          \
            VT x = *(const VT *)(const void *)&w[k - k0][g * (NL)];              \
            STEP(VT, VS, 0);                                                     \
            STEP(VT, VS, 1);                                                     \
            STEP(VT, VS, 2);                                                     \
            STEP(VT, VS, 3);                                                     \
        }                                                                        \
    } while (0)

/* The kernel `name`: G vectors of NL lanes side by side (a loop carrying
 * vectors wider than the registers would keep them in memory, with GCC, so
 * each is one register), the messages' words eight at a time, WORDS(src, off,
 * k0, w) filling w[8][NL * G] with words k0 .. k0 + 7 of the pass's lanes.
 * Words below `common`, which every lane's message fills, take the steps
 * without a mask; past `rows` bytes no lane runs. The mask is a shift, not a
 * comparison: SSE2 and AVX2 compare only signed lanes. */
#  define OAATX_KERNEL(name, VT, VS, NL, G, ATTR, WORDS)                        \
    ATTR static void name(const void *src, const uint32_t *len, size_t rows,    \
                          size_t common, uint32_t *out, size_t nlanes)           \
    {                                                                            \
        const VT zero = {0};                                                     \
        const VT skipped = zero + (uint32_t)(4 * common);                        \
        const size_t nwords = (rows + 3) / 4;                                    \
        RC_ALIGN64 uint32_t w[8][(NL) * (G)] RC_ALIGN64_AFTER;                   \
        (void)sizeof(char[RC_LANES % ((NL) * (G)) == 0 ? 1 : -1]);               \
        for (size_t off = 0; off < nlanes; off += (NL) * (G)) {                  \
            VS ahead[G];                                                         \
            VT h[G];                                                             \
            for (int g = 0; g < (G); g++) {                                      \
                ahead[g] = (VS)(skipped - *(const VT *)(const void *)&len[off + g * (NL)]); \
                h[g] = zero;                                                     \
            }                                                                    \
            for (size_t k0 = 0; k0 < nwords; k0 += 8) {                          \
                WORDS(src, off, k0, &w[0][0]);                                   \
                for (size_t k = k0; k < k0 + 8 && k < nwords; k++) {             \
                    if (k < common)                                              \
                        OAATX_WORD(VT, VS, NL, G, OAATX_STEP_ALL);               \
                    else                                                         \
                        OAATX_WORD(VT, VS, NL, G, OAATX_STEP);                   \
                }                                                                \
            }                                                                    \
            for (int g = 0; g < (G); g++) {                                      \
                VT x = h[g];                                                     \
                x += x << 3;                                                     \
                x ^= x >> 11;                                                    \
                x += x << 15;                                                    \
                *(VT *)(void *)&out[off + g * (NL)] = x;                         \
            }                                                                    \
        }                                                                        \
    }

#  define OAATX_WORDS_C(src, off, k0, w) \
    oaatx_words_c((const uint8_t *)(src), RC_OAATX_MAX_LEN, off, NL * 4, k0, w)
/* SSE2 and NEON: 4 lanes a register */
#  define NL 4
OAATX_KERNEL(oaatx_base, rc_u32x4, rc_i32x4, 4, 4, , OAATX_WORDS_C)
#  undef NL
#  ifdef RC_LANES_X86_DISPATCH
/* Words k0 .. k0 + 7 of 8 lanes at a time: rows read in two 16-byte loads
 * (block) or, from refs (k0 0, messages under 32 bytes), one 32-byte load
 * where each message lies, then transposed. */
__attribute__((target("avx2"), always_inline)) static inline void
oaatx_words_avx2(const void *src, int refs, size_t off, size_t width, size_t k0, uint32_t *w)
{
    const rc_oaatx_block *block = (const rc_oaatx_block *)src;
    const rc_md5x_refs *by_ref = (const rc_md5x_refs *)src;
    for (size_t j0 = 0; j0 < width; j0 += 8) {
        __m256i r[8];
        for (int i = 0; i < 8; i++) {
            size_t lane = off + j0 + i;
            if (refs) {
                r[i] = _mm256_loadu_si256((const __m256i *)(const void *)by_ref->p[lane]);
            } else {
                const __m128i *row = (const __m128i *)(const void *)(block->m[lane] + 4 * k0);
                r[i] = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_load_si128(row)),
                                               _mm_load_si128(row + 1), 1);
            }
        }
        md5x_transpose8_avx2(r, width, w + j0);
    }
}
#    define OAATX_WORDS_AVX2(src, off, k0, w) oaatx_words_avx2(src, 0, off, NL * 4, k0, w)
#    define OAATX_WORDS_REFS_AVX2(src, off, k0, w) oaatx_words_avx2(src, 1, off, NL * 4, k0, w)
#    define NL 8
OAATX_KERNEL(oaatx_avx2, rc_u32x8, rc_i32x8, 8, 4, __attribute__((target("avx2"))), OAATX_WORDS_AVX2)
OAATX_KERNEL(oaatx_avx2_refs, rc_u32x8, rc_i32x8, 8, 4, __attribute__((target("avx2"))), OAATX_WORDS_REFS_AVX2)
#    undef NL
#    define NL 16
OAATX_KERNEL(oaatx_avx512, rc_u32x16, rc_i32x16, 16, 4, __attribute__((target("avx512f"))), OAATX_WORDS_AVX2)
OAATX_KERNEL(oaatx_avx512_refs, rc_u32x16, rc_i32x16, 16, 4, __attribute__((target("avx512f"))), OAATX_WORDS_REFS_AVX2)
#    undef NL
#  endif
#endif

/* ---- choosing a kernel -------------------------------------------------- */

static int forced = -1;

int rc_lanes_available(rc_lanes_kind kind)
{
    switch (kind) {
    case RC_LANES_SCALAR:
        return 1;
#ifdef RC_LANES_VECTORS
    case RC_LANES_BASE:
        return 1;
#endif
#ifdef RC_LANES_X86_DISPATCH
    case RC_LANES_AVX2:
        return __builtin_cpu_supports("avx2");
    case RC_LANES_AVX512:
        return __builtin_cpu_supports("avx512f");
#endif
    default:
        return 0;
    }
}

rc_lanes_kind rc_lanes_level(void)
{
    if (forced >= 0)
        return (rc_lanes_kind)forced;
#ifdef RC_LANES_X86_DISPATCH
    if (__builtin_cpu_supports("avx512f"))
        return RC_LANES_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return RC_LANES_AVX2;
#endif
#ifdef RC_LANES_VECTORS
    return RC_LANES_BASE;
#else
    return RC_LANES_SCALAR;
#endif
}

rc_status rc_lanes_force(int kind)
{
    if (kind == -1) {
        forced = -1;
        return RC_OK;
    }
    if (kind < RC_LANES_SCALAR || kind > RC_LANES_AVX512
        || !rc_lanes_available((rc_lanes_kind)kind))
        return RC_ERR_ARG;
    forced = kind;
    return RC_OK;
}

void rc_md5x_clear(rc_md5x_block *b)
{
    memset(b, 0, sizeof *b);
}

void rc_md5x2_clear(rc_md5x2_block *b)
{
    memset(b, 0, sizeof *b);
}

typedef void (*md5x_kernel)(const uint8_t *, const uint32_t *, uint32_t (*)[RC_LANES], size_t);

#define MD5X_PICK(isa)                                                              \
    (two ? (full ? md5x2_##isa : md5x2_##isa##_low32)                               \
         : (full ? md5x_##isa : (short_words ? md5x_##isa##_low32_short : md5x_##isa##_low32)))

/* The kernel this CPU runs: one block or two, all four words or word 0,
 * messages of any length or under 32 bytes. */
static md5x_kernel md5x_pick(int two, int full, int short_words)
{
    switch (rc_lanes_level()) {
#ifdef RC_LANES_X86_DISPATCH
    case RC_LANES_AVX512:
        return MD5X_PICK(avx512);
    case RC_LANES_AVX2:
        return MD5X_PICK(avx2);
#endif
#ifdef RC_LANES_VECTORS
    case RC_LANES_BASE:
        return MD5X_PICK(base);
#endif
    default:
        return MD5X_PICK(scalar);
    }
}

#define MD5X_NLANES(n) ((n) < RC_LANES ? (size_t)(n) : (size_t)RC_LANES)

void rc_md5x_run(const rc_md5x_block *b, uint32_t digest[4][RC_LANES], unsigned nlanes)
{
    md5x_pick(0, 1, 0)(&b->m[0][0], b->bits, digest, MD5X_NLANES(nlanes));
}

void rc_md5x_run_low32(const rc_md5x_block *b, uint32_t low32[RC_LANES], unsigned nlanes)
{
    uint32_t bits_or = 0;
    for (size_t l = 0; l < MD5X_NLANES(nlanes); l++)
        bits_or |= b->bits[l];
    md5x_pick(0, 0, bits_or < 32 * 8)(&b->m[0][0], b->bits, (uint32_t (*)[RC_LANES])low32,
                                      MD5X_NLANES(nlanes));
}

int rc_md5x_refs_in_place(void)
{
#ifdef RC_LANES_X86_DISPATCH
    return rc_lanes_level() >= RC_LANES_AVX2;
#else
    return 0;
#endif
}

void rc_md5x_run_low32_refs(const rc_md5x_refs *refs, uint32_t low32[RC_LANES])
{
    switch (rc_lanes_level()) {
#ifdef RC_LANES_X86_DISPATCH
    case RC_LANES_AVX512:
        md5x_avx512_low32_refs((const uint8_t *)(const void *)refs, NULL,
                               (uint32_t (*)[RC_LANES])low32, RC_LANES);
        return;
    case RC_LANES_AVX2:
        md5x_avx2_low32_refs((const uint8_t *)(const void *)refs, NULL,
                             (uint32_t (*)[RC_LANES])low32, RC_LANES);
        return;
#endif
    default: {
        /* no kernel reads messages in place here: copy them into lanes */
        rc_md5x_block block;
        for (unsigned l = 0; l < RC_LANES; l++)
            rc_md5x_put(&block, l, refs->p[l], refs->len[l] % 32);
        rc_md5x_run_low32(&block, low32, RC_LANES);
    }
    }
}

void rc_md5x2_run(const rc_md5x2_block *b, uint32_t digest[4][RC_LANES], unsigned nlanes)
{
    md5x_pick(1, 1, 0)(&b->m[0][0], NULL, digest, MD5X_NLANES(nlanes));
}

void rc_md5x2_run_low32(const rc_md5x2_block *b, uint32_t low32[RC_LANES], unsigned nlanes)
{
    md5x_pick(1, 0, 0)(&b->m[0][0], NULL, (uint32_t (*)[RC_LANES])low32, MD5X_NLANES(nlanes));
}

void rc_oaatx_clear(rc_oaatx_block *b)
{
    memset(b, 0, sizeof *b);
}

void rc_oaatx_run(const rc_oaatx_block *b, uint32_t out[RC_LANES], unsigned nlanes)
{
    /* the longest message: bytes each lane steps through; the shortest:
     * bytes that every lane takes (lanes past nlanes are run too, with what
     * they hold, and their hashes dropped) */
    size_t rows = 0, shortest = RC_OAATX_MAX_LEN, common;
    if (nlanes > RC_LANES)
        nlanes = RC_LANES;
    for (size_t l = 0; l < nlanes; l++) {
        size_t len = b->len[l] < RC_OAATX_MAX_LEN ? b->len[l] : RC_OAATX_MAX_LEN;
        rows = len > rows ? len : rows;
        shortest = len < shortest ? len : shortest;
    }
    common = nlanes == 0 ? 0 : shortest / 4;
    (void)common; /* the plain C kernel masks every step */
    switch (rc_lanes_level()) {
#ifdef RC_LANES_X86_DISPATCH
    case RC_LANES_AVX512:
        oaatx_avx512(b, b->len, rows, common, out, nlanes);
        break;
    case RC_LANES_AVX2:
        oaatx_avx2(b, b->len, rows, common, out, nlanes);
        break;
#endif
#ifdef RC_LANES_VECTORS
    case RC_LANES_BASE:
        oaatx_base(b, b->len, rows, common, out, nlanes);
        break;
#endif
    default:
        oaatx_scalar(b, nlanes, out);
        break;
    }
}

int rc_oaatx_refs_in_place(void)
{
    return rc_md5x_refs_in_place();
}

void rc_oaatx_run_refs(const rc_md5x_refs *refs, uint32_t out[RC_LANES])
{
    /* lengths are taken modulo 32, as rc_md5x_run_low32_refs takes them */
    RC_ALIGN64 uint32_t len[RC_LANES] RC_ALIGN64_AFTER;
    size_t rows = 0, shortest = 31;
    for (size_t l = 0; l < RC_LANES; l++) {
        len[l] = refs->len[l] % 32;
        rows = len[l] > rows ? len[l] : rows;
        shortest = len[l] < shortest ? len[l] : shortest;
    }
    switch (rc_lanes_level()) {
#ifdef RC_LANES_X86_DISPATCH
    case RC_LANES_AVX512:
        oaatx_avx512_refs(refs, len, rows, shortest / 4, out, RC_LANES);
        return;
    case RC_LANES_AVX2:
        oaatx_avx2_refs(refs, len, rows, shortest / 4, out, RC_LANES);
        return;
#endif
    default: {
        /* no kernel reads messages in place here: copy them into lanes */
        rc_oaatx_block copy;
        for (unsigned l = 0; l < RC_LANES; l++)
            rc_oaatx_put(&copy, l, refs->p[l], len[l]);
        rc_oaatx_run(&copy, out, RC_LANES);
        return;
    }
    }
}
