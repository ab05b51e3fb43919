"""Observability (scenarios 90-91): request ids carried across services
("req" on send, timer and note lines), RED per service and USE per node in
sim report --text computed on a hand-made trace with known answers, the
slo expectation (met, broken, bad values) and its verdict in sim run, sim
check and sim report, and one request's path with sim report --req."""
import json
import os
import re

from simtest import SCENARIOS, Failures, read_trace, run, tmpdir, write_scenario, scenario_path as scenario


def trace(f, d, name, seed="1", code=0):
    t = os.path.join(d, f"{name}-{seed}.jsonl")
    rc, out, err = run("run", scenario(name), "--seed", seed, "--trace", t)
    f.check(rc == code, f"{name} seed {seed}: exit {rc}, expected {code}: {err.strip()}")
    return t, read_trace(t), out


# ==== request ids ==========================================================


def completion_index(tr):
    """op id -> index of its ok/fail/info line."""
    return {e["op"]: i for i, e in enumerate(tr) if e["ev"] in ("ok", "fail", "info")}


def check_req_propagation(f, d):
    path, tr, _ = trace(f, d, "07")
    sends = {e["id"]: e for e in tr if e["ev"] == "send"}
    # client requests and replies carry their operation's id
    cr = [e for e in sends.values() if e["msg"].get("type") in ("request", "reply")]
    f.check(cr and all(e.get("req") == e["msg"]["op"] for e in cr),
            "a client request or reply without its op id as req")
    # a send made while handling a client request carries the request's id
    handled = 0
    for i, e in enumerate(tr):
        if e["ev"] != "deliver" or sends[e["id"]]["msg"].get("type") != "request":
            continue
        op, node = sends[e["id"]]["msg"]["op"], e["to"]
        for g in tr[i + 1:]:
            if g["ev"] not in ("send", "drop", "note"):
                break
            if g["ev"] == "send" and g["from"] == node and g["msg"].get("type") != "reply":
                handled += 1
                f.check(g.get("req") == op, f"send {g['id']} made while {node} handled op {op} has req "
                        f"{g.get('req')}")
    f.check(handled > 10, f"only {handled} sends made by request handlers in scenario 07")
    # a retry made from a timer keeps the id: the timer line and its sends
    timers = [i for i, e in enumerate(tr) if e["ev"] == "timer" and "req" in e]
    f.check(timers, "scenario 07 has no timer that carries a request id (its hinted retries)")
    kept = 0
    for i in timers:
        for g in tr[i + 1:]:
            if g["ev"] not in ("send", "drop", "note"):
                break
            if g["ev"] == "send" and g["from"] == tr[i]["node"]:
                kept += 1
                f.check(g.get("req") == tr[i]["req"], f"send {g['id']} from a timer of req {tr[i]['req']} "
                        f"has req {g.get('req')}")
    f.check(kept > 0, "no send follows a timer that carries a request id")
    # nothing runs on behalf of a request once its client has the outcome
    done = completion_index(tr)
    late = [e for i, e in enumerate(tr) if e["ev"] in ("send", "timer", "note") and "req" in e
            and (e["ev"] != "send" or e["msg"].get("type") not in ("request", "reply"))
            and e["req"] in done and i > done[e["req"]]]
    f.check(not late, f"{len(late)} lines carry a request id after the request completed: {late[:1]}")

    # messages with no client cause have none: the elections before the
    # first operation, and every line of a run without clients
    path, tr, _ = trace(f, d, "20")
    first = min(i for i, e in enumerate(tr) if e["ev"] == "invoke")
    early = [e for e in tr[:first] if "req" in e]
    f.check(not early and any(e["ev"] == "send" for e in tr[:first]),
            f"lines before the first operation carry a req: {early[:1]}")
    lua = write_scenario(d, "noclients.lua", 'cluster{ model = "raft", nodes = 3 }\nrun{ until_ = s(1) }\n')
    t = os.path.join(d, "noclients.jsonl")
    rc, _, err = run("run", lua, "--trace", t, "--quiet")
    tr = read_trace(t)
    f.check(rc == 0 and any(e["ev"] == "send" for e in tr) and not any("req" in e for e in tr),
            f"a run without clients has req fields (exit {rc}: {err.strip()})")

    # notes written while serving a request carry it (the saga's steps)
    path, tr, _ = trace(f, d, "91")
    steps = [e for e in tr if e["ev"] == "note" and e.get("what") == "step"]
    f.check(steps and sum(1 for e in steps if "req" in e) * 2 > len(steps),
            "most saga step notes lack the request id")
    roles = [e for e in tr if e["ev"] == "note" and e.get("what") == "role" and "req" in e]
    f.check(not roles, "a role note carries req")


# ==== sim report --req ======================================================


def check_req_path(f, d):
    path, tr, _ = trace(f, d, "91")
    rc, out, err = run("report", path, "--req", "1")
    lines = out.splitlines()
    f.check(rc == 0 and "request 1 in" in lines[0], f"report --req 1: exit {rc}: {err.strip()} {out[:200]}")
    body = [l for l in lines[1:-1]]
    evs = [l.split()[2] for l in body]
    f.check(evs[0] == "invoke" and evs[-1] in ("ok", "fail", "info"),
            f"report --req 1 does not start at the invoke and end at the outcome: {evs}")
    for want in ('c1 -> n1', 'n1 -> n2', '"what":"step"', '"what":"saga"', 'n1 -> c1'):
        f.check(want in out, f"report --req 1 lacks {want!r}")
    n_msgs = sum(1 for e in tr if e["ev"] == "send" and e.get("req") == 1)
    f.check(f"{n_msgs} messages" in lines[-1], f"report --req 1 summary {lines[-1]!r}, expected {n_msgs} messages")
    times = [float(l.split()[0]) for l in body]
    f.check(times == sorted(times), "report --req lines out of time order")
    # a timer-caused retry shows up in its request's path
    path07, tr07, _ = trace(f, d, "07")
    tm = next(e for e in tr07 if e["ev"] == "timer" and "req" in e)
    rc, out, _ = run("report", path07, "--req", str(tm["req"]))
    f.check(rc == 0 and f"timer {tm['timer']} (set while handling this request)" in out,
            f"report --req {tm['req']} lacks its timer {tm['timer']}")
    rc, out, _ = run("report", path, "--req", "999999")
    f.check(rc == 0 and "nothing" in out, f"report --req of an unknown id: exit {rc}: {out!r}")
    for bad in ("0", "x", "-3"):
        rc, _, err = run("report", path, "--req", bad)
        f.check(rc == 2 and "--req needs" in err, f"report --req {bad}: exit {rc}: {err!r}")
    # the Perfetto export carries the request id in the message slices' arguments
    rc, out, _ = run("export", "--format", "perfetto", path)
    f.check(rc == 0 and '"req":1}' in out, "perfetto export lacks req in the arguments")
    # the HTML marks the messages and notes of each request
    html = os.path.join(d, "91.html")
    rc, _, err = run("report", path, "-o", html)
    page = open(html, encoding="utf-8").read() if rc == 0 else ""
    f.check(rc == 0 and 'data-req="1"' in page and "selectReq" in page and 'id="red-title"' in page
            and 'id="use-title"' in page, f"HTML report lacks request marks or the RED/USE section: {err}")


# ==== RED and USE on a hand-made trace =======================================

HEADER = {"ev": "header", "format": 1, "sim_version": "0.1.0", "scenario": "hand.lua",
          "scenario_sha256": "0" * 64, "seed": "1", "params": {},
          "limits": {"instructions": 200000000, "memory": 268435456}}
MS = 1000000


def hand_trace(d, slo=None):
    ev = [
        {"t": 0, "ev": "cluster", "model": "pingpong", "nodes": ["n1", "n2"], "params": {}},
        {"t": 0, "ev": "workload", "clients": ["c1"], "mode": "closed", "think": 0, "keys": ["x"],
         "dist": "uniform", "mix": {"read": 0, "write": 1, "cas": 0}, "start": 0, "duration": 0,
         "timeout": 100 * MS, "retries": 0, "target": "node"},
        {"t": 0, "ev": "note", "node": "n2", "what": "load", "busy": 0, "capacity": 4, "queue": 0},
        {"t": 1 * MS, "ev": "invoke", "client": "c1", "op": 1, "f": "write", "key": "x", "value": 1},
        {"t": 3 * MS, "ev": "ok", "client": "c1", "op": 1, "f": "write", "key": "x", "value": 1,
         "latency": 2 * MS, "attempts": 1},
        {"t": 5 * MS, "ev": "send", "id": 1, "from": "n1", "to": "n2", "msg": {"type": "x"}},
        {"t": 10 * MS + 200000, "ev": "note", "node": "n1", "what": "served", "service": "pay", "ok": True,
         "latency": 2 * MS},
        {"t": 10 * MS + 500000, "ev": "note", "node": "n1", "what": "served", "service": "pay", "ok": True,
         "latency": 2 * MS},
        {"t": 10 * MS + 700000, "ev": "note", "node": "n1", "what": "served", "service": "pay", "ok": False,
         "error": "rejected", "latency": 1000},
        {"t": 15 * MS, "ev": "deliver", "id": 1, "from": "n1", "to": "n2"},
        {"t": 20 * MS, "ev": "note", "node": "n2", "what": "load", "busy": 2, "capacity": 4, "queue": 3},
        {"t": 20 * MS, "ev": "invoke", "client": "c1", "op": 2, "f": "write", "key": "x", "value": 2},
        {"t": 25 * MS, "ev": "fail", "client": "c1", "op": 2, "f": "write", "key": "x", "value": 2,
         "error": "refused", "latency": 5 * MS, "attempts": 1},
        {"t": 30 * MS + 100000, "ev": "note", "node": "n1", "what": "served", "service": "pay", "ok": True,
         "latency": 4 * MS},
        {"t": 40 * MS, "ev": "note", "node": "n2", "what": "load", "busy": 0, "capacity": 4, "queue": 0},
        {"t": 50 * MS, "ev": "send", "id": 2, "from": "n2", "to": "n1", "msg": {"type": "x"}},
        {"t": 50 * MS, "ev": "drop", "id": 2, "from": "n2", "to": "n1", "reason": "partition"},
        {"t": 60 * MS, "ev": "state", "node": "n1", "up": True, "paused": False, "clock": 60 * MS},
        {"t": 60 * MS, "ev": "state", "node": "n2", "up": True, "paused": False, "clock": 60 * MS},
        {"t": 60 * MS, "ev": "end", "events": 10, "messages_sent": 2, "messages_delivered": 1,
         "messages_dropped": 1, "ops_invoked": 2, "ops_ok": 1, "ops_fail": 1, "ops_info": 0},
    ]
    if slo:
        ev.insert(-3, dict({"t": 60 * MS, "ev": "slo"}, **slo))
    path = os.path.join(d, "hand.jsonl")
    with open(path, "w", encoding="utf-8") as out:
        for e in [HEADER] + ev:
            out.write(json.dumps(e, separators=(",", ":")) + "\n")
    return path


def check_red_use(f, d):
    path = hand_trace(d)
    rc, out, err = run("report", path, "--text", "--no-color")
    f.check(rc == 0, f"report --text of the hand-made trace: exit {rc}: {err.strip()}")
    # 4 served in 60 ms: 66.7/s; 1 error; latencies 1 us, 2 ms, 2 ms, 4 ms:
    # p50 is 2 ms and p99 4 ms, shown as the middles of their histogram
    # buckets (1920-2048 us and 3840-4096 us)
    want = [
        "pay: 4 served, 66.7/s, errors 1 (25.0%), p50 1.98ms, p95 3.97ms, p99 3.97ms",
        # rows of 4 ms (61 windows of 1 ms, grouped by 4): 3 answers in 8-12 ms
        "      0.008-  0.012 s    750.0   33.3    1.98ms    1.98ms    1.98ms",
        "      0.028-  0.032 s    250.0    0.0    3.97ms    3.97ms    3.97ms",
        # the clients: 2 completed, one failed
        "clients (client operations): 2 completed, 33.3/s, errors 1 (50.0%)",
    ]
    for w in want:
        f.check(w in out, f"report --text lacks {w!r}")
    # n2: 2 of 4 workers busy from 20 to 40 ms of 60: 16.7%; queue 3 for a
    # third of the run: 1.00 on average, 3 at most; one message in flight
    # for 10 ms: 0.17 on average. n1: one failed served, one drop.
    rows = {l.split()[0]: l.split() for l in out.splitlines() if re.match(r"^  n\d ", l)}
    f.check(rows.get("n2", [])[1:4] == ["16.7%", "1.00/3", "0.17/1"], f"USE row of n2: {rows.get('n2')}")
    # (the message to n1 at 50 ms is in flight for no time before its drop)
    f.check(rows.get("n1", [])[1:6] == ["-", "-", "0.00/1", "1", "1"], f"USE row of n1: {rows.get('n1')}")
    f.check("from the model's \"load\" notes" in out, "report --text does not say where USE comes from")
    # without load notes the page says the engine's view is shown
    path, _, _ = trace(f, d, "91")
    rc, out, _ = run("report", path, "--text", "--no-color")
    f.check("writes no \"load\" notes" in out and "writes no \"served\" notes" in out,
            "report --text of a model without served/load notes does not say so")


# ==== slo ====================================================================


def check_slo(f, d):
    # broken, as the scenario expects: exit 0, the worst window and the fault
    path, tr, out = trace(f, d, "90")
    line = next((l for l in out.splitlines() if l.startswith("expect") and " slo " in l), "")
    f.check("held" in line and "broken, as expected: availability 0.98" in line and "< 0.999" in line
            and "worst 250.0 ms window" in line and "during a partition" in line,
            f"scenario 90's slo line: {line!r}")
    slo = [e for e in tr if e["ev"] == "slo"]
    f.check(len(slo) == 1 and slo[0]["availability"] == 0.999 and slo[0]["p99"] == 50 * MS
            and slo[0]["met"] is False and slo[0]["where"].endswith(".lua:58"), f"slo line {slo}")
    rc, out, _ = run("check", path, "--no-evidence")
    f.check(rc == 1 and re.search(r"^slo\s+violated\s+availability 0\.98\d\d < 0\.999", out, re.M),
            f"sim check of scenario 90: exit {rc}, no slo verdict")
    rc, out, _ = run("report", path, "--text", "--no-color")
    f.check(re.search(r"^  slo\s+violated\s+availability", out, re.M), "report --text lacks the slo verdict")
    # met
    path, tr, out = trace(f, d, "91")
    f.check(re.search(r"slo\s+held\s+met, as expected: availability 0\.\d+ >= 0\.5", out),
            "scenario 91's slo is not met")
    # a trace without an objective shows no slo verdict
    path, _, _ = trace(f, d, "20")
    rc, out, _ = run("check", path, "--no-evidence")
    f.check(rc in (0, 3) and "linearizable" in out and not re.search(r"^slo ", out, re.M),
            f"sim check shows slo for a trace without one (exit {rc})")
    # an objective expected to be met that is not: exit 1 with the figures
    base = ('cluster{ model = "raft", nodes = 3 }\n'
            'workload{ clients = 2, keys = {"x"}, mix = { write = 1 }, target = "leader", timeout = ms(100) }\n'
            'at(ms(500), isolate("n1"))\nat(ms(900), heal())\nrun{ until_ = s(2) }\n')
    lua = write_scenario(d, "slo_fail.lua", base + 'expect{ slo = { availability = 0.9999, p50 = us(1) } }\n')
    rc, out, err = run("run", lua, "--no-trace")
    f.check(rc == 1 and "FAILED  broken, expected to be met: availability" in out and "p50 " in out
            and "> 1.0 us" in out, f"an slo that is not met: exit {rc}: {out}{err}")
    lua = write_scenario(d, "slo_quiet.lua", base + 'expect{ slo = { p99 = s(10) } }\n')
    rc, out, err = run("run", lua, "--no-trace")
    f.check(rc == 0 and "met, as expected: p99" in out, f"a loose slo: exit {rc}: {out}{err}")
    # the judge on a hand-made trace: 1 of 2 ok; latencies of ok ops only
    path = hand_trace(d, {"availability": 0.9, "p99": 3 * MS, "window": 10 * MS, "met": True, "where": "x:1"})
    rc, out, _ = run("check", path, "--no-evidence")
    f.check(rc == 1 and "availability 0.5000 < 0.9 (1 of 2 operations ok); worst 10.0 ms window "
            "0.020 s-0.030 s: 0.0000 (0 of 1); p99 2.0 ms <= 3.0 ms" in out, f"hand-made slo: exit {rc}: {out}")
    # bad values: one line naming file:line, exit 4
    bad = [
        ("availability = 1.5", "availability must be a fraction above 0 and at most 1"),
        ("availability = 0", "availability must be a fraction above 0 and at most 1"),
        ("p99 = -5", "p99 (a latency bound) must be a non-negative integer"),
        ("p99 = 0", "p99 must be a latency above 0"),
        ("p98 = ms(1)", 'unknown field "p98"'),
        ("window = 0, p99 = ms(1)", "window must be a duration above 0"),
        ("met = 1, p99 = ms(1)", "met must be true or false"),
        ("", "slo needs an objective"),
    ]
    for i, (v, want) in enumerate(bad):
        lua = write_scenario(d, f"bad{i}.lua", 'cluster{ model = "raft", nodes = 3 }\nrun{ until_ = ms(10) }\n'
                             f"expect{{ slo = {{ {v} }} }}\n")
        rc, _, err = run("run", lua, "--no-trace")
        f.check(rc == 4 and f"bad{i}.lua:3: expect: slo" in err and want in err and err.count("\n") == 1,
                f"bad slo {v!r}: exit {rc}: {err!r}")


def main():
    f = Failures()
    with tmpdir() as d:
        check_req_propagation(f, d)
        check_req_path(f, d)
        check_red_use(f, d)
        check_slo(f, d)
    f.finish()


if __name__ == "__main__":
    main()
