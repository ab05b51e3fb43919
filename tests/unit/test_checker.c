/* Unit tests for the checker framework (sim/check/checker.c): the facts a
 * trace holds besides operations, the checker table, results, and the
 * invariants checker. Traces are written by hand, a few lines each. */
#include "alloc.h"
#include "check/checker.h"
#include "check/history.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER                                                                                \
    "{\"ev\":\"header\",\"format\":1,\"sim_version\":\"t\",\"scenario\":\"t.lua\","           \
    "\"scenario_sha256\":\"x\",\"seed\":\"1\",\"params\":{},\"limits\":{}}\n"
#define CLUSTER3                                                                              \
    "{\"t\":0,\"ev\":\"cluster\",\"model\":\"m\",\"nodes\":[\"n1\",\"n2\",\"n3\"],"          \
    "\"params\":{\"k\":1},\"cap_class\":\"PA/EL\"}\n"
#define WORKLOAD2 "{\"t\":0,\"ev\":\"workload\",\"clients\":[\"c1\",\"c2\"]}\n"
#define MS(x) ((int64_t)(x) * 1000000)

static char path[64];
static char err[512];

/* Write text to a fresh temporary file (path) and read its facts. */
static void facts_of(const char *text, struct trace_facts *f)
{
    strcpy(path, "/tmp/test-checker-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    size_t n = strlen(text);
    ck_assert_int_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    int rc = trace_facts_read(path, f, err, sizeof err);
    ck_assert_msg(rc == 0, "trace_facts_read: %d %s", rc, err);
}

static void done(struct trace_facts *f)
{
    trace_facts_free(f);
    unlink(path);
}

static int side(const struct trace_facts *f, size_t w, const char *name)
{
    int i = trace_facts_find(f, name);
    ck_assert_int_ge(i, 0);
    return f->windows[w].side_of[i];
}

/* ==== the cluster ========================================================== */

START_TEST(test_cluster_and_workload_give_nodes_then_clients)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3 WORKLOAD2 "{\"t\":5,\"ev\":\"end\"}\n", &f);
    ck_assert_str_eq(f.model, "m");
    ck_assert_str_eq(f.cap_class, "PA/EL");
    ck_assert_int_eq(f.n_nodes, 3);
    ck_assert_int_eq(f.n_names, 5);
    ck_assert_str_eq(f.names[0], "n1");
    ck_assert_str_eq(f.names[2], "n3");
    ck_assert_str_eq(f.names[3], "c1");
    ck_assert_int_eq(trace_facts_find(&f, "c2"), 4);
    ck_assert_int_eq(trace_facts_find(&f, "n9"), -1);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(f.params, "k")));
    ck_assert(f.complete);
    ck_assert_int_eq(f.end_time, 5);
    ck_assert_uint_eq(f.n_windows, 0);
    ck_assert_uint_eq(f.n_down, 0);
    ck_assert_uint_eq(f.n_invariant, 0);
    done(&f);
}
END_TEST

START_TEST(test_a_trace_without_end_is_incomplete_and_ends_at_its_last_time)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3 "{\"t\":700,\"ev\":\"heal\"}\n"
             "{\"t\":900,\"ev\":\"send\",\"id\":1,\"from\":\"n1\",\"to\":\"n2\",\"msg\":{}}\n"
             "{\"t\":950,\"ev\":\"deliv", &f);   /* cut short by a kill */
    ck_assert(!f.complete);
    ck_assert_int_eq(f.end_time, 900);
    done(&f);
}
END_TEST

START_TEST(test_unreadable_and_malformed_traces_are_errors)
{
    struct trace_facts f;
    ck_assert_int_eq(trace_facts_read("/nonexistent/t.jsonl", &f, err, sizeof err), HIST_EIO);
    ck_assert_ptr_nonnull(strstr(err, "cannot read"));
    ck_assert_int_eq(trace_facts_read("/tmp", &f, err, sizeof err), HIST_EIO);
    strcpy(path, "/tmp/test-checker-XXXXXX");
    int fd = mkstemp(path);
    const char *bad = HEADER CLUSTER3 "{\"t\":1,\"ev\":\"heal\",\n";
    ck_assert_int_eq(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    ck_assert_int_eq(trace_facts_read(path, &f, err, sizeof err), HIST_EFORMAT);
    ck_assert_msg(strstr(err, ":3:") != NULL, "no line number in %s", err);
    unlink(path);
}
END_TEST

/* ==== network faults ======================================================= */

START_TEST(test_partition_and_heal_make_one_window_with_sides)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3 WORKLOAD2
             "{\"t\":100000000,\"ev\":\"partition\",\"groups\":[[\"n1\",\"c1\"],[\"n2\",\"n3\"]]}\n"
             "{\"t\":300000000,\"ev\":\"heal\"}\n"
             "{\"t\":500000000,\"ev\":\"end\"}\n", &f);
    ck_assert_uint_eq(f.n_windows, 1);
    ck_assert_str_eq(f.windows[0].kind, "partition");
    ck_assert_int_eq(f.windows[0].start, MS(100));
    ck_assert_int_eq(f.windows[0].end, MS(300));
    ck_assert_int_eq(side(&f, 0, "n1"), 0);
    ck_assert_int_eq(side(&f, 0, "c1"), 0);
    ck_assert_int_eq(side(&f, 0, "n2"), 1);
    ck_assert_int_eq(side(&f, 0, "n3"), 1);
    ck_assert_int_eq(side(&f, 0, "c2"), -1);   /* not named: cut off from nobody */
    ck_assert_int_eq(f.last_fault_end, MS(300));
    done(&f);
}
END_TEST

START_TEST(test_a_new_partition_closes_the_previous_one)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3
             "{\"t\":100,\"ev\":\"partition\",\"groups\":[[\"n1\"],[\"n2\",\"n3\"]]}\n"
             "{\"t\":200,\"ev\":\"partition\",\"groups\":[[\"n3\"],[\"n1\",\"n2\"]]}\n"
             "{\"t\":400,\"ev\":\"end\"}\n", &f);
    ck_assert_uint_eq(f.n_windows, 2);
    ck_assert_int_eq(f.windows[0].end, 200);
    ck_assert_int_eq(f.windows[1].start, 200);
    ck_assert_int_eq(f.windows[1].end, INT64_MAX);   /* never healed */
    ck_assert_int_eq(side(&f, 1, "n3"), 0);
    ck_assert_int_eq(side(&f, 1, "n1"), 1);
    ck_assert_int_eq(f.last_fault_end, 200);
    done(&f);
}
END_TEST

START_TEST(test_isolate_cut_and_bridge_windows_close_at_the_heal)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3 WORKLOAD2
             "{\"t\":10,\"ev\":\"isolate\",\"node\":\"n2\"}\n"
             "{\"t\":20,\"ev\":\"cut\",\"from\":\"n1\",\"to\":\"n3\"}\n"
             "{\"t\":30,\"ev\":\"bridge\",\"a\":[\"n1\"],\"b\":[\"n3\"],\"via\":\"n2\"}\n"
             "{\"t\":40,\"ev\":\"heal\"}\n"
             "{\"t\":50,\"ev\":\"end\"}\n", &f);
    ck_assert_uint_eq(f.n_windows, 3);
    ck_assert_str_eq(f.windows[0].kind, "isolate");
    ck_assert_str_eq(f.windows[1].kind, "cut");
    ck_assert_str_eq(f.windows[2].kind, "bridge");
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(f.windows[i].end, 40);
    /* isolate: the node alone on side 1, the other nodes on side 0 */
    ck_assert_int_eq(side(&f, 0, "n2"), 1);
    ck_assert_int_eq(side(&f, 0, "n1"), 0);
    ck_assert_int_eq(side(&f, 0, "n3"), 0);
    ck_assert_int_eq(side(&f, 0, "c1"), -1);
    /* cut: from on 0, to on 1, the rest untouched */
    ck_assert_int_eq(side(&f, 1, "n1"), 0);
    ck_assert_int_eq(side(&f, 1, "n3"), 1);
    ck_assert_int_eq(side(&f, 1, "n2"), -1);
    /* bridge: a on 0, b on 1, the bridge node with both */
    ck_assert_int_eq(side(&f, 2, "n1"), 0);
    ck_assert_int_eq(side(&f, 2, "n3"), 1);
    ck_assert_int_eq(side(&f, 2, "n2"), -1);
    ck_assert_int_eq(f.last_fault_end, 40);
    done(&f);
}
END_TEST

START_TEST(test_clients_added_after_a_window_opened_have_no_side)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3
             "{\"t\":10,\"ev\":\"partition\",\"groups\":[[\"n1\"],[\"n2\",\"n3\"]]}\n"
             "{\"t\":20,\"ev\":\"workload\",\"clients\":[\"c1\",\"c2\",\"c3\",\"c4\"]}\n"
             "{\"t\":30,\"ev\":\"heal\"}\n"
             "{\"t\":40,\"ev\":\"end\"}\n", &f);
    ck_assert_int_eq(f.n_names, 7);
    for (int i = 3; i < 7; i++)
        ck_assert_int_eq(f.windows[0].side_of[i], -1);
    ck_assert_int_eq(side(&f, 0, "n1"), 0);
    done(&f);
}
END_TEST

/* ==== nodes: crashes, pauses, final states ================================= */

START_TEST(test_crash_restart_and_pause_resume_make_node_windows)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3
             "{\"t\":100,\"ev\":\"crash\",\"node\":\"n2\",\"unsynced_lost\":0}\n"
             "{\"t\":150,\"ev\":\"crash\",\"node\":\"n2\",\"already_down\":true}\n"
             "{\"t\":200,\"ev\":\"pause\",\"node\":\"n3\",\"duration\":50}\n"
             "{\"t\":250,\"ev\":\"resume\",\"node\":\"n3\"}\n"
             "{\"t\":300,\"ev\":\"restart\",\"node\":\"n2\"}\n"
             "{\"t\":400,\"ev\":\"crash\",\"node\":\"n1\",\"unsynced_lost\":2}\n"
             "{\"t\":500,\"ev\":\"end\"}\n", &f);
    ck_assert_uint_eq(f.n_down, 3);   /* the crash of a node already down is not a new one */
    ck_assert_int_eq(f.down[0].node, 1);
    ck_assert(!f.down[0].paused);
    ck_assert_int_eq(f.down[0].start, 100);
    ck_assert_int_eq(f.down[0].end, 300);
    ck_assert_int_eq(f.down[1].node, 2);
    ck_assert(f.down[1].paused);
    ck_assert_int_eq(f.down[1].start, 200);
    ck_assert_int_eq(f.down[1].end, 250);
    ck_assert_int_eq(f.down[2].node, 0);
    ck_assert_int_eq(f.down[2].end, INT64_MAX);   /* still down at the end */
    ck_assert_int_eq(f.last_fault_end, 300);
    done(&f);
}
END_TEST

START_TEST(test_final_states_are_kept_for_nodes_that_are_up)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3
             "{\"t\":9,\"ev\":\"state\",\"node\":\"n1\",\"up\":true,\"paused\":false,\"clock\":9,"
             "\"state\":{\"map\":{\"x\":3}}}\n"
             "{\"t\":9,\"ev\":\"state\",\"node\":\"n2\",\"up\":false,\"paused\":false,\"clock\":9}\n"
             "{\"t\":9,\"ev\":\"end\"}\n", &f);
    ck_assert(f.final_up[0]);
    ck_assert(!f.final_up[1]);
    ck_assert(!f.final_up[2]);   /* no state line at all */
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(f.final_state[0], "map");
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(map, "x")->valuedouble, 3);
    ck_assert_ptr_null(f.final_state[1]);
    ck_assert_ptr_null(f.final_state[2]);
    done(&f);
}
END_TEST

/* ==== invariants and delays ================================================ */

START_TEST(test_invariant_lines_are_collected_in_order)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3
             "{\"t\":7000000,\"ev\":\"invariant\",\"model\":\"m\",\"why\":\"two leaders\"}\n"
             "{\"t\":9000000,\"ev\":\"invariant\",\"model\":\"m\",\"why\":\"commit went back\"}\n"
             "{\"t\":10000000,\"ev\":\"end\"}\n", &f);
    ck_assert_uint_eq(f.n_invariant, 2);
    ck_assert_int_eq(f.invariant_t[0], MS(7));
    ck_assert_str_eq(f.invariant_why[0], "two leaders");
    ck_assert_str_eq(f.invariant_why[1], "commit went back");
    done(&f);
}
END_TEST

START_TEST(test_delays_between_nodes_are_sorted_and_exclude_clients)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3 WORKLOAD2
             "{\"t\":0,\"ev\":\"send\",\"id\":1,\"from\":\"n1\",\"to\":\"n2\",\"msg\":{}}\n"
             "{\"t\":1,\"ev\":\"send\",\"id\":2,\"from\":\"n2\",\"to\":\"n3\",\"msg\":{}}\n"
             "{\"t\":2,\"ev\":\"send\",\"id\":3,\"from\":\"c1\",\"to\":\"n1\",\"msg\":{}}\n"
             "{\"t\":3,\"ev\":\"send\",\"id\":4,\"from\":\"n3\",\"to\":\"n1\",\"msg\":{}}\n"
             "{\"t\":5,\"ev\":\"deliver\",\"id\":2,\"from\":\"n2\",\"to\":\"n3\"}\n"
             "{\"t\":9,\"ev\":\"deliver\",\"id\":1,\"from\":\"n1\",\"to\":\"n2\"}\n"
             "{\"t\":12,\"ev\":\"deliver\",\"id\":3,\"from\":\"c1\",\"to\":\"n1\"}\n"
             "{\"t\":20,\"ev\":\"end\"}\n", &f);   /* message 4 never arrives */
    ck_assert_uint_eq(f.n_node_delays, 2);
    ck_assert_int_eq(f.node_delays[0], 4);
    ck_assert_int_eq(f.node_delays[1], 9);
    done(&f);
}
END_TEST

START_TEST(test_a_nested_ev_does_not_change_a_lines_type)
{
    /* forged: the first "ev" of each line sits in a nested object; the
     * top-level one decides, as in the report's reader */
    struct trace_facts f;
    facts_of(HEADER CLUSTER3
             "{\"t\":1,\"x\":{\"ev\":\"crash\"},\"ev\":\"note\",\"node\":\"n1\",\"what\":\"hello\"}\n"
             "{\"t\":2,\"x\":{\"ev\":\"note\"},\"ev\":\"crash\",\"node\":\"n2\"}\n"
             "{\"t\":9,\"ev\":\"end\"}\n", &f);
    ck_assert_uint_eq(f.n_down, 1);
    ck_assert_int_eq(f.down[0].node, 1);
    ck_assert_int_eq(f.down[0].start, 2);
    done(&f);
}
END_TEST

START_TEST(test_routes_of_operations_whatever_their_ids)
{
    /* op ids come from the file: 2^62 and 9e15 are kept as well as 7, in a
     * table as big as the operations (three), not as the largest id (an
     * array indexed by id refused ids above 1e8, and took 1.1 GB at 1e8) */
    struct trace_facts f;
    facts_of(HEADER CLUSTER3 WORKLOAD2
             "{\"t\":0,\"ev\":\"send\",\"id\":1,\"from\":\"c1\",\"to\":\"n2\",\"msg\":{\"type\":\"request\",\"op\":7,\"attempt\":1}}\n"
             "{\"t\":1,\"ev\":\"send\",\"id\":2,\"from\":\"c2\",\"to\":\"n3\",\"msg\":{\"type\":\"request\",\"op\":4611686018427387904,\"attempt\":1}}\n"
             "{\"t\":2,\"ev\":\"send\",\"id\":3,\"from\":\"c2\",\"to\":\"n1\",\"msg\":{\"type\":\"request\",\"op\":9000000000000000,\"attempt\":2}}\n"
             "{\"t\":3,\"ev\":\"send\",\"id\":4,\"from\":\"n1\",\"to\":\"c2\",\"msg\":{\"type\":\"reply\",\"op\":9000000000000000,\"status\":\"ok\"}}\n"
             "{\"t\":4,\"ev\":\"send\",\"id\":5,\"from\":\"n2\",\"to\":\"c1\",\"msg\":{\"type\":\"reply\",\"op\":7,\"status\":\"fail\"}}\n"
             "{\"t\":9,\"ev\":\"end\"}\n", &f);
    int target, server;
    ck_assert(trace_facts_route(&f, 7, &target, &server));
    ck_assert_int_eq(target, 1);       /* n2 */
    ck_assert_int_eq(server, -1);      /* answered fail: nobody served it */
    ck_assert(trace_facts_route(&f, 4611686018427387904LL, &target, &server));
    ck_assert_int_eq(target, 2);
    ck_assert(trace_facts_route(&f, 9000000000000000LL, &target, &server));
    ck_assert_int_eq(target, -1);      /* only a second attempt: no first target */
    ck_assert_int_eq(server, 0);
    ck_assert(!trace_facts_route(&f, 8, &target, &server));
    ck_assert(!trace_facts_route(&f, 0, &target, &server));
    ck_assert_uint_eq(f.n_routes, 3);  /* one slot per operation mentioned */
    done(&f);
}
END_TEST

/* ==== the table and results ================================================ */

START_TEST(test_the_table_has_linearizable_first_and_unique_names)
{
    ck_assert_ptr_nonnull(checkers[0]);
    ck_assert_str_eq(checkers[0]->name, "linearizable");
    ck_assert(!checkers[0]->needs_trace);
    for (int i = 0; checkers[i]; i++) {
        ck_assert_ptr_eq(checker_find(checkers[i]->name), checkers[i]);
        ck_assert_ptr_nonnull(checkers[i]->summary);
        ck_assert(checkers[i]->run != NULL);
        ck_assert_msg(strspn(checkers[i]->name, "abcdefghijklmnopqrstuvwxyz_") == strlen(checkers[i]->name),
                      "checker name %s is not a Lua identifier in snake_case", checkers[i]->name);
    }
    ck_assert_ptr_nonnull(checker_find("invariants"));
    ck_assert_ptr_null(checker_find("serializable"));
    ck_assert_str_eq(check_verdict_name(CHECK_HOLDS), "holds");
    ck_assert_str_eq(check_verdict_name(CHECK_VIOLATED), "violated");
    ck_assert_str_eq(check_verdict_name(CHECK_UNKNOWN), "unknown");
    ck_assert_str_eq(check_verdict_name(CHECK_SKIPPED), "skipped");
}
END_TEST

START_TEST(test_check_text_appends_lines)
{
    struct check_result r;
    check_result_init(&r);
    ck_assert_int_eq(r.verdict, CHECK_UNKNOWN);
    check_text(&r, "one %d", 1);
    check_text(&r, "%s", "");
    for (int i = 0; i < 1000; i++)
        check_text(&r, "line %d of many", i);
    ck_assert_int_eq(strncmp(r.text, "one 1\n\nline 0 of many\n", 22), 0);
    ck_assert_uint_eq(strlen(r.text), r.text_len);
    ck_assert_ptr_nonnull(strstr(r.text, "line 999 of many\n"));
    check_result_free(&r);
    ck_assert_ptr_null(r.text);
}
END_TEST

/* ==== the invariants checker =============================================== */

static void run_checker(const char *name, const struct trace_facts *f, struct check_result *r,
                        cJSON **evidence)
{
    const struct checker *c = checker_find(name);
    ck_assert_ptr_nonnull(c);
    hist *h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    struct check_input in = { .h = h, .facts = f };
    check_result_init(r);
    ck_assert_int_eq(c->run(&in, r), 0);
    hist_free(h);
    *evidence = cJSON_ParseWithLength(r->evidence.buf, r->evidence.len);
    ck_assert_msg(*evidence != NULL, "evidence is not JSON: %.*s", (int)r->evidence.len,
                  r->evidence.buf);
}

START_TEST(test_invariants_hold_without_invariant_lines)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3 "{\"t\":10,\"ev\":\"end\"}\n", &f);
    struct check_result r;
    cJSON *ev;
    run_checker("invariants", &f, &r, &ev);
    ck_assert_int_eq(r.verdict, CHECK_HOLDS);
    ck_assert_ptr_nonnull(strstr(r.reason, "m model's protocol invariants held"));
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(ev, "count")->valuedouble, 0);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev, "violations")), 0);
    ck_assert(r.text == NULL || r.text_len == 0);
    cJSON_Delete(ev);
    check_result_free(&r);
    done(&f);
}
END_TEST

START_TEST(test_invariants_are_violated_by_the_first_line_and_list_up_to_20)
{
    char text[8192];
    size_t used = (size_t)snprintf(text, sizeof text, "%s", HEADER CLUSTER3);
    for (int i = 0; i < 25; i++)
        used += (size_t)snprintf(text + used, sizeof text - used,
                                 "{\"t\":%d000000,\"ev\":\"invariant\",\"model\":\"m\",\"why\":\"broken %d\"}\n",
                                 i + 1, i);
    snprintf(text + used, sizeof text - used, "{\"t\":99000000,\"ev\":\"end\"}\n");
    struct trace_facts f;
    facts_of(text, &f);
    struct check_result r;
    cJSON *ev;
    run_checker("invariants", &f, &r, &ev);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_msg(strstr(r.reason, "25 protocol invariant violations") &&
                      strstr(r.reason, "the first at 1.000 ms: broken 0"),
                  "reason: %s", r.reason);
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(ev, "count")->valuedouble, 25);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(ev, "violations");
    ck_assert_int_eq(cJSON_GetArraySize(list), 20);
    const cJSON *first = cJSON_GetArrayItem(list, 0);
    ck_assert_int_eq((int64_t)cJSON_GetObjectItemCaseSensitive(first, "t")->valuedouble, MS(1));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(first, "why")->valuestring, "broken 0");
    ck_assert_msg(strncmp(r.text, "at 1.000 ms: broken 0\n", 22) == 0, "text: %s", r.text);
    cJSON_Delete(ev);
    check_result_free(&r);
    done(&f);
}
END_TEST

START_TEST(test_one_invariant_violation_is_singular)
{
    struct trace_facts f;
    facts_of(HEADER CLUSTER3
             "{\"t\":2500000,\"ev\":\"invariant\",\"model\":\"m\",\"why\":\"n1 and n3 both lead\"}\n", &f);
    struct check_result r;
    cJSON *ev;
    run_checker("invariants", &f, &r, &ev);
    ck_assert_int_eq(r.verdict, CHECK_VIOLATED);
    ck_assert_str_eq(r.reason, "1 protocol invariant violation; the first at 2.500 ms: n1 and n3 both lead");
    cJSON_Delete(ev);
    check_result_free(&r);
    done(&f);
}
END_TEST

static Suite *checker_suite(void)
{
    Suite *s = suite_create("checker");
    TCase *tc = tcase_create("facts");
    tcase_add_test(tc, test_cluster_and_workload_give_nodes_then_clients);
    tcase_add_test(tc, test_routes_of_operations_whatever_their_ids);
    tcase_add_test(tc, test_a_nested_ev_does_not_change_a_lines_type);
    tcase_add_test(tc, test_a_trace_without_end_is_incomplete_and_ends_at_its_last_time);
    tcase_add_test(tc, test_unreadable_and_malformed_traces_are_errors);
    tcase_add_test(tc, test_partition_and_heal_make_one_window_with_sides);
    tcase_add_test(tc, test_a_new_partition_closes_the_previous_one);
    tcase_add_test(tc, test_isolate_cut_and_bridge_windows_close_at_the_heal);
    tcase_add_test(tc, test_clients_added_after_a_window_opened_have_no_side);
    tcase_add_test(tc, test_crash_restart_and_pause_resume_make_node_windows);
    tcase_add_test(tc, test_final_states_are_kept_for_nodes_that_are_up);
    tcase_add_test(tc, test_invariant_lines_are_collected_in_order);
    tcase_add_test(tc, test_delays_between_nodes_are_sorted_and_exclude_clients);
    suite_add_tcase(s, tc);
    TCase *tc2 = tcase_create("checkers");
    tcase_add_test(tc2, test_the_table_has_linearizable_first_and_unique_names);
    tcase_add_test(tc2, test_check_text_appends_lines);
    tcase_add_test(tc2, test_invariants_hold_without_invariant_lines);
    tcase_add_test(tc2, test_invariants_are_violated_by_the_first_line_and_list_up_to_20);
    tcase_add_test(tc2, test_one_invariant_violation_is_singular);
    suite_add_tcase(s, tc2);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(checker_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
