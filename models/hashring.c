/* hashring: keys sharded over the nodes by consistent hashing.
 *
 * Every node places every key on the same ring (models/ring.h: `vnodes`
 * points per node, no seed) and owns the keys whose first point clockwise
 * belongs to it, among the nodes it believes are up. Membership is learnt
 * from heartbeats: a node silent for `timeout` has left, a node heard again
 * (say after a restart) has joined. Each change of a node's view is a
 * rebalance, and the node notes what it cost over a fixed key space of
 * `keys` keys "k1".."kN":
 *
 *   {"what":"rebalance","change":"leave","member":"n5","members":4,
 *    "moved":2013,"total":10000,"fraction":0.2013,
 *    "modulo_moved":8011,"modulo_fraction":0.8011,
 *    "load":{"min":..,"max":..,"mean":..,"stddev":..}}
 *
 * "moved" counts the keys whose owner changed; "modulo_moved" the keys whose
 * owner would have changed under "hash mod members" placement (the members
 * in index order), which moves about (N-1)/N of them where the ring moves
 * about 1/N. "load" is the spread of keys per member, which shrinks as
 * `vnodes` grows. At boot the node notes "ring" with the load alone.
 *
 * Clients may read and write keys: a node that does not own a key
 * redirects to its owner (workload target "leader" follows). After a
 * rebalance a node hands the data it no longer owns to the new owner
 * ("handoff" messages); a crashed node's data is gone (nothing is
 * replicated here: this model is about placement, not durability). Nodes
 * publish their data as "stored", not "map": shards are not replicas, and
 * nothing should compare them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "model.h"
#include "ring.h"

#define HR_KEY_MAX KVMAP_KEY_MAX

enum hr_msg_type { HR_MSG_HEARTBEAT = 1, HR_MSG_HANDOFF, HR_MSG_FORWARD, HR_MSG_ANSWER };

struct hr_msg {
    uint32_t type;
    int32_t pad;
    int64_t value;             /* handoff: the key's value */
    char key[HR_KEY_MAX];      /* handoff: the key, zero-filled */
};

/* Router mode: a client operation the router passes to the key's owner,
 * and the owner's answer. `tag` matches the two. */
struct hr_fwd {
    uint32_t type;
    int32_t op;                /* enum op_type: read or write */
    uint64_t tag;
    int64_t value;             /* write: the value; answer: what was read */
    int32_t has_value;         /* answer: the read found the key */
    int32_t pad;
    char key[HR_KEY_MAX];      /* forward: the key, zero-filled */
};

/* An operation the router forwarded and still waits on. */
struct hr_pending {
    uint64_t tag;
    struct sim_op op;          /* op.ctx and op.micro cleared */
    sim_time at;               /* router's clock when forwarded */
};

#define HR_TIMER_HEARTBEAT 1u
#define HR_ROUTER 0            /* router mode: node n1 routes, the others store */

struct hr_state {
    int self;
    int n;
    int n_keys;                /* the measured key space k1..kN */
    sim_time heartbeat, timeout;
    ring *ring;
    bool *down;                /* per node: left the view (the skip list of the ring) */
    sim_time *heard;           /* per node: local clock of the last heartbeat */
    int32_t *owner;            /* per measured key: its owner in the current view */
    int32_t *mod_owner;        /* per measured key: its owner under modulo placement */
    struct kv_entry *kv;          /* the data this node holds, sorted by key */
    size_t n_kv, cap_kv;
    uint64_t rebalances, handed_off;
    bool routed;               /* membership = "router" */
    /* router mode, on the router only: forwarded operations awaiting answers */
    struct hr_pending *pending;
    size_t n_pending, cap_pending;
    uint64_t next_tag, forwarded, expired;
};

static const struct model_param hr_params[] = {
    { "vnodes", PARAM_INT, "64", NULL, "points per node on the ring (1 to 4096)" },
    { "keys", PARAM_INT, "10000", NULL,
      "the key space measured at each rebalance: keys k1..kN (1 to 200000)" },
    { "heartbeat", PARAM_TIME, "50ms", NULL, "how often a node tells the others it is up" },
    { "timeout", PARAM_TIME, "200ms", NULL, "silence after which a node counts as gone" },
    { "membership", PARAM_ENUM, "peers", "peers|router",
      "peers: every node heartbeats every other and keeps the ring; router: n1 alone keeps "
      "the ring, the others heartbeat it and store what it forwards (scales to 100,000 nodes)" },
    { NULL, 0, NULL, NULL, NULL },
};

/* ---- placement ------------------------------------------------------------ */

static int hr_owner_of(const struct hr_state *s, const char *key)
{
    int out;
    return ring_preference_list(s->ring, key, 1, s->down, &out) == 1 ? out : -1;
}

/* Modulo placement over the members in index order (member[] lists them). */
static int hr_mod_owner_of(const int32_t *member, int members, const char *key)
{
    return members < 1 ? -1 : member[ring_key_hash(key) % (uint64_t)members];
}

static int hr_members(const struct hr_state *s)
{
    int m = 0;
    for (int i = 0; i < s->n; i++)
        m += !s->down[i];
    return m;
}

/* Recompute both placements of the measured keys. Returns how many keys
 * changed owner under each (the first call counts nothing). */
static void hr_place(struct hr_state *s, size_t *moved, size_t *mod_moved)
{
    int32_t *member = sim_xmalloc((size_t)s->n * sizeof *member);
    int members = 0;
    for (int i = 0; i < s->n; i++)
        if (!s->down[i])
            member[members++] = i;
    char key[24];
    *moved = *mod_moved = 0;
    for (int k = 0; k < s->n_keys; k++) {
        snprintf(key, sizeof key, "k%d", k + 1);
        int32_t o = hr_owner_of(s, key), m = hr_mod_owner_of(member, members, key);
        *moved += s->owner[k] != o;
        *mod_moved += s->mod_owner[k] != m;
        s->owner[k] = o;
        s->mod_owner[k] = m;
    }
    sim_free(member);
}

/* The spread of measured keys over the members, into the open note. */
static void hr_write_load(const struct hr_state *s, jw *j)
{
    int64_t *count = sim_xcalloc((size_t)s->n, sizeof *count);
    for (int k = 0; k < s->n_keys; k++)
        if (s->owner[k] >= 0)
            count[s->owner[k]]++;
    int members = hr_members(s);
    int64_t lo = INT64_MAX, hi = 0;
    double mean = members ? (double)s->n_keys / members : 0, var = 0;
    for (int i = 0; i < s->n; i++) {
        if (s->down[i])
            continue;
        lo = count[i] < lo ? count[i] : lo;
        hi = count[i] > hi ? count[i] : hi;
        var += ((double)count[i] - mean) * ((double)count[i] - mean);
    }
    jw_key(j, "load");
    jw_obj(j);
    jw_kint(j, "min", members ? lo : 0);
    jw_kint(j, "max", hi);
    jw_knum(j, "mean", mean);
    jw_knum(j, "stddev", members ? sqrt(var / members) : 0);
    jw_obj_end(j);
    sim_free(count);
}

/* ---- data ----------------------------------------------------------------- */

static ptrdiff_t hr_kv_find(const struct hr_state *s, const char *key)
{
    return kvmap_find(s->kv, s->n_kv, key);
}

static void hr_kv_set(struct hr_state *s, const char *key, int64_t value)
{
    kvmap_set(&s->kv, &s->n_kv, &s->cap_kv, key, value);
}

/* Send every key this node holds but no longer owns to its owner. */
static void hr_hand_off(struct hr_state *s, node_ctx *ctx)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_kv; i++) {
        int o = hr_owner_of(s, s->kv[i].key);
        if (o == s->self || o < 0) {
            s->kv[kept++] = s->kv[i];
            continue;
        }
        struct hr_msg m;
        memset(&m, 0, sizeof m);
        m.type = HR_MSG_HANDOFF;
        m.value = s->kv[i].value;
        memcpy(m.key, s->kv[i].key, sizeof m.key);
        node_send(ctx, o, &m, sizeof m);
        s->handed_off++;
    }
    s->n_kv = kept;
}

/* ---- membership ----------------------------------------------------------- */

static void hr_view_changed(struct hr_state *s, node_ctx *ctx, const char *change, int member)
{
    size_t moved, mod_moved;
    hr_place(s, &moved, &mod_moved);
    s->rebalances++;
    jw *j = node_note_begin(ctx, "rebalance");
    if (j) {
        jw_kstr(j, "change", change);
        jw_kstr(j, "member", node_name(ctx, member));
        jw_kint(j, "members", hr_members(s));
        jw_kint(j, "moved", (int64_t)moved);
        jw_kint(j, "total", s->n_keys);
        jw_knum(j, "fraction", (double)moved / s->n_keys);
        jw_kint(j, "modulo_moved", (int64_t)mod_moved);
        jw_knum(j, "modulo_fraction", (double)mod_moved / s->n_keys);
        hr_write_load(s, j);
        node_note_end(ctx);
    }
    if (!s->routed)   /* a router holds no data; its members hold no ring */
        hr_hand_off(s, ctx);
}

static void hr_send_heartbeats(const struct hr_state *s, node_ctx *ctx)
{
    struct hr_msg m;
    memset(&m, 0, sizeof m);
    m.type = HR_MSG_HEARTBEAT;
    if (s->routed)
        node_send(ctx, HR_ROUTER, &m, sizeof m);
    else
        node_broadcast(ctx, &m, sizeof m);
}

/* ---- callbacks ------------------------------------------------------------ */

/* Boot or restart: every node starts believing all nodes are up (a node
 * that is not is dropped after `timeout`), and places the key space. */
static void *hr_init(node_ctx *ctx)
{
    struct hr_state *s = sim_xcalloc(1, sizeof *s);
    const params *p = node_params(ctx);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    s->n_keys = (int)params_int(p, "keys");
    s->heartbeat = params_time(p, "heartbeat");
    s->timeout = params_time(p, "timeout");
    s->routed = strcmp(params_enum(p, "membership"), "router") == 0;
    if (s->routed && s->self != HR_ROUTER) {
        /* a storage member: no ring, no view, O(1) state but its data */
        node_set_role(ctx, "member", 0);
        node_timer_set(ctx, node_random_range(ctx, 1, s->heartbeat), HR_TIMER_HEARTBEAT);
        return s;
    }
    s->ring = ring_new(s->n, (int)params_int(p, "vnodes"));   /* validate keeps vnodes >= 1 */
    s->down = sim_xcalloc((size_t)s->n, sizeof *s->down);
    s->heard = sim_xcalloc((size_t)s->n, sizeof *s->heard);
    s->owner = sim_xmalloc((size_t)s->n_keys * sizeof *s->owner);
    s->mod_owner = sim_xmalloc((size_t)s->n_keys * sizeof *s->mod_owner);
    for (int i = 0; i < s->n; i++)
        s->heard[i] = node_clock(ctx);
    if (s->routed)
        s->down[HR_ROUTER] = true;   /* the router routes; it owns no keys */
    for (int k = 0; k < s->n_keys; k++)
        s->owner[k] = s->mod_owner[k] = -1;
    size_t moved, mod_moved;
    hr_place(s, &moved, &mod_moved);
    node_set_role(ctx, s->routed ? "router" : "member", 0);
    jw *j = node_note_begin(ctx, "ring");
    if (j) {
        jw_kint(j, "vnodes", ring_vnodes(s->ring));
        jw_kint(j, "members", hr_members(s));
        jw_kint(j, "total", s->n_keys);
        hr_write_load(s, j);
        node_note_end(ctx);
    }
    if (!s->routed)
        hr_send_heartbeats(s, ctx);
    node_timer_set(ctx, s->heartbeat, HR_TIMER_HEARTBEAT);
    return s;
}

static void hr_destroy(void *state)
{
    struct hr_state *s = state;
    if (!s)
        return;
    ring_free(s->ring);
    sim_free(s->down);
    sim_free(s->heard);
    sim_free(s->owner);
    sim_free(s->mod_owner);
    sim_free(s->kv);
    sim_free(s->pending);
    sim_free(s);
}

/* Router mode, on a member: apply what the router forwarded and answer. */
static void hr_member_serve(struct hr_state *s, node_ctx *ctx, const struct hr_fwd *f)
{
    if (!memchr(f->key, 0, sizeof f->key) || !f->key[0])
        return;
    struct hr_fwd a;
    memset(&a, 0, sizeof a);
    a.type = HR_MSG_ANSWER;
    a.tag = f->tag;
    a.op = f->op;
    if (f->op == OP_WRITE) {
        hr_kv_set(s, f->key, f->value);
    } else {
        ptrdiff_t i = hr_kv_find(s, f->key);
        a.has_value = i >= 0;
        a.value = i >= 0 ? s->kv[i].value : 0;
    }
    node_send(ctx, HR_ROUTER, &a, sizeof a);
}

/* Router mode, on the router: the owner answered a forwarded operation. */
static void hr_router_answer(struct hr_state *s, node_ctx *ctx, const struct hr_fwd *a)
{
    for (size_t i = 0; i < s->n_pending; i++) {
        if (s->pending[i].tag != a->tag)
            continue;
        const struct sim_op *op = &s->pending[i].op;
        node_reply_ok(ctx, op, op->type == OP_READ && a->has_value,
                      op->type == OP_READ ? a->value : 0);
        memmove(&s->pending[i], &s->pending[i + 1], (s->n_pending - i - 1) * sizeof *s->pending);
        s->n_pending--;
        return;
    }
    /* expired already: the client's own timeout decided */
}

static void hr_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct hr_state *s = state;
    struct hr_msg m;
    if (s->routed && len == sizeof(struct hr_fwd)) {
        struct hr_fwd f;
        memcpy(&f, msg, sizeof f);
        if (f.type == HR_MSG_FORWARD && s->self != HR_ROUTER && from == HR_ROUTER)
            hr_member_serve(s, ctx, &f);
        else if (f.type == HR_MSG_ANSWER && s->self == HR_ROUTER)
            hr_router_answer(s, ctx, &f);
        return;
    }
    if (s->routed && s->self != HR_ROUTER)
        return;   /* members keep no view */
    if (len != sizeof m || from < 0 || from >= s->n || from == s->self)
        return;
    memcpy(&m, msg, sizeof m);
    if (m.type != HR_MSG_HEARTBEAT && m.type != HR_MSG_HANDOFF)
        return;
    s->heard[from] = node_clock(ctx);
    if (s->down[from]) {
        s->down[from] = false;
        hr_view_changed(s, ctx, "join", from);
    }
    if (m.type == HR_MSG_HANDOFF && memchr(m.key, 0, sizeof m.key) && m.key[0])
        hr_kv_set(s, m.key, m.value);
}

static void hr_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct hr_state *s = state;
    if (tag != HR_TIMER_HEARTBEAT)
        return;
    if (s->routed && s->self != HR_ROUTER) {
        hr_send_heartbeats(s, ctx);
        node_timer_set(ctx, s->heartbeat, HR_TIMER_HEARTBEAT);
        return;
    }
    if (!s->routed)
        hr_send_heartbeats(s, ctx);
    sim_time now = node_clock(ctx);
    /* forwarded operations unanswered for `timeout` are given up on (the
     * owner crashed, say): the client's own timeout reports them */
    size_t kept = 0;
    for (size_t i = 0; i < s->n_pending; i++) {
        if (now - s->pending[i].at > s->timeout)
            s->expired++;
        else
            s->pending[kept++] = s->pending[i];
    }
    s->n_pending = kept;
    for (int i = 0; i < s->n; i++)
        if (i != s->self && !s->down[i] && now - s->heard[i] > s->timeout) {
            s->down[i] = true;
            hr_view_changed(s, ctx, "leave", i);
        }
    node_timer_set(ctx, s->heartbeat, HR_TIMER_HEARTBEAT);
}

static void hr_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct hr_state *s = state;
    if (!op->key || strlen(op->key) >= HR_KEY_MAX || op->key[0] == '\0') {
        node_reply_fail(ctx, op, "bad key");
        return;
    }
    if (op->type != OP_READ && op->type != OP_WRITE) {
        node_reply_fail(ctx, op, "hashring serves read and write only");
        return;
    }
    if (s->routed && s->self != HR_ROUTER) {
        node_reply_redirect(ctx, op, HR_ROUTER, "ask the router");
        return;
    }
    int o = hr_owner_of(s, op->key);
    if (s->routed) {
        if (o < 0) {
            node_reply_fail(ctx, op, "no members");
            return;
        }
        struct hr_fwd f;
        memset(&f, 0, sizeof f);
        f.type = HR_MSG_FORWARD;
        f.op = op->type;
        f.tag = ++s->next_tag;
        f.value = op->value;
        memcpy(f.key, op->key, strlen(op->key));
        SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
        struct hr_pending *pd = &s->pending[s->n_pending++];
        pd->tag = f.tag;
        pd->op = *op;
        pd->op.ctx = NULL;
        pd->op.ctx_len = 0;
        pd->op.micro = NULL;
        pd->op.n_micro = 0;
        pd->at = node_clock(ctx);
        s->forwarded++;
        node_send(ctx, o, &f, sizeof f);
        return;
    }
    if (o != s->self) {
        node_reply_redirect(ctx, op, o, "not the owner");
        return;
    }
    if (op->type == OP_WRITE) {
        hr_kv_set(s, op->key, op->value);
        node_reply_ok(ctx, op, false, 0);
        return;
    }
    ptrdiff_t i = hr_kv_find(s, op->key);
    node_reply_ok(ctx, op, i >= 0, i >= 0 ? s->kv[i].value : 0);
}

static void hr_describe_msg(const void *msg, size_t len, jw *out)
{
    struct hr_msg m;
    if (len == sizeof(struct hr_fwd)) {
        struct hr_fwd f;
        memcpy(&f, msg, sizeof f);
        jw_kstr(out, "type", f.type == HR_MSG_FORWARD ? "forward"
                           : f.type == HR_MSG_ANSWER ? "answer" : "?");
        jw_kint(out, "tag", (int64_t)f.tag);
        jw_kstr(out, "f", f.op == OP_WRITE ? "write" : "read");
        if (f.type == HR_MSG_FORWARD && memchr(f.key, 0, sizeof f.key))
            jw_kstr(out, "key", f.key);
        if (f.op == OP_WRITE ? f.type == HR_MSG_FORWARD : f.has_value)
            jw_kint(out, "value", f.value);
        return;
    }
    if (len != sizeof m) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&m, msg, sizeof m);
    jw_kstr(out, "type", m.type == HR_MSG_HEARTBEAT ? "heartbeat"
                       : m.type == HR_MSG_HANDOFF ? "handoff" : "?");
    if (m.type == HR_MSG_HANDOFF && memchr(m.key, 0, sizeof m.key)) {
        jw_kstr(out, "key", m.key);
        jw_kint(out, "value", m.value);
    }
}

static void hr_describe(const void *state, jw *out)
{
    const struct hr_state *s = state;
    if (!s->routed || s->self == HR_ROUTER) {
        int64_t owned = 0;
        for (int k = 0; k < s->n_keys; k++)
            owned += s->owner[k] == s->self;
        jw_kint(out, "members", hr_members(s));
        jw_kint(out, "owned", owned);
        jw_kint(out, "rebalances", (int64_t)s->rebalances);
    }
    if (s->routed && s->self == HR_ROUTER) {
        jw_kint(out, "forwarded", (int64_t)s->forwarded);
        jw_kint(out, "expired", (int64_t)s->expired);
    } else {
        jw_kint(out, "handed_off", (int64_t)s->handed_off);
    }
    jw_key(out, "stored");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++)
        jw_kint(out, s->kv[i].key, s->kv[i].value);
    jw_obj_end(out);
}

static int hr_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    if (strcmp(params_enum(p, "membership"), "router") == 0 && n_nodes < 2) {
        snprintf(err, errlen, "membership = \"router\" needs at least 2 nodes (n1 routes, the others store)");
        return -1;
    }
    int64_t v = params_int(p, "vnodes"), k = params_int(p, "keys");
    if (v < 1 || v > 4096) {
        snprintf(err, errlen, "vnodes must be 1 to 4096, got %lld", (long long)v);
        return -1;
    }
    if (k < 1 || k > 200000) {
        snprintf(err, errlen, "keys must be 1 to 200000, got %lld", (long long)k);
        return -1;
    }
    if (params_time(p, "heartbeat") < 1 || params_time(p, "timeout") < 1) {
        snprintf(err, errlen, "heartbeat and timeout must be above 0");
        return -1;
    }
    return 0;
}

const struct model hashring_model = {
    .name = "hashring",
    .summary = "keys sharded by consistent hashing with virtual nodes: what a join or leave moves",
    .params = hr_params,
    .init = hr_init,
    .destroy = hr_destroy,
    .on_message = hr_on_message,
    .on_timer = hr_on_timer,
    .on_request = hr_on_request,
    .describe_msg = hr_describe_msg,
    .describe = hr_describe,
    .validate = hr_validate,
};
