#!/usr/bin/env bash
# npm run test:vm [-- 6.1|6.12 ...]: the second-kernel tests, one `node --test` in one boot per
# kernel: `*.vm.test.ts` in bookworm's 6.1, `*.vm-6.12.test.ts` in bookworm-backports' 6.12.
# The kernels run side by side (one vCPU each; CI has two cores); each one's output is printed
# whole when it ends. Extra arguments after the kernels go to `node --test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
kernels=()
while [ $# -gt 0 ]; do case $1 in 6.1|6.12) kernels+=("$1"); shift ;; *) break ;; esac; done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
out=$(mktemp -d "${TMPDIR:-/tmp}/ward-test-vm.XXXXXX")
trap 'rm -rf "$out"' EXIT
start=$(date +%s)
pids=()
for k in "${kernels[@]}"; do
  if [ "$k" = 6.1 ]; then pattern='test/**/*.vm.test.ts'; else pattern="test/**/*.vm-$k.test.ts"; fi
  echo "test:vm: booting Debian's $k kernel for $pattern" >&2
  (
    s=$(date +%s)
    rc=0
    bash scripts/vm.sh --kernel "$k" -- node --test --test-concurrency=1 "$@" "$pattern" >"$out/$k.log" 2>&1 || rc=$?
    echo "test:vm: $k done in $(( $(date +%s) - s )) s (status $rc)" >>"$out/$k.log"
    exit "$rc"
  ) &
  pids+=($!)
done
rc=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || rc=1
  cat "$out/${kernels[$i]}.log"
done
echo "test:vm: all kernels in $(( $(date +%s) - start )) s (status $rc)" >&2
exit "$rc"
