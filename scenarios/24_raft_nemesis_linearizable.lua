-- 24: five Raft nodes under a random nemesis stay linearizable.
--
-- What it shows: for 4 s a nemesis draws faults from the run's seed —
-- partitions, isolated nodes, crashes (unsynced writes lost, synced state
-- kept), long pauses (a node freezes like a GC pause, its timers fire
-- late), and clock faults (offset jumps and drift, which make election
-- timeouts longer or shorter) — about two per second, each lasting 100 ms
-- to 1 s, sometimes overlapping. Three clients keep reading, writing and
-- compare-and-setting three keys through whoever leads, following
-- redirects and retrying with the same operation id.
--
-- Raft gives up availability when it must (a minority side, or a cluster
-- without a leader while an election runs, answers nothing) and never
-- consistency: whatever the seed, the history is linearizable, the
-- protocol invariants hold after every event, no acknowledged write is
-- lost, and 2.5 s after the nemesis stops every replica holds the
-- same map. Snapshots are taken every 100 applied entries, so some
-- followers that were down or cut off for long catch up by InstallSnapshot
-- rather than by replaying the log.
--
-- Reads go through the log (the default, reads = "log"). Try
-- `--param reads=readindex` (also linearizable) or `--param reads=follower`
-- (stale reads from lagging followers: not linearizable). With
-- `--param reads=lease` the nemesis' clock faults do break the lease's
-- assumption, but a stale read also needs the leader cut off and a new
-- leader writing while the stretched lease runs: seeds 1 to 30 never line
-- that up (scenario 22 does it on purpose).
--
-- What to look for in the trace:
--   * `"ev":"nemesis"` lines, each fault and its end;
--   * `"what":"elected"` notes with rising terms, and between them,
--     candidates whose terms rise while they are cut off (no PreVote);
--   * `"what":"snapshot"` and, on nodes that were away, `"install_snapshot"`;
--   * clients' `"ev":"info"` for operations caught by a fault: indeterminate,
--     never wrong.

cluster{
    model = "raft",
    nodes = 5,
    params = { snapshot_every = 100 },
}

workload{
    clients = 3,
    keys = { "x", "y", "z" },
    mix = { read = 0.4, write = 0.4, cas = 0.2 },
    think = ms(20),
    target = "leader",
    timeout = ms(200),
    retries = 3,
    duration = s(5),
}

nemesis{ intensity = 2, start = ms(500), stop = s(4.5), min = ms(100), max = s(1) }

run{ until_ = s(7) }

expect{
    invariant_violations = 0,
    invariants = true,
    linearizable = true,
    no_lost_writes = true,
    converges = true,
}
