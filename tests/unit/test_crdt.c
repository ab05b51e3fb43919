/* Properties of the CRDT merges (models/crdt.c), over random histories.
 *
 * Each test plays random histories with fixed PCG32 seeds: a few replicas
 * apply random operations and merge each other's states at random. Every
 * state a replica passes through goes into a pool, and the properties are
 * checked over random pairs and triples of pooled states:
 *
 *   - merge is commutative: a ⊔ b == b ⊔ a (as bytes);
 *   - associative: (a ⊔ b) ⊔ c == a ⊔ (b ⊔ c);
 *   - idempotent: a ⊔ a == a, and a ⊔ b ⊔ b == a ⊔ b;
 *   - an upper bound: a <= a ⊔ b and b <= a ⊔ b;
 *   - the value a state shows is what the operations it has seen imply: a
 *     reference model (a set of seen operation ids per replica, merged by
 *     union) says which operations each state has seen.
 *
 * States are compared as bytes because equal states must be equal bytes:
 * that is what lets the simulator's converges checker compare replicas. */
#include "models/crdt.h"
#include "pcg.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define REPLICAS 4
#define STEPS 80
#define HISTORIES 12
#define POOL (HISTORIES * STEPS)
#define MAX_OPS STEPS
#define CHECKS 600

/* ---- the reference: which operations a replica has seen ------------------- */

struct op {
    int node;
    int kind;          /* counters: 0 add; sets: 0 add, 1 remove; lww: 0 set */
    int64_t arg;       /* increment, element, or value */
    int64_t ts;        /* lww */
    bool killed[MAX_OPS];  /* set remove: the adds of arg it saw */
};

struct ref {
    bool seen[MAX_OPS];
};

static struct op ops[MAX_OPS];
static int n_ops;

static void ref_merge(struct ref *into, const struct ref *other)
{
    for (int i = 0; i < MAX_OPS; i++)
        into->seen[i] |= other->seen[i];
}

/* ---- G-counter ---------------------------------------------------------- */

static struct crdt_gcounter gpool[POOL];
static struct ref gref[POOL];
static int gpool_n;

static void gcounter_histories(uint64_t seed)
{
    pcg32 rng;
    pcg32_seed(&rng, seed, 7);
    gpool_n = 0;
    for (int h = 0; h < HISTORIES; h++) {
        struct crdt_gcounter rep[REPLICAS];
        struct ref rr[REPLICAS];
        memset(rr, 0, sizeof rr);
        n_ops = 0;
        for (int r = 0; r < REPLICAS; r++)
            crdt_gcounter_init(&rep[r], REPLICAS);
        for (int step = 0; step < STEPS; step++) {
            int r = (int)pcg32_below(&rng, REPLICAS);
            if (pcg32_below(&rng, 3) == 0) {
                int from = (int)pcg32_below(&rng, REPLICAS);
                crdt_gcounter_merge(&rep[r], &rep[from]);
                ref_merge(&rr[r], &rr[from]);
            } else {
                int64_t inc = pcg32_range(&rng, 0, 9);
                ck_assert_int_eq(crdt_gcounter_add(&rep[r], r, inc), 0);
                ops[n_ops] = (struct op){ .node = r, .arg = inc };
                rr[r].seen[n_ops++] = true;
            }
            gpool[gpool_n] = rep[r];
            gref[gpool_n++] = rr[r];
        }
        /* the value: exactly the increments seen */
        for (int i = gpool_n - STEPS; i < gpool_n; i++) {
            uint64_t sum = 0;
            for (int k = 0; k < n_ops; k++)
                if (gref[i].seen[k])
                    sum += (uint64_t)ops[k].arg;
            ck_assert_uint_eq(crdt_gcounter_value(&gpool[i]), sum);
        }
        /* everybody merged: the sum of every increment */
        struct crdt_gcounter all = rep[0];
        uint64_t total = 0;
        for (int r = 1; r < REPLICAS; r++)
            crdt_gcounter_merge(&all, &rep[r]);
        for (int k = 0; k < n_ops; k++)
            total += (uint64_t)ops[k].arg;
        ck_assert_uint_eq(crdt_gcounter_value(&all), total);
    }
}

START_TEST(test_gcounter_merge_is_a_join_and_counts_every_increment_once)
{
    gcounter_histories(1);
    pcg32 rng;
    pcg32_seed(&rng, 2, 9);
    for (int t = 0; t < CHECKS; t++) {
        const struct crdt_gcounter *a = &gpool[pcg32_below(&rng, (uint32_t)gpool_n)];
        const struct crdt_gcounter *b = &gpool[pcg32_below(&rng, (uint32_t)gpool_n)];
        const struct crdt_gcounter *c = &gpool[pcg32_below(&rng, (uint32_t)gpool_n)];
        struct crdt_gcounter ab = *a, ba = *b, ab_c, a_bc, bc = *b, aa = *a, abb;
        crdt_gcounter_merge(&ab, b);
        crdt_gcounter_merge(&ba, a);
        ck_assert_mem_eq(&ab, &ba, sizeof ab);
        ab_c = ab;
        crdt_gcounter_merge(&ab_c, c);
        crdt_gcounter_merge(&bc, c);
        a_bc = *a;
        crdt_gcounter_merge(&a_bc, &bc);
        ck_assert_mem_eq(&ab_c, &a_bc, sizeof ab_c);
        crdt_gcounter_merge(&aa, a);
        ck_assert_mem_eq(&aa, a, sizeof aa);
        abb = ab;
        crdt_gcounter_merge(&abb, b);
        ck_assert_mem_eq(&abb, &ab, sizeof ab);
        ck_assert(crdt_gcounter_leq(a, &ab) && crdt_gcounter_leq(b, &ab));
        ck_assert(crdt_gcounter_valid(&ab, sizeof ab));
    }
}
END_TEST

START_TEST(test_gcounter_refuses_to_shrink)
{
    struct crdt_gcounter g;
    crdt_gcounter_init(&g, 3);
    ck_assert_int_eq(crdt_gcounter_add(&g, 1, 5), 0);
    ck_assert_int_eq(crdt_gcounter_add(&g, 1, -1), -1);
    ck_assert_int_eq(crdt_gcounter_add(&g, 3, 1), -1);   /* node out of range */
    ck_assert_uint_eq(crdt_gcounter_value(&g), 5);
    g.c[5] = 1;   /* an entry beyond n: not a well-formed state */
    ck_assert(!crdt_gcounter_valid(&g, sizeof g));
}
END_TEST

/* ---- PN-counter --------------------------------------------------------- */

static struct crdt_pncounter ppool[POOL];
static struct ref pref[POOL];
static int ppool_n;

START_TEST(test_pncounter_merge_is_a_join_and_value_is_increments_minus_decrements)
{
    pcg32 rng;
    pcg32_seed(&rng, 3, 7);
    ppool_n = 0;
    for (int h = 0; h < HISTORIES; h++) {
        struct crdt_pncounter rep[REPLICAS];
        struct ref rr[REPLICAS];
        memset(rr, 0, sizeof rr);
        n_ops = 0;
        for (int r = 0; r < REPLICAS; r++)
            crdt_pncounter_init(&rep[r], REPLICAS);
        for (int step = 0; step < STEPS; step++) {
            int r = (int)pcg32_below(&rng, REPLICAS);
            if (pcg32_below(&rng, 3) == 0) {
                int from = (int)pcg32_below(&rng, REPLICAS);
                crdt_pncounter_merge(&rep[r], &rep[from]);
                ref_merge(&rr[r], &rr[from]);
            } else {
                int64_t d = pcg32_range(&rng, -9, 9);
                ck_assert_int_eq(crdt_pncounter_add(&rep[r], r, d), 0);
                ops[n_ops] = (struct op){ .node = r, .arg = d };
                rr[r].seen[n_ops++] = true;
            }
            ppool[ppool_n] = rep[r];
            pref[ppool_n] = rr[r];
            int64_t sum = 0;
            for (int k = 0; k < n_ops; k++)
                if (rr[r].seen[k])
                    sum += ops[k].arg;
            ck_assert_int_eq(crdt_pncounter_value(&ppool[ppool_n]), sum);
            ppool_n++;
        }
    }
    for (int t = 0; t < CHECKS; t++) {
        const struct crdt_pncounter *a = &ppool[pcg32_below(&rng, (uint32_t)ppool_n)];
        const struct crdt_pncounter *b = &ppool[pcg32_below(&rng, (uint32_t)ppool_n)];
        const struct crdt_pncounter *c = &ppool[pcg32_below(&rng, (uint32_t)ppool_n)];
        struct crdt_pncounter ab = *a, ba = *b, bc = *b, a_bc = *a, ab_c, aa = *a;
        crdt_pncounter_merge(&ab, b);
        crdt_pncounter_merge(&ba, a);
        ck_assert_mem_eq(&ab, &ba, sizeof ab);
        ab_c = ab;
        crdt_pncounter_merge(&ab_c, c);
        crdt_pncounter_merge(&bc, c);
        crdt_pncounter_merge(&a_bc, &bc);
        ck_assert_mem_eq(&ab_c, &a_bc, sizeof ab_c);
        crdt_pncounter_merge(&aa, a);
        ck_assert_mem_eq(&aa, a, sizeof aa);
        ck_assert(crdt_pncounter_leq(a, &ab) && crdt_pncounter_leq(b, &ab));
        ck_assert(crdt_pncounter_valid(&ab, sizeof ab));
    }
}
END_TEST

/* ---- OR-set ------------------------------------------------------------- */

#define ELEMS 6

static struct crdt_orset spool[POOL];
static struct ref sref[POOL];
static int spool_n;

/* The reference's verdict: elem is in the set a replica that has seen
 * `seen` holds iff some add of elem it has seen was not killed by a remove
 * it has seen. */
static bool ref_contains(const struct ref *seen, int64_t elem)
{
    for (int a = 0; a < n_ops; a++) {
        if (!seen->seen[a] || ops[a].kind != 0 || ops[a].arg != elem)
            continue;
        bool killed = false;
        for (int r = 0; r < n_ops && !killed; r++)
            killed = seen->seen[r] && ops[r].kind == 1 && ops[r].killed[a];
        if (!killed)
            return true;
    }
    return false;
}

static void orset_histories(uint64_t seed)
{
    pcg32 rng;
    pcg32_seed(&rng, seed, 11);
    spool_n = 0;
    for (int h = 0; h < HISTORIES; h++) {
        static struct crdt_orset rep[REPLICAS];
        struct ref rr[REPLICAS];
        memset(rr, 0, sizeof rr);
        n_ops = 0;
        for (int r = 0; r < REPLICAS; r++)
            crdt_orset_init(&rep[r], REPLICAS);
        for (int step = 0; step < STEPS; step++) {
            int r = (int)pcg32_below(&rng, REPLICAS);
            uint32_t what = pcg32_below(&rng, 4);
            int64_t e = pcg32_range(&rng, 1, ELEMS);
            if (what == 0) {
                int from = (int)pcg32_below(&rng, REPLICAS);
                ck_assert_int_eq(crdt_orset_merge(&rep[r], &rep[from]), 0);
                ref_merge(&rr[r], &rr[from]);
            } else if (what <= 2) {
                ck_assert_int_eq(crdt_orset_add(&rep[r], r, e), 0);
                memset(&ops[n_ops], 0, sizeof ops[n_ops]);
                ops[n_ops].node = r;
                ops[n_ops].arg = e;
                rr[r].seen[n_ops++] = true;
            } else {
                crdt_orset_remove(&rep[r], e);
                memset(&ops[n_ops], 0, sizeof ops[n_ops]);
                ops[n_ops].node = r;
                ops[n_ops].kind = 1;
                ops[n_ops].arg = e;
                for (int a = 0; a < n_ops; a++)
                    ops[n_ops].killed[a] = rr[r].seen[a] && ops[a].kind == 0 && ops[a].arg == e;
                rr[r].seen[n_ops++] = true;
            }
            spool[spool_n] = rep[r];
            sref[spool_n] = rr[r];
            for (int64_t x = 1; x <= ELEMS; x++)
                ck_assert_msg(crdt_orset_contains(&rep[r], x) == ref_contains(&rr[r], x),
                              "history %d step %d: element %lld", h, step, (long long)x);
            ck_assert(crdt_orset_valid(&rep[r], sizeof rep[r]));
            spool_n++;
        }
    }
}

START_TEST(test_orset_merge_is_a_join_and_add_wins)
{
    orset_histories(5);
    pcg32 rng;
    pcg32_seed(&rng, 6, 9);
    static struct crdt_orset ab, ba, bc, ab_c, a_bc, aa;
    for (int t = 0; t < CHECKS; t++) {
        int ia = (int)pcg32_below(&rng, (uint32_t)spool_n);
        int ib = (int)pcg32_below(&rng, (uint32_t)spool_n);
        int ic = (int)pcg32_below(&rng, (uint32_t)spool_n);
        /* states of different histories share no causal past: only
         * states of one history are merged */
        ib = ia / STEPS * STEPS + ib % STEPS;
        ic = ia / STEPS * STEPS + ic % STEPS;
        const struct crdt_orset *a = &spool[ia], *b = &spool[ib], *c = &spool[ic];
        ab = *a;
        ba = *b;
        ck_assert_int_eq(crdt_orset_merge(&ab, b), 0);
        ck_assert_int_eq(crdt_orset_merge(&ba, a), 0);
        ck_assert_mem_eq(&ab, &ba, sizeof ab);
        ab_c = ab;
        ck_assert_int_eq(crdt_orset_merge(&ab_c, c), 0);
        bc = *b;
        ck_assert_int_eq(crdt_orset_merge(&bc, c), 0);
        a_bc = *a;
        ck_assert_int_eq(crdt_orset_merge(&a_bc, &bc), 0);
        ck_assert_mem_eq(&ab_c, &a_bc, sizeof ab_c);
        aa = *a;
        ck_assert_int_eq(crdt_orset_merge(&aa, a), 0);
        ck_assert_mem_eq(&aa, a, sizeof aa);
        ck_assert(crdt_orset_leq(a, &ab) && crdt_orset_leq(b, &ab));
        ck_assert(crdt_orset_valid(&ab, sizeof ab));
    }
}
END_TEST

START_TEST(test_orset_concurrent_add_beats_remove)
{
    static struct crdt_orset a, b;
    crdt_orset_init(&a, 2);
    ck_assert_int_eq(crdt_orset_add(&a, 0, 7), 0);
    b = a;                                  /* both have seen the add */
    ck_assert_int_eq(crdt_orset_remove(&a, 7), 1);   /* a removes it ... */
    ck_assert_int_eq(crdt_orset_add(&b, 1, 7), 0);   /* ... while b adds it again */
    ck_assert_int_eq(crdt_orset_merge(&a, &b), 0);
    ck_assert(crdt_orset_contains(&a, 7));
    /* a remove that saw every add wins */
    ck_assert_int_eq(crdt_orset_remove(&a, 7), 1);
    ck_assert_int_eq(crdt_orset_merge(&b, &a), 0);
    ck_assert(!crdt_orset_contains(&b, 7));
    int64_t out[4];
    ck_assert_int_eq(crdt_orset_elements(&b, out, 4), 0);
}
END_TEST

START_TEST(test_orset_elements_are_sorted_and_distinct)
{
    static struct crdt_orset s, t;
    crdt_orset_init(&s, 3);
    crdt_orset_init(&t, 3);
    crdt_orset_add(&s, 0, 9);
    crdt_orset_add(&s, 0, -2);
    crdt_orset_add(&t, 2, 9);
    crdt_orset_add(&t, 1, 4);
    crdt_orset_merge(&s, &t);
    int64_t out[8];
    ck_assert_int_eq(crdt_orset_elements(&s, out, 8), 3);
    ck_assert_int_eq(out[0], -2);
    ck_assert_int_eq(out[1], 4);
    ck_assert_int_eq(out[2], 9);
    /* a dot beyond its node's context is not a well-formed state */
    s.dots[0].seq = 99;
    ck_assert(!crdt_orset_valid(&s, sizeof s));
}
END_TEST

/* ---- LWW-register ------------------------------------------------------- */

static struct crdt_lwwreg lpool[POOL];

START_TEST(test_lwwreg_merge_is_a_join_and_keeps_the_newest_stamp)
{
    pcg32 rng;
    pcg32_seed(&rng, 8, 7);
    int n = 0;
    for (int h = 0; h < HISTORIES; h++) {
        struct crdt_lwwreg rep[REPLICAS];
        struct ref rr[REPLICAS];
        memset(rr, 0, sizeof rr);
        n_ops = 0;
        for (int r = 0; r < REPLICAS; r++)
            crdt_lwwreg_init(&rep[r]);
        for (int step = 0; step < STEPS; step++) {
            int r = (int)pcg32_below(&rng, REPLICAS);
            if (pcg32_below(&rng, 3) == 0) {
                int from = (int)pcg32_below(&rng, REPLICAS);
                crdt_lwwreg_merge(&rep[r], &rep[from]);
                ref_merge(&rr[r], &rr[from]);
            } else {
                /* small stamps so that ties between nodes happen */
                int64_t ts = pcg32_range(&rng, 0, 20), v = pcg32_range(&rng, 0, 1000);
                crdt_lwwreg_set(&rep[r], ts, r, v);
                ops[n_ops] = (struct op){ .node = r, .arg = v, .ts = ts };
                rr[r].seen[n_ops++] = true;
            }
            /* the value is the seen write with the largest (ts, node, value) */
            int best = -1;
            for (int k = 0; k < n_ops; k++) {
                if (!rr[r].seen[k])
                    continue;
                const struct op *o = &ops[k], *b = best >= 0 ? &ops[best] : NULL;
                if (!b || o->ts > b->ts || (o->ts == b->ts && (o->node > b->node
                        || (o->node == b->node && o->arg > b->arg))))
                    best = k;
            }
            ck_assert_int_eq(rep[r].has, best >= 0);
            if (best >= 0)
                ck_assert_int_eq(rep[r].value, ops[best].arg);
            lpool[n++] = rep[r];
        }
    }
    for (int t = 0; t < CHECKS; t++) {
        const struct crdt_lwwreg *a = &lpool[pcg32_below(&rng, (uint32_t)n)];
        const struct crdt_lwwreg *b = &lpool[pcg32_below(&rng, (uint32_t)n)];
        const struct crdt_lwwreg *c = &lpool[pcg32_below(&rng, (uint32_t)n)];
        struct crdt_lwwreg ab = *a, ba = *b, bc = *b, a_bc = *a, ab_c, aa = *a;
        crdt_lwwreg_merge(&ab, b);
        crdt_lwwreg_merge(&ba, a);
        ck_assert_mem_eq(&ab, &ba, sizeof ab);
        ab_c = ab;
        crdt_lwwreg_merge(&ab_c, c);
        crdt_lwwreg_merge(&bc, c);
        crdt_lwwreg_merge(&a_bc, &bc);
        ck_assert_mem_eq(&ab_c, &a_bc, sizeof ab_c);
        ck_assert(!crdt_lwwreg_merge(&aa, a));
        ck_assert_mem_eq(&aa, a, sizeof aa);
        ck_assert(crdt_lwwreg_valid(&ab, sizeof ab));
    }
}
END_TEST

START_TEST(test_lwwreg_write_with_an_older_stamp_is_lost)
{
    struct crdt_lwwreg r;
    crdt_lwwreg_init(&r);
    ck_assert(crdt_lwwreg_set(&r, 100, 0, 1));
    ck_assert(!crdt_lwwreg_set(&r, 90, 1, 2));    /* later in real time, older stamp */
    ck_assert_int_eq(r.value, 1);
    ck_assert(crdt_lwwreg_set(&r, 100, 1, 3));    /* same stamp: the larger node wins */
    ck_assert_int_eq(r.value, 3);
}
END_TEST

static Suite *crdt_suite(void)
{
    Suite *s = suite_create("crdt");
    TCase *tc = tcase_create("properties");
    tcase_add_test(tc, test_gcounter_merge_is_a_join_and_counts_every_increment_once);
    tcase_add_test(tc, test_gcounter_refuses_to_shrink);
    tcase_add_test(tc, test_pncounter_merge_is_a_join_and_value_is_increments_minus_decrements);
    tcase_add_test(tc, test_orset_merge_is_a_join_and_add_wins);
    tcase_add_test(tc, test_orset_concurrent_add_beats_remove);
    tcase_add_test(tc, test_orset_elements_are_sorted_and_distinct);
    tcase_add_test(tc, test_lwwreg_merge_is_a_join_and_keeps_the_newest_stamp);
    tcase_add_test(tc, test_lwwreg_write_with_an_older_stamp_is_lost);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(crdt_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
