/* State-based CRDTs; see crdt.h. */
#include "crdt.h"

#include <string.h>

static uint32_t clamp_nodes(int n)
{
    return n < 0 ? 0 : n > CRDT_NODES ? CRDT_NODES : (uint32_t)n;
}

/* ---- G-counter ------------------------------------------------------------ */

void crdt_gcounter_init(struct crdt_gcounter *g, int n)
{
    memset(g, 0, sizeof *g);
    g->n = clamp_nodes(n);
}

int crdt_gcounter_add(struct crdt_gcounter *g, int node, int64_t inc)
{
    if (inc < 0 || node < 0 || (uint32_t)node >= g->n)
        return -1;
    g->c[node] += (uint64_t)inc;
    return 0;
}

uint64_t crdt_gcounter_value(const struct crdt_gcounter *g)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < g->n; i++)
        sum += g->c[i];
    return sum;
}

void crdt_gcounter_merge(struct crdt_gcounter *into, const struct crdt_gcounter *other)
{
    if (other->n > into->n)
        into->n = other->n;
    for (uint32_t i = 0; i < other->n; i++)
        if (other->c[i] > into->c[i])
            into->c[i] = other->c[i];
}

bool crdt_gcounter_leq(const struct crdt_gcounter *a, const struct crdt_gcounter *b)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (a->c[i] > (i < b->n ? b->c[i] : 0))
            return false;
    return true;
}

bool crdt_gcounter_valid(const void *bytes, size_t len)
{
    struct crdt_gcounter g;
    if (len != sizeof g)
        return false;
    memcpy(&g, bytes, sizeof g);
    if (g.n > CRDT_NODES || g.pad != 0)
        return false;
    for (uint32_t i = g.n; i < CRDT_NODES; i++)
        if (g.c[i] != 0)
            return false;
    return true;
}

/* ---- PN-counter ----------------------------------------------------------- */

void crdt_pncounter_init(struct crdt_pncounter *c, int n)
{
    crdt_gcounter_init(&c->p, n);
    crdt_gcounter_init(&c->n, n);
}

int crdt_pncounter_add(struct crdt_pncounter *c, int node, int64_t delta)
{
    if (delta == INT64_MIN)
        return -1;
    return delta >= 0 ? crdt_gcounter_add(&c->p, node, delta) : crdt_gcounter_add(&c->n, node, -delta);
}

int64_t crdt_pncounter_value(const struct crdt_pncounter *c)
{
    /* unsigned wrap-around, then back: exact as long as the true value fits */
    return (int64_t)(crdt_gcounter_value(&c->p) - crdt_gcounter_value(&c->n));
}

void crdt_pncounter_merge(struct crdt_pncounter *into, const struct crdt_pncounter *other)
{
    crdt_gcounter_merge(&into->p, &other->p);
    crdt_gcounter_merge(&into->n, &other->n);
}

bool crdt_pncounter_leq(const struct crdt_pncounter *a, const struct crdt_pncounter *b)
{
    return crdt_gcounter_leq(&a->p, &b->p) && crdt_gcounter_leq(&a->n, &b->n);
}

bool crdt_pncounter_valid(const void *bytes, size_t len)
{
    const unsigned char *p = bytes;
    if (len != sizeof(struct crdt_pncounter))
        return false;
    return crdt_gcounter_valid(p + offsetof(struct crdt_pncounter, p), sizeof(struct crdt_gcounter))
        && crdt_gcounter_valid(p + offsetof(struct crdt_pncounter, n), sizeof(struct crdt_gcounter));
}

/* ---- OR-set --------------------------------------------------------------- */

/* The canonical order of dots: by element, then node, then seq. */
static int dot_cmp(const struct crdt_dot *a, const struct crdt_dot *b)
{
    if (a->elem != b->elem)
        return a->elem < b->elem ? -1 : 1;
    if (a->node != b->node)
        return a->node < b->node ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

static uint64_t ctx_of(const struct crdt_orset *s, uint32_t node)
{
    return node < s->n_nodes ? s->ctx[node] : 0;
}

void crdt_orset_init(struct crdt_orset *s, int n)
{
    memset(s, 0, sizeof *s);
    s->n_nodes = clamp_nodes(n);
}

/* Drop dots [from, to) and zero the freed tail, so equal sets stay equal bytes. */
static void orset_cut(struct crdt_orset *s, uint32_t from, uint32_t to)
{
    memmove(&s->dots[from], &s->dots[to], (s->n_dots - to) * sizeof s->dots[0]);
    s->n_dots -= to - from;
    memset(&s->dots[s->n_dots], 0, (to - from) * sizeof s->dots[0]);
}

/* The first dot of elem or later, and one past its last. */
static void orset_range(const struct crdt_orset *s, int64_t elem, uint32_t *lo, uint32_t *hi)
{
    uint32_t a = 0, b = s->n_dots;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (s->dots[mid].elem < elem)
            a = mid + 1;
        else
            b = mid;
    }
    *lo = a;
    while (a < s->n_dots && s->dots[a].elem == elem)
        a++;
    *hi = a;
}

int crdt_orset_add(struct crdt_orset *s, int node, int64_t elem)
{
    uint32_t lo, hi;
    if (node < 0 || (uint32_t)node >= s->n_nodes)
        return -1;
    orset_range(s, elem, &lo, &hi);
    if (s->n_dots - (hi - lo) + 1 > CRDT_SET_DOTS)
        return -1;
    orset_cut(s, lo, hi);
    /* the new dot sorts after the element's (now removed) dots' position:
     * it is the element's only dot, so it goes at lo */
    memmove(&s->dots[lo + 1], &s->dots[lo], (s->n_dots - lo) * sizeof s->dots[0]);
    s->dots[lo] = (struct crdt_dot){ .elem = elem, .node = (uint32_t)node, .pad = 0,
                                     .seq = ++s->ctx[node] };
    s->n_dots++;
    return 0;
}

int crdt_orset_remove(struct crdt_orset *s, int64_t elem)
{
    uint32_t lo, hi;
    orset_range(s, elem, &lo, &hi);
    orset_cut(s, lo, hi);
    return (int)(hi - lo);
}

bool crdt_orset_contains(const struct crdt_orset *s, int64_t elem)
{
    uint32_t lo, hi;
    orset_range(s, elem, &lo, &hi);
    return hi > lo;
}

int crdt_orset_elements(const struct crdt_orset *s, int64_t *out, int max)
{
    int n = 0;
    for (uint32_t i = 0; i < s->n_dots; i++) {
        if (i > 0 && s->dots[i].elem == s->dots[i - 1].elem)
            continue;
        if (n < max)
            out[n] = s->dots[i].elem;
        n++;
    }
    return n;
}

/* The join: a dot on both sides stays; a dot on one side only stays if the
 * other side has not seen it (its context is below the dot's seq), because
 * a side that has seen a dot and no longer holds it has removed it. */
int crdt_orset_merge(struct crdt_orset *into, const struct crdt_orset *other)
{
    struct crdt_orset out;
    memset(&out, 0, sizeof out);
    uint32_t i = 0, j = 0;
    while (i < into->n_dots || j < other->n_dots) {
        const struct crdt_dot *a = i < into->n_dots ? &into->dots[i] : NULL;
        const struct crdt_dot *b = j < other->n_dots ? &other->dots[j] : NULL;
        int c = !a ? 1 : !b ? -1 : dot_cmp(a, b);
        const struct crdt_dot *keep = NULL;
        if (c == 0) {
            keep = a;
            i++;
            j++;
        } else if (c < 0) {
            if (a->seq > ctx_of(other, a->node))
                keep = a;
            i++;
        } else {
            if (b->seq > ctx_of(into, b->node))
                keep = b;
            j++;
        }
        if (!keep)
            continue;
        if (out.n_dots == CRDT_SET_DOTS)
            return -1;
        out.dots[out.n_dots++] = *keep;
    }
    out.n_nodes = into->n_nodes > other->n_nodes ? into->n_nodes : other->n_nodes;
    for (uint32_t k = 0; k < out.n_nodes; k++) {
        uint64_t x = ctx_of(into, k), y = ctx_of(other, k);
        out.ctx[k] = x > y ? x : y;
    }
    memcpy(into, &out, sizeof out);
    return 0;
}

bool crdt_orset_leq(const struct crdt_orset *a, const struct crdt_orset *b)
{
    struct crdt_orset m;
    memcpy(&m, b, sizeof m);
    if (crdt_orset_merge(&m, a) != 0)
        return false;
    return memcmp(&m, b, sizeof m) == 0;
}

bool crdt_orset_valid(const void *bytes, size_t len)
{
    struct crdt_orset s;
    if (len != sizeof s)
        return false;
    memcpy(&s, bytes, sizeof s);
    if (s.n_nodes > CRDT_NODES || s.n_dots > CRDT_SET_DOTS)
        return false;
    for (uint32_t k = s.n_nodes; k < CRDT_NODES; k++)
        if (s.ctx[k] != 0)
            return false;
    static const struct crdt_dot zero;
    for (uint32_t i = 0; i < CRDT_SET_DOTS; i++) {
        const struct crdt_dot *d = &s.dots[i];
        if (i >= s.n_dots) {
            if (memcmp(d, &zero, sizeof zero) != 0)
                return false;
            continue;
        }
        if (d->node >= s.n_nodes || d->pad != 0 || d->seq == 0 || d->seq > s.ctx[d->node])
            return false;
        if (i > 0 && dot_cmp(&s.dots[i - 1], d) >= 0)
            return false;
    }
    return true;
}

/* ---- LWW-register --------------------------------------------------------- */

void crdt_lwwreg_init(struct crdt_lwwreg *r)
{
    memset(r, 0, sizeof *r);
    r->node = -1;
}

bool crdt_lwwreg_newer(const struct crdt_lwwreg *a, const struct crdt_lwwreg *b)
{
    if (!a->has)
        return false;
    if (!b->has)
        return true;
    if (a->ts != b->ts)
        return a->ts > b->ts;
    if (a->node != b->node)
        return a->node > b->node;
    return a->value > b->value;
}

bool crdt_lwwreg_set(struct crdt_lwwreg *r, int64_t ts, int node, int64_t value)
{
    struct crdt_lwwreg w = { .ts = ts, .node = node, .has = 1, .value = value };
    return crdt_lwwreg_merge(r, &w);
}

bool crdt_lwwreg_merge(struct crdt_lwwreg *into, const struct crdt_lwwreg *other)
{
    if (!crdt_lwwreg_newer(other, into))
        return false;
    *into = *other;
    return true;
}

bool crdt_lwwreg_valid(const void *bytes, size_t len)
{
    struct crdt_lwwreg r;
    if (len != sizeof r)
        return false;
    memcpy(&r, bytes, sizeof r);
    if (r.has != 0 && r.has != 1)
        return false;
    return r.has ? r.node >= 0 : (r.ts == 0 && r.node == -1 && r.value == 0);
}
