cluster{ model = "quorum", nodes = 4, params = { n = 3, w = 2, r = 2 } }
workload{ clients = 3, rate = 200, keys = 3, duration = ms(150) }
nemesis{ faults = { "partition", "pause", "clock" }, intensity = 20, stop = ms(150) }
every(ms(40), function() log("t", now()) end)
run(ms(250))
print(stats().ops_ok)
expect{ converges = true }
