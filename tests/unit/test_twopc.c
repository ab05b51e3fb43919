/* Unit tests of the twopc and saga models' declarations: the parameter
 * checks a cluster runs before anything starts, the keys a workload may
 * use, and the mutants each model declares. Runs are tested by
 * tests/scenario/test_txn.py. */
#include "model.h"
#include "params.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_test.h"

/* validate's sentence for kv on n nodes, or "" when it accepts. */
static const char *refusal(const char *model, const char *const *kv, int n, char *err, size_t len)
{
    const struct model *m = model_find(model);
    ck_assert_ptr_nonnull(m);
    params *p = params_with(m, kv);
    err[0] = 0;
    int rc = m->validate(p, n, err, len);
    params_free(p);
    ck_assert_int_eq(rc == 0, err[0] == 0);
    return err;
}

START_TEST(test_twopc_refuses_bad_parameters)
{
    char err[256];
    ck_assert_str_eq(refusal("twopc", NULL, 4, err, sizeof err), "");
    ck_assert_ptr_nonnull(strstr(refusal("twopc", NULL, 1, err, sizeof err), "at least one participant"));
    const char *coord[] = { "coordinator", "5", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("twopc", coord, 4, err, sizeof err), "from 1 to 4, got 5"));
    const char *voters[] = { "no_voters", "n3 n7", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("twopc", voters, 4, err, sizeof err), "unknown participant \"n7\""));
    const char *self[] = { "no_voters", "n1", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("twopc", self, 4, err, sizeof err), "the coordinator n1"));
    const char *prob[] = { "vote_no", "1.5", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("twopc", prob, 4, err, sizeof err), "probability"));
    const char *timeout[] = { "decision_timeout", "0ns", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("twopc", timeout, 4, err, sizeof err), "decision_timeout must be above 0"));
    const char *ok[] = { "no_voters", "n2, n4", "coordinator", "3", NULL };
    ck_assert_str_eq(refusal("twopc", ok, 4, err, sizeof err), "");
}
END_TEST

START_TEST(test_twopc_keys_name_participants)
{
    const struct model *m = model_find("twopc");
    params *p = params_with(m, NULL);
    char err[256];
    ck_assert_int_eq(m->check_key(p, 3, "n2/x", err, sizeof err), 0);
    ck_assert_int_eq(m->check_key(p, 3, "n3/some_key", err, sizeof err), 0);
    const char *bad[] = { "n4/x", "n0/x", "x", "n2", "n2/", "n/x", "n1/x",
                          "n2/this_key_is_far_too_long_for_a_participant", NULL };
    for (int i = 0; bad[i]; i++) {
        err[0] = 0;
        ck_assert_msg(m->check_key(p, 3, bad[i], err, sizeof err) == -1, "%s accepted", bad[i]);
        ck_assert_msg(strstr(err, bad[i]) != NULL, "%s: %s", bad[i], err);
    }
    params_free(p);
}
END_TEST

START_TEST(test_saga_definition_errors)
{
    char err[256];
    ck_assert_str_eq(refusal("saga", NULL, 4, err, sizeof err), "");
    const char *empty[] = { "steps", " ; ", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("saga", empty, 4, err, sizeof err), "saga steps are empty"));
    const char *nocomp[] = { "steps", "book@n2/cancel; pay@n3", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("saga", nocomp, 4, err, sizeof err),
                                 "saga step 2 \"pay@n3\" has no compensation"));
    const char *nocomp2[] = { "steps", "book@n2/ ", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("saga", nocomp2, 4, err, sizeof err), "has no compensation"));
    const char *node[] = { "steps", "book@n9/cancel", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("saga", node, 4, err, sizeof err), "unknown node \"n9\""));
    const char *noservice[] = { "steps", "book/cancel", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("saga", noservice, 4, err, sizeof err), "names no service"));
    const char *twice[] = { "steps", "a@n2/b; c@n2/d", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("saga", twice, 4, err, sizeof err), "both on n2"));
    const char *orch[] = { "steps", "a@n1/b", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("saga", orch, 4, err, sizeof err), "runs on the orchestrator"));
    const char *chor[] = { "steps", "a@n1/b", "style", "choreography", NULL };
    ck_assert_str_eq(refusal("saga", chor, 4, err, sizeof err), "");
    const char *fail[] = { "fail_step", "4", NULL };
    ck_assert_ptr_nonnull(strstr(refusal("saga", fail, 4, err, sizeof err), "from 1 to 3, got 4"));
}
END_TEST

/* Every mutant a model lists is a choice of its "mutant" parameter. */
START_TEST(test_mutants_are_choices)
{
    const char *names[] = { "twopc", "saga", NULL };
    for (int i = 0; names[i]; i++) {
        const struct model *m = model_find(names[i]);
        ck_assert_ptr_nonnull(m->mutants);
        const struct model_param *mp = NULL;
        for (const struct model_param *q = m->params; q->name; q++)
            if (strcmp(q->name, "mutant") == 0)
                mp = q;
        ck_assert_ptr_nonnull(mp);
        int n = 0;
        for (const struct model_mutant *mu = m->mutants; mu->name; mu++, n++)
            ck_assert_msg(strstr(mp->choices, mu->name) != NULL, "%s: %s", names[i], mu->name);
        ck_assert_int_eq(n, 2);
    }
}
END_TEST

static Suite *twopc_suite(void)
{
    Suite *s = suite_create("twopc");
    TCase *tc = tcase_create("declarations");
    tcase_add_test(tc, test_twopc_refuses_bad_parameters);
    tcase_add_test(tc, test_twopc_keys_name_participants);
    tcase_add_test(tc, test_saga_definition_errors);
    tcase_add_test(tc, test_mutants_are_choices);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(twopc_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
