/* The JSON Lines trace: writer and header reader.
 *
 * Each event is one line, {"t":<ns>,"ev":"<type>",...}. Lines are built in a
 * jw buffer and copied into an output buffer that is written with write(2)
 * only at line boundaries, so a run killed at any point leaves a file of
 * complete lines: a valid prefix of the trace. See docs/trace-format.md. */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include "simtypes.h"
#include "jw.h"

#include <stdio.h>

#define TRACE_FORMAT_VERSION 1

typedef struct trace trace;

/* Open path for writing ("-" is standard output). Returns NULL and fills
 * err with one line on failure. The caller owns the trace (trace_close). */
trace *trace_open(const char *path, char *err, size_t errlen);

/* Write to an already open descriptor; the trace does not close it. */
trace *trace_open_fd(int fd);

/* Start an event line at virtual time at (at < 0 omits "t", for the header)
 * and return the writer, positioned inside the event object. Add fields with
 * jw_k* calls, then call trace_end. */
jw *trace_begin(trace *t, sim_time at, const char *ev);
/* The same with the event type given already quoted ("\"send\"", n bytes):
 * for the hottest lines. TRACE_BEGIN(t, at, "send") writes it for you. */
jw *trace_begin_quoted(trace *t, sim_time at, const char *quoted_ev, size_t n);
#define TRACE_BEGIN(t, at, lit) trace_begin_quoted((t), (at), "\"" lit "\"", sizeof(lit) + 1)
void trace_end(trace *t);

/* Write everything buffered. Returns 0, or -1 once any write has failed. */
int trace_flush(trace *t);

/* Has any write failed? (the error sticks) */
int trace_failed(const trace *t);

/* Flush, close and free; returns 0 or -1 if any write failed (errno set).
 * NULL is accepted. */
int trace_close(trace *t);

uint64_t trace_lines(const trace *t);
uint64_t trace_bytes(const trace *t);

/* A trace header as read back by replay and check. Strings are owned by the
 * struct; free with trace_header_free. params is a cJSON object (or NULL). */
struct trace_header {
    int format;
    char *sim_version;
    char *scenario;
    char *scenario_sha256;
    uint64_t seed;
    struct cJSON *params;
};

/* Read and validate line 1 of the trace at path. Returns 0, or a SIM_EXIT_*
 * code (IO or BAD_TRACE) with a one-line message in err. */
int trace_header_read(const char *path, struct trace_header *out, char *err, size_t errlen);
void trace_header_free(struct trace_header *h);

/* Read one line of f into *buf (grown as needed, NUL-terminated, without the
 * newline). Returns the length, or -1 at end of file. *complete is set to 0
 * when the last line had no newline (a truncated write). */
long trace_getline(FILE *f, char **buf, size_t *cap, int *complete);

/* Call fn with every line (its JSON text and newline) as it is ended, before
 * it is written out: sim run --explain narrates the run from them. */
typedef void (*trace_observer_fn)(void *ud, const char *line, size_t len);
void trace_set_observer(trace *t, trace_observer_fn fn, void *ud);

#endif
