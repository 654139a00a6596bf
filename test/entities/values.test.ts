import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bool, date, timestamp, ValueError } from '../../src/entities/values.ts';

const ms = Date.UTC(2026, 10, 27, 6, 25, 33, 123);

test('timestamps from Debezium: ISO strings, epoch ms (connect mode), µs (adaptive) and ns', () => {
  assert.equal(timestamp('t', '2026-11-27T06:25:33.123456Z'), ms);
  assert.equal(timestamp('t', '2026-11-27T07:25:33.123+01:00'), ms);
  assert.equal(timestamp('t', ms), ms);
  assert.equal(timestamp('t', ms * 1000 + 456), ms);
  assert.equal(timestamp('t', ms * 1_000_000), ms);
  assert.equal(timestamp('t', new Date(ms)), ms);
  assert.equal(timestamp('t', null), null);
  assert.throws(() => timestamp('orders.placed_at', 'yesterday'), (e: unknown) => e instanceof ValueError && /orders\.placed_at/.test(e.message));
});

test('dates: days since epoch (Debezium Date), ISO strings and timestamps', () => {
  assert.equal(date('d', 20_419), '2025-11-27');
  assert.equal(date('d', '2026-11-27'), '2026-11-27');
  assert.equal(date('d', ms), '2026-11-27');
});

test('booleans as Debezium and PostgreSQL text give them', () => {
  assert.equal(bool('b', true), true);
  assert.equal(bool('b', 't'), true);
  assert.equal(bool('b', 'f'), false);
  assert.equal(bool('b', 0), false);
  assert.throws(() => bool('products.active', 'maybe'), /products\.active/);
});
