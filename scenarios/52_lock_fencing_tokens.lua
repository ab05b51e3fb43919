-- 52: the GC pause of scenario 50, with fencing tokens: the storage rejects
-- the stale write.
--
-- What it shows: everything happens as in scenario 50. n3 gets the lock
-- with token 1, freezes for 200 ms in the middle of its work, the server's
-- TTL runs out, the next workers get tokens 2 and 3 and write. At 220 ms n3
-- wakes up and writes with token 1, still believing it holds the lock: the
-- pause cannot be prevented and n3 cannot know about it. What changes is
-- the storage (fencing = true): it remembers the highest token it has seen
-- (3) and rejects the write that carries 1 ("storage_write" with accepted
-- false). The lock service's grants are numbered, and the resource itself,
-- not the worker's belief, enforces the order.
--
-- mutual_exclusion holds: the two workers still believed at the same time
-- (reported as an observation), but the storage accepted no write from a
-- worker whose lock had passed on. (Fencing needs the new holder to reach
-- the storage first: a stale write arriving before the new holder's first
-- write would still get through, see docs/models/lock.md.)

cluster{
    model = "lock",
    nodes = 5,
    params = { ttl = ms(100), work = ms(30), fencing = true },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

at(ms(20), pause("n3", ms(200)))

run{ until_ = s(1) }

expect{
    mutual_exclusion = true,
    invariants = true,
}
