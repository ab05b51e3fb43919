/* RED per service and USE per node, over time, for sim report.
 *
 * Fed one trace line at a time (rep_obs_line) and finished once the
 * history is read (rep_obs_finish). Memory is fixed per service and per
 * node: REP_WINDOWS windows whose width doubles as the run grows, each
 * holding counts, sums and a log histogram of latencies, never samples.
 *
 * RED comes from the "served" notes of docs/trace-format.md (one per
 * request a service finished) and, for every model, from the client
 * operations (the "clients" service: invoke to ok, fail or info). USE
 * comes from "load" notes (busy/capacity, queue) where a model writes
 * them; for every node the engine's own view is added: messages in flight
 * to it (a queue the network holds), messages to it dropped, time down. */
#include "report.h"

#include "core/alloc.h"
#include "core/exitcodes.h"
#include "trace/jread.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>

/* ==== windows ============================================================= */

int rep_obs_windows(const struct rep *r)
{
    if (r->obs.width <= 0)
        return 1;
    int64_t n = rep_end_time(r) / r->obs.width + 1;
    return n > REP_WINDOWS ? REP_WINDOWS : (int)n;
}

static void merge_red(struct rep_red_win *w)
{
    for (int i = 0; i < REP_WINDOWS / 2; i++) {
        struct rep_red_win *a = &w[2 * i], *b = &w[2 * i + 1], m;
        m.count = a->count + b->count;
        m.errors = a->errors + b->errors;
        for (int k = 0; k < REP_LAT_BUCKETS; k++)
            m.lat[k] = a->lat[k] + b->lat[k];
        w[i] = m;
    }
    memset(w + REP_WINDOWS / 2, 0, REP_WINDOWS / 2 * sizeof *w);
}

static void merge_use(struct rep_use_win *w)
{
    for (int i = 0; i < REP_WINDOWS / 2; i++) {
        struct rep_use_win *a = &w[2 * i], *b = &w[2 * i + 1], m;
        m.busy = a->busy + b->busy;
        m.capacity = a->capacity + b->capacity;
        m.queue = a->queue + b->queue;
        m.inflight = a->inflight + b->inflight;
        m.down = a->down + b->down;
        m.queue_max = a->queue_max > b->queue_max ? a->queue_max : b->queue_max;
        m.inflight_max = a->inflight_max > b->inflight_max ? a->inflight_max : b->inflight_max;
        m.errors = a->errors + b->errors;
        m.drops = a->drops + b->drops;
        w[i] = m;
    }
    memset(w + REP_WINDOWS / 2, 0, REP_WINDOWS / 2 * sizeof *w);
}

/* Make the windows reach t, doubling the width as often as needed. */
static void reach(struct rep_obs *o, int64_t t)
{
    if (o->width == 0)
        o->width = 1000000;
    while (t / o->width >= REP_WINDOWS) {
        for (int s = 0; s < o->n_services; s++)
            merge_red(o->services[s].win);
        for (int n = 0; n < o->n_nodes; n++)
            merge_use(o->nodes[n].win);
        o->width *= 2;
    }
}

static int win_of(const struct rep_obs *o, int64_t t)
{
    int64_t w = t / o->width;
    return w < 0 ? 0 : w >= REP_WINDOWS ? REP_WINDOWS - 1 : (int)w;
}

/* ==== RED =================================================================== */

/* The histogram bucket of a latency: integer arithmetic only. */
static int lat_bucket(int64_t ns)
{
    if (ns < 1000)
        return 0;
    uint64_t us = (uint64_t)ns / 1000;
    int e = 63 - __builtin_clzll(us);
    int frac = e >= 3 ? (int)((us >> (e - 3)) & 7) : (int)((us << (3 - e)) & 7);
    int b = 1 + e * 8 + frac;
    return b >= REP_LAT_BUCKETS ? REP_LAT_BUCKETS - 1 : b;
}

/* The middle of a bucket, ns. */
static int64_t lat_value(int b)
{
    if (b == 0)
        return 500;
    int e = (b - 1) / 8, frac = (b - 1) % 8;
    double lo = (double)(8 + frac) * (double)((uint64_t)1 << e) / 8.0;
    double hi = (double)(9 + frac) * (double)((uint64_t)1 << e) / 8.0;
    return (int64_t)((lo + hi) / 2 * 1000);
}

int64_t rep_red_pct(const struct rep_service *s, int from, int to, double q)
{
    uint64_t n = 0, counts[REP_LAT_BUCKETS];
    memset(counts, 0, sizeof counts);
    for (int i = from < 0 ? 0 : from; i < to && i < REP_WINDOWS; i++)
        for (int k = 0; k < REP_LAT_BUCKETS; k++) {
            counts[k] += s->win[i].lat[k];
            n += s->win[i].lat[k];
        }
    if (n == 0)
        return -1;
    uint64_t rank = (uint64_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (int k = 0; k < REP_LAT_BUCKETS; k++) {
        seen += counts[k];
        if (seen >= rank)
            return lat_value(k);
    }
    return lat_value(REP_LAT_BUCKETS - 1);
}

static struct rep_service *service(struct rep *r, const char *name, bool clients)
{
    struct rep_obs *o = &r->obs;
    for (int i = 0; i < o->n_services; i++)
        if (o->services[i].clients == clients && strcmp(o->services[i].name, name) == 0)
            return &o->services[i];
    if (o->n_services >= REP_MAX_SERVICES)
        return NULL;
    struct rep_service *s = &o->services[o->n_services++];
    s->name = sim_xstrdup(name);
    s->clients = clients;
    s->win = sim_xcalloc(REP_WINDOWS, sizeof *s->win);
    return s;
}

static void red_add(struct rep_obs *o, struct rep_service *s, int64_t t, bool ok, int64_t latency)
{
    reach(o, t);
    struct rep_red_win *w = &s->win[win_of(o, t)];
    w->count++;
    s->count++;
    if (!ok) {
        w->errors++;
        s->errors++;
    }
    if (latency >= 0)
        w->lat[lat_bucket(latency)]++;
}

/* ==== USE =================================================================== */

static struct rep_node_use *node_use(struct rep *r, int node)
{
    struct rep_obs *o = &r->obs;
    if (node < 0 || node >= r->n_nodes)
        return NULL;
    if (!o->nodes) {
        o->n_nodes = r->n_nodes;
        o->nodes = sim_xcalloc((size_t)o->n_nodes, sizeof *o->nodes);
        for (int i = 0; i < o->n_nodes; i++)
            o->nodes[i].win = sim_xcalloc(REP_WINDOWS, sizeof *o->nodes[i].win);
    }
    return node < o->n_nodes ? &o->nodes[node] : NULL;
}

/* Integrate the node's levels from its `since` up to t. */
static void advance(struct rep_obs *o, struct rep_node_use *n, int64_t t)
{
    reach(o, t);
    int64_t a = n->since;
    while (a < t) {
        int w = win_of(o, a);
        int64_t end = (int64_t)(w + 1) * o->width;
        if (end > t || w == REP_WINDOWS - 1)
            end = t;
        double dt = (double)(end - a);
        struct rep_use_win *x = &n->win[w];
        x->busy += (double)n->busy * dt;
        x->capacity += (double)n->capacity * dt;
        x->queue += (double)n->queue * dt;
        x->inflight += (double)n->inflight * dt;
        x->down += n->down ? dt : 0;
        a = end;
    }
    n->since = t;
    struct rep_use_win *x = &n->win[win_of(o, t)];
    if ((uint64_t)n->queue > x->queue_max)
        x->queue_max = (uint32_t)n->queue;
    if ((uint64_t)n->inflight > x->inflight_max)
        x->inflight_max = (uint32_t)n->inflight;
}

/* ==== the lines ============================================================ */

static int node_index(struct rep *r, const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(v))
        return -1;
    int i = rep_name(r, v->valuestring);
    return i >= 0 && i < r->n_nodes ? i : -1;
}

void rep_obs_line(struct rep *r, const cJSON *o, const char *ev, int64_t t)
{
    struct rep_obs *ob = &r->obs;
    if (t < 0 || t > HIST_MAX_TIME)
        return;   /* the facts reader refuses such a trace; never overflow a window */
    if (strcmp(ev, "send") == 0 || strcmp(ev, "deliver") == 0 || strcmp(ev, "drop") == 0) {
        struct rep_node_use *n = node_use(r, node_index(r, o, "to"));
        if (!n)
            return;
        advance(ob, n, t);
        if (ev[0] == 's') {
            n->inflight++;
        } else if (n->inflight > 0) {
            /* a duplicate's second delivery has no send of its own */
            if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "duplicate")))
                n->inflight--;
        }
        if (ev[1] == 'r') {
            n->drops++;
            n->win[win_of(ob, t)].drops++;
        }
        advance(ob, n, t);
        return;
    }
    if (strcmp(ev, "crash") == 0 || strcmp(ev, "restart") == 0) {
        struct rep_node_use *n = node_use(r, node_index(r, o, "node"));
        if (!n)
            return;
        advance(ob, n, t);
        n->down = ev[0] == 'c';
        if (n->down) {
            /* volatile state is gone: so are its workers and queue */
            n->busy = n->queue = 0;
        }
        return;
    }
    if (strcmp(ev, "note") != 0)
        return;
    const char *what = jr_str(o, "what", "");
    if (strcmp(what, "served") == 0) {
        int node = node_index(r, o, "node");
        const char *name = jr_str(o, "service", NULL);
        if (!name)
            name = node >= 0 ? r->names[node] : "?";
        bool ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "ok"));
        int64_t lat = jr_i64(o, "latency", -1);
        struct rep_service *s = service(r, name, false);
        ob->any_served = true;
        if (s)
            red_add(ob, s, t, ok, lat);
        else
            ob->services_left_out++;
        struct rep_node_use *n = node_use(r, node);
        if (n && !ok) {
            reach(ob, t);
            n->errors++;
            n->win[win_of(ob, t)].errors++;
        }
    } else if (strcmp(what, "load") == 0) {
        struct rep_node_use *n = node_use(r, node_index(r, o, "node"));
        if (!n)
            return;
        advance(ob, n, t);
        n->has_load = true;
        ob->any_load = true;
        n->busy = jr_i64(o, "busy", n->busy);
        n->capacity = jr_i64(o, "capacity", n->capacity);
        n->queue = jr_i64(o, "queue", n->queue);
        advance(ob, n, t);
    }
}

void rep_obs_finish(struct rep *r)
{
    struct rep_obs *ob = &r->obs;
    int64_t end = rep_end_time(r);
    if (end > HIST_MAX_TIME)
        end = HIST_MAX_TIME;
    reach(ob, end);
    /* every model has the clients' view: invoke to completion */
    if (r->h && hist_count(r->h) > 0) {
        struct rep_service *s = service(r, "clients", true);
        for (size_t i = 0; s && i < hist_count(r->h); i++) {
            const struct hist_op *op = hist_op(r->h, i);
            if (op->open || op->complete_t == HIST_NEVER)
                continue;
            red_add(ob, s, op->complete_t, op->type == HIST_OK, op->complete_t - op->invoke_t);
        }
        /* the clients first */
        if (s && s != &ob->services[0]) {
            struct rep_service tmp = *s;
            memmove(&ob->services[1], &ob->services[0], (size_t)(s - ob->services) * sizeof *s);
            ob->services[0] = tmp;
        }
    }
    node_use(r, 0);
    for (int i = 0; i < ob->n_nodes; i++)
        advance(ob, &ob->nodes[i], end);
}

void rep_obs_free(struct rep *r)
{
    struct rep_obs *ob = &r->obs;
    for (int i = 0; i < ob->n_services; i++) {
        sim_free(ob->services[i].name);
        sim_free(ob->services[i].win);
    }
    for (int i = 0; i < ob->n_nodes; i++)
        sim_free(ob->nodes[i].win);
    sim_free(ob->nodes);
    memset(ob, 0, sizeof *ob);
}

/* ==== one request's path (sim report --text --req ID) ========================= */

struct req_scan {
    int64_t req;
    FILE *out;
    int64_t *ids;              /* message ids sent with this req, in send order */
    size_t n_ids, cap_ids;
    long lines;
    int64_t first_t, last_t;
};

static bool has_id(const struct req_scan *q, int64_t id)
{
    size_t lo = 0, hi = q->n_ids;   /* ids grow in send order: binary search */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (q->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < q->n_ids && q->ids[lo] == id;
}

static void req_print(struct req_scan *q, int64_t t, const char *what, const char *text)
{
    if (q->lines == 0)
        q->first_t = t;
    q->last_t = t;
    q->lines++;
    fprintf(q->out, "  %12.6f ms  %-8s %s\n", (double)t / 1e6, what, text);
}

static int req_line(void *ctx, const cJSON *o, const char *ev, int64_t t, const char *raw, size_t len,
                    long lineno)
{
    (void)raw;
    (void)len;
    (void)lineno;
    struct req_scan *q = ctx;
    if (!o)
        return 0;
    char text[600];
    int64_t id = -1;
    if (strcmp(ev, "retry") == 0 || strcmp(ev, "redirect") == 0) {
        if (jr_i64(o, "op", -1) != q->req)
            return 0;
        if (ev[2] == 't')
            snprintf(text, sizeof text, "%s attempt %" PRId64 " after %.3f ms", jr_str(o, "client", "?"),
                     jr_i64(o, "attempt", 0), (double)jr_i64(o, "delay", 0) / 1e6);
        else
            snprintf(text, sizeof text, "%s told by %s to ask %s", jr_str(o, "client", "?"),
                     jr_str(o, "from", "?"), jr_str(o, "to", "?"));
        req_print(q, t, ev, text);
        return 0;
    }
    if (strcmp(ev, "invoke") == 0 || strcmp(ev, "ok") == 0 || strcmp(ev, "fail") == 0 ||
        strcmp(ev, "info") == 0) {
        if (jr_i64(o, "op", -1) != q->req)
            return 0;
        char *v = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, "value"));
        const char *err = jr_str(o, "error", NULL);
        snprintf(text, sizeof text, "%s %s %s%s%s%s%s", jr_str(o, "client", "?"), jr_str(o, "f", "?"),
                 jr_str(o, "key", "?"), v ? " " : "", v ? v : "", err ? " error: " : "", err ? err : "");
        cJSON_free(v);
        req_print(q, t, ev, text);
        return 0;
    }
    if (strcmp(ev, "send") == 0) {
        if (jr_i64(o, "req", 0) != q->req)
            return 0;
        id = jr_i64(o, "id", -1);
        SIM_GROW(q->ids, q->cap_ids, q->n_ids + 1);
        q->ids[q->n_ids++] = id;
        char *m = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(o, "msg"));
        snprintf(text, sizeof text, "%s -> %s  msg %" PRId64 " %.400s", jr_str(o, "from", "?"),
                 jr_str(o, "to", "?"), id, m ? m : "{}");
        cJSON_free(m);
        req_print(q, t, ev, text);
        return 0;
    }
    if (strcmp(ev, "deliver") == 0 || strcmp(ev, "drop") == 0) {
        id = jr_i64(o, "id", -1);
        if (!has_id(q, id))
            return 0;
        const char *reason = jr_str(o, "reason", NULL);
        snprintf(text, sizeof text, "%s -> %s  msg %" PRId64 "%s%s%s", jr_str(o, "from", "?"),
                 jr_str(o, "to", "?"), id, reason ? " (" : "", reason ? reason : "", reason ? ")" : "");
        req_print(q, t, ev, text);
        return 0;
    }
    if (strcmp(ev, "timer") == 0) {
        if (jr_i64(o, "req", 0) != q->req)
            return 0;
        snprintf(text, sizeof text, "%s timer %" PRId64 " (set while handling this request)",
                 jr_str(o, "node", "?"), jr_i64(o, "timer", -1));
        req_print(q, t, ev, text);
        return 0;
    }
    if (strcmp(ev, "note") == 0) {
        if (jr_i64(o, "req", 0) != q->req)
            return 0;
        cJSON *c = cJSON_Duplicate(o, 1);
        if (!c)
            return 0;
        cJSON_DeleteItemFromObjectCaseSensitive(c, "t");
        cJSON_DeleteItemFromObjectCaseSensitive(c, "ev");
        cJSON_DeleteItemFromObjectCaseSensitive(c, "node");
        cJSON_DeleteItemFromObjectCaseSensitive(c, "req");
        char *m = cJSON_PrintUnformatted(c);
        snprintf(text, sizeof text, "%s %.500s", jr_str(o, "node", "?"), m ? m : "{}");
        cJSON_free(m);
        cJSON_Delete(c);
        req_print(q, t, ev, text);
    }
    return 0;
}

int rep_write_req(const char *path, int64_t req, FILE *out, char *err, size_t errlen)
{
    struct req_scan q = { .req = req, .out = out };
    struct tscan_info info;
    fprintf(out, "request %" PRId64 " in %s (its client operation, then every message, timer and note "
            "that carries \"req\":%" PRId64 "):\n", req, path, req);
    int rc = tscan_run(path, NULL, req_line, &q, &info, err, errlen);
    sim_free(q.ids);
    if (rc)
        return rc;
    if (q.lines == 0)
        fprintf(out, "  nothing: no operation %" PRId64 " and no line with \"req\":%" PRId64 "\n", req, req);
    else
        fprintf(out, "%ld lines, %zu messages, from %.6f ms to %.6f ms (%.3f ms)\n", q.lines, q.n_ids,
                (double)q.first_t / 1e6, (double)q.last_t / 1e6, (double)(q.last_t - q.first_t) / 1e6);
    return ferror(out) ? SIM_EXIT_IO : 0;
}
