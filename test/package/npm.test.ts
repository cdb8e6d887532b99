// The npm package as a user gets it: `npm pack` (prepack builds dist/), installed into an empty
// directory with production dependencies only, then the CLI and every public entry point run on
// Node 22 and Node 24 from the registry's `node` package; Node 20 gets one line and exit 1.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.ts';
import { listFiles, mustRun, nodeRuntime, NODE_DIR, npm, packTarball, run, SYSTEM_PATH } from './build.ts';

const NAME = '@ward-sh/ward';
// Every object bpf/build.sh builds (the repository's bpf/*.bpf.o).
const BPF_OBJECTS = readdirSync(join(REPO_ROOT, 'bpf')).filter((f) => f.endsWith('.bpf.o')).sort();
const repoPkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string; exports: Record<string, { types: string; default: string }> };

describe('npm package', { timeout: 600_000 }, () => {
  let work = '';
  let app = ''; // the empty directory the tarball is installed into
  let pkgDir = '';
  let packed: string[] = [];

  before(() => {
    work = mkdtempSync(join(tmpdir(), 'ward-npm-'));
    const tgz = packTarball(work);
    packed = mustRun('tar', ['-tzf', tgz]).split('\n').filter(Boolean).map((p) => p.replace(/^package\//, ''));
    app = join(work, 'app');
    mustRun('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    npm(['install', '--omit=dev', tgz], app);
    pkgDir = join(app, 'node_modules', NAME);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('is named as the README says and ships only what users need', () => {
    assert.equal(repoPkg.name, NAME);
    assert.match(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'), new RegExp(`npm install (-g )?${NAME.replace('/', '\\/')}`));
    // Never `npx <name>` (it may fetch another package from the registry), never under sudo.
    assert.deepEqual(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8').split('\n').filter((l) => /^\s*(sudo\s+)?npx\s/.test(l) || /sudo\s+npx/.test(l)), []);
    for (const need of ['LICENSE', 'README.md', 'package.json', 'bin/ward.js', 'dist/cli/main.js', 'dist/cli/run.bundle.cjs', 'dist/index.d.ts']) assert.ok(packed.includes(need), `${need} missing from the tarball`);
    assert.match(readFileSync(join(pkgDir, 'LICENSE'), 'utf8'), /^MIT License/);
    const stray = packed.filter((p) => /^(src|test|bench|scripts|packaging|\.cache|node_modules)\//.test(p) || (p.endsWith('.ts') && !p.endsWith('.d.ts')));
    assert.deepEqual(stray, []);
    // The BPF objects the daemon's bpf backend, module autoload and `ward status` load — only
    // them (not their sources or build script), byte for byte the repository's.
    assert.deepEqual(packed.filter((p) => p.startsWith('bpf/')).sort(), BPF_OBJECTS.map((f) => `bpf/${f}`));
    for (const f of BPF_OBJECTS) assert.ok(readFileSync(join(pkgDir, 'bpf', f)).equals(readFileSync(join(REPO_ROOT, 'bpf', f))), `bpf/${f} differs from the repository's`);
    // Every public entry point is built JavaScript with its declarations, present in the tarball.
    for (const [entry, target] of Object.entries(repoPkg.exports)) {
      assert.match(target.default, /^\.\/dist\/.*\.js$/, entry);
      assert.ok(packed.includes(target.default.slice(2)) && packed.includes(target.types.slice(2)), `${entry} → ${target.default}`);
    }
  });

  it('installs production dependencies only', () => {
    const top = listFiles(join(app, 'node_modules')).map((p) => p.split('/').slice(0, p.startsWith('@') ? 2 : 1).join('/'));
    for (const dev of ['typescript', 'fast-check', 'node', '@types/node']) assert.ok(!top.includes(dev), `${dev} installed`);
    for (const dep of ['commander', 'koffi', 'pkijs']) assert.ok(top.includes(dep), `${dep} missing`);
  });

  for (const major of [22, 24]) {
    describe(`on Node ${major}`, () => {
      let bin = '';
      let env: NodeJS.ProcessEnv = {};
      before(() => {
        // Node 24: the repo's own runtime (registry node@24); Node 22: fetched the same way.
        bin = major === 24 ? NODE_DIR : nodeRuntime(major);
        assert.match(mustRun(join(bin, 'node'), ['--version']), new RegExp(`^v${major}\\.`));
        env = { PATH: `${bin}:${SYSTEM_PATH}`, HOME: work, LANG: 'C.UTF-8' };
      });
      const ward = (args: string[]) => run(join(app, 'node_modules', '.bin', 'ward'), args, { cwd: app, env });

      it('ward --version prints the package version', () => {
        const r = ward(['--version']);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), repoPkg.version);
      });

      it('ward status --json describes this machine', () => {
        const r = ward(['status', '--json']);
        assert.equal(r.stderr, '');
        const status = JSON.parse(r.stdout) as { items: Array<{ name: string; value: unknown; usable: boolean; source?: string; meaning: string }> };
        // This host has Landlock (see test/cli/status.test.ts); the built code reports it too.
        assert.ok(status.items.some((i) => i.name === 'Landlock ABI' && i.usable), r.stdout);
        // The BPF line names where the installed ward loads its BPF objects from, and finds them
        // there (whether this kernel then accepts the probe program is the kernel's answer).
        const bpf = status.items.find((i) => i.name === 'BPF LSM');
        assert.equal(bpf?.source, join(pkgDir, 'bpf'), JSON.stringify(bpf));
        assert.notEqual(bpf.value, 'objects missing', bpf.meaning);
        assert.doesNotMatch(bpf.meaning, /ENOENT/);
      });

      it('ward policy check accepts the shipped example and rejects a broken policy', () => {
        const ok = ward(['policy', 'check', join(pkgDir, 'examples', 'boot-verified-only.pol')]);
        assert.equal(ok.status, 0, ok.stderr);
        assert.match(ok.stdout, /ok: policy "boot_verified_only"/);
        const badFile = join(work, `bad${major}.pol`);
        writeFileSync(badFile, 'policy_name=x policy_version=0.0.1\nDEFAULT action=MAYBE\n');
        const bad = ward(['policy', 'check', badFile]);
        assert.equal(bad.status, 1);
        assert.match(bad.stdout + bad.stderr, new RegExp(`${badFile}:2:\\d+: `));
        assert.doesNotMatch(bad.stderr, /\n\s+at /);
      });

      it('ward run and ward node find their helpers (launcher, preload) in the built package', () => {
        const sandboxed = ward(['run', '--add-libs', '--ro', '/etc', '--', '/bin/cat', '/etc/hostname']);
        assert.equal(sandboxed.status, 0, sandboxed.stderr);
        assert.equal(sandboxed.stdout, readFileSync('/etc/hostname', 'utf8'));
        // Outside the sandbox's read-only /etc, reading is refused by Landlock (EACCES).
        const denied = ward(['run', '--add-libs', '--ro', '/etc', '--', '/bin/cat', join(pkgDir, 'package.json')]);
        assert.notEqual(denied.status, 0);
        const appFile = join(work, `app${major}.mjs`);
        writeFileSync(appFile, 'import { createRequire } from "node:module";\nconsole.log(JSON.stringify({ loaded: Object.keys(createRequire(import.meta.url).cache), v: process.versions.node }));\n');
        const node = ward(['node', appFile]);
        assert.equal(node.status, 0, node.stderr);
        const seen = JSON.parse(node.stdout) as { loaded: string[]; v: string };
        // The preload ran from the package: its shim is in the require cache, and the bundled
        // preload it loaded (dist/node/preload.bundle.cjs) was sealed away like every ward file.
        assert.ok(seen.loaded.includes(join(pkgDir, 'bin', 'ward-node-preload.cjs')), seen.loaded.join('\n'));
        assert.deepEqual(seen.loaded.filter((p) => p.startsWith(join(pkgDir, 'dist'))), []);
        assert.match(seen.v, new RegExp(`^${major}\\.`));
        // The public API is the running preload's own (one state, not a second copy of ward's
        // modules): a level set through it is in force in ward's hooks; ward's internals stay sealed.
        const apiFile = join(app, `api${major}.mjs`);
        writeFileSync(
          apiFile,
          `import { restrictModuleLoading, currentLevel } from '${NAME}/node';
          const refused = async (spec) => import(spec).then(() => 'loaded', (e) => e.code);
          const internal = await refused(${JSON.stringify(join(pkgDir, 'dist', 'node', 'state.js'))});
          restrictModuleLoading(2);
          console.log(JSON.stringify({ level: currentLevel().perProcess, zlib: await refused('node:zlib'), internal }));\n`,
        );
        const api = ward(['node', apiFile]);
        assert.equal(api.status, 0, api.stderr);
        assert.deepEqual(JSON.parse(api.stdout), { level: 2, zlib: 'ERR_WARD_MODULE_DENIED', internal: 'ERR_WARD_EPERM' });
      });

      // Defined for Node 24 only (see the comment inside).
      if (major === 24) it("an app's loader that rewrites ward's modules sees none of them: enforcement still refuses a non-executable file", () => {
        // The package's copy of test/node/loader-ward.test.ts: ward's runtime is one CommonJS
        // bundle, which Node's hooks thread (--experimental-loader) never sees. Node 24 only: on
        // Node 22 an asynchronous loader cannot be combined with in-thread hooks
        // (module.registerHooks, which ward's checks are) — Node throws ERR_METHOD_NOT_IMPLEMENTED
        // (resolveSync) at the first import, with or without this fix (open, docs/node.md).
        const log = join(work, `seen${major}.log`);
        const loader = join(app, `hostile${major}.mjs`);
        writeFileSync(
          loader,
          `import { appendFileSync } from 'node:fs';
          const mine = (u) => u.startsWith('file:') && decodeURIComponent(new URL(u).pathname).startsWith(${JSON.stringify(pkgDir + '/')});
          export async function resolve(s, c, next) { const r = await next(s, c); if (mine(r.url)) appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }
          export async function load(u, c, next) { return mine(u) ? { format: 'module', source: 'export {};', shortCircuit: true } : next(u, c); }\n`,
          { mode: 0o755 },
        );
        const appFile = join(app, `loader-app${major}.mjs`);
        writeFileSync(appFile, 'console.log("dep", await import("./loader-dep.mjs").then((m) => m.x, (e) => e.code));\n', { mode: 0o755 });
        writeFileSync(join(app, 'loader-dep.mjs'), 'export const x = 42;\n', { mode: 0o644 });
        const flags = ['--no-warnings', '--experimental-loader', loader, appFile];
        const plain = ward(['node', ...flags]);
        assert.equal(plain.stdout, 'dep 42\n', plain.stderr);
        const enforced = ward(['node', '--enforce', ...flags]);
        assert.equal(enforced.stdout, 'dep ERR_WARD_EXEC_DENIED\n', enforced.stderr);
        assert.equal(existsSync(log) ? readFileSync(log, 'utf8') : '', '');
      });

      it('every public entry point imports, and the README example decides', () => {
        const script = `
          const { parsePolicy, CompiledPolicy, StaticFileContext } = await import('${NAME}/policy');
          const r = parsePolicy('policy_name=p policy_version=0.0.1\\nDEFAULT action=DENY\\nop=EXECUTE boot_verified=TRUE action=ALLOW\\n');
          const engine = new CompiledPolicy(r.value);
          const yes = engine.decide('EXECUTE', new StaticFileContext({ boot_verified: true })).action;
          const no = engine.decide('EXECUTE', new StaticFileContext({ boot_verified: false })).action;
          // The preload last: once it has run, ward's own modules are sealed (docs/node.md).
          const exportsMap = ${JSON.stringify(Object.keys(repoPkg.exports))};
          const order = [...exportsMap.filter((e) => e !== './node/preload'), './node/preload'];
          const counts = {};
          for (const e of order) counts[e] = Object.keys(await import(${JSON.stringify(NAME)} + e.slice(1))).length;
          console.log(JSON.stringify({ counts, yes, no }));`;
        const r = run(join(bin, 'node'), ['--input-type=module', '-e', script], { cwd: app, env });
        assert.equal(r.status, 0, r.stderr);
        const out = JSON.parse(r.stdout) as { counts: Record<string, number>; yes: string; no: string };
        assert.deepEqual(Object.keys(out.counts).sort(), Object.keys(repoPkg.exports).sort());
        // Every entry but the preload (a side-effect module) exports something.
        for (const [e, n] of Object.entries(out.counts)) if (e !== './node/preload') assert.ok(n > 0, `${e} exports nothing`);
        assert.deepEqual([out.yes, out.no], ['ALLOW', 'DENY']);
      });
    });
  }

  it('the declarations type-check a TypeScript consumer (strict, nodenext)', () => {
    writeFileSync(join(app, 'consumer.ts'), `import { parsePolicy, CompiledPolicy, StaticFileContext } from '${NAME}/policy';\nconst r = parsePolicy('x');\nif (r.ok) { const d: 'ALLOW' | 'DENY' = new CompiledPolicy(r.value).decide('EXECUTE', new StaticFileContext({})).action; console.log(d); }\n`);
    writeFileSync(join(app, 'wrong.ts'), `import { parsePolicy } from '${NAME}/policy';\nconst n: number = parsePolicy('x');\n`);
    const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const opts = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023', '--types', 'node', '--typeRoots', join(REPO_ROOT, 'node_modules', '@types')];
    // One compiler run: consumer.ts type-checks, and the declarations carry real types (not
    // `any`), so the wrong use in wrong.ts is the one error.
    const r = run(process.execPath, [tsc, ...opts, 'consumer.ts', 'wrong.ts'], { cwd: app });
    assert.equal(r.status, 2, r.stdout);
    assert.deepEqual(r.stdout.split('\n').filter((l) => /error TS/.test(l)).map((l) => l.replace(/: error (TS\d+).*/, ' $1')), ['wrong.ts(2,7) TS2322']);
  });

  it('on Node 20, says which Node it needs in one line and exits 1', () => {
    const bin = nodeRuntime(20);
    const appFile = join(work, 'app20.js');
    writeFileSync(appFile, 'console.log("app ran");\n');
    // The CLI (bin/ward.js) and `ward node` (the shell launcher bin/ward-node, which would give
    // Node 20 options it refuses) say the same line, naming the node in PATH.
    for (const args of [['--version'], ['node', appFile], ['node', '--enforce', appFile]]) {
      const r = run(join(app, 'node_modules', '.bin', 'ward'), args, { cwd: app, env: { PATH: `${bin}:${SYSTEM_PATH}` } });
      assert.equal(r.status, 1, `ward ${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr, `ward: needs Node.js 22.15 or later (22 LTS or 24 LTS); ${join(bin, 'node')} is Node.js ${mustRun(join(bin, 'node'), ['--version']).trim().slice(1)}\n`);
    }
  });
});
