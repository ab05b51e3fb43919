/* The sorted key-value map of the replicated models; see kvmap.h. */
#include "kvmap.h"

#include <string.h>

#include "alloc.h"

ptrdiff_t kvmap_find(const struct kv_entry *kv, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(kv[mid].key, key);
        if (c == 0)
            return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ~(ptrdiff_t)lo;
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
    SIM_GROW(*kv, *cap, *n + 1);
    struct kv_entry *e = *kv;
    memmove(&e[pos + 1], &e[pos], (*n - pos) * sizeof *e);
    memset(&e[pos], 0, sizeof e[pos]);
    size_t len = strlen(key);
    memcpy(e[pos].key, key, len < KVMAP_KEY_MAX ? len : KVMAP_KEY_MAX - 1);
    e[pos].value = value;
    (*n)++;
}
