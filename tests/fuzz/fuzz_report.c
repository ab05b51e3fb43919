/* Fuzz the report generator and the exports on an arbitrary file as a
 * trace: the HTML page, the text report and each export format. Output goes
 * to /dev/null; any input must end in a report or one clean error. */
#include "fuzz.h"
#include "cli.h"

#include <stdio.h>

int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        quiet = 1;
        if (!freopen("/dev/null", "w", stdout))   /* stderr stays: sanitizer reports go there */
            return 0;
    }
    const char *path = fuzz_scratch(data, size, ".jsonl");
    /* outputs go to a scratch file of our own, never to /dev/null: a failed
     * export removes its partial output */
    static char out[300];
    snprintf(out, sizeof out, "%s.out", path);
    char *html[] = { "report", (char *)path, "-o", out, NULL };
    cmd_report(4, html);
    char *text[] = { "report", "--text", "--no-color", (char *)path, "-o", out, NULL };
    cmd_report(6, text);
    static const char *const formats[] = { "perfetto", "shiviz", "jepsen", "porcupine" };
    for (int i = 0; i < 4; i++) {
        char *ex[] = { "export", "--format", (char *)formats[i], (char *)path, "-o", out, NULL };
        cmd_export(6, ex);
    }
    return 0;
}
