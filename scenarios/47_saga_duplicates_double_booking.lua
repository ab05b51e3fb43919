-- 47: the same duplicates without idempotency: double bookings.
--
-- What it shows: scenario 46 with idempotent = false. Every do message
-- books, so a duplicate books the hotel a second time for the same trip; a
-- compensation cancels one booking, so a compensated saga can leave a
-- booking behind; and a delayed do that arrives after its undo books
-- again. The saga checker names each: "completed but step 2 holds 2 live
-- bookings", "compensated but still holds a booking", "booked after its
-- compensation had run".
--
-- What to look for in the trace: "step" notes with "bookings":2 (or more)
-- for one saga id. The fix is scenario 46: remember what was done per
-- saga id, durably, and answer a duplicate with the first answer.

cluster{
    model = "saga",
    nodes = 4,
    params = { fail_prob = 0.2, retry = ms(5), idempotent = false },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(4) }, dup = 0.2 },
}

workload{ clients = 2, keys = { "trip" }, mix = { write = 1 }, think = ms(5), target = "n1",
          timeout = ms(300), duration = s(1) }

run{ until_ = s(1.5) }

expect{
    saga = false,   -- double bookings, and bookings left after compensation
    invariants = true,
}
