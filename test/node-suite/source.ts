// Node's own tests, obtained through Debian's package archive (the only source of Node's test
// suite this project's machines and CI reach): the `nodejs` source package, pinned by version and
// by the SHA-256 of its upstream tarball, fetched with `apt-get source --download-only` under a
// private apt state (nothing in /etc/apt is changed) and unpacked once into
// /var/cache/ward-node-suite/<version>/. Nothing of Node's is committed: the repository holds only the
// list of tests run (tests.txt) and the expected results (expected.ts).
//
// Debian repacks Node's tarball (+dfsg: some third-party deps removed); test/common,
// test/fixtures, test/es-module and test/parallel are Node's own, unchanged.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The newest Node source Debian serves here: sid's 22.22.2 (experimental's 24.x is listed but not served). */
export const DEBIAN_VERSION = '22.22.2+dfsg+~cs22.19.15-3';
export const NODE_VERSION = 'v22.22.2';
const ORIG = 'nodejs_22.22.2+dfsg+~cs22.19.15.orig.tar.xz';
const ORIG_SHA256 = 'f1a6dfca7ffe7f9f42942274adf9f0a12733977a4744a53f41b20836907c449b';
/** What is unpacked: Node's licence, the test helpers, the fixtures and the two test folders. */
const MEMBERS = ['LICENSE', 'test/common', 'test/fixtures', 'test/es-module', 'test/parallel'];

// Outside the checkout: the repository's package.json ("type": "module") would otherwise be the
// tests' package scope. Kept across runs on a machine (a download of ~23 MB).
const CACHE = process.env.WARD_NODE_SUITE_CACHE || '/var/cache/ward-node-suite';
export const SOURCE_DIR = join(CACHE, NODE_VERSION);

/** The archive this machine's apt already uses for Debian (its deb822 or one-line sources). */
function debianArchive(): string {
  const files = ['/etc/apt/sources.list', ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const f of files) {
    if (!/\.(list|sources)$/.test(f) || !existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1] ?? '';
      if (uri && /\/debian\/?$/.test(uri) && !/security/.test(suites)) return uri;
    }
    const line = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+(?!\S*security)/m.exec(text);
    if (line) return line[1]!;
  }
  throw new Error("node-suite: no Debian archive in this machine's apt sources (/etc/apt/sources.list*); the suite fetches Node's tests as Debian's nodejs source package");
}

function download(): string {
  const apt = join(CACHE, 'apt');
  mkdirSync(join(apt, 'lists', 'partial'), { recursive: true });
  mkdirSync(join(apt, 'cache', 'archives', 'partial'), { recursive: true });
  writeFileSync(join(apt, 'sources.list'), `deb-src ${debianArchive()} sid main\n`);
  const o = [`-oDir::Etc::SourceList=${join(apt, 'sources.list')}`, '-oDir::Etc::SourceParts=/dev/null', `-oDir::State::Lists=${join(apt, 'lists')}`, `-oDir::Cache=${join(apt, 'cache')}`, '-oAPT::Sandbox::User=root'];
  const dl = join(apt, 'dl');
  mkdirSync(dl, { recursive: true });
  const tarball = join(dl, ORIG);
  if (!existsSync(tarball)) {
    execFileSync('apt-get', [...o, '-qq', 'update'], { stdio: 'pipe', timeout: 300_000 });
    // Only the upstream tarball is needed (Debian's packaging files are not): apt verifies it
    // against the signed Sources index; a missing .debian.tar.xz does not matter here.
    try {
      execFileSync('apt-get', [...o, '-qq', 'source', '--download-only', `nodejs=${DEBIAN_VERSION}`], { cwd: dl, stdio: 'pipe', timeout: 600_000 });
    } catch (e) {
      if (!existsSync(tarball)) throw new Error(`node-suite: Debian no longer serves nodejs ${DEBIAN_VERSION} (${(e as Error).message.split('\n')[0]}); pin a version that \`apt-cache showsrc nodejs\` lists in test/node-suite/source.ts and re-record test/node-suite/expected.ts`);
    }
  }
  const sum = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  if (sum !== ORIG_SHA256) throw new Error(`node-suite: ${tarball} has SHA-256 ${sum}, expected ${ORIG_SHA256}; remove it and run again`);
  return tarball;
}

/** The unpacked source tree (downloaded and unpacked at the first call on a machine). */
export function nodeSource(): string {
  if (existsSync(join(SOURCE_DIR, '.complete'))) return SOURCE_DIR;
  const tarball = download();
  const tmp = `${SOURCE_DIR}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  execFileSync('tar', ['-xJf', tarball, '-C', tmp, '--strip-components=1', ...MEMBERS.map((m) => `node-${NODE_VERSION}/${m}`)], { stdio: 'pipe', timeout: 300_000 });
  writeFileSync(join(tmp, '.complete'), `${DEBIAN_VERSION}\n`);
  rmSync(SOURCE_DIR, { recursive: true, force: true });
  renameSync(tmp, SOURCE_DIR);
  return SOURCE_DIR;
}
