/* Unit tests of the consistent-hash ring (models/ring.c). */
#include "models/ring.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_KEYS 20000

static char key_buf[N_KEYS][16];
static const char *keys[N_KEYS];

static void make_keys(void)
{
    for (int i = 0; i < N_KEYS; i++) {
        snprintf(key_buf[i], sizeof key_buf[i], "k%d", i);
        keys[i] = key_buf[i];
    }
}

/* The placement the first cut of the quorum model used: 32-bit FNV-1a mod
 * the node count. The baseline for key movement. */
static int modulo_owner(const char *key, int nodes)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return (int)(h % (uint32_t)nodes);
}

START_TEST(test_bad_sizes_are_refused)
{
    ck_assert_ptr_null(ring_new(0, 16));
    ck_assert_ptr_null(ring_new(3, 0));
    ring *r = ring_new(1, 1);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(ring_owner(r, "x"), 0);
    ring_free(r);
    ring_free(NULL);
}
END_TEST

START_TEST(test_key_hash_is_fixed)
{
    /* FNV-1a 64 of "" is the offset basis; of "a" a published value; the
     * mixer then scrambles them. Pinning them keeps placement stable across
     * versions and machines. */
    ck_assert_uint_eq(ring_key_hash(""), ring_mix64(UINT64_C(14695981039346656037)));
    ck_assert_uint_eq(ring_key_hash("a"), ring_mix64(UINT64_C(0xaf63dc4c8601ec8c)));
    ck_assert_uint_ne(ring_key_hash("x"), ring_key_hash("y"));
    ck_assert_uint_eq(ring_mix64(0), 0);
}
END_TEST

START_TEST(test_placement_is_deterministic)
{
    make_keys();
    ring *a = ring_new(5, 16), *b = ring_new(5, 16);
    for (int i = 0; i < 1000; i++) {
        int pa[5], pb[5];
        ck_assert_int_eq(ring_preference_list(a, keys[i], 3, NULL, pa), 3);
        ck_assert_int_eq(ring_preference_list(b, keys[i], 3, NULL, pb), 3);
        ck_assert_mem_eq(pa, pb, sizeof pa[0] * 3);
        ck_assert_int_eq(pa[0], ring_owner(a, keys[i]));
    }
    ring_free(a);
    ring_free(b);
}
END_TEST

START_TEST(test_preference_list_has_distinct_nodes)
{
    make_keys();
    ring *r = ring_new(7, 8);
    for (int i = 0; i < N_KEYS; i++) {
        int out[7];
        ck_assert_int_eq(ring_preference_list(r, keys[i], 7, NULL, out), 7);
        int seen = 0;
        for (int k = 0; k < 7; k++) {
            ck_assert(out[k] >= 0 && out[k] < 7);
            ck_assert_int_eq(seen & (1 << out[k]), 0);
            seen |= 1 << out[k];
        }
        /* a shorter list is a prefix of the whole walk */
        int three[3];
        ck_assert_int_eq(ring_preference_list(r, keys[i], 3, NULL, three), 3);
        ck_assert_mem_eq(three, out, sizeof three);
    }
    /* asking for more nodes than exist gives them all, once each */
    int out[7];
    ck_assert_int_eq(ring_preference_list(r, "x", 100, NULL, out), 7);
    ring_free(r);
}
END_TEST

START_TEST(test_skip_leaves_nodes_out_in_ring_order)
{
    make_keys();
    ring *r = ring_new(5, 16);
    bool skip[5] = { false };
    for (int i = 0; i < 2000; i++) {
        int all[5], some[5];
        ring_preference_list(r, keys[i], 5, NULL, all);
        skip[all[0]] = true;           /* the owner is down */
        int got = ring_preference_list(r, keys[i], 3, skip, some);
        skip[all[0]] = false;
        ck_assert_int_eq(got, 3);
        /* the next three in the same walk */
        ck_assert_mem_eq(some, all + 1, sizeof some[0] * 3);
    }
    bool all_down[5] = { true, true, true, true, true };
    int out[5];
    ck_assert_int_eq(ring_preference_list(r, "x", 3, all_down, out), 0);
    ring_free(r);
}
END_TEST

/* With enough virtual nodes every node owns a fair share of the keys. */
START_TEST(test_load_is_balanced_with_vnodes)
{
    make_keys();
    const int nodes = 5;
    int vnode_counts[] = { 1, 16, 128 };
    double worst[3];
    for (int v = 0; v < 3; v++) {
        ring *r = ring_new(nodes, vnode_counts[v]);
        int owned[5] = { 0 };
        for (int i = 0; i < N_KEYS; i++)
            owned[ring_owner(r, keys[i])]++;
        int max = 0;
        for (int k = 0; k < nodes; k++)
            max = owned[k] > max ? owned[k] : max;
        worst[v] = (double)max / ((double)N_KEYS / nodes);
        ring_free(r);
    }
    /* the fair share is 1.0; 128 points each keep the busiest node within
     * 25 % of it, 16 within 60 %, and more points never make it worse by
     * much (with one point a node's share is one arc: anything goes) */
    ck_assert_msg(worst[2] < 1.25, "128 vnodes: busiest node has %.2f x its share", worst[2]);
    ck_assert_msg(worst[1] < 1.6, "16 vnodes: busiest node has %.2f x its share", worst[1]);
    ck_assert_msg(worst[2] <= worst[0] + 0.05, "1 vnode %.2f, 128 vnodes %.2f", worst[0], worst[2]);
}
END_TEST

/* Adding a node moves about 1/(N+1) of the keys, all of them to the new
 * node; modulo placement moves about N/(N+1). */
START_TEST(test_adding_a_node_moves_few_keys)
{
    make_keys();
    for (int nodes = 3; nodes <= 9; nodes += 3) {
        ring *before = ring_new(nodes, 64), *after = ring_new(nodes + 1, 64);
        size_t moved = ring_keys_moved(before, after, keys, N_KEYS);
        for (int i = 0; i < N_KEYS; i++) {
            int a = ring_owner(before, keys[i]), b = ring_owner(after, keys[i]);
            ck_assert(a == b || b == nodes);   /* a key only ever moves to the new node */
        }
        size_t moved_mod = 0;
        for (int i = 0; i < N_KEYS; i++)
            moved_mod += modulo_owner(keys[i], nodes) != modulo_owner(keys[i], nodes + 1);
        double frac = (double)moved / N_KEYS, ideal = 1.0 / (nodes + 1);
        double frac_mod = (double)moved_mod / N_KEYS;
        ck_assert_msg(frac > ideal * 0.6 && frac < ideal * 1.5,
                      "%d -> %d nodes: ring moved %.3f of the keys, ideal %.3f", nodes, nodes + 1,
                      frac, ideal);
        ck_assert_msg(frac_mod > 0.6, "%d -> %d nodes: modulo moved only %.3f", nodes, nodes + 1,
                      frac_mod);
        /* N/(N+1) against 1/(N+1): N times fewer, at least 2 here */
        ck_assert_msg(frac * (nodes - 1) < frac_mod, "ring %.3f vs modulo %.3f", frac, frac_mod);
        ring_free(before);
        ring_free(after);
    }
}
END_TEST

/* Removing a node moves only the keys it owned. */
START_TEST(test_removing_a_node_moves_only_its_keys)
{
    make_keys();
    ring *before = ring_new(6, 32), *after = ring_new(5, 32);
    size_t owned_by_last = 0;
    for (int i = 0; i < N_KEYS; i++)
        owned_by_last += ring_owner(before, keys[i]) == 5;
    ck_assert_uint_eq(ring_keys_moved(before, after, keys, N_KEYS), owned_by_last);
    ring_free(before);
    ring_free(after);
}
END_TEST

static Suite *ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bad_sizes_are_refused);
    tcase_add_test(tc, test_key_hash_is_fixed);
    tcase_add_test(tc, test_placement_is_deterministic);
    tcase_add_test(tc, test_preference_list_has_distinct_nodes);
    tcase_add_test(tc, test_skip_leaves_nodes_out_in_ring_order);
    tcase_add_test(tc, test_load_is_balanced_with_vnodes);
    tcase_add_test(tc, test_adding_a_node_moves_few_keys);
    tcase_add_test(tc, test_removing_a_node_moves_only_its_keys);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(ring_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
