/* Unit tests of the mutual_exclusion checker on hand-made lock notes: a
 * clean hand-over holds, a write from a worker whose lock had passed on is
 * caught and explained, a fenced (rejected) stale write holds, overlapping
 * beliefs are observations, and a trace without grants is skipped. */
#include "checker.h"
#include "history.h"
#include "alloc.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000LL

static void facts_init(struct trace_facts *f)
{
    memset(f, 0, sizeof *f);
    f->n_nodes = f->n_names = 5;
    f->names = sim_xcalloc(5, sizeof *f->names);
    for (int i = 0; i < 5; i++) {
        char n[8];
        snprintf(n, sizeof n, "n%d", i + 1);
        f->names[i] = sim_xstrdup(n);
    }
    f->complete = true;
    f->end_time = 1000 * MS;
}

static void note(struct trace_facts *f, int64_t t, const char *node, const char *json)
{
    cJSON *o = cJSON_Parse(json);
    ck_assert_ptr_nonnull(o);
    f->notes = sim_xrealloc(f->notes, (f->n_notes + 1) * sizeof *f->notes);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "what");
    ck_assert(cJSON_IsString(w));
    f->notes[f->n_notes++] = (struct trace_note){ .t = t, .node = trace_facts_find(f, node),
                                                  .what = w->valuestring, .obj = o };
}

static void grant(struct trace_facts *f, int64_t t, const char *worker, int token)
{
    char buf[160];
    snprintf(buf, sizeof buf, "{\"what\":\"granted\",\"worker\":\"%s\",\"token\":%d,\"ttl\":100000000}", worker,
             token);
    note(f, t, "n1", buf);
    snprintf(buf, sizeof buf, "{\"what\":\"acquired\",\"token\":%d}", token);
    note(f, t + 1 * MS, worker, buf);
}

static void stop(struct trace_facts *f, int64_t t, const char *worker, const char *what, int token)
{
    char buf[160];
    snprintf(buf, sizeof buf, "{\"what\":\"%s\",\"token\":%d}", what, token);
    note(f, t, worker, buf);
}

static void write_note(struct trace_facts *f, int64_t t, const char *worker, int token, bool accepted, int highest)
{
    char buf[200];
    snprintf(buf, sizeof buf,
             "{\"what\":\"storage_write\",\"worker\":\"%s\",\"token\":%d,\"value\":1,\"accepted\":%s,"
             "\"highest\":%d}", worker, token, accepted ? "true" : "false", highest);
    note(f, t, "n2", buf);
}

static struct check_result run_mutex(const struct trace_facts *f)
{
    const struct checker *c = checker_find("mutual_exclusion");
    ck_assert_ptr_nonnull(c);
    hist *h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    struct check_input in = { .h = h, .facts = f };
    struct check_result r;
    check_result_init(&r);
    ck_assert_int_eq(check_run(c, &in, &r), 0);
    hist_free(h);
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

START_TEST(test_clean_hand_over_holds)
{
    struct trace_facts f;
    facts_init(&f);
    grant(&f, 10 * MS, "n3", 1);
    write_note(&f, 42 * MS, "n3", 1, true, 1);
    stop(&f, 44 * MS, "n3", "released", 1);
    grant(&f, 46 * MS, "n4", 2);
    write_note(&f, 80 * MS, "n4", 2, true, 2);
    stop(&f, 82 * MS, "n4", "released", 2);
    struct check_result r = run_mutex(&f);
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    ck_assert_msg(says(&r, "2 grants, 2 writes, 0 rejected"), "%s", r.reason);
    ck_assert_msg(says(&r, "0 times two workers"), "%s", r.reason);
    check_result_free(&r);
    trace_facts_free(&f);
}
END_TEST

/* Scenario 50 by hand: n3 pauses past its TTL, n4 gets token 2 and writes,
 * n3 wakes up and writes with token 1. */
START_TEST(test_write_after_the_lock_passed_on_is_violated)
{
    struct trace_facts f;
    facts_init(&f);
    grant(&f, 1 * MS, "n3", 1);
    grant(&f, 105 * MS, "n4", 2);
    write_note(&f, 140 * MS, "n4", 2, true, 2);
    stop(&f, 142 * MS, "n4", "released", 2);
    stop(&f, 220 * MS, "n3", "lease_over", 1);
    write_note(&f, 222 * MS, "n3", 1, true, 2);
    struct check_result r = run_mutex(&f);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "n3 wrote with token 1 at 222.000 ms"), "%s", r.reason);
    ck_assert_msg(says(&r, "granted the lock to n4 with token 2 at 105.000 ms"), "%s", r.reason);
    ck_assert_msg(says(&r, "n4 had already written with token 2 at 140.000 ms"), "%s", r.reason);
    /* both believed from n4's acquire (106 ms) to n4's release (142 ms) */
    ck_assert_msg(text_has(&r, "from 106.000 to 142.000 ms"), "%s", r.text);
    check_result_free(&r);
    trace_facts_free(&f);
}
END_TEST

/* A late write that lands after the new grant but before the new holder's
 * write is still a violation: nobody rejected it. */
START_TEST(test_late_write_before_the_new_holders_write_is_violated)
{
    struct trace_facts f;
    facts_init(&f);
    grant(&f, 1 * MS, "n3", 1);
    grant(&f, 105 * MS, "n4", 2);
    write_note(&f, 110 * MS, "n3", 1, true, 1);
    write_note(&f, 140 * MS, "n4", 2, true, 2);
    struct check_result r = run_mutex(&f);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "1 write broke the lock"), "%s", r.reason);
    ck_assert_msg(!says(&r, "already written"), "%s", r.reason);
    check_result_free(&r);
    trace_facts_free(&f);
}
END_TEST

/* Scenario 52 by hand: the same, but the storage fences the stale write. */
START_TEST(test_fenced_stale_write_holds)
{
    struct trace_facts f;
    facts_init(&f);
    grant(&f, 1 * MS, "n3", 1);
    grant(&f, 105 * MS, "n4", 2);
    write_note(&f, 140 * MS, "n4", 2, true, 2);
    stop(&f, 142 * MS, "n4", "released", 2);
    stop(&f, 220 * MS, "n3", "lease_over", 1);
    write_note(&f, 222 * MS, "n3", 1, false, 2);
    struct check_result r = run_mutex(&f);
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    ck_assert_msg(says(&r, "1 rejected by fencing"), "%s", r.reason);
    ck_assert_msg(says(&r, "1 time two workers"), "%s", r.reason);
    ck_assert_msg(text_has(&r, "rejected n3's write with token 1"), "%s", r.text);
    check_result_free(&r);
    trace_facts_free(&f);
}
END_TEST

START_TEST(test_no_grants_is_skipped)
{
    struct trace_facts f;
    facts_init(&f);
    note(&f, 10, "n1", "{\"what\":\"decision\",\"txn\":1,\"outcome\":\"commit\"}");
    struct check_result r = run_mutex(&f);
    ck_assert_int_eq(r.verdict, CHECK_SKIPPED);
    ck_assert_msg(strncmp(r.reason, "no ", 3) == 0, "%s", r.reason);
    check_result_free(&r);
    trace_facts_free(&f);
}
END_TEST

static Suite *lock_suite(void)
{
    Suite *s = suite_create("lock");
    TCase *tc = tcase_create("mutual_exclusion");
    tcase_add_test(tc, test_clean_hand_over_holds);
    tcase_add_test(tc, test_write_after_the_lock_passed_on_is_violated);
    tcase_add_test(tc, test_late_write_before_the_new_holders_write_is_violated);
    tcase_add_test(tc, test_fenced_stale_write_holds);
    tcase_add_test(tc, test_no_grants_is_skipped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(lock_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
