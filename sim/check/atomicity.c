/* atomicity and nonblocking: what a two-phase commit's participants did.
 *
 * Both read the model's "decision", "blocked" and "unblocked" notes (see
 * docs/models/twopc.md), never the client history: atomicity is about what
 * every participant applied, which a client cannot see.
 *
 * atomicity: every transaction is committed on all of the nodes that
 * decided it, or on none. A coordinator that says commit for a transaction
 * that some participant aborted (or the reverse), or two participants that
 * disagree, is a violation. Participants that never learned the outcome
 * before the end are counted apart (undecided: blocked, or down).
 *
 * nonblocking: no participant was ever blocked (voted yes, then waited for
 * a decision past its timeout). When some were, the evidence says how long
 * (longest and total, per episode, still blocked at the end or not) and
 * whether they held their locks meanwhile, as two-phase commit requires. */
#include "checker.h"
#include "sort.h"
#include "alloc.h"
#include "jread.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ATOM_SHOW 10

static const char *note_str(const struct trace_note *n, const char *k)
{
    return jr_str(n->obj, k, "");
}

static int64_t note_int(const struct trace_note *n, const char *k, int64_t dflt)
{
    return jr_i64(n->obj, k, dflt);
}

/* A time or duration field of a note (ns), clamped to +-2^53 like the
 * trace's own times (a node's clock may run behind or ahead, so negative
 * stays allowed): a forged one cannot overflow the differences below. */
static int64_t note_time(const struct trace_note *n, const char *k, int64_t dflt)
{
    int64_t v = note_int(n, k, dflt);
    return v < -HIST_MAX_TIME ? -HIST_MAX_TIME : v > HIST_MAX_TIME ? HIST_MAX_TIME : v;
}

/* One decision note, flattened. */
struct dec {
    int64_t txn;
    int64_t t;
    int node;
    bool commit;
    bool coordinator;
    size_t seq;             /* position in the trace: keeps the sort stable */
};

static int cmp_dec(const void *a, const void *b)
{
    const struct dec *x = a, *y = b;
    if (x->txn != y->txn)
        return x->txn < y->txn ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static const char *node_label(const struct trace_facts *f, int node)
{
    return node >= 0 && node < f->n_names ? f->names[node] : "?";
}

/* Write the nodes of decisions d[lo..hi) with outcome commit into text
 * and a JSON array. */
static void list_nodes(const struct trace_facts *f, const struct dec *d, size_t lo, size_t hi, bool commit,
                       char *buf, size_t n, jw *j)
{
    size_t used = 0;
    buf[0] = 0;
    jw_arr(j);
    for (size_t i = lo; i < hi; i++) {
        if (d[i].commit != commit)
            continue;
        char who[80];
        snprintf(who, sizeof who, "%s%s", node_label(f, d[i].node), d[i].coordinator ? " (coordinator)" : "");
        jw_str(j, who);
        if (used + strlen(who) + 3 < n)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "", who);
    }
    jw_arr_end(j);
}

static int run_atomicity(const struct check_input *in, struct check_result *out)
{
    const struct trace_facts *f = in->facts;
    size_t n = 0;
    struct dec *d = sim_xmalloc((f->n_notes + 1) * sizeof *d);
    for (size_t i = 0; i < f->n_notes; i++) {
        const struct trace_note *t = &f->notes[i];
        if (strcmp(t->what, "decision") != 0)
            continue;
        d[n] = (struct dec){ .txn = note_int(t, "txn", -1), .t = t->t, .node = t->node,
                             .commit = strcmp(note_str(t, "outcome"), "commit") == 0,
                             .coordinator = strcmp(note_str(t, "role"), "coordinator") == 0, .seq = i };
        n++;
    }
    jw *j = &out->evidence;
    if (n == 0) {
        sim_free(d);
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
                  "no transaction was decided in this trace (no decision notes, as twopc writes): "
                  "nothing to judge");
        jw_obj(j);
        jw_obj_end(j);
        return 0;
    }
    sim_qsort(d, n, sizeof *d, cmp_dec);
    size_t txns = 0, committed = 0, bad = 0;
    int64_t first_bad = -1;
    char first_text[600] = "";
    jw_obj(j);
    jw_key(j, "violations");
    jw_arr(j);
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo;
        bool any_commit = false, any_abort = false;
        while (hi < n && d[hi].txn == d[lo].txn) {
            any_commit |= d[hi].commit;
            any_abort |= !d[hi].commit;
            hi++;
        }
        txns++;
        committed += any_commit && !any_abort;
        if (any_commit && any_abort) {
            bad++;
            if (bad <= ATOM_SHOW) {
                char c[256], a[256];
                jw_obj(j);
                jw_kint(j, "txn", d[lo].txn);
                jw_key(j, "committed_on");
                list_nodes(f, d, lo, hi, true, c, sizeof c, j);
                jw_key(j, "aborted_on");
                list_nodes(f, d, lo, hi, false, a, sizeof a, j);
                char text[600];
                check_say(text, sizeof text, "transaction %lld was committed on %s but aborted on %s",
                          (long long)d[lo].txn, c, a);
                jw_kstr(j, "text", text);
                jw_obj_end(j);
                check_text(out, "%s", text);
                if (first_bad < 0) {
                    first_bad = d[lo].txn;
                    snprintf(first_text, sizeof first_text, "%s", text);
                }
            }
        }
        lo = hi;
    }
    jw_arr_end(j);
    jw_kint(j, "transactions", (int64_t)txns);
    jw_kint(j, "committed", (int64_t)committed);
    jw_kint(j, "violated", (int64_t)bad);
    jw_obj_end(j);
    if (bad) {
        out->verdict = CHECK_VIOLATED;
        check_say(out->reason, sizeof out->reason,
                  "%zu of %zu transactions were committed on some nodes and aborted on others; %s: all or "
                  "nothing is what atomic commit promises", bad, txns, first_text);
    } else {
        out->verdict = CHECK_HOLDS;
        check_say(out->reason, sizeof out->reason,
                  "every one of %zu transactions had one outcome on every node that decided it (%zu committed)",
                  txns, committed);
    }
    sim_free(d);
    return 0;
}

const struct checker atomicity_checker = {
    "atomicity", "every transaction committed on all the nodes that decided it, or on none (two-phase commit)",
    true, run_atomicity, true,
};

/* ---- nonblocking ---------------------------------------------------------- */

struct episode {
    int node;
    int64_t txn;
    int64_t since;          /* when it voted yes (its clock) */
    int64_t noticed;        /* the blocked note's time */
    int64_t duration;       /* to the unblocked note, or to the end */
    bool ended;
    bool holding;
};

static int run_nonblocking(const struct check_input *in, struct check_result *out)
{
    const struct trace_facts *f = in->facts;
    struct episode *e = NULL;
    size_t n = 0, cap = 0;
    bool any_decision = false;
    for (size_t i = 0; i < f->n_notes; i++) {
        const struct trace_note *t = &f->notes[i];
        any_decision |= strcmp(t->what, "decision") == 0;
        if (strcmp(t->what, "blocked") == 0) {
            SIM_GROW(e, cap, n + 1);
            const cJSON *h = cJSON_GetObjectItemCaseSensitive(t->obj, "holding");
            e[n++] = (struct episode){ .node = t->node, .txn = note_int(t, "txn", -1),
                                       .since = note_time(t, "since", t->t), .noticed = t->t,
                                       .holding = !cJSON_IsFalse(h) };
        } else if (strcmp(t->what, "unblocked") == 0) {
            int64_t txn = note_int(t, "txn", -1);
            for (size_t k = n; k-- > 0;)
                if (e[k].node == t->node && e[k].txn == txn && !e[k].ended) {
                    e[k].ended = true;
                    e[k].duration = note_time(t, "duration", t->t - e[k].since);
                    break;
                }
        }
    }
    jw *j = &out->evidence;
    if (n == 0 && !any_decision) {
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
                  "no transaction was decided in this trace (no decision notes, as twopc writes): "
                  "nobody was blocked");
        jw_obj(j);
        jw_obj_end(j);
        return 0;
    }
    int64_t max = 0, total = 0;
    size_t longest = 0, open = 0, released = 0;
    for (size_t k = 0; k < n; k++) {
        if (!e[k].ended)
            e[k].duration = f->end_time - e[k].since;
        open += !e[k].ended;
        released += !e[k].holding;
        /* each duration is within +-2^54 (note_time, and the end time is
         * in range): only the sum needs a guard, saturating */
        int64_t d = e[k].duration;
        if (d > 0 && total > INT64_MAX - d)
            total = INT64_MAX;
        else if (d < 0 && total < INT64_MIN - d)
            total = INT64_MIN;
        else
            total += d;
        if (e[k].duration > max) {
            max = e[k].duration;
            longest = k;
        }
    }
    jw_obj(j);
    jw_kint(j, "blocked", (int64_t)n);
    jw_kint(j, "still_blocked", (int64_t)open);
    jw_knum(j, "max_ms", (double)max / 1e6);
    jw_knum(j, "total_ms", (double)total / 1e6);
    jw_kbool(j, "holding", released == 0);
    jw_key(j, "episodes");
    jw_arr(j);
    for (size_t k = 0; k < n && k < 20; k++) {
        jw_obj(j);
        jw_kstr(j, "node", node_label(f, e[k].node));
        jw_kint(j, "txn", e[k].txn);
        jw_kint(j, "since", e[k].since);
        jw_knum(j, "ms", (double)e[k].duration / 1e6);
        jw_kbool(j, "ended", e[k].ended);
        jw_kbool(j, "holding", e[k].holding);
        jw_obj_end(j);
        check_text(out, "%s blocked on transaction %lld from %.3f ms for %.3f ms%s%s",
                   node_label(f, e[k].node), (long long)e[k].txn, (double)e[k].since / 1e6,
                   (double)e[k].duration / 1e6, e[k].ended ? "" : " (still blocked at the end)",
                   e[k].holding ? ", holding its locks" : ", NOT holding its locks");
    }
    jw_arr_end(j);
    jw_obj_end(j);
    if (n == 0) {
        out->verdict = CHECK_HOLDS;
        check_say(out->reason, sizeof out->reason,
                  "no participant was ever blocked waiting for a decision");
    } else {
        out->verdict = CHECK_VIOLATED;
        check_say(out->reason, sizeof out->reason,
                  "%zu time%s a participant voted yes and then waited for a decision it could not take alone "
                  "(%zu still blocked at the end): %.3f ms in all, the longest %.3f ms (%s on transaction %lld)%s",
                  n, n == 1 ? "" : "s", open, (double)total / 1e6, (double)max / 1e6,
                  node_label(f, e[longest].node), (long long)e[longest].txn,
                  released ? "; some had released their locks, which two-phase commit forbids"
                           : ", holding its locks all that time");
    }
    sim_free(e);
    return 0;
}

const struct checker nonblocking_checker = {
    "nonblocking", "no participant was left blocked, waiting for a decision (how long and holding what, if so)",
    true, run_nonblocking, true,
};
