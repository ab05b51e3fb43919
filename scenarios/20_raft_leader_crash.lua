-- 20: Raft loses its leader and elects another; no acknowledged write is lost.
--
-- What it shows: the leader of a five-node Raft cluster crashes at 1 s.
-- Its followers stop hearing heartbeats; after a randomised election
-- timeout (150-300 ms, drawn by each node from its own random stream and
-- measured on its own clock) the first of them to time out stands as a
-- candidate for the next term, asks the others for their votes, and wins
-- with a majority: only nodes whose logs are at least as up to date as
-- the voter's can win, so the new leader holds every committed write. The
-- new leader appends a no-op entry of its term, which commits everything
-- before it, and the clients, which were timing out on n1, retry and are
-- redirected to it. The retries carry the same operation id: a write the
-- old leader had logged and replicated before crashing is found in the new
-- leader's log (or among its applied sessions) and is not applied twice.
--
-- At 2 s n1 restarts from its disk (term, vote and log were synced before
-- it answered anything), learns the new term from the new leader's first
-- append and catches up as a follower.
--
-- So that the scenario knows which node leads, n1 is made the first leader:
-- at first the other nodes cannot reach one another, so only n1 can gather
-- a majority. PreVote is on: a node first asks whether it could win, and
-- only then raises its term, so the nodes that cannot win stay quiet.
--
-- What to look for in the trace:
--   * `"what":"elected","term":1` (or so) for n1, then the crash at 1 s;
--   * `"what":"role","role":"candidate"` on the first follower to time out,
--     then `"what":"elected"` with a higher term about 150-350 ms later;
--   * the clients' `"ev":"retry"` and `"ev":"redirect"` lines around 1 s;
--   * after the restart at 2 s, n1's `"role":"follower"` note with the new
--     term and the appends that bring it up to date;
--   * the final "state" lines: every node has the same "map".

cluster{
    model = "raft",
    nodes = 5,
    params = { prevote = true, heartbeat = ms(50), election_timeout = ms(150) },
}

-- n1 leads first: until 400 ms the other nodes cannot reach one another
-- (one-way cuts), so none of them can gather a majority. PreVote makes this
-- work: a node that cannot win never raises its term nor disturbs n1.
local others = { "n2", "n3", "n4", "n5" }
at(0, function()
    for _, a in ipairs(others) do
        for _, b in ipairs(others) do
            if a ~= b then cut(a, b) end
        end
    end
end)
at(ms(400), heal())

workload{
    clients = 3,
    keys = { "x", "y" },
    mix = { read = 0.4, write = 0.4, cas = 0.2 },
    think = ms(10),
    target = "leader",
    timeout = ms(150),
    retries = 4,
    start = ms(500),
    duration = s(2),
}

at(s(1), crash("n1"))
at(s(2), restart("n1"))

run{ until_ = s(3.6) }

expect{
    ops_ok = { min = 200 },
    invariant_violations = 0,
    invariants = true,
    linearizable = true,      -- the failover loses nothing and reorders nothing
    no_lost_writes = true,
    converges = true,
}
