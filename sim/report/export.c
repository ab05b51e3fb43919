/* report/export: a trace in the formats other tools read.
 *
 * Every export streams the trace once (tscan_run) and writes as it goes;
 * what it keeps is bounded by what is in flight: messages sent and not yet
 * delivered or dropped, and each client's open operation.
 *
 *   perfetto    Chrome Trace Event JSON (ui.perfetto.dev, chrome://tracing)
 *   shiviz      a ShiViz log with exact vector clocks
 *   jepsen      the client history as Jepsen EDN, one op map per line
 *   jepsen-log  one register's history as a Jepsen etcd log, the text
 *               `sim check --format jepsen` reads
 *   porcupine   the history as Porcupine key-value EDN, the text
 *               `sim check --format porcupine-kv` reads */
#include "report.h"

#include "core/alloc.h"
#include "trace/jread.h"
#include "core/exitcodes.h"
#include "trace/jw.h"
#include "trace/trace.h"

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

bool export_format_parse(const char *name, enum export_format *out)
{
    static const struct {
        const char *name;
        enum export_format f;
    } names[] = {
        { "perfetto", EXPORT_PERFETTO }, { "shiviz", EXPORT_SHIVIZ }, { "jepsen", EXPORT_JEPSEN },
        { "jepsen-log", EXPORT_JEPSEN_LOG }, { "porcupine", EXPORT_PORCUPINE },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].f;
            return true;
        }
    return false;
}

/* ==== shared state ======================================================== */

struct sent {                  /* a message in flight */
    int64_t id, t;
    int from;
    int64_t req;               /* perfetto: the send's "req", 0 = none */
    char type[32];
    int64_t *clock;            /* shiviz: the sender's clock after the send (owned) */
    size_t n_clock;            /* its length */
};

struct open_op {               /* a client's open operation */
    int64_t id, t;
    char f[16];
    char *invoke_line;         /* perfetto: the value as text (owned) */
};

struct ex {
    enum export_format format;
    FILE *out;
    const char *path;
    const char *key;           /* jepsen-log: the register */
    char **names;
    int n_names, n_nodes;
    size_t cap_names;
    /* in-flight messages: open addressing on the id, backward-shift delete */
    struct sent *slots;
    size_t cap, n;
    int64_t flows, index;
    /* per name: */
    struct open_op *open;      /* clients' open operation */
    int64_t *crashes;          /* clients' info outcomes so far (Jepsen process numbers) */
    int64_t **clock;           /* shiviz: each host's vector clock */
    char **role;               /* perfetto: the current role slice's name */
    int64_t *role_t;
    bool first_event;
    int64_t last_t;
    char *err;
    size_t errlen;
    bool key_seen;
    char first_key[128];
    bool in_setup;             /* names being added by a cluster or workload line */
};

static int name_index(struct ex *x, const char *name)
{
    for (int i = 0; i < x->n_names; i++)
        if (strcmp(x->names[i], name) == 0)
            return i;
    return -1;
}

static void per_name_grow(struct ex *x, size_t need)
{
    size_t old = x->cap_names;
    if (need <= old)
        return;
    size_t cap = old;
    SIM_GROW(x->names, cap, need);
    x->open = sim_xrealloc(x->open, cap * sizeof *x->open);
    x->crashes = sim_xrealloc(x->crashes, cap * sizeof *x->crashes);
    x->clock = sim_xrealloc(x->clock, cap * sizeof *x->clock);
    x->role = sim_xrealloc(x->role, cap * sizeof *x->role);
    x->role_t = sim_xrealloc(x->role_t, cap * sizeof *x->role_t);
    for (size_t i = old; i < cap; i++) {
        x->names[i] = NULL;
        x->open[i] = (struct open_op){ .id = 0 };
        x->crashes[i] = 0;
        x->clock[i] = NULL;
        x->role[i] = NULL;
        x->role_t[i] = 0;
    }
    x->cap_names = cap;
}

static void perfetto_thread_name(struct ex *x, int i);

/* Index of the name in j (a string), added when new; -1 otherwise. */
static int name_of(struct ex *x, const cJSON *j)
{
    if (!cJSON_IsString(j))
        return -1;
    int i = name_index(x, j->valuestring);
    if (i >= 0)
        return i;
    per_name_grow(x, (size_t)x->n_names + 1);
    x->names[x->n_names] = sim_xstrdup(j->valuestring);
    i = x->n_names++;
    if (x->format == EXPORT_PERFETTO && !x->in_setup)
        perfetto_thread_name(x, i);
    return i;
}

static bool is_client(const struct ex *x, int i)
{
    return i >= x->n_nodes;
}

/* The Jepsen process number of client i: its index among the clients, plus
 * the number of clients for each earlier info outcome (Jepsen retires a
 * process whose operation is indeterminate and continues under a new one). */
static int64_t process_of(const struct ex *x, int i)
{
    int clients = x->n_names - x->n_nodes;
    return (int64_t)(i - x->n_nodes) + x->crashes[i] * (clients > 0 ? clients : 1);
}

static size_t slot_of(const struct ex *x, int64_t id)
{
    return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 20) & (x->cap - 1);
}

static void sent_put(struct ex *x, const struct sent *s)
{
    if ((x->n + 1) * 2 > x->cap) {
        struct sent *old = x->slots;
        size_t old_cap = x->cap;
        x->cap = x->cap ? x->cap * 2 : 1024;
        x->slots = sim_xcalloc(x->cap, sizeof *x->slots);
        x->n = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].id)
                sent_put(x, &old[i]);
        sim_free(old);
    }
    size_t i = slot_of(x, s->id);
    while (x->slots[i].id)
        i = (i + 1) & (x->cap - 1);
    x->slots[i] = *s;
    x->n++;
}

static bool sent_take(struct ex *x, int64_t id, struct sent *out)
{
    if (!x->cap)
        return false;
    size_t i = slot_of(x, id);
    while (x->slots[i].id && x->slots[i].id != id)
        i = (i + 1) & (x->cap - 1);
    if (!x->slots[i].id)
        return false;
    *out = x->slots[i];
    x->slots[i].id = 0;
    x->n--;
    for (size_t j = (i + 1) & (x->cap - 1); x->slots[j].id; j = (j + 1) & (x->cap - 1)) {
        size_t home = slot_of(x, x->slots[j].id);
        bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
        if (!between) {
            x->slots[i] = x->slots[j];
            x->slots[j].id = 0;
            i = j;
        }
    }
    return true;
}

static void setup_names(struct ex *x, const cJSON *o, const char *ev)
{
    const cJSON *e;
    int before = x->n_names;
    x->in_setup = true;
    if (strcmp(ev, "cluster") == 0) {
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "nodes")) {
            name_of(x, e);
            x->n_nodes = x->n_names;
        }
    } else if (strcmp(ev, "workload") == 0) {
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "clients"))
            name_of(x, e);
    }
    x->in_setup = false;
    /* the track names, now that nodes and clients are told apart */
    for (int i = before; i < x->n_names && x->format == EXPORT_PERFETTO; i++)
        perfetto_thread_name(x, i);
}

/* A JSON value as compact text (owned), or "null". */
static char *json_text(const cJSON *j)
{
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    char *out = sim_xstrdup(s ? s : "null");
    if (s)
        cJSON_free(s);
    return out;
}

/* ==== perfetto ============================================================ */

static double us(int64_t ns)
{
    return (double)ns / 1000.0;
}

static void pf_sep(struct ex *x)
{
    if (!x->first_event)
        fputs(",\n", x->out);
    x->first_event = false;
}

static void pf_str(struct ex *x, const char *s)
{
    jw w;
    jw_init(&w);
    jw_str(&w, s);
    fwrite(w.buf, 1, w.len, x->out);
    jw_free(&w);
}

static int pf_pid(const struct ex *x, int i)
{
    return is_client(x, i) ? 2 : 1;
}

static void perfetto_thread_name(struct ex *x, int i)
{
    pf_sep(x);
    fprintf(x->out, "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
            pf_pid(x, i), i + 1);
    pf_str(x, x->names[i]);
    fputs("}}", x->out);
}

static void pf_slice(struct ex *x, int who, const char *cat, const char *name, int64_t t, int64_t dur,
                     const char *args_json)
{
    pf_sep(x);
    fprintf(x->out, "{\"ph\":\"X\",\"cat\":\"%s\",\"name\":", cat);
    pf_str(x, name);
    fprintf(x->out, ",\"pid\":%d,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f", pf_pid(x, who), who + 1, us(t),
            us(dur > 0 ? dur : 1));
    if (args_json)
        fprintf(x->out, ",\"args\":%s", args_json);
    fputs("}", x->out);
}

static void pf_instant(struct ex *x, int who, const char *cat, const char *name, int64_t t,
                       const char *args_json)
{
    pf_sep(x);
    fprintf(x->out, "{\"ph\":\"i\",\"cat\":\"%s\",\"name\":", cat);
    pf_str(x, name);
    if (who >= 0)
        fprintf(x->out, ",\"s\":\"t\",\"pid\":%d,\"tid\":%d", pf_pid(x, who), who + 1);
    else
        fputs(",\"s\":\"g\",\"pid\":1,\"tid\":0", x->out);
    fprintf(x->out, ",\"ts\":%.3f", us(t));
    if (args_json)
        fprintf(x->out, ",\"args\":%s", args_json);
    fputs("}", x->out);
}

static void pf_role_end(struct ex *x, int node, int64_t t)
{
    if (node < 0 || !x->role[node])
        return;
    pf_slice(x, node, "role", x->role[node], x->role_t[node], t - x->role_t[node], NULL);
    sim_free(x->role[node]);
    x->role[node] = NULL;
}

static int perfetto_line(struct ex *x, const cJSON *o, const char *ev, int64_t t, const char *raw)
{
    if (strcmp(ev, "send") == 0) {
        struct sent s = { .id = jr_i64(o, "id", 0), .t = t,
                          .from = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "from")),
                          .req = jr_i64(o, "req", 0) };
        const cJSON *msg = cJSON_GetObjectItemCaseSensitive(o, "msg");
        snprintf(s.type, sizeof s.type, "%s", jr_str(msg, "type", NULL) ? jr_str(msg, "type", NULL) : "message");
        if (s.id > 0 && s.from >= 0)
            sent_put(x, &s);
    } else if (strcmp(ev, "deliver") == 0 || strcmp(ev, "drop") == 0) {
        struct sent s;
        int to = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "to"));
        if (to < 0 || !sent_take(x, jr_i64(o, "id", 0), &s))
            return 0;
        char name[80], args[160];
        if (s.req > 0)
            snprintf(args, sizeof args, "{\"id\":%" PRId64 ",\"to\":\"%s\",\"req\":%" PRId64 "}", s.id,
                     x->names[to], s.req);
        else
            snprintf(args, sizeof args, "{\"id\":%" PRId64 ",\"to\":\"%s\"}", s.id, x->names[to]);
        snprintf(name, sizeof name, "send %s", s.type);
        pf_slice(x, s.from, "msg", name, s.t, 1, args);
        if (ev[1] == 'r') {   /* drop */
            snprintf(name, sizeof name, "drop %s (%s)", s.type, jr_str(o, "reason", NULL) ? jr_str(o, "reason", NULL) : "?");
            pf_instant(x, s.from, "drop", name, t, args);
            return 0;
        }
        snprintf(name, sizeof name, "recv %s", s.type);
        pf_slice(x, to, "msg", name, t, 1, args);
        int64_t flow = ++x->flows;
        pf_sep(x);
        fprintf(x->out, "{\"ph\":\"s\",\"cat\":\"msg\",\"name\":\"%s\",\"id\":%" PRId64 ",\"pid\":%d,"
                "\"tid\":%d,\"ts\":%.3f}", s.type, flow, pf_pid(x, s.from), s.from + 1, us(s.t));
        pf_sep(x);
        fprintf(x->out, "{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"msg\",\"name\":\"%s\",\"id\":%" PRId64
                ",\"pid\":%d,\"tid\":%d,\"ts\":%.3f}", s.type, flow, pf_pid(x, to), to + 1, us(t));
    } else if (strcmp(ev, "invoke") == 0) {
        int c = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "client"));
        if (c < 0)
            return 0;
        sim_free(x->open[c].invoke_line);
        x->open[c] = (struct open_op){ .id = jr_i64(o, "op", 0), .t = t };
        snprintf(x->open[c].f, sizeof x->open[c].f, "%s", jr_str(o, "f", NULL) ? jr_str(o, "f", NULL) : "?");
        x->open[c].invoke_line = json_text(cJSON_GetObjectItemCaseSensitive(o, "value"));
    } else if (strcmp(ev, "ok") == 0 || strcmp(ev, "fail") == 0 || strcmp(ev, "info") == 0) {
        int c = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "client"));
        if (c < 0 || !x->open[c].id)
            return 0;
        char name[200];
        snprintf(name, sizeof name, "%s %s %s", x->open[c].f, jr_str(o, "key", NULL) ? jr_str(o, "key", NULL) : "", ev);
        char *value = json_text(cJSON_GetObjectItemCaseSensitive(o, "value"));
        jw w;
        jw_init(&w);
        jw_obj(&w);
        jw_kint(&w, "op", x->open[c].id);
        jw_kstr(&w, "outcome", ev);
        jw_key(&w, "invoked");
        jw_raw(&w, x->open[c].invoke_line, strlen(x->open[c].invoke_line));
        jw_key(&w, "value");
        jw_raw(&w, value, strlen(value));
        if (jr_str(o, "error", NULL))
            jw_kstr(&w, "error", jr_str(o, "error", NULL));
        jw_obj_end(&w);
        char *args = sim_xmalloc(w.len + 1);
        memcpy(args, w.buf, w.len);
        args[w.len] = '\0';
        pf_slice(x, c, "op", name, x->open[c].t, t - x->open[c].t, args);
        sim_free(args);
        jw_free(&w);
        sim_free(value);
        sim_free(x->open[c].invoke_line);
        x->open[c] = (struct open_op){ .id = 0 };
    } else if (strcmp(ev, "note") == 0) {
        int n = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "node"));
        const char *what = jr_str(o, "what", NULL);
        if (n < 0)
            return 0;
        if (what && strcmp(what, "role") == 0) {
            pf_role_end(x, n, t);
            char name[120];
            snprintf(name, sizeof name, "%s (term %" PRId64 ")", jr_str(o, "role", NULL) ? jr_str(o, "role", NULL) : "?",
                     jr_i64(o, "term", -1));
            x->role[n] = sim_xstrdup(name);
            x->role_t[n] = t;
        } else
            pf_instant(x, n, "note", what ? what : "note", t, raw);
    } else if (strcmp(ev, "crash") == 0 || strcmp(ev, "restart") == 0 || strcmp(ev, "pause") == 0 ||
               strcmp(ev, "resume") == 0 || strcmp(ev, "clock") == 0 || strcmp(ev, "invariant") == 0) {
        int n = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "node"));
        if (strcmp(ev, "crash") == 0)
            pf_role_end(x, n, t);
        pf_instant(x, n, "fault", ev, t, raw);
    } else if (strcmp(ev, "partition") == 0 || strcmp(ev, "cut") == 0 || strcmp(ev, "isolate") == 0 ||
               strcmp(ev, "bridge") == 0 || strcmp(ev, "heal") == 0) {
        pf_instant(x, -1, "fault", ev, t, raw);
    }
    return 0;
}

static void perfetto_begin(struct ex *x)
{
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"source\":", x->out);
    pf_str(x, x->path);
    fputs("},\"traceEvents\":[\n", x->out);
    x->first_event = true;
    pf_sep(x);
    fputs("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"args\":{\"name\":\"nodes\"}}", x->out);
    pf_sep(x);
    fputs("{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":2,\"args\":{\"name\":\"clients\"}}", x->out);
}

static void perfetto_end(struct ex *x)
{
    for (int i = 0; i < x->n_names; i++)
        pf_role_end(x, i, x->last_t);
    fputs("\n]}\n", x->out);
}

/* ==== shiviz ============================================================== */

static int64_t *sv_clock(struct ex *x, int i)
{
    if (!x->clock[i])
        x->clock[i] = sim_xcalloc((size_t)(x->cap_names > 0 ? x->cap_names : 1), sizeof(int64_t));
    return x->clock[i];
}

/* Clocks grow when a name appears after some clocks exist. */
static void sv_fit(struct ex *x, size_t old_cap)
{
    if (x->cap_names == old_cap)
        return;
    for (int i = 0; i < x->n_names; i++)
        if (x->clock[i]) {
            x->clock[i] = sim_xrealloc(x->clock[i], x->cap_names * sizeof(int64_t));
            for (size_t k = old_cap; k < x->cap_names; k++)
                x->clock[i][k] = 0;
        }
}

/* One event of host i: its clock ticks, then the two lines. text must be one line. */
static void sv_event(struct ex *x, int i, int64_t t, const char *text)
{
    int64_t *c = sv_clock(x, i);
    c[i]++;
    fprintf(x->out, "%.3f ms %s: ", (double)t / 1e6, x->names[i]);
    for (const char *s = text; *s; s++)
        fputc(*s == '\n' || *s == '\r' ? ' ' : *s, x->out);
    fprintf(x->out, "\n%s {", x->names[i]);
    bool first = true;
    for (int k = 0; k < x->n_names; k++)
        if (c[k] || k == i) {
            jw w;
            jw_init(&w);
            jw_str(&w, x->names[k]);
            fprintf(x->out, "%s%.*s:%" PRId64, first ? "" : ", ", (int)w.len, w.buf, c[k]);
            jw_free(&w);
            first = false;
        }
    fputs("}\n", x->out);
}

static int shiviz_line(struct ex *x, const cJSON *o, const char *ev, int64_t t, const char *raw)
{
    (void)raw;
    size_t old_cap = x->cap_names;
    char text[300];
    int who = -1;
    if (strcmp(ev, "send") == 0) {
        int from = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "from"));
        int to = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "to"));
        sv_fit(x, old_cap);
        if (from < 0 || to < 0)
            return 0;
        char *msg = json_text(cJSON_GetObjectItemCaseSensitive(o, "msg"));
        snprintf(text, sizeof text, "send %" PRId64 " to %s %.200s", jr_i64(o, "id", 0), x->names[to], msg);
        sim_free(msg);
        sv_event(x, from, t, text);
        struct sent s = { .id = jr_i64(o, "id", 0), .t = t, .from = from };
        s.n_clock = x->cap_names;
        s.clock = sim_xmalloc(x->cap_names * sizeof(int64_t));
        memcpy(s.clock, x->clock[from], x->cap_names * sizeof(int64_t));
        if (s.id > 0)
            sent_put(x, &s);
        else
            sim_free(s.clock);
        return 0;
    }
    if (strcmp(ev, "deliver") == 0 || strcmp(ev, "drop") == 0) {
        struct sent s;
        if (!sent_take(x, jr_i64(o, "id", 0), &s))
            return 0;
        int to = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "to"));
        sv_fit(x, old_cap);
        if (ev[1] == 'e' && to >= 0) {
            int64_t *c = sv_clock(x, to);
            for (int k = 0; k < x->n_names && (size_t)k < s.n_clock; k++)
                c[k] = s.clock[k] > c[k] ? s.clock[k] : c[k];
            snprintf(text, sizeof text, "receive %" PRId64 " from %s", s.id, x->names[s.from]);
            sv_event(x, to, t, text);
        }
        sim_free(s.clock);
        return 0;
    }
    if (strcmp(ev, "invoke") == 0 || strcmp(ev, "ok") == 0 || strcmp(ev, "fail") == 0 ||
        strcmp(ev, "info") == 0) {
        who = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "client"));
        char *value = json_text(cJSON_GetObjectItemCaseSensitive(o, "value"));
        snprintf(text, sizeof text, "%s op %" PRId64 " %s %s %.100s", ev, jr_i64(o, "op", 0),
                 jr_str(o, "f", NULL) ? jr_str(o, "f", NULL) : "?", jr_str(o, "key", NULL) ? jr_str(o, "key", NULL) : "", value);
        sim_free(value);
    } else if (strcmp(ev, "note") == 0 && jr_str(o, "what", NULL) && strcmp(jr_str(o, "what", NULL), "role") == 0) {
        who = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "node"));
        snprintf(text, sizeof text, "becomes %s (term %" PRId64 ")", jr_str(o, "role", NULL) ? jr_str(o, "role", NULL) : "?",
                 jr_i64(o, "term", -1));
    } else if (strcmp(ev, "crash") == 0 || strcmp(ev, "restart") == 0 || strcmp(ev, "pause") == 0 ||
               strcmp(ev, "resume") == 0 || strcmp(ev, "clock") == 0) {
        who = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "node"));
        snprintf(text, sizeof text, "%s", ev);
    }
    sv_fit(x, old_cap);
    if (who >= 0)
        sv_event(x, who, t, text);
    return 0;
}

/* ==== jepsen EDN, jepsen log, porcupine =================================== */

/* An EDN string literal of s. */
static void edn_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', out);
        if (*s == '\n')
            fputs("\\n", out);
        else
            fputc(*s, out);
    }
    fputc('"', out);
}

/* A register value as EDN: an integer, nil, [a b] for cas, #{...} for siblings. */
static void edn_value(FILE *out, const cJSON *v, const cJSON *values)
{
    if (cJSON_IsArray(values)) {
        fputs("#{", out);
        const cJSON *e;
        bool first = true;
        cJSON_ArrayForEach(e, values) {
            fprintf(out, "%s%" PRId64, first ? "" : " ", jr_num(e, 0));
            first = false;
        }
        fputc('}', out);
    } else if (cJSON_IsArray(v)) {
        fputc('[', out);
        const cJSON *e;
        bool first = true;
        cJSON_ArrayForEach(e, v) {
            fputs(first ? "" : " ", out);
            edn_value(out, e, NULL);
            first = false;
        }
        fputc(']', out);
    } else if (cJSON_IsNumber(v))
        fprintf(out, "%" PRId64, jr_num(v, 0));
    else if (cJSON_IsString(v))
        edn_str(out, v->valuestring);
    else
        fputs("nil", out);
}

/* A transaction's micro-operations as Elle reads them: [[:r "x" 1] [:w "y" 2]]. */
static void edn_txn(FILE *out, const cJSON *v)
{
    fputc('[', out);
    const cJSON *m;
    bool first = true;
    cJSON_ArrayForEach(m, v) {
        fputs(first ? "[" : " [", out);
        first = false;
        const cJSON *e;
        bool head = true;
        cJSON_ArrayForEach(e, m) {
            if (!head)
                fputc(' ', out);
            if (head && cJSON_IsString(e))
                fprintf(out, ":%s", e->valuestring);
            else
                edn_value(out, e, NULL);
            head = false;
        }
        fputc(']', out);
    }
    fputc(']', out);
}

static int op_fail(struct ex *x, long line, const char *fmt, const char *a, int64_t op)
{
    char msg[300];
    snprintf(msg, sizeof msg, fmt, a, op);
    snprintf(x->err, x->errlen, "%s:%ld: %s", x->path, line, msg);
    return SIM_EXIT_FAILED;
}

static int history_line(struct ex *x, const cJSON *o, const char *ev, int64_t t, long line)
{
    bool invoke = strcmp(ev, "invoke") == 0;
    if (!invoke && strcmp(ev, "ok") != 0 && strcmp(ev, "fail") != 0 && strcmp(ev, "info") != 0)
        return 0;
    int c = name_of(x, cJSON_GetObjectItemCaseSensitive(o, "client"));
    const char *f = jr_str(o, "f", NULL), *key = jr_str(o, "key", NULL);
    if (c < 0 || !f || !key)
        return 0;
    int64_t op = jr_i64(o, "op", 0);
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(o, "value");
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(o, "values");
    int64_t process = process_of(x, c);
    if (!invoke && strcmp(ev, "info") == 0)
        x->crashes[c]++;   /* the next operation of this client is a new Jepsen process */
    if (x->format == EXPORT_JEPSEN) {
        fprintf(x->out, "{:index %" PRId64 ", :time %" PRId64 ", :type :%s, :process %" PRId64 ", :f :%s, "
                ":value ", x->index++, t, ev, process, f);
        if (strcmp(f, "txn") == 0 && cJSON_IsArray(value))
            edn_txn(x->out, value);   /* Elle's form: the keys are in the micro-operations */
        else {
            fputc('[', x->out);
            edn_str(x->out, key);
            fputc(' ', x->out);
            edn_value(x->out, invoke && strcmp(f, "read") == 0 ? NULL : value, invoke ? NULL : values);
            fputc(']', x->out);
        }
        if (jr_str(o, "error", NULL)) {
            fputs(", :error ", x->out);
            edn_str(x->out, jr_str(o, "error", NULL));
        }
        fprintf(x->out, ", :client \"%s\", :op-id %" PRId64 "}\n", x->names[c], op);
        return 0;
    }
    if (strcmp(f, "read") != 0 && strcmp(f, "write") != 0 && strcmp(f, "cas") != 0)
        return op_fail(x, line, "%s operations have no equivalent in this format (op %" PRId64
                       "): it holds registers only", f, op);
    if (values)
        return op_fail(x, line, "a read that returned several values (%s, op %" PRId64
                       ") has no equivalent in this format", key, op);
    if (x->format == EXPORT_PORCUPINE) {
        if (strcmp(f, "cas") == 0)
            return op_fail(x, line, "Porcupine's key-value model has no %s (op %" PRId64 ")", f, op);
        bool read = strcmp(f, "read") == 0;
        fprintf(x->out, "{:process %" PRId64 ", :type :%s, :f :%s, :key ", (int64_t)(c - x->n_nodes), ev,
                read ? "get" : "put");
        edn_str(x->out, key);
        fputs(", :value ", x->out);
        if (read && (invoke || strcmp(ev, "ok") != 0))
            fputs("nil", x->out);
        else if (cJSON_IsNumber(value))
            fprintf(x->out, "\"%" PRId64 "\"", jr_num(value, 0));
        else
            fputs("\"\"", x->out);   /* never written: a missing key reads "" */
        fputs("}\n", x->out);
        return 0;
    }
    /* jepsen-log: one register */
    if (!x->key) {
        if (!x->key_seen) {
            x->key_seen = true;
            snprintf(x->first_key, sizeof x->first_key, "%s", key);
        } else if (strcmp(x->first_key, key) != 0) {
            snprintf(x->err, x->errlen, "%s:%ld: the trace has operations on several keys (\"%s\", \"%s\", "
                     "...) and a Jepsen log holds one register: choose one with --key", x->path, line,
                     x->first_key, key);
            return SIM_EXIT_USAGE;
        }
    } else if (strcmp(x->key, key) != 0)
        return 0;
    x->key_seen = true;
    const cJSON *expect = cJSON_IsArray(value) ? cJSON_GetArrayItem(value, 0) : NULL;
    if (strcmp(f, "cas") == 0 && expect && !cJSON_IsNumber(expect))
        return op_fail(x, line, "a %s that expects nil (op %" PRId64 ") has no equivalent in a Jepsen log", f, op);
    fprintf(x->out, "INFO  jepsen.util - %" PRId64 "\t:%s\t:%s\t", process, ev, f);
    if (strcmp(f, "read") == 0 && (invoke || strcmp(ev, "ok") != 0))
        fputs("nil", x->out);
    else
        edn_value(x->out, value, NULL);
    fputc('\n', x->out);
    return 0;
}

/* ==== driving ============================================================= */

static int export_line(void *ctx, const cJSON *o, const char *ev, int64_t t, const char *raw,
                       size_t len, long lineno)
{
    (void)len;
    struct ex *x = ctx;
    if (!o)
        return 0;   /* the header */
    x->last_t = t;
    if (strcmp(ev, "cluster") == 0 || strcmp(ev, "workload") == 0) {
        size_t old_cap = x->cap_names;
        setup_names(x, o, ev);
        if (x->format == EXPORT_SHIVIZ)
            sv_fit(x, old_cap);
        return 0;
    }
    switch (x->format) {
    case EXPORT_PERFETTO: return perfetto_line(x, o, ev, t, raw);
    case EXPORT_SHIVIZ: return shiviz_line(x, o, ev, t, raw);
    default: return history_line(x, o, ev, t, lineno);
    }
}

static void ex_free(struct ex *x)
{
    for (size_t i = 0; i < x->cap; i++)
        if (x->slots[i].id)
            sim_free(x->slots[i].clock);
    sim_free(x->slots);
    for (int i = 0; i < x->n_names; i++) {
        sim_free(x->names[i]);
        sim_free(x->open[i].invoke_line);
        sim_free(x->clock[i]);
        sim_free(x->role[i]);
    }
    sim_free(x->names);
    sim_free(x->open);
    sim_free(x->crashes);
    sim_free(x->clock);
    sim_free(x->role);
    sim_free(x->role_t);
}

int export_run(enum export_format format, const char *path, const char *key, FILE *out,
               char *err, size_t errlen)
{
    struct ex x = { .format = format, .out = out, .path = path, .key = key, .err = err,
                    .errlen = errlen, .first_event = true };
    if (format == EXPORT_PERFETTO)
        perfetto_begin(&x);
    else if (format == EXPORT_SHIVIZ)
        fputs("(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})\n\n", out);
    struct tscan_info info;
    int rc = tscan_run(path, NULL, export_line, &x, &info, err, errlen);
    if (rc == 0 && format == EXPORT_PERFETTO)
        perfetto_end(&x);
    if (rc == 0 && format == EXPORT_JEPSEN_LOG && key && !x.key_seen) {
        snprintf(err, errlen, "%s: no operation on key \"%s\"", path, key);
        rc = SIM_EXIT_USAGE;
    }
    ex_free(&x);
    if (rc == 0 && ferror(out)) {
        snprintf(err, errlen, "cannot write the export: write error");
        rc = SIM_EXIT_IO;
    }
    return rc;
}
