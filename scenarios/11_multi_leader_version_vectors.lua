-- 11: multi-leader with version vectors: concurrent writes become siblings.
--
-- What it shows: the same two datacenters as scenario 10 (a1 leads a1, a2;
-- b1 leads b1, b2; about 1 ms inside a DC, 40 ms between), and the same
-- skewed clock on b1 -- which no longer matters, because no clock decides
-- anything: conflict = "vv". Every version of a key carries a version vector
-- [count of a1's writes, count of a2's, count of b1's, count of b2's] that
-- says which writes it has seen. When one version has seen the other, it
-- replaces it; when neither has seen the other, the writes were concurrent:
-- a true conflict. Then nothing is thrown away: the replicas keep BOTH as
-- siblings, and a read returns all of them (`"values":[...]`), together
-- with a causal context (the merged vector). The client sends that context
-- with its next write of the key, and that write replaces exactly the
-- siblings it read (Dynamo, Riak). A write without a context replaces what
-- its leader holds.
--
-- From 1 s to 2 s the DCs are cut apart and both keep writing x and y, so
-- after the heal each key has a version from each side, neither having seen
-- the other: siblings. The next read-then-write of the key resolves them.
-- Concurrent writes from a client whose context is older than the key's
-- latest version make siblings too, even inside one DC: that is the price
-- of never losing a write.
--
-- What to look for in the trace:
--   * `"what":"conflict","resolution":"siblings"` notes at a1 and b1 with
--     both versions (value and "vv") and "kept": the sibling values;
--   * reads answered with `"value":null,"values":[v1,v2]` (the siblings);
--   * `"what":"siblings_resolved"`: a write whose context covered the
--     siblings replaced them with one value;
--   * the final "state" lines: the same "map" everywhere (a list where
--     siblings remain), and "versions" with each sibling's vector.
-- The register checkers (linearizable, no_lost_writes, ...) report
-- "skipped": a read that returns several values is not a register read.
-- converges still judges the final maps.

local a, b = { "a1", "a2" }, { "b1", "b2" }
cluster{
    model = "multi_leader",
    nodes = { "a1", "a2", "b1", "b2" },
    params = { dcs = 2, conflict = "vv", replicate_every = ms(20), anti_entropy = ms(500) },
    network = {
        latency = { dist = "uniform", min = ms(0.5), max = ms(1.5) },
        links = {
            { from = a, to = b, latency = { dist = "uniform", min = ms(35), max = ms(45) } },
        },
    },
}

skew("b1", -ms(200))

-- one client per DC reading and writing through its leader
workload{ clients = 1, keys = { "x", "y" }, mix = { read = 0.5, write = 0.5 },
          think = ms(20), target = "a1", duration = s(3) }
workload{ clients = 1, keys = { "x", "y" }, mix = { read = 0.5, write = 0.5 },
          think = ms(20), target = "b1", duration = s(3) }

at(s(1), partition{ a, b })
at(s(2), heal())

run{ until_ = s(4.5) }

expect{
    ops_ok = { min = 150 },
    invariant_violations = 0,
    converges = true,   -- siblings and all, every replica holds the same
}
