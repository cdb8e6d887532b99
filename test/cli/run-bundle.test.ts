// `ward run` in a checkout runs its fast entry from a bundle cached in .cache/run/
// (scripts/run-bundle.cjs): code ward runs, so a cached file is used only if the running user owns
// it and no one else may write it — anyone who may write .cache/ could otherwise put their code in
// ward; ward node's preload cache (.cache/preload/) is checked the same way. Each case plants a
// bundle that says SWAPPED and checks whether ward ran it, in a copy of the checkout (bin/,
// scripts/, src/; node_modules linked), never the checkout's own cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IS_ROOT, NOBODY, requires } from '../helpers/kernel.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

function checkout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ward-run-bundle-'));
  for (const x of ['bin', 'scripts', 'src', 'package.json']) cpSync(join(REPO, x), join(dir, x), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const run = (dir: string) => spawnSync(process.execPath, [join(dir, 'bin/ward.js'), 'run', '--dry-run', '--rox', '/usr', '--', '/bin/true'], { encoding: 'utf8', timeout: 60_000 });

/** Replaces the cached bundle by one that prints SWAPPED, keeping its inputs line (so it is current). */
function plant(file: string): void {
  const real = readFileSync(file, 'utf8');
  rmSync(file);
  writeFileSync(file, `${real.slice(0, real.indexOf('\n'))}\nprocess.stdout.write('SWAPPED\\n'); module.exports = { runFast: async () => 0 };\n`, { mode: 0o644 });
}

test('a cached run bundle is used only if the running user owns it and only they may write it', (t) => {
  if (!requires(t, IS_ROOT, 'root (to make a cached file owned by another user)')) return;
  const dir = checkout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cache = join(dir, '.cache/run/bundle.cjs');
  const first = run(dir);
  assert.equal(first.status, 0, first.stderr);
  assert.ok(existsSync(cache), 'the first run cached its bundle');
  assert.equal(statSync(cache).mode & 0o777, 0o644);

  // Control: a current bundle of ours is what runs (so the refusals below are refusals).
  plant(cache);
  assert.equal(run(dir).stdout, 'SWAPPED\n');

  const untrusted: Array<[string, () => void]> = [
    ['group-writable', () => chmodSync(cache, 0o664)],
    ['world-writable', () => chmodSync(cache, 0o646)],
    ['owned by another user', () => chownSync(cache, NOBODY, 0)],
  ];
  for (const [what, make] of untrusted) {
    plant(cache);
    make();
    const r = run(dir);
    assert.equal(r.status, 0, `${what}: ${r.stderr}`);
    assert.doesNotMatch(r.stdout, /SWAPPED/, `${what}: not run`);
    assert.match(r.stderr, /^command: \/bin\/true$/m, `${what}: ward's own entry ran (--dry-run prints the plan)`);
    const st = statSync(cache);
    assert.deepEqual([st.uid, st.mode & 0o777], [process.getuid!(), 0o644], `${what}: replaced by ward's own`);
    assert.doesNotMatch(readFileSync(cache, 'utf8'), /SWAPPED/);
  }

  // A symlink (to a bundle the user owns) is not followed: whoever made the link chose the file.
  plant(cache);
  const elsewhere = join(dir, 'planted.cjs');
  cpSync(cache, elsewhere);
  rmSync(cache);
  symlinkSync(elsewhere, cache);
  assert.doesNotMatch(run(dir).stdout, /SWAPPED/, 'a symlink: not followed');
});

test('an edited source makes the cached run bundle stale: it is made again', (t) => {
  const dir = checkout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(run(dir).status, 0);
  plant(join(dir, '.cache/run/bundle.cjs'));
  assert.equal(run(dir).stdout, 'SWAPPED\n');
  // Any module of the bundle: its ctime changes, so the stamp no longer matches.
  const file = join(dir, 'src/cli/run-options.ts');
  writeFileSync(file, readFileSync(file, 'utf8'));
  const r = run(dir);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /SWAPPED/);
});

test("ward node's cached preload bundle has the same check: not run when others may write it", (t) => {
  const dir = checkout();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const node = () => spawnSync(process.execPath, [join(dir, 'bin/ward.js'), 'node', '-e', 'console.log("app")'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(node().stdout, 'app\n');
  const [name] = readdirSync(join(dir, '.cache/preload'));
  const cache = join(dir, '.cache/preload', name!);
  rmSync(cache);
  writeFileSync(cache, "process.stdout.write('SWAPPED\\n');\n", { mode: 0o644 });
  assert.equal(node().stdout, 'SWAPPED\napp\n', 'control: a bundle of ours is what runs');
  chmodSync(cache, 0o664);
  const r = node();
  assert.equal(r.stdout, 'app\n', r.stderr);
  assert.equal(statSync(cache).mode & 0o777, 0o644, "replaced by ward's own");
});
