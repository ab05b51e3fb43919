/* A node's durable store: a sorted array of entries, each holding the latest
 * value (what store_get sees) and the durable value (what survives a crash).
 *
 * Entries are allocated one by one and the sorted array holds pointers, so
 * an entry stays put while others are inserted; a second array lists the
 * entries touched since the last sync, so store_sync and store_crash cost
 * the number of pending keys, not the size of the store. */
#include "store.h"
#include "alloc.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

struct value {
    unsigned char *data;   /* owned, unless it is the same buffer in both slots */
    size_t len;
    bool present;
};

struct entry {
    char *key;             /* owned */
    struct value latest;   /* pending writes included */
    struct value durable;  /* as of the last sync */
    bool dirty;            /* latest differs from durable */
    bool touched;          /* listed in s->touched */
};

struct store {
    struct entry **entries;  /* sorted by strcmp of key */
    size_t len, cap;
    struct entry **touched;  /* entries written since the last sync, any order */
    size_t n_touched, touched_cap;
    size_t visible;          /* entries whose latest value is present */
    size_t pending;          /* entries that are dirty */
    unsigned long changes;   /* bumped by every put, del, sync and crash */
};

/* ---- helpers ------------------------------------------------------------ */

/* Index of the first entry whose key is >= key. */
static size_t lower_bound(const store *s, const char *key)
{
    size_t lo = 0, hi = s->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->entries[mid]->key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct entry *find(const store *s, const char *key)
{
    size_t i = lower_bound(s, key);
    if (i < s->len && strcmp(s->entries[i]->key, key) == 0)
        return s->entries[i];
    return NULL;
}

static bool same_value(const struct value *a, const struct value *b)
{
    if (a->present != b->present)
        return false;
    if (!a->present)
        return true;
    return a->len == b->len && (a->data == b->data || memcmp(a->data, b->data, a->len) == 0);
}

/* Free the latest value's buffer unless the durable slot shares it. */
static void drop_latest(struct entry *e)
{
    if (e->latest.data != e->durable.data)
        sim_free(e->latest.data);
    e->latest = (struct value){ NULL, 0, false };
}

static void drop_durable(struct entry *e)
{
    if (e->durable.data != e->latest.data)
        sim_free(e->durable.data);
    e->durable = (struct value){ NULL, 0, false };
}

static void entry_free(struct entry *e)
{
    drop_latest(e);
    drop_durable(e);
    sim_free(e->key);
    sim_free(e);
}

/* Replace the latest value of e (newval is already a private copy or the
 * absent value), then bring the counters and the touched list up to date. */
static void set_latest(store *s, struct entry *e, struct value newval)
{
    if (e->latest.present)
        s->visible--;
    if (e->dirty)
        s->pending--;
    drop_latest(e);
    e->latest = newval;
    if (e->latest.present)
        s->visible++;
    e->dirty = !same_value(&e->latest, &e->durable);
    if (e->dirty)
        s->pending++;
    if (!e->touched) {
        SIM_GROW(s->touched, s->touched_cap, s->n_touched + 1);
        s->touched[s->n_touched++] = e;
        e->touched = true;
    }
    s->changes++;
}

/* Remove the touched entries that hold nothing any more (absent both in the
 * latest and the durable slot), keeping the array sorted, then empty the
 * touched list. */
static void settle_touched(store *s)
{
    for (size_t t = 0; t < s->n_touched; t++) {
        struct entry *e = s->touched[t];
        e->touched = false;
        if (e->latest.present || e->durable.present)
            continue;
        size_t i = lower_bound(s, e->key);
        assert(i < s->len && s->entries[i] == e);
        memmove(&s->entries[i], &s->entries[i + 1], (s->len - i - 1) * sizeof *s->entries);
        s->len--;
        entry_free(e);
    }
    s->n_touched = 0;
    s->changes++;
}

/* ---- the store ---------------------------------------------------------- */

/* An empty store. Never returns NULL (allocation failure exits). Free with
 * store_free. */
store *store_new(void)
{
    return sim_xcalloc(1, sizeof(store));
}

/* Free the store and every key and value it owns. NULL is accepted. */
void store_free(store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->len; i++)
        entry_free(s->entries[i]);
    sim_free(s->entries);
    sim_free(s->touched);
    sim_free(s);
}

/* Write key = the len bytes at val, pending until store_sync. The key and
 * the bytes are copied (val may even point into this store); val may be NULL
 * when len is 0. */
void store_put(store *s, const char *key, const void *val, size_t len)
{
    assert(key && (val || len == 0));
    struct value copy = { sim_xmalloc(len), len, true };
    if (len)
        memcpy(copy.data, val, len);
    size_t i = lower_bound(s, key);
    struct entry *e;
    if (i < s->len && strcmp(s->entries[i]->key, key) == 0) {
        e = s->entries[i];
    } else {
        e = sim_xcalloc(1, sizeof *e);
        e->key = sim_xstrdup(key);
        SIM_GROW(s->entries, s->cap, s->len + 1);
        memmove(&s->entries[i + 1], &s->entries[i], (s->len - i) * sizeof *s->entries);
        s->entries[i] = e;
        s->len++;
    }
    set_latest(s, e, copy);
}

/* Delete key, pending until store_sync: a crash before the sync brings the
 * synced value back. Deleting an absent key does nothing. */
void store_del(store *s, const char *key)
{
    struct entry *e = find(s, key);
    if (!e || !e->latest.present)
        return;
    set_latest(s, e, (struct value){ NULL, 0, false });
}

/* The latest value of key, pending writes included, or NULL if the key is
 * absent. A present empty value gives a non-NULL pointer and *len 0. The
 * pointer belongs to the store and is valid until the next change. len may
 * be NULL. */
const void *store_get(const store *s, const char *key, size_t *len)
{
    const struct entry *e = find(s, key);
    if (!e || !e->latest.present) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = e->latest.len;
    return e->latest.data;
}

/* Make every pending write and delete durable. */
void store_sync(store *s)
{
    for (size_t t = 0; t < s->n_touched; t++) {
        struct entry *e = s->touched[t];
        if (!e->dirty)
            continue;
        drop_durable(e);
        e->durable = e->latest;   /* both slots now share one buffer */
        e->dirty = false;
    }
    s->pending = 0;
    settle_touched(s);
}

/* Forget every write and delete not yet synced: each key returns to its
 * value as of the last store_sync (or disappears if it was never synced). */
void store_crash(store *s)
{
    for (size_t t = 0; t < s->n_touched; t++) {
        struct entry *e = s->touched[t];
        if (!e->dirty)
            continue;
        if (e->latest.present)
            s->visible--;
        drop_latest(e);
        e->latest = e->durable;
        if (e->latest.present)
            s->visible++;
        e->dirty = false;
    }
    s->pending = 0;
    settle_touched(s);
}

/* The number of keys whose latest value differs from their durable one:
 * what a crash now would lose. Writing back the synced bytes, or deleting a
 * key that was never synced, leaves nothing pending. */
size_t store_pending(const store *s)
{
    return s->pending;
}

/* Call fn for each present key that starts with prefix ("" for all), in
 * strcmp order, with its latest value; stop when fn returns nonzero. The
 * key and value passed are valid only during the call. fn may change the
 * store: the scan then goes on from the first key after the one visited. */
void store_scan(const store *s, const char *prefix, store_visit_fn fn, void *arg)
{
    size_t plen = strlen(prefix);
    size_t i = lower_bound(s, prefix);
    char small[128];
    while (i < s->len) {
        const struct entry *e = s->entries[i];
        if (strncmp(e->key, prefix, plen) != 0)
            break;
        if (!e->latest.present) {
            i++;
            continue;
        }
        unsigned long before = s->changes;
        /* Keep a copy of the key, in case fn frees the entry. */
        size_t klen = strlen(e->key) + 1;
        char *key_copy = klen <= sizeof small ? small : sim_xmalloc(klen);
        memcpy(key_copy, e->key, klen);
        int stop = fn(arg, e->key, e->latest.data, e->latest.len);
        if (!stop && s->changes != before) {
            i = lower_bound(s, key_copy);
            if (i < s->len && strcmp(s->entries[i]->key, key_copy) == 0)
                i++;
        } else {
            i++;
        }
        if (key_copy != small)
            sim_free(key_copy);
        if (stop)
            return;
    }
}

/* The number of present keys, pending writes and deletes included. */
size_t store_count(const store *s)
{
    return s->visible;
}
