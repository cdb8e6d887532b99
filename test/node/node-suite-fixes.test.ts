// ward node bugs found by running Node's own tests under it (test/node-suite/), each compared
// with plain node on the same file (the reference) and checked under `ward exec --restrict-file
// --deny-interactive -- ward node` as nobody: a loader's virtual module at a file: URL with no
// file, module.register() of a loader that does not exist, a data: URL of a MIME type Node does
// not run, ward's own process.binding() calls under --pending-deprecation, and a program that
// deletes the Array iterator.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { Scratch, IS_ROOT, NOBODY, NOGROUP, requires, placeFile } from '../helpers/kernel.ts';
import { WARD_BIN } from '../helpers/cli.ts';
import { execveCheckSupported } from '../../src/kernel/exec-check.ts';

let s: Scratch;
let dir: string;
const ok = () => IS_ROOT && execveCheckSupported();

before(() => {
  if (!ok()) return;
  s = new Scratch('ward-node-suite-fixes-');
  dir = s.tmpfs('app');
  chmodSync(dir, 0o777);
  const file = (rel: string, text: string) => placeFile(dir, rel, text, 0o755);
  // A loader whose resolve leads to a file: URL with no file behind it, and whose load supplies the source.
  file('virtual-loader.mjs', 'export function resolve(s, c, n) { return s === "virtual" ? { url: new URL("./no-such-file.mjs", import.meta.url).href, shortCircuit: true } : n(s, c); }\nexport function load(u, c, n) { return u.endsWith("/no-such-file.mjs") ? { format: "module", source: "export default 42;", shortCircuit: true } : n(u, c); }\n');
  file('virtual.mjs', 'import { register } from "node:module";\nregister("./virtual-loader.mjs", import.meta.url);\nconst m = await import("virtual");\nconsole.log("virtual", m.default);\n');
  file('missing-loader.mjs', 'import { register } from "node:module";\ntry { register("./not-there.mjs", import.meta.url); } catch (e) { console.log("register", e.code); }\n');
  file('data-format.mjs', 'for (const u of ["data:text/plain,export default 1", "data:text/css,.x{}"]) { try { await import(u); } catch (e) { console.log(e.code, e.message); } }\n');
  file('noiter.cjs', 'const it = Object.getPrototypeOf([][Symbol.iterator]());\ndelete Array.prototype[Symbol.iterator];\ndelete it.next;\nconsole.log("required", require("./esm.mjs").x);\nimport("./esm.mjs").then((m) => console.log("imported", m.x));\n');
  file('esm.mjs', 'export const x = 42;\n');
  file('parent.cjs', 'process.on("warning", (w) => console.log("warning", w.code));\nmodule.parent;\nif (process.argv[2] === "binding") { process.binding("fs"); process.binding("fs"); }\nsetImmediate(() => console.log("done"));\n');
});
after(() => s?.cleanup());

function node(args: string[], how: 'plain' | 'ward' | 'fi') {
  const pre = how === 'plain' ? [] : how === 'ward' ? [WARD_BIN, 'node'] : [WARD_BIN, 'exec', '--restrict-file', '--deny-interactive', '--', process.execPath, WARD_BIN, 'node'];
  const r = spawnSync(process.execPath, [...pre, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000, uid: NOBODY, gid: NOGROUP, env: { PATH: '/usr/bin:/bin', HOME: '/' } });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test("a loader's virtual module at a file: URL with no file runs as on plain node; under -fi it is refused in one line", (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const plain = node(['virtual.mjs'], 'plain');
  assert.equal(plain.out, 'virtual 42\n', plain.err);
  const ward = node(['virtual.mjs'], 'ward');
  assert.equal(ward.out, plain.out, ward.err);
  const fi = node(['virtual.mjs'], 'fi');
  assert.equal(fi.out, '');
  assert.match(fi.err, /ERR_WARD_EXEC_DENIED.*module \S+no-such-file\.mjs may not be executed: ENOENT: there is no such file/);
  // Nothing from the loader runs under --deny-codegen either (a made-up source is generated code).
  assert.match(node(['--deny-codegen', 'virtual.mjs'], 'ward').err, /made up \(no file\).* is refused: ward node runs with --deny-codegen/);
});

test('module.register() of a loader that does not exist: Node\'s error without enforcement, a refusal under -fi', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const plain = node(['missing-loader.mjs'], 'plain');
  assert.equal(plain.out, 'register ERR_MODULE_NOT_FOUND\n', plain.err);
  assert.equal(node(['missing-loader.mjs'], 'ward').out, plain.out);
  assert.equal(node(['missing-loader.mjs'], 'fi').out, 'register ERR_WARD_EXEC_DENIED\n');
});

test('a data: URL of a MIME type Node does not run gives Node\'s ERR_UNKNOWN_MODULE_FORMAT, not a hook validation error', (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const plain = node(['data-format.mjs'], 'plain');
  assert.match(plain.out, /^ERR_UNKNOWN_MODULE_FORMAT Unknown module format: text\/plain for URL data:text\/plain,export default 1\nERR_UNKNOWN_MODULE_FORMAT /, plain.err);
  const ward = node(['data-format.mjs'], 'ward');
  assert.equal(ward.out, plain.out, ward.err);
});

test("a program that deletes Array.prototype[Symbol.iterator] still loads modules (ward's own code spreads no arrays on that path)", (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  const plain = node(['noiter.cjs'], 'plain');
  assert.equal(plain.out, 'required 42\nimported 42\n', plain.err);
  for (const how of ['ward', 'fi'] as const) {
    const r = node(['noiter.cjs'], how);
    assert.equal(r.out, plain.out, `${how}: ${r.err}`);
  }
});

test("--pending-deprecation: ward's own process.binding() calls print no DEP0111 and leave the app's to it", (t) => {
  if (!requires(t, ok(), 'root and AT_EXECVE_CHECK')) return;
  for (const extra of [[], ['binding']]) {
    const plain = node(['--pending-deprecation', 'parent.cjs', ...extra], 'plain');
    assert.match(plain.out, extra.length ? /DEP0111/ : /^warning DEP0144\ndone\n$/, plain.err);
    for (const how of ['ward', 'fi'] as const) {
      // Under -fi process.binding('fs') is still allowed (a binding that cannot compile code).
      const r = node(['--pending-deprecation', 'parent.cjs', ...extra], how);
      assert.equal(r.out, plain.out, `${how} ${extra.join(' ')}: ${r.err}`);
    }
  }
});
