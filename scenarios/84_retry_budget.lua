-- 84: a retry budget ends the storm of 80 without slowing a single retry.
--
-- What it shows: scenario 80's cluster, clients and slow period (payments
-- 10 times slower from 1.0 s to 1.5 s), still retrying at once
-- (backoff = "none"), with one change: retry_budget = 0.1. The frontend
-- keeps a token bucket per dependency: every first attempt adds a tenth of
-- a token, every retry takes a whole one, and with no token left a failed
-- attempt is not retried -- the call fails with that attempt's error. The
-- bucket starts with 10 tokens and holds no more, so retries can never be
-- more than about 10% of the traffic plus those 10 (gRPC's retry
-- throttling and Finagle's RetryBudget work this way).
--
-- In 80 every timeout brought three more attempts, and payments' queue
-- stayed full of work nobody waited for long after it was fast again.
-- Here the bucket is empty a few milliseconds into the overload: from then
-- on a call makes one attempt (sometimes two), so the load on payments is
-- the clients' 200 requests a second, not four times that. The queue
-- fills during the slow period (requests still fail: a budget does not
-- make a slow service fast) and drains once payments is fast again;
-- from about 2.1 s requests succeed again, and the run ends as healthy as
-- 81's. Backoff (81) spaces retries out in time; a budget caps how many
-- there are. Retries are for rare failures: when most attempts fail, more
-- attempts only add load.
--
-- What to look for in the trace:
--   * payments' `"what":"load"` notes: the queue tops out near 100 at
--     1.5 s and is back to 0 at about 2.2 s (in 80 it stays at 100);
--   * api's `"what":"served"` notes during the slow period: "attempts":1
--     nearly always;
--   * api's final "state": "retries_refused_by_budget" counts the retries
--     the budget refused (about 200 on seed 1), "attempts" barely above
--     "calls".

cluster{
    model = "resilience",
    nodes = { "api", "payments" },
    params = {
        workers = 4, service = ms(10), queue = 100,
        timeout = ms(50), retries = 3, backoff = "none", retry_budget = 0.1,
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
    ops_info = 0,
    ops_ok = { min = recovered.ops_ok + 250 },   -- nearly every request after 2.5 s succeeds
    ops_fail = { max = recovered.ops_fail + 20 },
    invariants = true,
}
