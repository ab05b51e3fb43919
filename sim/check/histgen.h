/* histgen: register histories made by a correct register, for tests and
 * benchmarks.
 *
 * Clients issue reads, writes and compare-and-sets with random latencies;
 * each operation takes effect at one random instant inside its interval, on
 * one register per key, so the history is linearizable by construction.
 * Some writes and cas are indeterminate (info): they take effect at a random
 * later instant, or never. Written values are unique, as in sim traces.
 * The same options give the same history. */
#ifndef SIM_HISTGEN_H
#define SIM_HISTGEN_H

#include "history.h"

#include <stdbool.h>
#include <stdint.h>

struct histgen_options {
    uint64_t seed;
    size_t ops;            /* operations in all */
    int clients;           /* concurrent clients, each one operation at a time */
    int keys;              /* registers "x", "k2", "k3", ...; 0 = 1 */
    double read;           /* share of reads; 0 and 0 = defaults 0.5 and 0.3 */
    double write;          /* share of writes; the rest are cas */
    double info;           /* chance that a write or cas ends indeterminate */
    bool cas_fail_constrains;  /* failed cas as in Jepsen (they saw another value) */
    int64_t latency;       /* mean latency in ns; 0 = 1 ms */
};

/* A new history (free with hist_free), or NULL when out of memory. */
hist *histgen_register(const struct histgen_options *options);

#endif
