/* Unit tests for the models' sorted key-value map (models/kvmap.c). */
#include "models/kvmap.h"
#include "alloc.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_set_keeps_keys_sorted_and_get_finds_them)
{
    struct kv_entry *kv = NULL;
    size_t n = 0, cap = 0;
    const char *keys[] = { "m", "b", "z", "a", "k2", "k10", "b" };
    for (int i = 0; i < 7; i++)
        kvmap_set(&kv, &n, &cap, keys[i], i);
    ck_assert_uint_eq(n, 6);   /* "b" twice: overwritten, not added */
    for (size_t i = 1; i < n; i++)
        ck_assert_int_lt(strcmp(kv[i - 1].key, kv[i].key), 0);
    int64_t v = -1;
    ck_assert(kvmap_get(kv, n, "b", &v));
    ck_assert_int_eq(v, 6);
    ck_assert(kvmap_get(kv, n, "k10", &v));
    ck_assert_int_eq(v, 5);
    ck_assert(!kvmap_get(kv, n, "q", &v));
    ck_assert_int_eq(v, 5);   /* untouched when absent */
    ptrdiff_t at = kvmap_find(kv, n, "c");   /* between "b" and "k10" */
    ck_assert_int_lt(at, 0);
    ck_assert_int_eq(~at, 2);
    sim_free(kv);
}
END_TEST

START_TEST(test_many_random_keys_match_a_plain_table)
{
    struct kv_entry *kv = NULL;
    size_t n = 0, cap = 0;
    int64_t want[500];
    for (int i = 0; i < 500; i++)
        want[i] = -1;
    unsigned x = 12345;
    for (int step = 0; step < 5000; step++) {
        x = x * 1103515245u + 12345u;
        int k = (int)((x >> 16) % 500);
        char key[16];
        snprintf(key, sizeof key, "key%d", k);
        kvmap_set(&kv, &n, &cap, key, step);
        want[k] = step;
    }
    size_t present = 0;
    for (int k = 0; k < 500; k++) {
        char key[16];
        snprintf(key, sizeof key, "key%d", k);
        int64_t v;
        bool got = kvmap_get(kv, n, key, &v);
        ck_assert(got == (want[k] >= 0));
        if (got) {
            ck_assert_int_eq(v, want[k]);
            present++;
        }
    }
    ck_assert_uint_eq(present, n);
    sim_free(kv);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kvmap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_set_keeps_keys_sorted_and_get_finds_them);
    tcase_add_test(tc, test_many_random_keys_match_a_plain_table);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
