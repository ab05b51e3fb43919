"""The paxos and multipaxos models: the shipped scenarios show what their
comments say (read from the trace), each mutant is caught within a bounded
number of seeds of a scenario made for it while the correct protocol passes
the same seeds, retried operations are applied once, and bad parameters get
one clear sentence."""
import os

from simtest import (
    Failures, notes, read_trace, run, run_traced, scenario_path as scenario, SCENARIOS, tmpdir,
    write_scenario)

SEEDS = ["1", "2", "3"]
MS = 1_000_000
MUTANT_SEEDS = 20


# ---- 30: dueling proposers ---------------------------------------------------

def trace(f, d, path, seed, *extra, code=0):
    return run_traced(f, d, path, seed, *extra, code=code)[1]


def check_duel(f, d, seed):
    tr = trace(f, d, scenario("30_paxos_dueling_proposers"), seed)
    chosen = notes(tr, "chosen")
    first = chosen[0]["t"] if chosen else float("inf")
    before = [e for e in notes(tr, "prepare") if e["t"] < first]
    f.check(len(before) >= 30, f"30 seed {seed}: only {len(before)} prepares before anything was chosen")
    rounds = max((e["round"] for e in before), default=0)
    f.check(rounds >= 10, f"30 seed {seed}: the duel reached only round {rounds}")
    f.check(not chosen, f"30 seed {seed}: a value was chosen at {first / MS} ms in lock step, despite the livelock")
    # ever higher ballots: each node's prepares go up, and nodes take turns
    for node in {e["node"] for e in before}:
        mine = [e["round"] for e in before if e["node"] == node]
        f.check(all(a < b for a, b in zip(mine, mine[1:])), f"30 seed {seed}: {node}'s rounds do not increase")
    f.check(len({e["node"] for e in before}) >= 3, f"30 seed {seed}: fewer than three nodes duel")
    f.check(len(notes(tr, "promise_rejected")) >= 10, f"30 seed {seed}: few rejections in a duel")
    f.check(len({e["value"] for e in chosen}) <= 1, f"30 seed {seed}: two values chosen for x")

    # jitter: the duel may end by chance, when is luck; safety holds either way
    tr = trace(f, d, scenario("30_paxos_dueling_proposers"), seed, "--param", "jitter=true")
    chosen = notes(tr, "chosen")
    f.check(len({e["value"] for e in chosen}) <= 1, f"30 seed {seed} with jitter: two values chosen for x")
    f.check(len(notes(tr, "prepare")) >= 30, f"30 seed {seed} with jitter: no duel")

    tr = trace(f, d, scenario("30_paxos_dueling_proposers"), seed, "--param", "livelock=false")
    chosen = notes(tr, "chosen")
    f.check(len(chosen) == 5, f"30 seed {seed} with backoff: {len(chosen)} nodes learned x, expected 5")
    first = chosen[0]["t"] if chosen else float("inf")
    before = [e for e in notes(tr, "prepare") if e["t"] < first]
    f.check(first < 50 * MS, f"30 seed {seed} with backoff: chosen only at {first / MS} ms")
    f.check(len(before) <= 15, f"30 seed {seed} with backoff: {len(before)} prepares before the choice")
    f.check(len({e["value"] for e in chosen}) == 1, f"30 seed {seed} with backoff: nodes learned different values")
    finals = [e["state"]["map"] for e in tr if e["ev"] == "state" and e["up"]]
    f.check(all(m == finals[0] and "x" in m for m in finals), f"30 seed {seed}: final maps differ: {finals}")


# ---- 31: leader crash, no-op fills ------------------------------------------

def check_leader_change(f, d, seed):
    tr = trace(f, d, scenario("31_multipaxos_leader_change"), seed)
    crash = next(e["t"] for e in tr if e["ev"] == "crash" and e["node"] == "n1")
    elected = [e for e in notes(tr, "elected") if e["t"] > crash]
    f.check(elected and elected[0]["node"] in ("n3", "n4", "n5"),
            f"31 seed {seed}: no new leader among n3, n4, n5 after the crash")
    if not elected:
        return
    leader, t = elected[0]["node"], elected[0]["t"]
    f.check(elected[0]["noops"] >= 1, f"31 seed {seed}: the new leader filled no gap: {elected[0]}")
    noop_slots = {e["slot"] for e in notes(tr, "noop", leader) if e["t"] == t}
    f.check(len(noop_slots) == elected[0]["noops"], f"31 seed {seed}: noop notes do not match the count")
    # the gap lies below slots the new leader re-proposed
    repro = {e["slot"] for e in notes(tr, "repropose", leader) if e["t"] == t}
    f.check(repro and min(noop_slots, default=0) < max(repro),
            f"31 seed {seed}: no re-proposed slot above the no-ops {sorted(noop_slots)} {sorted(repro)}")
    sent_noops = {e["msg"]["slot"] for e in tr if e["ev"] == "send" and e["from"] == leader
                  and e["msg"].get("type") == "accept" and e["msg"].get("cmd") == "noop"}
    f.check(noop_slots & sent_noops, f"31 seed {seed}: no accept carried a no-op for {sorted(noop_slots)}")
    finals = [e["state"] for e in tr if e["ev"] == "state" and e["up"]]
    f.check(len(finals) == 5 and all(s["map"] == finals[0]["map"] and s["applied"] == finals[0]["applied"]
                                     for s in finals), f"31 seed {seed}: the replicas end differently")
    check_duplicates(f, tr, seed)


# ---- 32: minority partition --------------------------------------------------

def check_minority(f, d, seed):
    tr = trace(f, d, scenario("32_multipaxos_minority_partition"), seed)
    start = next(e["t"] for e in tr if e["ev"] == "partition")
    end = next(e["t"] for e in tr if e["ev"] == "heal")
    answered_by = {}
    invoked = {e["op"]: e["t"] for e in tr if e["ev"] == "invoke"}
    for e in tr:
        if e["ev"] == "send" and e["msg"].get("type") == "reply" and e["msg"]["status"] == "ok":
            answered_by[e["msg"]["op"]] = (e["from"], e["t"])
    # invoked during the split (one invoked just before may have been chosen just before)
    minority_ok = [op for op, (node, t) in answered_by.items()
                   if node in ("n1", "n2") and start < invoked.get(op, 0) and t < end]
    f.check(not minority_ok, f"32 seed {seed}: the minority side answered ok: ops {minority_ok[:5]}")
    majority_ok = [op for op, (node, t) in answered_by.items() if node in ("n3", "n4", "n5") and start < t < end]
    f.check(len(majority_ok) >= 20, f"32 seed {seed}: the majority side served only {len(majority_ok)} operations")
    leaders = [e for e in tr if e["ev"] == "note" and e["what"] == "role" and e["role"] == "leader"
               and start < e["t"] < end]
    f.check(leaders and leaders[0]["node"] in ("n3", "n4", "n5") and leaders[0]["term"] >= 2,
            f"32 seed {seed}: no leader elected on the majority side")
    back = [e for e in tr if e["ev"] == "note" and e["what"] == "role" and e["node"] == "n1"
            and e["role"] == "follower" and e["t"] >= end]
    f.check(back, f"32 seed {seed}: n1 never stepped down after the heal")


# ---- duplicates --------------------------------------------------------------

def check_duplicates(f, tr, seed):
    """In 31, commands that n1 had logged come back twice: the new leader
    re-proposes them from the promises, and their clients retry them (same
    op id) into new slots. Both copies are chosen; the map applies one, so
    the history stays linearizable (the scenario expects it) and each client
    saw one outcome per operation."""
    slots = {}
    for e in tr:
        m = e.get("msg", {})
        if e["ev"] == "send" and m.get("type") == "accept" and m.get("n", 0) >= 1 and "op" in m:
            slots.setdefault(m["op"], set()).add(m["slot"])
    twice = [op for op, s in slots.items() if len(s) > 1]
    f.check(twice, f"31 seed {seed}: no operation was proposed in two slots")
    outcomes = {}
    for e in tr:
        if e["ev"] in ("ok", "fail", "info"):
            outcomes[e["op"]] = outcomes.get(e["op"], 0) + 1
    f.check(all(outcomes.get(op, 0) <= 1 for op in twice), f"31 seed {seed}: an operation completed twice")


# ---- mutants -----------------------------------------------------------------

# Single-decree: keys get decided on the n1-n3 side while n4 and n5 are cut
# off; then n4 and n5, which never learned those values, meet n2 and n3 and
# propose for the same keys. A correct proposer adopts the value a promise
# reports; the mutant proposes its own, so a key gets a second value.
PAXOS_MUTANTS = """
cluster{ model = "paxos", nodes = 5, params = { backoff = ms(5) },
         network = { latency = { dist = "uniform", min = ms(1), max = ms(4) } } }
workload{ clients = 5, keys = 40, mix = { write = 0.8, read = 0.2 }, think = ms(3), target = "sticky",
          timeout = ms(100), retries = 3, duration = ms(1200) }
at(ms(20), partition{ { "n1", "n2", "n3" }, { "n4", "n5" } })
at(ms(300), partition{ { "n1" }, { "n2", "n3", "n4", "n5" } })
at(ms(600), partition{ { "n1", "n4", "n5" }, { "n2", "n3" } })
at(ms(900), heal())
run{ until_ = s(1.5) }
expect{ invariant_violations = 0, linearizable = true }
"""

# Multi-Paxos: n1 leads, is cut off with n2, the others elect a leader at a
# higher ballot; the heal is one-way at first, so n1's accepts at the old
# ballot reach the new majority before anything tells n1 it was deposed.
MULTIPAXOS_MUTANTS = """
cluster{ model = "multipaxos", nodes = 5, params = { heartbeat = ms(20), election_timeout = ms(150) },
         network = { latency = { dist = "uniform", min = ms(1), max = ms(4) } } }
workload{ clients = 5, keys = { "x", "y" }, mix = { read = 0.4, write = 0.4, cas = 0.2 }, think = ms(5),
          target = "leader", timeout = ms(100), retries = 2, duration = ms(1800) }
at(ms(400), partition{ { "n1", "n2" }, { "n3", "n4", "n5" } })
at(ms(900), function()
    heal()
    cut("n3", "n1"); cut("n4", "n1"); cut("n5", "n1")
end)
at(ms(1100), heal())
run{ until_ = s(2.2) }
expect{ invariant_violations = 0, linearizable = true }
"""


def caught(d, path, seed, mutant):
    """(caught, how): an invariant line in the trace, or a failed checker."""
    t = os.path.join(d, f"mut-{os.path.basename(path)}-{mutant}-{seed}.jsonl")
    rc, out, err = run("run", path, "--seed", str(seed), "--trace", t, "--quiet", "--param", f"mutant={mutant}")
    tr = read_trace(t)
    inv = [e for e in tr if e["ev"] == "invariant"]
    if inv:
        return True, inv[0]["why"]
    if rc == 1 and "linearizable" in err:
        return True, err.strip()
    return False, f"exit {rc}"


def check_mutants(f, d):
    cases = [("paxos", PAXOS_MUTANTS), ("multipaxos", MULTIPAXOS_MUTANTS)]
    for model, text in cases:
        path = write_scenario(d, f"{model}_mutants.lua", text)
        for mutant in ("accept_lower_ballot", "ignore_promised_values"):
            tried = []
            how = None
            for seed in range(1, MUTANT_SEEDS + 1):
                tried.append(seed)
                hit, how = caught(d, path, seed, mutant)
                if hit:
                    break
            f.check(hit, f"{model} mutant {mutant}: not caught in {MUTANT_SEEDS} seeds")
            if hit:
                print(f"{model} {mutant}: caught on seed {tried[-1]}: {how[:160]}")
                if mutant == "accept_lower_ballot":
                    f.check("promises never go back" in how or "agreement" in how,
                            f"{model} {mutant}: caught for another reason: {how}")
            # the correct protocol passes every seed the mutant was tried on
            for seed in tried:
                t = os.path.join(d, f"ok-{model}-{seed}.jsonl")
                rc, out, err = run("run", path, "--seed", str(seed), "--trace", t, "--quiet")
                f.check(rc == 0, f"{model} without mutant, seed {seed}: exit {rc}: {err.strip()}")


# ---- listing and bad input ---------------------------------------------------

def check_list_and_errors(f, d):
    rc, out, err = run("list")
    f.check(rc == 0, f"sim list: exit {rc}")
    for line in ("paxos - ", "multipaxos - ", "accept_lower_ballot", "ignore_promised_values", "backoff"):
        f.check(line in out, f"sim list lacks {line!r}")

    big = write_scenario(d, "big.lua", 'cluster{ model = "paxos", nodes = 65 }\nrun(ms(1))\n')
    rc, out, err = run("run", big, "--no-trace", "--quiet")
    f.check(rc == 4 and "at most 64 nodes" in err, f"65 paxos nodes: exit {rc}: {err.strip()}")
    ok = write_scenario(d, "ok.lua", 'cluster{ model = "multipaxos", nodes = 3 }\nrun(ms(1))\n')
    rc, out, err = run("run", ok, "--no-trace", "--quiet", "--param", "election_timeout=5ms")
    f.check(rc == 4 and "election_timeout must be longer than heartbeat" in err,
            f"election_timeout below heartbeat: exit {rc}: {err.strip()}")
    rc, out, err = run("run", ok, "--no-trace", "--quiet", "--param", "mutant=nope")
    f.check(rc != 0 and "mutant" in err, f"unknown mutant: exit {rc}: {err.strip()}")

    # even and tiny clusters work: 4 nodes need 3, 1 node decides alone
    for model in ("paxos", "multipaxos"):
        for nodes in (1, 2, 4):
            text = (f'cluster{{ model = "{model}", nodes = {nodes} }}\n'
                    'workload{ clients = 2, keys = { "x" }, mix = { read = 0.5, write = 0.5 }, '
                    'duration = ms(300), target = "leader" }\n'
                    'run(ms(600))\nexpect{ ops_ok = { min = 5 }, invariant_violations = 0, linearizable = true }\n')
            p = write_scenario(d, f"{model}{nodes}.lua", text)
            rc, out, err = run("run", p, "--no-trace", "--quiet")
            f.check(rc == 0, f"{model} on {nodes} nodes: exit {rc}: {err.strip()}")


def main():
    f = Failures()
    with tmpdir() as d:
        for seed in SEEDS:
            check_duel(f, d, seed)
            check_leader_change(f, d, seed)
            check_minority(f, d, seed)
        check_mutants(f, d)
        check_list_and_errors(f, d)
    f.finish()


if __name__ == "__main__":
    main()
