/* saga: did every saga end whole, and undo in the right order?
 *
 * Reads the saga model's notes (docs/models/saga.md): "step" (a service
 * booked a step, or the step failed), "compensate" (it ran the step's
 * compensation and cancelled so many bookings) and "saga" (the outcome the
 * orchestrator or first service recorded). For every saga:
 *
 *   - completed: every step holds exactly one live booking (a second one
 *     is a double booking: a duplicate message booked again);
 *   - compensated: no step holds a live booking any more;
 *   - compensations ran in reverse order of the steps;
 *   - no compensation without its step (nothing to undo was undone);
 *   - no step booked after its compensation (a late duplicate).
 *
 * Sagas with no outcome at the end of the trace (still running, or their
 * orchestrator is down) are counted, not judged. What sagas allow and the
 * checker reports as observations, not failures: a client read that returned
 * a booking of a saga that was later compensated (no isolation: another
 * client saw a hotel booked that was then cancelled). */
#include "checker.h"
#include "sort.h"
#include "alloc.h"
#include "jread.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAGA_CK_STEPS 8
#define SAGA_CK_SHOW 10

struct saga_sum {
    int64_t saga;
    int outcome;                    /* 0 none, 1 completed, 2 compensated */
    int64_t booked[SAGA_CK_STEPS];     /* sums of counts from the file: int64 */
    int64_t cancelled[SAGA_CK_STEPS];
    bool compensated[SAGA_CK_STEPS];
    int64_t comp_t[SAGA_CK_STEPS];
    int last_comp;                  /* step of the last compensation seen, 0 = none */
    bool order_bad, without_step, after_comp;
    int order_a, order_b, bad_step;
    char action[SAGA_CK_STEPS][32];
};

static int64_t ni(const cJSON *o, const char *k, int64_t dflt)
{
    return jr_i64(o, k, dflt);
}

static const char *ns(const cJSON *o, const char *k)
{
    return jr_str(o, k, "");
}

static struct saga_sum *get_sum(struct saga_sum **arr, size_t *n, size_t *cap, int64_t saga)
{
    for (size_t i = *n; i-- > 0;)   /* recent sagas are at the end */
        if ((*arr)[i].saga == saga)
            return &(*arr)[i];
    SIM_GROW(*arr, *cap, *n + 1);
    struct saga_sum *s = &(*arr)[(*n)++];
    memset(s, 0, sizeof *s);
    s->saga = saga;
    return s;
}

static int cmp_sum(const void *a, const void *b)
{
    const struct saga_sum *x = a, *y = b;
    return (x->saga > y->saga) - (x->saga < y->saga);
}

static int run_saga(const struct check_input *in, struct check_result *out)
{
    const struct trace_facts *f = in->facts;
    struct saga_sum *sum = NULL;
    size_t n = 0, cap = 0;
    int n_steps = 0;
    for (size_t i = 0; i < f->n_notes; i++) {
        const struct trace_note *t = &f->notes[i];
        bool step = strcmp(t->what, "step") == 0, comp = strcmp(t->what, "compensate") == 0;
        if (!step && !comp && strcmp(t->what, "saga") != 0)
            continue;
        int64_t id = ni(t->obj, "saga", -1);
        struct saga_sum *s = get_sum(&sum, &n, &cap, id);
        if (!step && !comp) {
            s->outcome = strcmp(ns(t->obj, "outcome"), "completed") == 0 ? 1 : 2;
            continue;
        }
        int64_t step_no = ni(t->obj, "step", 0);
        if (step_no < 1 || step_no > SAGA_CK_STEPS)
            continue;
        int k = (int)step_no;
        if (k > n_steps)
            n_steps = k;
        snprintf(s->action[k - 1], sizeof s->action[k - 1], "%s", ns(t->obj, "action"));
        if (step) {
            if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->obj, "ok")))
                continue;
            s->booked[k - 1]++;
            if (s->compensated[k - 1] && !s->after_comp) {
                s->after_comp = true;
                s->bad_step = k;
            }
        } else {
            /* a count from the file: bounded so the sums below cannot
             * overflow whatever a forged note says */
            int64_t c = ni(t->obj, "cancelled", 0);
            if (c > INT32_MAX || c < -INT32_MAX)
                c = c > 0 ? INT32_MAX : -INT32_MAX;
            s->cancelled[k - 1] += c;
            if (s->booked[k - 1] == 0 && c > 0 && !s->without_step) {
                s->without_step = true;
                s->bad_step = k;
            }
            if (!s->compensated[k - 1]) {
                s->compensated[k - 1] = true;
                s->comp_t[k - 1] = t->t;
                if (s->last_comp && k > s->last_comp && !s->order_bad) {
                    s->order_bad = true;
                    s->order_a = s->last_comp;
                    s->order_b = k;
                }
                s->last_comp = k;
            }
        }
    }
    jw *j = &out->evidence;
    if (n == 0) {
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
                  "no saga in this trace (no step or saga notes, as the saga model writes): nothing to judge");
        jw_obj(j);
        jw_obj_end(j);
        sim_free(sum);
        return 0;
    }
    sim_qsort(sum, n, sizeof *sum, cmp_sum);
    size_t completed = 0, compensated = 0, unfinished = 0, bad = 0;
    char first[700] = "";
    jw_obj(j);
    jw_key(j, "violations");
    jw_arr(j);
    for (size_t i = 0; i < n; i++) {
        struct saga_sum *s = &sum[i];
        char text[700] = "";
        completed += s->outcome == 1;
        compensated += s->outcome == 2;
        unfinished += s->outcome == 0;
        for (int k = 0; k < n_steps && !text[0]; k++) {
            int64_t live = s->booked[k] - s->cancelled[k];
            if (s->outcome == 1 && live != 1)
                check_say(text, sizeof text, "saga %lld completed but step %d (%s) holds %lld live bookings%s",
                          (long long)s->saga, k + 1, s->action[k], (long long)live,
                          live > 1 ? ": a double booking, a duplicate message booked again" : "");
            else if (s->outcome == 2 && live != 0)
                check_say(text, sizeof text,
                          "saga %lld was compensated but step %d (%s) still holds %lld booking%s: not fully undone",
                          (long long)s->saga, k + 1, s->action[k], (long long)live, live == 1 ? "" : "s");
        }
        if (!text[0] && s->order_bad)
            check_say(text, sizeof text,
                      "saga %lld compensated step %d before step %d: compensations must run in reverse order "
                      "(the later step may depend on the earlier one)", (long long)s->saga, s->order_a, s->order_b);
        if (!text[0] && s->without_step)
            check_say(text, sizeof text, "saga %lld compensated step %d, which never booked",
                      (long long)s->saga, s->bad_step);
        if (!text[0] && s->after_comp)
            check_say(text, sizeof text,
                      "saga %lld booked step %d after its compensation had run: a late duplicate booked again",
                      (long long)s->saga, s->bad_step);
        if (!text[0])
            continue;
        bad++;
        if (!first[0])
            snprintf(first, sizeof first, "%s", text);
        if (bad <= SAGA_CK_SHOW) {
            jw_obj(j);
            jw_kint(j, "saga", s->saga);
            jw_kstr(j, "text", text);
            jw_obj_end(j);
            check_text(out, "%s", text);
        }
    }
    jw_arr_end(j);
    /* observations: reads of bookings whose saga was later compensated */
    size_t seen = 0;
    jw_key(j, "observations");
    jw_arr(j);
    const hist *h = in->h;
    for (size_t i = 0; h && i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->f != HIST_READ || op->type != HIST_OK || op->out == HIST_NIL)
            continue;
        struct saga_sum key = { .saga = op->out };
        const struct saga_sum *s = bsearch(&key, sum, n, sizeof *sum, cmp_sum);
        if (!s || s->outcome != 2)
            continue;
        seen++;
        if (seen > SAGA_CK_SHOW)
            continue;
        char p[32], text[400];
        check_say(text, sizeof text,
                  "%s read %s at %.3f ms and saw a booking of saga %lld, which was later compensated: "
                  "sagas give no isolation, so others see steps that are then undone",
                  hist_process_label(h, op->process, p, sizeof p), hist_str(h, op->key),
                  (double)op->complete_t / 1e6, (long long)op->out);
        jw_obj(j);
        jw_kint(j, "op", op->id);
        jw_kint(j, "saga", op->out);
        jw_kstr(j, "text", text);
        jw_obj_end(j);
        check_text(out, "observation: %s", text);
    }
    jw_arr_end(j);
    jw_kint(j, "sagas", (int64_t)n);
    jw_kint(j, "completed", (int64_t)completed);
    jw_kint(j, "compensated", (int64_t)compensated);
    jw_kint(j, "unfinished", (int64_t)unfinished);
    jw_kint(j, "violated", (int64_t)bad);
    jw_kint(j, "dirty_reads", (int64_t)seen);
    jw_obj_end(j);
    if (bad) {
        out->verdict = CHECK_VIOLATED;
        check_say(out->reason, sizeof out->reason, "%zu of %zu sagas went wrong; %s", bad, n, first);
    } else {
        out->verdict = CHECK_HOLDS;
        check_say(out->reason, sizeof out->reason,
                  "every saga that ended was completed (%zu) or fully compensated in reverse order (%zu)%s%zu "
                  "unfinished; %zu read%s saw a booking later compensated (allowed: sagas are not isolated)",
                  completed, compensated, unfinished ? ", " : "; ", unfinished, seen, seen == 1 ? "" : "s");
    }
    sim_free(sum);
    return 0;
}

const struct checker saga_checker = {
    "saga", "every saga completed or fully compensated, compensations in reverse order, no step after its "
    "compensation (dirty reads reported as observations)", true, run_saga, true,
};
