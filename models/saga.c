/* saga: a long-running transaction as a sequence of local steps, each with
 * a compensating action, across services that each keep their own store.
 *
 * The seed's example is a trip: book_flight@n2/cancel_flight;
 * book_hotel@n3/cancel_hotel; book_car@n4/cancel_car (parameter steps:
 * "action@nK/compensation" separated by ";", one step per service node).
 * A client write starts a saga; its value (unique in the run) is the saga
 * id. If every step books, the saga is completed and the client gets ok;
 * if a step fails (parameter fail_step, or fail_prob), the steps already
 * done are compensated in reverse order and the client gets fail. A client
 * read sent to a service (key "nK") returns the newest saga id booked there
 * and not cancelled (nil if none): it can see a booking that a later
 * compensation takes back, the isolation a saga gives up.
 *
 * Two styles (parameter style):
 *   orchestration: one orchestrator (node `orchestrator`) runs each saga
 *     from a durable saga log, sending do/undo to the services one at a
 *     time; after a crash it resumes every unfinished saga from the log.
 *   choreography: no coordinator. The first step's service takes the
 *     client's write; each service, after its step, tells the next one
 *     (or, after a failure, the previous one to compensate); the first
 *     service answers the client when the saga has ended.
 *
 * Delivery is at least once: a message is resent every `retry` until it is
 * acknowledged, so services see duplicates. With idempotent = true a
 * service remembers each saga's booking and cancellation durably and a
 * duplicate does nothing; with false every do books again (double booking)
 * and a late do can even book after the cancellation.
 *
 * Mutants: forward_compensation (compensations run in forward order),
 * step_not_idempotent (duplicate do messages book again; compensation stays
 * idempotent).
 *
 * Notes: "step" (a service booked or failed a step), "compensate" (it ran a
 * compensation, with how many bookings it cancelled), "saga" (the outcome). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "model.h"
#include "store.h"

#define SAGA_MAX_STEPS 8
#define SAGA_NAME_MAX 32

struct saga_step {
    char action[SAGA_NAME_MAX];
    char comp[SAGA_NAME_MAX];
    int node;
};

struct saga_def {
    int n;
    struct saga_step step[SAGA_MAX_STEPS];
};

enum saga_msg_type {
    SAGA_DO = 1,      /* do step `step` */
    SAGA_DONE,        /* orchestration: the step's result (ok) */
    SAGA_UNDO,        /* compensate step `step`; `last` = the step that failed */
    SAGA_UNDONE,      /* orchestration: compensated */
    SAGA_COMPLETE,    /* choreography: the last step booked (to the first service) */
    SAGA_FINISH,      /* choreography: the compensations ended (to the first service) */
    SAGA_ACK,         /* choreography: got your message `acked` */
};

struct saga_msg {
    uint32_t type;
    int32_t step;
    uint64_t saga;
    int32_t ok;
    int32_t last;
    int32_t acked;    /* SAGA_ACK: the type acknowledged */
    int32_t pad;
};

enum saga_mutant { SAGA_MUT_NONE, SAGA_MUT_FORWARD, SAGA_MUT_NOT_IDEMPOTENT };
enum saga_phase { SAGA_FWD, SAGA_COMP, SAGA_COMPLETED, SAGA_COMPENSATED };

/* The orchestrator's saga log record ("s/<saga>"), and the first service's
 * in choreography (only phase matters there). */
struct saga_rec {
    uint64_t saga;
    int32_t phase;
    int32_t step;        /* FWD: the step being done */
    int32_t failed;      /* COMP: the step that failed */
    int32_t comp_i;      /* COMP: how many compensations are done */
};

/* A service's record of one saga ("b/<saga>"). */
struct saga_booking {
    int32_t booked;      /* bookings made (more than 1 only without idempotency) */
    int32_t cancelled;   /* bookings cancelled */
    int32_t failed;      /* the step failed here */
    int32_t undone;      /* a compensation arrived */
};

struct saga_out {        /* choreography: a message resent until acknowledged */
    int to;
    struct saga_msg msg;
};

struct saga_pending {    /* a client write waiting for its saga's end */
    uint64_t saga;
    struct sim_op op;
};

struct saga_cfg {
    struct saga_def def;
    bool choreography;
    int orchestrator;
    int fail_step;       /* 1-based, 0 = none */
    double fail_prob;
    bool idempotent;
    sim_time retry;
    enum saga_mutant mutant;
};

struct saga_state {
    int self, n;
    const char **names;
    struct saga_cfg cfg;
    int my_step;                 /* the step this node serves, or -1 */

    struct saga_rec *sagas;      /* orchestrator / first service: sagas in flight */
    size_t n_sagas, cap_sagas;
    struct saga_pending *pending;
    size_t n_pending, cap_pending;
    struct saga_out *outbox;
    size_t n_out, cap_out;
    uint64_t *active;            /* service: saga ids with a live booking, oldest first */
    size_t n_active, cap_active;
    bool timer_on;
    uint64_t completed, compensated, bookings;
};

#define SAGA_DEFAULT_STEPS "book_flight@n2/cancel_flight; book_hotel@n3/cancel_hotel; book_car@n4/cancel_car"

static const struct model_param saga_params[] = {
    { "steps", PARAM_STR, SAGA_DEFAULT_STEPS, NULL,
      "the saga: \"action@nK/compensation\" per step, separated by \";\", one step per node" },
    { "style", PARAM_ENUM, "orchestration", "orchestration|choreography",
      "a central orchestrator with a saga log, or services that react to each other's events" },
    { "orchestrator", PARAM_INT, "1", NULL, "orchestration: the orchestrator's node number (1 = n1)" },
    { "fail_step", PARAM_INT, "0", NULL, "this step (1 = the first) always fails; 0 = none" },
    { "fail_prob", PARAM_NUM, "0", NULL, "probability that a step fails" },
    { "idempotent", PARAM_BOOL, "true", NULL,
      "services recognise duplicate do/undo messages by saga id; false books again (double bookings)" },
    { "retry", PARAM_TIME, "20ms", NULL, "an unanswered message is sent again after this (at least once)" },
    { "mutant", PARAM_ENUM, "none", "none|forward_compensation|step_not_idempotent",
      "switch on one deliberate bug (see the mutants below)" },
    { NULL, 0, NULL, NULL, NULL },
};

static const struct model_mutant saga_mutants[] = {
    { "forward_compensation", "completed steps are compensated first to last instead of last to first" },
    { "step_not_idempotent", "a duplicate do message books the step again (compensations stay idempotent)" },
    { NULL, NULL },
};

/* ---- the saga definition ---------------------------------------------------- */

static void saga_trim(const char **b, const char **e)
{
    while (*b < *e && (**b == ' ' || **b == '\t' || **b == '\n'))
        (*b)++;
    while (*e > *b && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\n'))
        (*e)--;
}

/* Parse "action@nK/compensation; ..." for n_nodes nodes. 0, or -1 with one
 * sentence in err. */
static int saga_parse(const char *text, int n_nodes, struct saga_def *def, char *err, size_t errlen)
{
    memset(def, 0, sizeof *def);
    const char *p = text ? text : "";
    int index = 0;
    for (;;) {
        const char *end = strchr(p, ';');
        if (!end)
            end = p + strlen(p);
        const char *b = p, *e = end;
        saga_trim(&b, &e);
        if (b < e) {
            index++;
            if (def->n == SAGA_MAX_STEPS) {
                snprintf(err, errlen, "saga has more than %d steps", SAGA_MAX_STEPS);
                return -1;
            }
            const char *at = memchr(b, '@', (size_t)(e - b));
            const char *slash = at ? memchr(at, '/', (size_t)(e - at)) : NULL;
            int len = (int)(e - b) > 60 ? 60 : (int)(e - b);
            if (!at || at == b) {
                snprintf(err, errlen, "saga step %d \"%.*s\" names no service: write action@nK/compensation",
                         index, len, b);
                return -1;
            }
            const char *ce = e, *cb = slash ? slash + 1 : e;
            saga_trim(&cb, &ce);
            if (!slash || cb == ce) {
                snprintf(err, errlen, "saga step %d \"%.*s\" has no compensation: write action@nK/compensation",
                         index, len, b);
                return -1;
            }
            char *num_end;
            long k = at[1] == 'n' ? strtol(at + 2, &num_end, 10) : 0;
            if (at[1] != 'n' || num_end != slash || k < 1 || k > n_nodes) {
                snprintf(err, errlen, "saga step %d names unknown node \"%.*s\" (nodes are n1..n%d)", index,
                         (int)(slash - at - 1) > 20 ? 20 : (int)(slash - at - 1), at + 1, n_nodes);
                return -1;
            }
            const char *ab = b, *ae = at;
            saga_trim(&ab, &ae);
            if (ae - ab >= SAGA_NAME_MAX || ce - cb >= SAGA_NAME_MAX) {
                snprintf(err, errlen, "saga step %d: action and compensation names must be under %d bytes",
                         index, SAGA_NAME_MAX);
                return -1;
            }
            for (int i = 0; i < def->n; i++)
                if (def->step[i].node == (int)k - 1) {
                    snprintf(err, errlen, "saga steps %d and %d are both on n%ld: one step per service node",
                             i + 1, index, k);
                    return -1;
                }
            struct saga_step *st = &def->step[def->n++];
            memcpy(st->action, ab, (size_t)(ae - ab));
            memcpy(st->comp, cb, (size_t)(ce - cb));
            st->node = (int)k - 1;
        }
        if (!*end)
            break;
        p = end + 1;
    }
    if (def->n == 0) {
        snprintf(err, errlen, "saga steps are empty: give at least one \"action@nK/compensation\"");
        return -1;
    }
    return 0;
}

/* ---- helpers ------------------------------------------------------------------ */

static void saga_send(node_ctx *ctx, int to, uint32_t type, uint64_t saga, int step, int ok, int last)
{
    struct saga_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.saga = saga;
    m.step = step;
    m.ok = ok;
    m.last = last;
    node_send(ctx, to, &m, sizeof m);
}

static void saga_arm(struct saga_state *s, node_ctx *ctx)
{
    if (!s->timer_on) {
        node_timer_set(ctx, s->cfg.retry, 1);
        s->timer_on = true;
    }
}

static void saga_key(char *out, size_t n, char kind, uint64_t saga)
{
    snprintf(out, n, "%c/%016llx", kind, (unsigned long long)saga);
}

static struct saga_rec *saga_find(struct saga_state *s, uint64_t saga)
{
    for (size_t i = 0; i < s->n_sagas; i++)
        if (s->sagas[i].saga == saga)
            return &s->sagas[i];
    return NULL;
}

static void saga_log(node_ctx *ctx, const struct saga_rec *r)
{
    char k[32];
    saga_key(k, sizeof k, 's', r->saga);
    node_store_put(ctx, k, r, sizeof *r);
    node_store_sync(ctx);
}

/* The outcome of a saga whose record was dropped from memory: it is in the
 * store, or unknown (-1). */
static int saga_logged_phase(node_ctx *ctx, uint64_t saga)
{
    char k[32];
    size_t len;
    saga_key(k, sizeof k, 's', saga);
    const void *v = node_store_get(ctx, k, &len);
    struct saga_rec r;
    if (!v || len != sizeof r)
        return -1;
    memcpy(&r, v, sizeof r);
    return r.phase;
}

static void saga_reply(node_ctx *ctx, const struct sim_op *op, int phase)
{
    if (phase == SAGA_COMPLETED)
        node_reply_ok(ctx, op, false, 0);
    else
        node_reply_fail(ctx, op, "aborted: a step failed, the saga was compensated");
}

/* The saga ended: note it, answer the client if it waits. */
static void saga_end(struct saga_state *s, node_ctx *ctx, struct saga_rec *r, int phase)
{
    r->phase = phase;
    saga_log(ctx, r);
    if (phase == SAGA_COMPLETED)
        s->completed++;
    else
        s->compensated++;
    jw *j = node_note_begin(ctx, "saga");
    if (j) {
        jw_kint(j, "saga", (int64_t)r->saga);
        jw_kstr(j, "outcome", phase == SAGA_COMPLETED ? "completed" : "compensated");
        if (phase == SAGA_COMPENSATED)
            jw_kint(j, "failed_step", r->failed + 1);
        jw_kstr(j, "style", s->cfg.choreography ? "choreography" : "orchestration");
        node_note_end(ctx);
    }
    for (size_t i = 0; i < s->n_pending;) {
        if (s->pending[i].saga == r->saga) {
            saga_reply(ctx, &s->pending[i].op, phase);
            s->pending[i] = s->pending[--s->n_pending];
        } else
            i++;
    }
}

/* The step compensated after comp_i compensations of a saga that failed at
 * step `failed`: last to first, or first to last with the mutant. */
static int saga_comp_step(const struct saga_state *s, int failed, int comp_i)
{
    return s->cfg.mutant == SAGA_MUT_FORWARD ? comp_i : failed - 1 - comp_i;
}

/* ---- a service: do and undo one step --------------------------------------- */

static struct saga_booking saga_get_booking(node_ctx *ctx, uint64_t saga)
{
    struct saga_booking b;
    memset(&b, 0, sizeof b);
    char k[32];
    size_t len;
    saga_key(k, sizeof k, 'b', saga);
    const void *v = node_store_get(ctx, k, &len);
    if (v && len == sizeof b)
        memcpy(&b, v, sizeof b);
    return b;
}

static void saga_put_booking(node_ctx *ctx, uint64_t saga, const struct saga_booking *b)
{
    char k[32];
    saga_key(k, sizeof k, 'b', saga);
    node_store_put(ctx, k, b, sizeof *b);
    node_store_sync(ctx);
}

static void saga_active_remove(struct saga_state *s, uint64_t saga)
{
    for (size_t i = s->n_active; i-- > 0;)
        if (s->active[i] == saga) {
            memmove(&s->active[i], &s->active[i + 1], (s->n_active - i - 1) * sizeof *s->active);
            s->n_active--;
            return;
        }
}

/* Do this node's step for saga. Returns 1 if the step is booked (now or
 * before), 0 if it failed or was compensated already. */
static int saga_do_step(struct saga_state *s, node_ctx *ctx, uint64_t saga)
{
    const struct saga_step *st = &s->cfg.def.step[s->my_step];
    struct saga_booking b = saga_get_booking(ctx, saga);
    bool idem = s->cfg.idempotent && s->cfg.mutant != SAGA_MUT_NOT_IDEMPOTENT;
    if (b.failed)
        return 0;
    if (idem && (b.booked > 0 || b.undone))
        return b.booked > 0 && !b.undone;   /* a duplicate: nothing to do */
    if (b.booked == 0 && !b.undone) {
        bool fail = s->cfg.fail_step == s->my_step + 1 ||
                    (s->cfg.fail_prob > 0 &&
                     node_random_below(ctx, 1000000) < (uint32_t)(s->cfg.fail_prob * 1e6));
        if (fail) {
            b.failed = 1;
            saga_put_booking(ctx, saga, &b);
            jw *j = node_note_begin(ctx, "step");
            if (j) {
                jw_kint(j, "saga", (int64_t)saga);
                jw_kint(j, "step", s->my_step + 1);
                jw_kstr(j, "action", st->action);
                jw_kbool(j, "ok", 0);
                node_note_end(ctx);
            }
            return 0;
        }
    }
    b.booked++;
    s->bookings++;
    saga_put_booking(ctx, saga, &b);
    SIM_GROW(s->active, s->cap_active, s->n_active + 1);
    s->active[s->n_active++] = saga;
    jw *j = node_note_begin(ctx, "step");
    if (j) {
        jw_kint(j, "saga", (int64_t)saga);
        jw_kint(j, "step", s->my_step + 1);
        jw_kstr(j, "action", st->action);
        jw_kbool(j, "ok", 1);
        jw_kint(j, "bookings", b.booked - b.cancelled);
        node_note_end(ctx);
    }
    return 1;
}

/* Compensate this node's step for saga (cancel its booking). */
static void saga_undo_step(struct saga_state *s, node_ctx *ctx, uint64_t saga)
{
    const struct saga_step *st = &s->cfg.def.step[s->my_step];
    struct saga_booking b = saga_get_booking(ctx, saga);
    if (s->cfg.idempotent && b.undone)
        return;   /* a duplicate */
    int cancel = s->cfg.idempotent ? b.booked - b.cancelled : (b.booked > b.cancelled ? 1 : 0);
    b.cancelled += cancel;
    b.undone = 1;
    saga_put_booking(ctx, saga, &b);
    for (int i = 0; i < cancel; i++)
        saga_active_remove(s, saga);
    jw *j = node_note_begin(ctx, "compensate");
    if (j) {
        jw_kint(j, "saga", (int64_t)saga);
        jw_kint(j, "step", s->my_step + 1);
        jw_kstr(j, "action", st->comp);
        jw_kint(j, "cancelled", cancel);
        node_note_end(ctx);
    }
}

/* ---- orchestration ------------------------------------------------------------- */

static void orch_send_current(struct saga_state *s, node_ctx *ctx, const struct saga_rec *r)
{
    if (r->phase == SAGA_FWD)
        saga_send(ctx, s->cfg.def.step[r->step].node, SAGA_DO, r->saga, r->step, 0, 0);
    else if (r->phase == SAGA_COMP) {
        int st = saga_comp_step(s, r->failed, r->comp_i);
        saga_send(ctx, s->cfg.def.step[st].node, SAGA_UNDO, r->saga, st, 0, r->failed);
    }
}

/* Move a saga on: next step, or compensations, or its end. */
static void orch_advance(struct saga_state *s, node_ctx *ctx, struct saga_rec *r)
{
    if (r->phase == SAGA_FWD && r->step == s->cfg.def.n) {
        saga_end(s, ctx, r, SAGA_COMPLETED);
        return;
    }
    if (r->phase == SAGA_COMP && r->comp_i >= r->failed) {
        saga_end(s, ctx, r, SAGA_COMPENSATED);
        return;
    }
    saga_log(ctx, r);
    orch_send_current(s, ctx, r);
    saga_arm(s, ctx);
}

static void orch_on_done(struct saga_state *s, node_ctx *ctx, const struct saga_msg *m)
{
    struct saga_rec *r = saga_find(s, m->saga);
    if (!r || r->phase != SAGA_FWD || m->step != r->step)
        return;   /* a duplicate answer */
    if (m->ok)
        r->step++;
    else {
        r->phase = SAGA_COMP;
        r->failed = r->step;
        r->comp_i = 0;
    }
    orch_advance(s, ctx, r);
}

static void orch_on_undone(struct saga_state *s, node_ctx *ctx, const struct saga_msg *m)
{
    struct saga_rec *r = saga_find(s, m->saga);
    if (!r || r->phase != SAGA_COMP || m->step != saga_comp_step(s, r->failed, r->comp_i))
        return;
    r->comp_i++;
    orch_advance(s, ctx, r);
}

/* ---- choreography --------------------------------------------------------------- */

static void chor_post(struct saga_state *s, node_ctx *ctx, int to, uint32_t type, uint64_t saga, int step, int last)
{
    for (size_t i = 0; i < s->n_out; i++)
        if (s->outbox[i].to == to && s->outbox[i].msg.type == type && s->outbox[i].msg.saga == saga &&
            s->outbox[i].msg.step == step)
            return;
    SIM_GROW(s->outbox, s->cap_out, s->n_out + 1);
    struct saga_out *o = &s->outbox[s->n_out++];
    memset(o, 0, sizeof *o);
    o->to = to;
    o->msg.type = type;
    o->msg.saga = saga;
    o->msg.step = step;
    o->msg.last = last;
    node_send(ctx, to, &o->msg, sizeof o->msg);
    saga_arm(s, ctx);
}

static void chor_handle(struct saga_state *s, node_ctx *ctx, const struct saga_msg *m);

/* Deliver to another service, or handle here when it is this node. */
static void chor_emit(struct saga_state *s, node_ctx *ctx, int to, uint32_t type, uint64_t saga, int step, int last)
{
    if (to == s->self) {
        struct saga_msg m = { .type = type, .saga = saga, .step = step, .last = last };
        chor_handle(s, ctx, &m);
    } else
        chor_post(s, ctx, to, type, saga, step, last);
}

static void chor_finish(struct saga_state *s, node_ctx *ctx, uint64_t saga, int phase, int failed)
{
    struct saga_rec *r = saga_find(s, saga);
    if (!r || r->phase == SAGA_COMPLETED || r->phase == SAGA_COMPENSATED)
        return;
    r->failed = failed;
    saga_end(s, ctx, r, phase);
}

static void chor_handle(struct saga_state *s, node_ctx *ctx, const struct saga_msg *m)
{
    const struct saga_def *d = &s->cfg.def;
    int first = d->step[0].node;
    switch (m->type) {
    case SAGA_DO:
        if (m->step != s->my_step)
            return;
        if (saga_do_step(s, ctx, m->saga)) {
            if (m->step + 1 < d->n)
                chor_emit(s, ctx, d->step[m->step + 1].node, SAGA_DO, m->saga, m->step + 1, 0);
            else
                chor_emit(s, ctx, first, SAGA_COMPLETE, m->saga, m->step, 0);
        } else if (saga_get_booking(ctx, m->saga).failed) {
            if (m->step == 0)
                chor_emit(s, ctx, first, SAGA_FINISH, m->saga, 0, 0);
            else {
                int st = saga_comp_step(s, m->step, 0);
                chor_emit(s, ctx, d->step[st].node, SAGA_UNDO, m->saga, st, m->step);
            }
        }
        break;
    case SAGA_UNDO: {
        if (m->step != s->my_step || m->last < 1 || m->last > d->n)
            return;
        saga_undo_step(s, ctx, m->saga);
        bool forward = s->cfg.mutant == SAGA_MUT_FORWARD;
        int next = forward ? m->step + 1 : m->step - 1;
        if (next < 0 || next >= m->last)
            chor_emit(s, ctx, first, SAGA_FINISH, m->saga, m->last, m->last);
        else
            chor_emit(s, ctx, d->step[next].node, SAGA_UNDO, m->saga, next, m->last);
        break;
    }
    case SAGA_COMPLETE:
        if (s->self == first)
            chor_finish(s, ctx, m->saga, SAGA_COMPLETED, 0);
        break;
    case SAGA_FINISH:
        if (s->self == first)
            chor_finish(s, ctx, m->saga, SAGA_COMPENSATED, m->step);
        break;
    default:
        break;
    }
}

/* ---- recovery ------------------------------------------------------------------- */

static int saga_scan_rec(void *arg, const char *key, const void *val, size_t len)
{
    struct saga_state *s = arg;
    struct saga_rec r;
    (void)key;
    if (len != sizeof r)
        return 0;
    memcpy(&r, val, sizeof r);
    if (r.phase == SAGA_COMPLETED || r.phase == SAGA_COMPENSATED)
        return 0;   /* ended: looked up in the store when a retry asks */
    if (r.step < 0 || r.step > s->cfg.def.n || r.failed < 0 || r.failed > s->cfg.def.n)
        return 0;
    SIM_GROW(s->sagas, s->cap_sagas, s->n_sagas + 1);
    s->sagas[s->n_sagas++] = r;
    return 0;
}

static int saga_scan_booking(void *arg, const char *key, const void *val, size_t len)
{
    struct saga_state *s = arg;
    struct saga_booking b;
    if (len != sizeof b)
        return 0;
    memcpy(&b, val, sizeof b);
    uint64_t saga = strtoull(key + 2, NULL, 16);
    for (int i = 0; i < b.booked - b.cancelled; i++) {
        SIM_GROW(s->active, s->cap_active, s->n_active + 1);
        s->active[s->n_active++] = saga;
    }
    return 0;
}

/* ---- callbacks --------------------------------------------------------------------- */

static void saga_read_cfg(struct saga_cfg *c, const params *p, int n)
{
    char err[200];
    if (saga_parse(params_str(p, "steps"), n, &c->def, err, sizeof err) < 0)
        memset(&c->def, 0, sizeof c->def);   /* validate refused it already */
    c->choreography = params_is(p, "style", "choreography");
    c->orchestrator = (int)params_int(p, "orchestrator") - 1;
    c->fail_step = (int)params_int(p, "fail_step");
    c->fail_prob = params_num(p, "fail_prob");
    c->idempotent = params_bool(p, "idempotent");
    c->retry = params_time(p, "retry");
    c->mutant = params_is(p, "mutant", "forward_compensation") ? SAGA_MUT_FORWARD
              : params_is(p, "mutant", "step_not_idempotent") ? SAGA_MUT_NOT_IDEMPOTENT : SAGA_MUT_NONE;
}

static bool saga_is_entry(const struct saga_state *s)
{
    return s->cfg.choreography ? s->cfg.def.n > 0 && s->self == s->cfg.def.step[0].node
                               : s->self == s->cfg.orchestrator;
}

static void *saga_init(node_ctx *ctx)
{
    struct saga_state *s = sim_xcalloc(1, sizeof *s);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    saga_read_cfg(&s->cfg, node_params(ctx), s->n);
    s->names = sim_xcalloc((size_t)s->n, sizeof *s->names);
    for (int i = 0; i < s->n; i++)
        s->names[i] = node_name(ctx, i);
    s->my_step = -1;
    for (int i = 0; i < s->cfg.def.n; i++)
        if (s->cfg.def.step[i].node == s->self)
            s->my_step = i;
    if (s->my_step >= 0)
        store_scan(node_store(ctx), "b/", saga_scan_booking, s);
    if (saga_is_entry(s)) {
        store_scan(node_store(ctx), "s/", saga_scan_rec, s);
        node_set_role(ctx, s->cfg.choreography ? "first_service" : "orchestrator", 0);
        /* resume what the log says was under way */
        if (!s->cfg.choreography)
            for (size_t i = 0; i < s->n_sagas; i++) {
                orch_send_current(s, ctx, &s->sagas[i]);
                saga_arm(s, ctx);
            }
        if (s->n_sagas) {
            jw *j = node_note_begin(ctx, "resume");
            if (j) {
                jw_kint(j, "sagas", (int64_t)s->n_sagas);
                node_note_end(ctx);
            }
        }
    } else
        node_set_role(ctx, "service", 0);
    return s;
}

static void saga_destroy(void *state)
{
    struct saga_state *s = state;
    if (!s)
        return;
    sim_free(s->names);
    sim_free(s->sagas);
    sim_free(s->pending);
    sim_free(s->outbox);
    sim_free(s->active);
    sim_free(s);
}

static void saga_ack(node_ctx *ctx, int to, const struct saga_msg *m)
{
    struct saga_msg a;
    memset(&a, 0, sizeof a);
    a.type = SAGA_ACK;
    a.saga = m->saga;
    a.step = m->step;
    a.acked = (int32_t)m->type;
    node_send(ctx, to, &a, sizeof a);
}

static void saga_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct saga_state *s = state;
    struct saga_msg m;
    if (len != sizeof m || from < 0 || from >= s->n || from == s->self)
        return;
    memcpy(&m, msg, sizeof m);
    if (m.saga == 0 || m.step < 0 || m.step > SAGA_MAX_STEPS || s->cfg.def.n == 0)
        return;
    if (s->cfg.choreography) {
        if (m.type == SAGA_ACK) {
            for (size_t i = 0; i < s->n_out; i++)
                if (s->outbox[i].to == from && s->outbox[i].msg.saga == m.saga &&
                    s->outbox[i].msg.step == m.step && (int32_t)s->outbox[i].msg.type == m.acked) {
                    s->outbox[i] = s->outbox[--s->n_out];
                    break;
                }
            return;
        }
        saga_ack(ctx, from, &m);
        chor_handle(s, ctx, &m);
        return;
    }
    if (s->self == s->cfg.orchestrator) {
        if (m.type == SAGA_DONE)
            orch_on_done(s, ctx, &m);
        else if (m.type == SAGA_UNDONE)
            orch_on_undone(s, ctx, &m);
        return;
    }
    if (m.step != s->my_step)
        return;
    if (m.type == SAGA_DO)
        saga_send(ctx, from, SAGA_DONE, m.saga, m.step, saga_do_step(s, ctx, m.saga), 0);
    else if (m.type == SAGA_UNDO) {
        saga_undo_step(s, ctx, m.saga);
        saga_send(ctx, from, SAGA_UNDONE, m.saga, m.step, 1, 0);
    }
}

static void saga_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct saga_state *s = state;
    (void)tag;
    s->timer_on = false;
    bool more = false;
    if (s->cfg.choreography) {
        for (size_t i = 0; i < s->n_out; i++)
            node_send(ctx, s->outbox[i].to, &s->outbox[i].msg, sizeof s->outbox[i].msg);
        more = s->n_out > 0;
    } else if (s->self == s->cfg.orchestrator) {
        for (size_t i = 0; i < s->n_sagas; i++)
            if (s->sagas[i].phase == SAGA_FWD || s->sagas[i].phase == SAGA_COMP) {
                orch_send_current(s, ctx, &s->sagas[i]);
                more = true;
            }
    }
    /* ended sagas leave memory (the log keeps their outcome) */
    size_t k = 0;
    for (size_t i = 0; i < s->n_sagas; i++)
        if (s->sagas[i].phase == SAGA_FWD || s->sagas[i].phase == SAGA_COMP)
            s->sagas[k++] = s->sagas[i];
    s->n_sagas = k;
    if (more)
        saga_arm(s, ctx);
}

/* A client write starts saga `value` (a retry of one under way waits for it). */
static void saga_start(struct saga_state *s, node_ctx *ctx, const struct sim_op *op)
{
    uint64_t saga = (uint64_t)op->value;
    if (op->value <= 0) {
        node_reply_fail(ctx, op, "a saga id must be a positive write value");
        return;
    }
    struct saga_rec *r = saga_find(s, saga);
    int phase = r ? r->phase : saga_logged_phase(ctx, saga);
    if (phase == SAGA_COMPLETED || phase == SAGA_COMPENSATED) {
        saga_reply(ctx, op, phase);
        return;
    }
    SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
    s->pending[s->n_pending].saga = saga;
    s->pending[s->n_pending].op = *op;
    s->pending[s->n_pending].op.ctx = NULL;
    s->pending[s->n_pending].op.micro = NULL;
    s->n_pending++;
    if (r || phase >= 0)
        return;
    SIM_GROW(s->sagas, s->cap_sagas, s->n_sagas + 1);
    r = &s->sagas[s->n_sagas++];
    memset(r, 0, sizeof *r);
    r->saga = saga;
    r->phase = SAGA_FWD;
    if (s->cfg.choreography) {
        saga_log(ctx, r);
        chor_emit(s, ctx, s->self, SAGA_DO, saga, 0, 0);
    } else
        orch_advance(s, ctx, r);
}

/* Which node a key names: "nK" -> K-1, else -1. */
static int saga_key_node(const char *key, int n)
{
    if (!key || key[0] != 'n')
        return -1;
    char *end;
    long k = strtol(key + 1, &end, 10);
    return end != key + 1 && *end == 0 && k >= 1 && k <= n ? (int)k - 1 : -1;
}

static void saga_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct saga_state *s = state;
    if (s->cfg.def.n == 0) {
        node_reply_fail(ctx, op, "no saga defined");
        return;
    }
    if (op->type == OP_READ) {
        int node = saga_key_node(op->key, s->n);
        if (node >= 0 && node != s->self) {
            node_reply_redirect(ctx, op, node, "ask the service itself");
            return;
        }
        if (s->my_step < 0) {
            node_reply_fail(ctx, op, "this node is no service: it holds no bookings");
            return;
        }
        node_reply_ok(ctx, op, s->n_active > 0, s->n_active ? (int64_t)s->active[s->n_active - 1] : 0);
        return;
    }
    if (op->type != OP_WRITE) {
        node_reply_fail(ctx, op, "a saga takes writes (start a saga) and reads (a service's bookings)");
        return;
    }
    if (!saga_is_entry(s)) {
        int entry = s->cfg.choreography ? s->cfg.def.step[0].node : s->cfg.orchestrator;
        node_reply_redirect(ctx, op, entry, s->cfg.choreography ? "not the first service" : "not the orchestrator");
        return;
    }
    saga_start(s, ctx, op);
}

static void saga_describe_msg(const void *msg, size_t len, jw *out)
{
    static const char *const names[] = { "?", "do", "done", "undo", "undone", "complete", "finish", "ack" };
    struct saga_msg m;
    if (len != sizeof m) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&m, msg, sizeof m);
    jw_kstr(out, "type", m.type < 8 ? names[m.type] : "?");
    jw_kint(out, "saga", (int64_t)m.saga);
    jw_kint(out, "step", m.step + 1);
    if (m.type == SAGA_DONE)
        jw_kbool(out, "ok", m.ok);
    if (m.type == SAGA_ACK)
        jw_kstr(out, "of", m.acked > 0 && m.acked < 8 ? names[m.acked] : "?");
}

static void saga_describe(const void *state, jw *out)
{
    const struct saga_state *s = state;
    jw_kint(out, "completed", (int64_t)s->completed);
    jw_kint(out, "compensated", (int64_t)s->compensated);
    jw_kint(out, "in_flight", (int64_t)s->n_sagas);
    if (s->my_step >= 0) {
        jw_kstr(out, "serves", s->cfg.def.step[s->my_step].action);
        jw_kint(out, "bookings_made", (int64_t)s->bookings);
        jw_kint(out, "bookings_live", (int64_t)s->n_active);
    }
}

/* A saga gives up isolation and atomicity for availability of each step:
 * every service answers on its own (PA), with no global coordination
 * round beyond the saga's own messages (EL). */
static const char *saga_cap_class(const params *p)
{
    (void)p;
    return "PA/EL";
}

static int saga_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    struct saga_def def;
    if (saga_parse(params_str(p, "steps"), n_nodes, &def, err, errlen) < 0)
        return -1;
    int64_t o = params_int(p, "orchestrator");
    bool orch = params_is(p, "style", "orchestration");
    if (orch && (o < 1 || o > n_nodes)) {
        snprintf(err, errlen, "saga orchestrator must be a node number from 1 to %d, got %lld", n_nodes,
                 (long long)o);
        return -1;
    }
    for (int i = 0; orch && i < def.n; i++)
        if (def.step[i].node == o - 1) {
            snprintf(err, errlen, "saga step %d runs on the orchestrator n%lld: give it its own service node",
                     i + 1, (long long)o);
            return -1;
        }
    int64_t f = params_int(p, "fail_step");
    if (f < 0 || f > def.n) {
        snprintf(err, errlen, "saga fail_step must be 0 (none) or a step from 1 to %d, got %lld", def.n,
                 (long long)f);
        return -1;
    }
    double fp = params_num(p, "fail_prob");
    if (!(fp >= 0 && fp <= 1)) {
        snprintf(err, errlen, "saga fail_prob is a probability from 0 to 1, got %g", fp);
        return -1;
    }
    if (params_time(p, "retry") <= 0) {
        snprintf(err, errlen, "saga retry must be above 0");
        return -1;
    }
    return 0;
}

/* A read key names a service node ("n3"); any other key starts a saga. */
static int saga_check_key(const params *p, int n_nodes, const char *key, char *err, size_t errlen)
{
    (void)p;
    if (key[0] == 'n' && key[1] >= '0' && key[1] <= '9' && saga_key_node(key, n_nodes) < 0) {
        snprintf(err, errlen, "saga key \"%s\" names no node (nodes are n1..n%d)", key, n_nodes);
        return -1;
    }
    return 0;
}

const struct model saga_model = {
    .name = "saga",
    .summary = "sagas: steps with compensations across services, orchestrated or choreographed, at-least-once",
    .params = saga_params,
    .init = saga_init,
    .destroy = saga_destroy,
    .on_message = saga_on_message,
    .on_timer = saga_on_timer,
    .on_request = saga_on_request,
    .describe_msg = saga_describe_msg,
    .describe = saga_describe,
    .cap_class = saga_cap_class,
    .validate = saga_validate,
    .check_key = saga_check_key,
    .mutants = saga_mutants,
};
