"""sim sweep: a scenario with a deliberately injected bug fails on some
seeds and not others; the sweep finds exactly those seeds, its replay
commands reproduce them, its output does not depend on -j, shards merge to
the unsharded summary, the JUnit XML parses, and the progress bar on a
pseudo-terminal shows the right counts."""
import json
import os
import pty
import select
import shlex
import subprocess
import xml.etree.ElementTree as ET

from simtest import SIM, Failures, run, tmpdir, write_scenario

# Asynchronous replication acknowledges a write before any follower has it.
# At a seed-drawn time the leader is cut off (the appends in flight are
# lost) and then crashes; the clients stop right then, so an acknowledged
# write that had not reached a follower is in no final state. Whether one
# was in flight depends on the seed.
BUGGY = """
local t = ms(math.random(100, 300))
cluster{ model = "leader_follower", nodes = 3, params = { replication = "async" },
         network = { latency = { dist = "uniform", min = ms(1), max = ms(6) } } }
workload{ clients = 2, keys = { "x", "y" }, mix = { read = 0.4, write = 0.6 }, think = ms(5),
          target = "leader", timeout = ms(100), duration = t }
at(t, isolate("n1"))
at(t + ms(20), crash("n1"))
run{ until_ = ms(900) }
expect{ no_lost_writes = true }
"""

SEEDS = "1..20"


def lines(path):
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return rows[0], rows[1:]


def without_wall(text):
    return "\n".join(line for line in text.splitlines() if not line.startswith("wall"))


def sweep(d, *args):
    return run("sweep", *args, cwd=d, timeout=300)


def test_finds_the_failing_seeds(f, d):
    rc, out, err = sweep(d, "buggy.lua", "--seeds", SEEDS, "-j", "2", "--out", "r.jsonl")
    f.check(rc == 1, f"a sweep with failing seeds exits 1, got {rc}: {err[-300:]}")
    header, rows = lines(os.path.join(d, "r.jsonl"))
    f.check(header.get("sweep") == 1 and header.get("seeds") == SEEDS, f"header: {header}")
    f.check([r["seed"] for r in rows] == [str(s) for s in range(1, 21)], "one line per seed, in seed order")
    failing = [r for r in rows if r["failure"]]
    passing = [r for r in rows if not r["failure"]]
    f.check(failing and passing, f"the bug shows on some seeds only: {len(failing)} of {len(rows)} fail")
    for r in failing:
        f.check(r["failure"] == "expect:no_lost_writes" and r["exit"] == 1
                and r["verdicts"] == {"no_lost_writes": False}, f"failing line: {r}")
        f.check(r["replay"].startswith(f"sim run buggy.lua --seed {r['seed']} --trace "), f"replay: {r['replay']}")
    for r in passing:
        f.check(r["exit"] == 0 and r["verdicts"] == {"no_lost_writes": True} and "replay" not in r,
                f"passing line: {r}")
    for r in rows:
        for key in ("ops_invoked", "ops_ok", "ops_fail", "ops_info", "events", "virtual_time", "wall"):
            f.check(isinstance(r.get(key), (int, float)), f"seed {r['seed']}: no {key}")
        f.check(r["virtual_time"] == 900_000_000, f"seed {r['seed']}: virtual time {r['virtual_time']}")
    # the summary lists the kind with its count and replay commands
    f.check(f"expect:no_lost_writes: {len(failing)} seeds" in out, f"summary: {out}")
    f.check(f"sim run buggy.lua --seed {failing[0]['seed']} --trace" in out, "summary has a replay command")
    # each seed's verdict is what sim run says for it
    for r in rows[:6]:
        rc, _, _ = run("run", "buggy.lua", "--seed", r["seed"], "--no-trace", "--quiet", cwd=d)
        f.check(rc == r["exit"], f"seed {r['seed']}: sim run exits {rc}, the sweep said {r['exit']}")
    # the replay command reproduces the failure, with a trace
    r = failing[0]
    argv = shlex.split(r["replay"])
    f.check(argv[0] == "sim", "replay starts with sim")
    rc, out, err = run(*argv[1:], cwd=d)
    trace = argv[argv.index("--trace") + 1]
    f.check(rc == 1 and "no_lost_writes" in out and "FAILED" in out, f"replay: exit {rc}: {out[-400:]}")
    f.check(os.path.exists(os.path.join(d, trace)), f"the replay wrote {trace}")
    rc, out, _ = run("check", trace, "--only", "no_lost_writes", cwd=d)
    f.check(rc == 1 and "violated" in out, f"sim check on the replayed trace: {rc} {out[-300:]}")
    return failing


def test_jobs_do_not_change_the_output(f, d):
    outs = []
    for j in ("1", "2"):
        path = os.path.join(d, f"j{j}.jsonl")
        rc, out, err = sweep(d, "buggy.lua", "--seeds", SEEDS, "-j", j, "--out", path, "--no-wall")
        f.check(rc == 1, f"-j {j}: exit {rc}: {err[-200:]}")
        with open(path, "rb") as fh:
            outs.append(fh.read())
        f.check(b'"wall"' not in outs[-1], "--no-wall leaves wall out")
    f.check(outs[0] == outs[1], "-j 1 and -j 2 write byte-identical results")
    # with the wall clock the lines still agree once it is taken out
    walls = []
    for j in ("1", "2"):
        path = os.path.join(d, f"w{j}.jsonl")
        sweep(d, "buggy.lua", "--seeds", SEEDS, "-j", j, "--out", path)
        _, rows = lines(path)
        walls.append([{k: v for k, v in r.items() if k != "wall"} for r in rows])
    f.check(walls[0] == walls[1], "lines agree apart from wall")


def test_shards_merge_to_the_same_summary(f, d):
    rc, full, _ = sweep(d, "buggy.lua", "--seeds", SEEDS, "--out", "full.jsonl", "--quiet")
    n = 3
    seen = []
    for k in range(1, n + 1):
        rc, out, err = sweep(d, "buggy.lua", "--seeds", SEEDS, "--shard", f"{k}/{n}", "--out", f"s{k}.jsonl",
                             "--quiet")
        f.check(rc in (0, 1), f"shard {k}: exit {rc}: {err[-200:]}")
        header, rows = lines(os.path.join(d, f"s{k}.jsonl"))
        f.check(header.get("shard") == f"{k}/{n}", f"shard {k} header: {header}")
        seeds = [int(r["seed"]) for r in rows]
        f.check(seeds == [s for s in range(1, 21) if (s - 1) % n == k - 1],
                f"shard {k} holds the seeds s with (s - A) mod N = K - 1: {seeds}")
        seen += seeds
    f.check(sorted(seen) == list(range(1, 21)), "the shards are disjoint and cover the range")
    rc, merged, err = sweep(d, "--merge", "s3.jsonl", "s1.jsonl", "s2.jsonl", "--out", "merged.jsonl")
    f.check(rc == 1, f"merge exits 1 when seeds failed: {rc} {err[-200:]}")
    f.check(without_wall(merged) == without_wall(full), f"merged summary:\n{merged}\nunsharded:\n{full}")
    _, a = lines(os.path.join(d, "merged.jsonl"))
    _, b = lines(os.path.join(d, "full.jsonl"))
    f.check([{k: v for k, v in r.items() if k != "wall"} for r in a] ==
            [{k: v for k, v in r.items() if k != "wall"} for r in b], "merged results = unsharded results")
    # a missing shard is reported, and is not success
    rc, out, _ = sweep(d, "--merge", "s1.jsonl", "s2.jsonl")
    f.check(rc == 1 and "not run" in out, f"a missing shard: exit {rc}: {out}")
    # shards of different sweeps do not merge, nor does a shard twice
    sweep(d, "buggy.lua", "--seeds", "1..21", "--shard", "3/3", "--out", "other.jsonl", "--quiet")
    rc, _, err = sweep(d, "--merge", "s1.jsonl", "s2.jsonl", "other.jsonl")
    f.check(rc == 2 and "seeds differ" in err, f"mismatched shards: {rc} {err}")
    rc, _, err = sweep(d, "--merge", "s1.jsonl", "s1.jsonl")
    f.check(rc == 2 and "twice" in err, f"a shard twice: {rc} {err}")


def test_slurm_script_without_slurm(f, d):
    """tools/sweep-slurm.sh as Slurm would run it, one array task at a time."""
    script = os.path.join(os.environ.get("SIM_SOURCE_ROOT", "."), "tools", "sweep-slurm.sh")
    n = 4
    for k in range(1, n + 1):
        env = dict(os.environ, SIM=SIM, SLURM_ARRAY_TASK_ID=str(k), SLURM_ARRAY_TASK_COUNT=str(n),
                   SLURM_CPUS_PER_TASK="1")
        p = subprocess.run(["bash", script, "buggy.lua", SEEDS, "slurm-out", "--quiet"], cwd=d, env=env,
                           capture_output=True, text=True, timeout=120)
        f.check(p.returncode == 0, f"slurm task {k}: exit {p.returncode}: {p.stderr[-300:]}")
    rc, merged, _ = sweep(d, "--merge", *[f"slurm-out/results-{k}.jsonl" for k in range(1, n + 1)])
    rc2, full, _ = sweep(d, "buggy.lua", "--seeds", SEEDS, "--out", "full2.jsonl", "--quiet")
    f.check(without_wall(merged) == without_wall(full), f"slurm shards merged:\n{merged}\nunsharded:\n{full}")
    with open(script, encoding="utf-8") as fh:
        text = fh.read()
    f.check("#SBATCH --array=" in text and "#SBATCH --cpus-per-task" in text, "the script has its sbatch header")
    env = dict(os.environ, SIM=SIM)
    env.pop("SLURM_ARRAY_TASK_ID", None)
    p = subprocess.run(["bash", script, "buggy.lua", SEEDS], cwd=d, env=env, capture_output=True, text=True)
    f.check(p.returncode != 0 and "SLURM_ARRAY_TASK_ID" in p.stderr, f"outside an array: {p.stderr}")


def test_junit(f, d):
    rc, _, _ = sweep(d, "buggy.lua", "--seeds", SEEDS, "--out", "ju.jsonl", "--junit", "junit.xml", "--quiet")
    _, rows = lines(os.path.join(d, "ju.jsonl"))
    failing = [r for r in rows if r["failure"]]
    try:
        root = ET.parse(os.path.join(d, "junit.xml")).getroot()
    except ET.ParseError as e:
        f.check(False, f"junit.xml does not parse: {e}")
        return
    cases = root.findall("./testsuite/testcase")
    f.check(len(cases) == 20, f"one testcase per seed: {len(cases)}")
    failed = [c for c in cases if c.find("failure") is not None]
    f.check(len(failed) == len(failing), f"{len(failed)} failures in the XML, {len(failing)} failing seeds")
    f.check(root.get("failures") == str(len(failing)) and root.get("tests") == "20", f"totals: {root.attrib}")
    if failed:
        fl = failed[0].find("failure")
        f.check(fl.get("type") == "expect:no_lost_writes" and "sim run buggy.lua --seed" in (fl.text or ""),
                f"failure element: {fl.attrib} {fl.text}")
    # the merge writes it too
    rc, _, _ = sweep(d, "--merge", "ju.jsonl", "--junit", "junit2.xml")
    f.check(len(ET.parse(os.path.join(d, "junit2.xml")).getroot().findall("./testsuite/testcase")) == 20,
            "merge --junit")


def test_progress_on_a_terminal(f, d, n_failing):
    master, slave = pty.openpty()
    p = subprocess.Popen([SIM, "sweep", "buggy.lua", "--seeds", SEEDS, "-j", "2", "--out", "pty.jsonl"], cwd=d,
                         stdin=slave, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    screen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
    summary = p.stdout.read().decode()
    p.wait(timeout=60)
    os.close(master)
    text = screen.decode(errors="replace")
    bars = [part for part in text.split("\r") if "seeds " in part and "/20" in part]
    last = bars[-1] if bars else ""
    f.check("seeds 20/20" in text, f"the bar ends at seeds 20/20: {text[-300:]!r}")
    f.check(f"failures {n_failing}" in last, f"the last bar counts {n_failing} failures: {last!r}")
    f.check("seeds/s" in last and "ETA" in last and "[####" in last, f"bar: {last!r}")
    f.check("results     20 run" in summary and "seeds 20/20" not in summary,
            "the summary goes to standard output, the bar to standard error")
    # without a terminal: plain lines, here as often as possible
    rc, out, err = sweep(d, "buggy.lua", "--seeds", SEEDS, "-j", "1", "--out", "plain.jsonl",
                         "--progress-every", "0.000001")
    f.check("\r" not in err and "\033[" not in err, "no terminal control without a terminal")
    f.check(any(line.startswith("sweep: seeds ") and "seeds/s" in line for line in err.splitlines()),
            f"plain progress lines: {err[-300:]!r}")


def test_determinism_check_stop_and_swarm(f, d):
    rc, out, _ = sweep(d, "buggy.lua", "--seeds", "1..6", "--check-determinism", "1", "--out", "det.jsonl")
    _, rows = lines(os.path.join(d, "det.jsonl"))
    f.check(all(r.get("checked") for r in rows), "--check-determinism 1 checks every seed")
    f.check(not any(r["failure"] == "nondeterministic" for r in rows), "no seed differs")
    f.check("determinism 6 seeds run twice: identical traces" in out, f"summary: {out}")
    rc, out, _ = sweep(d, "buggy.lua", "--seeds", "1..40", "--check-determinism", "0.25", "--out", "det2.jsonl",
                       "--quiet")
    _, rows = lines(os.path.join(d, "det2.jsonl"))
    n = sum(1 for r in rows if r.get("checked"))
    f.check(0 < n < 40, f"a fraction checks some seeds, not all: {n}")
    # the same seeds are checked in a shard
    sweep(d, "buggy.lua", "--seeds", "1..40", "--check-determinism", "0.25", "--shard", "2/2", "--out",
          "det3.jsonl", "--quiet")
    _, shard = lines(os.path.join(d, "det3.jsonl"))
    f.check({r["seed"] for r in shard if r.get("checked")} ==
            {r["seed"] for r in rows if r.get("checked") and int(r["seed"]) % 2 == 0}, "shards check the same seeds")

    outs = []
    for j in ("1", "2"):
        rc, out, _ = sweep(d, "buggy.lua", "--seeds", SEEDS, "-j", j, "--stop-on-failure", "--no-wall", "--out",
                           f"stop{j}.jsonl")
        f.check(rc == 1 and "stopped at the first failure" in out, f"--stop-on-failure -j {j}: {out}")
        with open(os.path.join(d, f"stop{j}.jsonl"), "rb") as fh:
            outs.append(fh.read())
    _, rows = lines(os.path.join(d, "stop1.jsonl"))
    f.check(rows and rows[-1]["failure"] and not any(r["failure"] for r in rows[:-1]),
            "stops right after the first failing seed")
    f.check(outs[0] == outs[1], "--stop-on-failure output is the same for -j 1 and -j 2")

    rc, out, _ = sweep(d, "buggy.lua", "--seeds", "1..12", "--swarm", "--out", "swarm.jsonl", "--quiet")
    header, rows = lines(os.path.join(d, "swarm.jsonl"))
    f.check(header.get("swarm") is True, "header records swarm")
    f.check(all(isinstance(r.get("swarm"), dict) and "intensity" in r["swarm"] for r in rows),
            "each line has the drawn configuration")
    f.check(len({json.dumps(r["swarm"], sort_keys=True) for r in rows}) > 1, "seeds draw different configurations")
    for r in rows[:4]:
        if r["failure"]:
            f.check(r["replay"].endswith("--swarm"), f"swarm replay: {r['replay']}")
        rc, _, _ = run("run", "buggy.lua", "--seed", r["seed"], "--swarm", "--no-trace", "--quiet", cwd=d)
        f.check(rc == r["exit"], f"swarm seed {r['seed']}: sim run --swarm exits {rc}, the sweep said {r['exit']}")


def test_errors(f, d):
    rc, _, err = sweep(d, "buggy.lua", "--seeds", "5..3")
    f.check(rc == 2 and "--seeds" in err, f"reversed range: {rc} {err}")
    rc, _, err = sweep(d, "buggy.lua")
    f.check(rc == 2, f"no --seeds: {rc}")
    rc, _, err = sweep(d, "buggy.lua", "--seeds", "1..3", "--shard", "4/3")
    f.check(rc == 2 and "--shard" in err, f"bad shard: {rc} {err}")
    rc, _, err = sweep(d, "missing.lua", "--seeds", "1..3")
    f.check(rc == 5, f"missing scenario: {rc} {err}")
    rc, _, err = sweep(d, "buggy.lua", "--seeds", "1..3", "--check-determinism", "2")
    f.check(rc == 2, f"fraction above 1: {rc}")
    write_scenario(d, "broken.lua", "cluster{ model = \"nope\" }\n")
    rc, out, err = sweep(d, "broken.lua", "--seeds", "1..4", "--out", "broken.jsonl")
    _, rows = lines(os.path.join(d, "broken.jsonl"))
    f.check(rc == 4 and all(r["failure"] == "scenario_error" for r in rows), f"a broken scenario: {rc} {rows[:1]}")
    f.check("unknown model" in rows[0].get("why", ""), f"its error is in the line: {rows[0]}")
    rc, _, err = sweep(d, "--merge", "buggy.lua")
    f.check(rc == 6 and "not a sim sweep results file" in err, f"merge of a non-result: {rc} {err}")


def main():
    f = Failures()
    with tmpdir() as d:
        write_scenario(d, "buggy.lua", BUGGY)
        failing = test_finds_the_failing_seeds(f, d)
        test_jobs_do_not_change_the_output(f, d)
        test_shards_merge_to_the_same_summary(f, d)
        test_slurm_script_without_slurm(f, d)
        test_junit(f, d)
        test_progress_on_a_terminal(f, d, len(failing or []))
        test_determinism_check_stop_and_swarm(f, d)
        test_errors(f, d)
    f.finish()


if __name__ == "__main__":
    main()
