/* Unit tests for the Lua sandbox (sim/lua/sandbox.c). */
#include "lua/sandbox.h"

#include "alloc.h"
#include "exitcodes.h"

#include <check.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_MEMORY ((size_t)32 << 20)
#define TEST_INSTRUCTIONS 10000000ULL

static lua_State *new_state(uint64_t seed)
{
    struct sandbox_limits limits = { .instructions = TEST_INSTRUCTIONS, .memory = TEST_MEMORY };
    lua_State *L = sandbox_new(seed, &limits);
    ck_assert_ptr_nonnull(L);
    return L;
}

/* Load code as the chunk "inline.lua" and run it with sandbox_pcall,
 * leaving one result on the stack on success. Returns sandbox_pcall's code. */
static int run(lua_State *L, const char *code, char *err, size_t errlen)
{
    int status = luaL_loadbufferx(L, code, strlen(code), "@inline.lua", "t");
    ck_assert_msg(status == LUA_OK, "load failed: %s", lua_tostring(L, -1));
    return sandbox_pcall(L, 0, 1, err, errlen);
}

/* Run code that must succeed and return its string result (a copy in buf). */
static const char *run_ok(lua_State *L, const char *code, char *buf, size_t buflen)
{
    char err[512] = "";
    int rc = run(L, code, err, sizeof err);
    ck_assert_msg(rc == 0, "script failed: %s", err);
    const char *s = lua_tostring(L, -1);
    snprintf(buf, buflen, "%s", s ? s : "(not a string)");
    lua_pop(L, 1);
    return buf;
}

/* Run code that must fail; its one-line message lands in err. */
static void run_fails(lua_State *L, const char *code, char *err, size_t errlen)
{
    int top = lua_gettop(L);
    int rc = run(L, code, err, errlen);
    ck_assert_msg(rc == SIM_EXIT_SCENARIO, "expected a scenario error, got %d", rc);
    ck_assert_int_eq(lua_gettop(L), top);
    ck_assert_ptr_null(strchr(err, '\n'));
}

/* Write content to a fresh temporary file; the path goes into path. */
static void write_temp(const char *content, size_t len, char *path, size_t pathlen)
{
    snprintf(path, pathlen, "/tmp/sbxtestXXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq((long)write(fd, content, len), (long)len);
    close(fd);
}

/* A script that iterates with pairs over mixed keys and 200 string keys and
 * returns the visit order as one string. */
static const char pairs_script[] =
    "local t = { 10, 20, 30, [2.5] = 'f', [-7] = 'n', [1e300] = 'big', [true] = 'T',\n"
    "  [false] = 'F', a = 1, b = 2, ab = 3, [''] = 4 }\n"
    "for i = 1, 200 do t['key' .. i] = i end\n"
    "local out = {}\n"
    "for k, v in pairs(t) do out[#out + 1] = tostring(k) end\n"
    "return table.concat(out, ',')\n";

/* ---- canonical iteration ------------------------------------------------- */

START_TEST(test_pairs_order_is_identical_in_two_states)
{
    static char a[8192], b[8192];
    lua_State *L1 = new_state(1);
    lua_State *L2 = new_state(2);
    run_ok(L1, pairs_script, a, sizeof a);
    run_ok(L2, pairs_script, b, sizeof b);
    ck_assert_str_eq(a, b);
    sandbox_free(L1);
    sandbox_free(L2);
}
END_TEST

START_TEST(test_pairs_walks_numbers_then_strings_then_false_true)
{
    static char out[8192];
    lua_State *L = new_state(1);
    run_ok(L, pairs_script, out, sizeof out);
    const char *expect_start = "-7,1,2,2.5,3,1e+300,,a,ab,b,key1,key10,key100,key101,";
    ck_assert_msg(strncmp(out, expect_start, strlen(expect_start)) == 0, "order: %.120s", out);
    const char *expect_end = ",key98,key99,false,true";
    size_t n = strlen(out), m = strlen(expect_end);
    ck_assert(n > m && strcmp(out + n - m, expect_end) == 0);
    sandbox_free(L);
}
END_TEST

/* Plain Lua seeds its string hash per state, so the same insertions give
 * different raw next orders; this is the hazard the sandbox removes. */
START_TEST(test_raw_lua_next_order_differs_between_states)
{
    enum { STATES = 8 };
    static char orders[STATES][4096];
    lua_State *states[STATES];
    for (int s = 0; s < STATES; s++) {
        lua_State *L = states[s] = luaL_newstate();
        ck_assert_ptr_nonnull(L);
        lua_newtable(L);
        for (int i = 1; i <= 200; i++) {
            lua_pushfstring(L, "key%d", i);
            lua_pushinteger(L, i);
            lua_rawset(L, -3);
        }
        size_t len = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            len += (size_t)snprintf(orders[s] + len, sizeof orders[s] - len, "%s,",
                                    lua_tostring(L, -1));
        }
    }
    int differ = 0;
    for (int s = 1; s < STATES; s++)
        differ |= strcmp(orders[0], orders[s]) != 0;
    for (int s = 0; s < STATES; s++)
        lua_close(states[s]);
    ck_assert_msg(differ, "raw next order was the same in %d states", STATES);
}
END_TEST

START_TEST(test_pairs_over_table_keys_errors_clearly)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L, "local t = { [{}] = 1 }\nfor k in pairs(t) do end\n", err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:2: pairs: a table keyed by tables or functions has no "
                              "order that is the same in every run; use an array"),
                  "message: %s", err);
    sandbox_free(L);
}
END_TEST

START_TEST(test_pairs_allows_clearing_fields_during_the_loop)
{
    char out[256];
    lua_State *L = new_state(1);
    run_ok(L,
           "local t = { a = 1, b = 2, c = 3, d = 4 }\n"
           "local seen = {}\n"
           "for k in pairs(t) do seen[#seen + 1] = k; t[k] = nil; t.c = nil end\n"
           "return table.concat(seen, ',') .. ' left ' .. tostring(next(t))\n",
           out, sizeof out);
    ck_assert_str_eq(out, "a,b,d left nil");
    sandbox_free(L);
}
END_TEST

START_TEST(test_next_walks_keys_in_canonical_order)
{
    char out[256];
    lua_State *L = new_state(1);
    run_ok(L,
           "local t = { x = 1, [3] = 'c', [true] = 0, y = 2 }\n"
           "local seen, k = {}, next(t)\n"
           "while k ~= nil do seen[#seen + 1] = tostring(k); k = next(t, k) end\n"
           "assert(next({}) == nil)\n"
           "-- clearing fields while walking with next works, as in plain Lua\n"
           "for key in next, t do t[key] = nil end\n"
           "assert(next(t) == nil)\n"
           "return table.concat(seen, ',')\n",
           out, sizeof out);
    ck_assert_str_eq(out, "3,x,y,true");
    sandbox_free(L);
}
END_TEST

START_TEST(test_next_with_an_unorderable_key_errors)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L, "return next({ a = 1 }, {})", err, sizeof err);
    ck_assert_msg(strstr(err, "invalid key to 'next'"), "message: %s", err);
    run_fails(L, "return next({ a = 1 }, 0/0)", err, sizeof err);
    ck_assert_msg(strstr(err, "invalid key to 'next'"), "message: %s", err);
    sandbox_free(L);
}
END_TEST

static int l_sorted_keys(lua_State *L)
{
    sandbox_sorted_keys(L, 1);
    return 1;
}

START_TEST(test_sorted_keys_compares_integers_and_floats_exactly)
{
    char out[512];
    lua_State *L = new_state(1);
    lua_pushcfunction(L, l_sorted_keys);
    lua_setglobal(L, "sorted_keys");
    run_ok(L,
           "local t = { [math.maxinteger] = 1, [2^63] = 1, [-math.huge] = 1, [math.huge] = 1,\n"
           "  [math.mininteger] = 1, [-0.5] = 1, [0] = 1, [0.5] = 1, ['b'] = 1, ['a\\0'] = 1,\n"
           "  ['a'] = 1, ['\\255'] = 1, [false] = 1, [true] = 1 }\n"
           "local out = {}\n"
           "for i, k in ipairs(sorted_keys(t)) do out[i] = string.format('%q', k) end\n"
           "return table.concat(out, ' ')\n",
           out, sizeof out);
    ck_assert_str_eq(out, "-1e9999 0x8000000000000000 -0x1p-1 0 0x1p-1 9223372036854775807 "
                          "0x1p+63 1e9999 \"a\" \"a\\0\" \"b\" \"\377\" false true");
    sandbox_free(L);
}
END_TEST

/* ---- randomness ---------------------------------------------------------- */

static const char random_script[] =
    "local out = {}\n"
    "for i = 1, 5 do out[#out + 1] = string.format('%.17g', math.random()) end\n"
    "for i = 1, 5 do out[#out + 1] = math.random(1000) end\n"
    "for i = 1, 5 do out[#out + 1] = math.random(-3, 3) end\n"
    "out[#out + 1] = math.random(0)\n"
    "return table.concat(out, ' ')\n";

START_TEST(test_math_random_is_deterministic_per_seed)
{
    char a[1024], b[1024], c[1024];
    lua_State *L1 = new_state(42), *L2 = new_state(42), *L3 = new_state(43);
    run_ok(L1, random_script, a, sizeof a);
    run_ok(L2, random_script, b, sizeof b);
    run_ok(L3, random_script, c, sizeof c);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
    sandbox_free(L1);
    sandbox_free(L2);
    sandbox_free(L3);
}
END_TEST

START_TEST(test_math_randomseed_restarts_the_stream)
{
    char a[1024], b[1024], c[1024];
    lua_State *L1 = new_state(1), *L2 = new_state(2);
    run_ok(L1, "math.randomseed(7) return tostring(math.random(1 << 40))", a, sizeof a);
    run_ok(L2, "math.randomseed(7) return tostring(math.random(1 << 40))", b, sizeof b);
    ck_assert_str_eq(a, b);
    run_ok(L2, "math.randomseed(8) return tostring(math.random(1 << 40))", c, sizeof c);
    ck_assert_str_ne(a, c);
    /* With no argument the run's own stream starts over. */
    run_ok(L1, "local x = math.random(1 << 40) math.randomseed() "
               "return tostring(math.random(1 << 40) == x)", a, sizeof a);
    ck_assert_str_eq(a, "false");
    run_ok(L2, "math.randomseed() local x = math.random(1 << 40) math.randomseed() "
               "return tostring(math.random(1 << 40) == x)", b, sizeof b);
    ck_assert_str_eq(b, "true");
    sandbox_free(L1);
    sandbox_free(L2);
}
END_TEST

START_TEST(test_math_random_stays_in_lua_ranges)
{
    char out[64];
    lua_State *L = new_state(5);
    run_ok(L,
           "for i = 1, 2000 do\n"
           "  local f = math.random(); assert(math.type(f) == 'float' and f >= 0 and f < 1)\n"
           "  local m = math.random(6); assert(math.type(m) == 'integer' and m >= 1 and m <= 6)\n"
           "  local r = math.random(-2, 2); assert(r >= -2 and r <= 2)\n"
           "  assert(math.random(5, 5) == 5)\n"
           "  assert(math.type(math.random(0)) == 'integer')\n"
           "  local w = math.random(math.mininteger, math.maxinteger)\n"
           "  assert(math.type(w) == 'integer')\n"
           "end\n"
           "return 'ok'\n",
           out, sizeof out);
    ck_assert_str_eq(out, "ok");
    sandbox_free(L);
}
END_TEST

START_TEST(test_math_random_empty_interval_errors)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L, "return math.random(3, 1)", err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:1:") && strstr(err, "interval is empty"), "%s", err);
    run_fails(L, "return math.random(-5)", err, sizeof err);
    ck_assert_msg(strstr(err, "interval is empty"), "%s", err);
    run_fails(L, "return math.random(1, 2, 3)", err, sizeof err);
    ck_assert_msg(strstr(err, "wrong number of arguments"), "%s", err);
    run_fails(L, "return math.random(1.5)", err, sizeof err);
    ck_assert_msg(strstr(err, "number has no integer representation"), "%s", err);
    sandbox_free(L);
}
END_TEST

/* ---- what is not there --------------------------------------------------- */

START_TEST(test_outside_world_functions_are_absent)
{
    char out[512];
    lua_State *L = new_state(1);
    run_ok(L,
           "local names = { 'io', 'os', 'package', 'debug', 'coroutine', 'require', 'dofile',\n"
           "  'loadfile', 'collectgarbage' }\n"
           "local present = {}\n"
           "for _, n in ipairs(names) do if _G[n] ~= nil then present[#present + 1] = n end end\n"
           "if string.dump ~= nil then present[#present + 1] = 'string.dump' end\n"
           "return 'present:' .. table.concat(present, ',')\n",
           out, sizeof out);
    ck_assert_str_eq(out, "present:");
    run_ok(L, "return type(string) .. type(table) .. type(math) .. type(utf8)", out, sizeof out);
    ck_assert_str_eq(out, "tabletabletabletable");
    sandbox_free(L);
}
END_TEST

START_TEST(test_load_refuses_binary_chunks)
{
    char out[512];
    lua_State *L = new_state(1);
    run_ok(L,
           "local bytes = '\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10\\4\\8\\8' .. string.rep('\\0', 40)\n"
           "local f1, e1 = load(bytes)\n"
           "local f2, e2 = load(bytes, 'x', 'b')\n"
           "assert(f1 == nil and f2 == nil)\n"
           "return e1 .. ' | ' .. e2\n",
           out, sizeof out);
    ck_assert_msg(strstr(out, "attempt to load a binary chunk (mode is 't')") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "|") && strstr(strstr(out, "|"), "binary chunk"), "%s", out);
    sandbox_free(L);
}
END_TEST

START_TEST(test_load_of_text_sees_the_sandbox_globals)
{
    char out[128];
    lua_State *L = new_state(1);
    run_ok(L,
           "x = 41\n"
           "local f = assert(load('x = x + 1 return io == nil and x'))\n"
           "local g = assert(load('return y', 'chunk', 't', { y = 'env' }))\n"
           "return tostring(f()) .. ' ' .. g()\n",
           out, sizeof out);
    ck_assert_str_eq(out, "42 env");
    sandbox_free(L);
}
END_TEST

START_TEST(test_string_metatable_is_protected)
{
    char out[128], err[512];
    lua_State *L = new_state(1);
    run_ok(L, "return tostring(getmetatable('')) .. ' ' .. ('abc'):upper()", out, sizeof out);
    ck_assert_str_eq(out, "false ABC");
    run_fails(L, "getmetatable('').__index = {}", err, sizeof err);
    ck_assert_msg(strstr(err, "attempt to index a boolean value"), "%s", err);
    sandbox_free(L);
}
END_TEST

START_TEST(test_setmetatable_refuses_finalizers_and_weak_tables)
{
    char out[64], err[512];
    lua_State *L = new_state(1);
    run_fails(L, "setmetatable({}, { __gc = print })", err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:1: setmetatable: __gc"), "%s", err);
    run_fails(L, "setmetatable({}, { __mode = 'k' })", err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:1: setmetatable: weak tables"), "%s", err);
    run_ok(L, "local t = setmetatable({}, { __index = function() return 'dflt' end }) return t.z",
           out, sizeof out);
    ck_assert_str_eq(out, "dflt");
    sandbox_free(L);
}
END_TEST

/* ---- addresses ----------------------------------------------------------- */

START_TEST(test_tostring_shows_no_addresses)
{
    char out[512];
    lua_State *L = new_state(1);
    run_ok(L,
           "local named = setmetatable({}, { __name = 'Node' })\n"
           "local shown = setmetatable({}, { __tostring = function() return 'custom' end })\n"
           "return table.concat({ tostring({}), tostring(print), tostring(named), tostring(shown),\n"
           "  tostring(1.5), tostring(nil), string.format('%s|%s|%5s', {}, shown, true) }, ' ')\n",
           out, sizeof out);
    ck_assert_str_eq(out, "table function Node custom 1.5 nil table|custom| true");
    ck_assert_ptr_null(strstr(out, "0x"));
    sandbox_free(L);
}
END_TEST

START_TEST(test_format_p_is_refused)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L, "return string.format('%p', {})", err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:1: string.format: %p shows a memory address, which "
                              "differs between runs"), "%s", err);
    run_fails(L, "return ('%-8p'):format({})", err, sizeof err);
    ck_assert_msg(strstr(err, "%p shows a memory address"), "%s", err);
    /* The original's own argument errors still name the function. */
    run_fails(L, "return string.format('%d', 'x')", err, sizeof err);
    ck_assert_msg(strstr(err, "bad argument #2 to 'format'"), "%s", err);
    sandbox_free(L);
}
END_TEST

/* ---- stable table.sort --------------------------------------------------- */

START_TEST(test_table_sort_is_stable_and_sorts)
{
    char out[64], err[512];
    lua_State *L = new_state(1);
    run_ok(L,
           "local t = {}\n"
           "for i = 1, 500 do t[i] = { key = (i * 7919) % 5, seq = i } end\n"
           "table.sort(t, function(a, b) return a.key < b.key end)\n"
           "for i = 2, #t do\n"
           "  local a, b = t[i - 1], t[i]\n"
           "  assert(a.key < b.key or (a.key == b.key and a.seq < b.seq), 'not stable at ' .. i)\n"
           "end\n"
           "local u = { 5, 3, 9, 1, 1, -2 }\n"
           "table.sort(u)\n"
           "local w = { 'b', 'a', 'c' }\n"
           "table.sort(w, function(a, b) return a > b end)\n"
           "return table.concat(u, ',') .. ' ' .. table.concat(w)\n",
           out, sizeof out);
    ck_assert_str_eq(out, "-2,1,1,3,5,9 cba");
    run_fails(L, "table.sort({ 1, 'x', 2 })", err, sizeof err);
    ck_assert_msg(strstr(err, "attempt to compare"), "%s", err);
    sandbox_free(L);
}
END_TEST

/* ---- budgets ------------------------------------------------------------- */

START_TEST(test_endless_loop_stops_with_budget_message_and_line)
{
    char path[64], err[512], expect[256];
    static const char script[] = "local n = 0\nwhile true do\n  n = n + 1\nend\n";
    write_temp(script, strlen(script), path, sizeof path);
    lua_State *L = new_state(1);
    ck_assert_int_eq(sandbox_load_file(L, path, err, sizeof err), 0);
    ck_assert_int_eq(sandbox_pcall(L, 0, 0, err, sizeof err), SIM_EXIT_SCENARIO);
    snprintf(expect, sizeof expect, "%s:", path);
    ck_assert_msg(strncmp(err, expect, strlen(expect)) == 0, "%s", err);
    ck_assert_msg(strstr(err, ":2: instruction budget exceeded (10000000 instructions): is there "
                              "an endless loop?") ||
                      strstr(err, ":3: instruction budget exceeded (10000000 instructions): is "
                                  "there an endless loop?"),
                  "%s", err);
    ck_assert_uint_ge(sandbox_instructions(L), TEST_INSTRUCTIONS);
    ck_assert_uint_le(sandbox_instructions(L), TEST_INSTRUCTIONS + 2000);
    ck_assert_int_eq(lua_gettop(L), 0);
    unlink(path);
    sandbox_free(L);
}
END_TEST

START_TEST(test_pcall_in_a_loop_cannot_outlast_the_budget)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L,
              "local function spin() while true do end end\n"
              "while true do pcall(spin) end\n",
              err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:") && strstr(err, "instruction budget exceeded"), "%s",
                  err);
    /* The budget is for the whole run: later calls fail at once. */
    run_fails(L, "local x = 1 return x + 1", err, sizeof err);
    ck_assert_msg(strstr(err, "instruction budget exceeded"), "%s", err);
    sandbox_free(L);
}
END_TEST

START_TEST(test_growing_table_stops_at_memory_limit)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L,
              "local t = {}\n"
              "while true do\n"
              "  t[#t + 1] = string.rep('x', 1e6)\n"
              "end\n",
              err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:3: memory limit exceeded (32 MiB)"), "%s", err);
    ck_assert_uint_le(sandbox_memory(L), TEST_MEMORY);
    sandbox_free(L);
}
END_TEST

START_TEST(test_huge_string_stops_at_memory_limit)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L, "local a = 1\nlocal s = string.rep('x', 1e9)\n", err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:2: memory limit exceeded (32 MiB)"), "%s", err);
    /* 1e10 is past string.rep's own size check: a clean error too. */
    run_fails(L, "return string.rep('x', 1e10)", err, sizeof err);
    ck_assert_msg(strstr(err, "inline.lua:1:"), "%s", err);
    sandbox_free(L);
}
END_TEST

START_TEST(test_state_works_after_a_memory_error)
{
    char out[64], err[512];
    lua_State *L = new_state(1);
    run_fails(L, "big = {} for i = 1, 1e9 do big[i] = i end", err, sizeof err);
    ck_assert_msg(strstr(err, "memory limit exceeded"), "%s", err);
    run_ok(L, "big = nil local t = {} for i = 1, 1000 do t[i] = i end return tostring(#t)", out,
           sizeof out);
    ck_assert_str_eq(out, "1000");
    /* A caught memory error re-raised by the script still says which limit. */
    run_fails(L,
              "local ok, e = pcall(string.rep, 'x', 1e9)\n"
              "assert(not ok)\n"
              "error(e, 0)\n",
              err, sizeof err);
    ck_assert_msg(strstr(err, "memory limit exceeded (32 MiB)"), "%s", err);
    sandbox_free(L);
}
END_TEST

START_TEST(test_deep_recursion_reports_stack_overflow)
{
    char err[512];
    struct sandbox_limits limits = { .instructions = 100000000ULL, .memory = 0 };
    lua_State *L = sandbox_new(1, &limits);
    ck_assert_ptr_nonnull(L);
    run_fails(L, "local function f() return 1 + f() end\nreturn f()\n", err, sizeof err);
    ck_assert_msg(strstr(err, "stack overflow"), "%s", err);
    sandbox_free(L);
}
END_TEST

START_TEST(test_deep_c_recursion_reports_stack_overflow)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L,
              "local t = setmetatable({}, { __index = function(t, k) return t[k] end })\n"
              "return t.x\n",
              err, sizeof err);
    ck_assert_msg(strstr(err, "stack overflow"), "%s", err);
    run_fails(L, "local function f() return tostring(setmetatable({}, { __tostring = f })) end\n"
                 "return f()\n", err, sizeof err);
    ck_assert_msg(strstr(err, "stack overflow"), "%s", err);
    sandbox_free(L);
}
END_TEST

/* ---- errors -------------------------------------------------------------- */

START_TEST(test_error_objects_become_one_line)
{
    char err[512];
    lua_State *L = new_state(1);
    run_fails(L, "error('first\\nsecond\\r\\nthird')", err, sizeof err);
    ck_assert_str_eq(err, "inline.lua:1: first second  third");
    run_fails(L, "local x = 1\nerror({ code = 1 })", err, sizeof err);
    ck_assert_str_eq(err, "inline.lua:2: error object is a table value");
    run_fails(L, "error(setmetatable({}, { __tostring = function() return 'mine' end }))", err,
              sizeof err);
    ck_assert_str_eq(err, "mine");
    run_fails(L, "error(42)", err, sizeof err);
    ck_assert_str_eq(err, "42");
    sandbox_free(L);
}
END_TEST

/* A C function that runs its argument through sandbox_pcall and returns its
 * result, or nil and the message. */
static int l_call_protected(lua_State *L)
{
    char err[256];
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 1);
    if (sandbox_pcall(L, 0, 1, err, sizeof err) != 0) {
        ck_assert_int_eq(lua_gettop(L), 0);
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

START_TEST(test_sandbox_pcall_nests)
{
    char out[256];
    lua_State *L = new_state(1);
    lua_pushcfunction(L, l_call_protected);
    lua_setglobal(L, "call_protected");
    run_ok(L,
           "local v, e = call_protected(function()\n"
           "  local a, b = call_protected(function() error('inner') end)\n"
           "  assert(a == nil)\n"
           "  return b .. ' / ' .. call_protected(function() return 'fine' end)\n"
           "end)\n"
           "return v\n",
           out, sizeof out);
    ck_assert_str_eq(out, "inline.lua:2: inner / fine");
    sandbox_free(L);
}
END_TEST

static int l_where(lua_State *L)
{
    char where[128];
    sandbox_where(L, where, sizeof where);
    lua_pushstring(L, where);
    return 1;
}

START_TEST(test_where_names_the_calling_line)
{
    char out[128];
    lua_State *L = new_state(1);
    lua_pushcfunction(L, l_where);
    lua_setglobal(L, "where");
    run_ok(L, "local x = 1\n\nreturn where()\n", out, sizeof out);
    ck_assert_str_eq(out, "inline.lua:3");
    lua_pushcfunction(L, l_where);
    lua_call(L, 0, 1);
    ck_assert_str_eq(lua_tostring(L, -1), "");
    lua_pop(L, 1);
    sandbox_free(L);
}
END_TEST

/* ---- loading files ------------------------------------------------------- */

START_TEST(test_syntax_error_names_file_and_line)
{
    char path[64], err[512], expect[128];
    static const char script[] = "local x = 1\nlocal y = = 2\n";
    write_temp(script, strlen(script), path, sizeof path);
    lua_State *L = new_state(1);
    ck_assert_int_eq(sandbox_load_file(L, path, err, sizeof err), SIM_EXIT_SCENARIO);
    snprintf(expect, sizeof expect, "%s:2: unexpected symbol near '='", path);
    ck_assert_str_eq(err, expect);
    ck_assert_int_eq(lua_gettop(L), 0);
    unlink(path);
    sandbox_free(L);
}
END_TEST

START_TEST(test_missing_file_is_an_io_error)
{
    char err[512];
    lua_State *L = new_state(1);
    ck_assert_int_eq(sandbox_load_file(L, "/nonexistent/dir/scenario.lua", err, sizeof err),
                     SIM_EXIT_IO);
    ck_assert_str_eq(err,
                     "cannot read scenario /nonexistent/dir/scenario.lua: No such file or directory");
    ck_assert_int_eq(sandbox_load_file(L, "/tmp", err, sizeof err), SIM_EXIT_IO);
    ck_assert_msg(strstr(err, "cannot read scenario /tmp: "), "%s", err);
    ck_assert_int_eq(lua_gettop(L), 0);
    sandbox_free(L);
}
END_TEST

START_TEST(test_binary_file_is_refused)
{
    char path[64], err[512], expect[128];
    static const char bytes[] = "\x1bLua\x54\x00\x19\x93\r\n\x1a\n";
    write_temp(bytes, sizeof bytes - 1, path, sizeof path);
    lua_State *L = new_state(1);
    ck_assert_int_eq(sandbox_load_file(L, path, err, sizeof err), SIM_EXIT_SCENARIO);
    snprintf(expect, sizeof expect, "%s: binary chunks are not allowed", path);
    ck_assert_str_eq(err, expect);
    unlink(path);
    sandbox_free(L);
}
END_TEST

START_TEST(test_file_runs_with_shebang_line_and_keeps_line_numbers)
{
    char path[64], err[512], expect[128];
    static const char script[] = "#!/usr/bin/env sim run\nlocal x = 1\nerror('at three')\n";
    write_temp(script, strlen(script), path, sizeof path);
    lua_State *L = new_state(1);
    ck_assert_int_eq(sandbox_load_file(L, path, err, sizeof err), 0);
    ck_assert_int_eq(sandbox_pcall(L, 0, 0, err, sizeof err), SIM_EXIT_SCENARIO);
    snprintf(expect, sizeof expect, "%s:3: at three", path);
    ck_assert_str_eq(err, expect);
    unlink(path);
    sandbox_free(L);
}
END_TEST

/* ---- allocation failures ------------------------------------------------- */

START_TEST(test_sandbox_new_survives_every_allocation_failure)
{
    int made = 0;
    for (long n = 1; n < 100000 && !made; n++) {
        sim_alloc_fail_from(n);
        lua_State *L = sandbox_new(1, NULL);
        sim_alloc_fail_from(0);
        if (L) {
            made = 1;
            sandbox_free(L);
        }
    }
    ck_assert(made);
}
END_TEST

START_TEST(test_process_out_of_memory_is_internal_not_scenario)
{
    char err[512];
    lua_State *L = new_state(1);
    ck_assert_int_eq(luaL_loadbufferx(L, "local t = {} for i = 1, 1e6 do t[i] = {} end", 44,
                                      "@inline.lua", "t"),
                     LUA_OK);
    sim_alloc_fail_from(1000);
    int rc = sandbox_pcall(L, 0, 0, err, sizeof err);
    sim_alloc_fail_from(0);
    ck_assert_int_eq(rc, SIM_EXIT_INTERNAL);
    ck_assert_msg(strstr(err, "out of memory"), "%s", err);
    sandbox_free(L);
}
END_TEST

START_TEST(test_tiny_memory_limit_fails_cleanly)
{
    struct sandbox_limits limits = { .instructions = 0, .memory = 1024 };
    ck_assert_ptr_null(sandbox_new(1, &limits));
    /* Every limit either refuses the state or gives one that works. */
    int made = 0;
    for (limits.memory = 2048; limits.memory <= (size_t)64 << 10; limits.memory += 512) {
        lua_State *L = sandbox_new(1, &limits);
        if (!L)
            continue;
        static const char code[] = "local t = {} for i = 1, 100 do t[i] = tostring(i) end";
        char err[256] = "";
        int rc = luaL_loadbufferx(L, code, strlen(code), "=tiny", "t");
        if (rc == LUA_OK)
            rc = sandbox_pcall(L, 0, 0, err, sizeof err);
        else
            lua_pop(L, 1);
        ck_assert_msg(rc == 0 || rc == LUA_ERRMEM || strstr(err, "memory limit exceeded"), "%s",
                      err);
        ck_assert_int_eq(lua_gettop(L), 0);
        made++;
        sandbox_free(L);
    }
    ck_assert_int_gt(made, 0);
}
END_TEST

static Suite *sandbox_suite(void)
{
    Suite *s = suite_create("sandbox");
    TCase *tc = tcase_create("iteration");
    tcase_add_test(tc, test_pairs_order_is_identical_in_two_states);
    tcase_add_test(tc, test_pairs_walks_numbers_then_strings_then_false_true);
    tcase_add_test(tc, test_raw_lua_next_order_differs_between_states);
    tcase_add_test(tc, test_pairs_over_table_keys_errors_clearly);
    tcase_add_test(tc, test_pairs_allows_clearing_fields_during_the_loop);
    tcase_add_test(tc, test_next_walks_keys_in_canonical_order);
    tcase_add_test(tc, test_next_with_an_unorderable_key_errors);
    tcase_add_test(tc, test_sorted_keys_compares_integers_and_floats_exactly);
    tcase_add_test(tc, test_table_sort_is_stable_and_sorts);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_add_test(tc, test_math_random_is_deterministic_per_seed);
    tcase_add_test(tc, test_math_randomseed_restarts_the_stream);
    tcase_add_test(tc, test_math_random_stays_in_lua_ranges);
    tcase_add_test(tc, test_math_random_empty_interval_errors);
    suite_add_tcase(s, tc);

    tc = tcase_create("surface");
    tcase_add_test(tc, test_outside_world_functions_are_absent);
    tcase_add_test(tc, test_load_refuses_binary_chunks);
    tcase_add_test(tc, test_load_of_text_sees_the_sandbox_globals);
    tcase_add_test(tc, test_string_metatable_is_protected);
    tcase_add_test(tc, test_setmetatable_refuses_finalizers_and_weak_tables);
    tcase_add_test(tc, test_tostring_shows_no_addresses);
    tcase_add_test(tc, test_format_p_is_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_test(tc, test_endless_loop_stops_with_budget_message_and_line);
    tcase_add_test(tc, test_pcall_in_a_loop_cannot_outlast_the_budget);
    tcase_add_test(tc, test_growing_table_stops_at_memory_limit);
    tcase_add_test(tc, test_huge_string_stops_at_memory_limit);
    tcase_add_test(tc, test_state_works_after_a_memory_error);
    tcase_add_test(tc, test_deep_recursion_reports_stack_overflow);
    tcase_add_test(tc, test_deep_c_recursion_reports_stack_overflow);
    tcase_add_test(tc, test_tiny_memory_limit_fails_cleanly);
    tcase_add_test(tc, test_sandbox_new_survives_every_allocation_failure);
    tcase_add_test(tc, test_process_out_of_memory_is_internal_not_scenario);
    suite_add_tcase(s, tc);

    tc = tcase_create("errors");
    tcase_add_test(tc, test_error_objects_become_one_line);
    tcase_add_test(tc, test_sandbox_pcall_nests);
    tcase_add_test(tc, test_where_names_the_calling_line);
    tcase_add_test(tc, test_syntax_error_names_file_and_line);
    tcase_add_test(tc, test_missing_file_is_an_io_error);
    tcase_add_test(tc, test_binary_file_is_refused);
    tcase_add_test(tc, test_file_runs_with_shebang_line_and_keeps_line_numbers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(sandbox_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
