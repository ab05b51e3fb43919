"""The cache and hashring scenarios (60-63) show what their comments say, on
several seeds, read from the trace and from sim check's evidence: how stale
cache-aside reads are and for how long, that write-through has none, which
acknowledged writes write-behind loses in a crash, and how many keys a
consistent-hash ring moves on a leave and a join against modulo hashing."""
import json
import os

from simtest import Failures, notes, read_trace, run, run_traced, SCENARIOS, tmpdir

SEEDS = ["1", "2", "3"]
MS = 1_000_000


def trace(f, d, name, seed, *extra, codes=(0,)):
    return run_traced(f, d, name, seed, *extra, code=codes)


def checked(f, path, only):
    """name -> the checker's JSON object, with evidence."""
    rc, out, err = run("check", path, "--json", "--only", only)
    f.check(rc in (0, 1, 3), f"check {path}: exit {rc}: {err.strip()[:300]}")
    try:
        return {c["name"]: c for c in json.loads(out).get("checkers", [])}
    except ValueError:
        f.check(False, f"check {path}: not JSON")
        return {}


def ops(tr):
    """op id -> {invoke, complete, server}: server is the node whose ok reply decided it."""
    out, server = {}, {}
    for e in tr:
        if e["ev"] == "invoke":
            out[e["op"]] = {"invoke": e, "complete": None}
        elif e["ev"] in ("ok", "fail", "info") and e.get("op") in out:
            out[e["op"]]["complete"] = e
        elif e["ev"] == "send" and e["msg"].get("type") == "reply" and e["msg"].get("status") == "ok":
            server[e["msg"]["op"]] = e["from"]
    for op_id, o in out.items():
        o["server"] = server.get(op_id)
    return out


def test_60_aside(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "60_cache_aside_stale_reads", seed)
        st = checked(f, path, "staleness,no_lost_writes").get("staleness", {})
        ev = st.get("evidence", {})
        f.check(st.get("verdict") == "violated", f"60 seed {seed}: staleness {st.get('verdict')}")
        per = {c["client"]: c for c in ev.get("per_client", [])}
        c2, c3 = per.get("c2", {}).get("stale", 0), per.get("c3", {}).get("stale", 0)
        # the reader behind the other cache (n3) is the stale one; n2's own
        # reader only through the fill-after-invalidate race, rarely
        f.check(c2 >= 10 and c2 >= 10 * c3, f"60 seed {seed}: stale reads c2 {c2}, c3 {c3}")
        # how long: never more than the TTL (300 ms) plus a fetch
        f.check(0 < ev.get("max_ns", 0) <= 320 * MS, f"60 seed {seed}: stale by up to {ev.get('max_ns')} ns")
        o = ops(tr)
        for w in ev.get("worst", []):
            f.check(o[w["read"]["op"]]["server"] == "n3" or w["read"]["process"] == "c3",
                    f"60 seed {seed}: a stale read served by {o[w['read']['op']]['server']}")
        # only the store publishes a map; the caches their "cached" entries
        states = {e["node"]: e["state"] for e in tr if e["ev"] == "state"}
        f.check("map" in states.get("n1", {}) and all("map" not in states[n] for n in ("n2", "n3")),
                f"60 seed {seed}: only n1 should publish a map: {sorted(states)}")
        # a shorter TTL bounds the staleness tighter
        path, tr = trace(f, d, "60_cache_aside_stale_reads", seed, "--param", "ttl=100ms", codes=(0, 1))
        ev = checked(f, path, "staleness").get("staleness", {}).get("evidence", {})
        f.check(0 < ev.get("max_ns", 0) <= 120 * MS, f"60 ttl=100ms seed {seed}: stale by {ev.get('max_ns')} ns")
        # without invalidation n2's own reader is stale too
        path, tr = trace(f, d, "60_cache_aside_stale_reads", seed, "--param", "invalidate=false", codes=(0, 1))
        ev = checked(f, path, "staleness").get("staleness", {}).get("evidence", {})
        per = {c["client"]: c for c in ev.get("per_client", [])}
        f.check(per.get("c3", {}).get("stale", 0) >= 10,
                f"60 invalidate=false seed {seed}: c3 stale {per.get('c3')}")


def test_61_through(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "61_cache_write_through", seed)
        v = checked(f, path, "staleness,linearizable")
        f.check(v.get("staleness", {}).get("verdict") == "holds", f"61 seed {seed}: staleness")
        f.check(v.get("linearizable", {}).get("verdict") == "holds", f"61 seed {seed}: linearizable")
        # every acknowledged write was stored (put_ok reached n2) before its ok
        put_ok, puts, put_ok_sends = {}, {}, {}
        for pos, e in enumerate(tr):
            if e["ev"] == "send" and e["msg"].get("type") == "put":
                puts[e["msg"]["req"]] = e["msg"]["op"]
            elif e["ev"] == "send" and e["msg"].get("type") == "put_ok":
                put_ok_sends[e["id"]] = e["msg"]["req"]
            elif e["ev"] == "deliver" and e["id"] in put_ok_sends and e["to"] == "n2":
                put_ok.setdefault(puts.get(put_ok_sends[e["id"]]), pos)
        writes = [(pos, e) for pos, e in enumerate(tr) if e["ev"] == "ok" and e["f"] == "write"]
        f.check(writes and all(e["op"] in put_ok and put_ok[e["op"]] < pos for pos, e in writes),
                f"61 seed {seed}: a write acknowledged before the store had it")
        # the same crash as 62 loses nothing under write-through
        path, tr = trace(f, d, "62_cache_write_behind_crash", seed, "--param", "policy=through", codes=(0, 1))
        v = checked(f, path, "no_lost_writes")
        f.check(v.get("no_lost_writes", {}).get("verdict") == "holds",
                f"62 as write-through seed {seed}: no_lost_writes {v.get('no_lost_writes', {}).get('reason')}")


def test_62_behind(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "62_cache_write_behind_crash", seed)
        v = checked(f, path, "no_lost_writes")
        nl = v.get("no_lost_writes", {})
        f.check(nl.get("verdict") == "violated", f"62 seed {seed}: no_lost_writes {nl.get('verdict')}")
        lost = {w["op"] for w in nl.get("evidence", {}).get("lost", [])}
        crash = [e["t"] for e in tr if e["ev"] == "crash" and e.get("node") == "n2"]
        f.check(len(crash) == 1, f"62 seed {seed}: crashes of n2 {crash}")
        crash_t = crash[0] if crash else 0
        flushed = {e["op"] for e in notes(tr, "flushed", "n2") if e["t"] < crash_t}
        flushes = notes(tr, "flush", "n2")
        f.check(len(flushes) >= 2 and all(e["t"] < crash_t for e in flushes[:2]),
                f"62 seed {seed}: flushes {[e['t'] for e in flushes]}")
        last_flush = max((e["t"] for e in flushes if e["t"] < crash_t), default=0)
        acked = {e["op"]: e for e in tr if e["ev"] == "ok" and e["f"] == "write"}
        # what the checker calls lost is exactly what n2 acknowledged, never
        # flushed, and nobody overwrote in the store afterwards
        f.check(len(lost) >= 3, f"62 seed {seed}: only {len(lost)} lost writes")
        f.check(all(op in acked and op not in flushed for op in lost),
                f"62 seed {seed}: a lost write was flushed or never acknowledged: {sorted(lost)[:5]}")
        f.check(all(acked[op]["t"] > last_flush - 5 * MS for op in lost),
                f"62 seed {seed}: a lost write acknowledged well before the last flush")
        unflushed = {op for op, e in acked.items() if op not in flushed and last_flush < e["t"] < crash_t}
        f.check(lost <= unflushed | {op for op, e in acked.items() if op not in flushed},
                f"62 seed {seed}: lost {sorted(lost - unflushed)[:5]}")
        # the last acknowledged write of each key before the crash is lost
        last = {}
        for op, e in sorted(acked.items(), key=lambda x: x[1]["t"]):
            if e["t"] < crash_t:
                last[e["key"]] = op
        f.check(all(op in lost for op in last.values() if op not in flushed),
                f"62 seed {seed}: a key's last acknowledged, unflushed write is not reported lost")
        # the store's final map holds only flushed values
        final = next((e["state"]["map"] for e in tr if e["ev"] == "state" and e["node"] == "n1"), {})
        flushed_values = {(e["key"], e["value"]) for e in notes(tr, "flushed", "n2")}
        f.check(final and all((k, v) in flushed_values for k, v in final.items()),
                f"62 seed {seed}: the store holds a value never flushed: {final}")


def test_63_hashring(f, d):
    for seed in SEEDS:
        path, tr = trace(f, d, "63_hashring_join_leave", seed)
        for change, members_before in (("leave", 5), ("join", 4)):
            got = [e for e in notes(tr, "rebalance") if e["change"] == change and e["member"] == "n5"]
            f.check({e["node"] for e in got} == {"n1", "n2", "n3", "n4"},
                    f"63 seed {seed}: {change} noted by {[e['node'] for e in got]}")
            for e in got:
                n = max(members_before, e["members"])
                # about K/N keys move; modulo placement moves about (N-1)/N
                f.check(0.5 / n <= e["fraction"] <= 2.0 / n, f"63 seed {seed}: {change} moved {e['fraction']}")
                f.check(e["moved"] == round(e["fraction"] * e["total"]), f"63 seed {seed}: moved/total")
                f.check(e["modulo_fraction"] >= 0.6 and e["modulo_fraction"] >= 3 * e["fraction"],
                        f"63 seed {seed}: modulo moved only {e['modulo_fraction']}")
        leave = [e["t"] for e in notes(tr, "rebalance") if e["change"] == "leave"]
        f.check(leave and all(600 * MS <= t <= 800 * MS for t in leave), f"63 seed {seed}: leaves at {leave}")
        join = [e["t"] for e in notes(tr, "rebalance") if e["change"] == "join"]
        f.check(join and all(1500 * MS <= t <= 1700 * MS for t in join), f"63 seed {seed}: joins at {join}")
    # more virtual nodes: a narrower spread of keys per node
    spread = []
    for v in ("1", "64", "1024"):
        path, tr = trace(f, d, "63_hashring_join_leave", "1", "--param", f"vnodes={v}")
        ring = notes(tr, "ring", "n1")
        spread.append(ring[0]["load"]["stddev"] if ring else None)
    f.check(None not in spread and spread[0] > 5 * spread[1] and spread[1] > spread[2],
            f"63: keys-per-node stddev for vnodes 1, 64, 1024: {spread}")


def main():
    f = Failures()
    with tmpdir() as d:
        test_60_aside(f, d)
        test_61_through(f, d)
        test_62_behind(f, d)
        test_63_hashring(f, d)
    f.finish()


if __name__ == "__main__":
    main()
