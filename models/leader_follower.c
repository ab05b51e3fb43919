/* leader_follower: single-leader replication of a key-value map.
 *
 * One leader orders every write into a log (epoch, seq, op id, key, value)
 * and ships the log to the followers; everybody applies the log to a map of
 * string keys to int64 values. The knobs are the ones real systems argue
 * about (MySQL, PostgreSQL, Redis, MongoDB): when the leader acknowledges a
 * write (async / sync / semisync), whether followers serve reads, whether
 * epochs fence a deposed leader, whether a new leader is elected at all, and
 * whether log entries are synced to disk before they are acted on.
 *
 * The protocol is Raft-shaped but deliberately weaker: acknowledgement does
 * not wait for a majority unless the replication mode says so, so the
 * simulator can show exactly how acknowledged writes get lost. Those losses
 * are made visible in the trace: a node that truncates entries writes a
 * "discard" note listing each one (seq, epoch, key, value, op).
 *
 * Messages are fixed-layout structs, copied by the engine; every received
 * message is validated by length and content and ignored when malformed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "model.h"
#include "store.h"

/* ---- wire and disk formats ------------------------------------------------ */

#define LF_KEY_MAX KVMAP_KEY_MAX      /* key bytes including the NUL; longer keys are refused */
#define LF_MAX_BATCH 64    /* entries per append message */

enum lf_kind { LF_KIND_WRITE = 1, LF_KIND_CAS = 2 };

/* One log entry. The same bytes live in memory, in the store under
 * "log/%012llu" and in append messages; no pointers, no padding, and the
 * key is zero-filled so equal entries are equal bytes. */
struct lf_entry {
    int64_t epoch;
    uint64_t seq;
    uint64_t op_id;
    int64_t value;
    int32_t kind;        /* enum lf_kind */
    int32_t client;
    char key[LF_KEY_MAX];
};

enum lf_msg_type {
    LF_MSG_APPEND = 1,
    LF_MSG_APPEND_OK,
    LF_MSG_APPEND_REJECT,
    LF_MSG_VOTE_REQ,
    LF_MSG_VOTE,
};

enum lf_reject {
    LF_REJECT_STALE = 1,   /* your epoch is older than mine: step down */
    LF_REJECT_MISMATCH,    /* prev_seq/prev_epoch do not match: retry from hint */
    LF_REJECT_LEADER,      /* I am a leader myself (epochs off: split brain) */
};

/* Append (and heartbeat, with no entries): header, then n_entries entries. */
struct lf_append {
    uint32_t type;
    uint32_t n_entries;
    int64_t epoch;
    int32_t leader;
    int32_t pad;
    uint64_t prev_seq;
    int64_t prev_epoch;
    uint64_t leader_commit;
    uint64_t leader_last;   /* the leader's last seq when it sent this */
};

struct lf_append_reply {
    uint32_t type;        /* LF_MSG_APPEND_OK or LF_MSG_APPEND_REJECT */
    uint32_t reason;      /* reject: enum lf_reject */
    int64_t epoch;        /* the follower's epoch */
    uint64_t match_seq;   /* ok: the log matches the leader's up to here */
    uint64_t hint;        /* mismatch: retry with prev_seq = hint */
    int32_t leader;       /* stale: who leads the follower's epoch, or -1 */
    int32_t pad;
};

struct lf_vote_req {
    uint32_t type;
    int32_t candidate;
    int64_t epoch;        /* the epoch the candidate wants to lead */
    uint64_t last_seq;
    int64_t last_epoch;
};

struct lf_vote {
    uint32_t type;
    int32_t granted;
    int64_t epoch;        /* the epoch asked for */
    int64_t voted_epoch;  /* the highest epoch the voter has voted in */
};

/* The vote, as kept in the store under "voted". */
struct lf_voted {
    int64_t epoch;
    int32_t candidate;
    int32_t pad;
};

/* ---- state ---------------------------------------------------------------- */

enum lf_role { LF_FOLLOWER, LF_CANDIDATE, LF_LEADER };
enum lf_replication { LF_ASYNC, LF_SYNC, LF_SEMISYNC };

#define LF_TIMER_HEARTBEAT 1u
#define LF_TIMER_ELECTION 2u


/* A client operation whose entry is in the log but not yet acknowledged. */
struct lf_pending {
    struct sim_op op;
    uint64_t seq;
};

struct lf_dedup_slot {
    uint64_t op_id;
    uint64_t seq;         /* 0 = empty slot */
};

struct lf_cfg {
    enum lf_replication replication;
    int64_t semisync_acks;
    bool reads_any;
    bool epochs;
    bool failover;
    bool sync_writes;
    sim_time heartbeat;
    sim_time election_timeout;
};

struct lf_state {
    int self;
    int n;
    const char **names;            /* node names, owned by the world */
    struct lf_cfg cfg;

    enum lf_role role;
    int64_t epoch;                 /* the epoch this node has adopted */
    int leader;                    /* who it believes leads, or -1 */
    int64_t voted_epoch;           /* durable: the highest epoch voted in */
    int voted_for;

    struct lf_entry *log;          /* log[i] has seq i + 1 */
    size_t log_len;
    size_t log_cap;
    uint64_t commit;               /* entries 1..commit are applied to kv */

    struct kv_entry *kv;              /* sorted by key */
    size_t n_kv;
    size_t cap_kv;

    struct lf_dedup_slot *dedup;   /* op id -> seq, open addressing */
    size_t dedup_cap;
    size_t dedup_used;

    bool has_election_timer;
    uint64_t election_timer;
    bool has_heartbeat_timer;
    uint64_t heartbeat_timer;
    sim_time heard_leader_at;      /* local clock: last append from a leader */
    sim_time election_reset_at;    /* local clock: the election countdown start */
    sim_time election_wait;        /* election_timeout + this node's jitter */

    int64_t cand_epoch;            /* candidate: the epoch it asks for */
    int64_t seen_epoch;            /* highest epoch anyone asked votes for */
    int votes;
    bool *voted_me;                /* candidate: per node */

    uint64_t *match;               /* leader: per node, highest seq known replicated */
    uint64_t *next;                /* leader: per node, next seq to send */
    struct lf_pending *pending;
    size_t n_pending;
    size_t cap_pending;

    uint64_t discarded;            /* entries ever truncated away */
    uint64_t elections;            /* elections started */

    unsigned char *buf;            /* scratch for outgoing appends */
    size_t buf_cap;
};

static const struct model_param lf_params[] = {
    { "replication", PARAM_ENUM, "async", "async|sync|semisync",
      "when the leader acknowledges a write: at once, after every follower, after semisync_acks followers" },
    { "semisync_acks", PARAM_INT, "1", NULL,
      "semisync: followers that must have a write before it is acknowledged" },
    { "reads", PARAM_ENUM, "leader", "leader|any",
      "who answers reads: only the leader, or any node from its local (maybe stale) copy" },
    { "epochs", PARAM_BOOL, "true", NULL,
      "epochs fence a deposed leader; false lets two leaders accept writes (split brain)" },
    { "failover", PARAM_BOOL, "true", NULL,
      "followers elect a new leader when the leader goes silent" },
    { "heartbeat", PARAM_TIME, "50ms", NULL,
      "how often the leader sends (possibly empty) appends" },
    { "election_timeout", PARAM_TIME, "300ms", NULL,
      "silence after which a follower stands for election (plus up to half of it at random)" },
    { "sync_writes", PARAM_BOOL, "true", NULL,
      "log entries are synced to the durable store before they are acted on" },
    { NULL, 0, NULL, NULL, NULL },
};

static const char *lf_role_name(enum lf_role r)
{
    return r == LF_LEADER ? "leader" : r == LF_CANDIDATE ? "candidate" : "follower";
}

static uint64_t lf_last_seq(const struct lf_state *s) { return s->log_len; }

static int64_t lf_last_epoch(const struct lf_state *s)
{
    return s->log_len ? s->log[s->log_len - 1].epoch : 0;
}

/* ---- the map -------------------------------------------------------------- */

static bool lf_kv_get(const struct lf_state *s, const char *key, int64_t *value)
{
    return kvmap_get(s->kv, s->n_kv, key, value);
}

static void lf_kv_set(struct lf_state *s, const char *key, int64_t value)
{
    kvmap_set(&s->kv, &s->n_kv, &s->cap_kv, key, value);
}

/* Apply entries commit+1..upto to the map. */
static void lf_apply_to(struct lf_state *s, uint64_t upto)
{
    if (upto > s->log_len)
        upto = s->log_len;
    for (uint64_t seq = s->commit + 1; seq <= upto; seq++)
        lf_kv_set(s, s->log[seq - 1].key, s->log[seq - 1].value);
    if (upto > s->commit)
        s->commit = upto;
}

/* Forget the map and apply the log again up to commit (after a truncation
 * took back applied entries). */
static void lf_rebuild_map(struct lf_state *s)
{
    uint64_t upto = s->commit;
    s->n_kv = 0;
    s->commit = 0;
    lf_apply_to(s, upto);
}

/* The newest value of key including entries not yet applied: what a cas on
 * the leader must compare against, or two cas could both succeed. */
static bool lf_latest_value(const struct lf_state *s, const char *key, int64_t *value)
{
    for (uint64_t seq = s->log_len; seq > s->commit; seq--)
        if (strcmp(s->log[seq - 1].key, key) == 0) {
            *value = s->log[seq - 1].value;
            return true;
        }
    return lf_kv_get(s, key, value);
}

/* ---- op id dedup ---------------------------------------------------------- */

static uint64_t lf_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static struct lf_dedup_slot *lf_dedup_slot(struct lf_state *s, uint64_t op_id)
{
    size_t mask = s->dedup_cap - 1;
    size_t i = (size_t)lf_mix(op_id) & mask;
    while (s->dedup[i].seq != 0 && s->dedup[i].op_id != op_id)
        i = (i + 1) & mask;
    return &s->dedup[i];
}

static void lf_dedup_put(struct lf_state *s, uint64_t op_id, uint64_t seq)
{
    if ((s->dedup_used + 1) * 2 > s->dedup_cap) {
        struct lf_dedup_slot *old = s->dedup;
        size_t old_cap = s->dedup_cap;
        s->dedup_cap = old_cap ? old_cap * 2 : 64;
        s->dedup = sim_xcalloc(s->dedup_cap, sizeof *s->dedup);
        s->dedup_used = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].seq) {
                *lf_dedup_slot(s, old[i].op_id) = old[i];
                s->dedup_used++;
            }
        sim_free(old);
    }
    struct lf_dedup_slot *slot = lf_dedup_slot(s, op_id);
    if (slot->seq == 0)
        s->dedup_used++;
    slot->op_id = op_id;
    slot->seq = seq;
}

/* The seq of op_id's entry in the current log, or 0. Slots are never
 * removed: a truncated entry's slot is recognised as stale here, because
 * the log no longer holds that op at that seq. */
static uint64_t lf_dedup_find(struct lf_state *s, uint64_t op_id)
{
    if (s->dedup_cap == 0)
        return 0;
    const struct lf_dedup_slot *slot = lf_dedup_slot(s, op_id);
    if (slot->seq == 0 || slot->seq > s->log_len || s->log[slot->seq - 1].op_id != op_id)
        return 0;
    return slot->seq;
}

/* ---- the durable store ---------------------------------------------------- */

static void lf_log_key(char *out, size_t outlen, uint64_t seq)
{
    snprintf(out, outlen, "log/%012llu", (unsigned long long)seq);
}

static void lf_store_epoch(struct lf_state *s, node_ctx *ctx)
{
    node_store_put(ctx, "epoch", &s->epoch, sizeof s->epoch);
    node_store_sync(ctx);   /* an epoch or a vote must never be forgotten */
}

static void lf_store_vote(struct lf_state *s, node_ctx *ctx)
{
    struct lf_voted v = { s->voted_epoch, s->voted_for, 0 };
    node_store_put(ctx, "voted", &v, sizeof v);
    node_store_sync(ctx);
}

/* Append e to the log (memory and store, not synced). */
static void lf_log_append(struct lf_state *s, node_ctx *ctx, const struct lf_entry *e)
{
    char key[32];
    SIM_GROW(s->log, s->log_cap, s->log_len + 1);
    s->log[s->log_len++] = *e;
    lf_log_key(key, sizeof key, e->seq);
    node_store_put(ctx, key, e, sizeof *e);
    lf_dedup_put(s, e->op_id, e->seq);
}

struct lf_scan {
    struct lf_state *s;
};

static int lf_scan_entry(void *arg, const char *key, const void *val, size_t len)
{
    struct lf_state *s = ((struct lf_scan *)arg)->s;
    struct lf_entry e;
    (void)key;
    if (len != sizeof e)
        return 1;
    memcpy(&e, val, sizeof e);
    /* keys sort by seq (zero-padded), so a gap or a bad entry ends the log */
    if (e.seq != s->log_len + 1 || memchr(e.key, 0, sizeof e.key) == NULL)
        return 1;
    SIM_GROW(s->log, s->log_cap, s->log_len + 1);
    s->log[s->log_len++] = e;
    lf_dedup_put(s, e.op_id, e.seq);
    return 0;
}

/* Rebuild epoch, vote and log from the store. Returns false on first boot
 * (an empty store: no epoch was ever written). */
static bool lf_recover(struct lf_state *s, node_ctx *ctx)
{
    size_t len;
    const void *v = node_store_get(ctx, "epoch", &len);
    if (!v || len != sizeof s->epoch)
        return false;
    memcpy(&s->epoch, v, sizeof s->epoch);
    v = node_store_get(ctx, "voted", &len);
    if (v && len == sizeof(struct lf_voted)) {
        struct lf_voted voted;
        memcpy(&voted, v, sizeof voted);
        s->voted_epoch = voted.epoch;
        s->voted_for = voted.candidate;
    }
    struct lf_scan scan = { s };
    store_scan(node_store(ctx), "log/", lf_scan_entry, &scan);
    return true;
}

/* ---- timers --------------------------------------------------------------- */

static sim_time lf_draw_election_wait(struct lf_state *s, node_ctx *ctx)
{
    sim_time t = s->cfg.election_timeout;
    return t + node_random_range(ctx, 0, t / 2);
}

static void lf_arm_election(struct lf_state *s, node_ctx *ctx, sim_time delay)
{
    if (s->has_election_timer)
        node_timer_cancel(ctx, s->election_timer);
    s->election_timer = node_timer_set(ctx, delay, LF_TIMER_ELECTION);
    s->has_election_timer = true;
}

static void lf_cancel_timers(struct lf_state *s, node_ctx *ctx)
{
    if (s->has_election_timer)
        node_timer_cancel(ctx, s->election_timer);
    if (s->has_heartbeat_timer)
        node_timer_cancel(ctx, s->heartbeat_timer);
    s->has_election_timer = false;
    s->has_heartbeat_timer = false;
}

/* ---- replies to clients --------------------------------------------------- */

/* Reply to every pending operation whose entry is now acknowledged. */
static void lf_reply_committed(struct lf_state *s, node_ctx *ctx)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_pending; i++) {
        struct lf_pending *p = &s->pending[i];
        if (p->seq <= s->commit)
            node_reply_ok(ctx, &p->op, false, 0);
        else
            s->pending[kept++] = *p;
    }
    s->n_pending = kept;
}

/* Answer op (whose entry is seq) now if acknowledged, else when it is. A
 * retry replaces the earlier attempt, since only the newest is listened to. */
static void lf_answer_when_committed(struct lf_state *s, node_ctx *ctx, const struct sim_op *op, uint64_t seq)
{
    if (seq <= s->commit) {
        node_reply_ok(ctx, op, false, 0);
        return;
    }
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].op.id == op->id) {
            s->pending[i].op = *op;
            s->pending[i].seq = seq;
            return;
        }
    SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
    s->pending[s->n_pending++] = (struct lf_pending){ *op, seq };
}

/* ---- the leader ----------------------------------------------------------- */

static int lf_cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Move the leader's commit to what the replication mode allows: async,
 * everything; sync, what every follower has; semisync, what the
 * semisync_acks-th best follower has. Then apply and answer clients. */
static void lf_leader_advance(struct lf_state *s, node_ctx *ctx)
{
    uint64_t target = s->log_len;
    int followers = s->n - 1;
    int64_t need = s->cfg.replication == LF_SYNC ? followers
                 : s->cfg.replication == LF_SEMISYNC ? s->cfg.semisync_acks : 0;
    if (need > followers)
        need = followers;
    if (need > 0) {
        uint64_t matches[64];
        uint64_t *m = followers <= 64 ? matches : sim_xmalloc((size_t)followers * sizeof *m);
        int k = 0;
        for (int i = 0; i < s->n; i++)
            if (i != s->self)
                m[k++] = s->match[i];
        qsort(m, (size_t)k, sizeof *m, lf_cmp_desc);
        target = m[need - 1];
        if (m != matches)
            sim_free(m);
    }
    if (target > s->commit) {
        lf_apply_to(s, target);
        lf_reply_committed(s, ctx);
    }
}

/* Send node `to` the entries from its next seq (at most a batch), or an
 * empty heartbeat if it has everything. Pipelines: next moves past what was
 * sent; a lost message is found by the follower's mismatch reply. */
static void lf_send_append(struct lf_state *s, node_ctx *ctx, int to)
{
    uint64_t next = s->next[to];
    if (next < 1)
        next = 1;
    if (next > s->log_len + 1)
        next = s->log_len + 1;
    uint64_t prev = next - 1;
    uint64_t count = s->log_len - prev;
    if (count > LF_MAX_BATCH)
        count = LF_MAX_BATCH;
    size_t len = sizeof(struct lf_append) + (size_t)count * sizeof(struct lf_entry);
    if (s->buf_cap < len) {
        sim_free(s->buf);
        s->buf = sim_xmalloc(len);
        s->buf_cap = len;
    }
    struct lf_append h;
    memset(&h, 0, sizeof h);
    h.type = LF_MSG_APPEND;
    h.n_entries = (uint32_t)count;
    h.epoch = s->epoch;
    h.leader = s->self;
    h.prev_seq = prev;
    h.prev_epoch = prev ? s->log[prev - 1].epoch : 0;
    h.leader_commit = s->commit;
    h.leader_last = s->log_len;
    memcpy(s->buf, &h, sizeof h);
    if (count)
        memcpy(s->buf + sizeof h, &s->log[prev], (size_t)count * sizeof(struct lf_entry));
    node_send(ctx, to, s->buf, len);
    s->next[to] = prev + count + 1;
}

static void lf_send_appends(struct lf_state *s, node_ctx *ctx)
{
    for (int i = 0; i < s->n; i++)
        if (i != s->self)
            lf_send_append(s, ctx, i);
}

static void lf_become_leader(struct lf_state *s, node_ctx *ctx, int64_t epoch)
{
    lf_cancel_timers(s, ctx);
    s->role = LF_LEADER;
    s->epoch = epoch;
    s->leader = s->self;
    s->n_pending = 0;
    lf_store_epoch(s, ctx);
    node_set_role(ctx, "leader", s->epoch);
    for (int i = 0; i < s->n; i++) {
        s->match[i] = 0;
        s->next[i] = s->log_len + 1;
    }
    s->match[s->self] = s->log_len;
    lf_leader_advance(s, ctx);
    /* the first heartbeat goes out from a 0-delay timer, never from init */
    s->heartbeat_timer = node_timer_set(ctx, 0, LF_TIMER_HEARTBEAT);
    s->has_heartbeat_timer = true;
}

/* ---- followers and candidates --------------------------------------------- */

/* Become (or stay) a follower of `leader` (-1: unknown), adopting epoch if
 * it is newer. A deposed leader drops its pending client operations
 * unanswered: they may or may not survive, so the client must see info. */
static void lf_become_follower(struct lf_state *s, node_ctx *ctx, int64_t epoch, int leader)
{
    if (epoch > s->epoch) {
        s->epoch = epoch;
        lf_store_epoch(s, ctx);
    }
    if (s->role == LF_LEADER && s->has_heartbeat_timer) {
        node_timer_cancel(ctx, s->heartbeat_timer);
        s->has_heartbeat_timer = false;
    }
    bool was_follower = s->role == LF_FOLLOWER;
    s->role = LF_FOLLOWER;
    s->leader = leader;
    s->n_pending = 0;
    node_set_role(ctx, "follower", s->epoch);
    if (!was_follower) {
        s->election_reset_at = node_clock(ctx);
        if (s->cfg.failover)
            lf_arm_election(s, ctx, s->election_wait);
    }
}

static void lf_start_election(struct lf_state *s, node_ctx *ctx)
{
    /* Ask for an epoch nobody has asked for yet, as far as this node
     * knows: reusing one that others already voted in can never win, and
     * two candidates could otherwise keep blocking each other. */
    int64_t base = s->epoch > s->voted_epoch ? s->epoch : s->voted_epoch;
    if (s->seen_epoch > base)
        base = s->seen_epoch;
    s->cand_epoch = base + 1;
    s->role = LF_CANDIDATE;
    s->leader = -1;
    s->elections++;
    s->voted_epoch = s->cand_epoch;
    s->voted_for = s->self;
    lf_store_vote(s, ctx);
    /* the role note shows the epoch asked for; the node adopts it only on
     * winning, so a candidate cut off from the others cannot disrupt them */
    node_set_role(ctx, "candidate", s->cand_epoch);
    for (int i = 0; i < s->n; i++)
        s->voted_me[i] = false;
    s->voted_me[s->self] = true;
    s->votes = 1;
    s->election_reset_at = node_clock(ctx);
    s->election_wait = lf_draw_election_wait(s, ctx);
    if (s->votes * 2 > s->n) {
        lf_become_leader(s, ctx, s->cand_epoch);
        return;
    }
    struct lf_vote_req req;
    memset(&req, 0, sizeof req);
    req.type = LF_MSG_VOTE_REQ;
    req.candidate = s->self;
    req.epoch = s->cand_epoch;
    req.last_seq = lf_last_seq(s);
    req.last_epoch = lf_last_epoch(s);
    node_broadcast(ctx, &req, sizeof req);
    lf_arm_election(s, ctx, s->election_wait);
}

/* Discard entries from seq on, noting each one: this is how a trace shows
 * acknowledged writes being lost. */
static void lf_truncate(struct lf_state *s, node_ctx *ctx, uint64_t seq, int by)
{
    jw *j = node_note_begin(ctx, "discard");
    if (j) {
        jw_kint(j, "epoch", s->epoch);
        jw_kstr(j, "by", by >= 0 ? s->names[by] : "restart");
        jw_key(j, "entries");
        jw_arr(j);
        for (uint64_t q = seq; q <= s->log_len; q++) {
            const struct lf_entry *e = &s->log[q - 1];
            jw_obj(j);
            jw_kint(j, "seq", (int64_t)e->seq);
            jw_kint(j, "epoch", e->epoch);
            jw_kstr(j, "key", e->key);
            jw_kint(j, "value", e->value);
            jw_kint(j, "op", (int64_t)e->op_id);
            jw_kstr(j, "kind", e->kind == LF_KIND_CAS ? "cas" : "write");
            jw_obj_end(j);
        }
        jw_arr_end(j);
        node_note_end(ctx);
    }
    char key[32];
    for (uint64_t q = seq; q <= s->log_len; q++) {
        lf_log_key(key, sizeof key, q);
        node_store_del(ctx, key);
    }
    s->discarded += s->log_len - (seq - 1);
    s->log_len = seq - 1;
    if (s->commit > s->log_len) {
        s->commit = s->log_len;
        lf_rebuild_map(s);
    }
}

/* ---- message handlers ----------------------------------------------------- */

static void lf_send_append_reply(struct lf_state *s, node_ctx *ctx, int to, uint32_t type,
                                 uint32_t reason, uint64_t match_seq, uint64_t hint)
{
    struct lf_append_reply r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.reason = reason;
    r.epoch = s->epoch;
    r.match_seq = match_seq;
    r.hint = hint;
    r.leader = s->leader;
    node_send(ctx, to, &r, sizeof r);
}

static bool lf_entry_valid(const struct lf_entry *e, uint64_t seq)
{
    return e->seq == seq && e->epoch >= 0 && memchr(e->key, 0, sizeof e->key) != NULL
        && (e->kind == LF_KIND_WRITE || e->kind == LF_KIND_CAS);
}

static void lf_on_append(struct lf_state *s, node_ctx *ctx, int from, const unsigned char *msg, size_t len)
{
    struct lf_append h;
    if (len < sizeof h)
        return;
    memcpy(&h, msg, sizeof h);
    if (h.n_entries > LF_MAX_BATCH
        || len != sizeof h + (size_t)h.n_entries * sizeof(struct lf_entry)
        || h.epoch < 0 || h.leader != from || h.leader_last < h.prev_seq + h.n_entries)
        return;
    const unsigned char *body = msg + sizeof h;
    for (uint32_t i = 0; i < h.n_entries; i++) {
        struct lf_entry e;
        memcpy(&e, body + (size_t)i * sizeof e, sizeof e);
        if (!lf_entry_valid(&e, h.prev_seq + 1 + i))
            return;
    }

    if (s->role == LF_LEADER) {
        if (s->cfg.epochs && h.epoch > s->epoch) {
            lf_become_follower(s, ctx, h.epoch, from);
        } else {
            uint32_t why = s->cfg.epochs && h.epoch < s->epoch ? LF_REJECT_STALE : LF_REJECT_LEADER;
            lf_send_append_reply(s, ctx, from, LF_MSG_APPEND_REJECT, why, 0, 0);
            return;
        }
    }
    if (s->cfg.epochs && h.epoch < s->epoch) {
        lf_send_append_reply(s, ctx, from, LF_MSG_APPEND_REJECT, LF_REJECT_STALE, 0, 0);
        return;
    }
    /* accept `from` as the leader (without epochs, whoever sends) */
    lf_become_follower(s, ctx, h.epoch, from);
    s->heard_leader_at = node_clock(ctx);
    s->election_reset_at = s->heard_leader_at;

    if (h.prev_seq > s->log_len) {
        lf_send_append_reply(s, ctx, from, LF_MSG_APPEND_REJECT, LF_REJECT_MISMATCH, 0, s->log_len);
        return;
    }
    if (h.prev_seq > 0 && s->log[h.prev_seq - 1].epoch != h.prev_epoch) {
        /* skip back over the whole conflicting epoch in one round trip */
        int64_t bad = s->log[h.prev_seq - 1].epoch;
        uint64_t first = h.prev_seq;
        while (first > 1 && s->log[first - 2].epoch == bad)
            first--;
        lf_send_append_reply(s, ctx, from, LF_MSG_APPEND_REJECT, LF_REJECT_MISMATCH, 0, first - 1);
        return;
    }

    bool wrote = false;
    for (uint32_t i = 0; i < h.n_entries; i++) {
        struct lf_entry e;
        memcpy(&e, body + (size_t)i * sizeof e, sizeof e);
        if (e.seq <= s->log_len) {
            if (s->log[e.seq - 1].epoch == e.epoch)
                continue;   /* already have it (same seq and epoch: same entry) */
            lf_truncate(s, ctx, e.seq, from);
        }
        lf_log_append(s, ctx, &e);
        wrote = true;
    }
    /* Entries past the leader's last seq from another epoch cannot be in
     * the leader's log: drop them now rather than when the leader's next
     * write arrives, so a deposed leader's lost writes show at once and
     * the replicas converge even if no write follows. (Entries of the
     * leader's own epoch may just be newer than this message.) */
    if (s->log_len > h.leader_last) {
        uint64_t q = h.leader_last + 1;
        while (q <= s->log_len && s->log[q - 1].epoch == h.epoch)
            q++;
        if (q <= s->log_len) {
            lf_truncate(s, ctx, q, from);
            wrote = true;
        }
    }
    if (wrote && s->cfg.sync_writes)
        node_store_sync(ctx);
    uint64_t match = h.prev_seq + h.n_entries;
    lf_apply_to(s, h.leader_commit < match ? h.leader_commit : match);
    lf_send_append_reply(s, ctx, from, LF_MSG_APPEND_OK, 0, match, 0);
}

static void lf_on_append_reply(struct lf_state *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct lf_append_reply r;
    if (len != sizeof r)
        return;
    memcpy(&r, msg, sizeof r);
    if (s->role != LF_LEADER)
        return;
    if (s->cfg.epochs && r.epoch > s->epoch) {
        /* the follower names the leader of its epoch, so clients sent
         * here can be redirected at once */
        int leader = r.leader >= 0 && r.leader < s->n && r.leader != s->self ? r.leader : -1;
        lf_become_follower(s, ctx, r.epoch, leader);
        return;
    }
    if (r.type == LF_MSG_APPEND_OK) {
        /* with epochs, an ack from another epoch answers another leadership */
        if (r.match_seq > s->log_len || (s->cfg.epochs && r.epoch != s->epoch))
            return;
        if (r.match_seq > s->match[from])
            s->match[from] = r.match_seq;
        if (s->next[from] <= s->match[from])
            s->next[from] = s->match[from] + 1;
        lf_leader_advance(s, ctx);
        if (s->role == LF_LEADER && s->next[from] <= s->log_len && s->next[from] == s->match[from] + 1)
            lf_send_append(s, ctx, from);   /* more than one batch behind */
    } else if (r.reason == LF_REJECT_MISMATCH) {
        uint64_t hint = r.hint < s->log_len ? r.hint : s->log_len;
        /* The follower's log agrees with ours at most up to hint. Usually
         * match is below that already, but a follower that crashed with
         * unsynced entries (sync_writes=false) has lost what it acked. */
        if (s->match[from] > hint)
            s->match[from] = hint;
        s->next[from] = hint + 1;
        lf_send_append(s, ctx, from);
    }
}

static bool lf_up_to_date(const struct lf_state *s, int64_t last_epoch, uint64_t last_seq)
{
    int64_t my_epoch = lf_last_epoch(s);
    return last_epoch > my_epoch || (last_epoch == my_epoch && last_seq >= lf_last_seq(s));
}

static void lf_on_vote_req(struct lf_state *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct lf_vote_req req;
    if (len != sizeof req)
        return;
    memcpy(&req, msg, sizeof req);
    if (req.candidate != from)
        return;
    if (req.epoch > s->seen_epoch)
        s->seen_epoch = req.epoch;
    sim_time now = node_clock(ctx);
    bool heard = s->role == LF_LEADER || now - s->heard_leader_at < s->cfg.election_timeout;
    bool free_vote = req.epoch > s->voted_epoch
                  || (req.epoch == s->voted_epoch && s->voted_for == from);
    bool granted = s->cfg.failover && !heard && req.epoch > s->epoch && free_vote
                && lf_up_to_date(s, req.last_epoch, req.last_seq);
    if (granted) {
        if (req.epoch != s->voted_epoch || s->voted_for != from) {
            s->voted_epoch = req.epoch;
            s->voted_for = from;
            lf_store_vote(s, ctx);
        }
        if (s->role == LF_CANDIDATE)
            lf_become_follower(s, ctx, s->epoch, -1);
        s->election_reset_at = now;   /* give the candidate time to win */
    }
    struct lf_vote v;
    memset(&v, 0, sizeof v);
    v.type = LF_MSG_VOTE;
    v.granted = granted;
    v.epoch = req.epoch;
    v.voted_epoch = s->voted_epoch;
    node_send(ctx, from, &v, sizeof v);
}

static void lf_on_vote(struct lf_state *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct lf_vote v;
    if (len != sizeof v)
        return;
    memcpy(&v, msg, sizeof v);
    if (v.voted_epoch > s->seen_epoch)
        s->seen_epoch = v.voted_epoch;
    if (s->role != LF_CANDIDATE || v.epoch != s->cand_epoch || !v.granted || s->voted_me[from])
        return;
    s->voted_me[from] = true;
    s->votes++;
    if (s->votes * 2 > s->n) {
        jw *j = node_note_begin(ctx, "elected");
        if (j) {
            jw_kint(j, "epoch", s->cand_epoch);
            jw_kint(j, "votes", s->votes);
            jw_kint(j, "last_seq", (int64_t)lf_last_seq(s));
            node_note_end(ctx);
        }
        lf_become_leader(s, ctx, s->cand_epoch);
    }
}

/* ---- callbacks ------------------------------------------------------------ */

static void lf_read_cfg(struct lf_cfg *c, const params *p)
{
    c->replication = params_is(p, "replication", "sync") ? LF_SYNC
                   : params_is(p, "replication", "semisync") ? LF_SEMISYNC : LF_ASYNC;
    c->semisync_acks = params_int(p, "semisync_acks");
    c->reads_any = params_is(p, "reads", "any");
    c->epochs = params_bool(p, "epochs");
    c->failover = params_bool(p, "failover");
    c->sync_writes = params_bool(p, "sync_writes");
    c->heartbeat = params_time(p, "heartbeat");
    c->election_timeout = params_time(p, "election_timeout");
    if (c->heartbeat < 1)
        c->heartbeat = 1;
    if (c->election_timeout < 1)
        c->election_timeout = 1;
}

/* Boot or restart. On first boot (an empty store) node 0 leads epoch 1 and
 * the others follow it; after a crash a node rebuilds log, epoch and vote
 * from what its store kept and comes back as a follower of nobody (with
 * failover off, node 0 comes back as the leader it is configured to be). */
static void *lf_init(node_ctx *ctx)
{
    struct lf_state *s = sim_xcalloc(1, sizeof *s);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    lf_read_cfg(&s->cfg, node_params(ctx));
    s->names = sim_xcalloc((size_t)s->n, sizeof *s->names);
    for (int i = 0; i < s->n; i++)
        s->names[i] = node_name(ctx, i);
    s->voted_me = sim_xcalloc((size_t)s->n, sizeof *s->voted_me);
    s->match = sim_xcalloc((size_t)s->n, sizeof *s->match);
    s->next = sim_xcalloc((size_t)s->n, sizeof *s->next);
    s->voted_epoch = 0;
    s->voted_for = -1;
    s->heard_leader_at = node_clock(ctx);
    s->election_reset_at = s->heard_leader_at;
    s->election_wait = lf_draw_election_wait(s, ctx);

    bool restarted = lf_recover(s, ctx);
    if (!restarted) {
        s->epoch = 1;
        lf_store_epoch(s, ctx);
        if (s->self == 0) {
            lf_become_leader(s, ctx, 1);
            return s;
        }
        s->leader = 0;
    } else {
        s->leader = -1;
        /* async applies on append, so everything logged was applied;
         * sync and semisync wait for the leader to say what is committed */
        if (s->cfg.replication == LF_ASYNC)
            lf_apply_to(s, s->log_len);
        /* Without failover nobody else can ever lead, so node 0 is the
         * configured leader and takes its role back after a restart
         * (otherwise the cluster would stay leaderless forever). It does so
         * in a new epoch: it may have lost unsynced entries that followers
         * still hold, and its new entries must not share (seq, epoch) with
         * those, or the followers would take them for the same entries. */
        if (!s->cfg.failover && s->self == 0) {
            lf_become_leader(s, ctx, s->epoch + 1);
            return s;
        }
    }
    s->role = LF_FOLLOWER;
    node_set_role(ctx, "follower", s->epoch);
    if (s->cfg.failover)
        lf_arm_election(s, ctx, s->election_wait);
    return s;
}

static void lf_destroy(void *state)
{
    struct lf_state *s = state;
    if (!s)
        return;
    sim_free(s->names);
    sim_free(s->log);
    sim_free(s->kv);
    sim_free(s->dedup);
    sim_free(s->voted_me);
    sim_free(s->match);
    sim_free(s->next);
    sim_free(s->pending);
    sim_free(s->buf);
    sim_free(s);
}

static void lf_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct lf_state *s = state;
    uint32_t type;
    if (len < sizeof type || from < 0 || from >= s->n || from == s->self)
        return;
    memcpy(&type, msg, sizeof type);
    switch (type) {
    case LF_MSG_APPEND:
        lf_on_append(s, ctx, from, msg, len);
        break;
    case LF_MSG_APPEND_OK:
    case LF_MSG_APPEND_REJECT:
        lf_on_append_reply(s, ctx, from, msg, len);
        break;
    case LF_MSG_VOTE_REQ:
        lf_on_vote_req(s, ctx, from, msg, len);
        break;
    case LF_MSG_VOTE:
        lf_on_vote(s, ctx, from, msg, len);
        break;
    default:
        break;
    }
}

static void lf_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct lf_state *s = state;
    if (tag == LF_TIMER_HEARTBEAT) {
        s->has_heartbeat_timer = false;
        if (s->role != LF_LEADER)
            return;
        lf_send_appends(s, ctx);
        s->heartbeat_timer = node_timer_set(ctx, s->cfg.heartbeat, LF_TIMER_HEARTBEAT);
        s->has_heartbeat_timer = true;
    } else if (tag == LF_TIMER_ELECTION) {
        s->has_election_timer = false;
        if (s->role == LF_LEADER || !s->cfg.failover)
            return;
        sim_time waited = node_clock(ctx) - s->election_reset_at;
        if (waited < s->election_wait)
            lf_arm_election(s, ctx, s->election_wait - waited);
        else
            lf_start_election(s, ctx);
    }
}

static void lf_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct lf_state *s = state;
    if (!op->key || strlen(op->key) >= LF_KEY_MAX) {
        node_reply_fail(ctx, op, "key too long");
        return;
    }
    if (op->type == OP_READ) {
        int64_t value = 0;
        if (s->role == LF_LEADER || s->cfg.reads_any) {
            bool has = lf_kv_get(s, op->key, &value);
            node_reply_ok(ctx, op, has, value);
        } else {
            node_reply_redirect(ctx, op, s->leader, "not leader");
        }
        return;
    }
    if (op->type != OP_WRITE && op->type != OP_CAS) {
        node_reply_fail(ctx, op, "unknown operation");
        return;
    }
    if (s->role != LF_LEADER) {
        node_reply_redirect(ctx, op, s->leader, "not leader");
        return;
    }
    uint64_t seq = lf_dedup_find(s, op->id);
    if (seq) {
        lf_answer_when_committed(s, ctx, op, seq);
        return;
    }
    if (op->type == OP_CAS) {
        int64_t current;
        if (!lf_latest_value(s, op->key, &current) || current != op->expect) {
            node_reply_fail(ctx, op, "cas mismatch");
            return;
        }
    }
    struct lf_entry e;
    memset(&e, 0, sizeof e);
    e.epoch = s->epoch;
    e.seq = s->log_len + 1;
    e.op_id = op->id;
    e.value = op->value;
    e.kind = op->type == OP_CAS ? LF_KIND_CAS : LF_KIND_WRITE;
    e.client = op->client;
    memcpy(e.key, op->key, strlen(op->key));
    lf_log_append(s, ctx, &e);
    if (s->cfg.sync_writes)
        node_store_sync(ctx);
    s->match[s->self] = s->log_len;
    lf_leader_advance(s, ctx);
    lf_answer_when_committed(s, ctx, op, e.seq);
    lf_send_appends(s, ctx);
}

static const char *lf_msg_type_name(uint32_t type)
{
    switch (type) {
    case LF_MSG_APPEND: return "append";
    case LF_MSG_APPEND_OK: return "append_ok";
    case LF_MSG_APPEND_REJECT: return "append_reject";
    case LF_MSG_VOTE_REQ: return "vote_req";
    case LF_MSG_VOTE: return "vote";
    default: return "?";
    }
}

static void lf_describe_msg(const void *msg, size_t len, jw *out)
{
    uint32_t type = 0;
    if (len >= sizeof type)
        memcpy(&type, msg, sizeof type);
    jw_kstr(out, "type", lf_msg_type_name(type));
    if (type == LF_MSG_APPEND && len >= sizeof(struct lf_append)) {
        struct lf_append h;
        memcpy(&h, msg, sizeof h);
        jw_kint(out, "epoch", h.epoch);
        jw_kint(out, "n_entries", h.n_entries);
        jw_kint(out, "prev_seq", (int64_t)h.prev_seq);
        jw_kint(out, "prev_epoch", h.prev_epoch);
        jw_kint(out, "commit", (int64_t)h.leader_commit);
        jw_kint(out, "last_seq", (int64_t)h.leader_last);
    } else if ((type == LF_MSG_APPEND_OK || type == LF_MSG_APPEND_REJECT)
               && len == sizeof(struct lf_append_reply)) {
        struct lf_append_reply r;
        memcpy(&r, msg, sizeof r);
        jw_kint(out, "epoch", r.epoch);
        if (type == LF_MSG_APPEND_OK) {
            jw_kint(out, "match", (int64_t)r.match_seq);
        } else {
            jw_kstr(out, "reason", r.reason == LF_REJECT_STALE ? "stale epoch"
                                 : r.reason == LF_REJECT_MISMATCH ? "log mismatch" : "i am leader");
            if (r.reason == LF_REJECT_MISMATCH)
                jw_kint(out, "hint", (int64_t)r.hint);
        }
    } else if (type == LF_MSG_VOTE_REQ && len == sizeof(struct lf_vote_req)) {
        struct lf_vote_req q;
        memcpy(&q, msg, sizeof q);
        jw_kint(out, "epoch", q.epoch);
        jw_kint(out, "last_seq", (int64_t)q.last_seq);
        jw_kint(out, "last_epoch", q.last_epoch);
    } else if (type == LF_MSG_VOTE && len == sizeof(struct lf_vote)) {
        struct lf_vote v;
        memcpy(&v, msg, sizeof v);
        jw_kint(out, "epoch", v.epoch);
        jw_kbool(out, "granted", v.granted);
    }
}

static void lf_describe(const void *state, jw *out)
{
    const struct lf_state *s = state;
    jw_kstr(out, "role", lf_role_name(s->role));
    jw_kint(out, "epoch", s->epoch);
    jw_kstr(out, "leader", s->leader >= 0 ? s->names[s->leader] : "");
    jw_kint(out, "log_len", (int64_t)s->log_len);
    jw_kint(out, "last_seq", (int64_t)lf_last_seq(s));
    jw_kint(out, "last_epoch", lf_last_epoch(s));
    jw_kint(out, "commit", (int64_t)s->commit);
    jw_kint(out, "voted_epoch", s->voted_epoch);
    jw_kint(out, "discarded", (int64_t)s->discarded);
    jw_kint(out, "elections", (int64_t)s->elections);
    if (s->role == LF_LEADER) {
        jw_key(out, "acked");   /* per follower: highest seq it acknowledged */
        jw_obj(out);
        for (int i = 0; i < s->n; i++)
            if (i != s->self)
                jw_kint(out, s->names[i], (int64_t)s->match[i]);
        jw_obj_end(out);
        jw_kint(out, "pending", (int64_t)s->n_pending);
    }
    jw_key(out, "map");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++)
        jw_kint(out, s->kv[i].key, s->kv[i].value);
    jw_obj_end(out);
}

/* With epochs on, two nodes leading the same epoch is the one thing the
 * vote rules forbid (one durable vote per node per epoch, a majority to
 * win). Without epochs two leaders are expected, and not a bug. */
static int lf_check(const struct model_view *view, char *why, size_t whylen)
{
    if (!params_bool(view->params, "epochs"))
        return 0;
    for (int i = 0; i < view->n_nodes; i++) {
        const struct lf_state *a = view->states[i];
        if (!a || a->role != LF_LEADER)
            continue;
        for (int j = i + 1; j < view->n_nodes; j++) {
            const struct lf_state *b = view->states[j];
            if (b && b->role == LF_LEADER && b->epoch == a->epoch) {
                snprintf(why, whylen, "%s and %s are both leader of epoch %lld",
                         a->names[i], b->names[j], (long long)a->epoch);
                return 1;
            }
        }
    }
    return 0;
}

/* The CAP/PACELC class of a parameter set.
 *
 * P (a partition): does some side keep answering at the cost of consistency
 * (A), or refuse (C)? E (else, normal operation): does a client wait for
 * replication to get consistency (C), or get local latency (L)?
 *
 * - reads=any: followers answer reads from a copy that lags, in a partition
 *   and without one: PA/EL, whatever the write mode.
 * - sync: a write waits for every follower, so any cut-off node blocks all
 *   writes (PC), and every write pays the slowest follower's round trip
 *   (EC). A new leader cannot commit while the old one is cut off either,
 *   so leader reads are never stale.
 * - semisync: a write waits for semisync_acks followers (EC: latency paid
 *   for the copies); the side of a partition without enough followers
 *   cannot acknowledge writes (PC). Caveats the letters hide: acknowledged
 *   writes survive a failover only if semisync_acks + 1 copies always meet
 *   the voting majority (semisync_acks >= n/2), and a deposed leader may
 *   still answer reads (no lease). The brief suggested PC/EL; EL would say
 *   a write does not wait for a follower, and it does.
 * - async: a write is acknowledged before any follower has it (EL). With
 *   failover, both sides of a partition accept writes (the old leader
 *   until it hears a newer epoch), and one side's are later discarded: PA.
 *   Without failover only the leader's side writes, in one order: PC, as
 *   PNUTS (PC/EL). */
static const char *lf_cap_class(const params *p)
{
    if (params_is(p, "reads", "any"))
        return "PA/EL";
    if (params_is(p, "replication", "sync") || params_is(p, "replication", "semisync"))
        return "PC/EC";
    return params_bool(p, "failover") ? "PA/EL" : "PC/EL";
}

const struct model leader_follower_model = {
    .name = "leader_follower",
    .summary = "single-leader replication of a key-value map: async/sync/semisync, failover, epochs",
    .params = lf_params,
    .init = lf_init,
    .destroy = lf_destroy,
    .on_message = lf_on_message,
    .on_timer = lf_on_timer,
    .on_request = lf_on_request,
    .describe_msg = lf_describe_msg,
    .describe = lf_describe,
    .check = lf_check,
    .cap_class = lf_cap_class,
};
