#!/usr/bin/env bash
# The large IPE parser differential: ward vs Linux 6.12's IPE on COUNT policies (default
# 100,000: the KUnit and edge cases, then generated and mutated ones), writing the agreement
# figures into docs/kernels.md. ward's answers and the signatures are computed on the host; the
# guest only writes each signed policy to new_policy (in boots of CHUNK policies).
# Usage: scripts/vm/ipe-bench.sh [COUNT] [SEED]
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-100000} seed=${2:-1} chunk=${WARD_IPE_BENCH_CHUNK:-25000}
export WARD_VM_CACHE=${WARD_VM_CACHE:-$PWD/.cache/vm}
dir=$WARD_VM_CACHE/ipe-bench
bash scripts/vm.sh --kernel 6.12 -- true # sets up the kernel and enrols the key once
rm -rf "$dir" && mkdir -p "$dir"
start=$(date +%s)
total=$(node test/vm/ipe-bench.ts prepare --dir "$dir" --count "$count" --seed "$seed" \
  --key "$WARD_VM_CACHE/keys/ipe.key" --cert "$WARD_VM_CACHE/keys/ipe.crt")
echo "ipe-bench: $total policies prepared in $(( $(date +%s) - start )) s" >&2
for (( from = 0; from < total; from += chunk )); do
  t=$(date +%s)
  bash scripts/vm.sh --kernel 6.12 --timeout 7200 -- node test/vm/ipe-bench.ts kernel --dir "$dir" --from "$from" --to $(( from + chunk )) \
    >"$dir/kernel-$from.jsonl.tmp"
  mv "$dir/kernel-$from.jsonl.tmp" "$dir/kernel-$from.jsonl" 
  echo "ipe-bench: policies $from..$(( from + chunk - 1 )) through the kernel in $(( $(date +%s) - t )) s" >&2
done
release=$(cat "$WARD_VM_CACHE/6.12/kver")
node test/vm/ipe-bench.ts report --dir "$dir" --docs docs/kernels.md --kernel-release "$release" | tee "$dir/report.json" | head -c 2000
echo "ipe-bench: done in $(( $(date +%s) - start )) s" >&2
