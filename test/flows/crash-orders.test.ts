import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import { externalIdOf } from '../../src/entities/keys.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { eventually } from '../support/eventually.ts';
import { queryAll, sandboxEnv, startPipelineProcess, untilDoneOrIdle, type PipelineProcess } from '../support/pipeline-process.ts';
import { createPricedProducts } from '../support/catalogue.ts';
import { writesPerRecord, writesReceived } from '../support/org-writes.ts';

const ORDERS = 1_000;
const KILL_AFTER = 300;
/**
 * Record writes a restart may send again: the sink's uncommitted writes at the kill (a linger
 * window's worth at this insert rate, and children parked behind a late parent). A replay that
 * re-sends hundreds of writes fails (a run today sends 70–130 again).
 */
const REPLAY_BUDGET = 200;
/** The objects the orders become in Salesforce. */
const ORDER_OBJECTS = ['Account', 'Contact', 'Opportunity', 'OpportunityLineItem'];

// kill -9 of `shopforce run` while a burst of shop orders is being synced, then a restart: every
// order lands in Salesforce exactly once, with its customer and all its lines.
describe('crash safety: kill -9 in the middle of 1,000 orders', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let pipeline: PipelineProcess;
  let namespace: string;
  /** The example config's shop (the rows below take the table's default shop_id); external ids start with it. */
  let shopId: string;
  /** The external id the pipeline writes for a record of that shop. */
  const ext = (...parts: string[]) => externalIdOf(shopId, ...parts);
  const run = randomUUID().slice(0, 6).toUpperCase();
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
    namespace = config.kafka.topicNamespace;
    shopId = config.shopId;
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  /** True when the stages, in the order written, go back: an older status written after a newer one. */
  const STAGE_RANK: Record<string, number> = { 'Prospecting': 0, 'Closed Won': 1, 'Closed Lost': 2 };
  const wentBack = (stages: string[]) => stages.some((st, k) => k > 0 && STAGE_RANK[st]! < STAGE_RANK[stages[k - 1]!]!);

  /** Sets the status of orders from..to-1 in one shop transaction. */
  async function setStatus(status: string, from: number, to: number): Promise<void> {
    await db.query('update orders set status = $1 where order_number = ANY($2)', [status, Array.from({ length: to - from }, (_, k) => orderNumber(from + k))]);
  }

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
    const countersAtStart = t.sb.admin.counters();
    let inserted = 0;
    const inserting = (async () => {
      for (let i = 0; i < ORDERS; i++) {
        await insertOrder(i);
        inserted = i + 1;
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const opportunities = async () => (await sf.query(`SELECT COUNT() FROM Opportunity WHERE Shop_Order_Id__c LIKE '${ext(`O-${run}-`)}%'`)).totalSize;

    // kill -9 once a part of the orders is in the shop and the sink has begun writing them; orders
    // change status just before the kill (in flight) and while the pipeline is down: a stale replay
    // after the restart must not overwrite the newer status
    await eventually(async () => ({ inserted, synced: await opportunities() }), (s) => s.inserted >= KILL_AFTER && s.synced > 0, 180_000, 100);
    await setStatus('paid', 0, 20);
    const syncedAtKill = await opportunities();
    assert.equal(await pipeline.kill('SIGKILL'), null, 'the pipeline died of the signal');
    const insertedAtKill = inserted;
    await setStatus('cancelled', 0, 10);
    await setStatus('paid', 20, 40);
    await pipeline.restart();
    await inserting;
    const started = Date.now();
    ctx.diagnostic(`killed with ${insertedAtKill} orders inserted and ${syncedAtKill} Opportunities written; restarted`);

    const totalLines = Array.from({ length: ORDERS }, (_, i) => linesOf(i)).reduce((a, b) => a + b, 0);
    // wait until everything is there, or nothing more arrives for a minute; the assertions below say what is missing
    const synced = await untilDoneOrIdle(opportunities, ORDERS);
    const lines = await untilDoneOrIdle(async () => (await sf.query(`SELECT COUNT() FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${ext(`O-${run}-`)}%'`)).totalSize, totalLines, 30_000);
    ctx.diagnostic(`${synced} Opportunities and ${lines} line items in Salesforce ${Math.round((Date.now() - started) / 1000)} s after the inserts ended (want ${ORDERS} and ${totalLines})`);

    const opps = await queryAll<{ Id: string; AccountId: string; Shop_Order_Id__c: string; Amount: number | null; Account: { Shop_Customer_Id__c: string } | null }>(sf,
      `SELECT Id, AccountId, Shop_Order_Id__c, Amount, Account.Shop_Customer_Id__c FROM Opportunity WHERE Shop_Order_Id__c LIKE '${ext(`O-${run}-`)}%'`);
    const present = new Set(opps.map((o) => o.Shop_Order_Id__c));
    const missing = Array.from({ length: ORDERS }, (_, i) => ext(orderNumber(i))).filter((o) => !present.has(o));
    assert.deepEqual(missing, [], `every order has its Opportunity (${missing.length} missing)`);
    assert.equal(opps.length, ORDERS, 'exactly one Opportunity per order');
    assert.equal(new Set(opps.map((o) => o.Shop_Order_Id__c)).size, ORDERS, 'no order twice');
    for (const o of opps) assert.equal(o.Account?.Shop_Customer_Id__c, o.Shop_Order_Id__c.replace(`|O-`, `|C-`), `${o.Shop_Order_Id__c}: the Opportunity hangs under its customer's Account`);

    const amountOf = (o: { Shop_Order_Id__c: string }) => { const n = linesOf(Number(o.Shop_Order_Id__c.split('-').pop())); return n * 10 + (n * (n - 1)) / 2; };
    const badAmounts = opps.filter((o) => o.Amount !== amountOf(o)).map((o) => `${o.Shop_Order_Id__c}: ${o.Amount}`);
    assert.deepEqual(badAmounts, [], 'each Opportunity carries its order\'s total');

    const items = await queryAll<{ Id: string; Shop_Line_Id__c: string; OpportunityId: string }>(sf,
      `SELECT Id, Shop_Line_Id__c, OpportunityId FROM OpportunityLineItem WHERE Shop_Line_Id__c LIKE '${ext(`O-${run}-`)}%'`);
    assert.equal(items.length, totalLines, 'exactly one line item per order line');
    assert.equal(new Set(items.map((i) => i.Shop_Line_Id__c)).size, totalLines, 'no line twice');
    const perOpp = new Map<string, number>();
    for (const item of items) perOpp.set(item.OpportunityId, (perOpp.get(item.OpportunityId) ?? 0) + 1);
    const wrong = opps.filter((o) => perOpp.get(o.Id) !== linesOf(Number(o.Shop_Order_Id__c.split('-').pop())));
    assert.deepEqual(wrong.map((o) => `${o.Shop_Order_Id__c}: ${perOpp.get(o.Id) ?? 0}`), [], 'each Opportunity has as many line items as its order has lines');

    assert.equal((await sf.query(`SELECT COUNT() FROM Account WHERE Shop_Customer_Id__c LIKE '${ext(`C-${run}-`)}%'`)).totalSize, ORDERS, 'one Account per customer');
    assert.equal((await sf.query(`SELECT COUNT() FROM Contact WHERE Shop_Customer_Id__c LIKE '${ext(`C-${run}-`)}%'`)).totalSize, ORDERS, 'one Contact per customer');

    // the newest status of each order won over anything replayed after the crash
    const stageOf = (i: number) => (i < 10 ? 'Closed Lost' : i < 40 ? 'Closed Won' : 'Prospecting');
    const stages = await eventually(async () => queryAll<{ Shop_Order_Id__c: string; StageName: string }>(sf,
      `SELECT Shop_Order_Id__c, StageName FROM Opportunity WHERE Shop_Order_Id__c LIKE '${ext(`O-${run}-`)}%'`),
    (all) => all.every((o) => o.StageName === stageOf(Number(o.Shop_Order_Id__c.split('-').pop()))), 60_000).catch(() => []);
    const stale = Array.from({ length: 40 }, (_, i) => ext(orderNumber(i)))
      .filter((o) => stages.find((x) => x.Shop_Order_Id__c === o)?.StageName !== stageOf(Number(o.split('-').pop())));
    assert.deepEqual(stale, [], 'no stale status written over a newer one');

    // what the org was sent, whatever it changed: a customer's Account and Contact once, an order's
    // Opportunity twice at most on average (again as its lines come; a run sends ~1,800) and once per status
    // change, a line item twice at most (again when it came before its Opportunity; a run sends ~2,560);
    // a restart that sends old commands again goes past that, even with upserts that change nothing (no
    // change event shows those: only the org's counters; a sink that never commits sends ~4,100 and ~5,700)
    const sent = writesReceived(countersAtStart, t.sb.admin.counters(), ORDER_OBJECTS);
    const most: Record<string, number> = { Account: ORDERS, Contact: ORDERS, Opportunity: 2 * ORDERS + 10 * 2 + 30, OpportunityLineItem: 2 * totalLines };
    const sentPast = ORDER_OBJECTS.reduce((n, o) => n + Math.max(0, sent[o]!.received - most[o]!), 0);
    ctx.diagnostic(`the org received (write calls, records) ${JSON.stringify(sent)}; at most ${JSON.stringify(most)} records without a replay`);
    assert.ok(sentPast <= REPLAY_BUDGET,
      `the org received ${sentPast} records past what the data needs (${JSON.stringify(sent)}); only the sink's uncommitted writes at the kill (at most ${REPLAY_BUDGET}) may be sent again`);

    // what the org wrote, record by record: each record needs one write (the orders whose status
    // changed one per change); what the restart sends again may not go past the replay budget
    const ours = (prefix: string) => (id: string) => id.startsWith(prefix);
    const received = {
      Account: await writesPerRecord(stack.kafka.brokers, namespace, t, 'Account', 'Shop_Customer_Id__c', ours(ext(`C-${run}-`)), opps[0]!.AccountId),
      Contact: await writesPerRecord(stack.kafka.brokers, namespace, t, 'Contact', 'Shop_Customer_Id__c', ours(ext(`C-${run}-`)), (await sf.query<{ Id: string }>(`SELECT Id FROM Contact WHERE Shop_Customer_Id__c = '${ext(`C-${run}-0`)}'`)).records[0]!.Id),
      Opportunity: await writesPerRecord(stack.kafka.brokers, namespace, t, 'Opportunity', 'Shop_Order_Id__c', ours(ext(`O-${run}-`)), opps[0]!.Id),
      OpportunityLineItem: await writesPerRecord(stack.kafka.brokers, namespace, t, 'OpportunityLineItem', 'Shop_Line_Id__c', ours(ext(`O-${run}-`)), items[0]!.Id),
    };
    const statusChanges = (order: string) => { const i = Number(order.split('-').pop()); return i < 10 ? 2 : i < 40 ? 1 : 0; };
    const extra = Object.fromEntries(Object.entries(received).map(([object, writes]) => [object,
      [...writes].reduce((sum, [id, w]) => sum + Math.max(0, w.length - 1 - (object === 'Opportunity' ? statusChanges(id) : 0)), 0)]));
    const recordsWritten = Object.entries(received).map(([object, writes]) => [object, writes.size]);
    // a replayed old command written over a newer one shows as a stage going back
    assert.deepEqual([...received.Opportunity].filter(([, w]) => wentBack(w.map((r) => String(r.StageName)))).map(([id, w]) => `${id}: ${w.map((r) => r.StageName).join(' → ')}`),
      [], 'no Opportunity stage ever went back to an older one');
    ctx.diagnostic(`records written: ${JSON.stringify(recordsWritten)}; writes past what the data needs: ${JSON.stringify(extra)}`);
    assert.deepEqual(recordsWritten, [['Account', ORDERS], ['Contact', ORDERS], ['Opportunity', ORDERS], ['OpportunityLineItem', totalLines]]);
    const resent = Object.values(extra).reduce((a, b) => a + b, 0);
    assert.ok(resent <= REPLAY_BUDGET, `the restart sent ${resent} record writes again (${JSON.stringify(extra)}); at most ${REPLAY_BUDGET} were in flight`);
  });

  test('kill -9 of the sink between its Salesforce write and its offset commit: only that write is sent again, and a newer status wins', async (ctx) => {
    const N = 40;
    const numbers = Array.from({ length: N }, (_, k) => ORDERS + 100 + k);
    const orders = numbers.map((i) => ext(orderNumber(i)));
    const inList = orders.map((o) => `'${o}'`).join(', ');
    for (const i of numbers) await insertOrder(i);
    const stages = async () => Object.fromEntries((await sf.query<{ Shop_Order_Id__c: string; StageName: string }>(
      `SELECT Shop_Order_Id__c, StageName FROM Opportunity WHERE Shop_Order_Id__c IN (${inList})`)).records.map((o) => [o.Shop_Order_Id__c, o.StageName]));
    await eventually(stages, (s) => orders.every((o) => s[o] === 'Prospecting'), 120_000);
    const sentinel = (await sf.query<{ Id: string }>(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${orders[0]}'`)).records[0]!.Id;
    const counted = () => writesPerRecord(stack.kafka.brokers, namespace, t, 'Opportunity', 'Shop_Order_Id__c', (id) => orders.includes(id), sentinel);
    const before = await counted();

    // the next start dies right after the first Salesforce write that carries one of these orders
    await pipeline.stop();
    pipeline.setEnv({ SHOPFORCE_TEST_KILL_AT: `sf-sink-between-salesforce-write-and-commit:1:O-${run}-` });
    const opportunityWrites = () => t.sb.admin.counters().recordsByObject.Opportunity ?? 0;
    const writesBefore = opportunityWrites();
    await pipeline.start(); // not waiting for ready: it may die first, on a write of commands it had not committed
    await db.query(`update orders set status = 'paid' where order_number = ANY($1)`, [numbers.map(orderNumber)]);
    assert.equal(await pipeline.exitedByItself(), null, 'the pipeline died in the hook');
    const inFlight = opportunityWrites() - writesBefore;
    // while it is down, half of the orders move on: the paid commands sent again must not overwrite this
    await db.query(`update orders set status = 'cancelled' where order_number = ANY($1)`, [numbers.slice(0, N / 2).map(orderNumber)]);
    pipeline.setEnv({ SHOPFORCE_TEST_KILL_AT: undefined });
    const countersAtRestart = t.sb.admin.counters();
    await pipeline.restart();

    const want = Object.fromEntries(orders.map((o, k) => [o, k < N / 2 ? 'Closed Lost' : 'Closed Won']));
    const final = await eventually(stages, (s) => orders.every((o) => s[o] === want[o]), 120_000).catch(() => stages());
    assert.deepEqual(final, want, 'every order has its newest status: none lost, none overwritten by the replay');

    const after = await counted();
    const stagesWritten = orders.map((o) => (after.get(o) ?? []).slice((before.get(o) ?? []).length).map((r) => String(r.StageName)));
    const writes = stagesWritten.map((w) => w.length);
    assert.deepEqual(orders.map((o, k) => [o, stagesWritten[k]!]).filter(([, w]) => wentBack(w as string[])), [],
      'no stage went back to an older one: no command already applied (and committed) was written again over a newer one');
    const resent = orders.map((o, k) => Math.max(0, writes[k]! - (k < N / 2 ? 2 : 1))).reduce((a, b) => a + b, 0);
    ctx.diagnostic(`${inFlight} Opportunity writes in the killed call; ${resent} sent again after the restart; stages written per order ${JSON.stringify(stagesWritten)}`);
    assert.ok(inFlight >= 1, 'the kill came after a Salesforce write');
    assert.deepEqual(orders.filter((o, k) => writes[k]! < 1), [], 'each status change reached Salesforce');
    assert.ok(resent <= inFlight, `only the uncommitted call is sent again: ${resent} writes again, ${inFlight} were in the killed call`);
    // what the org was sent after the restart, whatever it changed: at most each order's paid write (the
    // killed call's again among them: its offsets were not committed) and the cancellations; a restart
    // that read the commands from further back sends the orders' creates again, and those of the 1,000 above
    const sent = writesReceived(countersAtRestart, t.sb.admin.counters(), ['Opportunity']).Opportunity!;
    const allowed = N + N / 2;
    ctx.diagnostic(`after the restart the org received ${sent.received} Opportunity records in ${sent.calls} write calls (at most ${allowed} allowed)`);
    assert.ok(sent.received <= allowed,
      `after the restart the org received ${sent.received} Opportunity records; ${N} paid writes (the ${inFlight} of the killed call sent again among them) and ${N / 2} cancellations make ${allowed}`);
  });

  // found by the crash run above: an Opportunity created after a crash by a later partial command had
  // no Amount, and its change event was dead-lettered by the reconciler instead of being reconciled
  test('an Opportunity amount a user clears in Salesforce is re-asserted from the shop order', async () => {
    const i = ORDERS + 1;
    await insertOrder(i);
    const want = linesOf(i) * 10 + (linesOf(i) * (linesOf(i) - 1)) / 2;
    const opp = await eventually(
      async () => (await sf.query<{ Id: string; Amount: number | null }>(`SELECT Id, Amount FROM Opportunity WHERE Shop_Order_Id__c = '${ext(orderNumber(i))}'`)).records,
      (r) => r.length === 1 && r[0]!.Amount === want, 120_000);
    t.sb.admin.userEdit({ object: 'Opportunity', id: opp[0]!.Id, fields: { Amount: null } });
    const after = await eventually(
      async () => (await sf.query<{ Amount: number | null }>(`SELECT Amount FROM Opportunity WHERE Id = '${opp[0]!.Id}'`)).records[0]?.Amount,
      (a) => a === want, 60_000).catch((err: Error) => err.message);
    assert.equal(after, want, 'the shop is the master of the order total: Salesforce\'s Amount is written back');
  });
});
