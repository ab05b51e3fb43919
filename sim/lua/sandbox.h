/* The Lua sandbox scenarios run in.
 *
 * Only the base, string, table, math and utf8 libraries, without anything
 * that reaches outside the process (io, os, require, dofile, loadfile,
 * string.dump, binary chunks, collectgarbage) or that would make a run
 * differ between processes: `pairs` and `next` walk keys in a canonical
 * order (Lua 5.4 seeds its string hash per process), math.random draws from
 * the run's PCG stream, and tostring and string.format do not show
 * addresses. An instruction budget and a memory limit stop runaway scripts
 * with an error that names the script line. */
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
 * PCG_STREAM_SCRIPT of run_seed. Returns NULL only if memory runs out. */
lua_State *sandbox_new(uint64_t run_seed, const struct sandbox_limits *limits);
void sandbox_free(lua_State *L);

/* Load the scenario file at path as a text chunk named "@path" and push it
 * as a function. Returns 0, SIM_EXIT_IO (cannot read) or SIM_EXIT_SCENARIO
 * (syntax error, binary chunk), with one line in err. */
int sandbox_load_file(lua_State *L, const char *path, char *err, size_t errlen);

/* Like lua_pcall, but on error write one line (newlines folded into spaces)
 * into err: "file:line: message". A memory error reads "file:line: memory
 * limit exceeded (256 MiB)", the budget "file:line: instruction budget
 * exceeded (200000000 instructions): is there an endless loop?". Returns 0
 * or SIM_EXIT_SCENARIO. Safe to nest (a C function called from Lua may call
 * back into Lua through it). */
int sandbox_pcall(lua_State *L, int nargs, int nresults, char *err, size_t errlen);

/* Push an array of the keys of the table at idx in canonical order: numbers
 * (ascending), then strings (byte order), then false, true. Raises a Lua
 * error if a key is of another type (a table, function, ...), since such
 * keys have no order that is the same in every process. */
void sandbox_sorted_keys(lua_State *L, int idx);

/* "file:line" of the innermost running Lua function, for messages raised
 * outside Lua (empty string if none). */
void sandbox_where(lua_State *L, char *out, size_t outlen);

uint64_t sandbox_instructions(lua_State *L);
size_t sandbox_memory(lua_State *L);

#endif
