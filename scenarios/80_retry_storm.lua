-- 80: a retry storm: immediate retries keep an overloaded service down
-- long after the overload's cause is gone.
--
-- What it shows: the "resilience" model. "api" (n1) is the frontend the
-- clients call; "payments" (n2) the backend it calls for every request
-- (the key names the backend). payments has 4 workers at about 10 ms a
-- request (400 requests a second) and a queue of 100; clients send 200
-- reads a second, open loop, so it is half busy. The frontend gives an
-- attempt 50 ms, then retries at once (backoff = "none"), up to 3 times,
-- with at most 32 calls in hand (pool = 32; beyond that a call fails at
-- once with "pool_full").
--
-- From 1.0 s to 1.5 s payments is 10 times slower (slow_factor): its
-- queue fills, attempts time out, and every timeout sends another attempt
-- at once. payments keeps serving the attempts the frontend has already
-- given up on (nobody tells it), so its queue stays full of wasted work,
-- every new attempt waits there longer than 50 ms, times out and is
-- retried again. When payments is fast again at 1.5 s nothing changes:
-- the retries alone keep it saturated, and until the clients stop at 4 s
-- hardly a request succeeds. A metastable failure: the trigger is gone,
-- the storm sustains itself. Compare 81 (the same with exponential
-- backoff and jitter) and 82 (with a circuit breaker).
--
-- What to look for in the trace:
--   * `"what":"load"` notes of payments: `"queue":100`, or nearly, from
--     about 1.1 s to the end (`grep '"node":"payments","what":"load"'`);
--   * `"what":"served"` notes of payments (one per attempt that reached
--     it, ok or "rejected") against those of api (one per client call,
--     with its "attempts"): about 4 attempts per call during the storm,
--     1 before it;
--   * api's served notes after 1.5 s: `"ok":false`, "error":"timeout" or
--     "rejected", and the clients' `fail` lines, while payments is busy;
--   * `sim report --text`: the roles lane shows payments "slow" only from
--     1.0 to 1.5 s.

cluster{
    model = "resilience",
    nodes = { "api", "payments" },
    params = {
        workers = 4, service = ms(10), queue = 100,
        timeout = ms(50), retries = 3, backoff = "none",
        pool = 32, pool_queue = 0,
        slow_node = 2, slow_from = s(1), slow_until = s(1.5), slow_factor = 10,
    },
}

workload{ clients = 100, rate = 200, keys = { "payments" }, mix = { read = 1 },
          timeout = s(2), duration = s(4), target = "api" }

-- a second after payments is fast again
local recovered
at(s(2.5), function() recovered = stats() end)

run{ until_ = s(4.5) }

expect{
    ops_info = 0,                                -- reads: a failure is a definite fail
    ops_ok = { max = recovered.ops_ok + 20 },    -- almost nothing succeeds after 2.5 s
    ops_fail = { min = recovered.ops_fail + 200 },
    invariants = true,
}
