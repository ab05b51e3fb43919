-- 05: leaderless quorums with W=1, R=1: stale reads, then anti-entropy.
--
-- What it shows: the "quorum" model (Dynamo-style, no leader) with n = 3
-- replicas per key on a 3-node cluster, so every node holds every key, and
-- w = 1, r = 1: a coordinator acknowledges a write as soon as one replica
-- (usually itself) has it, and answers a read from the first replica that
-- answers (usually itself). Read repair is off, so only anti-entropy (every
-- 300 ms each node pushes its map to one random peer, last write wins)
-- spreads what the quorum writes missed.
--
-- At 500 ms the network splits into {n1, c1} and {n2, n3, c2, c3}. With
-- W + R <= N both sides keep answering (PA): c1 writes and reads through n1,
-- c2 and c3 through n2 and n3, on the same keys. Each side reads its own
-- side's values, so a read on one side misses writes already acknowledged
-- on the other: stale reads (staleness = false), with no failed operation.
-- At 1.5 s the network heals; the clients stop at 2 s and anti-entropy
-- brings the three maps together by last write wins on (timestamp, writer),
-- so the replicas converge (converges = true) -- on whichever write had the
-- later coordinator clock, not on what any client saw last.
--
-- What to look for in the trace:
--   * `"ev":"partition","groups":[["n1","c1"],["n2","n3","c2","c3"]]`;
--   * during the split, "ok" replies from n1 and from n2/n3 for writes of
--     the same key, and reads on n1 returning values older than writes
--     acknowledged by n2 or n3 (`sim check TRACE` lists the stalest reads
--     under "staleness:");
--   * messages `"type":"sync"` between nodes every 300 ms, dropped while
--     the partition lasts, delivered after `"ev":"heal"`;
--   * the final "state" lines at 4 s: the same "map" on n1, n2 and n3, and
--     in "versions" the (ts, by) that won each key.

cluster{
    model = "quorum",
    nodes = 3,
    params = { n = 3, w = 1, r = 1, read_repair = false, anti_entropy = ms(300) },
    network = {
        latency = { dist = "uniform", min = ms(1), max = ms(3) },
    },
}

-- c1 talks to n1, c2 to n2, c3 to n3: clients on both sides of the split
workload{
    clients = 1,
    keys = { "x", "y" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(10),
    target = "n1",
    timeout = ms(300),
    duration = ms(2000),
}
workload{
    clients = 1,
    keys = { "x", "y" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(10),
    target = "n2",
    timeout = ms(300),
    duration = ms(2000),
}
workload{
    clients = 1,
    keys = { "x", "y" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(10),
    target = "n3",
    timeout = ms(300),
    duration = ms(2000),
}

at(ms(500), partition{ { "n1", "c1" }, { "n2", "n3", "c2", "c3" } })
at(ms(1500), heal())

run{ until_ = s(4) }

expect{
    ops_ok = { min = 350 },
    invariant_violations = 0,
    -- what the checkers must find (sim check TRACE shows the evidence):
    staleness = false,   -- reads miss writes acknowledged on the other side
    converges = true,    -- anti-entropy merges both sides after the heal
    pacelc = "PA/EL",    -- W + R <= N: both sides kept answering
}
