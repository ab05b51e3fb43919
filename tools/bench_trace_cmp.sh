#!/bin/sh
# Check that a performance change left the traces byte-identical: run every
# scenario in scenarios/ with one seed and the trace on, under two sim
# binaries built with the same flags (the one before the change and the one
# after), and cmp each pair of traces.
#
#   tools/bench_trace_cmp.sh BEFORE/sim AFTER/sim [SEED]
#
# Run it from the source tree (it reads scenarios/*.lua relative to the
# working directory, so both traces record the same scenario path). Exit 0
# when every pair is identical, 1 when one differs, 2 on bad usage.
set -u
if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
    echo "usage: tools/bench_trace_cmp.sh BEFORE/sim AFTER/sim [SEED]" >&2
    exit 2
fi
before=$1 after=$2 seed=${3:-11}
out=$(mktemp -d /tmp/sim-trace-cmp-XXXXXX)
n=0 differ=0
for s in scenarios/*.lua; do
    name=$(basename "$s" .lua)
    "$before" run "$s" --seed "$seed" --trace "$out/$name.before.jsonl" --quiet >/dev/null 2>&1
    rb=$?
    "$after" run "$s" --seed "$seed" --trace "$out/$name.after.jsonl" --quiet >/dev/null 2>&1
    ra=$?
    n=$((n + 1))
    if [ "$rb" != "$ra" ] || ! cmp -s "$out/$name.before.jsonl" "$out/$name.after.jsonl"; then
        echo "DIFFERENT: $name (exit $rb before, $ra after)"
        differ=$((differ + 1))
    fi
done
echo "$n scenarios, seed $seed: $differ traces differ"
rm -rf "$out"
[ "$differ" -eq 0 ]
