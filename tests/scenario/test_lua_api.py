"""The scenario API, exercised through build/sim and read back from traces:
actions and when they take effect, at/every, run, param, expect, print,
skew, pause, nemesis, and deterministic pairs."""
import os

from simtest import Failures, read_trace, run, tmpdir, write_scenario

HEAD = 'cluster{ model = "leader_follower", nodes = 3 }\n'


def trace_of(f, d, name, text, *extra, code=0):
    path = write_scenario(d, name + ".lua", text)
    t = os.path.join(d, name + ".jsonl")
    rc, out, err = run("run", path, "--seed", "4", "--trace", t, "--quiet", *extra)
    f.check(rc == code, f"{name}: exit {rc}, expected {code}: {err.strip()}")
    return read_trace(t) if os.path.exists(t) else [], out, err


def events(tr, ev):
    return [e for e in tr if e["ev"] == ev]


def main():
    f = Failures()
    with tmpdir() as d:
        # an action passed to at() happens then; one created in a callback happens in it
        tr, _, _ = trace_of(f, d, "actions", HEAD + """
at(ms(100), crash("n2"))
at(ms(200), function() restart("n2"); isolate("n3") end)
crash("n1")   -- not scheduled: takes effect when run() starts, at time 0
run(ms(300))
""")
        crashes = events(tr, "crash")
        f.check([(e["node"], e["t"]) for e in crashes] == [("n1", 0), ("n2", 100_000_000)],
                f"crash times: {[(e['node'], e['t']) for e in crashes]}")
        f.check([(e["node"], e["t"]) for e in events(tr, "restart")] == [("n2", 200_000_000)],
                "restart at 200 ms")
        f.check([(e["node"], e["t"]) for e in events(tr, "isolate")] == [("n3", 200_000_000)],
                "isolate at 200 ms")

        # every() repeats until told to stop
        tr, _, _ = trace_of(f, d, "every", HEAD + """
local n = 0
every(ms(10), function() n = n + 1; log("tick", n); if n == 5 then return false end end)
run(ms(200))
""")
        ticks = events(tr, "log")
        f.check([e["msg"] for e in ticks] == [f"tick\t{i}" for i in range(1, 6)],
                f"every ticks: {[e['msg'] for e in ticks]}")
        f.check([e["t"] for e in ticks] == [i * 10_000_000 for i in range(1, 6)], "every period")

        # run(duration) is relative; run{until_} absolute; now() follows
        tr, _, _ = trace_of(f, d, "runs", HEAD + """
run(ms(100)); log(now())
run(ms(100)); log(now())
run{ until_ = ms(500) }; log(now())
""")
        f.check([e["msg"] for e in events(tr, "log")] == ["100000000", "200000000", "500000000"],
                f"run and now: {[e['msg'] for e in events(tr, 'log')]}")

        # partition groups; unlisted nodes form a group of their own
        tr, _, _ = trace_of(f, d, "partition", 'cluster{ model = "leader_follower", nodes = 5 }\n' + """
at(ms(10), partition{ {"n1", "n2"}, {"n3"} })
at(ms(20), heal())
run(ms(30))
""")
        p = events(tr, "partition")
        f.check(p and p[0]["groups"] == [["n1", "n2"], ["n3"], ["n4", "n5"]], f"groups: {p}")
        f.check(len(events(tr, "heal")) == 1, "heal traced")

        # skew and pause are traced with their arguments
        tr, _, _ = trace_of(f, d, "clock", HEAD + """
at(ms(10), skew("n2", -ms(50), 0.01))
at(ms(20), pause("n3", ms(100)))
run(ms(200))
""")
        c = events(tr, "clock")
        f.check(c and c[0]["offset"] == -50_000_000 and c[0]["drift_ppb"] == 10_000_000, f"clock: {c}")
        pz = events(tr, "pause")
        f.check(pz and pz[0]["duration"] == 100_000_000, f"pause: {pz}")
        f.check([e["t"] for e in events(tr, "resume")] == [120_000_000], "resume after 100 ms")

        # param() reads --param, typed by its default; expect{} failing exits 1
        text = HEAD + """
local n = param("n", 2)
log(type(n), n)
workload{ clients = n, duration = ms(100) }
run(ms(200))
expect{ ops_ok = { min = 1000000 } }
"""
        tr, out, err = trace_of(f, d, "param", text, "--param", "n=3", code=1)
        f.check(events(tr, "log") and events(tr, "log")[0]["msg"] == "number\t3", "param typed as number")
        w = events(tr, "workload")
        f.check(w and len(w[0]["clients"]) == 3, "param sets three clients")
        x = events(tr, "expect")
        f.check(x and x[0]["name"] == "ops_ok" and x[0]["held"] is False, f"expect line: {x}")

        # --param overrides a model parameter and shows in the cluster line
        tr, _, _ = trace_of(f, d, "override", HEAD + "run(ms(10))\n", "--param", "replication=sync")
        cl = events(tr, "cluster")
        f.check(cl and cl[0]["params"]["replication"] == "sync", f"cluster params: {cl}")

        # the nemesis draws its faults from the seed, and heals before it stops
        tr, _, _ = trace_of(f, d, "nemesis", HEAD + """
workload{ clients = 2 }
nemesis{ intensity = 20, start = ms(100), stop = ms(900) }
run(s(1))
""")
        faults = [e["fault"] for e in events(tr, "nemesis")]
        f.check(len(faults) >= 5, f"nemesis made few faults: {faults}")
        f.check(all(e["t"] <= 900_000_000 for e in events(tr, "nemesis")), "nemesis acts within its window")
        states = events(tr, "state")
        f.check(states and all(s["up"] for s in states), "every node is up after the nemesis stops")

        # pairs walks keys in the same order in every process
        text = HEAD + """
local t = {}
for i = 1, 200 do t["key" .. (i * 7919 % 1000)] = i end
t[3] = "three"; t[1.5] = "x"; t[true] = 1
local order = {}
for k in pairs(t) do order[#order + 1] = tostring(k) end
log(table.concat(order, ","))
"""
        logs = set()
        for i in range(3):
            tr, _, _ = trace_of(f, d, f"pairs{i}", text)
            logs.add(events(tr, "log")[0]["msg"] if events(tr, "log") else "")
        f.check(len(logs) == 1, "pairs order differs between processes")
        first = next(iter(logs)).split(",")
        f.check(first[:2] == ["1.5", "3"] and first[-1] == "true", f"pairs order: {first[:3]} ... {first[-1]}")

        # zipf keys favour the first key; an open loop issues about rate x time operations
        tr, _, _ = trace_of(f, d, "zipf", HEAD + """
workload{ clients = 4, rate = 400, keys = 10, dist = "zipf", zipf = 1.2, duration = s(2) }
run(s(3))
""")
        keys = [e["key"] for e in events(tr, "invoke")]
        f.check(600 <= len(keys) <= 1000, f"open loop at 400/s for 2 s issued {len(keys)} operations")
        f.check(keys.count("k1") > 4 * max(1, keys.count("k10")),
                f"zipf: k1 {keys.count('k1')} times, k10 {keys.count('k10')} times")
        tr, _, _ = trace_of(f, d, "uniform", HEAD + """
workload{ clients = 4, keys = 4, duration = s(2) }
run(s(3))
""")
        keys = [e["key"] for e in events(tr, "invoke")]
        counts = [keys.count(f"k{i}") for i in range(1, 5)]
        f.check(min(counts) > 0.6 * max(counts), f"uniform keys: {counts}")
        # the sticky target sends every operation of a client to one node
        tr, _, _ = trace_of(f, d, "sticky", HEAD + """
workload{ clients = 3, target = "sticky", mix = { read = 1 }, duration = ms(500) }
run(s(1))
""")
        sent = {}
        for e in events(tr, "send"):
            if e["msg"].get("type") == "request" and e["msg"]["attempt"] == 1:  # redirects go elsewhere
                sent.setdefault(e["from"], set()).add(e["to"])
        f.check(len(sent) == 3 and all(len(v) == 1 for v in sent.values()), f"sticky targets: {sent}")

        # math.random follows the seed
        text = HEAD + "log(math.random(1, 1000000), math.random())\n"
        a = trace_of(f, d, "rand_a", text)[0]
        b = trace_of(f, d, "rand_b", text)[0]
        f.check(events(a, "log")[0]["msg"] == events(b, "log")[0]["msg"], "math.random differs for one seed")
        # a scripted workload issues exactly its operations, in its order per client
        tr, _, _ = trace_of(f, d, "script", HEAD + """
workload{ target = "leader", script = {
  { at = ms(10), client = 1, f = "write", key = "x", value = 5 },
  { at = ms(10), client = 2, f = "read", key = "y" },
  { at = ms(11), client = 1, f = "cas", key = "x", value = {5, 6} },
  { at = ms(40), client = 2, f = "read", key = "x" },
} }
run(s(1))
""")
        inv = events(tr, "invoke")
        f.check([(e["client"], e["f"], e["key"], e["value"]) for e in inv] ==
                [("c1", "write", "x", 5), ("c2", "read", "y", None), ("c1", "cas", "x", [5, 6]),
                 ("c2", "read", "x", None)], f"scripted invokes: {inv}")
        f.check(inv[0]["t"] == 10_000_000 and inv[2]["t"] > 10_000_000 and inv[3]["t"] == 40_000_000,
                f"scripted times: {[e['t'] for e in inv]}")
        f.check([e["value"] for e in events(tr, "ok") if e["op"] == inv[3]["op"]] == [6], "read after cas sees 6")
        wl = events(tr, "workload")
        f.check(wl and wl[0]["mode"] == "script" and wl[0]["ops"] == 4 and wl[0]["keys"] == ["x", "y"],
                f"script workload line {wl}")
        _, _, err = trace_of(f, d, "script_bad", HEAD + """
workload{ mix = { read = 1 }, script = { { at = ms(1), client = 1, f = "read", key = "x" } } }
""", code=4)
        f.check("script gives the clients, keys and operations itself; mix cannot be used with it" in err,
                f"script with mix: {err.strip()}")

        # the network line repeats the scenario's network table
        tr, _, _ = trace_of(f, d, "netline", 'cluster{ model = "leader_follower", nodes = 3, network = '
                            '{ latency = ms(2), links = { { from = "n1", to = "n2", loss = 0.5 } } } }\nrun(ms(10))\n')
        nl = events(tr, "network")
        f.check(nl and nl[0]["spec"] == {"latency": 2_000_000, "links": [{"from": "n1", "loss": 0.5, "to": "n2"}]},
                f"network line {nl}")

        # --swarm draws a configuration from the seed and applies it
        text = HEAD + 'workload{ clients = 2 }\nnemesis{ faults = { "partition", "crash", "pause" }, intensity = 4 }\nrun(s(2))\n'
        confs = []
        for seed in ("1", "2", "3", "4"):
            path = write_scenario(d, "swarm.lua", text)
            t = os.path.join(d, f"swarm{seed}.jsonl")
            rc, _, err = run("run", path, "--seed", seed, "--trace", t, "--quiet", "--swarm")
            f.check(rc == 0, f"swarm seed {seed}: exit {rc}: {err.strip()}")
            tr = read_trace(t)
            f.check(tr[0]["limits"].get("swarm") is True, "swarm in the header")
            sw = events(tr, "swarm")
            f.check(len(sw) == 1 and tr[1]["ev"] == "swarm", "one swarm line first")
            conf = sw[0]["config"]
            confs.append(conf)
            kinds = {e["fault"] for e in events(tr, "nemesis")} - {"heal", "restart", "clock_reset"}
            allowed = set(conf["faults"]) & {"partition", "crash", "pause"} or {"partition"}
            f.check(kinds <= allowed, f"swarm seed {seed}: nemesis used {kinds}, allowed {allowed}")
            rc2, out2, _ = run("replay", t)
            f.check(rc2 == 0, f"swarm seed {seed}: replay exit {rc2}: {out2.strip()}")
        f.check(len({json_key(c) for c in confs}) == 4, f"swarm configurations repeat: {confs}")
    f.finish()


def json_key(c):
    return tuple(sorted((k, str(v)) for k, v in c.items()))


if __name__ == "__main__":
    main()
