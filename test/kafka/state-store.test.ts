import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonCodec, PartitionStore } from '../../src/kafka/state-store.ts';

test('a failed record leaves no trace in the state; an accepted one is pending until the batch commits', () => {
  const store = new PartitionStore<unknown>(3, jsonCodec);
  store.set('a', 1);
  store.acceptRecord();
  store.set('b', 2);
  store.delete('a');
  assert.equal(store.get('a'), undefined, 'the record sees its own writes');
  store.discardRecord();
  assert.equal(store.get('a'), 1);
  assert.equal(store.has('b'), false);
  assert.deepEqual([...store.committedEntries()], [], 'nothing committed before the batch is durable');
  store.commitBatch();
  assert.deepEqual([...store.committedEntries()], [['a', 1]]);
});

test('an aborted batch rolls the state back to the last commit', () => {
  const store = new PartitionStore<unknown>(0, jsonCodec);
  store.set('sku-1', { qty: 5 });
  store.commitBatch();
  store.set('sku-1', { qty: 4 });
  store.acceptRecord();
  store.abortBatch();
  assert.deepEqual(store.get('sku-1'), { qty: 5 });
});

test('the changelog carries the last write per key, and deletes as tombstones', () => {
  const store = new PartitionStore<unknown>(0, jsonCodec);
  store.set('x', 1);
  store.acceptRecord();
  store.set('x', 2);
  store.set('y', 'gone');
  store.acceptRecord();
  store.delete('y');
  store.acceptRecord();
  assert.deepEqual(store.pendingChangelog().map((w) => [w.key, w.value?.toString() ?? null]), [['x', '2'], ['y', null]]);
  assert.equal(store.size, 1);
});

test('restoring applies the changelog in order, tombstones included', () => {
  const store = new PartitionStore<unknown>(0, jsonCodec);
  store.applyChangelog('a', Buffer.from('1'));
  store.applyChangelog('b', Buffer.from('"two"'));
  store.applyChangelog('a', null);
  assert.deepEqual([...store.committedEntries()], [['b', 'two']]);
});

test('keys() and entries() cover committed state and pending writes, without deleted keys, and allow writes while iterating', () => {
  const store = new PartitionStore<unknown>(0, jsonCodec);
  store.set('a', 1);
  store.set('b', 2);
  store.commitBatch();
  store.set('c', 3);
  store.acceptRecord();
  store.delete('a');
  store.set('b', 20);
  assert.deepEqual([...store.entries()].sort(), [['b', 20], ['c', 3]], 'the record\'s own writes, the batch\'s, the committed rest');
  assert.deepEqual([...store.keys()].sort(), ['b', 'c']);
  for (const [k] of store.entries()) store.delete(k);
  assert.equal(store.size, 0);
  store.discardRecord();
  assert.deepEqual([...store.entries()].sort(), [['a', 1], ['b', 2], ['c', 3]], 'a discarded record\'s deletes are gone');
});

test('undefined is not a storable value', () => {
  const store = new PartitionStore<unknown>(0, jsonCodec);
  assert.throws(() => store.set('k', undefined), /use delete/);
});
