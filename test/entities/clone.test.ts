/** clonePlain copies records and reconcile states as structuredClone does, sharing nothing with the original. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clonePlain } from '../../src/entities/clone.ts';

test('plain data is copied deeply, equal to structuredClone\'s copy and sharing no object with the original', () => {
  const original = JSON.parse('{"key":"shop-1|SO-1","n":1.5,"ok":true,"none":null,"lines":[{"sku":"A","qty":2,"tags":["x"]}],"nested":{"a":{"b":[1,[2,3]]}},"__proto__":{"kept":"as a field"}}');
  original.missing = undefined;
  const copy = clonePlain(original);
  assert.deepStrictEqual(copy, structuredClone(original));
  assert.ok(Object.hasOwn(copy, '__proto__') && Object.getPrototypeOf(copy) === Object.prototype, 'a __proto__ field stays a field');
  assert.ok(Object.hasOwn(copy, 'missing'), 'an undefined field is kept, as structuredClone keeps it');
  copy.lines[0].tags.push('y');
  copy.nested.a.b[1].push(4);
  assert.deepEqual(original.lines[0].tags, ['x']);
  assert.deepEqual(original.nested.a.b, [1, [2, 3]]);
});

test('what is not plain data is copied by structuredClone', () => {
  const at = new Date('2026-01-01T00:00:00Z');
  const copy = clonePlain({ at, list: [at] });
  assert.ok(copy.at instanceof Date && copy.at !== at && copy.at.getTime() === at.getTime());
  assert.equal(clonePlain('text'), 'text');
  assert.equal(clonePlain(null), null);
});
