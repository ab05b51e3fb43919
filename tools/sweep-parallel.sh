#!/bin/sh
# Sweep a scenario's seeds with GNU parallel: one shard per job slot (or per
# host), then one merged summary, the same as an unsharded `sim sweep`.
#
# usage: tools/sweep-parallel.sh SCENARIO A..B SHARDS [OUTDIR] [-- SWEEP-OPTIONS...]
#
#   SHARDS   how many slices of the seed range (one parallel job each)
#   OUTDIR   where results-K.jsonl and merged.jsonl go (default sweep-out)
#
# Environment:
#   SIM             the sim binary (default: sim on PATH)
#   PARALLEL_JOBS   job slots on this machine (default: SHARDS)
#   PARALLEL_HOSTS  run on other machines instead: a comma-separated list for
#                   parallel --sshlogin (say "8/node1,8/node2"); each host
#                   needs sim and the scenario at the same path, and the
#                   results come back with --return
#
# Each job runs `sim sweep SCENARIO --seeds A..B --shard K/SHARDS -j 1`:
# seed s belongs to shard ((s - A) mod SHARDS) + 1, so the shards are
# disjoint and cover the range. See docs/sweep.md.
set -eu

usage() {
    echo "usage: tools/sweep-parallel.sh SCENARIO A..B SHARDS [OUTDIR] [-- SWEEP-OPTIONS...]" >&2
    exit 2
}

[ $# -ge 3 ] || usage
scenario=$1 seeds=$2 shards=$3
shift 3
outdir=sweep-out
if [ $# -gt 0 ] && [ "$1" != "--" ]; then
    outdir=$1
    shift
fi
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
case $shards in
    ''|*[!0-9]*) echo "sweep-parallel: SHARDS must be a whole number, got \"$shards\"" >&2; exit 2 ;;
esac
[ "$shards" -ge 1 ] || usage
command -v parallel >/dev/null 2>&1 || {
    echo "sweep-parallel: GNU parallel is not installed (Debian: apt-get install parallel)" >&2
    exit 5
}
sim=${SIM:-sim}
mkdir -p "$outdir"

# one job per shard; a failing seed makes sim sweep exit 1, which is a result,
# not a job failure: only exit codes above 1 count as errors
hosts=""
if [ -n "${PARALLEL_HOSTS:-}" ]; then
    hosts="--sshlogin $PARALLEL_HOSTS --return $outdir/results-{}.jsonl --cleanup"
fi
# shellcheck disable=SC2086 # $hosts is a list of options
seq 1 "$shards" | parallel --will-cite -j "${PARALLEL_JOBS:-$shards}" $hosts \
    "\"$sim\" sweep \"$scenario\" --seeds \"$seeds\" --shard {}/$shards -j 1 --quiet \
      --out \"$outdir/results-{}.jsonl\" $* > \"$outdir/summary-{}.txt\"; \
     rc=\$?; [ \$rc -le 1 ]" || {
    echo "sweep-parallel: a shard could not run (see $outdir/summary-*.txt)" >&2
    exit 5
}

files=""
k=1
while [ "$k" -le "$shards" ]; do
    files="$files $outdir/results-$k.jsonl"
    k=$((k + 1))
done
# shellcheck disable=SC2086 # the file list
exec "$sim" sweep --merge $files --out "$outdir/merged.jsonl"
