/**
 * Backfilled records through the reconciler (docs/design.md, "Backfill"): each has its own source
 * position and a version, so it is ordered against the live changes of the same record — neither lost
 * nor applied twice. A real partition store and a JSON encoder in place of the registry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { backfillPosition, salesforcePosition, type RoutedChange } from '../../src/flows/routed-change.ts';
import { jsonCodec, PartitionStore } from '../../src/kafka/state-store.ts';
import type { Output, RecordContext } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createReconciler, type EntityState } from '../../src/processors/reconciler/index.ts';

const config = configSchema.parse({
  kafka: { brokers: ['127.0.0.1:59092'] }, registry: { url: 'http://127.0.0.1:58081' }, shop: { databaseUrl: 'postgres://x/y' },
  salesforce: { loginUrl: 'https://127.0.0.1:58443', authType: 'client_credentials', clientId: 'c', clientSecret: 's' },
  entities: { customer: { enabled: true }, product: { enabled: true }, stock: { enabled: true, windowMs: 0 } },
});
const encode = async (subject: string, value: unknown) => Buffer.from(JSON.stringify({ subject, value }));
const T0 = 1_764_000_000_000;

interface Outcome { decision: string; message: string; salesforce: any[]; shop: any[]; alert: boolean }

function harness() {
  const reconciler = createReconciler(config, encode);
  const store = new PartitionStore<EntityState>(0, jsonCodec as any);
  return async (value: RoutedChange): Promise<Outcome> => {
    const ctx: RecordContext<unknown, EntityState> = {
      topic: `sync.in.${value.entity}`, partition: 0, offset: '0', timestamp: '0', key: null, value, headers: {}, message: {} as any,
      state: store, attempt: 1, signal: new AbortController().signal, log: createLogger('test'), setSourceTime: () => {},
    };
    const out: Output[] = await reconciler.handle(ctx);
    store.acceptRecord();
    const values = out.map((o) => JSON.parse(String(o.value)) as { subject: string; value: any });
    const audit = values.find((v) => v.subject === 'sync.audit-value')?.value;
    return {
      decision: audit?.decision ?? 'NONE', message: audit?.message ?? '', alert: audit?.alert ?? false,
      salesforce: values.filter((v) => v.subject === 'sync.out.salesforce-value').map((v) => v.value),
      shop: values.filter((v) => v.subject === 'sync.out.shop-value').map((v) => v.value),
    };
  };
}

const change = (c: Partial<RoutedChange> & Pick<RoutedChange, 'entity' | 'key' | 'origin' | 'part' | 'image' | 'recordId' | 'sourcePosition'>): RoutedChange => ({
  op: 'UPSERT', transactionId: c.sourcePosition, eventTime: T0, sourceVersion: null, changeOrigin: null, ours: false, ...c,
});

describe('Salesforce -> shop: backfilled product images ordered against live changes', () => {
  const product2 = { Id: '01t1', Sku__c: 'SKU-1', Name: 'Mug', IsActive: true };
  const entry = (price: number) => ({ Id: '01u1', Product2Id: '01t1', UnitPrice: price, IsActive: true });
  const live = (n: number, image: Record<string, unknown>, part: string, at: number) =>
    change({ entity: 'product', key: 'shop-1|SKU-1', origin: 'SALESFORCE', part, image, recordId: String(image.Id), sourcePosition: salesforcePosition(part, String(n)), eventTime: at, sourceVersion: n });
  const read = (image: Record<string, unknown>, part: string, queryStarted: number) =>
    change({ entity: 'product', key: 'shop-1|SKU-1', origin: 'SALESFORCE', part, image, recordId: String(image.Id), sourcePosition: backfillPosition('r1', part, String(image.Id)), eventTime: queryStarted, backfill: 'read' });

  test('a price edited after the backfill\'s query started wins, whichever arrives first', async () => {
    const handle = harness();
    await handle(read(product2, 'Product2', T0));
    // the price was edited in the org (T0 + 5 s) while the backfill read the old one (its query started at T0)
    const edit = await handle(live(1, entry(12), 'PricebookEntry', T0 + 5_000));
    assert.deepEqual(edit.shop.map((w) => w.row.price), ['12.00']);
    const stale = await handle(read(entry(10), 'PricebookEntry', T0));
    assert.equal(stale.decision, 'DUPLICATE', stale.message);
    assert.deepEqual(stale.shop, [], 'the old price is not written to the shop');
    // and it was not kept either: a later change compares with (and writes) the edited price
    const again = await handle(live(2, { ...product2, Name: 'Big mug' }, 'Product2', T0 + 6_000));
    assert.deepEqual(again.shop.map((w) => w.row), [{ shop_id: 'shop-1', sku: 'SKU-1', name: 'Big mug' }]);
    const back = await handle(live(3, entry(10), 'PricebookEntry', T0 + 7_000));
    assert.deepEqual(back.shop.map((w) => w.row.price), ['10.00'], 'the price kept was 12: a live change to 10 is a change');
  });

  test('a live change older than the backfilled image arriving after it is not applied; the same state is no change', async () => {
    const handle = harness();
    await handle(read(product2, 'Product2', T0));
    const first = await handle(read(entry(12), 'PricebookEntry', T0));
    assert.deepEqual(first.shop.map((w) => w.row.price), ['12.00'], 'the backfilled product goes to the shop');
    assert.ok(first.shop[0].eventTime >= T0, 'the write is as of the backfill\'s query');
    const lagging = await handle(live(1, entry(10), 'PricebookEntry', T0 - 60_000));
    assert.equal(lagging.decision, 'DUPLICATE', 'a change the backfilled image already includes');
    const same = await handle(live(2, entry(12), 'PricebookEntry', T0 + 1_000));
    assert.equal(same.decision, 'NOOP', 'the live event of the state the backfill read: not applied twice');
    assert.deepEqual(same.shop, []);
  });
});

describe('shop -> Salesforce: records the backfill wrote before handing them over', () => {
  const key = 'shop-1|C-1';
  const customer = (version: number, lastName: string) => ({ id: 7, shop_id: 'shop-1', customer_number: 'C-1', email: 'ann@example.com', first_name: 'Ann', last_name: lastName, company_name: null, credit_status: null, marketing_opt_in: false, version });
  const address = { id: 70, shop_id: 'shop-1', customer_number: 'C-1', address_type: 'billing', label: 'default', is_default: true, line1: 'Main St 1', line2: null, city: 'Berlin', region: null, postal_code: '10115', country: 'DE', version: 1 };
  const written = (run: string, part: string, image: Record<string, unknown>) =>
    change({ entity: 'customer', key, origin: 'SHOP', part, image, recordId: String(image.id), sourcePosition: backfillPosition(run, part, String(image.id)), sourceVersion: image.version as number, backfill: 'written' });
  const liveRow = (n: number, image: Record<string, unknown>) =>
    change({ entity: 'customer', key, origin: 'SHOP', part: 'customers', image, recordId: String(image.id), sourcePosition: `pg:${n}:public.customers:7`, sourceVersion: image.version as number, eventTime: T0 + n });
  const echo = (n: number, lastName: string) =>
    change({ entity: 'customer', key, origin: 'SALESFORCE', part: 'Contact', image: { Id: '003A', Shop_Customer_Id__c: key, FirstName: 'Ann', LastName: lastName, Email: 'ann@example.com', HasOptedOutOfEmail: true }, recordId: '003A', sourcePosition: salesforcePosition('Contact', String(n)), eventTime: T0 + n, sourceVersion: n, ours: true, changeOrigin: 'client=shopforce' });

  test('a customer and its address written by the backfill: no write again, no alert, even when the echo comes first', async () => {
    const handle = harness();
    const early = await handle(echo(1, 'Lee'));
    assert.equal(early.decision, 'ECHO', early.message);
    assert.equal(early.alert, false, 'our own write is never an unmastered create');
    const c = await handle(written('r1', 'customers', customer(1, 'Lee')));
    const a = await handle(written('r1', 'addresses', address));
    assert.deepEqual([c.decision, a.decision], ['APPLY', 'APPLY']);
    assert.deepEqual([...c.salesforce, ...a.salesforce, ...c.shop, ...a.shop], [], 'the backfill wrote them: nothing is written again');
    const liveEdit = await handle(liveRow(5, customer(2, 'Lee-Smith')));
    assert.deepEqual(liveEdit.salesforce.map((w) => [w.sobject, w.fields.LastName ?? w.fields.Name]), [['Account', 'Ann Lee-Smith'], ['Contact', 'Lee-Smith']], 'a later live change goes through as usual');
  });

  test('a backfilled row a live change overtook: the live value is written to Salesforce again (the bulk may have overwritten it)', async () => {
    const handle = harness();
    await handle(liveRow(1, customer(1, 'Lee')));
    await handle(liveRow(2, customer(2, 'Lee-Smith')));
    const stale = await handle(written('r1', 'customers', customer(1, 'Lee')));
    assert.equal(stale.decision, 'APPLY', stale.message);
    assert.deepEqual(stale.salesforce.filter((w) => w.sobject === 'Contact').map((w) => [w.fields.LastName, w.reassert]), [['Lee-Smith', true]]);
    const lagging = await handle(liveRow(1, customer(1, 'Lee')));
    assert.equal(lagging.decision, 'DUPLICATE');
  });

  test('written over an earlier synced state: sent again only when Salesforce\'s last image does not show it', async () => {
    const handle = harness();
    await handle(liveRow(1, customer(1, 'Lee')));
    await handle(echo(2, 'Lee'));
    await handle(echo(3, 'Lee'));
    const held = await handle(written('r2', 'customers', customer(1, 'Lee')));
    assert.deepEqual(held.salesforce, [], 'Salesforce shows the record already');
    const newer = await handle(written('r3', 'customers', customer(3, 'Lee-Jones')));
    assert.deepEqual(newer.salesforce.filter((w) => w.sobject === 'Contact').map((w) => w.fields.LastName), ['Lee-Jones'],
      'an older write of ours may land after the backfill\'s: the backfilled value goes again');
  });
});

describe('stock: a backfilled level written to Salesforce', () => {
  const key = 'shop-1|SKU-1|WH-1';
  const row = (version: number, quantity: number) => ({ id: 9, shop_id: 'shop-1', sku: 'SKU-1', warehouse_code: 'WH-1', quantity, version });
  const written = (version: number, quantity: number) =>
    change({ entity: 'stock', key, origin: 'SHOP', part: 'stock_levels', image: row(version, quantity), recordId: '9', sourcePosition: backfillPosition(`r${version}`, 'stock_levels', '9'), sourceVersion: version, backfill: 'written' });
  const orgAdjust = (n: number, quantity: number) =>
    change({ entity: 'stock', key, origin: 'SALESFORCE', part: 'Stock_Level__c', image: { Id: 'a0A1', Stock_Key__c: key, Quantity__c: quantity }, recordId: 'a0A1', sourcePosition: salesforcePosition('Stock_Level__c', String(n)), eventTime: T0 + n, sourceVersion: n, ours: false });

  test('both sides hold the shop\'s quantity; an org adjustment after merges by delta as usual', async () => {
    const handle = harness();
    const first = await handle(written(1, 40));
    assert.deepEqual([first.decision, first.salesforce, first.shop], ['APPLY', [], []]);
    const restock = await handle(orgAdjust(1, 45));
    assert.deepEqual(restock.shop.map((w) => w.row.quantity), [45]);
  });

  test('a stale backfilled quantity (the shop sold meanwhile) overwrote the org: the merged value goes there again', async () => {
    const handle = harness();
    await handle(written(1, 40));
    await handle(change({ entity: 'stock', key, origin: 'SHOP', part: 'stock_levels', image: row(3, 37), recordId: '9', sourcePosition: 'pg:3:public.stock_levels:9', sourceVersion: 3 }));
    const stale = await handle(written(2, 39));
    assert.deepEqual(stale.salesforce.map((w) => w.fields.Quantity__c), [37], 'the org holds the stale 39: it gets the merged 37');
  });
});

describe('our own echoes, a Contact before its Account', () => {
  test('the shop\'s credit status is kept: a field the Contact event did not carry is not Salesforce\'s to change', async () => {
    const handle = harness();
    const key = 'shop-1|C-2';
    const row = { id: 8, shop_id: 'shop-1', customer_number: 'C-2', email: 'bo@example.com', first_name: 'Bo', last_name: 'Li', company_name: 'Li Lamps', credit_status: 'hold', marketing_opt_in: false, version: 1 };
    const created = await handle(change({ entity: 'customer', key, origin: 'SHOP', part: 'customers', image: row, recordId: '8', sourcePosition: 'pg:1:public.customers:8', sourceVersion: 1 }));
    assert.ok(created.salesforce.length > 0);
    const echo = (n: number, part: string, image: Record<string, unknown>) => change({ entity: 'customer', key, origin: 'SALESFORCE', part, image, recordId: String(image.Id), sourcePosition: salesforcePosition(part, String(n)), eventTime: T0 + n, sourceVersion: n, ours: true, changeOrigin: 'client=shopforce' });
    const contact = await handle(echo(1, 'Contact', { Id: '003B', Shop_Customer_Id__c: key, FirstName: 'Bo', LastName: 'Li', Email: 'bo@example.com', HasOptedOutOfEmail: true }));
    const account = await handle(echo(2, 'Account', { Id: '001B', Shop_Customer_Id__c: key, Name: 'Li Lamps', Credit_Status__c: null }));
    assert.deepEqual([contact.decision, account.decision], ['ECHO', 'ECHO'], account.message);
    assert.deepEqual(account.shop, [], 'no write of a null credit status to the shop');
  });
});
