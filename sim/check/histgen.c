#include "histgen.h"
#include "sort.h"

#include "core/alloc.h"
#include "core/pcg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gop {
    int client, key;
    enum hist_f f;
    bool info;            /* ends indeterminate */
    bool applies;         /* info only: takes effect at `effect` (else never) */
    int64_t invoke, complete, effect;
    int64_t arg, arg2, out;
    bool ok;              /* cas: succeeded */
    int64_t invoke_pos, complete_pos;
};

/* Events in time order; at equal times completions come first, then
 * effects, then invocations, so positions agree with the effects' order. */
struct gev {
    int64_t t;
    int kind;             /* 0 complete, 1 effect, 2 invoke */
    size_t op;
};

static int gev_cmp(const void *a, const void *b)
{
    const struct gev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return (x->op > y->op) - (x->op < y->op);
}

hist *histgen_register(const struct histgen_options *o)
{
    int clients = o->clients > 0 ? o->clients : 1;
    int keys = o->keys > 0 ? o->keys : 1;
    double p_read = o->read, p_write = o->write;
    if (p_read == 0 && p_write == 0)
        p_read = 0.5, p_write = 0.3;
    int64_t latency = o->latency > 0 ? o->latency : 1000000;
    size_t n = o->ops;
    struct gop *ops = sim_calloc(n + 1, sizeof *ops);
    struct gev *ev = sim_calloc(3 * n + 1, sizeof *ev);
    int64_t *next_free = sim_calloc((size_t)clients, sizeof *next_free);
    int64_t *seen = sim_calloc((size_t)clients * (size_t)keys, sizeof *seen);
    int64_t *reg = sim_calloc((size_t)keys, sizeof *reg);
    hist *h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    int32_t *names = sim_calloc((size_t)clients + (size_t)keys, sizeof *names);
    if (!ops || !ev || !next_free || !seen || !reg || !h || !names)
        goto fail;
    pcg32 rng;
    pcg32_stream(&rng, o->seed, PCG_STREAM_WORKLOAD);
    for (int c = 0; c < clients; c++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", c + 1);
        names[c] = hist_intern(h, name, strlen(name));
        next_free[c] = (int64_t)pcg32_below(&rng, (uint32_t)latency);
        for (int k = 0; k < keys; k++)
            seen[c * keys + k] = HIST_NIL;
    }
    for (int k = 0; k < keys; k++) {
        char name[16];
        if (k == 0)
            snprintf(name, sizeof name, "x");
        else
            snprintf(name, sizeof name, "k%d", k + 1);
        names[clients + k] = hist_intern(h, name, strlen(name));
        reg[k] = HIST_NIL;
    }
    /* 1. who does what when: the client free earliest goes next */
    int64_t value = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int c = 0;
        for (int j = 1; j < clients; j++)
            if (next_free[j] < next_free[c])
                c = j;
        struct gop *g = &ops[i];
        g->client = c;
        g->key = (int)pcg32_below(&rng, (uint32_t)keys);
        double r = pcg32_unit(&rng);
        g->f = r < p_read ? HIST_READ : r < p_read + p_write ? HIST_WRITE : HIST_CAS;
        g->invoke = next_free[c];
        int64_t d = 2 + (int64_t)pcg32_below64(&rng, (uint64_t)(2 * latency));
        g->complete = g->invoke + d;
        g->effect = g->invoke + 1 + (int64_t)pcg32_below64(&rng, (uint64_t)(d - 1));
        if (g->f == HIST_WRITE)
            g->arg = ++value;
        else if (g->f == HIST_CAS) {
            g->arg = seen[c * keys + g->key];
            if (g->arg == HIST_NIL)
                g->arg = 0;   /* nothing seen yet: expect a value never written */
            g->arg2 = ++value;
        }
        if (g->f != HIST_READ && pcg32_chance(&rng, o->info)) {
            g->info = true;
            g->applies = pcg32_below(&rng, 2) == 0;
            g->effect = g->invoke + 1 + (int64_t)pcg32_below64(&rng, (uint64_t)(3 * d));
        }
        next_free[c] = g->complete + 1 + (int64_t)pcg32_below64(&rng, (uint64_t)latency);
        ev[m++] = (struct gev){ g->invoke, 2, i };
        ev[m++] = (struct gev){ g->complete, 0, i };
        if (!g->info || g->applies)
            ev[m++] = (struct gev){ g->effect, 1, i };
    }
    /* 2. run the register in time order */
    sim_qsort(ev, m, sizeof *ev, gev_cmp);
    int64_t pos = 0;
    for (size_t i = 0; i < m; i++) {
        struct gop *g = &ops[ev[i].op];
        int64_t *r = &reg[g->key];
        switch (ev[i].kind) {
        case 2:
            g->invoke_pos = ++pos;
            break;
        case 0:
            g->complete_pos = ++pos;
            break;
        default:
            if (g->f == HIST_READ)
                g->out = *r;
            else if (g->f == HIST_WRITE)
                *r = g->arg;
            else if ((g->ok = *r == g->arg))
                *r = g->arg2;
            /* the client learns the value, for its next cas */
            if (!g->info)
                seen[g->client * keys + g->key] = g->f == HIST_READ ? g->out : g->ok ? g->arg2 : *r;
            break;
        }
    }
    /* 3. the history, in invocation order */
    for (size_t i = 0; i < m; i++) {
        if (ev[i].kind != 2)
            continue;
        const struct gop *g = &ops[ev[i].op];
        struct hist_op op = { 0 };
        op.id = (int64_t)ev[i].op + 1;
        op.process = names[g->client];
        op.key = names[clients + g->key];
        op.f = (uint8_t)g->f;
        op.arg = g->f == HIST_READ ? HIST_NIL : g->arg;
        op.arg2 = g->f == HIST_CAS ? g->arg2 : HIST_NIL;
        op.out = g->f == HIST_READ ? g->out : HIST_NIL;
        op.invoke_pos = g->invoke_pos;
        op.invoke_t = g->invoke;
        op.complete_pos = g->complete_pos;
        op.complete_t = g->complete;
        if (g->info)
            op.type = HIST_INFO;
        else if (g->f == HIST_CAS && !g->ok) {
            op.type = HIST_FAIL;
            op.constrains = o->cas_fail_constrains;
        } else
            op.type = HIST_OK;
        if (names[g->client] < 0 || hist_add(h, &op) < 0)
            goto fail;
    }
    sim_free(ops);
    sim_free(ev);
    sim_free(next_free);
    sim_free(seen);
    sim_free(reg);
    sim_free(names);
    return h;
fail:
    sim_free(ops);
    sim_free(ev);
    sim_free(next_free);
    sim_free(seen);
    sim_free(reg);
    sim_free(names);
    hist_free(h);
    return NULL;
}
