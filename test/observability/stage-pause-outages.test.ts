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
import { readDlq } from '../../src/dlq/dlq-reader.ts';
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
  sb.resetCounters();
  // the integration user deactivated: its session ends, and no grant renews it
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
