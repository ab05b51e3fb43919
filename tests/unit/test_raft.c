/* Unit tests of the Raft model, driven through the world directly: each
 * test builds a cluster, runs it, and looks inside the nodes with
 * raft_inspect (models/raft.h). */
#include "world.h"
#include "workload.h"
#include "alloc.h"
#include "models/raft.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NODES 8

/* raft_model with init/destroy wrapped so the tests see every node's state
 * (NULL while crashed) and its context. */
static void *states[MAX_NODES];
static node_ctx *ctxs[MAX_NODES];
static struct model spy_model;

static void *spy_init(node_ctx *ctx)
{
    void *s = raft_model.init(ctx);
    states[node_self(ctx)] = s;
    ctxs[node_self(ctx)] = ctx;
    return s;
}

static void spy_destroy(void *state)
{
    for (int i = 0; i < MAX_NODES; i++)
        if (states[i] == state)
            states[i] = NULL;
    raft_model.destroy(state);
}

/* A world of n raft nodes with params given as "name=value" pairs (NULL
 * terminated). keep_going: count invariant violations instead of stopping. */
static world *make_world(uint64_t seed, int n, const char *const *kv, bool keep_going)
{
    char err[256];
    memset(states, 0, sizeof states);
    memset(ctxs, 0, sizeof ctxs);
    spy_model = raft_model;
    spy_model.init = spy_init;
    spy_model.destroy = spy_destroy;
    params *p = params_new("raft", raft_model.params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; kv && kv[i]; i++) {
        char name[64];
        const char *eq = strchr(kv[i], '=');
        ck_assert_ptr_nonnull(eq);
        snprintf(name, sizeof name, "%.*s", (int)(eq - kv[i]), kv[i]);
        ck_assert_msg(params_set_text(p, name, eq + 1, err, sizeof err) == 0, "%s", err);
    }
    world *w = world_new(seed, NULL);
    world_set_keep_going(w, keep_going);
    ck_assert_msg(world_cluster(w, &spy_model, p, n, NULL, err, sizeof err) == 0, "%s", err);
    return w;
}

static void add_clients(world *w, int clients, double read, double write, double cas,
                        sim_time duration, sim_time timeout, int retries)
{
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = clients;
    wl.n_keys = 2;
    wl.keys = sim_xcalloc(2, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    wl.keys[1] = sim_xstrdup("y");
    memset(wl.mix, 0, sizeof wl.mix);
    wl.mix[OP_READ] = read;
    wl.mix[OP_WRITE] = write;
    wl.mix[OP_CAS] = cas;
    wl.think = 5 * SIM_MS;
    wl.duration = duration;
    wl.timeout = timeout;
    wl.retries = retries;
    wl.target = WL_TARGET_LEADER;
    char err[256];
    ck_assert_msg(world_workload(w, &wl, err, sizeof err) == 0, "%s", err);
}

static int leaders(int n, int64_t *term)
{
    int count = 0;
    for (int i = 0; i < n; i++) {
        struct raft_info in;
        if (!states[i])
            continue;
        raft_inspect(states[i], &in);
        if (strcmp(in.role, "leader") == 0) {
            count++;
            if (term)
                *term = in.term;
        }
    }
    return count;
}

static int leader_index(int n)
{
    for (int i = 0; i < n; i++) {
        struct raft_info in;
        if (!states[i])
            continue;
        raft_inspect(states[i], &in);
        if (strcmp(in.role, "leader") == 0)
            return i;
    }
    return -1;
}

/* ---- election ---------------------------------------------------------------- */

START_TEST(test_three_nodes_elect_exactly_one_leader)
{
    world *w = make_world(1, 3, NULL, false);
    ck_assert_int_eq(world_run(w, 2 * SIM_S), WORLD_OK);
    int64_t term = 0;
    ck_assert_int_eq(leaders(3, &term), 1);
    ck_assert_int_ge(term, 1);
    int l = leader_index(3);
    for (int i = 0; i < 3; i++) {
        struct raft_info in;
        raft_inspect(states[i], &in);
        ck_assert_int_eq(in.term, term);
        ck_assert_int_eq(in.leader, l);
        ck_assert_uint_ge(in.commit, 1);   /* the leader's no-op */
    }
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    world_free(w);
}
END_TEST

START_TEST(test_one_node_cluster_is_its_own_majority)
{
    world *w = make_world(2, 1, NULL, false);
    add_clients(w, 2, 0.4, 0.4, 0.2, SIM_S, 100 * SIM_MS, 0);
    ck_assert_int_eq(world_run(w, 2 * SIM_S), WORLD_OK);
    ck_assert_int_eq(leaders(1, NULL), 1);
    const struct world_stats *st = world_stats(w);
    ck_assert_uint_gt(st->ops_ok, 100);
    ck_assert_uint_eq(st->ops_info, 0);
    world_free(w);
}
END_TEST

START_TEST(test_new_leader_after_leader_crash)
{
    world *w = make_world(3, 5, NULL, false);
    add_clients(w, 3, 0.4, 0.4, 0.2, 3 * SIM_S, 150 * SIM_MS, 4);
    ck_assert_int_eq(world_run(w, SIM_S), WORLD_OK);
    int64_t old_term = 0;
    ck_assert_int_eq(leaders(5, &old_term), 1);
    int old = leader_index(5);
    struct raft_info before;
    raft_inspect(states[old], &before);
    world_crash(w, old);
    ck_assert_int_eq(world_run(w, 2 * SIM_S), WORLD_OK);
    int64_t new_term = 0;
    ck_assert_int_eq(leaders(5, &new_term), 1);
    ck_assert_int_gt(new_term, old_term);
    ck_assert_int_ne(leader_index(5), old);
    /* the restarted node keeps its term and log from the store */
    world_restart(w, old);
    struct raft_info after;
    raft_inspect(states[old], &after);
    ck_assert_int_eq(after.term, before.term);
    ck_assert_uint_ge(after.last_index, before.commit);
    ck_assert_str_eq(after.role, "follower");
    ck_assert_int_eq(world_run(w, 4 * SIM_S), WORLD_OK);
    raft_inspect(states[old], &after);
    ck_assert_int_eq(after.term, new_term);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    world_free(w);
}
END_TEST

START_TEST(test_minority_leader_cannot_commit)
{
    world *w = make_world(4, 5, NULL, false);
    ck_assert_int_eq(world_run(w, SIM_S), WORLD_OK);
    int l = leader_index(5);
    ck_assert_int_ge(l, 0);
    /* cut the leader and one follower off from the other three */
    int group[5];
    int buddy = (l + 1) % 5;
    for (int i = 0; i < 5; i++)
        group[i] = i == l || i == buddy ? 0 : 1;
    int *g = sim_xcalloc((size_t)world_nodes(w) + (size_t)world_clients(w), sizeof *g);
    for (int i = 0; i < 5; i++)
        g[i] = group[i];
    world_partition(w, g);
    sim_free(g);
    struct raft_info before;
    raft_inspect(states[l], &before);
    /* a client write arrives at the old leader: it appends, cannot commit */
    struct sim_op op = { .id = 1000, .client = 0, .attempt = 1, .type = OP_WRITE, .key = "x", .value = 7 };
    raft_model.on_request(states[l], ctxs[l], &op);
    ck_assert_int_eq(world_run(w, 3 * SIM_S), WORLD_OK);
    struct raft_info after;
    raft_inspect(states[l], &after);
    ck_assert_str_eq(after.role, "leader");            /* it still believes it leads */
    ck_assert_uint_eq(after.last_index, before.last_index + 1);
    ck_assert_uint_eq(after.commit, before.commit);     /* and commits nothing */
    ck_assert_int_eq(leaders(5, NULL), 2);               /* the majority elected another */
    int64_t v;
    ck_assert(!raft_value(states[l], "x", &v));
    world_heal(w);
    ck_assert_int_eq(world_run(w, 4 * SIM_S), WORLD_OK);
    ck_assert_int_eq(leaders(5, NULL), 1);
    raft_inspect(states[l], &after);
    ck_assert_str_eq(after.role, "follower");
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    world_free(w);
}
END_TEST

/* A follower cut off for a while: without PreVote it raises its term again
 * and again, and on its return deposes the working leader; with PreVote it
 * never raises its term, and the leader stays. */
static void run_cut_off_follower(bool prevote, int64_t *term_before, int64_t *term_after,
                                 int64_t *away_term, bool *same_leader)
{
    const char *kv[] = { prevote ? "prevote=true" : "prevote=false", NULL };
    world *w = make_world(8, 3, kv, false);
    ck_assert_int_eq(world_run(w, SIM_S), WORLD_OK);
    int l = leader_index(3);
    ck_assert_int_ge(l, 0);
    leaders(3, term_before);
    int away = (l + 1) % 3;
    world_isolate(w, away);
    ck_assert_int_eq(world_run(w, 3 * SIM_S), WORLD_OK);
    struct raft_info in;
    raft_inspect(states[away], &in);
    *away_term = in.term;
    world_heal(w);
    ck_assert_int_eq(world_run(w, 5 * SIM_S), WORLD_OK);
    ck_assert_int_eq(leaders(3, term_after), 1);
    *same_leader = leader_index(3) == l;
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    world_free(w);
}

START_TEST(test_prevote_keeps_a_returning_node_from_deposing_the_leader)
{
    int64_t before, after, away;
    bool same;
    run_cut_off_follower(false, &before, &after, &away, &same);
    ck_assert_int_gt(away, before + 3);    /* its elections raised its term */
    ck_assert_int_gt(after, before);       /* and the cluster had to follow */
    run_cut_off_follower(true, &before, &after, &away, &same);
    ck_assert_int_eq(away, before);        /* PreVote failed, term untouched */
    ck_assert_int_eq(after, before);
    ck_assert(same);
}
END_TEST

/* The leader is cut off alone and a client keeps reading from it: how many
 * reads does it still answer, and how many time out? */
static void run_reads_at_cut_off_leader(const char *reads, uint64_t *ok, uint64_t *failed)
{
    const char *kv[] = { reads, NULL };
    world *w = make_world(9, 5, kv, false);
    ck_assert_int_eq(world_run(w, SIM_S), WORLD_OK);
    int l = leader_index(5);
    ck_assert_int_ge(l, 0);
    world_isolate(w, l);
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = 1;
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    memset(wl.mix, 0, sizeof wl.mix);
    wl.mix[OP_READ] = 1;
    wl.think = 2 * SIM_MS;
    wl.start = world_now(w);
    wl.duration = SIM_S;
    wl.timeout = 50 * SIM_MS;
    wl.target = WL_TARGET_NODE;
    wl.node = l;
    char err[256];
    ck_assert_msg(world_workload(w, &wl, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(world_run(w, 3 * SIM_S), WORLD_OK);
    *ok = world_stats(w)->ops_ok;
    *failed = world_stats(w)->ops_fail;
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    world_free(w);
}

START_TEST(test_only_a_lease_answers_reads_without_a_majority)
{
    uint64_t ok, failed;
    run_reads_at_cut_off_leader("reads=lease", &ok, &failed);
    /* while the lease runs (135 ms from a heartbeat sent before the cut,
     * so some 35-85 ms are left), then they time out */
    ck_assert_uint_gt(ok, 3);
    ck_assert_uint_gt(failed, 5);
    ck_assert_uint_lt(ok, 30);
    run_reads_at_cut_off_leader("reads=readindex", &ok, &failed);
    ck_assert_uint_eq(ok, 0);
    ck_assert_uint_gt(failed, 5);
    run_reads_at_cut_off_leader("reads=log", &ok, &failed);
    ck_assert_uint_eq(ok, 0);
    run_reads_at_cut_off_leader("reads=follower", &ok, &failed);
    ck_assert_uint_gt(ok, 150);        /* any node answers, always */
    ck_assert_uint_eq(failed, 0);
}
END_TEST

/* ---- the state machine and sessions ------------------------------------------------ */

START_TEST(test_retried_write_is_applied_once)
{
    world *w = make_world(5, 3, NULL, false);
    add_clients(w, 1, 1.0, 0.0, 0.0, SIM_MS, 100 * SIM_MS, 0);   /* client 0 exists */
    ck_assert_int_eq(world_run(w, SIM_S), WORLD_OK);
    int l = leader_index(3);
    ck_assert_int_ge(l, 0);
    struct raft_info before, in;
    raft_inspect(states[l], &before);
    /* the same write arrives twice before it commits: one entry */
    struct sim_op op = { .id = 5000, .client = 0, .attempt = 1, .type = OP_WRITE, .key = "x", .value = 42 };
    raft_model.on_request(states[l], ctxs[l], &op);
    op.attempt = 2;
    raft_model.on_request(states[l], ctxs[l], &op);
    raft_inspect(states[l], &in);
    ck_assert_uint_eq(in.last_index, before.last_index + 1);
    ck_assert_int_eq(world_run(w, 2 * SIM_S), WORLD_OK);
    /* and again after it was applied: answered from the session, no entry */
    op.attempt = 3;
    raft_model.on_request(states[l], ctxs[l], &op);
    raft_inspect(states[l], &in);
    ck_assert_uint_eq(in.last_index, before.last_index + 1);
    /* a cas retried after it was applied is not applied again (it would
     * fail the second time and the client would be told so) */
    struct sim_op cas = { .id = 5001, .client = 0, .attempt = 1, .type = OP_CAS, .key = "x",
                          .value = 43, .expect = 42 };
    raft_model.on_request(states[l], ctxs[l], &cas);
    ck_assert_int_eq(world_run(w, 3 * SIM_S), WORLD_OK);
    cas.attempt = 2;
    raft_model.on_request(states[l], ctxs[l], &cas);
    ck_assert_int_eq(world_run(w, 4 * SIM_S), WORLD_OK);
    raft_inspect(states[l], &in);
    ck_assert_uint_eq(in.last_index, before.last_index + 2);
    for (int i = 0; i < 3; i++) {
        int64_t v = 0;
        ck_assert(raft_value(states[i], "x", &v));
        ck_assert_int_eq(v, 43);
    }
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    world_free(w);
}
END_TEST

START_TEST(test_snapshots_bound_the_log)
{
    static const char *const kv[] = { "snapshot_every=50", NULL };
    world *w = make_world(6, 3, kv, false);
    add_clients(w, 4, 0.3, 0.5, 0.2, 5 * SIM_S, 150 * SIM_MS, 3);
    ck_assert_int_eq(world_run(w, SIM_S), WORLD_OK);
    /* a follower away for a while catches up by InstallSnapshot */
    int l = leader_index(3);
    int away = (l + 1) % 3;
    world_crash(w, away);
    ck_assert_int_eq(world_run(w, 3 * SIM_S), WORLD_OK);
    world_restart(w, away);
    ck_assert_int_eq(world_run(w, 7 * SIM_S), WORLD_OK);
    for (int i = 0; i < 3; i++) {
        struct raft_info in;
        raft_inspect(states[i], &in);
        ck_assert_uint_gt(in.snapshot_index, 100);
        ck_assert_uint_le(in.log_len, 50 + 10);
        ck_assert_uint_eq(in.applied, in.commit);
    }
    struct raft_info a, b;
    raft_inspect(states[l], &a);
    raft_inspect(states[away], &b);
    ck_assert_uint_eq(a.commit, b.commit);
    int64_t va, vb;
    ck_assert(raft_value(states[l], "x", &va) && raft_value(states[away], "x", &vb));
    ck_assert_int_eq(va, vb);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    world_free(w);
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------ */

START_TEST(test_malformed_messages_are_ignored)
{
    world *w = make_world(7, 3, NULL, false);
    add_clients(w, 2, 0.4, 0.4, 0.2, 3 * SIM_S, 150 * SIM_MS, 3);
    ck_assert_int_eq(world_run(w, SIM_S), WORLD_OK);
    struct raft_info before[3];
    for (int i = 0; i < 3; i++)
        raft_inspect(states[i], &before[i]);
    unsigned char junk[600];
    uint32_t x = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t len = (size_t)(round % (int)sizeof junk);
        for (size_t k = 0; k < len; k++) {
            x = x * 1103515245u + 12345u;
            junk[k] = (unsigned char)(x >> 16);
        }
        if (len >= 4) {   /* a valid type, so the parsers behind it are reached */
            uint32_t type = (uint32_t)(round % 6);
            memcpy(junk, &type, sizeof type);
        }
        int to = round % 3, from = (round + 1) % 3;
        raft_model.on_message(states[to], ctxs[to], from, junk, len);
        jw out;
        jw_init(&out);
        jw_obj(&out);
        raft_model.describe_msg(junk, len, &out);
        jw_obj_end(&out);
        jw_free(&out);
    }
    for (int i = 0; i < 3; i++) {
        struct raft_info in;
        raft_inspect(states[i], &in);
        ck_assert_int_eq(in.term, before[i].term);      /* random terms were refused */
    }
    ck_assert_int_eq(world_run(w, 4 * SIM_S), WORLD_OK);
    ck_assert_int_eq(leaders(3, NULL), 1);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    world_free(w);
}
END_TEST

START_TEST(test_validate_refuses_bad_parameters)
{
    static const struct { const char *kv[3]; const char *says; } bad[] = {
        { { "election_timeout=50ms", "heartbeat=50ms", NULL }, "election_timeout" },
        { { "election_timeout=40ms", "heartbeat=50ms", NULL }, "above heartbeat" },
        { { "heartbeat=0", NULL, NULL }, "heartbeat must be above 0" },
        { { "lease_ratio=0", NULL, NULL }, "lease_ratio" },
        { { "lease_ratio=1.5", NULL, NULL }, "lease_ratio" },
        { { "snapshot_every=-1", NULL, NULL }, "snapshot_every" },
        { { "max_batch=0", NULL, NULL }, "max_batch" },
        { { "reads=lease", "lease_ratio=0.2", NULL }, "lease" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        params *p = params_new("raft", raft_model.params, err, sizeof err);
        for (int k = 0; bad[i].kv[k]; k++) {
            char name[64];
            const char *eq = strchr(bad[i].kv[k], '=');
            snprintf(name, sizeof name, "%.*s", (int)(eq - bad[i].kv[k]), bad[i].kv[k]);
            ck_assert_int_eq(params_set_text(p, name, eq + 1, err, sizeof err), 0);
        }
        err[0] = 0;
        ck_assert_int_eq(raft_model.validate(p, 3, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].says) != NULL, "case %zu: %s", i, err);
        params_free(p);
    }
    params *p = params_new("raft", raft_model.params, err, sizeof err);
    for (int n = 1; n <= 6; n++)
        ck_assert_int_eq(raft_model.validate(p, n, err, sizeof err), 0);
    params_free(p);
}
END_TEST

START_TEST(test_cap_class_per_read_mode)
{
    static const struct { const char *reads, *cls; } want[] = {
        { "log", "PC/EC" }, { "readindex", "PC/EC" }, { "lease", "PC/EC" }, { "follower", "PC/EL" },
    };
    char err[256];
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        params *p = params_new("raft", raft_model.params, err, sizeof err);
        ck_assert_int_eq(params_set_text(p, "reads", want[i].reads, err, sizeof err), 0);
        ck_assert_str_eq(raft_model.cap_class(p), want[i].cls);
        params_free(p);
    }
}
END_TEST

/* ---- invariants and mutants ------------------------------------------------------------ */

/* Split votes are common with slow links and short timeouts; a crash
 * every so often makes many elections. */
static uint64_t run_split_votes(const char *mutant, uint64_t seed)
{
    const char *kv[] = { "election_timeout=40ms", "heartbeat=15ms", mutant, NULL };
    world *w = make_world(seed, 5, kv, true);
    struct link_params lp = *net_link(world_net(w), 0, 1);
    lp.latency.kind = LAT_UNIFORM;
    lp.latency.a = 5 * SIM_MS;
    lp.latency.b = 25 * SIM_MS;
    net_set_all(world_net(w), &lp);
    for (int k = 1; k <= 8; k++) {
        ck_assert_int_eq(world_run(w, (sim_time)k * 300 * SIM_MS), WORLD_OK);
        int l = leader_index(5);
        if (l >= 0) {
            world_crash(w, l);
            ck_assert_int_eq(world_run(w, (sim_time)k * 300 * SIM_MS + 100 * SIM_MS), WORLD_OK);
            world_restart(w, l);
        }
    }
    uint64_t v = world_stats(w)->invariant_violations;
    world_free(w);
    return v;
}

START_TEST(test_vote_twice_mutant_breaks_election_safety)
{
    uint64_t with = 0, without = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        with += run_split_votes("mutant=vote_twice", seed);
        without += run_split_votes("mutant=none", seed);
    }
    ck_assert_uint_gt(with, 0);
    ck_assert_uint_eq(without, 0);
}
END_TEST

START_TEST(test_invariant_stops_the_run_and_names_the_nodes)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        const char *kv[] = { "election_timeout=40ms", "heartbeat=15ms", "mutant=vote_twice", NULL };
        world *w = make_world(seed, 5, kv, false);
        struct link_params lp = *net_link(world_net(w), 0, 1);
        lp.latency.kind = LAT_UNIFORM;
        lp.latency.a = 5 * SIM_MS;
        lp.latency.b = 25 * SIM_MS;
        net_set_all(world_net(w), &lp);
        int rc = world_run(w, 2 * SIM_S);
        if (rc == WORLD_INVARIANT) {
            sim_time at;
            const char *report = NULL;
            ck_assert(world_halted(w, &at, &report));
            ck_assert_ptr_nonnull(strstr(report, "election safety: n"));
            ck_assert_ptr_nonnull(strstr(report, "both lead term"));
            world_free(w);
            return;
        }
        world_free(w);
    }
    ck_abort_msg("vote_twice never broke election safety in 20 seeds");
}
END_TEST

static Suite *raft_suite(void)
{
    Suite *s = suite_create("raft");
    TCase *tc = tcase_create("raft");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_three_nodes_elect_exactly_one_leader);
    tcase_add_test(tc, test_one_node_cluster_is_its_own_majority);
    tcase_add_test(tc, test_new_leader_after_leader_crash);
    tcase_add_test(tc, test_minority_leader_cannot_commit);
    tcase_add_test(tc, test_prevote_keeps_a_returning_node_from_deposing_the_leader);
    tcase_add_test(tc, test_only_a_lease_answers_reads_without_a_majority);
    tcase_add_test(tc, test_retried_write_is_applied_once);
    tcase_add_test(tc, test_snapshots_bound_the_log);
    tcase_add_test(tc, test_malformed_messages_are_ignored);
    tcase_add_test(tc, test_validate_refuses_bad_parameters);
    tcase_add_test(tc, test_cap_class_per_read_mode);
    tcase_add_test(tc, test_vote_twice_mutant_breaks_election_safety);
    tcase_add_test(tc, test_invariant_stops_the_run_and_names_the_nodes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(raft_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
