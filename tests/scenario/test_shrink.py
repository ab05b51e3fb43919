"""sim shrink: a failing seed of a scenario with an injected bug becomes a
standalone scenario with fewer faults and operations that sim run still
fails the same way; the result does not depend on -j; seeds that pass and
scenarios it cannot write out are refused with a clear message."""
import json
import os
import re

from simtest import Failures, run, tmpdir, write_scenario
from test_sweep import BUGGY

# The bug of test_sweep plus noise the failure does not need: a client that
# only reads a key nobody writes, and a short pause of a follower.
NOISY = BUGGY.replace(
    'at(t, isolate("n1"))',
    'workload{ clients = 1, keys = { "z" }, mix = { read = 1 }, think = ms(7), target = "leader",\n'
    '          timeout = ms(100), duration = t }\n'
    'at(ms(40), pause("n3", ms(30)))\n'
    'at(t, isolate("n1"))')

SIZES = re.compile(r"(\d+) faults?, (\d+) operations?, ([\d.]+) s of virtual time, (\d+) clients?, (\d+) nodes?")


def sizes(line):
    m = SIZES.search(line)
    return tuple(float(x) if "." in x else int(x) for x in m.groups()) if m else None


def seeds_by_outcome(d, name):
    """(failing, passing) seeds among 1..20, from one sweep."""
    rc, _, err = run("sweep", name, "--seeds", "1..20", "--out", "seeds.jsonl", "--quiet", cwd=d)
    with open(os.path.join(d, "seeds.jsonl"), encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh][1:]
    return [r["seed"] for r in rows if r["failure"]], [r["seed"] for r in rows if not r["failure"]]


def test_shrinks_and_still_fails(f, d, seed, name):
    out_path = f"minimal-{seed}.lua"
    rc, out, err = run("shrink", name, "--seed", seed, "-o", out_path, "-j", "2", cwd=d, timeout=300)
    f.check(rc == 0, f"shrink seed {seed}: exit {rc}: {err[-500:]}")
    if rc != 0:
        return None
    before = sizes(next((line for line in out.splitlines() if line.startswith("before")), ""))
    after = sizes(next((line for line in out.splitlines() if line.startswith("after")), ""))
    f.check(before and after, f"before/after lines: {out}")
    if not (before and after):
        return None
    f.check(after[0] < before[0], f"seed {seed}: fewer faults: {before[0]} -> {after[0]}")
    f.check(after[1] < before[1], f"seed {seed}: fewer operations: {before[1]} -> {after[1]}")
    f.check(after[2] <= before[2] and after[3] <= before[3] and after[4] <= before[4],
            f"seed {seed}: nothing grew: {before} -> {after}")
    f.check(re.search(r"runs\s+\d+ candidate runs in [\d.]+ s", out), f"runs line: {out}")
    m = re.search(r"replay\s+sim run (\S+) --seed (\d+)", out)
    f.check(m and m.group(1) == out_path, f"replay line: {out}")
    with open(os.path.join(d, out_path), encoding="utf-8") as fh:
        text = fh.read()
    f.check(text.startswith("-- A minimal failing scenario") and f"{name} --seed {seed}" in text
            and "expect:no_lost_writes" in text and "-- Before:" in text and "-- After:" in text,
            f"header comment:\n{text[:800]}")
    f.check("math.random" not in text and "nemesis" not in text, "no seed-driven schedule is left")
    f.check(text.count("expect{") == 1 and "no_lost_writes = true" in text, "only the failing expectation")
    # it fails as sim run, the way the original did
    run_seed = m.group(2) if m else seed
    rc, out2, err2 = run("run", out_path, "--seed", run_seed, "--trace", f"min-{seed}.jsonl", cwd=d)
    f.check(rc == 1 and re.search(r"no_lost_writes\s+FAILED\s+violated", out2),
            f"sim run {out_path} --seed {run_seed}: exit {rc}: {out2[-400:]} {err2[-200:]}")
    return text


def main():
    f = Failures()
    with tmpdir() as d:
        write_scenario(d, "noisy.lua", NOISY)
        failing, passing = seeds_by_outcome(d, "noisy.lua")
        seeds = failing[:2]
        f.check(len(seeds) == 2 and passing, f"the injected bug fails some seeds: {failing}")
        texts = [test_shrinks_and_still_fails(f, d, s, "noisy.lua") for s in seeds]
        # the noise is gone: no pause, no third workload's key
        for s, text in zip(seeds, texts):
            if text:
                f.check('pause("n3"' not in text, f"seed {s}: the irrelevant pause is dropped")
                f.check('key = "z"' not in text, f"seed {s}: the irrelevant client is dropped")
        # the same result for any -j (the first shrink above ran with -j 2)
        if texts[0]:
            rc, _, _ = run("shrink", "noisy.lua", "--seed", seeds[0], "-o", f"minimal-{seeds[0]}.lua", "-j", "1",
                           "-q", cwd=d)
            with open(os.path.join(d, f"minimal-{seeds[0]}.lua"), encoding="utf-8") as fh:
                f.check(rc == 0 and fh.read() == texts[0], "-j 1 and -j 2 write the same minimal scenario")

        # a broken objective is kept as written (targets and met), not as slo = true
        write_scenario(d, "slo.lua", """
cluster{ model = "raft", nodes = 3 }
workload{ clients = 2, keys = 2, mix = { read = 0.5, write = 0.5 }, think = ms(5), timeout = ms(50),
          target = "leader", duration = s(1.5) }
at(ms(400), isolate("n1"))
at(ms(900), heal())
run{ until_ = s(2) }
expect{ slo = { availability = 0.999, p99 = ms(40) } }
""")
        rc, out, err = run("shrink", "slo.lua", "--seed", "2", "-o", "min-slo.lua", "-q", cwd=d)
        f.check(rc == 0, f"shrink of a broken SLO: exit {rc}: {err[-400:]}")
        if rc == 0:
            with open(os.path.join(d, "min-slo.lua"), encoding="utf-8") as fh:
                text = fh.read()
            f.check("expect{ slo = { availability = 0.999, p99 = 40000000," in text and "met = true }" in text,
                    f"the objective is not kept as written: {text[-300:]}")
            rc, out2, _ = run("run", "min-slo.lua", "--seed", "2", "--no-trace", cwd=d)
            f.check(rc == 1 and re.search(r"slo\s+FAILED\s+broken", out2), f"minimal SLO run: {rc} {out2[-300:]}")

        # a passing seed has nothing to shrink
        rc, _, err = run("shrink", "noisy.lua", "--seed", passing[0], cwd=d)
        f.check(rc == 1 and "passes" in err, f"passing seed {passing[0]}: {rc} {err}")
        # a scenario error is not a failure to shrink
        write_scenario(d, "broken.lua", 'cluster{ model = "leader_follower" }\ncrash("n9")\n')
        rc, _, err = run("shrink", "broken.lua", "--seed", "1", cwd=d)
        f.check(rc == 4 and "n9" in err, f"scenario error: {rc} {err}")
        # a Lua function parameter cannot be written out
        write_scenario(d, "func.lua", """
cluster{ model = "multi_leader", nodes = 4,
         params = { dcs = 2, conflict = "custom", resolver = function(k, a, b) return math.max(a, b) end } }
workload{ clients = 2, keys = { "x" }, mix = { write = 1 }, think = ms(10) }
run(ms(100))
expect{ ops_ok = { max = 0 } }
""")
        rc, _, err = run("shrink", "func.lua", "--seed", "1", cwd=d)
        f.check(rc == 2 and "Lua function" in err, f"function parameter: {rc} {err}")
        rc, _, err = run("shrink", "noisy.lua", cwd=d)
        f.check(rc == 2 and "--seed" in err, f"no seed: {rc} {err}")
    f.finish()


if __name__ == "__main__":
    main()
