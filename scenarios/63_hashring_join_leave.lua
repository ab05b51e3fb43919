-- 63: consistent hashing: a node leaves and joins, and only ~1/N of the keys move.
--
-- What it shows: the "hashring" model. Five nodes place keys on one ring,
-- 64 points (virtual nodes) each, and a key belongs to the node of the
-- first point clockwise from the key's hash. Nodes learn who is up from
-- heartbeats (every 50 ms; silent for 200 ms = gone). Each node measures
-- every change of its view over a key space of 10,000 keys and notes a
-- "rebalance": how many keys changed owner ("moved", "fraction") and how
-- many would have under "hash mod N" placement ("modulo_moved").
--
-- n5 crashes at 500 ms: about 200 ms later each survivor drops it from its
-- view. Only n5's keys move, about 1/5 of them (2,000 of 10,000); modulo
-- placement would have moved about 4/5 (going from mod 5 to mod 4 keeps a
-- key only when both agree). n5 restarts at 1.5 s; the others hear its
-- heartbeat and take it back: again about 1/5 move (they all go to n5),
-- where modulo would move about 4/5 again. "load" in each note is the
-- spread of keys per member (min, max, stddev): run with
-- `--param vnodes=1` and it is several times wider; with 256 narrower.
--
-- Clients write and read a few keys; a node that does not own a key
-- redirects to its owner (target "leader" follows), and after a rebalance
-- nodes hand the data they no longer own to the new owner. What n5 held
-- when it crashed is gone: this model shards, it does not replicate.
--
-- What to look for in the trace:
--   * `"what":"ring"` notes at boot: "load" with 5 members;
--   * `"what":"rebalance","change":"leave","member":"n5"` on n1..n4 at about
--     700 ms: "moved" near 2,000, "modulo_moved" near 8,000;
--   * `"what":"rebalance","change":"join","member":"n5"` after 1.5 s;
--   * `"type":"handoff"` messages right after each rebalance;
--   * replies with `"status":"redirect"` and the client following them.

cluster{
    model = "hashring",
    nodes = 5,
    params = { vnodes = 64, keys = 10000, heartbeat = ms(50), timeout = ms(200) },
}

workload{
    clients = 2,
    keys = 8,
    mix = { read = 0.5, write = 0.5 },
    think = ms(20),
    timeout = ms(100),
    redirects = 5,
    target = "leader",
    duration = s(2),
}

at(ms(500), crash("n5"))
at(ms(1500), restart("n5"))

run{ until_ = s(2.5) }

expect{
    ops_ok = { min = 100 },
    crashes = 1,
    invariant_violations = 0,
}
