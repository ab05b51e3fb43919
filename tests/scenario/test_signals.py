"""SIGINT and SIGTERM stop sim run cleanly (exit 130, a valid trace with its
final states, an error line and a summary); SIGKILL leaves a trace without
its end line that sim check still reads, saying it is incomplete."""
import json
import os
import signal
import subprocess
import time

from simtest import SIM, Failures, run, tmpdir, write_scenario

LONG = """cluster{ model = "leader_follower", nodes = 3 }
workload{ clients = 4 }
nemesis{ faults = { "partition", "crash" }, intensity = 2 }
run(s(100000))
"""


def start(path, trace):
    return subprocess.Popen([SIM, "run", path, "--trace", trace], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_for_trace(trace, size=200_000, limit=30.0):
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if os.path.exists(trace) and os.path.getsize(trace) > size:
            return True
        time.sleep(0.05)
    return False


def lines_of(trace):
    with open(trace, "rb") as fh:
        data = fh.read()
    return data, data.split(b"\n")


def main():
    f = Failures()
    with tmpdir() as d:
        path = write_scenario(d, "long.lua", LONG)
        for sig in (signal.SIGINT, signal.SIGTERM):
            trace = os.path.join(d, f"sig{int(sig)}.jsonl")
            p = start(path, trace)
            f.check(wait_for_trace(trace), f"{sig.name}: the run wrote no trace")
            p.send_signal(sig)
            out, err = p.communicate(timeout=60)
            f.check(p.returncode == 130, f"{sig.name}: exit {p.returncode}, expected 130: {err[-300:]}")
            f.check("run: interrupted at" in err and "operations" in err,
                    f"{sig.name}: no summary and reason on stderr: {err[-400:]!r}")
            data, lines = lines_of(trace)
            f.check(data.endswith(b"\n"), f"{sig.name}: the trace ends mid-line")
            events = [json.loads(x) for x in lines if x]
            kinds = [e["ev"] for e in events]
            f.check("end" in kinds and kinds[-1] == "error" and events[-1]["exit"] == 130,
                    f"{sig.name}: trace ends {kinds[-3:]}")
            f.check(kinds.count("state") == 3, f"{sig.name}: {kinds.count('state')} final states")
            rc, out, err = run("check", trace, "--only", "converges,invariants", "--json")
            f.check(rc in (0, 1, 3) and json.loads(out)["trace"]["complete"] is True,
                    f"{sig.name}: sim check exit {rc}: {err.strip()}")

        # SIGKILL: no chance to finish; the trace is a prefix, probably cut mid-line
        trace = os.path.join(d, "kill.jsonl")
        p = start(path, trace)
        f.check(wait_for_trace(trace, 1_000_000), "SIGKILL: the run wrote no trace")
        p.kill()
        p.communicate(timeout=60)
        f.check(p.returncode == -signal.SIGKILL, f"SIGKILL: returncode {p.returncode}")
        rc, out, err = run("check", trace, "--only", "converges,invariants", "--json")
        f.check(rc in (0, 1, 3), f"SIGKILL: sim check exit {rc}: {err.strip()}")
        if rc in (0, 1, 3):
            doc = json.loads(out)
            f.check(doc["trace"]["complete"] is False, f"SIGKILL: trace complete? {doc['trace']}")
    f.finish()


if __name__ == "__main__":
    main()
