"""The resilience model (scenarios 80-84): the contrasts each scenario
exists to show, measured from its traces -- attempts per client call and
goodput after the overload's cause is gone (80, retry storm, against 81,
backoff and jitter), fast failures and the backend's load while the
breaker is open (82), and the healthy dependency's latency and errors with
and without bulkheads (83), retries capped by a budget (84) -- plus the
model's notes (served, load,
breaker), the role lane, and clear errors for bad parameters."""
import os

from simtest import (
    Failures, notes, read_trace, run, run_traced, scenario_path as scenario, SCENARIOS, tmpdir,
    write_scenario, check_refused)

SEEDS = ["1", "2", "3"]
MS = 1_000_000
S = 1_000_000_000


def trace(f, d, name, seed, *extra, code=0):
    return run_traced(f, d, name, seed, *extra, code=code)[1]


def client_ops(tr):
    """[(invoke, completion)] for every operation that completed."""
    inv, out = {}, []
    for e in tr:
        if e["ev"] == "invoke":
            inv[e["op"]] = e
        elif e["ev"] in ("ok", "fail", "info") and e.get("op") in inv:
            out.append((inv[e["op"]], e))
    return out


def window(ops, lo, hi, key=None):
    return [(i, c) for i, c in ops if lo <= i["t"] < hi and (key is None or i["key"] == key)]


def ok_fraction(ops):
    return sum(c["ev"] == "ok" for _, c in ops) / len(ops) if ops else 0.0


def p99(ops):
    lat = sorted(c["t"] - i["t"] for i, c in ops)
    return lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0


def amplification(tr, backend, lo, hi):
    """Requests that reached the backend per client call the frontend
    finished, in [lo, hi): the retry amplification."""
    attempts = [e for e in notes(tr, "served", backend) if lo <= e["t"] < hi]
    calls = [e for e in notes(tr, "served", "api") if lo <= e["t"] < hi]
    return len(attempts) / len(calls) if calls else 0.0


def check_contract(f, tr, where):
    """The served and load notes carry what the shared contract names."""
    served = notes(tr, "served")
    f.check(served and all(isinstance(e["ok"], bool) and isinstance(e["latency"], int) and e["latency"] >= 0
                           and e["service"] and (e["ok"] or e.get("error")) for e in served),
            f"{where}: a served note breaks the contract")
    load = notes(tr, "load")
    f.check(load and all(0 <= e["busy"] <= e["capacity"] and e["queue"] >= 0 for e in load),
            f"{where}: a load note breaks the contract")
    # the frontend's per-call note names the dependency and its attempts
    api = notes(tr, "served", "api")
    f.check(api and all("dependency" in e and e["attempts"] >= 0 for e in api), f"{where}: api's served notes")


def check_storm_and_backoff(f, d):
    for seed in SEEDS:
        storm = trace(f, d, "80", seed)
        calm = trace(f, d, "81", seed)
        check_contract(f, storm, f"80 seed {seed}")
        so, co = client_ops(storm), client_ops(calm)
        # before the trigger both are healthy, one attempt per call
        for name, tr, ops in (("80", storm, so), ("81", calm, co)):
            before = window(ops, 0, 900 * MS)
            f.check(ok_fraction(before) == 1.0 and p99(before) < 60 * MS,
                    f"{name} seed {seed}: unhealthy before the slow period: ok {ok_fraction(before):.2f}, "
                    f"p99 {p99(before) / MS:.1f} ms")
            amp = amplification(tr, "payments", 0, 900 * MS)
            f.check(0.9 <= amp <= 1.1, f"{name} seed {seed}: {amp:.2f} attempts per call before the slow period")
        # payments is slow from 1.0 to 1.5 s only
        roles = [(e["t"], e["role"]) for e in notes(storm, "role", "payments")]
        f.check(roles == [(0, "backend"), (1 * S, "slow"), (1500 * MS, "backend")], f"80 seed {seed}: roles {roles}")
        # after the cause is gone: the storm goes on, the backoff run recovers
        late_storm, late_calm = window(so, 2500 * MS, 4 * S), window(co, 2500 * MS, 4 * S)
        f.check(len(late_storm) >= 200 and ok_fraction(late_storm) <= 0.05,
                f"80 seed {seed}: goodput after recovery {ok_fraction(late_storm):.2f} of {len(late_storm)} calls")
        f.check(len(late_calm) >= 200 and ok_fraction(late_calm) >= 0.97,
                f"81 seed {seed}: goodput after recovery {ok_fraction(late_calm):.2f} of {len(late_calm)} calls")
        fails_storm = sum(c["ev"] == "fail" for _, c in late_storm)
        fails_calm = sum(c["ev"] == "fail" for _, c in late_calm)
        f.check(fails_storm >= 20 * max(fails_calm, 1),
                f"80/81 seed {seed}: errors after recovery {fails_storm} vs {fails_calm}")
        f.check(p99(late_calm) < 60 * MS, f"81 seed {seed}: p99 after recovery {p99(late_calm) / MS:.1f} ms")
        amp_storm = amplification(storm, "payments", 2 * S, 4 * S)
        amp_calm = amplification(calm, "payments", 2500 * MS, 4 * S)
        f.check(amp_storm >= 3.0, f"80 seed {seed}: only {amp_storm:.2f} backend requests per call in the storm")
        f.check(amp_calm <= 1.2, f"81 seed {seed}: {amp_calm:.2f} backend requests per call after recovery")
        # the storm keeps payments' queue full; with backoff it drains
        q_storm = [e["queue"] for e in notes(storm, "load", "payments") if 2 * S <= e["t"] < 4 * S]
        q_calm = [e["queue"] for e in notes(calm, "load", "payments") if 2500 * MS <= e["t"] < 4 * S]
        f.check(q_storm and min(q_storm) >= 75, f"80 seed {seed}: payments' queue fell to {min(q_storm, default=-1)}")
        f.check(q_calm and max(q_calm) <= 20, f"81 seed {seed}: payments' queue reached {max(q_calm, default=-1)}")
        # the frontend's own count agrees: the final state's attempts per call
        st = [e["state"] for e in storm if e["ev"] == "state" and e["node"] == "api"][0]["dependencies"]["payments"]
        f.check(st["attempts"] >= 2.5 * st["calls"] and st["late_answers"] > 1000,
                f"80 seed {seed}: final state {st}")
        f.check(all(e["attempts"] == 1 for e in notes(calm, "served", "api") if e["t"] >= 2500 * MS and e["ok"]),
                f"81 seed {seed}: a successful call needed a retry after recovery")


def check_retry_budget(f, d):
    for seed in SEEDS:
        tr = trace(f, d, "84", seed)
        ops = client_ops(tr)
        # the overload still fails requests, but the storm never starts
        slow = window(ops, 1100 * MS, 1500 * MS)
        f.check(slow and ok_fraction(slow) < 0.5, f"84 seed {seed}: the slow period did not hurt: {ok_fraction(slow):.2f}")
        amp = amplification(tr, "payments", 1 * S, 2 * S)
        f.check(amp <= 1.3, f"84 seed {seed}: {amp:.2f} backend requests per call in the overload")
        late = window(ops, 2500 * MS, 4 * S)
        f.check(len(late) >= 200 and ok_fraction(late) >= 0.97,
                f"84 seed {seed}: goodput after recovery {ok_fraction(late):.2f} of {len(late)} calls")
        q = [e["queue"] for e in notes(tr, "load", "payments") if 2500 * MS <= e["t"] < 4 * S]
        f.check(q and max(q) <= 20, f"84 seed {seed}: payments' queue reached {max(q, default=-1)}")
        st = [e["state"] for e in tr if e["ev"] == "state" and e["node"] == "api"][0]["dependencies"]["payments"]
        refused = st.get("retries_refused_by_budget", 0)
        # retries: at most the 10 banked plus a tenth of the first attempts (one per call)
        f.check(refused >= 50 and st["attempts"] - st["calls"] <= 10 + st["calls"] // 10 + 1,
                f"84 seed {seed}: final state {st}")


def intervals(changes, end):
    """[(from, to, state)] from breaker notes [(t, state)]."""
    out = []
    for i, (t, st) in enumerate(changes):
        out.append((t, changes[i + 1][0] if i + 1 < len(changes) else end, st))
    return out


def check_breaker(f, d):
    for seed in SEEDS:
        tr = trace(f, d, "82", seed)
        check_contract(f, tr, f"82 seed {seed}")
        changes = [(e["t"], e["state"]) for e in notes(tr, "breaker", "api")]
        states = [s for _, s in changes]
        f.check(len(states) >= 4 and states[0] == "open" and states[-1] == "closed",
                f"82 seed {seed}: breaker states {states}")
        f.check(all(b in {"open": ("half_open",), "half_open": ("open", "closed"), "closed": ("open",)}[a]
                    for a, b in zip(states, states[1:])), f"82 seed {seed}: a transition out of order: {states}")
        f.check(changes and 1 * S <= changes[0][0] < 1200 * MS, f"82 seed {seed}: opened at {changes[:1]}")
        f.check(changes and 1500 * MS <= changes[-1][0] < 1800 * MS, f"82 seed {seed}: closed at {changes[-1:]}")
        f.check("half_open" in states and states.count("open") >= 2,
                f"82 seed {seed}: no failed probe while payments was slow: {states}")
        # open -> half_open takes exactly open_for
        for (t1, a), (t2, b) in zip(changes, changes[1:]):
            if a == "open":
                f.check(t2 - t1 == 200 * MS, f"82 seed {seed}: open for {(t2 - t1) / MS} ms")
        # the role lane shows it
        roles = {e["role"] for e in notes(tr, "role", "api")}
        f.check({"frontend", "payments:open", "payments:half_open"} <= roles, f"82 seed {seed}: api roles {roles}")
        # while open: calls fail fast, and almost nothing reaches payments
        open_iv = [(a, b) for a, b, st in intervals(changes, 4500 * MS) if st == "open"]
        in_open = [e for e in notes(tr, "served", "api") if any(a <= e["t"] < b for a, b in open_iv)]
        # (a call with an attempt out when the breaker opened fails at its
        # next try, after that attempt's timeout: not at once)
        fast = [e for e in in_open if e.get("error") == "circuit_open" and e["latency"] == 0 and e["attempts"] == 0]
        f.check(all(e.get("error") == "circuit_open" for e in in_open),
                f"82 seed {seed}: calls ended otherwise while open: {[e for e in in_open if not e.get('error') == 'circuit_open'][:2]}")
        f.check(len(in_open) >= 50 and len(fast) >= 0.8 * len(in_open),
                f"82 seed {seed}: {len(fast)} of {len(in_open)} calls failed fast while open")
        open_time = sum(b - a for a, b in open_iv)
        reached = [e for e in notes(tr, "served", "payments") if any(a <= e["t"] < b for a, b in open_iv)]
        before = [e for e in notes(tr, "served", "payments") if e["t"] < 900 * MS]
        rate_open, rate_before = len(reached) / open_time, len(before) / (900 * MS)
        f.check(rate_open <= 0.3 * rate_before,
                f"82 seed {seed}: payments served {rate_open * S:.0f}/s while open, {rate_before * S:.0f}/s before")
        # and it recovers like 81, not like 80
        late = window(client_ops(tr), 2500 * MS, 4 * S)
        f.check(ok_fraction(late) >= 0.97 and p99(late) < 60 * MS,
                f"82 seed {seed}: after recovery ok {ok_fraction(late):.2f}, p99 {p99(late) / MS:.1f} ms")
        # the same scenario without the breaker is scenario 80's storm
        off = trace(f, d, "82", seed, "--param", "breaker=false", code=1)
        f.check(not notes(off, "breaker") and ok_fraction(window(client_ops(off), 2500 * MS, 4 * S)) <= 0.05,
                f"82 seed {seed}: breaker=false did not storm")


def check_bulkhead(f, d):
    for seed in SEEDS:
        shared = trace(f, d, "83", seed)
        split = trace(f, d, "83", seed, "--param", "bulkhead=true")
        check_contract(f, split, f"83 seed {seed}")
        cs = window(client_ops(shared), 700 * MS, 2500 * MS, "catalog")
        cb = window(client_ops(split), 700 * MS, 2500 * MS, "catalog")
        f.check(ok_fraction(cs) <= 0.8 and p99(cs) >= 150 * MS,
                f"83 seed {seed}: catalog with a shared pool: ok {ok_fraction(cs):.2f}, p99 {p99(cs) / MS:.1f} ms")
        f.check(ok_fraction(cb) >= 0.99 and p99(cb) <= 40 * MS,
                f"83 seed {seed}: catalog with bulkheads: ok {ok_fraction(cb):.2f}, p99 {p99(cb) / MS:.1f} ms")
        # catalog's own failures with the shared pool are the frontend's, not catalog's
        errs = {e.get("error") for e in notes(shared, "served", "api")
                if e["dependency"] == "catalog" and not e["ok"]}
        f.check(errs == {"pool_full"}, f"83 seed {seed}: catalog calls failed with {errs}")
        f.check(all(e["ok"] for e in notes(shared, "served", "catalog")), f"83 seed {seed}: catalog itself failed")
        # payments fails either way: the bulkhead protects the others, not it
        ps = window(client_ops(split), 700 * MS, 2500 * MS, "payments")
        f.check(ok_fraction(ps) <= 0.5, f"83 seed {seed}: payments ok {ok_fraction(ps):.2f} while slow")
        # the load notes show the pools: payments' full, catalog's not
        pools = [e["pools"] for e in notes(split, "load", "api") if 1 * S <= e["t"] < 2 * S]
        f.check(pools and all(p[0]["dependency"] == "payments" and p[0]["capacity"] == 8 for p in pools)
                and any(p[0]["busy"] == 8 and p[0]["queue"] == 16 for p in pools)
                and sum(p[1]["busy"] < 8 for p in pools) >= 0.9 * len(pools),
                f"83 seed {seed}: the pools in api's load notes")
        f.check(not any("pools" in e for e in notes(shared, "load", "api")), f"83 seed {seed}: pools without bulkhead")


def check_writes(f, d):
    """A write whose attempt timed out may have been applied: the frontend
    answers it "unknown" (the client records info at once, well before its
    own 300 ms timeout), never a definite fail; and what a write stored is
    what later reads return."""
    lua = write_scenario(d, "writes.lua", """
cluster{ model = "resilience", nodes = 2,
         params = { service = ms(10), timeout = ms(30), retries = 1, backoff = "none",
                    slow_node = 2, slow_from = ms(200), slow_until = ms(400), slow_factor = 10 } }
workload{ clients = 4, keys = { "x" }, mix = { read = 0.5, write = 0.5 }, think = ms(10),
          timeout = ms(300), duration = ms(700), target = "n1" }
run{ until_ = s(1.2) }
expect{ linearizable = true }
""")
    t = os.path.join(d, "writes.jsonl")
    rc, _, err = run("run", lua, "--seed", "3", "--trace", t, "--quiet")
    f.check(rc == 0, f"writes: exit {rc}: {err.strip()}")
    ops = client_ops(read_trace(t))
    f.check(not any(i["f"] == "write" and c["ev"] == "fail" and c.get("error") == "timeout" for i, c in ops),
            "writes: a timed-out write was reported as a definite failure")
    f.check(any(i["f"] == "write" and c["ev"] == "info" for i, c in ops), "writes: no write ended unknown")
    f.check(all(c["t"] - i["t"] < 300_000_000 for i, c in ops if i["f"] == "write" and c["ev"] == "info"),
            "writes: an unknown write waited for the client's timeout instead of the frontend's answer")
    f.check(any(i["f"] == "read" and c["ev"] == "ok" and c.get("value") is not None for i, c in ops),
            "writes: no read saw a written value")


def check_bad_input(f, d):
    cases = [
        ('cluster{ model = "resilience", nodes = 1 }', "at least 2 nodes"),
        ('cluster{ model = "resilience", nodes = 3, params = { slow_node = 1 } }', "slow_node must be a backend, 2 to 3"),
        ('cluster{ model = "resilience", nodes = 3, params = { retries = 50 } }', "retries must be 0 to 20, got 50"),
        ('cluster{ model = "resilience", nodes = 3, params = { backoff_base = ms(10), backoff_cap = ms(5) } }',
         "backoff_cap at least backoff_base"),
        ('cluster{ model = "resilience", nodes = 3, params = { services = "a,b" } }', "2 names for 3 nodes"),
        ('cluster{ model = "resilience", nodes = 4, params = { bulkhead = true, pool = 2 } }',
         "each of the 3 dependencies a slot"),
        ('cluster{ model = "resilience", nodes = 2, params = { failure_threshold = 0 } }', "at least 1"),
        ('cluster{ model = "resilience", nodes = 2, params = { slow_factor = 0.5 } }', "slow_factor must be from 1"),
        ('cluster{ model = "resilience", nodes = 2, params = { workers = 0 } }', "workers must be 1 to"),
        ('cluster{ model = "resilience", nodes = 2, params = { retry_budget = -1 } }',
         "retry_budget must be 0 (none) to 10 retries per first attempt, got -1"),
    ]
    check_refused(f, d, cases)


def main():
    f = Failures()
    with tmpdir() as d:
        check_storm_and_backoff(f, d)
        check_retry_budget(f, d)
        check_breaker(f, d)
        check_bulkhead(f, d)
        check_writes(f, d)
        check_bad_input(f, d)
    rc, out, _ = run("list")
    f.check(rc == 0 and "resilience" in out and "half_open_probes" in out and "bulkhead" in out
            and "retry_budget" in out,
            "sim list lacks the resilience model")
    f.finish()


if __name__ == "__main__":
    main()
