#!/usr/bin/env bash
# Builds ward's BPF objects (bpf/*.bpf.o, committed beside their sources) with Debian's clang.
#   bpf/build.sh            build against the committed vmlinux.h
#   bpf/build.sh --vmlinux  regenerate vmlinux.h from this kernel's BTF first (bpftool)
# CO-RE: the objects carry BTF and relocations, so one build loads unchanged on 6.1 … 6.18.
# test/bpf/build.test.ts rebuilds into a temporary directory and compares bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${WARD_BPF_OUT:-$here}
if [ "${1:-}" = --vmlinux ]; then
  bpftool btf dump file /sys/kernel/btf/vmlinux format c > "$here/vmlinux.h"
fi
case "$(uname -m)" in
  x86_64) arch=x86 ;;
  aarch64) arch=arm64 ;;
  *) echo "bpf/build.sh: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
for src in "$here"/*.bpf.c; do
  name=$(basename "$src" .c)
  # -mcpu=v3: atomic fetch-and-add (Linux 5.12+). -g for BTF (CO-RE needs it); llvm-strip -g drops DWARF but keeps .BTF and .BTF.ext.
  # -fdebug-prefix-map and a relative source path keep the output independent of the checkout path.
  (cd "$here" && clang -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$arch -fdebug-prefix-map="$here"=. \
    -I. -c "$name.c" -o "$out/$name.o.tmp")
  llvm-strip -g "$out/$name.o.tmp"
  mv "$out/$name.o.tmp" "$out/$name.o"
done
