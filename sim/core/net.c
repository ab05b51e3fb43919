/* The simulated network: per-link parameters, random streams and
 * bookkeeping, and a reachability matrix. See net.h for the contract. */
#include "net.h"

#include "alloc.h"
#include "dmath.h"
#include "pcg.h"
#include "u64map.h"

#include <assert.h>
#include <math.h>

/* Stream ids put `to` in the low 20 bits, so more endpoints would collide. */
#define NET_MAX_ENDPOINTS (1 << 20)

/* Everything the network knows about one directed link. */
struct link {
    struct link_params params;
    pcg32 rng;
    bool rng_ready;          /* rng is seeded on the link's first draw */
    sim_time busy_until;     /* when the sender finishes serialising */
    sim_time last_delivery;  /* latest in-order delivery time (for fifo) */
};

/* Links and cuts are stored sparsely, so a network of 100,000 endpoints
 * costs what its traffic touches, not n * n: a link exists once it carried
 * a message or got its own parameters (until then it has all_params and a
 * fresh stream, which is exactly what it would get on creation). */
struct net {
    int n;
    uint64_t run_seed;
    struct link_params all_params; /* last net_set_all, for new links */
    struct link *links;      /* the links that exist, in creation order */
    size_t n_links, cap_links;
    struct u64map link_at;   /* pair_key(from, to) -> index into links */
    /* reachability: a partition into groups, plus one-way cuts */
    int *group;              /* per endpoint, -1 = in no group; NULL = none */
    bool groups_split;       /* two groups exist, so some pair is down */
    struct u64map cut;       /* pair_key(from, to) of each cut link */
};

static uint64_t pair_key(int from, int to)
{
    return (uint64_t)(uint32_t)from << 32 | (uint32_t)to;
}

/* ---- set-up ---- */

void net_default_params(struct link_params *p)
{
    *p = (struct link_params){
        .latency = { .kind = LAT_UNIFORM, .a = 1 * SIM_MS, .b = 3 * SIM_MS, .shape = 0.0 },
        .loss = 0.0,
        .dup = 0.0,
        .reorder = 0.0,
        .reorder_delay = 0,
        .bandwidth = 0,
        .fifo = false,
    };
}

/* The link from -> to, created with all_params on first use. */
static struct link *link_get(net *n, int from, int to)
{
    assert(from >= 0 && from < n->n);
    assert(to >= 0 && to < n->n);
    uint32_t at;
    if (u64map_get(&n->link_at, pair_key(from, to), &at))
        return &n->links[at];
    SIM_GROW(n->links, n->cap_links, n->n_links + 1);
    struct link *l = &n->links[n->n_links];
    *l = (struct link){ .params = n->all_params };
    u64map_put(&n->link_at, pair_key(from, to), (uint32_t)n->n_links);
    n->n_links++;
    return l;
}

/* Returns a network the caller frees with net_free. Never NULL: allocation
 * failure exits (sim_xcalloc). */
net *net_new(int n_endpoints, uint64_t run_seed)
{
    assert(n_endpoints >= 0 && n_endpoints <= NET_MAX_ENDPOINTS);
    net *n = sim_xcalloc(1, sizeof *n);
    n->n = n_endpoints;
    n->run_seed = run_seed;
    net_default_params(&n->all_params);
    return n;
}

void net_free(net *n)
{
    if (!n)
        return;
    sim_free(n->links);
    u64map_free(&n->link_at);
    u64map_free(&n->cut);
    sim_free(n->group);
    sim_free(n);
}

int net_endpoints(const net *n)
{
    return n->n;
}

/* Links are keyed by their endpoints, not by position, so growing keeps
 * streams, bookkeeping and cuts as they are; new endpoints join no group. */
void net_resize(net *n, int n_endpoints)
{
    assert(n_endpoints <= NET_MAX_ENDPOINTS);
    if (n_endpoints <= n->n)
        return;
    if (n->group) {
        n->group = sim_xrealloc(n->group, (size_t)n_endpoints * sizeof *n->group);
        for (int e = n->n; e < n_endpoints; e++)
            n->group[e] = -1;
    }
    n->n = n_endpoints;
}

/* Parameters are copied; the caller keeps p. Changing parameters keeps the
 * link's random stream and its fifo/bandwidth bookkeeping. */
void net_set_all(net *n, const struct link_params *p)
{
    n->all_params = *p;
    for (size_t i = 0; i < n->n_links; i++)
        n->links[i].params = *p;
}

void net_set_link(net *n, int from, int to, const struct link_params *p)
{
    link_get(n, from, to)->params = *p;
}

/* The pointer is valid until the next call that changes n. */
const struct link_params *net_link(const net *n, int from, int to)
{
    assert(from >= 0 && from < n->n);
    assert(to >= 0 && to < n->n);
    uint32_t at;
    if (u64map_get(&n->link_at, pair_key(from, to), &at))
        return &n->links[at].params;
    return &n->all_params;
}

/* ---- reachability ---- */

void net_heal(net *n)
{
    sim_free(n->group);
    n->group = NULL;
    n->groups_split = false;
    u64map_clear(&n->cut);
}

/* group_of has net_endpoints(n) entries and is only read. */
void net_partition(net *n, const int *group_of)
{
    net_heal(n);
    n->group = sim_xmalloc((size_t)n->n * sizeof *n->group);
    int first = -1;
    for (int e = 0; e < n->n; e++) {
        n->group[e] = group_of[e] < 0 ? -1 : group_of[e];
        if (n->group[e] < 0)
            continue;
        if (first < 0)
            first = n->group[e];
        else if (n->group[e] != first)
            n->groups_split = true;
    }
}

void net_cut(net *n, int from, int to)
{
    assert(from >= 0 && from < n->n);
    assert(to >= 0 && to < n->n);
    if (from != to)   /* an endpoint always reaches itself */
        u64map_put(&n->cut, pair_key(from, to), 1);
}

/* Adds to whatever is already down; e inside [first, last) is skipped. */
void net_isolate(net *n, int e, int first, int last)
{
    assert(first >= 0 && first <= last && last <= n->n);
    for (int other = first; other < last; other++) {
        net_cut(n, e, other);
        net_cut(n, other, e);
    }
}

bool net_reachable(const net *n, int from, int to)
{
    assert(from >= 0 && from < n->n);
    assert(to >= 0 && to < n->n);
    if (from == to)
        return true;
    if (n->groups_split && n->group[from] >= 0 && n->group[to] >= 0 &&
        n->group[from] != n->group[to])
        return false;
    return !u64map_get(&n->cut, pair_key(from, to), NULL);
}

bool net_partitioned(const net *n)
{
    return n->groups_split || n->cut.count > 0;
}

/* ---- latency ---- */

/* A standard normal deviate by Marsaglia's polar method. Draws two unit
 * values per attempt and retries until the point falls inside the unit disc
 * (not at its centre); the second deviate of each pair is discarded so the
 * function keeps no state. */
static double standard_normal(pcg32 *rng)
{
    for (;;) {
        double u = 2.0 * pcg32_unit(rng) - 1.0;
        double v = 2.0 * pcg32_unit(rng) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0)
            return u * sqrt(-2.0 * dmath_log(s) / s);
    }
}

/* Round a non-negative duration in ns to an integer, deterministically.
 * Negative and NaN become 0; anything beyond the run limit becomes the
 * limit, so huge Pareto draws cannot overflow. */
static sim_time round_ns(double ns)
{
    if (!(ns > 0.0))
        return 0;
    if (ns >= (double)SIM_TIME_LIMIT)
        return SIM_TIME_LIMIT;
    return (sim_time)(ns + 0.5);
}

/* Draws per kind: constant none; uniform one pcg32_range (none when b <= a,
 * which gives a); normal and lognormal two pcg32_unit per polar attempt;
 * pareto one pcg32_unit (none when shape <= 0, which gives a). */
sim_time net_draw_latency(const struct latency *p, struct pcg32 *rng)
{
    sim_time a = p->a > 0 ? p->a : 0;
    switch (p->kind) {
    case LAT_CONSTANT:
        return a;
    case LAT_UNIFORM:
        if (p->b <= p->a)
            return a;
        return round_ns((double)pcg32_range(rng, p->a, p->b));
    case LAT_NORMAL:
        return round_ns((double)p->a + (double)p->b * standard_normal(rng));
    case LAT_LOGNORMAL:
        return round_ns((double)p->a * dmath_exp(p->shape * standard_normal(rng)));
    case LAT_PARETO: {
        if (!(p->shape > 0.0))
            return a;
        double u = 1.0 - pcg32_unit(rng); /* (0, 1] */
        double x = (double)p->a * dmath_pow(u, -1.0 / p->shape);
        if (p->b > 0 && x > (double)p->b)
            x = (double)p->b;
        return round_ns(x);
    }
    }
    assert(!"unknown latency kind");
    return a;
}

/* ---- transmission ---- */

/* Time to push bytes onto a link of bandwidth bytes/s, rounded up to whole
 * ns (so a non-empty message always takes some time). Integer arithmetic
 * where it cannot overflow; a correctly rounded double division beyond. */
static sim_time serialisation_ns(size_t bytes, int64_t bandwidth)
{
    if (bandwidth <= 0 || bytes == 0)
        return 0;
    uint64_t bw = (uint64_t)bandwidth;
    uint64_t whole = (uint64_t)bytes / bw;
    uint64_t rem = (uint64_t)bytes % bw;
    uint64_t part;
    if (rem <= UINT64_MAX / 1000000000u)
        part = (rem * 1000000000u + bw - 1) / bw;
    else
        part = (uint64_t)ceil((double)rem * 1e9 / (double)bw);
    if (whole >= (uint64_t)SIM_TIME_LIMIT / 1000000000u)
        return SIM_TIME_LIMIT;
    return (sim_time)(whole * 1000000000u + part);
}

static pcg32 *link_rng(net *n, struct link *l, int from, int to)
{
    if (!l->rng_ready) {
        uint64_t id = (uint64_t)PCG_STREAM_LINK + ((uint64_t)from << 20) + (uint64_t)to;
        pcg32_stream(&l->rng, n->run_seed, id);
        l->rng_ready = true;
    }
    return &l->rng;
}

/* The order of draws on the link's stream is part of the determinism
 * contract (a golden trace depends on it); change it only with intent:
 *
 *   0. reachability: a down link returns NET_DROP_PARTITION with no draw
 *      and no bookkeeping;
 *   1. loss:     pcg32_chance(loss)     -> NET_DROP_LOSS, no further draws;
 *   2. dup:      pcg32_chance(dup)      -> copies = 2;
 *   3. reorder:  pcg32_chance(reorder)  -> reordered;
 *   4. latency of the first copy, then (if duplicated) of the second,
 *      each by net_draw_latency.
 * pcg32_chance draws nothing for probability <= 0 or >= 1.
 *
 * Timing: serialisation starts at max(now, busy_until) and a message departs
 * when its last byte is out; each copy arrives at departure + its latency,
 * + reorder_delay if reordered. A lost message still occupied the link (it
 * was sent, the wire lost it). On a fifo link a copy that is not reordered
 * is delivered no earlier than the link's last in-order delivery; reordered
 * copies bypass that rule and do not move it. */
void net_transmit(net *n, int from, int to, size_t bytes, sim_time now, struct net_fate *out)
{
    *out = (struct net_fate){ .verdict = NET_DROP_PARTITION, .copies = 0 };
    if (!net_reachable(n, from, to))
        return;

    struct link *l = link_get(n, from, to);
    const struct link_params *p = &l->params;
    pcg32 *rng = link_rng(n, l, from, to);

    sim_time start = now > l->busy_until ? now : l->busy_until;
    sim_time depart = start + serialisation_ns(bytes, p->bandwidth);
    if (p->bandwidth > 0)
        l->busy_until = depart;

    if (pcg32_chance(rng, p->loss)) {
        out->verdict = NET_DROP_LOSS;
        return;
    }
    out->verdict = NET_DELIVER;
    out->copies = pcg32_chance(rng, p->dup) ? 2 : 1;
    out->reordered = pcg32_chance(rng, p->reorder) != 0;

    for (int c = 0; c < out->copies; c++) {
        sim_time deliver_at = depart + net_draw_latency(&p->latency, rng);
        if (out->reordered) {
            deliver_at += p->reorder_delay > 0 ? p->reorder_delay : 0;
        } else if (p->fifo) {
            if (deliver_at < l->last_delivery)
                deliver_at = l->last_delivery;
            l->last_delivery = deliver_at;
        }
        out->delay[c] = deliver_at - now;
    }
}
