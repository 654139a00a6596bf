/**
 * Drift checks on a schedule inside `shopforce run`: a price book entry whose change events the org
 * dropped leaves a product missing in the shop; the scheduled check finds it, writes a DRIFT record
 * and its repair, sets the drift metric and raises a drift alert; the shop gets the product. The
 * checks' record on sync.drift.runs keeps a restarted pipeline from checking again before its time.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { AuditEvent } from '../../src/reconcile/audit.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { DriftRunRecord } from '../../src/drift/schedule.ts';
import type { Pipeline } from '../../src/run/pipeline.ts';
import { createPricedProducts } from '../support/catalogue.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { collectMessages } from '../support/kafka.ts';
import { fixtureConfig } from '../support/sync-config.ts';
import { startPipelineInProcess, startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

let f: SyncFixture;
let config: ShopforceConfig;
let pipeline: Pipeline | undefined;
const run = randomUUID().slice(0, 6).toUpperCase();
const shopId = `ds-${run.toLowerCase()}`;
const [seen, hidden] = ['SEEN', 'HIDDEN'].map((s) => `DS${run}-${s}`);

const metric = async (p: Pipeline, series: string) => {
  const text = await (await fetch(`${p.health.url}/metrics`)).text();
  return Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1] ?? NaN);
};
const runs = async () => (await collectMessages(config.kafka.brokers, [`${config.kafka.topicNamespace}.sync.drift.runs`], { until: () => false, timeoutMs: 3_000 }))
  .map((m) => m.value as DriftRunRecord);

before(async () => {
  f = await startSyncFixture();
  // the catalogue, one entry of it changed where no event reaches the pipeline: that product never gets to the shop
  await createPricedProducts(f.sf, [{ sku: seen!, name: 'Seen mug', price: 10 }]);
  f.t.sb.admin.setFaults({ dropChangeEvents: { count: 1, object: 'PricebookEntry' } });
  await createPricedProducts(f.sf, [{ sku: hidden!, name: 'Hidden mug', price: 11 }]);
  config = fixtureConfig(f, shopId, (c) => {
    c.entities.customer.enabled = false;
    c.entities.order.enabled = false;
    c.drift.schedule = { enabled: true, intervalMs: 3_600_000, entities: ['product'], repair: true };
  });
  pipeline = await startPipelineInProcess(config);
});

after(async () => {
  await pipeline?.stop();
  await f?.cleanup();
});

test('a scheduled check finds the drift, records it, counts it, alerts, and its repair reaches the shop', async () => {
  const p = pipeline!;
  await eventually(() => metric(p, 'shopforce_drift_runs_total{entity="product",result="drift"}'), (n) => n === 1, 120_000);
  assert.equal(await metric(p, 'shopforce_drift_records{entity="product",kind="missing"}'), 1);
  assert.equal(await metric(p, 'shopforce_drift_records{entity="product",kind="different"}'), 0);
  assert.equal(await metric(p, 'shopforce_reconcile_alerts_total{entity="product",kind="drift"}'), 1, 'a drift alert');
  assert.equal(await metric(p, 'shopforce_drift_repaired_total{entity="product"}'), 1);

  const audit = await waitForCommands<AuditEvent>(f.stack, `${config.kafka.topicNamespace}.sync.audit`, () => true, (all) => all.some((e) => e.stage === 'DRIFT'), 30_000);
  const drift = audit.filter((e) => e.stage === 'DRIFT');
  assert.deepEqual(drift.map((e) => [e.key, e.origin, e.commandIds.length]), [[`${shopId}|${hidden}`, 'SHOP', 1]]);
  assert.match(drift[0]!.message, /^missing in the shop; repair: 1 command\(s\) to the shop$/);

  const row = await eventually(async () => (await f.db.query('SELECT name, price::text AS price FROM products WHERE shop_id = $1 AND sku = $2', [shopId, hidden])).rows[0],
    (r) => r !== undefined, 60_000);
  assert.deepEqual(row, { name: 'Hidden mug', price: '11.00' });
  const recorded = (await runs()).filter((r) => r.entity === 'product');
  assert.deepEqual(recorded.map((r) => r.result), ['running', 'drift']);
  assert.equal(recorded[1]!.drift, 1);
});

test('a restarted pipeline knows when each entity was last checked and does not check again before its time', async () => {
  await pipeline!.stop();
  pipeline = await startPipelineInProcess(config);
  // several ticks of the schedule (a tenth of the interval, at most 30 s) pass
  await new Promise((r) => setTimeout(r, 35_000));
  assert.deepEqual((await runs()).filter((r) => r.entity === 'product').map((r) => r.result), ['running', 'drift'], 'no second check');
  assert.equal(await metric(pipeline, 'shopforce_drift_runs_total{entity="product",result="drift"}'), NaN, 'this copy has checked nothing');
});
