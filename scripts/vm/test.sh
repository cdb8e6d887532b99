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
# Set-up needs Debian's packages (root and apt to install them) and the network once: outside
# CI a machine that cannot set up says why and skips; under CI=true that is a failure.
for k in "${kernels[@]}"; do
  if ! bash scripts/vm/setup.sh "$k" >/dev/null; then
    if [ "${CI:-}" = true ]; then echo "test:vm: cannot set up the $k guest" >&2; exit 1; fi
    echo "test:vm: skipped: the $k guest cannot be set up here (see above); CI runs these tests" >&2
    exit 0
  fi
done
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
