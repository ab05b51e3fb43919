/* lock: a lock service with a TTL (like Redis's SET key value NX PX ttl and
 * a compare-and-delete release), workers that use it to guard writes to a
 * storage service, and fencing tokens.
 *
 * Roles (parameters server and storage; every other node is a worker):
 *   server   grants the one lock to one worker at a time, for ttl measured
 *            on the server's own clock; every grant carries a fencing token
 *            (1, 2, 3, ..., kept on disk so a restart never reuses one).
 *            Release is compare-and-delete: only the holder with the current
 *            token can delete the lock.
 *   storage  accepts the workers' writes. With fencing = true it remembers
 *            the highest token it has seen and rejects a write that carries
 *            a smaller one.
 *   worker   loops: acquire; on a grant, work for `work` (its own clock),
 *            write to the storage with its token, then release; a refused
 *            acquire is tried again after about `retry`. The worker believes
 *            it holds the lock until its own clock says ttl has passed since
 *            it sent the acquire, or until it releases. If its own clock says
 *            the lease is over while it is still working, it gives the job up
 *            without writing.
 *
 * The classic mistake is that belief: a worker that pauses (a GC pause) in
 * the middle of its work wakes up with its work timer due before its lease
 * timer and writes at once, after the server has given the lock to another
 * worker; a server clock running fast expires leases early in real time.
 * Either way two workers write as holders. Fencing tokens make the storage
 * the judge: the late write carries an older token and is rejected.
 *
 * Notes: "granted", "expired", "unlocked", "unlock_refused" (server),
 * "acquired", "released", "lease_over" (worker), "storage_write" (storage:
 * worker, token, value, accepted). The mutual_exclusion checker reads them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "model.h"
#include "store.h"

enum lock_msg_type {
    LOCK_ACQUIRE = 1,    /* worker -> server: SET lock me NX PX ttl */
    LOCK_GRANT,          /* server -> worker: ok (with token) or refused */
    LOCK_RELEASE,        /* worker -> server: delete the lock if it is still mine (token) */
    LOCK_WRITE,          /* worker -> storage: value, token */
    LOCK_WRITTEN,        /* storage -> worker: ok = accepted */
};

struct lock_msg {
    uint32_t type;
    int32_t ok;
    uint64_t req;        /* the worker's request number, echoed in replies */
    uint64_t token;
    int64_t value;
};

enum lock_role { ROLE_SERVER, ROLE_STORAGE, ROLE_WORKER };
enum worker_phase { W_IDLE, W_ACQUIRING, W_WORKING, W_WRITING };
enum lock_timer { T_START = 1, T_WORK, T_LEASE, T_STALL, T_EXPIRE };

struct lock_state {
    int self, n;
    enum lock_role role;
    int server, storage;
    sim_time ttl, work, retry, idle;
    bool fencing;

    /* server */
    int holder;                  /* worker node, -1 = free */
    uint64_t token;              /* the holder's token */
    sim_time expires_at;         /* server clock */
    uint64_t next_token;
    uint64_t grants, expiries;

    /* storage */
    uint64_t highest;            /* the highest token seen */
    int64_t value;
    bool has_value;
    uint64_t accepted, rejected;

    /* worker */
    enum worker_phase phase;
    uint64_t req;                /* bumped by every new acquire */
    uint64_t my_token;
    sim_time sent_at, until;     /* own clock */
    bool believes;
    uint64_t lease_timer;
    uint64_t stall_timer;        /* waiting for an answer; 0 = none */
    uint64_t jobs, writes, gave_up;
};

static const struct model_param lock_params[] = {
    { "server", PARAM_INT, "1", NULL, "the lock server's node number (1 = n1)" },
    { "storage", PARAM_INT, "2", NULL, "the storage service's node number; every other node is a worker" },
    { "ttl", PARAM_TIME, "100ms", NULL, "how long a grant lasts, on the server's clock (PX ttl)" },
    { "work", PARAM_TIME, "30ms", NULL, "how long a worker works (its own clock) before it writes" },
    { "retry", PARAM_TIME, "10ms", NULL, "a refused worker asks again after 0.5 to 1.5 times this" },
    { "idle", PARAM_TIME, "20ms", NULL, "a worker rests this long after a release before the next acquire" },
    { "fencing", PARAM_BOOL, "false", NULL,
      "the storage rejects a write whose token is below the highest it has seen" },
    { NULL, 0, NULL, NULL, NULL },
};

/* ---- helpers ------------------------------------------------------------------ */

static void lock_send(node_ctx *ctx, int to, uint32_t type, int ok, uint64_t req, uint64_t token, int64_t value)
{
    struct lock_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.ok = ok;
    m.req = req;
    m.token = token;
    m.value = value;
    node_send(ctx, to, &m, sizeof m);
}

static uint64_t lock_tag(enum lock_timer kind, uint64_t req)
{
    return (req << 4) | (uint64_t)kind;
}

/* ---- the lock server ------------------------------------------------------------- */

static void server_expire(struct lock_state *s, node_ctx *ctx)
{
    jw *j = node_note_begin(ctx, "expired");
    if (j) {
        jw_kstr(j, "worker", node_name(ctx, s->holder));
        jw_kint(j, "token", (int64_t)s->token);
        node_note_end(ctx);
    }
    s->holder = -1;
    s->expiries++;
}

static void server_on_acquire(struct lock_state *s, node_ctx *ctx, int from, const struct lock_msg *m)
{
    /* Redis forgets an expired key when it is next touched (or by its sweep,
     * the T_EXPIRE timer here); a clock that jumped is seen here */
    if (s->holder >= 0 && node_clock(ctx) >= s->expires_at)
        server_expire(s, ctx);
    if (s->holder >= 0) {
        lock_send(ctx, from, LOCK_GRANT, 0, m->req, 0, 0);
        return;
    }
    s->holder = from;
    s->token = s->next_token++;
    node_store_put(ctx, "next_token", &s->next_token, sizeof s->next_token);
    node_store_sync(ctx);
    s->expires_at = node_clock(ctx) + s->ttl;
    s->grants++;
    node_timer_set(ctx, s->ttl, lock_tag(T_EXPIRE, s->token));
    jw *j = node_note_begin(ctx, "granted");
    if (j) {
        jw_kstr(j, "worker", node_name(ctx, from));
        jw_kint(j, "token", (int64_t)s->token);
        jw_kint(j, "ttl", s->ttl);
        node_note_end(ctx);
    }
    lock_send(ctx, from, LOCK_GRANT, 1, m->req, s->token, 0);
}

static void server_on_release(struct lock_state *s, node_ctx *ctx, int from, const struct lock_msg *m)
{
    bool mine = s->holder == from && s->token == m->token;
    jw *j = node_note_begin(ctx, mine ? "unlocked" : "unlock_refused");
    if (j) {
        jw_kstr(j, "worker", node_name(ctx, from));
        jw_kint(j, "token", (int64_t)m->token);
        if (!mine && s->holder >= 0)
            jw_kstr(j, "holder", node_name(ctx, s->holder));
        node_note_end(ctx);
    }
    if (mine)
        s->holder = -1;
}

/* ---- the storage service ----------------------------------------------------------- */

static void storage_on_write(struct lock_state *s, node_ctx *ctx, int from, const struct lock_msg *m)
{
    bool ok = !s->fencing || m->token >= s->highest;
    if (ok) {
        s->value = m->value;
        s->has_value = true;
        s->accepted++;
        if (m->token > s->highest)
            s->highest = m->token;
    } else
        s->rejected++;
    jw *j = node_note_begin(ctx, "storage_write");
    if (j) {
        jw_kstr(j, "worker", node_name(ctx, from));
        jw_kint(j, "token", (int64_t)m->token);
        jw_kint(j, "value", m->value);
        jw_kbool(j, "accepted", ok);
        jw_kint(j, "highest", (int64_t)s->highest);
        node_note_end(ctx);
    }
    lock_send(ctx, from, LOCK_WRITTEN, ok, m->req, m->token, 0);
}

/* ---- a worker ----------------------------------------------------------------------- */

/* Wait for an answer to what was just sent, at most ttl. */
static void worker_wait(struct lock_state *s, node_ctx *ctx)
{
    s->stall_timer = node_timer_set(ctx, s->ttl, lock_tag(T_STALL, s->req));
}

static void worker_answered(struct lock_state *s, node_ctx *ctx)
{
    if (s->stall_timer)
        node_timer_cancel(ctx, s->stall_timer);
    s->stall_timer = 0;
}

static void worker_rest(struct lock_state *s, node_ctx *ctx, sim_time after)
{
    worker_answered(s, ctx);
    s->phase = W_IDLE;
    s->req++;   /* late replies to the old request are ignored */
    node_timer_set(ctx, after, lock_tag(T_START, s->req));
}

static void worker_acquire(struct lock_state *s, node_ctx *ctx)
{
    s->phase = W_ACQUIRING;
    s->req++;
    s->sent_at = node_clock(ctx);
    lock_send(ctx, s->server, LOCK_ACQUIRE, 0, s->req, 0, s->ttl);
    worker_wait(s, ctx);
}

static void worker_stop_believing(struct lock_state *s, node_ctx *ctx, const char *what)
{
    if (!s->believes)
        return;
    s->believes = false;
    node_timer_cancel(ctx, s->lease_timer);
    jw *j = node_note_begin(ctx, what);
    if (j) {
        jw_kint(j, "token", (int64_t)s->my_token);
        node_note_end(ctx);
    }
}

static void worker_release(struct lock_state *s, node_ctx *ctx)
{
    lock_send(ctx, s->server, LOCK_RELEASE, 0, s->req, s->my_token, 0);
    worker_stop_believing(s, ctx, "released");
    worker_rest(s, ctx, s->idle);
}

static void worker_on_grant(struct lock_state *s, node_ctx *ctx, const struct lock_msg *m)
{
    if (s->phase != W_ACQUIRING || m->req != s->req)
        return;
    worker_answered(s, ctx);
    if (!m->ok) {
        sim_time r = s->retry / 2 + node_random_range(ctx, 0, s->retry);
        worker_rest(s, ctx, r);
        return;
    }
    s->phase = W_WORKING;
    s->my_token = m->token;
    s->until = s->sent_at + s->ttl;   /* counted from the send: the safe side */
    s->believes = true;
    s->jobs++;
    sim_time left = s->until - node_clock(ctx);
    s->lease_timer = node_timer_set(ctx, left > 0 ? left : 0, lock_tag(T_LEASE, s->req));
    node_timer_set(ctx, s->work, lock_tag(T_WORK, s->req));
    jw *j = node_note_begin(ctx, "acquired");
    if (j) {
        jw_kint(j, "token", (int64_t)m->token);
        jw_kint(j, "until", s->until);
        jw_kint(j, "clock", node_clock(ctx));
        node_note_end(ctx);
    }
}

static void worker_on_timer(struct lock_state *s, node_ctx *ctx, enum lock_timer kind, uint64_t req)
{
    if (req != s->req)
        return;
    switch (kind) {
    case T_START:
        if (s->phase == W_IDLE)
            worker_acquire(s, ctx);
        break;
    case T_WORK:
        if (s->phase != W_WORKING)
            break;
        /* the work is done: write with the token, trusting the belief */
        s->phase = W_WRITING;
        s->writes++;
        lock_send(ctx, s->storage, LOCK_WRITE, 0, s->req, s->my_token,
                  (int64_t)(s->self + 1) * 1000000 + (int64_t)s->writes);
        worker_wait(s, ctx);
        break;
    case T_LEASE:
        if (s->phase == W_WORKING) {
            /* our own clock says the lease is over before the work was done:
             * give the job up (a careful worker) */
            s->gave_up++;
            worker_stop_believing(s, ctx, "lease_over");
            worker_release(s, ctx);
        } else
            worker_stop_believing(s, ctx, "lease_over");
        break;
    case T_STALL:
        /* no answer (a lost message, a server down): start over */
        s->stall_timer = 0;
        if (s->phase == W_ACQUIRING || s->phase == W_WRITING) {
            if (s->believes)
                worker_release(s, ctx);
            else
                worker_rest(s, ctx, s->retry);
        }
        break;
    default:
        break;
    }
}

/* ---- callbacks ------------------------------------------------------------------------- */

static void *lock_init(node_ctx *ctx)
{
    const params *p = node_params(ctx);
    struct lock_state *s = sim_xcalloc(1, sizeof *s);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    s->server = (int)params_int(p, "server") - 1;
    s->storage = (int)params_int(p, "storage") - 1;
    s->ttl = params_time(p, "ttl");
    s->work = params_time(p, "work");
    s->retry = params_time(p, "retry");
    s->idle = params_time(p, "idle");
    s->fencing = params_bool(p, "fencing");
    s->holder = -1;
    s->next_token = 1;
    if (s->self == s->server) {
        s->role = ROLE_SERVER;
        size_t len;
        const void *v = node_store_get(ctx, "next_token", &len);
        if (v && len == sizeof s->next_token)
            memcpy(&s->next_token, v, sizeof s->next_token);
        node_set_role(ctx, "lock_server", 0);
    } else if (s->self == s->storage) {
        s->role = ROLE_STORAGE;
        node_set_role(ctx, "storage", 0);
    } else {
        s->role = ROLE_WORKER;
        node_set_role(ctx, "worker", 0);
        /* the workers start one after another, half a retry apart, so the
         * first worker (n3 by default) is always the first holder and a
         * scenario can pause it in the middle of its first job */
        int index = 0;
        for (int i = 0; i < s->self; i++)
            index += i != s->server && i != s->storage;
        s->phase = W_IDLE;
        node_timer_set(ctx, 1 + (sim_time)index * (s->retry / 2), lock_tag(T_START, s->req));
    }
    return s;
}

static void lock_destroy(void *state)
{
    sim_free(state);
}

static void lock_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct lock_state *s = state;
    struct lock_msg m;
    if (len != sizeof m || from < 0 || from >= s->n || from == s->self)
        return;
    memcpy(&m, msg, sizeof m);
    bool from_worker = from != s->server && from != s->storage;
    if (s->role == ROLE_SERVER && from_worker) {
        if (m.type == LOCK_ACQUIRE)
            server_on_acquire(s, ctx, from, &m);
        else if (m.type == LOCK_RELEASE)
            server_on_release(s, ctx, from, &m);
    } else if (s->role == ROLE_STORAGE && from_worker) {
        if (m.type == LOCK_WRITE)
            storage_on_write(s, ctx, from, &m);
    } else if (s->role == ROLE_WORKER) {
        if (m.type == LOCK_GRANT && from == s->server)
            worker_on_grant(s, ctx, &m);
        else if (m.type == LOCK_WRITTEN && from == s->storage && s->phase == W_WRITING && m.req == s->req)
            worker_release(s, ctx);
    }
}

static void lock_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct lock_state *s = state;
    enum lock_timer kind = (enum lock_timer)(tag & 15);
    uint64_t req = tag >> 4;
    if (s->role == ROLE_WORKER) {
        worker_on_timer(s, ctx, kind, req);
        return;
    }
    /* the server's sweep of an expired lock (req is the token here) */
    if (s->role == ROLE_SERVER && kind == T_EXPIRE && s->holder >= 0 && s->token == req) {
        sim_time now = node_clock(ctx);
        if (now >= s->expires_at)
            server_expire(s, ctx);
        else
            node_timer_set(ctx, s->expires_at - now, tag);
    }
}

/* A client read asks the storage what it holds; the workers write. */
static void lock_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct lock_state *s = state;
    if (op->type != OP_READ) {
        node_reply_fail(ctx, op, "clients only read the storage here: the workers write");
        return;
    }
    if (s->role != ROLE_STORAGE) {
        node_reply_redirect(ctx, op, s->storage, "ask the storage service");
        return;
    }
    node_reply_ok(ctx, op, s->has_value, s->value);
}

static void lock_describe_msg(const void *msg, size_t len, jw *out)
{
    static const char *const names[] = { "?", "acquire", "grant", "release", "write", "written" };
    struct lock_msg m;
    if (len != sizeof m) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&m, msg, sizeof m);
    jw_kstr(out, "type", m.type < 6 ? names[m.type] : "?");
    if (m.type == LOCK_GRANT || m.type == LOCK_WRITTEN)
        jw_kbool(out, "ok", m.ok);
    if (m.token)
        jw_kint(out, "token", (int64_t)m.token);
    if (m.type == LOCK_WRITE)
        jw_kint(out, "value", m.value);
}

static void lock_describe(const void *state, jw *out)
{
    const struct lock_state *s = state;
    if (s->role == ROLE_SERVER) {
        jw_kstr(out, "role", "lock_server");
        jw_kint(out, "grants", (int64_t)s->grants);
        jw_kint(out, "expiries", (int64_t)s->expiries);
        jw_kint(out, "holder_token", s->holder >= 0 ? (int64_t)s->token : 0);
    } else if (s->role == ROLE_STORAGE) {
        jw_kstr(out, "role", "storage");
        jw_kint(out, "accepted", (int64_t)s->accepted);
        jw_kint(out, "rejected", (int64_t)s->rejected);
        jw_kint(out, "highest_token", (int64_t)s->highest);
    } else {
        jw_kstr(out, "role", "worker");
        jw_kint(out, "jobs", (int64_t)s->jobs);
        jw_kint(out, "writes", (int64_t)s->writes);
        jw_kint(out, "gave_up", (int64_t)s->gave_up);
    }
}

/* One lock server decides alone: it answers while it is up (no quorum), and
 * nothing is replicated (EL). */
static const char *lock_cap_class(const params *p)
{
    (void)p;
    return "PA/EL";
}

static int lock_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    int64_t server = params_int(p, "server"), storage = params_int(p, "storage");
    if (server < 1 || server > n_nodes || storage < 1 || storage > n_nodes) {
        snprintf(err, errlen, "lock server and storage must be node numbers from 1 to %d, got %lld and %lld",
                 n_nodes, (long long)server, (long long)storage);
        return -1;
    }
    if (server == storage) {
        snprintf(err, errlen, "lock server and storage must be different nodes, both are n%lld",
                 (long long)server);
        return -1;
    }
    if (n_nodes < 4) {
        snprintf(err, errlen, "a lock needs at least 4 nodes (a server, a storage and two workers), got %d",
                 n_nodes);
        return -1;
    }
    if (params_time(p, "ttl") <= 0 || params_time(p, "work") <= 0 || params_time(p, "retry") <= 0) {
        snprintf(err, errlen, "lock ttl, work and retry must be above 0");
        return -1;
    }
    if (params_time(p, "ttl") > SIM_TIME_LIMIT / 4) {
        snprintf(err, errlen, "lock ttl is too long");
        return -1;
    }
    return 0;
}

const struct model lock_model = {
    .name = "lock",
    .summary = "a lock service with a TTL (SET NX PX, compare-and-delete) guarding writes; fencing tokens",
    .params = lock_params,
    .init = lock_init,
    .destroy = lock_destroy,
    .on_message = lock_on_message,
    .on_timer = lock_on_timer,
    .on_request = lock_on_request,
    .describe_msg = lock_describe_msg,
    .describe = lock_describe,
    .cap_class = lock_cap_class,
    .validate = lock_validate,
};
