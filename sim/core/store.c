/* A node's durable store: a sorted array of entries, each holding the latest
 * value (what store_get sees) and the durable value (what survives a crash).
 *
 * Entries are allocated one by one and the sorted array holds pointers, so
 * an entry stays put while others are inserted; a second array lists the
 * entries touched since the last sync, so store_sync and store_crash cost
 * the number of pending keys, not the size of the store. */
#include "store.h"
#include "alloc.h"
#include "sort.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

struct value {
    unsigned char *data;   /* owned, unless it is the same buffer in both slots */
    size_t len;
    bool present;
};

struct entry {
    struct value latest;   /* pending writes included */
    struct value durable;  /* as of the last sync */
    bool dirty;            /* latest differs from durable */
    bool touched;          /* listed in s->touched */
    char key[];            /* in the same allocation as the entry */
};

struct store {
    struct entry **entries;  /* sorted by strcmp of key */
    size_t len, cap;
    struct entry **touched;  /* entries written since the last sync, any order */
    size_t n_touched, touched_cap;
    size_t visible;          /* entries whose latest value is present */
    size_t pending;          /* entries that are dirty */
    unsigned long changes;   /* bumped by every put, del, sync and crash */
    size_t *doomed;          /* settle_touched's scratch: indices to remove */
    size_t doomed_cap;
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

static int cmp_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

static bool holds_nothing(const struct entry *e)
{
    return !e->latest.present && !e->durable.present;
}

/* Remove the touched entries that hold nothing any more (absent both in the
 * latest and the durable slot), keeping the array sorted, then empty the
 * touched list. Removing k of n entries costs O(n) or O(k log n), not k
 * memmoves of the array's tail as it did (a Raft compaction deletes a long
 * run of the lowest keys at once, and that was 5% of a Raft run): many
 * removals close the array up in one pass; a few are found by binary
 * search, their indices sorted (they usually come sorted already), and the
 * kept runs between them moved once. Untouched entries never hold nothing
 * (they were settled before), so both ways remove the same entries. */
static void settle_touched(store *s)
{
    size_t n_doomed = 0;
    for (size_t t = 0; t < s->n_touched; t++) {
        s->touched[t]->touched = false;
        n_doomed += holds_nothing(s->touched[t]);
    }
    if (n_doomed > 0 && n_doomed * 8 >= s->len) {
        size_t to = 0;
        for (size_t i = 0; i < s->len; i++) {
            struct entry *e = s->entries[i];
            if (holds_nothing(e))
                entry_free(e);
            else
                s->entries[to++] = e;
        }
        s->len = to;
    } else if (n_doomed > 0) {
        SIM_GROW(s->doomed, s->doomed_cap, n_doomed);
        size_t k = 0;
        bool sorted = true;
        for (size_t t = 0; t < s->n_touched; t++) {
            struct entry *e = s->touched[t];
            if (!holds_nothing(e))
                continue;
            size_t i = lower_bound(s, e->key);
            assert(i < s->len && s->entries[i] == e);
            sorted = sorted && (k == 0 || s->doomed[k - 1] < i);
            s->doomed[k++] = i;
        }
        if (!sorted)
            sim_qsort(s->doomed, k, sizeof *s->doomed, cmp_index);
        size_t to = s->doomed[0];
        for (size_t d = 0; d < k; d++) {
            size_t from = s->doomed[d] + 1;   /* the kept run after this doomed entry */
            size_t end = d + 1 < k ? s->doomed[d + 1] : s->len;
            entry_free(s->entries[s->doomed[d]]);
            memmove(&s->entries[to], &s->entries[from], (end - from) * sizeof *s->entries);
            to += end - from;
        }
        s->len = to;
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
    sim_free(s->doomed);
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
    /* Keys often arrive in increasing order (a log's next index): one
     * comparison with the last key places them without a search. */
    size_t i = s->len > 0 && strcmp(s->entries[s->len - 1]->key, key) < 0 ? s->len : lower_bound(s, key);
    struct entry *e;
    if (i < s->len && strcmp(s->entries[i]->key, key) == 0) {
        e = s->entries[i];
    } else {
        size_t klen = strlen(key) + 1;
        e = sim_xmalloc(sizeof *e + klen);
        *e = (struct entry){ .latest = { NULL, 0, false } };
        memcpy(e->key, key, klen);
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
