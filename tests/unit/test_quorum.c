/* Unit tests of the quorum model: its arithmetic (models/quorum.h), the
 * parameter checks a cluster runs before anything starts, and small runs
 * of a world with the model and clients. */
#include "models/quorum.h"
#include "model.h"
#include "world.h"
#include "workload.h"
#include "alloc.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arithmetic ---------------------------------------------------------- */

START_TEST(test_overlap_is_w_plus_r_above_n)
{
    ck_assert(quorum_overlap(3, 2, 2));
    ck_assert(quorum_overlap(3, 3, 1));
    ck_assert(quorum_overlap(3, 1, 3));
    ck_assert(!quorum_overlap(3, 1, 1));
    ck_assert(!quorum_overlap(3, 2, 1));
    ck_assert(!quorum_overlap(5, 2, 3));
    ck_assert(quorum_overlap(5, 3, 3));
    ck_assert(quorum_overlap(1, 1, 1));
}
END_TEST

/* Overlap is exactly "every w-subset meets every r-subset", checked by
 * brute force over all pairs of subsets of up to 6 replicas. */
START_TEST(test_overlap_matches_subsets)
{
    for (int n = 1; n <= 6; n++)
        for (int w = 1; w <= n; w++)
            for (int r = 1; r <= n; r++) {
                bool always_meet = true;
                for (unsigned a = 0; a < (1u << n) && always_meet; a++) {
                    if (__builtin_popcount(a) != w)
                        continue;
                    for (unsigned b = 0; b < (1u << n) && always_meet; b++)
                        if (__builtin_popcount(b) == r && (a & b) == 0)
                            always_meet = false;
                }
                ck_assert_msg(always_meet == quorum_overlap(n, w, r), "n=%d w=%d r=%d", n, w, r);
            }
}
END_TEST

START_TEST(test_tolerates)
{
    ck_assert_int_eq(quorum_tolerates(3, 2), 1);
    ck_assert_int_eq(quorum_tolerates(5, 3), 2);
    ck_assert_int_eq(quorum_tolerates(3, 3), 0);
    ck_assert_int_eq(quorum_tolerates(3, 4), 0);
}
END_TEST

START_TEST(test_class_follows_parameters)
{
    ck_assert_str_eq(quorum_class(3, 1, 1, false), "PA/EL");
    ck_assert_str_eq(quorum_class(3, 2, 2, false), "PC/EC");
    ck_assert_str_eq(quorum_class(3, 2, 2, true), "PA/EC");
    ck_assert_str_eq(quorum_class(3, 1, 1, true), "PA/EL");
    ck_assert_str_eq(quorum_class(3, 2, 1, false), "PC/EL");   /* stale reads possible */
    ck_assert_str_eq(quorum_class(3, 1, 3, false), "PC/EL");   /* writes answer alone */
}
END_TEST

static struct quorum_setup good(void)
{
    return (struct quorum_setup){ .nodes = 5, .n = 3, .w = 2, .r = 2, .vnodes = 16,
                                  .timeout = 100000000, .handoff_period = 200000000,
                                  .hinted_handoff = true, .vv = true, .vv_max = 32 };
}

/* Each bad field gives one sentence that names it and its value. */
START_TEST(test_check_names_the_bad_parameter)
{
    char err[256];
    struct quorum_setup q = good();
    ck_assert_int_eq(quorum_check(&q, err, sizeof err), 0);
    struct {
        const char *field;
        int64_t value;
        const char *want;
    } cases[] = {
        { "w", 4, "w = 4 is more than n = 3 replicas: a write could never be acknowledged" },
        { "r", 4, "r = 4 is more than n = 3 replicas: a read could never be answered" },
        { "w", 0, "w = 0: a write must wait for at least one replica" },
        { "r", 0, "r = 0: a read must ask at least one replica" },
        { "n", 0, "n = 0: a key needs at least one replica" },
        { "n", 6, "n = 6 is more than the 5 nodes: a key cannot have 6 distinct replicas" },
        { "vnodes", 0, "vnodes = 0: every node needs at least one point on the ring" },
        { "timeout", 0, "timeout must be above 0" },
        { "handoff_period", 0, "handoff_period must be above 0 with hinted_handoff" },
        { "nodes", 40, "versioning = vv counts at most 32 nodes" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        q = good();
        if (strcmp(cases[i].field, "w") == 0) q.w = cases[i].value;
        if (strcmp(cases[i].field, "r") == 0) q.r = cases[i].value;
        if (strcmp(cases[i].field, "n") == 0) q.n = cases[i].value;
        if (strcmp(cases[i].field, "vnodes") == 0) q.vnodes = cases[i].value;
        if (strcmp(cases[i].field, "timeout") == 0) q.timeout = cases[i].value;
        if (strcmp(cases[i].field, "handoff_period") == 0) q.handoff_period = cases[i].value;
        if (strcmp(cases[i].field, "nodes") == 0) q.nodes = cases[i].value;
        if (strcmp(cases[i].field, "n") == 0 && q.n < q.w) {
            q.w = 1;
            q.r = 1;
        }
        err[0] = 0;
        ck_assert_int_eq(quorum_check(&q, err, sizeof err), -1);
        ck_assert_msg(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0, "%s: got \"%s\"",
                      cases[i].field, err);
    }
    /* lww does not care about the vector limit; no handoff, no period needed */
    q = good();
    q.nodes = 40;
    q.vv = false;
    ck_assert_int_eq(quorum_check(&q, err, sizeof err), 0);
    q.hinted_handoff = false;
    q.handoff_period = 0;
    ck_assert_int_eq(quorum_check(&q, err, sizeof err), 0);
}
END_TEST

/* ---- the model in a world ------------------------------------------------ */

static const struct model *quorum(void)
{
    const struct model *m = model_find("quorum");
    ck_assert_ptr_nonnull(m);
    return m;
}

static params *qparams(const char *const *kv)
{
    char err[256];
    params *p = params_new("quorum", quorum()->params, err, sizeof err);
    ck_assert_ptr_nonnull(p);
    for (; kv && kv[0]; kv += 2)
        ck_assert_msg(params_set_text(p, kv[0], kv[1], err, sizeof err) == 0, "%s", err);
    return p;
}

START_TEST(test_cluster_refuses_bad_parameters)
{
    const char *bad[] = { "w", "4", NULL };
    char err[256];
    world *w = world_new(1, NULL);
    ck_assert_int_eq(world_cluster(w, quorum(), qparams(bad), 3, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "w = 4 is more than n = 3 replicas") != NULL, "%s", err);
    world_free(w);
    const char *vv[] = { "versioning", "vv", "n", "3", NULL };
    w = world_new(1, NULL);
    ck_assert_int_eq(world_cluster(w, quorum(), qparams(vv), 33, NULL, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "at most 32 nodes") != NULL, "%s", err);
    world_free(w);
}
END_TEST

START_TEST(test_declared_class)
{
    const char *strict[] = { NULL };
    const char *sloppy[] = { "sloppy", "true", NULL };
    const char *one[] = { "w", "1", "r", "1", NULL };
    params *p = qparams(strict);
    ck_assert_str_eq(quorum()->cap_class(p), "PC/EC");
    params_free(p);
    p = qparams(sloppy);
    ck_assert_str_eq(quorum()->cap_class(p), "PA/EC");
    params_free(p);
    p = qparams(one);
    ck_assert_str_eq(quorum()->cap_class(p), "PA/EL");
    params_free(p);
}
END_TEST

/* Clients send to node `target` (an index), or to random nodes (-1). */
static world *run_world(const char *const *kv, int nodes, int clients, int target,
                        sim_time duration, void (*during)(world *))
{
    char err[256];
    world *w = world_new(7, NULL);
    ck_assert_int_eq(world_cluster(w, quorum(), qparams(kv), nodes, NULL, err, sizeof err), 0);
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = clients;
    wl.n_keys = 3;
    wl.keys = sim_xcalloc(3, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    wl.keys[1] = sim_xstrdup("y");
    wl.keys[2] = sim_xstrdup("z");
    wl.duration = duration;
    wl.timeout = 300 * SIM_MS;
    if (target >= 0) {
        wl.target = WL_TARGET_NODE;
        wl.node = target;
    }
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
    if (during) {
        ck_assert_int_eq(world_run(w, duration / 4), WORLD_OK);
        during(w);
    }
    ck_assert_int_eq(world_run(w, duration + SIM_S), WORLD_OK);
    return w;
}

/* Without faults every operation of a strict quorum succeeds. */
START_TEST(test_no_faults_everything_succeeds)
{
    const char *kv[] = { "n", "3", "w", "2", "r", "2", NULL };
    world *w = run_world(kv, 5, 4, -1, SIM_S, NULL);
    const struct world_stats *st = world_stats(w);
    ck_assert_uint_gt(st->ops_ok, 100);
    ck_assert_uint_eq(st->ops_fail, 0);
    ck_assert_uint_eq(st->ops_info, 0);
    world_free(w);
}
END_TEST

static void isolate_two(world *w)
{
    world_isolate(w, 0);
    world_isolate(w, 1);
}

/* With n1 and n2 isolated, clients of n3 see a strict w = 3 quorum fail
 * the writes of every key n1 or n2 replicates; a sloppy one borrows the
 * fallbacks n4, n5 and serves them. */
START_TEST(test_sloppy_quorum_keeps_operations_available)
{
    const char *strict[] = { "n", "3", "w", "3", "r", "1", NULL };
    const char *sloppy[] = { "n", "3", "w", "3", "r", "1", "sloppy", "true", NULL };
    world *a = run_world(strict, 5, 4, 2, 2 * SIM_S, isolate_two);
    world *b = run_world(sloppy, 5, 4, 2, 2 * SIM_S, isolate_two);
    const struct world_stats *sa = world_stats(a), *sb = world_stats(b);
    uint64_t bad_a = sa->ops_fail + sa->ops_info, bad_b = sb->ops_fail + sb->ops_info;
    ck_assert_msg(bad_a >= 10, "strict: only %llu failed", (unsigned long long)bad_a);
    ck_assert_msg(bad_b * 4 < bad_a, "sloppy %llu failures vs strict %llu",
                  (unsigned long long)bad_b, (unsigned long long)bad_a);
    world_free(a);
    world_free(b);
}
END_TEST

START_TEST(test_vv_runs_without_failures)
{
    const char *kv[] = { "versioning", "vv", "w", "1", "r", "1", NULL };
    world *w = run_world(kv, 3, 3, -1, SIM_S, NULL);
    const struct world_stats *st = world_stats(w);
    ck_assert_uint_gt(st->ops_ok, 100);
    ck_assert_uint_eq(st->ops_fail + st->ops_info, 0);
    world_free(w);
}
END_TEST

static Suite *quorum_suite(void)
{
    Suite *s = suite_create("quorum");
    TCase *tc = tcase_create("arithmetic");
    tcase_add_test(tc, test_overlap_is_w_plus_r_above_n);
    tcase_add_test(tc, test_overlap_matches_subsets);
    tcase_add_test(tc, test_tolerates);
    tcase_add_test(tc, test_class_follows_parameters);
    tcase_add_test(tc, test_check_names_the_bad_parameter);
    suite_add_tcase(s, tc);
    tc = tcase_create("model");
    tcase_add_test(tc, test_cluster_refuses_bad_parameters);
    tcase_add_test(tc, test_declared_class);
    tcase_add_test(tc, test_no_faults_everything_succeeds);
    tcase_add_test(tc, test_sloppy_quorum_keeps_operations_available);
    tcase_add_test(tc, test_vv_runs_without_failures);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(quorum_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
