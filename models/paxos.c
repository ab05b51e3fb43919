/* paxos: single-decree Paxos, one instance per key, for teaching.
 *
 * Every node plays all three roles of Lamport's "Paxos Made Simple":
 *
 *   - proposer: a client's write of v to key k asks this node to propose v
 *     for k. It picks a ballot (round, node), higher than any it has seen,
 *     sends prepare(k, ballot) to every node (itself included) and waits for
 *     a majority of promises. Each promise carries the highest ballot the
 *     acceptor had accepted and its value; the proposer must propose the
 *     value of the highest of those, or its own value if there is none
 *     (phase 1). It then sends accept(k, ballot, value) (phase 2).
 *   - acceptor: promises a ballot higher than or equal to its promised one
 *     (and replies with what it accepted), accepts a ballot not lower than
 *     its promised one. Anything else is answered with a nack carrying the
 *     promised ballot, so the proposer knows how high to go next time. The
 *     promised ballot and the accepted ballot and value are written to the
 *     durable store and synced before the reply leaves.
 *   - learner: every acceptor sends accepted(k, ballot, value) to every
 *     node; a node that hears the same ballot from a majority of acceptors
 *     has learned the chosen value (kept in the store too: it never
 *     changes).
 *
 * Each key is its own single-decree instance: once a value is chosen for a
 * key it never changes. So a write of v succeeds (ok) if v is what got
 * chosen, and fails ("another value was chosen") otherwise: the register is
 * write-once. A cas is refused. A read returns the chosen value if this node
 * has learned it; otherwise it runs a round: phase 1, then, if a promise
 * reported an accepted value, phase 2 with the highest one until it is
 * chosen, and then answers with it; if no acceptor of the majority had
 * accepted anything, nothing can have been chosen before the read arrived,
 * and the read answers nil (only reads that arrived before that prepare
 * went out).
 *
 * Dueling proposers: two nodes proposing for the same key keep pre-empting
 * each other: A's accepts are refused because B prepared a higher ballot,
 * A prepares higher still, which refuses B's accepts, and so on. With
 * backoff = 0 a refused proposer retries at once and the trace shows ever
 * higher ballots with nothing chosen (livelock, until latency jitter lets
 * one finish); with backoff > 0 it waits a random time from its own stream
 * first, and one proposer usually gets through.
 *
 * Trace notes: "prepare" (key, ballot, round), "promise_rejected" (key,
 * ballot, promised, by, phase: a nack in phase 1 or 2), "chosen" (key,
 * value, ballot). Messages are one fixed-layout struct, validated by length
 * and content and ignored when malformed.
 *
 * Mutants (param mutant): accept_lower_ballot (the acceptor skips the
 * ballot test on accept and takes whatever arrives, lowering its promise),
 * ignore_promised_values (the proposer proposes its client's value whatever
 * the promises reported). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "model.h"
#include "store.h"

/* ---- ballots and wire format ---------------------------------------------- */

#define PX_KEY_MAX 48       /* key bytes including the NUL; longer keys are refused */
#define PX_MAX_NODES 64     /* promise and vote sets are 64-bit masks */

/* A ballot: ordered by round, then node. Round 0 is "no ballot". */
struct px_ballot {
    int64_t round;
    int32_t node;
    int32_t pad;
};

enum px_msg_type {
    PX_MSG_PREPARE = 1,
    PX_MSG_PROMISE,
    PX_MSG_ACCEPT,
    PX_MSG_ACCEPTED,
    PX_MSG_NACK,
};

/* Every message. prepare: ballot. promise: ballot, has_value, accepted and
 * value (what the acceptor accepted). accept and accepted: ballot, value.
 * nack: ballot (the one refused), accepted (the acceptor's promised
 * ballot), phase (1 or 2). The key is zero-filled after its NUL. */
struct px_msg {
    uint32_t type;
    int32_t has_value;
    int32_t phase;
    int32_t pad;
    struct px_ballot ballot;
    struct px_ballot accepted;
    int64_t value;
    char key[PX_KEY_MAX];
};

/* The acceptor's durable state of one key, under "acc/<key>". */
struct px_disk {
    struct px_ballot promised;
    struct px_ballot accepted;
    int64_t value;
    int32_t has_value;
    int32_t pad;
};

static int px_cmp(struct px_ballot a, struct px_ballot b)
{
    if (a.round != b.round)
        return a.round < b.round ? -1 : 1;
    if (a.node != b.node)
        return a.node < b.node ? -1 : 1;
    return 0;
}

/* ---- state ---------------------------------------------------------------- */

enum px_phase { PX_IDLE, PX_PREPARING, PX_ACCEPTING, PX_BACKOFF };
enum px_mutant { PX_MUT_NONE, PX_MUT_ACCEPT_LOWER, PX_MUT_IGNORE_PROMISED };

#define PX_TIMER_RETRY 1u     /* backoff over: prepare again */
#define PX_TIMER_ROUND 2u     /* no majority in time: back off and retry */

/* A client operation waiting for this key's outcome; gen is the proposer's
 * round count when it arrived (reads may answer nil only from a round that
 * started after them). */
struct px_waiting {
    struct sim_op op;
    uint64_t gen;
};

/* Everything one node knows about one key (one Paxos instance). Allocated
 * once and never moved, so pointers stay valid while keys are added. */
struct px_key {
    char key[PX_KEY_MAX];
    uint32_t id;                 /* stable index, used in timer tags */

    /* acceptor (durable) */
    struct px_ballot promised;
    struct px_ballot accepted;
    int64_t accepted_value;
    bool has_accepted;
    struct px_ballot checked_promised;   /* the check's watermark */

    /* proposer */
    enum px_phase phase;
    struct px_ballot ballot;     /* the current (or last) round's ballot */
    int64_t max_round;           /* highest round seen anywhere */
    uint64_t gen;                /* rounds started */
    uint64_t promised_by;        /* mask of nodes */
    struct px_ballot best;       /* highest accepted ballot in the promises */
    int64_t best_value;
    bool has_best;
    int64_t proposal;            /* phase 2: the value proposed */
    uint32_t timer_seq;
    uint64_t timer_id;
    bool has_timer;
    struct px_waiting *waiting;
    size_t n_waiting, cap_waiting;

    /* learner */
    struct px_ballot *heard;     /* per acceptor: highest ballot it accepted */
    int64_t *heard_value;
    bool chosen;
    int64_t chosen_value;
    struct px_ballot chosen_ballot;
    /* a majority accepted a different value after this node learned one:
     * only possible with a bug, reported by the check */
    bool conflict;
    int64_t conflict_value;
    struct px_ballot conflict_ballot;
    bool dirty;                  /* listed in the state's dirty list */
};

struct px_state {
    int self;
    int n;
    const char **names;
    sim_time backoff;
    sim_time round_timeout;
    enum px_mutant mutant;
    struct px_key **keys;        /* sorted by key name */
    size_t n_keys, cap_keys;
    uint32_t next_id;
    uint64_t rounds;             /* rounds started, all keys */
    /* keys whose promise, accepted value or learned value changed since
     * the check last ran: it looks at those only */
    struct px_key **dirty;
    size_t n_dirty, cap_dirty;
};

static const struct model_param px_params[] = {
    { "backoff", PARAM_TIME, "20ms", NULL,
      "a refused proposer waits a random time up to this before a higher ballot; 0 = at once (livelock)" },
    { "round_timeout", PARAM_TIME, "50ms", NULL,
      "a proposer without a majority of answers by then backs off and tries a higher ballot" },
    { "mutant", PARAM_ENUM, "none", "none|accept_lower_ballot|ignore_promised_values",
      "switch on one deliberate bug (see the mutants below)" },
    { NULL, 0, NULL, NULL, NULL },
};

static const struct model_mutant px_mutants[] = {
    { "accept_lower_ballot", "the acceptor accepts a ballot lower than the one it promised (and lowers its promise)" },
    { "ignore_promised_values", "the proposer ignores values reported in promises and proposes its client's own" },
    { NULL, NULL },
};

static int px_majority(const struct px_state *s) { return s->n / 2 + 1; }

static int px_popcount(uint64_t m)
{
    int c = 0;
    for (; m; m &= m - 1)
        c++;
    return c;
}

/* "3.n2", or "0" for no ballot, into buf. */
static const char *px_ballot_str(const char *const *names, int n, struct px_ballot b, char *buf, size_t len)
{
    if (b.round == 0)
        snprintf(buf, len, "0");
    else if (b.node >= 0 && b.node < n)
        snprintf(buf, len, "%lld.%s", (long long)b.round, names[b.node]);
    else
        snprintf(buf, len, "%lld.?", (long long)b.round);
    return buf;
}

static void px_note_ballot(jw *j, const struct px_state *s, const char *name, struct px_ballot b)
{
    char buf[64];
    jw_kstr(j, name, px_ballot_str(s->names, s->n, b, buf, sizeof buf));
}

/* ---- keys ----------------------------------------------------------------- */

static ptrdiff_t px_find(const struct px_state *s, const char *key)
{
    size_t lo = 0, hi = s->n_keys;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->keys[mid]->key, key);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ~(ptrdiff_t)lo;
}

static struct px_key *px_key_get(struct px_state *s, const char *key)
{
    ptrdiff_t i = px_find(s, key);
    return i >= 0 ? s->keys[i] : NULL;
}

/* The record of key (which fits PX_KEY_MAX), created empty if new. */
static struct px_key *px_key_make(struct px_state *s, const char *key)
{
    ptrdiff_t i = px_find(s, key);
    if (i >= 0)
        return s->keys[i];
    size_t pos = (size_t)~i;
    struct px_key *k = sim_xcalloc(1, sizeof *k);
    memcpy(k->key, key, strlen(key));
    k->id = s->next_id++;
    k->heard = sim_xcalloc((size_t)s->n, sizeof *k->heard);
    k->heard_value = sim_xcalloc((size_t)s->n, sizeof *k->heard_value);
    SIM_GROW(s->keys, s->cap_keys, s->n_keys + 1);
    memmove(&s->keys[pos + 1], &s->keys[pos], (s->n_keys - pos) * sizeof *s->keys);
    s->keys[pos] = k;
    s->n_keys++;
    return k;
}

static struct px_key *px_key_by_id(struct px_state *s, uint32_t id)
{
    for (size_t i = 0; i < s->n_keys; i++)
        if (s->keys[i]->id == id)
            return s->keys[i];
    return NULL;
}

static void px_mark(struct px_state *s, struct px_key *k)
{
    if (k->dirty)
        return;
    k->dirty = true;
    SIM_GROW(s->dirty, s->cap_dirty, s->n_dirty + 1);
    s->dirty[s->n_dirty++] = k;
}

static void px_key_free(struct px_key *k)
{
    sim_free(k->waiting);
    sim_free(k->heard);
    sim_free(k->heard_value);
    sim_free(k);
}

/* ---- the durable store ---------------------------------------------------- */

static void px_store_key(char *out, size_t len, const char *key)
{
    snprintf(out, len, "acc/%s", key);
}

/* Write the acceptor state of k and sync: called before any promise or
 * accepted leaves, so a crash can never make an acceptor forget one. */
static void px_persist(node_ctx *ctx, const struct px_key *k)
{
    struct px_disk d;
    memset(&d, 0, sizeof d);
    d.promised = k->promised;
    d.accepted = k->accepted;
    d.value = k->accepted_value;
    d.has_value = k->has_accepted;
    char skey[PX_KEY_MAX + 8];
    px_store_key(skey, sizeof skey, k->key);
    node_store_put(ctx, skey, &d, sizeof d);
    node_store_sync(ctx);
}

static int px_scan(void *arg, const char *key, const void *val, size_t len)
{
    struct px_state *s = arg;
    const char *name = key + 4;   /* after "acc/" */
    struct px_disk d;
    if (len != sizeof d || strlen(name) == 0 || strlen(name) >= PX_KEY_MAX)
        return 0;
    memcpy(&d, val, sizeof d);
    struct px_key *k = px_key_make(s, name);
    k->promised = d.promised;
    k->accepted = d.accepted;
    k->accepted_value = d.value;
    k->has_accepted = d.has_value != 0;
    k->checked_promised = d.promised;
    k->max_round = d.promised.round;
    return 0;
}

/* What a node learned is a fact that never changes: it is kept under
 * "chosen/<key>" (synced, once per key), so a restarted node still knows
 * it and the replicas' maps converge. */
struct px_disk_chosen {
    struct px_ballot ballot;
    int64_t value;
};

static void px_persist_chosen(node_ctx *ctx, const struct px_key *k)
{
    struct px_disk_chosen d;
    memset(&d, 0, sizeof d);
    d.ballot = k->chosen_ballot;
    d.value = k->chosen_value;
    char skey[PX_KEY_MAX + 8];
    snprintf(skey, sizeof skey, "chosen/%s", k->key);
    node_store_put(ctx, skey, &d, sizeof d);
    node_store_sync(ctx);
}

static int px_scan_chosen(void *arg, const char *key, const void *val, size_t len)
{
    struct px_state *s = arg;
    const char *name = key + 7;   /* after "chosen/" */
    struct px_disk_chosen d;
    if (len != sizeof d || strlen(name) == 0 || strlen(name) >= PX_KEY_MAX)
        return 0;
    memcpy(&d, val, sizeof d);
    struct px_key *k = px_key_make(s, name);
    k->chosen = true;
    k->chosen_value = d.value;
    k->chosen_ballot = d.ballot;
    px_mark(s, k);
    return 0;
}

/* ---- sending -------------------------------------------------------------- */

static void px_handle(struct px_state *s, node_ctx *ctx, int from, const struct px_msg *m);

static void px_msg_init(struct px_msg *m, uint32_t type, const struct px_key *k)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    memcpy(m->key, k->key, strlen(k->key));
}

/* Send m to node `to`; to itself it is handled at once, without the network. */
static void px_send(struct px_state *s, node_ctx *ctx, int to, const struct px_msg *m)
{
    if (to == s->self)
        px_handle(s, ctx, s->self, m);
    else
        node_send(ctx, to, m, sizeof *m);
}

/* Send m to every node, itself last (so the network copies leave first and
 * whatever the local handling triggers comes after them). */
static void px_send_all(struct px_state *s, node_ctx *ctx, const struct px_msg *m)
{
    for (int i = 0; i < s->n; i++)
        if (i != s->self)
            node_send(ctx, i, m, sizeof *m);
    px_handle(s, ctx, s->self, m);
}

/* ---- proposer ------------------------------------------------------------- */

static void px_cancel_timer(node_ctx *ctx, struct px_key *k)
{
    if (k->has_timer)
        node_timer_cancel(ctx, k->timer_id);
    k->has_timer = false;
}

static void px_set_timer(node_ctx *ctx, struct px_key *k, sim_time delay, uint32_t kind)
{
    px_cancel_timer(ctx, k);
    k->timer_seq++;
    uint64_t tag = ((uint64_t)k->id << 32) | ((uint64_t)(k->timer_seq & 0x3fffffffu) << 2) | kind;
    k->timer_id = node_timer_set(ctx, delay, tag);
    k->has_timer = true;
}

static void px_start_round(struct px_state *s, node_ctx *ctx, struct px_key *k);

/* The current round failed (a nack, or no majority in time): try again with
 * a higher ballot, at once with backoff 0, else after a random wait. */
static void px_back_off(struct px_state *s, node_ctx *ctx, struct px_key *k)
{
    if (s->backoff <= 0) {
        px_start_round(s, ctx, k);
        return;
    }
    k->phase = PX_BACKOFF;
    px_set_timer(ctx, k, node_random_range(ctx, 1, s->backoff), PX_TIMER_RETRY);
}

static void px_start_round(struct px_state *s, node_ctx *ctx, struct px_key *k)
{
    if (k->chosen || k->n_waiting == 0) {
        k->phase = PX_IDLE;
        px_cancel_timer(ctx, k);
        return;
    }
    int64_t round = k->max_round > k->ballot.round ? k->max_round : k->ballot.round;
    if (k->promised.round > round)
        round = k->promised.round;
    k->ballot = (struct px_ballot){ .round = round + 1, .node = s->self };
    k->max_round = k->ballot.round;
    k->gen++;
    s->rounds++;
    k->phase = PX_PREPARING;
    k->promised_by = 0;
    k->has_best = false;
    k->best = (struct px_ballot){ .round = 0 };
    jw *j = node_note_begin(ctx, "prepare");
    if (j) {
        jw_kstr(j, "key", k->key);
        px_note_ballot(j, s, "ballot", k->ballot);
        jw_kint(j, "round", k->ballot.round);
        node_note_end(ctx);
    }
    px_set_timer(ctx, k, s->round_timeout, PX_TIMER_ROUND);
    struct px_msg m;
    px_msg_init(&m, PX_MSG_PREPARE, k);
    m.ballot = k->ballot;
    px_send_all(s, ctx, &m);
}

/* The first waiting write's value, if any. */
static bool px_own_value(const struct px_key *k, int64_t *value)
{
    for (size_t i = 0; i < k->n_waiting; i++)
        if (k->waiting[i].op.type == OP_WRITE) {
            *value = k->waiting[i].op.value;
            return true;
        }
    return false;
}

/* Phase 1 found no accepted value and there is no write to propose: the
 * reads that were waiting before this round began answer nil; later ones
 * need a round of their own. */
static void px_answer_nil_reads(struct px_state *s, node_ctx *ctx, struct px_key *k)
{
    size_t kept = 0;
    for (size_t i = 0; i < k->n_waiting; i++) {
        struct px_waiting *w = &k->waiting[i];
        if (w->op.type == OP_READ && w->gen < k->gen)
            node_reply_ok(ctx, &w->op, false, 0);
        else
            k->waiting[kept++] = *w;
    }
    k->n_waiting = kept;
    k->phase = PX_IDLE;
    px_cancel_timer(ctx, k);
    if (k->n_waiting > 0)
        px_start_round(s, ctx, k);
}

/* A majority promised: choose the value to propose (phase 2). */
static void px_phase2(struct px_state *s, node_ctx *ctx, struct px_key *k)
{
    int64_t own = 0;
    bool has_own = px_own_value(k, &own);
    int64_t value;
    if (k->has_best && !(s->mutant == PX_MUT_IGNORE_PROMISED && has_own))
        value = k->best_value;   /* the rule that makes Paxos safe */
    else if (has_own)
        value = own;
    else {
        px_answer_nil_reads(s, ctx, k);
        return;
    }
    k->phase = PX_ACCEPTING;
    k->proposal = value;
    px_set_timer(ctx, k, s->round_timeout, PX_TIMER_ROUND);
    struct px_msg m;
    px_msg_init(&m, PX_MSG_ACCEPT, k);
    m.ballot = k->ballot;
    m.value = value;
    px_send_all(s, ctx, &m);
}

static void px_on_promise(struct px_state *s, node_ctx *ctx, int from, const struct px_msg *m,
                          struct px_key *k)
{
    if (k->phase != PX_PREPARING || px_cmp(m->ballot, k->ballot) != 0)
        return;
    k->promised_by |= (uint64_t)1 << from;
    if (m->has_value && (!k->has_best || px_cmp(m->accepted, k->best) > 0)) {
        k->has_best = true;
        k->best = m->accepted;
        k->best_value = m->value;
    }
    if (px_popcount(k->promised_by) >= px_majority(s))
        px_phase2(s, ctx, k);
}

static void px_on_nack(struct px_state *s, node_ctx *ctx, int from, const struct px_msg *m, struct px_key *k)
{
    if (m->accepted.round > k->max_round)
        k->max_round = m->accepted.round;
    bool current = (k->phase == PX_PREPARING && m->phase == 1) || (k->phase == PX_ACCEPTING && m->phase == 2);
    if (!current || px_cmp(m->ballot, k->ballot) != 0)
        return;
    jw *j = node_note_begin(ctx, "promise_rejected");
    if (j) {
        jw_kstr(j, "key", k->key);
        px_note_ballot(j, s, "ballot", k->ballot);
        px_note_ballot(j, s, "promised", m->accepted);
        jw_kstr(j, "by", s->names[from]);
        jw_kint(j, "phase", m->phase);
        node_note_end(ctx);
    }
    px_back_off(s, ctx, k);
}

/* ---- acceptor ------------------------------------------------------------- */

static void px_on_prepare(struct px_state *s, node_ctx *ctx, int from, const struct px_msg *m,
                          struct px_key *k)
{
    struct px_msg r;
    px_msg_init(&r, PX_MSG_PROMISE, k);
    r.ballot = m->ballot;
    if (px_cmp(m->ballot, k->promised) < 0) {
        r.type = PX_MSG_NACK;
        r.phase = 1;
        r.accepted = k->promised;
    } else {
        if (px_cmp(m->ballot, k->promised) > 0) {
            k->promised = m->ballot;
            px_mark(s, k);
            px_persist(ctx, k);
        }
        r.has_value = k->has_accepted;
        r.accepted = k->accepted;
        r.value = k->accepted_value;
    }
    if (m->ballot.round > k->max_round)
        k->max_round = m->ballot.round;
    px_send(s, ctx, from, &r);
}

static void px_on_accept(struct px_state *s, node_ctx *ctx, int from, const struct px_msg *m,
                         struct px_key *k)
{
    if (m->ballot.round > k->max_round)
        k->max_round = m->ballot.round;
    /* the mutant leaves out the one test that protects a promise */
    if (px_cmp(m->ballot, k->promised) < 0 && s->mutant != PX_MUT_ACCEPT_LOWER) {
        struct px_msg r;
        px_msg_init(&r, PX_MSG_NACK, k);
        r.ballot = m->ballot;
        r.phase = 2;
        r.accepted = k->promised;
        px_send(s, ctx, from, &r);
        return;
    }
    k->promised = m->ballot;
    k->accepted = m->ballot;
    k->accepted_value = m->value;
    k->has_accepted = true;
    px_mark(s, k);
    px_persist(ctx, k);
    struct px_msg r;
    px_msg_init(&r, PX_MSG_ACCEPTED, k);
    r.ballot = m->ballot;
    r.value = m->value;
    px_send_all(s, ctx, &r);
}

/* ---- learner -------------------------------------------------------------- */

/* The outcome of waiting operations now that k's value is chosen. */
static void px_answer_all(node_ctx *ctx, struct px_key *k)
{
    for (size_t i = 0; i < k->n_waiting; i++) {
        const struct sim_op *op = &k->waiting[i].op;
        if (op->type == OP_READ)
            node_reply_ok(ctx, op, true, k->chosen_value);
        else if (op->type == OP_WRITE && op->value == k->chosen_value)
            node_reply_ok(ctx, op, false, 0);
        else
            node_reply_fail(ctx, op, "another value was chosen");
    }
    k->n_waiting = 0;
}

static void px_learn(struct px_state *s, node_ctx *ctx, struct px_key *k, struct px_ballot b, int64_t value)
{
    if (k->chosen) {
        if (value != k->chosen_value && !k->conflict) {
            k->conflict = true;
            k->conflict_value = value;
            k->conflict_ballot = b;
            px_mark(s, k);
        }
        return;
    }
    px_mark(s, k);
    k->chosen = true;
    k->chosen_value = value;
    k->chosen_ballot = b;
    px_persist_chosen(ctx, k);
    jw *j = node_note_begin(ctx, "chosen");
    if (j) {
        jw_kstr(j, "key", k->key);
        jw_kint(j, "value", value);
        px_note_ballot(j, s, "ballot", b);
        node_note_end(ctx);
    }
    px_cancel_timer(ctx, k);
    k->phase = PX_IDLE;
    px_answer_all(ctx, k);
}

/* Acceptor `from` accepted (b, value) for k (an accepted message, or a
 * promise reporting it). A majority of acceptors at one ballot = chosen. */
static void px_heard(struct px_state *s, node_ctx *ctx, int from, struct px_key *k, struct px_ballot b,
                     int64_t value)
{
    if (b.round == 0 || px_cmp(b, k->heard[from]) <= 0)
        return;
    k->heard[from] = b;
    k->heard_value[from] = value;
    int same = 0;
    for (int i = 0; i < s->n; i++)
        if (px_cmp(k->heard[i], b) == 0)
            same++;
    if (same >= px_majority(s))
        px_learn(s, ctx, k, b, value);
}

/* ---- messages ------------------------------------------------------------- */

static bool px_valid(const struct px_state *s, const struct px_msg *m)
{
    if (m->key[0] == 0 || memchr(m->key, 0, sizeof m->key) == NULL)
        return false;
    if (m->ballot.round < 1 || m->ballot.node < 0 || m->ballot.node >= s->n)
        return false;
    if (m->type == PX_MSG_NACK && (m->phase < 1 || m->phase > 2))
        return false;
    return m->type >= PX_MSG_PREPARE && m->type <= PX_MSG_NACK;
}

static void px_handle(struct px_state *s, node_ctx *ctx, int from, const struct px_msg *m)
{
    if (!px_valid(s, m))
        return;
    struct px_key *k = px_key_make(s, m->key);
    switch (m->type) {
    case PX_MSG_PREPARE:
        px_on_prepare(s, ctx, from, m, k);
        break;
    case PX_MSG_PROMISE:
        if (m->has_value)
            px_heard(s, ctx, from, k, m->accepted, m->value);
        px_on_promise(s, ctx, from, m, k);
        break;
    case PX_MSG_ACCEPT:
        px_on_accept(s, ctx, from, m, k);
        break;
    case PX_MSG_ACCEPTED:
        px_heard(s, ctx, from, k, m->ballot, m->value);
        break;
    case PX_MSG_NACK:
        px_on_nack(s, ctx, from, m, k);
        break;
    default:
        break;
    }
}

static void px_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct px_state *s = state;
    struct px_msg m;
    if (len != sizeof m || from < 0 || from >= s->n || from == s->self)
        return;
    memcpy(&m, msg, sizeof m);
    px_handle(s, ctx, from, &m);
}

static void px_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct px_state *s = state;
    struct px_key *k = px_key_by_id(s, (uint32_t)(tag >> 32));
    if (!k || !k->has_timer || ((tag >> 2) & 0x3fffffffu) != (k->timer_seq & 0x3fffffffu))
        return;
    k->has_timer = false;
    if ((tag & 3u) == PX_TIMER_RETRY)
        px_start_round(s, ctx, k);
    else if (k->phase == PX_PREPARING || k->phase == PX_ACCEPTING)
        px_back_off(s, ctx, k);
}

static void px_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct px_state *s = state;
    if (!op->key || !op->key[0] || strlen(op->key) >= PX_KEY_MAX) {
        node_reply_fail(ctx, op, "key too long");
        return;
    }
    if (op->type != OP_READ && op->type != OP_WRITE) {
        node_reply_fail(ctx, op, "single-decree paxos supports only read and write");
        return;
    }
    struct px_key *k = px_key_make(s, op->key);
    if (k->chosen) {
        struct sim_op copy = *op;
        copy.ctx = NULL;
        copy.ctx_len = 0;
        SIM_GROW(k->waiting, k->cap_waiting, 1);
        k->waiting[0] = (struct px_waiting){ .op = copy, .gen = k->gen };
        k->n_waiting = 1;
        px_answer_all(ctx, k);
        return;
    }
    /* a retry of an operation already waiting replaces it */
    struct px_waiting *w = NULL;
    for (size_t i = 0; i < k->n_waiting; i++)
        if (k->waiting[i].op.id == op->id)
            w = &k->waiting[i];
    if (!w) {
        SIM_GROW(k->waiting, k->cap_waiting, k->n_waiting + 1);
        w = &k->waiting[k->n_waiting++];
    }
    w->op = *op;
    w->op.ctx = NULL;
    w->op.ctx_len = 0;
    w->gen = k->gen;
    if (k->phase == PX_IDLE)
        px_start_round(s, ctx, k);
}

/* ---- lifecycle ------------------------------------------------------------ */

static enum px_mutant px_read_mutant(const params *p)
{
    if (params_is(p, "mutant", "accept_lower_ballot"))
        return PX_MUT_ACCEPT_LOWER;
    if (params_is(p, "mutant", "ignore_promised_values"))
        return PX_MUT_IGNORE_PROMISED;
    return PX_MUT_NONE;
}

/* Boot or restart: the acceptor state and the learned value of every key
 * come back from the store; rounds in progress are gone (a client waiting
 * on this node times out and retries). */
static void *px_init(node_ctx *ctx)
{
    struct px_state *s = sim_xcalloc(1, sizeof *s);
    const params *p = node_params(ctx);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    s->backoff = params_time(p, "backoff");
    s->round_timeout = params_time(p, "round_timeout");
    s->mutant = px_read_mutant(p);
    s->names = sim_xcalloc((size_t)s->n, sizeof *s->names);
    for (int i = 0; i < s->n; i++)
        s->names[i] = node_name(ctx, i);
    store_scan(node_store(ctx), "acc/", px_scan, s);
    store_scan(node_store(ctx), "chosen/", px_scan_chosen, s);
    return s;
}

static void px_destroy(void *state)
{
    struct px_state *s = state;
    if (!s)
        return;
    for (size_t i = 0; i < s->n_keys; i++)
        px_key_free(s->keys[i]);
    sim_free(s->keys);
    sim_free(s->dirty);
    sim_free(s->names);
    sim_free(s);
}

static const char *px_msg_type_name(uint32_t type)
{
    switch (type) {
    case PX_MSG_PREPARE: return "prepare";
    case PX_MSG_PROMISE: return "promise";
    case PX_MSG_ACCEPT: return "accept";
    case PX_MSG_ACCEPTED: return "accepted";
    case PX_MSG_NACK: return "nack";
    default: return "?";
    }
}

/* Ballots in messages are written as [round, node index]: describe_msg has
 * no node names. */
static void px_msg_ballot(jw *out, const char *name, struct px_ballot b)
{
    jw_key(out, name);
    jw_arr(out);
    jw_int(out, b.round);
    jw_int(out, b.node);
    jw_arr_end(out);
}

static void px_describe_msg(const void *msg, size_t len, jw *out)
{
    struct px_msg m;
    if (len != sizeof m) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&m, msg, sizeof m);
    jw_kstr(out, "type", px_msg_type_name(m.type));
    if (memchr(m.key, 0, sizeof m.key) == NULL)
        return;
    jw_kstr(out, "key", m.key);
    px_msg_ballot(out, "ballot", m.ballot);
    switch (m.type) {
    case PX_MSG_PROMISE:
        if (m.has_value) {
            px_msg_ballot(out, "accepted", m.accepted);
            jw_kint(out, "value", m.value);
        }
        break;
    case PX_MSG_ACCEPT:
    case PX_MSG_ACCEPTED:
        jw_kint(out, "value", m.value);
        break;
    case PX_MSG_NACK:
        px_msg_ballot(out, "promised", m.accepted);
        jw_kint(out, "phase", m.phase);
        break;
    default:
        break;
    }
}

static const char *px_phase_name(enum px_phase p)
{
    switch (p) {
    case PX_PREPARING: return "preparing";
    case PX_ACCEPTING: return "accepting";
    case PX_BACKOFF: return "backoff";
    default: return "idle";
    }
}

/* role: "proposer" while some key has a round going, else "acceptor";
 * ballot and promised: the highest over keys; "first undecided slot" has no
 * meaning here (every key is one slot), so "undecided" counts the keys this
 * node knows of without a learned value. */
static void px_describe(const void *state, jw *out)
{
    const struct px_state *s = state;
    struct px_ballot ballot = { .round = 0 }, promised = { .round = 0 };
    int64_t chosen = 0, undecided = 0;
    bool proposing = false;
    for (size_t i = 0; i < s->n_keys; i++) {
        const struct px_key *k = s->keys[i];
        if (px_cmp(k->ballot, ballot) > 0)
            ballot = k->ballot;
        if (px_cmp(k->promised, promised) > 0)
            promised = k->promised;
        chosen += k->chosen;
        undecided += !k->chosen;
        proposing |= k->phase != PX_IDLE;
    }
    char buf[64];
    jw_kstr(out, "role", proposing ? "proposer" : "acceptor");
    jw_kstr(out, "ballot", px_ballot_str(s->names, s->n, ballot, buf, sizeof buf));
    jw_kstr(out, "promised", px_ballot_str(s->names, s->n, promised, buf, sizeof buf));
    jw_kint(out, "chosen", chosen);
    jw_kint(out, "undecided", undecided);
    jw_kint(out, "rounds", (int64_t)s->rounds);
    jw_key(out, "keys");
    jw_obj(out);
    for (size_t i = 0; i < s->n_keys; i++) {
        const struct px_key *k = s->keys[i];
        jw_key(out, k->key);
        jw_obj(out);
        jw_kstr(out, "promised", px_ballot_str(s->names, s->n, k->promised, buf, sizeof buf));
        if (k->has_accepted) {
            jw_kstr(out, "accepted", px_ballot_str(s->names, s->n, k->accepted, buf, sizeof buf));
            jw_kint(out, "accepted_value", k->accepted_value);
        }
        jw_kstr(out, "proposer", px_phase_name(k->phase));
        if (k->chosen)
            jw_kint(out, "chosen", k->chosen_value);
        jw_obj_end(out);
    }
    jw_obj_end(out);
    jw_key(out, "map");
    jw_obj(out);
    for (size_t i = 0; i < s->n_keys; i++)
        if (s->keys[i]->chosen)
            jw_kint(out, s->keys[i]->key, s->keys[i]->chosen_value);
    jw_obj_end(out);
}

/* ---- invariants ----------------------------------------------------------- */

/* The value a majority of the up acceptors accepted at one ballot for key,
 * if any: chosen now, whatever anybody learned. */
static bool px_chosen_now(const struct model_view *view, const char *key, struct px_ballot *b, int64_t *value,
                          int *witness)
{
    int majority = view->n_nodes / 2 + 1;
    for (int i = 0; i < view->n_nodes; i++) {
        const struct px_state *a = view->states[i];
        const struct px_key *ka = a ? px_key_get((struct px_state *)a, key) : NULL;
        if (!ka || !ka->has_accepted)
            continue;
        int same = 0;
        for (int j = 0; j < view->n_nodes; j++) {
            const struct px_state *c = view->states[j];
            const struct px_key *kc = c ? px_key_get((struct px_state *)c, key) : NULL;
            if (kc && kc->has_accepted && px_cmp(kc->accepted, ka->accepted) == 0)
                same++;
        }
        if (same >= majority) {
            *b = ka->accepted;
            *value = ka->accepted_value;
            *witness = i;
            return true;
        }
    }
    return false;
}

/* Agreement on one key: every learned value and the value a majority
 * accepts now are one value. */
static int px_check_key(const struct model_view *view, const struct px_state *s0, const char *key, char *why,
                        size_t whylen)
{
    char b1[64], b2[64];
    int first = -1;
    const struct px_key *kf = NULL;
    for (int i = 0; i < view->n_nodes; i++) {
        const struct px_state *a = view->states[i];
        const struct px_key *k = a ? px_key_get((struct px_state *)a, key) : NULL;
        if (!k)
            continue;
        if (k->conflict) {
            snprintf(why, whylen,
                     "agreement: key %s: %s learned %lld chosen at ballot %s, then a majority accepted %lld at ballot %s",
                     key, s0->names[i], (long long)k->chosen_value,
                     px_ballot_str(s0->names, s0->n, k->chosen_ballot, b1, sizeof b1), (long long)k->conflict_value,
                     px_ballot_str(s0->names, s0->n, k->conflict_ballot, b2, sizeof b2));
            return 1;
        }
        if (!k->chosen)
            continue;
        if (kf && kf->chosen_value != k->chosen_value) {
            snprintf(why, whylen,
                     "agreement: key %s has two chosen values: %s learned %lld (ballot %s), %s learned %lld (ballot %s)",
                     key, s0->names[first], (long long)kf->chosen_value,
                     px_ballot_str(s0->names, s0->n, kf->chosen_ballot, b1, sizeof b1), s0->names[i],
                     (long long)k->chosen_value, px_ballot_str(s0->names, s0->n, k->chosen_ballot, b2, sizeof b2));
            return 1;
        }
        if (!kf) {
            kf = k;
            first = i;
        }
    }
    struct px_ballot b;
    int64_t value;
    int witness;
    if (kf && px_chosen_now(view, key, &b, &value, &witness) && value != kf->chosen_value) {
        snprintf(why, whylen,
                 "agreement: key %s: %s learned %lld chosen (ballot %s), but a majority of acceptors (%s among them) accept %lld at ballot %s",
                 key, s0->names[first], (long long)kf->chosen_value,
                 px_ballot_str(s0->names, s0->n, kf->chosen_ballot, b1, sizeof b1), s0->names[witness],
                 (long long)value, px_ballot_str(s0->names, s0->n, b, b2, sizeof b2));
        return 1;
    }
    return 0;
}

/* After every event: (1) agreement: per key, all values learned as chosen
 * on up nodes, and the value a majority of up acceptors holds at one ballot,
 * are the same; (2) promises never go back: each node's promised ballot per
 * key is at least what the check saw last time (the watermark lives in the
 * node's state, is rebuilt from the store on restart, and is written only
 * here). Only keys some node changed since the last check are looked at
 * (each node lists them), so the cost follows the activity, not the number
 * of keys. */
static int px_check(const struct model_view *view, char *why, size_t whylen)
{
    const struct px_state *s0 = NULL;
    for (int i = 0; i < view->n_nodes && !s0; i++)
        s0 = view->states[i];
    if (!s0)
        return 0;
    int bad = 0;
    for (int i = 0; i < view->n_nodes; i++) {
        struct px_state *s = view->states[i];
        if (!s)
            continue;
        for (size_t j = 0; j < s->n_dirty; j++) {
            struct px_key *k = s->dirty[j];
            k->dirty = false;
            if (bad)
                continue;
            if (px_cmp(k->promised, k->checked_promised) < 0) {
                char b1[64], b2[64];
                snprintf(why, whylen, "promises never go back: %s's promise for key %s went from ballot %s back to %s",
                         s->names[i], k->key, px_ballot_str(s->names, s->n, k->checked_promised, b1, sizeof b1),
                         px_ballot_str(s->names, s->n, k->promised, b2, sizeof b2));
                bad = 1;
            }
            k->checked_promised = k->promised;
            if (!bad)
                bad = px_check_key(view, s0, k->key, why, whylen);
        }
        s->n_dirty = 0;
    }
    return bad;
}

/* Every key is decided by a majority of acceptors: a minority side of a
 * partition cannot choose (PC), and every write waits for two round trips
 * to other nodes (EC). */
static const char *px_cap_class(const params *p)
{
    (void)p;
    return "PC/EC";
}

static int px_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    if (n_nodes > PX_MAX_NODES) {
        snprintf(err, errlen, "paxos supports at most %d nodes, got %d", PX_MAX_NODES, n_nodes);
        return -1;
    }
    if (params_time(p, "backoff") < 0) {
        snprintf(err, errlen, "paxos backoff must not be negative");
        return -1;
    }
    if (params_time(p, "round_timeout") <= 0) {
        snprintf(err, errlen, "paxos round_timeout must be above 0");
        return -1;
    }
    return 0;
}

const struct model paxos_model = {
    .name = "paxos",
    .summary = "single-decree Paxos per key (write-once registers): prepare/promise, accept/accepted, learners",
    .params = px_params,
    .init = px_init,
    .destroy = px_destroy,
    .on_message = px_on_message,
    .on_timer = px_on_timer,
    .on_request = px_on_request,
    .describe_msg = px_describe_msg,
    .describe = px_describe,
    .check = px_check,
    .cap_class = px_cap_class,
    .validate = px_validate,
    .mutants = px_mutants,
};
