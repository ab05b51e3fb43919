/* Unit tests for the PCG32 generator (sim/core/pcg.c). */
#include "pcg.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pearson's chi-square statistic of counts against a uniform expectation. */
static double chi_square(const long *counts, int buckets, long draws)
{
    double expect = (double)draws / buckets, chi = 0;
    for (int b = 0; b < buckets; b++) {
        double d = (double)counts[b] - expect;
        chi += d * d / expect;
    }
    return chi;
}

/* ---- the reference sequence --------------------------------------------- */

START_TEST(test_seed_42_54_gives_reference_outputs)
{
    static const uint32_t expect[] = { 0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                       0x83d2f293, 0xbfa4784b, 0xcbed606e };
    pcg32 rng;
    pcg32_seed(&rng, 42, 54);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
        ck_assert_msg(pcg32_next(&rng) == expect[i], "output %zu differs", i);
}
END_TEST

START_TEST(test_next64_joins_two_draws_high_first)
{
    pcg32 a, b;
    pcg32_seed(&a, 42, 54);
    pcg32_seed(&b, 42, 54);
    uint64_t v = pcg32_next64(&a);
    uint64_t hi = pcg32_next(&b), lo = pcg32_next(&b);
    ck_assert_uint_eq(v, (hi << 32) | lo);
    ck_assert_uint_eq(v, 0xa15c02b77b47f409ULL);
}
END_TEST

/* ---- pcg32_below -------------------------------------------------------- */

static void check_below_is_uniform(uint32_t bound, uint64_t seed)
{
    enum { DRAWS = 200000 };
    long counts[16] = { 0 };
    ck_assert_uint_le(bound, 16);
    pcg32 rng;
    pcg32_seed(&rng, seed, 1);
    for (long i = 0; i < DRAWS; i++) {
        uint32_t v = pcg32_below(&rng, bound);
        ck_assert_uint_lt(v, bound);
        counts[v]++;
    }
    /* chi-square with bound-1 degrees of freedom: at df = 9 the 1e-6 tail
     * starts near 41, so 60 is generous yet catches any real skew */
    double chi = chi_square(counts, (int)bound, DRAWS);
    ck_assert_msg(chi < 60.0, "bound %u: chi-square %.1f", bound, chi);
}

START_TEST(test_below_small_bounds_are_uniform)
{
    check_below_is_uniform(3, 1);
    check_below_is_uniform(10, 2);
    check_below_is_uniform(7, 3);
}
END_TEST

/* With bound = 3 * 2^30, plain `next % bound` would give [0, 2^30) twice the
 * weight of the rest (probability 1/2 instead of 1/3). */
START_TEST(test_below_large_bound_has_no_modulo_bias)
{
    enum { DRAWS = 60000 };
    const uint32_t bound = 0xc0000000u;
    pcg32 rng;
    pcg32_seed(&rng, 2024, 7);
    long counts[3] = { 0 };
    for (long i = 0; i < DRAWS; i++) {
        uint32_t v = pcg32_below(&rng, bound);
        ck_assert_uint_lt(v, bound);
        counts[v >> 30]++;
    }
    double chi = chi_square(counts, 3, DRAWS);
    ck_assert_msg(chi < 40.0, "thirds %ld %ld %ld", counts[0], counts[1], counts[2]);
}
END_TEST

START_TEST(test_below_never_reaches_bound)
{
    static const uint32_t bounds[] = { 1, 2, 3, 0x80000000u, 0x80000001u, 0xfffffffeu,
                                       0xffffffffu };
    pcg32 rng;
    pcg32_seed(&rng, 5, 5);
    for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++) {
        uint32_t hi = 0;
        for (int i = 0; i < 20000; i++) {
            uint32_t v = pcg32_below(&rng, bounds[b]);
            ck_assert_msg(v < bounds[b], "below(%u) gave %u", bounds[b], v);
            if (v > hi)
                hi = v;
        }
        /* the top of the range is reached too, roughly */
        ck_assert_uint_ge(hi, bounds[b] - 1 - bounds[b] / 1000);
    }
}
END_TEST

START_TEST(test_below_bound_one_or_zero_returns_zero)
{
    pcg32 rng;
    pcg32_seed(&rng, 9, 9);
    for (int i = 0; i < 100; i++) {
        ck_assert_uint_eq(pcg32_below(&rng, 1), 0);
        ck_assert_uint_eq(pcg32_below(&rng, 0), 0);
        ck_assert_uint_eq(pcg32_below64(&rng, 0), 0);
        ck_assert_uint_eq(pcg32_below64(&rng, 1), 0);
    }
}
END_TEST

START_TEST(test_below64_large_bound_stays_below_and_uses_high_bits)
{
    const uint64_t bound = 3ULL << 62;   /* modulo bias would favour the lowest quarter */
    pcg32 rng;
    pcg32_seed(&rng, 11, 12);
    long counts[3] = { 0 };
    for (int i = 0; i < 60000; i++) {
        uint64_t v = pcg32_below64(&rng, bound);
        ck_assert(v < bound);
        counts[v >> 62]++;
    }
    double chi = chi_square(counts, 3, 60000);
    ck_assert_msg(chi < 40.0, "thirds %ld %ld %ld", counts[0], counts[1], counts[2]);
}
END_TEST

/* ---- pcg32_range -------------------------------------------------------- */

START_TEST(test_range_includes_both_ends_of_negative_range)
{
    pcg32 rng;
    pcg32_seed(&rng, 3, 4);
    int seen[7] = { 0 };
    for (int i = 0; i < 10000; i++) {
        int64_t v = pcg32_range(&rng, -3, 3);
        ck_assert_msg(v >= -3 && v <= 3, "range(-3,3) gave %lld", (long long)v);
        seen[v + 3]++;
    }
    for (int k = 0; k < 7; k++)
        ck_assert_msg(seen[k] > 1000, "value %d seen %d times", k - 3, seen[k]);
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(pcg32_range(&rng, -5, -5), -5);
}
END_TEST

START_TEST(test_range_full_int64_span)
{
    pcg32 rng;
    pcg32_seed(&rng, 100, 200);
    int negative = 0, positive = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t v = pcg32_range(&rng, INT64_MIN, INT64_MAX);
        if (v < 0)
            negative++;
        else
            positive++;
    }
    ck_assert_int_gt(negative, 400);
    ck_assert_int_gt(positive, 400);
}
END_TEST

START_TEST(test_range_at_int64_edges)
{
    pcg32 rng;
    pcg32_seed(&rng, 1, 2);
    int lo_seen = 0, hi_seen = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t v = pcg32_range(&rng, INT64_MIN, INT64_MIN + 1);
        ck_assert(v == INT64_MIN || v == INT64_MIN + 1);
        lo_seen += v == INT64_MIN;
        int64_t w = pcg32_range(&rng, INT64_MAX - 1, INT64_MAX);
        ck_assert(w == INT64_MAX - 1 || w == INT64_MAX);
        hi_seen += w == INT64_MAX;
    }
    ck_assert_int_gt(lo_seen, 300);
    ck_assert_int_lt(lo_seen, 700);
    ck_assert_int_gt(hi_seen, 300);
    ck_assert_int_lt(hi_seen, 700);
    ck_assert_int_eq(pcg32_range(&rng, INT64_MAX, INT64_MAX), INT64_MAX);
    ck_assert_int_eq(pcg32_range(&rng, INT64_MIN, INT64_MIN), INT64_MIN);
}
END_TEST

START_TEST(test_range_wider_than_32_bits_stays_inside)
{
    const int64_t lo = -(1LL << 40), hi = (1LL << 40) + 17;
    pcg32 rng;
    pcg32_seed(&rng, 8, 8);
    int above_2_32 = 0;
    for (int i = 0; i < 10000; i++) {
        int64_t v = pcg32_range(&rng, lo, hi);
        ck_assert(v >= lo && v <= hi);
        above_2_32 += v > (1LL << 32) || v < -(1LL << 32);
    }
    ck_assert_int_gt(above_2_32, 9000);
}
END_TEST

/* ---- pcg32_unit and pcg32_chance ---------------------------------------- */

START_TEST(test_unit_is_in_half_open_interval_with_53_bits)
{
    pcg32 rng;
    pcg32_seed(&rng, 77, 1);
    double sum = 0, lo = 1, hi = 0;
    int odd_last_bit = 0;
    for (int i = 0; i < 100000; i++) {
        double u = pcg32_unit(&rng);
        ck_assert_msg(u >= 0.0 && u < 1.0, "unit gave %.17g", u);
        double scaled = u * 0x1.0p53;
        ck_assert(scaled == floor(scaled));   /* a multiple of 2^-53 */
        odd_last_bit += fmod(scaled, 2.0) == 1.0;
        sum += u;
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
    }
    ck_assert_double_eq_tol(sum / 100000, 0.5, 0.01);
    ck_assert(lo < 0.001 && hi > 0.999);
    ck_assert_int_gt(odd_last_bit, 40000);   /* all 53 bits are random */
}
END_TEST

START_TEST(test_chance_extremes_do_not_draw)
{
    pcg32 a, b;
    pcg32_seed(&a, 6, 6);
    pcg32_seed(&b, 6, 6);
    for (int i = 0; i < 100; i++) {
        ck_assert_int_eq(pcg32_chance(&a, 0.0), 0);
        ck_assert_int_eq(pcg32_chance(&a, -1.0), 0);
        ck_assert_int_eq(pcg32_chance(&a, 1.0), 1);
        ck_assert_int_eq(pcg32_chance(&a, 2.0), 1);
    }
    ck_assert_uint_eq(a.state, b.state);   /* no state was consumed */
}
END_TEST

START_TEST(test_chance_matches_probability)
{
    pcg32 rng;
    pcg32_seed(&rng, 12, 34);
    int hits = 0;
    for (int i = 0; i < 100000; i++)
        hits += pcg32_chance(&rng, 0.3);
    ck_assert_int_gt(hits, 29000);
    ck_assert_int_lt(hits, 31000);
}
END_TEST

/* ---- streams ------------------------------------------------------------ */

START_TEST(test_same_stream_ids_agree)
{
    pcg32 a, b;
    pcg32_stream(&a, 1234, PCG_STREAM_NODE + 2);
    pcg32_stream(&b, 1234, PCG_STREAM_NODE + 2);
    for (int i = 0; i < 1000; i++)
        ck_assert_uint_eq(pcg32_next(&a), pcg32_next(&b));
}
END_TEST

/* Counts equal outputs at the same position in the first 1000 draws. */
static int matches(uint64_t seed_a, uint64_t id_a, uint64_t seed_b, uint64_t id_b)
{
    pcg32 a, b;
    pcg32_stream(&a, seed_a, id_a);
    pcg32_stream(&b, seed_b, id_b);
    int same = 0;
    for (int i = 0; i < 1000; i++)
        same += pcg32_next(&a) == pcg32_next(&b);
    return same;
}

START_TEST(test_different_stream_ids_differ)
{
    static const uint64_t ids[] = {
        PCG_STREAM_SCRIPT, PCG_STREAM_NEMESIS, PCG_STREAM_WORKLOAD, PCG_STREAM_NODE,
        PCG_STREAM_NODE + 1, PCG_STREAM_CLIENT, PCG_STREAM_CLIENT + 1, PCG_STREAM_LINK,
        PCG_STREAM_LINK + 1, PCG_STREAM_LINK + (1ULL << 20),
    };
    size_t n = sizeof ids / sizeof ids[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            ck_assert_msg(matches(1, ids[i], 1, ids[j]) < 5, "streams %zu and %zu agree", i, j);
}
END_TEST

START_TEST(test_different_run_seeds_differ)
{
    ck_assert_int_lt(matches(1, PCG_STREAM_NODE, 2, PCG_STREAM_NODE), 5);
    ck_assert_int_lt(matches(0, PCG_STREAM_SCRIPT, 1, PCG_STREAM_SCRIPT), 5);
    /* seed and id are not interchangeable */
    ck_assert_int_lt(matches(5, 7, 7, 5), 5);
}
END_TEST

static Suite *pcg_suite(void)
{
    Suite *s = suite_create("pcg");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_seed_42_54_gives_reference_outputs);
    tcase_add_test(tc, test_next64_joins_two_draws_high_first);
    tcase_add_test(tc, test_below_small_bounds_are_uniform);
    tcase_add_test(tc, test_below_large_bound_has_no_modulo_bias);
    tcase_add_test(tc, test_below_never_reaches_bound);
    tcase_add_test(tc, test_below_bound_one_or_zero_returns_zero);
    tcase_add_test(tc, test_below64_large_bound_stays_below_and_uses_high_bits);
    tcase_add_test(tc, test_range_includes_both_ends_of_negative_range);
    tcase_add_test(tc, test_range_full_int64_span);
    tcase_add_test(tc, test_range_at_int64_edges);
    tcase_add_test(tc, test_range_wider_than_32_bits_stays_inside);
    tcase_add_test(tc, test_unit_is_in_half_open_interval_with_53_bits);
    tcase_add_test(tc, test_chance_extremes_do_not_draw);
    tcase_add_test(tc, test_chance_matches_probability);
    tcase_add_test(tc, test_same_stream_ids_agree);
    tcase_add_test(tc, test_different_stream_ids_differ);
    tcase_add_test(tc, test_different_run_seeds_differ);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pcg_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
