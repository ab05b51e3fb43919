-- 83: bulkheads: a slow dependency starves calls to a healthy one when
-- they share the frontend's slots; with a pool each, the healthy one
-- stays fast.
--
-- What it shows: the "resilience" model with two backends: "payments"
-- (n2) and "catalog" (n3), 4 workers at about 10 ms each. Clients send 300
-- reads a second to api, half for each (the key names the backend). api
-- handles at most 16 calls at once (pool = 16) and lets 16 more wait for
-- a slot (pool_queue = 16); an attempt gets 100 ms, and up to 2 retries
-- after an exponential, fully jittered backoff.
--
-- From 0.5 s to 2.5 s payments is 10 times slower. Its calls now hold
-- their slot for hundreds of milliseconds (timeouts, backoffs, retries).
-- With bulkhead = false (the default here) the 16 slots are shared: the
-- payments calls take them all, and catalog calls -- which need a slot for
-- only about 15 ms -- wait behind them in the same queue or find it full
-- and fail with "pool_full", though catalog itself is idle.
--
-- Run it again with `--param bulkhead=true`: api then gives each
-- dependency its own pool of 8 slots and its own queue. payments' calls
-- fail as before (it is slow), but catalog's keep their slots and their
-- normal latency. (The scenario reads the same parameter to pick its
-- expectations, so both runs pass.)
--
-- What to look for in the trace:
--   * api's `"what":"served"` notes with "dependency":"catalog": their
--     latency and "error":"pool_full" during the slow period, with and
--     without the bulkhead;
--   * api's `"what":"load"` notes: `"busy":16` during the slow period; with
--     the bulkhead, "pools" shows payments' pool full and catalog's not;
--   * catalog's `"what":"load"` notes: it is almost idle throughout.

local bulkhead = param("bulkhead", false)

cluster{
    model = "resilience",
    nodes = { "api", "payments", "catalog" },
    params = {
        workers = 4, service = ms(10), queue = 100,
        timeout = ms(100), retries = 2,
        backoff = "exponential", backoff_base = ms(50), jitter = "full",
        pool = 16, pool_queue = 16, bulkhead = bulkhead,
        slow_node = 2, slow_from = s(0.5), slow_until = s(2.5), slow_factor = 10,
    },
}

workload{ clients = 100, rate = 300, keys = { "payments", "catalog" }, mix = { read = 1 },
          timeout = s(2), duration = s(3), target = "api" }

run{ until_ = s(3.5) }

if bulkhead then
    expect{ ops_info = 0, ops_ok = { min = 550 }, invariants = true }
else
    expect{ ops_info = 0, ops_ok = { max = 500 }, invariants = true }
end
