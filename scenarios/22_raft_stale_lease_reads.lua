-- 22: lease reads go stale when the old leader's clock runs slow.
--
-- What it shows: with reads = "lease" a Raft leader answers reads from its
-- own copy, without asking anyone, as long as its lease runs. The lease
-- starts when a majority acknowledged a heartbeat the leader sent at time T
-- (on its own clock) and lasts lease_ratio x election_timeout (here 0.9 x
-- 150 ms = 135 ms) of the leader's clock. That is safe only if clocks run at
-- (nearly) the same rate: the followers that acknowledged will not vote for
-- anybody else until they have not heard from the leader for 150 ms of
-- *their* clocks, so no new leader can commit anything before T + 150 ms.
--
-- At 1 s the leader n1 is cut off with n2 (the minority) from n3, n4, n5,
-- and at the same moment its clock starts running at a tenth of the real
-- rate (skew drift -0.9; the offset keeps its clock continuous). n1 still
-- believes it leads, and its lease, 135 ms on its slow clock, lasts some
-- 1.35 s of real time -- past the heal at 2 s. Within 150-350 ms (or a few
-- rounds more, when the majority's vote splits) the majority elects a new
-- leader and commits new writes; n1 keeps answering reads from its old
-- copy until the heal tells it about the new term: the client reading from
-- n1 sees values that were overwritten before its read began. Not
-- linearizable. (With drift -0.8 the lease lasted about 675 ms, and on 4
-- seeds of 1..1000 the vote split twice, the new leader came after the
-- lease had run out, and no read was stale.)
--
-- Its writes never commit (n1 and n2 are not a majority), so nothing is
-- lost, and the protocol's own invariants hold: a lease is an optimisation
-- that trusts clocks, not part of Raft's safety argument.
--
-- Try: `--param drift=0` (the clock is not skewed): n1's lease ends before
-- anyone else can be elected, and `sim check TRACE --only linearizable`
-- says the run holds (the scenario's own expectation then fails, on
-- purpose). `--param reads=readindex`: n1 must confirm its leadership with
-- a heartbeat round for every read, cannot, and stale reads disappear.
--
-- n1 is made the first leader as in scenario 20.
--
-- What to look for in the trace:
--   * `"ev":"clock","node":"n1","drift_ppb":-900000000` at 1 s;
--   * `"what":"elected"` on n3, n4 or n5 some 150-350 ms later, followed by
--     writes acknowledged by the new leader;
--   * reads by c1 answered by n1 (a reply sent from n1) after that, with
--     the old values: the linearizable checker names one.

local drift = param("drift", -0.9)

cluster{
    model = "raft",
    nodes = 5,
    params = { reads = "lease", prevote = true, heartbeat = ms(50), election_timeout = ms(150) },
}

local others = { "n2", "n3", "n4", "n5" }
at(0, function()
    for _, a in ipairs(others) do
        for _, b in ipairs(others) do
            if a ~= b then cut(a, b) end
        end
    end
end)
at(ms(400), heal())

-- c1 reads from n1 only, as a client would that keeps talking to the node
-- it last found leading; c2, c3 write through whoever leads
workload{ clients = 1, keys = { "x" }, mix = { read = 1 }, think = ms(5), target = "n1",
          timeout = ms(100), start = ms(500), duration = s(2) }
workload{ clients = 2, keys = { "x" }, mix = { write = 1 }, think = ms(5), target = "leader",
          timeout = ms(100), retries = 3, start = ms(500), duration = s(2) }

at(s(1), function()
    partition{ { "n1", "n2", "c1" }, { "n3", "n4", "n5", "c2", "c3" } }
    if drift ~= 0 then skew("n1", 0, drift) end
end)
at(s(2), heal())

run{ until_ = s(4) }

expect{
    invariant_violations = 0,
    invariants = true,
    linearizable = false,     -- n1 served stale reads under its stretched lease
    no_lost_writes = true,
}
