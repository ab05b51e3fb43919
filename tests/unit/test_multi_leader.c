/* Unit tests of the multi_leader model (models/multi_leader.c), driven
 * through a real world with small, timed workloads; results are read from
 * the trace the world writes (final states, notes, replies). */
#include "world.h"
#include "trace.h"
#include "alloc.h"
#include "models/vv.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct model multi_leader_model;

/* ---- harness ---------------------------------------------------------------- */

struct run {
    world *w;
    trace *tr;
    FILE *tmp;
    char *text;          /* the whole trace, after finish() */
};

/* Resolver calls the test sees: (node-independent) arguments of each. */
static struct {
    int calls;
    int64_t a[256], b[256];
    int fail_all;        /* every call fails (the function raised an error) */
    int first_wins;      /* return a instead of max(a, b) */
} R;

static int test_call(void *ud, world *w, const char *param, const char *key, int64_t a, int64_t b, int64_t *out)
{
    (void)ud;
    (void)w;
    (void)key;
    ck_assert_str_eq(param, "resolver");
    if (R.fail_all)
        return 1;
    if (R.calls < 256) {
        R.a[R.calls] = a;
        R.b[R.calls] = b;
    }
    R.calls++;
    *out = R.first_wins ? a : (a > b ? a : b);
    return 0;
}

static params *ml_params(const char *conflict, int dcs, bool resolver)
{
    char err[256];
    params *p = params_new("multi_leader", multi_leader_model.params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(params_set_string(p, "conflict", conflict, err, sizeof err), 0);
    ck_assert_int_eq(params_set_int(p, "dcs", dcs, err, sizeof err), 0);
    if (resolver)
        ck_assert_int_eq(params_set_func(p, "resolver", err, sizeof err), 0);
    return p;
}

/* A traced world of `nodes` multi_leader nodes with parameters p (owned by
 * the world from here). */
static void start_with(struct run *r, uint64_t seed, int nodes, params *p)
{
    char err[256];
    memset(r, 0, sizeof *r);
    memset(&R, 0, sizeof R);
    r->tmp = tmpfile();
    ck_assert_ptr_nonnull(r->tmp);
    r->tr = trace_open_fd(fileno(r->tmp));
    r->w = world_new(seed, r->tr);
    ck_assert_int_eq(world_cluster(r->w, &multi_leader_model, p, nodes, NULL, err, sizeof err), 0);
    world_set_call(r->w, test_call, NULL);
}

static void start(struct run *r, uint64_t seed, int nodes, const char *conflict, int dcs)
{
    start_with(r, seed, nodes, ml_params(conflict, dcs, strcmp(conflict, "custom") == 0));
}

/* One client on node `node` doing the given mix on key from `at` for
 * `duration` (duration 1 ns: exactly one operation). */
static void client(struct run *r, int node, const char *key, double read, double write, double add, double remove,
                   sim_time at, sim_time duration)
{
    char err[256];
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = 1;
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup(key);
    memset(wl.mix, 0, sizeof wl.mix);
    wl.mix[OP_READ] = read;
    wl.mix[OP_WRITE] = write;
    wl.mix[OP_ADD] = add;
    wl.mix[OP_REMOVE] = remove;
    wl.values_lo = 1;
    wl.values_hi = 3;
    wl.start = at;
    wl.duration = duration;
    wl.think = 5 * SIM_MS;
    wl.timeout = 500 * SIM_MS;
    wl.target = WL_TARGET_NODE;
    wl.node = node;
    ck_assert_int_eq(world_workload(r->w, &wl, err, sizeof err), 0);
}

/* Finish the run and read the whole trace into r->text. */
static void finish(struct run *r, sim_time until)
{
    ck_assert_int_eq(world_run(r->w, until), WORLD_OK);
    world_finish(r->w);
    trace_close(r->tr);
    long n = ftell(r->tmp);
    ck_assert_int_gt(n, 0);
    r->text = sim_xmalloc((size_t)n + 1);
    rewind(r->tmp);
    ck_assert_uint_eq(fread(r->text, 1, (size_t)n, r->tmp), (size_t)n);
    r->text[n] = 0;
    fclose(r->tmp);
}

static void done(struct run *r)
{
    world_free(r->w);
    sim_free(r->text);
}

/* The text of node's final state line (malloc'd). */
static char *state_of(const struct run *r, const char *node)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"ev\":\"state\",\"node\":\"%s\"", node);
    const char *p = strstr(r->text, pat);
    ck_assert_msg(p != NULL, "no final state for %s", node);
    const char *end = strchr(p, '\n');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    char *out = sim_xmalloc(len + 1);
    memcpy(out, p, len);
    out[len] = 0;
    return out;
}

/* The "map":{...} object of node's final state (malloc'd). */
static char *map_of(const struct run *r, const char *node)
{
    char *st = state_of(r, node);
    char *p = strstr(st, "\"map\":{");
    ck_assert_ptr_nonnull(p);
    int depth = 0;
    char *q = p + 6;
    for (; *q; q++) {
        if (*q == '{')
            depth++;
        else if (*q == '}' && --depth == 0)
            break;
    }
    q[1] = 0;
    char *out = sim_xstrdup(p);
    sim_free(st);
    return out;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- parameters ----------------------------------------------------------------- */

START_TEST(test_validate_refuses_bad_parameter_sets_with_one_sentence)
{
    char err[256];
    params *p = ml_params("lww", 0, false);
    ck_assert_int_eq(multi_leader_model.validate(p, 4, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "dcs = 0"));
    params_free(p);

    p = ml_params("lww", 5, false);
    ck_assert_int_eq(multi_leader_model.validate(p, 4, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "1 <= dcs <= nodes"));
    ck_assert_int_eq(multi_leader_model.validate(p, 5, err, sizeof err), 0);
    params_free(p);

    p = ml_params("custom", 2, false);
    ck_assert_int_eq(multi_leader_model.validate(p, 4, err, sizeof err), -1);
    ck_assert_str_eq(err, "conflict = \"custom\" needs a resolver function in "
                          "cluster{params = {resolver = function(key, a, b) ... end}}");
    params_free(p);

    p = ml_params("lww", 2, true);
    ck_assert_int_eq(multi_leader_model.validate(p, 4, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "only called with conflict = \"custom\""));
    params_free(p);

    const char *vector_modes[] = { "vv", "custom", "gcounter", "pncounter", "orset" };
    for (size_t i = 0; i < sizeof vector_modes / sizeof *vector_modes; i++) {
        p = ml_params(vector_modes[i], 2, strcmp(vector_modes[i], "custom") == 0);
        ck_assert_int_eq(multi_leader_model.validate(p, VV_MAX, err, sizeof err), 0);
        ck_assert_int_eq(multi_leader_model.validate(p, VV_MAX + 1, err, sizeof err), -1);
        ck_assert_ptr_nonnull(strstr(err, "at most 32 nodes"));
        params_free(p);
    }
    p = ml_params("lww", 2, false);
    ck_assert_int_eq(multi_leader_model.validate(p, 100, err, sizeof err), 0);   /* no vectors */
    params_free(p);
}
END_TEST

START_TEST(test_every_mode_is_pa_el)
{
    const char *modes[] = { "lww", "lwwreg", "vv", "custom", "gcounter", "pncounter", "orset" };
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        params *p = ml_params(modes[i], 2, false);
        ck_assert_str_eq(multi_leader_model.cap_class(p), "PA/EL");
        params_free(p);
    }
}
END_TEST

/* ---- datacenters ----------------------------------------------------------------- */

START_TEST(test_nodes_split_into_datacenters_led_by_their_first_node)
{
    struct run r;
    start(&r, 1, 5, "lww", 2);   /* DC of node i = floor(i*2/5): 0,0,0,1,1 */
    finish(&r, 100 * SIM_MS);
    const char *want[5][3] = {
        { "n1", "leader", "\"dc\":0" }, { "n2", "follower", "\"dc\":0" }, { "n3", "follower", "\"dc\":0" },
        { "n4", "leader", "\"dc\":1" }, { "n5", "follower", "\"dc\":1" },
    };
    for (int i = 0; i < 5; i++) {
        char *st = state_of(&r, want[i][0]);
        char role[40];
        snprintf(role, sizeof role, "\"role\":\"%s\"", want[i][1]);
        ck_assert_msg(strstr(st, role) && strstr(st, want[i][2]), "%s: %s", want[i][0], st);
        ck_assert_ptr_nonnull(strstr(st, i < 3 ? "\"leader\":\"n1\"" : "\"leader\":\"n4\""));
        sim_free(st);
    }
    done(&r);
}
END_TEST

START_TEST(test_followers_redirect_writes_and_everyone_gets_them)
{
    struct run r;
    start(&r, 2, 4, "lww", 2);
    client(&r, 3, "x", 0, 1, 0, 0, 10 * SIM_MS, 200 * SIM_MS);   /* n4: a follower of n3 */
    finish(&r, 2 * SIM_S);
    ck_assert_uint_gt(world_stats(r.w)->redirects, 5);
    ck_assert_uint_eq(world_stats(r.w)->ops_fail, 0);
    ck_assert_int_gt(count(r.text, "\"error\":\"not the leader of this datacenter\""), 5);
    char *m1 = map_of(&r, "n1");
    ck_assert_ptr_nonnull(strstr(m1, "\"x\":"));
    for (int i = 2; i <= 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        char *m = map_of(&r, name);
        ck_assert_str_eq(m, m1);
        sim_free(m);
    }
    sim_free(m1);
    done(&r);
}
END_TEST

/* ---- conflict modes ------------------------------------------------------------- */

START_TEST(test_lww_skewed_leader_acknowledges_then_loses_its_later_write)
{
    struct run r;
    start(&r, 3, 2, "lww", 2);      /* n1 and n2 each lead a DC */
    world_skew(r.w, 1, -100 * SIM_MS, 0);
    client(&r, 0, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);   /* writes 1 at 10 ms */
    client(&r, 1, "x", 0, 1, 0, 0, 60 * SIM_MS, 1);   /* writes 2 at 60 ms, stamped -40 ms */
    finish(&r, 1 * SIM_S);
    ck_assert_uint_eq(world_stats(r.w)->ops_ok, 2);
    char *m1 = map_of(&r, "n1"), *m2 = map_of(&r, "n2");
    ck_assert_str_eq(m1, "\"map\":{\"x\":1}");
    ck_assert_str_eq(m2, m1);
    /* n2 noted that it discarded its own, acknowledged write */
    const char *note = strstr(r.text, "\"node\":\"n2\",\"what\":\"conflict\"");
    ck_assert_ptr_nonnull(note);   /* the note may carry the request id ("req") next */
    ck_assert_ptr_nonnull(strstr(note, "\"key\":\"x\",\"resolution\":\"lww\""));
    ck_assert_int_eq(count(r.text, "\"what\":\"conflict\""), 1);
    ck_assert_ptr_nonnull(strstr(r.text, "\"kept\":1,\"discarded\":[2]"));
    sim_free(m1);
    sim_free(m2);
    done(&r);
}
END_TEST

START_TEST(test_lww_without_skew_keeps_the_later_write_without_a_conflict)
{
    struct run r;
    start(&r, 3, 2, "lww", 2);
    client(&r, 0, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);
    client(&r, 1, "x", 0, 1, 0, 0, 60 * SIM_MS, 1);
    finish(&r, 1 * SIM_S);
    char *m1 = map_of(&r, "n1");
    ck_assert_str_eq(m1, "\"map\":{\"x\":2}");
    ck_assert_int_eq(count(r.text, "\"what\":\"conflict\""), 0);   /* an overwrite, not a conflict */
    sim_free(m1);
    done(&r);
}
END_TEST

START_TEST(test_vv_concurrent_writes_become_siblings_until_a_later_write)
{
    struct run r;
    start(&r, 4, 2, "vv", 2);
    client(&r, 0, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);    /* 1 and 2, concurrently */
    client(&r, 1, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);
    client(&r, 1, "x", 1, 0, 0, 0, 200 * SIM_MS, 1);   /* reads both */
    client(&r, 0, "x", 0, 1, 0, 0, 400 * SIM_MS, 1);   /* writes 3 over both */
    finish(&r, 2 * SIM_S);
    ck_assert_ptr_nonnull(strstr(r.text, "\"values\":[1,2]"));
    ck_assert_int_ge(count(r.text, "\"resolution\":\"siblings\""), 2);   /* once at each leader */
    ck_assert_int_eq(count(r.text, "\"what\":\"siblings_resolved\""), 1);
    char *m1 = map_of(&r, "n1"), *m2 = map_of(&r, "n2");
    ck_assert_str_eq(m1, "\"map\":{\"x\":3}");
    ck_assert_str_eq(m2, m1);
    sim_free(m1);
    sim_free(m2);
    done(&r);
}
END_TEST

START_TEST(test_vv_siblings_stay_when_nobody_writes_again)
{
    struct run r;
    start(&r, 4, 4, "vv", 2);
    client(&r, 0, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);
    client(&r, 2, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);
    finish(&r, 2 * SIM_S);
    for (int i = 1; i <= 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        char *m = map_of(&r, name);
        ck_assert_str_eq(m, "\"map\":{\"x\":[1,2]}");   /* followers too */
        sim_free(m);
    }
    done(&r);
}
END_TEST

START_TEST(test_custom_resolver_sees_one_order_on_every_replica)
{
    struct run r;
    start(&r, 5, 2, "custom", 2);
    R.first_wins = 1;            /* order matters: replicas agree only if the order is canonical */
    client(&r, 0, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);
    client(&r, 1, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);
    finish(&r, 1 * SIM_S);
    ck_assert_int_eq(R.calls, 2);            /* each leader resolved the conflict once */
    ck_assert_int_eq(R.a[0], R.a[1]);
    ck_assert_int_eq(R.b[0], R.b[1]);
    char *m1 = map_of(&r, "n1"), *m2 = map_of(&r, "n2");
    ck_assert_str_eq(m2, m1);
    ck_assert_int_eq(count(r.text, "\"resolution\":\"resolver\""), 2);
    sim_free(m1);
    sim_free(m2);
    done(&r);
}
END_TEST

START_TEST(test_failing_resolver_stops_the_run)
{
    struct run r;
    start(&r, 5, 2, "custom", 2);
    R.fail_all = 1;
    client(&r, 0, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);
    client(&r, 1, "x", 0, 1, 0, 0, 10 * SIM_MS, 1);
    ck_assert_int_eq(world_run(r.w, 1 * SIM_S), WORLD_STOPPED);
    ck_assert_int_eq(R.calls, 0);
    ck_assert_int_lt(world_now(r.w), 200 * SIM_MS);   /* stopped at the first conflict */
    trace_close(r.tr);
    fclose(r.tmp);
    done(&r);
}
END_TEST

START_TEST(test_gcounter_counts_every_add_from_both_sides_of_a_partition)
{
    struct run r;
    start(&r, 6, 4, "gcounter", 2);
    int groups[4 + 4] = { 0, 0, 1, 1, -1, -1, -1, -1 };
    world_partition(r.w, groups);
    client(&r, 0, "k", 0, 0, 1, 0, 10 * SIM_MS, 300 * SIM_MS);
    client(&r, 2, "k", 0, 0, 1, 0, 10 * SIM_MS, 300 * SIM_MS);
    client(&r, 3, "k", 0, 0, 1, 0, 10 * SIM_MS, 300 * SIM_MS);   /* redirected to n3 */
    ck_assert_int_eq(world_run(r.w, 500 * SIM_MS), WORLD_OK);
    world_heal(r.w);
    finish(&r, 2 * SIM_S);
    ck_assert_uint_eq(world_stats(r.w)->ops_fail, 0);
    ck_assert_int_ge(count(r.text, "\"resolution\":\"merge\""), 2);
    /* the sum of the acknowledged increments, from the trace */
    int64_t sum = 0;
    for (const char *p = strstr(r.text, "\"ev\":\"ok\""); p; p = strstr(p + 1, "\"ev\":\"ok\"")) {
        const char *v = strstr(p, "\"value\":");
        const char *eol = strchr(p, '\n');
        ck_assert(strstr(p, "\"f\":\"add\"") && strstr(p, "\"f\":\"add\"") < eol && v && v < eol);
        sum += strtoll(v + 8, NULL, 10);
    }
    ck_assert_int_gt(sum, 50);
    char want[64];
    snprintf(want, sizeof want, "\"map\":{\"k\":%lld}", (long long)sum);
    for (int i = 1; i <= 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        char *m = map_of(&r, name);
        ck_assert_str_eq(m, want);
        sim_free(m);
    }
    done(&r);
}
END_TEST

START_TEST(test_orset_replicas_converge_on_sorted_elements)
{
    struct run r;
    start(&r, 7, 4, "orset", 2);
    client(&r, 0, "s", 1, 0, 2, 1, 10 * SIM_MS, 500 * SIM_MS);
    client(&r, 2, "s", 1, 0, 2, 1, 10 * SIM_MS, 500 * SIM_MS);
    finish(&r, 2 * SIM_S);
    ck_assert_uint_eq(world_stats(r.w)->ops_fail, 0);
    char *m1 = map_of(&r, "n1");
    ck_assert_ptr_nonnull(strstr(m1, "\"s\":["));
    for (int i = 2; i <= 4; i++) {
        char name[8];
        snprintf(name, sizeof name, "n%d", i);
        char *m = map_of(&r, name);
        ck_assert_str_eq(m, m1);
        sim_free(m);
    }
    /* elements come out ascending */
    const char *p = strstr(m1, "[") + 1;
    long prev = -1;
    while (*p && *p != ']') {
        char *end;
        long v = strtol(p, &end, 10);
        ck_assert_int_gt(v, prev);
        prev = v;
        p = *end == ',' ? end + 1 : end;
    }
    sim_free(m1);
    done(&r);
}
END_TEST

START_TEST(test_register_modes_refuse_adds_and_counters_refuse_writes)
{
    struct run r;
    start(&r, 8, 2, "gcounter", 2);
    client(&r, 0, "k", 0, 1, 0, 0, 10 * SIM_MS, 1);
    client(&r, 1, "k", 0, 0, 0, 1, 10 * SIM_MS, 1);
    finish(&r, 500 * SIM_MS);
    ck_assert_uint_eq(world_stats(r.w)->ops_fail, 2);
    ck_assert_ptr_nonnull(strstr(r.text, "a counter takes add, not write"));
    ck_assert_ptr_nonnull(strstr(r.text, "a G-counter only grows"));
    done(&r);
}
END_TEST

START_TEST(test_same_seed_gives_the_same_trace)
{
    struct run a, b;
    start(&a, 9, 4, "vv", 2);
    client(&a, 0, "x", 1, 1, 0, 0, 10 * SIM_MS, 500 * SIM_MS);
    client(&a, 3, "x", 1, 1, 0, 0, 10 * SIM_MS, 500 * SIM_MS);
    finish(&a, 1 * SIM_S);
    start(&b, 9, 4, "vv", 2);
    client(&b, 0, "x", 1, 1, 0, 0, 10 * SIM_MS, 500 * SIM_MS);
    client(&b, 3, "x", 1, 1, 0, 0, 10 * SIM_MS, 500 * SIM_MS);
    finish(&b, 1 * SIM_S);
    ck_assert_str_eq(a.text, b.text);
    done(&a);
    done(&b);
}
END_TEST

/* A leader that forgets its own increments (sync_writes off, then a crash)
 * leaves its followers knowing more of them than it does: the model's
 * invariant says so and the world stops the run there. With sync_writes on,
 * the same crash is harmless. */
static int crash_unsynced_leader(bool sync)
{
    char err[256];
    struct run r;
    params *p = ml_params("gcounter", 2, false);
    ck_assert_int_eq(params_set_bool(p, "sync_writes", sync, err, sizeof err), 0);
    start_with(&r, 10, 4, p);
    client(&r, 0, "k", 0, 0, 1, 0, 10 * SIM_MS, 100 * SIM_MS);
    ck_assert_int_eq(world_run(r.w, 300 * SIM_MS), WORLD_OK);
    world_crash(r.w, 0);
    world_restart(r.w, 0);
    int rc = world_run(r.w, 1 * SIM_S);
    trace_close(r.tr);
    fclose(r.tmp);
    done(&r);
    return rc;
}

START_TEST(test_invariant_catches_a_leader_forgetting_unsynced_increments)
{
    ck_assert_int_eq(crash_unsynced_leader(false), WORLD_INVARIANT);
    ck_assert_int_eq(crash_unsynced_leader(true), WORLD_OK);
}
END_TEST

static Suite *multi_leader_suite(void)
{
    Suite *s = suite_create("multi_leader");
    TCase *tc = tcase_create("model");
    tcase_add_test(tc, test_validate_refuses_bad_parameter_sets_with_one_sentence);
    tcase_add_test(tc, test_every_mode_is_pa_el);
    tcase_add_test(tc, test_nodes_split_into_datacenters_led_by_their_first_node);
    tcase_add_test(tc, test_followers_redirect_writes_and_everyone_gets_them);
    tcase_add_test(tc, test_lww_skewed_leader_acknowledges_then_loses_its_later_write);
    tcase_add_test(tc, test_lww_without_skew_keeps_the_later_write_without_a_conflict);
    tcase_add_test(tc, test_vv_concurrent_writes_become_siblings_until_a_later_write);
    tcase_add_test(tc, test_vv_siblings_stay_when_nobody_writes_again);
    tcase_add_test(tc, test_custom_resolver_sees_one_order_on_every_replica);
    tcase_add_test(tc, test_failing_resolver_stops_the_run);
    tcase_add_test(tc, test_gcounter_counts_every_add_from_both_sides_of_a_partition);
    tcase_add_test(tc, test_orset_replicas_converge_on_sorted_elements);
    tcase_add_test(tc, test_register_modes_refuse_adds_and_counters_refuse_writes);
    tcase_add_test(tc, test_same_seed_gives_the_same_trace);
    tcase_add_test(tc, test_invariant_catches_a_leader_forgetting_unsynced_increments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(multi_leader_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
