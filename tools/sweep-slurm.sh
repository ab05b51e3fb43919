#!/bin/bash
# A Slurm job array that sweeps a scenario's seeds: array task K runs shard
# K of N (N = the array's size), on every CPU Slurm gives it. Merge the
# shards afterwards into the summary of the whole sweep.
#
#   sbatch --array=1-16 tools/sweep-slurm.sh SCENARIO A..B [OUTDIR] [SWEEP-OPTIONS...]
#   # when every task is done (or chain it with --dependency=afterok:JOBID):
#   sim sweep --merge OUTDIR/results-*.jsonl --junit OUTDIR/junit.xml
#
# Seed s belongs to shard ((s - A) mod N) + 1: the shards are disjoint and
# cover A..B, whatever N is. The script also runs without Slurm (for tests
# and for one machine): set SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT.
# See docs/sweep.md.
#
#SBATCH --job-name=sim-sweep
#SBATCH --array=1-16
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=1G
#SBATCH --time=01:00:00
#SBATCH --output=sim-sweep-%A_%a.log
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: sbatch --array=1-N tools/sweep-slurm.sh SCENARIO A..B [OUTDIR] [SWEEP-OPTIONS...]" >&2
    exit 2
fi
scenario=$1 seeds=$2
shift 2
outdir=sweep-out
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
    outdir=$1
    shift
fi
: "${SLURM_ARRAY_TASK_ID:?not in a Slurm job array (sbatch --array=1-N), and SLURM_ARRAY_TASK_ID is not set}"
# the array's size; with --array=1-N Slurm sets SLURM_ARRAY_TASK_COUNT (and MAX)
shards=${SLURM_ARRAY_TASK_COUNT:-${SLURM_ARRAY_TASK_MAX:?cannot tell how many tasks the array has}}
task=$SLURM_ARRAY_TASK_ID
jobs=${SLURM_CPUS_PER_TASK:-$(nproc)}
sim=${SIM:-sim}

mkdir -p "$outdir"
rc=0
"$sim" sweep "$scenario" --seeds "$seeds" --shard "$task/$shards" -j "$jobs" \
    --out "$outdir/results-$task.jsonl" --progress-every 60 "$@" || rc=$?
# exit 1 means failing seeds were found: that is the sweep's result, and the
# task itself succeeded (so afterok dependencies still run the merge)
if [ "$rc" -gt 1 ]; then
    exit "$rc"
fi
exit 0
