/* read_committed: the G0 and G1 anomalies of Adya's isolation levels, over
 * the client history of transactions (HIST_TXN operations).
 *
 * Every written value is unique in a run, so a read names the one
 * transaction it read from: the write-read (wr) dependencies are exact.
 * The write-write (ww) order of a key comes from the trace: the participants'
 * "decision" notes list the writes they applied, in the order they applied
 * them (the simulator sees the real database, which a black-box tester would
 * have to infer). Without a sim trace only wr edges are used.
 *
 *   G1a aborted read: a committed transaction read a value that only a
 *       failed (aborted) transaction wrote.
 *   G1b intermediate read: it read a value that its writer overwrote later
 *       in the same transaction.
 *   G0  write cycle: transactions whose writes to several keys were applied
 *       in orders no serial execution gives (a cycle of ww edges).
 *   G1c circular information flow: a cycle of ww and wr edges.
 *
 * Committed means ok; an indeterminate (info) transaction counts as
 * committed when somebody read its writes or a participant applied them.
 * The anti-dependency (rw) anomalies of G2 are out of scope, hence the
 * name: "holds" means no G0/G1 anomaly, Adya's PL-2 (read committed), not
 * serializability; a violation is a history that is not serializable
 * either. A G2 search would make a `serializable` checker next to it. */
#include "checker.h"
#include "sort.h"
#include "alloc.h"
#include "jread.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SER_SHOW 10

struct wr_index {           /* a written (key, value) and who wrote it */
    int32_t key;
    int64_t value;
    long op;                /* history index */
    uint32_t pos;           /* micro position */
};

static int cmp_wi(const void *a, const void *b)
{
    const struct wr_index *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->value > y->value) - (x->value < y->value);
}

static const struct wr_index *find_writer(const struct wr_index *w, size_t n, int32_t key, int64_t value)
{
    struct wr_index k = { .key = key, .value = value };
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_wi(&w[mid], &k);
        if (c == 0)
            return &w[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

enum { EDGE_WW = 1, EDGE_WR = 2 };

struct edge {
    long from, to;
    int kind;
    int32_t key;
    int64_t v1, v2;         /* ww: overwritten, new; wr: the value read */
};

static int cmp_edge(const void *a, const void *b)
{
    const struct edge *x = a, *y = b;
    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    return x->kind - y->kind;
}

static void op_label(const hist *h, long i, char *buf, size_t n)
{
    const struct hist_op *op = hist_op(h, (size_t)i);
    char p[32];
    snprintf(buf, n, "op %lld (%s)", (long long)op->id, hist_process_label(h, op->process, p, sizeof p));
}

static void json_txn(jw *j, const hist *h, long i)
{
    const struct hist_op *op = hist_op(h, (size_t)i);
    const struct hist_micro *m = hist_micro(h, op);
    jw_obj(j);
    jw_kint(j, "op", op->id);
    jw_kstr(j, "process", hist_str(h, op->process));
    jw_kstr(j, "type", hist_type_name((enum hist_type)op->type));
    jw_key(j, "value");
    jw_arr(j);
    for (uint32_t k = 0; k < op->micro_n; k++) {
        jw_arr(j);
        jw_str(j, m[k].f == HIST_WRITE ? "w" : "r");
        jw_str(j, hist_str(h, m[k].key));
        if (m[k].value == HIST_NIL)
            jw_null(j);
        else
            jw_int(j, m[k].value);
        jw_arr_end(j);
    }
    jw_arr_end(j);
    jw_kint(j, "invoke", op->invoke_t);
    jw_kint(j, "invoke_line", op->invoke_line);
    jw_obj_end(j);
}

/* ---- cycles --------------------------------------------------------------- */

/* Find a cycle in the graph of edges e[0..n) (sorted by from) restricted to
 * kinds in mask, over nodes 0..n_ops-1. On success the cycle's edges are in
 * cyc (count returned), else 0. Iterative DFS: the history may be long. */
static size_t find_cycle(const struct edge *e, size_t n, const size_t *first, size_t n_ops, int mask,
                         const struct edge **cyc, size_t cyc_cap)
{
    uint8_t *color = sim_xcalloc(n_ops, 1);
    size_t *next = sim_xmalloc((n_ops + 1) * sizeof *next);      /* per node: next edge to try */
    const struct edge **via = sim_xmalloc((n_ops + 1) * sizeof *via); /* edge we entered by */
    long *stack = sim_xmalloc((n_ops + 1) * sizeof *stack);
    size_t found = 0;
    (void)n;
    for (size_t root = 0; root < n_ops && !found; root++) {
        if (color[root])
            continue;
        size_t sp = 0;
        stack[sp++] = (long)root;
        color[root] = 1;
        next[root] = first[root];
        via[root] = NULL;
        while (sp > 0 && !found) {
            long u = stack[sp - 1];
            if (next[u] >= first[u + 1]) {
                color[u] = 2;
                sp--;
                continue;
            }
            const struct edge *ed = &e[next[u]++];
            if (!(ed->kind & mask))
                continue;
            long v = ed->to;
            if (color[v] == 0) {
                color[v] = 1;
                next[v] = first[v];
                via[v] = ed;
                stack[sp++] = v;
            } else if (color[v] == 1) {
                /* back edge: the cycle is v .. u on the stack, then ed */
                size_t k = sp;
                while (k > 0 && stack[k - 1] != v)
                    k--;
                for (size_t x = k; x < sp && found + 1 < cyc_cap; x++)
                    cyc[found++] = via[stack[x]];
                cyc[found++] = ed;
            }
        }
    }
    sim_free(color);
    sim_free(next);
    sim_free(via);
    sim_free(stack);
    return found;
}

static void edge_text(const hist *h, const struct edge *ed, char *buf, size_t n)
{
    char a[64], b[64];
    op_label(h, ed->from, a, sizeof a);
    op_label(h, ed->to, b, sizeof b);
    if (ed->kind == EDGE_WW)
        check_say(buf, n, "%s wrote %s = %lld, then %s overwrote it with %lld", a, hist_str(h, ed->key),
                  (long long)ed->v1, b, (long long)ed->v2);
    else
        check_say(buf, n, "%s read %s = %lld, which %s wrote", b, hist_str(h, ed->key), (long long)ed->v1, a);
}

static void report_cycle(const hist *h, struct check_result *out, jw *j, const char *name,
                         const struct edge *const *cyc, size_t k, char *first, size_t first_len)
{
    char text[1000];
    size_t used = 0;
    used += (size_t)check_say(text, sizeof text, "%s: ", name);
    jw_obj(j);
    jw_kstr(j, "anomaly", name);
    jw_key(j, "cycle");
    jw_arr(j);
    for (size_t i = 0; i < k; i++) {
        char et[240];
        edge_text(h, cyc[i], et, sizeof et);
        jw_obj(j);
        jw_kstr(j, "kind", cyc[i]->kind == EDGE_WW ? "ww" : "wr");
        jw_kstr(j, "text", et);
        jw_key(j, "from");
        json_txn(j, h, cyc[i]->from);
        jw_key(j, "to");
        json_txn(j, h, cyc[i]->to);
        jw_obj_end(j);
        if (used < sizeof text)
            used += (size_t)check_say(text + used, sizeof text - used, "%s%s", i ? "; " : "", et);
    }
    jw_arr_end(j);
    if (used < sizeof text)
        check_say(text + used, sizeof text - used,
                  " -- each must come before the next in any serial order, and the last before the first");
    jw_kstr(j, "text", text);
    jw_obj_end(j);
    check_text(out, "%s", text);
    if (!first[0])
        snprintf(first, first_len, "%s", text);
}

/* ---- the checker ---------------------------------------------------------- */

/* The per-key apply order the participants' decision notes give, as ww
 * edges between consecutive versions. */
static void version_edges(const hist *h, const struct trace_facts *f, const struct wr_index *w, size_t nw,
                          struct edge **e, size_t *ne, size_t *cap, bool *used_order)
{
    /* the last applied value per key, keyed by the key's string id */
    size_t nk = hist_n_strings(h);
    int64_t *last = sim_xmalloc((nk + 1) * sizeof *last);
    bool *has = sim_xcalloc(nk + 1, sizeof *has);
    for (size_t i = 0; f && i < f->n_notes; i++) {
        const struct trace_note *t = &f->notes[i];
        if (strcmp(t->what, "decision") != 0)
            continue;
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(t->obj, "writes"), *x;
        cJSON_ArrayForEach(x, ws) {
            const cJSON *k = cJSON_GetArrayItem(x, 0), *v = cJSON_GetArrayItem(x, 1);
            if (!cJSON_IsString(k) || !cJSON_IsNumber(v))
                continue;
            *used_order = true;
            int32_t key = -1;
            for (size_t s = 0; s < nk; s++)   /* keys are few; the strings table is small */
                if (strcmp(hist_str(h, (int64_t)s), k->valuestring) == 0) {
                    key = (int32_t)s;
                    break;
                }
            if (key < 0)
                continue;
            int64_t val = jr_num(v, 0);
            if (has[key] && last[key] != val) {
                const struct wr_index *a = find_writer(w, nw, key, last[key]);
                const struct wr_index *b = find_writer(w, nw, key, val);
                if (a && b && a->op != b->op) {
                    SIM_GROW(*e, *cap, *ne + 1);
                    (*e)[(*ne)++] = (struct edge){ a->op, b->op, EDGE_WW, key, last[key], val };
                }
            }
            has[key] = true;
            last[key] = val;
        }
    }
    sim_free(last);
    sim_free(has);
}

static int run_read_committed(const struct check_input *in, struct check_result *out)
{
    const hist *h = in->h;
    size_t n_ops = hist_count(h), n_txn = 0;
    jw *j = &out->evidence;
    for (size_t i = 0; i < n_ops; i++)
        n_txn += hist_op(h, i)->f == HIST_TXN;
    if (n_txn == 0) {
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
                  "no transactions in this history (operations on several keys at once): nothing to judge");
        jw_obj(j);
        jw_obj_end(j);
        return 0;
    }
    /* every write of every transaction, for looking up who wrote a value */
    struct wr_index *w = NULL;
    size_t nw = 0, wcap = 0;
    for (size_t i = 0; i < n_ops; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->f != HIST_TXN)
            continue;
        const struct hist_micro *m = hist_micro(h, op);
        for (uint32_t k = 0; k < op->micro_n; k++)
            if (m[k].f == HIST_WRITE) {
                SIM_GROW(w, wcap, nw + 1);
                w[nw++] = (struct wr_index){ m[k].key, m[k].value, (long)i, k };
            }
    }
    if (w)
        sim_qsort(w, nw, sizeof *w, cmp_wi);

    struct edge *e = NULL;
    size_t ne = 0, ecap = 0, g1a = 0, g1b = 0, unexplained = 0;
    char first[1000] = "";
    jw_obj(j);
    jw_key(j, "anomalies");
    jw_arr(j);
    size_t shown = 0;
    for (size_t i = 0; i < n_ops; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->f != HIST_TXN || op->type != HIST_OK)
            continue;
        const struct hist_micro *m = hist_micro(h, op);
        for (uint32_t k = 0; k < op->micro_n; k++) {
            if (m[k].f != HIST_READ || m[k].value == HIST_NIL)
                continue;
            const struct wr_index *wi = find_writer(w, nw, m[k].key, m[k].value);
            char me[64], them[64], text[600];
            op_label(h, (long)i, me, sizeof me);
            const char *kind = NULL;
            if (!wi) {
                unexplained++;
                kind = "unexplained read";
                check_say(text, sizeof text, "%s read %s = %lld, a value no transaction wrote", me,
                          hist_str(h, m[k].key), (long long)m[k].value);
            } else if (wi->op == (long)i) {
                continue;
            } else {
                const struct hist_op *wop = hist_op(h, (size_t)wi->op);
                const struct hist_micro *wm = hist_micro(h, wop);
                op_label(h, wi->op, them, sizeof them);
                bool overwritten = false;
                int64_t final = 0;
                for (uint32_t x = wi->pos + 1; x < wop->micro_n; x++)
                    if (wm[x].f == HIST_WRITE && wm[x].key == m[k].key) {
                        overwritten = true;
                        final = wm[x].value;
                    }
                if (wop->type == HIST_FAIL) {
                    g1a++;
                    kind = "G1a aborted read";
                    check_say(text, sizeof text,
                              "G1a aborted read: %s committed after reading %s = %lld, which only %s wrote, "
                              "and %s aborted: its writes must never be seen", me, hist_str(h, m[k].key),
                              (long long)m[k].value, them, them);
                } else if (overwritten) {
                    g1b++;
                    kind = "G1b intermediate read";
                    check_say(text, sizeof text,
                              "G1b intermediate read: %s read %s = %lld, a value %s replaced with %lld before "
                              "it committed: only a transaction's final writes may be seen", me,
                              hist_str(h, m[k].key), (long long)m[k].value, them, (long long)final);
                } else {
                    SIM_GROW(e, ecap, ne + 1);
                    e[ne++] = (struct edge){ wi->op, (long)i, EDGE_WR, m[k].key, m[k].value, 0 };
                }
            }
            if (kind) {
                if (!first[0])
                    snprintf(first, sizeof first, "%s", text);
                if (shown++ < SER_SHOW) {
                    jw_obj(j);
                    jw_kstr(j, "anomaly", kind);
                    jw_kstr(j, "text", text);
                    jw_key(j, "reader");
                    json_txn(j, h, (long)i);
                    if (wi) {
                        jw_key(j, "writer");
                        json_txn(j, h, wi->op);
                    }
                    jw_obj_end(j);
                    check_text(out, "%s", text);
                }
            }
        }
    }
    bool used_order = false;
    version_edges(h, in->facts, w, nw, &e, &ne, &ecap, &used_order);
    /* only committed (ok) and maybe-committed (info) transactions take part */
    size_t keep = 0;
    for (size_t i = 0; i < ne; i++)
        if (hist_op(h, (size_t)e[i].from)->type != HIST_FAIL && hist_op(h, (size_t)e[i].to)->type != HIST_FAIL)
            e[keep++] = e[i];
    ne = keep;
    if (e)
        sim_qsort(e, ne, sizeof *e, cmp_edge);
    size_t *firstidx = sim_xmalloc((n_ops + 2) * sizeof *firstidx);
    for (size_t u = 0, k = 0; u <= n_ops; u++) {
        while (k < ne && (size_t)e[k].from < u)
            k++;
        firstidx[u] = k;
    }
    const struct edge *cyc[64];
    size_t g0 = find_cycle(e, ne, firstidx, n_ops, EDGE_WW, cyc, 64);
    if (g0)
        report_cycle(h, out, j, "G0 write cycle", cyc, g0, first, sizeof first);
    size_t g1c = g0 ? 0 : find_cycle(e, ne, firstidx, n_ops, EDGE_WW | EDGE_WR, cyc, 64);
    if (g1c)
        report_cycle(h, out, j, "G1c circular information flow", cyc, g1c, first, sizeof first);
    jw_arr_end(j);
    jw_kint(j, "transactions", (int64_t)n_txn);
    jw_kint(j, "g1a", (int64_t)g1a);
    jw_kint(j, "g1b", (int64_t)g1b);
    jw_kbool(j, "g0", g0 > 0);
    jw_kbool(j, "g1c", g1c > 0);
    jw_kint(j, "unexplained_reads", (int64_t)unexplained);
    jw_kint(j, "ww_edges_from_trace", used_order);
    jw_obj_end(j);
    if (g1a || g1b || g0 || g1c || unexplained) {
        out->verdict = CHECK_VIOLATED;
        check_say(out->reason, sizeof out->reason, "not read committed (so not serializable either): %s", first);
    } else {
        out->verdict = CHECK_HOLDS;
        check_say(out->reason, sizeof out->reason,
                  "no G0 or G1 anomaly in %zu transactions (no aborted or intermediate read, no cycle of "
                  "%swrite-read dependencies): read committed (PL-2) holds; anti-dependency (G2) cycles "
                  "are not checked", n_txn, used_order ? "write-write or " : "");
    }
    sim_free(firstidx);
    sim_free(e);
    sim_free(w);
    return 0;
}

const struct checker read_committed_checker = {
    "read_committed", "transactions: no aborted or intermediate reads, no cycle of write-write/write-read "
    "dependencies (Adya G0, G1a, G1b, G1c: PL-2)", false, run_read_committed, true,
};
