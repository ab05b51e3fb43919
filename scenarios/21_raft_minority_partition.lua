-- 21: a partitioned Raft leader in the minority keeps believing it leads,
-- and cannot commit anything: the minority refuses writes (the PC of PC/EC).
--
-- What it shows: at 1 s the leader n1 and follower n2 are cut off from n3,
-- n4 and n5, with clients c1 and c2 on n1's side and c3, c4 on the other. Raft has no timeout on the leader's side (no "check quorum"
-- here), so n1 still thinks it is the leader of its term: it accepts the
-- writes its clients send it, appends them to its log, replicates them to
-- n2 — and can never commit them, because two nodes of five are not a
-- majority. c1 and c2 wait, time out and retry; their writes end as info
-- (maybe applied), their reads as fail (a timed-out read changed nothing).
-- c3 and c4 time out on n1 once, then find the new leader.
--
-- Meanwhile n3, n4 and n5 stop hearing heartbeats, elect one of themselves
-- in a higher term, and go on committing writes: the majority side stays
-- available, the minority side is not. Reads are served through the log
-- (reads = "log"), so n1 cannot answer reads either: a read needs a
-- majority too, and no client ever sees a stale value.
--
-- At 2.5 s the partition heals. n1 hears the new leader's higher term,
-- steps down, and its uncommitted entries are overwritten by the new
-- leader's log (the followers' "conflict_index" replies show where). No
-- acknowledged write is lost: the run is linearizable.
--
-- n1 is made the first leader as in scenario 20: until 400 ms the other
-- nodes cannot reach one another, so only n1 can gather a majority.
--
-- What to look for in the trace:
--   * `"ev":"partition"` at 1 s; n1 has no role note until after the heal:
--     it stays "leader" of its term throughout;
--   * `"what":"elected"` on n3, n4 or n5 some 150-350 ms after 1 s;
--   * n1's appends to n2 with entries, and n2's `"success":true` answers,
--     but no "commit" note from n1 after 1 s;
--   * after `"ev":"heal"`: `"node":"n1","what":"role","role":"follower"` with
--     the new term, and `"conflict_index"` in n1's and n2's append replies.

cluster{
    model = "raft",
    nodes = 5,
    params = { prevote = true, heartbeat = ms(50), election_timeout = ms(150) },
}

local others = { "n2", "n3", "n4", "n5" }
at(0, function()
    for _, a in ipairs(others) do
        for _, b in ipairs(others) do
            if a ~= b then cut(a, b) end
        end
    end
end)
at(ms(400), heal())

-- c1 and c2 will be on n1's side: one attempt each, so every operation
-- invoked there during the partition shows its fate (a 100 ms timeout)
workload{
    clients = 2,
    keys = { "x", "y" },
    mix = { read = 0.3, write = 0.5, cas = 0.2 },
    think = ms(10),
    target = "leader",
    timeout = ms(100),
    start = ms(500),
    duration = s(2.5),
}
-- c3 and c4 will be on the majority's side, and retry
workload{
    clients = 2,
    keys = { "x", "y" },
    mix = { read = 0.3, write = 0.5, cas = 0.2 },
    think = ms(10),
    target = "leader",
    timeout = ms(150),
    retries = 2,
    start = ms(500),
    duration = s(2.5),
}

at(s(1), partition{ { "n1", "n2", "c1", "c2" }, { "n3", "n4", "n5", "c3", "c4" } })
at(s(2.5), heal())

run{ until_ = s(4) }

expect{
    ops_ok = { min = 150 },
    ops_info = { min = 1 },    -- writes stuck at n1 end unknown, never wrong
    invariant_violations = 0,
    invariants = true,
    linearizable = true,
    no_lost_writes = true,
    converges = true,
    pacelc = "PC/EC",          -- the minority refuses; writes wait for a majority
}
