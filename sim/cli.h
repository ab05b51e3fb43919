/* Shared pieces of the sim subcommands. */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cli_command {
    const char *name;
    const char *synopsis;     /* one line for `sim --help` */
    const char *help;         /* the whole text of `sim help NAME` */
    int (*main)(int argc, char **argv);
    /* optional: print the help on stdout instead of `help`, for a text
     * that is partly generated (sim check lists the checker table) */
    void (*print_help)(void);
};

/* The subcommands, NULL-terminated (cli.c). */
extern const struct cli_command *const cli_commands[];
const struct cli_command *cli_find(const char *name);

/* Print "sim: <message>" on stderr, one line. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a whole unsigned decimal number; false on anything else. */
bool cli_parse_u64(const char *text, uint64_t *out);

/* SHA-256 of a file as 64 hex digits. 0, or SIM_EXIT_IO with err filled. */
int cli_sha256_file(const char *path, char hex[65], char *err, size_t errlen);

/* True when the stream is a terminal (for progress output). */
bool cli_is_tty(int fd);

/* Print a command's help on stdout. */
void cli_print_help(const struct cli_command *cmd);

/* If argv has --help or -h, print the command's help and return true. */
bool cli_wants_help(const struct cli_command *cmd, int argc, char **argv);

int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_bench(int argc, char **argv);

extern const struct cli_command cli_run, cli_replay, cli_list, cli_bench;
extern const struct cli_command cli_check;   /* sim/check/cmd_check.c */
extern const struct cli_command cli_sweep, cli_shrink;   /* sim/cmd_sweep.c, sim/cmd_shrink.c */
int cmd_sweep(int argc, char **argv);
int cmd_shrink(int argc, char **argv);
extern const struct cli_command cli_report, cli_export;   /* sim/report/cmd_report.c */

/* ---- running a scenario (cmd_run.c), shared with replay ---- */

#include "lua/lsim.h"

struct run_request {
    const char *scenario;
    uint64_t seed;
    struct lsim_param *params;
    int n_params;
    struct sandbox_limits limits;   /* zeros = defaults */
    uint64_t max_events;            /* 0 = default */
    bool keep_going;                /* run on past a broken invariant */
    bool swarm;                     /* draw nemesis and network settings from the seed */
    bool quiet;
    world_progress_fn progress;     /* optional, for terminals */
};

/* Write the trace header (when tr is set), run the scenario, and end the
 * trace with an "error" line if the scenario failed. The header records
 * everything needed to run it again identically. Returns res->exit_code. */
int run_scenario(const struct run_request *rq, struct trace *tr, struct lsim_result *res);

/* Decide res's checker expectations (sim run's rule): on the trace at
 * trace_path when it is a regular file, else on a quiet second run of rq
 * into a temporary trace. 0, or an exit code with one line in err. */
int decide_expectations(const struct run_request *rq, struct lsim_result *res,
                        const char *trace_path, char *err, size_t errlen);

#endif
