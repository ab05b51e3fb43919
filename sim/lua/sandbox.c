/* The Lua sandbox: a state with a counting allocator, an instruction budget,
 * only the pure libraries, and every source of per-process difference
 * (hash order, random seeds, addresses, sort pivots, GC timing) replaced or
 * refused. See sandbox.h for the contract. */
#include "sandbox.h"

#include "alloc.h"
#include "exitcodes.h"
#include "pcg.h"

#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Instructions between two calls of the count hook. The budget is checked at
 * this granularity, so a run may overshoot it by up to this many. */
#define SANDBOX_HOOK_STEP 1000

/* How far up the call stack sandbox_where and the allocator look for a Lua
 * function before giving up. */
#define SANDBOX_WHERE_DEPTH 32

/* Everything the sandbox keeps per state. It is the allocator's ud pointer,
 * so any C function holding the lua_State reaches it with lua_getallocf. */
struct sandbox {
    lua_State *L;              /* the main thread; NULL until lua_newstate returns */
    size_t memory_used;        /* bytes Lua holds, as it reports them to us */
    size_t memory_limit;
    int memory_limit_hit;      /* an allocation was refused since last report */
    uint64_t instructions;     /* executed so far, in steps of hook_step */
    uint64_t instruction_limit;
    int hook_step;             /* SANDBOX_HOOK_STEP, or 1 once the budget is spent */
    uint64_t run_seed;
    pcg32 rng;                 /* math.random */
    char where_src[LUA_IDSIZE];/* last known script position: short_src ... */
    int where_line;            /* ... and line; 0 if none yet */
};

static struct sandbox *sandbox_of(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

/* ---- allocator ----------------------------------------------------------- */

/* Remember the position of the innermost Lua function of L, if there is one.
 * Safe inside the allocator and hooks: lua_getstack and lua_getinfo with
 * "Sl" only read the call chain and the function prototype; they allocate
 * nothing. */
static void note_position(struct sandbox *sb, lua_State *L)
{
    lua_Debug ar;
    for (int level = 0; level < SANDBOX_WHERE_DEPTH && lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0)
            continue;
        memcpy(sb->where_src, ar.short_src, sizeof sb->where_src);
        sb->where_src[sizeof sb->where_src - 1] = '\0';
        sb->where_line = ar.currentline;
        return;
    }
}

/* The lua_Alloc of every sandbox. Frees and shrinks always succeed (Lua
 * assumes so, and it shrinks while it is over the limit during an
 * emergency collection); growth past the limit is refused and remembered,
 * so the error can be reported as the limit rather than "not enough
 * memory". When ptr is NULL, osize is a type tag, not a size. */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct sandbox *sb = ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        sim_free(ptr);
        sb->memory_used -= osize;
        return NULL;
    }
    if (nsize <= osize) {
        void *p = sim_realloc(ptr, nsize);
        sb->memory_used -= osize - nsize;
        return p ? p : ptr; /* the old block is still big enough */
    }
    if (nsize - osize > sb->memory_limit - sb->memory_used) {
        sb->memory_limit_hit = 1;
        if (sb->L)
            note_position(sb, sb->L);
        return NULL;
    }
    void *p = ptr ? sim_realloc(ptr, nsize) : sim_malloc(nsize);
    if (p)
        sb->memory_used += nsize - osize;
    return p;
}

/* ---- messages ------------------------------------------------------------ */

static void where_text(const struct sandbox *sb, char *out, size_t outlen)
{
    if (sb->where_line > 0)
        snprintf(out, outlen, "%s:%d", sb->where_src, sb->where_line);
    else if (outlen > 0)
        out[0] = '\0';
}

/* "where: memory limit exceeded (N MiB)", from the last known position. */
static void memory_message(const struct sandbox *sb, char *out, size_t outlen)
{
    char where[LUA_IDSIZE + 24];
    char amount[48];
    where_text(sb, where, sizeof where);
    if (sb->memory_limit % ((size_t)1 << 20) == 0)
        snprintf(amount, sizeof amount, "%zu MiB", sb->memory_limit >> 20);
    else
        snprintf(amount, sizeof amount, "%zu bytes", sb->memory_limit);
    snprintf(out, outlen, "%s%smemory limit exceeded (%s)", where, where[0] ? ": " : "", amount);
}

static void budget_message(const struct sandbox *sb, char *out, size_t outlen)
{
    char where[LUA_IDSIZE + 24];
    where_text(sb, where, sizeof where);
    snprintf(out, outlen, "%s%sinstruction budget exceeded (%llu instructions): is there an endless loop?",
             where, where[0] ? ": " : "", (unsigned long long)sb->instruction_limit);
}

/* snprintf into err, which may be NULL or empty. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_error(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Copy msg into err as one line: Lua's traceback (if a handler added one) is
 * cut off, and newlines become spaces. Truncates to errlen - 1 bytes. */
static void copy_one_line(char *err, size_t errlen, const char *msg, size_t len)
{
    if (!err || errlen == 0)
        return;
    static const char traceback[] = "\nstack traceback:";
    for (size_t i = 0; i + sizeof traceback - 1 <= len; i++) {
        if (memcmp(msg + i, traceback, sizeof traceback - 1) == 0) {
            len = i;
            break;
        }
    }
    size_t n = len < errlen - 1 ? len : errlen - 1;
    for (size_t i = 0; i < n; i++)
        err[i] = (msg[i] == '\n' || msg[i] == '\r') ? ' ' : msg[i];
    err[n] = '\0';
}

/* ---- instruction budget -------------------------------------------------- */

/* Count hook: adds up instructions over the state's whole life and raises
 * the budget error past the limit. Once the budget is spent the hook fires
 * on every instruction, so a script cannot outlast the error by catching it
 * with pcall in a loop: each enclosing frame fails at its next instruction.
 * The error is built here rather than with luaL_error, whose luaL_where(L, 1)
 * would name the caller of the running function: a hook runs inside the
 * frame of the function it interrupted (level 0). */
static void sandbox_hook(lua_State *L, lua_Debug *ar)
{
    struct sandbox *sb = sandbox_of(L);
    sb->instructions += (uint64_t)sb->hook_step;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0) {
        memcpy(sb->where_src, ar->short_src, sizeof sb->where_src);
        sb->where_src[sizeof sb->where_src - 1] = '\0';
        sb->where_line = ar->currentline;
    }
    if (sb->instructions <= sb->instruction_limit)
        return;
    if (sb->hook_step != 1) {
        sb->hook_step = 1;
        lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, 1);
    }
    char msg[LUA_IDSIZE + 160];
    budget_message(sb, msg, sizeof msg);
    lua_pushstring(L, msg);
    lua_error(L);
}

/* ---- canonical key order ------------------------------------------------- */

enum key_class { KEY_NUMBER, KEY_STRING, KEY_FALSE, KEY_TRUE, KEY_UNORDERED };

struct key_entry {
    lua_Integer pos;    /* where the key sits in the unsorted key array */
    int cls;
    int is_int;
    lua_Integer ival;
    lua_Number fval;
    const char *str;    /* anchored by the table being sorted */
    size_t len;
};

/* Classify the value at idx without converting it (lua_tolstring on a number
 * would turn a key into a string in place and break lua_next). */
static void key_of(lua_State *L, int idx, struct key_entry *e)
{
    memset(e, 0, sizeof *e);
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        e->cls = KEY_NUMBER;
        e->is_int = lua_isinteger(L, idx);
        if (e->is_int)
            e->ival = lua_tointeger(L, idx);
        else
            e->fval = lua_tonumber(L, idx);
        if (!e->is_int && e->fval != e->fval)
            e->cls = KEY_UNORDERED;  /* NaN: never a key, and unordered */
        break;
    case LUA_TSTRING:
        e->cls = KEY_STRING;
        e->str = lua_tolstring(L, idx, &e->len);
        break;
    case LUA_TBOOLEAN:
        e->cls = lua_toboolean(L, idx) ? KEY_TRUE : KEY_FALSE;
        break;
    default:
        e->cls = KEY_UNORDERED;
        break;
    }
}

/* Exact comparison of an integer with a float, as Lua's own '<' does: no
 * rounding of large integers. A float table key is never integral within the
 * integer range (Lua normalises those to integer keys), but this is exact for
 * any float but NaN. */
static int cmp_int_float(lua_Integer i, lua_Number f)
{
    if (f >= 0x1p63)
        return -1;
    if (f < -0x1p63)
        return 1;
    lua_Number fl = floor(f);
    lua_Integer fi = (lua_Integer)fl;
    if (i < fi)
        return -1;
    if (i > fi)
        return 1;
    return fl == f ? 0 : -1;
}

static int key_cmp(const void *pa, const void *pb)
{
    const struct key_entry *a = pa, *b = pb;
    if (a->cls != b->cls)
        return a->cls < b->cls ? -1 : 1;
    if (a->cls == KEY_STRING) {
        size_t n = a->len < b->len ? a->len : b->len;
        int c = n ? memcmp(a->str, b->str, n) : 0;
        if (c != 0)
            return c;
        return a->len < b->len ? -1 : a->len > b->len;
    }
    if (a->cls != KEY_NUMBER)
        return 0;
    if (a->is_int && b->is_int)
        return a->ival < b->ival ? -1 : a->ival > b->ival;
    if (a->is_int)
        return cmp_int_float(a->ival, b->fval);
    if (b->is_int)
        return -cmp_int_float(b->ival, a->fval);
    return a->fval < b->fval ? -1 : a->fval > b->fval;
}

static const char unordered_msg[] =
    "a table keyed by tables or functions has no order that is the same in every run; use an array";

/* sandbox_sorted_keys with the name of the Lua function for the message
 * ("pairs", "next"), or NULL. */
static void sorted_keys(lua_State *L, int idx, const char *who)
{
    idx = lua_absindex(L, idx);
    luaL_checkstack(L, 6, "too many nested calls");
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER && lua_type(L, -1) != LUA_TSTRING &&
            lua_type(L, -1) != LUA_TBOOLEAN) {
            if (who)
                luaL_error(L, "%s: %s", who, unordered_msg);
            luaL_error(L, "%s", unordered_msg);
        }
        n++;
    }
    if ((size_t)n > ((size_t)-1 - 64) / sizeof(struct key_entry) || n >= INT_MAX)
        luaL_error(L, "table too big to iterate");
    lua_createtable(L, (int)n, 0);  /* the keys in lua_next order */
    int unsorted = lua_gettop(L);
    struct key_entry *keys = lua_newuserdatauv(L, (size_t)n * sizeof *keys + 1, 0);
    lua_Integer count = 0;
    lua_pushnil(L);
    /* A weak table can lose entries while we allocate: never write past n. */
    while (lua_next(L, idx) && count < n) {
        lua_pop(L, 1);
        count++;
        lua_pushvalue(L, -1);
        lua_rawseti(L, unsorted, count);
        key_of(L, -1, &keys[count - 1]);
        keys[count - 1].pos = count;
    }
    lua_settop(L, unsorted + 1);
    if (count > 1)
        qsort(keys, (size_t)count, sizeof *keys, key_cmp);
    lua_createtable(L, (int)count, 0);
    for (lua_Integer i = 0; i < count; i++) {
        lua_rawgeti(L, unsorted, keys[i].pos);
        lua_rawseti(L, -2, i + 1);
    }
    lua_replace(L, unsorted);
    lua_pop(L, 1);  /* the entries */
}

/* Push an array of the keys of the table at idx in canonical order; see
 * sandbox.h. Raises Lua errors (unordered key types, memory), so it must be
 * called in protected mode, for example from a C function called by Lua. */
void sandbox_sorted_keys(lua_State *L, int idx)
{
    sorted_keys(L, idx, NULL);
}

/* ---- pairs and next ------------------------------------------------------ */

/* Upvalues: 1 the sorted keys, 2 the table, 3 the last position handed out.
 * A key whose value is nil by now was cleared during the loop: skip it. */
static int pairs_iter(lua_State *L)
{
    lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
    for (;;) {
        pos++;
        if (lua_rawgeti(L, lua_upvalueindex(1), pos) == LUA_TNIL) {
            lua_pushinteger(L, pos - 1);
            lua_replace(L, lua_upvalueindex(3));
            return 1;
        }
        lua_pushvalue(L, -1);
        if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) {
            lua_pushinteger(L, pos);
            lua_replace(L, lua_upvalueindex(3));
            return 2;
        }
        lua_pop(L, 2);
    }
}

/* pairs(t): walks a snapshot of t's keys taken at the start, in canonical
 * order, skipping keys cleared meanwhile; keys added during the loop are not
 * visited. Raw access; __pairs is ignored, since a metamethod could bring
 * back an order that differs between runs. */
static int sb_pairs(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    sorted_keys(L, 1, "pairs");
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, pairs_iter, 3);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* next(t, k): the key after k in canonical order, and its value. Sorts the
 * keys on every call (O(n log n)), so a loop over next is O(n^2 log n); pairs
 * is the fast way. k need not still be in t, so fields may be cleared during
 * a traversal as Lua allows; a key that cannot be ordered is invalid. */
static int sb_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    sorted_keys(L, 1, "next");
    lua_Integer n = (lua_Integer)lua_rawlen(L, 3);
    lua_Integer lo = 1;
    if (!lua_isnil(L, 2)) {
        struct key_entry key, probe;
        key_of(L, 2, &key);
        if (key.cls == KEY_UNORDERED)
            return luaL_error(L, "invalid key to 'next'");
        lua_Integer hi = n + 1;
        while (lo < hi) {
            lua_Integer mid = lo + (hi - lo) / 2;
            lua_rawgeti(L, 3, mid);
            key_of(L, -1, &probe);
            int c = key_cmp(&probe, &key);
            lua_pop(L, 1);
            if (c <= 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    if (lo > n) {
        lua_pushnil(L);
        return 1;
    }
    lua_rawgeti(L, 3, lo);
    lua_pushvalue(L, -1);
    lua_rawget(L, 1);
    return 2;
}

/* ---- tostring, print, string.format -------------------------------------- */

/* Like luaL_tolstring, but a table, function, userdata or thread without
 * __tostring becomes its __name or type name, never "table: 0x55d0...".
 * Pushes the result. */
static const char *sandbox_tolstring(lua_State *L, int idx, size_t *len)
{
    idx = lua_absindex(L, idx);
    if (luaL_callmeta(L, idx, "__tostring")) {
        if (!lua_isstring(L, -1))
            luaL_error(L, "'__tostring' must return a string");
        return lua_tolstring(L, -1, len);
    }
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
    case LUA_TSTRING:
    case LUA_TBOOLEAN:
    case LUA_TNIL:
        return luaL_tolstring(L, idx, len);
    default: {
        int tt = luaL_getmetafield(L, idx, "__name");
        const char *kind = tt == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, idx);
        lua_pushstring(L, kind);
        if (tt != LUA_TNIL)
            lua_remove(L, -2);
        return lua_tolstring(L, -1, len);
    }
    }
}

static int sb_tostring(lua_State *L)
{
    luaL_checkany(L, 1);
    sandbox_tolstring(L, 1, NULL);
    return 1;
}

/* print: arguments tab-separated, newline, to stderr. */
static int sb_print(lua_State *L)
{
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = sandbox_tolstring(L, i, &len);
        if (i > 1)
            fputc('\t', stderr);
        fwrite(s, 1, len, stderr);
        lua_pop(L, 1);
    }
    fputc('\n', stderr);
    return 0;
}

static int is_format_flag(char c)
{
    return c == '-' || c == '+' || c == ' ' || c == '#' || c == '0';
}

/* string.format without addresses: %p is refused, and a %s argument that
 * would print as "table: 0x..." is converted by sandbox_tolstring first. The
 * original (upvalue 1, a plain C function without upvalues) is then called
 * in this same frame, so its argument errors still name 'format'. */
static int sb_format(lua_State *L)
{
    size_t len;
    const char *fmt = luaL_checklstring(L, 1, &len);
    const char *end = fmt + len;
    int top = lua_gettop(L);
    int arg = 1;
    for (const char *p = fmt; p < end; p++) {
        if (*p != '%')
            continue;
        if (++p >= end)
            break;
        if (*p == '%')
            continue;
        while (p < end && is_format_flag(*p))
            p++;
        while (p < end && ((*p >= '0' && *p <= '9') || *p == '.'))
            p++;
        if (p >= end)
            break;
        arg++;
        if (*p == 'p')
            return luaL_error(L, "string.format: %%p shows a memory address, which differs between runs");
        if (*p == 's' && arg <= top && lua_type(L, arg) != LUA_TSTRING &&
            lua_type(L, arg) != LUA_TNUMBER) {
            sandbox_tolstring(L, arg, NULL);
            lua_replace(L, arg);
        }
    }
    lua_CFunction original = lua_tocfunction(L, lua_upvalueindex(1));
    return original(L);
}

/* ---- load, setmetatable, table.sort -------------------------------------- */

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t": a
 * binary chunk is refused (nil plus message, as load reports errors). The
 * environment defaults to the sandbox globals, as in plain Lua; an explicit
 * env (even nil) is kept. Upvalue 1 is the original load. */
static int sb_load(lua_State *L)
{
    if (lua_gettop(L) < 3)
        lua_settop(L, 3);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    lua_CFunction original = lua_tocfunction(L, lua_upvalueindex(1));
    return original(L);
}

/* setmetatable refusing __gc and __mode: finalizers run and weak entries
 * vanish whenever the collector gets to them, and that depends on memory
 * sizes that differ between Lua builds and machines. (A __mode added to a
 * metatable after the fact is not caught.) Upvalue 1 is the original. */
static int sb_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: __gc finalizers run whenever the garbage collector "
                                 "gets to them, which differs between runs");
        lua_pushliteral(L, "__mode");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: weak tables (__mode) lose entries whenever the "
                                 "garbage collector runs, which differs between runs");
        lua_pop(L, 2);
    }
    lua_CFunction original = lua_tocfunction(L, lua_upvalueindex(1));
    return original(L);
}

static int sort_less(lua_State *L, int a, int b)
{
    if (lua_isnil(L, 2))
        return lua_compare(L, a, b, LUA_OPLT);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, a);
    lua_pushvalue(L, b);
    lua_call(L, 2, 1);
    int less = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return less;
}

/* table.sort(t [, less]) as a stable bottom-up merge sort. Lua's own
 * quicksort picks pivots from clock() and time() for large arrays, so equal
 * elements could end up in a different order in every run. Elements are
 * read with lua_geti and written back with lua_seti, as Lua's sort does. */
static int sb_sort(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 1);
    if (n < 2)
        return 0;
    luaL_argcheck(L, n < INT_MAX, 1, "array too big");
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    lua_createtable(L, (int)n, 0);
    lua_createtable(L, (int)n, 0);
    int src = 3, dst = 4;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        lua_rawseti(L, src, i);
    }
    for (lua_Integer width = 1; width < n; width *= 2) {
        for (lua_Integer lo = 1; lo <= n; lo += 2 * width) {
            lua_Integer mid = lo + width <= n + 1 ? lo + width : n + 1;
            lua_Integer hi = lo + 2 * width <= n + 1 ? lo + 2 * width : n + 1;
            lua_Integer i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                lua_rawgeti(L, src, i);
                lua_rawgeti(L, src, j);
                int top = lua_gettop(L);
                if (sort_less(L, top, top - 1)) {  /* right strictly first */
                    lua_rawseti(L, dst, k++);
                    lua_pop(L, 1);
                    j++;
                } else {
                    lua_pop(L, 1);
                    lua_rawseti(L, dst, k++);
                    i++;
                }
            }
            for (; i < mid; i++) {
                lua_rawgeti(L, src, i);
                lua_rawseti(L, dst, k++);
            }
            for (; j < hi; j++) {
                lua_rawgeti(L, src, j);
                lua_rawseti(L, dst, k++);
            }
        }
        int swap = src;
        src = dst;
        dst = swap;
    }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, src, i);
        lua_seti(L, 1, i);
    }
    return 0;
}

/* ---- math.random --------------------------------------------------------- */

/* Lua 5.4's math.random over the script's PCG stream: () a float in [0,1),
 * (0) an integer with all bits random, (m) an integer in [1,m], (m,n) an
 * integer in [m,n]. */
static int sb_random(lua_State *L)
{
    struct sandbox *sb = sandbox_of(L);
    lua_Integer low, up;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, (lua_Number)pcg32_unit(&sb->rng));
        return 1;
    case 1:
        low = 1;
        up = luaL_checkinteger(L, 1);
        if (up == 0) {
            lua_pushinteger(L, (lua_Integer)pcg32_next64(&sb->rng));
            return 1;
        }
        break;
    case 2:
        low = luaL_checkinteger(L, 1);
        up = luaL_checkinteger(L, 2);
        break;
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    luaL_argcheck(L, low <= up, 1, "interval is empty");
    lua_pushinteger(L, (lua_Integer)pcg32_range(&sb->rng, (int64_t)low, (int64_t)up));
    return 1;
}

/* math.randomseed(x [, y]) restarts the stream from x (mixed with y when y is
 * given and not 0); with no argument it restarts the run's own stream
 * (plain Lua would seed from the clock). Returns nothing. */
static int sb_randomseed(lua_State *L)
{
    struct sandbox *sb = sandbox_of(L);
    if (lua_isnone(L, 1)) {
        pcg32_stream(&sb->rng, sb->run_seed, PCG_STREAM_SCRIPT);
        return 0;
    }
    uint64_t seed = (uint64_t)luaL_checkinteger(L, 1);
    uint64_t extra = (uint64_t)luaL_optinteger(L, 2, 0);
    if (extra != 0)
        seed ^= pcg_mix64(extra);
    pcg32_stream(&sb->rng, seed, PCG_STREAM_SCRIPT);
    return 0;
}

/* ---- building the state -------------------------------------------------- */

/* Replace t[name] (t at the top of the stack) by a closure of fn over the
 * current t[name]. */
static void wrap_field(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
}

static void set_field_fn(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_pushcfunction(L, fn);
    lua_setfield(L, -2, name);
}

static void clear_field(lua_State *L, const char *name)
{
    lua_pushnil(L);
    lua_setfield(L, -2, name);
}

/* Runs in protected mode so that running out of memory while opening the
 * libraries is an error status, not a panic. */
static int sandbox_setup(lua_State *L)
{
    static const luaL_Reg libs[] = {
        { LUA_GNAME, luaopen_base },
        { LUA_STRLIBNAME, luaopen_string },
        { LUA_TABLIBNAME, luaopen_table },
        { LUA_MATHLIBNAME, luaopen_math },
        { LUA_UTF8LIBNAME, luaopen_utf8 },
    };
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }

    lua_pushglobaltable(L);
    clear_field(L, "dofile");
    clear_field(L, "loadfile");
    clear_field(L, "collectgarbage");
    clear_field(L, "require");
    set_field_fn(L, "pairs", sb_pairs);
    set_field_fn(L, "next", sb_next);
    set_field_fn(L, "tostring", sb_tostring);
    set_field_fn(L, "print", sb_print);
    wrap_field(L, "load", sb_load);
    wrap_field(L, "setmetatable", sb_setmetatable);

    lua_getfield(L, -1, LUA_STRLIBNAME);
    clear_field(L, "dump");
    wrap_field(L, "format", sb_format);
    lua_pop(L, 1);

    lua_getfield(L, -1, LUA_TABLIBNAME);
    set_field_fn(L, "sort", sb_sort);
    lua_pop(L, 1);

    lua_getfield(L, -1, LUA_MATHLIBNAME);
    set_field_fn(L, "random", sb_random);
    set_field_fn(L, "randomseed", sb_randomseed);
    lua_pop(L, 1);
    lua_pop(L, 1);  /* globals */

    /* getmetatable("") now returns false, and the string metatable (shared
     * by every string) cannot be reached to be changed. */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

/* A new sandboxed state; see sandbox.h. The sandbox struct is owned by the
 * state and freed by sandbox_free. Returns NULL if memory runs out or the
 * memory limit is too small to open the libraries. */
lua_State *sandbox_new(uint64_t run_seed, const struct sandbox_limits *limits)
{
    struct sandbox *sb = sim_calloc(1, sizeof *sb);
    if (!sb)
        return NULL;
    sb->memory_limit = limits && limits->memory ? limits->memory : SANDBOX_DEFAULT_MEMORY;
    sb->instruction_limit = limits && limits->instructions ? limits->instructions
                                                           : SANDBOX_DEFAULT_INSTRUCTIONS;
    sb->hook_step = SANDBOX_HOOK_STEP;
    sb->run_seed = run_seed;
    pcg32_stream(&sb->rng, run_seed, PCG_STREAM_SCRIPT);

    lua_State *L = lua_newstate(sandbox_alloc, sb);
    if (!L)
        goto fail;
    sb->L = L;
    lua_pushcfunction(L, sandbox_setup);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        lua_close(L);
        goto fail;
    }
    sb->memory_limit_hit = 0;
    sb->where_line = 0;
    lua_sethook(L, sandbox_hook, LUA_MASKCOUNT, SANDBOX_HOOK_STEP);
    return L;

fail:
    sim_free(sb);
    return NULL;
}

/* Close L and free its sandbox. L may be NULL. */
void sandbox_free(lua_State *L)
{
    if (!L)
        return;
    struct sandbox *sb = sandbox_of(L);
    lua_close(L);
    sim_free(sb);
}

/* ---- running scripts ----------------------------------------------------- */

/* The message handler of sandbox_pcall: makes sure the error is a string.
 * Folding into one line happens in C afterwards, where no allocation can
 * fail. A "not enough memory" re-raised by a script after catching it with
 * pcall is turned back into the limit message. */
static int sandbox_msgh(lua_State *L)
{
    struct sandbox *sb = sandbox_of(L);
    int t = lua_type(L, 1);
    if (t == LUA_TSTRING) {
        if (sb->memory_limit_hit && strcmp(lua_tostring(L, 1), "not enough memory") == 0) {
            char msg[LUA_IDSIZE + 96];
            memory_message(sb, msg, sizeof msg);
            lua_pushstring(L, msg);
        }
        return 1;
    }
    if (t == LUA_TNUMBER) {
        luaL_tolstring(L, 1, NULL);
        return 1;
    }
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
        return 1;
    char where[LUA_IDSIZE + 24];
    sandbox_where(L, where, sizeof where);
    lua_pushfstring(L, "%s%serror object is a %s value", where, where[0] ? ": " : "",
                    luaL_typename(L, 1));
    return 1;
}

/* Run the function below the nargs arguments on top of L, as lua_pcall does;
 * see sandbox.h. On error the function and its arguments are gone and
 * nothing is pushed: the message is in err only. */
int sandbox_pcall(lua_State *L, int nargs, int nresults, char *err, size_t errlen)
{
    struct sandbox *sb = sandbox_of(L);
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, sandbox_msgh);
    lua_insert(L, base);
    int status = lua_pcall(L, nargs, nresults, base);
    if (status == LUA_OK) {
        lua_remove(L, base);
        return 0;
    }
    int rc = SIM_EXIT_SCENARIO;
    char msg[LUA_IDSIZE + 160];
    if (status == LUA_ERRMEM) {
        if (sb->memory_limit_hit) {
            memory_message(sb, msg, sizeof msg);
        } else {
            char where[LUA_IDSIZE + 24];
            where_text(sb, where, sizeof where);
            snprintf(msg, sizeof msg, "%s%sout of memory", where, where[0] ? ": " : "");
            rc = SIM_EXIT_INTERNAL;
        }
        sb->memory_limit_hit = 0;
        copy_one_line(err, errlen, msg, strlen(msg));
    } else if (status == LUA_ERRERR && sb->instructions > sb->instruction_limit) {
        budget_message(sb, msg, sizeof msg);
        copy_one_line(err, errlen, msg, strlen(msg));
    } else {
        size_t len = 0;
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (s)
            copy_one_line(err, errlen, s, len);
        else
            copy_one_line(err, errlen, "error object is not a string", 28);
    }
    lua_settop(L, base - 1);
    return rc;
}

/* Read the whole file into a sim_malloc'ed buffer (caller frees). Returns 0
 * or an errno value. */
static int read_file(const char *path, char **out, size_t *outlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno;
    size_t cap = 4096, len = 0;
    char *buf = sim_malloc(cap);
    if (!buf)
        goto fail_nomem;
    for (;;) {
        if (len == cap) {
            char *bigger = cap <= ((size_t)-1) / 2 ? sim_realloc(buf, cap * 2) : NULL;
            if (!bigger)
                goto fail_nomem;
            buf = bigger;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno ? errno : EIO;
                sim_free(buf);
                fclose(f);
                return e;
            }
            break;
        }
    }
    fclose(f);
    *out = buf;
    *outlen = len;
    return 0;

fail_nomem:
    sim_free(buf);
    fclose(f);
    return ENOMEM;
}

/* Load a scenario file; see sandbox.h. Like luaL_loadfile it skips a UTF-8
 * byte order mark and a first line starting with '#' (keeping line numbers).
 * On error nothing is pushed. */
int sandbox_load_file(lua_State *L, const char *path, char *err, size_t errlen)
{
    struct sandbox *sb = sandbox_of(L);
    char msg[LUA_IDSIZE + 160];
    char *buf = NULL, *chunkname = NULL;
    size_t len = 0;
    int rc;

    errno = 0;
    int e = read_file(path, &buf, &len);
    if (e) {
        set_error(err, errlen, "cannot read scenario %s: %s", path, strerror(e));
        return e == ENOMEM ? SIM_EXIT_INTERNAL : SIM_EXIT_IO;
    }
    size_t start = 0;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        start = 3;
    if (start < len && buf[start] == '#') {
        while (start < len && buf[start] != '\n')
            start++;
    }
    if ((len > 0 && buf[0] == LUA_SIGNATURE[0]) || (start < len && buf[start] == LUA_SIGNATURE[0])) {
        set_error(err, errlen, "%s: binary chunks are not allowed", path);
        rc = SIM_EXIT_SCENARIO;
        goto out;
    }
    size_t pathlen = strlen(path);
    chunkname = sim_malloc(pathlen + 2);
    if (!chunkname) {
        set_error(err, errlen, "%s: out of memory", path);
        rc = SIM_EXIT_INTERNAL;
        goto out;
    }
    chunkname[0] = '@';
    memcpy(chunkname + 1, path, pathlen + 1);

    int status = luaL_loadbufferx(L, buf + start, len - start, chunkname, "t");
    if (status == LUA_OK) {
        rc = 0;
    } else if (status == LUA_ERRMEM) {
        rc = sb->memory_limit_hit ? SIM_EXIT_SCENARIO : SIM_EXIT_INTERNAL;
        if (sb->memory_limit_hit) {
            sb->where_line = 0;
            memory_message(sb, msg, sizeof msg);
            set_error(err, errlen, "%s: %s", path, msg);
        } else {
            set_error(err, errlen, "%s: out of memory", path);
        }
        sb->memory_limit_hit = 0;
        lua_pop(L, 1);
    } else {
        size_t mlen = 0;
        const char *m = lua_tolstring(L, -1, &mlen);
        copy_one_line(err, errlen, m ? m : "cannot load", m ? mlen : 11);
        lua_pop(L, 1);
        rc = SIM_EXIT_SCENARIO;
    }
out:
    sim_free(chunkname);
    sim_free(buf);
    return rc;
}

/* ---- introspection ------------------------------------------------------- */

/* "file:line" of the innermost running Lua function; see sandbox.h. */
void sandbox_where(lua_State *L, char *out, size_t outlen)
{
    if (!out || outlen == 0)
        return;
    out[0] = '\0';
    lua_Debug ar;
    for (int level = 0; level < SANDBOX_WHERE_DEPTH && lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(out, outlen, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
}

uint64_t sandbox_instructions(lua_State *L)
{
    return sandbox_of(L)->instructions;
}

size_t sandbox_memory(lua_State *L)
{
    return sandbox_of(L)->memory_used;
}
