/* lin: is a history linearizable?
 *
 * The Wing-Gong / Lowe search (as described for Porcupine): the history's
 * invocations and completions form one list in real-time order; the search
 * takes an operation whose invocation comes before the first completion
 * still in the list, applies it to a sequential model, takes it out of the
 * list, and goes on; when a completion comes first, it backtracks. Every
 * (set of operations placed, model state) pair is remembered, so no state is
 * explored twice.
 *
 * Keys are independent (P-compositionality): each key is checked on its own,
 * which turns one exponential search into many small ones. Keys take turns
 * with a growing allowance of steps, so one that fails fast is found early.
 *
 * Sound reductions cut orders that cannot lead anywhere: a look-ahead (the
 * next completion must still be explainable), symmetry between identical
 * operations, indeterminate operations placed only just before someone sees
 * their value, and appends nobody reads placed with the put that wipes them.
 * See docs/checkers.md and the comment at each.
 *
 * Models: a register per key (read / write / cas on int64 values, nil =
 * never written) and a key-value store (get / put / append on strings, a
 * missing key reads ""). An info operation may take effect at any time after
 * its invocation, or never: its completion is placed after everything. A
 * read that failed or never answered constrains nothing and is left out.
 *
 * The search counts steps. It never runs more than its budget; when the
 * budget runs out the verdict is LIN_UNKNOWN, never a guess. Its memory is
 * bounded too (the table of visited states stops growing at a limit).
 * Everything is deterministic: the same history gives the same verdict,
 * the same evidence and the same step count. */
#ifndef SIM_LINEARIZABLE_H
#define SIM_LINEARIZABLE_H

#include "history.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIN_DEFAULT_BUDGET UINT64_C(10000000)
#define LIN_DEFAULT_MEMORY ((size_t)512 << 20)

enum lin_verdict { LIN_HOLDS, LIN_VIOLATED, LIN_UNKNOWN };

struct lin_options {
    uint64_t budget;      /* search steps for the verdict, all keys together; 0 = default */
    size_t memory;        /* bytes for one key's table of visited states; 0 = default */
    bool evidence;        /* on a violation, find the window, the prefix and a reason
                           * (a second search, with its own budget of the same size) */
    bool all_keys;        /* go on after the first violated key */
    bool linearization;   /* when it holds, return one linearization (for tests) */
};

struct lin_key {
    int32_t key;               /* string id */
    enum lin_verdict verdict;  /* LIN_UNKNOWN also for keys never reached */
    bool checked;
    uint64_t steps;
    size_t n_ops;              /* operations the search had to place */
};

struct lin_result {
    enum lin_verdict verdict;
    uint64_t steps;            /* search steps for the verdict */
    uint64_t evidence_steps;   /* search steps spent on evidence */
    size_t n_ops;              /* operations searched (failed reads etc. left out) */
    size_t n_keys;
    struct lin_key *keys;      /* n_keys, in the history's key order */
    size_t keys_violated, keys_unknown;
    bool out_of_memory;        /* a key's search hit the memory limit */
    int32_t key;               /* the key the reason is about, or -1 */
    char reason[1024];         /* one sentence (empty when it holds) */

    /* Evidence, on a violation with options.evidence. Indices into the history. */
    bool has_evidence;
    bool evidence_complete;    /* false: the evidence search ran out of budget */
    long failed_op;            /* the operation whose completion cannot be explained */
    long *window;              /* the shortest window that cannot be linearized, */
    size_t n_window;           /* by invocation */
    long window_after;         /* the window holds what was still running after this
                                * operation completed; -1 = from the start */
    long *prefix;              /* a linearization of the longest linearizable */
    size_t n_prefix;           /* prefix (everything before failed_op completed) */
    long *cited;               /* the operations the reason names */
    size_t n_cited;

    /* With options.linearization, when it holds: every key's order, one key
     * after the other. Info operations that need not take effect are left out. */
    long *order;
    size_t n_order;
};

/* Check h. out is filled (free it with lin_result_free); returns 0, or
 * HIST_ENOMEM when out of memory (out->verdict is then LIN_UNKNOWN). */
int lin_check(const hist *h, const struct lin_options *options, struct lin_result *out);
void lin_result_free(struct lin_result *r);

const char *lin_verdict_name(enum lin_verdict v);   /* "holds", "violated", "unknown" */

/* Describe an operation for people, e.g. "c2 read x=1" (what_out) and a time
 * "41.2 ms" / "line 83". Used by the command line and the reasons. */
const char *lin_describe_op(const hist *h, const struct hist_op *op, char *buf, size_t n);
const char *lin_format_time(const hist *h, int64_t t, char *buf, size_t n);
const char *lin_format_value(const hist *h, int64_t v, char *buf, size_t n);

#endif
