/* Unit tests for the durable store (sim/core/store.c). */
#include "store.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ------------------------------------------------------------ */

/* A small local generator: this test links only the store. */
static uint32_t rand_state = 12345;
static uint32_t next_rand(uint32_t bound)
{
    rand_state ^= rand_state << 13;
    rand_state ^= rand_state >> 17;
    rand_state ^= rand_state << 5;
    return rand_state % bound;
}

static void put_str(store *s, const char *key, const char *val)
{
    store_put(s, key, val, strlen(val));
}

/* The value of key as a string in a static buffer, or NULL if absent. */
static const char *get_str(const store *s, const char *key)
{
    static char buf[256];
    size_t len = 99;
    const void *v = store_get(s, key, &len);
    if (!v)
        return NULL;
    ck_assert_uint_lt(len, sizeof buf);
    memcpy(buf, v, len);
    buf[len] = '\0';
    return buf;
}

struct visit_log {
    char text[1024];
    int visits;
    int stop_after;   /* 0: never stop */
    store *s;         /* for visitors that change the store */
};

/* Appends "key=value;" for each key visited. */
static int log_visit(void *arg, const char *key, const void *val, size_t len)
{
    struct visit_log *log = arg;
    size_t used = strlen(log->text);
    snprintf(log->text + used, sizeof log->text - used, "%s=%.*s;", key, (int)len,
             (const char *)val);
    log->visits++;
    return log->stop_after && log->visits >= log->stop_after;
}

/* ---- basic reads and writes --------------------------------------------- */

START_TEST(test_get_returns_latest_put)
{
    store *s = store_new();
    ck_assert_ptr_null(store_get(s, "x", NULL));
    put_str(s, "x", "1");
    ck_assert_str_eq(get_str(s, "x"), "1");
    put_str(s, "x", "22");
    ck_assert_str_eq(get_str(s, "x"), "22");
    ck_assert_uint_eq(store_count(s), 1);
    store_free(s);
}
END_TEST

START_TEST(test_absent_key_gives_null_and_zero_length)
{
    store *s = store_new();
    put_str(s, "a", "1");
    size_t len = 123;
    ck_assert_ptr_null(store_get(s, "b", &len));
    ck_assert_uint_eq(len, 0);
    store_free(s);
}
END_TEST

START_TEST(test_values_are_copied_in)
{
    store *s = store_new();
    char buf[] = "hello";
    store_put(s, "k", buf, 5);
    buf[0] = 'J';
    ck_assert_str_eq(get_str(s, "k"), "hello");
    store_free(s);
}
END_TEST

START_TEST(test_binary_values_keep_their_length_and_bytes)
{
    store *s = store_new();
    const unsigned char bin[] = { 0, 1, 0, 255, 0 };
    store_put(s, "bin", bin, sizeof bin);
    size_t len = 0;
    const void *v = store_get(s, "bin", &len);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(len, sizeof bin);
    ck_assert_mem_eq(v, bin, sizeof bin);
    store_free(s);
}
END_TEST

START_TEST(test_empty_value_is_present)
{
    store *s = store_new();
    store_put(s, "e", NULL, 0);
    size_t len = 7;
    ck_assert_ptr_nonnull(store_get(s, "e", &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_uint_eq(store_count(s), 1);
    store_sync(s);
    store_crash(s);
    ck_assert_ptr_nonnull(store_get(s, "e", &len));
    store_free(s);
}
END_TEST

START_TEST(test_put_may_copy_from_the_store_itself)
{
    store *s = store_new();
    put_str(s, "a", "same bytes");
    store_sync(s);
    put_str(s, "a", "pending bytes");
    size_t len;
    const void *v = store_get(s, "a", &len);
    store_put(s, "a", v, len);   /* v is the buffer being replaced */
    ck_assert_str_eq(get_str(s, "a"), "pending bytes");
    v = store_get(s, "a", &len);
    store_put(s, "b", v, len);
    ck_assert_str_eq(get_str(s, "b"), "pending bytes");
    store_free(s);
}
END_TEST

START_TEST(test_delete_hides_key)
{
    store *s = store_new();
    put_str(s, "x", "1");
    put_str(s, "y", "2");
    store_del(s, "x");
    ck_assert_ptr_null(store_get(s, "x", NULL));
    ck_assert_str_eq(get_str(s, "y"), "2");
    ck_assert_uint_eq(store_count(s), 1);
    store_del(s, "nothing");   /* no-op */
    ck_assert_uint_eq(store_count(s), 1);
    store_free(s);
}
END_TEST

/* ---- sync and crash ----------------------------------------------------- */

START_TEST(test_crash_loses_unsynced_writes)
{
    store *s = store_new();
    put_str(s, "a", "1");
    put_str(s, "b", "2");
    ck_assert_uint_eq(store_pending(s), 2);
    store_crash(s);
    ck_assert_ptr_null(store_get(s, "a", NULL));
    ck_assert_ptr_null(store_get(s, "b", NULL));
    ck_assert_uint_eq(store_count(s), 0);
    ck_assert_uint_eq(store_pending(s), 0);
    store_free(s);
}
END_TEST

START_TEST(test_sync_makes_writes_survive_crash)
{
    store *s = store_new();
    put_str(s, "a", "1");
    store_sync(s);
    ck_assert_uint_eq(store_pending(s), 0);
    put_str(s, "b", "2");
    store_crash(s);
    ck_assert_str_eq(get_str(s, "a"), "1");
    ck_assert_ptr_null(store_get(s, "b", NULL));
    ck_assert_uint_eq(store_count(s), 1);
    store_free(s);
}
END_TEST

START_TEST(test_crash_reverts_pending_overwrite_to_synced_value)
{
    store *s = store_new();
    put_str(s, "a", "old");
    store_sync(s);
    put_str(s, "a", "new");
    put_str(s, "a", "newer");
    ck_assert_str_eq(get_str(s, "a"), "newer");
    ck_assert_uint_eq(store_pending(s), 1);
    store_crash(s);
    ck_assert_str_eq(get_str(s, "a"), "old");
    store_free(s);
}
END_TEST

START_TEST(test_crash_undoes_pending_delete_of_synced_key)
{
    store *s = store_new();
    put_str(s, "a", "kept");
    store_sync(s);
    store_del(s, "a");
    ck_assert_ptr_null(store_get(s, "a", NULL));
    ck_assert_uint_eq(store_count(s), 0);
    ck_assert_uint_eq(store_pending(s), 1);
    store_crash(s);
    ck_assert_str_eq(get_str(s, "a"), "kept");
    ck_assert_uint_eq(store_count(s), 1);
    store_free(s);
}
END_TEST

START_TEST(test_synced_delete_survives_crash)
{
    store *s = store_new();
    put_str(s, "a", "1");
    store_sync(s);
    store_del(s, "a");
    store_sync(s);
    store_crash(s);
    ck_assert_ptr_null(store_get(s, "a", NULL));
    ck_assert_uint_eq(store_count(s), 0);
    store_free(s);
}
END_TEST

START_TEST(test_delete_then_put_after_sync_survives_crash_only_if_synced)
{
    store *s = store_new();
    put_str(s, "a", "v1");
    store_sync(s);
    store_del(s, "a");
    put_str(s, "a", "v2");
    ck_assert_str_eq(get_str(s, "a"), "v2");
    store_crash(s);
    ck_assert_str_eq(get_str(s, "a"), "v1");
    store_del(s, "a");
    put_str(s, "a", "v3");
    store_sync(s);
    store_crash(s);
    ck_assert_str_eq(get_str(s, "a"), "v3");
    store_free(s);
}
END_TEST

START_TEST(test_pending_counts_keys_a_crash_would_change)
{
    store *s = store_new();
    put_str(s, "a", "1");
    put_str(s, "a", "2");        /* same key twice: one pending key */
    ck_assert_uint_eq(store_pending(s), 1);
    store_del(s, "a");           /* never synced, now gone: nothing to lose */
    ck_assert_uint_eq(store_pending(s), 0);
    put_str(s, "b", "x");
    store_sync(s);
    put_str(s, "b", "y");
    ck_assert_uint_eq(store_pending(s), 1);
    put_str(s, "b", "x");        /* back to the synced bytes */
    ck_assert_uint_eq(store_pending(s), 0);
    store_free(s);
}
END_TEST

START_TEST(test_repeated_crashes_keep_synced_state)
{
    store *s = store_new();
    put_str(s, "k", "durable");
    store_sync(s);
    for (int i = 0; i < 5; i++) {
        put_str(s, "k", "lost");
        put_str(s, "tmp", "lost");
        store_crash(s);
        ck_assert_str_eq(get_str(s, "k"), "durable");
        ck_assert_ptr_null(store_get(s, "tmp", NULL));
    }
    ck_assert_uint_eq(store_count(s), 1);
    store_free(s);
}
END_TEST

/* ---- iteration ---------------------------------------------------------- */

START_TEST(test_scan_visits_keys_in_key_order)
{
    store *s = store_new();
    const char *keys[] = { "m", "b", "z", "a", "ab", "aa", "B" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        put_str(s, keys[i], keys[i]);
    struct visit_log log = { 0 };
    store_scan(s, "", log_visit, &log);
    ck_assert_str_eq(log.text, "B=B;a=a;aa=aa;ab=ab;b=b;m=m;z=z;");
    store_free(s);
}
END_TEST

START_TEST(test_scan_visits_only_keys_with_prefix)
{
    store *s = store_new();
    put_str(s, "log/0002", "b");
    put_str(s, "log/0001", "a");
    put_str(s, "lo", "x");
    put_str(s, "log0", "y");
    put_str(s, "meta", "m");
    put_str(s, "log/", "root");
    struct visit_log log = { 0 };
    store_scan(s, "log/", log_visit, &log);
    ck_assert_str_eq(log.text, "log/=root;log/0001=a;log/0002=b;");
    memset(&log, 0, sizeof log);
    store_scan(s, "nope", log_visit, &log);
    ck_assert_int_eq(log.visits, 0);
    store_free(s);
}
END_TEST

START_TEST(test_scan_stops_when_visitor_returns_nonzero)
{
    store *s = store_new();
    put_str(s, "a", "1");
    put_str(s, "b", "2");
    put_str(s, "c", "3");
    struct visit_log log = { .stop_after = 2 };
    store_scan(s, "", log_visit, &log);
    ck_assert_int_eq(log.visits, 2);
    ck_assert_str_eq(log.text, "a=1;b=2;");
    store_free(s);
}
END_TEST

START_TEST(test_scan_skips_deleted_and_sees_pending)
{
    store *s = store_new();
    put_str(s, "a", "1");
    put_str(s, "b", "2");
    store_sync(s);
    store_del(s, "a");
    put_str(s, "c", "3");
    struct visit_log log = { 0 };
    store_scan(s, "", log_visit, &log);
    ck_assert_str_eq(log.text, "b=2;c=3;");
    store_crash(s);
    memset(&log, 0, sizeof log);
    store_scan(s, "", log_visit, &log);
    ck_assert_str_eq(log.text, "a=1;b=2;");
    store_free(s);
}
END_TEST

/* Deletes every key it visits (and all never-synced keys are freed). */
static int delete_visited(void *arg, const char *key, const void *val, size_t len)
{
    struct visit_log *log = arg;
    log_visit(log, key, val, len);
    store_del(log->s, key);
    store_sync(log->s);
    return 0;
}

START_TEST(test_scan_survives_visitor_deleting_keys)
{
    store *s = store_new();
    put_str(s, "a", "1");
    put_str(s, "b", "2");
    put_str(s, "c", "3");
    struct visit_log log = { .s = s };
    store_scan(s, "", delete_visited, &log);
    ck_assert_str_eq(log.text, "a=1;b=2;c=3;");
    ck_assert_uint_eq(store_count(s), 0);
    store_free(s);
}
END_TEST

/* ---- against a reference model ------------------------------------------ */

#define REF_KEYS 40

struct ref_slot {
    int latest;    /* -1 absent, else value number */
    int durable;
};

START_TEST(test_random_ops_match_reference_model)
{
    store *s = store_new();
    struct ref_slot ref[REF_KEYS];
    for (int k = 0; k < REF_KEYS; k++)
        ref[k].latest = ref[k].durable = -1;
    rand_state = 7;
    char key[16], val[16];
    for (int step = 0; step < 20000; step++) {
        int k = (int)next_rand(REF_KEYS);
        snprintf(key, sizeof key, "k%03d", k);
        uint32_t op = next_rand(100);
        if (op < 50) {
            int v = (int)next_rand(5);
            snprintf(val, sizeof val, "v%d", v);
            put_str(s, key, val);
            ref[k].latest = v;
        } else if (op < 80) {
            store_del(s, key);
            ref[k].latest = -1;
        } else if (op < 90) {
            store_sync(s);
            for (int j = 0; j < REF_KEYS; j++)
                ref[j].durable = ref[j].latest;
        } else {
            store_crash(s);
            for (int j = 0; j < REF_KEYS; j++)
                ref[j].latest = ref[j].durable;
        }
        size_t count = 0, pending = 0;
        for (int j = 0; j < REF_KEYS; j++) {
            snprintf(key, sizeof key, "k%03d", j);
            const char *got = get_str(s, key);
            if (ref[j].latest < 0) {
                ck_assert_msg(got == NULL, "step %d: %s should be absent", step, key);
            } else {
                snprintf(val, sizeof val, "v%d", ref[j].latest);
                ck_assert_msg(got && strcmp(got, val) == 0, "step %d: %s", step, key);
                count++;
            }
            pending += ref[j].latest != ref[j].durable;
        }
        ck_assert_uint_eq(store_count(s), count);
        ck_assert_uint_eq(store_pending(s), pending);
    }
    /* a full scan agrees with the reference, in order */
    struct visit_log log = { 0 };
    store_scan(s, "", log_visit, &log);
    char expect[1024] = "";
    for (int j = 0; j < REF_KEYS; j++)
        if (ref[j].latest >= 0) {
            size_t used = strlen(expect);
            snprintf(expect + used, sizeof expect - used, "k%03d=v%d;", j, ref[j].latest);
        }
    ck_assert_str_eq(log.text, expect);
    store_free(s);
}
END_TEST

struct order_check {
    char prev[16];
    int visits;
    int out_of_order;
};

static int check_order(void *arg, const char *key, const void *val, size_t len)
{
    struct order_check *st = arg;
    if (st->visits > 0 && strcmp(st->prev, key) >= 0)
        st->out_of_order++;
    if (len != strlen(key) || memcmp(val, key, len) != 0)
        st->out_of_order++;
    snprintf(st->prev, sizeof st->prev, "%s", key);
    st->visits++;
    return 0;
}

START_TEST(test_many_keys_stay_sorted)
{
    store *s = store_new();
    rand_state = 99;
    char key[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "%08x", next_rand(UINT32_MAX));
        put_str(s, key, key);
        if (i % 7 == 0)
            store_sync(s);
    }
    size_t count = store_count(s);
    ck_assert_uint_gt(count, 4900);
    struct order_check st = { "", 0, 0 };
    store_scan(s, "", check_order, &st);
    ck_assert_int_eq(st.out_of_order, 0);
    ck_assert_uint_eq((size_t)st.visits, count);
    store_free(s);
}
END_TEST

/* A log: keys appended in increasing order (the append fast path), then
 * runs removed at once by one sync (the batched settle): the lowest keys
 * (a compaction), every third key, the highest keys (a truncation) and a
 * pending put deleted again before the sync. What is left is exactly the
 * kept keys, in order, with their values, and survives a crash. */
START_TEST(test_batched_removals_keep_the_rest_in_order)
{
    store *s = store_new();
    char key[32], val[32];   /* every value is its key (check_order wants that) */
    enum { N = 600 };
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "log/%08d", i);
        snprintf(val, sizeof val, "log/%08d", i);
        put_str(s, key, val);
    }
    store_sync(s);
    ck_assert_uint_eq(store_count(s), N);
    put_str(s, "log/99999999", "log/99999999");   /* put then deleted: never synced */
    for (int i = 0; i < N; i++) {
        if (i < 100 || i % 3 == 0 || i >= N - 50) {
            snprintf(key, sizeof key, "log/%08d", i);
            store_del(s, key);
        }
    }
    store_del(s, "log/99999999");
    store_sync(s);
    int kept = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "log/%08d", i);
        bool gone = i < 100 || i % 3 == 0 || i >= N - 50;
        if (gone) {
            ck_assert_ptr_null(get_str(s, key));
        } else {
            snprintf(val, sizeof val, "log/%08d", i);
            ck_assert_str_eq(get_str(s, key), val);
            kept++;
        }
    }
    ck_assert_ptr_null(get_str(s, "log/99999999"));
    ck_assert_uint_eq(store_count(s), (size_t)kept);
    struct order_check st = { "", 0, 0 };
    store_scan(s, "", check_order, &st);
    ck_assert_int_eq(st.out_of_order, 0);
    ck_assert_int_eq(st.visits, kept);
    /* the array is sound after the removals: inserts in the gaps, a crash */
    put_str(s, "log/00000003", "log/00000003");
    put_str(s, "log/00000000", "log/00000000");
    store_sync(s);
    put_str(s, "log/00000001", "log/00000001");
    store_crash(s);
    ck_assert_str_eq(get_str(s, "log/00000000"), "log/00000000");
    ck_assert_str_eq(get_str(s, "log/00000003"), "log/00000003");
    ck_assert_ptr_null(get_str(s, "log/00000001"));
    ck_assert_uint_eq(store_count(s), (size_t)kept + 2);
    st = (struct order_check){ "", 0, 0 };
    store_scan(s, "", check_order, &st);
    ck_assert_int_eq(st.out_of_order, 0);
    ck_assert_int_eq(st.visits, kept + 2);
    store_free(s);
}
END_TEST

static Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_get_returns_latest_put);
    tcase_add_test(tc, test_absent_key_gives_null_and_zero_length);
    tcase_add_test(tc, test_values_are_copied_in);
    tcase_add_test(tc, test_binary_values_keep_their_length_and_bytes);
    tcase_add_test(tc, test_empty_value_is_present);
    tcase_add_test(tc, test_put_may_copy_from_the_store_itself);
    tcase_add_test(tc, test_delete_hides_key);
    tcase_add_test(tc, test_crash_loses_unsynced_writes);
    tcase_add_test(tc, test_sync_makes_writes_survive_crash);
    tcase_add_test(tc, test_crash_reverts_pending_overwrite_to_synced_value);
    tcase_add_test(tc, test_crash_undoes_pending_delete_of_synced_key);
    tcase_add_test(tc, test_synced_delete_survives_crash);
    tcase_add_test(tc, test_delete_then_put_after_sync_survives_crash_only_if_synced);
    tcase_add_test(tc, test_pending_counts_keys_a_crash_would_change);
    tcase_add_test(tc, test_repeated_crashes_keep_synced_state);
    tcase_add_test(tc, test_scan_visits_keys_in_key_order);
    tcase_add_test(tc, test_scan_visits_only_keys_with_prefix);
    tcase_add_test(tc, test_scan_stops_when_visitor_returns_nonzero);
    tcase_add_test(tc, test_scan_skips_deleted_and_sees_pending);
    tcase_add_test(tc, test_scan_survives_visitor_deleting_keys);
    tcase_add_test(tc, test_random_ops_match_reference_model);
    tcase_add_test(tc, test_many_keys_stay_sorted);
    tcase_add_test(tc, test_batched_removals_keep_the_rest_in_order);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(store_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
