/* multipaxos: a replicated log decided by Multi-Paxos, with a key-value
 * state machine (read, write, cas) on it.
 *
 * Every node is an acceptor and a learner; one of them, the distinguished
 * proposer (the leader), proposes. The log is a sequence of slots numbered
 * from 1; each slot is one instance of Paxos that decides one command.
 *
 *   - Election = phase 1 for every slot at once. A node that has heard
 *     nothing from a leader for its election timeout (the parameter plus a
 *     random part from its own stream, measured on its own clock) becomes a
 *     candidate with a ballot (round, node) higher than any it has seen, and
 *     sends prepare(ballot, from = its first unchosen slot). An acceptor
 *     promises a ballot not lower than its promise, syncs the promise, and
 *     answers with every slot >= from it has accepted (ballot, command) or
 *     knows chosen. A majority of promises makes the candidate leader. For
 *     each slot from its first unchosen one up to the highest slot any
 *     promise reported, it re-proposes the command with the highest ballot
 *     among the promises, or a no-op where no promise had anything (a gap).
 *     New commands go after them.
 *   - Phase 2 only, for new commands: the leader puts a client's command in
 *     the next slot and sends accept(ballot, slot, command) to every node.
 *     An acceptor whose promise is not higher accepts, syncs, and answers
 *     accepted. A majority of accepted at the leader's ballot = chosen. The
 *     leader applies chosen slots in order and answers the client when the
 *     command is applied; followers learn what is chosen from the leader's
 *     commit index in the next accept or heartbeat (an entry they accepted
 *     at the leader's ballot below that index is the chosen one) or ask for
 *     it (decide messages).
 *   - The leader sends an empty accept (a heartbeat, with its commit index)
 *     every `heartbeat`, and re-sends accepts for its slots not chosen yet.
 *     A nack (an acceptor promised a higher ballot) makes it a follower.
 *
 * Clients: non-leaders redirect to the leader they know (or -1). Reads go
 * through the log like writes (linearizable). Each applied command records
 * its result per client: a retried operation (same op id) that got into
 * the log twice is applied once and answered with the first result.
 *
 * Durable: the promised ballot, every accepted (slot, ballot, command), all
 * synced before the answer leaves; chosen commands are written unsynced (a
 * crash may forget them; they are learned again). One store record per
 * slot ("slot/%012llu"): slot numbers only grow, so records are appended.
 * Every snapshot_every applied slots a node snapshots its map (and the
 * per-client results) under "snap" and forgets older slots, so memory and
 * store stay bounded; a follower, or a candidate, that needs slots others
 * have forgotten gets a snapshot instead. A restart rebuilds the log and
 * the map from the store and comes back as a follower.
 *
 * Mutants (param mutant): accept_lower_ballot (an acceptor accepts an
 * accept whose ballot is lower than its promise, and lowers the promise),
 * ignore_promised_values (a new leader ignores what the promises reported
 * and starts new commands at its own first unchosen slot, overwriting
 * slots other nodes may have chosen). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "model.h"
#include "store.h"

/* ---- wire and disk formats ------------------------------------------------ */

#define MP_KEY_MAX KVMAP_KEY_MAX        /* key bytes including the NUL */
#define MP_MAX_NODES 64      /* vote sets are 64-bit masks */
#define MP_BATCH 64          /* entries per accept, promise or decide message */
#define MP_SLOT_WINDOW 1000000u  /* a slot this far past the first unchosen is refused */

struct mp_ballot {
    int64_t round;           /* 0 = no ballot */
    int32_t node;
    int32_t pad;
};

enum mp_kind { MP_NOOP = 1, MP_READ, MP_WRITE, MP_CAS };

/* One command, the same bytes in memory, on the wire and on disk. The key
 * is zero-filled after its NUL. */
struct mp_cmd {
    int32_t kind;            /* enum mp_kind */
    int32_t client;
    uint64_t op_id;
    int64_t value;
    int64_t expect;
    char key[MP_KEY_MAX];
};

enum mp_msg_type {
    MP_MSG_PREPARE = 1,
    MP_MSG_PROMISE,
    MP_MSG_NACK,
    MP_MSG_ACCEPT,
    MP_MSG_ACCEPTED,
    MP_MSG_DECIDE,
    MP_MSG_SNAPSHOT,
};

/* Every message starts with this header, then n items:
 *   prepare   slot = first slot asked for; no items
 *   promise   slot = the acceptor's first unchosen slot; n entries
 *   nack      ballot = the refused one, promised = the acceptor's; no items
 *   accept    slot = the leader's commit (slots below are chosen); n entries
 *   accepted  slot = the acceptor's first unchosen, slot2 = the commit of
 *             the accept it answers; n slot numbers (uint64)
 *   decide    n entries, every one chosen
 *   snapshot  slot = the last slot it covers; then a snapshot blob
 * A promise to a candidate whose first slot is compacted here has slot2 = 1
 * and a snapshot blob after its entries. */
struct mp_hdr {
    uint32_t type;
    uint32_t n;
    struct mp_ballot ballot;
    struct mp_ballot promised;
    uint64_t slot;
    uint64_t slot2;
};

struct mp_entry {
    uint64_t slot;
    struct mp_ballot ballot; /* the ballot it was accepted at */
    int32_t chosen;
    int32_t pad;
    struct mp_cmd cmd;
};

/* One slot on disk, under "slot/%012llu": what the acceptor accepted and
 * what the learner knows chosen. Slot numbers only grow, so a new record
 * sorts last in the store (an insertion at the end moves nothing). */
struct mp_disk_slot {
    struct mp_ballot acc_ballot;
    int32_t has_acc;
    int32_t chosen;
    struct mp_cmd acc;
    struct mp_cmd val;
};

/* A snapshot: the map and the per-client results as of applying slots
 * 1..upto, in the store under "snap" and in snapshot messages: this
 * header, n_kv map entries (struct kv_entry), n_results results (struct
 * mp_result, indexed by client). */
struct mp_snap_hdr {
    uint64_t upto;
    uint64_t base;           /* store only: the first slot kept in "slot/" records */
    uint32_t n_kv;
    uint32_t n_results;
};

static int mp_cmp(struct mp_ballot a, struct mp_ballot b)
{
    if (a.round != b.round)
        return a.round < b.round ? -1 : 1;
    if (a.node != b.node)
        return a.node < b.node ? -1 : 1;
    return 0;
}

/* ---- state ---------------------------------------------------------------- */

enum mp_role { MP_FOLLOWER, MP_CANDIDATE, MP_LEADER };
enum mp_mutant { MP_MUT_NONE, MP_MUT_ACCEPT_LOWER, MP_MUT_IGNORE_PROMISED };

#define MP_TIMER_ELECTION 1u
#define MP_TIMER_HEARTBEAT 2u

struct mp_slot {
    struct mp_ballot acc_ballot;  /* acceptor: what it accepted */
    struct mp_cmd acc;
    bool has_acc;
    bool chosen;                  /* learner: the decided command */
    struct mp_cmd val;
    bool proposed;                /* leader: proposed at its ballot (the command is acc) */
    uint64_t votes;               /* leader: acceptors that accepted it at its ballot */
};

/* What a client's latest applied operation returned, for duplicates. */
struct mp_result {
    uint64_t op_id;               /* 0 = none yet */
    int32_t status;               /* REPLY_OK or REPLY_FAIL */
    int32_t has_value;
    int64_t value;
};


/* Recovery: per slot from the candidate's first unchosen one, the highest
 * accepted command any promise reported. */
struct mp_rec {
    struct mp_ballot ballot;
    struct mp_cmd cmd;
    bool has;
};

struct mp_state {
    int self;
    int n;
    const char **names;
    sim_time heartbeat;
    sim_time election_timeout;
    uint64_t snapshot_every;      /* 0 = never compact */
    enum mp_mutant mutant;
    uint64_t snapshots;           /* compactions and installs */
    sim_time *snap_sent_at;       /* leader: per node, when it last sent a snapshot (0 = never) */

    enum mp_role role;
    struct mp_ballot promised;    /* durable */
    struct mp_ballot ballot;      /* candidate or leader: its own */
    int64_t max_round;            /* highest round seen */
    int leader;                   /* who this node believes leads, or -1 */

    struct mp_slot *log;          /* log[i] is slot base + i */
    uint64_t base;                /* slots below are in the snapshot, not here */
    uint64_t log_len;             /* the highest slot held (base - 1 if none) */
    size_t log_cap;
    uint64_t first_unchosen;      /* every slot below is chosen */
    uint64_t applied;             /* slots 1..applied are applied to the map */
    uint64_t n_chosen;
    uint64_t next_slot;           /* leader: where the next command goes */

    struct kv_entry *kv;             /* sorted by key */
    size_t n_kv, cap_kv;
    struct mp_result *results;    /* per client index */
    size_t n_results;

    struct sim_op *pending;       /* leader: operations waiting to be applied */
    size_t n_pending, cap_pending;

    /* candidate */
    uint64_t promised_by;
    uint64_t rec_from;
    struct mp_rec *rec;
    size_t n_rec, cap_rec;

    sim_time heard_at;            /* local clock: last word from the leader */
    sim_time election_wait;
    uint64_t election_timer;
    bool has_election_timer;
    uint64_t hb_timer;
    bool has_hb_timer;
    uint64_t elections;

    /* for the check: slots accepted or learned since it last ran, and the
     * promise it last saw */
    uint64_t *dirty;
    size_t n_dirty, cap_dirty;
    struct mp_ballot checked_promised;
    /* a second, different command learned for an already chosen slot */
    bool has_conflict;
    uint64_t conflict_slot;
    struct mp_cmd conflict;

    unsigned char *buf;
    size_t buf_cap;
};

static const struct model_param mp_params[] = {
    { "heartbeat", PARAM_TIME, "20ms", NULL,
      "how often the leader sends an empty accept (and re-sends accepts not yet answered)" },
    { "election_timeout", PARAM_TIME, "150ms", NULL,
      "silence from a leader after which a node runs phase 1 (plus up to as much again at random)" },
    { "snapshot_every", PARAM_INT, "1000", NULL,
      "applied slots between snapshots: older slots are dropped from memory and the store; 0 = keep all" },
    { "mutant", PARAM_ENUM, "none", "none|accept_lower_ballot|ignore_promised_values",
      "switch on one deliberate bug (see the mutants below)" },
    { NULL, 0, NULL, NULL, NULL },
};

static const struct model_mutant mp_mutants[] = {
    { "accept_lower_ballot", "an acceptor accepts a ballot lower than the one it promised (and lowers its promise)" },
    { "ignore_promised_values", "a new leader ignores the values in promises: no re-proposal, its new commands overwrite undecided slots" },
    { NULL, NULL },
};

static int mp_majority(const struct mp_state *s) { return s->n / 2 + 1; }

static int mp_popcount(uint64_t m)
{
    int c = 0;
    for (; m; m &= m - 1)
        c++;
    return c;
}

static const char *mp_role_name(enum mp_role r)
{
    return r == MP_LEADER ? "leader" : r == MP_CANDIDATE ? "candidate" : "follower";
}

static const char *mp_ballot_str(const struct mp_state *s, struct mp_ballot b, char *buf, size_t len)
{
    if (b.round == 0)
        snprintf(buf, len, "0");
    else if (b.node >= 0 && b.node < s->n)
        snprintf(buf, len, "%lld.%s", (long long)b.round, s->names[b.node]);
    else
        snprintf(buf, len, "%lld.?", (long long)b.round);
    return buf;
}

static const char *mp_kind_name(int32_t kind)
{
    switch (kind) {
    case MP_NOOP: return "noop";
    case MP_READ: return "read";
    case MP_WRITE: return "write";
    case MP_CAS: return "cas";
    default: return "?";
    }
}

static void mp_see_round(struct mp_state *s, int64_t round)
{
    if (round > s->max_round)
        s->max_round = round;
}

/* ---- the log -------------------------------------------------------------- */

/* The record of a slot this node holds, or NULL (compacted, or beyond). */
static struct mp_slot *mp_slot_get(struct mp_state *s, uint64_t slot)
{
    return slot >= s->base && slot <= s->log_len ? &s->log[slot - s->base] : NULL;
}

/* The record of slot (>= base), the log grown with empty slots to hold it. */
static struct mp_slot *mp_slot_make(struct mp_state *s, uint64_t slot)
{
    if (slot > s->log_len) {
        size_t have = (size_t)(s->log_len + 1 - s->base);
        size_t need = (size_t)(slot + 1 - s->base);
        SIM_GROW(s->log, s->log_cap, need);
        memset(&s->log[have], 0, (need - have) * sizeof *s->log);
        s->log_len = slot;
    }
    return &s->log[slot - s->base];
}

/* A slot number a message may name: not compacted here (those are chosen
 * and applied) and not absurdly far ahead. */
static bool mp_slot_ok(const struct mp_state *s, uint64_t slot)
{
    return slot >= s->base && slot < s->first_unchosen + MP_SLOT_WINDOW;
}

static void mp_mark_dirty(struct mp_state *s, uint64_t slot)
{
    if (s->n_dirty > 0 && s->dirty[s->n_dirty - 1] == slot)
        return;
    SIM_GROW(s->dirty, s->cap_dirty, s->n_dirty + 1);
    s->dirty[s->n_dirty++] = slot;
}

static bool mp_cmd_valid(const struct mp_cmd *c)
{
    if (c->kind < MP_NOOP || c->kind > MP_CAS)
        return false;
    if (c->kind == MP_NOOP)
        return true;
    return c->key[0] != 0 && memchr(c->key, 0, sizeof c->key) != NULL && c->client >= 0;
}

static bool mp_cmd_equal(const struct mp_cmd *a, const struct mp_cmd *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

static void mp_cmd_str(const struct mp_cmd *c, char *buf, size_t len)
{
    if (c->kind == MP_NOOP)
        snprintf(buf, len, "noop");
    else if (c->kind == MP_CAS)
        snprintf(buf, len, "cas %s %lld->%lld (op %llu)", c->key, (long long)c->expect, (long long)c->value,
                 (unsigned long long)c->op_id);
    else if (c->kind == MP_WRITE)
        snprintf(buf, len, "write %s=%lld (op %llu)", c->key, (long long)c->value, (unsigned long long)c->op_id);
    else
        snprintf(buf, len, "read %s (op %llu)", c->key, (unsigned long long)c->op_id);
}

/* ---- the map and the results ---------------------------------------------- */

static ptrdiff_t mp_kv_find(const struct mp_state *s, const char *key)
{
    return kvmap_find(s->kv, s->n_kv, key);
}

static void mp_kv_set(struct mp_state *s, const char *key, int64_t value)
{
    kvmap_set(&s->kv, &s->n_kv, &s->cap_kv, key, value);
}

static struct mp_result *mp_result_of(struct mp_state *s, int client)
{
    if ((size_t)client >= s->n_results) {
        size_t cap = s->n_results;
        SIM_GROW(s->results, cap, (size_t)client + 1);
        memset(&s->results[s->n_results], 0, (cap - s->n_results) * sizeof *s->results);
        s->n_results = cap;
    }
    return &s->results[client];
}

static void mp_reply_result(node_ctx *ctx, const struct sim_op *op, const struct mp_result *r)
{
    if (r->status == REPLY_OK)
        node_reply_ok(ctx, op, r->has_value != 0, r->value);
    else
        node_reply_fail(ctx, op, "cas mismatch");
}

/* Answer (and forget) the waiting operation with this id, if any. */
static void mp_answer_pending(struct mp_state *s, node_ctx *ctx, uint64_t op_id, const struct mp_result *r)
{
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].id == op_id) {
            mp_reply_result(ctx, &s->pending[i], r);
            s->pending[i] = s->pending[--s->n_pending];
            return;
        }
}

/* Apply one command to the map, once per (client, op id): a duplicate gets
 * the result the first copy had. */
static void mp_apply_cmd(struct mp_state *s, node_ctx *ctx, const struct mp_cmd *c)
{
    if (c->kind == MP_NOOP)
        return;
    struct mp_result *r = mp_result_of(s, c->client);
    if (c->op_id < r->op_id)
        return;   /* an older operation of a client that has moved on */
    if (c->op_id != r->op_id) {
        ptrdiff_t i = mp_kv_find(s, c->key);
        bool has = i >= 0;
        int64_t cur = has ? s->kv[i].value : 0;
        r->op_id = c->op_id;
        r->status = REPLY_OK;
        r->has_value = 0;
        r->value = 0;
        if (c->kind == MP_READ) {
            r->has_value = has;
            r->value = cur;
        } else if (c->kind == MP_WRITE) {
            mp_kv_set(s, c->key, c->value);
        } else if (has && cur == c->expect) {
            mp_kv_set(s, c->key, c->value);
        } else {
            r->status = REPLY_FAIL;
        }
    }
    if (ctx && s->n_pending)
        mp_answer_pending(s, ctx, c->op_id, r);
}

static void mp_apply_chosen(struct mp_state *s, node_ctx *ctx)
{
    while (s->applied + 1 < s->first_unchosen) {
        s->applied++;
        mp_apply_cmd(s, ctx, &mp_slot_get(s, s->applied)->val);
    }
}

/* Move first_unchosen past every chosen slot and apply them. */
static void mp_advance(struct mp_state *s, node_ctx *ctx)
{
    struct mp_slot *e;
    while ((e = mp_slot_get(s, s->first_unchosen)) && e->chosen)
        s->first_unchosen++;
    mp_apply_chosen(s, ctx);
}

/* ---- the durable store ---------------------------------------------------- */

static void mp_store_promise(struct mp_state *s, node_ctx *ctx)
{
    node_store_put(ctx, "promised", &s->promised, sizeof s->promised);
}

/* Write slot's record (not synced: the caller syncs when it must). */
static void mp_store_slot(node_ctx *ctx, uint64_t slot, const struct mp_slot *e)
{
    struct mp_disk_slot d;
    memset(&d, 0, sizeof d);
    d.acc_ballot = e->acc_ballot;
    d.has_acc = e->has_acc;
    d.chosen = e->chosen;
    d.acc = e->acc;
    if (e->chosen)
        d.val = e->val;
    char key[32];
    snprintf(key, sizeof key, "slot/%012llu", (unsigned long long)slot);
    node_store_put(ctx, key, &d, sizeof d);
}

/* ---- learning ------------------------------------------------------------- */

static void mp_learn(struct mp_state *s, node_ctx *ctx, uint64_t slot, const struct mp_cmd *cmd)
{
    struct mp_slot *e = mp_slot_make(s, slot);
    if (e->chosen) {
        if (!mp_cmd_equal(&e->val, cmd) && !s->has_conflict) {
            s->has_conflict = true;   /* only a bug gets here; the check reports it */
            s->conflict_slot = slot;
            s->conflict = *cmd;
        }
        return;
    }
    e->chosen = true;
    e->val = *cmd;
    s->n_chosen++;
    mp_mark_dirty(s, slot);
    mp_store_slot(ctx, slot, e);   /* synced with the next sync, or learned again */
    mp_advance(s, ctx);
}

/* Below the leader's commit, a slot accepted at the leader's own ballot
 * holds the chosen command: the leader proposed only that one there. */
static void mp_learn_from_commit(struct mp_state *s, node_ctx *ctx, struct mp_ballot b, uint64_t commit)
{
    for (uint64_t slot = s->first_unchosen; slot < commit && slot <= s->log_len; slot++) {
        struct mp_slot *e = mp_slot_get(s, slot);
        if (!e->chosen && e->has_acc && mp_cmp(e->acc_ballot, b) == 0)
            mp_learn(s, ctx, slot, &e->acc);
        else if (!e->chosen)
            break;
    }
}

/* ---- snapshots ------------------------------------------------------------ */

static void *mp_buf(struct mp_state *s, size_t need);
static void mp_hdr_init(struct mp_hdr *h, uint32_t type, struct mp_ballot b);

static void mp_slot_key(char *out, size_t len, uint64_t slot)
{
    snprintf(out, len, "slot/%012llu", (unsigned long long)slot);
}

/* The snapshot blob of the current map and results (covering slots
 * 1..applied), in a new buffer the caller frees. */
static unsigned char *mp_snap_encode(const struct mp_state *s, uint64_t base, size_t *len)
{
    struct mp_snap_hdr h;
    memset(&h, 0, sizeof h);
    h.upto = s->applied;
    h.base = base;
    h.n_kv = (uint32_t)s->n_kv;
    h.n_results = (uint32_t)s->n_results;
    *len = sizeof h + s->n_kv * sizeof *s->kv + s->n_results * sizeof *s->results;
    unsigned char *buf = sim_xmalloc(*len);
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, s->kv, s->n_kv * sizeof *s->kv);
    memcpy(buf + sizeof h + s->n_kv * sizeof *s->kv, s->results, s->n_results * sizeof *s->results);
    return buf;
}

/* The length of a valid snapshot blob at the start of p (at most len
 * bytes), or 0 if it is malformed. */
static size_t mp_snap_valid(const unsigned char *p, size_t len)
{
    struct mp_snap_hdr h;
    if (len < sizeof h)
        return 0;
    memcpy(&h, p, sizeof h);
    if (h.n_kv > 1000000 || h.n_results > 1000000)
        return 0;
    size_t need = sizeof h + (size_t)h.n_kv * sizeof(struct kv_entry) + (size_t)h.n_results * sizeof(struct mp_result);
    if (need > len)
        return 0;
    for (uint32_t i = 0; i < h.n_kv; i++) {
        struct kv_entry kv;
        memcpy(&kv, p + sizeof h + (size_t)i * sizeof kv, sizeof kv);
        if (kv.key[0] == 0 || memchr(kv.key, 0, sizeof kv.key) == NULL)
            return 0;
    }
    return need;
}

/* Replace the map and results with the snapshot blob's (valid). */
static void mp_snap_load(struct mp_state *s, const unsigned char *p)
{
    struct mp_snap_hdr h;
    memcpy(&h, p, sizeof h);
    s->n_kv = 0;
    SIM_GROW(s->kv, s->cap_kv, (size_t)h.n_kv);
    memcpy(s->kv, p + sizeof h, (size_t)h.n_kv * sizeof *s->kv);
    s->n_kv = h.n_kv;
    sim_free(s->results);
    s->results = sim_xcalloc(h.n_results ? h.n_results : 1, sizeof *s->results);
    memcpy(s->results, p + sizeof h + (size_t)h.n_kv * sizeof *s->kv, (size_t)h.n_results * sizeof *s->results);
    s->n_results = h.n_results;
}

/* Forget slots below new_base (all applied): from memory and from the
 * store, after writing the snapshot that covers them. Syncs. */
static void mp_drop_below(struct mp_state *s, node_ctx *ctx, uint64_t new_base)
{
    size_t len;
    unsigned char *blob = mp_snap_encode(s, new_base, &len);
    node_store_put(ctx, "snap", blob, len);
    sim_free(blob);
    char key[32];
    for (uint64_t slot = s->base; slot < new_base && slot <= s->log_len; slot++) {
        mp_slot_key(key, sizeof key, slot);
        node_store_del(ctx, key);
    }
    node_store_sync(ctx);
    if (new_base > s->log_len + 1) {
        s->log_len = new_base - 1;
    } else {
        memmove(s->log, s->log + (new_base - s->base), (size_t)(s->log_len + 1 - new_base) * sizeof *s->log);
    }
    s->base = new_base;
    s->snapshots++;
}

/* Keep memory and the store bounded by snapshot_every: once twice that
 * many applied slots are held, snapshot the map and keep only the last
 * snapshot_every of them (for followers a little behind). Called at the
 * end of each callback, never while a loop walks the log. */
static void mp_maybe_compact(struct mp_state *s, node_ctx *ctx)
{
    if (s->snapshot_every == 0 || s->applied + 1 < s->base + 2 * s->snapshot_every)
        return;
    mp_drop_below(s, ctx, s->applied + 1 - s->snapshot_every);
}

/* A snapshot from another node (a leader, to a follower that lacks
 * compacted slots; or an acceptor, in a promise): install it if it covers
 * slots this node has not chosen yet. */
static void mp_install(struct mp_state *s, node_ctx *ctx, const unsigned char *blob)
{
    struct mp_snap_hdr h;
    memcpy(&h, blob, sizeof h);
    if (h.upto < s->first_unchosen || h.upto >= s->first_unchosen + 64 * (uint64_t)MP_SLOT_WINDOW)
        return;
    mp_snap_load(s, blob);
    s->applied = h.upto;
    s->first_unchosen = h.upto + 1;
    mp_drop_below(s, ctx, h.upto + 1);
    s->n_chosen = h.upto;
    for (uint64_t slot = s->base; slot <= s->log_len; slot++)
        s->n_chosen += mp_slot_get(s, slot)->chosen;
    jw *j = node_note_begin(ctx, "snapshot_installed");
    if (j) {
        jw_kint(j, "upto", (int64_t)h.upto);
        node_note_end(ctx);
    }
    mp_advance(s, ctx);
}

static void mp_send_snapshot(struct mp_state *s, node_ctx *ctx, int to)
{
    size_t blen;
    unsigned char *blob = mp_snap_encode(s, 0, &blen);
    size_t len = sizeof(struct mp_hdr) + blen;
    unsigned char *buf = mp_buf(s, len);
    struct mp_hdr h;
    mp_hdr_init(&h, MP_MSG_SNAPSHOT, s->ballot);
    h.slot = s->applied;
    memcpy(buf, &h, sizeof h);
    memcpy(buf + sizeof h, blob, blen);
    sim_free(blob);
    node_send(ctx, to, buf, len);
}

/* ---- sending -------------------------------------------------------------- */

static void mp_handle(struct mp_state *s, node_ctx *ctx, int from, const void *msg, size_t len);

static void *mp_buf(struct mp_state *s, size_t need)
{
    if (need > s->buf_cap) {
        s->buf = sim_xrealloc(s->buf, need);
        s->buf_cap = need;
    }
    memset(s->buf, 0, need);
    return s->buf;
}

/* Send to one node; to itself, handle at once. The local copy is made first
 * because handling may reuse the send buffer. */
static void mp_send(struct mp_state *s, node_ctx *ctx, int to, const void *msg, size_t len)
{
    if (to != s->self) {
        node_send(ctx, to, msg, len);
        return;
    }
    void *copy = sim_xmalloc(len);
    memcpy(copy, msg, len);
    mp_handle(s, ctx, s->self, copy, len);
    sim_free(copy);
}

/* Send to every node, this one last. */
static void mp_send_all(struct mp_state *s, node_ctx *ctx, const void *msg, size_t len)
{
    for (int i = 0; i < s->n; i++)
        if (i != s->self)
            node_send(ctx, i, msg, len);
    mp_send(s, ctx, s->self, msg, len);
}

static void mp_hdr_init(struct mp_hdr *h, uint32_t type, struct mp_ballot b)
{
    memset(h, 0, sizeof *h);
    h->type = type;
    h->ballot = b;
}

/* ---- roles and timers ----------------------------------------------------- */

static void mp_arm_election(struct mp_state *s, node_ctx *ctx, sim_time delay)
{
    if (s->has_election_timer)
        node_timer_cancel(ctx, s->election_timer);
    s->election_timer = node_timer_set(ctx, delay, MP_TIMER_ELECTION);
    s->has_election_timer = true;
}

static void mp_arm_heartbeat(struct mp_state *s, node_ctx *ctx)
{
    if (s->has_hb_timer)
        node_timer_cancel(ctx, s->hb_timer);
    s->hb_timer = node_timer_set(ctx, s->heartbeat, MP_TIMER_HEARTBEAT);
    s->has_hb_timer = true;
}

static void mp_draw_wait(struct mp_state *s, node_ctx *ctx)
{
    s->election_wait = s->election_timeout + node_random_range(ctx, 0, s->election_timeout);
}

static void mp_become_follower(struct mp_state *s, node_ctx *ctx, int leader)
{
    if (s->role != MP_FOLLOWER) {
        /* operations this node took as leader may still be chosen (a new
         * leader re-proposes them); their clients time out and retry, and
         * the retry is answered from the recorded result */
        s->n_pending = 0;
        for (uint64_t i = s->first_unchosen; i <= s->log_len; i++)
            mp_slot_get(s, i)->proposed = false;
    }
    s->role = MP_FOLLOWER;
    s->leader = leader;
    node_set_role(ctx, "follower", s->promised.round);
    s->heard_at = node_clock(ctx);
    mp_draw_wait(s, ctx);
    mp_arm_election(s, ctx, s->election_wait);
}

/* A higher ballot was seen: a leader or candidate below it steps down. */
static void mp_step_down_below(struct mp_state *s, node_ctx *ctx, struct mp_ballot b, int leader)
{
    if (s->role != MP_FOLLOWER && mp_cmp(s->ballot, b) < 0)
        mp_become_follower(s, ctx, leader);
}

/* Promise b (higher than the current promise): sync before answering. */
static void mp_promise(struct mp_state *s, node_ctx *ctx, struct mp_ballot b)
{
    s->promised = b;
    mp_store_promise(s, ctx);
    mp_see_round(s, b.round);
}

static void mp_send_accepts(struct mp_state *s, node_ctx *ctx, uint64_t from, uint64_t to);

static void mp_start_election(struct mp_state *s, node_ctx *ctx)
{
    int64_t round = s->max_round > s->promised.round ? s->max_round : s->promised.round;
    s->ballot = (struct mp_ballot){ .round = round + 1, .node = s->self };
    mp_see_round(s, s->ballot.round);
    s->role = MP_CANDIDATE;
    s->leader = -1;
    s->elections++;
    s->promised_by = 0;
    s->rec_from = s->first_unchosen;
    s->n_rec = 0;
    node_set_role(ctx, "candidate", s->ballot.round);
    s->heard_at = node_clock(ctx);
    mp_draw_wait(s, ctx);
    mp_arm_election(s, ctx, s->election_wait);
    struct mp_hdr h;
    mp_hdr_init(&h, MP_MSG_PREPARE, s->ballot);
    h.slot = s->rec_from;
    mp_send_all(s, ctx, &h, sizeof h);
}

static void mp_note_fill(struct mp_state *s, node_ctx *ctx, uint64_t slot, const struct mp_cmd *cmd, bool noop)
{
    jw *j = node_note_begin(ctx, noop ? "noop" : "repropose");
    if (j) {
        char b[64];
        jw_kint(j, "slot", (int64_t)slot);
        jw_kstr(j, "ballot", mp_ballot_str(s, s->ballot, b, sizeof b));
        if (!noop) {
            jw_kstr(j, "cmd", mp_kind_name(cmd->kind));
            if (cmd->kind != MP_NOOP) {
                jw_kstr(j, "key", cmd->key);
                jw_kint(j, "op", (int64_t)cmd->op_id);
            }
        }
        node_note_end(ctx);
    }
}

/* Propose cmd in slot at this leader's ballot (memory only; the local
 * accept and the messages come from mp_send_accepts). */
static void mp_propose(struct mp_state *s, uint64_t slot, const struct mp_cmd *cmd)
{
    struct mp_slot *e = mp_slot_make(s, slot);
    e->proposed = true;
    e->votes = 0;
    /* until the slot is chosen, val holds the proposal (then the decision) */
    if (!e->chosen)
        e->val = *cmd;
}

/* A majority promised: re-propose what the promises reported, fill gaps
 * with no-ops, and lead. */
static void mp_become_leader(struct mp_state *s, node_ctx *ctx)
{
    s->role = MP_LEADER;
    s->leader = s->self;
    s->n_pending = 0;
    node_set_role(ctx, "leader", s->ballot.round);
    if (s->has_election_timer)
        node_timer_cancel(ctx, s->election_timer);
    s->has_election_timer = false;
    uint64_t from = s->first_unchosen;
    uint64_t top = s->rec_from + s->n_rec;   /* one past the highest slot reported */
    if (s->mutant == MP_MUT_IGNORE_PROMISED)
        top = from;                          /* the bug: what the promises said is dropped */
    uint64_t reproposed = 0, noops = 0;
    for (uint64_t slot = from; slot < top; slot++) {
        struct mp_slot *e = mp_slot_make(s, slot);
        if (e->chosen)
            continue;
        const struct mp_rec *r = slot >= s->rec_from ? &s->rec[slot - s->rec_from] : NULL;
        struct mp_cmd cmd;
        bool noop = !r || !r->has;
        if (noop) {
            memset(&cmd, 0, sizeof cmd);
            cmd.kind = MP_NOOP;
            noops++;
        } else {
            cmd = r->cmd;
            reproposed++;
        }
        mp_note_fill(s, ctx, slot, &cmd, noop);
        mp_propose(s, slot, &cmd);
    }
    s->next_slot = top > from ? top : from;
    jw *j = node_note_begin(ctx, "elected");
    if (j) {
        char b[64];
        jw_kstr(j, "ballot", mp_ballot_str(s, s->ballot, b, sizeof b));
        jw_kint(j, "first_unchosen", (int64_t)from);
        jw_kint(j, "next_slot", (int64_t)s->next_slot);
        jw_kint(j, "reproposed", (int64_t)reproposed);
        jw_kint(j, "noops", (int64_t)noops);
        node_note_end(ctx);
    }
    s->heard_at = node_clock(ctx);
    mp_arm_heartbeat(s, ctx);
    mp_send_accepts(s, ctx, from, s->next_slot);
}

/* ---- leader: phase 2 ------------------------------------------------------ */

/* Send accepts for the proposed, unchosen slots in [from, to), in batches
 * of MP_BATCH, to every node; if there is none, one empty accept (a
 * heartbeat that carries the commit index). */
static void mp_send_accepts(struct mp_state *s, node_ctx *ctx, uint64_t from, uint64_t to)
{
    if (from > to)
        from = to;
    size_t cap = sizeof(struct mp_hdr) + MP_BATCH * sizeof(struct mp_entry);
    struct mp_entry *entries = sim_xmalloc(MP_BATCH * sizeof *entries);
    uint32_t k = 0;
    bool sent = false;
    for (uint64_t slot = from; slot <= to && s->role == MP_LEADER; slot++) {
        struct mp_slot *e = slot < to ? mp_slot_get(s, slot) : NULL;
        if (e && e->proposed && !e->chosen) {
            memset(&entries[k], 0, sizeof entries[k]);
            entries[k].slot = slot;
            entries[k].ballot = s->ballot;
            entries[k].cmd = e->val;
            k++;
        }
        if (k == MP_BATCH || (slot == to && (k > 0 || !sent))) {
            unsigned char *buf = mp_buf(s, cap);
            struct mp_hdr h;
            mp_hdr_init(&h, MP_MSG_ACCEPT, s->ballot);
            h.n = k;
            h.slot = s->first_unchosen;
            memcpy(buf, &h, sizeof h);
            memcpy(buf + sizeof h, entries, k * sizeof *entries);
            size_t len = sizeof h + k * sizeof *entries;
            mp_send_all(s, ctx, buf, len);
            sent = true;
            k = 0;
        }
    }
    sim_free(entries);
}

static void mp_request(struct mp_state *s, node_ctx *ctx, const struct sim_op *op)
{
    if (!op->key || !op->key[0] || strlen(op->key) >= MP_KEY_MAX) {
        node_reply_fail(ctx, op, "key too long");
        return;
    }
    if (op->type != OP_READ && op->type != OP_WRITE && op->type != OP_CAS) {
        node_reply_fail(ctx, op, "unknown operation");
        return;
    }
    if (s->role != MP_LEADER) {
        node_reply_redirect(ctx, op, s->leader == s->self ? -1 : s->leader, "not leader");
        return;
    }
    struct mp_result *r = mp_result_of(s, op->client);
    if (r->op_id == op->id) {
        mp_reply_result(ctx, op, r);   /* already applied: a retry */
        return;
    }
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].id == op->id) {
            s->pending[i] = *op;       /* already in the log: wait for it */
            s->pending[i].ctx = NULL;
            s->pending[i].ctx_len = 0;
            return;
        }
    SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
    struct sim_op *p = &s->pending[s->n_pending++];
    *p = *op;
    p->ctx = NULL;
    p->ctx_len = 0;
    struct mp_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.kind = op->type == OP_READ ? MP_READ : op->type == OP_WRITE ? MP_WRITE : MP_CAS;
    cmd.client = op->client;
    cmd.op_id = op->id;
    cmd.value = op->value;
    cmd.expect = op->expect;
    memcpy(cmd.key, op->key, strlen(op->key));
    uint64_t slot = s->next_slot++;
    mp_propose(s, slot, &cmd);
    mp_send_accepts(s, ctx, slot, slot + 1);
}

static void mp_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    mp_request(state, ctx, op);
    mp_maybe_compact(state, ctx);
}

/* ---- message handlers ----------------------------------------------------- */

static void mp_on_prepare(struct mp_state *s, node_ctx *ctx, int from, const struct mp_hdr *h)
{
    mp_see_round(s, h->ballot.round);
    if (mp_cmp(h->ballot, s->promised) < 0) {
        struct mp_hdr r;
        mp_hdr_init(&r, MP_MSG_NACK, h->ballot);
        r.promised = s->promised;
        mp_send(s, ctx, from, &r, sizeof r);
        return;
    }
    if (mp_cmp(h->ballot, s->promised) > 0) {
        mp_promise(s, ctx, h->ballot);
        node_store_sync(ctx);
        if (from != s->self)
            mp_step_down_below(s, ctx, h->ballot, -1);
        if (s->role == MP_FOLLOWER)
            s->leader = -1;
    }
    /* the promise: every slot >= h->slot this acceptor accepted or knows chosen */
    uint64_t start = h->slot < s->base ? s->base : h->slot;
    uint32_t count = 0;
    for (uint64_t slot = start; slot <= s->log_len; slot++)
        if (mp_slot_get(s, slot)->has_acc || mp_slot_get(s, slot)->chosen)
            count++;
    /* slots the candidate asks for that are compacted here travel as a
     * snapshot after the entries */
    size_t blen = 0;
    unsigned char *blob = h->slot < s->base ? mp_snap_encode(s, 0, &blen) : NULL;
    size_t elen = (size_t)count * sizeof(struct mp_entry);
    size_t len = sizeof(struct mp_hdr) + elen + blen;
    unsigned char *buf = mp_buf(s, len);
    struct mp_hdr r;
    mp_hdr_init(&r, MP_MSG_PROMISE, h->ballot);
    r.n = count;
    r.slot = s->first_unchosen;
    r.slot2 = blob != NULL;
    memcpy(buf, &r, sizeof r);
    if (blob) {
        memcpy(buf + sizeof r + elen, blob, blen);
        sim_free(blob);
    }
    uint32_t k = 0;
    for (uint64_t slot = start; slot <= s->log_len; slot++) {
        const struct mp_slot *e = mp_slot_get(s, slot);
        if (!e->has_acc && !e->chosen)
            continue;
        struct mp_entry en;
        memset(&en, 0, sizeof en);
        en.slot = slot;
        en.chosen = e->chosen;
        en.ballot = e->acc_ballot;
        en.cmd = e->chosen ? e->val : e->acc;
        memcpy(buf + sizeof r + (size_t)k * sizeof en, &en, sizeof en);
        k++;
    }
    mp_send(s, ctx, from, buf, len);
}

static void mp_on_promise(struct mp_state *s, node_ctx *ctx, int from, const struct mp_hdr *h,
                          const struct mp_entry *entries)
{
    if (s->role != MP_CANDIDATE || mp_cmp(h->ballot, s->ballot) != 0)
        return;
    if (s->promised_by & ((uint64_t)1 << from))
        return;
    s->promised_by |= (uint64_t)1 << from;
    for (uint32_t i = 0; i < h->n; i++) {
        const struct mp_entry *en = &entries[i];
        if (en->slot < s->rec_from || !mp_slot_ok(s, en->slot))
            continue;
        if (en->chosen && s->mutant != MP_MUT_IGNORE_PROMISED) {
            mp_learn(s, ctx, en->slot, &en->cmd);
            continue;
        }
        size_t idx = (size_t)(en->slot - s->rec_from);
        if (idx >= s->n_rec) {
            SIM_GROW(s->rec, s->cap_rec, idx + 1);
            memset(&s->rec[s->n_rec], 0, (idx + 1 - s->n_rec) * sizeof *s->rec);
            s->n_rec = idx + 1;
        }
        struct mp_rec *r = &s->rec[idx];
        if (en->chosen) {
            /* (mutant only) a chosen entry is still a value in a promise */
            r->has = true;
            r->ballot = (struct mp_ballot){ .round = INT64_MAX, .node = 0 };
            r->cmd = en->cmd;
        } else if (!r->has || mp_cmp(en->ballot, r->ballot) > 0) {
            r->has = true;
            r->ballot = en->ballot;
            r->cmd = en->cmd;
        }
    }
    if (mp_popcount(s->promised_by) >= mp_majority(s))
        mp_become_leader(s, ctx);
}

static void mp_on_nack(struct mp_state *s, node_ctx *ctx, const struct mp_hdr *h)
{
    mp_see_round(s, h->promised.round);
    if (s->role == MP_FOLLOWER || mp_cmp(h->ballot, s->ballot) != 0 || mp_cmp(h->promised, s->ballot) <= 0)
        return;
    jw *j = node_note_begin(ctx, "promise_rejected");
    if (j) {
        char b[64];
        jw_kstr(j, "ballot", mp_ballot_str(s, s->ballot, b, sizeof b));
        jw_kstr(j, "promised", mp_ballot_str(s, h->promised, b, sizeof b));
        node_note_end(ctx);
    }
    mp_become_follower(s, ctx, -1);
}

static void mp_on_accept(struct mp_state *s, node_ctx *ctx, int from, const struct mp_hdr *h,
                         const struct mp_entry *entries)
{
    mp_see_round(s, h->ballot.round);
    bool lower = mp_cmp(h->ballot, s->promised) < 0;
    if (lower && (s->mutant != MP_MUT_ACCEPT_LOWER || h->n == 0)) {
        struct mp_hdr r;
        mp_hdr_init(&r, MP_MSG_NACK, h->ballot);
        r.promised = s->promised;
        mp_send(s, ctx, from, &r, sizeof r);
        return;
    }
    if (mp_cmp(h->ballot, s->promised) != 0)
        mp_promise(s, ctx, h->ballot);   /* higher; or lower, by the mutant */
    if (from != s->self) {
        mp_step_down_below(s, ctx, h->ballot, from);
        if (s->role == MP_FOLLOWER) {
            s->leader = from;
            s->heard_at = node_clock(ctx);
            node_set_role(ctx, "follower", h->ballot.round);
        }
    }
    size_t len = sizeof(struct mp_hdr) + (size_t)h->n * sizeof(uint64_t);
    uint64_t *slots = sim_xmalloc(h->n ? h->n * sizeof *slots : 1);
    uint32_t k = 0;
    for (uint32_t i = 0; i < h->n; i++) {
        const struct mp_entry *en = &entries[i];
        if (!mp_slot_ok(s, en->slot))
            continue;
        struct mp_slot *e = mp_slot_make(s, en->slot);
        e->acc_ballot = h->ballot;
        e->acc = en->cmd;
        e->has_acc = true;
        mp_store_slot(ctx, en->slot, e);
        mp_mark_dirty(s, en->slot);
        slots[k++] = en->slot;
    }
    node_store_sync(ctx);   /* the promise and the accepted entries, before answering */
    mp_learn_from_commit(s, ctx, h->ballot, h->slot);
    unsigned char *buf = mp_buf(s, len);
    struct mp_hdr r;
    mp_hdr_init(&r, MP_MSG_ACCEPTED, h->ballot);
    r.n = k;
    r.slot = s->first_unchosen;
    r.slot2 = h->slot;
    memcpy(buf, &r, sizeof r);
    memcpy(buf + sizeof r, slots, k * sizeof *slots);
    sim_free(slots);
    mp_send(s, ctx, from, buf, sizeof r + k * sizeof(uint64_t));
}

/* Send node `to` the chosen slots from `from` on (one batch). */
static void mp_send_decide(struct mp_state *s, node_ctx *ctx, int to, uint64_t from)
{
    uint32_t k = 0;
    for (uint64_t slot = from; slot < s->first_unchosen && k < MP_BATCH; slot++)
        k++;
    if (k == 0)
        return;
    size_t len = sizeof(struct mp_hdr) + (size_t)k * sizeof(struct mp_entry);
    unsigned char *buf = mp_buf(s, len);
    struct mp_hdr h;
    mp_hdr_init(&h, MP_MSG_DECIDE, s->ballot);
    h.n = k;
    memcpy(buf, &h, sizeof h);
    for (uint32_t i = 0; i < k; i++) {
        struct mp_entry en;
        memset(&en, 0, sizeof en);
        en.slot = from + i;
        en.chosen = 1;
        en.cmd = mp_slot_get(s, from + i)->val;
        memcpy(buf + sizeof h + (size_t)i * sizeof en, &en, sizeof en);
    }
    node_send(ctx, to, buf, len);
}

static void mp_on_accepted(struct mp_state *s, node_ctx *ctx, int from, const struct mp_hdr *h,
                           const uint64_t *slots)
{
    if (s->role != MP_LEADER || mp_cmp(h->ballot, s->ballot) != 0)
        return;
    for (uint32_t i = 0; i < h->n; i++) {
        struct mp_slot *e = mp_slot_get(s, slots[i]);
        if (!e || !e->proposed || e->chosen)
            continue;
        e->votes |= (uint64_t)1 << from;
        if (mp_popcount(e->votes) >= mp_majority(s)) {
            struct mp_cmd cmd = e->val;
            mp_learn(s, ctx, slots[i], &cmd);
        }
        if (s->role != MP_LEADER)
            return;
    }
    /* a follower that lacks chosen slots it should know: send them, or
     * the snapshot if they are compacted here */
    if (from != s->self && h->slot < h->slot2 && h->slot < s->first_unchosen) {
        if (h->slot < s->base) {
            /* one snapshot per heartbeat period per follower: it is large,
             * and every accept answered meanwhile would ask again */
            sim_time now = node_clock(ctx);
            if (!s->snap_sent_at[from] || now - s->snap_sent_at[from] >= s->heartbeat) {
                s->snap_sent_at[from] = now ? now : 1;
                mp_send_snapshot(s, ctx, from);
            }
        } else
            mp_send_decide(s, ctx, from, h->slot);
    }
}

static void mp_on_decide(struct mp_state *s, node_ctx *ctx, const struct mp_hdr *h, const struct mp_entry *entries)
{
    for (uint32_t i = 0; i < h->n; i++)
        if (mp_slot_ok(s, entries[i].slot) && entries[i].chosen)
            mp_learn(s, ctx, entries[i].slot, &entries[i].cmd);
}

static bool mp_ballot_valid(const struct mp_state *s, struct mp_ballot b)
{
    return b.round >= 1 && b.node >= 0 && b.node < s->n;
}

/* Validate and dispatch one message (from the network, or from this node
 * to itself). Malformed messages are ignored. */
static void mp_handle(struct mp_state *s, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct mp_hdr h;
    if (len < sizeof h)
        return;
    memcpy(&h, msg, sizeof h);
    if (!mp_ballot_valid(s, h.ballot) || h.n > 1000000)
        return;
    const unsigned char *body = (const unsigned char *)msg + sizeof h;
    size_t entries_len = (size_t)h.n * sizeof(struct mp_entry);
    switch (h.type) {
    case MP_MSG_PREPARE:
        if (len == sizeof h && h.n == 0 && h.ballot.node == from)
            mp_on_prepare(s, ctx, from, &h);
        return;
    case MP_MSG_NACK:
        if (len == sizeof h && h.n == 0)
            mp_on_nack(s, ctx, &h);
        return;
    case MP_MSG_ACCEPTED: {
        if (len != sizeof h + (size_t)h.n * sizeof(uint64_t))
            return;
        uint64_t *slots = sim_xmalloc(h.n ? h.n * sizeof *slots : 1);
        memcpy(slots, body, h.n * sizeof *slots);
        mp_on_accepted(s, ctx, from, &h, slots);
        sim_free(slots);
        return;
    }
    case MP_MSG_SNAPSHOT:
        if (h.n == 0 && mp_snap_valid(body, len - sizeof h) == len - sizeof h)
            mp_install(s, ctx, body);
        return;
    case MP_MSG_PROMISE:
    case MP_MSG_ACCEPT:
    case MP_MSG_DECIDE:
        break;
    default:
        return;
    }
    if (len < sizeof h + entries_len)
        return;
    /* a promise may end with a snapshot (slot2 = 1); nothing else has a tail */
    size_t tail = len - sizeof h - entries_len;
    if (h.type == MP_MSG_PROMISE && h.slot2 == 1) {
        if (tail == 0 || mp_snap_valid(body + entries_len, tail) != tail)
            return;
    } else if (tail != 0) {
        return;
    }
    struct mp_entry *entries = sim_xmalloc(h.n ? entries_len : 1);
    memcpy(entries, body, entries_len);
    bool ok = true;
    for (uint32_t i = 0; i < h.n && ok; i++)
        ok = entries[i].slot >= 1 && mp_cmd_valid(&entries[i].cmd);
    if (ok) {
        if (h.type == MP_MSG_PROMISE) {
            if (tail && s->role == MP_CANDIDATE && mp_cmp(h.ballot, s->ballot) == 0)
                mp_install(s, ctx, body + entries_len);
            mp_on_promise(s, ctx, from, &h, entries);
        }
        else if (h.type == MP_MSG_ACCEPT && h.ballot.node == from)
            mp_on_accept(s, ctx, from, &h, entries);
        else if (h.type == MP_MSG_DECIDE)
            mp_on_decide(s, ctx, &h, entries);
    }
    sim_free(entries);
}

static void mp_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct mp_state *s = state;
    if (from < 0 || from >= s->n || from == s->self)
        return;
    mp_handle(s, ctx, from, msg, len);
    mp_maybe_compact(s, ctx);
}

static void mp_timer(struct mp_state *s, node_ctx *ctx, uint64_t tag)
{
    if (tag == MP_TIMER_HEARTBEAT) {
        if (s->role != MP_LEADER)
            return;
        /* re-send what is not chosen yet, or an empty accept */
        s->has_hb_timer = false;
        mp_send_accepts(s, ctx, s->first_unchosen, s->next_slot);
        if (s->role == MP_LEADER)
            mp_arm_heartbeat(s, ctx);
        return;
    }
    if (tag != MP_TIMER_ELECTION)
        return;
    s->has_election_timer = false;
    if (s->role == MP_LEADER)
        return;
    sim_time waited = node_clock(ctx) - s->heard_at;
    if (waited < s->election_wait)
        mp_arm_election(s, ctx, s->election_wait - waited);
    else
        mp_start_election(s, ctx);
}

static void mp_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    mp_timer(state, ctx, tag);
    mp_maybe_compact(state, ctx);
}

/* ---- lifecycle ------------------------------------------------------------ */

static int mp_scan_slot(void *arg, const char *key, const void *val, size_t len)
{
    struct mp_state *s = arg;
    struct mp_disk_slot d;
    uint64_t slot = strtoull(key + 5, NULL, 10);   /* after "slot/" */
    if (len != sizeof d || slot < s->base || slot >= s->base + MP_SLOT_WINDOW * 64)
        return 0;
    memcpy(&d, val, sizeof d);
    struct mp_slot *e = mp_slot_make(s, slot);
    if (d.has_acc && mp_cmd_valid(&d.acc)) {
        e->acc_ballot = d.acc_ballot;
        e->acc = d.acc;
        e->has_acc = true;
    }
    if (d.chosen && mp_cmd_valid(&d.val)) {
        e->chosen = true;
        e->val = d.val;
        s->n_chosen += slot > s->applied;   /* the snapshot counted the others */
        mp_mark_dirty(s, slot);   /* the check compares it with the others once */
    }
    return 0;
}

static enum mp_mutant mp_read_mutant(const params *p)
{
    if (params_is(p, "mutant", "accept_lower_ballot"))
        return MP_MUT_ACCEPT_LOWER;
    if (params_is(p, "mutant", "ignore_promised_values"))
        return MP_MUT_IGNORE_PROMISED;
    return MP_MUT_NONE;
}

/* Boot or restart: promise, accepted slots and chosen slots come back from
 * the store, the chosen prefix is applied again to rebuild the map. On
 * first boot n1 runs phase 1 at once, so the cluster has a leader without
 * waiting a timeout; everybody else starts as a follower. */
static void *mp_init(node_ctx *ctx)
{
    struct mp_state *s = sim_xcalloc(1, sizeof *s);
    const params *p = node_params(ctx);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    s->heartbeat = params_time(p, "heartbeat");
    s->election_timeout = params_time(p, "election_timeout");
    s->mutant = mp_read_mutant(p);
    int64_t every = params_int(p, "snapshot_every");
    s->snapshot_every = every > 0 ? (uint64_t)every : 0;
    s->names = sim_xcalloc((size_t)s->n, sizeof *s->names);
    for (int i = 0; i < s->n; i++)
        s->names[i] = node_name(ctx, i);
    s->snap_sent_at = sim_xcalloc((size_t)s->n, sizeof *s->snap_sent_at);
    s->leader = -1;
    s->first_unchosen = 1;
    s->next_slot = 1;
    size_t len;
    const void *v = node_store_get(ctx, "promised", &len);
    bool first_boot = v == NULL;
    if (v && len == sizeof s->promised)
        memcpy(&s->promised, v, sizeof s->promised);
    s->checked_promised = s->promised;
    s->max_round = s->promised.round;
    s->base = 1;
    s->log_len = 0;
    v = node_store_get(ctx, "snap", &len);
    if (v && mp_snap_valid(v, len) == len) {
        struct mp_snap_hdr h;
        memcpy(&h, v, sizeof h);
        mp_snap_load(s, v);
        s->applied = h.upto;
        s->first_unchosen = h.upto + 1;
        s->n_chosen = h.upto;
        s->base = h.base >= 1 && h.base <= h.upto + 1 ? h.base : h.upto + 1;
        s->log_len = s->base - 1;
    }
    store_scan(node_store(ctx), "slot/", mp_scan_slot, s);
    mp_advance(s, NULL);
    if (first_boot) {
        mp_store_promise(s, ctx);
        node_store_sync(ctx);
    }
    s->role = MP_FOLLOWER;
    node_set_role(ctx, "follower", s->promised.round);
    s->heard_at = node_clock(ctx);
    mp_draw_wait(s, ctx);
    if (first_boot && s->self == 0)
        mp_start_election(s, ctx);
    else
        mp_arm_election(s, ctx, s->election_wait);
    return s;
}

static void mp_destroy(void *state)
{
    struct mp_state *s = state;
    if (!s)
        return;
    sim_free(s->names);
    sim_free(s->snap_sent_at);
    sim_free(s->log);
    sim_free(s->kv);
    sim_free(s->results);
    sim_free(s->pending);
    sim_free(s->rec);
    sim_free(s->dirty);
    sim_free(s->buf);
    sim_free(s);
}

/* ---- description ---------------------------------------------------------- */

static const char *mp_msg_type_name(uint32_t type)
{
    switch (type) {
    case MP_MSG_PREPARE: return "prepare";
    case MP_MSG_PROMISE: return "promise";
    case MP_MSG_NACK: return "nack";
    case MP_MSG_ACCEPT: return "accept";
    case MP_MSG_ACCEPTED: return "accepted";
    case MP_MSG_DECIDE: return "decide";
    case MP_MSG_SNAPSHOT: return "snapshot";
    default: return "?";
    }
}

static void mp_msg_ballot(jw *out, const char *name, struct mp_ballot b)
{
    jw_key(out, name);
    jw_arr(out);
    jw_int(out, b.round);
    jw_int(out, b.node);
    jw_arr_end(out);
}

/* type, ballot [round, node index], and for messages with entries the
 * first entry's slot, command, key, value and client op id, and how many
 * entries there are. */
static void mp_describe_msg(const void *msg, size_t len, jw *out)
{
    struct mp_hdr h;
    if (len < sizeof h) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&h, msg, sizeof h);
    jw_kstr(out, "type", mp_msg_type_name(h.type));
    mp_msg_ballot(out, "ballot", h.ballot);
    switch (h.type) {
    case MP_MSG_PREPARE:
        jw_kint(out, "slot", (int64_t)h.slot);
        return;
    case MP_MSG_SNAPSHOT:
        jw_kint(out, "upto", (int64_t)h.slot);
        return;
    case MP_MSG_NACK:
        mp_msg_ballot(out, "promised", h.promised);
        return;
    case MP_MSG_ACCEPTED:
        jw_kint(out, "first_unchosen", (int64_t)h.slot);
        if (h.n > 0 && len >= sizeof h + sizeof(uint64_t)) {
            uint64_t slot;
            memcpy(&slot, (const unsigned char *)msg + sizeof h, sizeof slot);
            jw_kint(out, "slot", (int64_t)slot);
        }
        jw_kint(out, "n", h.n);
        return;
    case MP_MSG_ACCEPT:
        jw_kint(out, "commit", (int64_t)h.slot);
        break;
    case MP_MSG_PROMISE:
        jw_kint(out, "first_unchosen", (int64_t)h.slot);
        break;
    default:
        break;
    }
    jw_kint(out, "n", h.n);
    if (h.n > 0 && len >= sizeof h + sizeof(struct mp_entry)) {
        struct mp_entry en;
        memcpy(&en, (const unsigned char *)msg + sizeof h, sizeof en);
        jw_kint(out, "slot", (int64_t)en.slot);
        jw_kstr(out, "cmd", mp_kind_name(en.cmd.kind));
        if (en.cmd.kind != MP_NOOP && memchr(en.cmd.key, 0, sizeof en.cmd.key)) {
            jw_kstr(out, "key", en.cmd.key);
            if (en.cmd.kind != MP_READ)
                jw_kint(out, "value", en.cmd.value);
            jw_kint(out, "op", (int64_t)en.cmd.op_id);
        }
    }
}

static void mp_describe(const void *state, jw *out)
{
    const struct mp_state *s = state;
    char b[64];
    jw_kstr(out, "role", mp_role_name(s->role));
    jw_kstr(out, "ballot", mp_ballot_str(s, s->ballot, b, sizeof b));
    jw_kstr(out, "promised", mp_ballot_str(s, s->promised, b, sizeof b));
    jw_kstr(out, "leader", s->leader >= 0 ? s->names[s->leader] : "");
    jw_kint(out, "first_unchosen", (int64_t)s->first_unchosen);
    jw_kint(out, "chosen", (int64_t)s->n_chosen);
    jw_kint(out, "applied", (int64_t)s->applied);
    jw_kint(out, "log_len", (int64_t)s->log_len);
    jw_kint(out, "base", (int64_t)s->base);
    jw_kint(out, "snapshots", (int64_t)s->snapshots);
    jw_kint(out, "elections", (int64_t)s->elections);
    if (s->role == MP_LEADER) {
        jw_kint(out, "next_slot", (int64_t)s->next_slot);
        jw_kint(out, "pending", (int64_t)s->n_pending);
    }
    jw_key(out, "map");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++)
        jw_kint(out, s->kv[i].key, s->kv[i].value);
    jw_obj_end(out);
}

/* ---- invariants ----------------------------------------------------------- */

/* Agreement on one slot: the commands the up nodes learned as chosen, and
 * the one a majority of up acceptors holds at one ballot, are one command. */
static int mp_check_slot(const struct model_view *view, const struct mp_state *s0, uint64_t slot, char *why,
                         size_t whylen)
{
    char c1[128], c2[128], b1[64];
    int first = -1;
    const struct mp_slot *ef = NULL;
    for (int i = 0; i < view->n_nodes; i++) {
        const struct mp_state *s = view->states[i];
        const struct mp_slot *e = s ? mp_slot_get((struct mp_state *)s, slot) : NULL;
        if (!e || !e->chosen)
            continue;
        if (ef && !mp_cmd_equal(&ef->val, &e->val)) {
            mp_cmd_str(&ef->val, c1, sizeof c1);
            mp_cmd_str(&e->val, c2, sizeof c2);
            snprintf(why, whylen, "agreement: slot %llu has two chosen commands: %s learned %s, %s learned %s",
                     (unsigned long long)slot, s0->names[first], c1, s0->names[i], c2);
            return 1;
        }
        if (!ef) {
            ef = e;
            first = i;
        }
    }
    if (!ef)
        return 0;
    int majority = view->n_nodes / 2 + 1;
    for (int i = 0; i < view->n_nodes; i++) {
        const struct mp_state *a = view->states[i];
        const struct mp_slot *ea = a ? mp_slot_get((struct mp_state *)a, slot) : NULL;
        if (!ea || !ea->has_acc)
            continue;
        int same = 0;
        for (int j = 0; j < view->n_nodes; j++) {
            const struct mp_state *c = view->states[j];
            const struct mp_slot *ec = c ? mp_slot_get((struct mp_state *)c, slot) : NULL;
            if (ec && ec->has_acc && mp_cmp(ec->acc_ballot, ea->acc_ballot) == 0)
                same++;
        }
        if (same >= majority && !mp_cmd_equal(&ea->acc, &ef->val)) {
            mp_cmd_str(&ef->val, c1, sizeof c1);
            mp_cmd_str(&ea->acc, c2, sizeof c2);
            snprintf(why, whylen,
                     "agreement: slot %llu: %s learned %s chosen, but a majority of acceptors (%s among them) accept %s at ballot %s",
                     (unsigned long long)slot, s0->names[first], c1, s0->names[i], c2,
                     mp_ballot_str(s0, ea->acc_ballot, b1, sizeof b1));
            return 1;
        }
        if (same >= majority)
            break;
    }
    return 0;
}

/* After every event: promises never go back on a node (against the
 * watermark kept in its state, written only here), and agreement on every
 * slot some node accepted or learned since the last check. */
static int mp_check(const struct model_view *view, char *why, size_t whylen)
{
    const struct mp_state *s0 = NULL;
    for (int i = 0; i < view->n_nodes && !s0; i++)
        s0 = view->states[i];
    if (!s0)
        return 0;
    int bad = 0;
    for (int i = 0; i < view->n_nodes; i++) {
        struct mp_state *s = view->states[i];
        if (!s)
            continue;
        if (!bad && mp_cmp(s->promised, s->checked_promised) < 0) {
            char b1[64], b2[64];
            snprintf(why, whylen, "promises never go back: %s's promise went from ballot %s back to %s",
                     s->names[i], mp_ballot_str(s, s->checked_promised, b1, sizeof b1),
                     mp_ballot_str(s, s->promised, b2, sizeof b2));
            bad = 1;
        }
        s->checked_promised = s->promised;
        if (!bad && s->has_conflict) {
            char c1[128], c2[128];
            const struct mp_slot *e = mp_slot_get(s, s->conflict_slot);
            mp_cmd_str(&e->val, c1, sizeof c1);
            mp_cmd_str(&s->conflict, c2, sizeof c2);
            snprintf(why, whylen, "agreement: slot %llu: %s learned %s chosen, then learned %s chosen there too",
                     (unsigned long long)s->conflict_slot, s->names[i], c1, c2);
            bad = 1;
        }
        for (size_t d = 0; d < s->n_dirty && !bad; d++)
            bad = mp_check_slot(view, s0, s->dirty[d], why, whylen);
        s->n_dirty = 0;
    }
    return bad;
}

/* Every command waits for a majority of acceptors: the minority side of a
 * partition cannot decide anything, reads included (PC), and every
 * operation costs a round trip to other nodes (EC). */
static const char *mp_cap_class(const params *p)
{
    (void)p;
    return "PC/EC";
}

static int mp_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    if (n_nodes > MP_MAX_NODES) {
        snprintf(err, errlen, "multipaxos supports at most %d nodes, got %d", MP_MAX_NODES, n_nodes);
        return -1;
    }
    if (params_time(p, "heartbeat") <= 0) {
        snprintf(err, errlen, "multipaxos heartbeat must be above 0");
        return -1;
    }
    if (params_int(p, "snapshot_every") < 0) {
        snprintf(err, errlen, "multipaxos snapshot_every must be 0 (never) or more");
        return -1;
    }
    if (params_time(p, "election_timeout") <= params_time(p, "heartbeat")) {
        snprintf(err, errlen, "multipaxos election_timeout must be longer than heartbeat, or followers depose a live leader");
        return -1;
    }
    return 0;
}

const struct model multipaxos_model = {
    .name = "multipaxos",
    .summary = "Multi-Paxos replicated log with a leader, no-op gap filling, and a key-value map (read/write/cas)",
    .params = mp_params,
    .init = mp_init,
    .destroy = mp_destroy,
    .on_message = mp_on_message,
    .on_timer = mp_on_timer,
    .on_request = mp_on_request,
    .describe_msg = mp_describe_msg,
    .describe = mp_describe,
    .check = mp_check,
    .cap_class = mp_cap_class,
    .validate = mp_validate,
    .mutants = mp_mutants,
};
