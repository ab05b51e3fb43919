/* sweep_run: one seed judged as sim run judges it, and its failure kind. */
#include "sweep_run.h"
#include "core/alloc.h"
#include "core/exitcodes.h"
#include "trace/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- judging one run ---------------------------------------------------------- */

static bool invariant_expected(const struct lsim_result *res)
{
    for (int i = 0; i < res->n_expect; i++)
        if (strcmp(res->expect[i].name, "invariants") == 0 ||
            strcmp(res->expect[i].name, "invariant_violations") == 0)
            return true;
    return false;
}

/* The rules below are sim run's (cmd_run.c, cmd_run): a sweep or a shrink
 * that judged a seed differently from the replay command it prints would
 * send the user after a failure that does not reproduce. */
int sweep_judge(const struct run_request *rq, struct trace *tr, const char *trace_path,
                struct lsim_result *res)
{
    int rc = run_scenario(rq, tr, res);
    if (tr && trace_flush(tr) < 0) {
        snprintf(res->error, sizeof res->error, "cannot write the trace %s: %s",
                 trace_path ? trace_path : "(temporary)", strerror(errno));
        return res->exit_code = SIM_EXIT_IO;
    }
    if ((rc == SIM_EXIT_OK || rc == SIM_EXIT_FAILED) && res->n_checker_expect > 0) {
        char err[sizeof res->error];
        int crc = decide_expectations(rq, res, tr ? trace_path : NULL, err, sizeof err);
        if (crc) {
            snprintf(res->error, sizeof res->error, "%s", err);
            return res->exit_code = crc;
        }
        for (int i = 0; i < res->n_expect; i++)
            if (res->expect[i].checker && !res->expect[i].held)
                rc = res->exit_code = SIM_EXIT_FAILED;
    }
    if (res->halted && rc == SIM_EXIT_OK && !invariant_expected(res))
        rc = res->exit_code = SIM_EXIT_FAILED;
    return rc;
}

int sweep_judge_digest(const struct run_request *rq, struct lsim_result *res, char digest[65])
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof path, "%.480s/sim-sweep-XXXXXX", dir && *dir ? dir : "/tmp");
    digest[0] = '\0';
    int fd = mkstemp(path);
    if (fd < 0) {
        memset(res, 0, sizeof *res);
        snprintf(res->error, sizeof res->error, "cannot create a temporary trace in %.480s: %s",
                 dir && *dir ? dir : "/tmp", strerror(errno));
        return res->exit_code = SIM_EXIT_IO;
    }
    trace *tr = trace_open_fd(fd);
    int rc = sweep_judge(rq, tr, path, res);
    if (trace_close(tr) < 0 && rc != SIM_EXIT_IO) {
        snprintf(res->error, sizeof res->error, "cannot write the temporary trace %s: %s", path,
                 strerror(errno));
        rc = res->exit_code = SIM_EXIT_IO;
    }
    char err[512];
    if (rc != SIM_EXIT_IO && cli_sha256_file(path, digest, err, sizeof err) != 0) {
        snprintf(res->error, sizeof res->error, "%s", err);
        rc = res->exit_code = SIM_EXIT_IO;
    }
    close(fd);
    unlink(path);
    return rc;
}

/* ---- failure kinds ---------------------------------------------------------- */

bool sweep_expect_failed(const struct lsim_result *res, const char *name)
{
    for (int i = 0; i < res->n_expect; i++)
        if (!res->expect[i].held && strcmp(res->expect[i].name, name) == 0)
            return true;
    return false;
}

void sweep_failure_kind(const struct lsim_result *res, int exit_code, char *out, size_t outlen)
{
    out[0] = '\0';
    switch (exit_code) {
    case SIM_EXIT_OK:
        return;
    case SIM_EXIT_FAILED:
        break;
    case SIM_EXIT_SCENARIO:
        snprintf(out, outlen, "%s", strstr(res->error, "never settles") ? "event_limit" : "scenario_error");
        return;
    case SIM_EXIT_IO:
        snprintf(out, outlen, "io_error");
        return;
    case SIM_EXIT_INTERNAL:
        snprintf(out, outlen, "internal_error");
        return;
    default:
        snprintf(out, outlen, "exit_%d", exit_code);
        return;
    }
    /* A broken invariant stops the run, so the expectations that fail after
     * it (too few operations...) are its consequences, not other failures. */
    if (res->halted && !invariant_expected(res)) {
        snprintf(out, outlen, "invariant");
        return;
    }
    size_t len = (size_t)snprintf(out, outlen, "expect:");
    int listed = 0;
    for (int i = 0; i < res->n_expect && len < outlen; i++) {
        if (res->expect[i].held)
            continue;
        bool dup = false;   /* expect{} may be called twice with one name */
        for (int k = 0; k < i; k++)
            dup |= !res->expect[k].held && strcmp(res->expect[k].name, res->expect[i].name) == 0;
        if (dup)
            continue;
        len += (size_t)snprintf(out + len, outlen - len, "%s%s", listed ? "+" : "", res->expect[i].name);
        listed++;
    }
    if (!listed)
        snprintf(out, outlen, "failed");
}

/* ---- replay commands ------------------------------------------------------------ */

static void append(char **buf, size_t *cap, const char *s)
{
    size_t len = *buf ? strlen(*buf) : 0;
    size_t n = strlen(s);
    SIM_GROW(*buf, *cap, len + n + 1);
    memcpy(*buf + len, s, n + 1);
}

void sweep_shell_word(char **buf, size_t *cap, const char *s)
{
    bool plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%", *p) != NULL;
    if (plain) {
        append(buf, cap, s);
        return;
    }
    append(buf, cap, "'");
    for (const char *p = s; *p; p++) {
        char one[2] = { *p, 0 };
        append(buf, cap, *p == '\'' ? "'\\''" : one);
    }
    append(buf, cap, "'");
}

void sweep_trace_path(const char *scenario, uint64_t seed, char *out, size_t outlen)
{
    const char *base = strrchr(scenario, '/');
    base = base ? base + 1 : scenario;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".lua") == 0)
        len -= 4;
    snprintf(out, outlen, "traces/%.*s-seed%" PRIu64 ".jsonl", (int)len, base, seed);
}

char *sweep_replay_command(const struct run_request *rq, uint64_t seed)
{
    char *buf = NULL;
    size_t cap = 0;
    char tmp[1200];
    append(&buf, &cap, "sim run ");
    sweep_shell_word(&buf, &cap, rq->scenario);
    snprintf(tmp, sizeof tmp, " --seed %" PRIu64 " --trace ", seed);
    append(&buf, &cap, tmp);
    sweep_trace_path(rq->scenario, seed, tmp, sizeof tmp);
    sweep_shell_word(&buf, &cap, tmp);
    for (int i = 0; i < rq->n_params; i++) {
        append(&buf, &cap, " --param ");
        snprintf(tmp, sizeof tmp, "%s=%s", rq->params[i].name, rq->params[i].value);
        sweep_shell_word(&buf, &cap, tmp);
    }
    if (rq->swarm)
        append(&buf, &cap, " --swarm");
    if (rq->keep_going)
        append(&buf, &cap, " --keep-going");
    if (rq->max_events) {
        snprintf(tmp, sizeof tmp, " --max-events %" PRIu64, rq->max_events);
        append(&buf, &cap, tmp);
    }
    if (rq->limits.instructions) {
        snprintf(tmp, sizeof tmp, " --budget %" PRIu64, (uint64_t)rq->limits.instructions);
        append(&buf, &cap, tmp);
    }
    if (rq->limits.memory) {
        snprintf(tmp, sizeof tmp, " --memory %zu", (size_t)(rq->limits.memory >> 20));
        append(&buf, &cap, tmp);
    }
    return buf;
}
