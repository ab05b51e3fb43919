cluster{ model = "leader_follower", nodes = 3, params = { replication = "semisync" },
         network = { latency = { dist = "uniform", min = ms(1), max = ms(3) }, loss = 0.01 } }
workload{ clients = 2, duration = ms(150), mix = { read = 1, write = 1, cas = 1 } }
at(ms(50), partition{ {"n1"}, {"n2", "n3"} })
at(ms(100), heal())
at(ms(60), crash("n2"))
at(ms(90), restart("n2"))
run(ms(200))
expect{ linearizable = true, ops_ok = { min = 1 } }
