/* State-based CRDTs (convergent replicated data types): the state types and
 * their merges, with no simulator in sight, so they can be tested as
 * properties on their own (tests/unit/test_crdt.c).
 *
 * A state-based CRDT is a value whose replicas can be updated independently
 * and merged in any order, any number of times: merge is commutative,
 * associative and idempotent (a join in a semilattice), and every update
 * moves the state up the lattice. Replicas that have seen the same updates
 * therefore hold the same state, whatever the delivery order. Four types:
 *
 *   - G-counter: a grow-only counter; one count per node, merge = pointwise
 *     maximum, value = sum.
 *   - PN-counter: two G-counters (increments P, decrements N), value = P - N.
 *   - OR-set (observed-remove set, add wins): the "optimized" form with a
 *     causal context instead of tombstones (Bieniusa et al. 2012, Riak's
 *     ORSWOT). Each add gets a unique dot (node, seq); the state keeps the
 *     live dots and a context ctx[node] = the highest seq of node seen. A
 *     remove drops the element's dots it has observed; the context keeps
 *     remembering them, which is what tells a merge "removed" from "not yet
 *     seen": a dot missing on one side survives only if that side's context
 *     has not seen it. An add concurrent with a remove carries a dot the
 *     remove did not observe, so the add wins.
 *   - LWW-register: (timestamp, node, value); merge keeps the larger
 *     (timestamp, node), ties (the same stamp with different values, which a
 *     correct writer never makes) broken by the larger value so the merge
 *     stays commutative.
 *
 * Every type is fixed-size plain bytes (no pointers): a state can sit in a
 * message or a store value as it is, and two equal states are equal bytes
 * as long as they are built with these functions (unused entries zero,
 * OR-set dots sorted). A state read from a message must be checked with the
 * type's _valid function before use. Node indices are 0..CRDT_NODES-1. */
#ifndef SIM_CRDT_H
#define SIM_CRDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRDT_NODES 32        /* nodes a counter or a set context can count */
#define CRDT_SET_DOTS 256    /* live dots an OR-set can hold */

/* ---- G-counter ------------------------------------------------------------ */

struct crdt_gcounter {
    uint32_t n;              /* nodes counted: c[0..n-1] */
    uint32_t pad;
    uint64_t c[CRDT_NODES];  /* increments made by each node */
};

void crdt_gcounter_init(struct crdt_gcounter *g, int n);
/* Node adds inc (>= 0). -1 (nothing changed) when inc < 0 or node is out
 * of range: a G-counter only grows. */
int crdt_gcounter_add(struct crdt_gcounter *g, int node, int64_t inc);
uint64_t crdt_gcounter_value(const struct crdt_gcounter *g);
/* into = the pointwise maximum of into and other. */
void crdt_gcounter_merge(struct crdt_gcounter *into, const struct crdt_gcounter *other);
/* a <= b in the lattice: b has seen every increment a has. */
bool crdt_gcounter_leq(const struct crdt_gcounter *a, const struct crdt_gcounter *b);
bool crdt_gcounter_valid(const void *bytes, size_t len);

/* ---- PN-counter ----------------------------------------------------------- */

struct crdt_pncounter {
    struct crdt_gcounter p;  /* increments */
    struct crdt_gcounter n;  /* decrements, as positive amounts */
};

void crdt_pncounter_init(struct crdt_pncounter *c, int n);
/* Node adds delta (negative = decrement). -1 if node is out of range or
 * delta is INT64_MIN. */
int crdt_pncounter_add(struct crdt_pncounter *c, int node, int64_t delta);
int64_t crdt_pncounter_value(const struct crdt_pncounter *c);
void crdt_pncounter_merge(struct crdt_pncounter *into, const struct crdt_pncounter *other);
bool crdt_pncounter_leq(const struct crdt_pncounter *a, const struct crdt_pncounter *b);
bool crdt_pncounter_valid(const void *bytes, size_t len);

/* ---- OR-set (add wins, causal context) ------------------------------------ */

struct crdt_dot {
    int64_t elem;
    uint32_t node;
    uint32_t pad;
    uint64_t seq;            /* >= 1 */
};

struct crdt_orset {
    uint32_t n_nodes;        /* nodes in the context: ctx[0..n_nodes-1] */
    uint32_t n_dots;
    uint64_t ctx[CRDT_NODES];
    struct crdt_dot dots[CRDT_SET_DOTS];  /* sorted by (elem, node, seq) */
};

void crdt_orset_init(struct crdt_orset *s, int n);
/* Node adds elem: the dots of elem it has observed are replaced by one new
 * dot. -1 (nothing changed) if node is out of range or the set is full. */
int crdt_orset_add(struct crdt_orset *s, int node, int64_t elem);
/* Remove every observed dot of elem. Returns how many were removed (0: the
 * element was not in the set, nothing changed). */
int crdt_orset_remove(struct crdt_orset *s, int64_t elem);
bool crdt_orset_contains(const struct crdt_orset *s, int64_t elem);
/* The distinct elements, ascending, into out (at most max). Returns how
 * many there are in all (may exceed max). */
int crdt_orset_elements(const struct crdt_orset *s, int64_t *out, int max);
/* into = the join of into and other. -1 (into unchanged) if the result
 * would not fit CRDT_SET_DOTS. */
int crdt_orset_merge(struct crdt_orset *into, const struct crdt_orset *other);
/* a <= b: merging a into b would not change b. */
bool crdt_orset_leq(const struct crdt_orset *a, const struct crdt_orset *b);
bool crdt_orset_valid(const void *bytes, size_t len);

/* ---- LWW-register --------------------------------------------------------- */

struct crdt_lwwreg {
    int64_t ts;              /* the writer's timestamp */
    int32_t node;            /* the writer: breaks timestamp ties */
    int32_t has;             /* 0: never written */
    int64_t value;
};

void crdt_lwwreg_init(struct crdt_lwwreg *r);
/* Is a's version newer than b's: larger (ts, node, value), and any
 * written version is newer than an unwritten one. */
bool crdt_lwwreg_newer(const struct crdt_lwwreg *a, const struct crdt_lwwreg *b);
/* A write of value stamped (ts, node): kept only if newer than the current
 * version (a write stamped older than what the register holds is lost).
 * Returns true if it was kept. */
bool crdt_lwwreg_set(struct crdt_lwwreg *r, int64_t ts, int node, int64_t value);
/* into = the newer of into and other. Returns true if into changed. */
bool crdt_lwwreg_merge(struct crdt_lwwreg *into, const struct crdt_lwwreg *other);
bool crdt_lwwreg_valid(const void *bytes, size_t len);

#endif
