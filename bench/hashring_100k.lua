-- Consistent hashing at 100,000 nodes: one node leaves and comes back, and
-- only about 1/N of the keys move.
--
-- A benchmark scenario (bench/, not scenarios/: the test suite runs it once,
-- in tests/scenario/test_scale.py, rather than in every per-scenario test).
-- tools/bench_scale.py runs it and prints wall time and peak memory per node.
--
-- The "hashring" model with membership = "router": n1 is a router (like a
-- memcached proxy) that alone keeps the ring, 99,999 nodes store keys and
-- heartbeat the router every 2 s; a node silent for 5 s leaves the ring.
-- Peers mode (every node heartbeats every other) would send 10^10 messages
-- per round at this size.
--
-- n77777 crashes at 1 s; the router drops it at about 6 s and notes a
-- "rebalance" over 100,000 measured keys: "moved" is about 100,000 / 99,999,
-- i.e. one or two keys, where "hash mod N" placement would move nearly all
-- of them ("modulo_moved"). It restarts at 8 s and its first heartbeat
-- brings it back (a "join", the same few keys move back).
--
-- Clients go through the router, which forwards each operation to the key's
-- owner and relays the answer.

cluster{
    model = "hashring",
    nodes = 100000,
    params = { membership = "router", vnodes = 16, keys = 100000,
               heartbeat = s(2), timeout = s(5) },
}

workload{
    clients = 4,
    keys = 50,
    mix = { read = 0.5, write = 0.5 },
    think = ms(20),
    timeout = ms(200),
    target = "n1",
    duration = s(11),
}

at(s(1), crash("n77777"))
at(s(8), restart("n77777"))

run{ until_ = s(12) }

expect{
    ops_ok = { min = 1000 },
    crashes = 1,
    invariant_violations = 0,
}
