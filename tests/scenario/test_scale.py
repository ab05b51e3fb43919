"""Scale: bench/hashring_100k.lua runs 100,000 nodes on this machine. The
router's rebalance notes show a leave and a join moving about 1/N of the
measured keys while modulo placement would move nearly all, the cluster line
names every node, and router mode refuses a one-node cluster."""
import json
import os

from simtest import ROOT, Failures, run, tmpdir, write_scenario

SCENARIO = os.path.join(ROOT, "bench", "hashring_100k.lua")


def main():
    f = Failures()
    with tmpdir() as d:
        t = os.path.join(d, "h.jsonl")
        rc, out, err = run("run", SCENARIO, "--seed", "1", "--trace", t, "--quiet", timeout=900)
        f.check(rc == 0, f"exit {rc}: {err.strip()[:400]}")
        cluster, rebalances = None, []
        if os.path.exists(t):
            with open(t, encoding="utf-8") as fh:
                for line in fh:   # 1.2 million lines: parse only what is asked
                    if '"ev":"cluster"' in line:
                        cluster = json.loads(line)
                    elif '"what":"rebalance"' in line:
                        rebalances.append(json.loads(line))
        f.check(cluster is not None and len(cluster["nodes"]) == 100000,
                "the cluster line does not name 100,000 nodes")
        f.check(cluster is not None and cluster["nodes"][77776] == "n77777", "node names are not n1..n100000")
        f.check({r["node"] for r in rebalances} == {"n1"}, f"rebalances outside the router: {rebalances[:2]}")
        changes = [(r["change"], r["member"]) for r in rebalances]
        f.check(changes == [("leave", "n77777"), ("join", "n77777")], f"rebalances: {changes}")
        for r in rebalances:
            # 1/N of 100,000 keys is one key; allow the ring's spread
            f.check(0 < r["moved"] <= 50, f"{r['change']}: {r['moved']} keys moved, expected about 1")
            f.check(r["modulo_fraction"] > 0.99, f"{r['change']}: modulo moved only {r['modulo_fraction']}")
            f.check(r["members"] in (99998, 99999), f"{r['change']}: {r['members']} members")
        if rebalances:
            f.check(rebalances[0]["t"] >= 5_000_000_000, "the leave came before the timeout could pass")
        # a small router cluster without faults: each key has one copy, on
        # its owner, so reads relayed by the router are linearizable
        small = write_scenario(d, "small.lua", """
cluster{ model = "hashring", nodes = 6, params = { membership = "router", vnodes = 8 } }
workload{ clients = 3, keys = 5, mix = { read = 0.5, write = 0.5 }, think = ms(5),
          timeout = ms(100), target = "n1", duration = s(1) }
run{ until_ = s(1.2) }
expect{ ops_ok = { min = 200 }, ops_fail = 0, linearizable = true }
""")
        st = os.path.join(d, "small.jsonl")
        rc, out, err = run("run", small, "--seed", "3", "--trace", st, "--quiet")
        f.check(rc == 0, f"small router cluster: exit {rc}: {err.strip()[:300]}")
        if os.path.exists(st):
            with open(st, encoding="utf-8") as fh:
                lines = [json.loads(l) for l in fh]
            fwd = [e for e in lines if e["ev"] == "send" and e["msg"].get("type") == "forward"]
            f.check(fwd and all(e["from"] == "n1" and e["to"] != "n1" for e in fwd),
                    "the router forwards nothing, or something else forwards")
            reads = [e for e in lines if e["ev"] == "ok" and e.get("f") == "read" and e.get("value") is not None]
            f.check(len(reads) > 20, f"only {len(reads)} reads returned a value through the router")
        # router mode needs a router and at least one store
        bad = write_scenario(d, "one.lua", 'cluster{ model = "hashring", nodes = 1, '
                                           'params = { membership = "router" } }\n')
        rc, _, err = run("run", bad, "--seed", "1", "--trace", os.path.join(d, "one.jsonl"), "--quiet")
        f.check(rc == 4 and "at least 2 nodes" in err and err.count("\n") == 1,
                f"one-node router cluster: exit {rc}, {err!r}")
    f.finish()


if __name__ == "__main__":
    main()
