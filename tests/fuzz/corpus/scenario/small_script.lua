cluster{ model = "leader_follower", nodes = { "a", "b", "c" } }
workload{ target = "leader", script = {
  { at = ms(1), client = 1, f = "write", key = "x", value = 1 },
  { at = ms(2), client = 2, f = "read", key = "x" },
  { at = ms(3), client = 1, f = "cas", key = "x", value = { 1, 2 } },
} }
skew("b", ms(5), 0.001)
isolate("c")
run(ms(50))
