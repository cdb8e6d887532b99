#!/bin/sh
# /init of the guest's initramfs (busybox): load virtio + 9p + overlay, mount the host's root
# read-only over 9p under a tmpfs overlay (nothing the guest writes reaches the host), then
# switch_root to stage 2 (scripts/vm/guest.sh, read from the host's root) as PID 1.
# The kernel passes wardvm_stage2 (from scripts/vm.sh's command line) in the environment.
export PATH=/bin
busybox mount -t proc proc /proc
busybox mount -t sysfs sys /sys
busybox mount -t devtmpfs dev /dev
fail() { echo "ward-vm init: $*" >/dev/console; busybox poweroff -f; }
while read -r m; do busybox insmod "/mods/$m" || fail "insmod $m"; done </mods/order
busybox mkdir -p /mnt/lower /mnt/rw /mnt/root
busybox mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 root /mnt/lower || fail "mount 9p root"
busybox mount -t tmpfs -o mode=0755 rw /mnt/rw
busybox mkdir -p /mnt/rw/upper /mnt/rw/work
busybox mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay /mnt/root || fail "mount overlay"
busybox umount /proc /sys
busybox mount --move /dev /mnt/root/dev
exec busybox switch_root /mnt/root /bin/busybox sh "$wardvm_stage2"
