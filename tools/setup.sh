#!/usr/bin/env bash
# From a fresh Debian machine to a first run: install what is missing, build,
# and run a scenario that shows an asynchronous failover losing a write.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
echo
build/sim run scenarios/02_async_failover_loses_writes.lua --seed 7
