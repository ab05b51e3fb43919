"""Each shipped scenario shows what its comment says, on several seeds.
These read the traces the way a student would be told to."""
import os

from simtest import Failures, read_trace, run, run_traced, SCENARIOS, tmpdir

SEEDS = ["1", "2", "3"]
MS = 1_000_000


def trace(f, d, name, seed, *extra, code=0):
    return run_traced(f, d, name, seed, *extra, code=code)[1]


def ops(tr):
    """op id -> {invoke, complete (event), f, key, value, server}"""
    out = {}
    server = {}
    for e in tr:
        if e["ev"] == "invoke":
            out[e["op"]] = {"invoke": e, "complete": None}
        elif e["ev"] in ("ok", "fail", "info") and e["op"] in out:
            out[e["op"]]["complete"] = e
        elif e["ev"] == "send" and e["msg"].get("type") == "reply" and e["msg"]["status"] == "ok":
            server[e["msg"]["op"]] = e["from"]
    for op_id, o in out.items():
        o["server"] = server.get(op_id)
    return out


def stale_reads(tr):
    """Reads that returned a value already overwritten before they began:
    a write w2 completed before the read was invoked, and the write of the
    value read had completed before w2 was invoked."""
    o = ops(tr)
    writes = [x for x in o.values() if x["invoke"]["f"] == "write" and x["complete"] and x["complete"]["ev"] == "ok"]
    by_value = {x["invoke"]["value"]: x for x in writes}
    stale = []
    for x in o.values():
        c = x["complete"]
        if x["invoke"]["f"] != "read" or not c or c["ev"] != "ok":
            continue
        key, start = x["invoke"]["key"], x["invoke"]["t"]
        w1 = by_value.get(c["value"])
        for w2 in writes:
            if w2["invoke"]["key"] != key or w2["complete"]["t"] >= start or w2 is w1:
                continue
            if w1 is None or w1["complete"]["t"] < w2["invoke"]["t"]:
                stale.append(x)
                break
    return stale


def main():
    f = Failures()
    with tmpdir() as d:
        for seed in SEEDS:
            # 01: followers serve stale reads; the far follower n3 most of all
            tr = trace(f, d, "01_replication_lag", seed)
            stale = stale_reads(tr)
            on_n3 = [x for x in stale if x["server"] == "n3"]
            f.check(len(on_n3) >= 20, f"01 seed {seed}: only {len(on_n3)} stale reads served by n3")
            f.check(not any(x["server"] == "n1" for x in stale), f"01 seed {seed}: the leader served a stale read")

            # 02: acknowledged writes are discarded after the failover
            tr = trace(f, d, "02_async_failover_loses_writes", seed)
            o = ops(tr)
            discarded = [en for e in tr if e["ev"] == "note" and e.get("what") == "discard" and e["node"] == "n1"
                         for en in e["entries"]]
            acked_lost = [en for en in discarded if en["op"] in o and o[en["op"]]["complete"]
                          and o[en["op"]]["complete"]["ev"] == "ok"]
            f.check(len(acked_lost) >= 10, f"02 seed {seed}: {len(acked_lost)} acknowledged writes discarded")
            finals = [e["state"]["map"] for e in tr if e["ev"] == "state" and e["up"]]
            lost_values = {en["value"] for en in acked_lost}
            f.check(finals and all(not (lost_values & set(m.values())) for m in finals),
                    f"02 seed {seed}: a discarded value survived in a final state")
            f.check(finals and all(m == finals[0] for m in finals), f"02 seed {seed}: replicas did not converge")
            roles = [e for e in tr if e["ev"] == "note" and e.get("what") == "role" and e["role"] == "leader"
                     and e["term"] == 2]
            f.check(len(roles) == 1 and roles[0]["node"] != "n1", f"02 seed {seed}: no single new leader in epoch 2")

            # 03: with synchronous replication no write completes while a follower is cut off
            tr = trace(f, d, "03_sync_blocks_writes", seed)
            o = ops(tr)
            cut = [e["t"] for e in tr if e["ev"] in ("partition", "isolate", "cut")]
            heal = [e["t"] for e in tr if e["ev"] == "heal"]
            f.check(cut and heal, f"03 seed {seed}: no cut and heal in the trace")
            if cut and heal:
                a, b = cut[0], heal[0]
                writes_ok_inside = [x for x in o.values() if x["invoke"]["f"] != "read" and x["complete"]
                                    and x["complete"]["ev"] == "ok" and a + 50 * MS < x["complete"]["t"] < b]
                writes_info = [x for x in o.values() if x["invoke"]["f"] != "read" and x["complete"]
                               and x["complete"]["ev"] == "info" and a <= x["invoke"]["t"] < b]
                writes_ok_after = [x for x in o.values() if x["invoke"]["f"] != "read" and x["complete"]
                                   and x["complete"]["ev"] == "ok" and x["complete"]["t"] > b]
                reads_ok_inside = [x for x in o.values() if x["invoke"]["f"] == "read" and x["complete"]
                                   and x["complete"]["ev"] == "ok" and a < x["complete"]["t"] < b]
                f.check(not writes_ok_inside, f"03 seed {seed}: {len(writes_ok_inside)} writes completed while cut off")
                f.check(len(writes_info) >= 2, f"03 seed {seed}: only {len(writes_info)} writes timed out")
                f.check(writes_ok_after, f"03 seed {seed}: writes never resumed after heal")
                f.check(reads_ok_inside, f"03 seed {seed}: no read was served while cut off")

            # 04: without epochs, two leaders accept writes and end apart
            tr = trace(f, d, "04_split_brain_without_epochs", seed)
            o = ops(tr)
            servers = {x["server"] for x in o.values() if x["invoke"]["f"] == "write" and x["complete"]
                       and x["complete"]["ev"] == "ok"}
            f.check(len(servers) >= 2, f"04 seed {seed}: writes acknowledged by only {servers}")
            leaders = [e for e in tr if e["ev"] == "state" and e["up"] and e["state"]["role"] == "leader"]
            f.check(len(leaders) == 2, f"04 seed {seed}: {len(leaders)} leaders at the end, expected 2")
            if len(leaders) == 2:
                f.check(leaders[0]["state"]["map"] != leaders[1]["state"]["map"],
                        f"04 seed {seed}: the two leaders' maps agree")
            # and with epochs on, the same scenario converges to one leader
            # (its expectations, written for the split brain, then fail: exit 1)
            tr = trace(f, d, "04_split_brain_without_epochs", seed, "--param", "epochs=true", code=1)
            leaders = [e for e in tr if e["ev"] == "state" and e["up"] and e["state"]["role"] == "leader"]
            maps = [e["state"]["map"] for e in tr if e["ev"] == "state" and e["up"]]
            f.check(len(leaders) == 1, f"04 epochs=true seed {seed}: {len(leaders)} leaders at the end")
            f.check(maps and all(m == maps[0] for m in maps), f"04 epochs=true seed {seed}: maps differ")
    f.finish()


if __name__ == "__main__":
    main()
