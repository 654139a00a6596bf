/**
 * Both sinks put the end of each write command on sync.audit (stage WRITE_RESULT): applied with the
 * Salesforce id, parked until the parent lands and then applied, and dead-lettered with the error.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { WriteResultDetails } from '../../src/audit/write-results.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { AuditEvent } from '../../src/reconcile/audit.ts';
import type { Pipeline } from '../../src/run/pipeline.ts';
import { createPricedProducts } from '../support/catalogue.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { fixtureConfig } from '../support/sync-config.ts';
import { startPipelineInProcess, startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

let f: SyncFixture;
let config: ShopforceConfig;
let pipeline: Pipeline;
const run = randomUUID().slice(0, 6).toUpperCase();
const shopId = `wr-${run.toLowerCase()}`;

const writeResults = (events: AuditEvent[]) => events.filter((e) => e.stage === 'WRITE_RESULT')
  .map((e) => ({ ...e, result: JSON.parse(e.details!) as WriteResultDetails }));

async function insertOrder(order: string, customer: string, sku: string): Promise<void> {
  await f.db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Ada', 'Audit')`, [shopId, customer, `${customer.toLowerCase()}@example.com`]);
  await f.db.query(`INSERT INTO orders (shop_id, order_number, customer_number, status, currency, subtotal_amount, total_amount) VALUES ($1, $2, $3, 'paid', 'EUR', 12, 12)`, [shopId, order, customer]);
  await f.db.query(`INSERT INTO order_lines (shop_id, order_number, line_number, sku, product_name, quantity, unit_price, line_total) VALUES ($1, $2, 1, $3, 'Mug', 1, 12, 12)`, [shopId, order, sku]);
}

before(async () => {
  f = await startSyncFixture();
  config = fixtureConfig(f, shopId);
  pipeline = await startPipelineInProcess(config);
});

after(async () => {
  await pipeline?.stop();
  await f?.cleanup();
});

test('each write command ends on sync.audit: applied with its Salesforce id, parked then applied, dead-lettered with the error', async () => {
  const audit = `${config.kafka.topicNamespace}.sync.audit`;
  const [mug, negative, late] = ['MUG', 'NEG', 'LATE'].map((s) => `WR${run}-${s}`);

  // the catalogue (Salesforce masters it): one product reaches the shop; one the shop refuses (price below zero)
  await createPricedProducts(f.sf, [{ sku: mug!, name: 'Mug', price: 12 }, { sku: negative!, name: 'Broken', price: -1 }]);
  // an order of the synced product, and one whose product Salesforce does not have yet (its line waits)
  await eventually(async () => (await f.db.query('SELECT 1 FROM products WHERE shop_id = $1 AND sku = $2', [shopId, mug])).rowCount, (n) => n === 1, 120_000);
  await insertOrder(`A${run}`, `CA${run}`, mug!);
  await insertOrder(`B${run}`, `CB${run}`, late!);
  const lineB = `${shopId}|B${run}|1`; // the line item's external id: <shop>|<order>|<line>
  await eventually(async () => writeResults(await waitForCommands<AuditEvent>(f.stack, audit, () => true, () => true, 5_000)),
    (r) => r.some((e) => e.result.object === 'OpportunityLineItem' && e.result.recordKey === lineB && e.result.status === 'parked'), 120_000);
  await createPricedProducts(f.sf, [{ sku: late!, name: 'Late mug', price: 12 }]);

  const events = await waitForCommands<AuditEvent>(f.stack, audit, () => true, (all) => {
    const r = writeResults(all);
    return r.some((e) => e.result.recordKey === lineB && e.result.status === 'applied')
      && r.some((e) => e.result.object === 'products' && e.result.status === 'dead-lettered')
      && r.some((e) => e.result.object === 'Opportunity' && e.result.recordKey === `${shopId}|A${run}` && e.result.status === 'applied');
  }, 180_000);
  const results = writeResults(events);

  // applied, with the id the org gave the record
  const opportunity = (await f.sf.query<{ Id: string }>(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${shopId}|A${run}'`)).records[0]!;
  const oppResult = results.find((e) => e.result.object === 'Opportunity' && e.result.recordKey === `${shopId}|A${run}` && e.result.status === 'applied')!;
  assert.equal(oppResult.result.id, opportunity.Id, 'the write result carries the Salesforce id');
  assert.equal(oppResult.key, `${shopId}|A${run}`);
  assert.equal(oppResult.processor, 'sf-sink');
  assert.equal(oppResult.commandIds.length, 1);

  // the shop sink's results: the product row applied, the negative price dead-lettered with PostgreSQL's reason
  const shopApplied = results.find((e) => e.result.object === 'products' && e.key === `${shopId}|${mug}`);
  assert.equal(shopApplied?.result.status, 'applied');
  assert.equal(shopApplied?.processor, 'shop-sink');
  const refused = results.find((e) => e.result.object === 'products' && e.key === `${shopId}|${negative}`)!;
  assert.equal(refused.result.status, 'dead-lettered');
  assert.match(refused.result.reason ?? '', /products_price_not_negative/);
  assert.equal(refused.alert, true, 'a dead letter raises the alert flag');

  // the line of order B: parked on its product, then applied, one command throughout
  const lineResults = results.filter((e) => e.result.recordKey === lineB);
  const parked = lineResults.find((e) => e.result.status === 'parked')!;
  const applied = lineResults.find((e) => e.result.status === 'applied')!;
  assert.match(parked.result.reason ?? '', new RegExp(late!));
  assert.deepEqual(applied.commandIds, parked.commandIds, 'the same command: first parked, then applied');
  assert.ok(applied.at >= parked.at);
});

test('a record Salesforce refuses is dead-lettered on sync.audit with its error', async () => {
  const audit = `${config.kafka.topicNamespace}.sync.audit`;
  // the next collections call that writes records has every record refused by a validation rule
  f.t.sb.admin.setFaults({ failNext: { count: 1, errorCode: 'FIELD_CUSTOM_VALIDATION_EXCEPTION', message: 'Audit test: refused', api: 'collections' } });
  await f.db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Rex', 'Refused')`, [shopId, `CR${run}`, `cr${run.toLowerCase()}@example.com`]);
  const events = await waitForCommands<AuditEvent>(f.stack, audit, () => true,
    (all) => writeResults(all).some((e) => e.key === `${shopId}|CR${run}` && e.result.status === 'dead-lettered'), 120_000);
  const refused = writeResults(events).find((e) => e.key === `${shopId}|CR${run}` && e.result.status === 'dead-lettered')!;
  assert.equal(refused.processor, 'sf-sink');
  assert.match(refused.message, /FIELD_CUSTOM_VALIDATION_EXCEPTION: Audit test: refused/);
});
