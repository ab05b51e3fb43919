#include "u64map.h"

#include "alloc.h"

#include <string.h>

/* Fibonacci hashing: the top bits of key * 2^64/phi spread sequential keys
 * (from << 32 | to pairs, say) over the table. */
static size_t slot_of(uint64_t key, size_t cap)
{
    return (size_t)((key * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

void u64map_free(struct u64map *m)
{
    sim_free(m->keys);
    sim_free(m->vals);
    sim_free(m->used);
    *m = (struct u64map){ 0 };
}

void u64map_clear(struct u64map *m)
{
    if (m->cap)
        memset(m->used, 0, m->cap);
    m->count = 0;
}

static void insert(struct u64map *m, uint64_t key, uint32_t val)
{
    size_t i = slot_of(key, m->cap);
    while (m->used[i] && m->keys[i] != key)
        i = (i + 1) & (m->cap - 1);
    if (!m->used[i]) {
        m->used[i] = 1;
        m->keys[i] = key;
        m->count++;
    }
    m->vals[i] = val;
}

static void grow(struct u64map *m)
{
    struct u64map old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->keys = sim_xmalloc(m->cap * sizeof *m->keys);
    m->vals = sim_xmalloc(m->cap * sizeof *m->vals);
    m->used = sim_xcalloc(m->cap, 1);
    m->count = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.used[i])
            insert(m, old.keys[i], old.vals[i]);
    sim_free(old.keys);
    sim_free(old.vals);
    sim_free(old.used);
}

void u64map_put(struct u64map *m, uint64_t key, uint32_t val)
{
    if ((m->count + 1) * 2 > m->cap)
        grow(m);
    insert(m, key, val);
}

bool u64map_get(const struct u64map *m, uint64_t key, uint32_t *val)
{
    if (!m->count)
        return false;
    size_t i = slot_of(key, m->cap);
    while (m->used[i]) {
        if (m->keys[i] == key) {
            if (val)
                *val = m->vals[i];
            return true;
        }
        i = (i + 1) & (m->cap - 1);
    }
    return false;
}
