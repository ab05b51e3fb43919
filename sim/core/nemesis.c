/* The nemesis: a random fault schedule drawn from its own stream.
 *
 * Faults start as a Poisson process of `intensity` per second between start
 * and stop. Each lasts a uniform time in [min_duration, max_duration] and is
 * undone when it ends (never later than stop). At most one network fault
 * (partition or isolation) is active at a time, and at most a minority of
 * the nodes is crashed or paused at once, so the cluster is always able to
 * make progress again when a fault ends. */
#include "world_internal.h"
#include "alloc.h"
#include "dmath.h"

#include <stdio.h>
#include <string.h>

enum nemesis_step {
    STEP_NEXT = 1,     /* start a new fault */
    STEP_HEAL,         /* end the network fault */
    STEP_RESTART,      /* restart node */
    STEP_CLOCK_BACK,   /* put node's clock right */
};

struct nemesis_state {
    struct nemesis cfg;
    pcg32 rng;
    bool network_fault;
    int down;              /* nodes crashed or paused by the nemesis */
    bool *faulty;          /* per node: crashed, paused or skewed by the nemesis */
};

void nemesis_defaults(struct nemesis *n)
{
    memset(n, 0, sizeof *n);
    n->faults = NEMESIS_ALL;
    n->intensity = 1.0;
    n->start = 0;
    n->stop = 0;                  /* 0: until the end of the run */
    n->min_duration = 100 * SIM_MS;
    n->max_duration = 1 * SIM_S;
    n->max_clock_jump = 500 * SIM_MS;
    n->max_drift = 0.05;
}

void nemesis_free(struct nemesis_state *n)
{
    if (!n)
        return;
    sim_free(n->faulty);
    sim_free(n);
}

static sim_time stop_time(const struct nemesis_state *n)
{
    return n->cfg.stop > 0 ? n->cfg.stop : SIM_TIME_LIMIT;
}

static void push_step(world *w, sim_time at, enum nemesis_step step, int node)
{
    evq_push(w->q, at, EV_NEMESIS, 0, (uint64_t)step | ((uint64_t)(node + 1) << 8), NULL);
}

static void schedule_next(world *w, struct nemesis_state *n)
{
    double u = 1.0 - pcg32_unit(&n->rng);
    double gap_s = -dmath_log(u) / n->cfg.intensity;
    sim_time base = w->now > n->cfg.start ? w->now : n->cfg.start;
    sim_time at = gap_s > 1e6 ? SIM_TIME_LIMIT : base + (sim_time)(gap_s * 1e9 + 0.5);
    if (at < stop_time(n))
        push_step(w, at, STEP_NEXT, -1);
}

static sim_time fault_end(world *w, struct nemesis_state *n)
{
    sim_time d = pcg32_range(&n->rng, n->cfg.min_duration, n->cfg.max_duration);
    sim_time end = w->now + d;
    return end < stop_time(n) ? end : stop_time(n);
}

static void nemesis_trace(world *w, const char *fault)
{
    if (!w->tr)
        return;
    jw *j = trace_begin(w->tr, w->now, "nemesis");
    jw_kstr(j, "fault", fault);
    trace_end(w->tr);
}

/* A node the nemesis has not touched yet, or -1. */
static int healthy_node(world *w, struct nemesis_state *n)
{
    int count = 0;
    for (int i = 0; i < w->n_nodes; i++)
        if (!n->faulty[i] && w->nodes[i].up)
            count++;
    if (count == 0)
        return -1;
    int pick = (int)pcg32_below(&n->rng, (uint32_t)count);
    for (int i = 0; i < w->n_nodes; i++)
        if (!n->faulty[i] && w->nodes[i].up && pick-- == 0)
            return i;
    return -1;
}

static void start_fault(world *w, struct nemesis_state *n)
{
    unsigned kinds[5];
    int nk = 0;
    int minority = (w->n_nodes - 1) / 2;
    for (unsigned bit = 1; bit <= NEMESIS_CLOCK; bit <<= 1) {
        if (!(n->cfg.faults & bit))
            continue;
        if ((bit == NEMESIS_PARTITION || bit == NEMESIS_ISOLATE) &&
            (n->network_fault || w->n_nodes < 2))
            continue;
        if ((bit == NEMESIS_CRASH || bit == NEMESIS_PAUSE) && n->down >= minority)
            continue;
        kinds[nk++] = bit;
    }
    if (nk == 0)
        return;
    unsigned kind = kinds[pcg32_below(&n->rng, (uint32_t)nk)];
    sim_time end = fault_end(w, n);
    switch (kind) {
    case NEMESIS_PARTITION: {
        /* split the nodes into two non-empty halves at random */
        int *group = sim_xcalloc((size_t)(w->n_nodes + w->n_clients), sizeof *group);
        int size_a = 1 + (int)pcg32_below(&n->rng, (uint32_t)(w->n_nodes / 2));
        for (int i = 0; i < w->n_nodes + w->n_clients; i++)
            group[i] = i < w->n_nodes ? 1 : -1;
        for (int k = 0; k < size_a; k++) {
            int pick = (int)pcg32_below(&n->rng, (uint32_t)(w->n_nodes - k));
            for (int i = 0; i < w->n_nodes; i++)
                if (group[i] == 1 && pick-- == 0) {
                    group[i] = 0;
                    break;
                }
        }
        nemesis_trace(w, "partition");
        world_partition(w, group);
        sim_free(group);
        n->network_fault = true;
        push_step(w, end, STEP_HEAL, -1);
        break;
    }
    case NEMESIS_ISOLATE: {
        int node = (int)pcg32_below(&n->rng, (uint32_t)w->n_nodes);
        nemesis_trace(w, "isolate");
        world_isolate(w, node);
        n->network_fault = true;
        push_step(w, end, STEP_HEAL, -1);
        break;
    }
    case NEMESIS_CRASH: {
        int node = healthy_node(w, n);
        if (node < 0)
            return;
        nemesis_trace(w, "crash");
        world_crash(w, node);
        n->faulty[node] = true;
        n->down++;
        push_step(w, end, STEP_RESTART, node);
        break;
    }
    case NEMESIS_PAUSE: {
        int node = healthy_node(w, n);
        if (node < 0)
            return;
        nemesis_trace(w, "pause");
        world_pause(w, node, end - w->now);
        /* the world resumes it; the nemesis counts it healthy again then */
        n->faulty[node] = true;
        n->down++;
        push_step(w, end, STEP_RESTART, node);
        break;
    }
    case NEMESIS_CLOCK: {
        int node = healthy_node(w, n);
        if (node < 0)
            return;
        sim_time jump = pcg32_range(&n->rng, -n->cfg.max_clock_jump, n->cfg.max_clock_jump);
        int64_t max_ppb = (int64_t)(n->cfg.max_drift * 1e9);
        int64_t drift = pcg32_range(&n->rng, -max_ppb, max_ppb);
        nemesis_trace(w, "clock");
        world_skew(w, node, jump, drift);
        n->faulty[node] = true;
        push_step(w, end, STEP_CLOCK_BACK, node);
        break;
    }
    }
}

void nemesis_event(world *w, const struct evq_event *ev)
{
    struct nemesis_state *n = w->nemesis;
    enum nemesis_step step = (enum nemesis_step)(ev->arg & 0xff);
    int node = (int)(ev->arg >> 8) - 1;
    switch (step) {
    case STEP_NEXT:
        start_fault(w, n);
        schedule_next(w, n);
        break;
    case STEP_HEAL:
        nemesis_trace(w, "heal");
        world_heal(w);
        n->network_fault = false;
        break;
    case STEP_RESTART:
        if (!w->nodes[node].up) {
            nemesis_trace(w, "restart");
            world_restart(w, node);
        }
        n->faulty[node] = false;
        n->down--;
        break;
    case STEP_CLOCK_BACK:
        nemesis_trace(w, "clock_reset");
        world_skew(w, node, 0, 0);
        n->faulty[node] = false;
        break;
    }
}

int world_nemesis(world *w, const struct nemesis *nm, char *err, size_t errlen)
{
    if (!w->model) {
        snprintf(err, errlen, "define the cluster before the nemesis");
        return -1;
    }
    if (w->nemesis) {
        snprintf(err, errlen, "only one nemesis per run");
        return -1;
    }
    if (!(nm->intensity > 0) || nm->intensity > 1e6) {
        snprintf(err, errlen, "nemesis intensity must be above 0 and at most 1e6 faults per second");
        return -1;
    }
    if (nm->min_duration < 0 || nm->max_duration < nm->min_duration) {
        snprintf(err, errlen, "nemesis durations need 0 <= min <= max");
        return -1;
    }
    if (nm->stop > 0 && nm->stop <= nm->start) {
        snprintf(err, errlen, "nemesis stop must come after its start");
        return -1;
    }
    if ((nm->faults & NEMESIS_ALL) == 0) {
        snprintf(err, errlen, "nemesis needs at least one kind of fault");
        return -1;
    }
    struct nemesis_state *n = sim_xcalloc(1, sizeof *n);
    n->cfg = *nm;
    n->faulty = sim_xcalloc((size_t)w->n_nodes, sizeof *n->faulty);
    pcg32_stream(&n->rng, w->seed, PCG_STREAM_NEMESIS);
    w->nemesis = n;
    if (w->tr) {
        static const char *const names[] = { "partition", "isolate", "crash", "pause", "clock" };
        jw *j = trace_begin(w->tr, w->now, "nemesis_config");
        jw_key(j, "faults");
        jw_arr(j);
        for (int b = 0; b < 5; b++)
            if (nm->faults & (1u << b))
                jw_str(j, names[b]);
        jw_arr_end(j);
        jw_knum(j, "intensity", nm->intensity);
        jw_kint(j, "start", nm->start);
        jw_kint(j, "stop", nm->stop);
        jw_kint(j, "min", nm->min_duration);
        jw_kint(j, "max", nm->max_duration);
        trace_end(w->tr);
    }
    schedule_next(w, n);
    return 0;
}
