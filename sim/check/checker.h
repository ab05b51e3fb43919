/* check: the checkers and what they share.
 *
 * Every checker reads a history (sim/check/history.h) and, for our own
 * traces, the facts the trace holds besides operations (struct trace_facts:
 * the cluster, partitions and heals, crashes, final replica states, protocol
 * invariant lines). It returns a verdict, one sentence a student can read,
 * and evidence (JSON for --json, text lines for people). Checkers never see
 * the live simulation and never include a model header: what a model wants
 * checked reaches them through the trace.
 *
 * Adding a checker: write sim/check/NAME.c with a `const struct checker
 * NAME_checker`, add it to the table in registry.c and to check_src in
 * meson.build (docs/checkers.md says more). */
#ifndef SIM_CHECKER_H
#define SIM_CHECKER_H

#include "history.h"
#include "u64map.h"
#include "jw.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

enum check_verdict {
    CHECK_HOLDS,
    CHECK_VIOLATED,
    CHECK_UNKNOWN,   /* ran out of budget, or the history cannot tell */
    CHECK_SKIPPED,   /* does not apply (e.g. needs a sim trace, got a Jepsen log) */
};

/* ---- what a sim trace says besides the operations ---------------------- */

/* A time window during which the network was split (from a partition,
 * isolate, cut or bridge line to the next heal). */
struct net_window {
    int64_t start;              /* ns */
    int64_t end;                /* ns; INT64_MAX if never healed */
    const char *kind;           /* "partition", "isolate", "cut", "bridge" */
    /* side_of[e] for every node and client name in trace_facts.names:
     * the group number, or -1 when the endpoint was not cut off from anybody */
    int *side_of;
};

struct node_window {           /* a node down (crashed) or paused */
    int node;                   /* index into names */
    int64_t start, end;         /* end INT64_MAX if still so at the end */
    bool paused;                /* false: crashed */
};

struct trace_facts {
    char *model;                /* from the cluster line */
    char *cap_class;            /* what the model declares, or NULL */
    struct cJSON *params;       /* the cluster line's params object (owned) */
    int n_nodes;                /* nodes are names[0 .. n_nodes-1] */
    int n_names;                /* nodes then clients */
    char **names;
    struct net_window *windows;
    size_t n_windows;
    struct node_window *down;
    size_t n_down;
    int64_t last_fault_end;     /* ns: when the last partition healed / node came back */
    int64_t end_time;           /* ns: the end line's (or last line's) time */
    struct cJSON **final_state; /* per node: the "state" line's object, NULL if down or absent */
    bool *final_up;             /* per node */
    size_t n_invariant;         /* protocol invariant lines */
    int64_t *invariant_t;
    char **invariant_why;
    /* one-way delivery delays (ns, sorted), for the round trips: between
     * nodes, and between clients and nodes (either way) */
    int64_t *node_delays;
    size_t n_node_delays;
    int64_t *client_delays;
    size_t n_client_delays;
    /* per client operation id: the node its first attempt went to, and the
     * node whose ok reply decided it (read them with trace_facts_route).
     * Ids come from the file: a map from id to a slot, so memory follows the
     * number of operations, whatever a forged id says. */
    struct u64map op_slot;      /* op id -> index into routes */
    struct op_route { int target, server; } *routes;   /* -1 = none */
    size_t n_routes, cap_routes;
    bool complete;              /* the trace has its end line */
    bool has_cluster;           /* a cluster line was read: later ones are ignored */
    /* the model notes the checkers of transactions, sagas and locks read
     * (the kinds listed in kept[] in trace_facts_read: "decision",
     * "blocked", "unblocked", "saga", "step", "compensate", "granted",
     * "acquired", "released", "lease_over", "storage_write", and the event
     * log's "appended", "assigned", "consumed"), in trace
     * order; other notes are not kept, so memory stays bounded */
    struct trace_note *notes;
    size_t n_notes;
    /* the service-level objectives expect{slo = ...} declared ("slo"
     * lines, whole, owned), in trace order; judged by sim/check/slo.c */
    struct cJSON **slo;
    size_t n_slo;
};

struct trace_note {
    int64_t t;                  /* ns */
    int node;                   /* index into names, -1 if unknown */
    const char *what;           /* points into obj */
    struct cJSON *obj;          /* the whole line (owned) */
};

/* Read the facts of the trace at path. 0, or a HIST_E* code with one line
 * in err. Free with trace_facts_free. */
int trace_facts_read(const char *path, struct trace_facts *out, char *err, size_t errlen);
void trace_facts_free(struct trace_facts *f);
/* Index of a name in facts->names, or -1. */
int trace_facts_find(const struct trace_facts *f, const char *name);
/* Where client operation op was sent first and who answered it ok (each
 * -1 if the trace does not say); false when the trace never mentions op. */
bool trace_facts_route(const struct trace_facts *f, int64_t op, int *target, int *server);

/* Which side of a network fault an operation counts on, for availability
 * (the cap checker and the report's table agree through this): the side of
 * the node its first attempt went to, or, when its client was itself on
 * another side of that fault (the request could not arrive), the client's
 * side: what the clients there got. Clients are looked up by name once
 * each. */
struct op_sides {
    const struct trace_facts *f;
    const hist *h;
    int *client;                /* per string id of h: index into f->names; -2 not looked up, -1 none */
    size_t n_str;
};
void op_sides_init(struct op_sides *s, const struct trace_facts *f, const hist *h);
void op_sides_free(struct op_sides *s);
/* op's side in window w (-1: a side nobody was cut off from) into *side;
 * false when the trace does not say where op was sent. */
bool op_sides_of(struct op_sides *s, const struct net_window *w, const struct hist_op *op, int *side);

/* ---- checkers -------------------------------------------------------------- */

struct check_input {
    const hist *h;
    const struct trace_facts *facts;   /* NULL for Jepsen and Porcupine files */
    uint64_t budget;                   /* search steps for the searching checkers; 0 = default */
    int64_t quiet_period;              /* ns of calm after the last fault before
                                        * convergence is required; 0 = default */
    bool no_evidence;                  /* verdicts only: skip searches that exist
                                        * only to find evidence (sim check --no-evidence) */
};

struct check_result {
    enum check_verdict verdict;
    char reason[1024];         /* one sentence, always set */
    jw evidence;               /* a JSON object (the checker opens and closes it) */
    char *text;                /* evidence for people: lines, each ending "\n"; may be NULL */
    size_t text_len, text_cap;
    uint64_t steps;            /* search steps used, for the searching checkers */
};

struct checker {
    const char *name;          /* "linearizable", "read_your_writes", ... */
    const char *summary;       /* one line for sim check --help */
    bool needs_trace;          /* skipped on Jepsen and Porcupine files */
    /* Fill out (already initialised with check_result_init). Return 0, or
     * HIST_ENOMEM. */
    int (*run)(const struct check_input *in, struct check_result *out);
    /* false (the default): it judges client operations as single-value
     * registers, so check_run skips it on other histories. true: it reads
     * something else (final states, transactions, the models' notes) and
     * runs on any history, saying "skipped" itself when there is nothing
     * of its kind. */
    bool any_history;
};

/* Run checker c on in into out (initialised by the caller). A checker that
 * judges registers (any_history false) is not run on a history with
 * add/remove operations or reads that returned several values: out is then
 * CHECK_SKIPPED with the reason. 0, or HIST_ENOMEM. */
int check_run(const struct checker *c, const struct check_input *in, struct check_result *out);

/* Every checker, NULL-terminated, in the order sim check prints them. */
extern const struct checker *const checkers[];
const struct checker *checker_find(const char *name);

void check_result_init(struct check_result *r);
void check_result_free(struct check_result *r);
/* Append a printf-formatted line of evidence text (a newline is added).
 * Write lines without a leading indent: sim check prints them indented by
 * two under the checker's name. */
void check_text(struct check_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *check_verdict_name(enum check_verdict v);   /* holds, violated, unknown, skipped */

/* snprintf into buf (n bytes), through vsnprintf so a sentence that is too
 * long is cut, never overrun, without the compiler's truncation warnings
 * on long composed reasons. */
int check_say(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Write operation `index` of h as one JSON object (op id, process, f, key,
 * type, value — [expect, new] for a cas, null for a read that returned
 * nothing —, times, source lines, and a sentence "c2 read x=1"). */
void check_json_op(jw *w, const hist *h, long index);

#endif
