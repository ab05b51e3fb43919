#!/bin/sh
# Simulated client operations per wall-clock second of the quorum model on a
# 5-node cluster (n = 3, w = 2, r = 2, 10 closed-loop clients, 10 keys,
# half reads, half writes, think 1 ms), tracing off, next to the kernel
# loop's events per second measured right after, on the same machine.
#
#   tools/bench_quorum.sh [BUILD_DIR] [SECONDS_OF_VIRTUAL_TIME] [EXTRA_PARAMS]
#
# EXTRA_PARAMS go into the cluster's params, e.g. 'versioning = "vv"' or
# 'sloppy = true, hinted_handoff = true'. The wall clock is read here, by
# the shell, never by the simulator. Prints one line per figure.
set -eu

build=${1:-build}
secs=${2:-300}
extra=${3:-}
sim="$build/sim"
dir=$(mktemp -d /tmp/bench-quorum.XXXXXX)
trap 'rm -rf "$dir"' EXIT

cat >"$dir/bench.lua" <<EOF
cluster{ model = "quorum", nodes = 5, params = { n = 3, w = 2, r = 2, ${extra} } }
workload{ clients = 10, keys = 10, mix = { read = 0.5, write = 0.5 }, think = ms(1) }
run{ until_ = s($secs) }
EOF

start=$(date +%s.%N)
"$sim" run "$dir/bench.lua" --no-trace >"$dir/out" 2>&1
end=$(date +%s.%N)

ops=$(sed -n 's/^operations *[0-9]* invoked: \([0-9]*\) ok.*/\1/p' "$dir/out")
events=$(sed -n 's/^simulated .*, \([0-9]*\) events$/\1/p' "$dir/out")
awk -v ops="$ops" -v ev="$events" -v s="$start" -v e="$end" -v secs="$secs" 'BEGIN {
    wall = e - s
    printf "quorum 5 nodes n3 w2 r2, %d s virtual, tracing off: %d ops ok, %d events in %.3f s wall\n", secs, ops, ev, wall
    printf "  %.0f simulated client operations/s, %.0f events/s, %.1f events/op\n", ops / wall, ev / wall, ev / ops
}'
"$sim" bench kernel --repeat 3 | sed -n '1,6p'
