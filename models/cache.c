/* cache: a cache tier in front of a durable store, three ways.
 *
 * Node n1 (index 0) is the store: a durable map of keys to (value,
 * version), every write synced and given the key's next version. Every
 * other node is a cache in front of it, holding entries for at most `ttl`
 * of its own clock. Clients send their reads and writes to a cache (a
 * workload target); the policy says what the cache does with them:
 *
 * - aside (cache-aside, "lazy loading"): a read hit answers from the cache;
 *   a miss fetches from the store, fills and answers. A write goes to the
 *   store, and once the store has it the cache drops its own entry
 *   (`invalidate`, the default) or leaves it. Other caches keep their copy
 *   until it expires: reads there are stale for up to `ttl`.
 * - through (write-through): a write goes to the store and, once stored,
 *   into the cache, before the client hears ok. One cache alone never
 *   serves a value older than a completed write.
 * - behind (write-behind, write-back): a write goes into the cache only, is
 *   acknowledged at once and marked dirty; every `flush_every` the cache
 *   sends its dirty entries to the store. A crash of the cache loses every
 *   acknowledged write not yet flushed: the cache's memory is all there was.
 *
 * A fill never replaces a newer entry: the store's versions order what a
 * cache learns (a fetch answered before a write but delivered after it
 * cannot roll the cache back), and a dirty entry is never replaced by what
 * the store has. Cache-aside's classic race remains on purpose: a read's
 * fetch answered before a write may fill the cache just after that write
 * invalidated it.
 *
 * Only the store publishes a "map" in its final state: it is the data, and
 * no_lost_writes reads it. A cache publishes its entries as "cached", which
 * no checker compares (caches are not replicas that must converge). Notes:
 * "flush" (a write-behind batch sent: its entries with their client
 * operation ids) and "flushed" (the store has one of them); a write
 * acknowledged by a cache whose op never appears in a "flushed" note was
 * still only in the cache's memory.
 *
 * Messages are one fixed-layout struct, validated by length and content. */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "alloc.h"
#include "kvmap.h"
#include "model.h"
#include "store.h"

/* ---- wire and disk formats ------------------------------------------------ */

#define CACHE_KEY_MAX 48    /* key bytes including the NUL; longer keys are refused */
#define CACHE_STORE 0       /* the store's node index */

enum cache_msg_type {
    CACHE_MSG_GET = 1,      /* cache -> store: what is key? */
    CACHE_MSG_GET_OK,       /* store -> cache: value (if has) and version */
    CACHE_MSG_PUT,          /* cache -> store: key = value (for client op `op`) */
    CACHE_MSG_PUT_OK,       /* store -> cache: stored as version */
};

struct cache_msg {
    uint32_t type;
    int32_t has;            /* GET_OK: the store holds the key */
    uint64_t req;           /* the cache's request id, echoed back */
    int64_t value;
    int64_t version;        /* GET_OK, PUT_OK: the store's version of key */
    uint64_t op;            /* PUT: the client operation that wrote value */
    char key[CACHE_KEY_MAX];
};

/* What the store keeps per key, in memory and on disk under "kv/<key>". */
struct cache_stored {
    int64_t value;
    int64_t version;
};

/* ---- state ---------------------------------------------------------------- */

enum cache_policy { CACHE_ASIDE, CACHE_THROUGH, CACHE_BEHIND };

#define CACHE_TIMER_FLUSH 1u

struct cache_entry {
    char key[CACHE_KEY_MAX];
    int64_t value;
    int64_t version;        /* the store's version this value had (0: never stored) */
    sim_time expires_at;    /* local clock; ignored when ttl is 0 or the entry is dirty */
    bool dirty;             /* write-behind: acknowledged, not yet in the store */
    uint64_t op;            /* dirty: the client operation that wrote value */
};
_Static_assert(offsetof(struct cache_entry, key) == 0, "kvmap_find_in needs the key first");

enum cache_wait { CACHE_WAIT_READ, CACHE_WAIT_WRITE, CACHE_WAIT_FLUSH };

/* A request to the store the cache waits on. */
struct cache_pending {
    uint64_t req;
    enum cache_wait kind;
    struct sim_op op;       /* READ, WRITE: the client operation to answer */
    char key[CACHE_KEY_MAX];
};

struct cache_state {
    int self;
    enum cache_policy policy;
    bool invalidate;
    sim_time ttl;
    sim_time flush_every;

    struct cache_entry *entries;   /* sorted by key; the store's map on node 0 */
    size_t n_entries, cap_entries;

    struct cache_pending *pending;
    size_t n_pending, cap_pending;
    uint64_t next_req;

    uint64_t hits, misses, flushes, writes;
};

static const struct model_param cache_params[] = {
    { "policy", PARAM_ENUM, "aside", "aside|through|behind",
      "what a cache does with a write: store then invalidate (aside), store then cache "
      "(through), cache and flush later (behind)" },
    { "ttl", PARAM_TIME, "1s", NULL,
      "how long a cached entry is served before it is fetched again (0: for ever)" },
    { "invalidate", PARAM_BOOL, "true", NULL,
      "aside: a write through a cache drops that cache's entry once the store has it" },
    { "flush_every", PARAM_TIME, "500ms", NULL,
      "behind: how often a cache sends its dirty entries to the store" },
    { NULL, 0, NULL, NULL, NULL },
};

static const char *cache_policy_name(enum cache_policy p)
{
    return p == CACHE_THROUGH ? "through" : p == CACHE_BEHIND ? "behind" : "aside";
}

/* ---- entries -------------------------------------------------------------- */

/* Index of key in s->entries, or (as ~pos) where it would be inserted. */
static ptrdiff_t cache_find(const struct cache_state *s, const char *key)
{
    return kvmap_find_in(s->entries, s->n_entries, sizeof *s->entries, key);
}

/* The entry for key, created zeroed if absent. key is < CACHE_KEY_MAX long. */
static struct cache_entry *cache_slot(struct cache_state *s, const char *key)
{
    ptrdiff_t i = cache_find(s, key);
    if (i >= 0)
        return &s->entries[i];
    size_t pos = (size_t)~i;
    s->entries = kvmap_insert_in(s->entries, &s->n_entries, &s->cap_entries, sizeof *s->entries,
                                 pos, key, CACHE_KEY_MAX);
    return &s->entries[pos];
}

static void cache_drop(struct cache_state *s, const char *key)
{
    ptrdiff_t i = cache_find(s, key);
    if (i < 0)
        return;
    memmove(&s->entries[i], &s->entries[i + 1], (s->n_entries - (size_t)i - 1) * sizeof *s->entries);
    s->n_entries--;
}

/* The entry a cache may answer from now, or NULL (absent or expired). */
static struct cache_entry *cache_live(struct cache_state *s, node_ctx *ctx, const char *key)
{
    ptrdiff_t i = cache_find(s, key);
    if (i < 0)
        return NULL;
    struct cache_entry *e = &s->entries[i];
    if (e->dirty || s->ttl == 0 || node_clock(ctx) < e->expires_at)
        return e;
    return NULL;
}

static bool key_ok(const char *key)
{
    return memchr(key, 0, CACHE_KEY_MAX) != NULL;
}

/* ---- pending requests ----------------------------------------------------- */

static struct cache_pending *cache_wait_on(struct cache_state *s, enum cache_wait kind,
                                           const char *key)
{
    SIM_GROW(s->pending, s->cap_pending, s->n_pending + 1);
    struct cache_pending *p = &s->pending[s->n_pending++];
    memset(p, 0, sizeof *p);
    p->req = ++s->next_req;
    p->kind = kind;
    memcpy(p->key, key, strlen(key));
    return p;
}

/* Take the pending request req out of the table into *out. */
static bool cache_take(struct cache_state *s, uint64_t req, struct cache_pending *out)
{
    for (size_t i = 0; i < s->n_pending; i++)
        if (s->pending[i].req == req) {
            *out = s->pending[i];
            /* keep the table in request order: lookups scan it, nothing else */
            memmove(&s->pending[i], &s->pending[i + 1], (s->n_pending - i - 1) * sizeof *s->pending);
            s->n_pending--;
            return true;
        }
    return false;
}

static void cache_send(node_ctx *ctx, uint32_t type, uint64_t req, const char *key, int64_t value,
                       uint64_t op)
{
    struct cache_msg m;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.req = req;
    m.value = value;
    m.op = op;
    memcpy(m.key, key, strlen(key));
    node_send(ctx, CACHE_STORE, &m, sizeof m);
}

/* ---- the store (node 0) --------------------------------------------------- */

static void tier_put(struct cache_state *s, node_ctx *ctx, const char *key, int64_t value,
                      int64_t *version)
{
    struct cache_entry *e = cache_slot(s, key);
    e->value = value;
    e->version++;
    *version = e->version;
    char skey[CACHE_KEY_MAX + 8];
    snprintf(skey, sizeof skey, "kv/%s", key);
    struct cache_stored rec = { value, e->version };
    node_store_put(ctx, skey, &rec, sizeof rec);
    node_store_sync(ctx);   /* the store is the durable tier: a write is on disk first */
    s->writes++;
}

static int tier_scan_entry(void *arg, const char *key, const void *val, size_t len)
{
    struct cache_state *s = arg;
    struct cache_stored rec;
    key += 3;   /* "kv/" */
    if (len != sizeof rec || strlen(key) >= CACHE_KEY_MAX)
        return 0;
    memcpy(&rec, val, sizeof rec);
    struct cache_entry *e = cache_slot(s, key);
    e->value = rec.value;
    e->version = rec.version;
    return 0;
}

static void tier_on_message(struct cache_state *s, node_ctx *ctx, int from, const struct cache_msg *m)
{
    struct cache_msg r;
    memset(&r, 0, sizeof r);
    r.req = m->req;
    memcpy(r.key, m->key, sizeof r.key);
    if (m->type == CACHE_MSG_GET) {
        ptrdiff_t i = cache_find(s, m->key);
        r.type = CACHE_MSG_GET_OK;
        if (i >= 0) {
            r.has = 1;
            r.value = s->entries[i].value;
            r.version = s->entries[i].version;
        }
    } else if (m->type == CACHE_MSG_PUT) {
        r.type = CACHE_MSG_PUT_OK;
        r.value = m->value;
        tier_put(s, ctx, m->key, m->value, &r.version);
    } else {
        return;
    }
    node_send(ctx, from, &r, sizeof r);
}

/* Clients may talk to the store directly: it is a plain register map. */
static void tier_on_request(struct cache_state *s, node_ctx *ctx, const struct sim_op *op)
{
    if (op->type == OP_READ) {
        ptrdiff_t i = cache_find(s, op->key);
        node_reply_ok(ctx, op, i >= 0, i >= 0 ? s->entries[i].value : 0);
        return;
    }
    int64_t version;
    tier_put(s, ctx, op->key, op->value, &version);
    node_reply_ok(ctx, op, false, 0);
}

/* ---- a cache (nodes 1..) -------------------------------------------------- */

/* Put what the store said about key (value, version) into the cache, unless
 * the cache already holds something at least as new or a dirty write. */
static void cache_fill(struct cache_state *s, node_ctx *ctx, const char *key, int64_t value,
                       int64_t version)
{
    ptrdiff_t i = cache_find(s, key);
    if (i >= 0 && (s->entries[i].dirty || s->entries[i].version > version))
        return;
    struct cache_entry *e = cache_slot(s, key);
    e->value = value;
    e->version = version;
    e->expires_at = node_clock(ctx) + s->ttl;
}

static void cache_serve(struct cache_state *s, node_ctx *ctx, const struct sim_op *op)
{
    if (op->type == OP_READ) {
        struct cache_entry *e = cache_live(s, ctx, op->key);
        if (e) {
            s->hits++;
            node_reply_ok(ctx, op, true, e->value);
            return;
        }
        s->misses++;
        struct cache_pending *p = cache_wait_on(s, CACHE_WAIT_READ, op->key);
        p->op = *op;
        p->op.ctx = NULL;
        p->op.ctx_len = 0;
        cache_send(ctx, CACHE_MSG_GET, p->req, op->key, 0, 0);
        return;
    }
    if (s->policy == CACHE_BEHIND) {
        struct cache_entry *e = cache_slot(s, op->key);
        e->value = op->value;
        e->dirty = true;
        e->op = op->id;
        node_reply_ok(ctx, op, false, 0);
        return;
    }
    struct cache_pending *p = cache_wait_on(s, CACHE_WAIT_WRITE, op->key);
    p->op = *op;
    p->op.ctx = NULL;
    p->op.ctx_len = 0;
    cache_send(ctx, CACHE_MSG_PUT, p->req, op->key, op->value, op->id);
}

static void cache_on_reply(struct cache_state *s, node_ctx *ctx, const struct cache_msg *m)
{
    struct cache_pending p;
    if (!cache_take(s, m->req, &p) || strcmp(p.key, m->key) != 0)
        return;
    if (p.kind == CACHE_WAIT_READ && m->type == CACHE_MSG_GET_OK) {
        if (m->has)
            cache_fill(s, ctx, m->key, m->value, m->version);
        /* answer with what the cache now holds: the fetched value, or a
         * newer or dirty entry the fill did not replace */
        ptrdiff_t i = cache_find(s, m->key);
        node_reply_ok(ctx, &p.op, i >= 0, i >= 0 ? s->entries[i].value : 0);
    } else if (p.kind == CACHE_WAIT_WRITE && m->type == CACHE_MSG_PUT_OK) {
        if (s->policy == CACHE_THROUGH)
            cache_fill(s, ctx, m->key, m->value, m->version);
        else if (s->invalidate)
            cache_drop(s, m->key);
        node_reply_ok(ctx, &p.op, false, 0);
    } else if (p.kind == CACHE_WAIT_FLUSH && m->type == CACHE_MSG_PUT_OK) {
        ptrdiff_t i = cache_find(s, m->key);
        jw *j = node_note_begin(ctx, "flushed");
        if (j) {
            jw_kstr(j, "key", m->key);
            jw_kint(j, "value", m->value);
            jw_kint(j, "op", (int64_t)m->op);
            jw_kint(j, "version", m->version);
            node_note_end(ctx);
        }
        if (i < 0)
            return;
        struct cache_entry *e = &s->entries[i];
        /* written again since the flush was sent: still dirty */
        if (e->dirty && e->value == m->value) {
            e->dirty = false;
            e->expires_at = node_clock(ctx) + s->ttl;
        }
        if (m->version > e->version)
            e->version = m->version;
    }
}

/* Write-behind: send every dirty entry to the store, noting the batch
 * first (the note must be closed before anything else is traced). */
static void cache_flush(struct cache_state *s, node_ctx *ctx)
{
    size_t dirty = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        dirty += s->entries[i].dirty;
    if (dirty == 0)
        return;
    s->flushes++;
    jw *j = node_note_begin(ctx, "flush");
    if (j) {
        jw_kint(j, "dirty", (int64_t)dirty);
        jw_key(j, "entries");
        jw_arr(j);
        for (size_t i = 0; i < s->n_entries; i++) {
            const struct cache_entry *e = &s->entries[i];
            if (!e->dirty)
                continue;
            jw_obj(j);
            jw_kstr(j, "key", e->key);
            jw_kint(j, "value", e->value);
            jw_kint(j, "op", (int64_t)e->op);
            jw_obj_end(j);
        }
        jw_arr_end(j);
        node_note_end(ctx);
    }
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct cache_entry *e = &s->entries[i];
        if (!e->dirty)
            continue;
        const struct cache_pending *p = cache_wait_on(s, CACHE_WAIT_FLUSH, e->key);
        cache_send(ctx, CACHE_MSG_PUT, p->req, e->key, e->value, e->op);
    }
}

/* ---- callbacks ------------------------------------------------------------ */

/* Boot or restart. The store rebuilds its map from disk; a cache starts
 * empty (whatever it held, dirty or not, died with its memory). */
static void *cache_init(node_ctx *ctx)
{
    struct cache_state *s = sim_xcalloc(1, sizeof *s);
    const params *p = node_params(ctx);
    s->self = node_self(ctx);
    s->policy = params_is(p, "policy", "through") ? CACHE_THROUGH
              : params_is(p, "policy", "behind") ? CACHE_BEHIND : CACHE_ASIDE;
    s->invalidate = params_bool(p, "invalidate");
    s->ttl = params_time(p, "ttl");
    s->flush_every = params_time(p, "flush_every");
    if (s->flush_every < 1)
        s->flush_every = 1;
    if (s->self == CACHE_STORE) {
        store_scan(node_store(ctx), "kv/", tier_scan_entry, s);
        node_set_role(ctx, "store", 0);
    } else {
        node_set_role(ctx, "cache", 0);
        if (s->policy == CACHE_BEHIND)
            node_timer_set(ctx, s->flush_every, CACHE_TIMER_FLUSH);
    }
    return s;
}

static void cache_destroy(void *state)
{
    struct cache_state *s = state;
    if (!s)
        return;
    sim_free(s->entries);
    sim_free(s->pending);
    sim_free(s);
}

static void cache_on_message(void *state, node_ctx *ctx, int from, const void *msg, size_t len)
{
    struct cache_state *s = state;
    struct cache_msg m;
    if (len != sizeof m || from < 0 || from >= node_count(ctx) || from == s->self)
        return;
    memcpy(&m, msg, sizeof m);
    if (!key_ok(m.key) || m.key[0] == '\0')
        return;
    if (s->self == CACHE_STORE)
        tier_on_message(s, ctx, from, &m);
    else if (from == CACHE_STORE && (m.type == CACHE_MSG_GET_OK || m.type == CACHE_MSG_PUT_OK))
        cache_on_reply(s, ctx, &m);
}

static void cache_on_timer(void *state, node_ctx *ctx, uint64_t tag)
{
    struct cache_state *s = state;
    if (tag != CACHE_TIMER_FLUSH)
        return;
    cache_flush(s, ctx);
    node_timer_set(ctx, s->flush_every, CACHE_TIMER_FLUSH);
}

static void cache_on_request(void *state, node_ctx *ctx, const struct sim_op *op)
{
    struct cache_state *s = state;
    if (!op->key || strlen(op->key) >= CACHE_KEY_MAX || op->key[0] == '\0') {
        node_reply_fail(ctx, op, "bad key");
        return;
    }
    if (op->type != OP_READ && op->type != OP_WRITE) {
        node_reply_fail(ctx, op, "the cache serves read and write only");
        return;
    }
    if (s->self == CACHE_STORE)
        tier_on_request(s, ctx, op);
    else
        cache_serve(s, ctx, op);
}

static const char *cache_msg_name(uint32_t type)
{
    switch (type) {
    case CACHE_MSG_GET: return "get";
    case CACHE_MSG_GET_OK: return "get_ok";
    case CACHE_MSG_PUT: return "put";
    case CACHE_MSG_PUT_OK: return "put_ok";
    default: return "?";
    }
}

static void cache_describe_msg(const void *msg, size_t len, jw *out)
{
    struct cache_msg m;
    if (len != sizeof m) {
        jw_kstr(out, "type", "?");
        return;
    }
    memcpy(&m, msg, sizeof m);
    jw_kstr(out, "type", cache_msg_name(m.type));
    if (!key_ok(m.key))
        return;
    jw_kstr(out, "key", m.key);
    jw_kint(out, "req", (int64_t)m.req);
    if (m.type == CACHE_MSG_PUT || m.type == CACHE_MSG_PUT_OK || (m.type == CACHE_MSG_GET_OK && m.has))
        jw_kint(out, "value", m.value);
    if (m.type == CACHE_MSG_GET_OK && !m.has) {
        jw_key(out, "value");
        jw_null(out);
    }
    if (m.type == CACHE_MSG_GET_OK || m.type == CACHE_MSG_PUT_OK)
        jw_kint(out, "version", m.version);
    if (m.type == CACHE_MSG_PUT)
        jw_kint(out, "op", (int64_t)m.op);
}

/* The store publishes its data as "map" (what no_lost_writes and converges
 * read); a cache publishes its entries as "cached", which no checker
 * compares: two caches holding different entries is not a divergence. */
static void cache_describe(const void *state, jw *out)
{
    const struct cache_state *s = state;
    jw_kstr(out, "role", s->self == CACHE_STORE ? "store" : "cache");
    jw_kstr(out, "policy", cache_policy_name(s->policy));
    if (s->self == CACHE_STORE) {
        jw_kint(out, "writes", (int64_t)s->writes);
        jw_key(out, "map");
        jw_obj(out);
        for (size_t i = 0; i < s->n_entries; i++)
            jw_kint(out, s->entries[i].key, s->entries[i].value);
        jw_obj_end(out);
        jw_key(out, "versions");
        jw_obj(out);
        for (size_t i = 0; i < s->n_entries; i++)
            jw_kint(out, s->entries[i].key, s->entries[i].version);
        jw_obj_end(out);
        return;
    }
    size_t dirty = 0;
    for (size_t i = 0; i < s->n_entries; i++)
        dirty += s->entries[i].dirty;
    jw_kint(out, "hits", (int64_t)s->hits);
    jw_kint(out, "misses", (int64_t)s->misses);
    jw_kint(out, "dirty", (int64_t)dirty);
    jw_kint(out, "flushes", (int64_t)s->flushes);
    jw_kint(out, "waiting", (int64_t)s->n_pending);
    jw_key(out, "cached");
    jw_obj(out);
    for (size_t i = 0; i < s->n_entries; i++)
        jw_kint(out, s->entries[i].key, s->entries[i].value);
    jw_obj_end(out);
}

/* A cluster needs the store and at least one cache to be worth running, but
 * the store alone still works (clients then talk to it directly). */
static int cache_validate(const params *p, int n_nodes, char *err, size_t errlen)
{
    (void)n_nodes;
    if (params_is(p, "policy", "behind") && params_time(p, "flush_every") < 1) {
        snprintf(err, errlen, "flush_every must be above 0 for policy = \"behind\"");
        return -1;
    }
    return 0;
}

const struct model cache_model = {
    .name = "cache",
    .summary = "a store (n1) behind caches (n2..): cache-aside, write-through, write-behind",
    .params = cache_params,
    .init = cache_init,
    .destroy = cache_destroy,
    .on_message = cache_on_message,
    .on_timer = cache_on_timer,
    .on_request = cache_on_request,
    .describe_msg = cache_describe_msg,
    .describe = cache_describe,
    .validate = cache_validate,
};
