/* sim check: run the checkers on a history; sim bench check: time the
 * linearizability search. */
#include "cmd_check.h"
#include "sort.h"

#include "check/checker.h"
#include "check/slo.h"
#include "check/histgen.h"
#include "check/history.h"
#include "check/linearizable.h"
#include "cli.h"
#include "core/alloc.h"
#include "core/exitcodes.h"
#include "trace/jw.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ==== help ================================================================ */

static const char check_help_head[] =
    "usage: sim check TRACE [--only NAME,...] [--json] [--budget N] [--no-evidence]\n"
    "       sim check --format jepsen FILE [options]\n"
    "       sim check --format porcupine-kv FILE [options]\n"
    "       sim check --format jepsen-edn FILE [options]\n"
    "\n"
    "Reads a history and says, per checker, whether a consistency guarantee held:\n"
    "one line per checker (name, holds / violated / unknown / skipped, one sentence\n"
    "why), a line about the history, then each checker's evidence.\n"
    "\n";

static const char check_help_tail[] =
    "\n"
    "Checkers marked * need a sim trace (partitions, crashes, final states): on\n"
    "Jepsen and Porcupine files they are skipped. See docs/checkers.md.\n"
    "A trace whose scenario declared service-level objectives (expect{ slo = ...})\n"
    "gets one more line, slo: each objective met or broken, with the figures and\n"
    "the worst window (not with --only).\n"
    "\n"
    "options:\n"
    "  --format FORMAT  what FILE is: trace (a sim trace, the default), jepsen\n"
    "                   (a Jepsen etcd log: one register, read/write/cas),\n"
    "                   porcupine-kv (Porcupine's get/put/append logs) or\n"
    "                   jepsen-edn (Jepsen's history.edn, one map per line, as\n"
    "                   sim export --format jepsen writes: registers, single or\n"
    "                   keyed [key value])\n"
    "  --only A,B,...   run only these checkers (names as listed above)\n"
    "  --json           print one JSON document instead of text\n"
    "  --budget N       at most N search steps for a searching checker's verdict\n"
    "                   (default 10000000); finding the evidence may take as many\n"
    "                   again. A search out of budget gives \"unknown\", never a guess\n"
    "  --no-evidence    verdicts only: no search for evidence\n"
    "  --help, -h       this text\n"
    "\n"
    "exit codes: 0 every checker holds (or was skipped), 1 a checker found a\n"
    "violation, 3 a checker could not decide (and none found a violation), 2 usage,\n"
    "5 the file cannot be read, 6 the history is malformed (the message gives\n"
    "FILE:LINE).\n";

/* The checker table as help text: name, then the summary wrapped at 79
 * columns under a 20-column indent. */
static void print_check_help(void)
{
    fputs(check_help_head, stdout);
    printf("checkers:\n");
    for (int i = 0; checkers[i]; i++) {
        const struct checker *c = checkers[i];
        int col = printf("  %s%s", c->name, c->needs_trace ? " *" : "");
        const char *s = c->summary ? c->summary : "";
        bool first = true;
        while (*s) {
            while (*s == ' ')
                s++;
            size_t word = strcspn(s, " ");
            if (word == 0)
                break;
            if (first && col >= 19) {
                printf("\n%19s", "");
                col = 19;
            } else if (first) {
                col += printf("%*s", 19 - col, "");
            } else if (col + 1 + (int)word > 79) {
                printf("\n%19s", "");
                col = 19;
            } else
                col += printf(" ");
            col += printf("%.*s", (int)word, s);
            s += word;
            first = false;
        }
        printf("\n");
    }
    fputs(check_help_tail, stdout);
}

const struct cli_command cli_check = {
    "check", "check a history: sim check TRACE [--only A,B] [--json] [--format F]",
    check_help_head, cmd_check, print_check_help,
};

/* ==== the history and the trace, in one line each ========================= */

static void count_types(const hist *h, size_t *ok, size_t *fail, size_t *info, size_t *open)
{
    *ok = *fail = *info = *open = 0;
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->open)
            (*open)++;
        else if (op->type == HIST_OK)
            (*ok)++;
        else if (op->type == HIST_FAIL)
            (*fail)++;
        else
            (*info)++;
    }
}

struct fault_counts {
    size_t network, crashes, pauses;
};

static struct fault_counts count_faults(const struct trace_facts *f)
{
    struct fault_counts c = { f->n_windows, 0, 0 };
    for (size_t i = 0; i < f->n_down; i++) {
        if (f->down[i].paused)
            c.pauses++;
        else
            c.crashes++;
    }
    return c;
}

static const char *plural_s(size_t n)
{
    return n == 1 ? "" : "s";
}

/* ==== one run of the table ================================================ */

struct check_run {
    const struct checker *checker;
    struct check_result result;
};

/* Parse --only's list into selected[] (indexed like checkers[]). false, with
 * the message printed, on an empty or unknown name. */
static bool parse_only(const char *list, bool *selected)
{
    const char *p = list;
    for (;;) {
        size_t n = strcspn(p, ",");
        int found = -1;
        for (int i = 0; checkers[i] && n > 0; i++)
            if (strlen(checkers[i]->name) == n && strncmp(checkers[i]->name, p, n) == 0)
                found = i;
        if (found < 0) {
            char known[512];
            size_t used = 0;
            known[0] = '\0';
            for (int i = 0; checkers[i] && used < sizeof known; i++)
                used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                         checkers[i]->name);
            if (n == 0)
                cli_error("check: --only needs checker names separated by commas, got \"%s\" "
                          "(there is: %s)", list, known);
            else
                cli_error("check: unknown checker \"%.*s\" (there is: %s)", (int)n, p, known);
            return false;
        }
        selected[found] = true;
        if (p[n] == '\0')
            return true;
        p += n + 1;
    }
}

static void skip(struct check_result *r, enum hist_format format)
{
    r->verdict = CHECK_SKIPPED;
    snprintf(r->reason, sizeof r->reason,
             "needs a sim trace (the cluster, faults and final states), and this is a %s history "
             "of client operations only", hist_format_name(format));
}

/* ==== the weaker models a history still satisfies ========================= */

static const struct check_run *run_named(const struct check_run *runs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(runs[i].checker->name, name) == 0)
            return &runs[i];
    return NULL;
}

/* One sentence placing the history in the hierarchy linearizable >
 * sequential > causal > session guarantees, from the verdicts that ran:
 * "not linearizable, but sequentially consistent". Empty when none ran. */
static void summarize(const struct check_run *runs, size_t n, char *out, size_t len)
{
    static const char *const chain[][2] = {
        { "linearizable", "linearizable" },
        { "sequential", "sequentially consistent" },
        { "causal", "causally consistent" },
    };
    static const char *const session[] = {
        "read_your_writes", "monotonic_reads", "monotonic_writes", "writes_follow_reads",
    };
    out[0] = 0;
    size_t used = 0;
    const char *broken = NULL;
    for (size_t k = 0; k < sizeof chain / sizeof chain[0]; k++) {
        const struct check_run *r = run_named(runs, n, chain[k][0]);
        if (!r || r->result.verdict == CHECK_SKIPPED)
            continue;
        if (r->result.verdict == CHECK_HOLDS) {
            int m;
            if (broken)
                m = snprintf(out, len, "not %s, but %s", broken, chain[k][1]);
            else
                m = snprintf(out, len, "%s (so also every weaker model checked here)", chain[k][1]);
            const struct check_run *c = run_named(runs, n, "converges");
            if (c && c->result.verdict == CHECK_VIOLATED && m > 0 && (size_t)m < len)
                snprintf(out + m, len - (size_t)m, ", yet the replicas did not converge");
            return;
        }
        if (r->result.verdict == CHECK_VIOLATED)
            broken = chain[k][1];
        else if (!broken) {
            snprintf(out, len, "whether it is %s is unknown (out of budget)", chain[k][1]);
            return;
        }
    }
    if (!broken) {
        /* every model of the chain was skipped: a counter, set, sibling or
         * transaction history; say what still could be judged */
        const struct check_run *lin = run_named(runs, n, "linearizable");
        const struct check_run *c = run_named(runs, n, "converges");
        if (lin && lin->result.verdict == CHECK_SKIPPED && c && c->result.verdict != CHECK_SKIPPED)
            snprintf(out, len, "not a history of single-value registers, so only convergence is judged: "
                     "the replicas %s",
                     c->result.verdict == CHECK_HOLDS ? "converged (eventual consistency)"
                     : c->result.verdict == CHECK_VIOLATED ? "did not converge"
                     : "may or may not have converged");
        return;
    }
    used = (size_t)snprintf(out, len, "not even %s", broken);
    bool any = false;
    for (size_t k = 0; k < sizeof session / sizeof session[0] && used < len; k++) {
        const struct check_run *r = run_named(runs, n, session[k]);
        if (r && r->result.verdict == CHECK_HOLDS) {
            used += (size_t)snprintf(out + used, len - used, "%s%s", any ? ", " : "; session guarantees that held: ",
                                     session[k]);
            any = true;
        }
    }
    if (!any && used < len)
        used += (size_t)snprintf(out + used, len - used, "; no session guarantee held");
    const struct check_run *c = run_named(runs, n, "converges");
    if (c && used < len && c->result.verdict != CHECK_SKIPPED)
        snprintf(out + used, len - used, "; the replicas %s",
                 c->result.verdict == CHECK_HOLDS ? "converged (eventual consistency)"
                 : c->result.verdict == CHECK_VIOLATED ? "did not converge" : "may or may not have converged");
}

/* ==== text output ========================================================= */

static void print_text(const char *path, enum hist_format format, const hist *h,
                       const struct trace_facts *facts, const struct check_run *runs, size_t n_runs)
{
    int w = 0;
    for (size_t i = 0; i < n_runs; i++) {
        int len = (int)strlen(runs[i].checker->name);
        w = len > w ? len : w;
    }
    for (size_t i = 0; i < n_runs; i++)
        printf("%-*s  %-8s  %s\n", w, runs[i].checker->name,
               check_verdict_name(runs[i].result.verdict), runs[i].result.reason);
    char summary[512];
    summarize(runs, n_runs, summary, sizeof summary);
    if (summary[0])
        printf("\nin short: %s", summary);
    size_t ok, fail, info, open;
    count_types(h, &ok, &fail, &info, &open);
    printf("\nhistory: %s (%s): %zu operations on %zu key%s: %zu ok, %zu fail, %zu info, "
           "%zu never completed\n",
           path, hist_format_name(format), hist_count(h), hist_n_keys(h),
           plural_s(hist_n_keys(h)), ok, fail, info, open);
    if (facts) {
        struct fault_counts fc = count_faults(facts);
        int clients = facts->n_names - facts->n_nodes;
        printf("trace: model %s, %d node%s, %d client%s; %zu network fault%s, %zu crash%s, "
               "%zu pause%s; %s at %.3f ms\n",
               facts->model ? facts->model : "(none)", facts->n_nodes, plural_s((size_t)facts->n_nodes),
               clients, plural_s((size_t)clients), fc.network, plural_s(fc.network), fc.crashes,
               fc.crashes == 1 ? "" : "es", fc.pauses, plural_s(fc.pauses),
               facts->complete ? "ended" : "cut short (no end line)", (double)facts->end_time / 1e6);
    }
    for (size_t i = 0; i < n_runs; i++) {
        const struct check_result *r = &runs[i].result;
        if (r->verdict == CHECK_SKIPPED || !r->text || r->text_len == 0)
            continue;
        printf("\n%s:\n", runs[i].checker->name);
        for (const char *line = r->text; *line;) {
            size_t n = strcspn(line, "\n");
            printf("%s%.*s\n", n ? "  " : "", (int)n, line);
            line += n + (line[n] == '\n');
        }
    }
}

/* ==== JSON output ========================================================= */

static void print_json(const char *path, enum hist_format format, const hist *h,
                       const struct trace_facts *facts, const struct check_run *runs, size_t n_runs)
{
    jw w;
    jw_init(&w);
    size_t ok, fail, info, open;
    count_types(h, &ok, &fail, &info, &open);
    jw_obj(&w);
    jw_kstr(&w, "file", path);
    jw_kstr(&w, "format", hist_format_name(format));
    jw_kstr(&w, "time_unit", hist_clock(h) == HIST_CLOCK_NS ? "ns" : "line");
    jw_kint(&w, "operations", (int64_t)hist_count(h));
    jw_kint(&w, "ok", (int64_t)ok);
    jw_kint(&w, "fail", (int64_t)fail);
    jw_kint(&w, "info", (int64_t)info);
    jw_kint(&w, "open", (int64_t)open);
    jw_kint(&w, "keys", (int64_t)hist_n_keys(h));
    jw_key(&w, "warning");
    if (*hist_warning(h))
        jw_str(&w, hist_warning(h));
    else
        jw_null(&w);
    jw_key(&w, "trace");
    if (facts) {
        struct fault_counts fc = count_faults(facts);
        jw_obj(&w);
        jw_key(&w, "model");
        if (facts->model)
            jw_str(&w, facts->model);
        else
            jw_null(&w);
        jw_key(&w, "cap_class");
        if (facts->cap_class)
            jw_str(&w, facts->cap_class);
        else
            jw_null(&w);
        jw_kint(&w, "nodes", facts->n_nodes);
        jw_kint(&w, "clients", facts->n_names - facts->n_nodes);
        jw_kint(&w, "network_faults", (int64_t)fc.network);
        jw_kint(&w, "crashes", (int64_t)fc.crashes);
        jw_kint(&w, "pauses", (int64_t)fc.pauses);
        jw_kint(&w, "invariant_violations", (int64_t)facts->n_invariant);
        jw_kint(&w, "end", facts->end_time);
        jw_kbool(&w, "complete", facts->complete);
        jw_obj_end(&w);
    } else
        jw_null(&w);
    char summary[512];
    summarize(runs, n_runs, summary, sizeof summary);
    jw_key(&w, "summary");
    if (summary[0])
        jw_str(&w, summary);
    else
        jw_null(&w);
    jw_key(&w, "checkers");
    jw_arr(&w);
    for (size_t i = 0; i < n_runs; i++) {
        const struct check_result *r = &runs[i].result;
        jw_obj(&w);
        jw_kstr(&w, "name", runs[i].checker->name);
        jw_kstr(&w, "verdict", check_verdict_name(r->verdict));
        jw_kstr(&w, "reason", r->reason);
        jw_kint(&w, "steps", (int64_t)r->steps);
        jw_key(&w, "evidence");
        if (r->verdict != CHECK_SKIPPED && r->evidence.len > 0)
            jw_raw(&w, r->evidence.buf, r->evidence.len);
        else
            jw_null(&w);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_obj_end(&w);
    fwrite(w.buf, 1, w.len, stdout);
    fputc('\n', stdout);
    jw_free(&w);
}

/* ==== sim check =========================================================== */

static int exit_for_read_error(int rc)
{
    return rc == HIST_EIO ? SIM_EXIT_IO : rc == HIST_ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_BAD_TRACE;
}

/* Read the history; on a format error when no --format was given, say which
 * format the file looks like. 0, or an exit code with the message printed. */
static int read_history(const char *path, enum hist_format format, bool format_given, hist **h)
{
    char err[512];
    int rc = hist_read_file(format, path, h, err, sizeof err);
    if (rc == 0)
        return 0;
    enum hist_format guess;
    char head[64] = "";
    FILE *f = rc == HIST_EFORMAT && !format_given ? fopen(path, "rb") : NULL;
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    if (n && hist_guess_format("", head, n, &guess) && guess != format)
        cli_error("%s (it looks like --format %s)", err, hist_format_name(guess));
    else
        cli_error("%s", err);
    return exit_for_read_error(rc);
}

int cmd_check(int argc, char **argv)
{
    if (cli_wants_help(&cli_check, argc, argv))
        return SIM_EXIT_OK;
    int n_checkers = 0;
    while (checkers[n_checkers])
        n_checkers++;
    bool *selected = sim_xcalloc((size_t)n_checkers + 1, sizeof *selected);
    const char *path = NULL;
    enum hist_format format = HIST_FORMAT_TRACE;
    bool json = false, evidence = true, format_given = false, only = false;
    uint64_t budget = LIN_DEFAULT_BUDGET;
    int code = SIM_EXIT_USAGE;
    hist *h = NULL;
    struct trace_facts facts;
    bool have_facts = false;
    struct check_run *runs = NULL;
    size_t n_runs = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0)
            json = true;
        else if (strcmp(a, "--no-evidence") == 0)
            evidence = false;
        else if (strcmp(a, "--format") == 0 || strcmp(a, "--only") == 0 || strcmp(a, "--budget") == 0) {
            if (i + 1 >= argc) {
                cli_error("check: %s needs a value (see sim check --help)", a);
                goto out;
            }
            const char *v = argv[++i];
            if (strcmp(a, "--format") == 0) {
                if (!hist_format_parse(v, &format)) {
                    cli_error("check: unknown format \"%s\" (there is: trace, jepsen, porcupine-kv, jepsen-edn)", v);
                    goto out;
                }
                format_given = true;
            } else if (strcmp(a, "--only") == 0) {
                if (!parse_only(v, selected))
                    goto out;
                only = true;
            } else if (!cli_parse_u64(v, &budget) || budget == 0) {
                cli_error("check: --budget needs a positive whole number, not \"%s\"", v);
                goto out;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("check: unknown option %s (see sim check --help)", a);
            goto out;
        } else if (path) {
            cli_error("check: one file at a time (got %s and %s)", path, a);
            goto out;
        } else
            path = a;
    }
    if (!path) {
        cli_error("check: which file? usage: sim check TRACE (see sim check --help)");
        goto out;
    }
    if (!only)
        for (int i = 0; i < n_checkers; i++)
            selected[i] = true;

    code = read_history(path, format, format_given, &h);
    if (code)
        goto out;
    if (*hist_warning(h))
        cli_error("warning: %s", hist_warning(h));
    /* Facts are read for every trace, whichever checkers run, so that a
     * checker sees the same input with or without --only. */
    if (format == HIST_FORMAT_TRACE) {
        char err[512];
        int rc = trace_facts_read(path, &facts, err, sizeof err);
        if (rc) {
            cli_error("%s", err);
            code = exit_for_read_error(rc);
            goto out;
        }
        have_facts = true;
    }

    struct check_input in = {
        .h = h,
        .facts = have_facts ? &facts : NULL,
        .budget = budget,
        .no_evidence = !evidence,
    };
    runs = sim_xcalloc((size_t)n_checkers + 1, sizeof *runs);
    bool violated = false, unknown = false;
    for (int i = 0; i < n_checkers; i++) {
        if (!selected[i])
            continue;
        struct check_run *run = &runs[n_runs++];
        run->checker = checkers[i];
        check_result_init(&run->result);
        if (checkers[i]->needs_trace && !have_facts)
            skip(&run->result, format);
        else if (check_run(checkers[i], &in, &run->result) != 0) {
            cli_error("check: %s: out of memory", checkers[i]->name);
            code = SIM_EXIT_INTERNAL;
            goto out;
        }
        violated |= run->result.verdict == CHECK_VIOLATED;
        unknown |= run->result.verdict == CHECK_UNKNOWN;
    }
    /* the objectives a scenario declared (expect{slo = ...}): judged only
     * when the trace has them, so other traces print what they always did */
    if (have_facts && facts.n_slo > 0 && !only) {
        struct check_run *run = &runs[n_runs++];
        run->checker = &slo_checker;
        check_result_init(&run->result);
        slo_checker.run(&in, &run->result);
        violated |= run->result.verdict == CHECK_VIOLATED;
        unknown |= run->result.verdict == CHECK_UNKNOWN;
    }
    if (json)
        print_json(path, format, h, in.facts, runs, n_runs);
    else
        print_text(path, format, h, in.facts, runs, n_runs);
    code = violated ? SIM_EXIT_FAILED : unknown ? SIM_EXIT_UNKNOWN : SIM_EXIT_OK;
out:
    for (size_t i = 0; i < n_runs; i++)
        check_result_free(&runs[i].result);
    sim_free(runs);
    if (have_facts)
        trace_facts_free(&facts);
    hist_free(h);
    sim_free(selected);
    return code;
}

/* ==== sim bench check ===================================================== */

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct manifest_row {
    char file[256];
    char model[64];
    char expected[32];
    double ms;
};

struct manifest {
    char dir[1024];
    struct manifest_row *rows;
    size_t n;
};

static bool manifest_load(const char *dir, struct manifest *m)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    snprintf(m->dir, sizeof m->dir, "%s", dir);
    m->rows = NULL;
    m->n = 0;
    size_t cap = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        struct manifest_row r = { 0 };
        char ops[32];
        if (sscanf(line, "%255[^\t]\t%63[^\t]\t%31[^\t]\t%31[^\t]\t%lf", r.file, r.model, ops,
                   r.expected, &r.ms) != 5)
            continue;   /* the header, or a line we do not understand */
        if (m->n == cap) {
            cap = cap ? cap * 2 : 64;
            m->rows = sim_xrealloc(m->rows, cap * sizeof *m->rows);
        }
        m->rows[m->n++] = r;
    }
    fclose(f);
    return true;
}

/* The manifest row of a file: look for MANIFEST.tsv in its directory and up
 * to two above; prefer the row of the partitioned model. */
static const struct manifest_row *manifest_find(const char *path, struct manifest *cache,
                                                size_t *n_cache)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(dir, sizeof dir, ".");
        struct manifest *m = NULL;
        for (size_t i = 0; i < *n_cache; i++)
            if (strcmp(cache[i].dir, dir) == 0)
                m = &cache[i];
        if (!m && *n_cache < 8 && manifest_load(dir, &cache[*n_cache]))
            m = &cache[(*n_cache)++];
        if (m) {
            const char *rel = path + strlen(dir);
            if (strcmp(dir, ".") == 0 && strncmp(path, "./", 2) != 0)
                rel = path;
            else
                while (*rel == '/')
                    rel++;
            const struct manifest_row *best = NULL;
            for (size_t i = 0; i < m->n; i++)
                if (strcmp(m->rows[i].file, rel) == 0 &&
                    (!best || (strstr(best->model, "nopartition") && !strstr(m->rows[i].model, "nopartition"))))
                    best = &m->rows[i];
            if (best)
                return best;
        }
        if (!slash)
            break;
    }
    return NULL;
}

static bool history_file(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && (strcmp(name + n - 4, ".log") == 0 || strcmp(name + n - 4, ".txt") == 0)) ||
           (n > 6 && strcmp(name + n - 6, ".jsonl") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add path, or the history files under it (sorted), to *files. */
static int collect(const char *path, char ***files, size_t *n, size_t *cap, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        cli_error("bench check: cannot read %s: %s", path, strerror(errno));
        return SIM_EXIT_IO;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *files = sim_xrealloc(*files, *cap * sizeof **files);
        }
        (*files)[(*n)++] = sim_xstrdup(path);
        return 0;
    }
    if (depth > 3)
        return 0;
    DIR *d = opendir(path);
    if (!d) {
        cli_error("bench check: cannot read %s: %s", path, strerror(errno));
        return SIM_EXIT_IO;
    }
    char **names = NULL;
    size_t nn = 0, ncap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (nn == ncap) {
            ncap = ncap ? ncap * 2 : 64;
            names = sim_xrealloc(names, ncap * sizeof *names);
        }
        size_t len = strlen(path) + strlen(e->d_name) + 2;
        names[nn] = sim_xmalloc(len);
        snprintf(names[nn], len, "%s/%s", path, e->d_name);
        nn++;
    }
    closedir(d);
    sim_qsort(names, nn, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < nn; i++) {
        struct stat s2;
        if (rc == 0 && stat(names[i], &s2) == 0 &&
            (S_ISDIR(s2.st_mode) || history_file(names[i])))
            rc = collect(names[i], files, n, cap, depth + 1);
        sim_free(names[i]);
    }
    sim_free(names);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct bench_row {
    char name[300];
    size_t ops;
    enum lin_verdict verdict;
    char expected[32];
    double best_ms, median_ms, porcupine_ms;   /* porcupine_ms < 0: none */
    bool matches;
};

/* Time the verdict on h: best and median of `repeat` repetitions, each of
 * enough checks to last about 2 ms. */
static enum lin_verdict time_check(const hist *h, uint64_t budget, uint64_t repeat, double *best,
                                   double *median)
{
    struct lin_options opt = { .budget = budget };
    struct lin_result r;
    double t0 = now_seconds();
    lin_check(h, &opt, &r);
    double one = now_seconds() - t0;
    enum lin_verdict v = r.verdict;
    lin_result_free(&r);
    uint64_t inner = 1;
    if (one < 0.002)
        inner = (uint64_t)(0.002 / (one > 1e-7 ? one : 1e-7)) + 1;
    if (inner > 5000)
        inner = 5000;
    double *times = sim_xmalloc(repeat * sizeof *times);
    for (uint64_t i = 0; i < repeat; i++) {
        t0 = now_seconds();
        for (uint64_t j = 0; j < inner; j++) {
            lin_check(h, &opt, &r);
            lin_result_free(&r);
        }
        times[i] = (now_seconds() - t0) / (double)inner * 1000.0;
    }
    sim_qsort(times, repeat, sizeof *times, cmp_double);
    *best = times[0];
    *median = repeat % 2 ? times[repeat / 2] : (times[repeat / 2 - 1] + times[repeat / 2]) / 2;
    sim_free(times);
    return v;
}

static bool verdict_matches(enum lin_verdict v, const char *expected)
{
    if (strcmp(expected, "ok") == 0 || strcmp(expected, "untested") == 0)
        return v == LIN_HOLDS;
    if (strcmp(expected, "illegal") == 0)
        return v == LIN_VIOLATED;
    return true;
}

static void print_row(const struct bench_row *r)
{
    char pms[32] = "-", ratio[32] = "-";
    if (r->porcupine_ms >= 0) {
        snprintf(pms, sizeof pms, "%.3f", r->porcupine_ms);
        snprintf(ratio, sizeof ratio, "%.1fx", r->porcupine_ms / r->median_ms);
    }
    printf("| %-26s | %5zu | %-8s | %-8s | %9.3f | %9.3f | %12s | %7s |\n", r->name, r->ops,
           lin_verdict_name(r->verdict), r->expected, r->best_ms, r->median_ms, pms, ratio);
}

int bench_check(int argc, char **argv)
{
    uint64_t repeat = 5, budget = LIN_DEFAULT_BUDGET;
    bool generated = true;
    char **files = NULL;
    size_t n_files = 0, cap_files = 0;
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        if (strcmp(argv[i], "--no-generated") == 0)
            generated = false;
        else if (strcmp(argv[i], "--repeat") == 0 || strcmp(argv[i], "--budget") == 0) {
            uint64_t *dst = argv[i][2] == 'r' ? &repeat : &budget;
            if (i + 1 >= argc || !cli_parse_u64(argv[i + 1], dst) || *dst == 0 ||
                (dst == &repeat && *dst > 1000)) {
                cli_error("bench check: bad option %s (see sim bench --help)", argv[i]);
                rc = SIM_EXIT_USAGE;
            }
            i++;
        } else if (argv[i][0] == '-') {
            cli_error("bench check: unknown option %s (see sim bench --help)", argv[i]);
            rc = SIM_EXIT_USAGE;
        } else
            rc = collect(argv[i], &files, &n_files, &cap_files, 0);
    }
    struct manifest cache[8];
    size_t n_cache = 0;
    bool tty = cli_is_tty(STDERR_FILENO);
    size_t n_rows = 0, mismatches = 0, slower = 0, compared = 0;
    double worst_ratio = 1e300;
    char worst_name[300] = "";
    if (rc == 0) {
        printf("bench check: the linearizability checker, parsing excluded; ms per check, best "
               "and median of %" PRIu64 "\n", repeat);
        printf("| %-26s | %5s | %-8s | %-8s | %9s | %9s | %12s | %7s |\n", "history", "ops",
               "verdict", "expected", "best ms", "median ms", "Porcupine ms", "speedup");
        printf("|%s|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------------", "-------", "----------",
               "----------", "-----------", "-----------", "--------------", "---------");
    }
    for (size_t i = 0; i < n_files && rc == 0; i++) {
        const char *path = files[i];
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        if (tty)
            fprintf(stderr, "\rbench check: %zu/%zu %-40s", i + 1, n_files, base);
        char head[64] = "", err[512];
        FILE *f = fopen(path, "rb");
        size_t hn = f ? fread(head, 1, sizeof head, f) : 0;
        if (f)
            fclose(f);
        enum hist_format format = HIST_FORMAT_TRACE;
        if (!hist_guess_format(path, head, hn, &format) && hn > 0) {
            cli_error("bench check: %s: cannot tell its format", path);
            rc = SIM_EXIT_BAD_TRACE;
            break;
        }
        hist *h = NULL;
        int r = hist_read_file(format, path, &h, err, sizeof err);
        if (r) {
            if (tty)
                fprintf(stderr, "\r%70s\r", "");
            cli_error("bench check: %s", err);
            rc = exit_for_read_error(r);
            break;
        }
        struct bench_row row = { 0 };
        const struct manifest_row *mr = manifest_find(path, cache, &n_cache);
        snprintf(row.name, sizeof row.name, "%s", mr ? mr->file : base);
        if (strncmp(row.name, "jepsen/", 7) == 0)
            memmove(row.name, row.name + 7, strlen(row.name + 7) + 1);
        row.ops = hist_count(h);
        snprintf(row.expected, sizeof row.expected, "%s", mr ? mr->expected : "-");
        row.porcupine_ms = mr ? mr->ms : -1;
        row.verdict = time_check(h, budget, repeat, &row.best_ms, &row.median_ms);
        row.matches = !mr || verdict_matches(row.verdict, mr->expected);
        hist_free(h);
        if (tty)
            fprintf(stderr, "\r%70s\r", "");
        print_row(&row);
        fflush(stdout);
        n_rows++;
        mismatches += !row.matches;
        if (row.porcupine_ms > 0) {
            double ratio = row.porcupine_ms / row.median_ms;
            compared++;
            slower += ratio < 2.0;
            if (ratio < worst_ratio) {
                worst_ratio = ratio;
                snprintf(worst_name, sizeof worst_name, "%s", row.name);
            }
        }
    }
    /* generated histories: a correct register, 3000 operations */
    static const struct {
        int clients;
        uint64_t seed;
    } gens[] = { { 20, 1 }, { 25, 2 }, { 30, 3 } };
    for (size_t g = 0; generated && rc == 0 && g < sizeof gens / sizeof gens[0]; g++) {
        struct histgen_options go = { .seed = gens[g].seed, .ops = 3000, .clients = gens[g].clients,
                                      .info = 0.02 };
        if (tty)
            fprintf(stderr, "\rbench check: generated history %zu/3 %-30s", g + 1, "");
        hist *h = histgen_register(&go);
        if (!h) {
            cli_error("bench check: out of memory");
            rc = SIM_EXIT_INTERNAL;
            break;
        }
        size_t info = 0;
        for (size_t i = 0; i < hist_count(h); i++)
            info += hist_op(h, i)->type == HIST_INFO;
        struct bench_row row = { 0 };
        snprintf(row.name, sizeof row.name, "gen c%d seed %" PRIu64 " (%zu info)", gens[g].clients,
                 gens[g].seed, info);
        row.ops = hist_count(h);
        snprintf(row.expected, sizeof row.expected, "ok");
        row.porcupine_ms = -1;
        row.verdict = time_check(h, budget, repeat, &row.best_ms, &row.median_ms);
        row.matches = row.verdict == LIN_HOLDS;
        hist_free(h);
        if (tty)
            fprintf(stderr, "\r%70s\r", "");
        print_row(&row);
        n_rows++;
        mismatches += !row.matches;
    }
    if (rc == 0) {
        printf("%zu histories, %s", n_rows,
               mismatches ? "" : "every verdict as expected");
        if (mismatches)
            printf("%zu verdicts NOT as expected", mismatches);
        if (compared)
            printf("; against Porcupine: %zu compared, slowest speedup %.1fx (%s), %zu below 2x",
                   compared, worst_ratio, worst_name, slower);
        printf("\n");
    }
    for (size_t i = 0; i < n_cache; i++)
        sim_free(cache[i].rows);
    for (size_t i = 0; i < n_files; i++)
        sim_free(files[i]);
    sim_free(files);
    if (rc)
        return rc;
    return mismatches ? SIM_EXIT_FAILED : SIM_EXIT_OK;
}
