/* Unit tests for the simulated network: reachability, loss, duplication,
 * ordering, bandwidth, latency distributions and stream independence. */
#include "net.h"
#include "pcg.h"

#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SEED 20240607u

/* A network of n endpoints whose every link has parameters p. */
static net *net_with(int n, const struct link_params *p)
{
    net *nw = net_new(n, SEED);
    net_set_all(nw, p);
    return nw;
}

static struct link_params constant_params(sim_time latency)
{
    struct link_params p;
    net_default_params(&p);
    p.latency = (struct latency){ .kind = LAT_CONSTANT, .a = latency };
    return p;
}

static bool fates_equal(const struct net_fate *x, const struct net_fate *y)
{
    if (x->verdict != y->verdict || x->copies != y->copies || x->reordered != y->reordered)
        return false;
    for (int c = 0; c < x->copies; c++) {
        if (x->delay[c] != y->delay[c])
            return false;
    }
    return true;
}

/* ---- parameters ---- */

START_TEST(test_default_params_are_uniform_1_to_3_ms)
{
    struct link_params p;
    memset(&p, 0xa5, sizeof p);
    net_default_params(&p);
    ck_assert_int_eq(p.latency.kind, LAT_UNIFORM);
    ck_assert_int_eq(p.latency.a, 1 * SIM_MS);
    ck_assert_int_eq(p.latency.b, 3 * SIM_MS);
    ck_assert(p.loss == 0.0 && p.dup == 0.0 && p.reorder == 0.0);
    ck_assert_int_eq(p.reorder_delay, 0);
    ck_assert_int_eq(p.bandwidth, 0);
    ck_assert(!p.fifo);

    net *nw = net_new(3, SEED);
    ck_assert_int_eq(net_endpoints(nw), 3);
    ck_assert_int_eq(net_link(nw, 2, 1)->latency.kind, LAT_UNIFORM);
    ck_assert_int_eq(net_link(nw, 2, 1)->latency.b, 3 * SIM_MS);
    ck_assert(!net_partitioned(nw));
    net_free(nw);
}
END_TEST

START_TEST(test_set_link_is_one_way)
{
    net *nw = net_new(3, SEED);
    struct link_params p = constant_params(7 * SIM_MS);
    net_set_link(nw, 0, 1, &p);
    ck_assert_int_eq(net_link(nw, 0, 1)->latency.kind, LAT_CONSTANT);
    ck_assert_int_eq(net_link(nw, 1, 0)->latency.kind, LAT_UNIFORM);
    struct net_fate f;
    net_transmit(nw, 0, 1, 100, 5 * SIM_MS, &f);
    ck_assert_int_eq(f.verdict, NET_DELIVER);
    ck_assert_int_eq(f.copies, 1);
    ck_assert_int_eq(f.delay[0], 7 * SIM_MS);
    net_free(nw);
}
END_TEST

START_TEST(test_resize_keeps_existing_links)
{
    struct link_params p = constant_params(4 * SIM_MS);
    net *grown = net_new(2, SEED);
    net *fixed = net_new(3, SEED);
    net_set_all(grown, &p);
    net_set_all(fixed, &p);
    struct link_params q = constant_params(9 * SIM_MS);
    q.latency = (struct latency){ .kind = LAT_UNIFORM, .a = 0, .b = SIM_S };
    net_set_link(grown, 0, 1, &q);
    net_set_link(fixed, 0, 1, &q);
    net_cut(grown, 1, 0);
    struct net_fate fg, ff;
    for (int i = 0; i < 5; i++) {
        net_transmit(grown, 0, 1, 10, 0, &fg);
        net_transmit(fixed, 0, 1, 10, 0, &ff);
    }
    net_resize(grown, 3);
    net_resize(grown, 1); /* never shrinks */
    ck_assert_int_eq(net_endpoints(grown), 3);
    ck_assert(!net_reachable(grown, 1, 0));
    ck_assert(net_reachable(grown, 0, 1));
    ck_assert(net_reachable(grown, 2, 0) && net_reachable(grown, 0, 2));
    ck_assert_int_eq(net_link(grown, 0, 1)->latency.kind, LAT_UNIFORM);
    ck_assert_int_eq(net_link(grown, 2, 1)->latency.a, 4 * SIM_MS);
    ck_assert_int_eq(net_link(grown, 1, 2)->latency.a, 4 * SIM_MS);
    for (int i = 0; i < 20; i++) { /* the stream continued where it was */
        net_transmit(grown, 0, 1, 10, 0, &fg);
        net_transmit(fixed, 0, 1, 10, 0, &ff);
        ck_assert(fates_equal(&fg, &ff));
    }
    net_transmit(grown, 2, 1, 10, 0, &fg);
    ck_assert_int_eq(fg.delay[0], 4 * SIM_MS);
    net_free(grown);
    net_free(fixed);
}
END_TEST

/* ---- reachability ---- */

START_TEST(test_partition_blocks_both_directions)
{
    net *nw = net_new(5, SEED);
    int groups[5] = { 0, 0, 1, 1, -1 };
    net_partition(nw, groups);
    ck_assert(net_partitioned(nw));
    ck_assert(!net_reachable(nw, 0, 2));
    ck_assert(!net_reachable(nw, 2, 0));
    ck_assert(!net_reachable(nw, 1, 3));
    ck_assert(!net_reachable(nw, 3, 1));
    ck_assert(net_reachable(nw, 0, 1));
    ck_assert(net_reachable(nw, 3, 2));
    for (int e = 0; e < 4; e++) {
        ck_assert(net_reachable(nw, 4, e));
        ck_assert(net_reachable(nw, e, 4));
    }
    struct net_fate f;
    net_transmit(nw, 0, 2, 10, 0, &f);
    ck_assert_int_eq(f.verdict, NET_DROP_PARTITION);
    net_transmit(nw, 2, 0, 10, 0, &f);
    ck_assert_int_eq(f.verdict, NET_DROP_PARTITION);
    net_transmit(nw, 0, 1, 10, 0, &f);
    ck_assert_int_eq(f.verdict, NET_DELIVER);
    net_free(nw);
}
END_TEST

START_TEST(test_partition_replaces_previous_and_clears_cuts)
{
    net *nw = net_new(4, SEED);
    net_cut(nw, 0, 1);
    int first[4] = { 0, 1, 1, 1 };
    net_partition(nw, first);
    ck_assert(net_reachable(nw, 1, 2));
    int second[4] = { 0, 0, 1, 1 };
    net_partition(nw, second);
    ck_assert(net_reachable(nw, 0, 1)); /* the cut is gone */
    ck_assert(net_reachable(nw, 1, 0));
    ck_assert(!net_reachable(nw, 1, 2)); /* the new partition holds */
    ck_assert(net_reachable(nw, 2, 3));
    int nobody[4] = { -1, -1, -1, -1 };
    net_partition(nw, nobody);
    ck_assert(!net_partitioned(nw));
    net_free(nw);
}
END_TEST

START_TEST(test_cut_is_one_way)
{
    net *nw = net_new(3, SEED);
    net_cut(nw, 0, 1);
    ck_assert(net_partitioned(nw));
    ck_assert(!net_reachable(nw, 0, 1));
    ck_assert(net_reachable(nw, 1, 0));
    ck_assert(net_reachable(nw, 0, 2));
    ck_assert(net_reachable(nw, 2, 1));
    net_free(nw);
}
END_TEST

START_TEST(test_isolate_leaves_clients_reachable)
{
    /* Nodes 0..2, clients 3..5: isolate node 0 from the other nodes. */
    net *nw = net_new(6, SEED);
    net_isolate(nw, 0, 0, 3);
    ck_assert(net_partitioned(nw));
    for (int node = 1; node < 3; node++) {
        ck_assert(!net_reachable(nw, 0, node));
        ck_assert(!net_reachable(nw, node, 0));
    }
    ck_assert(net_reachable(nw, 1, 2));
    ck_assert(net_reachable(nw, 0, 0));
    for (int client = 3; client < 6; client++) {
        ck_assert(net_reachable(nw, 0, client));
        ck_assert(net_reachable(nw, client, 0));
    }
    net_free(nw);
}
END_TEST

START_TEST(test_heal_restores_everything)
{
    net *nw = net_new(4, SEED);
    int groups[4] = { 0, 1, 2, 3 };
    net_partition(nw, groups);
    net_cut(nw, 3, 2);
    net_isolate(nw, 1, 0, 4);
    ck_assert(net_partitioned(nw));
    net_heal(nw);
    ck_assert(!net_partitioned(nw));
    for (int from = 0; from < 4; from++)
        for (int to = 0; to < 4; to++)
            ck_assert(net_reachable(nw, from, to));
    net_free(nw);
}
END_TEST

START_TEST(test_self_is_always_reachable)
{
    net *nw = net_new(3, SEED);
    int groups[3] = { 0, 1, 2 };
    net_partition(nw, groups);
    net_cut(nw, 1, 1);
    net_isolate(nw, 2, 0, 3);
    for (int e = 0; e < 3; e++)
        ck_assert(net_reachable(nw, e, e));
    net_free(nw);
}
END_TEST

START_TEST(test_partitioned_link_draws_nothing)
{
    net *a = net_new(2, SEED);
    net *b = net_new(2, SEED);
    struct net_fate fa, fb;
    net_cut(a, 0, 1);
    for (int i = 0; i < 10; i++) {
        net_transmit(a, 0, 1, 10, 0, &fa);
        ck_assert_int_eq(fa.verdict, NET_DROP_PARTITION);
    }
    net_heal(a);
    for (int i = 0; i < 50; i++) {
        net_transmit(a, 0, 1, 10, i * SIM_MS, &fa);
        net_transmit(b, 0, 1, 10, i * SIM_MS, &fb);
        ck_assert(fates_equal(&fa, &fb));
    }
    net_free(a);
    net_free(b);
}
END_TEST

/* ---- loss, duplication, ordering, bandwidth ---- */

START_TEST(test_loss_rate_close_to_parameter)
{
    struct link_params p;
    net_default_params(&p);
    p.loss = 0.3;
    net *nw = net_with(2, &p);
    int lost = 0, total = 20000;
    struct net_fate f;
    for (int i = 0; i < total; i++) {
        net_transmit(nw, 0, 1, 10, i * SIM_MS, &f);
        if (f.verdict == NET_DROP_LOSS)
            lost++;
        else
            ck_assert_int_eq(f.verdict, NET_DELIVER);
    }
    ck_assert_int_gt(lost, (int)(0.28 * total));
    ck_assert_int_lt(lost, (int)(0.32 * total));
    net_free(nw);
}
END_TEST

START_TEST(test_dup_gives_two_copies)
{
    struct link_params p;
    net_default_params(&p);
    p.dup = 1.0;
    net *nw = net_with(2, &p);
    struct net_fate f;
    bool copies_differ = false;
    for (int i = 0; i < 200; i++) {
        net_transmit(nw, 0, 1, 10, i * SIM_MS, &f);
        ck_assert_int_eq(f.verdict, NET_DELIVER);
        ck_assert_int_eq(f.copies, 2);
        for (int c = 0; c < 2; c++) {
            ck_assert_int_ge(f.delay[c], 1 * SIM_MS);
            ck_assert_int_le(f.delay[c], 3 * SIM_MS);
        }
        copies_differ |= f.delay[0] != f.delay[1];
    }
    ck_assert_msg(copies_differ, "duplicates should draw their own latency");

    p.dup = 0.25;
    net_set_all(nw, &p);
    int dups = 0;
    for (int i = 0; i < 10000; i++) {
        net_transmit(nw, 1, 0, 10, i * SIM_MS, &f);
        ck_assert(f.copies == 1 || f.copies == 2);
        dups += f.copies == 2;
    }
    ck_assert_int_gt(dups, 2200);
    ck_assert_int_lt(dups, 2800);
    net_free(nw);
}
END_TEST

/* Sends count messages 100 us apart on a link with 1..50 ms latency and
 * returns how many arrive before the one sent just before them. */
static int count_overtakes(const struct link_params *p, int count, int *reordered)
{
    net *nw = net_with(2, p);
    sim_time last_arrival = -1;
    int overtakes = 0;
    *reordered = 0;
    for (int i = 0; i < count; i++) {
        sim_time now = i * 100 * SIM_US;
        struct net_fate f;
        net_transmit(nw, 0, 1, 10, now, &f);
        ck_assert_int_eq(f.verdict, NET_DELIVER);
        ck_assert_int_ge(f.delay[0], 0);
        if (f.reordered) {
            (*reordered)++;
            continue;
        }
        sim_time arrival = now + f.delay[0];
        overtakes += arrival < last_arrival;
        last_arrival = arrival;
    }
    net_free(nw);
    return overtakes;
}

START_TEST(test_fifo_never_reorders)
{
    struct link_params p;
    net_default_params(&p);
    p.latency = (struct latency){ .kind = LAT_UNIFORM, .a = 1 * SIM_MS, .b = 50 * SIM_MS };
    int reordered;
    /* Control: the same link without fifo does reorder. */
    ck_assert_int_gt(count_overtakes(&p, 2000, &reordered), 100);
    p.fifo = true;
    ck_assert_int_eq(count_overtakes(&p, 2000, &reordered), 0);
    ck_assert_int_eq(reordered, 0);
}
END_TEST

START_TEST(test_reorder_holds_back_and_bypasses_fifo)
{
    struct link_params p = constant_params(1 * SIM_MS);
    p.fifo = true;
    p.reorder = 0.2;
    p.reorder_delay = 10 * SIM_MS;
    net *nw = net_with(2, &p);
    int reordered = 0;
    sim_time last_in_order = 0;
    for (int i = 0; i < 2000; i++) {
        sim_time now = i * SIM_MS / 2;
        struct net_fate f;
        net_transmit(nw, 0, 1, 10, now, &f);
        if (f.reordered) {
            reordered++;
            ck_assert_int_eq(f.delay[0], 11 * SIM_MS);
        } else {
            /* In-order messages are not held behind reordered ones. */
            ck_assert_int_eq(f.delay[0], 1 * SIM_MS);
            ck_assert_int_ge(now + f.delay[0], last_in_order);
            last_in_order = now + f.delay[0];
        }
    }
    ck_assert_int_gt(reordered, 300);
    ck_assert_int_lt(reordered, 500);
    net_free(nw);
}
END_TEST

START_TEST(test_bandwidth_serialises)
{
    struct link_params p = constant_params(2 * SIM_MS);
    p.bandwidth = 1000; /* one byte per ms */
    net *nw = net_with(3, &p);
    struct net_fate f;
    for (int i = 1; i <= 3; i++) {
        net_transmit(nw, 0, 1, 10, 0, &f);
        ck_assert_int_eq(f.verdict, NET_DELIVER);
        ck_assert_int_eq(f.delay[0], i * 10 * SIM_MS + 2 * SIM_MS);
    }
    /* Another link has its own queue. */
    net_transmit(nw, 0, 2, 10, 0, &f);
    ck_assert_int_eq(f.delay[0], 12 * SIM_MS);
    /* Once the queue has drained a message waits only for itself. */
    net_transmit(nw, 0, 1, 5, 1 * SIM_S, &f);
    ck_assert_int_eq(f.delay[0], 7 * SIM_MS);
    /* Partial ns round up: 1 byte at 3 bytes/s. */
    p.bandwidth = 3;
    net_set_link(nw, 1, 0, &p);
    net_transmit(nw, 1, 0, 1, 0, &f);
    ck_assert_int_eq(f.delay[0], 333333334 + 2 * SIM_MS);
    net_free(nw);
}
END_TEST

/* ---- latency distributions ---- */

static pcg32 test_rng(void)
{
    pcg32 rng;
    pcg32_stream(&rng, SEED, 42);
    return rng;
}

START_TEST(test_constant_latency_is_exact)
{
    pcg32 rng = test_rng(), before = rng;
    struct latency l = { .kind = LAT_CONSTANT, .a = 1234567 };
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(net_draw_latency(&l, &rng), 1234567);
    ck_assert(rng.state == before.state); /* no draws */
}
END_TEST

START_TEST(test_uniform_latency_within_bounds)
{
    pcg32 rng = test_rng();
    struct latency l = { .kind = LAT_UNIFORM, .a = 100, .b = 109 };
    int seen[10] = { 0 };
    for (int i = 0; i < 10000; i++) {
        sim_time t = net_draw_latency(&l, &rng);
        ck_assert_int_ge(t, 100);
        ck_assert_int_le(t, 109);
        seen[t - 100]++;
    }
    for (int v = 0; v < 10; v++)
        ck_assert_int_gt(seen[v], 800); /* both ends and all between */
}
END_TEST

static void sample_stats(const struct latency *l, int count, double *mean, double *sd, sim_time *min)
{
    pcg32 rng = test_rng();
    double sum = 0.0, sum_sq = 0.0;
    *min = SIM_TIME_MAX;
    for (int i = 0; i < count; i++) {
        sim_time t = net_draw_latency(l, &rng);
        sum += (double)t;
        sum_sq += (double)t * (double)t;
        if (t < *min)
            *min = t;
    }
    *mean = sum / count;
    *sd = sqrt(sum_sq / count - *mean * *mean);
}

START_TEST(test_normal_mean_and_sd)
{
    struct latency l = { .kind = LAT_NORMAL, .a = 10 * SIM_MS, .b = 2 * SIM_MS };
    double mean, sd;
    sim_time min;
    sample_stats(&l, 40000, &mean, &sd, &min);
    ck_assert_double_eq_tol(mean, 10e6, 0.05e6);
    ck_assert_double_eq_tol(sd, 2e6, 0.1e6);
}
END_TEST

START_TEST(test_normal_is_clamped_at_zero)
{
    struct latency l = { .kind = LAT_NORMAL, .a = 1 * SIM_MS, .b = 5 * SIM_MS };
    pcg32 rng = test_rng();
    int zeros = 0;
    for (int i = 0; i < 10000; i++) {
        sim_time t = net_draw_latency(&l, &rng);
        ck_assert_int_ge(t, 0);
        zeros += t == 0;
    }
    ck_assert_int_gt(zeros, 3000); /* P(Z < -0.2) ~ 0.42 */
}
END_TEST

START_TEST(test_lognormal_median_is_a)
{
    struct latency l = { .kind = LAT_LOGNORMAL, .a = 5 * SIM_MS, .shape = 0.8 };
    pcg32 rng = test_rng();
    int below = 0, far_above = 0;
    for (int i = 0; i < 20000; i++) {
        sim_time t = net_draw_latency(&l, &rng);
        ck_assert_int_gt(t, 0);
        below += t < 5 * SIM_MS;
        far_above += t > 5 * SIM_MS * 3.7; /* e^(0.8 * 1.645): 95th percentile */
    }
    ck_assert_int_gt(below, 9600);
    ck_assert_int_lt(below, 10400);
    ck_assert_int_gt(far_above, 800);
    ck_assert_int_lt(far_above, 1200);
}
END_TEST

START_TEST(test_pareto_never_below_minimum_and_capped)
{
    pcg32 rng = test_rng();
    struct latency l = { .kind = LAT_PARETO, .a = 1 * SIM_MS, .b = 20 * SIM_MS, .shape = 1.5 };
    int capped = 0, above_2x = 0;
    for (int i = 0; i < 20000; i++) {
        sim_time t = net_draw_latency(&l, &rng);
        ck_assert_int_ge(t, 1 * SIM_MS);
        ck_assert_int_le(t, 20 * SIM_MS);
        capped += t == 20 * SIM_MS;
        above_2x += t > 2 * SIM_MS;
    }
    /* P(X > 20a) = 20^-1.5 ~ 1.1%; P(X > 2a) = 2^-1.5 ~ 35.4% */
    ck_assert_int_gt(capped, 140);
    ck_assert_int_lt(capped, 310);
    ck_assert_int_gt(above_2x, 6700);
    ck_assert_int_lt(above_2x, 7450);

    /* Without a cap the tail goes well past it. */
    l.b = 0;
    sim_time max = 0;
    for (int i = 0; i < 20000; i++) {
        sim_time t = net_draw_latency(&l, &rng);
        ck_assert_int_ge(t, 1 * SIM_MS);
        if (t > max)
            max = t;
    }
    ck_assert_int_gt(max, 100 * SIM_MS);
}
END_TEST

/* ---- determinism ---- */

START_TEST(test_link_streams_independent)
{
    net *quiet = net_new(3, SEED);
    net *busy = net_new(3, SEED);
    struct net_fate fq, fb, other;
    bool differs_from_other_link = false;
    for (int i = 0; i < 500; i++) {
        /* Traffic on 2 -> 1 and 1 -> 0 must not disturb 0 -> 1. */
        net_transmit(busy, 2, 1, 10, i * SIM_MS, &other);
        net_transmit(busy, 1, 0, 10, i * SIM_MS, &other);
        net_transmit(quiet, 0, 1, 10, i * SIM_MS, &fq);
        net_transmit(busy, 0, 1, 10, i * SIM_MS, &fb);
        ck_assert_msg(fates_equal(&fq, &fb), "message %d on 0->1 changed", i);
        differs_from_other_link |= !fates_equal(&fb, &other);
    }
    ck_assert_msg(differs_from_other_link, "links 0->1 and 1->0 share a stream");
    net_free(quiet);
    net_free(busy);
}
END_TEST

START_TEST(test_link_draws_from_its_documented_stream)
{
    /* Link (from, to) uses stream PCG_STREAM_LINK + from * 2^20 + to of the
     * run seed: replays and other tools rely on that id. */
    struct link_params p;
    net_default_params(&p);
    p.latency = (struct latency){ .kind = LAT_UNIFORM, .a = 0, .b = SIM_S };
    net *nw = net_with(4, &p);
    pcg32 expect;
    pcg32_stream(&expect, SEED, (uint64_t)PCG_STREAM_LINK + ((uint64_t)3 << 20) + 1);
    for (int i = 0; i < 20; i++) {
        struct net_fate f;
        net_transmit(nw, 3, 1, 10, 0, &f);
        ck_assert_int_eq(f.delay[0], net_draw_latency(&p.latency, &expect));
    }
    net_free(nw);
}
END_TEST

START_TEST(test_every_link_has_its_own_stream)
{
    enum { N = 4 };
    net *nw = net_new(N, SEED);
    uint64_t seq[N * N];
    for (int from = 0; from < N; from++) {
        for (int to = 0; to < N; to++) {
            uint64_t h = 0xcbf29ce484222325ULL;
            for (int i = 0; i < 50; i++) {
                struct net_fate f;
                net_transmit(nw, from, to, 10, i * SIM_MS, &f);
                h = (h ^ (uint64_t)f.delay[0]) * 0x100000001b3ULL;
            }
            seq[from * N + to] = h;
        }
    }
    for (int i = 0; i < N * N; i++)
        for (int j = i + 1; j < N * N; j++)
            ck_assert_msg(seq[i] != seq[j], "links %d->%d and %d->%d draw the same", i / N, i % N,
                          j / N, j % N);
    net_free(nw);
}
END_TEST

/* Runs a fixed mix of traffic and returns a hash of all the fates. */
static uint64_t traffic_hash(uint64_t seed)
{
    struct link_params p;
    net_default_params(&p);
    p.loss = 0.1;
    p.dup = 0.1;
    p.reorder = 0.1;
    p.reorder_delay = 5 * SIM_MS;
    net *nw = net_new(4, seed);
    net_set_all(nw, &p);
    p.latency = (struct latency){ .kind = LAT_PARETO, .a = 1 * SIM_MS, .shape = 1.2 };
    net_set_link(nw, 3, 0, &p);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (int i = 0; i < 4000; i++) {
        struct net_fate f;
        net_transmit(nw, i % 4, (i / 4) % 4, 10, i * SIM_US, &f);
        uint64_t words[4] = { (uint64_t)f.verdict, (uint64_t)f.copies,
                              (uint64_t)f.delay[0], f.copies == 2 ? (uint64_t)f.delay[1] : 0 };
        for (int w = 0; w < 4; w++)
            h = (h ^ words[w]) * 0x100000001b3ULL;
    }
    net_free(nw);
    return h;
}

START_TEST(test_same_seed_same_draws)
{
    ck_assert(traffic_hash(7) == traffic_hash(7));
    ck_assert(traffic_hash(SEED) == traffic_hash(SEED));
}
END_TEST

START_TEST(test_different_seeds_differ)
{
    ck_assert(traffic_hash(7) != traffic_hash(8));
    ck_assert(traffic_hash(7) != traffic_hash(SEED));
}
END_TEST

Suite *net_suite(void);

Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("params");
    tcase_add_test(tc, test_default_params_are_uniform_1_to_3_ms);
    tcase_add_test(tc, test_set_link_is_one_way);
    tcase_add_test(tc, test_resize_keeps_existing_links);
    suite_add_tcase(s, tc);

    tc = tcase_create("reachability");
    tcase_add_test(tc, test_partition_blocks_both_directions);
    tcase_add_test(tc, test_partition_replaces_previous_and_clears_cuts);
    tcase_add_test(tc, test_cut_is_one_way);
    tcase_add_test(tc, test_isolate_leaves_clients_reachable);
    tcase_add_test(tc, test_heal_restores_everything);
    tcase_add_test(tc, test_self_is_always_reachable);
    tcase_add_test(tc, test_partitioned_link_draws_nothing);
    suite_add_tcase(s, tc);

    tc = tcase_create("transmit");
    tcase_add_test(tc, test_loss_rate_close_to_parameter);
    tcase_add_test(tc, test_dup_gives_two_copies);
    tcase_add_test(tc, test_fifo_never_reorders);
    tcase_add_test(tc, test_reorder_holds_back_and_bypasses_fifo);
    tcase_add_test(tc, test_bandwidth_serialises);
    suite_add_tcase(s, tc);

    tc = tcase_create("latency");
    tcase_add_test(tc, test_constant_latency_is_exact);
    tcase_add_test(tc, test_uniform_latency_within_bounds);
    tcase_add_test(tc, test_normal_mean_and_sd);
    tcase_add_test(tc, test_normal_is_clamped_at_zero);
    tcase_add_test(tc, test_lognormal_median_is_a);
    tcase_add_test(tc, test_pareto_never_below_minimum_and_capped);
    suite_add_tcase(s, tc);

    tc = tcase_create("determinism");
    tcase_add_test(tc, test_link_streams_independent);
    tcase_add_test(tc, test_every_link_has_its_own_stream);
    tcase_add_test(tc, test_link_draws_from_its_documented_stream);
    tcase_add_test(tc, test_same_seed_same_draws);
    tcase_add_test(tc, test_different_seeds_differ);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
