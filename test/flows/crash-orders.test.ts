import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import { readExternalId } from '../../src/entities/keys.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { eventually } from '../support/eventually.ts';
import { queryAll, sandboxEnv, startPipelineProcess, untilDoneOrIdle, type PipelineProcess } from '../support/pipeline-process.ts';
import { createPricedProducts } from '../support/catalogue.ts';

const ORDERS = 1_000;
const KILL_AFTER = 300;

// kill -9 of `shopforce run` while a burst of shop orders is being synced, then a restart: every
// order lands in Salesforce exactly once, with its customer and all its lines.
describe('crash safety: kill -9 in the middle of 1,000 orders', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let pipeline: PipelineProcess;
  const run = randomUUID().slice(0, 6).toUpperCase();
  /** The example config's shop (the rows below take the table's default shop_id); external ids start with it. */
  let shopId: string;
  const skus = ['A', 'B', 'C'].map((s) => `K${run}-${s}`);
  const orderNumber = (i: number) => `O-${run}-${i}`;
  const linesOf = (i: number) => 1 + (i % 3);

  before(async () => {
    stack = await getTestStack();
    t = await startTestSandbox();
    sf = await jwtConnection(t.sb);
    await createPricedProducts(sf, skus.map((sku, i) => ({ sku, name: `Cup ${sku}`, price: 10 + i })));
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
    });
    shopId = config.shopId;
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  /** One shop transaction: a new customer, an order of 1–3 lines. */
  async function insertOrder(i: number): Promise<void> {
    const customer = `C-${run}-${i}`;
    const n = linesOf(i);
    const prices = skus.slice(0, n).map((_, j) => 10 + j);
    await db.query('begin');
    try {
      await db.query(`insert into customers (customer_number, email, first_name, last_name) values ($1, $2, 'Grace', $3)`,
        [customer, `g${i}.${run.toLowerCase()}@example.com`, `Hopper ${i}`]);
      await db.query(`insert into orders (order_number, customer_number, status, currency, total_amount) values ($1, $2, 'pending', 'EUR', $3)`,
        [orderNumber(i), customer, prices.reduce((a, b) => a + b, 0)]);
      const values = prices.map((_, j) => `($1, ${j + 1}, $${2 + j * 2}, 'Cup', 1, $${3 + j * 2}, $${3 + j * 2})`).join(', ');
      await db.query(`insert into order_lines (order_number, line_number, sku, product_name, quantity, unit_price, line_total) values ${values}`,
        [orderNumber(i), ...prices.flatMap((p, j) => [skus[j], p])]);
      await db.query('commit');
    } catch (err) {
      await db.query('rollback');
      throw err;
    }
  }

  test('every order is in Salesforce exactly once, with its customer and the right number of line items', async (ctx) => {
    let inserted = 0;
    const inserting = (async () => {
      for (let i = 0; i < ORDERS; i++) {
        await insertOrder(i);
        inserted = i + 1;
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const opportunities = async () => (await sf.query(`SELECT COUNT() FROM Opportunity WHERE Shop_Order_Id__c LIKE '${shopId}|O-${run}-%'`)).totalSize;

    // kill -9 once a part of the orders is in the shop and the sink has begun writing them
    await eventually(async () => ({ inserted, synced: await opportunities() }), (s) => s.inserted >= KILL_AFTER && s.synced > 0, 180_000, 100);
    const syncedAtKill = await opportunities();
    assert.equal(await pipeline.kill('SIGKILL'), null, 'the pipeline died of the signal');
    const insertedAtKill = inserted;
    await pipeline.restart();
    await inserting;
    const started = Date.now();
    ctx.diagnostic(`killed with ${insertedAtKill} orders inserted and ${syncedAtKill} Opportunities written; restarted`);

    const totalLines = Array.from({ length: ORDERS }, (_, i) => linesOf(i)).reduce((a, b) => a + b, 0);
    // wait until everything is there, or nothing more arrives for a minute; the assertions below say what is missing
    const synced = await untilDoneOrIdle(opportunities, ORDERS);
    const lines = await untilDoneOrIdle(async () => (await sf.query(`SELECT COUNT() FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${shopId}|O-${run}-%'`)).totalSize, totalLines, 30_000);
    ctx.diagnostic(`${synced} Opportunities and ${lines} line items in Salesforce ${Math.round((Date.now() - started) / 1000)} s after the inserts ended (want ${ORDERS} and ${totalLines})`);

    const opps = await queryAll<{ Id: string; Shop_Order_Id__c: string; Amount: number | null; Account: { Shop_Customer_Id__c: string } | null }>(sf,
      `SELECT Id, Shop_Order_Id__c, Amount, Account.Shop_Customer_Id__c FROM Opportunity WHERE Shop_Order_Id__c LIKE '${shopId}|O-${run}-%'`);
    const present = new Set(opps.map((o) => readExternalId(o.Shop_Order_Id__c)?.parts[0]));
    const missing = Array.from({ length: ORDERS }, (_, i) => orderNumber(i)).filter((o) => !present.has(o));
    assert.deepEqual(missing, [], `every order has its Opportunity (${missing.length} missing)`);
    assert.equal(opps.length, ORDERS, 'exactly one Opportunity per order');
    assert.equal(new Set(opps.map((o) => o.Shop_Order_Id__c)).size, ORDERS, 'no order twice');
    for (const o of opps) assert.equal(o.Account?.Shop_Customer_Id__c, o.Shop_Order_Id__c.replace('|O-', '|C-'), `${o.Shop_Order_Id__c}: the Opportunity hangs under its customer's Account`);

    const amountOf = (o: { Shop_Order_Id__c: string }) => { const n = linesOf(Number(o.Shop_Order_Id__c.split('-').pop())); return n * 10 + (n * (n - 1)) / 2; };
    const badAmounts = opps.filter((o) => o.Amount !== amountOf(o)).map((o) => `${o.Shop_Order_Id__c}: ${o.Amount}`);
    assert.deepEqual(badAmounts, [], 'each Opportunity carries its order\'s total');

    const items = await queryAll<{ Shop_Line_Id__c: string; OpportunityId: string }>(sf,
      `SELECT Shop_Line_Id__c, OpportunityId FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${shopId}|O-${run}-%'`);
    assert.equal(items.length, totalLines, 'exactly one line item per order line');
    assert.equal(new Set(items.map((i) => i.Shop_Line_Id__c)).size, totalLines, 'no line twice');
    const perOpp = new Map<string, number>();
    for (const item of items) perOpp.set(item.OpportunityId, (perOpp.get(item.OpportunityId) ?? 0) + 1);
    const wrong = opps.filter((o) => perOpp.get(o.Id) !== linesOf(Number(o.Shop_Order_Id__c.split('-').pop())));
    assert.deepEqual(wrong.map((o) => `${o.Shop_Order_Id__c}: ${perOpp.get(o.Id) ?? 0}`), [], 'each Opportunity has as many line items as its order has lines');

    assert.equal((await sf.query(`SELECT COUNT() FROM Account WHERE Shop_Customer_Id__c LIKE '${shopId}|C-${run}-%'`)).totalSize, ORDERS, 'one Account per customer');
    assert.equal((await sf.query(`SELECT COUNT() FROM Contact WHERE Shop_Customer_Id__c LIKE '${shopId}|C-${run}-%'`)).totalSize, ORDERS, 'one Contact per customer');
  });

  // found by the crash run above: an Opportunity created after a crash by a later partial command had
  // no Amount, and its change event was dead-lettered by the reconciler instead of being reconciled
  test('an Opportunity amount a user clears in Salesforce is re-asserted from the shop order', async () => {
    const i = ORDERS + 1;
    await insertOrder(i);
    const want = linesOf(i) * 10 + (linesOf(i) * (linesOf(i) - 1)) / 2;
    const opp = await eventually(
      async () => (await sf.query<{ Id: string; Amount: number | null }>(`SELECT Id, Amount FROM Opportunity WHERE Shop_Order_Id__c = '${shopId}|${orderNumber(i)}'`)).records,
      (r) => r.length === 1 && r[0]!.Amount === want, 120_000);
    t.sb.admin.userEdit({ object: 'Opportunity', id: opp[0]!.Id, fields: { Amount: null } });
    const after = await eventually(
      async () => (await sf.query<{ Amount: number | null }>(`SELECT Amount FROM Opportunity WHERE Id = '${opp[0]!.Id}'`)).records[0]?.Amount,
      (a) => a === want, 60_000).catch((err: Error) => err.message);
    assert.equal(after, want, 'the shop is the master of the order total: Salesforce\'s Amount is written back');
  });
});
