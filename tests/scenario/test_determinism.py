"""Determinism across processes: every shipped scenario, three seeds, each
run twice in separate processes, must give byte-identical traces; different
seeds must give different traces; replay must say identical."""
import filecmp
import os

from simtest import Failures, run, shipped_scenarios, tmpdir

SEEDS = ["1", "2", "18446744073709551615"]


def main():
    f = Failures()
    scenarios = shipped_scenarios()
    f.check(len(scenarios) >= 4, f"expected at least 4 shipped scenarios, found {len(scenarios)}")
    uses_pairs = False
    with tmpdir() as d:
        for sc in scenarios:
            name = os.path.basename(sc)[:-4]
            with open(sc) as s:
                uses_pairs |= "pairs(" in s.read().replace("ipairs(", "")
            traces = {}
            for seed in SEEDS:
                paths = []
                for attempt in ("a", "b"):
                    p = os.path.join(d, f"{name}-{seed}-{attempt}.jsonl")
                    rc, out, err = run("run", sc, "--seed", seed, "--trace", p, "--quiet")
                    f.check(rc in (0, 1), f"{name} seed {seed}: exit {rc}: {err.strip()}")
                    paths.append(p)
                f.check(filecmp.cmp(paths[0], paths[1], shallow=False),
                        f"{name} seed {seed}: two processes wrote different traces")
                traces[seed] = paths[0]
            f.check(not filecmp.cmp(traces["1"], traces["2"], shallow=False),
                    f"{name}: seeds 1 and 2 gave the same trace")
            rc, out, err = run("replay", traces["2"])
            f.check(rc == 0 and "identical" in out, f"{name}: replay exit {rc}: {out} {err}")
    f.check(uses_pairs, "no shipped scenario iterates a table with pairs")
    f.finish()


if __name__ == "__main__":
    main()
