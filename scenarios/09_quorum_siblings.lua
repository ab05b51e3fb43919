-- 09: version vectors: concurrent writes become siblings, resolved by a write.
--
-- What it shows: the "quorum" model with versioning = vv on 3 nodes, n = 3,
-- w = 1, r = 1 (each side of a partition can write). Every version carries
-- a version vector, one counter per node: the coordinator of a write starts
-- from the causal context the client got from its last read of the key and
-- ticks its own counter. A replica keeps every version that no other
-- version descends from: two writes made without knowing of each other are
-- both kept, as siblings. Nothing is decided by clocks (compare 08).
--
-- From 500 ms to 1.5 s the network splits {n1, c1} | {n2, n3, c2}. c1
-- writes x through n1, c2 through n2; neither side sees the other's
-- writes. At the heal the clients stop; anti-entropy (every 200 ms) carries
-- each side's last version to the other, and since neither vector descends
-- from the other, the replicas keep both (trace note "siblings", with the
-- values and their vectors). From 3 s a third client, c3, reads x through
-- n3: the read returns both values (`"values":[a,b]` on its "ok" line) and
-- a context that merges both vectors. c3's next write carries that context,
-- so its version descends from both siblings and replaces them (trace note
-- "resolved", with the values replaced). At the end every replica holds
-- the same single value: converges = true.
--
-- Siblings appear before the partition too: c1 and c2 write the same key
-- at about the same time, each with the context of its own last read, and
-- w = 1 acknowledges before the other write arrives. That is true
-- concurrency, which LWW would have settled silently by clock.
--
-- (Register checkers -- linearizable, staleness, ... -- say "skipped": a
-- read that returned two values has no place in a single-register history.
-- A node's final "map" shows a key with siblings as a sorted list of
-- values; here they are resolved before the end.)
--
-- What to look for in the trace:
--   * `"what":"siblings","key":"x","values":[...],"vectors":[[...],[...]]`
--     on each node shortly after `"ev":"heal"`;
--   * c3's first read: `"ev":"ok",...,"value":null,"values":[a,b]`;
--   * c3's next write, then `"what":"resolved","key":"x","value":v,...,
--     "replaced":[a,b]` on each replica;
--   * the final "state" lines: the same "map" everywhere, and in
--     "versions" one value with its vector.

cluster{
    model = "quorum",
    nodes = 3,
    params = { n = 3, w = 1, r = 1, versioning = "vv", anti_entropy = ms(200) },
    network = {
        latency = { dist = "uniform", min = ms(1), max = ms(3) },
    },
}

-- c1 on n1, c2 on n2: read and write until the heal
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(20),
    target = "n1",
    timeout = ms(300),
    duration = ms(1500),
}
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(20),
    target = "n2",
    timeout = ms(300),
    duration = ms(1500),
}
-- c3 on n3, after anti-entropy has spread the siblings: reads, writes
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(50),
    target = "n3",
    timeout = ms(300),
    start = s(3),
    duration = ms(1000),
}

at(ms(500), partition{ { "n1", "c1" }, { "n2", "n3", "c2" } })
at(ms(1500), heal())

run{ until_ = s(6) }

expect{
    ops_fail = 0,
    ops_info = 0,
    invariant_violations = 0,
    converges = true,   -- the siblings, and then their resolution, reach every replica
}
