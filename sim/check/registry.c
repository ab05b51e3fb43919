/* The table of checkers, in the order sim check prints them. Adding a
 * checker is one line here (and its file in meson.build). */
#include "checker.h"

extern const struct checker invariants_checker;

const struct checker *const checkers[] = {
    &invariants_checker,
    NULL,
};
