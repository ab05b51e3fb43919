-- 10: multi-leader, last write wins, and a clock that runs behind.
--
-- What it shows: two datacenters, each with its own leader ("multi_leader",
-- dcs = 2): a1 leads DC a (a1, a2), b1 leads DC b (b1, b2). Inside a DC the
-- links are fast (about 1 ms); between the DCs they take about 40 ms. Each
-- leader accepts writes on its own, answers at once, and ships its changes
-- to the other leader and its followers in batches (every 20 ms). When both
-- DCs write the same key, the replicas must pick one value: here by last
-- write wins (conflict = "lww"), on the stamp (timestamp, leader) that the
-- writing leader took from its OWN clock.
--
-- b1's clock is 200 ms behind (skew). So every write b1 accepts carries a
-- stamp 200 ms "older" than the truth, and loses to any a1 write of the same
-- key from the last 200 ms -- even one that came EARLIER in real time, and
-- even one b1 had already received: b1 acknowledges the write ("ok"), then
-- throws it away. The acknowledged write is gone: no_lost_writes = false,
-- and `sim check TRACE` lists the writes it lost.
--
-- From 1 s to 2 s the two DCs cannot talk. Both keep accepting writes (that
-- is the "A" in PA), and after the heal anti-entropy (every 500 ms each
-- leader sends its whole map) merges them, by the same rule: the replicas
-- converge (converges = true), on whichever write had the larger stamp.
--
-- What to look for in the trace:
--   * `"what":"conflict","resolution":"lww"` notes at a1 and b1: the key,
--     both versions with their value, ts and writer ("origin" local, the
--     sender, or "write" for a new client write), the value "kept" and the
--     value "discarded". A note whose "why" says "the new write's stamp is
--     older than the stored version's" is b1 discarding a write it has
--     just acknowledged;
--   * the client's `"ev":"ok"` for that write, just before the note --
--     for key z at 3.3 s most plainly (the finale below);
--   * `"type":"update"` messages (batches) and `"type":"sync"` messages
--     (anti-entropy) crossing between the DCs, dropped during the split;
--   * the final "state" lines: the same "map" everywhere, and "versions"
--     with the winning stamp of each key (mostly "by":"a1"); z holds a1's
--     value although b1 wrote it 100 ms later.
-- Fix it yourself: remove the skew and run again: no_lost_writes then holds
-- unless two writes of a key cross between the DCs.

local a, b = { "a1", "a2" }, { "b1", "b2" }
cluster{
    model = "multi_leader",
    nodes = { "a1", "a2", "b1", "b2" },
    params = { dcs = 2, conflict = "lww", replicate_every = ms(20), anti_entropy = ms(500) },
    network = {
        -- inside a datacenter (and client to node): fast
        latency = { dist = "uniform", min = ms(0.5), max = ms(1.5) },
        links = {
            -- between the datacenters: slow, both ways
            { from = a, to = b, latency = { dist = "uniform", min = ms(35), max = ms(45) } },
        },
    },
}

skew("b1", -ms(200))

-- one writer per DC, on the same two keys, sent to the DC's leader
workload{ clients = 1, keys = { "x", "y" }, mix = { read = 0.3, write = 0.7 },
          think = ms(15), target = "a1", duration = s(3) }
workload{ clients = 1, keys = { "x", "y" }, mix = { read = 0.3, write = 0.7 },
          think = ms(15), target = "b1", duration = s(3) }
-- a client anywhere: writes reaching a follower are redirected to its leader
workload{ clients = 1, keys = { "x", "y" }, mix = { read = 0.5, write = 0.5 },
          think = ms(20), duration = s(3) }

-- the finale, one write each on key z: a1 at 3.2 s, then b1 at 3.3 s, when
-- a1's write has long reached it. b1's write is later in real time, but its
-- stamp (about 3.1 s on b1's clock) is older than a1's (3.2 s): b1 answers
-- ok and keeps a1's value. Nothing overwrites z afterwards, so the final
-- state shows the loss for certain (earlier losses may be hidden by later
-- writes of the same key).
workload{ clients = 1, keys = { "z" }, mix = { write = 1 }, target = "a1",
          start = s(3.2), duration = ms(1) }
workload{ clients = 1, keys = { "z" }, mix = { write = 1 }, target = "b1",
          start = s(3.3), duration = ms(1) }

at(s(1), partition{ a, b })
at(s(2), heal())

run{ until_ = s(4.5) }

expect{
    ops_ok = { min = 200 },
    invariant_violations = 0,
    no_lost_writes = false,  -- b1's acknowledged writes lose to a1's older ones
    converges = true,        -- every replica ends on the same winner
    pacelc = "PA/EL",        -- both DCs wrote during the split; nobody waited
}
