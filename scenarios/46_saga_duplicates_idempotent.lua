-- 46: at-least-once delivery duplicates messages; idempotent steps absorb them.
--
-- What it shows: the network delivers one message in five twice (dup =
-- 0.2), and the orchestrator resends any do/undo that is not answered
-- within 5 ms (retry = 5ms, below the round trip now and then). Services
-- see the same do and undo several times. Each keeps, durably and per saga
-- id, whether it booked and whether it cancelled: a second do is answered
-- with the first result, an undo after an undo does nothing, and a do that
-- arrives after the undo books nothing.
--
-- Run it with --param style=choreography: services resend their events
-- to each other until acknowledged, with the same effect.
--
-- Compare with scenario 47, the same run with idempotent = false.

cluster{
    model = "saga",
    nodes = 4,
    params = { fail_prob = 0.2, retry = ms(5) },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(4) }, dup = 0.2 },
}

workload{ clients = 2, keys = { "trip" }, mix = { write = 1 }, think = ms(5), target = "n1",
          timeout = ms(300), duration = s(1) }

run{ until_ = s(1.5) }

expect{
    ops_ok = { min = 10 },
    saga = true,
    invariants = true,
}
