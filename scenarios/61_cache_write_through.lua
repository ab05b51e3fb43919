-- 61: write-through: one cache never serves a value older than a completed write.
--
-- What it shows: the "cache" model with policy = "through". n1 is the store,
-- n2 the one cache in front of it, and every client talks to n2. A write
-- goes to n1 first; once n1 has stored it (with the key's next version),
-- n2 puts the value in its cache and only then answers ok. A read hit
-- answers from the cache, a miss fetches from n1. So by the time a client
-- hears ok, the cache already holds that value or a newer one: no read that
-- begins afterwards can see an older one (staleness = true). Versions keep
-- the order straight when replies cross: a fetch n1 answered before a
-- write, delivered after it, does not put the older value back.
--
-- The price: a write waits for the store (a round trip to n1), where
-- write-behind (62) answers at once. And the guarantee is one cache's:
-- with a second cache the other one keeps its old entry until the TTL, as
-- cache-aside does in 60.
--
-- What to look for in the trace:
--   * each client write: `"type":"put"` from n2 to n1, `"type":"put_ok"` with
--     its "version", then the client's `ok` -- never the other way round;
--   * reads that are hits (no message to n1) return the value of the last
--     write n2 acknowledged on that key;
--   * `sim check TRACE`: staleness holds, and so does linearizable.

cluster{
    model = "cache",
    nodes = 2,
    params = { policy = "through", ttl = ms(300) },
}

workload{
    clients = 3,
    keys = { "x", "y" },
    mix = { read = 0.6, write = 0.4 },
    think = ms(10),
    timeout = ms(200),
    duration = s(2),
    target = "n2",
}

run{ until_ = s(2.5) }

expect{
    ops_ok = { min = 200 },
    ops_info = 0,
    invariant_violations = 0,
    staleness = true,         -- no read missed a write completed before it began
    linearizable = true,      -- one cache, updated before the ok: one order
    no_lost_writes = true,    -- every acknowledged write is in the store
}
