/* report: what `sim report` and `sim export` know about a trace.
 *
 * A trace can hold millions of lines, so nothing here keeps the whole file:
 * tscan_run streams it one line at a time (trace_getline, one small cJSON
 * tree per line), and rep_load keeps only bounded samples for the pictures
 * (at most REP_MAX_MSGS messages, REP_MAX_OPS operations, ...; when a run
 * has more, the sample is thinned evenly and the page says so), plus the
 * checkers' inputs: the history (operations only) and the trace facts.
 *
 * Modules: scan.c (streaming and the sampled data), html.c (the page),
 * text.c (sim report --text), export.c (Perfetto, ShiViz, Jepsen,
 * Porcupine), cmd_report.c (the two commands). */
#ifndef SIM_REPORT_H
#define SIM_REPORT_H

#include "check/checker.h"
#include "check/history.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cJSON;

/* ==== streaming a trace =================================================== */

struct tscan_info {
    long lines;            /* lines read, the header included */
    int64_t last_t;        /* time of the last line */
    bool complete;         /* an "end" line was read */
    bool truncated;        /* the last line was cut short and was ignored */
    bool error_line;       /* the run ended in error (an "error" line) */
};

/* Called for every line after the header: the parsed object, its "ev" and
 * "t", the raw text and its line number. Return 0 to go on, or an exit code
 * (with err filled) to stop. */
typedef int (*tscan_fn)(void *ctx, const struct cJSON *obj, const char *ev, int64_t t,
                        const char *raw, size_t len, long lineno);

/* Check the header (trace_header_read), then call fn on every other line.
 * A line that is not a JSON object with "ev" and an integer "t" stops the
 * scan with "PATH:LINE: what is wrong"; a last line without a newline that
 * does not parse is a killed run's and is skipped (info->truncated). hdr
 * receives the header (free with trace_header_free) unless NULL. Returns 0
 * or a SIM_EXIT_* code with one line in err. */
struct trace_header;
int tscan_run(const char *path, struct trace_header *hdr, tscan_fn fn, void *ctx,
              struct tscan_info *info, char *err, size_t errlen);

/* ==== adaptive time buckets =============================================== */

#define REP_BUCKETS 512

/* Counts per time bucket over a range not known in advance: the width
 * starts at 1 ms and doubles (merging neighbours) whenever a time falls
 * beyond the last bucket. */
struct rep_buckets {
    int64_t width;
    uint32_t n[REP_BUCKETS];
};
void rep_buckets_add(struct rep_buckets *b, int64_t t);

/* ==== the report's data =================================================== */

#define REP_MAX_MSGS 4000      /* messages drawn one by one */
#define REP_MAX_OPS 12000      /* operations drawn one by one (violations always) */
#define REP_MAX_MARKS 4000     /* faults, notes, role changes each */
#define REP_MAX_TEXT 240       /* characters of a message or state shown on hover */

enum rep_msg_end { REP_MSG_DELIVERED, REP_MSG_DROPPED, REP_MSG_IN_FLIGHT };

struct rep_msg {
    int64_t id, index;         /* message id, and its number in send order */
    int64_t sent, done;        /* done: delivery or drop time (-1 in flight) */
    int from, to;              /* indexes into names */
    uint8_t end;               /* enum rep_msg_end */
    int64_t req;               /* the trace's "req": the client operation behind it, 0 = none */
    char *reason;              /* drop reason (owned), or NULL */
    char *text;                /* the message, shortened (owned) */
};

struct rep_mark {              /* a fault or a note on a node lane */
    int64_t t;
    int node;                  /* -1: the whole cluster (partition, heal) */
    char *kind;                /* "crash", "restart", "pause", "partition", a note's what ... */
    char *text;                /* for people (owned) */
    int64_t req;               /* notes: the trace's "req", 0 = none */
};

struct rep_role {              /* a node's role from t on */
    int64_t t;
    int node;
    char *role;                /* owned */
    int64_t term;
};

/* ==== RED per service and USE per node, over time ========================= */

/* One window width for every series: it starts at 1 ms and doubles
 * (merging neighbours) when a time falls beyond REP_WINDOWS windows, so a
 * run of any length ends with 32 to 64 windows and memory stays fixed. */
#define REP_WINDOWS 64
/* Latencies per window go into a log histogram: bucket 0 below 1 us, then
 * 8 buckets per doubling (a percentile is exact to within 9%) up to about
 * 2^28 us. */
#define REP_LAT_BUCKETS 224
#define REP_MAX_SERVICES 32

struct rep_red_win {
    uint32_t count, errors;
    uint32_t lat[REP_LAT_BUCKETS];
};

struct rep_service {           /* RED: rate, errors, duration */
    char *name;                /* "clients" (from the client operations) or a served note's service */
    bool clients;
    uint64_t count, errors;
    struct rep_red_win *win;   /* REP_WINDOWS (owned) */
};

struct rep_use_win {           /* USE: integrals over the window (level x ns) */
    double busy, capacity, queue, inflight, down;
    uint32_t queue_max, inflight_max;
    uint32_t errors;           /* served notes with ok false at the node */
    uint32_t drops;            /* messages to the node dropped */
};

struct rep_node_use {
    bool has_load;             /* the model writes "load" notes for it */
    int64_t busy, capacity, queue, inflight;   /* current levels */
    bool down;
    int64_t since;             /* the levels hold from here */
    uint64_t errors, drops;
    struct rep_use_win *win;   /* REP_WINDOWS (owned) */
};

struct rep_obs {
    int64_t width;             /* ns per window (0 until the first event) */
    struct rep_service services[REP_MAX_SERVICES];
    int n_services;
    uint64_t services_left_out;   /* served notes of services beyond the cap */
    struct rep_node_use *nodes;   /* r->n_nodes of them (owned) */
    int n_nodes;
    bool any_load, any_served;
};

struct rep;
/* Filled by rep_load. The number of windows that hold the run: */
int rep_obs_windows(const struct rep *r);
/* A percentile (q in (0,1]) of a service's latencies in windows
 * [from, to) in ns (the middle of its histogram bucket), or -1 when there
 * are none. */
int64_t rep_red_pct(const struct rep_service *s, int from, int to, double q);

struct rep_checked {
    const struct checker *checker;
    struct check_result result;
    int64_t *ops;              /* op ids the evidence names (owned) */
    size_t n_ops;
    int64_t *order;            /* linearizable: the attempted order (op ids) */
    size_t n_order;
};

struct rep {
    const char *path;
    /* header and setup */
    char *scenario, *seed, *sim_version, *header_params;   /* params as JSON text */
    char *model, *cap_class, *cluster_params;
    char **names;              /* nodes then clients */
    int n_nodes, n_names;
    size_t cap_names;
    /* sampled pictures */
    struct rep_msg *msgs;
    size_t n_msgs, cap_msgs;
    int64_t msg_stride;        /* every msg_stride-th message (in send order) is kept */
    int64_t n_sent, n_delivered, n_dropped;
    struct rep_buckets sent_buckets, drop_buckets;
    struct rep_mark *marks;
    size_t n_marks, cap_marks, marks_left_out;
    struct rep_mark *notes;    /* model notes other than roles */
    size_t n_notes, cap_notes, notes_left_out;
    struct rep_role *roles;
    size_t n_roles, cap_roles, roles_left_out;
    char **logs;
    size_t n_logs, cap_logs;
    char **expects;            /* "name: held/failed: detail" */
    size_t n_expects, cap_expects;
    char **final_state;        /* per node: the state line's text, or NULL */
    int64_t n_timers;
    char *end_line;            /* the end line's totals as JSON text, or NULL */
    char *error_msg;           /* the error line's message, or NULL */
    struct tscan_info info;
    /* what the checkers read */
    hist *h;
    struct trace_facts facts;
    bool have_facts;
    struct rep_checked *checked;
    size_t n_checked;
    char hist_warning[512];
    struct rep_obs obs;
    /* private to scan.c: in-flight sampled messages */
    void *inflight;
};

/* Read the trace at path into r: two streaming passes (the sampled data and
 * the history, then the trace facts) and every checker. Returns 0 or a
 * SIM_EXIT_* code with one line in err; r is then freed already. */
int rep_load(const char *path, struct rep *r, char *err, size_t errlen);
void rep_free(struct rep *r);
/* Index of a name in r->names, or -1. */
int rep_name(const struct rep *r, const char *name);
/* The end of the run as the pictures show it (ns, at least 1). */
int64_t rep_end_time(const struct rep *r);
/* The checked entry that names op id, or NULL (the first that does). */
const struct rep_checked *rep_op_violation(const struct rep *r, int64_t op_id);

/* Latency figures of the completed (not open) operations of kind f, ns. */
struct rep_latency {
    size_t count;
    int64_t p50, p90, p99, max;
};
/* Latencies of f (HIST_READ ...), of every operation that completed (ok,
 * fail or info). *sorted receives them in increasing order when sorted is
 * not NULL (the caller frees it). */
struct rep_latency rep_latency_of(const struct rep *r, int f, int64_t **sorted);

/* Availability of one side of a network split: operations invoked during
 * the window on a node of that side, and how many of them were ok. */
struct rep_side {
    size_t window;
    int side;
    size_t invoked, ok;
    char members[256];
};
/* Every side of every window; *n set. Caller frees. */
struct rep_side *rep_availability(const struct rep *r, size_t *n);

/* ==== outputs ============================================================= */

/* obs.c, for scan.c: the RED/USE aggregation, fed line by line. */
void rep_obs_line(struct rep *r, const struct cJSON *o, const char *ev, int64_t t);
void rep_obs_finish(struct rep *r);   /* after the scan and the history */
void rep_obs_free(struct rep *r);

/* The path of one request (its "req" id, which is its client op id) on
 * out: the operation's lines, every send that carries it with its
 * delivery or drop, and the timers and notes that carry it, in trace
 * order. 0 or a SIM_EXIT_* code with one line in err. */
int rep_write_req(const char *path, int64_t req, FILE *out, char *err, size_t errlen);

/* The HTML page on out. 0, or -1 when a write failed. */
int rep_write_html(const struct rep *r, FILE *out);
/* The terminal text on out, coloured when color. */
int rep_write_text(const struct rep *r, FILE *out, bool color);

enum export_format { EXPORT_PERFETTO, EXPORT_SHIVIZ, EXPORT_JEPSEN, EXPORT_JEPSEN_LOG, EXPORT_PORCUPINE };
bool export_format_parse(const char *name, enum export_format *out);
/* Stream the trace at path into out in the given format. key: for
 * jepsen-log, the one register to write (NULL: the only key, or an error
 * when there are several). 0 or a SIM_EXIT_* code with one line in err. */
int export_run(enum export_format format, const char *path, const char *key, FILE *out,
               char *err, size_t errlen);

#endif
