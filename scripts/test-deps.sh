#!/usr/bin/env bash
# Installs the Debian packages the tests compare against (independent tools), when missing.
# Runs as part of `npm test`; needs root and apt to install. Without them it says what is
# missing and the tests that need it fail under CI=true (or skip, with the reason, elsewhere).
set -u
need=()
command -v fsverity >/dev/null 2>&1 || need+=(fsverity)
command -v perl >/dev/null 2>&1 || need+=(perl-base)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# fs-verity built-in signatures in the guests: a test certificate into the kernel's .fs-verity keyring.
command -v keyctl >/dev/null 2>&1 || need+=(keyutils)
# ward run's seccomp layer loads libseccomp through koffi (a runtime dependency, not only a test one).
{ ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2 '; } || need+=(libseccomp2)
# bpf/build.sh rebuilds ward's BPF objects and test/bpf/build.test.ts compares them (Debian's clang 14).
command -v clang >/dev/null 2>&1 || need+=(clang)
command -v llvm-strip >/dev/null 2>&1 || need+=(llvm)
[ -e /usr/include/bpf/bpf_helpers.h ] || need+=(libbpf-dev)
# test/kernel/devmapper.test.ts compiles the device-mapper ioctl layout against the uapi header.
[ -e /usr/include/linux/dm-ioctl.h ] || need+=(linux-libc-dev)
command -v bpftool >/dev/null 2>&1 || need+=(bpftool)
# The Debian package test (test/package/deb.test.ts): build it, check it, verify its unit.
command -v dpkg-shlibdeps >/dev/null 2>&1 || need+=(dpkg-dev)
command -v strip >/dev/null 2>&1 || need+=(binutils)
command -v lintian >/dev/null 2>&1 || need+=(lintian)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v man >/dev/null 2>&1 || need+=(man-db)
# …and count the Node start-ups of its `ward node` (execve as the kernel sees them).
command -v strace >/dev/null 2>&1 || need+=(strace)
if [ "${WARD_BENCH_DEPS:-0}" = 1 ]; then
  command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
  command -v fapolicyd >/dev/null 2>&1 || need+=(fapolicyd)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test-deps: missing ${need[*]} (install them with apt-get as root); tests that compare against them will not run" >&2
  exit 0
fi
echo "test-deps: installing ${need[*]}" >&2
apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null 2>&1 || {
  echo "test-deps: apt-get install ${need[*]} failed" >&2
  exit 1
}
