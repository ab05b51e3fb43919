#!/usr/bin/env python3
"""Wall time and peak memory of bench/hashring_100k.lua, and of the same
scenario at 1,000 and 10,000 nodes, measured in one run of this script.

    tools/bench_scale.py [BUILD_DIR] [--trace]

Each size runs in its own sim process (tracing off unless --trace); peak
memory is that process's maximum resident set (getrusage of the child),
divided by the number of nodes for "per node". The wall clock is read here,
never by the simulator. Prints one row per size and the ratios between them."""
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def run_size(sim, text, nodes, trace, d):
    victim = f"n{nodes * 7 // 9 + 1}"          # n77777 at 100,000
    body = text.replace("nodes = 100000", f"nodes = {nodes}").replace("n77777", victim)
    path = os.path.join(d, f"scale{nodes}.lua")
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)
    out = ["--trace", os.path.join(d, f"t{nodes}.jsonl")] if trace else ["--no-trace"]
    # a child of its own so its peak RSS is not mixed with earlier sizes
    probe = ("import resource,subprocess,sys,time;t=time.monotonic();"
             "p=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
             "w=time.monotonic()-t;"
             "print(p.returncode,w,resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
             "sys.stderr.write(p.stdout+p.stderr)")
    p = subprocess.run([sys.executable, "-c", probe, sim, "run", path, "--seed", "1", *out],
                       capture_output=True, text=True)
    rc, wall, kib = p.stdout.split()
    events = next((l.split()[-2] for l in p.stderr.splitlines() if l.startswith("simulated")), "?")
    return int(rc), float(wall), int(kib), events


def main():
    build = next((a for a in sys.argv[1:] if not a.startswith("--")), os.path.join(ROOT, "build"))
    trace = "--trace" in sys.argv
    sim = os.path.join(build, "sim")
    with open(os.path.join(ROOT, "bench", "hashring_100k.lua"), encoding="utf-8") as f:
        text = f.read()
    print(f"{'nodes':>8} {'exit':>4} {'wall_s':>7} {'events':>9} {'peak_MiB':>9} {'B/node':>7}")
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as d:
        for nodes in (1000, 10000, 100000):
            rc, wall, kib, events = run_size(sim, text, nodes, trace, d)
            rows[nodes] = (wall, kib)
            print(f"{nodes:>8} {rc:>4} {wall:>7.2f} {events:>9} {kib / 1024:>9.1f} {kib * 1024 / nodes:>7.0f}",
                  flush=True)
    w1, k1 = rows[10000]
    w2, k2 = rows[100000]
    print(f"100,000 vs 10,000 nodes: wall x{w2 / w1:.2f}, peak memory x{k2 / k1:.2f} (10x the nodes)")


if __name__ == "__main__":
    main()
