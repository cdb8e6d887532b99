#!/usr/bin/env bash
# npm run test:vm [-- 6.1|6.12 ...]: the second-kernel tests, one `node --test` in one boot per
# kernel: `*.vm.test.ts` in bookworm's 6.1, `*.vm-6.12.test.ts` in bookworm-backports' 6.12.
# Extra arguments after the kernels go to `node --test` (e.g. --test-name-pattern=IPE).
set -euo pipefail
cd "$(dirname "$0")/../.."
kernels=()
while [ $# -gt 0 ]; do case $1 in 6.1|6.12) kernels+=("$1"); shift ;; *) break ;; esac; done
[ ${#kernels[@]} -gt 0 ] || kernels=(6.1 6.12)
rc=0
for k in "${kernels[@]}"; do
  if [ "$k" = 6.1 ]; then pattern='test/**/*.vm.test.ts'; else pattern="test/**/*.vm-$k.test.ts"; fi
  echo "test:vm: booting Debian's $k kernel for $pattern" >&2
  start=$(date +%s)
  bash scripts/vm.sh --kernel "$k" -- node --test --test-concurrency=1 "$@" "$pattern" || rc=$?
  echo "test:vm: $k done in $(( $(date +%s) - start )) s (status ${rc})" >&2
done
exit "$rc"
