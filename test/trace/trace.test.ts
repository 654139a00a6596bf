/**
 * `shopforce trace`: after an order syncs, its story is told in order — the shop's change events
 * (found on Debezium's topic in the partition the row's id hashes to), the reconciler's decision, the
 * commands and the Salesforce sink's write results, then our writes coming back from Salesforce — read
 * from one partition of each keyed topic; the same story is found from the Opportunity's id or the
 * order's row id.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { SchemaCatalogClient } from '../../src/avro/registry.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { enabledEntities } from '../../src/entities/index.ts';
import type { SalesforceWrite } from '../../src/entities/types.ts';
import type { AuditEvent } from '../../src/reconcile/audit.ts';
import type { Pipeline } from '../../src/run/pipeline.ts';
import { connectSalesforce } from '../../src/salesforce/auth/connection.ts';
import { keyOfSalesforceRecord, keyOfShopRow } from '../../src/trace/locate.ts';
import { traceKey, type Trace } from '../../src/trace/story.ts';
import { createPricedProducts } from '../support/catalogue.ts';
import { waitForCommands } from '../support/commands.ts';
import { PipelineProcess } from '../support/pipeline-process.ts';
import { fixtureConfig } from '../support/sync-config.ts';
import { startPipelineInProcess, startSyncFixture, type SyncFixture } from '../support/sync-fixture.ts';

let f: SyncFixture;
let config: ShopforceConfig;
let pipeline: Pipeline;
const run = randomUUID().slice(0, 6).toUpperCase();
const shopId = `tr-${run.toLowerCase()}`;
const orderNumber = `TO${run}`;
const key = `${shopId}|${orderNumber}`;

before(async () => {
  f = await startSyncFixture();
  config = fixtureConfig(f, shopId);
  pipeline = await startPipelineInProcess(config);
  await createPricedProducts(f.sf, [{ sku: `TS${run}`, name: 'Traced mug', price: 12 }]);
  await f.db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Tracy', 'Trace')`, [shopId, `TC${run}`, `tc${run.toLowerCase()}@example.com`]);
  await f.db.query(`INSERT INTO orders (shop_id, order_number, customer_number, status, currency, subtotal_amount, total_amount) VALUES ($1, $2, $3, 'paid', 'EUR', 12, 12)`, [shopId, orderNumber, `TC${run}`]);
  await f.db.query(`INSERT INTO order_lines (shop_id, order_number, line_number, sku, product_name, quantity, unit_price, line_total) VALUES ($1, $2, 1, $3, 'Traced mug', 1, 12, 12)`, [shopId, orderNumber, `TS${run}`]);
  // synced: the Opportunity's write result is on sync.audit, and our write came back from Salesforce
  await waitForCommands<AuditEvent>(f.stack, `${config.kafka.topicNamespace}.sync.audit`, (m) => m.key === key, (events) =>
    events.some((e) => e.stage === 'WRITE_RESULT' && e.message.startsWith('applied: Opportunity'))
    && events.some((e) => e.stage === 'DECISION' && e.origin === 'SALESFORCE'), 180_000);
});

after(async () => {
  await pipeline?.stop();
  await f?.cleanup();
});

const deps = () => ({ kafka: new Kafka({ brokers: config.kafka.brokers, clientId: 'trace-test', logLevel: logLevel.NOTHING }), registry: new SchemaCatalogClient(config.registry.url) });

test('after an order syncs, trace shows its shop event, the decision, the command and the write result, in that order', async () => {
  const trace: Trace = await traceKey(config, 'order', key, deps());
  const index = (pred: (r: Trace['rows'][number]) => boolean, what: string) => {
    const i = trace.rows.findIndex(pred);
    assert.ok(i >= 0, `${what} in ${JSON.stringify(trace.rows.map((r) => `${r.stage} ${r.summary}`), null, 1)}`);
    return i;
  };
  const shopEvent = index((r) => r.stage === 'SOURCE' && r.side === 'SHOP' && (r.record as { part: string }).part === 'orders', 'the orders row change');
  const decision = index((r) => r.stage === 'DECISION' && r.side === 'SHOP' && (r.record as AuditEvent).decision === 'APPLY', 'the decision on it');
  const command = index((r) => r.stage === 'COMMAND' && (r.record as SalesforceWrite).sobject === 'Opportunity', 'the Opportunity command');
  const result = index((r) => r.stage === 'WRITE_RESULT' && r.summary.startsWith('applied: Opportunity'), 'its write result');
  const echo = index((r) => r.stage === 'SOURCE' && r.side === 'SALESFORCE' && (r.record as { ours: boolean }).ours, 'our write coming back');
  assert.ok(shopEvent < decision && decision < command && command < result && result < echo,
    `in time order: ${[shopEvent, decision, command, result, echo]} of ${JSON.stringify(trace.rows.map((r) => `${new Date(r.time).toISOString()} ${r.stage} ${r.summary}`), null, 1)}`);

  // the shop event was found on Debezium's topic, in the partition its row id hashes to, then on sync.in
  const at = trace.rows[shopEvent]!.at;
  assert.match(at[0]!, /^shop\.public\.orders\[\d\]@\d+$/);
  assert.match(at[1]!, new RegExp(`^${config.kafka.topicNamespace}\\.sync\\.in\\.order\\[\\d\\]@\\d+$`));
  assert.match(trace.rows[echo]!.at[0]!, /^test-[^.]+\.sf\.cdc\.Opportunity\[\d\]@\d+$/, 'the Salesforce event on the source\'s raw topic');
  // the write result names the Opportunity's id
  const opportunity = (await f.sf.query<{ Id: string }>(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${key}'`)).records[0]!;
  assert.ok(trace.rows[result]!.summary.includes(opportunity.Id), trace.rows[result]!.summary);

  // one partition of each keyed topic was read
  for (const topic of ['sync.in.order', 'sync.audit', 'sync.out.salesforce', 'sync.out.shop'].map((t) => `${config.kafka.topicNamespace}.${t}`)) {
    assert.equal(trace.read.filter((r) => r.topic === topic).length, 1, `${topic}: ${JSON.stringify(trace.read)}`);
  }
});

test('the same record is found by the Opportunity\'s id and by the order\'s row id', async () => {
  const entity = enabledEntities(config).find((e) => e.name === 'order')!;
  const opportunity = (await f.sf.query<{ Id: string }>(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${key}'`)).records[0]!;
  assert.equal(await keyOfSalesforceRecord(config, entity, await connectSalesforce(config.salesforce), opportunity.Id), key);
  const line = (await f.sf.query<{ Id: string }>(`SELECT Id FROM OpportunityLineItem WHERE Shop_Line_Id__c = '${key}|1'`)).records[0]!;
  assert.equal(await keyOfSalesforceRecord(config, entity, await connectSalesforce(config.salesforce), line.Id), key);
  const row = (await f.db.query('SELECT id FROM orders WHERE shop_id = $1 AND order_number = $2', [shopId, orderNumber])).rows[0];
  assert.equal(await keyOfShopRow(config, entity, 'orders', String(row.id)), key);
});

test('shopforce trace prints the story as a table, and as JSON', async () => {
  const cli = new PipelineProcess(config);
  try {
    const table = await cli.command(['trace', 'order', orderNumber]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, new RegExp(`^trace of order ${key.replace('|', '\\|')}: \\d+ step\\(s\\)$`, 'm'));
    assert.match(table.stdout, /^\s+\S+Z\s+WRITE_RESULT\s+salesforce\s+applied: Opportunity/m);
    const row = (await f.db.query('SELECT id FROM orders WHERE shop_id = $1 AND order_number = $2', [shopId, orderNumber])).rows[0];
    const json = await cli.command(['trace', 'order', '--shop-row', `orders:${row.id}`, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as Trace;
    assert.equal(parsed.key, key);
    assert.ok(parsed.rows.some((r) => r.stage === 'COMMAND'));
  } finally {
    await cli.cleanup();
  }
});
