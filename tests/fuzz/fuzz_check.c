/* Fuzz sim check end to end on an arbitrary file as a trace: the readers,
 * the trace facts and every checker, with a small search budget. The
 * report goes to /dev/null; any input must end in a verdict or a clean
 * error. */
#include "fuzz.h"
#include "check/cmd_check.h"

#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        quiet = 1;
        if (!freopen("/dev/null", "w", stdout))   /* stderr stays: sanitizer reports go there */
            return 0;
    }
    const char *path = fuzz_scratch(data, size, ".jsonl");
    char *argv[] = { "check", (char *)path, "--budget", "20000", "--json", NULL };
    cmd_check(5, argv);
    return 0;
}
