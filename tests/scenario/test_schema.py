"""Lines of real traces validate against docs/trace-schema.json (every line
of each shape up to 200, then one in 50), and every event type the traces
show is documented in docs/trace-format.md."""
import json
import os

import jsonschema

from simtest import ROOT, Failures, read_trace, run, shipped_scenarios, tmpdir


def main():
    f = Failures()
    with open(os.path.join(ROOT, "docs", "trace-schema.json")) as fh:
        schema = json.load(fh)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    seen = set()
    with tmpdir() as d:
        for i, sc in enumerate(shipped_scenarios()):
            t = os.path.join(d, f"{i}.jsonl")
            rc, out, err = run("run", sc, "--seed", "3", "--trace", t, "--quiet")
            f.check(rc in (0, 1), f"{sc}: exit {rc}: {err}")
            shapes = {}
            for n, ev in enumerate(read_trace(t), 1):
                seen.add(ev.get("ev"))
                # every line of a rare shape, then one in 50: jsonschema is slow,
                # and a long trace is mostly the same few shapes of send/deliver
                msg = ev.get("msg")
                shape = (ev.get("ev"), msg.get("type") if isinstance(msg, dict) else None,
                         ev.get("what"), ev.get("f"), "values" in ev)
                shapes[shape] = shapes.get(shape, 0) + 1
                if shapes[shape] > 200 and n % 50:
                    continue
                errors = sorted(validator.iter_errors(ev), key=lambda e: list(e.path))
                f.check(not errors, f"{sc} line {n}: {errors[0].message if errors else ''}: {json.dumps(ev)[:200]}")
                if errors:
                    break
    with open(os.path.join(ROOT, "docs", "trace-format.md")) as fh:
        doc = fh.read()
    for ev in sorted(seen):
        f.check(f"`{ev}`" in doc, f"event type {ev!r} appears in traces but not in docs/trace-format.md")
    f.check({"header", "cluster", "send", "deliver", "invoke", "ok", "state", "end"} <= seen,
            f"the shipped scenarios produced too few event types: {sorted(seen)}")
    f.finish()


if __name__ == "__main__":
    main()
