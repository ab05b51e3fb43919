/* report/scan: stream a trace once, keep bounded samples, run the checkers. */
#include "report.h"

#include "check/slo.h"
#include "core/alloc.h"
#include "trace/jread.h"
#include "core/exitcodes.h"
#include "trace/trace.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ==== streaming =========================================================== */

int tscan_run(const char *path, struct trace_header *hdr, tscan_fn fn, void *ctx,
              struct tscan_info *info, char *err, size_t errlen)
{
    memset(info, 0, sizeof *info);
    struct trace_header local;
    struct trace_header *h = hdr ? hdr : &local;
    int rc = trace_header_read(path, h, err, errlen);
    if (rc)
        return rc;
    if (!hdr)
        trace_header_free(&local);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read trace %s: %s", path, strerror(errno));
        if (hdr)
            trace_header_free(hdr);
        return SIM_EXIT_IO;
    }
    char *line = NULL;
    size_t cap = 0;
    int complete;
    long n;
    while (rc == 0 && (n = trace_getline(f, &line, &cap, &complete)) >= 0) {
        info->lines++;
        if (info->lines == 1) {
            rc = fn(ctx, NULL, "header", -1, line, (size_t)n, 1);
            continue;
        }
        cJSON *o = cJSON_ParseWithLength(line, (size_t)n);
        const cJSON *ev = o ? cJSON_GetObjectItemCaseSensitive(o, "ev") : NULL;
        int64_t t = 0;
        if (!o || !cJSON_IsObject(o)) {
            if (!complete) {
                info->truncated = true;   /* a killed run's last line */
                cJSON_Delete(o);
                break;
            }
            snprintf(err, errlen, "%s:%ld: not a JSON object (is this a sim trace?)", path,
                     info->lines);
            rc = SIM_EXIT_BAD_TRACE;
        } else if (!cJSON_IsString(ev)) {
            snprintf(err, errlen, "%s:%ld: line without an \"ev\" type", path, info->lines);
            rc = SIM_EXIT_BAD_TRACE;
        } else if (!jr_int(cJSON_GetObjectItemCaseSensitive(o, "t"), &t) || t < 0) {
            snprintf(err, errlen, "%s:%ld: %s line without a time \"t\" in integer nanoseconds",
                     path, info->lines, ev->valuestring);
            rc = SIM_EXIT_BAD_TRACE;
        } else if (t < info->last_t) {
            snprintf(err, errlen, "%s:%ld: time goes backwards: t=%" PRId64 " after t=%" PRId64,
                     path, info->lines, t, info->last_t);
            rc = SIM_EXIT_BAD_TRACE;
        } else {
            info->last_t = t;
            if (strcmp(ev->valuestring, "end") == 0)
                info->complete = true;
            else if (strcmp(ev->valuestring, "error") == 0)
                info->error_line = true;
            rc = fn(ctx, o, ev->valuestring, t, line, (size_t)n, info->lines);
        }
        cJSON_Delete(o);
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "cannot read trace %s: %s", path, strerror(errno));
        rc = SIM_EXIT_IO;
    }
    sim_free(line);
    fclose(f);
    if (rc && hdr)
        trace_header_free(hdr);
    return rc;
}

/* ==== buckets ============================================================= */

void rep_buckets_add(struct rep_buckets *b, int64_t t)
{
    if (b->width == 0)
        b->width = 1000000;
    while (t / b->width >= REP_BUCKETS) {
        for (int i = 0; i < REP_BUCKETS / 2; i++)
            b->n[i] = b->n[2 * i] + b->n[2 * i + 1];
        memset(b->n + REP_BUCKETS / 2, 0, sizeof b->n / 2);
        b->width *= 2;
    }
    b->n[t / b->width]++;
}

/* ==== in-flight messages (sampled ones only) ============================== */

/* Open addressing on the message id, linear probing, backward-shift
 * deletion; id 0 marks an empty slot (ids start at 1). */
struct inflight {
    struct rep_msg *slots;
    size_t cap, n;
};

static size_t slot_of(const struct inflight *m, int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 20) & (m->cap - 1);
}

static void inflight_put(struct inflight *m, const struct rep_msg *msg);

static void inflight_grow(struct inflight *m)
{
    struct inflight bigger = { .cap = m->cap ? m->cap * 2 : 256, .n = 0 };
    bigger.slots = sim_xcalloc(bigger.cap, sizeof *bigger.slots);
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].id)
            inflight_put(&bigger, &m->slots[i]);
    sim_free(m->slots);
    *m = bigger;
}

static void inflight_put(struct inflight *m, const struct rep_msg *msg)
{
    if ((m->n + 1) * 2 > m->cap)
        inflight_grow(m);
    size_t i = slot_of(m, msg->id);
    while (m->slots[i].id)
        i = (i + 1) & (m->cap - 1);
    m->slots[i] = *msg;
    m->n++;
}

/* Take the message with this id out of the table into *out; false if absent. */
static bool inflight_take(struct inflight *m, int64_t id, struct rep_msg *out)
{
    if (m->cap == 0)
        return false;
    size_t i = slot_of(m, id);
    while (m->slots[i].id && m->slots[i].id != id)
        i = (i + 1) & (m->cap - 1);
    if (!m->slots[i].id)
        return false;
    *out = m->slots[i];
    m->slots[i].id = 0;
    m->n--;
    /* shift back the entries of the cluster that follows */
    size_t j = i;
    for (;;) {
        j = (j + 1) & (m->cap - 1);
        if (!m->slots[j].id)
            break;
        size_t home = slot_of(m, m->slots[j].id);
        bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!between) {
            m->slots[i] = m->slots[j];
            m->slots[j].id = 0;
            i = j;
        }
    }
    return true;
}

/* ==== pass 1: the samples and the operation lines ========================= */

struct pass1 {
    struct rep *r;
    struct inflight fl;
    char *ops;                 /* the operation lines, the others as fillers */
    size_t ops_len, ops_cap;
    char err[512];
};

static void buf_add(struct pass1 *p, const char *s, size_t n)
{
    if (p->ops_len + n + 1 > p->ops_cap) {
        size_t c = p->ops_cap ? p->ops_cap : 1 << 16;
        while (c < p->ops_len + n + 1)
            c *= 2;
        p->ops = sim_xrealloc(p->ops, c);
        p->ops_cap = c;
    }
    memcpy(p->ops + p->ops_len, s, n);
    p->ops_len += n;
    p->ops[p->ops_len] = '\0';
}

static char *dup_n(const char *s, size_t n)
{
    char *d = sim_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* JSON text of j, at most REP_MAX_TEXT characters ("..." when cut). Owned. */
static char *json_short(const cJSON *j, size_t max)
{
    if (!j)
        return sim_xstrdup("");
    char *s = cJSON_PrintUnformatted(j);
    if (!s)
        return sim_xstrdup("");
    size_t n = strlen(s);
    char *out;
    if (n > max) {
        out = dup_n(s, max);
        memcpy(out + max - 3, "...", 3);
    } else
        out = dup_n(s, n);
    cJSON_free(s);
    return out;
}

int rep_name(const struct rep *r, const char *name)
{
    for (int i = 0; i < r->n_names; i++)
        if (strcmp(r->names[i], name) == 0)
            return i;
    return -1;
}

/* The index of name, added (as a client) when new; -1 for a non-string. */
static int name_of(struct rep *r, const cJSON *j)
{
    if (!cJSON_IsString(j))
        return -1;
    int i = rep_name(r, j->valuestring);
    if (i >= 0)
        return i;
    SIM_GROW(r->names, r->cap_names, (size_t)r->n_names + 1);
    r->names[r->n_names] = sim_xstrdup(j->valuestring);
    return r->n_names++;
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

static void add_mark(struct rep *r, int64_t t, int node, const char *kind, const char *text)
{
    if (r->n_marks >= REP_MAX_MARKS) {
        r->marks_left_out++;
        return;
    }
    SIM_GROW(r->marks, r->cap_marks, r->n_marks + 1);
    r->marks[r->n_marks++] = (struct rep_mark){
        .t = t, .node = node, .kind = sim_xstrdup(kind), .text = sim_xstrdup(text),
    };
}

/* "n1, n2" from an array of names into buf. */
static void names_text(const cJSON *arr, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    const cJSON *e;
    cJSON_ArrayForEach(e, arr) {
        if (used >= n)
            break;
        used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "",
                                 cJSON_IsString(e) ? e->valuestring : "?");
    }
}

static void setup_line(struct rep *r, const cJSON *o, const char *ev)
{
    if (strcmp(ev, "cluster") == 0) {
        if (r->model)
            return;   /* a run has one cluster line; a second is not ours to draw */
        r->model = sim_xstrdup(str_of(o, "model") ? str_of(o, "model") : "?");
        r->cap_class = str_of(o, "cap_class") ? sim_xstrdup(str_of(o, "cap_class")) : NULL;
        r->cluster_params = json_short(cJSON_GetObjectItemCaseSensitive(o, "params"), 4000);
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "nodes")) {
            if (name_of(r, e) >= 0 && r->n_nodes < r->n_names)
                r->n_nodes = r->n_names;
        }
        r->final_state = sim_xcalloc((size_t)r->n_nodes + 1, sizeof *r->final_state);
    } else {   /* workload */
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "clients"))
            name_of(r, e);
    }
}

static void message_sent(struct pass1 *p, const cJSON *o, int64_t t)
{
    struct rep *r = p->r;
    int64_t id = 0;
    jr_int(cJSON_GetObjectItemCaseSensitive(o, "id"), &id);
    int64_t index = r->n_sent++;
    rep_buckets_add(&r->sent_buckets, t);
    if (id <= 0 || index % r->msg_stride != 0)
        return;
    struct rep_msg m = {
        .id = id, .index = index, .sent = t, .done = -1,
        .from = name_of(r, cJSON_GetObjectItemCaseSensitive(o, "from")),
        .to = name_of(r, cJSON_GetObjectItemCaseSensitive(o, "to")),
        .end = REP_MSG_IN_FLIGHT,
        .req = jr_i64(o, "req", 0),
        .text = json_short(cJSON_GetObjectItemCaseSensitive(o, "msg"), REP_MAX_TEXT),
    };
    inflight_put(&p->fl, &m);
}

static void msg_free(struct rep_msg *m)
{
    sim_free(m->reason);
    sim_free(m->text);
}

/* Keep a finished sampled message; thin the sample when it is full. */
static void keep_msg(struct rep *r, struct rep_msg *m)
{
    if (m->index % r->msg_stride != 0) {
        msg_free(m);
        return;
    }
    SIM_GROW(r->msgs, r->cap_msgs, r->n_msgs + 1);
    r->msgs[r->n_msgs++] = *m;
    if (r->n_msgs < REP_MAX_MSGS)
        return;
    r->msg_stride *= 2;
    size_t kept = 0;
    for (size_t i = 0; i < r->n_msgs; i++) {
        if (r->msgs[i].index % r->msg_stride == 0)
            r->msgs[kept++] = r->msgs[i];
        else
            msg_free(&r->msgs[i]);
    }
    r->n_msgs = kept;
}

static void message_done(struct pass1 *p, const cJSON *o, const char *ev, int64_t t)
{
    struct rep *r = p->r;
    bool drop = ev[0] == 'd' && ev[1] == 'r';
    if (drop) {
        r->n_dropped++;
        rep_buckets_add(&r->drop_buckets, t);
    } else
        r->n_delivered++;
    int64_t id = 0;
    struct rep_msg m;
    if (!jr_int(cJSON_GetObjectItemCaseSensitive(o, "id"), &id) || !inflight_take(&p->fl, id, &m))
        return;
    m.done = t;
    m.end = drop ? REP_MSG_DROPPED : REP_MSG_DELIVERED;
    if (drop)
        m.reason = sim_xstrdup(str_of(o, "reason") ? str_of(o, "reason") : "?");
    keep_msg(r, &m);
}

static void note_line(struct rep *r, const cJSON *o, int64_t t)
{
    int node = name_of(r, cJSON_GetObjectItemCaseSensitive(o, "node"));
    const char *what = str_of(o, "what");
    if (what && strcmp(what, "role") == 0) {
        if (r->n_roles >= REP_MAX_MARKS) {
            r->roles_left_out++;
            return;
        }
        int64_t term = -1;
        jr_int(cJSON_GetObjectItemCaseSensitive(o, "term"), &term);
        SIM_GROW(r->roles, r->cap_roles, r->n_roles + 1);
        r->roles[r->n_roles++] = (struct rep_role){
            .t = t, .node = node, .term = term,
            .role = sim_xstrdup(str_of(o, "role") ? str_of(o, "role") : "?"),
        };
        return;
    }
    if (r->n_notes >= REP_MAX_MARKS) {
        r->notes_left_out++;
        return;
    }
    SIM_GROW(r->notes, r->cap_notes, r->n_notes + 1);
    r->notes[r->n_notes++] = (struct rep_mark){
        .t = t, .node = node, .kind = sim_xstrdup(what ? what : "note"),
        .text = json_short(o, REP_MAX_TEXT), .req = jr_i64(o, "req", 0),
    };
}

static void fault_line(struct rep *r, const cJSON *o, const char *ev, int64_t t)
{
    char text[400], a[160], b[160];
    int node = -1;
    const char *who = str_of(o, "node");
    if (who)
        node = name_of(r, cJSON_GetObjectItemCaseSensitive(o, "node"));
    if (strcmp(ev, "partition") == 0) {
        size_t used = (size_t)snprintf(text, sizeof text, "partition:");
        const cJSON *g;
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(o, "groups")) {
            names_text(g, a, sizeof a);
            if (used < sizeof text)
                used += (size_t)snprintf(text + used, sizeof text - used, " {%s}", a);
        }
    } else if (strcmp(ev, "cut") == 0)
        snprintf(text, sizeof text, "cut %s -> %s", str_of(o, "from") ? str_of(o, "from") : "?",
                 str_of(o, "to") ? str_of(o, "to") : "?");
    else if (strcmp(ev, "bridge") == 0) {
        names_text(cJSON_GetObjectItemCaseSensitive(o, "a"), a, sizeof a);
        names_text(cJSON_GetObjectItemCaseSensitive(o, "b"), b, sizeof b);
        snprintf(text, sizeof text, "bridge {%s} | {%s} via %s", a, b,
                 str_of(o, "via") ? str_of(o, "via") : "?");
    } else if (strcmp(ev, "clock") == 0) {
        int64_t off = 0, drift = 0;
        jr_int(cJSON_GetObjectItemCaseSensitive(o, "offset"), &off);
        jr_int(cJSON_GetObjectItemCaseSensitive(o, "drift_ppb"), &drift);
        snprintf(text, sizeof text, "%s clock: offset %.3f ms, drift %" PRId64 " ppb",
                 who ? who : "?", (double)off / 1e6, drift);
    } else if (strcmp(ev, "invariant") == 0)
        snprintf(text, sizeof text, "invariant broken: %s", str_of(o, "why") ? str_of(o, "why") : "?");
    else if (who)
        snprintf(text, sizeof text, "%s: %s", who, ev);
    else
        snprintf(text, sizeof text, "%s", ev);
    add_mark(r, t, node, ev, text);
}

static bool is_op_ev(const char *ev)
{
    return strcmp(ev, "invoke") == 0 || strcmp(ev, "ok") == 0 || strcmp(ev, "fail") == 0 ||
           strcmp(ev, "info") == 0;
}

static bool is_fault_ev(const char *ev)
{
    static const char *const faults[] = {
        "crash", "restart", "pause", "resume", "clock", "partition", "cut", "isolate",
        "bridge", "heal", "invariant", NULL,
    };
    for (int i = 0; faults[i]; i++)
        if (strcmp(ev, faults[i]) == 0)
            return true;
    return false;
}

static int pass1_line(void *ctx, const cJSON *o, const char *ev, int64_t t, const char *raw,
                      size_t len, long lineno)
{
    (void)lineno;
    struct pass1 *p = ctx;
    struct rep *r = p->r;
    if (!o) {   /* the header, for the history reader */
        buf_add(p, raw, len);
        buf_add(p, "\n", 1);
        return 0;
    }
    if (is_op_ev(ev)) {
        buf_add(p, raw, len);
        buf_add(p, "\n", 1);
        return 0;
    }
    /* a filler keeps the history reader's line numbers those of the file */
    char filler[48];
    int n = snprintf(filler, sizeof filler, "{\"t\":%" PRId64 ",\"ev\":\"-\"}\n", t);
    buf_add(p, filler, (size_t)n);
    rep_obs_line(r, o, ev, t);
    if (strcmp(ev, "send") == 0)
        message_sent(p, o, t);
    else if (strcmp(ev, "deliver") == 0 || strcmp(ev, "drop") == 0)
        message_done(p, o, ev, t);
    else if (strcmp(ev, "timer") == 0)
        r->n_timers++;
    else if (strcmp(ev, "note") == 0)
        note_line(r, o, t);
    else if (is_fault_ev(ev))
        fault_line(r, o, ev, t);
    else if (strcmp(ev, "cluster") == 0 || strcmp(ev, "workload") == 0)
        setup_line(r, o, ev);
    else if (strcmp(ev, "state") == 0) {
        int node = name_of(r, cJSON_GetObjectItemCaseSensitive(o, "node"));
        if (node >= 0 && node < r->n_nodes && r->final_state) {
            sim_free(r->final_state[node]);
            r->final_state[node] = json_short(o, 4000);
        }
    } else if (strcmp(ev, "log") == 0 && r->n_logs < 200) {
        SIM_GROW(r->logs, r->cap_logs, r->n_logs + 1);
        char text[300];
        snprintf(text, sizeof text, "%.3f ms: %s", (double)t / 1e6,
                 str_of(o, "msg") ? str_of(o, "msg") : "");
        r->logs[r->n_logs++] = sim_xstrdup(text);
    } else if (strcmp(ev, "expect") == 0 && r->n_expects < 200) {
        SIM_GROW(r->expects, r->cap_expects, r->n_expects + 1);
        char text[400];
        snprintf(text, sizeof text, "%s: %s: %s", str_of(o, "name") ? str_of(o, "name") : "?",
                 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "held")) ? "held" : "FAILED",
                 str_of(o, "detail") ? str_of(o, "detail") : "");
        r->expects[r->n_expects++] = sim_xstrdup(text);
    } else if (strcmp(ev, "end") == 0) {
        sim_free(r->end_line);
        r->end_line = json_short(o, 2000);
    } else if (strcmp(ev, "error") == 0) {
        sim_free(r->error_msg);
        r->error_msg = sim_xstrdup(str_of(o, "msg") ? str_of(o, "msg") : "(no message)");
    }
    return 0;
}

/* ==== evidence: the operations a verdict names ============================ */

static void push_id(int64_t **ids, size_t *n, size_t *cap, int64_t id)
{
    for (size_t i = 0; i < *n; i++)
        if ((*ids)[i] == id)
            return;
    if (*n >= 400)
        return;
    SIM_GROW(*ids, *cap, *n + 1);
    (*ids)[(*n)++] = id;
}

/* Every operation an evidence object names: one with an integer "op" and a
 * "process" (check_json_op) or "client" (no_lost_writes) name. */
static void collect_ops(const cJSON *j, int64_t **ids, size_t *n, size_t *cap)
{
    if (cJSON_IsObject(j)) {
        int64_t id;
        if (jr_int(cJSON_GetObjectItemCaseSensitive(j, "op"), &id) &&
            (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "process")) ||
             cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "client"))))
            push_id(ids, n, cap, id);
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, j) collect_ops(c, ids, n, cap);
}

static void read_evidence(struct rep_checked *c)
{
    if (c->result.verdict != CHECK_VIOLATED || c->result.evidence.len == 0)
        return;
    cJSON *e = cJSON_ParseWithLength(c->result.evidence.buf, c->result.evidence.len);
    if (!e)
        return;
    size_t cap = 0;
    collect_ops(e, &c->ops, &c->n_ops, &cap);
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(e, "prefix");
    if (cJSON_IsArray(prefix)) {
        size_t ocap = 0;
        const cJSON *x;
        cJSON_ArrayForEach(x, prefix) {
            int64_t id;
            if (jr_int(x, &id)) {
                SIM_GROW(c->order, ocap, c->n_order + 1);
                c->order[c->n_order++] = id;
            }
        }
    }
    cJSON_Delete(e);
}

static int run_checkers(struct rep *r, char *err, size_t errlen)
{
    size_t n = 0;
    while (checkers[n])
        n++;
    r->checked = sim_xcalloc(n + 1, sizeof *r->checked);
    struct check_input in = {
        .h = r->h, .facts = &r->facts, .budget = 0, .quiet_period = 0, .no_evidence = false,
    };
    for (size_t i = 0; i < n; i++) {
        struct rep_checked *c = &r->checked[r->n_checked++];
        c->checker = checkers[i];
        check_result_init(&c->result);
        if (check_run(c->checker, &in, &c->result) != 0) {
            snprintf(err, errlen, "%s: out of memory while checking %s", r->path, c->checker->name);
            return SIM_EXIT_INTERNAL;
        }
        read_evidence(c);
    }
    if (r->facts.n_slo > 0) {
        /* the objectives the scenario declared, shown with the verdicts */
        struct rep_checked *c = &r->checked[r->n_checked++];
        c->checker = &slo_checker;
        check_result_init(&c->result);
        slo_checker.run(&in, &c->result);
    }
    return 0;
}

/* ==== loading ============================================================= */

int rep_load(const char *path, struct rep *r, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->msg_stride = 1;
    struct pass1 p = { .r = r };
    struct trace_header hdr;
    int rc = tscan_run(path, &hdr, pass1_line, &p, &r->info, err, errlen);
    if (rc)
        goto fail;
    r->scenario = sim_xstrdup(hdr.scenario ? hdr.scenario : "?");
    r->sim_version = sim_xstrdup(hdr.sim_version ? hdr.sim_version : "?");
    char seed[32];
    snprintf(seed, sizeof seed, "%" PRIu64, hdr.seed);
    r->seed = sim_xstrdup(seed);
    r->header_params = json_short(hdr.params, 4000);
    trace_header_free(&hdr);
    /* messages still in flight at the end (or when the trace stops) */
    for (size_t i = 0; i < p.fl.cap; i++)
        if (p.fl.slots[i].id)
            keep_msg(r, &p.fl.slots[i]);
    sim_free(p.fl.slots);
    p.fl.slots = NULL;
    p.fl.cap = 0;

    rc = hist_parse(HIST_FORMAT_TRACE, p.ops ? p.ops : "", p.ops_len, path, &r->h, err, errlen);
    sim_free(p.ops);
    p.ops = NULL;
    if (rc) {
        rc = rc == HIST_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_BAD_TRACE;
        goto fail;
    }
    snprintf(r->hist_warning, sizeof r->hist_warning, "%s", hist_warning(r->h));
    rc = trace_facts_read(path, &r->facts, err, errlen);
    if (rc) {
        rc = rc == HIST_EIO ? SIM_EXIT_IO : rc == HIST_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_BAD_TRACE;
        goto fail;
    }
    r->have_facts = true;
    rep_obs_finish(r);
    rc = run_checkers(r, err, errlen);
    if (rc)
        goto fail;
    return 0;
fail:
    for (size_t i = 0; i < p.fl.cap; i++)
        if (p.fl.slots[i].id)
            msg_free(&p.fl.slots[i]);
    sim_free(p.fl.slots);
    sim_free(p.ops);
    rep_free(r);
    return rc;
}

static void free_marks(struct rep_mark *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sim_free(m[i].kind);
        sim_free(m[i].text);
    }
    sim_free(m);
}

static void free_strs(char **s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sim_free(s[i]);
    sim_free(s);
}

void rep_free(struct rep *r)
{
    sim_free(r->scenario);
    sim_free(r->seed);
    sim_free(r->sim_version);
    sim_free(r->header_params);
    sim_free(r->model);
    sim_free(r->cap_class);
    sim_free(r->cluster_params);
    for (size_t i = 0; i < r->n_msgs; i++)
        msg_free(&r->msgs[i]);
    sim_free(r->msgs);
    free_marks(r->marks, r->n_marks);
    free_marks(r->notes, r->n_notes);
    for (size_t i = 0; i < r->n_roles; i++)
        sim_free(r->roles[i].role);
    sim_free(r->roles);
    free_strs(r->logs, r->n_logs);
    free_strs(r->expects, r->n_expects);
    if (r->final_state)
        free_strs(r->final_state, (size_t)r->n_nodes);
    free_strs(r->names, (size_t)r->n_names);
    sim_free(r->end_line);
    sim_free(r->error_msg);
    if (r->h)
        hist_free(r->h);
    if (r->have_facts)
        trace_facts_free(&r->facts);
    for (size_t i = 0; i < r->n_checked; i++) {
        check_result_free(&r->checked[i].result);
        sim_free(r->checked[i].ops);
        sim_free(r->checked[i].order);
    }
    sim_free(r->checked);
    rep_obs_free(r);
    memset(r, 0, sizeof *r);
}

/* ==== figures ============================================================= */

int64_t rep_end_time(const struct rep *r)
{
    int64_t end = r->info.last_t;
    if (r->have_facts && r->facts.end_time > end)
        end = r->facts.end_time;
    return end > 0 ? end : 1;
}

const struct rep_checked *rep_op_violation(const struct rep *r, int64_t op_id)
{
    for (size_t i = 0; i < r->n_checked; i++)
        for (size_t k = 0; k < r->checked[i].n_ops; k++)
            if (r->checked[i].ops[k] == op_id)
                return &r->checked[i];
    return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t pct(const int64_t *v, size_t n, int p)
{
    if (n == 0)
        return 0;
    size_t i = (n * (size_t)p + 99) / 100;
    return v[i == 0 ? 0 : i - 1];
}

struct rep_latency rep_latency_of(const struct rep *r, int f, int64_t **sorted)
{
    struct rep_latency l = { 0 };
    size_t n = hist_count(r->h), cap = 0;
    int64_t *v = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(r->h, i);
        if (op->f != f || op->open)
            continue;
        SIM_GROW(v, cap, l.count + 1);
        v[l.count++] = op->complete_t - op->invoke_t;
    }
    if (l.count)
        qsort(v, l.count, sizeof *v, cmp_i64);
    l.p50 = pct(v, l.count, 50);
    l.p90 = pct(v, l.count, 90);
    l.p99 = pct(v, l.count, 99);
    l.max = l.count ? v[l.count - 1] : 0;
    if (sorted)
        *sorted = v;
    else
        sim_free(v);
    return l;
}

struct rep_side *rep_availability(const struct rep *r, size_t *n_out)
{
    *n_out = 0;
    if (!r->have_facts)
        return NULL;
    const struct trace_facts *f = &r->facts;
    struct rep_side *sides = NULL;
    size_t n = 0, cap = 0;
    struct op_sides where;
    op_sides_init(&where, f, r->h);
    for (size_t w = 0; w < f->n_windows; w++) {
        const struct net_window *win = &f->windows[w];
        int max_side = -1;
        for (int e = 0; e < f->n_nodes; e++)
            max_side = win->side_of[e] > max_side ? win->side_of[e] : max_side;
        for (int s = 0; s <= max_side; s++) {
            SIM_GROW(sides, cap, n + 1);
            struct rep_side *side = &sides[n++];
            *side = (struct rep_side){ .window = w, .side = s };
            size_t used = 0;
            for (int e = 0; e < f->n_nodes && used < sizeof side->members; e++)
                if (win->side_of[e] == s)
                    used += (size_t)snprintf(side->members + used, sizeof side->members - used,
                                             "%s%s", used ? ", " : "", f->names[e]);
            /* operations are in invocation order: start at the window's first */
            size_t lo = 0, hi = hist_count(r->h);
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (hist_op(r->h, mid)->invoke_t < win->start)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            for (size_t i = lo; i < hist_count(r->h); i++) {
                const struct hist_op *op = hist_op(r->h, i);
                if (op->invoke_t >= win->end)
                    break;
                int at;
                if (!op_sides_of(&where, win, op, &at) || at != s)
                    continue;
                side->invoked++;
                if (op->type == HIST_OK && !op->open)
                    side->ok++;
            }
        }
    }
    op_sides_free(&where);
    *n_out = n;
    return sides;
}
