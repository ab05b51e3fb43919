/* The checker table, results, and the trace facts every checker may read. */
#include "checker.h"
#include "u64map.h"
#include "sort.h"
#include "alloc.h"
#include "jread.h"
#include "trace.h"
#include "linearizable.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- results ----------------------------------------------------------------- */

void check_result_init(struct check_result *r)
{
    memset(r, 0, sizeof *r);
    jw_init(&r->evidence);
    r->verdict = CHECK_UNKNOWN;
}

void check_result_free(struct check_result *r)
{
    jw_free(&r->evidence);
    sim_free(r->text);
    memset(r, 0, sizeof *r);
}

void check_text(struct check_result *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    SIM_GROW(r->text, r->text_cap, r->text_len + (size_t)n + 2);
    va_start(ap, fmt);
    vsnprintf(r->text + r->text_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    r->text_len += (size_t)n;
    r->text[r->text_len++] = '\n';
    r->text[r->text_len] = 0;
}

const char *check_verdict_name(enum check_verdict v)
{
    switch (v) {
    case CHECK_HOLDS: return "holds";
    case CHECK_VIOLATED: return "violated";
    case CHECK_UNKNOWN: return "unknown";
    case CHECK_SKIPPED: return "skipped";
    }
    return "?";
}

int check_say(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    return r;
}

static void json_value(jw *w, const hist *h, int64_t v)
{
    if (hist_model(h) == HIST_KV)
        jw_str(w, hist_str(h, v));
    else if (v == HIST_NIL)
        jw_null(w);
    else
        jw_int(w, v);
}

void check_json_op(jw *w, const hist *h, long index)
{
    const struct hist_op *op = hist_op(h, (size_t)index);
    char what[320];
    jw_obj(w);
    jw_kint(w, "op", op->id);
    jw_kstr(w, "process", hist_str(h, op->process));
    jw_kstr(w, "f", hist_f_name((enum hist_f)op->f));
    jw_kstr(w, "key", hist_str(h, op->key));
    jw_kstr(w, "type", op->open ? "open" : hist_type_name((enum hist_type)op->type));
    jw_key(w, "value");
    switch ((enum hist_f)op->f) {
    case HIST_READ:
    case HIST_GET:
        if (op->type == HIST_OK)
            json_value(w, h, op->out);
        else
            jw_null(w);
        break;
    case HIST_CAS:
        jw_arr(w);
        json_value(w, h, op->arg);
        json_value(w, h, op->arg2);
        jw_arr_end(w);
        break;
    default:
        json_value(w, h, op->arg);
        break;
    }
    jw_kint(w, "invoke", op->invoke_t);
    jw_key(w, "complete");
    if (op->open)
        jw_null(w);
    else
        jw_int(w, op->complete_t);
    jw_kint(w, "invoke_line", op->invoke_line);
    jw_kint(w, "complete_line", op->complete_line);
    jw_kstr(w, "text", lin_describe_op(h, op, what, sizeof what));
    jw_obj_end(w);
}

const struct checker *checker_find(const char *name)
{
    for (int i = 0; checkers[i]; i++)
        if (strcmp(checkers[i]->name, name) == 0)
            return checkers[i];
    return NULL;
}

/* ---- trace facts ---------------------------------------------------------- */

int trace_facts_find(const struct trace_facts *f, const char *name)
{
    for (int i = 0; i < f->n_names; i++)
        if (strcmp(f->names[i], name) == 0)
            return i;
    return -1;
}

void op_sides_init(struct op_sides *s, const struct trace_facts *f, const hist *h)
{
    s->f = f;
    s->h = h;
    s->n_str = hist_n_strings(h);
    s->client = sim_xmalloc((s->n_str ? s->n_str : 1) * sizeof *s->client);
    for (size_t k = 0; k < s->n_str; k++)
        s->client[k] = -2;
}

void op_sides_free(struct op_sides *s)
{
    sim_free(s->client);
    s->client = NULL;
}

bool op_sides_of(struct op_sides *s, const struct net_window *w, const struct hist_op *op, int *side)
{
    const struct trace_facts *f = s->f;
    int target, server;
    if (!trace_facts_route(f, op->id, &target, &server))
        return false;
    if (target < 0 || target >= f->n_nodes)
        return false;
    *side = w->side_of[target];
    int client = -1;
    if (op->process >= 0 && (size_t)op->process < s->n_str) {
        if (s->client[op->process] == -2)
            s->client[op->process] = trace_facts_find(f, hist_str(s->h, op->process));
        client = s->client[op->process];
    }
    if (client >= 0 && client < f->n_names && w->side_of[client] >= 0 && w->side_of[client] != *side)
        *side = w->side_of[client];
    return true;
}

static int add_name(struct trace_facts *f, const char *name)
{
    int i = trace_facts_find(f, name);
    if (i >= 0)
        return i;
    f->names = sim_xrealloc(f->names, (size_t)(f->n_names + 1) * sizeof *f->names);
    f->names[f->n_names] = sim_xstrdup(name);
    return f->n_names++;
}

static struct net_window *open_window(struct trace_facts *f, int64_t t, const char *kind, size_t *cap)
{
    SIM_GROW(f->windows, *cap, f->n_windows + 1);
    struct net_window *nw = &f->windows[f->n_windows++];
    nw->start = t;
    nw->end = INT64_MAX;
    nw->kind = kind;
    /* room for every name seen so far and some clients to come */
    nw->side_of = sim_xmalloc((size_t)(f->n_names + 1) * sizeof *nw->side_of);
    for (int i = 0; i <= f->n_names; i++)
        nw->side_of[i] = -1;
    return nw;
}

static void close_windows(struct trace_facts *f, int64_t t)
{
    for (size_t i = 0; i < f->n_windows; i++)
        if (f->windows[i].end == INT64_MAX) {
            f->windows[i].end = t;
            if (t > f->last_fault_end)
                f->last_fault_end = t;
        }
}

static void open_down(struct trace_facts *f, int node, int64_t t, bool paused, size_t *cap)
{
    SIM_GROW(f->down, *cap, f->n_down + 1);
    f->down[f->n_down++] = (struct node_window){ node, t, INT64_MAX, paused };
}

static void close_down(struct trace_facts *f, int node, int64_t t, bool paused)
{
    for (size_t i = f->n_down; i-- > 0;)
        if (f->down[i].node == node && f->down[i].paused == paused && f->down[i].end == INT64_MAX) {
            f->down[i].end = t;
            if (t > f->last_fault_end)
                f->last_fault_end = t;
            return;
        }
}

static const char *str_field(const cJSON *o, const char *k)
{
    return jr_str(o, k, NULL);
}

static int64_t int_field(const cJSON *o, const char *k)
{
    return jr_i64(o, k, 0);
}

/* The event type of a trace line, without parsing it when it names one:
 * the value after "ev":". A line with two that parses (a forged one, whose
 * first may sit in a nested object) gives its top-level "ev", as the
 * report's reader takes it. */
static bool line_ev(const char *line, size_t len, char *ev, size_t n)
{
    const char *p = strstr(line, "\"ev\":\"");
    if (!p)
        return false;
    cJSON *o = strstr(p + 6, "\"ev\":\"") ? cJSON_ParseWithLength(line, len) : NULL;
    if (o) {
        const char *top = str_field(o, "ev");
        bool found = top != NULL;
        if (found)
            snprintf(ev, n, "%s", top);
        cJSON_Delete(o);
        return found;
    }
    /* one "ev" (or a line that does not parse: the caller says so) */
    p += 6;
    size_t i = 0;
    while (p[i] && p[i] != '"' && i + 1 < n) {
        ev[i] = p[i];
        i++;
    }
    ev[i] = 0;
    return true;
}

static bool wanted(const char *ev)
{
    static const char *const kinds[] = {
        "cluster", "workload", "partition", "isolate", "cut", "bridge", "heal", "crash",
        "restart", "pause", "resume", "state", "invariant", "end", "send", "deliver", NULL,
    };
    for (int i = 0; kinds[i]; i++)
        if (strcmp(ev, kinds[i]) == 0)
            return true;
    return false;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Facts lines that mention endpoints by name: make sure windows opened before
 * a client appeared still have room for it (side -1). */
static void grow_windows(struct trace_facts *f, int old_names)
{
    if (f->n_names <= old_names)
        return;
    for (size_t i = 0; i < f->n_windows; i++) {
        f->windows[i].side_of = sim_xrealloc(f->windows[i].side_of,
                                             (size_t)(f->n_names + 1) * sizeof(int));
        for (int k = old_names + 1; k <= f->n_names; k++)
            f->windows[i].side_of[k] = -1;
    }
}

static void set_side(struct net_window *nw, const struct trace_facts *f, const char *name, int side)
{
    int i = trace_facts_find(f, name);
    if (i >= 0)
        nw->side_of[i] = side;
}

/* A request's first attempt names the node the client chose; an ok reply
 * names the node that served it. */
static void note_client_message(struct trace_facts *f, const cJSON *o, int from, int to)
{
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "msg");
    const char *type = str_field(msg, "type");
    int64_t op = int_field(msg, "op");
    if (!type || op <= 0)
        return;
    bool first = strcmp(type, "request") == 0 && int_field(msg, "attempt") == 1 && to < f->n_nodes;
    const char *status = str_field(msg, "status");
    bool served = strcmp(type, "reply") == 0 && from < f->n_nodes && status && strcmp(status, "ok") == 0;
    if (!first && !served)
        return;
    uint32_t k;
    if (!u64map_get(&f->op_slot, (uint64_t)op, &k)) {
        if (f->n_routes >= UINT32_MAX)
            return;
        SIM_GROW(f->routes, f->cap_routes, f->n_routes + 1);
        k = (uint32_t)f->n_routes++;
        f->routes[k] = (struct op_route){ -1, -1 };
        u64map_put(&f->op_slot, (uint64_t)op, k);
    }
    if (first)
        f->routes[k].target = to;
    else
        f->routes[k].server = from;
}

bool trace_facts_route(const struct trace_facts *f, int64_t op, int *target, int *server)
{
    uint32_t k;
    if (op <= 0 || !u64map_get(&f->op_slot, (uint64_t)op, &k))
        return false;
    *target = f->routes[k].target;
    *server = f->routes[k].server;
    return true;
}

/* The send times of the messages read so far, found by message id. Ids come
 * from the file: a hash map from id to a slot in a growing array, not an
 * array indexed by id, so that memory follows the number of send lines
 * whatever a forged id says. */
struct sends {
    struct u64map slot;         /* id -> index into t */
    int64_t *t;
    size_t n, cap;
};

/* The send time of message id, or NULL if it was not sent. */
static int64_t *sends_find(const struct sends *s, int64_t id)
{
    uint32_t k;
    return u64map_get(&s->slot, (uint64_t)id, &k) ? &s->t[k] : NULL;
}

static void sends_put(struct sends *s, int64_t id, int64_t t)
{
    int64_t *at = sends_find(s, id);
    if (at) {
        *at = t;
        return;
    }
    if (s->n >= UINT32_MAX)
        return;   /* four billion sends: later ones get no delay measured */
    SIM_GROW(s->t, s->cap, s->n + 1);
    s->t[s->n] = t;
    u64map_put(&s->slot, (uint64_t)id, (uint32_t)s->n);
    s->n++;
}

static void facts_line(struct trace_facts *f, const char *ev, const cJSON *o, size_t *wcap,
                       size_t *dcap, struct sends *sends, size_t *delay_cap)
{
    int64_t t = int_field(o, "t");
    int old_names = f->n_names;
    if (strcmp(ev, "cluster") == 0) {
        /* A trace has one; a forged second one would change the node count
         * after the per-node tables were sized by it, so the first wins. */
        if (f->has_cluster)
            return;
        f->has_cluster = true;
        const char *model = str_field(o, "model");
        const char *cap = str_field(o, "cap_class");
        f->model = model ? sim_xstrdup(model) : NULL;
        f->cap_class = cap ? sim_xstrdup(cap) : NULL;
        f->params = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "params"), 1);
        const cJSON *n;
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(o, "nodes"))
            if (cJSON_IsString(n))
                add_name(f, n->valuestring);
        f->n_nodes = f->n_names;
        grow_windows(f, old_names);   /* a forged partition line may come first */
    } else if (strcmp(ev, "workload") == 0) {
        const cJSON *n;
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(o, "clients"))
            if (cJSON_IsString(n))
                add_name(f, n->valuestring);
        grow_windows(f, old_names);
    } else if (strcmp(ev, "partition") == 0) {
        close_windows(f, t);
        struct net_window *nw = open_window(f, t, "partition", wcap);
        int g = 0;
        const cJSON *group, *n;
        cJSON_ArrayForEach(group, cJSON_GetObjectItemCaseSensitive(o, "groups")) {
            cJSON_ArrayForEach(n, group)
                if (cJSON_IsString(n))
                    set_side(nw, f, n->valuestring, g);
            g++;
        }
    } else if (strcmp(ev, "isolate") == 0) {
        struct net_window *nw = open_window(f, t, "isolate", wcap);
        for (int i = 0; i < f->n_nodes; i++)
            nw->side_of[i] = 0;
        set_side(nw, f, str_field(o, "node") ? str_field(o, "node") : "", 1);
    } else if (strcmp(ev, "cut") == 0) {
        struct net_window *nw = open_window(f, t, "cut", wcap);
        set_side(nw, f, str_field(o, "from") ? str_field(o, "from") : "", 0);
        set_side(nw, f, str_field(o, "to") ? str_field(o, "to") : "", 1);
    } else if (strcmp(ev, "bridge") == 0) {
        struct net_window *nw = open_window(f, t, "bridge", wcap);
        const cJSON *n;
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(o, "a"))
            if (cJSON_IsString(n))
                set_side(nw, f, n->valuestring, 0);
        cJSON_ArrayForEach(n, cJSON_GetObjectItemCaseSensitive(o, "b"))
            if (cJSON_IsString(n))
                set_side(nw, f, n->valuestring, 1);
    } else if (strcmp(ev, "heal") == 0) {
        close_windows(f, t);
    } else if (strcmp(ev, "crash") == 0 || strcmp(ev, "pause") == 0) {
        int node = trace_facts_find(f, str_field(o, "node") ? str_field(o, "node") : "");
        bool already = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "already_down")) ||
                       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "down"));
        if (node >= 0 && !already)
            open_down(f, node, t, ev[0] == 'p', dcap);
    } else if (strcmp(ev, "restart") == 0 || strcmp(ev, "resume") == 0) {
        int node = trace_facts_find(f, str_field(o, "node") ? str_field(o, "node") : "");
        if (node >= 0)
            close_down(f, node, t, ev[1] == 'e' && ev[2] == 's' && ev[3] == 'u');
    } else if (strcmp(ev, "state") == 0) {
        int node = trace_facts_find(f, str_field(o, "node") ? str_field(o, "node") : "");
        if (node >= 0 && node < f->n_nodes) {
            bool up = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "up"));
            f->final_up[node] = up;
            cJSON_Delete(f->final_state[node]);
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
            f->final_state[node] = up && st ? cJSON_Duplicate(st, 1) : NULL;
        }
    } else if (strcmp(ev, "invariant") == 0) {
        size_t n = f->n_invariant + 1;
        f->invariant_t = sim_xrealloc(f->invariant_t, n * sizeof *f->invariant_t);
        f->invariant_why = sim_xrealloc(f->invariant_why, n * sizeof *f->invariant_why);
        f->invariant_t[f->n_invariant] = t;
        const char *why = str_field(o, "why");
        f->invariant_why[f->n_invariant] = sim_xstrdup(why ? why : "");
        f->n_invariant++;
    } else if (strcmp(ev, "end") == 0) {
        f->complete = true;
        f->end_time = t;
    } else if (strcmp(ev, "send") == 0 || strcmp(ev, "deliver") == 0) {
        int from = trace_facts_find(f, str_field(o, "from") ? str_field(o, "from") : "");
        int to = trace_facts_find(f, str_field(o, "to") ? str_field(o, "to") : "");
        int64_t id = int_field(o, "id");
        if (from < 0 || to < 0 || id <= 0)
            return;
        bool node_link = from < f->n_nodes && to < f->n_nodes;
        const int64_t *sent_at;
        if (ev[0] == 's') {
            sends_put(sends, id, t);
            if (!node_link)
                note_client_message(f, o, from, to);
        } else if ((sent_at = sends_find(sends, id)) && *sent_at >= 0 && t >= *sent_at) {
            int64_t d = t - *sent_at;
            if (node_link && f->n_node_delays < 1000000) {
                SIM_GROW(f->node_delays, delay_cap[0], f->n_node_delays + 1);
                f->node_delays[f->n_node_delays++] = d;
            } else if (!node_link && f->n_client_delays < 1000000) {
                SIM_GROW(f->client_delays, delay_cap[1], f->n_client_delays + 1);
                f->client_delays[f->n_client_delays++] = d;
            }
        }
    }
    if (f->n_nodes > 0 && !f->final_up) {
        f->final_up = sim_xcalloc((size_t)f->n_nodes, sizeof *f->final_up);
        f->final_state = sim_xcalloc((size_t)f->n_nodes, sizeof *f->final_state);
    }
}

int trace_facts_read(const char *path, struct trace_facts *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "r");
    struct stat st;
    if (!fp || fstat(fileno(fp), &st) < 0 || S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot read %s: %s", path, fp ? strerror(EISDIR) : strerror(errno));
        if (fp)
            fclose(fp);
        return HIST_EIO;
    }
    char *line = NULL;
    size_t cap = 0, wcap = 0, dcap = 0, delay_cap[2] = { 0, 0 };
    size_t notes_cap = 0;
    struct sends sends = { 0 };
    int complete;
    long n;
    long lineno = 0;
    int rc = 0;
    while ((n = trace_getline(fp, &line, &cap, &complete)) >= 0) {
        lineno++;
        char ev[32];
        if (!complete)
            break;   /* a killed run's last line: the history reader warns about it */
        if (!line_ev(line, (size_t)n, ev, sizeof ev))
            continue;
        if (strcmp(ev, "note") == 0) {
            /* keep only the notes the transactional checkers read: memory
             * stays bounded by what those models write */
            static const char *const kept[] = { "\"what\":\"decision\"", "\"what\":\"blocked\"",
                                                "\"what\":\"unblocked\"", "\"what\":\"saga\"",
                                                "\"what\":\"step\"", "\"what\":\"compensate\"",
                                                "\"what\":\"granted\"", "\"what\":\"acquired\"", "\"what\":\"released\"",
                                                "\"what\":\"lease_over\"", "\"what\":\"storage_write\"",
                                                "\"what\":\"appended\"", "\"what\":\"assigned\"",
                                                "\"what\":\"consumed\"", NULL };
            int k = 0;
            while (kept[k] && !strstr(line, kept[k]))
                k++;
            if (!kept[k])
                continue;
            long failures = sim_alloc_failures();
            cJSON *o = cJSON_ParseWithLength(line, (size_t)n);
            if (!o) {
                if (sim_alloc_failures() != failures) {
                    snprintf(err, errlen, "out of memory");
                    rc = HIST_ENOMEM;
                } else {
                    snprintf(err, errlen, "%s:%ld: not a JSON object", path, lineno);
                    rc = HIST_EFORMAT;
                }
                break;
            }
            const char *what = str_field(o, "what");
            if (what) {
                SIM_GROW(out->notes, notes_cap, out->n_notes + 1);
                const char *node = str_field(o, "node");
                out->notes[out->n_notes++] = (struct trace_note){
                    .t = int_field(o, "t"), .node = trace_facts_find(out, node ? node : ""),
                    .what = what, .obj = o };
            } else
                cJSON_Delete(o);
            continue;
        }
        if (strcmp(ev, "slo") == 0) {
            cJSON *o = cJSON_ParseWithLength(line, (size_t)n);
            if (!o) {
                snprintf(err, errlen, "%s:%ld: not a JSON object", path, lineno);
                rc = HIST_EFORMAT;
                break;
            }
            out->slo = sim_xrealloc(out->slo, (out->n_slo + 1) * sizeof *out->slo);
            out->slo[out->n_slo++] = o;
            continue;
        }
        if (!wanted(ev))
            continue;
        long failures = sim_alloc_failures();
        cJSON *o = cJSON_ParseWithLength(line, (size_t)n);
        if (!o && sim_alloc_failures() != failures) {
            snprintf(err, errlen, "out of memory");
            rc = HIST_ENOMEM;
            break;
        }
        if (!o) {
            snprintf(err, errlen, "%s:%ld: not a JSON object", path, lineno);
            rc = HIST_EFORMAT;
            break;
        }
        int64_t t = int_field(o, "t");
        if (t < -1 || t > HIST_MAX_TIME) {
            /* every delay and window is a difference of times: keep them in range */
            snprintf(err, errlen, "%s:%ld: time t=%" PRId64 " is out of range (0 to 2^53 ns)", path, lineno, t);
            cJSON_Delete(o);
            rc = HIST_EFORMAT;
            break;
        }
        if (out->n_nodes == 0 && strcmp(ev, "cluster") != 0 && strcmp(ev, "send") != 0 &&
            strcmp(ev, "deliver") != 0) {
            /* facts before the cluster line name no node we know: ignore */
        }
        facts_line(out, ev, o, &wcap, &dcap, &sends, delay_cap);
        if (!out->complete || strcmp(ev, "end") != 0)
            out->end_time = int_field(o, "t") > out->end_time ? int_field(o, "t") : out->end_time;
        cJSON_Delete(o);
    }
    fclose(fp);
    sim_free(line);
    u64map_free(&sends.slot);
    sim_free(sends.t);
    if (rc) {
        trace_facts_free(out);
        return rc;
    }
    if (out->node_delays)
        sim_qsort(out->node_delays, out->n_node_delays, sizeof *out->node_delays, cmp_i64);
    if (out->client_delays)
        sim_qsort(out->client_delays, out->n_client_delays, sizeof *out->client_delays, cmp_i64);
    return 0;
}

void trace_facts_free(struct trace_facts *f)
{
    for (size_t i = 0; i < f->n_slo; i++)
        cJSON_Delete(f->slo[i]);
    sim_free(f->slo);
    sim_free(f->model);
    sim_free(f->cap_class);
    cJSON_Delete(f->params);
    for (size_t i = 0; i < f->n_windows; i++)
        sim_free(f->windows[i].side_of);
    sim_free(f->windows);
    sim_free(f->down);
    for (int i = 0; i < f->n_nodes; i++)
        if (f->final_state)
            cJSON_Delete(f->final_state[i]);
    sim_free(f->final_state);
    sim_free(f->final_up);
    for (int i = 0; i < f->n_names; i++)
        sim_free(f->names[i]);
    sim_free(f->names);
    for (size_t i = 0; i < f->n_invariant; i++)
        sim_free(f->invariant_why[i]);
    sim_free(f->invariant_why);
    sim_free(f->invariant_t);
    sim_free(f->node_delays);
    sim_free(f->client_delays);
    u64map_free(&f->op_slot);
    sim_free(f->routes);
    for (size_t i = 0; i < f->n_notes; i++)
        cJSON_Delete(f->notes[i].obj);
    sim_free(f->notes);
    memset(f, 0, sizeof *f);
}

/* ---- the invariants checker: what the models' check callbacks said -------- */

static int run_invariants(const struct check_input *in, struct check_result *out)
{
    const struct trace_facts *f = in->facts;
    jw *j = &out->evidence;
    jw_obj(j);
    jw_key(j, "violations");
    jw_arr(j);
    for (size_t i = 0; i < f->n_invariant && i < 20; i++) {
        jw_obj(j);
        jw_kint(j, "t", f->invariant_t[i]);
        jw_kstr(j, "why", f->invariant_why[i]);
        jw_obj_end(j);
        check_text(out, "at %.3f ms: %s", (double)f->invariant_t[i] / 1e6, f->invariant_why[i]);
    }
    jw_arr_end(j);
    jw_kint(j, "count", (int64_t)f->n_invariant);
    jw_obj_end(j);
    if (f->n_invariant == 0) {
        out->verdict = CHECK_HOLDS;
        snprintf(out->reason, sizeof out->reason, "the %s model's protocol invariants held after every event",
                 f->model ? f->model : "cluster's");
    } else {
        out->verdict = CHECK_VIOLATED;
        snprintf(out->reason, sizeof out->reason, "%zu protocol invariant violation%s; the first at %.3f ms: %s",
                 f->n_invariant, f->n_invariant == 1 ? "" : "s", (double)f->invariant_t[0] / 1e6,
                 f->invariant_why[0]);
    }
    return 0;
}

const struct checker invariants_checker = {
    "invariants", "the model's own protocol invariants, checked by the simulator after every event",
    true, run_invariants, true,
};

int check_run(const struct checker *c, const struct check_input *in, struct check_result *out)
{
    char why[200];
    if (!c->any_history && !hist_registers_only(in->h, why, sizeof why)) {
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
                  "judges single-value registers, and this history has %s", why);
        return 0;
    }
    return c->run(in, out);
}
