/* The simulated network: per-link latency, loss, duplication, reordering,
 * bandwidth, and reachability (partitions, one-way cuts, isolation, bridges).
 *
 * Endpoints are numbered 0..n-1 (the world puts nodes first, then clients).
 * The network decides the fate of each message when it is sent
 * (net_transmit) and answers whether a link is up at delivery time
 * (net_reachable). Every random draw comes from the sending link's own PCG
 * stream, so traffic on one link never changes what another link draws. */
#ifndef SIM_NET_H
#define SIM_NET_H

#include "simtypes.h"

enum lat_kind {
    LAT_CONSTANT,   /* a */
    LAT_UNIFORM,    /* uniform integer in [a, b] */
    LAT_NORMAL,     /* mean a, standard deviation b, clamped at 0 */
    LAT_LOGNORMAL,  /* median a, sigma = shape */
    LAT_PARETO,     /* minimum a, tail index alpha = shape, capped at b if b > 0 */
};

struct latency {
    enum lat_kind kind;
    sim_time a;
    sim_time b;
    double shape;
};

struct link_params {
    struct latency latency;
    double loss;          /* probability a message is dropped */
    double dup;           /* probability a message is delivered twice */
    double reorder;       /* probability a message is held back by reorder_delay */
    sim_time reorder_delay;
    int64_t bandwidth;    /* bytes per second; 0 = unlimited */
    bool fifo;            /* deliver in send order on this link */
};

/* Defaults: uniform latency 1..3 ms, no loss, duplication or reordering. */
void net_default_params(struct link_params *p);

typedef struct net net;

/* A network of n_endpoints, drawing from streams derived from run_seed.
 * All links start with the default parameters and fully connected. */
net *net_new(int n_endpoints, uint64_t run_seed);
void net_free(net *n);
int net_endpoints(const net *n);

/* Grow to n_endpoints (never shrinks). Existing links keep their parameters,
 * reachability and random streams; links to or from new endpoints get the
 * parameters last given to net_set_all (or the defaults) and are up. */
void net_resize(net *n, int n_endpoints);

/* Set the parameters of every link / of the link from -> to (one-way). */
void net_set_all(net *n, const struct link_params *p);
void net_set_link(net *n, int from, int to, const struct link_params *p);
const struct link_params *net_link(const net *n, int from, int to);

/* ---- reachability ---- */

/* Replace any partition with one where group_of[e] is the group of endpoint
 * e; endpoints in different groups cannot reach each other. group_of[e] < 0
 * leaves e unaffected (reaches everybody). One-way cuts are cleared. */
void net_partition(net *n, const int *group_of);

/* Block messages from -> to only (one-way). */
void net_cut(net *n, int from, int to);

/* Block both directions between e and every endpoint in [first, last). */
void net_isolate(net *n, int e, int first, int last);

/* Everything reaches everything again. */
void net_heal(net *n);

/* Is from -> to up right now? from == to is always up. */
bool net_reachable(const net *n, int from, int to);

/* Is any link down? */
bool net_partitioned(const net *n);

/* ---- transmission ---- */

enum net_verdict {
    NET_DELIVER,     /* deliver after delay[0] (and delay[1] if copies == 2) */
    NET_DROP_LOSS,   /* lost by the loss probability */
    NET_DROP_PARTITION, /* the link is down */
};

struct net_fate {
    enum net_verdict verdict;
    int copies;          /* 1, or 2 when duplicated */
    sim_time delay[2];   /* delay from now until each delivery, >= 0 */
    bool reordered;      /* held back by the reorder delay */
};

/* Decide what happens to a message of size bytes sent from -> to at time
 * now. Advances the link's random stream (and its FIFO and bandwidth
 * bookkeeping) only; reachability is checked first and draws nothing. */
void net_transmit(net *n, int from, int to, size_t bytes, sim_time now, struct net_fate *out);

/* Draw one latency from p using rng (exposed for tests and the bench). */
struct pcg32;
sim_time net_draw_latency(const struct latency *p, struct pcg32 *rng);

#endif
