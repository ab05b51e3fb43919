/* The sorted key-value map of the replicated models; see kvmap.h. */
#include "kvmap.h"

#include <string.h>

#include "alloc.h"

ptrdiff_t kvmap_find_in(const void *entries, size_t n, size_t stride, const char *key)
{
    const char *base = entries;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(base + mid * stride, key);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ~(ptrdiff_t)lo;
}

void *kvmap_insert_in(void *entries, size_t *n, size_t *cap, size_t stride, size_t pos,
                      const char *key, size_t key_max)
{
    sim_grow(&entries, cap, *n + 1, stride);
    char *base = entries;
    memmove(base + (pos + 1) * stride, base + pos * stride, (*n - pos) * stride);
    memset(base + pos * stride, 0, stride);
    size_t len = strlen(key);
    memcpy(base + pos * stride, key, len < key_max ? len : key_max - 1);
    (*n)++;
    return entries;
}

ptrdiff_t kvmap_find(const struct kv_entry *kv, size_t n, const char *key)
{
    return kvmap_find_in(kv, n, sizeof *kv, key);
}

bool kvmap_get(const struct kv_entry *kv, size_t n, const char *key, int64_t *value)
{
    ptrdiff_t i = kvmap_find(kv, n, key);
    if (i < 0)
        return false;
    *value = kv[i].value;
    return true;
}

void kvmap_set(struct kv_entry **kv, size_t *n, size_t *cap, const char *key, int64_t value)
{
    ptrdiff_t i = kvmap_find(*kv, *n, key);
    if (i >= 0) {
        (*kv)[i].value = value;
        return;
    }
    size_t pos = (size_t)~i;
    *kv = kvmap_insert_in(*kv, n, cap, sizeof **kv, pos, key, KVMAP_KEY_MAX);
    (*kv)[pos].value = value;
}
