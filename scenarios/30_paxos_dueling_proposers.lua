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
-- proposer retries at once. And the network is in lock step: every message
-- takes exactly 2 ms, so the proposers' rounds stay in phase. That is the
-- adversarial schedule of FLP's proof, and the duel never ends: the trace
-- shows hundreds of "prepare" notes with ever higher rounds and no
-- "chosen" in the whole second, on every seed; the clients time out.
--
-- Real networks jitter. Run it with
--
--     sim run scenarios/30_paxos_dueling_proposers.lua --param jitter=true
--
-- (latency uniform between 1 and 3 ms): sooner or later one proposer's
-- accepts happen to arrive before anybody's next prepare, and x is chosen.
-- When is luck: over seeds 1..600 the first choice came anywhere from 6 ms
-- to past 400 ms, so this variant expects nothing of the time. Then run
--
--     sim run scenarios/30_paxos_dueling_proposers.lua --param livelock=false
--
-- and a refused proposer waits a random time (up to backoff = 20 ms, drawn
-- from its own random stream) before it tries again: even in lock step one
-- proposer gets through in a round or two, and x is chosen within about
-- 10 ms.
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
local jitter = param("jitter", false)

cluster{
    model = "paxos",
    nodes = 5,
    params = { backoff = livelock and 0 or ms(20), round_timeout = ms(50) },
    network = { latency = jitter and { dist = "uniform", min = ms(1), max = ms(3) } or ms(2) },
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

-- 50 ms in: with a backoff x was chosen long ago; in lock step without one
-- the proposers are still duelling (and will be at the end)
at(ms(50), function()
    if not livelock then
        expect{ ops_ok = { min = 1 } }
    elseif not jitter then
        expect{ ops_ok = 0 }
    end
end)

run{ until_ = s(1) }

if livelock and not jitter then
    expect{ ops_ok = 0 }      -- nothing was ever chosen: livelock
end

expect{
    invariant_violations = 0,
    invariants = true,        -- one value chosen, promises never go back
    linearizable = true,      -- a write-once register: the first chosen value wins
    converges = true,         -- every node learned the same x
}
