-- 43: the coordinator crashes again and again, and recovers from its log.
--
-- What it shows: every 250 ms n1 crashes and comes back 60 ms later. Its
-- log survives (everything it logs is synced): on restart it reads its
-- decisions and the transactions it had started ("recover" note: how many
-- decisions it resent, how many undecided transactions it aborted), and
-- finishes them: logged decisions are sent again until acknowledged,
-- transactions it never decided are aborted (presumed abort: a participant
-- asking about a transaction the coordinator has no record of is told
-- abort). Blocked participants are released when it comes back
-- ("unblocked" notes with the duration, decided "by":"n1").
--
-- The network loses 2% of messages, so decisions and acknowledgements go
-- missing now and then and the resend timers matter.
--
-- atomicity holds: a decision logged before the crash is the decision
-- after it. Run it with --param mutant=forget_decision to see what the log
-- is for: the restarted coordinator ignores the decisions it logged,
-- presumes abort for transactions it had committed, and atomicity breaks
-- (committed on some participants, aborted on others).

cluster{
    model = "twopc",
    nodes = 4,
    params = { decision_delay = ms(5) },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) }, loss = 0.02 },
}

workload{
    clients = 3,
    keys = { "n2/a", "n2/b", "n2/c", "n3/a", "n3/b", "n3/c", "n4/a", "n4/b", "n4/c" },
    mix = { txn = 1 },
    txn = { min = 2, max = 3, reads = 0.5 },
    think = ms(2),
    target = "n1",
    timeout = ms(100),
    duration = s(1.2),
}

every(ms(250), crash("n1"), { start = ms(250), until_ = s(1.2) })
every(ms(250), restart("n1"), { start = ms(310), until_ = s(1.3) })

run{ until_ = s(2) }

expect{
    ops_ok = { min = 10 },
    atomicity = true,
    read_committed = true,
    invariants = true,
}
