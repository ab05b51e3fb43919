/* session: the four session guarantees of Terry et al. ("Session Guarantees
 * for Weakly Consistent Replicated Data", 1994), checked per client on
 * register histories: read_your_writes, monotonic_reads, monotonic_writes,
 * writes_follow_reads.
 *
 * A session is one client (process): its operations, one at a time, in the
 * order it invoked them. A history does not say which replica answered an
 * operation nor in which order a replica applied the writes, so each
 * guarantee is checked through what it forbids clients to see, under three
 * assumptions, stated here once:
 *
 *   A1. Written values are distinct per key (sim workloads write unique
 *       values). A read of v then saw the one write of v. Reads of a value
 *       written more than once are not judged; if one of them is all that
 *       stands between a history and a verdict, the verdict is unknown.
 *       nil (never written) is the initial version, older than every write.
 *   A2. Writes take effect in real-time order where real time decides it:
 *       write w is "definitely older" than write w' on the same key (w < w')
 *       when w had taken effect before w' was invoked, that is when w had
 *       completed ok, or some read that began after w did had returned its
 *       value, before w' was invoked. Writes that overlap, and
 *       indeterminate (info) writes nobody saw, are not ordered.
 *   A3. (monotonic_writes and writes_follow_reads only) A client that
 *       has seen a write keeps seeing it, unless its own reads show
 *       otherwise. These two guarantees are about the order in which
 *       replicas apply writes; a history shows that order only through some
 *       client's successive reads, and a client that moved to a replica
 *       that lags behind (which breaks its own monotonic reads, invisibly
 *       when the reads are of different keys) shows the same thing. So a
 *       finding counts as a violation when the client that saw it (the
 *       observer) never demonstrably went back in time on any single key
 *       (no read-your-writes or monotonic-reads violation in its session),
 *       and as unknown when it did.
 *
 * Operations: a write or cas that failed did not take effect and is left
 * out; an info (indeterminate) write or cas may take effect at any time
 * after its invocation, or never (a read that returns its value proves it
 * did), as the linearizable checker treats it: it is concurrent with its
 * client's later operations, so it creates no obligation for them (no
 * read-your-writes, and no place before the client's later writes). A
 * successful cas both observes its expected value and writes its new one.
 * A read that failed or never answered saw nothing. Observations are ok
 * reads and ok cas.
 *
 * The guarantees, as checked (c, o: clients; k, k': keys; r, r1, r2:
 * observations; "later" means later in the same session):
 *
 *   read_your_writes: if c's write w on k completed ok, every later
 *     observation of k by c returns w's value or that of a write not
 *     definitely older than w. Violation: c reads nil, or the value of a
 *     write w' < w.
 *   monotonic_reads: if c observed the value of write w2 on k, every later
 *     observation of k by c returns w2's value or that of a write not
 *     definitely older than w2. Violation: c reads nil after a value, or
 *     the value of w1 < w2 after w2's.
 *   monotonic_writes: if c's write w1 (on k) completed ok and c then wrote
 *     w2 (on k'), a replica that holds w2 holds w1 before it. Observed
 *     violation: a client o observed w2, and later observed k with a value
 *     older than w1 (nil, or w' < w1), and o's own monotonic reads and
 *     read-your-writes do not already explain it on one key (with k = k',
 *     they always do: w1 < w2 by A2, so it is monotonic reads' finding).
 *   writes_follow_reads: if c observed the value of w (on k) and later
 *     wrote w2 (on k'), then a replica that holds w2 holds w. Observed
 *     violation: a client o observed w2, and later observed k with a value
 *     older than w (nil, or w' < w), not already explained by o's own
 *     monotonic reads or read-your-writes.
 *
 * Only one step of influence is followed (c's own write or read, then
 * c's write w2, then o): longer chains through several clients are the
 * causal checker's (causal.c), which judges causality instead of real time.
 * The two differ: a read of a value whose write completed before the
 * client's own write but is causally unrelated to it breaks
 * read_your_writes as checked here (A2), not causal consistency.
 *
 * A verdict's evidence is the first violation by the time its last read
 * completed: 2 to 7 operations. Everything runs in O(n C log n) for n
 * operations and C clients. Key-value histories (get/put/append) are
 * skipped: their values are strings built by appends, not single writes. */
#include "checker.h"
#include "sort.h"
#include "alloc.h"
#include "linearizable.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SRC_NOT (-1)     /* not an observation */
#define SRC_INIT (-2)    /* observed nil: the initial version */
#define SRC_NONE (-3)    /* a value that no ok or info write wrote */
#define SRC_AMBIG (-4)   /* a value written more than once */

enum sg_kind { SG_RYW, SG_MR, SG_MW, SG_WFR, SG_N };

/* One violation: the operations that show it, in the order of the story. */
struct sg_find {
    bool found;
    int64_t at;            /* completion position of the read that shows it */
    int n_ops;
    long ops[8];
    const char *roles[8];
    long read;             /* the read that shows it */
    long source;           /* what that read saw: a write, or SRC_INIT */
    long w1, w2, r2;       /* MW/WFR: the older and newer write, o's read of w2;
                            * MR: w2 = the newer write, r2 its read; RYW: w1 own write */
    long local;            /* MW/WFR: the observer's RYW or MR violation nearest */
    int local_kind;        /* to the read (SG_RYW or SG_MR), or -1 */
};

/* A sort key: lexicographic over (a, b, c, i). */
struct sk {
    int32_t a, b, c;
    long i;
    long best;             /* per position: prefix best of the run, see below */
};

struct sg {
    const hist *h;
    size_t n, n_keys, n_clients;
    int *key_of;           /* per op: dense key */
    int *client_of;        /* per op: dense client */
    long *src;             /* per op: SRC_* or the write whose value it observed */
    int64_t *known;        /* per write: position by which it had taken effect */
    long *known_by;        /* the read that showed it first, or -1 (its own ok) */
    struct sk *wr;         /* ok writes by (client, key, index) */
    size_t n_wr;
    struct sk *ob;         /* observations of writes by (client, key, index);
                            * best: the one in the run so far whose write is latest */
    size_t n_ob;
    size_t n_obs, n_init, n_ambig, n_none;
    struct sg_find first[SG_N];        /* violations */
    struct sg_find confounded[SG_N];   /* MW/WFR seen by a client whose reads went back */
};

/* ==== the facts ============================================================ */

static bool is_write(const struct hist_op *op)
{
    return (op->f == HIST_WRITE || op->f == HIST_CAS) && op->type != HIST_FAIL;
}

static int cmp_sk(const void *x, const void *y)
{
    const struct sk *a = x, *b = y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    if (a->b != b->b)
        return a->b < b->b ? -1 : 1;
    if (a->c != b->c)
        return a->c < b->c ? -1 : 1;
    return (a->i > b->i) - (a->i < b->i);
}

/* The last position in s[0..n) whose (a, b, c) is (A, B, C) and whose i is
 * below I; -1 if none. */
static long sk_last_below(const struct sk *s, size_t n, int32_t A, int32_t B, int32_t C, long I)
{
    struct sk probe = { A, B, C, I, 0 };
    size_t lo = 0, hi = n;   /* first position not below probe */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_sk(&s[mid], &probe) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const struct sk *p = &s[lo - 1];
    return p->a == A && p->b == B && p->c == C ? (long)lo - 1 : -1;
}

/* Write s (or the initial version) is definitely older than write w (A2). */
static bool older(const struct sg *g, long s, long w)
{
    if (s == SRC_INIT)
        return true;
    return g->known[s] < hist_op(g->h, (size_t)w)->invoke_pos;
}

/* Value (key, value, op) triples of every ok or info write, for lookups. */
struct wv {
    int32_t key;
    int64_t value;
    long op;
};

static int cmp_wv(const void *x, const void *y)
{
    const struct wv *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    return (a->op > b->op) - (a->op < b->op);
}

static long find_source(const struct wv *w, size_t n, int32_t key, int64_t value)
{
    if (value == HIST_NIL)
        return SRC_INIT;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].key < key || (w[mid].key == key && w[mid].value < value))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == n || w[lo].key != key || w[lo].value != value)
        return SRC_NONE;
    if (lo + 1 < n && w[lo + 1].key == key && w[lo + 1].value == value)
        return SRC_AMBIG;
    return w[lo].op;
}

static void sg_free(struct sg *g)
{
    sim_free(g->key_of);
    sim_free(g->client_of);
    sim_free(g->src);
    sim_free(g->known);
    sim_free(g->known_by);
    sim_free(g->wr);
    sim_free(g->ob);
    memset(g, 0, sizeof *g);
}

/* Dense numbers for keys and clients, every observation's source, when each
 * write had taken effect, and the sorted indexes. 0 or HIST_ENOMEM. */
static int sg_facts(struct sg *g, const hist *h)
{
    memset(g, 0, sizeof *g);
    g->h = h;
    g->n = hist_count(h);
    size_t n = g->n, n_str = hist_n_strings(h);
    int *dense_key = sim_malloc((n_str + 1) * sizeof *dense_key);
    int *dense_client = sim_malloc((n_str + 1) * sizeof *dense_client);
    struct wv *wv = sim_malloc((n + 1) * sizeof *wv);
    g->key_of = sim_malloc((n + 1) * sizeof *g->key_of);
    g->client_of = sim_malloc((n + 1) * sizeof *g->client_of);
    g->src = sim_malloc((n + 1) * sizeof *g->src);
    g->known = sim_malloc((n + 1) * sizeof *g->known);
    g->known_by = sim_malloc((n + 1) * sizeof *g->known_by);
    g->wr = sim_malloc((n + 1) * sizeof *g->wr);
    g->ob = sim_malloc((n + 1) * sizeof *g->ob);
    if (!dense_key || !dense_client || !wv || !g->key_of || !g->client_of || !g->src ||
        !g->known || !g->known_by || !g->wr || !g->ob)
        goto fail;
    for (size_t i = 0; i <= n_str; i++)
        dense_key[i] = dense_client[i] = -1;
    size_t n_wv = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (dense_key[op->key] < 0)
            dense_key[op->key] = (int)g->n_keys++;
        if (dense_client[op->process] < 0)
            dense_client[op->process] = (int)g->n_clients++;
        g->key_of[i] = dense_key[op->key];
        g->client_of[i] = dense_client[op->process];
        g->known[i] = is_write(op) && op->type == HIST_OK ? op->complete_pos : HIST_NEVER;
        g->known_by[i] = -1;
        if (is_write(op) && hist_written(op) != HIST_NIL)
            wv[n_wv++] = (struct wv){ op->key, hist_written(op), (long)i };
    }
    sim_qsort(wv, n_wv, sizeof *wv, cmp_wv);
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        g->src[i] = SRC_NOT;
        if (!hist_observes(op))
            continue;
        long s = find_source(wv, n_wv, op->key, hist_observed(op));
        g->src[i] = s;
        g->n_obs++;
        g->n_init += s == SRC_INIT;
        g->n_ambig += s == SRC_AMBIG;
        g->n_none += s == SRC_NONE;
        /* a read that returned s's value shows s had taken effect, unless it
         * ended before s even began (then it proves nothing about time) */
        if (s >= 0 && op->complete_pos > hist_op(h, (size_t)s)->invoke_pos &&
            op->complete_pos < g->known[s]) {
            g->known[s] = op->complete_pos;
            g->known_by[s] = (long)i;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (is_write(op) && op->type == HIST_OK)
            g->wr[g->n_wr++] = (struct sk){ g->client_of[i], g->key_of[i], 0, (long)i, -1 };
        if (g->src[i] >= 0) {
            g->ob[g->n_ob++] = (struct sk){ g->client_of[i], g->key_of[i], 0, (long)i, -1 };
        }
    }
    sim_qsort(g->wr, g->n_wr, sizeof *g->wr, cmp_sk);
    sim_qsort(g->ob, g->n_ob, sizeof *g->ob, cmp_sk);
    /* prefix best: the observation, in its run so far, of the latest write */
    for (size_t i = 0; i < g->n_ob; i++) {
        struct sk *p = &g->ob[i];
        p->best = p->i;
        if (i > 0 && p[-1].a == p->a && p[-1].b == p->b && g->src[p[-1].best] > g->src[p->i])
            p->best = p[-1].best;
    }
    sim_free(dense_key);
    sim_free(dense_client);
    sim_free(wv);
    return 0;
fail:
    sim_free(dense_key);
    sim_free(dense_client);
    sim_free(wv);
    sg_free(g);
    return HIST_ENOMEM;
}

/* ==== the search =========================================================== */

static void keep(struct sg_find *best, const struct sg_find *f)
{
    if (!best->found || f->at < best->at)
        *best = *f;
}

static void add_op(struct sg_find *f, long op, const char *role)
{
    if (op >= 0 && f->n_ops < 8) {
        f->ops[f->n_ops] = op;
        f->roles[f->n_ops++] = role;
    }
}

/* The write's value was known to have taken effect through a read: show it. */
static void add_source(const struct sg *g, struct sg_find *f, long s, const char *role)
{
    if (s < 0)
        return;
    add_op(f, s, role);
    if (g->known_by[s] >= 0)
        add_op(f, g->known_by[s], "the read that shows that write had taken effect");
}

/* Per-client state of the walk, reset between clients. */
struct walk {
    long *own;        /* per key: the client's last ok write */
    long *obs;        /* per key: its observation of the latest write */
    long *seen_w;     /* per writer client: the latest write of it observed */
    long *seen_r;     /* ... and the observation */
    int *writers;     /* writer clients seen so far */
    size_t n_writers;
};

static void walk_client(struct sg *g, struct walk *st, const long *ops, size_t n_ops)
{
    const hist *h = g->h;
    struct sg_find mw = { 0 }, wfr = { 0 };
    long before = -1, after = -1;   /* local violations around the first MW/WFR finding */
    int before_kind = -1, after_kind = -1, kind = -1;
    for (size_t j = 0; j < n_ops; j++) {
        long r = ops[j];
        const struct hist_op *op = hist_op(h, (size_t)r);
        int k = g->key_of[r];
        long s = g->src[r];
        if (s >= 0 || s == SRC_INIT) {
            bool is_local = false;
            long w = st->own[k];
            if (w >= 0 && s != w && hist_op(h, (size_t)w)->complete_pos < op->invoke_pos &&
                older(g, s, w)) {
                struct sg_find f = { .found = true, .at = op->complete_pos, .read = r, .source = s,
                                     .w1 = w, .w2 = -1, .r2 = -1, .local = -1 };
                add_op(&f, w, "the client's own write, completed");
                add_source(g, &f, s, "the older write it saw instead");
                add_op(&f, r, "the read");
                keep(&g->first[SG_RYW], &f);
                is_local = true;
                kind = SG_RYW;
            }
            long r1 = st->obs[k];
            if (r1 >= 0 && s != g->src[r1] && older(g, s, g->src[r1])) {
                struct sg_find f = { .found = true, .at = op->complete_pos, .read = r, .source = s,
                                     .w1 = -1, .w2 = g->src[r1], .r2 = r1, .local = -1 };
                add_op(&f, g->src[r1], "the newer write");
                add_op(&f, r1, "the client's earlier read of it");
                add_source(g, &f, s, "the older write");
                add_op(&f, r, "the later read, of the older value");
                keep(&g->first[SG_MR], &f);
                is_local = true;
                kind = SG_MR;
            }
            if (is_local && !mw.found && !wfr.found) {
                before = r;
                before_kind = kind;
            } else if (is_local && after < 0) {
                after = r;
                after_kind = kind;
            }
            if (!is_local) {
                /* one step back from every write this client has seen */
                for (size_t q = 0; q < st->n_writers; q++) {
                    int c = st->writers[q];
                    long w2 = st->seen_w[c], r2 = st->seen_r[c];
                    long p = sk_last_below(g->wr, g->n_wr, c, k, 0, w2);
                    long w1 = p >= 0 ? g->wr[p].i : -1;
                    if (!mw.found && w1 >= 0 && s != w1 && older(g, s, w1)) {
                        struct sg_find f = { .found = true, .at = op->complete_pos, .read = r,
                                             .source = s, .w1 = w1, .w2 = w2, .r2 = r2 };
                        add_op(&f, w1, "the first write");
                        add_op(&f, w2, "the same client's second write");
                        add_op(&f, r2, "a read of the second write");
                        add_source(g, &f, s, "the write older than the first");
                        add_op(&f, r, "a later read that misses the first write");
                        mw = f;
                    }
                    p = sk_last_below(g->ob, g->n_ob, c, k, 0, w2);
                    long rc = p >= 0 ? g->ob[p].best : -1;
                    long v = rc >= 0 ? g->src[rc] : -1;
                    if (!wfr.found && v >= 0 && s != v && older(g, s, v)) {
                        struct sg_find f = { .found = true, .at = op->complete_pos, .read = r,
                                             .source = s, .w1 = v, .w2 = w2, .r2 = r2 };
                        add_op(&f, v, "the write read first");
                        add_op(&f, rc, "its read, by the writer of the second write");
                        add_op(&f, w2, "the write that follows that read");
                        add_op(&f, r2, "a read of that write");
                        add_source(g, &f, s, "the write older than the one read first");
                        add_op(&f, r, "a later read that misses the write read first");
                        wfr = f;
                    }
                }
            }
            if (s >= 0) {
                long cur = st->obs[k];
                if (cur < 0 || s > g->src[cur])
                    st->obs[k] = r;
                int c = g->client_of[s];
                if (st->seen_w[c] < 0)
                    st->writers[st->n_writers++] = c;
                if (s > st->seen_w[c]) {
                    st->seen_w[c] = s;
                    st->seen_r[c] = r;
                }
            }
        }
        if (is_write(op) && op->type == HIST_OK)
            st->own[k] = r;
    }
    /* the client's reads went back somewhere: show the time nearest the finding */
    struct sg_find *found[2] = { &mw, &wfr };
    for (int i = 0; i < 2; i++) {
        struct sg_find *f = found[i];
        if (!f->found)
            continue;
        f->local = before;
        f->local_kind = before_kind;
        if (after >= 0 && (before < 0 || after - f->read < f->read - before)) {
            f->local = after;
            f->local_kind = after_kind;
        }
        keep(f->local < 0 ? &g->first[i ? SG_WFR : SG_MW] : &g->confounded[i ? SG_WFR : SG_MW], f);
    }
}

/* Walk every client's session. 0 or HIST_ENOMEM. */
static int sg_search(struct sg *g)
{
    size_t n = g->n, nc = g->n_clients, nk = g->n_keys;
    long *start = sim_calloc(nc + 2, sizeof *start);
    long *order = sim_malloc((n + 1) * sizeof *order);
    struct walk st = { 0 };
    st.own = sim_malloc((nk + 1) * sizeof *st.own);
    st.obs = sim_malloc((nk + 1) * sizeof *st.obs);
    st.seen_w = sim_malloc((nc + 1) * sizeof *st.seen_w);
    st.seen_r = sim_malloc((nc + 1) * sizeof *st.seen_r);
    st.writers = sim_malloc((nc + 1) * sizeof *st.writers);
    int rc = HIST_ENOMEM;
    if (!start || !order || !st.own || !st.obs || !st.seen_w || !st.seen_r || !st.writers)
        goto out;
    /* sessions: each client's operations in invocation (= index) order */
    for (size_t i = 0; i < n; i++)
        start[g->client_of[i] + 1]++;
    for (size_t c = 0; c < nc; c++)
        start[c + 1] += start[c];
    long *cursor = sim_malloc((nc + 1) * sizeof *cursor);
    if (!cursor)
        goto out;
    memcpy(cursor, start, nc * sizeof *cursor);
    for (size_t i = 0; i < n; i++)
        order[cursor[g->client_of[i]]++] = (long)i;
    sim_free(cursor);
    for (size_t k = 0; k < nk; k++)
        st.own[k] = st.obs[k] = -1;
    for (size_t c = 0; c < nc; c++)
        st.seen_w[c] = st.seen_r[c] = -1;
    for (size_t c = 0; c < nc; c++) {
        const long *ops = order + start[c];
        size_t n_ops = (size_t)(start[c + 1] - start[c]);
        walk_client(g, &st, ops, n_ops);
        for (size_t j = 0; j < n_ops; j++)
            st.own[g->key_of[ops[j]]] = st.obs[g->key_of[ops[j]]] = -1;
        for (size_t q = 0; q < st.n_writers; q++)
            st.seen_w[st.writers[q]] = st.seen_r[st.writers[q]] = -1;
        st.n_writers = 0;
    }
    rc = 0;
out:
    sim_free(start);
    sim_free(order);
    sim_free(st.own);
    sim_free(st.obs);
    sim_free(st.seen_w);
    sim_free(st.seen_r);
    sim_free(st.writers);
    return rc;
}

/* ==== saying it ============================================================= */

struct words {
    char buf[32][160];
    int next;
};

/* A scratch string that lives as long as the struct words (32 at a time:
 * enough for the longest sentence). */
static char *scratch(struct words *w)
{
    return w->buf[w->next++ & 31];
}

static const char *who(const struct sg *g, struct words *w, long op)
{
    return hist_process_label(g->h, hist_op(g->h, (size_t)op)->process, scratch(w), 160);
}

/* "x=5", or "5" for a register without a name (Jepsen's single register). */
static const char *kv(const struct sg *g, struct words *w, long op, int64_t v)
{
    const char *key = hist_str(g->h, hist_op(g->h, (size_t)op)->key);
    char val[64];
    lin_format_value(g->h, v, val, sizeof val);
    char *b = scratch(w);
    check_say(b, 160, "%s%s%s", key, *key ? "=" : "", val);
    return b;
}

static const char *at(const struct sg *g, struct words *w, int64_t t)
{
    return lin_format_time(g->h, t, scratch(w), 160);
}

/* "read x=3" or "found x=3 (its cas x 3->4 succeeded)". */
static const char *saw(const struct sg *g, struct words *w, long r)
{
    const struct hist_op *op = hist_op(g->h, (size_t)r);
    char *b = scratch(w);
    const char *what = kv(g, w, r, hist_observed(op));
    if (op->f == HIST_CAS)
        check_say(b, 160, "found %s (a successful cas)", what);
    else
        check_say(b, 160, "read %s", what);
    return b;
}

static const char *wrote(const struct sg *g, struct words *w, long op)
{
    return kv(g, w, op, hist_written(hist_op(g->h, (size_t)op)));
}

/* Why write s is definitely older than write w: "c1's write of x=3 had
 * completed at 8.1 ms, before c2's write of x=5 began at 9.0 ms". */
static void why_older(const struct sg *g, char *buf, size_t n, long s, long w)
{
    struct words ws;
    ws.next = 0;
    const struct hist_op *wo = hist_op(g->h, (size_t)w);
    if (s == SRC_INIT) {
        check_say(buf, n, "nil means never written");
        return;
    }
    if (g->known_by[s] < 0)
        check_say(buf, n, "%s's write of %s had completed at %s, before %s's write of %s began at %s",
            who(g, &ws, s), wrote(g, &ws, s), at(g, &ws, hist_op(g->h, (size_t)s)->complete_t),
            who(g, &ws, w), wrote(g, &ws, w), at(g, &ws, wo->invoke_t));
    else
        check_say(buf, n,
            "%s's write of %s (%s) had taken effect by %s, when %s's read of it ended, "
            "before %s's write of %s began at %s",
            who(g, &ws, s), wrote(g, &ws, s),
            hist_op(g->h, (size_t)s)->type == HIST_OK ? "still running" : "never answered",
            at(g, &ws, hist_op(g->h, (size_t)g->known_by[s])->complete_t),
            who(g, &ws, g->known_by[s]), who(g, &ws, w), wrote(g, &ws, w), at(g, &ws, wo->invoke_t));
}

static const char *const kind_name[SG_N] = {
    "read-your-writes", "monotonic reads", "monotonic writes", "writes follow reads",
};

static void say_reason(const struct sg *g, const struct sg_find *f, enum sg_kind kind, bool confounded,
                       char *out, size_t n)
{
    struct words ws;
    ws.next = 0;
    const hist *h = g->h;
    const struct hist_op *r = hist_op(h, (size_t)f->read);
    char older_txt[600];
    switch (kind) {
    case SG_RYW:
        why_older(g, older_txt, sizeof older_txt, f->source, f->w1);
        check_say(out, n, "%s wrote %s at %s and then %s at %s, but %s: %s did not see its own write",
            who(g, &ws, f->w1), wrote(g, &ws, f->w1), at(g, &ws, hist_op(h, (size_t)f->w1)->complete_t),
            saw(g, &ws, f->read), at(g, &ws, r->complete_t), older_txt, who(g, &ws, f->read));
        return;
    case SG_MR:
        why_older(g, older_txt, sizeof older_txt, f->source, f->w2);
        check_say(out, n, "%s %s at %s and then %s at %s, but %s: %s's reads went back in time",
            who(g, &ws, f->r2), saw(g, &ws, f->r2), at(g, &ws, hist_op(h, (size_t)f->r2)->complete_t),
            saw(g, &ws, f->read), at(g, &ws, r->complete_t), older_txt, who(g, &ws, f->read));
        return;
    default:
        break;
    }
    char story[900], tail[400];
    const char *obs = who(g, &ws, f->read);
    const char *writer = who(g, &ws, f->w2);
    if (f->source == SRC_INIT)
        check_say(older_txt, sizeof older_txt, "nil: never written");
    else {
        char why[500];
        why_older(g, why, sizeof why, f->source, f->w1);
        check_say(older_txt, sizeof older_txt, "older than %s: %s", wrote(g, &ws, f->w1), why);
    }
    if (kind == SG_MW)
        check_say(story, sizeof story,
            "%s wrote %s and then %s; %s %s at %s and then %s at %s (%s): %s saw %s's second "
            "write without its first",
            writer, wrote(g, &ws, f->w1), wrote(g, &ws, f->w2), obs, saw(g, &ws, f->r2),
            at(g, &ws, hist_op(h, (size_t)f->r2)->complete_t), saw(g, &ws, f->read),
            at(g, &ws, r->complete_t), older_txt, obs, writer);
    else
        check_say(story, sizeof story,
            "%s read %s and then wrote %s; %s %s at %s and then %s at %s (%s): %s saw %s's "
            "write without the write %s had read before making it",
            writer, wrote(g, &ws, f->w1), wrote(g, &ws, f->w2), obs, saw(g, &ws, f->r2),
            at(g, &ws, hist_op(h, (size_t)f->r2)->complete_t), saw(g, &ws, f->read),
            at(g, &ws, r->complete_t), older_txt, obs, writer, writer);
    if (confounded)
        check_say(tail, sizeof tail,
            "; but %s's own reads went back in time too (its %s at %s broke %s), so a "
            "replica lagging behind may explain this as well",
            obs, saw(g, &ws, f->local), at(g, &ws, hist_op(h, (size_t)f->local)->complete_t),
            kind_name[f->local_kind]);
    else
        check_say(tail, sizeof tail,
            " (%s's reads never went back in time on any one key, so it is taken to have kept "
            "what it had seen)",
            obs);
    check_say(out, n, "%s%s", story, tail);
}

static void evidence_op(const struct sg *g, struct check_result *out, long i, const char *role)
{
    const hist *h = g->h;
    const struct hist_op *op = hist_op(h, (size_t)i);
    jw *j = &out->evidence;
    char what[256], t1[32], t2[32];
    jw_obj(j);
    jw_kstr(j, "role", role);
    jw_kint(j, "op", op->id);
    jw_kstr(j, "process", hist_str(h, op->process));
    jw_kstr(j, "f", hist_f_name((enum hist_f)op->f));
    jw_kstr(j, "key", hist_str(h, op->key));
    jw_kstr(j, "type", hist_type_name((enum hist_type)op->type));
    jw_key(j, "value");
    int64_t v = op->f == HIST_READ ? op->out : op->arg;
    if (op->f == HIST_CAS) {
        jw_arr(j);
        if (op->arg == HIST_NIL)
            jw_null(j);
        else
            jw_int(j, op->arg);
        jw_int(j, op->arg2);
        jw_arr_end(j);
    } else if (v == HIST_NIL)
        jw_null(j);
    else
        jw_int(j, v);
    jw_kint(j, "invoke", op->invoke_t);
    jw_key(j, "complete");
    if (op->open)
        jw_null(j);
    else
        jw_int(j, op->complete_t);
    jw_kint(j, "invoke_line", op->invoke_line);
    jw_kint(j, "complete_line", op->complete_line);
    jw_kstr(j, "text", lin_describe_op(h, op, what, sizeof what));
    jw_obj_end(j);
    lin_format_time(h, op->invoke_t, t1, sizeof t1);
    if (op->open)
        check_say(t2, sizeof t2, "no answer");
    else
        lin_format_time(h, op->complete_t, t2, sizeof t2);
    check_text(out, "%6" PRId64 "  %-22s %-5s %10s to %-10s %s", op->id, what,
               hist_type_name((enum hist_type)op->type), t1, t2, role);
}

static int run_kind(const struct check_input *in, struct check_result *out, enum sg_kind kind)
{
    const hist *h = in->h;
    if (hist_model(h) != HIST_REGISTER) {
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
            "%s is checked on register histories (read, write, cas); this one is key-value "
            "(get, put, append), whose values are built by appends, not single writes",
            kind_name[kind]);
        return 0;
    }
    struct sg g;
    if (sg_facts(&g, h) != 0)
        return HIST_ENOMEM;
    if (sg_search(&g) != 0) {
        sg_free(&g);
        return HIST_ENOMEM;
    }
    const struct sg_find *f = NULL;
    bool confounded = false;
    if (g.first[kind].found)
        f = &g.first[kind];
    else if (g.confounded[kind].found) {
        f = &g.confounded[kind];
        confounded = true;
    }
    jw *j = &out->evidence;
    jw_obj(j);
    jw_kint(j, "observations", (int64_t)g.n_obs);
    jw_kint(j, "clients", (int64_t)g.n_clients);
    jw_kint(j, "keys", (int64_t)g.n_keys);
    jw_kint(j, "repeated_values", (int64_t)g.n_ambig);
    jw_kint(j, "never_written", (int64_t)g.n_none);
    jw_key(j, "violation");
    if (f) {
        char who_buf[64];
        const struct hist_op *r = hist_op(h, (size_t)f->read);
        out->verdict = confounded ? CHECK_UNKNOWN : CHECK_VIOLATED;
        say_reason(&g, f, kind, confounded, out->reason, sizeof out->reason);
        jw_obj(j);
        jw_kstr(j, "client", hist_str(h, r->process));
        jw_kstr(j, "key", hist_str(h, r->key));
        if (kind == SG_MW || kind == SG_WFR)
            jw_kbool(j, "observer_reads_monotonic", !confounded);
        check_text(out, "%s seen by %s on key %s:", kind_name[kind],
                   hist_process_label(h, r->process, who_buf, sizeof who_buf),
                   *hist_str(h, r->key) ? hist_str(h, r->key) : "(the register)");
        check_text(out, "%6s  %-22s %-5s %10s    %-10s %s", "op", "operation", "type", "invoked",
                   "completed", "role");
        jw_key(j, "operations");
        jw_arr(j);
        for (int i = 0; i < f->n_ops; i++)
            evidence_op(&g, out, f->ops[i], f->roles[i]);
        if (confounded)
            evidence_op(&g, out, f->local, "the observer's own read that went back in time");
        jw_arr_end(j);
        jw_obj_end(j);
    } else {
        jw_null(j);
        if (g.n_ambig > 0) {
            out->verdict = CHECK_UNKNOWN;
            check_say(out->reason, sizeof out->reason,
                "no violation of %s among the reads that can be judged, but %zu of %zu reads "
                "returned a value written more than once, so which write they saw is unknown",
                kind_name[kind], g.n_ambig, g.n_obs);
        } else {
            out->verdict = CHECK_HOLDS;
            check_say(out->reason, sizeof out->reason,
                "no client's reads break %s (%zu reads by %zu client%s on %zu key%s)",
                kind_name[kind], g.n_obs, g.n_clients, g.n_clients == 1 ? "" : "s", g.n_keys,
                g.n_keys == 1 ? "" : "s");
        }
    }
    if (g.n_none > 0)
        check_text(out, "%zu read%s returned a value no write wrote: not judged here (see causal)",
                   g.n_none, g.n_none == 1 ? "" : "s");
    jw_obj_end(j);
    sg_free(&g);
    return 0;
}

static int run_ryw(const struct check_input *in, struct check_result *out)
{
    return run_kind(in, out, SG_RYW);
}

static int run_mr(const struct check_input *in, struct check_result *out)
{
    return run_kind(in, out, SG_MR);
}

static int run_mw(const struct check_input *in, struct check_result *out)
{
    return run_kind(in, out, SG_MW);
}

static int run_wfr(const struct check_input *in, struct check_result *out)
{
    return run_kind(in, out, SG_WFR);
}

const struct checker read_your_writes_checker = {
    "read_your_writes",
    "each client sees its own completed writes: no later read of the key returns nil or an "
    "older value (older: completed before the client's write began)",
    false, run_ryw, false,
};

const struct checker monotonic_reads_checker = {
    "monotonic_reads",
    "a client's reads of a key never go back: none returns a value older than one it has already read",
    false, run_mr, false,
};

const struct checker monotonic_writes_checker = {
    "monotonic_writes",
    "a client's writes are applied in its order: nobody who saw its later write then sees "
    "the key of an earlier one older than that write",
    false, run_mw, false,
};

const struct checker writes_follow_reads_checker = {
    "writes_follow_reads",
    "a write comes after what its client had read: nobody who saw it then sees an older "
    "value of what the writer had read",
    false, run_wfr, false,
};
