"""The benchmarks run and print their tables (tiny sizes: this tests that
sim bench works and reports what it says, not how fast anything is)."""
import os
import re

from simtest import ROOT, Failures, run

DATA = os.path.join(ROOT, "..", "shared", "data", "porcupine")


def main():
    f = Failures()
    rc, out, err = run("bench", "kernel", "--events", "20000", "--repeat", "1", "--nodes", "8")
    f.check(rc == 0, f"bench kernel: exit {rc}: {err}")
    for label in ("bare heap push/pop (ceiling)", "simulator, tracing off", "simulator, tracing on",
                  "loop / ceiling", "slowdown with tracing", "trace bytes per event"):
        f.check(re.search(re.escape(label) + r"\s+[0-9.]+", out), f"bench kernel: no {label!r} line: {out}")

    rc, out, err = run("bench", "models", "--seconds", "1", "--repeat", "1", timeout=300)
    f.check(rc == 0, f"bench models: exit {rc}: {err}")
    f.check(re.search(r"kernel \(pingpong, 64 nodes, tracing off\): \d+ events/s", out), f"bench models: {out}")
    rows = [l.split() for l in out.splitlines() if re.match(r"^  [a-z_]+ .*\d+\s*$", l)]
    names = {r[0] for r in rows}
    for model in ("leader_follower", "quorum", "raft", "multipaxos", "multi_leader"):
        f.check(model in names, f"bench models: no row for {model}: {out}")
    for r in rows:
        nums = [x for x in r if re.match(r"^[0-9.]+$", x)]
        f.check(len(nums) >= 6 and all(float(x) > 0 for x in nums[-6:]), f"bench models: row {r}")
    rc, out, err = run("bench", "models", "--seconds", "0")
    f.check(rc == 2 and "bad option" in err, f"bench models --seconds 0: exit {rc} {err}")

    if os.path.isdir(DATA):
        files = [os.path.join(DATA, "jepsen", n) for n in ("etcd_000.log", "etcd_052.log")]
        rc, out, err = run("bench", "check", "--repeat", "1", "--no-generated", *files, timeout=300)
        f.check(rc == 0 and "etcd_000" in out and "etcd_052" in out, f"bench check: exit {rc}: {out} {err}")
    rc, out, err = run("bench", "nothing")
    f.check(rc == 2 and "kernel, models, check" in err, f"bench nothing: exit {rc} {err}")
    f.finish()


if __name__ == "__main__":
    main()
