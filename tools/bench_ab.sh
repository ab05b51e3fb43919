#!/bin/sh
# Compare two sim binaries (before and after a change) on a shared, noisy
# machine: alternate them N times on the same benchmark and keep each
# figure's best (the run least disturbed by everything else), then print
# after / before for each. Wall-clock figures on a busy 2-core machine move
# by tens of percent between runs; the best of many alternations moves much
# less, and `valgrind --tool=callgrind` instruction counts (see
# docs/performance.md) not at all.
#
#   tools/bench_ab.sh BEFORE/sim AFTER/sim [N]
#
# Runs `sim bench kernel --repeat 1` and `sim bench models --only raft,quorum
# --seconds 10 --repeat 1` N times each (default 8) per binary.
set -u
if [ $# -lt 2 ] || [ ! -x "$1" ] || [ ! -x "$2" ]; then
    echo "usage: tools/bench_ab.sh BEFORE/sim AFTER/sim [N]" >&2
    exit 2
fi
before=$1 after=$2 n=${3:-8}
out=$(mktemp -d /tmp/sim-bench-ab-XXXXXX)
i=0
while [ "$i" -lt "$n" ]; do
    for side in before after; do
        if [ "$side" = before ]; then bin=$before; else bin=$after; fi
        "$bin" bench kernel --repeat 1 >>"$out/$side.kernel" || exit 1
        "$bin" bench models --only raft,quorum --seconds 10 --repeat 1 >>"$out/$side.models" || exit 1
    done
    i=$((i + 1))
done
# best of each figure: kernel rows "  NAME  N events/s"; model rows: ops/s
# (column 5 from the end... see sim bench models) and ops/s traced (last)
best() {   # FILE -> "figure best" lines
    awk '
        /events\/s$/ { k = $0; sub(/ +[0-9]+ events\/s$/, "", k); sub(/^ +/, "", k)
                       v = $(NF-1); if (!(k in b) || v + 0 > b[k] + 0) b[k] = v }
        /^  (quorum|raft)/ { name = ($1 == "quorum") ? "quorum" : "raft"
                       k1 = name " events/s, trace off"; v1 = $(NF-3)
                       k2 = name " ops/s, trace on"; v2 = $NF
                       if (!(k1 in b) || v1 + 0 > b[k1] + 0) b[k1] = v1
                       if (!(k2 in b) || v2 + 0 > b[k2] + 0) b[k2] = v2 }
        END { for (k in b) print k "\t" b[k] }' "$1" | sort
}
best "$out/before.kernel" >"$out/b1"; best "$out/before.models" >>"$out/b1"
best "$out/after.kernel" >"$out/a1"; best "$out/after.models" >>"$out/a1"
echo "best of $n alternations; after / before"
join -t "$(printf '\t')" "$out/b1" "$out/a1" |
    awk -F '\t' '{ printf "  %-36s %12s %12s  %.3f\n", $1, $2, $3, $3 / $2 }'
rm -rf "$out"
