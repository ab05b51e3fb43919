/* Unit tests of the resilience model (models/resilience.c): its pure pieces
 * -- the backoff schedule (growth, cap, jitter bounds, the same delays from
 * the same seed), the circuit breaker's state machine and the bulkhead
 * pools' accounting -- then its parameter checks, malformed messages, and
 * short runs of a real world read from their traces. The scenarios (80-83)
 * are tested by tests/scenario/test_resilience.py. */
#include "alloc.h"
#include "model.h"
#include "params.h"
#include "pcg.h"
#include "models/resilience.h"
#include "trace.h"
#include "workload.h"
#include "world.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_test.h"

/* ---- backoff ----------------------------------------------------------------- */

START_TEST(test_no_backoff_retries_at_once)
{
    struct resil_backoff_cfg c = { RESIL_BACKOFF_NONE, RESIL_JITTER_FULL, 100 * SIM_MS, SIM_S };
    for (int retry = 1; retry <= 10; retry++)
        ck_assert_int_eq(resil_backoff_delay(&c, retry, 0xdeadbeefu), 0);
}
END_TEST

START_TEST(test_exponential_backoff_doubles_up_to_the_cap)
{
    struct resil_backoff_cfg c = { RESIL_BACKOFF_EXPONENTIAL, RESIL_JITTER_NONE, 10 * SIM_MS, 100 * SIM_MS };
    const sim_time want[] = { 10, 20, 40, 80, 100, 100, 100 };
    for (int retry = 1; retry <= 7; retry++)
        ck_assert_int_eq(resil_backoff_delay(&c, retry, 12345), want[retry - 1] * SIM_MS);
    /* no overflow however many retries, and retry 0 counts as the first */
    ck_assert_int_eq(resil_backoff_delay(&c, 1000000, 0), 100 * SIM_MS);
    ck_assert_int_eq(resil_backoff_delay(&c, 0, 0), 10 * SIM_MS);
    /* a cap below the base wins */
    struct resil_backoff_cfg low = { RESIL_BACKOFF_EXPONENTIAL, RESIL_JITTER_NONE, 50 * SIM_MS, 20 * SIM_MS };
    ck_assert_int_eq(resil_backoff_delay(&low, 1, 0), 20 * SIM_MS);
    /* a huge cap: doubling stops at the cap without overflowing */
    struct resil_backoff_cfg huge = { RESIL_BACKOFF_EXPONENTIAL, RESIL_JITTER_NONE, 1, INT64_MAX };
    ck_assert_int_eq(resil_backoff_delay(&huge, 63, 0), (sim_time)1 << 62);
    ck_assert_int_eq(resil_backoff_delay(&huge, 200, 0), INT64_MAX);
}
END_TEST

START_TEST(test_jitter_stays_within_its_bounds)
{
    pcg32 rng;
    pcg32_seed(&rng, 7, 1);
    const sim_time base = 10 * SIM_MS, cap = 3600 * SIM_S;   /* a cap above 2^32 ns */
    struct resil_backoff_cfg full = { RESIL_BACKOFF_EXPONENTIAL, RESIL_JITTER_FULL, base, cap };
    struct resil_backoff_cfg equal = { RESIL_BACKOFF_EXPONENTIAL, RESIL_JITTER_EQUAL, base, cap };
    struct resil_backoff_cfg none = { RESIL_BACKOFF_EXPONENTIAL, RESIL_JITTER_NONE, base, cap };
    for (int retry = 1; retry <= 30; retry++) {
        sim_time d = resil_backoff_delay(&none, retry, 0);
        sim_time sum = 0;
        for (int i = 0; i < 400; i++) {
            sim_time f = resil_backoff_delay(&full, retry, pcg32_next(&rng));
            sim_time e = resil_backoff_delay(&equal, retry, pcg32_next(&rng));
            ck_assert(f >= 0 && f <= d);
            ck_assert(e >= d / 2 && e <= d);
            sum += f / 400;
        }
        /* full jitter averages about d/2: well away from both ends */
        ck_assert_msg(sum > d / 3 && sum < 2 * d / 3, "retry %d: mean %lld of d %lld", retry, (long long)sum,
                      (long long)d);
        /* the extreme draws reach the ends of the range */
        ck_assert_int_eq(resil_backoff_delay(&full, retry, 0), 0);
        ck_assert_int_eq(resil_backoff_delay(&equal, retry, 0), d / 2);
        ck_assert_int_le(resil_backoff_delay(&full, retry, UINT32_MAX), d);
        if (d < ((sim_time)1 << 32))
            ck_assert_int_eq(resil_backoff_delay(&full, retry, UINT32_MAX), d);
    }
}
END_TEST

START_TEST(test_backoff_is_the_same_from_the_same_seed)
{
    struct resil_backoff_cfg c = { RESIL_BACKOFF_EXPONENTIAL, RESIL_JITTER_FULL, 25 * SIM_MS, SIM_S };
    sim_time a[64], b[64];
    pcg32 r1, r2, r3;
    pcg32_stream(&r1, 42, 3);
    pcg32_stream(&r2, 42, 3);
    pcg32_stream(&r3, 43, 3);
    int differ = 0;
    for (int i = 0; i < 64; i++) {
        a[i] = resil_backoff_delay(&c, 1 + i % 6, pcg32_next(&r1));
        b[i] = resil_backoff_delay(&c, 1 + i % 6, pcg32_next(&r2));
        differ += resil_backoff_delay(&c, 1 + i % 6, pcg32_next(&r3)) != a[i];
    }
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_int_gt(differ, 50);
}
END_TEST

/* ---- the breaker ---------------------------------------------------------------- */

static const struct resil_breaker_cfg bcfg = { 3, 100 * SIM_MS, 2 };

START_TEST(test_breaker_opens_after_consecutive_failures)
{
    struct resil_breaker b;
    memset(&b, 0, sizeof b);
    uint64_t gen;
    ck_assert_str_eq(resil_breaker_state_name(b.state), "closed");
    /* two failures, a success: the count starts again */
    for (int i = 0; i < 2; i++) {
        ck_assert(resil_breaker_allow(&b, &bcfg, 0, &gen));
        ck_assert(!resil_breaker_record(&b, &bcfg, 0, gen, false));
    }
    ck_assert(resil_breaker_allow(&b, &bcfg, 0, &gen));
    ck_assert(!resil_breaker_record(&b, &bcfg, 0, gen, true));
    ck_assert_int_eq(b.failures, 0);
    for (int i = 0; i < 2; i++) {
        ck_assert(resil_breaker_allow(&b, &bcfg, SIM_MS, &gen));
        ck_assert(!resil_breaker_record(&b, &bcfg, SIM_MS, gen, false));
    }
    ck_assert_int_eq(b.state, RESIL_CLOSED);
    ck_assert(resil_breaker_allow(&b, &bcfg, 5 * SIM_MS, &gen));
    ck_assert(resil_breaker_record(&b, &bcfg, 5 * SIM_MS, gen, false));
    ck_assert_int_eq(b.state, RESIL_OPEN);
    ck_assert_int_eq(b.opened_at, 5 * SIM_MS);
    /* open: every call refused until open_for has passed */
    ck_assert(!resil_breaker_allow(&b, &bcfg, 5 * SIM_MS, &gen));
    ck_assert(!resil_breaker_allow(&b, &bcfg, 104 * SIM_MS, &gen));
    ck_assert(!resil_breaker_tick(&b, &bcfg, 104 * SIM_MS));
    ck_assert_int_eq(b.state, RESIL_OPEN);
}
END_TEST

/* A breaker opened at t = 0. */
static struct resil_breaker opened(void)
{
    struct resil_breaker b;
    memset(&b, 0, sizeof b);
    uint64_t gen;
    for (int i = 0; i < bcfg.failure_threshold; i++) {
        ck_assert(resil_breaker_allow(&b, &bcfg, 0, &gen));
        resil_breaker_record(&b, &bcfg, 0, gen, false);
    }
    ck_assert_int_eq(b.state, RESIL_OPEN);
    return b;
}

START_TEST(test_breaker_half_opens_and_closes_on_successful_probes)
{
    struct resil_breaker b = opened();
    ck_assert(resil_breaker_tick(&b, &bcfg, 100 * SIM_MS));
    ck_assert_int_eq(b.state, RESIL_HALF_OPEN);
    ck_assert_str_eq(resil_breaker_state_name(b.state), "half_open");
    /* exactly half_open_probes trial calls go out */
    uint64_t g1, g2, g3;
    ck_assert(resil_breaker_allow(&b, &bcfg, 101 * SIM_MS, &g1));
    ck_assert(resil_breaker_allow(&b, &bcfg, 101 * SIM_MS, &g2));
    ck_assert(!resil_breaker_allow(&b, &bcfg, 101 * SIM_MS, &g3));
    ck_assert(!resil_breaker_record(&b, &bcfg, 110 * SIM_MS, g1, true));
    ck_assert_int_eq(b.state, RESIL_HALF_OPEN);
    ck_assert(resil_breaker_record(&b, &bcfg, 111 * SIM_MS, g2, true));
    ck_assert_int_eq(b.state, RESIL_CLOSED);
    ck_assert(resil_breaker_allow(&b, &bcfg, 112 * SIM_MS, &g3));
}
END_TEST

START_TEST(test_breaker_reopens_on_a_failed_probe)
{
    struct resil_breaker b = opened();
    uint64_t gen;
    /* allow ticks an open breaker whose time is up */
    ck_assert(resil_breaker_allow(&b, &bcfg, 150 * SIM_MS, &gen));
    ck_assert_int_eq(b.state, RESIL_HALF_OPEN);
    ck_assert(resil_breaker_record(&b, &bcfg, 160 * SIM_MS, gen, false));
    ck_assert_int_eq(b.state, RESIL_OPEN);
    ck_assert_int_eq(b.opened_at, 160 * SIM_MS);
    ck_assert(!resil_breaker_allow(&b, &bcfg, 259 * SIM_MS, &gen));
    ck_assert(resil_breaker_allow(&b, &bcfg, 260 * SIM_MS, &gen));
    ck_assert_int_eq(b.state, RESIL_HALF_OPEN);
}
END_TEST

START_TEST(test_breaker_ignores_outcomes_of_an_earlier_state)
{
    struct resil_breaker b;
    memset(&b, 0, sizeof b);
    uint64_t old, gen;
    ck_assert(resil_breaker_allow(&b, &bcfg, 0, &old));   /* a slow call let through while closed */
    for (int i = 0; i < bcfg.failure_threshold; i++) {
        ck_assert(resil_breaker_allow(&b, &bcfg, 0, &gen));
        resil_breaker_record(&b, &bcfg, 0, gen, false);
    }
    ck_assert_int_eq(b.state, RESIL_OPEN);
    /* its late success neither closes the open breaker ... */
    ck_assert(!resil_breaker_record(&b, &bcfg, SIM_MS, old, true));
    ck_assert_int_eq(b.state, RESIL_OPEN);
    /* ... nor counts as a probe once half-open */
    ck_assert(resil_breaker_tick(&b, &bcfg, 100 * SIM_MS));
    ck_assert(!resil_breaker_record(&b, &bcfg, 100 * SIM_MS, old, true));
    ck_assert(!resil_breaker_record(&b, &bcfg, 100 * SIM_MS, old, true));
    ck_assert_int_eq(b.state, RESIL_HALF_OPEN);
    ck_assert_int_eq(b.probes_ok, 0);
    /* and a failure recorded against an open breaker changes nothing */
    struct resil_breaker o = opened();
    ck_assert(!resil_breaker_record(&o, &bcfg, 50 * SIM_MS, o.gen, false));
    ck_assert_int_eq(o.opened_at, 0);
}
END_TEST

/* ---- bulkheads ------------------------------------------------------------------- */

START_TEST(test_pools_split_the_slots)
{
    ck_assert_int_eq(resil_pool_count(false, 3), 1);
    ck_assert_int_eq(resil_pool_count(true, 3), 3);
    for (int dep = 0; dep < 3; dep++) {
        ck_assert_int_eq(resil_pool_of(false, dep), 0);
        ck_assert_int_eq(resil_pool_of(true, dep), dep);
    }
    ck_assert_int_eq(resil_pool_capacity(false, 3, 16, 0), 16);
    ck_assert_int_eq(resil_pool_capacity(false, 3, 16, 1), 0);
    /* 16 among 3: 6, 5, 5, never more in all than the total */
    ck_assert_int_eq(resil_pool_capacity(true, 3, 16, 0), 6);
    ck_assert_int_eq(resil_pool_capacity(true, 3, 16, 1), 5);
    ck_assert_int_eq(resil_pool_capacity(true, 3, 16, 2), 5);
    ck_assert_int_eq(resil_pool_capacity(true, 3, 16, 3), 0);
    ck_assert_int_eq(resil_pool_capacity(true, 2, 16, 0) + resil_pool_capacity(true, 2, 16, 1), 16);
}
END_TEST

START_TEST(test_pool_counts_its_slots)
{
    struct resil_pool p = { 2, 0 };
    ck_assert(!resil_pool_release(&p));
    ck_assert_int_eq(p.busy, 0);
    ck_assert(resil_pool_acquire(&p));
    ck_assert(resil_pool_acquire(&p));
    ck_assert(!resil_pool_acquire(&p));
    ck_assert_int_eq(p.busy, 2);
    ck_assert(resil_pool_release(&p));
    ck_assert(resil_pool_acquire(&p));
    ck_assert(resil_pool_release(&p));
    ck_assert(resil_pool_release(&p));
    ck_assert(!resil_pool_release(&p));
    ck_assert_int_eq(p.busy, 0);
}
END_TEST

START_TEST(test_retry_budget_is_a_capped_token_bucket)
{
    struct resil_budget b;
    resil_budget_init(&b);
    /* it starts full: RESIL_BUDGET_MAX retries, then none */
    for (int i = 0; i < RESIL_BUDGET_MAX; i++)
        ck_assert_msg(resil_budget_withdraw(&b), "retry %d refused from a full bucket", i);
    ck_assert(!resil_budget_withdraw(&b));
    ck_assert_int_eq(b.milli, 0);
    /* a ratio of 0.1: ten first attempts earn one retry, nine do not */
    for (int i = 0; i < 9; i++)
        resil_budget_deposit(&b, 100);
    ck_assert(!resil_budget_withdraw(&b));
    ck_assert_int_eq(b.milli, 900);
    resil_budget_deposit(&b, 100);
    ck_assert(resil_budget_withdraw(&b));
    ck_assert(!resil_budget_withdraw(&b));
    /* a long calm spell banks no more than the cap */
    for (int i = 0; i < 100000; i++)
        resil_budget_deposit(&b, 250);
    ck_assert_int_eq(b.milli, (int64_t)RESIL_BUDGET_MAX * 1000);
    resil_budget_deposit(&b, INT64_MAX);   /* no overflow at the cap */
    ck_assert_int_eq(b.milli, (int64_t)RESIL_BUDGET_MAX * 1000);
    /* nothing deposited for a ratio of 0 or less */
    resil_budget_withdraw(&b);
    resil_budget_deposit(&b, 0);
    resil_budget_deposit(&b, -5);
    ck_assert_int_eq(b.milli, (int64_t)(RESIL_BUDGET_MAX - 1) * 1000);
}
END_TEST

/* ---- the model ---------------------------------------------------------------------- */

START_TEST(test_validate_refuses_bad_parameters)
{
    const struct model *m = model_find("resilience");
    ck_assert_ptr_nonnull(m);
    char err[256] = "";
    params *p = params_with(m, NULL);
    ck_assert_int_eq(m->validate(p, 3, err, sizeof err), 0);
    ck_assert_int_eq(m->validate(p, 1, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "at least 2 nodes"));
    params_free(p);
    static const char *const bad[][5] = {
        { "workers", "0", NULL },
        { "service_jitter", "1.5", NULL },
        { "slow_node", "1", NULL },
        { "slow_from", "2s", "slow_until", "1s", NULL },
        { "retries", "-1", NULL },
        { "backoff_base", "0", NULL },
        { "half_open_probes", "0", NULL },
        { "pool", "0", NULL },
        { "bulkhead", "true", "pool", "1", NULL },
        { "services", "api,,x", NULL },
        { "services", "a b,c,d", NULL },
        { "deadline", "9007199254740993", NULL },   /* 2^53 + 1 ns: would overflow clock + deadline */
        { "backoff_cap", "9223372036854775807", NULL },
        { "retry_budget", "-0.1", NULL },
        { "retry_budget", "11", NULL },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p = params_with(m, bad[i]);
        err[0] = '\0';
        ck_assert_msg(m->validate(p, 3, err, sizeof err) == -1, "case %zu accepted", i);
        ck_assert_msg(err[0] && !strchr(err, '\n'), "case %zu: %s", i, err);
        params_free(p);
    }
    /* backoff none needs no base; service names one per node */
    const char *fine[] = { "backoff", "none", "backoff_base", "0", "services", "api,pay,cat", NULL };
    p = params_with(m, fine);
    ck_assert_msg(m->validate(p, 3, err, sizeof err) == 0, "%s", err);
    params_free(p);
}
END_TEST

START_TEST(test_describe_msg_survives_garbage)
{
    const struct model *m = model_find("resilience");
    ck_assert_ptr_nonnull(m);
    describe_msg_survives_garbage(m);
}
END_TEST

/* Run a frontend and two backends (n2 slow from 100 to 400 ms) with
 * params kv, one closed-loop client per key, for 600 ms, and return the
 * whole trace (caller frees). */
static char *run_world(const char *const *kv, int clients_per_key)
{
    const struct model *m = model_find("resilience");
    char err[256];
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    trace *tr = trace_open_fd(fileno(tmp));
    world *w = world_new(9, tr);
    ck_assert_int_eq(world_cluster(w, m, params_with(m, kv), 3, NULL, err, sizeof err), 0);
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = clients_per_key * 2;
    wl.n_keys = 2;
    wl.keys = sim_xcalloc(2, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("n2");
    wl.keys[1] = sim_xstrdup("n3");
    wl.mix[OP_READ] = 1;
    wl.mix[OP_WRITE] = 0;
    wl.think = 5 * SIM_MS;
    wl.timeout = 2 * SIM_S;
    wl.duration = 600 * SIM_MS;
    wl.target = WL_TARGET_NODE;
    wl.node = 0;
    ck_assert_msg(world_workload(w, &wl, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(world_run(w, 700 * SIM_MS), WORLD_OK);
    world_finish(w);
    trace_close(tr);
    world_free(w);
    rewind(tmp);
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
        fwrite(buf, 1, n, mem);
    fclose(mem);
    fclose(tmp);
    return text;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

START_TEST(test_breaker_notes_follow_the_slow_period)
{
    const char *kv[] = { "slow_node", "2", "slow_from", "100ms", "slow_until", "400ms", "breaker", "true",
                         "failure_threshold", "3", "open_for", "50ms", NULL };
    char *t = run_world(kv, 4);
    ck_assert_int_ge(count(t, "\"dependency\":\"n2\",\"state\":\"open\""), 1);
    ck_assert_int_ge(count(t, "\"state\":\"half_open\""), 1);
    ck_assert_int_ge(count(t, "\"dependency\":\"n2\",\"state\":\"closed\""), 1);
    ck_assert_int_eq(count(t, "\"dependency\":\"n3\",\"state\""), 0);
    ck_assert_int_ge(count(t, "\"error\":\"circuit_open\""), 1);
    ck_assert_int_ge(count(t, "\"role\":\"n2:open\""), 1);
    ck_assert_int_eq(count(t, "\"ev\":\"invariant\""), 0);
    free(t);
    /* the same run without a breaker writes no breaker note */
    const char *off[] = { "slow_node", "2", "slow_from", "100ms", "slow_until", "400ms", NULL };
    t = run_world(off, 4);
    ck_assert_int_eq(count(t, "\"what\":\"breaker\""), 0);
    ck_assert_int_eq(count(t, "\"error\":\"circuit_open\""), 0);
    free(t);
}
END_TEST

START_TEST(test_bulkhead_pools_in_the_load_notes)
{
    const char *kv[] = { "bulkhead", "true", "pool", "5", NULL };
    char *t = run_world(kv, 2);
    ck_assert_ptr_nonnull(strstr(t, "\"what\":\"load\",\"service\":\"n1\",\"busy\":0,\"capacity\":5,\"queue\":0,"
                                    "\"pools\":[{\"dependency\":\"n2\",\"busy\":0,\"capacity\":3,\"queue\":0},"
                                    "{\"dependency\":\"n3\",\"busy\":0,\"capacity\":2,\"queue\":0}]"));
    ck_assert_int_eq(count(t, "\"ev\":\"invariant\""), 0);
    free(t);
    const char *shared[] = { "pool", "5", NULL };
    t = run_world(shared, 2);
    ck_assert_ptr_nonnull(strstr(t, "\"what\":\"load\",\"service\":\"n1\",\"busy\":0,\"capacity\":5,\"queue\":0}"));
    ck_assert_int_eq(count(t, "\"pools\""), 0);
    free(t);
}
END_TEST

static Suite *resilience_suite(void)
{
    Suite *s = suite_create("resilience");
    TCase *pure = tcase_create("pure");
    tcase_add_test(pure, test_no_backoff_retries_at_once);
    tcase_add_test(pure, test_exponential_backoff_doubles_up_to_the_cap);
    tcase_add_test(pure, test_jitter_stays_within_its_bounds);
    tcase_add_test(pure, test_backoff_is_the_same_from_the_same_seed);
    tcase_add_test(pure, test_breaker_opens_after_consecutive_failures);
    tcase_add_test(pure, test_breaker_half_opens_and_closes_on_successful_probes);
    tcase_add_test(pure, test_breaker_reopens_on_a_failed_probe);
    tcase_add_test(pure, test_breaker_ignores_outcomes_of_an_earlier_state);
    tcase_add_test(pure, test_pools_split_the_slots);
    tcase_add_test(pure, test_pool_counts_its_slots);
    tcase_add_test(pure, test_retry_budget_is_a_capped_token_bucket);
    suite_add_tcase(s, pure);
    TCase *model = tcase_create("model");
    tcase_add_test(model, test_validate_refuses_bad_parameters);
    tcase_add_test(model, test_describe_msg_survives_garbage);
    tcase_add_test(model, test_breaker_notes_follow_the_slow_period);
    tcase_add_test(model, test_bulkhead_pools_in_the_load_notes);
    suite_add_tcase(s, model);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resilience_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
