#include "history.h"

#include "core/alloc.h"
#include "trace/jread.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct hist {
    enum hist_model model;
    enum hist_clock clock;
    struct hist_op *ops;
    size_t n_ops, cap_ops;
    /* interned strings: chars holds them NUL-terminated, back to back */
    char *chars;
    size_t n_chars, cap_chars;
    size_t *str_off;
    size_t *str_len;
    bool *str_is_key;
    size_t n_str, cap_str;
    int32_t *table;            /* open addressing over string ids, -1 = empty */
    size_t table_cap;          /* a power of two */
    int32_t *keys;             /* key ids in order of first appearance */
    size_t n_keys, cap_keys;
    size_t n_addrem;           /* add/remove operations */
    size_t n_multi;            /* reads that returned several values */
    size_t n_txn;              /* transactions */
    struct hist_micro *micro;  /* every transaction's micro-operations */
    size_t n_micro, cap_micro;
    char warning[300];
};

/* ==== building ============================================================ */

hist *hist_new(enum hist_model model, enum hist_clock clock)
{
    hist *h = sim_calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->model = model;
    h->clock = clock;
    if (hist_intern(h, "", 0) != 0) {
        hist_free(h);
        return NULL;
    }
    return h;
}

void hist_free(hist *h)
{
    if (!h)
        return;
    sim_free(h->ops);
    sim_free(h->chars);
    sim_free(h->str_off);
    sim_free(h->str_len);
    sim_free(h->str_is_key);
    sim_free(h->table);
    sim_free(h->keys);
    sim_free(h->micro);
    sim_free(h);
}

static uint64_t str_hash(const char *s, size_t len)
{
    uint64_t x = 1469598103934665603ULL;   /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        x ^= (unsigned char)s[i];
        x *= 1099511628211ULL;
    }
    return x ^ (x >> 29);
}

/* Grow *items (cap elements of size elem) to hold need; false when out of memory. */
static bool grow(void **items, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 8;
    while (c < need)
        c *= 2;
    void *p = sim_realloc(*items, c * elem);
    if (!p)
        return false;
    *items = p;
    *cap = c;
    return true;
}

static bool rehash(hist *h, size_t cap)
{
    int32_t *t = sim_malloc(cap * sizeof *t);
    if (!t)
        return false;
    memset(t, 0xff, cap * sizeof *t);
    for (size_t i = 0; i < h->n_str; i++) {
        size_t slot = str_hash(h->chars + h->str_off[i], h->str_len[i]) & (cap - 1);
        while (t[slot] >= 0)
            slot = (slot + 1) & (cap - 1);
        t[slot] = (int32_t)i;
    }
    sim_free(h->table);
    h->table = t;
    h->table_cap = cap;
    return true;
}

int32_t hist_intern(hist *h, const char *s, size_t len)
{
    if (h->table_cap == 0 && !rehash(h, 64))
        return -1;
    uint64_t x = str_hash(s, len);
    size_t slot = x & (h->table_cap - 1);
    for (int32_t id; (id = h->table[slot]) >= 0; slot = (slot + 1) & (h->table_cap - 1))
        if (h->str_len[id] == len && memcmp(h->chars + h->str_off[id], s, len) == 0)
            return id;
    if (h->n_str >= INT32_MAX - 1)
        return -1;
    size_t cap_str = h->cap_str;
    if (!grow((void **)&h->str_off, &cap_str, h->n_str + 1, sizeof *h->str_off))
        return -1;
    cap_str = h->cap_str;
    if (!grow((void **)&h->str_len, &cap_str, h->n_str + 1, sizeof *h->str_len))
        return -1;
    cap_str = h->cap_str;
    if (!grow((void **)&h->str_is_key, &cap_str, h->n_str + 1, sizeof *h->str_is_key))
        return -1;
    h->cap_str = cap_str;
    if (!grow((void **)&h->chars, &h->cap_chars, h->n_chars + len + 1, 1))
        return -1;
    int32_t id = (int32_t)h->n_str++;
    h->str_off[id] = h->n_chars;
    h->str_len[id] = len;
    h->str_is_key[id] = false;
    if (len)
        memcpy(h->chars + h->n_chars, s, len);
    h->chars[h->n_chars + len] = '\0';
    h->n_chars += len + 1;
    h->table[slot] = id;
    if (h->n_str * 2 > h->table_cap && !rehash(h, h->table_cap * 2)) {
        h->n_str--;   /* keep the table consistent: forget the new string */
        h->n_chars -= len + 1;
        h->table[slot] = -1;
        return -1;
    }
    return id;
}

long hist_add(hist *h, const struct hist_op *op)
{
    if (!grow((void **)&h->ops, &h->cap_ops, h->n_ops + 1, sizeof *h->ops))
        return -1;
    if (op->key >= 0 && (size_t)op->key < h->n_str && !h->str_is_key[op->key]) {
        if (!grow((void **)&h->keys, &h->cap_keys, h->n_keys + 1, sizeof *h->keys))
            return -1;
        h->str_is_key[op->key] = true;
        h->keys[h->n_keys++] = op->key;
    }
    h->ops[h->n_ops] = *op;
    return (long)h->n_ops++;
}

long hist_add_micro(hist *h, const struct hist_micro *m, size_t n)
{
    if (h->n_micro + n > UINT32_MAX || !grow((void **)&h->micro, &h->cap_micro, h->n_micro + n, sizeof *h->micro))
        return -1;
    for (size_t i = 0; i < n; i++) {
        /* a transaction's keys are keys too, in order of first use */
        int32_t key = m[i].key;
        if (key >= 0 && (size_t)key < h->n_str && !h->str_is_key[key]) {
            if (!grow((void **)&h->keys, &h->cap_keys, h->n_keys + 1, sizeof *h->keys))
                return -1;
            h->str_is_key[key] = true;
            h->keys[h->n_keys++] = key;
        }
    }
    memcpy(h->micro + h->n_micro, m, n * sizeof *m);
    long off = (long)h->n_micro;
    h->n_micro += n;
    return off;
}

const struct hist_micro *hist_micro(const hist *h, const struct hist_op *op)
{
    return h->micro + op->micro_off;
}

struct hist_micro *hist_micro_mut(hist *h, const struct hist_op *op)
{
    return h->micro + op->micro_off;
}

/* ==== reading ============================================================= */

size_t hist_count(const hist *h) { return h->n_ops; }
const struct hist_op *hist_op(const hist *h, size_t i) { return &h->ops[i]; }
struct hist_op *hist_op_mut(hist *h, size_t i) { return &h->ops[i]; }
enum hist_model hist_model(const hist *h) { return h->model; }
enum hist_clock hist_clock(const hist *h) { return h->clock; }
size_t hist_n_strings(const hist *h) { return h->n_str; }
const char *hist_warning(const hist *h) { return h->warning; }
size_t hist_n_keys(const hist *h) { return h->n_keys; }
int32_t hist_key(const hist *h, size_t k) { return h->keys[k]; }

const char *hist_str(const hist *h, int64_t id)
{
    if (id < 0 || (uint64_t)id >= h->n_str)
        return "?";
    return h->chars + h->str_off[id];
}

size_t hist_strlen(const hist *h, int64_t id)
{
    if (id < 0 || (uint64_t)id >= h->n_str)
        return 1;
    return h->str_len[id];
}

const char *hist_process_label(const hist *h, int32_t process, char *buf, size_t n)
{
    const char *name = hist_str(h, process);
    bool digits = *name != '\0';
    for (const char *p = name; *p; p++)
        if (!isdigit((unsigned char)*p))
            digits = false;
    snprintf(buf, n, "%s%s", digits ? "process " : "", name);
    return buf;
}

const char *hist_f_name(enum hist_f f)
{
    static const char *const names[] = { "read", "write", "cas", "get", "put", "append", "add", "remove",
                                         "txn" };
    return (unsigned)f < sizeof names / sizeof names[0] ? names[f] : "?";
}

bool hist_registers_only(const hist *h, char *why, size_t whylen)
{
    if (h->n_addrem == 0 && h->n_multi == 0 && h->n_txn == 0)
        return true;
    if (why && whylen) {
        if (h->n_txn)
            snprintf(why, whylen, "%zu transactions (several keys read and written at once)", h->n_txn);
        else if (h->n_addrem && h->n_multi)
            snprintf(why, whylen, "%zu add/remove operations and %zu reads that returned several values",
                     h->n_addrem, h->n_multi);
        else if (h->n_addrem)
            snprintf(why, whylen, "%zu add/remove operations (a counter or a set)", h->n_addrem);
        else
            snprintf(why, whylen, "%zu reads that returned several values (siblings or a set)",
                     h->n_multi);
    }
    return false;
}

const char *hist_type_name(enum hist_type t)
{
    static const char *const names[] = { "ok", "fail", "info" };
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static const char *const format_names[] = { "trace", "jepsen", "porcupine-kv", "jepsen-edn" };

const char *hist_format_name(enum hist_format f)
{
    return (unsigned)f < 4 ? format_names[f] : "?";
}

bool hist_format_parse(const char *name, enum hist_format *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, format_names[i]) == 0) {
            *out = (enum hist_format)i;
            return true;
        }
    return false;
}

/* ==== the readers: shared state =========================================== */

struct reader {
    hist *h;
    const char *name;
    char *err;
    size_t errlen;
    long line;
    bool last_line;         /* the current line is the file's last one */
    bool no_newline;        /* ... and has no newline after it */
    long *open_by_process;  /* index by process string id: open op, or -1 */
    size_t cap_open;
    /* trace op id -> op index, open addressing (index -1 = empty) */
    int64_t *id_keys;
    long *id_vals;
    size_t id_cap, id_n;
    int64_t last_t;
    int64_t invoked;        /* operations invoked so far (ids for Jepsen and kv) */
};

static int rfail(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rfail(struct reader *r, const char *fmt, ...)
{
    int n = snprintf(r->err, r->errlen, "%s:%ld: ", r->name, r->line);
    if (n < 0 || (size_t)n >= r->errlen)
        return HIST_EFORMAT;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return HIST_EFORMAT;
}

static int rnomem(struct reader *r)
{
    snprintf(r->err, r->errlen, "%s: out of memory", r->name);
    return HIST_ENOMEM;
}

/* A malformed line: fatal, unless it is the last line and was cut short
 * (no newline): a killed writer leaves that. Returns 1 when tolerated. */
static int rbad_line(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rbad_line(struct reader *r, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (r->last_line && r->no_newline) {
        snprintf(r->h->warning, sizeof r->h->warning,
                 "%s:%ld: the last line is cut short (a killed run?) and was ignored: %s",
                 r->name, r->line, msg);
        return 1;
    }
    return rfail(r, "%s", msg);
}

static long *open_slot(struct reader *r, int32_t process)
{
    size_t old = r->cap_open;
    if (!grow((void **)&r->open_by_process, &r->cap_open, (size_t)process + 1,
              sizeof *r->open_by_process))
        return NULL;
    for (size_t i = old; i < r->cap_open; i++)
        r->open_by_process[i] = -1;
    return &r->open_by_process[process];
}

static uint64_t id_hash(int64_t id) { return (uint64_t)id * 0x9e3779b97f4a7c15ULL; }

static long id_find(const struct reader *r, int64_t id)
{
    if (!r->id_cap)
        return -1;
    for (size_t s = id_hash(id) >> 20 & (r->id_cap - 1);; s = (s + 1) & (r->id_cap - 1)) {
        if (r->id_vals[s] < 0)
            return -1;
        if (r->id_keys[s] == id)
            return r->id_vals[s];
    }
}

static bool id_put(struct reader *r, int64_t id, long index)
{
    if ((r->id_n + 1) * 2 > r->id_cap) {
        size_t cap = r->id_cap ? r->id_cap * 2 : 256;
        int64_t *keys = sim_malloc(cap * sizeof *keys);
        long *vals = sim_malloc(cap * sizeof *vals);
        if (!keys || !vals) {
            sim_free(keys);
            sim_free(vals);
            return false;
        }
        for (size_t i = 0; i < cap; i++)
            vals[i] = -1;
        for (size_t i = 0; i < r->id_cap; i++) {
            if (r->id_vals[i] < 0)
                continue;
            size_t s = id_hash(r->id_keys[i]) >> 20 & (cap - 1);
            while (vals[s] >= 0)
                s = (s + 1) & (cap - 1);
            keys[s] = r->id_keys[i];
            vals[s] = r->id_vals[i];
        }
        sim_free(r->id_keys);
        sim_free(r->id_vals);
        r->id_keys = keys;
        r->id_vals = vals;
        r->id_cap = cap;
    }
    size_t s = id_hash(id) >> 20 & (r->id_cap - 1);
    while (r->id_vals[s] >= 0)
        s = (s + 1) & (r->id_cap - 1);
    r->id_keys[s] = id;
    r->id_vals[s] = index;
    r->id_n++;
    return true;
}

static int32_t rintern(struct reader *r, const char *s, size_t len)
{
    return hist_intern(r->h, s, len);
}

/* Record an invocation. The op's process must have nothing open. */
static int r_invoke(struct reader *r, struct hist_op *op)
{
    long *slot = open_slot(r, op->process);
    if (!slot)
        return rnomem(r);
    if (*slot >= 0) {
        char who[80];
        const struct hist_op *o = &r->h->ops[*slot];
        return rfail(r, "%s invokes an operation while its %s from line %" PRId32
                        " is still open (two open operations on one process)",
                     hist_process_label(r->h, op->process, who, sizeof who),
                     hist_f_name((enum hist_f)o->f), o->invoke_line);
    }
    op->type = HIST_INFO;
    op->open = true;
    op->complete_pos = HIST_NEVER;
    op->complete_t = HIST_NEVER;
    op->complete_line = 0;
    op->invoke_line = (int32_t)r->line;
    long index = hist_add(r->h, op);
    if (index < 0)
        return rnomem(r);
    *slot = index;
    r->invoked++;
    return 0;
}

/* The open operation of a process, for a completion; NULL with err set. */
static struct hist_op *r_open_of(struct reader *r, int32_t process, enum hist_f f, int *rc)
{
    long *slot = open_slot(r, process);
    if (!slot) {
        *rc = rnomem(r);
        return NULL;
    }
    char who[80];
    if (*slot < 0) {
        *rc = rfail(r, "completion without invocation: %s has no operation open",
                    hist_process_label(r->h, process, who, sizeof who));
        return NULL;
    }
    struct hist_op *op = &r->h->ops[*slot];
    if (op->f != f) {
        *rc = rfail(r, "%s completes a %s, but the operation it invoked at line %" PRId32
                       " is a %s",
                    hist_process_label(r->h, process, who, sizeof who), hist_f_name(f),
                    op->invoke_line, hist_f_name((enum hist_f)op->f));
        return NULL;
    }
    *slot = -1;
    return op;
}

static void r_complete(struct reader *r, struct hist_op *op, enum hist_type type, int64_t pos,
                       int64_t t)
{
    op->type = (uint8_t)type;
    op->open = false;
    op->complete_pos = pos;
    op->complete_t = t;
    op->complete_line = (int32_t)r->line;
}

static void reader_free(struct reader *r)
{
    sim_free(r->open_by_process);
    sim_free(r->id_keys);
    sim_free(r->id_vals);
}

/* ==== sim traces ========================================================== */

/* A register value: an integer or null (HIST_NIL). */
static bool json_value(const cJSON *j, int64_t *out)
{
    if (cJSON_IsNull(j)) {
        *out = HIST_NIL;
        return true;
    }
    return jr_int(j, out) && *out != HIST_NIL;
}

/* A transaction's invoke value: [["r", key, null], ["w", key, value], ...]. */
static int read_micro(struct reader *r, const cJSON *value, int64_t id, struct hist_op *op)
{
    struct hist_micro m[64];
    int n = cJSON_IsArray(value) ? cJSON_GetArraySize(value) : -1;
    if (n < 1 || n > 64)
        return rfail(r, "txn of op %" PRId64 " needs \"value\": a list of 1 to 64 [f, key, value]", id);
    const cJSON *e;
    int i = 0;
    cJSON_ArrayForEach(e, value) {
        const cJSON *jf = cJSON_GetArrayItem(e, 0), *jk = cJSON_GetArrayItem(e, 1), *jv = cJSON_GetArrayItem(e, 2);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 3 || !cJSON_IsString(jf) || !cJSON_IsString(jk) ||
            (strcmp(jf->valuestring, "r") != 0 && strcmp(jf->valuestring, "w") != 0))
            return rfail(r, "txn of op %" PRId64 ": micro-operation %d is not [\"r\"|\"w\", key, value]", id, i + 1);
        bool write = jf->valuestring[0] == 'w';
        m[i].f = write ? HIST_WRITE : HIST_READ;
        m[i].key = rintern(r, jk->valuestring, strlen(jk->valuestring));
        if (m[i].key < 0)
            return rnomem(r);
        if (write ? !(jr_int(jv, &m[i].value) && m[i].value != HIST_NIL) : !cJSON_IsNull(jv))
            return rfail(r, "txn of op %" PRId64 ": micro-operation %d needs %s", id, i + 1,
                         write ? "an integer value" : "null as the value of a read not yet done");
        if (!write)
            m[i].value = HIST_NIL;
        i++;
    }
    long off = hist_add_micro(r->h, m, (size_t)n);
    if (off < 0)
        return rnomem(r);
    op->micro_off = (uint32_t)off;
    op->micro_n = (uint32_t)n;
    return 0;
}

/* An ok transaction's value: the same list with what each read returned. */
static int complete_micro(struct reader *r, const cJSON *value, int64_t id, const struct hist_op *op)
{
    struct hist_micro *m = hist_micro_mut(r->h, op);
    if (!cJSON_IsArray(value) || cJSON_GetArraySize(value) != (int)op->micro_n)
        return rfail(r, "ok txn of op %" PRId64 " needs the %u micro-operations it was invoked with", id,
                     (unsigned)op->micro_n);
    const cJSON *e;
    uint32_t i = 0;
    cJSON_ArrayForEach(e, value) {
        const cJSON *jk = cJSON_GetArrayItem(e, 1), *jv = cJSON_GetArrayItem(e, 2);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 3 || !cJSON_IsString(jk) ||
            strcmp(hist_str(r->h, m[i].key), jk->valuestring) != 0)
            return rfail(r, "ok txn of op %" PRId64 ": micro-operation %u differs from its invocation", id,
                         (unsigned)i + 1);
        if (m[i].f == HIST_READ && !json_value(jv, &m[i].value))
            return rfail(r, "ok txn of op %" PRId64 ": the read of micro-operation %u needs an integer or null",
                         id, (unsigned)i + 1);
        i++;
    }
    return 0;
}

static int trace_op_line(struct reader *r, const cJSON *j, const char *ev, int64_t t)
{
    const cJSON *client = cJSON_GetObjectItemCaseSensitive(j, "client");
    const cJSON *jop = cJSON_GetObjectItemCaseSensitive(j, "op");
    const cJSON *jf = cJSON_GetObjectItemCaseSensitive(j, "f");
    const cJSON *jkey = cJSON_GetObjectItemCaseSensitive(j, "key");
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value");
    int64_t id;
    if (!cJSON_IsString(client))
        return rfail(r, "%s without a \"client\" name", ev);
    if (!jr_int(jop, &id))
        return rfail(r, "%s without an integer \"op\" id", ev);
    if (!cJSON_IsString(jf))
        return rfail(r, "%s of op %" PRId64 " without an operation type \"f\"", ev, id);
    enum hist_f f;
    if (strcmp(jf->valuestring, "read") == 0)
        f = HIST_READ;
    else if (strcmp(jf->valuestring, "write") == 0)
        f = HIST_WRITE;
    else if (strcmp(jf->valuestring, "cas") == 0)
        f = HIST_CAS;
    else if (strcmp(jf->valuestring, "add") == 0)
        f = HIST_ADD;
    else if (strcmp(jf->valuestring, "remove") == 0)
        f = HIST_REMOVE;
    else if (strcmp(jf->valuestring, "txn") == 0)
        f = HIST_TXN;
    else
        return rfail(r, "unknown operation type \"%.40s\" in op %" PRId64
                        " (expected read, write, cas, add, remove or txn)", jf->valuestring, id);
    if (!cJSON_IsString(jkey))
        return rfail(r, "%s of op %" PRId64 " without a \"key\"", ev, id);
    int32_t process = rintern(r, client->valuestring, strlen(client->valuestring));
    int32_t key = rintern(r, jkey->valuestring, strlen(jkey->valuestring));
    if (process < 0 || key < 0)
        return rnomem(r);

    if (strcmp(ev, "invoke") == 0) {
        struct hist_op op = { 0 };
        op.id = id;
        op.process = process;
        op.key = key;
        op.f = (uint8_t)f;
        op.invoke_pos = r->line;
        op.invoke_t = t;
        op.out = HIST_NIL;
        if ((f == HIST_WRITE || f == HIST_ADD || f == HIST_REMOVE) &&
            !(jr_int(value, &op.arg) && op.arg != HIST_NIL))
            return rfail(r, "%s of op %" PRId64 " without an integer \"value\"", hist_f_name(f), id);
        if (f == HIST_ADD || f == HIST_REMOVE)
            r->h->n_addrem++;
        if (f == HIST_TXN) {
            int rc = read_micro(r, value, id, &op);
            if (rc)
                return rc;
            r->h->n_txn++;
        }
        if (f == HIST_CAS) {
            if (!cJSON_IsArray(value) || cJSON_GetArraySize(value) != 2 ||
                !json_value(cJSON_GetArrayItem(value, 0), &op.arg) ||
                !jr_int(cJSON_GetArrayItem(value, 1), &op.arg2))
                return rfail(r, "cas of op %" PRId64 " needs \"value\":[expect, new]", id);
        }
        long prev = id_find(r, id);
        if (prev >= 0)
            return rfail(r, "duplicate operation id %" PRId64 " (first invoked at line %" PRId32 ")",
                         id, r->h->ops[prev].invoke_line);
        int rc = r_invoke(r, &op);
        if (rc)
            return rc;
        if (!id_put(r, id, (long)r->h->n_ops - 1))
            return rnomem(r);
        return 0;
    }

    long index = id_find(r, id);
    if (index < 0)
        return rfail(r, "completion without invocation: op %" PRId64 " was never invoked", id);
    struct hist_op *op = &r->h->ops[index];
    if (!op->open)
        return rfail(r, "op %" PRId64 " completes twice (first at line %" PRId32 ")", id,
                     op->complete_line);
    if (op->process != process)
        return rfail(r, "op %" PRId64 " completes on client %s but was invoked by %s at line %" PRId32,
                     id, client->valuestring, hist_str(r->h, op->process), op->invoke_line);
    if (op->f != f || op->key != key)
        return rfail(r, "op %" PRId64 " completes as %s %s but was invoked as %s %s at line %" PRId32,
                     id, hist_f_name(f), hist_str(r->h, key), hist_f_name((enum hist_f)op->f),
                     hist_str(r->h, op->key), op->invoke_line);
    enum hist_type type = ev[0] == 'o' ? HIST_OK : ev[0] == 'f' ? HIST_FAIL : HIST_INFO;
    if (type == HIST_OK && f == HIST_TXN) {
        int rc = complete_micro(r, value, id, op);
        if (rc)
            return rc;
    }
    const cJSON *values = cJSON_GetObjectItemCaseSensitive(j, "values");
    if (type == HIST_OK && f == HIST_READ && values) {
        /* several values (siblings, a set): kept as a mark, not as values */
        if (!cJSON_IsArray(values))
            return rfail(r, "ok read of op %" PRId64 " with \"values\" that is not a list", id);
        op->multi = true;
        op->out = HIST_NIL;
        r->h->n_multi++;
    } else if (type == HIST_OK && f == HIST_READ && !json_value(value, &op->out))
        return rfail(r, "ok read of op %" PRId64 " without an integer or null \"value\"", id);
    /* Check the process slot the same way the other readers do. */
    int rc = 0;
    if (!r_open_of(r, process, f, &rc))
        return rc;
    r_complete(r, op, type, r->line, t);
    /* In sim traces a fail did not take effect (a refused cas or write, a read
     * that got no answer): it constrains nothing. */
    op->constrains = false;
    return 0;
}

static int trace_line(struct reader *r, const char *s, size_t len)
{
    long failures = sim_alloc_failures();
    cJSON *j = cJSON_ParseWithLength(s, len);
    if (!j && sim_alloc_failures() != failures)
        return rnomem(r);
    if (!j || !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        if (r->line == 1)
            return rfail(r, "not a sim trace: line 1 is not a JSON object");
        int rc = rbad_line(r, "not a JSON object");
        return rc == 1 ? 0 : rc;
    }
    int rc = 0;
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "ev");
    if (r->line == 1) {
        const cJSON *format = cJSON_GetObjectItemCaseSensitive(j, "format");
        int64_t version;
        if (!cJSON_IsString(ev) || strcmp(ev->valuestring, "header") != 0)
            rc = rfail(r, "not a sim trace: line 1 is not a header");
        else if (!jr_int(format, &version))
            rc = rfail(r, "the header has no format version");
        else if (version != 1)
            rc = rfail(r, "trace format %" PRId64 " is not supported (this sim reads format 1)",
                       version);
        cJSON_Delete(j);
        return rc;
    }
    int64_t t;
    if (!cJSON_IsString(ev))
        rc = rfail(r, "line without an \"ev\" type");
    else if (!jr_int(cJSON_GetObjectItemCaseSensitive(j, "t"), &t) || t < 0)
        rc = rfail(r, "%s line without a time \"t\" in integer nanoseconds", ev->valuestring);
    else if (t > HIST_MAX_TIME)
        /* sim never writes one; differences of such times would overflow */
        rc = rfail(r, "time t=%" PRId64 " is beyond 2^53 ns, the longest run", t);
    else if (t < r->last_t)
        rc = rfail(r, "time goes backwards: t=%" PRId64 " after t=%" PRId64, t, r->last_t);
    else {
        r->last_t = t;
        const char *e = ev->valuestring;
        if (strcmp(e, "invoke") == 0 || strcmp(e, "ok") == 0 || strcmp(e, "fail") == 0 ||
            strcmp(e, "info") == 0)
            rc = trace_op_line(r, j, e, t);
    }
    cJSON_Delete(j);
    return rc;
}

/* ==== Jepsen etcd logs ==================================================== */

/* INFO  jepsen.util - 2	:invoke	:cas	[3 0]  (tabs or spaces) */

static bool parse_i64(const char *s, size_t len, int64_t *out)
{
    if (len == 0 || len > 18)   /* below 10^18: no overflow, no clash with INT64_MIN */
        return false;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-') {
        neg = true;
        i = 1;
        if (len == 1)
            return false;
    }
    int64_t v = 0;
    for (; i < len; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

struct tok {
    const char *s;
    size_t n;
};

static int jepsen_line(struct reader *r, const char *s, size_t len)
{
    struct tok t[16];
    int nt = 0;
    for (size_t i = 0; i < len && nt < 16;) {
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        if (i >= len)
            break;
        size_t b = i;
        while (i < len && !isspace((unsigned char)s[i]))
            i++;
        t[nt].s = s + b;
        t[nt].n = i - b;
        nt++;
    }
    if (nt == 0)
        return 0;   /* a blank line */
    int d = 0;
    while (d < nt && !(t[d].n == 1 && t[d].s[0] == '-'))
        d++;
    if (d + 4 > nt) {
        int rc = rbad_line(r, "not a Jepsen history line "
                              "(expected \"INFO jepsen.util - PROCESS :TYPE :F VALUE\")");
        return rc == 1 ? 0 : rc;
    }
    struct tok proc = t[d + 1], type = t[d + 2], fn = t[d + 3];
    int64_t pnum;
    if (!parse_i64(proc.s, proc.n, &pnum) || pnum < 0) {
        int rc = rbad_line(r, "process \"%.*s\" is not a number", (int)proc.n, proc.s);
        return rc == 1 ? 0 : rc;
    }
    /* the value: the rest of the line, tokens joined by one space */
    char value[128];
    size_t vn = 0;
    for (int i = d + 4; i < nt; i++) {
        if (vn + t[i].n + 2 >= sizeof value)
            return rfail(r, "value too long");
        if (vn)
            value[vn++] = ' ';
        memcpy(value + vn, t[i].s, t[i].n);
        vn += t[i].n;
    }
    value[vn] = '\0';

    enum hist_type kind;
    bool invoke = false;
#define TOK_IS(tk, lit) ((tk).n == sizeof(lit) - 1 && memcmp((tk).s, lit, sizeof(lit) - 1) == 0)
    if (TOK_IS(type, ":invoke"))
        invoke = true, kind = HIST_OK;
    else if (TOK_IS(type, ":ok"))
        kind = HIST_OK;
    else if (TOK_IS(type, ":fail"))
        kind = HIST_FAIL;
    else if (TOK_IS(type, ":info"))
        kind = HIST_INFO;
    else {
        int rc = rbad_line(r, "unknown event type \"%.*s\" (expected :invoke, :ok, :fail or :info)",
                           (int)type.n, type.s);
        return rc == 1 ? 0 : rc;
    }
    enum hist_f f;
    if (TOK_IS(fn, ":read"))
        f = HIST_READ;
    else if (TOK_IS(fn, ":write"))
        f = HIST_WRITE;
    else if (TOK_IS(fn, ":cas"))
        f = HIST_CAS;
    else {
        int rc = rbad_line(r, "unknown operation type \"%.*s\" (expected :read, :write or :cas)",
                           (int)fn.n, fn.s);
        return rc == 1 ? 0 : rc;
    }
#undef TOK_IS
    /* values: nil, an integer, [a b] */
    int64_t a = HIST_NIL, b = HIST_NIL;
    bool is_nil = strcmp(value, "nil") == 0;
    bool is_int = parse_i64(value, vn, &a);
    bool is_pair = false;
    if (vn >= 5 && value[0] == '[' && value[vn - 1] == ']') {
        const char *sp = memchr(value, ' ', vn);
        is_pair = sp && parse_i64(value + 1, (size_t)(sp - value - 1), &a) &&
                  parse_i64(sp + 1, (size_t)(value + vn - 1 - sp - 1), &b);
    }
    bool bad = false;
    if (invoke)
        bad = (f == HIST_READ && !is_nil) || (f == HIST_WRITE && !is_int) ||
              (f == HIST_CAS && !is_pair);
    else if (kind == HIST_OK)
        bad = (f == HIST_READ && !is_nil && !is_int) || (f == HIST_WRITE && !is_int) ||
              (f == HIST_CAS && !is_pair);
    else if (kind == HIST_FAIL && f == HIST_CAS)
        bad = !is_pair && strcmp(value, ":timed-out") != 0;
    if (bad) {
        int rc = rbad_line(r, "bad value \"%s\" for %s %s", value, invoke ? "invoke" :
                           hist_type_name(kind), hist_f_name(f));
        return rc == 1 ? 0 : rc;
    }
    int32_t process = rintern(r, proc.s, proc.n);
    if (process < 0)
        return rnomem(r);
    if (invoke) {
        struct hist_op op = { 0 };
        op.id = r->invoked + 1;
        op.process = process;
        op.key = 0;
        op.f = (uint8_t)f;
        op.arg = f == HIST_READ ? HIST_NIL : a;
        op.arg2 = f == HIST_CAS ? b : HIST_NIL;
        op.out = HIST_NIL;
        op.invoke_pos = r->line;
        op.invoke_t = r->line;
        return r_invoke(r, &op);
    }
    int rc = 0;
    struct hist_op *op = r_open_of(r, process, f, &rc);
    if (!op)
        return rc;
    if (kind == HIST_OK && f == HIST_READ)
        op->out = is_nil ? HIST_NIL : a;
    r_complete(r, op, kind, r->line, r->line);
    /* A failed cas compared and found another value: it happened, and the
     * value it saw constrains the order. A failed read or write (timed out)
     * did nothing anyone can see. */
    op->constrains = kind == HIST_FAIL && f == HIST_CAS && is_pair;
    return 0;
}

/* ==== Porcupine key-value logs ============================================ */

/* {:process 9, :type :invoke, :f :append, :key "0", :value "x 9 0 y"} */

struct edn_val {
    enum { EDN_NIL, EDN_INT, EDN_KEYWORD, EDN_STRING } kind;
    int64_t num;
    const char *s;    /* keyword (without ':') or string contents (escapes kept) */
    size_t n;
    bool escaped;     /* the string has backslash escapes to undo */
};

struct edn_map {
    bool has_process, has_type, has_f, has_key, has_value;
    struct edn_val process, type, f, key, value;
};

static const char *skip_sep(const char *p, const char *end)
{
    while (p < end && (isspace((unsigned char)*p) || *p == ','))
        p++;
    return p;
}

/* One EDN scalar at p; NULL on a syntax error (msg says what). */
static const char *edn_scalar(const char *p, const char *end, struct edn_val *v, const char **msg)
{
    if (p >= end) {
        *msg = "a value is missing";
        return NULL;
    }
    if (*p == '"') {
        const char *b = ++p;
        v->escaped = false;
        while (p < end && *p != '"') {
            if (*p == '\\') {
                v->escaped = true;
                p++;
            }
            p++;
        }
        if (p >= end) {
            *msg = "unterminated string";
            return NULL;
        }
        v->kind = EDN_STRING;
        v->s = b;
        v->n = (size_t)(p - b);
        return p + 1;
    }
    const char *b = p;
    while (p < end && !isspace((unsigned char)*p) && *p != ',' && *p != '}')
        p++;
    v->s = b;
    v->n = (size_t)(p - b);
    if (v->n == 3 && memcmp(b, "nil", 3) == 0)
        v->kind = EDN_NIL;
    else if (v->n > 1 && *b == ':') {
        v->kind = EDN_KEYWORD;
        v->s = b + 1;
        v->n--;
    } else if (parse_i64(b, v->n, &v->num))
        v->kind = EDN_INT;
    else {
        *msg = "a value is neither a string, a number, a keyword nor nil";
        return NULL;
    }
    return p;
}

static const char *edn_map_parse(const char *p, const char *end, struct edn_map *m,
                                 const char **msg)
{
    memset(m, 0, sizeof *m);
    p = skip_sep(p, end);
    if (p >= end || *p != '{') {
        *msg = "expected a map {...}";
        return NULL;
    }
    p++;
    for (;;) {
        p = skip_sep(p, end);
        if (p >= end) {
            *msg = "the map is not closed with }";
            return NULL;
        }
        if (*p == '}')
            return p + 1;
        struct edn_val k;
        p = edn_scalar(p, end, &k, msg);
        if (!p)
            return NULL;
        if (k.kind != EDN_KEYWORD) {
            *msg = "a map key is not a keyword";
            return NULL;
        }
        p = skip_sep(p, end);
        struct edn_val v;
        p = edn_scalar(p, end, &v, msg);
        if (!p)
            return NULL;
#define FIELD(name)                                                          \
    if (k.n == sizeof(#name) - 1 && memcmp(k.s, #name, sizeof(#name) - 1) == 0) { \
        m->name = v;                                                         \
        m->has_##name = true;                                                \
    }
        FIELD(process) else FIELD(type) else FIELD(f) else FIELD(key) else FIELD(value)
#undef FIELD
    }
}

/* Intern an EDN string, undoing \" \\ \n \t escapes. */
static int32_t edn_intern(struct reader *r, const struct edn_val *v)
{
    if (!v->escaped)
        return rintern(r, v->s, v->n);
    char *buf = sim_malloc(v->n + 1);
    if (!buf)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < v->n; i++) {
        char c = v->s[i];
        if (c == '\\' && i + 1 < v->n) {
            c = v->s[++i];
            c = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c;
        }
        buf[n++] = c;
    }
    int32_t id = rintern(r, buf, n);
    sim_free(buf);
    return id;
}

static bool edn_is(const struct edn_val *v, const char *kw)
{
    return v->kind == EDN_KEYWORD && v->n == strlen(kw) && memcmp(v->s, kw, v->n) == 0;
}

static int kv_line(struct reader *r, const char *s, size_t len)
{
    const char *end = s + len, *p = skip_sep(s, end);
    if (p == end)
        return 0;   /* a blank line */
    struct edn_map m;
    const char *msg = NULL;
    p = edn_map_parse(p, end, &m, &msg);
    if (p && skip_sep(p, end) != end)
        msg = "text after the map", p = NULL;
    if (!p) {
        int rc = rbad_line(r, "%s", msg);
        return rc == 1 ? 0 : rc;
    }
    if (!m.has_process || m.process.kind != EDN_INT || m.process.num < 0)
        return rfail(r, "no :process number");
    if (!m.has_type || m.type.kind != EDN_KEYWORD)
        return rfail(r, "no :type keyword");
    if (!m.has_f || m.f.kind != EDN_KEYWORD)
        return rfail(r, "no :f keyword");
    enum hist_f f;
    if (edn_is(&m.f, "get"))
        f = HIST_GET;
    else if (edn_is(&m.f, "put"))
        f = HIST_PUT;
    else if (edn_is(&m.f, "append"))
        f = HIST_APPEND;
    else
        return rfail(r, "unknown operation type \":%.*s\" (expected :get, :put or :append)",
                     (int)m.f.n, m.f.s);
    enum hist_type kind;
    bool invoke = false;
    if (edn_is(&m.type, "invoke"))
        invoke = true, kind = HIST_OK;
    else if (edn_is(&m.type, "ok"))
        kind = HIST_OK;
    else if (edn_is(&m.type, "fail"))
        kind = HIST_FAIL;
    else if (edn_is(&m.type, "info"))
        kind = HIST_INFO;
    else
        return rfail(r, "unknown event type \":%.*s\" (expected :invoke, :ok, :fail or :info)",
                     (int)m.type.n, m.type.s);
    if (!m.has_key || m.key.kind != EDN_STRING)
        return rfail(r, "no :key string");
    char pbuf[24];
    snprintf(pbuf, sizeof pbuf, "%" PRId64, m.process.num);
    int32_t process = rintern(r, pbuf, strlen(pbuf));
    int32_t key = edn_intern(r, &m.key);
    if (process < 0 || key < 0)
        return rnomem(r);
    if (invoke) {
        struct hist_op op = { 0 };
        op.id = r->invoked + 1;
        op.process = process;
        op.key = key;
        op.f = (uint8_t)f;
        op.arg = op.arg2 = 0;
        op.out = 0;
        if (f != HIST_GET) {
            if (!m.has_value || m.value.kind != EDN_STRING)
                return rfail(r, "%s without a :value string", hist_f_name(f));
            op.arg = edn_intern(r, &m.value);
            if (op.arg < 0)
                return rnomem(r);
        }
        op.invoke_pos = r->line;
        op.invoke_t = r->line;
        return r_invoke(r, &op);
    }
    int rc = 0;
    struct hist_op *op = r_open_of(r, process, f, &rc);
    if (!op)
        return rc;
    if (op->key != key)
        return rfail(r, "process %s completes a %s on key \"%s\" but invoked it on \"%s\" at line %" PRId32,
                     pbuf, hist_f_name(f), hist_str(r->h, key), hist_str(r->h, op->key),
                     op->invoke_line);
    if (kind == HIST_OK && f == HIST_GET) {
        if (m.has_value && m.value.kind == EDN_STRING) {
            op->out = edn_intern(r, &m.value);
            if (op->out < 0)
                return rnomem(r);
        } else if (!m.has_value || m.value.kind == EDN_NIL)
            op->out = 0;   /* nil: a missing key, which reads as "" */
        else
            return rfail(r, "ok get without a :value string");
    }
    r_complete(r, op, kind, r->line, r->line);
    return 0;
}

/* ==== Jepsen EDN histories ================================================ */

/* {:type :invoke, :f :write, :value ["x" 3], :process 0, :time 12, :index 0}
 * one map per line, as Jepsen writes history.edn and `sim export --format
 * jepsen` writes: registers, a single one (:value 3, [1 2] for cas) or
 * keyed ones (:value ["x" 3], ["x" [1 2]]). Other keys are skipped. */

struct jedn_value {
    bool vec;                  /* [a b] or [key v] */
    int n;                     /* elements of the vector */
    struct edn_val a, b;       /* scalars; b unused when inner_vec */
    bool inner_vec;            /* [key [x y]] */
    struct edn_val x, y;
};

/* Skip one EDN value of any shape (nested [], {}, (), #{}, strings). */
static const char *edn_skip(const char *p, const char *end)
{
    int depth = 0;
    p = skip_sep(p, end);
    do {
        if (p >= end)
            return NULL;
        if (*p == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\')
                    p++;
            if (p >= end)
                return NULL;
            p++;
        } else if (*p == '[' || *p == '{' || *p == '(') {
            depth++;
            p++;
        } else if (*p == '#' && p + 1 < end && p[1] == '{') {
            depth++;
            p += 2;
        } else if (*p == ']' || *p == '}' || *p == ')') {
            if (--depth < 0)
                return NULL;
            p++;
        } else {
            while (p < end && !isspace((unsigned char)*p) && *p != ',' && *p != ']' && *p != '}' &&
                   *p != ')' && *p != '[' && *p != '{')
                p++;
        }
        if (depth > 0)
            p = skip_sep(p, end);
    } while (depth > 0);
    return p;
}

static const char *jedn_scalar_in_vec(const char *p, const char *end, struct edn_val *v, const char **msg)
{
    /* edn_scalar stops at '}' only; in a vector a scalar also ends at ']' */
    const char *q = p;
    if (q < end && *q != '"') {
        while (q < end && !isspace((unsigned char)*q) && *q != ',' && *q != ']')
            q++;
        return edn_scalar(p, q, v, msg) ? q : NULL;
    }
    return edn_scalar(p, end, v, msg);
}

static const char *jedn_value(const char *p, const char *end, struct jedn_value *v, const char **msg)
{
    memset(v, 0, sizeof *v);
    p = skip_sep(p, end);
    if (p >= end || *p != '[')
        return edn_scalar(p, end, &v->a, msg);
    v->vec = true;
    p = skip_sep(p + 1, end);
    while (p < end && *p != ']') {
        if (v->n >= 2) {
            *msg = "a :value vector has more than two elements";
            return NULL;
        }
        if (*p == '[') {
            if (v->n != 1) {
                *msg = "a nested vector is only allowed as [key [a b]]";
                return NULL;
            }
            v->inner_vec = true;
            p = skip_sep(p + 1, end);
            p = p ? jedn_scalar_in_vec(p, end, &v->x, msg) : NULL;
            p = p ? jedn_scalar_in_vec(skip_sep(p, end), end, &v->y, msg) : NULL;
            p = p ? skip_sep(p, end) : NULL;
            if (!p || p >= end || *p != ']') {
                *msg = *msg ? *msg : "[key [a b]] expected";
                return NULL;
            }
            p++;
        } else {
            p = jedn_scalar_in_vec(p, end, v->n == 0 ? &v->a : &v->b, msg);
            if (!p)
                return NULL;
        }
        v->n++;
        p = skip_sep(p, end);
    }
    if (p >= end) {
        *msg = "unterminated vector";
        return NULL;
    }
    return p + 1;
}

static int jedn_line(struct reader *r, const char *s, size_t len)
{
    const char *end = s + len, *p = skip_sep(s, end);
    if (p == end)
        return 0;
    const char *msg = NULL;
    struct edn_val process = { 0 }, type = { 0 }, fn = { 0 };
    bool has_p = false, has_t = false, has_f = false, has_v = false;
    const char *val_msg = NULL;
    struct jedn_value val;
    memset(&val, 0, sizeof val);
    if (*p != '{')
        msg = "expected a map {...}";
    else
        p++;
    while (!msg) {
        p = skip_sep(p, end);
        if (p >= end) {
            msg = "the map is not closed with }";
            break;
        }
        if (*p == '}') {
            p++;
            break;
        }
        struct edn_val k;
        if (!(p = edn_scalar(p, end, &k, &msg)))
            break;
        if (k.kind != EDN_KEYWORD) {
            msg = "a map key is not a keyword";
            break;
        }
        p = skip_sep(p, end);
        if (edn_is(&k, "value")) {
            /* a nemesis's value can be anything: judge it once the process is known */
            const char *q = jedn_value(p, end, &val, &val_msg);
            p = q ? q : edn_skip(p, end);
            if (!p)
                msg = "a value is not well-formed EDN";
            has_v = true;
        } else if (edn_is(&k, "process") || edn_is(&k, "type") || edn_is(&k, "f")) {
            struct edn_val *dst = edn_is(&k, "process") ? &process : edn_is(&k, "type") ? &type : &fn;
            p = edn_scalar(p, end, dst, &msg);
            *(dst == &process ? &has_p : dst == &type ? &has_t : &has_f) = true;
        } else {
            p = edn_skip(p, end);
            if (!p)
                msg = "a value is not well-formed EDN";
        }
        if (!p && !msg)
            msg = "bad value";
    }
    if (!msg && skip_sep(p, end) != end)
        msg = "text after the map";
    if (msg) {
        int rc = rbad_line(r, "%s", msg);
        return rc == 1 ? 0 : rc;
    }
    if (!has_p || process.kind != EDN_INT || process.num < 0) {
        /* the nemesis and other non-client processes: not operations */
        if (has_p && process.kind == EDN_KEYWORD)
            return 0;
        return rfail(r, "no :process number");
    }
    if (!has_t || type.kind != EDN_KEYWORD || !has_f || fn.kind != EDN_KEYWORD)
        return rfail(r, "no :type or :f keyword");
    if (val_msg)
        return rfail(r, ":value: %s", val_msg);
    enum hist_type kind;
    bool invoke = false;
    if (edn_is(&type, "invoke"))
        invoke = true, kind = HIST_OK;
    else if (edn_is(&type, "ok"))
        kind = HIST_OK;
    else if (edn_is(&type, "fail"))
        kind = HIST_FAIL;
    else if (edn_is(&type, "info"))
        kind = HIST_INFO;
    else
        return rfail(r, "unknown event type \":%.*s\" (expected :invoke, :ok, :fail or :info)",
                     (int)type.n, type.s);
    enum hist_f f;
    if (edn_is(&fn, "read"))
        f = HIST_READ;
    else if (edn_is(&fn, "write"))
        f = HIST_WRITE;
    else if (edn_is(&fn, "cas"))
        f = HIST_CAS;
    else
        return rfail(r, "unknown operation type \":%.*s\" (expected :read, :write or :cas)",
                     (int)fn.n, fn.s);
    /* the key (keyed registers: [key v]) and the register value */
    int32_t key = 0;
    struct edn_val v1 = val.a, v2 = val.b;
    bool pair = false;
    if (has_v && val.vec && val.n == 2 && val.a.kind == EDN_STRING) {
        key = edn_intern(r, &val.a);
        if (key < 0)
            return rnomem(r);
        if (val.inner_vec) {
            v1 = val.x, v2 = val.y, pair = true;
        } else {
            v1 = val.b;
        }
    } else if (has_v && val.vec && val.n == 2) {
        pair = true;
    } else if (has_v && val.vec) {
        return rfail(r, ":value must be nil, an integer, [a b], [key v] or [key [a b]]");
    }
    if (!has_v)
        v1.kind = EDN_NIL;
    bool bad = false;
    if (f == HIST_CAS)
        bad = !pair || v2.kind != EDN_INT || (v1.kind != EDN_INT && v1.kind != EDN_NIL);
    else if (f == HIST_WRITE)
        bad = pair || v1.kind != EDN_INT;
    else
        bad = pair || (v1.kind != EDN_NIL && v1.kind != EDN_INT) || (invoke && v1.kind != EDN_NIL);
    if (bad && !(kind != HIST_OK && !invoke))
        return rfail(r, "bad :value for %s %s", invoke ? "invoke" : hist_type_name(kind), hist_f_name(f));
    char pbuf[24];
    snprintf(pbuf, sizeof pbuf, "%" PRId64, process.num);
    int32_t pid = rintern(r, pbuf, strlen(pbuf));
    if (pid < 0)
        return rnomem(r);
    if (invoke) {
        struct hist_op op = { 0 };
        op.id = r->invoked + 1;
        op.process = pid;
        op.key = key;
        op.f = (uint8_t)f;
        op.arg = f == HIST_READ || v1.kind != EDN_INT ? HIST_NIL : v1.num;
        op.arg2 = f == HIST_CAS ? v2.num : HIST_NIL;
        op.out = HIST_NIL;
        op.invoke_pos = r->line;
        op.invoke_t = r->line;
        return r_invoke(r, &op);
    }
    int rc = 0;
    struct hist_op *op = r_open_of(r, pid, f, &rc);
    if (!op)
        return rc;
    if (op->key != key)
        return rfail(r, "process %" PRId64 " completes on key %s but invoked on %s", process.num,
                     hist_str(r->h, key), hist_str(r->h, op->key));
    if (kind == HIST_OK && f == HIST_READ)
        op->out = v1.kind == EDN_INT ? v1.num : HIST_NIL;
    r_complete(r, op, kind, r->line, r->line);
    op->constrains = false;   /* Jepsen's :fail means it did not happen */
    return 0;
}

/* ==== entry points ======================================================== */

int hist_parse(enum hist_format format, const char *buf, size_t len, const char *name,
               hist **out, char *err, size_t errlen)
{
    *out = NULL;
    hist *h = hist_new(format == HIST_FORMAT_PORCUPINE_KV ? HIST_KV : HIST_REGISTER,
                       format == HIST_FORMAT_TRACE ? HIST_CLOCK_NS : HIST_CLOCK_LINE);
    if (!h) {
        snprintf(err, errlen, "%s: out of memory", name);
        return HIST_ENOMEM;
    }
    struct reader r = { .h = h, .name = name, .err = err, .errlen = errlen };
    int rc = 0;
    const char *p = buf, *end = buf + len;
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        r.line++;
        r.last_line = !nl || nl + 1 == end;
        r.no_newline = !nl;
        size_t n = (size_t)(e - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (memchr(p, '\0', n))
            rc = rfail(&r, "a NUL byte: not a text file");
        else if (format == HIST_FORMAT_TRACE) {
            if (n == 0 && !r.no_newline)
                rc = rfail(&r, "empty line");
            else if (n)
                rc = trace_line(&r, p, n);
        } else if (format == HIST_FORMAT_JEPSEN)
            rc = jepsen_line(&r, p, n);
        else if (format == HIST_FORMAT_JEPSEN_EDN)
            rc = jedn_line(&r, p, n);
        else
            rc = kv_line(&r, p, n);
        p = nl ? nl + 1 : end;
    }
    reader_free(&r);
    if (rc) {
        hist_free(h);
        return rc;
    }
    *out = h;
    return 0;
}

int hist_read_file(enum hist_format format, const char *path, hist **out, char *err,
                   size_t errlen)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return HIST_EIO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "cannot read %s: it is a directory", path);
        return HIST_EIO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap) {
            size_t c = cap ? cap * 2 : 1 << 20;
            char *nb = sim_realloc(buf, c);
            if (!nb) {
                sim_free(buf);
                fclose(f);
                snprintf(err, errlen, "%s: out of memory", path);
                return HIST_ENOMEM;
            }
            buf = nb;
            cap = c;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(f) ? errno : 0;
    fclose(f);
    if (bad) {
        sim_free(buf);
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(bad));
        return HIST_EIO;
    }
    int rc = hist_parse(format, buf, len, path, out, err, errlen);
    sim_free(buf);
    return rc;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

bool hist_guess_format(const char *path, const char *head, size_t len, enum hist_format *out)
{
    if (ends_with(path, ".jsonl")) {
        *out = HIST_FORMAT_TRACE;
        return true;
    }
    if (ends_with(path, ".log")) {
        *out = HIST_FORMAT_JEPSEN;
        return true;
    }
    if (ends_with(path, ".edn")) {
        *out = HIST_FORMAT_JEPSEN_EDN;
        return true;
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)head[i]))
        i++;
    if (i + 1 < len && head[i] == '{' && head[i + 1] == '"') {
        *out = HIST_FORMAT_TRACE;
        return true;
    }
    if (i + 1 < len && head[i] == '{' && head[i + 1] == ':') {
        *out = HIST_FORMAT_PORCUPINE_KV;
        return true;
    }
    if (i + 4 <= len && memcmp(head + i, "INFO", 4) == 0) {
        *out = HIST_FORMAT_JEPSEN;
        return true;
    }
    return false;
}
