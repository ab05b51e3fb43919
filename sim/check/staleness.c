/* staleness: how stale were the reads?
 *
 * Not a yes-or-no consistency model but a measurement, with a verdict so it
 * fits among the others: it holds when no read was stale.
 *
 * For register histories whose written values are distinct (as in sim
 * traces). A read of key k, invoked at t, that returned v is stale when some
 * write w2 to k completed (ok) before t, and the write of v had completed
 * before w2 was invoked: v was certainly overwritten before the read began,
 * whatever order the system chose for concurrent writes. A read of nil is
 * stale when any write to k had completed before t. Writes here are ok
 * writes and ok cas.
 *
 * How stale: in versions, the number of such certainly newer writes; in
 * time, t minus the completion of the earliest of them (how long the value
 * read had been out of date, at the least, when the read began).
 *
 * A read whose value has several writers (repeated values, as in Jepsen
 * logs) or none is not judged, and is counted as such. Order uses event
 * positions; amounts use times (ns for traces, lines for other formats).
 *
 * Each key's writes go into a Fenwick tree indexed by invocation, in order
 * of completion, as the reads are swept in order of invocation: counting the
 * newer writes of a read and finding the earliest is O(log n). */
#include "checker.h"
#include "sort.h"
#include "alloc.h"
#include "history.h"
#include "linearizable.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STALE_SHOW 5   /* the worst reads listed */

struct stale_read {
    long read;          /* history index */
    long missed;        /* the earliest certainly newer write */
    int64_t versions;
    int64_t behind;     /* time: read's invocation minus missed's completion */
};

struct wrec {           /* an ok write of the key being swept */
    int64_t invoke_pos, complete_pos;
    long op;
};

/* ---- a Fenwick tree over reversed invocation ranks: count and earliest
 * completion of the writes inserted so far, for a prefix of ranks ---------- */

struct fenwick {
    size_t n;
    int64_t *count;
    int64_t *min_pos;
    long *min_op;
};

static void fw_init(struct fenwick *f, size_t n)
{
    f->n = n;
    f->count = sim_xcalloc(n + 1, sizeof *f->count);
    f->min_pos = sim_xmalloc((n + 1) * sizeof *f->min_pos);
    f->min_op = sim_xmalloc((n + 1) * sizeof *f->min_op);
    for (size_t i = 0; i <= n; i++) {
        f->min_pos[i] = INT64_MAX;
        f->min_op[i] = -1;
    }
}

static void fw_free(struct fenwick *f)
{
    sim_free(f->count);
    sim_free(f->min_pos);
    sim_free(f->min_op);
}

static void fw_add(struct fenwick *f, size_t i, int64_t pos, long op)
{
    for (i++; i <= f->n; i += i & (~i + 1)) {
        f->count[i]++;
        if (pos < f->min_pos[i]) {
            f->min_pos[i] = pos;
            f->min_op[i] = op;
        }
    }
}

/* Over indices [0, i): how many, and the one that completed first. */
static int64_t fw_query(const struct fenwick *f, size_t i, long *first)
{
    int64_t c = 0, best = INT64_MAX;
    *first = -1;
    for (; i > 0; i -= i & (~i + 1)) {
        c += f->count[i];
        if (f->min_pos[i] < best) {
            best = f->min_pos[i];
            *first = f->min_op[i];
        }
    }
    return c;
}

static int cmp_invoke(const void *a, const void *b)
{
    const struct wrec *x = a, *y = b;
    return (x->invoke_pos > y->invoke_pos) - (x->invoke_pos < y->invoke_pos);
}

static int cmp_complete(const void *a, const void *b)
{
    const struct wrec *x = a, *y = b;
    return (x->complete_pos > y->complete_pos) - (x->complete_pos < y->complete_pos);
}

/* Worst first: more time behind, then more versions, then earlier in the history. */
static int cmp_worst(const void *a, const void *b)
{
    const struct stale_read *x = a, *y = b;
    if (x->behind != y->behind)
        return x->behind > y->behind ? -1 : 1;
    if (x->versions != y->versions)
        return x->versions > y->versions ? -1 : 1;
    return (x->read > y->read) - (x->read < y->read);
}

static bool writes(const struct hist_op *op, int64_t *v)
{
    if (op->type == HIST_FAIL)
        return false;
    if (op->f == HIST_WRITE)
        *v = op->arg;
    else if (op->f == HIST_CAS)
        *v = op->arg2;
    else
        return false;
    return true;
}

struct vw {             /* a value written to a key, and by whom */
    int32_t key;
    int64_t value;
    long op;
};

static int cmp_vw(const void *a, const void *b)
{
    const struct vw *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->op > y->op) - (x->op < y->op);
}

/* The only operation that may have written v to key, or -1 when there is
 * none; -2 when there are several. */
static long writer_of(const struct vw *w, size_t n, int32_t key, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].key < key || (w[mid].key == key && w[mid].value < v))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo >= n || w[lo].key != key || w[lo].value != v)
        return -1;
    if (lo + 1 < n && w[lo + 1].key == key && w[lo + 1].value == v)
        return -2;
    return w[lo].op;
}

static const char *amount(const hist *h, int64_t d, char *buf, size_t n)
{
    if (hist_clock(h) == HIST_CLOCK_LINE)
        snprintf(buf, n, "%" PRId64 " line%s", d, d == 1 ? "" : "s");
    else
        snprintf(buf, n, "%.1f ms", (double)d / 1e6);
    return buf;
}

static int run_staleness(const struct check_input *in, struct check_result *out)
{
    const hist *h = in->h;
    jw *j = &out->evidence;
    if (hist_model(h) != HIST_REGISTER) {
        out->verdict = CHECK_SKIPPED;
        snprintf(out->reason, sizeof out->reason,
                 "staleness is measured on registers (read/write/cas); this history is of strings");
        jw_obj(j);
        jw_obj_end(j);
        return 0;
    }
    size_t n = hist_count(h), n_keys = hist_n_keys(h), n_str = hist_n_strings(h);
    /* who wrote what */
    struct vw *vw = sim_xmalloc((n + 1) * sizeof *vw);
    size_t n_vw = 0;
    int32_t *key_index = sim_xmalloc((n_str + 1) * sizeof *key_index);
    for (size_t k = 0; k < n_keys; k++)
        key_index[hist_key(h, k)] = (int32_t)k;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        int64_t v;
        if (writes(op, &v))
            vw[n_vw++] = (struct vw){ key_index[op->key], v, (long)i };
    }
    sim_qsort(vw, n_vw, sizeof *vw, cmp_vw);
    /* per client */
    int64_t *reads_of = sim_xcalloc(n_str + 1, sizeof *reads_of);
    int64_t *stale_of = sim_xcalloc(n_str + 1, sizeof *stale_of);
    struct stale_read *stale = NULL;
    size_t n_stale = 0, cap_stale = 0, n_reads = 0, n_ambiguous = 0, n_nowhere = 0;
    struct wrec *wr = sim_xmalloc((n + 1) * sizeof *wr);
    struct wrec *by_inv = sim_xmalloc((n + 1) * sizeof *by_inv);
    long *rd = sim_xmalloc((n + 1) * sizeof *rd);
    for (size_t k = 0; k < n_keys; k++) {
        int32_t key = hist_key(h, k);
        size_t nw = 0, nr = 0;
        for (size_t i = 0; i < n; i++) {
            const struct hist_op *op = hist_op(h, i);
            if (op->key != key || op->type != HIST_OK)
                continue;
            if (op->f == HIST_WRITE || op->f == HIST_CAS)
                wr[nw++] = (struct wrec){ op->invoke_pos, op->complete_pos, (long)i };
            else if (op->f == HIST_READ)
                rd[nr++] = (long)i;   /* history order is invocation order */
        }
        memcpy(by_inv, wr, nw * sizeof *wr);
        sim_qsort(by_inv, nw, sizeof *by_inv, cmp_invoke);
        sim_qsort(wr, nw, sizeof *wr, cmp_complete);
        struct fenwick fw;
        fw_init(&fw, nw);
        size_t added = 0;
        for (size_t r = 0; r < nr; r++) {
            const struct hist_op *op = hist_op(h, (size_t)rd[r]);
            n_reads++;
            reads_of[op->process]++;
            while (added < nw && wr[added].complete_pos < op->invoke_pos) {
                /* its rank by invocation, reversed: later invocations first */
                size_t lo = 0, hi = nw;
                while (lo < hi) {
                    size_t mid = lo + (hi - lo) / 2;
                    if (by_inv[mid].invoke_pos < wr[added].invoke_pos)
                        lo = mid + 1;
                    else
                        hi = mid;
                }
                fw_add(&fw, nw - 1 - lo, wr[added].complete_pos, wr[added].op);
                added++;
            }
            /* the newer writes: invoked after the write of the value read completed */
            int64_t after = INT64_MIN;
            if (op->out != HIST_NIL) {
                long w = writer_of(vw, n_vw, (int32_t)k, op->out);
                if (w == -2) {
                    n_ambiguous++;
                    continue;
                }
                if (w == -1) {
                    n_nowhere++;
                    continue;
                }
                const struct hist_op *wo = hist_op(h, (size_t)w);
                if (wo->type != HIST_OK)
                    continue;   /* an indeterminate write never completed: nothing is surely newer */
                after = wo->complete_pos;
            }
            /* ranks whose invocation is > after: a suffix of by_inv, a prefix reversed */
            size_t lo = 0, hi = nw;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (by_inv[mid].invoke_pos <= after)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            long first;
            int64_t c = fw_query(&fw, nw - lo, &first);
            if (c == 0)
                continue;
            const struct hist_op *m = hist_op(h, (size_t)first);
            SIM_GROW(stale, cap_stale, n_stale + 1);
            stale[n_stale++] = (struct stale_read){ rd[r], first, c, op->invoke_t - m->complete_t };
            stale_of[op->process]++;
        }
        fw_free(&fw);
    }
    sim_qsort(stale, n_stale, sizeof *stale, cmp_worst);
    int64_t max_versions = 0, max_behind = 0;
    for (size_t i = 0; i < n_stale; i++) {
        max_versions = stale[i].versions > max_versions ? stale[i].versions : max_versions;
        max_behind = stale[i].behind > max_behind ? stale[i].behind : max_behind;
    }
    bool ns = hist_clock(h) == HIST_CLOCK_NS;
    /* JSON */
    jw_obj(j);
    jw_kint(j, "reads", (int64_t)n_reads);
    jw_kint(j, "judged", (int64_t)(n_reads - n_ambiguous - n_nowhere));
    jw_kint(j, "ambiguous", (int64_t)n_ambiguous);
    jw_kint(j, "unwritten", (int64_t)n_nowhere);
    jw_kint(j, "count", (int64_t)n_stale);
    jw_key(j, "max_ns");
    if (ns)
        jw_int(j, max_behind);
    else
        jw_null(j);
    if (!ns)
        jw_kint(j, "max_lines", max_behind);
    jw_kint(j, "max_versions", max_versions);
    jw_key(j, "per_client");
    jw_arr(j);
    bool *listed = sim_xcalloc(n_str + 1, sizeof *listed);
    for (size_t i = 0; i < n; i++) {
        int32_t p = hist_op(h, i)->process;
        if (listed[p])
            continue;
        listed[p] = true;
        jw_obj(j);
        jw_kstr(j, "client", hist_str(h, p));
        jw_kint(j, "reads", reads_of[p]);
        jw_kint(j, "stale", stale_of[p]);
        jw_obj_end(j);
    }
    sim_free(listed);
    jw_arr_end(j);
    jw_key(j, "worst");
    jw_arr(j);
    char what[320], what2[320], t1[48], t2[48], a1[48], who[64], who2[64];
    for (size_t i = 0; i < n_stale && i < STALE_SHOW; i++) {
        jw_obj(j);
        jw_key(j, "read");
        check_json_op(j, h, stale[i].read);
        jw_key(j, "missed");
        check_json_op(j, h, stale[i].missed);
        jw_kint(j, "versions", stale[i].versions);
        jw_kint(j, "behind", stale[i].behind);
        jw_obj_end(j);
    }
    jw_arr_end(j);
    jw_obj_end(j);
    /* text */
    if (n_stale > 0) {
        check_text(out, "the %s stalest read%s (the write each missed first, and how far behind):",
                   n_stale < STALE_SHOW ? "" : "5", n_stale == 1 ? "" : "s");
        for (size_t i = 0; i < n_stale && i < STALE_SHOW; i++) {
            const struct hist_op *r = hist_op(h, (size_t)stale[i].read);
            const struct hist_op *m = hist_op(h, (size_t)stale[i].missed);
            check_text(out, "  %s (op %" PRId64 ", begun at %s) missed %s (op %" PRId64
                       ", completed at %s): %s and %" PRId64 " version%s behind",
                       lin_describe_op(h, r, what, sizeof what), r->id,
                       lin_format_time(h, r->invoke_t, t1, sizeof t1),
                       lin_describe_op(h, m, what2, sizeof what2), m->id,
                       lin_format_time(h, m->complete_t, t2, sizeof t2),
                       amount(h, stale[i].behind, a1, sizeof a1), stale[i].versions,
                       stale[i].versions == 1 ? "" : "s");
        }
        check_text(out, "stale reads per client:");
        bool *done = sim_xcalloc(n_str + 1, sizeof *done);
        for (size_t i = 0; i < n; i++) {
            int32_t p = hist_op(h, i)->process;
            if (done[p] || reads_of[p] == 0)
                continue;
            done[p] = true;
            check_text(out, "  %s: %" PRId64 " of %" PRId64 " reads",
                       hist_process_label(h, p, who, sizeof who), stale_of[p], reads_of[p]);
        }
        sim_free(done);
    }
    char unjudged[160] = "";
    if (n_ambiguous + n_nowhere > 0)
        snprintf(unjudged, sizeof unjudged, " (%zu read%s not judged: %zu of a value written more "
                 "than once, %zu of a value nobody wrote)", n_ambiguous + n_nowhere,
                 n_ambiguous + n_nowhere == 1 ? "" : "s", n_ambiguous, n_nowhere);
    if (n_stale == 0) {
        out->verdict = CHECK_HOLDS;
        if (n_reads == 0)
            snprintf(out->reason, sizeof out->reason, "there are no reads to judge");
        else
            snprintf(out->reason, sizeof out->reason,
                     "none of the %zu reads returned a value already overwritten by a completed "
                     "write before the read began%s", n_reads, unjudged);
    } else {
        out->verdict = CHECK_VIOLATED;
        const struct stale_read *s = &stale[0];
        const struct hist_op *r = hist_op(h, (size_t)s->read);
        const struct hist_op *m = hist_op(h, (size_t)s->missed);
        char whatr[320], whatm[320], a2[48];
        hist_process_label(h, r->process, who, sizeof who);
        hist_process_label(h, m->process, who2, sizeof who2);
        lin_describe_op(h, r, whatr, sizeof whatr);
        lin_describe_op(h, m, whatm, sizeof whatm);
        snprintf(out->reason, sizeof out->reason,
                 "%zu of %zu reads were stale (the value read had been overwritten by a completed "
                 "write before the read began), by up to %s and up to %" PRId64 " version%s; the "
                 "worst: %s begun at %s, %s after %s's %s had completed (%" PRId64 " newer "
                 "write%s missed)%s",
                 n_stale, n_reads, amount(h, max_behind, a1, sizeof a1), max_versions,
                 max_versions == 1 ? "" : "s", whatr, lin_format_time(h, r->invoke_t, t1, sizeof t1),
                 amount(h, s->behind, a2, sizeof a2), who2, whatm + strlen(who2) + 1, s->versions,
                 s->versions == 1 ? "" : "s", unjudged);
    }
    sim_free(vw);
    sim_free(key_index);
    sim_free(reads_of);
    sim_free(stale_of);
    sim_free(stale);
    sim_free(wr);
    sim_free(by_inv);
    sim_free(rd);
    return 0;
}

const struct checker staleness_checker = {
    "staleness",
    "how many reads returned a value already overwritten before they began, and by how much "
    "(time and versions)",
    false,
    run_staleness, false,
};
