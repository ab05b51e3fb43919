/* The world: one simulated cluster, its clients, its network, its clock.
 *
 * The world owns the event queue and runs it. Time only moves forward, one
 * event at a time, in (time, sequence) order. Everything that happens is
 * written to the trace (if any). The world knows no protocol by name: nodes
 * run whatever struct model the scenario picked. */
#ifndef SIM_WORLD_H
#define SIM_WORLD_H

#include "simtypes.h"
#include "model.h"
#include "net.h"
#include "workload.h"
#include "nemesis.h"

struct trace;
typedef struct world world;

struct world_stats {
    uint64_t events;
    uint64_t msgs_sent;       /* node and client messages handed to the network */
    uint64_t msgs_delivered;
    uint64_t msgs_dropped;
    uint64_t msgs_duplicated;
    uint64_t timers;
    uint64_t ops_invoked;
    uint64_t ops_ok;
    uint64_t ops_fail;
    uint64_t ops_info;
    uint64_t ops_shed;        /* open loop arrivals dropped by a full queue */
    uint64_t retries;
    uint64_t redirects;
    uint64_t crashes;
    uint64_t invariant_violations;
};

/* A new empty world. tr may be NULL (tracing off); the world does not own it. */
world *world_new(uint64_t seed, struct trace *tr);
void world_free(world *w);

uint64_t world_seed(const world *w);
struct trace *world_trace(world *w);

/* Create the cluster: n nodes running model m with parameters p (the world
 * takes ownership of p), named names[i] (or n1..nN when names is NULL).
 * Once per world. Returns 0, or -1 with one line in err. */
int world_cluster(world *w, const struct model *m, params *p, int n,
                  const char *const *names, char *err, size_t errlen);
bool world_has_cluster(const world *w);
const struct model *world_model(const world *w);
const params *world_params(const world *w);

/* The network, for configuring links before the run. Endpoints 0..nodes-1
 * are the nodes; clients follow. Valid once the cluster exists. */
net *world_net(world *w);

int world_nodes(const world *w);
int world_clients(const world *w);
/* Endpoint index of a node or client name ("n1", "c3"), or -1. */
int world_find(const world *w, const char *name);
const char *world_name(const world *w, int endpoint);

/* Add the clients of a workload (ownership of wl->keys moves to the world). */
int world_workload(world *w, struct workload *wl, char *err, size_t errlen);
/* Start a random fault schedule. */
int world_nemesis(world *w, const struct nemesis *nm, char *err, size_t errlen);

sim_time world_now(const world *w);

/* ---- faults: take effect now, and are traced ---- */
void world_crash(world *w, int node);
void world_restart(world *w, int node);
void world_pause(world *w, int node, sim_time duration);   /* duration 0 = until resume */
void world_resume(world *w, int node);
/* Set a node's clock: it reads global + offset, and runs (1 + drift_ppb/1e9)
 * times as fast as real time from now on. */
void world_skew(world *w, int node, sim_time offset, int64_t drift_ppb);
/* group_of[e] for every endpoint e: a group number, or -1 (unaffected). */
void world_partition(world *w, const int *group_of);
void world_cut(world *w, int from, int to);
void world_isolate(world *w, int node);
/* Nodes in a and b cannot reach each other; node `via` reaches both. */
void world_bridge(world *w, const int *a, int na, const int *b, int nb, int via);
void world_heal(world *w);

bool world_node_up(const world *w, int node);

/* ---- script callbacks ---- */

/* Called when a scheduled script event fires; ref is what world_at got.
 * Return 0 to go on, nonzero to stop the run with an error (world_run
 * returns WORLD_STOPPED). */
typedef int (*world_script_fn)(void *ud, world *w, uint64_t ref);
void world_set_script(world *w, world_script_fn fn, void *ud);
void world_at(world *w, sim_time at, uint64_t ref);

/* Called by node_call: run the scenario function given for PARAM_FUNC
 * parameter `param` as f(key, a, b) and put its integer result in *out.
 * Return 0, or nonzero (after keeping the error to report) to stop the run:
 * world_run then returns WORLD_STOPPED after the current event. */
typedef int (*world_call_fn)(void *ud, world *w, const char *param, const char *key, int64_t a,
                             int64_t b, int64_t *out);
void world_set_call(world *w, world_call_fn fn, void *ud);

/* ---- running ---- */

enum world_status {
    WORLD_OK = 0,
    WORLD_STOPPED = -1,      /* a script callback or scenario function asked to stop */
    WORLD_EVENT_LIMIT = -2,  /* more events than the limit: a runaway model */
    WORLD_TRACE_ERROR = -3,  /* writing the trace failed */
    WORLD_INVARIANT = -4,    /* a model invariant broke; the run stopped there */
    WORLD_INTERRUPTED = -5,  /* world_interrupt() was called (a signal) */
    WORLD_QUEUE_LIMIT = -6,  /* more than WORLD_MAX_PENDING events waiting: a storm */
};

/* The largest cluster: the network keys links by endpoint and stores only
 * the links traffic touches, so size is bounded by per-node state (a few
 * KB each plus the model's), not by n * n. Clients come on top. */
#define WORLD_MAX_NODES 1000000

/* Pending events (messages in flight, timers) beyond which a run stops:
 * about 2 GB of queue and envelopes, far above any sane model. */
#define WORLD_MAX_PENDING (16u * 1000 * 1000)
void world_set_max_pending(world *w, size_t max_pending);   /* 0 = the default */

/* Ask every running world_run to return WORLD_INTERRUPTED after its current
 * event. Async-signal-safe: a SIGINT handler may call it. */
void world_interrupt(void);
/* Clear the request (before a new run in the same process). */
void world_interrupt_clear(void);

/* By default the first broken model invariant stops the run: world_run
 * returns WORLD_INVARIANT then and on every later call, without running
 * anything. keep_going runs on and only counts violations. */
void world_set_keep_going(world *w, bool keep_going);
/* If an invariant stopped the run: true, with when and the report (the
 * violation's sentence, then the last node events before it, one per line). */
bool world_halted(const world *w, sim_time *at, const char **report);

void world_set_event_limit(world *w, uint64_t max_events);

/* Called every WORLD_PROGRESS_EVENTS events while running, for progress
 * output; it must not change the world. */
#define WORLD_PROGRESS_EVENTS (1u << 20)
typedef void (*world_progress_fn)(void *ud, sim_time now, uint64_t events);
void world_set_progress(world *w, world_progress_fn fn, void *ud);

/* Process every event up to and including time `until`, then set the clock
 * to `until`. */
int world_run(world *w, sim_time until);

/* Write the final state of every node and an "end" line to the trace. */
void world_finish(world *w);

const struct world_stats *world_stats(const world *w);

#endif
