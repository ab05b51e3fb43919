#!/usr/bin/env bash
# Build the libFuzzer targets with clang (ASan + UBSan) and run each for a
# bounded time. Usage: tools/fuzz.sh [SECONDS_PER_TARGET] (default 30).
# SIM_FUZZ_SEED=N fixes libFuzzer's seed, so the inputs tried are the same on
# every machine (a slower one tries a prefix of them): the test suite uses
# seed 1, so what CI finds can be found here first. Unset, each run draws a
# new seed and explores further.
# A crash leaves its input in tests/fuzz/regress/TARGET/ (commit it: the
# normal suite replays every file there) and makes this script exit 1.
# The check and report targets mutate traces line by line as JSON
# (tests/fuzz/jsonl_mutator.c), so more inputs get past the parser.
# SIM_FUZZ_BYTES_ONLY=1 turns that off (libFuzzer's byte mutation only):
# run once with and once without, same SIM_FUZZ_SEED and SECONDS, and
# compare the cov: and ft: figures in build-fuzz/fuzz_TARGET.log.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
dir=build-fuzz
if [ ! -d "$dir" ]; then
  # werror off: this build is for finding crashes; clang's extra warnings
  # are not what it is for
  CC=clang meson setup "$dir" -Dfuzz=true -Dtests=false -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbuildtype=debugoptimized -Dwerror=false >/dev/null || exit 1
fi
meson compile -C "$dir" >/dev/null || { meson compile -C "$dir"; exit 1; }
seed_opt=()
[ -n "${SIM_FUZZ_SEED:-}" ] && seed_opt=(-seed="$SIM_FUZZ_SEED")
status=0
for target in history check report scenario; do
  corpus=$(mktemp -d)   # new inputs go here; the seed corpus stays as committed
  seeds="tests/fuzz/corpus/$target tests/fuzz/regress/$target"
  [ "$target" = scenario ] && seeds="$seeds scenarios"
  [ "$target" = report ] && seeds="tests/fuzz/corpus/check tests/fuzz/regress/report"
  mkdir -p "tests/fuzz/regress/$target"
  # -rss_limit_mb: the scenario target's Lua memory limit is far below it
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$dir/tests/fuzz/fuzz_$target" "$corpus" $seeds -max_total_time="$secs" -timeout=20 \
      -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="tests/fuzz/regress/$target/" \
      -print_final_stats=1 "${seed_opt[@]}" > "$dir/fuzz_$target.log" 2>&1
  rc=$?
  runs=$(grep -E '^stat::number_of_executed_units' "$dir/fuzz_$target.log" | awk '{print $2}')
  used=$(grep -oE 'Seed: [0-9]+' "$dir/fuzz_$target.log" | head -1 | awk '{print $2}')
  if [ $rc -eq 0 ]; then
    echo "fuzz $target: ${runs:-?} inputs in ${secs}s (seed ${used:-?}), no crash"
  else
    echo "FAIL: fuzz $target crashed (exit $rc, seed ${used:-?}); input in tests/fuzz/regress/$target/, log $dir/fuzz_$target.log"
    grep -E 'ERROR|SUMMARY|panic|==[0-9]+==' "$dir/fuzz_$target.log" | head -5
    status=1
  fi
  rm -rf "$corpus"
done
exit $status
