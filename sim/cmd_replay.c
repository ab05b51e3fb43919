/* sim replay: run a trace's scenario again from its header and compare. */
#include "cli.h"
#include "core/alloc.h"
#include "core/exitcodes.h"
#include "trace/trace.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char replay_help[] =
    "usage: sim replay TRACE [--quiet]\n"
    "\n"
    "Run the scenario named in TRACE's header again, with the same seed,\n"
    "parameters and limits, and compare the new trace with TRACE line by line.\n"
    "Exit 0 when they are byte-identical; otherwise print the first line that\n"
    "differs, old and new, and exit 1.\n"
    "\n"
    "options:\n"
    "  --quiet    print nothing when the traces are identical\n"
    "\n"
    "exit codes: 0 identical, 1 different, 2 usage, 4 scenario error,\n"
    "5 file error, 6 TRACE is not a sim trace (see sim --help).\n";

const struct cli_command cli_replay = {
    "replay", "run a trace again from its header and compare: sim replay TRACE",
    replay_help, cmd_replay, NULL,
};

static uint64_t json_u64(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble > 0))
        return 0;
    /* 2^64 and beyond (an edited header) saturate instead of being undefined */
    return v->valuedouble < 18446744073709551616.0 ? (uint64_t)v->valuedouble : UINT64_MAX;
}

static void show_line(const char *label, const char *line)
{
    int n = (int)strlen(line);
    if (n > 400)
        printf("  %s %.400s... (%d bytes)\n", label, line, n);
    else
        printf("  %s %s\n", label, line);
}

int cmd_replay(int argc, char **argv)
{
    if (cli_wants_help(&cli_replay, argc, argv))
        return SIM_EXIT_OK;
    const char *path = NULL;
    bool quiet = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0) {
            quiet = true;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            cli_error("replay: unknown option %s (see sim replay --help)", argv[i]);
            return SIM_EXIT_USAGE;
        } else if (!path) {
            path = argv[i];
        } else {
            cli_error("replay: one trace at a time");
            return SIM_EXIT_USAGE;
        }
    }
    if (!path) {
        cli_error("replay: which trace? usage: sim replay TRACE");
        return SIM_EXIT_USAGE;
    }

    char err[1024];
    struct trace_header h;
    int rc = trace_header_read(path, &h, err, sizeof err);
    if (rc) {
        cli_error("%s", err);
        return rc;
    }

    /* the limits and parameters the original run had */
    struct run_request rq = { .scenario = h.scenario, .seed = h.seed, .quiet = true };
    FILE *hf = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int complete;
    long n = hf ? trace_getline(hf, &line, &cap, &complete) : -1;
    cJSON *hj = n >= 0 ? cJSON_Parse(line) : NULL;
    const cJSON *limits = hj ? cJSON_GetObjectItemCaseSensitive(hj, "limits") : NULL;
    rq.limits.instructions = json_u64(limits, "instructions");
    rq.limits.memory = (size_t)json_u64(limits, "memory");
    rq.max_events = json_u64(limits, "max_events");
    const cJSON *kg = limits ? cJSON_GetObjectItemCaseSensitive(limits, "keep_going") : NULL;
    rq.keep_going = cJSON_IsTrue(kg);
    rq.swarm = cJSON_IsTrue(limits ? cJSON_GetObjectItemCaseSensitive(limits, "swarm") : NULL);
    int n_params = h.params ? cJSON_GetArraySize(h.params) : 0;
    rq.params = sim_xcalloc((size_t)n_params + 1, sizeof *rq.params);
    const cJSON *p;
    cJSON_ArrayForEach(p, h.params) {
        if (!cJSON_IsString(p)) {
            cli_error("%s:1: header parameter %s is not a string", path, p->string);
            rc = SIM_EXIT_BAD_TRACE;
            goto out;
        }
        rq.params[rq.n_params].name = p->string;
        rq.params[rq.n_params].value = p->valuestring;
        rq.n_params++;
    }

    char sha[65];
    rc = cli_sha256_file(h.scenario, sha, err, sizeof err);
    if (rc) {
        cli_error("replay: the trace's scenario is gone: %s", err);
        goto out;
    }
    if (h.scenario_sha256 && strcmp(sha, h.scenario_sha256) != 0)
        fprintf(stderr, "sim: replay: warning: %s changed since the trace was written "
                        "(its SHA-256 differs); the traces will likely differ\n", h.scenario);

    FILE *fresh = tmpfile();
    if (!fresh) {
        cli_error("replay: cannot create a temporary file: %s", strerror(errno));
        rc = SIM_EXIT_IO;
        goto out;
    }
    trace *tr = trace_open_fd(fileno(fresh));
    static struct lsim_result res;
    run_scenario(&rq, tr, &res);
    if (trace_close(tr) < 0) {
        cli_error("replay: cannot write the new trace: %s", strerror(errno));
        fclose(fresh);
        rc = SIM_EXIT_IO;
        goto out;
    }
    rewind(fresh);
    rewind(hf);

    /* compare line by line */
    char *a = NULL, *b = NULL;
    size_t acap = 0, bcap = 0;
    uint64_t lineno = 0;
    rc = SIM_EXIT_OK;
    for (;;) {
        int ac = 1, bc = 1;
        long la = trace_getline(hf, &a, &acap, &ac);
        long lb = trace_getline(fresh, &b, &bcap, &bc);
        lineno++;
        if (la < 0 && lb < 0)
            break;
        if (la < 0) {
            printf("%s ends at line %" PRIu64 " but the new run goes on (was the first run cut short?)\n",
                   path, lineno - 1);
            show_line("new:", b);
            rc = SIM_EXIT_FAILED;
            break;
        }
        if (lb < 0) {
            printf("the new run ends at line %" PRIu64 " but %s goes on\n", lineno - 1, path);
            show_line("old:", a);
            rc = SIM_EXIT_FAILED;
            break;
        }
        if (la != lb || memcmp(a, b, (size_t)la) != 0 || ac != bc) {
            printf("%s:%" PRIu64 ": the traces differ first here\n", path, lineno);
            show_line("old:", a);
            show_line("new:", b);
            rc = SIM_EXIT_FAILED;
            break;
        }
    }
    if (rc == SIM_EXIT_OK && !quiet)
        printf("identical: %" PRIu64 " lines, seed %" PRIu64 ", %s\n", lineno - 1, h.seed, h.scenario);
    sim_free(a);
    sim_free(b);
    fclose(fresh);
out:
    if (hf)
        fclose(hf);
    sim_free(line);
    cJSON_Delete(hj);
    sim_free(rq.params);
    trace_header_free(&h);
    return rc;
}
