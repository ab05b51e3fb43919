-- 41: one participant votes no, and the whole transaction aborts.
--
-- What it shows: the same cluster as scenario 40, but n3 always votes no
-- (parameter no_voters = "n3") and every other participant votes no one
-- time in ten (vote_no = 0.1) -- think of a constraint check failing, or a
-- disk full. One no is enough: the coordinator decides abort, logs it, and
-- tells every participant, which drop their staged writes and release
-- their locks. Every transaction that touches n3 fails ("aborted: a
-- participant voted no"); transactions on n2 and n4 alone commit unless
-- one of them says no.
--
-- What to look for in the trace:
--   * "vote" notes with "vote":"no" and why;
--   * the coordinator's "decision" note with "because_of":"n3";
--   * participants' "decision" notes with outcome abort and no writes.
-- atomicity holds: aborted means aborted everywhere. read_committed holds:
-- no committed transaction ever read a value an aborted one wrote (that
-- would be G1a, an aborted read).

cluster{
    model = "twopc",
    nodes = 4,
    params = { no_voters = "n3", vote_no = 0.1 },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

workload{
    clients = 3,
    keys = { "n2/a", "n2/b", "n3/a", "n3/b", "n4/a", "n4/b" },
    mix = { txn = 1 },
    txn = { min = 2, max = 2, reads = 0.3 },
    think = ms(5),
    target = "n1",
    timeout = ms(200),
    duration = s(1),
}

run{ until_ = s(1.5) }

expect{
    ops_ok = { min = 5 },
    ops_fail = { min = 20 },
    ops_info = 0,
    atomicity = true,
    nonblocking = true,
    read_committed = true,
    invariants = true,
}
