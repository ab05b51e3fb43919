#include "linearizable.h"
#include "sort.h"

#include "core/alloc.h"
#include "core/pcg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Positions are encoded as 2 * event + 1, so that a completion moved to just
 * before another one (2 * event) never ties with a real event. */
#define INF INT64_MAX
#define REG_ANY (INT64_MIN + 1)   /* window search: a register whose value is unknown */
#define KV_ANY (-1)               /* the same for a key-value string */
#define NIL_ENTRY (-1)

enum lkind {
    K_READ,       /* a: the value read */
    K_WRITE,      /* a: the value */
    K_CAS,        /* a: expected, b: new; succeeded */
    K_CAS_FAIL,   /* a: expected; compared and found another value */
    K_CAS_MAYBE,  /* a: expected, b: new; outcome unknown (info) */
    K_GET,        /* a: the value read (a kv string id) */
    K_PUT,        /* a: the value (kv string id) */
    K_APPEND,     /* a: the appended text (history string id) */
};

/* One operation as the search sees it. */
struct lop {
    int64_t a, b;
    int64_t call, ret;    /* encoded positions; ret INF = may take effect any time, or never */
    long hist;            /* index in the history */
    uint8_t kind;
    bool optional;        /* window search: it may have happened before the window */
    bool unread;          /* kv append whose text no get ever returned */
};

/* The operations of one key, prepared once, in invocation order. */
struct keyops {
    struct lop *ops;
    size_t n;
};

struct frame {
    int32_t entry;
    int32_t first;        /* the first completion in the list before it */
    int64_t state;        /* the model state before it */
    uint8_t alt;          /* 0: applied to the model; 1: skipped (an optional
                           * operation); 2: an append absorbed by the put above it */
};

/* An operation and its symmetry class (kind, arguments, optional). */
struct twin {
    int64_t a, b, call;
    int32_t op;
    uint8_t kind;
    bool optional;
};

/* Who may write (or needs) which value, for the look-ahead tests. */
struct writer {
    int64_t v;
    int64_t at;           /* writers: invocation; observers: completion */
    int32_t op;
};

/* One visited state: a fingerprint of (the XOR of the placed operations'
 * random keys, model state), never 0, and where the state itself is kept in
 * the arena: [model state, lo | hi << 32, the words [lo, hi), the tail words].
 * Probing looks at fingerprints only; a full comparison happens only when a
 * fingerprint matches, so a search is exact, never probabilistic. */
struct memo_slot {
    uint64_t fp;          /* 0 = empty */
    uint64_t off;
};

/* Key-value states. A state is a node of a trie: the empty string, a put's
 * value, or a parent state with one appended text. Each node carries its
 * length and a polynomial hash (mod 2^64), so "is this state a prefix of
 * what that get returned" is one comparison with the get's prefix hashes:
 * different hashes prove "no"; equal hashes are checked character by
 * character before a get is accepted, so a collision can never make a
 * history pass. */
struct kvnode {
    int64_t parent;       /* -1 for a root */
    int32_t text;         /* history string appended (or a root's whole value); -1 = "" */
    uint32_t len;
    uint64_t hash;
};

struct kvget {            /* a value some get returned */
    int32_t str;          /* history string id */
    uint32_t len;
    uint64_t hash;
    int64_t node;         /* a root node holding it (the state after a get from "any") */
    size_t pre;           /* its prefix hashes start here in kvstore.pre */
};

struct kvstore {
    struct kvnode *nodes;
    size_t n_nodes, cap_nodes;
    struct ktrans { int64_t from; int64_t to; int32_t text; } *trans;
    size_t trans_cap, trans_n;
    int32_t *root_of;     /* history string id -> root node, or -1 */
    int32_t *get_of;      /* history string id -> kvget, or -1 */
    size_t cap_str;
    int32_t *touched;     /* string ids set in root_of / get_of, to reset them */
    size_t n_touched, cap_touched;
    struct kvget *gets;
    size_t n_gets, cap_gets;
    uint64_t *pre;
    size_t n_pre, cap_pre;
};

struct search {
    const hist *h;
    bool reg;                 /* register model (else key-value) */
    size_t memory;            /* limit for the memo and the kv store, bytes */
    struct kvstore kv;
    /* the current problem */
    struct lop *ops;
    size_t n, cap_ops, n_fin; /* ops with a finite completion come first */
    uint32_t *bitpos;
    size_t cap_bitpos;
    int32_t *pred;            /* symmetry: the twin that goes first, or -1 */
    size_t cap_pred;
    int32_t *need;            /* reads and cas: first writer of their value in wr */
    size_t cap_need;
    int32_t *scratch;
    size_t cap_scratch;
    struct twin *twins;
    size_t cap_twins;
    struct writer *wr;        /* every op that may write a value, by (value, invocation) */
    size_t n_wr, cap_wr;
    struct writer *obs;       /* every read or cas that needs a value, by (value, completion) */
    size_t n_obs, cap_obs;
    int32_t *puts;            /* kv: the puts, by invocation */
    size_t n_puts, cap_puts;
    int32_t *next, *prev;
    size_t cap_entries;
    struct sortent { int64_t pos; int32_t entry; } *sorted;
    size_t cap_sorted;
    struct frame *stack;
    size_t cap_stack, sp;
    /* The placed set as a bitset: finite operations in words [0, fin_words)
     * (in invocation order), the others after. Words [0, lo) are all ones
     * and [hi, fin_words) all zeros, so the memo stores only [lo, hi) and the
     * tail: the set's "frontier", whose size is the concurrency, not n. */
    uint64_t *bits;
    size_t words, fin_words, inf_words, cap_bits;
    uint32_t lo, hi;
    uint64_t last_mask;
    uint64_t *zob;
    size_t n_zob, cap_zob;
    pcg32 zrng;
    struct memo_slot *slots;
    size_t slot_cap, slot_n;
    uint64_t *arena;
    size_t arena_n, arena_cap;
    bool memo_full, oom;
    bool absorb;              /* kv: some appends are never read (see mark_unread) */
    uint64_t steps;
};

const char *lin_verdict_name(enum lin_verdict v)
{
    return v == LIN_HOLDS ? "holds" : v == LIN_VIOLATED ? "violated" : "unknown";
}

/* ==== memory helpers ====================================================== */

static bool grow(void **items, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *p = sim_realloc(*items, c * elem);
    if (!p)
        return false;
    *items = p;
    *cap = c;
    return true;
}

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    x ^= x >> 32;
    x *= 0xd6e8feb86659fd93ULL;
    return x ^ (x >> 32);
}

/* ==== the key-value store ================================================= */

#define KV_BASE UINT64_C(0x100000001b3)

static uint64_t kv_pow(size_t n)
{
    uint64_t r = 1, b = KV_BASE;
    for (; n; n >>= 1, b *= b)
        if (n & 1)
            r *= b;
    return r;
}

static uint64_t kv_hash(const char *str, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * KV_BASE + (unsigned char)str[i];
    return x;
}

static size_t kv_bytes(const struct kvstore *kv)
{
    return kv->cap_nodes * sizeof *kv->nodes + kv->trans_cap * sizeof *kv->trans +
           kv->cap_gets * sizeof *kv->gets + kv->cap_pre * sizeof *kv->pre +
           kv->cap_str * 2 * sizeof(int32_t) + kv->cap_touched * sizeof(int32_t);
}

static void kv_free(struct kvstore *kv)
{
    sim_free(kv->nodes);
    sim_free(kv->trans);
    sim_free(kv->root_of);
    sim_free(kv->get_of);
    sim_free(kv->touched);
    sim_free(kv->gets);
    sim_free(kv->pre);
    memset(kv, 0, sizeof *kv);
}

/* Forget the previous key's states: the empty string is node 0. */
static bool kv_reset(struct search *s)
{
    struct kvstore *kv = &s->kv;
    size_t n_str = hist_n_strings(s->h);
    if (kv->cap_str < n_str) {
        sim_free(kv->root_of);
        sim_free(kv->get_of);
        kv->root_of = sim_malloc(n_str * sizeof *kv->root_of);
        kv->get_of = sim_malloc(n_str * sizeof *kv->get_of);
        if (!kv->root_of || !kv->get_of) {
            kv->cap_str = 0;
            return false;
        }
        kv->cap_str = n_str;
        for (size_t i = 0; i < n_str; i++)
            kv->root_of[i] = kv->get_of[i] = -1;
        kv->n_touched = 0;
    }
    for (size_t i = 0; i < kv->n_touched; i++)
        kv->root_of[kv->touched[i]] = kv->get_of[kv->touched[i]] = -1;
    kv->n_touched = 0;
    kv->n_gets = kv->n_pre = kv->trans_n = 0;
    if (kv->trans_cap > 65536) {
        sim_free(kv->trans);
        kv->trans = NULL;
        kv->trans_cap = 0;
    }
    for (size_t i = 0; i < kv->trans_cap; i++)
        kv->trans[i].from = -1;
    if (!grow((void **)&kv->nodes, &kv->cap_nodes, 1, sizeof *kv->nodes))
        return false;
    kv->nodes[0] = (struct kvnode){ -1, -1, 0, 0 };
    kv->n_nodes = 1;
    return true;
}

static int64_t kv_node(struct search *s, int64_t parent, int32_t text, uint32_t len, uint64_t hash)
{
    struct kvstore *kv = &s->kv;
    if (kv->n_nodes + 1 > kv->cap_nodes &&
        kv_bytes(kv) + kv->cap_nodes * sizeof *kv->nodes > s->memory)
        return -1;
    if (!grow((void **)&kv->nodes, &kv->cap_nodes, kv->n_nodes + 1, sizeof *kv->nodes))
        return -1;
    kv->nodes[kv->n_nodes] = (struct kvnode){ parent, text, len, hash };
    return (int64_t)kv->n_nodes++;
}

static bool kv_touch(struct kvstore *kv, int32_t str)
{
    if (!grow((void **)&kv->touched, &kv->cap_touched, kv->n_touched + 1, sizeof *kv->touched))
        return false;
    kv->touched[kv->n_touched++] = str;
    return true;
}

/* The root node holding history string str (one per string). -1: no memory. */
static int64_t kv_root(struct search *s, int32_t str)
{
    struct kvstore *kv = &s->kv;
    if (kv->root_of[str] >= 0)
        return kv->root_of[str];
    size_t len = hist_strlen(s->h, str);
    int64_t node = len == 0 ? 0
                            : kv_node(s, -1, str, (uint32_t)len, kv_hash(hist_str(s->h, str), len));
    if (node < 0 || (kv->get_of[str] < 0 && !kv_touch(kv, str)))
        return -1;
    kv->root_of[str] = (int32_t)node;
    return node;
}

/* The kvget of history string str, with its prefix hashes. -1: no memory. */
static int64_t kv_get(struct search *s, int32_t str)
{
    struct kvstore *kv = &s->kv;
    if (kv->get_of[str] >= 0)
        return kv->get_of[str];
    size_t len = hist_strlen(s->h, str);
    const char *text = hist_str(s->h, str);
    int64_t node = kv_root(s, str);
    if (node < 0 || !grow((void **)&kv->gets, &kv->cap_gets, kv->n_gets + 1, sizeof *kv->gets) ||
        !grow((void **)&kv->pre, &kv->cap_pre, kv->n_pre + len + 1, sizeof *kv->pre))
        return -1;
    struct kvget *g = &kv->gets[kv->n_gets];
    g->str = str;
    g->len = (uint32_t)len;
    g->node = node;
    g->pre = kv->n_pre;
    uint64_t x = 0;
    kv->pre[kv->n_pre++] = 0;
    for (size_t i = 0; i < len; i++) {
        x = x * KV_BASE + (unsigned char)text[i];
        kv->pre[kv->n_pre++] = x;
    }
    g->hash = x;
    kv->get_of[str] = (int32_t)kv->n_gets;
    return (int64_t)kv->n_gets++;
}

/* Is node a prefix of get g? False is certain; true may be a collision. */
static inline bool kv_maybe_prefix(const struct kvstore *kv, int64_t node, const struct kvget *g)
{
    const struct kvnode *n = &kv->nodes[node];
    return n->len <= g->len && kv->pre[g->pre + n->len] == n->hash;
}

/* Is node exactly the string of get g? Checked character by character. */
static bool kv_equal(const struct search *s, int64_t node, const struct kvget *g)
{
    const struct kvstore *kv = &s->kv;
    if (node == g->node)
        return true;
    if (kv->nodes[node].len != g->len || kv->nodes[node].hash != g->hash)
        return false;
    const char *want = hist_str(s->h, g->str);
    size_t pos = g->len;
    for (int64_t n = node; n >= 0 && kv->nodes[n].text >= 0; n = kv->nodes[n].parent) {
        size_t tl = hist_strlen(s->h, kv->nodes[n].text);
        if (tl > pos || memcmp(want + pos - tl, hist_str(s->h, kv->nodes[n].text), tl) != 0)
            return false;
        pos -= tl;
    }
    return pos == 0;
}

/* The state after appending history string text to state from, remembered
 * per (state, text). -1 when out of memory. */
static int64_t kv_append(struct search *s, int64_t from, int32_t text)
{
    struct kvstore *kv = &s->kv;
    if ((kv->trans_n + 1) * 2 > kv->trans_cap) {
        size_t cap = kv->trans_cap ? kv->trans_cap * 2 : 1024;
        if (kv_bytes(kv) + cap * sizeof *kv->trans > s->memory)
            return -1;
        struct ktrans *t = sim_malloc(cap * sizeof *t);
        if (!t)
            return -1;
        for (size_t i = 0; i < cap; i++)
            t[i].from = -1;
        for (size_t i = 0; i < kv->trans_cap; i++) {
            if (kv->trans[i].from < 0)
                continue;
            size_t j = mix64((uint64_t)kv->trans[i].from * 0x9E3779B97F4A7C15ULL ^
                             (uint64_t)kv->trans[i].text) & (cap - 1);
            while (t[j].from >= 0)
                j = (j + 1) & (cap - 1);
            t[j] = kv->trans[i];
        }
        sim_free(kv->trans);
        kv->trans = t;
        kv->trans_cap = cap;
    }
    size_t j = mix64((uint64_t)from * 0x9E3779B97F4A7C15ULL ^ (uint64_t)text) & (kv->trans_cap - 1);
    for (; kv->trans[j].from >= 0; j = (j + 1) & (kv->trans_cap - 1))
        if (kv->trans[j].from == from && kv->trans[j].text == text)
            return kv->trans[j].to;
    size_t tl = hist_strlen(s->h, text);
    const struct kvnode *f = &kv->nodes[from];
    if ((uint64_t)f->len + tl > UINT32_MAX)
        return -1;
    uint64_t hash = f->hash * kv_pow(tl) + kv_hash(hist_str(s->h, text), tl);
    int64_t to = kv_node(s, from, text, f->len + (uint32_t)tl, hash);
    if (to < 0)
        return -1;
    kv->trans[j].from = from;
    kv->trans[j].text = text;
    kv->trans[j].to = to;
    kv->trans_n++;
    return to;
}

/* ==== the model =========================================================== */

static inline bool model_step(struct search *s, const struct lop *l, int64_t st, int64_t *ns)
{
    switch (l->kind) {
    case K_READ:
        *ns = st == REG_ANY ? l->a : st;
        return st == l->a || st == REG_ANY;
    case K_GET:
        if (st == KV_ANY) {
            *ns = s->kv.gets[l->a].node;
            return true;
        }
        *ns = st;
        return kv_equal(s, st, &s->kv.gets[l->a]);
    case K_WRITE:
    case K_PUT:
        *ns = l->a;
        return true;
    case K_CAS:
        *ns = l->b;
        return st == l->a || st == REG_ANY;
    case K_CAS_FAIL:
        *ns = st;
        return st != l->a;
    case K_CAS_MAYBE:
        /* from an unknown value the result is unknown too (a superset) */
        *ns = st == l->a ? l->b : st;
        return true;
    case K_APPEND:
        if (st == KV_ANY) {
            *ns = KV_ANY;
            return true;
        }
        *ns = kv_append(s, st, (int32_t)l->a);
        if (*ns < 0) {
            s->oom = true;
            return false;
        }
        return true;
    }
    return false;
}

/* ==== the visited-states table ============================================ */

static size_t memo_bytes(const struct search *s)
{
    return s->slot_cap * sizeof *s->slots + s->arena_cap * sizeof *s->arena;
}

static void memo_reset(struct search *s)
{
    s->memo_full = false;
    s->slot_n = 0;
    s->arena_n = 0;
    if (s->slot_cap > 4096) {
        sim_free(s->slots);
        s->slots = NULL;
        s->slot_cap = 0;
    }
    if (!s->slots) {
        s->slots = sim_calloc(1024, sizeof *s->slots);
        s->slot_cap = s->slots ? 1024 : 0;
        if (!s->slots)
            s->memo_full = true;
    } else
        memset(s->slots, 0, s->slot_cap * sizeof *s->slots);
}

static bool memo_grow_table(struct search *s)
{
    size_t cap = s->slot_cap * 2;
    if (memo_bytes(s) + cap * sizeof *s->slots + kv_bytes(&s->kv) > s->memory)
        return false;
    struct memo_slot *t = sim_calloc(cap, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < s->slot_cap; i++) {
        const struct memo_slot *e = &s->slots[i];
        if (!e->fp)
            continue;
        size_t j = e->fp & (cap - 1);
        while (t[j].fp)
            j = (j + 1) & (cap - 1);
        t[j] = *e;
    }
    sim_free(s->slots);
    s->slots = t;
    s->slot_cap = cap;
    return true;
}

static inline bool words_equal(const uint64_t *a, const uint64_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Look up (placed set, state); insert it when new. True when it was new (the
 * search goes on), false when seen before. A full table inserts nothing and
 * only prunes what it already holds: slower, never wrong. */
static inline bool memo_visit(struct search *s, uint64_t hash, int64_t state)
{
    const uint32_t lo = s->lo, hi = s->hi;
    const size_t band = hi - lo, len = 2 + band + s->inf_words;
    const uint64_t *b1 = s->bits + lo, *b2 = s->bits + s->fin_words;
    const uint64_t span = (uint64_t)lo | (uint64_t)hi << 32;
    uint64_t fp = mix64(hash ^ ((uint64_t)state * 0x9E3779B97F4A7C15ULL)) | 1;
    size_t mask = s->slot_cap - 1;
    size_t i = fp & mask;
    for (;; i = (i + 1) & mask) {
        const struct memo_slot *e = &s->slots[i];
        if (!e->fp)
            break;
        if (e->fp == fp) {
            const uint64_t *a = s->arena + e->off;
            if (a[0] == (uint64_t)state && a[1] == span && words_equal(a + 2, b1, band) &&
                words_equal(a + 2 + band, b2, s->inf_words))
                return false;
        }
    }
    if (s->memo_full)
        return true;
    if ((s->slot_n + 1) * 2 > s->slot_cap) {
        if (!memo_grow_table(s)) {
            s->memo_full = true;
            return true;
        }
        mask = s->slot_cap - 1;
        i = fp & mask;
        while (s->slots[i].fp)
            i = (i + 1) & mask;
    }
    if (s->arena_n + len > s->arena_cap) {
        size_t cap = s->arena_cap ? s->arena_cap * 2 : 4096;
        while (cap < s->arena_n + len)
            cap *= 2;
        uint64_t *a = NULL;
        if (memo_bytes(s) + (cap - s->arena_cap) * sizeof *a + kv_bytes(&s->kv) <= s->memory)
            a = sim_realloc(s->arena, cap * sizeof *a);
        if (!a) {
            s->memo_full = true;
            return true;
        }
        s->arena = a;
        s->arena_cap = cap;
    }
    uint64_t *a = s->arena + s->arena_n;
    s->slots[i].fp = fp;
    s->slots[i].off = s->arena_n;
    a[0] = (uint64_t)state;
    a[1] = span;
    for (size_t w = 0; w < band; w++)
        a[2 + w] = b1[w];
    for (size_t w = 0; w < s->inf_words; w++)
        a[2 + band + w] = b2[w];
    s->arena_n += len;
    s->slot_n++;
    return true;
}

/* ==== the placed set ====================================================== */

static inline uint64_t full_word(const struct search *s, size_t w)
{
    return w + 1 == s->fin_words ? s->last_mask : ~UINT64_C(0);
}

static inline void bit_set(struct search *s, uint32_t op)
{
    uint32_t p = s->bitpos[op], w = p >> 6;
    s->bits[w] |= UINT64_C(1) << (p & 63);
    if (w < s->fin_words) {
        if (w >= s->hi)
            s->hi = w + 1;
        while (s->lo < s->fin_words && s->bits[s->lo] == full_word(s, s->lo))
            s->lo++;
    }
}

static inline void bit_clear(struct search *s, uint32_t op)
{
    uint32_t p = s->bitpos[op], w = p >> 6;
    s->bits[w] &= ~(UINT64_C(1) << (p & 63));
    if (w < s->fin_words) {
        if (w < s->lo)
            s->lo = w;
        while (s->hi > 0 && s->bits[s->hi - 1] == 0)
            s->hi--;
    }
}

/* ==== the list of calls and returns ======================================= */

/* Entry 2i is operation i's call, 2i+1 its return; entry 2n is the head. */

static inline void lift(int32_t *nx, int32_t *pv, int32_t e)
{
    nx[pv[e]] = nx[e];
    pv[nx[e]] = pv[e];       /* a call is always followed by something */
    int32_t r = e | 1;
    nx[pv[r]] = nx[r];
    if (nx[r] != NIL_ENTRY)
        pv[nx[r]] = pv[r];
}

static inline void unlift(int32_t *nx, int32_t *pv, int32_t e)
{
    int32_t r = e | 1;
    nx[pv[r]] = r;
    if (nx[r] != NIL_ENTRY)
        pv[nx[r]] = r;
    pv[nx[e]] = e;
    nx[pv[e]] = e;
}

static int sortent_cmp(const void *a, const void *b)
{
    const struct sortent *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    return (x->entry > y->entry) - (x->entry < y->entry);
}

/* ==== one search ========================================================== */

static void search_free(struct search *s)
{
    kv_free(&s->kv);
    sim_free(s->ops);
    sim_free(s->bitpos);
    sim_free(s->pred);
    sim_free(s->need);
    sim_free(s->scratch);
    sim_free(s->twins);
    sim_free(s->wr);
    sim_free(s->obs);
    sim_free(s->puts);
    sim_free(s->next);
    sim_free(s->prev);
    sim_free(s->sorted);
    sim_free(s->stack);
    sim_free(s->bits);
    sim_free(s->zob);
    sim_free(s->slots);
    sim_free(s->arena);
}

/* Symmetry: two operations with the same effect and the same flags, where
 * the first was invoked earlier and completed no later, can always be
 * exchanged in a linearization so that the first comes first (it fits in
 * the second's place and the second in its). So the search places an
 * operation only after its nearest such "dominating twin". pred[i] is that
 * twin, or -1. For info operations (both completions "never") this cuts
 * the 2^k subsets of k identical pending writes down to k + 1. */
static int cmp_twin(const void *pa, const void *pb)
{
    const struct twin *x = pa, *y = pb;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    if (x->a != y->a)
        return x->a < y->a ? -1 : 1;
    if (x->b != y->b)
        return x->b < y->b ? -1 : 1;
    if (x->optional != y->optional)
        return x->optional - y->optional;
    if (x->call != y->call)
        return x->call < y->call ? -1 : 1;
    return (x->op > y->op) - (x->op < y->op);
}

static void load_symmetry(struct search *s)
{
    struct twin *t = s->twins;
    for (size_t i = 0; i < s->n; i++) {
        const struct lop *o = &s->ops[i];
        t[i] = (struct twin){ o->a, o->b, o->call, (int32_t)i, o->kind, o->optional };
        s->pred[i] = -1;
    }
    sim_qsort(t, s->n, sizeof *t, cmp_twin);
    /* within a class, in invocation order: the nearest earlier operation
     * that completes no later (a stack of increasing completions) */
    size_t top = 0;
    int32_t *stack = s->scratch;
    for (size_t j = 0; j < s->n; j++) {
        if (j > 0 && (t[j - 1].kind != t[j].kind || t[j - 1].a != t[j].a || t[j - 1].b != t[j].b ||
                      t[j - 1].optional != t[j].optional))
            top = 0;
        int64_t ret = s->ops[t[j].op].ret;
        while (top > 0 && s->ops[stack[top - 1]].ret > ret)
            top--;
        s->pred[t[j].op] = top > 0 ? stack[top - 1] : -1;
        stack[top++] = t[j].op;
    }
}

static int cmp_writer(const void *pa, const void *pb)
{
    const struct writer *a = pa, *b = pb;
    if (a->v != b->v)
        return a->v < b->v ? -1 : 1;
    if (a->at != b->at)
        return a->at < b->at ? -1 : 1;
    return (a->op > b->op) - (a->op < b->op);
}

/* First index of value v in a sorted writer list, or n. */
static size_t writer_find(const struct writer *w, size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w[mid].v < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* For the feasibility test: who may write each value (register), where the
 * writers of the value each read or cas needs begin; the puts (kv). */
static void load_writers(struct search *s)
{
    s->n_wr = 0;
    s->n_obs = 0;
    s->n_puts = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct lop *o = &s->ops[i];
        s->need[i] = -1;
        if (o->kind == K_WRITE)
            s->wr[s->n_wr++] = (struct writer){ o->a, o->call, (int32_t)i };
        else if (o->kind == K_CAS || o->kind == K_CAS_MAYBE)
            s->wr[s->n_wr++] = (struct writer){ o->b, o->call, (int32_t)i };
        else if (o->kind == K_PUT)
            s->puts[s->n_puts++] = (int32_t)i;
        if ((o->kind == K_READ || o->kind == K_CAS) && !o->optional && o->ret != INF)
            s->obs[s->n_obs++] = (struct writer){ o->a, o->ret, (int32_t)i };
    }
    sim_qsort(s->wr, s->n_wr, sizeof *s->wr, cmp_writer);
    sim_qsort(s->obs, s->n_obs, sizeof *s->obs, cmp_writer);
    /* puts by invocation: finite ones come first in s->ops, then the others */
    for (size_t i = 1; i < s->n_puts; i++)
        for (size_t j = i; j > 0 && s->ops[s->puts[j - 1]].call > s->ops[s->puts[j]].call; j--) {
            int32_t t = s->puts[j];
            s->puts[j] = s->puts[j - 1];
            s->puts[j - 1] = t;
        }
    for (size_t i = 0; i < s->n; i++) {
        const struct lop *o = &s->ops[i];
        if (o->kind != K_READ && o->kind != K_CAS)
            continue;
        size_t lo = writer_find(s->wr, s->n_wr, o->a);
        s->need[i] = lo < s->n_wr && s->wr[lo].v == o->a ? (int32_t)lo : -1;
    }
}

/* Make s's problem: the operations of k invoked at or before pcut (encoded),
 * minus those completed at or before scut (-1: none); operations running
 * across scut are optional. An operation still running at pcut has not
 * answered yet as far as the cut knows: a read is left out, a successful
 * cas becomes a cas that may or may not apply, a write may or may not
 * apply (its completion moves to "never"). false when out of memory. */
static bool search_load(struct search *s, const struct keyops *k, int64_t pcut, int64_t scut)
{
    size_t n = 0;
    for (size_t i = 0; i < k->n; i++)
        if (k->ops[i].call <= pcut && k->ops[i].ret > scut)
            n++;
    if (!grow((void **)&s->ops, &s->cap_ops, n + 1, sizeof *s->ops) ||
        !grow((void **)&s->bitpos, &s->cap_bitpos, n + 1, sizeof *s->bitpos) ||
        !grow((void **)&s->pred, &s->cap_pred, n + 1, sizeof *s->pred) ||
        !grow((void **)&s->need, &s->cap_need, n + 1, sizeof *s->need) ||
        !grow((void **)&s->scratch, &s->cap_scratch, n + 1, sizeof *s->scratch) ||
        !grow((void **)&s->twins, &s->cap_twins, n + 1, sizeof *s->twins) ||
        !grow((void **)&s->wr, &s->cap_wr, n + 1, sizeof *s->wr) ||
        !grow((void **)&s->obs, &s->cap_obs, n + 1, sizeof *s->obs) ||
        !grow((void **)&s->puts, &s->cap_puts, n + 1, sizeof *s->puts))
        return false;
    s->n = 0;
    s->n_fin = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < k->n; i++) {
            const struct lop *l = &k->ops[i];
            if (l->call > pcut || l->ret <= scut)
                continue;
            struct lop o = *l;
            if (l->ret > pcut && l->ret != INF) {
                if (o.kind == K_READ || o.kind == K_GET || o.kind == K_CAS_FAIL)
                    continue;
                if (o.kind == K_CAS)
                    o.kind = K_CAS_MAYBE;
                o.ret = INF;
            }
            if ((o.ret == INF) != (pass == 1))
                continue;
            o.optional = scut >= 0 && l->call < scut;
            s->ops[s->n++] = o;
            if (pass == 0)
                s->n_fin = s->n;
        }
    n = s->n;
    size_t entries = 2 * n + 1;
    size_t cap_e = s->cap_entries;
    if (!grow((void **)&s->next, &cap_e, entries, sizeof *s->next))
        return false;
    cap_e = s->cap_entries;
    if (!grow((void **)&s->prev, &cap_e, entries, sizeof *s->prev))
        return false;
    s->cap_entries = cap_e;
    if (!grow((void **)&s->sorted, &s->cap_sorted, 2 * n + 1, sizeof *s->sorted) ||
        !grow((void **)&s->stack, &s->cap_stack, n + 1, sizeof *s->stack))
        return false;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        s->sorted[m++] = (struct sortent){ s->ops[i].call, (int32_t)(2 * i) };
        if (i < s->n_fin)
            s->sorted[m++] = (struct sortent){ s->ops[i].ret, (int32_t)(2 * i + 1) };
    }
    sim_qsort(s->sorted, m, sizeof *s->sorted, sortent_cmp);
    for (size_t i = s->n_fin; i < n; i++)
        s->sorted[m++] = (struct sortent){ INF, (int32_t)(2 * i + 1) };
    int32_t head = (int32_t)(2 * n), prev = head;
    for (size_t i = 0; i < m; i++) {
        int32_t e = s->sorted[i].entry;
        s->next[prev] = e;
        s->prev[e] = prev;
        prev = e;
    }
    s->next[prev] = NIL_ENTRY;
    s->prev[head] = NIL_ENTRY;
    /* the placed set */
    s->fin_words = (s->n_fin + 63) / 64;
    s->inf_words = (n - s->n_fin + 63) / 64;
    s->words = s->fin_words + s->inf_words;
    s->last_mask = s->n_fin % 64 ? (UINT64_C(1) << (s->n_fin % 64)) - 1 : ~UINT64_C(0);
    if (!grow((void **)&s->bits, &s->cap_bits, s->words + 1, sizeof *s->bits))
        return false;
    memset(s->bits, 0, (s->words + 1) * sizeof *s->bits);
    s->lo = s->hi = 0;
    for (size_t i = 0; i < n; i++)
        s->bitpos[i] = (uint32_t)(i < s->n_fin ? i : s->fin_words * 64 + (i - s->n_fin));
    /* random keys for the incremental hash: the i-th key is always the same */
    if (!grow((void **)&s->zob, &s->cap_zob, n + 1, sizeof *s->zob))
        return false;
    while (s->n_zob < n)
        s->zob[s->n_zob++] = pcg32_next64(&s->zrng);
    load_symmetry(s);
    load_writers(s);
    memo_reset(s);
    s->sp = 0;
    s->oom = false;
    return s->slots != NULL;
}

static inline bool is_placed(const struct search *s, uint32_t op)
{
    uint32_t p = s->bitpos[op];
    return (s->bits[p >> 6] >> (p & 63)) & 1;
}

/* Can the first completion still in the list, entry r, be explained from
 * state st? A necessary condition only (false = certainly not): the value
 * it needs is there, or an operation not yet placed that may write it was
 * invoked before r completed. Catching a dead state here saves trying every
 * subset of the other candidates before the search reaches r. */
static inline bool feasible(struct search *s, int32_t r, int64_t st)
{
    const uint32_t ri = (uint32_t)r >> 1;
    const struct lop *l = &s->ops[ri];
    if (l->optional)
        return true;
    switch (l->kind) {
    case K_READ:
    case K_CAS:
        if (st == l->a || st == REG_ANY)
            return true;
        for (int32_t i = s->need[ri]; i >= 0 && (size_t)i < s->n_wr && s->wr[i].v == l->a; i++) {
            uint32_t w = (uint32_t)s->wr[i].op;
            if (w != ri && s->ops[w].call < l->ret && !is_placed(s, w))
                return true;
        }
        return false;
    default:
        return true;
    }
}

/* Key-value: appends only make the string longer, so the state must be a
 * prefix of what the next get not yet placed returned, unless a put that
 * can still come first holds a prefix of it. The list holds exactly the
 * operations not yet placed, in real-time order: walk it to that get's
 * completion (a little way at most). */
static bool feasible_kv(const struct search *s, int64_t st)
{
    if (st == KV_ANY)
        return true;
    const struct kvstore *kv = &s->kv;
    const int32_t *nx = s->next;
    int64_t puts[16];
    int n_puts = 0, limit = 64;
    for (int32_t e = nx[2 * s->n]; e != NIL_ENTRY && limit-- > 0; e = nx[e]) {
        const struct lop *l = &s->ops[e >> 1];
        if (!(e & 1)) {
            if (l->kind == K_PUT) {
                if (n_puts == 16)
                    return true;
                puts[n_puts++] = l->a;
            }
            continue;
        }
        if (l->kind != K_GET || l->optional)
            continue;
        if (l->ret == INF)
            return true;
        const struct kvget *g = &kv->gets[l->a];
        if (kv_maybe_prefix(kv, st, g))
            return true;
        for (int i = 0; i < n_puts; i++)
            if (kv_maybe_prefix(kv, puts[i], g))
                return true;
        return false;
    }
    return true;
}

/* The state is about to leave value u (register). Every read or cas not yet
 * placed that needs u must then get it from a writer of u not yet placed,
 * invoked before that reader completes: false when some reader cannot. */
static bool can_leave(struct search *s, int64_t u)
{
    size_t i = writer_find(s->obs, s->n_obs, u);
    int64_t first_ret = INF;
    for (; i < s->n_obs && s->obs[i].v == u; i++)
        if (!is_placed(s, (uint32_t)s->obs[i].op)) {
            first_ret = s->obs[i].at;   /* sorted by completion: the earliest */
            break;
        }
    if (first_ret == INF)
        return true;
    for (size_t j = writer_find(s->wr, s->n_wr, u); j < s->n_wr && s->wr[j].v == u; j++) {
        if (s->wr[j].at >= first_ret)
            return false;   /* sorted by invocation: the rest are later still */
        if (!is_placed(s, (uint32_t)s->wr[j].op))
            return true;
    }
    return false;
}

static inline int32_t first_return(const int32_t *nx, int32_t e)
{
    while (e != NIL_ENTRY && !(e & 1))
        e = nx[e];
    return e;
}

/* Register: an operation that may take effect any time or never (entry e)
 * is placed only when it changes the value to one that an operation that
 * could come right after it accepts. In a linearization without useless
 * such operations (one followed by an overwrite, placed last, or changing
 * nothing can be dropped) every one of them is followed at once by an
 * operation that sees its value, and that one is a candidate now: so this
 * loses no linearization, and spares trying each of them at every step. */
static bool worth_placing(const struct search *s, int32_t e, int64_t state, int64_t v)
{
    if (v == state || state == REG_ANY)
        return v != state;
    const int32_t *nx = s->next;
    for (int32_t c = nx[2 * s->n]; c != NIL_ENTRY && !(c & 1); c = nx[c]) {
        if (c == e)
            continue;
        const struct lop *o = &s->ops[c >> 1];
        switch (o->kind) {
        case K_READ:
        case K_CAS:
            if (o->a == v)
                return true;
            break;
        case K_CAS_FAIL:
            if (o->a != v)
                return true;
            break;
        case K_CAS_MAYBE:
            return true;
        default:
            break;
        }
    }
    return false;
}

/* A put is about to be placed (entry put): every append nobody reads that
 * could be placed now goes just before it, where the put wipes it. Doing so
 * is never worse than placing it later (it must be wiped by some put, or
 * placed when forced), so it is not a choice the search must branch on.
 * Pushes a frame (alt 2) per absorbed append and XORs their keys into *hash;
 * returns the new stack size. */
static size_t absorb_unread(struct search *s, int32_t put, int32_t first, int64_t state, size_t sp,
                            uint64_t *hash)
{
    int32_t *nx = s->next, *pv = s->prev;
    for (int32_t e = nx[2 * s->n]; e != NIL_ENTRY && !(e & 1);) {
        int32_t next = nx[e];
        uint32_t op = (uint32_t)e >> 1;
        if (e != put && s->ops[op].unread && (s->pred[op] < 0 || is_placed(s, (uint32_t)s->pred[op]))) {
            lift(nx, pv, e);
            bit_set(s, op);
            *hash ^= s->zob[op];
            s->stack[sp].entry = e;
            s->stack[sp].alt = 2;
            s->stack[sp].first = first;
            s->stack[sp].state = state;
            sp++;
        }
        e = next;
    }
    return sp;
}

/* The search itself, on the loaded problem, from state init, for at most
 * budget steps (added to s->steps). */
static enum lin_verdict search_run(struct search *s, int64_t init, uint64_t budget)
{
    int32_t *nx = s->next, *pv = s->prev;
    const struct lop *ops = s->ops;
    const uint64_t *zob = s->zob;
    const int32_t *pred = s->pred;
    struct frame *stack = s->stack;
    const int32_t head = (int32_t)(2 * s->n);
    int32_t cur = nx[head];
    int32_t first = first_return(nx, cur);
    uint8_t alt = 0;
    int64_t state = init;
    uint64_t hash = 0, steps = 0;
    size_t sp = 0;
    enum lin_verdict verdict = LIN_HOLDS;
    /* Once the first completion left is a "never", every operation left may
     * take effect at the very end, where nothing can contradict it. */
    if (first == NIL_ENTRY || ops[first >> 1].ret == INF)
        goto done;
    memo_visit(s, 0, init);
    for (;;) {
        if (++steps > budget) {
            steps = budget;
            verdict = LIN_UNKNOWN;
            goto done;
        }
        if (!(cur & 1)) {
            uint32_t op = (uint32_t)cur >> 1;
            const struct lop *l = &ops[op];
            int64_t ns = state;
            /* symmetry: an identical operation that dominates this one goes
             * first; an append nobody reads waits until it must go */
            bool ok = (pred[op] < 0 || is_placed(s, (uint32_t)pred[op])) &&
                      (!l->unread || first == (cur | 1));
            if (ok && alt == 0)
                ok = model_step(s, l, state, &ns);
            if (ok && alt == 0 && l->ret == INF && s->reg)
                ok = worth_placing(s, cur, state, ns);
            if (ok) {
                size_t sp0 = sp;
                uint64_t h2 = hash;
                if (l->kind == K_PUT && alt == 0 && s->absorb)
                    sp = absorb_unread(s, cur, first, state, sp, &h2);
                lift(nx, pv, cur);
                int32_t nf = sp != sp0                ? first_return(nx, nx[head])
                             : first == (cur | 1) ? first_return(nx, nx[cur | 1])
                                                  : first;
                h2 ^= zob[op];
                bit_set(s, op);
                bool end = nf == NIL_ENTRY || ops[nf >> 1].ret == INF;
                bool alive = end || (s->reg ? feasible(s, nf, ns) &&
                                                  (ns == state || state == REG_ANY ||
                                                   can_leave(s, state))
                                            : feasible_kv(s, ns));
                if (end || (alive && memo_visit(s, h2, ns))) {
                    stack[sp].entry = cur;
                    stack[sp].alt = alt;
                    stack[sp].first = first;
                    stack[sp].state = state;
                    sp++;
                    if (end)
                        goto done;
                    state = ns;
                    hash = h2;
                    first = nf;
                    cur = nx[head];
                    alt = 0;
                    continue;
                }
                bit_clear(s, op);
                unlift(nx, pv, cur);
                while (sp > sp0) {
                    const struct frame *f = &stack[--sp];
                    unlift(nx, pv, f->entry);
                    bit_clear(s, (uint32_t)f->entry >> 1);
                }
            } else if (s->oom) {
                verdict = LIN_UNKNOWN;
                goto done;
            }
            if (alt == 0 && l->optional)
                alt = 1;
            else {
                cur = nx[cur];
                alt = 0;
            }
        } else {
            if (sp == 0) {
                verdict = LIN_VIOLATED;
                goto done;
            }
            const struct frame *f = &stack[--sp];
            uint32_t op = (uint32_t)f->entry >> 1;
            unlift(nx, pv, f->entry);
            bit_clear(s, op);
            hash ^= zob[op];
            state = f->state;
            first = f->first;
            while (sp > 0 && stack[sp - 1].alt == 2) {   /* appends a put absorbed */
                const struct frame *g = &stack[--sp];
                unlift(nx, pv, g->entry);
                bit_clear(s, (uint32_t)g->entry >> 1);
                hash ^= zob[(uint32_t)g->entry >> 1];
            }
            if (f->alt == 0 && ops[op].optional) {
                cur = f->entry;
                alt = 1;
            } else {
                cur = nx[f->entry];
                alt = 0;
            }
        }
    }
done:
    s->sp = sp;
    s->steps += steps;
    return verdict;
}

/* After a search that held: the order it found, as history indices. Skipped
 * optional operations and the trailing never-completing ones (they need not
 * take effect) are left out; appends a put absorbed are in, just before it. Appends to *out; false when out of memory. */
static bool search_order(const struct search *s, long **out, size_t *n, size_t *cap)
{
    size_t end = s->sp;
    while (end > 0 && s->ops[s->stack[end - 1].entry >> 1].ret == INF)
        end--;
    for (size_t i = 0; i < end; i++) {
        if (s->stack[i].alt == 1)   /* skipped; 2 = absorbed by a put, placed */
            continue;
        if (!grow((void **)out, cap, *n + 1, sizeof **out))
            return false;
        (*out)[(*n)++] = s->ops[s->stack[i].entry >> 1].hist;
    }
    return true;
}

static int64_t initial_state(const struct search *s, int64_t scut)
{
    if (scut >= 0)
        return s->reg ? REG_ANY : KV_ANY;
    return s->reg ? HIST_NIL : 0;   /* kv: node 0 is "" */
}

/* Load and run one cut of a key. */
static enum lin_verdict search_cut(struct search *s, const struct keyops *k, int64_t pcut,
                                   int64_t scut, uint64_t budget, bool *nomem)
{
    if (!search_load(s, k, pcut, scut)) {
        *nomem = true;
        return LIN_UNKNOWN;
    }
    return search_run(s, initial_state(s, scut), budget);
}

/* ==== preparing a key ===================================================== */

static int cmp_i64pair(const void *a, const void *b)
{
    const int64_t *x = a, *y = b;
    if (x[0] != y[0])
        return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* First index in the sorted pairs whose value is v, or -1. */
static long pair_find(const int64_t (*pairs)[2], size_t n, int64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pairs[mid][0] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && pairs[lo][0] == v ? (long)lo : -1;
}

/* Register histories: two sound simplifications of info operations.
 *
 * 1. When exactly one operation can write v and someone saw v (a read that
 *    returned it, a cas that succeeded expecting it), that writer precedes
 *    the first such observer in every linearization; if it is an info
 *    operation, it must have taken effect, and by then: its completion moves
 *    to just before that observer's.
 * 2. When no operation constrains by failing (Jepsen's failed cas), an info
 *    operation whose new value nobody ever observes (no read returns it, no
 *    cas expects it) can always be placed last, where it changes nothing:
 *    it is left out.
 *
 * Without them every info operation stays a candidate to the end and the
 * search grows with 2^(number of info operations). */
static bool simplify_register(struct keyops *k)
{
    bool any_fail = false;
    size_t n_obs = 0, n_pos = 0, n_wr = 0, n_info = 0;
    for (size_t i = 0; i < k->n; i++) {
        const struct lop *l = &k->ops[i];
        any_fail |= l->kind == K_CAS_FAIL;
        n_info += l->ret == INF;
    }
    if (n_info == 0)
        return true;
    int64_t(*obs)[2] = sim_malloc((k->n + 1) * sizeof *obs);   /* every value seen or expected */
    int64_t(*pos)[2] = sim_malloc((k->n + 1) * sizeof *pos);   /* (value, completion) of positive observers */
    int64_t(*wr)[2] = sim_malloc((k->n + 1) * sizeof *wr);     /* (value, index) of writers */
    if (!obs || !pos || !wr) {
        sim_free(obs);
        sim_free(pos);
        sim_free(wr);
        return false;
    }
    for (size_t i = 0; i < k->n; i++) {
        const struct lop *l = &k->ops[i];
        switch (l->kind) {
        case K_READ:
            obs[n_obs][0] = l->a, obs[n_obs++][1] = 0;
            pos[n_pos][0] = l->a, pos[n_pos++][1] = l->ret;
            break;
        case K_CAS:
            obs[n_obs][0] = l->a, obs[n_obs++][1] = 0;
            pos[n_pos][0] = l->a, pos[n_pos++][1] = l->ret;
            wr[n_wr][0] = l->b, wr[n_wr++][1] = (int64_t)i;
            break;
        case K_CAS_FAIL:
            obs[n_obs][0] = l->a, obs[n_obs++][1] = 0;
            break;
        case K_CAS_MAYBE:
            obs[n_obs][0] = l->a, obs[n_obs++][1] = 0;
            wr[n_wr][0] = l->b, wr[n_wr++][1] = (int64_t)i;
            break;
        case K_WRITE:
            wr[n_wr][0] = l->a, wr[n_wr++][1] = (int64_t)i;
            break;
        default:
            break;
        }
    }
    sim_qsort(obs, n_obs, sizeof *obs, cmp_i64pair);
    sim_qsort(pos, n_pos, sizeof *pos, cmp_i64pair);
    sim_qsort(wr, n_wr, sizeof *wr, cmp_i64pair);
    size_t out = 0;
    for (size_t i = 0; i < k->n; i++) {
        struct lop l = k->ops[i];
        if (l.ret == INF && (l.kind == K_WRITE || l.kind == K_CAS_MAYBE)) {
            int64_t v = l.kind == K_WRITE ? l.a : l.b;
            long w = pair_find((const int64_t(*)[2])wr, n_wr, v);
            bool unique = w >= 0 && ((size_t)w + 1 == n_wr || wr[w + 1][0] != v);
            long p = pair_find((const int64_t(*)[2])pos, n_pos, v);
            if (unique && p >= 0 && pos[p][1] != INF) {
                l.ret = pos[p][1] - 1;
                if (l.kind == K_CAS_MAYBE)
                    l.kind = K_CAS;
            } else if (!any_fail && pair_find((const int64_t(*)[2])obs, n_obs, v) < 0)
                continue;
        }
        k->ops[out++] = l;
    }
    k->n = out;
    sim_free(obs);
    sim_free(pos);
    sim_free(wr);
    return true;
}

/* Key-value: mark the appends whose text occurs in no value any get
 * returned. With puts around, such an append was wiped by a put before
 * anyone read it: the search then only places it when it must (its
 * completion comes next) or together with a put (see search_run). Windows
 * of the gets' values are hashed per text length; a text whose hash is not
 * among them certainly occurs nowhere (a collision only means "maybe read").
 * false when out of memory. */
static bool mark_unread(struct search *s, struct keyops *k)
{
    bool any_put = false;
    for (size_t i = 0; i < k->n; i++)
        any_put |= k->ops[i].kind == K_PUT;
    if (!any_put)
        return true;
    const struct kvstore *kv = &s->kv;
    size_t lengths[8], n_lengths = 0;
    for (size_t i = 0; i < k->n; i++) {
        if (k->ops[i].kind != K_APPEND)
            continue;
        size_t len = hist_strlen(s->h, k->ops[i].a), j = 0;
        while (j < n_lengths && lengths[j] != len)
            j++;
        if (j == n_lengths && n_lengths < 8 && len > 0)
            lengths[n_lengths++] = len;
    }
    size_t total = 0;
    for (size_t g = 0; g < kv->n_gets; g++)
        total += kv->gets[g].len;
    size_t cap = 64;
    while (cap < 2 * total + 2)
        cap *= 2;
    uint64_t *set = sim_malloc(cap * sizeof *set);
    if (!set)
        return false;
    for (size_t li = 0; li < n_lengths; li++) {
        size_t len = lengths[li];
        uint64_t bl = kv_pow(len);
        /* 0 marks an empty slot: a window hashing to 0 is stored as 1 */
        memset(set, 0, cap * sizeof *set);
        for (size_t g = 0; g < kv->n_gets; g++) {
            const struct kvget *gg = &kv->gets[g];
            const uint64_t *pre = kv->pre + gg->pre;
            for (size_t i = 0; i + len <= gg->len; i++) {
                uint64_t h = pre[i + len] - pre[i] * bl;
                h += h == 0;
                size_t slot = mix64(h) & (cap - 1);
                while (set[slot] && set[slot] != h)
                    slot = (slot + 1) & (cap - 1);
                set[slot] = h;
            }
        }
        for (size_t i = 0; i < k->n; i++) {
            struct lop *l = &k->ops[i];
            if (l->kind != K_APPEND || hist_strlen(s->h, l->a) != len)
                continue;
            uint64_t h = kv_hash(hist_str(s->h, l->a), len);
            h += h == 0;
            size_t slot = mix64(h) & (cap - 1);
            while (set[slot] && set[slot] != h)
                slot = (slot + 1) & (cap - 1);
            l->unread = set[slot] == 0;
            s->absorb |= l->unread;
        }
    }
    sim_free(set);
    return true;
}

/* Build the search's view of one key from the history indices idx (in
 * invocation order). Key-value strings are interned into s->kv (reset). */
static bool prepare_key(struct search *s, const long *idx, size_t n, struct keyops *k)
{
    s->absorb = false;
    if (!s->reg && !kv_reset(s))
        return false;
    k->ops = sim_malloc((n + 1) * sizeof *k->ops);
    if (!k->ops)
        return false;
    k->n = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *op = hist_op(s->h, (size_t)idx[i]);
        struct lop l = { 0 };
        l.hist = idx[i];
        l.call = 2 * op->invoke_pos + 1;
        bool info = op->type == HIST_INFO;
        l.ret = info ? INF : 2 * op->complete_pos + 1;
        if (op->type == HIST_FAIL) {
            if (!(op->f == HIST_CAS && op->constrains))
                continue;   /* did not take effect */
            l.kind = K_CAS_FAIL;
            l.a = op->arg;
            k->ops[k->n++] = l;
            continue;
        }
        switch ((enum hist_f)op->f) {
        case HIST_READ:
            if (info)
                continue;   /* a read without an answer constrains nothing */
            l.kind = K_READ;
            l.a = op->out;
            break;
        case HIST_WRITE:
            l.kind = K_WRITE;
            l.a = op->arg;
            break;
        case HIST_CAS:
            l.kind = info ? K_CAS_MAYBE : K_CAS;
            l.a = op->arg;
            l.b = op->arg2;
            break;
        case HIST_GET:
            if (info)
                continue;
            l.kind = K_GET;
            l.a = kv_get(s, (int32_t)op->out);
            if (l.a < 0)
                return false;
            break;
        case HIST_PUT:
            l.kind = K_PUT;
            l.a = kv_root(s, (int32_t)op->arg);
            if (l.a < 0)
                return false;
            break;
        case HIST_APPEND:
            l.kind = K_APPEND;
            l.a = op->arg;
            break;
        case HIST_ADD:
        case HIST_REMOVE:
        case HIST_TXN:
            continue;   /* not a register operation; check_run keeps such histories away */
        }
        k->ops[k->n++] = l;
    }
    return s->reg ? simplify_register(k) : mark_unread(s, k);
}

/* ==== describing operations =============================================== */

const char *lin_format_time(const hist *h, int64_t t, char *buf, size_t n)
{
    if (t == HIST_NEVER)
        snprintf(buf, n, "never");
    else if (hist_clock(h) == HIST_CLOCK_LINE)
        snprintf(buf, n, "line %" PRId64, t);
    else if (t == 0)
        snprintf(buf, n, "0 ms");
    else if (t < 1000000)
        snprintf(buf, n, "%.3f ms", (double)t / 1e6);
    else
        snprintf(buf, n, "%.1f ms", (double)t / 1e6);
    return buf;
}

const char *lin_format_value(const hist *h, int64_t v, char *buf, size_t n)
{
    if (hist_model(h) == HIST_REGISTER) {
        if (v == HIST_NIL)
            snprintf(buf, n, "nil");
        else
            snprintf(buf, n, "%" PRId64, v);
    } else {
        const char *s = hist_str(h, v);
        size_t len = hist_strlen(h, v);
        if (len > 40)
            snprintf(buf, n, "\"%.30s...\" (%zu characters)", s, len);
        else
            snprintf(buf, n, "\"%s\"", s);
    }
    return buf;
}

/* "read x=1", "write x=5", "cas x 1->2", "get(k) = \"ab\"", "put(k, \"a\")",
 * "append(k, \"b\")"; a register's key is left out when it is "" (Jepsen's
 * single register). */
static const char *op_what(const hist *h, const struct hist_op *op, char *buf, size_t n)
{
    char v1[96], v2[96];
    const char *key = hist_str(h, op->key);
    bool k = *key != '\0';
    const char *eq = k ? "=" : "";
    const char *sp = k ? " " : "";
    switch ((enum hist_f)op->f) {
    case HIST_READ:
        if (op->type == HIST_OK)
            snprintf(buf, n, "read %s%s%s", key, eq, lin_format_value(h, op->out, v1, sizeof v1));
        else
            snprintf(buf, n, "read%s%s", sp, key);
        break;
    case HIST_WRITE:
        snprintf(buf, n, "write %s%s%s", key, eq, lin_format_value(h, op->arg, v1, sizeof v1));
        break;
    case HIST_GET:
        if (op->type == HIST_OK)
            snprintf(buf, n, "get(%s) = %s", key, lin_format_value(h, op->out, v1, sizeof v1));
        else
            snprintf(buf, n, "get(%s)", key);
        break;
    case HIST_PUT:
        snprintf(buf, n, "put(%s, %s)", key, lin_format_value(h, op->arg, v1, sizeof v1));
        break;
    case HIST_CAS:
        snprintf(buf, n, "cas %s%s%s->%s", key, sp, lin_format_value(h, op->arg, v1, sizeof v1),
                 lin_format_value(h, op->arg2, v2, sizeof v2));
        break;
    case HIST_APPEND:
        snprintf(buf, n, "append(%s, %s)", key, lin_format_value(h, op->arg, v1, sizeof v1));
        break;
    case HIST_ADD:
    case HIST_REMOVE:
        snprintf(buf, n, "%s %s %s", hist_f_name((enum hist_f)op->f), key,
                 lin_format_value(h, op->arg, v1, sizeof v1));
        break;
    case HIST_TXN:
        snprintf(buf, n, "txn of %u micro-operations", (unsigned)op->micro_n);
        break;
    }
    return buf;
}

const char *lin_describe_op(const hist *h, const struct hist_op *op, char *buf, size_t n)
{
    char who[64], what[256];
    snprintf(buf, n, "%s %s", hist_process_label(h, op->process, who, sizeof who),
             op_what(h, op, what, sizeof what));
    return buf;
}

/* ==== reasons ============================================================= */

/* snprintf into buf (n bytes); a sentence too long is cut, never overrun. */
static void say(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, n, fmt, ap);
    va_end(ap);
}

struct reason_ctx {
    const hist *h;
    const long *ops;     /* the key's history indices */
    size_t n;
};

static int64_t hcomplete(const struct hist_op *o)
{
    return o->type == HIST_INFO ? HIST_NEVER : o->complete_pos;
}

/* The value an operation saw for sure: a read's result, a successful cas's
 * expected value. */
static bool observes(const struct hist_op *o, int64_t *v)
{
    if (o->type != HIST_OK)
        return false;
    if (o->f == HIST_READ) {
        *v = o->out;
        return true;
    }
    if (o->f == HIST_CAS) {
        *v = o->arg;
        return true;
    }
    return false;
}

/* May it have written v? Definitely (ok) or possibly (info). */
static bool may_write(const struct hist_op *o, int64_t v)
{
    if (o->type == HIST_FAIL)
        return false;
    return (o->f == HIST_WRITE && o->arg == v) || (o->f == HIST_CAS && o->arg2 == v);
}

static bool surely_writes(const struct hist_op *o, int64_t *v)
{
    if (o->type != HIST_OK)
        return false;
    if (o->f == HIST_WRITE)
        *v = o->arg;
    else if (o->f == HIST_CAS)
        *v = o->arg2;
    else
        return false;
    return true;
}

/* The first part of a sentence about the observing operation x. */
static void observer_clause(const hist *h, const struct hist_op *x, int64_t v, char *buf, size_t n)
{
    char who[64], what[256], t[48], val[96];
    hist_process_label(h, x->process, who, sizeof who);
    lin_format_time(h, x->complete_t, t, sizeof t);
    const char *key = hist_str(h, x->key);
    if (x->f == HIST_READ)
        snprintf(buf, n, "%s %s at %s", who, op_what(h, x, what, sizeof what), t);
    else
        snprintf(buf, n, "%s's %s succeeded at %s (so %s was %s)", who,
                 op_what(h, x, what, sizeof what), t, *key ? key : "the register",
                 lin_format_value(h, v, val, sizeof val));
}

/* Stale read: x saw v, but w (sure to have written another value) completed
 * before x began, and every operation that may write v completed before w
 * began. A proof on its own: nothing can put v back between w and x. */
static bool reason_stale(const struct reason_ctx *c, long xi, char *buf, size_t n, long *cited,
                         size_t *n_cited)
{
    const hist *h = c->h;
    const struct hist_op *x = hist_op(h, (size_t)xi);
    int64_t v;
    if (!observes(x, &v))
        return false;
    long best = -1;
    for (size_t i = 0; i < c->n; i++) {
        const struct hist_op *w = hist_op(h, (size_t)c->ops[i]);
        int64_t u;
        if (c->ops[i] == xi || !surely_writes(w, &u) || u == v ||
            w->complete_pos >= x->invoke_pos)
            continue;
        if (best < 0 || w->invoke_pos > hist_op(h, (size_t)best)->invoke_pos)
            best = c->ops[i];
    }
    if (best < 0)
        return false;
    const struct hist_op *w = hist_op(h, (size_t)best);
    long last_writer = -1;
    for (size_t i = 0; i < c->n; i++) {
        const struct hist_op *y = hist_op(h, (size_t)c->ops[i]);
        if (c->ops[i] == xi || !may_write(y, v))
            continue;
        if (hcomplete(y) >= w->invoke_pos)
            return false;
        if (last_writer < 0 || y->complete_pos > hist_op(h, (size_t)last_writer)->complete_pos)
            last_writer = c->ops[i];
    }
    char first[512], who[64], what[256], t[48], val[96];
    observer_clause(h, x, v, first, sizeof first);
    hist_process_label(h, w->process, who, sizeof who);
    op_what(h, w, what, sizeof what);
    lin_format_time(h, w->complete_t, t, sizeof t);
    const char *fx = hist_f_name((enum hist_f)x->f);
    if (v == HIST_NIL)
        snprintf(buf, n, "%s, but %s's %s had completed at %s, before that %s began "
                         "(nil means never written)", first, who, what, t, fx);
    else
        snprintf(buf, n, "%s, but %s's %s completed at %s, before that %s began, "
                         "and nothing wrote %s afterwards", first, who, what, t, fx,
                 lin_format_value(h, v, val, sizeof val));
    *n_cited = 0;
    if (last_writer >= 0)
        cited[(*n_cited)++] = last_writer;
    cited[(*n_cited)++] = best;
    cited[(*n_cited)++] = xi;
    return true;
}

/* Read from the future: x saw v, but every operation that may write v began
 * after x completed (or there is none). */
static bool reason_future(const struct reason_ctx *c, long xi, char *buf, size_t n, long *cited,
                          size_t *n_cited)
{
    const hist *h = c->h;
    const struct hist_op *x = hist_op(h, (size_t)xi);
    int64_t v;
    if (!observes(x, &v) || v == HIST_NIL)
        return false;
    long first = -1;
    for (size_t i = 0; i < c->n; i++) {
        const struct hist_op *y = hist_op(h, (size_t)c->ops[i]);
        if (c->ops[i] == xi || !may_write(y, v))
            continue;
        if (y->invoke_pos < x->complete_pos)
            return false;
        if (first < 0)
            first = c->ops[i];
    }
    char head[512], val[96];
    observer_clause(h, x, v, head, sizeof head);
    lin_format_value(h, v, val, sizeof val);
    *n_cited = 0;
    if (first < 0) {
        snprintf(buf, n, "%s, but nothing ever wrote %s", head, val);
    } else {
        const struct hist_op *y = hist_op(h, (size_t)first);
        char who[64], what[256], t[48];
        snprintf(buf, n, "%s, but nothing wrote %s before then: %s's %s began only at %s", head,
                 val, hist_process_label(h, y->process, who, sizeof who),
                 op_what(h, y, what, sizeof what), lin_format_time(h, y->invoke_t, t, sizeof t));
        cited[(*n_cited)++] = first;
    }
    cited[(*n_cited)++] = xi;
    return true;
}

/* Two reads disagree: x saw v, y saw u != v, and every operation that may
 * write v or u completed before both began. Whichever of x and y comes
 * second needs its value written after the first one: nothing can. */
static bool reason_disagree(const struct reason_ctx *c, long xi, const long *cands, size_t n_cands,
                            char *buf, size_t n, long *cited, size_t *n_cited)
{
    const hist *h = c->h;
    const struct hist_op *x = hist_op(h, (size_t)xi);
    int64_t v, u;
    if (!observes(x, &v))
        return false;
    for (size_t k = 0; k < n_cands; k++) {
        long yi = cands[k];
        const struct hist_op *y = hist_op(h, (size_t)yi);
        if (yi == xi || !observes(y, &u) || u == v)
            continue;
        int64_t begin = x->invoke_pos < y->invoke_pos ? x->invoke_pos : y->invoke_pos;
        long last_v = -1, last_u = -1;
        bool ok = true;
        for (size_t i = 0; i < c->n && ok; i++) {
            long wi = c->ops[i];
            const struct hist_op *w = hist_op(h, (size_t)wi);
            /* x and y count too: a cas among them may write the other's value */
            bool wv = may_write(w, v), wu = may_write(w, u);
            if (!wv && !wu)
                continue;
            if (hcomplete(w) >= begin)
                ok = false;
            else if (wv && (last_v < 0 || w->complete_pos > hist_op(h, (size_t)last_v)->complete_pos))
                last_v = wi;
            else if (wu && (last_u < 0 || w->complete_pos > hist_op(h, (size_t)last_u)->complete_pos))
                last_u = wi;
        }
        if (!ok)
            continue;
        char first[512], second[512], vs[96], us[96];
        observer_clause(h, x, v, first, sizeof first);
        observer_clause(h, y, u, second, sizeof second);
        lin_format_value(h, v, vs, sizeof vs);
        lin_format_value(h, u, us, sizeof us);
        const char *nil_note = v == HIST_NIL || u == HIST_NIL ? " (nil means never written)" : "";
        say(buf, n, "%s, but %s too, and every write of %s or %s had completed before both "
                    "began: one of the two saw a stale value%s",
            first, second, vs, us, nil_note);
        *n_cited = 0;
        if (last_v >= 0)
            cited[(*n_cited)++] = last_v;
        if (last_u >= 0)
            cited[(*n_cited)++] = last_u;
        cited[(*n_cited)++] = yi;
        cited[(*n_cited)++] = xi;
        return true;
    }
    return false;
}

static bool contains(const char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; m <= n && i <= n - m; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
            return true;
    return false;
}

/* Key-value, a lost append: x's get returned a value that lacks the text of
 * append a, which completed before x began, and no put could come between
 * them. Appends only add to a value, and only a put removes anything. */
static bool reason_kv_lost(const struct reason_ctx *c, long xi, char *buf, size_t n, long *cited,
                           size_t *n_cited)
{
    const hist *h = c->h;
    const struct hist_op *x = hist_op(h, (size_t)xi);
    if (x->f != HIST_GET || x->type != HIST_OK)
        return false;
    const char *got = hist_str(h, x->out);
    size_t got_len = hist_strlen(h, x->out);
    long best = -1;
    for (size_t i = 0; i < c->n; i++) {
        const struct hist_op *a = hist_op(h, (size_t)c->ops[i]);
        if (a->f != HIST_APPEND || a->type != HIST_OK || a->complete_pos >= x->invoke_pos ||
            hist_strlen(h, a->arg) == 0 ||
            contains(got, got_len, hist_str(h, a->arg), hist_strlen(h, a->arg)))
            continue;
        bool put_between = false;
        for (size_t j = 0; j < c->n && !put_between; j++) {
            const struct hist_op *p = hist_op(h, (size_t)c->ops[j]);
            put_between = p->f == HIST_PUT && p->type != HIST_FAIL &&
                          p->invoke_pos < x->complete_pos && hcomplete(p) > a->invoke_pos;
        }
        if (!put_between && (best < 0 || a->complete_pos > hist_op(h, (size_t)best)->complete_pos))
            best = c->ops[i];
    }
    if (best < 0)
        return false;
    const struct hist_op *a = hist_op(h, (size_t)best);
    char who_x[64], who_a[64], what_x[256], what_a[256], tx[48], ta[48];
    say(buf, n, "%s's %s at %s lacks what %s's %s added, though that append completed at %s, "
                "before the get began, and no put could come between them",
        hist_process_label(h, x->process, who_x, sizeof who_x), op_what(h, x, what_x, sizeof what_x),
        lin_format_time(h, x->complete_t, tx, sizeof tx),
        hist_process_label(h, a->process, who_a, sizeof who_a), op_what(h, a, what_a, sizeof what_a),
        lin_format_time(h, a->complete_t, ta, sizeof ta));
    *n_cited = 0;
    cited[(*n_cited)++] = best;
    cited[(*n_cited)++] = xi;
    return true;
}

/* ==== evidence ============================================================ */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Find the evidence for a violated key: the shortest failing prefix (its last
 * completion is the operation that cannot be explained), a linearization of
 * everything before it, and the shortest window of that prefix that fails on
 * its own, from any state. Monotone in both cuts, so both are binary
 * searches. */
static bool find_evidence(struct search *s, const struct keyops *k, uint64_t budget,
                          struct lin_result *res)
{
    bool nomem = false;
    uint64_t start = s->steps;
    res->evidence_complete = true;
    int64_t *rets = sim_malloc((k->n + 1) * sizeof *rets);
    if (!rets)
        return false;
    /* cut points: real completions only (odd), not completions moved before
     * an observer's */
    size_t m = 0;
    for (size_t i = 0; i < k->n; i++)
        if (k->ops[i].ret != INF && (k->ops[i].ret & 1))
            rets[m++] = k->ops[i].ret;
    sim_qsort(rets, m, sizeof *rets, cmp_i64);
#define LEFT() (budget > s->steps - start ? budget - (s->steps - start) : 0)
    /* the shortest failing prefix: the cut at rets[m - 1] fails (it is the
     * whole history but for invocations never answered); find the first */
    if (m == 0) {
        sim_free(rets);
        res->evidence_complete = false;
        return true;
    }
    size_t hi = m - 1;
    long lo_ok = -1;         /* largest index known to hold */
    while ((long)hi > lo_ok + 1) {
        size_t mid = (size_t)(lo_ok + 1 + (long)hi) / 2;
        enum lin_verdict v = search_cut(s, k, rets[mid], -1, LEFT(), &nomem);
        if (nomem) {
            sim_free(rets);
            return false;
        }
        if (v == LIN_VIOLATED)
            hi = mid;
        else if (v == LIN_HOLDS)
            lo_ok = (long)mid;
        else {
            res->evidence_complete = false;
            break;
        }
    }
    int64_t pcut = rets[hi];
    const struct lop *x = NULL;
    for (size_t i = 0; i < k->n; i++)
        if (k->ops[i].ret == pcut) {
            x = &k->ops[i];
            break;
        }
    res->failed_op = x ? x->hist : -1;
    /* the longest linearizable prefix: every event before pcut's (a
     * completion moved to just before pcut, at pcut - 1, belongs to it) */
    size_t cap = 0;
    if (search_cut(s, k, pcut - 2, -1, LEFT(), &nomem) == LIN_HOLDS) {
        if (!search_order(s, &res->prefix, &res->n_prefix, &cap)) {
            sim_free(rets);
            return false;
        }
    } else if (!nomem)
        res->evidence_complete = false;
    if (nomem) {
        sim_free(rets);
        return false;
    }
    /* the shortest window: the largest cut scut < pcut that still fails */
    size_t q = 0;
    while (q < m && rets[q] < pcut)
        q++;
    long wlo = -1, whi = (long)q;   /* wlo: known to fail (-1 = no cut) */
    while (whi - wlo > 1) {
        long mid = (wlo + whi) / 2;
        enum lin_verdict v = search_cut(s, k, pcut, rets[mid], LEFT(), &nomem);
        if (nomem) {
            sim_free(rets);
            return false;
        }
        if (v == LIN_VIOLATED)
            wlo = mid;
        else {
            if (v == LIN_UNKNOWN)
                res->evidence_complete = false;
            whi = mid;
        }
    }
#undef LEFT
    int64_t scut = wlo >= 0 ? rets[wlo] : -1;
    res->window_after = -1;
    res->window = sim_malloc((k->n + 1) * sizeof *res->window);
    if (!res->window) {
        sim_free(rets);
        return false;
    }
    /* the window: the operations that search had (in invocation order) */
    res->n_window = 0;
    for (size_t i = 0; i < k->n; i++) {
        const struct lop *l = &k->ops[i];
        if (scut >= 0 && l->ret == scut)
            res->window_after = l->hist;
        if (l->call <= pcut && l->ret > scut)
            res->window[res->n_window++] = l->hist;
    }
    res->evidence_steps = s->steps - start;
    sim_free(rets);
    return true;
}

static void plural(char *buf, size_t n, size_t count, const char *what)
{
    snprintf(buf, n, "%zu %s%s", count, what, count == 1 ? "" : "s");
}

static void explain(struct search *s, const long *key_ops, size_t n_key_ops, size_t n_searched,
                    struct lin_result *res)
{
    const hist *h = s->h;
    char *buf = res->reason;
    size_t n = sizeof res->reason;
    const char *model = s->reg ? "a single register" : "a single key of a key-value store";
    const char *key = hist_str(h, res->key);
    char ops[64];
    if (!res->has_evidence || res->failed_op < 0) {
        plural(ops, sizeof ops, n_searched, "operation");
        if (*key)
            snprintf(buf, n, "no order of the %s on key %s is consistent with %s", ops, key, model);
        else
            snprintf(buf, n, "no order of the %s is consistent with %s", ops, model);
        return;
    }
    struct reason_ctx c = { h, key_ops, n_key_ops };
    res->cited = sim_malloc(8 * sizeof *res->cited);
    if (res->cited && s->reg) {
        /* Each reason below is a proof on its own. Try the operation that
         * cannot be explained first, then the rest of the window. */
        long x = res->failed_op;
        if (reason_stale(&c, x, buf, n, res->cited, &res->n_cited) ||
            reason_future(&c, x, buf, n, res->cited, &res->n_cited) ||
            reason_disagree(&c, x, res->window, res->n_window, buf, n, res->cited, &res->n_cited))
            return;
        for (size_t i = 0; i < res->n_window; i++)
            if (reason_stale(&c, res->window[i], buf, n, res->cited, &res->n_cited) ||
                reason_future(&c, res->window[i], buf, n, res->cited, &res->n_cited))
                return;
    }
    if (res->cited && !s->reg) {
        if (reason_kv_lost(&c, res->failed_op, buf, n, res->cited, &res->n_cited))
            return;
        for (size_t i = 0; i < res->n_window; i++)
            if (reason_kv_lost(&c, res->window[i], buf, n, res->cited, &res->n_cited))
                return;
    }
    const struct hist_op *x = hist_op(h, (size_t)res->failed_op);
    char who[64], what[256], t0[48], t1[48];
    hist_process_label(h, x->process, who, sizeof who);
    op_what(h, x, what, sizeof what);
    plural(ops, sizeof ops, res->n_window, "operation");
    if (res->window_after >= 0)
        lin_format_time(h, hist_op(h, (size_t)res->window_after)->complete_t, t0, sizeof t0);
    else
        snprintf(t0, sizeof t0, "the start");
    lin_format_time(h, x->complete_t, t1, sizeof t1);
    snprintf(buf, n, "%s's %s, completed at %s, cannot be explained: no order of the %s "
                     "from %s to %s is consistent with %s%s",
             who, what, t1, ops, t0, t1, model,
             res->window_after >= 0 ? ", whatever the value before" : "");
    if (res->cited) {
        res->cited[0] = res->failed_op;
        res->n_cited = 1;
    }
}

/* ==== the checker ========================================================= */

void lin_result_free(struct lin_result *r)
{
    sim_free(r->keys);
    sim_free(r->window);
    sim_free(r->prefix);
    sim_free(r->cited);
    sim_free(r->order);
    memset(r, 0, sizeof *r);
}

int lin_check(const hist *h, const struct lin_options *options, struct lin_result *out)
{
    struct lin_options opt = options ? *options : (struct lin_options){ 0 };
    uint64_t budget = opt.budget ? opt.budget : LIN_DEFAULT_BUDGET;
    memset(out, 0, sizeof *out);
    out->verdict = LIN_UNKNOWN;
    out->key = -1;
    out->failed_op = -1;
    out->window_after = -1;

    size_t n_ops = hist_count(h), n_keys = hist_n_keys(h), n_str = hist_n_strings(h);
    int32_t *key_index = sim_malloc((n_str + 1) * sizeof *key_index);
    size_t *start = sim_calloc(n_keys + 2, sizeof *start);
    long *by_key = sim_malloc((n_ops + 1) * sizeof *by_key);
    out->keys = sim_calloc(n_keys + 1, sizeof *out->keys);
    struct search s = { 0 };
    struct keyops ko = { 0 };
    bool *done = NULL;
    size_t order_cap = 0;
    int rc = HIST_ENOMEM;
    if (!key_index || !start || !by_key || !out->keys)
        goto fail;
    /* bucket the operations by key, keeping invocation order */
    for (size_t i = 0; i < n_str; i++)
        key_index[i] = -1;
    for (size_t k = 0; k < n_keys; k++)
        key_index[hist_key(h, k)] = (int32_t)k;
    for (size_t i = 0; i < n_ops; i++)
        start[key_index[hist_op(h, i)->key] + 1]++;
    for (size_t k = 0; k < n_keys; k++)
        start[k + 1] += start[k];
    {
        size_t *fill = sim_malloc((n_keys + 1) * sizeof *fill);
        if (!fill)
            goto fail;
        memcpy(fill, start, (n_keys + 1) * sizeof *fill);
        for (size_t i = 0; i < n_ops; i++)
            by_key[fill[key_index[hist_op(h, i)->key]]++] = (long)i;
        sim_free(fill);
    }

    s.h = h;
    s.reg = hist_model(h) == HIST_REGISTER;
    s.memory = opt.memory ? opt.memory : LIN_DEFAULT_MEMORY;
    pcg32_seed(&s.zrng, 0x6c696e6561726973ULL, 0x7a6f627269737400ULL);
    out->n_keys = n_keys;
    long first_bad = -1, first_unknown = -1;
    bool nomem = false;
    /* Keys take turns with a growing slice of steps (restarting from
     * scratch each turn), so that a key that fails quickly is found before a
     * hard one has used up the budget: what Porcupine gets from checking
     * keys in parallel. A key that needs N steps costs at most about 7N/3. */
    size_t pending = n_keys;
    done = sim_calloc(n_keys + 1, sizeof *done);
    if (!done)
        goto fail;
    for (size_t k = 0; k < n_keys; k++) {
        out->keys[k].key = hist_key(h, k);
        out->keys[k].verdict = LIN_UNKNOWN;
    }
    bool stop = false;
    for (uint64_t slice = UINT64_C(1) << 14; pending > 0 && !stop; slice *= 4) {
        for (size_t k = 0; k < n_keys && !stop; k++) {
            struct lin_key *lk = &out->keys[k];
            if (done[k])
                continue;
            if (s.steps >= budget) {
                stop = true;
                break;
            }
            uint64_t left = budget - s.steps;
            uint64_t give = pending == 1 || slice >= left ? left : slice;
            sim_free(ko.ops);
            ko.ops = NULL;
            if (!prepare_key(&s, by_key + start[k], start[k + 1] - start[k], &ko))
                goto fail;
            uint64_t before = s.steps;
            enum lin_verdict v = search_cut(&s, &ko, INF - 1, -1, give, &nomem);
            if (nomem)
                goto fail;
            lk->checked = true;
            lk->steps += s.steps - before;
            lk->verdict = v;
            lk->n_ops = ko.n;
            if (v == LIN_UNKNOWN && !s.oom && give < left)
                continue;   /* its turn is over; it goes on next round */
            done[k] = true;
            pending--;
            out->n_ops += ko.n;
            if (v == LIN_VIOLATED) {
                out->keys_violated++;
                if (first_bad < 0)
                    first_bad = (long)k;
                stop = !opt.all_keys;
            } else if (v == LIN_UNKNOWN) {
                out->out_of_memory |= s.oom;
            } else if (opt.linearization &&
                       !search_order(&s, &out->order, &out->n_order, &order_cap))
                goto fail;
        }
    }
    /* unknown: out of memory, or still going when the budget ran out */
    for (size_t k = 0; k < n_keys; k++) {
        const struct lin_key *lk = &out->keys[k];
        if (lk->checked && lk->verdict == LIN_UNKNOWN) {
            out->keys_unknown++;
            if (first_unknown < 0)
                first_unknown = (long)k;
        }
    }
    out->steps = s.steps;
    size_t unchecked = 0;
    for (size_t k = 0; k < n_keys; k++)
        unchecked += !out->keys[k].checked;
    if (first_bad >= 0)
        out->verdict = LIN_VIOLATED;
    else if (out->keys_unknown || unchecked)
        out->verdict = LIN_UNKNOWN;
    else
        out->verdict = LIN_HOLDS;

    if (out->verdict == LIN_HOLDS && out->n_ops == 0) {
        snprintf(out->reason, sizeof out->reason,
                 "no operation has to take effect (none completed, or only failed, unanswered "
                 "or indeterminate ones)");
    } else if (out->verdict == LIN_HOLDS) {
        char ops[64], keys[64];
        plural(ops, sizeof ops, out->n_ops, "operation");
        plural(keys, sizeof keys, n_keys, "key");
        snprintf(out->reason, sizeof out->reason,
                 "the %s on %s can be put in one order that respects real time and what each "
                 "operation returned", ops, keys);
    } else if (out->verdict == LIN_UNKNOWN) {
        long k = first_unknown >= 0 ? first_unknown : 0;
        out->key = n_keys ? out->keys[k].key : -1;
        const char *kn = n_keys ? hist_str(h, out->key) : "";
        snprintf(out->reason, sizeof out->reason,
                 "the search ran out of its budget of %" PRIu64 " steps%s%s%s%s before it could "
                 "decide; try a larger --budget", budget, out->out_of_memory ? " (or of memory)" : "",
                 *kn ? " on key " : "", kn, unchecked > 1 ? " and did not reach every key" : "");
    } else {
        size_t k = (size_t)first_bad;
        out->key = out->keys[k].key;
        const long *key_ops = by_key + start[k];
        size_t n_key_ops = start[k + 1] - start[k];
        if (opt.evidence) {
            sim_free(ko.ops);
            ko.ops = NULL;
            if (!prepare_key(&s, key_ops, n_key_ops, &ko))
                goto fail;
            if (!find_evidence(&s, &ko, budget, out))
                goto fail;
            out->has_evidence = true;
        }
        explain(&s, key_ops, n_key_ops, out->keys[k].n_ops, out);
    }
    rc = 0;
fail:
    if (rc) {
        out->verdict = LIN_UNKNOWN;
        snprintf(out->reason, sizeof out->reason, "out of memory");
    }
    sim_free(ko.ops);
    sim_free(done);
    search_free(&s);
    sim_free(key_index);
    sim_free(start);
    sim_free(by_key);
    return rc;
}
