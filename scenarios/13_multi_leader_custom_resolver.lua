-- 13: multi-leader with a conflict resolver written in Lua.
--
-- What it shows: two datacenters (a1 leads a1, a2; b1 leads b1, b2; about
-- 1 ms inside a DC, 40 ms between), conflict = "custom". As in scenario 11,
-- every version of a key carries a version vector, so the replicas can tell
-- a write that has seen another (it simply replaces it) from two writes made
-- concurrently in different DCs. Such a true conflict is handed to the
-- function `resolver` below, with the key and the two values, and the value
-- it returns replaces both (with a vector that has seen both, so it wins
-- over each of them everywhere). This one keeps the larger value: the
-- register only moves up, like a "highest bid" or a version number.
--
-- Every replica that meets the conflict calls the resolver itself, always
-- with the two versions in the same order (the smaller vector first), so a
-- resolver that cares about order -- say, one that returns its first
-- argument -- still gives every replica the same answer. A resolver must be
-- deterministic (no clock, no math.random): otherwise replicas resolving
-- the same conflict would disagree and never converge.
--
-- The simulator tries the function once when the cluster is created,
-- resolver("probe", 1, 2), and refuses one that fails or does not return an
-- integer. A resolver that fails later (say, only for large values) stops
-- the run with the error and the line in this file (exit 4).
--
-- What to look for in the trace:
--   * `"what":"conflict","resolution":"resolver"` notes at a1 and b1 with
--     the two versions (value and "vv"), "kept": the resolver's answer, and
--     "discarded": the value(s) it replaced;
--   * during the split (1 s to 2 s) both DCs write; the first updates to
--     cross after the heal meet the other side's versions and resolve them;
--   * the final "state" lines: the same "map" everywhere, each key with one
--     value and its vector in "versions".

local a, b = { "a1", "a2" }, { "b1", "b2" }
cluster{
    model = "multi_leader",
    nodes = { "a1", "a2", "b1", "b2" },
    params = {
        dcs = 2,
        conflict = "custom",
        replicate_every = ms(20),
        anti_entropy = ms(500),
        -- key: the key's name; x, y: the two concurrent values
        resolver = function(key, x, y)
            return math.max(x, y)
        end,
    },
    network = {
        latency = { dist = "uniform", min = ms(0.5), max = ms(1.5) },
        links = {
            { from = a, to = b, latency = { dist = "uniform", min = ms(35), max = ms(45) } },
        },
    },
}

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
    converges = true,    -- every replica resolved the same conflicts the same way
    pacelc = "PA/EL",
}
