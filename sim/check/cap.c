/* cap: where the run sat on CAP and PACELC, judged from what happened.
 *
 * PACELC says: if there is a Partition, a system chooses Availability or
 * Consistency; Else, in normal operation, it chooses Latency or
 * Consistency. This checker does not trust what a model says about itself;
 * it looks at the run.
 *
 * P side. During each network fault (partition, isolation, one-way cut,
 * bridge; from the trace), every operation invoked then is counted on the
 * side of the node its first attempt went to -- or, when its client was on
 * another side (the request could not arrive), on the client's side: what
 * the clients there got (op_sides_of, shared with the report). Served
 * (ok), refused (fail) or timed out (info). If every side that received at
 * least CAP_MIN_OPS operations served at least half of them, the run was
 * available under partition (PA); if some side served less than half, it
 * chose consistency (PC). The reads those sides served that were already
 * stale (a newer write had completed before they began) are counted as the
 * price of availability. No network fault in the run: the P side is not
 * observed ("P?").
 *
 * A side that kept serving reads but refused or timed out most writes
 * chose consistency too: writes are judged on their own when there were
 * CAP_MIN_OPS or more.
 *
 * E side. Outside network faults and node outages, a write answered by a
 * node without asking any other costs one client round trip; one that
 * waits for other nodes costs at least half a node round trip more. Only
 * operations served by the node they were first sent to count (a redirect
 * adds a round trip that says nothing about the protocol). If the
 * median write (and cas) latency is at least the client round trip plus
 * half the node round trip, and no read outside faults was stale, the run
 * chose consistency (EC); otherwise latency (EL). Round trips are twice the
 * median one-way delay the trace shows for client-node and node-node
 * messages.
 *
 * The label (e.g. "PA/EL") is compared with the class the model declares
 * for its parameters (the cluster line's cap_class): a mismatch is a
 * finding (violated), as is nothing observable (unknown). */
#include "checker.h"
#include "sort.h"
#include "alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAP_MIN_OPS 3

struct side_tally {
    int side;
    uint64_t invoked, ok, fail, info, stale;
    uint64_t writes, writes_ok;
};

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t median(const int64_t *sorted, size_t n)
{
    return n ? sorted[n / 2] : 0;
}

/* p-th percentile (0..100) of a sorted array */
static int64_t percentile(const int64_t *sorted, size_t n, int p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)((uint64_t)p * (n - 1) / 100);
    return sorted[i];
}

static bool is_write(const struct hist_op *op)
{
    return op->f == HIST_WRITE || op->f == HIST_CAS || op->f == HIST_PUT || op->f == HIST_APPEND;
}

static bool is_read(const struct hist_op *op)
{
    return op->f == HIST_READ || op->f == HIST_GET;
}

/* A read is stale when the value it returned had been overwritten before it
 * began: some ok write to the key completed before the read's invocation,
 * after the write of the value read had completed (or the read saw nil).
 * Computed for every read at once in O(n log n): per key, ok writes sorted
 * by completion with the running maximum of their invocation times. */
struct done_write {
    int32_t key;
    int64_t value;
    int64_t complete;   /* INT64_MAX for an info write: it never "completed" */
    int64_t invoke;
};

static int by_key_value(const void *a, const void *b)
{
    const struct done_write *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return (x->complete > y->complete) - (x->complete < y->complete);
}

static int by_key_complete(const void *a, const void *b)
{
    const struct done_write *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->complete > y->complete) - (x->complete < y->complete);
}

static void find_stale_reads(const hist *h, bool *stale)
{
    size_t n = hist_count(h);
    if (hist_model(h) != HIST_REGISTER)
        return;
    struct done_write *by_value = sim_xcalloc(n ? n : 1, sizeof *by_value);
    struct done_write *by_done = sim_xcalloc(n ? n : 1, sizeof *by_done);
    size_t nv = 0, nd = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *w = hist_op(h, i);
        if (!is_write(w) || w->type == HIST_FAIL)
            continue;
        int64_t value = w->f == HIST_CAS ? w->arg2 : w->arg;
        int64_t done = w->type == HIST_OK ? w->complete_t : INT64_MAX;
        by_value[nv++] = (struct done_write){ w->key, value, done, w->invoke_t };
        if (w->type == HIST_OK)
            by_done[nd++] = (struct done_write){ w->key, value, done, w->invoke_t };
    }
    sim_qsort(by_value, nv, sizeof *by_value, by_key_value);
    sim_qsort(by_done, nd, sizeof *by_done, by_key_complete);
    /* running maximum of invocation times within each key, in completion order */
    for (size_t i = 1; i < nd; i++)
        if (by_done[i].key == by_done[i - 1].key && by_done[i - 1].invoke > by_done[i].invoke)
            by_done[i].invoke = by_done[i - 1].invoke;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *r = hist_op(h, i);
        if (!is_read(r) || r->type != HIST_OK)
            continue;
        int64_t source_done = INT64_MIN;
        if (r->out != HIST_NIL) {
            struct done_write probe = { r->key, r->out, INT64_MIN, 0 };
            size_t lo = 0, hi = nv;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (by_key_value(&by_value[mid], &probe) < 0)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo == nv || by_value[lo].key != r->key || by_value[lo].value != r->out)
                continue;   /* a value nobody wrote is for the linearizability checker */
            source_done = by_value[lo].complete;
        }
        /* the last ok write of the key that completed before the read began */
        size_t lo = 0, hi = nd;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (by_done[mid].key < r->key ||
                (by_done[mid].key == r->key && by_done[mid].complete < r->invoke_t))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0 && by_done[lo - 1].key == r->key && by_done[lo - 1].invoke > source_done)
            stale[i] = true;
    }
    sim_free(by_value);
    sim_free(by_done);
}

static bool in_fault(const struct trace_facts *f, int64_t t)
{
    for (size_t i = 0; i < f->n_windows; i++)
        if (f->windows[i].start <= t && t < f->windows[i].end)
            return true;
    for (size_t i = 0; i < f->n_down; i++)
        if (f->down[i].start <= t && t < f->down[i].end)
            return true;
    return false;
}

static struct side_tally *tally_for(struct side_tally *t, size_t *n, int side)
{
    for (size_t i = 0; i < *n; i++)
        if (t[i].side == side)
            return &t[i];
    t[*n] = (struct side_tally){ .side = side };
    return &t[(*n)++];
}

static void side_nodes(const struct trace_facts *f, const struct net_window *w, int side, char *buf,
                       size_t len)
{
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < f->n_nodes; i++) {
        if (w->side_of[i] != side)
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", f->names[i]);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (!buf[0])
        snprintf(buf, len, "%s", side < 0 ? "others" : "-");
}

static int run_cap(const struct check_input *in, struct check_result *out)
{
    const struct trace_facts *f = in->facts;
    const hist *h = in->h;
    jw *j = &out->evidence;
    int64_t rtt_client = 2 * median(f->client_delays, f->n_client_delays);
    int64_t rtt_node = 2 * median(f->node_delays, f->n_node_delays);
    size_t n = hist_count(h);
    bool *stale = sim_xcalloc(n ? n : 1, sizeof *stale);
    find_stale_reads(h, stale);

    jw_obj(j);
    jw_kint(j, "rtt_client_ns", rtt_client);
    jw_kint(j, "rtt_node_ns", rtt_node);
    check_text(out, "round trips: client-node %.3f ms, node-node %.3f ms (twice the median one-way delay)",
               (double)rtt_client / 1e6, (double)rtt_node / 1e6);

    /* ---- P: each network fault, per side ---- */
    bool p_seen = false, p_consistent = false;
    uint64_t p_stale = 0;
    const char *worst_side_nodes = NULL;
    char worst_buf[256] = "";
    double worst_avail = 2.0;
    bool worst_writes = false;   /* the worst figure is about writes only */
    jw_key(j, "partitions");
    jw_arr(j);
    struct side_tally *tally = sim_xcalloc((size_t)f->n_names + 2, sizeof *tally);
    struct op_sides sides;
    op_sides_init(&sides, f, h);
    for (size_t wi = 0; wi < f->n_windows; wi++) {
        const struct net_window *w = &f->windows[wi];
        size_t nt = 0;
        for (size_t i = 0; i < n; i++) {
            const struct hist_op *op = hist_op(h, i);
            if (op->invoke_t < w->start || op->invoke_t >= w->end)
                continue;
            int side;
            if (!op_sides_of(&sides, w, op, &side))
                continue;
            struct side_tally *s = tally_for(tally, &nt, side);
            s->invoked++;
            if (op->type == HIST_OK)
                s->ok++;
            else if (op->type == HIST_FAIL)
                s->fail++;
            else
                s->info++;
            s->stale += stale[i];
            if (is_write(op)) {
                s->writes++;
                s->writes_ok += op->type == HIST_OK;
            }
        }
        jw_obj(j);
        jw_kstr(j, "kind", w->kind);
        jw_kint(j, "start", w->start);
        jw_key(j, "end");
        if (w->end == INT64_MAX)
            jw_null(j);
        else
            jw_int(j, w->end);
        jw_key(j, "sides");
        jw_arr(j);
        char until[48] = "the end";
        if (w->end != INT64_MAX)
            snprintf(until, sizeof until, "%.3f ms", (double)w->end / 1e6);
        check_text(out, "%s from %.3f ms to %s:", w->kind, (double)w->start / 1e6, until);
        for (size_t s = 0; s < nt; s++) {
            char nodes[256];
            side_nodes(f, w, tally[s].side, nodes, sizeof nodes);
            double avail = tally[s].invoked ? (double)tally[s].ok / (double)tally[s].invoked : 0;
            jw_obj(j);
            jw_kstr(j, "nodes", nodes);
            jw_kint(j, "invoked", (int64_t)tally[s].invoked);
            jw_kint(j, "ok", (int64_t)tally[s].ok);
            jw_kint(j, "fail", (int64_t)tally[s].fail);
            jw_kint(j, "info", (int64_t)tally[s].info);
            jw_knum(j, "availability", avail);
            jw_kint(j, "stale_reads", (int64_t)tally[s].stale);
            jw_kint(j, "writes", (int64_t)tally[s].writes);
            jw_kint(j, "writes_ok", (int64_t)tally[s].writes_ok);
            jw_obj_end(j);
            check_text(out, "  side %-16s %4" PRIu64 " operations: %3.0f%% served, %" PRIu64 " refused, %" PRIu64
                       " timed out; writes %" PRIu64 "/%" PRIu64 " served; %" PRIu64 " stale reads served",
                       nodes, tally[s].invoked, 100 * avail, tally[s].fail, tally[s].info, tally[s].writes_ok,
                       tally[s].writes, tally[s].stale);
            if (tally[s].invoked < CAP_MIN_OPS)
                continue;
            p_seen = true;
            p_stale += tally[s].stale;
            /* a side that keeps answering reads but refuses writes chose
             * consistency too: judge writes on their own */
            double wavail = tally[s].writes ? (double)tally[s].writes_ok / (double)tally[s].writes : 1;
            double judged = tally[s].writes >= CAP_MIN_OPS && wavail < avail ? wavail : avail;
            if (judged < worst_avail) {
                worst_avail = judged;
                worst_writes = judged < avail;
                snprintf(worst_buf, sizeof worst_buf, "%s", nodes);
                worst_side_nodes = worst_buf;
            }
            if (judged < 0.5)
                p_consistent = true;
        }
        jw_arr_end(j);
        jw_obj_end(j);
    }
    jw_arr_end(j);
    sim_free(tally);
    op_sides_free(&sides);

    /* ---- E: normal operation ---- */
    int64_t *wlat = sim_xcalloc(n ? n : 1, sizeof *wlat);
    int64_t *rlat = sim_xcalloc(n ? n : 1, sizeof *rlat);
    size_t nw = 0, nr = 0;
    uint64_t e_stale = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->type != HIST_OK || in_fault(f, op->invoke_t) || in_fault(f, op->complete_t))
            continue;
        /* a redirect or a retry costs extra round trips that say nothing
         * about the protocol's choice: only operations served by the node
         * they were sent to */
        int target, server;
        if (!trace_facts_route(f, op->id, &target, &server) || server != target)
            continue;
        int64_t lat = op->complete_t - op->invoke_t;
        if (is_write(op))
            wlat[nw++] = lat;
        else if (is_read(op)) {
            rlat[nr++] = lat;
            e_stale += stale[i];
        }
    }
    sim_qsort(wlat, nw, sizeof *wlat, cmp_i64);
    sim_qsort(rlat, nr, sizeof *rlat, cmp_i64);
    int64_t w50 = median(wlat, nw), r50 = median(rlat, nr);
    int64_t coordinated = rtt_client + rtt_node / 2;
    bool e_seen = nw + nr > 0 && rtt_client > 0;
    bool e_consistent = nw > 0 ? w50 >= coordinated && e_stale == 0 : e_stale == 0 && r50 >= coordinated;
    jw_key(j, "normal");
    jw_obj(j);
    jw_kint(j, "writes", (int64_t)nw);
    jw_kint(j, "reads", (int64_t)nr);
    jw_kint(j, "write_p50_ns", w50);
    jw_kint(j, "write_p99_ns", percentile(wlat, nw, 99));
    jw_kint(j, "read_p50_ns", r50);
    jw_kint(j, "read_p99_ns", percentile(rlat, nr, 99));
    jw_kint(j, "coordination_threshold_ns", coordinated);
    jw_kint(j, "stale_reads", (int64_t)e_stale);
    jw_obj_end(j);
    check_text(out, "outside faults: %zu writes, median %.3f ms (p99 %.3f ms); %zu reads, median %.3f ms "
               "(p99 %.3f ms); %" PRIu64 " stale reads",
               nw, (double)w50 / 1e6, (double)percentile(wlat, nw, 99) / 1e6, nr, (double)r50 / 1e6,
               (double)percentile(rlat, nr, 99) / 1e6, e_stale);
    check_text(out, "a write that waits for other nodes takes at least %.3f ms (client round trip + half a "
               "node round trip)", (double)coordinated / 1e6);
    sim_free(wlat);
    sim_free(rlat);
    sim_free(stale);

    char label[16];
    snprintf(label, sizeof label, "%s/%s", !p_seen ? "P?" : p_consistent ? "PC" : "PA",
             !e_seen ? "E?" : e_consistent ? "EC" : "EL");
    jw_kstr(j, "label", label);
    jw_key(j, "declared");
    if (f->cap_class)
        jw_str(j, f->cap_class);
    else
        jw_null(j);
    jw_obj_end(j);

    /* ---- the sentence ---- */
    char p_part[400], e_part[400];
    if (!p_seen)
        snprintf(p_part, sizeof p_part, "no side of a network fault received %d or more operations, so "
                 "the partition behaviour was not observed", CAP_MIN_OPS);
    else if (p_consistent)
        snprintf(p_part, sizeof p_part, "during partitions side %.100s served only %.0f%% of its %s "
                 "(consistency chosen over availability)", worst_side_nodes, 100 * worst_avail,
                 worst_writes ? "writes" : "operations");
    else
        snprintf(p_part, sizeof p_part, "during partitions every side kept serving (the worst, %.100s, %.0f%%)%s",
                 worst_side_nodes ? worst_side_nodes : "-", 100 * worst_avail,
                 p_stale ? ", stale reads included" : "");
    if (!e_seen)
        snprintf(e_part, sizeof e_part, "no operation completed outside faults");
    else if (e_consistent)
        snprintf(e_part, sizeof e_part, "otherwise writes took a median %.3f ms, waiting for other nodes, "
                 "and no read was stale", (double)w50 / 1e6);
    else if (e_stale)
        snprintf(e_part, sizeof e_part, "otherwise %" PRIu64 " reads returned overwritten values (latency "
                 "chosen over consistency)", e_stale);
    else
        snprintf(e_part, sizeof e_part, "otherwise writes took a median %.3f ms, about one client round trip: "
                 "answered without waiting for other nodes", (double)w50 / 1e6);
    if (!p_seen || !e_seen) {
        out->verdict = CHECK_UNKNOWN;
        snprintf(out->reason, sizeof out->reason, "observed %s: %s; %s", label, p_part, e_part);
    } else if (f->cap_class && strcmp(f->cap_class, label) != 0) {
        out->verdict = CHECK_VIOLATED;
        snprintf(out->reason, sizeof out->reason, "observed %s, but the %.40s model declares %.16s for these "
                 "parameters: %s; %s", label, f->model ? f->model : "cluster's", f->cap_class, p_part, e_part);
    } else {
        out->verdict = CHECK_HOLDS;
        snprintf(out->reason, sizeof out->reason, "observed %s%s%.40s: %s; %s", label,
                 f->cap_class ? ", as declared by " : "",
                 f->cap_class ? (f->model ? f->model : "the cluster's model") : "", p_part, e_part);
    }
    return 0;
}

const struct checker cap_checker = {
    "cap", "where the run sat on CAP/PACELC, from availability under partition and latency otherwise; "
           "compared with the model's declared class",
    true, run_cap, false,
};
