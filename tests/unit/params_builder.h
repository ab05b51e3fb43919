/* A model's parameter set built by hand, for the model tests: the model's
 * defaults with the given overrides. Include after check.h. */
#ifndef TESTS_PARAMS_BUILDER_H
#define TESTS_PARAMS_BUILDER_H

#include "model.h"
#include "params.h"

#include <check.h>

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

#endif
