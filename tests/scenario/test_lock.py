"""The lock service with a TTL (scenarios 50-53): what the traces show (two
workers holding at once after a GC pause or a fast server clock, the stale
write the fenced storage rejects), what mutual_exclusion says, the same
scenario flipping its verdict with fencing on the command line, and clear
errors for bad parameters."""
import json
import os

from simtest import (
    Failures, notes, read_trace, run, run_traced as trace, scenario_path as scenario,
    SCENARIOS, tmpdir, write_scenario, check_refused)

SEEDS = ["1", "2", "3"]


def verdict(path):
    rc, out, _ = run("check", path, "--only", "mutual_exclusion", "--json")
    doc = json.loads(out)
    return doc["checkers"][0]


def beliefs(tr):
    """(worker, token, start, end) from acquired to released / lease_over."""
    end_t = max(e.get("t", 0) for e in tr)
    out = []
    for e in tr:
        if e["ev"] != "note":
            continue
        if e["what"] == "acquired":
            out.append([e["node"], e["token"], e["t"], None])
        elif e["what"] in ("released", "lease_over"):
            for b in reversed(out):
                if b[0] == e["node"] and b[1] == e["token"] and b[3] is None:
                    b[3] = e["t"]
                    break
    return [(w, k, s, e if e is not None else end_t) for w, k, s, e in out]


def overlapping(tr):
    bs = beliefs(tr)
    return [(a, b) for i, a in enumerate(bs) for b in bs[i + 1:] if a[0] != b[0] and max(a[2], b[2]) < min(a[3], b[3])]


def stale_accepted(tr):
    """Accepted writes whose token is older than a grant made before they landed."""
    grants = [(e["token"], e["t"]) for e in notes(tr, "granted")]
    return [w for w in notes(tr, "storage_write")
            if w["accepted"] and any(k > w["token"] and t <= w["t"] for k, t in grants)]


def check_gc_pause(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "50", seed)
        f.check(any(e["ev"] == "pause" and e["node"] == "n3" for e in tr), f"50 seed {seed}: no pause of n3")
        grants = notes(tr, "granted")
        f.check(grants and grants[0]["worker"] == "n3" and grants[0]["token"] == 1,
                f"50 seed {seed}: n3 is not the first holder: {grants[:1]}")
        f.check(any(e["worker"] == "n3" for e in notes(tr, "expired")), f"50 seed {seed}: n3's lease never expired")
        pairs = overlapping(tr)
        f.check(any("n3" in (a[0], b[0]) for a, b in pairs), f"50 seed {seed}: no two holders at once: {pairs}")
        stale = stale_accepted(tr)
        f.check(any(w["worker"] == "n3" and w["token"] == 1 and w["t"] >= 220_000_000 for w in stale),
                f"50 seed {seed}: n3's stale write after the pause was not accepted: {stale}")
        f.check(any(u["worker"] == "n3" for u in notes(tr, "unlock_refused")),
                f"50 seed {seed}: compare-and-delete did not refuse n3's late release")
        v = verdict(path)
        f.check(v["verdict"] == "violated" and "n3 wrote with token 1" in v["reason"],
                f"50 seed {seed}: {v['verdict']}: {v['reason']}")
        # fencing on the command line turns the same run into a pass
        path, tr = trace(f, d, "50", seed, "--param", "fencing=true", code=1)
        f.check(verdict(path)["verdict"] == "holds", f"50 fenced seed {seed}: {verdict(path)['reason']}")


def check_fast_server_clock(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "51", seed)
        f.check(any(e["ev"] == "clock" and e["node"] == "n1" and e["drift_ppb"] > 0 for e in tr),
                f"51 seed {seed}: n1's clock is not fast")
        f.check(not any(e["ev"] == "pause" for e in tr), f"51 seed {seed}: a pause in the clock scenario")
        f.check(overlapping(tr), f"51 seed {seed}: no two holders at once")
        f.check(len(stale_accepted(tr)) >= 2, f"51 seed {seed}: fewer than two stale writes accepted")
        # the workers' own clocks are right: only the server's is skewed
        f.check(not any(e["ev"] == "clock" and e["node"] != "n1" for e in tr), f"51 seed {seed}: a worker's clock skewed")
        v = verdict(path)
        f.check(v["verdict"] == "violated", f"51 seed {seed}: {v['verdict']}: {v['reason']}")


def check_fencing(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "52", seed)
        writes = notes(tr, "storage_write")
        rejected = [w for w in writes if not w["accepted"]]
        f.check(len(rejected) == 1 and rejected[0]["worker"] == "n3" and rejected[0]["token"] == 1,
                f"52 seed {seed}: rejected writes {rejected}")
        f.check(rejected and rejected[0]["highest"] > 1, f"52 seed {seed}: {rejected}")
        # the pause still made two workers believe at once: fencing does not prevent that
        f.check(any("n3" in (a[0], b[0]) for a, b in overlapping(tr)), f"52 seed {seed}: no overlapping belief")
        f.check(not stale_accepted(tr), f"52 seed {seed}: a stale write was accepted: {stale_accepted(tr)}")
        # accepted tokens never go down at a fenced storage
        acc = [w["token"] for w in writes if w["accepted"]]
        f.check(acc == sorted(acc), f"52 seed {seed}: accepted tokens {acc}")
        v = verdict(path)
        f.check(v["verdict"] == "holds" and "1 rejected by fencing" in v["reason"],
                f"52 seed {seed}: {v['verdict']}: {v['reason']}")


def check_no_faults(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "53", seed)
        f.check(not overlapping(tr), f"53 seed {seed}: overlapping beliefs {overlapping(tr)[:2]}")
        f.check(not notes(tr, "expired"), f"53 seed {seed}: a lease expired without faults")
        grants = [e["token"] for e in notes(tr, "granted")]
        f.check(len(grants) >= 10 and grants == list(range(1, len(grants) + 1)), f"53 seed {seed}: tokens {grants}")
        workers = {e["worker"] for e in notes(tr, "granted")}
        f.check(workers == {"n3", "n4", "n5"}, f"53 seed {seed}: holders {workers}")
        f.check(verdict(path)["verdict"] == "holds", f"53 seed {seed}")


def check_bad_input(f, d):
    cases = [
        ('cluster{ model = "lock", nodes = 3 }', "at least 4 nodes"),
        ('cluster{ model = "lock", nodes = 4, params = { storage = 1 } }', "must be different nodes"),
        ('cluster{ model = "lock", nodes = 4, params = { server = 9 } }', "from 1 to 4, got 9"),
        ('cluster{ model = "lock", nodes = 4, params = { ttl = 0 } }', "ttl, work and retry must be above 0"),
    ]
    check_refused(f, d, cases)


def main():
    f = Failures()
    with tmpdir() as d:
        check_gc_pause(f, d)
        check_fast_server_clock(f, d)
        check_fencing(f, d)
        check_no_faults(f, d)
        check_bad_input(f, d)
    rc, out, _ = run("list")
    f.check("lock" in out and "fencing" in out, "sim list lacks the lock model")
    f.finish()


if __name__ == "__main__":
    main()
