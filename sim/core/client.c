/* Simulated clients: they draw operations from their workload, send them to
 * nodes, time out, retry with backoff and jitter, follow redirects, and
 * record each operation's invoke and outcome in the trace.
 *
 * Outcomes follow Jepsen's rules: ok (took effect), fail (definitely did
 * not), info (unknown: an attempt timed out, so it may have taken effect at
 * any point after the invoke, or never). */
#include "world_internal.h"
#include "alloc.h"
#include "dmath.h"

#include <stdio.h>
#include <string.h>

_Static_assert(OP_KINDS == OP__COUNT, "workload.h's OP_KINDS must match model.h's op types");

void workload_defaults(struct workload *wl)
{
    memset(wl, 0, sizeof *wl);
    wl->clients = 1;
    wl->closed = true;
    wl->rate = 0;
    wl->think = 10 * SIM_MS;
    wl->key_dist = WL_KEYS_UNIFORM;
    wl->zipf_s = 1.0;
    wl->mix[OP_READ] = 0.5;
    wl->mix[OP_WRITE] = 0.5;
    wl->mix[OP_CAS] = 0.0;
    wl->values_lo = 1;
    wl->values_hi = 1;
    wl->txn_min = 2;
    wl->txn_max = 3;
    wl->txn_reads = 0.5;
    wl->start = 0;
    wl->duration = 0;
    wl->timeout = 100 * SIM_MS;
    wl->retries = 0;
    wl->backoff = 10 * SIM_MS;
    wl->backoff_max = 1 * SIM_S;
    wl->jitter = 0.5;
    wl->max_redirects = 3;
    wl->target = WL_TARGET_RANDOM;
    wl->node = 0;
    wl->queue_limit = 1000;
}

/* ---- setup ----------------------------------------------------------------- */

static void zipf_table(struct wl_state *s)
{
    int n = s->cfg.n_keys;
    s->zipf_cut = sim_xcalloc((size_t)n, sizeof *s->zipf_cut);
    double total = 0;
    for (int i = 0; i < n; i++)
        total += 1.0 / dmath_pow((double)(i + 1), s->cfg.zipf_s);
    double cum = 0;
    for (int i = 0; i < n; i++) {
        cum += 1.0 / dmath_pow((double)(i + 1), s->cfg.zipf_s);
        double frac = cum / total;
        s->zipf_cut[i] = frac >= 1.0 ? ((uint64_t)1 << 32) : (uint64_t)(frac * 4294967296.0);
    }
    s->zipf_cut[n - 1] = (uint64_t)1 << 32;
}

static void schedule_arrival(world *w, struct client *c);

int world_workload(world *w, struct workload *wl, char *err, size_t errlen)
{
    if (!w->model) {
        snprintf(err, errlen, "define the cluster before the workload");
        return -1;
    }
    if (wl->clients < 1 || wl->clients > 10000 || w->n_clients + wl->clients > 10000) {
        snprintf(err, errlen, "a workload needs 1 to 10000 clients in all, got %d", wl->clients);
        return -1;
    }
    if (wl->n_keys < 1) {
        snprintf(err, errlen, "a workload needs at least one key");
        return -1;
    }
    if (wl->n_script > 0) {
        int max_client = 0;
        for (int i = 0; i < wl->n_script; i++) {
            const struct wl_script_op *o = &wl->script[i];
            if (o->client < 0 || o->key < 0 || o->key >= wl->n_keys || o->at < 0 ||
                !(o->f == OP_READ || o->f == OP_WRITE || o->f == OP_CAS || o->f == OP_ADD || o->f == OP_REMOVE)) {
                snprintf(err, errlen, "scripted operation %d is malformed", i + 1);
                return -1;
            }
            max_client = o->client > max_client ? o->client : max_client;
        }
        wl->clients = max_client + 1;
        wl->closed = false;
        wl->rate = 1;   /* unused: arrivals come from the script */
        wl->queue_limit = wl->n_script;
        wl->duration = 0;
        /* stable sort by time (insertion: scripts are short and mostly sorted) */
        for (int i = 1; i < wl->n_script; i++)
            for (int j = i; j > 0 && wl->script[j].at < wl->script[j - 1].at; j--) {
                struct wl_script_op t = wl->script[j];
                wl->script[j] = wl->script[j - 1];
                wl->script[j - 1] = t;
            }
    }
    if (!wl->closed && !(wl->rate > 0)) {
        snprintf(err, errlen, "an open-loop workload needs a rate above 0 operations per second");
        return -1;
    }
    double mix = 0;
    bool negative = false;
    for (int t = 0; t < OP__COUNT; t++) {
        mix += wl->mix[t];
        negative |= wl->mix[t] < 0;
    }
    if (!(mix > 0) || negative) {
        snprintf(err, errlen, "the operation mix needs non-negative weights that add up to more than 0");
        return -1;
    }
    if (wl->values_lo > wl->values_hi) {
        snprintf(err, errlen, "the values range needs lo <= hi");
        return -1;
    }
    if (wl->mix[OP_TXN] > 0) {
        if (wl->txn_min < 1 || wl->txn_min > wl->txn_max || wl->txn_max > SIM_TXN_MAX) {
            snprintf(err, errlen, "a transaction needs 1 <= min <= max <= %d micro-operations, got %d..%d",
                     SIM_TXN_MAX, wl->txn_min, wl->txn_max);
            return -1;
        }
        if (wl->txn_max > wl->n_keys) {
            snprintf(err, errlen, "transactions of up to %d micro-operations need as many keys, "
                     "the workload has %d", wl->txn_max, wl->n_keys);
            return -1;
        }
        if (!(wl->txn_reads >= 0 && wl->txn_reads <= 1)) {
            snprintf(err, errlen, "the share of reads in a transaction must be from 0 to 1");
            return -1;
        }
    }
    if (w->model->check_key)
        for (int k = 0; k < wl->n_keys; k++)
            if (w->model->check_key(w->params, w->n_nodes, wl->keys[k], err, errlen) != 0)
                return -1;
    if (wl->target == WL_TARGET_NODE && (wl->node < 0 || wl->node >= w->n_nodes)) {
        snprintf(err, errlen, "the workload targets a node that does not exist");
        return -1;
    }
    if (wl->timeout <= 0) {
        snprintf(err, errlen, "the timeout must be above 0");
        return -1;
    }
    w->workloads = sim_xrealloc(w->workloads, (size_t)(w->n_workloads + 1) * sizeof *w->workloads);
    struct wl_state *s = &w->workloads[w->n_workloads];
    memset(s, 0, sizeof *s);
    s->cfg = *wl;
    wl->keys = NULL;
    wl->n_keys = 0;
    if (s->cfg.key_dist == WL_KEYS_ZIPF)
        zipf_table(s);
    s->last_value = sim_xcalloc((size_t)s->cfg.n_keys, sizeof *s->last_value);
    s->first_client = w->n_clients;
    int wl_index = w->n_workloads++;

    int old = w->n_clients;
    w->n_clients += s->cfg.clients;
    w->clients = sim_xrealloc(w->clients, (size_t)w->n_clients * sizeof *w->clients);
    net_resize(w->net, w->n_nodes + w->n_clients);
    for (int i = old; i < w->n_clients; i++) {
        struct client *c = &w->clients[i];
        memset(c, 0, sizeof *c);
        c->index = i;
        c->endpoint = w->n_nodes + i;
        char buf[16];
        snprintf(buf, sizeof buf, "c%d", i + 1);
        c->name = sim_xstrdup(buf);
        c->workload = wl_index;
        c->leader_hint = -1;
        pcg32_stream(&c->rng, w->seed, PCG_STREAM_CLIENT + (uint64_t)i);
    }
    world_cache_names(w);
    if (w->tr) {
        const struct workload *cfg = &s->cfg;
        static const char *const targets[] = { "random", "sticky", "leader", "node" };
        jw *j = trace_begin(w->tr, w->now, "workload");
        jw_key(j, "clients");
        jw_arr(j);
        for (int i = old; i < w->n_clients; i++)
            jw_str(j, w->clients[i].name);
        jw_arr_end(j);
        jw_kstr(j, "mode", cfg->n_script ? "script" : cfg->closed ? "closed" : "open");
        if (cfg->n_script)
            jw_kint(j, "ops", cfg->n_script);
        else if (!cfg->closed)
            jw_knum(j, "rate", cfg->rate);
        else
            jw_kint(j, "think", cfg->think);
        jw_key(j, "keys");
        jw_arr(j);
        for (int k = 0; k < cfg->n_keys; k++)
            jw_str(j, cfg->keys[k]);
        jw_arr_end(j);
        jw_kstr(j, "dist", cfg->key_dist == WL_KEYS_ZIPF ? "zipf" : "uniform");
        jw_key(j, "mix");
        jw_obj(j);
        for (int t = 0; t < OP__COUNT; t++)
            jw_knum(j, op_type_name((enum op_type)t), cfg->mix[t]);
        jw_obj_end(j);
        if (cfg->mix[OP_TXN] > 0) {
            jw_key(j, "txn");
            jw_obj(j);
            jw_kint(j, "min", cfg->txn_min);
            jw_kint(j, "max", cfg->txn_max);
            jw_knum(j, "reads", cfg->txn_reads);
            jw_obj_end(j);
        }
        if (cfg->mix[OP_ADD] > 0 || cfg->mix[OP_REMOVE] > 0) {
            jw_key(j, "values");
            jw_arr(j);
            jw_int(j, cfg->values_lo);
            jw_int(j, cfg->values_hi);
            jw_arr_end(j);
        }
        jw_kint(j, "start", cfg->start);
        jw_kint(j, "duration", cfg->duration);
        jw_kint(j, "timeout", cfg->timeout);
        jw_kint(j, "retries", cfg->retries);
        jw_kstr(j, "target", targets[cfg->target]);
        trace_end(w->tr);
    }
    if (s->cfg.n_script) {
        /* every scripted arrival is known now; start_op takes the client's next op */
        for (int k = 0; k < s->cfg.n_script; k++) {
            const struct wl_script_op *o = &s->cfg.script[k];
            sim_time at = o->at > w->now ? o->at : w->now;
            evq_push(w->q, at, EV_CLIENT_ARRIVAL, (uint32_t)(old + o->client), 0, NULL);
        }
        return 0;
    }
    for (int i = old; i < w->n_clients; i++) {
        struct client *c = &w->clients[i];
        sim_time start = s->cfg.start > w->now ? s->cfg.start : w->now;
        if (s->cfg.closed)
            evq_push(w->q, start, EV_CLIENT_NEXT, (uint32_t)i, 0, NULL);
        else
            schedule_arrival(w, c);
    }
    return 0;
}

/* ---- drawing operations ------------------------------------------------------ */

static struct wl_state *wl_of(world *w, const struct client *c)
{
    return &w->workloads[c->workload];
}

static int draw_key(struct wl_state *s, struct client *c)
{
    if (s->cfg.key_dist == WL_KEYS_ZIPF) {
        uint64_t u = pcg32_next(&c->rng);
        int lo = 0, hi = s->cfg.n_keys - 1;
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (u < s->zipf_cut[mid])
                hi = mid;
            else
                lo = mid + 1;
        }
        return lo;
    }
    return (int)pcg32_below(&c->rng, (uint32_t)s->cfg.n_keys);
}

static enum op_type draw_type(struct wl_state *s, struct client *c)
{
    double total = 0;
    int last = OP_READ;
    for (int t = 0; t < OP__COUNT; t++) {
        total += s->cfg.mix[t];
        if (s->cfg.mix[t] > 0)
            last = t;
    }
    double u = pcg32_unit(&c->rng) * total;
    double acc = 0;
    for (int t = 0; t < last; t++) {
        acc += s->cfg.mix[t];
        if (s->cfg.mix[t] > 0 && u < acc)
            return (enum op_type)t;
    }
    return (enum op_type)last;
}

static sim_time retry_delay(const struct workload *cfg, struct client *c, int retry)
{
    sim_time d = cfg->backoff;
    for (int i = 1; i < retry && d < cfg->backoff_max; i++)
        d *= 2;
    if (d > cfg->backoff_max)
        d = cfg->backoff_max;
    if (cfg->jitter > 0 && d > 0) {
        sim_time lo = d - (sim_time)((double)d * (cfg->jitter > 1 ? 1 : cfg->jitter));
        d = pcg32_range(&c->rng, lo, d);
    }
    return d;
}

static int pick_node(world *w, struct client *c)
{
    const struct workload *cfg = &wl_of(w, c)->cfg;
    switch (cfg->target) {
    case WL_TARGET_STICKY:
        return c->index % w->n_nodes;
    case WL_TARGET_NODE:
        return cfg->node;
    case WL_TARGET_LEADER:
        if (c->leader_hint >= 0)
            return c->leader_hint;
        /* fall through */
    case WL_TARGET_RANDOM:
    default:
        return (int)pcg32_below(&c->rng, (uint32_t)w->n_nodes);
    }
}

/* ---- the life of an operation ------------------------------------------------ */

void world_trace_op(world *w, const char *ev, const struct client *c, const struct pending_op *p,
                    bool has_value, int64_t value, const char *error)
{
    if (!w->tr)
        return;
    jw *j = trace_begin(w->tr, w->now, ev);
    jw_kstr(j, "client", c->name);
    jw_kint(j, "op", (int64_t)p->op.id);
    jw_kstr(j, "f", op_type_name(p->op.type));
    jw_kstr(j, "key", p->op.key);
    if (p->op.type == OP_TXN) {
        /* [[f, key, value], ...]: a read's value is null until an ok gives it */
        bool ok = strcmp(ev, "ok") == 0;
        jw_key(j, "value");
        jw_arr(j);
        for (int i = 0; i < p->n_micro; i++) {
            const struct sim_micro *m = &p->micro[i];
            jw_arr(j);
            jw_str(j, m->f == OP_READ ? "r" : "w");
            jw_str(j, m->key);
            if (m->f == OP_WRITE)
                jw_int(j, m->value);
            else if (ok && p->values[i] != SIM_NIL)
                jw_int(j, p->values[i]);
            else
                jw_null(j);
            jw_arr_end(j);
        }
        jw_arr_end(j);
        if (strcmp(ev, "invoke") == 0) {
            if (p->queued_at < p->invoked_at)
                jw_kint(j, "queued", p->invoked_at - p->queued_at);
        } else {
            if (error)
                jw_kstr(j, "error", error);
            jw_kint(j, "latency", w->now - p->invoked_at);
            jw_kint(j, "attempts", p->tries);
        }
    } else if (strcmp(ev, "invoke") == 0) {
        if (p->op.type == OP_CAS) {
            jw_key(j, "value");
            jw_arr(j);
            jw_int(j, p->op.expect);
            jw_int(j, p->op.value);
            jw_arr_end(j);
        } else if (p->op.type != OP_READ) {
            jw_kint(j, "value", p->op.value);
        } else {
            jw_key(j, "value");
            jw_null(j);
        }
        if (p->queued_at < p->invoked_at)
            jw_kint(j, "queued", p->invoked_at - p->queued_at);
    } else if (p->op.type == OP_READ && p->n_values > 0 && strcmp(ev, "ok") == 0) {
        /* several values: siblings, or a set's elements */
        jw_key(j, "value");
        jw_null(j);
        jw_key(j, "values");
        jw_arr(j);
        for (int i = 0; i < p->n_values; i++)
            jw_int(j, p->values[i]);
        jw_arr_end(j);
        jw_kint(j, "latency", w->now - p->invoked_at);
        jw_kint(j, "attempts", p->tries);
    } else {
        jw_key(j, "value");
        if (p->op.type == OP_READ) {
            if (has_value)
                jw_int(j, value);
            else
                jw_null(j);
        } else if (p->op.type == OP_CAS) {
            jw_arr(j);
            jw_int(j, p->op.expect);
            jw_int(j, p->op.value);
            jw_arr_end(j);
        } else {
            jw_int(j, p->op.value);
        }
        if (error)
            jw_kstr(j, "error", error);
        jw_kint(j, "latency", w->now - p->invoked_at);
        jw_kint(j, "attempts", p->tries);
    }
    trace_end(w->tr);
}

static void send_attempt(world *w, struct client *c, int node)
{
    struct pending_op *p = &c->cur;
    const struct workload *cfg = &wl_of(w, c)->cfg;
    p->tries++;
    p->op.attempt = p->tries;
    p->node = node;
    p->token = w->next_token++;
    /* a write, add or remove carries the causal context the client's last
     * read of the key returned (the copy travels in the envelope) */
    size_t cl = p->op.type != OP_READ && p->op.type != OP_TXN && c->ctx ? c->ctx_len[p->key] : 0;
    size_t mb = (size_t)p->n_micro * sizeof p->micro[0];
    /* payload: the micro-operations first (8-aligned in the envelope), then the context */
    struct envelope *env = world_envelope_new(w, c->endpoint, node, MSG_REQUEST, mb + cl);
    env->req = p->op.id;
    env->u.op = p->op;
    env->u.op.ctx = NULL;
    env->u.op.ctx_len = cl;
    env->u.op.micro = NULL;
    env->u.op.n_micro = p->n_micro;
    if (mb)
        memcpy(env->data, p->micro, mb);
    if (cl)
        memcpy(env->data + mb, c->ctx[p->key], cl);
    world_send_envelope(w, env);
    evq_push(w->q, w->now + cfg->timeout, EV_CLIENT_TIMEOUT, (uint32_t)c->index, p->token, NULL);
}

static bool workload_over(world *w, const struct client *c)
{
    const struct workload *cfg = &w->workloads[c->workload].cfg;
    return cfg->duration > 0 && w->now >= cfg->start + cfg->duration;
}

/* A transaction: min..max micro-operations on distinct keys (a partial
 * Fisher-Yates shuffle of the key indices), each a read with probability
 * txn_reads, else a write of a fresh unique value. */
static void draw_txn(world *w, struct wl_state *s, struct client *c, struct pending_op *p)
{
    int n_keys = s->cfg.n_keys;
    int span = s->cfg.txn_max - s->cfg.txn_min;
    int n = s->cfg.txn_min + (span > 0 ? (int)pcg32_below(&c->rng, (uint32_t)span + 1) : 0);
    int idx[SIM_TXN_MAX];
    int pick[SIM_TXN_MAX];
    /* choose n distinct indices: rejection against the ones already taken
     * (n <= 16 and n <= n_keys, so this is short) */
    for (int i = 0; i < n; i++) {
        for (;;) {
            int k = (int)pcg32_below(&c->rng, (uint32_t)n_keys);
            bool taken = false;
            for (int j = 0; j < i; j++)
                taken |= pick[j] == k;
            if (!taken) {
                pick[i] = k;
                break;
            }
        }
        idx[i] = pick[i];
    }
    p->n_micro = n;
    for (int i = 0; i < n; i++) {
        struct sim_micro *m = &p->micro[i];
        m->key = s->cfg.keys[idx[i]];
        if (pcg32_unit(&c->rng) < s->cfg.txn_reads) {
            m->f = OP_READ;
            m->value = 0;
        } else {
            m->f = OP_WRITE;
            m->value = (int64_t)w->next_value++;
            s->last_value[idx[i]] = m->value;
        }
    }
    p->key = idx[0];
    p->op.n_micro = n;
}

/* A scripted workload's client starts its next operation of the script. */
static void start_scripted(world *w, struct wl_state *s, struct client *c, struct pending_op *p,
                           sim_time queued_at)
{
    int self = c->index - s->first_client;
    while (c->script_next < s->cfg.n_script && s->cfg.script[c->script_next].client != self)
        c->script_next++;
    if (c->script_next >= s->cfg.n_script) {
        p->active = false;   /* cannot happen: one arrival per scripted op */
        return;
    }
    const struct wl_script_op *o = &s->cfg.script[c->script_next++];
    p->op.type = (enum op_type)o->f;
    p->op.key = s->cfg.keys[o->key];
    p->op.value = o->value;
    p->op.expect = o->expect;
    p->key = o->key;
    p->invoked_at = w->now;
    p->queued_at = queued_at;
    w->stats.ops_invoked++;
    world_trace_op(w, "invoke", c, p, false, 0, NULL);
    send_attempt(w, c, pick_node(w, c));
}

static void start_op(world *w, struct client *c, sim_time queued_at)
{
    struct wl_state *s = wl_of(w, c);
    struct pending_op *p = &c->cur;
    memset(p, 0, sizeof *p);
    p->active = true;
    p->op.id = w->next_op_id++;
    p->op.client = c->index;
    if (s->cfg.n_script) {
        start_scripted(w, s, c, p, queued_at);
        return;
    }
    p->op.type = draw_type(s, c);
    int key = draw_key(s, c);
    p->op.key = s->cfg.keys[key];
    if (p->op.type == OP_CAS) {
        /* Expect the value this workload last tried to write to the key, so
         * a fair share of cas operations can succeed. The workload knows what
         * it sent, not what the store holds: the guess may be wrong. */
        p->op.expect = s->last_value[key];
    }
    if (p->op.type == OP_TXN) {
        draw_txn(w, s, c, p);
        key = p->key;
        p->op.key = s->cfg.keys[key];
    } else if (p->op.type == OP_ADD || p->op.type == OP_REMOVE) {
        /* a counter's increment or a set's element, from the values range */
        uint64_t span = (uint64_t)(s->cfg.values_hi - s->cfg.values_lo);
        uint64_t off = span >= UINT32_MAX ? pcg32_next(&c->rng) % (span + 1)
                                          : pcg32_below(&c->rng, (uint32_t)span + 1);
        p->op.value = (int64_t)((uint64_t)s->cfg.values_lo + off);
    } else if (p->op.type != OP_READ) {
        p->op.value = (int64_t)w->next_value++;
        s->last_value[key] = p->op.value;
    }
    p->key = key;
    if (p->op.type == OP_TXN)
        p->op.key = s->cfg.keys[key];
    p->invoked_at = w->now;
    p->queued_at = queued_at;
    w->stats.ops_invoked++;
    world_trace_op(w, "invoke", c, p, false, 0, NULL);
    send_attempt(w, c, pick_node(w, c));
}

static void next_after_completion(world *w, struct client *c)
{
    const struct workload *cfg = &wl_of(w, c)->cfg;
    if (cfg->closed) {
        if (!workload_over(w, c))
            evq_push(w->q, w->now + cfg->think, EV_CLIENT_NEXT, (uint32_t)c->index, 0, NULL);
        return;
    }
    if (c->q_len > 0) {
        sim_time queued_at = c->queue[c->q_head];
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        start_op(w, c, queued_at);
    }
}

static void complete(world *w, struct client *c, const char *ev, bool has_value, int64_t value,
                     const char *error)
{
    struct pending_op *p = &c->cur;
    if (strcmp(ev, "ok") == 0)
        w->stats.ops_ok++;
    else if (strcmp(ev, "fail") == 0)
        w->stats.ops_fail++;
    else
        w->stats.ops_info++;
    world_trace_op(w, ev, c, p, has_value, value, error);
    world_req_finished(w, p->op.id);
    p->active = false;
    p->token = 0;
    next_after_completion(w, c);
}

/* Remember the causal context a read of key returned, for the next write. */
static void keep_ctx(world *w, struct client *c, int key, const void *ctx, size_t len)
{
    int n_keys = wl_of(w, c)->cfg.n_keys;
    if (!c->ctx) {
        c->ctx = sim_xcalloc((size_t)n_keys, sizeof *c->ctx);
        c->ctx_len = sim_xcalloc((size_t)n_keys, sizeof *c->ctx_len);
    }
    if (!c->ctx[key])
        c->ctx[key] = sim_xmalloc(SIM_CTX_MAX);
    memcpy(c->ctx[key], ctx, len);
    c->ctx_len[key] = len;
}

void client_on_reply(world *w, struct client *c, const struct envelope *env)
{
    struct pending_op *p = &c->cur;
    const struct sim_reply *r = &env->u.r.reply;
    if (!p->active || env->u.r.op.id != p->op.id)
        return;   /* a late reply to an operation already decided */
    const struct workload *cfg = &wl_of(w, c)->cfg;
    switch (r->status) {
    case REPLY_OK:
        if (cfg->target == WL_TARGET_LEADER)
            c->leader_hint = env->from;
        if (p->op.type == OP_READ && r->ctx_len > 0)
            keep_ctx(w, c, p->key, r->ctx, r->ctx_len);
        if (p->op.type == OP_TXN && r->n_values != p->n_micro) {
            /* the model broke the contract (node_reply_txn); do not invent reads */
            complete(w, c, "info", false, 0, "transaction answered without its results");
            return;
        }
        p->n_values = r->n_values;
        if (r->n_values > 0)
            memcpy(p->values, r->values, (size_t)r->n_values * sizeof *p->values);
        complete(w, c, "ok", r->has_value, r->value, NULL);
        return;
    case REPLY_FAIL:
        /* A definite no for this attempt; if an earlier attempt timed out it
         * may still have taken effect, so the operation stays unknown. */
        complete(w, c, p->maybe_applied ? "info" : "fail", false, 0, r->error);
        return;
    case REPLY_UNKNOWN:
        /* the node itself cannot say: neither ok nor a definite no */
        complete(w, c, "info", false, 0, r->error);
        return;
    case REPLY_REDIRECT:
        if (env->u.r.op.attempt != p->tries)
            return;   /* a redirect for an attempt we already gave up on */
        if (p->redirects >= cfg->max_redirects) {
            complete(w, c, p->maybe_applied ? "info" : "fail", false, 0, "too many redirects");
            return;
        }
        p->redirects++;
        w->stats.redirects++;
        int to = r->redirect;
        if ((to < 0 || to >= w->n_nodes || to == env->from) && w->n_nodes > 1) {
            /* no usable hint: try any other node */
            to = (int)pcg32_below(&c->rng, (uint32_t)(w->n_nodes - 1));
            if (to >= env->from)
                to++;
        } else if (to < 0 || to >= w->n_nodes) {
            to = env->from;
        }
        c->leader_hint = r->redirect >= 0 && r->redirect < w->n_nodes ? r->redirect : -1;
        if (w->tr) {
            jw *j = trace_begin(w->tr, w->now, "redirect");
            jw_kstr(j, "client", c->name);
            jw_kint(j, "op", (int64_t)p->op.id);
            jw_kstr(j, "from", world_name(w, env->from));
            jw_kstr(j, "to", world_name(w, to));
            trace_end(w->tr);
        }
        send_attempt(w, c, to);
        return;
    }
}

static void on_timeout(world *w, struct client *c, uint64_t token)
{
    struct pending_op *p = &c->cur;
    if (!p->active || p->token != token)
        return;
    const struct workload *cfg = &wl_of(w, c)->cfg;
    if (p->op.type != OP_READ)
        p->maybe_applied = true;
    p->timeouts++;
    if (c->leader_hint == p->node)
        c->leader_hint = -1;   /* the leader we knew stopped answering: look again */
    if (p->timeouts > cfg->retries) {
        if (p->op.type == OP_READ)
            complete(w, c, "fail", false, 0, "timeout");  /* a read changes nothing */
        else
            complete(w, c, "info", false, 0, "timeout");
        return;
    }
    sim_time delay = retry_delay(cfg, c, p->timeouts);
    w->stats.retries++;
    p->token = w->next_token++;
    if (w->tr) {
        jw *j = trace_begin(w->tr, w->now, "retry");
        jw_kstr(j, "client", c->name);
        jw_kint(j, "op", (int64_t)p->op.id);
        jw_kint(j, "attempt", p->tries + 1);
        jw_kint(j, "delay", delay);
        trace_end(w->tr);
    }
    evq_push(w->q, w->now + delay, EV_CLIENT_RETRY, (uint32_t)c->index, p->token, NULL);
}

static void schedule_arrival(world *w, struct client *c)
{
    const struct workload *cfg = &wl_of(w, c)->cfg;
    double per_client = cfg->rate / cfg->clients;
    /* exponential inter-arrival times: a Poisson process per client */
    double u = 1.0 - pcg32_unit(&c->rng);   /* (0, 1] */
    double gap_s = -dmath_log(u) / per_client;
    sim_time gap = gap_s > 1e6 ? SIM_TIME_LIMIT : (sim_time)(gap_s * 1e9 + 0.5);
    sim_time base = w->now > cfg->start ? w->now : cfg->start;
    evq_push(w->q, base + gap, EV_CLIENT_ARRIVAL, (uint32_t)c->index, 0, NULL);
}

static void on_arrival(world *w, struct client *c)
{
    if (workload_over(w, c))
        return;
    const struct workload *cfg = &wl_of(w, c)->cfg;
    bool scripted = cfg->n_script > 0;
    if (!c->cur.active) {
        start_op(w, c, w->now);
    } else if ((int)c->q_len >= cfg->queue_limit) {
        w->stats.ops_shed++;
    } else {
        if (c->q_len + 1 > c->q_cap) {
            /* grow the ring, unrolling it so q_head becomes 0 */
            size_t cap = c->q_cap ? c->q_cap * 2 : 16;
            sim_time *q = sim_xmalloc(cap * sizeof *q);
            for (size_t i = 0; i < c->q_len; i++)
                q[i] = c->queue[(c->q_head + i) % c->q_cap];
            sim_free(c->queue);
            c->queue = q;
            c->q_cap = cap;
            c->q_head = 0;
        }
        c->queue[(c->q_head + c->q_len) % c->q_cap] = w->now;
        c->q_len++;
    }
    if (!scripted)
        schedule_arrival(w, c);
}

void client_event(world *w, const struct evq_event *ev)
{
    struct client *c = &w->clients[ev->target];
    switch (ev->kind) {
    case EV_CLIENT_NEXT:
        if (!c->cur.active && !workload_over(w, c))
            start_op(w, c, w->now);
        break;
    case EV_CLIENT_ARRIVAL:
        on_arrival(w, c);
        break;
    case EV_CLIENT_TIMEOUT:
        on_timeout(w, c, ev->arg);
        break;
    case EV_CLIENT_RETRY:
        if (c->cur.active && c->cur.token == ev->arg)
            send_attempt(w, c, pick_node(w, c));
        break;
    default:
        break;
    }
}
