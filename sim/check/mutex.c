/* mutual_exclusion: did the lock keep its holders' writes apart?
 *
 * Reads the lock model's notes (docs/models/lock.md): "granted" (the server
 * gave the lock to a worker with a fencing token), "acquired", "released"
 * and "lease_over" (a worker started and stopped believing it held the
 * lock), and "storage_write" (the storage accepted or, fencing, rejected a
 * worker's write with its token).
 *
 * The verdict is decided at the storage: the lock is violated when the
 * storage accepted a write with token a after the server had already
 * granted the lock with a newer token b > a, that is, a worker wrote as the
 * holder when the lock was another's (a GC pause, a fast server clock).
 * Fencing rejects such a write when the newer holder has already written
 * (the storage has seen its token); a late write that arrives before the
 * newer holder's first write still gets through, and is still reported.
 * Reported as observations, not failures: intervals in which two workers
 * each believed they held the lock (from acquired to released or
 * lease_over), and the writes the storage rejected by fencing. */
#include "checker.h"
#include "alloc.h"
#include "jread.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MX_SHOW 10

struct belief {
    int node;                   /* the worker, index into names */
    int64_t token;
    int64_t start, end;         /* ns; end = the trace's end if never stopped */
};

struct grant {
    int64_t token, t;
    char worker[32];
};

static int64_t ni(const cJSON *o, const char *k, int64_t dflt)
{
    return jr_i64(o, k, dflt);
}

static const char *ns(const cJSON *o, const char *k)
{
    return jr_str(o, k, "?");
}

static const char *name_of(const struct trace_facts *f, int node)
{
    return node >= 0 && node < f->n_names ? f->names[node] : "?";
}

static double msec(int64_t t)
{
    return (double)t / 1e6;
}

static int run_mutex(const struct check_input *in, struct check_result *out)
{
    const struct trace_facts *f = in->facts;
    struct belief *bel = NULL;
    struct grant *gr = NULL;
    size_t n_bel = 0, cap_bel = 0, n_gr = 0, cap_gr = 0;
    size_t writes = 0, rejected = 0, bad = 0, overlaps = 0;
    int64_t top = 0, top_t = 0;          /* the newest token the storage accepted, and when */
    char top_worker[32] = "";
    char first[700] = "";
    jw *j = &out->evidence;
    jw_obj(j);
    jw_key(j, "violations");
    jw_arr(j);
    for (size_t i = 0; f && i < f->n_notes; i++) {
        const struct trace_note *t = &f->notes[i];
        if (strcmp(t->what, "granted") == 0) {
            SIM_GROW(gr, cap_gr, n_gr + 1);
            gr[n_gr] = (struct grant){ .token = ni(t->obj, "token", 0), .t = t->t };
            snprintf(gr[n_gr].worker, sizeof gr[n_gr].worker, "%s", ns(t->obj, "worker"));
            n_gr++;
        } else if (strcmp(t->what, "acquired") == 0) {
            SIM_GROW(bel, cap_bel, n_bel + 1);
            bel[n_bel++] = (struct belief){ .node = t->node, .token = ni(t->obj, "token", 0), .start = t->t,
                                            .end = INT64_MAX };
        } else if (strcmp(t->what, "released") == 0 || strcmp(t->what, "lease_over") == 0) {
            int64_t token = ni(t->obj, "token", 0);
            for (size_t k = n_bel; k-- > 0;)
                if (bel[k].node == t->node && bel[k].token == token && bel[k].end == INT64_MAX) {
                    bel[k].end = t->t;
                    break;
                }
        } else if (strcmp(t->what, "storage_write") == 0) {
            int64_t token = ni(t->obj, "token", 0);
            const char *worker = ns(t->obj, "worker");
            writes++;
            if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t->obj, "accepted"))) {
                rejected++;
                if (rejected <= MX_SHOW)
                    check_text(out, "fenced: the storage rejected %s's write with token %lld at %.3f ms "
                               "(it had seen token %lld)", worker, (long long)token, msec(t->t),
                               (long long)ni(t->obj, "highest", 0));
                continue;
            }
            /* the first grant of a newer token before this write landed:
             * the server had given the lock away, so this writer was no
             * holder any more */
            const struct grant *newer = NULL;
            for (size_t k = 0; k < n_gr; k++)
                if (gr[k].token > token && gr[k].t <= t->t) {
                    newer = &gr[k];
                    break;
                }
            if (newer) {
                char text[700], wrote[160] = "";
                if (top > token)
                    check_say(wrote, sizeof wrote, ", and %s had already written with token %lld at %.3f ms, "
                              "which this write overwrote", top_worker, (long long)top, msec(top_t));
                check_say(text, sizeof text,
                          "%s wrote with token %lld at %.3f ms, but the lock server had granted the lock to %s "
                          "with token %lld at %.3f ms%s: two workers acted as the lock's holder at once",
                          worker, (long long)token, msec(t->t), newer->worker, (long long)newer->token,
                          msec(newer->t), wrote);
                bad++;
                if (!first[0])
                    snprintf(first, sizeof first, "%s", text);
                if (bad <= MX_SHOW) {
                    jw_obj(j);
                    jw_kstr(j, "worker", worker);
                    jw_kint(j, "token", token);
                    jw_kint(j, "t", t->t);
                    jw_kstr(j, "newer_worker", newer->worker);
                    jw_kint(j, "newer_token", newer->token);
                    jw_kint(j, "newer_granted", newer->t);
                    jw_kbool(j, "overwrote_newer", top > token);
                    jw_kstr(j, "text", text);
                    jw_obj_end(j);
                    check_text(out, "%s", text);
                }
            }
            if (token >= top) {
                top = token;
                top_t = t->t;
                snprintf(top_worker, sizeof top_worker, "%s", worker);
            }
        }
    }
    jw_arr_end(j);
    if (n_gr == 0 && n_bel == 0) {
        jw_obj_end(j);
        out->verdict = CHECK_SKIPPED;
        check_say(out->reason, sizeof out->reason,
                  "no lock grants in this trace (no granted or acquired notes, as the lock model writes): "
                  "nothing to judge");
        sim_free(bel);
        sim_free(gr);
        return 0;
    }
    /* beliefs that overlap: the lock did not keep the workers' minds apart */
    int64_t end = f->end_time;
    jw_key(j, "overlaps");
    jw_arr(j);
    for (size_t a = 0; a < n_bel; a++)
        for (size_t b = a + 1; b < n_bel; b++) {
            if (bel[a].node == bel[b].node)
                continue;
            int64_t ea = bel[a].end == INT64_MAX ? end : bel[a].end;
            int64_t eb = bel[b].end == INT64_MAX ? end : bel[b].end;
            int64_t from = bel[a].start > bel[b].start ? bel[a].start : bel[b].start;
            int64_t to = ea < eb ? ea : eb;
            if (from >= to)
                continue;
            overlaps++;
            if (overlaps > MX_SHOW)
                continue;
            jw_obj(j);
            jw_kstr(j, "a", name_of(f, bel[a].node));
            jw_kint(j, "a_token", bel[a].token);
            jw_kstr(j, "b", name_of(f, bel[b].node));
            jw_kint(j, "b_token", bel[b].token);
            jw_kint(j, "from", from);
            jw_kint(j, "to", to);
            jw_obj_end(j);
            check_text(out, "observation: %s (token %lld) and %s (token %lld) both believed they held the lock "
                       "from %.3f to %.3f ms", name_of(f, bel[a].node), (long long)bel[a].token,
                       name_of(f, bel[b].node), (long long)bel[b].token, msec(from), msec(to));
        }
    jw_arr_end(j);
    jw_kint(j, "grants", (int64_t)n_gr);
    jw_kint(j, "writes", (int64_t)writes);
    jw_kint(j, "rejected", (int64_t)rejected);
    jw_kint(j, "overlapping_beliefs", (int64_t)overlaps);
    jw_kint(j, "violated", (int64_t)bad);
    jw_obj_end(j);
    if (bad) {
        out->verdict = CHECK_VIOLATED;
        check_say(out->reason, sizeof out->reason, "%zu write%s broke the lock: %s", bad, bad == 1 ? "" : "s",
                  first);
    } else {
        out->verdict = CHECK_HOLDS;
        check_say(out->reason, sizeof out->reason,
                  "the storage accepted no write from a worker whose lock had already been granted to another "
                  "(%zu grants, %zu writes, %zu rejected by fencing); %zu time%s two workers both believed they "
                  "held the lock",
                  n_gr, writes, rejected, overlaps, overlaps == 1 ? "" : "s");
    }
    sim_free(bel);
    sim_free(gr);
    return 0;
}

const struct checker mutual_exclusion_checker = {
    "mutual_exclusion", "the storage accepted no write from a worker whose lock the server had already granted to "
    "another (overlapping beliefs and fenced writes as observations)",
    true, run_mutex, true,
};
