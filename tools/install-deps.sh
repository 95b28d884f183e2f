#!/usr/bin/env bash
# Installs the Debian 12 packages hvt needs to build and run (and, with
# --test, to run its tests). Idempotent: safe to run again.
set -euo pipefail

build_packages=(
  cmake ninja-build g++ pkg-config python3
  llvm-19-dev bolt-19
  libbpf-dev libelf-dev zlib1g-dev
  antlr4 libantlr4-runtime-dev default-jre-headless
  libcli11-dev libfmt-dev nlohmann-json3-dev nettle-dev
)
# clang-14 and its runtimes (ASan, UBSan, libFuzzer) for the sanitizer and
# fuzzing stages of tools/test.sh.
# clang-19 builds the benchmark's hand-written C contenders (bench_quick).
test_packages=(libgtest-dev bpftool bpftrace clang-14 libclang-rt-14-dev clang-19)

wanted=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
  wanted+=("${test_packages[@]}")
fi

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$pkg")
done

if ((${#missing[@]})); then
  echo "hvt: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
