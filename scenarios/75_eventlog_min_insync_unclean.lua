-- 75: acks = all is not enough: with min_insync = 1 the in-sync set shrinks
-- to the leader alone, and an unclean election loses what it acknowledged.
--
-- What it shows: the event log of 74 (3 brokers, 3 partitions, 2 copies
-- each; n1 is the controller), with acks = "all": a produce is
-- acknowledged once every in-sync replica has it. Four clients produce
-- with keys k7 and k10, which both hash to partition 1, led by n2 and
-- followed by n3 (fetching every 10 ms). The group's consumer of
-- partition 1 takes 10 ms per record, slower than the producers write, so
-- it lags behind the log -- as real consumers often do.
--
-- The catch is "in-sync". At 400 ms n3 is cut off from everybody. Its
-- fetches stop; after the session timeout (60 ms) n2 asks the controller
-- to drop n3 from partition 1's in-sync set, and from then on n2 alone is
-- "every in-sync replica": acks = all acknowledges what only n2 has,
-- exactly like acks = 1 (seed 1: offsets 52 to 123).
--
-- At 690 ms n2 crashes, and at 700 ms n3 comes back. Partition 1 has no
-- live in-sync replica. Two choices, both of them Kafka settings:
--
--   * unclean_election = true (this scenario's default): the controller
--     makes n3 leader anyway (a "leader" note with "unclean":true and
--     n3's log_end, 52 on seed 1). Partition 1 is available again at once
--     -- without everything n2 acknowledged alone. When n2 restarts at
--     1.2 s it follows n3 and cuts those records off its log ("truncated",
--     from 124 to 52). The ones the lagging consumer had not processed yet
--     are gone: delivery is violated, and `sim check` lists them (62 on
--     seed 1). Availability chosen over consistency.
--
--   * --param unclean=false: the partition waits for an in-sync replica.
--     Produces to partition 1 time out from 690 ms until n2 is back at
--     1.2 s and leads again; nothing acknowledged is lost.
--
-- The setting that makes acks = all mean what it says is min_insync
-- (Kafka's min.insync.replicas). Rerun with
--
--     sim run scenarios/75_eventlog_min_insync_unclean.lua --param min_insync=2
--
-- and n2 refuses produces as soon as n3 has left the in-sync set ("not
-- enough in-sync replicas (fewer than min_insync)"), and acknowledges nothing
-- more: the clients see failures during the cut instead of
-- acknowledgements that will be lost, and even the unclean election loses
-- nothing acknowledged, because n3 had everything that was. (n3, leading
-- alone afterwards, refuses too, until n2 is back in sync.) The price is
-- the availability of writes while a replica is away.
--
-- What to look for in the trace:
--   * `"ev":"isolate","node":"n3"` at 400 ms, then no more fetches from n3;
--   * `"what":"leader","partition":1,"leader":"n3",...,"unclean":true`;
--   * `"what":"truncated"` from n2 after its restart;
--   * with min_insync = 2: "fail" lines with "not enough in-sync replicas".

local min_insync = param("min_insync", 1)
local unclean = param("unclean", true)

cluster{
    model = "eventlog",
    nodes = 6,
    params = { brokers = 3, partitions = 3, replicas = 2, acks = "all", replica_fetch = ms(10),
               work = ms(10), min_insync = min_insync, unclean_election = unclean },
}

workload{
    clients = 4,
    keys = { "k7", "k10" },   -- both in partition 1
    mix = { write = 1 },
    think = ms(5),
    start = ms(20),
    duration = s(1),
    timeout = ms(200),
}

at(ms(400), isolate("n3"))
at(ms(690), crash("n2"))
at(ms(700), heal())
at(ms(1200), restart("n2"))

run{ until_ = s(4) }   -- time for the lagging consumer to catch up

if min_insync == 1 and unclean then
    expect{
        crashes = 1,
        delivery = false,   -- acknowledged by n2 alone, gone with the unclean election
    }
else
    expect{
        crashes = 1,
        delivery = true,    -- what was acknowledged, every in-sync replica had
    }
end
