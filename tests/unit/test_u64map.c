/* Unit tests for the u64 -> u32 hash map (sim/core/u64map.c). */
#include "u64map.h"
#include "alloc.h"
#include "pcg.h"

#include <check.h>
#include <stdlib.h>

START_TEST(test_put_get_overwrite_clear)
{
    struct u64map m = { 0 };
    uint32_t v = 7;
    ck_assert(!u64map_get(&m, 0, &v));          /* empty, never allocated */
    ck_assert_uint_eq(v, 7);
    u64map_put(&m, 0, 10);                       /* key 0 is an ordinary key */
    u64map_put(&m, UINT64_MAX, 11);
    u64map_put(&m, (uint64_t)3 << 32 | 4, 12);
    ck_assert(u64map_get(&m, 0, &v) && v == 10);
    ck_assert(u64map_get(&m, UINT64_MAX, &v) && v == 11);
    ck_assert(u64map_get(&m, (uint64_t)3 << 32 | 4, &v) && v == 12);
    ck_assert(!u64map_get(&m, (uint64_t)4 << 32 | 3, NULL));
    u64map_put(&m, 0, 20);                       /* overwrite, not a second entry */
    ck_assert_uint_eq(m.count, 3);
    ck_assert(u64map_get(&m, 0, &v) && v == 20);
    u64map_clear(&m);
    ck_assert_uint_eq(m.count, 0);
    ck_assert(!u64map_get(&m, 0, NULL));
    u64map_put(&m, 5, 1);
    ck_assert(u64map_get(&m, 5, &v) && v == 1);
    u64map_free(&m);
}
END_TEST

/* Many keys through several growths agree with a plain table: every key
 * put is found with its last value, and keys never put are absent. */
START_TEST(test_matches_a_plain_table_through_growth)
{
    enum { N = 20000 };
    static uint64_t keys[N];
    static uint32_t want[N];
    struct u64map m = { 0 };
    pcg32 rng;
    pcg32_stream(&rng, 42, 1);
    for (int i = 0; i < N; i++) {
        /* pairs of small endpoint numbers, as the network uses, plus noise */
        keys[i] = i % 2 ? (uint64_t)pcg32_below(&rng, 300) << 32 | pcg32_below(&rng, 300)
                        : (uint64_t)pcg32_next(&rng) << 32 | pcg32_next(&rng);
        want[i] = (uint32_t)i;
        u64map_put(&m, keys[i], want[i]);
    }
    for (int i = N - 1; i >= 0; i--) {   /* later puts of a repeated key win */
        uint32_t v;
        ck_assert(u64map_get(&m, keys[i], &v));
        int last = i;
        for (int j = i + 1; j < N; j++)
            if (keys[j] == keys[i])
                last = j;
        ck_assert_uint_eq(v, want[last]);
        if (i < N - 200)
            break;   /* the quadratic "last" search on a tail is enough */
    }
    size_t found = 0;
    for (int i = 0; i < N; i++)
        found += u64map_get(&m, keys[i], NULL);
    ck_assert_uint_eq(found, N);
    ck_assert(!u64map_get(&m, (uint64_t)301 << 32, NULL));
    ck_assert_uint_le(m.count * 2, m.cap);
    u64map_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("u64map");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_put_get_overwrite_clear);
    tcase_add_test(tc, test_matches_a_plain_table_through_growth);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
