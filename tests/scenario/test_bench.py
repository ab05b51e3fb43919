"""The benchmarks run and print their tables (tiny sizes: this tests that
sim bench works and reports what it says, not how fast anything is)."""
import json
import os
import re

from simtest import ROOT, Failures, run, tmpdir

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

    check_all(f)
    f.finish()


# The rows of `sim bench` (all), by JSON id; None: the row has no ratio.
ALL_ROWS = {
    "ceiling": "the ceiling", "kernel": "/ ceiling", "kernel_traced": "/ trace off",
    "model:leader_follower_async": "/ kernel", "model:leader_follower_sync": "/ kernel",
    "model:multi_leader_lww__2_DCs": "/ kernel", "model:quorum_n3_w2_r2": "/ kernel",
    "model:raft": "/ kernel", "model:multipaxos": "/ kernel",
    "trace_overhead": "/ raft, trace off",
    "check_etcd": "Porcupine ms / ours", "check_kv": "Porcupine ms / ours", "check_generated": None,
    "sweep_j1": "/ kernel", "sweep_j2": "/ sweep -j1", "report": "/ the traced run",
}


def table_rows(out):
    """The table's rows as {label: [cells]} (the note cell last)."""
    rows = {}
    for line in out.splitlines():
        if not line.startswith("| ") or line.startswith("| benchmark "):
            continue
        cells = [c.strip() for c in line[1:].split(" | ")]
        rows[cells[0]] = cells
    return rows


def check_all(f):
    """sim bench --quick: one table with every row, sane ratios, and --json the same figures."""
    with tmpdir() as d:
        jpath = os.path.join(d, "bench.json")
        rc, out, err = run("bench", "--quick", "--json", jpath, timeout=600)
        f.check(rc == 0, f"bench --quick: exit {rc}: {err}")
        f.check(out.startswith("sim bench --quick: every benchmark"), f"bench --quick: title: {out[:200]}")
        f.check(re.search(r"^\d+ rows in [0-9.]+ s$", out, re.M), f"bench --quick: no closing line: {out}")
        rows = table_rows(out)
        try:
            with open(jpath, encoding="utf-8") as fh:
                doc = json.load(fh)
        except (OSError, ValueError) as e:
            f.check(False, f"bench --quick --json: {e}")
            return
        f.check(doc.get("bench") == "all" and doc.get("quick") is True, f"bench json header: {doc}")
        by_id = {r["id"]: r for r in doc.get("rows", [])}
        f.check(list(by_id) == list(ALL_ROWS), f"bench json rows: {list(by_id)}")
        f.check(len(rows) == len(doc.get("rows", [])), f"bench: {len(rows)} table rows, json {len(doc.get('rows', []))}")
        have_data = os.path.isdir(DATA)
        for rid, ratio_of in ALL_ROWS.items():
            r = by_id.get(rid)
            if r is None:
                continue
            cells = rows.get(r["benchmark"])
            f.check(cells is not None and len(cells) == 7, f"bench: no table row {r['benchmark']!r}: {out}")
            if cells is None or len(cells) != 7:
                continue
            # the table prints what the json holds
            for col, key in ((1, "events_per_s"), (2, "value"), (4, "ratio")):
                same = cells[col] == "-" if r[key] is None else (
                    re.fullmatch(r"[0-9]+(\.[0-9]+)?", cells[col]) is not None and float(cells[col]) == r[key])
                f.check(same, f"bench {rid}: table {cells[col]!r} json {key}={r[key]!r}")
            f.check(cells[3] == (r["unit"] or "-") and cells[5] == (r["ratio_is"] or "-"),
                    f"bench {rid}: unit/ratio-is {cells[3:6]} json {r}")
            f.check(cells[6] == r["note"], f"bench {rid}: note {cells[6]!r} json {r['note']!r}")
            expect_ratio = ratio_of is not None and (have_data or not rid.startswith("check_"))
            if expect_ratio:
                f.check(r["ratio"] is not None and r["ratio"] > 0 and r["ratio_is"] == ratio_of,
                        f"bench {rid}: ratio {r['ratio']!r} ({r['ratio_is']!r}), expected a positive one of {ratio_of}")
            for key in ("events_per_s", "value"):
                f.check(r[key] is None or r[key] >= 0, f"bench {rid}: {key} {r[key]}")
        f.check(by_id.get("ceiling", {}).get("ratio") == 1.0, "bench: the ceiling's ratio is not 1")
        for rid in ("ceiling", "kernel", "kernel_traced", "model:raft", "trace_overhead", "sweep_j1",
                    "sweep_j2", "report"):
            f.check(((by_id.get(rid) or {}).get("events_per_s") or 0) > 0, f"bench {rid}: no events/s")
        f.check(((by_id.get("kernel_traced") or {}).get("value") or 0) > 0, "bench: no trace bytes per event")
        if have_data:
            f.check("verdicts as expected" in (by_id.get("check_etcd") or {}).get("note", ""),
                    f"bench check_etcd: {by_id.get('check_etcd')}")

        # without the reference histories the checker rows say so, and nothing fails
        rc, out, err = run("bench", "all", "--quick", "--data", os.path.join(d, "nothing-here"),
                           "--json", "-", timeout=600)
        f.check(rc == 0, f"bench --data missing: exit {rc}: {err}")
        try:
            doc = json.loads(out)
            by_id = {r["id"]: r for r in doc["rows"]}
            for rid in ("check_etcd", "check_kv"):
                f.check(by_id[rid]["ratio"] is None and "no data" in by_id[rid]["note"],
                        f"bench --data missing: {by_id[rid]}")
            f.check(by_id["check_generated"]["value"] > 0, f"bench --data missing: {by_id['check_generated']}")
        except (ValueError, KeyError) as e:
            f.check(False, f"bench --json -: {e}: {out[:300]}")
        f.check("| checker: etcd histories (Jepsen)" in err, f"bench --json -: the table is not on stderr: {err[:300]}")

    for args, what in ((("--bogus",), "unknown option"), (("--json",), "needs a value"),
                       (("--repeat", "0"), "bad option --repeat")):
        rc, out, err = run("bench", *args)
        f.check(rc == 2 and what in err, f"bench {args}: exit {rc} {err}")
    rc, out, err = run("bench", "--help")
    f.check(rc == 0 and "--quick" in out and "--json FILE" in out, f"bench --help: {out[:300]}")


if __name__ == "__main__":
    main()
