/* Unit tests of version vectors (models/vv.c): the textbook cases, then
 * the lattice laws as properties over random vectors. */
#include "models/vv.h"
#include "pcg.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct vv make(int n, const uint64_t *c)
{
    struct vv v;
    vv_init(&v, n);
    for (int i = 0; i < n; i++)
        v.c[i] = c[i];
    return v;
}

static struct vv random_vv(pcg32 *rng, int n)
{
    struct vv v;
    vv_init(&v, n);
    for (int i = 0; i < n; i++)
        v.c[i] = pcg32_below(rng, 4);   /* small counters: many ties and orders */
    return v;
}

START_TEST(test_init_clamps_and_zeroes)
{
    struct vv v;
    memset(&v, 0xab, sizeof v);
    vv_init(&v, 3);
    ck_assert_uint_eq(v.n, 3);
    for (int i = 0; i < VV_MAX; i++)
        ck_assert_uint_eq(v.c[i], 0);
    vv_init(&v, VV_MAX + 5);
    ck_assert_uint_eq(v.n, VV_MAX);
    vv_init(&v, -1);
    ck_assert_uint_eq(v.n, 0);
}
END_TEST

START_TEST(test_tick_orders_versions)
{
    struct vv a, b;
    vv_init(&a, 3);
    b = a;
    ck_assert_int_eq(vv_compare(&a, &b), VV_EQUAL);
    vv_tick(&b, 1);
    ck_assert_int_eq(vv_compare(&a, &b), VV_BEFORE);
    ck_assert_int_eq(vv_compare(&b, &a), VV_AFTER);
    ck_assert(vv_descends(&b, &a));
    ck_assert(!vv_descends(&a, &b));
    vv_tick(&a, 0);                 /* a and b each saw a write the other did not */
    ck_assert_int_eq(vv_compare(&a, &b), VV_CONCURRENT);
    ck_assert(!vv_descends(&a, &b) && !vv_descends(&b, &a));
    vv_tick(&a, 7);                 /* outside the vector: ignored */
    ck_assert_uint_eq(a.c[0], 1);
}
END_TEST

START_TEST(test_merge_then_tick_resolves_siblings)
{
    uint64_t x[] = { 2, 0, 1 }, y[] = { 1, 3, 0 };
    struct vv a = make(3, x), b = make(3, y), m = a;
    ck_assert_int_eq(vv_compare(&a, &b), VV_CONCURRENT);
    vv_merge(&m, &b);
    ck_assert_uint_eq(m.c[0], 2);
    ck_assert_uint_eq(m.c[1], 3);
    ck_assert_uint_eq(m.c[2], 1);
    /* a write with the merged context supersedes both siblings */
    vv_tick(&m, 2);
    ck_assert_int_eq(vv_compare(&m, &a), VV_AFTER);
    ck_assert_int_eq(vv_compare(&m, &b), VV_AFTER);
}
END_TEST

START_TEST(test_vectors_of_different_length_compare_as_zero_padded)
{
    uint64_t x[] = { 1, 1 }, y[] = { 1, 1, 0 };
    struct vv a = make(2, x), b = make(3, y);
    ck_assert_int_eq(vv_compare(&a, &b), VV_EQUAL);
    b.c[2] = 1;
    ck_assert_int_eq(vv_compare(&a, &b), VV_BEFORE);
    vv_merge(&a, &b);
    ck_assert_uint_eq(a.n, 3);
    ck_assert_int_eq(vv_compare(&a, &b), VV_EQUAL);
}
END_TEST

START_TEST(test_valid_rejects_malformed_bytes)
{
    struct vv v;
    vv_init(&v, 4);
    v.c[3] = 9;
    ck_assert(vv_valid(&v, sizeof v));
    ck_assert(!vv_valid(&v, sizeof v - 1));
    struct vv bad = v;
    bad.n = VV_MAX + 1;
    ck_assert(!vv_valid(&bad, sizeof bad));
    bad = v;
    bad.c[10] = 1;                   /* a counter past n */
    ck_assert(!vv_valid(&bad, sizeof bad));
}
END_TEST

START_TEST(test_format_and_write)
{
    uint64_t x[] = { 1, 0, 12 };
    struct vv a = make(3, x), e;
    char buf[64];
    ck_assert_str_eq(vv_format(&a, buf, sizeof buf), "[1,0,12]");
    vv_init(&e, 0);
    ck_assert_str_eq(vv_format(&e, buf, sizeof buf), "[]");
    char tiny[4];
    vv_format(&a, tiny, sizeof tiny);
    ck_assert_uint_lt(strlen(tiny), sizeof tiny);
}
END_TEST

/* merge is the least upper bound: commutative, associative, idempotent,
 * and the result descends from both inputs; compare is antisymmetric. */
START_TEST(test_lattice_laws_on_random_vectors)
{
    pcg32 rng;
    pcg32_seed(&rng, 42, 7);
    for (int round = 0; round < 20000; round++) {
        int n = 1 + (int)pcg32_below(&rng, 5);
        struct vv a = random_vv(&rng, n), b = random_vv(&rng, n), c = random_vv(&rng, n);
        struct vv ab = a, ba = b, aa = a;
        vv_merge(&ab, &b);
        vv_merge(&ba, &a);
        ck_assert_int_eq(vv_compare(&ab, &ba), VV_EQUAL);          /* commutative */
        vv_merge(&aa, &a);
        ck_assert_int_eq(vv_compare(&aa, &a), VV_EQUAL);           /* idempotent */
        struct vv ab_c = ab, bc = b, a_bc = a;
        vv_merge(&ab_c, &c);
        vv_merge(&bc, &c);
        vv_merge(&a_bc, &bc);
        ck_assert_int_eq(vv_compare(&ab_c, &a_bc), VV_EQUAL);      /* associative */
        ck_assert(vv_descends(&ab, &a) && vv_descends(&ab, &b));   /* an upper bound */
        /* the least one: anything above both is above the merge */
        if (vv_descends(&c, &a) && vv_descends(&c, &b))
            ck_assert(vv_descends(&c, &ab));
        enum vv_order o = vv_compare(&a, &b), r = vv_compare(&b, &a);
        ck_assert_int_eq(o == VV_BEFORE, r == VV_AFTER);
        ck_assert_int_eq(o == VV_CONCURRENT, r == VV_CONCURRENT);
        ck_assert_int_eq(o == VV_EQUAL, memcmp(a.c, b.c, sizeof a.c) == 0);
        /* a tick makes a strictly newer version */
        struct vv t = a;
        vv_tick(&t, (int)pcg32_below(&rng, (uint32_t)n));
        ck_assert_int_eq(vv_compare(&t, &a), VV_AFTER);
    }
}
END_TEST

static Suite *vv_suite(void)
{
    Suite *s = suite_create("vv");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_init_clamps_and_zeroes);
    tcase_add_test(tc, test_tick_orders_versions);
    tcase_add_test(tc, test_merge_then_tick_resolves_siblings);
    tcase_add_test(tc, test_vectors_of_different_length_compare_as_zero_padded);
    tcase_add_test(tc, test_valid_rejects_malformed_bytes);
    tcase_add_test(tc, test_format_and_write);
    tcase_add_test(tc, test_lattice_laws_on_random_vectors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vv_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
