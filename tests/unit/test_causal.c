/* Unit tests for the causal consistency checker (sim/check/causal.c).
 *
 * Hand-written histories for each bad pattern (CyclicCO, ThinAirRead,
 * WriteCOInitRead, WriteCORead) and for what must not be flagged (writes
 * that are concurrent, info writes, a history that is causal but not
 * linearizable); a differential test against a reference that computes
 * happens-before by brute force (transitive closure) on small random
 * histories; and properties: a correct register's histories are causal,
 * and 50,000 operations take well under a second. */
#include "check/checker.h"
#include "check/histgen.h"
#include "check/history.h"
#include "check/linearizable.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NIL HIST_NIL
#define NEVER HIST_NEVER

extern const struct checker causal_checker;

/* ==== building histories by hand ========================================== */

#include "hist_builder.h"

static enum check_verdict run(hist *h, struct check_result *r)
{
    struct check_input in = { .h = h };
    check_result_init(r);
    ck_assert_int_eq(causal_checker.run(&in, r), 0);
    ck_assert(r->reason[0] != '\0');
    return r->verdict;
}

static enum check_verdict verdict(hist *h)
{
    struct check_result r;
    enum check_verdict v = run(h, &r);
    check_result_free(&r);
    return v;
}

/* The evidence: pattern name, and the chain's op ids (n of them). */
static void assert_chain(const struct check_result *r, const char *pattern, const int64_t *ids, int n)
{
    cJSON *o = cJSON_ParseWithLength(r->evidence.buf, r->evidence.len);
    ck_assert_msg(o != NULL, "evidence is not JSON: %.*s", (int)r->evidence.len, r->evidence.buf);
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pattern");
    ck_assert(cJSON_IsString(p));
    ck_assert_str_eq(p->valuestring, pattern);
    const cJSON *chain = cJSON_GetObjectItemCaseSensitive(o, "chain");
    ck_assert(cJSON_IsArray(chain));
    ck_assert_msg(cJSON_GetArraySize(chain) == n, "chain of %d, expected %d: %.*s",
                  cJSON_GetArraySize(chain), n, (int)r->evidence.len, r->evidence.buf);
    for (int i = 0; i < n; i++) {
        const cJSON *op = cJSON_GetArrayItem(chain, i);
        ck_assert_int_eq((int64_t)cJSON_GetObjectItemCaseSensitive(op, "op")->valuedouble, ids[i]);
    }
    cJSON_Delete(o);
}

/* ==== the bad patterns ======================================================= */

/* The textbook case: c1 writes x=1; c2 reads it and writes y=2; c3 reads
 * y=2 and then x=nil. x=1 happens before c3's read, which misses it. */
START_TEST(test_read_missing_a_causally_earlier_write_is_a_violation)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);     /* op 1 */
    read_ok(&b, 2, "x", 1);      /* op 2 */
    write_ok(&b, 2, "y", 2);     /* op 3 */
    read_ok(&b, 3, "y", 2);      /* op 4 */
    read_ok(&b, 3, "x", NIL);    /* op 5 */
    struct check_result r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "c3 read x=nil at 10.0 ms, but c1 write x=1 happened before that "
                                   "read (c1 write x=1 -> c2 read x=1 -> c2 write y=2 -> c3 read y=2 "
                                   "-> c3 read x=nil)") != NULL, "%s", r.reason);
    int64_t ids[] = { 1, 2, 3, 4, 5 };
    assert_chain(&r, "WriteCOInitRead", ids, 5);
    ck_assert_ptr_nonnull(r.text);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* c1 writes x=1 then x=2; c2 reads 2 then 1: 1 -> 2 -> c2's second read. */
START_TEST(test_read_of_an_overwritten_value_is_write_co_read)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    write_ok(&b, 1, "x", 2);
    read_ok(&b, 2, "x", 2);
    read_ok(&b, 2, "x", 1);
    struct check_result r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    int64_t ids[] = { 1, 2, 3, 4 };
    assert_chain(&r, "WriteCORead", ids, 4);
    ck_assert_msg(strstr(r.reason, "a causally newer write had replaced") != NULL, "%s", r.reason);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* A long session step is shown as one: c1's ops between its first write
 * and the one c2 reads are left out of the chain. */
START_TEST(test_chain_leaves_out_the_middle_of_a_session)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);     /* op 1 */
    read_ok(&b, 1, "z", NIL);    /* op 2 */
    write_ok(&b, 1, "z", 5);     /* op 3 */
    write_ok(&b, 1, "y", 2);     /* op 4 */
    read_ok(&b, 2, "y", 2);      /* op 5 */
    read_ok(&b, 2, "z", 5);      /* op 6 */
    read_ok(&b, 2, "x", NIL);    /* op 7 */
    struct check_result r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    int64_t ids[] = { 1, 3, 6, 7 };
    assert_chain(&r, "WriteCOInitRead", ids, 4);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_read_from_own_future_is_a_cycle)
{
    struct tb b;
    tb_init(&b);
    read_ok(&b, 1, "x", 5);
    write_ok(&b, 1, "x", 5);
    struct check_result r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    int64_t ids[] = { 1, 2, 1 };
    assert_chain(&r, "CyclicCO", ids, 3);
    ck_assert_msg(strstr(r.reason, "happens-before has a cycle") != NULL, "%s", r.reason);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* c1 reads c2's y before c2 wrote it, and c2 reads c1's x the same way. */
START_TEST(test_cycle_across_clients_is_a_violation)
{
    struct tb b;
    tb_init(&b);
    read_ok(&b, 1, "x", 2);      /* op 1 */
    read_ok(&b, 2, "y", 1);      /* op 2 */
    write_ok(&b, 1, "y", 1);     /* op 3 */
    write_ok(&b, 2, "x", 2);     /* op 4 */
    struct check_result r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    int64_t ids[] = { 1, 3, 2, 4, 1 };
    assert_chain(&r, "CyclicCO", ids, 5);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_value_nobody_wrote_is_thin_air)
{
    struct tb b;
    tb_init(&b);
    inv(&b, 1, HIST_WRITE, "x", 7, NIL);
    done(&b, 1, HIST_FAIL, NIL);
    read_ok(&b, 2, "x", 7);
    struct check_result r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "c2 read x=7 at 4.0 ms, but no write of 7 to x took effect: the only "
                                   "write of it failed (c1 write x=7)") != NULL, "%s", r.reason);
    check_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* ==== what is allowed ======================================================== */

/* c1's write completed before c2's read began, but nothing links them
 * causally: causal holds where linearizable does not. */
START_TEST(test_stale_read_without_causal_link_is_causal_not_linearizable)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    read_ok(&b, 2, "x", NIL);
    ck_assert_int_eq(verdict(b.h), CHECK_HOLDS);
    struct lin_options o = { 0 };
    struct lin_result lr;
    ck_assert_int_eq(lin_check(b.h, &o, &lr), 0);
    ck_assert_int_eq(lr.verdict, LIN_VIOLATED);
    lin_result_free(&lr);
    hist_free(b.h);
}
END_TEST

/* Concurrent writes may be seen in different orders by different clients. */
START_TEST(test_concurrent_writes_seen_in_different_orders_are_causal)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    write_ok(&b, 2, "x", 2);
    read_ok(&b, 3, "x", 1);
    read_ok(&b, 3, "x", 2);
    read_ok(&b, 4, "x", 2);
    read_ok(&b, 4, "x", 1);
    read_ok(&b, 1, "x", 2);   /* c1 sees c2's write after its own */
    read_ok(&b, 2, "x", 1);   /* and c2 sees c1's: each replica ordered them differently */
    ck_assert_int_eq(verdict(b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

START_TEST(test_info_write_observed_by_reads_is_causal)
{
    struct tb b;
    tb_init(&b);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    done(&b, 1, HIST_INFO, NIL);
    read_ok(&b, 2, "x", NIL);
    read_ok(&b, 2, "x", 1);
    read_ok(&b, 3, "x", 1);
    ck_assert_int_eq(verdict(b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* An info write may land after its client's later operations: c2 seeing
 * c1's later y=6 and then x=nil is no violation, though x=5 did land. */
START_TEST(test_info_write_is_concurrent_with_its_clients_later_ops)
{
    struct tb b;
    tb_init(&b);
    inv(&b, 1, HIST_WRITE, "x", 5, NIL);
    done(&b, 1, HIST_INFO, NIL);
    write_ok(&b, 1, "y", 6);
    read_ok(&b, 2, "y", 6);
    read_ok(&b, 2, "x", NIL);
    read_ok(&b, 3, "x", 5);
    ck_assert_int_eq(verdict(b.h), CHECK_HOLDS);
    hist_free(b.h);
}
END_TEST

/* But what an info write's client did before it happens before it. */
START_TEST(test_info_write_follows_its_clients_earlier_ops)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    inv(&b, 1, HIST_WRITE, "y", 2, NIL);
    done(&b, 1, HIST_INFO, NIL);
    read_ok(&b, 2, "y", 2);
    read_ok(&b, 2, "x", NIL);
    ck_assert_int_eq(verdict(b.h), CHECK_VIOLATED);
    hist_free(b.h);
}
END_TEST

START_TEST(test_repeated_values_make_the_verdict_unknown)
{
    struct tb b;
    tb_init(&b);
    write_ok(&b, 1, "x", 1);
    write_ok(&b, 2, "x", 1);
    read_ok(&b, 3, "x", 1);
    ck_assert_int_eq(verdict(b.h), CHECK_UNKNOWN);
    hist_free(b.h);
}
END_TEST

START_TEST(test_key_value_history_is_skipped)
{
    hist *h = hist_new(HIST_KV, HIST_CLOCK_LINE);
    ck_assert_int_eq(verdict(h), CHECK_SKIPPED);
    hist_free(h);
}
END_TEST

START_TEST(test_causal_is_registered)
{
    ck_assert_ptr_eq(checker_find("causal"), &causal_checker);
    ck_assert(!causal_checker.needs_trace);
}
END_TEST

/* ==== a reference: happens-before by transitive closure ===================== */

#define RMAX 40

/* Violated (or unknown) from the definitions in causal.c's header, by brute
 * force: the graph as an adjacency matrix, closed by Floyd-Warshall. */
static enum check_verdict ref_verdict(const hist *h)
{
    size_t n = hist_count(h);
    ck_assert_uint_le(n, RMAX);
    static bool hb[RMAX][RMAX];
    bool in[RMAX], effective[RMAX] = { false };
    long src[RMAX];
    bool ambiguous = false;
    memset(hb, 0, sizeof hb);
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *o = hist_op(h, i);
        in[i] = o->type != HIST_FAIL && !(o->f == HIST_READ && o->type != HIST_OK);
        src[i] = -1;
        bool obs = o->type == HIST_OK && (o->f == HIST_READ || o->f == HIST_CAS);
        if (!obs)
            continue;
        int64_t v = o->f == HIST_CAS ? o->arg : o->out;
        if (v == NIL) {
            src[i] = -2;
            continue;
        }
        long found = -3;
        for (size_t w = 0; w < n; w++) {
            const struct hist_op *wo = hist_op(h, w);
            if ((wo->f == HIST_WRITE || wo->f == HIST_CAS) && wo->type != HIST_FAIL &&
                wo->key == o->key && (wo->f == HIST_CAS ? wo->arg2 : wo->arg) == v)
                found = found == -3 ? (long)w : -4;
        }
        src[i] = found;
        if (found == -3)
            return CHECK_VIOLATED;   /* ThinAirRead */
        if (found == -4)
            ambiguous = true;
        else
            effective[found] = true;
    }
    for (size_t a = 0; a < n; a++) {
        const struct hist_op *ao = hist_op(h, a);
        if (!in[a])
            continue;
        if (ao->type == HIST_OK && (ao->f == HIST_WRITE || ao->f == HIST_CAS))
            effective[a] = true;
        for (size_t b = a + 1; b < n; b++)
            if (in[b] && ao->type == HIST_OK && hist_op(h, b)->process == ao->process)
                hb[a][b] = true;   /* session order; an info op has no successors */
        for (size_t b = 0; b < n; b++)
            if (src[b] == (long)a)
                hb[a][b] = true;
    }
    for (size_t k = 0; k < n; k++)
        for (size_t a = 0; a < n; a++)
            if (hb[a][k])
                for (size_t b = 0; b < n; b++)
                    if (hb[k][b])
                        hb[a][b] = true;
    for (size_t a = 0; a < n; a++)
        if (hb[a][a])
            return CHECK_VIOLATED;   /* CyclicCO */
    for (size_t r = 0; r < n; r++) {
        if (src[r] == -1 || src[r] == -4)
            continue;
        const struct hist_op *ro = hist_op(h, r);
        for (size_t w = 0; w < n; w++) {
            const struct hist_op *wo = hist_op(h, w);
            if (!effective[w] || wo->key != ro->key || !(wo->f == HIST_WRITE || wo->f == HIST_CAS) ||
                (long)w == src[r] || !hb[w][r])
                continue;
            if (src[r] == -2 || hb[src[r]][w])
                return CHECK_VIOLATED;   /* WriteCOInitRead, WriteCORead */
        }
    }
    return ambiguous ? CHECK_UNKNOWN : CHECK_HOLDS;
}

/* Small random histories: overlapping clients, reads of values written
 * before or after, info and failed operations, cas, now and then a value
 * written twice or never. */
static hist *random_history(uint64_t seed)
{
    srand((unsigned)seed);
    struct tb b;
    tb_init(&b);
    int clients = 2 + rand() % 3, ops = 4 + rand() % 14, keys = 1 + rand() % 2;
    static const char *const key_names[] = { "x", "y" };
    int64_t next_value = 1;
    int started = 0;
    while (started < ops || b.open[1] >= 0 || b.open[2] >= 0 || b.open[3] >= 0 || b.open[4] >= 0) {
        int c = 1 + rand() % clients;
        if (b.open[c] >= 0) {
            const struct hist_op *op = hist_op(b.h, (size_t)b.open[c]);
            int t = rand() % 10;
            enum hist_type type = t < 7 ? HIST_OK : t < 9 ? HIST_INFO : HIST_FAIL;
            if (op->f == HIST_READ && type == HIST_OK)
                done(&b, c, HIST_OK, rand() % 4 == 0 ? NIL : 1 + rand() % (int)(ops + 1));
            else
                done(&b, c, type, NIL);
            continue;
        }
        if (started >= ops)
            continue;
        started++;
        const char *key = key_names[rand() % keys];
        int f = rand() % 10;
        int64_t v = rand() % 15 == 0 && next_value > 1 ? next_value - 1 : next_value++;
        if (f < 5)
            inv(&b, c, HIST_READ, key, NIL, NIL);
        else if (f < 9)
            inv(&b, c, HIST_WRITE, key, v, NIL);
        else
            inv(&b, c, HIST_CAS, key, rand() % 3 == 0 ? NIL : 1 + rand() % (int)next_value, v);
    }
    return b.h;
}

START_TEST(test_checker_agrees_with_reference_on_random_histories)
{
    int rounds = getenv("SIM_CAUSAL_ROUNDS") ? atoi(getenv("SIM_CAUSAL_ROUNDS")) : 20000;
    int seen[4] = { 0 };
    for (int i = 0; i < rounds; i++) {
        hist *h = random_history((uint64_t)i * 104729 + 3);
        enum check_verdict want = ref_verdict(h), got = verdict(h);
        ck_assert_msg(got == want, "seed %d: checker says %s, reference %s", i,
                      check_verdict_name(got), check_verdict_name(want));
        seen[got]++;
        hist_free(h);
    }
    ck_assert_msg(seen[CHECK_HOLDS] > rounds / 20 && seen[CHECK_VIOLATED] > rounds / 20,
                  "%d held, %d violated", seen[CHECK_HOLDS], seen[CHECK_VIOLATED]);
}
END_TEST

/* ==== properties ============================================================= */

START_TEST(test_linearizable_histories_are_causal)
{
    for (uint64_t seed = 1; seed <= 300; seed++) {
        struct histgen_options o = {
            .seed = seed,
            .ops = 20 + seed % 300,
            .clients = 1 + (int)(seed % 7),
            .keys = 1 + (int)(seed % 3),
            .info = (seed % 4) * 0.1,
            .cas_fail_constrains = seed % 2,
        };
        hist *h = histgen_register(&o);
        ck_assert_ptr_nonnull(h);
        struct check_result r;
        enum check_verdict v = run(h, &r);
        ck_assert_msg(v == CHECK_HOLDS, "seed %" PRIu64 ": %s: %s", seed, check_verdict_name(v), r.reason);
        check_result_free(&r);
        hist_free(h);
    }
}
END_TEST

START_TEST(test_fifty_thousand_operations_take_under_a_second)
{
    struct histgen_options o = { .seed = 7, .ops = 50000, .clients = 10, .keys = 3, .info = 0.05 };
    hist *h = histgen_register(&o);
    ck_assert_ptr_nonnull(h);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_int_eq(verdict(h), CHECK_HOLDS);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    /* generous: sanitizer builds are several times slower */
    ck_assert_msg(s < 5.0, "took %.3f s", s);
    hist_free(h);
}
END_TEST

static Suite *causal_suite(void)
{
    Suite *s = suite_create("causal");
    TCase *tc = tcase_create("patterns");
    tcase_add_test(tc, test_read_missing_a_causally_earlier_write_is_a_violation);
    tcase_add_test(tc, test_read_of_an_overwritten_value_is_write_co_read);
    tcase_add_test(tc, test_chain_leaves_out_the_middle_of_a_session);
    tcase_add_test(tc, test_read_from_own_future_is_a_cycle);
    tcase_add_test(tc, test_cycle_across_clients_is_a_violation);
    tcase_add_test(tc, test_value_nobody_wrote_is_thin_air);
    tcase_add_test(tc, test_stale_read_without_causal_link_is_causal_not_linearizable);
    tcase_add_test(tc, test_concurrent_writes_seen_in_different_orders_are_causal);
    tcase_add_test(tc, test_info_write_observed_by_reads_is_causal);
    tcase_add_test(tc, test_info_write_is_concurrent_with_its_clients_later_ops);
    tcase_add_test(tc, test_info_write_follows_its_clients_earlier_ops);
    tcase_add_test(tc, test_repeated_values_make_the_verdict_unknown);
    tcase_add_test(tc, test_key_value_history_is_skipped);
    tcase_add_test(tc, test_causal_is_registered);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("properties");
    tcase_set_timeout(tp, 120);
    tcase_add_test(tp, test_checker_agrees_with_reference_on_random_histories);
    tcase_add_test(tp, test_linearizable_histories_are_causal);
    tcase_add_test(tp, test_fifty_thousand_operations_take_under_a_second);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(causal_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
