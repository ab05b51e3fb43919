-- 51: the lock server's clock runs fast: two workers act as the holder.
--
-- What it shows: the same lock as scenario 53 (n1 server, n2 storage, n3..n5
-- workers), with a TTL of 100 ms and jobs of 80 ms: on honest clocks every
-- job ends well before its lease. But n1's clock runs twice as fast as true
-- time (skew with drift 1.0: a broken clock, or NTP slewing hard), and the
-- TTL is measured on the server's clock. So every lease ends after 50 ms of
-- true time: the server gives the lock to the next worker while the holder,
-- whose own clock is right, is still working and still believes, correctly
-- by its clock, that its lease has 50 ms to go. It then writes. Nobody
-- paused and nobody crashed; a lease is only as good as the clocks behind
-- it.
--
-- mutual_exclusion is violated: writes from workers whose lock the server
-- had already granted to another; and two workers believed at once.

cluster{
    model = "lock",
    nodes = 5,
    params = { ttl = ms(100), work = ms(80), fencing = false },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

skew("n1", 0, 1.0)

run{ until_ = s(1) }

expect{
    mutual_exclusion = false,
    invariants = true,
}
