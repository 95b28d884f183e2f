#!/usr/bin/env bash
# Installs what the tests need, builds everything, and runs every test tier:
# unit, golden diagnostics, IR checks and kernel runtime tests (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh --test
cmake -S . -B build-test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVT_BUILD_TESTS=ON >/dev/null
cmake --build build-test
cd build-test
ctest --output-on-failure --timeout 300 -j2
