/* Unit tests of the world loop, with small models defined here. */
#include "world.h"
#include "trace.h"
#include "alloc.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a test model: a register per node, with switches the tests flip ---- */

static struct {
    bool silent;          /* never answer requests */
    int redirect_to;      /* >= 0: non-leaders redirect there */
    bool hide_leader;     /* redirects name no leader (-1) */
    int timer_fired[8];
    sim_time timer_at[8]; /* node_clock when the timer fired */
    int messages[8];
    int boots[8];
    int64_t restored[8];  /* value read back from the store at boot */
} T;

struct reg {
    node_ctx *ctx;
    bool has;
    int64_t value;
};

static void *reg_init(node_ctx *ctx)
{
    struct reg *r = sim_xcalloc(1, sizeof *r);
    r->ctx = ctx;
    int self = node_self(ctx);
    T.boots[self]++;
    size_t len;
    const int64_t *v = node_store_get(ctx, "value", &len);
    T.restored[self] = v && len == sizeof *v ? *v : -1;
    return r;
}

static void reg_destroy(void *s) { sim_free(s); }

static void reg_on_message(void *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    (void)s; (void)from; (void)msg; (void)len;
    T.messages[node_self(ctx)]++;
}

static void reg_on_timer(void *s, node_ctx *ctx, uint64_t tag)
{
    (void)s;
    T.timer_fired[node_self(ctx)] += (int)tag;
    T.timer_at[node_self(ctx)] = node_clock(ctx);
}

static void reg_on_request(void *s, node_ctx *ctx, const struct sim_op *op)
{
    struct reg *r = s;
    if (T.silent)
        return;
    if (T.redirect_to >= 0 && node_self(ctx) != T.redirect_to) {
        node_reply_redirect(ctx, op, T.hide_leader ? -1 : T.redirect_to, "not leader");
        return;
    }
    if (op->type == OP_READ) {
        node_reply_ok(ctx, op, r->has, r->value);
    } else {
        r->has = true;
        r->value = op->value;
        node_reply_ok(ctx, op, false, 0);
    }
}

static void reg_describe_msg(const void *msg, size_t len, jw *out)
{
    (void)msg;
    jw_kstr(out, "type", "test");
    jw_kint(out, "len", (int64_t)len);
}

static void reg_describe(const void *s, jw *out)
{
    const struct reg *r = s;
    jw_kint(out, "value", r->value);
}

static const struct model_param reg_params[] = { { NULL, 0, NULL, NULL, NULL } };

static const struct model reg_model = {
    .name = "testreg",
    .summary = "a register for unit tests",
    .params = reg_params,
    .init = reg_init,
    .destroy = reg_destroy,
    .on_message = reg_on_message,
    .on_timer = reg_on_timer,
    .on_request = reg_on_request,
    .describe_msg = reg_describe_msg,
    .describe = reg_describe,
};

static world *make_world(uint64_t seed, int nodes, trace *tr)
{
    memset(&T, 0, sizeof T);
    T.redirect_to = -1;
    char err[256];
    world *w = world_new(seed, tr);
    params *p = params_new("testreg", reg_params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(world_cluster(w, &reg_model, p, nodes, NULL, err, sizeof err), 0);
    return w;
}

static void add_clients(world *w, int clients, sim_time duration, sim_time timeout, int retries)
{
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = clients;
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    wl.duration = duration;
    wl.timeout = timeout;
    wl.retries = retries;
    char err[256];
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
}

/* A node_ctx for poking at a node directly, via the model's init. */
static node_ctx *captured[8];
static void *capture_init(node_ctx *ctx)
{
    captured[node_self(ctx)] = ctx;
    return reg_init(ctx);
}

/* A world whose nodes' contexts are in captured[], to poke at them directly. */
static struct model captured_model;
static world *make_captured_world(int nodes)
{
    captured_model = reg_model;
    captured_model.init = capture_init;
    memset(&T, 0, sizeof T);
    T.redirect_to = -1;
    char err[256];
    world *w = world_new(1, NULL);
    params *p = params_new("testreg", reg_params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(world_cluster(w, &captured_model, p, nodes, NULL, err, sizeof err), 0);
    return w;
}

/* ---- tests ------------------------------------------------------------------- */

START_TEST(test_clients_complete_operations_ok)
{
    world *w = make_world(1, 3, NULL);
    add_clients(w, 2, 500 * SIM_MS, 100 * SIM_MS, 0);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    const struct world_stats *s = world_stats(w);
    ck_assert_uint_gt(s->ops_invoked, 10);
    ck_assert_uint_eq(s->ops_ok, s->ops_invoked);
    ck_assert_uint_eq(s->ops_info, 0);
    ck_assert_uint_eq(s->msgs_sent, 2 * s->ops_invoked);
    world_free(w);
}
END_TEST

START_TEST(test_silent_node_makes_writes_indeterminate)
{
    world *w = make_world(1, 3, NULL);
    T.silent = true;
    add_clients(w, 1, 300 * SIM_MS, 50 * SIM_MS, 0);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    const struct world_stats *s = world_stats(w);
    ck_assert_uint_gt(s->ops_invoked, 0);
    ck_assert_uint_eq(s->ops_ok, 0);
    /* timed-out writes are info (may have happened), timed-out reads fail */
    ck_assert_uint_eq(s->ops_info + s->ops_fail, s->ops_invoked);
    ck_assert_uint_gt(s->ops_info, 0);
    world_free(w);
}
END_TEST

START_TEST(test_timeouts_are_retried)
{
    world *w = make_world(1, 3, NULL);
    T.silent = true;
    add_clients(w, 1, 100 * SIM_MS, 20 * SIM_MS, 2);
    ck_assert_int_eq(world_run(w, 2 * SIM_S), WORLD_OK);
    const struct world_stats *s = world_stats(w);
    ck_assert_uint_eq(s->retries, 2 * s->ops_invoked);
    world_free(w);
}
END_TEST

START_TEST(test_redirects_are_followed)
{
    world *w = make_world(1, 3, NULL);
    T.redirect_to = 2;
    add_clients(w, 1, 300 * SIM_MS, 100 * SIM_MS, 0);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    const struct world_stats *s = world_stats(w);
    ck_assert_uint_gt(s->redirects, 0);
    ck_assert_uint_eq(s->ops_ok, s->ops_invoked);
    world_free(w);
}
END_TEST

START_TEST(test_redirect_without_a_leader_tries_another_node)
{
    world *w = make_world(1, 2, NULL);
    T.redirect_to = 1;
    T.hide_leader = true;
    struct workload wl;
    workload_defaults(&wl);
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    wl.duration = 300 * SIM_MS;
    wl.max_redirects = 1;
    wl.target = WL_TARGET_NODE;
    wl.node = 0;
    char err[256];
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    const struct world_stats *s = world_stats(w);
    ck_assert_uint_gt(s->ops_invoked, 5);
    /* one redirect is enough: the only other node is the right one */
    ck_assert_uint_eq(s->redirects, s->ops_invoked);
    ck_assert_uint_eq(s->ops_ok, s->ops_invoked);
    world_free(w);
}
END_TEST

START_TEST(test_partitioned_client_requests_are_dropped)
{
    world *w = make_world(1, 1, NULL);
    add_clients(w, 1, 300 * SIM_MS, 50 * SIM_MS, 0);
    int groups[2] = { 0, 1 };  /* n1 | c1 */
    world_partition(w, groups);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    const struct world_stats *s = world_stats(w);
    ck_assert_uint_eq(s->ops_ok, 0);
    ck_assert_uint_eq(s->msgs_dropped, s->msgs_sent);
    world_free(w);
}
END_TEST

START_TEST(test_crashed_node_drops_messages_and_forgets_timers)
{
    world *w = make_captured_world(2);
    node_timer_set(captured[0], 10 * SIM_MS, 1);
    node_send(captured[1], 0, "hi", 2);
    world_crash(w, 0);
    ck_assert(!world_node_up(w, 0));
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    ck_assert_int_eq(T.timer_fired[0], 0);
    ck_assert_int_eq(T.messages[0], 0);
    ck_assert_uint_eq(world_stats(w)->msgs_dropped, 1);
    world_restart(w, 0);
    ck_assert(world_node_up(w, 0));
    ck_assert_int_eq(T.boots[0], 2);
    world_free(w);
}
END_TEST

START_TEST(test_crash_keeps_only_synced_store)
{
    world *w = make_captured_world(1);
    int64_t v = 5;
    node_store_put(captured[0], "value", &v, sizeof v);
    node_store_sync(captured[0]);
    v = 6;
    node_store_put(captured[0], "value", &v, sizeof v);   /* not synced */
    world_crash(w, 0);
    world_restart(w, 0);
    ck_assert_int_eq(T.restored[0], 5);
    world_free(w);
}
END_TEST

START_TEST(test_pause_delays_timers_and_messages)
{
    world *w = make_captured_world(2);
    node_timer_set(captured[0], 10 * SIM_MS, 1);
    node_send(captured[1], 0, "hi", 2);
    world_pause(w, 0, 200 * SIM_MS);
    ck_assert_int_eq(world_run(w, 100 * SIM_MS), WORLD_OK);
    ck_assert_int_eq(T.timer_fired[0], 0);
    ck_assert_int_eq(T.messages[0], 0);
    ck_assert_int_eq(world_run(w, 300 * SIM_MS), WORLD_OK);
    ck_assert_int_eq(T.timer_fired[0], 1);
    ck_assert_int_eq(T.messages[0], 1);
    /* the late timer fired at the resume, 200 ms, not at 10 ms */
    ck_assert_int_eq(T.timer_at[0], 200 * SIM_MS);
    world_free(w);
}
END_TEST

START_TEST(test_skewed_clock_runs_fast_and_timers_follow_it)
{
    world *w = make_captured_world(2);
    /* n1 is 1 s ahead and runs 10% fast */
    world_skew(w, 0, 1 * SIM_S, 100000000);
    ck_assert_int_eq(node_clock(captured[0]), 1 * SIM_S);
    node_timer_set(captured[0], 110 * SIM_MS, 1);   /* 110 ms local = 100 ms real */
    ck_assert_int_eq(world_run(w, 99 * SIM_MS), WORLD_OK);
    ck_assert_int_eq(T.timer_fired[0], 0);
    ck_assert_int_eq(world_run(w, 100 * SIM_MS), WORLD_OK);
    ck_assert_int_eq(T.timer_fired[0], 1);
    ck_assert_int_eq(node_clock(captured[0]), 1 * SIM_S + 110 * SIM_MS);
    ck_assert_int_eq(node_clock(captured[1]), 100 * SIM_MS);
    world_free(w);
}
END_TEST

START_TEST(test_cancelled_timer_does_not_fire)
{
    world *w = make_captured_world(1);
    uint64_t a = node_timer_set(captured[0], 10 * SIM_MS, 1);
    node_timer_set(captured[0], 20 * SIM_MS, 10);
    node_timer_cancel(captured[0], a);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    ck_assert_int_eq(T.timer_fired[0], 10);
    world_free(w);
}
END_TEST

static char *run_traced(uint64_t seed, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    ck_assert_ptr_nonnull(f);
    FILE *tmp = tmpfile();
    trace *tr = trace_open_fd(fileno(tmp));
    world *w = make_world(seed, 3, tr);
    add_clients(w, 3, 500 * SIM_MS, 50 * SIM_MS, 1);
    ck_assert_int_eq(world_run(w, 250 * SIM_MS), WORLD_OK);
    world_crash(w, 1);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    world_finish(w);
    trace_close(tr);
    world_free(w);
    rewind(tmp);
    int c;
    while ((c = getc(tmp)) != EOF)
        fputc(c, f);
    fclose(tmp);
    fclose(f);
    return buf;
}

START_TEST(test_same_seed_gives_identical_trace)
{
    size_t la, lb, lc;
    char *a = run_traced(7, &la);
    char *b = run_traced(7, &lb);
    char *c = run_traced(8, &lc);
    ck_assert_uint_gt(la, 1000);
    ck_assert_uint_eq(la, lb);
    ck_assert_mem_eq(a, b, la);
    ck_assert(la != lc || memcmp(a, c, la) != 0);
    free(a);
    free(b);
    free(c);
}
END_TEST

START_TEST(test_event_limit_stops_a_runaway)
{
    world *w = make_world(1, 3, NULL);
    add_clients(w, 3, 0, 100 * SIM_MS, 0);
    world_set_event_limit(w, 1000);
    ck_assert_int_eq(world_run(w, 100 * SIM_S), WORLD_EVENT_LIMIT);
    ck_assert_uint_eq(world_stats(w)->events, 1000);
    world_free(w);
}
END_TEST

static Suite *world_suite(void)
{
    Suite *s = suite_create("world");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_clients_complete_operations_ok);
    tcase_add_test(tc, test_silent_node_makes_writes_indeterminate);
    tcase_add_test(tc, test_timeouts_are_retried);
    tcase_add_test(tc, test_redirects_are_followed);
    tcase_add_test(tc, test_redirect_without_a_leader_tries_another_node);
    tcase_add_test(tc, test_partitioned_client_requests_are_dropped);
    tcase_add_test(tc, test_crashed_node_drops_messages_and_forgets_timers);
    tcase_add_test(tc, test_crash_keeps_only_synced_store);
    tcase_add_test(tc, test_pause_delays_timers_and_messages);
    tcase_add_test(tc, test_skewed_clock_runs_fast_and_timers_follow_it);
    tcase_add_test(tc, test_cancelled_timer_does_not_fire);
    tcase_add_test(tc, test_same_seed_gives_identical_trace);
    tcase_add_test(tc, test_event_limit_stops_a_runaway);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(world_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
