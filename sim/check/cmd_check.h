/* The check subcommand (sim check) and its benchmark (sim bench check). */
#ifndef SIM_CMD_CHECK_H
#define SIM_CMD_CHECK_H

int cmd_check(int argc, char **argv);

/* sim bench check [options] [FILE-or-DIR...]: argv[0] is "check". */
int bench_check(int argc, char **argv);

/* Lines of `sim bench --help` about it. */
#define BENCH_CHECK_HELP                                                            \
    "usage: sim bench check [--repeat R] [--budget N] [--no-generated] [FILE-or-DIR...]\n" \
    "\n"                                                                            \
    "check: the linearizability checker on each history file given (directories\n"  \
    "are searched for .log, .txt and .jsonl files; a MANIFEST.tsv next to them\n"  \
    "gives the expected verdict and Porcupine's time), parsing excluded; then on\n" \
    "generated register histories of 3000 operations from 20-30 clients with\n"    \
    "indeterminate writes. Prints the best and the median of R repetitions\n"      \
    "(default 5) per file and the ratio to Porcupine's time.\n"

#endif
