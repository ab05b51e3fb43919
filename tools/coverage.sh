#!/usr/bin/env bash
# Line and branch coverage of sim/ and models/ under the whole test suite
# (gcc --coverage via meson's b_coverage, reported by gcovr). Prints the
# summary and every file below 75% of its lines. Needs the gcovr package.
set -uo pipefail
cd "$(dirname "$0")/.."
command -v gcovr >/dev/null || { echo "coverage: install gcovr (apt-get install gcovr)"; exit 1; }
dir=build-cov
[ -d "$dir" ] || meson setup "$dir" -Db_coverage=true -Dbuildtype=debug >/dev/null || exit 1
meson compile -C "$dir" >/dev/null || exit 1
find "$dir" -name '*.gcda' -delete
meson test -C "$dir" --num-processes 2 >/dev/null
filters=(-r . "$dir" --filter 'sim/' --filter 'models/' --exclude 'tests/')
gcovr "${filters[@]}" --print-summary | tail -3
echo "files below 75% of lines:"
gcovr "${filters[@]}" | awk 'NF >= 4 && $4 ~ /%$/ && $4 + 0 < 75 {print "  " $1, $4}'
