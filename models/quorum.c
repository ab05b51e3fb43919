/* quorum: a leaderless (Dynamo-style) quorum key-value store.
 *
 * Placement. Every key lives on n replicas: its preference list on a
 * consistent-hash ring with `vnodes` virtual nodes per node (models/ring.h):
 * the first n distinct nodes clockwise from the key's hash. The nodes after
 * them, in the same walk, are the key's fallbacks (sloppy quorum).
 *
 * Any node coordinates the client operation it receives:
 *   - write: the coordinator makes a version: (ts, by) = (its own
 *     node_clock, made strictly increasing, and its index) and, with
 *     versioning = vv, a version vector: the client's causal context if the
 *     write carries one, with the coordinator's own entry ticked. It sends
 *     the version to the key's n replicas (applying it itself if it is one)
 *     and replies ok after w acks. Without w acks by `timeout` it does not
 *     reply: some replicas may have applied the write, so only the client's
 *     own timeout can say "indeterminate" honestly.
 *   - read: asks the n replicas, merges the first r answers and replies:
 *     lww, the newest (ts, by); vv, every version no other version descends
 *     from (siblings: several values) with the merged vector as the causal
 *     context. With read_repair it sends the merged versions to every
 *     replica whose answer lacked some (also to replicas answering later).
 *     Without r answers by `timeout`: fail "not enough replicas".
 *   - cas, add, remove: refused (no consensus, no counters here).
 *
 * Sloppy quorum (sloppy = true): a coordinator still short of w (or r)
 * answers timeout/2 after asking sends the operation, for each home replica
 * that has not answered, to the next fallback on the ring (more rounds
 * every timeout/8, as fallbacks may be unreachable too); a fallback keeps
 * the write as a hint "for X" (not in its own map) and acks. Such acks
 * count toward w, so the write survives a partition, but a later read of
 * the home replicas may miss it: W + R > N stops meaning "reads see every
 * acknowledged write". With hinted_handoff, every handoff_period a hint
 * holder sends each hint to its home replica and drops it when acked.
 *
 * Replicas keep per key: lww, the version with the largest (ts, by); vv,
 * every version not descended from by another (siblings, at most
 * Q_SIB_MAX, the oldest dropped beyond). Anti-entropy (anti_entropy > 0):
 * each period a node sends every key it holds, with its versions, to the
 * next peer in turn (self + 1, self + 2, ...), if that peer is one of the
 * key's replicas; the peer merges.
 *
 * Every replica change is synced to the durable store ("kv/<key>"), hints
 * too ("hint/<id>"); a restart rebuilds both. Messages are a fixed header
 * plus n_ver fixed-size versions, validated by length and content.
 *
 * Not here: coordinator state is volatile (a crash loses pending requests),
 * failed writes are not rolled back, no Merkle trees (anti-entropy sends
 * whole maps), no membership changes. */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "model.h"
#include "quorum.h"
#include "ring.h"
#include "sort.h"
#include "store.h"
#include "vv.h"

#define Q_KEY_MAX 48
#define Q_SIB_MAX 8          /* siblings kept per key (versioning = vv) */

/* Timer tags: the low two bits say what; requests keep their id above. */
enum q_timer {
    Q_TIMER_TIMEOUT = 0,     /* (req << 2): give up on req */
    Q_TIMER_SLOPPY = 1,      /* (req << 2) | 1: try fallbacks for req */
    Q_TIMER_AE = 2,
    Q_TIMER_HANDOFF = 3,
};

enum q_msg_type {
    Q_MSG_PUT = 1,      /* coordinator -> replica (or fallback): keep this version, ack */
    Q_MSG_PUT_ACK,
    Q_MSG_GET,          /* coordinator -> replica: your versions of key */
    Q_MSG_GET_REPLY,
    Q_MSG_REPAIR,       /* read repair: merge these versions, no ack */
    Q_MSG_SYNC,         /* anti-entropy: merge these versions of one key */
    Q_MSG_HANDOFF,      /* hint holder -> home replica: merge this version, ack */
    Q_MSG_HANDOFF_ACK,
};

/* ---- data: versions, entries, messages -------------------------------- */

/* One version of a value: the same bytes in memory, store and messages. */
struct q_ver {
    int64_t value;
    int64_t ts;          /* coordinator clock: the LWW order */
    int32_t by;          /* coordinator node index: LWW tie-breaker */
    uint32_t pad;
    struct vv vv;        /* versioning = vv: the version's vector; lww: zero */
};

/* A key's versions: one (lww), or the siblings (vv). */
struct q_entry {
    char key[Q_KEY_MAX];
    uint32_t n_ver;
    uint32_t pad;
    struct q_ver ver[Q_SIB_MAX];
};
_Static_assert(offsetof(struct q_entry, key) == 0, "kvmap_find_in needs the key first");

/* The header of every message; n_ver versions follow it. */
struct q_hdr {
    uint32_t type;
    uint32_t n_ver;
    uint64_t req;        /* request id (PUT, GET and replies), hint id (HANDOFF*) */
    int32_t hint_for;    /* PUT or GET to a fallback: the home replica it stands in for; else -1 */
    uint32_t pad;
    char key[Q_KEY_MAX];
};

/* A write a fallback keeps for a home replica that could not be reached. */
struct q_hint {
    uint64_t id;
    int32_t target;
    uint32_t pad;
    char key[Q_KEY_MAX];
    struct q_ver ver;
};

/* A key's place on the ring, computed once per node: order[0..n_nodes-1]
 * is every node in the key's clockwise order (home replicas first). */
struct q_place {
    char key[Q_KEY_MAX];
    int *order;
};

struct q_pending {
    uint64_t req;
    struct sim_op op;    /* op.ctx cleared: only valid during on_request */
    bool is_read;
    bool replied;
    int answers;         /* acks (write) or answers (read) */
    int asked_n;         /* nodes asked so far */
    struct q_ver put;    /* write: the version */
    struct q_entry acc;  /* read: the answers merged so far */
    bool *asked;         /* per node */
    bool *answered;      /* per node */
    int *stand_in;       /* per home replica (ring order): the fallback asked for it, or -1 */
    struct q_entry *got; /* read: per node, its answer (for read repair) */
    uint64_t timer, sloppy_timer;
};

struct q_state {
    int self;
    int n_nodes;
    int64_t n, w, r;
    sim_time timeout, ae_period, handoff_period;
    int ae_next;             /* the peer the next anti-entropy round goes to */
    bool read_repair, sloppy, hinted_handoff, use_vv;
    const char **names;
    ring *ring;

    struct q_entry *kv;  /* sorted by key; only keys this node is a home replica of */
    size_t n_kv, cap_kv;
    struct q_place *place;   /* sorted by key */
    size_t n_place, cap_place;
    struct q_hint *hints;    /* in id order */
    size_t n_hints, cap_hints;
    uint64_t next_hint;

    struct q_pending *pending;
    size_t n_pending, cap_pending;
    uint64_t next_req;
    int64_t last_ts;
    uint64_t vv_counter; /* the last value of our own vector entry we issued */
    bool saw_home_key;   /* this node is a home replica of a key it has seen */
};

static const struct model_param q_params[] = {
    { "n", PARAM_INT, "3", NULL, "replicas per key (its preference list on the ring)" },
    { "w", PARAM_INT, "2", NULL, "replica acks a write waits for" },
    { "r", PARAM_INT, "2", NULL, "replica answers a read waits for" },
    { "vnodes", PARAM_INT, "16", NULL, "points per node on the consistent-hash ring" },
    { "timeout", PARAM_TIME, "100ms", NULL,
      "a coordinator without w (or r) answers by then gives up: a read fails \"not enough "
      "replicas\", a write gets no reply (it may have been applied)" },
    { "read_repair", PARAM_BOOL, "true", NULL,
      "a read sends the merged versions to replicas whose answer lacked some" },
    { "anti_entropy", PARAM_TIME, "500ms", NULL,
      "every period a node sends its keys (with versions) to the next peer in turn; 0 = off" },
    { "sloppy", PARAM_BOOL, "false", NULL,
      "sloppy quorum: after timeout/2 short of w (or r), ask the next nodes on the ring "
      "(fallbacks keep writes as hints)" },
    { "hinted_handoff", PARAM_BOOL, "false", NULL,
      "fallbacks deliver their hints to the home replica every handoff_period" },
    { "handoff_period", PARAM_TIME, "200ms", NULL, "how often a hint holder retries its hints" },
    { "versioning", PARAM_ENUM, "lww", "lww|vv",
      "lww: last write wins on (coordinator clock, node); vv: version vectors, concurrent "
      "writes kept as siblings and resolved by the next write with their context" },
    { NULL, 0, NULL, NULL, NULL },
};

/* ---- quorum arithmetic (quorum.h) ---------------------------------------- */

bool quorum_overlap(int64_t n, int64_t w, int64_t r)
{
    return w + r > n;
}

int64_t quorum_tolerates(int64_t n, int64_t q)
{
    return n > q ? n - q : 0;
}

int quorum_check(const struct quorum_setup *q, char *err, size_t errlen)
{
    if (q->n < 1)
        snprintf(err, errlen, "n = %lld: a key needs at least one replica", (long long)q->n);
    else if (q->n > q->nodes)
        snprintf(err, errlen, "n = %lld is more than the %lld nodes: a key cannot have %lld distinct "
                 "replicas", (long long)q->n, (long long)q->nodes, (long long)q->n);
    else if (q->w < 1)
        snprintf(err, errlen, "w = %lld: a write must wait for at least one replica", (long long)q->w);
    else if (q->w > q->n)
        snprintf(err, errlen, "w = %lld is more than n = %lld replicas: a write could never be "
                 "acknowledged", (long long)q->w, (long long)q->n);
    else if (q->r < 1)
        snprintf(err, errlen, "r = %lld: a read must ask at least one replica", (long long)q->r);
    else if (q->r > q->n)
        snprintf(err, errlen, "r = %lld is more than n = %lld replicas: a read could never be "
                 "answered", (long long)q->r, (long long)q->n);
    else if (q->vnodes < 1)
        snprintf(err, errlen, "vnodes = %lld: every node needs at least one point on the ring",
                 (long long)q->vnodes);
    else if (q->timeout <= 0)
        snprintf(err, errlen, "timeout must be above 0: a coordinator would give up before asking "
                 "anyone");
    else if (q->hinted_handoff && q->handoff_period <= 0)
        snprintf(err, errlen, "handoff_period must be above 0 with hinted_handoff: hints would "
                 "never be delivered");
    else if (q->vv && q->nodes > q->vv_max)
        snprintf(err, errlen, "versioning = vv counts at most %lld nodes (a version vector has %lld "
                 "entries), the cluster has %lld", (long long)q->vv_max, (long long)q->vv_max,
                 (long long)q->nodes);
    else
        return 0;
    return -1;
}

const char *quorum_class(int64_t n, int64_t w, int64_t r, bool sloppy)
{
    bool pa = sloppy || (w == 1 && r == 1);
    bool ec = quorum_overlap(n, w, r) && w >= 2;
    return pa ? (ec ? "PA/EC" : "PA/EL") : (ec ? "PC/EC" : "PC/EL");
}

/* ---- placement ------------------------------------------------------------ */

static int q_replicas(const struct q_state *s)
{
    return s->n < 1 ? 1 : s->n > s->n_nodes ? s->n_nodes : (int)s->n;
}

/* Every node in key's ring order (home replicas first); cached, stable. */
static const int *q_order(struct q_state *s, const char *key)
{
    size_t lo = 0, hi = s->n_place;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->place[mid].key, key);
        if (c == 0)
            return s->place[mid].order;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    SIM_GROW(s->place, s->cap_place, s->n_place + 1);
    memmove(&s->place[lo + 1], &s->place[lo], (s->n_place - lo) * sizeof *s->place);
    struct q_place *p = &s->place[lo];
    memset(p, 0, sizeof *p);
    snprintf(p->key, sizeof p->key, "%s", key);
    p->order = sim_xmalloc((size_t)s->n_nodes * sizeof *p->order);
    int got = ring_preference_list(s->ring, key, s->n_nodes, NULL, p->order);
    for (int i = got; i < s->n_nodes; i++)   /* never: every node is on the ring */
        p->order[i] = i;
    s->n_place++;
    return p->order;
}

static bool q_is_home(struct q_state *s, const char *key, int node)
{
    const int *order = q_order(s, key);
    for (int i = 0; i < q_replicas(s); i++)
        if (order[i] == node)
            return true;
    return false;
}

/* Remember that a key passed by; see q_describe's "map". */
static void q_saw_key(struct q_state *s, const char *key)
{
    if (!s->saw_home_key && q_is_home(s, key, s->self))
        s->saw_home_key = true;
}

/* ---- versions ------------------------------------------------------------- */

enum q_order { Q_SAME, Q_OLDER, Q_NEWER, Q_CONCURRENT };

/* How a stands to b: by (ts, by) for lww, by vector for vv. */
static enum q_order q_compare(const struct q_state *s, const struct q_ver *a, const struct q_ver *b)
{
    if (!s->use_vv) {
        if (a->ts != b->ts)
            return a->ts < b->ts ? Q_OLDER : Q_NEWER;
        return a->by == b->by ? Q_SAME : a->by < b->by ? Q_OLDER : Q_NEWER;
    }
    switch (vv_compare(&a->vv, &b->vv)) {
    case VV_EQUAL: return Q_SAME;
    case VV_BEFORE: return Q_OLDER;
    case VV_AFTER: return Q_NEWER;
    default: return Q_CONCURRENT;
    }
}

/* The version in e that the (ts, by) order puts first: the LWW winner, or
 * the sibling dropped last. */
static size_t q_oldest(const struct q_entry *e)
{
    size_t o = 0;
    for (size_t i = 1; i < e->n_ver; i++)
        if (e->ver[i].ts < e->ver[o].ts || (e->ver[i].ts == e->ver[o].ts && e->ver[i].by < e->ver[o].by))
            o = i;
    return o;
}

/* What merging one version into an entry did. */
struct q_merge {
    bool changed;
    int replaced;            /* versions it superseded */
    int64_t replaced_values[Q_SIB_MAX];
    bool lost;               /* lww: it lost to the version kept */
};

/* Merge v into e: lww keeps the newer; vv drops v if some version already
 * descends from it, else drops the versions v descends from and adds v. */
static struct q_merge q_merge_ver(const struct q_state *s, struct q_entry *e, const struct q_ver *v)
{
    struct q_merge m = { .changed = false };
    if (!s->use_vv) {
        if (e->n_ver == 0 || q_compare(s, v, &e->ver[0]) == Q_NEWER) {
            if (e->n_ver)
                m.replaced_values[m.replaced++] = e->ver[0].value;
            e->ver[0] = *v;
            e->n_ver = 1;
            m.changed = true;
        } else if (q_compare(s, v, &e->ver[0]) != Q_SAME) {
            m.lost = true;
        }
        return m;
    }
    for (size_t i = 0; i < e->n_ver; i++) {
        enum q_order o = q_compare(s, v, &e->ver[i]);
        if (o == Q_SAME || o == Q_OLDER)
            return m;
    }
    size_t k = 0;
    for (size_t i = 0; i < e->n_ver; i++) {
        if (q_compare(s, v, &e->ver[i]) == Q_NEWER)
            m.replaced_values[m.replaced++] = e->ver[i].value;
        else
            e->ver[k++] = e->ver[i];
    }
    if (k == Q_SIB_MAX) {    /* full: drop the oldest sibling by (ts, by) */
        e->n_ver = (uint32_t)k;
        size_t o = q_oldest(e);
        e->ver[o] = e->ver[k - 1];
        k--;
    }
    e->ver[k++] = *v;
    e->n_ver = (uint32_t)k;
    m.changed = true;
    return m;
}

/* Does have hold every version of want (or one newer)? */
static bool q_covers(const struct q_state *s, const struct q_entry *have, const struct q_entry *want)
{
    for (size_t i = 0; i < want->n_ver; i++) {
        bool found = false;
        for (size_t j = 0; j < have->n_ver && !found; j++) {
            enum q_order o = q_compare(s, &have->ver[j], &want->ver[i]);
            found = o == Q_SAME || o == Q_NEWER;
        }
        if (!found)
            return false;
    }
    return true;
}

static bool q_valid_key(const char *key)
{
    return memchr(key, 0, Q_KEY_MAX) != NULL && key[0] != 0;
}

static bool q_valid_ver(const struct q_state *s, const struct q_ver *v)
{
    if (v->by < 0 || v->by >= s->n_nodes || !vv_valid(&v->vv, sizeof v->vv))
        return false;
    return s->use_vv ? v->vv.n == (uint32_t)s->n_nodes : v->vv.n == 0;
}

/* An entry holding only key, all other bytes zero (so equal entries are
 * equal bytes in the store). */
static void q_entry_init(struct q_entry *e, const char *key)
{
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
}

/* ---- the map -------------------------------------------------------------- */

static ptrdiff_t q_find(const struct q_state *s, const char *key)
{
    return kvmap_find_in(s->kv, s->n_kv, sizeof *s->kv, key);
}

/* The entry for key, created empty if missing. */
static struct q_entry *q_slot(struct q_state *s, const char *key)
{
    ptrdiff_t i = q_find(s, key);
    if (i >= 0)
        return &s->kv[i];
    size_t pos = (size_t)~i;
    s->kv = kvmap_insert_in(s->kv, &s->n_kv, &s->cap_kv, sizeof *s->kv, pos, key, Q_KEY_MAX);
    return &s->kv[pos];
}

/* This node's versions of key (an empty entry if none). */
static void q_get(const struct q_state *s, const char *key, struct q_entry *out)
{
    ptrdiff_t i = q_find(s, key);
    if (i >= 0)
        *out = s->kv[i];
    else
        q_entry_init(out, key);
}

static size_t q_entry_bytes(const struct q_entry *e)
{
    return offsetof(struct q_entry, ver) + e->n_ver * sizeof e->ver[0];
}

static void q_persist(node_ctx *ctx, const struct q_entry *e)
{
    char skey[Q_KEY_MAX + 8];
    snprintf(skey, sizeof skey, "kv/%s", e->key);
    node_store_put(ctx, skey, e, q_entry_bytes(e));
    node_store_sync(ctx);
}

static void q_note_versions(const struct q_entry *e, jw *j)
{
    jw_key(j, "values");
    jw_arr(j);
    for (size_t i = 0; i < e->n_ver; i++)
        jw_int(j, e->ver[i].value);
    jw_arr_end(j);
    jw_key(j, "vectors");
    jw_arr(j);
    for (size_t i = 0; i < e->n_ver; i++)
        vv_write(&e->ver[i].vv, j);
    jw_arr_end(j);
}

/* Merge version v of key into this replica's map, persist, and note what
 * a student should see: siblings appearing, siblings resolved by a write
 * that carried their context, a fresh write losing under LWW. */
static bool q_apply(struct q_state *s, node_ctx *ctx, const char *key, const struct q_ver *v, bool fresh)
{
    struct q_entry *e = q_slot(s, key);
    struct q_merge m = q_merge_ver(s, e, v);
    if (m.lost && fresh) {
        jw *j = node_note_begin(ctx, "lww_lost");
        if (j) {
            jw_kstr(j, "key", key);
            jw_kint(j, "value", v->value);
            jw_kint(j, "ts", v->ts);
            jw_kstr(j, "by", s->names[v->by]);
            jw_kint(j, "kept", e->ver[0].value);
            jw_kint(j, "kept_ts", e->ver[0].ts);
            jw_kstr(j, "kept_by", s->names[e->ver[0].by]);
            node_note_end(ctx);
        }
    }
    if (!m.changed)
        return false;
    if (s->use_vv && m.replaced >= 2) {
        jw *j = node_note_begin(ctx, "resolved");
        if (j) {
            jw_kstr(j, "key", key);
            jw_kint(j, "value", v->value);
            jw_key(j, "vector");
            vv_write(&v->vv, j);
            jw_key(j, "replaced");
            jw_arr(j);
            for (int i = 0; i < m.replaced; i++)
                jw_int(j, m.replaced_values[i]);
            jw_arr_end(j);
            node_note_end(ctx);
        }
    }
    if (s->use_vv && e->n_ver > 1 && m.replaced == 0) {
        jw *j = node_note_begin(ctx, "siblings");
        if (j) {
            jw_kstr(j, "key", key);
            q_note_versions(e, j);
            node_note_end(ctx);
        }
    }
    q_persist(ctx, e);
    return true;
}

static int q_scan_kv(void *arg, const char *skey, const void *val, size_t len)
{
    struct q_state *s = arg;
    struct q_entry e;
    (void)skey;
    if (len < offsetof(struct q_entry, ver) || len > sizeof e)
        return 0;
    memset(&e, 0, sizeof e);
    memcpy(&e, val, len);
    if (!q_valid_key(e.key) || e.n_ver > Q_SIB_MAX || len != q_entry_bytes(&e))
        return 0;
    struct q_entry *slot = q_slot(s, e.key);
    for (size_t i = 0; i < e.n_ver; i++)
        if (q_valid_ver(s, &e.ver[i])) {
            q_merge_ver(s, slot, &e.ver[i]);
            if (e.ver[i].by == s->self && e.ver[i].vv.n > (uint32_t)s->self
                && e.ver[i].vv.c[s->self] > s->vv_counter)
                s->vv_counter = e.ver[i].vv.c[s->self];
        }
    return 0;
}

/* ---- hints ---------------------------------------------------------------- */

static void q_hint_store_key(const struct q_hint *h, char *buf, size_t n)
{
    snprintf(buf, n, "hint/%016llx", (unsigned long long)h->id);
}

/* Keep v as a hint for target (this node is a fallback for key). */
static void q_hint_add(struct q_state *s, node_ctx *ctx, const char *key, int target, const struct q_ver *v)
{
    for (size_t i = 0; i < s->n_hints; i++)   /* the same version again: nothing new */
        if (s->hints[i].target == target && strcmp(s->hints[i].key, key) == 0
            && q_compare(s, &s->hints[i].ver, v) == Q_SAME)
            return;
    SIM_GROW(s->hints, s->cap_hints, s->n_hints + 1);
    struct q_hint *h = &s->hints[s->n_hints++];
    memset(h, 0, sizeof *h);
    h->id = s->next_hint++;
    h->target = target;
    snprintf(h->key, sizeof h->key, "%s", key);
    h->ver = *v;
    char skey[32];
    q_hint_store_key(h, skey, sizeof skey);
    node_store_put(ctx, skey, h, sizeof *h);
    node_store_sync(ctx);
    jw *j = node_note_begin(ctx, "hint");
    if (j) {
        jw_kstr(j, "key", key);
        jw_kstr(j, "for", s->names[target]);
        jw_kint(j, "value", v->value);
        node_note_end(ctx);
    }
}

static void q_hint_delivered(struct q_state *s, node_ctx *ctx, uint64_t id, int from)
{
    for (size_t i = 0; i < s->n_hints; i++) {
        struct q_hint *h = &s->hints[i];
        if (h->id != id || h->target != from)
            continue;
        jw *j = node_note_begin(ctx, "handoff");
        if (j) {
            jw_kstr(j, "key", h->key);
            jw_kstr(j, "to", s->names[from]);
            jw_kint(j, "value", h->ver.value);
            node_note_end(ctx);
        }
        char skey[32];
        q_hint_store_key(h, skey, sizeof skey);
        node_store_del(ctx, skey);
        node_store_sync(ctx);
        memmove(h, h + 1, (s->n_hints - i - 1) * sizeof *h);
        s->n_hints--;
        return;
    }
}

static int q_hint_cmp(const void *a, const void *b)
{
    const struct q_hint *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int q_scan_hint(void *arg, const char *skey, const void *val, size_t len)
{
    struct q_state *s = arg;
    struct q_hint h;
    (void)skey;
    if (len != sizeof h)
        return 0;
    memcpy(&h, val, sizeof h);
    if (!q_valid_key(h.key) || h.target < 0 || h.target >= s->n_nodes || !q_valid_ver(s, &h.ver))
        return 0;
    SIM_GROW(s->hints, s->cap_hints, s->n_hints + 1);
    s->hints[s->n_hints++] = h;
    if (h.id >= s->next_hint)
        s->next_hint = h.id + 1;
    return 0;
}

/* ---- messages out --------------------------------------------------------- */

static void q_send(node_ctx *ctx, int to, uint32_t type, uint64_t req, int hint_for, const char *key,
                   const struct q_ver *vers, uint32_t n_ver)
{
    unsigned char buf[sizeof(struct q_hdr) + Q_SIB_MAX * sizeof(struct q_ver)];
    struct q_hdr h;
    memset(&h, 0, sizeof h);
    h.type = type;
    h.n_ver = n_ver;
    h.req = req;
    h.hint_for = hint_for;
    snprintf(h.key, sizeof h.key, "%s", key);
    memcpy(buf, &h, sizeof h);
    if (n_ver)
        memcpy(buf + sizeof h, vers, n_ver * sizeof *vers);
    node_send(ctx, to, buf, sizeof h + n_ver * sizeof *vers);
}

/* ---- coordinator ---------------------------------------------------------- */

static struct q_pending *q_pending_find(struct q_state *s, uint64_t req)
{
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].req == req)
            return &s->pending[i];
    return NULL;
}

static void q_pending_drop(struct q_state *s, node_ctx *ctx, struct q_pending *p)
{
    if (p->timer)
        node_timer_cancel(ctx, p->timer);
    if (p->sloppy_timer)
        node_timer_cancel(ctx, p->sloppy_timer);
    sim_free(p->asked);
    sim_free(p->answered);
    sim_free(p->stand_in);
    sim_free(p->got);
    size_t i = (size_t)(p - s->pending);
    memmove(&s->pending[i], &s->pending[i + 1], (s->n_pending - i - 1) * sizeof *s->pending);
    s->n_pending--;
}

/* Send the merged versions to a home replica whose answer lacked some
 * (fallbacks are repaired by hinted handoff, not here). */
static void q_repair(struct q_state *s, node_ctx *ctx, struct q_pending *p, int node)
{
    if (!s->read_repair || p->acc.n_ver == 0 || !q_is_home(s, p->op.key, node)
        || q_covers(s, &p->got[node], &p->acc))
        return;
    if (node == s->self) {
        for (size_t i = 0; i < p->acc.n_ver; i++)
            q_apply(s, ctx, p->op.key, &p->acc.ver[i], false);
        return;
    }
    q_send(ctx, node, Q_MSG_REPAIR, 0, -1, p->op.key, p->acc.ver, p->acc.n_ver);
}

static int q_i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Answer a read from the merged versions: one value, or siblings sorted,
 * with the merged vector as the causal context (vv). */
static void q_reply_read(struct q_state *s, node_ctx *ctx, struct q_pending *p)
{
    const struct q_entry *a = &p->acc;
    if (a->n_ver == 0) {
        node_reply_ok(ctx, &p->op, false, 0);
        return;
    }
    if (!s->use_vv) {
        node_reply_ok(ctx, &p->op, true, a->ver[0].value);
        return;
    }
    struct vv merged;
    vv_init(&merged, s->n_nodes);
    int64_t values[Q_SIB_MAX];
    for (size_t i = 0; i < a->n_ver; i++) {
        vv_merge(&merged, &a->ver[i].vv);
        values[i] = a->ver[i].value;
    }
    if (a->n_ver == 1) {
        struct sim_reply r = { .status = REPLY_OK, .has_value = true, .value = values[0],
                               .redirect = -1, .ctx = &merged, .ctx_len = sizeof merged };
        node_reply(ctx, &p->op, &r);
        return;
    }
    sim_qsort(values, a->n_ver, sizeof *values, q_i64_cmp);
    node_reply_values(ctx, &p->op, values, (int)a->n_ver, &merged, sizeof merged);
}

/* One more answer for p from node: an ack, or a read answer e. */
static void q_answer(struct q_state *s, node_ctx *ctx, struct q_pending *p, int node,
                     const struct q_entry *e)
{
    if (node < 0 || node >= s->n_nodes || !p->asked[node] || p->answered[node])
        return;
    p->answered[node] = true;
    p->answers++;
    if (p->is_read) {
        p->got[node] = *e;
        if (!p->replied)
            for (size_t i = 0; i < e->n_ver; i++)
                q_merge_ver(s, &p->acc, &e->ver[i]);
        if (p->replied)
            q_repair(s, ctx, p, node);
        if (!p->replied && p->answers >= s->r) {
            p->replied = true;
            q_reply_read(s, ctx, p);
            for (int i = 0; i < s->n_nodes; i++)
                if (p->answered[i])
                    q_repair(s, ctx, p, i);
        }
    } else if (!p->replied && p->answers >= s->w) {
        p->replied = true;
        node_reply_ok(ctx, &p->op, false, 0);
    }
    if (p->replied && p->answers >= p->asked_n)
        q_pending_drop(s, ctx, p);
}

/* Ask node for p: a replica, or a fallback standing in for hint_for. The
 * coordinator answers itself at once; p may move then, so callers look it
 * up again by id. */
static void q_ask(struct q_state *s, node_ctx *ctx, struct q_pending *p, int node, int hint_for)
{
    p->asked[node] = true;
    p->asked_n++;
    if (node != s->self) {
        q_send(ctx, node, p->is_read ? Q_MSG_GET : Q_MSG_PUT, p->req, hint_for, p->op.key, &p->put,
               p->is_read ? 0 : 1);
        return;
    }
    struct q_entry mine;
    q_get(s, p->op.key, &mine);
    if (hint_for >= 0) {
        if (!p->is_read)
            q_hint_add(s, ctx, p->op.key, hint_for, &p->put);
        for (size_t i = 0; i < s->n_hints; i++)
            if (strcmp(s->hints[i].key, p->op.key) == 0)
                q_merge_ver(s, &mine, &s->hints[i].ver);
    } else if (!p->is_read) {
        q_apply(s, ctx, p->op.key, &p->put, true);
    }
    uint64_t req = p->req;
    struct q_pending *again = q_pending_find(s, req);
    if (again)
        q_answer(s, ctx, again, s->self, &mine);
}

/* The version a write stores: (ts, by) from our clock, and with vv the
 * client's context (if it sent one) with our own entry ticked past every
 * value we issued before, so (by, vv[by]) names one write. */
static struct q_ver q_new_version(struct q_state *s, node_ctx *ctx, const struct sim_op *op)
{
    struct q_ver v;
    memset(&v, 0, sizeof v);
    int64_t ts = node_clock(ctx);
    if (ts <= s->last_ts)
        ts = s->last_ts + 1;
    s->last_ts = ts;
    v.value = op->value;
    v.ts = ts;
    v.by = s->self;
    if (!s->use_vv)
        return v;
    vv_init(&v.vv, s->n_nodes);
    if (op->ctx && vv_valid(op->ctx, op->ctx_len)) {
        struct vv c;
        memcpy(&c, op->ctx, sizeof c);
        if (c.n == (uint32_t)s->n_nodes)
            v.vv = c;
    }
    uint64_t next = v.vv.c[s->self] > s->vv_counter ? v.vv.c[s->self] : s->vv_counter;
    v.vv.c[s->self] = next + 1;
    s->vv_counter = next + 1;
    /* durable before the version leaves: a restarted node that issued the
     * same (self, counter) again would make its new write look like an old
     * one to every replica that kept the first, and they would drop it */
    node_store_put(ctx, "vvctr", &s->vv_counter, sizeof s->vv_counter);
    node_store_sync(ctx);
    return v;
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
    q_saw_key(s, op->key);
    SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
    struct q_pending *p = &s->pending[s->n_pending++];
    memset(p, 0, sizeof *p);
    p->req = s->next_req++;
    p->op = *op;
    p->op.ctx = NULL;
    p->op.ctx_len = 0;
    p->is_read = op->type == OP_READ;
    p->asked = sim_xcalloc((size_t)s->n_nodes, sizeof *p->asked);
    p->answered = sim_xcalloc((size_t)s->n_nodes, sizeof *p->answered);
    if (p->is_read)
        p->got = sim_xcalloc((size_t)s->n_nodes, sizeof *p->got);
    if (s->sloppy) {
        p->stand_in = sim_xmalloc((size_t)q_replicas(s) * sizeof *p->stand_in);
        for (int i = 0; i < q_replicas(s); i++)
            p->stand_in[i] = -1;
    }
    q_entry_init(&p->acc, op->key);
    if (!p->is_read)
        p->put = q_new_version(s, ctx, op);
    p->timer = node_timer_set(ctx, s->timeout, p->req << 2 | Q_TIMER_TIMEOUT);
    if (s->sloppy)
        p->sloppy_timer = node_timer_set(ctx, s->timeout / 2 > 0 ? s->timeout / 2 : 1,
                                         p->req << 2 | Q_TIMER_SLOPPY);
    uint64_t req = p->req;
    const int *order = q_order(s, op->key);
    int nrep = q_replicas(s);
    /* others first, ourselves last: answering ourselves may complete p */
    for (int i = 0; i < nrep; i++)
        if (order[i] != s->self)
            q_ask(s, ctx, q_pending_find(s, req), order[i], -1);
    if (q_is_home(s, op->key, s->self))
        q_ask(s, ctx, q_pending_find(s, req), s->self, -1);
}

/* Sloppy quorum: timeout/2 after asking, still short of a quorum. For
 * each home replica that has not answered and whose stand-in (if any) has
 * not either, ask the next fallback on the ring not asked yet. Rounds go on
 * every timeout/8 until the quorum is met or the fallbacks run out: a
 * fallback may be unreachable too. */
static void q_fall_back(struct q_state *s, node_ctx *ctx, struct q_pending *p)
{
    p->sloppy_timer = 0;
    if (p->replied)
        return;
    uint64_t req = p->req;
    const int *order = q_order(s, p->op.key);
    int nrep = q_replicas(s), next = nrep;
    bool more = false;
    for (int i = 0; i < nrep; i++) {
        p = q_pending_find(s, req);
        if (!p || p->replied)
            return;
        int home = order[i];
        if (p->answered[home] || (p->stand_in[i] >= 0 && p->answered[p->stand_in[i]]))
            continue;
        while (next < s->n_nodes && p->asked[order[next]])
            next++;
        if (next >= s->n_nodes)
            break;
        p->stand_in[i] = order[next];
        more = true;
        q_ask(s, ctx, p, order[next++], home);
    }
    p = q_pending_find(s, req);
    if (p && !p->replied && more)
        p->sloppy_timer = node_timer_set(ctx, s->timeout / 8 > 0 ? s->timeout / 8 : 1,
                                         p->req << 2 | Q_TIMER_SLOPPY);
}

/* ---- messages in ---------------------------------------------------------- */

static void q_send_sync(struct q_state *s, node_ctx *ctx, int to)
{
    for (size_t i = 0; i < s->n_kv; i++) {
        const struct q_entry *e = &s->kv[i];
        if (e->n_ver && q_is_home(s, e->key, to))
            q_send(ctx, to, Q_MSG_SYNC, 0, -1, e->key, e->ver, e->n_ver);
    }
}

static void q_send_hints(struct q_state *s, node_ctx *ctx)
{
    for (size_t i = 0; i < s->n_hints; i++)
        q_send(ctx, s->hints[i].target, Q_MSG_HANDOFF, s->hints[i].id, -1, s->hints[i].key,
               &s->hints[i].ver, 1);
}

/* How many versions each message type may carry. */
static bool q_count_ok(uint32_t type, uint32_t n_ver)
{
    switch (type) {
    case Q_MSG_PUT: case Q_MSG_HANDOFF: return n_ver == 1;
    case Q_MSG_PUT_ACK: case Q_MSG_GET: case Q_MSG_HANDOFF_ACK: return n_ver == 0;
    case Q_MSG_GET_REPLY: return n_ver <= Q_SIB_MAX;
    case Q_MSG_REPAIR: case Q_MSG_SYNC: return n_ver >= 1 && n_ver <= Q_SIB_MAX;
    default: return false;
    }
}

static void q_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct q_state *s = state;
    struct q_hdr h;
    struct q_entry e;
    if (len < sizeof h || from < 0 || from >= s->n_nodes || from == s->self)
        return;
    memcpy(&h, msg, sizeof h);
    if (!q_valid_key(h.key) || !q_count_ok(h.type, h.n_ver)
        || len != sizeof h + h.n_ver * sizeof(struct q_ver)
        || (h.hint_for != -1 && (h.hint_for < 0 || h.hint_for >= s->n_nodes)))
        return;
    q_entry_init(&e, h.key);
    e.n_ver = h.n_ver;
    memcpy(e.ver, (const unsigned char *)msg + sizeof h, h.n_ver * sizeof(struct q_ver));
    for (size_t i = 0; i < e.n_ver; i++)
        if (!q_valid_ver(s, &e.ver[i]))
            return;
    q_saw_key(s, h.key);
    bool home = q_is_home(s, h.key, s->self);
    switch (h.type) {
    case Q_MSG_PUT:
        if (h.hint_for >= 0 && h.hint_for != s->self)
            q_hint_add(s, ctx, h.key, h.hint_for, &e.ver[0]);
        else if (home)
            q_apply(s, ctx, h.key, &e.ver[0], true);
        else
            return;
        q_send(ctx, from, Q_MSG_PUT_ACK, h.req, -1, h.key, NULL, 0);
        break;
    case Q_MSG_GET: {
        struct q_entry mine;
        q_get(s, h.key, &mine);
        if (h.hint_for >= 0)
            for (size_t i = 0; i < s->n_hints; i++)
                if (strcmp(s->hints[i].key, h.key) == 0)
                    q_merge_ver(s, &mine, &s->hints[i].ver);
        q_send(ctx, from, Q_MSG_GET_REPLY, h.req, -1, h.key, mine.ver, mine.n_ver);
        break;
    }
    case Q_MSG_REPAIR:
    case Q_MSG_SYNC:
    case Q_MSG_HANDOFF:
        if (!home)
            return;
        for (size_t i = 0; i < e.n_ver; i++)
            q_apply(s, ctx, h.key, &e.ver[i], false);
        if (h.type == Q_MSG_HANDOFF)
            q_send(ctx, from, Q_MSG_HANDOFF_ACK, h.req, -1, h.key, NULL, 0);
        break;
    case Q_MSG_HANDOFF_ACK:
        q_hint_delivered(s, ctx, h.req, from);
        break;
    case Q_MSG_PUT_ACK:
    case Q_MSG_GET_REPLY: {
        struct q_pending *p = q_pending_find(s, h.req);
        if (!p || p->is_read != (h.type == Q_MSG_GET_REPLY) || strcmp(p->op.key, h.key) != 0)
            return;
        q_answer(s, ctx, p, from, &e);
        break;
    }
    default:
        break;
    }
}

static void q_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct q_state *s = state;
    switch (tag & 3u) {
    case Q_TIMER_AE:
        if (s->n_nodes > 1) {
            /* peers in turn, not at random: every pair has synced within
             * n_nodes - 1 periods, so convergence after a heal is bounded */
            if (s->ae_next == s->self || s->ae_next >= s->n_nodes)
                s->ae_next = (s->self + 1) % s->n_nodes;
            q_send_sync(s, ctx, s->ae_next);
            s->ae_next = (s->ae_next + 1) % s->n_nodes;
        }
        node_timer_set(ctx, s->ae_period, Q_TIMER_AE);
        return;
    case Q_TIMER_HANDOFF:
        q_send_hints(s, ctx);
        node_timer_set(ctx, s->handoff_period, Q_TIMER_HANDOFF);
        return;
    case Q_TIMER_SLOPPY: {
        struct q_pending *p = q_pending_find(s, tag >> 2);
        if (p)
            q_fall_back(s, ctx, p);
        return;
    }
    default: {
        struct q_pending *p = q_pending_find(s, tag >> 2);
        if (!p)
            return;
        /* a read changed nothing: a definite failure. A write may have been
         * applied by some replica: no reply, the client's timeout makes it
         * indeterminate. */
        if (!p->replied && p->is_read)
            node_reply_fail(ctx, &p->op, "not enough replicas");
        p->timer = 0;
        q_pending_drop(s, ctx, p);
        return;
    }
    }
}

/* ---- lifecycle ------------------------------------------------------------ */

static void *q_init(node_ctx *ctx)
{
    struct q_state *s = sim_xcalloc(1, sizeof *s);
    const params *p = node_params(ctx);
    s->self = node_self(ctx);
    s->n_nodes = node_count(ctx);
    s->ae_next = (s->self + 1) % s->n_nodes;
    s->n = params_int(p, "n");
    s->w = params_int(p, "w");
    s->r = params_int(p, "r");
    s->timeout = params_time(p, "timeout");
    if (s->timeout < 1)
        s->timeout = 1;
    s->read_repair = params_bool(p, "read_repair");
    s->ae_period = params_time(p, "anti_entropy");
    s->sloppy = params_bool(p, "sloppy");
    s->hinted_handoff = params_bool(p, "hinted_handoff");
    s->handoff_period = params_time(p, "handoff_period");
    s->use_vv = params_is(p, "versioning", "vv");
    int64_t vnodes = params_int(p, "vnodes");
    s->ring = ring_new(s->n_nodes, vnodes < 1 ? 1 : vnodes > 4096 ? 4096 : (int)vnodes);
    s->names = sim_xcalloc((size_t)s->n_nodes, sizeof *s->names);
    for (int i = 0; i < s->n_nodes; i++)
        s->names[i] = node_name(ctx, i);
    /* request ids: a fresh random base per boot, so a reply meant for the
     * previous incarnation does not match a new request; never 0, and
     * below 2^62 so a timer tag can hold one */
    s->next_req = ((uint64_t)node_random(ctx) << 20) | 1u;
    s->next_hint = 1;
    size_t len;
    const void *ctr = node_store_get(ctx, "vvctr", &len);
    if (ctr && len == sizeof s->vv_counter)
        memcpy(&s->vv_counter, ctr, sizeof s->vv_counter);
    store_scan(node_store(ctx), "kv/", q_scan_kv, s);
    store_scan(node_store(ctx), "hint/", q_scan_hint, s);
    sim_qsort(s->hints, s->n_hints, sizeof *s->hints, q_hint_cmp);
    for (size_t i = 0; i < s->n_kv; i++)
        q_saw_key(s, s->kv[i].key);
    if (s->ae_period > 0)
        node_timer_set(ctx, s->ae_period, Q_TIMER_AE);
    if (s->hinted_handoff && s->handoff_period > 0)
        node_timer_set(ctx, s->handoff_period, Q_TIMER_HANDOFF);
    return s;
}

static void q_destroy(void *state)
{
    struct q_state *s = state;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_pending; i++) {
        sim_free(s->pending[i].asked);
        sim_free(s->pending[i].answered);
        sim_free(s->pending[i].stand_in);
        sim_free(s->pending[i].got);
    }
    for (size_t i = 0; i < s->n_place; i++)
        sim_free(s->place[i].order);
    sim_free(s->place);
    sim_free(s->pending);
    sim_free(s->kv);
    sim_free(s->hints);
    sim_free(s->names);
    ring_free(s->ring);
    sim_free(s);
}

/* ---- trace ---------------------------------------------------------------- */

static const char *q_msg_type_name(uint32_t type)
{
    switch (type) {
    case Q_MSG_PUT: return "put";
    case Q_MSG_PUT_ACK: return "put_ack";
    case Q_MSG_GET: return "get";
    case Q_MSG_GET_REPLY: return "get_reply";
    case Q_MSG_REPAIR: return "repair";
    case Q_MSG_SYNC: return "sync";
    case Q_MSG_HANDOFF: return "handoff";
    case Q_MSG_HANDOFF_ACK: return "handoff_ack";
    default: return "?";
    }
}

static void q_describe_msg(const void *msg, size_t len, jw *out)
{
    struct q_hdr h;
    if (len < sizeof h) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&h, msg, sizeof h);
    jw_kstr(out, "type", q_msg_type_name(h.type));
    if (!q_valid_key(h.key) || !q_count_ok(h.type, h.n_ver)
        || len != sizeof h + h.n_ver * sizeof(struct q_ver))
        return;
    if (h.type != Q_MSG_REPAIR && h.type != Q_MSG_SYNC)
        jw_kint(out, "req", (int64_t)(h.req & 0xffffffffu));
    jw_kstr(out, "key", h.key);
    if (h.hint_for >= 0)
        jw_kint(out, "hint_for", h.hint_for);   /* a node index: 0 is n1 with default names */
    if (h.type == Q_MSG_GET_REPLY && h.n_ver == 0) {
        jw_kbool(out, "has", 0);
        return;
    }
    if (h.n_ver == 0)
        return;
    struct q_ver v;
    if (h.n_ver == 1) {
        memcpy(&v, (const unsigned char *)msg + sizeof h, sizeof v);
        jw_kint(out, "value", v.value);
        jw_kint(out, "ts", v.ts);
        jw_kint(out, "by", v.by);
        if (v.vv.n > 0 && v.vv.n <= VV_MAX) {
            jw_key(out, "vv");
            vv_write(&v.vv, out);
        }
        return;
    }
    jw_key(out, "values");
    jw_arr(out);
    for (uint32_t i = 0; i < h.n_ver; i++) {
        memcpy(&v, (const unsigned char *)msg + sizeof h + i * sizeof v, sizeof v);
        jw_int(out, v.value);
    }
    jw_arr_end(out);
}

/* The final state. "map" is key -> value (lww, or vv with one version),
 * key -> [values, ascending] (vv siblings). A node publishes a map only if
 * it is a home replica of some key it has seen: a node that only held
 * hints (or saw nothing) holds no data of its own, and leaving it out lets
 * the converges checker compare the replicas that do. */
static void q_describe(const void *state, jw *out)
{
    const struct q_state *s = state;
    jw_kint(out, "pending", (int64_t)s->n_pending);
    jw_kint(out, "hints", (int64_t)s->n_hints);
    if (q_replicas(s) < s->n_nodes)   /* sharded: converges compares each key's holders */
        jw_kint(out, "replicas", q_replicas(s));
    if (!s->saw_home_key && s->n_kv == 0)
        return;
    jw_key(out, "map");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++) {
        const struct q_entry *e = &s->kv[i];
        if (e->n_ver == 0)
            continue;
        if (e->n_ver == 1) {
            jw_kint(out, e->key, e->ver[0].value);
            continue;
        }
        int64_t values[Q_SIB_MAX];
        for (size_t k = 0; k < e->n_ver; k++)
            values[k] = e->ver[k].value;
        sim_qsort(values, e->n_ver, sizeof *values, q_i64_cmp);
        jw_key(out, e->key);
        jw_arr(out);
        for (size_t k = 0; k < e->n_ver; k++)
            jw_int(out, values[k]);
        jw_arr_end(out);
    }
    jw_obj_end(out);
    jw_key(out, "versions");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++) {
        const struct q_entry *e = &s->kv[i];
        if (e->n_ver == 0)
            continue;
        jw_key(out, e->key);
        if (!s->use_vv) {
            jw_obj(out);
            jw_kint(out, "ts", e->ver[0].ts);
            jw_kstr(out, "by", s->names[e->ver[0].by]);
            jw_obj_end(out);
            continue;
        }
        jw_arr(out);
        for (size_t k = 0; k < e->n_ver; k++) {
            jw_obj(out);
            jw_kint(out, "value", e->ver[k].value);
            jw_key(out, "vv");
            vv_write(&e->ver[k].vv, out);
            jw_obj_end(out);
        }
        jw_arr_end(out);
    }
    jw_obj_end(out);
}

/* ---- model ---------------------------------------------------------------- */

static struct quorum_setup q_setup(const params *p, int n_nodes)
{
    return (struct quorum_setup){
        .nodes = n_nodes,
        .n = params_int(p, "n"),
        .w = params_int(p, "w"),
        .r = params_int(p, "r"),
        .vnodes = params_int(p, "vnodes"),
        .timeout = params_time(p, "timeout"),
        .handoff_period = params_time(p, "handoff_period"),
        .hinted_handoff = params_bool(p, "hinted_handoff"),
        .vv = params_is(p, "versioning", "vv"),
        .vv_max = VV_MAX,
    };
}

static int q_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    struct quorum_setup q = q_setup(p, n_nodes);
    return quorum_check(&q, err, errlen);
}

static const char *q_cap_class(const params *p)
{
    return quorum_class(params_int(p, "n"), params_int(p, "w"), params_int(p, "r"),
                        params_bool(p, "sloppy"));
}

const struct model quorum_model = {
    .name = "quorum",
    .summary = "leaderless Dynamo-style quorums (n, w, r) on a consistent-hash ring: LWW or "
               "version vectors, read repair, anti-entropy, sloppy quorum, hinted handoff",
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
    .validate = q_validate,
};
