/* sim check: run the checkers on a history; sim bench check: time them. */
#include "cmd_check.h"

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

static const char check_help[] =
    "usage: sim check TRACE [--only linearizable] [--json] [--budget N]\n"
    "       sim check --format jepsen FILE [--json] [--budget N]\n"
    "       sim check --format porcupine-kv FILE [--json] [--budget N]\n"
    "\n"
    "Reads the client operations of a history and says, per checker, whether a\n"
    "consistency guarantee held: one line per checker (name, holds / violated /\n"
    "unknown, one sentence why), then the evidence.\n"
    "\n"
    "checkers:\n"
    "  linearizable     each operation took effect at one instant between its\n"
    "                   invocation and its completion, one key at a time\n"
    "                   (Wing-Gong/Lowe search; see docs/checkers.md)\n"
    "\n"
    "options:\n"
    "  --format FORMAT  what FILE is: trace (a sim trace, the default), jepsen\n"
    "                   (a Jepsen etcd log: one register, read/write/cas) or\n"
    "                   porcupine-kv (Porcupine's get/put/append logs)\n"
    "  --only NAME      run only this checker (linearizable)\n"
    "  --json           print one JSON document instead of text\n"
    "  --budget N       at most N search steps for the verdict (default 10000000);\n"
    "                   finding the evidence may take as many again. A search\n"
    "                   out of budget gives \"unknown\", never a guess\n"
    "  --no-evidence    verdicts only, no evidence search\n"
    "  --help, -h       this text\n"
    "\n"
    "exit codes: 0 every checker holds, 1 a checker found a violation, 3 a checker\n"
    "ran out of budget (and none found a violation), 2 usage, 5 the file cannot be\n"
    "read, 6 the history is malformed (the message gives FILE:LINE).\n";

const struct cli_command cli_check = {
    "check", "check a trace or history: sim check TRACE [--json] [--format F]",
    check_help, cmd_check,
};

/* ==== printing an operation =============================================== */

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

/* The window and the operations the reason names, by invocation. */
static void print_op_table(const hist *h, const struct lin_result *r)
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
    printf("      %6s  %-*s  %-*s  %-*s  %-*s  %s\n", "op", (int)w_who, "process", (int)w_what,
           "operation", (int)w_out, "outcome", (int)w_when, "invoked to completed", "lines");
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
        printf("    %s %6" PRId64 "  %-*s  %-*s  %-*s  %-*s  %s%s\n", mark, op->id, (int)w_who, who,
               (int)w_what, what + strlen(who) + 1, (int)w_out, outcome(op), (int)w_when, buf, lines,
               in_list(r->window, r->n_window, rows[i]) ? "" : "  (before the window)");
    }
    sim_free(rows);
}

/* ==== text output ========================================================= */

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

static void print_text(const char *path, enum hist_format format, const hist *h,
                       const struct lin_result *r, uint64_t budget)
{
    printf("%-14s %-9s %s\n", "linearizable", lin_verdict_name(r->verdict), r->reason);
    size_t ok, fail, info, open;
    count_types(h, &ok, &fail, &info, &open);
    printf("\nhistory: %s (%s): %zu operations on %zu key%s: %zu ok, %zu fail, %zu info, "
           "%zu never completed\n",
           path, hist_format_name(format), hist_count(h), hist_n_keys(h),
           hist_n_keys(h) == 1 ? "" : "s", ok, fail, info, open);
    printf("linearizable: %" PRIu64 " search steps of a budget of %" PRIu64, r->steps, budget);
    if (r->n_keys > 1) {
        size_t held = 0;
        for (size_t k = 0; k < r->n_keys; k++)
            held += r->keys[k].checked && r->keys[k].verdict == LIN_HOLDS;
        printf("; keys: %zu hold, %zu violated, %zu unknown, %zu not checked", held,
               r->keys_violated, r->keys_unknown,
               r->n_keys - held - r->keys_violated - r->keys_unknown);
    }
    printf("\n");
    if (r->verdict != LIN_VIOLATED || !r->has_evidence)
        return;
    const char *key = hist_str(h, r->key);
    char what[320], buf[128];
    printf("\nevidence%s%s%s:\n", *key ? " on key " : "", key,
           r->evidence_complete ? "" : " (the evidence search ran out of budget: it may not be the shortest)");
    if (r->failed_op >= 0) {
        const struct hist_op *x = hist_op(h, (size_t)r->failed_op);
        fmt_interval(h, x, buf, sizeof buf);
        char line[32] = "";
        if (hist_clock(h) == HIST_CLOCK_NS)
            snprintf(line, sizeof line, ", line %" PRId32, x->complete_line);
        printf("  the first completion that cannot be explained: %s (op %" PRId64 ", %s%s)\n",
               lin_describe_op(h, x, what, sizeof what), x->id, buf, line);
    }
    if (r->window_after >= 0) {
        const struct hist_op *a = hist_op(h, (size_t)r->window_after);
        char t[48];
        printf("  the shortest window that cannot be linearized, whatever the value before it:\n"
               "  the %zu operations still running after %s completed at %s\n",
               r->n_window, lin_describe_op(h, a, what, sizeof what),
               lin_format_time(h, a->complete_t, t, sizeof t));
    } else
        printf("  the shortest window that cannot be linearized: the %zu operations from the "
               "start\n", r->n_window);
    printf("  (> cannot be explained, * named in the reason):\n");
    print_op_table(h, r);
    size_t show = r->n_prefix < 8 ? r->n_prefix : 8;
    printf("  the longest linearizable prefix (everything before that completion) has this "
           "order, %zu operations%s:\n", r->n_prefix, show < r->n_prefix ? ", the last 8 shown" : "");
    if (r->n_prefix == 0)
        printf("      (nothing had to take effect yet)\n");
    for (size_t i = r->n_prefix - show; i < r->n_prefix; i++) {
        const struct hist_op *op = hist_op(h, (size_t)r->prefix[i]);
        printf("      %zu. %s (op %" PRId64 ")\n", i + 1, lin_describe_op(h, op, what, sizeof what), op->id);
    }
}

/* ==== JSON output ========================================================= */

static void json_value(jw *w, const hist *h, int64_t v)
{
    if (hist_model(h) == HIST_KV)
        jw_str(w, hist_str(h, v));
    else if (v == HIST_NIL)
        jw_null(w);
    else
        jw_int(w, v);
}

static void json_op(jw *w, const hist *h, long index)
{
    const struct hist_op *op = hist_op(h, (size_t)index);
    char what[320];
    jw_obj(w);
    jw_kint(w, "op", op->id);
    jw_kstr(w, "process", hist_str(h, op->process));
    jw_kstr(w, "f", hist_f_name((enum hist_f)op->f));
    jw_kstr(w, "key", hist_str(h, op->key));
    jw_kstr(w, "type", op->open ? "open" : hist_type_name((enum hist_type)op->type));
    jw_key(w, "value");
    switch ((enum hist_f)op->f) {
    case HIST_READ:
    case HIST_GET:
        if (op->type == HIST_OK)
            json_value(w, h, op->out);
        else
            jw_null(w);
        break;
    case HIST_CAS:
        jw_arr(w);
        json_value(w, h, op->arg);
        json_value(w, h, op->arg2);
        jw_arr_end(w);
        break;
    default:
        json_value(w, h, op->arg);
        break;
    }
    jw_kint(w, "invoke", op->invoke_t);
    jw_key(w, "complete");
    if (op->open)
        jw_null(w);
    else
        jw_int(w, op->complete_t);
    jw_kint(w, "invoke_line", op->invoke_line);
    jw_kint(w, "complete_line", op->complete_line);
    jw_kstr(w, "text", lin_describe_op(h, op, what, sizeof what));
    jw_obj_end(w);
}

static void json_ops(jw *w, const hist *h, const char *key, const long *ops, size_t n)
{
    jw_key(w, key);
    jw_arr(w);
    for (size_t i = 0; i < n; i++)
        json_op(w, h, ops[i]);
    jw_arr_end(w);
}

static void print_json(const char *path, enum hist_format format, const hist *h,
                       const struct lin_result *r, uint64_t budget)
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
    jw_key(&w, "checkers");
    jw_arr(&w);
    jw_obj(&w);
    jw_kstr(&w, "name", "linearizable");
    jw_kstr(&w, "verdict", lin_verdict_name(r->verdict));
    jw_kstr(&w, "reason", r->reason);
    jw_kint(&w, "steps", (int64_t)r->steps);
    jw_kint(&w, "evidence_steps", (int64_t)r->evidence_steps);
    jw_kint(&w, "budget", (int64_t)budget);
    jw_key(&w, "per_key");
    jw_arr(&w);
    for (size_t k = 0; k < r->n_keys; k++) {
        const struct lin_key *lk = &r->keys[k];
        jw_obj(&w);
        jw_kstr(&w, "key", hist_str(h, lk->key));
        jw_kstr(&w, "verdict", lk->checked ? lin_verdict_name(lk->verdict) : "not checked");
        jw_kint(&w, "operations", (int64_t)lk->n_ops);
        jw_kint(&w, "steps", (int64_t)lk->steps);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_key(&w, "evidence");
    if (r->verdict == LIN_VIOLATED && r->has_evidence) {
        jw_obj(&w);
        jw_kstr(&w, "key", hist_str(h, r->key));
        jw_kbool(&w, "complete", r->evidence_complete);
        jw_key(&w, "failed");
        if (r->failed_op >= 0)
            json_op(&w, h, r->failed_op);
        else
            jw_null(&w);
        jw_key(&w, "window_after");
        if (r->window_after >= 0)
            json_op(&w, h, r->window_after);
        else
            jw_null(&w);
        json_ops(&w, h, "window", r->window, r->n_window);
        json_ops(&w, h, "cited", r->cited, r->n_cited);
        jw_key(&w, "prefix");
        jw_arr(&w);
        for (size_t i = 0; i < r->n_prefix; i++)
            jw_int(&w, hist_op(h, (size_t)r->prefix[i])->id);
        jw_arr_end(&w);
        jw_obj_end(&w);
    } else
        jw_null(&w);
    jw_obj_end(&w);
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

int cmd_check(int argc, char **argv)
{
    if (cli_wants_help(&cli_check, argc, argv))
        return SIM_EXIT_OK;
    const char *path = NULL;
    enum hist_format format = HIST_FORMAT_TRACE;
    bool json = false, evidence = true, format_given = false;
    uint64_t budget = LIN_DEFAULT_BUDGET;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0)
            json = true;
        else if (strcmp(a, "--no-evidence") == 0)
            evidence = false;
        else if (strcmp(a, "--format") == 0 || strcmp(a, "--only") == 0 || strcmp(a, "--budget") == 0) {
            if (i + 1 >= argc) {
                cli_error("check: %s needs a value (see sim check --help)", a);
                return SIM_EXIT_USAGE;
            }
            const char *v = argv[++i];
            if (strcmp(a, "--format") == 0) {
                if (!hist_format_parse(v, &format)) {
                    cli_error("check: unknown format \"%s\" (there is: trace, jepsen, porcupine-kv)", v);
                    return SIM_EXIT_USAGE;
                }
                format_given = true;
            } else if (strcmp(a, "--only") == 0) {
                if (strcmp(v, "linearizable") != 0) {
                    cli_error("check: unknown checker \"%s\" (there is: linearizable)", v);
                    return SIM_EXIT_USAGE;
                }
            } else if (!cli_parse_u64(v, &budget) || budget == 0) {
                cli_error("check: --budget needs a positive whole number, not \"%s\"", v);
                return SIM_EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            cli_error("check: unknown option %s (see sim check --help)", a);
            return SIM_EXIT_USAGE;
        } else if (path) {
            cli_error("check: one file at a time (got %s and %s)", path, a);
            return SIM_EXIT_USAGE;
        } else
            path = a;
    }
    if (!path) {
        cli_error("check: which file? usage: sim check TRACE (see sim check --help)");
        return SIM_EXIT_USAGE;
    }
    char err[512];
    hist *h = NULL;
    int rc = hist_read_file(format, path, &h, err, sizeof err);
    if (rc) {
        /* a Jepsen or Porcupine file given as a trace: say what to do */
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
    if (*hist_warning(h))
        cli_error("warning: %s", hist_warning(h));
    struct lin_options opt = { .budget = budget, .evidence = evidence, .all_keys = true };
    struct lin_result res;
    if (lin_check(h, &opt, &res) != 0) {
        cli_error("check: out of memory");
        lin_result_free(&res);
        hist_free(h);
        return SIM_EXIT_INTERNAL;
    }
    if (json)
        print_json(path, format, h, &res, budget);
    else
        print_text(path, format, h, &res, budget);
    int code = res.verdict == LIN_HOLDS ? SIM_EXIT_OK
               : res.verdict == LIN_VIOLATED ? SIM_EXIT_FAILED
                                             : SIM_EXIT_UNKNOWN;
    lin_result_free(&res);
    hist_free(h);
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
    qsort(names, nn, sizeof *names, cmp_str);
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
    qsort(times, repeat, sizeof *times, cmp_double);
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
