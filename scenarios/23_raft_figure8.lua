-- 23: the Figure 8 schedule of the Raft paper, and the rule that defuses it.
--
-- What it shows: why a Raft leader may commit only entries of its own term
-- by counting replicas. Five nodes; the network decides who can win each
-- election (one-way cuts among the followers, so only the node we want can
-- collect a majority), and the schedule is the paper's Figure 8:
--
--   (a) n1 leads. It is cut off with n2, and a client write X reaches it:
--       X is replicated to n2 only, so it is not committed.
--   (b) n1 crashes. n5 wins an election with n3 and n4 (none of them has
--       X) in a later term, takes a client write Y, and is cut off before
--       replicating it, then crashes.
--   (c) n1 restarts and wins with n2, n3 and n4 (its log, ending in X, is
--       at least as up to date as theirs). It replicates X to n3 and n4:
--       X is now on a majority (n1, n2, n3, n4). Is X committed?
--   (d) n1 crashes; n5 restarts. Its log ends in Y, whose term is newer
--       than X's, so n2, n3 and n4 vote for it, and it overwrites X with Y
--       everywhere.
--
-- With the real rule, in (c) n1 does not commit X: X is from an earlier
-- term, and n1 has no entry of its own term on a majority (the scenario
-- turns the election no-op off, `noop = false`, exactly to leave that
-- window open). Overwriting X in (d) is therefore fine: X was never
-- committed, no node applied it, and the protocol invariants hold. The
-- write X ends as info (timed out), Y commits once n5 adds an entry of its
-- own term (the clients of the last phase), and the replicas converge.
--
-- With `--param mutant=commit_old_term` n1 commits X in (c) by counting its
-- replicas; n2, n3, n4 apply it; and in (d) n5 becomes leader without it.
-- The run then breaks "leader completeness" (n5 leads but lacks an entry
-- committed on n2) and, once Y overwrites X, "state machine safety" (two
-- nodes applied different commands at index 1): `expect{ invariants =
-- true }` fails, which is how tests/scenario/test_raft.py catches it.
--
-- What to look for in the trace:
--   * `"what":"elected"` notes: n1, then n5, then n1, then n5, terms rising;
--   * n1's appends to n3/n4 in (c) carrying `"entries":1` and the answers
--     `"match":1`, while the appends' `"commit"` stays 0;
--   * in (d) n5's appends with `"prev_index":0,"entries":1` and the
--     followers' replies `"conflict_index":1` first (their X conflicts);
--   * with the mutant: `"ev":"invariant"` lines naming the nodes.

cluster{
    model = "raft",
    nodes = 5,
    params = { noop = false, prevote = true, heartbeat = ms(50), election_timeout = ms(150) },
}

local all = { "n1", "n2", "n3", "n4", "n5" }

-- Only `winner` can gather a majority: every other pair among `voters`
-- is cut both ways (followers never need to talk to each other).
local function only_winner(winner, voters)
    for _, a in ipairs(voters) do
        for _, b in ipairs(voters) do
            if a ~= b and a ~= winner and b ~= winner then cut(a, b) end
        end
    end
end

-- (a) n1 wins; at 800 ms n1 and n2 are cut off from n3, n4, n5
at(0, function() only_winner("n1", all) end)
at(ms(800), function()
    partition{ { "n1", "n2" }, { "n3", "n4", "n5" } }
    only_winner("n5", { "n3", "n4", "n5" })
end)
workload{ clients = 1, keys = { "k" }, mix = { write = 1 }, target = "n1",
          start = ms(810), duration = ms(15), timeout = ms(100) }

-- (b) n1 crashes; n5 (elected by n3, n4) takes write Y while cut off
at(ms(1000), crash("n1"))
at(ms(1500), partition{ { "n5" }, { "n1", "n2" }, { "n3", "n4" } })
workload{ clients = 1, keys = { "k" }, mix = { write = 1 }, target = "n5",
          start = ms(1510), duration = ms(15), timeout = ms(100) }
at(ms(1600), crash("n5"))

-- (c) n1 restarts and wins with n2, n3, n4; it replicates X to them
at(ms(1600), function()
    restart("n1")
    heal()
    only_winner("n1", { "n1", "n2", "n3", "n4" })
end)

-- (d) n1 crashes, n5 restarts and wins with n2, n3, n4
at(ms(2800), function()
    crash("n1")
    restart("n5")
    heal()
    only_winner("n5", { "n2", "n3", "n4", "n5" })
end)

-- the last phase: clients write through the new leader (entries of its own
-- term, which commit Y along with them); n1 comes back at the end
workload{ clients = 2, keys = { "k" }, mix = { read = 0.5, write = 0.5 }, target = "leader",
          start = ms(4000), duration = ms(400), timeout = ms(200), retries = 2 }
at(ms(4400), function() restart("n1"); heal() end)

run{ until_ = s(5.6) }

expect{
    invariant_violations = 0,
    invariants = true,        -- the current-term commit rule keeps every invariant
    linearizable = true,
    converges = true,
}
