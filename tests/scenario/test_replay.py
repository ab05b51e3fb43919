"""sim replay: identical traces exit 0; a changed line is found and shown;
a trace longer than the new run, a changed or missing scenario, a forged
header and bad usage each get their own clear message."""
import os
import shutil

from simtest import Failures, run, shipped_scenarios, tmpdir


def main():
    f = Failures()
    sc = shipped_scenarios()[0]
    with tmpdir() as d:
        t = os.path.join(d, "t.jsonl")
        rc, out, err = run("run", sc, "--seed", "5", "--trace", t, "--quiet")
        f.check(rc in (0, 1), f"run exit {rc}: {err}")
        rc, out, err = run("replay", t)
        f.check(rc == 0 and "identical" in out, f"replay of an untouched trace: exit {rc} {out}")

        with open(t) as fh:
            lines = fh.readlines()
        f.check(len(lines) > 20, "trace too short to tamper with")
        k = len(lines) // 2
        tampered = os.path.join(d, "tampered.jsonl")
        changed = lines[:k] + [lines[k].replace('"t":', '"t":1') ] + lines[k + 1:]
        with open(tampered, "w") as fh:
            fh.writelines(changed)
        rc, out, err = run("replay", tampered)
        f.check(rc == 1, f"replay of a tampered trace: exit {rc}")
        f.check(f":{k + 1}:" in out and "old:" in out and "new:" in out,
                f"replay does not name line {k + 1} with old and new: {out!r}")

        cut = os.path.join(d, "cut.jsonl")
        with open(cut, "w") as fh:
            fh.writelines(lines[:k])
        rc, out, err = run("replay", cut)
        f.check(rc == 1 and "cut short" in out, f"replay of a cut trace: exit {rc} {out!r}")

        # a different seed in the header is a different run
        other = os.path.join(d, "other.jsonl")
        with open(other, "w") as fh:
            fh.writelines([lines[0].replace('"seed":"5"', '"seed":"6"')] + lines[1:])
        rc, out, err = run("replay", other)
        f.check(rc == 1, f"replay with another seed in the header: exit {rc}")

        # a trace that goes on after the new run ends
        longer = os.path.join(d, "longer.jsonl")
        with open(longer, "w") as fh:
            fh.writelines(lines + [lines[-1]])
        rc, out, err = run("replay", longer)
        f.check(rc == 1 and "the new run ends at line" in out and "goes on" in out,
                f"replay of a longer trace: exit {rc} {out!r}")

        # the scenario changed since the trace: a warning, then the difference
        own = os.path.join(d, "own.lua")
        shutil.copy(sc, own)
        t2 = os.path.join(d, "own.jsonl")
        rc, _, err = run("run", own, "--seed", "5", "--trace", t2, "--quiet")
        with open(own, "a") as fh:
            fh.write("\n-- edited\n")
        rc, out, err = run("replay", t2)
        f.check("changed since the trace was written" in err, f"no warning for an edited scenario: {err!r}")
        # ... or is gone
        os.remove(own)
        rc, out, err = run("replay", t2)
        f.check(rc != 0 and "scenario is gone" in err and err.count("\n") == 1,
                f"replay without its scenario: exit {rc} {err!r}")

        # a header parameter that is not a string is a corrupt trace
        forged = os.path.join(d, "forged.jsonl")
        with open(forged, "w") as fh:
            fh.writelines([lines[0].replace('"params":{}', '"params":{"x":5}')] + lines[1:])
        if '"params":{}' in lines[0]:
            rc, out, err = run("replay", forged)
            f.check(rc == 6 and "not a string" in err, f"forged header parameter: exit {rc} {err!r}")

        # usage
        rc, _, err = run("replay")
        f.check(rc == 2 and "which trace" in err, f"replay without a trace: exit {rc} {err!r}")
        rc, _, err = run("replay", "--frobnicate", t)
        f.check(rc == 2 and "unknown option" in err, f"unknown option: exit {rc} {err!r}")
        rc, _, err = run("replay", t, t)
        f.check(rc == 2 and "one trace at a time" in err, f"two traces: exit {rc} {err!r}")
        rc, out, _ = run("replay", "--quiet", t)
        f.check(rc == 0 and out.strip() == "", f"replay --quiet of an identical trace: exit {rc} {out!r}")
    f.finish()


if __name__ == "__main__":
    main()
