/* Helpers for the model tests: a parameter set built by hand (the model's
 * defaults with the given overrides), and describe_msg fed garbage. */
#ifndef TESTS_MODEL_TEST_H
#define TESTS_MODEL_TEST_H

#include "jw.h"
#include "model.h"
#include "params.h"

#include <check.h>
#include <string.h>

/* kv: NULL, or "name", "value", ..., NULL (values as the command line's
 * --param takes them). Fails the test on an unknown name or a bad value. */
static inline params *params_with(const struct model *m, const char *const *kv)
{
    char err[256];
    params *p = params_new(m->name, m->params, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    for (; kv && kv[0]; kv += 2)
        ck_assert_msg(params_set_text(p, kv[0], kv[1], err, sizeof err) == 0, "%s", err);
    return p;
}

/* describe_msg on every length 0..200 of bytes that are no message of
 * m's (and hold no NUL, so no key is cut short) must still describe a
 * "type" and never read past len. */
static inline void describe_msg_survives_garbage(const struct model *m)
{
    unsigned char junk[200];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)(i * 37 + 11);
    jw w;
    jw_init(&w);
    for (size_t len = 0; len <= sizeof junk; len++) {
        jw_reset(&w);
        jw_obj(&w);
        m->describe_msg(junk, len, &w);
        jw_obj_end(&w);
        ck_assert_ptr_nonnull(strstr(w.buf, "\"type\""));
    }
    jw_free(&w);
}

#endif
