/* eventlog: a partitioned event log (Kafka-like) with consumer groups.
 *
 * Roles (parameter brokers; every other node is a consumer):
 *   broker    the first `brokers` nodes. One topic of `partitions`
 *             partitions; partition p lives on broker p mod brokers (its
 *             leader, one copy). A client write(key, value) is "produce
 *             value with key": the leader appends it to the partition's log
 *             (on disk, synced before the answer) and answers ok with the
 *             offset. The partition is hash(key) mod partitions, so one
 *             key's messages stay in one partition, in order; with
 *             partitioner = "round_robin" it is the operation's id mod
 *             partitions, which spreads one key over every partition. Any
 *             node that is not the partition's leader redirects the client
 *             there. A retried produce (same operation id) is answered with
 *             its first offset, not appended twice.
 *             Broker g mod brokers is also the coordinator of consumer group
 *             g: it tracks the group's members by their heartbeats, and
 *             after a member joins or misses `session_timeout` it waits
 *             `join_delay` and hands the partitions out again (a new
 *             generation; sticky: a live member keeps its partitions up to
 *             its fair share, the rest go to the least loaded). It keeps each partition's committed offset on disk and
 *             accepts a commit only from the partition's owner in the
 *             current generation (a zombie's commit is refused).
 *   consumer  consumer j (0, 1, ... after the brokers) belongs to group
 *             j mod groups (g1, g2, ...). It heartbeats its coordinator, and
 *             every answer carries the generation, the partitions it owns
 *             and the committed offsets: a newly owned partition is read
 *             from the committed offset. It fetches up to `batch` records at
 *             a time per partition and processes them one by one, `work`
 *             each (a "consumed" note per record). commit = "after":
 *             process, then commit the processed position every
 *             `commit_every` (at-least-once: a crash between processing and
 *             commit makes the next owner process those records again).
 *             commit = "before": commit the end of a fetched batch, then
 *             process it (at-most-once: a crash in the middle of the batch
 *             loses the rest of it).
 *
 * Replication (replicas > 1): partition p is also kept by the next
 *             brokers (p+1, ... mod brokers), whose followers fetch the
 *             leader's new records every `replica_fetch`. Broker n1 is the
 *             controller: brokers heartbeat it with their log ends, and each
 *             leader asks it for its in-sync set (followers that fetched
 *             within the session timeout and have caught up), which the
 *             controller accepts only from the current leader and epoch. The
 *             high watermark is the end every in-sync replica has; consumers
 *             read below it. acks = "1" answers a produce once the leader has
 *             it, acks = "all" once the high watermark passes it. When a
 *             leader is silent for the session timeout, the controller makes
 *             the live in-sync replica with the most of the log leader, in
 *             the next leader epoch. Records carry their epoch, so a
 *             returning old leader learns where its log stops matching the
 *             new leader's and cuts it back: what it alone had acknowledged
 *             with acks = 1 is gone.
 *
 * Mutants: commit_fetched (commit = "after" commits the fetched position,
 * not the processed one: a crash loses what was fetched but not processed)
 * and resume_latest (a newly owned partition is read from the log's end,
 * not the committed offset: whatever the previous owner left is skipped).
 *
 * Notes: "appended" (broker: partition, offset, key, value, op),
 * "assigned" (coordinator: group, generation, members, assignment),
 * "committed" and "commit_refused" (coordinator: group, partition, offset,
 * consumer), "consumed" (consumer: group, partition, offset, key, value,
 * generation), and with replicas "leader" (controller: partition, leader,
 * epoch, previous, log_end) and "truncated" (follower: partition, from,
 * to). The delivery and exactly_once checkers read them.
 *
 * Messages are one fixed header plus 0..EL_BATCH_MAX records, validated by
 * length and content. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "model.h"
#include "store.h"

#define EL_PART_MAX 16      /* partitions in the topic, at most */
#define EL_GROUP_MAX 8      /* consumer groups, at most */
#define EL_BATCH_MAX 8      /* records per fetch, at most */
#define EL_KEY_MAX 24       /* key bytes including the NUL */
#define EL_MEMBER_MAX 64    /* members per group, at most */
#define EL_DEDUP_WINDOW 64  /* records searched for a retried produce */
#define EL_REPL_MAX 8       /* replicas per partition, at most */

/* ---- wire and disk formats --------------------------------------------------- */

enum el_msg_type {
    EL_FETCH = 1,        /* consumer -> leader: records of partition from offset (-1: the end) */
    EL_FETCH_REPLY,      /* leader -> consumer: offset = first record's offset, n records */
    EL_HEARTBEAT,        /* consumer -> coordinator: I am alive, in group */
    EL_HEARTBEAT_REPLY,  /* coordinator -> consumer: generation, mask, committed[] */
    EL_COMMIT,           /* consumer -> coordinator: partition's committed offset, generation */
    EL_COMMIT_REPLY,     /* coordinator -> consumer: ok or refused */
    EL_BROKER_HB,        /* broker -> controller: alive; its log ends and last epochs */
    EL_BROKER_HB_REPLY,  /* controller -> broker: the leaders and their epochs */
    EL_REPL_FETCH,       /* follower -> leader: records from offset; generation = my last record's epoch */
    EL_REPL_REPLY,       /* leader -> follower: records, or truncate (ok = 0) to offset */
};

struct el_rec {
    int64_t offset;
    int64_t epoch;       /* the leader epoch it was appended in */
    int64_t value;
    uint64_t op;         /* the client operation that produced it */
    char key[EL_KEY_MAX];
};

struct el_msg {
    uint32_t type;
    int32_t group;
    int32_t partition;
    int32_t ok;
    int32_t n;           /* records that follow */
    int32_t want;        /* FETCH: how many records at most */
    uint32_t mask;       /* HEARTBEAT_REPLY: the partitions the member owns */
    int64_t generation;
    int64_t offset;
    int64_t end;         /* FETCH_REPLY: the log's end */
    int64_t committed[EL_PART_MAX];  /* HEARTBEAT_REPLY: committed offsets; BROKER_HB: log ends */
    int64_t epochs[EL_PART_MAX];     /* leader epochs (HB replies), last record epochs (BROKER_HB) */
    int32_t leaders[EL_PART_MAX];    /* HB replies: each partition's leader; BROKER_HB: the epoch
                                      * the sender leads it in, or -1 */
    uint32_t isr[EL_PART_MAX];       /* replica slots in sync: accepted (replies) or proposed */
    struct el_rec recs[EL_BATCH_MAX];
};

#define EL_HEADER offsetof(struct el_msg, recs)

/* ---- state ---------------------------------------------------------------------- */

enum el_timer { T_HEARTBEAT = 1, T_POLL, T_WORK, T_COMMIT, T_SESSION, T_REBALANCE, T_REPL };
enum el_mutant { EL_MUT_NONE, EL_MUT_COMMIT_FETCHED, EL_MUT_RESUME_LATEST };

struct el_member {
    int node;
    sim_time last_seen;  /* coordinator's clock */
};

struct el_group {        /* at the coordinator */
    int64_t generation;
    struct el_member members[EL_MEMBER_MAX];
    int n_members;
    int owner[EL_PART_MAX];          /* node, -1 = nobody */
    int64_t committed[EL_PART_MAX];
    bool rebalance_due;
};

struct el_part {         /* at a consumer */
    int64_t fetch_pos;   /* next offset to fetch; -1 = the log's end (resume_latest) */
    int64_t done_pos;    /* next offset to process */
    int64_t commit_sent; /* the last offset sent in a commit */
    bool inflight;
    int64_t asked;       /* the offset the fetch in flight asked for */
    sim_time sent_at;
    int queued;          /* records of this partition in the work queue */
    struct el_rec staged[EL_BATCH_MAX];  /* commit = before: waiting for the commit */
    int n_staged;
    sim_time commit_at;
};

struct el_queued {      /* a fetched record waiting to be processed */
    int partition;
    struct el_rec rec;
};

/* A produce waiting for its followers (acks = all). */
struct el_pending {
    struct sim_op op;
    int partition;
    int64_t offset;
};

struct el_state {
    int self, n, brokers, partitions, groups, batch, replicas;
    bool acks_all;
    int min_insync;                  /* acks = all: in-sync replicas needed to take and acknowledge produces */
    bool unclean;                    /* unclean_election */
    sim_time replica_fetch;
    bool is_broker;
    bool round_robin, commit_before;
    enum el_mutant mutant;
    sim_time commit_every, work, poll, heartbeat, session, join_delay;

    /* broker: the logs of the partitions it leads (all P slots, used if leader) */
    struct el_rec *log[EL_PART_MAX];
    size_t log_n[EL_PART_MAX], log_cap[EL_PART_MAX];
    /* broker: the groups it coordinates */
    struct el_group group[EL_GROUP_MAX];

    /* every node: who leads each partition, in which epoch (replicas > 1:
     * learnt from the controller, or by consumers from their coordinator) */
    int leader[EL_PART_MAX];
    int64_t lepoch[EL_PART_MAX];
    uint32_t isr[EL_PART_MAX];       /* in-sync replica slots, as the controller accepted them */
    uint32_t isr_asked[EL_PART_MAX]; /* leader: the set it last asked the controller for */
    bool have_table;                 /* a broker that has heard the controller */
    /* broker, as a partition's leader (replicas > 1) */
    int64_t repl_end[EL_PART_MAX][EL_REPL_MAX];   /* per replica slot: its log end */
    sim_time repl_seen[EL_PART_MAX][EL_REPL_MAX]; /* its last fetch (own clock) */
    int64_t hw[EL_PART_MAX];         /* high watermark: what consumers may read */
    struct el_pending *pending;
    size_t n_pending, cap_pending;
    /* the controller (n1, replicas > 1) */
    sim_time *broker_seen;           /* per broker, own clock */
    int64_t *broker_end, *broker_epoch;   /* per broker and partition */

    /* consumer */
    int my_group, coordinator;
    int64_t generation;
    uint32_t owned;
    struct el_part part[EL_PART_MAX];
    struct el_queued *queue;         /* records fetched, to process in order */
    size_t q_head, q_n, q_cap;
    bool working;
    uint64_t processed;
};

static const struct model_param el_params[] = {
    { "brokers", PARAM_INT, "3", NULL, "the first N nodes are brokers; every other node is a consumer" },
    { "partitions", PARAM_INT, "3", NULL, "partitions of the topic (1 to 16); partition p lives on broker p mod brokers" },
    { "replicas", PARAM_INT, "1", NULL,
      "copies of each partition (1 to 8, at most brokers): p on brokers p, p+1, ... mod brokers; n1 is the controller" },
    { "acks", PARAM_ENUM, "all", "1|all",
      "replicas > 1: a produce is acknowledged once the leader has it (1) or every in-sync replica has it (all)" },
    { "replica_fetch", PARAM_TIME, "10ms", NULL, "replicas > 1: a follower fetches from its leader this often" },
    { "min_insync", PARAM_INT, "1", NULL,
      "acks = all: refuse produces, and acknowledge none, while fewer replicas than this are in sync "
      "(Kafka's min.insync.replicas; 1 to replicas)" },
    { "unclean_election", PARAM_BOOL, "false", NULL,
      "when no in-sync replica is alive, make the live replica with the most of the log leader anyway: "
      "available again, but what only the in-sync ones had is lost" },
    { "partitioner", PARAM_ENUM, "key", "key|round_robin",
      "how a produce picks its partition: hash of the key (per-key order) or round-robin over operations" },
    { "groups", PARAM_INT, "1", NULL, "consumer groups (1 to 8): consumer j is in group g(j mod groups + 1)" },
    { "commit", PARAM_ENUM, "after", "after|before",
      "process then commit (at-least-once) or commit a batch then process it (at-most-once)" },
    { "commit_every", PARAM_TIME, "50ms", NULL,
      "after: a consumer commits its processed position this often (0: after every record)" },
    { "work", PARAM_TIME, "2ms", NULL, "how long a consumer takes to process one record" },
    { "batch", PARAM_INT, "5", NULL, "records per fetch (1 to 8)" },
    { "poll", PARAM_TIME, "10ms", NULL, "an idle consumer asks for new records this often" },
    { "heartbeat", PARAM_TIME, "10ms", NULL, "a consumer heartbeats its group coordinator this often" },
    { "session_timeout", PARAM_TIME, "60ms", NULL,
      "a member silent this long (coordinator's clock) leaves the group" },
    { "join_delay", PARAM_TIME, "20ms", NULL,
      "the coordinator waits this long after a member joins or leaves before it reassigns" },
    { "mutant", PARAM_ENUM, "none", "none|commit_fetched|resume_latest",
      "switch on one deliberate bug (see the mutants below)" },
    { NULL, 0, NULL, NULL, NULL },
};

static const struct model_mutant el_mutants[] = {
    { "commit_fetched", "commit = after commits the fetched position, not the processed one: a crash loses records" },
    { "resume_latest", "a newly owned partition is read from the log's end, not the committed offset" },
    { NULL, NULL },
};

/* ---- helpers --------------------------------------------------------------------- */

static uint64_t el_tag(enum el_timer kind, uint64_t arg)
{
    return (arg << 4) | (uint64_t)kind;
}

static void el_send(node_ctx *ctx, int to, const struct el_msg *m)
{
    int n = m->n < 0 ? 0 : m->n > EL_BATCH_MAX ? EL_BATCH_MAX : m->n;
    node_send(ctx, to, m, EL_HEADER + (size_t)n * sizeof(struct el_rec));
}

static void el_msg_init(struct el_msg *m, uint32_t type)
{
    memset(m, 0, sizeof *m);
    m->type = type;
}

/* FNV-1a of the key: the same partition on every node, every run. */
static uint32_t el_hash(const char *key)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)key; *c; c++) {
        h ^= *c;
        h *= 16777619u;
    }
    return h;
}

static int el_partition_of(const struct el_state *s, const struct sim_op *op)
{
    if (s->round_robin)
        return (int)(op->id % (uint64_t)s->partitions);
    return (int)(el_hash(op->key ? op->key : "") % (uint32_t)s->partitions);
}

/* The partition's leader as this node knows it. */
static int el_leader_of(const struct el_state *s, int partition)
{
    return s->leader[partition];
}

/* Does this broker lead the partition now? With replicas it must have
 * heard the controller since it (re)started. */
static bool el_leads(const struct el_state *s, int partition)
{
    return s->is_broker && s->leader[partition] == s->self && (s->replicas == 1 || s->have_table);
}

/* The replica slot of broker b in partition p (0 = the first leader), or -1. */
static int el_slot(const struct el_state *s, int p, int b)
{
    int i = ((b - p % s->brokers) % s->brokers + s->brokers) % s->brokers;
    return i < s->replicas ? i : -1;
}

static int el_replica(const struct el_state *s, int p, int slot)
{
    return (p + slot) % s->brokers;
}

static int64_t el_last_epoch(const struct el_state *s, int p)
{
    return s->log_n[p] ? s->log[p][s->log_n[p] - 1].epoch : -1;
}

static void el_group_name(char *out, size_t n, int group)
{
    snprintf(out, n, "g%d", group + 1);
}

/* ---- broker: the partition logs ---------------------------------------------------- */

static void el_log_push(struct el_state *s, int p, const struct el_rec *r)
{
    SIM_GROW(s->log[p], s->log_cap[p], s->log_n[p] + 1);
    s->log[p][s->log_n[p]++] = *r;
}

struct el_scan {
    struct el_state *s;
};

static int el_scan_log(void *arg, const char *key, const void *val, size_t len)
{
    struct el_scan *sc = arg;
    int p;
    long long off;
    struct el_rec r;
    if (len != sizeof r || sscanf(key, "log/%2d/%12lld", &p, &off) != 2 || p < 0 || p >= sc->s->partitions)
        return 0;
    memcpy(&r, val, sizeof r);
    if (r.offset == (int64_t)sc->s->log_n[p])
        el_log_push(sc->s, p, &r);
    return 0;
}

/* ---- broker: replication (replicas > 1) ---------------------------------------------- */

/* Keep a client operation to answer later: its key lives as long as the
 * run; what is valid only during on_request is dropped. */
static void el_keep_op(struct sim_op *to, const struct sim_op *op)
{
    *to = *op;
    to->ctx = NULL;
    to->ctx_len = 0;
    to->micro = NULL;
    to->n_micro = 0;
}

static int el_count(uint32_t set)
{
    int n = 0;
    for (; set; set &= set - 1)
        n++;
    return n;
}

/* acks = all and fewer in-sync replicas than min_insync: the leader takes
 * no produce and acknowledges none (they wait, and may time out) */
static bool el_too_few_in_sync(const struct el_state *s, int p)
{
    return s->replicas > 1 && s->acks_all && el_count(s->isr[p]) < s->min_insync;
}

/* The leader's high watermark: the end every in-sync replica has reached
 * (in sync as the controller last accepted it); it never goes back.
 * Produces waiting for acks = all below it are acknowledged. */
static void leader_advance(struct el_state *s, node_ctx *ctx, int p)
{
    int64_t hw = (int64_t)s->log_n[p];
    /* a follower asked for but not yet accepted counts already: once the
     * controller has it, it must have everything acknowledged */
    uint32_t counted = s->isr[p] | s->isr_asked[p];
    for (int i = 0; i < s->replicas; i++)
        if (el_replica(s, p, i) != s->self && (counted & (1u << i)) && s->repl_end[p][i] < hw)
            hw = s->repl_end[p][i];
    if (hw > s->hw[p])
        s->hw[p] = hw;
    if (el_too_few_in_sync(s, p))
        return;
    size_t kept = 0;
    for (size_t k = 0; k < s->n_pending; k++) {
        struct el_pending *w = &s->pending[k];
        if (w->partition == p && w->offset < s->hw[p])
            node_reply_ok(ctx, &w->op, true, w->offset);
        else
            s->pending[kept++] = *w;
    }
    s->n_pending = kept;
}

/* This broker has just become the partition's leader: every follower gets
 * a session's grace to show up, except the leader it replaces. */
static void leader_start(struct el_state *s, node_ctx *ctx, int p, int previous)
{
    sim_time now = node_clock(ctx);
    for (int i = 0; i < s->replicas; i++) {
        s->repl_end[p][i] = 0;
        s->repl_seen[p][i] = el_replica(s, p, i) == previous ? now - s->session : now;
    }
    /* the high watermark starts again from what the followers report */
    s->hw[p] = 0;
    s->isr_asked[p] = 0;
}

static void el_truncate(struct el_state *s, node_ctx *ctx, int p, int64_t to)
{
    if (to < 0 || to >= (int64_t)s->log_n[p])
        return;
    jw *j = node_note_begin(ctx, "truncated");
    if (j) {
        jw_kint(j, "partition", p);
        jw_kint(j, "from", (int64_t)s->log_n[p]);
        jw_kint(j, "to", to);
        node_note_end(ctx);
    }
    for (int64_t o = to; o < (int64_t)s->log_n[p]; o++) {
        char skey[40];
        snprintf(skey, sizeof skey, "log/%02d/%012lld", p, (long long)o);
        node_store_del(ctx, skey);
    }
    node_store_sync(ctx);
    s->log_n[p] = (size_t)to;
}

/* A follower asks for records from its log's end. If its last records are
 * from an epoch whose records the leader does not have (an old leader's
 * unreplicated tail), it is told to cut its log back first. */
static void leader_on_repl_fetch(struct el_state *s, node_ctx *ctx, int from, const struct el_msg *m)
{
    int p = m->partition, slot = el_slot(s, p, from);
    if (slot < 0 || !el_leads(s, p))
        return;
    struct el_msg r;
    el_msg_init(&r, EL_REPL_REPLY);
    r.partition = p;
    r.generation = s->lepoch[p];
    int64_t epoch_end = (int64_t)s->log_n[p];
    for (size_t k = 0; k < s->log_n[p]; k++)
        if (s->log[p][k].epoch > m->generation) {
            epoch_end = (int64_t)k;
            break;
        }
    if (m->offset > epoch_end) {
        r.ok = 0;
        r.offset = epoch_end;
        el_send(ctx, from, &r);
        return;
    }
    s->repl_end[p][slot] = m->offset;
    s->repl_seen[p][slot] = node_clock(ctx);
    leader_advance(s, ctx, p);
    r.ok = 1;
    r.offset = m->offset;
    r.end = s->hw[p];
    int64_t left = (int64_t)s->log_n[p] - m->offset;
    r.n = (int32_t)(left < EL_BATCH_MAX ? left : EL_BATCH_MAX);
    for (int k = 0; k < r.n; k++)
        r.recs[k] = s->log[p][m->offset + k];
    el_send(ctx, from, &r);
}

static void follower_on_repl_reply(struct el_state *s, node_ctx *ctx, const struct el_msg *m)
{
    int p = m->partition;
    if (el_slot(s, p, s->self) < 0 || el_leads(s, p))
        return;
    if (!m->ok) {
        el_truncate(s, ctx, p, m->offset);
        return;
    }
    if (m->offset != (int64_t)s->log_n[p] || m->n == 0)
        return;
    for (int k = 0; k < m->n; k++) {
        const struct el_rec *r = &m->recs[k];
        if (r->offset != (int64_t)s->log_n[p])
            break;
        char skey[40];
        snprintf(skey, sizeof skey, "log/%02d/%012lld", p, (long long)r->offset);
        node_store_put(ctx, skey, r, sizeof *r);
        el_log_push(s, p, r);
    }
    node_store_sync(ctx);
}

/* The in-sync set a leader asks the controller for: itself, and each
 * follower that fetched within the session timeout and is either already
 * in sync or has caught up with the high watermark. */
static uint32_t leader_wanted_isr(const struct el_state *s, node_ctx *ctx, int p)
{
    sim_time now = node_clock(ctx);
    uint32_t want = 0;
    for (int i = 0; i < s->replicas; i++) {
        if (el_replica(s, p, i) == s->self)
            want |= 1u << i;
        else if (now - s->repl_seen[p][i] < s->session &&
                 ((s->isr[p] & (1u << i)) || s->repl_end[p][i] >= s->hw[p]))
            want |= 1u << i;
    }
    return want;
}

/* Every heartbeat: tell the controller this broker is alive, how far its
 * logs go, and the in-sync sets it wants for the partitions it leads. */
static void broker_heartbeat(struct el_state *s, node_ctx *ctx)
{
    struct el_msg m;
    el_msg_init(&m, EL_BROKER_HB);
    for (int p = 0; p < s->partitions; p++) {
        m.committed[p] = (int64_t)s->log_n[p];
        m.epochs[p] = el_last_epoch(s, p);
        m.leaders[p] = -1;
        if (el_leads(s, p)) {
            m.leaders[p] = (int32_t)s->lepoch[p];
            m.isr[p] = s->isr_asked[p] = leader_wanted_isr(s, ctx, p);
        }
    }
    el_send(ctx, 0, &m);
}

/* Every replica_fetch: fetch the partitions this broker follows. */
static void broker_on_repl_timer(struct el_state *s, node_ctx *ctx)
{
    struct el_msg m;
    if (s->have_table)
        for (int p = 0; p < s->partitions; p++) {
            if (el_slot(s, p, s->self) < 0 || s->leader[p] == s->self)
                continue;
            el_msg_init(&m, EL_REPL_FETCH);
            m.partition = p;
            m.offset = (int64_t)s->log_n[p];
            m.generation = el_last_epoch(s, p);
            el_send(ctx, s->leader[p], &m);
        }
    node_timer_set(ctx, s->replica_fetch, el_tag(T_REPL, 0));
}

/* A new leader table from the controller (or a coordinator): take each
 * partition whose epoch is newer. A broker starts or stops leading. */
static void el_adopt_table(struct el_state *s, node_ctx *ctx, const struct el_msg *m)
{
    for (int p = 0; p < s->partitions; p++) {
        int leader = m->leaders[p];
        if (leader < 0 || leader >= s->brokers)
            continue;
        bool fresh = s->is_broker ? !s->have_table || m->epochs[p] > s->lepoch[p] : m->epochs[p] > s->lepoch[p];
        if (s->is_broker && m->epochs[p] == s->lepoch[p] && leader == s->leader[p]) {
            s->isr[p] = m->isr[p];   /* the same leadership: the in-sync set may have changed */
            if (el_leads(s, p))
                leader_advance(s, ctx, p);
        }
        if (!fresh)
            continue;
        int previous = s->leader[p];
        s->leader[p] = leader;
        s->lepoch[p] = m->epochs[p];
        s->isr[p] = m->isr[p];
        if (s->is_broker && leader == s->self && previous != s->self)
            leader_start(s, ctx, p, previous);
        if (s->is_broker && previous == s->self && leader != s->self) {
            /* no longer the leader: produces waiting for acks time out */
            size_t kept = 0;
            for (size_t k = 0; k < s->n_pending; k++)
                if (s->pending[k].partition != p)
                    s->pending[kept++] = s->pending[k];
            s->n_pending = kept;
        }
    }
    if (s->is_broker)
        s->have_table = true;
    for (int p = 0; p < s->partitions; p++)
        if (el_leads(s, p))
            leader_advance(s, ctx, p);
}

static void el_write_table(const struct el_state *s, struct el_msg *m)
{
    for (int p = 0; p < s->partitions; p++) {
        m->leaders[p] = s->leader[p];
        m->epochs[p] = s->lepoch[p];
        m->isr[p] = s->isr[p];
    }
}

/* The controller's table survives its restarts. */
static void controller_save(struct el_state *s, node_ctx *ctx, int p)
{
    int64_t rec[3] = { s->leader[p], s->lepoch[p], s->isr[p] };
    char key[32];
    snprintf(key, sizeof key, "ctl/%02d", p);
    node_store_put(ctx, key, rec, sizeof rec);
    node_store_sync(ctx);
}

/* A leader's wish for its in-sync set, accepted only from the current
 * leader in the current epoch (a deposed leader cannot shrink it to itself
 * and go on acknowledging alone). */
static void controller_set_isr(struct el_state *s, node_ctx *ctx, int p, int from, int64_t epoch, uint32_t want)
{
    if (s->leader[p] != from || s->lepoch[p] != epoch)
        return;
    want &= (1u << s->replicas) - 1;
    want |= 1u << el_slot(s, p, from);
    if (want == s->isr[p])
        return;
    s->isr[p] = want;
    controller_save(s, ctx, p);
    if (from == s->self)
        leader_advance(s, ctx, p);
}

static void controller_on_broker_hb(struct el_state *s, node_ctx *ctx, int from, const struct el_msg *m)
{
    s->broker_seen[from] = node_clock(ctx);
    for (int p = 0; p < s->partitions; p++) {
        s->broker_end[from * s->partitions + p] = m->committed[p];
        s->broker_epoch[from * s->partitions + p] = m->epochs[p];
        if (m->leaders[p] >= 0)
            controller_set_isr(s, ctx, p, from, m->leaders[p], m->isr[p]);
    }
    struct el_msg r;
    el_msg_init(&r, EL_BROKER_HB_REPLY);
    el_write_table(s, &r);
    el_send(ctx, from, &r);
}

/* The live replica of p, other than its silent leader cur, with the most
 * of the log (latest epoch, then longest): among the in-sync ones, or with
 * any, among all. -1 if none; *end_out is its log end. */
static int controller_pick(const struct el_state *s, int p, int cur, sim_time now, bool any, int64_t *end_out)
{
    int best = -1;
    int64_t best_epoch = 0, best_end = 0;
    for (int i = 0; i < s->replicas; i++) {
        int b = el_replica(s, p, i);
        if ((!any && !(s->isr[p] & (1u << i))) || b == cur ||
            (b != s->self && now - s->broker_seen[b] >= s->session))
            continue;
        int64_t epoch = b == s->self ? el_last_epoch(s, p) : s->broker_epoch[b * s->partitions + p];
        int64_t end = b == s->self ? (int64_t)s->log_n[p] : s->broker_end[b * s->partitions + p];
        if (best < 0 || epoch > best_epoch || (epoch == best_epoch && end > best_end)) {
            best = b;
            best_epoch = epoch;
            best_end = end;
        }
    }
    *end_out = best_end;
    return best;
}

/* The controller moves a partition whose leader went silent to the live
 * in-sync replica with the most of the log (latest epoch, then longest).
 * In sync means it had everything acknowledged with acks = all; with
 * acks = 1 it may still lack what only the old leader had. No live
 * in-sync replica: the partition waits, or with unclean_election the live
 * replica with the most of the log leads, alone in sync, without what only
 * the in-sync replicas had. */
static void controller_tick(struct el_state *s, node_ctx *ctx)
{
    sim_time now = node_clock(ctx);
    for (int p = 0; p < s->partitions; p++) {
        int cur = s->leader[p];
        if (cur == s->self) {
            s->isr_asked[p] = leader_wanted_isr(s, ctx, p);
            controller_set_isr(s, ctx, p, s->self, s->lepoch[p], s->isr_asked[p]);
            continue;
        }
        if (now - s->broker_seen[cur] < s->session)
            continue;
        int64_t best_end = 0;
        bool unclean = false;
        int best = controller_pick(s, p, cur, now, false, &best_end);
        if (best < 0 && s->unclean) {
            unclean = true;
            best = controller_pick(s, p, cur, now, true, &best_end);
        }
        if (best < 0)
            continue;   /* no live in-sync replica: the partition waits */
        s->leader[p] = best;
        s->lepoch[p]++;
        if (unclean)
            s->isr[p] = 1u << el_slot(s, p, best);
        controller_save(s, ctx, p);
        jw *j = node_note_begin(ctx, "leader");
        if (j) {
            jw_kint(j, "partition", p);
            jw_kstr(j, "leader", node_name(ctx, best));
            jw_kint(j, "epoch", s->lepoch[p]);
            jw_kstr(j, "previous", node_name(ctx, cur));
            jw_kint(j, "log_end", best_end);
            if (unclean)
                jw_kbool(j, "unclean", true);
            node_note_end(ctx);
        }
        if (best == s->self)
            leader_start(s, ctx, p, cur);
    }
}

/* ---- broker: producing ---------------------------------------------------------------- */

static void broker_on_produce(struct el_state *s, node_ctx *ctx, const struct sim_op *op, int p)
{
    /* a retry of a produce already appended: answer with its offset, or
     * (acks = all) wait for it under the new attempt */
    size_t n = s->log_n[p];
    for (size_t k = n; k-- > 0 && n - k <= EL_DEDUP_WINDOW;)
        if (s->log[p][k].op == op->id) {
            for (size_t w = 0; w < s->n_pending; w++)
                if (s->pending[w].op.id == op->id) {
                    el_keep_op(&s->pending[w].op, op);
                    return;
                }
            if (s->replicas > 1 && s->acks_all && s->log[p][k].offset >= s->hw[p]) {
                SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
                s->pending[s->n_pending] = (struct el_pending){ .partition = p, .offset = s->log[p][k].offset };
                el_keep_op(&s->pending[s->n_pending++].op, op);
                return;
            }
            node_reply_ok(ctx, op, true, s->log[p][k].offset);
            return;
        }
    if (el_too_few_in_sync(s, p)) {
        node_reply_fail(ctx, op, "not enough in-sync replicas (fewer than min_insync)");
        return;
    }
    struct el_rec r;
    memset(&r, 0, sizeof r);
    r.offset = (int64_t)n;
    r.epoch = s->lepoch[p];
    r.value = op->value;
    r.op = op->id;
    snprintf(r.key, sizeof r.key, "%s", op->key ? op->key : "");
    char skey[40];
    snprintf(skey, sizeof skey, "log/%02d/%012lld", p, (long long)r.offset);
    node_store_put(ctx, skey, &r, sizeof r);
    node_store_sync(ctx);
    el_log_push(s, p, &r);
    jw *j = node_note_begin(ctx, "appended");
    if (j) {
        jw_kint(j, "partition", p);
        jw_kint(j, "offset", r.offset);
        jw_kstr(j, "key", r.key);
        jw_kint(j, "value", r.value);
        jw_kint(j, "op", (int64_t)op->id);
        node_note_end(ctx);
    }
    if (s->replicas > 1) {
        if (s->acks_all) {
            SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
            s->pending[s->n_pending] = (struct el_pending){ .partition = p, .offset = r.offset };
            el_keep_op(&s->pending[s->n_pending++].op, op);
            leader_advance(s, ctx, p);
            return;
        }
        leader_advance(s, ctx, p);
    }
    node_reply_ok(ctx, op, true, r.offset);
}

static void broker_on_fetch(struct el_state *s, node_ctx *ctx, int from, const struct el_msg *m)
{
    struct el_msg r;
    el_msg_init(&r, EL_FETCH_REPLY);
    r.group = m->group;
    r.partition = m->partition;
    r.generation = m->generation;
    int p = m->partition;
    bool leads = el_leads(s, p);
    /* consumers read up to the high watermark (with one copy: the end) */
    int64_t len = leads ? (int64_t)s->log_n[p] : 0;
    int64_t visible = leads && s->replicas > 1 && s->hw[p] < len ? s->hw[p] : len;
    int64_t start = m->offset < 0 || m->offset > len ? visible : m->offset;
    int64_t want = m->want < 1 ? 1 : m->want > EL_BATCH_MAX ? EL_BATCH_MAX : m->want;
    r.ok = leads;
    r.offset = start;
    r.end = visible;
    r.n = (int32_t)(visible - start < want ? (visible - start > 0 ? visible - start : 0) : want);
    for (int k = 0; k < r.n; k++)
        r.recs[k] = s->log[p][start + k];
    el_send(ctx, from, &r);
}

/* ---- broker: group coordination ------------------------------------------------------ */

static void coord_store_generation(node_ctx *ctx, int g, int64_t generation)
{
    char key[32];
    snprintf(key, sizeof key, "grp/%d/gen", g);
    node_store_put(ctx, key, &generation, sizeof generation);
    node_store_sync(ctx);
}

static void coord_rebalance(struct el_state *s, node_ctx *ctx, int g)
{
    struct el_group *gr = &s->group[g];
    gr->rebalance_due = false;
    gr->generation++;
    coord_store_generation(ctx, g, gr->generation);
    /* sticky: a partition stays with its owner while the owner is a member
     * and holds no more than its share; the others go, in partition order,
     * to the member holding fewest (the first in node order on a tie) */
    int load[EL_MEMBER_MAX] = { 0 };
    int share = gr->n_members ? (s->partitions + gr->n_members - 1) / gr->n_members : 0;
    for (int p = 0; p < s->partitions; p++) {
        int k = 0;
        while (k < gr->n_members && gr->members[k].node != gr->owner[p])
            k++;
        if (k < gr->n_members && load[k] < share)
            load[k]++;
        else
            gr->owner[p] = -1;
    }
    for (int p = 0; p < s->partitions; p++) {
        if (gr->owner[p] >= 0 || gr->n_members == 0)
            continue;
        int best = 0;
        for (int k = 1; k < gr->n_members; k++)
            if (load[k] < load[best])
                best = k;
        load[best]++;
        gr->owner[p] = gr->members[best].node;
    }
    jw *j = node_note_begin(ctx, "assigned");
    if (!j)
        return;
    char name[16];
    el_group_name(name, sizeof name, g);
    jw_kstr(j, "group", name);
    jw_kint(j, "generation", gr->generation);
    jw_key(j, "members");
    jw_arr(j);
    for (int k = 0; k < gr->n_members; k++)
        jw_str(j, node_name(ctx, gr->members[k].node));
    jw_arr_end(j);
    jw_key(j, "assignment");
    jw_arr(j);
    for (int k = 0; k < gr->n_members; k++) {
        jw_obj(j);
        jw_kstr(j, "consumer", node_name(ctx, gr->members[k].node));
        jw_key(j, "partitions");
        jw_arr(j);
        for (int p = 0; p < s->partitions; p++)
            if (gr->owner[p] == gr->members[k].node)
                jw_int(j, p);
        jw_arr_end(j);
        jw_obj_end(j);
    }
    jw_arr_end(j);
    node_note_end(ctx);
}

static void coord_schedule(struct el_state *s, node_ctx *ctx, int g)
{
    if (s->group[g].rebalance_due)
        return;
    s->group[g].rebalance_due = true;
    node_timer_set(ctx, s->join_delay, el_tag(T_REBALANCE, (uint64_t)g));
}

static void coord_on_heartbeat(struct el_state *s, node_ctx *ctx, int from, const struct el_msg *m)
{
    int g = m->group;
    struct el_group *gr = &s->group[g];
    int k = 0;
    while (k < gr->n_members && gr->members[k].node < from)
        k++;
    if (k == gr->n_members || gr->members[k].node != from) {
        if (gr->n_members == EL_MEMBER_MAX)
            return;
        memmove(&gr->members[k + 1], &gr->members[k], (size_t)(gr->n_members - k) * sizeof gr->members[0]);
        gr->members[k].node = from;
        gr->n_members++;
        coord_schedule(s, ctx, g);
    }
    gr->members[k].last_seen = node_clock(ctx);
    struct el_msg r;
    el_msg_init(&r, EL_HEARTBEAT_REPLY);
    r.group = g;
    r.generation = gr->generation;
    for (int p = 0; p < s->partitions; p++) {
        if (gr->owner[p] == from)
            r.mask |= 1u << p;
        r.committed[p] = gr->committed[p];
    }
    el_write_table(s, &r);
    el_send(ctx, from, &r);
}

static void coord_on_commit(struct el_state *s, node_ctx *ctx, int from, const struct el_msg *m)
{
    int g = m->group, p = m->partition;
    struct el_group *gr = &s->group[g];
    bool ok = gr->owner[p] == from && m->generation == gr->generation && m->offset >= 0;
    if (ok) {
        gr->committed[p] = m->offset;
        char key[32];
        snprintf(key, sizeof key, "grp/%d/c/%02d", g, p);
        node_store_put(ctx, key, &m->offset, sizeof m->offset);
        node_store_sync(ctx);
    }
    jw *j = node_note_begin(ctx, ok ? "committed" : "commit_refused");
    if (j) {
        char name[16];
        el_group_name(name, sizeof name, g);
        jw_kstr(j, "group", name);
        jw_kint(j, "partition", p);
        jw_kint(j, "offset", m->offset);
        jw_kstr(j, "consumer", node_name(ctx, from));
        jw_kint(j, "generation", m->generation);
        node_note_end(ctx);
    }
    struct el_msg r;
    el_msg_init(&r, EL_COMMIT_REPLY);
    r.group = g;
    r.partition = p;
    r.offset = m->offset;
    r.generation = m->generation;
    r.ok = ok;
    el_send(ctx, from, &r);
}

/* Members silent for the session timeout leave; a change reassigns. */
static void coord_on_session(struct el_state *s, node_ctx *ctx)
{
    sim_time now = node_clock(ctx);
    for (int g = 0; g < s->groups; g++) {
        if (g % s->brokers != s->self)
            continue;
        struct el_group *gr = &s->group[g];
        int kept = 0;
        for (int k = 0; k < gr->n_members; k++)
            if (now - gr->members[k].last_seen < s->session)
                gr->members[kept++] = gr->members[k];
        if (kept != gr->n_members) {
            gr->n_members = kept;
            coord_schedule(s, ctx, g);
        }
    }
    if (s->replicas > 1) {
        if (s->self == 0)
            controller_tick(s, ctx);
        else
            broker_heartbeat(s, ctx);
        /* a follower silent for the session leaves the in-sync set */
        for (int p = 0; p < s->partitions; p++)
            if (el_leads(s, p))
                leader_advance(s, ctx, p);
    }
    node_timer_set(ctx, s->heartbeat, el_tag(T_SESSION, 0));
}

/* ---- consumer ------------------------------------------------------------------------- */

static void consumer_fetch(struct el_state *s, node_ctx *ctx, int p)
{
    struct el_part *pt = &s->part[p];
    if (!(s->owned & (1u << p)) || pt->queued || pt->n_staged)
        return;
    if (pt->inflight && node_clock(ctx) - pt->sent_at < s->session)
        return;   /* still waiting (a lost answer is asked again after the session timeout) */
    struct el_msg m;
    el_msg_init(&m, EL_FETCH);
    m.group = s->my_group;
    m.partition = p;
    m.generation = s->generation;
    m.offset = pt->fetch_pos;
    m.want = s->batch;
    pt->inflight = true;
    pt->asked = pt->fetch_pos;
    pt->sent_at = node_clock(ctx);
    el_send(ctx, el_leader_of(s, p), &m);
}

static void consumer_commit(struct el_state *s, node_ctx *ctx, int p, int64_t offset)
{
    struct el_msg m;
    el_msg_init(&m, EL_COMMIT);
    m.group = s->my_group;
    m.partition = p;
    m.generation = s->generation;
    m.offset = offset;
    s->part[p].commit_sent = offset;
    s->part[p].commit_at = node_clock(ctx);
    el_send(ctx, s->coordinator, &m);
}

/* commit = after: commit every owned partition whose position moved. */
static void consumer_commit_all(struct el_state *s, node_ctx *ctx)
{
    for (int p = 0; p < s->partitions; p++) {
        if (!(s->owned & (1u << p)))
            continue;
        struct el_part *pt = &s->part[p];
        int64_t pos = s->mutant == EL_MUT_COMMIT_FETCHED ? pt->fetch_pos : pt->done_pos;
        if (pos >= 0 && pos > pt->commit_sent)
            consumer_commit(s, ctx, p, pos);
    }
}

static void consumer_enqueue(struct el_state *s, int p, const struct el_rec *r)
{
    if (s->q_head > 0 && s->q_head * 2 >= s->q_n) {   /* slide the waiting records to the front */
        memmove(s->queue, s->queue + s->q_head, (s->q_n - s->q_head) * sizeof s->queue[0]);
        s->q_n -= s->q_head;
        s->q_head = 0;
    }
    SIM_GROW(s->queue, s->q_cap, s->q_n + 1);
    s->queue[s->q_n].partition = p;
    s->queue[s->q_n].rec = *r;
    s->q_n++;
    s->part[p].queued++;
}

static void consumer_work_next(struct el_state *s, node_ctx *ctx)
{
    if (s->working || s->q_head == s->q_n)
        return;
    s->working = true;
    node_timer_set(ctx, s->work, el_tag(T_WORK, 0));
}

static void consumer_on_work(struct el_state *s, node_ctx *ctx)
{
    s->working = false;
    if (s->q_head == s->q_n)
        return;
    int p = s->queue[s->q_head].partition;
    struct el_rec r = s->queue[s->q_head++].rec;
    struct el_part *pt = &s->part[p];
    pt->queued--;
    if ((s->owned & (1u << p)) && r.offset == pt->done_pos) {
        pt->done_pos = r.offset + 1;
        s->processed++;
        jw *j = node_note_begin(ctx, "consumed");
        if (j) {
            char name[16];
            el_group_name(name, sizeof name, s->my_group);
            jw_kstr(j, "group", name);
            jw_kint(j, "partition", p);
            jw_kint(j, "offset", r.offset);
            jw_kstr(j, "key", r.key);
            jw_kint(j, "value", r.value);
            jw_kint(j, "generation", s->generation);
            node_note_end(ctx);
        }
        if (!s->commit_before && s->commit_every == 0)
            consumer_commit_all(s, ctx);
    }
    if (pt->queued == 0)
        consumer_fetch(s, ctx, p);
    consumer_work_next(s, ctx);
}

static void consumer_drop_partition(struct el_state *s, int p)
{
    struct el_part *pt = &s->part[p];
    size_t kept = s->q_head;
    for (size_t k = s->q_head; k < s->q_n; k++)
        if (s->queue[k].partition != p)
            s->queue[kept++] = s->queue[k];
    s->q_n = kept;
    pt->queued = 0;
    pt->n_staged = 0;
    pt->inflight = false;
}

static void consumer_on_heartbeat_reply(struct el_state *s, node_ctx *ctx, const struct el_msg *m)
{
    if (m->group != s->my_group)
        return;
    if (s->replicas > 1)
        el_adopt_table(s, ctx, m);
    uint32_t mask = m->mask;
    if (m->generation == s->generation && mask == s->owned)
        return;
    for (int p = 0; p < s->partitions; p++) {
        uint32_t bit = 1u << p;
        struct el_part *pt = &s->part[p];
        if ((s->owned & bit) && !(mask & bit)) {
            consumer_drop_partition(s, p);
        } else if ((mask & bit) && !(s->owned & bit)) {
            consumer_drop_partition(s, p);
            pt->done_pos = m->committed[p];
            pt->fetch_pos = s->mutant == EL_MUT_RESUME_LATEST ? -1 : m->committed[p];
            pt->commit_sent = m->committed[p];
        }
    }
    s->owned = mask;
    s->generation = m->generation;
    for (int p = 0; p < s->partitions; p++)
        consumer_fetch(s, ctx, p);
}

static void consumer_on_fetch_reply(struct el_state *s, node_ctx *ctx, const struct el_msg *m)
{
    int p = m->partition;
    struct el_part *pt = &s->part[p];
    if (!(s->owned & (1u << p)) || !pt->inflight || m->generation != s->generation)
        return;
    if (pt->asked >= 0 && m->offset > pt->asked)
        return;
    pt->inflight = false;
    if (!m->ok)
        return;                        /* not the leader (any more): ask again at the next poll */
    if (pt->asked >= 0 && m->offset < pt->asked) {
        /* beyond the log's end (a new leader lost its tail): start from there */
        pt->fetch_pos = m->offset;
        pt->done_pos = m->offset;
    }
    if (pt->fetch_pos < 0) {           /* resume_latest: the end is where we start */
        pt->fetch_pos = m->offset;
        pt->done_pos = m->offset;
    }
    if (m->n == 0)
        return;                        /* nothing new: the poll timer asks again */
    pt->fetch_pos = m->offset + m->n;
    if (s->commit_before) {
        memcpy(pt->staged, m->recs, (size_t)m->n * sizeof m->recs[0]);
        pt->n_staged = m->n;
        consumer_commit(s, ctx, p, pt->fetch_pos);
        return;
    }
    for (int k = 0; k < m->n; k++)
        consumer_enqueue(s, p, &m->recs[k]);
    consumer_work_next(s, ctx);
}

static void consumer_on_commit_reply(struct el_state *s, node_ctx *ctx, const struct el_msg *m)
{
    int p = m->partition;
    struct el_part *pt = &s->part[p];
    if (!s->commit_before || !pt->n_staged || m->generation != s->generation ||
        m->offset != pt->staged[pt->n_staged - 1].offset + 1)
        return;
    if (!m->ok) {
        /* fenced (a new generation): nothing was committed; read the batch
         * again if the next heartbeat says the partition is still ours */
        pt->n_staged = 0;
        pt->fetch_pos = pt->done_pos;
        return;
    }
    for (int k = 0; k < pt->n_staged; k++)
        consumer_enqueue(s, p, &pt->staged[k]);
    pt->n_staged = 0;
    consumer_work_next(s, ctx);
}

static void consumer_heartbeat(struct el_state *s, node_ctx *ctx)
{
    struct el_msg m;
    el_msg_init(&m, EL_HEARTBEAT);
    m.group = s->my_group;
    m.generation = s->generation;
    el_send(ctx, s->coordinator, &m);
}

static void consumer_on_poll(struct el_state *s, node_ctx *ctx)
{
    sim_time now = node_clock(ctx);
    for (int p = 0; p < s->partitions; p++) {
        struct el_part *pt = &s->part[p];
        /* commit = before: a commit whose answer never came is sent again */
        if (pt->n_staged && now - pt->commit_at >= s->session)
            consumer_commit(s, ctx, p, pt->staged[pt->n_staged - 1].offset + 1);
        consumer_fetch(s, ctx, p);
    }
    node_timer_set(ctx, s->poll, el_tag(T_POLL, 0));
}

/* ---- callbacks ---------------------------------------------------------------------- */

static enum el_mutant el_read_mutant(const params *p)
{
    if (params_is(p, "mutant", "commit_fetched"))
        return EL_MUT_COMMIT_FETCHED;
    if (params_is(p, "mutant", "resume_latest"))
        return EL_MUT_RESUME_LATEST;
    return EL_MUT_NONE;
}

static void *el_init(node_ctx *ctx)
{
    const params *p = node_params(ctx);
    struct el_state *s = sim_xcalloc(1, sizeof *s);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    s->brokers = (int)params_int(p, "brokers");
    s->partitions = (int)params_int(p, "partitions");
    s->groups = (int)params_int(p, "groups");
    s->batch = (int)params_int(p, "batch");
    s->round_robin = params_is(p, "partitioner", "round_robin");
    s->commit_before = params_is(p, "commit", "before");
    s->commit_every = params_time(p, "commit_every");
    s->work = params_time(p, "work");
    s->poll = params_time(p, "poll");
    s->heartbeat = params_time(p, "heartbeat");
    s->session = params_time(p, "session_timeout");
    s->join_delay = params_time(p, "join_delay");
    s->mutant = el_read_mutant(p);
    s->replicas = (int)params_int(p, "replicas");
    s->acks_all = params_is(p, "acks", "all");
    s->min_insync = (int)params_int(p, "min_insync");
    s->unclean = params_bool(p, "unclean_election");
    s->replica_fetch = params_time(p, "replica_fetch");
    s->is_broker = s->self < s->brokers;
    for (int q = 0; q < s->partitions; q++) {
        s->leader[q] = q % s->brokers;
        s->isr[q] = (1u << s->replicas) - 1;
    }
    if (s->is_broker) {
        struct el_scan sc = { s };
        store_scan(node_store(ctx), "log/", el_scan_log, &sc);
        if (s->replicas > 1) {
            sim_time now = node_clock(ctx);
            for (int q = 0; q < s->partitions; q++)
                for (int i = 0; i < s->replicas; i++)
                    s->repl_seen[q][i] = now;
            if (s->self == 0) {
                /* the controller: its table survives a restart */
                s->have_table = true;
                s->broker_seen = sim_xcalloc((size_t)s->brokers, sizeof *s->broker_seen);
                s->broker_end = sim_xcalloc((size_t)(s->brokers * s->partitions), sizeof *s->broker_end);
                s->broker_epoch = sim_xcalloc((size_t)(s->brokers * s->partitions), sizeof *s->broker_epoch);
                for (int b = 0; b < s->brokers; b++)
                    s->broker_seen[b] = now;
                for (int q = 0; q < s->partitions; q++) {
                    char key[32];
                    size_t len;
                    int64_t rec[3];
                    snprintf(key, sizeof key, "ctl/%02d", q);
                    const void *v = node_store_get(ctx, key, &len);
                    if (v && len == sizeof rec) {
                        memcpy(rec, v, sizeof rec);
                        if (rec[0] >= 0 && rec[0] < s->brokers) {
                            s->leader[q] = (int)rec[0];
                            s->lepoch[q] = rec[1];
                            s->isr[q] = (uint32_t)rec[2];
                        }
                    }
                }
            }
            node_timer_set(ctx, s->replica_fetch, el_tag(T_REPL, 0));
        }
        for (int g = 0; g < s->groups; g++) {
            struct el_group *gr = &s->group[g];
            char key[32];
            size_t len;
            snprintf(key, sizeof key, "grp/%d/gen", g);
            const void *v = node_store_get(ctx, key, &len);
            if (v && len == sizeof gr->generation)
                memcpy(&gr->generation, v, sizeof gr->generation);
            for (int q = 0; q < s->partitions; q++) {
                gr->owner[q] = -1;
                snprintf(key, sizeof key, "grp/%d/c/%02d", g, q);
                v = node_store_get(ctx, key, &len);
                if (v && len == sizeof gr->committed[q])
                    memcpy(&gr->committed[q], v, sizeof gr->committed[q]);
            }
        }
        node_set_role(ctx, "broker", 0);
        /* with replicas, a broker reports to the controller at once */
        node_timer_set(ctx, s->replicas > 1 ? 1 : s->heartbeat, el_tag(T_SESSION, 0));
    } else {
        s->my_group = (s->self - s->brokers) % s->groups;
        s->coordinator = s->my_group % s->brokers;
        s->generation = -1;
        node_set_role(ctx, "consumer", 0);
        node_timer_set(ctx, 1, el_tag(T_HEARTBEAT, 0));
        node_timer_set(ctx, s->poll, el_tag(T_POLL, 0));
        if (!s->commit_before && s->commit_every > 0)
            node_timer_set(ctx, s->commit_every, el_tag(T_COMMIT, 0));
    }
    return s;
}

static void el_destroy(void *state)
{
    struct el_state *s = state;
    for (int p = 0; p < EL_PART_MAX; p++)
        sim_free(s->log[p]);
    sim_free(s->queue);
    sim_free(s->pending);
    sim_free(s->broker_seen);
    sim_free(s->broker_end);
    sim_free(s->broker_epoch);
    sim_free(s);
}

static bool el_msg_valid(const struct el_state *s, const struct el_msg *m, size_t len)
{
    if (m->n < 0 || m->n > EL_BATCH_MAX || len != EL_HEADER + (size_t)m->n * sizeof(struct el_rec))
        return false;
    if (m->group < 0 || m->group >= s->groups || m->partition < 0 || m->partition >= s->partitions)
        return false;
    for (int k = 0; k < m->n; k++)
        if (memchr(m->recs[k].key, 0, EL_KEY_MAX) == NULL)
            return false;
    return true;
}

static void el_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct el_state *s = state;
    struct el_msg m;
    if (len < EL_HEADER || len > sizeof m || from < 0 || from >= s->n || from == s->self)
        return;
    memset(&m, 0, sizeof m);
    memcpy(&m, msg, len);
    if (!el_msg_valid(s, &m, len))
        return;
    bool from_consumer = from >= s->brokers;
    if (s->is_broker && from_consumer) {
        if (m.type == EL_FETCH)
            broker_on_fetch(s, ctx, from, &m);
        else if (m.type == EL_HEARTBEAT && m.group % s->brokers == s->self)
            coord_on_heartbeat(s, ctx, from, &m);
        else if (m.type == EL_COMMIT && m.group % s->brokers == s->self)
            coord_on_commit(s, ctx, from, &m);
    } else if (s->is_broker && s->replicas > 1) {
        /* between brokers: replication and the controller */
        if (m.type == EL_REPL_FETCH)
            leader_on_repl_fetch(s, ctx, from, &m);
        else if (m.type == EL_REPL_REPLY && from == s->leader[m.partition])
            follower_on_repl_reply(s, ctx, &m);
        else if (m.type == EL_BROKER_HB && s->self == 0)
            controller_on_broker_hb(s, ctx, from, &m);
        else if (m.type == EL_BROKER_HB_REPLY && from == 0)
            el_adopt_table(s, ctx, &m);
    } else if (!s->is_broker && !from_consumer) {
        if (m.type == EL_FETCH_REPLY)
            consumer_on_fetch_reply(s, ctx, &m);
        else if (m.type == EL_HEARTBEAT_REPLY && from == s->coordinator)
            consumer_on_heartbeat_reply(s, ctx, &m);
        else if (m.type == EL_COMMIT_REPLY && from == s->coordinator)
            consumer_on_commit_reply(s, ctx, &m);
    }
}

static void el_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct el_state *s = state;
    enum el_timer kind = (enum el_timer)(tag & 15);
    uint64_t arg = tag >> 4;
    switch (kind) {
    case T_SESSION:
        coord_on_session(s, ctx);
        break;
    case T_REBALANCE:
        if (s->is_broker && arg < (uint64_t)s->groups)
            coord_rebalance(s, ctx, (int)arg);
        break;
    case T_HEARTBEAT:
        consumer_heartbeat(s, ctx);
        node_timer_set(ctx, s->heartbeat, el_tag(T_HEARTBEAT, 0));
        break;
    case T_POLL:
        consumer_on_poll(s, ctx);
        break;
    case T_WORK:
        consumer_on_work(s, ctx);
        break;
    case T_REPL:
        broker_on_repl_timer(s, ctx);
        break;
    case T_COMMIT:
        consumer_commit_all(s, ctx);
        node_timer_set(ctx, s->commit_every, el_tag(T_COMMIT, 0));
        break;
    default:
        break;
    }
}

/* A client write is a produce; the partition's leader appends it. */
static void el_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct el_state *s = state;
    if (op->type != OP_WRITE) {
        node_reply_fail(ctx, op, "the event log takes only produces (write key value)");
        return;
    }
    if (!op->key || strlen(op->key) >= EL_KEY_MAX) {
        node_reply_fail(ctx, op, "key too long for the event log");
        return;
    }
    int p = el_partition_of(s, op);
    int leader = el_leader_of(s, p);
    if (leader != s->self) {
        node_reply_redirect(ctx, op, leader, "not the partition's leader");
        return;
    }
    if (!el_leads(s, p)) {
        node_reply_fail(ctx, op, "this broker has not heard from the controller yet");
        return;
    }
    broker_on_produce(s, ctx, op, p);
}

static void el_describe_msg(const void *msg, size_t len, jw *out)
{
    static const char *const names[] = { "?", "fetch", "fetch_reply", "heartbeat", "heartbeat_reply", "commit",
                                         "commit_reply", "broker_heartbeat", "broker_heartbeat_reply",
                                         "replica_fetch", "replica_reply" };
    struct el_msg m;
    if (len < EL_HEADER || len > sizeof m) {
        jw_kstr(out, "type", "?");
        return;
    }
    memset(&m, 0, sizeof m);
    memcpy(&m, msg, len);
    jw_kstr(out, "type", m.type < 11 ? names[m.type] : "?");
    char name[16];
    el_group_name(name, sizeof name, m.group);
    switch (m.type) {
    case EL_FETCH:
        jw_kint(out, "partition", m.partition);
        jw_kint(out, "offset", m.offset);
        break;
    case EL_FETCH_REPLY:
        jw_kint(out, "partition", m.partition);
        jw_kint(out, "offset", m.offset);
        jw_kint(out, "records", m.n >= 0 && m.n <= EL_BATCH_MAX ? m.n : 0);
        jw_kint(out, "end", m.end);
        break;
    case EL_HEARTBEAT:
        jw_kstr(out, "group", name);
        break;
    case EL_HEARTBEAT_REPLY:
        jw_kstr(out, "group", name);
        jw_kint(out, "generation", m.generation);
        jw_key(out, "partitions");
        jw_arr(out);
        for (int p = 0; p < EL_PART_MAX; p++)
            if (m.mask & (1u << p))
                jw_int(out, p);
        jw_arr_end(out);
        break;
    case EL_COMMIT:
    case EL_COMMIT_REPLY:
        jw_kstr(out, "group", name);
        jw_kint(out, "partition", m.partition);
        jw_kint(out, "offset", m.offset);
        if (m.type == EL_COMMIT_REPLY)
            jw_kbool(out, "ok", m.ok);
        break;
    case EL_REPL_FETCH:
        jw_kint(out, "partition", m.partition);
        jw_kint(out, "offset", m.offset);
        jw_kint(out, "last_epoch", m.generation);
        break;
    case EL_REPL_REPLY:
        jw_kint(out, "partition", m.partition);
        jw_kint(out, m.ok ? "offset" : "truncate_to", m.offset);
        if (m.ok) {
            jw_kint(out, "records", m.n >= 0 && m.n <= EL_BATCH_MAX ? m.n : 0);
            jw_kint(out, "hw", m.end);
        }
        break;
    default:
        break;
    }
}

static void el_describe(const void *state, jw *out)
{
    const struct el_state *s = state;
    if (s->is_broker) {
        jw_kstr(out, "role", "broker");
        jw_key(out, "log_end");
        jw_obj(out);
        for (int p = 0; p < s->partitions; p++)
            if (el_leader_of(s, p) == s->self || (s->replicas > 1 && el_slot(s, p, s->self) >= 0)) {
                char k[16];
                snprintf(k, sizeof k, "%d", p);
                jw_kint(out, k, (int64_t)s->log_n[p]);
            }
        jw_obj_end(out);
        if (s->replicas > 1) {
            jw_key(out, "leads");
            jw_arr(out);
            for (int p = 0; p < s->partitions; p++)
                if (el_leads(s, p))
                    jw_int(out, p);
            jw_arr_end(out);
            jw_key(out, "hw");
            jw_obj(out);
            for (int p = 0; p < s->partitions; p++)
                if (el_leads(s, p)) {
                    char k[16];
                    snprintf(k, sizeof k, "%d", p);
                    jw_kint(out, k, s->hw[p]);
                }
            jw_obj_end(out);
        }
        jw_key(out, "groups");
        jw_obj(out);
        for (int g = 0; g < s->groups; g++) {
            if (g % s->brokers != s->self)
                continue;
            char name[16];
            el_group_name(name, sizeof name, g);
            jw_key(out, name);
            jw_obj(out);
            jw_kint(out, "generation", s->group[g].generation);
            jw_key(out, "committed");
            jw_arr(out);
            for (int p = 0; p < s->partitions; p++)
                jw_int(out, s->group[g].committed[p]);
            jw_arr_end(out);
            jw_obj_end(out);
        }
        jw_obj_end(out);
    } else {
        char name[16];
        el_group_name(name, sizeof name, s->my_group);
        jw_kstr(out, "role", "consumer");
        jw_kstr(out, "group", name);
        jw_kint(out, "generation", s->generation);
        jw_key(out, "partitions");
        jw_arr(out);
        for (int p = 0; p < s->partitions; p++)
            if (s->owned & (1u << p))
                jw_int(out, p);
        jw_arr_end(out);
        jw_kint(out, "processed", (int64_t)s->processed);
    }
}

static int el_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    int64_t brokers = params_int(p, "brokers"), partitions = params_int(p, "partitions");
    int64_t groups = params_int(p, "groups"), batch = params_int(p, "batch");
    if (brokers < 1 || brokers >= n_nodes) {
        snprintf(err, errlen, "eventlog brokers must be from 1 to %d (at least one node left to consume), got %lld",
                 n_nodes - 1, (long long)brokers);
        return -1;
    }
    if (partitions < 1 || partitions > EL_PART_MAX) {
        snprintf(err, errlen, "eventlog partitions must be from 1 to %d, got %lld", EL_PART_MAX,
                 (long long)partitions);
        return -1;
    }
    if (groups < 1 || groups > EL_GROUP_MAX || groups > n_nodes - brokers) {
        snprintf(err, errlen, "eventlog groups must be from 1 to %lld (one consumer each, at most %d), got %lld",
                 (long long)(n_nodes - brokers < EL_GROUP_MAX ? n_nodes - brokers : EL_GROUP_MAX), EL_GROUP_MAX,
                 (long long)groups);
        return -1;
    }
    if ((n_nodes - brokers + groups - 1) / groups > EL_MEMBER_MAX) {
        snprintf(err, errlen, "eventlog groups may have at most %d consumers each", EL_MEMBER_MAX);
        return -1;
    }
    int64_t replicas = params_int(p, "replicas");
    if (replicas < 1 || replicas > EL_REPL_MAX || replicas > brokers) {
        snprintf(err, errlen, "eventlog replicas must be from 1 to %lld (at most one per broker, at most %d), got %lld",
                 (long long)(brokers < EL_REPL_MAX ? brokers : EL_REPL_MAX), EL_REPL_MAX, (long long)replicas);
        return -1;
    }
    if (batch < 1 || batch > EL_BATCH_MAX) {
        snprintf(err, errlen, "eventlog batch must be from 1 to %d, got %lld", EL_BATCH_MAX, (long long)batch);
        return -1;
    }
    int64_t min_insync = params_int(p, "min_insync");
    if (min_insync < 1 || min_insync > replicas) {
        snprintf(err, errlen, "eventlog min_insync must be from 1 to replicas (%lld), got %lld", (long long)replicas,
                 (long long)min_insync);
        return -1;
    }
    if (params_time(p, "work") <= 0 || params_time(p, "poll") <= 0 || params_time(p, "heartbeat") <= 0 ||
        params_time(p, "replica_fetch") <= 0 ||
        params_time(p, "join_delay") <= 0 || params_time(p, "commit_every") < 0) {
        snprintf(err, errlen, "eventlog work, poll, heartbeat, replica_fetch and join_delay must be above 0, "
                 "commit_every at least 0");
        return -1;
    }
    if (params_time(p, "session_timeout") <= params_time(p, "heartbeat")) {
        snprintf(err, errlen, "eventlog session_timeout must be longer than heartbeat, or every member times out");
        return -1;
    }
    return 0;
}

static int el_check_key(const params *p, int n_nodes, const char *key, char *err, size_t errlen)
{
    (void)p;
    (void)n_nodes;
    if (strlen(key) >= EL_KEY_MAX) {
        snprintf(err, errlen, "eventlog keys must be shorter than %d bytes, \"%s\" is not", EL_KEY_MAX, key);
        return -1;
    }
    return 0;
}

const struct model eventlog_model = {
    .name = "eventlog",
    .summary = "a partitioned event log (Kafka-like): keyed produces, consumer groups, rebalancing, commit before/after",
    .params = el_params,
    .init = el_init,
    .destroy = el_destroy,
    .on_message = el_on_message,
    .on_timer = el_on_timer,
    .on_request = el_on_request,
    .describe_msg = el_describe_msg,
    .describe = el_describe,
    .validate = el_validate,
    .check_key = el_check_key,
    .mutants = el_mutants,
};
