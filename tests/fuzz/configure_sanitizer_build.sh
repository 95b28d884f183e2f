#!/usr/bin/env bash
# Configures a clang build with AddressSanitizer, UndefinedBehaviorSanitizer
# and libFuzzer coverage, for the unit tests, the fuzz replay and the
# compile_fuzzer binary:
#   tests/fuzz/configure_sanitizer_build.sh build-asan [CMAKE_ARGS...]
#   cmake --build build-asan -j2
# Uses clang-14 (Debian 12's default clang, whose libclang-rt-14-dev holds
# the sanitizer and libFuzzer runtimes); it builds against the LLVM 19
# libraries like the main build does. Set HVT_CLANG_VERSION to use another.
set -euo pipefail
build_dir=${1:?usage: $0 BUILD_DIR [CMAKE_ARGS...]}
shift
version=${HVT_CLANG_VERSION:-14}
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$build_dir/antlr4-compat"

# ANTLR 4.9's umbrella header pulls in misc/InterpreterDataReader.h, which
# clang rejects (a defaulted constructor that must be deleted; GCC lets it
# pass). hvt never uses that header, so the build sees a copy of the
# umbrella without it. -I directories are searched before -isystem ones.
sed '/misc\/InterpreterDataReader.h/d' /usr/include/antlr4-runtime/antlr4-runtime.h \
  >"$build_dir/antlr4-compat/antlr4-runtime.h"
compat=$(cd "$build_dir/antlr4-compat" && pwd)

# The code generator plugin (a shared module) links with --no-undefined, but
# sanitizer runtimes live in the executable that loads it: -z undefs, at the
# end of every link line, lets the module leave those symbols to it.

# vptr and function need RTTI in every library we link; LLVM has it, the
# system libraries may not, and hvt's own downcasts are kind-checked.
sanitize="-fsanitize=address,undefined -fno-sanitize=vptr,function"
sanitize+=" -fno-sanitize-recover=all -fno-omit-frame-pointer"
CC=clang-$version CXX=clang++-$version cmake -S "$source_dir" -B "$build_dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHVT_BUILD_TESTS=ON -DHVT_FUZZ=ON -DHVT_STATIC_LIBSTDCXX=OFF \
  -DHVT_ORDER_CODEGEN=OFF \
  "-DCMAKE_C_FLAGS=$sanitize -fsanitize=fuzzer-no-link" \
  "-DCMAKE_CXX_FLAGS=$sanitize -fsanitize=fuzzer-no-link -I$compat" \
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" \
  "-DCMAKE_EXE_LINKER_FLAGS=$sanitize" \
  "-DCMAKE_CXX_STANDARD_LIBRARIES=-Wl,-z,undefs" "$@" >/dev/null
