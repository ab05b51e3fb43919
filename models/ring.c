/* The consistent-hash ring; see ring.h. */
#include "ring.h"

#include "alloc.h"
#include "sort.h"

#include <string.h>

struct ring_point {
    uint64_t pos;
    int32_t node;
    int32_t index;
};

struct ring {
    int n_nodes;
    int vnodes;
    size_t n_points;
    struct ring_point *points;   /* sorted by (pos, node, index) */
};

uint64_t ring_mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

uint64_t ring_key_hash(const char *key)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p;
        h *= UINT64_C(1099511628211);
    }
    return ring_mix64(h);
}

static int point_cmp(const void *a, const void *b)
{
    const struct ring_point *x = a, *y = b;
    if (x->pos != y->pos)
        return x->pos < y->pos ? -1 : 1;
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

ring *ring_new(int n_nodes, int vnodes)
{
    if (n_nodes < 1 || vnodes < 1)
        return NULL;
    ring *r = sim_xcalloc(1, sizeof *r);
    r->n_nodes = n_nodes;
    r->vnodes = vnodes;
    r->n_points = (size_t)n_nodes * (size_t)vnodes;
    r->points = sim_xmalloc(r->n_points * sizeof *r->points);
    size_t k = 0;
    for (int node = 0; node < n_nodes; node++)
        for (int i = 0; i < vnodes; i++) {
            /* node + 1: node 0's point 0 would otherwise sit at mix(0) = 0 */
            uint64_t seed = ((uint64_t)(node + 1) << 32) | (uint32_t)i;
            r->points[k++] = (struct ring_point){ .pos = ring_mix64(seed), .node = node, .index = i };
        }
    sim_qsort(r->points, r->n_points, sizeof *r->points, point_cmp);
    return r;
}

void ring_free(ring *r)
{
    if (!r)
        return;
    sim_free(r->points);
    sim_free(r);
}

int ring_nodes(const ring *r)
{
    return r->n_nodes;
}

int ring_vnodes(const ring *r)
{
    return r->vnodes;
}

/* The index of the first point at or after pos, wrapping to 0. */
static size_t first_point(const ring *r, uint64_t pos)
{
    size_t lo = 0, hi = r->n_points;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->points[mid].pos < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == r->n_points ? 0 : lo;
}

int ring_owner(const ring *r, const char *key)
{
    return r->points[first_point(r, ring_key_hash(key))].node;
}

int ring_preference_list(const ring *r, const char *key, int max, const bool *skip, int *out)
{
    if (max > r->n_nodes)
        max = r->n_nodes;
    if (max < 1)
        return 0;
    /* one bit per node met; nodes beyond 64 use the out list itself */
    uint64_t met = 0;
    int got = 0;
    size_t start = first_point(r, ring_key_hash(key));
    for (size_t step = 0; step < r->n_points && got < max; step++) {
        int node = r->points[(start + step) % r->n_points].node;
        if (skip && skip[node])
            continue;
        bool seen = false;
        if (node < 64)
            seen = (met >> node) & 1u;
        else
            for (int i = 0; i < got && !seen; i++)
                seen = out[i] == node;
        if (seen)
            continue;
        if (node < 64)
            met |= UINT64_C(1) << node;
        out[got++] = node;
    }
    return got;
}

size_t ring_keys_moved(const ring *a, const ring *b, const char *const *keys, size_t n_keys)
{
    size_t moved = 0;
    for (size_t i = 0; i < n_keys; i++)
        moved += ring_owner(a, keys[i]) != ring_owner(b, keys[i]);
    return moved;
}
