"""Allocation-failure injection through a whole run and a whole check:
SIM_FAIL_ALLOC_AT=N fails the N-th allocation and every one after it. For
N from 1 up to past the last allocation, sim must end with exit 70 and a
one-line "out of memory" (or succeed when N is past the end), leave a trace
of whole JSON lines, and never take an allocation failure for a corrupt
file."""
import json
import os
import subprocess

from simtest import SIM, Failures, tmpdir, write_scenario

SCENARIO = """cluster{ model = "leader_follower", nodes = 3 }
workload{ clients = 2, duration = ms(300) }
at(ms(100), crash("n2"))
at(ms(200), restart("n2"))
run(ms(400))
expect{ converges = true }
"""


def sim_env(n):
    env = dict(os.environ)
    env["SIM_FAIL_ALLOC_AT"] = str(n)
    return env


def steps():
    """1..40, then about 15% more each step: a few hundred runs in all."""
    n = 1
    while True:
        yield n
        n = n + 1 if n < 40 else int(n * 1.15) + 1


def check_out_of_memory(f, what, rc, err, ok_codes):
    lines = [x for x in err.splitlines() if x.strip()]
    if rc == 70:
        f.check(lines and all("out of memory" in x for x in lines),
                f"{what}: exit 70 but stderr is {lines[-3:]}")
    else:
        f.check(rc in ok_codes, f"{what}: exit {rc}: {lines[-3:]}")


def whole_lines(f, what, path):
    if not os.path.exists(path):
        return
    with open(path, "rb") as fh:
        data = fh.read()
    f.check(not data or data.endswith(b"\n"), f"{what}: the trace ends mid-line")
    for i, line in enumerate(data.split(b"\n")[:-1], 1):
        try:
            json.loads(line)
        except ValueError:
            f.check(False, f"{what}: trace line {i} is not JSON: {line[:80]!r}")
            return


def main():
    f = Failures()
    with tmpdir() as d:
        path = write_scenario(d, "small.lua", SCENARIO)
        trace = os.path.join(d, "t.jsonl")
        runs = 0
        for n in steps():
            if os.path.exists(trace):
                os.remove(trace)
            p = subprocess.run([SIM, "run", path, "--trace", trace, "--quiet"], env=sim_env(n),
                               capture_output=True, text=True, timeout=120)
            runs += 1
            check_out_of_memory(f, f"run, allocation {n}", p.returncode, p.stderr, (0,))
            whole_lines(f, f"run, allocation {n}", trace)
            if p.returncode == 0:
                break
            f.check(n < 10_000_000, "run: never finished")
        f.check(runs > 60, f"only {runs} runs: the scenario allocates too little to test much")

        # the checkers, reading a finished trace
        good = os.path.join(d, "good.jsonl")
        p = subprocess.run([SIM, "run", path, "--trace", good, "--quiet"], capture_output=True, text=True)
        f.check(p.returncode == 0, f"clean run exit {p.returncode}: {p.stderr}")
        checks = 0
        for n in steps():
            p = subprocess.run([SIM, "check", good], env=sim_env(n), capture_output=True, text=True,
                               timeout=120)
            checks += 1
            check_out_of_memory(f, f"check, allocation {n}", p.returncode, p.stderr, (0, 1, 3))
            if p.returncode != 70:
                break
        f.check(checks > 60, f"only {checks} check runs")
    f.finish()


if __name__ == "__main__":
    main()
