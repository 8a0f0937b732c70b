/* Key access; see rc_keys.h. */
#include "rc_keys.h"

rc_status rc_keys_check(const rc_keys *k)
{
    if (k->n > (size_t)INT64_MAX)
        return RC_ERR_ARG;
    switch (k->kind) {
    case RC_KEYS_INT:
        if (k->width != 1 && k->width != 2 && k->width != 4 && k->width != 8)
            return RC_ERR_ARG;
        return RC_OK;
    case RC_KEYS_FIXED:
        return RC_OK;
    case RC_KEYS_UCS4:
        return k->width % 4 == 0 ? RC_OK : RC_ERR_ARG;
    case RC_KEYS_OFFSETS32:
    case RC_KEYS_OFFSETS64:
        return k->n == 0 || (k->offsets != NULL && k->base != NULL) ? RC_OK : RC_ERR_ARG;
    case RC_KEYS_VIEWS:
        return k->nbuffers == 0 || (k->buffers != NULL && k->buffer_lens != NULL) ? RC_OK
                                                                                   : RC_ERR_ARG;
    }
    return RC_ERR_ARG;
}

size_t rc_keys_scratch_len(const rc_keys *k)
{
    /* UCS4: an aligned, native-order copy of one element, then its UTF-8
     * (at most 4 bytes per code point, so width bytes). */
    return k->kind == RC_KEYS_UCS4 ? 2 * k->width : 0;
}
