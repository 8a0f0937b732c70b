/* A portable prefetch hint: batch loops over Python objects touch memory the
 * hardware prefetcher cannot predict (each key is its own allocation). */
#ifndef RC_PREFETCH_H
#define RC_PREFETCH_H

#if defined(__GNUC__) || defined(__clang__)
#  define RC_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#  include <xmmintrin.h>
#  define RC_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#else
#  define RC_PREFETCH(p) ((void)(p))
#endif

/* Prefetch the first two cache lines at p: a str object's header and the
 * start of its characters. */
static inline void rc_prefetch_object(const void *p)
{
    RC_PREFETCH(p);
    RC_PREFETCH((const char *)p + 64);
}

#endif /* RC_PREFETCH_H */
