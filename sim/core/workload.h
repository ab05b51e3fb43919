/* Client workloads: what the simulated clients do.
 *
 * A workload adds `clients` clients. Each client runs one operation at a
 * time (so every client's history is sequential, as checkers need): in a
 * closed loop it starts the next operation `think` after the last one ends;
 * in an open loop operations arrive at `rate` per second across the
 * workload's clients and wait in the client's queue while it is busy. */
#ifndef SIM_WORKLOAD_H
#define SIM_WORKLOAD_H

#include "simtypes.h"

#define OP_KINDS 6           /* = OP__COUNT in model.h */

enum wl_keys { WL_KEYS_UNIFORM, WL_KEYS_ZIPF };

enum wl_target {
    WL_TARGET_RANDOM,   /* each operation to a node drawn at random */
    WL_TARGET_STICKY,   /* always the same node (client i -> node i mod n) */
    WL_TARGET_LEADER,   /* remember where redirects point, start at random */
    WL_TARGET_NODE,     /* always node `node` */
};

/* One operation of a scripted workload: exactly this, at this time. */
struct wl_script_op {
    sim_time at;             /* issued then, or as soon as its client is free */
    int client;              /* 0-based within the workload */
    int f;                   /* enum op_type: read, write, cas, add or remove */
    int key;                 /* index into keys */
    int64_t value;           /* write/add/remove: the value; cas: the new value */
    int64_t expect;          /* cas */
};

struct workload {
    int clients;
    bool closed;
    double rate;             /* open loop: operations per second, all clients */
    sim_time think;          /* closed loop: pause between operations */
    int n_keys;
    char **keys;             /* owned by the workload after world_workload */
    enum wl_keys key_dist;
    double zipf_s;           /* zipf exponent, > 0 */
    double mix[OP_KINDS];    /* weights of read, write, cas, add, remove, txn (by op_type) */
    int txn_min, txn_max;    /* micro-operations per transaction, on distinct keys */
    double txn_reads;        /* probability that a micro-operation is a read */
    int64_t values_lo, values_hi; /* add and remove draw their value in [lo, hi] */
    sim_time start;          /* first operation no earlier than this */
    sim_time duration;       /* no new operation after start + duration; 0 = no end */
    sim_time timeout;        /* per attempt; a timed-out op is retried or becomes info */
    int retries;             /* extra attempts after a timeout */
    sim_time backoff;        /* first retry delay, doubling per retry */
    sim_time backoff_max;
    double jitter;           /* retry delay drawn in [d*(1-jitter), d] */
    int max_redirects;       /* per operation */
    enum wl_target target;
    int node;                /* WL_TARGET_NODE */
    int queue_limit;         /* open loop: arrivals beyond this are shed */
    /* scripted: these operations instead of drawn ones (clients = the
     * largest client index + 1; closed, rate, mix, duration are ignored).
     * Sorted by (at, position) by world_workload; owned by the workload. */
    struct wl_script_op *script;
    int n_script;
};

/* Fill in the defaults (see docs/lua-api.md, workload{}). */
void workload_defaults(struct workload *wl);

#endif
