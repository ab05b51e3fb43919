/* The world loop: nodes, timers, clocks, message delivery, faults, tracing.
 *
 * One thread, one virtual clock. world_run pops events in (time, sequence)
 * order and dispatches them to nodes, clients, the nemesis or the script.
 * Every decision that could depend on memory layout is made by sequence
 * numbers or indices instead. */
#include "world_internal.h"
#include "alloc.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_EVENT_LIMIT 200000000ULL

/* clock arithmetic needs 128 bits: elapsed ns times parts per billion */
__extension__ typedef __int128 i128;

/* ---- creation ---------------------------------------------------------- */

world *world_new(uint64_t seed, struct trace *tr)
{
    world *w = sim_xcalloc(1, sizeof *w);
    w->seed = seed;
    w->tr = tr;
    w->q = evq_new();
    w->event_limit = DEFAULT_EVENT_LIMIT;
    w->max_pending = WORLD_MAX_PENDING;
    w->next_op_id = 1;
    w->next_value = 1;
    w->next_msg_id = 1;
    w->next_timer_id = 1;
    w->next_token = 1;
    return w;
}

static void envelope_release(struct envelope *env)
{
    if (--env->refs <= 0)
        sim_free(env);
}

void world_free(world *w)
{
    if (!w)
        return;
    struct evq_event ev;
    while (evq_pop(w->q, &ev))
        if (ev.kind == EV_DELIVER)
            envelope_release(ev.ptr);
    evq_free(w->q);
    for (int i = 0; i < w->n_nodes; i++) {
        struct node_ctx *n = &w->nodes[i];
        if (n->state && w->model->destroy)
            w->model->destroy(n->state);
        for (size_t k = 0; k < n->n_deferred; k++)
            if (n->deferred[k].kind == EV_DELIVER)
                envelope_release(n->deferred[k].ptr);
        sim_free(n->deferred);
        sim_free(n->timers);
        store_free(n->store);
        sim_free(n->name);
    }
    sim_free(w->nodes);
    sim_free(w->req_done);
    sim_free(w->halt_report);
    for (int i = 0; i < w->n_clients; i++) {
        sim_free(w->clients[i].name);
        sim_free(w->clients[i].queue);
        if (w->clients[i].ctx) {
            for (int k = 0; k < w->workloads[w->clients[i].workload].cfg.n_keys; k++)
                sim_free(w->clients[i].ctx[k]);
            sim_free(w->clients[i].ctx);
            sim_free(w->clients[i].ctx_len);
        }
    }
    sim_free(w->clients);
    for (int i = 0; i < w->n_workloads; i++) {
        struct wl_state *s = &w->workloads[i];
        for (int k = 0; k < s->cfg.n_keys; k++)
            sim_free(s->cfg.keys[k]);
        sim_free(s->cfg.keys);
        sim_free(s->cfg.script);
        sim_free(s->zipf_cut);
        sim_free(s->last_value);
    }
    sim_free(w->workloads);
    nemesis_free(w->nemesis);
    for (int e = 0; e < w->n_qnames; e++)
        sim_free(w->qnames[e]);
    sim_free(w->qnames);
    sim_free(w->qname_len);
    net_free(w->net);
    params_free(w->params);
    sim_free(w);
}

uint64_t world_seed(const world *w) { return w->seed; }
struct trace *world_trace(world *w) { return w->tr; }
bool world_has_cluster(const world *w) { return w->model != NULL; }
const struct model *world_model(const world *w) { return w->model; }
const params *world_params(const world *w) { return w->params; }
net *world_net(world *w) { return w->net; }
int world_nodes(const world *w) { return w->n_nodes; }
int world_clients(const world *w) { return w->n_clients; }
sim_time world_now(const world *w) { return w->now; }
const struct world_stats *world_stats(const world *w) { return &w->stats; }
void world_set_event_limit(world *w, uint64_t max_events) { w->event_limit = max_events; }

int world_endpoint_is_client(const world *w, int e)
{
    return e >= w->n_nodes;
}

const char *world_name(const world *w, int e)
{
    if (e < 0)
        return "?";
    if (e < w->n_nodes)
        return w->nodes[e].name;
    if (e - w->n_nodes < w->n_clients)
        return w->clients[e - w->n_nodes].name;
    return "?";
}

int world_find(const world *w, const char *name)
{
    for (int i = 0; i < w->n_nodes; i++)
        if (strcmp(w->nodes[i].name, name) == 0)
            return i;
    for (int i = 0; i < w->n_clients; i++)
        if (strcmp(w->clients[i].name, name) == 0)
            return w->n_nodes + i;
    return -1;
}

bool world_node_up(const world *w, int node)
{
    return node >= 0 && node < w->n_nodes && w->nodes[node].up;
}

/* ---- tracing helpers ---------------------------------------------------- */

/* Endpoint names as JSON strings, built once: names appear in most trace
 * lines. Called whenever endpoints are added. */
void world_cache_names(world *w)
{
    int total = w->n_nodes + w->n_clients;
    w->qnames = sim_xrealloc(w->qnames, (size_t)total * sizeof *w->qnames);
    w->qname_len = sim_xrealloc(w->qname_len, (size_t)total * sizeof *w->qname_len);
    jw tmp;
    jw_init(&tmp);
    for (int e = w->n_qnames; e < total; e++) {
        jw_reset(&tmp);
        jw_str(&tmp, world_name(w, e));
        w->qnames[e] = sim_xstrdup(tmp.buf);
        w->qname_len[e] = tmp.len;
    }
    w->n_qnames = total;
    jw_free(&tmp);
}

/* ,"id":N,"from":"a","to":"b" of a message line: laid out by hand because
 * every message writes two or three of these lines. */
static void trace_route(world *w, jw *j, const struct envelope *env)
{
    JW_APPEND(j, ",\"id\":");
    jw_append_int(j, (int64_t)env->id);
    JW_APPEND(j, ",\"from\":");
    jw_append(j, w->qnames[env->from], w->qname_len[env->from]);
    JW_APPEND(j, ",\"to\":");
    jw_append(j, w->qnames[env->to], w->qname_len[env->to]);
}

static jw *tbegin(world *w, const char *ev)
{
    return trace_begin(w->tr, w->now, ev);
}

static void tend(world *w)
{
    trace_end(w->tr);
}

static void trace_node_event(world *w, const char *ev, int node)
{
    if (!w->tr)
        return;
    jw *j = tbegin(w, ev);
    jw_kstr(j, "node", w->nodes[node].name);
    tend(w);
}

/* ---- the cluster --------------------------------------------------------- */

static void node_boot(world *w, struct node_ctx *n);

int world_cluster(world *w, const struct model *m, params *p, int n,
                  const char *const *names, char *err, size_t errlen)
{
    if (w->model) {
        snprintf(err, errlen, "the cluster is already defined");
        params_free(p);
        return -1;
    }
    if (n < 1 || n > WORLD_MAX_NODES) {
        snprintf(err, errlen, "a cluster needs 1 to %d nodes, got %d", WORLD_MAX_NODES, n);
        params_free(p);
        return -1;
    }
    if (m->validate && m->validate(p, n, err, errlen) != 0) {
        params_free(p);
        return -1;
    }
    w->model = m;
    w->params = p;
    w->n_nodes = n;
    w->nodes = sim_xcalloc((size_t)n, sizeof *w->nodes);
    for (int i = 0; i < n; i++) {
        struct node_ctx *nd = &w->nodes[i];
        nd->w = w;
        nd->index = i;
        if (names) {
            nd->name = sim_xstrdup(names[i]);
        } else {
            char buf[16];
            snprintf(buf, sizeof buf, "n%d", i + 1);
            nd->name = sim_xstrdup(buf);
        }
        nd->store = store_new();
        pcg32_stream(&nd->rng, w->seed, PCG_STREAM_NODE + (uint64_t)i);
        nd->term = -1;
    }
    w->net = net_new(n, w->seed);
    world_cache_names(w);
    if (w->tr) {
        jw *j = tbegin(w, "cluster");
        jw_kstr(j, "model", m->name);
        jw_key(j, "nodes");
        jw_arr(j);
        for (int i = 0; i < n; i++)
            jw_str(j, w->nodes[i].name);
        jw_arr_end(j);
        jw_key(j, "params");
        jw_obj(j);
        params_write(p, j);
        jw_obj_end(j);
        if (m->cap_class)
            jw_kstr(j, "cap_class", m->cap_class(p));
        tend(w);
    }
    for (int i = 0; i < n; i++)
        node_boot(w, &w->nodes[i]);
    return 0;
}


/* ---- node clock and timers --------------------------------------------- */

static sim_time local_clock(const struct node_ctx *n, sim_time global)
{
    i128 elapsed = global - n->base_global;
    i128 extra = elapsed * n->drift_ppb / 1000000000;
    return n->base_local + (sim_time)(elapsed + extra);
}

/* Global delay after which the local clock has advanced by local_delay. */
static sim_time global_delay(const struct node_ctx *n, sim_time local_delay)
{
    if (local_delay <= 0)
        return 0;
    if (n->drift_ppb == 0)   /* clamped so that now + delay cannot overflow */
        return local_delay > SIM_TIME_LIMIT ? SIM_TIME_LIMIT : local_delay;
    i128 num = (i128)local_delay * 1000000000;
    i128 den = 1000000000 + (i128)n->drift_ppb;
    if (den <= 0)
        return SIM_TIME_LIMIT;
    i128 d = (num + den - 1) / den;
    return d > SIM_TIME_LIMIT ? SIM_TIME_LIMIT : (sim_time)d;
}

static struct timer_slot *timer_find(struct node_ctx *n, uint64_t id, size_t *pos)
{
    size_t lo = 0, hi = n->n_timers;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (n->timers[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return lo < n->n_timers && n->timers[lo].id == id ? &n->timers[lo] : NULL;
}

static void timer_remove_at(struct node_ctx *n, size_t pos)
{
    memmove(&n->timers[pos], &n->timers[pos + 1], (n->n_timers - pos - 1) * sizeof *n->timers);
    n->n_timers--;
}

/* ---- node lifecycle ------------------------------------------------------ */

static void node_boot(world *w, struct node_ctx *n)
{
    n->up = true;
    n->paused = false;
    n->state = w->model->init(n);
}

static void node_clear_deferred(struct node_ctx *n)
{
    for (size_t k = 0; k < n->n_deferred; k++)
        if (n->deferred[k].kind == EV_DELIVER)
            envelope_release(n->deferred[k].ptr);
    n->n_deferred = 0;
}

static void recent_push(world *w, enum recent_kind kind, int node, int from, uint64_t tag,
                        const struct envelope *env);

void world_crash(world *w, int node)
{
    struct node_ctx *n = &w->nodes[node];
    if (!n->up) {
        if (w->tr) {
            jw *j = tbegin(w, "crash");
            jw_kstr(j, "node", n->name);
            jw_kbool(j, "already_down", 1);
            tend(w);
        }
        return;
    }
    size_t lost = store_pending(n->store);
    if (w->model->destroy)
        w->model->destroy(n->state);
    n->state = NULL;
    n->up = false;
    n->paused = false;
    n->pause_gen++;
    n->n_timers = 0;
    node_clear_deferred(n);
    store_crash(n->store);
    w->stats.crashes++;
    if (w->tr) {
        jw *j = tbegin(w, "crash");
        jw_kstr(j, "node", n->name);
        jw_kint(j, "unsynced_lost", (int64_t)lost);
        tend(w);
    }
    n->role[0] = 0;
    n->term = -1;
    if (w->model->check)
        recent_push(w, RECENT_CRASH, node, -1, 0, NULL);
}

void world_restart(world *w, int node)
{
    struct node_ctx *n = &w->nodes[node];
    if (n->up) {
        if (w->tr) {
            jw *j = tbegin(w, "restart");
            jw_kstr(j, "node", n->name);
            jw_kbool(j, "already_up", 1);
            tend(w);
        }
        return;
    }
    trace_node_event(w, "restart", node);
    if (w->model->check)
        recent_push(w, RECENT_RESTART, node, -1, 0, NULL);
    node_boot(w, n);
}

void world_pause(world *w, int node, sim_time duration)
{
    struct node_ctx *n = &w->nodes[node];
    if (w->tr) {
        jw *j = tbegin(w, "pause");
        jw_kstr(j, "node", n->name);
        if (duration > 0)
            jw_kint(j, "duration", duration);
        if (!n->up)
            jw_kbool(j, "down", 1);
        tend(w);
    }
    if (!n->up)
        return;
    n->paused = true;
    n->pause_gen++;
    if (duration > 0)
        evq_push(w->q, w->now + duration, EV_RESUME, (uint32_t)node, n->pause_gen, NULL);
}

void world_resume(world *w, int node)
{
    struct node_ctx *n = &w->nodes[node];
    if (!n->paused)
        return;
    n->paused = false;
    n->pause_gen++;
    trace_node_event(w, "resume", node);
    /* What queued up during the pause happens now, in arrival order. */
    for (size_t k = 0; k < n->n_deferred; k++) {
        struct evq_event *e = &n->deferred[k];
        evq_push(w->q, w->now, e->kind, e->target, e->arg, e->ptr);
    }
    n->n_deferred = 0;
}

void world_skew(world *w, int node, sim_time offset, int64_t drift_ppb)
{
    struct node_ctx *n = &w->nodes[node];
    n->base_global = w->now;
    n->base_local = w->now + offset;
    n->drift_ppb = drift_ppb;
    if (w->tr) {
        jw *j = tbegin(w, "clock");
        jw_kstr(j, "node", n->name);
        jw_kint(j, "offset", offset);
        jw_kint(j, "drift_ppb", drift_ppb);
        tend(w);
    }
}

/* ---- partitions ---------------------------------------------------------- */

static int total_endpoints(const world *w)
{
    return w->n_nodes + w->n_clients;
}

void world_partition(world *w, const int *group_of)
{
    net_partition(w->net, group_of);
    if (!w->tr)
        return;
    int max_group = -1;
    for (int e = 0; e < total_endpoints(w); e++)
        if (group_of[e] > max_group)
            max_group = group_of[e];
    jw *j = tbegin(w, "partition");
    jw_key(j, "groups");
    jw_arr(j);
    for (int g = 0; g <= max_group; g++) {
        jw_arr(j);
        for (int e = 0; e < total_endpoints(w); e++)
            if (group_of[e] == g)
                jw_str(j, world_name(w, e));
        jw_arr_end(j);
    }
    jw_arr_end(j);
    tend(w);
}

void world_cut(world *w, int from, int to)
{
    net_cut(w->net, from, to);
    if (w->tr) {
        jw *j = tbegin(w, "cut");
        jw_kstr(j, "from", world_name(w, from));
        jw_kstr(j, "to", world_name(w, to));
        tend(w);
    }
}

void world_isolate(world *w, int node)
{
    net_isolate(w->net, node, 0, w->n_nodes);
    trace_node_event(w, "isolate", node);
}

void world_bridge(world *w, const int *a, int na, const int *b, int nb, int via)
{
    for (int i = 0; i < na; i++)
        for (int k = 0; k < nb; k++) {
            if (a[i] == via || b[k] == via)
                continue;
            net_cut(w->net, a[i], b[k]);
            net_cut(w->net, b[k], a[i]);
        }
    if (w->tr) {
        jw *j = tbegin(w, "bridge");
        jw_key(j, "a");
        jw_arr(j);
        for (int i = 0; i < na; i++)
            jw_str(j, world_name(w, a[i]));
        jw_arr_end(j);
        jw_key(j, "b");
        jw_arr(j);
        for (int i = 0; i < nb; i++)
            jw_str(j, world_name(w, b[i]));
        jw_arr_end(j);
        jw_kstr(j, "via", world_name(w, via));
        tend(w);
    }
}

void world_heal(world *w)
{
    net_heal(w->net);
    if (w->tr) {
        tbegin(w, "heal");
        tend(w);
    }
}

/* ---- messages -------------------------------------------------------------- */

struct envelope *world_envelope_new(world *w, int from, int to, enum msg_kind kind, size_t len)
{
    struct envelope *env = sim_xmalloc(sizeof *env + len);
    memset(env, 0, sizeof *env);
    env->id = w->next_msg_id++;
    env->from = from;
    env->to = to;
    env->kind = kind;
    env->len = len;
    env->req = w->cur_req;
    return env;
}

static void describe_envelope(world *w, jw *j, const struct envelope *env)
{
    JW_KEY(j, "msg");
    jw_obj(j);
    switch (env->kind) {
    case MSG_NODE:
        if (w->model->describe_msg)
            w->model->describe_msg(env->data, env->len, j);
        break;
    case MSG_REQUEST:
        jw_kstr(j, "type", "request");
        jw_kint(j, "op", (int64_t)env->u.op.id);
        jw_kstr(j, "f", op_type_name(env->u.op.type));
        jw_kstr(j, "key", env->u.op.key);
        if (env->u.op.type == OP_TXN) {
            const struct sim_micro *m = (const struct sim_micro *)(const void *)env->data;
            jw_key(j, "txn");
            jw_arr(j);
            for (int i = 0; i < env->u.op.n_micro; i++) {
                jw_arr(j);
                jw_str(j, m[i].f == OP_READ ? "r" : "w");
                jw_str(j, m[i].key);
                if (m[i].f == OP_WRITE)
                    jw_int(j, m[i].value);
                jw_arr_end(j);
            }
            jw_arr_end(j);
        } else if (env->u.op.type != OP_READ)
            jw_kint(j, "value", env->u.op.value);
        if (env->u.op.ctx_len)
            jw_kint(j, "ctx_bytes", (int64_t)env->u.op.ctx_len);
        if (env->u.op.type == OP_CAS)
            jw_kint(j, "expect", env->u.op.expect);
        jw_kint(j, "attempt", env->u.op.attempt);
        break;
    case MSG_REPLY: {
        const struct sim_reply *r = &env->u.r.reply;
        static const char *const status[] = { "ok", "fail", "redirect", "unknown" };
        jw_kstr(j, "type", "reply");
        jw_kint(j, "op", (int64_t)env->u.r.op.id);
        jw_kstr(j, "status", status[r->status]);
        if (r->status == REPLY_OK && (env->u.r.op.type == OP_READ || env->u.r.op.type == OP_TXN) &&
            r->n_values > 0) {
            const int64_t *v = (const int64_t *)(const void *)env->data;
            jw_key(j, "values");
            jw_arr(j);
            for (int i = 0; i < r->n_values; i++) {
                if (v[i] == SIM_NIL)
                    jw_null(j);
                else
                    jw_int(j, v[i]);
            }
            jw_arr_end(j);
        } else if (r->status == REPLY_OK && env->u.r.op.type == OP_READ) {
            jw_key(j, "value");
            if (r->has_value)
                jw_int(j, r->value);
            else
                jw_null(j);
        }
        if (r->status == REPLY_REDIRECT && r->redirect >= 0)
            jw_kstr(j, "leader", world_name(w, r->redirect));
        if (r->error)
            jw_kstr(j, "error", r->error);
        break;
    }
    }
    jw_obj_end(j);
}

static void trace_drop(world *w, const struct envelope *env, const char *reason)
{
    w->stats.msgs_dropped++;
    if (!w->tr)
        return;
    jw *j = TRACE_BEGIN(w->tr, w->now, "drop");
    trace_route(w, j, env);
    jw_kstr(j, "reason", reason);
    tend(w);
}

static size_t envelope_size(const struct envelope *env)
{
    return env->kind == MSG_NODE ? env->len : 64;
}

/* Hand env to the network; env is owned by the queue from here on. */
void world_send_envelope(world *w, struct envelope *env)
{
    struct net_fate fate;
    w->stats.msgs_sent++;
    net_transmit(w->net, env->from, env->to, envelope_size(env), w->now, &fate);
    if (w->tr) {
        jw *j = TRACE_BEGIN(w->tr, w->now, "send");
        trace_route(w, j, env);
        describe_envelope(w, j, env);
        if (env->req) {
            JW_APPEND(j, ",\"req\":");
            jw_append_int(j, (int64_t)env->req);
        }
        tend(w);
    }
    if (fate.verdict != NET_DELIVER) {
        trace_drop(w, env, fate.verdict == NET_DROP_LOSS ? "loss" : "partition");
        sim_free(env);
        return;
    }
    env->refs = fate.copies;
    if (fate.copies > 1)
        w->stats.msgs_duplicated++;
    for (int c = 0; c < fate.copies; c++)
        evq_push(w->q, w->now + fate.delay[c], EV_DELIVER, (uint32_t)env->to, (uint64_t)c, env);
}

/* ---- request ids ------------------------------------------------------------ */

void world_req_finished(world *w, uint64_t req)
{
    size_t word = (size_t)(req / 64);
    if (word >= w->req_done_words) {
        size_t n = w->req_done_words ? w->req_done_words : 16;
        while (n <= word)
            n *= 2;
        w->req_done = sim_xrealloc(w->req_done, n * sizeof *w->req_done);
        memset(w->req_done + w->req_done_words, 0, (n - w->req_done_words) * sizeof *w->req_done);
        w->req_done_words = n;
    }
    w->req_done[word] |= (uint64_t)1 << (req % 64);
}

/* req while its client still waits for the outcome, else 0. */
static uint64_t req_live(const world *w, uint64_t req)
{
    size_t word = (size_t)(req / 64);
    if (req == 0 || (word < w->req_done_words && (w->req_done[word] >> (req % 64) & 1)))
        return 0;
    return req;
}

/* ---- the node context API ------------------------------------------------- */

int node_self(const node_ctx *ctx) { return ctx->index; }
int node_count(const node_ctx *ctx) { return ctx->w->n_nodes; }
const params *node_params(const node_ctx *ctx) { return ctx->w->params; }
struct store *node_store(node_ctx *ctx) { return ctx->store; }

const char *node_name(const node_ctx *ctx, int node)
{
    return node >= 0 && node < ctx->w->n_nodes ? ctx->w->nodes[node].name : "?";
}

sim_time node_clock(const node_ctx *ctx)
{
    return local_clock(ctx, ctx->w->now);
}

void node_send(node_ctx *ctx, int to, const void *msg, size_t len)
{
    world *w = ctx->w;
    assert(to >= 0 && to < w->n_nodes);
    struct envelope *env = world_envelope_new(w, ctx->index, to, MSG_NODE, len);
    memcpy(env->data, msg, len);
    world_send_envelope(w, env);
}

void node_broadcast(node_ctx *ctx, const void *msg, size_t len)
{
    for (int i = 0; i < ctx->w->n_nodes; i++)
        if (i != ctx->index)
            node_send(ctx, i, msg, len);
}

uint64_t node_timer_set(node_ctx *ctx, sim_time delay, uint64_t tag)
{
    world *w = ctx->w;
    uint64_t id = w->next_timer_id++;
    /* ids only grow, so appending keeps the array sorted */
    SIM_GROW(ctx->timers, ctx->cap_timers, ctx->n_timers + 1);
    ctx->timers[ctx->n_timers++] = (struct timer_slot){ id, tag, w->cur_req };
    evq_push(w->q, w->now + global_delay(ctx, delay), EV_TIMER, (uint32_t)ctx->index, id, NULL);
    return id;
}

void node_timer_cancel(node_ctx *ctx, uint64_t timer_id)
{
    size_t pos;
    if (timer_find(ctx, timer_id, &pos))
        timer_remove_at(ctx, pos);
}

uint32_t node_random(node_ctx *ctx) { return pcg32_next(&ctx->rng); }
uint32_t node_random_below(node_ctx *ctx, uint32_t bound) { return pcg32_below(&ctx->rng, bound); }
int64_t node_random_range(node_ctx *ctx, int64_t lo, int64_t hi) { return pcg32_range(&ctx->rng, lo, hi); }

void node_store_put(node_ctx *ctx, const char *key, const void *val, size_t len)
{
    store_put(ctx->store, key, val, len);
}

void node_store_del(node_ctx *ctx, const char *key)
{
    store_del(ctx->store, key);
}

const void *node_store_get(node_ctx *ctx, const char *key, size_t *len)
{
    return store_get(ctx->store, key, len);
}

void node_store_sync(node_ctx *ctx)
{
    store_sync(ctx->store);
}

void node_reply(node_ctx *ctx, const struct sim_op *op, const struct sim_reply *reply)
{
    world *w = ctx->w;
    int to = w->n_nodes + op->client;
    /* values and context travel in the envelope's payload; the pointers are
     * set again on delivery (world_deliver), the op's request ctx dropped */
    int nv = reply->status == REPLY_OK && reply->values ? reply->n_values : 0;
    if (nv < 0)
        nv = 0;
    if (nv > SIM_VALUES_MAX)
        nv = SIM_VALUES_MAX;
    size_t cl = reply->status == REPLY_OK && reply->ctx ? reply->ctx_len : 0;
    if (cl > SIM_CTX_MAX)
        cl = SIM_CTX_MAX;
    size_t vbytes = (size_t)nv * sizeof(int64_t);
    struct envelope *env = world_envelope_new(w, ctx->index, to, MSG_REPLY, vbytes + cl);
    env->req = op->id;   /* a reply belongs to its operation, whatever runs now */
    env->u.r.op = *op;
    env->u.r.op.ctx = NULL;
    env->u.r.op.ctx_len = 0;
    env->u.r.op.micro = NULL;
    env->u.r.reply = *reply;
    env->u.r.reply.n_values = nv;
    env->u.r.reply.ctx_len = cl;
    if (nv)
        memcpy(env->data, reply->values, vbytes);
    if (cl)
        memcpy(env->data + vbytes, reply->ctx, cl);
    world_send_envelope(w, env);
}

void node_reply_txn(node_ctx *ctx, const struct sim_op *op, const int64_t *results)
{
    struct sim_reply r = { .status = REPLY_OK, .redirect = -1, .n_values = op->n_micro, .values = results };
    node_reply(ctx, op, &r);
}

void node_reply_values(node_ctx *ctx, const struct sim_op *op, const int64_t *values, int n_values,
                       const void *cctx, size_t cctx_len)
{
    struct sim_reply r = { .status = REPLY_OK, .redirect = -1, .n_values = n_values, .values = values,
                           .ctx = cctx, .ctx_len = cctx_len };
    node_reply(ctx, op, &r);
}

void node_reply_ok(node_ctx *ctx, const struct sim_op *op, bool has_value, int64_t value)
{
    struct sim_reply r = { .status = REPLY_OK, .has_value = has_value, .value = value, .redirect = -1 };
    node_reply(ctx, op, &r);
}

void node_reply_fail(node_ctx *ctx, const struct sim_op *op, const char *error)
{
    struct sim_reply r = { .status = REPLY_FAIL, .redirect = -1, .error = error };
    node_reply(ctx, op, &r);
}

void node_reply_unknown(node_ctx *ctx, const struct sim_op *op, const char *error)
{
    struct sim_reply r = { .status = REPLY_UNKNOWN, .redirect = -1,
                           .error = error ? error : "outcome unknown" };
    node_reply(ctx, op, &r);
}

void node_reply_redirect(node_ctx *ctx, const struct sim_op *op, int leader, const char *error)
{
    struct sim_reply r = { .status = REPLY_REDIRECT, .redirect = leader,
                           .error = error ? error : "redirect" };
    node_reply(ctx, op, &r);
}

void node_set_role(node_ctx *ctx, const char *role, int64_t term)
{
    if (strcmp(ctx->role, role) == 0 && ctx->term == term)
        return;
    snprintf(ctx->role, sizeof ctx->role, "%s", role);
    ctx->term = term;
    world *w = ctx->w;
    if (w->tr) {
        jw *j = tbegin(w, "note");
        jw_kstr(j, "node", ctx->name);
        jw_kstr(j, "what", "role");
        jw_kstr(j, "role", role);
        jw_kint(j, "term", term);
        tend(w);
    }
}

jw *node_note_begin(node_ctx *ctx, const char *what)
{
    world *w = ctx->w;
    if (!w->tr)
        return NULL;
    jw *j = tbegin(w, "note");
    jw_kstr(j, "node", ctx->name);
    jw_kstr(j, "what", what);
    if (w->cur_req)
        jw_kint(j, "req", (int64_t)w->cur_req);
    return j;
}

uint64_t node_req(const node_ctx *ctx)
{
    return ctx->w->cur_req;
}

void node_set_req(node_ctx *ctx, uint64_t req)
{
    ctx->w->cur_req = req;
}

void node_note_end(node_ctx *ctx)
{
    tend(ctx->w);
}

const char *op_type_name(enum op_type t)
{
    static const char *const names[] = { "read", "write", "cas", "add", "remove", "txn" };
    return t < OP__COUNT ? names[t] : "?";
}

/* ---- dispatch -------------------------------------------------------------- */

static void deliver(world *w, const struct evq_event *ev)
{
    struct envelope *env = ev->ptr;
    if (!net_reachable(w->net, env->from, env->to)) {
        trace_drop(w, env, "partition");
        envelope_release(env);
        return;
    }
    if (env->to < w->n_nodes) {
        struct node_ctx *n = &w->nodes[env->to];
        if (!n->up) {
            trace_drop(w, env, "node_down");
            envelope_release(env);
            return;
        }
        if (n->paused) {
            SIM_GROW(n->deferred, n->cap_deferred, n->n_deferred + 1);
            n->deferred[n->n_deferred++] = *ev;
            return;
        }
    }
    w->stats.msgs_delivered++;
    /* the handler runs on behalf of the request that caused the message */
    w->cur_req = req_live(w, env->kind == MSG_REQUEST ? env->u.op.id : env->req);
    if (w->tr) {
        jw *j = TRACE_BEGIN(w->tr, w->now, "deliver");
        trace_route(w, j, env);
        if (ev->arg > 0)
            jw_kbool(j, "duplicate", 1);
        tend(w);
    }
    if (env->to < w->n_nodes) {
        struct node_ctx *n = &w->nodes[env->to];
        if (w->model->check)
            recent_push(w, env->kind == MSG_NODE ? RECENT_DELIVER : RECENT_REQUEST, env->to, env->from,
                        env->kind == MSG_NODE ? 0 : env->u.op.id, env);
        if (env->kind == MSG_NODE) {
            w->model->on_message(n->state, n, env->from, env->data, env->len);
        } else if (env->kind == MSG_REQUEST) {
            size_t mb = (size_t)env->u.op.n_micro * sizeof(struct sim_micro);
            env->u.op.micro = env->u.op.n_micro ? (const struct sim_micro *)(const void *)env->data : NULL;
            env->u.op.ctx = env->u.op.ctx_len ? env->data + mb : NULL;
            w->model->on_request(n->state, n, &env->u.op);
        }
    } else {
        struct sim_reply *r = &env->u.r.reply;
        size_t vbytes = (size_t)r->n_values * sizeof(int64_t);
        r->values = r->n_values ? (const int64_t *)(const void *)env->data : NULL;
        r->ctx = r->ctx_len ? env->data + vbytes : NULL;
        client_on_reply(w, &w->clients[env->to - w->n_nodes], env);
    }
    envelope_release(env);
}

static void fire_timer(world *w, const struct evq_event *ev)
{
    struct node_ctx *n = &w->nodes[ev->target];
    size_t pos;
    struct timer_slot *slot = timer_find(n, ev->arg, &pos);
    if (!slot || !n->up)
        return;   /* cancelled, or lost in a crash */
    if (n->paused) {
        SIM_GROW(n->deferred, n->cap_deferred, n->n_deferred + 1);
        n->deferred[n->n_deferred++] = *ev;
        return;
    }
    uint64_t tag = slot->tag;
    w->cur_req = req_live(w, slot->req);   /* a timer set for a request works for it still */
    timer_remove_at(n, pos);
    w->stats.timers++;
    if (w->tr) {
        jw *j = TRACE_BEGIN(w->tr, w->now, "timer");
        jw_kstr(j, "node", n->name);
        jw_kint(j, "timer", (int64_t)ev->arg);
        jw_kint(j, "tag", (int64_t)tag);
        if (w->cur_req)
            jw_kint(j, "req", (int64_t)w->cur_req);
        tend(w);
    }
    if (w->model->check)
        recent_push(w, RECENT_TIMER, (int)ev->target, -1, tag, NULL);
    w->model->on_timer(n->state, n, tag);
}

static void recent_push(world *w, enum recent_kind kind, int node, int from, uint64_t tag,
                        const struct envelope *env)
{
    struct recent_event *r = &w->recent[w->n_recent++ % WORLD_RECENT];
    r->t = w->now;
    r->kind = kind;
    r->node = node;
    r->from = from;
    r->tag = tag;
    r->len = r->full_len = 0;
    if (env && kind == RECENT_REQUEST)
        r->op = env->u.op.type;
    if (env && kind == RECENT_DELIVER) {
        r->full_len = env->len;
        r->len = env->len < WORLD_RECENT_BYTES ? env->len : WORLD_RECENT_BYTES;
        memcpy(r->data, env->data, r->len);
    }
}

/* Append one recent event to the report text and (if j) to the open array. */
static void recent_describe(world *w, const struct recent_event *r, jw *text, jw *j)
{
    char line[512];
    const char *name = w->nodes[r->node].name;
    jw msg;
    jw_init(&msg);
    switch (r->kind) {
    case RECENT_DELIVER:
        jw_obj(&msg);
        if (r->len == r->full_len && w->model->describe_msg)
            w->model->describe_msg(r->data, r->len, &msg);
        else
            jw_kint(&msg, "bytes", (int64_t)r->full_len);
        jw_obj_end(&msg);
        snprintf(line, sizeof line, "%s <- %s %s", name, world_name(w, r->from), msg.buf);
        break;
    case RECENT_REQUEST:
        snprintf(line, sizeof line, "%s <- %s request op %llu (%s)", name, world_name(w, r->from),
                 (unsigned long long)r->tag, op_type_name(r->op));
        break;
    case RECENT_TIMER:
        snprintf(line, sizeof line, "%s timer (tag %llu)", name, (unsigned long long)r->tag);
        break;
    case RECENT_CRASH:
        snprintf(line, sizeof line, "%s crashed", name);
        break;
    case RECENT_RESTART:
        snprintf(line, sizeof line, "%s restarted", name);
        break;
    }
    char when[64];
    snprintf(when, sizeof when, "  t=%lld.%09llds  ", (long long)(r->t / SIM_S), (long long)(r->t % SIM_S));
    jw_append(text, when, strlen(when));
    jw_append(text, line, strlen(line));
    JW_APPEND(text, "\n");
    if (j) {
        jw_obj(j);
        jw_kint(j, "t", r->t);
        jw_kstr(j, "node", name);
        static const char *const kinds[] = { "deliver", "request", "timer", "crash", "restart" };
        jw_kstr(j, "ev", kinds[r->kind]);
        if (r->kind == RECENT_DELIVER || r->kind == RECENT_REQUEST)
            jw_kstr(j, "from", world_name(w, r->from));
        if (r->kind == RECENT_DELIVER) {
            jw_key(j, "msg");
            jw_raw(j, msg.buf, msg.len);
        } else if (r->kind == RECENT_REQUEST) {
            jw_kint(j, "op", (int64_t)r->tag);
        } else if (r->kind == RECENT_TIMER) {
            jw_kint(j, "tag", (int64_t)r->tag);
        }
        jw_obj_end(j);
    }
    jw_free(&msg);
}

/* An invariant broke: write the report (and the trace's "recent" list into
 * j if tracing) and, unless keep_going, halt the run. */
static void halt_on_invariant(world *w, const char *why, jw *j)
{
    jw text;
    jw_init(&text);
    jw_append(&text, why, strlen(why));
    JW_APPEND(&text, "\n");
    unsigned n = w->n_recent < WORLD_RECENT ? w->n_recent : WORLD_RECENT;
    if (j) {
        jw_key(j, "recent");
        jw_arr(j);
    }
    for (unsigned i = 0; i < n; i++) {
        const struct recent_event *r = &w->recent[(w->n_recent - n + i) % WORLD_RECENT];
        recent_describe(w, r, &text, j);
    }
    if (j)
        jw_arr_end(j);
    if (j)
        jw_kbool(j, "stopped", !w->keep_going);
    if (!w->keep_going && !w->halted) {
        w->halted = true;
        w->halted_at = w->now;
        w->halt_report = sim_xstrdup(text.buf);
    }
    jw_free(&text);
}

void world_set_max_pending(world *w, size_t max_pending)
{
    w->max_pending = max_pending ? max_pending : WORLD_MAX_PENDING;
}

void world_set_keep_going(world *w, bool keep_going)
{
    w->keep_going = keep_going;
}

bool world_halted(const world *w, sim_time *at, const char **report)
{
    if (!w->halted)
        return false;
    if (at)
        *at = w->halted_at;
    if (report)
        *report = w->halt_report;
    return true;
}

static void run_check(world *w)
{
    void *states_small[64];
    void **states = w->n_nodes <= 64 ? states_small : sim_xmalloc((size_t)w->n_nodes * sizeof *states);
    for (int i = 0; i < w->n_nodes; i++)
        states[i] = w->nodes[i].up ? w->nodes[i].state : NULL;
    struct model_view view = { w->n_nodes, states, w->params, w->now };
    char why[256] = "";
    int bad = w->model->check(&view, why, sizeof why);
    if (states != states_small)
        sim_free(states);
    if (!bad) {
        w->invariant_bad = false;
        return;
    }
    if (w->invariant_bad && strcmp(why, w->invariant_why) == 0)
        return;   /* the same violation, still ongoing */
    w->invariant_bad = true;
    snprintf(w->invariant_why, sizeof w->invariant_why, "%s", why);
    w->stats.invariant_violations++;
    if (w->tr) {
        jw *j = tbegin(w, "invariant");
        jw_kstr(j, "model", w->model->name);
        jw_kstr(j, "why", why);
        halt_on_invariant(w, why, j);
        tend(w);
    } else {
        halt_on_invariant(w, why, NULL);
    }
}

void world_set_progress(world *w, world_progress_fn fn, void *ud)
{
    w->progress_fn = fn;
    w->progress_ud = ud;
}

void world_set_script(world *w, world_script_fn fn, void *ud)
{
    w->script_fn = fn;
    w->script_ud = ud;
}

void world_at(world *w, sim_time at, uint64_t ref)
{
    assert(at >= w->now);
    evq_push(w->q, at, EV_SCRIPT, 0, ref, NULL);
}

void world_set_call(world *w, world_call_fn fn, void *ud)
{
    w->call_fn = fn;
    w->call_ud = ud;
}

int node_call(node_ctx *ctx, const char *param, const char *key, int64_t a, int64_t b, int64_t *out)
{
    world *w = ctx->w;
    if (!w->call_fn || !params_has_func(w->params, param))
        return -1;
    if (w->call_fn(w->call_ud, w, param, key, a, b, out) != 0) {
        w->stop = 1;
        return -1;
    }
    return 0;
}

#include <signal.h>

static volatile sig_atomic_t interrupted;

void world_interrupt(void)
{
    interrupted = 1;
}

void world_interrupt_clear(void)
{
    interrupted = 0;
}

int world_run(world *w, sim_time until)
{
    struct evq_event ev;
    w->stop = 0;
    if (w->halted)
        return WORLD_INVARIANT;
    for (;;) {
        const struct evq_event *top = evq_peek(w->q);
        if (!top || top->at > until)
            break;
        if (w->stats.events >= w->event_limit)
            return WORLD_EVENT_LIMIT;
        /* a message storm (say a resolver that never settles) fills the
         * queue long before the event limit: stop it while memory lasts */
        if ((w->stats.events & 1023) == 0 && evq_size(w->q) > w->max_pending)
            return WORLD_QUEUE_LIMIT;
        evq_pop(w->q, &ev);
        assert(ev.at >= w->now);
        w->now = ev.at;
        w->stats.events++;
        w->cur_req = 0;   /* no request is current until a dispatch says so */
        bool node_event = false;
        switch (ev.kind) {
        case EV_DELIVER:
            deliver(w, &ev);
            node_event = true;
            break;
        case EV_TIMER:
            fire_timer(w, &ev);
            node_event = true;
            break;
        case EV_SCRIPT:
            if (w->script_fn && w->script_fn(w->script_ud, w, ev.arg) != 0)
                return WORLD_STOPPED;
            break;
        case EV_RESUME:
            if (w->nodes[ev.target].pause_gen == ev.arg)
                world_resume(w, (int)ev.target);
            break;
        case EV_CLIENT_NEXT:
        case EV_CLIENT_ARRIVAL:
        case EV_CLIENT_TIMEOUT:
        case EV_CLIENT_RETRY:
            client_event(w, &ev);
            break;
        case EV_NEMESIS:
            nemesis_event(w, &ev);
            break;
        default:
            assert(!"unknown event kind");
        }
        w->cur_req = 0;   /* what the script does between runs is nobody's request */
        if (node_event && w->model->check)
            run_check(w);
        if (w->stop)
            return WORLD_STOPPED;   /* a scenario function called by a model failed */
        if (w->halted)
            return WORLD_INVARIANT;
        if (interrupted)
            return WORLD_INTERRUPTED;
        if (w->tr && trace_failed(w->tr))
            return WORLD_TRACE_ERROR;
        if (w->progress_fn && (w->stats.events & (WORLD_PROGRESS_EVENTS - 1)) == 0)
            w->progress_fn(w->progress_ud, w->now, w->stats.events);
    }
    if (until > w->now)
        w->now = until;
    return WORLD_OK;
}

void world_finish(world *w)
{
    if (w->finished || !w->model)
        return;
    w->finished = true;
    if (!w->tr)
        return;
    for (int i = 0; i < w->n_nodes; i++) {
        struct node_ctx *n = &w->nodes[i];
        jw *j = tbegin(w, "state");
        jw_kstr(j, "node", n->name);
        jw_kbool(j, "up", n->up);
        if (n->up) {
            jw_kbool(j, "paused", n->paused);
            jw_kint(j, "clock", local_clock(n, w->now));
            if (w->model->describe) {
                jw_key(j, "state");
                jw_obj(j);
                w->model->describe(n->state, j);
                jw_obj_end(j);
            }
        }
        tend(w);
    }
    const struct world_stats *s = &w->stats;
    jw *j = tbegin(w, "end");
    jw_kint(j, "events", (int64_t)s->events);
    jw_kint(j, "messages_sent", (int64_t)s->msgs_sent);
    jw_kint(j, "messages_delivered", (int64_t)s->msgs_delivered);
    jw_kint(j, "messages_dropped", (int64_t)s->msgs_dropped);
    jw_kint(j, "ops_invoked", (int64_t)s->ops_invoked);
    jw_kint(j, "ops_ok", (int64_t)s->ops_ok);
    jw_kint(j, "ops_fail", (int64_t)s->ops_fail);
    jw_kint(j, "ops_info", (int64_t)s->ops_info);
    tend(w);
}
