"""The quorum scenarios (05-09) show what their comments say, on several
seeds, read from the trace the way a student would be told to; plus the
parameter checks a cluster runs before anything starts."""
import json
import os

from simtest import (
    Failures, notes, read_trace, run, run_traced as trace, SCENARIOS, tmpdir, write_scenario)

SEEDS = ["1", "2", "3"]
MS = 1_000_000


def verdicts(f, path):
    rc, out, err = run("check", path, "--json", "--no-evidence")
    f.check(rc in (0, 1, 3), f"check {path}: exit {rc}: {err.strip()[:300]}")
    try:
        doc = json.loads(out)
    except ValueError:
        f.check(False, f"check {path}: not JSON")
        return {}
    return {c["name"]: c for c in doc.get("checkers", [])}


def states(tr):
    return {e["node"]: e["state"] for e in tr if e.get("ev") == "state"}


def completions(tr, client=None):
    return [e for e in tr if e.get("ev") in ("ok", "fail", "info")
            and (client is None or e["client"] == client)]


def test_06(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "06_quorum_not_linearizable", seed)
        v = verdicts(f, path)
        f.check(v.get("linearizable", {}).get("verdict") == "violated", f"06 seed {seed}: linearizable")
        f.check(v.get("staleness", {}).get("verdict") == "holds", f"06 seed {seed}: staleness")
        # c1's writes during the split are indeterminate, never ok or fail
        split = [e for e in completions(tr, "c1") if e["f"] == "write" and e["t"] > 600 * MS]
        f.check(split and all(e["ev"] == "info" for e in split),
                f"06 seed {seed}: c1's writes cut off should all be info: {[e['ev'] for e in split]}")
        # after the heal some read returns a value that only a failed write wrote
        info_values = {e["value"] for e in split}
        after = [e for e in completions(tr) if e["f"] == "read" and e["ev"] == "ok" and e["t"] > 1500 * MS]
        f.check(any(e["value"] in info_values for e in after),
                f"06 seed {seed}: no read after the heal returned c1's cut-off write")
        # the same schedule without faults: no stale read, nothing failed
        path, tr = trace(f, d, "06_quorum_not_linearizable", seed, "--param", "faults=false")
        v = verdicts(f, path)
        f.check(v.get("staleness", {}).get("verdict") == "holds", f"06 no faults seed {seed}: staleness")
        f.check(all(e["ev"] == "ok" for e in completions(tr)), f"06 no faults seed {seed}: a failure")


def test_07(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "07_quorum_sloppy", seed)
        # during the split only n2 (the fallback on c1's side) can take hints,
        # always for a home replica on the other side
        hints = notes(tr, "hint")
        split = [h for h in hints if h["t"] < 1500 * MS]
        f.check(split and all(h["node"] == "n2" and h["for"] in ("n5", "n1") for h in split),
                f"07 seed {seed}: hints in the split should be kept by n2 for n5/n1: {split[:2]}")
        f.check(all(h["node"] in ("n2", "n3") and h["for"] in ("n1", "n4", "n5") for h in hints),
                f"07 seed {seed}: a hint kept by a home replica, or for a fallback")
        handoffs = notes(tr, "handoff")
        f.check(handoffs and all(h["t"] >= 1500 * MS for h in handoffs),
                f"07 seed {seed}: handoffs only after the heal")
        f.check(all(s["hints"] == 0 for s in states(tr).values()), f"07 seed {seed}: hints left over")
        # c1's writes during the split were acknowledged
        ok = [e for e in completions(tr, "c1") if e["f"] == "write" and 550 * MS < e["t"] < 1500 * MS]
        f.check(len(ok) >= 5 and all(e["ev"] == "ok" for e in ok),
                f"07 seed {seed}: c1's writes in the split: {[e['ev'] for e in ok][:10]}")
        st = states(tr)
        f.check(set(n for n, s in st.items() if "map" in s) == {"n1", "n4", "n5"},
                f"07 seed {seed}: only x's home replicas publish a map")
        # strict quorum: the minority side cannot write
        path, tr = trace(f, d, "07_quorum_sloppy", seed, "--param", "sloppy=false", code=1)
        split = [e for e in completions(tr, "c1") if e["f"] == "write" and 600 * MS < e["t"] < 1500 * MS]
        f.check(split and all(e["ev"] != "ok" for e in split),
                f"07 strict seed {seed}: c1 wrote during the split")
        v = verdicts(f, path)
        f.check(v.get("staleness", {}).get("verdict") == "holds", f"07 strict seed {seed}: staleness")
        f.check(not notes(tr, "hint"), f"07 strict seed {seed}: hints without sloppy")


def test_08(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "08_quorum_lww_skew_loses_writes", seed)
        v = verdicts(f, path)
        nlw = v.get("no_lost_writes", {})
        f.check(nlw.get("verdict") == "violated", f"08 seed {seed}: no_lost_writes")
        lost = nlw.get("evidence", {}).get("lost", []) if isinstance(nlw.get("evidence"), dict) else []
        # every lost write is c2's (the slow clock), acknowledged after c1 stopped
        final = {s["map"].get("x") for s in states(tr).values()}
        f.check(len(final) == 1, f"08 seed {seed}: replicas differ {final}")
        c2_writes = {e["value"] for e in completions(tr, "c2") if e["f"] == "write" and e["ev"] == "ok"
                     and e["t"] > 1905 * MS}
        f.check(c2_writes and not (c2_writes & final), f"08 seed {seed}: c2's last writes survived")
        lost_notes = notes(tr, "lww_lost")
        f.check(any(n["by"] == "n2" and n["kept_by"] == "n1" and n["ts"] < n["kept_ts"] for n in lost_notes),
                f"08 seed {seed}: no lww_lost note for n2's writes")
        f.check(lost and all(x.get("client") == "c2" and x["value"] in c2_writes for x in lost),
                f"08 seed {seed}: lost writes should be c2's last ones: {lost[:2]}")


def test_09(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "09_quorum_siblings", seed)
        sib = [n for n in notes(tr, "siblings") if n["t"] >= 1500 * MS]
        f.check(any(len(n["values"]) >= 2 and len(n["vectors"]) == len(n["values"]) for n in sib),
                f"09 seed {seed}: no siblings after the heal")
        c3 = completions(tr, "c3")
        multi = [e for e in c3 if e["f"] == "read" and e["ev"] == "ok" and len(e.get("values") or []) >= 2]
        f.check(multi, f"09 seed {seed}: c3 never read siblings")
        if multi:
            first = multi[0]
            later_write = [e for e in c3 if e["f"] == "write" and e["t"] > first["t"]]
            resolved = [n for n in notes(tr, "resolved") if n["t"] > first["t"]]
            f.check(later_write and resolved, f"09 seed {seed}: siblings never resolved after c3's read")
            if later_write and resolved:
                f.check(any(n["value"] == later_write[0]["value"] for n in resolved),
                        f"09 seed {seed}: c3's write did not resolve the siblings")
        maps = [s["map"] for s in states(tr).values()]
        f.check(len(maps) == 3 and all(m == maps[0] for m in maps), f"09 seed {seed}: maps {maps}")
        f.check(all(isinstance(m.get("x"), int) for m in maps), f"09 seed {seed}: siblings left at the end")


HINTS_AFTER_RESTART = """
cluster{ model = "quorum", nodes = 5,
         params = { n = 3, w = 2, r = 2, sloppy = true, hinted_handoff = true,
                    handoff_period = ms(200), anti_entropy = 0 } }
workload{ clients = 1, keys = { "x" }, mix = { write = 1 }, think = ms(10),
          target = "n4", timeout = ms(300), duration = ms(1300) }
at(ms(500), partition{ { "n4", "n2", "c1" }, { "n5", "n1", "n3" } })
at(ms(1400), crash("n2"))
at(ms(1500), heal())
at(ms(2000), restart("n2"))
run{ until_ = s(3) }
"""

COUNTER_AFTER_RESTART = """
-- k1's home replicas are n3, n5, n4: n1 only coordinates, it stores nothing
-- from which it could recover its counter but the counter itself
cluster{ model = "quorum", nodes = 5,
         params = { n = 3, w = 2, r = 1, versioning = "vv", anti_entropy = ms(100) } }
workload{ clients = 1, keys = { "k1" }, mix = { write = 1 }, think = ms(10),
          target = "n1", timeout = ms(300), duration = ms(2000) }
at(ms(1000), crash("n1"))
at(ms(1100), restart("n1"))
run{ until_ = s(3) }
expect{ no_lost_writes = true, converges = true }
"""


def test_restarts(f, d):
    """Hints survive their holder's crash; a coordinator's vector counter
    survives its own (else its next writes would look old and be dropped)."""
    sc = write_scenario(d, "hints_restart.lua", HINTS_AFTER_RESTART)
    for seed in SEEDS:
        t = os.path.join(d, f"hints-{seed}.jsonl")
        rc, out, err = run("run", sc, "--seed", seed, "--trace", t, "--quiet")
        f.check(rc == 0, f"hints restart seed {seed}: exit {rc}: {err.strip()[:200]}")
        tr = read_trace(t)
        kept = [h for h in notes(tr, "hint") if h["node"] == "n2"]
        handed = [h for h in notes(tr, "handoff") if h["node"] == "n2"]
        f.check(kept and handed and all(h["t"] >= 2000 * MS for h in handed),
                f"hints restart seed {seed}: {len(kept)} hints, handoffs at {[h['t'] for h in handed][:3]}")
        last = [e for e in completions(tr, "c1") if e["ev"] == "ok"][-1]["value"]
        f.check(states(tr)["n5"]["map"].get("x") == last,
                f"hints restart seed {seed}: n5 lacks c1's last write {last}")
    sc = write_scenario(d, "counter_restart.lua", COUNTER_AFTER_RESTART)
    for seed in SEEDS:
        t = os.path.join(d, f"counter-{seed}.jsonl")
        rc, out, err = run("run", sc, "--seed", seed, "--trace", t, "--quiet")
        f.check(rc == 0, f"counter restart seed {seed}: exit {rc}: {err.strip()[:200]}")
        tr = read_trace(t)
        last = [e for e in completions(tr, "c1") if e["ev"] == "ok"][-1]["value"]
        maps = [s["map"] for s in states(tr).values() if "map" in s]
        f.check(len(maps) == 3 and all(m.get("k1") == last for m in maps),
                f"counter restart seed {seed}: final maps {[s.get('map') for s in states(tr).values()]}, last {last}")


def test_bad_parameters(f, d):
    cases = [
        ("w = 4", "w = 4 is more than n = 3 replicas: a write could never be acknowledged"),
        ("r = 0", "r = 0: a read must ask at least one replica"),
        ("n = 4", "n = 4 is more than the 3 nodes"),
        ("vnodes = 0", "vnodes = 0: every node needs at least one point on the ring"),
        ("timeout = 0", "timeout must be above 0"),
        ("versioning = \"clock\"", "versioning"),
    ]
    for i, (p, want) in enumerate(cases):
        sc = write_scenario(d, f"bad{i}.lua",
                            f'cluster{{ model = "quorum", nodes = 3, params = {{ {p} }} }}\nrun(ms(10))\n')
        rc, out, err = run("run", sc, "--no-trace", "--quiet")
        f.check(rc == 4 and want in err, f"params {p}: exit {rc}, {err.strip()[:200]}")
    sc = write_scenario(d, "bigvv.lua",
                        'cluster{ model = "quorum", nodes = 33, params = { versioning = "vv" } }\nrun(ms(10))\n')
    rc, out, err = run("run", sc, "--no-trace", "--quiet")
    f.check(rc == 4 and "at most 32 nodes" in err, f"vv on 33 nodes: exit {rc}, {err.strip()[:200]}")


def main():
    f = Failures()
    with tmpdir() as d:
        test_06(f, d)
        test_07(f, d)
        test_08(f, d)
        test_09(f, d)
        test_restarts(f, d)
        test_bad_parameters(f, d)
    f.finish()


if __name__ == "__main__":
    main()
