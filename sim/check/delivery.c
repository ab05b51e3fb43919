/* delivery and exactly_once: what a consumer group made of an event log.
 *
 * Reads the acknowledged produces (client writes that completed ok: the
 * message is in the log) and the event log's notes (docs/models/eventlog.md):
 * "appended" (a broker put a message at a partition's offset), "consumed"
 * (a consumer of a group processed one) and "assigned" (a coordinator handed
 * out a group's partitions, which names the groups). Values are unique in a
 * run, so a message is known by its value.
 *
 * For every consumer group:
 *   lost          an acknowledged message the group never processed. Messages
 *                 acknowledged within the quiet period before the end (200 ms,
 *                 or check_input.quiet_period) are not judged: they may be on their
 *                 way; they are counted as in flight.
 *   duplicated    a message the group processed more than once (at-least-once
 *                 delivery allows it).
 *   out of order  for one key, message a's produce completed before message
 *                 b's was invoked, yet the group first processed b before a.
 *
 * delivery fails on lost or out-of-order messages and reports duplicates as
 * an observation (what at-least-once promises); exactly_once fails on lost or
 * duplicated messages (what exactly-once promises) and leaves order to
 * delivery. Both say "skipped" when the trace has no event-log notes. */
#include "checker.h"
#include "alloc.h"
#include "jread.h"
#include "sort.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DL_SHOW 5                                /* examples per kind per group */
#define DL_DEFAULT_QUIET INT64_C(200000000)      /* 200 ms */

struct produce {           /* an acknowledged produce */
    int64_t value;
    long op;               /* index in the history */
    int64_t partition, offset;   /* from its "appended" note; -1 if none */
};

struct consumed {
    int64_t value;
    size_t order;          /* position among the group's consumed notes */
    int64_t partition, offset, t;
    int node;
};

struct group_result {
    size_t acked, processed, lost, dup, ooo, in_flight;
};

static double msec(int64_t t)
{
    return (double)t / 1e6;
}

static const char *node_label(const struct trace_facts *f, int node)
{
    return node >= 0 && node < f->n_names ? f->names[node] : "?";
}

static int cmp_produce(const void *a, const void *b)
{
    const struct produce *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return x->op < y->op ? -1 : x->op > y->op;
}

static int cmp_consumed(const void *a, const void *b)
{
    const struct consumed *x = a, *y = b;
    if (x->value != y->value)
        return x->value < y->value ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

struct first {             /* a message's first processing by a group */
    int32_t key;
    size_t order;
    const struct produce *p;
    const struct consumed *c;
};

static int cmp_first(const void *a, const void *b)
{
    const struct first *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first produce with this value, or NULL. */
static const struct produce *find_produce(const struct produce *p, size_t n, int64_t value)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].value < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && p[lo].value == value ? &p[lo] : NULL;
}

/* The group's first consumption of value (c sorted by value, order), or NULL. */
static const struct consumed *find_consumed(const struct consumed *c, size_t n, int64_t value, size_t *count)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c[mid].value < value)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t k = lo;
    while (k < n && c[k].value == value)
        k++;
    *count = k - lo;
    return k > lo ? &c[lo] : NULL;
}

static void where(char *buf, size_t n, int64_t partition, int64_t offset)
{
    if (partition >= 0)
        check_say(buf, n, "partition %lld offset %lld", (long long)partition, (long long)offset);
    else
        check_say(buf, n, "no appended note");
}

/* ---- one group ------------------------------------------------------------------ */

struct dl_ctx {
    const hist *h;
    const struct trace_facts *f;
    bool exactly_once;
    struct produce *prod;
    size_t n_prod;
    int64_t cutoff;        /* acknowledged after this: in flight, not judged */
    char first[700];       /* the first failing finding's sentence */
    jw *j;
    struct check_result *out;
};

static void say_first(struct dl_ctx *c, const char *text)
{
    if (!c->first[0])
        snprintf(c->first, sizeof c->first, "%s", text);
}

static void judge_group(struct dl_ctx *c, const char *group, struct group_result *r)
{
    const struct trace_facts *f = c->f;
    const hist *h = c->h;
    struct consumed *con = NULL;
    size_t n_con = 0, cap_con = 0;
    for (size_t i = 0; i < f->n_notes; i++) {
        const struct trace_note *t = &f->notes[i];
        if (strcmp(t->what, "consumed") != 0 || strcmp(jr_str(t->obj, "group", ""), group) != 0)
            continue;
        SIM_GROW(con, cap_con, n_con + 1);
        con[n_con] = (struct consumed){ .value = jr_i64(t->obj, "value", 0), .order = n_con,
                                        .partition = jr_i64(t->obj, "partition", -1),
                                        .offset = jr_i64(t->obj, "offset", -1), .t = t->t, .node = t->node };
        n_con++;
    }
    r->processed = n_con;
    sim_qsort(con, n_con, sizeof *con, cmp_consumed);
    jw *j = c->j;
    jw_obj(j);
    jw_kstr(j, "group", group);
    char text[700], at[64], at2[64], proc[32];

    /* lost: acknowledged, never processed */
    jw_key(j, "lost");
    jw_arr(j);
    for (size_t k = 0; k < c->n_prod; k++) {
        const struct produce *p = &c->prod[k];
        if (k > 0 && c->prod[k - 1].value == p->value)
            continue;
        const struct hist_op *op = hist_op(h, (size_t)p->op);
        r->acked++;
        size_t count;
        if (find_consumed(con, n_con, p->value, &count))
            continue;
        if (op->complete_t > c->cutoff) {
            r->in_flight++;
            continue;
        }
        r->lost++;
        where(at, sizeof at, p->partition, p->offset);
        check_say(text, sizeof text,
                  "%s's message %lld with key %s (acknowledged at %.3f ms, %s) was never processed by group %s",
                  hist_process_label(h, op->process, proc, sizeof proc), (long long)p->value,
                  hist_str(h, op->key), msec(op->complete_t), at, group);
        say_first(c, text);
        if (r->lost <= DL_SHOW) {
            jw_obj(j);
            jw_kint(j, "value", p->value);
            jw_kstr(j, "key", hist_str(h, op->key));
            jw_kint(j, "op", op->id);
            jw_kint(j, "partition", p->partition);
            jw_kint(j, "offset", p->offset);
            jw_kint(j, "acknowledged", op->complete_t);
            jw_kstr(j, "text", text);
            jw_obj_end(j);
            check_text(c->out, "%s", text);
        }
    }
    jw_arr_end(j);

    /* duplicated: processed more than once */
    jw_key(j, "duplicated");
    jw_arr(j);
    for (size_t k = 0; k < n_con;) {
        size_t e = k;
        while (e < n_con && con[e].value == con[k].value)
            e++;
        if (e - k > 1) {
            r->dup++;
            const struct consumed *a = &con[k], *b = &con[k + 1];
            where(at, sizeof at, a->partition, a->offset);
            where(at2, sizeof at2, b->partition, b->offset);
            const struct produce *p = find_produce(c->prod, c->n_prod, a->value);
            char times[32], copy[160] = "";
            if (e - k == 2)
                snprintf(times, sizeof times, "twice");
            else
                snprintf(times, sizeof times, "%zu times", e - k);
            if (a->partition != b->partition || a->offset != b->offset)
                check_say(copy, sizeof copy, ", the second time from a second copy at %s", at2);
            check_say(text, sizeof text,
                      "%smessage %lld (%s) was processed %s by group %s: by %s at %.3f ms and again by %s at "
                      "%.3f ms%s",
                      c->exactly_once ? "" : "observation: ", (long long)a->value, at, times, group,
                      node_label(c->f, a->node), msec(a->t), node_label(c->f, b->node), msec(b->t), copy);
            if (c->exactly_once)
                say_first(c, text);
            if (r->dup <= DL_SHOW) {
                jw_obj(j);
                jw_kint(j, "value", a->value);
                jw_kint(j, "times", (int64_t)(e - k));
                jw_kint(j, "partition", a->partition);
                jw_kint(j, "offset", a->offset);
                jw_kstr(j, "first_by", node_label(c->f, a->node));
                jw_kint(j, "first_at", a->t);
                jw_kstr(j, "again_by", node_label(c->f, b->node));
                jw_kint(j, "again_at", b->t);
                jw_kbool(j, "acknowledged", p != NULL);
                jw_kstr(j, "text", text);
                jw_obj_end(j);
                check_text(c->out, "%s", text);
            }
        }
        k = e;
    }
    jw_arr_end(j);

    /* out of order: per key, in order of first processing, a message whose
     * produce completed before an earlier-processed one's was invoked */
    jw_key(j, "out_of_order");
    jw_arr(j);
    struct first *seen = NULL;
    size_t n_seen = 0, cap_seen = 0;
    for (size_t k = 0; !c->exactly_once && k < c->n_prod; k++) {
        const struct produce *p = &c->prod[k];
        if (k > 0 && c->prod[k - 1].value == p->value)
            continue;
        size_t count;
        const struct consumed *first = find_consumed(con, n_con, p->value, &count);
        if (!first)
            continue;
        SIM_GROW(seen, cap_seen, n_seen + 1);
        seen[n_seen++] = (struct first){ hist_op(h, (size_t)p->op)->key, first->order, p, first };
    }
    sim_qsort(seen, n_seen, sizeof *seen, cmp_first);
    const struct first *latest = NULL;   /* of this key so far: the latest-invoked produce */
    for (size_t k = 0; k < n_seen; k++) {
        const struct first *b = &seen[k];
        if (k == 0 || seen[k - 1].key != b->key)
            latest = NULL;
        const struct hist_op *bop = hist_op(h, (size_t)b->p->op);
        if (latest) {
            const struct hist_op *aop = hist_op(h, (size_t)latest->p->op);
            if (bop->complete_pos < aop->invoke_pos) {
                /* b was acknowledged before a was even sent, yet a was processed first */
                r->ooo++;
                where(at, sizeof at, b->p->partition, b->p->offset);
                where(at2, sizeof at2, latest->p->partition, latest->p->offset);
                char proc2[32];
                check_say(text, sizeof text,
                          "key %s: %s's message %lld (%s) was acknowledged at %.3f ms, before %s sent message %lld "
                          "(%s) at %.3f ms, yet group %s processed %lld first (%s at %.3f ms) and %lld only at "
                          "%.3f ms (%s)",
                          hist_str(h, bop->key), hist_process_label(h, bop->process, proc, sizeof proc),
                          (long long)b->p->value, at, msec(bop->complete_t),
                          hist_process_label(h, aop->process, proc2, sizeof proc2), (long long)latest->p->value,
                          at2, msec(aop->invoke_t), group, (long long)latest->p->value,
                          node_label(f, latest->c->node), msec(latest->c->t), (long long)b->p->value,
                          msec(b->c->t), node_label(f, b->c->node));
                say_first(c, text);
                if (r->ooo <= DL_SHOW) {
                    jw_obj(j);
                    jw_kstr(j, "key", hist_str(h, bop->key));
                    jw_kint(j, "earlier", b->p->value);
                    jw_kint(j, "earlier_partition", b->p->partition);
                    jw_kint(j, "earlier_offset", b->p->offset);
                    jw_kint(j, "earlier_acknowledged", bop->complete_t);
                    jw_kint(j, "earlier_processed", b->c->t);
                    jw_kint(j, "later", latest->p->value);
                    jw_kint(j, "later_partition", latest->p->partition);
                    jw_kint(j, "later_offset", latest->p->offset);
                    jw_kint(j, "later_invoked", aop->invoke_t);
                    jw_kint(j, "later_processed", latest->c->t);
                    jw_kstr(j, "text", text);
                    jw_obj_end(j);
                    check_text(c->out, "%s", text);
                }
            }
        }
        if (!latest || bop->invoke_pos > hist_op(h, (size_t)latest->p->op)->invoke_pos)
            latest = b;
    }
    sim_free(seen);
    jw_arr_end(j);

    jw_kint(j, "acknowledged", (int64_t)r->acked);
    jw_kint(j, "processed", (int64_t)r->processed);
    jw_kint(j, "lost_count", (int64_t)r->lost);
    jw_kint(j, "duplicated_count", (int64_t)r->dup);
    jw_kint(j, "out_of_order_count", (int64_t)r->ooo);
    jw_kint(j, "in_flight", (int64_t)r->in_flight);
    jw_obj_end(j);
    sim_free(con);
}

/* ---- both checkers --------------------------------------------------------------- */

static int run_delivery_common(const struct check_input *in, struct check_result *out, bool exactly_once)
{
    const struct trace_facts *f = in->facts;
    const hist *h = in->h;
    const char **groups = NULL;
    size_t n_groups = 0, cap_groups = 0, n_log_notes = 0;
    for (size_t i = 0; f && i < f->n_notes; i++) {
        const struct trace_note *t = &f->notes[i];
        bool consumed = strcmp(t->what, "consumed") == 0, assigned = strcmp(t->what, "assigned") == 0;
        if (!consumed && !assigned && strcmp(t->what, "appended") != 0)
            continue;
        n_log_notes++;
        if (!consumed && !assigned)
            continue;
        const char *g = jr_str(t->obj, "group", NULL);
        if (!g)
            continue;
        size_t k = 0;
        while (k < n_groups && strcmp(groups[k], g) != 0)
            k++;
        if (k == n_groups) {
            SIM_GROW(groups, cap_groups, n_groups + 1);
            groups[n_groups++] = g;
        }
    }
    jw *j = &out->evidence;
    jw_obj(j);
    if (n_log_notes == 0) {
        jw_obj_end(j);
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
                  "no event log in this trace (no appended, assigned or consumed notes, as the eventlog model "
                  "writes): nothing to judge");
        sim_free(groups);
        return 0;
    }
    sim_qsort(groups, n_groups, sizeof *groups, cmp_str);

    /* the acknowledged produces, by value, with where they were appended */
    struct dl_ctx c = { .h = h, .f = f, .exactly_once = exactly_once, .j = j, .out = out };
    size_t cap_prod = 0;
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->f != HIST_WRITE || op->type != HIST_OK)
            continue;
        SIM_GROW(c.prod, cap_prod, c.n_prod + 1);
        c.prod[c.n_prod++] = (struct produce){ .value = op->arg, .op = (long)i, .partition = -1, .offset = -1 };
    }
    sim_qsort(c.prod, c.n_prod, sizeof *c.prod, cmp_produce);
    for (size_t i = 0; i < f->n_notes; i++) {
        const struct trace_note *t = &f->notes[i];
        if (strcmp(t->what, "appended") != 0)
            continue;
        int64_t value = jr_i64(t->obj, "value", 0);
        size_t lo = 0, hi = c.n_prod;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (c.prod[mid].value < value)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < c.n_prod && c.prod[k].value == value; k++)
            if (c.prod[k].partition < 0) {
                c.prod[k].partition = jr_i64(t->obj, "partition", -1);
                c.prod[k].offset = jr_i64(t->obj, "offset", -1);
            }
    }
    int64_t quiet = in->quiet_period > 0 ? in->quiet_period : DL_DEFAULT_QUIET;
    c.cutoff = f->end_time - quiet;

    struct group_result total = { 0 };
    jw_key(j, "groups");
    jw_arr(j);
    for (size_t g = 0; g < n_groups; g++) {
        struct group_result r = { 0 };
        judge_group(&c, groups[g], &r);
        total.acked = r.acked;
        total.processed += r.processed;
        total.lost += r.lost;
        total.dup += r.dup;
        total.ooo += r.ooo;
        total.in_flight += r.in_flight;
    }
    jw_arr_end(j);
    jw_kint(j, "quiet_period", quiet);
    jw_obj_end(j);

    char flight[160] = "";
    if (total.in_flight)
        check_say(flight, sizeof flight, "; %zu acknowledged in the last %.0f ms not judged (still in flight)",
                  total.in_flight, msec(quiet));
    char groups_text[64];
    if (n_groups == 1)
        check_say(groups_text, sizeof groups_text, "group %s", groups[0]);
    else
        check_say(groups_text, sizeof groups_text, "%zu groups", n_groups);
    bool bad = exactly_once ? total.lost || total.dup : total.lost || total.ooo;
    if (n_groups == 0) {
        out->verdict = CHECK_UNKNOWN;
        check_say(out->reason, sizeof out->reason, "no consumer group was formed (no assigned or consumed notes): "
                  "nobody read the %zu acknowledged messages", total.acked);
    } else if (bad) {
        out->verdict = CHECK_VIOLATED;
        if (exactly_once)
            check_say(out->reason, sizeof out->reason, "%zu lost and %zu duplicated message%s (%s): %s%s",
                      total.lost, total.dup, total.lost + total.dup == 1 ? "" : "s", groups_text, c.first, flight);
        else
            check_say(out->reason, sizeof out->reason, "%zu lost and %zu out-of-order message%s (%s): %s%s",
                      total.lost, total.ooo, total.lost + total.ooo == 1 ? "" : "s", groups_text, c.first, flight);
    } else if (exactly_once) {
        out->verdict = CHECK_HOLDS;
        check_say(out->reason, sizeof out->reason,
                  "%s processed each of the %zu acknowledged messages exactly once (%zu processed in all)%s",
                  groups_text, total.acked, total.processed, flight);
    } else {
        out->verdict = CHECK_HOLDS;
        char dup[200] = "";
        if (total.dup)
            check_say(dup, sizeof dup, "; %zu message%s processed more than once, which at-least-once delivery "
                      "allows (exactly_once judges them)", total.dup, total.dup == 1 ? " was" : "s were");
        check_say(out->reason, sizeof out->reason,
                  "%s processed every one of the %zu acknowledged messages, each key's in the order they were "
                  "produced%s%s",
                  groups_text, total.acked, dup, flight);
    }
    sim_free(c.prod);
    sim_free(groups);
    return 0;
}

static int run_delivery(const struct check_input *in, struct check_result *out)
{
    return run_delivery_common(in, out, false);
}

static int run_exactly_once(const struct check_input *in, struct check_result *out)
{
    return run_delivery_common(in, out, true);
}

const struct checker delivery_checker = {
    "delivery", "every consumer group processed every acknowledged message of the event log, each key's in "
    "produce order (duplicates as observations: at-least-once allows them)",
    true, run_delivery, true,
};

const struct checker exactly_once_checker = {
    "exactly_once", "every consumer group processed every acknowledged message of the event log once, "
    "neither lost nor duplicated",
    true, run_exactly_once, true,
};
