/* Unit tests for typed model parameters (sim/core/params.c). */
#include "params.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const struct model_param lf_params[] = {
    { "replication", PARAM_ENUM, "async", "async|sync|semisync", "how writes reach followers" },
    { "reads", PARAM_ENUM, "leader", "leader|any", "where reads are served" },
    { "epochs", PARAM_BOOL, "true", NULL, "fence old leaders" },
    { "heartbeat", PARAM_TIME, "50ms", NULL, "leader heartbeat" },
    { "n", PARAM_INT, "3", NULL, "replicas" },
    { "p", PARAM_NUM, "0.25", NULL, "a probability" },
    { NULL, PARAM_INT, NULL, NULL, NULL },
};

static params *p;
static char err[512];

static void setup(void)
{
    err[0] = '\0';
    p = params_new("leader_follower", lf_params, err, sizeof err);
    ck_assert_msg(p != NULL, "params_new: %s", err);
}

static void teardown(void)
{
    params_free(p);
    p = NULL;
}

/* ---- defaults and declarations ------------------------------------------ */

START_TEST(test_defaults_are_parsed_from_text)
{
    ck_assert_str_eq(params_enum(p, "replication"), "async");
    ck_assert_str_eq(params_enum(p, "reads"), "leader");
    ck_assert(params_bool(p, "epochs"));
    ck_assert_int_eq(params_time(p, "heartbeat"), 50000000);
    ck_assert_int_eq(params_int(p, "n"), 3);
    ck_assert(params_num(p, "p") == 0.25);
}
END_TEST

START_TEST(test_bad_default_is_reported)
{
    static const struct model_param bad[] = {
        { "hb", PARAM_TIME, "soon", NULL, NULL },
        { NULL, PARAM_INT, NULL, NULL, NULL },
    };
    char e[256] = "";
    ck_assert_ptr_null(params_new("m", bad, e, sizeof e));
    ck_assert_str_eq(e, "model \"m\" has a bad default: parameter \"hb\" must be a time such as "
                        "50ms, got \"soon\"");
}
END_TEST

START_TEST(test_duplicate_or_choiceless_declarations_are_refused)
{
    static const struct model_param dup[] = {
        { "a", PARAM_INT, "1", NULL, NULL },
        { "a", PARAM_INT, "2", NULL, NULL },
        { NULL, PARAM_INT, NULL, NULL, NULL },
    };
    static const struct model_param nochoice[] = {
        { "mode", PARAM_ENUM, "x", NULL, NULL },
        { NULL, PARAM_INT, NULL, NULL, NULL },
    };
    static const struct model_param emptychoice[] = {
        { "mode", PARAM_ENUM, "a", "a||b", NULL },
        { NULL, PARAM_INT, NULL, NULL, NULL },
    };
    char e[256];
    ck_assert_ptr_null(params_new("m", dup, e, sizeof e));
    ck_assert_str_eq(e, "model \"m\" declares parameter \"a\" twice");
    ck_assert_ptr_null(params_new("m", nochoice, e, sizeof e));
    ck_assert_ptr_null(params_new("m", emptychoice, e, sizeof e));
    ck_assert_ptr_nonnull(strstr(e, "bad choices"));
}
END_TEST

START_TEST(test_missing_default_means_zero_or_first_choice)
{
    static const struct model_param nodef[] = {
        { "i", PARAM_INT, NULL, NULL, NULL },
        { "b", PARAM_BOOL, NULL, NULL, NULL },
        { "t", PARAM_TIME, NULL, NULL, NULL },
        { "x", PARAM_NUM, NULL, NULL, NULL },
        { "e", PARAM_ENUM, NULL, "first|second", NULL },
        { NULL, PARAM_INT, NULL, NULL, NULL },
    };
    params *q = params_new("m", nodef, err, sizeof err);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(params_int(q, "i"), 0);
    ck_assert(!params_bool(q, "b"));
    ck_assert_int_eq(params_time(q, "t"), 0);
    ck_assert(params_num(q, "x") == 0.0);
    ck_assert_str_eq(params_enum(q, "e"), "first");
    params_free(q);
}
END_TEST

START_TEST(test_decl_finds_declared_parameters_only)
{
    const struct model_param *d = params_decl(p, "heartbeat");
    ck_assert_ptr_nonnull(d);
    ck_assert_int_eq(d->type, PARAM_TIME);
    ck_assert_ptr_null(params_decl(p, "heartbeats"));
    ck_assert_ptr_null(params_decl(p, ""));
}
END_TEST

START_TEST(test_names_are_listed_in_declaration_order)
{
    char out[256];
    params_names(lf_params, out, sizeof out);
    ck_assert_str_eq(out, "replication, reads, epochs, heartbeat, n, p");
    char small[12];
    params_names(lf_params, small, sizeof small);
    ck_assert_uint_lt(strlen(small), sizeof small);   /* cut short, terminated */
    static const struct model_param none[] = { { NULL, PARAM_INT, NULL, NULL, NULL } };
    params_names(none, out, sizeof out);
    ck_assert_str_eq(out, "");
}
END_TEST

/* ---- setting from text -------------------------------------------------- */

START_TEST(test_unknown_parameter_names_the_declared_ones)
{
    static const struct model_param three[] = {
        { "replication", PARAM_ENUM, "async", "async|sync|semisync", NULL },
        { "reads", PARAM_ENUM, "leader", "leader|any", NULL },
        { "epochs", PARAM_BOOL, "false", NULL, NULL },
        { NULL, PARAM_INT, NULL, NULL, NULL },
    };
    params *q = params_new("leader_follower", three, err, sizeof err);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(params_set_text(q, "foo", "1", err, sizeof err), -1);
    ck_assert_str_eq(err, "unknown parameter \"foo\" for model \"leader_follower\" "
                          "(parameters: replication, reads, epochs)");
    ck_assert_int_eq(params_set_int(q, "foo", 1, err, sizeof err), -1);
    ck_assert_int_eq(params_set_bool(q, "foo", true, err, sizeof err), -1);
    ck_assert_int_eq(params_set_num(q, "foo", 1.0, err, sizeof err), -1);
    ck_assert_int_eq(params_set_string(q, "foo", "x", err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "unknown parameter \"foo\""));
    params_free(q);
}
END_TEST

START_TEST(test_unknown_parameter_of_model_without_parameters)
{
    params *q = params_new("pingpong", NULL, err, sizeof err);
    ck_assert_ptr_nonnull(q);
    ck_assert_int_eq(params_set_text(q, "x", "1", err, sizeof err), -1);
    ck_assert_str_eq(err, "unknown parameter \"x\" for model \"pingpong\" (it has no parameters)");
    jw w;
    jw_init(&w);
    jw_obj(&w);
    params_write(q, &w);
    jw_obj_end(&w);
    ck_assert_str_eq(w.buf, "{}");
    jw_free(&w);
    params_free(q);
}
END_TEST

START_TEST(test_enum_accepts_only_declared_choices)
{
    ck_assert_int_eq(params_set_text(p, "replication", "semisync", err, sizeof err), 0);
    ck_assert_str_eq(params_enum(p, "replication"), "semisync");
    ck_assert(params_is(p, "replication", "semisync"));
    ck_assert(!params_is(p, "replication", "sync"));
    ck_assert_int_eq(params_set_text(p, "replication", "fast", err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"replication\" must be one of async|sync|semisync, got \"fast\"");
    ck_assert_str_eq(params_enum(p, "replication"), "semisync");   /* unchanged */
    /* a prefix or a different case is not a choice */
    ck_assert_int_eq(params_set_text(p, "replication", "sync|", err, sizeof err), -1);
    ck_assert_int_eq(params_set_text(p, "replication", "Sync", err, sizeof err), -1);
    ck_assert_int_eq(params_set_text(p, "replication", "syn", err, sizeof err), -1);
    ck_assert_int_eq(params_set_text(p, "replication", "", err, sizeof err), -1);
}
END_TEST

START_TEST(test_time_text_is_parsed_with_units)
{
    ck_assert_int_eq(params_set_text(p, "heartbeat", "2s", err, sizeof err), 0);
    ck_assert_int_eq(params_time(p, "heartbeat"), 2000000000);
    ck_assert_int_eq(params_set_text(p, "heartbeat", "abc", err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"heartbeat\" must be a time such as 50ms, got \"abc\"");
    ck_assert_int_eq(params_time(p, "heartbeat"), 2000000000);   /* unchanged */
}
END_TEST

START_TEST(test_int_text_rejects_garbage_and_overflow)
{
    ck_assert_int_eq(params_set_text(p, "n", "-7", err, sizeof err), 0);
    ck_assert_int_eq(params_int(p, "n"), -7);
    ck_assert_int_eq(params_set_text(p, "n", "9223372036854775807", err, sizeof err), 0);
    ck_assert_int_eq(params_int(p, "n"), INT64_MAX);
    ck_assert_int_eq(params_set_text(p, "n", "-9223372036854775808", err, sizeof err), 0);
    ck_assert_int_eq(params_int(p, "n"), INT64_MIN);
    const char *bad[] = { "", "5x", " 5", "5 ", "+5", "0x10", "1.0", "9223372036854775808", "-" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(params_set_text(p, "n", bad[i], err, sizeof err) == -1, "accepted \"%s\"",
                      bad[i]);
    ck_assert_str_eq(err, "parameter \"n\" must be an integer, got \"-\"");
    ck_assert_int_eq(params_int(p, "n"), INT64_MIN);
}
END_TEST

START_TEST(test_bool_text_accepts_true_false_1_0)
{
    ck_assert_int_eq(params_set_text(p, "epochs", "false", err, sizeof err), 0);
    ck_assert(!params_bool(p, "epochs"));
    ck_assert_int_eq(params_set_text(p, "epochs", "1", err, sizeof err), 0);
    ck_assert(params_bool(p, "epochs"));
    ck_assert_int_eq(params_set_text(p, "epochs", "0", err, sizeof err), 0);
    ck_assert(!params_bool(p, "epochs"));
    ck_assert_int_eq(params_set_text(p, "epochs", "yes", err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"epochs\" must be true or false, got \"yes\"");
    ck_assert(!params_bool(p, "epochs"));
}
END_TEST

START_TEST(test_num_text_must_be_finite)
{
    ck_assert_int_eq(params_set_text(p, "p", "1e-3", err, sizeof err), 0);
    ck_assert(params_num(p, "p") == 1e-3);
    ck_assert_int_eq(params_set_text(p, "p", "-2.5", err, sizeof err), 0);
    ck_assert(params_num(p, "p") == -2.5);
    const char *bad[] = { "", "nan", "inf", "-inf", "1e999", "0.5x", " 1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(params_set_text(p, "p", bad[i], err, sizeof err) == -1, "accepted \"%s\"",
                      bad[i]);
    ck_assert_str_eq(err, "parameter \"p\" must be a number, got \" 1\"");
    ck_assert(params_num(p, "p") == -2.5);
}
END_TEST

/* ---- typed setters ------------------------------------------------------ */

START_TEST(test_set_int_on_time_is_nanoseconds)
{
    ck_assert_int_eq(params_set_int(p, "heartbeat", 1234, err, sizeof err), 0);
    ck_assert_int_eq(params_time(p, "heartbeat"), 1234);
    ck_assert_int_eq(params_set_int(p, "heartbeat", -1, err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"heartbeat\" must not be negative, got -1");
    ck_assert_int_eq(params_time(p, "heartbeat"), 1234);
}
END_TEST

START_TEST(test_set_int_on_num_is_accepted)
{
    ck_assert_int_eq(params_set_int(p, "p", 4, err, sizeof err), 0);
    ck_assert(params_num(p, "p") == 4.0);
}
END_TEST

START_TEST(test_set_int_on_bool_or_enum_is_refused)
{
    ck_assert_int_eq(params_set_int(p, "epochs", 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"epochs\" must be true or false, got 1");
    ck_assert_int_eq(params_set_int(p, "replication", 2, err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"replication\" must be one of async|sync|semisync, got 2");
}
END_TEST

START_TEST(test_set_num_on_int_requires_whole_number)
{
    ck_assert_int_eq(params_set_num(p, "n", 5.0, err, sizeof err), 0);
    ck_assert_int_eq(params_int(p, "n"), 5);
    ck_assert_int_eq(params_set_num(p, "n", 5.5, err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"n\" must be an integer, got 5.5");
    ck_assert_int_eq(params_set_num(p, "n", 1e19, err, sizeof err), -1);
    ck_assert_int_eq(params_set_num(p, "n", 9223372036854775808.0, err, sizeof err), -1);
    ck_assert_int_eq(params_set_num(p, "n", NAN, err, sizeof err), -1);
    ck_assert_int_eq(params_set_num(p, "n", INFINITY, err, sizeof err), -1);
    ck_assert_int_eq(params_set_num(p, "n", -9223372036854775808.0, err, sizeof err), 0);
    ck_assert_int_eq(params_int(p, "n"), INT64_MIN);
}
END_TEST

START_TEST(test_set_num_on_time_requires_whole_nonnegative_ns)
{
    ck_assert_int_eq(params_set_num(p, "heartbeat", 1e9, err, sizeof err), 0);
    ck_assert_int_eq(params_time(p, "heartbeat"), 1000000000);
    ck_assert_int_eq(params_set_num(p, "heartbeat", 0.5, err, sizeof err), -1);
    ck_assert_int_eq(params_set_num(p, "heartbeat", -1e9, err, sizeof err), -1);
    ck_assert_int_eq(params_time(p, "heartbeat"), 1000000000);
}
END_TEST

START_TEST(test_set_num_on_num_must_be_finite)
{
    ck_assert_int_eq(params_set_num(p, "p", 0.125, err, sizeof err), 0);
    ck_assert(params_num(p, "p") == 0.125);
    ck_assert_int_eq(params_set_num(p, "p", NAN, err, sizeof err), -1);
    ck_assert_int_eq(params_set_num(p, "p", -INFINITY, err, sizeof err), -1);
    ck_assert(params_num(p, "p") == 0.125);
    ck_assert_int_eq(params_set_num(p, "epochs", 1.0, err, sizeof err), -1);
    ck_assert_int_eq(params_set_num(p, "reads", 1.0, err, sizeof err), -1);
}
END_TEST

START_TEST(test_set_bool_only_on_bool)
{
    ck_assert_int_eq(params_set_bool(p, "epochs", false, err, sizeof err), 0);
    ck_assert(!params_bool(p, "epochs"));
    ck_assert_int_eq(params_set_bool(p, "n", true, err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"n\" must be an integer, got true");
    ck_assert_int_eq(params_set_bool(p, "heartbeat", true, err, sizeof err), -1);
    ck_assert_int_eq(params_set_bool(p, "p", true, err, sizeof err), -1);
    ck_assert_int_eq(params_set_bool(p, "reads", true, err, sizeof err), -1);
}
END_TEST

START_TEST(test_set_string_sets_enums_and_times)
{
    ck_assert_int_eq(params_set_string(p, "reads", "any", err, sizeof err), 0);
    ck_assert(params_is(p, "reads", "any"));
    ck_assert_int_eq(params_set_string(p, "heartbeat", "1.5s", err, sizeof err), 0);
    ck_assert_int_eq(params_time(p, "heartbeat"), 1500000000);
    ck_assert_int_eq(params_set_string(p, "reads", "all", err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"reads\" must be one of leader|any, got \"all\"");
    ck_assert_int_eq(params_set_string(p, "n", "5", err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"n\" must be an integer, got the string \"5\"");
    ck_assert_int_eq(params_set_string(p, "epochs", "true", err, sizeof err), -1);
    ck_assert_int_eq(params_set_string(p, "p", "0.5", err, sizeof err), -1);
}
END_TEST

START_TEST(test_errors_fit_a_short_buffer)
{
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    ck_assert_int_eq(params_set_text(p, "nope", "1", tiny, sizeof tiny), -1);
    ck_assert_uint_eq(strlen(tiny), sizeof tiny - 1);
    ck_assert_int_eq(params_set_text(p, "nope", "1", NULL, 0), -1);
}
END_TEST

/* ---- time parsing ------------------------------------------------------- */

START_TEST(test_parse_time_accepts_units_and_fractions)
{
    static const struct { const char *text; sim_time ns; } ok[] = {
        { "250ms", 250000000 }, { "2s", 2000000000 }, { "1.5s", 1500000000 },
        { "10us", 10000 }, { "42ns", 42 }, { "42", 42 }, { "0", 0 }, { "0s", 0 },
        { "1.000000001s", 1000000001 }, { "1.50ms", 1500000 }, { "2.0", 2 },
        { "007ms", 7000000 }, { "9223372036854775807", INT64_MAX },
        { "9223372036.854775807s", INT64_MAX }, { "1.2345678900000000000000s", 1234567890 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        sim_time t = -1;
        ck_assert_msg(params_parse_time(ok[i].text, &t) == 0, "refused \"%s\"", ok[i].text);
        ck_assert_msg(t == ok[i].ns, "\"%s\" gave %lld", ok[i].text, (long long)t);
    }
}
END_TEST

START_TEST(test_parse_time_rejects_negative_garbage_and_overflow)
{
    static const char *bad[] = {
        "", "-1", "-5ms", "abc", "ms", "5 ms", " 5ms", "5ms ", "5m", "5sec", "5MS", "1.5",
        "0.5ns", "1.0000000001s", "1.s", ".5s", "1e3", "+5", "5ms5", "9223372036854775808",
        "9223372036.854775808s", "9223372037s", "99999999999999999999999", "10000000000000000000s",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sim_time t = 77;
        ck_assert_msg(params_parse_time(bad[i], &t) == -1, "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(t, 77);
    }
}
END_TEST

/* ---- output ------------------------------------------------------------- */

START_TEST(test_write_lists_typed_values_in_declaration_order)
{
    ck_assert_int_eq(params_set_text(p, "replication", "sync", err, sizeof err), 0);
    ck_assert_int_eq(params_set_text(p, "n", "-9223372036854775808", err, sizeof err), 0);
    jw w;
    jw_init(&w);
    jw_obj(&w);
    params_write(p, &w);
    jw_obj_end(&w);
    ck_assert_str_eq(w.buf, "{\"replication\":\"sync\",\"reads\":\"leader\",\"epochs\":true,"
                            "\"heartbeat\":50000000,\"n\":-9223372036854775808,\"p\":0.25}");
    cJSON *j = cJSON_Parse(w.buf);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "replication")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "epochs")));
    ck_assert(cJSON_GetObjectItemCaseSensitive(j, "heartbeat")->valuedouble == 5e7);
    cJSON_Delete(j);
    jw_free(&w);
}
END_TEST

START_TEST(test_function_parameters_come_only_from_a_scenario)
{
    static const struct model_param fdecl[] = {
        { "resolver", PARAM_FUNC, NULL, NULL, "a Lua function" },
        { "n", PARAM_INT, "3", NULL, "replicas" },
        { NULL, PARAM_INT, NULL, NULL, NULL },
    };
    params *q = params_new("m", fdecl, err, sizeof err);
    ck_assert_ptr_nonnull(q);
    ck_assert(!params_has_func(q, "resolver"));
    /* no text, number or string form */
    ck_assert_int_eq(params_set_text(q, "resolver", "max", err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"resolver\" must be a Lua function, given in the scenario's "
                          "cluster{params = ...}, got \"max\"");
    ck_assert_int_eq(params_set_int(q, "resolver", 1, err, sizeof err), -1);
    ck_assert_int_eq(params_set_string(q, "resolver", "x", err, sizeof err), -1);
    /* only a function parameter takes a function */
    ck_assert_int_eq(params_set_func(q, "n", err, sizeof err), -1);
    ck_assert_str_eq(err, "parameter \"n\" must be an integer, got a function");
    ck_assert_int_eq(params_set_func(q, "nope", err, sizeof err), -1);
    jw w;
    jw_init(&w);
    jw_obj(&w);
    params_write(q, &w);
    jw_obj_end(&w);
    ck_assert_str_eq(w.buf, "{\"resolver\":null,\"n\":3}");
    jw_free(&w);
    ck_assert_int_eq(params_set_func(q, "resolver", err, sizeof err), 0);
    ck_assert(params_has_func(q, "resolver"));
    jw_init(&w);
    jw_obj(&w);
    params_write(q, &w);
    jw_obj_end(&w);
    ck_assert_str_eq(w.buf, "{\"resolver\":\"<lua function>\",\"n\":3}");
    jw_free(&w);
    params_free(q);
}
END_TEST

START_TEST(test_write_inside_other_members_places_commas)
{
    jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kstr(&w, "model", "leader_follower");
    jw_key(&w, "params");
    jw_obj(&w);
    params_write(p, &w);
    jw_obj_end(&w);
    jw_kint(&w, "seed", 1);
    jw_obj_end(&w);
    cJSON *j = cJSON_Parse(w.buf);
    ck_assert_msg(j != NULL, "not JSON: %s", w.buf);
    cJSON *params_obj = cJSON_GetObjectItemCaseSensitive(j, "params");
    ck_assert_int_eq(cJSON_GetArraySize(params_obj), 6);
    ck_assert_str_eq(params_obj->child->string, "replication");
    cJSON_Delete(j);
    jw_free(&w);
}
END_TEST

/* ---- programmer errors ------------------------------------------------- */

START_TEST(test_reading_with_the_wrong_type_aborts)
{
    (void)params_int(p, "heartbeat");   /* a time, not an int */
}
END_TEST

START_TEST(test_reading_an_undeclared_parameter_aborts)
{
    (void)params_bool(p, "no_such_flag");
}
END_TEST

START_TEST(test_misspelt_choice_in_params_is_aborts)
{
    (void)params_is(p, "replication", "snyc");
}
END_TEST

static Suite *params_suite(void)
{
    Suite *s = suite_create("params");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults_are_parsed_from_text);
    tcase_add_test(tc, test_bad_default_is_reported);
    tcase_add_test(tc, test_duplicate_or_choiceless_declarations_are_refused);
    tcase_add_test(tc, test_missing_default_means_zero_or_first_choice);
    tcase_add_test(tc, test_decl_finds_declared_parameters_only);
    tcase_add_test(tc, test_names_are_listed_in_declaration_order);
    tcase_add_test(tc, test_unknown_parameter_names_the_declared_ones);
    tcase_add_test(tc, test_unknown_parameter_of_model_without_parameters);
    tcase_add_test(tc, test_enum_accepts_only_declared_choices);
    tcase_add_test(tc, test_time_text_is_parsed_with_units);
    tcase_add_test(tc, test_int_text_rejects_garbage_and_overflow);
    tcase_add_test(tc, test_bool_text_accepts_true_false_1_0);
    tcase_add_test(tc, test_num_text_must_be_finite);
    tcase_add_test(tc, test_set_int_on_time_is_nanoseconds);
    tcase_add_test(tc, test_set_int_on_num_is_accepted);
    tcase_add_test(tc, test_set_int_on_bool_or_enum_is_refused);
    tcase_add_test(tc, test_set_num_on_int_requires_whole_number);
    tcase_add_test(tc, test_set_num_on_time_requires_whole_nonnegative_ns);
    tcase_add_test(tc, test_set_num_on_num_must_be_finite);
    tcase_add_test(tc, test_set_bool_only_on_bool);
    tcase_add_test(tc, test_set_string_sets_enums_and_times);
    tcase_add_test(tc, test_errors_fit_a_short_buffer);
    tcase_add_test(tc, test_parse_time_accepts_units_and_fractions);
    tcase_add_test(tc, test_parse_time_rejects_negative_garbage_and_overflow);
    tcase_add_test(tc, test_write_lists_typed_values_in_declaration_order);
    tcase_add_test(tc, test_write_inside_other_members_places_commas);
    tcase_add_test(tc, test_function_parameters_come_only_from_a_scenario);
    suite_add_tcase(s, tc);

#ifndef NDEBUG
    /* these abort (assert) in a forked child; without fork they cannot run */
    const char *fork_env = getenv("CK_FORK");
    if (!fork_env || strcmp(fork_env, "no") != 0) {
        TCase *death = tcase_create("asserts");
        tcase_add_checked_fixture(death, setup, teardown);
        tcase_add_test_raise_signal(death, test_reading_with_the_wrong_type_aborts, SIGABRT);
        tcase_add_test_raise_signal(death, test_reading_an_undeclared_parameter_aborts, SIGABRT);
        tcase_add_test_raise_signal(death, test_misspelt_choice_in_params_is_aborts, SIGABRT);
        suite_add_tcase(s, death);
    }
#endif
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(params_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
