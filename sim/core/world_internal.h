/* The world's private structures, shared by world.c, client.c and
 * nemesis.c only. Nothing outside sim/core includes this. */
#ifndef SIM_WORLD_INTERNAL_H
#define SIM_WORLD_INTERNAL_H

#include "world.h"
#include "evq.h"
#include "pcg.h"
#include "store.h"
#include "trace.h"

enum ev_kind {
    EV_DELIVER = 1,     /* ptr: struct envelope; arg: copy number */
    EV_TIMER,           /* target: node; arg: timer id */
    EV_SCRIPT,          /* arg: script ref */
    EV_RESUME,          /* target: node; arg: pause generation */
    EV_CLIENT_NEXT,     /* target: client; start the next operation */
    EV_CLIENT_ARRIVAL,  /* target: client; open-loop arrival */
    EV_CLIENT_TIMEOUT,  /* target: client; arg: attempt token */
    EV_CLIENT_RETRY,    /* target: client; arg: attempt token */
    EV_NEMESIS,         /* arg: nemesis step */
};

enum msg_kind { MSG_NODE, MSG_REQUEST, MSG_REPLY };

/* A message in flight. Allocated once at send, freed after its last copy
 * is delivered or dropped (refs counts the copies still in the queue). */
struct envelope {
    uint64_t id;
    int from;
    int to;
    enum msg_kind kind;
    int refs;
    uint64_t req;       /* the client operation that caused this message, 0 = none */
    union {
        struct sim_op op;                      /* MSG_REQUEST */
        struct { struct sim_op op; struct sim_reply reply; } r; /* MSG_REPLY */
    } u;
    size_t len;                                /* MSG_NODE payload */
    unsigned char data[];
};

/* One node event remembered for the report of a broken invariant. */
#define WORLD_RECENT 12
#define WORLD_RECENT_BYTES 256
enum recent_kind { RECENT_DELIVER, RECENT_REQUEST, RECENT_TIMER, RECENT_CRASH, RECENT_RESTART };
struct recent_event {
    sim_time t;
    enum recent_kind kind;
    int node;
    int from;
    uint64_t tag;            /* timer tag; request: op id */
    enum op_type op;         /* request */
    size_t len;              /* message bytes kept (cut at WORLD_RECENT_BYTES) */
    size_t full_len;
    unsigned char data[WORLD_RECENT_BYTES];
};

struct timer_slot {
    uint64_t id;
    uint64_t tag;
    uint64_t req;       /* the request current when the timer was set, 0 = none */
};

struct node_ctx {
    world *w;
    int index;
    char *name;
    void *state;            /* model state; NULL while down */
    bool up;
    bool paused;
    uint64_t pause_gen;
    store *store;
    pcg32 rng;
    /* local clock: base_local + (g - base_global) * (1 + drift_ppb / 1e9) */
    sim_time base_global;
    sim_time base_local;
    int64_t drift_ppb;
    /* armed timers, sorted by id */
    struct timer_slot *timers;
    size_t n_timers, cap_timers;
    /* events that arrived while paused, replayed in order on resume */
    struct evq_event *deferred;
    size_t n_deferred, cap_deferred;
    char role[24];
    int64_t term;
};

struct pending_op {
    bool active;
    struct sim_op op;
    sim_time invoked_at;
    sim_time queued_at;
    int tries;              /* attempts sent, redirects included */
    int timeouts;
    int redirects;
    bool maybe_applied;     /* an attempt timed out: it may have taken effect */
    int node;               /* where the current attempt went */
    uint64_t token;         /* current attempt; stale timeouts carry old ones */
    int key;                /* index of op.key in the workload's keys */
    int n_values;           /* a read's several values (siblings, a set); a txn's results */
    int64_t values[SIM_VALUES_MAX];
    int n_micro;            /* OP_TXN: the micro-operations */
    struct sim_micro micro[SIM_TXN_MAX];
};

struct client {
    int index;
    int endpoint;
    char *name;
    int workload;
    pcg32 rng;
    struct pending_op cur;
    int leader_hint;
    /* open loop: arrival times waiting for the client to be free */
    sim_time *queue;
    size_t q_head, q_len, q_cap;
    bool done;              /* past the workload's end */
    /* per key of the workload: the causal context of the last read (or NULL) */
    unsigned char **ctx;
    size_t *ctx_len;
    int script_next;        /* scripted workload: index of its next op in the script */
};

struct wl_state {
    struct workload cfg;
    uint64_t *zipf_cut;     /* cumulative thresholds out of 2^32 */
    int64_t *last_value;    /* per key: the last value a write or cas sent */
    int first_client;
};

struct world {
    uint64_t seed;
    trace *tr;
    evq *q;
    sim_time now;
    uint64_t event_limit;
    struct world_stats stats;

    const struct model *model;
    params *params;
    int n_nodes;
    struct node_ctx *nodes;
    net *net;

    int n_clients;
    struct client *clients;
    struct wl_state *workloads;
    int n_workloads;
    uint64_t next_op_id;
    uint64_t next_value;
    uint64_t next_msg_id;
    uint64_t next_timer_id;
    uint64_t next_token;
    /* The client operation whose handling is running now (0 = none): set
     * when a request, a message or a timer caused by one is dispatched, and
     * copied into every send and timer made meanwhile (node_req). */
    uint64_t cur_req;
    /* one bit per op id: set when the client has the operation's outcome.
     * A message or timer of a finished request runs with no request, so a
     * periodic timer re-armed under one (a heartbeat) does not carry it on
     * for the rest of the run. */
    uint64_t *req_done;
    size_t req_done_words;

    char **qnames;           /* endpoint names as JSON strings, for the trace */
    size_t *qname_len;
    int n_qnames;

    world_progress_fn progress_fn;
    void *progress_ud;

    world_script_fn script_fn;
    void *script_ud;
    world_call_fn call_fn;
    void *call_ud;
    int stop;

    struct nemesis_state *nemesis;

    bool invariant_bad;      /* the last check failed: report the next change only */
    char invariant_why[256];
    bool keep_going;         /* run on after an invariant breaks (default: stop) */
    size_t max_pending;      /* queue size that stops a run (WORLD_QUEUE_LIMIT) */
    bool halted;             /* an invariant broke and the run stopped there */
    sim_time halted_at;
    char *halt_report;       /* the events that led to it, as text lines */
    /* the last node events, for the invariant report (only with a check) */
    struct recent_event recent[WORLD_RECENT];
    unsigned n_recent;       /* events pushed so far; the ring holds the last WORLD_RECENT */
    bool finished;
};

/* world.c, for client.c and nemesis.c */
void world_send_envelope(world *w, struct envelope *env);
struct envelope *world_envelope_new(world *w, int from, int to, enum msg_kind kind, size_t len);
void world_trace_op(world *w, const char *ev, const struct client *c, const struct pending_op *p,
                    bool has_value, int64_t value, const char *error);
int world_endpoint_is_client(const world *w, int e);
void world_cache_names(world *w);   /* after endpoints are added */

void world_req_finished(world *w, uint64_t req);   /* the client has its outcome */

/* client.c */
void client_setup(world *w, int wl_index);
void client_event(world *w, const struct evq_event *ev);
void client_on_reply(world *w, struct client *c, const struct envelope *env);

/* nemesis.c */
void nemesis_event(world *w, const struct evq_event *ev);
void nemesis_free(struct nemesis_state *n);

#endif
