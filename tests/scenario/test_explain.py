"""sim run --explain (class mode) tells a run in plain words: the partition
and the heal, the stale reads of scenario 05 (checked against the trace),
the new leaders of scenario 20; the summary still follows, the trace is the
same with and without it, and the narration is capped."""
import os
import re

from simtest import SCENARIOS, Failures, read_trace, run, tmpdir

Q05 = os.path.join(SCENARIOS, "05_quorum_w1_r1_stale_reads.lua")
R20 = os.path.join(SCENARIOS, "20_raft_leader_crash.lua")
STALE = re.compile(r"^t=(\d+\.\d{3}) s  (c\d+)'s read of (\w+) returned (\d+|nothing.*?), a stale "
                   r"(value|answer): (c\d+)'s write of (\d+) had completed at t=(\d+\.\d{3}) s")


def test_partition_and_stale_reads(f, d):
    t = os.path.join(d, "05.jsonl")
    rc, out, err = run("run", Q05, "--seed", "3", "--explain", "--trace", t)
    f.check(rc == 0, f"05 --explain: exit {rc}: {err[:300]}")
    lines = out.splitlines()
    f.check(any(l.startswith("t=0.500 s  the network splits: {n1, c1} | {n2, n3, c2, c3}") for l in lines),
            "05: no partition sentence:\n" + out[:2000])
    f.check(any(l.startswith("t=1.500 s  the network heals") for l in lines), "05: no heal sentence")
    stale = [m for m in (STALE.match(l) for l in lines) if m]
    f.check(len(stale) >= 5, f"05: {len(stale)} stale-read sentences, expected several")
    f.check(any("more stale reads not shown" in l for l in lines), "05: the narration is not capped")
    f.check(sum(1 for l in lines if "stale" in l and l.startswith("t=")) <= 20, "05: more than 20 stale lines")
    f.check(any(l.startswith("scenario    ") for l in lines), "05: the summary does not follow")
    f.check(lines.index(next(l for l in lines if l.startswith("scenario    "))) > 0,
            "05: the narration does not come first")
    # every stale sentence is true of the trace: the missed write completed
    # before the read began, and the read returned an older value
    tr = read_trace(t)
    invoked, done = {}, []
    for e in tr:
        if e.get("ev") == "invoke":
            invoked[e["op"]] = e
        elif e.get("ev") == "ok":
            done.append((e, invoked[e["op"]]))
    for m in stale:
        at, client, key, value, _, wclient, wvalue, wdone = m.groups()
        reads = [(e, i) for e, i in done if e["f"] == "read" and e["client"] == client and e["key"] == key
                 and abs(e["t"] / 1e9 - float(at)) < 0.0006]
        writes = [(e, i) for e, i in done if e["f"] == "write" and e["client"] == wclient
                  and e["key"] == key and e["value"] == int(wvalue)]
        f.check(len(reads) >= 1 and len(writes) == 1, f"05: no such read and write in the trace: {m.group(0)}")
        if reads and writes:
            r, ri = reads[0]
            w, _ = writes[0]
            f.check(w["t"] < ri["t"], f"05: the missed write did not complete before the read: {m.group(0)}")
            f.check(value.startswith("nothing") or r["value"] == int(value), f"05: wrong value read: {m.group(0)}")


def test_same_trace_with_and_without(f, d):
    a, b = os.path.join(d, "a.jsonl"), os.path.join(d, "b.jsonl")
    run("run", Q05, "--seed", "2", "--quiet", "--trace", a)
    rc, out, err = run("run", Q05, "--seed", "2", "--explain", "--trace", b)
    f.check(rc == 0, f"05 seed 2 --explain: exit {rc}")
    with open(a, "rb") as fa, open(b, "rb") as fb:
        f.check(fa.read() == fb.read(), "--explain changed the trace")


def test_new_leader_and_no_trace(f, d):
    rc, out, err = run("run", R20, "--seed", "1", "--explain", "--no-trace", cwd=d)
    f.check(rc == 0, f"20 --explain --no-trace: exit {rc}: {err[:300]}")
    f.check(re.search(r"^t=\d+\.\d{3} s  n\d becomes leader in term \d+$", out, re.M) is not None,
            "20: no 'becomes leader' sentence:\n" + out[:2000])
    f.check(re.search(r"^t=\d+\.\d{3} s  n\d crashes", out, re.M) is not None, "20: no crash sentence")
    f.check("trace       " not in out, "20: --no-trace --explain reports a trace")
    f.check(not os.path.exists(os.path.join(d, "traces")), "20: --no-trace --explain wrote a trace")


def test_trace_to_stdout_keeps_json(f, d):
    rc, out, err = run("run", R20, "--seed", "1", "--explain", "--trace", "-")
    f.check(rc == 0, f"20 --trace - --explain: exit {rc}")
    f.check(all(l.startswith("{") for l in out.splitlines()), "--trace - --explain mixed prose into the trace")
    f.check("becomes leader" in err, "--trace - --explain: the narration is not on stderr")


def test_locks_paxos_and_the_patterns(f, d):
    for name, want in (("50_lock_gc_pause.lua", "n2 accepts n3's write with token 1, though a newer token has written"),
                       ("52_lock_fencing_tokens.lua", "n2 rejects n3's write with token 1: it has seen token 3 (fencing)"),
                       ("30_paxos_dueling_proposers.lua", "n1 learns that x is chosen: 5 (ballot 171.n5), forever"),   # jitter
                       ("63_hashring_join_leave.lua", "n1 sees n5 leave: 1852 of 10000 keys change owner on the ring, "
                        "where hash mod N would move 7978"),
                       ("71_eventlog_commit_after_duplicates.lua", "n1 rebalances group g1 (generation 2): n4 takes "
                        "partitions 0, 1; n6 takes partition 2: each resumes from the group's last committed offset"),
                       ("74_eventlog_acks_leader_crash.lua", "n1 makes n3 leader of partition 1 in place of n2; its log "
                        "ends at offset 31"),
                       ("74_eventlog_acks_leader_crash.lua", "n2 cuts its log of partition 1 back from 43 to 31 records "
                        "to follow the new leader: the 12 records only it had are gone"),
                       ("82_circuit_breaker.lua", "api's circuit breaker for payments opens: calls to it now fail at once"),
                       ("82_circuit_breaker.lua", "api's circuit breaker for payments closes: calls go through again")):
        extra = ("--param", "jitter=true") if name.startswith("30_") else ()
        rc, out, err = run("run", os.path.join(SCENARIOS, name), "--seed", "1", *extra, "--explain", "--trace",
                           os.path.join(d, name + ".jsonl"))
        f.check(rc == 0, f"{name} --explain: exit {rc}")
        f.check(want in out, f"{name}: no sentence {want!r}:\n" + out[:2000])


def test_help_names_it(f, d):
    rc, out, err = run("run", "--help")
    f.check("--explain" in out + err, "sim run --help does not mention --explain")


def main():
    f = Failures()
    with tmpdir() as d:
        for t in (test_partition_and_stale_reads, test_same_trace_with_and_without,
                  test_new_leader_and_no_trace, test_trace_to_stdout_keeps_json, test_locks_paxos_and_the_patterns,
                  test_help_names_it):
            t(f, d)
    f.finish()


if __name__ == "__main__":
    main()
