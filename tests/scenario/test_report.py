"""sim report and sim export on traces of the shipped scenarios.

The HTML report is parsed with html.parser and must hold: the verdict list
(the same verdicts as sim check), one lane per client, an operation bar per
operation, message arrows, the violation highlight reached from a violated
verdict, and nothing fetched from the network. --text: verdicts, roles,
figures, colour only when asked (stdout is a pipe here). Bad input: one line
naming the line; a killed run's trace still gives a report marked
incomplete. Exports: Perfetto JSON parses and its flows pair up; ShiViz
clocks tick by exactly one per host event and receives dominate their sends;
Jepsen EDN holds every history event; jepsen-log and porcupine round-trip
through sim check with the trace's own verdicts."""
import json
import os
import stat
import re
from html.parser import HTMLParser

from simtest import ROOT, SCENARIOS, Failures, read_trace, run, tmpdir, write_scenario

OK, FAILED, USAGE, IO, BAD = 0, 1, 2, 5, 6
SEEDS = (1, 2, 3)
STALE = os.path.join(SCENARIOS, "05_quorum_w1_r1_stale_reads.lua")
LOSES = os.path.join(SCENARIOS, "02_async_failover_loses_writes.lua")
LAG = os.path.join(SCENARIOS, "01_replication_lag.lua")


class Page(HTMLParser):
    """Every start tag as (tag, attrs dict), and the text under each id."""

    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag=None, cls=None, **attrs):
        out = []
        for t, a in self.tags:
            if tag and t != tag:
                continue
            if cls and cls not in (a.get("class") or "").split():
                continue
            if all(a.get(k.replace("_", "-")) == v for k, v in attrs.items()):
                out.append(a)
        return out


def parse(path):
    p = Page()
    with open(path, encoding="utf-8") as f:
        p.feed(f.read())
    return p


def check_json(f, trace, *extra):
    rc, out, err = run("check", trace, "--json", *extra)
    f.check(rc in (0, 1, 3), f"check {trace}: exit {rc} {err}")
    return json.loads(out) if out else {"checkers": []}


def make_trace(f, d, scenario, seed):
    name = os.path.basename(scenario)[:-4]
    trace = os.path.join(d, f"{name}-{seed}.jsonl")
    rc, _, err = run("run", scenario, "--seed", str(seed), "--quiet", "--trace", trace)
    f.check(rc == 0, f"run {name} seed {seed}: exit {rc} {err}")
    return trace


# ==== the HTML page =========================================================

def check_page(f, trace, expect_violation=None):
    html = trace[:-6] + ".html"
    rc, out, err = run("report", trace)
    f.check(rc == 0, f"report {trace}: exit {rc} {err}")
    f.check(os.path.exists(html) and "wrote" in err, f"report {trace}: no {html} ({err})")
    if not os.path.exists(html):
        return None
    lines = read_trace(trace)
    page = parse(html)
    raw = open(html, encoding="utf-8").read()
    # self-contained: nothing is fetched
    f.check(not page.find("link") and not [a for t, a in page.tags if t in ("script", "img") and a.get("src")],
            f"{html}: loads something from outside")
    f.check(not re.search(r"(src|href)\s*=\s*\"(https?:)?//", raw), f"{html}: an external URL")
    # verdicts: the same as sim check says
    verdicts = {c["name"]: c["verdict"] for c in check_json(f, trace)["checkers"]}
    items = page.find("li", cls="verdict")
    got = {a.get("data-checker"): [c for c in a["class"].split() if c != "verdict"][0] for a in items}
    f.check(got == verdicts, f"{html}: verdicts {got} != sim check's {verdicts}")
    # one lane per client, one bar per operation
    clients = [c for l in lines if l["ev"] == "workload" for c in l["clients"]]
    lanes = [a.get("data-client") for a in page.find("g", cls="clientlane")]
    f.check(lanes == clients, f"{html}: lanes {lanes} != clients {clients}")
    invokes = [l["op"] for l in lines if l["ev"] == "invoke"]
    bars = [int(a["data-op"]) for a in page.find("rect", cls="op")]
    f.check(sorted(bars) == sorted(invokes), f"{html}: {len(bars)} bars for {len(invokes)} operations")
    outcome = {l["op"]: l["ev"] for l in lines if l["ev"] in ("ok", "fail", "info")}
    wrong = [a["data-op"] for a in page.find("rect", cls="op")
             if outcome.get(int(a["data-op"]), "open") not in a["class"].split()]
    f.check(not wrong, f"{html}: bars coloured against their outcome: {wrong[:5]}")
    # messages: an arrow per delivered message (no sampling at this size)
    delivered = {l["id"] for l in lines if l["ev"] == "deliver"}
    arrows = page.find("line", cls="msg")
    f.check(len(arrows) > 0, f"{html}: no message arrow")
    sent = [l for l in lines if l["ev"] == "send"]
    drops = [l for l in lines if l["ev"] == "drop"]
    if len(sent) >= 4000:   # sampled: the page says so, and draws at most the limit
        f.check(page.find(id="msgs-sampled") and len(arrows) <= 4000,
                f"{html}: {len(sent)} messages, {len(arrows)} arrows, sampled without saying so")
    else:
        f.check(not page.find(id="msgs-sampled"), f"{html}: {len(sent)} messages said to be sampled")
        f.check(len([a for a in arrows if "drop" not in a["class"] and "inflight" not in a["class"]]) == len(delivered),
                f"{html}: {len(arrows)} arrows for {len(delivered)} delivered messages")
        f.check(len(page.find("line", cls="dropx")) == len(drops), f"{html}: drop marks != {len(drops)} drops")
    splits = [l for l in lines if l["ev"] in ("partition", "isolate", "cut", "bridge")]
    f.check(len(page.find("rect", cls="partition")) == len(splits), f"{html}: partition bands != {len(splits)}")
    for tid in ("summary", "verdicts", "ops", "spacetime", "latency", "nodestates", "simdata", "replay"):
        f.check(page.find(id=tid), f"{html}: no element #{tid}")
    roles = [l for l in lines if l["ev"] == "note" and l.get("what") == "role"]
    f.check(len(page.find("rect", cls="role")) == len(roles), f"{html}: role bands != {len(roles)} role notes")
    f.check(not page.find(id="incomplete"), f"{html}: a complete trace marked incomplete")
    # violations: highlighted bars, reached from the verdict's link
    for name, verdict in verdicts.items():
        if verdict != "violated":
            continue
        link = page.find("a", data_focus=name)
        f.check(link and link[0].get("href") == f"#ev-{name}", f"{html}: verdict {name} has no link")
        f.check(page.find("div", cls="evidence", id=f"ev-{name}"), f"{html}: no evidence for {name}")
    if expect_violation:
        f.check(verdicts.get(expect_violation) == "violated", f"{trace}: {expect_violation} not violated")
        viol = [a for a in page.find("rect", cls="viol") if expect_violation in a.get("data-viol", "").split()]
        f.check(viol, f"{html}: no bar highlighted for {expect_violation}")
    return page


def test_pages(f, d):
    for seed in SEEDS:
        check_page(f, make_trace(f, d, STALE, seed), "staleness")
    page = check_page(f, make_trace(f, d, LOSES, 1), "no_lost_writes")
    if page:
        f.check(len(page.find("line", cls="mark")) >= 2, "02: no fault marks (isolate, heal)")
        f.check(page.find("rect", cls="role-leader"), "02: no leader band")
    trace = make_trace(f, d, LAG, 1)
    check_page(f, trace)
    first = open(trace[:-6] + ".html", "rb").read()
    rc, again, _ = run("report", trace, "-o", "-")
    f.check(rc == 0 and again.encode() == first, "two reports of one trace differ")
    # a run that ended in a scenario error: a report that says so, not "incomplete"
    lua = write_scenario(d, "boom.lua", 'cluster{ model = "leader_follower", nodes = 3 }\n'
                         'run(ms(50))\nerror("boom")\n')
    boom = os.path.join(d, "boom.jsonl")
    rc, _, _ = run("run", lua, "--quiet", "--trace", boom)
    f.check(rc == 4, f"boom.lua: exit {rc}")
    rc, _, err = run("report", boom)
    page = parse(boom[:-6] + ".html") if rc == 0 else Page()
    f.check(rc == 0 and page.find(id="runerror") and not page.find(id="incomplete"),
            f"report of a run that ended in error: exit {rc} {err}")


# ==== text ==================================================================

def test_text(f, d):
    trace = make_trace(f, d, LOSES, 2)
    rc, out, err = run("report", "--text", trace)
    f.check(rc == 0, f"report --text: exit {rc} {err}")
    f.check("\033[" not in out, "report --text on a pipe has colour codes")
    verdicts = check_json(f, trace)["checkers"]
    for c in verdicts:
        f.check(re.search(rf"^  {c['name']}\s+{c['verdict']}\s", out, re.M), f"--text lacks {c['name']} {c['verdict']}")
    for node in ("n1", "n2", "n3"):
        f.check(re.search(rf"^  {node}\s+\d+\.\dms (leader|follower)\(\d+\)", out, re.M), f"--text: no roles of {node}")
    f.check(re.search(r"operations\s+\d+: \d+ ok", out), "--text: no operation figures")
    f.check("INCOMPLETE" not in out, "--text: complete trace said incomplete")
    rc, out, _ = run("report", "--text", "--color", trace)
    f.check(rc == 0 and "\033[" in out, "--color gives no colour")


# ==== bad input =============================================================

def test_bad_input(f, d):
    trace = make_trace(f, d, LOSES, 3)
    lines = open(trace, encoding="utf-8").read().splitlines(True)
    # a killed run: no end line, the last line cut short
    killed = os.path.join(d, "killed.jsonl")
    with open(killed, "w") as out:
        out.writelines(lines[: len(lines) // 2])
        out.write(lines[len(lines) // 2][:20])
    rc, _, err = run("report", killed)
    f.check(rc == 0, f"report on a killed run's trace: exit {rc} {err}")
    page = parse(killed[:-6] + ".html") if rc == 0 else Page()
    f.check(page.find(id="incomplete"), "a killed run's report is not marked incomplete")
    f.check("incomplete" in err, f"report on a killed run says nothing: {err}")
    rc, out, _ = run("report", "--text", killed)
    f.check(rc == 0 and "INCOMPLETE" in out, "--text on a killed run: not marked")
    rc, out, err = run("export", "--format", "perfetto", killed)
    f.check(rc == 0 and json.loads(out)["traceEvents"], f"export of a killed run: exit {rc} {err}")

    def bad(name, text, want_rc, want):
        path = os.path.join(d, name)
        with open(path, "w") as out:
            out.write(text)
        for args in (("report", path), ("report", "--text", path), ("export", "--format", "jepsen", path)):
            rc, out, err = run(*args)
            f.check(rc == want_rc, f"{' '.join(args)}: exit {rc}, expected {want_rc} ({err})")
            f.check(len(err.strip().splitlines()) == 1 and re.search(want, err), f"{' '.join(args)}: said {err!r}")
        f.check(not os.path.exists(path[:-6] + ".html"), f"{name}: a report was written")

    bad("notatrace.jsonl", "hello world\n", BAD, r"notatrace.jsonl:1: not a sim trace")
    newer = lines[0].replace('"format":1', '"format":2')
    bad("newer.jsonl", newer + "".join(lines[1:]), BAD, r"newer.jsonl:1: trace format 2 is not supported")
    broken = lines[:10] + ["{\"t\":5,\"ev\":\n"] + lines[10:]
    bad("broken.jsonl", "".join(broken), BAD, r"broken.jsonl:11: not a JSON object")
    backwards = lines[:10] + ['{"t":0,"ev":"log","msg":"x"}\n'] + lines[10:]
    if json.loads(lines[9]).get("t", 0) > 0:
        bad("backwards.jsonl", "".join(backwards), BAD, r"backwards.jsonl:11: time goes backwards")
    rc, _, err = run("report", os.path.join(d, "missing.jsonl"))
    f.check(rc == IO and "missing.jsonl" in err, f"report on a missing file: exit {rc} {err}")
    rc, _, err = run("export", "--format", "nope", trace)
    f.check(rc == USAGE and "unknown format" in err, f"export --format nope: exit {rc} {err}")
    rc, _, err = run("report")
    f.check(rc == USAGE, f"report without a trace: exit {rc}")
    for cmd in ("report", "export"):
        rc, out, _ = run(cmd, "--help")
        f.check(rc == 0 and "usage: sim " + cmd in out, f"{cmd} --help")


# ==== exports ===============================================================

def test_perfetto(f, trace):
    rc, out, err = run("export", "--format", "perfetto", trace)
    f.check(rc == 0, f"perfetto: exit {rc} {err}")
    events = json.loads(out)["traceEvents"]
    lines = read_trace(trace)
    starts = {e["id"]: e for e in events if e["ph"] == "s"}
    ends = {e["id"]: e for e in events if e["ph"] == "f"}
    f.check(len(starts) == len([e for e in events if e["ph"] == "s"]), "perfetto: a flow id starts twice")
    f.check(set(starts) == set(ends) and starts, f"perfetto: flow ids do not pair up ({len(starts)} s, {len(ends)} f)")
    f.check(all(starts[i]["ts"] <= ends[i]["ts"] for i in starts if i in ends), "perfetto: a flow goes back in time")
    delivered = len({l["id"] for l in lines if l["ev"] == "deliver"})
    f.check(len(starts) == delivered, f"perfetto: {len(starts)} flows for {delivered} delivered messages")
    names = {e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    want = {n for l in lines if l["ev"] == "cluster" for n in l["nodes"]} | \
           {c for l in lines if l["ev"] == "workload" for c in l["clients"]}
    f.check(names == want, f"perfetto: tracks {names} != {want}")
    tracks = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("name") == "thread_name"}
    nodes = {n for l in lines if l["ev"] == "cluster" for n in l["nodes"]}
    f.check(all((pid == 1) == (name in nodes) for (pid, _), name in tracks.items()),
            f"perfetto: nodes and clients in the wrong process: {tracks}")
    stray = [e for e in events if e["ph"] in ("X", "s", "f") and (e["pid"], e["tid"]) not in tracks]
    f.check(not stray, f"perfetto: events on unnamed tracks: {stray[:3]}")
    ops = [e for e in events if e.get("cat") == "op" and e["ph"] == "X"]
    done = [l for l in lines if l["ev"] in ("ok", "fail", "info")]
    f.check(len(ops) == len(done), f"perfetto: {len(ops)} operation slices for {len(done)} completions")
    faults = [l for l in lines if l["ev"] in ("partition", "isolate", "heal", "crash", "restart")]
    f.check(len([e for e in events if e.get("cat") == "fault"]) >= len(faults), "perfetto: faults missing")


def test_shiviz(f, trace):
    rc, out, err = run("export", "--format", "shiviz", trace)
    f.check(rc == 0, f"shiviz: exit {rc} {err}")
    lines = out.split("\n")
    f.check(lines[0] == r"(?<event>.*)\n(?<host>\S*) (?<clock>{.*})" and lines[1] == "",
            f"shiviz: header {lines[:2]}")
    body = lines[2:-1]
    f.check(len(body) % 2 == 0 and body, "shiviz: events are not line pairs")
    last = {}
    sends = {}
    bad = []
    for i in range(0, len(body) - 1, 2):
        event, clockline = body[i], body[i + 1]
        host, clock = clockline.split(" ", 1)
        clock = json.loads(clock)
        prev = last.get(host, {})
        if clock.get(host) != prev.get(host, 0) + 1:
            bad.append(f"{host}: {prev.get(host, 0)} -> {clock.get(host)} at {event}")
        if any(clock.get(k, 0) < v for k, v in prev.items()):
            bad.append(f"{host}: a component went down at {event}")
        m = re.search(r": send (\d+) to ", event)
        if m:
            sends[m.group(1)] = clock
        m = re.search(r": receive (\d+) from ", event)
        if m:
            sent = sends.get(m.group(1), {})
            if any(clock.get(k, 0) < v for k, v in sent.items()):
                bad.append(f"receive {m.group(1)} does not dominate its send")
        last[host] = clock
    f.check(not bad, f"shiviz clocks: {bad[:5]}")
    f.check(sends, "shiviz: no send")


EDN = re.compile(r'^\{:index (\d+), :time (\d+), :type :(invoke|ok|fail|info), :process (\d+), '
                 r':f :(\w+), :value \["((?:[^"\\]|\\.)*)" (nil|-?\d+|\[[^\]]*\]|#\{[^}]*\})\]'
                 r'(?:, :error "(?:[^"\\]|\\.)*")?, :client "([^"]+)", :op-id (\d+)\}$')


def edn_value(s):
    if s == "nil":
        return None
    if s.startswith("#{"):
        return sorted(int(x) for x in s[2:-1].split())
    if s.startswith("["):
        return [None if x == "nil" else int(x) for x in s[1:-1].split()]
    return int(s)


def test_jepsen(f, trace):
    rc, out, err = run("export", "--format", "jepsen", trace)
    f.check(rc == 0, f"jepsen: exit {rc} {err}")
    history = [l for l in read_trace(trace) if l["ev"] in ("invoke", "ok", "fail", "info")]
    got = out.splitlines()
    f.check(len(got) == len(history), f"jepsen: {len(got)} maps for {len(history)} history lines")
    bad = []
    for i, (text, line) in enumerate(zip(got, history)):
        m = EDN.match(text)
        if not m:
            bad.append(f"not an op map: {text}")
            continue
        index, t, typ, _, fn, key, value, client, op = m.groups()
        want = line.get("values") if line.get("values") else line["value"]
        if isinstance(want, list) and line.get("values"):
            want = sorted(want)
        if (int(index), int(t), typ, fn, key, client, int(op)) != (i, line["t"], line["ev"], line["f"], line["key"],
                                                                   line["client"], line["op"]) or \
                edn_value(value) != want:
            bad.append(f"{text} != {line}")
    f.check(not bad, f"jepsen EDN: {bad[:3]}")


def test_failed_export_keeps_devices(f):
    """A failed export removes its partial file, but never a device given as -o."""
    cas = os.path.join(ROOT, "tests", "fuzz", "corpus", "check", "small_lf.jsonl")
    if not os.path.exists(cas):
        return
    rc, _, err = run("export", "--format", "porcupine", cas, "-o", "/dev/null")
    f.check(rc != 0 and "no cas" in err, f"porcupine export of a cas trace: exit {rc} {err}")
    f.check(stat.S_ISCHR(os.stat("/dev/null").st_mode), "a failed export to /dev/null removed /dev/null")


def test_round_trips(f, d, trace):
    lin = [c for c in check_json(f, trace, "--only", "linearizable")["checkers"]][0]
    per_key = {k["key"]: k["verdict"] for k in (lin.get("evidence") or {}).get("per_key", [])}
    f.check(per_key, f"{trace}: no per-key verdicts")
    for key, verdict in per_key.items():
        log = os.path.join(d, f"{key}.log")
        rc, _, err = run("export", "--format", "jepsen-log", "--key", key, trace, "-o", log)
        f.check(rc == 0, f"jepsen-log --key {key}: exit {rc} {err}")
        rc, out, err = run("check", "--format", "jepsen", log, "--only", "linearizable", "--json")
        got = json.loads(out)["checkers"][0]["verdict"] if out else err
        f.check(got == verdict, f"jepsen-log key {key}: sim check says {got}, the trace {verdict}")
    rc, _, err = run("export", "--format", "jepsen-log", trace, "-o", os.path.join(d, "all.log"))
    f.check(len(per_key) == 1 or (rc == USAGE and "--key" in err), f"jepsen-log of several keys: exit {rc} {err}")
    kv = os.path.join(d, "kv.edn")
    rc, _, err = run("export", "--format", "porcupine", trace, "-o", kv)
    f.check(rc == 0, f"porcupine: exit {rc} {err}")
    rc, out, err = run("check", "--format", "porcupine-kv", kv, "--only", "linearizable", "--json")
    back = json.loads(out) if out else {}
    f.check(back.get("checkers") and back["checkers"][0]["verdict"] == lin["verdict"],
            f"porcupine round trip: {back.get('checkers')} vs the trace's {lin['verdict']}")
    ops = len([l for l in read_trace(trace) if l["ev"] == "invoke"])
    f.check(back.get("operations") == ops, f"porcupine round trip: {back.get('operations')} of {ops} operations")
    # the Jepsen EDN itself, read back by sim check: the same verdict and operations
    edn = os.path.join(d, "history.edn")
    rc, _, err = run("export", "--format", "jepsen", trace, "-o", edn)
    f.check(rc == 0, f"jepsen EDN: exit {rc} {err}")
    rc, out, err = run("check", "--format", "jepsen-edn", edn, "--only", "linearizable", "--json")
    back = json.loads(out) if out else {}
    f.check(back.get("format") == "jepsen-edn" and back.get("checkers")
            and back["checkers"][0]["verdict"] == lin["verdict"],
            f"jepsen EDN round trip: {back.get('format')} {back.get('checkers')} vs the trace's {lin['verdict']}: {err}")
    f.check(back.get("operations") == ops, f"jepsen EDN round trip: {back.get('operations')} of {ops} operations")


def test_exports(f, d):
    for seed in SEEDS:
        trace = make_trace(f, d, STALE, seed)
        test_perfetto(f, trace)
        test_shiviz(f, trace)
        test_jepsen(f, trace)
        test_round_trips(f, d, trace)
        test_failed_export_keeps_devices(f)
    trace = make_trace(f, d, LOSES, 1)
    test_perfetto(f, trace)
    test_shiviz(f, trace)
    test_jepsen(f, trace)
    # cas has no Porcupine key-value equivalent: a clear error naming the line
    lua = write_scenario(d, "cas.lua", 'cluster{ model = "leader_follower", nodes = 3 }\n'
                         'workload{ clients = 2, keys = {"x"}, mix = { write = 0.5, cas = 0.5 } }\n'
                         'run(ms(300))\n')
    cas = os.path.join(d, "cas.jsonl")
    rc, _, err = run("run", lua, "--quiet", "--trace", cas)
    f.check(rc == 0, f"cas scenario: exit {rc} {err}")
    out = os.path.join(d, "cas.edn")
    rc, _, err = run("export", "--format", "porcupine", cas, "-o", out)
    f.check(rc == FAILED and re.search(r"cas.jsonl:\d+: Porcupine's key-value model has no cas", err),
            f"porcupine of a cas history: exit {rc} {err}")
    f.check(not os.path.exists(out), "a failed export left its file")
    test_jepsen(f, cas)
    # transactions (when the twopc scenarios are there): Elle's [[:r "k" v] [:w "k" v]] form
    twopc = os.path.join(SCENARIOS, "40_twopc_happy_path.lua")
    if os.path.exists(twopc):
        trace = make_trace(f, d, twopc, 1)
        rc, out, err = run("export", "--format", "jepsen", trace)
        txn = re.compile(r':f :txn, :value \[(\[:(r|w|append) "[^"]*" (nil|-?\d+)\] ?)+\], ')
        bad = [l for l in out.splitlines() if ":f :txn" in l and not txn.search(l)]
        f.check(rc == 0 and ":f :txn" in out and not bad, f"jepsen EDN of transactions: exit {rc} {err} {bad[:2]}")
        rc, _, err = run("export", "--format", "porcupine", trace, "-o", os.path.join(d, "txn.edn"))
        f.check(rc == FAILED and "txn operations have no equivalent" in err, f"porcupine of txns: exit {rc} {err}")


def main():
    f = Failures()
    with tmpdir() as d:
        test_pages(f, d)
        test_text(f, d)
        test_bad_input(f, d)
        test_exports(f, d)
    f.finish()


if __name__ == "__main__":
    main()
