// `ward run`'s fast entry (bin/ward.js → src/cli/run-fast.ts) parses arguments without
// commander. Its promise: every command line it accepts means exactly what commander makes of
// it (compared here against the real commander program, option by option), everything else goes
// to commander (so help and usage errors are commander's), and a plain launch really skips
// commander and the rest of the CLI.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseRunArgs } from '../../src/cli/run-options.ts';
import { WARD_BIN, ward } from '../helpers/cli.ts';
import { commanderParse } from '../helpers/run-parse.ts';


// Command lines the fast entry must take itself (landrun's forms among them) …
const TAKEN: string[][] = [
  ['--rox', '/usr', '--ro', '/etc/ld.so.cache', '--rw', '/dev/null', '--', '/bin/true'],
  ['--rox', '/usr,/lib', '--ro=/etc', '--rwx', '/tmp', '/bin/sh', '-c', 'echo --ro x'],
  ['--env', 'HOME', '--env', 'A=b=c', '--unix', '/run/a.sock,/run/b.sock', '--ldd', '--add-exec', '--', 'ls', '-l'],
  ['--unrestricted-network', '--unrestricted-filesystem', '--unrestricted-scoped', '--log-level', 'debug', '--', 'x'],
  ['--log-disable-originating', '--log-enable-subprocesses', '--log-disable-subdomains', '--rox', '/usr', 'x'],
  ['--bind-tcp', '80,443', '--connect-tcp=8080', '--connect-tcp', '0', 'curl'],
  ['--profile', 'a.json', '--profile', 'b.json', '--abi', '7', '--best-effort', '--strict', 'x'],
  ['--profile-json', '{"ro":["/x"]}', '--env-handover', '--preserve-fds', '2', '--', 'cmd', '--', 'y'],
  ['--ro', '--', '/bin/true'], // a required value is the next argument, even "--"
  ['--profile', '-x', '--', 'a'],
  ['--keep-env', '--keep-caps', '--share-session', '--allow-udp', '--allow-unix-sockets', '--ignore-missing', '--add-libs', 'a'],
  ['--explain', '--dry-run', '--log-denials', '--log-new-exec', '--audit-marker', '4242', '--learn', 'p.json', '--', 'a'],
  ['--soft', '--clear-env', '--unrestricted-fs', '--unrestricted-net', '--allow-signals-out', '--allow-abstract-unix-out', 'a'],
];
// … and forms it must hand to commander (help, errors, short options, operands that look like options).
const DECLINED: string[][] = [
  [],
  ['--ro', '/usr'],
  ['--ro'],
  ['--help'],
  ['-h'],
  ['--bogus', '--', 'a'],
  ['--strict=1', 'a'],
  ['--log-level', 'loud', 'a'],
  ['--connect-tcp', '70000', 'a'],
  ['--ro', 'a,,b', 'x'],
  ['-5'],
  ['--abi', 'x', '-5'],
  ['-', 'a'],
  ['--'],
];

test('every command line the fast parser takes, commander parses to the same command and options', async () => {
  for (const args of TAKEN) {
    const fast = parseRunArgs(args);
    assert.ok(fast, `the fast entry takes: ${args.join(' ')}`);
    assert.deepEqual({ command: fast.command, flags: fast.flags }, await commanderParse(args), args.join(' '));
  }
});

test('the forms it declines go to commander, which decides them (usage errors or operands)', async () => {
  for (const args of DECLINED) {
    assert.equal(parseRunArgs(args), undefined, args.join(' '));
    const c = await commanderParse(args);
    // Declining is safe either way; these show both kinds of outcome are left to commander.
    if (args[0] === '-5' || args[0] === '-' || args[2] === '-5') assert.ok('command' in c, `commander takes ${args.join(' ')} as CMD`);
    else assert.ok('error' in c, `commander refuses ${args.join(' ')}`);
  }
});

test('errors read the same whether the fast entry or commander ran the command', () => {
  // `-5` makes the fast parser decline (commander takes it as CMD), so both routes reach run().
  const fast = ward(['run', '--abi', 'x', '--', '/bin/true']);
  const slow = ward(['run', '--abi', 'x', '-5']);
  assert.equal(fast.status, 2);
  assert.equal(fast.stderr, 'ward: EINVAL: --abi takes a number or auto, got "x"\n');
  assert.deepEqual([slow.status, slow.stderr], [fast.status, fast.stderr]);
  // Usage errors are commander's own, through the fallback.
  const bad = ward(['run', '--bogus', '--', '/bin/true']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^ward: error: unknown option '--bogus'/);
  const port = ward(['run', '--connect-tcp', '70000', '--', '/bin/true']);
  assert.deepEqual([port.status, port.stderr], [2, 'ward: EINVAL: "70000" is not a TCP port number (0-65535)\n']);
  const help = ward(['run', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Usage: ward run \[options\] <command\.\.\.>/);
});

test('a plain `ward run` loads neither commander nor the rest of the CLI', () => {
  // A resolve hook (module.registerHooks, in-thread) records every module ward asks for.
  const hook = `data:text/javascript,${encodeURIComponent(`
    import module from 'node:module';
    const seen = [];
    module.registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.push(r.url); return r; } });
    process.on('exit', () => process.stderr.write('RESOLVED ' + JSON.stringify(seen) + '\\n'));
  `)}`;
  const r = spawnSync(process.execPath, ['--import', hook, WARD_BIN, 'run', '--dry-run', '--rox', '/usr', '--', '/bin/true'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const seen = JSON.parse(/^RESOLVED (.*)$/m.exec(r.stderr)![1]!) as string[];
  // The fast entry is one bundle of its modules (scripts/run-bundle.cjs in a checkout,
  // dist/cli/run.bundle.cjs built): its modules are not resolved one by one.
  assert.ok(seen.some((u) => /scripts\/run-bundle\.cjs$|cli\/run\.bundle\.cjs$/.test(u)), 'the fast entry ran, bundled');
  assert.deepEqual(seen.filter((u) => /src\/.*\.ts$/.test(u)), [], 'no module of src/ is loaded on its own');
  assert.deepEqual(seen.filter((u) => /commander|cli\/main\.|cli\/run\.(ts|js)$|\/policy\//.test(u)), [], 'commander, main and the policy engine are not loaded');
});
