/* explain: sim run --explain narrates a run in plain words from its trace
 * lines, as they are written. It keeps just enough to tell a stale read:
 * per key, every write with its invoke and completion times. */
#include "explain.h"
#include "core/alloc.h"
#include "trace/jread.h"

#include <cjson/cJSON.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Sentences of one kind shown before the rest of that kind is only counted. */
#define EXPLAIN_CAP 20
#define EXPLAIN_NEVER INT64_MAX

struct ex_write {
    int64_t value;
    int64_t invoked, completed;     /* ns; completed EXPLAIN_NEVER until ok */
    int64_t op;
    bool failed;
    char client[16];
};

struct ex_key {
    char name[64];
    struct ex_write *writes;
    size_t n_writes, cap_writes;
};

struct ex_op {                      /* an operation under way, by op id */
    int64_t op, invoked;
    size_t key;                     /* index into keys */
    size_t write;                   /* index into that key's writes, or SIZE_MAX */
};

struct ex_kind {
    char name[32];
    long shown, hidden;
};

struct ex_role {
    char node[16];
    char role[16];
};

struct explain {
    FILE *out;
    struct ex_key *keys;
    size_t n_keys, cap_keys;
    struct ex_op *ops;
    size_t n_ops, cap_ops;
    struct ex_kind kinds[32];
    int n_kinds;
    struct ex_role roles[64];
    int n_roles;
    char cuts[512];                 /* one-way cuts told together: "n2->n3, n2->n4" */
    int n_cuts;
    int64_t cuts_at;
};

explain *explain_new(FILE *out)
{
    explain *ex = sim_xcalloc(1, sizeof *ex);
    ex->out = out;
    return ex;
}

static const char *kind_plural(const char *kind)
{
    static const struct { const char *kind, *plural; } names[] = {
        { "stale", "stale reads" }, { "failed", "failed or uncertain operations" },
        { "role", "role changes" }, { "net", "network faults" }, { "node", "node faults" },
        { "invariant", "invariant violations" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].kind, kind) == 0)
            return names[i].plural;
    return NULL;
}

static void flush_cuts(explain *ex);

void explain_free(explain *ex)
{
    if (!ex)
        return;
    flush_cuts(ex);
    for (int i = 0; i < ex->n_kinds; i++)
        if (ex->kinds[i].hidden) {
            const char *plural = kind_plural(ex->kinds[i].name);
            if (plural)
                fprintf(ex->out, "(%ld more %s not shown)\n", ex->kinds[i].hidden, plural);
            else
                fprintf(ex->out, "(%ld more \"%s\" notes not shown)\n", ex->kinds[i].hidden,
                        ex->kinds[i].name);
        }
    for (size_t i = 0; i < ex->n_keys; i++)
        sim_free(ex->keys[i].writes);
    sim_free(ex->keys);
    sim_free(ex->ops);
    sim_free(ex);
}

/* ---- helpers ------------------------------------------------------------------ */

/* Whether one more sentence of this kind may be shown; counts it either way. */
static bool may_say(explain *ex, const char *kind)
{
    struct ex_kind *k = NULL;
    for (int i = 0; i < ex->n_kinds && !k; i++)
        if (strcmp(ex->kinds[i].name, kind) == 0)
            k = &ex->kinds[i];
    if (!k) {
        if (ex->n_kinds == (int)(sizeof ex->kinds / sizeof ex->kinds[0]))
            return false;
        k = &ex->kinds[ex->n_kinds++];
        snprintf(k->name, sizeof k->name, "%s", kind);
    }
    if (k->shown >= (kind_plural(kind) ? EXPLAIN_CAP : EXPLAIN_CAP / 2)) {
        k->hidden++;
        return false;
    }
    k->shown++;
    return true;
}

static const char *str(const cJSON *o, const char *name)
{
    return jr_str(o, name, "?");
}

static bool num(const cJSON *o, const char *name, int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    if (!cJSON_IsNumber(v))
        return false;
    *out = jr_num(v, 0);
    return true;
}

static void say_time(explain *ex, int64_t t)
{
    fprintf(ex->out, "t=%.3f s  ", (double)t / 1e9);
}

/* "{n1, c1}" for an array of names. */
static void say_group(explain *ex, const cJSON *names)
{
    fputc('{', ex->out);
    const cJSON *n;
    bool first = true;
    cJSON_ArrayForEach(n, names) {
        fprintf(ex->out, "%s%s", first ? "" : ", ", cJSON_IsString(n) ? n->valuestring : "?");
        first = false;
    }
    fputc('}', ex->out);
}

static size_t key_index(explain *ex, const char *name)
{
    for (size_t i = 0; i < ex->n_keys; i++)
        if (strcmp(ex->keys[i].name, name) == 0)
            return i;
    SIM_GROW(ex->keys, ex->cap_keys, ex->n_keys + 1);
    struct ex_key *k = &ex->keys[ex->n_keys];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    return ex->n_keys++;
}

/* The operation under way with this id, or NULL; remove it when done. */
static struct ex_op *find_op(explain *ex, int64_t op)
{
    for (size_t i = ex->n_ops; i-- > 0;)
        if (ex->ops[i].op == op)
            return &ex->ops[i];
    return NULL;
}

static void drop_op(explain *ex, struct ex_op *o)
{
    size_t i = (size_t)(o - ex->ops);
    memmove(&ex->ops[i], &ex->ops[i + 1], (ex->n_ops - i - 1) * sizeof *ex->ops);
    ex->n_ops--;
}

/* ---- client operations ----------------------------------------------------- */

static void on_invoke(explain *ex, const cJSON *j, int64_t t)
{
    int64_t op;
    const char *f = str(j, "f");
    if (!num(j, "op", &op))
        return;
    SIM_GROW(ex->ops, ex->cap_ops, ex->n_ops + 1);
    struct ex_op *o = &ex->ops[ex->n_ops++];
    *o = (struct ex_op){ .op = op, .invoked = t, .key = key_index(ex, str(j, "key")),
                         .write = SIZE_MAX };
    const cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value");
    const cJSON *written = NULL;
    if (strcmp(f, "write") == 0)
        written = value;
    else if (strcmp(f, "cas") == 0 && cJSON_GetArraySize(value) == 2)
        written = cJSON_GetArrayItem(value, 1);
    if (!cJSON_IsNumber(written))
        return;
    struct ex_key *k = &ex->keys[o->key];
    SIM_GROW(k->writes, k->cap_writes, k->n_writes + 1);
    struct ex_write *w = &k->writes[k->n_writes];
    *w = (struct ex_write){ .value = jr_num(written, 0), .invoked = t,
                            .completed = EXPLAIN_NEVER, .op = op };
    snprintf(w->client, sizeof w->client, "%s", str(j, "client"));
    o->write = k->n_writes++;
}

/* Tell a read of key k begun at invoked that returned value (has_value
 * false: never written) if it was stale: some write w2 had completed
 * before the read began, and the value read came from a write that had
 * completed before w2 began, or from no write at all. */
static void check_read(explain *ex, const char *client, struct ex_key *k, int64_t invoked,
                       bool has_value, int64_t value, int64_t t)
{
    const struct ex_write *source = NULL;
    for (size_t i = 0; i < k->n_writes; i++) {
        const struct ex_write *w = &k->writes[i];
        if (has_value && !w->failed && w->value == value &&
            (!source || w->completed > source->completed))
            source = w;
    }
    if (has_value && !source)
        return;     /* a value no write here wrote: not a register read we can judge */
    if (source && source->completed == EXPLAIN_NEVER)
        return;     /* its write was still under way or uncertain: it may be the newest */
    const struct ex_write *missed = NULL;
    int newer = 0;
    for (size_t i = 0; i < k->n_writes; i++) {
        const struct ex_write *w = &k->writes[i];
        if (w->failed || w->completed >= invoked)
            continue;
        if (source && w->invoked <= source->completed)
            continue;
        newer++;
        if (!missed || w->completed > missed->completed)
            missed = w;
    }
    if (!missed || !may_say(ex, "stale"))
        return;
    say_time(ex, t);
    if (has_value)
        fprintf(ex->out, "%s's read of %s returned %" PRId64 ", a stale value: ", client, k->name, value);
    else
        fprintf(ex->out, "%s's read of %s returned nothing (never written), a stale answer: ",
                client, k->name);
    fprintf(ex->out, "%s's write of %" PRId64 " had completed at t=%.3f s, %.1f ms before the read "
            "began (%d newer write%s missed)\n", missed->client, missed->value,
            (double)missed->completed / 1e9, (double)(invoked - missed->completed) / 1e6,
            newer, newer == 1 ? "" : "s");
}

static void on_done(explain *ex, const cJSON *j, const char *ev, int64_t t)
{
    int64_t op;
    if (!num(j, "op", &op))
        return;
    struct ex_op *o = find_op(ex, op);
    if (!o)
        return;
    struct ex_key *k = &ex->keys[o->key];
    struct ex_write *w = o->write != SIZE_MAX ? &k->writes[o->write] : NULL;
    const char *client = str(j, "client");
    const char *f = str(j, "f");
    if (strcmp(ev, "ok") == 0) {
        if (w)
            w->completed = t;
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(j, "value");
        if (strcmp(f, "read") == 0 && !cJSON_GetObjectItemCaseSensitive(j, "values") &&
            (cJSON_IsNumber(value) || cJSON_IsNull(value)))
            check_read(ex, client, k, o->invoked, cJSON_IsNumber(value),
                       jr_num(value, 0), t);
    } else {
        if (w && strcmp(ev, "fail") == 0)
            w->failed = true;
        if (may_say(ex, "failed")) {
            say_time(ex, t);
            const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
            const char *why = cJSON_IsString(err) ? err->valuestring : "refused";
            if (strcmp(f, "txn") == 0)
                fprintf(ex->out, "%s's transaction ", client);
            else if (w)
                fprintf(ex->out, "%s's %s of %" PRId64 " to %s ", client, f, w->value, k->name);
            else
                fprintf(ex->out, "%s's %s of %s ", client, f, k->name);
            if (strcmp(ev, "info") == 0)
                fprintf(ex->out, "%s%s: it may or may not have happened\n",
                        strcmp(why, "timeout") == 0 ? "timed out" : "ended uncertain: ",
                        strcmp(why, "timeout") == 0 ? "" : why);
            else
                fprintf(ex->out, "failed (%s): it did not happen\n", why);
        }
    }
    drop_op(ex, o);
}

/* ---- faults and notes -------------------------------------------------------- */

static void on_role(explain *ex, const cJSON *j, int64_t t)
{
    const char *node = str(j, "node"), *role = str(j, "role");
    struct ex_role *r = NULL;
    for (int i = 0; i < ex->n_roles && !r; i++)
        if (strcmp(ex->roles[i].node, node) == 0)
            r = &ex->roles[i];
    if (!r && ex->n_roles < (int)(sizeof ex->roles / sizeof ex->roles[0])) {
        r = &ex->roles[ex->n_roles++];
        snprintf(r->node, sizeof r->node, "%s", node);
        r->role[0] = '\0';
    }
    bool was_leader = r && strcmp(r->role, "leader") == 0;
    if (r)
        snprintf(r->role, sizeof r->role, "%s", role);
    bool is_leader = strcmp(role, "leader") == 0;
    if (!is_leader && !was_leader)
        return;     /* followers and candidates: too many to tell */
    if (!may_say(ex, "role"))
        return;
    int64_t term = 0;
    bool has_term = num(j, "term", &term);
    say_time(ex, t);
    if (is_leader)
        fprintf(ex->out, "%s becomes leader", node);
    else
        fprintf(ex->out, "%s steps down: it is now %s", node, role);
    if (has_term && term > 0)     /* multi_leader's leaders have no terms: 0 */
        fprintf(ex->out, " in term %" PRId64, term);
    fputc('\n', ex->out);
}

static void on_note(explain *ex, const cJSON *j, int64_t t)
{
    const char *what = str(j, "what"), *node = str(j, "node");
    int64_t a = 0, b = 0;
    if (strcmp(what, "role") == 0) {
        on_role(ex, j, t);
        return;
    }
    bool known = strcmp(what, "conflict") == 0 || strcmp(what, "discard") == 0 ||
                 strcmp(what, "blocked") == 0 || strcmp(what, "unblocked") == 0 ||
                 strcmp(what, "hint") == 0 || strcmp(what, "handoff") == 0 ||
                 strcmp(what, "lww_lost") == 0 || strcmp(what, "chosen") == 0 ||
                 strcmp(what, "granted") == 0 || strcmp(what, "storage_write") == 0 ||
                 strcmp(what, "assigned") == 0 || strcmp(what, "leader") == 0 ||
                 strcmp(what, "truncated") == 0 || strcmp(what, "breaker") == 0 ||
                 strcmp(what, "rebalance") == 0;
    /* "elected" is not told: every model that writes it also writes a role note */
    if (!known || !may_say(ex, what))
        return;
    say_time(ex, t);
    if (strcmp(what, "conflict") == 0) {
        const cJSON *kept = cJSON_GetObjectItemCaseSensitive(j, "kept");
        if (strcmp(str(j, "resolution"), "siblings") == 0) {
            fprintf(ex->out, "%s finds concurrent writes to %s and keeps them all, as siblings: "
                    "the next write with their context resolves them\n", node, str(j, "key"));
            return;
        }
        fprintf(ex->out, "%s finds concurrent writes to %s and resolves them (%s): ", node,
                str(j, "key"), str(j, "resolution"));
        if (cJSON_IsNumber(kept))
            fprintf(ex->out, "keeps %" PRId64, jr_num(kept, 0));
        else
            fprintf(ex->out, "keeps a merged value");
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "discarded"));
        fprintf(ex->out, ", discards %d other value%s\n", n, n == 1 ? "" : "s");
    } else if (strcmp(what, "discard") == 0) {
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "entries"));
        fprintf(ex->out, "%s throws away %d log entr%s it had accepted, on hearing from %s", node, n,
                n == 1 ? "y" : "ies", str(j, "by"));
        fprintf(ex->out, ": writes acknowledged to clients may be lost\n");
    } else if (strcmp(what, "blocked") == 0) {
        num(j, "txn", &a);
        fprintf(ex->out, "%s is blocked in transaction %" PRId64 ": it voted yes and cannot decide "
                "without its coordinator %s\n", node, a, str(j, "coordinator"));
    } else if (strcmp(what, "unblocked") == 0) {
        num(j, "txn", &a);
        num(j, "duration", &b);
        fprintf(ex->out, "%s is unblocked in transaction %" PRId64 " after %.1f ms: the outcome "
                "is %s (learned from %s)\n", node, a, (double)b / 1e6, str(j, "outcome"), str(j, "by"));
    } else if (strcmp(what, "hint") == 0) {
        num(j, "value", &a);
        fprintf(ex->out, "%s keeps a hint: %s=%" PRId64 " for %s, which it cannot reach (sloppy "
                "quorum)\n", node, str(j, "key"), a, str(j, "for"));
    } else if (strcmp(what, "handoff") == 0) {
        num(j, "value", &a);
        fprintf(ex->out, "%s hands its hint %s=%" PRId64 " back to %s\n", node, str(j, "key"), a,
                str(j, "to"));
    } else if (strcmp(what, "granted") == 0) {     /* the lock model */
        num(j, "token", &a);
        num(j, "ttl", &b);
        fprintf(ex->out, "%s grants the lock to %s with fencing token %" PRId64 " for %.1f ms\n",
                node, str(j, "worker"), a, (double)b / 1e6);
    } else if (strcmp(what, "storage_write") == 0) {
        num(j, "token", &a);
        num(j, "highest", &b);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "accepted")))
            fprintf(ex->out, "%s accepts %s's write with token %" PRId64 "%s\n", node, str(j, "worker"), a,
                    a < b ? ", though a newer token has written: a stale holder got through" : "");
        else
            fprintf(ex->out, "%s rejects %s's write with token %" PRId64 ": it has seen token %" PRId64
                    " (fencing)\n", node, str(j, "worker"), a, b);
    } else if (strcmp(what, "assigned") == 0) {   /* the event log's group coordinator */
        num(j, "generation", &a);
        fprintf(ex->out, "%s rebalances group %s (generation %" PRId64 "):", node, str(j, "group"), a);
        const cJSON *e;
        bool first = true;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "assignment")) {
            fprintf(ex->out, "%s %s takes partition%s", first ? "" : ";", str(e, "consumer"),
                    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "partitions")) == 1 ? "" : "s");
            const cJSON *p;
            bool pf = true;
            cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(e, "partitions")) {
                fprintf(ex->out, "%s%" PRId64, pf ? " " : ", ", jr_num(p, 0));
                pf = false;
            }
            first = false;
        }
        fprintf(ex->out, "%s\n", first ? " nobody is left to consume"
                                       : ": each resumes from the group's last committed offset");
    } else if (strcmp(what, "leader") == 0) {
        num(j, "partition", &a);
        num(j, "log_end", &b);
        const cJSON *unclean = cJSON_GetObjectItemCaseSensitive(j, "unclean");
        fprintf(ex->out, "%s makes %s leader of partition %" PRId64 " in place of %s%s; its log ends at "
                "offset %" PRId64 ": what only the old leader had is not there\n", node, str(j, "leader"), a,
                str(j, "previous"), cJSON_IsTrue(unclean) ? ", though it is not in sync (unclean election)" : "",
                b);
    } else if (strcmp(what, "truncated") == 0) {
        num(j, "from", &a);
        num(j, "to", &b);
        int64_t part = 0;
        num(j, "partition", &part);
        fprintf(ex->out, "%s cuts its log of partition %" PRId64 " back from %" PRId64 " to %" PRId64
                " records to follow the new leader: the %" PRId64 " record%s only it had %s gone\n", node, part,
                a, b, a - b, a - b == 1 ? "" : "s", a - b == 1 ? "is" : "are");
    } else if (strcmp(what, "breaker") == 0) {    /* the resilience model */
        const char *st = str(j, "state");
        fprintf(ex->out, "%s's circuit breaker for %s %s\n", node, str(j, "dependency"),
                strcmp(st, "open") == 0 ? "opens: calls to it now fail at once, without waiting"
                : strcmp(st, "half_open") == 0 ? "is half-open: a few trial calls go through"
                : "closes: calls go through again");
    } else if (strcmp(what, "rebalance") == 0) {  /* consistent hashing */
        num(j, "moved", &a);
        num(j, "total", &b);
        int64_t mod = 0;
        num(j, "modulo_moved", &mod);
        fprintf(ex->out, "%s sees %s %s: %" PRId64 " of %" PRId64 " keys change owner on the ring, "
                "where hash mod N would move %" PRId64 "\n", node, str(j, "member"),
                strcmp(str(j, "change"), "join") == 0 ? "join" : "leave", a, b, mod);
    } else if (strcmp(what, "chosen") == 0) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "value");
        fprintf(ex->out, "%s learns that %s is chosen: %" PRId64 " (ballot %s), forever\n", node,
                str(j, "key"), jr_num(v, 0), str(j, "ballot"));
    } else {    /* lww_lost */
        num(j, "value", &a);
        num(j, "kept", &b);
        fprintf(ex->out, "%s keeps %s=%" PRId64 " and drops the concurrent %s=%" PRId64 " (older "
                "timestamp): last writer wins, the other write is lost\n", node, str(j, "key"), b,
                str(j, "key"), a);
    }
}

/* Consecutive cuts at one time make one sentence. */
static void flush_cuts(explain *ex)
{
    if (!ex->n_cuts)
        return;
    say_time(ex, ex->cuts_at);
    fprintf(ex->out, "%s cut, one way: %s\n", ex->n_cuts == 1 ? "a link is" : "links are", ex->cuts);
    ex->n_cuts = 0;
    ex->cuts[0] = '\0';
}

static void on_cut(explain *ex, const cJSON *j, int64_t t)
{
    if (ex->n_cuts && t != ex->cuts_at)
        flush_cuts(ex);
    if (!ex->n_cuts && !may_say(ex, "net"))
        return;
    size_t len = strlen(ex->cuts);
    snprintf(ex->cuts + len, sizeof ex->cuts - len, "%s%s->%s", ex->n_cuts ? ", " : "",
             str(j, "from"), str(j, "to"));
    ex->n_cuts++;
    ex->cuts_at = t;
}

static void on_fault(explain *ex, const cJSON *j, const char *ev, int64_t t)
{
    bool net = strcmp(ev, "partition") == 0 || strcmp(ev, "isolate") == 0 ||
               strcmp(ev, "cut") == 0 || strcmp(ev, "bridge") == 0 || strcmp(ev, "heal") == 0;
    if (!may_say(ex, net ? "net" : "node"))
        return;
    const char *node = str(j, "node");
    int64_t a = 0, b = 0;
    say_time(ex, t);
    if (strcmp(ev, "partition") == 0) {
        fprintf(ex->out, "the network splits: ");
        const cJSON *g;
        bool first = true;
        cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(j, "groups")) {
            fprintf(ex->out, "%s", first ? "" : " | ");
            say_group(ex, g);
            first = false;
        }
        fprintf(ex->out, "; messages between the sides are lost\n");
    } else if (strcmp(ev, "isolate") == 0) {
        fprintf(ex->out, "%s is cut off from every other node (clients still reach it)\n", node);
    } else if (strcmp(ev, "bridge") == 0) {
        say_group(ex, cJSON_GetObjectItemCaseSensitive(j, "a"));
        fprintf(ex->out, " and ");
        say_group(ex, cJSON_GetObjectItemCaseSensitive(j, "b"));
        fprintf(ex->out, " can no longer reach each other, but %s still reaches both\n", str(j, "via"));
    } else if (strcmp(ev, "heal") == 0) {
        fprintf(ex->out, "the network heals: every link works again\n");
    } else if (strcmp(ev, "crash") == 0) {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "already_down")))
            fprintf(ex->out, "%s is told to crash, but it is already down\n", node);
        else if (num(j, "unsynced_lost", &a) && a > 0)
            fprintf(ex->out, "%s crashes and loses %" PRId64 " unsynced write%s to its disk\n", node,
                    a, a == 1 ? "" : "s");
        else
            fprintf(ex->out, "%s crashes: it stops and forgets all but its durable store\n", node);
    } else if (strcmp(ev, "restart") == 0) {
        fprintf(ex->out, "%s restarts from its durable store\n", node);
    } else if (strcmp(ev, "pause") == 0) {
        if (num(j, "duration", &a))
            fprintf(ex->out, "%s freezes for %.1f ms (a GC pause): it does nothing, but it is not "
                    "dead\n", node, (double)a / 1e6);
        else
            fprintf(ex->out, "%s freezes (a GC pause): it does nothing, but it is not dead\n", node);
    } else if (strcmp(ev, "resume") == 0) {
        fprintf(ex->out, "%s runs again and handles what waited for it\n", node);
    } else {    /* clock */
        num(j, "offset", &a);
        num(j, "drift_ppb", &b);
        if (a == 0 && b == 0)
            fprintf(ex->out, "%s's clock is put right\n", node);
        else
            fprintf(ex->out, "%s's clock is now %+.1f ms off real time (drifting %.3f%%)\n", node,
                    (double)a / 1e6, (double)b / 1e7);
    }
}

/* ---- the observer ------------------------------------------------------------ */

void explain_line(void *ud, const char *line, size_t len)
{
    explain *ex = ud;
    cJSON *j = cJSON_ParseWithLength(line, len);
    if (!j)
        return;
    const char *ev = str(j, "ev");
    int64_t t = 0;
    num(j, "t", &t);
    if (strcmp(ev, "cut") == 0) {
        on_cut(ex, j, t);
        cJSON_Delete(j);
        return;
    }
    if (ex->n_cuts && strcmp(ev, "nemesis") != 0)
        flush_cuts(ex);
    if (strcmp(ev, "invoke") == 0)
        on_invoke(ex, j, t);
    else if (strcmp(ev, "ok") == 0 || strcmp(ev, "fail") == 0 || strcmp(ev, "info") == 0)
        on_done(ex, j, ev, t);
    else if (strcmp(ev, "note") == 0)
        on_note(ex, j, t);
    else if (strcmp(ev, "partition") == 0 || strcmp(ev, "isolate") == 0 || strcmp(ev, "cut") == 0 ||
             strcmp(ev, "bridge") == 0 || strcmp(ev, "heal") == 0 || strcmp(ev, "crash") == 0 ||
             strcmp(ev, "restart") == 0 || strcmp(ev, "pause") == 0 || strcmp(ev, "resume") == 0 ||
             strcmp(ev, "clock") == 0)
        on_fault(ex, j, ev, t);
    else if (strcmp(ev, "invariant") == 0 && may_say(ex, "invariant")) {
        say_time(ex, t);
        fprintf(ex->out, "the %s model's invariant breaks: %s%s\n", str(j, "model"), str(j, "why"),
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "stopped")) ? " (the run stops here)" : "");
    }
    cJSON_Delete(j);
}
