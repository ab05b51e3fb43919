/* Unit tests for reading numbers out of parsed JSON (sim/trace/jread.c):
 * out-of-range, fractional and non-numeric values must come back defined. */
#include "trace/jread.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdlib.h>

static cJSON *parse(const char *text)
{
    cJSON *j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    return j;
}

START_TEST(test_num_saturates_beyond_int64)
{
    cJSON *o = parse("{\"big\":1e300,\"small\":-1e300,\"huge\":1e400,\"edge\":9223372036854775808,"
                     "\"ok\":-42.9,\"s\":\"7\",\"t\":true}");
    ck_assert(jr_i64(o, "big", 0) == INT64_MAX);
    ck_assert(jr_i64(o, "small", 0) == INT64_MIN);
    ck_assert(jr_i64(o, "huge", 0) == INT64_MAX);   /* strtod's infinity */
    ck_assert(jr_i64(o, "edge", 0) == INT64_MAX);
    ck_assert(jr_i64(o, "ok", 0) == -42);           /* truncated toward zero */
    ck_assert(jr_i64(o, "s", 5) == 5);              /* a string is not a number */
    ck_assert(jr_i64(o, "t", 6) == 6);
    ck_assert(jr_i64(o, "absent", -1) == -1);
    ck_assert(jr_num(NULL, 3) == 3);
    cJSON_Delete(o);
}
END_TEST

START_TEST(test_int_accepts_only_exact_integers)
{
    cJSON *o = parse("{\"a\":12,\"b\":12.5,\"c\":9007199254740992,\"d\":9007199254740994,"
                     "\"e\":-9007199254740992,\"f\":1e400,\"g\":null}");
    int64_t v = 99;
    ck_assert(jr_int(cJSON_GetObjectItem(o, "a"), &v) && v == 12);
    ck_assert(!jr_int(cJSON_GetObjectItem(o, "b"), &v));
    ck_assert(jr_int(cJSON_GetObjectItem(o, "c"), &v) && v == (int64_t)1 << 53);
    ck_assert(!jr_int(cJSON_GetObjectItem(o, "d"), &v));
    ck_assert(jr_int(cJSON_GetObjectItem(o, "e"), &v) && v == -((int64_t)1 << 53));
    ck_assert(!jr_int(cJSON_GetObjectItem(o, "f"), &v));
    ck_assert(!jr_int(cJSON_GetObjectItem(o, "g"), &v));
    ck_assert(v == -((int64_t)1 << 53));   /* untouched by the refusals */
    cJSON_Delete(o);
}
END_TEST

START_TEST(test_str_gives_the_default_for_non_strings)
{
    cJSON *o = parse("{\"a\":\"x\",\"b\":1}");
    ck_assert_str_eq(jr_str(o, "a", "?"), "x");
    ck_assert_str_eq(jr_str(o, "b", "?"), "?");
    ck_assert_ptr_null(jr_str(o, "c", NULL));
    cJSON_Delete(o);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("jread");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_num_saturates_beyond_int64);
    tcase_add_test(tc, test_int_accepts_only_exact_integers);
    tcase_add_test(tc, test_str_gives_the_default_for_non_strings);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
