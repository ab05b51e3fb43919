/* Unit tests for the session-guarantee checkers (sim/check/session.c):
 * read_your_writes, monotonic_reads, monotonic_writes, writes_follow_reads.
 *
 * Hand-written histories for each guarantee, held and broken (the textbook
 * cases: a stale replica, a client switching replicas, writes applied out of
 * order, a write overtaking what its writer had read), the cases that must
 * not be false alarms (concurrent writes, info writes, failed writes), a
 * differential test against a brute-force reference written from the
 * definitions in session.c's header, and a property: histories from a
 * correct register never break any of them. */
#include "check/checker.h"
#include "check/histgen.h"
#include "check/history.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL HIST_NIL
#define NEVER HIST_NEVER

extern const struct checker read_your_writes_checker, monotonic_reads_checker,
    monotonic_writes_checker, writes_follow_reads_checker;

/* ==== building histories by hand ========================================== */

#include "hist_builder.h"

static enum check_verdict run(const struct checker *c, hist *h, struct check_result *r)
{
    struct check_input in = { .h = h };
    check_result_init(r);
    ck_assert_int_eq(c->run(&in, r), 0);
    ck_assert(r->reason[0] != '\0');
    return r->verdict;
}

/* The verdict alone. */
static enum check_verdict verdict(const struct checker *c, hist *h)
{
    struct check_result r;
    enum check_verdict v = run(c, h, &r);
    check_result_free(&r);
    return v;
}

/* The evidence is one JSON object; its violation lists these op ids in order. */
static void assert_evidence_ops(const struct check_result *r, const int64_t *ids, int n)
{
    cJSON *o = cJSON_ParseWithLength(r->evidence.buf, r->evidence.len);
    ck_assert_msg(o != NULL, "evidence is not JSON: %.*s", (int)r->evidence.len, r->evidence.buf);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "violation");
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(v, "operations");
    ck_assert_msg(cJSON_IsArray(ops), "no operations in %.*s", (int)r->evidence.len, r->evidence.buf);
    ck_assert_int_eq(cJSON_GetArraySize(ops), n);
    for (int i = 0; i < n; i++) {
        const cJSON *op = cJSON_GetArrayItem(ops, i);
        ck_assert_int_eq((int64_t)cJSON_GetObjectItemCaseSensitive(op, "op")->valuedouble, ids[i]);
        ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(op, "role")));
        ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(op, "process")));
    }
    cJSON_Delete(o);
}

/* ==== read your writes ====================================================== */

START_TEST(test_reading_your_own_write_holds)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 5);
    read_ok(&b, 1, "x", 5);
    write_ok(&b, 2, "x", 6);   /* newer writes by others are fine too */
    read_ok(&b, 1, "x", 6);
    ck_assert_int_eq(verdict(&read_your_writes_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* The textbook case: c2's write went to the leader, its read to a replica
 * that still had c1's older value. */
START_TEST(test_stale_read_after_own_write_breaks_read_your_writes)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 3);    /* op 1, 1 ms to 2 ms */
    write_ok(&b, 2, "x", 5);    /* op 2, 3 ms to 4 ms */
    read_ok(&b, 2, "x", 3);     /* op 3, 5 ms to 6 ms */
    struct check_result r;
    ck_assert_int_eq(run(&read_your_writes_checker, b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "c2 wrote x=5 at 4.0 ms and then read x=3 at 6.0 ms") != NULL, "%s",
                  r.reason);
    ck_assert_msg(strstr(r.reason, "c1's write of x=3 had completed at 2.0 ms, before c2's write of "
                                   "x=5 began at 3.0 ms") != NULL, "%s", r.reason);
    ck_assert_msg(strstr(r.reason, "c2 did not see its own write") != NULL, "%s", r.reason);
    int64_t ids[] = { 2, 1, 3 };
    assert_evidence_ops(&r, ids, 3);
    ck_assert_ptr_nonnull(r.text);
    check_result_free(&r);
    /* it is the client's own guarantee: another client may read 3 */
    ck_assert_int_eq(verdict(&monotonic_reads_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

START_TEST(test_nil_after_own_write_breaks_read_your_writes)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 5);
    read_ok(&b, 1, "x", NIL);
    struct check_result r;
    ck_assert_int_eq(run(&read_your_writes_checker, b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "nil means never written") != NULL, "%s", r.reason);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* c1's write of 3 overlaps c2's write of 5: either may be the newer, so
 * reading 3 after one's own 5 is allowed. */
START_TEST(test_concurrent_write_read_after_own_write_holds)
{
    struct tb b;
    tb_init(&b);
    inv(&b, 1, HIST_WRITE, "x", 3, NIL);
    inv(&b, 2, HIST_WRITE, "x", 5, NIL);
    done(&b, 2, HIST_OK, NIL);
    done(&b, 1, HIST_OK, NIL);
    read_ok(&b, 2, "x", 3);
    ck_assert_int_eq(verdict(&read_your_writes_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* A write that timed out may never have happened: no obligation. */
START_TEST(test_info_or_failed_own_write_creates_no_obligation)
{
    struct tb b;
    tb_init(&b);
    write_info(&b, 1, "x", 5);
    read_ok(&b, 1, "x", NIL);
    inv(&b, 1, HIST_WRITE, "y", 6, NIL);
    done(&b, 1, HIST_FAIL, NIL);
    read_ok(&b, 1, "y", NIL);
    ck_assert_int_eq(verdict(&read_your_writes_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* A read that saw an info write shows it had taken effect by then: a write
 * begun after that read is newer, whoever made it. */
START_TEST(test_info_write_seen_by_a_read_is_ordered_by_that_read)
{
    struct tb b;
    tb_init(&b);
    write_info(&b, 1, "x", 3);   /* op 1: never answered */
    read_ok(&b, 3, "x", 3);      /* op 2: c3 sees it, so it took effect by 4 ms */
    write_ok(&b, 2, "x", 5);     /* op 3 */
    read_ok(&b, 2, "x", 3);      /* op 4: stale */
    struct check_result r;
    ck_assert_int_eq(run(&read_your_writes_checker, b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "had taken effect by 4.0 ms, when c3's read of it ended") != NULL,
                  "%s", r.reason);
    int64_t ids[] = { 3, 1, 2, 4 };
    assert_evidence_ops(&r, ids, 4);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_successful_cas_counts_as_write_and_read)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    inv(&b, 2, HIST_CAS, "x", 1, 2);   /* c2 saw 1 and wrote 2 */
    done(&b, 2, HIST_OK, NIL);
    read_ok(&b, 2, "x", 1);            /* its own cas is newer than 1 */
    ck_assert_int_eq(verdict(&read_your_writes_checker, b.h), CHECK_VIOLATED);
    hist_free(b.h);
}
END_TEST

/* ==== monotonic reads ======================================================= */

/* The textbook case: c2 reads from the leader, then from a lagging replica. */
START_TEST(test_switching_replicas_breaks_monotonic_reads)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);   /* op 1 */
    write_ok(&b, 1, "x", 2);   /* op 2 */
    read_ok(&b, 2, "x", 2);    /* op 3 */
    read_ok(&b, 2, "x", 1);    /* op 4 */
    struct check_result r;
    ck_assert_int_eq(run(&monotonic_reads_checker, b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "c2 read x=2 at 6.0 ms and then read x=1 at 8.0 ms") != NULL, "%s",
                  r.reason);
    ck_assert_msg(strstr(r.reason, "c2's reads went back in time") != NULL, "%s", r.reason);
    int64_t ids[] = { 2, 3, 1, 4 };
    assert_evidence_ops(&r, ids, 4);
    check_result_free(&r);
    /* c1's writes were in order: monotonic writes is not blamed */
    ck_assert_int_eq(verdict(&monotonic_writes_checker, b.h), CHECK_HOLDS);
    ck_assert_int_eq(verdict(&read_your_writes_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

START_TEST(test_nil_after_a_value_breaks_monotonic_reads)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    read_ok(&b, 2, "x", 1);
    read_ok(&b, 2, "x", NIL);
    ck_assert_int_eq(verdict(&monotonic_reads_checker, b.h), CHECK_VIOLATED);
    hist_free(b.h);
}
END_TEST

START_TEST(test_reads_that_only_move_forward_hold)
{
    struct tb b;
    tb_init(&b);
    read_ok(&b, 2, "x", NIL);
    write_ok(&b, 1, "x", 1);
    read_ok(&b, 2, "x", 1);
    read_ok(&b, 2, "x", 1);
    write_ok(&b, 1, "x", 2);
    read_ok(&b, 2, "x", 2);
    read_ok(&b, 2, "y", NIL);   /* another key: nothing read there yet */
    ck_assert_int_eq(verdict(&monotonic_reads_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* Two overlapping writes may take effect in either order, and replicas may
 * show them in either order: 2 then 1 is no proof of going back. */
START_TEST(test_concurrent_writes_read_in_any_order_hold)
{
    struct tb b;
    tb_init(&b);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    inv(&b, 3, HIST_WRITE, "x", 2, NIL);
    done(&b, 1, HIST_OK, NIL);
    done(&b, 3, HIST_OK, NIL);
    read_ok(&b, 2, "x", 2);
    read_ok(&b, 2, "x", 1);
    read_ok(&b, 4, "x", 1);
    read_ok(&b, 4, "x", 2);
    for (const struct checker *const *c = (const struct checker *const[]){
             &read_your_writes_checker, &monotonic_reads_checker, &monotonic_writes_checker,
             &writes_follow_reads_checker, NULL };
         *c; c++)
        ck_assert_int_eq(verdict(*c, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* An info write may take effect any time after its invocation: reads of it
 * before and after others' writes prove nothing by themselves. */
START_TEST(test_info_writes_observed_by_reads_hold)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    write_info(&b, 3, "x", 2);   /* may land any time from now on */
    read_ok(&b, 2, "x", 1);
    read_ok(&b, 2, "x", 2);
    read_ok(&b, 4, "x", 2);
    for (const struct checker *const *c = (const struct checker *const[]){
             &read_your_writes_checker, &monotonic_reads_checker, &monotonic_writes_checker,
             &writes_follow_reads_checker, NULL };
         *c; c++)
        ck_assert_int_eq(verdict(*c, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* ==== monotonic writes ====================================================== */

/* c1 writes x then y; c3 sees y and then not x. c3's reads never go back on
 * one key, so it is c1's writes that arrived out of order. */
START_TEST(test_second_write_seen_without_first_breaks_monotonic_writes)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);     /* op 1 */
    write_ok(&b, 1, "y", 2);     /* op 2 */
    read_ok(&b, 3, "y", 2);      /* op 3 */
    read_ok(&b, 3, "x", NIL);    /* op 4 */
    struct check_result r;
    ck_assert_int_eq(run(&monotonic_writes_checker, b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "c1 wrote x=1 and then y=2; c3 read y=2 at 6.0 ms and then read "
                                   "x=nil at 8.0 ms") != NULL, "%s", r.reason);
    ck_assert_msg(strstr(r.reason, "c3 saw c1's second write without its first") != NULL, "%s",
                  r.reason);
    int64_t ids[] = { 1, 2, 3, 4 };
    assert_evidence_ops(&r, ids, 4);
    check_result_free(&r);
    ck_assert_int_eq(verdict(&monotonic_reads_checker, b.h), CHECK_HOLDS);
    ck_assert_int_eq(verdict(&read_your_writes_checker, b.h), CHECK_HOLDS);
    ck_assert_int_eq(verdict(&writes_follow_reads_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* c1's first write timed out and landed after its second. An info write may
 * take effect at any time after its invocation (as for linearizability):
 * it is concurrent with c1's later write, so no order was promised. */
START_TEST(test_timed_out_write_landing_after_the_next_one_holds)
{
    struct tb b;
    tb_init(&b);
    write_info(&b, 1, "x", 1);
    write_ok(&b, 1, "x", 2);
    write_info(&b, 1, "z", 5);
    write_ok(&b, 1, "y", 6);
    read_ok(&b, 3, "x", 2);
    read_ok(&b, 3, "x", 1);
    read_ok(&b, 3, "y", 6);
    read_ok(&b, 3, "z", NIL);
    read_ok(&b, 4, "z", 5);
    for (const struct checker *const *c = (const struct checker *const[]){
             &read_your_writes_checker, &monotonic_reads_checker, &monotonic_writes_checker,
             &writes_follow_reads_checker, NULL };
         *c; c++)
        ck_assert_int_eq(verdict(*c, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

START_TEST(test_writes_seen_in_order_hold_monotonic_writes)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    write_ok(&b, 1, "y", 2);
    read_ok(&b, 3, "y", 2);
    read_ok(&b, 3, "x", 1);
    write_ok(&b, 2, "x", 3);
    read_ok(&b, 3, "x", 3);
    ck_assert_int_eq(verdict(&monotonic_writes_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* The observer went back in time on a key of its own: a lagging replica
 * explains its reads as well as misordered writes, so: unknown. */
START_TEST(test_observer_that_goes_back_makes_monotonic_writes_unknown)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    write_ok(&b, 1, "y", 2);
    write_ok(&b, 2, "z", 7);
    read_ok(&b, 3, "z", 7);
    read_ok(&b, 3, "z", NIL);    /* c3 goes back on z */
    read_ok(&b, 3, "y", 2);
    read_ok(&b, 3, "x", NIL);
    struct check_result r;
    ck_assert_int_eq(run(&monotonic_writes_checker, b.h, &r), CHECK_UNKNOWN);
    ck_assert_msg(strstr(r.reason, "a replica lagging behind may explain this") != NULL, "%s", r.reason);
    check_result_free(&r);
    ck_assert_int_eq(verdict(&monotonic_reads_checker, b.h), CHECK_VIOLATED);
    hist_free(b.h);
}
END_TEST

/* ==== writes follow reads =================================================== */

/* The causal textbook case, as a session guarantee: c2 wrote y after reading
 * x=1; c3 sees c2's y but not the x it followed. */
START_TEST(test_write_seen_without_what_its_writer_read_breaks_writes_follow_reads)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);     /* op 1 */
    read_ok(&b, 2, "x", 1);      /* op 2 */
    write_ok(&b, 2, "y", 2);     /* op 3 */
    read_ok(&b, 3, "y", 2);      /* op 4 */
    read_ok(&b, 3, "x", NIL);    /* op 5 */
    struct check_result r;
    ck_assert_int_eq(run(&writes_follow_reads_checker, b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "c2 read x=1 and then wrote y=2; c3 read y=2") != NULL, "%s",
                  r.reason);
    int64_t ids[] = { 1, 2, 3, 4, 5 };
    assert_evidence_ops(&r, ids, 5);
    check_result_free(&r);
    ck_assert_int_eq(verdict(&monotonic_writes_checker, b.h), CHECK_HOLDS);
    ck_assert_int_eq(verdict(&monotonic_reads_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

START_TEST(test_write_seen_with_what_its_writer_read_holds)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    read_ok(&b, 2, "x", 1);
    write_ok(&b, 2, "y", 2);
    read_ok(&b, 3, "y", 2);
    read_ok(&b, 3, "x", 1);
    read_ok(&b, 4, "x", NIL);   /* c4 never saw y: free to be behind */
    ck_assert_int_eq(verdict(&writes_follow_reads_checker, b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* ==== what does not apply ==================================================== */

START_TEST(test_key_value_history_is_skipped)
{
    hist *h = hist_new(HIST_KV, HIST_CLOCK_LINE);
    ck_assert_ptr_nonnull(h);
    struct check_result r;
    ck_assert_int_eq(run(&monotonic_reads_checker, h, &r), CHECK_SKIPPED);
    check_result_free(&r);
    hist_free(h);
}
END_TEST

START_TEST(test_repeated_values_make_the_verdict_unknown)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    write_ok(&b, 2, "x", 1);
    read_ok(&b, 3, "x", 1);
    struct check_result r;
    ck_assert_int_eq(run(&monotonic_reads_checker, b.h, &r), CHECK_UNKNOWN);
    ck_assert_msg(strstr(r.reason, "written more than once") != NULL, "%s", r.reason);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_empty_history_holds)
{
    hist *h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    for (const struct checker *const *c = (const struct checker *const[]){
             &read_your_writes_checker, &monotonic_reads_checker, &monotonic_writes_checker,
             &writes_follow_reads_checker, NULL };
         *c; c++)
        ck_assert_int_eq(verdict(*c, h), CHECK_HOLDS);
    hist_free(h);
}
END_TEST

START_TEST(test_checkers_are_registered)
{
    ck_assert_ptr_eq(checker_find("read_your_writes"), &read_your_writes_checker);
    ck_assert_ptr_eq(checker_find("monotonic_reads"), &monotonic_reads_checker);
    ck_assert_ptr_eq(checker_find("monotonic_writes"), &monotonic_writes_checker);
    ck_assert_ptr_eq(checker_find("writes_follow_reads"), &writes_follow_reads_checker);
    ck_assert(!read_your_writes_checker.needs_trace);
}
END_TEST

/* ==== a reference from the definitions ====================================== */

/* Everything below restates session.c's definitions as plainly as possible,
 * quadratic and without indexes, to catch mistakes in the indexes. */

enum { R_NOT = -1, R_INIT = -2, R_NONE = -3, R_AMBIG = -4 };

struct ref {
    const hist *h;
    size_t n;
    long src[64];
    int64_t known[64];
};

static bool ref_write(const struct hist_op *o)
{
    return (o->f == HIST_WRITE || o->f == HIST_CAS) && o->type != HIST_FAIL;
}

static int64_t ref_written(const struct hist_op *o)
{
    return o->f == HIST_CAS ? o->arg2 : o->arg;
}

static bool ref_obs(const struct hist_op *o)
{
    return o->type == HIST_OK && (o->f == HIST_READ || o->f == HIST_CAS);
}

static void ref_init(struct ref *g, const hist *h)
{
    g->h = h;
    g->n = hist_count(h);
    ck_assert_uint_le(g->n, 64);
    for (size_t i = 0; i < g->n; i++) {
        const struct hist_op *o = hist_op(h, i);
        g->known[i] = ref_write(o) && o->type == HIST_OK ? o->complete_pos : NEVER;
        g->src[i] = R_NOT;
        if (!ref_obs(o))
            continue;
        int64_t v = o->f == HIST_CAS ? o->arg : o->out;
        if (v == NIL) {
            g->src[i] = R_INIT;
            continue;
        }
        long found = R_NONE;
        for (size_t w = 0; w < g->n; w++) {
            const struct hist_op *wo = hist_op(h, w);
            if (ref_write(wo) && wo->key == o->key && ref_written(wo) == v)
                found = found == R_NONE ? (long)w : R_AMBIG;
        }
        g->src[i] = found;
    }
    for (size_t i = 0; i < g->n; i++) {
        const struct hist_op *o = hist_op(h, i);
        long s = g->src[i];
        if (s >= 0 && o->complete_pos > hist_op(h, (size_t)s)->invoke_pos &&
            o->complete_pos < g->known[s])
            g->known[s] = o->complete_pos;
    }
}

static bool ref_older(const struct ref *g, long s, long w)
{
    return s == R_INIT || g->known[s] < hist_op(g->h, (size_t)w)->invoke_pos;
}

static bool same_client(const struct ref *g, long a, long b)
{
    return hist_op(g->h, (size_t)a)->process == hist_op(g->h, (size_t)b)->process;
}

static bool same_key(const struct ref *g, long a, long b)
{
    return hist_op(g->h, (size_t)a)->key == hist_op(g->h, (size_t)b)->key;
}

/* RYW or MR breaks at observation r (its client's earlier ops only). */
static bool ref_local(const struct ref *g, long r, bool ryw, bool mr)
{
    long s = g->src[r];
    if (!(s >= 0 || s == R_INIT))
        return false;
    for (long e = 0; e < r; e++) {
        if (!same_client(g, e, r) || !same_key(g, e, r))
            continue;
        const struct hist_op *eo = hist_op(g->h, (size_t)e);
        if (ryw && ref_write(eo) && eo->type == HIST_OK && s != e && ref_older(g, s, e))
            return true;
        if (mr && g->src[e] >= 0 && s != g->src[e] && ref_older(g, s, g->src[e]))
            return true;
    }
    return false;
}

/* MW (mw) or WFR (!mw) shows at observation r, seen by r's client. */
static bool ref_observed(const struct ref *g, long r, bool mw)
{
    long s = g->src[r];
    if (!(s >= 0 || s == R_INIT) || ref_local(g, r, true, true))
        return false;
    for (long r2 = 0; r2 < r; r2++) {
        if (!same_client(g, r2, r) || g->src[r2] < 0)
            continue;
        long w2 = g->src[r2];
        for (long e = 0; e < w2; e++) {
            if (!same_client(g, e, w2) || !same_key(g, e, r))
                continue;
            long w1;
            if (mw) {
                const struct hist_op *eo = hist_op(g->h, (size_t)e);
                if (!ref_write(eo) || eo->type != HIST_OK)
                    continue;
                w1 = e;
            } else {
                if (g->src[e] < 0)
                    continue;
                w1 = g->src[e];
            }
            if (s != w1 && ref_older(g, s, w1))
                return true;
        }
    }
    return false;
}

/* The reference's verdict for one guarantee (0 RYW, 1 MR, 2 MW, 3 WFR). */
static enum check_verdict ref_verdict(const hist *h, int kind)
{
    struct ref g;
    ref_init(&g, h);
    bool violated = false, confounded = false, ambiguous = false;
    for (long r = 0; r < (long)g.n; r++) {
        ambiguous |= g.src[r] == R_AMBIG;
        if (kind <= 1) {
            violated |= ref_local(&g, r, kind == 0, kind == 1);
            continue;
        }
        if (!ref_observed(&g, r, kind == 2))
            continue;
        bool clean = true;
        for (long e = 0; e < (long)g.n; e++)
            if (same_client(&g, e, r) && ref_local(&g, e, true, true))
                clean = false;
        if (clean)
            violated = true;
        else
            confounded = true;
    }
    if (violated)
        return CHECK_VIOLATED;
    return confounded || ambiguous ? CHECK_UNKNOWN : CHECK_HOLDS;
}

/* A small random history, not from any correct store: clients overlap,
 * reads return any value (a written one mostly), some ops fail or time out,
 * now and then a value is written twice. */
static hist *random_history(uint64_t seed)
{
    srand((unsigned)seed);
    struct tb b;
    tb_init(&b);
    int clients = 2 + rand() % 3, ops = 4 + rand() % 13, keys = 1 + rand() % 2;
    int64_t next_value = 1;
    static const char *const key_names[] = { "x", "y" };
    int64_t values[2][32];   /* per key: the values of writes invoked so far */
    int n_values[2] = { 0, 0 };
    int started = 0;
    while (started < ops || b.open[1] >= 0 || b.open[2] >= 0 || b.open[3] >= 0 || b.open[4] >= 0) {
        int c = 1 + rand() % clients;
        if (b.open[c] >= 0) {
            const struct hist_op *op = hist_op(b.h, (size_t)b.open[c]);
            int t = rand() % 10;
            enum hist_type type = t < 7 ? HIST_OK : t < 9 ? HIST_INFO : HIST_FAIL;
            if (op->f == HIST_READ && type == HIST_OK) {
                int k = op->key == hist_intern(b.h, "x", 1) ? 0 : 1;
                int pick = rand() % 10;
                int64_t v = pick < 2 || n_values[k] == 0 ? NIL
                          : pick < 4 ? values[k][rand() % n_values[k]]
                          : pick < 9 ? values[k][n_values[k] - 1]
                                     : 1 + rand() % (int)(next_value + 1);
                done(&b, c, HIST_OK, v);
            } else
                done(&b, c, type, NIL);
            continue;
        }
        if (started >= ops)
            continue;
        started++;
        int k = rand() % keys;
        int f = rand() % 10;
        int64_t v = rand() % 12 == 0 && next_value > 1 ? next_value - 1 : next_value++;
        if (f < 5)
            inv(&b, c, HIST_READ, key_names[k], NIL, NIL);
        else {
            if (f < 9)
                inv(&b, c, HIST_WRITE, key_names[k], v, NIL);
            else
                inv(&b, c, HIST_CAS, key_names[k],
                    rand() % 3 == 0 || n_values[k] == 0 ? NIL : values[k][rand() % n_values[k]], v);
            values[k][n_values[k]++] = v;
        }
    }
    return b.h;
}

START_TEST(test_checkers_agree_with_reference_on_random_histories)
{
    const struct checker *cs[] = { &read_your_writes_checker, &monotonic_reads_checker,
                                   &monotonic_writes_checker, &writes_follow_reads_checker };
    int rounds = getenv("SIM_SESSION_ROUNDS") ? atoi(getenv("SIM_SESSION_ROUNDS")) : 10000;
    int seen[4][4] = { { 0 } };
    for (int i = 0; i < rounds; i++) {
        hist *h = random_history((uint64_t)i * 7919 + 1);
        for (int k = 0; k < 4; k++) {
            enum check_verdict want = ref_verdict(h, k), got = verdict(cs[k], h);
            ck_assert_msg(got == want, "seed %d, %s: checker says %s, reference %s", i, cs[k]->name,
                          check_verdict_name(got), check_verdict_name(want));
            seen[k][got]++;
        }
        hist_free(h);
    }
    /* the random histories must exercise every guarantee both ways */
    for (int k = 0; k < 4; k++)
        ck_assert_msg(seen[k][CHECK_VIOLATED] > 0 && seen[k][CHECK_HOLDS] > 0,
                      "%s: %d violated, %d held", cs[k]->name, seen[k][CHECK_VIOLATED],
                      seen[k][CHECK_HOLDS]);
}
END_TEST

/* ==== a correct register never breaks them ================================== */

START_TEST(test_linearizable_histories_break_no_session_guarantee)
{
    const struct checker *cs[] = { &read_your_writes_checker, &monotonic_reads_checker,
                                   &monotonic_writes_checker, &writes_follow_reads_checker };
    for (uint64_t seed = 1; seed <= 300; seed++) {
        struct histgen_options o = {
            .seed = seed,
            .ops = 20 + seed % 200,
            .clients = 1 + (int)(seed % 6),
            .keys = 1 + (int)(seed % 3),
            .info = (seed % 4) * 0.1,
            .cas_fail_constrains = seed % 2,
            .latency = 1000000,
        };
        hist *h = histgen_register(&o);
        ck_assert_ptr_nonnull(h);
        for (int k = 0; k < 4; k++) {
            struct check_result r;
            enum check_verdict v = run(cs[k], h, &r);
            ck_assert_msg(v == CHECK_HOLDS, "seed %" PRIu64 ": %s %s: %s", seed, cs[k]->name,
                          check_verdict_name(v), r.reason);
            check_result_free(&r);
        }
        hist_free(h);
    }
}
END_TEST

START_TEST(test_large_history_is_checked_quickly)
{
    struct histgen_options o = { .seed = 42, .ops = 50000, .clients = 10, .keys = 4, .info = 0.05 };
    hist *h = histgen_register(&o);
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(verdict(&monotonic_writes_checker, h), CHECK_HOLDS);
    hist_free(h);
}
END_TEST

static Suite *session_suite(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("textbook");
    tcase_add_test(tc, test_reading_your_own_write_holds);
    tcase_add_test(tc, test_stale_read_after_own_write_breaks_read_your_writes);
    tcase_add_test(tc, test_nil_after_own_write_breaks_read_your_writes);
    tcase_add_test(tc, test_concurrent_write_read_after_own_write_holds);
    tcase_add_test(tc, test_info_or_failed_own_write_creates_no_obligation);
    tcase_add_test(tc, test_info_write_seen_by_a_read_is_ordered_by_that_read);
    tcase_add_test(tc, test_successful_cas_counts_as_write_and_read);
    tcase_add_test(tc, test_switching_replicas_breaks_monotonic_reads);
    tcase_add_test(tc, test_nil_after_a_value_breaks_monotonic_reads);
    tcase_add_test(tc, test_reads_that_only_move_forward_hold);
    tcase_add_test(tc, test_concurrent_writes_read_in_any_order_hold);
    tcase_add_test(tc, test_info_writes_observed_by_reads_hold);
    tcase_add_test(tc, test_second_write_seen_without_first_breaks_monotonic_writes);
    tcase_add_test(tc, test_timed_out_write_landing_after_the_next_one_holds);
    tcase_add_test(tc, test_writes_seen_in_order_hold_monotonic_writes);
    tcase_add_test(tc, test_observer_that_goes_back_makes_monotonic_writes_unknown);
    tcase_add_test(tc, test_write_seen_without_what_its_writer_read_breaks_writes_follow_reads);
    tcase_add_test(tc, test_write_seen_with_what_its_writer_read_holds);
    tcase_add_test(tc, test_key_value_history_is_skipped);
    tcase_add_test(tc, test_repeated_values_make_the_verdict_unknown);
    tcase_add_test(tc, test_empty_history_holds);
    tcase_add_test(tc, test_checkers_are_registered);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("properties");
    tcase_set_timeout(tp, 120);
    tcase_add_test(tp, test_checkers_agree_with_reference_on_random_histories);
    tcase_add_test(tp, test_linearizable_histories_break_no_session_guarantee);
    tcase_add_test(tp, test_large_history_is_checked_quickly);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(session_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
