// The per-architecture kernel table: known architectures agree with Node's own constants, and an
// unknown one is refused with a message naming it (never a guessed syscall number).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, constants as fsConstants, existsSync, openSync, readSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { archTable, arch, KNOWN_ARCHES } from '../../src/kernel/arch.ts';
import { WardError } from '../../src/errors.ts';
import { readLdCache } from '../../src/sandbox/ldcache.ts';
import { requires } from '../helpers/kernel.ts';

test('x86-64 and arm64 are known, with distinct execveat numbers', () => {
  assert.ok(KNOWN_ARCHES.includes('x64') && KNOWN_ARCHES.includes('arm64'));
  assert.equal(archTable('x64').sys.execveat, 322);
  assert.equal(archTable('arm64').sys.execveat, 281);
  assert.notEqual(archTable('x64').open.O_NOFOLLOW, archTable('arm64').open.O_NOFOLLOW);
});

test('the running architecture agrees with Node and with uname -m', () => {
  const t = arch();
  assert.equal(t.open.O_NOFOLLOW, fsConstants.O_NOFOLLOW);
  assert.equal(t.open.O_DIRECTORY, fsConstants.O_DIRECTORY);
  assert.equal(execFileSync('uname', ['-m'], { encoding: 'utf8' }).trim(), t.machine);
});

test("the running architecture's socket types agree with Python's socket module (built from this libc's headers)", () => {
  const s = arch().socket;
  const py = execFileSync('python3', ['-c', 'import socket; print(socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW, socket.SOCK_CLOEXEC)'], { encoding: 'utf8' }).trim();
  assert.equal(py, `${s.SOCK_STREAM} ${s.SOCK_DGRAM} ${s.SOCK_RAW} ${s.SOCK_CLOEXEC}`);
});

test("the running architecture's library facts agree with its own files and with ldconfig", (t) => {
  const l = arch().libs;
  // e_machine of the running node binary, read from its ELF header (offset 18, little-endian).
  const fd = openSync(process.execPath, 'r');
  const head = Buffer.alloc(20);
  try {
    readSync(fd, head, 0, 20, 0);
  } finally {
    closeSync(fd);
  }
  assert.equal(head.readUInt16LE(18), l.elfMachine);
  assert.ok(['/lib', '/usr/lib'].some((d) => existsSync(`${d}/${l.multiarch}/libc.so.6`)), `libc.so.6 under ${l.multiarch}`);
  // ldconfig -p prints the cache's libc.so.6 entries for this ABI; the cache reader, filtering by
  // ldCacheFlag, must find the same paths.
  if (!requires(t, existsSync('/etc/ld.so.cache'), '/etc/ld.so.cache')) return;
  const shown = execFileSync('ldconfig', ['-p'], { encoding: 'utf8' }).split('\n').filter((x) => /^\s*libc\.so\.6 \(libc6,(x86-64|AArch64)\)/.test(x)).map((x) => x.split(' => ')[1]!.trim());
  assert.ok(shown.length > 0);
  assert.deepEqual([...(readLdCache()?.get('libc.so.6') ?? [])].sort(), shown.sort());
});

test('an unknown architecture is refused, naming it', () => {
  assert.throws(() => archTable('riscv64'), (e: unknown) => {
    assert.ok(e instanceof WardError);
    assert.equal(e.code, 'ENOSYS');
    assert.match(e.message, /riscv64/);
    assert.match(e.message, /x64, arm64/);
    return true;
  });
});
