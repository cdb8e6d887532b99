#!/usr/bin/env bash
# Sets up a guest kernel for scripts/vm.sh from Debian's packages, once, into the cache:
#   $WARD_VM_CACHE/<kernel>/ vmlinux (ELF, booted through PVH), vmlinuz (bzImage, for OVMF),
#   root/ (the unpacked package: /lib/modules/<kver> with modules.dep), initrd.cpio.gz, kver.
# Usage: setup.sh 6.1|6.12. Prints the guest directory on stdout; progress goes to stderr.
# Never changes the machine's apt sources: bookworm-backports (6.12) is read through a private
# sources list, lists directory and cache under $WARD_VM_CACHE/apt.
set -euo pipefail
kernel=${1:?usage: setup.sh 6.1|6.12}
here=$(cd "$(dirname "$0")" && pwd)
cache=${WARD_VM_CACHE:-$(cd "$here/../.." && pwd)/.cache/vm}
say() { echo "vm setup: $*" >&2; }
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }

case $kernel in 6.1|6.12) ;; *) echo "vm setup: unknown kernel '$kernel' (use 6.1 or 6.12)" >&2; exit 2 ;; esac

# Host tools (the guest runs the host's root, so the guest's tools are these too).
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v cpio >/dev/null || need+=(cpio)
command -v depmod >/dev/null || need+=(kmod)
command -v zstd >/dev/null || need+=(zstd)
command -v xz >/dev/null || need+=(xz-utils)
command -v mkfs.ext4 >/dev/null || need+=(e2fsprogs)
command -v fsverity >/dev/null || need+=(fsverity)
command -v veritysetup >/dev/null || need+=(cryptsetup-bin)
command -v losetup >/dev/null || need+=(mount)
command -v keyctl >/dev/null || need+=(keyutils)
command -v openssl >/dev/null || need+=(openssl)
if [ "$kernel" = 6.12 ]; then
  [ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] || need+=(ovmf)
  command -v efi-updatevar >/dev/null || need+=(efitools)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "vm setup: missing ${need[*]}: install them with apt-get as root" >&2; exit 1; fi
  say "installing ${need[*]}"
  apt-cache show "${need[0]}" >/dev/null 2>&1 || apt_get update -qq >/dev/null
  apt_get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

dir=$cache/$kernel
if [ -f "$dir/ready" ]; then echo "$dir"; exit 0; fi
mkdir -p "$dir" "$cache/debs"

# Which kernel package: the one linux-image-amd64 depends on (bookworm for 6.1, backports for 6.12).
aptopts=()
if [ "$kernel" = 6.12 ]; then
  mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial"
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main' \
    >"$cache/apt/sources.list"
  aptopts=(-o "Dir::Etc::sourcelist=$cache/apt/sources.list" -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt/cache")
  if ! ls "$cache/apt/lists/"*backports*Packages* >/dev/null 2>&1; then
    say "reading bookworm-backports through a private sources list"
    apt_get "${aptopts[@]}" update -qq >/dev/null
  fi
  pkg=$(apt-cache "${aptopts[@]}" depends linux-image-amd64/bookworm-backports 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/{print $2; exit}')
else
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  if [ -z "$pkg" ]; then apt_get update -qq >/dev/null; pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); fi
fi
case $pkg in linux-image-6.1.*|linux-image-6.12.*) ;; *) echo "vm setup: no linux-image package for $kernel (found '$pkg')" >&2; exit 1 ;; esac
kver=${pkg#linux-image-}

deb=$(ls "$cache/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
  say "downloading $pkg"
  (cd "$cache/debs" && apt_get "${aptopts[@]}" -o APT::Sandbox::User=root download -qq "$pkg" >/dev/null)
  deb=$(ls "$cache/debs/${pkg}_"*.deb | head -n1)
fi

say "unpacking $pkg"
rm -rf "$dir/root"
dpkg-deb -x "$deb" "$dir/root"
cp "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinuz"
depmod -b "$dir/root" "$kver"

# The uncompressed ELF vmlinux boots directly through its PVH entry (no firmware: ~4 s instead of
# ~12 s through SeaBIOS). The bzImage's payload is xz (6.1) or zstd (6.12): find its magic.
python3 - "$dir/vmlinuz" "$dir/vmlinux.z" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
for magic in (b'\xfd7zXZ\x00', b'\x28\xb5\x2f\xfd'):
    i = b.find(magic)
    if i >= 0:
        open(sys.argv[2], 'wb').write(b[i:]); break
else:
    sys.exit('vm setup: no xz or zstd payload in vmlinuz')
PY
if [ "$(head -c1 "$dir/vmlinux.z" | od -An -tx1 | tr -d ' ')" = fd ]; then
  xz -dc "$dir/vmlinux.z" >"$dir/vmlinux" 2>/dev/null || true
else
  zstd -dcq "$dir/vmlinux.z" >"$dir/vmlinux" 2>/dev/null || true
fi
rm -f "$dir/vmlinux.z"
[ "$(head -c4 "$dir/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || { echo "vm setup: vmlinux is not an ELF file" >&2; exit 1; }

# The initramfs: static busybox, the modules for virtio + 9p + overlay (modules.dep order), /init.
say "building the initramfs"
ird=$(mktemp -d)
trap 'rm -rf "$ird"' EXIT
mkdir -p "$ird/bin" "$ird/mods" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/mnt"
cp /bin/busybox "$ird/bin/busybox"
ln -s busybox "$ird/bin/sh"
: >"$ird/mods/order"
for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_rng netfs fscache 9pnet 9pnet_virtio 9p overlay; do
  # Nothing listed: built in (or folded into another module, like fscache into netfs in 6.12).
  for f in $(modprobe -d "$dir/root" -S "$kver" --show-depends "$m" 2>/dev/null | awk '$1=="insmod"{print $2}'); do
    base=$(basename "$f"); base=${base%.xz}; base=${base%.zst}
    grep -qx "$base" "$ird/mods/order" && continue
    case $f in
      *.xz) xz -dc "$f" >"$ird/mods/$base" ;;
      *.zst) zstd -dcq "$f" >"$ird/mods/$base" ;;
      *) cp "$f" "$ird/mods/$base" ;;
    esac
    echo "$base" >>"$ird/mods/order"
  done
done
cp "$here/init.sh" "$ird/init"
chmod 755 "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1 >"$dir/initrd.cpio.gz")
echo "$kver" >"$dir/kver"
touch "$dir/ready"
say "ready: $kver in $dir"
echo "$dir"
