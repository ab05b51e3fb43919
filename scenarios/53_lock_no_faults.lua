-- 53: a lock with a TTL and no faults: mutual exclusion holds.
--
-- What it shows: n1 is the lock server, n2 the storage, n3..n5 are
-- workers. Each worker loops: it asks for the lock (SET lock me NX PX
-- 100ms), works 30 ms, writes to the storage with its fencing token, and
-- releases the lock (compare-and-delete). With no pauses and honest clocks
-- every job ends well inside its TTL, so the workers take turns: the
-- storage sees the tokens 1, 2, 3, ... in order, and no two workers ever
-- believe they hold the lock at the same time.
--
-- mutual_exclusion holds: every write was accepted in lock order.

cluster{
    model = "lock",
    nodes = 5,
    params = { ttl = ms(100), work = ms(30) },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

run{ until_ = s(1) }

expect{
    mutual_exclusion = true,
    invariants = true,
}
