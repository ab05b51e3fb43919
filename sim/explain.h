/* explain: sim run --explain, a narrator that tells a run in plain words
 * as its trace is written (a partition starts; n3 becomes leader in term 4;
 * c2's read returns a stale value, and why). */
#ifndef SIM_EXPLAIN_H
#define SIM_EXPLAIN_H

#include <stddef.h>
#include <stdio.h>

typedef struct explain explain;

/* A narrator that writes its sentences to out (not owned; it must outlive
 * the narrator). Free it with explain_free. */
explain *explain_new(FILE *out);

/* Read one trace line (JSON text, with or without its newline) and print
 * the sentences it calls for. Its signature is trace_observer_fn's, so
 * trace_set_observer(tr, explain_line, ex) installs the narrator. */
void explain_line(void *ex, const char *line, size_t len);

/* Print how many sentences of each kind were left out, then free ex.
 * NULL is allowed. */
void explain_free(explain *ex);

#endif
