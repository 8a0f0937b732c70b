/* MD5 (RFC 1321), for the dialects whose clients hash keys and node points
 * with it (libketama, libmemcached's weighted ketama). Written from the RFC:
 * four rounds of sixteen steps over each 64-byte block, the sine table
 * T[i] = floor(2^32 * |sin(i + 1)|). Checked against hashlib in the tests. */
#ifndef RC_MD5_H
#define RC_MD5_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The 16-byte MD5 digest of data[0 .. len). */
void rc_md5(const void *data, size_t len, uint8_t digest[16]);

/* Bytes 0..3 of the MD5 digest as a little-endian 32-bit value: how
 * libketama and libmemcached hash a key. */
uint32_t rc_md5_low32(const void *data, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RC_MD5_H */
