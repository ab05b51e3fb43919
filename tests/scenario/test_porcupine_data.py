"""sim check on Porcupine's reference histories: every history listed in
MANIFEST.tsv gets its known verdict from the linearizable checker (ok =
linearizable, illegal = not; --only linearizable, since the exit code
counts every checker's verdict),
the empty etcd_095.log is linearizable, and the command behaves as its help
says on bad input, budgets and output formats."""
import csv
import json
import os
import shutil

from simtest import ROOT, Failures, run, tmpdir

DATA = os.path.join(ROOT, "..", "shared", "data", "porcupine")
HOLDS, VIOLATED, USAGE, UNKNOWN, IO, BAD = 0, 1, 2, 3, 5, 6


def fmt(path):
    return "jepsen" if path.startswith("jepsen/") else "porcupine-kv"


def manifest():
    """file -> expected verdict ("ok", "illegal", "untested"); the kv files
    are listed once per model, with the same verdict."""
    out = {}
    with open(os.path.join(DATA, "MANIFEST.tsv"), encoding="utf-8") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out.setdefault(row["file"], set()).add(row["expected"])
    return out


def check_manifest(f):
    rows = manifest()
    f.check(len(rows) > 100, f"MANIFEST.tsv lists {len(rows)} histories")
    for name, expected in sorted(rows.items()):
        f.check(len(expected) == 1, f"{name}: rows disagree: {expected}")
        want = VIOLATED if "illegal" in expected else HOLDS
        rc, out, err = run("check", "--format", fmt(name), os.path.join(DATA, name), "--json",
                           "--only", "linearizable")
        f.check(rc == want, f"{name}: exit {rc}, expected {want} ({err.strip()})")
        try:
            doc = json.loads(out)
        except ValueError:
            f.check(False, f"{name}: --json output is not JSON: {out[:200]!r}")
            continue
        lin = doc["checkers"][0]
        f.check(lin["name"] == "linearizable", f"{name}: first checker is {lin['name']}")
        f.check(lin["verdict"] == ("violated" if want == VIOLATED else "holds"),
                f"{name}: verdict {lin['verdict']}")
        f.check(len(lin["reason"]) > 20, f"{name}: reason too short: {lin['reason']!r}")
        if want == VIOLATED:
            ev = lin["evidence"]
            f.check(ev is not None and ev["failed"] is not None and len(ev["window"]) > 0,
                    f"{name}: no evidence")
            if ev:
                ids = [o["op"] for o in ev["window"]]
                f.check(ev["failed"]["op"] in ids, f"{name}: the failed op is not in its window")


def check_empty_history(f):
    path = os.path.join(DATA, "jepsen", "etcd_095.log")
    f.check(os.path.getsize(path) == 0, "etcd_095.log is empty")
    rc, out, err = run("check", "--format", "jepsen", path, "--only", "linearizable")
    f.check(rc == HOLDS, f"etcd_095.log: exit {rc} ({err.strip()})")
    first = out.splitlines()[0] if out else ""
    f.check(first.startswith("linearizable") and " holds " in first, f"etcd_095.log: {first!r}")


def check_text_output(f):
    path = os.path.join(DATA, "jepsen", "etcd_000.log")
    rc, out, err = run("check", "--format", "jepsen", path)
    lines = out.splitlines()
    f.check(rc == VIOLATED, f"etcd_000 text: exit {rc}")
    f.check(lines and lines[0].split()[:2] == ["linearizable", "violated"], f"first line: {lines[:1]}")
    for words in ("evidence", "cannot be explained", "shortest window", "longest linearizable prefix"):
        f.check(words in out, f"etcd_000 text output lacks {words!r}")
    # the same input gives the same output, byte for byte
    rc2, out2, _ = run("check", "--format", "jepsen", path)
    f.check(out == out2, "two runs printed different evidence")


def check_bad_input(f):
    src = os.path.join(DATA, "jepsen", "etcd_001.log")
    with tmpdir() as d:
        lines = open(src, encoding="utf-8").read().splitlines(keepends=True)
        # a malformed line in the middle: exit 6, FILE:LINE in one line
        bad = os.path.join(d, "bad.log")
        with open(bad, "w", encoding="utf-8") as out:
            out.writelines(lines[:10] + ["INFO  jepsen.util - 3\t:invoke\t:incr\t1\n"] + lines[10:])
        rc, _, err = run("check", "--format", "jepsen", bad)
        f.check(rc == BAD, f"malformed line: exit {rc}")
        f.check(err.strip().startswith(f"sim: {bad}:11:") and ":incr" in err and err.count("\n") == 1,
                f"malformed line: message {err!r}")
        # the last line cut short (a killed run): a warning, and a verdict
        cut = os.path.join(d, "cut.log")
        with open(cut, "w", encoding="utf-8") as out:
            out.write("".join(lines)[:-7])
        rc, out_text, err = run("check", "--format", "jepsen", cut, "--only", "linearizable")
        f.check(rc in (HOLDS, VIOLATED), f"cut short: exit {rc} ({err.strip()})")
        f.check("warning" in err and "cut short" in err, f"cut short: no warning: {err!r}")
        # a Jepsen file read as a trace: says which format it looks like
        rc, _, err = run("check", src)
        f.check(rc == BAD and "--format jepsen" in err, f"jepsen as trace: {rc} {err!r}")
        # unreadable
        rc, _, err = run("check", os.path.join(d, "missing.jsonl"))
        f.check(rc == IO and "cannot read" in err, f"missing file: exit {rc} {err!r}")
        rc, _, err = run("check", d)
        f.check(rc == IO and "directory" in err, f"directory: exit {rc} {err!r}")
        # usage
        for args in (["check"], ["check", "--format", "edn", src], ["check", "--only", "serializable", src],
                     ["check", "--budget", "lots", src], ["check", "--bogus", src], ["check", src, src]):
            rc, _, err = run(*args)
            f.check(rc == USAGE and err.count("\n") == 1, f"{args}: exit {rc} {err!r}")
        # a copy elsewhere checks the same
        copy = os.path.join(d, "copy.log")
        shutil.copy(src, copy)
        rc, _, _ = run("check", "--format", "jepsen", copy)
        f.check(rc == VIOLATED, f"copy: exit {rc}")


def check_budget(f):
    hard = os.path.join(DATA, "jepsen", "etcd_002.log")
    rc, out, _ = run("check", "--format", "jepsen", hard, "--budget", "1000", "--only", "linearizable")
    f.check(rc == UNKNOWN, f"budget 1000: exit {rc}")
    f.check(out.split()[:2] == ["linearizable", "unknown"] and "budget" in out, f"budget: {out[:200]!r}")
    rc, out, _ = run("check", "--format", "jepsen", hard, "--budget", "1000", "--json",
                     "--only", "linearizable")
    f.check(rc == UNKNOWN and json.loads(out)["checkers"][0]["steps"] <= 1000, "budget: steps over budget")


def check_help(f):
    rc, out, _ = run("check", "--help")
    f.check(rc == HOLDS, f"check --help: exit {rc}")
    for opt in ("--format", "--only", "--json", "--budget", "--no-evidence", "jepsen", "porcupine-kv"):
        f.check(opt in out, f"check --help lacks {opt}")
    rc, out, _ = run("--help")
    f.check(any(l.split()[:1] == ["check"] for l in out.splitlines()), "sim --help does not list check")


def main():
    f = Failures()
    if not os.path.isdir(DATA):
        f.check(False, f"the Porcupine data is not at {DATA}")
        f.finish()
    check_manifest(f)
    check_empty_history(f)
    check_text_output(f)
    check_bad_input(f)
    check_budget(f)
    check_help(f)
    f.finish()


if __name__ == "__main__":
    main()
