/* Unit tests of the cache model (models/cache.c): its parameter checks,
 * messages that are malformed or truncated, and what a crash of the cache
 * node does to acknowledged writes under each policy, read from a real run's
 * final store state. The scenarios (60-62) are tested by
 * tests/scenario/test_cache.py. */
#include "alloc.h"
#include "model.h"
#include "params.h"
#include "trace.h"
#include "workload.h"
#include "world.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_test.h"

START_TEST(test_behind_needs_a_flush_period)
{
    const struct model *m = model_find("cache");
    ck_assert_ptr_nonnull(m);
    char err[256] = "";
    params *p = params_with(m, NULL);
    ck_assert_int_eq(m->validate(p, 3, err, sizeof err), 0);
    params_free(p);
    const char *bad[] = { "policy", "behind", "flush_every", "0ns", NULL };
    p = params_with(m, bad);
    ck_assert_int_eq(m->validate(p, 3, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "flush_every"));
    params_free(p);
    /* the same period is harmless for the policies that never flush */
    const char *aside[] = { "policy", "aside", "flush_every", "0ns", NULL };
    p = params_with(m, aside);
    ck_assert_int_eq(m->validate(p, 3, err, sizeof err), 0);
    params_free(p);
}
END_TEST

START_TEST(test_describe_msg_survives_garbage)
{
    const struct model *m = model_find("cache");
    ck_assert_ptr_nonnull(m);
    describe_msg_survives_garbage(m);
}
END_TEST

/* Run a 2-node cluster (store n1, cache n2) under policy: one client writes
 * x through n2 for 300 ms, n2 crashes at 350 ms (flush_every is 1 s, so a
 * write-behind cache has flushed nothing), and the run ends at 500 ms.
 * Returns the final state line of n1 (caller frees). */
static char *store_after_crash(const char *policy)
{
    const struct model *m = model_find("cache");
    const char *kv[] = { "policy", policy, "flush_every", "1s", NULL };
    char err[256];
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    trace *tr = trace_open_fd(fileno(tmp));
    world *w = world_new(5, tr);
    ck_assert_int_eq(world_cluster(w, m, params_with(m, kv), 2, NULL, err, sizeof err), 0);
    struct workload wl;
    workload_defaults(&wl);
    wl.clients = 1;
    wl.n_keys = 1;
    wl.keys = sim_xcalloc(1, sizeof *wl.keys);
    wl.keys[0] = sim_xstrdup("x");
    wl.mix[OP_READ] = 0;
    wl.mix[OP_WRITE] = 1;
    wl.duration = 300 * SIM_MS;
    wl.target = WL_TARGET_NODE;
    wl.node = 1;
    ck_assert_int_eq(world_workload(w, &wl, err, sizeof err), 0);
    ck_assert_int_eq(world_run(w, 350 * SIM_MS), WORLD_OK);
    world_crash(w, 1);
    ck_assert_int_eq(world_run(w, 500 * SIM_MS), WORLD_OK);
    world_finish(w);
    trace_close(tr);
    world_free(w);
    rewind(tmp);
    char *line = NULL, *found = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, tmp) > 0)
        if (strstr(line, "\"ev\":\"state\",\"node\":\"n1\"")) {
            free(found);
            found = strdup(line);
        }
    free(line);
    fclose(tmp);
    ck_assert_ptr_nonnull(found);
    return found;
}

START_TEST(test_write_behind_crash_loses_what_was_not_flushed)
{
    char *behind = store_after_crash("behind");
    ck_assert_msg(strstr(behind, "\"map\":{}") != NULL, "%s", behind);
    free(behind);
    char *through = store_after_crash("through");
    ck_assert_msg(strstr(through, "\"map\":{\"x\":") != NULL, "%s", through);
    free(through);
    char *aside = store_after_crash("aside");
    ck_assert_msg(strstr(aside, "\"map\":{\"x\":") != NULL, "%s", aside);
    free(aside);
}
END_TEST

static Suite *cache_suite(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_behind_needs_a_flush_period);
    tcase_add_test(tc, test_describe_msg_survives_garbage);
    tcase_add_test(tc, test_write_behind_crash_loses_what_was_not_flushed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cache_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
