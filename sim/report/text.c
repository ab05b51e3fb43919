/* report/text: sim report --text, the report for a terminal. */
#include "report.h"

#include "core/alloc.h"

#include <inttypes.h>
#include <string.h>

struct tout {
    FILE *out;
    bool color;
};

static const char *c_on(const struct tout *o, const char *code)
{
    return o->color ? code : "";
}

static const char *c_off(const struct tout *o)
{
    return o->color ? "\033[0m" : "";
}

#define BOLD "\033[1m"

static const char *verdict_color(enum check_verdict v)
{
    switch (v) {
    case CHECK_HOLDS: return "\033[32m";
    case CHECK_VIOLATED: return "\033[1;31m";
    case CHECK_UNKNOWN: return "\033[33m";
    default: return "\033[2m";
    }
}

static void heading(const struct tout *o, const char *title)
{
    fprintf(o->out, "\n%s%s%s\n", c_on(o, BOLD), title, c_off(o));
}

static void verdicts(const struct tout *o, const struct rep *r)
{
    int w = 0;
    for (size_t i = 0; i < r->n_checked; i++) {
        int n = (int)strlen(r->checked[i].checker->name);
        w = n > w ? n : w;
    }
    heading(o, "verdicts");
    for (size_t i = 0; i < r->n_checked; i++) {
        const struct rep_checked *c = &r->checked[i];
        fprintf(o->out, "  %-*s  %s%-8s%s  %s\n", w, c->checker->name,
                c_on(o, verdict_color(c->result.verdict)), check_verdict_name(c->result.verdict),
                c_off(o), c->result.reason);
    }
    if (r->hist_warning[0])
        fprintf(o->out, "  warning: %s\n", r->hist_warning);
}

/* One line per node: each role change as "TIME role(term)". */
static void roles(const struct tout *o, const struct rep *r)
{
    heading(o, "roles over time");
    if (r->n_roles == 0) {
        fprintf(o->out, "  (the model wrote no role notes)\n");
        return;
    }
    for (int n = 0; n < r->n_nodes; n++) {
        fprintf(o->out, "  %-4s", r->names[n]);
        int shown = 0, col = 6;
        for (size_t i = 0; i < r->n_roles; i++) {
            const struct rep_role *ro = &r->roles[i];
            if (ro->node != n)
                continue;
            if (shown == 40) {
                fprintf(o->out, " ...");
                break;
            }
            char item[120];
            int len = snprintf(item, sizeof item, "%s%.1fms %s(%" PRId64 ")", shown ? " -> " : " ",
                               (double)ro->t / 1e6, ro->role, ro->term);
            if (col + len > 100) {
                fprintf(o->out, "\n      ");
                col = 6;
            }
            const char *color = strcmp(ro->role, "leader") == 0 ? "\033[34;1m" : "";
            fprintf(o->out, "%s%s%s", c_on(o, color), item, *color ? c_off(o) : "");
            col += len;
            shown++;
        }
        if (!shown)
            fprintf(o->out, " (no role notes)");
        fprintf(o->out, "\n");
    }
    if (r->roles_left_out)
        fprintf(o->out, "  (%zu later role changes not shown)\n", r->roles_left_out);
}

static void faults(const struct tout *o, const struct rep *r)
{
    heading(o, "faults");
    if (r->n_marks == 0)
        fprintf(o->out, "  (none)\n");
    for (size_t i = 0; i < r->n_marks && i < 40; i++)
        fprintf(o->out, "  %12.3f ms  %s\n", (double)r->marks[i].t / 1e6, r->marks[i].text);
    if (r->n_marks > 40 || r->marks_left_out)
        fprintf(o->out, "  ... and %zu more\n", r->n_marks - (r->n_marks > 40 ? 40 : r->n_marks) +
                r->marks_left_out);
}

static void figures(const struct tout *o, const struct rep *r)
{
    static const int kinds[] = { HIST_READ, HIST_WRITE, HIST_CAS, HIST_ADD, HIST_REMOVE, HIST_TXN };
    heading(o, "key figures");
    size_t ok = 0, fail = 0, info = 0, open = 0;
    for (size_t i = 0; i < hist_count(r->h); i++) {
        const struct hist_op *op = hist_op(r->h, i);
        if (op->open)
            open++;
        else if (op->type == HIST_OK)
            ok++;
        else if (op->type == HIST_FAIL)
            fail++;
        else
            info++;
    }
    fprintf(o->out, "  operations  %zu: %zu ok, %zu fail, %zu info, %zu never completed\n",
            hist_count(r->h), ok, fail, info, open);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct rep_latency l = rep_latency_of(r, kinds[k], NULL);
        if (l.count)
            fprintf(o->out, "  %-10s  %zu completed, latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, "
                    "max %.3f ms\n", hist_f_name((enum hist_f)kinds[k]), l.count, l.p50 / 1e6,
                    l.p90 / 1e6, l.p99 / 1e6, l.max / 1e6);
    }
    fprintf(o->out, "  messages    %" PRId64 " sent, %" PRId64 " delivered, %" PRId64 " dropped; %"
            PRId64 " timers fired\n", r->n_sent, r->n_delivered, r->n_dropped, r->n_timers);
    if (hist_count(r->h) && r->info.last_t > 0)
        fprintf(o->out, "  throughput  %.1f ok operations per second of virtual time\n",
                (double)ok * 1e9 / (double)r->info.last_t);
    size_t n;
    struct rep_side *sides = rep_availability(r, &n);
    for (size_t i = 0; i < n; i++) {
        const struct net_window *w = &r->facts.windows[sides[i].window];
        fprintf(o->out, "  split %zu (%s at %.1f ms) side {%s}: %zu of %zu operations ok\n",
                sides[i].window + 1, w->kind, w->start / 1e6, sides[i].members, sides[i].ok,
                sides[i].invoked);
    }
    sim_free(sides);
}

/* ==== RED and USE ========================================================== */

static void fmt_lat(int64_t ns, char *buf, size_t n)
{
    if (ns < 0)
        snprintf(buf, n, "-");
    else if (ns < 1000000)
        snprintf(buf, n, "%.1fus", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, n, "%.2fms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%.3fs", (double)ns / 1e9);
}

/* The text shows at most this many rows per service: windows are grouped. */
#define TEXT_ROWS 16

static void red(const struct tout *o, const struct rep *r)
{
    const struct rep_obs *ob = &r->obs;
    int nw = rep_obs_windows(r), group = (nw + TEXT_ROWS - 1) / TEXT_ROWS;
    int64_t width = ob->width * group;
    char title[160];
    snprintf(title, sizeof title, "services (RED: rate, errors, duration; rows of %.3f ms)", (double)width / 1e6);
    heading(o, title);
    if (ob->n_services == 0) {
        fprintf(o->out, "  (no client operations and no \"served\" notes)\n");
        return;
    }
    if (!ob->any_served)
        fprintf(o->out, "  (the model writes no \"served\" notes: only the clients' view)\n");
    double span = (double)rep_end_time(r) / 1e9;
    for (int i = 0; i < ob->n_services; i++) {
        const struct rep_service *s = &ob->services[i];
        char p50[24], p95[24], p99[24];
        fmt_lat(rep_red_pct(s, 0, REP_WINDOWS, 0.5), p50, sizeof p50);
        fmt_lat(rep_red_pct(s, 0, REP_WINDOWS, 0.95), p95, sizeof p95);
        fmt_lat(rep_red_pct(s, 0, REP_WINDOWS, 0.99), p99, sizeof p99);
        fprintf(o->out, "  %s%s%s%s: %" PRIu64 " %s, %.1f/s, errors %" PRIu64 " (%.1f%%), p50 %s, p95 %s, p99 %s\n",
                c_on(o, BOLD), s->name, c_off(o), s->clients ? " (client operations)" : "", s->count,
                s->clients ? "completed" : "served", span > 0 ? (double)s->count / span : 0.0, s->errors,
                s->count ? 100.0 * (double)s->errors / (double)s->count : 0.0, p50, p95, p99);
        fprintf(o->out, "    %-17s %8s %6s %9s %9s %9s\n", "window", "rate/s", "err%", "p50", "p95", "p99");
        for (int w = 0; w < nw; w += group) {
            uint64_t count = 0, errors = 0;
            for (int k = w; k < w + group && k < REP_WINDOWS; k++) {
                count += s->win[k].count;
                errors += s->win[k].errors;
            }
            char a[24], b[24], c[24], err[16];
            fmt_lat(rep_red_pct(s, w, w + group, 0.5), a, sizeof a);
            fmt_lat(rep_red_pct(s, w, w + group, 0.95), b, sizeof b);
            fmt_lat(rep_red_pct(s, w, w + group, 0.99), c, sizeof c);
            if (count)
                snprintf(err, sizeof err, "%.1f", 100.0 * (double)errors / (double)count);
            else
                snprintf(err, sizeof err, "-");
            bool bad = count && errors * 10 >= count;
            fprintf(o->out, "    %7.3f-%7.3f s %8.1f %s%6s%s %9s %9s %9s\n", (double)w * ob->width / 1e9,
                    (double)(w + group) * ob->width / 1e9, (double)count * 1e9 / (double)width,
                    c_on(o, bad ? "\033[31m" : ""), err, bad ? c_off(o) : "", a, b, c);
        }
    }
    if (ob->services_left_out)
        fprintf(o->out, "  (%" PRIu64 " served notes of services beyond the first %d not shown)\n",
                ob->services_left_out, REP_MAX_SERVICES);
}

/* A sparkline of v[0..n) scaled to its maximum. */
static void spark(FILE *out, const double *v, int n)
{
    static const char levels[] = " .:-=+*#%@";
    double max = 0;
    for (int i = 0; i < n; i++)
        max = v[i] > max ? v[i] : max;
    for (int i = 0; i < n; i++)
        fputc(max > 0 && v[i] > 0 ? levels[1 + (int)(v[i] / max * 8.999)] : levels[0], out);
}

static void use(const struct tout *o, const struct rep *r)
{
    const struct rep_obs *ob = &r->obs;
    int nw = rep_obs_windows(r);
    heading(o, "nodes (USE: utilization, saturation, errors)");
    if (ob->n_nodes == 0) {
        fprintf(o->out, "  (no nodes)\n");
        return;
    }
    fprintf(o->out, "  %s\n", ob->any_load
            ? "util and queue from the model's \"load\" notes; in-flight, drops and down time from the engine"
            : "the model writes no \"load\" notes: saturation is the messages in flight to the node, "
              "errors the messages to it dropped");
    int nw_name = 6;
    for (int i = 0; i < ob->n_nodes; i++)
        nw_name = (int)strlen(r->names[i]) > nw_name ? (int)strlen(r->names[i]) : nw_name;
    fprintf(o->out, "  %-*s %6s %11s %13s %7s %6s %6s  %s\n", nw_name, "node", "util", "queue avg/max",
            "inflight avg/max", "errors", "drops", "down", ob->any_load ? "queue over time" : "in flight over time");
    double span = (double)rep_end_time(r);
    for (int i = 0; i < ob->n_nodes; i++) {
        const struct rep_node_use *n = &ob->nodes[i];
        double busy = 0, cap = 0, queue = 0, inflight = 0, down = 0, series[REP_WINDOWS];
        uint32_t qmax = 0, imax = 0;
        for (int w = 0; w < nw; w++) {
            const struct rep_use_win *x = &n->win[w];
            busy += x->busy;
            cap += x->capacity;
            queue += x->queue;
            inflight += x->inflight;
            down += x->down;
            qmax = x->queue_max > qmax ? x->queue_max : qmax;
            imax = x->inflight_max > imax ? x->inflight_max : imax;
            series[w] = (n->has_load ? x->queue : x->inflight) / (double)ob->width;
        }
        char util[16], q[24], inf[24];
        if (n->has_load && cap > 0)
            snprintf(util, sizeof util, "%.1f%%", 100.0 * busy / cap);
        else
            snprintf(util, sizeof util, "-");
        if (n->has_load)
            snprintf(q, sizeof q, "%.2f/%u", queue / span, qmax);
        else
            snprintf(q, sizeof q, "-");
        snprintf(inf, sizeof inf, "%.2f/%u", inflight / span, imax);
        fprintf(o->out, "  %-*s %6s %11s %13s %7" PRIu64 " %6" PRIu64 " %5.1f%%  |", nw_name, r->names[i], util, q, inf,
                n->errors, n->drops, 100.0 * down / span);
        spark(o->out, series, nw);
        fprintf(o->out, "|\n");
    }
}

int rep_write_text(const struct rep *r, FILE *out, bool color)
{
    struct tout o = { .out = out, .color = color };
    fprintf(out, "%s%s%s seed %s: model %s, %d nodes, %d clients, %.3f ms of virtual time, %ld lines\n",
            c_on(&o, BOLD), r->scenario, c_off(&o), r->seed, r->model ? r->model : "(none)", r->n_nodes,
            r->n_names - r->n_nodes, r->info.last_t / 1e6, r->info.lines);
    if (!r->info.complete && !r->info.error_line)
        fprintf(out, "%sINCOMPLETE%s: the trace has no end line (a killed run?)%s\n",
                c_on(&o, "\033[1;33m"), c_off(&o),
                r->info.truncated ? "; its last line was cut short and was ignored" : "");
    if (r->error_msg)
        fprintf(out, "the run ended in error: %s\n", r->error_msg);
    fprintf(out, "replay: sim replay %s\n", r->path);
    verdicts(&o, r);
    roles(&o, r);
    faults(&o, r);
    figures(&o, r);
    red(&o, r);
    use(&o, r);
    return ferror(out) ? -1 : 0;
}
