-- 06: W + R > N is not linearizability: a write that failed is still seen.
--
-- What it shows: the "quorum" model with n = 3, w = 2, r = 2 on 3 nodes.
-- W + R > N means every read quorum shares a replica with every write
-- quorum, so a read sees every write that was *acknowledged* before it
-- began: without faults no read is stale (run it with --param faults=false
-- and `sim check` finds staleness holds). Many people stop there and call
-- it "strongly consistent". It is not linearizable, and this run shows why.
--
-- At 500 ms n1 and its client c1 are cut off: {n1, c1} | {n2, n3, c2, c3}.
-- c1 keeps writing through n1. n1 stores each write itself (it is one of
-- the key's replicas) but cannot gather w = 2 acks, so it never answers;
-- c1 times out (after 100 ms) and the write is indeterminate ("info"): it
-- may or may not have happened. Nothing rolls it back. Meanwhile c2 and c3
-- write and read on the majority side (2 replicas: fine) and stop at
-- 800 ms; two readers, c4 and c5, take over there at 1 s. c1's last
-- writes, later, are the newest versions anywhere (LWW by the
-- coordinators' clocks), but they sit on n1 alone.
--
-- At 1.5 s the network heals. A read now asks all three replicas and takes
-- the first two answers: if n1 is among them, the read returns c1's failed
-- write; if n2 and n3 answer first, it returns the older value. Which two
-- answer first is a matter of network delay, so reads flip: one read
-- returns c1's value, a read that *begins after it ended* returns the older
-- one. No single order of the operations explains both -- linearizable =
-- false, and `sim check TRACE` prints the two reads. Each read alone is
-- "not stale" (the write it misses was never acknowledged), so staleness
-- holds: quorums keep their promise, the promise is just weaker than
-- linearizability.
--
-- Read repair is off here so the window stays open until anti-entropy (every
-- second) copies c1's value to n2 and n3. With read repair on, the first read
-- that sees c1's value pushes it to the others -- after replying, so a read
-- racing it can still miss it: the window shrinks to a few milliseconds, it
-- does not close (the scenario test runs that variant too). Real systems
-- close it with consensus, not with more replicas.
--
-- What to look for in the trace:
--   * c1's writes after 500 ms: "put" messages from n1 dropped, no "ok",
--     then `"ev":"info"` when c1 gives up (300 ms later);
--   * after `"ev":"heal"`, "get_reply" messages from n1 carrying c1's value
--     with the newest "ts", and reads by c2 / c3 alternating between it and
--     the older value;
--   * `sim check TRACE`: linearizable violated (the two reads), staleness
--     holds, converges holds (anti-entropy), and cap "PC/EC": n1's side
--     served nothing during the split, and writes waited for a second
--     replica.

local faults = param("faults", true)

cluster{
    model = "quorum",
    nodes = 3,
    params = { n = 3, w = 2, r = 2, read_repair = false, anti_entropy = s(1) },
    network = {
        latency = { dist = "uniform", min = ms(1), max = ms(3) },
    },
}

-- c1 on n1: mostly writes, until 1.3 s (its last writes are cut off); it
-- gives up on an operation after 100 ms
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 0.2, write = 0.8 },
    think = ms(10),
    target = "n1",
    timeout = ms(100),
    duration = ms(1300),
}
-- c2, c3 on n2, n3: write and read until 800 ms ...
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(10),
    target = "n2",
    timeout = ms(300),
    duration = ms(800),
}
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(10),
    target = "n3",
    timeout = ms(300),
    duration = ms(800),
}
-- ... then c4, c5 only read, through n2 and n3, from 1 s to 2.5 s
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 1 },
    think = ms(5),
    target = "n2",
    timeout = ms(300),
    start = ms(1000),
    duration = ms(1500),
}
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 1 },
    think = ms(5),
    target = "n3",
    timeout = ms(300),
    start = ms(1000),
    duration = ms(1500),
}

if faults then
    at(ms(500), partition{ { "n1", "c1" }, { "n2", "n3", "c2", "c3", "c4", "c5" } })
    at(ms(1500), heal())
end

run{ until_ = s(6) }

if faults then
    expect{
        invariant_violations = 0,
        linearizable = false,   -- reads flip between c1's failed write and the older value
        staleness = true,       -- yet no read missed an acknowledged write
        converges = true,       -- anti-entropy spreads c1's value after the heal
        pacelc = "PC/EC",       -- n1's side refused; writes wait for a second replica
    }
else
    expect{
        ops_fail = 0,
        ops_info = 0,
        staleness = true,       -- W + R > N: no stale read without failures
        converges = true,
    }
end
