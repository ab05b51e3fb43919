/* Unit tests of the world loop, with small models defined here. */
#include "world.h"
#include "trace.h"
#include "alloc.h"
#include "check/history.h"

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

/* ---- a model that answers reads with siblings and a causal context ---------- */

static struct {
    int reads, writes, adds, removes;
    int with_ctx, ctx_matches, ctx_mismatches, ctx_before_read;
    char last_ctx[32];    /* the context the last read reply carried */
    int64_t lo, hi;       /* range of add/remove values seen */
    int calls_ok, calls_failed;
    int64_t last_call;
} S;

static void sib_on_request(void *s, node_ctx *ctx, const struct sim_op *op)
{
    (void)s;
    switch (op->type) {
    case OP_READ: {
        static const int64_t vals[] = { 5, 3 };
        S.reads++;
        snprintf(S.last_ctx, sizeof S.last_ctx, "ctx-%llu", (unsigned long long)op->id);
        node_reply_values(ctx, op, vals, 2, S.last_ctx, strlen(S.last_ctx) + 1);
        return;
    }
    case OP_ADD:
    case OP_REMOVE:
        *(op->type == OP_ADD ? &S.adds : &S.removes) += 1;
        if (op->value < S.lo)
            S.lo = op->value;
        if (op->value > S.hi)
            S.hi = op->value;
        break;
    default:
        S.writes++;
        break;
    }
    if (op->ctx_len) {
        S.with_ctx++;
        if (op->ctx_len == strlen(S.last_ctx) + 1 && memcmp(op->ctx, S.last_ctx, op->ctx_len) == 0)
            S.ctx_matches++;
        else
            S.ctx_mismatches++;
    } else if (S.reads > 0) {
        S.ctx_before_read++;   /* a write after a read that came without the context */
    }
    if (op->type == OP_WRITE) {
        int64_t out = 0;
        if (node_call(ctx, "f", op->key, op->value, 1, &out) == 0) {
            S.calls_ok++;
            S.last_call = out;
        } else {
            S.calls_failed++;
        }
    }
    node_reply_ok(ctx, op, false, 0);
}

static const struct model_param sib_params[] = {
    { "f", PARAM_FUNC, NULL, NULL, "a function for node_call" },
    { NULL, 0, NULL, NULL, NULL },
};

static int sib_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    (void)p;
    if (n_nodes > 2) {
        snprintf(err, errlen, "this model wants at most 2 nodes, got %d", n_nodes);
        return -1;
    }
    return 0;
}

static const struct model sib_model = {
    .name = "testsib",
    .summary = "siblings and contexts for unit tests",
    .params = sib_params,
    .init = reg_init,
    .destroy = reg_destroy,
    .on_message = reg_on_message,
    .on_timer = reg_on_timer,
    .on_request = sib_on_request,
    .describe_msg = reg_describe_msg,
    .describe = reg_describe,
    .validate = sib_validate,
};

/* The scenario side of node_call: f(key, a, b) = a + b, failing when a is 13. */
static int test_call(void *ud, world *w, const char *param, const char *key, int64_t a, int64_t b,
                     int64_t *out)
{
    (void)ud; (void)w; (void)key;
    ck_assert_str_eq(param, "f");
    if (a == 13)
        return 1;
    *out = a + b;
    return 0;
}

static world *make_sib_world(int nodes, bool with_func, trace *tr, char *err, size_t errlen)
{
    memset(&S, 0, sizeof S);
    memset(&T, 0, sizeof T);
    S.lo = INT64_MAX;
    S.hi = INT64_MIN;
    world *w = world_new(3, tr);
    params *p = params_new("testsib", sib_params, err, errlen);
    ck_assert_ptr_nonnull(p);
    if (with_func)
        ck_assert_int_eq(params_set_func(p, "f", err, errlen), 0);
    if (world_cluster(w, &sib_model, p, nodes, NULL, err, errlen) != 0) {
        world_free(w);
        return NULL;
    }
    world_set_call(w, test_call, NULL);
    return w;
}

/* ---- a one-node transactional store ---------------------------------------------- */

static struct {
    int n_keys;
    char keys[8][8];
    int64_t vals[8];
    int txns;
} X;

static void txn_on_request(void *s, node_ctx *ctx, const struct sim_op *op)
{
    (void)s;
    ck_assert_int_eq(op->type, OP_TXN);
    ck_assert_int_ge(op->n_micro, 2);
    ck_assert_int_le(op->n_micro, 4);
    ck_assert_str_eq(op->key, op->micro[0].key);
    int64_t results[SIM_TXN_MAX];
    for (int i = 0; i < op->n_micro; i++) {
        const struct sim_micro *m = &op->micro[i];
        int k = 0;
        while (k < X.n_keys && strcmp(X.keys[k], m->key) != 0)
            k++;
        if (k == X.n_keys) {
            snprintf(X.keys[k], sizeof X.keys[k], "%s", m->key);
            X.vals[k] = SIM_NIL;
            X.n_keys++;
        }
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(op->micro[j].key, m->key);   /* distinct keys */
        if (m->f == OP_WRITE)
            X.vals[k] = m->value;
        results[i] = m->f == OP_WRITE ? m->value : X.vals[k];
    }
    X.txns++;
    node_reply_txn(ctx, op, results);
}

static const struct model txn_model = {
    .name = "testtxn",
    .summary = "a one-node transactional store for unit tests",
    .params = reg_params,
    .init = reg_init,
    .destroy = reg_destroy,
    .on_message = reg_on_message,
    .on_timer = reg_on_timer,
    .on_request = txn_on_request,
    .describe_msg = reg_describe_msg,
    .describe = reg_describe,
};

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

/* A model may ask for any delay: beyond the run limit it is clamped there,
 * never added to the clock with an overflow (UBSan checks the sum). */
START_TEST(test_huge_timer_delay_is_clamped_not_overflowed)
{
    world *w = make_captured_world(1);
    ck_assert_int_eq(world_run(w, 5 * SIM_MS), WORLD_OK);
    node_timer_set(captured[0], INT64_MAX, 1);
    node_timer_set(captured[0], INT64_MAX - 1, 1);
    node_timer_set(captured[0], 10 * SIM_MS, 10);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    ck_assert_int_eq(T.timer_fired[0], 10);   /* the huge ones never came due */
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

START_TEST(test_validate_refuses_a_cluster)
{
    char err[256] = "";
    world *w = make_sib_world(3, false, NULL, err, sizeof err);
    ck_assert_ptr_null(w);
    ck_assert_str_eq(err, "this model wants at most 2 nodes, got 3");
}
END_TEST

START_TEST(test_read_context_rides_on_the_next_write)
{
    char err[256];
    world *w = make_sib_world(1, false, NULL, err, sizeof err);
    ck_assert_ptr_nonnull(w);
    add_clients(w, 1, 2 * SIM_S, 100 * SIM_MS, 0);   /* one client, one key, read/write */
    ck_assert_int_eq(world_run(w, 3 * SIM_S), WORLD_OK);
    ck_assert_int_gt(S.reads, 20);
    ck_assert_int_gt(S.writes, 20);
    /* every write after the first read carries exactly that read's context */
    ck_assert_int_gt(S.ctx_matches, 10);
    ck_assert_int_eq(S.ctx_mismatches, 0);
    ck_assert_int_eq(S.ctx_before_read, 0);
    ck_assert_int_eq(S.with_ctx, S.ctx_matches);
    world_free(w);
}
END_TEST

START_TEST(test_add_remove_draw_from_the_values_range)
{
    char err[256];
    world *w = make_sib_world(2, false, NULL, err, sizeof err);
    ck_assert_ptr_nonnull(w);
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = 2;
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("s");
    wl.mix[OP_READ] = 0;
    wl.mix[OP_WRITE] = 0;
    wl.mix[OP_ADD] = 3;
    wl.mix[OP_REMOVE] = 1;
    wl.values_lo = -2;
    wl.values_hi = 2;
    wl.duration = 2 * SIM_S;
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
    ck_assert_int_eq(world_run(w, 3 * SIM_S), WORLD_OK);
    ck_assert_int_eq(S.reads + S.writes, 0);
    ck_assert_int_gt(S.adds, 2 * S.removes);   /* weights 3:1 */
    ck_assert_int_gt(S.removes, 20);
    ck_assert_int_eq(S.lo, -2);
    ck_assert_int_eq(S.hi, 2);
    world_free(w);
}
END_TEST

START_TEST(test_bad_values_range_is_refused)
{
    char err[256];
    world *w = make_sib_world(1, false, NULL, err, sizeof err);
    struct workload wl;
    workload_defaults(&wl);
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("s");
    wl.mix[OP_ADD] = 1;
    wl.values_lo = 3;
    wl.values_hi = 2;
    ck_assert_int_ne(world_workload(w, &wl, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "lo <= hi"));
    sim_free(wl.keys[0]);   /* refused: the keys are still ours */
    sim_free(wl.keys);
    world_free(w);
}
END_TEST

START_TEST(test_node_call_reaches_the_scenario_and_a_failure_stops_the_run)
{
    char err[256];
    /* no function given: node_call says so and the run goes on */
    world *w = make_sib_world(1, false, NULL, err, sizeof err);
    add_clients(w, 1, 500 * SIM_MS, 100 * SIM_MS, 0);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    ck_assert_int_gt(S.calls_failed, 0);
    ck_assert_int_eq(S.calls_ok, 0);
    world_free(w);
    /* given: f(key, value, 1) = value + 1, until a write of 13 fails it */
    w = make_sib_world(1, true, NULL, err, sizeof err);
    add_clients(w, 1, 0, 100 * SIM_MS, 0);
    ck_assert_int_eq(world_run(w, 60 * SIM_S), WORLD_STOPPED);
    ck_assert_int_gt(S.calls_ok, 0);
    ck_assert_int_eq(S.calls_failed, 1);
    ck_assert_int_eq(S.last_call, 12 + 1);   /* the last good call: the write of 12 */
    world_free(w);
}
END_TEST

START_TEST(test_siblings_are_traced_as_values)
{
    char err[256];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FILE *tmp = tmpfile();
    trace *tr = trace_open_fd(fileno(tmp));
    ck_assert_ptr_nonnull(tr);
    world *w = make_sib_world(1, false, tr, err, sizeof err);
    add_clients(w, 1, 300 * SIM_MS, 100 * SIM_MS, 0);
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
    ck_assert_ptr_nonnull(strstr(buf, "\"ev\":\"ok\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"value\":null,\"values\":[5,3]"));
    ck_assert_ptr_nonnull(strstr(buf, "\"ctx_bytes\":"));
    free(buf);
}
END_TEST

/* An invariant over the register model: no node holds a value above 6. */
static int reg_check(const struct model_view *view, char *why, size_t whylen)
{
    for (int i = 0; i < view->n_nodes; i++) {
        const struct reg *r = view->states[i];
        if (r && r->has && r->value > 6) {
            snprintf(why, whylen, "value bound: node %d holds %lld", i, (long long)r->value);
            return 1;
        }
    }
    return 0;
}

static world *make_checked_world(bool keep_going)
{
    captured_model = reg_model;
    captured_model.check = reg_check;
    memset(&T, 0, sizeof T);
    T.redirect_to = -1;
    char err[256];
    world *w = world_new(1, NULL);
    params *p = params_new("testreg", reg_params, err, sizeof err);
    ck_assert_int_eq(world_cluster(w, &captured_model, p, 1, NULL, err, sizeof err), 0);
    world_set_keep_going(w, keep_going);
    add_clients(w, 1, 0, 100 * SIM_MS, 0);
    return w;
}

START_TEST(test_a_broken_invariant_stops_the_run_with_the_events_before_it)
{
    world *w = make_checked_world(false);
    ck_assert_int_eq(world_run(w, 10 * SIM_S), WORLD_INVARIANT);
    sim_time at = 0;
    const char *report = NULL;
    ck_assert(world_halted(w, &at, &report));
    ck_assert_int_eq(world_now(w), at);
    ck_assert_int_lt(at, 10 * SIM_S);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 1);
    /* the sentence, then the request that broke it, last */
    ck_assert_msg(strncmp(report, "value bound: node 0 holds 7\n", 28) == 0, "report: %s", report);
    size_t len = strlen(report);
    ck_assert(len > 1 && report[len - 1] == '\n');
    const char *last = report + len - 2;
    while (last > report && last[-1] != '\n')
        last--;
    ck_assert_msg(strstr(last, "n1 <- c1 request op") != NULL, "last line: %s", last);
    /* nothing runs any more */
    uint64_t events = world_stats(w)->events;
    ck_assert_int_eq(world_run(w, 20 * SIM_S), WORLD_INVARIANT);
    ck_assert_uint_eq(world_stats(w)->events, events);
    world_free(w);
}
END_TEST

START_TEST(test_keep_going_counts_violations_and_runs_on)
{
    world *w = make_checked_world(true);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    ck_assert(!world_halted(w, NULL, NULL));
    ck_assert_int_eq(world_now(w), 1 * SIM_S);
    /* values 7, 8, ... each break it anew (the sentence changes) */
    ck_assert_uint_gt(world_stats(w)->invariant_violations, 5);
    world_free(w);
}
END_TEST

START_TEST(test_transactions_are_generated_traced_and_read_back)
{
    memset(&X, 0, sizeof X);
    memset(&T, 0, sizeof T);
    char err[256];
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    /* sim run writes the header; the history reader wants one */
    fputs("{\"ev\":\"header\",\"format\":1,\"sim_version\":\"0\",\"seed\":\"5\"}\n", f);
    FILE *tmp = tmpfile();
    trace *tr = trace_open_fd(fileno(tmp));
    world *w = world_new(5, tr);
    params *p = params_new("testtxn", reg_params, err, sizeof err);
    ck_assert_int_eq(world_cluster(w, &txn_model, p, 1, NULL, err, sizeof err), 0);
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = 1;   /* one client: completion order is the store's apply order */
    wl.n_keys = 5;
    wl.keys = sim_xcalloc(5, sizeof *wl.keys);
    for (int k = 0; k < 5; k++) {
        char name[8];
        snprintf(name, sizeof name, "k%d", k);
        wl.keys[k] = sim_xstrdup(name);
    }
    wl.mix[OP_READ] = wl.mix[OP_WRITE] = 0;
    wl.mix[OP_TXN] = 1;
    wl.txn_min = 2;
    wl.txn_max = 4;
    wl.duration = 1 * SIM_S;
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
    ck_assert_int_eq(world_run(w, 2 * SIM_S), WORLD_OK);
    world_finish(w);
    trace_close(tr);
    world_free(w);
    rewind(tmp);
    int c;
    while ((c = getc(tmp)) != EOF)
        fputc(c, f);
    fclose(tmp);
    fclose(f);
    ck_assert_int_gt(X.txns, 50);
    ck_assert_ptr_nonnull(strstr(buf, "\"f\":\"txn\",\"key\":"));
    /* read it back: every ok transaction's reads are what the store held */
    hist *h = NULL;
    int prc = hist_parse(HIST_FORMAT_TRACE, buf, len, "t", &h, err, sizeof err);
    ck_assert_msg(prc == 0, "%s", err);
    ck_assert(!hist_registers_only(h, NULL, 0));
    size_t oks = 0, reads = 0, non_nil = 0;
    int64_t last[64];
    for (int i = 0; i < 64; i++)
        last[i] = HIST_NIL;
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        ck_assert_int_eq(op->f, HIST_TXN);
        ck_assert_uint_ge(op->micro_n, 2);
        ck_assert_uint_le(op->micro_n, 4);
        oks += op->type == HIST_OK;
    }
    ck_assert_uint_eq(oks, (size_t)X.txns);
    /* replay in completion order */
    size_t n = hist_count(h);
    size_t *order = sim_xcalloc(n, sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && hist_op(h, order[j])->complete_pos < hist_op(h, order[j - 1])->complete_pos; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, order[i]);
        if (op->type != HIST_OK)
            continue;
        const struct hist_micro *m = hist_micro(h, op);
        for (uint32_t k = 0; k < op->micro_n; k++) {
            ck_assert_int_lt(m[k].key, 64);
            if (m[k].f == HIST_READ) {
                reads++;
                non_nil += m[k].value != HIST_NIL;
                ck_assert_int_eq(m[k].value, last[m[k].key]);
            } else {
                last[m[k].key] = m[k].value;
            }
        }
    }
    ck_assert_uint_gt(reads, 40);
    ck_assert_uint_gt(non_nil, 30);
    sim_free(order);
    hist_free(h);
    free(buf);
}
END_TEST

/* A model whose every message makes two: a storm the queue limit stops. */
static void storm_on_message(void *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    (void)s;
    node_send(ctx, from, msg, len);
    node_send(ctx, from, msg, len);
}

static void storm_on_timer(void *s, node_ctx *ctx, uint64_t tag)
{
    (void)s; (void)tag;
    char b = 1;
    node_broadcast(ctx, &b, 1);
}

static void *storm_init(node_ctx *ctx)
{
    node_timer_set(ctx, SIM_MS, 1);
    return reg_init(ctx);
}

START_TEST(test_a_message_storm_stops_at_the_queue_limit)
{
    captured_model = reg_model;
    captured_model.init = storm_init;
    captured_model.on_message = storm_on_message;
    captured_model.on_timer = storm_on_timer;
    memset(&T, 0, sizeof T);
    char err[256];
    world *w = world_new(1, NULL);
    params *p = params_new("testreg", reg_params, err, sizeof err);
    ck_assert_int_eq(world_cluster(w, &captured_model, p, 2, NULL, err, sizeof err), 0);
    world_set_max_pending(w, 5000);
    ck_assert_int_eq(world_run(w, 10 * SIM_S), WORLD_QUEUE_LIMIT);
    ck_assert_uint_lt(world_stats(w)->events, 20000);   /* long before the event limit */
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
    tcase_add_test(tc, test_huge_timer_delay_is_clamped_not_overflowed);
    tcase_add_test(tc, test_cancelled_timer_does_not_fire);
    tcase_add_test(tc, test_same_seed_gives_identical_trace);
    tcase_add_test(tc, test_event_limit_stops_a_runaway);
    tcase_add_test(tc, test_validate_refuses_a_cluster);
    tcase_add_test(tc, test_read_context_rides_on_the_next_write);
    tcase_add_test(tc, test_add_remove_draw_from_the_values_range);
    tcase_add_test(tc, test_bad_values_range_is_refused);
    tcase_add_test(tc, test_node_call_reaches_the_scenario_and_a_failure_stops_the_run);
    tcase_add_test(tc, test_siblings_are_traced_as_values);
    tcase_add_test(tc, test_a_broken_invariant_stops_the_run_with_the_events_before_it);
    tcase_add_test(tc, test_keep_going_counts_violations_and_runs_on);
    tcase_add_test(tc, test_transactions_are_generated_traced_and_read_back);
    tcase_add_test(tc, test_a_message_storm_stops_at_the_queue_limit);
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
