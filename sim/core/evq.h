/* The event queue: a binary min-heap of events ordered by (time, sequence).
 *
 * The sequence number is assigned at push and only grows, so two events at
 * the same virtual time leave in the order they were pushed: never by
 * pointer, hash or allocation order. Events are stored by value; the queue
 * allocates only when it grows. The queue never owns ev->ptr. */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include "simtypes.h"

struct evq_event {
    sim_time at;
    uint64_t seq;
    uint32_t kind;     /* meaning chosen by the owner of the queue */
    uint32_t target;
    uint64_t arg;
    void *ptr;
};

typedef struct evq evq;

evq *evq_new(void);
void evq_free(evq *q);

/* Push an event; returns its sequence number. */
uint64_t evq_push(evq *q, sim_time at, uint32_t kind, uint32_t target, uint64_t arg, void *ptr);

/* Pop the earliest event into *out; returns 0 when the queue is empty. */
int evq_pop(evq *q, struct evq_event *out);

/* The earliest event, or NULL. Valid until the next push or pop. */
const struct evq_event *evq_peek(const evq *q);

size_t evq_size(const evq *q);

#endif
