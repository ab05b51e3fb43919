/* Unit tests for the checkers that measure and compare rather than search:
 * staleness (sim/check/staleness.c), no_lost_writes (durability.c) and
 * converges (convergence.c). Histories are built by hand; the trace facts
 * (final states, faults, the end of the run) too, with cJSON states, as a
 * trace would give them. */
#include "check/checker.h"
#include "check/history.h"
#include "core/alloc.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL HIST_NIL
#define NEVER HIST_NEVER
#define MS INT64_C(1000000)

extern const struct checker staleness_checker;
extern const struct checker no_lost_writes_checker;
extern const struct checker converges_checker;

/* ==== histories: every call one millisecond after the previous ============ */

#include "hist_builder.h"

static void ok(struct tb *b, int c) { done(b, c, HIST_OK, NIL); }
static void ok_read(struct tb *b, int c, int64_t v) { done(b, c, HIST_OK, v); }

static void write_(struct tb *b, int c, const char *key, int64_t v)
{
    inv(b, c, HIST_WRITE, key, v, NIL);
    ok(b, c);
}

static void read_(struct tb *b, int c, const char *key, int64_t v)
{
    inv(b, c, HIST_READ, key, NIL, NIL);
    ok_read(b, c, v);
}

/* ==== trace facts by hand ================================================= */

/* n nodes n1..nN, all up, with the given final maps (JSON texts, NULL = the
 * node is down at the end; "-" = up but its state has no map). */
static void facts_init(struct trace_facts *f, int n, const char *const *maps)
{
    memset(f, 0, sizeof *f);
    f->n_nodes = f->n_names = n;
    f->names = sim_xcalloc((size_t)n, sizeof *f->names);
    f->final_up = sim_xcalloc((size_t)n, sizeof *f->final_up);
    f->final_state = sim_xcalloc((size_t)n, sizeof *f->final_state);
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i + 1);
        f->names[i] = sim_xstrdup(name);
        if (!maps[i])
            continue;
        f->final_up[i] = true;
        cJSON *st = cJSON_CreateObject();
        cJSON_AddStringToObject(st, "role", i == 0 ? "leader" : "follower");
        if (strcmp(maps[i], "-") != 0) {
            cJSON *m = cJSON_Parse(maps[i]);
            ck_assert_ptr_nonnull(m);
            cJSON_AddItemToObject(st, "map", m);
        }
        f->final_state[i] = st;
    }
    f->end_time = 3000 * MS;
    f->complete = true;
}

struct res {
    struct check_result r;
    cJSON *ev;
};

static enum check_verdict run(const struct checker *c, const hist *h, const struct trace_facts *f,
                              int64_t quiet, struct res *out)
{
    struct check_input in = { .h = h, .facts = f, .quiet_period = quiet };
    check_result_init(&out->r);
    ck_assert_int_eq(c->run(&in, &out->r), 0);
    ck_assert_msg(out->r.reason[0] != 0, "no reason");
    out->ev = cJSON_ParseWithLength(out->r.evidence.buf, out->r.evidence.len);
    ck_assert_msg(out->ev != NULL, "evidence is not JSON: %.*s", (int)out->r.evidence.len,
                  out->r.evidence.buf);
    return out->r.verdict;
}

static void res_free(struct res *r)
{
    cJSON_Delete(r->ev);
    check_result_free(&r->r);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s", k);
    return v->valuedouble;
}

/* ==== staleness =========================================================== */

START_TEST(test_read_of_a_value_overwritten_before_it_began_is_stale)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);      /* 1-2 ms */
    write_(&b, 1, "x", 2);      /* 3-4 ms */
    read_(&b, 2, "x", 1);       /* 5-6 ms: 2 had completed at 4 ms, before it began */
    read_(&b, 2, "x", 2);
    struct res r;
    ck_assert_int_eq(run(&staleness_checker, b.h, NULL, 0, &r), CHECK_VIOLATED);
    ck_assert_int_eq((int)num(r.ev, "count"), 1);
    ck_assert_int_eq((int)num(r.ev, "max_versions"), 1);
    ck_assert_int_eq((int64_t)num(r.ev, "max_ns"), 1 * MS);
    ck_assert_msg(strstr(r.r.reason, "1 of 2 reads were stale") &&
                      strstr(r.r.reason, "c2 read x=1") && strstr(r.r.reason, "c1's write x=2"),
                  "%s", r.r.reason);
    res_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_read_concurrent_with_the_newer_write_is_not_stale)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    inv(&b, 1, HIST_WRITE, "x", 2, NIL);
    read_(&b, 2, "x", 1);       /* the write of 2 is still running */
    ok(&b, 1);
    /* the newer write began before the older completed: not surely newer */
    inv(&b, 3, HIST_WRITE, "x", 3, NIL);
    inv(&b, 1, HIST_WRITE, "x", 4, NIL);
    ok(&b, 3);
    ok(&b, 1);
    read_(&b, 2, "x", 3);
    struct res r;
    ck_assert_int_eq(run(&staleness_checker, b.h, NULL, 0, &r), CHECK_HOLDS);
    ck_assert_int_eq((int)num(r.ev, "count"), 0);
    res_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_staleness_counts_every_newer_write_and_times_from_the_first)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);      /* 1-2 */
    write_(&b, 1, "x", 2);      /* 3-4 */
    write_(&b, 3, "x", 3);      /* 5-6 */
    write_(&b, 1, "x", 4);      /* 7-8 */
    read_(&b, 2, "x", 1);       /* 9-10: three versions behind, 5 ms since 2 completed */
    read_(&b, 3, "x", NIL);     /* 11-12: nil after four writes */
    read_(&b, 1, "y", NIL);     /* nothing written to y: fine */
    struct res r;
    ck_assert_int_eq(run(&staleness_checker, b.h, NULL, 0, &r), CHECK_VIOLATED);
    ck_assert_int_eq((int)num(r.ev, "count"), 2);
    ck_assert_int_eq((int)num(r.ev, "max_versions"), 4);
    ck_assert_int_eq((int64_t)num(r.ev, "max_ns"), 9 * MS);   /* nil read at 11, first write done at 2 */
    /* per client */
    const cJSON *pc;
    int seen = 0;
    cJSON_ArrayForEach(pc, cJSON_GetObjectItemCaseSensitive(r.ev, "per_client")) {
        const char *c = cJSON_GetObjectItemCaseSensitive(pc, "client")->valuestring;
        int stale = (int)num(pc, "stale");
        if (strcmp(c, "c1") == 0 || strcmp(c, "c2") == 0 || strcmp(c, "c3") == 0) {
            ck_assert_int_eq(stale, strcmp(c, "c1") == 0 ? 0 : 1);
            seen++;
        }
    }
    ck_assert_int_eq(seen, 3);
    /* the worst first: the nil read, which missed the first write */
    const cJSON *worst = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.ev, "worst"), 0);
    ck_assert_int_eq((int)num(cJSON_GetObjectItemCaseSensitive(worst, "missed"), "value"), 1);
    ck_assert_int_eq((int)num(worst, "versions"), 4);
    res_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_reads_of_values_written_twice_are_not_judged)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    write_(&b, 1, "x", 2);
    write_(&b, 2, "x", 1);
    write_(&b, 2, "x", 3);
    read_(&b, 3, "x", 1);
    struct res r;
    ck_assert_int_eq(run(&staleness_checker, b.h, NULL, 0, &r), CHECK_HOLDS);
    ck_assert_int_eq((int)num(r.ev, "ambiguous"), 1);
    ck_assert_msg(strstr(r.r.reason, "not judged"), "%s", r.r.reason);
    res_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_staleness_skips_string_histories)
{
    hist *h = hist_new(HIST_KV, HIST_CLOCK_LINE);
    struct res r;
    ck_assert_int_eq(run(&staleness_checker, h, NULL, 0, &r), CHECK_SKIPPED);
    res_free(&r);
    hist_free(h);
}
END_TEST

/* ==== no_lost_writes ====================================================== */

START_TEST(test_acknowledged_write_older_than_every_final_value_is_lost)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);      /* acknowledged at 2 ms */
    write_(&b, 1, "x", 2);      /* acknowledged at 4 ms; then the replicas went back to 1 */
    write_(&b, 2, "y", 5);
    const char *maps[] = { "{\"x\":1,\"y\":5}", "{\"x\":1,\"y\":5}", NULL };
    struct trace_facts f;
    facts_init(&f, 3, maps);
    struct res r;
    ck_assert_int_eq(run(&no_lost_writes_checker, b.h, &f, 0, &r), CHECK_VIOLATED);
    ck_assert_int_eq((int)num(r.ev, "count"), 1);
    const cJSON *lost = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.ev, "lost"), 0);
    ck_assert_int_eq((int)num(lost, "value"), 2);
    ck_assert_int_eq((int)num(lost, "op"), 2);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(lost, "client")->valuestring, "c1");
    ck_assert_int_eq((int64_t)num(lost, "ack"), 4 * MS);
    ck_assert_msg(strstr(r.r.reason, "1 acknowledged write is in no replica's final state: "
                                     "c1's write x=2 acknowledged at 4.0 ms"),
                  "%s", r.r.reason);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_write_missing_its_key_everywhere_is_lost)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    const char *maps[] = { "{}", "{}" };
    struct trace_facts f;
    facts_init(&f, 2, maps);
    struct res r;
    ck_assert_int_eq(run(&no_lost_writes_checker, b.h, &f, 0, &r), CHECK_VIOLATED);
    ck_assert_int_eq((int)num(r.ev, "count"), 1);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_write_overwritten_by_a_concurrent_or_later_one_is_not_lost)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    write_(&b, 2, "x", 2);      /* inside the write of 1: either may win */
    ok(&b, 1);
    write_(&b, 3, "y", 3);
    write_(&b, 3, "y", 4);      /* later: overwrites 3 normally */
    inv(&b, 2, HIST_WRITE, "y", 9, NIL);   /* no answer: may have happened any time */
    done(&b, 2, HIST_INFO, NIL);
    write_(&b, 3, "y", 5);
    const char *maps[] = { "{\"x\":1,\"y\":9}", "{\"x\":1,\"y\":9}" };
    struct trace_facts f;
    facts_init(&f, 2, maps);
    struct res r;
    ck_assert_int_eq(run(&no_lost_writes_checker, b.h, &f, 0, &r), CHECK_HOLDS);
    ck_assert_int_eq((int)num(r.ev, "count"), 0);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_write_kept_by_one_replica_is_not_lost_but_the_disagreement_is_said)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    write_(&b, 1, "x", 2);
    const char *maps[] = { "{\"x\":1}", "{\"x\":2}", "{\"x\":1}" };
    struct trace_facts f;
    facts_init(&f, 3, maps);
    struct res r;
    ck_assert_int_eq(run(&no_lost_writes_checker, b.h, &f, 0, &r), CHECK_HOLDS);
    ck_assert_int_eq((int)num(r.ev, "lost_on_some_nodes"), 1);
    ck_assert_msg(strstr(r.r.reason, "final maps differ"), "%s", r.r.reason);
    res_free(&r);
    /* with the one replica that had it down, it is lost */
    cJSON_Delete(f.final_state[1]);
    f.final_state[1] = NULL;
    f.final_up[1] = false;
    ck_assert_int_eq(run(&no_lost_writes_checker, b.h, &f, 0, &r), CHECK_VIOLATED);
    const cJSON *nodes = cJSON_GetObjectItemCaseSensitive(r.ev, "nodes");
    ck_assert_int_eq(cJSON_GetArraySize(nodes), 2);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_lost_writes_skipped_without_a_map_or_a_trace)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    const char *maps[] = { "-", "-" };
    struct trace_facts f;
    facts_init(&f, 2, maps);
    struct res r;
    ck_assert_int_eq(run(&no_lost_writes_checker, b.h, &f, 0, &r), CHECK_SKIPPED);
    ck_assert_msg(strstr(r.r.reason, "does not publish its data"), "%s", r.r.reason);
    res_free(&r);
    ck_assert_int_eq(run(&no_lost_writes_checker, b.h, NULL, 0, &r), CHECK_SKIPPED);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

/* ==== converges =========================================================== */

START_TEST(test_equal_maps_converge)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    const char *maps[] = { "{\"x\":1,\"y\":2}", "{\"y\":2,\"x\":1}", NULL };
    struct trace_facts f;
    facts_init(&f, 3, maps);
    f.last_fault_end = 1000 * MS;
    struct res r;
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_HOLDS);
    ck_assert_int_eq((int)num(r.ev, "keys_differ"), 0);
    ck_assert_msg(strstr(r.r.reason, "the 2 up replicas hold the same map"), "%s", r.r.reason);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_different_maps_after_the_quiet_period_do_not_converge)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    const char *maps[] = { "{\"x\":1,\"y\":2}", "{\"x\":7,\"y\":2}", "{\"x\":7}" };
    struct trace_facts f;
    facts_init(&f, 3, maps);
    f.last_fault_end = 1500 * MS;
    struct res r;
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_VIOLATED);
    ck_assert_int_eq((int)num(r.ev, "keys_differ"), 2);
    const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(r.ev, "differ"), 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(d, "key")->valuestring, "x");
    const cJSON *vals = cJSON_GetObjectItemCaseSensitive(d, "values");
    ck_assert_int_eq((int)num(vals, "n1"), 1);
    ck_assert_int_eq((int)num(vals, "n3"), 7);
    ck_assert_msg(strstr(r.r.reason, "x: 1 on n1; 7 on n2, n3"), "%s", r.r.reason);
    ck_assert_msg(strstr(r.r.text, "y: 2 on n1, n2; missing on n3"), "%s", r.r.text);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

/* Sharded data ("replicas": R in each final state): a key is compared only
 * on the nodes that hold it, and must be held by R of them less the nodes
 * left out. */
static void set_replicas(struct trace_facts *f, int r)
{
    for (int i = 0; i < f->n_nodes; i++)
        if (f->final_state[i])
            cJSON_AddNumberToObject(f->final_state[i], "replicas", r);
}

START_TEST(test_sharded_maps_compare_each_key_on_its_holders)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    /* 2 replicas per key on 3 nodes: x on n1+n2, y on n2+n3, z on n1+n3 */
    const char *maps[] = { "{\"x\":1,\"z\":3}", "{\"x\":1,\"y\":2}", "{\"y\":2,\"z\":3}" };
    struct trace_facts f;
    facts_init(&f, 3, maps);
    f.last_fault_end = 1000 * MS;
    struct res r;
    /* without the declaration, whole maps differ on every key */
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_VIOLATED);
    ck_assert_int_eq((int)num(r.ev, "keys_differ"), 3);
    res_free(&r);
    set_replicas(&f, 2);
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_HOLDS);
    ck_assert_msg(strstr(r.r.reason, "each of the 3 keys has the same value on every up node holding it "
                                     "(2 replicas per key on 3 nodes)"), "%s", r.r.reason);
    res_free(&r);
    trace_facts_free(&f);
    /* a holder with another value, and a key on one node of its two */
    const char *bad[] = { "{\"x\":1,\"z\":3}", "{\"x\":9,\"y\":2}", "{\"z\":3}" };
    facts_init(&f, 3, bad);
    f.last_fault_end = 1000 * MS;
    set_replicas(&f, 2);
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_VIOLATED);
    ck_assert_int_eq((int)num(r.ev, "keys_differ"), 2);
    ck_assert_msg(strstr(r.r.text, "x: 1 on n1; 9 on n2"), "%s", r.r.text);
    ck_assert_msg(strstr(r.r.text, "y: 2 on n2 (1 of its 2 replicas)"), "%s", r.r.text);
    res_free(&r);
    trace_facts_free(&f);
    /* n3 down at the end: y on one node may be all that is left of it */
    const char *down[] = { "{\"x\":1}", "{\"x\":1,\"y\":2}", NULL };
    facts_init(&f, 3, down);
    f.last_fault_end = 1000 * MS;
    set_replicas(&f, 2);
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_HOLDS);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_run_ending_within_the_quiet_period_is_unknown)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    const char *maps[] = { "{\"x\":1}", "{}" };
    struct trace_facts f;
    facts_init(&f, 2, maps);
    f.last_fault_end = 2500 * MS;   /* ends at 3000 ms: 500 ms of a 1 s quiet period */
    struct res r;
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_UNKNOWN);
    ck_assert_msg(strstr(r.r.reason, "may still be catching up"), "%s", r.r.reason);
    res_free(&r);
    /* a shorter quiet period decides */
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 400 * MS, &r), CHECK_VIOLATED);
    res_free(&r);
    /* and so does a write just before the end, with no fault at all */
    f.last_fault_end = 0;
    write_(&b, 2, "x", 2);   /* completes at 4 ms */
    f.end_time = 100 * MS;   /* 96 ms later: less than a quarter of the quiet period */
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_UNKNOWN);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_paused_and_crashed_nodes_are_left_out)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    const char *maps[] = { "{\"x\":1}", "{\"x\":0}", "{\"x\":1}", NULL };
    struct trace_facts f;
    facts_init(&f, 4, maps);
    f.down = sim_xcalloc(1, sizeof *f.down);
    f.down[0] = (struct node_window){ 1, 2000 * MS, INT64_MAX, true };   /* n2 paused at the end */
    f.n_down = 1;
    struct res r;
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_HOLDS);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r.ev, "left_out")), 2);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

START_TEST(test_convergence_skipped_without_a_map)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    const char *maps[] = { "-", "-" };
    struct trace_facts f;
    facts_init(&f, 2, maps);
    struct res r;
    ck_assert_int_eq(run(&converges_checker, b.h, &f, 0, &r), CHECK_SKIPPED);
    res_free(&r);
    trace_facts_free(&f);
    hist_free(b.h);
}
END_TEST

static Suite *staleness_suite(void)
{
    Suite *s = suite_create("staleness");
    TCase *tc = tcase_create("staleness");
    tcase_add_test(tc, test_read_of_a_value_overwritten_before_it_began_is_stale);
    tcase_add_test(tc, test_read_concurrent_with_the_newer_write_is_not_stale);
    tcase_add_test(tc, test_staleness_counts_every_newer_write_and_times_from_the_first);
    tcase_add_test(tc, test_reads_of_values_written_twice_are_not_judged);
    tcase_add_test(tc, test_staleness_skips_string_histories);
    suite_add_tcase(s, tc);
    TCase *td = tcase_create("no_lost_writes");
    tcase_add_test(td, test_acknowledged_write_older_than_every_final_value_is_lost);
    tcase_add_test(td, test_write_missing_its_key_everywhere_is_lost);
    tcase_add_test(td, test_write_overwritten_by_a_concurrent_or_later_one_is_not_lost);
    tcase_add_test(td, test_write_kept_by_one_replica_is_not_lost_but_the_disagreement_is_said);
    tcase_add_test(td, test_lost_writes_skipped_without_a_map_or_a_trace);
    suite_add_tcase(s, td);
    TCase *tv = tcase_create("converges");
    tcase_add_test(tv, test_equal_maps_converge);
    tcase_add_test(tv, test_different_maps_after_the_quiet_period_do_not_converge);
    tcase_add_test(tv, test_sharded_maps_compare_each_key_on_its_holders);
    tcase_add_test(tv, test_run_ending_within_the_quiet_period_is_unknown);
    tcase_add_test(tv, test_paused_and_crashed_nodes_are_left_out);
    tcase_add_test(tv, test_convergence_skipped_without_a_map);
    suite_add_tcase(s, tv);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(staleness_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
