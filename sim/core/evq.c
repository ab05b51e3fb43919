#include "evq.h"
#include "alloc.h"

#include <assert.h>

struct evq {
    struct evq_event *heap;
    size_t len;
    size_t cap;
    uint64_t next_seq;
};

evq *evq_new(void)
{
    evq *q = sim_xcalloc(1, sizeof *q);
    return q;
}

void evq_free(evq *q)
{
    if (!q)
        return;
    sim_free(q->heap);
    sim_free(q);
}

static inline int earlier(const struct evq_event *a, const struct evq_event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

uint64_t evq_push(evq *q, sim_time at, uint32_t kind, uint32_t target, uint64_t arg, void *ptr)
{
    SIM_GROW(q->heap, q->cap, q->len + 1);
    struct evq_event ev = { at, q->next_seq++, kind, target, arg, ptr };
    size_t i = q->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&ev, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = ev;
    return ev.seq;
}

int evq_pop(evq *q, struct evq_event *out)
{
    if (q->len == 0)
        return 0;
    *out = q->heap[0];
    struct evq_event last = q->heap[--q->len];
    size_t n = q->len, i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && earlier(&q->heap[child + 1], &q->heap[child]))
            child++;
        if (!earlier(&q->heap[child], &last))
            break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (n > 0)
        q->heap[i] = last;
    return 1;
}

const struct evq_event *evq_peek(const evq *q)
{
    return q->len ? &q->heap[0] : NULL;
}

size_t evq_size(const evq *q)
{
    return q->len;
}
