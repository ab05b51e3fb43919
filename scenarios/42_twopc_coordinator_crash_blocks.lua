-- 42: the coordinator dies after collecting the votes: participants block.
--
-- What it shows: two-phase commit's famous weakness. Writing the decision
-- takes the coordinator 50 ms here (decision_delay: a slow log write; a
-- participant waits 100 ms for a decision, decision_timeout, before it
-- calls itself blocked), and at 300 ms it crashes, never to come back in
-- this run. (With 24 keys, few transactions abort on a lock, so a crash at
-- 300 ms usually finds votes collected and no decision yet -- but not on
-- every seed: on seed 388 every transaction was decided or still executing.
-- So a fourth client, c4, starts one transaction at 285 ms on keys nobody
-- else touches, "n2/z", "n3/z", "n4/z": nothing can refuse it, its
-- participants have voted by 297 ms at the latest, and its decision is
-- still being written at 300 ms.) Transactions whose
-- votes were all in have participants that voted yes: they promised to
-- commit if told to, so they may not abort on their own; they cannot
-- commit either, since another participant may have voted no. They are
-- blocked, and they keep their locks: every later transaction touching
-- those keys is refused.
--
-- What to look for in the trace:
--   * "blocked" notes (a participant noticed, decision_timeout after its
--     yes vote) with "since" (when it voted) and "holding":true;
--   * "query" messages to n1 every 50 ms, dropped: n1 is down;
--   * no "unblocked" note: they are still blocked at the end.
-- The nonblocking checker reports how long (sim check TRACE: the longest,
-- the total, each episode). atomicity still holds: blocking is the price
-- 2PC pays to stay atomic.
--
-- Try --param cooperative_termination=true: the blocked participants also
-- ask each other. It does not help here: all of them voted yes and none
-- knows the decision, so nobody can tell (only the coordinator could).
-- It helps when some participant knows the outcome or has not voted yet;
-- see docs/models/twopc.md. Three-phase commit and Paxos Commit remove the
-- block at the cost of more rounds.

cluster{
    model = "twopc",
    nodes = 4,
    params = { decision_delay = ms(50), decision_timeout = ms(100) },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

workload{
    clients = 3,
    keys = { "n2/a", "n2/b", "n2/c", "n2/d", "n2/e", "n2/f", "n2/g", "n2/h", "n3/a", "n3/b", "n3/c", "n3/d", "n3/e", "n3/f", "n3/g", "n3/h", "n4/a", "n4/b", "n4/c", "n4/d", "n4/e", "n4/f", "n4/g", "n4/h" },
    mix = { txn = 1 },
    txn = { min = 2, max = 3, reads = 0.5 },
    think = ms(2),
    target = "n1",
    timeout = ms(100),
    duration = s(1),
}

workload{
    clients = 1,
    keys = { "n2/z", "n3/z", "n4/z" },
    mix = { txn = 1 },
    txn = { min = 2, max = 3, reads = 0 },
    target = "n1",
    timeout = ms(100),
    start = ms(285),
    duration = ms(1),
}

at(ms(300), crash("n1"))

run{ until_ = s(1.5) }

expect{
    ops_ok = { min = 5 },
    atomicity = true,
    nonblocking = false,   -- participants stay blocked, holding their locks
    read_committed = true,
    invariants = true,
}
