/**
 * Outages of what a stage depends on pause it, never dead-letter its valid records, on the real
 * stack with a running pipeline: the Salesforce session cannot be renewed (the integration user is
 * deactivated), the schema registry process is stopped. While it lasts, /readyz answers 503 naming
 * the paused stage and one stage-paused alert is counted; once the dependency is back, the records
 * land, once, and readiness comes back by itself.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { readFileSync } from 'node:fs';
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { SchemaCatalogClient } from '../../src/avro/registry.ts';
import { readDlq } from '../../src/dlq/dlq-reader.ts';
import type { ShopWrite } from '../../src/entities/types.ts';
import { createKafka } from '../../src/kafka/client.ts';
import { topicNames } from '../../src/flows/topic-names.ts';
import type { Pipeline } from '../../src/run/pipeline.ts';
import { registry as registryComponent } from '../../src/stack/components/registry.ts';
import { createStackContext } from '../../src/stack/context.ts';
import { eventually } from '../support/eventually.ts';
import { fixtureConfig } from '../support/sync-config.ts';
import { startPipelineInProcess, startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

let f: SyncFixture;
let config: ShopforceConfig;
let pipeline: Pipeline;
const stack = createStackContext({ quiet: true });
const run = randomUUID().slice(0, 6).toUpperCase();
const shopId = `outage-${run.toLowerCase()}`;

before(async () => {
  f = await startSyncFixture();
  config = fixtureConfig(f, shopId);
  pipeline = await startPipelineInProcess(config);
});

after(async () => {
  f?.t.sb.admin.setFaults({ refuseLogins: false });
  if (!(await registryComponent.health(stack))) await registryComponent.start(stack);
  await pipeline?.stop();
  await f?.cleanup();
});

interface Readyz { ready: boolean; checks: Record<string, boolean>; paused?: Record<string, { since: string; reason: string }> }
/** /readyz of the running process: its status code and body. */
const readyz = async () => {
  const res = await fetch(`${pipeline.health.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readyz };
};
const metrics = async () => (await fetch(`${pipeline.health.url}/metrics`)).text();
/** Every stage-paused alert counted so far, by stage. */
const pauseAlerts = async () => Object.fromEntries([...(await metrics()).matchAll(/shopforce_reconcile_alerts_total\{entity="([^"]+)",kind="stage-paused"\} (\d+)/g)]
  .map((m) => [m[1]!, Number(m[2])]).filter(([, n]) => n !== 0));
const deadLetters = async () => (await readDlq(config.kafka, topicNames(config.kafka.topicNamespace).dlq)).length;
/** Records of an object the org committed, whatever API wrote them. */
const written = (object: string) => Object.values(f.t.sb.admin.counters().writesByApi).reduce((n, byObject) => n + (byObject[object]?.written ?? 0), 0);

test('the Salesforce session cannot be renewed: the Salesforce sink pauses (503 naming it, one alert), nothing dead-lettered; logins allowed again: the contact lands once', async () => {
  await eventually(readyz, (r) => r.status === 200, 120_000);
  const sb = f.t.sb.admin;
  // a first contact: the sink has logged in and holds a session
  const first = `SE${run}-0`;
  await f.db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Ada', 'Session')`, [shopId, first, `${first.toLowerCase()}@example.com`]);
  await eventually(async () => (await f.sf.query(`SELECT Id FROM Contact WHERE Shop_Customer_Id__c = '${shopId}|${first}'`)).totalSize, (n) => n === 1, 180_000);
  sb.resetCounters();
  // the integration user deactivated: its session ends, and no grant renews it (jsforce's refresh is refused)
  sb.setFaults({ refuseLogins: true });
  sb.expireSessions();
  const customer = `SE${run}`;
  await f.db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Ada', 'Session')`, [shopId, customer, `${customer.toLowerCase()}@example.com`]);

  const paused = await eventually(readyz, (r) => !!r.body.paused?.['sf-sink'], 180_000);
  assert.equal(paused.status, 503);
  assert.equal(paused.body.checks['sf-sink'], false);
  assert.match(paused.body.paused!['sf-sink']!.reason, /invalid_grant|inactive user/);
  assert.deepEqual(await pauseAlerts(), { 'sf-sink': 1 }, 'one alert, for the Salesforce sink');
  assert.equal((await fetch(`${pipeline.health.url}/healthz`)).status, 200, 'paused, not dead');
  assert.equal(written('Contact'), 0, 'nothing reached the org');

  sb.setFaults({ refuseLogins: false });
  const contact = await eventually(
    async () => (await f.sf.query<{ Email: string }>(`SELECT Email FROM Contact WHERE Shop_Customer_Id__c = '${shopId}|${customer}'`)).records,
    (r) => r.length > 0, 180_000);
  assert.deepEqual(contact.map((c) => c.Email), [`${customer.toLowerCase()}@example.com`]);
  await eventually(readyz, (r) => r.status === 200 && !r.body.paused, 120_000);
  assert.equal(written('Contact'), 1, 'written once');
  assert.deepEqual(await pauseAlerts(), { 'sf-sink': 1 }, 'no further alert');
  assert.equal(await deadLetters(), 0, 'no valid record dead-lettered');
});

/**
 * A running process has every schema it writes and reads cached, so the registry is needed for a
 * schema it has not seen: a command written by a newer copy of shopforce (a rolling upgrade) that
 * registered a new version. That is when the shop sink finds the registry down.
 */
test('the schema registry is stopped: the shop sink pauses on a command of a schema it has not seen (503, one alert), nothing dead-lettered; registry back: the product lands', async () => {
  await eventually(readyz, (r) => r.status === 200, 120_000);
  const canonical = JSON.parse(readFileSync(new URL('../../schemas/shop_write.avsc', import.meta.url), 'utf8')) as { fields: unknown[] };
  const newer = new SchemaCatalogClient(config.registry.url);
  const subject = `outage-${run.toLowerCase()}-value`;
  const schema = { ...canonical, fields: [...canonical.fields, { name: `probe_${run.toLowerCase()}`, type: ['null', 'string'], default: null }] };
  await newer.registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
  const sku = `RG${run}`;
  const command: ShopWrite = {
    commandId: `outage-${run}`, shopId, entity: 'product', key: `${shopId}|${sku}`, sourcePosition: `outage:${run}`, transactionId: `outage-${run}`,
    eventTime: Date.now(), operation: 'UPSERT', sequence: 0, table: 'products', keyColumns: ['shop_id', 'sku'],
    row: { shop_id: shopId, sku, name: `Registry outage ${sku}`, price: '12.50', currency: 'EUR', active: true }, sourceVersion: null, parentKeys: [],
  };
  const value = await newer.encode(subject, command);

  await registryComponent.stop(stack);
  assert.equal(await registryComponent.health(stack), false, 'the registry process is down');
  const producer = createKafka(config.kafka, 'outage-test').producer();
  await producer.connect();
  try {
    await producer.send({ topic: topicNames(config.kafka.topicNamespace).shopCommands, messages: [{ key: command.key, value }] });
  } finally {
    await producer.disconnect();
  }

  const paused = await eventually(readyz, (r) => !!r.body.paused?.['shop-sink'], 180_000);
  assert.equal(paused.status, 503);
  assert.equal(paused.body.checks['shop-sink'], false);
  assert.match(paused.body.paused!['shop-sink']!.reason, /schema registry .*could not fetch schema/);
  assert.equal((await pauseAlerts())['shop-sink'], 1, 'one alert for the shop sink');
  assert.equal((await f.db.query('SELECT 1 FROM products WHERE shop_id = $1 AND sku = $2', [shopId, sku])).rowCount, 0);

  await registryComponent.start(stack);
  const landed = await eventually(async () => (await f.db.query<{ name: string }>('SELECT name FROM products WHERE shop_id = $1 AND sku = $2', [shopId, sku])).rows,
    (rows) => rows.length > 0, 180_000);
  assert.deepEqual(landed.map((r) => r.name), [`Registry outage ${sku}`]);
  await eventually(readyz, (r) => r.status === 200 && !r.body.paused, 120_000);
  assert.equal((await pauseAlerts())['shop-sink'], 1, 'no further alert');
  assert.equal(await deadLetters(), 0, 'no valid record dead-lettered');
});
