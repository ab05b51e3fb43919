/* Unit tests of the trace writer and header reader. */
#include "trace.h"
#include "alloc.h"
#include "exitcodes.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_path[64];

static const char *temp_file(const char *content)
{
    strcpy(tmp_path, "/tmp/test-trace-XXXXXX");
    int fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    if (content)
        ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return tmp_path;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        SIM_GROW(buf, cap, *len + 2);
        buf[(*len)++] = (char)c;
    }
    if (buf)
        buf[*len] = 0;
    fclose(f);
    return buf;
}

START_TEST(test_events_are_complete_json_lines)
{
    char err[256];
    const char *path = temp_file(NULL);
    trace *t = trace_open(path, err, sizeof err);
    ck_assert_ptr_nonnull(t);
    for (int i = 0; i < 50000; i++) {   /* several buffer flushes */
        jw *w = trace_begin(t, (sim_time)i * 1000, "send");
        jw_kint(w, "id", i);
        jw_kstr(w, "from", "n1");
        trace_end(t);
    }
    ck_assert_uint_eq(trace_lines(t), 50000);
    ck_assert_int_eq(trace_close(t), 0);
    size_t len;
    char *buf = slurp(path, &len);
    ck_assert_uint_gt(len, 0);
    ck_assert_int_eq(buf[len - 1], '\n');
    int lines = 0;
    for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = 0;
        cJSON *j = cJSON_Parse(line);
        ck_assert_ptr_nonnull(j);
        ck_assert_int_eq(cJSON_GetObjectItem(j, "id")->valueint, lines);
        ck_assert_str_eq(cJSON_GetObjectItem(j, "ev")->valuestring, "send");
        cJSON_Delete(j);
        lines++;
    }
    ck_assert_int_eq(lines, 50000);
    free(buf);
    unlink(path);
}
END_TEST

START_TEST(test_quoted_and_plain_begin_write_the_same_line)
{
    char err[256];
    const char *path = temp_file(NULL);
    trace *t = trace_open(path, err, sizeof err);
    jw *w = TRACE_BEGIN(t, 5, "send");
    jw_kint(w, "id", 1);
    JW_KEY(w, "to");
    jw_str(w, "n2");
    trace_end(t);
    w = trace_begin(t, 5, "send");
    jw_kint(w, "id", 1);
    jw_kstr(w, "to", "n2");
    trace_end(t);
    ck_assert_int_eq(trace_close(t), 0);
    size_t len;
    char *buf = slurp(path, &len);
    ck_assert_str_eq(buf, "{\"t\":5,\"ev\":\"send\",\"id\":1,\"to\":\"n2\"}\n"
                          "{\"t\":5,\"ev\":\"send\",\"id\":1,\"to\":\"n2\"}\n");
    free(buf);
    unlink(path);
}
END_TEST

START_TEST(test_unflushed_lines_never_reach_the_file_half_written)
{
    char err[256];
    const char *path = temp_file(NULL);
    trace *t = trace_open(path, err, sizeof err);
    /* lines of ~1 KiB: whatever was written so far must end with a newline */
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    for (int i = 0; i < 3000; i++) {
        jw *w = trace_begin(t, i, "log");
        jw_kstr(w, "msg", big);
        trace_end(t);
        if (i % 500 == 499) {
            size_t len;
            char *buf = slurp(path, &len);
            ck_assert(len == 0 || buf[len - 1] == '\n');
            free(buf);
        }
    }
    ck_assert_int_eq(trace_close(t), 0);
    unlink(path);
}
END_TEST

START_TEST(test_header_round_trip)
{
    const char *path = temp_file(
        "{\"ev\":\"header\",\"format\":1,\"sim_version\":\"0.1.0\",\"scenario\":\"a.lua\","
        "\"scenario_sha256\":\"ab\",\"seed\":\"18446744073709551615\",\"params\":{\"w\":\"2\"}}\n"
        "{\"t\":0,\"ev\":\"heal\"}\n");
    struct trace_header h;
    char err[256];
    ck_assert_int_eq(trace_header_read(path, &h, err, sizeof err), 0);
    ck_assert_str_eq(h.scenario, "a.lua");
    ck_assert(h.seed == UINT64_MAX);
    ck_assert_str_eq(cJSON_GetObjectItem(h.params, "w")->valuestring, "2");
    trace_header_free(&h);
    unlink(path);
}
END_TEST

static void expect_bad_header(const char *content, int code, const char *words)
{
    const char *path = temp_file(content);
    struct trace_header h;
    char err[256] = "";
    ck_assert_int_eq(trace_header_read(path, &h, err, sizeof err), code);
    ck_assert_msg(strstr(err, words) != NULL, "message \"%s\" lacks \"%s\"", err, words);
    ck_assert_ptr_null(strchr(err, '\n'));
    unlink(path);
}

START_TEST(test_bad_headers_are_refused_with_one_line)
{
    expect_bad_header("", SIM_EXIT_BAD_TRACE, "empty");
    expect_bad_header("not json\n", SIM_EXIT_BAD_TRACE, ":1:");
    expect_bad_header("{\"t\":0,\"ev\":\"send\"}\n", SIM_EXIT_BAD_TRACE, "header");
    expect_bad_header("{\"ev\":\"header\",\"format\":99,\"scenario\":\"a\",\"seed\":\"1\"}\n",
                      SIM_EXIT_BAD_TRACE, "format 99");
    expect_bad_header("{\"ev\":\"header\",\"format\":1,\"scenario\":\"a\",\"seed\":\"-1\"}\n",
                      SIM_EXIT_BAD_TRACE, "seed");
    expect_bad_header("{\"ev\":\"header\",\"format\":1,\"seed\":\"1\"}\n", SIM_EXIT_BAD_TRACE, "lacks");
}
END_TEST

START_TEST(test_missing_trace_is_an_io_error)
{
    struct trace_header h;
    char err[256];
    ck_assert_int_eq(trace_header_read("/nonexistent/trace.jsonl", &h, err, sizeof err), SIM_EXIT_IO);
}
END_TEST

START_TEST(test_getline_flags_a_truncated_last_line)
{
    const char *path = temp_file("{\"a\":1}\n{\"b\":");
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t cap = 0;
    int complete;
    ck_assert_int_eq(trace_getline(f, &buf, &cap, &complete), 7);
    ck_assert_int_eq(complete, 1);
    ck_assert_int_eq(trace_getline(f, &buf, &cap, &complete), 5);
    ck_assert_int_eq(complete, 0);
    ck_assert_int_eq(trace_getline(f, &buf, &cap, &complete), -1);
    fclose(f);
    sim_free(buf);
    unlink(path);
}
END_TEST

START_TEST(test_unwritable_path_gives_one_line)
{
    char err[256];
    trace *t = trace_open("/nonexistent/dir/t.jsonl", err, sizeof err);
    ck_assert_ptr_null(t);
    ck_assert_ptr_nonnull(strstr(err, "cannot write trace /nonexistent/dir/t.jsonl"));
}
END_TEST

START_TEST(test_write_errors_stick)
{
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        return;   /* no /dev/full here: nothing to test */
    trace *t = trace_open_fd(fileno(full));
    for (int i = 0; i < 10000; i++) {
        jw *w = trace_begin(t, i, "heal");
        jw_kint(w, "i", i);
        trace_end(t);
    }
    ck_assert(trace_failed(t));
    ck_assert_int_eq(trace_close(t), -1);
    fclose(full);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("trace");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_events_are_complete_json_lines);
    tcase_add_test(tc, test_quoted_and_plain_begin_write_the_same_line);
    tcase_add_test(tc, test_unflushed_lines_never_reach_the_file_half_written);
    tcase_add_test(tc, test_header_round_trip);
    tcase_add_test(tc, test_bad_headers_are_refused_with_one_line);
    tcase_add_test(tc, test_missing_trace_is_an_io_error);
    tcase_add_test(tc, test_getline_flags_a_truncated_last_line);
    tcase_add_test(tc, test_unwritable_path_gives_one_line);
    tcase_add_test(tc, test_write_errors_stick);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
