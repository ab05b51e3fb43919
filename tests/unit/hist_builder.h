/* Building register histories by hand, for the checker tests: one client
 * call after another, events one millisecond apart. Include after check.h
 * and history.h; defines NIL and NEVER. */
#ifndef TESTS_HIST_BUILDER_H
#define TESTS_HIST_BUILDER_H

#include "history.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#ifndef NIL
#define NIL HIST_NIL
#endif
#ifndef NEVER
#define NEVER HIST_NEVER
#endif

/* Events happen in the order the calls are made, one millisecond apart. */
struct tb {
    hist *h;
    int64_t pos;
    long open[32];   /* per client number: its open operation */
};

static inline void tb_init_model(struct tb *b, enum hist_model model)
{
    b->h = hist_new(model, HIST_CLOCK_NS);
    ck_assert_ptr_nonnull(b->h);
    b->pos = 0;
    for (int i = 0; i < 32; i++)
        b->open[i] = -1;
}

/* A register history (the common case). */
static inline void tb_init(struct tb *b)
{
    tb_init_model(b, HIST_REGISTER);
}

static inline int32_t str(struct tb *b, const char *s)
{
    int32_t id = hist_intern(b->h, s, strlen(s));
    ck_assert_int_ge(id, 0);
    return id;
}

/* Client c (1..31) invokes f on key with arguments a, a2. */
static inline void inv(struct tb *b, int c, enum hist_f f, const char *key, int64_t a, int64_t a2)
{
    char name[8];
    snprintf(name, sizeof name, "c%d", c);
    struct hist_op op = { 0 };
    op.id = (int64_t)hist_count(b->h) + 1;
    op.process = str(b, name);
    op.key = str(b, key);
    op.f = (uint8_t)f;
    op.type = HIST_INFO;
    op.open = true;
    op.arg = a;
    op.arg2 = a2;
    op.out = NIL;
    op.invoke_pos = ++b->pos;
    op.invoke_t = b->pos * 1000000;
    op.complete_pos = NEVER;
    op.complete_t = NEVER;
    long i = hist_add(b->h, &op);
    ck_assert_int_ge(i, 0);
    b->open[c] = i;
}

/* Client c's open operation completes: type, for reads the value, and
 * whether an info operation constrains (sequential checker: its effect was
 * observed). */
static inline void done_c(struct tb *b, int c, enum hist_type type, int64_t out, bool constrains)
{
    ck_assert_int_ge(b->open[c], 0);
    struct hist_op *op = hist_op_mut(b->h, (size_t)b->open[c]);
    op->type = (uint8_t)type;
    op->open = false;
    op->out = out;
    op->complete_pos = ++b->pos;
    op->complete_t = b->pos * 1000000;
    op->constrains = constrains;
    b->open[c] = -1;
}

static inline void done(struct tb *b, int c, enum hist_type type, int64_t out)
{
    done_c(b, c, type, out, false);
}

/* The common shapes: a whole write or read, one after the other. */
static inline void write_ok(struct tb *b, int c, const char *key, int64_t v)
{
    inv(b, c, HIST_WRITE, key, v, NIL);
    done(b, c, HIST_OK, NIL);
}

static inline void read_ok(struct tb *b, int c, const char *key, int64_t v)
{
    inv(b, c, HIST_READ, key, NIL, NIL);
    done(b, c, HIST_OK, v);
}

/* A write that times out: invoked now, info from then on. */
static inline void write_info(struct tb *b, int c, const char *key, int64_t v)
{
    inv(b, c, HIST_WRITE, key, v, NIL);
    done(b, c, HIST_INFO, NIL);
}

#endif
