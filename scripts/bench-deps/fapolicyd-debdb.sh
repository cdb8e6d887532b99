#!/usr/bin/env bash
# Builds fapolicyd with its Debian trust backend (trust = debdb, configure --with-deb) into
# .cache/bench-deps/fapolicyd-debdb/, for bench/policy.bench.ts to compare against
# `ward policy generate --from-dpkg`. Debian 12's fapolicyd (1.1.7) predates the backend, so
# the source is Debian's own fapolicyd source package from a newer suite (trixie's build-
# depends on libdpkg-dev), fetched with apt-get source through a private apt state: the
# host's apt sources are not changed. Nothing is installed outside the cache except the
# build-dependencies, from Debian 12, with apt-get. The daemon is not built to be run: the
# benchmark runs fapolicyd-debdb-load (scripts/bench-deps/fapolicyd-debdb-load.c), which runs
# the daemon's database build steps without fanotify.
#
# Idempotent: a build is kept per source tarball and driver (their sha256); a second run with
# both unchanged does nothing and does not touch the network. Prints the driver's path last.
# Exits non-zero with one line saying what is missing when it cannot build.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/scripts/bench-deps"
CACHE="$ROOT/.cache/bench-deps/fapolicyd-debdb"
SUITE=${FAPOLICYD_SUITE:-trixie}
DRIVER="$HERE/fapolicyd-debdb-load.c"
LOG="$CACHE/build.log"
mkdir -p "$CACHE/src" "$CACHE/apt/lists/partial"

die() { echo "fapolicyd-debdb: $*" >&2; exit 1; }

# --- build-dependencies (Debian 12 packages), each checked by a file it ships
need=()
have() { [ -e "$1" ] || need+=("$2"); }
command -v gcc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
command -v autoreconf >/dev/null 2>&1 || need+=(autoconf)
command -v automake >/dev/null 2>&1 || need+=(automake)
command -v libtoolize >/dev/null 2>&1 || need+=(libtool)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v dpkg-source >/dev/null 2>&1 || need+=(dpkg-dev)
have /usr/include/dpkg/db-fsys.h libdpkg-dev
have /usr/include/md5.h libmd-dev
have /usr/include/lmdb.h liblmdb-dev
have /usr/include/libudev.h libudev-dev
have /usr/include/cap-ng.h libcap-ng-dev
have /usr/include/uthash.h uthash-dev
have /usr/include/magic.h libmagic-dev
have /usr/include/seccomp.h libseccomp-dev
have /usr/include/openssl/sha.h libssl-dev
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing build-dependencies: ${need[*]} (apt-get install them as root)"
  fi
  echo "fapolicyd-debdb: installing ${need[*]}" >&2
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >"$LOG" 2>&1 ||
    die "apt-get install ${need[*]} failed (see $LOG)"
fi

# --- the source: Debian's fapolicyd source package from $SUITE (upstream's tarball is all we
# build; Debian's packaging is not needed). apt verifies the .dsc and the tarball against the
# suite's signed Sources index; the tarball is checked against the .dsc again below.
orig=$(ls "$CACHE"/src/fapolicyd_*.orig.tar.* 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$orig" ]; then
  command -v apt-get >/dev/null 2>&1 || die "no source cached and no apt-get to fetch Debian's fapolicyd source"
  printf 'deb-src http://deb.debian.org/debian %s main\n' "$SUITE" >"$CACHE/apt/sources.list"
  APT=(-o Dir::Etc::sourcelist="$CACHE/apt/sources.list" -o Dir::Etc::sourceparts=/nonexistent
    -o Dir::State::Lists="$CACHE/apt/lists" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
  apt-get "${APT[@]}" update -qq >"$LOG" 2>&1 || die "apt-get update of $SUITE's source index failed (see $LOG)"
  # The Debian revision's own tarball can be missing from the mirror while the upstream one is
  # there; only the upstream tarball is used, so a failure is judged by what arrived.
  (cd "$CACHE/src" && apt-get "${APT[@]}" source --download-only fapolicyd >>"$LOG" 2>&1) || true
  orig=$(ls "$CACHE"/src/fapolicyd_*.orig.tar.* 2>/dev/null | sort -V | tail -1 || true)
  [ -n "$orig" ] || die "apt-get source fapolicyd ($SUITE) brought no upstream tarball (see $LOG)"
fi
dsc=$(ls "$CACHE"/src/fapolicyd_*.dsc 2>/dev/null | sort -V | tail -1 || true)
[ -n "$dsc" ] || die "no .dsc beside $orig"
sum=$(sha256sum "$orig" | cut -d' ' -f1)
grep -q " $sum $(stat -c %s "$orig") $(basename "$orig")\$" "$dsc" || die "$(basename "$orig") does not match $(basename "$dsc")"

# --- build, keyed by the tarball, the driver and this script
key=$( (echo "$sum"; sha256sum "$DRIVER" "${BASH_SOURCE[0]}" | cut -d' ' -f1) | sha256sum | cut -c1-16)
OUT="$CACHE/build-$key"
BIN="$CACHE/bin/fapolicyd-debdb-load"
if [ -x "$OUT/fapolicyd-debdb-load" ]; then
  mkdir -p "$CACHE/bin" && ln -sfn "$OUT/fapolicyd-debdb-load" "$BIN"
  echo "$BIN"
  exit 0
fi
rm -rf "$OUT" "$CACHE"/build-*
mkdir -p "$OUT/src"
tar -xf "$orig" -C "$OUT/src" --strip-components=1
version=$(basename "$orig" | sed -E 's/^fapolicyd_(.*)\.orig\.tar\..*$/\1/')
echo "fapolicyd-debdb: building fapolicyd $version with --with-deb (log: $LOG)" >&2
(
  cd "$OUT/src"
  ./autogen.sh
  ./configure --with-deb --without-rpm --disable-shared --prefix="$CACHE/prefix"
  # Debian 12's libdpkg.a uses libmd's MD5 functions but configure puts -lmd before -ldpkg:
  # with static libraries the order matters, so -lmd goes once more at the end.
  libs="$(sed -n 's/^LIBS = //p' src/Makefile) -lmd"
  make -j"$(nproc)" LIBS="$libs"
  # The driver compiles fapolicyd's database.c into itself (see its header comment).
  mkdir -p src/bench
  cp "$DRIVER" src/bench/
  gcc -O2 -g -D_GNU_SOURCE -DLIBDPKG_VOLATILE_API -I. -Isrc/library -pthread \
    -o "$OUT/fapolicyd-debdb-load" src/bench/fapolicyd-debdb-load.c src/.libs/libfapolicyd.a $libs
) >"$LOG" 2>&1 || die "the build failed (see $LOG)"
if nm "$OUT/fapolicyd-debdb-load" | grep -qi fanotify; then
  rm -f "$OUT/fapolicyd-debdb-load"
  die "the driver links a fanotify call; refusing to keep it"
fi
echo "$version" >"$OUT/version"
mkdir -p "$CACHE/bin" && ln -sfn "$OUT/fapolicyd-debdb-load" "$BIN"
echo "$BIN"
