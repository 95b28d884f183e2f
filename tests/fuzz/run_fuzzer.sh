#!/usr/bin/env bash
# Runs compile_fuzzer for a bounded time on the seed corpus, the saved
# crashes and the standard scripts (read only); new interesting inputs go to
# WORK_DIR/corpus, a crash to WORK_DIR/artifacts/ (and fails the run; the
# inputs it saved are printed at the end of the output).
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
# -timeout: an input that takes longer is a hang. The code size limits
# (compiler/codegen/bpf_limits.h) keep the slowest program hvt accepts at
# ~12 s here under ASan.
# -rss_limit_mb: LLVM and ANTLR's caches grow; 4 GB means a real leak.
stamp="$work/artifacts/.run-started"
touch "$stamp"
status=0
"$fuzzer" \
  -max_total_time="$seconds" \
  -timeout=30 \
  -rss_limit_mb=4096 \
  -max_len=4096 \
  -dict="$here/hvt.dict" \
  -artifact_prefix="$work/artifacts/" \
  -print_final_stats=1 \
  "$work/corpus" "${seeds[@]}" || status=$?

# A CI machine's files are gone after the run, and its log may keep only
# the end of the output: print each input this run saved, whole, last, so
# the log is enough to reproduce it.
for artifact in "$work"/artifacts/*; do
  [[ -f $artifact && $artifact -nt $stamp ]] || continue
  echo "=== fuzz input $(basename "$artifact") ($(wc -c <"$artifact") bytes), as a Python bytes literal:"
  python3 -c 'import sys; print(repr(open(sys.argv[1], "rb").read()))' "$artifact" 2>/dev/null ||
    od -An -c "$artifact"
done
exit "$status"
