/* The quorum model's pure arithmetic, for models/quorum.c and its unit
 * tests: which (n, w, r) sets make sense, whether reads meet writes, and
 * the CAP/PACELC class a parameter set claims. No state, no allocation. */
#ifndef SIM_QUORUM_H
#define SIM_QUORUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Strict quorums overlap when w + r > n: every read quorum of r replicas
 * shares at least one replica with every write quorum of w, so a read
 * that gathers r answers from the key's own replicas sees every write
 * acknowledged before it began (absent sloppy quorums and lost data). */
bool quorum_overlap(int64_t n, int64_t w, int64_t r);

/* How many of a key's n replicas may be unreachable while a quorum of q
 * can still be gathered (n - q, at least 0). */
int64_t quorum_tolerates(int64_t n, int64_t q);

/* Everything the model's parameters must satisfy on a cluster of `nodes`
 * nodes. Returns 0, or -1 with one sentence in err naming the parameter,
 * its value and why it cannot work. vv_max is the largest cluster version
 * vectors can count (VV_MAX), used when vv is true. */
struct quorum_setup {
    int64_t nodes, n, w, r, vnodes;
    int64_t timeout, handoff_period;   /* ns */
    bool hinted_handoff;
    bool vv;
    int64_t vv_max;
};
int quorum_check(const struct quorum_setup *q, char *err, size_t errlen);

/* The class these parameters claim, as a static string ("PA/EL", ...):
 * P side: PA when a partition's side can still answer with what it can
 *   reach (sloppy quorum, or w = r = 1), else PC (a side holding fewer
 *   than w or r of a key's replicas refuses).
 * E side: EC when quorums overlap and a write waits for another replica
 *   (w >= 2), so no read outside faults is stale and writes pay a round
 *   trip; else EL. See docs/models/quorum.md for why "C" is not
 *   linearizability here. */
const char *quorum_class(int64_t n, int64_t w, int64_t r, bool sloppy);

#endif
