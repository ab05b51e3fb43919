/* The table of checkers, in the order sim check prints them: consistency
 * models from the strongest down, then what the final states and the model
 * say, then CAP/PACELC. Adding a checker is one line here (and its file in
 * meson.build). */
#include "checker.h"

extern const struct checker linearizable_checker, sequential_checker, causal_checker;
extern const struct checker read_your_writes_checker, monotonic_reads_checker,
    monotonic_writes_checker, writes_follow_reads_checker;
extern const struct checker staleness_checker, no_lost_writes_checker, converges_checker;
extern const struct checker invariants_checker, cap_checker;
extern const struct checker atomicity_checker, nonblocking_checker, read_committed_checker, saga_checker;
extern const struct checker mutual_exclusion_checker;
extern const struct checker delivery_checker, exactly_once_checker;

const struct checker *const checkers[] = {
    &linearizable_checker,
    &sequential_checker,
    &causal_checker,
    &read_your_writes_checker,
    &monotonic_reads_checker,
    &monotonic_writes_checker,
    &writes_follow_reads_checker,
    &staleness_checker,
    &no_lost_writes_checker,
    &converges_checker,
    &invariants_checker,
    &read_committed_checker,
    &atomicity_checker,
    &nonblocking_checker,
    &saga_checker,
    &mutual_exclusion_checker,
    &delivery_checker,
    &exactly_once_checker,
    &cap_checker,
    NULL,
};
