-- 07: a sloppy quorum keeps writes available, and breaks W + R > N.
--
-- What it shows: the "quorum" model on 5 nodes, n = 3, w = 2, r = 2, with
-- sloppy = true and hinted_handoff = true. Key x lives on the ring's
-- preference list for "x": n4, n5, n1 (its home replicas); the next nodes
-- clockwise, n2 then n3, are its fallbacks (`sim run` on a 5-node ring with
-- the default 16 vnodes always gives this order: placement has no seed).
--
-- At 500 ms the network splits {n4, n2, c1} | {n5, n1, n3, c2}. c1 writes
-- and reads x through n4. With a strict quorum n4 could not reach w = 2 of
-- x's home replicas (n5 and n1 are on the other side), and every write
-- would fail (try --param sloppy=false). With a sloppy quorum n4 waits
-- timeout/2, then sends the write to the first fallback, n2, "for n5"; n2
-- keeps it as a hint (trace note "hint") and acks: n4 + n2 = 2 acks, the
-- write is acknowledged. Writes stay available on the minority side.
--
-- The price: on the other side, c2 reads x through n5, and the first two
-- replicas to answer are n5 and n1, two home replicas that have never seen
-- c1's writes. W + R > N promised that a read quorum meets every write
-- quorum -- but c1's write quorum was {n4, n2}, and n2 is not a home
-- replica: the quorums do not meet. c2 reads values older than writes
-- acknowledged to c1 (staleness = false, linearizable = false), with W = 2,
-- R = 2, N = 3.
--
-- At 1.5 s the network heals and the clients stop. Every 200 ms n2 tries
-- to hand its hints to n5; now they arrive, n5 acks, n2 drops them (trace
-- note "handoff"), and anti-entropy copies the newest version to n1: the
-- three home replicas converge (converges = true). n2 and n3 hold no data
-- of their own (n2's hints are gone), so they publish no "map" and the
-- converges checker compares n4, n5 and n1.
--
-- What to look for in the trace:
--   * "put" messages from n4 with "hint_for":4 (n5's index) to n2, and
--     `"ev":"note","node":"n2","what":"hint","key":"x","for":"n5"`;
--   * c1's writes "ok" during the split, c2's reads "ok" with older values;
--   * after `"ev":"heal"`, "handoff" messages from n2 to n5, then notes
--     `"what":"handoff"`;
--   * `sim check TRACE`: staleness and linearizable violated, converges
--     holds, cap "PA/EC" (both sides served; writes wait for a second
--     replica).

cluster{
    model = "quorum",
    nodes = 5,
    params = { n = 3, w = 2, r = 2, sloppy = true, hinted_handoff = true,
               handoff_period = ms(200), anti_entropy = ms(300) },
    network = {
        latency = { dist = "uniform", min = ms(1), max = ms(3) },
    },
}

-- c1 on n4 (minority side) mostly writes, c2 on n5 (majority side) mostly
-- reads, both until the heal
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 0.2, write = 0.8 },
    think = ms(10),
    target = "n4",
    timeout = ms(300),
    duration = ms(1500),
}
-- c2 only reads: a write of its own would put a value newer than c1's
-- on its side, and with writes in its mix (0.8 / 0.2) on some seeds (67 and
-- 185 of 1..200) each of c2's writes overlapped one of c1's, so by the
-- checker's real-time rule no read was stale
workload{
    clients = 1,
    keys = { "x" },
    mix = { read = 1 },
    think = ms(10),
    target = "n5",
    timeout = ms(300),
    duration = ms(1500),
}

at(ms(500), partition{ { "n4", "n2", "c1" }, { "n5", "n1", "n3", "c2" } })
at(ms(1500), heal())

run{ until_ = s(4) }

expect{
    invariant_violations = 0,
    staleness = false,      -- c2 misses writes acknowledged to c1 ...
    linearizable = false,   -- ... although W + R > N
    converges = true,       -- hinted handoff and anti-entropy after the heal
    pacelc = "PA/EC",       -- both sides kept serving
}
