#!/usr/bin/env bash
# Runs one command inside a Debian kernel under QEMU (TCG), from the same working directory.
#
#   scripts/vm.sh [--kernel 6.1|6.12] [--append "KERNEL ARGS"] [--mem MiB] [--timeout S]
#                 [--no-firmware] -- CMD [ARGS...]
#
# The guest's root is the host's / shared read-only over 9p under a tmpfs overlay: every path
# reads as on the host, writes stay in the guest. /tmp is a fresh tmpfs (unless the working
# directory or the cache is under /tmp) and $WARD_VM_SCRATCH (/scratch) an empty tmpfs for
# images and loop devices. CMD runs as root with stdin /dev/null; its stdout and stderr are passed through and
# its exit status is this script's. 125 means the guest did not finish (its kernel log follows).
#
# 6.1 is bookworm's kernel (booted directly through its PVH entry, ~4 s). 6.12 is
# bookworm-backports' kernel with IPE; it boots through OVMF with a test key enrolled in UEFI's
# db, so the kernel's platform keyring trusts it (~13 s; --no-firmware boots it directly).
# The key and certificate are $WARD_VM_IPE_KEY and $WARD_VM_IPE_CERT in the guest.
#
# The environment the guest sees: PATH, HOME, LANG, LC_*, TERM, TZ, CI, NODE_* and WARD_* from
# here, plus WARD_VM=1, WARD_VM_KERNEL, WARD_VM_SCRATCH. Everything is set up from Debian's
# packages on first use and cached in $WARD_VM_CACHE (default .cache/vm in the repository).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export WARD_VM_CACHE=${WARD_VM_CACHE:-$repo/.cache/vm}
kernel=6.1 append='' mem=${WARD_VM_MEM:-2048} limit=${WARD_VM_TIMEOUT:-1800} firmware=auto
usage() { echo "usage: scripts/vm.sh [--kernel 6.1|6.12] [--append \"KERNEL ARGS\"] [--mem MiB] [--timeout S] [--no-firmware] -- CMD [ARGS...]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --kernel) kernel=${2:?--kernel needs 6.1 or 6.12}; shift 2 ;;
    --append) append=${2?--append needs an argument}; shift 2 ;;
    --mem) mem=${2:?--mem needs MiB}; shift 2 ;;
    --timeout) limit=${2:?--timeout needs seconds}; shift 2 ;;
    --no-firmware) firmware=no; shift ;;
    --enroll) firmware=enroll; shift ;; # internal: boot OVMF from empty vars, keep them after
    --) shift; break ;;
    *) echo "vm.sh: unknown option '$1'" >&2; usage ;;
  esac
done
[ $# -gt 0 ] || usage
case $kernel in 6.1|6.12) ;; *) echo "vm.sh: unknown kernel '$kernel' (use 6.1 or 6.12)" >&2; exit 2 ;; esac
[ "$firmware" = auto ] && { [ "$kernel" = 6.12 ] && firmware=ovmf || firmware=no; }

dir=$(bash "$here/vm/setup.sh" "$kernel")
if [ "$firmware" = ovmf ]; then
  # A test key, and for tests of refusals a key that is not enrolled and a certificate forged
  # with the enrolled one's subject and serial but another key.
  keys=$WARD_VM_CACHE/keys
  mkdir -p "$keys"
  newcert() { # NAME SUBJECT [openssl req options]
    local name=$1 subject=$2; shift 2
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 36500 -subj "$subject" "$@" \
      -keyout "$keys/$name.key" -out "$keys/$name.crt" 2>/dev/null
  }
  [ -f "$keys/ipe.crt" ] || newcert ipe '/CN=ward vm test key' -addext keyUsage=digitalSignature -addext extendedKeyUsage=codeSigning
  [ -f "$keys/other.crt" ] || newcert other '/CN=not enrolled'
  [ -f "$keys/forged.crt" ] || newcert forged '/CN=ward vm test key' -set_serial "0x$(openssl x509 -noout -serial -in "$keys/ipe.crt" | cut -d= -f2)"
  # Once: OVMF's variables with the certificate enrolled in db (enroll.sh runs in the guest;
  # fresh variables are in setup mode, so db is writable without a KEK).
  if [ ! -f "$dir/vars.fd" ] || [ "$keys/ipe.crt" -nt "$dir/vars.fd" ]; then
    echo "vm setup: enrolling the test key into OVMF's db" >&2
    "$0" --kernel "$kernel" --enroll -- bash "$here/vm/enroll.sh" "$keys/ipe.crt" >&2 ||
      { echo "vm.sh: enrolling the test key failed" >&2; exit 125; }
  fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ward-vm.XXXXXX")
cleanup() { [ -n "${qpid:-}" ] && kill -KILL "$qpid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$tmp/io"
pwd >"$tmp/io/cwd"
{
  echo 'set -e'
  printf 'cd %q\n' "$(pwd)"
  while IFS= read -r -d '' kv; do
    name=${kv%%=*}
    case $name in
      PATH|HOME|LANG|LC_*|TERM|TZ|CI|NODE_*|WARD_*) printf 'export %s=%q\n' "$name" "${kv#*=}" ;;
    esac
  done < <(env -0)
  printf 'export WARD_VM=1 WARD_VM_KERNEL=%q WARD_VM_SCRATCH=/scratch\n' "$kernel"
  if [ "$firmware" = ovmf ]; then
    printf 'export WARD_VM_IPE_KEY=%q WARD_VM_IPE_CERT=%q\n' "$WARD_VM_CACHE/keys/ipe.key" "$WARD_VM_CACHE/keys/ipe.crt"
  fi
  echo 'set +e'
  printf 'exec'; printf ' %q' "$@"; echo
} >"$tmp/io/cmd.sh"

# no_timer_check: under TCG on a loaded host the boot-time IO-APIC timer test can miss its ticks
# and the kernel panics ("IO-APIC + timer doesn't work!", arch/x86/kernel/apic/io_apic.c
# check_timer); the kernel's own switch skips that test, as KVM guests do.
cmdline="console=ttyS0 loglevel=4 panic=-1 no_timer_check rdinit=/init wardvm_stage2=$here/vm/guest.sh wardvm_modules=$dir/root/lib/modules $append"
qemu=(qemu-system-x86_64 -accel tcg -cpu max -smp 1 -m "$mem" -nodefaults -no-user-config
  -display none -vga none -no-reboot -serial "file:$tmp/console.log"
  -fsdev "local,id=root,path=/,security_model=none,readonly=on,multidevs=remap"
  -device virtio-9p-pci,fsdev=root,mount_tag=root
  -fsdev "local,id=io,path=$tmp/io,security_model=none"
  -device virtio-9p-pci,fsdev=io,mount_tag=io
  -device virtio-rng-pci
  -initrd "$dir/initrd.cpio.gz" -append "$cmdline")
if [ "$firmware" != no ]; then
  if [ "$firmware" = enroll ]; then cp /usr/share/OVMF/OVMF_VARS_4M.fd "$tmp/vars.fd"; else cp "$dir/vars.fd" "$tmp/vars.fd"; fi
  qemu+=(-machine q35 -kernel "$dir/vmlinuz"
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
    -drive "if=pflash,format=raw,unit=1,file=$tmp/vars.fd")
else
  qemu+=(-machine pc -kernel "$dir/vmlinux")
fi
timeout -s KILL "$limit" "${qemu[@]}" </dev/null >"$tmp/qemu.log" 2>&1 &
qpid=$!
wait "$qpid" && qrc=0 || qrc=$?
qpid=
cat "$tmp/io/stdout" 2>/dev/null || true
cat "$tmp/io/stderr" >&2 2>/dev/null || true
if [ ! -f "$tmp/io/status" ]; then
  echo "vm.sh: the $kernel guest did not finish (qemu status $qrc); its console:" >&2
  tail -n 40 "$tmp/console.log" >&2 2>/dev/null || true
  cat "$tmp/qemu.log" >&2 2>/dev/null || true
  exit 125
fi
status=$(cat "$tmp/io/status")
if [ "$firmware" = enroll ] && [ "$status" = 0 ]; then cp "$tmp/vars.fd" "$dir/vars.fd.tmp" && mv "$dir/vars.fd.tmp" "$dir/vars.fd"; fi
exit "$status"
