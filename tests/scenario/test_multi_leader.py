"""The multi_leader model's scenarios (10-13) show what their comments say,
on several seeds, read from the trace as a student would; and bad
parameters or a failing resolver give a clear error (exit 4)."""
import os

from simtest import Failures, read_trace, run, run_traced, SCENARIOS, tmpdir, write_scenario

SEEDS = ["1", "2", "3"]


def trace(f, d, name, seed, *extra, code=0):
    return run_traced(f, d, name, seed, *extra, code=code)[1]


def notes(tr, what="conflict"):
    return [e for e in tr if e["ev"] == "note" and e.get("what") == what]


def final_maps(tr):
    return {e["node"]: e["state"]["map"] for e in tr if e["ev"] == "state" and e.get("up")}


def ops(tr):
    """op id -> (invoke event, completion event or None)"""
    out = {}
    for e in tr:
        if e["ev"] == "invoke":
            out[e["op"]] = [e, None]
        elif e["ev"] in ("ok", "fail", "info") and e.get("op") in out:
            out[e["op"]][1] = e
    return out


def same_maps(f, tr, what):
    maps = final_maps(tr)
    f.check(len(maps) == 4, f"{what}: 4 final states, got {len(maps)}")
    f.check(len({repr(m) for m in maps.values()}) == 1, f"{what}: the replicas differ: {maps}")
    return next(iter(maps.values()), {})


def lww_skew(f, d):
    for seed in SEEDS:
        tr = trace(f, d, "10_multi_leader_lww_skew", seed)
        what = f"10 seed {seed}"
        conflicts = notes(tr)
        f.check(conflicts and all(c["resolution"] == "lww" for c in conflicts),
                f"{what}: lww conflict notes, got {len(conflicts)}")
        writes = {o[0]["value"]: o for o in ops(tr).values()
                  if o[0]["f"] == "write" and o[1] and o[1]["ev"] == "ok"}
        # b1 discarding a write it had acknowledged: its own client's write,
        # stamped older than what it held
        own = [c for c in conflicts if c["node"] == "b1" and any(v["origin"] == "write" for v in c["versions"])]
        f.check(own, f"{what}: b1 notes discarding its own new write")
        for c in own:
            w = next(v for v in c["versions"] if v["origin"] == "write")
            kept = next(v for v in c["versions"] if v["origin"] == "local")
            f.check(c["discarded"] == [w["value"]] and c["kept"] == kept["value"] and w["ts"] < kept["ts"],
                    f"{what}: b1's new write loses on its older stamp: {c}")
            f.check(w["value"] in writes, f"{what}: the discarded write {w['value']} was acknowledged")
        m = same_maps(f, tr, what)
        # the finale: a1 wrote z, then b1 (100 ms later in real time); a1's stays
        zs = sorted((o[0]["t"], o[1]["client"], o[0]["value"]) for o in writes.values() if o[0]["key"] == "z")
        f.check(len(zs) == 2 and m.get("z") == zs[0][2],
                f"{what}: the earlier write of z wins over the later one: {zs}, final {m.get('z')}")


def version_vectors(f, d):
    for seed in SEEDS:
        tr = trace(f, d, "11_multi_leader_version_vectors", seed)
        what = f"11 seed {seed}"
        sib = [c for c in notes(tr) if c["resolution"] == "siblings"]
        f.check(sib, f"{what}: sibling conflicts noted")
        for c in sib:
            vals = {v["value"] for v in c["versions"]}
            f.check(len(c["kept"]) >= 2 and set(c["kept"]) <= vals and c["discarded"] == [],
                    f"{what}: siblings keep concurrent values: {c}")
        reads = [e for e in tr if e["ev"] == "ok" and e.get("f") == "read" and e.get("values")]
        f.check(reads and all(r["value"] is None and r["values"] == sorted(r["values"]) for r in reads),
                f"{what}: reads return sorted siblings")
        f.check(notes(tr, "siblings_resolved"), f"{what}: a later write resolves siblings")
        same_maps(f, tr, what)


def counter(f, d, conflict):
    for seed in SEEDS:
        tr = trace(f, d, "12_multi_leader_crdt_counter", seed, "--param", f"conflict={conflict}")
        what = f"12 ({conflict}) seed {seed}"
        acked = {}
        for inv, done in ops(tr).values():
            if inv["f"] == "add":
                f.check(done and done["ev"] == "ok", f"{what}: add {inv['op']} acknowledged")
                acked[inv["key"]] = acked.get(inv["key"], 0) + inv["value"]
        m = same_maps(f, tr, what)
        f.check(acked and m == acked, f"{what}: final counters {m} = sum of acknowledged adds {acked}")
        merges = [c for c in notes(tr) if c["resolution"] == "merge"]
        f.check(merges, f"{what}: concurrent increments noted as merges")
        for c in merges:
            a, b = c["versions"]
            f.check(c["kept"] >= max(a["value"], b["value"]) and c["discarded"] == [],
                    f"{what}: a merge keeps every increment: {c}")


def resolver(f, d):
    for seed in SEEDS:
        tr = trace(f, d, "13_multi_leader_custom_resolver", seed)
        what = f"13 seed {seed}"
        res = [c for c in notes(tr) if c["resolution"] == "resolver"]
        f.check(res, f"{what}: resolver conflicts noted")
        for c in res:
            vals = [v["value"] for v in c["versions"]]
            f.check(c["kept"] == max(vals), f"{what}: the resolver (max) decided: {c}")
        same_maps(f, tr, what)


CLUSTER = """local a, b = {"n1", "n2"}, {"n3", "n4"}
cluster{ model = "multi_leader", nodes = 4, params = { %s },
         network = { latency = ms(1), links = { { from = a, to = b, latency = ms(40) } } } }
"""


def errors(f, d):
    failing = write_scenario(d, "failing.lua", CLUSTER % """conflict = "custom",
    resolver = function(key, x, y)
        if x > 20 then error("cannot resolve " .. x) end
        return math.max(x, y)
    end""" + """
workload{ clients = 2, keys = {"x"}, mix = { read = 1, write = 1 }, think = ms(10), target = "n1", duration = s(2) }
workload{ clients = 2, keys = {"x"}, mix = { read = 1, write = 1 }, think = ms(10), target = "n3", duration = s(2) }
run{ until_ = s(3) }
""")
    rc, _, err = run("run", failing, "--seed", "1", "--quiet")
    f.check(rc == 4 and "failing.lua:4:" in err and "cannot resolve" in err,
            f"a resolver failing mid-run: exit 4 naming the line, got {rc}: {err.strip()}")

    cases = [
        ('conflict = "custom"', 'conflict = "custom" needs a resolver function'),
        ('conflict = "vv", resolver = function(k, x, y) return x end',
         'a resolver function is only called with conflict = "custom"'),
        ('conflict = "custom", resolver = function(k, x, y) return "no" end', "must return an integer"),
        ('conflict = "custom", resolver = function(k, x, y) error("boom") end', "failed a trial call"),
        ("dcs = 5", "dcs = 5 does not fit 4 nodes"),
        ('conflict = "sometimes"', "conflict"),
    ]
    for i, (params, want) in enumerate(cases):
        path = write_scenario(d, f"bad{i}.lua", CLUSTER % params)
        rc, _, err = run("run", path, "--quiet")
        f.check(rc == 4 and want in err and f"bad{i}.lua:2:" in err,
                f"cluster{{params = {{{params}}}}}: exit 4 with {want!r}, got {rc}: {err.strip()}")


def orset(f, d):
    path = write_scenario(d, "orset.lua", CLUSTER % 'conflict = "orset"' + """
workload{ clients = 2, keys = {"s"}, mix = { read = 1, add = 2, remove = 1 }, values = {1, 6},
          think = ms(10), target = "n1", duration = s(2) }
workload{ clients = 2, keys = {"s"}, mix = { read = 1, add = 2, remove = 1 }, values = {1, 6},
          think = ms(10), target = "n3", duration = s(2) }
at(ms(500), partition{ a, b })
at(ms(1500), heal())
run{ until_ = s(3.5) }
expect{ converges = true, invariants = true }
""")
    for seed in SEEDS:
        tr = trace(f, d, path, seed)
        what = f"orset seed {seed}"
        m = same_maps(f, tr, what)
        f.check(isinstance(m.get("s"), list) and m["s"] == sorted(set(m["s"])), f"{what}: a sorted set: {m}")
        reads = [e for e in tr if e["ev"] == "ok" and e.get("f") == "read" and e.get("values")]
        f.check(reads and all(r["values"] == sorted(set(r["values"])) for r in reads),
                f"{what}: reads return the elements ascending")
        f.check([c for c in notes(tr) if c["resolution"] == "merge"], f"{what}: concurrent set updates noted")


def main():
    f = Failures()
    with tmpdir() as d:
        lww_skew(f, d)
        version_vectors(f, d)
        counter(f, d, "gcounter")
        counter(f, d, "pncounter")
        resolver(f, d)
        errors(f, d)
        orset(f, d)
    f.finish()


if __name__ == "__main__":
    main()
