/* The pure pieces of the resilience model (models/resilience.c): a retry's
 * backoff delay, a circuit breaker's state machine and a bulkhead's pool
 * accounting. None of them touches a node, a clock or a random stream:
 * the caller passes the time and the random draw in, so tests can drive
 * them step by step (tests/unit/test_resilience.c). */
#ifndef SIM_RESILIENCE_H
#define SIM_RESILIENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "simtypes.h"

/* ---- backoff ----------------------------------------------------------- */

enum resil_backoff { RESIL_BACKOFF_NONE, RESIL_BACKOFF_EXPONENTIAL };
enum resil_jitter { RESIL_JITTER_NONE, RESIL_JITTER_FULL, RESIL_JITTER_EQUAL };

struct resil_backoff_cfg {
    enum resil_backoff kind;
    enum resil_jitter jitter;
    sim_time base;      /* exponential: the delay before the first retry */
    sim_time cap;       /* exponential: no delay above this */
};

/* The delay before retry number `retry` (1 for the first retry). NONE: 0,
 * an immediate retry. EXPONENTIAL: d = min(cap, base * 2^(retry-1)), then
 * jitter NONE keeps d, FULL draws from [0, d] and EQUAL from [d/2, d]
 * (d - d/2 of it drawn), scaling the 32-bit draw `random` into the range.
 * The same (cfg, retry, random) always gives the same delay. base and cap
 * must not be negative; retry < 1 counts as 1. */
sim_time resil_backoff_delay(const struct resil_backoff_cfg *cfg, int retry, uint32_t random);

/* ---- retry budget ------------------------------------------------------ */

/* A token bucket per dependency (in thousandths of a token): each first
 * attempt deposits `ratio` thousandths, each retry withdraws a whole token,
 * and without one the retry is not made. So retries stay below about
 * ratio/1000 of the first attempts however many fail. The bucket starts
 * full and holds at most RESIL_BUDGET_MAX tokens: a quiet dependency still
 * gets a few retries, and a long calm spell does not bank a storm's worth. */
#define RESIL_BUDGET_MAX 10

struct resil_budget {
    int64_t milli;          /* thousandths of a token */
};

void resil_budget_init(struct resil_budget *b);
void resil_budget_deposit(struct resil_budget *b, int64_t ratio_milli);
/* Take one token for a retry: false (and nothing taken) if there is none. */
bool resil_budget_withdraw(struct resil_budget *b);

/* ---- circuit breaker --------------------------------------------------- */

enum resil_breaker_state { RESIL_CLOSED, RESIL_OPEN, RESIL_HALF_OPEN };

struct resil_breaker_cfg {
    int failure_threshold;  /* consecutive failures that open a closed breaker */
    sim_time open_for;      /* how long it stays open before probing */
    int half_open_probes;   /* trial calls let through when half-open; all must succeed */
};

/* One breaker. Zeroed, it is closed. gen changes with every state change,
 * so an outcome of a call let through in an earlier state is recognised. */
struct resil_breaker {
    enum resil_breaker_state state;
    uint64_t gen;
    int failures;           /* closed: consecutive failures so far */
    int probes_sent;        /* half-open: trial calls let through */
    int probes_ok;          /* half-open: trial calls that succeeded */
    sim_time opened_at;     /* open: when it opened */
};

const char *resil_breaker_state_name(enum resil_breaker_state s);

/* Move an open breaker to half-open once open_for has passed at now.
 * Returns true if the state changed. */
bool resil_breaker_tick(struct resil_breaker *b, const struct resil_breaker_cfg *cfg, sim_time now);

/* May a call go out now? Ticks first; closed: yes; open: no; half-open: yes
 * for the first half_open_probes calls (each counted as a probe), then no.
 * On yes, *gen gets the generation to pass to resil_breaker_record. */
bool resil_breaker_allow(struct resil_breaker *b, const struct resil_breaker_cfg *cfg, sim_time now,
                         uint64_t *gen);

/* The outcome of a call let through at generation gen. An outcome from an
 * earlier generation changes nothing. Closed: a success clears the count,
 * the failure_threshold-th consecutive failure opens. Half-open: a failure
 * opens again; the half_open_probes-th success closes. Returns true if the
 * state changed. */
bool resil_breaker_record(struct resil_breaker *b, const struct resil_breaker_cfg *cfg, sim_time now,
                          uint64_t gen, bool ok);

/* ---- bulkheads --------------------------------------------------------- */

/* A pool of call slots at the frontend. */
struct resil_pool {
    int capacity;
    int busy;
};

/* How many pools there are: one shared pool without bulkheads, one per
 * dependency with them. */
int resil_pool_count(bool bulkhead, int n_deps);
/* The pool dependency dep (0-based) draws from. */
int resil_pool_of(bool bulkhead, int dep);
/* The capacity of pool i when `total` slots are split among the pools:
 * evenly, the remainder going to the first pools. */
int resil_pool_capacity(bool bulkhead, int n_deps, int total, int i);
/* Take a slot if one is free; false if the pool is full. */
bool resil_pool_acquire(struct resil_pool *p);
/* Give a slot back; false (and no change) if none was taken. */
bool resil_pool_release(struct resil_pool *p);

#endif
