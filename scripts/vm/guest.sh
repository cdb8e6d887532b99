#!/bin/busybox sh
# Stage 2 of the guest, PID 1 on the overlay of the host's root (see init.sh). Mounts what a
# Linux system has (proc, sys, securityfs, tmpfs on /run, /tmp and the scratch space), makes the
# guest kernel's modules visible at /lib/modules/<kver>, runs the command scripts/vm.sh wrote
# into the I/O share (its stdout, stderr and exit status go back there), then powers off.
bb=/bin/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sys /sys
$bb mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
$bb mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
$bb mount -t bpf bpf /sys/fs/bpf 2>/dev/null
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts devpts /dev/pts
$bb mount -t tmpfs -o mode=1777 shm /dev/shm
$bb mount -t tmpfs -o mode=0755 run /run
$bb mkdir -p /run/ward-vm/io /scratch
$bb mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=512000 io /run/ward-vm/io || {
  echo "ward-vm: cannot mount the I/O share" >/dev/console; $bb poweroff -f; }
io=/run/ward-vm/io
cwd=$(cat $io/cwd)
kver=$($bb uname -r)
if [ -d "$wardvm_modules/$kver" ]; then
  $bb mkdir -p "/lib/modules/$kver"
  $bb mount --bind "$wardvm_modules/$kver" "/lib/modules/$kver"
fi
# /tmp is a fresh tmpfs, unless the working directory or the cache (keys) is under it: then it
# stays the overlay of the host's /tmp.
case "$cwd $wardvm_modules" in /tmp/*|/tmp\ *|*\ /tmp/*) ;; *) $bb mount -t tmpfs -o mode=1777 tmp /tmp ;; esac
$bb mount -t tmpfs -o mode=0755 scratch /scratch
$bb hostname ward-vm
$bb ip link set lo up 2>/dev/null
# /etc/mtab and friends come from the host's root; the guest's own mounts are in /proc.
$bb ln -sf /proc/self/mounts /etc/mtab 2>/dev/null
/bin/bash $io/cmd.sh </dev/null >$io/stdout 2>$io/stderr
echo $? >$io/status.tmp
$bb mv $io/status.tmp $io/status
$bb sync
$bb umount $io 2>/dev/null
$bb poweroff -f
