"""sim check on traces of the shipped scenarios (every registered checker,
text and --json, --only, exit codes), and expectations that name a checker
in sim run (expect{ linearizable = true/false }), with and without a trace
file."""
import json
import os
import re

from simtest import ROOT, SCENARIOS, Failures, read_trace, run, tmpdir, write_scenario

HOLDS, VIOLATED, USAGE, UNKNOWN, SCENARIO, IO, BAD = 0, 1, 2, 3, 4, 5, 6
VERDICTS = {"holds", "violated", "unknown", "skipped"}
JEPSEN = os.path.join(ROOT, "..", "shared", "data", "porcupine", "jepsen", "etcd_000.log")


def registered(f):
    """The checker table as `sim check --help` lists it: [(name, needs_trace)]."""
    rc, out, _ = run("check", "--help")
    f.check(rc == 0, f"check --help: exit {rc}")
    names = []
    section = False
    for line in out.splitlines():
        if line == "checkers:":
            section = True
        elif section and not line.strip():
            break
        elif section and line.startswith("  ") and not line.startswith("   "):
            words = line.split()
            names.append((words[0], len(words) > 1 and words[1] == "*"))
    f.check(names and names[0][0] == "linearizable", f"check --help lists {names}")
    f.check(("invariants", True) in names, f"check --help lacks invariants: {names}")
    return names


def expected_exit(verdicts):
    if "violated" in verdicts:
        return VIOLATED
    return UNKNOWN if "unknown" in verdicts else HOLDS


def verdict_lines(out, n):
    """The first n lines: (name, verdict, reason, column where the verdict starts)."""
    rows = []
    for line in out.splitlines()[:n]:
        m = re.match(r"^(\S+)(\s+)(\S+)(\s+)(.*)$", line)
        if not m:
            rows.append((None, None, line, -1))
            continue
        rows.append((m.group(1), m.group(3), m.group(5), len(m.group(1)) + len(m.group(2))))
    return rows


def make_traces(f, d):
    """name -> trace path, for the shipped scenarios with seed 7."""
    out = {}
    for lua in sorted(os.listdir(SCENARIOS)):
        if not lua.endswith(".lua"):
            continue
        name = lua[:-4]
        path = os.path.join(d, name + ".jsonl")
        rc, _, err = run("run", os.path.join(SCENARIOS, lua), "--seed", "7", "--trace", path, "--quiet")
        f.check(rc == 0, f"{name}: exit {rc}: {err.strip()}")
        out[name] = path
    return out


# ==== sim check ==============================================================

def model_of(path):
    """The model named on the trace's cluster line."""
    with open(path) as fh:
        for line in fh:
            ev = json.loads(line)
            if ev.get("ev") == "cluster":
                return ev["model"]
    return None


# Checkers that judge whatever the client operations were: final states and
# the model's own invariants. The transactional checkers judge transactions
# and sagas, and say "skipped" when the trace has none. Every other checker
# reads register operations.
ANY_HISTORY = {"converges", "invariants"}
TXN = {"atomicity", "nonblocking", "read_committed", "saga", "mutual_exclusion", "delivery", "exactly_once"}
# models whose nodes hold different data (shards, services), with no "map"
NO_MAP_MODELS = {"twopc", "saga", "lock", "hashring", "eventlog", "resilience"}


def registers_only(path):
    """False when the trace has counter/set/txn operations or reads with several values."""
    for ev in read_trace(path):
        if ev.get("ev") in ("invoke", "ok") and (ev.get("f") in ("add", "remove", "txn") or "values" in ev):
            return False
    return True


def expected_skip(checker, model, registers):
    """None: must not be skipped; else the start of the reason it must give."""
    if checker == "slo":
        return None   # present only when the scenario declared objectives
    if checker in TXN:
        wanted = {"atomicity": "twopc", "nonblocking": "twopc", "read_committed": "twopc", "saga": "saga",
                  "mutual_exclusion": "lock", "delivery": "eventlog", "exactly_once": "eventlog"}
        return None if model == wanted[checker] else "no "
    if checker in ANY_HISTORY:
        return None
    return None if registers else "judges single-value registers"


def has_slo(path):
    with open(path, encoding="utf-8") as f:
        return any('"ev":"slo"' in line for line in f)


def check_every_checker_on_every_trace(f, traces, table):
    for name, path in traces.items():
        # a trace whose scenario declared objectives (expect{slo = ...}) has
        # one more verdict line, slo, after the registered checkers
        names = [n for n, _ in table] + (["slo"] if has_slo(path) else [])
        rc, out, err = run("check", path)
        rows = verdict_lines(out, len(names))
        f.check([r[0] for r in rows] == names, f"{name}: checker lines {[r[0] for r in rows]}, not {names}")
        registers = registers_only(path)
        model = model_of(path)
        for r in rows:
            want = expected_skip(r[0], model, registers)
            if model in NO_MAP_MODELS and r[0] in ("converges", "no_lost_writes") and r[1] == "skipped":
                continue   # shards and services: nothing replicated to compare
            if want is None:
                f.check(r[1] in VERDICTS - {"skipped"}, f"{name}: {r[0]} {r[1]}: {r[2]}")
            else:
                f.check(r[1] == "skipped" and r[2].startswith(want), f"{name}: {r[0]} {r[1]} {r[2]!r}")
        f.check(len({r[3] for r in rows}) == 1, f"{name}: verdict column not aligned: {out[:400]!r}")
        f.check(all(len(r[2]) > 20 for r in rows), f"{name}: a reason is too short: {rows}")
        f.check(rc == expected_exit([r[1] for r in rows]), f"{name}: exit {rc} for {[r[1] for r in rows]}")
        lines = out.splitlines()
        # "in short": where the history sits among the consistency models
        short = len(lines) > len(names) + 1 and lines[len(names) + 1].startswith("in short: ")
        if registers:
            f.check(short and ("linearizable" in lines[len(names) + 1] or "consistent" in lines[len(names) + 1]),
                    f"{name}: no 'in short' line after the verdicts: {lines[len(names):len(names) + 2]}")
        if short:
            del lines[len(names) + 1:len(names) + 2]
        f.check(lines[len(names)] == "" and lines[len(names) + 1].startswith(f"history: {path} (trace): "),
                f"{name}: no history line after the verdicts: {lines[len(names):len(names) + 2]}")
        f.check(lines[len(names) + 2].startswith(f"trace: model {model}, "),
                f"{name}: no trace line: {lines[len(names) + 2]!r}")
        if registers:
            f.check("linearizable:" in lines, f"{name}: no linearizable section")
            sec = lines.index("linearizable:") if "linearizable:" in lines else 0
            f.check(re.match(r"^  \d+ search steps of a budget of 10000000", lines[sec + 1] if sec else ""),
                    f"{name}: linearizable section starts {lines[sec + 1:sec + 2]}")
        # every evidence line is under a heading, indented
        for line in lines[len(names) + 3:]:
            f.check(line == "" or line.startswith("  ") or re.match(r"^[a-z_]+:$", line),
                    f"{name}: evidence line outside a section: {line!r}")
        # the same verdicts in JSON, and the same bytes twice
        rc2, js, _ = run("check", path, "--json")
        doc = json.loads(js)
        f.check(rc2 == rc, f"{name}: --json exit {rc2}, text {rc}")
        f.check(doc["file"] == path and doc["format"] == "trace" and doc["time_unit"] == "ns",
                f"{name}: JSON head {doc['file']} {doc['format']}")
        f.check(doc["trace"]["model"] == model and doc["trace"]["complete"] is True
                and doc["trace"]["nodes"] >= 1, f"{name}: JSON trace {doc['trace']}")
        got = [(c["name"], c["verdict"], c["reason"]) for c in doc["checkers"]]
        f.check(got == [(r[0], r[1], r[2]) for r in rows], f"{name}: JSON and text disagree: {got}")
        for c in doc["checkers"]:
            f.check(set(c) == {"name", "verdict", "reason", "steps", "evidence"},
                    f"{name}: {c['name']} has fields {sorted(c)}")
            f.check(isinstance(c["evidence"], dict) or (c["verdict"] == "skipped" and c["evidence"] is None),
                    f"{name}: {c['name']} evidence {c['evidence']!r}")
        rc3, out3, _ = run("check", path)
        f.check(rc3 == rc and out3 == out, f"{name}: two runs printed different output")


def check_known_verdicts(f, traces):
    """What the scenarios claim: 01 and 04 are not linearizable, 03 is; no
    shipped model breaks its own invariants."""
    for name, want in (("01_replication_lag", "violated"), ("04_split_brain_without_epochs", "violated"),
                       ("03_sync_blocks_writes", "holds")):
        if name not in traces:
            f.check(False, f"no trace of {name}")
            continue
        rc, out, err = run("check", traces[name], "--only", "linearizable,invariants", "--json")
        doc = json.loads(out)
        got = {c["name"]: c for c in doc["checkers"]}
        f.check([c["name"] for c in doc["checkers"]] == ["linearizable", "invariants"],
                f"{name}: --only gave {list(got)}")
        f.check(got["linearizable"]["verdict"] == want, f"{name}: linearizable {got['linearizable']['verdict']}")
        f.check(got["invariants"]["verdict"] == "holds", f"{name}: invariants {got['invariants']['verdict']}")
        f.check(rc == (VIOLATED if want == "violated" else HOLDS), f"{name}: exit {rc}")
        ev = got["linearizable"]["evidence"]
        f.check(ev["budget"] == 10000000 and len(ev["per_key"]) == doc["keys"], f"{name}: evidence head {ev}")
        if want == "violated":
            ids = [o["op"] for o in ev["window"]]
            f.check(ev["failed"] is not None and ev["failed"]["op"] in ids and ev["prefix"],
                    f"{name}: evidence {ev}")
            # the failed operation's lines are real trace lines of that operation
            tr = read_trace(traces[name])
            line = tr[ev["failed"]["complete_line"] - 1]
            f.check(line.get("op") == ev["failed"]["op"] and line["ev"] == "ok",
                    f"{name}: complete_line {ev['failed']['complete_line']} is {line}")
        else:
            f.check(ev["failed"] is None and ev["window"] == [] and ev["prefix"] == [],
                    f"{name}: evidence on a holding history: {ev}")


def check_only(f, traces, table):
    path = traces["01_replication_lag"]
    rc, out, _ = run("check", path, "--only", "invariants,linearizable")
    rows = verdict_lines(out, 2)
    f.check([r[0] for r in rows] == ["linearizable", "invariants"], f"--only order: {rows}")
    f.check(out.splitlines()[2] == "", "--only: more than two verdict lines")
    f.check(rc == VIOLATED, f"--only invariants,linearizable: exit {rc}")
    rc, out, _ = run("check", path, "--only", "invariants")
    f.check(rc == HOLDS and out.startswith("invariants  holds  "), f"--only invariants: {rc} {out[:80]!r}")
    f.check("linearizable" not in out, "--only invariants ran linearizable")
    rc, out, _ = run("check", path, "--only", "linearizable,linearizable")
    f.check(rc == VIOLATED and out.count("linearizable  violated") == 1, "--only with a name twice")
    known = ", ".join(n for n, _ in table)
    for bad in ("serializable", "linearizable,serializable", "linearizable,", ",", "Linearizable"):
        rc, _, err = run("check", path, "--only", bad)
        f.check(rc == USAGE and err.count("\n") == 1 and known in err, f"--only {bad!r}: {rc} {err!r}")
    rc, _, err = run("check", path, "--only", "nope")
    f.check('unknown checker "nope"' in err, f"--only nope: {err!r}")
    rc, _, err = run("check", path, "--only")
    f.check(rc == USAGE, f"--only without a value: exit {rc}")


def check_exit_codes(f, traces):
    # unknown: a tiny budget on a history that holds
    path = traces["03_sync_blocks_writes"]
    rc, out, _ = run("check", path, "--only", "linearizable", "--budget", "3")
    f.check(rc == UNKNOWN and out.startswith("linearizable  unknown  ") and "budget" in out,
            f"budget 3: {rc} {out[:120]!r}")
    # a violation wins over unknown
    rc, _, _ = run("check", traces["01_replication_lag"], "--budget", "3", "--only", "linearizable,invariants")
    f.check(rc in (VIOLATED, UNKNOWN), f"budget 3 on 01: exit {rc}")
    # --no-evidence: verdicts, no window
    rc, out, _ = run("check", traces["01_replication_lag"], "--no-evidence", "--json", "--only", "linearizable")
    ev = json.loads(out)["checkers"][0]["evidence"]
    f.check(rc == VIOLATED and ev["failed"] is None and ev["evidence_steps"] == 0, f"--no-evidence: {ev}")
    with tmpdir() as d:
        rc, _, err = run("check", os.path.join(d, "missing.jsonl"))
        f.check(rc == IO and err.count("\n") == 1, f"missing: {rc} {err!r}")
        lines = open(path, encoding="utf-8").read().splitlines(keepends=True)
        bad = os.path.join(d, "bad.jsonl")
        with open(bad, "w", encoding="utf-8") as out:
            out.writelines(lines[:20] + ['{"t":5,"ev":"ok","op":\n'] + lines[20:])
        rc, _, err = run("check", bad)
        f.check(rc == BAD and err.startswith(f"sim: {bad}:21:") and err.count("\n") == 1,
                f"malformed trace: {rc} {err!r}")
        # a run killed mid-line: a warning, and every checker still runs
        cut = os.path.join(d, "cut.jsonl")
        with open(cut, "w", encoding="utf-8") as out:
            out.write("".join(lines[: len(lines) // 2])[:-9])
        rc, out, err = run("check", cut, "--json")
        doc = json.loads(out)
        f.check("cut short" in err and doc["warning"] and doc["trace"]["complete"] is False,
                f"cut trace: {rc} {err!r}")


def check_jepsen_skips_trace_checkers(f, table):
    if not os.path.exists(JEPSEN):
        f.check(False, f"no Jepsen data at {JEPSEN}")
        return
    rc, out, _ = run("check", "--format", "jepsen", JEPSEN)
    rows = verdict_lines(out, len(table))
    for (name, needs_trace), row in zip(table, rows):
        if needs_trace:
            f.check(row[1] == "skipped" and "needs a sim trace" in row[2], f"jepsen: {name}: {row}")
        elif name in TXN:
            f.check(row[1] == "skipped" and row[2].startswith("no "), f"jepsen: {name}: {row}")
        else:
            f.check(row[1] != "skipped", f"jepsen: {name} skipped")
    f.check(rc == VIOLATED, f"jepsen etcd_000: exit {rc}")
    f.check("\ntrace: " not in out, "jepsen: a trace line")
    rc, out, _ = run("check", "--format", "jepsen", JEPSEN, "--only", "invariants", "--json")
    doc = json.loads(out)
    f.check(rc == HOLDS and doc["checkers"][0]["verdict"] == "skipped" and doc["checkers"][0]["evidence"] is None
            and doc["trace"] is None, f"jepsen --only invariants: {rc} {doc['checkers']}")


def check_help(f, table):
    rc, out, _ = run("help", "check")
    f.check(rc == 0, f"help check: exit {rc}")
    for name, _ in table:
        f.check(re.search(rf"^  {name}\b", out, re.M), f"help check does not list {name}")
    for words in ("--only A,B", "exit codes", "3 a checker could not decide"):
        f.check(words in out, f"help check lacks {words!r}")
    for line in out.splitlines():
        f.check(len(line) <= 80, f"help line too long: {line!r}")


# ==== checker expectations in sim run ========================================

LINEARIZABLE_RUN = """-- a synchronous cluster, reads at the leader: linearizable
cluster{ model = "leader_follower", nodes = 3, params = { replication = "sync", reads = "leader" } }
workload{ clients = 3, keys = { "x", "y" }, mix = { read = 0.5, write = 0.5 }, think = ms(5),
          duration = ms(400), timeout = ms(500) }
print("hello from the scenario")
run{ until_ = ms(600) }
local all = expect{ ops_ok = { min = 20 }, EXPECTATION }
print("expect returned", all)
"""


def scenario(d, name, expectation):
    return write_scenario(d, name, LINEARIZABLE_RUN.replace("EXPECTATION", expectation))


def check_expectation_holds(f, d):
    lua = scenario(d, "holds.lua", "linearizable = true, invariants = true")
    t = os.path.join(d, "holds.jsonl")
    rc, out, err = run("run", lua, "--trace", t)
    f.check(rc == 0, f"linearizable = true: exit {rc}: {err.strip()}")
    f.check(re.search(r"^expect +linearizable +held +holds, as expected: the \d+ operations", out, re.M),
            f"linearizable = true: summary {out!r}")
    f.check(re.search(r"^expect +invariants +held +holds, as expected: ", out, re.M), "invariants = true")
    f.check(err.count("hello from the scenario") == 1, f"print() shown {err.count('hello')} times")
    f.check("expect returned\ttrue" in err, f"expect's value: {err!r}")
    names = [e["name"] for e in read_trace(t) if e["ev"] == "expect"]
    f.check(names == ["ops_ok"], f"expect lines in the trace: {names}")
    rc, out, _ = run("replay", t)
    f.check(rc == 0 and out.startswith("identical"), f"replay: {rc} {out!r}")
    # the same run as sim check sees it
    rc, out, _ = run("check", t, "--only", "linearizable")
    f.check(rc == 0 and out.startswith("linearizable  holds"), f"check of holds.jsonl: {rc} {out[:60]!r}")
    # without a trace file, and with the trace on stdout
    rc, out, err = run("run", lua, "--no-trace", cwd=d)
    f.check(rc == 0 and re.search(r"^expect +linearizable +held ", out, re.M), f"--no-trace: {rc} {out!r}")
    f.check(not os.path.exists(os.path.join(d, "traces")), "--no-trace wrote traces/")
    f.check(err.count("hello from the scenario") == 1, f"--no-trace: print() shown {err.count('hello')} times")
    rc, out, err = run("run", lua, "--trace", "-")
    tr = [json.loads(line) for line in out.splitlines()]
    f.check(rc == 0 and tr[-1]["ev"] == "end", f"--trace -: {rc}, last {tr[-1] if tr else None}")
    f.check(re.search(r"^expect +linearizable +held ", err, re.M), f"--trace -: summary {err!r}")


def check_expectation_fails(f, d):
    lua = scenario(d, "fails.lua", "linearizable = false")
    line = next(i for i, l in enumerate(LINEARIZABLE_RUN.splitlines(), 1) if "EXPECTATION" in l)
    for extra in ([], ["--no-trace"], ["--trace", os.path.join(d, "fails.jsonl")]):
        rc, out, err = run("run", lua, *extra, cwd=d)
        f.check(rc == VIOLATED, f"linearizable = false {extra}: exit {rc}: {err.strip()}")
        f.check(re.search(r"^expect +linearizable +FAILED +holds, expected a violation: the \d+ operations on "
                          r"2 keys can be put in one order", out, re.M), f"{extra}: summary {out!r}")
        f.check(re.search(r"^expect +ops_ok +held ", out, re.M), f"{extra}: the count expectation")
        rc, out, err = run("run", lua, "--quiet", *extra, cwd=d)
        f.check(rc == VIOLATED and out == "", f"--quiet {extra}: {rc} {out!r}")
        want = f"expectation failed: linearizable ({lua}:{line}): holds, expected a violation: "
        f.check(err.startswith(want) and err.count("\n") == 1, f"--quiet {extra}: stderr {err!r}, want {want!r}")
    # a run that shows the anomaly expects false and passes
    lag = os.path.join(SCENARIOS, "01_replication_lag.lua")
    text = open(lag, encoding="utf-8").read().replace("ops_fail = 0,", "ops_fail = 0, linearizable = false,")
    anomaly = write_scenario(d, "anomaly.lua", text)
    rc, out, err = run("run", anomaly, "--seed", "7", "--no-trace")
    f.check(rc == 0 and re.search(r"^expect +linearizable +held +violated, as expected: c\d read ", out, re.M),
            f"01 with linearizable = false: {rc} {out!r} {err!r}")
    text = text.replace("linearizable = false", "linearizable = true")
    anomaly = write_scenario(d, "anomaly2.lua", text)
    rc, _, err = run("run", anomaly, "--seed", "7", "--no-trace", "--quiet")
    f.check(rc == VIOLATED and "violated, expected to hold: c" in err and "before that read began" in err,
            f"01 with linearizable = true: {rc} {err!r}")


def check_expectation_errors(f, d, table):
    names = [n for n, _ in table]
    cases = [
        ("linearizable = 1", "expect: linearizable must be true"),
        ("linearizable = \"yes\"", "expect: linearizable must be true"),
        ("serializable = true", "expect: unknown expectation \"serializable\""),
    ]
    if "cap" in names:
        cases.append(("pacelc = \"PA/XX\"", "expect: pacelc must be a label like \"PA/EL\""))
        cases.append(("pacelc = true", "expect: pacelc must be a label"))
    else:
        cases.append(("pacelc = \"PA/EL\"", "expect: unknown expectation \"pacelc\""))
    for i, (expectation, words) in enumerate(cases):
        lua = scenario(d, f"bad{i}.lua", expectation)
        rc, _, err = run("run", lua, "--no-trace", "--quiet")
        f.check(rc == SCENARIO and words in err and err.count("\n") == 1 and f"{lua}:7:" in err,
                f"{expectation}: {rc} {err!r}")
    lua = scenario(d, "list.lua", "nonsense = true")
    rc, _, err = run("run", lua, "--no-trace")
    for name in names:
        f.check(name in err, f"the unknown expectation message does not list {name}: {err!r}")
    if "cap" in names:
        f.check("pacelc" in err, f"the message does not list pacelc: {err!r}")
        # a well-formed pacelc is decided by the cap checker: held or failed, never an error
        lua = scenario(d, "pacelc.lua", "pacelc = \"PC/EC\"")
        rc, out, err = run("run", lua, "--no-trace")
        f.check(rc in (0, 1) and re.search(r"^expect +pacelc +(held|FAILED) ", out, re.M),
                f"pacelc: {rc} {out!r} {err!r}")


def main():
    f = Failures()
    table = registered(f)
    with tmpdir() as d:
        traces = make_traces(f, d)
        check_every_checker_on_every_trace(f, traces, table)
        check_known_verdicts(f, traces)
        check_only(f, traces, table)
        check_exit_codes(f, traces)
    check_jepsen_skips_trace_checkers(f, table)
    check_help(f, table)
    with tmpdir() as d:
        check_expectation_holds(f, d)
        check_expectation_fails(f, d)
        check_expectation_errors(f, d, table)
    f.finish()


if __name__ == "__main__":
    main()
