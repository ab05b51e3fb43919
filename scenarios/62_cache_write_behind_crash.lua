-- 62: write-behind loses acknowledged writes when the cache crashes.
--
-- What it shows: the "cache" model with policy = "behind". n1 is the store,
-- n2 the cache every client writes through. A write goes into n2's memory,
-- is marked dirty and acknowledged at once: the fastest write there is.
-- Every 400 ms (flush_every) n2 sends its dirty entries to n1 (a "flush"
-- note lists them, each with the client operation that wrote it), and once
-- n1 has one, n2 notes "flushed".
--
-- The clients stop at 900 ms; n2's last flush was at 800 ms, so the writes
-- acknowledged after it exist only in n2's memory when n2 crashes at
-- 950 ms. They are gone: the store never had them (no_lost_writes = false,
-- and `sim check` names them). n2 restarts at 1.2 s with an empty cache; a
-- reader then asks for the keys, n2 fetches them from n1 and returns the
-- older values, though the clients had heard ok for newer ones (staleness
-- = false: the reads are "stale" for ever, because the newer writes no
-- longer exist anywhere).
--
-- Compare 61 (write-through): the same crash would lose nothing there,
-- since a write is acknowledged only once the store has it.
--
-- What to look for in the trace:
--   * `"what":"flush"` notes from n2 at about 400 and 800 ms, their "entries"
--     with "op" ids, and the matching `"what":"flushed"` notes;
--   * `ok` replies from n2 for writes after 800 ms whose op ids are in no
--     "flushed" note: those are the lost writes;
--   * `"ev":"crash","node":"n2"` at 950 ms, `"ev":"restart"` at 1.2 s, then
--     `"type":"get"` messages from n2 to n1 (the cache is empty again);
--   * n1's final "map": the values of the last flush, not the last writes.

cluster{
    model = "cache",
    nodes = 2,
    params = { policy = "behind", flush_every = ms(400), ttl = s(1) },
}

workload{
    clients = 3,
    keys = { "x", "y" },
    mix = { read = 0.3, write = 0.7 },
    think = ms(10),
    timeout = ms(100),
    duration = ms(900),
    target = "n2",
}

-- after the restart: one reader, asking the recovered cache
workload{
    clients = 1,
    keys = { "x", "y" },
    mix = { read = 1 },
    think = ms(20),
    timeout = ms(100),
    start = ms(1250),
    duration = ms(200),
    target = "n2",
}

at(ms(950), crash("n2"))
at(ms(1200), restart("n2"))

run{ until_ = s(1.5) }

expect{
    ops_ok = { min = 100 },
    ops_info = 0,
    crashes = 1,
    invariant_violations = 0,
    no_lost_writes = false,   -- acknowledged, never flushed, gone with n2's memory
    staleness = false,        -- after the restart the reader gets the older values
    converges = true,         -- one store: nothing to disagree with
}
