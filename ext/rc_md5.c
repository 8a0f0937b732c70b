/* MD5 (RFC 1321); see rc_md5.h. */
#include "rc_md5.h"

#include <string.h>

#include "rc_md5_table.h"

/* the left-rotation of each step, by round and step mod 4 */
static const uint8_t SHIFT[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21},
};

static uint32_t rotl32(uint32_t x, unsigned s)
{
    return (x << s) | (x >> (32 - s));
}

static uint32_t load_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* One step: a = b + rotl(a + f + x[k] + RC_MD5_SINE[i], shift), then the
 * registers turn (a <- d <- c <- b). Each round is its own loop over
 * constants, so the compiler unrolls it without a switch per step. */
#define MD5_STEP(f, i, k, shift)                                          \
    do {                                                                  \
        uint32_t rotated = rotl32(a + (f) + x[k] + RC_MD5_SINE[i], (shift));     \
        a = d;                                                            \
        d = c;                                                            \
        c = b;                                                            \
        b = b + rotated;                                                  \
    } while (0)

static void md5_block(uint32_t state[4], const uint8_t block[64])
{
    uint32_t x[16];
    for (int k = 0; k < 16; k++)
        x[k] = load_le32(block + 4 * k);
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int i = 0; i < 16; i++)
        MD5_STEP((b & c) | (~b & d), i, i, SHIFT[0][i % 4]);
    for (int i = 16; i < 32; i++)
        MD5_STEP((b & d) | (c & ~d), i, (1 + 5 * i) % 16, SHIFT[1][i % 4]);
    for (int i = 32; i < 48; i++)
        MD5_STEP(b ^ c ^ d, i, (5 + 3 * i) % 16, SHIFT[2][i % 4]);
    for (int i = 48; i < 64; i++)
        MD5_STEP(c ^ (b | ~d), i, (7 * i) % 16, SHIFT[3][i % 4]);
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

void rc_md5(const void *data, size_t len, uint8_t digest[16])
{
    uint32_t state[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    const uint8_t *p = (const uint8_t *)data;
    size_t left = len;
    for (; left >= 64; left -= 64, p += 64)
        md5_block(state, p);
    /* the tail, 0x80, zeros to 56 mod 64, then the length in bits (LE 64) */
    uint8_t last[128];
    memset(last, 0, sizeof last);
    if (left)
        memcpy(last, p, left);
    last[left] = 0x80;
    size_t tail = left < 56 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8u;
    for (int k = 0; k < 8; k++)
        last[tail - 8 + k] = (uint8_t)(bits >> (8 * k));
    md5_block(state, last);
    if (tail == 128)
        md5_block(state, last + 64);
    for (int k = 0; k < 4; k++)
        store_le32(digest + 4 * k, state[k]);
}

uint32_t rc_md5_low32(const void *data, size_t len)
{
    uint8_t digest[16];
    rc_md5(data, len, digest);
    return load_le32(digest);
}
