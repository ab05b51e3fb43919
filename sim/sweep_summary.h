/* sweep_summary: the summary of a sweep and its JUnit XML, built from the
 * result lines alone.
 *
 * A sweep and `sim sweep --merge` feed the same lines, in seed order, to
 * the same code, so a merge of shard files prints exactly the summary of
 * the unsharded run. Only the last line ("wall ...") depends on the wall
 * clock; everything above it is a function of the lines. */
#ifndef SIM_SWEEP_SUMMARY_H
#define SIM_SWEEP_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct cJSON;
typedef struct sweep_summary sweep_summary;

/* A summary for the sweep described by header, the results file's first
 * line (a cJSON object; the summary keeps a copy of what it needs).
 * junit: also collect the test cases for sweep_summary_junit. */
sweep_summary *sweep_summary_new(const struct cJSON *header, bool junit);
void sweep_summary_free(sweep_summary *s);

/* Add one result line (a cJSON object), in seed order. */
void sweep_summary_add(sweep_summary *s, const struct cJSON *line);

/* The sweep stopped early (--stop-on-failure). */
void sweep_summary_stopped(sweep_summary *s);

/* Seeds done, and failures among them, so far. */
uint64_t sweep_summary_done(const sweep_summary *s);
uint64_t sweep_summary_failed(const sweep_summary *s);
/* Seeds the header's range holds (or this shard of it). */
uint64_t sweep_summary_expected(const sweep_summary *s);
/* Seeds that ended in a scenario error (exit 4). */
uint64_t sweep_summary_scenario_errors(const sweep_summary *s);

/* Print the summary. wall_line is the last line, without its label
 * ("1.2 s, 16 seeds/s, 2 workers"), or NULL for the sum of the lines' own
 * wall times. */
void sweep_summary_print(const sweep_summary *s, FILE *out, const char *wall_line);

/* Write the JUnit XML document (one testcase per seed; failing seeds get a
 * <failure>, seeds that could not run an <error>, each with the replay
 * command). 0, or -1 with errno when writing failed. */
int sweep_summary_junit(const sweep_summary *s, const char *path);

#endif
