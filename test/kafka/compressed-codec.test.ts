import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressedJsonCodec } from '../../src/kafka/compressed-codec.ts';
import { jsonCodec } from '../../src/kafka/state-store.ts';

const codec = compressedJsonCodec<unknown>();

test('a small state value stays plain JSON; values written as plain JSON decode as they are', () => {
  const value = { rec: { key: 'shop-1|C-1' }, shop: {}, salesforce: {} };
  assert.equal(codec.encode(value).toString('utf8'), JSON.stringify(value));
  assert.deepEqual(codec.decode(jsonCodec.encode(value)), value);
});

test('a large value that repeats itself far apart (a segment\'s members in its images and in each record) shrinks well below the broker\'s 1 MB record limit', () => {
  const members = Array.from({ length: 5_000 }, (_, i) => ({ customerId: `C-${String(i).padStart(6, '0')}`, status: i % 3 ? 'Sent' : 'Responded' }));
  const images = Object.fromEntries(members.map((m, i) => [`00v${String(i).padStart(15, '0')}`, { 'ContactId.Shop_Customer_Id__c': m.customerId, Status: m.status }]));
  const record = { segmentId: 'SPRING', name: 'Spring', members };
  const value = { salesforce: { Campaign: { Name: 'Spring' }, members: images }, rec: { base: record, lastFromSalesforce: { record }, lastFromShop: { record } } };
  const plain = jsonCodec.encode(value).length;
  const packed = codec.encode(value);
  assert.ok(plain > 1_000_000, `plain JSON takes ${plain} bytes`);
  assert.ok(packed.length < plain / 10, `compressed: ${packed.length} of ${plain} bytes`);
  assert.deepEqual(codec.decode(packed), value);
});
