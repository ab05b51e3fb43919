/* sim report and sim export: the command lines. */
#include "report.h"

#include "cli.h"
#include "core/exitcodes.h"
#include "trace/trace.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ==== help ================================================================ */

static const char report_help[] =
    "usage: sim report TRACE [-o FILE] [--text] [--req ID] [--color | --no-color]\n"
    "\n"
    "Make a report of a trace: one self-contained HTML page (no network access\n"
    "needed: inline SVG and a little JavaScript), or text for a terminal.\n"
    "\n"
    "The page shows: the scenario, seed, replay command and parameters; every\n"
    "checker's verdict and sentence (a violated one links to its evidence and\n"
    "highlights the operations it names); the client operations, one lane per\n"
    "client, each a bar from invoke to completion coloured ok / fail / info; the\n"
    "nodes and messages (arrows for deliveries, marks for drops with the reason,\n"
    "network splits shaded, crashes, restarts, pauses and clock changes marked;\n"
    "hover an arrow for the message); each node's role over time; latency\n"
    "percentiles and histograms per operation type; throughput over time;\n"
    "availability per side during each split; RED per service (rate, errors,\n"
    "p50/p95/p99 per time window: the clients' view and the models' served\n"
    "notes) and USE per node (utilization and queue from load notes, else the\n"
    "messages in flight to it; drops; time down); the final states. Click an\n"
    "operation to highlight the messages and notes of its request. Zoom with the\n"
    "wheel or the buttons, pan by dragging, and step a time cursor event by\n"
    "event (buttons, or the keys , and .) to see each node's state.\n"
    "\n"
    "Large traces: at most 4000 message arrows and 12000 operation bars are\n"
    "drawn (an even sample; violations always); the page says so, and the\n"
    "figures still use every event. The trace is read as a stream.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE  where the report goes (default: TRACE with .html instead\n"
    "                     of .jsonl for HTML, standard output for --text; - is\n"
    "                     standard output)\n"
    "  --text             verdicts, each node's roles over time, faults and key\n"
    "                     figures as text\n"
    "  --req ID           print one request's path instead: client operation ID's\n"
    "                     lines, then every send that carries \"req\":ID with its\n"
    "                     delivery or drop, and the timers and notes that carry it\n"
    "  --color            colour the text even when stdout is not a terminal\n"
    "  --no-color         never colour the text (the default when not a terminal)\n"
    "  --help, -h         this text\n"
    "\n"
    "A trace without its \"end\" line (a killed run) still gives a report, marked\n"
    "incomplete. See docs/report.md.\n"
    "\n"
    "exit codes: 0 the report was written (whatever the verdicts), 2 usage,\n"
    "5 a file cannot be read or written, 6 the trace is malformed (the message\n"
    "gives FILE:LINE).\n";

static const char export_help[] =
    "usage: sim export --format FORMAT TRACE [-o FILE] [--key KEY]\n"
    "\n"
    "Write a trace in a format other tools read (to standard output unless -o).\n"
    "\n"
    "formats:\n"
    "  perfetto    Chrome Trace Event JSON for ui.perfetto.dev or chrome://tracing:\n"
    "              a track per node and per client, operations and roles as\n"
    "              slices, messages as flow arrows, faults and notes as instants\n"
    "  shiviz      a ShiViz log (the regular expression on line 1): every send,\n"
    "              receive, operation, role change and fault with its exact\n"
    "              vector clock\n"
    "  jepsen      the client history as Jepsen EDN, one op map per line (:index\n"
    "              :time :type :process :f :value, the value an independent\n"
    "              [key value] tuple), for Knossos and Elle\n"
    "  jepsen-log  one register's history as a Jepsen etcd log, the text that\n"
    "              sim check --format jepsen reads (use --key with several keys)\n"
    "  porcupine   the history as Porcupine key-value EDN (read -> get, write ->\n"
    "              put), the text that sim check --format porcupine-kv reads\n"
    "\n"
    "options:\n"
    "  --format F         one of the formats above (required)\n"
    "  -o, --output FILE  where the export goes (default standard output)\n"
    "  --key KEY          jepsen-log: the register to write\n"
    "  --help, -h         this text\n"
    "\n"
    "jepsen-log and porcupine hold registers only: a trace with add/remove\n"
    "operations or multi-value reads (and for porcupine, cas) cannot be written\n"
    "in them (exit 1, naming the line). See docs/report.md.\n"
    "\n"
    "exit codes: 0 written, 1 the history has operations the format cannot\n"
    "hold, 2 usage, 5 a file cannot be read or written, 6 the trace is\n"
    "malformed.\n";

int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);

const struct cli_command cli_report = {
    "report", "an HTML (or --text) report of a trace: sim report TRACE [-o FILE]",
    report_help, cmd_report, NULL,
};

const struct cli_command cli_export = {
    "export", "a trace for Perfetto, ShiViz, Jepsen, Porcupine: sim export --format F TRACE",
    export_help, cmd_export, NULL,
};

/* ==== output files ======================================================== */

/* Open the output: "-" is stdout. NULL with the message printed. */
static FILE *open_out(const char *path)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        cli_error("cannot write %s: %s", path, strerror(errno));
    return f;
}

/* Close it; on failure (or when failed) remove a partial file. 0 or exit code. */
static int close_out(FILE *f, const char *path, bool failed)
{
    int rc = 0;
    if (f == stdout) {
        if (fflush(stdout) != 0) {
            cli_error("cannot write the output: %s", strerror(errno));
            rc = SIM_EXIT_IO;
        }
        return rc;
    }
    /* remove a partial output only if it is a regular file: never a device
     * such as /dev/null, a fifo or a terminal given as -o */
    struct stat st;
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (fclose(f) != 0 && !failed) {
        cli_error("cannot write %s: %s", path, strerror(errno));
        rc = SIM_EXIT_IO;
    }
    if ((failed || rc) && regular)
        unlink(path);
    return rc;
}

/* ==== sim report ========================================================== */

int cmd_report(int argc, char **argv)
{
    if (cli_wants_help(&cli_report, argc, argv))
        return 0;
    const char *trace = NULL, *out_path = NULL;
    bool text = false;
    int64_t req = 0;
    int color = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (++i >= argc) {
                cli_error("report: %s needs a file name", a);
                return SIM_EXIT_USAGE;
            }
            out_path = argv[i];
        } else if (strcmp(a, "--req") == 0) {
            uint64_t v;
            if (++i >= argc || !cli_parse_u64(argv[i], &v) || v == 0 || v > (uint64_t)INT64_MAX) {
                cli_error("report: --req needs a client operation id (a whole number from 1), got %s",
                          i < argc ? argv[i] : "nothing");
                return SIM_EXIT_USAGE;
            }
            req = (int64_t)v;
        } else if (strcmp(a, "--text") == 0)
            text = true;
        else if (strcmp(a, "--color") == 0)
            color = 1;
        else if (strcmp(a, "--no-color") == 0)
            color = 0;
        else if (a[0] == '-' && a[1]) {
            cli_error("report: unknown option %s (see sim report --help)", a);
            return SIM_EXIT_USAGE;
        } else if (trace) {
            cli_error("report: one trace at a time (got %s and %s)", trace, a);
            return SIM_EXIT_USAGE;
        } else
            trace = a;
    }
    if (!trace) {
        cli_error("report: which trace? usage: sim report TRACE [-o FILE] [--text]");
        return SIM_EXIT_USAGE;
    }
    if (req) {
        /* one request's path: a streaming pass, nothing loaded */
        struct trace_header h;
        char err[1024];
        int rc = trace_header_read(trace, &h, err, sizeof err);
        if (rc) {
            cli_error("%s", err);
            return rc;
        }
        trace_header_free(&h);
        const char *path = out_path ? out_path : "-";
        FILE *out = open_out(path);
        if (!out)
            return SIM_EXIT_IO;
        rc = rep_write_req(trace, req, out, err, sizeof err);
        int crc = close_out(out, path, rc != 0);
        if (rc) {
            cli_error("%s", err);
            return rc;
        }
        return crc;
    }
    char def[4096];
    if (!out_path) {
        if (text)
            out_path = "-";
        else {
            size_t n = strlen(trace);
            if (n > 6 && strcmp(trace + n - 6, ".jsonl") == 0)
                snprintf(def, sizeof def, "%.*s.html", (int)(n - 6), trace);
            else
                snprintf(def, sizeof def, "%s.html", trace);
            out_path = def;
        }
    }
    struct rep r;
    char err[1024];
    int rc = rep_load(trace, &r, err, sizeof err);
    if (rc) {
        cli_error("%s", err);
        return rc;
    }
    FILE *out = open_out(out_path);
    if (!out) {
        rep_free(&r);
        return SIM_EXIT_IO;
    }
    bool tty = out == stdout && cli_is_tty(STDOUT_FILENO);
    int wrc = text ? rep_write_text(&r, out, color < 0 ? tty : color == 1) : rep_write_html(&r, out);
    rc = close_out(out, out_path, wrc != 0);
    if (wrc && !rc) {
        cli_error("cannot write %s: %s", out_path, strerror(errno));
        rc = SIM_EXIT_IO;
    }
    if (!rc && out != stdout) {
        struct stat st;
        if (stat(out_path, &st) == 0)
            fprintf(stderr, "sim: wrote %s (%lld bytes)%s\n", out_path, (long long)st.st_size,
                    r.info.complete || r.info.error_line ? "" : "; the trace is incomplete (no end line)");
    }
    rep_free(&r);
    return rc;
}

/* ==== sim export ========================================================== */

int cmd_export(int argc, char **argv)
{
    if (cli_wants_help(&cli_export, argc, argv))
        return 0;
    const char *trace = NULL, *out_path = "-", *format_name = NULL, *key = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ? &out_path
                            : strcmp(a, "--format") == 0                       ? &format_name
                            : strcmp(a, "--key") == 0                          ? &key
                                                                               : NULL;
        if (slot) {
            if (++i >= argc) {
                cli_error("export: %s needs a value", a);
                return SIM_EXIT_USAGE;
            }
            *slot = argv[i];
        } else if (a[0] == '-' && a[1]) {
            cli_error("export: unknown option %s (see sim export --help)", a);
            return SIM_EXIT_USAGE;
        } else if (trace) {
            cli_error("export: one trace at a time (got %s and %s)", trace, a);
            return SIM_EXIT_USAGE;
        } else
            trace = a;
    }
    enum export_format format;
    if (!format_name) {
        cli_error("export: which format? --format perfetto, shiviz, jepsen, jepsen-log or porcupine");
        return SIM_EXIT_USAGE;
    }
    if (!export_format_parse(format_name, &format)) {
        cli_error("export: unknown format \"%s\" (there is: perfetto, shiviz, jepsen, jepsen-log, "
                  "porcupine)", format_name);
        return SIM_EXIT_USAGE;
    }
    if (!trace) {
        cli_error("export: which trace? usage: sim export --format F TRACE [-o FILE]");
        return SIM_EXIT_USAGE;
    }
    if (key && format != EXPORT_JEPSEN_LOG) {
        cli_error("export: --key is for --format jepsen-log only");
        return SIM_EXIT_USAGE;
    }
    /* check the trace before creating the output file */
    struct trace_header h;
    char err[1024];
    int rc = trace_header_read(trace, &h, err, sizeof err);
    if (rc) {
        cli_error("%s", err);
        return rc;
    }
    trace_header_free(&h);
    FILE *out = open_out(out_path);
    if (!out)
        return SIM_EXIT_IO;
    rc = export_run(format, trace, key, out, err, sizeof err);
    int crc = close_out(out, out_path, rc != 0);
    if (rc) {
        cli_error("%s", err);
        return rc;
    }
    return crc;
}
