/* lsim: the Lua scenario API and the driver that runs one scenario.
 *
 * A scenario is a Lua chunk run in the sandbox with the functions below as
 * globals. They build a world (cluster, workload, nemesis), create fault
 * actions, schedule callbacks (at, every), drive the clock (run) and record
 * expectations (expect). The user reference is docs/lua-api.md.
 *
 * Determinism: every table a user hands in is read through
 * sandbox_sorted_keys or by array index, never in lua_next order; pending
 * actions and callbacks live in integer-indexed tables in creation order.
 *
 * Errors: a Lua-facing function reports only through luaL_error (via
 * fail()), which longjmps. So nothing allocated with sim_malloc is held in a
 * local across a call that may raise: scratch memory is a Lua userdata (the
 * garbage collector frees it), and the one C allocation that must live
 * across raising calls (the cluster's params) is parked in the lsim state,
 * where lsim_run frees it if the error left it there. */
#include "lsim.h"
#include "alloc.h"
#include "dmath.h"
#include "exitcodes.h"
#include "model.h"
#include "params.h"
#include "pcg.h"
#include "trace.h"

#include <lauxlib.h>
#include <lua.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LSIM_MAX_NODES WORLD_MAX_NODES
#define LSIM_MAX_KEYS 100000
#define LSIM_NAME_MAX 63
#define ACTION_META "sim action"

/* ---- state ----------------------------------------------------------- */

/* One at() or every() registration; its index is the ref given to world_at
 * and (plus one) the key of its function or action in the callbacks table. */
struct lsim_cb {
    bool live;
    bool repeat;
    sim_time period;
    sim_time until;
};

struct lsim {
    lua_State *L;
    world *w;
    const struct lsim_options *opt;
    struct lsim_result *res;
    int pending_ref;          /* registry: list of actions awaiting a flush */
    int callbacks_ref;        /* registry: functions and actions of at/every */
    int funcs_ref;            /* registry: parameter name -> function (PARAM_FUNC) */
    int tostring_ref;         /* registry: the sandbox's tostring */
    int n_pending;
    struct lsim_cb *cbs;
    size_t n_cbs, cap_cbs;
    int in_callback;          /* > 0 while an at/every callback runs */
    bool trace_failed;
    bool interrupted;         /* a signal stopped world_run */
    bool expect_failed;
    params *tmp_params;       /* cluster{} under construction; see the top */
    struct swarm_config {     /* sim run --swarm: drawn from the seed at the start */
        double intensity;     /* nemesis intensity factor */
        unsigned faults;      /* nemesis fault kinds allowed (mask) */
        double latency;       /* factor on every node-to-node link's latency */
        double loss, dup, reorder;
    } swarm;
    char cb_error[1024];      /* the error that stopped world_run */
};

static struct lsim *self(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* ---- errors and argument checks -------------------------------------- */

#if defined(__GNUC__)
#define LSIM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LSIM_PRINTF(a, b)
#endif

/* Raise "file:line: message" (the position of the calling script line). */
static _Noreturn void fail(lua_State *L, const char *fmt, ...) LSIM_PRINTF(2, 3);
static _Noreturn void fail(lua_State *L, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    luaL_error(L, "%s", msg);
    abort(); /* not reached: luaL_error does not return */
}

/* What was given, for "got ..." in messages: the value of a number, else
 * the type name. */
static const char *got(lua_State *L, int idx, char *buf, size_t len)
{
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (lua_isinteger(L, idx))
            snprintf(buf, len, "%lld", (long long)lua_tointeger(L, idx));
        else
            snprintf(buf, len, "%.14g", (double)lua_tonumber(L, idx));
        return buf;
    }
    return luaL_typename(L, idx);
}

/* A table key as it reads in a message: "name" or [3]. */
static void key_text(lua_State *L, int idx, char *buf, size_t len)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        snprintf(buf, len, "\"%s\"", lua_tostring(L, idx));
    else if (lua_isinteger(L, idx))
        snprintf(buf, len, "[%lld]", (long long)lua_tointeger(L, idx));
    else if (lua_type(L, idx) == LUA_TNUMBER)
        snprintf(buf, len, "[%.14g]", (double)lua_tonumber(L, idx));
    else
        snprintf(buf, len, "[%s]", luaL_typename(L, idx));
}

static void join_names(const char *const *names, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; names[i] && used < len; i++) {
        int k = snprintf(out + used, len - used, "%s%s", i ? ", " : "", names[i]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
}

static void check_nargs(lua_State *L, const char *fn, int min, int max)
{
    int n = lua_gettop(L);
    if (n < min)
        fail(L, "%s: expects %d argument%s, got %d", fn, min, min == 1 ? "" : "s", n);
    if (n > max)
        fail(L, "%s: too many arguments (expects at most %d, got %d)", fn, max, n);
}

static void check_table_arg(lua_State *L, int idx, const char *fn, const char *example)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        fail(L, "%s: expects a table, like %s, got %s", fn, example, luaL_typename(L, idx));
}

/* Every key of the table at idx must be one of fields (NULL-terminated) or,
 * when list_ok, one of the integers 1..n. Returns n (0 if !list_ok). */
static int check_fields(lua_State *L, int idx, const char *fn, const char *const *fields, bool list_ok)
{
    idx = lua_absindex(L, idx);
    sandbox_sorted_keys(L, idx);
    int n = (int)lua_rawlen(L, -1);
    int items = 0;
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        bool ok = false;
        if (lua_type(L, -1) == LUA_TSTRING) {
            const char *k = lua_tostring(L, -1);
            for (int f = 0; fields[f] && !ok; f++)
                ok = strcmp(fields[f], k) == 0;
        } else if (list_ok && lua_isinteger(L, -1) && lua_tointeger(L, -1) == items + 1) {
            items++;
            ok = true;
        }
        if (!ok) {
            char key[96], list[400];
            key_text(L, -1, key, sizeof key);
            if (!fields[0])
                fail(L, "%s: unexpected key %s (expected a list)", fn, key);
            join_names(fields, list, sizeof list);
            if (list_ok && lua_type(L, -1) != LUA_TSTRING)
                fail(L, "%s: unexpected key %s (expected list items [1], [2], ... and fields: %s)",
                     fn, key, list);
            fail(L, "%s: unknown field %s (fields: %s)", fn, key, list);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return items;
}

/* The table at idx must be a list: keys 1..n and nothing else. */
static int check_list(lua_State *L, int idx, const char *fn)
{
    static const char *const none[] = { NULL };
    return check_fields(L, idx, fn, none, true);
}

/* Push t[name] without metamethods; returns its type. t is an absolute index. */
static int field(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    return lua_rawget(L, t);
}

static bool is_whole(double d)
{
    return d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == floor(d);
}

/* A time: a non-negative integer number of nanoseconds (a float with a
 * whole value, such as 1e9, is accepted). what names it in the message. */
static sim_time check_time(lua_State *L, int idx, const char *fn, const char *what)
{
    char g[64];
    if (lua_isinteger(L, idx)) {
        lua_Integer v = lua_tointeger(L, idx);
        if (v >= 0)
            return (sim_time)v;
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        double d = (double)lua_tonumber(L, idx);
        if (d >= 0 && is_whole(d))
            return (sim_time)d;
    }
    fail(L, "%s: %s must be a non-negative integer number of nanoseconds (use ms(), s()), got %s",
         fn, what, got(L, idx, g, sizeof g));
}

/* A time that may be negative (a clock offset). */
static sim_time check_offset(lua_State *L, int idx, const char *fn, const char *what)
{
    char g[64];
    if (lua_isinteger(L, idx)) {
        lua_Integer v = lua_tointeger(L, idx);
        if (v >= -SIM_TIME_LIMIT && v <= SIM_TIME_LIMIT)
            return (sim_time)v;
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        double d = (double)lua_tonumber(L, idx);
        if (is_whole(d) && d >= (double)-SIM_TIME_LIMIT && d <= (double)SIM_TIME_LIMIT)
            return (sim_time)d;
    }
    fail(L, "%s: %s must be an integer number of nanoseconds (use ms(), s(), and -ms(5) for a "
         "negative one), got %s", fn, what, got(L, idx, g, sizeof g));
}

static int64_t check_int(lua_State *L, int idx, const char *fn, const char *what, int64_t lo, int64_t hi)
{
    char g[64];
    if (lua_isinteger(L, idx)) {
        lua_Integer v = lua_tointeger(L, idx);
        if (v >= lo && v <= hi)
            return (int64_t)v;
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        double d = (double)lua_tonumber(L, idx);
        if (is_whole(d) && d >= (double)lo && d <= (double)hi)
            return (int64_t)d;
    }
    fail(L, "%s: %s must be an integer from %" PRId64 " to %" PRId64 ", got %s",
         fn, what, lo, hi, got(L, idx, g, sizeof g));
}

/* A number in [lo, hi]; range says so in words ("from 0 to 1"). */
static double check_num(lua_State *L, int idx, const char *fn, const char *what, double lo, double hi,
                        const char *range)
{
    char g[64];
    if (lua_type(L, idx) == LUA_TNUMBER) {
        double d = (double)lua_tonumber(L, idx);
        if (d >= lo && d <= hi)
            return d;
    }
    fail(L, "%s: %s must be a number %s, got %s", fn, what, range, got(L, idx, g, sizeof g));
}

static double check_real(lua_State *L, int idx, const char *fn, const char *what)
{
    if (lua_type(L, idx) != LUA_TNUMBER || !isfinite((double)lua_tonumber(L, idx)))
        fail(L, "%s: %s must be a finite number, got %s", fn, what, luaL_typename(L, idx));
    return (double)lua_tonumber(L, idx);
}

static bool check_bool(lua_State *L, int idx, const char *fn, const char *what)
{
    if (lua_type(L, idx) != LUA_TBOOLEAN)
        fail(L, "%s: %s must be true or false, got %s", fn, what, luaL_typename(L, idx));
    return lua_toboolean(L, idx);
}

static const char *check_str(lua_State *L, int idx, const char *fn, const char *what)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        fail(L, "%s: %s must be a string, got %s", fn, what, luaL_typename(L, idx));
    return lua_tostring(L, idx);
}

/* An absolute time for the clock: not before now, not beyond the limit. */
static void check_future(lua_State *L, struct lsim *s, sim_time t, const char *fn, const char *what)
{
    sim_time now = world_now(s->w);
    if (t < now)
        fail(L, "%s: %s %" PRId64 " is in the past (now is %" PRId64 ")", fn, what, t, now);
    if (t > SIM_TIME_LIMIT)
        fail(L, "%s: %s %" PRId64 " is beyond the longest possible run (2^53 ns, about 104 days)",
             fn, what, t);
}

static void require_cluster(lua_State *L, struct lsim *s, const char *fn)
{
    if (!world_has_cluster(s->w))
        fail(L, "%s: no cluster yet (call cluster{} first)", fn);
}

/* ---- node names --------------------------------------------------------- */

/* The name of node i: from the world when it exists, else from the list
 * being validated by cluster{} (names NULL: n1..nN). */
static const char *node_name_of(const world *w, const char *const *names, int i, char *buf, size_t len)
{
    if (w)
        return world_name(w, i);
    if (names)
        return names[i];
    snprintf(buf, len, "n%d", i + 1);
    return buf;
}

/* "nodes are n1..n5" (or a list of the names), plus the clients. */
static void describe_nodes(const world *w, const char *const *names, int n, bool with_clients,
                           char *out, size_t len)
{
    char buf[24];
    bool plain = true;
    for (int i = 0; i < n && plain; i++) {
        char def[24];
        snprintf(def, sizeof def, "n%d", i + 1);
        plain = strcmp(node_name_of(w, names, i, buf, sizeof buf), def) == 0;
    }
    size_t used;
    if (plain)
        used = (size_t)snprintf(out, len, n == 1 ? "the only node is n1" : "nodes are n1..n%d", n);
    else {
        used = (size_t)snprintf(out, len, "nodes are ");
        for (int i = 0; i < n && used < len; i++) {
            if (i == 8 && n > 9) {
                used += (size_t)snprintf(out + used, len - used, ", ... (%d in all)", n);
                break;
            }
            used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "",
                                     node_name_of(w, names, i, buf, sizeof buf));
        }
    }
    int clients = w && with_clients ? world_clients(w) : 0;
    if (clients > 0 && used < len)
        snprintf(out + used, len - used, clients == 1 ? "; the client is c1" : "; clients are c1..c%d",
                 clients);
}

/* The endpoint named by the string at idx: a node, or also a client when
 * clients is true. Raises a message naming the known nodes. */
static int check_endpoint(lua_State *L, struct lsim *s, int idx, const char *fn, bool clients)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        fail(L, "%s: a node must be given by its name (like \"n1\"), got %s", fn, luaL_typename(L, idx));
    const char *name = lua_tostring(L, idx);
    int e = world_find(s->w, name);
    int nodes = world_nodes(s->w);
    if (e >= 0 && (e < nodes || clients))
        return e;
    char known[300];
    describe_nodes(s->w, NULL, nodes, clients, known, sizeof known);
    if (e >= nodes)
        fail(L, "%s: \"%s\" is a client, not a node (%s)", fn, name, known);
    fail(L, "%s: unknown node \"%s\" (%s)", fn, name, known);
}

static int check_node(lua_State *L, struct lsim *s, int idx, const char *fn)
{
    return check_endpoint(L, s, idx, fn, false);
}

/* ---- actions ------------------------------------------------------------ */

enum action_kind {
    ACT_PARTITION, ACT_ISOLATE, ACT_CUT, ACT_BRIDGE, ACT_HEAL,
    ACT_CRASH, ACT_RESTART, ACT_PAUSE, ACT_RESUME, ACT_SKEW,
};

/* A fault, validated when created and applied when flushed or when its
 * at/every time comes. Endpoints are indices, which stay valid: nodes and
 * clients are only ever added. */
struct action {
    enum action_kind kind;
    bool consumed;        /* applied by a flush, or handed to at/every */
    int node;             /* the node; cut: from; bridge: via */
    int other;            /* cut: to */
    sim_time duration;    /* pause; 0 = until resume */
    sim_time offset;      /* skew */
    int64_t drift_ppb;    /* skew */
    int n_groups;         /* partition: listed groups */
    int n_a, n_b;         /* partition: n_a (endpoint, group) pairs; bridge: sizes of a and b */
    int ep[];
};

/* A new action on top of the stack, not yet pending (see action_commit). */
static struct action *action_new(lua_State *L, enum action_kind kind, size_t n_ep)
{
    struct action *a = lua_newuserdatauv(L, sizeof *a + n_ep * sizeof(int), 0);
    memset(a, 0, sizeof *a + n_ep * sizeof(int));
    a->kind = kind;
    luaL_setmetatable(L, ACTION_META);
    return a;
}

/* Append the action on top of the stack to the pending list; it stays on
 * the stack as the function's result. */
static int action_commit(lua_State *L, struct lsim *s)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->pending_ref);
    lua_pushvalue(L, -2);
    lua_rawseti(L, -2, s->n_pending + 1);
    s->n_pending++;
    lua_pop(L, 1);
    return 1;
}

static void action_apply(struct lsim *s, const struct action *a)
{
    world *w = s->w;
    switch (a->kind) {
    case ACT_PARTITION: {
        int nodes = world_nodes(w);
        int total = nodes + world_clients(w);
        int *group_of = sim_xmalloc((size_t)total * sizeof *group_of);
        /* unlisted nodes together form one more group; unlisted clients
         * reach everybody */
        for (int e = 0; e < total; e++)
            group_of[e] = e < nodes ? a->n_groups : -1;
        for (int i = 0; i < a->n_a; i++)
            group_of[a->ep[2 * i]] = a->ep[2 * i + 1];
        world_partition(w, group_of);
        sim_free(group_of);
        break;
    }
    case ACT_ISOLATE: world_isolate(w, a->node); break;
    case ACT_CUT: world_cut(w, a->node, a->other); break;
    case ACT_BRIDGE: world_bridge(w, a->ep, a->n_a, a->ep + a->n_a, a->n_b, a->node); break;
    case ACT_HEAL: world_heal(w); break;
    case ACT_CRASH: world_crash(w, a->node); break;
    case ACT_RESTART: world_restart(w, a->node); break;
    case ACT_PAUSE: world_pause(w, a->node, a->duration); break;
    case ACT_RESUME: world_resume(w, a->node); break;
    case ACT_SKEW: world_skew(w, a->node, a->offset, a->drift_ppb); break;
    }
}

/* Apply every pending action that was not scheduled, in creation order, at
 * the current virtual time. Raises nothing (clearing slots of an existing
 * table does not allocate), so lsim_run may call it unprotected. */
static void flush_pending(struct lsim *s)
{
    lua_State *L = s->L;
    if (s->n_pending == 0)
        return;
    int n = s->n_pending;
    s->n_pending = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->pending_ref);
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        struct action *a = lua_touserdata(L, -1);
        if (a && !a->consumed) {
            a->consumed = true;
            action_apply(s, a);
        }
        lua_pop(L, 1);
        lua_pushnil(L);
        lua_rawseti(L, -2, i);
    }
    lua_pop(L, 1);
}

static void fmt_time(sim_time t, char *buf, size_t len)
{
    if (t != 0 && t % SIM_MS == 0)
        snprintf(buf, len, "%" PRId64 "ms", t / SIM_MS);
    else if (t != 0 && t % SIM_US == 0)
        snprintf(buf, len, "%" PRId64 "us", t / SIM_US);
    else
        snprintf(buf, len, "%" PRId64 "ns", t);
}

static void add_names(luaL_Buffer *b, const world *w, const int *ep, int n)
{
    luaL_addchar(b, '{');
    for (int i = 0; i < n; i++) {
        if (i)
            luaL_addchar(b, ',');
        luaL_addstring(b, world_name(w, ep[i]));
    }
    luaL_addchar(b, '}');
}

/* __tostring of an action: "crash(n1)", "partition{{n1},{n2,n3}}", ... */
static int l_action_tostring(lua_State *L)
{
    struct lsim *s = self(L);
    const struct action *a = luaL_checkudata(L, 1, ACTION_META);
    const world *w = s->w;
    static const char *const names[] = {
        "partition", "isolate", "cut", "bridge", "heal",
        "crash", "restart", "pause", "resume", "skew",
    };
    char t1[40], t2[64];
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, names[a->kind]);
    switch (a->kind) {
    case ACT_PARTITION:
        luaL_addchar(&b, '{');
        for (int g = 0; g < a->n_groups; g++) {
            if (g)
                luaL_addchar(&b, ',');
            luaL_addchar(&b, '{');
            bool first = true;
            for (int i = 0; i < a->n_a; i++)
                if (a->ep[2 * i + 1] == g) {
                    if (!first)
                        luaL_addchar(&b, ',');
                    luaL_addstring(&b, world_name(w, a->ep[2 * i]));
                    first = false;
                }
            luaL_addchar(&b, '}');
        }
        luaL_addchar(&b, '}');
        break;
    case ACT_BRIDGE:
        luaL_addchar(&b, '{');
        add_names(&b, w, a->ep, a->n_a);
        luaL_addchar(&b, ',');
        add_names(&b, w, a->ep + a->n_a, a->n_b);
        luaL_addstring(&b, ",via=");
        luaL_addstring(&b, world_name(w, a->node));
        luaL_addchar(&b, '}');
        break;
    case ACT_HEAL:
        luaL_addstring(&b, "()");
        break;
    case ACT_CUT:
        luaL_addchar(&b, '(');
        luaL_addstring(&b, world_name(w, a->node));
        luaL_addchar(&b, ',');
        luaL_addstring(&b, world_name(w, a->other));
        luaL_addchar(&b, ')');
        break;
    case ACT_PAUSE:
        luaL_addchar(&b, '(');
        luaL_addstring(&b, world_name(w, a->node));
        if (a->duration > 0) {
            fmt_time(a->duration, t1, sizeof t1);
            luaL_addchar(&b, ',');
            luaL_addstring(&b, t1);
        }
        luaL_addchar(&b, ')');
        break;
    case ACT_SKEW:
        fmt_time(a->offset < 0 ? -a->offset : a->offset, t1, sizeof t1);
        snprintf(t2, sizeof t2, ",%s%s,%.9g)", a->offset < 0 ? "-" : "", t1, (double)a->drift_ppb / 1e9);
        luaL_addchar(&b, '(');
        luaL_addstring(&b, world_name(w, a->node));
        luaL_addstring(&b, t2);
        break;
    case ACT_ISOLATE:
    case ACT_CRASH:
    case ACT_RESTART:
    case ACT_RESUME:
        luaL_addchar(&b, '(');
        luaL_addstring(&b, world_name(w, a->node));
        luaL_addchar(&b, ')');
        break;
    }
    luaL_pushresult(&b);
    return 1;
}

/* Count the names of a group (a string or a list of strings) at idx. */
static int group_size(lua_State *L, int idx, const char *fn, const char *what)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        return 1;
    if (lua_type(L, idx) != LUA_TTABLE)
        fail(L, "%s: %s must be a list of node names, got %s", fn, what, luaL_typename(L, idx));
    int n = check_list(L, idx, fn);
    if (n == 0)
        fail(L, "%s: %s is empty", fn, what);
    return n;
}

/* Resolve the names of the group at idx into out[0..n), via
 * check_endpoint; seen (one byte per endpoint) catches a name listed twice. */
static void group_read(lua_State *L, struct lsim *s, int idx, const char *fn, bool clients,
                       unsigned char *seen, int *out, int stride)
{
    idx = lua_absindex(L, idx);
    int n = lua_type(L, idx) == LUA_TSTRING ? 1 : (int)lua_rawlen(L, idx);
    for (int i = 0; i < n; i++) {
        if (lua_type(L, idx) == LUA_TSTRING)
            lua_pushvalue(L, idx);
        else
            lua_rawgeti(L, idx, i + 1);
        int e = check_endpoint(L, s, -1, fn, clients);
        if (seen[e])
            fail(L, "%s: \"%s\" is listed twice", fn, lua_tostring(L, -1));
        seen[e] = 1;
        out[i * stride] = e;
        lua_pop(L, 1);
    }
}

static int l_partition(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "partition", 1, 1);
    require_cluster(L, s, "partition");
    check_table_arg(L, 1, "partition", "partition{{\"n1\"}, {\"n2\", \"n3\"}}");
    int groups = check_list(L, 1, "partition");
    if (groups == 0)
        fail(L, "partition: needs at least one group, like partition{{\"n1\"}, {\"n2\", \"n3\"}}");
    int total = 0;
    char what[32];
    for (int g = 1; g <= groups; g++) {
        lua_rawgeti(L, 1, g);
        snprintf(what, sizeof what, "group %d", g);
        total += group_size(L, -1, "partition", what);
        lua_pop(L, 1);
    }
    int endpoints = world_nodes(s->w) + world_clients(s->w);
    unsigned char *seen = lua_newuserdatauv(L, (size_t)endpoints, 0);
    memset(seen, 0, (size_t)endpoints);
    int seen_idx = lua_gettop(L);
    struct action *a = action_new(L, ACT_PARTITION, 2 * (size_t)total);
    a->n_groups = groups;
    a->n_a = total;
    int at = 0;
    for (int g = 1; g <= groups; g++) {
        lua_rawgeti(L, 1, g);
        int n = lua_type(L, -1) == LUA_TSTRING ? 1 : (int)lua_rawlen(L, -1);
        group_read(L, s, -1, "partition", true, seen, &a->ep[2 * at], 2);
        for (int i = 0; i < n; i++)
            a->ep[2 * (at + i) + 1] = g - 1;
        at += n;
        lua_pop(L, 1);
    }
    lua_remove(L, seen_idx);
    return action_commit(L, s);
}

static int l_bridge(lua_State *L)
{
    static const char *const fields[] = { "via", NULL };
    struct lsim *s = self(L);
    check_nargs(L, "bridge", 1, 1);
    require_cluster(L, s, "bridge");
    check_table_arg(L, 1, "bridge", "bridge{{\"n1\", \"n2\"}, {\"n4\", \"n5\"}, via = \"n3\"}");
    int groups = check_fields(L, 1, "bridge", fields, true);
    if (groups != 2)
        fail(L, "bridge: needs exactly two groups and via, like "
             "bridge{{\"n1\", \"n2\"}, {\"n4\", \"n5\"}, via = \"n3\"}, got %d group%s",
             groups, groups == 1 ? "" : "s");
    lua_rawgeti(L, 1, 1);
    int na = group_size(L, -1, "bridge", "group 1");
    lua_rawgeti(L, 1, 2);
    int nb = group_size(L, -1, "bridge", "group 2");
    if (field(L, 1, "via") == LUA_TNIL)
        fail(L, "bridge: via is missing: name the node that still reaches both groups");
    int via = check_node(L, s, -1, "bridge");
    int nodes = world_nodes(s->w);
    unsigned char *seen = lua_newuserdatauv(L, (size_t)nodes, 0);
    memset(seen, 0, (size_t)nodes);
    struct action *a = action_new(L, ACT_BRIDGE, (size_t)(na + nb));
    a->node = via;
    a->n_a = na;
    a->n_b = nb;
    group_read(L, s, -5, "bridge", false, seen, a->ep, 1);
    group_read(L, s, -4, "bridge", false, seen, a->ep + na, 1);
    if (seen[via])
        fail(L, "bridge: via node \"%s\" must not be in either group", world_name(s->w, via));
    return action_commit(L, s);
}

static int node_action(lua_State *L, const char *fn, enum action_kind kind)
{
    struct lsim *s = self(L);
    check_nargs(L, fn, 1, 1);
    require_cluster(L, s, fn);
    int node = check_node(L, s, 1, fn);
    struct action *a = action_new(L, kind, 0);
    a->node = node;
    return action_commit(L, s);
}

static int l_isolate(lua_State *L) { return node_action(L, "isolate", ACT_ISOLATE); }
static int l_crash(lua_State *L) { return node_action(L, "crash", ACT_CRASH); }
static int l_restart(lua_State *L) { return node_action(L, "restart", ACT_RESTART); }
static int l_resume(lua_State *L) { return node_action(L, "resume", ACT_RESUME); }

static int l_cut(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "cut", 2, 2);
    require_cluster(L, s, "cut");
    int from = check_endpoint(L, s, 1, "cut", true);
    int to = check_endpoint(L, s, 2, "cut", true);
    if (from == to)
        fail(L, "cut: from and to are the same node \"%s\"", lua_tostring(L, 1));
    struct action *a = action_new(L, ACT_CUT, 0);
    a->node = from;
    a->other = to;
    return action_commit(L, s);
}

static int l_heal(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "heal", 0, 0);
    require_cluster(L, s, "heal");
    action_new(L, ACT_HEAL, 0);
    return action_commit(L, s);
}

static int l_pause(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "pause", 1, 2);
    require_cluster(L, s, "pause");
    int node = check_node(L, s, 1, "pause");
    sim_time d = lua_isnoneornil(L, 2) ? 0 : check_time(L, 2, "pause", "duration");
    if (d > SIM_TIME_LIMIT)
        fail(L, "pause: duration %" PRId64 " is longer than the longest possible run", d);
    struct action *a = action_new(L, ACT_PAUSE, 0);
    a->node = node;
    a->duration = d;
    return action_commit(L, s);
}

static int l_skew(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "skew", 2, 3);
    require_cluster(L, s, "skew");
    int node = check_node(L, s, 1, "skew");
    sim_time offset = check_offset(L, 2, "skew", "offset");
    double drift = lua_isnoneornil(L, 3) ? 0.0
        : check_num(L, 3, "skew", "drift", -0.999999999, 1.0,
                    "above -1 and at most 1 (0.01 = 1% fast)");
    double ppb = drift * 1e9;
    struct action *a = action_new(L, ACT_SKEW, 0);
    a->node = node;
    a->offset = offset;
    a->drift_ppb = (int64_t)(ppb < 0 ? ppb - 0.5 : ppb + 0.5);
    return action_commit(L, s);
}

/* ---- time units and the clock ------------------------------------------ */

static int unit(lua_State *L, const char *fn, lua_Integer scale)
{
    char g[64];
    check_nargs(L, fn, 1, 1);
    if (lua_isinteger(L, 1)) {
        lua_Integer v = lua_tointeger(L, 1);
        if (v < 0)
            fail(L, "%s: time must not be negative, got %lld (write -%s(%lld) for a negative offset)",
                 fn, (long long)v, fn, -(long long)v);
        if (v > SIM_TIME_LIMIT / scale)
            fail(L, "%s: %lld is beyond the longest possible run (2^53 ns, about 104 days)",
                 fn, (long long)v);
        lua_pushinteger(L, v * scale);
        return 1;
    }
    if (lua_type(L, 1) != LUA_TNUMBER)
        fail(L, "%s: expects a number, got %s", fn, luaL_typename(L, 1));
    double d = (double)lua_tonumber(L, 1);
    if (isnan(d) || d < 0)
        fail(L, "%s: time must be a non-negative number, got %s", fn, got(L, 1, g, sizeof g));
    double ns = d * (double)scale;
    if (!(ns <= (double)SIM_TIME_LIMIT))
        fail(L, "%s: %s is beyond the longest possible run (2^53 ns, about 104 days)",
             fn, got(L, 1, g, sizeof g));
    lua_pushinteger(L, (lua_Integer)floor(ns + 0.5));
    return 1;
}

static int l_ns(lua_State *L) { return unit(L, "ns", 1); }
static int l_us(lua_State *L) { return unit(L, "us", SIM_US); }
static int l_ms(lua_State *L) { return unit(L, "ms", SIM_MS); }
static int l_s(lua_State *L) { return unit(L, "s", SIM_S); }

static int l_now(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "now", 0, 0);
    flush_pending(s);
    lua_pushinteger(L, world_now(s->w));
    return 1;
}

/* ---- cluster{} ----------------------------------------------------------- */

static void model_names(char *out, size_t len)
{
    const struct model *const *all = model_all();
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; all[i] && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%s", i ? ", " : "", all[i]->name);
}

static const struct model_param *decl_find(const struct model_param *decl, const char *name)
{
    for (int i = 0; decl && decl[i].name; i++)
        if (strcmp(decl[i].name, name) == 0)
            return &decl[i];
    return NULL;
}

/* The index of the node called name among n nodes named names (NULL:
 * n1..nN), or -1. */
static int local_node(const char *const *names, int n, const char *name)
{
    char buf[24];
    for (int i = 0; i < n; i++)
        if (strcmp(node_name_of(NULL, names, i, buf, sizeof buf), name) == 0)
            return i;
    return -1;
}

/* Node indices of a link end (a name or a list of names) at idx into out
 * (room for n); returns how many. */
static int link_end(lua_State *L, int idx, const char *fn, const char *what,
                    const char *const *names, int n, int *out)
{
    idx = lua_absindex(L, idx);
    int count;
    if (lua_type(L, idx) == LUA_TSTRING)
        count = 1;
    else if (lua_type(L, idx) == LUA_TTABLE)
        count = check_list(L, idx, fn);
    else
        fail(L, "%s: %s must be a node name or a list of node names, got %s", fn, what,
             luaL_typename(L, idx));
    if (count == 0)
        fail(L, "%s: %s is an empty list", fn, what);
    if (count > n)
        fail(L, "%s: %s lists %d names but there are only %d nodes", fn, what, count, n);
    for (int i = 0; i < count; i++) {
        if (lua_type(L, idx) == LUA_TSTRING)
            lua_pushvalue(L, idx);
        else
            lua_rawgeti(L, idx, i + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            fail(L, "%s: %s must list node names, got %s", fn, what, luaL_typename(L, -1));
        int node = local_node(names, n, lua_tostring(L, -1));
        if (node < 0) {
            char known[300];
            describe_nodes(NULL, names, n, false, known, sizeof known);
            fail(L, "%s: unknown node \"%s\" (%s)", fn, lua_tostring(L, -1), known);
        }
        out[i] = node;
        lua_pop(L, 1);
    }
    return count;
}

static void read_latency(lua_State *L, int idx, const char *fn, struct latency *lat)
{
    static const char *const fields[] = {
        "dist", "value", "min", "max", "mean", "stddev", "median", "sigma", "alpha", NULL,
    };
    static const struct {
        const char *dist;
        enum lat_kind kind;
        const char *uses[3];      /* fields this distribution takes */
        int required;             /* how many of uses[] are required */
    } dists[] = {
        { "constant", LAT_CONSTANT, { "value" }, 1 },
        { "uniform", LAT_UNIFORM, { "min", "max" }, 2 },
        { "normal", LAT_NORMAL, { "mean", "stddev" }, 2 },
        { "lognormal", LAT_LOGNORMAL, { "median", "sigma" }, 2 },
        { "pareto", LAT_PARETO, { "min", "alpha", "max" }, 2 },
    };
    char where[96];
    idx = lua_absindex(L, idx);
    int top = lua_gettop(L);
    if (lua_type(L, idx) == LUA_TNUMBER) {
        lat->kind = LAT_CONSTANT;
        lat->a = check_time(L, idx, fn, "latency");
        lat->b = 0;
        lat->shape = 0;
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        fail(L, "%s: latency must be a time (ms(5)) or a table like {dist = \"uniform\", min = ms(1), "
             "max = ms(3)}, got %s", fn, luaL_typename(L, idx));
    snprintf(where, sizeof where, "%s: latency", fn);
    check_fields(L, idx, where, fields, false);
    const char *dist = "constant";
    if (field(L, idx, "dist") != LUA_TNIL)
        dist = check_str(L, -1, where, "dist");
    size_t d = 0;
    while (d < sizeof dists / sizeof dists[0] && strcmp(dists[d].dist, dist) != 0)
        d++;
    if (d == sizeof dists / sizeof dists[0])
        fail(L, "%s: unknown dist \"%s\" (dists: constant, uniform, normal, lognormal, pareto)",
             where, dist);
    lua_pop(L, 1);
    for (int f = 1; fields[f]; f++) {
        bool used = false;
        for (int u = 0; u < 3 && dists[d].uses[u]; u++)
            used = used || strcmp(dists[d].uses[u], fields[f]) == 0;
        bool present = field(L, idx, fields[f]) != LUA_TNIL;
        lua_pop(L, 1);
        if (present && !used)
            fail(L, "%s: dist \"%s\" does not take %s (it takes %s%s%s%s%s)", where, dist, fields[f],
                 dists[d].uses[0], dists[d].uses[1] ? ", " : "", dists[d].uses[1] ? dists[d].uses[1] : "",
                 dists[d].uses[2] ? ", " : "", dists[d].uses[2] ? dists[d].uses[2] : "");
    }
    for (int u = 0; u < dists[d].required; u++) {
        bool present = field(L, idx, dists[d].uses[u]) != LUA_TNIL;
        lua_pop(L, 1);
        if (!present)
            fail(L, "%s: dist \"%s\" needs %s", where, dist, dists[d].uses[u]);
    }
    lat->kind = dists[d].kind;
    lat->a = lat->b = 0;
    lat->shape = 0;
    switch (lat->kind) {
    case LAT_CONSTANT:
        field(L, idx, "value");
        lat->a = check_time(L, -1, where, "value");
        break;
    case LAT_UNIFORM:
        field(L, idx, "min");
        lat->a = check_time(L, -1, where, "min");
        field(L, idx, "max");
        lat->b = check_time(L, -1, where, "max");
        if (lat->b < lat->a)
            fail(L, "%s: max %" PRId64 " is below min %" PRId64, where, lat->b, lat->a);
        break;
    case LAT_NORMAL:
        field(L, idx, "mean");
        lat->a = check_time(L, -1, where, "mean");
        field(L, idx, "stddev");
        lat->b = check_time(L, -1, where, "stddev");
        break;
    case LAT_LOGNORMAL:
        field(L, idx, "median");
        lat->a = check_time(L, -1, where, "median");
        field(L, idx, "sigma");
        lat->shape = check_num(L, -1, where, "sigma", 1e-9, 100, "above 0 and at most 100");
        break;
    case LAT_PARETO:
        field(L, idx, "min");
        lat->a = check_time(L, -1, where, "min");
        field(L, idx, "alpha");
        lat->shape = check_num(L, -1, where, "alpha", 1e-9, 1000, "above 0 and at most 1000");
        if (field(L, idx, "max") != LUA_TNIL) {
            lat->b = check_time(L, -1, where, "max");
            if (lat->b < lat->a)
                fail(L, "%s: max %" PRId64 " is below min %" PRId64, where, lat->b, lat->a);
        }
        break;
    }
    lua_settop(L, top);
    if (lat->a > SIM_TIME_LIMIT || lat->b > SIM_TIME_LIMIT)
        fail(L, "%s: a latency beyond 2^53 ns (104 days) is not a latency", where);
}

/* Read the link fields present in the table at idx into *lp. */
static void read_link_params(lua_State *L, int idx, const char *fn, struct link_params *lp)
{
    idx = lua_absindex(L, idx);
    int top = lua_gettop(L);
    luaL_checkstack(L, 20, fn);
    if (field(L, idx, "latency") != LUA_TNIL)
        read_latency(L, -1, fn, &lp->latency);
    if (field(L, idx, "loss") != LUA_TNIL)
        lp->loss = check_num(L, -1, fn, "loss", 0, 1, "from 0 to 1 (a probability)");
    if (field(L, idx, "dup") != LUA_TNIL)
        lp->dup = check_num(L, -1, fn, "dup", 0, 1, "from 0 to 1 (a probability)");
    if (field(L, idx, "reorder") != LUA_TNIL)
        lp->reorder = check_num(L, -1, fn, "reorder", 0, 1, "from 0 to 1 (a probability)");
    if (field(L, idx, "reorder_delay") != LUA_TNIL) {
        lp->reorder_delay = check_time(L, -1, fn, "reorder_delay");
        if (lp->reorder_delay > SIM_TIME_LIMIT)
            fail(L, "%s: reorder_delay is beyond 2^53 ns (104 days)", fn);
    }
    if (field(L, idx, "bandwidth") != LUA_TNIL)
        lp->bandwidth = check_int(L, -1, fn, "bandwidth (bytes per second)", 0,
                                  INT64_C(1) << 50);
    if (field(L, idx, "fifo") != LUA_TNIL)
        lp->fifo = check_bool(L, -1, fn, "fifo");
    lua_settop(L, top);
}

/* Validate (net NULL) or apply network{} at idx for n nodes named names. The
 * same walk does both, so what was validated is exactly what is applied. */
static void read_network(lua_State *L, int idx, net *net, const char *const *names, int n)
{
    static const char *const fields[] = {
        "latency", "loss", "dup", "reorder", "reorder_delay", "bandwidth", "fifo", "links", NULL,
    };
    static const char *const link_fields[] = {
        "from", "to", "symmetric",
        "latency", "loss", "dup", "reorder", "reorder_delay", "bandwidth", "fifo", NULL,
    };
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE)
        fail(L, "cluster: network must be a table, like network = {latency = ms(5), loss = 0.01}, got %s",
             luaL_typename(L, idx));
    check_fields(L, idx, "network", fields, false);
    struct link_params base;
    net_default_params(&base);
    read_link_params(L, idx, "network", &base);
    if (net)
        net_set_all(net, &base);
    if (field(L, idx, "links") == LUA_TNIL) {
        lua_settop(L, idx);
        return;
    }
    int links_idx = lua_gettop(L);
    if (lua_type(L, links_idx) != LUA_TTABLE)
        fail(L, "network: links must be a list of tables like {from = \"n1\", to = \"n2\", latency = ms(50)}, "
             "got %s", luaL_typename(L, links_idx));
    int n_links = check_list(L, links_idx, "network: links");
    int *from = lua_newuserdatauv(L, 2 * (size_t)n * sizeof *from, 0);
    int *to = from + n;
    for (int k = 1; k <= n_links; k++) {
        char fn[48];
        snprintf(fn, sizeof fn, "network: links[%d]", k);
        lua_rawgeti(L, links_idx, k);
        int link = lua_gettop(L);
        if (lua_type(L, link) != LUA_TTABLE)
            fail(L, "%s: must be a table like {from = \"n1\", to = \"n2\", latency = ms(50)}, got %s",
                 fn, luaL_typename(L, link));
        check_fields(L, link, fn, link_fields, false);
        if (field(L, link, "from") == LUA_TNIL)
            fail(L, "%s: from is missing", fn);
        int n_from = link_end(L, -1, fn, "from", names, n, from);
        if (field(L, link, "to") == LUA_TNIL)
            fail(L, "%s: to is missing", fn);
        int n_to = link_end(L, -1, fn, "to", names, n, to);
        bool symmetric = true;
        if (field(L, link, "symmetric") != LUA_TNIL)
            symmetric = check_bool(L, -1, fn, "symmetric");
        struct link_params lp = base;
        read_link_params(L, link, fn, &lp);
        for (int i = 0; i < n_from && net; i++)
            for (int j = 0; j < n_to; j++) {
                if (from[i] == to[j])
                    continue;
                net_set_link(net, from[i], to[j], &lp);
                if (symmetric)
                    net_set_link(net, to[j], from[i], &lp);
            }
        lua_settop(L, link - 1);
    }
    lua_settop(L, idx);
}

/* Is name the form the world gives clients (c1, c2, ...)? */
static bool client_like(const char *name)
{
    if (name[0] != 'c' || !name[1])
        return false;
    for (const char *p = name + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* ---- swarm ------------------------------------------------------------------ */

/* Draw the swarm configuration from the seed's swarm stream (independent of
 * the scenario, so the same seed always draws the same one), write it to
 * the trace and the result. A nemesis{} then keeps only the allowed fault
 * kinds (at least one of its own) at intensity x factor; cluster{} scales
 * every node-to-node link's latency and raises loss, duplication and
 * reordering to at least the drawn values. */
static void swarm_draw(struct lsim *s)
{
    static const char *const kinds[] = { "partition", "isolate", "crash", "pause", "clock" };
    static const double losses[] = { 0, 0, 0.001, 0.01, 0.05 };
    static const double dups[] = { 0, 0, 0.01 };
    static const double reorders[] = { 0, 0.05 };
    pcg32 rng;
    pcg32_stream(&rng, s->opt->seed, PCG_STREAM_SWARM);
    struct swarm_config *c = &s->swarm;
    c->intensity = dmath_pow(2.0, pcg32_unit(&rng) * 4.0 - 2.0);   /* 1/4 .. 4 */
    c->faults = 0;
    for (int k = 0; k < 5; k++)
        if (pcg32_below(&rng, 5) < 3)
            c->faults |= 1u << k;
    c->latency = dmath_pow(2.0, pcg32_unit(&rng) * 3.0 - 1.0);      /* 1/2 .. 4 */
    c->loss = losses[pcg32_below(&rng, 5)];
    c->dup = dups[pcg32_below(&rng, 3)];
    c->reorder = reorders[pcg32_below(&rng, 2)];
    jw j;
    jw_init(&j);
    jw_obj(&j);
    jw_knum(&j, "intensity", c->intensity);
    jw_key(&j, "faults");
    jw_arr(&j);
    for (int k = 0; k < 5; k++)
        if (c->faults & (1u << k))
            jw_str(&j, kinds[k]);
    jw_arr_end(&j);
    jw_knum(&j, "latency", c->latency);
    jw_knum(&j, "loss", c->loss);
    jw_knum(&j, "dup", c->dup);
    jw_knum(&j, "reorder", c->reorder);
    jw_obj_end(&j);
    snprintf(s->res->swarm_json, sizeof s->res->swarm_json, "%s", j.buf);
    struct trace *tr = world_trace(s->w);
    if (tr) {
        jw *t = trace_begin(tr, 0, "swarm");
        jw_key(t, "config");
        jw_raw(t, j.buf, j.len);
        trace_end(tr);
    }
    jw_free(&j);
}

/* Apply the swarm's network factors to every link between nodes. */
static void swarm_network(struct lsim *s)
{
    net *n = world_net(s->w);
    int nodes = world_nodes(s->w);
    const struct swarm_config *c = &s->swarm;
    for (int a = 0; a < nodes; a++)
        for (int b = 0; b < nodes; b++) {
            if (a == b)
                continue;
            struct link_params lp = *net_link(n, a, b);
            lp.latency.a = (sim_time)((double)lp.latency.a * c->latency);
            lp.latency.b = (sim_time)((double)lp.latency.b * c->latency);
            if (lp.loss < c->loss)
                lp.loss = c->loss;
            if (lp.dup < c->dup)
                lp.dup = c->dup;
            if (lp.reorder < c->reorder) {
                lp.reorder = c->reorder;
                if (lp.reorder_delay <= 0)
                    lp.reorder_delay = 10 * SIM_MS;
            }
            net_set_link(n, a, b, &lp);
        }
}

/* Write the (already validated) Lua value at idx as JSON: a table with
 * keys 1..n only is an array, any other table an object with its keys in
 * canonical order (sandbox_sorted_keys), so the text is the same in every
 * process. Numbers stay integers when they are. Depth is bounded. */
static void lua_to_json(lua_State *L, int idx, jw *j, int depth)
{
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            jw_int(j, (int64_t)lua_tointeger(L, idx));
        else
            jw_num(j, (double)lua_tonumber(L, idx));
        return;
    case LUA_TBOOLEAN:
        jw_bool(j, lua_toboolean(L, idx));
        return;
    case LUA_TSTRING: {
        size_t len;
        const char *str = lua_tolstring(L, idx, &len);
        jw_strn(j, str, len);
        return;
    }
    case LUA_TTABLE:
        break;
    default:
        jw_null(j);
        return;
    }
    if (depth > 8) {
        jw_null(j);
        return;
    }
    luaL_checkstack(L, 6, "network");
    sandbox_sorted_keys(L, idx);
    int keys = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, keys);
    bool array = true;
    for (lua_Integer i = 1; i <= n && array; i++) {
        lua_rawgeti(L, keys, i);
        array = lua_isinteger(L, -1) && lua_tointeger(L, -1) == i;
        lua_pop(L, 1);
    }
    if (array)
        jw_arr(j);
    else
        jw_obj(j);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, keys, i);   /* the key */
        if (!array) {
            if (lua_type(L, -1) == LUA_TSTRING)
                jw_key(j, lua_tostring(L, -1));
            else {
                char k[32];
                snprintf(k, sizeof k, "%lld", (long long)lua_tointeger(L, -1));
                jw_key(j, k);
            }
        }
        lua_pushvalue(L, -1);
        lua_rawget(L, idx);
        lua_to_json(L, -1, j, depth + 1);
        lua_pop(L, 2);
    }
    if (array)
        jw_arr_end(j);
    else
        jw_obj_end(j);
    lua_pop(L, 1);   /* the keys */
}

/* Call the function of PARAM_FUNC parameter `param` as f(key, a, b); on
 * success 0 and the integer result in *out; else -1 and one line in err:
 * "file:line: message" for an error raised inside, or, for a result that is
 * not an integer, the place where the function was defined. */
static int call_func(struct lsim *s, const char *param, const char *key, int64_t a, int64_t b,
                     int64_t *out, char *err, size_t errlen)
{
    lua_State *L = s->L;
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 8)) {
        snprintf(err, errlen, "out of memory (Lua stack)");
        return -1;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->funcs_ref);
    lua_getfield(L, -1, param);
    if (lua_type(L, -1) != LUA_TFUNCTION) {
        snprintf(err, errlen, "parameter \"%s\" has no function", param);
        lua_settop(L, top);
        return -1;
    }
    lua_Debug ar;
    lua_pushvalue(L, -1);
    lua_getinfo(L, ">S", &ar);   /* pops the copy */
    char where[160];
    snprintf(where, sizeof where, "%s:%d", ar.short_src, ar.linedefined);
    lua_pushstring(L, key);
    lua_pushinteger(L, (lua_Integer)a);
    lua_pushinteger(L, (lua_Integer)b);
    s->in_callback++;
    int rc = sandbox_pcall(L, 3, 1, err, errlen);
    s->in_callback--;
    if (rc != 0) {
        lua_settop(L, top);
        return -1;
    }
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    if (!isint || lua_type(L, -1) != LUA_TNUMBER) {
        snprintf(err, errlen, "%s: the function given as parameter \"%s\" must return an integer, "
                 "it returned %s for (\"%s\", %" PRId64 ", %" PRId64 ")", where, param,
                 lua_type(L, -1) == LUA_TNUMBER ? "a number with a fraction" : luaL_typename(L, -1),
                 key, a, b);
        lua_settop(L, top);
        return -1;
    }
    *out = (int64_t)v;
    lua_settop(L, top);
    return 0;
}

/* node_call's way into Lua; a failure stops the run with the error. */
static int call_handler(void *ud, world *w, const char *param, const char *key, int64_t a, int64_t b,
                        int64_t *out)
{
    struct lsim *s = ud;
    (void)w;
    return call_func(s, param, key, a, b, out, s->cb_error, sizeof s->cb_error) != 0;
}

/* Try every function parameter once, f("probe", 1, 2), so a function that
 * raises an error or returns something other than an integer is reported
 * at cluster{} rather than in the middle of the run. */
static void probe_funcs(lua_State *L, struct lsim *s, const struct model *m)
{
    char err[1024];
    const params *p = world_params(s->w);
    for (const struct model_param *d = m->params; d && d->name; d++) {
        if (d->type != PARAM_FUNC || !params_has_func(p, d->name))
            continue;
        int64_t out;
        if (call_func(s, d->name, "probe", 1, 2, &out, err, sizeof err) != 0)
            fail(L, "cluster: parameter \"%s\" failed a trial call %s(\"probe\", 1, 2): %s", d->name,
                 d->name, err);
    }
}

static int l_cluster(lua_State *L)
{
    static const char *const fields[] = { "model", "nodes", "params", "network", NULL };
    struct lsim *s = self(L);
    char models[400], err[512];
    luaL_checkstack(L, 40, "cluster");
    check_nargs(L, "cluster", 1, 1);
    check_table_arg(L, 1, "cluster", "cluster{model = \"pingpong\", nodes = 3}");
    if (world_has_cluster(s->w))
        fail(L, "cluster: the cluster is already defined (a scenario has one cluster{} call)");
    check_fields(L, 1, "cluster", fields, false);

    /* 2: the model */
    model_names(models, sizeof models);
    if (field(L, 1, "model") != LUA_TSTRING)
        fail(L, "cluster: model must be the name of a model, got %s (models: %s)",
             luaL_typename(L, 2), models);
    const struct model *m = model_find(lua_tostring(L, 2));
    if (!m)
        fail(L, "cluster: unknown model \"%s\" (models: %s)", lua_tostring(L, 2), models);

    /* 3: nodes; 4: the names array (a userdata) or nil */
    int n = 3;
    const char **names = NULL;
    int t = field(L, 1, "nodes");
    if (t == LUA_TNUMBER) {
        n = (int)check_int(L, 3, "cluster", "nodes", 1, LSIM_MAX_NODES);
        lua_pushnil(L);
    } else if (t == LUA_TTABLE) {
        n = check_list(L, 3, "cluster: nodes");
        if (n < 1 || n > LSIM_MAX_NODES)
            fail(L, "cluster: nodes must list 1 to %d names, got %d", LSIM_MAX_NODES, n);
        names = lua_newuserdatauv(L, (size_t)n * sizeof *names, 0);
        for (int i = 0; i < n; i++) {
            lua_rawgeti(L, 3, i + 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                fail(L, "cluster: nodes[%d] must be a name (a string), got %s", i + 1, luaL_typename(L, -1));
            size_t len;
            const char *name = lua_tolstring(L, -1, &len);
            if (len == 0 || len > LSIM_NAME_MAX || strlen(name) != len)
                fail(L, "cluster: nodes[%d] must be a name of 1 to %d characters", i + 1, LSIM_NAME_MAX);
            if (client_like(name))
                fail(L, "cluster: node name \"%s\" is reserved: clients are called c1, c2, ...", name);
            for (int k = 0; k < i; k++)
                if (strcmp(names[k], name) == 0)
                    fail(L, "cluster: node name \"%s\" is listed twice", name);
            names[i] = name;   /* kept alive by the nodes table at index 3 */
            lua_pop(L, 1);
        }
    } else if (t == LUA_TNIL) {
        lua_pushnil(L);
    } else {
        fail(L, "cluster: nodes must be a count (nodes = 3) or a list of names (nodes = {\"a\", \"b\"}), "
             "got %s", luaL_typename(L, 3));
    }

    /* 5: params; its keys checked against the model's declarations */
    int params_idx = 0;
    if (field(L, 1, "params") != LUA_TNIL) {
        params_idx = 5;
        if (lua_type(L, 5) != LUA_TTABLE)
            fail(L, "cluster: params must be a table, like params = {n = 3}, got %s", luaL_typename(L, 5));
        sandbox_sorted_keys(L, 5);   /* 6 */
        int nk = (int)lua_rawlen(L, 6);
        for (int i = 1; i <= nk; i++) {
            lua_rawgeti(L, 6, i);
            if (lua_type(L, -1) != LUA_TSTRING || !decl_find(m->params, lua_tostring(L, -1))) {
                char key[96], list[400];
                key_text(L, -1, key, sizeof key);
                params_names(m->params, list, sizeof list);
                fail(L, "cluster: unknown parameter %s for model \"%s\" (parameters: %s)", key, m->name,
                     list[0] ? list : "none");
            }
            lua_pop(L, 1);
        }
    } else {
        lua_pushnil(L);   /* 6 */
    }

    /* 7: network, validated before anything is created */
    if (field(L, 1, "network") != LUA_TNIL)
        read_network(L, 7, NULL, names, n);

    params *p = params_new(m->name, m->params, err, sizeof err);
    if (!p)
        fail(L, "cluster: %s", err);
    params_free(s->tmp_params);
    s->tmp_params = p;
    if (params_idx) {
        int nk = (int)lua_rawlen(L, 6);
        for (int i = 1; i <= nk; i++) {
            lua_rawgeti(L, 6, i);
            const char *key = lua_tostring(L, -1);
            lua_pushvalue(L, -1);
            lua_rawget(L, params_idx);
            int rc;
            switch (lua_type(L, -1)) {
            case LUA_TNUMBER:
                rc = lua_isinteger(L, -1)
                    ? params_set_int(p, key, (int64_t)lua_tointeger(L, -1), err, sizeof err)
                    : params_set_num(p, key, (double)lua_tonumber(L, -1), err, sizeof err);
                break;
            case LUA_TBOOLEAN:
                rc = params_set_bool(p, key, lua_toboolean(L, -1), err, sizeof err);
                break;
            case LUA_TSTRING:
                rc = params_set_string(p, key, lua_tostring(L, -1), err, sizeof err);
                break;
            case LUA_TFUNCTION:
                rc = params_set_func(p, key, err, sizeof err);
                if (rc == 0) {
                    lua_rawgeti(L, LUA_REGISTRYINDEX, s->funcs_ref);
                    lua_pushstring(L, key);
                    lua_pushvalue(L, -3);
                    lua_rawset(L, -3);
                    lua_pop(L, 1);
                }
                break;
            default:
                snprintf(err, sizeof err, "parameter \"%s\" must be a number, a boolean, a string or a "
                         "function, got %s", key, luaL_typename(L, -1));
                rc = -1;
            }
            if (rc != 0)
                fail(L, "cluster: %s", err);
            lua_pop(L, 2);
        }
    }
    /* --param on the command line wins over the scenario */
    for (int i = 0; i < s->opt->n_params; i++) {
        struct lsim_param *cp = &s->opt->params[i];
        if (!params_decl(p, cp->name))
            continue;
        if (params_set_text(p, cp->name, cp->value, err, sizeof err) != 0)
            fail(L, "cluster: --param %s=%s: %s", cp->name, cp->value, err);
        cp->used = true;
    }

    s->tmp_params = NULL;   /* world_cluster owns p from here, even if it fails */
    if (world_cluster(s->w, m, p, n, (const char *const *)names, err, sizeof err) != 0)
        fail(L, "cluster: %s", err);
    if (lua_type(L, 7) == LUA_TTABLE)
        read_network(L, 7, world_net(s->w), names, n);
    if (s->opt->swarm)
        swarm_network(s);
    struct trace *tr = world_trace(s->w);
    if (tr) {
        /* the network as the scenario wrote it (times in ns), so a tool can
         * write the same cluster{} again (sim shrink does) */
        jw *j = trace_begin(tr, world_now(s->w), "network");
        jw_key(j, "spec");
        if (lua_type(L, 7) == LUA_TTABLE)
            lua_to_json(L, 7, j, 0);
        else {
            jw_obj(j);
            jw_obj_end(j);
        }
        trace_end(tr);
    }
    probe_funcs(L, s, m);

    lua_createtable(L, 0, 2);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, world_name(s->w, i));
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "nodes");
    lua_pushstring(L, m->name);
    lua_setfield(L, -2, "model");
    return 1;
}

/* ---- workload{} and nemesis{} -------------------------------------------- */

/* workload{ script = { {at =, client =, f =, key =, value =}, ... } }: read
 * and check the list (which may raise), leaving on the stack a userdata
 * with the operations (*ops points into it) and a list of the distinct
 * keys in order of first use (*keys_idx). Returns the number of
 * operations, 0 (pushing nothing) without a script. Field 1 is the
 * workload{} table. */
static int read_script(lua_State *L, struct wl_script_op **ops, int *keys_idx)
{
    static const char *const excluded[] = {
        "clients", "rate", "closed", "think", "keys", "dist", "zipf", "mix", "values", "txn", "start",
        "duration", "queue", NULL,
    };
    static const char *const op_fields[] = { "at", "client", "f", "key", "value", NULL };
    static const char *const fnames[] = { "read", "write", "cas", "add", "remove" };
    if (field(L, 1, "script") == LUA_TNIL) {
        lua_pop(L, 1);
        return 0;
    }
    int sidx = lua_gettop(L);
    if (lua_type(L, sidx) != LUA_TTABLE)
        fail(L, "workload: script must be a list of operations like {at = ms(10), client = 1, f = \"write\", "
             "key = \"x\", value = 1}, got %s", luaL_typename(L, sidx));
    for (int i = 0; excluded[i]; i++) {
        if (field(L, 1, excluded[i]) != LUA_TNIL)
            fail(L, "workload: script gives the clients, keys and operations itself; %s cannot be used with it",
                 excluded[i]);
        lua_pop(L, 1);
    }
    int n = check_list(L, sidx, "workload: script");
    if (n < 1 || n > 1000000)
        fail(L, "workload: script must list 1 to 1000000 operations, got %d", n);
    struct wl_script_op *out = lua_newuserdatauv(L, (size_t)n * sizeof *out, 0);
    lua_newtable(L);   /* keys list */
    int keys = lua_gettop(L);
    lua_newtable(L);   /* key -> index */
    int index = lua_gettop(L);
    char what[64];
    for (int i = 0; i < n; i++) {
        struct wl_script_op *o = &out[i];
        memset(o, 0, sizeof *o);
        lua_rawgeti(L, sidx, i + 1);
        int e = lua_gettop(L);
        snprintf(what, sizeof what, "workload: script[%d]", i + 1);
        if (lua_type(L, e) != LUA_TTABLE)
            fail(L, "%s must be a table like {at = ms(10), client = 1, f = \"read\", key = \"x\"}, got %s",
                 what, luaL_typename(L, e));
        check_fields(L, e, what, op_fields, false);
        if (field(L, e, "at") == LUA_TNIL)
            fail(L, "%s needs at (when the operation is issued)", what);
        o->at = check_time(L, -1, what, "at");
        if (field(L, e, "client") == LUA_TNIL)
            fail(L, "%s needs client (1, 2, ... within this workload)", what);
        o->client = (int)check_int(L, -1, what, "client", 1, 10000) - 1;
        if (field(L, e, "f") == LUA_TNIL)
            fail(L, "%s needs f (read, write, cas, add or remove)", what);
        const char *f = check_str(L, -1, what, "f");
        o->f = -1;
        for (int k = 0; k < 5; k++)
            if (strcmp(f, fnames[k]) == 0)
                o->f = k;
        if (o->f < 0)
            fail(L, "%s: unknown f \"%s\" (read, write, cas, add or remove)", what, f);
        if (field(L, e, "key") == LUA_TNIL)
            fail(L, "%s needs key", what);
        size_t klen;
        const char *key = check_str(L, -1, what, "key");
        lua_tolstring(L, -1, &klen);
        if (klen == 0 || strlen(key) != klen)
            fail(L, "%s: key must be a non-empty string without NUL bytes", what);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, index) == LUA_TNIL) {
            int k = (int)lua_rawlen(L, keys) + 1;
            if (k > LSIM_MAX_KEYS)
                fail(L, "workload: a script may use at most %d keys", LSIM_MAX_KEYS);
            lua_pushvalue(L, -2);
            lua_rawseti(L, keys, k);
            lua_pushvalue(L, -2);
            lua_pushinteger(L, k);
            lua_rawset(L, index);
            o->key = k - 1;
        } else {
            o->key = (int)lua_tointeger(L, -1) - 1;
        }
        int vt = field(L, e, "value");
        if (o->f == OP_READ) {
            if (vt != LUA_TNIL)
                fail(L, "%s: a read takes no value", what);
        } else if (o->f == OP_CAS) {
            if (vt != LUA_TTABLE || lua_rawlen(L, -1) != 2)
                fail(L, "%s: a cas needs value = {expect, new}", what);
            lua_rawgeti(L, -1, 1);
            o->expect = check_int(L, -1, what, "value[1]", INT64_MIN + 1, INT64_MAX);
            lua_rawgeti(L, -2, 2);
            o->value = check_int(L, -1, what, "value[2]", INT64_MIN + 1, INT64_MAX);
        } else {
            if (vt == LUA_TNIL)
                fail(L, "%s: a %s needs a value", what, f);
            o->value = check_int(L, -1, what, "value", INT64_MIN + 1, INT64_MAX);
        }
        lua_settop(L, index);
    }
    lua_remove(L, index);
    *ops = out;
    *keys_idx = keys;
    return n;
}

static int l_workload(lua_State *L)
{
    static const char *const fields[] = {
        "clients", "rate", "closed", "think", "keys", "dist", "zipf", "mix", "values", "txn", "start", "duration",
        "timeout", "retries", "backoff", "backoff_max", "jitter", "redirects", "target", "queue", "script", NULL,
    };
    static const char *const mix_fields[] = { "read", "write", "cas", "add", "remove", "txn", NULL };
    static const char *const txn_fields[] = { "min", "max", "reads", NULL };
    struct lsim *s = self(L);
    const char *fn = "workload";
    char err[512];
    luaL_checkstack(L, 60, "workload");
    check_nargs(L, fn, 0, 1);
    if (lua_isnone(L, 1))
        lua_newtable(L);
    check_table_arg(L, 1, fn, "workload{clients = 3, rate = 100}");
    lua_settop(L, 1);
    require_cluster(L, s, fn);
    check_fields(L, 1, fn, fields, false);

    struct workload wl;
    workload_defaults(&wl);
    sim_time now = world_now(s->w);
    wl.start = now;

    if (field(L, 1, "clients") != LUA_TNIL)
        wl.clients = (int)check_int(L, -1, fn, "clients", 1, 10000);
    bool has_rate = field(L, 1, "rate") != LUA_TNIL;
    if (has_rate)
        wl.rate = check_num(L, -1, fn, "rate", 1e-9, 1e9,
                             "of operations per second, above 0 and at most 1e9");
    if (field(L, 1, "closed") != LUA_TNIL) {
        bool closed = check_bool(L, -1, fn, "closed");
        if (closed && has_rate)
            fail(L, "workload: rate is for an open loop, but closed = true (give one of them)");
        if (!closed && !has_rate)
            fail(L, "workload: closed = false (an open loop) needs a rate in operations per second");
    }
    wl.closed = !has_rate;
    if (field(L, 1, "think") != LUA_TNIL) {
        if (!wl.closed)
            fail(L, "workload: think is for a closed loop; an open loop (rate =) has no think time");
        wl.think = check_time(L, -1, fn, "think");
    }
    if (field(L, 1, "queue") != LUA_TNIL) {
        if (wl.closed)
            fail(L, "workload: queue is for an open loop (rate =); a closed-loop client never queues");
        wl.queue_limit = (int)check_int(L, -1, fn, "queue", 1, 1000000);
    }

    /* keys: validated now, copied into C memory only when nothing can raise */
    int n_keys = 0;
    int keys_idx = 0;
    int t = field(L, 1, "keys");
    if (t == LUA_TNUMBER) {
        n_keys = (int)check_int(L, -1, fn, "keys", 1, LSIM_MAX_KEYS);
    } else if (t == LUA_TTABLE) {
        keys_idx = lua_gettop(L);
        n_keys = check_list(L, keys_idx, "workload: keys");
        if (n_keys < 1 || n_keys > LSIM_MAX_KEYS)
            fail(L, "workload: keys must list 1 to %d keys, got %d", LSIM_MAX_KEYS, n_keys);
        lua_createtable(L, 0, n_keys);   /* the keys seen, to catch duplicates */
        int seen = lua_gettop(L);
        for (int i = 1; i <= n_keys; i++) {
            lua_rawgeti(L, keys_idx, i);
            size_t len;
            if (lua_type(L, -1) != LUA_TSTRING)
                fail(L, "workload: keys[%d] must be a string, got %s", i, luaL_typename(L, -1));
            const char *key = lua_tolstring(L, -1, &len);
            if (len == 0 || strlen(key) != len)
                fail(L, "workload: keys[%d] must be a non-empty string without NUL bytes", i);
            lua_pushvalue(L, -1);
            if (lua_rawget(L, seen) != LUA_TNIL)
                fail(L, "workload: key \"%s\" is listed twice", key);
            lua_pop(L, 1);
            lua_pushboolean(L, 1);
            lua_rawset(L, seen);
        }
        lua_pop(L, 1);
    } else if (t != LUA_TNIL) {
        fail(L, "workload: keys must be a list of strings or a count, got %s", luaL_typename(L, -1));
    }

    bool zipf_given = field(L, 1, "zipf") != LUA_TNIL;
    if (zipf_given)
        wl.zipf_s = check_num(L, -1, fn, "zipf", 1e-6, 100, "(the exponent) above 0 and at most 100");
    if (field(L, 1, "dist") != LUA_TNIL) {
        const char *dist = check_str(L, -1, fn, "dist");
        if (strcmp(dist, "uniform") == 0)
            wl.key_dist = WL_KEYS_UNIFORM;
        else if (strcmp(dist, "zipf") == 0)
            wl.key_dist = WL_KEYS_ZIPF;
        else
            fail(L, "workload: unknown dist \"%s\" (dists: uniform, zipf)", dist);
        if (zipf_given && wl.key_dist != WL_KEYS_ZIPF)
            fail(L, "workload: zipf is the exponent of dist = \"zipf\", but dist is \"%s\"", dist);
    } else if (zipf_given) {
        wl.key_dist = WL_KEYS_ZIPF;
    }

    if (field(L, 1, "mix") != LUA_TNIL) {
        int mix = lua_gettop(L);
        if (lua_type(L, mix) != LUA_TTABLE)
            fail(L, "workload: mix must be a table like {read = 0.8, write = 0.2}, got %s",
                 luaL_typename(L, mix));
        check_fields(L, mix, "workload: mix", mix_fields, false);
        double sum = 0;
        for (int op = 0; op < OP__COUNT; op++) {
            wl.mix[op] = 0;
            if (field(L, mix, mix_fields[op]) != LUA_TNIL)
                wl.mix[op] = check_num(L, -1, "workload: mix", mix_fields[op], 0, 1e9,
                                       "from 0 to 1e9 (a weight)");
            sum += wl.mix[op];
            lua_pop(L, 1);
        }
        if (!(sum > 0))
            fail(L, "workload: mix needs at least one weight above 0");
    }

    if (field(L, 1, "txn") != LUA_TNIL) {
        int ti = lua_gettop(L);
        if (lua_type(L, ti) != LUA_TTABLE)
            fail(L, "workload: txn must be a table like {min = 2, max = 3, reads = 0.5}, got %s",
                 luaL_typename(L, ti));
        check_fields(L, ti, "workload: txn", txn_fields, false);
        if (field(L, ti, "min") != LUA_TNIL)
            wl.txn_min = (int)check_int(L, -1, "workload: txn", "min", 1, SIM_TXN_MAX);
        if (field(L, ti, "max") != LUA_TNIL)
            wl.txn_max = (int)check_int(L, -1, "workload: txn", "max", 1, SIM_TXN_MAX);
        if (field(L, ti, "reads") != LUA_TNIL)
            wl.txn_reads = check_num(L, -1, "workload: txn", "reads", 0, 1, "from 0 to 1 (a probability)");
        lua_pop(L, 3);
        if (wl.txn_min > wl.txn_max)
            fail(L, "workload: txn needs min <= max, got min = %d, max = %d", wl.txn_min, wl.txn_max);
    }

    if (field(L, 1, "values") != LUA_TNIL) {
        int vi = lua_gettop(L);
        if (lua_type(L, vi) != LUA_TTABLE || check_list(L, vi, "workload: values") != 2)
            fail(L, "workload: values must be a range {lo, hi} of integers (what add and remove draw), "
                 "got %s", luaL_typename(L, vi));
        lua_rawgeti(L, vi, 1);
        wl.values_lo = check_int(L, -1, fn, "values[1]", -1000000000000LL, 1000000000000LL);
        lua_rawgeti(L, vi, 2);
        wl.values_hi = check_int(L, -1, fn, "values[2]", -1000000000000LL, 1000000000000LL);
        if (wl.values_lo > wl.values_hi)
            fail(L, "workload: values must be {lo, hi} with lo <= hi, got {%lld, %lld}",
                 (long long)wl.values_lo, (long long)wl.values_hi);
        lua_pop(L, 2);
    }

    if (field(L, 1, "start") != LUA_TNIL) {
        wl.start = check_time(L, -1, fn, "start");
        check_future(L, s, wl.start, fn, "start");
    }
    if (field(L, 1, "duration") != LUA_TNIL) {
        wl.duration = check_time(L, -1, fn, "duration");
        if (wl.duration == 0)
            fail(L, "workload: duration must be above 0 (leave it out for no end)");
        if (wl.duration > SIM_TIME_LIMIT)
            fail(L, "workload: duration is beyond 2^53 ns (104 days)");
    }
    if (field(L, 1, "timeout") != LUA_TNIL) {
        wl.timeout = check_time(L, -1, fn, "timeout");
        if (wl.timeout == 0 || wl.timeout > SIM_TIME_LIMIT)
            fail(L, "workload: timeout must be above 0 and at most 2^53 ns");
    }
    if (field(L, 1, "retries") != LUA_TNIL)
        wl.retries = (int)check_int(L, -1, fn, "retries", 0, 1000);
    if (field(L, 1, "backoff") != LUA_TNIL)
        wl.backoff = check_time(L, -1, fn, "backoff");
    if (field(L, 1, "backoff_max") != LUA_TNIL)
        wl.backoff_max = check_time(L, -1, fn, "backoff_max");
    if (wl.backoff > SIM_TIME_LIMIT || wl.backoff_max > SIM_TIME_LIMIT)
        fail(L, "workload: backoff is beyond 2^53 ns (104 days)");
    if (wl.backoff_max < wl.backoff)
        fail(L, "workload: backoff_max %" PRId64 " is below backoff %" PRId64, wl.backoff_max, wl.backoff);
    if (field(L, 1, "jitter") != LUA_TNIL)
        wl.jitter = check_num(L, -1, fn, "jitter", 0, 1, "from 0 to 1");
    if (field(L, 1, "redirects") != LUA_TNIL)
        wl.max_redirects = (int)check_int(L, -1, fn, "redirects", 0, 1000);
    if (field(L, 1, "target") != LUA_TNIL) {
        const char *target = check_str(L, -1, fn, "target");
        if (strcmp(target, "random") == 0)
            wl.target = WL_TARGET_RANDOM;
        else if (strcmp(target, "sticky") == 0)
            wl.target = WL_TARGET_STICKY;
        else if (strcmp(target, "leader") == 0)
            wl.target = WL_TARGET_LEADER;
        else {
            int e = world_find(s->w, target);
            if (e < 0 || e >= world_nodes(s->w)) {
                char known[300];
                describe_nodes(s->w, NULL, world_nodes(s->w), false, known, sizeof known);
                fail(L, "workload: target must be \"random\", \"sticky\", \"leader\" or a node name, "
                     "got \"%s\" (%s)", target, known);
            }
            wl.target = WL_TARGET_NODE;
            wl.node = e;
        }
    }
    lua_settop(L, keys_idx ? keys_idx : 1);
    int script_keys = 0;
    struct wl_script_op *script_ops = NULL;
    int n_script = read_script(L, &script_ops, &script_keys);   /* may raise; owns nothing in C */
    if (n_script > 0) {
        n_keys = (int)lua_rawlen(L, script_keys);
        keys_idx = script_keys;
        wl.n_script = n_script;
    }

    /* From here on nothing raises until the keys belong to the world. */
    int first = world_clients(s->w);
    if (n_script > 0) {
        wl.script = sim_xmalloc((size_t)n_script * sizeof *wl.script);
        memcpy(wl.script, script_ops, (size_t)n_script * sizeof *wl.script);
    }
    if (n_keys == 0 && wl.n_keys == 0) {
        n_keys = 1;   /* the default: one key, "x" */
        wl.keys = sim_xcalloc(1, sizeof *wl.keys);
        wl.keys[0] = sim_xstrdup("x");
        wl.n_keys = 1;
    } else if (n_keys > 0) {
        wl.keys = sim_xcalloc((size_t)n_keys, sizeof *wl.keys);
        wl.n_keys = n_keys;
        for (int i = 0; i < n_keys; i++) {
            if (keys_idx) {
                lua_rawgeti(L, keys_idx, i + 1);
                wl.keys[i] = sim_xstrdup(lua_tostring(L, -1));
                lua_pop(L, 1);
            } else {
                char buf[24];
                snprintf(buf, sizeof buf, "k%d", i + 1);
                wl.keys[i] = sim_xstrdup(buf);
            }
        }
    }
    int rc = world_workload(s->w, &wl, err, sizeof err);
    if (wl.keys) {   /* still ours: world_workload failed */
        for (int i = 0; i < wl.n_keys; i++)
            sim_free(wl.keys[i]);
        sim_free(wl.keys);
        sim_free(wl.script);
    }
    if (rc != 0)
        fail(L, "workload: %s", err);

    int last = world_clients(s->w);
    lua_createtable(L, 0, 1);
    lua_createtable(L, last - first, 0);
    for (int c = first; c < last; c++) {
        lua_pushstring(L, world_name(s->w, world_nodes(s->w) + c));
        lua_rawseti(L, -2, c - first + 1);
    }
    lua_setfield(L, -2, "clients");
    return 1;
}

static int l_nemesis(lua_State *L)
{
    static const char *const fields[] = {
        "faults", "intensity", "start", "stop", "min", "max", "clock_jump", "drift", NULL,
    };
    static const char *const fault_names[] = { "partition", "isolate", "crash", "pause", "clock", NULL };
    struct lsim *s = self(L);
    const char *fn = "nemesis";
    char err[512], list[200];
    luaL_checkstack(L, 40, "nemesis");
    check_nargs(L, fn, 0, 1);
    if (lua_isnone(L, 1))
        lua_newtable(L);
    check_table_arg(L, 1, fn, "nemesis{faults = {\"partition\", \"crash\"}, intensity = 2}");
    lua_settop(L, 1);
    require_cluster(L, s, fn);
    check_fields(L, 1, fn, fields, false);

    struct nemesis nm;
    nemesis_defaults(&nm);
    sim_time now = world_now(s->w);
    if (nm.start < now)
        nm.start = now;
    if (field(L, 1, "faults") != LUA_TNIL) {
        int f = lua_gettop(L);
        join_names(fault_names, list, sizeof list);
        if (lua_type(L, f) != LUA_TTABLE)
            fail(L, "nemesis: faults must be a list of fault names (%s), got %s", list, luaL_typename(L, f));
        int n = check_list(L, f, "nemesis: faults");
        if (n == 0)
            fail(L, "nemesis: faults is empty (leave it out for all of them: %s)", list);
        nm.faults = 0;
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, f, i);
            const char *name = check_str(L, -1, fn, "a fault");
            int k = 0;
            while (fault_names[k] && strcmp(fault_names[k], name) != 0)
                k++;
            if (!fault_names[k])
                fail(L, "nemesis: unknown fault \"%s\" (faults: %s)", name, list);
            nm.faults |= 1u << k;
            lua_pop(L, 1);
        }
    }
    if (field(L, 1, "intensity") != LUA_TNIL)
        nm.intensity = check_num(L, -1, fn, "intensity", 1e-9, 1e6,
                                  "of faults per second, above 0 and at most 1e6");
    if (field(L, 1, "start") != LUA_TNIL) {
        nm.start = check_time(L, -1, fn, "start");
        check_future(L, s, nm.start, fn, "start");
    }
    if (field(L, 1, "stop") != LUA_TNIL) {
        nm.stop = check_time(L, -1, fn, "stop");
        check_future(L, s, nm.stop, fn, "stop");
        if (nm.stop <= nm.start)
            fail(L, "nemesis: stop %" PRId64 " must come after start %" PRId64, nm.stop, nm.start);
    }
    if (field(L, 1, "min") != LUA_TNIL)
        nm.min_duration = check_time(L, -1, fn, "min");
    if (field(L, 1, "max") != LUA_TNIL)
        nm.max_duration = check_time(L, -1, fn, "max");
    if (nm.min_duration == 0 || nm.max_duration > SIM_TIME_LIMIT)
        fail(L, "nemesis: a fault must last above 0 and at most 2^53 ns");
    if (nm.max_duration < nm.min_duration)
        fail(L, "nemesis: max %" PRId64 " is below min %" PRId64, nm.max_duration, nm.min_duration);
    if (field(L, 1, "clock_jump") != LUA_TNIL) {
        nm.max_clock_jump = check_time(L, -1, fn, "clock_jump");
        if (nm.max_clock_jump > SIM_TIME_LIMIT)
            fail(L, "nemesis: clock_jump is beyond 2^53 ns (104 days)");
    }
    if (field(L, 1, "drift") != LUA_TNIL)
        nm.max_drift = check_num(L, -1, fn, "drift", 0, 0.999, "from 0 to 0.999 (0.01 = 1%)");
    if (s->opt->swarm) {
        unsigned kept = nm.faults & s->swarm.faults;
        if (!kept) {
            /* keep the scenario's first fault kind: a nemesis with none does nothing */
            for (int k = 0; k < 5 && !kept; k++)
                kept = nm.faults & (1u << k);
        }
        nm.faults = kept;
        nm.intensity *= s->swarm.intensity;
    }
    if (world_nemesis(s->w, &nm, err, sizeof err) != 0)
        fail(L, "nemesis: %s", err);
    return 0;
}

/* ---- at, every, run -------------------------------------------------------- */

/* Register the function or action at idx to fire at `first`. */
static void schedule(lua_State *L, struct lsim *s, int idx, const char *fn, bool repeat,
                     sim_time period, sim_time until, sim_time first)
{
    struct action *a = luaL_testudata(L, idx, ACTION_META);
    if (!a && lua_type(L, idx) != LUA_TFUNCTION)
        fail(L, "%s: expects a function or an action (like crash(\"n1\") or heal()) to run, got %s",
             fn, luaL_typename(L, idx));
    SIM_GROW(s->cbs, s->cap_cbs, s->n_cbs + 1);
    size_t ref = s->n_cbs;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->callbacks_ref);
    lua_pushvalue(L, idx);
    lua_rawseti(L, -2, (lua_Integer)ref + 1);
    lua_pop(L, 1);
    s->n_cbs++;
    s->cbs[ref] = (struct lsim_cb){ .live = true, .repeat = repeat, .period = period, .until = until };
    if (a)
        a->consumed = true;
    world_at(s->w, first, ref);
}

static int l_at(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "at", 2, 2);
    require_cluster(L, s, "at");
    sim_time t = check_time(L, 1, "at", "time");
    check_future(L, s, t, "at", "time");
    schedule(L, s, 2, "at", false, 0, 0, t);
    return 0;
}

static int l_every(lua_State *L)
{
    static const char *const fields[] = { "start", "until_", NULL };
    struct lsim *s = self(L);
    check_nargs(L, "every", 2, 3);
    require_cluster(L, s, "every");
    sim_time period = check_time(L, 1, "every", "period");
    if (period == 0 || period > SIM_TIME_LIMIT)
        fail(L, "every: period must be above 0 (and at most 2^53 ns), got %" PRId64, period);
    sim_time now = world_now(s->w);
    sim_time first = now + period;
    sim_time until = SIM_TIME_LIMIT;
    if (!lua_isnoneornil(L, 3)) {
        if (lua_type(L, 3) != LUA_TTABLE)
            fail(L, "every: the third argument must be a table like {start = ms(100), until_ = s(1)}, got %s",
                 luaL_typename(L, 3));
        check_fields(L, 3, "every", fields, false);
        if (field(L, 3, "start") != LUA_TNIL) {
            first = check_time(L, -1, "every", "start");
            check_future(L, s, first, "every", "start");
        }
        if (field(L, 3, "until_") != LUA_TNIL) {
            until = check_time(L, -1, "every", "until_");
            if (until > SIM_TIME_LIMIT)
                until = SIM_TIME_LIMIT;
        }
        lua_settop(L, 3);
    }
    if (first > SIM_TIME_LIMIT)
        fail(L, "every: the first run at %" PRId64 " is beyond 2^53 ns (104 days)", first);
    if (until < first)
        fail(L, "every: until_ %" PRId64 " comes before the first run at %" PRId64, until, first);
    schedule(L, s, 2, "every", true, period, until, first);
    return 0;
}

/* Run one callback, inside sandbox_pcall (so any error, memory included, is
 * caught before it crosses world_run). Arguments: the lsim, the ref. */
static int l_fire(lua_State *L)
{
    struct lsim *s = lua_touserdata(L, 1);
    size_t ref = (size_t)lua_tointeger(L, 2);
    bool keep = true;
    s->in_callback++;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->callbacks_ref);   /* 3 */
    lua_rawgeti(L, 3, (lua_Integer)ref + 1);               /* 4 */
    struct action *a = luaL_testudata(L, 4, ACTION_META);
    if (a) {
        action_apply(s, a);
    } else {
        lua_pushvalue(L, 4);
        lua_call(L, 0, 1);
        keep = !(lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1));
        lua_pop(L, 1);
    }
    flush_pending(s);
    s->in_callback--;
    /* s->cbs may have moved: the callback may have called at() */
    struct lsim_cb *cb = &s->cbs[ref];
    sim_time next = world_now(s->w) + cb->period;
    if (cb->repeat && keep && next <= cb->until) {
        world_at(s->w, next, ref);
    } else {
        cb->live = false;
        lua_pushnil(L);
        lua_rawseti(L, 3, (lua_Integer)ref + 1);
    }
    return 0;
}

/* The world's script hook: fire callback ref; an error stops the run. */
static int script_handler(void *ud, world *w, uint64_t ref)
{
    struct lsim *s = ud;
    lua_State *L = s->L;
    (void)w;
    int top = lua_gettop(L);
    int depth = s->in_callback;
    if (!lua_checkstack(L, 8)) {
        snprintf(s->cb_error, sizeof s->cb_error, "out of memory (Lua stack)");
        return 1;
    }
    lua_pushcfunction(L, l_fire);
    lua_pushlightuserdata(L, s);
    lua_pushinteger(L, (lua_Integer)ref);
    int rc = sandbox_pcall(L, 2, 0, s->cb_error, sizeof s->cb_error);
    s->in_callback = depth;
    lua_settop(L, top);
    return rc != 0;
}

static int l_run(lua_State *L)
{
    static const char *const fields[] = { "until_", NULL };
    struct lsim *s = self(L);
    char g[64];
    check_nargs(L, "run", 1, 1);
    if (s->in_callback)
        fail(L, "run: cannot be called inside an at() or every() callback");
    require_cluster(L, s, "run");
    sim_time now = world_now(s->w);
    sim_time until;
    if (lua_type(L, 1) == LUA_TTABLE) {
        check_fields(L, 1, "run", fields, false);
        if (field(L, 1, "until_") == LUA_TNIL)
            fail(L, "run: until_ is missing, like run{until_ = s(1)}");
        until = check_time(L, -1, "run", "until_");
    } else if (lua_type(L, 1) == LUA_TNUMBER) {
        sim_time d = check_time(L, 1, "run", "duration");
        if (d > SIM_TIME_LIMIT - now)
            fail(L, "run: now + %" PRId64 " is beyond the longest possible run (2^53 ns, about 104 days)", d);
        until = now + d;
    } else {
        fail(L, "run: expects a duration, like run(s(1)), or {until_ = time}, got %s", got(L, 1, g, sizeof g));
    }
    check_future(L, s, until, "run", "time");
    flush_pending(s);
    s->cb_error[0] = '\0';
    int rc = world_run(s->w, until);
    switch (rc) {
    case WORLD_OK:
        return 0;
    case WORLD_INVARIANT:
        /* a finding, not a scenario error: the script goes on (expect{}
         * still runs) but the world stays stopped, so later run() calls
         * return at once and sim run reports the violation */
        return 0;
    case WORLD_QUEUE_LIMIT:
        fail(L, "run: more than %u events pending at %.9f s of virtual time: a message storm "
             "(a model that sends faster than it delivers, or conflicts that never settle)?",
             (unsigned)WORLD_MAX_PENDING, (double)world_now(s->w) / 1e9);
    case WORLD_INTERRUPTED:
        s->interrupted = true;
        fail(L, "run: interrupted at %.9f s of virtual time (SIGINT or SIGTERM)", (double)world_now(s->w) / 1e9);
    case WORLD_STOPPED:
        /* already "file:line: message" from the callback: raise it as is */
        lua_pushstring(L, s->cb_error[0] ? s->cb_error : "run: stopped by a callback");
        return lua_error(L);
    case WORLD_EVENT_LIMIT: {
        uint64_t limit = s->opt->max_events ? s->opt->max_events : world_stats(s->w)->events;
        fail(L, "run: more than %" PRIu64 " events: a model or scenario that never settles? "
             "(raise it with --max-events)", limit);
    }
    case WORLD_TRACE_ERROR: {
        int e = errno;
        s->trace_failed = true;
        fail(L, "run: cannot write the trace: %s", e ? strerror(e) : "write failed");
    }
    default:
        fail(L, "run: the world stopped with status %d", rc);
    }
}

/* ---- stats and expect ------------------------------------------------------ */

struct expect_kind;
/* Evaluate expectation k against the value the scenario gave at vidx:
 * fill out->held and out->detail, or raise if the value is malformed. */
typedef void expect_fn(lua_State *L, struct lsim *s, const struct expect_kind *k, int vidx,
                       struct lsim_expect *out);

struct expect_kind {
    const char *name;
    expect_fn *eval;
    size_t stat;           /* expect_stat: offset in struct world_stats */
};

#define STAT_TIME ((size_t)-1)
static expect_fn expect_stat;

/* Every name stats() returns and expect{} accepts as a count. expect{}
 * also accepts the names of checkers (lsim_options.checkers), whose
 * verdicts are decided after the run. */
#define EXPECT_STAT(key, member) { key, expect_stat, offsetof(struct world_stats, member) }
static const struct expect_kind expect_kinds[] = {
    EXPECT_STAT("events", events),
    EXPECT_STAT("messages_sent", msgs_sent),
    EXPECT_STAT("messages_delivered", msgs_delivered),
    EXPECT_STAT("messages_dropped", msgs_dropped),
    EXPECT_STAT("messages_duplicated", msgs_duplicated),
    EXPECT_STAT("timers", timers),
    EXPECT_STAT("ops_invoked", ops_invoked),
    EXPECT_STAT("ops_ok", ops_ok),
    EXPECT_STAT("ops_fail", ops_fail),
    EXPECT_STAT("ops_info", ops_info),
    EXPECT_STAT("ops_shed", ops_shed),
    EXPECT_STAT("retries", retries),
    EXPECT_STAT("redirects", redirects),
    EXPECT_STAT("crashes", crashes),
    EXPECT_STAT("invariant_violations", invariant_violations),
    { "time", expect_stat, STAT_TIME },
    { NULL, NULL, 0 },
};

static uint64_t stat_value(struct lsim *s, const struct expect_kind *k)
{
    if (k->stat == STAT_TIME)
        return (uint64_t)world_now(s->w);
    uint64_t v;
    memcpy(&v, (const char *)world_stats(s->w) + k->stat, sizeof v);
    return v;
}

static int l_stats(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "stats", 0, 0);
    flush_pending(s);
    lua_createtable(L, 0, (int)(sizeof expect_kinds / sizeof expect_kinds[0]));
    for (const struct expect_kind *k = expect_kinds; k->name; k++) {
        if (k->eval != expect_stat)
            continue;
        lua_pushinteger(L, (lua_Integer)stat_value(s, k));
        lua_setfield(L, -2, k->name);
    }
    return 1;
}

static void fmt_num(double d, char *buf, size_t len)
{
    if (is_whole(d))
        snprintf(buf, len, "%lld", (long long)d);
    else
        snprintf(buf, len, "%.14g", d);
}

static void expect_stat(lua_State *L, struct lsim *s, const struct expect_kind *k, int vidx,
                        struct lsim_expect *out)
{
    static const char *const fields[] = { "min", "max", NULL };
    uint64_t v = stat_value(s, k);
    double dv = (double)v;
    char fn[96], lo_s[48], hi_s[48];
    snprintf(fn, sizeof fn, "expect: %s", k->name);
    if (lua_type(L, vidx) == LUA_TNUMBER) {
        if (lua_isinteger(L, vidx))
            out->held = lua_tointeger(L, vidx) >= 0 && (uint64_t)lua_tointeger(L, vidx) == v;
        else
            out->held = (double)lua_tonumber(L, vidx) == dv;
        fmt_num((double)lua_tonumber(L, vidx), lo_s, sizeof lo_s);
        if (lua_isinteger(L, vidx))
            snprintf(lo_s, sizeof lo_s, "%lld", (long long)lua_tointeger(L, vidx));
        snprintf(out->detail, sizeof out->detail, "%s = %" PRIu64 ", expected %s", k->name, v, lo_s);
        return;
    }
    if (lua_type(L, vidx) != LUA_TTABLE)
        fail(L, "expect: %s must be a number or a range like {min = 10, max = 20}, got %s",
             k->name, luaL_typename(L, vidx));
    check_fields(L, vidx, fn, fields, false);
    bool has_lo = field(L, vidx, "min") != LUA_TNIL;
    double lo = has_lo ? check_real(L, -1, fn, "min") : 0;
    bool has_hi = field(L, vidx, "max") != LUA_TNIL;
    double hi = has_hi ? check_real(L, -1, fn, "max") : 0;
    lua_pop(L, 2);
    if (!has_lo && !has_hi)
        fail(L, "expect: %s needs min, max or both, like {min = 10}", k->name);
    if (has_lo && has_hi && hi < lo)
        fail(L, "expect: %s has max below min", k->name);
    fmt_num(lo, lo_s, sizeof lo_s);
    fmt_num(hi, hi_s, sizeof hi_s);
    out->held = (!has_lo || dv >= lo) && (!has_hi || dv <= hi);
    if (has_lo && has_hi)
        snprintf(out->detail, sizeof out->detail, "%s = %" PRIu64 ", expected between %s and %s",
                 k->name, v, lo_s, hi_s);
    else if (has_lo)
        snprintf(out->detail, sizeof out->detail, "%s = %" PRIu64 ", expected at least %s", k->name, v, lo_s);
    else
        snprintf(out->detail, sizeof out->detail, "%s = %" PRIu64 ", expected at most %s", k->name, v, hi_s);
}

/* ---- expectations decided by checkers after the run ---- */

static bool is_checker(const struct lsim *s, const char *name)
{
    for (int i = 0; s->opt->checkers && s->opt->checkers[i]; i++)
        if (strcmp(s->opt->checkers[i], name) == 0)
            return true;
    return false;
}

/* The checker that decides expectation `name`, or NULL: a checker's own
 * name, or pacelc, which the cap checker decides. */
static const char *checker_for(const struct lsim *s, const char *name)
{
    if (strcmp(name, "pacelc") == 0)
        return is_checker(s, "cap") ? "cap" : NULL;
    return is_checker(s, name) ? name : NULL;
}

/* "PA/EL", "PC/EC", ...: what a PACELC label looks like. */
static bool pacelc_label(const char *v)
{
    return strlen(v) == 5 && v[0] == 'P' && (v[1] == 'A' || v[1] == 'C') && v[2] == '/' &&
           v[3] == 'E' && (v[4] == 'L' || v[4] == 'C');
}

/* Record a checker expectation (value at vidx) for the caller to decide. */
static void expect_checker(lua_State *L, struct lsim *s, const char *name, const char *checker,
                           int vidx, struct lsim_expect *out)
{
    char g[48];
    snprintf(out->checker_name, sizeof out->checker_name, "%s", checker);
    out->checker = true;
    if (strcmp(name, "pacelc") == 0) {
        if (lua_type(L, vidx) != LUA_TSTRING || !pacelc_label(lua_tostring(L, vidx)))
            fail(L, "expect: pacelc must be a label like \"PA/EL\" (PA or PC, then EL or EC), got %s",
                 lua_type(L, vidx) == LUA_TSTRING ? lua_tostring(L, vidx) : got(L, vidx, g, sizeof g));
        snprintf(out->want_label, sizeof out->want_label, "%s", lua_tostring(L, vidx));
    } else {
        if (lua_type(L, vidx) != LUA_TBOOLEAN)
            fail(L, "expect: %s must be true (the checker must find that it holds) or false (it "
                 "must find a violation), got %s", name, got(L, vidx, g, sizeof g));
        out->want = lua_toboolean(L, vidx);
    }
    luaL_where(L, 1);
    size_t len;
    const char *where = lua_tolstring(L, -1, &len);
    while (len > 0 && (where[len - 1] == ':' || where[len - 1] == ' '))
        len--;   /* "file:line: " -> "file:line" */
    snprintf(out->where, sizeof out->where, "%.*s", (int)len, where);
    lua_pop(L, 1);
    if (s->res->n_expect >= LSIM_MAX_EXPECT)
        fail(L, "expect: too many expectations (at most %d in a run)", LSIM_MAX_EXPECT);
}

/* expect{slo = {availability = 0.999, p99 = ms(50), window = s(1), met = true}}:
 * check the values, write the "slo" trace line the judge reads
 * (sim/check/slo.c) and record a checker expectation "slo", decided after
 * the run like the others (want = met). */
static void expect_slo(lua_State *L, struct lsim *s, int vidx, struct lsim_expect *out)
{
    static const char *const fields[] = { "availability", "p50", "p90", "p95", "p99", "p999",
                                          "window", "met", NULL };
    static const char *const pcts[] = { "p50", "p90", "p95", "p99", "p999", NULL };
    const char *fn = "expect: slo";
    if (lua_type(L, vidx) != LUA_TTABLE)
        fail(L, "expect: slo must be a table like {availability = 0.999, p99 = ms(50)}, got %s",
             luaL_typename(L, vidx));
    check_fields(L, vidx, fn, fields, false);
    /* every value is checked before the trace line is begun: fail() does
     * not return, and must not leave a line half written */
    double avail = -1;
    sim_time bound[5] = { 0, 0, 0, 0, 0 }, window = 0;
    bool any = false;
    if (field(L, vidx, "availability") != LUA_TNIL) {
        char g[64];
        double a = lua_type(L, -1) == LUA_TNUMBER ? (double)lua_tonumber(L, -1) : -1;
        if (!(a > 0 && a <= 1))
            fail(L, "expect: slo: availability must be a fraction above 0 and at most 1, like 0.999, "
                 "got %s", got(L, -1, g, sizeof g));
        avail = a;
        any = true;
    }
    lua_pop(L, 1);
    for (int k = 0; pcts[k]; k++) {
        if (field(L, vidx, pcts[k]) != LUA_TNIL) {
            char what[64];
            snprintf(what, sizeof what, "%s (a latency bound)", pcts[k]);
            sim_time v = check_time(L, -1, fn, what);
            if (v <= 0)
                fail(L, "expect: slo: %s must be a latency above 0, like ms(50)", pcts[k]);
            bound[k] = v;
            any = true;
        }
        lua_pop(L, 1);
    }
    if (field(L, vidx, "window") != LUA_TNIL) {
        sim_time v = check_time(L, -1, fn, "window");
        if (v <= 0)
            fail(L, "expect: slo: window must be a duration above 0, like s(1)");
        window = v;
    }
    lua_pop(L, 1);
    bool met = true;
    if (field(L, vidx, "met") != LUA_TNIL)
        met = check_bool(L, -1, fn, "met");
    lua_pop(L, 1);
    if (!any)
        fail(L, "expect: slo needs an objective: availability = 0.999, or a latency bound p50, p90, "
             "p95, p99 or p999 = ms(...)");
    snprintf(out->checker_name, sizeof out->checker_name, "slo");
    out->checker = true;
    out->want = met;
    luaL_where(L, 1);
    size_t len;
    const char *where = lua_tolstring(L, -1, &len);
    while (len > 0 && (where[len - 1] == ':' || where[len - 1] == ' '))
        len--;
    snprintf(out->where, sizeof out->where, "%.*s", (int)len, where);
    lua_pop(L, 1);
    if (s->res->n_expect >= LSIM_MAX_EXPECT)
        fail(L, "expect: too many expectations (at most %d in a run)", LSIM_MAX_EXPECT);
    struct trace *tr = world_trace(s->w);
    if (tr) {
        jw *j = trace_begin(tr, world_now(s->w), "slo");
        if (avail > 0)
            jw_knum(j, "availability", avail);
        for (int k = 0; pcts[k]; k++)
            if (bound[k] > 0)
                jw_kint(j, pcts[k], bound[k]);
        if (window > 0)
            jw_kint(j, "window", window);
        jw_kbool(j, "met", met);
        jw_kstr(j, "where", out->where);
        trace_end(tr);
    }
}

static int l_expect(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "expect", 1, 1);
    check_table_arg(L, 1, "expect", "expect{ops_ok = {min = 100}}");
    flush_pending(s);
    sandbox_sorted_keys(L, 1);   /* 2 */
    int n = (int)lua_rawlen(L, 2);
    bool all = true;
    for (int i = 1; i <= n; i++) {
        lua_rawgeti(L, 2, i);    /* 3: the name */
        const struct expect_kind *k = NULL;
        const char *checker = NULL;
        if (lua_type(L, 3) == LUA_TSTRING && strcmp(lua_tostring(L, 3), "slo") == 0) {
            struct lsim_expect rec;
            memset(&rec, 0, sizeof rec);
            snprintf(rec.name, sizeof rec.name, "slo");
            lua_pushvalue(L, 3);
            lua_rawget(L, 1);    /* 4: the value */
            expect_slo(L, s, 4, &rec);
            s->res->expect[s->res->n_expect++] = rec;
            s->res->n_checker_expect++;
            lua_settop(L, 2);
            continue;
        }
        if (lua_type(L, 3) == LUA_TSTRING) {
            for (const struct expect_kind *e = expect_kinds; e->name && !k; e++)
                if (strcmp(e->name, lua_tostring(L, 3)) == 0)
                    k = e;
            if (!k)
                checker = checker_for(s, lua_tostring(L, 3));
        }
        if (!k && !checker) {
            char key[96], list[1200];
            size_t used = 0;
            key_text(L, 3, key, sizeof key);
            list[0] = '\0';
            for (const struct expect_kind *e = expect_kinds; e->name && used < sizeof list; e++)
                used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                         e == expect_kinds ? "" : ", ", e->name);
            for (int c = 0; s->opt->checkers && s->opt->checkers[c] && used < sizeof list; c++)
                used += (size_t)snprintf(list + used, sizeof list - used, ", %s", s->opt->checkers[c]);
            if (is_checker(s, "cap") && used < sizeof list)
                used += (size_t)snprintf(list + used, sizeof list - used, ", pacelc");
            if (used < sizeof list)
                snprintf(list + used, sizeof list - used, ", slo");
            fail(L, "expect: unknown expectation %s (known: %s)", key, list);
        }
        lua_pushvalue(L, 3);
        lua_rawget(L, 1);        /* 4: the value */
        if (checker) {
            struct lsim_expect rec;
            memset(&rec, 0, sizeof rec);
            snprintf(rec.name, sizeof rec.name, "%s", lua_tostring(L, 3));
            expect_checker(L, s, rec.name, checker, 4, &rec);
            s->res->expect[s->res->n_expect++] = rec;
            s->res->n_checker_expect++;
            lua_settop(L, 2);
            continue;
        }
        struct lsim_expect out;
        memset(&out, 0, sizeof out);
        snprintf(out.name, sizeof out.name, "%s", k->name);
        k->eval(L, s, k, 4, &out);
        lua_settop(L, 2);
        all = all && out.held;
        if (!out.held)
            s->expect_failed = true;
        if (s->res->n_expect < LSIM_MAX_EXPECT)
            s->res->expect[s->res->n_expect++] = out;
        struct trace *tr = world_trace(s->w);
        if (tr) {
            jw *j = trace_begin(tr, world_now(s->w), "expect");
            jw_kstr(j, "name", out.name);
            jw_kbool(j, "held", out.held);
            jw_kstr(j, "detail", out.detail);
            trace_end(tr);
        }
    }
    lua_pushboolean(L, all);
    return 1;
}

/* ---- param, print, log ------------------------------------------------- */

static int l_param(lua_State *L)
{
    struct lsim *s = self(L);
    check_nargs(L, "param", 1, 2);
    const char *name = check_str(L, 1, "param", "the name");
    int dt = lua_type(L, 2);
    if (dt != LUA_TNONE && dt != LUA_TNIL && dt != LUA_TNUMBER && dt != LUA_TBOOLEAN && dt != LUA_TSTRING)
        fail(L, "param: the default must be a number, a boolean or a string, got %s", luaL_typename(L, 2));
    const char *value = NULL;
    for (int i = 0; i < s->opt->n_params; i++) {
        struct lsim_param *p = &s->opt->params[i];
        if (strcmp(p->name, name) == 0) {
            p->used = true;
            value = p->value;    /* the last one given wins */
        }
    }
    if (!value) {
        lua_settop(L, 2);
        return 1;
    }
    switch (dt) {
    case LUA_TNUMBER:
        if (lua_stringtonumber(L, value) == 0)
            fail(L, "param: --param %s=%s is not a number (the scenario's default is %s)",
                 name, value, lua_tostring(L, 2));
        return 1;
    case LUA_TBOOLEAN:
        if (strcmp(value, "true") == 0)
            lua_pushboolean(L, 1);
        else if (strcmp(value, "false") == 0)
            lua_pushboolean(L, 0);
        else
            fail(L, "param: --param %s=%s must be true or false", name, value);
        return 1;
    default:
        lua_pushstring(L, value);
        return 1;
    }
}

static int l_print(lua_State *L)
{
    struct lsim *s = self(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->tostring_ref);
        lua_pushvalue(L, i);
        lua_call(L, 1, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            fail(L, "print: tostring must return a string");
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    sim_time now = world_now(s->w);
    struct trace *tr = world_trace(s->w);
    if (tr) {
        jw *j = trace_begin(tr, now, "log");
        jw_key(j, "msg");
        jw_strn(j, msg, len);
        trace_end(tr);
    }
    if (!s->opt->quiet)
        fprintf(stderr, "[%" PRId64 ".%03" PRId64 " ms] %s\n", now / SIM_MS, now % SIM_MS / SIM_US, msg);
    return 0;
}

/* ---- the driver ------------------------------------------------------------ */

static const luaL_Reg lsim_funcs[] = {
    { "ns", l_ns }, { "us", l_us }, { "ms", l_ms }, { "s", l_s }, { "now", l_now },
    { "cluster", l_cluster }, { "workload", l_workload }, { "nemesis", l_nemesis },
    { "partition", l_partition }, { "isolate", l_isolate }, { "cut", l_cut },
    { "bridge", l_bridge }, { "heal", l_heal }, { "crash", l_crash },
    { "restart", l_restart }, { "pause", l_pause }, { "resume", l_resume }, { "skew", l_skew },
    { "at", l_at }, { "every", l_every }, { "run", l_run },
    { "stats", l_stats }, { "expect", l_expect }, { "param", l_param },
    { "print", l_print }, { "log", l_print },
    { NULL, NULL },
};

/* Install the API (run protected: it allocates). Argument: the lsim. */
static int l_setup(lua_State *L)
{
    struct lsim *s = lua_touserdata(L, 1);
    lua_newtable(L);
    s->pending_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    s->callbacks_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    s->funcs_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (lua_getglobal(L, "tostring") != LUA_TFUNCTION)
        return luaL_error(L, "the sandbox has no tostring");
    s->tostring_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    luaL_newmetatable(L, ACTION_META);
    lua_pushlightuserdata(L, s);
    lua_pushcclosure(L, l_action_tostring, 1);
    lua_setfield(L, -2, "__tostring");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");   /* getmetatable() cannot reach it */
    lua_pop(L, 1);

    lua_pushglobaltable(L);
    lua_pushlightuserdata(L, s);
    luaL_setfuncs(L, lsim_funcs, 1);
    lua_pop(L, 1);
    return 0;
}

/* A --param that neither the model declares nor the scenario read. */
static int check_unused(struct lsim *s, char *err, size_t errlen)
{
    for (int i = 0; i < s->opt->n_params; i++) {
        const struct lsim_param *p = &s->opt->params[i];
        if (!p->used) {
            snprintf(err, errlen, "--param \"%s\" was not used: the model has no such parameter and "
                     "the scenario never reads it with param()", p->name);
            return SIM_EXIT_SCENARIO;
        }
    }
    return 0;
}

/* Run one scenario (see lsim.h). The sandbox, the world and everything the
 * API allocated are freed before returning; opt->trace stays the caller's,
 * and lsim only marks opt->params[i].used. A scenario error wins over failed
 * expectations; a trace that could not be written turns the error into
 * SIM_EXIT_IO. */
int lsim_run(const struct lsim_options *opt, struct lsim_result *res)
{
    struct lsim s;
    char err[1024] = "";
    int rc;

    memset(res, 0, sizeof *res);
    memset(&s, 0, sizeof s);
    s.opt = opt;
    s.res = res;

    s.L = sandbox_new(opt->seed, &opt->limits);
    if (!s.L) {
        res->exit_code = SIM_EXIT_INTERNAL;
        snprintf(res->error, sizeof res->error, "out of memory creating the Lua state");
        return res->exit_code;
    }
    s.w = world_new(opt->seed, opt->trace);
    if (opt->swarm)
        swarm_draw(&s);
    if (opt->max_events)
        world_set_event_limit(s.w, opt->max_events);
    world_set_keep_going(s.w, opt->keep_going);
    if (opt->progress)
        world_set_progress(s.w, opt->progress, opt->progress_ud);
    world_set_script(s.w, script_handler, &s);
    world_set_call(s.w, call_handler, &s);

    lua_pushcfunction(s.L, l_setup);
    lua_pushlightuserdata(s.L, &s);
    rc = sandbox_pcall(s.L, 1, 0, err, sizeof err);
    if (rc == 0)
        rc = sandbox_load_file(s.L, opt->scenario, err, sizeof err);
    if (rc == 0)
        rc = sandbox_pcall(s.L, 0, 0, err, sizeof err);
    if (rc == 0) {
        flush_pending(&s);
        rc = check_unused(&s, err, sizeof err);
    }
    if (rc != 0 && s.trace_failed)
        rc = SIM_EXIT_IO;
    if (rc != 0 && s.interrupted)
        rc = SIM_EXIT_INTERRUPTED;
    if (world_has_cluster(s.w))
        world_finish(s.w);

    res->stats = *world_stats(s.w);
    res->end_time = world_now(s.w);
    const char *report = NULL;
    res->halted = world_halted(s.w, &res->halted_at, &report);
    if (res->halted)
        snprintf(res->halt_report, sizeof res->halt_report, "%s", report ? report : "");
    if (world_has_cluster(s.w)) {
        snprintf(res->model, sizeof res->model, "%s", world_model(s.w)->name);
        res->nodes = world_nodes(s.w);
        res->clients = world_clients(s.w);
    }
    res->lua_instructions = sandbox_instructions(s.L);
    if (rc != 0) {
        res->exit_code = rc;
        snprintf(res->error, sizeof res->error, "%s", err);
    } else {
        res->exit_code = s.expect_failed ? SIM_EXIT_FAILED : SIM_EXIT_OK;
    }

    params_free(s.tmp_params);
    sandbox_free(s.L);
    sim_free(s.cbs);
    world_free(s.w);
    return res->exit_code;
}
