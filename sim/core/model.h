/* The model API: how a protocol is written.
 *
 * A model is a table of callbacks over an opaque per-node state. A node sees
 * the world only through its node_ctx: it can send messages, set and cancel
 * timers, read its own (possibly skewed) clock, draw random numbers from its
 * own stream, use its durable store, reply to clients and note state changes
 * into the trace. It cannot see other nodes or the global time. */
#ifndef SIM_MODEL_H
#define SIM_MODEL_H

#include "simtypes.h"
#include "params.h"
#include "jw.h"

typedef struct node_ctx node_ctx;

/* ---- client operations ------------------------------------------------ */

/* read, write and cas act on a register; add and remove on a counter or a
 * set (for models with such types): add's value is the increment (counter)
 * or the element (set), remove's the element. */
enum op_type { OP_READ, OP_WRITE, OP_CAS, OP_ADD, OP_REMOVE, OP_TXN, OP__COUNT };

/* A transaction's micro-operation (OP_TXN): a read or a write of one key. */
struct sim_micro {
    enum op_type f;      /* OP_READ or OP_WRITE */
    const char *key;     /* owned by the world for the whole run */
    int64_t value;       /* write: the value (unique in the run) */
};

/* The most micro-operations in one transaction. */
#define SIM_TXN_MAX 16
/* A read of a key that was never written, in a transaction's results. */
#define SIM_NIL INT64_MIN
const char *op_type_name(enum op_type t);

/* One client operation as a node receives it. key points to a string owned
 * by the world for the whole run, so a model may copy the struct and keep
 * it to reply later. The same id arrives again when the client retries. */
struct sim_op {
    uint64_t id;
    int client;          /* client index */
    int attempt;         /* 1 for the first try */
    enum op_type type;
    const char *key;
    int64_t value;       /* write: the value; cas: the new value */
    int64_t expect;      /* cas: the value expected */
    /* The causal context the last read of this key by this client returned
     * (see sim_reply.ctx), or NULL/0. Valid only during on_request: copy it. */
    const void *ctx;
    size_t ctx_len;
    /* OP_TXN: the micro-operations, in order, on distinct keys (key above
     * is the first one's). Valid only during on_request: copy them. */
    int n_micro;
    const struct sim_micro *micro;
};

/* The largest causal context a reply may carry. */
#define SIM_CTX_MAX 512
/* The most values one read may return (siblings, a set's elements). */
#define SIM_VALUES_MAX 64

enum reply_status {
    REPLY_OK,        /* done; for read, value/has_value is the result */
    REPLY_FAIL,      /* definitely not applied (cas mismatch, refused) */
    REPLY_REDIRECT,  /* not applied; try node `redirect` */
    REPLY_UNKNOWN,   /* the node gave up: it may or may not have been applied */
};

struct sim_reply {
    enum reply_status status;
    bool has_value;      /* read: false means the key was never written */
    int64_t value;
    int redirect;        /* node index, or -1 if unknown */
    const char *error;   /* static text for FAIL and REDIRECT, e.g. "not leader" */
    /* read: several values instead of one (concurrent siblings, or a set's
     * elements), n_values <= SIM_VALUES_MAX, copied by node_reply. When
     * n_values > 0, has_value/value are ignored. */
    int n_values;
    const int64_t *values;
    /* read: an opaque causal context (e.g. a version vector), at most
     * SIM_CTX_MAX bytes, copied. The client keeps the last one per key and
     * sends it with its next write, add or remove of that key (sim_op.ctx),
     * which is how siblings get resolved by the next write. */
    const void *ctx;
    size_t ctx_len;
};

/* ---- the callbacks ---------------------------------------------------- */

/* What the check callback sees: every node's state (NULL while crashed). */
struct model_view {
    int n_nodes;
    void *const *states;
    const params *params;
    sim_time now;
};

/* A deliberate bug a model can switch on (param "mutant"), for watching the
 * checkers catch it. `sim list` shows each with its line. */
struct model_mutant {
    const char *name;
    const char *help;
};

struct model {
    const char *name;
    const char *summary;                 /* one line for `sim list` */
    const struct model_param *params;    /* ends with { NULL } */

    /* Boot or restart: build the volatile state from the durable store. */
    void *(*init)(node_ctx *ctx);
    void (*destroy)(void *state);
    /* A message from node `from`; msg is valid only during the call. */
    void (*on_message)(void *state, node_ctx *ctx, int from, const void *msg, size_t len);
    /* A timer set with node_timer_set fired; tag is what was passed. */
    void (*on_timer)(void *state, node_ctx *ctx, uint64_t tag);
    /* A client operation arrived at this node. Reply now or later with
     * node_reply (once; later replies for the same attempt are ignored). */
    void (*on_request)(void *state, node_ctx *ctx, const struct sim_op *op);
    /* Write a message's fields (at least "type") into the open object. */
    void (*describe_msg)(const void *msg, size_t len, jw *out);
    /* Write the node's state (for the final-state lines) into the open object. */
    void (*describe)(const void *state, jw *out);
    /* Optional: protocol invariants over all nodes, run after each event.
     * Return 0 if they hold, else write one sentence into why. */
    int (*check)(const struct model_view *view, char *why, size_t whylen);
    /* Optional: the CAP/PACELC class these parameters put the model in,
     * e.g. "PA/EL", as a static string. */
    const char *(*cap_class)(const params *p);
    /* Optional: reject a parameter set that cannot work on n_nodes nodes
     * (say w > n) before anything runs. Return 0, or -1 with one sentence
     * in err, which the scenario sees as "cluster: <err>". */
    int (*validate)(const params *p, int n_nodes, char *err, size_t errlen);
    /* Optional: refuse a workload key this model cannot serve (say one
     * naming a participant that does not exist); called by workload{} for
     * every key. 0, or -1 with one sentence in err. */
    int (*check_key)(const params *p, int n_nodes, const char *key, char *err, size_t errlen);
    /* Optional: the mutants, ending with { NULL }. A model with mutants
     * declares an enum parameter "mutant" whose choices are "none" and
     * these names. */
    const struct model_mutant *mutants;
};

/* The registry of every model, in models/registry.c. */
const struct model *model_find(const char *name);
const struct model *const *model_all(void);   /* NULL-terminated */

/* ---- what a node can do ----------------------------------------------- */

int node_self(const node_ctx *ctx);                 /* this node's index */
int node_count(const node_ctx *ctx);                /* nodes in the cluster */
const char *node_name(const node_ctx *ctx, int node);
const params *node_params(const node_ctx *ctx);

/* This node's local clock: the virtual time as its skewed, drifting clock
 * shows it. Timers and leases must use this, never global time. */
sim_time node_clock(const node_ctx *ctx);

/* Send len bytes to node `to`. The bytes are copied; the network may delay,
 * drop, duplicate or reorder the message. */
void node_send(node_ctx *ctx, int to, const void *msg, size_t len);
/* Send to every other node. */
void node_broadcast(node_ctx *ctx, const void *msg, size_t len);

/* Fire on_timer(tag) after `delay` of this node's local time. Returns an id
 * for node_timer_cancel. A crash cancels every timer; a pause delays them. */
uint64_t node_timer_set(node_ctx *ctx, sim_time delay, uint64_t tag);
void node_timer_cancel(node_ctx *ctx, uint64_t timer_id);

/* Draws from this node's own random stream. */
uint32_t node_random(node_ctx *ctx);
uint32_t node_random_below(node_ctx *ctx, uint32_t bound);
int64_t node_random_range(node_ctx *ctx, int64_t lo, int64_t hi);

/* The durable store (see store.h). Unsynced writes are lost by a crash. */
void node_store_put(node_ctx *ctx, const char *key, const void *val, size_t len);
void node_store_del(node_ctx *ctx, const char *key);
const void *node_store_get(node_ctx *ctx, const char *key, size_t *len);
void node_store_sync(node_ctx *ctx);
struct store *node_store(node_ctx *ctx);

/* Answer a client operation. */
void node_reply(node_ctx *ctx, const struct sim_op *op, const struct sim_reply *reply);
void node_reply_ok(node_ctx *ctx, const struct sim_op *op, bool has_value, int64_t value);
void node_reply_fail(node_ctx *ctx, const struct sim_op *op, const char *error);
/* The node cannot tell whether the operation took effect (it gave up
 * waiting on another node that may still apply it): the client records
 * the operation as info at once instead of waiting for its own timeout. */
void node_reply_unknown(node_ctx *ctx, const struct sim_op *op, const char *error);
void node_reply_redirect(node_ctx *ctx, const struct sim_op *op, int leader, const char *error);
/* A read's answer of several values (siblings or a set) with an optional
 * causal context; see struct sim_reply. */
void node_reply_values(node_ctx *ctx, const struct sim_op *op, const int64_t *values, int n_values,
                       const void *cctx, size_t cctx_len);
/* A committed transaction's answer: results[i] for micro-operation i, the
 * value read (SIM_NIL: never written) or, for a write, its value. An
 * aborted transaction is node_reply_fail. */
void node_reply_txn(node_ctx *ctx, const struct sim_op *op, const int64_t *results);

/* Call the scenario's Lua function given as parameter `param` (declared
 * PARAM_FUNC) as f(key, a, b), which must return an integer, into *out.
 * Returns 0; or -1 if the parameter has no function or the function failed,
 * in which case the run stops with the scenario error (exit 4) after the
 * current event and the model should carry on with a fallback. */
int node_call(node_ctx *ctx, const char *param, const char *key, int64_t a, int64_t b, int64_t *out);

/* The request id: the client operation that (directly, or through messages
 * and timers) caused the running handler, or 0 when none did. Sends, timers
 * and notes made by the handler carry it ("req" in the trace). A model that
 * queues work and serves it later from another context saves node_req and
 * restores it with node_set_req before the sends that serve it (0 clears). */
uint64_t node_req(const node_ctx *ctx);
void node_set_req(node_ctx *ctx, uint64_t req);

/* Note the node's role and term in the trace (only when they change). */
void node_set_role(node_ctx *ctx, const char *role, int64_t term);
/* A free-form note: returns a writer inside {"ev":"note","node":...,"what":what}
 * to add fields to, then call node_note_end. Returns NULL when tracing is off
 * (then do not call node_note_end). */
jw *node_note_begin(node_ctx *ctx, const char *what);
void node_note_end(node_ctx *ctx);

#endif
