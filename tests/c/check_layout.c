/* Layouts checked from C, where Python cannot reach yet: big rings of both
 * widths (the narrow, 32-bit ring has no dialect so far) and both kinds of
 * line, with ties, a crowded line, keys at and next to points, and hashes beyond a narrow ring;
 * and the tables derived when a node is added or removed, against rebuilt ones.
 * Every lookup path (owners and point indices) is compared with a binary
 * search; replica rows, walks, row copies and bounded loads with plain walks
 * over the points. The multi-buffer MD5 and OAAT (rc_lanes.h), every kernel
 * this build and CPU have, against the scalar hashes on random messages, and
 * batches of keys through rc_hash_keys. Exit status 0: all agree. Built and run by tests/test_c_layout.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rc_hash.h"
#include "rc_lanes.h"
#include "rc_layout.h"
#include "rc_lookup.h"

static uint64_t state = 88172645463325252ull;

static uint64_t next_random(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* The table of points[0 .. n) built from scratch equals `derived`. */
static int same_as_rebuilt(const rc_point *points, size_t n, int bits, int32_t nnodes,
                           const uint32_t *derived, size_t table_len)
{
    rc_point *copy = rc_alloc_big((n + 1) * sizeof(rc_point));
    uint32_t *table = rc_alloc_big(table_len * sizeof(uint32_t));
    uint64_t *positions = malloc((n + 1) * sizeof(uint64_t));
    int32_t *owners = malloc((n + 1) * sizeof(int32_t));
    rc_layout fresh;
    int same = copy && table && positions && owners;
    if (same) {
        memcpy(copy, points, n * sizeof(rc_point));
        same = rc_layout_init(&fresh, copy, n, bits, nnodes, table, table_len, 0, 0, positions,
                              owners) == RC_OK
               && memcmp(table, derived, table_len * sizeof(uint32_t)) == 0;
    }
    rc_free_big(copy);
    rc_free_big(table);
    free(positions);
    free(owners);
    return same;
}

/* Tables derived on a merge (160 new points: one at 0, one on an old
 * position, one past the last) and on a removal equal rebuilt ones, the
 * lines also when shifted in two ranges first. Returns the failures. */
static int check_updates(const rc_layout *old, const rc_point *points, size_t n, int bits,
                         int32_t nnodes)
{
    enum { NEW = 160 };
    int failed = 0;
    uint64_t new_pos[NEW];
    uint32_t slots[NEW];
    for (size_t j = 0; j < NEW; j++)
        new_pos[j] = bits == 32 ? next_random() >> 32 : next_random();
    new_pos[0] = 0;
    new_pos[1] = points[n / 2].pos;
    new_pos[2] = points[n - 1].pos + 1;
    for (size_t j = 1; j < NEW; j++) /* sorted */
        for (size_t q = j; q > 0 && new_pos[q] < new_pos[q - 1]; q--) {
            uint64_t v = new_pos[q];
            new_pos[q] = new_pos[q - 1];
            new_pos[q - 1] = v;
        }
    uint8_t *flags = calloc((size_t)nnodes, 1);
    rc_point *merged = rc_alloc_big((n + NEW + 1) * sizeof(rc_point));
    size_t len = rc_layout_table_len(n + NEW, bits, (size_t)nnodes + 1);
    uint32_t *derived = rc_alloc_big(len * sizeof(uint32_t));
    if (!flags || !merged || !derived)
        return 1;
    if (rc_merge_points(old, new_pos, NEW, nnodes, flags, (size_t)nnodes, bits, merged, n + NEW,
                        slots) != RC_OK)
        return 1;
    if (rc_layout_same_shape(old, n + NEW, (size_t)nnodes + 1)) {
        failed += rc_table_after_merge(old, new_pos, slots, NEW, nnodes, (size_t)nnodes + 1,
                                       merged, n + NEW, derived, len, 0) != RC_OK
                  || !same_as_rebuilt(merged, n + NEW, bits, nnodes + 1, derived, len);
        if (old->big) {
            memset(derived, 0, len * sizeof(uint32_t));
            failed += rc_lines_shift(old, slots, NEW, -1, derived, len, 0, old->nlines / 3)
                          != RC_OK
                      || rc_lines_shift(old, slots, NEW, -1, derived, len, old->nlines / 3,
                                        old->nlines) != RC_OK
                      || rc_table_after_merge(old, new_pos, slots, NEW, nnodes,
                                              (size_t)nnodes + 1, merged, n + NEW, derived,
                                              len, 1) != RC_OK
                      || !same_as_rebuilt(merged, n + NEW, bits, nnodes + 1, derived, len);
        }
    } else {
        failed++; /* a few points more keep the table's shape */
    }
    /* removals: of node 7, and of point 0's owner */
    int32_t gone[2] = {7, points[0].owner};
    uint32_t *removed_at = malloc(n * sizeof(uint32_t));
    rc_point *kept = rc_alloc_big((n + 1) * sizeof(rc_point));
    for (int g = 0; g < 2 && removed_at && kept; g++) {
        size_t n_kept = 0;
        if (rc_remove_owner(old, gone[g], (size_t)nnodes, kept, n, &n_kept, removed_at, n)
            != RC_OK) {
            failed++;
            continue;
        }
        size_t rlen = rc_layout_table_len(n_kept, bits, (size_t)nnodes - 1);
        uint32_t *rderived = rc_alloc_big(rlen * sizeof(uint32_t));
        if (!rc_layout_same_shape(old, n_kept, (size_t)nnodes - 1)) {
            rc_free_big(rderived);
            continue; /* a node's share of a small ring can change its shape */
        }
        failed += rderived == NULL
                  || rc_table_after_remove(old, removed_at, n - n_kept, gone[g],
                                           (size_t)nnodes - 1, kept, n_kept, rderived, rlen,
                                           0) != RC_OK
                  || !same_as_rebuilt(kept, n_kept, bits, nnodes - 1, rderived, rlen);
        rc_free_big(rderived);
    }
    free(flags);
    free(removed_at);
    rc_free_big(merged);
    rc_free_big(kept);
    rc_free_big(derived);
    return failed;
}

/* Replica rows (by a class of each node), the walk, bounded loads and the
 * row copy, against plain walks over the points. Returns the failures. */
static int check_operations(const rc_layout *layout, const rc_point *points, size_t n,
                            int32_t nnodes)
{
    enum { WIDTH = 3, KEYS = 20000 };
    int failures = 0;
    int32_t *class_of = malloc((size_t)nnodes * sizeof(int32_t));
    int32_t *rows = malloc(n * WIDTH * sizeof(int32_t));
    uint8_t *seen = malloc((size_t)nnodes);
    if (!class_of || !rows || !seen)
        return 1;
    int32_t nclasses = nnodes < 7 ? nnodes : 7;
    for (int32_t v = 0; v < nnodes; v++)
        class_of[v] = v % nclasses;
    if (rc_replica_rows(layout, class_of, (size_t)nnodes, WIDTH, rows, n * WIDTH) != RC_OK)
        return 1;
    if (rc_replica_rows(layout, class_of, (size_t)nnodes, WIDTH, rows, n * WIDTH - 1) == RC_OK)
        failures++; /* a short output is refused */
    for (size_t i = 0; i < n; i += 1 + n / 3000) {
        int32_t walked[WIDTH];
        memset(seen, 0, (size_t)nnodes);
        int64_t got = rc_walk_owners(layout, (uint32_t)i, WIDTH, class_of, seen,
                                     (size_t)nclasses, (size_t)nnodes, walked);
        failures += got != WIDTH || memcmp(walked, rows + i * WIDTH, sizeof walked) != 0;
    }
    /* the rows of some points, copied; an index past the rows stops the copy */
    int32_t at[4] = {0, -1, (int32_t)(n - 1), (int32_t)n};
    int32_t copied[4 * WIDTH];
    failures += rc_take_rows(rows, n, WIDTH, at, 4, -9, copied) != 3
                || memcmp(copied, rows, WIDTH * sizeof(int32_t)) != 0 || copied[WIDTH] != -9
                || memcmp(copied + 2 * WIDTH, rows + (n - 1) * WIDTH,
                          WIDTH * sizeof(int32_t)) != 0;
    /* bounded loads: 10% slack over an even share */
    int32_t *start = malloc(KEYS * sizeof(int32_t)), *out = malloc(KEYS * sizeof(int32_t));
    int64_t *capacity = malloc((size_t)nnodes * sizeof(int64_t));
    int64_t *load = calloc((size_t)nnodes, sizeof(int64_t));
    int64_t *plain_load = calloc((size_t)nnodes, sizeof(int64_t));
    uint32_t *links = calloc(n, sizeof(uint32_t));
    if (!start || !out || !capacity || !load || !plain_load || !links)
        return 1;
    for (int32_t v = 0; v < nnodes; v++)
        capacity[v] = (KEYS * 11 / 10) / nnodes + 1;
    for (size_t k = 0; k < KEYS; k++)
        start[k] = k % 101 == 5 ? -1 : (int32_t)(next_random() % n);
    if (rc_assign_bounded(layout, start, KEYS, capacity, load, (size_t)nnodes, links, -7, out)
        != RC_OK)
        return 1;
    for (size_t k = 0; k < KEYS; k++) {
        if (start[k] < 0) {
            failures += out[k] != -7;
            continue;
        }
        size_t i = (size_t)start[k];
        while (plain_load[points[i].owner] >= capacity[points[i].owner])
            i = i + 1 == n ? 0 : i + 1;
        plain_load[points[i].owner]++;
        failures += out[k] != points[i].owner;
    }
    /* capacities that cannot hold the keys: refused, not a hang */
    for (int32_t v = 0; v < nnodes; v++)
        capacity[v] = 0;
    memset(links, 0, n * sizeof(uint32_t));
    memset(load, 0, (size_t)nnodes * sizeof(int64_t));
    failures += rc_assign_bounded(layout, start, KEYS, capacity, load, (size_t)nnodes, links,
                                  -7, out) == RC_OK;
    free(class_of);
    free(rows);
    free(seen);
    free(start);
    free(out);
    free(capacity);
    free(load);
    free(plain_load);
    free(links);
    return failures;
}

static int check(int bits, size_t n, int32_t nnodes)
{
    rc_point *points = rc_alloc_big((n + 1) * sizeof(rc_point));
    rc_point *tmp = rc_alloc_big(n * sizeof(rc_point));
    size_t m = 1000000;
    uint64_t *hashes = malloc(m * sizeof(uint64_t));
    int32_t *out = malloc(m * sizeof(int32_t));
    if (!points || !tmp || !hashes || !out)
        return 1;
    for (size_t i = 0; i < n; i++) {
        points[i].pos = bits == 32 ? next_random() >> 32 : next_random();
        if (i % 1000 == 7)
            points[i].pos = points[i - 1].pos; /* ties */
        points[i].owner = (int32_t)(next_random() % (uint64_t)nnodes);
        points[i].spare = 0;
    }
    for (size_t i = 100; i < 130; i++) /* thirty points in one line */
        points[i].pos = points[99].pos + (i - 99);
    if (rc_sort_points(points, n, tmp, bits) != RC_OK)
        return 1;
    size_t table_len = rc_layout_table_len(n, bits, (size_t)nnodes);
    uint32_t *table = rc_alloc_big(table_len * sizeof(uint32_t));
    uint64_t *positions = malloc((n + 1) * sizeof(uint64_t)); /* a small ring's arrays */
    int32_t *owners = malloc((n + 1) * sizeof(int32_t));
    rc_layout layout;
    if (!table || !positions || !owners
        || rc_layout_init(&layout, points, n, bits, nnodes, table, table_len, 0, 0, positions,
                          owners) != RC_OK)
        return 1;
    for (size_t j = 0; j < m; j++) {
        uint64_t r = next_random();
        if (j % 3 == 0) /* at a point, or up to 8 away */
            hashes[j] = points[r % n].pos + (uint64_t)(int64_t)((int)(r >> 60) - 8);
        else
            hashes[j] = bits == 32 && j % 5 ? r >> 32 : r; /* some beyond a narrow ring */
    }
    int32_t *indices = malloc(m * sizeof(int32_t));
    if (!indices)
        return 1;
    rc_lookup_owners(&layout, hashes, m, out);
    rc_lookup_indices(&layout, hashes, m, indices);
    long bad = 0;
    for (size_t j = 0; j < m; j++) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (points[mid].pos < hashes[j])
                lo = mid + 1;
            else
                hi = mid;
        }
        int32_t want = points[lo == n ? 0 : lo].owner;
        bad += out[j] != want || rc_lookup_owner(&layout, hashes[j]) != want
               || rc_lookup_index(&layout, hashes[j]) != lo
               || indices[j] != (int32_t)(lo == n ? 0 : lo);
    }
    printf("%d-bit ring, %zu points, %d nodes, big %d, compact %d: %ld of %zu lookups wrong\n",
           bits, n, (int)nnodes, layout.big, layout.compact, bad, m);
    int update_failures = check_updates(&layout, points, n, bits, nnodes);
    printf("  derived tables: %d wrong\n", update_failures);
    bad += update_failures;
    int operation_failures = check_operations(&layout, points, n, nnodes);
    printf("  replica rows, walks, row copies, bounded loads: %d wrong\n", operation_failures);
    bad += operation_failures;
    free(indices);
    rc_free_big(points);
    rc_free_big(tmp);
    rc_free_big(table);
    free(positions);
    free(owners);
    free(hashes);
    free(out);
    return bad != 0;
}

/* Short messages read in place (rc_md5x_refs) with MD5 or OAAT (`hash`),
 * in the kernel forced now: directly, some starting exactly 32 bytes before
 * the end of their buffer (ASan sees a read past it); then Arrow batches of
 * short keys through rc_hash_keys, whose whole groups take that path: 32-
 * and 64-bit offsets, validity with and without nulls, a buffer of exactly
 * the keys' size. */
static int check_refs(rc_hash_kind hash)
{
    rc_dialect d = {hash, RC_POINTS_KETAMA, 32};
    enum { ARENA = 3000, N = 700 };
    int wrong = 0;
    uint8_t *arena = malloc(ARENA);
    char *data = malloc(N * 31 + 1);
    int32_t *off32 = malloc((N + 1) * sizeof *off32);
    int64_t *off64 = malloc((N + 1) * sizeof *off64);
    uint8_t *validity = malloc(N / 8 + 1);
    uint64_t *out = malloc(N * sizeof *out);
    uint8_t *is_null = malloc(N);
    if (!arena || !data || !off32 || !off64 || !validity || !out || !is_null)
        return 1;
    for (size_t i = 0; i < ARENA; i++)
        arena[i] = (uint8_t)next_random();
    static rc_md5x_refs refs;
    uint32_t low32[RC_LANES];
    for (int round = 0; round < 500; round++) {
        for (unsigned l = 0; l < RC_LANES; l++) {
            size_t len = (size_t)(next_random() % 32);
            size_t pos = (round + l) % 4 == 0 ? ARENA - 32 : (size_t)(next_random() % (ARENA - 31));
            refs.p[l] = arena + pos;
            refs.len[l] = (uint32_t)len;
        }
        if (hash == RC_HASH_OAAT)
            rc_oaatx_run_refs(&refs, low32);
        else
            rc_md5x_run_low32_refs(&refs, low32);
        for (unsigned l = 0; l < RC_LANES; l++)
            wrong += low32[l] != rc_hash_bytes(&d, refs.p[l], refs.len[l]);
    }
    size_t used = 0;
    for (size_t i = 0; i < N; i++) {
        size_t n = (size_t)(next_random() % 32);
        off32[i] = (int32_t)used;
        off64[i] = (int64_t)used;
        for (size_t j = 0; j < n; j++)
            data[used + j] = (char)next_random();
        used += n;
        /* nulls in the keys of one group in three */
        int null = (i / RC_LANES) % 3 == 1 && next_random() % 7 == 0;
        if (null)
            validity[i / 8] &= (uint8_t) ~(1u << (i % 8));
        else
            validity[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    off32[N] = (int32_t)used;
    off64[N] = (int64_t)used;
    /* the keys' bytes in a buffer of exactly their size: ASan sees a read
     * past the last key */
    char *exact = malloc(used ? used : 1);
    if (exact == NULL)
        return 1;
    memcpy(exact, data, used);
    for (int wide = 0; wide < 2; wide++) {
        for (int nullable = 0; nullable < 2; nullable++) {
            rc_keys keys;
            memset(&keys, 0, sizeof keys);
            keys.kind = wide ? RC_KEYS_OFFSETS64 : RC_KEYS_OFFSETS32;
            keys.n = N;
            keys.base = exact;
            keys.offsets = wide ? (const void *)off64 : (const void *)off32;
            keys.data_len = used;
            keys.validity = nullable ? validity : NULL;
            for (size_t start = 0; start < 100; start += 33) {
                size_t bad = 0;
                if (rc_hash_keys(&d, &keys, start, N, out, is_null, &bad, NULL) != RC_OK) {
                    wrong++;
                    continue;
                }
                for (size_t i = start; i < N; i++) {
                    int null = nullable && !((validity[i / 8] >> (i % 8)) & 1);
                    uint64_t want = null ? 0 : rc_hash_bytes(&d, exact + off32[i],
                                                            (size_t)(off32[i + 1] - off32[i]));
                    wrong += is_null[i - start] != null || out[i - start] != want;
                }
                /* without is_null, the first null is the error (keys of
                 * whole groups before it done in place) */
                size_t first_null = start;
                while (first_null < N && (!nullable || ((validity[first_null / 8] >> (first_null % 8)) & 1)))
                    first_null++;
                rc_status want_status = first_null < N ? RC_ERR_NULL : RC_OK;
                wrong += rc_hash_keys(&d, &keys, start, N, out, NULL, &bad, NULL) != want_status
                         || (first_null < N && bad != first_null);
            }
            /* a forged offset inside a group that would go in place: an
             * offset going back, one past the data, one below zero (64-bit:
             * near the ends of int64 too) fail at their key */
            int64_t forged[] = {-1, (int64_t)used + 1, 5, INT64_MIN, INT64_MAX - 8};
            for (size_t f = 0; f < sizeof forged / sizeof *forged; f++) {
                size_t at = 130 + 7 * f, bad = 0;
                if (!wide && (forged[f] < INT32_MIN || forged[f] > INT32_MAX))
                    continue;
                int32_t keep32 = off32[at];
                int64_t keep64 = off64[at];
                off32[at] = (int32_t)forged[f];
                off64[at] = forged[f];
                /* key at - 1 ends at the forged offset: the first to fail
                 * (it ends before its start, or past the data) */
                rc_status status = rc_hash_keys(&d, &keys, 0, N, out, is_null, &bad, NULL);
                wrong += status != RC_ERR_KEY || bad != at - 1;
                off32[at] = keep32;
                off64[at] = keep64;
            }
        }
    }
    free(arena);
    free(data);
    free(exact);
    free(off32);
    free(off64);
    free(validity);
    free(out);
    free(is_null);
    return wrong;
}

/* Every lane kernel against rc_md5 and rc_oaat: random messages of every
 * length a lane takes, blocks part full; then rc_hash_keys over Arrow-style
 * keys of 0 .. 200 bytes with nulls, against one key at a time. */
static int check_lanes(void)
{
    static rc_md5x_block md5;
    static rc_md5x2_block md5x2;
    static rc_oaatx_block oaat;
    static uint8_t msg[RC_LANES][RC_OAATX_MAX_LEN];
    size_t len[RC_LANES];
    uint32_t digest[4][RC_LANES], low32[RC_LANES], digest2[4][RC_LANES], low32_2[RC_LANES];
    uint32_t hashes[RC_LANES];
    int wrong = 0, kernels = 0;
    rc_md5x_clear(&md5);
    rc_md5x2_clear(&md5x2);
    rc_oaatx_clear(&oaat);
    for (int kind = RC_LANES_SCALAR; kind <= RC_LANES_AVX512; kind++) {
        if (rc_lanes_force(kind) != RC_OK)
            continue;
        kernels++;
        for (int round = 0; round < 3000; round++) {
            unsigned nlanes = round % 7 == 0 ? 1 + (unsigned)(next_random() % RC_LANES) : RC_LANES;
            for (unsigned l = 0; l < nlanes; l++) {
                len[l] = (size_t)(next_random() % (RC_OAATX_MAX_LEN + 1));
                if (round % 5 == 0)
                    len[l] = (size_t)round % (RC_OAATX_MAX_LEN + 1); /* one length in all lanes */
                else if (round % 5 == 1)
                    len[l] %= 32; /* all under 32 bytes: the MD5 kernels for short keys */
                for (size_t i = 0; i < len[l]; i++)
                    msg[l][i] = (uint8_t)next_random();
                /* one block: both puts (a copy of len bytes, or 64 readable
                 * bytes masked); two blocks: their own lanes */
                size_t md5_len = len[l] <= RC_MD5X2_MAX_LEN ? len[l] : RC_MD5X2_MAX_LEN;
                if (md5_len > RC_MD5X_MAX_LEN)
                    rc_md5x2_put(&md5x2, l, msg[l], md5_len);
                else if ((round + l) % 2)
                    rc_md5x_put(&md5, l, msg[l], md5_len);
                else
                    rc_md5x_put_spare(&md5, l, msg[l], md5_len, sizeof msg[l]);
                if ((round + l) % 3)
                    rc_oaatx_put(&oaat, l, msg[l], len[l]);
                else
                    rc_oaatx_put_spare(&oaat, l, msg[l], len[l], sizeof msg[l]);
            }
            rc_md5x_run(&md5, digest, nlanes);
            rc_md5x_run_low32(&md5, low32, nlanes);
            rc_md5x2_run(&md5x2, digest2, nlanes);
            rc_md5x2_run_low32(&md5x2, low32_2, nlanes);
            rc_oaatx_run(&oaat, hashes, nlanes);
            for (unsigned l = 0; l < nlanes; l++) {
                uint8_t want[16];
                size_t md5_len = len[l] <= RC_MD5X2_MAX_LEN ? len[l] : RC_MD5X2_MAX_LEN;
                int two = md5_len > RC_MD5X_MAX_LEN;
                rc_md5(msg[l], md5_len, want);
                for (int w = 0; w < 4; w++)
                    wrong += (two ? digest2 : digest)[w][l]
                             != ((uint32_t)want[4 * w] | (uint32_t)want[4 * w + 1] << 8
                                 | (uint32_t)want[4 * w + 2] << 16 | (uint32_t)want[4 * w + 3] << 24);
                wrong += (two ? low32_2 : low32)[l] != (two ? digest2 : digest)[0][l];
                wrong += hashes[l] != rc_oaat(msg[l], len[l]);
            }
        }
        /* the read-ahead at its limit: a key at the start of a buffer of
         * exactly `spare` bytes (ASan sees a read past it), every len */
        for (size_t spare = 0; spare <= 72; spare++) {
            uint8_t *tight = malloc(spare ? spare : 1);
            if (tight == NULL)
                return 1;
            for (size_t i = 0; i < spare; i++)
                tight[i] = (uint8_t)next_random();
            for (size_t len = 0; len <= spare && len <= RC_MD5X_MAX_LEN; len++) {
                unsigned lane = (unsigned)(len % RC_LANES);
                uint8_t want[16];
                rc_md5x_put_spare(&md5, lane, tight, len, spare);
                rc_md5x_run_low32(&md5, low32, lane + 1);
                rc_md5(tight, len, want);
                wrong += low32[lane] != ((uint32_t)want[0] | (uint32_t)want[1] << 8
                                         | (uint32_t)want[2] << 16 | (uint32_t)want[3] << 24);
            }
            for (size_t len = 0; len <= spare && len <= RC_OAATX_MAX_LEN; len++) {
                unsigned lane = (unsigned)(len % RC_LANES);
                rc_oaatx_put_spare(&oaat, lane, tight, len, spare);
                rc_oaatx_run(&oaat, hashes, lane + 1);
                wrong += hashes[lane] != rc_oaat(tight, len);
            }
            /* keys of 7 bytes end to end: spares 7, 14, .. through 64 */
            if (spare >= 7) {
                enum { KEYS = 72 / 7 };
                int32_t tight_offsets[KEYS + 1];
                uint64_t tight_out[KEYS];
                size_t nkeys = spare / 7, bad = 0;
                rc_keys tk;
                memset(&tk, 0, sizeof tk);
                for (size_t i = 0; i <= nkeys; i++)
                    tight_offsets[i] = (int32_t)(spare - 7 * (nkeys - i));
                tk.kind = RC_KEYS_OFFSETS32;
                tk.n = nkeys;
                tk.base = (const char *)tight;
                tk.offsets = tight_offsets;
                tk.data_len = spare;
                for (int oaat_keys = 0; oaat_keys < 2; oaat_keys++) {
                    rc_dialect d = {oaat_keys ? RC_HASH_OAAT : RC_HASH_MD5_LOW32,
                                    RC_POINTS_KETAMA, 32};
                    wrong += rc_hash_keys(&d, &tk, 0, nkeys, tight_out, NULL, &bad, NULL) != RC_OK;
                    for (size_t i = 0; i < nkeys; i++)
                        wrong += tight_out[i] != rc_hash_bytes(&d, tight + tight_offsets[i], 7);
                }
            }
            free(tight);
        }
        /* batches through rc_hash_keys: lengths across both limits, nulls */
        enum { N = 1000 };
        static char data[N * 200];
        static int32_t offsets[N + 1];
        static uint8_t validity[N / 8 + 1];
        static uint64_t out[N];
        static uint8_t is_null[N];
        size_t used = 0;
        for (size_t i = 0; i < N; i++) {
            size_t n = (size_t)(next_random() % 201);
            offsets[i] = (int32_t)used;
            for (size_t j = 0; j < n; j++)
                data[used + j] = (char)next_random();
            used += n;
            if (next_random() % 11 == 0)
                validity[i / 8] &= (uint8_t) ~(1u << (i % 8));
            else
                validity[i / 8] |= (uint8_t)(1u << (i % 8));
        }
        offsets[N] = (int32_t)used;
        rc_keys keys;
        memset(&keys, 0, sizeof keys);
        keys.kind = RC_KEYS_OFFSETS32;
        keys.n = N;
        /* the keys' bytes in a buffer of exactly their size: ASan sees any
         * read past the last key (the MD5 lanes read ahead within it) */
        char *exact = malloc(used ? used : 1);
        if (exact == NULL)
            return 1;
        memcpy(exact, data, used);
        keys.base = exact;
        keys.offsets = offsets;
        keys.data_len = used;
        keys.validity = validity;
        rc_hash_kind kinds[2] = {RC_HASH_MD5_LOW32, RC_HASH_OAAT};
        for (int h = 0; h < 2; h++) {
            rc_dialect d = {kinds[h], RC_POINTS_KETAMA, 32};
            for (size_t start = 0; start < 70; start += 23) {
                size_t bad = 0;
                if (rc_hash_keys(&d, &keys, start, N, out, is_null, &bad, NULL) != RC_OK) {
                    wrong++;
                    continue;
                }
                for (size_t i = start; i < N; i++) {
                    int null = !((validity[i / 8] >> (i % 8)) & 1);
                    uint64_t want = null ? 0
                                         : rc_hash_bytes(&d, data + offsets[i],
                                                         (size_t)(offsets[i + 1] - offsets[i]));
                    wrong += is_null[i - start] != null || out[i - start] != want;
                }
                /* without is_null: the first null is the error, its index in bad */
                size_t first_null = start;
                while ((validity[first_null / 8] >> (first_null % 8)) & 1)
                    first_null++;
                wrong += rc_hash_keys(&d, &keys, start, N, out, NULL, &bad, NULL) != RC_ERR_NULL
                         || bad != first_null;
            }
            /* an empty Arrow batch may come without offsets: nothing is read */
            rc_keys empty = keys;
            empty.n = 0;
            empty.offsets = NULL;
            empty.validity = NULL;
            empty.data_len = 0;
            size_t unused = 0;
            wrong += rc_hash_keys(&d, &empty, 0, 0, out, is_null, &unused, NULL) != RC_OK;
        }
        free(exact);
        wrong += check_refs(RC_HASH_MD5_LOW32);
        wrong += check_refs(RC_HASH_OAAT);
    }
    rc_lanes_force(-1);
    printf("lanes: %d kernels, %d wrong\n", kernels, wrong);
    return wrong != 0;
}

int main(void)
{
    int failed = 0;
    failed |= check_lanes();
    failed |= check(32, 700000, 1000);     /* compact lines */
    failed |= check(64, 700000, 1000);
    failed |= check(32, 700000, 70000);    /* lines */
    failed |= check(64, 700000, 70000);
    failed |= check(32, 20000, 30);        /* guide table */
    failed |= check(64, 20000, 30);
    return failed;
}
