/* Unit tests for dmath: accuracy against libm, special values, and that the
 * results are the same bits on every run. */
#include "dmath.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define REL_TOL 1e-14

/* See test_results_are_bit_stable. */
#define DMATH_CHECKSUM 0xc6f53b51baddbbb1ULL

/* A private generator so the sample points do not depend on pcg. */
static uint64_t sample_state;

static double sample_unit(void)
{
    uint64_t x = (sample_state += 0x9e3779b97f4a7c15ULL);
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (double)(x >> 11) * 0x1.0p-53;
}

static double sample_in(double lo, double hi)
{
    return lo + (hi - lo) * sample_unit();
}

static double rel_err(double got, double want)
{
    if (got == want)
        return 0.0;
    return fabs(got - want) / fabs(want);
}

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* ---- exp ---- */

START_TEST(test_exp_matches_libm)
{
    sample_state = 1;
    for (int i = 0; i <= 140000; i++) {
        double x = i < 14001 ? -700.0 + i * 0.1 : sample_in(-700.0, 700.0);
        double got = dmath_exp(x);
        ck_assert_msg(rel_err(got, exp(x)) <= REL_TOL, "exp(%a) = %a, libm says %a", x, got, exp(x));
    }
    for (int i = 0; i < 20000; i++) {
        double x = sample_in(-1e-3, 1e-3) * pow(10.0, -sample_in(0.0, 15.0));
        double got = dmath_exp(x);
        ck_assert_msg(rel_err(got, exp(x)) <= REL_TOL, "exp(%a) = %a, libm says %a", x, got, exp(x));
    }
}
END_TEST

START_TEST(test_exp_special_values)
{
    ck_assert(dmath_exp(0.0) == 1.0);
    ck_assert(dmath_exp(-0.0) == 1.0);
    ck_assert(isnan(dmath_exp(NAN)));
    ck_assert(rel_err(dmath_exp(1.0), M_E) <= REL_TOL);
    ck_assert(rel_err(dmath_exp(M_LN2), 2.0) <= REL_TOL);
    /* Documented: clamps to [-700, 700] instead of overflowing. */
    ck_assert(dmath_exp(1000.0) == dmath_exp(700.0));
    ck_assert(dmath_exp(INFINITY) == dmath_exp(700.0));
    ck_assert(dmath_exp(-1000.0) == dmath_exp(-700.0));
    ck_assert(dmath_exp(-INFINITY) > 0.0);
    ck_assert(isfinite(dmath_exp(700.0)));
}
END_TEST

START_TEST(test_exp_is_monotonic_near_integers)
{
    /* Range reduction switches k at odd multiples of ln2/2: no step back. */
    for (int k = -1000; k <= 1000; k++) {
        double x = (k + 0.5) * M_LN2;
        if (x < -700.0 || x > 700.0)
            continue;
        double below = nextafter(x, -INFINITY), above = nextafter(x, INFINITY);
        ck_assert_msg(dmath_exp(below) <= dmath_exp(x) && dmath_exp(x) <= dmath_exp(above),
                      "exp not monotonic around %a", x);
    }
}
END_TEST

/* ---- log ---- */

START_TEST(test_log_matches_libm)
{
    sample_state = 2;
    for (int i = 0; i < 200000; i++) {
        /* Magnitudes from subnormal to huge, and many points near 1. */
        double x = i % 2 ? ldexp(sample_in(0.5, 1.0), (int)sample_in(-1070.0, 1024.0))
                         : 1.0 + sample_in(-0.5, 0.5) * pow(10.0, -sample_in(0.0, 15.0));
        double got = dmath_log(x);
        ck_assert_msg(rel_err(got, log(x)) <= REL_TOL, "log(%a) = %a, libm says %a", x, got, log(x));
    }
}
END_TEST

START_TEST(test_log_special_values)
{
    ck_assert(dmath_log(1.0) == 0.0);
    ck_assert(rel_err(dmath_log(2.0), M_LN2) <= REL_TOL);
    ck_assert(rel_err(dmath_log(M_E), 1.0) <= REL_TOL);
    ck_assert(dmath_log(0.0) == -INFINITY);
    ck_assert(dmath_log(-0.0) == -INFINITY);
    ck_assert(isnan(dmath_log(-1.0)));
    ck_assert(isnan(dmath_log(NAN)));
    ck_assert(dmath_log(INFINITY) == INFINITY);
    ck_assert(rel_err(dmath_log(0x1p-1074), -1074.0 * M_LN2) <= REL_TOL);
    ck_assert(rel_err(dmath_log(DBL_MAX), log(DBL_MAX)) <= REL_TOL);
}
END_TEST

START_TEST(test_exp_of_log_round_trips)
{
    sample_state = 3;
    for (int i = 0; i < 20000; i++) {
        double x = ldexp(sample_in(0.5, 1.0), (int)sample_in(-1000.0, 1000.0));
        ck_assert_msg(rel_err(dmath_exp(dmath_log(x)), x) <= 1e-12, "exp(log(%a)) drifts", x);
    }
}
END_TEST

/* ---- pow ---- */

START_TEST(test_pow_matches_libm)
{
    sample_state = 4;
    int checked = 0;
    for (int i = 0; i < 200000; i++) {
        double x, y;
        switch (i % 3) {
        case 0: /* what the Pareto draw uses: u in (0, 1], y = -1/alpha */
            x = 1.0 - sample_unit();
            y = -1.0 / sample_in(0.1, 5.0);
            break;
        case 1: /* large exponents, result near the ends of the range */
            x = ldexp(sample_in(0.5, 1.0), (int)sample_in(-60.0, 60.0));
            y = sample_in(-30.0, 30.0);
            break;
        default: /* bases near 1 with huge exponents */
            x = 1.0 + sample_in(-1e-3, 1e-3);
            y = sample_in(-5e5, 5e5);
            break;
        }
        double want = pow(x, y);
        if (!(want > 0x1p-1000 && want < 0x1p1000))
            continue; /* skip subnormal and overflowing results */
        double got = dmath_pow(x, y);
        ck_assert_msg(rel_err(got, want) <= REL_TOL, "pow(%a, %a) = %a, libm says %a", x, y, got, want);
        checked++;
    }
    ck_assert_int_gt(checked, 150000);
}
END_TEST

START_TEST(test_pow_special_values)
{
    ck_assert(dmath_pow(3.7, 0.0) == 1.0);
    ck_assert(dmath_pow(1.0, 123.0) == 1.0);
    ck_assert(dmath_pow(1.0, NAN) == 1.0);
    ck_assert(rel_err(dmath_pow(2.0, 10.0), 1024.0) <= REL_TOL);
    ck_assert(rel_err(dmath_pow(2.0, -537.0), ldexp(1.0, -537)) <= REL_TOL);
    ck_assert(rel_err(dmath_pow(7.25, 1.0), 7.25) <= REL_TOL);
    ck_assert(rel_err(dmath_pow(7.25, 0.5), sqrt(7.25)) <= REL_TOL);
    ck_assert(rel_err(dmath_pow(7.25, -1.0), 1.0 / 7.25) <= REL_TOL);
    ck_assert(dmath_pow(10.0, 400.0) == INFINITY);
    ck_assert(dmath_pow(10.0, -400.0) == 0.0);
    ck_assert(dmath_pow(0.5, INFINITY) == 0.0);
    ck_assert(dmath_pow(2.0, INFINITY) == INFINITY);
    ck_assert(dmath_pow(0.0, 2.0) == 0.0);
    ck_assert(isnan(dmath_pow(-2.0, 0.5)));
    ck_assert(isnan(dmath_pow(2.0, NAN)));
}
END_TEST

/* ---- determinism ---- */

/* A checksum of the bits of many results. It must never change on any
 * machine; if dmath.c is changed on purpose, print the new value and
 * update it (and expect golden traces to change too). */
START_TEST(test_results_are_bit_stable)
{
    sample_state = 5;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 10000; i++) {
        double x = sample_in(-50.0, 50.0);
        double u = 1.0 - sample_unit();
        uint64_t b[3] = { bits_of(dmath_exp(x)), bits_of(dmath_log(u)), bits_of(dmath_pow(u, -1.0 / 1.5)) };
        for (int j = 0; j < 3; j++)
            h = (h ^ b[j]) * 0x100000001b3ULL;
    }
    ck_assert_msg(h == DMATH_CHECKSUM, "checksum %#018llx", (unsigned long long)h);
}
END_TEST

Suite *dmath_suite(void);

Suite *dmath_suite(void)
{
    Suite *s = suite_create("dmath");
    TCase *tc = tcase_create("accuracy");
    tcase_add_test(tc, test_exp_matches_libm);
    tcase_add_test(tc, test_exp_is_monotonic_near_integers);
    tcase_add_test(tc, test_log_matches_libm);
    tcase_add_test(tc, test_exp_of_log_round_trips);
    tcase_add_test(tc, test_pow_matches_libm);
    suite_add_tcase(s, tc);
    tc = tcase_create("special");
    tcase_add_test(tc, test_exp_special_values);
    tcase_add_test(tc, test_log_special_values);
    tcase_add_test(tc, test_pow_special_values);
    suite_add_tcase(s, tc);
    tc = tcase_create("determinism");
    tcase_add_test(tc, test_results_are_bit_stable);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(dmath_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
