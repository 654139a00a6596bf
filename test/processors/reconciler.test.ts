/** The reconciler's handling of one routed change, with a real partition store and a JSON encoder in place of the registry. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { salesforcePosition, type RoutedChange } from '../../src/flows/routed-change.ts';
import { jsonCodec, PartitionStore } from '../../src/kafka/state-store.ts';
import type { Output, RecordContext } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createReconciler, type EntityState } from '../../src/processors/reconciler/index.ts';

const config = configSchema.parse({
  kafka: { brokers: ['127.0.0.1:59092'] }, registry: { url: 'http://127.0.0.1:58081' }, shop: { databaseUrl: 'postgres://x/y' },
  salesforce: { loginUrl: 'https://127.0.0.1:58443', authType: 'client_credentials', clientId: 'c', clientSecret: 's' },
  entities: { product: { enabled: true } },
});
const encode = async (subject: string, value: unknown) => Buffer.from(JSON.stringify({ subject, value }));
const decoded = (o: Output) => JSON.parse(String(o.value)) as { subject: string; value: any };

function contextFor(store: PartitionStore<EntityState>, value: RoutedChange): RecordContext<unknown, EntityState> {
  return {
    topic: 'sync.in.product', partition: 0, offset: '0', timestamp: '0', key: null, value, headers: {}, message: {} as any,
    state: store, attempt: 1, signal: new AbortController().signal, log: createLogger('test'), setSourceTime: () => {},
  };
}

function productEvent(position: number, price: number, part: 'Product2' | 'PricebookEntry'): RoutedChange {
  const image = part === 'Product2'
    ? { Id: '01t000000000001AAA', Sku__c: 'SKU-1', Name: 'Mug', IsActive: true }
    : { Id: '01u000000000001AAA', Product2Id: '01t000000000001AAA', UnitPrice: price, IsActive: true };
  return {
    entity: 'product', key: 'shop-1|SKU-1', origin: 'SALESFORCE', part, op: 'UPSERT', image, recordId: image.Id,
    sourcePosition: salesforcePosition(part, String(position)), transactionId: `t${position}`, eventTime: 1_764_000_000_000 + position, sourceVersion: position,
    changeOrigin: '', ours: false,
  };
}

/** A reconciler of the product flow on one partition store; handle() decides a routed change and keeps its state. */
function productReconciler() {
  const reconciler = createReconciler(config, encode);
  const store = new PartitionStore<EntityState>(0, jsonCodec as any);
  const handle = async (e: RoutedChange) => {
    const out = await reconciler.handle(contextFor(store, e));
    store.acceptRecord();
    return out;
  };
  return { store, handle };
}

test('a late duplicate of an older Salesforce event changes nothing: the kept image stays the newer one', async () => {
  const { store, handle } = productReconciler();
  await handle(productEvent(1, 10, 'Product2'));
  const first = await handle(productEvent(2, 10, 'PricebookEntry'));
  assert.ok(first.some((o) => decoded(o).subject === 'sync.out.shop-value'), 'the priced product goes to the shop');
  await handle(productEvent(3, 12, 'PricebookEntry'));
  const before = structuredClone(store.get('shop-1|SKU-1'));
  // the event at position 2 (price 10) comes again, after the one at position 3 (price 12)
  const dup = await handle(productEvent(2, 10, 'PricebookEntry'));
  assert.deepEqual(store.get('shop-1|SKU-1'), before, 'state unchanged');
  assert.deepEqual(dup.map((o) => [decoded(o).subject, decoded(o).value.decision]), [['sync.audit-value', 'DUPLICATE']], 'only the audit of a duplicate');
  // the next real change is compared with price 12, not 10
  const next = await handle(productEvent(4, 12, 'PricebookEntry'));
  assert.deepEqual(next.map((o) => decoded(o).value.decision).filter(Boolean), ['NOOP']);
});

test('two channels of one product may number their events alike: the same replay id on Product2 and PricebookEntry is two changes', async () => {
  const { handle } = productReconciler();
  await handle(productEvent(1, 10, 'Product2'));
  await handle(productEvent(2, 10, 'PricebookEntry'));
  // each channel's event stream has its own positions: the price book entry's 7 is not the product's 7
  await handle(productEvent(7, 10, 'Product2'));
  const price = await handle(productEvent(7, 13, 'PricebookEntry'));
  const decisions = price.map((o) => decoded(o).value.decision).filter(Boolean);
  assert.deepEqual(decisions, ['APPLY'], 'the price change is taken, not dropped as a duplicate');
  assert.ok(price.some((o) => decoded(o).subject === 'sync.out.shop-value' && decoded(o).value.row?.price === '13.00'), 'the new price goes to the shop');
});

test('a Salesforce event the source replays from further back than the remembered positions is still a duplicate (told by its replay id)', async () => {
  const { store, handle } = productReconciler();
  await handle(productEvent(1, 10, 'Product2'));
  const prices = config.reconcile.seenPositions + 10;
  for (let p = 2; p <= prices + 1; p++) await handle(productEvent(p, 10 + p, 'PricebookEntry'));
  const before = structuredClone(store.get('shop-1|SKU-1'));
  // the source was killed before its checkpoint and writes its old batch again: an old price at its old position
  const replayed = await handle(productEvent(5, 15, 'PricebookEntry'));
  assert.deepEqual(replayed.map((o) => [decoded(o).subject, decoded(o).value.decision]), [['sync.audit-value', 'DUPLICATE']], 'only the audit of a duplicate: no old price to the shop');
  assert.deepEqual(store.get('shop-1|SKU-1'), before, 'the newest price is kept');
  // a re-read (no replay id) of the same record is still decided
  const reread = await handle({ ...productEvent(0, 99, 'PricebookEntry'), sourcePosition: 'reread:1764000000999:01u000000000001AAA' });
  assert.ok(reread.some((o) => decoded(o).subject === 'sync.out.shop-value'), 'a re-read price goes to the shop');
});

test('a child kept before its parent is remembered too: delivered again after newer changes, it is a duplicate', async () => {
  const { store, handle } = productReconciler();
  // the price arrives before its product (another object, another partition upstream): kept, no decision yet
  assert.deepEqual(await handle(productEvent(1, 10, 'PricebookEntry')), []);
  const created = await handle(productEvent(2, 10, 'Product2'));
  assert.ok(created.some((o) => decoded(o).subject === 'sync.out.shop-value'), 'the priced product goes to the shop');
  await handle(productEvent(3, 12, 'PricebookEntry'));
  const before = structuredClone(store.get('shop-1|SKU-1'));
  // the first price event (10) comes again, after the newer one (12)
  const dup = await handle(productEvent(1, 10, 'PricebookEntry'));
  assert.deepEqual(dup.map((o) => [decoded(o).subject, decoded(o).value.decision]), [['sync.audit-value', 'DUPLICATE']]);
  assert.deepEqual(store.get('shop-1|SKU-1'), before, 'the newer price is kept');
});

test('a part committed earlier but decided later (it came through another partition) still writes with the key\'s highest version, so the shop sink does not take it for older', async () => {
  const product = productReconciler();
  const handle = async (e: RoutedChange) => (await product.handle(e)).map(decoded).filter((d) => d.subject === 'sync.out.shop-value').map((d) => d.value);
  await handle(productEvent(1, 10, 'Product2'));
  await handle(productEvent(2, 10, 'PricebookEntry'));
  // a new price (commit 4) is routed before the product's rename (commit 3): each came through its own partition
  const repriced = await handle(productEvent(4, 12, 'PricebookEntry'));
  assert.deepEqual(repriced.map((w) => [w.row.price, w.sourceVersion]), [['12.00', 4]]);
  const renamed = await handle({ ...productEvent(3, 12, 'Product2'), image: { Id: '01t000000000001AAA', Sku__c: 'SKU-1', Name: 'Big mug', IsActive: true } });
  assert.deepEqual(renamed.map((w) => [w.row.name, w.sourceVersion]), [['Big mug', 4]], 'written with version 4, not 3');
});

/**
 * A customer's e-mail, through the real images: the shop's row, Salesforce's Account and Contact (the
 * Contact's event knows only the Contact's fields). A person in Salesforce (change origin '') types the
 * address our write is carrying there, before it lands: the person's change, not the echo of our write.
 */
test('a person\'s Contact edit equal to our e-mail write still in flight is audited as the person\'s; our write\'s own event is its echo', async () => {
  const cfg = configSchema.parse({ ...config, entities: { customer: { enabled: true } } });
  const reconciler = createReconciler(cfg, encode);
  const store = new PartitionStore<EntityState>(0, jsonCodec as any);
  const KEY = 'shop-1|C-1';
  let position = 0;
  const routed = (origin: 'SHOP' | 'SALESFORCE', part: string, image: Record<string, unknown>, ours: boolean): RoutedChange => {
    position++;
    return {
      entity: 'customer', key: KEY, origin, part, op: 'UPSERT', image, recordId: String(image.Id ?? image.customer_number), sourcePosition: `${origin}:${position}`,
      transactionId: `t${position}`, eventTime: 1_764_000_000_000 + position * 1_000, sourceVersion: position,
      changeOrigin: origin === 'SHOP' ? null : ours ? 'client=shopforce' : '', ours,
    };
  };
  const row = (email: string) => routed('SHOP', 'customers', { shop_id: 'shop-1', customer_number: 'C-1', email, first_name: 'Ada', last_name: 'Lovelace', marketing_opt_in: true }, false);
  const account = (ours: boolean) => routed('SALESFORCE', 'Account', { Id: '001000000000001AAA', Name: 'Ada Lovelace', Shop_Customer_Id__c: 'shop-1|C-1', Credit_Status__c: null }, ours);
  const contact = (email: string, ours: boolean) => routed('SALESFORCE', 'Contact', {
    Id: '003000000000001AAA', AccountId: '001000000000001AAA', Email: email, FirstName: 'Ada', LastName: 'Lovelace', HasOptedOutOfEmail: false, Shop_Customer_Id__c: 'shop-1|C-1',
  }, ours);
  const handle = async (e: RoutedChange) => {
    const out = (await reconciler.handle(contextFor(store, e))).map(decoded);
    store.acceptRecord();
    const audit = out.find((d) => d.subject === 'sync.audit-value')?.value;
    return {
      audit, acknowledged: (audit?.details ? JSON.parse(audit.details).acknowledged : []) as string[],
      emails: out.filter((d) => d.subject === 'sync.out.salesforce-value' && d.value.sobject === 'Contact').map((d) => d.value.fields?.Email ?? d.value.record?.Email),
    };
  };
  await handle(row('ada@example.com'));
  await handle(account(true));
  assert.equal((await handle(contact('ada@example.com', true))).audit.decision, 'ECHO', 'the created customer came back');
  const shopEdit = await handle(row('new@example.com'));
  assert.equal(shopEdit.audit.decision, 'APPLY');
  assert.equal(shopEdit.audit.commandIds.length, 1, 'our write of the new address to Salesforce');
  const person = await handle(contact('new@example.com', false));
  assert.notEqual(person.audit.decision, 'ECHO', 'the person\'s edit is not taken for our write');
  assert.deepEqual(person.acknowledged, []);
  assert.deepEqual(store.get(KEY)!.rec!.inFlight.map((w) => w.id), shopEdit.audit.commandIds, 'our write is still expected back');
  const ours = await handle(contact('new@example.com', true));
  assert.equal(ours.audit.decision, 'ECHO');
  assert.deepEqual(ours.acknowledged, shopEdit.audit.commandIds);
  // the person changes it again: the shop owns the e-mail, its value goes back to the Contact
  const again = await handle(contact('typo@example.com', false));
  assert.equal(again.audit.decision, 'CONFLICT');
  assert.deepEqual(again.emails, ['new@example.com']);
});
