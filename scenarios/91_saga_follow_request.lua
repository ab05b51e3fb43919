-- 91: following one request across services: a saga's steps, its
-- compensation, and the objective it is held to.
--
-- What it shows: the "saga" model of scenario 44 (n1 orchestrates
-- book_flight on n2, book_hotel on n3, book_car on n4), where each step
-- fails with probability 0.1 (fail_prob) and the network loses 2% of the
-- messages (the orchestrator sends again after 20 ms). A client's
-- write to n1 starts one saga. The engine gives every message sent on
-- behalf of that client operation the operation's id: the trace's send
-- lines carry "req":ID (and notes written meanwhile carry it too), so
-- `sim report --text --req ID TRACE` prints one request's path: the
-- request, each do and its answer, the undo messages of a compensation,
-- the notes, and the reply.
--
-- The objective: every saga answered (availability counts a compensated
-- saga's "fail" against it, so it is set at 0.5: with three steps that
-- each fail one time in ten, about a quarter of the sagas are compensated)
-- and 99% of the successful ones within 100 ms (a lost message costs a
-- 20 ms resend, and a saga can lose more than one). Both hold: 61 of 93
-- sagas completed, and the slowest ones are those that waited for a lost
-- message's resend. Over seeds 1 to 1000 the objective holds on every
-- one. (The clients give up on a saga after 100 ms: with 500 ms, each lost
-- request or reply cost a client half a second, and on 5 seeds the two
-- clients managed so few sagas, 14 to 27, that a few compensations put
-- availability under 0.5.)
--
-- What to look at:
--   * `sim report --text TRACE`: the slo verdict, and the RED table of
--     the clients service;
--   * `sim report --text --req 1 TRACE`: the first saga's path;
--   * in the HTML report, click an operation bar: its messages turn purple.

cluster{
    model = "saga",
    nodes = 4,
    params = { fail_prob = 0.1 },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) }, loss = 0.02 },
}

workload{ clients = 2, keys = { "trip" }, mix = { write = 1 }, think = ms(5), target = "n1",
          timeout = ms(100), duration = s(1) }

run{ until_ = s(1.5) }

expect{
    ops_ok = { min = 10 },
    saga = true,
    slo = { availability = 0.5, p99 = ms(100) },
}
