/* The linearizable checker: lin_check (sim/check/linearizable.c) behind the
 * checker interface, with its evidence laid out for people (text lines) and
 * for programs (a JSON object). The search itself knows nothing of either. */
#include "checker.h"
#include "alloc.h"
#include "linearizable.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- one operation, for people --------------------------------------------- */

static void fmt_interval(const hist *h, const struct hist_op *op, char *buf, size_t n)
{
    char a[48], b[48];
    lin_format_time(h, op->invoke_t, a, sizeof a);
    if (op->open)
        snprintf(buf, n, "%s, never completed", a);
    else
        snprintf(buf, n, "%s to %s", a, lin_format_time(h, op->complete_t, b, sizeof b));
}

static const char *outcome(const struct hist_op *op)
{
    if (op->open)
        return "open";
    if (op->type == HIST_FAIL)
        return op->constrains ? "fail (saw another value)" : "fail";   /* Jepsen's failed cas */
    return hist_type_name((enum hist_type)op->type);
}

static bool in_list(const long *list, size_t n, long v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

/* The window and the operations the reason names, by invocation, as an
 * aligned table. */
static void text_op_table(struct check_result *out, const hist *h, const struct lin_result *r)
{
    long *rows = sim_xmalloc((r->n_window + r->n_cited + 1) * sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; i < r->n_window; i++)
        rows[n++] = r->window[i];
    for (size_t i = 0; i < r->n_cited; i++)
        if (!in_list(rows, n, r->cited[i]))
            rows[n++] = r->cited[i];
    for (size_t i = 1; i < n; i++)   /* history order is invocation order */
        for (size_t j = i; j > 0 && rows[j - 1] > rows[j]; j--) {
            long t = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = t;
        }
    size_t w_who = 7, w_what = 9, w_out = 7, w_when = 20;
    char who[64], what[320], buf[128];
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, (size_t)rows[i]);
        size_t a = strlen(hist_process_label(h, op->process, who, sizeof who));
        lin_describe_op(h, op, what, sizeof what);
        size_t b = strlen(what) - a - 1, c = strlen(outcome(op));
        fmt_interval(h, op, buf, sizeof buf);
        w_who = a > w_who ? a : w_who;
        w_what = b > w_what ? b : w_what;
        w_out = c > w_out ? c : w_out;
        w_when = strlen(buf) > w_when ? strlen(buf) : w_when;
    }
    check_text(out, "      %6s  %-*s  %-*s  %-*s  %-*s  %s", "op", (int)w_who, "process",
               (int)w_what, "operation", (int)w_out, "outcome", (int)w_when,
               "invoked to completed", "lines");
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, (size_t)rows[i]);
        hist_process_label(h, op->process, who, sizeof who);
        lin_describe_op(h, op, what, sizeof what);
        const char *mark = rows[i] == r->failed_op                  ? ">"
                           : in_list(r->cited, r->n_cited, rows[i]) ? "*"
                                                                    : " ";
        fmt_interval(h, op, buf, sizeof buf);
        char lines[64];
        if (op->complete_line)
            snprintf(lines, sizeof lines, "%" PRId32 "-%" PRId32, op->invoke_line, op->complete_line);
        else
            snprintf(lines, sizeof lines, "%" PRId32 "-", op->invoke_line);
        check_text(out, "    %s %6" PRId64 "  %-*s  %-*s  %-*s  %-*s  %s%s", mark, op->id,
                   (int)w_who, who, (int)w_what, what + strlen(who) + 1, (int)w_out, outcome(op),
                   (int)w_when, buf, lines,
                   in_list(r->window, r->n_window, rows[i]) ? "" : "  (before the window)");
    }
    sim_free(rows);
}

/* The budget line, and on a violation: the failed completion, the window,
 * the prefix. sim check indents every line under the checker's name. */
static void text_evidence(struct check_result *out, const hist *h, const struct lin_result *r,
                          uint64_t budget)
{
    char line[256];
    int used = snprintf(line, sizeof line, "%" PRIu64 " search steps of a budget of %" PRIu64,
                        r->steps, budget);
    if (r->n_keys > 1) {
        size_t held = 0;
        for (size_t k = 0; k < r->n_keys; k++)
            held += r->keys[k].checked && r->keys[k].verdict == LIN_HOLDS;
        snprintf(line + used, sizeof line - (size_t)used,
                 "; keys: %zu hold, %zu violated, %zu unknown, %zu not checked", held,
                 r->keys_violated, r->keys_unknown,
                 r->n_keys - held - r->keys_violated - r->keys_unknown);
    }
    check_text(out, "%s", line);
    if (r->verdict != LIN_VIOLATED || !r->has_evidence)
        return;
    const char *key = hist_str(h, r->key);
    char what[320], buf[128];
    check_text(out, "evidence%s%s%s:", *key ? " on key " : "", key,
               r->evidence_complete ? ""
                                    : " (the evidence search ran out of budget: it may not be the shortest)");
    if (r->failed_op >= 0) {
        const struct hist_op *x = hist_op(h, (size_t)r->failed_op);
        fmt_interval(h, x, buf, sizeof buf);
        char at[32] = "";
        if (hist_clock(h) == HIST_CLOCK_NS)
            snprintf(at, sizeof at, ", line %" PRId32, x->complete_line);
        check_text(out, "  the first completion that cannot be explained: %s (op %" PRId64 ", %s%s)",
                   lin_describe_op(h, x, what, sizeof what), x->id, buf, at);
    }
    if (r->window_after >= 0) {
        const struct hist_op *a = hist_op(h, (size_t)r->window_after);
        char t[48];
        check_text(out, "  the shortest window that cannot be linearized, whatever the value before it:");
        check_text(out, "  the %zu operations still running after %s completed at %s", r->n_window,
                   lin_describe_op(h, a, what, sizeof what),
                   lin_format_time(h, a->complete_t, t, sizeof t));
    } else
        check_text(out, "  the shortest window that cannot be linearized: the %zu operations "
                   "from the start", r->n_window);
    check_text(out, "  (> cannot be explained, * named in the reason):");
    text_op_table(out, h, r);
    size_t show = r->n_prefix < 8 ? r->n_prefix : 8;
    check_text(out, "  the longest linearizable prefix (everything before that completion) has "
               "this order, %zu operations%s:", r->n_prefix,
               show < r->n_prefix ? ", the last 8 shown" : "");
    if (r->n_prefix == 0)
        check_text(out, "      (nothing had to take effect yet)");
    for (size_t i = r->n_prefix - show; i < r->n_prefix; i++) {
        const struct hist_op *op = hist_op(h, (size_t)r->prefix[i]);
        check_text(out, "      %zu. %s (op %" PRId64 ")", i + 1,
                   lin_describe_op(h, op, what, sizeof what), op->id);
    }
}

/* ---- the same, for programs -------------------------------------------------- */

static void json_ops(jw *w, const hist *h, const char *key, const long *ops, size_t n)
{
    jw_key(w, key);
    jw_arr(w);
    for (size_t i = 0; i < n; i++)
        check_json_op(w, h, ops[i]);
    jw_arr_end(w);
}

/* {budget, evidence_steps, per_key, key, complete, failed, window_after,
 * window, cited, prefix}: the last seven are null or empty unless the
 * verdict is violated and the evidence was searched for. */
static void json_evidence(jw *w, const hist *h, const struct lin_result *r, uint64_t budget)
{
    jw_obj(w);
    jw_kint(w, "budget", (int64_t)budget);
    jw_kint(w, "evidence_steps", (int64_t)r->evidence_steps);
    jw_key(w, "per_key");
    jw_arr(w);
    for (size_t k = 0; k < r->n_keys; k++) {
        const struct lin_key *lk = &r->keys[k];
        jw_obj(w);
        jw_kstr(w, "key", hist_str(h, lk->key));
        jw_kstr(w, "verdict", lk->checked ? lin_verdict_name(lk->verdict) : "not checked");
        jw_kint(w, "operations", (int64_t)lk->n_ops);
        jw_kint(w, "steps", (int64_t)lk->steps);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    bool has = r->verdict == LIN_VIOLATED && r->has_evidence;
    jw_key(w, "key");
    if (has)
        jw_str(w, hist_str(h, r->key));
    else
        jw_null(w);
    jw_kbool(w, "complete", has && r->evidence_complete);
    jw_key(w, "failed");
    if (has && r->failed_op >= 0)
        check_json_op(w, h, r->failed_op);
    else
        jw_null(w);
    jw_key(w, "window_after");
    if (has && r->window_after >= 0)
        check_json_op(w, h, r->window_after);
    else
        jw_null(w);
    json_ops(w, h, "window", r->window, has ? r->n_window : 0);
    json_ops(w, h, "cited", r->cited, has ? r->n_cited : 0);
    jw_key(w, "prefix");
    jw_arr(w);
    for (size_t i = 0; has && i < r->n_prefix; i++)
        jw_int(w, hist_op(h, (size_t)r->prefix[i])->id);
    jw_arr_end(w);
    jw_obj_end(w);
}

/* ---- the checker ---------------------------------------------------------------- */

static enum check_verdict verdict_of(enum lin_verdict v)
{
    switch (v) {
    case LIN_HOLDS: return CHECK_HOLDS;
    case LIN_VIOLATED: return CHECK_VIOLATED;
    case LIN_UNKNOWN: break;
    }
    return CHECK_UNKNOWN;
}

static int run_linearizable(const struct check_input *in, struct check_result *out)
{
    uint64_t budget = in->budget ? in->budget : LIN_DEFAULT_BUDGET;
    struct lin_options opt = { .budget = budget, .evidence = !in->no_evidence, .all_keys = true };
    struct lin_result r;
    int rc = lin_check(in->h, &opt, &r);
    if (rc == 0) {
        out->verdict = verdict_of(r.verdict);
        out->steps = r.steps;
        snprintf(out->reason, sizeof out->reason, "%s", r.reason);
        json_evidence(&out->evidence, in->h, &r, budget);
        text_evidence(out, in->h, &r, budget);
    }
    lin_result_free(&r);
    return rc ? HIST_ENOMEM : 0;
}

const struct checker linearizable_checker = {
    "linearizable",
    "each operation took effect at one instant between its invocation and its completion, "
    "one key at a time (Wing-Gong/Lowe search)",
    false, run_linearizable, false,
};
