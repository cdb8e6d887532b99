import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bool, checkObject, int, listOf, nullOr, objectOf, oneOf, parseJsonText, str, strList } from '../../src/util/json.ts';

const FIELDS = { name: str, on: bool, count: int(1, 10), paths: strList, mode: oneOf('a', 'b'), maybe: nullOr(bool) };

test('checkObject accepts a valid object and leaves absent fields absent', () => {
  const r = checkObject({ name: 'x', on: true, count: 10, paths: ['/a'], mode: 'b', maybe: null }, FIELDS, 'cfg', '{}');
  assert.ok(r.ok);
  assert.deepEqual(checkObject({}, FIELDS, 'cfg', '{}'), { ok: true, value: {} });
});

test('checkObject names the source, the field, what it must be and what it got', () => {
  const msg = (doc: unknown) => {
    const r = checkObject(doc, FIELDS, 'cfg.json', '{"name":"x"}');
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'EINVAL');
    return r.error.message;
  };
  assert.equal(msg([]), 'cfg.json: must be a JSON object, e.g. {"name":"x"}');
  assert.equal(msg(null), 'cfg.json: must be a JSON object, e.g. {"name":"x"}');
  assert.equal(msg({ nmae: 'x' }), 'cfg.json: unknown field "nmae"; known fields: name, on, count, paths, mode, maybe; did you mean "name"?');
  assert.equal(msg({ xyzzy: 1 }), 'cfg.json: unknown field "xyzzy"; known fields: name, on, count, paths, mode, maybe');
  assert.equal(msg({ constructor: 1 }), 'cfg.json: unknown field "constructor"; known fields: name, on, count, paths, mode, maybe');
  assert.equal(msg({ count: 11 }), 'cfg.json: field "count" must be an integer 1-10, got 11');
  assert.equal(msg({ count: 1.5 }), 'cfg.json: field "count" must be an integer 1-10, got 1.5');
  assert.equal(msg({ on: 'yes' }), 'cfg.json: field "on" must be true or false, got "yes"');
  assert.equal(msg({ paths: ['/a', ''] }), 'cfg.json: field "paths" must be an array of non-empty strings, got ["/a",""]');
  assert.equal(msg({ mode: 'c' }), 'cfg.json: field "mode" must be one of "a", "b", got "c"');
  assert.equal(msg({ name: '' }), 'cfg.json: field "name" must be a non-empty string, got ""');
  assert.equal(msg({ maybe: 1 }), 'cfg.json: field "maybe" must be true or false, got 1');
});

test('listOf and objectOf name the path down to the bad element or the unknown field', () => {
  const fields = { list: listOf(int(0, 9), 'digits'), obj: objectOf({ level: int(0, 2), allow: objectOf({ paths: strList }) }) };
  const msg = (doc: unknown) => {
    const r = checkObject(doc, fields, 'n.json', '{}');
    return r.ok ? 'ok' : r.error.message;
  };
  assert.equal(msg({ list: [1, 2], obj: { level: 1, allow: { paths: ['/a'] } } }), 'ok');
  assert.equal(msg({ list: 3 }), 'n.json: field "list" must be an array of digits, got 3');
  assert.equal(msg({ list: [1, 12] }), 'n.json: field "list[1]" must be an integer 0-9, got 12');
  assert.equal(msg({ obj: [] }), 'n.json: field "obj" must be a JSON object with the fields level, allow, got []');
  assert.equal(msg({ obj: { levle: 1 } }), 'n.json: unknown field "obj.levle"; known fields: level, allow; did you mean "level"?');
  assert.equal(msg({ obj: { allow: { path: [] } } }), 'n.json: unknown field "obj.allow.path"; known fields: paths; did you mean "paths"?');
  assert.equal(msg({ obj: { allow: { paths: [''] } } }), 'n.json: field "obj.allow.paths" must be an array of non-empty strings, got [""]');
});

test('parseJsonText reports which input was not JSON', () => {
  assert.deepEqual(parseJsonText('{"a":1}', 'x'), { ok: true, value: { a: 1 } });
  const r = parseJsonText('{', 'profile.json');
  assert.ok(!r.ok);
  assert.match(r.error.message, /^profile\.json: not valid JSON: /);
});
