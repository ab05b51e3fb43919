/* no_lost_writes: are acknowledged writes still in the replicas' final state?
 *
 * Reads the nodes' final "state" lines: a model that publishes its data as
 * an object "map" of key -> integer value (leader_follower does) can be
 * checked here; for other models the checker is skipped.
 *
 * An acknowledged (ok) write or cas w of value v to key k survives on an up
 * node if that node's final map holds v for k, or a value whose write is not
 * certainly older than w (a later or concurrent write may have overwritten w
 * legitimately). It is lost on that node if the key is missing there, or the
 * final value's writer completed before w was invoked: the node went back to
 * a value older than something it acknowledged. A final value that no
 * operation in the history wrote tells nothing: w counts as kept.
 *
 * When the up nodes disagree, a write is called lost only if it is lost on
 * every one of them (some replica may still hand it back); writes lost on
 * some nodes only are counted apart.
 *
 * What it cannot see: a write that was lost and then overwritten by a later
 * write looks the same as one that was overwritten normally, since the final
 * state keeps only the last value of each key. */
#include "checker.h"
#include "sort.h"
#include "alloc.h"
#include "jread.h"
#include "history.h"
#include "linearizable.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOST_SHOW 20    /* lost writes listed in the text */
#define LOST_NAME 3     /* and named in the reason */

/* A node's final value of a key: nil when missing, `other` when it is not an
 * integer. */
struct fval {
    int64_t v;
    bool other;
};

static struct fval final_value(const cJSON *map, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(map, key);
    if (!x || cJSON_IsNull(x))
        return (struct fval){ HIST_NIL, false };
    int64_t v;
    if (!jr_int(x, &v))
        return (struct fval){ 0, true };
    return (struct fval){ v, false };
}

static bool written_value(const struct hist_op *op, int64_t *v)
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

/* What the history says about the writers of one value of one key. */
struct vsum {
    int32_t key;
    int64_t value;
    bool maybe_late;        /* an indeterminate writer: it may have taken effect any time */
    int64_t last_complete;  /* the latest completion of an ok writer */
};

static int cmp_vsum(const void *a, const void *b)
{
    const struct vsum *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->value > y->value) - (x->value < y->value);
}

/* Per (key, value): who may have written it, summed up. Sorted; n out. */
static struct vsum *summarise(const hist *h, size_t *n)
{
    struct vsum *s = sim_xmalloc((hist_count(h) + 1) * sizeof *s);
    size_t m = 0;
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *o = hist_op(h, i);
        int64_t v;
        if (written_value(o, &v))
            s[m++] = (struct vsum){ o->key, v, o->type != HIST_OK,
                                    o->type == HIST_OK ? o->complete_pos : INT64_MIN };
    }
    sim_qsort(s, m, sizeof *s, cmp_vsum);
    size_t u = 0;
    for (size_t i = 0; i < m; i++) {
        if (u > 0 && cmp_vsum(&s[u - 1], &s[i]) == 0) {
            s[u - 1].maybe_late |= s[i].maybe_late;
            if (s[i].last_complete > s[u - 1].last_complete)
                s[u - 1].last_complete = s[i].last_complete;
        } else
            s[u++] = s[i];
    }
    *n = u;
    return s;
}

/* Does the final value fv still account for the acknowledged write w? Yes if
 * it is w's value, or some operation that may have written fv is not
 * certainly older than w (did not complete before w was invoked), or
 * nothing in the history wrote fv (then nothing is known about it). */
static bool kept(const struct vsum *s, size_t n, const struct hist_op *w, struct fval fv)
{
    int64_t v = 0;
    written_value(w, &v);
    if (fv.other)
        return true;
    if (fv.v == HIST_NIL)
        return false;
    if (fv.v == v)
        return true;
    struct vsum probe = { w->key, fv.v, false, 0 };
    const struct vsum *x = bsearch(&probe, s, n, sizeof *s, cmp_vsum);
    if (!x)
        return true;
    return x->maybe_late || x->last_complete >= w->invoke_pos;
}

static void json_fval(jw *j, struct fval fv)
{
    if (fv.other)
        jw_str(j, "(not an integer)");
    else if (fv.v == HIST_NIL)
        jw_null(j);
    else
        jw_int(j, fv.v);
}

static const char *fval_text(struct fval fv, char *buf, size_t n)
{
    if (fv.other)
        snprintf(buf, n, "(not an integer)");
    else if (fv.v == HIST_NIL)
        snprintf(buf, n, "missing");
    else
        snprintf(buf, n, "%" PRId64, fv.v);
    return buf;
}

static int run_durability(const struct check_input *in, struct check_result *out)
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
    if (hist_model(h) != HIST_REGISTER) {
        out->verdict = CHECK_SKIPPED;
        snprintf(out->reason, sizeof out->reason,
                 "final states are compared for registers (read/write/cas) only");
        jw_obj_end(j);
        return 0;
    }
    /* the up nodes that publish a map */
    int *nodes = sim_xmalloc(((size_t)f->n_nodes + 1) * sizeof *nodes);
    const cJSON **maps = sim_xmalloc(((size_t)f->n_nodes + 1) * sizeof *maps);
    int n_maps = 0, n_up = 0;
    for (int i = 0; i < f->n_nodes; i++) {
        if (!f->final_up || !f->final_up[i] || !f->final_state || !f->final_state[i])
            continue;
        n_up++;
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(f->final_state[i], "map");
        if (cJSON_IsObject(m)) {
            nodes[n_maps] = i;
            maps[n_maps++] = m;
        }
    }
    if (n_maps == 0) {
        if (n_up == 0 && f->n_nodes > 0) {
            out->verdict = CHECK_UNKNOWN;
            snprintf(out->reason, sizeof out->reason,
                     "no node was up at the end of the run: there is no final state to look in");
        } else {
            out->verdict = CHECK_SKIPPED;
            snprintf(out->reason, sizeof out->reason,
                     "the model does not publish its data in its final state (no \"map\" in the "
                     "nodes' state lines)");
        }
        jw_obj_end(j);
        sim_free(nodes);
        sim_free(maps);
        return 0;
    }
    jw_key(j, "nodes");
    jw_arr(j);
    for (int m = 0; m < n_maps; m++)
        jw_str(j, f->names[nodes[m]]);
    jw_arr_end(j);
    /* keys on which the nodes disagree */
    size_t n_keys = hist_n_keys(h), n_str = hist_n_strings(h);
    bool *differ = sim_xcalloc(n_str + 1, sizeof *differ);
    size_t n_differ = 0;
    jw_key(j, "disagree");
    jw_arr(j);
    for (size_t k = 0; k < n_keys; k++) {
        int32_t key = hist_key(h, k);
        struct fval a = final_value(maps[0], hist_str(h, key));
        for (int m = 1; m < n_maps; m++) {
            struct fval b = final_value(maps[m], hist_str(h, key));
            if (a.other != b.other || a.v != b.v) {
                differ[key] = true;
                n_differ++;
                jw_str(j, hist_str(h, key));
                break;
            }
        }
    }
    jw_arr_end(j);
    /* every acknowledged write */
    size_t n_ack = 0, n_lost = 0, n_partly = 0, n_sums;
    struct vsum *sums = summarise(h, &n_sums);
    long *lost = sim_xmalloc((hist_count(h) + 1) * sizeof *lost);
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        int64_t v;
        if (op->type != HIST_OK || !written_value(op, &v))
            continue;
        n_ack++;
        int lost_on = 0;
        for (int m = 0; m < n_maps; m++)
            lost_on += !kept(sums, n_sums, op, final_value(maps[m], hist_str(h, op->key)));
        if (lost_on == n_maps)
            lost[n_lost++] = (long)i;
        else if (lost_on > 0)
            n_partly++;
    }
    jw_kint(j, "acknowledged", (int64_t)n_ack);
    jw_kint(j, "count", (int64_t)n_lost);
    jw_kint(j, "lost_on_some_nodes", (int64_t)n_partly);
    jw_key(j, "lost");
    jw_arr(j);
    char what[320], t[48], who[64], val[48];
    for (size_t l = 0; l < n_lost; l++) {
        const struct hist_op *op = hist_op(h, (size_t)lost[l]);
        int64_t v = 0;
        written_value(op, &v);
        jw_obj(j);
        jw_kint(j, "op", op->id);
        jw_kstr(j, "client", hist_str(h, op->process));
        jw_kstr(j, "f", hist_f_name((enum hist_f)op->f));
        jw_kstr(j, "key", hist_str(h, op->key));
        jw_kint(j, "value", v);
        jw_kint(j, "ack", op->complete_t);
        jw_kint(j, "complete_line", op->complete_line);
        jw_key(j, "final");
        jw_obj(j);
        for (int m = 0; m < n_maps; m++) {
            jw_key(j, f->names[nodes[m]]);
            json_fval(j, final_value(maps[m], hist_str(h, op->key)));
        }
        jw_obj_end(j);
        jw_obj_end(j);
        if (l < LOST_SHOW) {
            char finals[256] = "";
            size_t len = 0;
            for (int m = 0; m < n_maps && len + 1 < sizeof finals; m++)
                len += (size_t)snprintf(finals + len, sizeof finals - len, "%s%s=%s", m ? " " : "",
                                        f->names[nodes[m]],
                                        fval_text(final_value(maps[m], hist_str(h, op->key)), val,
                                                  sizeof val));
            if (len >= sizeof finals)
                len = sizeof finals - 1;
            check_text(out, "%s (op %" PRId64 "), acknowledged at %s (line %" PRId32 "); final %s: %s",
                       lin_describe_op(h, op, what, sizeof what), op->id,
                       lin_format_time(h, op->complete_t, t, sizeof t), op->complete_line,
                       hist_str(h, op->key), finals);
        }
    }
    if (n_lost > LOST_SHOW)
        check_text(out, "... and %zu more", n_lost - LOST_SHOW);
    jw_arr_end(j);
    jw_obj_end(j);
    char nodes_clause[160];
    snprintf(nodes_clause, sizeof nodes_clause, "%s",
             n_differ ? " (the replicas' final maps differ; a write counts as lost only when no "
                        "up replica holds it or a write not older than it)"
                      : "");
    if (n_lost == 0) {
        out->verdict = CHECK_HOLDS;
        snprintf(out->reason, sizeof out->reason,
                 "each of the %zu acknowledged writes is in the final state of %s, or was "
                 "overwritten there by a write not older than it%s%s",
                 n_ack, n_maps == 1 ? "the one up replica" : "some up replica", nodes_clause,
                 n_partly ? "; some are missing from some replicas only" : "");
    } else {
        out->verdict = CHECK_VIOLATED;
        size_t len = (size_t)snprintf(out->reason, sizeof out->reason,
                                      "%zu acknowledged write%s %s in no replica's final state: ",
                                      n_lost, n_lost == 1 ? "" : "s", n_lost == 1 ? "is" : "are");
        for (size_t l = 0; l < n_lost && l < LOST_NAME && len < sizeof out->reason; l++) {
            const struct hist_op *op = hist_op(h, (size_t)lost[l]);
            hist_process_label(h, op->process, who, sizeof who);
            lin_describe_op(h, op, what, sizeof what);
            len += (size_t)snprintf(out->reason + len, sizeof out->reason - len,
                                    "%s%s's %s acknowledged at %s", l ? ", " : "", who,
                                    what + strlen(who) + 1,
                                    lin_format_time(h, op->complete_t, t, sizeof t));
        }
        if (n_lost > LOST_NAME && len < sizeof out->reason)
            len += (size_t)snprintf(out->reason + len, sizeof out->reason - len, ", and %zu more",
                                    n_lost - LOST_NAME);
        if (len < sizeof out->reason)
            snprintf(out->reason + len, sizeof out->reason - len, "%s", nodes_clause);
    }
    sim_free(lost);
    sim_free(sums);
    sim_free(differ);
    sim_free(nodes);
    sim_free(maps);
    return 0;
}

const struct checker no_lost_writes_checker = {
    "no_lost_writes",
    "every acknowledged write is still in some replica's final state, unless a write not older "
    "than it replaced it",
    true,
    run_durability, false,
};
