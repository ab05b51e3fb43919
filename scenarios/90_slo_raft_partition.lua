-- 90: a service-level objective that a partition breaks, and the window
-- that broke it.
--
-- What it shows: a five-node Raft cluster serves four clients for 4 s.
-- The objective is the one an operator would write down: 99.9% of the
-- operations answered ok, and 99% of them within 50 ms, judged over the
-- whole run and per 250 ms window. From 1.5 s to 2.5 s the leader n1 and
-- clients c1, c2 are cut off from the majority: n1 keeps accepting their
-- operations and can commit none, so they time out (info) or fail, while
-- c3 and c4 wait for a new leader and then carry on.
--
-- The run's verdict says by how much the objective was missed, and which
-- window was worst ("during a partition"): availability over the whole
-- run looks almost fine (0.98), the worst window does not. The p99 of the
-- ok operations stays within 50 ms: what failed, failed by timing out. The expectation says
-- met = false: this scenario exists to show the breach.
--
-- What to look at:
--   * `sim report --text TRACE`: the "services (RED)" table of the clients
--     service, window by window: the rate drops and the errors jump at
--     1.5 s, and p99 (of every answer, timeouts included) follows;
--   * `"ev":"slo"` in the trace: the objective as the judge reads it, so
--     `sim check TRACE` and `sim report` give the same verdict.

cluster{
    model = "raft",
    nodes = 5,
    params = { prevote = true, heartbeat = ms(50), election_timeout = ms(150) },
}

local others = { "n2", "n3", "n4", "n5" }
at(0, function()
    for _, a in ipairs(others) do
        for _, b in ipairs(others) do
            if a ~= b then cut(a, b) end
        end
    end
end)
at(ms(400), heal())

workload{
    clients = 4,
    keys = { "x", "y" },
    mix = { read = 0.5, write = 0.5 },
    think = ms(10),
    target = "leader",
    timeout = ms(100),
    retries = 1,
    start = ms(500),
    duration = s(3.5),
}

at(s(1.5), partition{ { "n1", "n2", "c1", "c2" }, { "n3", "n4", "n5", "c3", "c4" } })
at(s(2.5), heal())

run{ until_ = s(4) }

expect{
    ops_ok = { min = 300 },
    linearizable = true,
    slo = { availability = 0.999, p99 = ms(50), window = ms(250), met = false },
}
