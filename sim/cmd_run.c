/* sim run: run one scenario with one seed, write its trace, print a summary. */
#include "cli.h"
#include "check/checker.h"
#include "check/history.h"
#include "check/slo.h"
#include "explain.h"
#include "core/exitcodes.h"
#include "core/alloc.h"
#include "trace/trace.h"
#include "sim_version.h"

#include <cjson/cJSON.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char run_help[] =
    "usage: sim run SCENARIO [options]\n"
    "\n"
    "Run the Lua scenario SCENARIO against a simulated cluster and write a\n"
    "JSON Lines trace. The same scenario and seed always give the same trace.\n"
    "\n"
    "options:\n"
    "  --seed N           the run's seed (default 1); every random draw derives from it\n"
    "  --trace FILE       where the trace goes (default traces/NAME-seedN.jsonl; - = stdout)\n"
    "  --no-trace         write no trace (fastest; for sweeps)\n"
    "  --explain          class mode: tell the run in plain words as it happens (faults,\n"
    "                     new leaders, failed operations, stale reads); see docs/course/\n"
    "  --param NAME=VALUE override a model parameter, or a value the scenario reads\n"
    "                     with param(NAME, default); may be repeated\n"
    "  --quiet            print nothing but errors; print() in the scenario stays silent\n"
    "  --max-events N     stop a run that processes more than N events (default 2e8)\n"
    "  --swarm            draw the nemesis intensity and fault kinds and the network's\n"
    "                     latency, loss, duplication and reordering from the seed, so\n"
    "                     a sweep explores many configurations (see docs/sweep.md)\n"
    "  --keep-going       run on after a model invariant breaks (by default the run\n"
    "                     stops at the first violation and shows the events before it)\n"
    "  --budget N         Lua instruction budget for the script (default 2e8)\n"
    "  --memory MIB       Lua memory limit in MiB (default 256)\n"
    "\n"
    "With --trace - the trace goes to standard output and the summary to\n"
    "standard error, so standard output stays valid JSON Lines.\n"
    "\n"
    "Expectations naming a checker (expect{ linearizable = false }, pacelc = ...)\n"
    "are decided after the run by that checker on the trace, as sim check would;\n"
    "with --no-trace or --trace - the run is repeated into a temporary trace for\n"
    "them (the same seed gives the same run). Their verdicts are in the summary,\n"
    "not in the trace. expect{ slo = { availability = 0.999, p99 = ms(50) } }\n"
    "states a service-level objective, judged the same way on the client\n"
    "operations; the verdict gives the figures and the worst window\n"
    "(docs/lua-api.md).\n"
    "\n"
    "A broken model invariant stops the run there; the trace's \"invariant\" line\n"
    "and the summary show it with the last node events before it. Unless an\n"
    "expectation names invariants (expect{ invariants = false }), that is exit 1.\n"
    "\n"
    "exit codes: 0 every expectation held, 1 an expectation failed or an invariant\n"
    "broke, 2 usage,\n"
    "4 scenario error, 5 file error, 70 internal error (see sim --help).\n";

const struct cli_command cli_run = {
    "run", "run a scenario: sim run SCENARIO [--seed N] [--trace FILE] [--param K=V]...",
    run_help, cmd_run, NULL,
};

/* ---- the header and the run ------------------------------------------------ */

/* The names of the registered checkers, for expect{}; NULL-terminated. */
static const char *const *checker_names(void)
{
    static const char *names[65];
    if (!names[0]) {
        int n = 0;
        for (int i = 0; checkers[i] && n < 64; i++)
            names[n++] = checkers[i]->name;
        names[n] = NULL;
    }
    return names;
}

int run_scenario(const struct run_request *rq, struct trace *tr, struct lsim_result *res)
{
    char sha[65] = "";
    char err[512];
    memset(res, 0, sizeof *res);
    int rc = cli_sha256_file(rq->scenario, sha, err, sizeof err);
    if (rc) {
        res->exit_code = rc;
        snprintf(res->error, sizeof res->error, "%s", err);
        return rc;
    }
    if (tr) {
        jw *j = trace_begin(tr, -1, "header");
        jw_kint(j, "format", TRACE_FORMAT_VERSION);
        jw_kstr(j, "sim_version", SIM_VERSION);
        jw_kstr(j, "scenario", rq->scenario);
        jw_kstr(j, "scenario_sha256", sha);
        char seed[24];
        snprintf(seed, sizeof seed, "%" PRIu64, rq->seed);
        jw_kstr(j, "seed", seed);
        jw_key(j, "params");
        jw_obj(j);
        for (int i = 0; i < rq->n_params; i++)
            jw_kstr(j, rq->params[i].name, rq->params[i].value);
        jw_obj_end(j);
        jw_key(j, "limits");
        jw_obj(j);
        jw_kint(j, "instructions", (int64_t)(rq->limits.instructions ? rq->limits.instructions
                                                                     : SANDBOX_DEFAULT_INSTRUCTIONS));
        jw_kint(j, "memory", (int64_t)(rq->limits.memory ? rq->limits.memory : SANDBOX_DEFAULT_MEMORY));
        if (rq->max_events)
            jw_kint(j, "max_events", (int64_t)rq->max_events);
        if (rq->keep_going)
            jw_kbool(j, "keep_going", 1);
        if (rq->swarm)
            jw_kbool(j, "swarm", 1);
        jw_obj_end(j);
        trace_end(tr);
    }
    struct lsim_options opt = {
        .scenario = rq->scenario,
        .seed = rq->seed,
        .trace = tr,
        .params = rq->params,
        .n_params = rq->n_params,
        .limits = rq->limits,
        .max_events = rq->max_events,
        .keep_going = rq->keep_going,
        .swarm = rq->swarm,
        .quiet = rq->quiet,
        .progress = rq->progress,
        .checkers = checker_names(),
    };
    lsim_run(&opt, res);
    if (tr && res->exit_code != SIM_EXIT_OK && res->exit_code != SIM_EXIT_FAILED) {
        jw *j = trace_begin(tr, res->end_time, "error");
        jw_kint(j, "exit", res->exit_code);
        jw_kstr(j, "msg", res->error);
        trace_end(tr);
    }
    return res->exit_code;
}

/* ---- expectations decided by checkers ------------------------------------------- */

/* The label the cap checker reports in its evidence ("PA/EL", "P?/EL"), or
 * "" when it reports none. */
static void cap_label(const struct check_result *r, char *out, size_t n)
{
    out[0] = '\0';
    cJSON *ev = r->evidence.len ? cJSON_ParseWithLength(r->evidence.buf, r->evidence.len) : NULL;
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(ev, "label");
    if (cJSON_IsString(label))
        snprintf(out, n, "%s", label->valuestring);
    cJSON_Delete(ev);
}

/* Fill held and detail of every expectation of res that checker c decides,
 * from its result r. */
static void decide(struct lsim_result *res, const struct checker *c, const struct check_result *r)
{
    const char *verdict = check_verdict_name(r->verdict);
    for (int i = 0; i < res->n_expect; i++) {
        struct lsim_expect *e = &res->expect[i];
        if (!e->checker || strcmp(e->checker_name, c->name) != 0)
            continue;
        if (e->want_label[0]) {
            char label[32];
            cap_label(r, label, sizeof label);
            e->held = strcmp(label, e->want_label) == 0;
            if (e->held)
                snprintf(e->detail, sizeof e->detail, "%s, as expected: %s", label, r->reason);
            else {
                char want[sizeof e->want_label];   /* a copy: it lives in *e too */
                snprintf(want, sizeof want, "%s", e->want_label);
                snprintf(e->detail, sizeof e->detail, "%s, expected %s: %s",
                         label[0] ? label : "no label", want, r->reason);
            }
        } else {
            enum check_verdict want = e->want ? CHECK_HOLDS : CHECK_VIOLATED;
            e->held = r->verdict == want;
            snprintf(e->detail, sizeof e->detail, "%s, %s: %s", verdict,
                     e->held ? "as expected"
                     : e->want ? "expected to hold" : "expected a violation",
                     r->reason);
        }
    }
}

/* Run the checkers that res's checker expectations name on the trace at
 * path, each once, and decide those expectations. 0, or an exit code with
 * one line in err. */
static int check_expectations(struct lsim_result *res, const char *path, char *err, size_t errlen)
{
    hist *h = NULL;
    struct trace_facts facts;
    int rc = hist_read_file(HIST_FORMAT_TRACE, path, &h, err, errlen);
    if (rc == 0) {
        rc = trace_facts_read(path, &facts, err, errlen);
        if (rc) {
            hist_free(h);
            h = NULL;
        }
    }
    if (rc)
        return rc == HIST_ENOMEM ? SIM_EXIT_INTERNAL : rc == HIST_EIO ? SIM_EXIT_IO : SIM_EXIT_BAD_TRACE;
    struct check_input in = { .h = h, .facts = &facts };
    int code = 0;
    for (int i = 0; checkers[i] && code == 0; i++) {
        bool wanted = false;
        for (int k = 0; k < res->n_expect; k++)
            wanted |= res->expect[k].checker && strcmp(res->expect[k].checker_name, checkers[i]->name) == 0;
        if (!wanted)
            continue;
        struct check_result r;
        check_result_init(&r);
        if (check_run(checkers[i], &in, &r) != 0) {
            snprintf(err, errlen, "%s checker: out of memory", checkers[i]->name);
            code = SIM_EXIT_INTERNAL;
        } else
            decide(res, checkers[i], &r);
        check_result_free(&r);
    }
    /* slo expectations: the k-th one is the trace's k-th "slo" line */
    size_t k_slo = 0;
    for (int i = 0; i < res->n_expect && code == 0; i++) {
        struct lsim_expect *e = &res->expect[i];
        if (!e->checker || strcmp(e->checker_name, "slo") != 0)
            continue;
        struct slo_spec spec;
        struct check_result r;
        check_result_init(&r);
        if (k_slo >= facts.n_slo || slo_spec_read(facts.slo[k_slo], &spec, r.reason, sizeof r.reason) != 0) {
            e->held = false;
            snprintf(e->detail, sizeof e->detail, "the trace lacks this objective's slo line");
        } else {
            slo_judge(&spec, h, &facts, &r);
            enum check_verdict want = e->want ? CHECK_HOLDS : CHECK_VIOLATED;
            e->held = r.verdict == want;
            snprintf(e->detail, sizeof e->detail, "%s, %s: %s",
                     r.verdict == CHECK_HOLDS ? "met" : r.verdict == CHECK_VIOLATED ? "broken" : "unknown",
                     e->held ? "as expected" : e->want ? "expected to be met" : "expected to be broken",
                     r.reason);
        }
        k_slo++;
        check_result_free(&r);
    }
    trace_facts_free(&facts);
    hist_free(h);
    return code;
}

/* A trace of this run that the checkers can read: the trace file itself when
 * it is a regular file, else the run again, quietly, into a temporary file
 * (the same request gives the same run). 0, or an exit code with err. */
int decide_expectations(const struct run_request *rq, struct lsim_result *res,
                        const char *trace_path, char *err, size_t errlen)
{
    struct stat st;
    if (trace_path && strcmp(trace_path, "-") != 0 && stat(trace_path, &st) == 0 &&
        S_ISREG(st.st_mode))
        return check_expectations(res, trace_path, err, errlen);

    const char *dir = getenv("TMPDIR");
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%.480s/sim-expect-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a temporary trace for the checkers in %.480s: %s",
                 dir && *dir ? dir : "/tmp", strerror(errno));
        return SIM_EXIT_IO;
    }
    trace *tr = trace_open_fd(fd);
    struct run_request again = *rq;
    again.quiet = true;
    again.progress = NULL;
    static struct lsim_result second;
    int rc = run_scenario(&again, tr, &second);
    int code = 0;
    if (trace_close(tr) < 0) {
        snprintf(err, errlen, "cannot write the temporary trace %s: %s", tmp, strerror(errno));
        code = SIM_EXIT_IO;
    } else if (rc != res->exit_code || second.end_time != res->end_time ||
               memcmp(&second.stats, &res->stats, sizeof res->stats) != 0) {
        snprintf(err, errlen, "internal error: the run repeated for the checkers went differently "
                 "(exit %d, not %d): please report this scenario and seed", rc, res->exit_code);
        code = SIM_EXIT_INTERNAL;
    } else
        code = check_expectations(res, tmp, err, errlen);
    close(fd);
    unlink(tmp);
    return code;
}

/* ---- option parsing ---------------------------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
    world_interrupt();
}

static int need_value(int argc, char **argv, int i)
{
    if (i + 1 >= argc) {
        cli_error("run: %s needs a value (see sim run --help)", argv[i]);
        return 0;
    }
    return 1;
}

static void default_trace_path(const char *scenario, uint64_t seed, char *out, size_t outlen)
{
    const char *base = strrchr(scenario, '/');
    base = base ? base + 1 : scenario;
    size_t len = strlen(base);
    if (len > 4 && strcmp(base + len - 4, ".lua") == 0)
        len -= 4;
    snprintf(out, outlen, "traces/%.*s-seed%" PRIu64 ".jsonl", (int)len, base, seed);
}

/* On a terminal, long runs show how far they have got (virtual time and
 * events; never the wall clock, which would be the same on every line). */
static bool progress_shown;
static void show_progress(void *ud, sim_time now, uint64_t events)
{
    (void)ud;
    fprintf(stderr, "\rrunning: %.3f s of virtual time, %" PRIu64 " events", (double)now / 1e9, events);
    progress_shown = true;
}

static void print_count(FILE *out, const char *label, uint64_t n)
{
    fprintf(out, "%s %" PRIu64, label, n);
}

static void print_summary(FILE *out, const struct run_request *rq, const struct lsim_result *res,
                          const char *trace_path, trace *tr)
{
    const struct world_stats *s = &res->stats;
    fprintf(out, "scenario    %s", rq->scenario);
    if (res->model[0])
        fprintf(out, " (model %s, %d nodes, %d clients)", res->model, res->nodes, res->clients);
    fprintf(out, "\nseed        %" PRIu64 "\n", rq->seed);
    fprintf(out, "simulated   %.3f s of virtual time, %" PRIu64 " events\n",
           (double)res->end_time / 1e9, s->events);
    fprintf(out, "messages    %" PRIu64 " sent, %" PRIu64 " delivered, %" PRIu64 " dropped",
           s->msgs_sent, s->msgs_delivered, s->msgs_dropped);
    if (s->msgs_duplicated)
        fprintf(out, ", %" PRIu64 " duplicated", s->msgs_duplicated);
    fprintf(out, "\n");
    fprintf(out, "operations  %" PRIu64 " invoked: %" PRIu64 " ok, %" PRIu64 " fail, %" PRIu64
           " info (timed out: outcome unknown)",
           s->ops_invoked, s->ops_ok, s->ops_fail, s->ops_info);
    if (s->ops_shed)
        print_count(out, ", shed", s->ops_shed);
    fprintf(out, "\n");
    if (s->crashes || s->invariant_violations) {
        fprintf(out, "faults      %" PRIu64 " crashes", s->crashes);
        if (s->invariant_violations)
            fprintf(out, ", %" PRIu64 " protocol invariant violations", s->invariant_violations);
        fprintf(out, "\n");
    }
    for (int i = 0; i < res->n_expect; i++)
        fprintf(out, "expect      %-24s %s  %s\n", res->expect[i].name,
               res->expect[i].held ? "held  " : "FAILED", res->expect[i].detail);
    if (tr) {
        double mb = (double)trace_bytes(tr) / 1e6;
        fprintf(out, "trace       %s (%" PRIu64 " lines, %.2f MB)\n", trace_path, trace_lines(tr), mb);
        if (strcmp(trace_path, "-") != 0)
            fprintf(out, "replay      sim replay %s\n", trace_path);
    }
    if (rq->swarm)
        fprintf(out, "swarm       %s\n", res->swarm_json);
    fprintf(out, "rerun       sim run %s --seed %" PRIu64, rq->scenario, rq->seed);
    if (rq->swarm)
        fprintf(out, " --swarm");
    if (rq->keep_going)
        fprintf(out, " --keep-going");
    for (int i = 0; i < rq->n_params; i++)
        fprintf(out, " --param %s=%s", rq->params[i].name, rq->params[i].value);
    fprintf(out, "\n");
}

int cmd_run(int argc, char **argv)
{
    if (cli_wants_help(&cli_run, argc, argv))
        return SIM_EXIT_OK;
    struct run_request rq = { .seed = 1 };
    const char *trace_path = NULL;
    bool no_trace = false, explaining = false;
    int rc = SIM_EXIT_USAGE;
    rq.params = sim_xcalloc((size_t)argc, sizeof *rq.params);

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (strcmp(a, "--seed") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            if (!cli_parse_u64(argv[++i], &rq.seed)) {
                cli_error("run: --seed needs a whole number from 0 to 18446744073709551615, got \"%s\"",
                          argv[i]);
                goto out;
            }
        } else if (strcmp(a, "--trace") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            trace_path = argv[++i];
        } else if (strcmp(a, "--no-trace") == 0) {
            no_trace = true;
        } else if (strcmp(a, "--explain") == 0) {
            explaining = true;
        } else if (strcmp(a, "--keep-going") == 0) {
            rq.keep_going = true;
        } else if (strcmp(a, "--swarm") == 0) {
            rq.swarm = true;
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            rq.quiet = true;
        } else if (strcmp(a, "--param") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            char *kv = argv[++i];
            char *eq = strchr(kv, '=');
            if (!eq || eq == kv) {
                cli_error("run: --param needs NAME=VALUE, got \"%s\"", kv);
                goto out;
            }
            *eq = 0;
            for (int k = 0; k < rq.n_params; k++)
                if (strcmp(rq.params[k].name, kv) == 0) {
                    cli_error("run: --param %s is given twice", kv);
                    goto out;
                }
            rq.params[rq.n_params].name = kv;
            rq.params[rq.n_params].value = eq + 1;
            rq.n_params++;
        } else if (strcmp(a, "--max-events") == 0 || strcmp(a, "--budget") == 0 ||
                   strcmp(a, "--memory") == 0) {
            if (!need_value(argc, argv, i))
                goto out;
            if (!cli_parse_u64(argv[++i], &v) || v == 0) {
                cli_error("run: %s needs a whole number above 0, got \"%s\"", a, argv[i]);
                goto out;
            }
            if (strcmp(a, "--max-events") == 0)
                rq.max_events = v;
            else if (strcmp(a, "--budget") == 0)
                rq.limits.instructions = v;
            else if (v > (1u << 20)) {
                cli_error("run: --memory is in MiB and at most 1048576, got %" PRIu64, v);
                goto out;
            } else {
                rq.limits.memory = (size_t)v << 20;
            }
        } else if (a[0] == '-' && a[1] != 0) {
            cli_error("run: unknown option %s (see sim run --help)", a);
            goto out;
        } else if (!rq.scenario) {
            rq.scenario = a;
        } else {
            cli_error("run: one scenario at a time, got \"%s\" and \"%s\"", rq.scenario, a);
            goto out;
        }
    }
    if (!rq.scenario) {
        cli_error("run: which scenario? usage: sim run SCENARIO [--seed N] (see sim run --help)");
        goto out;
    }

    /* Fail on an unreadable scenario before creating a trace file. */
    struct stat st;
    FILE *probe = fopen(rq.scenario, "r");
    if (!probe || fstat(fileno(probe), &st) < 0 || S_ISDIR(st.st_mode)) {
        cli_error("cannot read scenario %s: %s", rq.scenario,
                  probe ? strerror(EISDIR) : strerror(errno));
        if (probe)
            fclose(probe);
        rc = SIM_EXIT_IO;
        goto out;
    }
    fclose(probe);

    char default_path[1024];
    trace *tr = NULL;
    if (!no_trace) {
        if (!trace_path) {
            default_trace_path(rq.scenario, rq.seed, default_path, sizeof default_path);
            if (mkdir("traces", 0755) < 0 && errno != EEXIST) {
                cli_error("cannot create directory traces: %s", strerror(errno));
                rc = SIM_EXIT_IO;
                goto out;
            }
            trace_path = default_path;
        }
        char err[512];
        tr = trace_open(trace_path, err, sizeof err);
        if (!tr) {
            cli_error("%s", err);
            rc = SIM_EXIT_IO;
            goto out;
        }
    } else if (explaining) {
        char err[512];
        tr = trace_open("/dev/null", err, sizeof err);   /* the narrator reads the lines */
        if (!tr) {
            cli_error("%s", err);
            rc = SIM_EXIT_IO;
            goto out;
        }
    }
    explain *ex = explaining ? explain_new(trace_path && strcmp(trace_path, "-") == 0 ? stderr : stdout)
                             : NULL;
    if (ex)
        trace_set_observer(tr, explain_line, ex);

    static struct lsim_result res;
    if (!rq.quiet && cli_is_tty(STDERR_FILENO))
        rq.progress = show_progress;
    /* Ctrl-C or SIGTERM: stop at the next event and end the trace cleanly */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    world_interrupt_clear();
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = run_scenario(&rq, tr, &res);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (ex) {
        trace_set_observer(tr, NULL, NULL);
        explain_free(ex);
    }
    if (progress_shown)
        fprintf(stderr, "\r%70s\r", "");
    if (tr && trace_flush(tr) < 0) {
        cli_error("cannot write trace %s: %s", trace_path, strerror(errno));
        trace_close(tr);
        rc = SIM_EXIT_IO;
        goto out;
    }
    if ((rc == SIM_EXIT_OK || rc == SIM_EXIT_FAILED) && res.n_checker_expect > 0) {
        char err[1024];
        int crc = decide_expectations(&rq, &res, tr ? trace_path : NULL, err, sizeof err);
        if (crc) {
            cli_error("%s", err);
            trace_close(tr);
            rc = crc;
            goto out;
        }
        for (int i = 0; i < res.n_expect; i++)
            if (res.expect[i].checker && !res.expect[i].held)
                rc = res.exit_code = SIM_EXIT_FAILED;
    }
    /* a broken invariant fails the run unless the scenario expected it */
    bool invariant_expected = false;
    for (int i = 0; i < res.n_expect; i++)
        invariant_expected |= strcmp(res.expect[i].name, "invariants") == 0 ||
                              strcmp(res.expect[i].name, "invariant_violations") == 0;
    if (res.halted && rc == SIM_EXIT_OK && !invariant_expected)
        rc = res.exit_code = SIM_EXIT_FAILED;
    if (res.halted && (rc == SIM_EXIT_OK || rc == SIM_EXIT_FAILED) && (!rq.quiet || !invariant_expected)) {
        const char *nl = strchr(res.halt_report, '\n');
        int why_len = nl ? (int)(nl - res.halt_report) : (int)strlen(res.halt_report);
        fprintf(stderr, "invariant broken at t=%.9f s: %.*s\nthe run stopped there (--keep-going runs on); "
                "the last node events before it:\n%s", (double)res.halted_at / 1e9, why_len,
                res.halt_report, nl ? nl + 1 : "");
    }
    if (rc == SIM_EXIT_INTERRUPTED) {
        /* what was done, then why it stopped */
        if (!rq.quiet)
            print_summary(stderr, &rq, &res, trace_path, no_trace ? NULL : tr);
        fprintf(stderr, "%s\n", res.error);
    } else if (rc != SIM_EXIT_OK && rc != SIM_EXIT_FAILED) {
        fprintf(stderr, "%s\n", res.error);
    } else if (!rq.quiet) {
        print_summary(trace_path && strcmp(trace_path, "-") == 0 ? stderr : stdout,
                      &rq, &res, trace_path, no_trace ? NULL : tr);
    } else if (rc == SIM_EXIT_FAILED) {
        for (int i = 0; i < res.n_expect; i++)
            if (!res.expect[i].held && res.expect[i].checker)
                fprintf(stderr, "expectation failed: %s (%s): %s\n", res.expect[i].name,
                        res.expect[i].where, res.expect[i].detail);
            else if (!res.expect[i].held)
                fprintf(stderr, "expectation failed: %s: %s\n", res.expect[i].name, res.expect[i].detail);
    }
    if (trace_close(tr) < 0) {
        cli_error("cannot write trace %s: %s", trace_path, strerror(errno));
        rc = SIM_EXIT_IO;
    }
out:
    sim_free(rq.params);
    return rc;
}
