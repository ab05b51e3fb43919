/* sequential: is a history sequentially consistent?
 *
 * Sequential consistency (Lamport, 1979): there is one total order of the
 * operations that keeps every process's operations in the order the process
 * issued them, and in which every operation returns what one copy of the
 * data would return at that point. Real time does not count: a client may
 * see the past, as long as all clients see one past that agrees with what
 * each of them did. A stale read by a client that never saw the newer write
 * is allowed (not linearizable, still sequentially consistent); a client that
 * sees a value and then an older one is not.
 *
 * Which operations take part:
 *  - ok operations, where a read's value must fit;
 *  - a failed cas that compared and found another value (Jepsen's :fail :cas,
 *    `constrains`): it happened, and the register was not its expected value;
 *  - info (and never completed) writes, cas, puts and appends: they may have
 *    taken effect or not. Such an operation comes after its process's earlier
 *    operations but is not ordered before its later ones: the client gave up
 *    waiting and went on while the request may still have been in flight (a
 *    Jepsen process that times out is replaced by a new one: the same thing);
 *  - failed operations and unanswered reads constrain nothing: left out.
 *
 * Unlike linearizability, sequential consistency is not compositional: the
 * keys of a history may each be fine on their own and the whole not (the
 * store-buffer pattern: p1 writes x then reads y = nil, p2 writes y then
 * reads x = nil). So the whole history is searched, as one memory. Cheaper
 * sub-histories go first, because they find most violations much faster:
 * each key on its own, then prefixes of the history (every process cut at
 * the same point in time) closed under "who wrote what was read". A closed
 * sub-history that is not sequentially consistent proves the whole is not:
 * the restriction of a valid order to a closed set is still valid.
 *
 * The search is a depth-first walk over configurations: how many operations
 * of each process are placed, which indeterminate operations took effect,
 * and the memory's state. Every configuration reached is remembered (a hash
 * table, exact comparison, bounded memory), so none is explored twice. Three
 * reductions, each argued at its code, keep it small: reads that fit are
 * placed at once, indeterminate writes are placed only just before something
 * sees them, and a move that leaves a value some read still needs with no
 * writer left is refused. It counts steps and stops at its budget with
 * "unknown", never a guess.
 *
 * On a violation the evidence is shrunk: each process's operations are cut
 * to the shortest prefix that still cannot be merged (binary search), then
 * single operations are dropped while it still fails, and what is left (with
 * the writes of the values it read) is shown. */
#include "checker.h"
#include "sort.h"
#include "alloc.h"
#include "history.h"
#include "linearizable.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_MEMORY ((size_t)512 << 20)   /* visited states and strings, bytes */
#define SEQ_ORDER_MAX 10000             /* the order found goes in the JSON up to this size */
#define SEQ_SHRINK_DROP 2000             /* try dropping operations below this size, */
#define SEQ_SHRINK_TESTS 20000           /* with at most this many searches */

enum seq_verdict { SEQ_HOLDS, SEQ_VIOLATED, SEQ_UNKNOWN };

enum skind {
    S_READ,       /* obs: the value read */
    S_WRITE,      /* wrt: the value */
    S_CAS,        /* obs: expected, wrt: new (ok: succeeded; optional: maybe) */
    S_CAS_FAIL,   /* obs: the expected value it did not find */
    S_GET,        /* obs: the string returned (history string id) */
    S_PUT,        /* wrt: the string (history string id) */
    S_APPEND,     /* wrt: the appended text (history string id) */
};

/* One operation as the search sees it. */
struct sop {
    long hist;            /* index in the history */
    int64_t invoke_pos;
    int32_t proc, key;    /* dense process and key indices */
    int32_t obs, wrt;     /* register: value ids; key-value: history string ids; -1 none */
    uint8_t kind;
    bool optional;        /* indeterminate: may have taken effect or not */
};

/* The whole history, prepared once. */
struct base {
    const hist *h;
    bool reg;                 /* register model (else key-value) */
    struct sop *ops;          /* in invocation order */
    size_t n;
    int32_t n_proc, n_keys;
    int32_t *proc_name;       /* history string id of each process */
    /* register values: the (key, value) pairs seen, sorted; a value id is an index */
    int32_t n_vals;
    int32_t *val_key;
    int64_t *val_value;
    int32_t *nil_of;          /* per key: the value id of nil */
    int32_t *wr_off, *wr_list;  /* per value id: the operations that (may) write it */
    int32_t *kw_off, *kw_list;  /* key-value: per key, its puts and appends */
    bool fails;               /* some failed cas constrains */
};

/* A sub-history to search: per process its definite operations in order,
 * and the indeterminate ones worth trying, each with the number of its
 * process's definite operations that must come first. */
struct prob {
    int32_t *chain_off;       /* n_proc + 1 */
    int32_t *chain;           /* operation indices */
    int32_t *chain_idx;       /* per operation: its place in its chain, -1 if not there */
    int32_t *get_off, *gets;  /* key-value: per key, its gets in the chains */
    int32_t *put_off, *put_list;  /* key-value: per key, its puts (definite or not) */
    int32_t *opt_idx;         /* per operation: its index among the optional ones, or -1 */
    int32_t *opt, *dep;
    int32_t n_opt;
    size_t n_ops;
};

struct undo {
    int32_t op;
    int32_t slot;             /* process of a definite op; -1 - j for optional j */
    int64_t old;              /* the key's state before */
};

struct frame {
    size_t mark;              /* undo log length at this configuration */
    int64_t last;             /* invocation position of the last move tried */
};

struct mslot {
    uint64_t fp;              /* 0 = empty */
    uint64_t off;
};

/* Key-value strings: a trie of (parent, appended text), so a state is one
 * integer; each node knows its length and a polynomial hash (mod 2^64).
 * Equal hashes are confirmed character by character before a get is
 * accepted, so a collision costs time, never a wrong verdict. */
struct knode {
    int32_t parent;           /* -1 for a root (a put's whole value, or "") */
    int32_t text;             /* history string id */
    uint32_t len;
    uint64_t hash;
};

struct srch {
    const struct base *b;
    const struct prob *p;
    int32_t *pos;
    int64_t *state;           /* per key: a value id, or a trie node */
    uint64_t *placed;
    size_t words;
    int32_t *o_left, *w_left; /* per value id: definite observers and writers not yet placed */
    uint64_t hash;
    struct undo *log;
    size_t n_log, cap_log;
    struct frame *stack;
    size_t sp, cap_stack;
    /* visited configurations */
    struct mslot *slots;
    size_t slot_cap, slot_n;
    uint32_t *arena;
    size_t arena_n, arena_cap;
    uint32_t *keybuf;
    size_t key_len;
    bool memo_full;
    /* key-value strings */
    struct knode *nodes;
    size_t n_nodes, cap_nodes;
    int32_t *kmap;            /* open addressing: (parent, text) -> node */
    size_t kmap_cap;
    uint64_t *str_hash, *str_pow;
    bool *str_done;
    uint64_t **pre;           /* per history string: its prefix hashes, on first use */

    bool oom;
    uint64_t steps;
};

/* ==== hashing ============================================================= */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    return x ^ (x >> 32);
}

/* One random-looking 64-bit key per (what, index, value): XORed together they
 * hash a configuration, and one move changes two of them. */
static inline uint64_t zkey(uint64_t what, uint64_t index, uint64_t value)
{
    return mix64(mix64(what * 0x9E3779B97F4A7C15ULL + index) ^ (value * 0xC2B2AE3D27D4EB4FULL));
}

#define Z_POS 1
#define Z_STATE 2
#define Z_OPT 3

/* ==== preparing the history =============================================== */

struct vpair {
    int32_t key;
    int64_t value;
};

static int cmp_vpair(const void *a, const void *b)
{
    const struct vpair *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->value > y->value) - (x->value < y->value);
}

static int32_t value_id(const struct base *b, int32_t key, int64_t v)
{
    int32_t lo = 0, hi = b->n_vals;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (b->val_key[mid] < key || (b->val_key[mid] == key && b->val_value[mid] < v))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < b->n_vals && b->val_key[lo] == key && b->val_value[lo] == v ? lo : -1;
}

static void base_free(struct base *b)
{
    sim_free(b->ops);
    sim_free(b->proc_name);
    sim_free(b->val_key);
    sim_free(b->val_value);
    sim_free(b->nil_of);
    sim_free(b->wr_off);
    sim_free(b->wr_list);
    sim_free(b->kw_off);
    sim_free(b->kw_list);
    memset(b, 0, sizeof *b);
}

/* Turn the history into search operations: dense processes, keys and values,
 * and who may write what. */
static void base_build(struct base *b, const hist *h)
{
    memset(b, 0, sizeof *b);
    b->h = h;
    b->reg = hist_model(h) == HIST_REGISTER;
    size_t n_hist = hist_count(h), n_str = hist_n_strings(h);
    int32_t *proc_of = sim_xmalloc((n_str + 1) * sizeof *proc_of);
    int32_t *key_of = sim_xmalloc((n_str + 1) * sizeof *key_of);
    for (size_t i = 0; i <= n_str; i++)
        proc_of[i] = key_of[i] = -1;
    b->n_keys = (int32_t)hist_n_keys(h);
    for (int32_t k = 0; k < b->n_keys; k++)
        key_of[hist_key(h, (size_t)k)] = k;
    b->ops = sim_xcalloc(n_hist + 1, sizeof *b->ops);
    b->proc_name = sim_xcalloc(n_hist + 1, sizeof *b->proc_name);
    struct vpair *pairs = sim_xcalloc(2 * n_hist + (size_t)b->n_keys + 1, sizeof *pairs);
    size_t n_pairs = 0;
    for (int32_t k = 0; k < b->n_keys; k++)
        pairs[n_pairs++] = (struct vpair){ k, HIST_NIL };
    for (size_t i = 0; i < n_hist; i++) {
        const struct hist_op *op = hist_op(h, i);
        struct sop s = { .hist = (long)i, .invoke_pos = op->invoke_pos, .obs = -1, .wrt = -1 };
        bool keep = true;
        int64_t obs = 0, wrt = 0;
        bool has_obs = false, has_wrt = false;
        switch ((enum hist_f)op->f) {
        case HIST_ADD:
        case HIST_REMOVE:
        case HIST_TXN:
            keep = false;   /* not a register operation; check_run keeps such histories away */
            break;
        case HIST_READ:
        case HIST_GET:
            keep = op->type == HIST_OK;
            s.kind = op->f == HIST_READ ? S_READ : S_GET;
            obs = op->out, has_obs = true;
            break;
        case HIST_WRITE:
        case HIST_PUT:
        case HIST_APPEND:
            keep = op->type != HIST_FAIL;
            s.kind = op->f == HIST_WRITE ? S_WRITE : op->f == HIST_PUT ? S_PUT : S_APPEND;
            wrt = op->arg, has_wrt = true;
            break;
        case HIST_CAS:
            if (op->type == HIST_FAIL) {
                keep = op->constrains;
                s.kind = S_CAS_FAIL;
                obs = op->arg, has_obs = true;
            } else {
                s.kind = S_CAS;
                obs = op->arg, has_obs = true;
                wrt = op->arg2, has_wrt = true;
            }
            break;
        }
        if (!keep)
            continue;
        s.optional = op->type == HIST_INFO;
        s.key = key_of[op->key];
        if (proc_of[op->process] < 0) {
            b->proc_name[b->n_proc] = op->process;
            proc_of[op->process] = b->n_proc++;
        }
        s.proc = proc_of[op->process];
        if (b->reg) {
            /* value ids are filled in below; keep the raw values for now */
            if (has_obs)
                pairs[n_pairs++] = (struct vpair){ s.key, obs };
            if (has_wrt)
                pairs[n_pairs++] = (struct vpair){ s.key, wrt };
        } else {
            s.obs = has_obs ? (int32_t)obs : -1;
            s.wrt = has_wrt ? (int32_t)wrt : -1;
        }
        b->fails |= s.kind == S_CAS_FAIL;
        b->ops[b->n++] = s;
    }
    if (b->reg) {
        sim_qsort(pairs, n_pairs, sizeof *pairs, cmp_vpair);
        size_t u = 0;
        for (size_t i = 0; i < n_pairs; i++)
            if (u == 0 || cmp_vpair(&pairs[u - 1], &pairs[i]) != 0)
                pairs[u++] = pairs[i];
        b->n_vals = (int32_t)u;
        b->val_key = sim_xmalloc((u + 1) * sizeof *b->val_key);
        b->val_value = sim_xmalloc((u + 1) * sizeof *b->val_value);
        for (size_t i = 0; i < u; i++) {
            b->val_key[i] = pairs[i].key;
            b->val_value[i] = pairs[i].value;
        }
        b->nil_of = sim_xmalloc(((size_t)b->n_keys + 1) * sizeof *b->nil_of);
        for (int32_t k = 0; k < b->n_keys; k++)
            b->nil_of[k] = value_id(b, k, HIST_NIL);
        for (size_t i = 0; i < b->n; i++) {
            struct sop *s = &b->ops[i];
            const struct hist_op *op = hist_op(h, (size_t)s->hist);
            if (s->kind == S_READ)
                s->obs = value_id(b, s->key, op->out);
            else if (s->kind == S_WRITE)
                s->wrt = value_id(b, s->key, op->arg);
            else {
                s->obs = value_id(b, s->key, op->arg);
                if (s->kind == S_CAS)
                    s->wrt = value_id(b, s->key, op->arg2);
            }
        }
        /* Values nobody reads (no read, cas or failed cas names them) are all
         * alike: a register holding one of them answers every operation the
         * same way. One id per key for all of them lets the table of visited
         * configurations merge what differs only there. */
        bool *named = sim_xcalloc((size_t)b->n_vals + 1, sizeof *named);
        int32_t *blank = sim_xmalloc(((size_t)b->n_keys + 1) * sizeof *blank);
        for (int32_t k = 0; k < b->n_keys; k++)
            blank[k] = -1;
        for (size_t i = 0; i < b->n; i++)
            if (b->ops[i].obs >= 0)
                named[b->ops[i].obs] = true;
        for (size_t i = 0; i < b->n; i++) {
            struct sop *x = &b->ops[i];
            if (x->wrt < 0 || named[x->wrt] || x->wrt == b->nil_of[x->key])
                continue;
            if (blank[x->key] < 0)
                blank[x->key] = x->wrt;
            x->wrt = blank[x->key];
        }
        sim_free(named);
        sim_free(blank);
        /* who may write each value */
        b->wr_off = sim_xcalloc((size_t)b->n_vals + 2, sizeof *b->wr_off);
        for (size_t i = 0; i < b->n; i++)
            if (b->ops[i].wrt >= 0)
                b->wr_off[b->ops[i].wrt + 1]++;
        for (int32_t v = 0; v < b->n_vals; v++)
            b->wr_off[v + 1] += b->wr_off[v];
        b->wr_list = sim_xmalloc(((size_t)b->wr_off[b->n_vals] + 1) * sizeof *b->wr_list);
        int32_t *fill = sim_xmalloc(((size_t)b->n_vals + 1) * sizeof *fill);
        memcpy(fill, b->wr_off, (size_t)b->n_vals * sizeof *fill);
        for (size_t i = 0; i < b->n; i++)
            if (b->ops[i].wrt >= 0)
                b->wr_list[fill[b->ops[i].wrt]++] = (int32_t)i;
        sim_free(fill);
    } else {
        b->kw_off = sim_xcalloc((size_t)b->n_keys + 2, sizeof *b->kw_off);
        for (size_t i = 0; i < b->n; i++)
            if (b->ops[i].kind == S_PUT || b->ops[i].kind == S_APPEND)
                b->kw_off[b->ops[i].key + 1]++;
        for (int32_t k = 0; k < b->n_keys; k++)
            b->kw_off[k + 1] += b->kw_off[k];
        b->kw_list = sim_xmalloc(((size_t)b->kw_off[b->n_keys] + 1) * sizeof *b->kw_list);
        int32_t *fill = sim_xmalloc(((size_t)b->n_keys + 1) * sizeof *fill);
        memcpy(fill, b->kw_off, (size_t)b->n_keys * sizeof *fill);
        for (size_t i = 0; i < b->n; i++)
            if (b->ops[i].kind == S_PUT || b->ops[i].kind == S_APPEND)
                b->kw_list[fill[b->ops[i].key]++] = (int32_t)i;
        sim_free(fill);
    }
    sim_free(pairs);
    sim_free(proc_of);
    sim_free(key_of);
}

static bool contains(const char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

/* Close a set of operations under "what was read was written": every
 * operation that may write a value that an operation in the set needs joins
 * it. For strings: every put whose value begins a string some get in the set
 * returned, and every append whose text is in one. (A put or append left out
 * is seen by no get in the set: until the next put, every later state holds
 * its value or text, so no get of the set comes in that stretch.)
 * A valid order of the whole history, restricted to a closed set, is a valid
 * order of that set: the operations left out write nothing it reads. So a
 * closed set that cannot be ordered proves the whole history cannot. (Not
 * with failed cas, which need a value *not* to be there: callers only close
 * sets when there are none.) */
static void close_set(const struct base *b, bool *in)
{
    int32_t *work = sim_xmalloc((b->n + 1) * sizeof *work);
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (in[i])
            work[n++] = (int32_t)i;
    while (n > 0) {
        const struct sop *s = &b->ops[work[--n]];
        if (b->reg) {
            if ((s->kind != S_READ && s->kind != S_CAS) || s->obs < 0)
                continue;
            for (int32_t j = b->wr_off[s->obs]; j < b->wr_off[s->obs + 1]; j++) {
                int32_t w = b->wr_list[j];
                if (!in[w]) {
                    in[w] = true;
                    work[n++] = w;
                }
            }
        } else {
            if (s->kind != S_GET)
                continue;
            const char *g = hist_str(b->h, s->obs);
            size_t gl = hist_strlen(b->h, s->obs);
            for (int32_t j = b->kw_off[s->key]; j < b->kw_off[s->key + 1]; j++) {
                int32_t w = b->kw_list[j];
                if (in[w])
                    continue;
                const char *t = hist_str(b->h, b->ops[w].wrt);
                size_t tl = hist_strlen(b->h, b->ops[w].wrt);
                bool needed = b->ops[w].kind == S_PUT ? tl <= gl && memcmp(g, t, tl) == 0
                                                      : contains(g, gl, t, tl);
                if (needed) {
                    in[w] = true;
                    work[n++] = w;
                }
            }
        }
    }
    sim_free(work);
}

static void prob_free(struct prob *p)
{
    sim_free(p->chain_off);
    sim_free(p->chain);
    sim_free(p->opt);
    sim_free(p->dep);
    sim_free(p->chain_idx);
    sim_free(p->get_off);
    sim_free(p->gets);
    sim_free(p->put_off);
    sim_free(p->put_list);
    sim_free(p->opt_idx);
    memset(p, 0, sizeof *p);
}

/* The sub-history `in` as a search problem. An indeterminate operation is
 * kept only if something could see its effect: for a register, an operation
 * in the set that needs its value (or any failed cas: those need another
 * value, which any write may supply); for strings, a get of its key. One
 * nobody sees can always be left out: placed or not, every read is the same. */
static void prob_build(const struct base *b, const bool *in, struct prob *p)
{
    memset(p, 0, sizeof *p);
    p->chain_off = sim_xcalloc((size_t)b->n_proc + 2, sizeof *p->chain_off);
    p->chain = sim_xmalloc((b->n + 1) * sizeof *p->chain);
    p->opt = sim_xmalloc((b->n + 1) * sizeof *p->opt);
    p->dep = sim_xmalloc((b->n + 1) * sizeof *p->dep);
    size_t n_seen = b->reg ? (size_t)b->n_vals : (size_t)b->n_keys;
    bool *seen = sim_xcalloc(n_seen + 1, sizeof *seen);
    bool fails = false;
    int32_t *count = sim_xcalloc((size_t)b->n_proc + 1, sizeof *count);
    p->chain_idx = sim_xmalloc((b->n + 1) * sizeof *p->chain_idx);
    for (size_t i = 0; i < b->n; i++)
        p->chain_idx[i] = -1;
    p->get_off = sim_xcalloc((size_t)b->n_keys + 2, sizeof *p->get_off);
    p->put_off = sim_xcalloc((size_t)b->n_keys + 2, sizeof *p->put_off);
    p->put_list = sim_xmalloc((b->n + 1) * sizeof *p->put_list);
    p->opt_idx = sim_xmalloc((b->n + 1) * sizeof *p->opt_idx);
    for (size_t i = 0; i < b->n; i++)
        p->opt_idx[i] = -1;
    for (size_t i = 0; i < b->n; i++) {
        if (!in[i])
            continue;
        const struct sop *s = &b->ops[i];
        fails |= s->kind == S_CAS_FAIL;
        if (b->reg && (s->kind == S_READ || s->kind == S_CAS) && s->obs >= 0)
            seen[s->obs] = true;
        if (!b->reg && s->kind == S_GET)
            seen[s->key] = true;
        if (!s->optional)
            p->chain_off[s->proc + 1]++;
    }
    for (int32_t q = 0; q < b->n_proc; q++)
        p->chain_off[q + 1] += p->chain_off[q];
    for (size_t i = 0; i < b->n; i++) {
        if (!in[i])
            continue;
        const struct sop *s = &b->ops[i];
        if (!s->optional) {
            p->chain_idx[i] = count[s->proc];
            p->chain[p->chain_off[s->proc] + count[s->proc]++] = (int32_t)i;
            p->n_ops++;
            if (!b->reg && s->kind == S_GET)
                p->get_off[s->key + 1]++;
            continue;
        }
        bool useful = b->reg ? fails || (s->wrt >= 0 && seen[s->wrt]) : seen[s->key];
        if (!useful)
            continue;
        p->opt_idx[i] = p->n_opt;
        p->opt[p->n_opt] = (int32_t)i;
        p->dep[p->n_opt++] = count[s->proc];
        p->n_ops++;
    }
    /* the puts of each key (those kept), for the look-ahead on strings */
    for (size_t i = 0; i < b->n; i++)
        if (b->ops[i].kind == S_PUT && (p->chain_idx[i] >= 0 || p->opt_idx[i] >= 0))
            p->put_off[b->ops[i].key + 1]++;
    for (int32_t k = 0; k < b->n_keys; k++)
        p->put_off[k + 1] += p->put_off[k];
    {
        int32_t *fill = sim_xmalloc(((size_t)b->n_keys + 1) * sizeof *fill);
        memcpy(fill, p->put_off, (size_t)b->n_keys * sizeof *fill);
        for (size_t i = 0; i < b->n; i++)
            if (b->ops[i].kind == S_PUT && (p->chain_idx[i] >= 0 || p->opt_idx[i] >= 0))
                p->put_list[fill[b->ops[i].key]++] = (int32_t)i;
        sim_free(fill);
    }
    /* the gets of each key, for the look-ahead on strings */
    for (int32_t k = 0; k < b->n_keys; k++)
        p->get_off[k + 1] += p->get_off[k];
    p->gets = sim_xmalloc(((size_t)p->get_off[b->n_keys] + 1) * sizeof *p->gets);
    {
        int32_t *fill = sim_xmalloc(((size_t)b->n_keys + 1) * sizeof *fill);
        memcpy(fill, p->get_off, (size_t)b->n_keys * sizeof *fill);
        for (size_t i = 0; i < b->n; i++)
            if (p->chain_idx[i] >= 0 && b->ops[i].kind == S_GET)
                p->gets[fill[b->ops[i].key]++] = (int32_t)i;
        sim_free(fill);
    }
    sim_free(count);
    sim_free(seen);
}

/* ==== key-value strings =================================================== */

#define KV_BASE UINT64_C(0x100000001b3)

static uint64_t pow_base(size_t n)
{
    uint64_t r = 1, x = KV_BASE;
    while (n) {
        if (n & 1)
            r *= x;
        x *= x;
        n >>= 1;
    }
    return r;
}

static size_t kv_bytes(const struct srch *S)
{
    return S->cap_nodes * sizeof *S->nodes + S->kmap_cap * sizeof *S->kmap;
}

static size_t memo_bytes(const struct srch *S)
{
    return S->slot_cap * sizeof *S->slots + S->arena_cap * sizeof *S->arena;
}

static bool kmap_grow(struct srch *S)
{
    size_t cap = S->kmap_cap ? S->kmap_cap * 2 : 1024;
    if (memo_bytes(S) + kv_bytes(S) + cap * sizeof *S->kmap > SEQ_MEMORY)
        return false;
    int32_t *m = sim_malloc(cap * sizeof *m);
    if (!m)
        return false;
    for (size_t i = 0; i < cap; i++)
        m[i] = -1;
    for (size_t n = 0; n < S->n_nodes; n++) {
        uint64_t fp = mix64(((uint64_t)(uint32_t)S->nodes[n].parent << 32) ^ (uint32_t)S->nodes[n].text);
        size_t i = fp & (cap - 1);
        while (m[i] >= 0)
            i = (i + 1) & (cap - 1);
        m[i] = (int32_t)n;
    }
    sim_free(S->kmap);
    S->kmap = m;
    S->kmap_cap = cap;
    return true;
}

/* The hash of history string str (and the base to the power of its
 * length), computed on first use. */
static uint64_t str_hash_of(struct srch *S, int32_t str)
{
    if (!S->str_done[str]) {
        const unsigned char *c = (const unsigned char *)hist_str(S->b->h, str);
        size_t len = hist_strlen(S->b->h, str);
        uint64_t x = 0;
        for (size_t i = 0; i < len; i++)
            x = x * KV_BASE + c[i];
        S->str_hash[str] = x;
        S->str_pow[str] = pow_base(len);
        S->str_done[str] = true;
    }
    return S->str_hash[str];
}

/* The node for parent + text (parent -1: the string text itself), made if
 * new; -1 when out of memory. */
static int64_t kv_node(struct srch *S, int32_t parent, int32_t text)
{
    const hist *h = S->b->h;
    if ((S->n_nodes + 1) * 2 > S->kmap_cap && !kmap_grow(S))
        return -1;
    uint64_t fp = mix64(((uint64_t)(uint32_t)parent << 32) ^ (uint32_t)text);
    size_t i = fp & (S->kmap_cap - 1);
    for (; S->kmap[i] >= 0; i = (i + 1) & (S->kmap_cap - 1)) {
        const struct knode *k = &S->nodes[S->kmap[i]];
        if (k->parent == parent && k->text == text)
            return S->kmap[i];
    }
    if (S->n_nodes >= S->cap_nodes) {
        size_t cap = S->cap_nodes ? S->cap_nodes * 2 : 1024;
        if (S->n_nodes >= INT32_MAX - 1 ||
            memo_bytes(S) + kv_bytes(S) + (cap - S->cap_nodes) * sizeof *S->nodes > SEQ_MEMORY)
            return -1;
        struct knode *nn = sim_realloc(S->nodes, cap * sizeof *nn);
        if (!nn)
            return -1;
        S->nodes = nn;
        S->cap_nodes = cap;
    }
    str_hash_of(S, text);
    struct knode k = { parent, text, (uint32_t)hist_strlen(h, text), S->str_hash[text] };
    if (parent >= 0) {
        const struct knode *pn = &S->nodes[parent];
        k.len += pn->len;
        k.hash = pn->hash * S->str_pow[text] + S->str_hash[text];
    }
    S->nodes[S->n_nodes] = k;
    S->kmap[i] = (int32_t)S->n_nodes;
    return (int64_t)S->n_nodes++;
}

/* Is node the string str (a history string id)? */
static bool kv_equal(struct srch *S, int64_t node, int32_t str)
{
    const hist *h = S->b->h;
    const struct knode *k = &S->nodes[node];
    size_t len = hist_strlen(h, str);
    if (k->len != len)
        return false;
    if (k->hash != str_hash_of(S, str))
        return false;
    const char *s = hist_str(h, str);
    size_t end = len;
    for (int64_t n = node; n >= 0; n = S->nodes[n].parent) {
        const struct knode *x = &S->nodes[n];
        size_t tl = hist_strlen(h, x->text);
        if (tl > end || memcmp(s + end - tl, hist_str(h, x->text), tl) != 0)
            return false;
        end -= tl;
    }
    return end == 0;
}

/* Is node a prefix of the string str (a history string id)? */
static bool kv_prefix(struct srch *S, int64_t node, int32_t str)
{
    const hist *h = S->b->h;
    const struct knode *k = &S->nodes[node];
    size_t len = hist_strlen(h, str);
    if (k->len > len)
        return false;
    if (!S->pre[str]) {
        const unsigned char *c = (const unsigned char *)hist_str(h, str);
        uint64_t *pre = sim_xmalloc((len + 1) * sizeof *pre);
        pre[0] = 0;
        for (size_t i = 0; i < len; i++)
            pre[i + 1] = pre[i] * KV_BASE + c[i];
        S->pre[str] = pre;
    }
    if (S->pre[str][k->len] != k->hash)
        return false;
    const char *s = hist_str(h, str);
    size_t end = k->len;
    for (int64_t n = node; n >= 0; n = S->nodes[n].parent) {
        const struct knode *x = &S->nodes[n];
        size_t tl = hist_strlen(h, x->text);
        if (tl > end || memcmp(s + end - tl, hist_str(h, x->text), tl) != 0)
            return false;
        end -= tl;
    }
    return end == 0;
}

static bool str_is_prefix(const hist *h, int32_t a, int32_t b)
{
    size_t la = hist_strlen(h, a);
    return la <= hist_strlen(h, b) && memcmp(hist_str(h, a), hist_str(h, b), la) == 0;
}

/* Can every get of key still to come be explained, now that the key holds
 * node? Until the next put the string only grows, and after one it starts
 * from that put's value: so each such get must begin with node, or with the
 * value of a put not placed yet. */
static bool kv_future_fits(struct srch *S, int32_t key, int64_t node, int32_t applying)
{
    const struct prob *p = S->p;
    const struct base *b = S->b;
    for (int32_t g = p->get_off[key]; g < p->get_off[key + 1]; g++) {
        int32_t i = p->gets[g];
        const struct sop *x = &b->ops[i];
        if (S->pos[x->proc] > p->chain_idx[i] || kv_prefix(S, node, x->obs))
            continue;
        bool saved = false;
        for (int32_t u = p->put_off[key]; u < p->put_off[key + 1] && !saved; u++) {
            int32_t j = p->put_list[u];
            const struct sop *y = &b->ops[j];
            bool left = y->optional ? !(S->placed[p->opt_idx[j] / 64] >> (p->opt_idx[j] % 64) & 1)
                                    : S->pos[y->proc] <= p->chain_idx[j];
            saved = left && j != applying && str_is_prefix(b->h, y->wrt, x->obs);
        }
        if (!saved)
            return false;
    }
    return true;
}

/* ==== visited configurations ============================================== */

static bool memo_grow(struct srch *S)
{
    size_t cap = S->slot_cap * 2;
    if (memo_bytes(S) + kv_bytes(S) + cap * sizeof *S->slots > SEQ_MEMORY)
        return false;
    struct mslot *t = sim_calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < S->slot_cap; i++) {
        if (!S->slots[i].fp)
            continue;
        size_t j = S->slots[i].fp & (cap - 1);
        while (t[j].fp)
            j = (j + 1) & (cap - 1);
        t[j] = S->slots[i];
    }
    sim_free(S->slots);
    S->slots = t;
    S->slot_cap = cap;
    return true;
}

/* Remember the current configuration. True when it is new; false when it
 * was seen before (its future is already known to fail). A full table adds
 * nothing more and only prunes what it holds: slower, never wrong. */
static bool memo_visit(struct srch *S)
{
    const struct base *b = S->b;
    uint32_t *k = S->keybuf;
    size_t n = 0;
    for (int32_t q = 0; q < b->n_proc; q++)
        k[n++] = (uint32_t)S->pos[q];
    for (int32_t q = 0; q < b->n_keys; q++)
        k[n++] = (uint32_t)S->state[q];
    for (size_t w = 0; w < S->words; w++) {
        k[n++] = (uint32_t)S->placed[w];
        k[n++] = (uint32_t)(S->placed[w] >> 32);
    }
    uint64_t fp = mix64(S->hash) | 1;
    size_t mask = S->slot_cap - 1, i = fp & mask;
    for (; S->slots[i].fp; i = (i + 1) & mask)
        if (S->slots[i].fp == fp && memcmp(S->arena + S->slots[i].off, k, n * sizeof *k) == 0)
            return false;
    if (S->memo_full)
        return true;
    if ((S->slot_n + 1) * 2 > S->slot_cap) {
        if (!memo_grow(S)) {
            S->memo_full = true;
            return true;
        }
        mask = S->slot_cap - 1;
        for (i = fp & mask; S->slots[i].fp; i = (i + 1) & mask)
            ;
    }
    if (S->arena_n + n > S->arena_cap) {
        size_t cap = S->arena_cap ? S->arena_cap * 2 : 4096;
        while (cap < S->arena_n + n)
            cap *= 2;
        uint32_t *a = NULL;
        if (memo_bytes(S) + kv_bytes(S) + (cap - S->arena_cap) * sizeof *a <= SEQ_MEMORY)
            a = sim_realloc(S->arena, cap * sizeof *a);
        if (!a) {
            S->memo_full = true;
            return true;
        }
        S->arena = a;
        S->arena_cap = cap;
    }
    memcpy(S->arena + S->arena_n, k, n * sizeof *k);
    S->slots[i].fp = fp;
    S->slots[i].off = S->arena_n;
    S->arena_n += n;
    S->slot_n++;
    return true;
}

/* ==== the search ========================================================== */

static void srch_free(struct srch *S)
{
    sim_free(S->pos);
    sim_free(S->state);
    sim_free(S->placed);
    sim_free(S->o_left);
    sim_free(S->w_left);
    sim_free(S->log);
    sim_free(S->stack);
    sim_free(S->slots);
    sim_free(S->arena);
    sim_free(S->keybuf);
    sim_free(S->nodes);
    sim_free(S->kmap);
    sim_free(S->str_hash);
    sim_free(S->str_pow);
    sim_free(S->str_done);
    if (S->pre)
        for (size_t i = 0; i <= hist_n_strings(S->b->h); i++)
            sim_free(S->pre[i]);
    sim_free(S->pre);
    memset(S, 0, sizeof *S);
}

static inline int32_t chain_len(const struct srch *S, int32_t q)
{
    return S->p->chain_off[q + 1] - S->p->chain_off[q];
}

static inline bool read_only(uint8_t kind)
{
    return kind == S_READ || kind == S_GET || kind == S_CAS_FAIL;
}

static void push_undo(struct srch *S, struct undo u)
{
    SIM_GROW(S->log, S->cap_log, S->n_log + 1);
    S->log[S->n_log++] = u;
}

/* Apply operation i (slot: its process for a definite one, -1 - j for the
 * j-th indeterminate one) if the model allows it; false leaves everything
 * as it was.
 *
 * The refusal that matters most: a move that changes a register away from
 * value u while some read still needs u and nothing left can write u again
 * can never lead to a valid order (that read would wait forever), so it is
 * refused at once instead of explored. */
static bool apply(struct srch *S, int32_t i, int32_t slot)
{
    const struct base *b = S->b;
    const struct sop *o = &b->ops[i];
    int64_t cur = S->state[o->key], nxt = cur;
    S->steps++;
    if (b->reg) {
        switch ((enum skind)o->kind) {
        case S_READ:
            if (cur != o->obs)
                return false;
            break;
        case S_CAS_FAIL:
            if (cur == o->obs)
                return false;
            break;
        case S_WRITE:
            nxt = o->wrt;
            break;
        case S_CAS:
            if (cur != o->obs)
                return false;
            nxt = o->wrt;
            break;
        default:
            return false;
        }
        bool observes = !o->optional && (o->kind == S_READ || o->kind == S_CAS);
        bool writes = o->kind == S_WRITE || o->kind == S_CAS;
        if (observes)
            S->o_left[o->obs]--;
        if (writes)
            S->w_left[o->wrt]--;
        if (nxt != cur && S->o_left[cur] > 0 && S->w_left[cur] == 0) {
            if (observes)
                S->o_left[o->obs]++;
            if (writes)
                S->w_left[o->wrt]++;
            return false;
        }
    } else {
        switch ((enum skind)o->kind) {
        case S_GET:
            if (!kv_equal(S, cur, o->obs))
                return false;
            break;
        case S_PUT:
            nxt = kv_node(S, -1, o->wrt);
            break;
        case S_APPEND:
            nxt = kv_node(S, (int32_t)cur, o->wrt);
            break;
        default:
            return false;
        }
        if (nxt < 0) {
            S->oom = true;
            return false;
        }
        if (nxt != cur && !kv_future_fits(S, o->key, nxt, i))
            return false;
    }
    push_undo(S, (struct undo){ i, slot, cur });
    if (nxt != cur) {
        S->state[o->key] = nxt;
        S->hash ^= zkey(Z_STATE, (uint64_t)o->key, (uint64_t)cur) ^
                   zkey(Z_STATE, (uint64_t)o->key, (uint64_t)nxt);
    }
    if (slot >= 0) {
        S->hash ^= zkey(Z_POS, (uint64_t)slot, (uint64_t)S->pos[slot]) ^
                   zkey(Z_POS, (uint64_t)slot, (uint64_t)S->pos[slot] + 1);
        S->pos[slot]++;
    } else {
        int32_t j = -1 - slot;
        S->placed[j / 64] |= UINT64_C(1) << (j % 64);
        S->hash ^= zkey(Z_OPT, (uint64_t)j, 1);
    }
    return true;
}

static void undo_to(struct srch *S, size_t mark)
{
    const struct base *b = S->b;
    while (S->n_log > mark) {
        const struct undo u = S->log[--S->n_log];
        const struct sop *o = &b->ops[u.op];
        int64_t now = S->state[o->key];
        if (now != u.old) {
            S->state[o->key] = u.old;
            S->hash ^= zkey(Z_STATE, (uint64_t)o->key, (uint64_t)now) ^
                       zkey(Z_STATE, (uint64_t)o->key, (uint64_t)u.old);
        }
        if (b->reg) {
            if (!o->optional && (o->kind == S_READ || o->kind == S_CAS))
                S->o_left[o->obs]++;
            if (o->kind == S_WRITE || o->kind == S_CAS)
                S->w_left[o->wrt]++;
        }
        if (u.slot >= 0) {
            S->pos[u.slot]--;
            S->hash ^= zkey(Z_POS, (uint64_t)u.slot, (uint64_t)S->pos[u.slot]) ^
                       zkey(Z_POS, (uint64_t)u.slot, (uint64_t)S->pos[u.slot] + 1);
        } else {
            int32_t j = -1 - u.slot;
            S->placed[j / 64] &= ~(UINT64_C(1) << (j % 64));
            S->hash ^= zkey(Z_OPT, (uint64_t)j, 1);
        }
    }
}

/* Place every read (and failed cas) that fits now and is next for its
 * process. Never loses an order: a read changes nothing, so in any valid
 * order that places it later it can be moved to the front, where the value
 * is already right and its process has nothing before it. */
static void closure(struct srch *S)
{
    const struct prob *p = S->p;
    for (int32_t q = 0; q < S->b->n_proc; q++) {
        while (S->pos[q] < chain_len(S, q)) {
            int32_t i = p->chain[p->chain_off[q] + S->pos[q]];
            if (!read_only(S->b->ops[i].kind) || !apply(S, i, q))
                break;
        }
    }
}

static bool all_placed(const struct srch *S)
{
    for (int32_t q = 0; q < S->b->n_proc; q++)
        if (S->pos[q] < chain_len(S, q))
            return false;
    return true;
}

static inline bool opt_available(const struct srch *S, int32_t j)
{
    const struct prob *p = S->p;
    return !(S->placed[j / 64] >> (j % 64) & 1) && S->pos[S->b->ops[p->opt[j]].proc] >= p->dep[j];
}

/* Is it worth placing the indeterminate operation j now? Only just before
 * something sees its effect. In a valid order, look at the first operation
 * on the same key after it: if none, or a write, it can be left out (it
 * changed nothing anyone saw); otherwise everything in between is on other
 * keys, so it can move right before that operation, which is then
 * available. So it is tried only when an available operation on its key
 * would see it: a read or cas of the value it writes, a failed cas (which
 * needs some other value), or, for strings, a get or an append. A cas that
 * would not succeed now, or a write of the value already there, does
 * nothing: never placed. */
static bool opt_useful(struct srch *S, int32_t j)
{
    const struct base *b = S->b;
    const struct prob *p = S->p;
    const struct sop *o = &b->ops[p->opt[j]];
    int64_t cur = S->state[o->key];
    S->steps++;
    if (b->reg && ((o->kind == S_CAS && cur != o->obs) || o->wrt == cur))
        return false;
    for (int32_t q = 0; q < b->n_proc; q++) {
        if (S->pos[q] >= chain_len(S, q))
            continue;
        const struct sop *x = &b->ops[p->chain[p->chain_off[q] + S->pos[q]]];
        if (x->key != o->key)
            continue;
        if (b->reg) {
            if (((x->kind == S_READ || x->kind == S_CAS) && x->obs == o->wrt) ||
                (x->kind == S_CAS_FAIL && x->obs != o->wrt))
                return true;
        } else if (x->kind == S_GET || x->kind == S_APPEND)
            return true;
    }
    for (int32_t k = 0; k < p->n_opt; k++) {
        if (k == j || !opt_available(S, k))
            continue;
        const struct sop *x = &b->ops[p->opt[k]];
        if (x->key != o->key)
            continue;
        if (!b->reg || (x->kind == S_CAS && x->obs == o->wrt))
            return true;
    }
    return false;
}

/* Symmetry: two indeterminate writes of the same value to the same key, both
 * available, are interchangeable (swap them in any valid order: each is
 * available where the other was, and they do the same). Only the first is
 * tried. */
static bool twin_first(const struct srch *S, int32_t j)
{
    const struct prob *p = S->p;
    const struct sop *x = &S->b->ops[p->opt[j]];
    if (x->kind != S_WRITE && x->kind != S_PUT)
        return false;
    for (int32_t k = 0; k < j; k++) {
        const struct sop *y = &S->b->ops[p->opt[k]];
        if (y->kind == x->kind && y->key == x->key && y->wrt == x->wrt && opt_available(S, k))
            return true;
    }
    return false;
}

/* The next move to try from the current configuration: the possible move
 * invoked first after `last` (so the first orders tried follow real time,
 * which finds an order at once for most histories that have one). */
static bool next_move(struct srch *S, int64_t last, int32_t *op, int32_t *slot)
{
    const struct base *b = S->b;
    const struct prob *p = S->p;
    int64_t best = INT64_MAX;
    for (int32_t q = 0; q < b->n_proc; q++) {
        if (S->pos[q] >= chain_len(S, q))
            continue;
        int32_t i = p->chain[p->chain_off[q] + S->pos[q]];
        const struct sop *x = &b->ops[i];
        /* a read-only operation that fits was placed by the closure: this one waits */
        if (read_only(x->kind) || x->invoke_pos <= last || x->invoke_pos >= best)
            continue;
        if (b->reg && x->kind == S_CAS && S->state[x->key] != x->obs)
            continue;
        best = x->invoke_pos;
        *op = i;
        *slot = q;
    }
    for (int32_t j = 0; j < p->n_opt; j++) {
        const struct sop *x = &b->ops[p->opt[j]];
        if (x->invoke_pos <= last || x->invoke_pos >= best || !opt_available(S, j) ||
            twin_first(S, j) || !opt_useful(S, j))
            continue;
        best = x->invoke_pos;
        *op = p->opt[j];
        *slot = -1 - j;
    }
    return best != INT64_MAX;
}

/* Search the problem p. On SEQ_HOLDS the undo log holds one valid order. */
static enum seq_verdict search(struct srch *S, const struct prob *p, uint64_t budget)
{
    const struct base *b = S->b;
    S->p = p;
    S->steps = 0;
    S->oom = false;
    S->memo_full = false;
    S->n_log = 0;
    S->sp = 0;
    S->words = ((size_t)p->n_opt + 63) / 64;
    sim_free(S->placed);
    S->placed = sim_xcalloc(S->words + 1, sizeof *S->placed);
    sim_free(S->keybuf);
    S->key_len = (size_t)b->n_proc + (size_t)b->n_keys + 2 * S->words;
    S->keybuf = sim_xmalloc((S->key_len + 1) * sizeof *S->keybuf);
    /* an empty table, small again if a previous search grew it */
    if (!S->slots || S->slot_cap > 4096) {
        sim_free(S->slots);
        S->slots = sim_xcalloc(1024, sizeof *S->slots);
        S->slot_cap = 1024;
    } else
        memset(S->slots, 0, S->slot_cap * sizeof *S->slots);
    S->slot_n = 0;
    S->arena_n = 0;
    S->hash = 0;
    for (int32_t q = 0; q < b->n_proc; q++) {
        S->pos[q] = 0;
        S->hash ^= zkey(Z_POS, (uint64_t)q, 0);
    }
    for (int32_t k = 0; k < b->n_keys; k++) {
        if (b->reg)
            S->state[k] = b->nil_of[k];
        else {
            S->state[k] = kv_node(S, -1, 0);   /* "" is string 0 */
            if (S->state[k] < 0)
                return SEQ_UNKNOWN;
        }
        S->hash ^= zkey(Z_STATE, (uint64_t)k, (uint64_t)S->state[k]);
    }
    if (b->reg) {
        memset(S->o_left, 0, ((size_t)b->n_vals + 1) * sizeof *S->o_left);
        memset(S->w_left, 0, ((size_t)b->n_vals + 1) * sizeof *S->w_left);
        for (size_t c = 0; c < (size_t)p->chain_off[b->n_proc]; c++) {
            const struct sop *x = &b->ops[p->chain[c]];
            if (x->kind == S_READ || x->kind == S_CAS)
                S->o_left[x->obs]++;
            if (x->kind == S_WRITE || x->kind == S_CAS)
                S->w_left[x->wrt]++;
        }
        for (int32_t j = 0; j < p->n_opt; j++)
            S->w_left[b->ops[p->opt[j]].wrt]++;
    }
    closure(S);
    if (all_placed(S))
        return SEQ_HOLDS;
    memo_visit(S);
    SIM_GROW(S->stack, S->cap_stack, 1);
    S->stack[S->sp++] = (struct frame){ S->n_log, INT64_MIN };
    while (S->sp > 0) {
        if (S->steps >= budget || S->oom)
            return SEQ_UNKNOWN;
        struct frame *f = &S->stack[S->sp - 1];
        int32_t op = -1, slot = 0;
        if (!next_move(S, f->last, &op, &slot)) {
            S->sp--;
            if (S->sp > 0)
                undo_to(S, S->stack[S->sp - 1].mark);
            continue;
        }
        f->last = b->ops[op].invoke_pos;
        size_t mark = f->mark;
        if (!apply(S, op, slot))
            continue;
        closure(S);
        if (all_placed(S))
            return SEQ_HOLDS;
        if (!memo_visit(S)) {
            undo_to(S, mark);
            continue;
        }
        SIM_GROW(S->stack, S->cap_stack, S->sp + 1);
        S->stack[S->sp++] = (struct frame){ S->n_log, INT64_MIN };
    }
    return S->oom ? SEQ_UNKNOWN : SEQ_VIOLATED;
}

static void srch_init(struct srch *S, const struct base *b)
{
    memset(S, 0, sizeof *S);
    S->b = b;
    S->pos = sim_xcalloc((size_t)b->n_proc + 1, sizeof *S->pos);
    S->state = sim_xcalloc((size_t)b->n_keys + 1, sizeof *S->state);
    S->o_left = sim_xcalloc((size_t)b->n_vals + 1, sizeof *S->o_left);
    S->w_left = sim_xcalloc((size_t)b->n_vals + 1, sizeof *S->w_left);
    if (!b->reg) {
        size_t n_str = hist_n_strings(b->h);
        S->str_hash = sim_xcalloc(n_str + 1, sizeof *S->str_hash);
        S->str_pow = sim_xcalloc(n_str + 1, sizeof *S->str_pow);
        S->str_done = sim_xcalloc(n_str + 1, sizeof *S->str_done);
        S->pre = sim_xcalloc(n_str + 1, sizeof *S->pre);

    }
}

/* ==== the checker ========================================================= */

struct seq_run {
    struct base b;
    struct srch S;
    uint64_t budget;
    uint64_t steps;            /* for the verdict */
    uint64_t evidence_steps;
    /* the per-key stage */
    enum seq_verdict *key_verdict;
    uint64_t *key_steps;
    bool keys_checked;
    /* what the verdict rests on */
    const char *stage;         /* "key", "prefix", "history", "nowhere" */
    int32_t stage_key;         /* the key of a per-key violation */
    bool *bad;                 /* the violating closed set (shrunk for the evidence) */
    bool shrunk;               /* the evidence search ran */
    bool minimal;              /* shrunk as far as it goes */
    bool evidence_complete;
    long nowhere;              /* a read of a value nobody wrote (history index), or -1 */
    int32_t *order;            /* when it holds: one valid order (operation indices) */
    size_t n_order;
};

/* Search the set `in`, spending at most budget steps; *used gets the steps. */
static enum seq_verdict check_set(struct seq_run *R, const bool *in, uint64_t budget,
                                  uint64_t *used, bool keep_order)
{
    struct prob p;
    prob_build(&R->b, in, &p);
    enum seq_verdict v = search(&R->S, &p, budget);
    *used = R->S.steps;
    if (v == SEQ_HOLDS && keep_order) {
        sim_free(R->order);
        R->order = sim_xmalloc((R->S.n_log + 1) * sizeof *R->order);
        R->n_order = R->S.n_log;
        for (size_t i = 0; i < R->S.n_log; i++)
            R->order[i] = R->S.log[i].op;
    }
    prob_free(&p);
    return v;
}

static size_t count_set(const bool *in, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += in[i];
    return c;
}

/* A read (or successful cas) of a value that nothing in the history may have
 * written: no order explains it. -1 if there is none. */
static long find_nowhere(const struct base *b)
{
    if (!b->reg)
        return -1;
    for (size_t i = 0; i < b->n; i++) {
        const struct sop *s = &b->ops[i];
        if (s->optional || (s->kind != S_READ && s->kind != S_CAS))
            continue;
        if (s->obs != b->nil_of[s->key] && b->wr_off[s->obs] == b->wr_off[s->obs + 1])
            return (long)i;
    }
    return -1;
}

static uint64_t budget_left(const struct seq_run *R)
{
    return R->steps >= R->budget ? 0 : R->budget - R->steps;
}

/* The verdict: cheap closed sub-histories first, then the whole. */
static enum seq_verdict decide(struct seq_run *R)
{
    struct base *b = &R->b;
    bool *in = sim_xcalloc(b->n + 1, sizeof *in);
    enum seq_verdict v = SEQ_UNKNOWN;
    uint64_t used;
    R->nowhere = find_nowhere(b);
    if (R->nowhere >= 0) {
        R->stage = "nowhere";
        in[R->nowhere] = true;
        R->bad = in;
        return SEQ_VIOLATED;
    }
    /* 1. each key on its own (a key's operations are a closed set), with up to
     * half of the budget between them */
    if (b->n_keys > 1) {
        R->keys_checked = true;
        uint64_t share = R->budget / 2 / (uint64_t)b->n_keys;
        for (int32_t k = 0; k < b->n_keys; k++) {
            for (size_t i = 0; i < b->n; i++)
                in[i] = b->ops[i].key == k;
            v = check_set(R, in, share ? share : 1, &used, false);
            R->steps += used;
            R->key_verdict[k] = v;
            R->key_steps[k] = used;
            if (v == SEQ_VIOLATED) {
                R->stage = "key";
                R->stage_key = k;
                R->bad = in;
                return v;
            }
        }
    }
    /* 2. prefixes: every operation invoked before a point, closed; growing
     * points, each with up to half of what is left */
    if (b->reg && !b->fails && b->n >= 32) {
        for (size_t div = 16; div >= 2; div /= 2) {
            size_t cut = b->n / div;
            for (size_t i = 0; i < b->n; i++)
                in[i] = i < cut;
            close_set(b, in);
            if (count_set(in, b->n) * 10 > b->n * 9)
                break;   /* nearly everything: go to the whole */
            v = check_set(R, in, budget_left(R) / 2, &used, false);
            R->steps += used;
            if (v == SEQ_VIOLATED) {
                R->stage = "prefix";
                R->bad = in;
                return v;
            }
            if (v == SEQ_UNKNOWN)
                break;
        }
    }
    /* 3. the whole history */
    for (size_t i = 0; i < b->n; i++)
        in[i] = true;
    v = check_set(R, in, budget_left(R), &used, true);
    R->steps += used;
    R->stage = "history";
    if (v == SEQ_VIOLATED)
        R->bad = in;
    else
        sim_free(in);
    return v;
}

/* Does the closed set `in` fail? Spends the evidence budget; out of it,
 * "no" (so the evidence stays a proof, maybe not the smallest). */
static bool still_fails(struct seq_run *R, const bool *in)
{
    if (R->evidence_steps >= R->budget) {
        R->evidence_complete = false;
        return false;
    }
    uint64_t used;
    enum seq_verdict v = check_set(R, in, R->budget - R->evidence_steps, &used, false);
    R->evidence_steps += used;
    if (v == SEQ_UNKNOWN)
        R->evidence_complete = false;
    return v == SEQ_VIOLATED;
}

/* The closure of the operations from[q] .. cut[q] - 1 of each process q,
 * into `to`. `mine` lists each process's operations of the violating set,
 * in order: mine[off[q] .. off[q + 1]). */
static void cut_set(const struct base *b, const int32_t *mine, const size_t *off,
                    const size_t *from, const size_t *cut, bool *to)
{
    memset(to, 0, b->n);
    for (int32_t q = 0; q < b->n_proc; q++)
        for (size_t i = from[q]; i < cut[q]; i++)
            to[mine[off[q] + i]] = true;
    close_set(b, to);
}

/* The operations of the violating set with history index in [start, end):
 * for each process q, from[q] .. cut[q] - 1 in its list. */
static void window(const struct base *b, const int32_t *mine, const size_t *off, size_t start,
                   size_t end, size_t *from, size_t *cut)
{
    for (int32_t q = 0; q < b->n_proc; q++) {
        from[q] = cut[q] = 0;
        for (size_t i = off[q]; i < off[q + 1]; i++) {
            from[q] += (size_t)mine[i] < start;
            cut[q] += (size_t)mine[i] < end;
        }
        if (from[q] > cut[q])
            from[q] = cut[q];
    }
}

/* Shrink the violating set, in three passes.
 *
 * 1. Keep the operations of one window of the history, the shortest that
 *    still fails (its end, then its start, by binary search).
 * 2. Cut each process to the shortest prefix, then to the shortest suffix
 *    of that, that still fails, the others fixed, until no cut moves (the
 *    closure adds back what the kept operations read). A closed set's
 *    verdict only gets worse as it grows, so each cut is a binary search.
 * 3. Drop runs of operations (halves, quarters, ... single ones; latest
 *    first) while the closure of what is left still fails; writes nobody
 *    reads any more go with the reads that needed them. What is left is
 *    minimal: no single operation can be dropped.
 *
 * Only sound when closing is (no failed cas that constrains); otherwise the
 * evidence is the set the verdict was found on. */
static void shrink(struct seq_run *R)
{
    struct base *b = &R->b;
    R->evidence_complete = true;
    if (R->stage && strcmp(R->stage, "nowhere") == 0) {
        R->minimal = true;
        return;
    }
    if (b->fails) {
        R->minimal = false;
        return;
    }
    bool *try = sim_xmalloc(b->n + 1);
    int32_t *mine = sim_xmalloc((b->n + 1) * sizeof *mine);
    size_t *off = sim_xcalloc((size_t)b->n_proc + 2, sizeof *off);
    size_t *cut = sim_xcalloc((size_t)b->n_proc + 1, sizeof *cut);
    size_t *from = sim_xcalloc((size_t)b->n_proc + 1, sizeof *from);
    for (size_t i = 0; i < b->n; i++)
        if (R->bad[i])
            off[b->ops[i].proc + 1]++;
    for (int32_t q = 0; q < b->n_proc; q++) {
        off[q + 1] += off[q];
        cut[q] = off[q + 1] - off[q];
    }
    {
        size_t *fill = sim_xmalloc(((size_t)b->n_proc + 1) * sizeof *fill);
        memcpy(fill, off, (size_t)b->n_proc * sizeof *fill);
        for (size_t i = 0; i < b->n; i++)
            if (R->bad[i])
                mine[fill[b->ops[i].proc]++] = (int32_t)i;
        sim_free(fill);
    }
    /* first one window of time for all: the earliest end, then the latest
     * start (history indices), that still fail */
    {
        size_t lo = 0, hi = b->n;
        while (lo < hi) {
            size_t e = lo + (hi - lo) / 2;
            window(b, mine, off, 0, e, from, cut);
            cut_set(b, mine, off, from, cut, try);
            if (still_fails(R, try))
                hi = e;
            else
                lo = e + 1;
        }
        size_t end = lo;
        lo = 0, hi = end;
        while (lo < hi) {
            size_t start = lo + (hi - lo + 1) / 2;
            window(b, mine, off, start, end, from, cut);
            cut_set(b, mine, off, from, cut, try);
            if (still_fails(R, try))
                lo = start;
            else
                hi = start - 1;
        }
        window(b, mine, off, lo, end, from, cut);
    }
    /* then each process on its own */
    for (int pass = 0; pass < 4; pass++) {
        bool moved = false;
        for (int32_t q = 0; q < b->n_proc; q++) {
            /* the smallest end that still fails */
            size_t lo = from[q], hi = cut[q], keep = cut[q];
            while (lo < hi) {
                cut[q] = lo + (hi - lo) / 2;
                cut_set(b, mine, off, from, cut, try);
                if (still_fails(R, try))
                    hi = cut[q];
                else
                    lo = cut[q] + 1;
            }
            cut[q] = lo;
            moved |= lo != keep;
            /* the largest start that still fails */
            lo = from[q], hi = cut[q], keep = from[q];
            while (lo < hi) {
                from[q] = lo + (hi - lo + 1) / 2;
                cut_set(b, mine, off, from, cut, try);
                if (still_fails(R, try))
                    lo = from[q];
                else
                    hi = from[q] - 1;
            }
            from[q] = lo;
            moved |= lo != keep;
        }
        if (!moved)
            break;
    }
    /* the core: the kept prefixes, before closing */
    bool *core = sim_xcalloc(b->n + 1, sizeof *core);
    for (int32_t q = 0; q < b->n_proc; q++)
        for (size_t i = from[q]; i < cut[q]; i++)
            core[mine[off[q] + i]] = true;
    /* the writes the closure adds may go too, when what read them goes */
    close_set(b, core);
    if (count_set(core, b->n) <= SEQ_SHRINK_DROP) {
        /* drop runs of operations, long runs first, then single ones */
        int32_t *list = sim_xmalloc((b->n + 1) * sizeof *list);
        /* each test costs O(n) besides its search: fewer for long histories */
        size_t n_list = 0, tests = 0;
        size_t max_tests = (size_t)2e8 / (b->n + 1);
        if (max_tests > SEQ_SHRINK_TESTS)
            max_tests = SEQ_SHRINK_TESTS;
        for (size_t i = 0; i < b->n; i++)
            if (core[i])
                list[n_list++] = (int32_t)i;
        for (size_t run = n_list / 2 ? n_list / 2 : 1;; run /= 2) {
            for (size_t end = n_list; end > 0 && tests < max_tests;) {
                size_t start = end >= run ? end - run : 0;
                for (size_t i = start; i < end; i++)
                    core[list[i]] = false;
                memcpy(try, core, b->n);
                close_set(b, try);
                tests++;
                if (still_fails(R, try)) {
                    memmove(list + start, list + end, (n_list - end) * sizeof *list);
                    n_list -= end - start;
                } else
                    for (size_t i = start; i < end; i++)
                        core[list[i]] = true;
                end = start;
            }
            if (run <= 1)
                break;
        }
        if (tests >= max_tests)
            R->evidence_complete = false;
        R->minimal = R->evidence_complete;
        sim_free(list);
    }
    memcpy(R->bad, core, b->n);
    close_set(b, R->bad);
    sim_free(core);
    sim_free(try);
    sim_free(mine);
    sim_free(off);
    sim_free(cut);
    sim_free(from);
}

static void run_free(struct seq_run *R)
{
    srch_free(&R->S);
    base_free(&R->b);
    sim_free(R->key_verdict);
    sim_free(R->key_steps);
    sim_free(R->bad);
    sim_free(R->order);
}

/* ==== telling people ====================================================== */

static const char *verdict_word(enum seq_verdict v)
{
    return v == SEQ_HOLDS ? "holds" : v == SEQ_VIOLATED ? "violated" : "unknown";
}

static void fmt_interval(const hist *h, const struct hist_op *op, char *buf, size_t n)
{
    char a[48], c[48];
    lin_format_time(h, op->invoke_t, a, sizeof a);
    if (op->open || op->type == HIST_INFO)
        snprintf(buf, n, "%s, %s", a, op->open ? "never completed" : "no answer");
    else
        snprintf(buf, n, "%s to %s", a, lin_format_time(h, op->complete_t, c, sizeof c));
}

/* "write x=1" without the process, and "(indeterminate)" for an info one. */
static const char *op_short(const hist *h, const struct hist_op *op, char *buf, size_t n)
{
    char who[64], what[320];
    hist_process_label(h, op->process, who, sizeof who);
    lin_describe_op(h, op, what, sizeof what);
    snprintf(buf, n, "%s%s", what + strlen(who) + 1,
             op->type == HIST_INFO ? " (maybe)" : op->type == HIST_FAIL ? " (failed)" : "");
    return buf;
}

/* The violating set, grouped by process in order of first appearance. */
static void group_bad(const struct seq_run *R, int32_t **procs, size_t *n_procs)
{
    const struct base *b = &R->b;
    *procs = sim_xmalloc(((size_t)b->n_proc + 1) * sizeof **procs);
    *n_procs = 0;
    bool *seen = sim_xcalloc((size_t)b->n_proc + 1, sizeof *seen);
    for (size_t i = 0; i < b->n; i++)
        if (R->bad[i] && !seen[b->ops[i].proc]) {
            seen[b->ops[i].proc] = true;
            (*procs)[(*n_procs)++] = b->ops[i].proc;
        }
    sim_free(seen);
}

static void append(char *buf, size_t n, size_t *len, const char *s)
{
    size_t l = strlen(s);
    if (*len + l + 1 > n)
        l = *len + 1 < n ? n - *len - 1 : 0;
    memcpy(buf + *len, s, l);
    *len += l;
    buf[*len] = 0;
}

static void reason_violated(const struct seq_run *R, char *out, size_t n)
{
    const struct base *b = &R->b;
    const hist *h = b->h;
    char who[64], what[320], t[48];
    if (R->nowhere >= 0) {
        const struct hist_op *op = hist_op(h, (size_t)b->ops[R->nowhere].hist);
        char val[96];
        hist_process_label(h, op->process, who, sizeof who);
        lin_format_value(h, op->f == HIST_READ ? op->out : op->arg, val, sizeof val);
        if (op->f == HIST_READ)
            snprintf(out, n, "%s %s at %s, but no operation in the history wrote %s, not even one "
                     "that never answered", who, op_short(h, op, what, sizeof what),
                     lin_format_time(h, op->complete_t, t, sizeof t), val);
        else
            snprintf(out, n, "%s's %s succeeded at %s (so it found %s), but no operation in the "
                     "history wrote %s", who, op_short(h, op, what, sizeof what),
                     lin_format_time(h, op->complete_t, t, sizeof t), val, val);
        return;
    }
    int32_t *procs;
    size_t n_procs;
    group_bad(R, &procs, &n_procs);
    size_t total = count_set(R->bad, b->n);
    const char *tail = " cannot be put in one order that keeps each client's operations in "
                       "the order it issued them and gives every read the value last written "
                       "before it";
    size_t len = 0;
    out[0] = 0;
    if (total <= 8) {
        for (size_t g = 0; g < n_procs; g++) {
            append(out, n, &len, g == 0 ? "" : g + 1 == n_procs ? " and " : ", ");
            hist_process_label(h, b->proc_name[procs[g]], who, sizeof who);
            append(out, n, &len, who);
            append(out, n, &len, "'s ");
            bool first = true;
            for (size_t i = 0; i < b->n; i++) {
                if (!R->bad[i] || b->ops[i].proc != procs[g])
                    continue;
                append(out, n, &len, first ? "" : " then ");
                append(out, n, &len, op_short(h, hist_op(h, (size_t)b->ops[i].hist), what,
                                              sizeof what));
                first = false;
            }
        }
    } else {
        char head[96];
        snprintf(head, sizeof head, "the %zu operations of ", total);
        append(out, n, &len, head);
        for (size_t g = 0; g < n_procs; g++) {
            append(out, n, &len, g == 0 ? "" : g + 1 == n_procs ? " and " : ", ");
            append(out, n, &len, hist_process_label(h, b->proc_name[procs[g]], who, sizeof who));
        }
        append(out, n, &len, R->shrunk ? " listed below" : " (ask for evidence to see the fewest)");
    }
    append(out, n, &len, tail);
    if (strcmp(R->stage, "key") == 0) {
        const char *key = hist_str(h, hist_key(h, (size_t)R->stage_key));
        char k[128];
        snprintf(k, sizeof k, " (key %s alone already fails)", key);
        append(out, n, &len, k);
    }
    sim_free(procs);
}

struct wpos {
    int64_t invoke_pos, complete_pos;
    int32_t op;
};

static int cmp_wpos(const void *a, const void *b)
{
    const struct wpos *x = a, *y = b;
    return (x->complete_pos > y->complete_pos) - (x->complete_pos < y->complete_pos);
}

/* A read that proves the history is not linearizable on its own: the value
 * it returned was certainly overwritten before it began (a write completed
 * before the read began, and the only write of the value read had completed
 * before that write began; or the read saw nil after a write completed).
 * The earliest such read (history indices of the read and of the newer
 * write), or false. Registers only. */
static bool find_stale(const struct seq_run *R, long *read, long *newer)
{
    const struct base *b = &R->b;
    const hist *h = b->h;
    if (!b->reg)
        return false;
    struct wpos *w = sim_xmalloc((b->n + 1) * sizeof *w);
    int64_t best_pos = INT64_MAX;
    for (int32_t k = 0; k < b->n_keys; k++) {
        size_t nw = 0;
        for (size_t i = 0; i < b->n; i++) {
            const struct sop *s = &b->ops[i];
            if (s->key == k && !s->optional && (s->kind == S_WRITE || s->kind == S_CAS))
                w[nw++] = (struct wpos){ s->invoke_pos, hist_op(h, (size_t)s->hist)->complete_pos,
                                         (int32_t)i };
        }
        sim_qsort(w, nw, sizeof *w, cmp_wpos);
        size_t done = 0;
        int32_t latest = -1;   /* of the writes completed so far, the one invoked last */
        for (size_t i = 0; i < b->n; i++) {
            const struct sop *s = &b->ops[i];
            if (s->key != k || s->kind != S_READ)
                continue;
            for (; done < nw && w[done].complete_pos < s->invoke_pos; done++)
                if (latest < 0 || w[done].invoke_pos > b->ops[latest].invoke_pos)
                    latest = w[done].op;
            if (latest < 0 || s->invoke_pos >= best_pos)
                continue;
            bool stale = s->obs == b->nil_of[k];
            if (!stale && b->wr_off[s->obs + 1] - b->wr_off[s->obs] == 1) {
                const struct sop *x = &b->ops[b->wr_list[b->wr_off[s->obs]]];
                stale = !x->optional &&
                        hist_op(h, (size_t)x->hist)->complete_pos < b->ops[latest].invoke_pos;
            }
            if (stale) {
                best_pos = s->invoke_pos;
                *read = s->hist;
                *newer = b->ops[latest].hist;
            }
        }
    }
    sim_free(w);
    return best_pos != INT64_MAX;
}

static void text_and_json(const struct seq_run *R, enum seq_verdict v, struct check_result *out,
                          bool evidence)
{
    const struct base *b = &R->b;
    const hist *h = b->h;
    jw *w = &out->evidence;
    char line[512], what[320], who[64], when[128];
    jw_obj(w);
    jw_kint(w, "budget", (int64_t)R->budget);
    jw_kint(w, "steps", (int64_t)R->steps);
    jw_kint(w, "evidence_steps", (int64_t)R->evidence_steps);
    jw_kint(w, "operations", (int64_t)b->n);
    jw_kint(w, "processes", b->n_proc);
    jw_kstr(w, "decided_on", R->stage ? R->stage : "history");
    jw_key(w, "per_key");
    jw_arr(w);
    for (int32_t k = 0; R->keys_checked && k < b->n_keys; k++) {
        jw_obj(w);
        jw_kstr(w, "key", hist_str(h, hist_key(h, (size_t)k)));
        jw_kstr(w, "verdict", R->key_steps[k] || R->key_verdict[k] != SEQ_UNKNOWN
                                  ? verdict_word(R->key_verdict[k])
                                  : "not checked");
        jw_kint(w, "steps", (int64_t)R->key_steps[k]);
        jw_obj_end(w);
    }
    jw_arr_end(w);
    int used = snprintf(line, sizeof line, "%" PRIu64 " search steps of a budget of %" PRIu64,
                        R->steps, R->budget);
    if (R->keys_checked) {
        size_t held = 0, bad = 0, unchecked = 0;
        for (int32_t k = 0; k < b->n_keys; k++) {
            held += R->key_verdict[k] == SEQ_HOLDS;
            bad += R->key_verdict[k] == SEQ_VIOLATED;
            unchecked += R->key_verdict[k] == SEQ_UNKNOWN && R->key_steps[k] == 0;
        }
        snprintf(line + used, sizeof line - (size_t)used,
                 "; each key alone: %zu hold, %zu violated, %zu undecided, %zu not checked", held,
                 bad, (size_t)b->n_keys - held - bad - unchecked, unchecked);
    }
    check_text(out, "%s", line);
    jw_key(w, "violation");
    if (v == SEQ_VIOLATED && evidence && R->bad) {
        jw_obj(w);
        jw_kbool(w, "minimal", R->minimal);
        jw_kbool(w, "complete", R->evidence_complete);
        jw_key(w, "operations");
        jw_arr(w);
        for (size_t i = 0; i < b->n; i++)
            if (R->bad[i])
                check_json_op(w, h, b->ops[i].hist);
        jw_arr_end(w);
        int32_t *procs;
        size_t n_procs;
        group_bad(R, &procs, &n_procs);
        jw_key(w, "processes");
        jw_arr(w);
        check_text(out, "evidence: %zu operations that cannot be put in one order%s%s:",
                   count_set(R->bad, b->n),
                   R->minimal ? " (none of them can be left out)"
                              : R->evidence_complete ? "" : " (the search to shrink them ran out of budget)",
                   R->nowhere >= 0 ? "" : ", each client's in the order it issued them");
        for (size_t g = 0; g < n_procs; g++) {
            jw_obj(w);
            jw_kstr(w, "process", hist_str(h, b->proc_name[procs[g]]));
            jw_key(w, "ops");
            jw_arr(w);
            check_text(out, "  %s:", hist_process_label(h, b->proc_name[procs[g]], who, sizeof who));
            size_t shown = 0;
            for (size_t i = 0; i < b->n; i++) {
                if (!R->bad[i] || b->ops[i].proc != procs[g])
                    continue;
                const struct hist_op *op = hist_op(h, (size_t)b->ops[i].hist);
                jw_int(w, op->id);
                if (shown++ >= 40)
                    continue;
                fmt_interval(h, op, when, sizeof when);
                char lines[64] = "";
                if (op->invoke_line)
                    snprintf(lines, sizeof lines, ", lines %" PRId32 "-%" PRId32, op->invoke_line,
                             op->complete_line);
                check_text(out, "    %-24s op %" PRId64 ", %s%s", op_short(h, op, what, sizeof what),
                           op->id, when, lines);
            }
            if (shown > 40)
                check_text(out, "    ... and %zu more", shown - 40);
            jw_arr_end(w);
            jw_obj_end(w);
        }
        jw_arr_end(w);
        sim_free(procs);
        jw_obj_end(w);
    } else
        jw_null(w);
    jw_key(w, "stale_read");
    long early, late;
    if (v == SEQ_HOLDS && find_stale(R, &early, &late)) {
        jw_obj(w);
        jw_key(w, "read");
        check_json_op(w, h, early);
        jw_key(w, "overwritten_by");
        check_json_op(w, h, late);
        jw_obj_end(w);
    } else
        jw_null(w);
    /* the order found (placed operations only: indeterminate ones left out
     * did not take effect), for programs that want to replay it */
    jw_key(w, "order");
    if (v == SEQ_HOLDS && R->n_order <= SEQ_ORDER_MAX) {
        jw_arr(w);
        for (size_t i = 0; i < R->n_order; i++)
            jw_int(w, hist_op(h, (size_t)b->ops[R->order[i]].hist)->id);
        jw_arr_end(w);
    } else
        jw_null(w);
    jw_obj_end(w);
}

static int run_sequential(const struct check_input *in, struct check_result *out)
{
    const hist *h = in->h;
    struct seq_run R;
    memset(&R, 0, sizeof R);
    R.budget = in->budget ? in->budget : LIN_DEFAULT_BUDGET;
    R.nowhere = -1;
    R.stage_key = -1;
    base_build(&R.b, h);
    srch_init(&R.S, &R.b);
    R.key_verdict = sim_xcalloc((size_t)R.b.n_keys + 1, sizeof *R.key_verdict);
    R.key_steps = sim_xcalloc((size_t)R.b.n_keys + 1, sizeof *R.key_steps);
    for (int32_t k = 0; k < R.b.n_keys; k++)
        R.key_verdict[k] = SEQ_UNKNOWN;
    enum seq_verdict v = decide(&R);
    out->steps = R.steps;
    char who[64], what[320], t1[48], t2[48];
    if (v == SEQ_VIOLATED) {
        if (!in->no_evidence) {
            shrink(&R);
            R.shrunk = true;
        }
        else
            R.minimal = R.evidence_complete = false;   /* the set the verdict was found on */
        out->verdict = CHECK_VIOLATED;
        reason_violated(&R, out->reason, sizeof out->reason);
    } else if (v == SEQ_UNKNOWN) {
        out->verdict = CHECK_UNKNOWN;
        snprintf(out->reason, sizeof out->reason,
                 "the search ran out of its budget of %" PRIu64 " steps%s before it could decide; "
                 "try a larger --budget", R.budget, R.S.oom || R.S.memo_full ? " (or of memory)" : "");
    } else {
        out->verdict = CHECK_HOLDS;
        long early, late;
        size_t len = 0;
        char s[1024];
        if (R.b.n == 0)
            snprintf(out->reason, sizeof out->reason,
                     "no operation has to take effect (none completed, or only failed, unanswered "
                     "or indeterminate ones)");
        else {
            snprintf(s, sizeof s,
                     "the %zu operations can be put in one order that keeps each of the %" PRId32
                     " clients' operations in the order it issued them and gives every read the "
                     "value last written before it", R.b.n, R.b.n_proc);
            len = strlen(s);
            if (find_stale(&R, &early, &late)) {
                const struct hist_op *e = hist_op(h, (size_t)early), *l = hist_op(h, (size_t)late);
                char who2[64], what2[320];
                snprintf(s + len, sizeof s - len,
                         "; it is not linearizable, though: %s %s at %s, after %s's %s had "
                         "completed at %s (%s had not seen it yet: sequential consistency allows "
                         "that, real time does not)",
                         hist_process_label(h, e->process, who, sizeof who),
                         op_short(h, e, what, sizeof what), lin_format_time(h, e->invoke_t, t1, sizeof t1),
                         hist_process_label(h, l->process, who2, sizeof who2),
                         op_short(h, l, what2, sizeof what2),
                         lin_format_time(h, l->complete_t, t2, sizeof t2), who);
            }
            snprintf(out->reason, sizeof out->reason, "%s", s);
        }
    }
    out->steps = R.steps;
    text_and_json(&R, v, out, true);
    run_free(&R);
    return 0;
}

const struct checker sequential_checker = {
    "sequential",
    "one order of all operations keeps each client's own order and explains every read "
    "(sequential consistency: real time ignored)",
    false,
    run_sequential, false,
};
