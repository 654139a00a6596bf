/**
 * Several shops, one org: each pipeline routes only the Salesforce records its own shop wrote, reading
 * the shop and the business key back out of the external id (src/entities/keys.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { externalIdOf, readExternalId, requiredKeyParts } from '../../src/entities/keys.ts';
import type { RoutedChange } from '../../src/flows/routed-change.ts';
import { jsonCodec, PartitionStore } from '../../src/kafka/state-store.ts';
import type { RecordContext } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRouter } from '../../src/processors/router.ts';
import type { SfCdcMessage } from '../../src/salesforce/source/types.ts';

const configOf = (shopId: string) => configSchema.parse({
  shopId, kafka: { brokers: ['127.0.0.1:59092'] }, registry: { url: 'http://127.0.0.1:58081' }, shop: { databaseUrl: 'postgres://x/y' },
  salesforce: { loginUrl: 'https://127.0.0.1:58443', authType: 'client_credentials', clientId: 'c', clientSecret: 's' },
  entities: { customer: { enabled: true }, order: { enabled: true }, stock: { enabled: true } },
});

function event(object: string, id: string, record: Record<string, unknown> | null): SfCdcMessage {
  return {
    replayId: '7', position: '7', channel: `/data/${object}ChangeEvent`, object, recordId: id, changeType: record ? 'UPDATE' : 'DELETE',
    ChangeEventHeader: {
      entityName: object, recordIds: [id], changeType: record ? 'UPDATE' : 'DELETE', changeOrigin: '', transactionKey: 'tx', sequenceNumber: 1,
      commitTimestamp: 1_764_000_000_000, commitNumber: 1, commitUser: 'u', changedFields: [], nulledFields: [], diffFields: [],
    },
    changed: {}, record: record ? { Id: id, ...record } : null, imageSource: 'event', origin: 'pubsub',
  };
}

async function route(shopId: string, object: string, msg: SfCdcMessage, store = new PartitionStore<string>(0, jsonCodec as any)): Promise<RoutedChange[]> {
  const router = createRouter(configOf(shopId));
  const ctx: RecordContext<unknown, string> = {
    topic: `sf.cdc.${object}`, partition: 0, offset: '0', timestamp: '0', key: null, value: msg, headers: {}, message: {} as any,
    state: store, attempt: 1, signal: new AbortController().signal, log: createLogger('test'), setSourceTime: () => {},
  };
  const out = await router.handle(ctx);
  store.acceptRecord();
  return out.map((o) => JSON.parse(String(o.value)) as RoutedChange);
}

test('an external id is the shop id and the business key parts, read back the same way', () => {
  assert.equal(externalIdOf('shop-a', 'SO-7', '2'), 'shop-a|SO-7|2');
  assert.deepEqual(readExternalId('shop-a|SO-7|2'), { shopId: 'shop-a', parts: ['SO-7', '2'] });
  assert.equal(readExternalId('C-0001'), undefined, 'a value without a shop is not one of ours');
  assert.equal(readExternalId('shop-a||2'), undefined);
  assert.deepEqual(requiredKeyParts('Account.Shop_Customer_Id__c', 'shop-a|C-1', 1), ['C-1']);
  assert.throws(() => requiredKeyParts('Account.Shop_Customer_Id__c', 'C-1', 1), /Account\.Shop_Customer_Id__c.*<shop>\|<key 1>/);
});

test('the same Account number in two shops: each pipeline routes its own shop\'s record and skips the other', async () => {
  const a = event('Account', '001A', { Shop_Customer_Id__c: 'shop-a|C-1', Name: 'Ann' });
  const b = event('Account', '001B', { Shop_Customer_Id__c: 'shop-b|C-1', Name: 'Bob' });
  assert.deepEqual((await route('shop-a', 'Account', a)).map((r) => r.key), ['shop-a|C-1']);
  assert.deepEqual(await route('shop-a', 'Account', b), []);
  assert.deepEqual((await route('shop-b', 'Account', b)).map((r) => r.key), ['shop-b|C-1']);
});

test('a line item is routed to its order, a stock level to its SKU and warehouse, from their external ids', async () => {
  const item = event('OpportunityLineItem', '00kA', { Shop_Line_Id__c: 'shop-a|SO-7|2', Quantity: 1 });
  assert.deepEqual((await route('shop-a', 'OpportunityLineItem', item)).map((r) => r.key), ['shop-a|SO-7']);
  const level = event('Stock_Level__c', 'a0A1', { Stock_Key__c: 'shop-a|SKU-1|WH-1', Sku__c: 'SKU-1', Warehouse__c: 'WH-1', Quantity__c: 3 });
  assert.deepEqual((await route('shop-a', 'Stock_Level__c', level)).map((r) => r.key), ['shop-a|SKU-1|WH-1']);
  assert.deepEqual(await route('shop-b', 'Stock_Level__c', level), []);
});

test('a delete of another shop\'s record (never routed here) is nothing to do; a delete of ours finds its key', async () => {
  const store = new PartitionStore<string>(0, jsonCodec as any);
  await route('shop-a', 'Account', event('Account', '001A', { Shop_Customer_Id__c: 'shop-a|C-1', Name: 'Ann' }), store);
  await route('shop-a', 'Account', event('Account', '001B', { Shop_Customer_Id__c: 'shop-b|C-1', Name: 'Bob' }), store);
  assert.deepEqual((await route('shop-a', 'Account', event('Account', '001A', null), store)).map((r) => `${r.op} ${r.key}`), ['DELETE shop-a|C-1']);
  assert.deepEqual(await route('shop-a', 'Account', event('Account', '001B', null), store), []);
});
