/* The Lua sandbox scenarios run in.
 *
 * Only the base, string, table, math and utf8 libraries, without anything
 * that reaches outside the process (io, os, require, dofile, loadfile,
 * string.dump, binary chunks, collectgarbage) or that would make a run
 * differ between processes:
 *  - `pairs` walks a snapshot of the keys in canonical order (numbers, then
 *    strings by bytes, then false, true), skipping keys cleared during the
 *    loop; it ignores __pairs. `next(t, k)` returns the key after k in the
 *    same order (it sorts on every call: use pairs in loops); k may have
 *    been cleared meanwhile. Keys of other types (tables, functions) are an
 *    error, since they have no order that is the same in every process.
 *  - math.random behaves as in Lua 5.4 (random(0) gives a full 64-bit
 *    integer) but draws from the run's PCG stream; math.randomseed(x)
 *    restarts that stream from x, and with no argument from the run seed.
 *  - tostring, print and string.format("%s") show "table", "function", ...
 *    (or __name / __tostring) instead of addresses; "%p" is an error.
 *  - table.sort is a stable merge sort (Lua's picks pivots from the clock).
 *  - setmetatable refuses __gc and __mode: finalizers and weak entries
 *    depend on when the collector runs.
 *  - load only accepts text; print writes to stderr.
 * An instruction budget (counted in steps of 1000 over the state's whole
 * life) and a memory limit stop runaway scripts with an error that names
 * the script line. Known gap: time spent inside one C library call (a
 * pathological string.find pattern) is not counted as instructions. */
#ifndef SIM_SANDBOX_H
#define SIM_SANDBOX_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

struct sandbox_limits {
    uint64_t instructions;   /* Lua VM instructions for the whole run; 0 = default */
    size_t memory;           /* bytes; 0 = default */
};

#define SANDBOX_DEFAULT_INSTRUCTIONS 200000000ULL  /* 2e8 */
#define SANDBOX_DEFAULT_MEMORY ((size_t)256 << 20) /* 256 MiB */

/* A new sandboxed state whose math.random draws from the PCG stream
 * PCG_STREAM_SCRIPT of run_seed. limits may be NULL (defaults). Returns NULL
 * only if memory runs out or the memory limit is too small to open the
 * libraries. Free with sandbox_free (NULL is allowed there). */
lua_State *sandbox_new(uint64_t run_seed, const struct sandbox_limits *limits);
void sandbox_free(lua_State *L);

/* Load the scenario file at path as a text chunk named "@path" and push it
 * as a function. Like luaL_loadfile, a UTF-8 BOM and a first line starting
 * with '#' are skipped (line numbers stay right). Returns 0, SIM_EXIT_IO
 * (cannot read), SIM_EXIT_SCENARIO (syntax error, binary chunk, memory
 * limit) or SIM_EXIT_INTERNAL (the process is out of memory), with one line
 * in err; on error nothing is pushed. */
int sandbox_load_file(lua_State *L, const char *path, char *err, size_t errlen);

/* Like lua_pcall, but on error write one line (newlines folded into spaces,
 * any traceback cut off) into err: "file:line: message". A memory error
 * reads "file:line: memory limit exceeded (256 MiB)", the budget
 * "file:line: instruction budget exceeded (200000000 instructions): is
 * there an endless loop?", deep recursion "...: stack overflow". A
 * non-string error object becomes its __tostring or "file:line: error
 * object is a table value". Returns 0, SIM_EXIT_SCENARIO, or
 * SIM_EXIT_INTERNAL if the process itself (not the limit) ran out of
 * memory. On error the function and its arguments are popped and nothing
 * is pushed: the message is only in err (err may be NULL).
 * Safe to nest (a C function called from Lua may call back into Lua
 * through it); to pass such an error on, use lua_pushstring(L, err) and
 * lua_error(L), not luaL_error, which would add a second position. */
int sandbox_pcall(lua_State *L, int nargs, int nresults, char *err, size_t errlen);

/* Push an array of the keys of the table at idx in canonical order: numbers
 * (ascending, integers and floats compared exactly), then strings (byte
 * order, a prefix first), then false, true. Raw access, no metamethods.
 * Raises a Lua error if a key is of another type (a table, function, ...),
 * since such keys have no order that is the same in every process; it can
 * also raise a memory error, so call it in protected mode (from a C
 * function called by Lua, for instance). */
void sandbox_sorted_keys(lua_State *L, int idx);

/* "file:line" of the innermost running Lua function, for messages raised
 * outside Lua (empty string if none). */
void sandbox_where(lua_State *L, char *out, size_t outlen);

/* Lua instructions run so far (a multiple of 1000 until the budget is
 * spent) and bytes Lua holds now. */
uint64_t sandbox_instructions(lua_State *L);
size_t sandbox_memory(lua_State *L);

#endif
