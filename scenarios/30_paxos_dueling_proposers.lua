-- 30: dueling Paxos proposers, and how a random backoff ends the duel.
--
-- What it shows: single-decree Paxos (model "paxos": every key is one
-- instance that decides one value, forever). Five clients, one per node,
-- all write the key x at the same moment, each with its own value, so
-- all five nodes become proposers for the same instance at once.
--
-- A proposer needs a majority of promises for its ballot (round, node)
-- before it may ask for accepts; an acceptor that promised a higher ballot
-- refuses both prepares and accepts below it. So proposer A collects its
-- promises, but before its accepts arrive proposer B has prepared a higher
-- ballot, and A's accepts are refused ("promise_rejected" in the trace). A
-- prepares again, higher still, which makes B's accepts fail, and so on:
-- each proposer keeps pre-empting the others and nothing is ever chosen.
-- That is livelock, the reason FLP says consensus cannot be guaranteed to
-- terminate, and why Multi-Paxos elects one distinguished proposer.
--
-- By default (livelock = true) the cluster runs with backoff = 0: a refused
-- proposer retries at once. The trace shows hundreds of "prepare" notes
-- with ever higher rounds and no "chosen" for a long time, until latency
-- jitter happens to let one proposer through (the clients time out and
-- retry meanwhile; on some seeds nothing is chosen before the clients give
-- up). Run it again with
--
--     sim run scenarios/30_paxos_dueling_proposers.lua --param livelock=false
--
-- and a refused proposer waits a random time (up to backoff = 20 ms, drawn
-- from its own random stream) before it tries again: one proposer gets
-- through in a round or two, and x is chosen within about 10 ms.
--
-- Either way safety holds: once x has a chosen value, every later write of
-- another value fails ("another value was chosen"), every read returns it,
-- and all nodes learn the same one (invariants, linearizable).
--
-- What to look for in the trace:
--   * `"what":"prepare","key":"x","ballot":"7.n3","round":7`: rounds going
--     up, five proposers taking turns;
--   * `"what":"promise_rejected"` with the higher `promised` ballot that
--     pre-empted the proposer, in phase 1 (prepare) or 2 (accept);
--   * `"what":"chosen","key":"x","value":...,"ballot":...`: the end of the
--     duel, once per node (each learner hears a majority of "accepted");
--   * the final "state" lines: every node's "map" has the same x, and
--     "rounds" counts the rounds each node started.

local livelock = param("livelock", true)

cluster{
    model = "paxos",
    nodes = 5,
    params = { backoff = livelock and 0 or ms(20), round_timeout = ms(50) },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(3) } },
}

-- client i talks to node i only (sticky), so five nodes propose at once
workload{
    clients = 5,
    keys = { "x" },
    mix = { write = 1 },
    think = ms(5),
    target = "sticky",
    timeout = ms(150),
    retries = 3,
    duration = ms(500),
}

-- 50 ms in: with backoff 0 the proposers are still duelling, with a
-- backoff x was chosen long ago
at(ms(50), function()
    if livelock then
        expect{ ops_ok = 0 }
    else
        expect{ ops_ok = { min = 1 } }
    end
end)

run{ until_ = s(1) }

expect{
    invariant_violations = 0,
    invariants = true,        -- one value chosen, promises never go back
    linearizable = true,      -- a write-once register: the first chosen value wins
    converges = true,         -- every node learned the same x
}
