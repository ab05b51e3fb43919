"""The Raft scenarios (20-24) show what their comments say, on several
seeds, and each Raft mutant is caught within a bounded number of seeds
while the correct protocol passes the same seeds."""
import os

from simtest import Failures, notes, read_trace, run, run_traced, SCENARIOS, tmpdir, write_scenario

SEEDS = ["1", "2", "3"]
MS = 1_000_000
MUTANT_SEEDS = 20


def trace(f, d, name, seed, *extra, code=0):
    return run_traced(f, d, name, seed, *extra, code=code)[1]


def verdict(f, path, checker):
    rc, out, err = run("check", path, "--only", checker)
    first = out.splitlines()[0] if out else ""
    return first.split()[1] if len(first.split()) > 1 else "?"


def final_maps(tr):
    return [e["state"]["map"] for e in tr if e["ev"] == "state" and e["up"]]


def check_leader_crash(f, d, seed):
    tr = trace(f, d, "20_raft_leader_crash", seed)
    el = notes(tr, "elected")
    f.check(el and el[0]["node"] == "n1" and el[0]["t"] < 1000 * MS, f"20 seed {seed}: n1 was not the first leader")
    after = [e for e in el if e["t"] > 1000 * MS]
    f.check(after and after[0]["node"] != "n1" and after[0]["term"] > el[0]["term"],
            f"20 seed {seed}: no new leader with a higher term after the crash")
    if after:
        # timeouts are 150-300 ms; allow a split vote or two
        f.check(after[0]["t"] < 1000 * MS + 900 * MS, f"20 seed {seed}: re-election took until {after[0]['t']}")
        back = [e for e in notes(tr, "role", "n1") if e["t"] > 2000 * MS]
        f.check(back and back[-1]["role"] == "follower" and back[-1]["term"] >= after[0]["term"],
                f"20 seed {seed}: restarted n1 did not follow the new term")
    maps = final_maps(tr)
    f.check(len(maps) == 5 and all(m == maps[0] for m in maps), f"20 seed {seed}: final maps differ")


def check_minority(f, d, seed):
    tr = trace(f, d, "21_raft_minority_partition", seed)
    during = [e for e in notes(tr, "role", "n1") if 1000 * MS <= e["t"] < 2500 * MS]
    f.check(not during, f"21 seed {seed}: n1 changed role while cut off: {during[:1]}")
    commits = [e for e in notes(tr, "commit", "n1") if 1100 * MS <= e["t"] < 2500 * MS]
    f.check(not commits, f"21 seed {seed}: n1 committed while in the minority: {commits[:1]}")
    el = [e for e in notes(tr, "elected") if 1000 * MS < e["t"] < 2500 * MS]
    f.check(el and el[0]["node"] in ("n3", "n4", "n5"), f"21 seed {seed}: the majority elected no leader")
    # writes by the minority's clients during the partition: none acknowledged
    inv = {e["op"]: e for e in tr if e["ev"] == "invoke"}
    acked = [e for e in tr if e["ev"] == "ok" and e["client"] in ("c1", "c2") and e["f"] != "read"
             and 1000 * MS <= inv[e["op"]]["t"] and e["t"] < 2500 * MS]
    f.check(not acked, f"21 seed {seed}: a write on the minority side was acknowledged: {acked[:1]}")
    back = [e for e in notes(tr, "role", "n1") if e["t"] >= 2500 * MS]
    f.check(back and back[0]["role"] == "follower", f"21 seed {seed}: n1 did not step down after the heal")


def check_lease(f, d, seed):
    tr = trace(f, d, "22_raft_stale_lease_reads", seed)
    # the stale reads were served by n1 after the majority elected a leader
    el = [e for e in notes(tr, "elected") if e["t"] > 1000 * MS]
    served_by_n1 = [e for e in tr if e["ev"] == "send" and e["from"] == "n1"
                    and e.get("msg", {}).get("type") == "reply" and el and e["t"] > el[0]["t"]
                    and e["t"] < 2000 * MS]
    f.check(served_by_n1, f"22 seed {seed}: n1 answered no read after the new leader was elected")
    for extra, what in ((("--param", "drift=0"), "without clock drift"),
                        (("--param", "reads=readindex"), "with ReadIndex")):
        t = os.path.join(d, f"22-{seed}-{extra[1]}.jsonl")
        rc, _, err = run("run", os.path.join(SCENARIOS, "22_raft_stale_lease_reads.lua"), "--seed", seed,
                         "--trace", t, "--quiet", *extra)
        f.check(rc == 1, f"22 seed {seed} {what}: exit {rc}, expected 1 (linearizable = false fails)")
        f.check(verdict(f, t, "linearizable") == "holds", f"22 seed {seed} {what}: not linearizable")


def check_figure8(f, d, seed):
    tr = trace(f, d, "23_raft_figure8", seed)
    el = notes(tr, "elected")
    f.check([e["node"] for e in el] == ["n1", "n5", "n1", "n5"],
            f"23 seed {seed}: leaders {[e['node'] for e in el]}, expected n1 n5 n1 n5")
    terms = [e["term"] for e in el]
    f.check(terms == sorted(terms) and len(set(terms)) == len(terms), f"23 seed {seed}: terms {terms}")
    # in (c) n1 replicated X to a majority but did not commit it
    c_commits = [e for e in notes(tr, "commit", "n1") if 1600 * MS <= e["t"] < 2800 * MS]
    f.check(not c_commits, f"23 seed {seed}: n1 committed an old-term entry: {c_commits[:1]}")
    # the mutant commits it, and an invariant names the damage
    tr = trace(f, d, "23_raft_figure8", seed, "--param", "mutant=commit_old_term", code=1)
    inv = [e for e in tr if e["ev"] == "invariant"]
    f.check(inv and ("leader completeness" in inv[0]["why"] or "state machine safety" in inv[0]["why"]),
            f"23 seed {seed} commit_old_term: no completeness/safety violation: {inv[:1]}")


def check_nemesis(f, d, seed):
    tr = trace(f, d, "24_raft_nemesis_linearizable", seed)
    f.check(notes(tr, "snapshot"), f"24 seed {seed}: no snapshot taken")
    f.check(len(notes(tr, "elected")) >= 2, f"24 seed {seed}: the nemesis caused no re-election")


# Scenarios designed to catch each mutant. A mutant is caught when the run
# fails (an invariant stops it, or a checker expectation fails); the correct
# protocol must pass the same seeds.
MUTANT_SCENARIOS = {
    "vote_twice": """
-- split votes: slow links, short timeouts, leader crashes
cluster{ model = "raft", nodes = 5, params = { election_timeout = ms(40), heartbeat = ms(15) },
         network = { latency = { dist = "uniform", min = ms(5), max = ms(25) } } }
workload{ clients = 2, keys = {"x"}, mix = { read = 0.5, write = 0.5 }, think = ms(20),
          target = "leader", timeout = ms(300), retries = 2, duration = s(4) }
nemesis{ faults = {"crash"}, intensity = 3, stop = s(4), min = ms(100), max = ms(300) }
run{ until_ = s(5) }
expect{ invariants = true }
""",
    "skip_up_to_date": """
-- nodes cut off miss committed entries, then stand for election
cluster{ model = "raft", nodes = 3, params = { election_timeout = ms(60), heartbeat = ms(20) } }
workload{ clients = 3, keys = {"x","y"}, mix = { read = 0.4, write = 0.6 }, think = ms(5),
          target = "leader", timeout = ms(300), retries = 2, duration = s(4) }
nemesis{ faults = {"isolate","crash"}, intensity = 4, stop = s(4), min = ms(100), max = ms(500) }
run{ until_ = s(5) }
expect{ invariants = true, linearizable = true }
""",
    "reply_before_sync": """
-- n1 leads (its clock runs fast, so it stands first); n3 is cut off, then
-- n1 and n2 crash together: n2 loses the entries it acknowledged unsynced
cluster{ model = "raft", nodes = 3 }
skew("n1", 0, 1.0)
workload{ clients = 3, keys = {"x","y"}, mix = { read = 0.5, write = 0.5 }, think = ms(5),
          target = "leader", timeout = ms(200), retries = 3, duration = s(3) }
at(ms(1000), isolate("n3"))
at(ms(1500), function() crash("n1"); crash("n2") end)
at(ms(1520), function() restart("n2"); heal() end)
at(ms(2500), restart("n1"))
run{ until_ = s(4) }
expect{ invariants = true, linearizable = true }
""",
}


def hunt(f, path, mutant, extra=()):
    """Run seeds 1.. until the mutant is caught; the correct protocol must
    pass every seed tried. Returns the seed that caught it, or None."""
    for seed in range(1, MUTANT_SEEDS + 1):
        rc, _, err = run("run", path, "--seed", str(seed), "--no-trace", "--quiet", *extra)
        f.check(rc == 0, f"{mutant} hunt: the correct protocol fails seed {seed}: {err.strip()[:200]}")
        rc, _, err = run("run", path, "--seed", str(seed), "--no-trace", "--quiet",
                         "--param", f"mutant={mutant}", *extra)
        f.check(rc in (0, 1), f"{mutant} seed {seed}: exit {rc}: {err.strip()[:200]}")
        if rc == 1:
            return seed
    return None


def main():
    f = Failures()
    with tmpdir() as d:
        for seed in SEEDS:
            check_leader_crash(f, d, seed)
            check_minority(f, d, seed)
            check_lease(f, d, seed)
            check_figure8(f, d, seed)
            check_nemesis(f, d, seed)

        for mutant, text in MUTANT_SCENARIOS.items():
            path = write_scenario(d, f"hunt_{mutant}.lua", text)
            caught = hunt(f, path, mutant)
            f.check(caught is not None, f"{mutant}: not caught within {MUTANT_SEEDS} seeds")
            print(f"{mutant}: caught on seed {caught}")
        caught = hunt(f, os.path.join(SCENARIOS, "23_raft_figure8.lua"), "commit_old_term")
        f.check(caught is not None, f"commit_old_term: not caught within {MUTANT_SEEDS} seeds")
        print(f"commit_old_term: caught on seed {caught}")

        # sim list shows the mutants, one line each
        rc, out, _ = run("list")
        for m in ("vote_twice", "commit_old_term", "skip_up_to_date", "reply_before_sync"):
            f.check(any(line.strip().startswith(m) for line in out.splitlines()), f"sim list: no line for {m}")

        # bad parameters: one clear sentence, exit 4
        for params, says in (("election_timeout = ms(50), heartbeat = ms(50)", "election_timeout"),
                             ("lease_ratio = 0", "lease_ratio"),
                             ("max_batch = 0", "max_batch")):
            p = write_scenario(d, "bad.lua", f'cluster{{ model = "raft", nodes = 3, params = {{ {params} }} }}\n')
            rc, _, err = run("run", p, "--no-trace", "--quiet")
            f.check(rc == 4 and "cluster: raft: " in err and says in err,
                    f"bad params {params}: exit {rc}: {err.strip()}")
    f.finish()


if __name__ == "__main__":
    main()
