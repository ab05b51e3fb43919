/* sim sweep: run a scenario under many seeds on all cores (or one shard of
 * them), one JSON line per seed in seed order, a summary grouped by
 * failure kind with the command that replays each failure; and sim sweep
 * --merge, which turns shard files into the unsharded run's summary. */
#include "cli.h"
#include "sweep_run.h"
#include "sweep_summary.h"
#include "core/alloc.h"
#include "core/exitcodes.h"
#include "core/pcg.h"
#include "trace/jw.h"
#include "trace/trace.h"
#include "sim_version.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char sweep_help[] =
    "usage: sim sweep SCENARIO --seeds A..B [options]\n"
    "       sim sweep --merge FILE... [--out FILE] [--junit FILE]\n"
    "\n"
    "Run SCENARIO once per seed from A to B (both included), in worker\n"
    "processes, with tracing off and every expectation decided as sim run\n"
    "decides it. Writes one JSON line per seed, in seed order whatever -j is,\n"
    "and prints a summary: the failures grouped by kind, each with the command\n"
    "that replays it with the trace on. See docs/sweep.md.\n"
    "\n"
    "options:\n"
    "  --seeds A..B       the seeds (or one seed N); required\n"
    "  -j, --jobs N       worker processes (default: the number of online CPUs)\n"
    "  --out FILE         the results, one JSON line per seed after a header line\n"
    "                     (default sweeps/NAME-seedsA-B.jsonl; - = standard output)\n"
    "  --stop-on-failure  stop at the first failing seed (in seed order: the output\n"
    "                     is the same for every -j)\n"
    "  --swarm            each seed also draws the nemesis intensity, fault mix and\n"
    "                     network settings (as sim run --swarm); recorded per line\n"
    "  --check-determinism P\n"
    "                     run a fraction P (0 to 1) of the seeds twice more with the\n"
    "                     trace on and compare the traces' SHA-256; a difference is a\n"
    "                     failure of kind nondeterministic. Which seeds is decided by\n"
    "                     the seed alone, so shards check the same ones\n"
    "  --junit FILE       also write JUnit XML: one test case per seed\n"
    "  --shard K/N        run only the K-th of N disjoint slices of the seeds: seed s\n"
    "                     belongs to shard ((s - A) mod N) + 1\n"
    "  --merge FILE...    read shard result files (every argument after it) and print\n"
    "                     the summary the unsharded sweep prints; --out writes the\n"
    "                     merged results\n"
    "  --param NAME=VALUE, --max-events N, --budget N, --memory MIB, --keep-going\n"
    "                     as in sim run, for every seed\n"
    "  --no-wall          leave the wall-clock time out of the result lines, so two\n"
    "                     sweeps' files compare byte for byte\n"
    "  --progress-every S without a terminal, a progress line every S seconds\n"
    "                     (default 5; 0 = none)\n"
    "  --quiet            no progress output\n"
    "\n"
    "On a terminal, standard error shows a progress bar: seeds done, seeds per\n"
    "second, failures so far and the time left. The summary goes to standard\n"
    "output (to standard error with --out -). Its last line, \"wall\", is the only\n"
    "one that depends on the clock.\n"
    "\n"
    "exit codes: 0 every seed passed, 1 a seed failed (or a merge misses seeds),\n"
    "2 usage, 4 the scenario fails with an error on every seed, 5 file error.\n";

const struct cli_command cli_sweep = {
    "sweep", "run many seeds on all cores: sim sweep SCENARIO --seeds A..B [-j N] [--out FILE]",
    sweep_help, cmd_sweep, NULL,
};

/* ---- the sweep's settings --------------------------------------------------------- */

struct sweep {
    struct run_request rq;        /* the template; seed set per run */
    uint64_t first, last;         /* --seeds A..B */
    uint64_t shard_k, shard_n;    /* 1/1 when not sharded */
    uint64_t count;               /* seeds in this shard */
    double check_determinism;     /* fraction of seeds checked, 0..1 */
    uint64_t check_threshold;     /* a seed is checked when its hash < this */
    bool check_all;
    int jobs;
    bool stop_on_failure;
    bool no_wall;
    bool quiet;
    double progress_every;
    const char *out_path;
    const char *junit_path;
};

static uint64_t seed_at(const struct sweep *sw, uint64_t index)
{
    return sw->first + (sw->shard_k - 1) + index * sw->shard_n;
}

/* The determinism self-check picks seeds by a hash of the seed alone, so
 * a shard checks exactly the seeds the unsharded sweep would. */
static bool seed_checked(const struct sweep *sw, uint64_t seed)
{
    if (sw->check_all)
        return true;
    return pcg_mix64(seed ^ UINT64_C(0x5eed5eed5eed5eed)) < sw->check_threshold;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- one seed, in a worker --------------------------------------------------------- */

/* The result line of one judged seed (without a newline) into j. */
static void result_line(jw *j, const struct sweep *sw, uint64_t seed, int rc, const struct lsim_result *res,
                        const char *kind, bool checked, const char *d1, const char *d2, double wall)
{
    char seed_s[24];
    snprintf(seed_s, sizeof seed_s, "%" PRIu64, seed);
    jw_reset(j);
    jw_obj(j);
    jw_kstr(j, "seed", seed_s);
    jw_key(j, "failure");
    if (kind[0])
        jw_str(j, kind);
    else
        jw_null(j);
    jw_kint(j, "exit", rc);
    jw_key(j, "verdicts");
    jw_obj(j);
    if (rc == SIM_EXIT_OK || rc == SIM_EXIT_FAILED)
        for (int i = 0; i < res->n_expect; i++) {
            bool first = true, held = true;   /* one entry per name: all its calls held */
            for (int k = 0; k < res->n_expect; k++)
                if (strcmp(res->expect[k].name, res->expect[i].name) == 0) {
                    first &= k >= i;
                    held &= res->expect[k].held;
                }
            if (first)
                jw_kbool(j, res->expect[i].name, held);
        }
    jw_obj_end(j);
    const struct world_stats *st = &res->stats;
    jw_kint(j, "ops_invoked", (int64_t)st->ops_invoked);
    jw_kint(j, "ops_ok", (int64_t)st->ops_ok);
    jw_kint(j, "ops_fail", (int64_t)st->ops_fail);
    jw_kint(j, "ops_info", (int64_t)st->ops_info);
    jw_kint(j, "events", (int64_t)st->events);
    jw_kint(j, "virtual_time", res->end_time);
    jw_kint(j, "crashes", (int64_t)st->crashes);
    if (sw->rq.swarm && res->swarm_json[0]) {
        jw_key(j, "swarm");
        jw_raw(j, res->swarm_json, strlen(res->swarm_json));
    }
    if (checked) {
        jw_kbool(j, "checked", 1);
        if (strcmp(kind, "nondeterministic") == 0) {
            jw_key(j, "digests");
            jw_arr(j);
            jw_str(j, d1);
            jw_str(j, d2);
            jw_arr_end(j);
        }
    }
    if (kind[0]) {
        /* why: the invariant's sentence, the first failed expectation, or the error */
        char why[1600] = "";
        if (strcmp(kind, "nondeterministic") == 0)
            snprintf(why, sizeof why, "the same seed gave two different traces");
        else if (rc != SIM_EXIT_FAILED)
            snprintf(why, sizeof why, "%s", res->error);
        else if (strcmp(kind, "invariant") == 0) {
            const char *nl = strchr(res->halt_report, '\n');
            snprintf(why, sizeof why, "invariant broken at t=%.9f s: %.*s", (double)res->halted_at / 1e9,
                     nl ? (int)(nl - res->halt_report) : (int)strlen(res->halt_report), res->halt_report);
        } else
            for (int i = 0; i < res->n_expect; i++)
                if (!res->expect[i].held) {
                    snprintf(why, sizeof why, "%s: %s", res->expect[i].name, res->expect[i].detail);
                    break;
                }
        jw_kstr(j, "why", why);
        char *replay = sweep_replay_command(&sw->rq, seed);
        jw_kstr(j, "replay", replay);
        sim_free(replay);
    }
    if (!sw->no_wall) {
        char w[32];
        snprintf(w, sizeof w, "%.6f", wall);
        jw_key(j, "wall");
        jw_raw(j, w, strlen(w));
    }
    jw_obj_end(j);
}

/* Run one seed and write its line into j. Tracing stays off unless the
 * scenario's expectations need checkers (known after a worker's first
 * seed: then each run traces into a temporary file once instead of
 * running twice) or the seed is checked for determinism. */
static void run_seed(const struct sweep *sw, uint64_t seed, jw *j)
{
    static bool wants_trace;
    static struct lsim_result res, again;
    char d1[65] = "", d2[65] = "";
    struct run_request rq = sw->rq;
    rq.seed = seed;
    bool checked = seed_checked(sw, seed);
    double t0 = wall_now();
    int rc = checked || wants_trace ? sweep_judge_digest(&rq, &res, d1) : sweep_judge(&rq, NULL, NULL, &res);
    wants_trace = res.n_checker_expect > 0;
    char kind[256];
    sweep_failure_kind(&res, rc, kind, sizeof kind);
    if (checked) {
        int rc2 = sweep_judge_digest(&rq, &again, d2);
        if (rc2 != rc || strcmp(d1, d2) != 0)
            snprintf(kind, sizeof kind, "nondeterministic");
    }
    result_line(j, sw, seed, rc, &res, kind, checked, d1, d2, wall_now() - t0);
}

static int write_all(int fd, const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A worker: read seed indices (8 bytes each) until end of file, answer
 * each with its result line. Never returns. */
static void worker_main(const struct sweep *sw, int cmd_fd, int res_fd)
{
    jw j;
    jw_init(&j);
    for (;;) {
        uint64_t index;
        size_t got = 0;
        while (got < sizeof index) {
            ssize_t r = read(cmd_fd, (char *)&index + got, sizeof index - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                _exit(0);
            got += (size_t)r;
        }
        run_seed(sw, seed_at(sw, index), &j);
        jw_append(&j, "\n", 1);
        if (write_all(res_fd, j.buf, j.len) < 0)
            _exit(0);
    }
}

/* ---- the pool of workers, in the parent ------------------------------------------------ */

#define INFLIGHT 2          /* seeds handed to a worker ahead, so it never waits */
#define WINDOW 4096         /* results held back for seed order at most */

struct worker {
    pid_t pid;              /* 0 = not running */
    int cmd_fd, res_fd;
    uint64_t queue[INFLIGHT];
    int queued;
    char *buf;
    size_t len, cap;
};

struct pool {
    struct sweep *sw;
    struct worker *w;
    int n;
    uint64_t next_assign, next_write;
    uint64_t *requeue;      /* indices of seeds whose worker died before them */
    size_t n_requeue, cap_requeue;
    char **slot;            /* WINDOW result lines, by index mod WINDOW */
    bool stopping;
    uint64_t received, failures_seen;
    /* output */
    FILE *out;
    sweep_summary *summary;
    bool write_error;
    bool traces_dir;        /* traces/ exists for the replay commands */
    /* progress */
    double start, last_progress;
    bool tty;
    bool progress_drawn;
};

static int spawn_worker(struct pool *p, struct worker *w)
{
    int cmd[2], res[2];
    if (pipe(cmd) < 0)
        return -1;
    if (pipe(res) < 0) {
        close(cmd[0]);
        close(cmd[1]);
        return -1;
    }
    fflush(NULL);   /* nothing buffered may be written twice */
    pid_t pid = fork();
    if (pid < 0) {
        close(cmd[0]); close(cmd[1]); close(res[0]); close(res[1]);
        return -1;
    }
    if (pid == 0) {
        signal(SIGPIPE, SIG_DFL);
        /* hold no other worker's pipe open, or its end of file never comes */
        for (int i = 0; i < p->n; i++)
            if (p->w[i].pid > 0) {
                close(p->w[i].cmd_fd);
                close(p->w[i].res_fd);
            }
        if (p->out && p->out != stdout)
            close(fileno(p->out));
        close(cmd[1]);
        close(res[0]);
        worker_main(p->sw, cmd[0], res[1]);
    }
    close(cmd[0]);
    close(res[1]);
    *w = (struct worker){ .pid = pid, .cmd_fd = cmd[1], .res_fd = res[0] };
    return 0;
}

static bool next_index(struct pool *p, uint64_t *index)
{
    if (p->stopping)
        return false;
    if (p->n_requeue) {
        *index = p->requeue[--p->n_requeue];
        return true;
    }
    if (p->next_assign >= p->sw->count || p->next_assign - p->next_write >= WINDOW)
        return false;
    *index = p->next_assign++;
    return true;
}

static void feed(struct pool *p, struct worker *w)
{
    uint64_t index;
    while (w->pid > 0 && w->queued < INFLIGHT && next_index(p, &index)) {
        if (write_all(w->cmd_fd, (const char *)&index, sizeof index) < 0) {
            /* it died; its end of file will come and requeue what it had */
            SIM_GROW(p->requeue, p->cap_requeue, p->n_requeue + 1);
            p->requeue[p->n_requeue++] = index;
            return;
        }
        w->queue[w->queued++] = index;
    }
}

static bool line_failed(const char *line)
{
    return strstr(line, ",\"failure\":null,") == NULL;
}

/* Write the lines that are next in seed order. */
static void flush_in_order(struct pool *p)
{
    while (!p->stopping && p->next_write < p->sw->count) {
        char **slot = &p->slot[p->next_write % WINDOW];
        if (!*slot)
            return;
        char *line = *slot;
        *slot = NULL;
        if (fputs(line, p->out) == EOF || fputc('\n', p->out) == EOF)
            p->write_error = true;
        cJSON *obj = cJSON_Parse(line);
        if (obj)
            sweep_summary_add(p->summary, obj);
        cJSON_Delete(obj);
        p->next_write++;
        if (line_failed(line) && !p->traces_dir) {
            /* the replay commands write their traces there */
            p->traces_dir = true;
            if (mkdir("traces", 0755) < 0 && errno != EEXIST)
                cli_error("sweep: cannot create directory traces (for the replay commands): %s", strerror(errno));
        }
        if (p->sw->stop_on_failure && line_failed(line)) {
            p->stopping = true;
            sweep_summary_stopped(p->summary);
        }
        sim_free(line);
    }
}

static void store_result(struct pool *p, uint64_t index, char *line)
{
    char **slot = &p->slot[index % WINDOW];
    if (*slot)   /* cannot happen: an index is in flight once */
        sim_free(*slot);
    *slot = line;
    p->received++;
    if (line_failed(line))
        p->failures_seen++;
}

/* The worker running seed `index` died: that seed is a failure of its own
 * kind (sim itself crashed); the seeds queued behind it go to others. */
static void worker_died(struct pool *p, struct worker *w)
{
    int status = 0;
    close(w->cmd_fd);
    close(w->res_fd);
    waitpid(w->pid, &status, 0);
    w->pid = 0;
    if (w->queued == 0)
        return;
    uint64_t seed = seed_at(p->sw, w->queue[0]);
    char why[160];
    if (WIFSIGNALED(status))
        snprintf(why, sizeof why, "the worker process running this seed died of signal %d (%s)",
                 WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(why, sizeof why, "the worker process running this seed exited with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    jw j;
    jw_init(&j);
    char seed_s[24];
    snprintf(seed_s, sizeof seed_s, "%" PRIu64, seed);
    jw_obj(&j);
    jw_kstr(&j, "seed", seed_s);
    jw_kstr(&j, "failure", "sim_crashed");
    jw_kint(&j, "exit", SIM_EXIT_INTERNAL);
    jw_key(&j, "verdicts");
    jw_obj(&j);
    jw_obj_end(&j);
    jw_kstr(&j, "why", why);
    char *replay = sweep_replay_command(&p->sw->rq, seed);
    jw_kstr(&j, "replay", replay);
    sim_free(replay);
    if (!p->sw->no_wall) {
        jw_key(&j, "wall");
        jw_raw(&j, "0", 1);
    }
    jw_obj_end(&j);
    store_result(p, w->queue[0], sim_xstrdup(j.buf));
    jw_free(&j);
    for (int i = w->queued - 1; i >= 1; i--) {
        SIM_GROW(p->requeue, p->cap_requeue, p->n_requeue + 1);
        p->requeue[p->n_requeue++] = w->queue[i];
    }
    w->queued = 0;
}

/* Read what worker w sent; false once it has ended. */
static bool read_worker(struct pool *p, struct worker *w)
{
    SIM_GROW(w->buf, w->cap, w->len + 65536);
    ssize_t r = read(w->res_fd, w->buf + w->len, w->cap - w->len);
    if (r < 0 && errno == EINTR)
        return true;
    if (r <= 0) {
        worker_died(p, w);
        return false;
    }
    w->len += (size_t)r;
    size_t start = 0;
    for (size_t i = 0; i < w->len; i++) {
        if (w->buf[i] != '\n')
            continue;
        w->buf[i] = '\0';
        if (w->queued > 0) {
            store_result(p, w->queue[0], sim_xstrdup(w->buf + start));
            memmove(w->queue, w->queue + 1, (size_t)(w->queued - 1) * sizeof *w->queue);
            w->queued--;
        }
        start = i + 1;
    }
    memmove(w->buf, w->buf + start, w->len - start);
    w->len -= start;
    return true;
}

/* ---- progress --------------------------------------------------------------------------- */

static void format_eta(double seconds, char *out, size_t n)
{
    if (seconds < 0 || seconds > 1e7)
        snprintf(out, n, "?");
    else if (seconds < 60)
        snprintf(out, n, "%.0fs", seconds);
    else if (seconds < 3600)
        snprintf(out, n, "%dm%02ds", (int)seconds / 60, (int)seconds % 60);
    else
        snprintf(out, n, "%dh%02dm", (int)seconds / 3600, (int)seconds % 3600 / 60);
}

/* Wall-clock figures are shown here and never written into the results. */
static void show_progress(struct pool *p, bool final)
{
    if (p->sw->quiet)
        return;
    double now = wall_now();
    if (p->tty ? (!final && now - p->last_progress < 0.1)
               : (final || p->sw->progress_every <= 0 || now - p->last_progress < p->sw->progress_every))
        return;
    p->last_progress = now;
    uint64_t total = p->sw->count, done = p->received;
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char eta[32];
    format_eta(rate > 0 ? (double)(total - done) / rate : -1, eta, sizeof eta);
    if (p->tty) {
        enum { BAR = 24 };
        char bar[BAR + 1];
        int fill = total ? (int)((double)done / (double)total * BAR) : BAR;
        for (int i = 0; i < BAR; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR] = '\0';
        fprintf(stderr, "\r[%s] seeds %" PRIu64 "/%" PRIu64 "  %.1f seeds/s  failures %" PRIu64 "  ETA %s\033[K",
                bar, done, total, rate, p->failures_seen, eta);
        if (final)
            fputc('\n', stderr);
        p->progress_drawn = true;
    } else {
        fprintf(stderr, "sweep: seeds %" PRIu64 "/%" PRIu64 ", %.1f seeds/s, %" PRIu64 " failures, ETA %s\n",
                done, total, rate, p->failures_seen, eta);
    }
    fflush(stderr);
}

/* ---- running the pool ------------------------------------------------------------------------ */

static bool work_left(const struct pool *p)
{
    return !p->stopping && (p->n_requeue > 0 || p->next_assign < p->sw->count);
}

/* Run every seed of the sweep; results go to p->out and p->summary. */
static int run_pool(struct pool *p)
{
    struct sweep *sw = p->sw;
    p->n = sw->jobs;
    p->w = sim_xcalloc((size_t)p->n, sizeof *p->w);
    p->slot = sim_xcalloc(WINDOW, sizeof *p->slot);
    struct pollfd *fds = sim_xcalloc((size_t)p->n, sizeof *fds);
    int *who = sim_xcalloc((size_t)p->n, sizeof *who);
    int rc = 0;
    for (int i = 0; i < p->n; i++)
        if (spawn_worker(p, &p->w[i]) < 0) {
            cli_error("sweep: cannot start a worker process: %s", strerror(errno));
            rc = SIM_EXIT_INTERNAL;
            goto stop;
        }
    for (int i = 0; i < p->n; i++)
        feed(p, &p->w[i]);

    while (!p->stopping && p->next_write < sw->count) {
        int nfds = 0;
        for (int i = 0; i < p->n; i++)
            if (p->w[i].pid > 0) {
                fds[nfds] = (struct pollfd){ .fd = p->w[i].res_fd, .events = POLLIN };
                who[nfds++] = i;
            }
        if (nfds == 0) {
            /* every worker died with nothing queued: start fresh ones */
            for (int i = 0; i < p->n && work_left(p); i++) {
                if (spawn_worker(p, &p->w[i]) < 0) {
                    cli_error("sweep: cannot start a worker process: %s", strerror(errno));
                    rc = SIM_EXIT_INTERNAL;
                    goto stop;
                }
                feed(p, &p->w[i]);
            }
            if (!work_left(p) && p->next_write < sw->count) {
                cli_error("sweep: internal error: seeds left with no worker running them");
                rc = SIM_EXIT_INTERNAL;
                goto stop;
            }
            continue;
        }
        int ready = poll(fds, (nfds_t)nfds, 200);
        if (ready < 0 && errno != EINTR) {
            cli_error("sweep: poll: %s", strerror(errno));
            rc = SIM_EXIT_INTERNAL;
            goto stop;
        }
        for (int k = 0; k < nfds && ready > 0; k++) {
            if (!(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            struct worker *w = &p->w[who[k]];
            if (!read_worker(p, w) && work_left(p)) {
                if (spawn_worker(p, w) < 0) {
                    cli_error("sweep: cannot start a worker process: %s", strerror(errno));
                    rc = SIM_EXIT_INTERNAL;
                    goto stop;
                }
            }
        }
        flush_in_order(p);
        for (int i = 0; i < p->n; i++)
            feed(p, &p->w[i]);
        show_progress(p, false);
    }
stop:
    /* Stopped early: the seeds still running are not wanted. The workers
     * are ours, so they are ended by pid, one at a time. */
    for (int i = 0; i < p->n; i++) {
        struct worker *w = &p->w[i];
        if (w->pid <= 0)
            continue;
        close(w->cmd_fd);
        if (p->stopping || rc)
            kill(w->pid, SIGTERM);
        close(w->res_fd);
        waitpid(w->pid, NULL, 0);
        w->pid = 0;
    }
    if (p->progress_drawn || (!rc && !p->sw->quiet && p->tty))
        show_progress(p, true);
    for (int i = 0; i < p->n; i++)
        sim_free(p->w[i].buf);
    for (int i = 0; i < WINDOW; i++)
        sim_free(p->slot[i]);
    sim_free(p->slot);
    sim_free(p->w);
    sim_free(p->requeue);
    sim_free(fds);
    sim_free(who);
    return rc;
}

/* ---- the results header ------------------------------------------------------------------------ */

static cJSON *make_header(const struct sweep *sw, const char *sha)
{
    cJSON *h = cJSON_CreateObject();
    char buf[64];
    cJSON_AddNumberToObject(h, "sweep", 1);
    cJSON_AddStringToObject(h, "sim_version", SIM_VERSION);
    cJSON_AddStringToObject(h, "scenario", sw->rq.scenario);
    cJSON_AddStringToObject(h, "scenario_sha256", sha);
    snprintf(buf, sizeof buf, "%" PRIu64 "..%" PRIu64, sw->first, sw->last);
    cJSON_AddStringToObject(h, "seeds", buf);
    if (sw->shard_n > 1) {
        snprintf(buf, sizeof buf, "%" PRIu64 "/%" PRIu64, sw->shard_k, sw->shard_n);
        cJSON_AddStringToObject(h, "shard", buf);
    }
    cJSON *params = cJSON_AddObjectToObject(h, "params");
    for (int i = 0; i < sw->rq.n_params; i++)
        cJSON_AddStringToObject(params, sw->rq.params[i].name, sw->rq.params[i].value);
    cJSON_AddBoolToObject(h, "swarm", sw->rq.swarm);
    cJSON_AddNumberToObject(h, "check_determinism", sw->check_determinism);
    cJSON *lim = cJSON_AddObjectToObject(h, "limits");
    if (sw->rq.max_events)
        cJSON_AddNumberToObject(lim, "max_events", (double)sw->rq.max_events);
    if (sw->rq.limits.instructions)
        cJSON_AddNumberToObject(lim, "instructions", (double)sw->rq.limits.instructions);
    if (sw->rq.limits.memory)
        cJSON_AddNumberToObject(lim, "memory", (double)sw->rq.limits.memory);
    if (sw->rq.keep_going)
        cJSON_AddBoolToObject(lim, "keep_going", 1);
    return h;
}

static FILE *open_out(const char *path, char *shown, size_t n)
{
    if (strcmp(path, "-") == 0) {
        snprintf(shown, n, "standard output");
        return stdout;
    }
    snprintf(shown, n, "%s", path);
    return fopen(path, "w");
}

/* ---- option parsing --------------------------------------------------------------------------- */

static bool parse_range(const char *text, uint64_t *a, uint64_t *b)
{
    char buf[64];
    if (strlen(text) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", text);
    char *dots = strstr(buf, "..");
    if (!dots)
        return cli_parse_u64(buf, a) && (*b = *a, true);
    *dots = 0;
    return cli_parse_u64(buf, a) && cli_parse_u64(dots + 2, b);
}

static bool parse_shard(const char *text, uint64_t *k, uint64_t *n)
{
    char buf[64];
    if (strlen(text) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    if (!slash)
        return false;
    *slash = 0;
    return cli_parse_u64(buf, k) && cli_parse_u64(slash + 1, n) && *n >= 1 && *k >= 1 && *k <= *n;
}

static bool need_value(int argc, char **argv, int i)
{
    if (i + 1 >= argc) {
        cli_error("sweep: %s needs a value (see sim sweep --help)", argv[i]);
        return false;
    }
    return true;
}

/* ---- merge ----------------------------------------------------------------------------------- */

struct merged_line {
    uint64_t seed;
    char *text;
    int file;
};

static int merged_cmp(const void *pa, const void *pb)
{
    const struct merged_line *a = pa, *b = pb;
    return a->seed < b->seed ? -1 : a->seed > b->seed;
}

/* Whether two headers describe shards of one sweep: everything but the
 * shard must agree. */
static bool same_sweep(const cJSON *a, const cJSON *b, const char **what)
{
    static const char *const keys[] = { "scenario", "scenario_sha256", "seeds", "params", "swarm",
                                        "check_determinism", "limits", "sim_version", NULL };
    for (int i = 0; keys[i]; i++)
        if (!cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, keys[i]),
                           cJSON_GetObjectItemCaseSensitive(b, keys[i]), true)) {
            *what = keys[i];
            return false;
        }
    return true;
}

static int cmd_merge(char **files, int n_files, const char *out_path, const char *junit_path)
{
    int rc = SIM_EXIT_OK;
    cJSON *header = NULL;
    struct merged_line *lines = NULL;
    size_t n_lines = 0, cap_lines = 0;
    char *buf = NULL;
    size_t cap = 0;
    sweep_summary *sum = NULL;
    uint64_t shard_n = 0;
    uint64_t *shards_seen = NULL;
    FILE *out = NULL;

    for (int f = 0; f < n_files && rc == SIM_EXIT_OK; f++) {
        FILE *in = fopen(files[f], "r");
        if (!in) {
            cli_error("sweep: cannot read %s: %s", files[f], strerror(errno));
            rc = SIM_EXIT_IO;
            break;
        }
        int complete;
        long len = trace_getline(in, &buf, &cap, &complete);
        cJSON *h = len >= 0 ? cJSON_Parse(buf) : NULL;
        if (!h || !cJSON_GetObjectItemCaseSensitive(h, "sweep") || !cJSON_GetObjectItemCaseSensitive(h, "seeds")) {
            cli_error("sweep: %s is not a sim sweep results file (its first line is not a sweep header)", files[f]);
            cJSON_Delete(h);
            fclose(in);
            rc = SIM_EXIT_BAD_TRACE;
            break;
        }
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(h, "shard");
        uint64_t k = 1, n = 1;
        if (cJSON_IsString(sh) && !parse_shard(sh->valuestring, &k, &n)) {
            cli_error("sweep: %s: bad shard \"%s\" in its header", files[f], sh->valuestring);
            rc = SIM_EXIT_BAD_TRACE;
        }
        const char *what = NULL;
        if (rc == SIM_EXIT_OK && header && !same_sweep(header, h, &what)) {
            cli_error("sweep: %s and %s are not shards of one sweep: their %s differ", files[0], files[f], what);
            rc = SIM_EXIT_USAGE;
        }
        if (rc == SIM_EXIT_OK && shard_n && n != shard_n) {
            cli_error("sweep: %s is shard %" PRIu64 "/%" PRIu64 " but %s was cut in %" PRIu64, files[f], k, n,
                      files[0], shard_n);
            rc = SIM_EXIT_USAGE;
        }
        if (rc == SIM_EXIT_OK) {
            if (!shard_n) {
                shard_n = n;
                shards_seen = sim_xcalloc((size_t)(n < 1000000 ? n : 1000000) + 1, sizeof *shards_seen);
            }
            if (k < 1000000 && shards_seen[k]) {
                cli_error("sweep: shard %" PRIu64 "/%" PRIu64 " is given twice (%s and %s)", k, n,
                          files[shards_seen[k] - 1], files[f]);
                rc = SIM_EXIT_USAGE;
            } else if (k < 1000000)
                shards_seen[k] = (uint64_t)f + 1;
        }
        if (!header && rc == SIM_EXIT_OK)
            header = h;
        else
            cJSON_Delete(h);
        long lineno = 1;
        while (rc == SIM_EXIT_OK && (len = trace_getline(in, &buf, &cap, &complete)) >= 0) {
            lineno++;
            if (len == 0)
                continue;
            cJSON *o = cJSON_Parse(buf);
            uint64_t seed;
            const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "seed");
            if (!o || !cJSON_IsString(s) || !cli_parse_u64(s->valuestring, &seed)) {
                cli_error("sweep: %s:%ld: not a sweep result line%s", files[f], lineno,
                          complete ? "" : " (the file ends in the middle of a line)");
                cJSON_Delete(o);
                rc = SIM_EXIT_BAD_TRACE;
                break;
            }
            cJSON_Delete(o);
            SIM_GROW(lines, cap_lines, n_lines + 1);
            lines[n_lines++] = (struct merged_line){ .seed = seed, .text = sim_xstrdup(buf), .file = f };
        }
        fclose(in);
    }
    if (rc != SIM_EXIT_OK)
        goto out;
    qsort(lines, n_lines, sizeof *lines, merged_cmp);
    for (size_t i = 1; i < n_lines; i++)
        if (lines[i].seed == lines[i - 1].seed) {
            cli_error("sweep: seed %" PRIu64 " has a result in %s and in %s: shards must not overlap",
                      lines[i].seed, files[lines[i - 1].file], files[lines[i].file]);
            rc = SIM_EXIT_USAGE;
            goto out;
        }
    cJSON_DeleteItemFromObjectCaseSensitive(header, "shard");
    sum = sweep_summary_new(header, junit_path != NULL);
    char shown[1100];
    if (out_path) {
        out = open_out(out_path, shown, sizeof shown);
        if (!out) {
            cli_error("sweep: cannot write %s: %s", out_path, strerror(errno));
            rc = SIM_EXIT_IO;
            goto out;
        }
        char *h = cJSON_PrintUnformatted(header);
        fprintf(out, "%s\n", h);
        cJSON_free(h);
    }
    for (size_t i = 0; i < n_lines; i++) {
        cJSON *o = cJSON_Parse(lines[i].text);
        sweep_summary_add(sum, o);
        cJSON_Delete(o);
        if (out)
            fprintf(out, "%s\n", lines[i].text);
    }
    if (out && out != stdout && fclose(out) != 0) {
        out = NULL;
        cli_error("sweep: cannot write %s: %s", out_path, strerror(errno));
        rc = SIM_EXIT_IO;
        goto out;
    }
    FILE *summary_out = out == stdout ? stderr : stdout;
    out = NULL;
    sweep_summary_print(sum, summary_out, NULL);
    if (junit_path && sweep_summary_junit(sum, junit_path) < 0) {
        cli_error("sweep: cannot write %s: %s", junit_path, strerror(errno));
        rc = SIM_EXIT_IO;
        goto out;
    }
    if (sweep_summary_failed(sum) > 0 && mkdir("traces", 0755) < 0 && errno != EEXIST)
        cli_error("sweep: cannot create directory traces (for the replay commands): %s", strerror(errno));
    if (sweep_summary_failed(sum) > 0 || sweep_summary_done(sum) < sweep_summary_expected(sum))
        rc = SIM_EXIT_FAILED;
out:
    if (out && out != stdout)
        fclose(out);
    for (size_t i = 0; i < n_lines; i++)
        sim_free(lines[i].text);
    sim_free(lines);
    sim_free(buf);
    sim_free(shards_seen);
    cJSON_Delete(header);
    sweep_summary_free(sum);
    return rc;
}

/* ---- sim sweep ----------------------------------------------------------------------------------- */

static void default_out_path(const struct sweep *sw, char *out, size_t n)
{
    const char *base = strrchr(sw->rq.scenario, '/');
    base = base ? base + 1 : sw->rq.scenario;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".lua") == 0)
        len -= 4;
    int w = snprintf(out, n, "sweeps/%.*s-seeds%" PRIu64 "-%" PRIu64, (int)len, base, sw->first, sw->last);
    if (sw->shard_n > 1 && w > 0 && (size_t)w < n)
        w += snprintf(out + w, n - (size_t)w, "-shard%" PRIu64 "of%" PRIu64, sw->shard_k, sw->shard_n);
    if (w > 0 && (size_t)w < n)
        snprintf(out + w, n - (size_t)w, ".jsonl");
}

int cmd_sweep(int argc, char **argv)
{
    if (cli_wants_help(&cli_sweep, argc, argv))
        return SIM_EXIT_OK;
    struct sweep sw = { .shard_k = 1, .shard_n = 1, .progress_every = 5 };
    bool have_seeds = false;
    int rc = SIM_EXIT_USAGE;
    char **merge_files = NULL;
    int n_merge = 0;
    bool merge = false;
    sw.rq.params = sim_xcalloc((size_t)argc, sizeof *sw.rq.params);
    merge_files = sim_xcalloc((size_t)argc, sizeof *merge_files);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (strcmp(a, "--merge") == 0) {
            merge = true;
        } else if (strcmp(a, "--seeds") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            if (!parse_range(argv[++i], &sw.first, &sw.last) || sw.last < sw.first) {
                cli_error("sweep: --seeds needs A..B with whole numbers A <= B (or one seed N), got \"%s\"", argv[i]);
                goto out;
            }
            if (sw.last - sw.first == UINT64_MAX) {
                cli_error("sweep: --seeds %s is every 64-bit seed: choose a smaller range", argv[i]);
                goto out;
            }
            have_seeds = true;
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--jobs") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            if (!cli_parse_u64(argv[++i], &v) || v < 1 || v > 1024) {
                cli_error("sweep: %s needs a number of workers from 1 to 1024, got \"%s\"", a, argv[i]);
                goto out;
            }
            sw.jobs = (int)v;
        } else if (strncmp(a, "-j", 2) == 0 && a[2]) {
            if (!cli_parse_u64(a + 2, &v) || v < 1 || v > 1024) {
                cli_error("sweep: -j needs a number of workers from 1 to 1024, got \"%s\"", a + 2);
                goto out;
            }
            sw.jobs = (int)v;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            sw.out_path = argv[++i];
        } else if (strcmp(a, "--junit") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            sw.junit_path = argv[++i];
        } else if (strcmp(a, "--stop-on-failure") == 0) {
            sw.stop_on_failure = true;
        } else if (strcmp(a, "--swarm") == 0) {
            sw.rq.swarm = true;
        } else if (strcmp(a, "--keep-going") == 0) {
            sw.rq.keep_going = true;
        } else if (strcmp(a, "--no-wall") == 0) {
            sw.no_wall = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            sw.quiet = true;
        } else if (strcmp(a, "--check-determinism") == 0 || strcmp(a, "--progress-every") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            char *end = NULL;
            double d = strtod(argv[++i], &end);
            bool fraction = strcmp(a, "--check-determinism") == 0;
            if (!end || *end || end == argv[i] || !(d >= 0) || (fraction && d > 1) || d > 1e6) {
                cli_error("sweep: %s needs %s, got \"%s\"", a,
                          fraction ? "a fraction from 0 to 1 (0.1 = one seed in ten)" : "a number of seconds",
                          argv[i]);
                goto out;
            }
            if (fraction)
                sw.check_determinism = d;
            else
                sw.progress_every = d;
        } else if (strcmp(a, "--shard") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            if (!parse_shard(argv[++i], &sw.shard_k, &sw.shard_n)) {
                cli_error("sweep: --shard needs K/N with 1 <= K <= N, got \"%s\"", argv[i]);
                goto out;
            }
        } else if (strcmp(a, "--param") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            char *kv = argv[++i];
            char *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                cli_error("sweep: --param needs NAME=VALUE, got \"%s\"", kv);
                goto out;
            }
            *eq = 0;
            for (int k = 0; k < sw.rq.n_params; k++)
                if (strcmp(sw.rq.params[k].name, kv) == 0) {
                    cli_error("sweep: --param %s is given twice", kv);
                    goto out;
                }
            sw.rq.params[sw.rq.n_params].name = kv;
            sw.rq.params[sw.rq.n_params].value = eq + 1;
            sw.rq.n_params++;
        } else if (strcmp(a, "--max-events") == 0 || strcmp(a, "--budget") == 0 || strcmp(a, "--memory") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            if (!cli_parse_u64(argv[++i], &v) || v == 0) {
                cli_error("sweep: %s needs a whole number above 0, got \"%s\"", a, argv[i]);
                goto out;
            }
            if (strcmp(a, "--max-events") == 0)
                sw.rq.max_events = v;
            else if (strcmp(a, "--budget") == 0)
                sw.rq.limits.instructions = v;
            else if (v > (1u << 20)) {
                cli_error("sweep: --memory is in MiB and at most 1048576, got %" PRIu64, v);
                goto out;
            } else
                sw.rq.limits.memory = (size_t)v << 20;
        } else if (a[0] == '-' && a[1] != 0) {
            cli_error("sweep: unknown option %s (see sim sweep --help)", a);
            goto out;
        } else if (merge) {
            merge_files[n_merge++] = argv[i];
        } else if (!sw.rq.scenario) {
            sw.rq.scenario = a;
        } else {
            cli_error("sweep: one scenario at a time, got \"%s\" and \"%s\" (to merge results: --merge FILE...)",
                      sw.rq.scenario, a);
            goto out;
        }
    }
    if (merge) {
        if (sw.rq.scenario && n_merge == 0) {
            merge_files[n_merge++] = (char *)sw.rq.scenario;
            sw.rq.scenario = NULL;
        }
        if (sw.rq.scenario || have_seeds) {
            cli_error("sweep: --merge reads result files; it takes no scenario or --seeds");
            goto out;
        }
        if (n_merge == 0) {
            cli_error("sweep: --merge needs the result files of the shards");
            goto out;
        }
        rc = cmd_merge(merge_files, n_merge, sw.out_path, sw.junit_path);
        goto out;
    }
    if (!sw.rq.scenario || !have_seeds) {
        cli_error("sweep: usage: sim sweep SCENARIO --seeds A..B [-j N] [--out FILE] (see sim sweep --help)");
        goto out;
    }
    uint64_t span = sw.last - sw.first;
    sw.count = sw.shard_k - 1 > span ? 0 : (span - (sw.shard_k - 1)) / sw.shard_n + 1;
    sw.check_all = sw.check_determinism >= 1;
    sw.check_threshold = (uint64_t)(sw.check_determinism * 18446744073709551616.0 * (1 - 1e-16));
    if (sw.check_determinism <= 0)
        sw.check_threshold = 0;

    char sha[65], err[512];
    struct stat st;
    if (stat(sw.rq.scenario, &st) == 0 && S_ISDIR(st.st_mode)) {
        cli_error("cannot read scenario %s: %s", sw.rq.scenario, strerror(EISDIR));
        rc = SIM_EXIT_IO;
        goto out;
    }
    if (cli_sha256_file(sw.rq.scenario, sha, err, sizeof err) != 0) {
        cli_error("%s", err);
        rc = SIM_EXIT_IO;
        goto out;
    }
    if (!sw.jobs) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        sw.jobs = cpus > 0 ? (int)(cpus < 1024 ? cpus : 1024) : 1;
    }
    if ((uint64_t)sw.jobs > sw.count)
        sw.jobs = sw.count ? (int)sw.count : 1;
    sw.rq.quiet = true;

    char path[1024], shown[1100];
    if (!sw.out_path) {
        default_out_path(&sw, path, sizeof path);
        if (mkdir("sweeps", 0755) < 0 && errno != EEXIST) {
            cli_error("sweep: cannot create directory sweeps: %s", strerror(errno));
            rc = SIM_EXIT_IO;
            goto out;
        }
        sw.out_path = path;
    }
    FILE *out = open_out(sw.out_path, shown, sizeof shown);
    if (!out) {
        cli_error("sweep: cannot write %s: %s", sw.out_path, strerror(errno));
        rc = SIM_EXIT_IO;
        goto out;
    }
    cJSON *header = make_header(&sw, sha);
    char *htext = cJSON_PrintUnformatted(header);
    fprintf(out, "%s\n", htext);
    cJSON_free(htext);

    struct pool pool = {
        .sw = &sw,
        .out = out,
        .summary = sweep_summary_new(header, sw.junit_path != NULL),
        .tty = cli_is_tty(STDERR_FILENO),
    };
    cJSON_Delete(header);
    pool.start = pool.last_progress = wall_now();
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);   /* a dead worker's pipe is an error, not a kill */
    int prc = run_pool(&pool);
    signal(SIGPIPE, old_pipe);
    double elapsed = wall_now() - pool.start;

    bool write_failed = pool.write_error || ferror(out);
    if (out != stdout) {
        if (fclose(out) != 0)
            write_failed = true;
    } else if (fflush(out) != 0)
        write_failed = true;
    if (write_failed) {
        cli_error("sweep: cannot write %s: %s", shown, strerror(errno ? errno : EIO));
        rc = SIM_EXIT_IO;
    } else if (prc) {
        rc = prc;
    } else {
        char wall[160];
        uint64_t done = sweep_summary_done(pool.summary);
        snprintf(wall, sizeof wall, "%.2f s, %.1f seeds/s, %d worker%s", elapsed,
                 elapsed > 0 ? (double)done / elapsed : 0.0, sw.jobs, sw.jobs == 1 ? "" : "s");
        FILE *summary_out = out == stdout ? stderr : stdout;
        sweep_summary_print(pool.summary, summary_out, wall);
        if (out != stdout && !sw.quiet)
            fprintf(stderr, "results in %s\n", shown);
        rc = SIM_EXIT_OK;
        if (sw.junit_path && sweep_summary_junit(pool.summary, sw.junit_path) < 0) {
            cli_error("sweep: cannot write %s: %s", sw.junit_path, strerror(errno));
            rc = SIM_EXIT_IO;
        } else if (sweep_summary_failed(pool.summary) > 0) {
            rc = SIM_EXIT_FAILED;
            if (sweep_summary_scenario_errors(pool.summary) == done)
                rc = SIM_EXIT_SCENARIO;
        }
    }
    sweep_summary_free(pool.summary);
out:
    sim_free(sw.rq.params);
    sim_free(merge_files);
    return rc;
}
