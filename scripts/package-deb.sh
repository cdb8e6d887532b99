#!/usr/bin/env bash
# npm run package:deb → build/ward_<version>_<arch>.deb, with dpkg-deb (no debhelper needed).
# The package brings its own Node runtime (the registry's `node` package, Node 24: the repo's dev
# dependency), so the host needs no Node and a system Node upgrade cannot break the daemon.
#   /usr/lib/ward/           the npm tarball's contents (built dist/, bin/, the BPF objects bpf/*.bpf.o)
#                            + production node_modules
#   /usr/lib/ward/runtime/   Node 24 (stripped)
#   /usr/bin/ward            a launcher running ward on that runtime (`ward node APP`: bin/ward-node,
#                            which runs the app on that runtime too, one Node start-up)
#   /etc/ward/               daemon.json (permissive) + boot.pol (allow-all): conffiles
#   /lib/systemd/system/ward.service, /var/lib/ward, /var/cache/ward, ward(1), bash completion
set -euo pipefail
umask 022
cd "$(dirname "$0")/.."
REPO=$PWD
die() { echo "package-deb: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install dpkg-dev binutils gzip)"
done
NODE_BIN=$REPO/node_modules/node/bin/node
[ -x "$NODE_BIN" ] || die "no Node runtime at $NODE_BIN: run \"npm ci\" first"
NODE_VERSION=$("$NODE_BIN" --version)
case $NODE_VERSION in v24.*) ;; *) die "the bundled runtime must be Node 24, $NODE_BIN is $NODE_VERSION" ;; esac
VERSION=$("$NODE_BIN" -p 'require("./package.json").version')
case $("$NODE_BIN" -p process.arch) in
  x64) ARCH=amd64 ;;
  arm64) ARCH=arm64 ;;
  *) die "unsupported architecture $("$NODE_BIN" -p process.arch)" ;;
esac
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
MAINTAINER=${WARD_DEB_MAINTAINER:-ward maintainers <maintainers@ward.invalid>}

OUT=$REPO/build
WORK=$OUT/deb
ROOT=$WORK/root
LIB=$ROOT/usr/lib/ward
DOC=$ROOT/usr/share/doc/ward
rm -rf "$WORK"
mkdir -p "$WORK" "$ROOT/DEBIAN"

# 1. The npm tarball (prepack builds dist/): exactly what npm users get.
PATH=$(dirname "$NODE_BIN"):$PATH npm pack --silent --pack-destination "$WORK" >/dev/null
tar -xzf "$WORK"/*.tgz -C "$WORK"
mkdir -p "$(dirname "$LIB")" && mv "$WORK/package" "$LIB"

# 2. Production dependencies, at the lockfile's versions, from the npm cache when it has them.
cp package-lock.json "$LIB/"
(cd "$LIB" && PATH=$(dirname "$NODE_BIN"):$PATH npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null)
rm -f "$LIB/package-lock.json" "$LIB/node_modules/.package-lock.json"
# Their READMEs and changelogs are for developers (licenses stay, see the copyright file).
find "$LIB/node_modules" -type f -iname '*.md' ! -iname 'licen[cs]e*' -delete
# koffi's Linux package also carries a musl build; Debian is glibc.
find "$LIB/node_modules" -depth -type d -path '*/@koromix/koffi-linux-*/musl_*' -exec rm -rf {} +
# Documentation goes to /usr/share/doc; licenses are collected in the copyright file.
mkdir -p "$DOC"
mv "$LIB/docs"/*.md "$DOC/" && rmdir "$LIB/docs"
mv "$LIB/examples" "$DOC/examples"
mv "$LIB/README.md" "$DOC/README.md"
rm "$LIB/LICENSE"

# 3. The runtime.
install -D -m 0755 "$NODE_BIN" "$LIB/runtime/bin/node"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$LIB/runtime/bin/node"

# Node's own license file (MIT, with the licenses of what it bundles), referred to by copyright.
install -m 0644 "$REPO/node_modules/node/node_modules/node-linux-${ARCH/amd64/x64}/LICENSE" "$LIB/runtime/LICENSE"

# 4. /usr/bin/ward.
install -d "$ROOT/usr/bin"
cat > "$ROOT/usr/bin/ward" <<'LAUNCHER'
#!/bin/sh
# ward on the package's own Node runtime (never the system's node).
# `ward node APP` goes to the shell launcher, which finds that runtime beside it and execs it with
# ward's preload: one Node start-up, the app's parent is the caller. (Run by sh, not sourced as
# bin/ward does: the launcher finds ward's root from $0. Its files are not executable here.)
# `ward node trust`, `ward node --help` and every other command are the CLI, as bin/ward does.
if [ "${1-}" = node ]; then
  case "${2-}" in
    trust | help | -h | --help) ;;
    *) shift; exec /bin/sh /usr/lib/ward/bin/ward-node "$@" ;;
  esac
fi
# Compiled-code cache: writable by root only, removed with the package.
WARD_COMPILE_CACHE=/var/cache/ward/compile
export WARD_COMPILE_CACHE
# The daemon runs as root: SIGUSR1 must never open Node's inspector, not even while it starts.
if [ "${1-}" = daemon ]; then
  exec /usr/lib/ward/runtime/bin/node --disable-sigusr1 /usr/lib/ward/bin/ward.js "$@"
fi
exec /usr/lib/ward/runtime/bin/node /usr/lib/ward/bin/ward.js "$@"
LAUNCHER
chmod 0755 "$ROOT/usr/bin/ward"

# 5. Configuration. packaging/daemon.json is the enforcer's shipped configuration; the package
# requires only that installing never enforces: the daemon starts permissive on the allow-all
# boot policy. Any other setting is shipped as it is.
install -d "$ROOT/etc/ward"
"$NODE_BIN" -e '
  const fs = require("node:fs");
  const c = JSON.parse(fs.readFileSync("packaging/daemon.json", "utf8"));
  const need = { enforce: false, bootPolicy: "/etc/ward/boot.pol" };
  for (const [k, v] of Object.entries(need)) if (c[k] !== v) { process.stderr.write(`package-deb: daemon.json: ${k} ${JSON.stringify(c[k])} → ${JSON.stringify(v)} for the package\n`); c[k] = v; }
  fs.writeFileSync(process.argv[1], JSON.stringify(c, null, 2) + "\n");' "$ROOT/etc/ward/daemon.json"
install -m 0644 packaging/deb/boot.pol "$ROOT/etc/ward/boot.pol"
printf '/etc/ward/boot.pol\n/etc/ward/daemon.json\n' > "$ROOT/DEBIAN/conffiles"

# 6. The systemd unit, with the package's /usr/bin/ward.
install -d "$ROOT/lib/systemd/system"
sed 's#/usr/local/bin/ward#/usr/bin/ward#g' packaging/systemd/ward.service > "$ROOT/lib/systemd/system/ward.service"
chmod 0644 "$ROOT/lib/systemd/system/ward.service"

# 7. State and cache directories (the unit's StateDirectory= has the same mode).
install -d -m 0700 "$ROOT/var/lib/ward"
install -d -m 0755 "$ROOT/var/cache/ward"

# 8. The apt hook, when the repository has one (packaging/apt/, see its README): executables →
# /usr/lib/ward/ (0755), *.md → /usr/share/doc/ward/apt/, anything else is an apt.conf.d snippet
# → /etc/apt/apt.conf.d/ (a conffile).
if [ -d packaging/apt ]; then
  for f in packaging/apt/*; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    if [ -x "$f" ]; then
      install -D -m 0755 "$f" "$LIB/$name"
    elif [[ $name == *.md ]]; then
      install -D -m 0644 "$f" "$DOC/apt/$name"
    else
      install -D -m 0644 "$f" "$ROOT/etc/apt/apt.conf.d/$name"
      echo "/etc/apt/apt.conf.d/$name" >> "$ROOT/DEBIAN/conffiles"
    fi
  done
fi

# 9. Man page, bash completion, changelog, copyright.
install -d "$ROOT/usr/share/man/man1" "$ROOT/usr/share/bash-completion/completions"
gzip -9n < packaging/deb/ward.1 > "$ROOT/usr/share/man/man1/ward.1.gz"
# (Runs the staged ward: its compile cache must not land in the package.)
WARD_COMPILE_CACHE=$WORK/compile-cache "$NODE_BIN" scripts/package-deb-completion.ts "$LIB/bin/ward.js" > "$ROOT/usr/share/bash-completion/completions/ward"
[ ! -e "$LIB/.cache" ] || die "$LIB/.cache was written while building"
DATE=$(date -R -u -d "@$SOURCE_DATE_EPOCH")
printf 'ward (%s) unstable; urgency=medium\n\n  * Release %s; see the project'"'"'s history for changes.\n\n -- %s  %s\n' \
  "$VERSION" "$VERSION" "$MAINTAINER" "$DATE" | gzip -9n > "$DOC/changelog.gz"
"$NODE_BIN" scripts/package-deb-copyright.ts "$LIB" > "$DOC/copyright"
install -D -m 0644 packaging/deb/lintian-overrides "$ROOT/usr/share/lintian/overrides/ward"

# 10. Maintainer scripts and control.
install -m 0755 packaging/deb/postinst packaging/deb/prerm packaging/deb/postrm "$ROOT/DEBIAN/"
# Shared-library dependencies of the ELF files shipped (Node, koffi's native module).
mkdir -p "$WORK/shlibs/debian" && printf 'Source: ward\n\nPackage: ward\nArchitecture: any\n' > "$WORK/shlibs/debian/control"
mapfile -t elves < <(find "$ROOT" -type f \( -name '*.node' -o -path '*/runtime/bin/node' \))
# (Its warnings are about Node addons resolving napi_* in the node binary, as they should.)
DEPENDS=$(cd "$WORK/shlibs" && dpkg-shlibdeps -O "${elves[@]/#/-e}" 2>"$WORK/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p') || true
[ -n "$DEPENDS" ] || { cat "$WORK/shlibdeps.log" >&2; die "dpkg-shlibdeps found no library dependencies"; }
SIZE=$(du -sk --apparent-size --exclude=DEBIAN "$ROOT" | cut -f1)
cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: ward
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $SIZE
Depends: $DEPENDS
Section: admin
Priority: optional
Homepage: https://www.npmjs.com/package/@ward-sh/ward
Description: decide what code may run on a Linux host
 ward controls what code may run on a Linux host and what a running program
 may touch: the IPE policy language, AT_EXECVE_CHECK and the exec securebits,
 Landlock sandboxes, and a daemon that applies IPE policies to every exec
 through fanotify.
 .
 This package brings its own Node.js runtime. Installing it never enforces:
 the daemon starts permissive (audit only) with a policy that allows
 everything.
CONTROL
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$ROOT/DEBIAN/md5sums"

# Normalise modes (npm tarballs and umask vary): directories 0755, files 0644, executables 0755.
# Under /usr/lib/ward only the runtime is executed directly: ward.js and the dependencies' own
# scripts are run by it, so their `#!/usr/bin/env node` lines never pick up a system node.
find "$ROOT" -type d ! -path "$ROOT/var/lib/ward" -exec chmod 0755 {} +
find "$ROOT" -type f ! -perm /111 -exec chmod 0644 {} +
find "$ROOT" -type f -perm /111 -exec chmod 0755 {} +
find "$LIB/bin" "$LIB/bpf" "$LIB/dist" "$LIB/node_modules" "$LIB/package.json" -type f -exec chmod 0644 {} +
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/conffiles" "$ROOT/DEBIAN/md5sums"

DEB=$OUT/ward_${VERSION}_${ARCH}.deb
# xz at level 1: Debian's archive (and lintian) accept gzip and xz only; level 6 takes over a
# minute on two cores for ~10% less. WARD_DEB_COMPRESSION overrides, e.g. "xz -z9".
read -r -a comp <<< "${WARD_DEB_COMPRESSION:-xz -z1}"
dpkg-deb --root-owner-group "-Z${comp[0]}" "${comp[@]:1}" --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
