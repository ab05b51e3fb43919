/* Unit tests of the transactional checkers (read_committed, atomicity,
 * nonblocking, saga) on hand-built histories and trace notes: each anomaly
 * is found, explained, and absent when the history is clean. */
#include "checker.h"
#include "history.h"
#include "alloc.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL HIST_NIL

/* ---- building histories of transactions ---------------------------------- */

struct tb {
    hist *h;
    int64_t pos;
};

static void tb_init(struct tb *b)
{
    b->h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    ck_assert_ptr_nonnull(b->h);
    b->pos = 0;
}

/* A whole transaction by client c: spec like "w x 1, r y 2" (r with "-"
 * for nil), completed with type. */
static void txn(struct tb *b, int c, enum hist_type type, const char *spec)
{
    struct hist_micro m[16];
    size_t n = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ","); tok && n < 16; tok = strtok(NULL, ",")) {
        char f, key[32], val[32];
        ck_assert_int_eq(sscanf(tok, " %c %31s %31s", &f, key, val), 3);
        m[n].f = f == 'w' ? HIST_WRITE : HIST_READ;
        m[n].key = hist_intern(b->h, key, strlen(key));
        m[n].value = strcmp(val, "-") == 0 ? NIL : strtoll(val, NULL, 10);
        n++;
    }
    char name[8];
    snprintf(name, sizeof name, "c%d", c);
    struct hist_op op = { 0 };
    op.id = (int64_t)hist_count(b->h) + 1;
    op.process = hist_intern(b->h, name, strlen(name));
    op.key = m[0].key;
    op.f = HIST_TXN;
    op.type = (uint8_t)type;
    op.out = NIL;
    long off = hist_add_micro(b->h, m, n);
    ck_assert_int_ge(off, 0);
    op.micro_off = (uint32_t)off;
    op.micro_n = (uint32_t)n;
    op.invoke_pos = ++b->pos;
    op.invoke_t = b->pos * 1000000;
    op.complete_pos = ++b->pos;
    op.complete_t = b->pos * 1000000;
    ck_assert_int_ge(hist_add(b->h, &op), 0);
}

/* A register read by client c of key that returned value (for the saga). */
static void reg_read(struct tb *b, int c, const char *key, int64_t value)
{
    char name[8];
    snprintf(name, sizeof name, "c%d", c);
    struct hist_op op = { 0 };
    op.id = (int64_t)hist_count(b->h) + 1;
    op.process = hist_intern(b->h, name, strlen(name));
    op.key = hist_intern(b->h, key, strlen(key));
    op.f = HIST_READ;
    op.type = HIST_OK;
    op.out = value;
    op.invoke_pos = ++b->pos;
    op.invoke_t = b->pos * 1000000;
    op.complete_pos = ++b->pos;
    op.complete_t = b->pos * 1000000;
    ck_assert_int_ge(hist_add(b->h, &op), 0);
}

/* ---- building trace facts with notes -------------------------------------- */

static void facts_init(struct trace_facts *f)
{
    memset(f, 0, sizeof *f);
    f->n_nodes = f->n_names = 4;
    f->names = sim_xcalloc(4, sizeof *f->names);
    for (int i = 0; i < 4; i++) {
        char n[8];
        snprintf(n, sizeof n, "n%d", i + 1);
        f->names[i] = sim_xstrdup(n);
    }
    f->complete = true;
    f->end_time = 1000000000;
}

/* A note line as the trace has it, e.g. "{\"what\":\"decision\",...}". */
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

static struct check_result run_named(const char *name, const hist *h, const struct trace_facts *f)
{
    const struct checker *c = checker_find(name);
    ck_assert_ptr_nonnull(c);
    struct check_input in = { .h = h, .facts = f };
    struct check_result r;
    check_result_init(&r);
    ck_assert_int_eq(check_run(c, &in, &r), 0);
    return r;
}

static bool ev_has(const struct check_result *r, const char *what)
{
    size_t n = strlen(what);
    for (size_t i = 0; r->evidence.buf && i + n <= r->evidence.len; i++)
        if (memcmp(r->evidence.buf + i, what, n) == 0)
            return true;
    return false;
}

static bool says(const struct check_result *r, const char *what)
{
    return strstr(r->reason, what) != NULL;
}

/* ---- read_committed ------------------------------------------------------- */

START_TEST(test_serial_history_holds)
{
    struct tb b;
    tb_init(&b);
    txn(&b, 1, HIST_OK, "w x 1, w y 2");
    txn(&b, 2, HIST_OK, "r x 1, w y 3");
    txn(&b, 1, HIST_OK, "r y 3, r x 1");
    txn(&b, 2, HIST_FAIL, "w x 9");
    struct check_result r = run_named("read_committed", b.h, NULL);
    ck_assert_msg(r.verdict == CHECK_HOLDS, "%s", r.reason);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_aborted_read_is_g1a)
{
    struct tb b;
    tb_init(&b);
    txn(&b, 1, HIST_FAIL, "w x 1, w y 2");
    txn(&b, 2, HIST_OK, "r x 1");
    struct check_result r = run_named("read_committed", b.h, NULL);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "G1a") && says(&r, "op 1") && says(&r, "op 2") && says(&r, "aborted"), "%s", r.reason);
    ck_assert(ev_has(&r, "\"g1a\":1"));
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_intermediate_read_is_g1b)
{
    struct tb b;
    tb_init(&b);
    txn(&b, 1, HIST_OK, "w x 1, w x 2");
    txn(&b, 2, HIST_OK, "r x 1");
    struct check_result r = run_named("read_committed", b.h, NULL);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "G1b") && says(&r, "replaced with 2"), "%s", r.reason);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* Two transactions writing x and y, applied in opposite orders on the two
 * participants: a write cycle only the apply order shows. */
START_TEST(test_write_cycle_is_g0)
{
    struct tb b;
    tb_init(&b);
    txn(&b, 1, HIST_OK, "w n2/x 1, w n3/y 2");
    txn(&b, 2, HIST_OK, "w n2/x 3, w n3/y 4");
    struct trace_facts f;
    facts_init(&f);
    note(&f, 10, "n2", "{\"what\":\"decision\",\"txn\":1,\"outcome\":\"commit\",\"writes\":[[\"n2/x\",1]]}");
    note(&f, 11, "n2", "{\"what\":\"decision\",\"txn\":2,\"outcome\":\"commit\",\"writes\":[[\"n2/x\",3]]}");
    note(&f, 12, "n3", "{\"what\":\"decision\",\"txn\":2,\"outcome\":\"commit\",\"writes\":[[\"n3/y\",4]]}");
    note(&f, 13, "n3", "{\"what\":\"decision\",\"txn\":1,\"outcome\":\"commit\",\"writes\":[[\"n3/y\",2]]}");
    struct check_result r = run_named("read_committed", b.h, &f);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "G0") && says(&r, "overwrote"), "%s", r.reason);
    check_result_free(&r);
    /* the same transactions applied in one order everywhere: fine */
    trace_facts_free(&f);
    facts_init(&f);
    note(&f, 10, "n2", "{\"what\":\"decision\",\"txn\":1,\"outcome\":\"commit\",\"writes\":[[\"n2/x\",1]]}");
    note(&f, 11, "n3", "{\"what\":\"decision\",\"txn\":1,\"outcome\":\"commit\",\"writes\":[[\"n3/y\",2]]}");
    note(&f, 12, "n2", "{\"what\":\"decision\",\"txn\":2,\"outcome\":\"commit\",\"writes\":[[\"n2/x\",3]]}");
    note(&f, 13, "n3", "{\"what\":\"decision\",\"txn\":2,\"outcome\":\"commit\",\"writes\":[[\"n3/y\",4]]}");
    r = run_named("read_committed", b.h, &f);
    ck_assert_msg(r.verdict == CHECK_HOLDS, "%s", r.reason);
    check_result_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

/* Each reads what the other wrote: information flows in a circle. */
START_TEST(test_read_cycle_is_g1c)
{
    struct tb b;
    tb_init(&b);
    txn(&b, 1, HIST_OK, "w x 1, r y 2");
    txn(&b, 2, HIST_OK, "w y 2, r x 1");
    struct check_result r = run_named("read_committed", b.h, NULL);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "G1c") && says(&r, "read x = 1") && says(&r, "read y = 2"), "%s", r.reason);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_no_transactions_is_skipped)
{
    struct tb b;
    tb_init(&b);
    reg_read(&b, 1, "x", NIL);
    struct check_input in = { .h = b.h };
    struct check_result r;
    check_result_init(&r);
    ck_assert_int_eq(checker_find("read_committed")->run(&in, &r), 0);
    ck_assert_int_eq(r.verdict, CHECK_SKIPPED);   /* nothing to judge, said so */
    ck_assert_ptr_nonnull(strstr(r.reason, "no transactions"));
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* ---- atomicity and nonblocking --------------------------------------------- */

START_TEST(test_split_outcome_breaks_atomicity)
{
    struct tb b;
    tb_init(&b);
    txn(&b, 1, HIST_OK, "w n2/x 1, w n3/x 2");
    struct trace_facts f;
    facts_init(&f);
    note(&f, 10, "n1", "{\"what\":\"decision\",\"txn\":7,\"outcome\":\"commit\",\"role\":\"coordinator\"}");
    note(&f, 11, "n2", "{\"what\":\"decision\",\"txn\":7,\"outcome\":\"commit\",\"role\":\"participant\"}");
    note(&f, 12, "n3", "{\"what\":\"decision\",\"txn\":7,\"outcome\":\"abort\",\"role\":\"participant\"}");
    note(&f, 13, "n2", "{\"what\":\"decision\",\"txn\":8,\"outcome\":\"abort\",\"role\":\"participant\"}");
    struct check_result r = run_named("atomicity", b.h, &f);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "transaction 7 was committed on n1 (coordinator), n2 but aborted on n3"), "%s",
                  r.reason);
    check_result_free(&r);
    f.notes[2].what = "decision";
    cJSON_ReplaceItemInObject(f.notes[2].obj, "outcome", cJSON_CreateString("commit"));
    r = run_named("atomicity", b.h, &f);
    ck_assert_msg(r.verdict == CHECK_HOLDS && says(&r, "2 transactions"), "%s", r.reason);
    check_result_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_blocking_time_is_reported)
{
    struct tb b;
    tb_init(&b);
    txn(&b, 1, HIST_OK, "w n2/x 1");
    struct trace_facts f;
    facts_init(&f);
    note(&f, 10, "n1", "{\"what\":\"decision\",\"txn\":1,\"outcome\":\"commit\",\"role\":\"coordinator\"}");
    struct check_result r = run_named("nonblocking", b.h, &f);
    ck_assert_msg(r.verdict == CHECK_HOLDS, "%s", r.reason);
    check_result_free(&r);
    note(&f, 150000000, "n2", "{\"what\":\"blocked\",\"txn\":3,\"since\":100000000,\"holding\":true}");
    note(&f, 400000000, "n2", "{\"what\":\"unblocked\",\"txn\":3,\"duration\":300000000}");
    note(&f, 160000000, "n3", "{\"what\":\"blocked\",\"txn\":3,\"since\":110000000,\"holding\":true}");
    r = run_named("nonblocking", b.h, &f);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    /* n3 is still blocked at the end (1 s): 890 ms, the longest */
    ck_assert_msg(says(&r, "890.000 ms (n3 on transaction 3)") && says(&r, "1 still blocked") &&
                  says(&r, "1190.000 ms in all") && says(&r, "holding its locks"), "%s", r.reason);
    ck_assert(ev_has(&r, "\"holding\":true"));
    check_result_free(&r);
    note(&f, 170000000, "n4", "{\"what\":\"blocked\",\"txn\":4,\"since\":120000000,\"holding\":false}");
    r = run_named("nonblocking", b.h, &f);
    ck_assert_msg(says(&r, "released their locks"), "%s", r.reason);
    ck_assert(ev_has(&r, "\"holding\":false"));
    check_result_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

/* ---- saga ----------------------------------------------------------------- */

static void saga_step(struct trace_facts *f, int64_t t, int saga, int step, bool ok)
{
    char buf[200], node[16];
    snprintf(node, sizeof node, "n%d", step + 1);
    snprintf(buf, sizeof buf, "{\"what\":\"step\",\"saga\":%d,\"step\":%d,\"action\":\"book%d\",\"ok\":%s}", saga,
             step, step, ok ? "true" : "false");
    note(f, t, node, buf);
}

static void saga_comp(struct trace_facts *f, int64_t t, int saga, int step, int cancelled)
{
    char buf[200], node[16];
    snprintf(node, sizeof node, "n%d", step + 1);
    snprintf(buf, sizeof buf, "{\"what\":\"compensate\",\"saga\":%d,\"step\":%d,\"action\":\"cancel%d\",\"cancelled\":%d}",
             saga, step, step, cancelled);
    note(f, t, node, buf);
}

static void saga_end(struct trace_facts *f, int64_t t, int saga, const char *outcome)
{
    char buf[200];
    snprintf(buf, sizeof buf, "{\"what\":\"saga\",\"saga\":%d,\"outcome\":\"%s\"}", saga, outcome);
    note(f, t, "n1", buf);
}

START_TEST(test_saga_in_reverse_holds_and_reports_dirty_reads)
{
    struct tb b;
    tb_init(&b);
    reg_read(&b, 3, "n2", 5);   /* saw saga 5's booking, later compensated */
    struct trace_facts f;
    facts_init(&f);
    saga_step(&f, 1, 4, 1, true);
    saga_step(&f, 2, 4, 2, true);
    saga_step(&f, 3, 4, 3, true);
    saga_end(&f, 3, 4, "completed");
    saga_step(&f, 4, 5, 1, true);
    saga_step(&f, 5, 5, 2, true);
    saga_step(&f, 6, 5, 3, false);
    saga_comp(&f, 7, 5, 2, 1);
    saga_comp(&f, 8, 5, 1, 1);
    saga_end(&f, 9, 5, "compensated");
    struct check_result r = run_named("saga", b.h, &f);
    ck_assert_msg(r.verdict == CHECK_HOLDS && says(&r, "completed (1)") && says(&r, "in reverse order (1)") &&
                  says(&r, "1 read saw"), "%s", r.reason);
    ck_assert_ptr_nonnull(strstr(r.text, "observation: c3 read n2"));
    check_result_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_saga_forward_compensation_is_caught)
{
    struct tb b;
    tb_init(&b);
    reg_read(&b, 3, "n2", NIL);
    struct trace_facts f;
    facts_init(&f);
    saga_step(&f, 4, 5, 1, true);
    saga_step(&f, 5, 5, 2, true);
    saga_step(&f, 6, 5, 3, false);
    saga_comp(&f, 7, 5, 1, 1);
    saga_comp(&f, 8, 5, 2, 1);
    saga_end(&f, 9, 5, "compensated");
    struct check_result r = run_named("saga", b.h, &f);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "compensated step 1 before step 2"), "%s", r.reason);
    check_result_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_saga_double_booking_and_late_step_are_caught)
{
    struct tb b;
    tb_init(&b);
    reg_read(&b, 3, "n2", NIL);
    struct trace_facts f;
    facts_init(&f);
    saga_step(&f, 1, 4, 1, true);
    saga_step(&f, 2, 4, 1, true);   /* a duplicate booked again */
    saga_end(&f, 3, 4, "completed");
    struct check_result r = run_named("saga", b.h, &f);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "saga 4 completed but step 1 (book1) holds 2 live bookings"), "%s", r.reason);
    check_result_free(&r);
    trace_facts_free(&f);

    facts_init(&f);
    saga_step(&f, 1, 6, 1, true);
    saga_step(&f, 2, 6, 2, false);
    saga_comp(&f, 3, 6, 1, 1);
    saga_step(&f, 4, 6, 1, true);   /* a late do after the undo */
    saga_end(&f, 5, 6, "compensated");
    r = run_named("saga", b.h, &f);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(says(&r, "still holds 1 booking"), "%s", r.reason);
    check_result_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

static Suite *txn_check_suite(void)
{
    Suite *s = suite_create("txn_check");
    TCase *tc = tcase_create("read_committed");
    tcase_add_test(tc, test_serial_history_holds);
    tcase_add_test(tc, test_aborted_read_is_g1a);
    tcase_add_test(tc, test_intermediate_read_is_g1b);
    tcase_add_test(tc, test_write_cycle_is_g0);
    tcase_add_test(tc, test_read_cycle_is_g1c);
    tcase_add_test(tc, test_no_transactions_is_skipped);
    suite_add_tcase(s, tc);
    tc = tcase_create("atomic commit");
    tcase_add_test(tc, test_split_outcome_breaks_atomicity);
    tcase_add_test(tc, test_blocking_time_is_reported);
    suite_add_tcase(s, tc);
    tc = tcase_create("saga");
    tcase_add_test(tc, test_saga_in_reverse_holds_and_reports_dirty_reads);
    tcase_add_test(tc, test_saga_forward_compensation_is_caught);
    tcase_add_test(tc, test_saga_double_booking_and_late_step_are_caught);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(txn_check_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
