// src/errors.ts: the errno table agrees with Node's (which comes from the C library's headers),
// codes are one closed set, and the two helpers turn anything caught into a code and words.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { readFileSync } from 'node:fs';
import { ERRNO, WardError, describeError, errnoName, errorCode, isErrnoName } from '../src/errors.ts';

test('every errno name Node knows has the same number in ward\'s table, and 1-133 are all named', () => {
  const node = constants.errno as Record<string, number>;
  let compared = 0;
  for (const [name, num] of Object.entries(node)) {
    if (name === 'EWOULDBLOCK' || name === 'EDEADLOCK') continue; // aliases of EAGAIN, EDEADLK
    assert.ok(isErrnoName(name), `${name} (${num}) is in the table`);
    assert.equal(ERRNO[name as keyof typeof ERRNO], num, name);
    compared++;
  }
  assert.ok(compared > 70, `compared ${compared} names`);
  for (let n = 1; n <= 133; n++) if (n !== 41 && n !== 58) assert.equal(ERRNO[errnoName(n)], n, `errno ${n}`);
  assert.equal(errnoName(95), 'EOPNOTSUPP', 'the first name wins for an alias');
  assert.equal(errnoName(-2), 'ENOENT', 'libuv\'s negative numbers');
  assert.equal(errnoName(9999), 'EIO');
});

test('errorCode: WardError, Node fs errors (aliases through their number), anything else', () => {
  assert.equal(errorCode(new WardError('ESTALE', 'x')), 'ESTALE');
  let fsErr: unknown;
  try {
    readFileSync('/nonexistent/ward-test');
  } catch (e) {
    fsErr = e;
  }
  assert.equal(errorCode(fsErr), 'ENOENT');
  assert.equal(errorCode({ code: 'ENOTSUP', errno: -95 }), 'ENOTSUP');
  assert.equal(errorCode({ code: 'EWOULDBLOCK', errno: -11 }), 'EAGAIN');
  assert.equal(errorCode({ code: 'ERR_INVALID_ARG_TYPE' }), 'EIO');
  assert.equal(errorCode(new Error('plain')), 'EIO');
  assert.equal(errorCode('a string', 'EINVAL'), 'EINVAL');
  assert.equal(errorCode(null), 'EIO');
});

test('describeError: a WardError keeps its message; system errors get strerror\'s words', () => {
  assert.equal(describeError(new WardError('EINVAL', 'bad thing at line 3')), 'bad thing at line 3');
  let fsErr: unknown;
  try {
    readFileSync('/');
  } catch (e) {
    fsErr = e;
  }
  assert.equal(describeError(fsErr), 'is a directory');
  assert.equal(describeError({ code: 'EACCES' }), 'permission denied');
  assert.equal(describeError({ code: 'ECHILD' }), 'ECHILD', 'a code without words shows the code');
  assert.equal(describeError(new Error('something odd')), 'something odd');
  assert.equal(new WardError('EACCES', 'x').errno, 13);
});
