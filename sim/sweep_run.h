/* sweep_run: one seed of a scenario judged exactly as `sim run` judges it,
 * its failure kind, and its result as one JSON line. Shared by sim sweep
 * (many seeds, in worker processes) and sim shrink (many candidate
 * scenarios, one seed). */
#ifndef SIM_SWEEP_RUN_H
#define SIM_SWEEP_RUN_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Run rq with trace tr (may be NULL; then trace_path is NULL too) and
 * decide every expectation the way sim run does: checker expectations on
 * the trace (or on a quiet second run into a temporary trace when tr is
 * NULL), and a broken invariant fails the run unless an expectation names
 * invariants. The trace is flushed but not closed. Returns the exit code
 * sim run would return; res->exit_code is the same. On an error exit (4, 5,
 * 70) res->error holds the one-line message. */
int sweep_judge(const struct run_request *rq, struct trace *tr, const char *trace_path,
                struct lsim_result *res);

/* The same run traced into a temporary file (in $TMPDIR or /tmp) whose
 * SHA-256 goes into digest (64 hex digits): the determinism self-check
 * compares two of them. Returns the exit code, as sweep_judge. */
int sweep_judge_digest(const struct run_request *rq, struct lsim_result *res, char digest[65]);

/* The kind of failure of a judged run, the key by which sweeps group their
 * failures and shrink decides that a smaller run "fails the same way":
 *   ""                       passed (exit 0)
 *   "invariant"              a model invariant broke (and none was expected)
 *   "expect:a+b"             these expectations failed, in the order listed
 *   "event_limit"            the run exceeded --max-events (a livelock?)
 *   "scenario_error"         exit 4: a Lua error, a bad argument, a budget
 *   "io_error", "internal_error", "exit_N"
 * out gets at most outlen-1 bytes. */
void sweep_failure_kind(const struct lsim_result *res, int exit_code, char *out, size_t outlen);

/* Whether the failed run res shows the expectation `name` failing. */
bool sweep_expect_failed(const struct lsim_result *res, const char *name);

/* Append to *buf (a NUL-terminated heap string of capacity *cap, grown as
 * needed with sim_grow) the text s quoted for a POSIX shell when it needs
 * it: plain words are left as they are. */
void sweep_shell_word(char **buf, size_t *cap, const char *s);

/* The command that replays seed `seed` of rq's scenario with the trace on,
 * as one line without a newline: `sim run SCENARIO --seed N --trace
 * traces/NAME-seedN.jsonl [--param K=V]... [--swarm] [limits]`. The
 * caller frees the result with sim_free. */
char *sweep_replay_command(const struct run_request *rq, uint64_t seed);

/* The default trace path of sim run: traces/NAME-seedN.jsonl. */
void sweep_trace_path(const char *scenario, uint64_t seed, char *out, size_t outlen);

#endif
