-- 60: cache-aside serves stale reads from the other cache, for up to its TTL.
--
-- What it shows: the "cache" model with policy = "aside". n1 is the store
-- (durable, the data); n2 and n3 are caches in front of it. A read hit
-- answers from the cache; a miss fetches from n1, keeps the value for
-- ttl = 300 ms and answers. A write goes to n1, and once n1 has it the
-- cache that took the write drops its own entry (invalidate = true). The
-- other cache is not told: it keeps serving the old value until the entry
-- expires.
--
-- c1 writes through n2, c2 reads through n3, c3 reads through n2. c3's
-- reads are fresh (n2 invalidated its entry when c1's write was stored),
-- but c2's read of x right after c1's write returns the value n3 cached
-- before it: stale reads (staleness = false), each at most about 300 ms
-- behind (the TTL plus a fetch). The store holds every acknowledged write
-- (no_lost_writes = true): nothing is lost, it is only read late.
--
-- What to look for in the trace:
--   * `"type":"get"` from n3 to n1 and `"type":"get_ok"` back: a miss filling
--     n3's cache; then `ok` reads from n3 with no message to n1 (hits);
--   * c1's `"type":"put"` from n2 to n1 and `put_ok`: the write stored, n2's
--     entry dropped;
--   * `sim check TRACE` lists the stalest reads under "staleness:" -- all
--     of them c2's, served by n3; the "behind" times stay under the TTL;
--   * the final "state" lines: n1's "map" (the data), and the caches'
--     "cached" entries with their hits and misses.

cluster{
    model = "cache",
    nodes = 3,
    params = { policy = "aside", ttl = ms(300), invalidate = true },
}

local common = { keys = { "x", "y" }, think = ms(20), timeout = ms(200), duration = s(2) }
workload{ clients = 1, keys = common.keys, think = common.think, timeout = common.timeout,
          duration = common.duration, mix = { write = 1 }, target = "n2" }
workload{ clients = 1, keys = common.keys, think = common.think, timeout = common.timeout,
          duration = common.duration, mix = { read = 1 }, target = "n3" }
workload{ clients = 1, keys = common.keys, think = common.think, timeout = common.timeout,
          duration = common.duration, mix = { read = 1 }, target = "n2" }

run{ until_ = s(2.5) }

expect{
    ops_ok = { min = 150 },
    ops_info = 0,
    invariant_violations = 0,
    staleness = false,        -- n3 answers from an entry the write did not touch
    no_lost_writes = true,    -- the store has every acknowledged write
    converges = true,         -- one store, one map: the caches are not replicas
}
