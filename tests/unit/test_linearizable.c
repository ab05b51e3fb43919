/* Unit tests for the linearizability checker (sim/check/linearizable.c).
 *
 * Three kinds: hand-written histories with known verdicts (the textbook
 * cases), properties of histories made by a correct register (they hold,
 * and the linearization returned replays), and a differential test against
 * a brute-force reference written here from the definitions alone. */
#include "check/histgen.h"
#include "check/history.h"
#include "check/linearizable.h"
#include "pcg.h"

#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL HIST_NIL
#define NEVER HIST_NEVER

/* ==== building histories by hand ========================================== */

#include "hist_builder.h"

static void ok(struct tb *b, int c) { done(b, c, HIST_OK, NIL); }
static void ok_read(struct tb *b, int c, int64_t v) { done(b, c, HIST_OK, v); }

static enum lin_verdict check(hist *h, struct lin_result *r, uint64_t budget)
{
    struct lin_options o = { .budget = budget, .evidence = true, .all_keys = true,
                             .linearization = true };
    ck_assert_int_eq(lin_check(h, &o, r), 0);
    return r->verdict;
}

static bool cited(const struct lin_result *r, long op)
{
    for (size_t i = 0; i < r->n_cited; i++)
        if (r->cited[i] == op)
            return true;
    return false;
}

/* ==== the textbook cases =================================================== */

START_TEST(test_empty_history_holds)
{
    hist *h = hist_new(HIST_REGISTER, HIST_CLOCK_NS);
    struct lin_result r;
    ck_assert_int_eq(check(h, &r, 0), LIN_HOLDS);
    ck_assert_uint_eq(r.n_keys, 0);
    lin_result_free(&r);
    hist_free(h);
}
END_TEST

START_TEST(test_write_then_read_of_it_holds)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 5, NIL);
    ok(&b, 1);
    inv(&b, 2, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 2, 5);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    ck_assert_uint_eq(r.n_order, 2);
    ck_assert_int_eq(r.order[0], 0);
    ck_assert_int_eq(r.order[1], 1);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_stale_read_after_completed_write_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);   /* op 0 */
    ok(&b, 1);
    inv(&b, 1, HIST_WRITE, "x", 5, NIL);   /* op 1 */
    ok(&b, 1);
    inv(&b, 2, HIST_READ, "x", NIL, NIL);  /* op 2: reads the overwritten 1 */
    ok_read(&b, 2, 1);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert(r.has_evidence && r.evidence_complete);
    ck_assert_int_eq(r.failed_op, 2);
    ck_assert_msg(strstr(r.reason, "c2 read x=1") && strstr(r.reason, "c1's write x=5") &&
                      strstr(r.reason, "nothing wrote 1 afterwards"),
                  "reason: %s", r.reason);
    ck_assert(cited(&r, 0) && cited(&r, 1) && cited(&r, 2));
    /* the longest linearizable prefix: both writes, in order */
    ck_assert_uint_eq(r.n_prefix, 2);
    ck_assert_int_eq(r.prefix[0], 0);
    ck_assert_int_eq(r.prefix[1], 1);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_read_of_a_value_before_its_write_began_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 2, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 2, 7);
    inv(&b, 1, HIST_WRITE, "x", 7, NIL);
    ok(&b, 1);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert_int_eq(r.failed_op, 0);
    ck_assert_msg(strstr(r.reason, "nothing wrote 7 before then") && strstr(r.reason, "began only at"),
                  "reason: %s", r.reason);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_read_of_a_value_never_written_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 1, 3);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert_msg(strstr(r.reason, "nothing ever wrote 3"), "reason: %s", r.reason);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_cas_succeeding_twice_on_the_same_value_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    ok(&b, 1);
    inv(&b, 1, HIST_CAS, "x", 1, 2);
    ok(&b, 1);
    inv(&b, 2, HIST_CAS, "x", 1, 3);
    ok(&b, 2);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert_int_eq(r.failed_op, 2);
    ck_assert_msg(strstr(r.reason, "succeeded") && strstr(r.reason, "so x was 1"), "reason: %s",
                  r.reason);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_concurrent_cas_on_the_same_value_one_wins_holds)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    ok(&b, 1);
    inv(&b, 1, HIST_CAS, "x", 1, 2);
    inv(&b, 2, HIST_CAS, "x", 1, 3);
    ok(&b, 1);
    done(&b, 2, HIST_FAIL, NIL);   /* refused: not applied */
    inv(&b, 3, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 3, 2);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_indeterminate_write_explains_a_later_read)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    ok(&b, 1);
    inv(&b, 2, HIST_WRITE, "x", 9, NIL);
    done(&b, 2, HIST_INFO, NIL);   /* timed out: may apply any time later, or never */
    inv(&b, 3, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 3, 1);             /* not yet applied */
    inv(&b, 3, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 3, 9);             /* applied now: must be assumed */
    inv(&b, 3, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 3, 9);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    /* the linearization places the info write between the two reads */
    ck_assert_uint_eq(r.n_order, 5);
    ck_assert_int_eq(r.order[2], 1);
    lin_result_free(&r);
    /* but it cannot take effect before it was invoked */
    struct tb c;
    tb_init_model(&c, HIST_REGISTER);
    inv(&c, 3, HIST_READ, "x", NIL, NIL);
    ok_read(&c, 3, 9);
    inv(&c, 2, HIST_WRITE, "x", 9, NIL);
    done(&c, 2, HIST_INFO, NIL);
    ck_assert_int_eq(check(c.h, &r, 0), LIN_VIOLATED);
    lin_result_free(&r);
    hist_free(c.h);
    hist_free(b.h);
}
END_TEST

START_TEST(test_indeterminate_write_may_never_apply)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    ok(&b, 1);
    inv(&b, 2, HIST_WRITE, "x", 9, NIL);
    done(&b, 2, HIST_INFO, NIL);
    inv(&b, 3, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 3, 1);
    inv(&b, 3, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 3, 1);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_read_of_nil_before_any_write_holds_and_after_one_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 1, NIL);
    inv(&b, 2, HIST_WRITE, "x", 4, NIL);
    inv(&b, 1, HIST_READ, "x", NIL, NIL);   /* concurrent with the write: nil is fine */
    ok_read(&b, 1, NIL);
    ok(&b, 2);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    lin_result_free(&r);
    inv(&b, 1, HIST_READ, "x", NIL, NIL);   /* after it completed: nil is stale */
    ok_read(&b, 1, NIL);
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert_msg(strstr(r.reason, "x=nil") && strstr(r.reason, "nil means never written"),
                  "reason: %s", r.reason);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* Two overlapping writes: readers after both may see either one, but all
 * of them the same one. */
START_TEST(test_concurrent_writes_may_take_effect_in_either_order)
{
    for (int winner = 1; winner <= 2; winner++) {
        struct tb b;
        tb_init_model(&b, HIST_REGISTER);
        inv(&b, 1, HIST_WRITE, "x", 1, NIL);
        inv(&b, 2, HIST_WRITE, "x", 2, NIL);
        ok(&b, 1);
        ok(&b, 2);
        inv(&b, 3, HIST_READ, "x", NIL, NIL);
        ok_read(&b, 3, winner);
        inv(&b, 4, HIST_READ, "x", NIL, NIL);
        ok_read(&b, 4, winner);
        struct lin_result r;
        ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
        ck_assert_int_eq(r.order[1], winner - 1);   /* the winner is placed last */
        lin_result_free(&r);
        inv(&b, 4, HIST_READ, "x", NIL, NIL);
        ok_read(&b, 4, 3 - winner);
        ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
        lin_result_free(&r);
        hist_free(b.h);
    }
}
END_TEST

START_TEST(test_failed_operations_without_effect_are_ignored)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    ok(&b, 1);
    inv(&b, 2, HIST_WRITE, "x", 8, NIL);
    done(&b, 2, HIST_FAIL, NIL);   /* refused: never applied */
    inv(&b, 3, HIST_READ, "x", NIL, NIL);
    done(&b, 3, HIST_FAIL, NIL);   /* a read without an answer */
    inv(&b, 3, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 3, 1);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    ck_assert_uint_eq(r.n_ops, 2);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* Jepsen's failed cas compared and found another value: when the value it
 * expected was certainly there, that is a violation. */
START_TEST(test_failed_cas_that_saw_another_value_constrains)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 3, NIL);
    ok(&b, 1);
    inv(&b, 2, HIST_CAS, "x", 3, 4);
    done(&b, 2, HIST_FAIL, NIL);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);   /* sim semantics: not applied */
    lin_result_free(&r);
    hist_op_mut(b.h, 1)->constrains = true;           /* Jepsen semantics */
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_keys_are_checked_independently)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    inv(&b, 2, HIST_WRITE, "y", 2, NIL);
    ok(&b, 1);
    ok(&b, 2);
    inv(&b, 1, HIST_READ, "y", NIL, NIL);
    inv(&b, 2, HIST_READ, "x", NIL, NIL);
    ok_read(&b, 1, 2);
    ok_read(&b, 2, 1);
    inv(&b, 3, HIST_READ, "z", NIL, NIL);
    ok_read(&b, 3, NIL);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    ck_assert_uint_eq(r.n_keys, 3);
    lin_result_free(&r);
    inv(&b, 3, HIST_READ, "y", NIL, NIL);
    ok_read(&b, 3, NIL);
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert_uint_eq(r.keys_violated, 1);
    ck_assert_str_eq(hist_str(b.h, r.key), "y");
    ck_assert_int_eq(r.keys[0].verdict, LIN_HOLDS);
    ck_assert_int_eq(r.keys[1].verdict, LIN_VIOLATED);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_budget_exhaustion_gives_unknown)
{
    struct histgen_options o = { .seed = 3, .ops = 400, .clients = 12, .info = 0.05 };
    hist *h = histgen_register(&o);
    struct lin_result r;
    ck_assert_int_eq(check(h, &r, 0), LIN_HOLDS);
    uint64_t needed = r.steps;
    lin_result_free(&r);
    ck_assert_uint_gt(needed, 10);
    ck_assert_int_eq(check(h, &r, needed / 2), LIN_UNKNOWN);
    ck_assert_uint_le(r.steps, needed / 2);
    ck_assert_msg(strstr(r.reason, "budget"), "reason: %s", r.reason);
    lin_result_free(&r);
    hist_free(h);
}
END_TEST

START_TEST(test_same_history_gives_the_same_verdict_and_evidence)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    for (int i = 0; i < 6; i++) {
        inv(&b, 1 + i % 3, HIST_WRITE, "x", i, NIL);
        inv(&b, 4, HIST_READ, "x", NIL, NIL);
        ok(&b, 1 + i % 3);
        ok_read(&b, 4, i == 4 ? 1 : i);
    }
    struct lin_result r1, r2;
    ck_assert_int_eq(check(b.h, &r1, 0), LIN_VIOLATED);
    ck_assert_int_eq(check(b.h, &r2, 0), LIN_VIOLATED);
    ck_assert_str_eq(r1.reason, r2.reason);
    ck_assert_uint_eq(r1.steps, r2.steps);
    ck_assert_uint_eq(r1.evidence_steps, r2.evidence_steps);
    ck_assert_uint_eq(r1.n_window, r2.n_window);
    ck_assert(memcmp(r1.window, r2.window, r1.n_window * sizeof *r1.window) == 0);
    ck_assert_uint_eq(r1.n_prefix, r2.n_prefix);
    ck_assert(memcmp(r1.prefix, r2.prefix, r1.n_prefix * sizeof *r1.prefix) == 0);
    lin_result_free(&r1);
    lin_result_free(&r2);
    hist_free(b.h);
}
END_TEST

/* ---- key-value histories ---- */

static void kv_inv(struct tb *b, int c, enum hist_f f, const char *key, const char *value)
{
    inv(b, c, f, key, value ? str(b, value) : 0, 0);
}

static void kv_get_ok(struct tb *b, int c, const char *value)
{
    done(b, c, HIST_OK, str(b, value));
}

START_TEST(test_kv_appends_in_one_order_hold)
{
    struct tb b;
    tb_init_model(&b, HIST_KV);
    kv_inv(&b, 1, HIST_APPEND, "k", "a");
    kv_inv(&b, 2, HIST_APPEND, "k", "b");
    ok(&b, 1);
    ok(&b, 2);
    kv_inv(&b, 3, HIST_GET, "k", NULL);
    kv_get_ok(&b, 3, "ba");
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    lin_result_free(&r);
    kv_inv(&b, 3, HIST_GET, "k", NULL);
    kv_get_ok(&b, 3, "ab");   /* the other order, later: impossible */
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert_int_eq(r.failed_op, 3);
    ck_assert_msg(strstr(r.reason, "key-value store"), "reason: %s", r.reason);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_kv_put_wipes_an_append_nobody_reads)
{
    struct tb b;
    tb_init_model(&b, HIST_KV);
    kv_inv(&b, 1, HIST_APPEND, "k", "lost");   /* long-running, never read */
    kv_inv(&b, 2, HIST_PUT, "k", "p");
    ok(&b, 2);
    kv_inv(&b, 2, HIST_GET, "k", NULL);
    kv_get_ok(&b, 2, "p");
    ok(&b, 1);
    kv_inv(&b, 2, HIST_GET, "k", NULL);
    kv_get_ok(&b, 2, "p");
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    lin_result_free(&r);
    /* without a put after it, the append must show */
    struct tb c;
    tb_init_model(&c, HIST_KV);
    kv_inv(&c, 2, HIST_PUT, "k", "p");
    ok(&c, 2);
    kv_inv(&c, 1, HIST_APPEND, "k", "lost");
    ok(&c, 1);
    kv_inv(&c, 2, HIST_GET, "k", NULL);
    kv_get_ok(&c, 2, "p");
    ck_assert_int_eq(check(c.h, &r, 0), LIN_VIOLATED);
    lin_result_free(&r);
    hist_free(c.h);
    hist_free(b.h);
}
END_TEST

START_TEST(test_kv_get_missing_a_completed_append_is_violated)
{
    struct tb b;
    tb_init_model(&b, HIST_KV);
    kv_inv(&b, 1, HIST_APPEND, "k", "a");
    ok(&b, 1);
    kv_inv(&b, 1, HIST_APPEND, "k", "b");
    ok(&b, 1);
    kv_inv(&b, 2, HIST_GET, "k", NULL);
    kv_get_ok(&b, 2, "a");
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert_msg(strstr(r.reason, "c2's get(k) = \"a\"") && strstr(r.reason, "lacks what c1's append(k, \"b\") added") &&
                      strstr(r.reason, "no put could come between"),
                  "reason: %s", r.reason);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* A cas that saw one value and wrote another explains a read of the other. */
START_TEST(test_read_after_a_cas_sees_its_new_value)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_WRITE, "x", 1, NIL);
    ok(&b, 1);
    inv(&b, 1, HIST_CAS, "x", 1, 2);
    inv(&b, 2, HIST_READ, "x", NIL, NIL);
    ok(&b, 1);
    ok_read(&b, 2, 2);
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_HOLDS);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

START_TEST(test_kv_missing_key_reads_empty)
{
    struct tb b;
    tb_init_model(&b, HIST_KV);
    kv_inv(&b, 1, HIST_GET, "k", NULL);
    kv_get_ok(&b, 1, "");
    kv_inv(&b, 1, HIST_PUT, "k", "v");
    ok(&b, 1);
    kv_inv(&b, 1, HIST_GET, "k", NULL);
    kv_get_ok(&b, 1, "");
    struct lin_result r;
    ck_assert_int_eq(check(b.h, &r, 0), LIN_VIOLATED);
    ck_assert_int_eq(r.failed_op, 2);
    lin_result_free(&r);
    hist_free(b.h);
}
END_TEST

/* ==== a reference checker, from the definitions alone ===================== */

/* What each operation must do, per the history's documented semantics:
 * ok = happened in its interval; fail = nothing, except a cas marked
 * `constrains`, which happened and saw another value; info = a write-like
 * operation may happen any time after its invocation, or never; a read
 * without an answer constrains nothing. */
enum rkind { R_READ, R_WRITE, R_CAS, R_CAS_SAW_OTHER, R_MAYBE_WRITE, R_MAYBE_CAS,
             R_GET, R_PUT, R_APPEND, R_MAYBE_PUT, R_MAYBE_APPEND };

struct rop {
    enum rkind kind;
    int64_t a, b;
    int64_t call, ret;    /* ret NEVER: none */
    bool optional;        /* may be left out */
    long index;
};

struct rstate {
    int64_t reg;
    char kv[256];
};

struct ref {
    const hist *h;
    struct rop ops[24];
    int n;
    /* visited (placed mask, state) */
    uint32_t *seen_mask;
    struct rstate *seen_state;
    size_t n_seen, cap_seen;
};

static bool state_eq(const struct ref *r, const struct rstate *a, const struct rstate *b)
{
    return hist_model(r->h) == HIST_REGISTER ? a->reg == b->reg : strcmp(a->kv, b->kv) == 0;
}

static bool ref_seen(struct ref *r, uint32_t mask, const struct rstate *st)
{
    for (size_t i = 0; i < r->n_seen; i++)
        if (r->seen_mask[i] == mask && state_eq(r, &r->seen_state[i], st))
            return true;
    if (r->n_seen == r->cap_seen) {
        r->cap_seen = r->cap_seen ? 2 * r->cap_seen : 256;
        r->seen_mask = realloc(r->seen_mask, r->cap_seen * sizeof *r->seen_mask);
        r->seen_state = realloc(r->seen_state, r->cap_seen * sizeof *r->seen_state);
    }
    r->seen_mask[r->n_seen] = mask;
    r->seen_state[r->n_seen++] = *st;
    return false;
}

/* Apply op to st; false when the operation's result says it cannot be here. */
static bool ref_apply(const struct ref *r, const struct rop *o, struct rstate *st)
{
    const char *s;
    switch (o->kind) {
    case R_READ:
        return st->reg == o->a;
    case R_WRITE:
    case R_MAYBE_WRITE:
        st->reg = o->a;
        return true;
    case R_CAS:
        if (st->reg != o->a)
            return false;
        st->reg = o->b;
        return true;
    case R_CAS_SAW_OTHER:
        return st->reg != o->a;
    case R_MAYBE_CAS:
        if (st->reg == o->a)
            st->reg = o->b;
        return true;
    case R_GET:
        return strcmp(st->kv, hist_str(r->h, o->a)) == 0;
    case R_PUT:
    case R_MAYBE_PUT:
        snprintf(st->kv, sizeof st->kv, "%s", hist_str(r->h, o->a));
        return true;
    case R_APPEND:
    case R_MAYBE_APPEND:
        s = hist_str(r->h, o->a);
        ck_assert_uint_lt(strlen(st->kv) + strlen(s), sizeof st->kv);
        strcat(st->kv, s);
        return true;
    }
    return false;
}

/* Depth-first over every order that respects real time. */
static bool ref_search(struct ref *r, uint32_t placed, uint32_t dropped, const struct rstate *st)
{
    bool all = true;
    for (int i = 0; i < r->n; i++)
        if (!(placed >> i & 1) && !(dropped >> i & 1) && !r->ops[i].optional)
            all = false;
    if (all)
        return true;
    if (ref_seen(r, placed | dropped << 16, st))
        return false;
    for (int i = 0; i < r->n; i++) {
        if ((placed | dropped) >> i & 1)
            continue;
        const struct rop *o = &r->ops[i];
        /* everything that completed before i began must already be placed
         * (or, if optional, be left out for good) */
        bool can = true;
        uint32_t now_dropped = dropped;
        for (int j = 0; j < r->n && can; j++) {
            if (j == i || (placed >> j & 1) || r->ops[j].ret == NEVER || r->ops[j].ret >= o->call)
                continue;
            if (r->ops[j].optional)
                now_dropped |= UINT32_C(1) << j;
            else
                can = false;
        }
        if (!can)
            continue;
        struct rstate next = *st;
        if (ref_apply(r, o, &next) &&
            ref_search(r, placed | UINT32_C(1) << i, now_dropped & ~(UINT32_C(1) << i), &next))
            return true;
    }
    return false;
}

/* Is the key's sub-history of h, cut at event `upto` (ops invoked at or
 * before it; completions after it unknown), without what completed at or
 * before `from` (those invoked before it then optional), linearizable from
 * state init? from = -1: no cut. */
static bool ref_key(const hist *h, int32_t key, int64_t upto, int64_t from, const struct rstate *init)
{
    struct ref r = { .h = h };
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->key != key || op->invoke_pos > upto)
            continue;
        bool known = op->type != HIST_INFO && op->complete_pos <= upto;
        if (known && op->complete_pos <= from)
            continue;
        struct rop o = { .a = op->arg, .b = op->arg2, .call = op->invoke_pos,
                         .ret = known ? op->complete_pos : NEVER, .index = (long)i };
        bool read = op->f == HIST_READ || op->f == HIST_GET;
        if (!known) {
            if (read || op->type == HIST_FAIL)
                continue;   /* no answer yet: a read tells nothing, a failure did nothing */
            o.kind = op->f == HIST_WRITE ? R_MAYBE_WRITE : op->f == HIST_CAS ? R_MAYBE_CAS
                     : op->f == HIST_PUT ? R_MAYBE_PUT : R_MAYBE_APPEND;
            o.optional = true;
        } else if (op->type == HIST_FAIL) {
            if (!(op->f == HIST_CAS && op->constrains))
                continue;
            o.kind = R_CAS_SAW_OTHER;
        } else {
            switch ((enum hist_f)op->f) {
            case HIST_READ: o.kind = R_READ; o.a = op->out; break;
            case HIST_WRITE: o.kind = R_WRITE; break;
            case HIST_CAS: o.kind = R_CAS; break;
            case HIST_GET: o.kind = R_GET; o.a = op->out; break;
            case HIST_PUT: o.kind = R_PUT; break;
            case HIST_APPEND: o.kind = R_APPEND; break;
            case HIST_ADD:
            case HIST_REMOVE:
            case HIST_TXN: ck_abort_msg("generated histories have no add/remove/txn"); break;
            }
        }
        if (from >= 0 && o.call < from)
            o.optional = true;
        ck_assert_int_lt(r.n, 16);
        r.ops[r.n++] = o;
    }
    bool ok = ref_search(&r, 0, 0, init);
    free(r.seen_mask);
    free(r.seen_state);
    return ok;
}

static struct rstate initial(void)
{
    struct rstate s = { .reg = NIL };
    s.kv[0] = '\0';
    return s;
}

static bool ref_check(const hist *h)
{
    struct rstate init = initial();
    for (size_t k = 0; k < hist_n_keys(h); k++)
        if (!ref_key(h, hist_key(h, k), NEVER - 1, -1, &init))
            return false;
    return true;
}

/* ==== independent checks of a result ====================================== */

/* Replay a linearization key by key against the model, and check it keeps
 * real-time order: every ok operation is in it, once. */
static void check_linearization(const hist *h, const long *order, size_t n)
{
    size_t n_ops = hist_count(h);
    int *pos = calloc(n_ops + 1, sizeof *pos);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_ge(order[i], 0);
        ck_assert_int_lt(order[i], (long)n_ops);
        ck_assert_msg(pos[order[i]] == 0, "op %ld placed twice", order[i]);
        pos[order[i]] = (int)i + 1;
    }
    for (size_t i = 0; i < n_ops; i++) {
        const struct hist_op *op = hist_op(h, i);
        if (op->type == HIST_OK)
            ck_assert_msg(pos[i] > 0, "ok op %zu is not in the linearization", i);
        if (op->type == HIST_FAIL && !op->constrains)
            ck_assert_msg(pos[i] == 0, "failed op %zu was placed", i);
    }
    /* real time: a op completed before b began comes first (same key) */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            const struct hist_op *a = hist_op(h, (size_t)order[i]), *b = hist_op(h, (size_t)order[j]);
            if (a->key != b->key)
                continue;
            bool b_before_a = b->type != HIST_INFO && b->complete_pos < a->invoke_pos;
            ck_assert_msg(!b_before_a, "op %ld placed after op %ld which completed before it began",
                          order[j], order[i]);
        }
    /* the model */
    for (size_t k = 0; k < hist_n_keys(h); k++) {
        int32_t key = hist_key(h, k);
        struct ref r = { .h = h };
        struct rstate st = initial();
        for (size_t i = 0; i < n; i++) {
            const struct hist_op *op = hist_op(h, (size_t)order[i]);
            if (op->key != key)
                continue;
            struct rop o = { .a = op->arg, .b = op->arg2 };
            bool info = op->type == HIST_INFO;
            switch ((enum hist_f)op->f) {
            case HIST_READ: o.kind = R_READ; o.a = op->out; break;
            case HIST_WRITE: o.kind = R_WRITE; break;
            case HIST_CAS:
                o.kind = op->type == HIST_FAIL ? R_CAS_SAW_OTHER : info ? R_MAYBE_CAS : R_CAS;
                break;
            case HIST_GET: o.kind = R_GET; o.a = op->out; break;
            case HIST_PUT: o.kind = R_PUT; break;
            case HIST_APPEND: o.kind = R_APPEND; break;
            case HIST_ADD:
            case HIST_REMOVE:
            case HIST_TXN: ck_abort_msg("generated histories have no add/remove/txn"); break;
            }
            ck_assert_msg(ref_apply(&r, &o, &st), "op %ld does not replay", order[i]);
        }
    }
    free(pos);
}

/* ==== properties ========================================================== */

START_TEST(test_histories_of_a_correct_register_hold_and_replay)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        struct histgen_options o = { .seed = seed, .ops = 60 + seed * 10, .clients = 2 + (int)(seed % 9),
                                     .keys = 1 + (int)(seed % 3), .info = (double)(seed % 4) * 0.03,
                                     .cas_fail_constrains = seed % 2 };
        hist *h = histgen_register(&o);
        struct lin_result r;
        ck_assert_msg(check(h, &r, 0) == LIN_HOLDS, "seed %" PRIu64 ": %s", seed, r.reason);
        check_linearization(h, r.order, r.n_order);
        lin_result_free(&r);
        hist_free(h);
    }
}
END_TEST

/* Change one read's value: the checker must either find a violation or
 * return a linearization that replays (checked here, independently). */
START_TEST(test_mutated_read_is_caught_or_explained)
{
    int violated = 0, held = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        struct histgen_options o = { .seed = seed, .ops = 80, .clients = 2 + (int)(seed % 6),
                                     .info = (double)(seed % 3) * 0.05 };
        hist *h = histgen_register(&o);
        pcg32 rng;
        pcg32_seed(&rng, seed, 99);
        size_t reads = 0;
        for (size_t i = 0; i < hist_count(h); i++)
            reads += hist_op(h, i)->f == HIST_READ && hist_op(h, i)->type == HIST_OK;
        size_t pick = pcg32_below(&rng, (uint32_t)reads);
        for (size_t i = 0; i < hist_count(h); i++) {
            struct hist_op *op = hist_op_mut(h, i);
            if (op->f == HIST_READ && op->type == HIST_OK && pick-- == 0) {
                int64_t v = (int64_t)pcg32_below(&rng, 40);
                op->out = v == op->out ? NIL : v;
                break;
            }
        }
        struct lin_result r;
        enum lin_verdict v = check(h, &r, 0);
        ck_assert_int_ne(v, LIN_UNKNOWN);
        if (v == LIN_HOLDS) {
            held++;
            check_linearization(h, r.order, r.n_order);
        } else {
            violated++;
            ck_assert(r.has_evidence);
            ck_assert_int_ge(r.failed_op, 0);
            ck_assert(strlen(r.reason) > 20);
        }
        lin_result_free(&r);
        hist_free(h);
    }
    ck_assert_int_gt(violated, 10);
}
END_TEST

/* A small random history: operations with random intervals and values
 * (often wrong), random outcomes. */
static hist *random_history(pcg32 *rng, enum hist_model model, int n)
{
    hist *h = hist_new(model, HIST_CLOCK_NS);
    static const char *const texts[] = { "a", "b", "ab", "ba", "", "c" };
    struct gev_t { int64_t t; int kind; int op; } ev[40];
    int64_t call[20], ret[20];
    for (int i = 0; i < n; i++) {
        call[i] = (int64_t)pcg32_below(rng, 30);
        ret[i] = call[i] + 1 + (int64_t)pcg32_below(rng, 12);
        ev[2 * i].t = 2 * call[i];
        ev[2 * i].kind = 0;
        ev[2 * i].op = i;
        ev[2 * i + 1].t = 2 * ret[i] + 1;
        ev[2 * i + 1].kind = 1;
        ev[2 * i + 1].op = i;
    }
    /* event positions: sort by time (ties: op number) */
    for (int a = 1; a < 2 * n; a++)
        for (int b = a; b > 0 && (ev[b - 1].t > ev[b].t || (ev[b - 1].t == ev[b].t && ev[b - 1].op > ev[b].op)); b--) {
            struct gev_t t = ev[b];
            ev[b] = ev[b - 1];
            ev[b - 1] = t;
        }
    int64_t ipos[20], cpos[20];
    for (int e = 0; e < 2 * n; e++)
        (ev[e].kind == 0 ? ipos : cpos)[ev[e].op] = e + 1;
    /* add in invocation order */
    for (int e = 0; e < 2 * n; e++) {
        if (ev[e].kind)
            continue;
        int i = ev[e].op;
        struct hist_op op = { 0 };
        char name[8];
        snprintf(name, sizeof name, "p%d", i);
        op.id = i + 1;
        op.process = hist_intern(h, name, strlen(name));
        op.key = hist_intern(h, pcg32_below(rng, 4) == 0 ? "y" : "x", 1);
        op.invoke_pos = ipos[i];
        op.invoke_t = ipos[i];
        op.complete_pos = cpos[i];
        op.complete_t = cpos[i];
        uint32_t r = pcg32_below(rng, 100);
        op.type = r < 75 ? HIST_OK : r < 88 ? HIST_INFO : HIST_FAIL;
        if (model == HIST_REGISTER) {
            uint32_t f = pcg32_below(rng, 3);
            op.f = (uint8_t)(f == 0 ? HIST_READ : f == 1 ? HIST_WRITE : HIST_CAS);
            op.arg = (int64_t)pcg32_below(rng, 3);
            op.arg2 = (int64_t)pcg32_below(rng, 3);
            op.out = pcg32_below(rng, 4) == 3 ? NIL : (int64_t)pcg32_below(rng, 3);
            if (op.f == HIST_READ)
                op.arg = NIL;
            op.constrains = op.type == HIST_FAIL && op.f == HIST_CAS && pcg32_below(rng, 2);
        } else {
            uint32_t f = pcg32_below(rng, 3);
            op.f = (uint8_t)(f == 0 ? HIST_GET : f == 1 ? HIST_PUT : HIST_APPEND);
            const char *t1 = texts[pcg32_below(rng, 6)], *t2 = texts[pcg32_below(rng, 6)];
            op.arg = hist_intern(h, t1, strlen(t1));
            op.out = hist_intern(h, t2, strlen(t2));
        }
        if (op.type == HIST_INFO && pcg32_below(rng, 2)) {
            op.open = true;
            op.complete_pos = NEVER;
            op.complete_t = NEVER;
        }
        ck_assert_int_ge(hist_add(h, &op), 0);
    }
    return h;
}

/* Print a history, to see why a random one failed. */
static void dump(const hist *h)
{
    char buf[256];
    for (size_t i = 0; i < hist_count(h); i++) {
        const struct hist_op *op = hist_op(h, i);
        fprintf(stderr, "  [%zu] %-22s %-4s constrains=%d key=%s  %" PRId64 "..%" PRId64 "\n", i,
                lin_describe_op(h, op, buf, sizeof buf), hist_type_name((enum hist_type)op->type),
                op->constrains, hist_str(h, op->key), op->invoke_pos,
                op->type == HIST_INFO ? -1 : op->complete_pos);
    }
}

/* A copy of h with only the operations marked in keep. */
static hist *subhist(const hist *h, const bool *keep)
{
    hist *s = hist_new(hist_model(h), hist_clock(h));
    for (size_t i = 0; i < hist_count(h); i++) {
        if (!keep[i])
            continue;
        struct hist_op op = *hist_op(h, i);
        op.process = hist_intern(s, hist_str(h, op.process), hist_strlen(h, op.process));
        op.key = hist_intern(s, hist_str(h, op.key), hist_strlen(h, op.key));
        if (hist_model(h) == HIST_KV) {
            op.arg = hist_intern(s, hist_str(h, op.arg), hist_strlen(h, op.arg));
            op.out = hist_intern(s, hist_str(h, op.out), hist_strlen(h, op.out));
        }
        ck_assert_int_ge(hist_add(s, &op), 0);
    }
    return s;
}

/* A specific reason is a proof on its own: the operations it names, with
 * every operation that may have written a value they saw (register) or
 * every put (key-value), are already not linearizable. */
static void check_reason_is_a_proof(const hist *h, const struct lin_result *r)
{
    if (strstr(r->reason, "cannot be explained"))
        return;   /* the general reason: the window is checked instead */
    ck_assert_uint_gt(r->n_cited, 0);
    size_t n = hist_count(h);
    bool *keep = calloc(n + 1, sizeof *keep);
    int32_t key = hist_op(h, (size_t)r->cited[0])->key;
    for (size_t c = 0; c < r->n_cited; c++) {
        const struct hist_op *o = hist_op(h, (size_t)r->cited[c]);
        keep[r->cited[c]] = true;
        bool sees = o->type == HIST_OK && (o->f == HIST_READ || o->f == HIST_CAS);
        int64_t v = o->f == HIST_READ ? o->out : o->arg;
        for (size_t i = 0; i < n; i++) {
            const struct hist_op *w = hist_op(h, i);
            if (w->key != key || w->type == HIST_FAIL)
                continue;
            if (hist_model(h) == HIST_KV)
                keep[i] |= w->f == HIST_PUT;
            else if (sees)
                keep[i] |= (w->f == HIST_WRITE && w->arg == v) || (w->f == HIST_CAS && w->arg2 == v);
        }
    }
    hist *s = subhist(h, keep);
    ck_assert_msg(!ref_check(s), "the reason is no proof: %s", r->reason);
    hist_free(s);
    free(keep);
}

/* Everything the checker says agrees with the brute-force reference, and its
 * evidence is what it claims: the prefix up to the failing completion is not
 * linearizable, everything before it is, and the window fails on its own. */
static void differential(enum hist_model model, uint64_t seed0, int rounds)
{
    int held = 0, violated = 0;
    for (int round = 0; round < rounds; round++) {
        pcg32 rng;
        pcg32_seed(&rng, seed0 + (uint64_t)round, 7);
        const char *e = getenv("SIM_LIN_MAX_OPS");   /* up to 16; default 9 */
        int max_ops = e && atoi(e) > 0 && atoi(e) <= 16 ? atoi(e) : 9;
        int n = 1 + (int)pcg32_below(&rng, (uint32_t)max_ops);
        hist *h = random_history(&rng, model, n);
        struct lin_result r;
        enum lin_verdict v = check(h, &r, 0);
        bool expect = ref_check(h);
        if (v != (expect ? LIN_HOLDS : LIN_VIOLATED) || (v == LIN_VIOLATED && !r.evidence_complete))
            dump(h);
        ck_assert_msg(v == (expect ? LIN_HOLDS : LIN_VIOLATED),
                      "round %d (seed %" PRIu64 "): checker says %s, reference says %s", round,
                      seed0 + (uint64_t)round, lin_verdict_name(v), expect ? "holds" : "violated");
        if (v == LIN_HOLDS) {
            held++;
            check_linearization(h, r.order, r.n_order);
        } else {
            violated++;
            ck_assert_msg(r.has_evidence && r.evidence_complete, "round %d (seed %" PRIu64 "): evidence %d %d",
                          round, seed0 + (uint64_t)round, r.has_evidence, r.evidence_complete);
            const struct hist_op *x = hist_op(h, (size_t)r.failed_op);
            struct rstate init = initial();
            ck_assert_msg(!ref_key(h, x->key, x->complete_pos, -1, &init),
                          "round %d: the prefix up to the failing completion holds", round);
            ck_assert_msg(ref_key(h, x->key, x->complete_pos - 1, -1, &init),
                          "round %d: the prefix before the failing completion fails", round);
            check_reason_is_a_proof(h, &r);
            bool any_info = false;
            for (size_t i = 0; i < hist_count(h); i++)
                any_info |= hist_op(h, i)->key == x->key && hist_op(h, i)->type == HIST_INFO;
            /* (with info operations the checker may know more than this
             * reference: which of them must already have taken effect) */
            if (model == HIST_REGISTER && !any_info) {
                int64_t from = r.window_after >= 0 ? hist_op(h, (size_t)r.window_after)->complete_pos : -1;
                /* from any state: nil, every value, one never written */
                int64_t starts[] = { NIL, 0, 1, 2, 77 };
                for (int i = 0; i < (from >= 0 ? 5 : 1); i++) {
                    struct rstate st = { .reg = starts[i] };
                    ck_assert_msg(!ref_key(h, x->key, x->complete_pos, from, &st),
                                  "round %d: the window holds from %" PRId64, round, starts[i]);
                }
            }
        }
        lin_result_free(&r);
        hist_free(h);
    }
    ck_assert_int_gt(held, rounds / 10);
    ck_assert_int_gt(violated, rounds / 10);
}

/* SIM_LIN_ROUNDS=N runs N random histories per model instead of 3000 (a
 * longer hunt; the default keeps the suite fast under ASan too). */
static int rounds(void)
{
    const char *e = getenv("SIM_LIN_ROUNDS");
    return e && atoi(e) > 0 ? atoi(e) : 3000;
}

START_TEST(test_register_verdicts_agree_with_brute_force)
{
    differential(HIST_REGISTER, 1000, rounds());
}
END_TEST

START_TEST(test_kv_verdicts_agree_with_brute_force)
{
    differential(HIST_KV, 10000000, rounds());
}
END_TEST

/* Histories from a correct register with small values (so many writers of
 * each value), then one operation changed: agree with the reference. */
START_TEST(test_near_miss_histories_agree_with_brute_force)
{
    int violated = 0;
    for (uint64_t seed = 1; seed <= 1500; seed++) {
        struct histgen_options o = { .seed = seed, .ops = 5 + seed % 7, .clients = 2 + (int)(seed % 4),
                                     .info = 0.15, .cas_fail_constrains = seed % 3 == 0,
                                     .read = 0.4, .write = 0.35 };
        hist *h = histgen_register(&o);
        /* fold values onto 0..2 so they repeat, then perhaps break one */
        pcg32 rng;
        pcg32_seed(&rng, seed, 5);
        for (size_t i = 0; i < hist_count(h); i++) {
            struct hist_op *op = hist_op_mut(h, i);
            if (op->arg != NIL)
                op->arg %= 3;
            if (op->arg2 != NIL)
                op->arg2 %= 3;
            if (op->out != NIL)
                op->out %= 3;
        }
        if (pcg32_below(&rng, 2)) {
            struct hist_op *op = hist_op_mut(h, pcg32_below(&rng, (uint32_t)hist_count(h)));
            op->out = (int64_t)pcg32_below(&rng, 3);
            op->arg = op->f == HIST_READ ? NIL : (int64_t)pcg32_below(&rng, 3);
        }
        struct lin_result r;
        enum lin_verdict v = check(h, &r, 0);
        bool expect = ref_check(h);
        ck_assert_msg(v == (expect ? LIN_HOLDS : LIN_VIOLATED), "seed %" PRIu64 ": %s vs %s", seed,
                      lin_verdict_name(v), expect ? "holds" : "violated");
        violated += v == LIN_VIOLATED;
        if (v == LIN_HOLDS)
            check_linearization(h, r.order, r.n_order);
        lin_result_free(&r);
        hist_free(h);
    }
    ck_assert_int_gt(violated, 50);
}
END_TEST

START_TEST(test_describing_operations)
{
    struct tb b;
    tb_init_model(&b, HIST_REGISTER);
    inv(&b, 1, HIST_CAS, "x", 1, 2);
    ok(&b, 1);
    char buf[128];
    ck_assert_str_eq(lin_describe_op(b.h, hist_op(b.h, 0), buf, sizeof buf), "c1 cas x 1->2");
    ck_assert_str_eq(lin_format_time(b.h, 41200000, buf, sizeof buf), "41.2 ms");
    ck_assert_str_eq(lin_format_value(b.h, NIL, buf, sizeof buf), "nil");
    hist_free(b.h);
}
END_TEST

static Suite *linearizable_suite(void)
{
    Suite *s = suite_create("linearizable");
    TCase *tc = tcase_create("textbook");
    tcase_add_test(tc, test_empty_history_holds);
    tcase_add_test(tc, test_write_then_read_of_it_holds);
    tcase_add_test(tc, test_stale_read_after_completed_write_is_violated);
    tcase_add_test(tc, test_read_of_a_value_before_its_write_began_is_violated);
    tcase_add_test(tc, test_read_of_a_value_never_written_is_violated);
    tcase_add_test(tc, test_cas_succeeding_twice_on_the_same_value_is_violated);
    tcase_add_test(tc, test_concurrent_cas_on_the_same_value_one_wins_holds);
    tcase_add_test(tc, test_indeterminate_write_explains_a_later_read);
    tcase_add_test(tc, test_indeterminate_write_may_never_apply);
    tcase_add_test(tc, test_read_of_nil_before_any_write_holds_and_after_one_is_violated);
    tcase_add_test(tc, test_concurrent_writes_may_take_effect_in_either_order);
    tcase_add_test(tc, test_failed_operations_without_effect_are_ignored);
    tcase_add_test(tc, test_failed_cas_that_saw_another_value_constrains);
    tcase_add_test(tc, test_keys_are_checked_independently);
    tcase_add_test(tc, test_budget_exhaustion_gives_unknown);
    tcase_add_test(tc, test_same_history_gives_the_same_verdict_and_evidence);
    tcase_add_test(tc, test_kv_appends_in_one_order_hold);
    tcase_add_test(tc, test_kv_put_wipes_an_append_nobody_reads);
    tcase_add_test(tc, test_kv_missing_key_reads_empty);
    tcase_add_test(tc, test_kv_get_missing_a_completed_append_is_violated);
    tcase_add_test(tc, test_read_after_a_cas_sees_its_new_value);
    tcase_add_test(tc, test_describing_operations);
    suite_add_tcase(s, tc);
    TCase *tp = tcase_create("properties");
    tcase_set_timeout(tp, 120);
    tcase_add_test(tp, test_histories_of_a_correct_register_hold_and_replay);
    tcase_add_test(tp, test_mutated_read_is_caught_or_explained);
    tcase_add_test(tp, test_register_verdicts_agree_with_brute_force);
    tcase_add_test(tp, test_kv_verdicts_agree_with_brute_force);
    tcase_add_test(tp, test_near_miss_histories_agree_with_brute_force);
    suite_add_tcase(s, tp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(linearizable_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
