/* sim bench: benchmarks, timed with the wall clock (the only place sim
 * reads it). Figures are ratios measured in the same run, because the
 * machines are shared and absolute rates are noisy. */
#include "cli.h"
#include "check/cmd_check.h"
#include "core/alloc.h"
#include "core/evq.h"
#include "core/exitcodes.h"
#include "core/pcg.h"
#include "core/world.h"
#include "trace/trace.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char bench_help[] =
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
    "bench", "benchmarks: sim bench kernel [--nodes N] [--events N], sim bench models, sim bench check",
    bench_help, cmd_bench, NULL,
};

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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
    bool tty = cli_is_tty(STDERR_FILENO);
    double best_bare = 1e30, best_loop = 1e30, best_traced = 1e30;
    struct kernel_result loop = { 0 }, traced = { 0 };
    for (uint64_t r = 0; r < repeat; r++) {
        if (tty)
            fprintf(stderr, "\rbench kernel: repetition %" PRIu64 "/%" PRIu64 "...", r + 1, repeat);
        double bare = bare_loop(events, (int)(nodes * fanout));
        if (bare < best_bare)
            best_bare = bare;
        struct kernel_result k;
        int rc = kernel_run((int)nodes, (int)fanout, events, false, &k);
        if (rc)
            return rc;
        if (k.seconds < best_loop) {
            best_loop = k.seconds;
            loop = k;
        }
        rc = kernel_run((int)nodes, (int)fanout, events, true, &k);
        if (rc)
            return rc;
        if (k.seconds < best_traced) {
            best_traced = k.seconds;
            traced = k;
        }
    }
    if (tty)
        fprintf(stderr, "\r%60s\r", "");
    double bare_rate = (double)events / best_bare;
    double loop_rate = (double)loop.events / best_loop;
    double traced_rate = (double)traced.events / best_traced;
    printf("bench kernel: pingpong, %" PRIu64 " nodes, %" PRIu64 " messages in flight per node, "
           "%" PRIu64 " events, best of %" PRIu64 "\n",
           nodes, fanout, events, repeat);
    printf("  %-28s %14.0f events/s\n", "bare heap push/pop (ceiling)", bare_rate);
    printf("  %-28s %14.0f events/s\n", "simulator, tracing off", loop_rate);
    printf("  %-28s %14.0f events/s\n", "simulator, tracing on", traced_rate);
    printf("  %-28s %14.2f   (target >= 0.50)\n", "loop / ceiling", loop_rate / bare_rate);
    printf("  %-28s %14.2fx  (target <= 3x)\n", "slowdown with tracing", loop_rate / traced_rate);
    printf("  %-28s %14.1f   (%" PRIu64 " bytes, %" PRIu64 " lines)\n", "trace bytes per event",
           traced.events ? (double)traced.trace_bytes / (double)traced.events : 0.0,
           traced.trace_bytes, traced.trace_lines);
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

struct model_result {
    double seconds;
    uint64_t events;
    uint64_t ops;          /* completed: ok + fail + info */
    uint64_t ok;
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
    }
    world_free(w);
    trace_close(tr);
    if (fd >= 0)
        close(fd);
    return rc;
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
    bool tty = cli_is_tty(STDERR_FILENO);
    /* the kernel, in the same run: pingpong, 64 nodes, 4 in flight */
    double kernel_best = 1e30;
    struct kernel_result k = { 0 };
    for (uint64_t r = 0; r < repeat; r++) {
        struct kernel_result kr;
        if (tty)
            fprintf(stderr, "\rbench models: kernel %" PRIu64 "/%" PRIu64 "...", r + 1, repeat);
        int rc = kernel_run(64, 4, 1000000, false, &kr);
        if (rc)
            return rc;
        if (kr.seconds < kernel_best) {
            kernel_best = kr.seconds;
            k = kr;
        }
    }
    double kernel_rate = (double)k.events / kernel_best;
    printf("bench models: 10 clients, 10 keys, read/write 1:1, think 1 ms, %" PRIu64
           " s of virtual time, best of %" PRIu64 "\n", secs, repeat);
    printf("  kernel (pingpong, 64 nodes, tracing off): %.0f events/s\n", kernel_rate);
    printf("  %-26s %5s %9s %12s %12s %8s %9s %12s\n", "model", "nodes", "ops", "ops/s", "events/s",
           "ev/op", "/kernel", "ops/s traced");
    int code = SIM_EXIT_OK;
    for (size_t i = 0; i < sizeof model_benches / sizeof model_benches[0]; i++) {
        const struct model_bench *b = &model_benches[i];
        if (only && !strstr(only, b->model))
            continue;
        if (!model_find(b->model)) {
            printf("  %-26s (model not built in)\n", b->label);
            continue;
        }
        char err[512];
        struct model_result best = { .seconds = 1e30 }, best_tr = { .seconds = 1e30 };
        bool failed = false;
        for (uint64_t r = 0; r < repeat && !failed; r++) {
            struct model_result mr;
            if (tty)
                fprintf(stderr, "\r%60s\rbench models: %s %" PRIu64 "/%" PRIu64 "...", "", b->label, r + 1,
                        repeat);
            if (model_run(b, (sim_time)secs * SIM_S, false, &mr, err, sizeof err) != 0) {
                failed = true;
                break;
            }
            if (mr.seconds < best.seconds)
                best = mr;
            if (model_run(b, (sim_time)secs * SIM_S, true, &mr, err, sizeof err) != 0) {
                failed = true;
                break;
            }
            if (mr.seconds < best_tr.seconds)
                best_tr = mr;
        }
        if (tty)
            fprintf(stderr, "\r%70s\r", "");
        if (failed) {
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

int cmd_bench(int argc, char **argv)
{
    if (cli_wants_help(&cli_bench, argc, argv))
        return SIM_EXIT_OK;
    if (argc < 2) {
        cli_error("bench: which benchmark? kernel, models or check (see sim bench --help)");
        return SIM_EXIT_USAGE;
    }
    if (strcmp(argv[1], "kernel") == 0)
        return bench_kernel(argc, argv);
    if (strcmp(argv[1], "check") == 0)
        return bench_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "models") == 0)
        return bench_models(argc, argv);
    cli_error("bench: no benchmark \"%s\" (there is: kernel, models, check)", argv[1]);
    return SIM_EXIT_USAGE;
}
