"""Bad input: each case gives one clear line on stderr, a documented exit
code, no crash, no hang, and never a corrupt trace."""
import json
import os

from simtest import Failures, run, tmpdir, write_scenario

OK, FAILED, USAGE, SCENARIO, IO, BAD_TRACE = 0, 1, 2, 4, 5, 6

CLUSTER = 'cluster{ model = "leader_follower", nodes = 3 }\n'

# name -> (script, expected exit code, words the message must contain, line number or None)
CASES = {
    "syntax_error": ("cluster{ model = \n", SCENARIO, ["unexpected symbol"], 2),
    "runtime_error": ("local x = nil\nlocal y = x.field\n", SCENARIO, ["attempt to index"], 2),
    "unknown_model": ('cluster{ model = "nope" }\n', SCENARIO, ['unknown model', 'nope', 'leader_follower'], 1),
    "unknown_param": ('cluster{ model = "leader_follower", params = { replicaton = "sync" } }\n',
                      SCENARIO, ['unknown parameter', 'replicaton'], 1),
    "bad_param_value": ('cluster{ model = "leader_follower", params = { replication = "fast" } }\n',
                        SCENARIO, ['replication', 'async'], 1),
    "wrong_type": (CLUSTER + 'crash(42)\n', SCENARIO, ['crash'], 2),
    "negative_time": (CLUSTER + 'at(-5, heal())\n', SCENARIO, ['at'], 2),
    "non_numeric_time": (CLUSTER + 'at("soon", heal())\n', SCENARIO, ['at'], 2),
    "unknown_node": (CLUSTER + 'crash("n7")\n', SCENARIO, ['unknown node', 'n7'], 2),
    "unknown_node_in_partition": (CLUSTER + 'at(ms(5), partition{ {"n1"}, {"n9"} })\n',
                                  SCENARIO, ['n9'], 2),
    "endless_loop": ("while true do end\n", SCENARIO, ["instruction budget"], 1),
    "endless_loop_in_callback": (CLUSTER + 'at(ms(1), function() while true do end end)\nrun(ms(10))\n',
                                 SCENARIO, ["instruction budget"], 2),
    "allocation_bomb": ('local t = {}\nwhile true do t[#t + 1] = string.rep("x", 1 << 20) end\n',
                        SCENARIO, ["memory limit"], None),
    "string_rep_bomb": ('local s = string.rep("x", 1 << 30)\n', SCENARIO, ["memory limit"], 1),
    "io_is_absent": ('io.open("/etc/passwd")\n', SCENARIO, ["io"], 1),
    "os_execute_is_absent": ('os.execute("true")\n', SCENARIO, ["os"], 1),
    "require_is_absent": ('require("os")\n', SCENARIO, ["require"], 1),
    # Lua's stack limit or the memory limit, whichever comes first
    "deep_recursion": ('local function f() return 1 + f() end\nf()\n', SCENARIO, [("stack overflow", "memory limit")], None),
    "run_without_cluster": ('run(ms(10))\n', SCENARIO, ["cluster"], 1),
    # the sandbox-escape attempts of issue 10, end to end through sim run
    "load_bytecode": ('local f, e = load("\\27LuaT\\0\\25\\147")\nif not f then error(e) end\n',
                      SCENARIO, ["binary chunk"], 2),
    "debug_is_absent": ('debug.getregistry()\n', SCENARIO, ["debug"], 1),
    "collectgarbage_is_absent": ('collectgarbage("stop")\n', SCENARIO, ["collectgarbage"], 1),
    "coroutine_is_absent": ('coroutine.wrap(function() while true do end end)()\n', SCENARIO, ["coroutine"], 1),
    "string_dump_is_absent": ('string.dump(print)\n', SCENARIO, ["dump"], 1),
    "pcall_cannot_swallow_the_budget": ('while true do pcall(function() while true do end end) end\n',
                                        SCENARIO, ["instruction budget"], 1),
    "loaded_chunk_loop": ('load("while true do end")()\n', SCENARIO, ["instruction budget"], None),
    "gc_finalizer_refused": ('setmetatable({}, { __gc = function() end })\n', SCENARIO, ["__gc"], 1),
    "metamethod_recursion": ('local t = setmetatable({}, { __index = function(t, k) return t[k] end })\n'
                             'local x = t.a\n', SCENARIO, [("stack overflow", "memory limit")], None),
    "too_many_nodes": ('cluster{ model = "pingpong", nodes = 1000001 }\n', SCENARIO, ['nodes', '1000000'], 1),
    "unknown_field": (CLUSTER + 'workload{ clients = 2, rte = 100 }\n', SCENARIO, ['rte'], 2),
}


def main():
    f = Failures()
    with tmpdir() as d:
        for name, (text, code, words, line) in CASES.items():
            path = write_scenario(d, name + ".lua", text)
            trace = os.path.join(d, name + ".jsonl")
            rc, out, err = run("run", path, "--seed", "1", "--trace", trace, "--quiet",
                               "--budget", "20000000", "--memory", "64")
            lines = [l for l in err.splitlines() if l.strip()]
            f.check(rc == code, f"{name}: exit {rc}, expected {code} (stderr: {err.strip()!r})")
            f.check(len(lines) == 1, f"{name}: expected one line on stderr, got {len(lines)}: {err!r}")
            msg = lines[0] if lines else ""
            for w in words:
                alternatives = w if isinstance(w, tuple) else (w,)
                f.check(any(a.lower() in msg.lower() for a in alternatives),
                        f"{name}: message lacks {w!r}: {msg!r}")
            if line is not None:
                f.check(msg.startswith(f"{path}:{line}:"), f"{name}: message does not start with {path}:{line}: {msg!r}")
            # the trace, if any, is whole JSON lines ending in an error line
            if os.path.exists(trace):
                with open(trace) as t:
                    raw = t.read()
                f.check(raw.endswith("\n"), f"{name}: trace ends mid-line")
                try:
                    objs = [json.loads(l) for l in raw.splitlines()]
                    f.check(objs and objs[0]["ev"] == "header", f"{name}: trace lacks a header")
                    f.check(objs[-1]["ev"] == "error", f"{name}: trace does not end with an error line")
                except ValueError as e:
                    f.check(False, f"{name}: trace has a line that is not JSON: {e}")

        # files and the command line
        rc, out, err = run("run", os.path.join(d, "missing.lua"))
        f.check(rc == IO and "cannot read scenario" in err and len(err.splitlines()) == 1,
                f"missing scenario: exit {rc}, {err!r}")
        rc, out, err = run("run", d)
        f.check(rc == IO and "Is a directory" in err and len(err.splitlines()) == 1,
                f"directory as scenario: exit {rc}, {err!r}")
        rc, out, err = run("replay", d)
        f.check(rc == IO and "Is a directory" in err, f"directory as trace: exit {rc}, {err!r}")
        ok = write_scenario(d, "ok.lua", CLUSTER + "run(ms(10))\n")
        rc, out, err = run("run", ok, "--trace", "/nonexistent-dir/x.jsonl")
        f.check(rc == IO and "cannot write trace" in err and len(err.splitlines()) == 1,
                f"unwritable trace: exit {rc}, {err!r}")
        rc, out, err = run("run", ok, "--seed", "abc")
        f.check(rc == USAGE and "--seed" in err, f"bad seed: exit {rc}, {err!r}")
        rc, out, err = run("run", ok, "--frobnicate")
        f.check(rc == USAGE and "unknown option" in err, f"unknown option: exit {rc}, {err!r}")
        rc, out, err = run("run", ok, "--param", "nosuch=1", "--no-trace")
        f.check(rc == SCENARIO and "nosuch" in err, f"unused --param: exit {rc}, {err!r}")
        rc, out, err = run("frobnicate")
        f.check(rc == USAGE and "no command" in err, f"unknown command: exit {rc}, {err!r}")

        # replay of things that are not traces
        garbage = write_scenario(d, "garbage.jsonl", "this is not json\n")
        rc, out, err = run("replay", garbage)
        f.check(rc == BAD_TRACE and len(err.splitlines()) == 1 and ":1:" in err,
                f"replay garbage: exit {rc}, {err!r}")
        empty = write_scenario(d, "empty.jsonl", "")
        rc, out, err = run("replay", empty)
        f.check(rc == BAD_TRACE and "empty" in err, f"replay empty: exit {rc}, {err!r}")
        rc, out, err = run("replay", os.path.join(d, "nope.jsonl"))
        f.check(rc == IO, f"replay missing file: exit {rc}, {err!r}")
        notheader = write_scenario(d, "nohdr.jsonl", '{"t":0,"ev":"send"}\n')
        rc, out, err = run("replay", notheader)
        f.check(rc == BAD_TRACE, f"replay without header: exit {rc}, {err!r}")
    f.finish()


if __name__ == "__main__":
    main()
