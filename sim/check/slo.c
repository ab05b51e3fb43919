/* slo: judging the service-level objectives of expect{slo = {...}}.
 *
 * Availability is ok / (ok + fail + info) over the client operations that
 * completed (a fail and an indeterminate info both count against it;
 * operations still open when the run ended are not counted). Latency
 * percentiles are over the ok operations, from invoke to ok. Both are
 * also computed per window of virtual time (an operation belongs to the
 * window in which it completed) to name the worst window when an
 * objective is broken. */
#include "slo.h"

#include "alloc.h"
#include "jread.h"
#include "sort.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *const slo_pct_names[SLO_NPCT] = { "p50", "p90", "p95", "p99", "p999" };
const double slo_pct_fraction[SLO_NPCT] = { 0.5, 0.9, 0.95, 0.99, 0.999 };

/* Beyond this many windows the window is widened: memory stays bounded. */
#define SLO_MAX_WINDOWS 1000000

int slo_spec_read(const struct cJSON *line, struct slo_spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->met = true;
    for (int k = 0; k < SLO_NPCT; k++)
        out->pct[k] = -1;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(line, "availability");
    if (a) {
        if (!cJSON_IsNumber(a) || !(a->valuedouble > 0 && a->valuedouble <= 1)) {
            snprintf(err, errlen, "slo: availability must be a number above 0 and at most 1");
            return -1;
        }
        out->has_availability = true;
        out->availability = a->valuedouble;
    }
    bool any = out->has_availability;
    for (int k = 0; k < SLO_NPCT; k++) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(line, slo_pct_names[k]);
        if (!p)
            continue;
        int64_t v;
        if (!jr_int(p, &v) || v <= 0) {
            snprintf(err, errlen, "slo: %s must be a positive number of nanoseconds", slo_pct_names[k]);
            return -1;
        }
        out->pct[k] = v;
        any = true;
    }
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(line, "window");
    if (w && (!jr_int(w, &out->window) || out->window <= 0)) {
        snprintf(err, errlen, "slo: window must be a positive number of nanoseconds");
        return -1;
    }
    const cJSON *met = cJSON_GetObjectItemCaseSensitive(line, "met");
    if (met)
        out->met = cJSON_IsTrue(met);
    snprintf(out->where, sizeof out->where, "%s", jr_str(line, "where", ""));
    if (!any) {
        snprintf(err, errlen, "slo: names no objective (availability or a percentile)");
        return -1;
    }
    return 0;
}

int64_t slo_default_window(int64_t end_time)
{
    int64_t target = end_time / 20, best = 1000000;
    for (int64_t base = 1000000; base <= INT64_MAX / 10 && base <= target; base *= 10) {
        static const int steps[] = { 1, 2, 5 };
        for (int i = 0; i < 3; i++)
            if (base * steps[i] <= target)
                best = base * steps[i];
    }
    return best;
}

/* ---- formatting ------------------------------------------------------------ */

static void fmt_dur(int64_t ns, char *buf, size_t n)
{
    if (ns < 1000)
        snprintf(buf, n, "%lld ns", (long long)ns);
    else if (ns < 1000000)
        snprintf(buf, n, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, n, "%.1f ms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%.3f s", (double)ns / 1e9);
}

/* ", during a partition" / ", while n2 was down" when a fault overlaps
 * [start, end); else "". */
static void fault_in(const struct trace_facts *f, int64_t start, int64_t end, char *buf, size_t n)
{
    buf[0] = '\0';
    if (!f)
        return;
    for (size_t i = 0; i < f->n_windows; i++)
        if (f->windows[i].start < end && f->windows[i].end > start) {
            const char *k = f->windows[i].kind;
            snprintf(buf, n, ", during %s %s", k && strcmp(k, "isolate") == 0 ? "an" : "a",
                     k && strcmp(k, "isolate") == 0 ? "isolation" : k ? k : "network fault");
            return;
        }
    for (size_t i = 0; i < f->n_down; i++)
        if (f->down[i].start < end && f->down[i].end > start && f->down[i].node >= 0 &&
            f->down[i].node < f->n_names) {
            snprintf(buf, n, ", while %s was %s", f->names[f->down[i].node],
                     f->down[i].paused ? "paused" : "down");
            return;
        }
}

/* ---- the judge ----------------------------------------------------------------- */

struct lat {
    int64_t window;
    int64_t ns;
};

static int cmp_lat(const void *a, const void *b)
{
    const struct lat *x = a, *y = b;
    if (x->window != y->window)
        return x->window < y->window ? -1 : 1;
    return x->ns < y->ns ? -1 : x->ns > y->ns;
}

static int cmp_ns(const void *a, const void *b)
{
    const struct lat *x = a, *y = b;
    return x->ns < y->ns ? -1 : x->ns > y->ns;
}

/* Nearest rank: the smallest value with at least fraction q of them at or below. */
static int64_t rank(const struct lat *v, size_t n, double q)
{
    size_t k = (size_t)(q * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1].ns;
}

/* Append to buf (len bytes, used so far *used). */
static void add(char *buf, size_t len, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
    if (*used >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *used, len - *used, fmt, ap);
    va_end(ap);
    if (k > 0)
        *used = *used + (size_t)k < len ? *used + (size_t)k : len;
}

int slo_judge(const struct slo_spec *spec, const hist *h, const struct trace_facts *facts,
              struct check_result *out)
{
    size_t n = hist_count(h);
    int64_t end = facts ? facts->end_time : 0;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (!op->open && op->complete_t != HIST_NEVER && op->complete_t > end)
            end = op->complete_t;
    }
    int64_t width = spec->window > 0 ? spec->window : slo_default_window(end);
    while (end / width + 1 > SLO_MAX_WINDOWS)
        width *= 2;
    size_t n_win = (size_t)(end / width) + 1;
    size_t *ok = sim_xcalloc(n_win, sizeof *ok), *done = sim_xcalloc(n_win, sizeof *done);
    struct lat *lats = sim_xmalloc((n ? n : 1) * sizeof *lats);
    size_t n_lat = 0, total_ok = 0, total_done = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->open || op->complete_t == HIST_NEVER || op->complete_t < 0)
            continue;
        size_t w = (size_t)(op->complete_t / width);
        if (w >= n_win)
            w = n_win - 1;
        done[w]++;
        total_done++;
        if (op->type == HIST_OK) {
            ok[w]++;
            total_ok++;
            lats[n_lat++] = (struct lat){ (int64_t)w, op->complete_t - op->invoke_t };
        }
    }
    char wd[32];
    fmt_dur(width, wd, sizeof wd);
    size_t used = 0;
    char *r = out->reason;
    size_t rl = sizeof out->reason;
    bool broken = false;
    jw *j = &out->evidence;
    jw_obj(j);
    jw_kint(j, "window", width);
    jw_kint(j, "completed", (int64_t)total_done);
    jw_kint(j, "ok", (int64_t)total_ok);
    if (total_done == 0) {
        out->verdict = CHECK_UNKNOWN;
        check_say(r, rl, "no client operation completed, so the objectives cannot be judged");
        jw_obj_end(j);
        goto done;
    }
    if (spec->has_availability) {
        double av = (double)total_ok / (double)total_done;
        bool bad = av < spec->availability;
        jw_knum(j, "availability", av);
        if (bad) {
            size_t worst = 0;
            double worst_av = 2;
            for (size_t w = 0; w < n_win; w++)
                if (done[w] && (double)ok[w] / (double)done[w] < worst_av) {
                    worst_av = (double)ok[w] / (double)done[w];
                    worst = w;
                }
            char fault[96];
            int64_t ws = (int64_t)worst * width;
            fault_in(facts, ws, ws + width, fault, sizeof fault);
            add(r, rl, &used, "availability %.4f < %g (%zu of %zu operations ok); worst %s window "
                "%.3f s-%.3f s: %.4f (%zu of %zu)%s", av, spec->availability, total_ok, total_done, wd,
                (double)ws / 1e9, (double)(ws + width) / 1e9, worst_av, ok[worst], done[worst], fault);
            jw_kint(j, "worst_availability_window", ws);
        } else
            add(r, rl, &used, "availability %.4f >= %g (%zu of %zu operations ok)", av,
                spec->availability, total_ok, total_done);
        broken |= bad;
    }
    if (n_lat > 0) {
        /* per window first (sorted by window, then latency), then overall */
        sim_qsort(lats, n_lat, sizeof *lats, cmp_lat);
        int64_t worst_v[SLO_NPCT], worst_w[SLO_NPCT];
        for (int k = 0; k < SLO_NPCT; k++)
            worst_v[k] = -1, worst_w[k] = 0;
        for (size_t a = 0; a < n_lat;) {
            size_t b = a;
            while (b < n_lat && lats[b].window == lats[a].window)
                b++;
            for (int k = 0; k < SLO_NPCT; k++) {
                int64_t v = rank(lats + a, b - a, slo_pct_fraction[k]);
                if (spec->pct[k] >= 0 && v > worst_v[k]) {
                    worst_v[k] = v;
                    worst_w[k] = lats[a].window;
                }
            }
            a = b;
        }
        sim_qsort(lats, n_lat, sizeof *lats, cmp_ns);
        for (int k = 0; k < SLO_NPCT; k++) {
            if (spec->pct[k] < 0)
                continue;
            int64_t v = rank(lats, n_lat, slo_pct_fraction[k]);
            char got[32], want[32], wv[32];
            fmt_dur(v, got, sizeof got);
            fmt_dur(spec->pct[k], want, sizeof want);
            jw_kint(j, slo_pct_names[k], v);
            bool bad = v > spec->pct[k];
            if (used)
                add(r, rl, &used, "; ");
            if (bad) {
                char fault[96];
                int64_t ws = worst_w[k] * width;
                fault_in(facts, ws, ws + width, fault, sizeof fault);
                fmt_dur(worst_v[k], wv, sizeof wv);
                add(r, rl, &used, "%s %s > %s (over %zu ok operations); worst %s window %.3f s-%.3f s: "
                    "%s %s%s", slo_pct_names[k], got, want, n_lat, wd, (double)ws / 1e9,
                    (double)(ws + width) / 1e9, slo_pct_names[k], wv, fault);
            } else
                add(r, rl, &used, "%s %s <= %s", slo_pct_names[k], got, want);
            broken |= bad;
        }
    } else {
        for (int k = 0; k < SLO_NPCT; k++)
            if (spec->pct[k] >= 0) {
                if (used)
                    add(r, rl, &used, "; ");
                add(r, rl, &used, "%s: no operation was ok, so no latency to bound", slo_pct_names[k]);
                broken = true;
                break;
            }
    }
    jw_obj_end(j);
    out->verdict = broken ? CHECK_VIOLATED : CHECK_HOLDS;
done:
    sim_free(ok);
    sim_free(done);
    sim_free(lats);
    return 0;
}

/* ---- the checker --------------------------------------------------------------- */

static int slo_run(const struct check_input *in, struct check_result *out)
{
    const struct trace_facts *f = in->facts;
    if (!f || f->n_slo == 0) {
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason, "the scenario declares no service-level objective "
                  "(expect{slo = {...}})");
        return 0;
    }
    enum check_verdict verdict = CHECK_HOLDS;
    size_t used = 0;
    jw_obj(&out->evidence);
    jw_key(&out->evidence, "objectives");
    jw_arr(&out->evidence);
    for (size_t i = 0; i < f->n_slo; i++) {
        struct slo_spec spec;
        struct check_result one;
        check_result_init(&one);
        if (slo_spec_read(f->slo[i], &spec, one.reason, sizeof one.reason) != 0) {
            one.verdict = CHECK_UNKNOWN;
            jw_obj(&one.evidence);
            jw_obj_end(&one.evidence);
        } else
            slo_judge(&spec, in->h, f, &one);
        if (one.verdict == CHECK_VIOLATED)
            verdict = CHECK_VIOLATED;
        else if (one.verdict == CHECK_UNKNOWN && verdict == CHECK_HOLDS)
            verdict = CHECK_UNKNOWN;
        if (f->n_slo > 1)
            add(out->reason, sizeof out->reason, &used, "%sobjective %zu: %s", i ? "; " : "", i + 1,
                one.reason);
        else
            add(out->reason, sizeof out->reason, &used, "%s", one.reason);
        jw_raw(&out->evidence, one.evidence.buf, one.evidence.len);
        check_result_free(&one);
    }
    jw_arr_end(&out->evidence);
    jw_obj_end(&out->evidence);
    out->verdict = verdict;
    return 0;
}

const struct checker slo_checker = {
    .name = "slo",
    .summary = "the service-level objectives of expect{slo = ...}: availability and latency percentiles",
    .needs_trace = true,
    .run = slo_run,
    .any_history = false,
};
