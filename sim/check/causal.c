/* causal: causal consistency of register histories, by the "bad patterns"
 * of Bouajjani, Enea, Guerraoui and Hamza ("On Verifying Causal
 * Consistency", POPL 2017).
 *
 * Happens-before (their causal order, co) is the transitive closure of
 *   - session order: each client's operations, in the order it invoked
 *     them (a client runs one operation at a time), and
 *   - reads-from: a write happens before every read that returns its value
 *     (values are distinct per key, see below).
 * Real time plays no part: a write that completed long before a read began
 * but is not causally related to it may be missed. So a history can be
 * causal and not linearizable (c1 writes x=1; later c2 reads x=nil).
 *
 * For histories whose written values are distinct per key ("differentiated"),
 * a history is causally consistent (their CC) exactly when none of these
 * patterns occurs; this checker looks for all four:
 *   CyclicCO         happens-before has a cycle (e.g. a read returns the
 *                    value of a write its own client makes only later);
 *   ThinAirRead      a read returns a value no write wrote;
 *   WriteCOInitRead  a read returns nil (never written) though a write of
 *                    that key happens before it;
 *   WriteCORead      a read returns the value of write w1, though another
 *                    write w2 of the same key has w1 -> w2 -> the read: the
 *                    read missed a write causally newer than what it saw.
 * The stronger variants are not checked: causal memory (CM: WriteHBInitRead,
 * CyclicHB) and causal convergence (CCv: CyclicCF, which needs one order of
 * conflicting writes that every client agrees on).
 *
 * What the history's outcomes mean here:
 *   - a failed write or cas did not take effect: it is left out, and a read
 *     of its value is a ThinAirRead; a read that failed or never answered
 *     saw nothing and is left out;
 *   - an info (indeterminate) write or cas may take effect at any time after
 *     its invocation, so it is concurrent with its client's later
 *     operations: it follows what its client did before it, but its only
 *     way out is reads-from. It counts as a write another read missed only
 *     if some read returned its value (then it did take effect);
 *   - a successful cas reads its expected value and writes its new one;
 *   - a read of a value written more than once cannot say which write it
 *     saw: it adds no edge and is not judged; if there are such reads and
 *     nothing else is found, the verdict is unknown.
 * With info operations, failed ones and cas in the history, the check stays
 * sound (every violation it reports is one) but may miss some.
 *
 * Complexity: happens-before is kept as a vector clock per operation (for
 * each client, the latest of its operations that happens before this one),
 * computed in one topological pass; then one test per read and client, with
 * a binary search: O(n C log n) time and n C integers for n operations and C
 * clients. A cycle is found by walking predecessors; evidence paths by a
 * breadth-first search that counts only reads-from steps (0-1 BFS). */
#include "checker.h"
#include "alloc.h"
#include "linearizable.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The vector clocks are n x C int32: past this many, the verdict is unknown. */
#define CAUSAL_MAX_CELLS ((size_t)1 << 25)

#define SRC_NOT (-1)     /* not an observation */
#define SRC_INIT (-2)    /* observed nil */
#define SRC_NONE (-3)    /* a value no ok or info write wrote */
#define SRC_AMBIG (-4)   /* a value written more than once */

enum pattern { P_NONE, P_CYCLIC_CO, P_THIN_AIR, P_WRITE_CO_INIT_READ, P_WRITE_CO_READ };

static const char *const pattern_name[] = {
    "", "CyclicCO", "ThinAirRead", "WriteCOInitRead", "WriteCORead",
};

struct cwv {              /* (key, value) -> write, for lookups */
    int32_t key;
    int64_t value;
    long op;
};

struct cpos {             /* a solid write's place: (client, key, position) */
    int32_t client, key;
    int32_t pos;
    long op;
};

struct cc {
    const hist *h;
    size_t n, n_clients;
    bool *in;              /* per op: part of the graph */
    bool *solid;           /* per op: in, and not info (has session successors) */
    int *client_of;
    int32_t *pos;          /* solid: position among its client's solid ops */
    long *pred;            /* in: the last solid op of its client before it, or -1 */
    long *next;            /* solid: the next solid op of its client, or -1 */
    long *src;             /* per op: SRC_* or the write it read from */
    bool *effective;       /* writes: took effect (ok, or someone read it) */
    long *rd_start;        /* readers of each write: rd[rd_start[w] .. rd_start[w+1]) */
    long *rd;
    long *info_start;      /* key-dense list of effective info writes */
    long *info;
    int *key_dense;
    size_t n_keys;
    struct cpos *wpos;     /* solid effective writes by (client, key, pos) */
    size_t n_wpos;
    struct cwv *failed;    /* failed writes by (key, value), for ThinAirRead */
    size_t n_failed;
    int32_t *vc;           /* per solid op: n_clients entries */
    size_t n_obs, n_ambig;
};

/* ==== the graph ============================================================ */

static bool is_write(const struct hist_op *op)
{
    return op->f == HIST_WRITE || op->f == HIST_CAS;
}

static int64_t written(const struct hist_op *op)
{
    return op->f == HIST_CAS ? op->arg2 : op->arg;
}

static bool is_obs(const struct hist_op *op)
{
    return op->type == HIST_OK && (op->f == HIST_READ || op->f == HIST_CAS);
}

static int64_t observed(const struct hist_op *op)
{
    return op->f == HIST_CAS ? op->arg : op->out;
}

static int cmp_cwv(const void *x, const void *y)
{
    const struct cwv *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->value != b->value)
        return a->value < b->value ? -1 : 1;
    return (a->op > b->op) - (a->op < b->op);
}

static int cmp_cpos(const void *x, const void *y)
{
    const struct cpos *a = x, *b = y;
    if (a->client != b->client)
        return a->client < b->client ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->pos > b->pos) - (a->pos < b->pos);
}

/* First index in w[0..n) with (key, value) >= the given, and how many match. */
static size_t cwv_find(const struct cwv *w, size_t n, int32_t key, int64_t value, size_t *count)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].key < key || (w[mid].key == key && w[mid].value < value))
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t k = lo;
    while (k < n && w[k].key == key && w[k].value == value)
        k++;
    *count = k - lo;
    return lo;
}

/* The last solid effective write of client c on dense key k at a position
 * <= bound, or -1. */
static long last_write(const struct cc *g, int32_t c, int32_t k, int32_t bound)
{
    if (bound < 0)
        return -1;
    struct cpos probe = { c, k, bound, 0 };
    size_t lo = 0, hi = g->n_wpos;   /* first position > probe */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_cpos(&g->wpos[mid], &probe) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return -1;
    const struct cpos *p = &g->wpos[lo - 1];
    return p->client == c && p->key == k ? p->op : -1;
}

/* The first solid effective write of client c on dense key k, or -1. */
static long first_write(const struct cc *g, int32_t c, int32_t k)
{
    struct cpos probe = { c, k, -1, 0 };
    size_t lo = 0, hi = g->n_wpos;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cmp_cpos(&g->wpos[mid], &probe) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == g->n_wpos)
        return -1;
    const struct cpos *p = &g->wpos[lo];
    return p->client == c && p->key == k ? p->op : -1;
}

static void cc_free(struct cc *g)
{
    sim_free(g->in);
    sim_free(g->solid);
    sim_free(g->client_of);
    sim_free(g->pos);
    sim_free(g->pred);
    sim_free(g->next);
    sim_free(g->src);
    sim_free(g->effective);
    sim_free(g->rd_start);
    sim_free(g->rd);
    sim_free(g->info_start);
    sim_free(g->info);
    sim_free(g->key_dense);
    sim_free(g->wpos);
    sim_free(g->failed);
    sim_free(g->vc);
    memset(g, 0, sizeof *g);
}

/* Build the graph: which operations take part, sessions, reads-from. */
static int cc_build(struct cc *g, const hist *h)
{
    memset(g, 0, sizeof *g);
    g->h = h;
    size_t n = g->n = hist_count(h), n_str = hist_n_strings(h);
    int *dense_client = sim_malloc((n_str + 1) * sizeof *dense_client);
    long *last_solid = NULL;
    struct cwv *wv = sim_malloc((n + 1) * sizeof *wv);
    g->in = sim_calloc(n + 1, sizeof *g->in);
    g->solid = sim_calloc(n + 1, sizeof *g->solid);
    g->client_of = sim_malloc((n + 1) * sizeof *g->client_of);
    g->pos = sim_malloc((n + 1) * sizeof *g->pos);
    g->pred = sim_malloc((n + 1) * sizeof *g->pred);
    g->next = sim_malloc((n + 1) * sizeof *g->next);
    g->src = sim_malloc((n + 1) * sizeof *g->src);
    g->effective = sim_calloc(n + 1, sizeof *g->effective);
    g->rd_start = sim_calloc(n + 2, sizeof *g->rd_start);
    g->rd = sim_malloc((n + 1) * sizeof *g->rd);
    g->key_dense = sim_malloc((n_str + 1) * sizeof *g->key_dense);
    g->wpos = sim_malloc((n + 1) * sizeof *g->wpos);
    g->failed = sim_malloc((n + 1) * sizeof *g->failed);
    if (!dense_client || !wv || !g->in || !g->solid || !g->client_of || !g->pos || !g->pred ||
        !g->next || !g->src || !g->effective || !g->rd_start || !g->rd || !g->key_dense ||
        !g->wpos || !g->failed)
        goto fail;
    for (size_t i = 0; i <= n_str; i++)
        dense_client[i] = g->key_dense[i] = -1;
    size_t n_wv = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (dense_client[op->process] < 0)
            dense_client[op->process] = (int)g->n_clients++;
        if (g->key_dense[op->key] < 0)
            g->key_dense[op->key] = (int)g->n_keys++;
        g->client_of[i] = dense_client[op->process];
        bool read = op->f == HIST_READ;
        g->in[i] = op->type != HIST_FAIL && !(read && op->type != HIST_OK);
        g->solid[i] = g->in[i] && op->type == HIST_OK;
        if (is_write(op) && written(op) != HIST_NIL) {
            if (op->type == HIST_FAIL)
                g->failed[g->n_failed++] = (struct cwv){ op->key, written(op), (long)i };
            else
                wv[n_wv++] = (struct cwv){ op->key, written(op), (long)i };
        }
    }
    qsort(wv, n_wv, sizeof *wv, cmp_cwv);
    qsort(g->failed, g->n_failed, sizeof *g->failed, cmp_cwv);
    /* sessions */
    last_solid = sim_malloc((g->n_clients + 1) * sizeof *last_solid);
    int32_t *count = sim_calloc(g->n_clients + 1, sizeof *count);
    if (!last_solid || !count) {
        sim_free(count);
        goto fail;
    }
    for (size_t c = 0; c < g->n_clients; c++)
        last_solid[c] = -1;
    for (size_t i = 0; i < n; i++) {
        g->pos[i] = -1;
        g->next[i] = -1;
        g->pred[i] = -1;
        if (!g->in[i])
            continue;
        int c = g->client_of[i];
        g->pred[i] = last_solid[c];
        if (g->solid[i]) {
            if (last_solid[c] >= 0)
                g->next[last_solid[c]] = (long)i;
            last_solid[c] = (long)i;
            g->pos[i] = count[c]++;
        }
    }
    sim_free(count);
    /* reads-from */
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        g->src[i] = SRC_NOT;
        if (!is_obs(op))
            continue;
        g->n_obs++;
        int64_t v = observed(op);
        if (v == HIST_NIL) {
            g->src[i] = SRC_INIT;
            continue;
        }
        size_t cnt, at = cwv_find(wv, n_wv, op->key, v, &cnt);
        g->src[i] = cnt == 0 ? SRC_NONE : cnt > 1 ? SRC_AMBIG : wv[at].op;
        g->n_ambig += cnt > 1;
        if (cnt == 1) {
            g->effective[wv[at].op] = true;
            g->rd_start[wv[at].op + 1]++;
        }
    }
    for (size_t i = 0; i < n; i++)
        g->rd_start[i + 1] += g->rd_start[i];
    long *fill = sim_malloc((n + 1) * sizeof *fill);
    if (!fill)
        goto fail;
    memcpy(fill, g->rd_start, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        if (g->src[i] >= 0)
            g->rd[fill[g->src[i]]++] = (long)i;
    sim_free(fill);
    /* effective writes: solid ones by place, info ones by key */
    g->info_start = sim_calloc(g->n_keys + 2, sizeof *g->info_start);
    g->info = sim_malloc((n + 1) * sizeof *g->info);
    if (!g->info_start || !g->info)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (!g->in[i] || !is_write(op))
            continue;
        int k = g->key_dense[op->key];
        if (g->solid[i]) {
            g->effective[i] = true;
            g->wpos[g->n_wpos++] = (struct cpos){ g->client_of[i], k, g->pos[i], (long)i };
        } else if (g->effective[i])
            g->info_start[k + 1]++;
    }
    qsort(g->wpos, g->n_wpos, sizeof *g->wpos, cmp_cpos);
    for (size_t k = 0; k < g->n_keys; k++)
        g->info_start[k + 1] += g->info_start[k];
    fill = sim_malloc((g->n_keys + 1) * sizeof *fill);
    if (!fill)
        goto fail;
    memcpy(fill, g->info_start, (g->n_keys + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        if (g->in[i] && !g->solid[i] && is_write(hist_op(h, i)) && g->effective[i])
            g->info[fill[g->key_dense[hist_op(h, i)->key]]++] = (long)i;
    sim_free(fill);
    sim_free(dense_client);
    sim_free(last_solid);
    sim_free(wv);
    return 0;
fail:
    sim_free(dense_client);
    sim_free(last_solid);
    sim_free(wv);
    cc_free(g);
    return HIST_ENOMEM;
}

/* Predecessors of an operation in the graph: its session predecessor and the
 * write it read from. -1 when none. */
static void preds(const struct cc *g, long v, long out[2])
{
    out[0] = g->pred[v];
    out[1] = g->src[v] >= 0 ? g->src[v] : -1;
}

/* Successors, with their cost for the evidence search: 0 for session order,
 * 1 for reads-from. Calls fn for each. */
struct succ_it {
    const struct cc *g;
    long v;
    int stage;
    long k;
};

static bool succ_next(struct succ_it *it, long *to, int *cost)
{
    const struct cc *g = it->g;
    long v = it->v;
    for (;;) {
        switch (it->stage) {
        case 0:
            /* session successors: the next solid op and the info ops between */
            it->stage = 1;
            it->k = v + 1;
            if (!g->solid[v])
                it->stage = 2;
            continue;
        case 1:
            while (it->k < (long)g->n) {
                long k = it->k++;
                if (!g->in[k] || g->client_of[k] != g->client_of[v])
                    continue;
                if (g->pred[k] != v) {
                    it->stage = 2;
                    break;
                }
                *to = k;
                *cost = 0;
                if (g->solid[k])
                    it->stage = 2;
                return true;
            }
            it->stage = 2;
            continue;
        case 2:
            it->stage = 3;
            it->k = g->rd_start[v];
            continue;
        case 3:
            if (it->k < g->rd_start[v + 1]) {
                *to = g->rd[it->k++];
                *cost = 1;
                return true;
            }
            return false;
        default:
            return false;
        }
    }
}

/* A path from `from` to `to` (from == to: a cycle) with the fewest
 * reads-from steps. Writes the nodes, from first, into *out (allocated);
 * returns their number, 0 if none, -1 when out of memory. */
static long find_path(const struct cc *g, long from, long to, long **out)
{
    size_t n = g->n, cap = 3 * n + 4;
    long *dist = sim_malloc((n + 1) * sizeof *dist);
    long *parent = sim_malloc((n + 1) * sizeof *parent);
    long *dq = sim_malloc(cap * sizeof *dq);
    long len = -1;
    *out = NULL;
    if (!dist || !parent || !dq)
        goto out;
    for (size_t i = 0; i < n; i++) {
        dist[i] = LONG_MAX_DIST;
        parent[i] = -1;
    }
    size_t head = cap / 2, tail = cap / 2;   /* dq[head..tail) */
    struct succ_it it = { g, from, 0, 0 };
    long to_v;
    int cost;
    if (from == to) {
        while (succ_next(&it, &to_v, &cost))
            if (cost < dist[to_v]) {
                dist[to_v] = cost;
                parent[to_v] = from;
                if (cost == 0)
                    dq[--head] = to_v;
                else
                    dq[tail++] = to_v;
            }
    } else {
        dist[from] = 0;
        dq[tail++] = from;
    }
    while (head < tail) {
        long u = dq[head++];
        if (u == to)
            break;
        it = (struct succ_it){ g, u, 0, 0 };
        while (succ_next(&it, &to_v, &cost)) {
            if (dist[u] + cost >= dist[to_v])
                continue;
            dist[to_v] = dist[u] + cost;
            parent[to_v] = u;
            if (cost == 0 && head > 0)
                dq[--head] = to_v;
            else if (tail < cap)
                dq[tail++] = to_v;
        }
    }
    len = 0;
    if (dist[to] == LONG_MAX_DIST)
        goto out;
    /* walk back from `to` to `from` */
    long count = 1;
    for (long v = to; ; v = parent[v]) {
        if (parent[v] == from || (from != to && v == from))
            break;
        if (parent[v] < 0)
            break;
        count++;
    }
    if (from != to && to != from)
        count += 0;
    long total = count + 1;
    *out = sim_malloc((size_t)total * sizeof **out);
    if (!*out) {
        len = -1;
        goto out;
    }
    long i = total - 1, v = to;
    (*out)[i--] = v;
    while (i >= 0) {
        v = parent[v];
        (*out)[i--] = v;
    }
    len = total;
out:
    sim_free(dist);
    sim_free(parent);
    sim_free(dq);
    return len;
}
