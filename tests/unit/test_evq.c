/* Unit tests for the event queue (sim/core/evq.c). */
#include "evq.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* A small local generator: this test links only the queue. */
static uint64_t rand_state;
static uint32_t next_rand(uint32_t bound)
{
    rand_state ^= rand_state << 13;
    rand_state ^= rand_state >> 7;
    rand_state ^= rand_state << 17;
    return (uint32_t)((rand_state >> 16) % bound);
}

/* ---- ordering ----------------------------------------------------------- */

START_TEST(test_pops_in_time_order)
{
    static const sim_time times[] = { 50, 10, 40, 30, 20, 60, 0, 5 };
    evq *q = evq_new();
    for (size_t i = 0; i < sizeof times / sizeof times[0]; i++)
        evq_push(q, times[i], (uint32_t)i, 0, 0, NULL);
    static const sim_time sorted[] = { 0, 5, 10, 20, 30, 40, 50, 60 };
    struct evq_event ev;
    for (size_t i = 0; i < sizeof sorted / sizeof sorted[0]; i++) {
        ck_assert_int_eq(evq_pop(q, &ev), 1);
        ck_assert_int_eq(ev.at, sorted[i]);
    }
    ck_assert_int_eq(evq_pop(q, &ev), 0);
    evq_free(q);
}
END_TEST

START_TEST(test_equal_times_pop_in_push_order)
{
    enum { N = 5000 };
    evq *q = evq_new();
    /* many events at one instant, mixed with a few earlier and later ones */
    for (uint32_t i = 0; i < N; i++) {
        evq_push(q, 1000, i, 0, 0, NULL);
        if (i % 100 == 0) {
            evq_push(q, 999, 100000 + i, 0, 0, NULL);
            evq_push(q, 1001, 200000 + i, 0, 0, NULL);
        }
    }
    struct evq_event ev;
    uint32_t expect_kind = 0;
    int early = 0, late = 0;
    while (evq_pop(q, &ev)) {
        if (ev.at == 999) {
            ck_assert_int_eq(expect_kind, 0);   /* every early one comes first */
            ck_assert_uint_eq(ev.kind, 100000 + (uint32_t)early * 100);
            early++;
        } else if (ev.at == 1000) {
            ck_assert_uint_eq(ev.kind, expect_kind);
            expect_kind++;
        } else {
            ck_assert_uint_eq(expect_kind, N);  /* every late one comes last */
            ck_assert_uint_eq(ev.kind, 200000 + (uint32_t)late * 100);
            late++;
        }
    }
    ck_assert_uint_eq(expect_kind, N);
    ck_assert_int_eq(early, N / 100);
    ck_assert_int_eq(late, N / 100);
    evq_free(q);
}
END_TEST

START_TEST(test_extreme_times_are_ordered)
{
    evq *q = evq_new();
    evq_push(q, INT64_MAX, 1, 0, 0, NULL);
    evq_push(q, 0, 2, 0, 0, NULL);
    evq_push(q, INT64_MIN, 3, 0, 0, NULL);
    evq_push(q, -1, 4, 0, 0, NULL);
    evq_push(q, INT64_MAX, 5, 0, 0, NULL);
    static const uint32_t kinds[] = { 3, 4, 2, 1, 5 };
    struct evq_event ev;
    for (size_t i = 0; i < 5; i++) {
        ck_assert(evq_pop(q, &ev));
        ck_assert_uint_eq(ev.kind, kinds[i]);
    }
    evq_free(q);
}
END_TEST

START_TEST(test_push_returns_increasing_sequence_numbers)
{
    evq *q = evq_new();
    uint64_t a = evq_push(q, 10, 0, 0, 0, NULL);
    uint64_t b = evq_push(q, 5, 0, 0, 0, NULL);
    uint64_t c = evq_push(q, 10, 0, 0, 0, NULL);
    ck_assert_uint_lt(a, b);
    ck_assert_uint_lt(b, c);
    struct evq_event ev;
    ck_assert(evq_pop(q, &ev));
    ck_assert_uint_eq(ev.seq, b);
    /* numbers keep growing after pops: they are never reused */
    uint64_t d = evq_push(q, 1, 0, 0, 0, NULL);
    ck_assert_uint_gt(d, c);
    evq_free(q);
}
END_TEST

START_TEST(test_event_fields_come_back_unchanged)
{
    evq *q = evq_new();
    int payload = 42;
    uint64_t seq = evq_push(q, 123456789, 0xdeadbeef, 0xfffffffe, UINT64_MAX, &payload);
    struct evq_event ev;
    memset(&ev, 0, sizeof ev);
    ck_assert(evq_pop(q, &ev));
    ck_assert_int_eq(ev.at, 123456789);
    ck_assert_uint_eq(ev.seq, seq);
    ck_assert_uint_eq(ev.kind, 0xdeadbeef);
    ck_assert_uint_eq(ev.target, 0xfffffffe);
    ck_assert_uint_eq(ev.arg, UINT64_MAX);
    ck_assert_ptr_eq(ev.ptr, &payload);
    evq_free(q);
}
END_TEST

/* ---- peek, size and empty queues ---------------------------------------- */

START_TEST(test_peek_shows_earliest_without_removing)
{
    evq *q = evq_new();
    ck_assert_ptr_null(evq_peek(q));
    evq_push(q, 30, 1, 0, 0, NULL);
    evq_push(q, 10, 2, 0, 0, NULL);
    evq_push(q, 10, 3, 0, 0, NULL);
    const struct evq_event *top = evq_peek(q);
    ck_assert_ptr_nonnull(top);
    ck_assert_int_eq(top->at, 10);
    ck_assert_uint_eq(top->kind, 2);
    ck_assert_uint_eq(evq_size(q), 3);
    ck_assert_uint_eq(evq_peek(q)->kind, 2);   /* peeking twice changes nothing */
    struct evq_event ev;
    ck_assert(evq_pop(q, &ev));
    ck_assert_uint_eq(ev.kind, 2);
    ck_assert_uint_eq(evq_peek(q)->kind, 3);
    evq_free(q);
}
END_TEST

START_TEST(test_empty_pop_returns_zero)
{
    evq *q = evq_new();
    struct evq_event ev = { .kind = 77 };
    ck_assert_int_eq(evq_pop(q, &ev), 0);
    ck_assert_uint_eq(evq_size(q), 0);
    evq_push(q, 1, 1, 0, 0, NULL);
    ck_assert_int_eq(evq_pop(q, &ev), 1);
    ck_assert_int_eq(evq_pop(q, &ev), 0);
    ck_assert_int_eq(evq_pop(q, &ev), 0);
    ck_assert_ptr_null(evq_peek(q));
    ck_assert_uint_eq(evq_size(q), 0);
    evq_free(q);
}
END_TEST

START_TEST(test_size_counts_pushes_minus_pops)
{
    evq *q = evq_new();
    for (int i = 0; i < 1000; i++)
        evq_push(q, 1000 - i, 0, 0, 0, NULL);
    ck_assert_uint_eq(evq_size(q), 1000);
    struct evq_event ev;
    for (int i = 0; i < 400; i++)
        evq_pop(q, &ev);
    ck_assert_uint_eq(evq_size(q), 600);
    evq_free(q);
}
END_TEST

START_TEST(test_free_leaves_event_pointers_alone)
{
    evq *q = evq_new();
    int on_stack = 1;
    evq_push(q, 1, 0, 0, 0, &on_stack);   /* freeing this would crash (or asan) */
    evq_push(q, 2, 0, 0, 0, (void *)(uintptr_t)0x10);
    evq_free(q);
    evq_free(NULL);
    ck_assert_int_eq(on_stack, 1);
}
END_TEST

/* ---- against a reference ------------------------------------------------ */

/* The reference: events in a sorted array, by (at, seq); pops from the head. */
struct ref {
    struct evq_event *ev;
    size_t head, len, cap;
};

static void ref_push(struct ref *r, const struct evq_event *ev)
{
    if (r->len == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 1024;
        r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
        ck_assert_ptr_nonnull(r->ev);
    }
    /* a new event has the largest seq, so it goes after every event at its time */
    size_t lo = r->head, hi = r->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->ev[mid].at <= ev->at)
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(&r->ev[lo + 1], &r->ev[lo], (r->len - lo) * sizeof *r->ev);
    r->ev[lo] = *ev;
    r->len++;
}

START_TEST(test_random_push_pop_matches_sorted_reference)
{
    enum { OPS = 100000 };
    evq *q = evq_new();
    struct ref r = { 0 };
    rand_state = 0x9e3779b97f4a7c15ULL;
    sim_time now = 0;
    for (int op = 0; op < OPS; op++) {
        /* pushes are a little more likely than pops so the queue grows and
         * shrinks; times cluster so there are many ties */
        if (next_rand(100) < 55) {
            sim_time at = now + (sim_time)next_rand(50);
            uint32_t kind = next_rand(1000);
            uint64_t arg = (uint64_t)op;
            struct evq_event ev = { at, 0, kind, (uint32_t)op, arg, NULL };
            ev.seq = evq_push(q, at, kind, (uint32_t)op, arg, NULL);
            ref_push(&r, &ev);
        } else {
            struct evq_event got;
            int popped = evq_pop(q, &got);
            if (r.head == r.len) {
                ck_assert_int_eq(popped, 0);
                continue;
            }
            ck_assert_int_eq(popped, 1);
            const struct evq_event *want = &r.ev[r.head++];
            ck_assert_msg(got.at == want->at && got.seq == want->seq && got.kind == want->kind &&
                              got.target == want->target && got.arg == want->arg,
                          "op %d: got (%lld,%llu) want (%lld,%llu)", op, (long long)got.at,
                          (unsigned long long)got.seq, (long long)want->at,
                          (unsigned long long)want->seq);
            now = got.at;   /* time moves on as in a simulation */
        }
        ck_assert_uint_eq(evq_size(q), r.len - r.head);
        const struct evq_event *top = evq_peek(q);
        if (r.head == r.len)
            ck_assert_ptr_null(top);
        else
            ck_assert(top && top->seq == r.ev[r.head].seq);
    }
    /* drain */
    struct evq_event got;
    while (r.head < r.len) {
        ck_assert(evq_pop(q, &got));
        ck_assert_uint_eq(got.seq, r.ev[r.head].seq);
        r.head++;
    }
    ck_assert_int_eq(evq_pop(q, &got), 0);
    free(r.ev);
    evq_free(q);
}
END_TEST

static Suite *evq_suite(void)
{
    Suite *s = suite_create("evq");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_pops_in_time_order);
    tcase_add_test(tc, test_equal_times_pop_in_push_order);
    tcase_add_test(tc, test_extreme_times_are_ordered);
    tcase_add_test(tc, test_push_returns_increasing_sequence_numbers);
    tcase_add_test(tc, test_event_fields_come_back_unchanged);
    tcase_add_test(tc, test_peek_shows_earliest_without_removing);
    tcase_add_test(tc, test_empty_pop_returns_zero);
    tcase_add_test(tc, test_size_counts_pushes_minus_pops);
    tcase_add_test(tc, test_free_leaves_event_pointers_alone);
    tcase_add_test(tc, test_random_push_pop_matches_sorted_reference);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(evq_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
