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
    return ferror(out) ? -1 : 0;
}
