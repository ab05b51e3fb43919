/* resilience: a frontend calling backend services, with the policies that
 * decide how it survives a slow one: timeouts, retries with backoff and
 * jitter (or without: a retry storm), a circuit breaker per dependency,
 * and bulkheads (a separate pool of call slots per dependency).
 *
 * Node n1 (index 0) is the frontend: clients send it their reads and
 * writes. Every other node is a backend dependency. A key names the backend
 * that serves it: a key equal to a backend's service name or node name goes
 * there; any other key goes to backend 1 + FNV-1a(key) mod (nodes - 1).
 *
 * A backend has `workers` workers; a request takes `service` (drawn within
 * +-service_jitter of it, times slow_factor while the backend is slow:
 * node slow_node between slow_from and slow_until on its clock). A request
 * that finds every worker busy waits in a FIFO queue of at most `queue`;
 * beyond that it is rejected at once. A backend serves whatever reaches it,
 * including attempts the frontend has already given up on: that wasted
 * work is what turns retries into a storm.
 *
 * The frontend takes a slot from a pool for each call (one shared pool of
 * `pool` slots, or with bulkhead = true one pool per dependency, the slots
 * split evenly); a call that finds its pool full waits in that pool's queue
 * (at most pool_queue, beyond: "pool_full"). With a slot, it sends attempts
 * to the dependency: each may time out (`timeout`), be rejected, or be
 * refused by the breaker ("circuit_open", no attempt sent, no retry). A
 * failed attempt is retried up to `retries` times after a delay from
 * `backoff` (none: at once) with `jitter`; a whole call fails with
 * "deadline" once `deadline` has passed since it arrived.
 *
 * A failed write whose attempt timed out may still have been applied by the
 * backend, so the frontend answers it "unknown" (node_reply_unknown: the
 * client records info at once); every other failure is a definite `fail`.
 *
 * Notes (docs/models/resilience.md): "served" (a service finished one
 * request: the frontend per client call, a backend per attempt), "load"
 * (busy workers or slots, capacity, queue) and "breaker" (a breaker's state
 * changed). The frontend's role shows which breakers are not closed; a
 * backend's role is "slow" while it is slowed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "model.h"
#include "resilience.h"
#include "store.h"

#define RESIL_FRONTEND 0
#define RESIL_NAME_MAX 32       /* a service name, with its NUL */
#define RESIL_ROLE_MAX 64

/* ---- the pure pieces (declared in resilience.h) --------------------------- */

/* floor((span + 1) * random / 2^32): a draw from [0, span] without 128-bit
 * arithmetic (span < 2^62). */
static sim_time scale_draw(sim_time span, uint32_t random)
{
    uint64_t n = (uint64_t)span + 1;
    uint64_t hi = n >> 32, lo = n & 0xffffffffu;
    return (sim_time)(hi * random + ((lo * random) >> 32));
}

sim_time resil_backoff_delay(const struct resil_backoff_cfg *cfg, int retry, uint32_t random)
{
    if (cfg->kind == RESIL_BACKOFF_NONE)
        return 0;
    sim_time d = cfg->base < 0 ? 0 : cfg->base;
    sim_time cap = cfg->cap < 0 ? 0 : cfg->cap;
    for (int i = 1; i < retry && d < cap; i++)
        d = d > cap / 2 ? cap : d * 2;
    if (d > cap)
        d = cap;
    switch (cfg->jitter) {
    case RESIL_JITTER_FULL:
        return scale_draw(d, random);
    case RESIL_JITTER_EQUAL:
        return d / 2 + scale_draw(d - d / 2, random);
    case RESIL_JITTER_NONE:
    default:
        return d;
    }
}

const char *resil_breaker_state_name(enum resil_breaker_state s)
{
    return s == RESIL_OPEN ? "open" : s == RESIL_HALF_OPEN ? "half_open" : "closed";
}

static void breaker_enter(struct resil_breaker *b, enum resil_breaker_state s, sim_time now)
{
    b->state = s;
    b->gen++;
    b->failures = 0;
    b->probes_sent = 0;
    b->probes_ok = 0;
    if (s == RESIL_OPEN)
        b->opened_at = now;
}

bool resil_breaker_tick(struct resil_breaker *b, const struct resil_breaker_cfg *cfg, sim_time now)
{
    if (b->state != RESIL_OPEN || now - b->opened_at < cfg->open_for)
        return false;
    breaker_enter(b, RESIL_HALF_OPEN, now);
    return true;
}

bool resil_breaker_allow(struct resil_breaker *b, const struct resil_breaker_cfg *cfg, sim_time now,
                         uint64_t *gen)
{
    resil_breaker_tick(b, cfg, now);
    if (b->state == RESIL_OPEN)
        return false;
    if (b->state == RESIL_HALF_OPEN) {
        if (b->probes_sent >= cfg->half_open_probes)
            return false;
        b->probes_sent++;
    }
    *gen = b->gen;
    return true;
}

bool resil_breaker_record(struct resil_breaker *b, const struct resil_breaker_cfg *cfg, sim_time now,
                          uint64_t gen, bool ok)
{
    if (gen != b->gen || b->state == RESIL_OPEN)
        return false;
    if (b->state == RESIL_CLOSED) {
        if (ok) {
            b->failures = 0;
            return false;
        }
        if (++b->failures < cfg->failure_threshold)
            return false;
        breaker_enter(b, RESIL_OPEN, now);
        return true;
    }
    /* half-open: one failed probe is enough to open again */
    if (!ok) {
        breaker_enter(b, RESIL_OPEN, now);
        return true;
    }
    if (++b->probes_ok < cfg->half_open_probes)
        return false;
    breaker_enter(b, RESIL_CLOSED, now);
    return true;
}

int resil_pool_count(bool bulkhead, int n_deps)
{
    return bulkhead && n_deps > 0 ? n_deps : 1;
}

int resil_pool_of(bool bulkhead, int dep)
{
    return bulkhead ? dep : 0;
}

int resil_pool_capacity(bool bulkhead, int n_deps, int total, int i)
{
    int pools = resil_pool_count(bulkhead, n_deps);
    if (i < 0 || i >= pools)
        return 0;
    return total / pools + (i < total % pools ? 1 : 0);
}

bool resil_pool_acquire(struct resil_pool *p)
{
    if (p->busy >= p->capacity)
        return false;
    p->busy++;
    return true;
}

bool resil_pool_release(struct resil_pool *p)
{
    if (p->busy <= 0)
        return false;
    p->busy--;
    return true;
}

void resil_budget_init(struct resil_budget *b)
{
    b->milli = (int64_t)RESIL_BUDGET_MAX * 1000;
}

void resil_budget_deposit(struct resil_budget *b, int64_t ratio_milli)
{
    int64_t max = (int64_t)RESIL_BUDGET_MAX * 1000;
    if (ratio_milli > 0)
        b->milli = b->milli > max - ratio_milli ? max : b->milli + ratio_milli;
}

bool resil_budget_withdraw(struct resil_budget *b)
{
    if (b->milli < 1000)
        return false;
    b->milli -= 1000;
    return true;
}

/* ---- wire format ---------------------------------------------------------- */

enum resil_msg_type {
    RESIL_MSG_CALL = 1,     /* frontend -> backend: one attempt of a call */
    RESIL_MSG_ANSWER,       /* backend -> frontend: served (ok) or rejected */
};

/* Why a request failed (the "error" of a served note). */
enum resil_err {
    RESIL_OK,
    RESIL_ERR_TIMEOUT,      /* the frontend stopped waiting for an attempt */
    RESIL_ERR_REJECTED,     /* the backend's queue was full */
    RESIL_ERR_CIRCUIT_OPEN, /* the breaker refused the attempt */
    RESIL_ERR_POOL_FULL,    /* no slot and no room in the pool's queue */
    RESIL_ERR_DEADLINE,     /* the call ran out of time */
    RESIL_ERR__COUNT,
};

static const char *const resil_err_names[] = {
    "ok", "timeout", "rejected", "circuit_open", "pool_full", "deadline",
};

struct resil_msg {
    uint32_t type;
    int32_t attempt;        /* 1 for the first */
    uint64_t call;          /* the frontend's call id */
    int32_t op;             /* OP_READ or OP_WRITE */
    int32_t error;          /* ANSWER: RESIL_OK or RESIL_ERR_REJECTED */
    int32_t has_value;      /* ANSWER to a read: the key was written */
    int32_t pad;
    int64_t value;          /* CALL write: the value; ANSWER read: the value */
    char key[KVMAP_KEY_MAX];
};

/* ---- configuration -------------------------------------------------------- */

static const struct model_param resil_params[] = {
    { "services", PARAM_STR, "", NULL,
      "service names of n1, n2, ... separated by commas (empty: the node names)" },
    { "workers", PARAM_INT, "4", NULL, "requests a backend serves at once" },
    { "queue", PARAM_INT, "100", NULL, "requests that may wait at a backend; beyond, rejected at once" },
    { "service", PARAM_TIME, "10ms", NULL, "how long a backend takes for one request" },
    { "service_jitter", PARAM_NUM, "0.2", NULL,
      "each service time is drawn within +-this fraction of service (0 to 0.9)" },
    { "slow_node", PARAM_INT, "0", NULL, "the backend that becomes slow (2 = n2; 0: none)" },
    { "slow_from", PARAM_TIME, "0", NULL, "when it becomes slow (its clock)" },
    { "slow_until", PARAM_TIME, "0", NULL, "when it is fast again" },
    { "slow_factor", PARAM_NUM, "10", NULL, "service times are this many times longer while slow (1 to 1000)" },
    { "timeout", PARAM_TIME, "50ms", NULL, "the frontend gives up on an attempt after this" },
    { "retries", PARAM_INT, "3", NULL, "attempts after the first that a call may make (0 to 20)" },
    { "backoff", PARAM_ENUM, "exponential", "none|exponential",
      "delay before a retry: none (at once: a retry storm) or exponential (base * 2^k, capped)" },
    { "backoff_base", PARAM_TIME, "25ms", NULL, "exponential: the delay before the first retry" },
    { "backoff_cap", PARAM_TIME, "1s", NULL, "exponential: the largest delay" },
    { "jitter", PARAM_ENUM, "full", "none|full|equal",
      "exponential: the delay d as is (none), drawn from [0, d] (full) or [d/2, d] (equal)" },
    { "retry_budget", PARAM_NUM, "0", NULL,
      "retries per first attempt a dependency may get, as a token bucket (e.g. 0.1; at most 10 banked); 0: no budget" },
    { "breaker", PARAM_BOOL, "false", NULL, "a circuit breaker per dependency at the frontend" },
    { "failure_threshold", PARAM_INT, "5", NULL, "consecutive failed attempts that open a breaker" },
    { "open_for", PARAM_TIME, "200ms", NULL, "an open breaker fails calls fast this long, then half-opens" },
    { "half_open_probes", PARAM_INT, "1", NULL,
      "trial attempts a half-open breaker lets through; all must succeed to close it" },
    { "bulkhead", PARAM_BOOL, "false", NULL,
      "a separate pool of frontend slots per dependency (false: one pool shared by all)" },
    { "pool", PARAM_INT, "64", NULL, "calls the frontend handles at once, split evenly among pools" },
    { "pool_queue", PARAM_INT, "0", NULL,
      "calls that may wait for a slot, per pool (0: a call finds a free slot or fails at once: pool_full)" },
    { "deadline", PARAM_TIME, "1s", NULL, "a call fails (\"deadline\") this long after it reached the frontend" },
    { NULL, 0, NULL, NULL, NULL },
};

struct resil_cfg {
    int n_nodes, n_deps;
    char (*names)[RESIL_NAME_MAX];   /* service name per node */
    int workers, queue;
    sim_time service;
    double service_jitter;
    int slow_node;                    /* node index, -1: none */
    sim_time slow_from, slow_until;
    double slow_factor;
    sim_time timeout, deadline;
    int retries;
    int64_t retry_budget;             /* thousandths of a token per first attempt; 0: no budget */
    struct resil_backoff_cfg backoff;
    bool breaker;
    struct resil_breaker_cfg bcfg;
    bool bulkhead;
    int pool, pool_queue;
};

/* Parse "a,b,c" into n names (out may be NULL: only check). An empty text
 * is fine (the node names are used). 0, or -1 with one sentence in err. */
static int parse_services(const char *text, int n, char (*out)[RESIL_NAME_MAX], char *err, size_t errlen)
{
    if (!text || !text[0])
        return 0;
    int count = 0;
    const char *p = text;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= RESIL_NAME_MAX) {
            snprintf(err, errlen, "services: each name must have 1 to %d characters, got \"%.*s\"",
                     RESIL_NAME_MAX - 1, (int)(len > 40 ? 40 : len), p);
            return -1;
        }
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)p[i] <= ' ' || p[i] == '"' || p[i] == '\\') {
                snprintf(err, errlen, "services: names may not hold spaces, quotes or backslashes");
                return -1;
            }
        if (count < n && out) {
            memcpy(out[count], p, len);
            out[count][len] = '\0';
        }
        count++;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (count != n) {
        snprintf(err, errlen, "services gives %d names for %d nodes: give one name per node", count, n);
        return -1;
    }
    return 0;
}

static enum resil_backoff backoff_kind(const params *p)
{
    return params_is(p, "backoff", "none") ? RESIL_BACKOFF_NONE : RESIL_BACKOFF_EXPONENTIAL;
}

static enum resil_jitter jitter_kind(const params *p)
{
    return params_is(p, "jitter", "none") ? RESIL_JITTER_NONE
         : params_is(p, "jitter", "equal") ? RESIL_JITTER_EQUAL : RESIL_JITTER_FULL;
}

static void cfg_load(struct resil_cfg *c, node_ctx *ctx)
{
    const params *p = node_params(ctx);
    char err[160];
    c->n_nodes = node_count(ctx);
    c->n_deps = c->n_nodes - 1;
    c->names = sim_xcalloc((size_t)c->n_nodes, sizeof *c->names);
    for (int i = 0; i < c->n_nodes; i++)
        snprintf(c->names[i], RESIL_NAME_MAX, "%s", node_name(ctx, i));
    if (parse_services(params_str(p, "services"), c->n_nodes, c->names, err, sizeof err) < 0)
        for (int i = 0; i < c->n_nodes; i++)   /* validate refused it already; stay sane */
            snprintf(c->names[i], RESIL_NAME_MAX, "%s", node_name(ctx, i));
    c->workers = (int)params_int(p, "workers");
    c->queue = (int)params_int(p, "queue");
    c->service = params_time(p, "service");
    c->service_jitter = params_num(p, "service_jitter");
    c->slow_node = (int)params_int(p, "slow_node") - 1;
    c->slow_from = params_time(p, "slow_from");
    c->slow_until = params_time(p, "slow_until");
    c->slow_factor = params_num(p, "slow_factor");
    c->timeout = params_time(p, "timeout");
    c->deadline = params_time(p, "deadline");
    c->retries = (int)params_int(p, "retries");
    c->retry_budget = (int64_t)(params_num(p, "retry_budget") * 1000.0 + 0.5);
    c->backoff.kind = backoff_kind(p);
    c->backoff.jitter = jitter_kind(p);
    c->backoff.base = params_time(p, "backoff_base");
    c->backoff.cap = params_time(p, "backoff_cap");
    c->breaker = params_bool(p, "breaker");
    c->bcfg.failure_threshold = (int)params_int(p, "failure_threshold");
    c->bcfg.open_for = params_time(p, "open_for");
    c->bcfg.half_open_probes = (int)params_int(p, "half_open_probes");
    c->bulkhead = params_bool(p, "bulkhead");
    c->pool = (int)params_int(p, "pool");
    c->pool_queue = (int)params_int(p, "pool_queue");
}

/* ---- state ---------------------------------------------------------------- */

enum resil_timer {
    T_ATTEMPT = 1,          /* frontend: an attempt's timeout (tag: call) */
    T_BACKOFF,              /* frontend: a retry's delay is over (tag: call) */
    T_DEADLINE,             /* frontend: a call's deadline (tag: call) */
    T_BREAKER,              /* frontend: an open breaker may half-open (tag: dependency) */
    T_SERVICE,              /* backend: a job is done (tag: job) */
    T_SLOW_ON,              /* backend: the slow period starts */
    T_SLOW_OFF,             /* backend: the slow period ends */
};

static uint64_t resil_tag(enum resil_timer kind, uint64_t id)
{
    return (id << 4) | (uint64_t)kind;
}

enum call_phase { CALL_QUEUED, CALL_ATTEMPT, CALL_BACKOFF };

/* One client operation in the frontend's hands. */
struct call {
    uint64_t id;
    struct sim_op op;       /* ctx and micro cleared: safe to keep */
    int dep;                /* 0-based dependency (node dep + 1) */
    int pool;
    enum call_phase phase;
    int attempts;           /* attempts sent so far */
    bool has_slot;
    bool maybe_applied;     /* a write attempt timed out: it may have taken effect */
    bool breaker_pending;   /* the current attempt's outcome is owed to the breaker */
    uint64_t breaker_gen;
    sim_time arrived;       /* frontend clock */
    sim_time deadline_at;
    uint64_t timer;         /* the attempt or backoff timer, 0 = none */
    uint64_t deadline_timer;
    enum resil_err last_error;
};

struct dep_stats {
    uint64_t calls, ok, failed, attempts, timeouts, rejected, fast_failed, pool_full, deadlines, late;
    uint64_t no_budget;     /* retries the budget refused */
};

struct pool_state {
    struct resil_pool slots;
    uint64_t *waiting;      /* call ids, FIFO */
    size_t n_waiting, cap_waiting;
};

/* A request at a backend, waiting or in service. */
struct job {
    uint64_t id;
    uint64_t call;
    int32_t attempt;
    int from;
    uint64_t req;           /* the client operation it serves, for the trace */
    sim_time arrived;       /* backend clock */
    int32_t op;
    int64_t value;
    char key[KVMAP_KEY_MAX];
    uint64_t timer;
};

struct resil_state {
    int self;
    struct resil_cfg cfg;

    /* frontend */
    struct call *calls;     /* sorted by id (ids only grow) */
    size_t n_calls, cap_calls;
    uint64_t next_call;
    struct pool_state *pools;
    int n_pools;
    struct resil_breaker *breakers;  /* per dependency */
    struct resil_budget *budgets;    /* per dependency (retry_budget > 0) */
    struct dep_stats *stats;         /* per dependency */

    /* backend */
    struct job *busy;       /* in service, at most workers */
    size_t n_busy, cap_busy;
    struct job *queue;      /* FIFO */
    size_t n_queue, cap_queue;
    uint64_t next_job;
    bool slow;
    struct kv_entry *kv;
    size_t n_kv, cap_kv;
    uint64_t served, rejected;

    /* the last load note, to write one only on a change */
    int64_t noted_busy, noted_queue;
};

/* ---- helpers ---------------------------------------------------------------- */

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211u;
    }
    return h;
}

/* The dependency (0-based) that serves key: see the top of the file. */
static int route(const struct resil_cfg *c, node_ctx *ctx, const char *key)
{
    for (int i = 1; i < c->n_nodes; i++)
        if (strcmp(key, c->names[i]) == 0 || strcmp(key, node_name(ctx, i)) == 0)
            return i - 1;
    return (int)(fnv1a(key) % (uint64_t)c->n_deps);
}

static bool key_ok(const char *key)
{
    return key && key[0] && strlen(key) < KVMAP_KEY_MAX;
}

/* Write a "load" note if busy or queue changed since the last one. */
static void note_load(struct resil_state *s, node_ctx *ctx)
{
    int64_t busy = 0, capacity = 0, queue = 0;
    if (s->self == RESIL_FRONTEND) {
        for (int i = 0; i < s->n_pools; i++) {
            busy += s->pools[i].slots.busy;
            capacity += s->pools[i].slots.capacity;
            queue += (int64_t)s->pools[i].n_waiting;
        }
    } else {
        busy = (int64_t)s->n_busy;
        capacity = s->cfg.workers;
        queue = (int64_t)s->n_queue;
    }
    if (busy == s->noted_busy && queue == s->noted_queue)
        return;
    s->noted_busy = busy;
    s->noted_queue = queue;
    jw *j = node_note_begin(ctx, "load");
    if (!j)
        return;
    jw_kstr(j, "service", s->cfg.names[s->self]);
    jw_kint(j, "busy", busy);
    jw_kint(j, "capacity", capacity);
    jw_kint(j, "queue", queue);
    if (s->self == RESIL_FRONTEND && s->cfg.bulkhead) {
        jw_key(j, "pools");
        jw_arr(j);
        for (int i = 0; i < s->n_pools; i++) {
            jw_obj(j);
            jw_kstr(j, "dependency", s->cfg.names[i + 1]);
            jw_kint(j, "busy", s->pools[i].slots.busy);
            jw_kint(j, "capacity", s->pools[i].slots.capacity);
            jw_kint(j, "queue", (int64_t)s->pools[i].n_waiting);
            jw_obj_end(j);
        }
        jw_arr_end(j);
    }
    node_note_end(ctx);
}

/* One "served" note; dep < 0 for a backend's own request. */
static void note_served(struct resil_state *s, node_ctx *ctx, enum resil_err err, sim_time latency,
                        int dep, int attempts)
{
    jw *j = node_note_begin(ctx, "served");
    if (!j)
        return;
    jw_kstr(j, "service", s->cfg.names[s->self]);
    jw_kbool(j, "ok", err == RESIL_OK);
    jw_kint(j, "latency", latency);
    if (err != RESIL_OK)
        jw_kstr(j, "error", resil_err_names[err]);
    if (dep >= 0) {
        jw_kstr(j, "dependency", s->cfg.names[dep + 1]);
        jw_kint(j, "attempts", attempts);
    }
    node_note_end(ctx);
}

/* ---- the frontend: breakers --------------------------------------------------- */

/* The frontend's role: "frontend", or each breaker that is not closed. */
static void frontend_role(struct resil_state *s, node_ctx *ctx)
{
    char role[RESIL_ROLE_MAX] = "";
    size_t len = 0;
    for (int d = 0; d < s->cfg.n_deps && s->cfg.breaker; d++) {
        if (s->breakers[d].state == RESIL_CLOSED)
            continue;
        int n = snprintf(role + len, sizeof role - len, "%s%s:%s", len ? "," : "", s->cfg.names[d + 1],
                         resil_breaker_state_name(s->breakers[d].state));
        if (n < 0 || (size_t)n >= sizeof role - len) {
            role[len] = '\0';
            break;
        }
        len += (size_t)n;
    }
    node_set_role(ctx, len ? role : "frontend", 0);
}

static void breaker_changed(struct resil_state *s, node_ctx *ctx, int dep)
{
    struct resil_breaker *b = &s->breakers[dep];
    jw *j = node_note_begin(ctx, "breaker");
    if (j) {
        jw_kstr(j, "dependency", s->cfg.names[dep + 1]);
        jw_kstr(j, "state", resil_breaker_state_name(b->state));
        node_note_end(ctx);
    }
    if (b->state == RESIL_OPEN) {
        /* the breaker's own timer: no client operation caused it */
        uint64_t saved = node_req(ctx);
        node_set_req(ctx, 0);
        node_timer_set(ctx, s->cfg.bcfg.open_for, resil_tag(T_BREAKER, (uint64_t)dep));
        node_set_req(ctx, saved);
    }
    frontend_role(s, ctx);
}

/* The outcome of call's current attempt, for its dependency's breaker. */
static void breaker_outcome(struct resil_state *s, node_ctx *ctx, struct call *c, bool ok)
{
    if (!c->breaker_pending)
        return;
    c->breaker_pending = false;
    if (resil_breaker_record(&s->breakers[c->dep], &s->cfg.bcfg, node_clock(ctx), c->breaker_gen, ok))
        breaker_changed(s, ctx, c->dep);
}

/* ---- the frontend: calls ------------------------------------------------------ */

static struct call *call_find(struct resil_state *s, uint64_t id)
{
    size_t lo = 0, hi = s->n_calls;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->calls[mid].id == id)
            return &s->calls[mid];
        if (s->calls[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void pool_unqueue(struct pool_state *p, uint64_t id)
{
    for (size_t i = 0; i < p->n_waiting; i++)
        if (p->waiting[i] == id) {
            memmove(&p->waiting[i], &p->waiting[i + 1], (p->n_waiting - i - 1) * sizeof *p->waiting);
            p->n_waiting--;
            return;
        }
}

/* End call c with err (RESIL_OK: answered ok with has_value/value): answer
 * the client, note it, give its slot back and forget it. c is invalid after. */
static void call_finish(struct resil_state *s, node_ctx *ctx, struct call *c, enum resil_err err,
                        bool has_value, int64_t value)
{
    uint64_t saved = node_req(ctx);
    node_set_req(ctx, c->op.id);
    if (c->timer)
        node_timer_cancel(ctx, c->timer);
    if (c->deadline_timer)
        node_timer_cancel(ctx, c->deadline_timer);
    struct dep_stats *st = &s->stats[c->dep];
    if (err == RESIL_OK)
        st->ok++;
    else
        st->failed++;
    if (err == RESIL_ERR_CIRCUIT_OPEN)
        st->fast_failed++;
    else if (err == RESIL_ERR_POOL_FULL)
        st->pool_full++;
    else if (err == RESIL_ERR_DEADLINE)
        st->deadlines++;
    note_served(s, ctx, err, node_clock(ctx) - c->arrived, c->dep, c->attempts);
    if (err == RESIL_OK)
        node_reply_ok(ctx, &c->op, has_value, value);
    else if (c->op.type == OP_WRITE && c->maybe_applied)
        node_reply_unknown(ctx, &c->op, resil_err_names[err]);   /* an attempt may have been applied */
    else
        node_reply_fail(ctx, &c->op, resil_err_names[err]);
    struct pool_state *p = &s->pools[c->pool];
    if (c->has_slot)
        resil_pool_release(&p->slots);
    else if (c->phase == CALL_QUEUED)
        pool_unqueue(p, c->id);
    size_t i = (size_t)(c - s->calls);
    memmove(&s->calls[i], &s->calls[i + 1], (s->n_calls - i - 1) * sizeof *s->calls);
    s->n_calls--;
    node_set_req(ctx, saved);
}

/* Send c's next attempt, unless its breaker refuses (then the call fails
 * fast). c may be invalid after. */
static void call_attempt(struct resil_state *s, node_ctx *ctx, struct call *c)
{
    if (s->cfg.breaker) {
        struct resil_breaker *b = &s->breakers[c->dep];
        enum resil_breaker_state before = b->state;
        bool allowed = resil_breaker_allow(b, &s->cfg.bcfg, node_clock(ctx), &c->breaker_gen);
        if (b->state != before)
            breaker_changed(s, ctx, c->dep);
        if (!allowed) {
            call_finish(s, ctx, c, RESIL_ERR_CIRCUIT_OPEN, false, 0);
            return;
        }
        c->breaker_pending = true;
    }
    if (c->attempts == 0 && s->cfg.retry_budget > 0)
        resil_budget_deposit(&s->budgets[c->dep], s->cfg.retry_budget);
    uint64_t saved = node_req(ctx);
    node_set_req(ctx, c->op.id);
    c->attempts++;
    c->phase = CALL_ATTEMPT;
    s->stats[c->dep].attempts++;
    struct resil_msg m;
    memset(&m, 0, sizeof m);
    m.type = RESIL_MSG_CALL;
    m.attempt = c->attempts;
    m.call = c->id;
    m.op = (int32_t)c->op.type;
    m.value = c->op.value;
    memcpy(m.key, c->op.key, strlen(c->op.key));
    node_send(ctx, c->dep + 1, &m, sizeof m);
    c->timer = node_timer_set(ctx, s->cfg.timeout, resil_tag(T_ATTEMPT, c->id));
    node_set_req(ctx, saved);
}

/* c's attempt failed with err: retry after the backoff, or end the call.
 * c may be invalid after. */
static void call_failed_attempt(struct resil_state *s, node_ctx *ctx, struct call *c, enum resil_err err)
{
    c->last_error = err;
    c->timer = 0;
    if (c->attempts > s->cfg.retries) {
        call_finish(s, ctx, c, err, false, 0);
        return;
    }
    if (s->cfg.retry_budget > 0 && !resil_budget_withdraw(&s->budgets[c->dep])) {
        s->stats[c->dep].no_budget++;   /* the budget is spent: the call ends with this attempt's error */
        call_finish(s, ctx, c, err, false, 0);
        return;
    }
    uint32_t r = s->cfg.backoff.jitter != RESIL_JITTER_NONE && s->cfg.backoff.kind != RESIL_BACKOFF_NONE
               ? node_random(ctx) : 0;
    sim_time delay = resil_backoff_delay(&s->cfg.backoff, c->attempts, r);
    if (node_clock(ctx) + delay >= c->deadline_at) {
        /* the retry would come after the deadline: do not hold the slot for it */
        call_finish(s, ctx, c, RESIL_ERR_DEADLINE, false, 0);
        return;
    }
    if (delay == 0) {
        call_attempt(s, ctx, c);
        return;
    }
    uint64_t saved = node_req(ctx);
    node_set_req(ctx, c->op.id);
    c->phase = CALL_BACKOFF;
    c->timer = node_timer_set(ctx, delay, resil_tag(T_BACKOFF, c->id));
    node_set_req(ctx, saved);
}

/* Give free slots to waiting calls, oldest first, in every pool. */
static void frontend_pump(struct resil_state *s, node_ctx *ctx)
{
    for (int i = 0; i < s->n_pools; i++) {
        struct pool_state *p = &s->pools[i];
        while (p->n_waiting > 0 && p->slots.busy < p->slots.capacity) {
            uint64_t id = p->waiting[0];
            memmove(&p->waiting[0], &p->waiting[1], (p->n_waiting - 1) * sizeof *p->waiting);
            p->n_waiting--;
            struct call *c = call_find(s, id);
            if (!c)
                continue;
            resil_pool_acquire(&p->slots);
            c->has_slot = true;
            call_attempt(s, ctx, c);
        }
    }
}

static void frontend_on_request(struct resil_state *s, node_ctx *ctx, const struct sim_op *op)
{
    if (!key_ok(op->key)) {
        node_reply_fail(ctx, op, "bad key");
        return;
    }
    if (op->type != OP_READ && op->type != OP_WRITE) {
        node_reply_fail(ctx, op, "the services take read and write only");
        return;
    }
    SIM_GROW(s->calls, s->cap_calls, s->n_calls + 1);
    struct call *c = &s->calls[s->n_calls++];
    memset(c, 0, sizeof *c);
    c->id = ++s->next_call;
    c->op = *op;
    c->op.ctx = NULL;
    c->op.ctx_len = 0;
    c->op.micro = NULL;
    c->op.n_micro = 0;
    c->dep = route(&s->cfg, ctx, op->key);
    c->pool = resil_pool_of(s->cfg.bulkhead, c->dep);
    c->arrived = node_clock(ctx);
    c->deadline_at = c->arrived + s->cfg.deadline;
    c->deadline_timer = node_timer_set(ctx, s->cfg.deadline, resil_tag(T_DEADLINE, c->id));
    s->stats[c->dep].calls++;
    struct pool_state *p = &s->pools[c->pool];
    if (resil_pool_acquire(&p->slots)) {
        c->has_slot = true;
        call_attempt(s, ctx, c);
    } else if (p->n_waiting < (size_t)s->cfg.pool_queue) {
        c->phase = CALL_QUEUED;
        SIM_GROW(p->waiting, p->cap_waiting, p->n_waiting + 1);
        p->waiting[p->n_waiting++] = c->id;
    } else {
        call_finish(s, ctx, c, RESIL_ERR_POOL_FULL, false, 0);
    }
}

static void frontend_on_answer(struct resil_state *s, node_ctx *ctx, int from, const struct resil_msg *m)
{
    struct call *c = call_find(s, m->call);
    if (!c || c->phase != CALL_ATTEMPT || m->attempt != c->attempts || from != c->dep + 1) {
        /* an attempt the frontend gave up on: the backend's work was wasted */
        if (from >= 1 && from < s->cfg.n_nodes)
            s->stats[from - 1].late++;
        return;
    }
    if (c->timer)
        node_timer_cancel(ctx, c->timer);
    c->timer = 0;
    if (m->error == RESIL_OK) {
        breaker_outcome(s, ctx, c, true);
        call_finish(s, ctx, c, RESIL_OK, m->has_value != 0, m->value);
        return;
    }
    s->stats[c->dep].rejected++;
    breaker_outcome(s, ctx, c, false);
    call_failed_attempt(s, ctx, c, RESIL_ERR_REJECTED);
}

static void frontend_on_timer(struct resil_state *s, node_ctx *ctx, enum resil_timer kind, uint64_t id)
{
    if (kind == T_BREAKER) {
        if (id < (uint64_t)s->cfg.n_deps && s->cfg.breaker
            && resil_breaker_tick(&s->breakers[id], &s->cfg.bcfg, node_clock(ctx)))
            breaker_changed(s, ctx, (int)id);
        return;
    }
    struct call *c = call_find(s, id);
    if (!c)
        return;
    if (kind == T_ATTEMPT && c->phase == CALL_ATTEMPT) {
        s->stats[c->dep].timeouts++;
        if (c->op.type == OP_WRITE)
            c->maybe_applied = true;
        breaker_outcome(s, ctx, c, false);
        call_failed_attempt(s, ctx, c, RESIL_ERR_TIMEOUT);
    } else if (kind == T_BACKOFF && c->phase == CALL_BACKOFF) {
        c->timer = 0;
        call_attempt(s, ctx, c);
    } else if (kind == T_DEADLINE) {
        c->deadline_timer = 0;
        if (c->phase == CALL_ATTEMPT) {
            if (c->op.type == OP_WRITE)
                c->maybe_applied = true;
            breaker_outcome(s, ctx, c, false);
        }
        call_finish(s, ctx, c, RESIL_ERR_DEADLINE, false, 0);
    }
}

/* ---- a backend ---------------------------------------------------------------- */

static void backend_answer(node_ctx *ctx, const struct job *j, enum resil_err err, bool has_value,
                           int64_t value)
{
    struct resil_msg m;
    memset(&m, 0, sizeof m);
    m.type = RESIL_MSG_ANSWER;
    m.attempt = j->attempt;
    m.call = j->call;
    m.op = j->op;
    m.error = (int32_t)err;
    m.has_value = has_value;
    m.value = value;
    memcpy(m.key, j->key, sizeof m.key);
    node_send(ctx, j->from, &m, sizeof m);
}

/* How long this job takes, drawn now: service +-jitter, times slow_factor
 * while the node is slow. */
static sim_time service_time(struct resil_state *s, node_ctx *ctx)
{
    const struct resil_cfg *c = &s->cfg;
    sim_time spread = (sim_time)((double)c->service * c->service_jitter);
    sim_time t = node_random_range(ctx, c->service - spread, c->service + spread);
    sim_time now = node_clock(ctx);
    if (s->self == c->slow_node && now >= c->slow_from && now < c->slow_until)
        t = (sim_time)((double)t * c->slow_factor);
    return t < 1 ? 1 : t;
}

static void backend_start(struct resil_state *s, node_ctx *ctx, const struct job *j)
{
    SIM_GROW(s->busy, s->cap_busy, s->n_busy + 1);
    struct job *b = &s->busy[s->n_busy++];
    *b = *j;
    uint64_t saved = node_req(ctx);
    node_set_req(ctx, b->req);
    b->timer = node_timer_set(ctx, service_time(s, ctx), resil_tag(T_SERVICE, b->id));
    node_set_req(ctx, saved);
}

static void backend_on_call(struct resil_state *s, node_ctx *ctx, int from, const struct resil_msg *m)
{
    struct job j;
    memset(&j, 0, sizeof j);
    j.id = ++s->next_job;
    j.call = m->call;
    j.attempt = m->attempt;
    j.from = from;
    j.req = node_req(ctx);
    j.arrived = node_clock(ctx);
    j.op = m->op;
    j.value = m->value;
    memcpy(j.key, m->key, sizeof j.key);
    if (s->n_busy < (size_t)s->cfg.workers) {
        backend_start(s, ctx, &j);
    } else if (s->n_queue < (size_t)s->cfg.queue) {
        SIM_GROW(s->queue, s->cap_queue, s->n_queue + 1);
        s->queue[s->n_queue++] = j;
    } else {
        s->rejected++;
        note_served(s, ctx, RESIL_ERR_REJECTED, 0, -1, 0);
        backend_answer(ctx, &j, RESIL_ERR_REJECTED, false, 0);
    }
}

static void backend_done(struct resil_state *s, node_ctx *ctx, uint64_t job_id)
{
    size_t i = 0;
    while (i < s->n_busy && s->busy[i].id != job_id)
        i++;
    if (i == s->n_busy)
        return;
    struct job j = s->busy[i];
    memmove(&s->busy[i], &s->busy[i + 1], (s->n_busy - i - 1) * sizeof *s->busy);
    s->n_busy--;
    bool has = false;
    int64_t value = 0;
    if (j.op == OP_WRITE) {
        kvmap_set(&s->kv, &s->n_kv, &s->cap_kv, j.key, j.value);
        char skey[KVMAP_KEY_MAX + 8];
        snprintf(skey, sizeof skey, "kv/%s", j.key);
        node_store_put(ctx, skey, &j.value, sizeof j.value);
        node_store_sync(ctx);
    } else {
        has = kvmap_get(s->kv, s->n_kv, j.key, &value);
    }
    s->served++;
    note_served(s, ctx, RESIL_OK, node_clock(ctx) - j.arrived, -1, 0);
    backend_answer(ctx, &j, RESIL_OK, has, value);
    while (s->n_busy < (size_t)s->cfg.workers && s->n_queue > 0) {
        struct job next = s->queue[0];
        memmove(&s->queue[0], &s->queue[1], (s->n_queue - 1) * sizeof *s->queue);
        s->n_queue--;
        backend_start(s, ctx, &next);
    }
}

static void backend_slow(struct resil_state *s, node_ctx *ctx, bool slow)
{
    s->slow = slow;
    node_set_role(ctx, slow ? "slow" : "backend", 0);
}

static int backend_scan(void *arg, const char *key, const void *val, size_t len)
{
    struct resil_state *s = arg;
    int64_t value;
    key += 3;   /* "kv/" */
    if (len != sizeof value || !key_ok(key))
        return 0;
    memcpy(&value, val, sizeof value);
    kvmap_set(&s->kv, &s->n_kv, &s->cap_kv, key, value);
    return 0;
}

/* ---- callbacks ---------------------------------------------------------------- */

/* Boot or restart. The frontend starts with every breaker closed and no
 * call; a backend with nothing queued and the values it had synced. */
static void *resil_init(node_ctx *ctx)
{
    struct resil_state *s = sim_xcalloc(1, sizeof *s);
    s->self = node_self(ctx);
    cfg_load(&s->cfg, ctx);
    s->noted_busy = -1;
    s->noted_queue = -1;
    if (s->self == RESIL_FRONTEND) {
        int deps = s->cfg.n_deps;
        s->n_pools = resil_pool_count(s->cfg.bulkhead, deps);
        s->pools = sim_xcalloc((size_t)s->n_pools, sizeof *s->pools);
        for (int i = 0; i < s->n_pools; i++)
            s->pools[i].slots.capacity = resil_pool_capacity(s->cfg.bulkhead, deps, s->cfg.pool, i);
        s->breakers = sim_xcalloc((size_t)(deps > 0 ? deps : 1), sizeof *s->breakers);
        s->budgets = sim_xcalloc((size_t)(deps > 0 ? deps : 1), sizeof *s->budgets);
        for (int d = 0; d < deps; d++)
            resil_budget_init(&s->budgets[d]);
        s->stats = sim_xcalloc((size_t)(deps > 0 ? deps : 1), sizeof *s->stats);
        node_set_role(ctx, "frontend", 0);
    } else {
        store_scan(node_store(ctx), "kv/", backend_scan, s);
        node_set_role(ctx, "backend", 0);
        if (s->self == s->cfg.slow_node && s->cfg.slow_until > s->cfg.slow_from) {
            sim_time now = node_clock(ctx);
            if (now >= s->cfg.slow_from && now < s->cfg.slow_until)
                backend_slow(s, ctx, true);
            else if (now < s->cfg.slow_from)
                node_timer_set(ctx, s->cfg.slow_from - now, resil_tag(T_SLOW_ON, 0));
            if (now < s->cfg.slow_until)
                node_timer_set(ctx, s->cfg.slow_until - now, resil_tag(T_SLOW_OFF, 0));
        }
    }
    note_load(s, ctx);
    return s;
}

static void resil_destroy(void *state)
{
    struct resil_state *s = state;
    if (!s)
        return;
    sim_free(s->cfg.names);
    sim_free(s->calls);
    for (int i = 0; i < s->n_pools; i++)
        sim_free(s->pools[i].waiting);
    sim_free(s->pools);
    sim_free(s->breakers);
    sim_free(s->budgets);
    sim_free(s->stats);
    sim_free(s->busy);
    sim_free(s->queue);
    sim_free(s->kv);
    sim_free(s);
}

static void resil_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct resil_state *s = state;
    struct resil_msg m;
    if (len != sizeof m || from < 0 || from >= node_count(ctx) || from == s->self)
        return;
    memcpy(&m, msg, sizeof m);
    if (!memchr(m.key, 0, sizeof m.key) || !key_ok(m.key) || (m.op != OP_READ && m.op != OP_WRITE))
        return;
    if (s->self == RESIL_FRONTEND && m.type == RESIL_MSG_ANSWER
        && m.error >= RESIL_OK && m.error < RESIL_ERR__COUNT) {
        frontend_on_answer(s, ctx, from, &m);
        frontend_pump(s, ctx);
    } else if (s->self != RESIL_FRONTEND && m.type == RESIL_MSG_CALL) {
        backend_on_call(s, ctx, from, &m);
    }
    note_load(s, ctx);
}

static void resil_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct resil_state *s = state;
    enum resil_timer kind = (enum resil_timer)(tag & 0xf);
    uint64_t id = tag >> 4;
    if (s->self == RESIL_FRONTEND) {
        frontend_on_timer(s, ctx, kind, id);
        frontend_pump(s, ctx);
    } else if (kind == T_SERVICE) {
        backend_done(s, ctx, id);
    } else if (kind == T_SLOW_ON || kind == T_SLOW_OFF) {
        backend_slow(s, ctx, kind == T_SLOW_ON);
    }
    note_load(s, ctx);
}

static void resil_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct resil_state *s = state;
    if (s->self != RESIL_FRONTEND) {
        node_reply_redirect(ctx, op, RESIL_FRONTEND, "the frontend (n1) takes client requests");
        return;
    }
    frontend_on_request(s, ctx, op);
    frontend_pump(s, ctx);
    note_load(s, ctx);
}

static void resil_describe_msg(const void *msg, size_t len, jw *out)
{
    struct resil_msg m;
    if (len != sizeof m) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&m, msg, sizeof m);
    jw_kstr(out, "type", m.type == RESIL_MSG_CALL ? "call" : m.type == RESIL_MSG_ANSWER ? "answer" : "?");
    jw_kint(out, "call", (int64_t)m.call);
    jw_kint(out, "attempt", m.attempt);
    if (!memchr(m.key, 0, sizeof m.key))
        return;
    jw_kstr(out, "op", m.op == OP_WRITE ? "write" : m.op == OP_READ ? "read" : "?");
    jw_kstr(out, "key", m.key);
    if (m.type == RESIL_MSG_CALL && m.op == OP_WRITE)
        jw_kint(out, "value", m.value);
    if (m.type == RESIL_MSG_ANSWER) {
        jw_kstr(out, "result", m.error >= RESIL_OK && m.error < RESIL_ERR__COUNT ? resil_err_names[m.error] : "?");
        if (m.op == OP_READ && m.error == RESIL_OK) {
            jw_key(out, "value");
            if (m.has_value)
                jw_int(out, m.value);
            else
                jw_null(out);
        }
    }
}

/* The frontend: totals per dependency and each breaker's state (attempts /
 * calls is the amplification); a backend: what it served and rejected, and
 * its values (as "values": the backends are not replicas of each other). */
static void resil_describe(const void *state, jw *out)
{
    const struct resil_state *s = state;
    jw_kstr(out, "service", s->cfg.names[s->self]);
    if (s->self == RESIL_FRONTEND) {
        jw_kstr(out, "role", "frontend");
        jw_kint(out, "in_flight", (int64_t)s->n_calls);
        jw_key(out, "dependencies");
        jw_obj(out);
        for (int d = 0; d < s->cfg.n_deps; d++) {
            const struct dep_stats *st = &s->stats[d];
            jw_key(out, s->cfg.names[d + 1]);
            jw_obj(out);
            jw_kint(out, "calls", (int64_t)st->calls);
            jw_kint(out, "ok", (int64_t)st->ok);
            jw_kint(out, "failed", (int64_t)st->failed);
            jw_kint(out, "attempts", (int64_t)st->attempts);
            jw_kint(out, "timeouts", (int64_t)st->timeouts);
            jw_kint(out, "rejected", (int64_t)st->rejected);
            jw_kint(out, "circuit_open", (int64_t)st->fast_failed);
            jw_kint(out, "pool_full", (int64_t)st->pool_full);
            jw_kint(out, "deadline", (int64_t)st->deadlines);
            jw_kint(out, "late_answers", (int64_t)st->late);
            if (s->cfg.retry_budget > 0)
                jw_kint(out, "retries_refused_by_budget", (int64_t)st->no_budget);
            if (s->cfg.breaker)
                jw_kstr(out, "breaker", resil_breaker_state_name(s->breakers[d].state));
            jw_obj_end(out);
        }
        jw_obj_end(out);
        return;
    }
    jw_kstr(out, "role", s->slow ? "slow" : "backend");
    jw_kint(out, "served", (int64_t)s->served);
    jw_kint(out, "rejected", (int64_t)s->rejected);
    jw_kint(out, "busy", (int64_t)s->n_busy);
    jw_kint(out, "queue", (int64_t)s->n_queue);
    jw_key(out, "values");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++)
        jw_kint(out, s->kv[i].key, s->kv[i].value);
    jw_obj_end(out);
}

/* The pools and queues never hold more than they may. */
static int resil_check(const struct model_view *view, char *why, size_t whylen)
{
    for (int i = 0; i < view->n_nodes; i++) {
        const struct resil_state *s = view->states[i];
        if (!s)
            continue;
        for (int k = 0; k < s->n_pools; k++)
            if (s->pools[k].slots.busy < 0 || s->pools[k].slots.busy > s->pools[k].slots.capacity) {
                snprintf(why, whylen, "pool accounting: pool %d of n%d has %d busy slots of %d", k + 1, i + 1,
                         s->pools[k].slots.busy, s->pools[k].slots.capacity);
                return -1;
            }
        if (s->self != RESIL_FRONTEND
            && (s->n_busy > (size_t)s->cfg.workers || s->n_queue > (size_t)s->cfg.queue)) {
            snprintf(why, whylen, "backend n%d holds %zu in service and %zu queued (workers %d, queue %d)",
                     i + 1, s->n_busy, s->n_queue, s->cfg.workers, s->cfg.queue);
            return -1;
        }
    }
    return 0;
}

static int resil_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    if (n_nodes < 2) {
        snprintf(err, errlen, "the resilience model needs at least 2 nodes (a frontend and a backend), got %d",
                 n_nodes);
        return -1;
    }
    if (parse_services(params_str(p, "services"), n_nodes, NULL, err, errlen) < 0)
        return -1;
    int64_t workers = params_int(p, "workers"), queue = params_int(p, "queue");
    if (workers < 1 || workers > 100000 || queue < 0 || queue > 1000000) {
        snprintf(err, errlen, "workers must be 1 to 100000 and queue 0 to 1000000, got %lld and %lld",
                 (long long)workers, (long long)queue);
        return -1;
    }
    sim_time service = params_time(p, "service");
    double jitter = params_num(p, "service_jitter");
    if (service < 1 || service > 60 * SIM_S || !(jitter >= 0 && jitter <= 0.9)) {
        snprintf(err, errlen, "service must be above 0 and at most 60s, service_jitter from 0 to 0.9");
        return -1;
    }
    int64_t slow = params_int(p, "slow_node");
    double factor = params_num(p, "slow_factor");
    if (slow != 0 && (slow < 2 || slow > n_nodes)) {
        snprintf(err, errlen, "slow_node must be a backend, 2 to %d (0: none), got %lld", n_nodes, (long long)slow);
        return -1;
    }
    if (!(factor >= 1 && factor <= 1000)) {
        snprintf(err, errlen, "slow_factor must be from 1 to 1000");
        return -1;
    }
    if (params_time(p, "slow_until") < params_time(p, "slow_from")) {
        snprintf(err, errlen, "slow_until must not be before slow_from");
        return -1;
    }
    static const char *const times[] = { "timeout", "deadline", "open_for", "backoff_base", "backoff_cap",
                                         "slow_from", "slow_until" };
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        if (params_time(p, times[i]) > SIM_TIME_LIMIT) {
            snprintf(err, errlen, "%s must be at most 2^53 ns (about 104 days)", times[i]);
            return -1;
        }
    if (params_time(p, "timeout") < 1 || params_time(p, "deadline") < 1) {
        snprintf(err, errlen, "timeout and deadline must be above 0");
        return -1;
    }
    int64_t retries = params_int(p, "retries");
    if (retries < 0 || retries > 20) {
        snprintf(err, errlen, "retries must be 0 to 20, got %lld", (long long)retries);
        return -1;
    }
    double budget = params_num(p, "retry_budget");
    if (!(budget >= 0 && budget <= 10)) {
        snprintf(err, errlen, "retry_budget must be 0 (none) to 10 retries per first attempt, got %g", budget);
        return -1;
    }
    sim_time base = params_time(p, "backoff_base"), cap = params_time(p, "backoff_cap");
    if (!params_is(p, "backoff", "none") && (base < 1 || cap < base)) {
        snprintf(err, errlen, "backoff_base must be above 0 and backoff_cap at least backoff_base for exponential backoff");
        return -1;
    }
    int64_t threshold = params_int(p, "failure_threshold"), probes = params_int(p, "half_open_probes");
    if (threshold < 1 || threshold > 1000000 || probes < 1 || probes > 1000000 || params_time(p, "open_for") < 1) {
        snprintf(err, errlen, "failure_threshold and half_open_probes must be at least 1, open_for above 0");
        return -1;
    }
    int64_t pool = params_int(p, "pool"), pool_queue = params_int(p, "pool_queue");
    bool bulkhead = params_bool(p, "bulkhead");
    if (pool < 1 || pool > 1000000 || pool_queue < 0 || pool_queue > 1000000) {
        snprintf(err, errlen, "pool must be 1 to 1000000 and pool_queue 0 to 1000000, got %lld and %lld",
                 (long long)pool, (long long)pool_queue);
        return -1;
    }
    if (bulkhead && pool < n_nodes - 1) {
        snprintf(err, errlen, "with bulkhead = true, pool (%lld) must give each of the %d dependencies a slot",
                 (long long)pool, n_nodes - 1);
        return -1;
    }
    return 0;
}

const struct model resilience_model = {
    .name = "resilience",
    .summary = "a frontend (n1) calling backends (n2..): timeouts, retries with backoff and jitter, "
               "circuit breakers, bulkheads",
    .params = resil_params,
    .init = resil_init,
    .destroy = resil_destroy,
    .on_message = resil_on_message,
    .on_timer = resil_on_timer,
    .on_request = resil_on_request,
    .describe_msg = resil_describe_msg,
    .describe = resil_describe,
    .check = resil_check,
    .validate = resil_validate,
};
