#!/usr/bin/env bash
# hvt's benchmark suite in one command: installs what it needs (bpftrace,
# clang-19, libbpf-dev, bpftool, hvt's build dependencies), builds hvt in
# build-perf (RelWithDebInfo, as tools/setup.sh installs it) unless $HVT
# names a binary, builds the hand-written
# libbpf contenders, runs hvt, bpftrace and C alternately and prints one
# table (see docs/performance.md).
#
#   bench/run.sh                 # 5 runs of every figure
#   bench/run.sh --quick         # one run each (what ctest runs)
#   bench/run.sh --runs 9 --output /tmp/table.md
#
# Needs root (it loads BPF programs and sets kernel.bpf_stats_enabled while
# it runs, restoring it afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "bench: needs root (loading BPF programs)" >&2
  exit 1
fi

tools/install-deps.sh
bench_packages=(bpftrace clang-19 libbpf-dev bpftool gcc binutils python3)
missing=()
for pkg in "${bench_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null |
    grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bench: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir=${HVT_BENCH_BUILD:-build-perf}
if [[ -z ${HVT:-} ]]; then
  # The build type users get from tools/setup.sh: measure what they run.
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j2 --target hvt hvt_codegen_plugin
  HVT=$build_dir/compiler/driver/hvt
fi

exec python3 bench/bench.py --hvt "$HVT" --build-dir "$build_dir/bench" "$@"
