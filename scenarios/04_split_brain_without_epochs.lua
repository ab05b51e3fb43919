-- 04: split brain. Without epochs nothing stops a deposed leader.
--
-- What it shows: epochs = false turns off fencing: nobody compares epochs
-- on appends, and a leader never steps down. Five nodes; at 500 ms the
-- network splits into {n1, n2} (n1 is the leader) and {n3, n4, n5}. The
-- majority side stops hearing n1, elects a new leader (n3, n4 or n5; epoch
-- 2, or 3 if the first vote splits) and takes writes from clients c2, c3. The minority side does not
-- notice anything: n1 still leads epoch 1, n2 still follows it, and client
-- c1 still gets its writes acknowledged (async replication: n1 alone is
-- enough). Two leaders, two diverging histories of the same keys.
--
-- At 1.5 s the network heals, and it gets worse, not better: both leaders
-- keep heartbeating, each one's appends conflict with the other's log, and
-- the followers, which cannot tell which leader is current, flip from one
-- to the other, throwing away whichever history they held last ("discard"
-- notes by n1, then by the new leader, then by n1 again, ...). Neither
-- leader ever gives in, so the two logs never converge: the final states
-- of n1 and of the new leader hold different values. Run it again with
-- --param epochs=true to see the fix: on heal n1 hears the new epoch, steps
-- down, and its minority-side writes are discarded once, like scenario 02.
--
-- What to look for in the trace:
--   * `"ev":"partition","groups":[["n1","n2","c1"],["n3","n4","n5","c2","c3"]]`;
--   * `"what":"elected"` on the majority side, while n1 never
--     gets a `"role":"follower"` note: two leaders from here on;
--   * during the split, "ok" lines for c1's writes (answered by n1) and for
--     c2's and c3's (answered by the new leader), on the same keys;
--   * after `"ev":"heal"`, `"what":"discard"` notes on n2..n5 alternating
--     between `"by":"n1"` and `"by"` the new leader, and appends rejected
--     with `"reason":"i am leader"` between the two leaders;
--   * the final "state" lines: two nodes with "role":"leader" (n1 in epoch
--     1, the other in epoch 2 or 3) whose "map"s differ.
--
-- Elections are random, and so is this scenario's one miss: on seed 95 (the
-- only one of 1..1000) the majority side's vote splits twice -- two nodes
-- stand at once, each needs both others' votes -- and the heal comes before
-- a third try, so there is no second leader and every expectation below
-- fails. Replay it to watch two split votes (`"role":"candidate"` notes
-- for the same epoch, microseconds apart).

local epochs = param("epochs", false)   -- --param epochs=true shows the fix

cluster{
    model = "leader_follower",
    nodes = 5,
    params = { replication = "async", epochs = epochs },
}

-- c1 always talks to n1; c2 and c3 start at n3 and follow its redirects,
-- first to n1, then (once n1 is out of reach) to the new leader.
workload{
    clients = 1,
    keys = { "x", "y" },
    mix = { read = 0.3, write = 0.7 },
    think = ms(10),
    target = "n1",
    timeout = ms(200),
    duration = ms(2200),
}
workload{
    clients = 2,
    keys = { "x", "y" },
    mix = { read = 0.3, write = 0.7 },
    think = ms(10),
    target = "n3",
    timeout = ms(200),
    duration = ms(2200),
}

at(ms(500), partition{ { "n1", "n2", "c1" }, { "n3", "n4", "n5", "c2", "c3" } })
at(ms(1500), heal())

run{ until_ = s(2.5) }

-- Both sides keep answering: availability kept, consistency lost (the
-- model's own invariant check is off without epochs, as two leaders is
-- what this setting means).
expect{
    ops_ok = { min = 300 },
    invariant_violations = 0,
    -- what the checkers must find (sim check TRACE shows the evidence):
    converges = false,          -- two leaders, two histories, never merged
    linearizable = false,
    pacelc = "PA/EL",
}
