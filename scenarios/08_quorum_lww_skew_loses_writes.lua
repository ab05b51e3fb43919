-- 08: last write wins, on a clock that is behind, loses acknowledged writes.
--
-- What it shows: the "quorum" model with n = 3, w = 2, r = 2 on 3 nodes and
-- versioning = lww (the default). A write's version is (timestamp, node):
-- the timestamp is the coordinator's own clock, and every replica keeps the
-- version with the larger one. "Last" means "largest timestamp", not "came
-- last" -- the two agree only while the clocks do.
--
-- n2's clock runs 200 ms behind the others from the start (skew). c1 writes
-- x through n1, c2 writes x through n2, and c3 reads x through n3; no
-- network fault at all. (Writers that only write: with reads in their mix,
-- about one seed in 500 drew only reads for c2's last 100 ms, or for c1's,
-- and lost nothing.) When c2 writes after c1 (in real time) but less than 200 ms
-- after, c2's version carries the smaller timestamp: each replica receiving
-- it keeps c1's older value and drops c2's (trace note "lww_lost" with both
-- versions). The write still counts as acknowledged -- the replicas acked
-- the put; that they threw it away is invisible to the client. c1 stops at
-- 1.9 s, c2 goes on until 2 s: every write c2 makes in those last 100 ms
-- is stamped 1.7 s to 1.8 s by n2's clock, below c1's last writes (stamped
-- about 1.9 s), which completed before them. They are in no replica's
-- final state, which holds c1's last value. The durability checker lists
-- them (no_lost_writes = false), while the replicas agree perfectly
-- (converges = true): the data is consistent, and wrong.
--
-- Version vectors (versioning = vv) would keep both writes as siblings
-- instead of guessing by clock: see 09.
--
-- What to look for in the trace:
--   * `"ev":"clock"` for n2 at 0 (offset -200 ms; a coordinator's stamps
--     only go up from 1, so n2's first writes, while its clock is still
--     below 0, are stamped 1, 2, 3, ...);
--   * "put" messages from n2 with a "ts" smaller than the one n1 sent just
--     before, and notes `"what":"lww_lost"` on the replicas;
--   * `sim check TRACE` under "no_lost_writes:": c2's writes acknowledged
--     after 1.9 s, and the final value (c1's) on every node.

cluster{
    model = "quorum",
    nodes = 3,
    params = { n = 3, w = 2, r = 2, versioning = "lww" },
    network = {
        latency = { dist = "uniform", min = ms(1), max = ms(3) },
    },
}

skew("n2", -ms(200))

workload{
    clients = 1,
    keys = { "x" },
    mix = { write = 1 },
    think = ms(10),
    target = "n1",
    timeout = ms(300),
    duration = ms(1900),
}
workload{
    clients = 1,
    keys = { "x" },
    mix = { write = 1 },
    think = ms(10),
    target = "n2",
    timeout = ms(300),
    duration = ms(2000),
}
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 1 },
    think = ms(10),
    target = "n3",
    timeout = ms(300),
    duration = ms(2100),
}

run{ until_ = s(4) }

expect{
    ops_fail = 0,
    ops_info = 0,
    invariant_violations = 0,
    no_lost_writes = false,   -- c2's last writes lost to c1's older ones
    linearizable = false,     -- reads return c1's value after c2's write completed
    converges = true,         -- every replica agrees on the (wrong) winner
}
