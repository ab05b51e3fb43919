"""sim replay: identical traces exit 0; a changed line is found and shown."""
import os

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
    f.finish()


if __name__ == "__main__":
    main()
