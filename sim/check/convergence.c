/* converges: do the replicas end up holding the same data?
 *
 * Eventual consistency's promise, checked on the nodes' final "state" lines:
 * once faults are over and writes have stopped for long enough, every up
 * replica holds the same "map" (the data a model such as leader_follower
 * publishes; models without one are skipped).
 *
 * "Long enough": the run must have gone on for the quiet period (default
 * 1 s, or check_input.quiet_period) after the last fault ended (a heal, a
 * restart, a resume), and after the last write for a quarter of it, but at
 * least twice the slowest delivery between nodes seen in the trace (a write
 * still travelling is not a divergence). A write counts until its client
 * heard back or gave up; one still open at the end counts until the end.
 * When the run ended sooner, the verdict is unknown: the replicas may still
 * be catching up.
 *
 * Nodes crashed at the end publish nothing; nodes paused at the end cannot
 * catch up: both are left out and named.
 *
 * Sharded data: a model that keeps each key on R of the nodes only (the
 * quorum model with more nodes than n) says so with "replicas": R in every
 * final state. Then a key is compared among the up nodes that hold it, and
 * it must be held by at least R of them, less the nodes left out (which
 * may have been its replicas): "k2: 7 on n1, n2 (2 of its 3 replicas)". */
#include "checker.h"
#include "alloc.h"
#include "history.h"
#include "jread.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONV_DEFAULT_QUIET INT64_C(1000000000)   /* 1 s */
#define CONV_SHOW_KEYS 20

static bool paused_at_end(const struct trace_facts *f, int node)
{
    for (size_t i = 0; i < f->n_down; i++)
        if (f->down[i].node == node && f->down[i].paused && f->down[i].end == INT64_MAX)
            return true;
    return false;
}

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

/* The value text of a map entry, for people: compact JSON, or "missing". */
static char *value_text(const cJSON *v)
{
    if (!v)
        return sim_xstrdup("missing");
    char *s = cJSON_PrintUnformatted(v);
    char *r = sim_xstrdup(s ? s : "?");
    cJSON_free(s);
    return r;
}

/* R when every compared node's final state says "replicas": R with R below
 * the cluster's size (each key lives on R nodes); 0 otherwise. */
static int sharded_replicas(const struct trace_facts *f, const int *nodes, int n_maps)
{
    int r = 0;
    for (int m = 0; m < n_maps; m++) {
        int64_t v;
        if (!jr_int(cJSON_GetObjectItemCaseSensitive(f->final_state[nodes[m]], "replicas"), &v) ||
            v < 1 || v >= f->n_nodes || (m && v != r))
            return 0;
        r = (int)v;
    }
    return r;
}

/* The keys of all maps, each once, in order of first appearance (node by
 * node, each map in its own order). */
static size_t all_keys(const cJSON **maps, int n, const char ***out)
{
    size_t cap = 16, k = 0;
    const char **keys = sim_xmalloc(cap * sizeof *keys);
    for (int m = 0; m < n; m++) {
        const cJSON *e;
        cJSON_ArrayForEach(e, maps[m]) {
            if (!e->string)
                continue;
            bool seen = false;
            for (size_t i = 0; i < k && !seen; i++)
                seen = strcmp(keys[i], e->string) == 0;
            if (seen)
                continue;
            SIM_GROW(keys, cap, k + 1);
            keys[k++] = e->string;
        }
    }
    *out = keys;
    return k;
}

static int run_convergence(const struct check_input *in, struct check_result *out)
{
    const hist *h = in->h;
    const struct trace_facts *f = in->facts;
    jw *j = &out->evidence;
    jw_obj(j);
    if (!f) {
        out->verdict = CHECK_SKIPPED;
        snprintf(out->reason, sizeof out->reason,
                 "needs a sim trace: the replicas' final states are not in this file");
        jw_obj_end(j);
        return 0;
    }
    int64_t quiet = in->quiet_period > 0 ? in->quiet_period : CONV_DEFAULT_QUIET;
    int64_t slowest = f->n_node_delays ? f->node_delays[f->n_node_delays - 1] : 0;
    /* delays come from the file: saturate rather than overflow on a forged one */
    int64_t twice = slowest > INT64_MAX / 2 ? INT64_MAX : 2 * slowest;
    int64_t write_quiet = quiet / 4 > twice ? quiet / 4 : twice;
    if (write_quiet > quiet)
        write_quiet = quiet;
    /* the replicas to compare */
    int *nodes = sim_xmalloc(((size_t)f->n_nodes + 1) * sizeof *nodes);
    const cJSON **maps = sim_xmalloc(((size_t)f->n_nodes + 1) * sizeof *maps);
    int n_maps = 0, n_up = 0;
    jw_key(j, "left_out");
    jw_arr(j);
    for (int i = 0; i < f->n_nodes; i++) {
        bool up = f->final_up && f->final_up[i] && f->final_state && f->final_state[i];
        bool paused = up && paused_at_end(f, i);
        if (!up || paused) {
            jw_obj(j);
            jw_kstr(j, "node", f->names[i]);
            jw_kstr(j, "why", paused ? "paused" : "down");
            jw_obj_end(j);
            continue;
        }
        n_up++;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(f->final_state[i], "map");
        if (cJSON_IsObject(m)) {
            nodes[n_maps] = i;
            maps[n_maps++] = m;
        }
    }
    jw_arr_end(j);
    /* when things went quiet */
    int64_t last_write = 0;
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->f == HIST_READ || op->f == HIST_GET)
            continue;
        int64_t t = op->open ? f->end_time : op->complete_t;
        if (t > last_write)
            last_write = t;
    }
    /* with no fault at all, only the writes must have settled */
    bool faults = f->n_windows > 0 || f->n_down > 0 || f->last_fault_end > 0;
    int64_t settled = faults ? f->last_fault_end + quiet : 0;
    if (last_write + write_quiet > settled)
        settled = last_write + write_quiet;
    jw_kint(j, "quiet_period", quiet);
    jw_kint(j, "write_quiet", write_quiet);
    jw_kint(j, "last_fault_end", f->last_fault_end);
    jw_kint(j, "last_write", last_write);
    jw_kint(j, "settled_at", settled);
    jw_kint(j, "end", f->end_time);
    jw_key(j, "nodes");
    jw_arr(j);
    for (int m = 0; m < n_maps; m++)
        jw_str(j, f->names[nodes[m]]);
    jw_arr_end(j);
    char left[64] = "";
    if (n_up < f->n_nodes)
        snprintf(left, sizeof left, " (%d crashed or paused at the end, left out)",
                 f->n_nodes - n_up);
    if (n_maps == 0) {
        if (n_up == 0 && f->n_nodes > 0) {
            out->verdict = CHECK_UNKNOWN;
            snprintf(out->reason, sizeof out->reason,
                     "no node was up (and running) at the end of the run: there is nothing to compare");
        } else {
            out->verdict = CHECK_SKIPPED;
            snprintf(out->reason, sizeof out->reason,
                     "the model does not publish its data in its final state (no \"map\" in the "
                     "nodes' state lines)");
        }
        jw_key(j, "differ");
        jw_arr(j);
        jw_arr_end(j);
        jw_obj_end(j);
        sim_free(nodes);
        sim_free(maps);
        return 0;
    }
    /* where they differ */
    int replicas = sharded_replicas(f, nodes, n_maps);
    int need = replicas - (f->n_nodes - n_maps);   /* holders a key must have */
    if (replicas)
        jw_kint(j, "replicas", replicas);
    const char **keys;
    size_t n_keys = all_keys(maps, n_maps, &keys), n_differ = 0;
    char first[512] = "";
    jw_key(j, "differ");
    jw_arr(j);
    for (size_t k = 0; k < n_keys; k++) {
        const cJSON *a = NULL;
        bool same = true;
        int holders = 0;
        for (int m = 0; m < n_maps; m++) {
            const cJSON *b = cJSON_GetObjectItemCaseSensitive(maps[m], keys[k]);
            if (replicas && !b)
                continue;   /* not one of this key's replicas */
            holders++;
            if (holders == 1)
                a = b;
            else if (same)
                same = (!a && !b) || (a && b && cJSON_Compare(a, b, true));
        }
        bool under = replicas && holders < need;
        if (same && !under)
            continue;
        n_differ++;
        jw_obj(j);
        jw_kstr(j, "key", keys[k]);
        jw_key(j, "values");
        jw_obj(j);
        /* the text groups the nodes that agree: "x: 278 on n1; 90 on n4, n5" */
        char line[512];
        size_t len = (size_t)snprintf(line, sizeof line, "%s:", keys[k]);
        bool *done = sim_xcalloc((size_t)n_maps, sizeof *done);
        bool lead = true;
        for (int m = 0; m < n_maps; m++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(maps[m], keys[k]);
            if (replicas && !v)
                continue;
            jw_key(j, f->names[nodes[m]]);
            if (v) {
                char *s = cJSON_PrintUnformatted(v);
                jw_raw(j, s ? s : "null", s ? strlen(s) : 4);
                cJSON_free(s);
            } else
                jw_null(j);
            if (done[m])
                continue;
            char *vt = value_text(v);
            if (len < sizeof line)
                len += (size_t)snprintf(line + len, sizeof line - len, "%s %s on %s",
                                        lead ? "" : ";", vt, f->names[nodes[m]]);
            lead = false;
            sim_free(vt);
            for (int o = m + 1; o < n_maps; o++) {
                const cJSON *w = cJSON_GetObjectItemCaseSensitive(maps[o], keys[k]);
                if ((!v && !w) || (v && w && cJSON_Compare(v, w, true))) {
                    done[o] = true;
                    if (len < sizeof line)
                        len += (size_t)snprintf(line + len, sizeof line - len, ", %s",
                                                f->names[nodes[o]]);
                }
            }
        }
        sim_free(done);
        jw_obj_end(j);
        if (replicas)
            jw_kint(j, "holders", holders);
        jw_obj_end(j);
        if (under && len < sizeof line)
            len += (size_t)snprintf(line + len, sizeof line - len, " (%d of its %d replicas)",
                                    holders, replicas);
        if (n_differ <= CONV_SHOW_KEYS)
            check_text(out, "%s", line);
        if (n_differ == 1)
            snprintf(first, sizeof first, "%s", line);
    }
    if (n_differ > CONV_SHOW_KEYS)
        check_text(out, "... and %zu more keys", n_differ - CONV_SHOW_KEYS);
    jw_arr_end(j);
    jw_kint(j, "keys", (int64_t)n_keys);
    jw_kint(j, "keys_differ", (int64_t)n_differ);
    jw_obj_end(j);
    char since[200];
    if (f->last_fault_end > 0)
        snprintf(since, sizeof since, "%.1f ms after the last fault ended and %.1f ms after the "
                 "last write", ms(f->end_time - f->last_fault_end), ms(f->end_time - last_write));
    else
        snprintf(since, sizeof since, "with no fault, %.1f ms after the last write",
                 ms(f->end_time - last_write));
    if (n_differ == 0 && replicas) {
        out->verdict = CHECK_HOLDS;
        snprintf(out->reason, sizeof out->reason,
                 "each of the %zu key%s has the same value on every up node holding it (%d "
                 "replicas per key on %d nodes) at the end of the run, %s%s",
                 n_keys, n_keys == 1 ? "" : "s", replicas, f->n_nodes, since, left);
    } else if (n_differ == 0) {
        out->verdict = CHECK_HOLDS;
        snprintf(out->reason, sizeof out->reason,
                 "the %d up replica%s hold%s the same map (%zu key%s) at the end of the run, %s%s",
                 n_maps, n_maps == 1 ? "" : "s", n_maps == 1 ? "s" : "", n_keys,
                 n_keys == 1 ? "" : "s", since, left);
    } else if (f->end_time < settled) {
        out->verdict = CHECK_UNKNOWN;
        snprintf(out->reason, sizeof out->reason,
                 "the %d up replicas differ on %zu key%s at the end, but the run ended %s, before "
                 "the quiet period (%.1f ms after the last fault, %.1f ms after the last write): "
                 "they may still be catching up; run longer or pass a shorter quiet period",
                 n_maps, n_differ, n_differ == 1 ? "" : "s", since, ms(quiet), ms(write_quiet));
    } else {
        out->verdict = CHECK_VIOLATED;
        snprintf(out->reason, sizeof out->reason,
                 "the %d up replicas still differ on %zu of %zu key%s at the end of the run, %s%s; "
                 "%s",
                 n_maps, n_differ, n_keys, n_keys == 1 ? "" : "s", since, left, first);
    }
    sim_free(keys);
    sim_free(nodes);
    sim_free(maps);
    return 0;
}

const struct checker converges_checker = {
    "converges",
    "after faults and writes stop, every up replica ends with the same data (eventual "
    "consistency, on the final states)",
    true,
    run_convergence,
    true,
};
