-- 82: a circuit breaker stops the retry storm of 80: fast failures while
-- the dependency is down, probes, and recovery.
--
-- What it shows: scenario 80 exactly (immediate retries, payments 10
-- times slower from 1.0 s to 1.5 s) with breaker = true. The frontend
-- keeps a breaker for payments: after 5 failed attempts in a row
-- (failure_threshold) it opens, and for 200 ms (open_for) every call fails
-- at once with "circuit_open" -- no attempt is sent, so payments' queue of
-- abandoned work drains instead of growing. Then the breaker is half-open:
-- it lets one attempt through (half_open_probes = 1). While payments is
-- still slow that probe times out and the breaker opens again; after
-- 1.5 s the probe succeeds, the breaker closes, and requests succeed again
-- at the normal latency.
--
-- The breaker turns slow failures (a client waiting 200 ms for four
-- timeouts) into fast ones (the frontend answers at once), and it
-- takes the load off the dependency when it cannot cope: both are what
-- let it recover.
--
-- What to look for in the trace:
--   * `"what":"breaker"` notes of api: open at about 1.07 s, half_open
--     200 ms later, open again, ..., closed shortly after 1.5 s; the same
--     as api's role ("payments:open", "frontend") in `sim report --text`;
--   * api's `"what":"served"` notes with "error":"circuit_open",
--     "attempts":0 and a latency of 0 while the breaker is open;
--   * payments' `"what":"served"` notes: almost none while it is open.

cluster{
    model = "resilience",
    nodes = { "api", "payments" },
    params = {
        workers = 4, service = ms(10), queue = 100,
        timeout = ms(50), retries = 3, backoff = "none",
        pool = 32, pool_queue = 0,
        slow_node = 2, slow_from = s(1), slow_until = s(1.5), slow_factor = 10,
        breaker = true, failure_threshold = 5, open_for = ms(200), half_open_probes = 1,
    },
}

workload{ clients = 100, rate = 200, keys = { "payments" }, mix = { read = 1 },
          timeout = s(2), duration = s(4), target = "api" }

local recovered
at(s(2.5), function() recovered = stats() end)

run{ until_ = s(4.5) }

expect{
    ops_info = 0,
    ops_ok = { min = recovered.ops_ok + 250 },
    ops_fail = { max = recovered.ops_fail + 20 },
    invariants = true,
}
