/**
 * A newcomer's first run: the shop seeded with clean data, the pipeline syncing it to the org. Our own
 * writes come back through Salesforce Change Data Capture while later changes of the same customer are
 * still on their way; they must be known as ours by their origin, so the run raises no conflict and
 * re-writes nothing.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { AuditEvent } from '../../src/reconcile/audit.ts';
import { startPipeline, type Pipeline } from '../../src/run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../src/run/salesforce-stages.ts';
import { restParentLookup } from '../../src/processors/router.ts';
import { seedShop } from '../../src/shop/seed/index.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import type { SalesforceWrite } from '../../src/entities/types.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { skipShopHistory, testPipelineConfig } from '../support/pipeline.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { createPricedProducts } from '../support/catalogue.ts';
import { sandboxEnv } from '../support/pipeline-process.ts';

const CUSTOMERS = 30;
const ORDERS = 40;

let stack: StackAddresses;
let t: TestSandbox;
let sf: Connection;
let db: pg.Client;
/** Every pipeline a test started: stopped after each test, failed or not (a running one keeps the file from exiting). */
const running: Pipeline[] = [];
const started = (p: Pipeline) => (running.push(p), p);
const shopId = `seed-${randomUUID().slice(0, 6)}`;

before(async () => {
  stack = await getTestStack();
  t = await startTestSandbox();
  sf = await jwtConnection(t.sb);
  db = new pg.Client({ connectionString: stack.postgres.url });
  await db.connect();
});

afterEach(async () => {
  for (const p of running.splice(0)) await p.stop();
});

after(async () => {
  await db?.end();
  await t?.cleanup();
});

test('a clean seed syncs with no conflict, no re-assertion, and each Account written once per change of its customer', async (ctx) => {
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = shopId;
    c.salesforce.apiVersion = '60.0';
    // the catalogue is created in the org by this test (as a catalogue manager would); only the shop's flows run
    c.entities.product.enabled = false;
  });
  const conn = lazyConnection(config);
  await skipShopHistory(config);
  started(await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) }));

  // the catalogue the seeded orders sell, in the org first (the org masters it)
  const seeded = await seedShop(stack.postgres.url, { shopId, customers: CUSTOMERS, products: 10, warehouses: 1, orders: ORDERS, seed: 7 });
  assert.equal(seeded.tables.customers.inserted, CUSTOMERS);
  const products = (await db.query('SELECT sku, name, price::float AS price FROM products WHERE shop_id = $1', [shopId])).rows;
  await createPricedProducts(sf, products.map((p) => ({ sku: p.sku, name: p.name, price: p.price })));
  const lines = Number((await db.query('SELECT count(*) FROM order_lines WHERE shop_id = $1', [shopId])).rows[0].count);
  const addresses = Number((await db.query("SELECT count(*) FROM addresses WHERE shop_id = $1 AND is_default AND address_type IN ('billing', 'shipping')", [shopId])).rows[0].count);
  t.sb.admin.resetCounters();

  // everything arrives: every Account, every Opportunity with all its line items
  // each Account's external id is the shop id and the customer number (keys.ts)
  const customers = (await db.query('SELECT customer_number FROM customers WHERE shop_id = $1 ORDER BY 1', [shopId])).rows.map((r) => `${shopId}|${r.customer_number}`);
  const accounts = await eventually(async () => (await sf.query<any>('SELECT Shop_Customer_Id__c, Name FROM Account')).records, (r) => r.length >= CUSTOMERS, 180_000);
  assert.deepEqual(accounts.map((a) => a.Shop_Customer_Id__c).sort(), customers, `one Account per customer: ${JSON.stringify(accounts.map((a) => [a.Shop_Customer_Id__c, a.Name]))}`);
  await eventually(async () => (await sf.query<any>('SELECT COUNT() FROM OpportunityLineItem')).totalSize, (n) => n === lines, 180_000);
  assert.equal((await sf.query<any>('SELECT COUNT() FROM Opportunity')).totalSize, ORDERS);

  // every change's decision is on sync.audit; read until each of our Salesforce writes came back
  const names = { audit: `${config.kafka.topicNamespace}.sync.audit`, commands: `${config.kafka.topicNamespace}.sync.out.salesforce` };
  const audit = await waitForCommands<AuditEvent>(stack, names.audit, () => true,
    (events) => events.filter((e) => e.stage === 'DECISION' && e.origin === 'SALESFORCE' && e.entity === 'customer').length >= CUSTOMERS * 2, 120_000);
  const conflicts = audit.filter((e) => e.decision === 'CONFLICT' || e.alert);
  assert.deepEqual(conflicts.map((e) => `${e.key}: ${e.message}`), [], 'no conflict and no alert on clean data');
  // the decisions about Salesforce's changes (the sinks' write results are on sync.audit too)
  const fromSalesforce = audit.filter((e) => e.stage === 'DECISION' && e.origin === 'SALESFORCE');
  assert.ok(fromSalesforce.every((e) => e.decision === 'ECHO' || e.decision === 'DUPLICATE'), `Salesforce only echoed our writes: ${JSON.stringify(fromSalesforce.filter((e) => e.decision !== 'ECHO').map((e) => e.message).slice(0, 5))}`);

  const commands = await waitForCommands<SalesforceWrite>(stack, names.commands, () => true, (c) => c.length > 0, 30_000);
  assert.deepEqual(commands.filter((c) => c.reassert).map((c) => c.key), [], 'nothing re-asserted');
  // each customer changes once for its row and once per default address row: no write beyond that
  const accountWrites = commands.filter((c) => c.sobject === 'Account').length;
  assert.ok(accountWrites <= CUSTOMERS + addresses, `${accountWrites} Account commands for ${CUSTOMERS} customers with ${addresses} addresses`);
  const counters = t.sb.admin.counters();
  assert.ok((counters.recordsByObject.Account ?? 0) <= accountWrites, `the org received ${counters.recordsByObject.Account} Account records for ${accountWrites} commands`);
  assert.equal(counters.recordsByObject.OpportunityLineItem, lines, 'each line item written once');
  ctx.diagnostic(`${CUSTOMERS} customers with ${addresses} default addresses, ${ORDERS} orders with ${lines} lines: ${accountWrites} Account commands, ${counters.recordsByObject.Account} Account records and ${counters.recordsByObject.Opportunity} Opportunity records received by the org, ${conflicts.length} conflicts`);
});

test('an order whose timestamps carry milliseconds is written once: Salesforce keeps seconds, and our echo is no change', async () => {
  // an org of its own: the first test's records are another shop's
  await t.cleanup();
  t = await startTestSandbox();
  sf = await jwtConnection(t.sb);
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = `ms-${randomUUID().slice(0, 6)}`;
    c.salesforce.apiVersion = '60.0';
    c.entities.product.enabled = false;
  });
  const conn = lazyConnection(config);
  await skipShopHistory(config);
  started(await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) }));
  t.sb.admin.resetCounters();
  const order = `MS-${randomUUID().slice(0, 6)}`;
  await db.query('begin');
  await db.query(`insert into customers (shop_id, customer_number, email, first_name, last_name) values ($1, $2, 'ms@example.com', 'Milli', 'Second')`, [config.shopId, `C-${order}`]);
  await db.query(`insert into orders (shop_id, order_number, customer_number, status, currency, total_amount, placed_at) values ($1, $2, $3, 'paid', 'EUR', 10.00, '2026-11-03 09:15:42.123+00')`, [config.shopId, order, `C-${order}`]);
  await db.query('commit');

  const opp = await eventually(async () => (await sf.query<any>(`SELECT Ordered_At__c FROM Opportunity WHERE Shop_Order_Id__c = '${config.shopId}|${order}'`)).records, (r) => r.length === 1, 90_000);
  assert.match(opp[0].Ordered_At__c, /^2026-11-03T09:15:42\.000\+0000$/, 'Salesforce keeps the second');
  // the Opportunity's change event comes back; read until the order's Salesforce decision is on the audit
  const audit = await waitForCommands<AuditEvent>(stack, `${config.kafka.topicNamespace}.sync.audit`, (m) => m.key === `${config.shopId}|${order}`,
    (events) => events.some((e) => e.stage === 'DECISION' && e.origin === 'SALESFORCE'), 90_000);
  assert.deepEqual(audit.filter((e) => e.stage === 'DECISION' && e.origin === 'SALESFORCE').map((e) => e.decision), ['ECHO']);
  assert.deepEqual(audit.filter((e) => e.decision === 'CONFLICT'), []);
  const writes = Object.values(t.sb.admin.counters().writesByApi).reduce((n, byObject) => n + (byObject.Opportunity?.written ?? 0), 0);
  assert.equal(writes, 1, 'the Opportunity is written once');
});
