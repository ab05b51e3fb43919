"""Two-phase commit and sagas (scenarios 40-47): what the traces show, what
the checkers find, that every mutant is caught within a few seeds while the
correct protocol passes the same seeds, and clear errors for bad input."""
import json
import os

from simtest import (
    Failures, notes, read_trace, run, run_traced as trace, scenario_path as scenario,
    SCENARIOS, tmpdir, write_scenario, check_refused)

SEEDS = ["1", "2", "3"]
MUTANT_SEEDS = ["1", "2", "3", "4", "5"]


def verdicts(path, only):
    rc, out, _ = run("check", path, "--only", only, "--json")
    doc = json.loads(out)
    return {c["name"]: c for c in doc["checkers"]}


# ==== two-phase commit =======================================================

def check_happy_path(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "40", seed)
        dec = notes(tr, "decision")
        coord = {e["txn"]: e["outcome"] for e in dec if e["role"] == "coordinator"}
        parts = [e for e in dec if e["role"] == "participant"]
        f.check(coord and parts, f"40 seed {seed}: no decision notes")
        # every participant applied what its coordinator decided
        f.check(all(coord.get(e["txn"]) == e["outcome"] for e in parts), f"40 seed {seed}: outcomes differ")
        # an ok transaction's reads return values some committed write wrote (or null)
        written = {w[1] for e in parts for w in e["writes"]}
        for e in tr:
            if e["ev"] == "ok" and e.get("f") == "txn":
                for m in e["value"]:
                    if m[0] == "r" and m[2] is not None:
                        f.check(m[2] in written, f"40 seed {seed}: read {m} of an unapplied value")
        v = verdicts(path, "atomicity,nonblocking,read_committed")
        f.check(all(c["verdict"] == "holds" for c in v.values()), f"40 seed {seed}: {v}")


def check_vote_no(f, d):
    for seed in SEEDS:
        _, tr = trace(f, d, "41", seed)
        votes = notes(tr, "vote")
        f.check(any(v["node"] == "n3" and v["vote"] == "no" for v in votes), f"41 seed {seed}: n3 never said no")
        f.check(not any(v["node"] == "n3" and v["vote"] == "yes" for v in votes), f"41 seed {seed}: n3 said yes")
        for e in tr:
            if e["ev"] == "ok" and e.get("f") == "txn":
                f.check(not any(m[1].startswith("n3/") for m in e["value"]),
                        f"41 seed {seed}: a transaction on n3 committed: {e}")


def check_blocking(f, d):
    for seed in SEEDS:
        for coop in ("false", "true"):
            path, tr = trace(f, d, "42", seed, "--param", f"cooperative_termination={coop}")
            blocked = notes(tr, "blocked")
            f.check(blocked and all(b["holding"] for b in blocked), f"42 seed {seed} coop {coop}: {blocked[:2]}")
            # they voted before the crash, or just after: the prepare was on its way
            f.check(all(b["since"] < 310_000_000 and b["t"] >= 300_000_000 for b in blocked),
                    f"42 seed {seed}: blocked before the crash? {blocked[:2]}")
            f.check(not notes(tr, "unblocked"), f"42 seed {seed} coop {coop}: unblocked without the coordinator")
            ev = verdicts(path, "nonblocking")["nonblocking"]
            e = ev["evidence"]
            f.check(ev["verdict"] == "violated" and e["blocked"] == len(blocked) and e["still_blocked"] == len(blocked)
                    and e["holding"] and e["max_ms"] > 1000, f"42 seed {seed} coop {coop}: {ev}")


def check_recovery(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "43", seed)
        f.check(notes(tr, "recover"), f"43 seed {seed}: no recover note")
        unb = notes(tr, "unblocked")
        f.check(all(u["duration"] > 0 for u in unb), f"43 seed {seed}: {unb[:2]}")


def check_cooperative_termination_resolves(f, d):
    """A participant that has not voted when asked aborts, and so does the
    blocked one that asked: here n1 <-> n3 takes 40 ms, so n2 votes yes at
    83 ms while the prepare to n3 is still on its way; n1 dies at 85 ms; n2
    is blocked at 103 ms and asks n3, which has not voted and aborts. Without
    the protocol n2 stays blocked (and n3 too, once it votes yes)."""
    text = """
cluster{ model = "twopc", nodes = 3, params = { cooperative_termination = param("coop", true),
         decision_timeout = ms(20), prepare_timeout = ms(100), txn_timeout = ms(200) },
         network = { latency = ms(1), links = { { from = "n1", to = "n3", latency = ms(40) } } } }
workload{ clients = 1, keys = { "n2/x", "n3/y" }, mix = { txn = 1 }, txn = { min = 2, max = 2, reads = 0 },
          target = "n1", think = s(10) }
at(ms(85), crash("n1"))
run{ until_ = s(1) }
"""
    lua = write_scenario(d, "coop.lua", text)
    for coop, resolved in (("true", True), ("false", False)):
        t = os.path.join(d, f"coop-{coop}.jsonl")
        rc, _, err = run("run", lua, "--trace", t, "--quiet", "--param", f"coop={coop}")
        f.check(rc == 0, f"coop {coop}: exit {rc}: {err.strip()}")
        tr = read_trace(t)
        unb = notes(tr, "unblocked")
        got = bool(unb) and all(u["outcome"] == "abort" and u["by"] == "n3" for u in unb)
        f.check(got == resolved and bool(notes(tr, "blocked")), f"coop {coop}: blocked {notes(tr, 'blocked')} unblocked {unb}")


def check_twopc_mutants(f, d):
    # forget_decision: the restarted coordinator presumes abort for what it committed
    caught = 0
    for seed in MUTANT_SEEDS:
        path, _ = trace(f, d, "43", seed, "--param", "mutant=forget_decision", code=None)
        caught += verdicts(path, "atomicity")["atomicity"]["verdict"] == "violated"
        trace(f, d, "43", seed)   # the correct protocol passes the same seed
    f.check(caught >= 1, f"forget_decision caught on {caught} of {len(MUTANT_SEEDS)} seeds")
    # release_locks_after_vote: two transactions prepared on one key
    caught = 0
    for seed in MUTANT_SEEDS:
        _, tr = trace(f, d, "40", seed, "--param", "mutant=release_locks_after_vote", code=None)
        caught += any(e["ev"] == "invariant" and "both prepared" in e["why"] for e in tr)
    f.check(caught >= 1, f"release_locks_after_vote caught on {caught} of {len(MUTANT_SEEDS)} seeds")


# ==== sagas ==================================================================

def check_saga_each_step_both_styles(f, d):
    for style in ("orchestration", "choreography"):
        for step in (1, 2, 3):
            for seed in SEEDS[:2]:
                path, tr = trace(f, d, "44", seed, "--param", f"style={style}", "--param", f"fail_step={step}")
                ends = notes(tr, "saga")
                f.check(ends and all(e["outcome"] == "compensated" and e["failed_step"] == step for e in ends),
                        f"44 {style} step {step}: {ends[:2]}")
                comps = {}
                for c in notes(tr, "compensate"):
                    comps.setdefault(c["saga"], []).append(c["step"])
                want = list(range(step - 1, 0, -1))
                f.check(all(comps.get(e["saga"], []) == want for e in ends),
                        f"44 {style} step {step}: compensations {list(comps.items())[:3]}, want {want}")
                senders = {e["from"] for e in tr if e["ev"] == "send" and e["from"].startswith("n") and e["to"].startswith("n")}
                f.check(("n1" in senders) == (style == "orchestration"), f"44 {style}: senders {senders}")
                v = verdicts(path, "saga")["saga"]
                f.check(v["verdict"] == "holds", f"44 {style} step {step}: {v['reason']}")
                if step > 1:
                    f.check(v["evidence"]["dirty_reads"] >= 1, f"44 {style} step {step}: no observation {v['evidence']}")


def check_saga_resume(f, d):
    for seed in SEEDS:
        _, tr = trace(f, d, "45", seed)
        f.check(any(e["node"] == "n1" for e in notes(tr, "resume")) or not notes(tr, "resume"),
                f"45 seed {seed}: resume on the wrong node")


def check_saga_mutants(f, d):
    caught = 0
    for seed in MUTANT_SEEDS[:3]:
        for style in ("orchestration", "choreography"):
            path, _ = trace(f, d, "44", seed, "--param", f"style={style}", "--param", "fail_step=3",
                            "--param", "mutant=forward_compensation", code=None)
            v = verdicts(path, "saga")["saga"]
            caught += v["verdict"] == "violated" and "reverse order" in v["reason"]
    f.check(caught == 6, f"forward_compensation caught {caught} of 6")
    caught = 0
    for seed in MUTANT_SEEDS[:3]:
        path, _ = trace(f, d, "46", seed, "--param", "mutant=step_not_idempotent", code=None)
        v = verdicts(path, "saga")["saga"]
        caught += v["verdict"] == "violated" and "double booking" in v["reason"]
    f.check(caught >= 1, f"step_not_idempotent caught {caught} of 3")
    for seed in SEEDS:
        path, tr = trace(f, d, "47", seed)
        f.check(any(s.get("bookings", 0) >= 2 for s in notes(tr, "step")), f"47 seed {seed}: no double booking")


# ==== bad input ==============================================================

def check_bad_input(f, d):
    cases = [
        ('cluster{ model = "twopc", nodes = 3 }\nworkload{ keys = {"n2/x", "n9/y", "n3/z"}, mix = { txn = 1 } }',
         'twopc key "n9/y" names no participant'),
        ('cluster{ model = "twopc", nodes = 3 }\nworkload{ keys = {"n2/x", "n1/y", "n3/z"}, mix = { txn = 1 } }',
         'names the coordinator n1'),
        ('cluster{ model = "twopc", nodes = 3 }\nworkload{ keys = {"n2/x", "n3/y"}, mix = { txn = 1 }, txn = { min = 0, max = 0 } }',
         "txn: min must be"),
        ('cluster{ model = "twopc", nodes = 3, params = { no_voters = "n5" } }', 'unknown participant "n5"'),
        ('cluster{ model = "saga", nodes = 4, params = { steps = "" } }', "saga steps are empty"),
        ('cluster{ model = "saga", nodes = 4, params = { steps = "a@n2/b; c@n3" } }',
         'saga step 2 "c@n3" has no compensation'),
        ('cluster{ model = "saga", nodes = 4, params = { steps = "a@n7/b" } }', 'unknown node "n7"'),
        ('cluster{ model = "saga", nodes = 4, params = { fail_step = 4 } }', "fail_step must be"),
    ]
    check_refused(f, d, cases)


def check_list(f):
    rc, out, _ = run("list")
    for word in ("twopc", "saga", "forget_decision", "release_locks_after_vote", "forward_compensation",
                 "step_not_idempotent", "cooperative_termination"):
        f.check(word in out, f"sim list lacks {word}")


def main():
    f = Failures()
    with tmpdir() as d:
        check_happy_path(f, d)
        check_vote_no(f, d)
        check_blocking(f, d)
        check_recovery(f, d)
        check_cooperative_termination_resolves(f, d)
        check_twopc_mutants(f, d)
        check_saga_each_step_both_styles(f, d)
        check_saga_resume(f, d)
        check_saga_mutants(f, d)
        check_bad_input(f, d)
    check_list(f)
    f.finish()


if __name__ == "__main__":
    main()
