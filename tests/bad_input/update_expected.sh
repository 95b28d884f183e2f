#!/usr/bin/env bash
# Rewrites NAME.expected for every NAME.ht here (or only the NAMEs given)
# from what the hvt binary prints now. Review the result with `git diff`:
# every change in a message must be intended.
#   tests/bad_input/update_expected.sh build/compiler/driver/hvt [NAME...]
set -euo pipefail
hvt=$(realpath "${1:?usage: $0 HVT_BINARY [NAME...]}")
shift
cd "$(dirname "$0")"
names=("$@")
if ((${#names[@]} == 0)); then
  for program in *.ht; do names+=("${program%.ht}"); done
fi
for name in "${names[@]}"; do
  args=()
  [[ -f $name.args ]] && mapfile -t args <"$name.args"
  status=0
  ASAN_OPTIONS=detect_leaks=0 timeout 120 "$hvt" "$name.ht" "${args[@]}" >/dev/null 2>"$name.expected" </dev/null || status=$?
  if ((status != 1)); then
    echo "$name: hvt exited with $status, not 1: not a bad program?" >&2
  fi
done
