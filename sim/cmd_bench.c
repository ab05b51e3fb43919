/* sim bench: benchmarks, timed with the wall clock (the only place sim
 * reads it). Figures are ratios measured in the same run, because the
 * machines are shared and absolute rates are noisy.
 *
 * sim bench (or sim bench all) runs every benchmark and prints one table;
 * its rows reuse the code of the single benchmarks: kernel_measure (sim
 * bench kernel), model_measure (sim bench models), bench_check (sim bench
 * check, run with its output captured and summed up), the sim binary itself
 * for sweeps (sim sweep -j1 and -j2), and the report generator's
 * rep_load/rep_write_html (sim report). */
#include "cli.h"
#include "check/cmd_check.h"
#include "core/alloc.h"
#include "core/evq.h"
#include "core/exitcodes.h"
#include "core/pcg.h"
#include "core/world.h"
#include "report/report.h"
#include "trace/jread.h"
#include "trace/jw.h"
#include "trace/trace.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char bench_help[] =
    "usage: sim bench [all] [--quick] [--repeat R] [--data DIR] [--json FILE]\n"
    "\n"
    "all (the default): every benchmark below, and one table of the figures\n"
    "with their ratios, all measured in this run: the bare event-loop ceiling\n"
    "(heap push/pop), the kernel loop with tracing off and on (and trace bytes\n"
    "per event), each protocol model (events/s, client ops/s, ratio to the\n"
    "kernel), trace overhead on one model (raft, traced / untraced), the\n"
    "linearizability checker on the reference histories (DIR, default\n"
    "../shared/data/porcupine next to the source tree; a missing directory is\n"
    "shown in its rows, not an error) against Porcupine's times from its\n"
    "MANIFEST.tsv, sweep scaling (a short sim sweep of one scenario with -j1\n"
    "then -j2: seeds/s and their ratio) and the report generator (events/s\n"
    "turning a trace into HTML). Each figure is the best of R repetitions\n"
    "(default 5, at most 3 for the sweeps; 1 with --quick). Takes about 1-2\n"
    "minutes, more on a busy machine; --quick uses small budgets (under about\n"
    "30 s) and is what the tests run. --json FILE also writes the same figures\n"
    "as one JSON object (- = standard output, then the table goes to standard\n"
    "error). On a terminal, standard error shows which row is running. See\n"
    "docs/performance.md.\n"
    "\n"
    "usage: sim bench kernel [--nodes N] [--events N] [--fanout K] [--repeat R]\n"
    "\n"
    "kernel: the simulator loop on a ping-pong model over N nodes (default 64)\n"
    "with K messages in flight per node (default 4), tracing off, against a bare\n"
    "heap push/pop loop over the same number of events (default 2000000):\n"
    "the ceiling. Then the same run with tracing on, to a file in /tmp. Prints\n"
    "events per second, the loop/ceiling ratio (target >= 0.5), trace bytes\n"
    "per event and the slowdown with tracing on (target <= 3x). Each figure is\n"
    "the best of R repetitions (default 3).\n"
    "\n"
    "usage: sim bench models [--seconds S] [--repeat R] [--only NAME,...]\n"
    "\n"
    "models: each protocol on a fixed workload (10 closed-loop clients, 10 keys,\n"
    "half reads, half writes, think 1 ms) for S seconds of virtual time (default\n"
    "10), tracing off and then on, next to the kernel loop measured in the same\n"
    "run. Prints simulated client operations per wall-clock second, events per\n"
    "second, events per operation and the ratio of the model's events/s to the\n"
    "kernel's. Rows whose model is not built in are listed as missing.\n"
    "\n" BENCH_CHECK_HELP;

const struct cli_command cli_bench = {
    "bench",
    "benchmarks: sim bench (every one, one table of ratios; --quick, --json FILE), "
    "sim bench kernel, sim bench models, sim bench check",
    bench_help, cmd_bench, NULL,
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- progress on a terminal ----------------------------------------------- */

static bool progress_on;

static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
    if (!progress_on)
        return;
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\r%-78.78s", line);
    fflush(stderr);
}

static void progress_clear(void)
{
    if (progress_on)
        fprintf(stderr, "\r%78s\r", "");
}

/* ---- kernel ------------------------------------------------------------- */

/* The ceiling: a heap kept at the same size, one pop and one push per event,
 * with random future times, as the simulator's queue sees them. */
static double bare_loop(uint64_t events, int in_flight)
{
    evq *q = evq_new();
    pcg32 rng;
    pcg32_seed(&rng, 7, 7);
    for (int i = 0; i < in_flight; i++)
        evq_push(q, (sim_time)pcg32_range(&rng, 1000000, 3000000), 1, (uint32_t)i, 0, NULL);
    double t0 = seconds();
    struct evq_event ev;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < events; i++) {
        evq_pop(q, &ev);
        sum += ev.target;
        evq_push(q, ev.at + pcg32_range(&rng, 1000000, 3000000), 1, ev.target, ev.arg, NULL);
    }
    double dt = seconds() - t0;
    evq_free(q);
    if (sum == 42)
        fputc(' ', stderr);   /* keep the loop from being optimised away */
    return dt;
}

struct kernel_result {
    double seconds;
    uint64_t events;
    uint64_t trace_bytes;
    uint64_t trace_lines;
};

static int kernel_run(int nodes, int fanout, uint64_t events, bool traced, struct kernel_result *out)
{
    char err[512];
    const struct model *m = model_find("pingpong");
    if (!m) {
        cli_error("bench: the pingpong model is missing");
        return SIM_EXIT_INTERNAL;
    }
    params *p = params_new(m->name, m->params, err, sizeof err);
    if (!p || params_set_int(p, "fanout", fanout, err, sizeof err) < 0) {
        cli_error("bench: %s", err);
        params_free(p);
        return SIM_EXIT_INTERNAL;
    }
    trace *tr = NULL;
    char path[] = "/tmp/sim-bench-XXXXXX";
    int fd = -1;
    if (traced) {
        fd = mkstemp(path);
        if (fd < 0) {
            cli_error("bench: cannot create a file in /tmp: %s", strerror(errno));
            params_free(p);
            return SIM_EXIT_IO;
        }
        unlink(path);
        tr = trace_open_fd(fd);
    }
    world *w = world_new(1, tr);
    if (world_cluster(w, m, p, nodes, NULL, err, sizeof err) < 0) {
        cli_error("bench: %s", err);
        world_free(w);
        return SIM_EXIT_INTERNAL;
    }
    world_set_event_limit(w, events);
    double t0 = seconds();
    world_run(w, SIM_TIME_LIMIT - 1);
    if (tr)
        trace_flush(tr);
    out->seconds = seconds() - t0;
    out->events = world_stats(w)->events;
    out->trace_bytes = tr ? trace_bytes(tr) : 0;
    out->trace_lines = tr ? trace_lines(tr) : 0;
    world_free(w);
    trace_close(tr);
    if (fd >= 0)
        close(fd);
    return 0;
}

/* The three kernel figures, each the best of `repeat`. */
struct kernel_figures {
    double bare_rate, loop_rate, traced_rate;   /* events/s */
    struct kernel_result loop, traced;
};

static int kernel_measure(int nodes, int fanout, uint64_t events, uint64_t repeat, const char *what,
                          struct kernel_figures *out)
{
    double best_bare = 1e30, best_loop = 1e30, best_traced = 1e30;
    memset(out, 0, sizeof *out);
    for (uint64_t r = 0; r < repeat; r++) {
        progress("%s: repetition %" PRIu64 "/%" PRIu64 "...", what, r + 1, repeat);
        double bare = bare_loop(events, nodes * fanout);
        if (bare < best_bare)
            best_bare = bare;
        struct kernel_result k;
        int rc = kernel_run(nodes, fanout, events, false, &k);
        if (rc)
            return rc;
        if (k.seconds < best_loop) {
            best_loop = k.seconds;
            out->loop = k;
        }
        rc = kernel_run(nodes, fanout, events, true, &k);
        if (rc)
            return rc;
        if (k.seconds < best_traced) {
            best_traced = k.seconds;
            out->traced = k;
        }
    }
    progress_clear();
    out->bare_rate = (double)events / best_bare;
    out->loop_rate = (double)out->loop.events / best_loop;
    out->traced_rate = (double)out->traced.events / best_traced;
    return 0;
}

static int bench_kernel(int argc, char **argv)
{
    uint64_t nodes = 64, events = 2000000, fanout = 4, repeat = 3;
    for (int i = 2; i < argc; i += 2) {   /* options come in pairs: --name value */
        uint64_t *dst = NULL;
        if (strcmp(argv[i], "--nodes") == 0)
            dst = &nodes;
        else if (strcmp(argv[i], "--events") == 0)
            dst = &events;
        else if (strcmp(argv[i], "--fanout") == 0)
            dst = &fanout;
        else if (strcmp(argv[i], "--repeat") == 0)
            dst = &repeat;
        if (!dst || i + 1 >= argc || !cli_parse_u64(argv[i + 1], dst) || *dst == 0) {
            cli_error("bench kernel: bad option %s (see sim bench --help)", argv[i]);
            return SIM_EXIT_USAGE;
        }
    }
    if (nodes > 1000 || fanout > 1000) {
        cli_error("bench kernel: at most 1000 nodes and a fanout of 1000");
        return SIM_EXIT_USAGE;
    }
    progress_on = cli_is_tty(STDERR_FILENO);
    struct kernel_figures k;
    int rc = kernel_measure((int)nodes, (int)fanout, events, repeat, "bench kernel", &k);
    if (rc)
        return rc;
    printf("bench kernel: pingpong, %" PRIu64 " nodes, %" PRIu64 " messages in flight per node, "
           "%" PRIu64 " events, best of %" PRIu64 "\n",
           nodes, fanout, events, repeat);
    printf("  %-28s %14.0f events/s\n", "bare heap push/pop (ceiling)", k.bare_rate);
    printf("  %-28s %14.0f events/s\n", "simulator, tracing off", k.loop_rate);
    printf("  %-28s %14.0f events/s\n", "simulator, tracing on", k.traced_rate);
    printf("  %-28s %14.2f   (target >= 0.50)\n", "loop / ceiling", k.loop_rate / k.bare_rate);
    printf("  %-28s %14.2fx  (target <= 3x)\n", "slowdown with tracing", k.loop_rate / k.traced_rate);
    printf("  %-28s %14.1f   (%" PRIu64 " bytes, %" PRIu64 " lines)\n", "trace bytes per event",
           k.traced.events ? (double)k.traced.trace_bytes / (double)k.traced.events : 0.0,
           k.traced.trace_bytes, k.traced.trace_lines);
    return SIM_EXIT_OK;
}

/* ---- protocols ------------------------------------------------------------ */

/* One row of sim bench models: a model, its parameters (text form, as
 * --param takes them, "name=value" separated by spaces) and node count. */
struct model_bench {
    const char *label;
    const char *model;
    int nodes;
    const char *params;
};

static const struct model_bench model_benches[] = {
    { "leader_follower async", "leader_follower", 3, "replication=async" },
    { "leader_follower sync", "leader_follower", 3, "replication=sync" },
    { "multi_leader lww, 2 DCs", "multi_leader", 4, "dcs=2 conflict=lww" },
    { "quorum n3 w2 r2", "quorum", 5, "n=3 w=2 r=2" },
    { "raft", "raft", 5, "" },
    { "multipaxos", "multipaxos", 5, "" },
};
#define N_MODEL_BENCHES (sizeof model_benches / sizeof model_benches[0])
#define TRACE_OVERHEAD_MODEL "raft"   /* the row run traced too: the trace overhead */

struct model_result {
    double seconds;
    uint64_t events;
    uint64_t ops;          /* completed: ok + fail + info */
    uint64_t ok;
    uint64_t trace_bytes;
};

static int set_params(params *p, const char *text, char *err, size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            return snprintf(err, errlen, "bad parameter text %s", tok), -1;
        *eq = 0;
        if (params_set_text(p, tok, eq + 1, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* Run one row for `virtual` of simulated time; -1 with err if it cannot. */
static int model_run(const struct model_bench *b, sim_time virtual, bool traced, struct model_result *out,
                     char *err, size_t errlen)
{
    const struct model *m = model_find(b->model);
    params *p = m ? params_new(m->name, m->params, err, errlen) : NULL;
    if (!p || set_params(p, b->params, err, errlen) != 0) {
        params_free(p);
        return -1;
    }
    trace *tr = NULL;
    char path[] = "/tmp/sim-bench-XXXXXX";
    int fd = -1;
    if (traced) {
        fd = mkstemp(path);
        if (fd < 0)
            return snprintf(err, errlen, "cannot create a file in /tmp: %s", strerror(errno)), -1;
        unlink(path);
        tr = trace_open_fd(fd);
    }
    world *w = world_new(1, tr);
    int rc = world_cluster(w, m, p, b->nodes, NULL, err, errlen);
    if (rc == 0) {
        struct workload wl;
        workload_defaults(&wl);
        wl.clients = 10;
        wl.think = SIM_MS;
        wl.n_keys = 10;
        wl.keys = sim_xcalloc((size_t)wl.n_keys, sizeof *wl.keys);
        for (int k = 0; k < wl.n_keys; k++) {
            char key[16];
            snprintf(key, sizeof key, "k%d", k + 1);
            wl.keys[k] = sim_xstrdup(key);
        }
        wl.target = WL_TARGET_LEADER;
        wl.retries = 2;
        rc = world_workload(w, &wl, err, errlen);
    }
    if (rc == 0) {
        double t0 = seconds();
        int st = world_run(w, virtual);
        if (tr)
            trace_flush(tr);
        out->seconds = seconds() - t0;
        if (st != WORLD_OK) {
            snprintf(err, errlen, "the run stopped early (status %d)", st);
            rc = -1;
        }
        const struct world_stats *s = world_stats(w);
        out->events = s->events;
        out->ops = s->ops_ok + s->ops_fail + s->ops_info;
        out->ok = s->ops_ok;
        out->trace_bytes = tr ? trace_bytes(tr) : 0;
    }
    world_free(w);
    trace_close(tr);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* The best of `repeat` runs of b untraced, and traced too when best_tr is
 * not NULL. -1 with err when a run fails. */
static int model_measure(const struct model_bench *b, uint64_t secs, uint64_t repeat, struct model_result *best,
                         struct model_result *best_tr, char *err, size_t errlen)
{
    *best = (struct model_result){ .seconds = 1e30 };
    if (best_tr)
        *best_tr = (struct model_result){ .seconds = 1e30 };
    for (uint64_t r = 0; r < repeat; r++) {
        struct model_result mr;
        progress("bench models: %s %" PRIu64 "/%" PRIu64 "...", b->label, r + 1, repeat);
        if (model_run(b, (sim_time)secs * SIM_S, false, &mr, err, errlen) != 0)
            return -1;
        if (mr.seconds < best->seconds)
            *best = mr;
        if (!best_tr)
            continue;
        if (model_run(b, (sim_time)secs * SIM_S, true, &mr, err, errlen) != 0)
            return -1;
        if (mr.seconds < best_tr->seconds)
            *best_tr = mr;
    }
    progress_clear();
    return 0;
}

static int bench_models(int argc, char **argv)
{
    uint64_t secs = 10, repeat = 3;
    const char *only = NULL;
    for (int i = 2; i < argc; i += 2) {   /* options come in pairs: --name value */
        uint64_t *dst = NULL;
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            only = argv[i + 1];
            continue;
        }
        if (strcmp(argv[i], "--seconds") == 0)
            dst = &secs;
        else if (strcmp(argv[i], "--repeat") == 0)
            dst = &repeat;
        if (!dst || i + 1 >= argc || !cli_parse_u64(argv[i + 1], dst) || *dst == 0 || *dst > 100000) {
            cli_error("bench models: bad option %s (see sim bench --help)", argv[i]);
            return SIM_EXIT_USAGE;
        }
    }
    progress_on = cli_is_tty(STDERR_FILENO);
    /* the kernel, in the same run: pingpong, 64 nodes, 4 in flight */
    double kernel_best = 1e30;
    struct kernel_result k = { 0 };
    for (uint64_t r = 0; r < repeat; r++) {
        struct kernel_result kr;
        progress("bench models: kernel %" PRIu64 "/%" PRIu64 "...", r + 1, repeat);
        int rc = kernel_run(64, 4, 1000000, false, &kr);
        if (rc)
            return rc;
        if (kr.seconds < kernel_best) {
            kernel_best = kr.seconds;
            k = kr;
        }
    }
    progress_clear();
    double kernel_rate = (double)k.events / kernel_best;
    printf("bench models: 10 clients, 10 keys, read/write 1:1, think 1 ms, %" PRIu64
           " s of virtual time, best of %" PRIu64 "\n", secs, repeat);
    printf("  kernel (pingpong, 64 nodes, tracing off): %.0f events/s\n", kernel_rate);
    printf("  %-26s %5s %9s %12s %12s %8s %9s %12s\n", "model", "nodes", "ops", "ops/s", "events/s",
           "ev/op", "/kernel", "ops/s traced");
    int code = SIM_EXIT_OK;
    for (size_t i = 0; i < N_MODEL_BENCHES; i++) {
        const struct model_bench *b = &model_benches[i];
        if (only && !strstr(only, b->model))
            continue;
        if (!model_find(b->model)) {
            printf("  %-26s (model not built in)\n", b->label);
            continue;
        }
        char err[512];
        struct model_result best, best_tr;
        if (model_measure(b, secs, repeat, &best, &best_tr, err, sizeof err) != 0) {
            progress_clear();
            printf("  %-26s failed: %s\n", b->label, err);
            code = SIM_EXIT_FAILED;
            continue;
        }
        double ops_rate = (double)best.ops / best.seconds;
        double ev_rate = (double)best.events / best.seconds;
        printf("  %-26s %5d %9" PRIu64 " %12.0f %12.0f %8.1f %9.2f %12.0f\n", b->label, b->nodes, best.ops,
               ops_rate, ev_rate, best.ops ? (double)best.events / (double)best.ops : 0.0,
               ev_rate / kernel_rate, (double)best_tr.ops / best_tr.seconds);
    }
    return code;
}

/* ---- sim bench all: one table --------------------------------------------- */

/* One row of the table. A figure below zero is not shown ("-"). */
struct brow {
    char id[40];          /* stable name, the key in --json */
    char label[48];
    double events_s;      /* simulated (or checked, or reported) events per second */
    double value;         /* the row's own figure, in unit */
    char unit[16];
    double ratio;
    char ratio_of[32];    /* what the ratio divides by what */
    char note[160];
};

struct table {
    struct brow *rows;
    size_t n, cap;
    FILE *out;            /* where the table goes: stdout, or stderr with --json - */
};

#define ROW_FMT "| %-36s | %12s | %12s | %-11s | %7s | %-22s | %s\n"

static void fmt_fig(char *buf, size_t n, double v, int decimals)
{
    if (v < 0)
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, "%.*f", decimals, v);
}

static void table_print_head(struct table *t, const char *title)
{
    fprintf(t->out, "%s\n", title);
    fprintf(t->out, ROW_FMT, "benchmark", "events/s", "value", "unit", "ratio", "ratio is", "note");
    fprintf(t->out, "|%s|%s|%s|%s|%s|%s|%s\n", "--------------------------------------", "--------------",
            "--------------", "-------------", "---------", "------------------------", "-----");
    fflush(t->out);
}

/* Add a row and print it at once, so a long run shows what it has. */
static struct brow *table_add(struct table *t, const char *id, const char *label)
{
    SIM_GROW(t->rows, t->cap, t->n + 1);
    struct brow *r = &t->rows[t->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->label, sizeof r->label, "%s", label);
    r->events_s = r->value = r->ratio = -1;
    return r;
}

static void table_print_row(struct table *t, const struct brow *r)
{
    char ev[32], val[32], ratio[32];
    fmt_fig(ev, sizeof ev, r->events_s, 0);
    fmt_fig(val, sizeof val, r->value, r->value >= 0 && r->value < 1000 ? 1 : 0);
    fmt_fig(ratio, sizeof ratio, r->ratio, 2);
    progress_clear();
    fprintf(t->out, ROW_FMT, r->label, ev, val, r->value >= 0 ? r->unit : "-", ratio,
            r->ratio >= 0 ? r->ratio_of : "-", r->note);
    fflush(t->out);
}

/* A number for --json: the figure as printed (same rounding), or null. */
static void json_fig(jw *j, const char *key, double v, int decimals)
{
    jw_key(j, key);
    if (v < 0) {
        jw_null(j);
        return;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%.*f", decimals, v);
    jw_raw(j, buf, strlen(buf));
}

static int table_write_json(const struct table *t, const char *path, const char *title, bool quick,
                            uint64_t repeat, double total)
{
    jw j;
    jw_init(&j);
    jw_obj(&j);
    jw_kstr(&j, "bench", "all");
    jw_kstr(&j, "title", title);
    jw_kbool(&j, "quick", quick);
    jw_kint(&j, "repeat", (int64_t)repeat);
    json_fig(&j, "seconds", total, 1);
    jw_key(&j, "rows");
    jw_arr(&j);
    for (size_t i = 0; i < t->n; i++) {
        const struct brow *r = &t->rows[i];
        jw_obj(&j);
        jw_kstr(&j, "id", r->id);
        jw_kstr(&j, "benchmark", r->label);
        json_fig(&j, "events_per_s", r->events_s, 0);
        json_fig(&j, "value", r->value, r->value >= 0 && r->value < 1000 ? 1 : 0);
        jw_key(&j, "unit");
        if (r->value >= 0)
            jw_str(&j, r->unit);
        else
            jw_null(&j);
        json_fig(&j, "ratio", r->ratio, 2);
        jw_key(&j, "ratio_is");
        if (r->ratio >= 0)
            jw_str(&j, r->ratio_of);
        else
            jw_null(&j);
        jw_kstr(&j, "note", r->note);
        jw_obj_end(&j);
    }
    jw_arr_end(&j);
    jw_obj_end(&j);
    jw_append(&j, "\n", 1);
    int rc = 0;
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f || fwrite(j.buf, 1, j.len, f) != j.len || (f != stdout ? fclose(f) : fflush(f)) != 0) {
        cli_error("bench: cannot write %s: %s", path, strerror(errno));
        rc = SIM_EXIT_IO;
    }
    jw_free(&j);
    return rc;
}

/* Where the source tree is: the working directory when it has scenarios/,
 * else the parent (or grandparent) of the directory of the sim binary
 * (build/sim). Empty when none is found. */
static void find_root(char *out, size_t n)
{
    struct stat st;
    out[0] = '\0';
    if (stat("scenarios", &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(out, n, ".");
        return;
    }
    char exe[1024];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return;
    exe[len] = '\0';
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash)
            return;
        *slash = '\0';
        char probe[1100];
        snprintf(probe, sizeof probe, "%s/scenarios", exe);
        if (stat(probe, &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(out, n, "%s", exe);
            return;
        }
    }
}

/* The checker rows: bench_check run on dir with its table captured in a
 * temporary file, then summed up per group (etcd histories, kv histories,
 * generated). */
struct check_group {
    const char *id, *label;
    size_t files, ops, mismatches, compared;
    double ours_ms, porcupine_ms, ours_compared_ms;   /* medians summed */
    double slowest;
    char slowest_name[64];
};

static void check_parse_line(char *line, struct check_group *groups)
{
    /* | name | ops | verdict | expected | best ms | median ms | Porcupine ms | speedup | */
    char *f[9];
    int nf = 0;
    for (char *p = line; *p && nf < 9; p++)
        if (*p == '|') {
            *p = '\0';
            f[nf++] = p + 1;
        }
    if (nf < 9)
        return;
    for (int i = 0; i < 8; i++) {   /* trim */
        while (*f[i] == ' ')
            f[i]++;
        char *e = f[i] + strlen(f[i]);
        while (e > f[i] && e[-1] == ' ')
            *--e = '\0';
    }
    if (strcmp(f[0], "history") == 0 || f[0][0] == '-' || f[0][0] == '\0')
        return;
    struct check_group *g = strncmp(f[0], "kv/", 3) == 0 ? &groups[1]
                            : strncmp(f[0], "gen ", 4) == 0 ? &groups[2] : &groups[0];
    g->files++;
    g->ops += strtoul(f[1], NULL, 10);
    bool ok = (strcmp(f[3], "ok") == 0 || strcmp(f[3], "untested") == 0) ? strcmp(f[2], "holds") == 0
              : strcmp(f[3], "illegal") == 0                             ? strcmp(f[2], "violated") == 0
                                                                         : true;
    g->mismatches += !ok;
    double median = strtod(f[5], NULL);
    g->ours_ms += median;
    if (strcmp(f[6], "-") != 0) {
        double pms = strtod(f[6], NULL);
        g->compared++;
        g->porcupine_ms += pms;
        g->ours_compared_ms += median;
        double speedup = median > 0 ? pms / median : 0;
        if (median > 0 && (g->slowest_name[0] == '\0' || speedup < g->slowest)) {
            g->slowest = speedup;
            snprintf(g->slowest_name, sizeof g->slowest_name, "%s", f[0]);
        }
    }
}

static int check_rows(struct table *t, const char *data, uint64_t repeat, bool *failed)
{
    struct check_group groups[3] = {
        { .id = "check_etcd", .label = "checker: etcd histories (Jepsen)" },
        { .id = "check_kv", .label = "checker: kv histories (Porcupine)" },
        { .id = "check_generated", .label = "checker: generated 3 x 3000 ops" },
    };
    char manifest[1100];
    snprintf(manifest, sizeof manifest, "%.1000s/MANIFEST.tsv", data);
    struct stat st;
    bool have_data = stat(manifest, &st) == 0;
    FILE *cap = tmpfile();
    if (!cap) {
        cli_error("bench: cannot create a temporary file: %s", strerror(errno));
        return SIM_EXIT_IO;
    }
    char rep[24];
    snprintf(rep, sizeof rep, "%" PRIu64, repeat);
    char *args[6] = { "check", "--repeat", rep, NULL, NULL, NULL };
    int nargs = 3;
    if (have_data)
        args[nargs++] = (char *)data;
    /* bench_check prints its table on stdout: send it to the capture file */
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    if (saved < 0 || dup2(fileno(cap), STDOUT_FILENO) < 0) {
        cli_error("bench: cannot redirect the checker table: %s", strerror(errno));
        fclose(cap);
        return SIM_EXIT_IO;
    }
    progress("bench: checker on %s...", have_data ? data : "generated histories");
    int rc = bench_check(nargs, args);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    progress_clear();
    rewind(cap);
    char line[1024];
    while (fgets(line, sizeof line, cap))
        if (line[0] == '|')
            check_parse_line(line, groups);
    fclose(cap);
    if (rc != SIM_EXIT_OK && rc != SIM_EXIT_FAILED)
        return rc;
    for (int g = 0; g < 3; g++) {
        struct check_group *c = &groups[g];
        struct brow *r = table_add(t, c->id, c->label);
        if (g < 2 && !have_data) {
            snprintf(r->note, sizeof r->note, "no data: %.100s/MANIFEST.tsv not found (--data DIR)", data);
        } else if (c->files == 0) {
            snprintf(r->note, sizeof r->note, "no histories in %.100s", data);
        } else {
            r->value = c->ours_ms > 0 ? (double)c->ops / (c->ours_ms / 1000.0) : 0;
            snprintf(r->unit, sizeof r->unit, "ops/s");
            int used = snprintf(r->note, sizeof r->note, "%zu files, %s; %.3f ms", c->files,
                                c->mismatches ? "VERDICTS NOT AS EXPECTED" : "verdicts as expected",
                                c->ours_ms);
            if (c->compared && c->ours_compared_ms > 0) {
                r->ratio = c->porcupine_ms / c->ours_compared_ms;
                snprintf(r->ratio_of, sizeof r->ratio_of, "Porcupine ms / ours");
                snprintf(r->note + used, sizeof r->note - (size_t)used,
                         " vs Porcupine %.3f ms; slowest file %.1fx (%s)", c->porcupine_ms, c->slowest,
                         c->slowest_name);
            }
            if (c->mismatches)
                *failed = true;
        }
        table_print_row(t, r);
    }
    return 0;
}

/* Run `sim sweep` (this very binary) on scenario with `jobs` workers;
 * *secs its wall time, *events the events of every seed summed. */
static int sweep_spawn(const char *scenario, uint64_t n_seeds, int jobs, double *secs, uint64_t *events,
                       char *err, size_t errlen)
{
    char out_path[] = "/tmp/sim-bench-sweep-XXXXXX";
    int fd = mkstemp(out_path);
    if (fd < 0)
        return snprintf(err, errlen, "cannot create a file in /tmp: %s", strerror(errno)), -1;
    close(fd);
    char seeds[48], j[16];
    snprintf(seeds, sizeof seeds, "1..%" PRIu64, n_seeds);
    snprintf(j, sizeof j, "%d", jobs);
    char *args[] = { "sim", "sweep", (char *)scenario, "--seeds", seeds, "-j", j,
                     "--out", out_path, "--quiet", "--no-wall", NULL };
    fflush(stdout);
    fflush(stderr);
    double t0 = seconds();
    pid_t pid = fork();
    if (pid < 0) {
        unlink(out_path);
        return snprintf(err, errlen, "cannot fork: %s", strerror(errno)), -1;
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);   /* the sweep's summary */
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *secs = seconds() - t0;
    int rc = 0;
    if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 1)) {
        snprintf(err, errlen, "sim sweep -j%d exited with status %d", jobs,
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        rc = -1;
    }
    *events = 0;
    FILE *f = rc == 0 ? fopen(out_path, "r") : NULL;
    if (f) {
        char *line = NULL;
        size_t cap = 0;
        int complete;
        uint64_t lines = 0;
        while (trace_getline(f, &line, &cap, &complete) > 0) {
            cJSON *o = cJSON_Parse(line);
            if (o && cJSON_GetObjectItemCaseSensitive(o, "seed")) {
                lines++;
                int64_t ev = jr_i64(o, "events", 0);
                *events += ev > 0 ? (uint64_t)ev : 0;
            }
            cJSON_Delete(o);
        }
        free(line);
        fclose(f);
        if (lines != n_seeds) {
            snprintf(err, errlen, "sim sweep -j%d wrote %" PRIu64 " of %" PRIu64 " results", jobs, lines,
                     n_seeds);
            rc = -1;
        }
    }
    unlink(out_path);
    return rc;
}

/* A scenario run with the trace on into path (header included, as sim run
 * writes it); *secs the wall time of the run, *events its events. */
static int scenario_traced(const char *scenario, const char *path, double *secs, uint64_t *events, char *err,
                           size_t errlen)
{
    trace *tr = trace_open(path, err, errlen);
    if (!tr)
        return -1;
    struct run_request rq = { .scenario = scenario, .seed = 1, .quiet = true };
    struct lsim_result *res = sim_xcalloc(1, sizeof *res);
    double t0 = seconds();
    int rc = run_scenario(&rq, tr, res);
    trace_flush(tr);
    *secs = seconds() - t0;
    *events = res->stats.events;
    if (rc != SIM_EXIT_OK && rc != SIM_EXIT_FAILED) {
        snprintf(err, errlen, "%.300s: %.600s", scenario, res->error);
        rc = -1;
    } else {
        rc = 0;
    }
    if (trace_close(tr) < 0 && rc == 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    sim_free(res);
    return rc;
}

/* rep_load + rep_write_html of the trace at path (to a temporary file), as
 * sim report does it; *secs the best of `repeat` times. */
static int report_time(const char *path, uint64_t repeat, double *secs, char *err, size_t errlen)
{
    *secs = 1e30;
    for (uint64_t r = 0; r < repeat; r++) {
        FILE *out = tmpfile();
        if (!out)
            return snprintf(err, errlen, "cannot create a temporary file: %s", strerror(errno)), -1;
        double t0 = seconds();
        struct rep rp;
        if (rep_load(path, &rp, err, errlen) != 0) {
            fclose(out);
            return -1;
        }
        int wrc = rep_write_html(&rp, out);
        fflush(out);
        double dt = seconds() - t0;
        rep_free(&rp);
        fclose(out);
        if (wrc)
            return snprintf(err, errlen, "cannot write the HTML page"), -1;
        if (dt < *secs)
            *secs = dt;
    }
    return 0;
}

#define SWEEP_SCENARIO "24_raft_nemesis_linearizable"

static int bench_all(int argc, char **argv)
{
    bool quick = false;
    uint64_t repeat = 0;
    const char *json_path = NULL, *data_opt = NULL;
    for (int i = 1; i < argc; i++) {
        if (i == 1 && strcmp(argv[i], "all") == 0)
            continue;
        if (strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (strcmp(argv[i], "--repeat") == 0) {
            if (i + 1 >= argc || !cli_parse_u64(argv[i + 1], &repeat) || repeat == 0 || repeat > 100) {
                cli_error("bench: bad option --repeat (a number from 1 to 100; see sim bench --help)");
                return SIM_EXIT_USAGE;
            }
            i++;
        } else if (strcmp(argv[i], "--json") == 0 || strcmp(argv[i], "--data") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0') {
                cli_error("bench: %s needs a value (see sim bench --help)", argv[i]);
                return SIM_EXIT_USAGE;
            }
            *(argv[i][2] == 'j' ? &json_path : &data_opt) = argv[i + 1];
            i++;
        } else {
            cli_error("bench: unknown option %s (see sim bench --help)", argv[i]);
            return SIM_EXIT_USAGE;
        }
    }
    if (repeat == 0)
        repeat = quick ? 1 : 5;
    /* the budgets: default about 1-3 minutes, --quick under about 30 s */
    uint64_t k_events = quick ? 500000 : 2000000;
    uint64_t m_secs = quick ? 2 : 30;
    uint64_t sweep_seeds = quick ? 12 : 200;
    uint64_t sweep_repeat = repeat < 3 ? repeat : 3;   /* a sweep is long enough to be steadier */
    uint64_t rep_repeat = quick ? 1 : repeat;

    char root[1024], data[1200], scenario[1200];
    find_root(root, sizeof root);
    if (data_opt)
        snprintf(data, sizeof data, "%s", data_opt);
    else
        snprintf(data, sizeof data, "%s/../shared/data/porcupine", root[0] ? root : ".");
    snprintf(scenario, sizeof scenario, "%s/scenarios/%s.lua", root[0] ? root : ".", SWEEP_SCENARIO);
    if (strcmp(root, ".") == 0)
        snprintf(scenario, sizeof scenario, "scenarios/%s.lua", SWEEP_SCENARIO);

    progress_on = cli_is_tty(STDERR_FILENO);
    struct table t = { .out = json_path && strcmp(json_path, "-") == 0 ? stderr : stdout };
    char title[256];
    snprintf(title, sizeof title,
             "sim bench%s: every benchmark, ratios measured in this run, best of %" PRIu64, quick ? " --quick" : "",
             repeat);
    table_print_head(&t, title);
    double t_start = seconds();
    bool failed = false;
    int rc = 0;
    char err[1024];

    /* 1-3. the ceiling and the kernel */
    struct kernel_figures k;
    rc = kernel_measure(64, 4, k_events, repeat, "bench: kernel", &k);
    if (rc)
        goto out;
    struct brow *r = table_add(&t, "ceiling", "event loop ceiling: heap push/pop");
    r->events_s = k.bare_rate;
    r->ratio = 1.0;
    snprintf(r->ratio_of, sizeof r->ratio_of, "the ceiling");
    snprintf(r->note, sizeof r->note, "%" PRIu64 " events, 256 in the heap", k_events);
    table_print_row(&t, r);
    r = table_add(&t, "kernel", "kernel: pingpong 64 nodes, trace off");
    r->events_s = k.loop_rate;
    r->ratio = k.loop_rate / k.bare_rate;
    snprintf(r->ratio_of, sizeof r->ratio_of, "/ ceiling");
    snprintf(r->note, sizeof r->note, "4 messages in flight per node");
    table_print_row(&t, r);
    r = table_add(&t, "kernel_traced", "kernel: pingpong 64 nodes, trace on");
    r->events_s = k.traced_rate;
    r->value = k.traced.events ? (double)k.traced.trace_bytes / (double)k.traced.events : 0.0;
    snprintf(r->unit, sizeof r->unit, "bytes/event");
    r->ratio = k.traced_rate / k.loop_rate;
    snprintf(r->ratio_of, sizeof r->ratio_of, "/ trace off");
    snprintf(r->note, sizeof r->note, "%.2fx slower with the trace on", k.loop_rate / k.traced_rate);
    table_print_row(&t, r);

    /* 4. each protocol; 5. the trace overhead on one of them */
    struct model_result overhead_base = { 0 }, overhead_tr = { 0 };
    bool have_overhead = false;
    for (size_t i = 0; i < N_MODEL_BENCHES; i++) {
        const struct model_bench *b = &model_benches[i];
        char id[40], label[48];
        snprintf(id, sizeof id, "model:%s", b->label);
        for (char *p = id; *p; p++)
            if (*p == ' ' || *p == ',')
                *p = '_';
        snprintf(label, sizeof label, "model: %s", b->label);
        if (!model_find(b->model)) {
            r = table_add(&t, id, label);
            snprintf(r->note, sizeof r->note, "model not built in");
            table_print_row(&t, r);
            continue;
        }
        struct model_result best, best_tr;
        bool with_trace = strcmp(b->label, TRACE_OVERHEAD_MODEL) == 0;
        if (model_measure(b, m_secs, repeat, &best, with_trace ? &best_tr : NULL, err, sizeof err) != 0) {
            r = table_add(&t, id, label);
            snprintf(r->note, sizeof r->note, "failed: %.140s", err);
            table_print_row(&t, r);
            failed = true;
            continue;
        }
        r = table_add(&t, id, label);
        r->events_s = (double)best.events / best.seconds;
        r->value = (double)best.ops / best.seconds;
        snprintf(r->unit, sizeof r->unit, "ops/s");
        r->ratio = r->events_s / k.loop_rate;
        snprintf(r->ratio_of, sizeof r->ratio_of, "/ kernel");
        snprintf(r->note, sizeof r->note, "%d nodes, %" PRIu64 " ops, %.1f events/op", b->nodes, best.ops,
                 best.ops ? (double)best.events / (double)best.ops : 0.0);
        table_print_row(&t, r);
        if (with_trace) {
            overhead_base = best;
            overhead_tr = best_tr;
            have_overhead = true;
        }
    }
    r = table_add(&t, "trace_overhead", "trace overhead: raft, trace on");
    if (have_overhead) {
        r->events_s = (double)overhead_tr.events / overhead_tr.seconds;
        r->value = (double)overhead_tr.ops / overhead_tr.seconds;
        snprintf(r->unit, sizeof r->unit, "ops/s");
        r->ratio = r->events_s / ((double)overhead_base.events / overhead_base.seconds);
        snprintf(r->ratio_of, sizeof r->ratio_of, "/ raft, trace off");
        snprintf(r->note, sizeof r->note, "%.2fx slower with the trace on; %.1f bytes/event", 1.0 / r->ratio,
                 overhead_tr.events ? (double)overhead_tr.trace_bytes / (double)overhead_tr.events : 0.0);
    } else {
        snprintf(r->note, sizeof r->note, "not measured: the raft row did not run");
    }
    table_print_row(&t, r);

    /* 6. the checkers on the reference histories */
    rc = check_rows(&t, data, repeat, &failed);
    if (rc)
        goto out;

    /* 7. sweep scaling: -j1 then -j2 */
    struct stat st;
    bool have_scenario = stat(scenario, &st) == 0;
    double sw_secs[2] = { 0, 0 };
    uint64_t sw_events[2] = { 0, 0 };
    for (int jobs = 1; jobs <= 2; jobs++) {
        char id[16], label[48];
        snprintf(id, sizeof id, "sweep_j%d", jobs);
        snprintf(label, sizeof label, "sweep -j%d: scenario 24, raft nemesis", jobs);
        double best = 1e30;
        bool ok = have_scenario;
        snprintf(err, sizeof err, "no scenario %.900s", scenario);
        for (uint64_t rr = 0; ok && rr < sweep_repeat; rr++) {
            double s;
            uint64_t ev;
            progress("bench: sim sweep -j%d, %" PRIu64 " seeds, %" PRIu64 "/%" PRIu64 "...", jobs, sweep_seeds,
                     rr + 1, sweep_repeat);
            ok = sweep_spawn(scenario, sweep_seeds, jobs, &s, &ev, err, sizeof err) == 0;
            if (ok && s < best) {
                best = s;
                sw_events[jobs - 1] = ev;
            }
        }
        r = table_add(&t, id, label);
        if (!ok) {
            snprintf(r->note, sizeof r->note, "failed: %.140s", err);
            failed = true;
            sw_secs[jobs - 1] = -1;
        } else {
            sw_secs[jobs - 1] = best;
            r->events_s = (double)sw_events[jobs - 1] / best;
            r->value = (double)sweep_seeds / best;
            snprintf(r->unit, sizeof r->unit, "seeds/s");
            if (jobs == 1) {
                r->ratio = r->events_s / k.loop_rate;
                snprintf(r->ratio_of, sizeof r->ratio_of, "/ kernel");
            } else if (sw_secs[0] > 0) {
                r->ratio = sw_secs[0] / best;
                snprintf(r->ratio_of, sizeof r->ratio_of, "/ sweep -j1");
            }
            double load[1] = { -1 };
            if (getloadavg(load, 1) != 1)
                load[0] = -1;
            snprintf(r->note, sizeof r->note, "%s seeds 1..%" PRIu64 " in %.2f s, best of %" PRIu64
                     "; %ld CPUs online, load average %.2f", SWEEP_SCENARIO, sweep_seeds, best, sweep_repeat,
                     sysconf(_SC_NPROCESSORS_ONLN), load[0]);
        }
        table_print_row(&t, r);
    }

    /* 8. the report generator on a scenario's trace */
    r = table_add(&t, "report", "report: trace to HTML, scenario 24");
    char tpath[] = "/tmp/sim-bench-report-XXXXXX";
    int tfd = have_scenario ? mkstemp(tpath) : -1;
    if (tfd < 0) {
        snprintf(r->note, sizeof r->note, have_scenario ? "cannot create a file in /tmp" : "no scenario %.120s",
                 scenario);
        failed = failed || have_scenario;
    } else {
        close(tfd);
        double run_s = 0, rep_s = 0;
        uint64_t events = 0;
        progress("bench: report generator...");
        if (scenario_traced(scenario, tpath, &run_s, &events, err, sizeof err) != 0 ||
            report_time(tpath, rep_repeat, &rep_s, err, sizeof err) != 0) {
            snprintf(r->note, sizeof r->note, "failed: %.140s", err);
            failed = true;
        } else {
            struct stat ts;
            double mb = stat(tpath, &ts) == 0 ? (double)ts.st_size / 1e6 : 0;
            r->events_s = (double)events / rep_s;
            r->value = mb / rep_s;
            snprintf(r->unit, sizeof r->unit, "MB/s");
            r->ratio = r->events_s / ((double)events / run_s);
            snprintf(r->ratio_of, sizeof r->ratio_of, "/ the traced run");
            snprintf(r->note, sizeof r->note, "%s seed 1: %" PRIu64 " events, %.2f MB of trace, %.3f s",
                     SWEEP_SCENARIO, events, mb, rep_s);
        }
        unlink(tpath);
    }
    table_print_row(&t, r);

out:
    progress_clear();
    if (rc == 0) {
        double total = seconds() - t_start;
        fprintf(t.out, "%zu rows in %.1f s%s\n", t.n, total, failed ? "; SOME ROWS FAILED" : "");
        if (json_path)
            rc = table_write_json(&t, json_path, title, quick, repeat, total);
    }
    sim_free(t.rows);
    if (rc)
        return rc;
    return failed ? SIM_EXIT_FAILED : SIM_EXIT_OK;
}

int cmd_bench(int argc, char **argv)
{
    if (cli_wants_help(&cli_bench, argc, argv))
        return SIM_EXIT_OK;
    if (argc < 2 || strcmp(argv[1], "all") == 0 || argv[1][0] == '-')
        return bench_all(argc, argv);
    if (strcmp(argv[1], "kernel") == 0)
        return bench_kernel(argc, argv);
    if (strcmp(argv[1], "check") == 0)
        return bench_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "models") == 0)
        return bench_models(argc, argv);
    cli_error("bench: no benchmark \"%s\" (there is: all, kernel, models, check)", argv[1]);
    return SIM_EXIT_USAGE;
}
