"""Helpers for the tests that run build/sim as a user would."""
import json
import os
import subprocess
import sys
import tempfile

SIM = os.environ.get("SIM") or os.path.join(os.path.dirname(__file__), "../../build/sim")
ROOT = os.environ.get("SIM_SOURCE_ROOT") or os.path.join(os.path.dirname(__file__), "../..")
SCENARIOS = os.path.join(ROOT, "scenarios")


def run(*args, cwd=None, timeout=120):
    """Run sim with args; return (exit code, stdout, stderr)."""
    p = subprocess.run([SIM, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def shipped_scenarios():
    return sorted(os.path.join(SCENARIOS, f) for f in os.listdir(SCENARIOS) if f.endswith(".lua"))


def read_trace(path):
    """Every line of a trace as a parsed object; fails on a line that is not JSON."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            assert line.endswith("\n"), f"{path}:{n}: line without newline"
            out.append(json.loads(line))
    return out


def scenario_path(name):
    """A scenario by path (ending in .lua), by full name in scenarios/
    ("50_lock_gc_pause"), or by the start of one ("50")."""
    if name.endswith(".lua"):
        return name
    exact = os.path.join(SCENARIOS, name + ".lua")
    if os.path.exists(exact):
        return exact
    for lua in sorted(os.listdir(SCENARIOS)):
        if lua.startswith(name) and lua.endswith(".lua"):
            return os.path.join(SCENARIOS, lua)
    raise FileNotFoundError(name)


def run_traced(f, d, name, seed, *extra, code=0):
    """sim run of a scenario (see scenario_path) with --seed and the trace in
    d; f checks the exit code: code is one, a tuple of several, or None for
    any. Returns (trace path, its parsed lines or [] when none was written)."""
    path = scenario_path(name)
    tag = "-".join(a.replace("/", "_") for a in extra)
    t = os.path.join(d, f"{os.path.basename(path)}-{seed}-{tag}.jsonl")
    rc, _, err = run("run", path, "--seed", seed, "--trace", t, "--quiet", *extra)
    codes = code if isinstance(code, tuple) else (code,)
    if code is not None:
        f.check(rc in codes, f"{name} seed {seed} {extra}: exit {rc}, expected {code}: {err.strip()[:300]}")
    return t, (read_trace(t) if os.path.exists(t) else [])


def notes(tr, what, node=None):
    """The trace's notes of one kind, of one node if given."""
    return [e for e in tr if e.get("ev") == "note" and e.get("what") == what
            and (node is None or e.get("node") == node)]


def check_refused(f, d, cases):
    """Each (cluster text, words) must be refused by sim run with exit 4 and
    one line on stderr containing the words."""
    for i, (text, want) in enumerate(cases):
        lua = write_scenario(d, f"bad{i}.lua", text + "\nrun{ until_ = ms(10) }\n")
        rc, _, err = run("run", lua, "--quiet")
        f.check(rc == 4 and want in err and err.count("\n") == 1, f"bad input {i}: exit {rc}: {err!r}")


def write_scenario(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


class Failures:
    """Collects failed checks so one run reports all of them."""

    def __init__(self):
        self.failed = []
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed.append(what)
            print("FAIL:", what, file=sys.stderr)

    def finish(self):
        print(f"{self.passed} checks passed, {len(self.failed)} failed")
        sys.exit(1 if self.failed else 0)


def tmpdir():
    return tempfile.TemporaryDirectory(prefix="simtest-")
