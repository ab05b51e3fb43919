/* sim shrink: turn a failing seed into a small standalone scenario that
 * fails the same way.
 *
 * The failing run is recorded once with the trace on. Its trace holds the
 * concrete run: the cluster (model, nodes, effective parameters, the
 * network as written), every fault that happened (whether the scenario,
 * a callback or the nemesis caused it) and every client operation with its
 * time. Those become an explicit scenario: cluster{}, a scripted
 * workload{}, at(t, fault) lines, run{} and the one failing expectation.
 * Delta debugging (Zeller's ddmin) then removes faults and operations,
 * shortens the run, merges clients and drops nodes, keeping each change
 * only when the candidate still fails the same way (sweep_failure_kind).
 * Candidates are run in-process, or -j at a time in forked children; the
 * first match in candidate order wins, so the result is the same for
 * every -j. */
#include "cli.h"
#include "sweep_run.h"
#include "core/alloc.h"
#include "trace/jread.h"
#include "core/exitcodes.h"
#include "core/model.h"
#include "core/params.h"
#include "trace/jw.h"
#include "trace/trace.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char shrink_help[] =
    "usage: sim shrink SCENARIO --seed N [-o FILE] [options]\n"
    "\n"
    "Take a seed on which SCENARIO fails, record the run's concrete fault\n"
    "schedule and client operations, and shrink them by delta debugging:\n"
    "drop faults, drop operations, end the run earlier, merge clients and\n"
    "drop nodes, while the same kind of failure still occurs (the same failed\n"
    "expectation, or a broken invariant). Writes a standalone scenario with\n"
    "the explicit minimal schedule, which `sim run FILE --seed N` fails, and\n"
    "prints the sizes before and after. See docs/sweep.md.\n"
    "\n"
    "options:\n"
    "  --seed N           the failing seed (required)\n"
    "  -o, --out FILE     the minimal scenario (default minimal-NAME-seedN.lua)\n"
    "  -j, --jobs N       candidates run at once in worker processes (default: the\n"
    "                     number of online CPUs; the result is the same for any N)\n"
    "  --max-runs N       stop shrinking after N candidate runs (default 5000)\n"
    "  --param NAME=VALUE, --swarm, --max-events N, --budget N, --memory MIB\n"
    "                     as in sim run, for the failing run\n"
    "  --quiet            print only the result\n"
    "\n"
    "The minimal scenario keeps the original's cluster (only parameters that\n"
    "differ from the model's defaults are written), its network, and only the\n"
    "expectation that failed. The one randomness left is the network's and the\n"
    "nodes', drawn from the seed. Scenarios whose cluster takes Lua functions as\n"
    "parameters, or whose workload runs transactions, cannot be shrunk yet.\n"
    "\n"
    "exit codes: 0 a minimal scenario was written, 1 the seed does not fail (or\n"
    "the recorded schedule does not fail again), 2 usage, 4 scenario error,\n"
    "5 file error.\n";

const struct cli_command cli_shrink = {
    "shrink", "shrink a failing seed to a minimal scenario: sim shrink SCENARIO --seed N [-o FILE]",
    shrink_help, cmd_shrink, NULL,
};

/* ---- a growable string --------------------------------------------------------------- */

struct sb {
    char *p;
    size_t len, cap;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    SIM_GROW(b->p, b->cap, b->len + (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* ---- the recorded run ----------------------------------------------------------------- */

enum fault_kind { F_CRASH, F_RESTART, F_PAUSE, F_RESUME, F_CLOCK, F_ISOLATE, F_CUT, F_PARTITION, F_BRIDGE, F_HEAL };

struct fault {
    sim_time t;
    enum fault_kind kind;
    char *node;            /* the node; cut: from */
    char *to;              /* cut */
    sim_time duration;     /* pause: 0 = until resume */
    int64_t offset, drift_ppb;
    cJSON *groups;         /* partition: [[names]]; bridge: [[a], [b]] */
    char *via;             /* bridge */
};

struct op {
    sim_time t;
    int client;            /* global client index in the recorded run */
    int f;                 /* index into op_names */
    char *key;
    int64_t value, expect;
};

static const char *const op_names[] = { "read", "write", "cas", "add", "remove" };

struct wl {
    int first, count;      /* its clients: first .. first+count-1 */
    sim_time timeout;
    int64_t retries;
    char target[16];       /* random, sticky, leader, node */
    char *node;            /* target node: inferred from the first request */
};

/* What the failure is, and the expectation the minimal scenario keeps. */
struct target {
    char kind[256];        /* sweep_failure_kind of the recorded run */
    bool expect;           /* an expectation failed: name is the one kept */
    char name[64];
    char lua[400];         /* its expect{} entry: "no_lost_writes = false" */
    char verdict[64];      /* a checker's: "violated", "holds", "PA/EL"; the same one is required */
    char why[1400];
};

struct recorded {
    char *model;
    cJSON *nodes;          /* array of names */
    cJSON *params;         /* object: only values that differ from the defaults */
    cJSON *network;        /* the spec as written, or NULL */
    struct wl *wls;
    int n_wls;
    char **clients;        /* global names c1.. */
    int n_clients;
    struct fault *faults;
    int n_faults;
    struct op *ops;
    int n_ops;
    sim_time end;
    char slo[400];         /* the first objective, as its expect{} entry, or "" */
};

/* A candidate: which faults and operations are kept, which client each
 * operation runs on, when the run ends, how many nodes. */
struct cand {
    bool *fault_on;
    bool *op_on;
    int *op_client;
    sim_time end;
    int n_nodes;
};

struct shrink {
    const char *scenario;
    struct run_request rq;     /* the failing run's request */
    uint64_t seed;             /* the seed candidates run with */
    int jobs;
    uint64_t max_runs, runs;
    bool quiet;
    char tmpdir[512];
    struct recorded rec;
    struct target target;
    uint64_t cand_serial;
};

/* ---- reading the trace ----------------------------------------------------------------- */

static const char *jstr(const cJSON *o, const char *key)
{
    return jr_str(o, key, NULL);
}

static int64_t jint(const cJSON *o, const char *key)
{
    return jr_i64(o, key, 0);
}

static bool jtrue(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int client_index(const struct recorded *r, const char *name)
{
    for (int i = 0; name && i < r->n_clients; i++)
        if (strcmp(r->clients[i], name) == 0)
            return i;
    return -1;
}

/* The model's defaults as JSON, to leave out of params what equals them. */
static cJSON *model_defaults(const char *model)
{
    const struct model *m = model_find(model);
    if (!m)
        return NULL;
    char err[256];
    params *p = params_new(m->name, m->params, err, sizeof err);
    if (!p)
        return NULL;
    jw j;
    jw_init(&j);
    jw_obj(&j);
    params_write(p, &j);
    jw_obj_end(&j);
    cJSON *o = cJSON_ParseWithLength(j.buf, j.len);
    jw_free(&j);
    params_free(p);
    return o;
}

static int read_cluster(struct recorded *r, const cJSON *o, char *err, size_t errlen)
{
    const char *model = jstr(o, "model");
    r->model = sim_xstrdup(model ? model : "?");
    r->nodes = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "nodes"), true);
    cJSON *defaults = model_defaults(r->model);
    r->params = cJSON_CreateObject();
    const cJSON *kv;
    cJSON_ArrayForEach(kv, cJSON_GetObjectItemCaseSensitive(o, "params")) {
        if (cJSON_IsString(kv) && strcmp(kv->valuestring, "<lua function>") == 0) {
            snprintf(err, errlen, "the cluster's parameter \"%s\" is a Lua function: sim shrink cannot write "
                     "it into a new scenario yet", kv->string);
            cJSON_Delete(defaults);
            return SIM_EXIT_USAGE;
        }
        if (cJSON_IsNull(kv))
            continue;
        if (defaults && cJSON_Compare(kv, cJSON_GetObjectItemCaseSensitive(defaults, kv->string), true))
            continue;
        cJSON_AddItemToObject(r->params, kv->string, cJSON_Duplicate(kv, true));
    }
    cJSON_Delete(defaults);
    return 0;
}

static void read_workload(struct recorded *r, const cJSON *o)
{
    r->wls = sim_xrealloc(r->wls, (size_t)(r->n_wls + 1) * sizeof *r->wls);
    struct wl *w = &r->wls[r->n_wls++];
    *w = (struct wl){ .first = r->n_clients };
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(o, "clients")) {
        r->clients = sim_xrealloc(r->clients, (size_t)(r->n_clients + 1) * sizeof *r->clients);
        r->clients[r->n_clients++] = sim_xstrdup(cJSON_IsString(c) ? c->valuestring : "?");
        w->count++;
    }
    w->timeout = jint(o, "timeout");
    w->retries = jint(o, "retries");
    const char *target = jstr(o, "target");
    snprintf(w->target, sizeof w->target, "%s", target ? target : "random");
}

static struct fault *new_fault(struct recorded *r, sim_time t, enum fault_kind kind)
{
    r->faults = sim_xrealloc(r->faults, (size_t)(r->n_faults + 1) * sizeof *r->faults);
    struct fault *f = &r->faults[r->n_faults++];
    *f = (struct fault){ .t = t, .kind = kind };
    return f;
}

static char *dup_or_null(const char *s)
{
    return s ? sim_xstrdup(s) : NULL;
}

/* A fault line of the trace, if it changed something. A pause with a
 * duration ends by itself: its resume line is not a fault of its own. */
static void read_fault(struct recorded *r, const char *ev, const cJSON *o, sim_time t)
{
    const char *node = jstr(o, "node");
    struct fault *f;
    if (strcmp(ev, "crash") == 0 && !jtrue(o, "already_down")) {
        new_fault(r, t, F_CRASH)->node = dup_or_null(node);
    } else if (strcmp(ev, "restart") == 0 && !jtrue(o, "already_up")) {
        new_fault(r, t, F_RESTART)->node = dup_or_null(node);
    } else if (strcmp(ev, "pause") == 0 && !jtrue(o, "down")) {
        f = new_fault(r, t, F_PAUSE);
        f->node = dup_or_null(node);
        f->duration = jint(o, "duration");
    } else if (strcmp(ev, "resume") == 0) {
        for (int i = r->n_faults - 1; i >= 0; i--) {
            struct fault *p = &r->faults[i];
            if (p->kind == F_PAUSE && node && p->node && strcmp(p->node, node) == 0) {
                if (p->duration > 0 && p->t + p->duration == t)
                    return;   /* the end of a timed pause */
                break;
            }
        }
        new_fault(r, t, F_RESUME)->node = dup_or_null(node);
    } else if (strcmp(ev, "clock") == 0) {
        f = new_fault(r, t, F_CLOCK);
        f->node = dup_or_null(node);
        f->offset = jint(o, "offset");
        f->drift_ppb = jint(o, "drift_ppb");
    } else if (strcmp(ev, "isolate") == 0) {
        new_fault(r, t, F_ISOLATE)->node = dup_or_null(node);
    } else if (strcmp(ev, "cut") == 0) {
        f = new_fault(r, t, F_CUT);
        f->node = dup_or_null(jstr(o, "from"));
        f->to = dup_or_null(jstr(o, "to"));
    } else if (strcmp(ev, "partition") == 0) {
        f = new_fault(r, t, F_PARTITION);
        f->groups = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "groups"), true);
    } else if (strcmp(ev, "bridge") == 0) {
        f = new_fault(r, t, F_BRIDGE);
        f->groups = cJSON_CreateArray();
        cJSON_AddItemToArray(f->groups, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "a"), true));
        cJSON_AddItemToArray(f->groups, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(o, "b"), true));
        f->via = dup_or_null(jstr(o, "via"));
    } else if (strcmp(ev, "heal") == 0) {
        new_fault(r, t, F_HEAL);
    }
}

static int read_invoke(struct recorded *r, const cJSON *o, sim_time t, char *err, size_t errlen)
{
    const char *f = jstr(o, "f");
    int fi = -1;
    for (int k = 0; f && k < 5; k++)
        if (strcmp(f, op_names[k]) == 0)
            fi = k;
    if (fi < 0) {
        snprintf(err, errlen, "the run has %s operations: sim shrink can script only read, write, cas, add and "
                 "remove", f ? f : "unnamed");
        return SIM_EXIT_USAGE;
    }
    int client = client_index(r, jstr(o, "client"));
    if (client < 0) {
        snprintf(err, errlen, "the trace has an operation of an unknown client");
        return SIM_EXIT_BAD_TRACE;
    }
    r->ops = sim_xrealloc(r->ops, (size_t)(r->n_ops + 1) * sizeof *r->ops);
    struct op *op = &r->ops[r->n_ops++];
    const char *key = jstr(o, "key");
    *op = (struct op){ .t = t, .client = client, .f = fi, .key = sim_xstrdup(key ? key : "x") };
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");
    if (fi == 2 && cJSON_IsArray(v) && cJSON_GetArraySize(v) == 2) {
        op->expect = jr_num(cJSON_GetArrayItem(v, 0), 0);
        op->value = jr_num(cJSON_GetArrayItem(v, 1), 0);
    } else if (cJSON_IsNumber(v)) {
        op->value = jr_num(v, 0);
    }
    return 0;
}

/* The node a client with target "node" sends to: its first request's. */
static void read_send(struct recorded *r, const cJSON *o)
{
    int c = client_index(r, jstr(o, "from"));
    if (c < 0)
        return;
    for (int i = 0; i < r->n_wls; i++) {
        struct wl *w = &r->wls[i];
        if (c >= w->first && c < w->first + w->count && strcmp(w->target, "node") == 0 && !w->node)
            w->node = dup_or_null(jstr(o, "to"));
    }
}

/* Whether a trace line is one the shrink reads: most of a trace is
 * messages, timers and notes, not worth parsing. Sends are read only while
 * some workload's target node is still unknown. */
static bool wanted_line(const char *line, bool need_sends)
{
    static const char *const skip[] = { "deliver", "drop", "timer", "note", "state", "ok", "fail", "info",
                                        "retry", "redirect", "log", "nemesis", NULL };
    const char *ev = strstr(line, "\"ev\":\"");
    if (!ev)
        return true;
    ev += 6;
    size_t n = strcspn(ev, "\"");
    if (n == 4 && strncmp(ev, "send", 4) == 0)
        return need_sends;
    for (int i = 0; skip[i]; i++)
        if (strlen(skip[i]) == n && strncmp(ev, skip[i], n) == 0)
            return false;
    return true;
}

/* An "slo" line back as the expect{} entry that wrote it (times in ns, as
 * ms() and s() give them). Only the first objective is kept: a minimal
 * scenario keeps one failing expectation. */
static void read_slo(struct recorded *r, const cJSON *o)
{
    static const char *const keys[] = { "availability", "p50", "p90", "p95", "p99", "p999", "window", NULL };
    if (r->slo[0])
        return;
    size_t len = (size_t)snprintf(r->slo, sizeof r->slo, "slo = {");
    for (int i = 0; keys[i] && len < sizeof r->slo; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        if (!cJSON_IsNumber(v))
            continue;
        if (i == 0)
            len += (size_t)snprintf(r->slo + len, sizeof r->slo - len, " %s = %.17g,", keys[i], v->valuedouble);
        else
            len += (size_t)snprintf(r->slo + len, sizeof r->slo - len, " %s = %" PRId64 ",", keys[i],
                                    jr_num(v, 0));
    }
    if (len < sizeof r->slo)
        snprintf(r->slo + len, sizeof r->slo - len, " met = %s }",
                 cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "met")) ? "false" : "true");
}

static int read_trace(struct recorded *r, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return SIM_EXIT_IO;
    }
    char *buf = NULL;
    size_t cap = 0;
    int complete, rc = 0;
    bool need_sends = false;
    while (rc == 0 && trace_getline(f, &buf, &cap, &complete) >= 0) {
        if (!wanted_line(buf, need_sends))
            continue;
        cJSON *o = cJSON_Parse(buf);
        const char *ev = jstr(o, "ev");
        sim_time t = jint(o, "t");
        if (!ev) {
        } else if (strcmp(ev, "cluster") == 0) {
            rc = read_cluster(r, o, err, errlen);
        } else if (strcmp(ev, "network") == 0) {
            const cJSON *spec = cJSON_GetObjectItemCaseSensitive(o, "spec");
            if (cJSON_IsObject(spec) && cJSON_GetArraySize(spec) > 0)
                r->network = cJSON_Duplicate(spec, true);
        } else if (strcmp(ev, "workload") == 0) {
            read_workload(r, o);
            need_sends |= strcmp(r->wls[r->n_wls - 1].target, "node") == 0;
        } else if (strcmp(ev, "invoke") == 0) {
            rc = read_invoke(r, o, t, err, errlen);
        } else if (strcmp(ev, "send") == 0) {
            read_send(r, o);
            need_sends = false;
            for (int i = 0; i < r->n_wls; i++)
                need_sends |= strcmp(r->wls[i].target, "node") == 0 && !r->wls[i].node;
        } else if (strcmp(ev, "end") == 0) {
            r->end = t;
        } else if (strcmp(ev, "slo") == 0) {
            read_slo(r, o);
        } else {
            read_fault(r, ev, o, t);
        }
        cJSON_Delete(o);
    }
    sim_free(buf);
    fclose(f);
    if (rc == 0 && !r->model) {
        snprintf(err, errlen, "the failing run has no cluster{}: nothing to shrink");
        rc = SIM_EXIT_USAGE;
    }
    return rc;
}

static void recorded_free(struct recorded *r)
{
    sim_free(r->model);
    cJSON_Delete(r->nodes);
    cJSON_Delete(r->params);
    cJSON_Delete(r->network);
    for (int i = 0; i < r->n_wls; i++)
        sim_free(r->wls[i].node);
    sim_free(r->wls);
    for (int i = 0; i < r->n_clients; i++)
        sim_free(r->clients[i]);
    sim_free(r->clients);
    for (int i = 0; i < r->n_faults; i++) {
        sim_free(r->faults[i].node);
        sim_free(r->faults[i].to);
        sim_free(r->faults[i].via);
        cJSON_Delete(r->faults[i].groups);
    }
    sim_free(r->faults);
    for (int i = 0; i < r->n_ops; i++)
        sim_free(r->ops[i].key);
    sim_free(r->ops);
}

/* ---- the failure kept ------------------------------------------------------------------------ */

/* A count expectation's bounds from its sentence ("ops_ok = 12, expected
 * at least 100"), as Lua. */
static bool count_bounds(const char *detail, char *out, size_t n)
{
    const char *e = strstr(detail, ", expected ");
    if (!e)
        return false;
    e += strlen(", expected ");
    char a[48], b[48];
    if (sscanf(e, "between %47s and %47s", a, b) == 2)
        snprintf(out, n, "{ min = %s, max = %s }", a, b);
    else if (sscanf(e, "at least %47s", a) == 1)
        snprintf(out, n, "{ min = %s }", a);
    else if (sscanf(e, "at most %47s", a) == 1)
        snprintf(out, n, "{ max = %s }", a);
    else if (sscanf(e, "%47s", a) == 1)
        snprintf(out, n, "%s", a);
    else
        return false;
    return true;
}

/* What a checker found, the start of its expectation's detail ("violated,
 * expected to hold: ..." or "PA/EL, expected PC/EC: ..."). A run where the
 * checker could not decide ("unknown": say no node is up at the end) does
 * not fail the same way as one where it found a violation. */
static void verdict_of(const char *detail, char *out, size_t n)
{
    size_t len = strcspn(detail, ",");
    snprintf(out, n, "%.*s", (int)len, detail);
}

/* Decide what "the same failure" means for this run: a broken invariant,
 * an event limit, or one failed expectation (a checker's if any failed,
 * else the first). 0, or an exit code with err. */
static int choose_target(struct target *tg, const struct lsim_result *res, int rc, char *err, size_t errlen)
{
    sweep_failure_kind(res, rc, tg->kind, sizeof tg->kind);
    if (!tg->kind[0]) {
        snprintf(err, errlen, "this seed passes: every expectation held, so there is no failure to shrink");
        return SIM_EXIT_FAILED;
    }
    if (strncmp(tg->kind, "expect:", 7) != 0) {
        if (strcmp(tg->kind, "invariant") != 0 && strcmp(tg->kind, "event_limit") != 0) {
            snprintf(err, errlen, "this seed ends in an error, not a failure (%s): %s", tg->kind, res->error);
            return rc;
        }
        if (strcmp(tg->kind, "invariant") == 0) {
            const char *nl = strchr(res->halt_report, '\n');
            snprintf(tg->why, sizeof tg->why, "invariant broken: %.*s",
                     nl ? (int)(nl - res->halt_report) : (int)strlen(res->halt_report), res->halt_report);
        } else
            snprintf(tg->why, sizeof tg->why, "%s", res->error);
        return 0;
    }
    const struct lsim_expect *pick = NULL;
    for (int i = 0; i < res->n_expect && !pick; i++)
        if (!res->expect[i].held && res->expect[i].checker)
            pick = &res->expect[i];
    for (int i = 0; i < res->n_expect && !pick; i++)
        if (!res->expect[i].held)
            pick = &res->expect[i];
    if (!pick) {
        snprintf(err, errlen, "internal error: the run failed an expectation but none is marked failed");
        return SIM_EXIT_INTERNAL;
    }
    tg->expect = true;
    snprintf(tg->name, sizeof tg->name, "%s", pick->name);
    snprintf(tg->why, sizeof tg->why, "%s: %s", pick->name, pick->detail);
    if (pick->checker)
        verdict_of(pick->detail, tg->verdict, sizeof tg->verdict);
    if (pick->checker && pick->want_label[0])
        snprintf(tg->lua, sizeof tg->lua, "%s = \"%s\"", pick->name, pick->want_label);
    else if (pick->checker)
        snprintf(tg->lua, sizeof tg->lua, "%s = %s", pick->name, pick->want ? "true" : "false");
    else {
        char bounds[200];
        if (!count_bounds(pick->detail, bounds, sizeof bounds)) {
            snprintf(err, errlen, "cannot read the bounds of expectation %s from \"%s\"", pick->name, pick->detail);
            return SIM_EXIT_INTERNAL;
        }
        snprintf(tg->lua, sizeof tg->lua, "%s = %s", pick->name, bounds);
    }
    snprintf(tg->kind, sizeof tg->kind, "expect:%s", tg->name);
    return 0;
}

static bool same_failure(const struct target *tg, const struct lsim_result *res, int rc)
{
    if (rc != SIM_EXIT_FAILED && !(rc == SIM_EXIT_SCENARIO && strcmp(tg->kind, "event_limit") == 0))
        return false;
    char kind[256];
    sweep_failure_kind(res, rc, kind, sizeof kind);
    if (tg->expect) {
        if (strncmp(kind, "expect:", 7) != 0 || !sweep_expect_failed(res, tg->name))
            return false;
        if (!tg->verdict[0])
            return true;
        for (int i = 0; i < res->n_expect; i++) {
            char v[64];
            verdict_of(res->expect[i].detail, v, sizeof v);
            if (!res->expect[i].held && strcmp(res->expect[i].name, tg->name) == 0 && strcmp(v, tg->verdict) == 0)
                return true;
        }
        return false;
    }
    return strcmp(kind, tg->kind) == 0;
}

/* ---- writing a candidate as Lua --------------------------------------------------------------- */

static void lua_string(struct sb *b, const char *s)
{
    sb_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_printf(b, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            sb_printf(b, "\\%03d", *p);
        else
            sb_printf(b, "%c", *p);
    }
    sb_printf(b, "\"");
}

static bool lua_identifier(const char *s)
{
    static const char *const reserved[] = { "and", "break", "do", "else", "elseif", "end", "false", "for",
        "function", "goto", "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true",
        "until", "while", NULL };
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    for (int i = 0; reserved[i]; i++)
        if (strcmp(s, reserved[i]) == 0)
            return false;
    return true;
}

static void lua_number(struct sb *b, double d)
{
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
        sb_printf(b, "%lld", (long long)d);
    else
        sb_printf(b, "%.17g", d);
}

/* A JSON value (as the trace wrote a Lua table) back as Lua source. */
static void lua_value(struct sb *b, const cJSON *v)
{
    if (cJSON_IsNumber(v))
        lua_number(b, v->valuedouble);
    else if (cJSON_IsString(v))
        lua_string(b, v->valuestring);
    else if (cJSON_IsBool(v))
        sb_printf(b, "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        sb_printf(b, "{");
        const cJSON *e;
        bool first = true;
        cJSON_ArrayForEach(e, v) {
            if (cJSON_IsNull(e))
                continue;
            sb_printf(b, "%s", first ? " " : ", ");
            first = false;
            if (cJSON_IsObject(v)) {
                if (lua_identifier(e->string))
                    sb_printf(b, "%s = ", e->string);
                else {
                    sb_printf(b, "[");
                    lua_string(b, e->string);
                    sb_printf(b, "] = ");
                }
            }
            lua_value(b, e);
        }
        sb_printf(b, "%s}", first ? "" : " ");
    } else
        sb_printf(b, "nil");
}

static void lua_time(struct sb *b, sim_time t)
{
    if (t % 1000000 == 0)
        sb_printf(b, "ms(%" PRId64 ")", t / 1000000);
    else if (t % 1000 == 0)
        sb_printf(b, "us(%" PRId64 ")", t / 1000);
    else
        sb_printf(b, "ns(%" PRId64 ")", t);
}

/* The names a candidate gives: nodes past n_nodes are gone, clients are
 * renumbered c1.. in order of (workload, recorded index) over the clients
 * that still have operations. NULL for a name that no longer exists. */
struct naming {
    const struct shrink *sh;
    const struct cand *c;
    int *client_new;     /* recorded client index -> new index + 1, or 0 */
    int *wl_local;       /* recorded client index -> index within its workload (1-based) */
};

static void naming_init(struct naming *nm, const struct shrink *sh, const struct cand *c)
{
    const struct recorded *r = &sh->rec;
    nm->sh = sh;
    nm->c = c;
    nm->client_new = sim_xcalloc((size_t)r->n_clients + 1, sizeof *nm->client_new);
    nm->wl_local = sim_xcalloc((size_t)r->n_clients + 1, sizeof *nm->wl_local);
    bool *used = sim_xcalloc((size_t)r->n_clients + 1, sizeof *used);
    for (int i = 0; i < r->n_ops; i++)
        if (c->op_on[i] && r->ops[i].t <= c->end)
            used[c->op_client[i]] = true;
    int next = 0;
    for (int w = 0; w < r->n_wls; w++) {
        int local = 0;
        for (int k = r->wls[w].first; k < r->wls[w].first + r->wls[w].count; k++)
            if (used[k]) {
                nm->client_new[k] = ++next;
                nm->wl_local[k] = ++local;
            }
    }
    sim_free(used);
}

static void naming_free(struct naming *nm)
{
    sim_free(nm->client_new);
    sim_free(nm->wl_local);
}

static const char *mapped_name(const struct naming *nm, const char *name, char *buf, size_t n)
{
    const struct recorded *r = &nm->sh->rec;
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, r->nodes) {
        if (cJSON_IsString(e) && strcmp(e->valuestring, name) == 0)
            return k < nm->c->n_nodes ? name : NULL;
        k++;
    }
    int c = client_index(r, name);
    if (c < 0 || !nm->client_new[c])
        return NULL;
    snprintf(buf, n, "c%d", nm->client_new[c]);
    return buf;
}

/* A list of names, with the ones gone left out; false when none is left. */
static bool name_list(struct sb *b, const struct naming *nm, const cJSON *names)
{
    char buf[32];
    int kept = 0;
    const cJSON *e;
    sb_printf(b, "{");
    cJSON_ArrayForEach(e, names) {
        const char *name = cJSON_IsString(e) ? mapped_name(nm, e->valuestring, buf, sizeof buf) : NULL;
        if (!name)
            continue;
        sb_printf(b, "%s", kept++ ? ", " : " ");
        lua_string(b, name);
    }
    sb_printf(b, "%s}", kept ? " " : "");
    return kept > 0;
}

/* One fault as an at() line; nothing when it names something gone. */
static void render_fault(struct sb *b, const struct naming *nm, const struct fault *f)
{
    char b1[32], b2[32];
    const char *node = f->node ? mapped_name(nm, f->node, b1, sizeof b1) : NULL;
    struct sb a = { 0 };
    switch (f->kind) {
    case F_CRASH:
    case F_RESTART:
    case F_RESUME:
    case F_ISOLATE:
        if (!node)
            return;
        sb_printf(&a, "%s(\"%s\")", f->kind == F_CRASH ? "crash" : f->kind == F_RESTART ? "restart"
                  : f->kind == F_RESUME ? "resume" : "isolate", node);
        break;
    case F_PAUSE:
        if (!node)
            return;
        sb_printf(&a, "pause(\"%s\"", node);
        if (f->duration > 0) {
            sb_printf(&a, ", ");
            lua_time(&a, f->duration);
        }
        sb_printf(&a, ")");
        break;
    case F_CLOCK:
        if (!node)
            return;
        /* ns() takes no negative numbers: a clock behind is written -ns(x) */
        sb_printf(&a, "skew(\"%s\", %sns(%" PRId64 "), %.17g)", node, f->offset < 0 ? "-" : "",
                  f->offset < 0 ? -f->offset : f->offset, (double)f->drift_ppb / 1e9);
        break;
    case F_CUT: {
        const char *to = f->to ? mapped_name(nm, f->to, b2, sizeof b2) : NULL;
        if (!node || !to)
            return;
        sb_printf(&a, "cut(\"%s\", \"%s\")", node, to);
        break;
    }
    case F_PARTITION: {
        sb_printf(&a, "partition{");
        int groups = 0;
        const cJSON *g;
        cJSON_ArrayForEach(g, f->groups) {
            struct sb one = { 0 };
            if (name_list(&one, nm, g)) {
                sb_printf(&a, "%s%s", groups++ ? ", " : " ", one.p);
            }
            sim_free(one.p);
        }
        sb_printf(&a, " }");
        if (groups == 0) {
            sim_free(a.p);
            return;
        }
        break;
    }
    case F_BRIDGE: {
        const char *via = f->via ? mapped_name(nm, f->via, b2, sizeof b2) : NULL;
        struct sb g1 = { 0 }, g2 = { 0 };
        bool ok = via && name_list(&g1, nm, cJSON_GetArrayItem(f->groups, 0)) &&
                  name_list(&g2, nm, cJSON_GetArrayItem(f->groups, 1));
        if (ok)
            sb_printf(&a, "bridge{ %s, %s, via = \"%s\" }", g1.p, g2.p, via);
        sim_free(g1.p);
        sim_free(g2.p);
        if (!ok) {
            sim_free(a.p);
            return;
        }
        break;
    }
    case F_HEAL:
        sb_printf(&a, "heal()");
        break;
    }
    sb_printf(b, "at(");
    lua_time(b, f->t);
    sb_printf(b, ", %s)\n", a.p);
    sim_free(a.p);
}

struct sizes {
    int faults, ops, clients, nodes;
    sim_time end;
};

static struct sizes cand_sizes(const struct shrink *sh, const struct cand *c)
{
    const struct recorded *r = &sh->rec;
    struct sizes s = { .end = c->end, .nodes = c->n_nodes };
    struct naming nm;
    naming_init(&nm, sh, c);
    for (int i = 0; i < r->n_faults; i++)
        s.faults += c->fault_on[i] && r->faults[i].t <= c->end;
    for (int i = 0; i < r->n_ops; i++)
        s.ops += c->op_on[i] && r->ops[i].t <= c->end;
    for (int i = 0; i < r->n_clients; i++)
        s.clients += nm.client_new[i] > 0;
    naming_free(&nm);
    return s;
}

/* The candidate as a scenario. header: the comment at the top, or NULL. */
static char *render(const struct shrink *sh, const struct cand *c, const char *header)
{
    const struct recorded *r = &sh->rec;
    struct sb b = { 0 };
    struct naming nm;
    naming_init(&nm, sh, c);
    if (header)
        sb_printf(&b, "%s", header);
    sb_printf(&b, "cluster{\n    model = ");
    lua_string(&b, r->model);
    sb_printf(&b, ",\n    nodes = ");
    bool plain = true;
    int k = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, r->nodes) {
        char want[24];
        snprintf(want, sizeof want, "n%d", ++k);
        plain &= cJSON_IsString(e) && strcmp(e->valuestring, want) == 0;
    }
    if (plain)
        sb_printf(&b, "%d", c->n_nodes);
    else {
        sb_printf(&b, "{");
        k = 0;
        cJSON_ArrayForEach(e, r->nodes) {
            if (k >= c->n_nodes)
                break;
            sb_printf(&b, "%s", k++ ? ", " : " ");
            lua_string(&b, e->valuestring);
        }
        sb_printf(&b, " }");
    }
    if (cJSON_GetArraySize(r->params) > 0) {
        sb_printf(&b, ",\n    params = ");
        lua_value(&b, r->params);
    }
    if (r->network) {
        sb_printf(&b, ",\n    network = ");
        lua_value(&b, r->network);
    }
    sb_printf(&b, ",\n}\n");

    for (int w = 0; w < r->n_wls; w++) {
        const struct wl *wl = &r->wls[w];
        int n = 0;
        for (int i = 0; i < r->n_ops; i++)
            n += c->op_on[i] && r->ops[i].t <= c->end && c->op_client[i] >= wl->first &&
                 c->op_client[i] < wl->first + wl->count;
        if (n == 0)
            continue;
        sb_printf(&b, "\nworkload{\n    timeout = ");
        lua_time(&b, wl->timeout);
        sb_printf(&b, ",\n    retries = %" PRId64 ",\n    target = \"%s\",\n    script = {\n", wl->retries,
                  strcmp(wl->target, "node") == 0 && wl->node ? wl->node : wl->target);
        for (int i = 0; i < r->n_ops; i++) {
            const struct op *op = &r->ops[i];
            int cl = c->op_client[i];
            if (!c->op_on[i] || op->t > c->end || cl < wl->first || cl >= wl->first + wl->count)
                continue;
            sb_printf(&b, "        { at = ");
            lua_time(&b, op->t);
            sb_printf(&b, ", client = %d, f = \"%s\", key = ", nm.wl_local[cl], op_names[op->f]);
            lua_string(&b, op->key);
            if (op->f == 2)
                sb_printf(&b, ", value = { %" PRId64 ", %" PRId64 " }", op->expect, op->value);
            else if (op->f != 0)
                sb_printf(&b, ", value = %" PRId64, op->value);
            sb_printf(&b, " },\n");
        }
        sb_printf(&b, "    },\n}\n");
    }
    sb_printf(&b, "\n");
    for (int i = 0; i < r->n_faults; i++)
        if (c->fault_on[i] && r->faults[i].t <= c->end)
            render_fault(&b, &nm, &r->faults[i]);
    sb_printf(&b, "\nrun{ until_ = ");
    lua_time(&b, c->end);
    sb_printf(&b, " }\n");
    if (sh->target.expect)
        sb_printf(&b, "\nexpect{ %s }\n", sh->target.lua);
    naming_free(&nm);
    return b.p;
}

/* ---- candidates --------------------------------------------------------------------------------- */

static void cand_init(struct cand *c, const struct recorded *r)
{
    c->fault_on = sim_xcalloc((size_t)r->n_faults + 1, sizeof *c->fault_on);
    c->op_on = sim_xcalloc((size_t)r->n_ops + 1, sizeof *c->op_on);
    c->op_client = sim_xcalloc((size_t)r->n_ops + 1, sizeof *c->op_client);
    for (int i = 0; i < r->n_faults; i++)
        c->fault_on[i] = true;
    for (int i = 0; i < r->n_ops; i++) {
        c->op_on[i] = true;
        c->op_client[i] = r->ops[i].client;
    }
    c->end = r->end;
    c->n_nodes = cJSON_GetArraySize(r->nodes);
}

static void cand_copy(struct cand *dst, const struct cand *src, const struct recorded *r)
{
    cand_init(dst, r);
    memcpy(dst->fault_on, src->fault_on, (size_t)r->n_faults * sizeof *dst->fault_on);
    memcpy(dst->op_on, src->op_on, (size_t)r->n_ops * sizeof *dst->op_on);
    memcpy(dst->op_client, src->op_client, (size_t)r->n_ops * sizeof *dst->op_client);
    dst->end = src->end;
    dst->n_nodes = src->n_nodes;
}

static void cand_free(struct cand *c)
{
    sim_free(c->fault_on);
    sim_free(c->op_on);
    sim_free(c->op_client);
}

/* ---- running candidates --------------------------------------------------------------------------- */

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    size_t n = strlen(text);
    bool ok = fwrite(text, 1, n, f) == n;
    if (fclose(f) != 0 || !ok)
        return -1;
    return 0;
}

/* Run the scenario file at path with the shrink's seed; does it fail the
 * same way? */
static bool test_file(const struct shrink *sh, const char *path, uint64_t seed)
{
    static struct lsim_result res;
    struct run_request rq = {
        .scenario = path,
        .seed = seed,
        .limits = sh->rq.limits,
        .max_events = sh->rq.max_events,
        .swarm = sh->rq.swarm,
        .quiet = true,
    };
    char digest[65];
    int rc = sweep_judge_digest(&rq, &res, digest);
    return same_failure(&sh->target, &res, rc);
}

/* Run the candidate texts (in order) and return the index of the first
 * that fails the same way, or -1. With jobs > 1 a batch runs in forked
 * children, one candidate each; the answer is the same. */
static int first_match(struct shrink *sh, char **texts, int n, uint64_t seed)
{
    for (int start = 0; start < n; start += sh->jobs) {
        int batch = n - start < sh->jobs ? n - start : sh->jobs;
        char paths[64][600];
        pid_t pids[64];
        bool match[64] = { false };
        if (batch > 64)
            batch = 64;
        for (int k = 0; k < batch; k++) {
            snprintf(paths[k], sizeof paths[k], "%s/candidate-%" PRIu64 ".lua", sh->tmpdir, sh->cand_serial++);
            if (write_file(paths[k], texts[start + k]) < 0) {
                cli_error("shrink: cannot write %s: %s", paths[k], strerror(errno));
                exit(SIM_EXIT_IO);
            }
        }
        sh->runs += (uint64_t)batch;
        if (sh->jobs == 1) {
            match[0] = test_file(sh, paths[0], seed);
        } else {
            fflush(NULL);
            for (int k = 0; k < batch; k++) {
                pids[k] = fork();
                if (pids[k] == 0)
                    _exit(test_file(sh, paths[k], seed) ? 0 : 1);
                if (pids[k] < 0)   /* no process to spare: run it here */
                    match[k] = test_file(sh, paths[k], seed);
            }
            for (int k = 0; k < batch; k++) {
                int status = 0;
                if (pids[k] > 0 && waitpid(pids[k], &status, 0) == pids[k])
                    match[k] = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            }
        }
        for (int k = 0; k < batch; k++)
            unlink(paths[k]);
        for (int k = 0; k < batch; k++)
            if (match[k])
                return start + k;
        if (sh->runs >= sh->max_runs)
            return -1;
    }
    return -1;
}

/* Try the candidates made by make(sh, cur, i, out) for i = 0..n-1, in
 * order, rendered in batches; adopt the first that fails the same way.
 * Returns its index, or -1. */
typedef bool (*make_fn)(const struct shrink *sh, const struct cand *cur, int i, void *ud, struct cand *out);

static int try_candidates(struct shrink *sh, struct cand *cur, int n, make_fn make, void *ud)
{
    int per_batch = sh->jobs;
    for (int start = 0; start < n && sh->runs < sh->max_runs; start += per_batch) {
        int batch = n - start < per_batch ? n - start : per_batch;
        struct cand *cs = sim_xcalloc((size_t)batch, sizeof *cs);
        char **texts = sim_xcalloc((size_t)batch, sizeof *texts);
        int *which = sim_xcalloc((size_t)batch, sizeof *which);
        int m = 0;
        for (int k = 0; k < batch; k++) {
            cand_copy(&cs[m], cur, &sh->rec);
            if (make(sh, cur, start + k, ud, &cs[m])) {
                texts[m] = render(sh, &cs[m], NULL);
                which[m++] = start + k;
            } else
                cand_free(&cs[m]);
        }
        int hit = m ? first_match(sh, texts, m, sh->seed) : -1;
        int found = -1;
        if (hit >= 0) {
            cand_free(cur);
            *cur = cs[hit];
            found = which[hit];
        }
        for (int k = 0; k < m; k++) {
            if (k != hit)
                cand_free(&cs[k]);
            sim_free(texts[k]);
        }
        sim_free(cs);
        sim_free(texts);
        sim_free(which);
        if (found >= 0)
            return found;
    }
    return -1;
}

/* ---- delta debugging ---------------------------------------------------------------------------------- */

/* ddmin over one kind of item (faults or operations): the items still
 * kept are split into g chunks; removing a chunk that leaves the failure
 * in place is adopted (g shrinks by one), else the chunks get finer, down
 * to single items. */
struct dd {
    bool ops;          /* operations, else faults */
    int *items;        /* indices of the items kept */
    int n_items;
    int chunk;         /* items per chunk at this granularity */
};

static bool *dd_mask(struct cand *c, const struct dd *d)
{
    return d->ops ? c->op_on : c->fault_on;
}

static bool dd_make(const struct shrink *sh, const struct cand *cur, int i, void *ud, struct cand *out)
{
    (void)sh;
    (void)cur;
    const struct dd *d = ud;
    bool *mask = dd_mask(out, d);
    int lo = i * d->chunk, hi = lo + d->chunk < d->n_items ? lo + d->chunk : d->n_items;
    if (lo >= d->n_items)
        return false;
    for (int k = lo; k < hi; k++)
        mask[d->items[k]] = false;
    return true;
}

static void dd_collect(struct dd *d, const struct shrink *sh, struct cand *c)
{
    int total = d->ops ? sh->rec.n_ops : sh->rec.n_faults;
    bool *mask = dd_mask(c, d);
    d->n_items = 0;
    for (int i = 0; i < total; i++) {
        bool in_run = d->ops ? sh->rec.ops[i].t <= c->end : sh->rec.faults[i].t <= c->end;
        if (mask[i] && in_run)
            d->items[d->n_items++] = i;
        else
            mask[i] = false;   /* past the end it never happens anyway */
    }
}

static bool ddmin(struct shrink *sh, struct cand *cur, bool ops)
{
    int total = ops ? sh->rec.n_ops : sh->rec.n_faults;
    struct dd d = { .ops = ops, .items = sim_xcalloc((size_t)total + 1, sizeof(int)) };
    dd_collect(&d, sh, cur);
    bool changed = false;
    /* everything at once first: often the faults or most operations do not matter */
    if (d.n_items > 0) {
        d.chunk = d.n_items;
        if (try_candidates(sh, cur, 1, dd_make, &d) == 0) {
            changed = true;
            dd_collect(&d, sh, cur);
        }
    }
    int g = 2;
    while (d.n_items > 1 && sh->runs < sh->max_runs) {
        if (g > d.n_items)
            g = d.n_items;
        d.chunk = (d.n_items + g - 1) / g;
        int n_chunks = (d.n_items + d.chunk - 1) / d.chunk;
        if (try_candidates(sh, cur, n_chunks, dd_make, &d) >= 0) {
            changed = true;
            dd_collect(&d, sh, cur);
            g = g - 1 > 2 ? g - 1 : 2;
        } else if (d.chunk == 1) {
            break;
        } else {
            g *= 2;
        }
    }
    if (d.n_items == 1 && sh->runs < sh->max_runs) {
        d.chunk = 1;
        if (try_candidates(sh, cur, 1, dd_make, &d) == 0)
            changed = true;
    }
    sim_free(d.items);
    return changed;
}

/* A shorter run: ends tried between the last kept event and the current
 * end, the earliest first; the search narrows to 1 ms. */
struct ends {
    sim_time lo, hi;
    int n;
};

static sim_time end_at(const struct ends *e, int i)
{
    sim_time t = e->lo + (e->hi - e->lo) * (i + 1) / (e->n + 1);
    t = (t + 999999) / 1000000 * 1000000;   /* whole milliseconds read better */
    return t < e->hi ? t : e->hi;
}

static bool end_make(const struct shrink *sh, const struct cand *cur, int i, void *ud, struct cand *out)
{
    (void)sh;
    const struct ends *e = ud;
    out->end = end_at(e, i);
    return out->end < cur->end;
}

static bool shorten(struct shrink *sh, struct cand *cur)
{
    const struct recorded *r = &sh->rec;
    struct ends e = { .lo = 0, .hi = cur->end, .n = sh->jobs > 1 ? sh->jobs : 1 };
    for (int i = 0; i < r->n_ops; i++)
        if (cur->op_on[i] && r->ops[i].t <= cur->end && r->ops[i].t > e.lo)
            e.lo = r->ops[i].t;
    for (int i = 0; i < r->n_faults; i++)
        if (cur->fault_on[i] && r->faults[i].t <= cur->end && r->faults[i].t > e.lo)
            e.lo = r->faults[i].t;
    bool changed = false;
    while (e.hi - e.lo > 1000000 && sh->runs < sh->max_runs) {
        int hit = try_candidates(sh, cur, e.n, end_make, &e);
        if (hit >= 0) {
            changed = true;
            sim_time lo = hit > 0 ? end_at(&e, hit - 1) : e.lo;
            e.hi = cur->end;
            e.lo = lo;
        } else {
            e.lo = end_at(&e, e.n - 1);
        }
    }
    return changed;
}

/* Fewer clients: move every operation of one client to another of the
 * same workload (ops then wait for the client to be free). */
struct merge {
    int from;
    int *into;      /* candidates: the clients to move into */
    int n;
};

static bool merge_make(const struct shrink *sh, const struct cand *cur, int i, void *ud, struct cand *out)
{
    const struct merge *m = ud;
    for (int k = 0; k < sh->rec.n_ops; k++)
        if (cur->op_client[k] == m->from)
            out->op_client[k] = m->into[i];
    return true;
}

static bool fewer_clients(struct shrink *sh, struct cand *cur)
{
    const struct recorded *r = &sh->rec;
    bool changed = false;
    for (int w = 0; w < r->n_wls; w++) {
        const struct wl *wl = &r->wls[w];
        for (int from = wl->first + wl->count - 1; from > wl->first && sh->runs < sh->max_runs; from--) {
            bool used = false;
            for (int k = 0; k < r->n_ops; k++)
                used |= cur->op_on[k] && cur->op_client[k] == from;
            if (!used)
                continue;
            struct merge m = { .from = from, .into = sim_xcalloc((size_t)wl->count, sizeof(int)) };
            for (int to = wl->first; to < from; to++) {
                bool to_used = false;
                for (int k = 0; k < r->n_ops; k++)
                    to_used |= cur->op_on[k] && cur->op_client[k] == to;
                if (to_used)
                    m.into[m.n++] = to;
            }
            if (m.n && try_candidates(sh, cur, m.n, merge_make, &m) >= 0)
                changed = true;
            sim_free(m.into);
        }
    }
    return changed;
}

static bool node_make(const struct shrink *sh, const struct cand *cur, int i, void *ud, struct cand *out)
{
    (void)sh;
    (void)i;
    (void)ud;
    out->n_nodes = cur->n_nodes - 1;
    return out->n_nodes >= 1;
}

/* Fewer nodes, from the last: a model or parameter set that cannot run on
 * fewer refuses at cluster{}, and that candidate simply does not fail. */
static bool fewer_nodes(struct shrink *sh, struct cand *cur)
{
    bool changed = false;
    while (cur->n_nodes > 1 && sh->runs < sh->max_runs && try_candidates(sh, cur, 1, node_make, NULL) == 0)
        changed = true;
    return changed;
}

/* ---- sim shrink ---------------------------------------------------------------------------------------- */

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void say(const struct shrink *sh, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const struct shrink *sh, const char *fmt, ...)
{
    if (sh->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

static void sizes_text(const struct sizes *s, char *out, size_t n)
{
    snprintf(out, n, "%d fault%s, %d operation%s, %.3f s of virtual time, %d client%s, %d node%s", s->faults,
             s->faults == 1 ? "" : "s", s->ops, s->ops == 1 ? "" : "s", (double)s->end / 1e9, s->clients,
             s->clients == 1 ? "" : "s", s->nodes, s->nodes == 1 ? "" : "s");
}

static bool need_value(int argc, char **argv, int i)
{
    if (i + 1 >= argc) {
        cli_error("shrink: %s needs a value (see sim shrink --help)", argv[i]);
        return false;
    }
    return true;
}

/* Record the failing run into path; fills the target. */
static int record(struct shrink *sh, const char *path, char *err, size_t errlen)
{
    static struct lsim_result res;
    char e[512];
    trace *tr = trace_open(path, e, sizeof e);
    if (!tr) {
        snprintf(err, errlen, "%s", e);
        return SIM_EXIT_IO;
    }
    int rc = sweep_judge(&sh->rq, tr, path, &res);
    if (trace_close(tr) < 0 && rc != SIM_EXIT_IO) {
        snprintf(err, errlen, "cannot write the trace %s: %s", path, strerror(errno));
        return SIM_EXIT_IO;
    }
    if (rc != SIM_EXIT_OK && rc != SIM_EXIT_FAILED && !(rc == SIM_EXIT_SCENARIO && strstr(res.error, "never settles"))) {
        snprintf(err, errlen, "%s", res.error);
        return rc;
    }
    return choose_target(&sh->target, &res, rc, err, errlen);
}

int cmd_shrink(int argc, char **argv)
{
    if (cli_wants_help(&cli_shrink, argc, argv))
        return SIM_EXIT_OK;
    struct shrink sh = { .max_runs = 5000 };
    bool have_seed = false;
    const char *out_path = NULL;
    int rc = SIM_EXIT_USAGE;
    sh.rq.params = sim_xcalloc((size_t)argc, sizeof *sh.rq.params);
    struct cand cur = { 0 };
    bool have_cand = false;
    char trace_path[600] = "";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (strcmp(a, "--seed") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            if (!cli_parse_u64(argv[++i], &sh.rq.seed)) {
                cli_error("shrink: --seed needs a whole number from 0 to 18446744073709551615, got \"%s\"", argv[i]);
                goto out;
            }
            have_seed = true;
        } else if (strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            out_path = argv[++i];
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0 || strcmp(a, "--max-runs") == 0 ||
                   strcmp(a, "--max-events") == 0 || strcmp(a, "--budget") == 0 || strcmp(a, "--memory") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            if (!cli_parse_u64(argv[++i], &v) || v == 0) {
                cli_error("shrink: %s needs a whole number above 0, got \"%s\"", a, argv[i]);
                goto out;
            }
            if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0)
                sh.jobs = v > 64 ? 64 : (int)v;
            else if (strcmp(a, "--max-runs") == 0)
                sh.max_runs = v;
            else if (strcmp(a, "--max-events") == 0)
                sh.rq.max_events = v;
            else if (strcmp(a, "--budget") == 0)
                sh.rq.limits.instructions = v;
            else if (v > (1u << 20)) {
                cli_error("shrink: --memory is in MiB and at most 1048576, got %" PRIu64, v);
                goto out;
            } else
                sh.rq.limits.memory = (size_t)v << 20;
        } else if (strcmp(a, "--swarm") == 0) {
            sh.rq.swarm = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            sh.quiet = true;
        } else if (strcmp(a, "--param") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            char *kv = argv[++i];
            char *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                cli_error("shrink: --param needs NAME=VALUE, got \"%s\"", kv);
                goto out;
            }
            *eq = 0;
            sh.rq.params[sh.rq.n_params].name = kv;
            sh.rq.params[sh.rq.n_params].value = eq + 1;
            sh.rq.n_params++;
        } else if (a[0] == '-' && a[1] != 0) {
            cli_error("shrink: unknown option %s (see sim shrink --help)", a);
            goto out;
        } else if (!sh.scenario) {
            sh.scenario = a;
        } else {
            cli_error("shrink: one scenario at a time, got \"%s\" and \"%s\"", sh.scenario, a);
            goto out;
        }
    }
    if (!sh.scenario || !have_seed) {
        cli_error("shrink: usage: sim shrink SCENARIO --seed N [-o FILE] (see sim shrink --help)");
        goto out;
    }
    sh.rq.scenario = sh.scenario;
    sh.rq.quiet = true;
    sh.seed = sh.rq.seed;
    if (!sh.jobs) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        sh.jobs = cpus > 1 ? (int)(cpus < 64 ? cpus : 64) : 1;
    }
    char default_out[1024];
    if (!out_path) {
        const char *base = strrchr(sh.scenario, '/');
        base = base ? base + 1 : sh.scenario;
        size_t len = strlen(base);
        if (len > 4 && strcmp(base + len - 4, ".lua") == 0)
            len -= 4;
        snprintf(default_out, sizeof default_out, "minimal-%.*s-seed%" PRIu64 ".lua", (int)len, base, sh.rq.seed);
        out_path = default_out;
    }

    double t0 = wall_now();
    const char *dir = getenv("TMPDIR");
    snprintf(sh.tmpdir, sizeof sh.tmpdir, "%.480s/sim-shrink-XXXXXX", dir && *dir ? dir : "/tmp");
    if (!mkdtemp(sh.tmpdir)) {
        cli_error("shrink: cannot create a temporary directory in %s: %s", dir && *dir ? dir : "/tmp",
                  strerror(errno));
        rc = SIM_EXIT_IO;
        goto out;
    }
    snprintf(trace_path, sizeof trace_path, "%s/failing.jsonl", sh.tmpdir);
    char err[2048];
    say(&sh, "shrink: recording %s --seed %" PRIu64 "\n", sh.scenario, sh.rq.seed);
    rc = record(&sh, trace_path, err, sizeof err);
    if (rc == 0)
        rc = read_trace(&sh.rec, trace_path, err, sizeof err);
    /* a failed objective is kept as written, not as "slo = true" */
    if (rc == 0 && sh.target.expect && strcmp(sh.target.name, "slo") == 0 && sh.rec.slo[0])
        snprintf(sh.target.lua, sizeof sh.target.lua, "%s", sh.rec.slo);
    if (rc) {
        cli_error("shrink: %s", err);
        goto out;
    }
    say(&sh, "shrink: the failure to keep: %s\n", sh.target.why);

    cand_init(&cur, &sh.rec);
    have_cand = true;
    struct sizes before = cand_sizes(&sh, &cur);
    /* The recorded schedule made explicit must fail the same way first. The
     * seed's draws are spent differently once operations are scripted, so
     * when it does not, a few neighbouring seeds are tried. */
    char *full = render(&sh, &cur, NULL);
    bool reproduced = false;
    for (uint64_t k = 0; k < 20 && !reproduced; k++) {
        sh.seed = sh.rq.seed + k;
        reproduced = first_match(&sh, &full, 1, sh.seed) == 0;
    }
    sim_free(full);
    if (!reproduced) {
        cli_error("shrink: the recorded schedule, written out as a scenario, does not fail the same way "
                  "(%s) with seed %" PRIu64 " or the 19 after it: the failure depends on more than the faults and "
                  "operations (say, on the workload's own random draws)", sh.target.kind, sh.rq.seed);
        rc = SIM_EXIT_FAILED;
        goto out;
    }
    if (sh.seed != sh.rq.seed)
        say(&sh, "shrink: the explicit schedule fails with seed %" PRIu64 " (not %" PRIu64 "): shrinking with it\n",
            sh.seed, sh.rq.seed);

    char text[256];
    sizes_text(&before, text, sizeof text);
    say(&sh, "shrink: before: %s\n", text);
    /* A first cut of the end: what happens after the failure is settled is
     * noise, and removing it at once spares ddmin most of its candidates. */
    shorten(&sh, &cur);
    for (int round = 0; round < 4 && sh.runs < sh.max_runs; round++) {
        bool changed = false;
        changed |= ddmin(&sh, &cur, false);
        struct sizes s = cand_sizes(&sh, &cur);
        say(&sh, "shrink: round %d: faults %d, ", round + 1, s.faults);
        changed |= ddmin(&sh, &cur, true);
        s = cand_sizes(&sh, &cur);
        say(&sh, "operations %d, ", s.ops);
        changed |= shorten(&sh, &cur);
        say(&sh, "end %.3f s, ", (double)cur.end / 1e9);
        changed |= fewer_clients(&sh, &cur);
        s = cand_sizes(&sh, &cur);
        say(&sh, "clients %d, ", s.clients);
        changed |= fewer_nodes(&sh, &cur);
        say(&sh, "nodes %d (%" PRIu64 " runs so far)\n", cur.n_nodes, sh.runs);
        if (!changed)
            break;
    }
    double took = wall_now() - t0;
    struct sizes after = cand_sizes(&sh, &cur);

    char b1[256], b2[256];
    sizes_text(&before, b1, sizeof b1);
    sizes_text(&after, b2, sizeof b2);
    struct sb head = { 0 };
    sb_printf(&head, "-- A minimal failing scenario, written by sim shrink.\n--\n");
    sb_printf(&head, "-- From:   %s --seed %" PRIu64, sh.scenario, sh.rq.seed);
    for (int i = 0; i < sh.rq.n_params; i++)
        sb_printf(&head, " --param %s=%s", sh.rq.params[i].name, sh.rq.params[i].value);
    sb_printf(&head, "%s\n", sh.rq.swarm ? " --swarm" : "");
    sb_printf(&head, "-- Fails:  %s\n--          (%s)\n", sh.target.kind, sh.target.why);
    sb_printf(&head, "-- Before: %s\n-- After:  %s\n", b1, b2);
    sb_printf(&head, "-- Run:    sim run %s --seed %" PRIu64 "%s\n--\n", out_path, sh.seed, sh.rq.swarm ? " --swarm" : "");
    sb_printf(&head, "-- The faults and client operations below are the concrete ones of the\n"
                     "-- failing run, reduced by delta debugging while the failure stayed. The\n"
                     "-- only randomness left is drawn from the seed: network latencies and the\n"
                     "-- nodes' own draws (timeouts). Each client runs one operation at a time:\n"
                     "-- an operation whose client is busy at its `at` starts when it is free.\n\n");
    char *final = render(&sh, &cur, head.p);
    sim_free(head.p);
    /* the result is checked once more exactly as written */
    if (write_file(out_path, final) < 0) {
        cli_error("shrink: cannot write %s: %s", out_path, strerror(errno));
        sim_free(final);
        rc = SIM_EXIT_IO;
        goto out;
    }
    sim_free(final);
    if (!test_file(&sh, out_path, sh.seed)) {
        cli_error("shrink: internal error: %s does not fail the same way when run again", out_path);
        rc = SIM_EXIT_INTERNAL;
        goto out;
    }
    printf("shrink      %s --seed %" PRIu64 ": %s\n", sh.scenario, sh.rq.seed, sh.target.kind);
    printf("before      %s\n", b1);
    printf("after       %s\n", b2);
    printf("runs        %" PRIu64 " candidate runs in %.2f s%s\n", sh.runs, took,
           sh.runs >= sh.max_runs ? " (stopped at --max-runs: smaller may exist)" : "");
    printf("wrote       %s\n", out_path);
    printf("replay      sim run %s --seed %" PRIu64 "%s\n", out_path, sh.seed, sh.rq.swarm ? " --swarm" : "");
    rc = SIM_EXIT_OK;
out:
    if (have_cand)
        cand_free(&cur);
    recorded_free(&sh.rec);
    if (trace_path[0])
        unlink(trace_path);
    if (sh.tmpdir[0] && strstr(sh.tmpdir, "XXXXXX") == NULL)
        rmdir(sh.tmpdir);
    sim_free(sh.rq.params);
    return rc;
}
