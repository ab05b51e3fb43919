-- 45: the orchestrator crashes mid-saga and resumes from its saga log.
--
-- What it shows: orchestration with one step in five failing at random
-- (fail_prob = 0.2). The orchestrator n1 logs every saga's progress (which
-- step is being done, or which compensation) and syncs it before sending
-- the next message. At 300 ms and 700 ms it crashes; 100 ms later it comes
-- back, reads the log ("resume" note: how many sagas were under way) and
-- sends the current do or undo again. The service may have done it
-- already: it recognises the saga id and answers without booking twice
-- (idempotent). Clients whose saga was under way time out (info) unless
-- their retry reaches the restarted orchestrator, which then answers from
-- the log.
--
-- saga holds: every saga ends completed or fully compensated even across
-- the crashes.

cluster{
    model = "saga",
    nodes = 4,
    params = { fail_prob = 0.2 },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

workload{ clients = 3, keys = { "trip" }, mix = { write = 1 }, think = ms(5), target = "n1",
          timeout = ms(60), retries = 3, backoff = ms(40), duration = s(1) }

at(ms(300), crash("n1"))
at(ms(400), restart("n1"))
at(ms(700), crash("n1"))
at(ms(800), restart("n1"))

run{ until_ = s(1.6) }

expect{
    ops_ok = { min = 10 },
    saga = true,
    invariants = true,
}
