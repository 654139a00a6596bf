/**
 * The sandbox story, end to end: the pipeline of the sandbox example runs (every flow it enables), the
 * story seed fills each side with what it masters, and once settled each flow shows its side of the story
 * on the other side — with no conflict alert, nothing parked and no dead letter.
 *
 * One check per entity the example enables, looked up by name: a flow enabled without a check here fails
 * the test, so each new flow (payment, invoice, support ticket, campaign segment) adds its check below.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { enabledEntities, type EntityName } from '../../src/entities/index.ts';
import { restParentLookup } from '../../src/processors/router.ts';
import { startPipeline, type Pipeline } from '../../src/run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../src/run/salesforce-stages.ts';
import { sandboxStockAdjuster } from '../../src/seed/org-records.ts';
import { generateSeedData } from '../../src/shop/seed/index.ts';
import { seedStory, type StoryReport } from '../../src/seed/story.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { eventually } from '../support/eventually.ts';
import { collectMessages } from '../support/kafka.ts';
import { skipShopHistory, testPipelineConfig } from '../support/pipeline.ts';
import { queryAll, sandboxEnv } from '../support/pipeline-process.ts';
import { getTestStack } from '../support/stack.ts';

const STORY = { customers: 20, products: 12, warehouses: 2, orders: 30, seed: 3 };

/** What a check sees: both sides, the pipeline and what the seed made. */
interface Story {
  config: ShopforceConfig;
  shopId: string;
  sf: Connection;
  db: pg.Client;
  report: StoryReport;
  rows: (sql: string) => Promise<Array<Record<string, any>>>;
}

/** Resolves when the entity's side of the story is on the other side; throws saying what is not (yet). */
type Check = (s: Story) => Promise<void>;

const CHECKS: Partial<Record<EntityName, Check>> = {
  async customer(s) {
    const customers = (await s.rows('SELECT customer_number AS n FROM customers')).map((r) => `${s.shopId}|${r.n}`).sort();
    const accounts = (await queryAll<{ Shop_Customer_Id__c: string }>(s.sf, `SELECT Shop_Customer_Id__c FROM Account WHERE Shop_Id__c = '${s.shopId}'`)).map((a) => a.Shop_Customer_Id__c).sort();
    const contacts = (await queryAll<{ Shop_Customer_Id__c: string }>(s.sf, `SELECT Shop_Customer_Id__c FROM Contact WHERE Shop_Id__c = '${s.shopId}'`)).map((c) => c.Shop_Customer_Id__c).sort();
    assert.deepEqual([accounts, contacts], [customers, customers], 'an Account and a Contact per customer');
  },
  async order(s) {
    const lines = (await s.rows('SELECT order_number, line_number FROM order_lines')).map((l) => `${s.shopId}|${l.order_number}|${l.line_number}`).sort();
    const items = (await queryAll<{ Shop_Line_Id__c: string }>(s.sf, `SELECT Shop_Line_Id__c FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${s.shopId}|%'`)).map((i) => i.Shop_Line_Id__c).sort();
    assert.deepEqual(items, lines, 'every order\'s line items in the org');
    const orders = (await s.rows('SELECT order_number AS n, total_amount::float AS total FROM orders')).map((o) => [`${s.shopId}|${o.n}`, o.total]).sort();
    const opps = (await queryAll<{ Shop_Order_Id__c: string; Amount: number }>(s.sf, `SELECT Shop_Order_Id__c, Amount FROM Opportunity WHERE Shop_Id__c = '${s.shopId}'`)).map((o) => [o.Shop_Order_Id__c, o.Amount]).sort();
    assert.deepEqual(opps, orders, 'an Opportunity per order, with its total');
  },
  async product(s) {
    const org = (await queryAll<{ UnitPrice: number; Product2: { Sku__c: string; Name: string } }>(s.sf,
      'SELECT UnitPrice, Product2.Sku__c, Product2.Name FROM PricebookEntry WHERE Pricebook2.IsStandard = true')).map((e) => [e.Product2.Sku__c, e.Product2.Name, e.UnitPrice]).sort();
    const shop = (await s.rows('SELECT sku, name, price::float AS price FROM products')).map((p) => [p.sku, p.name, p.price]).sort();
    assert.deepEqual(shop, org, 'the shop sells the org\'s catalogue at the org\'s prices');
  },
  async stock(s) {
    const shop = Object.fromEntries((await s.rows('SELECT sku, warehouse_code, quantity FROM stock_levels')).map((l) => [`${s.shopId}|${l.sku}|${l.warehouse_code}`, l.quantity]));
    const org = Object.fromEntries((await queryAll<{ Stock_Key__c: string; Quantity__c: number }>(s.sf, `SELECT Stock_Key__c, Quantity__c FROM Stock_Level__c WHERE Stock_Key__c LIKE '${s.shopId}|%'`))
      .map((l) => [l.Stock_Key__c, Number(l.Quantity__c)]));
    assert.deepEqual(org, shop, 'the same stock on both sides');
    // the org's corrections are in it: seeded quantity + correction (nothing else moves the stock here)
    const seeded = new Map(generateSeedData(s.report.options).stock_levels.map((l) => [`${s.shopId}|${l.sku}|${l.warehouse_code}`, Number(l.quantity)]));
    assert.deepEqual(s.report.stockCorrections.map((c) => [c.key, shop[c.key]]), s.report.stockCorrections.map((c) => [c.key, seeded.get(c.key)! + c.delta]));
  },
  async payment(s) {
    const payments = await s.rows('SELECT provider, provider_transaction_id AS tx, order_number, status FROM payments');
    const org = (await queryAll<{ Provider_Transaction_Id__c: string }>(s.sf, `SELECT Provider_Transaction_Id__c FROM Payment__c WHERE Provider_Transaction_Id__c LIKE '${s.shopId}|%'`))
      .map((p) => p.Provider_Transaction_Id__c).sort();
    assert.deepEqual(org, payments.map((p) => `${s.shopId}|${p.provider}|${p.tx}`).sort(), 'every payment a Payment__c');
    // reconciled: the seed pays each paid order in full (or refunds it in full)
    const expected = new Map<string, string>();
    for (const p of payments) {
      const status = p.status === 'captured' ? 'Paid' : p.status === 'refunded' ? 'Refunded' : p.status === 'authorized' ? 'Authorized' : null;
      if (status && expected.get(`${s.shopId}|${p.order_number}`) !== 'Paid') expected.set(`${s.shopId}|${p.order_number}`, status);
    }
    const opps = (await queryAll<{ Shop_Order_Id__c: string; Payment_Status__c: string | null }>(s.sf, `SELECT Shop_Order_Id__c, Payment_Status__c FROM Opportunity WHERE Shop_Id__c = '${s.shopId}'`))
      .filter((o) => expected.has(o.Shop_Order_Id__c)).map((o) => [o.Shop_Order_Id__c, o.Payment_Status__c]).sort();
    assert.deepEqual(opps, [...expected].sort(), 'each paid order\'s Opportunity says how it was paid');
  },
  async invoice(s) {
    const org = (await queryAll<{ Invoice_Number__c: string; Status__c: string }>(s.sf, 'SELECT Invoice_Number__c, Status__c FROM Invoice__c'))
      .map((i) => [i.Invoice_Number__c, i.Status__c.toLowerCase()]).sort();
    assert.equal(org.length, s.report.invoices, 'the org issued the invoices the seed made');
    const shop = (await s.rows('SELECT invoice_number, status FROM invoices')).map((i) => [i.invoice_number, i.status]).sort();
    assert.deepEqual(shop, org, 'every Invoice__c in the shop, with its status');
  },
  async support_ticket(s) {
    const tickets = (await s.rows('SELECT ticket_number AS n FROM support_tickets')).map((t) => `${s.shopId}|${t.n}`).sort();
    const cases = (await queryAll<{ Shop_Ticket_Id__c: string; ContactId: string | null }>(s.sf, `SELECT Shop_Ticket_Id__c, ContactId FROM Case WHERE Shop_Ticket_Id__c LIKE '${s.shopId}|%'`));
    assert.deepEqual(cases.map((c) => c.Shop_Ticket_Id__c).sort(), tickets, 'every ticket a Case');
    assert.deepEqual(cases.filter((c) => !c.ContactId).map((c) => c.Shop_Ticket_Id__c), [], 'each Case on its customer\'s Contact');
  },
  async campaign_segment(s) {
    const members = (await queryAll<{ Campaign: { Shop_Segment_Id__c: string }; Contact: { Shop_Customer_Id__c: string } }>(s.sf,
      `SELECT Campaign.Shop_Segment_Id__c, Contact.Shop_Customer_Id__c FROM CampaignMember WHERE Contact.Shop_Customer_Id__c LIKE '${s.shopId}|%'`))
      .map((m) => `${m.Campaign.Shop_Segment_Id__c} ${m.Contact.Shop_Customer_Id__c.split('|')[1]}`).sort();
    assert.equal(members.length, s.report.members, 'the org holds the members the seed added');
    const shop = (await s.rows('SELECT segment_code, customer_number FROM segment_members')).map((m) => `${m.segment_code} ${m.customer_number}`).sort();
    assert.deepEqual(shop, members, 'every campaign a segment with its members');
  },
};

let stack: StackAddresses;
let t: TestSandbox;
let sf: Connection;
let db: pg.Client;
let pipeline: Pipeline;

before(async () => {
  stack = await getTestStack();
  t = await startTestSandbox();
  sf = await jwtConnection(t.sb);
  db = new pg.Client({ connectionString: stack.postgres.url });
  await db.connect();
});

after(async () => {
  await pipeline?.stop();
  await db?.end();
  await t?.cleanup();
});

test('after `run --sandbox` and `seed`, once settled: each flow\'s records on the other side, no conflict alert, nothing parked, no dead letter', async (ctx) => {
  const shopId = `story-${randomUUID().slice(0, 6)}`;
  // the sandbox example as `run --sandbox` runs it, with this test's shop, topics and a short stock window
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = shopId;
    c.salesforce.apiVersion = '60.0';
    // every flow the example runs (the test configuration turns the newer ones off by default)
    for (const flow of ['stock', 'payment', 'invoice', 'support_ticket', 'campaign_segment'] as const) c.entities[flow].enabled = true;
    c.entities.stock.windowMs = 2_000;
    c.backfill.initialLoad = ['product'];
  });
  const flows = enabledEntities(config).map((e) => e.name);
  assert.deepEqual(flows.filter((f) => !CHECKS[f]), [], 'every flow the sandbox runs has its check in this test');
  const conn = lazyConnection(config);
  await skipShopHistory(config);
  pipeline = await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) });

  const steps: string[] = [];
  const started = Date.now();
  const report = await seedStory({
    shopUrl: stack.postgres.url, conn: sf, adjustStock: sandboxStockAdjuster(t.sb.admin.url, t.sb.admin.token), waitMs: 240_000, say: (l) => steps.push(l),
  }, { ...STORY, shopId });
  ctx.diagnostic(steps.join('\n'));
  assert.ok(report.invoices > 0 && report.members > 0 && report.stockCorrections.length > 0, 'the org added its part of the story');

  const story: Story = {
    config, shopId, sf, db, report,
    rows: async (sql) => (await db.query(`${sql} WHERE shop_id = $1`, [shopId])).rows,
  };
  for (const flow of flows) await eventually(() => CHECKS[flow]!(story).then(() => true), (ok) => ok, 240_000, 2_000);

  const metrics = await (await fetch(`${pipeline.health.url}/metrics`)).text();
  const value = (name: string) => [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
  assert.equal(value('shopforce_reconcile_alerts_total'), 0, `no alert: ${metrics.split('\n').filter((l) => l.startsWith('shopforce_reconcile_alerts_total')).join('; ')}`);
  assert.equal(value('shopforce_sf_sink_parked'), 0, 'nothing parked');
  const letters = await collectMessages(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sync.dlq`], { until: () => false, timeoutMs: 5_000, raw: true });
  assert.deepEqual(letters.map((l) => `${l.headers['dlq.processor']} ${l.key}: ${l.headers['dlq.reason']}`), [], 'no dead letter');
  ctx.diagnostic(`${report.options.customers} customers, ${report.options.orders} orders, ${report.catalogue.products} products, ${report.stockCorrections.length} stock corrections, ${report.invoices} invoices, ${report.campaigns} campaigns with ${report.members} members: seeded in ${Math.round(report.ms / 1000)} s, settled ${Math.round((Date.now() - started) / 1000)} s after the seed began`);
});
