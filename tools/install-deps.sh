#!/usr/bin/env bash
# Install the Debian packages sim needs, if any is missing: to build and run
# (no argument), or also to run every test (--test: clang and its fuzzer
# runtime for the fuzz targets, valgrind for the memcheck sample, GNU
# parallel for the sweep recipe, chromium to render reports headless).
set -euo pipefail
pkgs=(meson ninja-build pkg-config gcc liblua5.4-dev libcjson-dev nettle-dev check python3 python3-jsonschema)
if [ "${1:-}" = "--test" ]; then
  pkgs+=(clang libclang-rt-dev valgrind parallel chromium)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
