/* report/html: the self-contained HTML page of sim report.
 *
 * Everything is in one file: CSS, inline SVG drawn here, and a little
 * JavaScript for zoom, pan, the time cursor and the verdict links. Every
 * picture on the time axis is an <svg class="tsvg"> whose viewBox spans
 * 0..TW units for the whole run, so zooming is changing the viewBox of all
 * of them at once (lines keep their width with non-scaling-stroke). Hovering
 * an element shows its <title>: a message's contents, an operation, a fault.
 * The page works without JavaScript too, without zoom and cursor. */
#include "report.h"

#include "core/alloc.h"
#include "trace/jw.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TW 1000.0          /* time axis width in SVG units */
#define LANE 22            /* lane height */

struct page {
    const struct rep *r;
    FILE *out;
    int64_t end;
    int64_t *viol;             /* op ids that some violated checker names, sorted */
    size_t n_viol;
};

static int cmp_id(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void index_violations(struct page *p)
{
    size_t cap = 0;
    for (size_t i = 0; i < p->r->n_checked; i++)
        for (size_t k = 0; k < p->r->checked[i].n_ops; k++) {
            SIM_GROW(p->viol, cap, p->n_viol + 1);
            p->viol[p->n_viol++] = p->r->checked[i].ops[k];
        }
    if (p->n_viol > 1)
        qsort(p->viol, p->n_viol, sizeof *p->viol, cmp_id);
}

static bool is_viol(const struct page *p, int64_t id)
{
    return p->n_viol && bsearch(&id, p->viol, p->n_viol, sizeof *p->viol, cmp_id) != NULL;
}

/* The index of the operation with this id (ids grow with invocation order,
 * and a history is in invocation order), or -1. */
static long find_op(const hist *h, int64_t id)
{
    size_t lo = 0, hi = hist_count(h);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t m = hist_op(h, mid)->id;
        if (m == id)
            return (long)mid;
        if (m < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ==== small writers ======================================================= */

static void esc(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* s escaped for HTML, for a printf argument: one of 8 rotating buffers,
 * so up to 8 may be used in one call. Names longer than the buffer are cut. */
static const char *H(const char *s)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    size_t n = 0;
    for (; s && *s && n + 7 < sizeof bufs[0]; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
                        : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;
        if (e) {
            memcpy(b + n, e, strlen(e));
            n += strlen(e);
        } else
            b[n++] = *s;
    }
    b[n] = '\0';
    return b;
}

static double X(const struct page *p, int64_t t)
{
    if (t < 0)
        t = 0;
    return (double)t * TW / (double)p->end;
}

static double ms(int64_t ns)
{
    return (double)ns / 1e6;
}

/* A time span as "12.345 ms". */
static const char *fmt_ms(char *buf, size_t n, int64_t ns)
{
    snprintf(buf, n, "%.3f ms", ms(ns));
    return buf;
}

static const char *client_name(const struct rep *r, int lane)
{
    return r->names[r->n_nodes + lane];
}

/* ==== header and verdicts ================================================= */

static const char *const css[] = {
    "body{font:14px/1.4 system-ui,sans-serif;margin:0 1.5em 3em;color:#222;background:#fff}\n",
    "h1{font-size:1.4em;margin:.8em 0 .3em}h2{font-size:1.15em;margin:1.5em 0 .4em;border-bottom:1px solid #ccc}\n",
    "table.kv td{padding:1px 8px;vertical-align:top;word-break:break-all}table.kv td:first-child{color:#666}\n",
    "code,pre{font:12px/1.35 ui-monospace,monospace}pre{background:#f6f6f6;padding:.5em;overflow:auto;max-height:28em}\n",
    ".banner{background:#fff3cd;border:1px solid #e0c060;padding:.4em .8em;margin:.5em 0}\n",
    ".bad{background:#f8d7da;border-color:#d08080}\n",
    "ul.verdicts{list-style:none;padding:0}ul.verdicts li{margin:2px 0}\n",
    ".vname{display:inline-block;min-width:11em;font-weight:600}\n",
    ".tag{display:inline-block;min-width:5.5em;padding:0 .4em;border-radius:3px;font-size:12px;text-align:center;margin-right:.6em}\n",
    ".holds .tag{background:#d4edda}.violated .tag{background:#f5c2c7}.unknown .tag{background:#fff3cd}.skipped .tag{background:#e9ecef}\n",
    ".lanes{display:flex;align-items:flex-start}.labels{flex:0 0 5em;font:12px ui-monospace,monospace}\n",
    ".labels div{height:" "22px;line-height:22px;text-align:right;padding-right:6px;white-space:nowrap;overflow:hidden}\n",
    ".plot{flex:1;min-width:0;position:relative}svg.tsvg{width:100%;display:block;background:#fcfcfc;cursor:grab}\n",
    "svg .lanebg{fill:#f1f3f5}svg .op{stroke:none}svg .op.ok{fill:#4caf50}svg .op.fail{fill:#e53935}\n",
    "svg .op.info{fill:#ffb300}svg .op.open{fill:#9e9e9e}svg .op.viol{stroke:#000;stroke-width:2px;vector-effect:non-scaling-stroke}\n",
    "svg .msg.reqfocus,svg .note.reqfocus{stroke:#7b1fa2;stroke-width:3px}svg .op.reqsel{stroke:#7b1fa2;stroke-width:3px;vector-effect:non-scaling-stroke}\n",
    "svg .red-ok{fill:#90caf9}svg .red-err{fill:#e53935}svg .red-p99{fill:none;stroke:#6a1b9a;stroke-width:1.5px;vector-effect:non-scaling-stroke}\n",
    "svg .use-util{fill:#80cbc4}svg .use-sat{fill:none;stroke:#ef6c00;stroke-width:1.5px;vector-effect:non-scaling-stroke}svg .use-err{fill:#e53935}\n",
    "svg .op.focus{fill:#7b1fa2}svg .msg{stroke:#1e88e5;stroke-width:1px;vector-effect:non-scaling-stroke}\n",
    "svg .msg.drop{stroke:#e53935;stroke-dasharray:3 2}svg .msg.inflight{stroke:#999;stroke-dasharray:1 2}\n",
    "svg .msg:hover{stroke-width:3px}svg .lane{stroke:#bbb;stroke-width:1px;vector-effect:non-scaling-stroke}\n",
    "svg .partition{fill:#ffcdd2;opacity:.45}svg .down{fill:#424242;opacity:.35}svg .paused{fill:#ffb300;opacity:.35}\n",
    "svg .mark{stroke-width:2px;vector-effect:non-scaling-stroke;stroke:#6d4c41}svg .mark.crash{stroke:#000}\n",
    "svg .mark.restart{stroke:#2e7d32}svg .mark.pause,svg .mark.resume{stroke:#ef6c00}svg .mark.clock{stroke:#8e24aa}\n",
    "svg .mark.heal{stroke:#43a047}svg .mark.invariant{stroke:#d50000;stroke-width:3px}\n",
    "svg .mark.partition,svg .mark.isolate,svg .mark.cut,svg .mark.bridge{stroke:#c62828}\n",
    "svg .dropx{stroke:#e53935;stroke-width:2px;vector-effect:non-scaling-stroke}\n",
    "svg .note{stroke:#00897b;stroke-width:1px;vector-effect:non-scaling-stroke}\n",
    "svg .role{stroke:#fff;stroke-width:1px;vector-effect:non-scaling-stroke}svg .role-leader{fill:#1565c0}\n",
    "svg .role-follower{fill:#90caf9}svg .role-candidate{fill:#ffb74d}svg .role-other{fill:#b39ddb}\n",
    "svg .cursor{stroke:#d81b60;stroke-width:1.5px;vector-effect:non-scaling-stroke}\n",
    "svg .bar{fill:#5c6bc0}svg .bar.dropbar{fill:#e53935}\n",
    ".axis{position:relative;height:16px;font:11px ui-monospace,monospace;color:#555}\n",
    ".axis span{position:absolute;transform:translateX(-50%)}\n",
    "#controls{position:sticky;top:0;background:#fff;padding:.4em 0;z-index:2;border-bottom:1px solid #eee}\n",
    "#controls button{margin-right:.3em}#cursorinfo{font:12px ui-monospace,monospace;margin-left:1em}\n",
    "table.grid{border-collapse:collapse}table.grid td,table.grid th{border:1px solid #ddd;padding:2px 8px;text-align:right}\n",
    "table.grid td:first-child,table.grid th:first-child{text-align:left}\n",
    ".evidence{border-left:4px solid #e53935;padding:.2em .8em;margin:.8em 0}.evidence.focus{background:#fff8e1}\n",
    ".oplink{cursor:pointer;color:#1565c0;text-decoration:underline}\n",
    ".legend span{display:inline-block;margin-right:1em}.sw{display:inline-block;width:12px;height:10px;margin-right:3px}\n",
    "#jserrors{color:#b00020;white-space:pre-wrap}\n",
    NULL,
};

static void write_head(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>sim report: ", out);
    esc(out, r->scenario);
    fprintf(out, " seed %s</title>\n<style>\n", r->seed);
    for (int i = 0; css[i]; i++)
        fputs(css[i], out);
    fputs("</style></head>\n<body>\n", out);
    fputs("<div id=\"jserrors\"></div>\n", out);
    fputs("<h1>", out);
    esc(out, r->scenario);
    fprintf(out, " &mdash; seed %s</h1>\n", r->seed);
    if (!r->info.complete && !r->info.error_line) {
        fputs("<div class=\"banner bad\" id=\"incomplete\"><b>Incomplete trace</b>: the trace has no "
              "\"end\" line (a killed run?). Everything below is what the trace holds up to ", out);
        char b[40];
        esc(out, fmt_ms(b, sizeof b, r->info.last_t));
        fprintf(out, " (line %ld)%s.</div>\n", r->info.lines,
                r->info.truncated ? "; its last line was cut short and was ignored" : "");
    }
    if (r->error_msg) {
        fputs("<div class=\"banner bad\" id=\"runerror\"><b>The run ended in error:</b> ", out);
        esc(out, r->error_msg);
        fputs("</div>\n", out);
    }
    fputs("<table class=\"kv\" id=\"summary\">\n<tr><td>scenario</td><td><code>", out);
    esc(out, r->scenario);
    fprintf(out, "</code></td></tr>\n<tr><td>seed</td><td>%s</td></tr>\n", r->seed);
    fputs("<tr><td>replay</td><td><code id=\"replay\">sim replay ", out);
    esc(out, r->path);
    fputs("</code> &nbsp;or&nbsp; <code>sim run ", out);
    esc(out, r->scenario);
    fprintf(out, " --seed %s", r->seed);
    fputs("</code></td></tr>\n<tr><td>model</td><td>", out);
    esc(out, r->model ? r->model : "(no cluster)");
    if (r->cap_class) {
        fputs(" (declares ", out);
        esc(out, r->cap_class);
        fputs(")", out);
    }
    fputs("</td></tr>\n<tr><td>model parameters</td><td><code>", out);
    esc(out, r->cluster_params ? r->cluster_params : "{}");
    fputs("</code></td></tr>\n<tr><td>--param overrides</td><td><code>", out);
    esc(out, r->header_params ? r->header_params : "{}");
    fprintf(out, "</code></td></tr>\n<tr><td>nodes, clients</td><td>%d nodes, %d clients</td></tr>\n",
            r->n_nodes, r->n_names - r->n_nodes);
    char b[40];
    fprintf(out, "<tr><td>run</td><td>%s of virtual time, %ld trace lines; sim %s</td></tr>\n",
            fmt_ms(b, sizeof b, r->info.last_t), r->info.lines, r->sim_version);
    fputs("<tr><td>totals</td><td><code>", out);
    esc(out, r->end_line ? r->end_line : "(no end line)");
    fputs("</code></td></tr>\n</table>\n", out);
    for (size_t i = 0; i < r->n_expects; i++) {
        if (i == 0)
            fputs("<p>expectations in the trace:</p><ul id=\"expects\">\n", out);
        fputs("<li>", out);
        esc(out, r->expects[i]);
        fputs("</li>\n", out);
        if (i + 1 == r->n_expects)
            fputs("</ul>\n", out);
    }
}

static void write_verdicts(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    fputs("<h2 id=\"verdicts-title\">Verdicts</h2>\n<ul class=\"verdicts\" id=\"verdicts\">\n", out);
    for (size_t i = 0; i < r->n_checked; i++) {
        const struct rep_checked *c = &r->checked[i];
        const char *v = check_verdict_name(c->result.verdict);
        fprintf(out, "<li class=\"verdict %s\" data-checker=\"%s\">", v, c->checker->name);
        if (c->result.verdict == CHECK_VIOLATED || c->result.verdict == CHECK_UNKNOWN)
            fprintf(out, "<a class=\"vname\" href=\"#ev-%s\" data-focus=\"%s\">%s</a>",
                    c->checker->name, c->checker->name, c->checker->name);
        else
            fprintf(out, "<span class=\"vname\">%s</span>", c->checker->name);
        fprintf(out, "<span class=\"tag\">%s</span>", v);
        esc(out, c->result.reason);
        fputs("</li>\n", out);
    }
    fputs("</ul>\n", out);
    if (r->hist_warning[0]) {
        fputs("<div class=\"banner\">", out);
        esc(out, r->hist_warning);
        fputs("</div>\n", out);
    }
}

/* ==== the time panels ===================================================== */

static void controls(struct page *p)
{
    fputs("<div id=\"controls\">"
          "<button id=\"zin\" title=\"zoom in (or the mouse wheel over a plot)\">zoom +</button>"
          "<button id=\"zout\">zoom &minus;</button><button id=\"zreset\">whole run</button>"
          "&nbsp; time cursor: <button id=\"cprev\" title=\"previous event (key ,)\">&#9664; event</button>"
          "<button id=\"cnext\" title=\"next event (key .)\">event &#9654;</button>"
          "<span id=\"cursorinfo\">drag a plot to pan; click a plot to put the cursor there</span>"
          "<div class=\"axis\" id=\"axis\"></div></div>\n", p->out);
}

static void svg_open(struct page *p, const char *id, int height)
{
    fprintf(p->out, "<svg class=\"tsvg\" id=\"%s\" viewBox=\"0 0 %g %d\" preserveAspectRatio=\"none\" "
            "style=\"height:%dpx\" xmlns=\"http://www.w3.org/2000/svg\">\n", id, TW, height, height);
}

static void svg_close(struct page *p, int height)
{
    fprintf(p->out, "<line class=\"cursor\" x1=\"-1\" x2=\"-1\" y1=\"0\" y2=\"%d\"/>\n</svg>\n", height);
}

static void labels(struct page *p, int from, int to)
{
    fputs("<div class=\"labels\">", p->out);
    for (int i = from; i < to; i++) {
        fputs("<div>", p->out);
        esc(p->out, p->r->names[i]);
        fputs("</div>", p->out);
    }
    fputs("</div>\n", p->out);
}

/* One operation as text: "c1 write x=5", "c1 read x -> 3". */
static void op_text(const struct rep *r, const struct hist_op *op, char *buf, size_t n)
{
    const hist *h = r->h;
    const char *f = hist_f_name((enum hist_f)op->f);
    const char *who = hist_str(h, op->process), *key = hist_str(h, op->key);
    char val[160];
    if (op->f == HIST_READ) {
        if (op->multi)
            snprintf(val, sizeof val, " -> several values");
        else if (op->type == HIST_OK && !op->open)
            op->out == HIST_NIL ? snprintf(val, sizeof val, " -> nil")
                                : snprintf(val, sizeof val, " -> %" PRId64, op->out);
        else
            val[0] = '\0';
    } else if (op->f == HIST_TXN) {
        /* the micro-operations: "r a=1 w b=2 ..." */
        const struct hist_micro *m = hist_micro(h, op);
        size_t used = 0;
        val[0] = '\0';
        for (uint32_t i = 0; m && i < op->micro_n && used + 1 < sizeof val; i++) {
            int n;
            if (m[i].value == HIST_NIL)
                n = snprintf(val + used, sizeof val - used, " %s %s", m[i].f == HIST_READ ? "r" : "w",
                             hist_str(h, m[i].key));
            else
                n = snprintf(val + used, sizeof val - used, " %s %s=%" PRId64, m[i].f == HIST_READ ? "r" : "w",
                             hist_str(h, m[i].key), m[i].value);
            if (n < 0 || used + (size_t)n >= sizeof val) {
                snprintf(val + (used < sizeof val - 5 ? used : sizeof val - 5), 5, " ...");
                break;
            }
            used += (size_t)n;
        }
    } else if (op->f == HIST_CAS)
        snprintf(val, sizeof val, " [%s%" PRId64 " -> %" PRId64 "]", op->arg == HIST_NIL ? "nil " : "",
                 op->arg == HIST_NIL ? 0 : op->arg, op->arg2);
    else
        snprintf(val, sizeof val, " %" PRId64, op->arg);
    if (op->f == HIST_TXN)
        snprintf(buf, n, "op %" PRId64 ": %s txn%s", op->id, who, val);
    else
        snprintf(buf, n, "op %" PRId64 ": %s %s %s%s", op->id, who, f, key, val);
}

static const char *op_class(const struct hist_op *op)
{
    if (op->open)
        return "open";
    return op->type == HIST_OK ? "ok" : op->type == HIST_FAIL ? "fail" : "info";
}

static void write_ops(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    int clients = r->n_names - r->n_nodes;
    size_t n = hist_count(r->h);
    size_t stride = n > REP_MAX_OPS ? (n + REP_MAX_OPS - 1) / REP_MAX_OPS : 1;
    fputs("<h2 id=\"ops-title\">Client operations</h2>\n", out);
    fputs("<p class=\"legend\"><span><i class=\"sw\" style=\"background:#4caf50\"></i>ok</span>"
          "<span><i class=\"sw\" style=\"background:#e53935\"></i>fail</span>"
          "<span><i class=\"sw\" style=\"background:#ffb300\"></i>info (unknown outcome)</span>"
          "<span><i class=\"sw\" style=\"background:#9e9e9e\"></i>never completed</span>"
          "<span><i class=\"sw\" style=\"background:#fff;border:2px solid #000\"></i>named by a violated checker</span></p>\n",
          out);
    fputs("<p class=\"legend\">Click an operation to follow its request: the messages, timers' sends and "
          "notes that carry its id (\"req\" in the trace) turn purple in the diagram of nodes and messages. "
          "<span id=\"reqinfo\"></span></p>\n", out);
    if (stride > 1)
        fprintf(out, "<p class=\"banner\" id=\"ops-sampled\">%zu operations: every %zu-th is drawn "
                "(and every operation a violation names); the figures below use all of them.</p>\n",
                n, stride);
    int height = (clients > 0 ? clients : 1) * LANE;
    fputs("<div class=\"lanes\">", out);
    labels(p, r->n_nodes, r->n_names);
    fputs("<div class=\"plot\">", out);
    svg_open(p, "ops", height);
    for (int c = 0; c < clients; c++)
        fprintf(out, "<g class=\"clientlane\" data-client=\"%s\"><rect class=\"lanebg\" x=\"0\" y=\"%d\" "
                "width=\"%g\" height=\"%d\"/></g>\n", H(client_name(r, c)), c * LANE + 2, TW, LANE - 4);
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(r->h, i);
        const struct rep_checked *viol = is_viol(p, op->id) ? rep_op_violation(r, op->id) : NULL;
        if (i % stride != 0 && !viol)
            continue;
        int lane = rep_name(r, hist_str(r->h, op->process)) - r->n_nodes;
        if (lane < 0)
            lane = 0;
        int64_t done = op->open ? p->end : op->complete_t;
        double x0 = X(p, op->invoke_t), w = X(p, done) - x0;
        if (w < 0.02)
            w = 0.02;
        char text[320], a[40], b[40], l[40];
        op_text(r, op, text, sizeof text);
        fprintf(out, "<rect class=\"op %s%s\" x=\"%.4f\" y=\"%d\" width=\"%.4f\" height=\"%d\" "
                "data-op=\"%" PRId64 "\" data-t0=\"%" PRId64 "\" data-t1=\"%" PRId64 "\"",
                op_class(op), viol ? " viol" : "", x0, lane * LANE + 5, w, LANE - 10, op->id,
                op->invoke_t, done);
        if (viol) {
            fputs(" data-viol=\"", out);
            for (size_t k = 0; k < r->n_checked; k++)
                for (size_t j = 0; j < r->checked[k].n_ops; j++)
                    if (r->checked[k].ops[j] == op->id) {
                        fprintf(out, "%s ", r->checked[k].checker->name);
                        break;
                    }
            fputs("\"", out);
        }
        fputs("><title>", out);
        esc(out, text);
        fprintf(out, " %s, %s to %s", op->open ? "never completed" : op_class(op),
                fmt_ms(a, sizeof a, op->invoke_t), op->open ? "the end" : fmt_ms(b, sizeof b, done));
        if (!op->open)
            fprintf(out, " (%s)", fmt_ms(l, sizeof l, done - op->invoke_t));
        if (viol) {
            fputs("\nviolation (", out);
            esc(out, viol->checker->name);
            fputs("): ", out);
            esc(out, viol->result.reason);
        }
        fputs("</title></rect>\n", out);
    }
    svg_close(p, height);
    fputs("</div></div>\n", out);
}

static const char *role_class(const char *role)
{
    if (strcmp(role, "leader") == 0 || strcmp(role, "follower") == 0 || strcmp(role, "candidate") == 0)
        return role;
    return "other";
}

static void write_roles(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    fputs("<h2 id=\"roles-title\">Node roles</h2>\n", out);
    if (r->n_roles == 0) {
        fputs("<p id=\"roles-none\">The model wrote no role notes.</p>\n", out);
        return;
    }
    fputs("<p class=\"legend\"><span><i class=\"sw\" style=\"background:#1565c0\"></i>leader</span>"
          "<span><i class=\"sw\" style=\"background:#90caf9\"></i>follower</span>"
          "<span><i class=\"sw\" style=\"background:#ffb74d\"></i>candidate</span>"
          "<span><i class=\"sw\" style=\"background:#b39ddb\"></i>other</span> (hover for the term)</p>\n",
          out);
    if (r->roles_left_out)
        fprintf(out, "<p class=\"banner\">Only the first %d role changes are drawn (%zu more).</p>\n",
                REP_MAX_MARKS, r->roles_left_out);
    int height = (r->n_nodes > 0 ? r->n_nodes : 1) * LANE;
    fputs("<div class=\"lanes\">", out);
    labels(p, 0, r->n_nodes);
    fputs("<div class=\"plot\">", out);
    svg_open(p, "roles", height);
    for (size_t i = 0; i < r->n_roles; i++) {
        const struct rep_role *ro = &r->roles[i];
        if (ro->node < 0 || ro->node >= r->n_nodes)
            continue;
        int64_t until = p->end;
        for (size_t k = i + 1; k < r->n_roles; k++)
            if (r->roles[k].node == ro->node) {
                until = r->roles[k].t;
                break;
            }
        double x0 = X(p, ro->t), w = X(p, until) - x0;
        char a[40], b[40];
        fprintf(out, "<rect class=\"role role-%s\" x=\"%.4f\" y=\"%d\" width=\"%.4f\" height=\"%d\">"
                "<title>%s: ", role_class(ro->role), x0, ro->node * LANE + 3, w > 0 ? w : 0.01,
                LANE - 6, H(r->names[ro->node]));
        esc(out, ro->role);
        fprintf(out, " (term %" PRId64 ") from %s to %s</title></rect>\n", ro->term,
                fmt_ms(a, sizeof a, ro->t), fmt_ms(b, sizeof b, until));
    }
    svg_close(p, height);
    fputs("</div></div>\n", out);
}

static double lane_mid(int lane)
{
    return lane * LANE + LANE / 2.0;
}

static void write_spacetime(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    int height = (r->n_names > 0 ? r->n_names : 1) * LANE;
    fputs("<h2 id=\"spacetime-title\">Nodes and messages</h2>\n", out);
    fputs("<p class=\"legend\">Time runs left to right: a line goes from its sender at the send to its "
          "addressee at the delivery. <span><b style=\"color:#1e88e5\">&mdash; delivered</b></span>"
          "<span><b style=\"color:#e53935\">- - dropped</b> (&times; where, hover for the reason)</span>"
          "<span><b style=\"color:#999\">&middot;&middot; still in flight</b></span>"
          "<span><i class=\"sw\" style=\"background:#ffcdd2\"></i>network split</span>"
          "<span><i class=\"sw\" style=\"background:#9e9e9e\"></i>node down</span>"
          "<span><i class=\"sw\" style=\"background:#ffe082\"></i>node paused</span>"
          "<span>| fault or clock change</span></p>\n", out);
    if (r->msg_stride > 1)
        fprintf(out, "<p class=\"banner\" id=\"msgs-sampled\">%" PRId64 " messages were sent: every "
                "%" PRId64 "-th is drawn (%zu arrows); the strip below counts all of them.</p>\n",
                r->n_sent, r->msg_stride, r->n_msgs);
    fputs("<div class=\"lanes\">", out);
    labels(p, 0, r->n_names);
    fputs("<div class=\"plot\">", out);
    svg_open(p, "spacetime", height);
    /* no arrowheads: time runs left to right, so every arrow points right, and
     * markers would be stretched by the zoom */
    const struct trace_facts *f = &r->facts;
    for (size_t w = 0; w < f->n_windows; w++) {
        const struct net_window *win = &f->windows[w];
        int64_t until = win->end == INT64_MAX ? p->end : win->end;
        char a[40], b[40];
        fprintf(out, "<rect class=\"partition\" x=\"%.4f\" y=\"0\" width=\"%.4f\" height=\"%d\">"
                "<title>%s from %s to %s; sides:", X(p, win->start), X(p, until) - X(p, win->start),
                height, win->kind, fmt_ms(a, sizeof a, win->start),
                win->end == INT64_MAX ? "the end" : fmt_ms(b, sizeof b, win->end));
        for (int e = 0; e < f->n_names; e++)
            if (win->side_of[e] >= 0)
                fprintf(out, " %s:%d", H(f->names[e]), win->side_of[e]);
        fputs("</title></rect>\n", out);
    }
    for (size_t i = 0; i < f->n_down; i++) {
        const struct node_window *d = &f->down[i];
        int lane = rep_name(r, f->names[d->node]);
        int64_t until = d->end == INT64_MAX ? p->end : d->end;
        char a[40];
        fprintf(out, "<rect class=\"%s\" x=\"%.4f\" y=\"%d\" width=\"%.4f\" height=\"%d\"><title>%s %s "
                "from %s</title></rect>\n", d->paused ? "paused" : "down", X(p, d->start), lane * LANE,
                X(p, until) - X(p, d->start), LANE, H(f->names[d->node]), d->paused ? "paused" : "down",
                fmt_ms(a, sizeof a, d->start));
    }
    for (int i = 0; i < r->n_names; i++)
        fprintf(out, "<line class=\"lane\" x1=\"0\" x2=\"%g\" y1=\"%g\" y2=\"%g\"/>\n", TW, lane_mid(i),
                lane_mid(i));
    for (size_t i = 0; i < r->n_msgs; i++) {
        const struct rep_msg *m = &r->msgs[i];
        if (m->from < 0 || m->to < 0)
            continue;
        double y1 = lane_mid(m->from), y2 = lane_mid(m->to);
        int64_t done = m->end == REP_MSG_IN_FLIGHT ? p->end : m->done;
        if (m->end == REP_MSG_DROPPED)
            y2 = (y1 + y2) / 2;
        const char *cls = m->end == REP_MSG_DELIVERED ? "msg" : m->end == REP_MSG_DROPPED ? "msg drop"
                                                                                          : "msg inflight";
        char a[40], b[40];
        fprintf(out, "<line class=\"%s\" x1=\"%.4f\" y1=\"%g\" x2=\"%.4f\" y2=\"%g\"%s "
                "data-t0=\"%" PRId64 "\"", cls, X(p, m->sent), y1, X(p, done), y2,
                m->end == REP_MSG_DELIVERED ? " data-end=\"delivered\"" : "", m->sent);
        if (m->req > 0)
            fprintf(out, " data-req=\"%" PRId64 "\"", m->req);
        fprintf(out, "><title>message %" PRId64 " %s &#8594; %s, sent %s, ", m->id,
                H(r->names[m->from]), H(r->names[m->to]), fmt_ms(a, sizeof a, m->sent));
        if (m->end == REP_MSG_DELIVERED)
            fprintf(out, "delivered %s", fmt_ms(b, sizeof b, m->done));
        else if (m->end == REP_MSG_DROPPED) {
            fprintf(out, "DROPPED at %s: ", fmt_ms(b, sizeof b, m->done));
            esc(out, m->reason);
        } else
            fputs("never delivered", out);
        fputs("\n", out);
        esc(out, m->text);
        fputs("</title></line>\n", out);
        if (m->end == REP_MSG_DROPPED)
            fprintf(out, "<line class=\"dropx\" x1=\"%.4f\" x2=\"%.4f\" y1=\"%g\" y2=\"%g\"><title>dropped: "
                    "%s</title></line>\n", X(p, done), X(p, done), y2 - 4, y2 + 4, H(m->reason));
    }
    for (size_t i = 0; i < r->n_marks; i++) {
        const struct rep_mark *mk = &r->marks[i];
        double y1 = mk->node >= 0 ? mk->node * LANE + 1 : 0;
        double y2 = mk->node >= 0 ? (mk->node + 1) * LANE - 1 : height;
        fprintf(out, "<line class=\"mark %s\" x1=\"%.4f\" x2=\"%.4f\" y1=\"%g\" y2=\"%g\"><title>%.3f ms: ",
                mk->kind, X(p, mk->t), X(p, mk->t), y1, y2, ms(mk->t));
        esc(out, mk->text);
        fputs("</title></line>\n", out);
    }
    for (size_t i = 0; i < r->n_notes; i++) {
        const struct rep_mark *mk = &r->notes[i];
        if (mk->node < 0)
            continue;
        fprintf(out, "<line class=\"note\" x1=\"%.4f\" x2=\"%.4f\" y1=\"%d\" y2=\"%d\"",
                X(p, mk->t), X(p, mk->t), mk->node * LANE + 2, mk->node * LANE + 8);
        if (mk->req > 0)
            fprintf(out, " data-req=\"%" PRId64 "\"", mk->req);
        fprintf(out, "><title>%.3f ms: ", ms(mk->t));
        esc(out, mk->text);
        fputs("</title></line>\n", out);
    }
    svg_close(p, height);
    fputs("</div></div>\n", out);
    if (r->marks_left_out || r->notes_left_out)
        fprintf(out, "<p class=\"banner\">Only the first %d faults and %d notes are marked (%zu and %zu "
                "more).</p>\n", REP_MAX_MARKS, REP_MAX_MARKS, r->marks_left_out, r->notes_left_out);
    /* every message, counted per time bucket */
    const struct rep_buckets *sb = &r->sent_buckets, *db = &r->drop_buckets;
    uint32_t top = 1;
    for (int i = 0; i < REP_BUCKETS; i++)
        top = sb->n[i] > top ? sb->n[i] : top;
    fprintf(out, "<div class=\"lanes\"><div class=\"labels\"><div title=\"messages sent (blue) and "
            "dropped (red) per %.3f ms\">msgs</div></div><div class=\"plot\">", ms(sb->width));
    svg_open(p, "density", 40);
    for (int pass = 0; pass < 2; pass++) {
        const struct rep_buckets *b = pass ? db : sb;
        for (int i = 0; i < REP_BUCKETS && b->width; i++) {
            if (!b->n[i])
                continue;
            double hgt = 38.0 * b->n[i] / top;
            fprintf(out, "<rect class=\"bar%s\" x=\"%.4f\" y=\"%.2f\" width=\"%.4f\" height=\"%.2f\">"
                    "<title>%u %s, %.3f to %.3f ms</title></rect>\n", pass ? " dropbar" : "",
                    X(p, i * b->width), 40 - hgt, X(p, b->width), hgt, b->n[i], pass ? "dropped" : "sent",
                    ms(i * b->width), ms((i + 1) * b->width));
        }
    }
    svg_close(p, 40);
    fputs("</div></div>\n", out);
}

/* ==== figures ============================================================= */

static void write_latency(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    static const int kinds[] = { HIST_READ, HIST_WRITE, HIST_CAS, HIST_ADD, HIST_REMOVE, HIST_TXN };
    fputs("<h2 id=\"latency-title\">Latency</h2>\n<table class=\"grid\" id=\"latency\"><tr><th>operation"
          "</th><th>completed</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n", out);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        struct rep_latency l = rep_latency_of(r, kinds[k], NULL);
        if (!l.count)
            continue;
        fprintf(out, "<tr><td>%s</td><td>%zu</td><td>%.3f ms</td><td>%.3f ms</td><td>%.3f ms</td>"
                "<td>%.3f ms</td></tr>\n", hist_f_name((enum hist_f)kinds[k]), l.count, ms(l.p50),
                ms(l.p90), ms(l.p99), ms(l.max));
    }
    fputs("</table>\n<p>Histograms (operations that completed: ok, fail or info; bins up to the "
          "99th percentile, the last bin holds the rest):</p>\n<div class=\"hists\">", out);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        int64_t *v = NULL;
        struct rep_latency l = rep_latency_of(r, kinds[k], &v);
        if (!l.count) {
            sim_free(v);
            continue;
        }
        enum { BINS = 40 };
        size_t bin[BINS] = { 0 };
        int64_t span = l.p99 > 0 ? l.p99 : 1;
        for (size_t i = 0; i < l.count; i++) {
            int64_t b = v[i] * (BINS - 1) / span;
            bin[b >= BINS ? BINS - 1 : b]++;
        }
        size_t top = 1;
        for (int i = 0; i < BINS; i++)
            top = bin[i] > top ? bin[i] : top;
        fprintf(out, "<figure style=\"display:inline-block;margin:0 1.5em 0 0\"><svg class=\"hist\" "
                "data-f=\"%s\" width=\"%d\" height=\"80\" viewBox=\"0 0 %d 80\">", hist_f_name(kinds[k]),
                BINS * 7, BINS * 7);
        for (int i = 0; i < BINS; i++) {
            double hgt = 76.0 * (double)bin[i] / (double)top;
            fprintf(out, "<rect class=\"bar\" x=\"%d\" y=\"%.2f\" width=\"6\" height=\"%.2f\"><title>%zu "
                    "from %.3f ms%s</title></rect>", i * 7, 78 - hgt, hgt, bin[i],
                    ms(span * i / (BINS - 1)), i == BINS - 1 ? " and slower" : "");
        }
        fprintf(out, "</svg><figcaption>%s: 0 to %.3f ms</figcaption></figure>\n",
                hist_f_name(kinds[k]), ms(span));
        sim_free(v);
    }
    fputs("</div>\n", out);
}

static void write_throughput(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    enum { NB = 200 };
    size_t ok[NB] = { 0 }, bad[NB] = { 0 };
    int64_t width = (p->end + NB - 1) / NB;
    if (width < 1)
        width = 1;
    for (size_t i = 0; i < hist_count(r->h); i++) {
        const struct hist_op *op = hist_op(r->h, i);
        if (op->open)
            continue;
        int64_t b = op->complete_t / width;
        if (b >= NB)
            b = NB - 1;
        if (op->type == HIST_OK)
            ok[b]++;
        else
            bad[b]++;
    }
    size_t top = 1;
    for (int i = 0; i < NB; i++)
        top = ok[i] + bad[i] > top ? ok[i] + bad[i] : top;
    fprintf(out, "<h2 id=\"throughput-title\">Throughput</h2>\n<p>Operations completed per %.3f ms "
            "(green ok, red fail or info); peak %zu.</p>\n", ms(width), top);
    fputs("<div class=\"lanes\"><div class=\"labels\"><div>ops</div></div><div class=\"plot\">", out);
    svg_open(p, "throughput", 60);
    for (int i = 0; i < NB; i++) {
        if (!ok[i] && !bad[i])
            continue;
        double h1 = 58.0 * (double)ok[i] / (double)top, h2 = 58.0 * (double)bad[i] / (double)top;
        fprintf(out, "<rect style=\"fill:#4caf50\" x=\"%.4f\" y=\"%.2f\" width=\"%.4f\" height=\"%.2f\">"
                "<title>%zu ok, %zu fail/info, %.3f to %.3f ms</title></rect>", X(p, i * width),
                60 - h1, X(p, width), h1, ok[i], bad[i], ms(i * width), ms((i + 1) * width));
        if (bad[i])
            fprintf(out, "<rect style=\"fill:#e53935\" x=\"%.4f\" y=\"%.2f\" width=\"%.4f\" height=\"%.2f\"/>",
                    X(p, i * width), 60 - h1 - h2, X(p, width), h2);
        fputs("\n", out);
    }
    svg_close(p, 60);
    fputs("</div></div>\n", out);
}

/* ==== RED per service, USE per node ======================================== */

static void write_obs(struct page *p)
{
    const struct rep *r = p->r;
    const struct rep_obs *ob = &r->obs;
    FILE *out = p->out;
    int nw = rep_obs_windows(r);
    int64_t width = ob->width > 0 ? ob->width : 1;
    fprintf(out, "<h2 id=\"red-title\">Services: rate, errors, duration (RED)</h2>\n<p>Per %.3f ms window: "
            "bars are answers per second (blue ok, red errors, both scaled to the busiest window); the "
            "purple line is the window's p99 latency (scaled to its highest). <i>clients</i> is every "
            "model's client view, invoke to ok, fail or info; other services come from the model's "
            "<code>served</code> notes. Percentiles come from a log histogram per window (8 buckets per "
            "doubling: within 9%%).%s</p>\n", ms(width),
            ob->any_served ? "" : " This model writes no <code>served</code> notes.");
    if (ob->n_services > 0) {
        fputs("<table class=\"grid\" id=\"redtable\"><tr><th>service</th><th>answers</th><th>per s</th>"
              "<th>errors</th><th>p50</th><th>p95</th><th>p99</th></tr>\n", out);
        double span = (double)p->end / 1e9;
        for (int i = 0; i < ob->n_services; i++) {
            const struct rep_service *s = &ob->services[i];
            char a[40], b[40], c[40];
            int64_t v50 = rep_red_pct(s, 0, REP_WINDOWS, 0.5), v95 = rep_red_pct(s, 0, REP_WINDOWS, 0.95),
                    v99 = rep_red_pct(s, 0, REP_WINDOWS, 0.99);
            fprintf(out, "<tr><td>%s</td><td>%" PRIu64 "</td><td>%.1f</td><td>%" PRIu64 " (%.1f%%)</td>"
                    "<td>%s</td><td>%s</td><td>%s</td></tr>\n", H(s->name), s->count,
                    span > 0 ? (double)s->count / span : 0.0, s->errors,
                    s->count ? 100.0 * (double)s->errors / (double)s->count : 0.0,
                    v50 < 0 ? "-" : fmt_ms(a, sizeof a, v50), v95 < 0 ? "-" : fmt_ms(b, sizeof b, v95),
                    v99 < 0 ? "-" : fmt_ms(c, sizeof c, v99));
        }
        fputs("</table>\n", out);
    }
    for (int i = 0; i < ob->n_services; i++) {
        const struct rep_service *s = &ob->services[i];
        uint32_t top = 1;
        int64_t top99 = 1;
        for (int w = 0; w < nw; w++) {
            top = s->win[w].count > top ? s->win[w].count : top;
            int64_t v = rep_red_pct(s, w, w + 1, 0.99);
            top99 = v > top99 ? v : top99;
        }
        char id[48];
        snprintf(id, sizeof id, "red-%d", i);
        fprintf(out, "<div class=\"lanes\"><div class=\"labels\"><div title=\"%s\">%s</div></div>"
                "<div class=\"plot\">", H(s->name), H(s->name));
        svg_open(p, id, 36);
        for (int w = 0; w < nw; w++) {
            const struct rep_red_win *x = &s->win[w];
            if (!x->count)
                continue;
            double h = 34.0 * x->count / top, he = 34.0 * x->errors / top;
            char a[40];
            int64_t v99 = rep_red_pct(s, w, w + 1, 0.99);
            fprintf(out, "<rect class=\"red-ok\" x=\"%.4f\" y=\"%.2f\" width=\"%.4f\" height=\"%.2f\">"
                    "<title>%.3f to %.3f ms: %.1f per s, %u errors, p99 %s</title></rect>", X(p, w * width),
                    36 - h, X(p, width), h, ms(w * width), ms((w + 1) * width),
                    (double)x->count * 1e9 / (double)width, x->errors, v99 < 0 ? "-" : fmt_ms(a, sizeof a, v99));
            if (x->errors)
                fprintf(out, "<rect class=\"red-err\" x=\"%.4f\" y=\"%.2f\" width=\"%.4f\" height=\"%.2f\"/>",
                        X(p, w * width), 36 - he, X(p, width), he);
            fputs("\n", out);
        }
        fputs("<polyline class=\"red-p99\" points=\"", out);
        for (int w = 0; w < nw; w++) {
            int64_t v = rep_red_pct(s, w, w + 1, 0.99);
            if (v >= 0)
                fprintf(out, "%.4f,%.2f ", X(p, w * width + width / 2), 35 - 33.0 * (double)v / (double)top99);
        }
        fputs("\"/>\n", out);
        svg_close(p, 36);
        fputs("</div></div>\n", out);
    }
    fprintf(out, "<h2 id=\"use-title\">Nodes: utilization, saturation, errors (USE)</h2>\n<p>%s Per %.3f ms "
            "window; red marks count errors (failed <code>served</code> notes and messages to the node "
            "dropped).</p>\n",
            ob->any_load ? "Teal bars: utilization (busy workers over capacity, from the model's <code>load</code> "
                           "notes); orange line: the queue (saturation), scaled to its highest."
                         : "This model writes no <code>load</code> notes, so what is drawn is the engine's view: "
                           "the orange line is the mean number of messages in flight to the node (a queue the "
                           "network holds), scaled to its highest; utilization is unknown.",
            ms(width));
    for (int i = 0; i < ob->n_nodes; i++) {
        const struct rep_node_use *n = &ob->nodes[i];
        double topq = 1e-9;
        uint32_t tope = 1;
        for (int w = 0; w < nw; w++) {
            double q = (n->has_load ? n->win[w].queue : n->win[w].inflight) / (double)width;
            topq = q > topq ? q : topq;
            uint32_t e = n->win[w].errors + n->win[w].drops;
            tope = e > tope ? e : tope;
        }
        char id[48];
        snprintf(id, sizeof id, "use-%d", i);
        fprintf(out, "<div class=\"lanes\"><div class=\"labels\"><div>%s</div></div><div class=\"plot\">",
                H(r->names[i]));
        svg_open(p, id, 30);
        for (int w = 0; w < nw; w++) {
            const struct rep_use_win *x = &n->win[w];
            double util = n->has_load && x->capacity > 0 ? x->busy / x->capacity : -1;
            double q = (n->has_load ? x->queue : x->inflight) / (double)width;
            uint32_t e = x->errors + x->drops;
            fprintf(out, "<rect style=\"fill:transparent\" x=\"%.4f\" y=\"0\" width=\"%.4f\" height=\"30\">"
                    "<title>%.3f to %.3f ms: utilization %s%.1f%s, %s %.2f (max %u), %u failed served, "
                    "%u dropped, down %.1f%%</title></rect>", X(p, w * width), X(p, width), ms(w * width),
                    ms((w + 1) * width), util < 0 ? "unknown (" : "", util < 0 ? 0.0 : util * 100,
                    util < 0 ? ")" : "%", n->has_load ? "queue" : "in flight", q,
                    n->has_load ? x->queue_max : x->inflight_max, x->errors, x->drops, 100.0 * x->down / (double)width);
            if (util > 0)
                fprintf(out, "<rect class=\"use-util\" x=\"%.4f\" y=\"%.2f\" width=\"%.4f\" height=\"%.2f\"/>",
                        X(p, w * width), 30 - 28 * util, X(p, width), 28 * util);
            if (e)
                fprintf(out, "<rect class=\"use-err\" x=\"%.4f\" y=\"%.2f\" width=\"%.4f\" height=\"%.2f\"/>",
                        X(p, w * width), 30 - 8.0 * e / tope, X(p, width) / 3, 8.0 * e / tope);
            fputs("\n", out);
        }
        fputs("<polyline class=\"use-sat\" points=\"", out);
        for (int w = 0; w < nw; w++) {
            double q = (n->has_load ? n->win[w].queue : n->win[w].inflight) / (double)width;
            fprintf(out, "%.4f,%.2f ", X(p, w * width + width / 2), 29 - 27 * q / topq);
        }
        fputs("\"/>\n", out);
        svg_close(p, 30);
        fputs("</div></div>\n", out);
    }
}

static void write_availability(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    size_t n;
    struct rep_side *sides = rep_availability(r, &n);
    fputs("<h2 id=\"availability-title\">Availability during network splits</h2>\n", out);
    if (n == 0) {
        fputs("<p id=\"availability-none\">The network was never split.</p>\n", out);
        sim_free(sides);
        return;
    }
    fputs("<p>For each split and each side: the operations invoked during the split whose first "
          "attempt went to a node of that side (or whose client was on that side, cut off from the "
          "node it asked), and how many succeeded. A side that keeps serving "
          "chose availability (AP); one that refuses or times out chose consistency (CP).</p>\n"
          "<table class=\"grid\" id=\"availability\"><tr><th>split</th><th>side</th><th>nodes</th>"
          "<th>invoked</th><th>ok</th><th>available</th></tr>\n", out);
    for (size_t i = 0; i < n; i++) {
        const struct net_window *w = &r->facts.windows[sides[i].window];
        char a[40], b[40];
        fprintf(out, "<tr><td>%s %s to %s</td><td>%d</td><td>", w->kind, fmt_ms(a, sizeof a, w->start),
                w->end == INT64_MAX ? "the end" : fmt_ms(b, sizeof b, w->end), sides[i].side);
        esc(out, sides[i].members);
        fprintf(out, "</td><td>%zu</td><td>%zu</td><td>", sides[i].invoked, sides[i].ok);
        if (sides[i].invoked)
            fprintf(out, "%.1f%%", 100.0 * (double)sides[i].ok / (double)sides[i].invoked);
        else
            fputs("(no operations)", out);
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
    sim_free(sides);
}

/* ==== evidence ============================================================ */

static void write_evidence(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    fputs("<h2 id=\"evidence-title\">Evidence</h2>\n", out);
    bool any = false;
    for (size_t i = 0; i < r->n_checked; i++) {
        const struct rep_checked *c = &r->checked[i];
        if (c->result.verdict != CHECK_VIOLATED && c->result.verdict != CHECK_UNKNOWN)
            continue;
        any = true;
        fprintf(out, "<div class=\"evidence\" id=\"ev-%s\" data-checker=\"%s\"><h3>%s: %s</h3><p>",
                c->checker->name, c->checker->name, c->checker->name,
                check_verdict_name(c->result.verdict));
        esc(out, c->result.reason);
        fputs("</p>\n", out);
        if (c->n_ops) {
            fputs("<p>Operations named (click one to find it on the timeline): ", out);
            for (size_t k = 0; k < c->n_ops; k++) {
                long idx = find_op(r->h, c->ops[k]);
                char text[320] = "";
                if (idx >= 0)
                    op_text(r, hist_op(r->h, (size_t)idx), text, sizeof text);
                else
                    snprintf(text, sizeof text, "op %" PRId64, c->ops[k]);
                fprintf(out, "%s<span class=\"oplink\" data-op=\"%" PRId64 "\">", k ? ", " : "", c->ops[k]);
                esc(out, text);
                fputs("</span>", out);
            }
            fputs("</p>\n", out);
        }
        if (c->n_order) {
            fprintf(out, "<p>The attempted linearization: the longest prefix that can be put in order "
                    "(%zu operations), in that order%s:</p><p class=\"order\">", c->n_order,
                    c->n_order > 60 ? ", the last 60 shown" : "");
            size_t from = c->n_order > 60 ? c->n_order - 60 : 0;
            for (size_t k = from; k < c->n_order; k++)
                fprintf(out, "%s<span class=\"oplink\" data-op=\"%" PRId64 "\">%" PRId64 "</span>",
                        k > from ? " &#8594; " : "", c->order[k], c->order[k]);
            fputs("</p>\n", out);
        }
        if (c->result.text && c->result.text_len) {
            fputs("<pre>", out);
            esc(out, c->result.text);
            fputs("</pre>\n", out);
        }
        fputs("</div>\n", out);
    }
    if (!any)
        fputs("<p id=\"evidence-none\">No checker found a violation.</p>\n", out);
}

static void write_final(struct page *p)
{
    const struct rep *r = p->r;
    FILE *out = p->out;
    fputs("<h2 id=\"cursor-title\">Node states at the cursor</h2>\n<table class=\"grid\" id=\"nodestates\">"
          "<tr><th>node</th><th>status</th><th>role</th><th>last event</th></tr>\n", out);
    for (int i = 0; i < r->n_nodes; i++)
        fprintf(out, "<tr data-node=\"%d\"><td>%s</td><td class=\"st\">up</td><td class=\"ro\"></td>"
                "<td class=\"le\"></td></tr>\n", i, H(r->names[i]));
    fputs("</table>\n<h2 id=\"final-title\">Final states</h2>\n<table class=\"kv\" id=\"final\">\n", out);
    for (int i = 0; i < r->n_nodes; i++) {
        fprintf(out, "<tr><td>%s</td><td><code>", H(r->names[i]));
        esc(out, r->final_state && r->final_state[i] ? r->final_state[i] : "(no state line)");
        fputs("</code></td></tr>\n", out);
    }
    fputs("</table>\n", out);
    if (r->n_logs) {
        fputs("<h2>Scenario log</h2><pre id=\"log\">", out);
        for (size_t i = 0; i < r->n_logs; i++) {
            esc(out, r->logs[i]);
            fputs("\n", out);
        }
        fputs("</pre>\n", out);
    }
}

/* ==== data for the script ================================================= */

struct cev {
    int64_t t, seq;
    int node;
    char *text;
};

static int cev_cmp(const void *a, const void *b)
{
    const struct cev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void cev_add(struct cev **v, size_t *n, size_t *cap, int64_t t, int node, const char *text)
{
    SIM_GROW(*v, *cap, *n + 1);
    (*v)[*n] = (struct cev){ .t = t, .seq = (int64_t)*n, .node = node, .text = sim_xstrdup(text) };
    (*n)++;
}

/* The cursor's events (faults, roles, notes, drawn messages), in time order. */
static struct cev *cursor_events(const struct rep *r, size_t *n_out)
{
    struct cev *v = NULL;
    size_t n = 0, cap = 0;
    char text[400];
    for (size_t i = 0; i < r->n_marks; i++)
        cev_add(&v, &n, &cap, r->marks[i].t, r->marks[i].node, r->marks[i].text);
    for (size_t i = 0; i < r->n_roles; i++) {
        snprintf(text, sizeof text, "%s becomes %s (term %" PRId64 ")",
                 r->roles[i].node >= 0 ? r->names[r->roles[i].node] : "?", r->roles[i].role,
                 r->roles[i].term);
        cev_add(&v, &n, &cap, r->roles[i].t, r->roles[i].node, text);
    }
    for (size_t i = 0; i < r->n_notes; i++)
        cev_add(&v, &n, &cap, r->notes[i].t, r->notes[i].node, r->notes[i].text);
    for (size_t i = 0; i < r->n_msgs; i++) {
        const struct rep_msg *m = &r->msgs[i];
        if (m->from < 0 || m->to < 0)
            continue;
        snprintf(text, sizeof text, "%s sends message %" PRId64 " to %s: %.120s", r->names[m->from], m->id,
                 r->names[m->to], m->text);
        cev_add(&v, &n, &cap, m->sent, m->from, text);
        if (m->end == REP_MSG_DELIVERED)
            snprintf(text, sizeof text, "%s receives message %" PRId64 " from %s", r->names[m->to], m->id,
                     r->names[m->from]);
        else if (m->end == REP_MSG_DROPPED)
            snprintf(text, sizeof text, "message %" PRId64 " from %s to %s dropped (%s)", m->id,
                     r->names[m->from], r->names[m->to], m->reason);
        else
            continue;
        cev_add(&v, &n, &cap, m->done, m->to, text);
    }
    if (n > 1)
        qsort(v, n, sizeof *v, cev_cmp);
    *n_out = n;
    return v;
}

/* Write JSON text inside a <script> element: "</" cannot appear there. */
static void script_json(FILE *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '<' && i + 1 < n && s[i + 1] == '/')
            fputs("<\\", out);
        else
            fputc(s[i], out);
    }
}

static void write_data(struct page *p)
{
    const struct rep *r = p->r;
    jw w;
    jw_init(&w);
    jw_obj(&w);
    jw_kint(&w, "end", p->end);
    jw_kint(&w, "nodes", r->n_nodes);
    jw_key(&w, "names");
    jw_arr(&w);
    for (int i = 0; i < r->n_names; i++)
        jw_str(&w, r->names[i]);
    jw_arr_end(&w);
    jw_key(&w, "roles");
    jw_arr(&w);
    for (size_t i = 0; i < r->n_roles; i++) {
        jw_arr(&w);
        jw_int(&w, r->roles[i].t);
        jw_int(&w, r->roles[i].node);
        jw_str(&w, r->roles[i].role);
        jw_int(&w, r->roles[i].term);
        jw_arr_end(&w);
    }
    jw_arr_end(&w);
    jw_key(&w, "down");
    jw_arr(&w);
    for (size_t i = 0; i < r->facts.n_down; i++) {
        const struct node_window *d = &r->facts.down[i];
        jw_arr(&w);
        jw_int(&w, rep_name(r, r->facts.names[d->node]));
        jw_int(&w, d->start);
        jw_int(&w, d->end == INT64_MAX ? p->end + 1 : d->end);
        jw_bool(&w, d->paused);
        jw_arr_end(&w);
    }
    jw_arr_end(&w);
    size_t n;
    struct cev *ev = cursor_events(r, &n);
    jw_key(&w, "events");
    jw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        jw_arr(&w);
        jw_int(&w, ev[i].t);
        jw_int(&w, ev[i].node);
        jw_str(&w, ev[i].text);
        jw_arr_end(&w);
        sim_free(ev[i].text);
    }
    sim_free(ev);
    jw_arr_end(&w);
    jw_obj_end(&w);
    fputs("<script type=\"application/json\" id=\"simdata\">", p->out);
    script_json(p->out, w.buf, w.len);
    fputs("</script>\n", p->out);
    jw_free(&w);
}

/* The page's script: zoom and pan on every .tsvg, the time cursor, and the
 * verdict links. Errors are shown at the top of the page; the last line of
 * init sets document.body.dataset.ok so a headless browser test can tell
 * the script ran to its end. */
static const char *const script[] = {
    "<script>\n",
    "(function(){\n",
    "var errs=document.getElementById('jserrors');\n",
    "window.addEventListener('error',function(e){errs.textContent+='JavaScript error: '+e.message+'\\n';});\n",
    "function init(){\n",
    "var D=JSON.parse(document.getElementById('simdata').textContent);\n",
    "var TW=1000,v0=0,vw=TW,svgs=[].slice.call(document.querySelectorAll('svg.tsvg'));\n",
    "var axis=document.getElementById('axis');\n",
    "function fmt(ns){return (ns/1e6).toFixed(ns<1e7?3:1)+' ms';}\n",
    "function apply(){svgs.forEach(function(s){var vb=s.viewBox.baseVal;s.setAttribute('viewBox',v0+' 0 '+vw+' '+vb.height);});\n",
    " var h='';for(var i=0;i<=8;i++){var x=v0+vw*i/8;h+='<span style=\"left:calc(5em + (100% - 5em)*'+(i/8)+')\">'+fmt(x*D.end/TW)+'</span>';}\n",
    " axis.innerHTML=h;}\n",
    "function zoom(f,c){if(c===undefined)c=v0+vw/2;var nw=Math.min(TW,Math.max(TW/1e6,vw*f));v0=c-(c-v0)*nw/vw;vw=nw;clamp();apply();}\n",
    "function clamp(){if(v0<0)v0=0;if(v0+vw>TW)v0=TW-vw;}\n",
    "function at(s,ev){var r=s.getBoundingClientRect();return v0+vw*(ev.clientX-r.left)/r.width;}\n",
    "document.getElementById('zin').onclick=function(){zoom(0.5);};\n",
    "document.getElementById('zout').onclick=function(){zoom(2);};\n",
    "document.getElementById('zreset').onclick=function(){v0=0;vw=TW;apply();};\n",
    "var drag=null;\n",
    "svgs.forEach(function(s){\n",
    " s.addEventListener('wheel',function(e){e.preventDefault();zoom(e.deltaY<0?0.8:1.25,at(s,e));},{passive:false});\n",
    " s.addEventListener('mousedown',function(e){drag={x:e.clientX,v:v0,w:s.getBoundingClientRect().width,moved:false};});\n",
    " s.addEventListener('click',function(e){if(drag&&drag.moved)return;setCursor(at(s,e)*D.end/TW);});\n",
    "});\n",
    "window.addEventListener('mousemove',function(e){if(!drag)return;var dx=e.clientX-drag.x;if(Math.abs(dx)>3)drag.moved=true;v0=drag.v-dx*vw/drag.w;clamp();apply();});\n",
    "window.addEventListener('mouseup',function(){setTimeout(function(){drag=null;},0);});\n",
    "var E=D.events,ci=-1,ct=0;\n",
    "var rows=[].slice.call(document.querySelectorAll('#nodestates tr[data-node]'));\n",
    "function setCursor(t){ct=t;var x=t*TW/D.end;\n",
    " [].forEach.call(document.querySelectorAll('svg .cursor'),function(l){l.setAttribute('x1',x);l.setAttribute('x2',x);});\n",
    " ci=-1;for(var i=0;i<E.length&&E[i][0]<=t;i++)ci=i;show();}\n",
    "function step(d){ci=Math.max(0,Math.min(E.length-1,ci+d));if(!E.length)return;ct=E[ci][0];var x=ct*TW/D.end;\n",
    " [].forEach.call(document.querySelectorAll('svg .cursor'),function(l){l.setAttribute('x1',x);l.setAttribute('x2',x);});\n",
    " if(x<v0||x>v0+vw){v0=x-vw/2;clamp();apply();}show();}\n",
    "function show(){var info=document.getElementById('cursorinfo');\n",
    " info.textContent=fmt(ct)+(ci>=0&&E.length?'  #'+(ci+1)+'/'+E.length+': '+E[ci][2]:'');\n",
    " rows.forEach(function(tr){var n=+tr.getAttribute('data-node'),st='up',ro='',le='';\n",
    "  D.down.forEach(function(d){if(d[0]===n&&d[1]<=ct&&ct<d[2])st=d[3]?'paused':'down';});\n",
    "  D.roles.forEach(function(r){if(r[1]===n&&r[0]<=ct)ro=r[2]+' (term '+r[3]+')';});\n",
    "  for(var i=ci;i>=0;i--)if(E[i][1]===n){le=fmt(E[i][0])+': '+E[i][2];break;}\n",
    "  tr.querySelector('.st').textContent=st;tr.querySelector('.ro').textContent=ro;tr.querySelector('.le').textContent=le;});}\n",
    "document.getElementById('cprev').onclick=function(){step(-1);};\n",
    "document.getElementById('cnext').onclick=function(){step(1);};\n",
    "document.addEventListener('keydown',function(e){if(e.key==='.')step(1);else if(e.key===',')step(-1);});\n",
    "function focusOps(sel){var rs=[].slice.call(document.querySelectorAll('#ops rect.op'));var lo=Infinity,hi=-Infinity;\n",
    " rs.forEach(function(r){r.classList.remove('focus');});\n",
    " rs.filter(sel).forEach(function(r){r.classList.add('focus');lo=Math.min(lo,+r.getAttribute('data-t0'));hi=Math.max(hi,+r.getAttribute('data-t1'));});\n",
    " if(lo<=hi){var a=lo*TW/D.end,b=hi*TW/D.end,pad=Math.max((b-a)*0.3,TW/2000);v0=a-pad;vw=Math.min(TW,b-a+2*pad);clamp();apply();setCursor(lo);}}\n",
    "[].forEach.call(document.querySelectorAll('a[data-focus]'),function(a){a.addEventListener('click',function(){\n",
    " var name=a.getAttribute('data-focus');\n",
    " [].forEach.call(document.querySelectorAll('.evidence'),function(d){d.classList.toggle('focus',d.getAttribute('data-checker')===name);});\n",
    " focusOps(function(r){return (' '+(r.getAttribute('data-viol')||'')).indexOf(' '+name+' ')>=0;});});});\n",
    "[].forEach.call(document.querySelectorAll('.oplink'),function(s){s.addEventListener('click',function(){\n",
    " var id=s.getAttribute('data-op');focusOps(function(r){return r.getAttribute('data-op')===id;});\n",
    " document.getElementById('ops-title').scrollIntoView();});});\n",
    "var reqinfo=document.getElementById('reqinfo');\n",
    "function selectReq(id){var n=0,k=0;[].forEach.call(document.querySelectorAll('#spacetime .reqfocus'),function(e){e.classList.remove('reqfocus');});\n",
    " [].forEach.call(document.querySelectorAll('#ops rect.reqsel'),function(e){e.classList.remove('reqsel');});\n",
    " [].forEach.call(document.querySelectorAll('#spacetime [data-req=\"'+id+'\"]'),function(e){e.classList.add('reqfocus');if(e.classList.contains('note'))k++;else n++;});\n",
    " [].forEach.call(document.querySelectorAll('#ops rect[data-op=\"'+id+'\"]'),function(e){e.classList.add('reqsel');});\n",
    " if(reqinfo)reqinfo.textContent='request '+id+': '+n+' messages and '+k+' notes highlighted in the diagram below (sim report --text --req '+id+' lists them)';return n+k;}\n",
    "[].forEach.call(document.querySelectorAll('#ops rect.op'),function(r){r.addEventListener('click',function(){selectReq(r.getAttribute('data-op'));});});\n",
    "apply();setCursor(0);\n",
    "if(location.hash==='#selftest'){var a=document.querySelector('a[data-focus]');if(a){a.click();\n",
    " document.body.dataset.focused=document.querySelectorAll('#ops rect.focus').length;}\n",
    " step(1);step(1);zoom(0.5);document.body.dataset.cursor=document.getElementById('cursorinfo').textContent;\n",
    " document.body.dataset.axis=document.getElementById('axis').textContent;\n",
    " var m=document.querySelector('#spacetime [data-req]');if(m)document.body.dataset.reqfocus=selectReq(m.getAttribute('data-req'));}\n",
    "document.body.dataset.ok='1';\n",
    "}\n",
    "try{init();}catch(e){errs.textContent+='JavaScript error: '+e+'\\n';}\n",
    "})();\n",
    "</script>\n",
    NULL,
};

int rep_write_html(const struct rep *r, FILE *out)
{
    struct page p = { .r = r, .out = out, .end = rep_end_time(r), .viol = NULL, .n_viol = 0 };
    index_violations(&p);
    write_head(&p);
    write_verdicts(&p);
    controls(&p);
    write_ops(&p);
    write_spacetime(&p);
    write_roles(&p);
    write_latency(&p);
    write_throughput(&p);
    write_obs(&p);
    write_availability(&p);
    write_evidence(&p);
    write_final(&p);
    fputs("<p style=\"color:#888\">Made by <code>sim report</code>. No network access needed: this file "
          "holds everything. Hover an arrow, bar or mark to see what it is.</p>\n", out);
    write_data(&p);
    for (int i = 0; script[i]; i++)
        fputs(script[i], out);
    fputs("</body></html>\n", out);
    sim_free(p.viol);
    return ferror(out) ? -1 : 0;
}
