#!/usr/bin/env bash
# Installs what hvt needs, builds it, and installs it as /usr/local/bin/hvt.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVT_BUILD_TESTS=OFF >/dev/null
cmake --build build --target hvt hvt_codegen_plugin
cmake --install build --prefix /usr/local >/dev/null
echo "hvt: installed $(command -v hvt) ($(hvt --version))"
