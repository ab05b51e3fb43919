/* Unit tests of the CAP/PACELC checker on small hand-written traces. */
#include "checker.h"
#include "alloc.h"

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MS 1000000LL

/* ---- a tiny trace writer: nodes n1..n3, clients c1, c2 ---- */

static FILE *tf;
static char path[64];
static long msg_id;

/* Lines are collected with their time and written in time order at the end
 * (a trace is in execution order; these helpers write sends and deliveries
 * together). */
struct pending_line {
    long long t;
    long seq;
    char *text;
};
static struct pending_line *pend;
static size_t n_pend, cap_pend;

static void emit(long long t, const char *fmt, ...)
{
    va_list ap;
    char buf[512];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    SIM_GROW(pend, cap_pend, n_pend + 1);
    pend[n_pend] = (struct pending_line){ t, (long)n_pend, sim_xstrdup(buf) };
    n_pend++;
}

static int by_time(const void *a, const void *b)
{
    const struct pending_line *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void flush_lines(void)
{
    qsort(pend, n_pend, sizeof *pend, by_time);
    for (size_t i = 0; i < n_pend; i++) {
        fprintf(tf, "%s\n", pend[i].text);
        sim_free(pend[i].text);
    }
    n_pend = 0;
}

#define line(...) emit(-1, __VA_ARGS__)

static void begin(const char *cap_class)
{
    strcpy(path, "/tmp/test-cap-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    tf = fdopen(fd, "w");
    msg_id = 0;
    line("{\"ev\":\"header\",\"format\":1,\"sim_version\":\"t\",\"scenario\":\"t.lua\","
         "\"scenario_sha256\":\"x\",\"seed\":\"1\",\"params\":{},\"limits\":{}}");
    line("{\"t\":0,\"ev\":\"cluster\",\"model\":\"m\",\"nodes\":[\"n1\",\"n2\",\"n3\"],\"params\":{}%s%s%s}",
         cap_class ? ",\"cap_class\":\"" : "", cap_class ? cap_class : "", cap_class ? "\"" : "");
    line("{\"t\":0,\"ev\":\"workload\",\"clients\":[\"c1\",\"c2\"]}");
}

/* One message of 2 ms between two endpoints. */
static void message(long long t, const char *from, const char *to, const char *msg)
{
    long id = ++msg_id;
    emit(t, "{\"t\":%lld,\"ev\":\"send\",\"id\":%ld,\"from\":\"%s\",\"to\":\"%s\",\"msg\":%s}", t, id, from,
         to, msg);
    emit(t + 2 * MS, "{\"t\":%lld,\"ev\":\"deliver\",\"id\":%ld,\"from\":\"%s\",\"to\":\"%s\"}", t + 2 * MS,
         id, from, to);
}

/* A client operation sent to node, answered (ok or fail) after latency, or
 * timed out (info) when outcome is "info". value: written, or read. */
static void op(long id, const char *client, const char *node, const char *f, long long value,
               long long t, long long latency, const char *outcome)
{
    char req[160], rep[160];
    emit(t, "{\"t\":%lld,\"ev\":\"invoke\",\"client\":\"%s\",\"op\":%ld,\"f\":\"%s\",\"key\":\"x\",\"value\":%s}",
         t, client, id, f, strcmp(f, "read") == 0 ? "null" : (snprintf(req, sizeof req, "%lld", value), req));
    snprintf(req, sizeof req, "{\"type\":\"request\",\"op\":%ld,\"attempt\":1}", id);
    message(t, client, node, req);
    if (strcmp(outcome, "info") != 0) {
        snprintf(rep, sizeof rep, "{\"type\":\"reply\",\"op\":%ld,\"status\":\"%s\"}", id, outcome);
        message(t + latency - 2 * MS, node, client, rep);
    }
    emit(t + latency, "{\"t\":%lld,\"ev\":\"%s\",\"client\":\"%s\",\"op\":%ld,\"f\":\"%s\",\"key\":\"x\",\"value\":%lld}",
         t + latency, outcome, client, id, f, value);
}

static void node_traffic(long long t)
{
    message(t, "n1", "n2", "{\"type\":\"ping\"}");   /* node round trip 4 ms */
}

static struct check_result run_cap_on_trace(void)
{
    emit(10000 * MS, "{\"t\":%lld,\"ev\":\"end\",\"events\":1}", 10000 * MS);
    flush_lines();
    fclose(tf);
    char err[256];
    hist *h;
    struct trace_facts f;
    ck_assert_msg(hist_read_file(HIST_FORMAT_TRACE, path, &h, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(trace_facts_read(path, &f, err, sizeof err) == 0, "%s", err);
    const struct checker *c = checker_find("cap");
    ck_assert_ptr_nonnull(c);
    struct check_input in = { .h = h, .facts = &f };
    struct check_result r;
    check_result_init(&r);
    ck_assert_int_eq(c->run(&in, &r), 0);
    hist_free(h);
    trace_facts_free(&f);
    unlink(path);
    return r;
}

static void assert_label(struct check_result *r, const char *label)
{
    char want[32];
    snprintf(want, sizeof want, "\"label\":\"%s\"", label);
    ck_assert_msg(strstr(r->evidence.buf, want) != NULL, "wanted %s in %s (%s)", label,
                  r->evidence.buf, r->reason);
}

/* Normal operation: writes answered in one client round trip (4 ms). */
static void fast_writes(long first_id, long long t0, int count, long long latency)
{
    for (int i = 0; i < count; i++) {
        node_traffic(t0 + i * 10 * MS);
        op(first_id + i, "c1", "n1", "write", first_id + i, t0 + i * 10 * MS, latency, "ok");
    }
}

START_TEST(test_minority_refusing_writes_is_pc)
{
    begin("PC/EC");
    fast_writes(1, 0, 10, 9 * MS);   /* coordinated writes: 9 ms > 4 + 2 */
    emit(200 * MS, "{\"t\":%lld,\"ev\":\"partition\",\"groups\":[[\"n1\",\"n2\"],[\"n3\"]]}", 200 * MS);
    for (int i = 0; i < 5; i++)
        op(100 + i, "c2", "n3", "write", 100 + i, 210 * MS + i * 20 * MS, 10 * MS, "info");
    emit(400 * MS, "{\"t\":%lld,\"ev\":\"heal\"}", 400 * MS);
    struct check_result r = run_cap_on_trace();
    assert_label(&r, "PC/EC");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    ck_assert_ptr_nonnull(strstr(r.reason, "n3"));
    check_result_free(&r);
}
END_TEST

START_TEST(test_a_client_cut_off_from_its_node_counts_on_its_own_side)
{
    /* c2 is put with n3 on the minority side, yet keeps asking n1 on the
     * other: its requests cannot arrive. They are c2's side's failures, not
     * n1's; n1's side (c1) is served. */
    begin("PC/EC");
    fast_writes(1, 0, 10, 9 * MS);
    emit(200 * MS, "{\"t\":%lld,\"ev\":\"partition\",\"groups\":[[\"n1\",\"n2\",\"c1\"],[\"n3\",\"c2\"]]}",
         200 * MS);
    for (int i = 0; i < 5; i++) {
        op(100 + i, "c2", "n1", "write", 100 + i, 210 * MS + i * 20 * MS, 10 * MS, "info");
        op(200 + i, "c1", "n1", "write", 200 + i, 210 * MS + i * 20 * MS, 9 * MS, "ok");
    }
    emit(400 * MS, "{\"t\":%lld,\"ev\":\"heal\"}", 400 * MS);
    struct check_result r = run_cap_on_trace();
    assert_label(&r, "PC/EC");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    /* the side that served nothing is n3's, with c2's five operations */
    ck_assert_msg(strstr(r.reason, "side n3 served only 0%") != NULL, "%s", r.reason);
    ck_assert_msg(strstr(r.evidence.buf, "\"nodes\":\"n1,n2\",\"invoked\":5,\"ok\":5") != NULL, "%s",
                  r.evidence.buf);
    ck_assert_msg(strstr(r.evidence.buf, "\"nodes\":\"n3\",\"invoked\":5,\"ok\":0") != NULL, "%s",
                  r.evidence.buf);
    check_result_free(&r);
}
END_TEST

START_TEST(test_every_side_serving_is_pa_and_fast_writes_are_el)
{
    begin("PA/EL");
    fast_writes(1, 0, 10, 4 * MS);
    emit(200 * MS, "{\"t\":%lld,\"ev\":\"partition\",\"groups\":[[\"n1\"],[\"n2\",\"n3\"]]}", 200 * MS);
    for (int i = 0; i < 5; i++) {
        op(100 + i, "c1", "n1", "write", 100 + i, 210 * MS + i * 20 * MS, 4 * MS, "ok");
        op(200 + i, "c2", "n3", "write", 200 + i, 210 * MS + i * 20 * MS, 4 * MS, "ok");
    }
    emit(400 * MS, "{\"t\":%lld,\"ev\":\"heal\"}", 400 * MS);
    struct check_result r = run_cap_on_trace();
    assert_label(&r, "PA/EL");
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    check_result_free(&r);
}
END_TEST

START_TEST(test_stale_reads_outside_partitions_are_el)
{
    begin(NULL);
    fast_writes(1, 0, 5, 9 * MS);
    /* write 6 completes at 109 ms; a read at 120 ms still returns 1 */
    op(6, "c1", "n1", "write", 6, 100 * MS, 9 * MS, "ok");
    op(7, "c2", "n2", "read", 1, 120 * MS, 4 * MS, "ok");
    emit(200 * MS, "{\"t\":%lld,\"ev\":\"isolate\",\"node\":\"n3\"}", 200 * MS);
    for (int i = 0; i < 4; i++)
        op(100 + i, "c1", "n1", "write", 100 + i, 210 * MS + i * 20 * MS, 9 * MS, "ok");
    emit(400 * MS, "{\"t\":%lld,\"ev\":\"heal\"}", 400 * MS);
    struct check_result r = run_cap_on_trace();
    assert_label(&r, "PA/EL");
    ck_assert_ptr_nonnull(strstr(r.evidence.buf, "\"stale_reads\":1"));
    check_result_free(&r);
}
END_TEST

START_TEST(test_no_partition_leaves_p_unknown)
{
    begin("PA/EL");
    fast_writes(1, 0, 10, 4 * MS);
    struct check_result r = run_cap_on_trace();
    assert_label(&r, "P?/EL");
    ck_assert_int_eq(r.verdict, CHECK_UNKNOWN);
    check_result_free(&r);
}
END_TEST

START_TEST(test_declared_class_that_does_not_match_is_a_finding)
{
    begin("PC/EC");
    fast_writes(1, 0, 10, 4 * MS);
    emit(200 * MS, "{\"t\":%lld,\"ev\":\"partition\",\"groups\":[[\"n1\"],[\"n2\",\"n3\"]]}", 200 * MS);
    for (int i = 0; i < 5; i++)
        op(100 + i, "c2", "n3", "write", 100 + i, 210 * MS + i * 20 * MS, 4 * MS, "ok");
    emit(400 * MS, "{\"t\":%lld,\"ev\":\"heal\"}", 400 * MS);
    struct check_result r = run_cap_on_trace();
    assert_label(&r, "PA/EL");
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_ptr_nonnull(strstr(r.reason, "declares PC/EC"));
    check_result_free(&r);
}
END_TEST

START_TEST(test_redirected_operations_do_not_count_as_slow)
{
    begin(NULL);
    /* sent to n2, answered by n1 after 8 ms: a redirect, not coordination */
    for (int i = 0; i < 10; i++) {
        node_traffic(i * 10 * MS);
        long id = i + 1;
        char req[128], rep[128];
        long long t = i * 10 * MS;
        emit(t, "{\"t\":%lld,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":%ld,\"f\":\"write\",\"key\":\"x\",\"value\":%ld}",
             t, id, id);
        snprintf(req, sizeof req, "{\"type\":\"request\",\"op\":%ld,\"attempt\":%d}", id, 1);
        message(t, "c1", "n2", req);
        snprintf(req, sizeof req, "{\"type\":\"request\",\"op\":%ld,\"attempt\":%d}", id, 2);
        message(t + 4 * MS, "c1", "n1", req);
        snprintf(rep, sizeof rep, "{\"type\":\"reply\",\"op\":%ld,\"status\":\"ok\"}", id);
        message(t + 6 * MS, "n1", "c1", rep);
        emit(t + 8 * MS, "{\"t\":%lld,\"ev\":\"ok\",\"client\":\"c1\",\"op\":%ld,\"f\":\"write\",\"key\":\"x\",\"value\":%ld}",
             t + 8 * MS, id, id);
    }
    fast_writes(100, 200 * MS, 3, 4 * MS);
    struct check_result r = run_cap_on_trace();
    assert_label(&r, "P?/EL");
    ck_assert_ptr_nonnull(strstr(r.evidence.buf, "\"writes\":3"));
    check_result_free(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cap");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_minority_refusing_writes_is_pc);
    tcase_add_test(tc, test_a_client_cut_off_from_its_node_counts_on_its_own_side);
    tcase_add_test(tc, test_every_side_serving_is_pa_and_fast_writes_are_el);
    tcase_add_test(tc, test_stale_reads_outside_partitions_are_el);
    tcase_add_test(tc, test_no_partition_leaves_p_unknown);
    tcase_add_test(tc, test_declared_class_that_does_not_match_is_a_finding);
    tcase_add_test(tc, test_redirected_operations_do_not_count_as_slow);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
