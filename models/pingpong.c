/* pingpong: a benchmark model, not a protocol.
 *
 * At boot node i sends `fanout` small messages to node (i+1) % n; every node
 * answers every message straight back to its sender, so each message bounces
 * between one pair of nodes forever. The run is then pure engine work
 * (event queue, network, tracing) at a constant number of messages in
 * flight, which is what the bench harness wants to measure. Clients get a
 * refusal: there is no data here. */
#include <string.h>

#include "alloc.h"
#include "model.h"

#define PP_TIMER_BOOT 1u

struct pp_msg {
    uint64_t n;   /* how many times this message has bounced */
};

struct pp_state {
    uint64_t sent;
    uint64_t received;
};

static const struct model_param pp_params[] = {
    { "fanout", PARAM_INT, "1", NULL, "messages each node keeps in flight" },
    { NULL, 0, NULL, NULL, NULL },
};

static void *pp_init(node_ctx *ctx)
{
    struct pp_state *s = sim_xcalloc(1, sizeof *s);
    /* Sending from init is left to a 0-delay timer, so a restart and a
     * boot look the same to the engine: init only builds state. */
    node_timer_set(ctx, 0, PP_TIMER_BOOT);
    return s;
}

static void pp_destroy(void *state)
{
    sim_free(state);
}

static void pp_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct pp_state *s = state;
    int n = node_count(ctx);
    if (tag != PP_TIMER_BOOT || n < 2)
        return;
    int64_t fanout = params_int(node_params(ctx), "fanout");
    int to = (node_self(ctx) + 1) % n;
    for (int64_t i = 0; i < fanout; i++) {
        struct pp_msg m = { 0 };
        node_send(ctx, to, &m, sizeof m);
        s->sent++;
    }
}

static void pp_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct pp_state *s = state;
    struct pp_msg m;
    if (len != sizeof m)
        return;
    memcpy(&m, msg, sizeof m);
    s->received++;
    m.n++;
    node_send(ctx, from, &m, sizeof m);
    s->sent++;
}

static void pp_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    (void)state;
    node_reply_fail(ctx, op, "pingpong has no data");
}

static void pp_describe_msg(const void *msg, size_t len, jw *out)
{
    struct pp_msg m = { 0 };
    if (len == sizeof m)
        memcpy(&m, msg, sizeof m);
    jw_kstr(out, "type", "ping");
    jw_kint(out, "n", (int64_t)m.n);
}

static void pp_describe(const void *state, jw *out)
{
    const struct pp_state *s = state;
    jw_kint(out, "sent", (int64_t)s->sent);
    jw_kint(out, "received", (int64_t)s->received);
}

const struct model pingpong_model = {
    .name = "pingpong",
    .summary = "benchmark: every node bounces messages with its neighbour forever",
    .params = pp_params,
    .init = pp_init,
    .destroy = pp_destroy,
    .on_message = pp_on_message,
    .on_timer = pp_on_timer,
    .on_request = pp_on_request,
    .describe_msg = pp_describe_msg,
    .describe = pp_describe,
    .check = NULL,
    .cap_class = NULL,
};
