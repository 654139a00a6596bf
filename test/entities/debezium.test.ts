import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DebeziumEventError, readDebeziumEvent } from '../../src/entities/debezium.ts';

const source = { version: '3.6.1.Final', connector: 'postgresql', ts_ms: 1_764_000_000_123, snapshot: 'false', db: 'shop', schema: 'public', table: 'products', txId: 771, lsn: 24023128 };
const after = { id: 5, sku: 'SKU-1', price: '19.99', version: 2 };

test('an update event gives the after image, a position unique per row, the transaction id and the commit time', () => {
  const c = readDebeziumEvent({ before: null, after, source, op: 'u', ts_ms: 1_764_000_000_200 });
  assert.deepEqual(c, {
    op: 'UPSERT', row: after, table: 'public.products', sourcePosition: 'pg:24023128:public.products:5',
    transactionId: '771', eventTime: 1_764_000_000_123, snapshot: false, sourceVersion: 2,
  });
});

test('the JSON converter\'s schema wrapper is accepted; deletes give the before image', () => {
  const c = readDebeziumEvent({ schema: { type: 'struct' }, payload: { before: after, after: null, source, op: 'd' } });
  assert.equal(c?.op, 'DELETE');
  assert.equal(c?.row.sku, 'SKU-1');
});

test('snapshot rows sharing one LSN still get distinct positions', () => {
  const snap = { ...source, snapshot: 'true' };
  const a = readDebeziumEvent({ after: { ...after, id: 1 }, source: snap, op: 'r' });
  const b = readDebeziumEvent({ after: { ...after, id: 2 }, source: snap, op: 'r' });
  assert.notEqual(a?.sourcePosition, b?.sourcePosition);
  assert.equal(a?.snapshot, true);
});

test('tombstones and truncates carry nothing to sync; a malformed event is an error with a reason', () => {
  assert.equal(readDebeziumEvent(null), null);
  assert.equal(readDebeziumEvent({ source, op: 't' }), null);
  assert.throws(() => readDebeziumEvent({ after }), DebeziumEventError);
  assert.throws(() => readDebeziumEvent({ source, op: 'c', after: null }), /without its after image \(public\.products\)/);
});
