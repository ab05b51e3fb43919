/* quorum: a leaderless (Dynamo-style) quorum key-value store, first cut.
 *
 * Every key lives on n replicas: n consecutive nodes of a ring, starting at
 * hash(key) mod node_count, where hash is 32-bit FNV-1a over the key's bytes
 * (offset basis 2166136261, prime 16777619). No virtual nodes yet.
 *
 * Any node coordinates the client operation it receives:
 *   - write: the coordinator stamps the value with (timestamp, writer) where
 *     timestamp is its own node_clock (made strictly increasing per
 *     coordinator) and writer is its node index (the tie-breaker); it sends
 *     the value to the n replicas (applying locally if it is one) and
 *     replies ok once w replicas acknowledged. Replicas keep, per key, the
 *     newer version by (timestamp, writer): last write wins, so a
 *     coordinator whose clock is behind loses its later write.
 *   - read: asks the n replicas, replies with the newest of the first r
 *     answers; with read_repair, sends the newest value to every replica
 *     that answered an older one (also to those answering after the reply).
 *   - cas: refused, "cas not supported by quorum" (no consensus here).
 * A coordinator that cannot gather w (or r) answers within `timeout` (its
 * local clock) replies fail "not enough replicas"; a write that failed this
 * way may still have been applied by some replicas.
 *
 * Anti-entropy (period anti_entropy, 0 = off): each node sends its whole
 * map, with versions, to one peer drawn from its own random stream (only the
 * keys that peer replicates); the peer keeps the newer version per key.
 *
 * Every replica apply is written to the durable store (key "kv/<key>") and
 * synced; a restart rebuilds the map from the store. Messages are
 * fixed-layout structs, validated by length and ignored when malformed.
 *
 * Limits: no virtual nodes, no hinted handoff or sloppy quorum, no version
 * vectors (concurrent writes are resolved by LWW, siblings are lost). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "model.h"
#include "store.h"

#define Q_KEY_MAX 48
#define Q_AE_BATCH 32
#define Q_TIMER_AE 0u        /* request timers use their request id (>= 1) */

enum q_msg_type {
    Q_MSG_PUT = 1,      /* coordinator -> replica: store this version, ack */
    Q_MSG_PUT_ACK,
    Q_MSG_GET,          /* coordinator -> replica: your version of key */
    Q_MSG_GET_REPLY,
    Q_MSG_REPAIR,       /* read repair: store this version, no ack */
    Q_MSG_SYNC,         /* anti-entropy: header + n_entries items */
};

/* A versioned value; the same bytes in memory, in the store and on the wire. */
struct q_item {
    char key[Q_KEY_MAX];
    int64_t value;
    int64_t ts;
    int32_t by;         /* writer node index */
    int32_t has;        /* get reply: 0 = key never written here */
};

struct q_msg {          /* PUT, PUT_ACK, GET, GET_REPLY, REPAIR */
    uint32_t type;
    uint32_t pad;
    uint64_t req;
    struct q_item item;
};

struct q_sync {
    uint32_t type;
    uint32_t n_entries;
};

struct q_pending {
    uint64_t req;
    struct sim_op op;
    bool is_read;
    bool replied;
    int answers;         /* acks (write) or answers (read) */
    int replicas;        /* how many will be asked */
    struct q_item best;  /* read: newest answer so far */
    bool *answered;      /* per node */
    struct q_item *got;  /* read: per node, its answer */
    uint64_t timer;
};

struct q_state {
    int self;
    int n_nodes;
    int64_t n, w, r;
    sim_time timeout;
    sim_time ae_period;
    bool read_repair;
    const char **names;

    struct q_item *kv;   /* sorted by key */
    size_t n_kv, cap_kv;

    struct q_pending *pending;
    size_t n_pending, cap_pending;
    uint64_t next_req;
    int64_t last_ts;
};

static const struct model_param q_params[] = {
    { "n", PARAM_INT, "3", NULL, "replicas per key (consecutive nodes on the ring)" },
    { "w", PARAM_INT, "2", NULL, "replica acks a write waits for" },
    { "r", PARAM_INT, "2", NULL, "replica answers a read waits for" },
    { "timeout", PARAM_TIME, "100ms", NULL,
      "a coordinator without w (or r) answers by then replies fail \"not enough replicas\"" },
    { "read_repair", PARAM_BOOL, "true", NULL,
      "a read sends the newest value to replicas that answered an older one" },
    { "anti_entropy", PARAM_TIME, "500ms", NULL,
      "every period a node sends its map to a random peer (last write wins); 0 = off" },
    { NULL, 0, NULL, NULL, NULL },
};

/* ---- placement ------------------------------------------------------------ */

/* 32-bit FNV-1a of the key's bytes. */
static uint32_t q_hash(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    return h;
}

static int q_replicas(const struct q_state *s)
{
    return s->n < 1 ? 1 : s->n > s->n_nodes ? s->n_nodes : (int)s->n;
}

/* The i-th replica of key. */
static int q_replica(const struct q_state *s, const char *key, int i)
{
    return (int)((q_hash(key) + (uint32_t)i) % (uint32_t)s->n_nodes);
}

static bool q_is_replica(const struct q_state *s, const char *key, int node)
{
    for (int i = 0; i < q_replicas(s); i++)
        if (q_replica(s, key, i) == node)
            return true;
    return false;
}

/* ---- the map -------------------------------------------------------------- */

static bool q_newer(const struct q_item *a, const struct q_item *b)
{
    if (!a->has)
        return false;
    if (!b->has)
        return true;
    return a->ts > b->ts || (a->ts == b->ts && a->by > b->by);
}

static ptrdiff_t q_find(const struct q_state *s, const char *key)
{
    size_t lo = 0, hi = s->n_kv;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->kv[mid].key, key);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ~(ptrdiff_t)lo;
}

static struct q_item q_get(const struct q_state *s, const char *key)
{
    struct q_item it;
    ptrdiff_t i = q_find(s, key);
    if (i >= 0)
        return s->kv[i];
    memset(&it, 0, sizeof it);
    memcpy(it.key, key, strlen(key));
    it.by = -1;
    return it;
}

/* Keep it if newer than what the map has (memory only). True if kept. */
static bool q_merge_mem(struct q_state *s, const struct q_item *it)
{
    ptrdiff_t i = q_find(s, it->key);
    if (i >= 0) {
        if (!q_newer(it, &s->kv[i]))
            return false;
        s->kv[i] = *it;
        return true;
    }
    size_t pos = (size_t)~i;
    SIM_GROW(s->kv, s->cap_kv, s->n_kv + 1);
    memmove(&s->kv[pos + 1], &s->kv[pos], (s->n_kv - pos) * sizeof *s->kv);
    s->kv[pos] = *it;
    s->n_kv++;
    return true;
}

static bool q_valid_item(const struct q_item *it)
{
    return memchr(it->key, 0, sizeof it->key) != NULL && it->key[0] != 0;
}

/* Merge and, if kept, write to the store and sync. */
static bool q_apply(struct q_state *s, node_ctx *ctx, const struct q_item *in)
{
    struct q_item it = *in;
    if (!it.has || !q_valid_item(&it))
        return false;
    /* zero the bytes after the key so equal items are equal bytes */
    size_t kl = strlen(it.key);
    memset(it.key + kl, 0, sizeof it.key - kl);
    if (!q_merge_mem(s, &it))
        return false;
    char skey[Q_KEY_MAX + 8];
    snprintf(skey, sizeof skey, "kv/%s", it.key);
    node_store_put(ctx, skey, &it, sizeof it);
    node_store_sync(ctx);
    return true;
}

static int q_scan(void *arg, const char *key, const void *val, size_t len)
{
    struct q_state *s = arg;
    struct q_item it;
    (void)key;
    if (len != sizeof it)
        return 0;
    memcpy(&it, val, sizeof it);
    if (it.has && q_valid_item(&it))
        q_merge_mem(s, &it);
    return 0;
}

/* ---- coordinator ---------------------------------------------------------- */

static struct q_pending *q_pending_find(struct q_state *s, uint64_t req)
{
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].req == req)
            return &s->pending[i];
    return NULL;
}

static void q_pending_drop(struct q_state *s, node_ctx *ctx, struct q_pending *p, bool cancel)
{
    if (cancel)
        node_timer_cancel(ctx, p->timer);
    sim_free(p->answered);
    sim_free(p->got);
    size_t i = (size_t)(p - s->pending);
    memmove(&s->pending[i], &s->pending[i + 1], (s->n_pending - i - 1) * sizeof *s->pending);
    s->n_pending--;
}

static void q_send_msg(node_ctx *ctx, int to, uint32_t type, uint64_t req, const struct q_item *it)
{
    struct q_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.req = req;
    m.item = *it;
    node_send(ctx, to, &m, sizeof m);
}

static void q_repair(struct q_state *s, node_ctx *ctx, struct q_pending *p, int node)
{
    if (!s->read_repair || !p->best.has || !q_newer(&p->best, &p->got[node]))
        return;
    if (node == s->self) {
        q_apply(s, ctx, &p->best);
        return;
    }
    q_send_msg(ctx, node, Q_MSG_REPAIR, 0, &p->best);
}

/* One more answer for p from node (an ack, or a read answer in it). */
static void q_answer(struct q_state *s, node_ctx *ctx, struct q_pending *p, int node,
                     const struct q_item *it)
{
    if (node < 0 || node >= s->n_nodes || p->answered[node])
        return;
    p->answered[node] = true;
    p->answers++;
    if (p->is_read) {
        p->got[node] = *it;
        if (!p->replied && q_newer(it, &p->best))
            p->best = *it;
        if (p->replied)
            q_repair(s, ctx, p, node);
        if (!p->replied && p->answers >= s->r) {
            p->replied = true;
            node_reply_ok(ctx, &p->op, p->best.has != 0, p->best.value);
            for (int i = 0; i < s->n_nodes; i++)
                if (p->answered[i])
                    q_repair(s, ctx, p, i);
        }
    } else if (!p->replied && p->answers >= s->w) {
        p->replied = true;
        node_reply_ok(ctx, &p->op, false, 0);
    }
    if (p->replied && p->answers >= p->replicas)
        q_pending_drop(s, ctx, p, true);
}

static void q_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct q_state *s = state;
    if (!op->key || !op->key[0] || strlen(op->key) >= Q_KEY_MAX) {
        node_reply_fail(ctx, op, "key too long");
        return;
    }
    if (op->type == OP_CAS) {
        node_reply_fail(ctx, op, "cas not supported by quorum");
        return;
    }
    if (op->type != OP_READ && op->type != OP_WRITE) {
        node_reply_fail(ctx, op, "unknown operation");
        return;
    }
    int nrep = q_replicas(s);
    if ((op->type == OP_READ ? s->r : s->w) > nrep || (op->type == OP_READ ? s->r : s->w) < 1) {
        node_reply_fail(ctx, op, "not enough replicas");
        return;
    }
    SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
    struct q_pending *p = &s->pending[s->n_pending++];
    memset(p, 0, sizeof *p);
    p->req = s->next_req++;
    p->op = *op;
    p->is_read = op->type == OP_READ;
    p->replicas = nrep;
    p->answered = sim_xcalloc((size_t)s->n_nodes, sizeof *p->answered);
    p->got = sim_xcalloc((size_t)s->n_nodes, sizeof *p->got);
    p->best = q_get(s, op->key);
    p->best.has = 0;
    p->best.by = -1;
    p->timer = node_timer_set(ctx, s->timeout, p->req);
    uint64_t req = p->req;

    struct q_item it;
    memset(&it, 0, sizeof it);
    memcpy(it.key, op->key, strlen(op->key));
    if (!p->is_read) {
        int64_t ts = node_clock(ctx);
        if (ts <= s->last_ts)
            ts = s->last_ts + 1;
        s->last_ts = ts;
        it.value = op->value;
        it.ts = ts;
        it.by = s->self;
        it.has = 1;
    }
    for (int i = 0; i < nrep; i++) {
        int to = q_replica(s, op->key, i);
        if (to != s->self)
            q_send_msg(ctx, to, p->is_read ? Q_MSG_GET : Q_MSG_PUT, req, &it);
    }
    if (q_is_replica(s, op->key, s->self)) {
        struct q_item mine;
        if (p->is_read) {
            mine = q_get(s, op->key);
        } else {
            q_apply(s, ctx, &it);
            mine = it;
        }
        /* p may move when answering: look it up again */
        struct q_pending *pp = q_pending_find(s, req);
        if (pp)
            q_answer(s, ctx, pp, s->self, &mine);
    }
}

/* ---- messages ------------------------------------------------------------- */

static void q_send_sync(struct q_state *s, node_ctx *ctx, int to)
{
    size_t cap = sizeof(struct q_sync) + Q_AE_BATCH * sizeof(struct q_item);
    unsigned char *buf = sim_xmalloc(cap);
    uint32_t k = 0;
    for (size_t i = 0; i <= s->n_kv; i++) {
        if (i < s->n_kv && q_is_replica(s, s->kv[i].key, to)) {
            memcpy(buf + sizeof(struct q_sync) + k * sizeof(struct q_item), &s->kv[i], sizeof s->kv[i]);
            k++;
        }
        if (k > 0 && (k == Q_AE_BATCH || i == s->n_kv)) {
            struct q_sync h = { Q_MSG_SYNC, k };
            memcpy(buf, &h, sizeof h);
            node_send(ctx, to, buf, sizeof h + k * sizeof(struct q_item));
            k = 0;
        }
    }
    sim_free(buf);
}

static void q_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct q_state *s = state;
    uint32_t type;
    if (len < sizeof type || from < 0 || from >= s->n_nodes || from == s->self)
        return;
    memcpy(&type, msg, sizeof type);
    if (type == Q_MSG_SYNC) {
        struct q_sync h;
        if (len < sizeof h)
            return;
        memcpy(&h, msg, sizeof h);
        if (len != sizeof h + (size_t)h.n_entries * sizeof(struct q_item))
            return;
        for (uint32_t i = 0; i < h.n_entries; i++) {
            struct q_item it;
            memcpy(&it, (const unsigned char *)msg + sizeof h + i * sizeof it, sizeof it);
            if (q_valid_item(&it) && q_is_replica(s, it.key, s->self))
                q_apply(s, ctx, &it);
        }
        return;
    }
    struct q_msg m;
    if (len != sizeof m)
        return;
    memcpy(&m, msg, sizeof m);
    if (!q_valid_item(&m.item))
        return;
    switch (type) {
    case Q_MSG_PUT:
        q_apply(s, ctx, &m.item);
        m.type = Q_MSG_PUT_ACK;
        node_send(ctx, from, &m, sizeof m);
        break;
    case Q_MSG_REPAIR:
        q_apply(s, ctx, &m.item);
        break;
    case Q_MSG_GET:
        m.type = Q_MSG_GET_REPLY;
        m.item = q_get(s, m.item.key);
        node_send(ctx, from, &m, sizeof m);
        break;
    case Q_MSG_PUT_ACK:
    case Q_MSG_GET_REPLY: {
        struct q_pending *p = q_pending_find(s, m.req);
        if (!p || p->is_read != (type == Q_MSG_GET_REPLY) || strcmp(p->op.key, m.item.key) != 0
            || !q_is_replica(s, m.item.key, from))
            return;
        q_answer(s, ctx, p, from, &m.item);
        break;
    }
    default:
        break;
    }
}

static void q_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct q_state *s = state;
    if (tag == Q_TIMER_AE) {
        if (s->n_nodes > 1) {
            int peer = (int)node_random_below(ctx, (uint32_t)(s->n_nodes - 1));
            if (peer >= s->self)
                peer++;
            q_send_sync(s, ctx, peer);
        }
        node_timer_set(ctx, s->ae_period, Q_TIMER_AE);
        return;
    }
    struct q_pending *p = q_pending_find(s, tag);
    if (!p)
        return;
    if (!p->replied)
        node_reply_fail(ctx, &p->op, "not enough replicas");
    q_pending_drop(s, ctx, p, false);
}

/* ---- lifecycle ------------------------------------------------------------ */

static void *q_init(node_ctx *ctx)
{
    struct q_state *s = sim_xcalloc(1, sizeof *s);
    const params *p = node_params(ctx);
    s->self = node_self(ctx);
    s->n_nodes = node_count(ctx);
    s->n = params_int(p, "n");
    s->w = params_int(p, "w");
    s->r = params_int(p, "r");
    s->timeout = params_time(p, "timeout");
    if (s->timeout < 1)
        s->timeout = 1;
    s->read_repair = params_bool(p, "read_repair");
    s->ae_period = params_time(p, "anti_entropy");
    s->names = sim_xcalloc((size_t)s->n_nodes, sizeof *s->names);
    for (int i = 0; i < s->n_nodes; i++)
        s->names[i] = node_name(ctx, i);
    /* request ids: a fresh random base per boot, so a reply meant for the
     * previous incarnation does not match a new request; never 0 */
    s->next_req = ((uint64_t)node_random(ctx) << 32) | 1u;
    store_scan(node_store(ctx), "kv/", q_scan, s);
    if (s->ae_period > 0)
        node_timer_set(ctx, s->ae_period, Q_TIMER_AE);
    return s;
}

static void q_destroy(void *state)
{
    struct q_state *s = state;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_pending; i++) {
        sim_free(s->pending[i].answered);
        sim_free(s->pending[i].got);
    }
    sim_free(s->pending);
    sim_free(s->kv);
    sim_free(s->names);
    sim_free(s);
}

static const char *q_msg_type_name(uint32_t type)
{
    switch (type) {
    case Q_MSG_PUT: return "put";
    case Q_MSG_PUT_ACK: return "put_ack";
    case Q_MSG_GET: return "get";
    case Q_MSG_GET_REPLY: return "get_reply";
    case Q_MSG_REPAIR: return "repair";
    case Q_MSG_SYNC: return "sync";
    default: return "?";
    }
}

static void q_describe_msg(const void *msg, size_t len, jw *out)
{
    uint32_t type = 0;
    if (len >= sizeof type)
        memcpy(&type, msg, sizeof type);
    jw_kstr(out, "type", q_msg_type_name(type));
    if (type == Q_MSG_SYNC && len >= sizeof(struct q_sync)) {
        struct q_sync h;
        memcpy(&h, msg, sizeof h);
        jw_kint(out, "n_entries", h.n_entries);
        return;
    }
    if (len != sizeof(struct q_msg))
        return;
    struct q_msg m;
    memcpy(&m, msg, sizeof m);
    if (!q_valid_item(&m.item))
        return;
    if (type != Q_MSG_REPAIR)
        jw_kint(out, "req", (int64_t)(m.req & 0xffffffffu));
    jw_kstr(out, "key", m.item.key);
    if (type == Q_MSG_GET)
        return;
    if (type == Q_MSG_GET_REPLY && !m.item.has) {
        jw_kbool(out, "has", 0);
        return;
    }
    jw_kint(out, "value", m.item.value);
    jw_kint(out, "ts", m.item.ts);
    jw_kint(out, "by", m.item.by);
}

static void q_describe(const void *state, jw *out)
{
    const struct q_state *s = state;
    jw_kint(out, "pending", (int64_t)s->n_pending);
    jw_key(out, "map");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++)
        jw_kint(out, s->kv[i].key, s->kv[i].value);
    jw_obj_end(out);
    jw_key(out, "versions");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++) {
        jw_key(out, s->kv[i].key);
        jw_obj(out);
        jw_kint(out, "ts", s->kv[i].ts);
        jw_kstr(out, "by", s->kv[i].by >= 0 && s->kv[i].by < s->n_nodes ? s->names[s->kv[i].by] : "?");
        jw_obj_end(out);
    }
    jw_obj_end(out);
}

/* The CAP/PACELC class.
 *
 * There is no sloppy quorum or hinted handoff: only the key's own n
 * replicas count.
 * - w + r > n (strict quorums): a side of a partition with fewer than w
 *   (or r) of a key's replicas cannot answer, so operations there fail
 *   (PC), and every operation waits for remote replicas (EC). It is still
 *   not linearizable (LWW on skewed clocks, no read-your-write across a
 *   failed write that partly applied, reads racing a write), so "C" here
 *   means "refuses rather than answers from a minority", not atomicity.
 * - w + r <= n (e.g. Dynamo's W=1, R=1): any replica answers alone on both
 *   sides of a partition (PA), and a client waits for one replica (EL):
 *   stale reads and LWW-lost writes are the price. */
static const char *q_cap_class(const params *p)
{
    int64_t n = params_int(p, "n"), w = params_int(p, "w"), r = params_int(p, "r");
    return w + r > n ? "PC/EC" : "PA/EL";
}

const struct model quorum_model = {
    .name = "quorum",
    .summary = "leaderless Dynamo-style quorums (n, w, r), last write wins, read repair, anti-entropy",
    .params = q_params,
    .init = q_init,
    .destroy = q_destroy,
    .on_message = q_on_message,
    .on_timer = q_on_timer,
    .on_request = q_on_request,
    .describe_msg = q_describe_msg,
    .describe = q_describe,
    .check = NULL,
    .cap_class = q_cap_class,
};
