/* Unit tests for the sequential consistency checker (sim/check/sequential.c).
 *
 * Hand-written histories with known verdicts (what linearizability rejects
 * and sequential consistency allows, the store-buffer pattern, a client
 * going back in time), histories made by a correct register (they hold, and
 * the order returned replays), and a differential test against a
 * brute-force reference written here from the definition alone. */
#include "check/checker.h"
#include "check/histgen.h"
#include "check/history.h"
#include "check/linearizable.h"
#include "pcg.h"

#include <check.h>
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL HIST_NIL
#define NEVER HIST_NEVER

extern const struct checker sequential_checker;

/* ==== building histories by hand ========================================== */

#include "hist_builder.h"

static void ok(struct tb *b, int c) { done_c(b, c, HIST_OK, NIL, false); }
static void ok_read(struct tb *b, int c, int64_t v) { done_c(b, c, HIST_OK, v, false); }
static void info(struct tb *b, int c) { done_c(b, c, HIST_INFO, NIL, false); }

/* A whole operation at once: invoked and completed before the next. */
static void write_(struct tb *b, int c, const char *key, int64_t v)
{
    inv(b, c, HIST_WRITE, key, v, NIL);
    ok(b, c);
}

static void read_(struct tb *b, int c, const char *key, int64_t v)
{
    inv(b, c, HIST_READ, key, NIL, NIL);
    ok_read(b, c, v);
}

/* ==== running the checker ================================================= */

struct run {
    struct check_result r;
    cJSON *ev;
};

static enum check_verdict run_budget(hist *h, uint64_t budget, struct run *out)
{
    struct check_input in = { .h = h, .facts = NULL, .budget = budget };
    check_result_init(&out->r);
    ck_assert_int_eq(sequential_checker.run(&in, &out->r), 0);
    ck_assert_msg(out->r.reason[0] != 0, "no reason given");
    out->ev = cJSON_ParseWithLength(out->r.evidence.buf, out->r.evidence.len);
    ck_assert_msg(out->ev != NULL, "the evidence is not JSON: %.*s", (int)out->r.evidence.len,
                  out->r.evidence.buf);
    return out->r.verdict;
}

static enum check_verdict run(hist *h, struct run *out)
{
    return run_budget(h, 0, out);
}

static void run_free(struct run *out)
{
    cJSON_Delete(out->ev);
    check_result_free(&out->r);
}

static enum lin_verdict linearizable(hist *h)
{
    struct lin_result r;
    ck_assert_int_eq(lin_check(h, NULL, &r), 0);
    enum lin_verdict v = r.verdict;
    lin_result_free(&r);
    return v;
}

/* The number of operations the evidence names. */
static int evidence_ops(const struct run *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(out->ev, "violation");
    ck_assert_msg(cJSON_IsObject(v), "no violation evidence");
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(v, "operations"));
}

/* Replay the order the checker found: every operation in the order once,
 * every definite operation in it, each process's operations in invocation
 * order (indeterminate ones after their process's earlier ones), and every
 * read, cas and failed cas fits the register. */
static void replay_order(const hist *h, const struct run *out)
{
    const cJSON *order = cJSON_GetObjectItemCaseSensitive(out->ev, "order");
    ck_assert_msg(cJSON_IsArray(order), "no order");
    size_t n = hist_count(h);
    bool *placed = calloc(n + 1, sizeof *placed);
    int64_t *state = malloc((hist_n_strings(h) + 1) * sizeof *state);
    for (size_t i = 0; i <= hist_n_strings(h); i++)
        state[i] = NIL;
    const cJSON *e;
    cJSON_ArrayForEach(e, order) {
        long idx = -1;
        for (size_t i = 0; i < n; i++)
            if (hist_op(h, i)->id == (int64_t)e->valuedouble)
                idx = (long)i;
        ck_assert_int_ge(idx, 0);
        ck_assert_msg(!placed[idx], "op %ld placed twice", idx);
        const struct hist_op *op = hist_op(h, (size_t)idx);
        /* program order: every earlier definite operation of its process is placed */
        for (size_t i = 0; i < (size_t)idx; i++) {
            const struct hist_op *x = hist_op(h, i);
            bool definite = x->type == HIST_OK || (x->type == HIST_FAIL && x->constrains);
            ck_assert_msg(x->process != op->process || !definite || placed[i],
                          "op %" PRId64 " placed before op %" PRId64 " of its process", op->id, x->id);
        }
        int64_t *r = &state[op->key];
        if (op->f == HIST_READ)
            ck_assert_msg(*r == op->out, "op %" PRId64 " read %" PRId64 " but the register was %" PRId64,
                          op->id, op->out, *r);
        else if (op->f == HIST_WRITE)
            *r = op->arg;
        else if (op->f == HIST_CAS && op->type == HIST_FAIL)
            ck_assert(*r != op->arg);
        else if (op->f == HIST_CAS) {
            ck_assert_msg(*r == op->arg, "cas op %" PRId64 " expected %" PRId64 ", found %" PRId64,
                          op->id, op->arg, *r);
            *r = op->arg2;
        }
        placed[idx] = true;
    }
    for (size_t i = 0; i < n; i++) {
        const struct hist_op *x = hist_op(h, i);
        bool definite = (x->type == HIST_OK && x->f != HIST_GET) ||
                        (x->type == HIST_FAIL && x->constrains);
        ck_assert_msg(!definite || placed[i], "op %" PRId64 " missing from the order", x->id);
    }
    free(placed);
    free(state);
}

/* ==== hand-made histories ================================================= */

START_TEST(test_empty_history_holds)
{
    hist *h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    struct run r;
    ck_assert_int_eq(run(h, &r), CHECK_HOLDS);
    run_free(&r);
    hist_free(h);
}
END_TEST

/* c1 writes x=1 and is told ok; later c2 reads nil. Not linearizable (the
 * write had completed), but c2's read can come first in one order. */
START_TEST(test_stale_read_by_a_client_that_never_saw_the_write_holds)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    read_(&b, 2, "x", NIL);
    read_(&b, 2, "x", 1);
    ck_assert_int_eq(linearizable(b.h), LIN_VIOLATED);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_HOLDS);
    ck_assert_msg(strstr(r.r.reason, "not linearizable") && strstr(r.r.reason, "c2 read x=nil"),
                  "%s", r.r.reason);
    ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(r.ev, "stale_read")));
    replay_order(b.h, &r);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* The same stale read on two keys, each client reading the other's key:
 * linearizability fails on each key, sequential consistency holds. */
START_TEST(test_each_client_behind_on_the_other_key_holds)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    write_(&b, 2, "y", 2);
    read_(&b, 1, "y", NIL);
    read_(&b, 2, "x", 1);
    ck_assert_int_eq(linearizable(b.h), LIN_VIOLATED);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_HOLDS);
    replay_order(b.h, &r);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* The store-buffer (Dekker) pattern: each process writes its flag and then
 * reads the other's as not set. Each key alone is fine; together no order
 * explains both reads. */
START_TEST(test_store_buffer_pattern_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    inv(&b, 2, HIST_WRITE, "y", 1, NIL);
    ok(&b, 1);
    ok(&b, 2);
    inv(&b, 1, HIST_READ, "y", NIL, NIL);
    inv(&b, 2, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 1, NIL);
    ok_read(&b, 2, NIL);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.r.reason, "c1's write x=1 then read y=nil") &&
                      strstr(r.r.reason, "c2's write y=1 then read x=nil"),
                  "%s", r.r.reason);
    ck_assert_int_eq(evidence_ops(&r), 4);
    /* no key alone fails */
    const cJSON *pk;
    cJSON_ArrayForEach(pk, cJSON_GetObjectItemCaseSensitive(r.ev, "per_key"))
        ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(pk, "verdict")->valuestring, "holds");
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* A client sees 2 and then 1, though 1 was written before 2 by one client. */
START_TEST(test_client_seeing_an_older_value_after_a_newer_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    write_(&b, 1, "x", 2);
    write_(&b, 3, "x", 7);   /* noise the evidence should drop */
    read_(&b, 3, "x", 7);
    read_(&b, 2, "x", 2);
    read_(&b, 2, "x", 1);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    ck_assert_int_eq(evidence_ops(&r), 4);
    ck_assert_msg(strstr(r.r.reason, "c2's read x=2 then read x=1"), "%s", r.r.reason);
    ck_assert_msg(strstr(r.r.text, "none of them can be left out"), "%s", r.r.text);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* c1 misses its own write. c3's read of that write is not needed to show
 * it: the evidence keeps the write without its reader. */
START_TEST(test_evidence_keeps_a_write_without_the_read_that_brought_it_in)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 7);
    read_(&b, 3, "x", 7);
    read_(&b, 1, "x", NIL);
    read_(&b, 2, "y", NIL);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    ck_assert_int_eq(evidence_ops(&r), 2);
    ck_assert_msg(strstr(r.r.reason, "c1's write x=7 then read x=nil cannot be put"), "%s",
                  r.r.reason);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_read_of_a_value_nobody_wrote_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    read_(&b, 2, "x", 5);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    ck_assert_msg(strstr(r.r.reason, "no operation in the history wrote 5"), "%s", r.r.reason);
    ck_assert_int_eq(evidence_ops(&r), 1);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* A write that timed out may take effect after its client moved on: the
 * client's own later read may miss it and another client see it. */
START_TEST(test_indeterminate_write_may_take_effect_after_its_client_moved_on)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    info(&b, 1);
    read_(&b, 1, "x", NIL);
    read_(&b, 2, "x", 1);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_HOLDS);
    replay_order(b.h, &r);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* ... or never: then nobody may see it. An indeterminate write is still
 * after its client's earlier operations. */
START_TEST(test_indeterminate_write_comes_after_its_clients_earlier_operations)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    read_(&b, 1, "y", 3);   /* c1 saw y=3 before writing x=1 */
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    info(&b, 1);
    read_(&b, 2, "x", 1);   /* c2 sees x=1, so y=3 was written before, ... */
    read_(&b, 2, "y", NIL); /* ... yet c2 reads y as never written */
    write_(&b, 3, "y", 3);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* Jepsen's failed cas: it compared and found another value. */
START_TEST(test_failed_cas_that_saw_another_value_constrains)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 0);
    inv(&b, 1, HIST_CAS, "x", 0, 1);
    done_c(&b, 1, HIST_FAIL, NIL, true);   /* but nobody else wrote: x was 0 */
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    run_free(&r);
    /* another client's write can come between */
    write_(&b, 2, "x", 5);
    ck_assert_int_eq(run(b.h, &r), CHECK_HOLDS);
    replay_order(b.h, &r);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* An indeterminate write that nobody reads can still be what a failed cas
 * saw: x was not 0 when the cas compared, so something else was there. */
START_TEST(test_indeterminate_write_can_explain_a_failed_cas)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 0);
    inv(&b, 2, HIST_WRITE, "x", 7, NIL);
    info(&b, 2);
    inv(&b, 1, HIST_CAS, "x", 0, 5);
    done_c(&b, 1, HIST_FAIL, NIL, true);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_HOLDS);
    replay_order(b.h, &r);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* Two indeterminate operations in a chain: a write of 1, then a cas 1->2,
 * and someone reads 2. */
START_TEST(test_indeterminate_write_and_cas_together_explain_a_read)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    info(&b, 1);
    inv(&b, 2, HIST_CAS, "x", 1, 2);
    info(&b, 2);
    read_(&b, 3, "x", 2);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_HOLDS);
    replay_order(b.h, &r);
    run_free(&r);
    /* without the write of 1 the cas cannot succeed */
    hist_op_mut(b.h, 0)->type = HIST_FAIL;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* Values written more than once (as in Jepsen logs): the register may leave
 * a value that someone still has to read, if it is written again later. */
START_TEST(test_value_written_again_can_be_read_again)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 1);
    write_(&b, 1, "x", 2);
    write_(&b, 1, "x", 1);
    read_(&b, 2, "x", 1);
    read_(&b, 2, "x", 2);
    read_(&b, 2, "x", 1);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_HOLDS);
    replay_order(b.h, &r);
    run_free(&r);
    read_(&b, 2, "x", 2);   /* but not a third time */
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_cas_succeeding_twice_on_the_same_value_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    write_(&b, 1, "x", 0);
    inv(&b, 2, HIST_CAS, "x", 0, 1);
    ok(&b, 2);
    inv(&b, 3, HIST_CAS, "x", 0, 2);
    ok(&b, 3);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

/* Strings: puts, appends and gets. */
START_TEST(test_kv_appends_seen_in_one_order_hold_and_a_lost_one_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_KV);
    inv(&b, 1, HIST_APPEND, "k", str(&b, "a"), NIL);
    ok(&b, 1);
    inv(&b, 2, HIST_GET, "k", NIL, NIL);
    done_c(&b, 2, HIST_OK, str(&b, ""), false);   /* c2 is behind: allowed */
    inv(&b, 2, HIST_APPEND, "k", str(&b, "b"), NIL);
    ok(&b, 2);
    inv(&b, 1, HIST_GET, "k", NIL, NIL);
    done_c(&b, 1, HIST_OK, str(&b, "ab"), false);
    struct run r;
    ck_assert_int_eq(run(b.h, &r), CHECK_HOLDS);
    run_free(&r);
    /* c1 then sees its own append gone */
    inv(&b, 1, HIST_GET, "k", NIL, NIL);
    done_c(&b, 1, HIST_OK, str(&b, "b"), false);
    ck_assert_int_eq(run(b.h, &r), CHECK_VIOLATED);
    run_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_budget_exhaustion_gives_unknown)
{
    struct histgen_options o = { .seed = 3, .ops = 400, .clients = 4, .keys = 2, .info = 0.1 };
    hist *h = histgen_register(&o);
    ck_assert_ptr_nonnull(h);
    struct run r;
    ck_assert_int_eq(run_budget(h, 50, &r), CHECK_UNKNOWN);
    ck_assert_msg(strstr(r.r.reason, "budget of 50 steps"), "%s", r.r.reason);
    run_free(&r);
    ck_assert_int_eq(run(h, &r), CHECK_HOLDS);
    run_free(&r);
    hist_free(h);
}
END_TEST

START_TEST(test_same_history_gives_the_same_verdict_and_evidence)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    for (int i = 0; i < 10; i++) {
        write_(&b, 1 + i % 3, i % 2 ? "x" : "y", i + 1);
        read_(&b, 1 + (i + 1) % 3, i % 2 ? "y" : "x", i > 2 ? i - 2 : NIL);
    }
    struct run r1, r2;
    enum check_verdict v1 = run(b.h, &r1), v2 = run(b.h, &r2);
    ck_assert_int_eq(v1, v2);
    ck_assert_str_eq(r1.r.reason, r2.r.reason);
    ck_assert_uint_eq(r1.r.evidence.len, r2.r.evidence.len);
    ck_assert(memcmp(r1.r.evidence.buf, r2.r.evidence.buf, r1.r.evidence.len) == 0);
    run_free(&r1);
    run_free(&r2);
    hist_free(b.h);
}
END_TEST

/* ==== histories from a correct register =================================== */

START_TEST(test_histories_of_a_correct_register_hold)
{
    for (uint64_t seed = 1; seed <= 60; seed++) {
        struct histgen_options o = {
            .seed = seed, .ops = 150 + seed * 7, .clients = 2 + (int)(seed % 5),
            .keys = 1 + (int)(seed % 3), .info = seed % 2 ? 0.1 : 0,
            .cas_fail_constrains = seed % 3 == 0,
        };
        hist *h = histgen_register(&o);
        ck_assert_ptr_nonnull(h);
        struct run r;
        enum check_verdict v = run(h, &r);
        ck_assert_msg(v == CHECK_HOLDS, "seed %" PRIu64 ": %s", seed, r.r.reason);
        replay_order(h, &r);
        run_free(&r);
        hist_free(h);
    }
}
END_TEST

/* ==== a brute-force reference ============================================= */

/* Every interleaving of the processes' definite operations, with every
 * subset of the indeterminate ones placed anywhere after their process's
 * earlier operations, on one register per key. No reductions, no memo:
 * only for a handful of operations. */
struct ref {
    const hist *h;
    long def[8][16];
    int len[8], pos[8];
    long opt[16];
    int opt_proc[16], dep[16];
    bool used[16];
    int n_proc, n_opt;
    int64_t state[64];
};

static bool ref_step(struct ref *r, const struct hist_op *op, int64_t *old)
{
    int64_t *s = &r->state[op->key];
    *old = *s;
    if (op->f == HIST_READ)
        return *s == op->out;
    if (op->f == HIST_WRITE) {
        *s = op->arg;
        return true;
    }
    if (op->type == HIST_FAIL)
        return *s != op->arg;
    if (*s != op->arg)
        return false;
    *s = op->arg2;
    return true;
}

static bool ref_go(struct ref *r)
{
    bool all = true;
    for (int p = 0; p < r->n_proc; p++)
        all &= r->pos[p] == r->len[p];
    if (all)
        return true;
    int64_t old;
    for (int p = 0; p < r->n_proc; p++) {
        if (r->pos[p] == r->len[p])
            continue;
        const struct hist_op *op = hist_op(r->h, (size_t)r->def[p][r->pos[p]]);
        if (ref_step(r, op, &old)) {
            r->pos[p]++;
            bool ok = ref_go(r);
            r->pos[p]--;
            if (ok) {
                r->state[op->key] = old;
                return true;
            }
        }
        r->state[op->key] = old;
    }
    for (int j = 0; j < r->n_opt; j++) {
        if (r->used[j] || r->pos[r->opt_proc[j]] < r->dep[j])
            continue;
        const struct hist_op *op = hist_op(r->h, (size_t)r->opt[j]);
        if (ref_step(r, op, &old)) {
            r->used[j] = true;
            bool ok = ref_go(r);
            r->used[j] = false;
            if (ok) {
                r->state[op->key] = old;
                return true;
            }
        }
        r->state[op->key] = old;
    }
    return false;
}

static bool ref_check(const hist *h)
{
    struct ref r;
    memset(&r, 0, sizeof r);
    r.h = h;
    int32_t procs[8];
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        int p = 0;
        while (p < r.n_proc && procs[p] != op->process)
            p++;
        if (p == r.n_proc) {
            ck_assert_int_lt(r.n_proc, 8);
            procs[r.n_proc++] = op->process;
        }
        bool definite = op->type == HIST_OK || (op->type == HIST_FAIL && op->constrains);
        if (op->type == HIST_FAIL && !definite)
            continue;
        if (!definite && op->f == HIST_READ)
            continue;
        if (definite)
            r.def[p][r.len[p]++] = (long)i;
        else {
            r.opt[r.n_opt] = (long)i;
            r.opt_proc[r.n_opt] = p;
            r.dep[r.n_opt++] = r.len[p];
        }
    }
    for (int k = 0; k < 64; k++)
        r.state[k] = NIL;
    ck_assert_int_lt((int)hist_n_strings(h), 64);
    return ref_go(&r);
}

/* Small random histories, some reads changed at random so that many are not
 * sequentially consistent: the checker and the reference must agree. */
START_TEST(test_verdicts_agree_with_brute_force)
{
    const char *env = getenv("SIM_SEQ_ROUNDS");
    int rounds = env ? atoi(env) : 1500;
    pcg32 rng;
    pcg32_seed(&rng, 0x5e9, 0x7e57);
    int violated = 0, held = 0;
    for (int round = 0; round < rounds; round++) {
        struct histgen_options o = {
            .seed = (uint64_t)round + 1, .ops = 4 + pcg32_below(&rng, 6),
            .clients = 2 + (int)pcg32_below(&rng, 2), .keys = 1 + (int)pcg32_below(&rng, 2),
            .read = 0.4, .write = 0.3,
            .info = pcg32_chance(&rng, 0.5) ? 0.25 : 0,
            .cas_fail_constrains = pcg32_chance(&rng, 0.5),
        };
        hist *h = histgen_register(&o);
        ck_assert_ptr_nonnull(h);
        int64_t max_value = 1;
        for (size_t i = 0; i < hist_count(h); i++) {
            const struct hist_op *op = hist_op(h, i);
            int64_t v = op->f == HIST_CAS ? op->arg2 : op->f == HIST_WRITE ? op->arg : 0;
            max_value = v > max_value ? v : max_value;
        }
        /* sometimes values repeat, as in Jepsen's logs: small values for all */
        if (pcg32_chance(&rng, 0.3)) {
            max_value = 3;
            for (size_t i = 0; i < hist_count(h); i++) {
                struct hist_op *op = hist_op_mut(h, i);
                if (op->f == HIST_WRITE || op->f == HIST_CAS)
                    op->arg = 1 + (int64_t)pcg32_below(&rng, 3);
                if (op->f == HIST_CAS)
                    op->arg2 = 1 + (int64_t)pcg32_below(&rng, 3);
            }
        }
        /* break it at random: other values read, writes and cas that may not
         * have happened, cas that failed (and saw another value) */
        for (size_t i = 0; i < hist_count(h); i++) {
            struct hist_op *op = hist_op_mut(h, i);
            if (op->f == HIST_READ && op->type == HIST_OK && pcg32_chance(&rng, 0.3)) {
                uint32_t pick = pcg32_below(&rng, (uint32_t)max_value + 1);
                op->out = pick == 0 ? NIL : (int64_t)pick;
            } else if (op->f != HIST_READ && op->type == HIST_OK && pcg32_chance(&rng, 0.15))
                op->type = HIST_INFO;
            else if (op->f == HIST_CAS && op->type == HIST_OK && pcg32_chance(&rng, 0.15)) {
                op->type = HIST_FAIL;
                op->constrains = true;
            }
        }
        bool want = ref_check(h);
        struct run r;
        enum check_verdict v = run(h, &r);
        ck_assert_msg(v == (want ? CHECK_HOLDS : CHECK_VIOLATED),
                      "round %d: the reference says %s, the checker %s: %s", round,
                      want ? "holds" : "violated", check_verdict_name(v), r.r.reason);
        if (v == CHECK_HOLDS)
            replay_order(h, &r);
        held += want;
        violated += !want;
        run_free(&r);
        hist_free(h);
    }
    /* the test means something only if both verdicts occur often */
    ck_assert_int_gt(violated, rounds / 10);
    ck_assert_int_gt(held, rounds / 10);
}
END_TEST

/* The operations the evidence names, as a history of their own. */
static hist *evidence_history(const hist *h, const struct run *r)
{
    hist *e = hist_new(hist_model(h), hist_clock(h));
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(r->ev, "violation"), "operations");
    const cJSON *x;
    cJSON_ArrayForEach(x, ops) {
        int64_t id = (int64_t)cJSON_GetObjectItemCaseSensitive(x, "op")->valuedouble;
        for (size_t i = 0; i < hist_count(h); i++) {
            struct hist_op op = *hist_op(h, i);
            if (op.id != id)
                continue;
            op.process = hist_intern(e, hist_str(h, op.process), hist_strlen(h, op.process));
            op.key = hist_intern(e, hist_str(h, op.key), hist_strlen(h, op.key));
            if (hist_model(h) == HIST_KV) {
                if (op.f == HIST_GET)
                    op.out = hist_intern(e, hist_str(h, op.out), hist_strlen(h, op.out));
                else
                    op.arg = hist_intern(e, hist_str(h, op.arg), hist_strlen(h, op.arg));
            }
            ck_assert_int_ge(hist_add(e, &op), 0);
        }
    }
    ck_assert_int_eq((int)hist_count(e), cJSON_GetArraySize(ops));
    return e;
}

/* Is the evidence closed, as docs/checkers.md defines it: every operation of
 * h that may have written what an operation of e read is in e (a register's
 * value; for strings, a put whose value begins a get's value, an append
 * whose text is in it)? Only a closed set that fails proves that h fails. */
static bool evidence_closed(const hist *h, const hist *e)
{
    for (size_t i = 0; i < hist_count(e); i++) {
        const struct hist_op *r = hist_op(e, i);
        bool reads = r->f == HIST_GET || r->f == HIST_READ || (r->f == HIST_CAS && r->type != HIST_FAIL);
        if (!reads || (r->f != HIST_CAS && r->type != HIST_OK))
            continue;
        for (size_t j = 0; j < hist_count(h); j++) {
            const struct hist_op *w = hist_op(h, j);
            if (w->type == HIST_FAIL || strcmp(hist_str(h, w->key), hist_str(e, r->key)) != 0)
                continue;
            bool needed;
            if (hist_model(h) == HIST_REGISTER) {
                int64_t seen = r->f == HIST_READ ? r->out : r->arg;
                needed = seen != NIL && ((w->f == HIST_WRITE && w->arg == seen) ||
                                         (w->f == HIST_CAS && w->arg2 == seen));
            } else {
                if (r->f != HIST_GET || (w->f != HIST_PUT && w->f != HIST_APPEND))
                    continue;
                const char *g = hist_str(e, r->out), *t = hist_str(h, w->arg);
                needed = w->f == HIST_PUT ? strncmp(g, t, strlen(t)) == 0 : strstr(g, t) != NULL;
            }
            if (!needed)
                continue;
            bool in = false;
            for (size_t k = 0; k < hist_count(e) && !in; k++)
                in = hist_op(e, k)->id == w->id;
            if (!in)
                return false;
        }
    }
    return true;
}

/* ---- strings: the same, for get / put / append ---------------------------- */

struct kref {
    const hist *h;
    long def[4][16];
    int len[4], pos[4];
    long opt[16];
    int opt_proc[16], dep[16];
    bool used[16];
    int n_proc, n_opt;
    char state[4][128];   /* per key index */
    int32_t keys[4];
    int n_keys;
};

static int kref_key(struct kref *r, int32_t key)
{
    for (int k = 0; k < r->n_keys; k++)
        if (r->keys[k] == key)
            return k;
    ck_assert_int_lt(r->n_keys, 4);
    r->keys[r->n_keys] = key;
    r->state[r->n_keys][0] = 0;
    return r->n_keys++;
}

static bool kref_go(struct kref *r);

/* Try op (a definite op of process p, or optional j): apply, recurse, undo. */
static bool kref_try(struct kref *r, const struct hist_op *op, int p, int j)
{
    char *st = r->state[kref_key(r, op->key)];
    char old[128];
    memcpy(old, st, sizeof old);
    if (op->f == HIST_GET) {
        if (strcmp(st, hist_str(r->h, op->out)) != 0)
            return false;
    } else if (op->f == HIST_PUT)
        snprintf(st, 128, "%s", hist_str(r->h, op->arg));
    else
        strncat(st, hist_str(r->h, op->arg), 127 - strlen(st));
    if (p >= 0)
        r->pos[p]++;
    else
        r->used[j] = true;
    bool ok = kref_go(r);
    if (p >= 0)
        r->pos[p]--;
    else
        r->used[j] = false;
    memcpy(st, old, sizeof old);
    return ok;
}

static bool kref_go(struct kref *r)
{
    bool all = true;
    for (int p = 0; p < r->n_proc; p++)
        all &= r->pos[p] == r->len[p];
    if (all)
        return true;
    for (int p = 0; p < r->n_proc; p++)
        if (r->pos[p] < r->len[p] && kref_try(r, hist_op(r->h, (size_t)r->def[p][r->pos[p]]), p, -1))
            return true;
    for (int j = 0; j < r->n_opt; j++)
        if (!r->used[j] && r->pos[r->opt_proc[j]] >= r->dep[j] &&
            kref_try(r, hist_op(r->h, (size_t)r->opt[j]), -1, j))
            return true;
    return false;
}

static bool kref_check(const hist *h)
{
    struct kref r;
    memset(&r, 0, sizeof r);
    r.h = h;
    int32_t procs[4];
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        kref_key(&r, op->key);
        int p = 0;
        while (p < r.n_proc && procs[p] != op->process)
            p++;
        if (p == r.n_proc)
            procs[r.n_proc++] = op->process;
        if (op->type == HIST_FAIL || (op->type != HIST_OK && op->f == HIST_GET))
            continue;
        if (op->type == HIST_OK)
            r.def[p][r.len[p]++] = (long)i;
        else {
            r.opt[r.n_opt] = (long)i;
            r.opt_proc[r.n_opt] = p;
            r.dep[r.n_opt++] = r.len[p];
        }
    }
    return kref_go(&r);
}

/* Random small string histories: each process's operations run against one
 * store in a random interleaving (so they are sequentially consistent), then
 * recorded in another (so they are usually not linearizable); some gets are
 * then changed, some puts and appends made indeterminate. */
START_TEST(test_kv_verdicts_agree_with_brute_force)
{
    const char *env = getenv("SIM_SEQ_ROUNDS");
    int rounds = env ? atoi(env) : 1500;
    pcg32 rng;
    pcg32_seed(&rng, 0x6b76, 0x5e9);
    int violated = 0, held = 0;
    for (int round = 0; round < rounds; round++) {
        int n_proc = 2 + (int)pcg32_below(&rng, 2), n = 4 + (int)pcg32_below(&rng, 5);
        int n_keys = 1 + (int)pcg32_below(&rng, 2);
        struct gen { int proc, key, f; char text[8]; char out[128]; bool maybe; } ops[16];
        int per[4] = { 0 };
        for (int i = 0; i < n; i++) {
            ops[i].proc = (int)pcg32_below(&rng, (uint32_t)n_proc);
            ops[i].key = (int)pcg32_below(&rng, (uint32_t)n_keys);
            uint32_t f = pcg32_below(&rng, 10);
            ops[i].f = f < 4 ? HIST_GET : f < 5 ? HIST_PUT : HIST_APPEND;
            snprintf(ops[i].text, sizeof ops[i].text, "%c%d", 'a' + i, ops[i].proc);
            ops[i].maybe = false;
            per[ops[i].proc]++;
        }
        /* execute in the listed order (each process's ops in list order) */
        char store[2][128] = { "", "" };
        for (int i = 0; i < n; i++) {
            char *st = store[ops[i].key];
            if (ops[i].f == HIST_GET)
                snprintf(ops[i].out, sizeof ops[i].out, "%s", st);
            else if (ops[i].f == HIST_PUT)
                snprintf(st, 128, "%s", ops[i].text);
            else
                strncat(st, ops[i].text, 127 - strlen(st));
            if (ops[i].f != HIST_GET && pcg32_chance(&rng, 0.15))
                ops[i].maybe = true;   /* took effect, but nobody was told */
            if (ops[i].f == HIST_GET && pcg32_chance(&rng, 0.25)) {
                size_t l = strlen(ops[i].out);   /* every text is 2 characters */
                if (l >= 2 && pcg32_chance(&rng, 0.5))
                    ops[i].out[l - 2] = 0;   /* lose the last append */
                else
                    strncat(ops[i].out, "z9", sizeof ops[i].out - l - 1);
            }
        }
        /* record: processes take turns at random, each in its own order */
        hist *h = hist_new(HIST_KV, HIST_CLOCK_LINE);
        int next[4] = { 0 }, left = n;
        int64_t pos = 0;
        while (left > 0) {
            int p = (int)pcg32_below(&rng, (uint32_t)n_proc);
            int seen = 0, i = 0;
            for (i = 0; i < n; i++)
                if (ops[i].proc == p && seen++ == next[p])
                    break;
            if (i == n)
                continue;
            next[p]++;
            left--;
            char name[8], key[8];
            snprintf(name, sizeof name, "%d", p);
            snprintf(key, sizeof key, "%d", ops[i].key);
            struct hist_op op = { 0 };
            op.id = (int64_t)hist_count(h) + 1;
            op.process = hist_intern(h, name, strlen(name));
            op.key = hist_intern(h, key, strlen(key));
            op.f = (uint8_t)ops[i].f;
            op.type = ops[i].maybe ? HIST_INFO : HIST_OK;
            op.arg = ops[i].f == HIST_GET ? NIL : hist_intern(h, ops[i].text, strlen(ops[i].text));
            op.out = ops[i].f == HIST_GET ? hist_intern(h, ops[i].out, strlen(ops[i].out)) : NIL;
            op.invoke_pos = op.invoke_t = ++pos;
            op.complete_pos = op.complete_t = ++pos;
            ck_assert_int_ge(hist_add(h, &op), 0);
        }
        bool want = kref_check(h);
        struct run r;
        enum check_verdict v = run(h, &r);
        ck_assert_msg(v == (want ? CHECK_HOLDS : CHECK_VIOLATED),
                      "round %d: the reference says %s, the checker %s: %s", round,
                      want ? "holds" : "violated", check_verdict_name(v), r.r.reason);
        if (v == CHECK_VIOLATED) {
            /* the evidence, a history of its own, cannot be ordered either */
            hist *e = evidence_history(h, &r);
            ck_assert_msg(!kref_check(e), "round %d: the evidence can be ordered: %s", round,
                          r.r.reason);
            ck_assert_msg(evidence_closed(h, e), "round %d: the evidence is not closed", round);
            hist_free(e);
        }
        held += want;
        violated += !want;
        run_free(&r);
        hist_free(h);
    }
    ck_assert_int_gt(violated, rounds / 10);
    ck_assert_int_gt(held, rounds / 10);
}
END_TEST

/* Larger histories with a few reads changed: the evidence must itself fail
 * (checked by the reference when small enough) and every verdict is the
 * same with the per-key and prefix stages as without them (the whole
 * history is searched last in any case). */
START_TEST(test_evidence_is_a_violation_on_its_own)
{
    pcg32 rng;
    pcg32_seed(&rng, 0xe71, 0xde9ce);
    int checked = 0;
    for (int round = 0; round < 200; round++) {
        struct histgen_options o = { .seed = (uint64_t)round + 100, .ops = 60, .clients = 3,
                                     .keys = 2 };
        hist *h = histgen_register(&o);
        for (size_t i = 0; i < hist_count(h); i++) {
            struct hist_op *op = hist_op_mut(h, i);
            if (op->f == HIST_READ && op->type == HIST_OK && pcg32_chance(&rng, 0.05))
                op->out = op->out == NIL ? 1 : op->out - 1 > 0 ? op->out - 1 : NIL;
        }
        struct run r;
        if (run(h, &r) == CHECK_VIOLATED) {
            hist *e = evidence_history(h, &r);
            ck_assert_msg(evidence_closed(h, e), "round %d: the evidence is not closed", round);
            if (hist_count(e) <= 10) {
                ck_assert_msg(!ref_check(e), "round %d: the evidence can be ordered", round);
                /* and it is minimal: without any one of its operations (when
                 * what is left is still closed), the rest can be ordered */
                for (size_t x = 0; x < hist_count(e); x++) {
                    hist *less = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
                    for (size_t i = 0; i < hist_count(e); i++) {
                        struct hist_op op = *hist_op(e, i);
                        if (i == x)
                            continue;
                        op.process = hist_intern(less, hist_str(e, op.process), hist_strlen(e, op.process));
                        op.key = hist_intern(less, hist_str(e, op.key), hist_strlen(e, op.key));
                        ck_assert_int_ge(hist_add(less, &op), 0);
                    }
                    if (evidence_closed(h, less))
                        ck_assert_msg(ref_check(less), "round %d: the evidence is not minimal: "
                                      "op %" PRId64 " can go", round, hist_op(e, x)->id);
                    hist_free(less);
                }
            }
            struct run re;
            ck_assert_int_eq(run(e, &re), CHECK_VIOLATED);
            run_free(&re);
            hist_free(e);
            checked++;
        }
        run_free(&r);
        hist_free(h);
    }
    ck_assert_int_gt(checked, 20);
}
END_TEST

static Suite *sequential_suite(void)
{
    Suite *s = suite_create("sequential");
    TCase *tc = tcase_create("cases");
    tcase_add_test(tc, test_empty_history_holds);
    tcase_add_test(tc, test_stale_read_by_a_client_that_never_saw_the_write_holds);
    tcase_add_test(tc, test_each_client_behind_on_the_other_key_holds);
    tcase_add_test(tc, test_store_buffer_pattern_is_violated);
    tcase_add_test(tc, test_client_seeing_an_older_value_after_a_newer_is_violated);
    tcase_add_test(tc, test_evidence_keeps_a_write_without_the_read_that_brought_it_in);
    tcase_add_test(tc, test_read_of_a_value_nobody_wrote_is_violated);
    tcase_add_test(tc, test_indeterminate_write_may_take_effect_after_its_client_moved_on);
    tcase_add_test(tc, test_indeterminate_write_comes_after_its_clients_earlier_operations);
    tcase_add_test(tc, test_failed_cas_that_saw_another_value_constrains);
    tcase_add_test(tc, test_indeterminate_write_can_explain_a_failed_cas);
    tcase_add_test(tc, test_indeterminate_write_and_cas_together_explain_a_read);
    tcase_add_test(tc, test_value_written_again_can_be_read_again);
    tcase_add_test(tc, test_cas_succeeding_twice_on_the_same_value_is_violated);
    tcase_add_test(tc, test_kv_appends_seen_in_one_order_hold_and_a_lost_one_is_violated);
    tcase_add_test(tc, test_budget_exhaustion_gives_unknown);
    tcase_add_test(tc, test_same_history_gives_the_same_verdict_and_evidence);
    suite_add_tcase(s, tc);
    TCase *tr = tcase_create("random");
    tcase_set_timeout(tr, 120);
    tcase_add_test(tr, test_histories_of_a_correct_register_hold);
    tcase_add_test(tr, test_verdicts_agree_with_brute_force);
    tcase_add_test(tr, test_kv_verdicts_agree_with_brute_force);
    tcase_add_test(tr, test_evidence_is_a_violation_on_its_own);
    suite_add_tcase(s, tr);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sequential_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
