/**
 * `shopforce drift` on the real stack: a synced shop and org agree; records then broken behind the
 * pipeline's back — in the org while the emulator drops their change events, in the shop while the
 * pipeline is stopped (and its router then starts past those changes, as after a lost CDC history) —
 * are each found where they are; the repair goes through the pipeline's own topics and sinks, and the
 * sides agree again.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import { Kafka, logLevel } from 'kafkajs';
import type { WriteResultDetails } from '../../src/audit/write-results.ts';
import { SchemaCatalogClient } from '../../src/avro/registry.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { DriftReport } from '../../src/drift/check.ts';
import { runDriftJob } from '../../src/drift/drift-job.ts';
import type { AuditEvent } from '../../src/reconcile/audit.ts';
import type { Pipeline } from '../../src/run/pipeline.ts';
import { connectSalesforce } from '../../src/salesforce/auth/connection.ts';
import { createPricedProducts } from '../support/catalogue.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { PipelineProcess, queryAll } from '../support/pipeline-process.ts';
import { waitForShopChanges } from '../support/shop-cdc.ts';
import { fixtureConfig } from '../support/sync-config.ts';
import { startPipelineInProcess, startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

describe('drift between the shop and the org: found, repaired through the pipeline', () => {
  let f: SyncFixture;
  let config: ShopforceConfig;
  let pipeline: Pipeline | undefined;
  let conn: Connection;
  let kafka: Kafka;
  let registry: SchemaCatalogClient;
  const run = randomUUID().slice(0, 6).toUpperCase();
  const shopId = `dr-${run.toLowerCase()}`;
  const sku = (s: string) => `DR${run}-${s}`;
  const order = (n: number) => `DO${run}-${n}`;
  const key = (k: string) => `${shopId}|${k}`;

  const check = async (entity: string, repair = false) => runDriftJob(config, entity, { conn, kafka, encode: (s, v) => registry.encode(s, v) }, { repair, audit: repair });
  const keysOf = (r: DriftReport, kind: string) => r.samples.filter((s) => s.kind === kind).map((s) => s.key).sort();

  async function insertOrder(n: number, lines: string[]): Promise<void> {
    const total = (12 * lines.length).toFixed(2);
    await f.db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Dora', 'Drift')`, [shopId, `DC${run}-${n}`, `dc${run.toLowerCase()}-${n}@example.com`]);
    await f.db.query(`INSERT INTO orders (shop_id, order_number, customer_number, status, currency, subtotal_amount, total_amount) VALUES ($1, $2, $3, 'paid', 'EUR', $4, $4)`, [shopId, order(n), `DC${run}-${n}`, total]);
    for (const [i, s] of lines.entries()) {
      await f.db.query(`INSERT INTO order_lines (shop_id, order_number, line_number, sku, product_name, quantity, unit_price, line_total) VALUES ($1, $2, $3, $4, 'Mug', 1, 12, 12)`, [shopId, order(n), i + 1, s]);
    }
  }

  before(async () => {
    f = await startSyncFixture();
    config = fixtureConfig(f, shopId, (c) => {
      c.drift.samples = 100;
      c.drift.bulkPageSize = 3; // several result pages
      c.drift.sortBufferRecords = 1_000;
    });
    conn = await connectSalesforce(config.salesforce);
    kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'drift-test', logLevel: logLevel.NOTHING });
    registry = new SchemaCatalogClient(config.registry.url);
    pipeline = await startPipelineInProcess(config);
    // the catalogue (Salesforce masters it) and four orders of the shop, synced
    await createPricedProducts(f.sf, ['A', 'B'].map((s) => ({ sku: sku(s), name: `Mug ${s}`, price: 12 })));
    await eventually(async () => (await f.db.query('SELECT count(*)::int AS n FROM products WHERE shop_id = $1', [shopId])).rows[0].n, (n) => n === 2, 120_000);
    for (const n of [1, 2, 3, 4]) await insertOrder(n, n === 2 ? [sku('A'), sku('B')] : [sku('A')]);
    await eventually(async () => (await queryAll(f.sf, `SELECT Id FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${shopId}|DO${run}-%'`)).length, (n) => n === 5, 180_000);
  });

  after(async () => {
    await pipeline?.stop();
    await f?.cleanup();
  });

  test('a synced shop and org show no drift', async () => {
    for (const entity of ['order', 'product', 'customer']) {
      const { report } = await eventually(() => check(entity), (r) => r.report.drift === 0, 60_000);
      assert.equal(report.counts.unreadable, 0);
      assert.ok(report.counts.same >= 2, `${entity}: ${JSON.stringify(report.counts)}`);
    }
  });

  test('records broken behind the pipeline\'s back on either side are each found where they are', async () => {
    const admin = f.t.sb.admin;
    // in the org, with their change events dropped: an amount edited, an order deleted, one made up, a price changed
    admin.setFaults({ dropChangeEvents: { count: 1, object: 'Opportunity' } });
    admin.userEdit({ object: 'Opportunity', externalId: { field: 'Shop_Order_Id__c', value: key(order(1)) }, fields: { Amount: 999 } });
    admin.setFaults({ dropChangeEvents: { count: 1 } });
    admin.userEdit({ object: 'Opportunity', externalId: { field: 'Shop_Order_Id__c', value: key(order(2)) }, delete: true });
    admin.setFaults({ dropChangeEvents: { count: 1 } });
    admin.userEdit({ object: 'Opportunity', externalId: { field: 'Shop_Order_Id__c', value: key(`DX${run}`) }, fields: { Name: 'Made up', StageName: 'Prospecting', CloseDate: '2026-01-01', Amount: 1 } });
    const entryA = (await f.sf.query<{ Id: string }>(`SELECT Id FROM PricebookEntry WHERE Product2.Sku__c = '${sku('A')}'`)).records[0]!.Id;
    admin.setFaults({ dropChangeEvents: { count: 1, object: 'PricebookEntry' } });
    admin.userEdit({ object: 'PricebookEntry', id: entryA, fields: { UnitPrice: 15 } });
    assert.equal(admin.faults().dropChangeEvents, null);

    // in the shop, while the pipeline is stopped: a total changed, an order placed, one deleted, a product renamed
    await pipeline!.stop();
    pipeline = undefined;
    const since = Date.now() - 1_000;
    await f.db.query('UPDATE orders SET total_amount = 777 WHERE shop_id = $1 AND order_number = $2', [shopId, order(3)]);
    await insertOrder(5, [sku('B')]);
    await f.db.query('DELETE FROM order_lines WHERE shop_id = $1 AND order_number = $2', [shopId, order(4)]);
    await f.db.query('DELETE FROM orders WHERE shop_id = $1 AND order_number = $2', [shopId, order(4)]);
    await f.db.query(`UPDATE products SET name = 'Renamed in the shop' WHERE shop_id = $1 AND sku = $2`, [shopId, sku('B')]);
    // Debezium has them in Kafka; the pipeline starts past them (its router's offsets at the end)
    const ours = (v: any) => (v.after ?? v.before)?.shop_id === shopId;
    await waitForShopChanges(f.stack, 'shop.public.orders', since, ours, 3);
    await waitForShopChanges(f.stack, 'shop.public.products', since, ours, 1);
    pipeline = await startPipelineInProcess(config);

    const orders = (await check('order')).report;
    assert.deepEqual(keysOf(orders, 'different'), [key(order(1)), key(order(3))]);
    assert.deepEqual(orders.samples.find((s) => s.key === key(order(1)))?.values.total, { SHOP: '12.00', SALESFORCE: '999.00' });
    assert.deepEqual(orders.samples.find((s) => s.key === key(order(3)))?.values.total, { SHOP: '777.00', SALESFORCE: '12.00' });
    assert.deepEqual(keysOf(orders, 'missing'), [key(order(2)), key(order(5))], 'in the shop, not in the org');
    assert.deepEqual(keysOf(orders, 'extra'), [key(order(4)), key(`DX${run}`)].sort(), 'in the org, not in the shop');
    assert.equal(orders.drift, 6);

    // the customer of the order placed while the pipeline was stopped is not in the org either
    const customers = (await check('customer')).report;
    assert.deepEqual(customers.samples.map((s) => [s.key, s.kind]), [[key(`DC${run}-5`), 'missing']]);

    const products = (await check('product')).report;
    assert.deepEqual(products.samples.map((s) => [s.key, s.kind, s.fields.join(',')]).sort(), [
      [key(sku('A')), 'different', 'price'],
      [key(sku('B')), 'different', 'name'],
    ]);
    assert.equal(products.samples.find((s) => s.key === key(sku('A')))?.side, 'SHOP', 'Salesforce masters products: the shop is off');

    // what an operator sees: a table, and JSON; the exit status says there is drift
    const cli = new PipelineProcess(config);
    try {
      const table = await cli.command(['drift', 'order', '--samples', '2']);
      assert.equal(table.code, 3, table.stderr);
      assert.match(table.stdout, /^\s+missing\s+2\s+in the shop, not in Salesforce$/m);
      assert.match(table.stdout, /^\s+different\s+2\s+on both sides, Salesforce differs \(total 2\)$/m);
      assert.match(table.stdout, /^\s+extra\s+2\s+in Salesforce, not in the shop$/m);
      assert.match(table.stdout, new RegExp(`^\\s+${key(order(1)).replace(/[|]/g, '\\|')}\\s+different\\s+total\\s+12\\.00\\s+999\\.00$`, 'm'));
      const json = await cli.command(['drift', 'product', '--json']);
      assert.equal(json.code, 3, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout).counts, { shop: 2, salesforce: 2, same: 0, missing: 0, different: 2, extra: 0, kept: 0, unreadable: 0 });
    } finally {
      await cli.cleanup();
    }
  });

  test('a repair sets every one right through the pipeline, audited, and drift is 0 after', async () => {
    assert.equal((await check('customer', true)).output?.repaired, 1);
    const { report, output } = await check('order', true);
    assert.equal(report.drift, 6);
    assert.equal(output?.repaired, 6);
    assert.equal(output?.shopCommands, 0, 'the shop masters orders: nothing is written to it');
    const productRepair = await check('product', true);
    assert.equal(productRepair.output?.shopCommands, 2);

    for (const entity of ['customer', 'order', 'product']) await eventually(() => check(entity), (r) => r.report.drift === 0, 180_000);
    const cli = new PipelineProcess(config);
    try {
      const none = await cli.command(['drift', 'order']);
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /no drift: both sides agree on every order/);
    } finally {
      await cli.cleanup();
    }

    // what a person sees: the org holds the shop's orders, the shop the org's catalogue
    const opps = Object.fromEntries((await queryAll<{ Shop_Order_Id__c: string; Amount: number }>(f.sf, `SELECT Shop_Order_Id__c, Amount FROM Opportunity`)).map((o) => [o.Shop_Order_Id__c, o.Amount]));
    assert.deepEqual(opps, { [key(order(1))]: 12, [key(order(2))]: 24, [key(order(3))]: 777, [key(order(5))]: 12 });
    // (Salesforce deletes an Opportunity's line items with it; the emulator leaves them, and a line item alone is no order to a check)
    const lines = (await queryAll<{ Shop_Line_Id__c: string }>(f.sf, 'SELECT Shop_Line_Id__c FROM OpportunityLineItem')).map((l) => l.Shop_Line_Id__c)
      .filter((l) => !l.startsWith(`${key(order(4))}|`)).sort();
    assert.deepEqual(lines, [`${key(order(1))}|1`, `${key(order(2))}|1`, `${key(order(2))}|2`, `${key(order(3))}|1`, `${key(order(5))}|1`]);
    const catalogue = (await f.db.query('SELECT sku, name, price::text AS price FROM products WHERE shop_id = $1 ORDER BY sku', [shopId])).rows;
    assert.deepEqual(catalogue, [{ sku: sku('A'), name: 'Mug A', price: '15.00' }, { sku: sku('B'), name: 'Mug B', price: '12.00' }]);

    // each repaired key has its DRIFT record, and its commands their write results
    const events = await waitForCommands<AuditEvent>(f.stack, `${config.kafka.topicNamespace}.sync.audit`, () => true,
      (all) => all.filter((e) => e.stage === 'DRIFT').length >= 9, 60_000);
    const drift = events.filter((e) => e.stage === 'DRIFT' && e.commandIds.length > 0);
    assert.deepEqual([...new Set(drift.map((e) => e.key))].sort(), [
      key(order(1)), key(order(2)), key(order(3)), key(order(4)), key(order(5)), key(`DX${run}`), key(sku('A')), key(sku('B')), key(`DC${run}-5`),
    ].sort());
    const madeUp = drift.find((e) => e.key === key(`DX${run}`))!;
    assert.match(madeUp.message, /only in Salesforce; repair: 1 command/);
    const results = events.filter((e) => e.stage === 'WRITE_RESULT' && madeUp.commandIds.includes(e.commandIds[0]!));
    assert.deepEqual(results.map((e) => (JSON.parse(e.details!) as WriteResultDetails).status), ['applied'], 'the delete of the made-up Opportunity was applied by the sink');
  });
});
