/* Unit tests of the paxos and multipaxos models, driven through a world.
 *
 * The models keep their state opaque; a "spy" copy of each model wraps its
 * check callback (run after every node event) to keep the latest view of
 * every node's state, and the tests read a state through the model's own
 * describe callback, parsed with cJSON. */
#include "world.h"
#include "alloc.h"

#include <cJSON.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct model paxos_model;
extern const struct model multipaxos_model;

/* ---- the spy -------------------------------------------------------------- */

static struct {
    const struct model *real;
    int n_nodes;
    void *states[16];
    int checks_failed;
} SPY;

static struct model spy_model;

static int spy_check(const struct model_view *view, char *why, size_t whylen)
{
    SPY.n_nodes = view->n_nodes;
    for (int i = 0; i < view->n_nodes && i < 16; i++)
        SPY.states[i] = view->states[i];
    int bad = SPY.real->check(view, why, whylen);
    SPY.checks_failed += bad != 0;
    return bad;
}

/* A world of n nodes running model m (through the spy) with params given
 * as "name=value" strings, NULL-terminated. */
static world *spy_world(const struct model *m, uint64_t seed, int n, const char *const *settings)
{
    memset(&SPY, 0, sizeof SPY);
    SPY.real = m;
    spy_model = *m;
    spy_model.check = spy_check;
    char err[256];
    params *p = params_new(m->name, m->params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    for (const char *const *s = settings; s && *s; s++) {
        char name[64];
        const char *eq = strchr(*s, '=');
        ck_assert_ptr_nonnull(eq);
        snprintf(name, sizeof name, "%.*s", (int)(eq - *s), *s);
        ck_assert_msg(params_set_text(p, name, eq + 1, err, sizeof err) == 0, "%s", err);
    }
    world *w = world_new(seed, NULL);
    ck_assert_msg(world_cluster(w, &spy_model, p, n, NULL, err, sizeof err) == 0, "%s", err);
    return w;
}

static void add_clients(world *w, int clients, const char *const *keys, int n_keys, double reads,
                        enum wl_target target, sim_time duration)
{
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = clients;
    wl.n_keys = n_keys;
    wl.keys = sim_xcalloc((size_t)n_keys, sizeof *wl.keys);
    for (int i = 0; i < n_keys; i++)
        wl.keys[i] = sim_xstrdup(keys[i]);
    wl.mix[OP_READ] = reads;
    wl.mix[OP_WRITE] = 1.0 - reads;
    wl.think = 5 * SIM_MS;
    wl.timeout = 200 * SIM_MS;
    wl.retries = 3;
    wl.duration = duration;
    wl.target = target;
    char err[256];
    ck_assert_msg(world_workload(w, &wl, err, sizeof err) == 0, "%s", err);
}

/* Node i's state as the model describes it (caller frees), or NULL when
 * the node is down. */
static cJSON *describe(int node)
{
    if (!SPY.states[node])
        return NULL;
    jw j;
    jw_init(&j);
    jw_obj(&j);
    SPY.real->describe(SPY.states[node], &j);
    jw_obj_end(&j);
    cJSON *out = cJSON_ParseWithLength(j.buf, j.len);
    jw_free(&j);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* The integer in node's "map" under key, or -1 if absent. */
static long long map_value(int node, const char *key)
{
    cJSON *d = describe(node);
    ck_assert_ptr_nonnull(d);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "map"), key);
    long long out = cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
    cJSON_Delete(d);
    return out;
}

static long long state_int(int node, const char *field)
{
    cJSON *d = describe(node);
    ck_assert_ptr_nonnull(d);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(d, field);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s", field);
    long long out = (long long)v->valuedouble;
    cJSON_Delete(d);
    return out;
}

static char *state_str(int node, const char *field)
{
    cJSON *d = describe(node);
    ck_assert_ptr_nonnull(d);
    cJSON *v = cJSON_GetObjectItemCaseSensitive(d, field);
    ck_assert_msg(cJSON_IsString(v), "no string %s", field);
    char *out = sim_xstrdup(v->valuestring);
    cJSON_Delete(d);
    return out;
}

static const char *const KEY_X[] = { "x" };
static const char *const KEYS_XYZ[] = { "x", "y", "z" };

/* ---- paxos ---------------------------------------------------------------- */

START_TEST(test_paxos_every_node_learns_the_one_chosen_value)
{
    world *w = spy_world(&paxos_model, 3, 3, NULL);
    add_clients(w, 3, KEYS_XYZ, 3, 0.3, WL_TARGET_RANDOM, 500 * SIM_MS);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    const struct world_stats *st = world_stats(w);
    ck_assert_uint_gt(st->ops_ok, 10);
    ck_assert_uint_eq(st->invariant_violations, 0);
    ck_assert_int_eq(SPY.checks_failed, 0);
    for (int k = 0; k < 3; k++) {
        long long v = map_value(0, KEYS_XYZ[k]);
        ck_assert_int_ge(v, 1);
        for (int i = 1; i < 3; i++)
            ck_assert_int_eq(map_value(i, KEYS_XYZ[k]), v);
    }
    /* write-once: most writes after the first fail */
    ck_assert_uint_gt(st->ops_fail, 0);
    world_free(w);
}
END_TEST

START_TEST(test_paxos_minority_side_chooses_nothing)
{
    world *w = spy_world(&paxos_model, 1, 3, NULL);
    struct workload wl;
    workload_defaults(&wl);
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    wl.mix[OP_READ] = 0;
    wl.mix[OP_WRITE] = 1;
    wl.target = WL_TARGET_NODE;
    wl.node = 0;
    wl.duration = 500 * SIM_MS;
    char err[256];
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
    world_isolate(w, 0);
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    ck_assert_uint_eq(world_stats(w)->ops_ok, 0);
    ck_assert_uint_gt(world_stats(w)->ops_info, 0);
    ck_assert_int_eq(map_value(0, "x"), -1);
    world_free(w);
}
END_TEST

START_TEST(test_paxos_promise_survives_a_crash)
{
    world *w = spy_world(&paxos_model, 2, 3, NULL);
    add_clients(w, 2, KEY_X, 1, 0.0, WL_TARGET_RANDOM, 200 * SIM_MS);
    ck_assert_int_eq(world_run(w, 300 * SIM_MS), WORLD_OK);
    char *before = state_str(1, "promised");
    ck_assert_str_ne(before, "0");
    world_crash(w, 1);
    world_restart(w, 1);
    /* a client write to n2 makes it run a round, so the check sees it */
    add_clients(w, 1, KEY_X, 1, 0.0, WL_TARGET_RANDOM, 500 * SIM_MS);   /* from now to 500 ms */
    ck_assert_int_eq(world_run(w, 600 * SIM_MS), WORLD_OK);
    ck_assert_ptr_nonnull(SPY.states[1]);
    char *after = state_str(1, "promised");
    /* the promise is durable: after the restart it is at least as high */
    long long rb = strtoll(before, NULL, 10), ra = strtoll(after, NULL, 10);
    ck_assert_int_ge(ra, rb);
    ck_assert_int_eq(map_value(1, "x") == -1 || map_value(1, "x") == map_value(0, "x"), 1);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    sim_free(before);
    sim_free(after);
    world_free(w);
}
END_TEST

static uint64_t duel_rounds(const char *backoff, uint64_t seed)
{
    const char *settings[] = { backoff, NULL };
    world *w = spy_world(&paxos_model, seed, 5, settings);
    add_clients(w, 5, KEY_X, 1, 0.0, WL_TARGET_STICKY, 300 * SIM_MS);
    ck_assert_int_eq(world_run(w, 600 * SIM_MS), WORLD_OK);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    uint64_t rounds = 0;
    for (int i = 0; i < 5; i++)
        rounds += (uint64_t)state_int(i, "rounds");
    world_free(w);
    return rounds;
}

START_TEST(test_paxos_backoff_ends_a_duel_sooner)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        uint64_t livelock = duel_rounds("backoff=0", seed);
        uint64_t backoff = duel_rounds("backoff=20ms", seed);
        ck_assert_msg(livelock > 3 * backoff, "seed %llu: %llu rounds without backoff, %llu with",
                      (unsigned long long)seed, (unsigned long long)livelock, (unsigned long long)backoff);
    }
}
END_TEST

START_TEST(test_paxos_mutant_accept_lower_ballot_is_caught)
{
    const char *bad[] = { "backoff=0", "mutant=accept_lower_ballot", NULL };
    world *w = spy_world(&paxos_model, 1, 5, bad);
    add_clients(w, 5, KEY_X, 1, 0.0, WL_TARGET_STICKY, 300 * SIM_MS);
    /* the world stops at the first broken invariant */
    ck_assert_int_eq(world_run(w, 600 * SIM_MS), WORLD_INVARIANT);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 1);
    world_free(w);
}
END_TEST

START_TEST(test_paxos_single_node_decides_alone)
{
    world *w = spy_world(&paxos_model, 1, 1, NULL);
    add_clients(w, 1, KEYS_XYZ, 3, 0.5, WL_TARGET_RANDOM, 200 * SIM_MS);
    ck_assert_int_eq(world_run(w, 400 * SIM_MS), WORLD_OK);
    ck_assert_uint_gt(world_stats(w)->ops_ok, 5);
    ck_assert_uint_eq(world_stats(w)->ops_info, 0);
    world_free(w);
}
END_TEST

START_TEST(test_paxos_ignores_malformed_messages)
{
    world *w = spy_world(&paxos_model, 1, 3, NULL);
    add_clients(w, 1, KEY_X, 1, 0.0, WL_TARGET_RANDOM, 100 * SIM_MS);
    ck_assert_int_eq(world_run(w, 200 * SIM_MS), WORLD_OK);
    void *st = SPY.states[0];
    ck_assert_ptr_nonnull(st);
    unsigned char junk[200];
    memset(junk, 0xff, sizeof junk);
    /* wrong lengths, then the right length with a key without its NUL and
     * a ballot naming node 255: each must be dropped before anything is
     * sent (a NULL ctx would crash otherwise) */
    for (size_t len = 0; len < sizeof junk; len++)
        paxos_model.on_message(st, NULL, 1, junk, len);
    char *promised = state_str(0, "promised");
    ck_assert_str_ne(promised, "");
    sim_free(promised);
    world_free(w);
}
END_TEST

START_TEST(test_paxos_validate_refuses_bad_parameters)
{
    char err[256];
    params *p = params_new("paxos", paxos_model.params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(paxos_model.validate(p, 5, err, sizeof err), 0);
    ck_assert_int_eq(paxos_model.validate(p, 65, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "at most 64 nodes"));
    ck_assert_int_eq(params_set_text(p, "round_timeout", "0", err, sizeof err), 0);
    ck_assert_int_eq(paxos_model.validate(p, 5, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "round_timeout"));
    params_free(p);
}
END_TEST

/* ---- multipaxos ----------------------------------------------------------- */

static void assert_maps_agree(int n)
{
    int ref = -1;
    for (int i = 0; i < n; i++) {
        if (!SPY.states[i])
            continue;
        if (ref < 0) {
            ref = i;
            continue;
        }
        for (int k = 0; k < 3; k++)
            ck_assert_int_eq(map_value(i, KEYS_XYZ[k]), map_value(ref, KEYS_XYZ[k]));
        ck_assert_int_eq(state_int(i, "applied"), state_int(ref, "applied"));
    }
    ck_assert_int_ge(ref, 0);
}

START_TEST(test_multipaxos_replicas_apply_the_same_log)
{
    world *w = spy_world(&multipaxos_model, 1, 5, NULL);
    add_clients(w, 4, KEYS_XYZ, 3, 0.4, WL_TARGET_LEADER, 800 * SIM_MS);
    ck_assert_int_eq(world_run(w, 1500 * SIM_MS), WORLD_OK);
    const struct world_stats *st = world_stats(w);
    ck_assert_uint_gt(st->ops_ok, 100);
    ck_assert_uint_eq(st->ops_info, 0);
    ck_assert_uint_eq(st->invariant_violations, 0);
    char *role = state_str(0, "role");
    ck_assert_str_eq(role, "leader");
    sim_free(role);
    assert_maps_agree(5);
    world_free(w);
}
END_TEST

START_TEST(test_multipaxos_new_leader_after_a_crash)
{
    world *w = spy_world(&multipaxos_model, 4, 5, NULL);
    add_clients(w, 4, KEYS_XYZ, 3, 0.4, WL_TARGET_LEADER, 1500 * SIM_MS);
    ck_assert_int_eq(world_run(w, 400 * SIM_MS), WORLD_OK);
    long long before = state_int(1, "applied");
    world_crash(w, 0);
    ck_assert_int_eq(world_run(w, 2500 * SIM_MS), WORLD_OK);
    int leaders = 0;
    for (int i = 1; i < 5; i++) {
        char *role = state_str(i, "role");
        leaders += strcmp(role, "leader") == 0;
        sim_free(role);
    }
    ck_assert_int_eq(leaders, 1);
    ck_assert_int_gt(state_int(1, "applied"), before + 50);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    assert_maps_agree(5);
    world_free(w);
}
END_TEST

START_TEST(test_multipaxos_restarted_node_rebuilds_its_map)
{
    world *w = spy_world(&multipaxos_model, 2, 3, NULL);
    add_clients(w, 3, KEYS_XYZ, 3, 0.2, WL_TARGET_LEADER, 600 * SIM_MS);
    ck_assert_int_eq(world_run(w, 300 * SIM_MS), WORLD_OK);
    world_crash(w, 2);
    ck_assert_int_eq(world_run(w, 500 * SIM_MS), WORLD_OK);
    world_restart(w, 2);
    ck_assert_int_eq(world_run(w, 1500 * SIM_MS), WORLD_OK);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    assert_maps_agree(3);
    world_free(w);
}
END_TEST

START_TEST(test_multipaxos_snapshots_bound_the_log_and_catch_up_a_node)
{
    const char *settings[] = { "snapshot_every=20", NULL };
    world *w = spy_world(&multipaxos_model, 5, 5, settings);
    add_clients(w, 4, KEYS_XYZ, 3, 0.4, WL_TARGET_LEADER, 1500 * SIM_MS);
    ck_assert_int_eq(world_run(w, 200 * SIM_MS), WORLD_OK);
    world_crash(w, 4);
    ck_assert_int_eq(world_run(w, 1200 * SIM_MS), WORLD_OK);
    long long applied = state_int(0, "applied");
    ck_assert_int_gt(applied, 200);
    /* the others hold at most two snapshots' worth of slots, plus what is in flight */
    for (int i = 0; i < 4; i++) {
        ck_assert_int_ge(state_int(i, "snapshots"), 5);
        ck_assert_int_le(state_int(i, "log_len") - state_int(i, "base"), 2 * 20 + 20);
    }
    /* n5 comes back far behind the compacted prefix: it needs a snapshot */
    world_restart(w, 4);
    ck_assert_int_eq(world_run(w, 2500 * SIM_MS), WORLD_OK);
    ck_assert_uint_eq(world_stats(w)->invariant_violations, 0);
    ck_assert_int_ge(state_int(4, "applied"), applied);
    ck_assert_int_ge(state_int(4, "snapshots"), 1);
    assert_maps_agree(5);
    world_free(w);
}
END_TEST

START_TEST(test_multipaxos_isolated_leader_commits_nothing)
{
    world *w = spy_world(&multipaxos_model, 1, 5, NULL);
    ck_assert_int_eq(world_run(w, 100 * SIM_MS), WORLD_OK);
    world_isolate(w, 0);   /* n1 leads, cut off from every other node */
    struct workload wl;
    workload_defaults(&wl);
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    wl.mix[OP_READ] = 0.5;
    wl.mix[OP_WRITE] = 0.5;
    wl.target = WL_TARGET_NODE;
    wl.node = 0;
    wl.max_redirects = 0;
    wl.start = 100 * SIM_MS;
    wl.duration = 100 * SIM_MS;
    char err[256];
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
    ck_assert_int_eq(world_run(w, 800 * SIM_MS), WORLD_OK);
    ck_assert_uint_eq(world_stats(w)->ops_ok, 0);
    ck_assert_uint_gt(world_stats(w)->ops_invoked, 0);
    world_free(w);
}
END_TEST

START_TEST(test_multipaxos_four_nodes_survive_one_crash_not_two)
{
    world *w = spy_world(&multipaxos_model, 3, 4, NULL);
    add_clients(w, 2, KEYS_XYZ, 3, 0.5, WL_TARGET_LEADER, 3 * SIM_S);
    ck_assert_int_eq(world_run(w, 200 * SIM_MS), WORLD_OK);
    world_crash(w, 3);
    uint64_t ok0 = world_stats(w)->ops_ok;
    ck_assert_int_eq(world_run(w, 1 * SIM_S), WORLD_OK);
    ck_assert_uint_gt(world_stats(w)->ops_ok, ok0 + 20);   /* 3 of 4 is a majority */
    world_crash(w, 2);
    ck_assert_int_eq(world_run(w, 1500 * SIM_MS), WORLD_OK);   /* let what was in flight finish */
    uint64_t ok1 = world_stats(w)->ops_ok;
    ck_assert_int_eq(world_run(w, 3 * SIM_S), WORLD_OK);
    ck_assert_uint_eq(world_stats(w)->ops_ok, ok1);            /* 2 of 4 is not */
    world_free(w);
}
END_TEST

START_TEST(test_multipaxos_single_node)
{
    world *w = spy_world(&multipaxos_model, 1, 1, NULL);
    add_clients(w, 2, KEYS_XYZ, 3, 0.5, WL_TARGET_RANDOM, 200 * SIM_MS);
    ck_assert_int_eq(world_run(w, 400 * SIM_MS), WORLD_OK);
    ck_assert_uint_gt(world_stats(w)->ops_ok, 10);
    ck_assert_uint_eq(world_stats(w)->ops_info, 0);
    world_free(w);
}
END_TEST

START_TEST(test_multipaxos_ignores_malformed_messages)
{
    world *w = spy_world(&multipaxos_model, 1, 3, NULL);
    ck_assert_int_eq(world_run(w, 100 * SIM_MS), WORLD_OK);
    void *st = SPY.states[1];
    ck_assert_ptr_nonnull(st);
    unsigned char junk[400];
    memset(junk, 0xff, sizeof junk);   /* type, n and ballot all out of range */
    for (size_t len = 0; len < sizeof junk; len++)
        multipaxos_model.on_message(st, NULL, 0, junk, len);
    world_free(w);
}
END_TEST

START_TEST(test_multipaxos_validate_refuses_bad_parameters)
{
    char err[256];
    params *p = params_new("multipaxos", multipaxos_model.params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(multipaxos_model.validate(p, 3, err, sizeof err), 0);
    ck_assert_int_eq(params_set_text(p, "election_timeout", "10ms", err, sizeof err), 0);
    ck_assert_int_eq(multipaxos_model.validate(p, 3, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "election_timeout"));
    params_free(p);
}
END_TEST

static Suite *paxos_suite(void)
{
    Suite *s = suite_create("paxos");
    TCase *tc = tcase_create("paxos");
    tcase_add_test(tc, test_paxos_every_node_learns_the_one_chosen_value);
    tcase_add_test(tc, test_paxos_minority_side_chooses_nothing);
    tcase_add_test(tc, test_paxos_promise_survives_a_crash);
    tcase_add_test(tc, test_paxos_backoff_ends_a_duel_sooner);
    tcase_add_test(tc, test_paxos_mutant_accept_lower_ballot_is_caught);
    tcase_add_test(tc, test_paxos_single_node_decides_alone);
    tcase_add_test(tc, test_paxos_ignores_malformed_messages);
    tcase_add_test(tc, test_paxos_validate_refuses_bad_parameters);
    suite_add_tcase(s, tc);
    TCase *mp = tcase_create("multipaxos");
    tcase_add_test(mp, test_multipaxos_replicas_apply_the_same_log);
    tcase_add_test(mp, test_multipaxos_new_leader_after_a_crash);
    tcase_add_test(mp, test_multipaxos_restarted_node_rebuilds_its_map);
    tcase_add_test(mp, test_multipaxos_snapshots_bound_the_log_and_catch_up_a_node);
    tcase_add_test(mp, test_multipaxos_isolated_leader_commits_nothing);
    tcase_add_test(mp, test_multipaxos_four_nodes_survive_one_crash_not_two);
    tcase_add_test(mp, test_multipaxos_single_node);
    tcase_add_test(mp, test_multipaxos_ignores_malformed_messages);
    tcase_add_test(mp, test_multipaxos_validate_refuses_bad_parameters);
    suite_add_tcase(s, mp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(paxos_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
