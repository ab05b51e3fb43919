/* The simulated network: per-link parameters, random streams and
 * bookkeeping, and a reachability matrix. See net.h for the contract. */
#include "net.h"

#include "alloc.h"
#include "dmath.h"
#include "pcg.h"

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

struct net {
    int n;
    uint64_t run_seed;
    struct link_params all_params; /* last net_set_all, for new links */
    struct link *links;      /* n * n, indexed from * n + to */
    unsigned char *blocked;  /* n * n, 1 when from -> to is down */
    size_t n_blocked;        /* number of ones in blocked */
};

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

static size_t link_index(const net *n, int from, int to)
{
    assert(from >= 0 && from < n->n);
    assert(to >= 0 && to < n->n);
    return (size_t)from * (size_t)n->n + (size_t)to;
}

/* Returns a network the caller frees with net_free. Never NULL: allocation
 * failure exits (sim_xcalloc). Links cost nothing until first used except
 * their slot in the n * n arrays. */
net *net_new(int n_endpoints, uint64_t run_seed)
{
    assert(n_endpoints >= 0 && n_endpoints <= NET_MAX_ENDPOINTS);
    net *n = sim_xcalloc(1, sizeof *n);
    size_t cells = (size_t)n_endpoints * (size_t)n_endpoints;
    n->n = n_endpoints;
    n->run_seed = run_seed;
    n->links = sim_xcalloc(cells, sizeof *n->links);
    n->blocked = sim_xcalloc(cells, 1);
    net_default_params(&n->all_params);
    for (size_t i = 0; i < cells; i++)
        n->links[i].params = n->all_params;
    return n;
}

void net_free(net *n)
{
    if (!n)
        return;
    sim_free(n->links);
    sim_free(n->blocked);
    sim_free(n);
}

int net_endpoints(const net *n)
{
    return n->n;
}

/* Copies every link into arrays of the new size; link structs are plain
 * values, so streams, bookkeeping and cuts carry over unchanged. */
void net_resize(net *n, int n_endpoints)
{
    assert(n_endpoints <= NET_MAX_ENDPOINTS);
    if (n_endpoints <= n->n)
        return;
    size_t old_n = (size_t)n->n, new_n = (size_t)n_endpoints;
    struct link *links = sim_xcalloc(new_n * new_n, sizeof *links);
    unsigned char *blocked = sim_xcalloc(new_n * new_n, 1);
    for (size_t from = 0; from < new_n; from++) {
        for (size_t to = 0; to < new_n; to++) {
            if (from < old_n && to < old_n) {
                links[from * new_n + to] = n->links[from * old_n + to];
                blocked[from * new_n + to] = n->blocked[from * old_n + to];
            } else {
                links[from * new_n + to].params = n->all_params;
            }
        }
    }
    sim_free(n->links);
    sim_free(n->blocked);
    n->links = links;
    n->blocked = blocked;
    n->n = n_endpoints;
}

/* Parameters are copied; the caller keeps p. Changing parameters keeps the
 * link's random stream and its fifo/bandwidth bookkeeping. */
void net_set_all(net *n, const struct link_params *p)
{
    size_t cells = (size_t)n->n * (size_t)n->n;
    n->all_params = *p;
    for (size_t i = 0; i < cells; i++)
        n->links[i].params = *p;
}

void net_set_link(net *n, int from, int to, const struct link_params *p)
{
    n->links[link_index(n, from, to)].params = *p;
}

/* The pointer stays valid until net_free; the network owns it. */
const struct link_params *net_link(const net *n, int from, int to)
{
    return &n->links[link_index(n, from, to)].params;
}

/* ---- reachability ---- */

static void set_blocked(net *n, int from, int to, bool down)
{
    if (from == to)
        return; /* an endpoint always reaches itself */
    unsigned char *cell = &n->blocked[link_index(n, from, to)];
    if (*cell == down)
        return;
    *cell = down;
    if (down)
        n->n_blocked++;
    else
        n->n_blocked--;
}

void net_heal(net *n)
{
    size_t cells = (size_t)n->n * (size_t)n->n;
    for (size_t i = 0; i < cells; i++)
        n->blocked[i] = 0;
    n->n_blocked = 0;
}

/* group_of has net_endpoints(n) entries and is only read. */
void net_partition(net *n, const int *group_of)
{
    net_heal(n);
    for (int from = 0; from < n->n; from++) {
        if (group_of[from] < 0)
            continue;
        for (int to = 0; to < n->n; to++) {
            if (group_of[to] >= 0 && group_of[to] != group_of[from])
                set_blocked(n, from, to, true);
        }
    }
}

void net_cut(net *n, int from, int to)
{
    set_blocked(n, from, to, true);
}

/* Adds to whatever is already down; e inside [first, last) is skipped. */
void net_isolate(net *n, int e, int first, int last)
{
    assert(first >= 0 && first <= last && last <= n->n);
    for (int other = first; other < last; other++) {
        set_blocked(n, e, other, true);
        set_blocked(n, other, e, true);
    }
}

bool net_reachable(const net *n, int from, int to)
{
    if (from == to)
        return true;
    return !n->blocked[link_index(n, from, to)];
}

bool net_partitioned(const net *n)
{
    return n->n_blocked > 0;
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

    struct link *l = &n->links[link_index(n, from, to)];
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
