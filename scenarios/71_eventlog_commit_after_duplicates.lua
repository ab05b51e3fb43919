-- 71: process, then commit: a consumer crash makes duplicates, loses nothing.
--
-- What it shows: the setup of 70 (brokers n1..n3, partition p on broker
-- p+1, consumers n4..n6 of group g1 with one partition each), with
-- commit = "after": a consumer processes records, and every 100 ms
-- (commit_every) tells the coordinator n1 how far it got ("committed").
-- That is at-least-once delivery.
--
-- At 590 ms n5 crashes. It had processed records of partition 1 past its
-- last commit, at 500 ms (90 ms of them). After the session timeout (60 ms
-- without a heartbeat) and the join delay (20 ms) the coordinator hands
-- partition 1 to a survivor (an "assigned" note, generation 2), which
-- starts from the last committed offset: it processes again the records
-- n5 had processed but not committed. Nothing is lost (delivery holds)
-- but some messages are processed twice (exactly_once is violated): the
-- price of at-least-once, and why consumers should be idempotent.
--
-- What to look for in the trace:
--   * `"ev":"crash","node":"n5"` at 590 ms, and n5's last "committed"
--     offset for partition 1 before it;
--   * the "assigned" note of generation 2 at about 670 ms;
--   * "consumed" notes of partition 1 from the new owner starting at that
--     committed offset: the same offsets n5 had already consumed;
--   * `sim check TRACE`: exactly_once lists each duplicate with who
--     processed it and when; delivery counts them as observations.

cluster{
    model = "eventlog",
    nodes = 6,
    params = { brokers = 3, partitions = 3, commit = "after", commit_every = ms(100) },
}

workload{
    clients = 3,
    keys = { "k1", "k2", "k3", "k5", "k7", "k10" },
    mix = { write = 1 },
    think = ms(5),
    duration = s(1),
    target = "leader",
}

at(ms(590), crash("n5"))

run{ until_ = s(1.5) }

expect{
    ops_info = 0,
    crashes = 1,
    delivery = true,        -- at-least-once: nothing lost, order kept per key
    exactly_once = false,   -- but what n5 processed after its last commit is processed again
}
