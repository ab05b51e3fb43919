/* twopc: two-phase commit across key-value participants.
 *
 * One node is the coordinator (parameter coordinator, n1 by default); every
 * other node is a participant holding a key-value store with one exclusive
 * lock per key. A client transaction names its keys as "nK/key": key `key`
 * on the K-th node (the position in the cluster, whatever its name). The
 * coordinator runs it in three rounds:
 *
 *   1. exec: each participant locks its keys (no waiting: a key locked by
 *      another transaction refuses, and the transaction aborts) and reads
 *      under the locks. Until it votes it may abort on its own: if no
 *      prepare arrives within prepare_timeout it releases its locks.
 *   2. prepare: each participant votes. Yes means "I can commit whatever you
 *      decide": its staged writes and locks are synced to its log first.
 *   3. decision: all yes -> commit, else abort. The coordinator logs and
 *      syncs the decision before sending it (and before answering the
 *      client), then resends it until every participant acknowledges.
 *
 * A participant that voted yes and hears nothing for decision_timeout is
 * blocked: it may not decide alone, since the others may have committed or
 * aborted, and it keeps its locks ("blocked" note with since, "unblocked"
 * with the duration when the decision arrives). It asks the coordinator
 * again every query_interval; with cooperative_termination it also asks the
 * other participants: one that knows the decision, or has not voted yes
 * (it then aborts, which it may), resolves it; if every participant is
 * prepared and the coordinator is down, nobody can, and all stay blocked.
 *
 * The coordinator recovers from its log on restart: decisions it logged
 * are resent, transactions it started but never decided are aborted
 * (presumed abort: a query about a transaction it does not know is answered
 * abort).
 *
 * Mutants: forget_decision (the coordinator does not read its decisions back
 * on restart, and presumes abort for transactions it committed),
 * release_locks_after_vote (a participant lets its locks go once it voted
 * yes, so another transaction can prepare on the same keys).
 *
 * Messages are one fixed-layout struct, validated by length and content. */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "model.h"
#include "store.h"

/* ---- formats ------------------------------------------------------------- */

#define TPC_KEY_MAX 32        /* a participant-local key, with its NUL */
#define TPC_MAX_NODES 64      /* participants are a bit mask */

/* One micro-operation as a participant sees it: its local key, and where it
 * sits in the client's transaction. */
struct tpc_op {
    int32_t f;                /* OP_READ or OP_WRITE */
    int32_t index;            /* position in the client's transaction */
    int64_t value;            /* write: the value; read (exec reply): what was read */
    char key[TPC_KEY_MAX];
};

enum tpc_msg_type {
    TPC_EXEC = 1,             /* coordinator -> participant: lock and read */
    TPC_EXEC_REPLY,           /* flag 1 ok (ops carry the reads), 0 refused */
    TPC_PREPARE,
    TPC_VOTE,                 /* flag 1 yes, 0 no */
    TPC_DECISION,             /* flag 1 commit, 0 abort */
    TPC_ACK,
    TPC_QUERY,                /* a blocked participant asks: what was decided? */
    TPC_STATUS,               /* the answer: flag = enum tpc_status */
};

enum tpc_status { TPC_ST_UNKNOWN = 0, TPC_ST_PREPARED, TPC_ST_COMMITTED, TPC_ST_ABORTED };

struct tpc_msg {
    uint32_t type;
    int32_t flag;
    uint64_t txn;
    uint64_t participants;    /* bit per node index */
    int32_t coordinator;
    int32_t n_ops;
    struct tpc_op ops[SIM_TXN_MAX];
};

/* A participant's prepared record, in its store under "p/<txn>". */
struct tpc_prepared {
    uint64_t txn;
    uint64_t participants;
    int32_t coordinator;
    int32_t n_ops;
    struct tpc_op ops[SIM_TXN_MAX];
};

/* The coordinator's transaction record ("t/<txn>", synced before prepare). */
struct tpc_txn_rec {
    uint64_t txn;
    uint64_t participants;
    int32_t n_micro;
    int32_t pad;
    int32_t node[SIM_TXN_MAX];
    struct tpc_op ops[SIM_TXN_MAX];
};

/* The coordinator's decision ("d/<txn>", synced before it is sent). */
struct tpc_decision_rec {
    uint64_t txn;
    int32_t commit;
    int32_t n_results;
    int64_t results[SIM_TXN_MAX];
};

/* ---- state --------------------------------------------------------------- */

enum tpc_mutant { TPC_MUT_NONE, TPC_MUT_FORGET_DECISION, TPC_MUT_RELEASE_LOCKS };

/* timer tags: txn id * 4 + kind */
enum tpc_timer { TPC_T_PHASE = 0, TPC_T_ACTIVE = 1, TPC_T_DECISION = 2, TPC_T_DECIDE = 3 };

struct tpc_cfg {
    int coordinator;
    double vote_no;
    uint64_t no_voters;       /* bit per node that always votes no */
    bool cooperative;
    sim_time txn_timeout, prepare_timeout, decision_timeout, query_interval, resend, decision_delay;
    enum tpc_mutant mutant;
};

struct tpc_kv {
    char key[TPC_KEY_MAX];
    bool has;
    int64_t value;
    uint64_t lock;            /* txn holding the key, 0 = free */
};
_Static_assert(offsetof(struct tpc_kv, key) == 0, "kvmap_find_in needs the key first");

/* A participant's transaction between exec and its outcome. */
struct tpc_ptxn {
    uint64_t txn;
    int state;                /* TPC_ST_UNKNOWN = active (executed, not voted), or PREPARED */
    int coordinator;
    uint64_t participants;
    int n_ops;
    struct tpc_op ops[SIM_TXN_MAX];
    sim_time since;           /* prepared at (local clock) */
    bool blocked;
    bool has_timer;
    uint64_t timer;
};

enum tpc_phase { TPC_PH_EXEC, TPC_PH_PREPARE, TPC_PH_VOTED, TPC_PH_DECIDED };

/* The coordinator's transaction in flight. */
struct tpc_ctxn {
    uint64_t txn;
    struct sim_op op;         /* the client operation to answer (micro cleared) */
    bool has_op;
    int n_micro;
    int node[SIM_TXN_MAX];
    struct tpc_op ops[SIM_TXN_MAX];
    int64_t results[SIM_TXN_MAX];
    uint64_t participants;
    uint64_t replied;         /* who answered this phase */
    enum tpc_phase phase;
    bool commit;
    bool has_timer;
    uint64_t timer;
};

/* txn id -> outcome (TPC_ST_COMMITTED / ABORTED), open addressing */
struct tpc_outcome {
    uint64_t txn;             /* 0 = empty */
    uint8_t state;
};

struct tpc_state {
    int self, n;
    const char **names;
    struct tpc_cfg cfg;
    bool is_coord;

    struct tpc_kv *kv;        /* participant: sorted by key */
    size_t n_kv, cap_kv;
    struct tpc_ptxn *pt;      /* participant: active and prepared transactions */
    size_t n_pt, cap_pt;
    struct tpc_ctxn *ct;      /* coordinator: transactions in flight */
    size_t n_ct, cap_ct;

    struct tpc_outcome *out;  /* decided (coordinator) / finished (participant) */
    size_t out_cap, out_used;

    uint64_t committed, aborted, blocked_now;
};

static const struct model_param tpc_params[] = {
    { "coordinator", PARAM_INT, "1", NULL, "the coordinator's node number (1 = n1); every other node is a participant" },
    { "vote_no", PARAM_NUM, "0", NULL, "probability that a participant votes no on a prepare" },
    { "no_voters", PARAM_STR, "", NULL, "participants that always vote no, as \"n3 n4\"" },
    { "cooperative_termination", PARAM_BOOL, "false", NULL,
      "a blocked participant also asks the other participants what was decided" },
    { "txn_timeout", PARAM_TIME, "50ms", NULL,
      "the coordinator aborts a transaction whose exec replies or votes are missing after this" },
    { "prepare_timeout", PARAM_TIME, "100ms", NULL,
      "a participant that executed but got no prepare by then aborts on its own (it has not voted)" },
    { "decision_timeout", PARAM_TIME, "50ms", NULL,
      "a participant that voted yes and has no decision by then is blocked and starts asking" },
    { "query_interval", PARAM_TIME, "50ms", NULL, "how often a blocked participant asks again" },
    { "resend", PARAM_TIME, "30ms", NULL, "the coordinator resends an unacknowledged decision after this" },
    { "decision_delay", PARAM_TIME, "0ns", NULL,
      "time between the last yes vote and the decision (a slow log write: the window for a crash)" },
    { "mutant", PARAM_ENUM, "none", "none|forget_decision|release_locks_after_vote",
      "switch on one deliberate bug (see the mutants below)" },
    { NULL, 0, NULL, NULL, NULL },
};

static const struct model_mutant tpc_mutants[] = {
    { "forget_decision", "the coordinator does not read its logged decisions back on restart and presumes abort" },
    { "release_locks_after_vote", "a participant releases its locks as soon as it votes yes" },
    { NULL, NULL },
};

/* ---- small helpers -------------------------------------------------------- */

static uint64_t tpc_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static struct tpc_outcome *tpc_out_slot(const struct tpc_state *s, uint64_t txn)
{
    size_t mask = s->out_cap - 1;
    size_t i = (size_t)tpc_mix(txn) & mask;
    while (s->out[i].txn != 0 && s->out[i].txn != txn)
        i = (i + 1) & mask;
    return &s->out[i];
}

static int tpc_outcome(const struct tpc_state *s, uint64_t txn)
{
    if (s->out_cap == 0)
        return TPC_ST_UNKNOWN;
    const struct tpc_outcome *o = tpc_out_slot(s, txn);
    return o->txn == txn ? o->state : TPC_ST_UNKNOWN;
}

static void tpc_set_outcome(struct tpc_state *s, uint64_t txn, int state)
{
    if ((s->out_used + 1) * 2 > s->out_cap) {
        struct tpc_outcome *old = s->out;
        size_t old_cap = s->out_cap;
        s->out_cap = old_cap ? old_cap * 2 : 64;
        s->out = sim_xcalloc(s->out_cap, sizeof *s->out);
        s->out_used = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].txn) {
                *tpc_out_slot(s, old[i].txn) = old[i];
                s->out_used++;
            }
        sim_free(old);
    }
    struct tpc_outcome *o = tpc_out_slot(s, txn);
    if (o->txn == 0)
        s->out_used++;
    o->txn = txn;
    o->state = (uint8_t)state;
}

/* "nK/key" -> node index K-1 and the local key; -1 when it does not parse
 * or names no node of n. */
static int tpc_parse_key(const char *key, int n, const char **local)
{
    if (!key || key[0] != 'n')
        return -1;
    char *end;
    long k = strtol(key + 1, &end, 10);
    if (end == key + 1 || *end != '/' || k < 1 || k > n || end[1] == 0 || strlen(end + 1) >= TPC_KEY_MAX)
        return -1;
    *local = end + 1;
    return (int)k - 1;
}

/* Parse "n3 n4" (spaces or commas) into a bit mask; -1 on a bad name. */
static int tpc_parse_voters(const char *text, int n, uint64_t *mask, char *bad, size_t badlen)
{
    *mask = 0;
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " ,");
        char *end;
        long k = p[0] == 'n' ? strtol(p + 1, &end, 10) : 0;
        if (p[0] != 'n' || end != p + len || k < 1 || k > n || k > TPC_MAX_NODES) {
            snprintf(bad, badlen, "%.*s", (int)(len > 40 ? 40 : len), p);
            return -1;
        }
        *mask |= 1ULL << (k - 1);
        p += len;
    }
    return 0;
}

static void tpc_note_nodes(jw *j, const struct tpc_state *s, const char *key, uint64_t mask)
{
    jw_key(j, key);
    jw_arr(j);
    for (int i = 0; i < s->n; i++)
        if (mask >> i & 1)
            jw_str(j, s->names[i]);
    jw_arr_end(j);
}

static void tpc_send(struct tpc_state *s, node_ctx *ctx, int to, uint32_t type, int32_t flag, uint64_t txn)
{
    struct tpc_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.flag = flag;
    m.txn = txn;
    m.coordinator = s->cfg.coordinator;
    node_send(ctx, to, &m, sizeof m);
}

/* ---- participant: the data and the locks --------------------------------- */

static ptrdiff_t tpc_kv_find(const struct tpc_state *s, const char *key)
{
    return kvmap_find_in(s->kv, s->n_kv, sizeof *s->kv, key);
}

static struct tpc_kv *tpc_kv_get(struct tpc_state *s, const char *key)
{
    ptrdiff_t i = tpc_kv_find(s, key);
    if (i >= 0)
        return &s->kv[i];
    size_t pos = (size_t)~i;
    s->kv = kvmap_insert_in(s->kv, &s->n_kv, &s->cap_kv, sizeof *s->kv, pos, key, sizeof s->kv[pos].key);
    return &s->kv[pos];
}

static void tpc_unlock(struct tpc_state *s, const struct tpc_ptxn *p)
{
    for (int i = 0; i < p->n_ops; i++) {
        struct tpc_kv *kv = tpc_kv_get(s, p->ops[i].key);
        if (kv->lock == p->txn)
            kv->lock = 0;
    }
}

static bool tpc_holds_locks(struct tpc_state *s, const struct tpc_ptxn *p)
{
    for (int i = 0; i < p->n_ops; i++)
        if (tpc_kv_get(s, p->ops[i].key)->lock != p->txn)
            return false;
    return true;
}

static struct tpc_ptxn *tpc_pt_find(struct tpc_state *s, uint64_t txn)
{
    for (size_t i = 0; i < s->n_pt; i++)
        if (s->pt[i].txn == txn)
            return &s->pt[i];
    return NULL;
}

static void tpc_pt_remove(struct tpc_state *s, node_ctx *ctx, struct tpc_ptxn *p)
{
    if (p->has_timer && ctx)
        node_timer_cancel(ctx, p->timer);
    size_t i = (size_t)(p - s->pt);
    memmove(&s->pt[i], &s->pt[i + 1], (s->n_pt - i - 1) * sizeof *s->pt);
    s->n_pt--;
}

static void tpc_pt_timer(node_ctx *ctx, struct tpc_ptxn *p, sim_time delay, enum tpc_timer kind)
{
    if (p->has_timer)
        node_timer_cancel(ctx, p->timer);
    p->timer = node_timer_set(ctx, delay, p->txn * 4 + kind);
    p->has_timer = true;
}

static void tpc_rec_key(char *out, size_t n, char kind, uint64_t txn)
{
    snprintf(out, n, "%c/%016llx", kind, (unsigned long long)txn);
}

/* The participant learns the outcome of p (commit or abort), from `by` (a
 * node index). Applies the writes, logs the outcome, releases the locks. p
 * is removed. */
static void tpc_finish(struct tpc_state *s, node_ctx *ctx, struct tpc_ptxn *p, bool commit, int by)
{
    char rk[32];
    if (commit) {
        for (int i = 0; i < p->n_ops; i++) {
            if (p->ops[i].f != OP_WRITE)
                continue;
            struct tpc_kv *kv = tpc_kv_get(s, p->ops[i].key);
            kv->has = true;
            kv->value = p->ops[i].value;
            char sk[TPC_KEY_MAX + 4];
            snprintf(sk, sizeof sk, "kv/%s", p->ops[i].key);
            node_store_put(ctx, sk, &kv->value, sizeof kv->value);
        }
    }
    uint8_t st = commit ? TPC_ST_COMMITTED : TPC_ST_ABORTED;
    tpc_rec_key(rk, sizeof rk, 'o', p->txn);
    node_store_put(ctx, rk, &st, 1);
    tpc_rec_key(rk, sizeof rk, 'p', p->txn);
    node_store_del(ctx, rk);
    node_store_sync(ctx);
    tpc_set_outcome(s, p->txn, st);
    if (commit)
        s->committed++;
    else
        s->aborted++;
    jw *j = node_note_begin(ctx, "decision");
    if (j) {
        jw_kint(j, "txn", (int64_t)p->txn);
        jw_kstr(j, "outcome", commit ? "commit" : "abort");
        jw_kstr(j, "role", "participant");
        jw_kstr(j, "by", by >= 0 ? s->names[by] : "self");
        jw_key(j, "writes");
        jw_arr(j);
        for (int i = 0; commit && i < p->n_ops; i++)
            if (p->ops[i].f == OP_WRITE) {
                char full[TPC_KEY_MAX + 16];
                snprintf(full, sizeof full, "n%d/%s", s->self + 1, p->ops[i].key);
                jw_arr(j);
                jw_str(j, full);
                jw_int(j, p->ops[i].value);
                jw_arr_end(j);
            }
        jw_arr_end(j);
        node_note_end(ctx);
    }
    if (p->blocked) {
        s->blocked_now--;
        j = node_note_begin(ctx, "unblocked");
        if (j) {
            jw_kint(j, "txn", (int64_t)p->txn);
            jw_kint(j, "since", p->since);
            jw_kint(j, "duration", node_clock(ctx) - p->since);
            jw_kstr(j, "outcome", commit ? "commit" : "abort");
            jw_kstr(j, "by", by >= 0 ? s->names[by] : "self");
            node_note_end(ctx);
        }
    }
    tpc_unlock(s, p);
    tpc_pt_remove(s, ctx, p);
}

/* Abort a transaction this participant has not voted yes on (it may). */
static void tpc_abort_unvoted(struct tpc_state *s, node_ctx *ctx, uint64_t txn, const char *why)
{
    struct tpc_ptxn *p = tpc_pt_find(s, txn);
    if (p && p->state == TPC_ST_PREPARED)
        return;
    if (p)
        tpc_finish(s, ctx, p, false, -1);
    else
        tpc_set_outcome(s, txn, TPC_ST_ABORTED);
    jw *j = node_note_begin(ctx, "vote");
    if (j) {
        jw_kint(j, "txn", (int64_t)txn);
        jw_kstr(j, "vote", "no");
        jw_kstr(j, "why", why);
        node_note_end(ctx);
    }
}

static bool tpc_valid_ops(const struct tpc_msg *m)
{
    if (m->n_ops < 0 || m->n_ops > SIM_TXN_MAX)
        return false;
    for (int i = 0; i < m->n_ops; i++)
        if (memchr(m->ops[i].key, 0, TPC_KEY_MAX) == NULL || m->ops[i].key[0] == 0 ||
            (m->ops[i].f != OP_READ && m->ops[i].f != OP_WRITE))
            return false;
    return true;
}

static void tpc_on_exec(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    struct tpc_msg r;
    memset(&r, 0, sizeof r);
    r.type = TPC_EXEC_REPLY;
    r.txn = m->txn;
    struct tpc_ptxn *p = tpc_pt_find(s, m->txn);
    if (!p && tpc_outcome(s, m->txn) == TPC_ST_UNKNOWN && tpc_valid_ops(m)) {
        bool free = true;
        for (int i = 0; i < m->n_ops && free; i++) {
            struct tpc_kv *kv = tpc_kv_get(s, m->ops[i].key);
            free = kv->lock == 0;
        }
        if (!free) {
            tpc_abort_unvoted(s, ctx, m->txn, "a key is locked by another transaction");
        } else {
            SIM_GROW(s->pt, s->cap_pt, s->n_pt + 1);
            p = &s->pt[s->n_pt++];
            memset(p, 0, sizeof *p);
            p->txn = m->txn;
            p->state = TPC_ST_UNKNOWN;
            p->coordinator = from;
            p->participants = m->participants;
            p->n_ops = m->n_ops;
            memcpy(p->ops, m->ops, sizeof p->ops);
            for (int i = 0; i < p->n_ops; i++) {
                struct tpc_kv *kv = tpc_kv_get(s, p->ops[i].key);
                kv->lock = p->txn;
                if (p->ops[i].f == OP_READ)   /* read under the lock */
                    p->ops[i].value = kv->has ? kv->value : SIM_NIL;
            }
            tpc_pt_timer(ctx, p, s->cfg.prepare_timeout, TPC_T_ACTIVE);
        }
    }
    if (p) {
        r.flag = 1;
        r.n_ops = p->n_ops;
        memcpy(r.ops, p->ops, sizeof r.ops);
    }
    node_send(ctx, from, &r, sizeof r);
}

static void tpc_on_prepare(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    struct tpc_ptxn *p = tpc_pt_find(s, m->txn);
    int out = tpc_outcome(s, m->txn);
    if (!p) {
        tpc_send(s, ctx, from, TPC_VOTE, out == TPC_ST_COMMITTED, m->txn);
        if (out == TPC_ST_UNKNOWN)
            tpc_abort_unvoted(s, ctx, m->txn, "prepare for a transaction it did not execute");
        return;
    }
    if (p->state == TPC_ST_PREPARED) {
        tpc_send(s, ctx, from, TPC_VOTE, 1, m->txn);
        return;
    }
    bool no = (s->cfg.no_voters >> s->self & 1) ||
              (s->cfg.vote_no > 0 && node_random_below(ctx, 1000000) < (uint32_t)(s->cfg.vote_no * 1e6));
    if (no) {
        tpc_abort_unvoted(s, ctx, m->txn, "the participant chose to vote no");
        tpc_send(s, ctx, from, TPC_VOTE, 0, m->txn);
        return;
    }
    /* the staged writes must survive a crash before the yes vote leaves */
    struct tpc_prepared rec;
    memset(&rec, 0, sizeof rec);
    rec.txn = p->txn;
    rec.participants = p->participants;
    rec.coordinator = p->coordinator;
    rec.n_ops = p->n_ops;
    memcpy(rec.ops, p->ops, sizeof rec.ops);
    char rk[32];
    tpc_rec_key(rk, sizeof rk, 'p', p->txn);
    node_store_put(ctx, rk, &rec, sizeof rec);
    node_store_sync(ctx);
    p->state = TPC_ST_PREPARED;
    p->since = node_clock(ctx);
    if (s->cfg.mutant == TPC_MUT_RELEASE_LOCKS)
        tpc_unlock(s, p);
    tpc_pt_timer(ctx, p, s->cfg.decision_timeout, TPC_T_DECISION);
    jw *j = node_note_begin(ctx, "vote");
    if (j) {
        jw_kint(j, "txn", (int64_t)p->txn);
        jw_kstr(j, "vote", "yes");
        node_note_end(ctx);
    }
    tpc_send(s, ctx, from, TPC_VOTE, 1, m->txn);
}

static void tpc_on_decision(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    struct tpc_ptxn *p = tpc_pt_find(s, m->txn);
    if (p)
        tpc_finish(s, ctx, p, m->flag == 1, from);
    else if (tpc_outcome(s, m->txn) == TPC_ST_UNKNOWN)
        tpc_set_outcome(s, m->txn, m->flag == 1 ? TPC_ST_COMMITTED : TPC_ST_ABORTED);
    if (from == s->cfg.coordinator)
        tpc_send(s, ctx, from, TPC_ACK, 0, m->txn);
}

/* A peer (cooperative termination) asks what this participant knows. */
static void tpc_on_peer_query(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    struct tpc_ptxn *p = tpc_pt_find(s, m->txn);
    int st;
    if (p && p->state == TPC_ST_PREPARED)
        st = TPC_ST_PREPARED;
    else if ((st = tpc_outcome(s, m->txn)) == TPC_ST_UNKNOWN) {
        /* not voted yes: it may abort, and then the asker may too */
        tpc_abort_unvoted(s, ctx, m->txn, "a blocked peer asked before this participant voted");
        st = TPC_ST_ABORTED;
    }
    tpc_send(s, ctx, from, TPC_STATUS, st, m->txn);
}

static void tpc_on_status(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    struct tpc_ptxn *p = tpc_pt_find(s, m->txn);
    if (!p || p->state != TPC_ST_PREPARED)
        return;
    if (m->flag == TPC_ST_COMMITTED || m->flag == TPC_ST_ABORTED)
        tpc_finish(s, ctx, p, m->flag == TPC_ST_COMMITTED, from);
}

/* A prepared participant with no decision: blocked. Ask again. */
static void tpc_query(struct tpc_state *s, node_ctx *ctx, struct tpc_ptxn *p)
{
    if (!p->blocked) {
        p->blocked = true;
        s->blocked_now++;
        jw *j = node_note_begin(ctx, "blocked");
        if (j) {
            jw_kint(j, "txn", (int64_t)p->txn);
            jw_kint(j, "since", p->since);
            jw_kstr(j, "coordinator", s->names[p->coordinator]);
            jw_kbool(j, "holding", tpc_holds_locks(s, p));
            jw_key(j, "keys");
            jw_arr(j);
            for (int i = 0; i < p->n_ops; i++) {
                char full[TPC_KEY_MAX + 16];
                snprintf(full, sizeof full, "n%d/%s", s->self + 1, p->ops[i].key);
                jw_str(j, full);
            }
            jw_arr_end(j);
            node_note_end(ctx);
        }
    }
    tpc_send(s, ctx, p->coordinator, TPC_QUERY, 0, p->txn);
    if (s->cfg.cooperative)
        for (int i = 0; i < s->n; i++)
            if ((p->participants >> i & 1) && i != s->self)
                tpc_send(s, ctx, i, TPC_QUERY, 0, p->txn);
    tpc_pt_timer(ctx, p, s->cfg.query_interval, TPC_T_DECISION);
}

/* ---- coordinator ---------------------------------------------------------- */

static struct tpc_ctxn *tpc_ct_find(struct tpc_state *s, uint64_t txn)
{
    for (size_t i = 0; i < s->n_ct; i++)
        if (s->ct[i].txn == txn)
            return &s->ct[i];
    return NULL;
}

static void tpc_ct_remove(struct tpc_state *s, node_ctx *ctx, struct tpc_ctxn *c)
{
    if (c->has_timer)
        node_timer_cancel(ctx, c->timer);
    size_t i = (size_t)(c - s->ct);
    memmove(&s->ct[i], &s->ct[i + 1], (s->n_ct - i - 1) * sizeof *s->ct);
    s->n_ct--;
}

static void tpc_ct_timer(node_ctx *ctx, struct tpc_ctxn *c, sim_time delay, enum tpc_timer kind)
{
    if (c->has_timer)
        node_timer_cancel(ctx, c->timer);
    c->timer = node_timer_set(ctx, delay, c->txn * 4 + kind);
    c->has_timer = true;
}

/* Send c's ops for participant `to` with message type. */
static void tpc_send_ops(struct tpc_state *s, node_ctx *ctx, const struct tpc_ctxn *c, int to, uint32_t type)
{
    struct tpc_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.txn = c->txn;
    m.participants = c->participants;
    m.coordinator = s->self;
    for (int i = 0; i < c->n_micro; i++)
        if (c->node[i] == to)
            m.ops[m.n_ops++] = c->ops[i];
    node_send(ctx, to, &m, sizeof m);
}

static void tpc_send_decision(struct tpc_state *s, node_ctx *ctx, struct tpc_ctxn *c)
{
    for (int i = 0; i < s->n; i++)
        if ((c->participants >> i & 1) && !(c->replied >> i & 1))
            tpc_send(s, ctx, i, TPC_DECISION, c->commit, c->txn);
    tpc_ct_timer(ctx, c, s->cfg.resend, TPC_T_PHASE);
}

static void tpc_reply_client(node_ctx *ctx, struct tpc_ctxn *c, const char *why)
{
    if (!c->has_op)
        return;
    if (c->commit)
        node_reply_txn(ctx, &c->op, c->results);
    else
        node_reply_fail(ctx, &c->op, why);
    c->has_op = false;
}

/* Log and sync the decision, then tell the client and the participants. */
static void tpc_decide(struct tpc_state *s, node_ctx *ctx, struct tpc_ctxn *c, bool commit, const char *why,
                       int culprit)
{
    struct tpc_decision_rec d;
    memset(&d, 0, sizeof d);
    d.txn = c->txn;
    d.commit = commit;
    d.n_results = c->n_micro;
    memcpy(d.results, c->results, sizeof d.results);
    char rk[32];
    tpc_rec_key(rk, sizeof rk, 'd', c->txn);
    node_store_put(ctx, rk, &d, sizeof d);
    node_store_sync(ctx);
    tpc_set_outcome(s, c->txn, commit ? TPC_ST_COMMITTED : TPC_ST_ABORTED);
    c->commit = commit;
    c->phase = TPC_PH_DECIDED;
    c->replied = 0;
    jw *j = node_note_begin(ctx, "decision");
    if (j) {
        jw_kint(j, "txn", (int64_t)c->txn);
        jw_kstr(j, "outcome", commit ? "commit" : "abort");
        jw_kstr(j, "role", "coordinator");
        tpc_note_nodes(j, s, "participants", c->participants);
        if (!commit)
            jw_kstr(j, "why", why);
        if (culprit >= 0)
            jw_kstr(j, "because_of", s->names[culprit]);
        node_note_end(ctx);
    }
    /* the client's error is static text: one of a fixed set */
    const char *client_why = strstr(why, "voted no") ? "aborted: a participant voted no"
                           : strstr(why, "refused") ? "aborted: a participant refused (a key was locked)"
                           : strstr(why, "restarted") ? "aborted: the coordinator restarted before deciding"
                           : "aborted: timeout";
    tpc_reply_client(ctx, c, client_why);
    tpc_send_decision(s, ctx, c);
}

static void tpc_start_prepare(struct tpc_state *s, node_ctx *ctx, struct tpc_ctxn *c)
{
    /* the record lets a restarted coordinator abort what it began */
    struct tpc_txn_rec rec;
    memset(&rec, 0, sizeof rec);
    rec.txn = c->txn;
    rec.participants = c->participants;
    rec.n_micro = c->n_micro;
    for (int i = 0; i < c->n_micro; i++) {
        rec.node[i] = c->node[i];
        rec.ops[i] = c->ops[i];
    }
    char rk[32];
    tpc_rec_key(rk, sizeof rk, 't', c->txn);
    node_store_put(ctx, rk, &rec, sizeof rec);
    node_store_sync(ctx);
    c->phase = TPC_PH_PREPARE;
    c->replied = 0;
    jw *j = node_note_begin(ctx, "prepare");
    if (j) {
        jw_kint(j, "txn", (int64_t)c->txn);
        tpc_note_nodes(j, s, "participants", c->participants);
        node_note_end(ctx);
    }
    for (int i = 0; i < s->n; i++)
        if (c->participants >> i & 1)
            tpc_send_ops(s, ctx, c, i, TPC_PREPARE);
    tpc_ct_timer(ctx, c, s->cfg.txn_timeout, TPC_T_PHASE);
}

static void tpc_on_exec_reply(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    struct tpc_ctxn *c = tpc_ct_find(s, m->txn);
    if (!c || c->phase != TPC_PH_EXEC || !(c->participants >> from & 1) || (c->replied >> from & 1))
        return;
    if (m->flag != 1) {
        tpc_decide(s, ctx, c, false, "refused", from);
        return;
    }
    if (!tpc_valid_ops(m))
        return;
    for (int i = 0; i < m->n_ops; i++) {
        int idx = m->ops[i].index;
        if (idx >= 0 && idx < c->n_micro && c->node[idx] == from && c->ops[idx].f == OP_READ)
            c->results[idx] = m->ops[i].value;
    }
    c->replied |= 1ULL << from;
    if (c->replied == c->participants)
        tpc_start_prepare(s, ctx, c);
}

static void tpc_on_vote(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    struct tpc_ctxn *c = tpc_ct_find(s, m->txn);
    if (!c || c->phase != TPC_PH_PREPARE || !(c->participants >> from & 1) || (c->replied >> from & 1))
        return;
    if (m->flag != 1) {
        tpc_decide(s, ctx, c, false, "voted no", from);
        return;
    }
    c->replied |= 1ULL << from;
    if (c->replied != c->participants)
        return;
    if (s->cfg.decision_delay > 0) {
        c->phase = TPC_PH_VOTED;
        tpc_ct_timer(ctx, c, s->cfg.decision_delay, TPC_T_DECIDE);
    } else
        tpc_decide(s, ctx, c, true, "", -1);
}

static void tpc_on_ack(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    struct tpc_ctxn *c = tpc_ct_find(s, m->txn);
    if (!c || c->phase != TPC_PH_DECIDED || !(c->participants >> from & 1))
        return;
    c->replied |= 1ULL << from;
    if (c->replied != c->participants)
        return;
    char rk[32];
    tpc_rec_key(rk, sizeof rk, 't', c->txn);
    node_store_del(ctx, rk);
    tpc_ct_remove(s, ctx, c);
}

/* A participant asks about a transaction: the decision if there is one;
 * nothing while it is being decided; abort if it is unknown (presumed
 * abort: a transaction this coordinator never logged was never decided). */
static void tpc_on_coord_query(struct tpc_state *s, node_ctx *ctx, int from, const struct tpc_msg *m)
{
    int out = tpc_outcome(s, m->txn);
    if (out == TPC_ST_UNKNOWN) {
        struct tpc_ctxn *c = tpc_ct_find(s, m->txn);
        if (c)
            return;   /* still collecting: the decision will come */
        struct tpc_decision_rec d;
        memset(&d, 0, sizeof d);
        d.txn = m->txn;
        char rk[32];
        tpc_rec_key(rk, sizeof rk, 'd', m->txn);
        node_store_put(ctx, rk, &d, sizeof d);
        node_store_sync(ctx);
        tpc_set_outcome(s, m->txn, TPC_ST_ABORTED);
        out = TPC_ST_ABORTED;
        jw *j = node_note_begin(ctx, "decision");
        if (j) {
            jw_kint(j, "txn", (int64_t)m->txn);
            jw_kstr(j, "outcome", "abort");
            jw_kstr(j, "role", "coordinator");
            jw_kstr(j, "why", "presumed abort: no record of this transaction");
            node_note_end(ctx);
        }
    }
    tpc_send(s, ctx, from, TPC_DECISION, out == TPC_ST_COMMITTED, m->txn);
}

static void tpc_on_client_txn(struct tpc_state *s, node_ctx *ctx, const struct sim_op *op)
{
    struct tpc_ctxn *c = tpc_ct_find(s, op->id);
    if (c) {   /* a retry: answer now if decided, else when decided */
        if (c->phase == TPC_PH_DECIDED && c->commit)
            node_reply_txn(ctx, op, c->results);
        else if (c->phase == TPC_PH_DECIDED)
            node_reply_fail(ctx, op, "aborted");
        else {
            c->op = *op;
            c->op.micro = NULL;
            c->op.ctx = NULL;
            c->has_op = true;
        }
        return;
    }
    int out = tpc_outcome(s, op->id);
    if (out == TPC_ST_ABORTED) {
        node_reply_fail(ctx, op, "aborted");
        return;
    }
    if (out == TPC_ST_COMMITTED) {
        char rk[32];
        size_t len;
        tpc_rec_key(rk, sizeof rk, 'd', op->id);
        const struct tpc_decision_rec *d = node_store_get(ctx, rk, &len);
        if (d && len == sizeof *d)
            node_reply_txn(ctx, op, d->results);
        return;
    }
    if (op->n_micro <= 0) {
        node_reply_fail(ctx, op, "empty transaction");
        return;
    }
    SIM_GROW(s->ct, s->cap_ct, s->n_ct + 1);
    c = &s->ct[s->n_ct++];
    memset(c, 0, sizeof *c);
    c->txn = op->id;
    c->op = *op;
    c->op.micro = NULL;
    c->op.ctx = NULL;
    c->has_op = true;
    c->n_micro = op->n_micro > SIM_TXN_MAX ? SIM_TXN_MAX : op->n_micro;
    for (int i = 0; i < c->n_micro; i++) {
        const char *local = NULL;
        int node = tpc_parse_key(op->micro[i].key, s->n, &local);
        if (node < 0 || node == s->self || node >= TPC_MAX_NODES) {
            s->n_ct--;
            node_reply_fail(ctx, op, "unknown participant");
            return;
        }
        c->node[i] = node;
        c->ops[i].f = op->micro[i].f == OP_WRITE ? OP_WRITE : OP_READ;
        c->ops[i].index = i;
        c->ops[i].value = op->micro[i].value;
        snprintf(c->ops[i].key, TPC_KEY_MAX, "%s", local);
        c->results[i] = c->ops[i].f == OP_WRITE ? c->ops[i].value : SIM_NIL;
        c->participants |= 1ULL << node;
    }
    c->phase = TPC_PH_EXEC;
    for (int i = 0; i < s->n; i++)
        if (c->participants >> i & 1)
            tpc_send_ops(s, ctx, c, i, TPC_EXEC);
    tpc_ct_timer(ctx, c, s->cfg.txn_timeout, TPC_T_PHASE);
}

/* ---- recovery ------------------------------------------------------------- */

static int tpc_scan_decision(void *arg, const char *key, const void *val, size_t len)
{
    struct tpc_state *s = arg;
    struct tpc_decision_rec d;
    (void)key;
    if (len != sizeof d)
        return 0;
    memcpy(&d, val, sizeof d);
    tpc_set_outcome(s, d.txn, d.commit ? TPC_ST_COMMITTED : TPC_ST_ABORTED);
    return 0;
}

static int tpc_scan_txn(void *arg, const char *key, const void *val, size_t len)
{
    struct tpc_state *s = arg;
    struct tpc_txn_rec r;
    (void)key;
    if (len != sizeof r)
        return 0;
    memcpy(&r, val, sizeof r);
    if (r.n_micro < 0 || r.n_micro > SIM_TXN_MAX)
        return 0;
    SIM_GROW(s->ct, s->cap_ct, s->n_ct + 1);
    struct tpc_ctxn *c = &s->ct[s->n_ct++];
    memset(c, 0, sizeof *c);
    c->txn = r.txn;
    c->participants = r.participants;
    c->n_micro = r.n_micro;
    for (int i = 0; i < r.n_micro; i++) {
        c->node[i] = r.node[i];
        c->ops[i] = r.ops[i];
    }
    c->phase = TPC_PH_PREPARE;   /* undecided until recovery says */
    return 0;
}

static int tpc_scan_kv(void *arg, const char *key, const void *val, size_t len)
{
    struct tpc_state *s = arg;
    if (len != sizeof(int64_t) || strlen(key + 3) >= TPC_KEY_MAX)
        return 0;
    struct tpc_kv *kv = tpc_kv_get(s, key + 3);
    kv->has = true;
    memcpy(&kv->value, val, sizeof kv->value);
    return 0;
}

static int tpc_scan_outcome(void *arg, const char *key, const void *val, size_t len)
{
    struct tpc_state *s = arg;
    if (len != 1)
        return 0;
    uint64_t txn = strtoull(key + 2, NULL, 16);
    tpc_set_outcome(s, txn, *(const uint8_t *)val);
    return 0;
}

static int tpc_scan_prepared(void *arg, const char *key, const void *val, size_t len)
{
    struct tpc_state *s = arg;
    struct tpc_prepared r;
    (void)key;
    if (len != sizeof r)
        return 0;
    memcpy(&r, val, sizeof r);
    if (r.n_ops < 0 || r.n_ops > SIM_TXN_MAX || r.coordinator < 0 || r.coordinator >= s->n)
        return 0;
    SIM_GROW(s->pt, s->cap_pt, s->n_pt + 1);
    struct tpc_ptxn *p = &s->pt[s->n_pt++];
    memset(p, 0, sizeof *p);
    p->txn = r.txn;
    p->state = TPC_ST_PREPARED;
    p->coordinator = r.coordinator;
    p->participants = r.participants;
    p->n_ops = r.n_ops;
    memcpy(p->ops, r.ops, sizeof p->ops);
    return 0;
}

/* Restarted coordinator: finish what the log holds. */
static void tpc_coord_recover(struct tpc_state *s, node_ctx *ctx)
{
    if (s->cfg.mutant != TPC_MUT_FORGET_DECISION)
        store_scan(node_store(ctx), "d/", tpc_scan_decision, s);
    store_scan(node_store(ctx), "t/", tpc_scan_txn, s);
    if (s->n_ct == 0)
        return;
    int resent = 0, aborted = 0;
    /* iterate by txn id order (the store scan order), decide what is open */
    for (size_t i = 0; i < s->n_ct; i++) {
        struct tpc_ctxn *c = &s->ct[i];
        int out = tpc_outcome(s, c->txn);
        if (out == TPC_ST_UNKNOWN) {
            aborted++;
            tpc_decide(s, ctx, c, false, "coordinator restarted before deciding", -1);
        } else {
            resent++;
            c->commit = out == TPC_ST_COMMITTED;
            c->phase = TPC_PH_DECIDED;
            c->replied = 0;
            tpc_send_decision(s, ctx, c);
        }
    }
    jw *j = node_note_begin(ctx, "recover");
    if (j) {
        jw_kint(j, "resent", resent);
        jw_kint(j, "aborted", aborted);
        node_note_end(ctx);
    }
}

/* Restarted participant: data, outcomes, and prepared transactions (which
 * take their locks back and are blocked until somebody tells them). */
static void tpc_part_recover(struct tpc_state *s, node_ctx *ctx)
{
    store_scan(node_store(ctx), "kv/", tpc_scan_kv, s);
    store_scan(node_store(ctx), "o/", tpc_scan_outcome, s);
    store_scan(node_store(ctx), "p/", tpc_scan_prepared, s);
    for (size_t i = 0; i < s->n_pt; i++) {
        struct tpc_ptxn *p = &s->pt[i];
        p->since = node_clock(ctx);
        if (s->cfg.mutant != TPC_MUT_RELEASE_LOCKS)
            for (int k = 0; k < p->n_ops; k++)
                tpc_kv_get(s, p->ops[k].key)->lock = p->txn;
        tpc_pt_timer(ctx, p, s->cfg.decision_timeout, TPC_T_DECISION);
    }
}

/* ---- callbacks ------------------------------------------------------------ */

static void tpc_read_cfg(struct tpc_cfg *c, const params *p, int n)
{
    c->coordinator = (int)params_int(p, "coordinator") - 1;
    c->vote_no = params_num(p, "vote_no");
    char bad[48];
    if (tpc_parse_voters(params_str(p, "no_voters"), n, &c->no_voters, bad, sizeof bad) < 0)
        c->no_voters = 0;
    c->cooperative = params_bool(p, "cooperative_termination");
    c->txn_timeout = params_time(p, "txn_timeout");
    c->prepare_timeout = params_time(p, "prepare_timeout");
    c->decision_timeout = params_time(p, "decision_timeout");
    c->query_interval = params_time(p, "query_interval");
    c->resend = params_time(p, "resend");
    c->decision_delay = params_time(p, "decision_delay");
    c->mutant = params_is(p, "mutant", "forget_decision") ? TPC_MUT_FORGET_DECISION
              : params_is(p, "mutant", "release_locks_after_vote") ? TPC_MUT_RELEASE_LOCKS : TPC_MUT_NONE;
}

static void *tpc_init(node_ctx *ctx)
{
    struct tpc_state *s = sim_xcalloc(1, sizeof *s);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    tpc_read_cfg(&s->cfg, node_params(ctx), s->n);
    s->names = sim_xcalloc((size_t)s->n, sizeof *s->names);
    for (int i = 0; i < s->n; i++)
        s->names[i] = node_name(ctx, i);
    s->is_coord = s->self == s->cfg.coordinator;
    node_set_role(ctx, s->is_coord ? "coordinator" : "participant", 0);
    if (s->is_coord)
        tpc_coord_recover(s, ctx);
    else
        tpc_part_recover(s, ctx);
    return s;
}

static void tpc_destroy(void *state)
{
    struct tpc_state *s = state;
    if (!s)
        return;
    sim_free(s->names);
    sim_free(s->kv);
    sim_free(s->pt);
    sim_free(s->ct);
    sim_free(s->out);
    sim_free(s);
}

static void tpc_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct tpc_state *s = state;
    struct tpc_msg m;
    if (len != sizeof m || from < 0 || from >= s->n || from == s->self || from >= TPC_MAX_NODES)
        return;
    memcpy(&m, msg, sizeof m);
    if (m.txn == 0 || m.n_ops < 0 || m.n_ops > SIM_TXN_MAX)
        return;
    if (s->is_coord) {
        switch (m.type) {
        case TPC_EXEC_REPLY: tpc_on_exec_reply(s, ctx, from, &m); break;
        case TPC_VOTE: tpc_on_vote(s, ctx, from, &m); break;
        case TPC_ACK: tpc_on_ack(s, ctx, from, &m); break;
        case TPC_QUERY: tpc_on_coord_query(s, ctx, from, &m); break;
        default: break;
        }
        return;
    }
    switch (m.type) {
    case TPC_EXEC: if (from == s->cfg.coordinator) tpc_on_exec(s, ctx, from, &m); break;
    case TPC_PREPARE: if (from == s->cfg.coordinator) tpc_on_prepare(s, ctx, from, &m); break;
    case TPC_DECISION: tpc_on_decision(s, ctx, from, &m); break;
    case TPC_QUERY: tpc_on_peer_query(s, ctx, from, &m); break;
    case TPC_STATUS: tpc_on_status(s, ctx, from, &m); break;
    default: break;
    }
}

static void tpc_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct tpc_state *s = state;
    uint64_t txn = tag / 4;
    enum tpc_timer kind = (enum tpc_timer)(tag % 4);
    if (s->is_coord) {
        struct tpc_ctxn *c = tpc_ct_find(s, txn);
        if (!c)
            return;
        c->has_timer = false;
        if (kind == TPC_T_DECIDE && c->phase == TPC_PH_VOTED)
            tpc_decide(s, ctx, c, true, "", -1);
        else if (kind == TPC_T_PHASE && c->phase == TPC_PH_DECIDED)
            tpc_send_decision(s, ctx, c);
        else if (kind == TPC_T_PHASE && (c->phase == TPC_PH_EXEC || c->phase == TPC_PH_PREPARE)) {
            int culprit = -1;
            for (int i = 0; i < s->n && culprit < 0; i++)
                if ((c->participants >> i & 1) && !(c->replied >> i & 1))
                    culprit = i;
            tpc_decide(s, ctx, c, false, c->phase == TPC_PH_EXEC ? "timeout waiting to execute"
                                                                   : "timeout waiting for votes", culprit);
        }
        return;
    }
    struct tpc_ptxn *p = tpc_pt_find(s, txn);
    if (!p)
        return;
    p->has_timer = false;
    if (kind == TPC_T_ACTIVE && p->state != TPC_ST_PREPARED)
        tpc_abort_unvoted(s, ctx, txn, "no prepare came before prepare_timeout");
    else if (kind == TPC_T_DECISION && p->state == TPC_ST_PREPARED)
        tpc_query(s, ctx, p);
}

static void tpc_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct tpc_state *s = state;
    if (!s->is_coord) {
        node_reply_redirect(ctx, op, s->cfg.coordinator, "not the coordinator");
        return;
    }
    if (op->type != OP_TXN) {
        node_reply_fail(ctx, op, "two-phase commit serves transactions only");
        return;
    }
    tpc_on_client_txn(s, ctx, op);
}

static const char *tpc_msg_name(uint32_t type)
{
    static const char *const names[] = { "?", "exec", "exec_reply", "prepare", "vote", "decision",
                                         "ack", "query", "status" };
    return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

static void tpc_describe_msg(const void *msg, size_t len, jw *out)
{
    struct tpc_msg m;
    if (len != sizeof m) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&m, msg, sizeof m);
    jw_kstr(out, "type", tpc_msg_name(m.type));
    jw_kint(out, "txn", (int64_t)m.txn);
    switch (m.type) {
    case TPC_EXEC_REPLY: jw_kbool(out, "ok", m.flag == 1); break;
    case TPC_VOTE: jw_kstr(out, "vote", m.flag == 1 ? "yes" : "no"); break;
    case TPC_DECISION: jw_kstr(out, "decision", m.flag == 1 ? "commit" : "abort"); break;
    case TPC_STATUS: {
        static const char *const st[] = { "unknown", "prepared", "committed", "aborted" };
        jw_kstr(out, "status", m.flag >= 0 && m.flag < 4 ? st[m.flag] : "?");
        break;
    }
    default: break;
    }
    if (m.type == TPC_EXEC || m.type == TPC_PREPARE || (m.type == TPC_EXEC_REPLY && m.flag == 1)) {
        jw_key(out, "ops");
        jw_arr(out);
        for (int i = 0; i < m.n_ops && i < SIM_TXN_MAX; i++) {
            jw_arr(out);
            jw_str(out, m.ops[i].f == OP_WRITE ? "w" : "r");
            jw_strn(out, m.ops[i].key, strnlen(m.ops[i].key, TPC_KEY_MAX));
            if (m.ops[i].f == OP_WRITE || m.type == TPC_EXEC_REPLY) {
                if (m.ops[i].value == SIM_NIL)
                    jw_null(out);
                else
                    jw_int(out, m.ops[i].value);
            }
            jw_arr_end(out);
        }
        jw_arr_end(out);
    }
}

static void tpc_describe(const void *state, jw *out)
{
    const struct tpc_state *s = state;
    jw_kstr(out, "role", s->is_coord ? "coordinator" : "participant");
    jw_kint(out, "committed", (int64_t)s->committed);
    jw_kint(out, "aborted", (int64_t)s->aborted);
    if (s->is_coord) {
        jw_kint(out, "in_flight", (int64_t)s->n_ct);
        return;
    }
    jw_kint(out, "prepared", (int64_t)s->n_pt);
    jw_kint(out, "blocked", (int64_t)s->blocked_now);
    jw_key(out, "data");   /* this participant's shard (not a replica: no "map") */
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++) {
        if (!s->kv[i].has)
            continue;
        char full[TPC_KEY_MAX + 16];
        snprintf(full, sizeof full, "n%d/%s", s->self + 1, s->kv[i].key);
        jw_kint(out, full, s->kv[i].value);
    }
    jw_obj_end(out);
    jw_key(out, "locked");
    jw_arr(out);
    for (size_t i = 0; i < s->n_kv; i++)
        if (s->kv[i].lock)
            jw_str(out, s->kv[i].key);
    jw_arr_end(out);
}

/* The protocol's own invariant: at one participant, two transactions that
 * both voted yes never share a key (each holds its locks until decided). */
static int tpc_check(const struct model_view *view, char *why, size_t whylen)
{
    for (int n = 0; n < view->n_nodes; n++) {
        const struct tpc_state *s = view->states[n];
        if (!s || s->is_coord || s->n_pt < 2)
            continue;
        for (size_t a = 0; a < s->n_pt; a++) {
            const struct tpc_ptxn *x = &s->pt[a];
            if (x->state != TPC_ST_PREPARED)
                continue;
            for (size_t b = a + 1; b < s->n_pt; b++) {
                const struct tpc_ptxn *y = &s->pt[b];
                if (y->state != TPC_ST_PREPARED)
                    continue;
                for (int i = 0; i < x->n_ops; i++)
                    for (int k = 0; k < y->n_ops; k++)
                        if (strcmp(x->ops[i].key, y->ops[k].key) == 0) {
                            snprintf(why, whylen,
                                     "%s has transactions %llu and %llu both prepared on key %s: "
                                     "a participant that voted yes must hold its locks until the decision",
                                     s->names[n], (unsigned long long)x->txn, (unsigned long long)y->txn,
                                     x->ops[i].key);
                            return 1;
                        }
            }
        }
    }
    return 0;
}

/* 2PC gives up availability for atomicity: a participant cut off from the
 * coordinator after voting cannot decide (PC), and every commit waits for
 * three round trips to every participant (EC). */
static const char *tpc_cap_class(const params *p)
{
    (void)p;
    return "PC/EC";
}

static int tpc_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    int64_t c = params_int(p, "coordinator");
    if (n_nodes < 2) {
        snprintf(err, errlen, "twopc needs a coordinator and at least one participant (2 nodes), got %d", n_nodes);
        return -1;
    }
    if (n_nodes > TPC_MAX_NODES) {
        snprintf(err, errlen, "twopc supports at most %d nodes, got %d", TPC_MAX_NODES, n_nodes);
        return -1;
    }
    if (c < 1 || c > n_nodes) {
        snprintf(err, errlen, "twopc coordinator must be a node number from 1 to %d, got %lld", n_nodes,
                 (long long)c);
        return -1;
    }
    double v = params_num(p, "vote_no");
    if (!(v >= 0 && v <= 1)) {
        snprintf(err, errlen, "twopc vote_no is a probability from 0 to 1, got %g", v);
        return -1;
    }
    uint64_t mask;
    char bad[48];
    if (tpc_parse_voters(params_str(p, "no_voters"), n_nodes, &mask, bad, sizeof bad) < 0) {
        snprintf(err, errlen, "twopc no_voters names unknown participant \"%s\" (participants are n1..n%d)",
                 bad, n_nodes);
        return -1;
    }
    if (mask >> (c - 1) & 1) {
        snprintf(err, errlen, "twopc no_voters names the coordinator n%lld, which does not vote", (long long)c);
        return -1;
    }
    const char *t[] = { "txn_timeout", "prepare_timeout", "decision_timeout", "query_interval", "resend" };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (params_time(p, t[i]) <= 0) {
            snprintf(err, errlen, "twopc %s must be above 0", t[i]);
            return -1;
        }
    if (params_time(p, "decision_delay") < 0) {
        snprintf(err, errlen, "twopc decision_delay must not be negative");
        return -1;
    }
    return 0;
}

/* Keys are "nK/key": key on participant nK (the K-th node). */
static int tpc_check_key(const params *p, int n_nodes, const char *key, char *err, size_t errlen)
{
    const char *local = NULL;
    int node = tpc_parse_key(key, n_nodes, &local);
    int64_t c = params_int(p, "coordinator");
    if (node < 0) {
        snprintf(err, errlen,
                 "twopc key \"%s\" names no participant: keys are \"nK/name\" with K from 1 to %d (not the "
                 "coordinator n%lld) and a name under %d bytes", key, n_nodes, (long long)c, TPC_KEY_MAX);
        return -1;
    }
    if (node == c - 1) {
        snprintf(err, errlen, "twopc key \"%s\" names the coordinator n%lld, which holds no data", key,
                 (long long)c);
        return -1;
    }
    return 0;
}

const struct model twopc_model = {
    .name = "twopc",
    .summary = "two-phase commit: a coordinator, key-value participants with locks, blocking and recovery",
    .params = tpc_params,
    .init = tpc_init,
    .destroy = tpc_destroy,
    .on_message = tpc_on_message,
    .on_timer = tpc_on_timer,
    .on_request = tpc_on_request,
    .describe_msg = tpc_describe_msg,
    .describe = tpc_describe,
    .check = tpc_check,
    .cap_class = tpc_cap_class,
    .validate = tpc_validate,
    .check_key = tpc_check_key,
    .mutants = tpc_mutants,
};
