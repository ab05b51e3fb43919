-- 73: a round-robin partitioner spreads one key over every partition, and
-- its order is gone.
--
-- What it shows: the setup of 70 with partitioner = "round_robin": a
-- produce goes to partition (operation id mod 3), whatever its key. Two
-- keys, k1 and k2, now each have messages in all three partitions. Each
-- partition is still read in order by its consumer (n4, n5 or n6), but the
-- three consumers run side by side, at their own pace: a message produced
-- after another of the same key, in another partition, is often processed
-- first. Nothing crashes: nothing is lost or processed twice
-- (exactly_once holds), but delivery is violated: it names the pairs of
-- messages of one key that the group processed in the opposite order of
-- their produces.
--
-- Run it with --param partitioner=key and every key's messages share a
-- partition again: delivery holds (and the expectations here fail).
--
-- What to look for in the trace:
--   * "appended" notes: k1's messages in partitions 0, 1 and 2;
--   * `sim check TRACE --only delivery`: each finding gives both messages,
--     their partitions and offsets, when the first was acknowledged, when
--     the second was sent, and who processed them when.

cluster{
    model = "eventlog",
    nodes = 6,
    params = { brokers = 3, partitions = 3, partitioner = "round_robin", work = ms(4) },
}

workload{
    clients = 3,
    keys = { "k1", "k2" },
    mix = { write = 1 },
    think = ms(5),
    duration = s(1),
    target = "leader",
}

run{ until_ = s(2) }

expect{
    ops_info = 0,
    delivery = false,      -- one key's messages processed out of produce order
    exactly_once = true,   -- but each exactly once
}
