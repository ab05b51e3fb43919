/* Unit tests of request ids: the engine carries the client operation that
 * caused a handler through the messages and timers it makes (node_req,
 * node_set_req, "req" on send, timer and note lines), with a small model
 * defined here. */
#include "world.h"
#include "trace.h"
#include "alloc.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { M_FWD = 1, M_BACK, M_RETRY, M_PING, M_QUEUED };
enum { T_RETRY = 1, T_TICK = 2, T_BOOT = 100 };

struct rmsg {
    int kind;
    struct sim_op op;
};

/* What each handler saw as its current request. */
static struct {
    uint64_t op_id;
    uint64_t at_request, at_fwd, at_back, at_retry_timer, at_retry_msg;
    uint64_t at_boot_timer, at_ping, after_set, at_queued;
    uint64_t ticks[16];
    int n_ticks;
} R;

static void *rq_init(node_ctx *ctx)
{
    if (node_self(ctx) == 0)
        node_timer_set(ctx, 2 * SIM_MS, T_BOOT);   /* set at boot: no request */
    return sim_xcalloc(1, 1);
}

static void rq_destroy(void *s) { sim_free(s); }

static void send_kind(node_ctx *ctx, int to, int kind, const struct sim_op *op)
{
    struct rmsg m;
    memset(&m, 0, sizeof m);
    m.kind = kind;
    if (op)
        m.op = *op;
    node_send(ctx, to, &m, sizeof m);
}

static void rq_on_request(void *s, node_ctx *ctx, const struct sim_op *op)
{
    (void)s;
    R.op_id = op->id;
    R.at_request = node_req(ctx);
    jw *j = node_note_begin(ctx, "got");
    if (j) {
        jw_kint(j, "op", (int64_t)op->id);
        node_note_end(ctx);
    }
    send_kind(ctx, 1, M_FWD, op);
    node_timer_set(ctx, 1000, T_RETRY);          /* fires long before the answer */
    node_timer_set(ctx, 10 * SIM_MS, T_TICK);    /* re-arms itself: a heartbeat */
}

static void rq_on_message(void *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    (void)s;
    (void)from;
    (void)len;
    const struct rmsg *m = msg;
    switch (m->kind) {
    case M_FWD:
        R.at_fwd = node_req(ctx);
        send_kind(ctx, 0, M_BACK, &m->op);
        break;
    case M_BACK:
        R.at_back = node_req(ctx);
        node_reply_ok(ctx, &m->op, false, 0);
        break;
    case M_RETRY: R.at_retry_msg = node_req(ctx); break;
    case M_PING: R.at_ping = node_req(ctx); break;
    case M_QUEUED: R.at_queued = node_req(ctx); break;
    }
}

static void rq_on_timer(void *s, node_ctx *ctx, uint64_t tag)
{
    (void)s;
    switch (tag) {
    case T_RETRY:
        R.at_retry_timer = node_req(ctx);
        send_kind(ctx, 2, M_RETRY, NULL);
        break;
    case T_BOOT:
        R.at_boot_timer = node_req(ctx);
        send_kind(ctx, 2, M_PING, NULL);
        node_set_req(ctx, 7);                     /* queued work of request 7 */
        R.after_set = node_req(ctx);
        send_kind(ctx, 2, M_QUEUED, NULL);
        break;
    case T_TICK:
        if (R.n_ticks < 16)
            R.ticks[R.n_ticks++] = node_req(ctx);
        if (R.n_ticks < 10)
            node_timer_set(ctx, 10 * SIM_MS, T_TICK);
        break;
    }
}

static void rq_describe_msg(const void *msg, size_t len, jw *out)
{
    (void)len;
    static const char *const names[] = { "?", "fwd", "back", "retry", "ping", "queued" };
    const struct rmsg *m = msg;
    jw_kstr(out, "type", names[m->kind >= 1 && m->kind <= 5 ? m->kind : 0]);
}

static const struct model_param rq_params[] = { { NULL, 0, NULL, NULL, NULL } };
static const struct model rq_model = {
    .name = "reqtest",
    .summary = "request ids for unit tests",
    .params = rq_params,
    .init = rq_init,
    .destroy = rq_destroy,
    .on_message = rq_on_message,
    .on_timer = rq_on_timer,
    .on_request = rq_on_request,
    .describe_msg = rq_describe_msg,
};

/* Run one client operation (op 1) against the model; the trace's text in
 * *text (the caller frees it). */
static world *run_one(char **text)
{
    memset(&R, 0, sizeof R);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    trace *tr = trace_open_fd(fileno(tmp));
    char err[256];
    world *w = world_new(1, tr);
    params *p = params_new("reqtest", rq_params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(world_cluster(w, &rq_model, p, 3, NULL, err, sizeof err), 0);
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = 1;
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    wl.mix[OP_READ] = 0;
    wl.mix[OP_WRITE] = 1;
    wl.think = 500 * SIM_MS;
    wl.duration = 50 * SIM_MS;   /* one operation */
    wl.timeout = 400 * SIM_MS;
    wl.target = WL_TARGET_NODE;
    wl.node = 0;
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    world_finish(w);
    trace_close(tr);
    rewind(tmp);
    size_t cap = 1 << 16, n = 0;
    char *buf = sim_xmalloc(cap);
    int c;
    while ((c = getc(tmp)) != EOF) {
        if (n + 1 >= cap)
            buf = sim_xrealloc(buf, cap *= 2);
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    fclose(tmp);
    *text = buf;
    return w;
}

/* The first trace line that contains every one of the (up to 3) parts. */
static const char *line_with(const char *text, const char *a, const char *b, char *out, size_t n)
{
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        snprintf(out, n, "%.*s", (int)len, p);
        if (strstr(out, a) && (!b || strstr(out, b)))
            return out;
        p += len + (e ? 1 : 0);
    }
    return NULL;
}

START_TEST(test_a_send_caused_by_a_client_op_carries_its_id)
{
    char *text;
    world *w = run_one(&text);
    ck_assert_uint_eq(world_stats(w)->ops_ok, 1);
    ck_assert_uint_eq(R.op_id, 1);
    ck_assert_uint_eq(R.at_request, 1);
    ck_assert_uint_eq(R.at_fwd, 1);     /* a message sent while handling it */
    ck_assert_uint_eq(R.at_back, 1);    /* and the answer to that message */
    char line[1024];
    ck_assert_ptr_nonnull(line_with(text, "\"type\":\"fwd\"", "\"req\":1}", line, sizeof line));
    ck_assert_ptr_nonnull(line_with(text, "\"type\":\"back\"", "\"req\":1}", line, sizeof line));
    ck_assert_ptr_nonnull(line_with(text, "\"type\":\"request\"", "\"req\":1}", line, sizeof line));
    ck_assert_ptr_nonnull(line_with(text, "\"type\":\"reply\"", "\"req\":1}", line, sizeof line));
    ck_assert_ptr_nonnull(line_with(text, "\"what\":\"got\"", "\"req\":1", line, sizeof line));
    sim_free(text);
    world_free(w);
}
END_TEST

START_TEST(test_a_timer_caused_retry_keeps_the_id)
{
    char *text;
    world *w = run_one(&text);
    ck_assert_uint_eq(R.at_retry_timer, 1);
    ck_assert_uint_eq(R.at_retry_msg, 1);
    char line[1024];
    ck_assert_ptr_nonnull(line_with(text, "\"tag\":1,", "\"req\":1}", line, sizeof line));
    ck_assert_ptr_nonnull(line_with(text, "\"type\":\"retry\"", "\"req\":1}", line, sizeof line));
    sim_free(text);
    world_free(w);
}
END_TEST

START_TEST(test_a_message_with_no_client_cause_has_none)
{
    char *text;
    world *w = run_one(&text);
    ck_assert_uint_eq(R.at_boot_timer, 0);
    ck_assert_uint_eq(R.at_ping, 0);
    char line[1024];
    ck_assert_ptr_nonnull(line_with(text, "\"type\":\"ping\"", NULL, line, sizeof line));
    ck_assert_ptr_null(strstr(line, "\"req\""));
    ck_assert_ptr_nonnull(line_with(text, "\"tag\":100", NULL, line, sizeof line));
    ck_assert_ptr_null(strstr(line, "\"req\""));
    sim_free(text);
    world_free(w);
}
END_TEST

START_TEST(test_node_set_req_names_queued_work)
{
    char *text;
    world *w = run_one(&text);
    ck_assert_uint_eq(R.after_set, 7);
    ck_assert_uint_eq(R.at_queued, 7);
    char line[1024];
    ck_assert_ptr_nonnull(line_with(text, "\"type\":\"queued\"", "\"req\":7}", line, sizeof line));
    sim_free(text);
    world_free(w);
}
END_TEST

START_TEST(test_a_finished_request_is_not_carried_on_by_a_heartbeat)
{
    char *text;
    world *w = run_one(&text);
    /* the tick was set while handling op 1 and re-arms itself every 10 ms;
     * op 1 is answered within a few ms, so later ticks run for nobody */
    ck_assert_int_eq(R.n_ticks, 10);
    for (int i = 1; i < R.n_ticks; i++)
        ck_assert_uint_eq(R.ticks[i], 0);
    sim_free(text);
    world_free(w);
}
END_TEST

START_TEST(test_a_run_without_clients_has_no_req)
{
    memset(&R, 0, sizeof R);
    FILE *tmp = tmpfile();
    trace *tr = trace_open_fd(fileno(tmp));
    char err[256];
    world *w = world_new(3, tr);
    params *p = params_new("reqtest", rq_params, err, sizeof err);
    ck_assert_int_eq(world_cluster(w, &rq_model, p, 3, NULL, err, sizeof err), 0);
    ck_assert_int_eq(world_run(w, 100 * SIM_MS), WORLD_OK);
    world_finish(w);
    trace_close(tr);
    rewind(tmp);
    char line[4096];
    int sends = 0;
    while (fgets(line, sizeof line, tmp)) {
        sends += strstr(line, "\"ev\":\"send\"") != NULL;
        if (strstr(line, "\"type\":\"queued\""))
            continue;   /* the model names request 7 itself */
        ck_assert_ptr_null(strstr(line, "\"req\""));
    }
    ck_assert_int_ge(sends, 2);
    fclose(tmp);
    world_free(w);
}
END_TEST

static Suite *reqid_suite(void)
{
    Suite *s = suite_create("reqid");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_a_send_caused_by_a_client_op_carries_its_id);
    tcase_add_test(tc, test_a_timer_caused_retry_keeps_the_id);
    tcase_add_test(tc, test_a_message_with_no_client_cause_has_none);
    tcase_add_test(tc, test_node_set_req_names_queued_work);
    tcase_add_test(tc, test_a_finished_request_is_not_carried_on_by_a_heartbeat);
    tcase_add_test(tc, test_a_run_without_clients_has_no_req);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reqid_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
