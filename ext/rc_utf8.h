/* UTF-8 encoding of CPython's PEP 393 string storage (1, 2 or 4 bytes per code
 * point), written to a caller's buffer: the str keys of a batch are hashed as
 * UTF-8 without creating (and caching) a UTF-8 copy inside each str object.
 */
#ifndef RC_UTF8_H
#define RC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed for the UTF-8 of `length` code points stored `kind` bytes each:
 * at most 2 per Latin-1 code point, 3 per UCS-2, 4 per UCS-4. */
static inline size_t rc_utf8_capacity(int kind, size_t length)
{
    return length * (kind == 1 ? 2 : (size_t)kind == 2 ? 3 : 4);
}

/* Encode; out must hold rc_utf8_capacity(kind, length) bytes. Returns the
 * number of bytes written, or -1 - i when code point i is a surrogate or
 * above U+10FFFF (which have no UTF-8). */
static inline int64_t rc_utf8_encode(int kind, const void *data, size_t length, uint8_t *out)
{
    uint8_t *o = out;
    for (size_t i = 0; i < length; i++) {
        uint32_t c = kind == 1 ? ((const uint8_t *)data)[i]
                   : kind == 2 ? ((const uint16_t *)data)[i]
                               : ((const uint32_t *)data)[i];
        if (c < 0x80) {
            *o++ = (uint8_t)c;
        } else if (c < 0x800) {
            *o++ = (uint8_t)(0xC0 | (c >> 6));
            *o++ = (uint8_t)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            if (c >= 0xD800 && c <= 0xDFFF)
                return -1 - (int64_t)i;
            *o++ = (uint8_t)(0xE0 | (c >> 12));
            *o++ = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (uint8_t)(0x80 | (c & 0x3F));
        } else {
            if (c > 0x10FFFF)
                return -1 - (int64_t)i;
            *o++ = (uint8_t)(0xF0 | (c >> 18));
            *o++ = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
            *o++ = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
            *o++ = (uint8_t)(0x80 | (c & 0x3F));
        }
    }
    return (int64_t)(o - out);
}

#endif /* RC_UTF8_H */
