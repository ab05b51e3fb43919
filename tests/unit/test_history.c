/* Unit tests for histories and their three readers (sim/check/history.c). */
#include "alloc.h"
#include "check/history.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HEADER "{\"ev\":\"header\",\"format\":1,\"sim_version\":\"0.1.0\",\"seed\":\"1\"}\n"

static char err[512];

static hist *parse_ok(enum hist_format f, const char *text)
{
    hist *h = NULL;
    int rc = hist_parse(f, text, strlen(text), "t", &h, err, sizeof err);
    ck_assert_msg(rc == 0, "parse failed: %s", err);
    ck_assert_ptr_nonnull(h);
    return h;
}

/* Parsing must fail with HIST_EFORMAT and a message "t:LINE: ..." that
 * contains `words`. */
static void parse_bad(enum hist_format f, const char *text, int line, const char *words)
{
    hist *h = (hist *)1;
    int rc = hist_parse(f, text, strlen(text), "t", &h, err, sizeof err);
    ck_assert_msg(rc == HIST_EFORMAT, "expected a format error for %s, got %d", text, rc);
    ck_assert_ptr_null(h);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "t:%d: ", line);
    ck_assert_msg(strncmp(err, prefix, strlen(prefix)) == 0, "message %s does not start with %s", err,
                  prefix);
    ck_assert_msg(strstr(err, words), "message %s lacks %s", err, words);
    ck_assert_ptr_null(strchr(err, '\n'));
}

/* ==== building ============================================================= */

START_TEST(test_intern_gives_one_id_per_string_and_empty_is_zero)
{
    hist *h = hist_new(HIST_KV, HIST_CLOCK_LINE);
    ck_assert_int_eq(hist_intern(h, "", 0), 0);
    int32_t a = hist_intern(h, "abc", 3), b = hist_intern(h, "abd", 3);
    ck_assert_int_ne(a, b);
    ck_assert_int_eq(hist_intern(h, "abc", 3), a);
    ck_assert_str_eq(hist_str(h, b), "abd");
    ck_assert_uint_eq(hist_strlen(h, a), 3);
    /* many strings: the table grows and keeps them all */
    char buf[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(buf, sizeof buf, "s%d", i);
        ck_assert_int_eq(hist_intern(h, buf, strlen(buf)), i + 3);
    }
    for (int i = 0; i < 5000; i += 7) {
        snprintf(buf, sizeof buf, "s%d", i);
        ck_assert_int_eq(hist_intern(h, buf, strlen(buf)), i + 3);
    }
    hist_free(h);
}
END_TEST

START_TEST(test_keys_are_listed_in_order_of_first_use)
{
    hist *h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    struct hist_op op = { 0 };
    op.key = hist_intern(h, "y", 1);
    hist_add(h, &op);
    op.key = hist_intern(h, "x", 1);
    hist_add(h, &op);
    op.key = hist_intern(h, "y", 1);
    hist_add(h, &op);
    ck_assert_uint_eq(hist_n_keys(h), 2);
    ck_assert_str_eq(hist_str(h, hist_key(h, 0)), "y");
    ck_assert_str_eq(hist_str(h, hist_key(h, 1)), "x");
    hist_free(h);
}
END_TEST

START_TEST(test_process_labels)
{
    hist *h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    char buf[32];
    ck_assert_str_eq(hist_process_label(h, hist_intern(h, "c2", 2), buf, sizeof buf), "c2");
    ck_assert_str_eq(hist_process_label(h, hist_intern(h, "14", 2), buf, sizeof buf), "process 14");
    hist_free(h);
}
END_TEST

/* ==== sim traces =========================================================== */

static const char trace_text[] =
    HEADER
    "{\"t\":0,\"ev\":\"cluster\",\"model\":\"m\",\"nodes\":[\"n1\"]}\n"
    "{\"t\":0,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":1,\"f\":\"write\",\"key\":\"x\",\"value\":5}\n"
    "{\"t\":10,\"ev\":\"invoke\",\"client\":\"c2\",\"op\":2,\"f\":\"cas\",\"key\":\"y\",\"value\":[0,7]}\n"
    "{\"t\":20,\"ev\":\"send\",\"id\":1,\"from\":\"c1\",\"to\":\"n1\",\"msg\":{}}\n"
    "{\"t\":30,\"ev\":\"ok\",\"client\":\"c1\",\"op\":1,\"f\":\"write\",\"key\":\"x\",\"value\":5,\"latency\":30,\"attempts\":1}\n"
    "{\"t\":30,\"ev\":\"fail\",\"client\":\"c2\",\"op\":2,\"f\":\"cas\",\"key\":\"y\",\"value\":[0,7],\"error\":\"cas mismatch\"}\n"
    "{\"t\":40,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":3,\"f\":\"read\",\"key\":\"x\",\"value\":null}\n"
    "{\"t\":45,\"ev\":\"ok\",\"client\":\"c1\",\"op\":3,\"f\":\"read\",\"key\":\"x\",\"value\":5}\n"
    "{\"t\":50,\"ev\":\"invoke\",\"client\":\"c2\",\"op\":4,\"f\":\"write\",\"key\":\"x\",\"value\":6}\n"
    "{\"t\":90,\"ev\":\"info\",\"client\":\"c2\",\"op\":4,\"f\":\"write\",\"key\":\"x\",\"value\":6,\"error\":\"timeout\"}\n"
    "{\"t\":95,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":5,\"f\":\"read\",\"key\":\"x\",\"value\":null}\n"
    "{\"t\":99,\"ev\":\"end\",\"events\":3}\n";

START_TEST(test_trace_gives_every_operation_with_times_lines_and_outcomes)
{
    hist *h = parse_ok(HIST_FORMAT_TRACE, trace_text);
    ck_assert_int_eq(hist_model(h), HIST_REGISTER);
    ck_assert_int_eq(hist_clock(h), HIST_CLOCK_NS);
    ck_assert_uint_eq(hist_count(h), 5);
    ck_assert_str_eq(hist_warning(h), "");
    const struct hist_op *w = hist_op(h, 0), *c = hist_op(h, 1), *r = hist_op(h, 2),
                         *i = hist_op(h, 3), *open = hist_op(h, 4);
    ck_assert_str_eq(hist_str(h, w->process), "c1");
    ck_assert_str_eq(hist_str(h, w->key), "x");
    ck_assert_int_eq(w->f, HIST_WRITE);
    ck_assert_int_eq(w->type, HIST_OK);
    ck_assert_int_eq(w->arg, 5);
    ck_assert_int_eq(w->invoke_t, 0);
    ck_assert_int_eq(w->complete_t, 30);
    ck_assert_int_eq(w->invoke_line, 3);
    ck_assert_int_eq(w->complete_line, 6);
    ck_assert_int_lt(w->invoke_pos, c->invoke_pos);
    ck_assert_int_lt(w->complete_pos, c->complete_pos);   /* same t: line order decides */
    ck_assert_int_eq(c->f, HIST_CAS);
    ck_assert_int_eq(c->type, HIST_FAIL);
    ck_assert(!c->constrains);   /* in sim traces a fail did not take effect */
    ck_assert_int_eq(c->arg, 0);
    ck_assert_int_eq(c->arg2, 7);
    ck_assert_int_eq(r->out, 5);
    ck_assert_int_eq(r->id, 3);
    ck_assert_int_eq(i->type, HIST_INFO);
    ck_assert(!i->open);
    ck_assert_int_eq(i->complete_t, 90);
    ck_assert_int_eq(open->type, HIST_INFO);
    ck_assert(open->open);
    ck_assert_int_eq(open->complete_pos, HIST_NEVER);
    ck_assert_uint_eq(hist_n_keys(h), 2);
    hist_free(h);
}
END_TEST

START_TEST(test_empty_files_are_empty_histories)
{
    for (int f = 0; f < 3; f++) {
        hist *h = parse_ok((enum hist_format)f, "");
        ck_assert_uint_eq(hist_count(h), 0);
        hist_free(h);
    }
    hist *h = parse_ok(HIST_FORMAT_TRACE, HEADER);
    ck_assert_uint_eq(hist_count(h), 0);
    hist_free(h);
}
END_TEST

START_TEST(test_read_of_null_is_nil)
{
    hist *h = parse_ok(HIST_FORMAT_TRACE, HEADER
        "{\"t\":1,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":1,\"f\":\"read\",\"key\":\"x\",\"value\":null}\n"
        "{\"t\":2,\"ev\":\"ok\",\"client\":\"c1\",\"op\":1,\"f\":\"read\",\"key\":\"x\",\"value\":null}\n");
    ck_assert_int_eq(hist_op(h, 0)->out, HIST_NIL);
    hist_free(h);
}
END_TEST

START_TEST(test_jepsen_edn_gives_keyed_and_single_registers)
{
    hist *h = parse_ok(HIST_FORMAT_JEPSEN_EDN,
        "{:index 0, :time 0, :type :invoke, :process 0, :f :write, :value [\"x\" 3], :client \"c1\"}\n"
        "{:type :invoke, :f :read, :value [\"y\" nil], :process 1}\n"
        "{:type :info, :f :start, :process :nemesis, :value [:isolated {\"n1\" #{\"n2\"}}]}\n"
        "{:type :ok, :f :write, :value [\"x\" 3], :process 0, :error nil}\n"
        "{:type :ok, :f :read, :value [\"y\" 7], :process 1}\n"
        "{:type :invoke, :f :cas, :value [\"x\" [3 4]], :process 0}\n"
        "{:type :fail, :f :cas, :value [\"x\" [3 4]], :process 0, :error :mismatch}\n"
        "{:type :invoke, :f :write, :value 5, :process 2}\n"
        "{:type :info, :f :write, :value 5, :process 2}\n");
    ck_assert_uint_eq(hist_count(h), 4);
    ck_assert_str_eq(hist_str(h, hist_op(h, 0)->key), "x");
    ck_assert_int_eq(hist_op(h, 0)->arg, 3);
    ck_assert_int_eq(hist_op(h, 1)->out, 7);
    ck_assert_int_eq(hist_op(h, 2)->f, HIST_CAS);
    ck_assert_int_eq(hist_op(h, 2)->type, HIST_FAIL);
    ck_assert_int_eq(hist_op(h, 2)->arg2, 4);
    ck_assert_str_eq(hist_str(h, hist_op(h, 3)->key), "");   /* the single register */
    ck_assert_int_eq(hist_op(h, 3)->type, HIST_INFO);
    hist_free(h);
    parse_bad(HIST_FORMAT_JEPSEN_EDN, "{:type :invoke, :f :write, :value [\"x\" 1 2], :process 0}\n", 1,
              "more than two elements");
    parse_bad(HIST_FORMAT_JEPSEN_EDN, "{:type :invoke, :f :frob, :value 1, :process 0}\n", 1,
              "unknown operation type");
    parse_bad(HIST_FORMAT_JEPSEN_EDN, "{:type :invoke, :f :write, :value [\"x\" 1], :process 0\n", 1,
              "not closed");
}
END_TEST

START_TEST(test_counter_set_and_sibling_operations_mark_the_history)
{
    char why[200];
    hist *h = parse_ok(HIST_FORMAT_TRACE, HEADER
        "{\"t\":1,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":1,\"f\":\"write\",\"key\":\"x\",\"value\":4}\n"
        "{\"t\":2,\"ev\":\"ok\",\"client\":\"c1\",\"op\":1,\"f\":\"write\",\"key\":\"x\",\"value\":4}\n");
    ck_assert(hist_registers_only(h, why, sizeof why));
    hist_free(h);
    h = parse_ok(HIST_FORMAT_TRACE, HEADER
        "{\"t\":1,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":1,\"f\":\"add\",\"key\":\"x\",\"value\":-2}\n"
        "{\"t\":2,\"ev\":\"ok\",\"client\":\"c1\",\"op\":1,\"f\":\"add\",\"key\":\"x\",\"value\":-2}\n"
        "{\"t\":3,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":2,\"f\":\"remove\",\"key\":\"x\",\"value\":7}\n"
        "{\"t\":4,\"ev\":\"fail\",\"client\":\"c1\",\"op\":2,\"f\":\"remove\",\"key\":\"x\",\"value\":7}\n");
    ck_assert_uint_eq(hist_count(h), 2);
    ck_assert_int_eq(hist_op(h, 0)->f, HIST_ADD);
    ck_assert_int_eq(hist_op(h, 0)->arg, -2);
    ck_assert_int_eq(hist_op(h, 1)->f, HIST_REMOVE);
    ck_assert(!hist_registers_only(h, why, sizeof why));
    ck_assert_str_eq(why, "2 add/remove operations (a counter or a set)");
    hist_free(h);
    h = parse_ok(HIST_FORMAT_TRACE, HEADER
        "{\"t\":1,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":1,\"f\":\"read\",\"key\":\"x\",\"value\":null}\n"
        "{\"t\":2,\"ev\":\"ok\",\"client\":\"c1\",\"op\":1,\"f\":\"read\",\"key\":\"x\",\"value\":null,\"values\":[3,5]}\n");
    ck_assert(hist_op(h, 0)->multi);
    ck_assert(!hist_observes(hist_op(h, 0)));   /* register checkers never see it as a nil read */
    ck_assert(!hist_registers_only(h, why, sizeof why));
    ck_assert_str_eq(why, "1 reads that returned several values (siblings or a set)");
    hist_free(h);
    parse_bad(HIST_FORMAT_TRACE, HEADER
        "{\"t\":1,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":1,\"f\":\"add\",\"key\":\"x\",\"value\":null}\n",
        2, "add of op 1 without an integer \"value\"");
    parse_bad(HIST_FORMAT_TRACE, HEADER
        "{\"t\":1,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":1,\"f\":\"read\",\"key\":\"x\",\"value\":null}\n"
        "{\"t\":2,\"ev\":\"ok\",\"client\":\"c1\",\"op\":1,\"f\":\"read\",\"key\":\"x\",\"value\":null,\"values\":3}\n",
        3, "not a list");
}
END_TEST

#define INV(t, c, op, f, v) "{\"t\":" #t ",\"ev\":\"invoke\",\"client\":\"" c "\",\"op\":" #op ",\"f\":\"" f "\",\"key\":\"x\",\"value\":" v "}\n"
#define OK(t, c, op, f, v) "{\"t\":" #t ",\"ev\":\"ok\",\"client\":\"" c "\",\"op\":" #op ",\"f\":\"" f "\",\"key\":\"x\",\"value\":" v "}\n"

START_TEST(test_trace_errors_name_the_line)
{
    parse_bad(HIST_FORMAT_TRACE, "{\"ev\":\"cluster\"}\n", 1, "not a sim trace");
    parse_bad(HIST_FORMAT_TRACE, "{\"ev\":\"header\",\"format\":2}\n", 1, "format 2");
    parse_bad(HIST_FORMAT_TRACE, "not json\n", 1, "not a sim trace");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "incr", "1"), 2, "unknown operation type \"incr\"");
    parse_bad(HIST_FORMAT_TRACE, HEADER OK(1, "c1", 9, "write", "1"), 2,
              "completion without invocation");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "write", "1") OK(2, "c1", 1, "write", "1")
              INV(3, "c2", 1, "write", "2"), 4, "duplicate operation id 1");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "write", "1") INV(2, "c1", 2, "write", "2"), 3,
              "still open");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(5, "c1", 1, "write", "1") OK(4, "c1", 1, "write", "1"), 3,
              "time goes backwards");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "write", "1") "{\"t\":2,\"ev\":\"ok\",\n"
              OK(3, "c1", 1, "write", "1"), 3, "not a JSON object");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "write", "null"), 2, "integer");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "cas", "[1]"), 2, "[expect, new]");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "write", "1")
              "{\"t\":2,\"ev\":\"ok\",\"client\":\"c2\",\"op\":1,\"f\":\"write\",\"key\":\"x\",\"value\":1}\n",
              3, "invoked by c1");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "write", "1") OK(2, "c1", 1, "write", "1")
              OK(3, "c1", 1, "write", "1"), 4, "completes twice");
    parse_bad(HIST_FORMAT_TRACE, HEADER "\n", 2, "empty line");
    parse_bad(HIST_FORMAT_TRACE, HEADER "{\"ev\":\"log\"}\n", 2, "time");
    parse_bad(HIST_FORMAT_TRACE, HEADER INV(1, "c1", 1, "write", "1.5"), 2, "integer");
}
END_TEST

START_TEST(test_trace_cut_short_by_a_kill_keeps_what_is_complete)
{
    const char text[] = HEADER INV(1, "c1", 1, "write", "1") OK(2, "c1", 1, "write", "1")
        "{\"t\":3,\"ev\":\"invoke\",\"client\":\"c1\",\"op\":2,\"f\":\"wr";
    hist *h = parse_ok(HIST_FORMAT_TRACE, text);
    ck_assert_uint_eq(hist_count(h), 1);
    ck_assert_msg(strstr(hist_warning(h), "t:4:") && strstr(hist_warning(h), "cut short"), "%s",
                  hist_warning(h));
    hist_free(h);
    /* with its newline it is a complete line, and a broken one */
    char with_newline[sizeof text + 1];
    snprintf(with_newline, sizeof with_newline, "%s\n", text);
    parse_bad(HIST_FORMAT_TRACE, with_newline, 4, "not a JSON object");
}
END_TEST

/* ==== Jepsen logs ========================================================== */

static const char jepsen_text[] =
    "INFO  jepsen.util - 4\t:invoke\t:read\tnil\n"
    "INFO  jepsen.util - 4\t:ok\t:read\tnil\n"
    "INFO  jepsen.util - 1\t:invoke\t:write\t1\n"
    "INFO  jepsen.util - 2   :invoke :cas    [1 4]\n"
    "INFO  jepsen.util - 1\t:ok\t:write\t1\n"
    "INFO  jepsen.util - 2\t:fail\t:cas\t[1 4]\n"
    "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n"
    "INFO  jepsen.util - 3\t:fail\t:read\t:timed-out\n"
    "INFO  jepsen.util - 0\t:invoke\t:cas\t[1 2]\n"
    "INFO  jepsen.util - 0\t:info\t:cas\t:timed-out\n"
    "INFO  jepsen.util - 5\t:invoke\t:read\tnil\n"
    "INFO  jepsen.util - 5\t:ok\t:read\t2\n";

START_TEST(test_jepsen_log_gives_one_register)
{
    hist *h = parse_ok(HIST_FORMAT_JEPSEN, jepsen_text);
    ck_assert_int_eq(hist_model(h), HIST_REGISTER);
    ck_assert_int_eq(hist_clock(h), HIST_CLOCK_LINE);
    ck_assert_uint_eq(hist_count(h), 6);
    ck_assert_uint_eq(hist_n_keys(h), 1);
    ck_assert_str_eq(hist_str(h, hist_op(h, 0)->key), "");
    const struct hist_op *r0 = hist_op(h, 0), *w = hist_op(h, 1), *c = hist_op(h, 2),
                         *tr = hist_op(h, 3), *ic = hist_op(h, 4), *r5 = hist_op(h, 5);
    ck_assert_str_eq(hist_str(h, r0->process), "4");
    ck_assert_int_eq(r0->out, HIST_NIL);
    ck_assert_int_eq(r0->invoke_t, 1);
    ck_assert_int_eq(r0->complete_t, 2);
    ck_assert_int_eq(w->arg, 1);
    ck_assert_int_eq(w->id, 2);
    ck_assert_int_eq(c->type, HIST_FAIL);
    ck_assert(c->constrains);   /* it compared and saw another value */
    ck_assert_int_eq(c->arg, 1);
    ck_assert_int_eq(c->arg2, 4);
    ck_assert_int_eq(tr->type, HIST_FAIL);
    ck_assert(!tr->constrains);   /* a timed-out read tells nothing */
    ck_assert_int_eq(ic->type, HIST_INFO);
    ck_assert_int_eq(r5->out, 2);
    hist_free(h);
}
END_TEST

START_TEST(test_jepsen_errors_name_the_line)
{
    parse_bad(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - 1\t:invoke\t:incr\t1\n", 1,
              "unknown operation type \":incr\"");
    parse_bad(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - 1\t:started\t:write\t1\n", 1,
              "unknown event type");
    parse_bad(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - 1\t:invoke\t:write\t1\nINFO  jepsen.util - 2\t:ok\t:write\t1\n",
              2, "completion without invocation");
    parse_bad(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - 1\t:invoke\t:write\t1\nINFO  jepsen.util - 1\t:invoke\t:read\tnil\n",
              2, "still open");
    parse_bad(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - 1\t:invoke\t:write\tfive\n", 1, "bad value");
    parse_bad(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - 1\t:invoke\t:cas\t[1]\n", 1, "bad value");
    parse_bad(HIST_FORMAT_JEPSEN, "hello world\n", 1, "not a Jepsen history line");
    parse_bad(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - x\t:invoke\t:write\t1\n", 1, "not a number");
    parse_bad(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:write\t1\n",
              2, "completes a write");
}
END_TEST

START_TEST(test_jepsen_truncated_last_line_is_a_warning)
{
    hist *h = parse_ok(HIST_FORMAT_JEPSEN, "INFO  jepsen.util - 1\t:invoke\t:write\t1\nINFO  jepsen.util - 1\t:o");
    ck_assert_uint_eq(hist_count(h), 1);
    ck_assert(hist_op(h, 0)->open);
    ck_assert_msg(strstr(hist_warning(h), "t:2:"), "%s", hist_warning(h));
    hist_free(h);
}
END_TEST

/* ==== Porcupine key-value logs ============================================ */

START_TEST(test_kv_log_gives_strings_per_key)
{
    hist *h = parse_ok(HIST_FORMAT_PORCUPINE_KV,
        "{:process 9, :type :invoke, :f :append, :key \"0\", :value \"x 9 0 y\"}\n"
        "{:process 4, :type :invoke, :f :get, :key \"3\", :value nil}\n"
        "{:process 4, :type :ok, :f :get, :key \"3\", :value \"\"}\n"
        "{:process 9, :type :ok, :f :append, :key \"0\", :value \"x 9 0 y\"}\n"
        "{:process 2, :type :invoke, :f :put, :key \"0\", :value \"a \\\"quoted\\\" b\"}\n"
        "{:process 2, :type :ok, :f :put, :key \"0\", :value \"a \\\"quoted\\\" b\"}\n");
    ck_assert_int_eq(hist_model(h), HIST_KV);
    ck_assert_uint_eq(hist_count(h), 3);
    ck_assert_uint_eq(hist_n_keys(h), 2);
    const struct hist_op *a = hist_op(h, 0), *g = hist_op(h, 1), *p = hist_op(h, 2);
    ck_assert_int_eq(a->f, HIST_APPEND);
    ck_assert_str_eq(hist_str(h, a->arg), "x 9 0 y");
    ck_assert_str_eq(hist_str(h, a->key), "0");
    ck_assert_int_eq(g->f, HIST_GET);
    ck_assert_int_eq(g->type, HIST_OK);
    ck_assert_str_eq(hist_str(h, g->out), "");
    ck_assert_int_eq(g->complete_line, 3);
    ck_assert_str_eq(hist_str(h, p->arg), "a \"quoted\" b");
    hist_free(h);
}
END_TEST

START_TEST(test_kv_errors_name_the_line)
{
    parse_bad(HIST_FORMAT_PORCUPINE_KV,
              "{:process 1, :type :invoke, :f :get, :key \"0\", :value nil}\n"
              "{:process 1, :type :ok, :f :get, :key \"0\", :value \"abc}\n"
              "{:process 2, :type :invoke, :f :get, :key \"0\", :value nil}\n",
              2, "unterminated string");
    parse_bad(HIST_FORMAT_PORCUPINE_KV, "{:process 1, :type :invoke, :f :incr, :key \"0\", :value nil}\n", 1,
              "unknown operation type \":incr\"");
    parse_bad(HIST_FORMAT_PORCUPINE_KV, "{:process 1, :type :ok, :f :get, :key \"0\", :value \"\"}\n", 1,
              "completion without invocation");
    parse_bad(HIST_FORMAT_PORCUPINE_KV, "{:process 1, :type :invoke, :f :get, :key \"0\"}\n"
              "{:process 1, :type :invoke, :f :get, :key \"0\"}\n", 2, "still open");
    parse_bad(HIST_FORMAT_PORCUPINE_KV, "{:process 1, :type :invoke, :f :get, :key \"0\"}\n"
              "{:process 1, :type :ok, :f :get, :key \"1\", :value \"\"}\n", 2, "on key");
    parse_bad(HIST_FORMAT_PORCUPINE_KV, "(:process 1)\n", 1, "expected a map");
    parse_bad(HIST_FORMAT_PORCUPINE_KV, "{:type :invoke, :f :get, :key \"0\"}\n", 1, ":process");
    parse_bad(HIST_FORMAT_PORCUPINE_KV, "{:process 1, :type :invoke, :f :put, :key \"0\", :value nil}\n", 1,
              ":value string");
    parse_bad(HIST_FORMAT_PORCUPINE_KV, "{:process 1, :type :invoke, :f :get, :key \"0\"} extra\n", 1,
              "text after the map");
}
END_TEST

START_TEST(test_kv_truncated_last_line_is_a_warning)
{
    hist *h = parse_ok(HIST_FORMAT_PORCUPINE_KV,
                       "{:process 1, :type :invoke, :f :get, :key \"0\", :value nil}\n"
                       "{:process 1, :type :ok, :f :get, :key \"0\", :val");
    ck_assert_uint_eq(hist_count(h), 1);
    ck_assert_msg(strstr(hist_warning(h), "t:2:"), "%s", hist_warning(h));
    hist_free(h);
}
END_TEST

/* ==== files ================================================================ */

START_TEST(test_unreadable_files_are_io_errors)
{
    hist *h = NULL;
    ck_assert_int_eq(hist_read_file(HIST_FORMAT_TRACE, "/nonexistent/trace.jsonl", &h, err, sizeof err),
                     HIST_EIO);
    ck_assert_ptr_null(h);
    ck_assert_msg(strstr(err, "cannot read /nonexistent/trace.jsonl"), "%s", err);
    ck_assert_int_eq(hist_read_file(HIST_FORMAT_TRACE, "/tmp", &h, err, sizeof err), HIST_EIO);
    ck_assert_msg(strstr(err, "directory"), "%s", err);
}
END_TEST

START_TEST(test_reading_a_file)
{
    char path[] = "/tmp/test-history-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, jepsen_text, strlen(jepsen_text)), (ssize_t)strlen(jepsen_text));
    close(fd);
    hist *h = NULL;
    ck_assert_int_eq(hist_read_file(HIST_FORMAT_JEPSEN, path, &h, err, sizeof err), 0);
    ck_assert_uint_eq(hist_count(h), 6);
    hist_free(h);
    unlink(path);
}
END_TEST

START_TEST(test_format_names_and_guesses)
{
    enum hist_format f;
    ck_assert(hist_format_parse("porcupine-kv", &f) && f == HIST_FORMAT_PORCUPINE_KV);
    ck_assert(!hist_format_parse("edn", &f));
    ck_assert_str_eq(hist_format_name(HIST_FORMAT_JEPSEN), "jepsen");
    ck_assert(hist_guess_format("a/etcd_001.log", "", 0, &f) && f == HIST_FORMAT_JEPSEN);
    ck_assert(hist_guess_format("run.jsonl", "", 0, &f) && f == HIST_FORMAT_TRACE);
    ck_assert(hist_guess_format("c01.txt", "{:process", 9, &f) && f == HIST_FORMAT_PORCUPINE_KV);
    ck_assert(hist_guess_format("x", "{\"ev\"", 5, &f) && f == HIST_FORMAT_TRACE);
    ck_assert(!hist_guess_format("x", "hello", 5, &f));
}
END_TEST

/* Make every allocation fail in turn: the readers fail cleanly (ASan in the
 * sanitizer build proves nothing leaks). */
START_TEST(test_out_of_memory_fails_cleanly)
{
    const char *inputs[] = { trace_text, jepsen_text,
                             "{:process 9, :type :invoke, :f :append, :key \"0\", :value \"x\"}\n"
                             "{:process 9, :type :ok, :f :append, :key \"0\", :value \"x\"}\n" };
    for (int f = 0; f < 3; f++)
        for (long n = 1; n < 200; n++) {
            sim_alloc_fail_from(n);
            hist *h = NULL;
            int rc = hist_parse((enum hist_format)f, inputs[f], strlen(inputs[f]), "t", &h, err, sizeof err);
            sim_alloc_fail_from(0);
            if (rc == 0) {
                hist_free(h);
                break;
            }
            ck_assert_int_eq(rc, HIST_ENOMEM);
            ck_assert_ptr_null(h);
        }
}
END_TEST

static Suite *history_suite(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_intern_gives_one_id_per_string_and_empty_is_zero);
    tcase_add_test(tc, test_keys_are_listed_in_order_of_first_use);
    tcase_add_test(tc, test_process_labels);
    tcase_add_test(tc, test_trace_gives_every_operation_with_times_lines_and_outcomes);
    tcase_add_test(tc, test_empty_files_are_empty_histories);
    tcase_add_test(tc, test_read_of_null_is_nil);
    tcase_add_test(tc, test_counter_set_and_sibling_operations_mark_the_history);
    tcase_add_test(tc, test_jepsen_edn_gives_keyed_and_single_registers);
    tcase_add_test(tc, test_trace_errors_name_the_line);
    tcase_add_test(tc, test_trace_cut_short_by_a_kill_keeps_what_is_complete);
    tcase_add_test(tc, test_jepsen_log_gives_one_register);
    tcase_add_test(tc, test_jepsen_errors_name_the_line);
    tcase_add_test(tc, test_jepsen_truncated_last_line_is_a_warning);
    tcase_add_test(tc, test_kv_log_gives_strings_per_key);
    tcase_add_test(tc, test_kv_errors_name_the_line);
    tcase_add_test(tc, test_kv_truncated_last_line_is_a_warning);
    tcase_add_test(tc, test_unreadable_files_are_io_errors);
    tcase_add_test(tc, test_reading_a_file);
    tcase_add_test(tc, test_format_names_and_guesses);
    tcase_add_test(tc, test_out_of_memory_fails_cleanly);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(history_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
