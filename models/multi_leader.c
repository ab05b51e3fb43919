/* multi_leader: one leader per datacenter, asynchronous replication between
 * the leaders, and the conflicts that follow.
 *
 * Nodes are grouped into `dcs` datacenters: node i is in DC i*dcs/nodes
 * (rounded down), and the first node of each DC is its leader, the others
 * its followers. A leader accepts a write (or an add/remove) at once,
 * applies it, replies ok, and ships the key's new state asynchronously: to
 * the other DCs' leaders and to its own followers, batched every
 * `replicate_every` (0: after each change). Followers apply what their
 * leader sends and redirect writes to it; any node serves reads from its
 * own copy. Every `anti_entropy` a leader also sends its whole map to the
 * same nodes, so messages lost to a partition are made good after it heals.
 *
 * Replication is state-based: a message carries a key's whole state, and
 * the receiver merges it into its own with the `conflict` mode's merge.
 * Merges are idempotent and order-insensitive, so duplicates, reordering
 * and resending are harmless, and replicas that have seen the same states
 * hold the same data. The modes:
 *
 *   lww       (timestamp from the writing leader's clock, leader index) on
 *             each write; the larger stamp wins. A leader whose clock is
 *             behind loses its later writes.
 *   lwwreg    the same register as a state-based CRDT (crdt.h LWW-register).
 *   vv        each version carries a version vector; concurrent versions
 *             are kept side by side as siblings until a write whose causal
 *             context (from a read) covers them supersedes them.
 *   custom    concurrency detected with version vectors, then resolved by
 *             the scenario's Lua function `resolver(key, a, b)`.
 *   gcounter, pncounter, orset   CRDTs (crdt.h), merged by their join.
 *
 * The trace notes each conflict ("what":"conflict") at each leader that
 * resolves one: the key, the versions involved, the resolution (lww,
 * siblings, resolver, merge), the value kept and the values discarded.
 * Followers merge silently: their leader's state always covers theirs.
 *
 * Messages and store values are fixed-layout bytes: a header naming the
 * key and the mode, then the state of that key; a message of the wrong
 * length, mode or content is ignored. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "crdt.h"
#include "model.h"
#include "sort.h"
#include "store.h"
#include "vv.h"

/* ---- formats -------------------------------------------------------------- */

#define ML_KEY_MAX 48        /* key bytes including the NUL */
#define ML_SIBS_MAX 16       /* siblings kept per key (vv mode) */
#define ML_DEDUP 256         /* op ids a leader remembers, against double adds on retry */
#define ML_TIMER_FLUSH 1u
#define ML_TIMER_SYNC 2u

enum ml_mode { ML_LWW, ML_LWWREG, ML_VV, ML_CUSTOM, ML_GCOUNTER, ML_PNCOUNTER, ML_ORSET };

static const char *const ml_mode_names[] = { "lww", "lwwreg", "vv", "custom", "gcounter", "pncounter", "orset" };

/* lww and lwwreg: the register, plus the stamp of the version its writer
 * held when it wrote (seen), which tells a conflict from an overwrite: a
 * version discarded by the merge was a conflict only if the kept version's
 * writer had not seen a version at least as new. */
struct ml_lww {
    struct crdt_lwwreg r;
    int64_t seen_ts;
    int32_t seen_node;       /* -1: the writer held nothing */
    int32_t pad;
};

struct ml_sib {
    int64_t value;
    struct vv v;
};

/* vv and custom: the versions of a key (custom keeps at most one), in
 * canonical order (vector, then value), unused slots zero. */
struct ml_reg {
    uint32_t n;
    uint32_t pad;
    struct ml_sib sib[ML_SIBS_MAX];
};

union ml_val {
    struct ml_lww lww;
    struct ml_reg reg;
    struct crdt_gcounter g;
    struct crdt_pncounter pn;
    struct crdt_orset set;
};

struct ml_kv {
    char key[ML_KEY_MAX];
    bool dirty;              /* changed since the last batch went out */
    union ml_val v;
};
_Static_assert(offsetof(struct ml_kv, key) == 0, "kvmap_find_in needs the key first");

enum ml_msg_type { ML_MSG_UPDATE = 1, ML_MSG_SYNC };

/* A message: this header, then the key's state (ml_state_used bytes). */
struct ml_hdr {
    uint32_t type;
    uint32_t mode;
    char key[ML_KEY_MAX];
};

struct ml_state {
    int self;
    int n;
    int dcs;
    int dc;                  /* this node's datacenter */
    int leader;              /* this DC's leader */
    bool is_leader;
    enum ml_mode mode;
    sim_time replicate_every;
    sim_time anti_entropy;
    bool sync_writes;
    const char **names;

    struct ml_kv *kv;        /* sorted by key */
    size_t n_kv, cap_kv;
    int64_t last_ts;         /* lww: the last stamp this leader gave */
    uint64_t dedup[ML_DEDUP];
    size_t dedup_pos;
    uint64_t conflicts;      /* conflicts this node resolved */
    uint64_t changes;        /* changes to the map since boot (1 at boot) */
    uint64_t checked;        /* changes when ml_check last looked at this node */

    unsigned char *buf;      /* scratch for messages */
};

static const struct model_param ml_params[] = {
    { "dcs", PARAM_INT, "2", NULL,
      "datacenters: node i is in DC floor(i*dcs/nodes); the first node of each DC leads it" },
    { "conflict", PARAM_ENUM, "lww", "lww|vv|custom|gcounter|pncounter|orset|lwwreg",
      "how concurrent writes from different DCs are reconciled (see docs/models/multi-leader.md)" },
    { "replicate_every", PARAM_TIME, "20ms", NULL,
      "a leader ships changed keys in a batch this often; 0 = after each change" },
    { "anti_entropy", PARAM_TIME, "500ms", NULL,
      "a leader sends its whole map to the other leaders and its followers this often; 0 = off" },
    { "sync_writes", PARAM_BOOL, "true", NULL,
      "each applied change is synced to the durable store before the reply" },
    { "resolver", PARAM_FUNC, NULL, NULL,
      "conflict = custom: function(key, a, b) returning the value that replaces concurrent a and b" },
    { NULL, 0, NULL, NULL, NULL },
};

static size_t ml_state_size(enum ml_mode m)
{
    switch (m) {
    case ML_LWW:
    case ML_LWWREG: return sizeof(struct ml_lww);
    case ML_VV:
    case ML_CUSTOM: return sizeof(struct ml_reg);
    case ML_GCOUNTER: return sizeof(struct crdt_gcounter);
    case ML_PNCOUNTER: return sizeof(struct crdt_pncounter);
    case ML_ORSET: return sizeof(struct crdt_orset);
    }
    return 0;
}

/* The bytes of v that carry information: a sibling list or an OR-set is
 * sent and stored without its unused (zero) tail. */
static size_t ml_state_used(enum ml_mode m, const union ml_val *v)
{
    if (m == ML_VV || m == ML_CUSTOM)
        return offsetof(struct ml_reg, sib) + (size_t)v->reg.n * sizeof(struct ml_sib);
    if (m == ML_ORSET)
        return offsetof(struct crdt_orset, dots) + (size_t)v->set.n_dots * sizeof(struct crdt_dot);
    return ml_state_size(m);
}

static enum ml_mode ml_mode_of(const params *p)
{
    for (int m = 0; m <= ML_ORSET; m++)
        if (params_is(p, "conflict", ml_mode_names[m]))
            return (enum ml_mode)m;
    return ML_LWW;
}

/* ---- datacenters ---------------------------------------------------------- */

static int ml_dc_of(int node, int n, int dcs)
{
    return (int)((int64_t)node * dcs / n);
}

static int ml_leader_of(int dc, int n, int dcs)
{
    for (int i = 0; i < n; i++)
        if (ml_dc_of(i, n, dcs) == dc)
            return i;
    return -1;
}

static bool ml_node_is_leader(int node, int n, int dcs)
{
    return ml_leader_of(ml_dc_of(node, n, dcs), n, dcs) == node;
}

/* ---- the map -------------------------------------------------------------- */

static void ml_val_init(const struct ml_state *s, union ml_val *v)
{
    memset(v, 0, sizeof *v);
    switch (s->mode) {
    case ML_LWW:
    case ML_LWWREG:
        crdt_lwwreg_init(&v->lww.r);
        v->lww.seen_node = -1;
        v->lww.seen_ts = 0;
        break;
    case ML_GCOUNTER: crdt_gcounter_init(&v->g, s->n); break;
    case ML_PNCOUNTER: crdt_pncounter_init(&v->pn, s->n); break;
    case ML_ORSET: crdt_orset_init(&v->set, s->n); break;
    case ML_VV:
    case ML_CUSTOM: break;
    }
}

static ptrdiff_t ml_find(const struct ml_state *s, const char *key)
{
    return kvmap_find_in(s->kv, s->n_kv, sizeof *s->kv, key);
}

/* The entry of key, created empty if missing. The pointer is valid until
 * the next insertion. */
static struct ml_kv *ml_entry(struct ml_state *s, const char *key)
{
    ptrdiff_t i = ml_find(s, key);
    if (i >= 0)
        return &s->kv[i];
    size_t pos = (size_t)~i;
    s->kv = kvmap_insert_in(s->kv, &s->n_kv, &s->cap_kv, sizeof *s->kv, pos, key, ML_KEY_MAX);
    struct ml_kv *e = &s->kv[pos];
    ml_val_init(s, &e->v);
    return e;
}

static const struct ml_kv *ml_lookup(const struct ml_state *s, const char *key)
{
    ptrdiff_t i = ml_find(s, key);
    return i >= 0 ? &s->kv[i] : NULL;
}

/* Store the entry's state under "kv/<key>" (synced if sync_writes). */
static void ml_persist(struct ml_state *s, node_ctx *ctx, const struct ml_kv *e)
{
    char skey[ML_KEY_MAX + 8];
    snprintf(skey, sizeof skey, "kv/%s", e->key);
    node_store_put(ctx, skey, &e->v, ml_state_used(s->mode, &e->v));
    if (s->sync_writes)
        node_store_sync(ctx);
}

/* ---- version vectors (vv, custom) ------------------------------------------ */

/* The canonical order of versions: vector entries lexicographically, then
 * the value. Both sides of a conflict sort the same way, whoever holds
 * which, which is what makes sibling lists and resolver calls agree. */
static int ml_sib_cmp(const struct ml_sib *a, const struct ml_sib *b)
{
    uint32_t n = a->v.n > b->v.n ? a->v.n : b->v.n;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x = i < a->v.n ? a->v.c[i] : 0, y = i < b->v.n ? b->v.c[i] : 0;
        if (x != y)
            return x < y ? -1 : 1;
    }
    return (a->value > b->value) - (a->value < b->value);
}

static int ml_sib_qcmp(const void *a, const void *b)
{
    return ml_sib_cmp(a, b);
}

/* The vector that has seen every version of r. */
static void ml_reg_vector(const struct ml_reg *r, int n, struct vv *out)
{
    vv_init(out, n);
    for (uint32_t i = 0; i < r->n; i++)
        vv_merge(out, &r->sib[i].v);
}

static bool ml_has_value(const int64_t *vals, int n, int64_t v)
{
    for (int i = 0; i < n; i++)
        if (vals[i] == v)
            return true;
    return false;
}

static int ml_i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The distinct values of r's siblings, ascending. */
static int ml_reg_values(const struct ml_reg *r, int64_t *out)
{
    int n = 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (!ml_has_value(out, n, r->sib[i].value))
            out[n++] = r->sib[i].value;
    sim_qsort(out, (size_t)n, sizeof *out, ml_i64_cmp);
    return n;
}

static void ml_write_sib(jw *j, const char *origin, const struct ml_sib *sb)
{
    jw_obj(j);
    jw_kstr(j, "origin", origin);
    jw_kint(j, "value", sb->value);
    jw_key(j, "vv");
    vv_write(&sb->v, j);
    jw_obj_end(j);
}

/* ---- conflict notes ---------------------------------------------------------- */

static void ml_note_values(jw *j, const char *key, const int64_t *vals, int n)
{
    jw_key(j, key);
    jw_arr(j);
    for (int i = 0; i < n; i++)
        jw_int(j, vals[i]);
    jw_arr_end(j);
}

static void ml_write_stamp(const struct ml_state *s, jw *j, const char *origin, const struct ml_lww *v)
{
    jw_obj(j);
    jw_kstr(j, "origin", origin);
    jw_kint(j, "value", v->r.value);
    jw_kint(j, "ts", v->r.ts);
    jw_kstr(j, "by", v->r.node >= 0 && v->r.node < s->n ? s->names[v->r.node] : "?");
    jw_obj_end(j);
}

/* ---- merging one key ------------------------------------------------------- */

/* A merge's context: whether to note conflicts (a leader merging another
 * DC's state) and where from. */
struct ml_merge {
    struct ml_state *s;
    node_ctx *ctx;
    const char *key;
    bool note;
    int from;
};

static bool ml_stamp_ge(int64_t ts, int32_t node, const struct crdt_lwwreg *r)
{
    return ts != r->ts ? ts > r->ts : node >= r->node;
}

/* Merge (or apply a local write, origin "write") b into the register a by
 * last write wins, noting a conflict when the discarded version was not
 * seen by the kept one's writer. Returns true if a changed. */
static bool ml_merge_lww(struct ml_merge *m, struct ml_lww *a, const struct ml_lww *b, const char *b_origin)
{
    if (!b->r.has || memcmp(&a->r, &b->r, sizeof a->r) == 0)
        return false;
    bool take = crdt_lwwreg_newer(&b->r, &a->r);
    const struct ml_lww *kept = take ? b : a, *lost = take ? a : b;
    bool conflict = lost->r.has && !(kept->seen_node >= 0 && ml_stamp_ge(kept->seen_ts, kept->seen_node, &lost->r));
    if (conflict && m->note) {
        m->s->conflicts++;
        jw *j = node_note_begin(m->ctx, "conflict");
        if (j) {
            jw_kstr(j, "key", m->key);
            jw_kstr(j, "resolution", m->s->mode == ML_LWW ? "lww" : "merge");
            if (strcmp(b_origin, "write") == 0)
                jw_kstr(j, "why", "the new write's stamp is older than the stored version's: its leader's clock is behind");
            else
                jw_kstr(j, "why", "concurrent writes: neither writer had seen the other's version");
            jw_key(j, "versions");
            jw_arr(j);
            ml_write_stamp(m->s, j, "local", a);
            ml_write_stamp(m->s, j, b_origin, b);
            jw_arr_end(j);
            jw_kint(j, "kept", kept->r.value);
            ml_note_values(j, "discarded", &lost->r.value, 1);
            node_note_end(m->ctx);
        }
    }
    if (take)
        *a = *b;
    return take;
}

static void ml_note_reg(struct ml_merge *m, const char *resolution, const struct ml_reg *a, const struct ml_reg *b,
                        const char *b_origin, const int64_t *kept, int n_kept, const int64_t *lost, int n_lost)
{
    m->s->conflicts++;
    jw *j = node_note_begin(m->ctx, "conflict");
    if (!j)
        return;
    jw_kstr(j, "key", m->key);
    jw_kstr(j, "resolution", resolution);
    jw_key(j, "versions");
    jw_arr(j);
    for (uint32_t i = 0; i < a->n; i++)
        ml_write_sib(j, "local", &a->sib[i]);
    for (uint32_t i = 0; i < b->n; i++)
        ml_write_sib(j, b_origin, &b->sib[i]);
    jw_arr_end(j);
    if (n_kept == 1 && strcmp(resolution, "resolver") == 0)
        jw_kint(j, "kept", kept[0]);
    else
        ml_note_values(j, "kept", kept, n_kept);
    ml_note_values(j, "discarded", lost, n_lost);
    node_note_end(m->ctx);
}

/* vv: the union of both sibling sets, without the versions another one
 * descends from. A conflict is a version of b concurrent with one of a
 * that both survive: they become siblings. Returns true if a changed. */
static bool ml_merge_vv(struct ml_merge *m, struct ml_reg *a, const struct ml_reg *b, const char *b_origin)
{
    struct ml_sib all[2 * ML_SIBS_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->n; i++)
        all[n++] = a->sib[i];
    for (uint32_t i = 0; i < b->n; i++)
        all[n++] = b->sib[i];
    bool keep[2 * ML_SIBS_MAX];
    for (uint32_t i = 0; i < n; i++) {
        keep[i] = true;
        for (uint32_t k = 0; k < n && keep[i]; k++) {
            if (k == i)
                continue;
            enum vv_order o = vv_compare(&all[i].v, &all[k].v);
            if (o == VV_BEFORE || (o == VV_EQUAL && all[i].value == all[k].value && k < i))
                keep[i] = false;
        }
    }
    struct ml_reg out;
    memset(&out, 0, sizeof out);
    struct ml_sib tmp[2 * ML_SIBS_MAX];
    uint32_t t = 0;
    for (uint32_t i = 0; i < n; i++)
        if (keep[i])
            tmp[t++] = all[i];
    sim_qsort(tmp, t, sizeof tmp[0], ml_sib_qcmp);
    /* too many siblings: drop the oldest (smallest in canonical order) */
    uint32_t skip = t > ML_SIBS_MAX ? t - ML_SIBS_MAX : 0;
    for (uint32_t i = skip; i < t; i++)
        out.sib[out.n++] = tmp[i];
    if (memcmp(&out, a, sizeof out) == 0)
        return false;
    bool conflict = false;
    for (uint32_t i = 0; i < a->n && !conflict; i++)
        for (uint32_t k = 0; k < b->n && !conflict; k++)
            conflict = vv_compare(&a->sib[i].v, &b->sib[k].v) == VV_CONCURRENT;
    if ((conflict && m->note && out.n > 1) || skip > 0) {
        int64_t kept[ML_SIBS_MAX], lost[ML_SIBS_MAX];
        int n_kept = ml_reg_values(&out, kept), n_lost = 0;
        for (uint32_t i = 0; i < skip; i++)
            lost[n_lost++] = tmp[i].value;
        ml_note_reg(m, "siblings", a, b, b_origin, kept, n_kept, lost, n_lost);
    }
    *a = out;
    return true;
}

/* custom: one version per key. The newer by vector wins; concurrent
 * versions (or equal vectors with different values) go to the resolver,
 * smaller version first, and the result carries the merged vector, so every
 * replica computes the same. Returns true if a changed. */
static bool ml_merge_custom(struct ml_merge *m, struct ml_reg *a, const struct ml_reg *b, const char *b_origin)
{
    if (b->n == 0)
        return false;
    if (a->n == 0) {
        *a = *b;
        return true;
    }
    const struct ml_sib *x = &a->sib[0], *y = &b->sib[0];
    enum vv_order o = vv_compare(&x->v, &y->v);
    if (o == VV_BEFORE) {
        *a = *b;
        return true;
    }
    if (o == VV_AFTER || (o == VV_EQUAL && x->value == y->value))
        return false;
    const struct ml_sib *lo = ml_sib_cmp(x, y) <= 0 ? x : y, *hi = lo == x ? y : x;
    int64_t r;
    if (node_call(m->ctx, "resolver", m->key, lo->value, hi->value, &r) != 0)
        r = hi->value;   /* the run stops after this event; stay deterministic meanwhile */
    struct ml_reg out;
    memset(&out, 0, sizeof out);
    out.n = 1;
    out.sib[0].value = r;
    out.sib[0].v = x->v;
    vv_merge(&out.sib[0].v, &y->v);
    if (m->note) {
        int64_t lost[2];
        int n_lost = 0;
        if (lo->value != r)
            lost[n_lost++] = lo->value;
        if (hi->value != r && hi->value != lo->value)
            lost[n_lost++] = hi->value;
        ml_note_reg(m, "resolver", a, b, b_origin, &r, 1, lost, n_lost);
    }
    bool changed = memcmp(&out, a, sizeof out) != 0;
    *a = out;
    return changed;
}

static void ml_write_counts(jw *j, const char *key, const struct crdt_gcounter *g)
{
    jw_key(j, key);
    jw_arr(j);
    for (uint32_t i = 0; i < g->n; i++)
        jw_uint(j, g->c[i]);
    jw_arr_end(j);
}

/* A counter merge of concurrent states: the values and the per-node counts
 * (increments p, decrements n) of both sides; nothing is discarded. */
static void ml_note_merge(struct ml_merge *m, const union ml_val *a, const union ml_val *b, int64_t local,
                          int64_t remote, int64_t kept)
{
    m->s->conflicts++;
    jw *j = node_note_begin(m->ctx, "conflict");
    if (!j)
        return;
    jw_kstr(j, "key", m->key);
    jw_kstr(j, "resolution", "merge");
    jw_kstr(j, "why", "concurrent updates: each side has increments the other lacks");
    jw_key(j, "versions");
    jw_arr(j);
    jw_obj(j);
    jw_kstr(j, "origin", "local");
    jw_kint(j, "value", local);
    if (m->s->mode == ML_GCOUNTER) {
        ml_write_counts(j, "counts", &a->g);
    } else {
        ml_write_counts(j, "p", &a->pn.p);
        ml_write_counts(j, "n", &a->pn.n);
    }
    jw_obj_end(j);
    jw_obj(j);
    jw_kstr(j, "origin", m->from >= 0 ? m->s->names[m->from] : "remote");
    jw_kint(j, "value", remote);
    if (m->s->mode == ML_GCOUNTER) {
        ml_write_counts(j, "counts", &b->g);
    } else {
        ml_write_counts(j, "p", &b->pn.p);
        ml_write_counts(j, "n", &b->pn.n);
    }
    jw_obj_end(j);
    jw_arr_end(j);
    jw_kint(j, "kept", kept);
    ml_note_values(j, "discarded", NULL, 0);
    node_note_end(m->ctx);
}

static bool ml_merge_orset(struct ml_merge *m, struct crdt_orset *a, const struct crdt_orset *b)
{
    struct crdt_orset before = *a;
    bool concurrent = !crdt_orset_leq(a, b) && !crdt_orset_leq(b, a);
    if (crdt_orset_merge(a, b) != 0)
        return false;
    if (memcmp(&before, a, sizeof before) == 0)
        return false;
    if (concurrent && m->note) {
        m->s->conflicts++;
        jw *j = node_note_begin(m->ctx, "conflict");
        if (j) {
            int64_t la[SIM_VALUES_MAX], lb[SIM_VALUES_MAX], lk[SIM_VALUES_MAX], gone[2 * SIM_VALUES_MAX];
            int na = crdt_orset_elements(&before, la, SIM_VALUES_MAX);
            int nb = crdt_orset_elements(b, lb, SIM_VALUES_MAX);
            int nk = crdt_orset_elements(a, lk, SIM_VALUES_MAX);
            na = na > SIM_VALUES_MAX ? SIM_VALUES_MAX : na;
            nb = nb > SIM_VALUES_MAX ? SIM_VALUES_MAX : nb;
            nk = nk > SIM_VALUES_MAX ? SIM_VALUES_MAX : nk;
            int ng = 0;
            for (int i = 0; i < na; i++)
                if (!ml_has_value(lk, nk, la[i]) && !ml_has_value(gone, ng, la[i]))
                    gone[ng++] = la[i];
            for (int i = 0; i < nb; i++)
                if (!ml_has_value(lk, nk, lb[i]) && !ml_has_value(gone, ng, lb[i]))
                    gone[ng++] = lb[i];
            sim_qsort(gone, (size_t)ng, sizeof gone[0], ml_i64_cmp);
            jw_kstr(j, "key", m->key);
            jw_kstr(j, "resolution", "merge");
            jw_kstr(j, "why", "concurrent adds/removes: add wins, a remove drops only the adds it saw");
            jw_key(j, "versions");
            jw_arr(j);
            jw_obj(j);
            jw_kstr(j, "origin", "local");
            ml_note_values(j, "elements", la, na);
            jw_obj_end(j);
            jw_obj(j);
            jw_kstr(j, "origin", m->from >= 0 ? m->s->names[m->from] : "remote");
            ml_note_values(j, "elements", lb, nb);
            jw_obj_end(j);
            jw_arr_end(j);
            ml_note_values(j, "kept", lk, nk);
            /* elements one side still had and the merge dropped: removed on the other */
            ml_note_values(j, "discarded", gone, ng);
            node_note_end(m->ctx);
        }
    }
    return true;
}

/* Merge state b into a by the mode's rule; b_origin names b in conflict
 * notes (the sending leader, or "write" for a client write just made).
 * Returns true if a changed. */
static bool ml_merge_val(struct ml_merge *m, union ml_val *a, const union ml_val *b, const char *b_origin)
{
    switch (m->s->mode) {
    case ML_LWW:
    case ML_LWWREG:
        return ml_merge_lww(m, &a->lww, &b->lww, b_origin);
    case ML_VV:
        return ml_merge_vv(m, &a->reg, &b->reg, b_origin);
    case ML_CUSTOM:
        return ml_merge_custom(m, &a->reg, &b->reg, b_origin);
    case ML_GCOUNTER: {
        if (crdt_gcounter_leq(&b->g, &a->g))
            return false;
        bool concurrent = !crdt_gcounter_leq(&a->g, &b->g);
        struct crdt_gcounter before = a->g;
        crdt_gcounter_merge(&a->g, &b->g);
        if (concurrent && m->note) {
            union ml_val was;
            memset(&was, 0, sizeof was);
            was.g = before;
            ml_note_merge(m, &was, b, (int64_t)crdt_gcounter_value(&before), (int64_t)crdt_gcounter_value(&b->g),
                          (int64_t)crdt_gcounter_value(&a->g));
        }
        return true;
    }
    case ML_PNCOUNTER: {
        if (crdt_pncounter_leq(&b->pn, &a->pn))
            return false;
        bool concurrent = !crdt_pncounter_leq(&a->pn, &b->pn);
        struct crdt_pncounter before = a->pn;
        crdt_pncounter_merge(&a->pn, &b->pn);
        if (concurrent && m->note) {
            union ml_val was;
            memset(&was, 0, sizeof was);
            was.pn = before;
            ml_note_merge(m, &was, b, crdt_pncounter_value(&before), crdt_pncounter_value(&b->pn),
                          crdt_pncounter_value(&a->pn));
        }
        return true;
    }
    case ML_ORSET:
        return ml_merge_orset(m, &a->set, &b->set);
    }
    return false;
}

/* ---- replication ----------------------------------------------------------- */

/* Is the received state well-formed for this mode and cluster? */
static bool ml_valid_val(const struct ml_state *s, const union ml_val *v)
{
    size_t size = ml_state_size(s->mode);
    switch (s->mode) {
    case ML_LWW:
    case ML_LWWREG:
        return crdt_lwwreg_valid(&v->lww.r, sizeof v->lww.r) && v->lww.pad == 0
            && (!v->lww.r.has || v->lww.r.node < s->n) && v->lww.seen_node >= -1 && v->lww.seen_node < s->n;
    case ML_VV:
    case ML_CUSTOM:
        if (v->reg.n > (s->mode == ML_CUSTOM ? 1u : ML_SIBS_MAX) || v->reg.pad != 0)
            return false;
        for (uint32_t i = 0; i < v->reg.n; i++)
            if (!vv_valid(&v->reg.sib[i].v, sizeof(struct vv)) || v->reg.sib[i].v.n > (uint32_t)s->n)
                return false;
        return true;
    case ML_GCOUNTER:
        return crdt_gcounter_valid(&v->g, size) && v->g.n <= (uint32_t)s->n;
    case ML_PNCOUNTER:
        return crdt_pncounter_valid(&v->pn, size) && v->pn.p.n <= (uint32_t)s->n && v->pn.n.n <= (uint32_t)s->n;
    case ML_ORSET:
        return crdt_orset_valid(&v->set, size) && v->set.n_nodes <= (uint32_t)s->n;
    }
    return false;
}

/* Read a state of len bytes (from a message or the store) into out: false
 * unless it is exactly a well-formed state's used bytes. */
static bool ml_decode(const struct ml_state *s, const void *bytes, size_t len, union ml_val *out)
{
    size_t prefix = s->mode == ML_VV || s->mode == ML_CUSTOM ? offsetof(struct ml_reg, sib)
                  : s->mode == ML_ORSET ? offsetof(struct crdt_orset, dots) : ml_state_size(s->mode);
    if (len < prefix || len > ml_state_size(s->mode))
        return false;
    memset(out, 0, sizeof *out);
    memcpy(out, bytes, len);
    if ((s->mode == ML_VV || s->mode == ML_CUSTOM) && out->reg.n > ML_SIBS_MAX)
        return false;
    if (s->mode == ML_ORSET && out->set.n_dots > CRDT_SET_DOTS)
        return false;
    return ml_state_used(s->mode, out) == len && ml_valid_val(s, out);
}

/* Who a leader ships its changes to: the other DCs' leaders and its own
 * followers. */
static bool ml_is_target(const struct ml_state *s, int node)
{
    if (node == s->self)
        return false;
    if (ml_dc_of(node, s->n, s->dcs) == s->dc)
        return true;
    return ml_node_is_leader(node, s->n, s->dcs);
}

static void ml_send_entry(struct ml_state *s, node_ctx *ctx, const struct ml_kv *e, uint32_t type)
{
    size_t size = ml_state_used(s->mode, &e->v);
    struct ml_hdr h;
    memset(&h, 0, sizeof h);
    h.type = type;
    h.mode = (uint32_t)s->mode;
    memcpy(h.key, e->key, sizeof h.key);
    memcpy(s->buf, &h, sizeof h);
    memcpy(s->buf + sizeof h, &e->v, size);
    for (int i = 0; i < s->n; i++)
        if (ml_is_target(s, i))
            node_send(ctx, i, s->buf, sizeof h + size);
}

/* Ship every changed key (a batch). */
static void ml_flush(struct ml_state *s, node_ctx *ctx)
{
    for (size_t i = 0; i < s->n_kv; i++)
        if (s->kv[i].dirty) {
            s->kv[i].dirty = false;
            ml_send_entry(s, ctx, &s->kv[i], ML_MSG_UPDATE);
        }
}

/* A key changed on a leader: ship it now, or with the next batch. */
static void ml_changed(struct ml_state *s, node_ctx *ctx, struct ml_kv *e)
{
    s->changes++;
    ml_persist(s, ctx, e);
    if (!s->is_leader)
        return;
    e->dirty = true;
    if (s->replicate_every <= 0)
        ml_flush(s, ctx);
}

static void ml_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct ml_state *s = state;
    struct ml_hdr h;
    if (from < 0 || from >= s->n || from == s->self || len < sizeof h)
        return;
    memcpy(&h, msg, sizeof h);
    if ((h.type != ML_MSG_UPDATE && h.type != ML_MSG_SYNC) || h.mode != (uint32_t)s->mode
        || memchr(h.key, 0, sizeof h.key) == NULL || h.key[0] == 0)
        return;
    /* followers take only their own leader's states; leaders only other DCs' leaders' */
    bool from_leader = ml_node_is_leader(from, s->n, s->dcs);
    bool same_dc = ml_dc_of(from, s->n, s->dcs) == s->dc;
    if (!from_leader || (s->is_leader ? same_dc : !same_dc))
        return;
    union ml_val in;
    if (!ml_decode(s, (const unsigned char *)msg + sizeof h, len - sizeof h, &in))
        return;
    struct ml_kv *e = ml_entry(s, h.key);
    struct ml_merge m = { .s = s, .ctx = ctx, .key = e->key, .note = s->is_leader, .from = from };
    if (ml_merge_val(&m, &e->v, &in, s->names[from]))
        ml_changed(s, ctx, e);
}

static void ml_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct ml_state *s = state;
    if (!s->is_leader)
        return;
    if (tag == ML_TIMER_FLUSH) {
        ml_flush(s, ctx);
        node_timer_set(ctx, s->replicate_every, ML_TIMER_FLUSH);
    } else if (tag == ML_TIMER_SYNC) {
        for (size_t i = 0; i < s->n_kv; i++)
            ml_send_entry(s, ctx, &s->kv[i], ML_MSG_SYNC);
        node_timer_set(ctx, s->anti_entropy, ML_TIMER_SYNC);
    }
}

/* ---- client operations ------------------------------------------------------ */

static bool ml_dedup_seen(const struct ml_state *s, uint64_t id)
{
    for (size_t i = 0; i < ML_DEDUP; i++)
        if (s->dedup[i] == id + 1)
            return true;
    return false;
}

static void ml_dedup_add(struct ml_state *s, uint64_t id)
{
    s->dedup[s->dedup_pos] = id + 1;   /* + 1: zero marks an empty slot */
    s->dedup_pos = (s->dedup_pos + 1) % ML_DEDUP;
}

static void ml_read(struct ml_state *s, node_ctx *ctx, const struct sim_op *op)
{
    const struct ml_kv *e = ml_lookup(s, op->key);
    int64_t vals[SIM_VALUES_MAX];
    if (!e) {
        node_reply_ok(ctx, op, false, 0);
        return;
    }
    switch (s->mode) {
    case ML_LWW:
    case ML_LWWREG:
        node_reply_ok(ctx, op, e->v.lww.r.has != 0, e->v.lww.r.value);
        return;
    case ML_VV:
    case ML_CUSTOM: {
        if (e->v.reg.n == 0) {
            node_reply_ok(ctx, op, false, 0);
            return;
        }
        struct vv all;
        ml_reg_vector(&e->v.reg, s->n, &all);
        int n = ml_reg_values(&e->v.reg, vals);
        if (n == 1) {
            struct sim_reply r = { .status = REPLY_OK, .has_value = true, .value = vals[0], .redirect = -1,
                                   .ctx = &all, .ctx_len = sizeof all };
            node_reply(ctx, op, &r);
        } else {
            node_reply_values(ctx, op, vals, n, &all, sizeof all);
        }
        return;
    }
    case ML_GCOUNTER:
        node_reply_ok(ctx, op, true, (int64_t)crdt_gcounter_value(&e->v.g));
        return;
    case ML_PNCOUNTER:
        node_reply_ok(ctx, op, true, crdt_pncounter_value(&e->v.pn));
        return;
    case ML_ORSET: {
        int n = crdt_orset_elements(&e->v.set, vals, SIM_VALUES_MAX);
        if (n == 0)
            node_reply_ok(ctx, op, false, 0);
        else
            node_reply_values(ctx, op, vals, n > SIM_VALUES_MAX ? SIM_VALUES_MAX : n, NULL, 0);
        return;
    }
    }
}

/* The operation kinds a mode takes, and the refusal for the others. */
static const char *ml_refuse(const struct ml_state *s, enum op_type t)
{
    if (t == OP_CAS)
        return "cas not supported by multi_leader (no consensus between DCs)";
    switch (s->mode) {
    case ML_LWW:
    case ML_LWWREG:
    case ML_VV:
    case ML_CUSTOM:
        return t == OP_WRITE ? NULL : "a register takes write, not add or remove";
    case ML_GCOUNTER:
        return t == OP_ADD ? NULL : t == OP_REMOVE ? "a G-counter only grows" : "a counter takes add, not write";
    case ML_PNCOUNTER:
        return t == OP_ADD || t == OP_REMOVE ? NULL : "a counter takes add or remove, not write";
    case ML_ORSET:
        return t == OP_ADD || t == OP_REMOVE ? NULL : "a set takes add or remove, not write";
    }
    return "unknown operation";
}

/* A write at a leader as a state to merge into the key's entry: a new
 * version that has seen what the leader holds (or, vv with a client
 * context, what the client read). */
static void ml_write_version(struct ml_state *s, node_ctx *ctx, const struct ml_kv *e, const struct sim_op *op,
                             union ml_val *w)
{
    memset(w, 0, sizeof *w);
    if (s->mode == ML_LWW || s->mode == ML_LWWREG) {
        int64_t ts = node_clock(ctx);
        if (ts <= s->last_ts)
            ts = s->last_ts + 1;
        s->last_ts = ts;
        w->lww.r = (struct crdt_lwwreg){ .ts = ts, .node = s->self, .has = 1, .value = op->value };
        w->lww.seen_ts = e->v.lww.r.has ? e->v.lww.r.ts : 0;
        w->lww.seen_node = e->v.lww.r.has ? e->v.lww.r.node : -1;
        return;
    }
    /* vv / custom: the vector the write has seen, plus one of ours */
    struct vv seen;
    if (s->mode == ML_VV && op->ctx && vv_valid(op->ctx, op->ctx_len)) {
        memcpy(&seen, op->ctx, sizeof seen);
        if (seen.n > (uint32_t)s->n)
            vv_init(&seen, s->n);
    } else {
        ml_reg_vector(&e->v.reg, s->n, &seen);
    }
    /* our entry must exceed every version we made of this key */
    uint64_t top = seen.c[s->self];
    for (uint32_t i = 0; i < e->v.reg.n; i++)
        if (e->v.reg.sib[i].v.c[s->self] > top)
            top = e->v.reg.sib[i].v.c[s->self];
    seen.n = (uint32_t)s->n;
    seen.c[s->self] = top + 1;
    w->reg.n = 1;
    w->reg.sib[0].value = op->value;
    w->reg.sib[0].v = seen;
}

/* Apply a client's write, add or remove on this leader; reply. */
static void ml_update(struct ml_state *s, node_ctx *ctx, const struct sim_op *op)
{
    struct ml_kv *e = ml_entry(s, op->key);
    union ml_val w;
    const char *refused = NULL;
    bool changed = false;
    switch (s->mode) {
    case ML_LWW:
    case ML_LWWREG:
    case ML_CUSTOM: {
        ml_write_version(s, ctx, e, op, &w);
        struct ml_merge m = { .s = s, .ctx = ctx, .key = e->key, .note = true, .from = -1 };
        changed = ml_merge_val(&m, &e->v, &w, "write");
        break;
    }
    case ML_VV: {
        /* the write replaces what its vector has seen; siblings it has not
         * seen (written concurrently) stay beside it */
        ml_write_version(s, ctx, e, op, &w);
        struct ml_merge m = { .s = s, .ctx = ctx, .key = e->key, .note = false, .from = -1 };
        uint32_t before = e->v.reg.n;
        changed = ml_merge_vv(&m, &e->v.reg, &w.reg, "write");
        if (before > 1 && e->v.reg.n < before) {
            jw *j = node_note_begin(ctx, "siblings_resolved");
            if (j) {
                jw_kstr(j, "key", e->key);
                jw_kint(j, "value", op->value);
                jw_kint(j, "siblings_before", before);
                jw_kint(j, "siblings_after", e->v.reg.n);
                node_note_end(ctx);
            }
        }
        break;
    }
    case ML_GCOUNTER:
        if (crdt_gcounter_add(&e->v.g, s->self, op->value) != 0)
            refused = "a G-counter only grows";
        changed = !refused && op->value != 0;
        break;
    case ML_PNCOUNTER:
        if (crdt_pncounter_add(&e->v.pn, s->self, op->type == OP_REMOVE ? -op->value : op->value) != 0)
            refused = "increment out of range";
        changed = !refused && op->value != 0;
        break;
    case ML_ORSET:
        if (op->type == OP_ADD) {
            int64_t tmp[SIM_VALUES_MAX];
            if (!crdt_orset_contains(&e->v.set, op->value)
                && crdt_orset_elements(&e->v.set, tmp, SIM_VALUES_MAX) >= SIM_VALUES_MAX)
                refused = "the set is full (64 elements)";
            else if (crdt_orset_add(&e->v.set, s->self, op->value) != 0)
                refused = "the set is full";
            changed = !refused;
        } else {
            changed = crdt_orset_remove(&e->v.set, op->value) > 0;
        }
        break;
    }
    if (refused) {
        node_reply_fail(ctx, op, refused);
        return;
    }
    ml_dedup_add(s, op->id);
    if (changed)
        ml_changed(s, ctx, e);
    node_reply_ok(ctx, op, false, 0);
}

static void ml_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct ml_state *s = state;
    if (!op->key || !op->key[0] || strlen(op->key) >= ML_KEY_MAX) {
        node_reply_fail(ctx, op, "key too long");
        return;
    }
    if (op->type == OP_READ) {
        ml_read(s, ctx, op);
        return;
    }
    const char *refused = ml_refuse(s, op->type);
    if (refused) {
        node_reply_fail(ctx, op, refused);
        return;
    }
    if (!s->is_leader) {
        node_reply_redirect(ctx, op, s->leader, "not the leader of this datacenter");
        return;
    }
    if (ml_dedup_seen(s, op->id)) {
        node_reply_ok(ctx, op, false, 0);   /* a retry of an op already applied */
        return;
    }
    ml_update(s, ctx, op);
}

/* ---- boot ------------------------------------------------------------------- */

static int ml_scan(void *arg, const char *key, const void *val, size_t len)
{
    struct ml_state *s = arg;
    union ml_val v;
    const char *k = key + 3;   /* after "kv/" */
    if (strlen(k) == 0 || strlen(k) >= ML_KEY_MAX || !ml_decode(s, val, len, &v))
        return 0;
    struct ml_kv *e = ml_entry(s, k);
    e->v = v;
    if ((s->mode == ML_LWW || s->mode == ML_LWWREG) && v.lww.r.has && v.lww.r.node == s->self
        && v.lww.r.ts > s->last_ts)
        s->last_ts = v.lww.r.ts;
    return 0;
}

static void *ml_init(node_ctx *ctx)
{
    struct ml_state *s = sim_xcalloc(1, sizeof *s);
    const params *p = node_params(ctx);
    s->self = node_self(ctx);
    s->n = node_count(ctx);
    s->dcs = (int)params_int(p, "dcs");
    if (s->dcs < 1)
        s->dcs = 1;
    if (s->dcs > s->n)
        s->dcs = s->n;
    s->dc = ml_dc_of(s->self, s->n, s->dcs);
    s->leader = ml_leader_of(s->dc, s->n, s->dcs);
    s->is_leader = s->leader == s->self;
    s->mode = ml_mode_of(p);
    s->replicate_every = params_time(p, "replicate_every");
    s->anti_entropy = params_time(p, "anti_entropy");
    s->sync_writes = params_bool(p, "sync_writes");
    s->names = sim_xcalloc((size_t)s->n, sizeof *s->names);
    for (int i = 0; i < s->n; i++)
        s->names[i] = node_name(ctx, i);
    s->buf = sim_xmalloc(sizeof(struct ml_hdr) + sizeof(union ml_val));
    s->last_ts = INT64_MIN;
    s->changes = 1;   /* a (re)booted node is new to ml_check */
    store_scan(node_store(ctx), "kv/", ml_scan, s);
    node_set_role(ctx, s->is_leader ? "leader" : "follower", 0);
    if (s->is_leader) {
        if (s->replicate_every > 0)
            node_timer_set(ctx, s->replicate_every, ML_TIMER_FLUSH);
        if (s->anti_entropy > 0)
            node_timer_set(ctx, s->anti_entropy, ML_TIMER_SYNC);
    }
    return s;
}

static void ml_destroy(void *state)
{
    struct ml_state *s = state;
    if (!s)
        return;
    sim_free(s->names);
    sim_free(s->kv);
    sim_free(s->buf);
    sim_free(s);
}

/* ---- the trace ------------------------------------------------------------- */

static void ml_describe_msg(const void *msg, size_t len, jw *out)
{
    struct ml_hdr h;
    if (len < sizeof h) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&h, msg, sizeof h);
    jw_kstr(out, "type", h.type == ML_MSG_UPDATE ? "update" : h.type == ML_MSG_SYNC ? "sync" : "?");
    if (memchr(h.key, 0, sizeof h.key))
        jw_kstr(out, "key", h.key);
    if (h.mode <= ML_ORSET)
        jw_kstr(out, "conflict", ml_mode_names[h.mode]);
}

/* The value of an entry as the converges checker compares it: an integer,
 * or a sorted list (siblings, a set's elements); false when it has none. */
static bool ml_write_value(const struct ml_state *s, const struct ml_kv *e, jw *out)
{
    int64_t vals[SIM_VALUES_MAX];
    switch (s->mode) {
    case ML_LWW:
    case ML_LWWREG:
        if (!e->v.lww.r.has)
            return false;
        jw_kint(out, e->key, e->v.lww.r.value);
        return true;
    case ML_VV:
    case ML_CUSTOM: {
        int n = ml_reg_values(&e->v.reg, vals);
        if (n == 0)
            return false;
        if (n == 1) {
            jw_kint(out, e->key, vals[0]);
            return true;
        }
        ml_note_values(out, e->key, vals, n);
        return true;
    }
    case ML_GCOUNTER:
        jw_kint(out, e->key, (int64_t)crdt_gcounter_value(&e->v.g));
        return true;
    case ML_PNCOUNTER:
        jw_kint(out, e->key, crdt_pncounter_value(&e->v.pn));
        return true;
    case ML_ORSET: {
        int n = crdt_orset_elements(&e->v.set, vals, SIM_VALUES_MAX);
        ml_note_values(out, e->key, vals, n > SIM_VALUES_MAX ? SIM_VALUES_MAX : n);
        return true;
    }
    }
    return false;
}

static void ml_describe(const void *state, jw *out)
{
    const struct ml_state *s = state;
    jw_kstr(out, "role", s->is_leader ? "leader" : "follower");
    jw_kint(out, "dc", s->dc);
    jw_kstr(out, "leader", s->names[s->leader]);
    jw_kstr(out, "conflict", ml_mode_names[s->mode]);
    jw_kint(out, "conflicts", (int64_t)s->conflicts);
    jw_key(out, "map");
    jw_obj(out);
    for (size_t i = 0; i < s->n_kv; i++)
        ml_write_value(s, &s->kv[i], out);
    jw_obj_end(out);
    /* what decided each value: the stamps (lww) or the vectors (vv, custom) */
    if (s->mode == ML_LWW || s->mode == ML_LWWREG || s->mode == ML_VV || s->mode == ML_CUSTOM) {
        jw_key(out, "versions");
        jw_obj(out);
        for (size_t i = 0; i < s->n_kv; i++) {
            const union ml_val *v = &s->kv[i].v;
            if (s->mode == ML_LWW || s->mode == ML_LWWREG) {
                if (!v->lww.r.has)
                    continue;
                jw_key(out, s->kv[i].key);
                jw_obj(out);
                jw_kint(out, "ts", v->lww.r.ts);
                jw_kstr(out, "by", s->names[v->lww.r.node]);
                jw_obj_end(out);
            } else if (v->reg.n > 0) {
                jw_key(out, s->kv[i].key);
                jw_arr(out);
                for (uint32_t k = 0; k < v->reg.n; k++)
                    vv_write(&v->reg.sib[k].v, out);
                jw_arr_end(out);
            }
        }
        jw_obj_end(out);
    }
}

/* ---- invariants, class, validation ------------------------------------------ */

/* How much of leader i's own updates of a key a state has seen, per part
 * (a PN-counter has two: increments and decrements): its count in a
 * counter, its entry in a version vector, its seq in an OR-set's context.
 * Returns the number of parts; 0 for the LWW modes, which keep no count. */
static int ml_seen_of(enum ml_mode m, const union ml_val *v, int i, uint64_t out[2])
{
    switch (m) {
    case ML_GCOUNTER:
        out[0] = (uint32_t)i < v->g.n ? v->g.c[i] : 0;
        return 1;
    case ML_PNCOUNTER:
        out[0] = (uint32_t)i < v->pn.p.n ? v->pn.p.c[i] : 0;
        out[1] = (uint32_t)i < v->pn.n.n ? v->pn.n.c[i] : 0;
        return 2;
    case ML_ORSET:
        out[0] = (uint32_t)i < v->set.n_nodes ? v->set.ctx[i] : 0;
        return 1;
    case ML_VV:
    case ML_CUSTOM:
        out[0] = 0;
        for (uint32_t k = 0; k < v->reg.n; k++)
            if ((uint32_t)i < v->reg.sib[k].v.n && v->reg.sib[k].v.c[i] > out[0])
                out[0] = v->reg.sib[k].v.c[i];
        return 1;
    case ML_LWW:
    case ML_LWWREG:
        break;
    }
    return 0;
}

/* Only leader i raises entry i (of a counter, a vector, a set's context),
 * and it never forgets what it made while its store keeps every change: so
 * no replica may have seen more of leader i's updates of a key than leader
 * i itself. With sync_writes off a crashed leader can forget, and this
 * catches the damage. Both maps are sorted by key: one merge-join per pair,
 * and only for pairs where a node changed since the last check (this runs
 * after every event; most events change nothing). */
static int ml_check(const struct model_view *view, char *why, size_t whylen)
{
    for (int i = 0; i < view->n_nodes; i++) {
        const struct ml_state *a = view->states[i];
        if (!a || !a->is_leader || a->mode == ML_LWW || a->mode == ML_LWWREG)
            continue;
        for (int j = 0; j < view->n_nodes; j++) {
            const struct ml_state *b = view->states[j];
            if (!b || j == i || (a->changes == a->checked && b->changes == b->checked))
                continue;
            size_t x = 0;
            for (size_t y = 0; y < b->n_kv; y++) {
                const struct ml_kv *e = &b->kv[y];
                while (x < a->n_kv && strcmp(a->kv[x].key, e->key) < 0)
                    x++;
                const union ml_val *own = x < a->n_kv && strcmp(a->kv[x].key, e->key) == 0 ? &a->kv[x].v : NULL;
                uint64_t seen[2], made[2] = { 0, 0 };
                int parts = ml_seen_of(b->mode, &e->v, i, seen);
                if (own)
                    ml_seen_of(a->mode, own, i, made);
                for (int k = 0; k < parts; k++)
                    if (seen[k] > made[k]) {
                        snprintf(why, whylen, "%s has seen %" PRIu64 " of %s's %s of %s, but %s made only %"
                                 PRIu64, b->names[j], seen[k], a->names[i], k ? "decrements" : "updates",
                                 e->key, a->names[i], made[k]);
                        return 1;
                    }
            }
        }
    }
    /* the states are this model's own (the view only fixes the array) */
    for (int i = 0; i < view->n_nodes; i++) {
        struct ml_state *n = view->states[i];
        if (n)
            n->checked = n->changes;
    }
    return 0;
}

/* Every mode: a leader answers from its own DC without waiting for another
 * (EL), and each side of a partition between DCs keeps accepting writes
 * (PA). The modes differ in what they lose, not in when they answer. */
static const char *ml_cap_class(const params *p)
{
    (void)p;
    return "PA/EL";
}

static int ml_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    int64_t dcs = params_int(p, "dcs");
    enum ml_mode mode = ml_mode_of(p);
    if (dcs < 1 || dcs > n_nodes) {
        snprintf(err, errlen, "dcs = %" PRId64 " does not fit %d nodes: every datacenter needs a node "
                 "(1 <= dcs <= nodes)", dcs, n_nodes);
        return -1;
    }
    if (mode != ML_LWW && mode != ML_LWWREG && n_nodes > VV_MAX) {
        snprintf(err, errlen, "conflict = \"%s\" keeps one entry per node in each version (a vector, "
                 "counter or set context), at most %d nodes; this cluster has %d",
                 ml_mode_names[mode], VV_MAX, n_nodes);
        return -1;
    }
    if (mode == ML_CUSTOM && !params_has_func(p, "resolver")) {
        snprintf(err, errlen, "conflict = \"custom\" needs a resolver function in "
                 "cluster{params = {resolver = function(key, a, b) ... end}}");
        return -1;
    }
    if (mode != ML_CUSTOM && params_has_func(p, "resolver")) {
        snprintf(err, errlen, "a resolver function is only called with conflict = \"custom\" (conflict is \"%s\")",
                 ml_mode_names[mode]);
        return -1;
    }
    return 0;
}

const struct model multi_leader_model = {
    .name = "multi_leader",
    .summary = "one leader per datacenter, async replication between them: lww, version vectors, CRDTs, "
               "a Lua resolver",
    .params = ml_params,
    .init = ml_init,
    .destroy = ml_destroy,
    .on_message = ml_on_message,
    .on_timer = ml_on_timer,
    .on_request = ml_on_request,
    .describe_msg = ml_describe_msg,
    .describe = ml_describe,
    .check = ml_check,
    .cap_class = ml_cap_class,
    .validate = ml_validate,
};
