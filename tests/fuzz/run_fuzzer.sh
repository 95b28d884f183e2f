#!/usr/bin/env bash
# Runs compile_fuzzer for a bounded time on the seed corpus, the saved
# crashes and the standard scripts (read only); new interesting inputs go to
# WORK_DIR/corpus, a crash to WORK_DIR/artifacts/ (and fails the run).
#   tests/fuzz/run_fuzzer.sh FUZZER SECONDS WORK_DIR
# To keep a crash as a regression case: fix it, then copy the artifact to
# tests/fuzz/crashes/ under a name that says what it was.
set -euo pipefail
fuzzer=${1:?usage: $0 FUZZER SECONDS WORK_DIR}
seconds=${2:?usage: $0 FUZZER SECONDS WORK_DIR}
work=${3:?usage: $0 FUZZER SECONDS WORK_DIR}
here=$(cd "$(dirname "$0")" && pwd)
scripts=$(cd "$here/../../scripts" 2>/dev/null && pwd || true)

mkdir -p "$work/corpus" "$work/artifacts"
seeds=("$here/corpus" "$here/crashes")
[[ -n $scripts ]] && seeds+=("$scripts")
# -timeout: an input that takes longer is a hang. Compiling the largest
# legal programs (thousands of tracepoints) stays well below it.
# -rss_limit_mb: LLVM and ANTLR's caches grow; 4 GB means a real leak.
exec "$fuzzer" \
  -max_total_time="$seconds" \
  -timeout=30 \
  -rss_limit_mb=4096 \
  -max_len=4096 \
  -dict="$here/hvt.dict" \
  -artifact_prefix="$work/artifacts/" \
  -print_final_stats=1 \
  "$work/corpus" "${seeds[@]}"
