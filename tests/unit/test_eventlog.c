/* Unit tests of the delivery and exactly_once checkers on hand-made event
 * logs: acknowledged produces (client writes) and the eventlog model's
 * "appended", "assigned" and "consumed" notes. Each property is shown
 * holding and broken: lost messages, duplicates (an observation for
 * delivery, a failure for exactly_once), one key processed out of produce
 * order, concurrent produces that may go either way, messages still in
 * flight at the end, a second group, and a trace without an event log. */
#include "checker.h"
#include "history.h"
#include "alloc.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000LL

struct fixture {
    struct trace_facts f;
    hist *h;
    int64_t pos;
};

static void fx_init(struct fixture *x)
{
    memset(x, 0, sizeof *x);
    struct trace_facts *f = &x->f;
    f->n_nodes = f->n_names = 6;
    f->names = sim_xcalloc(6, sizeof *f->names);
    for (int i = 0; i < 6; i++) {
        char n[8];
        snprintf(n, sizeof n, "n%d", i + 1);
        f->names[i] = sim_xstrdup(n);
    }
    f->complete = true;
    f->end_time = 2000 * MS;
    x->h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    ck_assert_ptr_nonnull(x->h);
}

static void fx_free(struct fixture *x)
{
    trace_facts_free(&x->f);
    hist_free(x->h);
}

static void note(struct fixture *x, int64_t t, const char *node, const char *json)
{
    struct trace_facts *f = &x->f;
    cJSON *o = cJSON_Parse(json);
    ck_assert_ptr_nonnull(o);
    f->notes = sim_xrealloc(f->notes, (f->n_notes + 1) * sizeof *f->notes);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "what");
    ck_assert(cJSON_IsString(w));
    f->notes[f->n_notes++] = (struct trace_note){ .t = t, .node = trace_facts_find(f, node),
                                                  .what = w->valuestring, .obj = o };
}

/* A produce of value with key by client, from invoked to acknowledged (ms);
 * ops must be added in invocation order. type HIST_OK = acknowledged. */
static void produce(struct fixture *x, const char *client, const char *key, int64_t value, int64_t invoked,
                    int64_t acked, enum hist_type type)
{
    struct hist_op op;
    memset(&op, 0, sizeof op);
    op.id = (int64_t)hist_count(x->h) + 1;
    op.process = hist_intern(x->h, client, strlen(client));
    op.key = hist_intern(x->h, key, strlen(key));
    op.f = HIST_WRITE;
    op.type = (uint8_t)type;
    op.arg = value;
    op.out = HIST_NIL;
    op.invoke_t = invoked * MS;
    op.complete_t = type == HIST_INFO ? HIST_NEVER : acked * MS;
    /* positions follow the times: 1000 per ms keeps them unique and ordered */
    op.invoke_pos = invoked * 1000 + (x->pos++ % 1000);
    op.complete_pos = type == HIST_INFO ? HIST_NEVER : acked * 1000 + 500;
    ck_assert_int_ge(hist_add(x->h, &op), 0);
}

static void appended(struct fixture *x, int64_t t, int partition, int offset, const char *key, int64_t value)
{
    char buf[200];
    snprintf(buf, sizeof buf, "{\"what\":\"appended\",\"partition\":%d,\"offset\":%d,\"key\":\"%s\",\"value\":%lld}",
             partition, offset, key, (long long)value);
    note(x, t * MS, partition == 0 ? "n1" : partition == 1 ? "n2" : "n3", buf);
}

static void assigned(struct fixture *x, int64_t t, const char *group)
{
    char buf[200];
    snprintf(buf, sizeof buf, "{\"what\":\"assigned\",\"group\":\"%s\",\"generation\":1,\"members\":[\"n4\"]}",
             group);
    note(x, t * MS, "n1", buf);
}

static void consumed(struct fixture *x, int64_t t, const char *node, const char *group, int partition, int offset,
                     const char *key, int64_t value)
{
    char buf[220];
    snprintf(buf, sizeof buf,
             "{\"what\":\"consumed\",\"group\":\"%s\",\"partition\":%d,\"offset\":%d,\"key\":\"%s\",\"value\":%lld,"
             "\"generation\":1}", group, partition, offset, key, (long long)value);
    note(x, t * MS, node, buf);
}

static struct check_result judge(struct fixture *x, const char *name)
{
    const struct checker *c = checker_find(name);
    ck_assert_ptr_nonnull(c);
    struct check_input in = { .h = x->h, .facts = &x->f };
    struct check_result r;
    check_result_init(&r);
    ck_assert_int_eq(check_run(c, &in, &r), 0);
    return r;
}

static bool says(const struct check_result *r, const char *what)
{
    return strstr(r->reason, what) != NULL;
}

static bool text_has(const struct check_result *r, const char *what)
{
    return r->text && strstr(r->text, what) != NULL;
}

/* Two keys in two partitions, each consumed once in order. */
static void clean_log(struct fixture *x)
{
    assigned(x, 20, "g1");
    produce(x, "c1", "k1", 1, 30, 33, HIST_OK);
    appended(x, 32, 0, 0, "k1", 1);
    produce(x, "c2", "k2", 2, 31, 34, HIST_OK);
    appended(x, 33, 1, 0, "k2", 2);
    produce(x, "c1", "k1", 3, 40, 43, HIST_OK);
    appended(x, 42, 0, 1, "k1", 3);
    consumed(x, 50, "n5", "g1", 1, 0, "k2", 2);   /* k2 before k1: different keys may interleave */
    consumed(x, 51, "n4", "g1", 0, 0, "k1", 1);
    consumed(x, 53, "n4", "g1", 0, 1, "k1", 3);
}

START_TEST(test_every_message_once_in_order_holds)
{
    struct fixture x;
    fx_init(&x);
    clean_log(&x);
    struct check_result r = judge(&x, "delivery");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    ck_assert_msg(says(&r, "group g1 processed every one of the 3 acknowledged messages"), "%s", r.reason);
    ck_assert_msg(!says(&r, "more than once"), "%s", r.reason);
    check_result_free(&r);
    r = judge(&x, "exactly_once");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    ck_assert_msg(says(&r, "exactly once"), "%s", r.reason);
    check_result_free(&r);
    fx_free(&x);
}
END_TEST

START_TEST(test_acknowledged_never_processed_is_lost)
{
    struct fixture x;
    fx_init(&x);
    clean_log(&x);
    produce(&x, "c2", "k2", 4, 60, 63, HIST_OK);
    appended(&x, 62, 1, 1, "k2", 4);
    struct check_result r = judge(&x, "delivery");
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "1 lost and 0 out-of-order message (group g1)"), "%s", r.reason);
    ck_assert_msg(says(&r, "c2's message 4 with key k2 (acknowledged at 63.000 ms, partition 1 offset 1) was never "
                           "processed by group g1"), "%s", r.reason);
    check_result_free(&r);
    r = judge(&x, "exactly_once");
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "1 lost and 0 duplicated"), "%s", r.reason);
    check_result_free(&r);
    fx_free(&x);
}
END_TEST

/* Acknowledged in the last 200 ms: maybe still on its way, not judged. An
 * indeterminate (info) produce is never owed. */
START_TEST(test_in_flight_and_indeterminate_are_not_lost)
{
    struct fixture x;
    fx_init(&x);
    clean_log(&x);
    produce(&x, "c2", "k2", 4, 1900, 1903, HIST_OK);
    produce(&x, "c3", "k1", 5, 1901, 0, HIST_INFO);
    struct check_result r = judge(&x, "delivery");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    ck_assert_msg(says(&r, "1 acknowledged in the last 200 ms not judged"), "%s", r.reason);
    check_result_free(&r);
    fx_free(&x);
}
END_TEST

START_TEST(test_duplicates_are_an_observation_for_delivery_a_failure_for_exactly_once)
{
    struct fixture x;
    fx_init(&x);
    clean_log(&x);
    consumed(&x, 120, "n6", "g1", 0, 1, "k1", 3);   /* the new owner processes offset 1 again */
    struct check_result r = judge(&x, "delivery");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    ck_assert_msg(says(&r, "1 message was processed more than once, which at-least-once delivery allows"), "%s",
                  r.reason);
    ck_assert_msg(text_has(&r, "observation: message 3 (partition 0 offset 1) was processed twice by group g1: by n4 "
                               "at 53.000 ms and again by n6 at 120.000 ms"), "%s", r.text);
    check_result_free(&r);
    r = judge(&x, "exactly_once");
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "0 lost and 1 duplicated message (group g1): message 3"), "%s", r.reason);
    check_result_free(&r);
    fx_free(&x);
}
END_TEST

/* k1's message 3 was acknowledged before message 5 was sent, yet the group
 * processed 5 first (round-robin put them in different partitions). */
START_TEST(test_one_key_processed_out_of_produce_order_is_violated)
{
    struct fixture x;
    fx_init(&x);
    assigned(&x, 20, "g1");
    produce(&x, "c1", "k1", 3, 40, 43, HIST_OK);
    appended(&x, 42, 0, 0, "k1", 3);
    produce(&x, "c2", "k1", 5, 45, 48, HIST_OK);
    appended(&x, 47, 1, 0, "k1", 5);
    consumed(&x, 50, "n5", "g1", 1, 0, "k1", 5);
    consumed(&x, 60, "n4", "g1", 0, 0, "k1", 3);
    struct check_result r = judge(&x, "delivery");
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "0 lost and 1 out-of-order message"), "%s", r.reason);
    ck_assert_msg(says(&r, "key k1: c1's message 3 (partition 0 offset 0) was acknowledged at 43.000 ms, before c2 "
                           "sent message 5 (partition 1 offset 0) at 45.000 ms, yet group g1 processed 5 first (n5 at "
                           "50.000 ms) and 3 only at 60.000 ms (n4)"), "%s", r.reason);
    check_result_free(&r);
    /* exactly_once does not judge order */
    r = judge(&x, "exactly_once");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    check_result_free(&r);
    fx_free(&x);
}
END_TEST

/* Produces that overlap in time have no order to keep. */
START_TEST(test_concurrent_produces_may_be_processed_either_way)
{
    struct fixture x;
    fx_init(&x);
    assigned(&x, 20, "g1");
    produce(&x, "c1", "k1", 3, 40, 48, HIST_OK);
    produce(&x, "c2", "k1", 5, 45, 47, HIST_OK);
    consumed(&x, 50, "n5", "g1", 1, 0, "k1", 5);
    consumed(&x, 60, "n4", "g1", 0, 0, "k1", 3);
    struct check_result r = judge(&x, "delivery");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    check_result_free(&r);
    fx_free(&x);
}
END_TEST

/* Every group is owed every message: g2 missing one is a loss. */
START_TEST(test_each_group_is_judged)
{
    struct fixture x;
    fx_init(&x);
    clean_log(&x);
    assigned(&x, 21, "g2");
    consumed(&x, 70, "n6", "g2", 0, 0, "k1", 1);
    consumed(&x, 71, "n6", "g2", 1, 0, "k2", 2);
    struct check_result r = judge(&x, "delivery");
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "(2 groups)") && says(&r, "message 3 with key k1") && says(&r, "by group g2"), "%s",
                  r.reason);
    check_result_free(&r);
    fx_free(&x);
}
END_TEST

START_TEST(test_no_event_log_is_skipped)
{
    struct fixture x;
    fx_init(&x);
    produce(&x, "c1", "k1", 1, 30, 33, HIST_OK);
    note(&x, 10, "n1", "{\"what\":\"granted\",\"worker\":\"n3\",\"token\":1}");
    struct check_result r = judge(&x, "delivery");
    ck_assert_int_eq(r.verdict, CHECK_SKIPPED);
    ck_assert_msg(strncmp(r.reason, "no event log", 12) == 0, "%s", r.reason);
    check_result_free(&r);
    r = judge(&x, "exactly_once");
    ck_assert_int_eq(r.verdict, CHECK_SKIPPED);
    check_result_free(&r);
    fx_free(&x);
}
END_TEST

static Suite *eventlog_suite(void)
{
    Suite *s = suite_create("eventlog");
    TCase *tc = tcase_create("delivery");
    tcase_add_test(tc, test_every_message_once_in_order_holds);
    tcase_add_test(tc, test_acknowledged_never_processed_is_lost);
    tcase_add_test(tc, test_in_flight_and_indeterminate_are_not_lost);
    tcase_add_test(tc, test_duplicates_are_an_observation_for_delivery_a_failure_for_exactly_once);
    tcase_add_test(tc, test_one_key_processed_out_of_produce_order_is_violated);
    tcase_add_test(tc, test_concurrent_produces_may_be_processed_either_way);
    tcase_add_test(tc, test_each_group_is_judged);
    tcase_add_test(tc, test_no_event_log_is_skipped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(eventlog_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
