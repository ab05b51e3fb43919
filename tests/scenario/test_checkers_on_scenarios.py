"""The sequential, staleness, no_lost_writes and converges checkers on real
traces of the shipped scenarios, each verdict checked against what the
scenario's comment promises, and the numbers against the trace itself
(computed here, independently of the C code)."""
import json
import os

from simtest import SCENARIOS, Failures, read_trace, run, tmpdir

SEEDS = ["1", "2", "3"]
MINE = "sequential,staleness,no_lost_writes,converges"


def trace(f, d, name, seed, *extra):
    t = os.path.join(d, f"{name}-{seed}{'-'.join(extra)}.jsonl")
    rc, out, err = run("run", os.path.join(SCENARIOS, name + ".lua"), "--seed", seed,
                       "--trace", t, "--quiet", *extra)
    # a run whose expectations fail (different parameters) still writes its trace
    f.check(rc in (0, 1) and os.path.exists(t), f"{name} seed {seed} {extra}: exit {rc}: {err.strip()}")
    return t


def check(f, path):
    """name -> the checker's JSON object."""
    rc, out, err = run("check", path, "--only", MINE, "--json")
    f.check(rc in (0, 1, 3), f"sim check {path}: exit {rc}: {err.strip()}")
    try:
        doc = json.loads(out)
    except ValueError:
        f.check(False, f"sim check {path} --json: not JSON: {out[:200]}")
        return {}
    return {c["name"]: c for c in doc["checkers"]}


def verdict(f, res, name, want, where):
    got = res.get(name, {}).get("verdict")
    f.check(got == want, f"{where}: {name} is {got}, expected {want}: {res.get(name, {}).get('reason')}")


def history(tr):
    """op id -> {f, key, value, client, type, invoke (t, pos), complete (t, pos)}"""
    ops = {}
    for pos, e in enumerate(tr):
        if e["ev"] == "invoke":
            ops[e["op"]] = {"f": e["f"], "key": e.get("key"), "value": e.get("value"),
                            "client": e["client"], "type": None, "invoke": (e["t"], pos),
                            "complete": None}
        elif e["ev"] in ("ok", "fail", "info") and e.get("op") in ops:
            o = ops[e["op"]]
            o["type"] = e["ev"]
            o["complete"] = (e["t"], pos)
            if e["ev"] == "ok" and o["f"] == "read":
                o["value"] = e.get("value")
    return ops


def stale_reads(tr):
    """Reads whose value was certainly overwritten before they began, by
    brute force: a write w2 to the key completed before the read was
    invoked, and the write of the value read completed before w2 was invoked
    (or the read saw nil after any completed write)."""
    ops = history(tr)
    writes = [o for o in ops.values() if o["f"] in ("write", "cas") and o["type"] == "ok"]
    def written(o):
        return o["value"][1] if o["f"] == "cas" else o["value"]
    stale = 0
    for r in ops.values():
        if r["f"] != "read" or r["type"] != "ok":
            continue
        same_key = [w for w in writes if w["key"] == r["key"]]
        if r["value"] is None:
            older = None
        else:
            src = [o for o in ops.values() if o["f"] in ("write", "cas") and o["key"] == r["key"]
                   and o["type"] != "fail" and o["value"] is not None and written(o) == r["value"]]
            if len(src) != 1 or src[0]["type"] != "ok":
                continue
            older = src[0]["complete"][1]
        if any(w["complete"][1] < r["invoke"][1] and (older is None or older < w["invoke"][1])
               for w in same_key):
            stale += 1
    return stale


def final_maps(tr):
    return {e["node"]: e["state"]["map"] for e in tr
            if e["ev"] == "state" and e.get("up") and "map" in e.get("state", {})}


def test_01_replication_lag(f, d):
    for seed in SEEDS:
        path = trace(f, d, "01_replication_lag", seed)
        tr = read_trace(path)
        res = check(f, path)
        where = f"01 seed {seed}"
        verdict(f, res, "staleness", "violated", where)
        ev = res["staleness"]["evidence"]
        want = stale_reads(tr)
        f.check(ev["count"] == want, f"{where}: {ev['count']} stale reads, the trace shows {want}")
        f.check(sum(c["stale"] for c in ev["per_client"]) == ev["count"],
                f"{where}: the per-client counts do not add up")
        f.check(ev["max_versions"] >= 1 and ev["max_ns"] > 0, f"{where}: no staleness measured")
        # the 150 ms link n1-n3 bounds how far behind n3 can be (plus think time)
        f.check(ev["max_ns"] < 400_000_000, f"{where}: staleness {ev['max_ns']} ns beyond the lag")
        # reads from random replicas: some client goes back in time
        verdict(f, res, "sequential", "violated", where)
        seq = res["sequential"]["evidence"]["violation"]
        f.check(seq is not None and 2 <= len(seq["operations"]) <= 8,
                f"{where}: sequential evidence should be a handful of operations: {seq}")
        verdict(f, res, "converges", "holds", where)
        verdict(f, res, "no_lost_writes", "holds", where)
        maps = final_maps(tr)
        f.check(len(set(json.dumps(m, sort_keys=True) for m in maps.values())) == 1,
                f"{where}: the final maps differ, yet converges holds")


def test_02_failover_loses_writes(f, d):
    for seed in SEEDS:
        path = trace(f, d, "02_async_failover_loses_writes", seed)
        tr = read_trace(path)
        res = check(f, path)
        where = f"02 seed {seed}"
        verdict(f, res, "no_lost_writes", "violated", where)
        verdict(f, res, "converges", "holds", where)
        verdict(f, res, "sequential", "holds", where)
        lost = res["no_lost_writes"]["evidence"]["lost"]
        discarded = {x["op"] for e in tr if e["ev"] == "note" and e.get("what") == "discard"
                     for x in e["entries"]}
        ops = history(tr)
        f.check(len(lost) > 0 and len(lost) == res["no_lost_writes"]["evidence"]["count"],
                f"{where}: lost writes listed {len(lost)}")
        # every write said lost was acknowledged, and thrown away by the protocol
        for w in lost:
            f.check(ops[w["op"]]["type"] == "ok", f"{where}: op {w['op']} was not acknowledged")
            f.check(w["op"] in discarded, f"{where}: op {w['op']} said lost, but no node discarded it")
        # and none of their values is in a final map
        maps = final_maps(tr)
        f.check(all(m.get(w["key"]) != w["value"] for w in lost for m in maps.values()),
                f"{where}: a lost value is in a final map")
    # with synchronous replication n1 cannot acknowledge alone: nothing is lost
    for seed in SEEDS:
        path = trace(f, d, "02_async_failover_loses_writes", seed, "--param", "replication=sync")
        res = check(f, path)
        verdict(f, res, "no_lost_writes", "holds", f"02 sync seed {seed}")
        verdict(f, res, "converges", "holds", f"02 sync seed {seed}")


def test_03_sync_blocks_writes(f, d):
    for seed in SEEDS:
        path = trace(f, d, "03_sync_blocks_writes", seed)
        res = check(f, path)
        where = f"03 seed {seed}"
        for name in ("sequential", "staleness", "no_lost_writes", "converges"):
            verdict(f, res, name, "holds", where)


def test_04_split_brain(f, d):
    for seed in SEEDS:
        path = trace(f, d, "04_split_brain_without_epochs", seed)
        tr = read_trace(path)
        res = check(f, path)
        where = f"04 seed {seed}"
        verdict(f, res, "converges", "violated", where)
        maps = final_maps(tr)
        differ = res["converges"]["evidence"]["differ"]
        f.check(len(differ) > 0, f"{where}: no key listed as differing")
        for d_ in differ:
            f.check(d_["values"] == {n: m.get(d_["key"]) for n, m in maps.items()},
                    f"{where}: the values listed for {d_['key']} are not the final states'")
            f.check(len({json.dumps(v) for v in d_["values"].values()}) > 1,
                    f"{where}: key {d_['key']} listed but the nodes agree")
        # each side's clients see their own leader: stale reads across the split
        verdict(f, res, "staleness", "violated", where)
    # with epochs the old leader steps down and the replicas agree again
    for seed in SEEDS:
        path = trace(f, d, "04_split_brain_without_epochs", seed, "--param", "epochs=true")
        res = check(f, path)
        verdict(f, res, "converges", "holds", f"04 epochs seed {seed}")


def main():
    f = Failures()
    with tmpdir() as d:
        test_01_replication_lag(f, d)
        test_02_failover_loses_writes(f, d)
        test_03_sync_blocks_writes(f, d)
        test_04_split_brain(f, d)
    f.finish()


if __name__ == "__main__":
    main()
