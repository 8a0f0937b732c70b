/* Layouts checked from C, where Python cannot reach yet: big rings of both
 * widths (the narrow, 32-bit ring has no dialect so far) and both kinds of
 * line, with ties, a crowded line, keys at and next to points, and hashes beyond a narrow ring.
 * Every lookup path is compared with a binary search. Exit status 0: all
 * agree. Built and run by tests/test_c_layout.py. */
#include <stdio.h>
#include <stdlib.h>

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
    rc_lookup_owners(&layout, hashes, m, out);
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
               || rc_lookup_index(&layout, hashes[j]) != lo;
    }
    printf("%d-bit ring, %zu points, %d nodes, big %d, compact %d: %ld of %zu lookups wrong\n",
           bits, n, (int)nnodes, layout.big, layout.compact, bad, m);
    rc_free_big(points);
    rc_free_big(tmp);
    rc_free_big(table);
    free(positions);
    free(owners);
    free(hashes);
    free(out);
    return bad != 0;
}

int main(void)
{
    int failed = 0;
    failed |= check(32, 700000, 1000);     /* compact lines */
    failed |= check(64, 700000, 1000);
    failed |= check(32, 700000, 70000);    /* lines */
    failed |= check(64, 700000, 70000);
    failed |= check(32, 20000, 30);        /* guide table */
    failed |= check(64, 20000, 30);
    return failed;
}
