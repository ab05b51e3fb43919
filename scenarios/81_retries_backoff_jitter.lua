-- 81: the same overload as 80, with exponential backoff and full jitter:
-- the system recovers once the cause is gone.
--
-- What it shows: scenario 80's cluster, clients and slow period (payments
-- 10 times slower from 1.0 s to 1.5 s), with one change: a failed attempt
-- is retried after a delay drawn from [0, d] (jitter = "full"), where d is
-- 100 ms before the first retry and doubles before each next one
-- (backoff = "exponential", backoff_base = 100ms). A call waiting for its
-- retry holds its slot and sends nothing, so the 32 calls in hand send far
-- fewer attempts a second than payments can serve; the queue of abandoned
-- attempts drains, attempts start to succeed, retries stop, and from about
-- 2.25 s requests succeed at the normal latency again. The jitter spreads
-- the retries of calls that failed together, so they do not come back
-- together.
--
-- During the slow period requests fail here too: backoff does not make a
-- slow service fast. It keeps the retries from keeping it slow.
--
-- What to look for in the trace:
--   * payments' `"what":"load"` notes: the queue reaches 100 and is back
--     near 0 at about 2.25 s (in 80 it stays at 100);
--   * api's `"what":"served"` notes: "attempts" above 1 only around the
--     slow period;
--   * the clients' `ok` lines again from about 1.8 s.

cluster{
    model = "resilience",
    nodes = { "api", "payments" },
    params = {
        workers = 4, service = ms(10), queue = 100,
        timeout = ms(50), retries = 3,
        backoff = "exponential", backoff_base = ms(100), backoff_cap = s(1), jitter = "full",
        pool = 32, pool_queue = 0,
        slow_node = 2, slow_from = s(1), slow_until = s(1.5), slow_factor = 10,
    },
}

workload{ clients = 100, rate = 200, keys = { "payments" }, mix = { read = 1 },
          timeout = s(2), duration = s(4), target = "api" }

local recovered
at(s(2.5), function() recovered = stats() end)

run{ until_ = s(4.5) }

expect{
    ops_info = 0,
    ops_ok = { min = recovered.ops_ok + 250 },   -- nearly every request after 2.5 s succeeds
    ops_fail = { max = recovered.ops_fail + 20 },
    invariants = true,
}
