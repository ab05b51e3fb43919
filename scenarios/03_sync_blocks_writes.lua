-- 03: synchronous replication blocks writes when one follower is cut off.
--
-- What it shows: with replication = "sync" the leader acknowledges a write
-- only once every follower has it. At 500 ms follower n3 is partitioned
-- away from n1 and n2 (clients still reach every node). From then on no
-- write can complete: n1 appends it, n2 acks it, n3 never does, so the
-- leader keeps the client waiting; the client times out, retries (the retry
-- carries the same operation id, which the leader recognises and does not
-- append twice), times out again and records the write as info: maybe
-- applied, maybe not. Reads at the leader still answer (from what is
-- committed). Consistency is kept and availability for writes is lost: the
-- C side of CAP, and the EC side of PACELC (every write waits for the
-- slowest follower even with no fault at all).
--
-- At 1.5 s the partition heals: n3 catches up from the leader's log, the
-- waiting entries commit, and writes flow again.
--
-- n3 cannot take over: alone it never gets a majority of votes. It does
-- stand for election again and again (candidate for epoch 2, 3, ...), but a
-- candidate does not adopt the epoch it asks for until it wins, and n1 and
-- n2 refuse their votes while they hear from the leader, so on heal n3
-- simply follows n1 in epoch 1 again: no disruption.
--
-- What to look for in the trace:
--   * `"ev":"partition","groups":[["n3"],["n1","n2"]]` at 500 ms;
--   * from then on, appends from n1 to n3 are dropped
--     (`"ev":"drop" ... "from":"n1","to":"n3","reason":"partition"`), writes
--     get `"ev":"retry"` and then `"ev":"info" ... "error":"timeout"`, and no
--     write or cas has an "ok" line until after the heal; reads still do;
--   * `"node":"n3","what":"role","role":"candidate","term":2` (then 3, ...)
--     and, after `"ev":"heal"`, `"node":"n3","what":"role","role":"follower","term":1`;
--   * after the heal, a burst of "ok" lines as the waiting writes commit;
--   * the final "state" lines: the leader's "acked" shows n2 and n3 level.

cluster{
    model = "leader_follower",
    nodes = 3,
    params = { replication = "sync" },
}

workload{
    clients = 3,
    keys = { "x", "y" },
    mix = { read = 0.3, write = 0.6, cas = 0.1 },
    think = ms(10),
    target = "leader",
    timeout = ms(150),
    retries = 1,
    duration = ms(2500),
}

at(ms(500), partition{ { "n3" }, { "n1", "n2" } })
at(ms(1500), heal())

run{ until_ = s(3) }

-- Writes that were waiting at the partition end as info; none fails, and
-- the cluster keeps working before and after.
expect{
    ops_ok = { min = 200 },
    ops_info = { min = 3 },
    invariant_violations = 0,
    -- what the checkers must find (sim check TRACE shows the evidence):
    linearizable = true,        -- blocked, but never wrong
    no_lost_writes = true,
    pacelc = "PC/EC",           -- consistency over availability, and over latency
}
