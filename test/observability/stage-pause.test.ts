/**
 * Errors of the environment pause a sink, never dead-letter its valid records: the shop sink's role
 * loses its privilege on a table, a Salesforce field is made read-only for the connected user. While
 * it lasts, /readyz is false with the reason (what `shopforce status` shows), one stage-paused alert
 * is counted; once fixed, the records land by themselves and the dead-letter topic stays empty.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { readDlq } from '../../src/dlq/dlq-reader.ts';
import { topicNames } from '../../src/flows/topic-names.ts';
import type { Pipeline } from '../../src/run/pipeline.ts';
import { processHealth } from '../../src/status/status.ts';
import { createPricedProducts } from '../support/catalogue.ts';
import { eventually } from '../support/eventually.ts';
import { fixtureConfig } from '../support/sync-config.ts';
import { startPipelineInProcess, startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

let f: SyncFixture;
let config: ShopforceConfig;
let pipeline: Pipeline;
let admin: pg.Client;
const run = randomUUID().slice(0, 6).toUpperCase();
const shopId = `pause-${run.toLowerCase()}`;

before(async () => {
  f = await startSyncFixture();
  config = fixtureConfig(f, shopId);
  pipeline = await startPipelineInProcess(config);
  admin = new pg.Client({ connectionString: f.stack.postgres.adminUrl });
  await admin.connect();
});

after(async () => {
  await admin?.query('GRANT INSERT, UPDATE ON products TO shopforce').catch(() => undefined);
  await admin?.end();
  await pipeline?.stop();
  await f?.cleanup();
});

/** What `shopforce status` reads of the running process (its /readyz). */
const health = () => processHealth({ ...config, observability: { ...config.observability, metricsPort: pipeline.health.port } });
const metrics = async () => (await fetch(`${pipeline.health.url}/metrics`)).text();
const deadLetters = async () => (await readDlq(config.kafka, topicNames(config.kafka.topicNamespace).dlq)).length;

test('the shop sink\'s role loses its privilege on products: paused (not ready, alert, status), nothing dead-lettered; granted back: the products land', async () => {
  await eventually(async () => (await health()).ready, (r) => r === true, 120_000);
  await admin.query('REVOKE INSERT, UPDATE ON products FROM shopforce');
  const skus = [`PA${run}-1`, `PA${run}-2`];
  await createPricedProducts(f.sf, skus.map((sku) => ({ sku, name: `Paused ${sku}`, price: 9 })));

  const paused = await eventually(health, (h) => !!h.paused?.['shop-sink'], 120_000);
  assert.equal(paused.ready, false);
  assert.equal(paused.checks?.['shop-sink'], false);
  assert.match(paused.paused!['shop-sink']!.reason, /SQLSTATE 42501: permission denied for table products/);
  const m = await metrics();
  assert.match(m, /shopforce_reconcile_alerts_total\{entity="shop-sink",kind="stage-paused"\} 1\b/, 'one alert for the pause');
  assert.match(m, /shopforce_stage_paused\{stage="shop-sink"\} 1\b/);
  assert.equal((await fetch(`${pipeline.health.url}/healthz`)).status, 200, 'paused, not dead');
  assert.equal((await f.db.query('SELECT 1 FROM products WHERE shop_id = $1', [shopId])).rowCount, 0);

  await admin.query('GRANT INSERT, UPDATE ON products TO shopforce');
  const landed = await eventually(async () => (await f.db.query<{ sku: string }>('SELECT sku FROM products WHERE shop_id = $1 ORDER BY sku', [shopId])).rows.map((r) => r.sku),
    (rows) => rows.length === 2, 180_000);
  assert.deepEqual(landed, skus, 'nothing lost');
  const resumed = await eventually(health, (h) => !h.paused?.['shop-sink'] && h.ready === true, 60_000);
  assert.equal(resumed.checks?.['shop-sink'], true);
  assert.match(await metrics(), /shopforce_stage_paused\{stage="shop-sink"\} 0\b/);
  assert.equal(await deadLetters(), 0, 'no valid record dead-lettered');
});

test('a Salesforce field made read-only for the connected user: the Salesforce sink pauses, nothing dead-lettered; writable again: the contact lands', async () => {
  const sb = f.t.sb.admin;
  sb.setField({ object: 'Contact', field: 'Email', createable: false, updateable: false });
  try {
    const customer = `PC${run}`;
    await f.db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Grace', 'Paused')`, [shopId, customer, `${customer.toLowerCase()}@example.com`]);
    const paused = await eventually(health, (h) => !!h.paused?.['sf-sink'], 120_000);
    assert.equal(paused.ready, false);
    assert.match(paused.paused!['sf-sink']!.reason, /INVALID_FIELD_FOR_INSERT_UPDATE.*Email/);
    assert.match(await metrics(), /shopforce_reconcile_alerts_total\{entity="sf-sink",kind="stage-paused"\} 1\b/);
    sb.setField({ object: 'Contact', field: 'Email', createable: true, updateable: true });
    const contact = await eventually(
      async () => (await f.sf.query<{ Email: string }>(`SELECT Email FROM Contact WHERE Shop_Customer_Id__c = '${shopId}|${customer}'`)).records[0],
      (c) => !!c, 180_000);
    assert.equal(contact!.Email, `${customer.toLowerCase()}@example.com`);
    await eventually(health, (h) => !h.paused?.['sf-sink'], 60_000);
    assert.equal(await deadLetters(), 0, 'no valid record dead-lettered');
  } finally {
    sb.setField({ object: 'Contact', field: 'Email', createable: true, updateable: true });
  }
});
