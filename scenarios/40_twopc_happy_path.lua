-- 40: two-phase commit when nothing goes wrong.
--
-- What it shows: the "twopc" model on 4 nodes. n1 is the coordinator; n2,
-- n3 and n4 are participants, each a key-value store with one lock per key.
-- A key names its participant: "n3/b" is key b on n3. Three clients send
-- transactions of 2 or 3 reads and writes over nine keys to n1.
--
-- Each transaction takes three rounds (watch the "send" lines of one txn):
--   exec      n1 -> participants: lock the keys, read under the locks;
--   prepare   n1 -> participants: vote. A yes vote is synced to the
--             participant's log first ("vote" note): from then on it may
--             not decide alone;
--   decision  all yes -> commit, else abort. n1 logs and syncs the decision
--             ("decision" note with role coordinator) before it tells
--             anyone, then resends it until every participant acknowledges
--             ("decision" notes with role participant list what they
--             applied).
-- Locks are taken without waiting: a transaction that finds a key locked
-- by another is refused and aborts (a client "fail" with "a participant
-- refused"). That is how two-phase locking avoids deadlocks here, at the
-- price of aborts under contention -- count them with
--   grep -c '"ev":"fail"' trace.jsonl
--
-- What the checkers find: every transaction has one outcome everywhere
-- (atomicity), no participant was ever left waiting for a decision
-- (nonblocking), and the committed transactions show no G0/G1 anomaly
-- (read_committed: no aborted or intermediate reads, no dependency cycle).

cluster{
    model = "twopc",
    nodes = 4,
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

workload{
    clients = 3,
    keys = { "n2/a", "n2/b", "n2/c", "n3/a", "n3/b", "n3/c", "n4/a", "n4/b", "n4/c" },
    mix = { txn = 1 },
    txn = { min = 2, max = 3, reads = 0.5 },
    think = ms(5),
    target = "n1",
    timeout = ms(200),
    duration = s(1),
}

run{ until_ = s(1.5) }

expect{
    ops_ok = { min = 50 },
    ops_info = 0,
    invariant_violations = 0,
    atomicity = true,
    nonblocking = true,
    read_committed = true,
    invariants = true,
}
