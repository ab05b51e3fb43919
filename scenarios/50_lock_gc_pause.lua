-- 50: a GC pause past the TTL: two workers act as the lock's holder.
--
-- What it shows: n1 is the lock server, n2 the storage, n3..n5 workers
-- (docs/models/lock.md). n3 asks first and gets the lock with fencing
-- token 1 for 100 ms (SET lock n3 NX PX 100). It works 30 ms, then writes
-- to the storage. But at 20 ms, in the middle of its work, n3 freezes for
-- 200 ms: a stop-the-world garbage collection. Its clock keeps running; its
-- timers wait. At about 105 ms the server's TTL runs out, and n4 (or n5)
-- gets the lock with token 2, works and writes. At 220 ms n3 wakes up. Its
-- work timer was due first, so it writes at once, with token 1, believing
-- it still holds the lock (its own lease timer fires right after:
-- "lease_over"). The storage accepts it and the newer holder's write is
-- overwritten. n3's release is refused by compare-and-delete: the lock is
-- no longer n3's ("unlock_refused"), which protects the lock but not the
-- data.
--
-- mutual_exclusion is violated: a write from a worker whose lock the server
-- had already granted to another. Scenario 52 is the same with fencing.

cluster{
    model = "lock",
    nodes = 5,
    params = { ttl = ms(100), work = ms(30), fencing = false },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

at(ms(20), pause("n3", ms(200)))

run{ until_ = s(1) }

expect{
    mutual_exclusion = false,
    invariants = true,
}
