#!/usr/bin/env bash
# Build and run the whole test suite twice: a normal build, then one under
# AddressSanitizer + UndefinedBehaviorSanitizer. Ends with one line of totals.
set -uo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh --test || exit 1
passed=0 failed=0 status=0
run_suite() {  # $1 build dir, then meson setup options
  local dir=$1; shift
  # a build that fails counts as a failed test, so the totals never hide it
  if [ ! -d "$dir" ]; then meson setup "$dir" "$@" >/dev/null || { failed=$((failed + 1)); return 1; }; fi
  meson compile -C "$dir" >/dev/null || { meson compile -C "$dir"; failed=$((failed + 1)); return 1; }
  meson test -C "$dir" --print-errorlogs --num-processes 2 2>&1 | tee "$dir/test-summary.txt"
  local ok fail
  ok=$(grep -E '^Ok:' "$dir/test-summary.txt" | awk '{print $2}')
  fail=$(grep -E '^(Fail|Timeout|Unexpected Pass):' "$dir/test-summary.txt" | awk '{s+=$2} END {print s+0}')
  passed=$((passed + ${ok:-0})); failed=$((failed + fail))
  [ "$fail" -eq 0 ] && [ -n "$ok" ]
}
run_suite build || status=1
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
    -Dc_args=-fsanitize=float-cast-overflow -Dc_link_args=-fsanitize=float-cast-overflow || status=1
# (GCC's -fsanitize=undefined leaves out float-cast-overflow, the double to
# int64 conversion of an out-of-range trace number; it is named explicitly.)
# The same seed must give the same bytes from an optimised (-O2), an
# unoptimised (-O0) and a sanitizer build: determinism may not depend on how
# sim was compiled.
[ -d build-o0 ] || meson setup build-o0 -Dbuildtype=plain -Dc_args=-O0 -Dtests=false >/dev/null
meson compile -C build-o0 sim >/dev/null || { echo "FAIL: the -O0 build did not compile"; failed=$((failed + 1)); status=1; }
if [ -x build/sim ] && [ -x build-asan/sim ] && [ -x build-o0/sim ]; then
  tmp=$(mktemp -d)
  same=1
  for sc in scenarios/*.lua; do
    build/sim run "$sc" --seed 11 --trace "$tmp/a.jsonl" --quiet >/dev/null 2>&1
    build-asan/sim run "$sc" --seed 11 --trace "$tmp/b.jsonl" --quiet >/dev/null 2>&1
    build-o0/sim run "$sc" --seed 11 --trace "$tmp/c.jsonl" --quiet >/dev/null 2>&1
    cmp -s "$tmp/a.jsonl" "$tmp/b.jsonl" || { echo "FAIL: $sc: -O2 and sanitizer builds wrote different traces"; same=0; }
    cmp -s "$tmp/a.jsonl" "$tmp/c.jsonl" || { echo "FAIL: $sc: -O2 and -O0 builds wrote different traces"; same=0; }
  done
  rm -rf "$tmp"
  if [ $same -eq 1 ]; then
    echo "cross-build determinism: OK"; passed=$((passed + 1))
  else
    failed=$((failed + 1)); status=1
  fi
fi
# A sample under valgrind memcheck: a run with faults and a check of its
# trace, no memory error and no definite leak.
if [ -x build/sim ] && command -v valgrind >/dev/null; then
  tmp=$(mktemp -d)
  vg="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"
  $vg build/sim run scenarios/02_async_failover_loses_writes.lua --seed 3 --trace "$tmp/t.jsonl" --quiet \
      >/dev/null 2>"$tmp/run.err"
  rc1=$?
  $vg build/sim check "$tmp/t.jsonl" >/dev/null 2>"$tmp/check.err"
  rc2=$?
  if [ $rc1 -ne 99 ] && [ $rc2 -ne 99 ]; then
    echo "valgrind memcheck sample: OK"; passed=$((passed + 1))
  else
    echo "FAIL: valgrind memcheck found errors:"; cat "$tmp/run.err" "$tmp/check.err" | head -40
    failed=$((failed + 1)); status=1
  fi
  rm -rf "$tmp"
fi
# Each fuzz target for a bounded time (clang, libFuzzer, ASan + UBSan).
if command -v clang >/dev/null; then
  # a fixed seed: the same inputs on every machine (tools/fuzz.sh explains)
  if SIM_FUZZ_SEED="${SIM_FUZZ_SEED:-1}" bash tools/fuzz.sh "${SIM_FUZZ_SECONDS:-10}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1)); status=1
  fi
fi
echo "$passed passed, $failed failed"
exit $status
