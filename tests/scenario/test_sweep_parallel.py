"""tools/sweep-parallel.sh: GNU parallel runs one shard per job slot (local
slots standing in for hosts) and the merged summary is the unsharded
sweep's. Skipped (exit 77) where GNU parallel is not installed (Debian
package: parallel)."""
import os
import shutil
import subprocess
import sys

from simtest import ROOT, SIM, Failures, run, tmpdir, write_scenario
from test_sweep import BUGGY, lines, without_wall


def main():
    if not shutil.which("parallel"):
        print("SKIP: GNU parallel is not installed (apt-get install parallel)")
        sys.exit(77)
    f = Failures()
    script = os.path.join(ROOT, "tools", "sweep-parallel.sh")
    with tmpdir() as d:
        write_scenario(d, "buggy.lua", BUGGY)
        env = dict(os.environ, SIM=SIM, PARALLEL_JOBS="3")
        p = subprocess.run(["sh", script, "buggy.lua", "1..30", "5", "par"], cwd=d, env=env,
                           capture_output=True, text=True, timeout=300)
        f.check(p.returncode == 1, f"the recipe exits as the merge does (1: failing seeds): {p.returncode} "
                f"{p.stderr[-400:]}")
        rc, full, _ = run("sweep", "buggy.lua", "--seeds", "1..30", "--out", "full.jsonl", "--quiet", cwd=d)
        f.check(without_wall(p.stdout) == without_wall(full),
                f"merged summary:\n{p.stdout}\nunsharded:\n{full}")
        _, merged = lines(os.path.join(d, "par", "merged.jsonl"))
        _, whole = lines(os.path.join(d, "full.jsonl"))
        strip = lambda rows: [{k: v for k, v in r.items() if k != "wall"} for r in rows]  # noqa: E731
        f.check(strip(merged) == strip(whole), "merged results = unsharded results")
        for k in range(1, 6):
            header, rows = lines(os.path.join(d, "par", f"results-{k}.jsonl"))
            f.check(header.get("shard") == f"{k}/5" and all((int(r["seed"]) - 1) % 5 == k - 1 for r in rows),
                    f"shard {k} holds its seeds")
        # options after -- reach every shard
        p = subprocess.run(["sh", script, "buggy.lua", "1..6", "2", "par2", "--", "--swarm"], cwd=d, env=env,
                           capture_output=True, text=True, timeout=300)
        header, _ = lines(os.path.join(d, "par2", "merged.jsonl"))
        f.check(header.get("swarm") is True, f"--swarm passed through: {header} {p.stderr[-300:]}")
        p = subprocess.run(["sh", script, "buggy.lua", "1..6"], cwd=d, env=env, capture_output=True, text=True)
        f.check(p.returncode == 2 and "usage" in p.stderr, "usage error")
    f.finish()


if __name__ == "__main__":
    main()
