/* Unit tests of what the hashring model measures, on the ring itself
 * (models/ring.c): a leave or a join moves about K/N keys, all of them to
 * or from the node that changed, where modulo placement moves nearly all;
 * more virtual nodes spread the load more evenly; and a 100,000-node ring
 * builds and rebalances in reasonable time and memory. */
#include "models/ring.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define N_KEYS 20000

static char key_buf[N_KEYS][16];

static void make_keys(void)
{
    for (int i = 0; i < N_KEYS; i++)
        snprintf(key_buf[i], sizeof key_buf[i], "k%d", i + 1);
}

/* The owner of key among the nodes not in skip. */
static int owner_among(const ring *r, const char *key, const bool *skip)
{
    int o = -1;
    ck_assert_int_eq(ring_preference_list(r, key, 1, skip, &o), 1);
    return o;
}

/* Keys per node's standard deviation over the mean, for n nodes. */
static double spread(int n, int vnodes)
{
    ring *r = ring_new(n, vnodes);
    int count[64] = { 0 };
    for (int i = 0; i < N_KEYS; i++)
        count[ring_owner(r, key_buf[i])]++;
    double mean = (double)N_KEYS / n, var = 0;
    for (int i = 0; i < n; i++)
        var += (count[i] - mean) * (count[i] - mean);
    ring_free(r);
    return sqrt(var / n) / mean;
}

START_TEST(test_leave_moves_only_the_leavers_keys)
{
    make_keys();
    const int n = 10;
    ring *r = ring_new(n, 64);
    bool skip[10] = { false };
    skip[4] = true;   /* n5 leaves */
    size_t moved = 0, mod_moved = 0;
    for (int i = 0; i < N_KEYS; i++) {
        int before = ring_owner(r, key_buf[i]), after = owner_among(r, key_buf[i], skip);
        if (before != after) {
            ck_assert_int_eq(before, 4);   /* only the leaver's keys move */
            moved++;
        } else {
            ck_assert_int_ne(before, 4);
        }
        uint64_t h = ring_key_hash(key_buf[i]);
        mod_moved += h % 10 != h % 9;
    }
    /* about K/N = 2000; modulo about (N-1)/N = 18000 */
    ck_assert_uint_gt(moved, N_KEYS / n / 2);
    ck_assert_uint_lt(moved, N_KEYS / n * 2);
    ck_assert_uint_gt(mod_moved, N_KEYS * 8 / 10);
    ring_free(r);
}
END_TEST

START_TEST(test_join_moves_keys_only_to_the_joiner)
{
    make_keys();
    /* a join is a leave read backwards: n+1 nodes vs the same ring without
     * the newcomer */
    const int n = 8;
    ring *r = ring_new(n + 1, 64);
    bool skip[9] = { false };
    skip[n] = true;
    size_t moved = 0;
    for (int i = 0; i < N_KEYS; i++) {
        int before = owner_among(r, key_buf[i], skip), after = ring_owner(r, key_buf[i]);
        if (before != after) {
            ck_assert_int_eq(after, n);
            moved++;
        }
    }
    ck_assert_uint_gt(moved, N_KEYS / (n + 1) / 2);
    ck_assert_uint_lt(moved, N_KEYS / (n + 1) * 2);
    ring_free(r);
}
END_TEST

START_TEST(test_more_vnodes_spread_load_evenly)
{
    make_keys();
    double one = spread(10, 1), few = spread(10, 16), many = spread(10, 256);
    ck_assert_msg(one > few && few > many, "spread %f, %f, %f should shrink", one, few, many);
    ck_assert_msg(many < 0.1, "256 vnodes: stddev/mean %f", many);
    ck_assert_msg(one > 0.3, "1 vnode: stddev/mean %f", one);
}
END_TEST

/* 100,000 nodes: build, place keys, take one node out. Prints the figures
 * (the benchmark proper is tools/ring_bench.c). */
START_TEST(test_hundred_thousand_nodes)
{
    const int n = 100000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    ring *r = ring_new(n, 16);
    ck_assert_ptr_nonnull(r);
    bool *skip = calloc((size_t)n, sizeof *skip);
    skip[n - 1] = true;
    char key[24];
    size_t moved = 0;
    const int keys = 200000;
    for (int k = 0; k < keys; k++) {
        snprintf(key, sizeof key, "k%d", k + 1);
        int before = ring_owner(r, key), after = owner_among(r, key, skip);
        if (before != after) {
            ck_assert_int_eq(before, n - 1);
            moved++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("100000-node ring, 16 vnodes: built and %d keys placed twice in %.2f s; %zu moved on a "
           "leave; peak RSS %ld KiB (%.0f bytes per node)\n",
           keys, secs, moved, ru.ru_maxrss, (double)ru.ru_maxrss * 1024 / n);
    ck_assert_uint_lt(moved, 50);   /* about keys / n = 2 */
    ck_assert_int_lt(ru.ru_maxrss, 512 * 1024);
    free(skip);
    ring_free(r);
}
END_TEST

static Suite *hashring_suite(void)
{
    Suite *s = suite_create("hashring");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_leave_moves_only_the_leavers_keys);
    tcase_add_test(tc, test_join_moves_keys_only_to_the_joiner);
    tcase_add_test(tc, test_more_vnodes_spread_load_evenly);
    tcase_add_test(tc, test_hundred_thousand_nodes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hashring_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
