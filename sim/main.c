/* sim: the command line. Dispatch only; each subcommand lives in cmd_*.c. */
#include "cli.h"
#include "core/exitcodes.h"
#include "sim_version.h"

#include "core/alloc.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: sim COMMAND [ARGS]\n"
            "\n"
            "A deterministic simulator of distributed systems: run a Lua scenario\n"
            "against a simulated cluster, write a JSON Lines trace, replay it by seed.\n"
            "\n"
            "commands:\n");
    for (int i = 0; cli_commands[i]; i++)
        fprintf(out, "  %-8s %s\n", cli_commands[i]->name, cli_commands[i]->synopsis);
    fprintf(out,
            "  help     sim help COMMAND: the options of one command\n"
            "\n"
            "options:\n"
            "  --help, -h     this text\n"
            "  --version      the version of sim\n"
            "\n"
            "exit codes:\n"
            "  0   ran, and every expectation held (replay: identical; check: all hold)\n"
            "  1   an expectation failed (replay: the traces differ; check: a violation)\n"
            "  2   usage error on the command line\n"
            "  3   a checker could not decide within its budget (and none found a violation)\n"
            "  4   the scenario is wrong: Lua error, bad argument, budget or memory exceeded\n"
            "  5   a file could not be read or written\n"
            "  6   an input trace is corrupt or not a sim trace\n"
            "  70  internal error (a bug in sim) or out of memory\n"
            "  130 interrupted (Ctrl-C, SIGTERM): stopped cleanly; the trace is valid up to there\n"
            "\n"
            "example:\n"
            "  sim run scenarios/02_async_failover_loses_writes.lua --seed 7\n"
            "  sim replay traces/02_async_failover_loses_writes-seed7.jsonl\n"
            "\n"
            "See docs/ and the man page docs/sim.1.\n");
}

/* Every allocation, cJSON's included, goes through sim_malloc, so a test
 * can fail the N-th one: SIM_FAIL_ALLOC_AT=N (a testing hook, see
 * docs/architecture.md) makes allocation N and all after it fail. */
static void init_allocation(void)
{
    cJSON_Hooks hooks = { .malloc_fn = sim_malloc, .free_fn = sim_free };
    cJSON_InitHooks(&hooks);
    const char *n = getenv("SIM_FAIL_ALLOC_AT");
    if (n && *n)
        sim_alloc_fail_from(strtol(n, NULL, 10));
}

int main(int argc, char **argv)
{
    init_allocation();
    if (argc < 2) {
        usage(stderr);
        return SIM_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return SIM_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("sim %s\n", SIM_VERSION);
        return SIM_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return SIM_EXIT_OK;
        }
        const struct cli_command *c = cli_find(argv[2]);
        if (!c) {
            cli_error("no command \"%s\" (try sim --help)", argv[2]);
            return SIM_EXIT_USAGE;
        }
        cli_print_help(c);
        return SIM_EXIT_OK;
    }
    const struct cli_command *c = cli_find(cmd);
    if (!c) {
        cli_error("no command \"%s\" (try sim --help)", cmd);
        return SIM_EXIT_USAGE;
    }
    return c->main(argc - 1, argv + 1);
}
