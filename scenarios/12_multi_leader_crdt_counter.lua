-- 12: multi-leader with a CRDT counter: concurrent increments all count.
--
-- What it shows: two datacenters (a1 leads a1, a2; b1 leads b1, b2; about
-- 1 ms inside a DC, 40 ms between) keeping counters that both DCs
-- increment, with conflict = "gcounter": a grow-only counter, the simplest
-- CRDT. Its state is not a number but one count per node -- "a1 has added
-- 37, b1 has added 41" -- and replicas merge by taking, for each node, the
-- larger count. A leader only ever raises its own entry, so no increment is
-- counted twice or lost, whatever order the states arrive in, however often
-- they are resent. The counter's value is the sum of the entries.
--
-- Clients send "add" operations (an increment drawn in 1..5) and reads.
-- From 1 s to 2 s the DCs cannot talk; both keep adding (PA: nobody waits
-- for the other side). Reads on one side then miss the other side's
-- increments -- a read is only as fresh as the states that have arrived.
-- After the heal every replica reads the same total, and that total is
-- exactly the sum of the acknowledged adds (tests/scenario/
-- test_multi_leader.py checks it from the trace). With last write wins on a
-- plain number (scenario 10's model), concurrent "read, add, write back"
-- would have lost increments instead.
--
-- Try `--param conflict=pncounter`: a PN-counter (two G-counters, one for
-- increments, one for decrements) behaves the same on this workload; and an
-- add of a negative amount is refused by the G-counter ("a G-counter only
-- grows") but accepted by the PN-counter.
--
-- What to look for in the trace:
--   * `"f":"add"` operations, `"ok"` replies, and reads returning the
--     counter's value at that replica;
--   * `"what":"conflict","resolution":"merge"` notes at a1 and b1 when a
--     state arrives with increments the leader lacks while the leader has
--     increments the sender lacks: "kept" is the merged value, nothing is
--     "discarded";
--   * the final "state" lines: the same "map" (key -> counter value) on
--     every node.
-- The register checkers (linearizable, no_lost_writes, ...) report
-- "skipped": an add is not a register write. converges still judges.

local a, b = { "a1", "a2" }, { "b1", "b2" }
cluster{
    model = "multi_leader",
    nodes = { "a1", "a2", "b1", "b2" },
    params = { dcs = 2, conflict = "gcounter", replicate_every = ms(20), anti_entropy = ms(500) },
    network = {
        latency = { dist = "uniform", min = ms(0.5), max = ms(1.5) },
        links = {
            { from = a, to = b, latency = { dist = "uniform", min = ms(35), max = ms(45) } },
        },
    },
}

-- increments in both DCs, on two counters; a third client reads anywhere
workload{ clients = 2, keys = { "likes", "views" }, mix = { add = 3, read = 1 }, values = { 1, 5 },
          think = ms(10), target = "a1", duration = s(3) }
workload{ clients = 2, keys = { "likes", "views" }, mix = { add = 3, read = 1 }, values = { 1, 5 },
          think = ms(10), target = "b1", duration = s(3) }
workload{ clients = 1, keys = { "likes", "views" }, mix = { read = 1 },
          think = ms(20), duration = s(3) }

at(s(1), partition{ a, b })
at(s(2), heal())

run{ until_ = s(4.5) }

expect{
    ops_ok = { min = 500 },
    ops_fail = 0,
    invariant_violations = 0,
    invariants = true,   -- no replica has seen more of a leader's increments than it made
    converges = true,    -- every replica reads the same totals
}
