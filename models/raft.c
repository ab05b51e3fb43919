/* raft: Raft consensus with a replicated key-value store on its log.
 *
 * The protocol of Ongaro and Ousterhout's paper and Ongaro's thesis:
 *   - leader election with terms, randomised timeouts drawn from the node's
 *     own stream and measured on its own (possibly skewed) clock, the log
 *     up-to-date rule, optional PreVote (thesis 9.6), and the rule that a
 *     node which heard from a leader within the election timeout neither
 *     votes nor adopts a newer term (thesis 4.2.3), which leases rely on;
 *   - AppendEntries with the consistency check and fast backtracking (the
 *     follower names the conflicting term and its first index);
 *   - a leader commits only by counting replicas of an entry of its own
 *     term (the rule that prevents the paper's Figure 8 anomaly), after
 *     appending a no-op on election so that happens soon;
 *   - durable state (term, vote, log, snapshot) written to the node store
 *     and synced before a vote or an append is answered; a restart rebuilds
 *     the node from the store; volatile commit and applied indexes restart
 *     from the snapshot;
 *   - a key-value state machine (read, write, cas) with client sessions: the
 *     last (op id, result) per client is part of the replicated state, so a
 *     retried operation is applied once and answered with its first result;
 *   - reads through the log, by ReadIndex (a heartbeat round confirms the
 *     leadership), by lease (the leader answers alone while a lease measured
 *     on its own clock runs: safe only while clocks drift little), or from
 *     any node's local copy (stale);
 *   - log compaction: a snapshot every snapshot_every applied entries, and
 *     InstallSnapshot to a follower whose next entry was compacted away.
 *
 * The check callback verifies the invariants of the paper's Figure 3 after
 * every event (election safety, log matching, leader completeness, state
 * machine safety) and that no node's commit index goes backwards. To make
 * that cheap, every node keeps, next to each log entry, a chain hash: the
 * hash of the entry and of the chain hash before it, so two equal chain
 * hashes at one index mean equal logs up to there. Applied entries get the
 * same chain in a separate array, so what a node applied can be compared
 * even after its log was (wrongly) rewritten.
 *
 * Mutants (param mutant) switch on one known bug each, for the checkers to
 * catch; see raft_mutants below.
 *
 * Messages and stored values are fixed-layout structs without padding;
 * every received message is validated by length and content and ignored
 * when malformed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "model.h"
#include "raft.h"
#include "store.h"

/* ---- formats on the wire and on disk --------------------------------------- */

#define RAFT_KEY_MAX KVMAP_KEY_MAX        /* key bytes including the NUL; longer keys are refused */
#define RAFT_BATCH_LIMIT 1024  /* the largest max_batch allowed */

enum raft_cmd { RAFT_CMD_NOOP = 1, RAFT_CMD_WRITE, RAFT_CMD_CAS, RAFT_CMD_READ };

/* One log entry: the same bytes in memory, in the store ("log/<index>") and
 * in append messages. Zero-filled, so equal entries are equal bytes. */
struct raft_entry {
    int64_t term;
    uint64_t index;
    uint64_t op_id;      /* the client operation, 0 for a no-op */
    int64_t value;       /* write, cas: the new value */
    int64_t expect;      /* cas: the value expected */
    int32_t cmd;         /* enum raft_cmd */
    int32_t client;      /* client index, -1 for a no-op */
    char key[RAFT_KEY_MAX];
};

enum raft_msg_type {
    RAFT_MSG_VOTE_REQ = 1,
    RAFT_MSG_VOTE,
    RAFT_MSG_APPEND,
    RAFT_MSG_APPEND_REPLY,
    RAFT_MSG_SNAPSHOT,
};

/* RequestVote, or its PreVote form (which changes nobody's state). */
struct raft_vote_req {
    uint32_t type;
    uint32_t prevote;
    int64_t term;          /* the term asked for */
    uint64_t last_index;
    int64_t last_term;
};

struct raft_vote {
    uint32_t type;
    uint32_t prevote;
    int64_t term;          /* the voter's term */
    int64_t req_term;      /* the term asked for */
    uint32_t granted;
    uint32_t pad;
};

/* AppendEntries (a heartbeat when n_entries is 0): header + entries. */
struct raft_append {
    uint32_t type;
    uint32_t n_entries;
    int64_t term;
    uint64_t prev_index;
    int64_t prev_term;
    uint64_t commit;       /* the leader's commit index */
    uint64_t round;        /* the leader's heartbeat round, echoed (ReadIndex) */
    int64_t sent_at;       /* the leader's clock at sending, echoed (leases) */
};

/* The answer to an append or a snapshot. */
struct raft_append_reply {
    uint32_t type;
    uint32_t success;
    int64_t term;
    uint64_t match;           /* success: the log matches the leader's up to here */
    uint64_t conflict_index;  /* failure: where the leader should try next */
    int64_t conflict_term;    /* failure: the term found at prev_index, or 0 */
    uint64_t round;
    int64_t sent_at;
};

/* InstallSnapshot: header + the snapshot blob (see raft_snap_header). */
struct raft_snapshot_msg {
    uint32_t type;
    uint32_t pad;
    int64_t term;
    uint64_t round;
    int64_t sent_at;
    uint64_t blob_len;
};

/* A snapshot blob: this header, then n_kv raft_kv, then n_sessions
 * raft_session. Stored under "snap" and sent as is. */
struct raft_snap_header {
    uint64_t last_index;
    int64_t last_term;
    uint64_t chain;        /* the chain hash at last_index */
    uint64_t n_kv;
    uint64_t n_sessions;
};


enum raft_result { RAFT_RES_OK = 1, RAFT_RES_MISMATCH };

/* A client session: the last operation applied for a client and its result. */
struct raft_session {
    int32_t client;
    int32_t result;        /* enum raft_result */
    uint64_t op_id;
    int64_t value;         /* read: the value */
    int32_t has_value;     /* read: the key had a value */
    int32_t pad;
};

/* Term and vote, as kept in the store under "hard". */
struct raft_hard {
    int64_t term;
    int32_t voted_for;
    int32_t pad;
};

/* ---- state ------------------------------------------------------------------ */

enum raft_role { RAFT_FOLLOWER, RAFT_CANDIDATE, RAFT_LEADER };
enum raft_reads { RAFT_READS_LOG, RAFT_READS_READINDEX, RAFT_READS_LEASE, RAFT_READS_FOLLOWER };
enum raft_mutant {
    RAFT_MUT_NONE,
    RAFT_MUT_VOTE_TWICE,
    RAFT_MUT_COMMIT_OLD_TERM,
    RAFT_MUT_SKIP_UP_TO_DATE,
    RAFT_MUT_REPLY_BEFORE_SYNC,
};

#define RAFT_TIMER_ELECTION 1u
#define RAFT_TIMER_HEARTBEAT 2u
#define RAFT_TIMER_SYNC 3u       /* mutant reply_before_sync: the lazy disk flush */

struct raft_cfg {
    sim_time heartbeat;
    sim_time election_timeout;
    sim_time lease;
    bool prevote;
    bool noop;
    enum raft_reads reads;
    uint64_t snapshot_every;
    uint32_t max_batch;
    enum raft_mutant mutant;
};

/* A client operation waiting for its entry to be applied. */
struct raft_pending {
    struct sim_op op;
    uint64_t index;
};

/* A read waiting for a heartbeat round to confirm the leadership. */
struct raft_read {
    struct sim_op op;
    uint64_t round;
};

struct raft_state {
    int self;
    int n;
    const char **names;        /* node names, owned by the world */
    struct raft_cfg cfg;

    /* durable */
    int64_t term;
    int voted_for;             /* -1: nobody in this term */

    /* the log: log[i] has index snap_index + 1 + i; chain[i] its chain hash */
    struct raft_entry *log;
    uint64_t *chain;
    size_t log_len, log_cap, chain_cap;
    uint64_t snap_index;
    int64_t snap_term;
    uint64_t snap_chain;
    unsigned char *snap_blob;  /* the latest snapshot, as stored and sent */
    size_t snap_len;

    /* volatile */
    enum raft_role role;
    int leader;                /* who leads this term, as far as known, or -1 */
    int64_t led_term;          /* the last term this node led, 0 if none (for check) */
    uint64_t commit;
    uint64_t applied;
    uint64_t checked_commit;   /* the commit index check saw last time */
    /* Bumped by every callback: check compares only pairs of nodes of
     * which at least one changed since it last looked (checked_version). */
    uint64_t version;
    uint64_t checked_version;
    bool check_failed;         /* the last check found a violation: look again */
    /* chain hashes of applied entries: achain[i] for index abase + 1 + i */
    uint64_t *achain;
    size_t a_len, a_cap;
    uint64_t abase;
    uint64_t abase_chain;
    /* the log was cut below applied (only a mutant's damage does that):
     * from then on the applied chain is computed, not copied from the log's */
    bool applied_rewritten;

    struct kv_entry *kv;        /* sorted by key */
    size_t n_kv, cap_kv;
    struct raft_session *sessions;   /* sorted by client */
    size_t n_sessions, cap_sessions;

    /* timers */
    bool has_election_timer;
    uint64_t election_timer;
    bool has_heartbeat_timer;
    uint64_t heartbeat_timer;
    sim_time heard_leader_at;  /* local clock: the last append from the leader */
    bool heard_leader;
    sim_time election_reset_at;
    sim_time election_wait;    /* this round's timeout: election_timeout + jitter */

    /* candidate and pre-candidate */
    bool prevoting;
    int votes;
    bool *voted_me;

    /* leader */
    uint64_t *next;
    uint64_t *match;
    uint64_t *ack_round;       /* per node: the highest round it answered this term */
    sim_time *ack_sent_at;     /* per node: the newest sent_at it echoed this term */
    uint64_t round;
    struct raft_pending *pending;
    size_t n_pending, cap_pending;
    struct raft_read *reads;
    size_t n_reads, cap_reads;

    /* statistics for describe */
    uint64_t elections;
    uint64_t snapshots;
    uint64_t duplicates;

    unsigned char *buf;        /* scratch for outgoing appends */
    size_t buf_cap;
    uint64_t *scratch;         /* n values, for the commit median */
    sim_time *scratch_t;
};

static const struct model_param raft_params[] = {
    { "heartbeat", PARAM_TIME, "50ms", NULL,
      "how often the leader sends appends (empty ones are heartbeats)" },
    { "election_timeout", PARAM_TIME, "150ms", NULL,
      "silence before a follower stands; each wait is drawn in [t, 2t) on its own clock" },
    { "prevote", PARAM_BOOL, "false", NULL,
      "a node first asks whether it could win (PreVote) before raising its term" },
    { "noop", PARAM_BOOL, "true", NULL,
      "a new leader appends a no-op entry, so entries of earlier terms commit soon" },
    { "reads", PARAM_ENUM, "log", "log|readindex|lease|follower",
      "reads go through the log, confirm leadership (ReadIndex), trust a lease, or any node answers" },
    { "lease_ratio", PARAM_NUM, "0.9", NULL,
      "reads=lease: the lease lasts this fraction of election_timeout on the leader's clock" },
    { "snapshot_every", PARAM_INT, "1000", NULL,
      "take a snapshot (and drop the log before it) every N applied entries; 0 = never" },
    { "max_batch", PARAM_INT, "64", NULL,
      "entries per append message" },
    { "mutant", PARAM_ENUM, "none", "none|vote_twice|commit_old_term|skip_up_to_date|reply_before_sync",
      "switch on one deliberate bug (see the mutants below)" },
    { NULL, 0, NULL, NULL, NULL },
};

static const struct model_mutant raft_mutants[] = {
    { "vote_twice", "a node grants its vote to every candidate of a term, not just the first" },
    { "commit_old_term", "a leader commits an entry of an earlier term by counting its replicas (Figure 8)" },
    { "skip_up_to_date", "a node grants votes without the log up-to-date check" },
    { "reply_before_sync", "followers answer votes and appends before their disk write is synced" },
    { NULL, NULL },
};

static const char *raft_role_name(enum raft_role r)
{
    return r == RAFT_LEADER ? "leader" : r == RAFT_CANDIDATE ? "candidate" : "follower";
}

static int raft_majority(const struct raft_state *s) { return s->n / 2 + 1; }

/* ---- the log ---------------------------------------------------------------- */

static uint64_t raft_last_index(const struct raft_state *s) { return s->snap_index + s->log_len; }

static int64_t raft_last_term(const struct raft_state *s)
{
    return s->log_len ? s->log[s->log_len - 1].term : s->snap_term;
}

/* The entry at index, or NULL if it is compacted away or beyond the log. */
static const struct raft_entry *raft_entry_at(const struct raft_state *s, uint64_t index)
{
    if (index <= s->snap_index || index > raft_last_index(s))
        return NULL;
    return &s->log[index - s->snap_index - 1];
}

/* The term of the entry at index: the snapshot's at snap_index, 0 at 0, -1
 * when unknown (compacted or beyond the log). */
static int64_t raft_term_at(const struct raft_state *s, uint64_t index)
{
    if (index == s->snap_index)
        return s->snap_term;
    const struct raft_entry *e = raft_entry_at(s, index);
    return e ? e->term : -1;
}

/* The chain hash at index, or false when unknown. */
static bool raft_chain_at(const struct raft_state *s, uint64_t index, uint64_t *out)
{
    if (index == s->snap_index) {
        *out = s->snap_chain;
        return true;
    }
    if (index < s->snap_index || index > raft_last_index(s))
        return false;
    *out = s->chain[index - s->snap_index - 1];
    return true;
}

/* The chain hash after entry e: a 64-bit mix of the previous chain hash
 * and the entry's bytes, a word at a time (the entry is 12 words). */
static uint64_t raft_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t raft_chain_next(uint64_t prev, const struct raft_entry *e)
{
    uint64_t h = raft_mix(prev + 0x9e3779b97f4a7c15ULL);
    const unsigned char *p = (const unsigned char *)e;
    for (size_t i = 0; i + 8 <= sizeof *e; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        h = raft_mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
    }
    return h;
}

/* "log/" and index as 20 zero-padded digits, so keys sort by index (by
 * hand: this runs for every entry stored or deleted). out has >= 25 bytes. */
static void raft_log_key(char *out, size_t outlen, uint64_t index)
{
    (void)outlen;
    memcpy(out, "log/", 4);
    for (int i = 23; i >= 4; i--) {
        out[i] = (char)('0' + index % 10);
        index /= 10;
    }
    out[24] = 0;
}

/* Append e in memory only (recovery). */
static void raft_log_push(struct raft_state *s, const struct raft_entry *e)
{
    uint64_t prev = 0;
    raft_chain_at(s, raft_last_index(s), &prev);
    SIM_GROW(s->log, s->log_cap, s->log_len + 1);
    SIM_GROW(s->chain, s->chain_cap, s->log_len + 1);
    s->log[s->log_len] = *e;
    s->chain[s->log_len] = raft_chain_next(prev, e);
    s->log_len++;
}

/* Append e to the log and to the store (not synced). */
static void raft_log_append(struct raft_state *s, node_ctx *ctx, const struct raft_entry *e)
{
    char key[40];
    raft_log_push(s, e);
    raft_log_key(key, sizeof key, e->index);
    node_store_put(ctx, key, e, sizeof *e);
}

/* Drop entries from index on, in memory and in the store (not synced). */
static void raft_log_truncate(struct raft_state *s, node_ctx *ctx, uint64_t index)
{
    char key[40];
    if (index <= s->applied)
        s->applied_rewritten = true;
    for (uint64_t i = index; i <= raft_last_index(s); i++) {
        raft_log_key(key, sizeof key, i);
        node_store_del(ctx, key);
    }
    s->log_len = (size_t)(index - s->snap_index - 1);
}

static void raft_store_hard(struct raft_state *s, node_ctx *ctx)
{
    struct raft_hard h = { s->term, s->voted_for, 0 };
    node_store_put(ctx, "hard", &h, sizeof h);
}

/* Make what was written durable before answering. The mutant
 * reply_before_sync leaves it to a periodic flush instead. */
static void raft_sync_before_reply(struct raft_state *s, node_ctx *ctx)
{
    if (s->cfg.mutant != RAFT_MUT_REPLY_BEFORE_SYNC)
        node_store_sync(ctx);
}

/* ---- the state machine ------------------------------------------------------ */

static bool raft_kv_get(const struct raft_state *s, const char *key, int64_t *value)
{
    return kvmap_get(s->kv, s->n_kv, key, value);
}

static void raft_kv_set(struct raft_state *s, const char *key, int64_t value)
{
    kvmap_set(&s->kv, &s->n_kv, &s->cap_kv, key, value);
}

static ptrdiff_t raft_session_find(const struct raft_state *s, int client)
{
    size_t lo = 0, hi = s->n_sessions;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->sessions[mid].client == client)
            return (ptrdiff_t)mid;
        if (s->sessions[mid].client < client)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ~(ptrdiff_t)lo;
}

static void raft_session_put(struct raft_state *s, const struct raft_session *se)
{
    ptrdiff_t i = raft_session_find(s, se->client);
    if (i >= 0) {
        s->sessions[i] = *se;
        return;
    }
    size_t pos = (size_t)~i;
    SIM_GROW(s->sessions, s->cap_sessions, s->n_sessions + 1);
    memmove(&s->sessions[pos + 1], &s->sessions[pos], (s->n_sessions - pos) * sizeof *s->sessions);
    s->sessions[pos] = *se;
    s->n_sessions++;
}

/* Apply one entry to the map and the sessions; *out is its result. A client
 * operation whose op id is not newer than its client's session was applied
 * before (a retry appended twice): it changes nothing and its result is the
 * first one (clients run one operation at a time, and op ids only grow). */
static void raft_sm_apply(struct raft_state *s, const struct raft_entry *e, struct raft_session *out)
{
    memset(out, 0, sizeof *out);
    out->client = e->client;
    out->op_id = e->op_id;
    out->result = RAFT_RES_OK;
    if (e->cmd == RAFT_CMD_NOOP)
        return;
    ptrdiff_t si = raft_session_find(s, e->client);
    if (si >= 0 && s->sessions[si].op_id >= e->op_id) {
        if (s->sessions[si].op_id == e->op_id)
            *out = s->sessions[si];
        s->duplicates++;
        return;
    }
    int64_t cur = 0;
    bool has = raft_kv_get(s, e->key, &cur);
    switch (e->cmd) {
    case RAFT_CMD_WRITE:
        raft_kv_set(s, e->key, e->value);
        break;
    case RAFT_CMD_CAS:
        if (has && cur == e->expect)
            raft_kv_set(s, e->key, e->value);
        else
            out->result = RAFT_RES_MISMATCH;
        break;
    case RAFT_CMD_READ:
        out->has_value = has;
        out->value = cur;
        break;
    default:
        break;
    }
    raft_session_put(s, out);
}

static void raft_answer(node_ctx *ctx, const struct sim_op *op, const struct raft_session *r)
{
    if (r->result == RAFT_RES_MISMATCH)
        node_reply_fail(ctx, op, "cas mismatch");
    else
        node_reply_ok(ctx, op, r->has_value, r->value);
}

/* ---- snapshots ---------------------------------------------------------------- */

/* Serialise the state machine as it is now (at applied) into a new blob. */
static unsigned char *raft_snap_encode(const struct raft_state *s, uint64_t index, int64_t term,
                                       uint64_t chain, size_t *len)
{
    struct raft_snap_header h = { index, term, chain, s->n_kv, s->n_sessions };
    *len = sizeof h + s->n_kv * sizeof *s->kv + s->n_sessions * sizeof *s->sessions;
    unsigned char *b = sim_xmalloc(*len);
    memcpy(b, &h, sizeof h);
    if (s->n_kv)
        memcpy(b + sizeof h, s->kv, s->n_kv * sizeof *s->kv);
    if (s->n_sessions)
        memcpy(b + sizeof h + s->n_kv * sizeof *s->kv, s->sessions, s->n_sessions * sizeof *s->sessions);
    return b;
}

/* Check a blob's layout; fill *h. Keys must be NUL-terminated and sorted,
 * sessions sorted, so a loaded map is as good as a built one. */
static bool raft_snap_valid(const unsigned char *b, size_t len, struct raft_snap_header *h)
{
    if (len < sizeof *h)
        return false;
    memcpy(h, b, sizeof *h);
    if (h->n_kv > len / sizeof(struct kv_entry) || h->n_sessions > len / sizeof(struct raft_session)
        || len != sizeof *h + h->n_kv * sizeof(struct kv_entry) + h->n_sessions * sizeof(struct raft_session)
        || h->last_term < 0)
        return false;
    const unsigned char *p = b + sizeof *h;
    char prev[RAFT_KEY_MAX] = "";
    for (uint64_t i = 0; i < h->n_kv; i++) {
        struct kv_entry kv;
        memcpy(&kv, p + i * sizeof kv, sizeof kv);
        if (!memchr(kv.key, 0, sizeof kv.key) || (i > 0 && strcmp(prev, kv.key) >= 0))
            return false;
        memcpy(prev, kv.key, sizeof prev);
    }
    p += h->n_kv * sizeof(struct kv_entry);
    int32_t prev_client = -1;
    for (uint64_t i = 0; i < h->n_sessions; i++) {
        struct raft_session se;
        memcpy(&se, p + i * sizeof se, sizeof se);
        if (se.client <= prev_client)
            return false;
        prev_client = se.client;
    }
    return true;
}

/* Load a valid blob into the state machine (map and sessions). */
static void raft_snap_load(struct raft_state *s, const unsigned char *b, const struct raft_snap_header *h)
{
    s->n_kv = 0;
    s->n_sessions = 0;
    SIM_GROW(s->kv, s->cap_kv, (size_t)h->n_kv + 1);
    SIM_GROW(s->sessions, s->cap_sessions, (size_t)h->n_sessions + 1);
    const unsigned char *p = b + sizeof *h;
    if (h->n_kv)
        memcpy(s->kv, p, (size_t)h->n_kv * sizeof *s->kv);
    s->n_kv = (size_t)h->n_kv;
    p += h->n_kv * sizeof *s->kv;
    if (h->n_sessions)
        memcpy(s->sessions, p, (size_t)h->n_sessions * sizeof *s->sessions);
    s->n_sessions = (size_t)h->n_sessions;
}

/* Restart the applied-chain record at index (a snapshot taken or loaded). */
static void raft_achain_rebase(struct raft_state *s, uint64_t index, uint64_t chain)
{
    if (index > s->abase && index <= s->abase + s->a_len) {
        size_t drop = (size_t)(index - s->abase);
        memmove(s->achain, s->achain + drop, (s->a_len - drop) * sizeof *s->achain);
        s->a_len -= drop;
    } else {
        s->a_len = 0;
    }
    s->abase = index;
    s->abase_chain = chain;
}

/* Take a snapshot at applied: store it, drop the log up to it. */
static void raft_take_snapshot(struct raft_state *s, node_ctx *ctx)
{
    uint64_t index = s->applied;
    int64_t term = raft_term_at(s, index);
    uint64_t chain = 0;
    if (term < 0 || !raft_chain_at(s, index, &chain))
        return;   /* the applied entry is not in the log (only after a mutant's damage) */
    sim_free(s->snap_blob);
    s->snap_blob = raft_snap_encode(s, index, term, chain, &s->snap_len);
    node_store_put(ctx, "snap", s->snap_blob, s->snap_len);
    char key[40];
    for (uint64_t i = s->snap_index + 1; i <= index; i++) {
        raft_log_key(key, sizeof key, i);
        node_store_del(ctx, key);
    }
    size_t drop = (size_t)(index - s->snap_index);
    memmove(s->log, s->log + drop, (s->log_len - drop) * sizeof *s->log);
    memmove(s->chain, s->chain + drop, (s->log_len - drop) * sizeof *s->chain);
    s->log_len -= drop;
    s->snap_index = index;
    s->snap_term = term;
    s->snap_chain = chain;
    raft_achain_rebase(s, index, chain);
    node_store_sync(ctx);
    s->snapshots++;
    jw *j = node_note_begin(ctx, "snapshot");
    if (j) {
        jw_kint(j, "index", (int64_t)index);
        jw_kint(j, "term", term);
        jw_kint(j, "keys", (int64_t)s->n_kv);
        node_note_end(ctx);
    }
}

/* ---- applying committed entries --------------------------------------------- */

static void raft_answer_pending(struct raft_state *s, node_ctx *ctx, uint64_t index,
                                const struct raft_entry *e, const struct raft_session *r)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_pending; i++) {
        struct raft_pending *p = &s->pending[i];
        if (p->index == index) {
            /* the entry at index may be another one than the op's (its
             * entry was overwritten): then the op stays unanswered */
            if (e->op_id == p->op.id)
                raft_answer(ctx, &p->op, r);
            continue;
        }
        s->pending[kept++] = *p;
    }
    s->n_pending = kept;
}

/* Apply entries applied+1..commit, answer the clients waiting for them (on
 * the leader), note the new commit index, and snapshot when due. */
static void raft_apply(struct raft_state *s, node_ctx *ctx)
{
    if (s->applied >= s->commit)
        return;
    uint64_t from = s->applied + 1;
    while (s->applied < s->commit) {
        const struct raft_entry *e = raft_entry_at(s, s->applied + 1);
        if (!e)
            break;   /* commit beyond the log: only after a mutant's damage */
        struct raft_session r;
        raft_sm_apply(s, e, &r);
        s->applied++;
        uint64_t prev = s->a_len ? s->achain[s->a_len - 1] : s->abase_chain;
        SIM_GROW(s->achain, s->a_cap, s->a_len + 1);
        /* while the applied entries are the log's prefix their chain is
         * the log's chain */
        s->achain[s->a_len++] = s->applied_rewritten ? raft_chain_next(prev, e)
                                                     : s->chain[s->applied - s->snap_index - 1];
        if (s->n_pending)
            raft_answer_pending(s, ctx, s->applied, e, &r);
    }
    /* only the leader notes commits: a follower's follow in its appends */
    jw *j = s->role == RAFT_LEADER ? node_note_begin(ctx, "commit") : NULL;
    if (j) {
        jw_kint(j, "from", (int64_t)from);
        jw_kint(j, "index", (int64_t)s->applied);
        jw_kint(j, "term", s->term);
        node_note_end(ctx);
    }
    if (s->cfg.snapshot_every > 0 && s->applied - s->snap_index >= s->cfg.snapshot_every)
        raft_take_snapshot(s, ctx);
}

/* ---- timers and roles --------------------------------------------------------- */

static sim_time raft_draw_election_wait(node_ctx *ctx, sim_time t)
{
    return t + node_random_range(ctx, 0, t - 1);
}

static void raft_arm_election(struct raft_state *s, node_ctx *ctx, sim_time delay)
{
    if (s->has_election_timer)
        node_timer_cancel(ctx, s->election_timer);
    s->election_timer = node_timer_set(ctx, delay, RAFT_TIMER_ELECTION);
    s->has_election_timer = true;
}

/* Start the election countdown again with a fresh random wait. */
static void raft_reset_election(struct raft_state *s, node_ctx *ctx)
{
    s->election_reset_at = node_clock(ctx);
    s->election_wait = raft_draw_election_wait(ctx, s->cfg.election_timeout);
    if (!s->has_election_timer)
        raft_arm_election(s, ctx, s->election_wait);
    /* an armed timer re-arms itself for the remaining time when it fires */
}

static void raft_stop_heartbeat(struct raft_state *s, node_ctx *ctx)
{
    if (s->has_heartbeat_timer) {
        node_timer_cancel(ctx, s->heartbeat_timer);
        s->has_heartbeat_timer = false;
    }
}

/* Adopt a newer term: forget the vote, persist (synced by the caller's
 * answer path or at once here). */
static void raft_adopt_term(struct raft_state *s, node_ctx *ctx, int64_t term)
{
    s->term = term;
    s->voted_for = -1;
    s->leader = -1;
    s->prevoting = false;
    raft_store_hard(s, ctx);
}

/* Become (or stay) a follower. A deposed leader drops its waiting clients
 * unanswered: their entries may or may not commit, so they must see info. */
static void raft_become_follower(struct raft_state *s, node_ctx *ctx, int leader)
{
    bool was = s->role == RAFT_FOLLOWER;
    if (s->role == RAFT_LEADER)
        raft_stop_heartbeat(s, ctx);
    s->role = RAFT_FOLLOWER;
    s->prevoting = false;
    s->leader = leader;
    s->n_pending = 0;
    s->n_reads = 0;
    node_set_role(ctx, "follower", s->term);
    if (!was)
        raft_reset_election(s, ctx);
}

static void raft_send_append(struct raft_state *s, node_ctx *ctx, int to);

static void raft_send_appends(struct raft_state *s, node_ctx *ctx)
{
    for (int i = 0; i < s->n; i++)
        if (i != s->self)
            raft_send_append(s, ctx, i);
}

static void raft_leader_advance(struct raft_state *s, node_ctx *ctx);

static void raft_become_leader(struct raft_state *s, node_ctx *ctx)
{
    if (s->has_election_timer) {
        node_timer_cancel(ctx, s->election_timer);
        s->has_election_timer = false;
    }
    s->role = RAFT_LEADER;
    s->leader = s->self;
    s->led_term = s->term;
    s->n_pending = 0;
    s->n_reads = 0;
    s->round = 0;
    node_set_role(ctx, "leader", s->term);
    jw *j = node_note_begin(ctx, "elected");
    if (j) {
        jw_kint(j, "term", s->term);
        jw_kint(j, "votes", s->votes);
        jw_kint(j, "last_index", (int64_t)raft_last_index(s));
        node_note_end(ctx);
    }
    for (int i = 0; i < s->n; i++) {
        s->next[i] = raft_last_index(s) + 1;
        s->match[i] = 0;
        s->ack_round[i] = 0;
        s->ack_sent_at[i] = INT64_MIN;
    }
    if (s->cfg.noop) {
        struct raft_entry e;
        memset(&e, 0, sizeof e);
        e.term = s->term;
        e.index = raft_last_index(s) + 1;
        e.cmd = RAFT_CMD_NOOP;
        e.client = -1;
        raft_log_append(s, ctx, &e);
        node_store_sync(ctx);
    }
    s->match[s->self] = raft_last_index(s);
    raft_leader_advance(s, ctx);   /* a 1-node cluster commits at once */
    raft_send_appends(s, ctx);
    raft_stop_heartbeat(s, ctx);
    s->heartbeat_timer = node_timer_set(ctx, s->cfg.heartbeat, RAFT_TIMER_HEARTBEAT);
    s->has_heartbeat_timer = true;
}

static bool raft_heard_leader_recently(const struct raft_state *s, node_ctx *ctx)
{
    if (s->role == RAFT_LEADER)
        return true;
    return s->heard_leader && node_clock(ctx) - s->heard_leader_at < s->cfg.election_timeout;
}

/* Stand for election: PreVote first if configured, else a new term. */
static void raft_start_election(struct raft_state *s, node_ctx *ctx, bool prevote)
{
    s->prevoting = prevote;
    for (int i = 0; i < s->n; i++)
        s->voted_me[i] = false;
    s->voted_me[s->self] = true;
    s->votes = 1;
    int64_t asked = s->term + 1;
    if (!prevote) {
        s->term = asked;
        s->voted_for = s->self;
        s->leader = -1;
        raft_store_hard(s, ctx);
        node_store_sync(ctx);
        s->role = RAFT_CANDIDATE;
        s->elections++;
        node_set_role(ctx, "candidate", s->term);
    }
    s->election_reset_at = node_clock(ctx);
    s->election_wait = raft_draw_election_wait(ctx, s->cfg.election_timeout);
    raft_arm_election(s, ctx, s->election_wait);
    if (s->votes >= raft_majority(s)) {   /* a 1-node cluster */
        if (prevote)
            raft_start_election(s, ctx, false);
        else
            raft_become_leader(s, ctx);
        return;
    }
    struct raft_vote_req req;
    memset(&req, 0, sizeof req);
    req.type = RAFT_MSG_VOTE_REQ;
    req.prevote = prevote;
    req.term = asked;
    req.last_index = raft_last_index(s);
    req.last_term = raft_last_term(s);
    node_broadcast(ctx, &req, sizeof req);
}

/* ---- the leader: replication, commit, reads ---------------------------------- */

static int raft_cmp_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static int raft_cmp_time_desc(const void *a, const void *b)
{
    sim_time x = *(const sim_time *)a, y = *(const sim_time *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Sort values in descending order: insertion sort for the usual few nodes
 * (qsort's overhead dominates there), qsort for big clusters. Equal values
 * are equal, so the order is the same either way. */
static void raft_sort_desc(uint64_t *v, int n)
{
    if (n > 16) {
        qsort(v, (size_t)n, sizeof *v, raft_cmp_desc);
        return;
    }
    for (int i = 1; i < n; i++) {
        uint64_t x = v[i];
        int j = i - 1;
        for (; j >= 0 && v[j] < x; j--)
            v[j + 1] = v[j];
        v[j + 1] = x;
    }
}

static void raft_sort_time_desc(sim_time *v, int n)
{
    if (n > 16) {
        qsort(v, (size_t)n, sizeof *v, raft_cmp_time_desc);
        return;
    }
    for (int i = 1; i < n; i++) {
        sim_time x = v[i];
        int j = i - 1;
        for (; j >= 0 && v[j] < x; j--)
            v[j + 1] = v[j];
        v[j + 1] = x;
    }
}

/* The leader's clock value from which a majority has acknowledged it
 * (INT64_MIN if none): the start of its lease. */
static sim_time raft_lease_start(struct raft_state *s, node_ctx *ctx)
{
    for (int i = 0; i < s->n; i++)
        s->scratch_t[i] = i == s->self ? node_clock(ctx) : s->ack_sent_at[i];
    raft_sort_time_desc(s->scratch_t, s->n);
    return s->scratch_t[raft_majority(s) - 1];
}

static bool raft_round_confirmed(const struct raft_state *s, uint64_t round)
{
    int acks = 1;
    for (int i = 0; i < s->n; i++)
        if (i != s->self && s->ack_round[i] >= round)
            acks++;
    return acks >= raft_majority(s);
}

/* A leader serves reads from its map only once an entry of its own term is
 * committed: before that its commit index may lag what earlier leaders
 * committed. */
static bool raft_current_term_committed(const struct raft_state *s)
{
    return raft_term_at(s, s->commit) == s->term;
}

static void raft_read_locally(struct raft_state *s, node_ctx *ctx, const struct sim_op *op)
{
    int64_t value = 0;
    bool has = raft_kv_get(s, op->key, &value);
    node_reply_ok(ctx, op, has, value);
}

/* Answer every waiting ReadIndex read whose round a majority confirmed. */
static void raft_serve_reads(struct raft_state *s, node_ctx *ctx)
{
    if (s->role != RAFT_LEADER || !s->n_reads || !raft_current_term_committed(s))
        return;
    size_t kept = 0;
    for (size_t i = 0; i < s->n_reads; i++) {
        if (raft_round_confirmed(s, s->reads[i].round))
            raft_read_locally(s, ctx, &s->reads[i].op);
        else
            s->reads[kept++] = s->reads[i];
    }
    s->n_reads = kept;
}

/* Commit what a majority holds, counting only entries of the current term
 * (the mutant commit_old_term counts any entry), then apply. */
static void raft_leader_advance(struct raft_state *s, node_ctx *ctx)
{
    for (int i = 0; i < s->n; i++)
        s->scratch[i] = s->match[i];
    raft_sort_desc(s->scratch, s->n);
    uint64_t n = s->scratch[raft_majority(s) - 1];
    if (n <= s->commit)
        return;
    if (raft_term_at(s, n) != s->term && s->cfg.mutant != RAFT_MUT_COMMIT_OLD_TERM)
        return;
    s->commit = n;
    raft_apply(s, ctx);
    raft_serve_reads(s, ctx);
}

static void raft_send_snapshot(struct raft_state *s, node_ctx *ctx, int to)
{
    struct raft_snapshot_msg m;
    memset(&m, 0, sizeof m);
    m.type = RAFT_MSG_SNAPSHOT;
    m.term = s->term;
    m.round = s->round;
    m.sent_at = node_clock(ctx);
    m.blob_len = s->snap_len;
    size_t len = sizeof m + s->snap_len;
    if (s->buf_cap < len) {
        sim_free(s->buf);
        s->buf = sim_xmalloc(len);
        s->buf_cap = len;
    }
    memcpy(s->buf, &m, sizeof m);
    memcpy(s->buf + sizeof m, s->snap_blob, s->snap_len);
    node_send(ctx, to, s->buf, len);
    /* pipelining: assume it arrives; a loss shows as a mismatch later */
    s->next[to] = s->snap_index + 1;
}

/* Send node `to` the entries from its next index (at most max_batch), or a
 * heartbeat if it has them all; a snapshot if its next entry is compacted. */
static void raft_send_append(struct raft_state *s, node_ctx *ctx, int to)
{
    uint64_t next = s->next[to];
    if (next < 1)
        next = 1;
    if (next > raft_last_index(s) + 1)
        next = raft_last_index(s) + 1;
    if (next <= s->snap_index) {
        raft_send_snapshot(s, ctx, to);
        return;
    }
    uint64_t prev = next - 1;
    uint64_t count = raft_last_index(s) - prev;
    if (count > s->cfg.max_batch)
        count = s->cfg.max_batch;
    size_t len = sizeof(struct raft_append) + (size_t)count * sizeof(struct raft_entry);
    if (s->buf_cap < len) {
        sim_free(s->buf);
        s->buf = sim_xmalloc(len);
        s->buf_cap = len;
    }
    struct raft_append h;
    memset(&h, 0, sizeof h);
    h.type = RAFT_MSG_APPEND;
    h.n_entries = (uint32_t)count;
    h.term = s->term;
    h.prev_index = prev;
    h.prev_term = raft_term_at(s, prev);
    h.commit = s->commit;
    h.round = s->round;
    h.sent_at = node_clock(ctx);
    memcpy(s->buf, &h, sizeof h);
    if (count)
        memcpy(s->buf + sizeof h, raft_entry_at(s, next), (size_t)count * sizeof(struct raft_entry));
    node_send(ctx, to, s->buf, len);
    s->next[to] = prev + count + 1;
}

/* ---- message handlers --------------------------------------------------------- */

static bool raft_up_to_date(const struct raft_state *s, int64_t last_term, uint64_t last_index)
{
    int64_t my = raft_last_term(s);
    return last_term > my || (last_term == my && last_index >= raft_last_index(s));
}

static void raft_on_vote_req(struct raft_state *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct raft_vote_req req;
    if (len != sizeof req)
        return;
    memcpy(&req, msg, sizeof req);
    if (req.term < 1 || req.last_term < 0 || req.prevote > 1)
        return;
    struct raft_vote v;
    memset(&v, 0, sizeof v);
    v.type = RAFT_MSG_VOTE;
    v.prevote = req.prevote;
    v.req_term = req.term;
    bool up_to_date = s->cfg.mutant == RAFT_MUT_SKIP_UP_TO_DATE
                   || raft_up_to_date(s, req.last_term, req.last_index);
    /* A node that hears from a live leader ignores candidates: they would
     * depose a working leader, and a lease relies on it (thesis 4.2.3). */
    bool sticky = raft_heard_leader_recently(s, ctx) && s->leader != from;
    if (req.prevote) {
        v.granted = !sticky && req.term > s->term && up_to_date;
        v.term = s->term;
        node_send(ctx, from, &v, sizeof v);
        return;
    }
    if (!sticky && req.term > s->term) {
        raft_adopt_term(s, ctx, req.term);
        if (s->role != RAFT_FOLLOWER)
            raft_become_follower(s, ctx, -1);
    }
    bool free_vote = s->voted_for == -1 || s->voted_for == from
                  || s->cfg.mutant == RAFT_MUT_VOTE_TWICE;
    if (!sticky && req.term == s->term && s->role == RAFT_FOLLOWER && free_vote && up_to_date) {
        v.granted = 1;
        if (s->voted_for != from) {
            s->voted_for = from;
            raft_store_hard(s, ctx);
        }
        raft_reset_election(s, ctx);   /* give the candidate time to win */
    }
    raft_sync_before_reply(s, ctx);
    v.term = s->term;
    node_send(ctx, from, &v, sizeof v);
}

static void raft_on_vote(struct raft_state *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct raft_vote v;
    if (len != sizeof v)
        return;
    memcpy(&v, msg, sizeof v);
    if (v.prevote > 1 || v.granted > 1)
        return;
    if (v.term > s->term) {
        raft_adopt_term(s, ctx, v.term);
        node_store_sync(ctx);
        raft_become_follower(s, ctx, -1);
        return;
    }
    if (!v.granted || s->voted_me[from])
        return;
    if (v.prevote) {
        if (!s->prevoting || s->role != RAFT_FOLLOWER || v.req_term != s->term + 1)
            return;
    } else if (s->role != RAFT_CANDIDATE || v.req_term != s->term) {
        return;
    }
    s->voted_me[from] = true;
    s->votes++;
    if (s->votes < raft_majority(s))
        return;
    if (v.prevote)
        raft_start_election(s, ctx, false);
    else
        raft_become_leader(s, ctx);
}

static void raft_send_append_reply(struct raft_state *s, node_ctx *ctx, int to, bool success,
                                   uint64_t match, uint64_t conflict_index, int64_t conflict_term,
                                   uint64_t round, sim_time sent_at)
{
    struct raft_append_reply r;
    memset(&r, 0, sizeof r);
    r.type = RAFT_MSG_APPEND_REPLY;
    r.success = success;
    r.term = s->term;
    r.match = match;
    r.conflict_index = conflict_index;
    r.conflict_term = conflict_term;
    r.round = round;
    r.sent_at = sent_at;
    node_send(ctx, to, &r, sizeof r);
}

/* A message from the leader of term `term` arrived: adopt the term, follow
 * `from`, and note when it was heard. Returns false if the term is stale. */
static bool raft_accept_leader(struct raft_state *s, node_ctx *ctx, int from, int64_t term)
{
    if (term < s->term)
        return false;
    if (term > s->term)
        raft_adopt_term(s, ctx, term);
    if (s->role != RAFT_FOLLOWER || s->leader != from)
        raft_become_follower(s, ctx, from);
    s->prevoting = false;   /* late PreVote grants must not start an election now */
    s->heard_leader = true;
    s->heard_leader_at = node_clock(ctx);
    s->election_reset_at = s->heard_leader_at;
    return true;
}

/* Raise the follower's commit index (never lower it) and apply. */
static void raft_follower_commit(struct raft_state *s, node_ctx *ctx, uint64_t leader_commit, uint64_t match)
{
    uint64_t c = leader_commit < match ? leader_commit : match;
    if (c > s->commit) {
        s->commit = c;
        raft_apply(s, ctx);
    }
}

static bool raft_entry_valid(const struct raft_entry *e, uint64_t index, int64_t max_term)
{
    return e->index == index && e->term >= 1 && e->term <= max_term
        && e->key[RAFT_KEY_MAX - 1] == 0
        && e->cmd >= RAFT_CMD_NOOP && e->cmd <= RAFT_CMD_READ;
}

static void raft_on_append(struct raft_state *s, node_ctx *ctx, int from, const unsigned char *msg, size_t len)
{
    struct raft_append h;
    if (len < sizeof h)
        return;
    memcpy(&h, msg, sizeof h);
    if (h.n_entries > RAFT_BATCH_LIMIT || len != sizeof h + (size_t)h.n_entries * sizeof(struct raft_entry)
        || h.term < 1 || h.prev_term < 0 || h.prev_index > UINT64_MAX / 2)
        return;
    const unsigned char *body = msg + sizeof h;
    int64_t prev_term = h.prev_term;
    for (uint32_t i = 0; i < h.n_entries; i++) {
        struct raft_entry e;
        memcpy(&e, body + (size_t)i * sizeof e, sizeof e);
        if (!raft_entry_valid(&e, h.prev_index + 1 + i, h.term) || e.term < prev_term)
            return;
        prev_term = e.term;
    }
    if (!raft_accept_leader(s, ctx, from, h.term)) {
        raft_send_append_reply(s, ctx, from, false, 0, 0, 0, h.round, h.sent_at);
        return;
    }
    /* the consistency check; entries up to snap_index are committed, so
     * they match the leader's whatever it sends */
    uint64_t last = raft_last_index(s);
    if (h.prev_index > last) {
        raft_sync_before_reply(s, ctx);
        raft_send_append_reply(s, ctx, from, false, 0, last + 1, 0, h.round, h.sent_at);
        return;
    }
    if (h.prev_index >= s->snap_index && raft_term_at(s, h.prev_index) != h.prev_term) {
        /* name the conflicting term and its first index, so the leader
         * skips the whole term in one round trip */
        int64_t bad = raft_term_at(s, h.prev_index);
        uint64_t first = h.prev_index;
        while (first - 1 > s->snap_index && raft_term_at(s, first - 1) == bad)
            first--;
        raft_sync_before_reply(s, ctx);
        raft_send_append_reply(s, ctx, from, false, 0, first, bad, h.round, h.sent_at);
        return;
    }
    for (uint32_t i = 0; i < h.n_entries; i++) {
        struct raft_entry e;
        memcpy(&e, body + (size_t)i * sizeof e, sizeof e);
        if (e.index <= s->snap_index)
            continue;
        if (e.index <= raft_last_index(s)) {
            if (raft_term_at(s, e.index) == e.term)
                continue;   /* same index and term: the same entry */
            raft_log_truncate(s, ctx, e.index);
        }
        raft_log_append(s, ctx, &e);
    }
    raft_sync_before_reply(s, ctx);
    uint64_t match = h.prev_index + h.n_entries;
    if (match < s->snap_index)
        match = s->snap_index;
    raft_follower_commit(s, ctx, h.commit, match);
    raft_send_append_reply(s, ctx, from, true, match, 0, 0, h.round, h.sent_at);
}

static void raft_on_snapshot(struct raft_state *s, node_ctx *ctx, int from, const unsigned char *msg, size_t len)
{
    struct raft_snapshot_msg m;
    struct raft_snap_header h;
    if (len < sizeof m)
        return;
    memcpy(&m, msg, sizeof m);
    if (m.term < 1 || m.blob_len != len - sizeof m || !raft_snap_valid(msg + sizeof m, (size_t)m.blob_len, &h)
        || h.last_term > m.term || h.last_index < 1)
        return;
    if (!raft_accept_leader(s, ctx, from, m.term)) {
        raft_send_append_reply(s, ctx, from, false, 0, 0, 0, m.round, m.sent_at);
        return;
    }
    if (h.last_index > s->commit) {
        /* keep the log after the snapshot if it continues it, else drop it */
        const struct raft_entry *e = raft_entry_at(s, h.last_index);
        size_t keep_from = 0, keep = 0;
        if (e && e->term == h.last_term) {
            keep_from = (size_t)(h.last_index - s->snap_index);
            keep = s->log_len - keep_from;
        }
        char key[40];
        for (uint64_t i = s->snap_index + 1; i <= raft_last_index(s); i++)
            if (keep == 0 || i <= h.last_index) {
                raft_log_key(key, sizeof key, i);
                node_store_del(ctx, key);
            }
        memmove(s->log, s->log + keep_from, keep * sizeof *s->log);
        s->log_len = keep;
        s->snap_index = h.last_index;
        s->snap_term = h.last_term;
        s->snap_chain = h.chain;
        /* recompute the chain of the kept suffix from the snapshot's */
        uint64_t prev = h.chain;
        for (size_t i = 0; i < keep; i++) {
            prev = raft_chain_next(prev, &s->log[i]);
            s->chain[i] = prev;
        }
        sim_free(s->snap_blob);
        s->snap_blob = sim_xmalloc((size_t)m.blob_len);
        memcpy(s->snap_blob, msg + sizeof m, (size_t)m.blob_len);
        s->snap_len = (size_t)m.blob_len;
        raft_snap_load(s, s->snap_blob, &h);
        s->commit = h.last_index;
        s->applied = h.last_index;
        raft_achain_rebase(s, h.last_index, h.chain);
        node_store_put(ctx, "snap", s->snap_blob, s->snap_len);
        jw *j = node_note_begin(ctx, "install_snapshot");
        if (j) {
            jw_kint(j, "index", (int64_t)h.last_index);
            jw_kint(j, "term", h.last_term);
            jw_kint(j, "kept", (int64_t)keep);
            node_note_end(ctx);
        }
    }
    raft_sync_before_reply(s, ctx);
    raft_send_append_reply(s, ctx, from, true, h.last_index, 0, 0, m.round, m.sent_at);
}

static void raft_on_append_reply(struct raft_state *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct raft_append_reply r;
    if (len != sizeof r)
        return;
    memcpy(&r, msg, sizeof r);
    if (r.success > 1)
        return;
    if (r.term > s->term) {
        raft_adopt_term(s, ctx, r.term);
        node_store_sync(ctx);
        raft_become_follower(s, ctx, -1);
        return;
    }
    if (s->role != RAFT_LEADER || r.term != s->term)
        return;
    /* an answer in our term confirms our leadership at r.round */
    if (r.round > s->ack_round[from] && r.round <= s->round)
        s->ack_round[from] = r.round;
    if (r.sent_at > s->ack_sent_at[from] && r.sent_at <= node_clock(ctx))
        s->ack_sent_at[from] = r.sent_at;
    uint64_t last = raft_last_index(s);
    if (r.success) {
        if (r.match > last)
            return;
        if (r.match > s->match[from])
            s->match[from] = r.match;
        if (s->next[from] <= s->match[from])
            s->next[from] = s->match[from] + 1;
        raft_leader_advance(s, ctx);
        if (s->role == RAFT_LEADER && s->next[from] <= raft_last_index(s)
            && s->next[from] == s->match[from] + 1)
            raft_send_append(s, ctx, from);   /* more than one batch behind */
    } else if (r.conflict_index > 0) {
        uint64_t next = r.conflict_index;
        if (r.conflict_term > 0) {
            /* the leader's last entry of the conflicting term, if it has
             * that term: the follower's entries of it may match up to there */
            for (uint64_t i = last; i > s->snap_index; i--) {
                int64_t t = raft_term_at(s, i);
                if (t == r.conflict_term) {
                    next = i + 1;
                    break;
                }
                if (t < r.conflict_term)
                    break;
            }
        }
        if (next > last + 1)
            next = last + 1;
        /* a follower that lost unsynced entries (a mutant) acked more than
         * it now has */
        if (s->match[from] >= next)
            s->match[from] = next - 1;
        s->next[from] = next;
        raft_send_append(s, ctx, from);
    }
    raft_serve_reads(s, ctx);
}

/* ---- callbacks ------------------------------------------------------------------ */

static void raft_read_cfg(struct raft_cfg *c, const params *p)
{
    c->heartbeat = params_time(p, "heartbeat");
    c->election_timeout = params_time(p, "election_timeout");
    c->prevote = params_bool(p, "prevote");
    c->noop = params_bool(p, "noop");
    c->reads = params_is(p, "reads", "readindex") ? RAFT_READS_READINDEX
             : params_is(p, "reads", "lease") ? RAFT_READS_LEASE
             : params_is(p, "reads", "follower") ? RAFT_READS_FOLLOWER : RAFT_READS_LOG;
    c->lease = (sim_time)((double)c->election_timeout * params_num(p, "lease_ratio"));
    int64_t every = params_int(p, "snapshot_every");
    c->snapshot_every = every > 0 ? (uint64_t)every : 0;
    int64_t batch = params_int(p, "max_batch");
    c->max_batch = batch < 1 ? 1 : batch > RAFT_BATCH_LIMIT ? RAFT_BATCH_LIMIT : (uint32_t)batch;
    c->mutant = params_is(p, "mutant", "vote_twice") ? RAFT_MUT_VOTE_TWICE
              : params_is(p, "mutant", "commit_old_term") ? RAFT_MUT_COMMIT_OLD_TERM
              : params_is(p, "mutant", "skip_up_to_date") ? RAFT_MUT_SKIP_UP_TO_DATE
              : params_is(p, "mutant", "reply_before_sync") ? RAFT_MUT_REPLY_BEFORE_SYNC : RAFT_MUT_NONE;
    if (c->heartbeat < 1)
        c->heartbeat = 1;
    if (c->election_timeout < 2)
        c->election_timeout = 2;
}

struct raft_scan {
    struct raft_state *s;
};

static int raft_scan_entry(void *arg, const char *key, const void *val, size_t len)
{
    struct raft_state *s = ((struct raft_scan *)arg)->s;
    struct raft_entry e;
    (void)key;
    if (len != sizeof e)
        return 1;
    memcpy(&e, val, sizeof e);
    if (e.index <= s->snap_index)
        return 0;   /* compacted, its deletion was not synced */
    /* keys sort by index (zero-padded): a gap or a bad entry ends the log */
    if (!raft_entry_valid(&e, raft_last_index(s) + 1, INT64_MAX) || e.term < raft_last_term(s))
        return 1;
    raft_log_push(s, &e);
    return 0;
}

/* Rebuild term, vote, snapshot and log from the store. */
static void raft_recover(struct raft_state *s, node_ctx *ctx)
{
    size_t len;
    const void *v = node_store_get(ctx, "hard", &len);
    if (v && len == sizeof(struct raft_hard)) {
        struct raft_hard h;
        memcpy(&h, v, sizeof h);
        if (h.term >= 0 && h.voted_for >= -1 && h.voted_for < s->n) {
            s->term = h.term;
            s->voted_for = h.voted_for;
        }
    }
    v = node_store_get(ctx, "snap", &len);
    struct raft_snap_header sh;
    if (v && raft_snap_valid(v, len, &sh)) {
        s->snap_blob = sim_xmalloc(len);
        memcpy(s->snap_blob, v, len);
        s->snap_len = len;
        raft_snap_load(s, s->snap_blob, &sh);
        s->snap_index = sh.last_index;
        s->snap_term = sh.last_term;
        s->snap_chain = sh.chain;
        s->commit = s->applied = sh.last_index;
        raft_achain_rebase(s, sh.last_index, sh.chain);
    }
    struct raft_scan scan = { s };
    store_scan(node_store(ctx), "log/", raft_scan_entry, &scan);
}

/* Boot or restart: everything durable comes back from the store; a node
 * starts as a follower of nobody and waits for a leader or its timeout. */
static void *raft_init(node_ctx *ctx)
{
    struct raft_state *s = sim_xcalloc(1, sizeof *s);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    raft_read_cfg(&s->cfg, node_params(ctx));
    s->names = sim_xcalloc((size_t)s->n, sizeof *s->names);
    for (int i = 0; i < s->n; i++)
        s->names[i] = node_name(ctx, i);
    s->voted_me = sim_xcalloc((size_t)s->n, sizeof *s->voted_me);
    s->next = sim_xcalloc((size_t)s->n, sizeof *s->next);
    s->match = sim_xcalloc((size_t)s->n, sizeof *s->match);
    s->ack_round = sim_xcalloc((size_t)s->n, sizeof *s->ack_round);
    s->ack_sent_at = sim_xcalloc((size_t)s->n, sizeof *s->ack_sent_at);
    s->scratch = sim_xcalloc((size_t)s->n, sizeof *s->scratch);
    s->scratch_t = sim_xcalloc((size_t)s->n, sizeof *s->scratch_t);
    s->voted_for = -1;
    s->leader = -1;
    raft_recover(s, ctx);
    s->checked_commit = s->commit;
    s->version = 1;
    s->role = RAFT_FOLLOWER;
    node_set_role(ctx, "follower", s->term);
    raft_reset_election(s, ctx);
    if (s->cfg.mutant == RAFT_MUT_REPLY_BEFORE_SYNC)
        node_timer_set(ctx, s->cfg.heartbeat, RAFT_TIMER_SYNC);
    return s;
}

static void raft_destroy(void *state)
{
    struct raft_state *s = state;
    if (!s)
        return;
    sim_free(s->names);
    sim_free(s->log);
    sim_free(s->chain);
    sim_free(s->snap_blob);
    sim_free(s->achain);
    sim_free(s->kv);
    sim_free(s->sessions);
    sim_free(s->voted_me);
    sim_free(s->next);
    sim_free(s->match);
    sim_free(s->ack_round);
    sim_free(s->ack_sent_at);
    sim_free(s->pending);
    sim_free(s->reads);
    sim_free(s->buf);
    sim_free(s->scratch);
    sim_free(s->scratch_t);
    sim_free(s);
}

static void raft_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct raft_state *s = state;
    s->version++;
    uint32_t type;
    if (len < sizeof type || from < 0 || from >= s->n || from == s->self)
        return;
    memcpy(&type, msg, sizeof type);
    switch (type) {
    case RAFT_MSG_VOTE_REQ:
        raft_on_vote_req(s, ctx, from, msg, len);
        break;
    case RAFT_MSG_VOTE:
        raft_on_vote(s, ctx, from, msg, len);
        break;
    case RAFT_MSG_APPEND:
        raft_on_append(s, ctx, from, msg, len);
        break;
    case RAFT_MSG_APPEND_REPLY:
        raft_on_append_reply(s, ctx, from, msg, len);
        break;
    case RAFT_MSG_SNAPSHOT:
        raft_on_snapshot(s, ctx, from, msg, len);
        break;
    default:
        break;
    }
}

static void raft_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct raft_state *s = state;
    s->version++;
    if (tag == RAFT_TIMER_HEARTBEAT) {
        s->has_heartbeat_timer = false;
        if (s->role != RAFT_LEADER)
            return;
        s->round++;
        raft_send_appends(s, ctx);
        s->heartbeat_timer = node_timer_set(ctx, s->cfg.heartbeat, RAFT_TIMER_HEARTBEAT);
        s->has_heartbeat_timer = true;
    } else if (tag == RAFT_TIMER_ELECTION) {
        s->has_election_timer = false;
        if (s->role == RAFT_LEADER)
            return;
        sim_time waited = node_clock(ctx) - s->election_reset_at;
        if (waited < s->election_wait)
            raft_arm_election(s, ctx, s->election_wait - waited);
        else
            raft_start_election(s, ctx, s->cfg.prevote && s->role == RAFT_FOLLOWER);
    } else if (tag == RAFT_TIMER_SYNC) {
        node_store_sync(ctx);
        node_timer_set(ctx, s->cfg.heartbeat, RAFT_TIMER_SYNC);
    }
}

/* Wait for the entry at index to be applied, then answer op. A retry
 * replaces the earlier attempt: only the newest is listened to. */
static void raft_wait_for(struct raft_state *s, const struct sim_op *op, uint64_t index)
{
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].op.id == op->id) {
            s->pending[i].op = *op;
            s->pending[i].index = index;
            return;
        }
    SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
    s->pending[s->n_pending++] = (struct raft_pending){ *op, index };
}

/* Wait for a heartbeat round started now to confirm the leadership. */
static void raft_read_index(struct raft_state *s, node_ctx *ctx, const struct sim_op *op)
{
    s->round++;
    SIM_GROW(s->reads, s->cap_reads, s->n_reads + 1);
    s->reads[s->n_reads++] = (struct raft_read){ *op, s->round };
    if (s->n == 1) {
        raft_serve_reads(s, ctx);
        return;
    }
    raft_send_appends(s, ctx);
}

static void raft_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct raft_state *s = state;
    s->version++;
    if (!op->key || strlen(op->key) >= RAFT_KEY_MAX) {
        node_reply_fail(ctx, op, "key too long");
        return;
    }
    if (op->type != OP_READ && op->type != OP_WRITE && op->type != OP_CAS) {
        node_reply_fail(ctx, op, "unknown operation");
        return;
    }
    if (op->type == OP_READ && s->cfg.reads == RAFT_READS_FOLLOWER) {
        raft_read_locally(s, ctx, op);
        return;
    }
    if (s->role != RAFT_LEADER) {
        node_reply_redirect(ctx, op, s->leader, "not leader");
        return;
    }
    if (op->type == OP_READ && s->cfg.reads != RAFT_READS_LOG) {
        if (s->cfg.reads == RAFT_READS_LEASE && raft_current_term_committed(s)
            && node_clock(ctx) < raft_lease_start(s, ctx) + s->cfg.lease) {
            raft_read_locally(s, ctx, op);
            return;
        }
        raft_read_index(s, ctx, op);   /* no lease (yet): confirm the leadership */
        return;
    }
    /* applied already? answer with the first result */
    ptrdiff_t si = raft_session_find(s, op->client);
    if (si >= 0 && s->sessions[si].op_id == op->id) {
        raft_answer(ctx, op, &s->sessions[si]);
        return;
    }
    /* in the log but not applied yet? wait for that entry */
    for (uint64_t i = raft_last_index(s); i > s->applied; i--) {
        const struct raft_entry *e = raft_entry_at(s, i);
        if (e && e->op_id == op->id && e->client == op->client) {
            raft_wait_for(s, op, i);
            return;
        }
    }
    struct raft_entry e;
    memset(&e, 0, sizeof e);
    e.term = s->term;
    e.index = raft_last_index(s) + 1;
    e.op_id = op->id;
    e.value = op->value;
    e.expect = op->expect;
    e.cmd = op->type == OP_WRITE ? RAFT_CMD_WRITE : op->type == OP_CAS ? RAFT_CMD_CAS : RAFT_CMD_READ;
    e.client = op->client;
    memcpy(e.key, op->key, strlen(op->key));
    raft_log_append(s, ctx, &e);
    node_store_sync(ctx);
    s->match[s->self] = raft_last_index(s);
    raft_wait_for(s, op, e.index);
    raft_leader_advance(s, ctx);
    if (s->role == RAFT_LEADER)
        raft_send_appends(s, ctx);
}

/* ---- description ---------------------------------------------------------------- */

static const char *raft_msg_type_name(uint32_t type)
{
    switch (type) {
    case RAFT_MSG_VOTE_REQ: return "vote_req";
    case RAFT_MSG_VOTE: return "vote";
    case RAFT_MSG_APPEND: return "append";
    case RAFT_MSG_APPEND_REPLY: return "append_reply";
    case RAFT_MSG_SNAPSHOT: return "snapshot";
    default: return "?";
    }
}

static void raft_describe_msg(const void *msg, size_t len, jw *out)
{
    uint32_t type = 0;
    if (len >= sizeof type)
        memcpy(&type, msg, sizeof type);
    jw_kstr(out, "type", raft_msg_type_name(type));
    if (type == RAFT_MSG_VOTE_REQ && len == sizeof(struct raft_vote_req)) {
        struct raft_vote_req q;
        memcpy(&q, msg, sizeof q);
        jw_kbool(out, "prevote", q.prevote != 0);
        jw_kint(out, "term", q.term);
        jw_kint(out, "last_index", (int64_t)q.last_index);
        jw_kint(out, "last_term", q.last_term);
    } else if (type == RAFT_MSG_VOTE && len == sizeof(struct raft_vote)) {
        struct raft_vote v;
        memcpy(&v, msg, sizeof v);
        jw_kbool(out, "prevote", v.prevote != 0);
        jw_kint(out, "term", v.term);
        jw_kint(out, "req_term", v.req_term);
        jw_kbool(out, "granted", v.granted != 0);
    } else if (type == RAFT_MSG_APPEND && len >= sizeof(struct raft_append)) {
        struct raft_append h;
        memcpy(&h, msg, sizeof h);
        jw_kint(out, "term", h.term);
        jw_kint(out, "prev_index", (int64_t)h.prev_index);
        jw_kint(out, "prev_term", h.prev_term);
        jw_kint(out, "entries", h.n_entries);
        jw_kint(out, "commit", (int64_t)h.commit);
        jw_kint(out, "round", (int64_t)h.round);
    } else if (type == RAFT_MSG_APPEND_REPLY && len == sizeof(struct raft_append_reply)) {
        struct raft_append_reply r;
        memcpy(&r, msg, sizeof r);
        jw_kint(out, "term", r.term);
        jw_kbool(out, "success", r.success != 0);
        if (r.success) {
            jw_kint(out, "match", (int64_t)r.match);
        } else if (r.conflict_index) {
            jw_kint(out, "conflict_index", (int64_t)r.conflict_index);
            jw_kint(out, "conflict_term", r.conflict_term);
        }
        jw_kint(out, "round", (int64_t)r.round);
    } else if (type == RAFT_MSG_SNAPSHOT && len >= sizeof(struct raft_snapshot_msg)) {
        struct raft_snapshot_msg m;
        struct raft_snap_header h;
        memcpy(&m, msg, sizeof m);
        jw_kint(out, "term", m.term);
        if (len >= sizeof m + sizeof h) {
            memcpy(&h, (const unsigned char *)msg + sizeof m, sizeof h);
            jw_kint(out, "last_index", (int64_t)h.last_index);
            jw_kint(out, "last_term", h.last_term);
            jw_kint(out, "keys", (int64_t)h.n_kv);
        }
    }
}

static void raft_describe(const void *state, jw *out)
{
    const struct raft_state *s = state;
    jw_kstr(out, "role", raft_role_name(s->role));
    jw_kint(out, "term", s->term);
    jw_kstr(out, "leader", s->leader >= 0 ? s->names[s->leader] : "");
    jw_kstr(out, "voted_for", s->voted_for >= 0 ? s->names[s->voted_for] : "");
    jw_kint(out, "commit", (int64_t)s->commit);
    jw_kint(out, "applied", (int64_t)s->applied);
    jw_kint(out, "last_index", (int64_t)raft_last_index(s));
    jw_kint(out, "last_term", raft_last_term(s));
    jw_kint(out, "log_len", (int64_t)s->log_len);
    jw_kint(out, "snapshot_index", (int64_t)s->snap_index);
    jw_kint(out, "snapshots", (int64_t)s->snapshots);
    jw_kint(out, "elections", (int64_t)s->elections);
    jw_kint(out, "sessions", (int64_t)s->n_sessions);
    if (s->role == RAFT_LEADER) {
        jw_key(out, "match");   /* per follower: highest index known replicated */
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

/* ---- inspection (tests) ------------------------------------------------------------ */

void raft_inspect(const void *state, struct raft_info *out)
{
    const struct raft_state *s = state;
    out->role = raft_role_name(s->role);
    out->term = s->term;
    out->voted_for = s->voted_for;
    out->leader = s->leader;
    out->commit = s->commit;
    out->applied = s->applied;
    out->last_index = raft_last_index(s);
    out->last_term = raft_last_term(s);
    out->log_len = s->log_len;
    out->snapshot_index = s->snap_index;
    out->duplicates = s->duplicates;
    out->keys = s->n_kv;
}

bool raft_value(const void *state, const char *key, int64_t *value)
{
    return raft_kv_get(state, key, value);
}

/* ---- invariants ------------------------------------------------------------------- */

/* The highest index k <= min(last indexes) above both snapshots where a and
 * b hold entries of the same term, or 0. Terms never decrease along a log,
 * so a run of terms the other log cannot match is skipped at once. */
static uint64_t raft_last_common_term(const struct raft_state *a, const struct raft_state *b)
{
    uint64_t k = raft_last_index(a) < raft_last_index(b) ? raft_last_index(a) : raft_last_index(b);
    uint64_t floor = a->snap_index > b->snap_index ? a->snap_index : b->snap_index;
    while (k > floor) {
        int64_t ta = raft_term_at(a, k), tb = raft_term_at(b, k);
        if (ta == tb)
            return k;
        const struct raft_state *hi = ta > tb ? a : b;
        int64_t t = ta > tb ? ta : tb;
        /* the first index of hi's run of term t, by binary search */
        uint64_t lo = hi->snap_index + 1, up = k;
        while (lo < up) {
            uint64_t mid = lo + (up - lo) / 2;
            if (raft_term_at(hi, mid) >= t)
                up = mid;
            else
                lo = mid + 1;
        }
        k = lo - 1;
    }
    return 0;
}

/* Log matching: if two logs have an entry of the same index and term, they
 * are identical up to it. Checking the highest such index suffices: equal
 * chain hashes there mean equal prefixes, and a difference anywhere below
 * shows in the chain hash there too. */
static int raft_check_log_matching(const struct raft_state *a, const struct raft_state *b,
                                   char *why, size_t whylen)
{
    uint64_t k = raft_last_common_term(a, b);
    uint64_t ca, cb;
    if (k == 0) {
        /* compare at the higher snapshot if the other still has that index */
        k = a->snap_index > b->snap_index ? a->snap_index : b->snap_index;
        if (k == 0 || raft_term_at(a, k) != raft_term_at(b, k) || raft_term_at(a, k) < 0)
            return 0;
    }
    if (!raft_chain_at(a, k, &ca) || !raft_chain_at(b, k, &cb) || ca == cb)
        return 0;
    snprintf(why, whylen, "log matching: %s and %s both have an entry of term %lld at index %llu "
             "but their logs differ before it", a->names[a->self], b->names[b->self],
             (long long)raft_term_at(a, k), (unsigned long long)k);
    return 1;
}

static bool raft_achain_at(const struct raft_state *s, uint64_t index, uint64_t *out)
{
    if (index == s->abase) {
        *out = s->abase_chain;
        return true;
    }
    if (index < s->abase || index > s->abase + s->a_len)
        return false;
    *out = s->achain[index - s->abase - 1];
    return true;
}

/* State machine safety: no two nodes applied different entries at one
 * index. Compared at the lower of the two applied indexes, by chain hash. */
static int raft_check_applied(const struct raft_state *a, const struct raft_state *b, char *why, size_t whylen)
{
    uint64_t k = a->applied < b->applied ? a->applied : b->applied;
    uint64_t ca, cb;
    if (k == 0 || !raft_achain_at(a, k, &ca) || !raft_achain_at(b, k, &cb) || ca == cb)
        return 0;
    /* name the first index where they differ, when both still know it */
    uint64_t lo = a->abase > b->abase ? a->abase : b->abase;
    uint64_t first = k;
    for (uint64_t i = lo + 1; i <= k; i++) {
        uint64_t x, y;
        if (raft_achain_at(a, i, &x) && raft_achain_at(b, i, &y) && x != y) {
            first = i;
            break;
        }
    }
    snprintf(why, whylen, "state machine safety: %s and %s applied different commands at index %llu",
             a->names[a->self], b->names[b->self], (unsigned long long)first);
    return 1;
}

/* Leader completeness: a leader of term T holds every entry committed in
 * terms up to T. A node whose term is at most T learned its commit index
 * from leaders of terms up to T, so its committed prefix must be in the
 * leader's log. */
static int raft_check_completeness(const struct raft_state *l, const struct raft_state *x,
                                   char *why, size_t whylen)
{
    uint64_t c = x->commit;
    if (x->term > l->term || c == 0 || c > raft_last_index(x) || c < x->snap_index)
        return 0;
    uint64_t cl, cx;
    bool missing = c > raft_last_index(l);
    if (!missing) {
        if (!raft_chain_at(l, c, &cl) || !raft_chain_at(x, c, &cx) || cl == cx)
            return 0;
    }
    snprintf(why, whylen, "leader completeness: %s leads term %lld but lacks entry %llu (term %lld), "
             "committed on %s", l->names[l->self], (long long)l->term, (unsigned long long)c,
             (long long)raft_term_at(x, c), x->names[x->self]);
    return 1;
}

static bool raft_changed(const struct raft_state *s)
{
    return s->version != s->checked_version || s->check_failed;
}

/* The pairwise invariants of a and b (i < j). */
static int raft_check_pair(const struct raft_state *a, const struct raft_state *b, char *why, size_t whylen)
{
    if (a->led_term > 0 && a->led_term == b->led_term) {
        snprintf(why, whylen, "election safety: %s and %s both lead term %lld",
                 a->names[a->self], b->names[b->self], (long long)a->led_term);
        return 1;
    }
    if (raft_check_log_matching(a, b, why, whylen) || raft_check_applied(a, b, why, whylen))
        return 1;
    if (a->role == RAFT_LEADER && raft_check_completeness(a, b, why, whylen))
        return 1;
    return b->role == RAFT_LEADER && raft_check_completeness(b, a, why, whylen);
}

/* The invariants of the Raft paper's Figure 3, over the up nodes, after
 * every event, plus: no node's commit index ever goes down. Every
 * invariant is about one node or a pair of nodes, so a pair where neither
 * node changed since the last check (in which all held) is skipped: an
 * event changes one node, which leaves n - 1 pairs to look at. */
static int raft_check(const struct model_view *view, char *why, size_t whylen)
{
    int bad = 0;
    for (int i = 0; i < view->n_nodes && !bad; i++) {
        const struct raft_state *s = view->states[i];
        if (s && s->commit < s->checked_commit) {
            snprintf(why, whylen, "commit index went back on %s: from %llu to %llu", s->names[i],
                     (unsigned long long)s->checked_commit, (unsigned long long)s->commit);
            bad = 1;
        }
    }
    for (int i = 0; i < view->n_nodes && !bad; i++) {
        const struct raft_state *a = view->states[i];
        if (!a)
            continue;
        for (int j = i + 1; j < view->n_nodes && !bad; j++) {
            const struct raft_state *b = view->states[j];
            if (b && (raft_changed(a) || raft_changed(b)))
                bad = raft_check_pair(a, b, why, whylen);
        }
    }
    /* remember what was seen (the only writes check makes to a state) */
    for (int i = 0; i < view->n_nodes; i++) {
        struct raft_state *s = view->states[i];
        if (!s)
            continue;
        s->checked_commit = s->commit;
        s->checked_version = s->version;
        s->check_failed = bad;
    }
    return bad;
}

/* ---- classes and parameter checks --------------------------------------------------- */

/* The CAP/PACELC class of a parameter set.
 *
 * Writes need a majority in every mode, so the minority side of a partition
 * refuses them (redirects, times out): PC. In normal operation a write
 * waits for a majority's round trip: EC.
 *   - reads=log and readindex: a read waits for a majority too: PC/EC.
 *   - reads=lease: the leader answers reads alone, but only while its lease
 *     runs, and the lease holds only if clocks drift less than the margin
 *     (1 - lease_ratio): PC/EC on that assumption; a skewed clock breaks it
 *     (scenario 22).
 *   - reads=follower: any node answers reads from its own copy, inside a
 *     minority too and without waiting for anyone, so reads can be stale
 *     in normal operation (EL); writes still need a majority, so a minority
 *     side refuses them (PC). PC/EL, like PNUTS in Abadi's paper: the cap
 *     checker judges a side that serves reads but refuses writes as PC. */
static const char *raft_cap_class(const params *p)
{
    if (params_is(p, "reads", "follower"))
        return "PC/EL";
    return "PC/EC";
}

static int raft_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    sim_time hb = params_time(p, "heartbeat");
    sim_time et = params_time(p, "election_timeout");
    double ratio = params_num(p, "lease_ratio");
    int64_t every = params_int(p, "snapshot_every");
    int64_t batch = params_int(p, "max_batch");
    (void)n_nodes;   /* any count works: see docs/models/raft.md for even counts and 1 node */
    if (hb <= 0) {
        snprintf(err, errlen, "raft: heartbeat must be above 0");
        return -1;
    }
    if (et <= hb) {
        snprintf(err, errlen, "raft: election_timeout (%lld ns) must be above heartbeat (%lld ns), "
                 "or followers would stand for election between two heartbeats",
                 (long long)et, (long long)hb);
        return -1;
    }
    if (!(ratio > 0.0 && ratio <= 1.0)) {
        snprintf(err, errlen, "raft: lease_ratio must be above 0 and at most 1, got %g", ratio);
        return -1;
    }
    if (every < 0) {
        snprintf(err, errlen, "raft: snapshot_every must be 0 (never) or more, got %lld", (long long)every);
        return -1;
    }
    if (batch < 1 || batch > RAFT_BATCH_LIMIT) {
        snprintf(err, errlen, "raft: max_batch must be 1 to %d, got %lld", RAFT_BATCH_LIMIT, (long long)batch);
        return -1;
    }
    if (params_is(p, "reads", "lease") && (double)et * ratio <= (double)hb) {
        snprintf(err, errlen, "raft: reads=lease needs a lease (election_timeout * lease_ratio) longer "
                 "than heartbeat, or it lapses between two heartbeats");
        return -1;
    }
    return 0;
}

const struct model raft_model = {
    .name = "raft",
    .summary = "Raft consensus with a replicated key-value store: elections, log, snapshots, read modes, mutants",
    .params = raft_params,
    .init = raft_init,
    .destroy = raft_destroy,
    .on_message = raft_on_message,
    .on_timer = raft_on_timer,
    .on_request = raft_on_request,
    .describe_msg = raft_describe_msg,
    .describe = raft_describe,
    .check = raft_check,
    .cap_class = raft_cap_class,
    .validate = raft_validate,
    .mutants = raft_mutants,
};
