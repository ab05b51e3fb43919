/* Unit tests for the streaming JSON writer (sim/trace/jw.c). */
#include "jw.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static jw w;

static void setup(void)
{
    jw_init(&w);
}

static void teardown(void)
{
    jw_free(&w);
}

/* The JSON text of one string value. */
static const char *str_json(const char *s, size_t n)
{
    jw_reset(&w);
    jw_strn(&w, s, n);
    return w.buf;
}

static uint64_t rand_state = 88172645463325252ULL;
static uint64_t next_rand64(void)
{
    rand_state ^= rand_state << 13;
    rand_state ^= rand_state >> 7;
    rand_state ^= rand_state << 17;
    return rand_state;
}

/* ---- structure ---------------------------------------------------------- */

START_TEST(test_commas_separate_members_and_elements)
{
    jw_obj(&w);
    jw_kint(&w, "a", 1);
    jw_key(&w, "b");
    jw_arr(&w);
    jw_int(&w, 1);
    jw_str(&w, "two");
    jw_obj(&w);
    jw_obj_end(&w);
    jw_arr(&w);
    jw_arr_end(&w);
    jw_null(&w);
    jw_arr_end(&w);
    jw_key(&w, "c");
    jw_obj(&w);
    jw_kbool(&w, "d", 1);
    jw_kbool(&w, "e", 0);
    jw_kstr(&w, "f", NULL);
    jw_obj_end(&w);
    jw_knum(&w, "g", 0.5);
    jw_obj_end(&w);
    ck_assert_str_eq(w.buf, "{\"a\":1,\"b\":[1,\"two\",{},[],null],"
                            "\"c\":{\"d\":true,\"e\":false,\"f\":null},\"g\":0.5}");
    ck_assert_uint_eq(w.len, strlen(w.buf));
    ck_assert_int_eq(w.depth, 0);
}
END_TEST

START_TEST(test_deep_nesting_closes_in_order)
{
    for (int i = 0; i < JW_MAX_DEPTH - 1; i++) {
        jw_arr(&w);
        jw_int(&w, i);
    }
    for (int i = 0; i < JW_MAX_DEPTH - 1; i++)
        jw_arr_end(&w);
    cJSON *j = cJSON_Parse(w.buf);
    ck_assert_msg(j != NULL, "not JSON: %s", w.buf);
    const cJSON *node = j;
    for (int i = 0; i < JW_MAX_DEPTH - 1; i++) {
        ck_assert(cJSON_IsArray(node));
        ck_assert_int_eq(cJSON_GetArrayItem(node, 0)->valueint, i);
        node = cJSON_GetArrayItem(node, 1);
    }
    ck_assert_ptr_null(node);
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_reset_starts_a_fresh_document)
{
    jw_obj(&w);
    jw_kint(&w, "x", 1);
    jw_obj_end(&w);
    char *before = w.buf;
    jw_reset(&w);
    ck_assert_uint_eq(w.len, 0);
    ck_assert_str_eq(w.buf, "");
    jw_obj(&w);
    jw_kint(&w, "y", 2);
    jw_obj_end(&w);
    ck_assert_str_eq(w.buf, "{\"y\":2}");   /* no comma left over from before */
    ck_assert_ptr_eq(w.buf, before);          /* memory kept */
}
END_TEST

START_TEST(test_reset_in_the_middle_forgets_open_containers)
{
    jw_obj(&w);
    jw_key(&w, "a");
    jw_arr(&w);
    jw_int(&w, 1);
    jw_reset(&w);
    jw_arr(&w);
    jw_int(&w, 2);
    jw_arr_end(&w);
    ck_assert_str_eq(w.buf, "[2]");
    ck_assert_int_eq(w.depth, 0);
}
END_TEST

START_TEST(test_raw_values_get_commas_too)
{
    jw_arr(&w);
    jw_raw(&w, "{\"r\":1}", 7);
    jw_raw(&w, "[]", 2);
    jw_uint(&w, 3);
    jw_arr_end(&w);
    jw_append(&w, "\n", 1);
    ck_assert_str_eq(w.buf, "[{\"r\":1},[],3]\n");
}
END_TEST

START_TEST(test_long_output_grows_the_buffer)
{
    jw_arr(&w);
    for (int i = 0; i < 20000; i++)
        jw_str(&w, "0123456789");
    jw_arr_end(&w);
    ck_assert_uint_eq(w.len, 2 + 20000 * 13 - 1);
    ck_assert_uint_eq(strlen(w.buf), w.len);
    ck_assert_uint_gt(w.cap, w.len);
    cJSON *j = cJSON_Parse(w.buf);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(cJSON_GetArraySize(j), 20000);
    cJSON_Delete(j);
}
END_TEST

/* ---- escaping ----------------------------------------------------------- */

START_TEST(test_quotes_and_backslashes_are_escaped)
{
    ck_assert_str_eq(str_json("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    ck_assert_str_eq(str_json("/", 1), "\"/\"");
    ck_assert_str_eq(str_json("", 0), "\"\"");
}
END_TEST

START_TEST(test_control_characters_are_escaped)
{
    ck_assert_str_eq(str_json("\n\t\r", 3), "\"\\n\\t\\r\"");
    ck_assert_str_eq(str_json("\x01\x1f\b\f\x7f", 5), "\"\\u0001\\u001f\\u0008\\u000c\\u007f\"");
    ck_assert_str_eq(str_json("a\0b", 3), "\"a\\u0000b\"");
}
END_TEST

START_TEST(test_keys_are_escaped)
{
    jw_obj(&w);
    jw_kint(&w, "q\"\n\xff", 1);
    jw_obj_end(&w);
    ck_assert_str_eq(w.buf, "{\"q\\\"\\n\\ufffd\":1}");
}
END_TEST

/* Every byte, alone and between plain letters, in a key and in a string:
 * printable ASCII but '"' and '\\' is copied as it is (the lookup table of
 * the fast path), everything else is escaped, and a key is written exactly
 * as the same string followed by a colon. */
START_TEST(test_every_byte_in_keys_and_strings)
{
    for (int c = 1; c < 256; c++) {
        char key[4] = { 'a', (char)c, 'z', 0 };
        char want[64];
        snprintf(want, sizeof want, "%s", str_json(key, 3));
        bool plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
        if (plain)
            ck_assert_msg(strlen(want) == 5 && want[2] == (char)c, "byte %d: %s", c, want);
        else
            ck_assert_msg(strlen(want) > 5, "byte %d not escaped: %s", c, want);
        jw_reset(&w);
        jw_obj(&w);
        jw_kint(&w, key, 7);
        jw_obj_end(&w);
        char got[80];
        snprintf(got, sizeof got, "{%s:7}", want);
        ck_assert_msg(strcmp(w.buf, got) == 0, "byte %d: key %s, string %s", c, w.buf, want);
    }
}
END_TEST

/* jw_append copies small sizes by fixed-size, possibly overlapping moves:
 * every length from 0 to 40, from a heap block of exactly that length (so
 * AddressSanitizer sees any read past it), after a prefix of every length
 * 0..9 (so the destination offset varies), lands byte for byte. */
START_TEST(test_append_every_small_length)
{
    for (size_t pre = 0; pre < 10; pre++) {
        for (size_t n = 0; n <= 40; n++) {
            char *src = malloc(n ? n : 1);
            ck_assert_ptr_nonnull(src);
            for (size_t i = 0; i < n; i++)
                src[i] = (char)('A' + (i * 7 + n) % 26);
            jw_reset(&w);
            jw_append(&w, "0123456789", pre);
            jw_append(&w, src, n);
            ck_assert_uint_eq(w.len, pre + n);
            ck_assert_int_eq(memcmp(w.buf, "0123456789", pre), 0);
            ck_assert_msg(memcmp(w.buf + pre, src, n) == 0, "prefix %zu, length %zu", pre, n);
            ck_assert_int_eq(w.buf[pre + n], 0);
            free(src);
        }
    }
}
END_TEST

/* jw_append_int against snprintf over every number of digits and sign. */
START_TEST(test_append_int_every_width)
{
    int64_t v = 1;
    for (int d = 0; d < 19; d++, v = d < 19 ? v * 10 : v) {
        int64_t vals[] = { v, v - 1, -v, -(v - 1), v + v / 2 };
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
            char want[32];
            snprintf(want, sizeof want, "x%" PRId64, vals[k]);
            jw_reset(&w);
            jw_append(&w, "x", 1);
            jw_append_int(&w, vals[k]);
            ck_assert_str_eq(w.buf, want);
        }
    }
    jw_reset(&w);
    jw_append_int(&w, INT64_MIN);
    ck_assert_str_eq(w.buf, "-9223372036854775808");
    jw_reset(&w);
    jw_append_int(&w, INT64_MAX);
    ck_assert_str_eq(w.buf, "9223372036854775807");
}
END_TEST

START_TEST(test_valid_multibyte_utf8_passes_through)
{
    static const char *ok[] = {
        "\xc3\xa9",            /* U+00E9 */
        "\xc2\x80",            /* U+0080, smallest 2-byte */
        "\xdf\xbf",            /* U+07FF */
        "\xe0\xa0\x80",        /* U+0800, smallest 3-byte */
        "\xe2\x82\xac",        /* U+20AC euro */
        "\xed\x9f\xbf",        /* U+D7FF, just below the surrogates */
        "\xee\x80\x80",        /* U+E000, just above */
        "\xef\xbf\xbf",        /* U+FFFF */
        "\xf0\x90\x80\x80",    /* U+10000 */
        "\xf0\x9d\x84\x9e",    /* U+1D11E */
        "\xf4\x8f\xbf\xbf",    /* U+10FFFF, the last code point */
    };
    char expect[16];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(expect, sizeof expect, "\"%s\"", ok[i]);
        ck_assert_msg(strcmp(str_json(ok[i], strlen(ok[i])), expect) == 0, "sequence %zu changed", i);
    }
    const char *mixed = "a\xc3\xa9z\xe2\x82\xac!";
    ck_assert_str_eq(str_json(mixed, strlen(mixed)), "\"a\xc3\xa9z\xe2\x82\xac!\"");
}
END_TEST

START_TEST(test_invalid_utf8_becomes_replacement_characters)
{
    static const struct { const char *in; const char *out; } cases[] = {
        { "\x80", "\"\\ufffd\"" },                          /* lone continuation */
        { "\xff", "\"\\ufffd\"" },
        { "\xfe", "\"\\ufffd\"" },
        { "\xc0\xaf", "\"\\ufffd\\ufffd\"" },               /* overlong '/' */
        { "\xc1\xbf", "\"\\ufffd\\ufffd\"" },
        { "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },    /* overlong 3-byte */
        { "\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
        { "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },    /* surrogate D800 */
        { "\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"" },    /* surrogate DFFF */
        { "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },  /* above U+10FFFF */
        { "\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
        { "\xe2\x82", "\"\\ufffd\\ufffd\"" },               /* cut short at the end */
        { "\xe2\x82z", "\"\\ufffd\\ufffdz\"" },             /* cut short by ASCII */
        { "\xc3\xc3\xa9", "\"\\ufffd\xc3\xa9\"" },          /* bad lead, then valid */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = str_json(cases[i].in, strlen(cases[i].in));
        ck_assert_msg(strcmp(got, cases[i].out) == 0, "case %zu: got %s want %s", i, got,
                      cases[i].out);
    }
}
END_TEST

START_TEST(test_truncated_sequence_is_not_read_past_length)
{
    /* jw_strn must not look at the bytes after n, even if they would
     * complete the sequence */
    const char buf[] = "\xe2\x82\xac";
    ck_assert_str_eq(str_json(buf, 2), "\"\\ufffd\\ufffd\"");
    ck_assert_str_eq(str_json(buf, 3), "\"\xe2\x82\xac\"");
}
END_TEST

/* ---- numbers ------------------------------------------------------------ */

START_TEST(test_int64_extremes_are_exact)
{
    jw_arr(&w);
    jw_int(&w, INT64_MIN);
    jw_int(&w, INT64_MAX);
    jw_int(&w, 0);
    jw_int(&w, -1);
    jw_uint(&w, UINT64_MAX);
    jw_uint(&w, 0);
    jw_arr_end(&w);
    ck_assert_str_eq(w.buf, "[-9223372036854775808,9223372036854775807,0,-1,"
                            "18446744073709551615,0]");
}
END_TEST

START_TEST(test_num_writes_integral_values_as_integers)
{
    jw_arr(&w);
    jw_num(&w, 3.0);
    jw_num(&w, -42.0);
    jw_num(&w, 0.0);
    jw_num(&w, 9007199254740991.0);
    jw_num(&w, 0.1);
    jw_num(&w, 1.5);
    jw_arr_end(&w);
    ck_assert_str_eq(w.buf, "[3,-42,0,9007199254740991,0.1,1.5]");
}
END_TEST

START_TEST(test_num_non_finite_is_null)
{
    jw_arr(&w);
    jw_num(&w, NAN);
    jw_num(&w, INFINITY);
    jw_num(&w, -INFINITY);
    jw_arr_end(&w);
    ck_assert_str_eq(w.buf, "[null,null,null]");
}
END_TEST

/* Writes v alone and reads it back with strtod. */
static double num_round_trip(double v)
{
    jw_reset(&w);
    jw_num(&w, v);
    char *end;
    double back = strtod(w.buf, &end);
    ck_assert_msg(*end == '\0', "trailing text in %s", w.buf);
    return back;
}

START_TEST(test_num_round_trips_exactly)
{
    static const double fixed[] = {
        0.1, 1.0 / 3.0, 2.0 / 3.0, 1e-300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
        -1e21, 9007199254740993.0, 9007199254740992.0, 123456789.123456789, -0.0, 1e15 + 0.3,
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        double back = num_round_trip(fixed[i]);
        ck_assert_msg(memcmp(&back, &fixed[i], sizeof back) == 0, "%.17g wrote %s", fixed[i], w.buf);
    }
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next_rand64();
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        double back = num_round_trip(v);
        ck_assert_msg(memcmp(&back, &v, sizeof back) == 0, "%.17g wrote %s", v, w.buf);
        ck_assert_uint_le(w.len, 24);
    }
}
END_TEST

START_TEST(test_num_uses_shortest_form)
{
    jw_num(&w, 0.3);
    ck_assert_str_eq(w.buf, "0.3");
    jw_reset(&w);
    jw_num(&w, 0.1 + 0.2);
    ck_assert_str_eq(w.buf, "0.30000000000000004");
}
END_TEST

/* ---- output parses ------------------------------------------------------ */

START_TEST(test_output_parses_with_cjson)
{
    /* strings of random bytes, valid or not, in a nested document */
    enum { N = 300 };
    char strs[N][33];
    size_t lens[N];
    jw_obj(&w);
    jw_key(&w, "items");
    jw_arr(&w);
    for (int i = 0; i < N; i++) {
        lens[i] = (size_t)(next_rand64() % 32);
        for (size_t k = 0; k < lens[i]; k++) {
            char c = (char)(next_rand64() & 0xff);
            strs[i][k] = c ? c : 'x';   /* cJSON strings stop at NUL */
        }
        strs[i][lens[i]] = '\0';
        jw_obj(&w);
        jw_kint(&w, "i", i);
        jw_key(&w, "s");
        jw_strn(&w, strs[i], lens[i]);
        jw_key(&w, strs[i]);   /* random bytes as a key as well */
        jw_num(&w, (double)i / 7.0);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_kint(&w, "max", INT64_MAX);
    jw_obj_end(&w);
    cJSON *j = cJSON_Parse(w.buf);
    ck_assert_msg(j != NULL, "cJSON failed near: %.40s", cJSON_GetErrorPtr());
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), N);
    for (int i = 0; i < N; i++) {
        const cJSON *it = cJSON_GetArrayItem(items, i);
        ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(it, "i")->valueint, i);
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(it, "s");
        ck_assert(cJSON_IsString(s));
        /* printable ASCII comes back exactly */
        int ascii = 1;
        for (size_t k = 0; k < lens[i]; k++)
            ascii &= strs[i][k] >= 0x20 && strs[i][k] < 0x7f;
        if (ascii)
            ck_assert_str_eq(s->valuestring, strs[i]);
        ck_assert(cJSON_GetArrayItem(it, 2)->valuedouble == (double)i / 7.0);
    }
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_escaped_text_parses_back_to_the_original)
{
    const char *text = "quote\" back\\ nl\n tab\t cr\r bell\x07 del\x7f \xc3\xa9\xf0\x9f\x98\x80";
    jw_arr(&w);
    jw_str(&w, text);
    jw_arr_end(&w);
    cJSON *j = cJSON_Parse(w.buf);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetArrayItem(j, 0)->valuestring, text);
    cJSON_Delete(j);
}
END_TEST

static Suite *jw_suite(void)
{
    Suite *s = suite_create("jw");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_commas_separate_members_and_elements);
    tcase_add_test(tc, test_deep_nesting_closes_in_order);
    tcase_add_test(tc, test_reset_starts_a_fresh_document);
    tcase_add_test(tc, test_reset_in_the_middle_forgets_open_containers);
    tcase_add_test(tc, test_raw_values_get_commas_too);
    tcase_add_test(tc, test_long_output_grows_the_buffer);
    tcase_add_test(tc, test_quotes_and_backslashes_are_escaped);
    tcase_add_test(tc, test_control_characters_are_escaped);
    tcase_add_test(tc, test_keys_are_escaped);
    tcase_add_test(tc, test_valid_multibyte_utf8_passes_through);
    tcase_add_test(tc, test_invalid_utf8_becomes_replacement_characters);
    tcase_add_test(tc, test_truncated_sequence_is_not_read_past_length);
    tcase_add_test(tc, test_int64_extremes_are_exact);
    tcase_add_test(tc, test_num_writes_integral_values_as_integers);
    tcase_add_test(tc, test_num_non_finite_is_null);
    tcase_add_test(tc, test_num_round_trips_exactly);
    tcase_add_test(tc, test_num_uses_shortest_form);
    tcase_add_test(tc, test_output_parses_with_cjson);
    tcase_add_test(tc, test_escaped_text_parses_back_to_the_original);
    tcase_add_test(tc, test_every_byte_in_keys_and_strings);
    tcase_add_test(tc, test_append_every_small_length);
    tcase_add_test(tc, test_append_int_every_width);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jw_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
