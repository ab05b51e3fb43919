-- 72: commit, then process: a consumer crash loses messages.
--
-- What it shows: the setup of 70 with commit = "before": a consumer
-- fetches a batch of up to 8 records, commits the offset after the batch
-- ("committed"), and only then processes the records, 10 ms each. That is
-- at-most-once delivery.
--
-- At 530 ms n5 crashes in the middle of a batch of partition 1: the
-- records of that batch it had not processed yet are already committed.
-- The survivor that takes partition 1 over (generation 2) starts from the
-- committed offset, after them: nobody ever processes them. delivery and
-- exactly_once are both violated, and `sim check` names each lost
-- message: who produced it, when it was acknowledged, its partition and
-- offset. Nothing is processed twice.
--
-- A crash loses messages only when it falls inside a batch: a consumer
-- that has caught up and waits for records loses nothing (n5's crash alone
-- finds it idle on 8 seeds in 100). So two more consumers crash later, each
-- another chance: n6 at 770 ms and n4 at 1.01 s (n5 and n6 restart 120 ms
-- after their crash and rejoin the group). Every seed then loses messages.
--
-- Compare 71: the same crash with commit = "after" loses nothing and
-- duplicates a few messages instead.
--
-- What to look for in the trace:
--   * n1's last "committed" note for partition 1 from n5 before 530 ms, and
--     n5's last "consumed" offset for partition 1: the offsets in between
--     are the lost ones;
--   * the new owner's first "consumed" offset of partition 1: the
--     committed one.

cluster{
    model = "eventlog",
    nodes = 6,
    params = { brokers = 3, partitions = 3, commit = "before", work = ms(10), batch = 8 },
}

workload{
    clients = 3,
    keys = { "k1", "k2", "k3", "k5", "k7", "k10" },
    mix = { write = 1 },
    think = ms(5),
    duration = s(1),
    target = "leader",
}

at(ms(530), crash("n5"))
at(ms(650), restart("n5"))
at(ms(770), crash("n6"))
at(ms(890), restart("n6"))
at(ms(1010), crash("n4"))

run{ until_ = s(3) }

expect{
    ops_info = 0,
    crashes = 3,
    delivery = false,       -- at-most-once: the rest of n5's batch is never processed
    exactly_once = false,
}
