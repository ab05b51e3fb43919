-- 74: acks = 1 and a leader crash lose acknowledged messages; acks = all
-- does not.
--
-- What it shows: the setup of 70 with replicas = 2: partition p is kept by
-- broker p+1 (its first leader) and by the next broker, which follows it
-- and fetches new records every 50 ms (replica_fetch). n1 is also the
-- controller: it hears every broker's heartbeat and, when a partition's
-- leader goes silent for the session timeout (60 ms), makes the live
-- in-sync replica with the most of the log the leader, in a new epoch (a
-- "leader" note). In sync: a follower that keeps fetching and has caught
-- up, as the leader reported and the controller accepted. Consumers read a partition only up to its high watermark: what
-- every in-sync replica has.
--
-- With acks = "1" a produce is acknowledged as soon as the leader has
-- written it. At 450 ms the link from n2, partition 1's leader, to its
-- follower n3 goes down (one way: n3's fetches arrive, n2's answers do
-- not), and at 530 ms n2 crashes (the link is healed at 540 ms). n3 has
-- 80 ms and more less of the log: those messages were acknowledged, exist
-- only on n2's disk, and n3 becomes leader without them (the "leader" note
-- gives its log_end). When n2 restarts at 1.2 s it follows n3 and cuts the
-- lost tail off its own log (a "truncated" note: from, to). Nobody ever
-- processes those messages: delivery is violated, and `sim check` names
-- them with the offsets they had on n2.
--
-- (Without the cut, a follower that happened to fetch just before the
-- crash would have everything: 7 seeds in 100 lost nothing.)
--
-- Rerun with --param acks=all: a produce is acknowledged only once every
-- in-sync replica has it, so the new leader has every acknowledged message
-- and delivery holds (the expectation below then fails: exit 1). The price
-- is latency: each produce waits for the follower's next fetch.
--
-- What to look for in the trace:
--   * `"what":"leader","partition":1,"leader":"n3"` at about 590 ms;
--   * `"what":"truncated"` from n2 after its restart;
--   * the final "state" lines: each broker's "leads" and "hw".

cluster{
    model = "eventlog",
    nodes = 6,
    params = { brokers = 3, partitions = 3, replicas = 2, acks = "1", replica_fetch = ms(50) },
}

workload{
    clients = 3,
    keys = { "k1", "k2", "k3", "k5", "k7", "k10" },
    mix = { write = 1 },
    think = ms(5),
    start = ms(20),
    duration = s(1),
    timeout = ms(200),
}

at(ms(450), cut("n2", "n3"))
at(ms(530), crash("n2"))
at(ms(540), heal())
at(ms(1200), restart("n2"))

run{ until_ = s(2) }

expect{
    crashes = 1,
    delivery = false,   -- acknowledged by n2 alone, gone with it
}
