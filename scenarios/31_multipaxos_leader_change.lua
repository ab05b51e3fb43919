-- 31: Multi-Paxos leader crash: the new leader re-proposes what it finds
-- and fills a gap in the log with a no-op.
--
-- What it shows: model "multipaxos", 5 nodes, a replicated log of client
-- commands (read, write, cas on a key-value map). n1 boots as the leader
-- (ballot 1.n1). A leader puts each command in the next slot and asks every
-- node to accept it; a majority of accepts decides (chooses) the slot.
-- Commands are applied in slot order, so slot s+1 waits for slot s.
--
-- Here the leader's outgoing links go wrong just before it crashes:
--   * from 550 ms its messages reach only n2: the commands it proposes then
--     (and those still on their way at 550 ms) are accepted by n1 and n2
--     at most, not chosen;
--   * from 553 ms its messages reach only n3: three clients that start at
--     553.5 ms and ask n1 directly get the next slots, accepted by n1 and
--     n3 only, not chosen either;
--   * at 558 ms n1 crashes and n2 is isolated (until 1.2 s).
-- Heartbeats (and the re-sent accepts they carry) come every 100 ms in
-- this scenario, at about 105, 205, ... 505, 605 ms, so none falls inside
-- those 8 ms.
--
-- n3, n4, n5 stop hearing from a leader; after 400-800 ms one of them runs
-- phase 1 with a higher ballot for every slot from its first unchosen one.
-- The promises of n3, n4, n5 (a majority) report the later slots that n3
-- accepted, but nobody among them accepted the earlier ones (only n2 did,
-- and n2 is cut off). The new leader must not leave a hole (later slots
-- could never be applied), and must not invent a client command, so it
-- proposes a no-op in each gap and re-proposes the commands it found, then
-- goes on with new commands. The clients whose commands fell into the gap
-- time out and retry with the same operation id; the retry is a new command
-- in a new slot (and if the old copy had been chosen too, the duplicate
-- would be recognised and applied once).
--
-- What to look for in the trace:
--   * `"ev":"cut"` lines at 550 and 553 ms, `"ev":"crash","node":"n1"` at 558 ms;
--   * `"what":"role","role":"candidate"` then `"what":"elected"` on n3, n4
--     or n5, with `"reproposed"` and `"noops"` counts, followed by one
--     `"what":"noop","slot":...` note per gap and `"what":"repropose"`
--     notes naming the commands carried over;
--   * accept messages with `"cmd":"noop"` for those slots;
--   * after the restart of n1 and the heal at 1.2 s, n1 and n2 learn the
--     chosen slots (the no-ops replace what n2 had accepted at the older
--     ballot); the final "state" lines show the same "map" everywhere.

cluster{
    model = "multipaxos",
    nodes = 5,
    params = { heartbeat = ms(100), election_timeout = ms(400) },
    network = { latency = { dist = "uniform", min = ms(1), max = ms(2) } },
}

workload{
    clients = 6,
    keys = { "x", "y", "z" },
    mix = { read = 0.3, write = 0.5, cas = 0.2 },
    think = ms(5),
    target = "leader",
    timeout = ms(300),
    retries = 4,
    duration = s(1.6),
}

-- three more clients that start inside the second window and ask n1
-- directly: their commands get the slots that only n1 and n3 accept
workload{
    clients = 3,
    keys = { "x", "y", "z" },
    mix = { write = 1 },
    start = ms(553.5),
    duration = ms(1),
    target = "n1",
    timeout = ms(300),
    retries = 4,
}

at(ms(550), function()
    cut("n1", "n3"); cut("n1", "n4"); cut("n1", "n5")
end)
at(ms(553), function()
    heal()
    cut("n1", "n2"); cut("n1", "n4"); cut("n1", "n5")
end)
at(ms(558), function()
    heal()
    crash("n1")
    isolate("n2")
end)
at(s(1.2), function()
    heal()
    restart("n1")
end)

run{ until_ = s(3.2) }

expect{
    invariant_violations = 0,
    invariants = true,         -- one command per slot, promises never go back
    linearizable = true,       -- reads go through the log
    no_lost_writes = true,
    converges = true,          -- everyone applies the same log
}
