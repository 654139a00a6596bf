/**
 * The router's parent lookups against the emulator: a price book entry's key is its product's SKU,
 * looked up through Product2Id. A chunk of entries is looked up at once (one SOQL per 200 ids), not
 * one call per entry, and what was found is kept for later changes.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Connection } from 'jsforce';
import { configSchema } from '../../src/config/schema.ts';
import type { RoutedChange } from '../../src/flows/routed-change.ts';
import { jsonCodec, PartitionStore } from '../../src/kafka/state-store.ts';
import type { RecordContext } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRouter, restParentLookup } from '../../src/processors/router.ts';
import type { SfCdcMessage } from '../../src/salesforce/source/types.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { createPricedProducts } from '../support/catalogue.ts';

const config = configSchema.parse({
  shopId: 'shop-r', kafka: { brokers: ['127.0.0.1:59092'] }, registry: { url: 'http://127.0.0.1:58081' }, shop: { databaseUrl: 'postgres://x/y' },
  salesforce: { loginUrl: 'https://127.0.0.1:58443', authType: 'client_credentials', clientId: 'c', clientSecret: 's' },
  entities: { product: { enabled: true } },
});
const log = createLogger('test.router', 'error');
const topic = 'sf.cdc.PricebookEntry';

let t: TestSandbox;
let sf: Connection;

before(async () => {
  t = await startTestSandbox();
  sf = await jwtConnection(t.sb);
});
after(async () => {
  await t?.cleanup();
});

/** The sf.cdc message of a record as the source writes it (a CREATE with the full image). */
function created(record: Record<string, unknown>, position: number): SfCdcMessage {
  const id = String(record.Id);
  return {
    replayId: String(position), position: String(position), channel: '/data/PricebookEntryChangeEvent', object: 'PricebookEntry', recordId: id,
    changeType: 'CREATE', changed: record, record, imageSource: 'event', origin: 'pubsub',
    ChangeEventHeader: {
      entityName: 'PricebookEntry', recordIds: [id], changeType: 'CREATE', changeOrigin: '', transactionKey: `tx-${position}`, sequenceNumber: 1,
      commitTimestamp: Date.now(), commitNumber: position, commitUser: '005000000000001AAA', changedFields: [], nulledFields: [], diffFields: [],
    },
  };
}

function contextFor(store: PartitionStore<string>, value: SfCdcMessage): RecordContext<unknown, string> {
  return {
    topic, partition: 0, offset: '0', timestamp: '0', key: null, value, headers: {}, message: {} as any,
    state: store, attempt: 1, signal: new AbortController().signal, log, setSourceTime: () => {},
  };
}

test('a chunk of 250 price book entries finds its products\' SKUs in two queries, and later changes in none', async () => {
  const skus = Array.from({ length: 250 }, (_, i) => `R-${String(i).padStart(3, '0')}`);
  await createPricedProducts(sf, skus.map((sku) => ({ sku, name: sku, price: 5 })));
  const entries = (await sf.query<Record<string, unknown>>('SELECT Id, Product2Id, Pricebook2Id, UnitPrice, IsActive FROM PricebookEntry').run({ autoFetch: true, maxFetch: 1_000 })).records
    .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'attributes')));
  assert.equal(entries.length, 250);
  const messages = entries.map((e, i) => created(e, i + 1));

  const router = createRouter(config, { lookupParent: restParentLookup(async () => sf) });
  const store = new PartitionStore<string>(0, jsonCodec as any);
  t.sb.admin.resetCounters();
  await router.prefetch({ topic, partition: 0, values: messages, state: store, signal: new AbortController().signal, log });
  const routed: RoutedChange[] = [];
  for (const m of messages) {
    const out = await router.handle(contextFor(store, m));
    store.acceptRecord();
    routed.push(...out.map((o) => JSON.parse(String(o.value)) as RoutedChange));
  }
  assert.deepEqual(routed.map((r) => r.key).sort(), skus.map((sku) => `shop-r|${sku}`), 'each entry keyed by its product\'s SKU');
  assert.equal(t.sb.admin.counters().byApi.query ?? 0, 2, 'the 250 parent ids looked up in two queries of 200 ids at most');

  // an update of an entry whose product was looked up before: no call at all
  t.sb.admin.resetCounters();
  const again = await router.handle(contextFor(store, created({ ...entries[7], UnitPrice: 6 }, 999)));
  assert.equal(JSON.parse(String(again[0]!.value)).key, routed.find((r) => r.recordId === entries[7]!.Id)!.key);
  assert.equal(t.sb.admin.counters().byApi.query ?? 0, 0, 'kept from the first lookup');
});

test('an entry handled without a prefetch looks its own product up', async () => {
  const [entryId] = await createPricedProducts(sf, [{ sku: 'SOLO-1', name: 'Solo', price: 3 }]);
  const entry = (await sf.query<Record<string, unknown>>(`SELECT Id, Product2Id, UnitPrice FROM PricebookEntry WHERE Id = '${entryId}'`)).records[0]!;
  const router = createRouter(config, { lookupParent: restParentLookup(async () => sf) });
  const out = await router.handle(contextFor(new PartitionStore<string>(0, jsonCodec as any), created({ Id: entry.Id, Product2Id: entry.Product2Id, UnitPrice: 3 }, 1)));
  assert.equal(JSON.parse(String(out[0]!.value)).key, 'shop-r|SOLO-1');
});
