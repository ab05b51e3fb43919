-- 70: an event log keeps each key's messages in order, not the whole topic's.
--
-- What it shows: the "eventlog" model (docs/models/eventlog.md). n1..n3 are
-- brokers; the topic has 3 partitions, partition p led by broker p+1
-- (partition 0 on n1, 1 on n2, 2 on n3). n4..n6 are consumers of group g1;
-- after they join, the coordinator n1 gives each one partition (an
-- "assigned" note, generation 1). Three producers (c1..c3) write to six
-- keys; a produce is a client write, and its partition is hash(key) mod 3:
-- k1 and k2 go to partition 0, k7 and k10 to partition 1, k3 and k5 to
-- partition 2. The leader appends the message at the partition's next
-- offset ("appended" note) and answers with that offset.
--
-- Each consumer reads its partition in offset order, so each key's
-- messages are processed in the order they were produced, while messages
-- of different keys in different partitions interleave freely: n4 may be
-- at k1's 30th message while n6 is at k3's 20th. Nothing crashes: every
-- acknowledged message is processed exactly once.
--
-- What to look for in the trace:
--   * the "assigned" note of n1 at about 20 ms: n4 has [0], n5 [1], n6 [2];
--   * "appended" notes: one key always lands in the same partition;
--   * "consumed" notes: per partition the offsets go 0, 1, 2, ... with no
--     gap and no repeat, and "committed" notes every 50 ms;
--   * `sim check TRACE --only delivery,exactly_once`: both hold.

cluster{
    model = "eventlog",
    nodes = 6,
    params = { brokers = 3, partitions = 3 },
}

workload{
    clients = 3,
    keys = { "k1", "k2", "k3", "k5", "k7", "k10" },
    mix = { write = 1 },
    think = ms(5),
    duration = s(1),
    target = "leader",
}

run{ until_ = s(1.5) }

expect{
    ops_info = 0,
    ops_ok = { min = 200 },
    delivery = true,       -- nothing lost, every key in produce order
    exactly_once = true,   -- no crash: nothing processed twice either
}
