/* hist: an operation history, what every checker reads.
 *
 * A history is a list of client operations, each with its invocation and
 * its outcome: ok (took effect, and for a read: what it returned), fail
 * (definitely did not take effect) or info (nobody knows: it may take effect
 * at any time after its invocation, or never). Operations are stored in
 * invocation order. Times come in two forms: `pos`, the event number that
 * fixes the real-time order (two events never share one), and `t`, what a
 * person reads: nanoseconds of virtual time for sim traces, the line number
 * for Jepsen and Porcupine files, which carry no times.
 *
 * Strings (process names, keys, and for the key-value model every value)
 * are interned: an operation holds small integer ids, so comparing two
 * values is comparing two integers.
 *
 * Three readers build a history from a file: a sim trace (JSON Lines), a
 * Jepsen etcd log, a Porcupine key-value log. Each fails with one line,
 * "FILE:LINE: what is wrong", on malformed input; a last line cut short (a
 * killed run) is dropped with a warning instead. */
#ifndef SIM_HISTORY_H
#define SIM_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct hist hist;

/* The latest time a sim trace can hold: 2^53 ns (SIM_TIME_LIMIT). */
#define HIST_MAX_TIME ((int64_t)1 << 53)

/* A register value that was never written (Jepsen's nil, a trace's null). */
#define HIST_NIL INT64_MIN
/* The completion position of an operation that never completed (info, or
 * still open at the end): later than everything. */
#define HIST_NEVER INT64_MAX

/* Errors of the readers. */
#define HIST_EIO (-1)       /* the file cannot be read */
#define HIST_EFORMAT (-2)   /* the file is not a well-formed history */
#define HIST_ENOMEM (-3)

enum hist_model {
    HIST_REGISTER,   /* read / write / cas on int64 registers (nil = never written) */
    HIST_KV,         /* get / put / append on string values; a missing key reads "" */
};

/* HIST_ADD and HIST_REMOVE (a counter's increment, a set's element) come
 * only from sim traces of models with such types; register checkers do not
 * judge histories that have them (see hist_registers_only). */
enum hist_f { HIST_READ, HIST_WRITE, HIST_CAS, HIST_GET, HIST_PUT, HIST_APPEND, HIST_ADD, HIST_REMOVE,
              HIST_TXN };

/* One micro-operation of a transaction (HIST_TXN): a read or a write of a
 * register. A read's value is HIST_NIL until an ok completion gives it. */
struct hist_micro {
    uint8_t f;             /* HIST_READ or HIST_WRITE */
    int32_t key;           /* string id */
    int64_t value;
};

enum hist_type { HIST_OK, HIST_FAIL, HIST_INFO };

enum hist_clock {
    HIST_CLOCK_NS,     /* t is virtual time in nanoseconds (sim traces) */
    HIST_CLOCK_LINE,   /* t is the line number (Jepsen and Porcupine files) */
};

enum hist_format { HIST_FORMAT_TRACE, HIST_FORMAT_JEPSEN, HIST_FORMAT_PORCUPINE_KV, HIST_FORMAT_JEPSEN_EDN };

struct hist_op {
    int64_t id;            /* the id the client saw: a trace's "op"; 1, 2, ... in Jepsen and kv files */
    int32_t process;       /* string id of the client or process */
    int32_t key;           /* string id of the key ("" for Jepsen's single register) */
    uint8_t f;             /* enum hist_f */
    uint8_t type;          /* enum hist_type */
    bool constrains;       /* HIST_FAIL only: the operation still happened and
                            * constrains the order (Jepsen's failed cas read a
                            * value other than its expected one) */
    bool open;             /* no completion at all: the history ended first (type is INFO) */
    uint32_t micro_off;    /* HIST_TXN: its micro-operations, see hist_micro() */
    uint32_t micro_n;
    bool multi;            /* read with type OK that returned several values (siblings,
                            * a set): out is HIST_NIL and the values are not kept */
    int64_t arg;           /* write/put/append: the value; cas: the expected value */
    int64_t arg2;          /* cas: the new value */
    int64_t out;           /* read/get with type OK: the value returned */
    int64_t invoke_pos;    /* event number of the invocation */
    int64_t complete_pos;  /* event number of the completion (an info's too: checkers
                            * treat info as never completing); HIST_NEVER when open */
    int64_t invoke_t;      /* for people: ns or line (see enum hist_clock) */
    int64_t complete_t;    /* HIST_NEVER when open */
    int32_t invoke_line;   /* line in the source file, 0 for built histories */
    int32_t complete_line; /* 0 when no completion */
};

/* ---- what an operation wrote and saw (register histories) ---------------- */

/* The value a write or cas puts in its key (cas: the new value). */
static inline int64_t hist_written(const struct hist_op *op)
{
    return op->f == HIST_CAS ? op->arg2 : op->arg;
}

/* Did the operation see a value: an ok read, or an ok cas (which saw its
 * expected value)? */
static inline bool hist_observes(const struct hist_op *op)
{
    return op->type == HIST_OK && !op->multi && (op->f == HIST_READ || op->f == HIST_CAS);
}

/* The value it saw (hist_observes must hold). */
static inline int64_t hist_observed(const struct hist_op *op)
{
    return op->f == HIST_CAS ? op->arg : op->out;
}

/* ---- building ------------------------------------------------------------ */

/* An empty history. NULL when out of memory. Free with hist_free. */
hist *hist_new(enum hist_model model, enum hist_clock clock);
void hist_free(hist *h);

/* The id of string s (len bytes, may contain NUL), adding it if new. Ids are
 * dense, from 0, in order of first appearance; "" is always id 0.
 * -1 when out of memory. */
int32_t hist_intern(hist *h, const char *s, size_t len);

/* Append a copy of op (ops must come in invocation order; the caller fills
 * every field). Returns the operation's index, or -1 when out of memory. */
long hist_add(hist *h, const struct hist_op *op);
/* Store n micro-operations and return the offset to put in an op's
 * micro_off (micro_n = n), or -1 when out of memory. */
long hist_add_micro(hist *h, const struct hist_micro *m, size_t n);

/* ---- reading ------------------------------------------------------------- */

size_t hist_count(const hist *h);
const struct hist_op *hist_op(const hist *h, size_t index);
struct hist_op *hist_op_mut(hist *h, size_t index);   /* for tests that mutate */
enum hist_model hist_model(const hist *h);
enum hist_clock hist_clock(const hist *h);
/* The string with id `id` (NUL-terminated) and its length. */
const char *hist_str(const hist *h, int64_t id);
size_t hist_strlen(const hist *h, int64_t id);
size_t hist_n_strings(const hist *h);
/* A warning from the reader (e.g. a truncated last line), or "" for none. */
const char *hist_warning(const hist *h);
/* Number of keys, in order of first appearance; the key id of the k-th. */
size_t hist_n_keys(const hist *h);
int32_t hist_key(const hist *h, size_t k);

/* How to name an operation's process in a sentence: "c2", or "process 4"
 * when the name is a number (Jepsen and Porcupine files). Writes into buf. */
const char *hist_process_label(const hist *h, int32_t process, char *buf, size_t n);

const char *hist_f_name(enum hist_f f);

/* A transaction's micro-operations (op->micro_n of them). */
const struct hist_micro *hist_micro(const hist *h, const struct hist_op *op);
struct hist_micro *hist_micro_mut(hist *h, const struct hist_op *op);

/* Whether every operation is a register read, write or cas with one value
 * (or a kv get/put/append). False when the history has add/remove or reads
 * that returned several values, or transactions; then why (if not NULL)
 * gets a phrase such as "12 add/remove operations (a counter or a set)". */
bool hist_registers_only(const hist *h, char *why, size_t whylen);
const char *hist_type_name(enum hist_type t);
const char *hist_format_name(enum hist_format f);
/* "trace", "jepsen", "porcupine-kv" -> format; false when unknown. */
bool hist_format_parse(const char *name, enum hist_format *out);

/* ---- the readers --------------------------------------------------------- */

/* Parse a history of the given format from buf (len bytes). name is used in
 * messages ("NAME:LINE: ..."). On success *out owns a new history and 0 is
 * returned; otherwise a negative HIST_E* and one line in err. */
int hist_parse(enum hist_format format, const char *buf, size_t len, const char *name,
               hist **out, char *err, size_t errlen);

/* Read a file and parse it. HIST_EIO when it cannot be read (a directory,
 * missing, no permission). */
int hist_read_file(enum hist_format format, const char *path, hist **out, char *err,
                   size_t errlen);

/* Guess the format of a file from its name and first bytes: .jsonl or a line
 * starting with {" is a trace, .log or "INFO" is Jepsen, {: is Porcupine kv.
 * false when it cannot tell. */
bool hist_guess_format(const char *path, const char *head, size_t len, enum hist_format *out);

#endif
