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
#include "sort.h"
#include "alloc.h"
#include "linearizable.h"

#include <inttypes.h>
#include <limits.h>
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
    long *next_in;         /* in: the next op of its client in the graph, or -1 */
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

static void cc_free(struct cc *g)
{
    sim_free(g->in);
    sim_free(g->solid);
    sim_free(g->client_of);
    sim_free(g->pos);
    sim_free(g->pred);
    sim_free(g->next_in);
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
    g->next_in = sim_malloc((n + 1) * sizeof *g->next_in);
    g->src = sim_malloc((n + 1) * sizeof *g->src);
    g->effective = sim_calloc(n + 1, sizeof *g->effective);
    g->rd_start = sim_calloc(n + 2, sizeof *g->rd_start);
    g->rd = sim_malloc((n + 1) * sizeof *g->rd);
    g->key_dense = sim_malloc((n_str + 1) * sizeof *g->key_dense);
    g->wpos = sim_malloc((n + 1) * sizeof *g->wpos);
    g->failed = sim_malloc((n + 1) * sizeof *g->failed);
    if (!dense_client || !wv || !g->in || !g->solid || !g->client_of || !g->pos || !g->pred ||
        !g->next_in || !g->src || !g->effective || !g->rd_start || !g->rd || !g->key_dense ||
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
        if (is_write(op) && hist_written(op) != HIST_NIL) {
            if (op->type == HIST_FAIL)
                g->failed[g->n_failed++] = (struct cwv){ op->key, hist_written(op), (long)i };
            else
                wv[n_wv++] = (struct cwv){ op->key, hist_written(op), (long)i };
        }
    }
    sim_qsort(wv, n_wv, sizeof *wv, cmp_cwv);
    sim_qsort(g->failed, g->n_failed, sizeof *g->failed, cmp_cwv);
    /* sessions */
    last_solid = sim_malloc((g->n_clients + 1) * sizeof *last_solid);
    long *last_in = sim_malloc((g->n_clients + 1) * sizeof *last_in);
    int32_t *count = sim_calloc(g->n_clients + 1, sizeof *count);
    if (!last_solid || !last_in || !count) {
        sim_free(last_in);
        sim_free(count);
        goto fail;
    }
    for (size_t c = 0; c < g->n_clients; c++)
        last_solid[c] = last_in[c] = -1;
    for (size_t i = 0; i < n; i++) {
        g->pos[i] = -1;
        g->next_in[i] = -1;
        g->pred[i] = -1;
        if (!g->in[i])
            continue;
        int c = g->client_of[i];
        g->pred[i] = last_solid[c];
        if (last_in[c] >= 0)
            g->next_in[last_in[c]] = (long)i;
        last_in[c] = (long)i;
        if (g->solid[i]) {
            last_solid[c] = (long)i;
            g->pos[i] = count[c]++;
        }
    }
    sim_free(last_in);
    sim_free(count);
    /* reads-from */
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        g->src[i] = SRC_NOT;
        if (!hist_observes(op))
            continue;
        g->n_obs++;
        int64_t v = hist_observed(op);
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
    sim_qsort(g->wpos, g->n_wpos, sizeof *g->wpos, cmp_cpos);
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


/* Successors of v, each with its cost for the evidence search: 0 for a
 * session step, 1 for reads-from. A solid op is followed in its session by
 * the info ops up to its client's next solid op, and by that op; an info op
 * by nobody in its session. */
struct succ_it {
    const struct cc *g;
    long v;
    long k;          /* next session successor to give, or -1 */
    long r;          /* next reader position */
};

static void succ_start(struct succ_it *it, const struct cc *g, long v)
{
    it->g = g;
    it->v = v;
    it->k = g->solid[v] ? g->next_in[v] : -1;
    it->r = g->rd_start[v];
}

static bool succ_next(struct succ_it *it, long *to, int *cost)
{
    const struct cc *g = it->g;
    if (it->k >= 0) {
        *to = it->k;
        *cost = 0;
        it->k = g->solid[it->k] ? -1 : g->next_in[it->k];
        return true;
    }
    if (it->r < g->rd_start[it->v + 1]) {
        *to = g->rd[it->r++];
        *cost = 1;
        return true;
    }
    return false;
}

/* ==== happens-before ======================================================= */

/* Kahn's algorithm: order[] gets the graph's operations in a topological
 * order (ties by index); returns how many. Fewer than the graph holds means a
 * cycle; done[] then marks the ones placed. 0 or HIST_ENOMEM in *rc. */
static size_t topo(const struct cc *g, long *order, bool *done, int *rc)
{
    size_t n = g->n, head = 0, tail = 0;
    int *indeg = sim_calloc(n + 1, sizeof *indeg);
    *rc = 0;
    if (!indeg) {
        *rc = HIST_ENOMEM;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        done[i] = false;
        if (!g->in[i])
            continue;
        indeg[i] = (g->pred[i] >= 0) + (g->src[i] >= 0);
        if (indeg[i] == 0)
            order[tail++] = (long)i;
    }
    while (head < tail) {
        long u = order[head++];
        done[u] = true;
        struct succ_it it;
        long v;
        int cost;
        succ_start(&it, g, u);
        while (succ_next(&it, &v, &cost))
            if (--indeg[v] == 0)
                order[tail++] = v;
    }
    sim_free(indeg);
    return tail;
}

/* The vector clocks, in topological order: vc[v*C + c] is the position of
 * the latest solid op of client c that happens before v (or is v), -1 for
 * none. Kept for solid ops; an info op's is its session predecessor's. */
static void clocks(struct cc *g, const long *order, size_t n_order)
{
    size_t C = g->n_clients;
    for (size_t j = 0; j < n_order; j++) {
        long v = order[j];
        if (!g->solid[v])
            continue;
        int32_t *row = g->vc + (size_t)v * C;
        for (size_t c = 0; c < C; c++)
            row[c] = -1;
        long from[2] = { g->pred[v], -1 };
        if (g->src[v] >= 0)
            from[1] = g->solid[g->src[v]] ? g->src[v] : g->pred[g->src[v]];
        for (int f = 0; f < 2; f++) {
            if (from[f] < 0)
                continue;
            const int32_t *p = g->vc + (size_t)from[f] * C;
            for (size_t c = 0; c < C; c++)
                if (p[c] > row[c])
                    row[c] = p[c];
        }
        row[g->client_of[v]] = g->pos[v];
    }
}

/* a happens before solid op b (a != b). */
static bool reach(const struct cc *g, long a, long b)
{
    if (a == b)
        return false;
    if (g->solid[a])
        return g->pos[a] <= g->vc[(size_t)b * g->n_clients + (size_t)g->client_of[a]];
    for (long k = g->rd_start[a]; k < g->rd_start[a + 1]; k++)
        if (g->rd[k] == b || reach(g, g->rd[k], b))
            return true;
    return false;
}

/* a happens before info op u: through u's session predecessor. */
static bool reach_info(const struct cc *g, long a, long u)
{
    long p = g->pred[u];
    return p >= 0 && (a == p || reach(g, a, p));
}

struct finding {
    enum pattern pattern;
    long read;        /* the read that shows it */
    long missed;      /* WriteCORead / WriteCOInitRead: the write it missed */
    long cycle_at;    /* CyclicCO: an op on the cycle */
};

/* The first bad pattern around read r, or P_NONE. */
static struct finding check_read(const struct cc *g, long r)
{
    struct finding f = { P_NONE, r, -1, -1 };
    const struct hist_op *op = hist_op(g->h, (size_t)r);
    long s = g->src[r];
    int32_t k = g->key_dense[op->key];
    size_t C = g->n_clients;
    const int32_t *row = g->vc + (size_t)r * C;
    if (s == SRC_NONE) {
        f.pattern = P_THIN_AIR;
        return f;
    }
    if (s == SRC_AMBIG || s == SRC_NOT)
        return f;
    for (size_t c = 0; c < C; c++) {
        /* the latest write of client c on k that happens before r: if any
         * write of c fits, that one does (session order is a chain) */
        int32_t bound = (int)c == g->client_of[r] ? g->pos[r] - 1 : row[c];
        long w = last_write(g, (int32_t)c, k, bound);
        if (w < 0 || (s != SRC_INIT && (w == s || !reach(g, s, w))))
            continue;
        f.pattern = s == SRC_INIT ? P_WRITE_CO_INIT_READ : P_WRITE_CO_READ;
        f.missed = w;
        return f;
    }
    for (long i = g->info_start[k]; i < g->info_start[k + 1]; i++) {
        long u = g->info[i];
        if (u == s || !reach(g, u, r))
            continue;
        if (s != SRC_INIT && !reach_info(g, s, u))
            continue;
        f.pattern = s == SRC_INIT ? P_WRITE_CO_INIT_READ : P_WRITE_CO_READ;
        f.missed = u;
        return f;
    }
    return f;
}

/* ==== evidence ============================================================= */

/* A path from `from` to `to` (from == to: a cycle through it) with the
 * fewest reads-from steps: 0-1 BFS. *out gets the ops, first to last
 * (allocated; the caller frees it). Returns their number, 0 when there is
 * no path, -1 when out of memory. */
static long find_path(const struct cc *g, long from, long to, long **out)
{
    size_t n = g->n, half = 3 * n + 4, cap = 2 * half;
    long *dist = sim_malloc((n + 1) * sizeof *dist);
    long *parent = sim_malloc((n + 1) * sizeof *parent);
    bool *seen = sim_calloc(n + 1, sizeof *seen);
    long *dq = sim_malloc(cap * sizeof *dq);
    long *path = NULL;
    long len = -1;
    *out = NULL;
    if (!dist || !parent || !seen || !dq)
        goto done;
    for (size_t i = 0; i < n; i++) {
        dist[i] = LONG_MAX;
        parent[i] = -1;
    }
    size_t head = half, tail = half;
    struct succ_it it;
    long v;
    int cost;
    if (from == to) {
        /* start from the successors, so that reaching `from` closes a cycle */
        seen[from] = true;
        succ_start(&it, g, from);
        while (succ_next(&it, &v, &cost))
            if (cost < dist[v]) {
                dist[v] = cost;
                parent[v] = from;
                if (cost == 0)
                    dq[--head] = v;
                else
                    dq[tail++] = v;
            }
        seen[from] = false;
    } else {
        dist[from] = 0;
        dq[tail++] = from;
    }
    while (head < tail) {
        long u = dq[head++];
        if (seen[u])
            continue;
        seen[u] = true;
        if (u == to)
            break;
        succ_start(&it, g, u);
        while (succ_next(&it, &v, &cost)) {
            if (seen[v] || dist[u] + cost >= dist[v])
                continue;
            dist[v] = dist[u] + cost;
            parent[v] = u;
            if (cost == 0)
                dq[--head] = v;
            else
                dq[tail++] = v;
        }
    }
    len = 0;
    if (!seen[to])
        goto done;
    /* walk back from `to`; a cycle ends where it started */
    long count = 1;
    for (v = parent[to]; v != from; v = parent[v])
        count++;
    count++;
    path = sim_malloc((size_t)count * sizeof *path);
    if (!path) {
        len = -1;
        goto done;
    }
    path[count - 1] = to;
    v = to;
    for (long i = count - 2; i >= 0; i--) {
        v = parent[v];
        path[i] = v;
    }
    *out = path;
    len = count;
done:
    sim_free(dist);
    sim_free(parent);
    sim_free(seen);
    sim_free(dq);
    return len;
}

/* The op's relation to the one before it on a path. */
static bool reads_from(const struct cc *g, long a, long b)
{
    return g->src[b] == a;
}

/* Append path[0..n) to chain (skipping its first op if skip_first), leaving
 * out the middle of runs of session steps: c2 read, c2 write, c2 write,
 * c3 read becomes c2 read, c2 write (the last), c3 read. */
static void chain_add(const struct cc *g, long *chain, size_t *len, const long *path, long n,
                      bool skip_first)
{
    for (long i = skip_first ? 1 : 0; i < n; i++) {
        if (i > 0 && i + 1 < n && !reads_from(g, path[i - 1], path[i]) &&
            !reads_from(g, path[i], path[i + 1]))
            continue;
        chain[(*len)++] = path[i];
    }
}

/* "c1 write x=1 -> c2 read x=1 -> ..." (long chains: the first three and
 * the last four). */
static void chain_text(const struct cc *g, const long *chain, size_t n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n; i++) {
        if (n > 8 && i == 3) {
            used += (size_t)check_say(buf + used, cap - used, " -> ... (%zu more)", n - 7);
            i = n - 5;
            if (used >= cap)
                break;
            continue;
        }
        char what[256];
        lin_describe_op(g->h, hist_op(g->h, (size_t)chain[i]), what, sizeof what);
        used += (size_t)check_say(buf + used, cap - used, "%s%s", i ? " -> " : "", what);
        if (used >= cap)
            break;
    }
}

static void evidence_op(const struct cc *g, struct check_result *out, long i, const char *step)
{
    const hist *h = g->h;
    const struct hist_op *op = hist_op(h, (size_t)i);
    jw *j = &out->evidence;
    char what[256], t1[32], t2[32];
    lin_describe_op(h, op, what, sizeof what);
    jw_obj(j);
    jw_kstr(j, "step", step);
    jw_kint(j, "op", op->id);
    jw_kstr(j, "process", hist_str(h, op->process));
    jw_kstr(j, "f", hist_f_name((enum hist_f)op->f));
    jw_kstr(j, "key", hist_str(h, op->key));
    jw_kstr(j, "type", hist_type_name((enum hist_type)op->type));
    jw_key(j, "value");
    if (op->f == HIST_CAS) {
        jw_arr(j);
        if (op->arg == HIST_NIL)
            jw_null(j);
        else
            jw_int(j, op->arg);
        jw_int(j, op->arg2);
        jw_arr_end(j);
    } else {
        int64_t v = op->f == HIST_READ ? op->out : op->arg;
        if (v == HIST_NIL)
            jw_null(j);
        else
            jw_int(j, v);
    }
    jw_kint(j, "invoke", op->invoke_t);
    jw_key(j, "complete");
    if (op->open)
        jw_null(j);
    else
        jw_int(j, op->complete_t);
    jw_kint(j, "invoke_line", op->invoke_line);
    jw_kint(j, "complete_line", op->complete_line);
    jw_kstr(j, "text", what);
    jw_obj_end(j);
    lin_format_time(h, op->invoke_t, t1, sizeof t1);
    if (op->open)
        check_say(t2, sizeof t2, "no answer");
    else
        lin_format_time(h, op->complete_t, t2, sizeof t2);
    check_text(out, "%6" PRId64 "  %-22s %-5s %10s to %-10s %s", op->id, what,
               hist_type_name((enum hist_type)op->type), t1, t2, step);
}

/* Describe finding f into out: the reason, the chain, the JSON. */
static int report(const struct cc *g, const struct finding *f, struct check_result *out)
{
    const hist *h = g->h;
    long *chain = NULL, *p1 = NULL, *p2 = NULL;
    size_t len = 0;
    long n1 = 0, n2 = 0;
    const struct hist_op *r = hist_op(h, (size_t)f->read);
    char who[64], seen[256], t[32], chain_buf[700];
    hist_process_label(h, r->process, who, sizeof who);
    lin_describe_op(h, r, seen, sizeof seen);
    lin_format_time(h, r->complete_t, t, sizeof t);
    if (f->pattern == P_WRITE_CO_READ) {
        n1 = find_path(g, g->src[f->read], f->missed, &p1);
        n2 = find_path(g, f->missed, f->read, &p2);
    } else if (f->pattern == P_WRITE_CO_INIT_READ)
        n2 = find_path(g, f->missed, f->read, &p2);
    else if (f->pattern == P_CYCLIC_CO)
        n2 = find_path(g, f->cycle_at, f->cycle_at, &p2);
    if (n1 < 0 || n2 < 0)
        goto nomem;
    chain = sim_malloc((size_t)(n1 + n2 + 8) * sizeof *chain);
    if (!chain)
        goto nomem;
    if (n1 > 0)
        chain_add(g, chain, &len, p1, n1, false);
    if (n2 > 0)
        chain_add(g, chain, &len, p2, n2, n1 > 0);
    jw *j = &out->evidence;
    jw_kstr(j, "pattern", pattern_name[f->pattern]);
    jw_kint(j, "read", r->id);
    out->verdict = CHECK_VIOLATED;
    switch (f->pattern) {
    case P_THIN_AIR: {
        char val[64], failed[256] = "";
        lin_format_value(h, r->f == HIST_CAS ? r->arg : r->out, val, sizeof val);
        size_t cnt, at = cwv_find(g->failed, g->n_failed, r->key, r->f == HIST_CAS ? r->arg : r->out, &cnt);
        if (cnt > 0) {
            char fw[64], fwhat[256];
            const struct hist_op *w = hist_op(h, (size_t)g->failed[at].op);
            hist_process_label(h, w->process, fw, sizeof fw);
            lin_describe_op(h, w, fwhat, sizeof fwhat);
            check_say(failed, sizeof failed, ": the only %s failed (%s), so it did not take effect",
                cnt == 1 ? "write of it" : "writes of it", fwhat);
        }
        check_say(out->reason, sizeof out->reason, "%s at %s, but no write of %s to %s took effect%s",
            seen, t, val, *hist_str(h, r->key) ? hist_str(h, r->key) : "the register",
            failed[0] ? failed : " (nothing wrote it): a value out of thin air");
        jw_key(j, "missed");
        jw_null(j);
        jw_key(j, "chain");
        jw_arr(j);
        check_text(out, "pattern %s: a read returned a value no write wrote", pattern_name[f->pattern]);
        evidence_op(g, out, f->read, "the read");
        for (size_t i = 0; i < cnt && i < 3; i++)
            evidence_op(g, out, g->failed[at + i].op, "a failed write of that value");
        jw_arr_end(j);
        break;
    }
    case P_CYCLIC_CO:
    case P_WRITE_CO_INIT_READ:
    case P_WRITE_CO_READ: {
        chain_text(g, chain, len, chain_buf, sizeof chain_buf);
        char mw[256] = "", mwho[64] = "";
        if (f->missed >= 0) {
            const struct hist_op *m = hist_op(h, (size_t)f->missed);
            hist_process_label(h, m->process, mwho, sizeof mwho);
            lin_describe_op(h, m, mw, sizeof mw);
        }
        if (f->pattern == P_WRITE_CO_INIT_READ)
            check_say(out->reason, sizeof out->reason,
                "%s at %s, but %s happened before that read (%s): a read must see every write "
                "that causally precedes it, and nil means never written",
                seen, t, mw, chain_buf);
        else if (f->pattern == P_WRITE_CO_READ) {
            char w1[256];
            lin_describe_op(h, hist_op(h, (size_t)g->src[f->read]), w1, sizeof w1);
            check_say(out->reason, sizeof out->reason,
                "%s at %s, but %s, which came causally after %s, happened before that read "
                "(%s): the read returned a value that a causally newer write had replaced",
                seen, t, mw, w1, chain_buf);
        } else
            check_say(out->reason, sizeof out->reason,
                "happens-before has a cycle: %s at %s, a value whose write depends on that "
                "very read (%s): the read saw its own future",
                seen, t, chain_buf);
        jw_key(j, "missed");
        if (f->missed >= 0)
            jw_int(j, hist_op(h, (size_t)f->missed)->id);
        else
            jw_null(j);
        check_text(out, "pattern %s, the chain of happens-before (each line happens before the next):",
                   pattern_name[f->pattern]);
        check_text(out, "%6s  %-22s %-5s %10s    %-10s %s", "op", "operation", "type", "invoked",
                   "completed", "step");
        jw_key(j, "chain");
        jw_arr(j);
        for (size_t i = 0; i < len; i++) {
            char step[160];
            const char *how = i == 0 ? "start"
                : reads_from(g, chain[i - 1], chain[i]) ? "reads the value written on the line above"
                : "same client, later";
            const char *what = "";
            if (chain[i] == f->missed)
                what = ": the write the read misses";
            else if (i + 1 == len && f->pattern != P_CYCLIC_CO)
                what = ": the read";
            else if (i == 0 && f->pattern == P_WRITE_CO_READ)
                what = ": the write the read saw";
            else if (i == 0)
                what = ": the read, which starts the cycle";
            check_say(step, sizeof step, "%s%s", how, what);
            evidence_op(g, out, chain[i], step);
        }
        jw_arr_end(j);
        break;
    }
    default:
        break;
    }
    sim_free(chain);
    sim_free(p1);
    sim_free(p2);
    return 0;
nomem:
    sim_free(chain);
    sim_free(p1);
    sim_free(p2);
    return HIST_ENOMEM;
}

/* An op on a cycle: walk predecessors among the ops Kahn could not place. */
static long cycle_op(const struct cc *g, const bool *done)
{
    size_t n = g->n;
    long start = -1;
    for (size_t i = 0; i < n && start < 0; i++)
        if (g->in[i] && !done[i])
            start = (long)i;
    bool *mark = sim_calloc(n + 1, sizeof *mark);
    if (!mark || start < 0) {
        sim_free(mark);
        return -1;
    }
    long v = start;
    while (!mark[v]) {
        mark[v] = true;
        long a = g->src[v] >= 0 ? g->src[v] : -1, b = g->pred[v];
        /* a predecessor Kahn could not place either (one always exists) */
        v = a >= 0 && !done[a] ? a : b;
    }
    sim_free(mark);
    return v;
}

/* A cycle is reported at its read that completed first. */
static long cycle_read(const struct cc *g, long at, long *out_read)
{
    long *path = NULL;
    long n = find_path(g, at, at, &path);
    *out_read = -1;
    if (n < 0)
        return -1;
    for (long i = 1; i < n; i++)
        if (reads_from(g, path[i - 1], path[i]) &&
            (*out_read < 0 || hist_op(g->h, (size_t)path[i])->complete_pos <
                                  hist_op(g->h, (size_t)*out_read)->complete_pos))
            *out_read = path[i];
    sim_free(path);
    return 0;
}

static int run_causal(const struct check_input *in, struct check_result *out)
{
    const hist *h = in->h;
    if (hist_model(h) != HIST_REGISTER) {
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
            "causal consistency is checked on register histories (read, write, cas); this one "
            "is key-value (get, put, append), whose values are built by appends, not single writes");
        return 0;
    }
    struct cc g;
    if (cc_build(&g, h) != 0)
        return HIST_ENOMEM;
    int rc = HIST_ENOMEM;
    long *order = NULL;
    bool *done = NULL;
    jw *j = &out->evidence;
    if (g.n_clients > 0 && g.n > CAUSAL_MAX_CELLS / g.n_clients) {
        out->verdict = CHECK_UNKNOWN;
        check_say(out->reason, sizeof out->reason,
            "too large to check: %zu operations by %zu clients need more than %zu entries of "
            "vector clocks", g.n, g.n_clients, CAUSAL_MAX_CELLS);
        jw_obj(j);
        jw_obj_end(j);
        rc = 0;
        goto out;
    }
    order = sim_malloc((g.n + 1) * sizeof *order);
    done = sim_malloc((g.n + 1) * sizeof *done);
    g.vc = sim_malloc((g.n * g.n_clients + 1) * sizeof *g.vc);
    if (!order || !done || !g.vc)
        goto out;
    size_t in_graph = 0;
    for (size_t i = 0; i < g.n; i++)
        in_graph += g.in[i];
    int trc;
    size_t placed = topo(&g, order, done, &trc);
    if (trc)
        goto out;
    jw_obj(j);
    jw_kint(j, "reads", (int64_t)g.n_obs);
    jw_kint(j, "clients", (int64_t)g.n_clients);
    jw_kint(j, "keys", (int64_t)g.n_keys);
    jw_kint(j, "repeated_values", (int64_t)g.n_ambig);
    struct finding best = { P_NONE, -1, -1, -1 };
    if (placed < in_graph) {
        long at = cycle_op(&g, done), read = -1;
        if (at < 0 || cycle_read(&g, at, &read) != 0)
            goto out_obj;
        best = (struct finding){ P_CYCLIC_CO, read >= 0 ? read : at, -1, read >= 0 ? read : at };
    } else {
        clocks(&g, order, placed);
        for (size_t i = 0; i < g.n; i++) {
            if (g.src[i] == SRC_NOT || !g.solid[i])
                continue;
            struct finding f = check_read(&g, (long)i);
            if (f.pattern == P_NONE)
                continue;
            if (best.pattern == P_NONE ||
                hist_op(h, i)->complete_pos < hist_op(h, (size_t)best.read)->complete_pos)
                best = f;
        }
    }
    if (best.pattern != P_NONE) {
        if (report(&g, &best, out) != 0)
            goto out_obj;
    } else {
        jw_key(j, "pattern");
        jw_null(j);
        if (g.n_ambig > 0) {
            out->verdict = CHECK_UNKNOWN;
            check_say(out->reason, sizeof out->reason,
                "no bad pattern among the reads that can be judged, but %zu of %zu reads returned "
                "a value written more than once, so which write they saw is unknown",
                g.n_ambig, g.n_obs);
        } else {
            out->verdict = CHECK_HOLDS;
            check_say(out->reason, sizeof out->reason,
                "happens-before (each client's order and reads-from) has no cycle and no read "
                "misses a write that causally precedes it (%zu reads by %zu client%s on %zu key%s)",
                g.n_obs, g.n_clients, g.n_clients == 1 ? "" : "s", g.n_keys,
                g.n_keys == 1 ? "" : "s");
        }
    }
    rc = 0;
out_obj:
    jw_obj_end(j);
out:
    sim_free(order);
    sim_free(done);
    cc_free(&g);
    return rc;
}

const struct checker causal_checker = {
    "causal",
    "causal consistency of each register (Bouajjani et al.'s bad patterns): no read misses a "
    "write that happens before it through clients' order and reads-from, and no cycles",
    false, run_causal, false,
};
