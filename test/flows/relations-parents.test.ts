import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import { SchemaCatalogClient } from '../../src/avro/registry.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { externalIdOf } from '../../src/entities/keys.ts';
import type { SalesforceWrite } from '../../src/entities/types.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { collectThroughSentinel } from '../support/kafka.ts';
import { writesPerRecord } from '../support/org-writes.ts';
import { getTestStack } from '../support/stack.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { eventually } from '../support/eventually.ts';
import { eventually as runtimeEventually, groupCaughtUp, testKafka } from '../support/runtime-kafka.ts';
import { sandboxEnv, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';
import { createPricedProducts } from '../support/catalogue.ts';

const PARENT_TIMEOUT_MS = 30_000;

interface DeadLetter { reason: string; processor: string; sourceTopic: string; command: SalesforceWrite }

// Parents and children across the two systems, with `shopforce run` as a child process.
// The shop's FK (orders → customers) makes a customer row that is inserted after its order
// impossible, so "the customer arrives late" is made where it happens in real life: on the
// Salesforce side. The customer row is in the shop with the order, but Salesforce refuses its
// Account (a company name longer than Account.Name allows: STRING_TOO_LONG, to the DLQ); the
// Opportunity waits for the Account (parked) until the shop corrects the name a few seconds later
// and the Account lands — or, when nobody corrects it, goes to the DLQ after sink.parentTimeoutMs.
describe('parents before children: late parents, missing parents, refused records, API quota', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let config: ShopforceConfig;
  let pipeline: PipelineProcess;
  let registry: SchemaCatalogClient;
  const run = randomUUID().slice(0, 6).toUpperCase();
  const skus = ['A', 'B'].map((s) => `R${run}-${s}`);
  const tooLong = `Very Long Company Name ${'x'.repeat(260)} Ltd`;

  /** A customer and an order with two lines, in one shop transaction. */
  async function insertOrder(customer: string, order: string, company: string | null): Promise<void> {
    await db.query('begin');
    await db.query(`insert into customers (customer_number, email, first_name, last_name, company_name) values ($1, $2, 'Ada', 'Lovelace', $3)`,
      [customer, `${customer.toLowerCase()}@example.com`, company]);
    await db.query(`insert into orders (order_number, customer_number, status, currency, total_amount) values ($1, $2, 'pending', 'EUR', 21.00)`, [order, customer]);
    for (const [i, sku] of skus.entries()) {
      await db.query(`insert into order_lines (order_number, line_number, sku, product_name, quantity, unit_price, line_total) values ($1, $2, $3, 'Bowl', 1, $4, $4)`,
        [order, i + 1, sku, 10 + i]);
    }
    await db.query('commit');
  }

  /**
   * This run's dead letters from the Salesforce sink (commands decoded), until `done` or the timeout.
   * (Every pipeline reads the one shared shop, so the DLQ also holds other test runs' orders.)
   */
  async function deadLetters(done: (all: DeadLetter[]) => boolean, timeoutMs = 90_000): Promise<DeadLetter[]> {
    const deadline = Date.now() + timeoutMs;
    let seen: DeadLetter[] = [];
    while (Date.now() < deadline) {
      // the DLQ as it is now, read to its end (no fixed window): again until `done`
      const { messages } = await collectThroughSentinel(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sync.dlq`],
        { match: (m) => m.headers['dlq.processor'] === 'sf-sink' && (m.key ?? '').includes(`-${run}-`), count: 0, raw: true });
      seen = await Promise.all(messages.map(async (m) => ({
        reason: m.headers['dlq.reason'] ?? '', processor: m.headers['dlq.processor'] ?? '', sourceTopic: m.headers['dlq.source.topic'] ?? '',
        command: await registry.decode<SalesforceWrite>(m.rawValue!),
      })));
      if (done(seen)) return seen;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the expected dead letters did not arrive in ${timeoutMs} ms; saw ${JSON.stringify(seen.map((d) => [d.command.sobject, d.command.externalId, d.reason])).slice(0, 2000)}`);
  }
  /**
   * Every dead letter of this run from the Salesforce sink up to now: a customer Salesforce refuses is
   * inserted as a sentinel (its Account letter comes after whatever the sink dead-lettered before),
   * and the DLQ is read past it to its end. For "X never went to the DLQ".
   */
  async function allDeadLetters(): Promise<DeadLetter[]> {
    const sentinel = `C-${run}-SENTINEL-${randomUUID().slice(0, 6)}`;
    await db.query(`insert into customers (customer_number, email, first_name, last_name, company_name) values ($1, $2, 'Ada', 'Lovelace', $3)`,
      [sentinel, `${sentinel.toLowerCase()}@example.com`, tooLong]);
    const { messages } = await collectThroughSentinel(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sync.dlq`], {
      match: (m) => m.headers['dlq.processor'] === 'sf-sink' && (m.key ?? '').includes(`-${run}-`),
      sentinel: (m) => m.headers['dlq.processor'] === 'sf-sink' && m.key === `${config.shopId}|${sentinel}`,
      raw: true, timeoutMs: 90_000,
    });
    return Promise.all(messages.map(async (m) => ({
      reason: m.headers['dlq.reason'] ?? '', processor: m.headers['dlq.processor'] ?? '', sourceTopic: m.headers['dlq.source.topic'] ?? '',
      command: await registry.decode<SalesforceWrite>(m.rawValue!),
    })));
  }
  const letterFor = (all: DeadLetter[], sobject: string, externalId: string) => all.find((d) => d.command.sobject === sobject && d.command.externalId === externalId);
  /** The external id of a record of this shop (keys.ts). */
  const ext = (...parts: string[]) => externalIdOf(config.shopId, ...parts);
  const metric = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

  before(async () => {
    stack = await getTestStack();
    registry = new SchemaCatalogClient(stack.registry.url);
    t = await startTestSandbox();
    sf = await jwtConnection(t.sb);
    await createPricedProducts(sf, skus.map((sku, i) => ({ sku, name: `Bowl ${sku}`, price: 10 + i })));
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
      c.sink.parentTimeoutMs = PARENT_TIMEOUT_MS;
    });
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  test('a value longer than the Salesforce field goes to the DLQ with Salesforce\'s error code, not retried', async () => {
    const customer = `C-${run}-REFUSED`;
    await db.query(`insert into customers (customer_number, email, first_name, last_name, company_name) values ($1, $2, 'Ada', 'Lovelace', $3)`,
      [customer, `${customer.toLowerCase()}@example.com`, tooLong]);
    const letters = await deadLetters((all) => !!letterFor(all, 'Account', ext(customer)));
    const account = letterFor(letters, 'Account', ext(customer))!;
    assert.match(account.reason, /^STRING_TOO_LONG: /);
    assert.match(account.reason, /Account Name|Name/);
    assert.equal(account.sourceTopic, `${config.kafka.topicNamespace}.sync.out.salesforce`);
    assert.equal(account.command.fields.Name, tooLong, 'the DLQ keeps the refused command as it was');
    assert.equal((await sf.query(`SELECT Id FROM Account WHERE Shop_Customer_Id__c = '${ext(customer)}'`)).totalSize, 0);
    const metrics = await pipeline.metrics();
    assert.match(metrics, /shopforce_sf_sink_outcomes_total\{status="failed",sobject="Account"\} [1-9]/);
    assert.doesNotMatch(metrics, /shopforce_sf_sink_retries_total\{error_code="STRING_TOO_LONG"\}/, 'a validation error is never retried');
  });

  test('an order whose customer reaches Salesforce late waits for it and lands after its parent', async () => {
    const customer = `C-${run}-LATE`;
    const order = `O-${run}-LATE`;
    await insertOrder(customer, order, tooLong);
    // Salesforce refused the Account: the Opportunity has no parent and waits
    await deadLetters((all) => !!letterFor(all, 'Account', ext(customer)));
    await eventually(async () => metric(await pipeline.metrics(), 'shopforce_sf_sink_parked'), (n) => n >= 1, 30_000);
    assert.equal((await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).totalSize, 0);

    await new Promise((r) => setTimeout(r, 3_000));
    const corrected = Date.now();
    await db.query('update customers set company_name = $1 where customer_number = $2', [`Analytical Engines ${run}`, customer]);

    const opp = await eventually(
      async () => (await sf.query<any>(`SELECT Id, CreatedDate, Account.Name, Account.CreatedDate, Account.Shop_Customer_Id__c FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).records,
      (r) => r.length === 1, 60_000);
    assert.equal(opp[0].Account?.Shop_Customer_Id__c, ext(customer));
    assert.equal(opp[0].Account?.Name, `Analytical Engines ${run}`);
    assert.ok(Date.parse(opp[0].CreatedDate) >= corrected - 1_000, 'the Opportunity was written once its customer was corrected, not before');
    const writes = await writesPerRecord(stack.kafka.brokers, config.kafka.topicNamespace, t, 'Opportunity', 'Shop_Order_Id__c', (id) => id === ext(order), opp[0].Id);
    assert.equal(writes.get(ext(order))?.length, 1, 'the parked Opportunity was written once, when its Account landed');
    const items = await eventually(
      async () => (await sf.query<any>(`SELECT Shop_Line_Id__c FROM OpportunityLineItem WHERE OpportunityId = '${opp[0].Id}'`)).records,
      (r) => r.length === 2, 60_000);
    assert.deepEqual(items.map((i) => i.Shop_Line_Id__c).sort(), [ext(order, '1'), ext(order, '2')]);
    assert.equal((await sf.query(`SELECT Id FROM Contact WHERE Shop_Customer_Id__c = '${ext(customer)}'`)).totalSize, 1, 'the Contact waited for its Account too');
    const letters = await allDeadLetters();
    assert.ok(letterFor(letters, 'Account', ext(customer)), 'the refused Account is among the letters read');
    assert.equal(letterFor(letters, 'Opportunity', ext(order)), undefined, 'the late order never went to the DLQ');
  });

  test('an order whose customer never reaches Salesforce goes to the DLQ with the reason after the parent timeout', async () => {
    const customer = `C-${run}-NEVER`;
    const order = `O-${run}-NEVER`;
    await insertOrder(customer, order, tooLong);
    const letters = await deadLetters((all) => !!letterFor(all, 'Opportunity', ext(order)), PARENT_TIMEOUT_MS + 90_000);
    const opp = letterFor(letters, 'Opportunity', ext(order))!;
    assert.ok(opp.reason.startsWith(`parent Account ${ext(customer)} never arrived`), opp.reason);
    assert.equal(opp.processor, 'sf-sink');
    assert.equal(opp.command.references.find((r) => r.field === 'AccountId')?.externalId, ext(customer));
    assert.equal((await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).totalSize, 0);
    const metrics = await pipeline.metrics();
    assert.match(metrics, /shopforce_dlq_\w+\{[^}]*processor="sf-sink"[^}]*reason="non-retryable"[^}]*\} [1-9]/);
  });

  /** A customer Salesforce refuses (dead-lettered) and its order: the Contact, the Opportunity and its two lines wait for the Account. */
  async function parkOrder(customer: string, order: string): Promise<void> {
    await insertOrder(customer, order, tooLong);
    await deadLetters((all) => !!letterFor(all, 'Account', ext(customer)));
    await eventually(async () => metric(await pipeline.metrics(), 'shopforce_sf_sink_parked'), (n) => n >= 4, 30_000);
  }

  /** A customer Salesforce refuses and its order, parked; the pipeline goes down (`how`) and up; then the shop fixes the customer. */
  async function parkedAcrossRestart(name: string, how: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const customer = `C-${run}-${name}`;
    const order = `O-${run}-${name}`;
    await parkOrder(customer, order);
    await pipeline.kill(how);
    await pipeline.restart();
    await db.query('update customers set company_name = $1 where customer_number = $2', [`Difference Engines ${run} ${name}`, customer]);
    const opp = await eventually(
      async () => (await sf.query<any>(`SELECT Id, Account.Shop_Customer_Id__c FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).records,
      (r) => r.length === 1, 60_000).catch(() => []);
    assert.equal(opp.length, 1, `the order parked when the pipeline got ${how} reached Salesforce once its customer did`);
    assert.equal(opp[0].Account?.Shop_Customer_Id__c, ext(customer));
    const items = await eventually(
      async () => (await sf.query<any>(`SELECT Shop_Line_Id__c FROM OpportunityLineItem WHERE OpportunityId = '${opp[0].Id}'`)).records,
      (r) => r.length === 2, 60_000);
    assert.equal(items.length, 2);
  }

  test('children waiting for their parent survive a SIGTERM restart of the pipeline', async () => {
    await parkedAcrossRestart('TERM', 'SIGTERM');
  });

  test('children waiting for their parent survive a kill -9 of the pipeline', async () => {
    await parkedAcrossRestart('KILL', 'SIGKILL');
  });

  test('a parked order whose parent never comes goes to the DLQ after a restart, once, and is not parked again by the next restart', async () => {
    const customer = `C-${run}-TIMEOUT`;
    const order = `O-${run}-TIMEOUT`;
    await parkOrder(customer, order);
    // down before the parent timeout: the timer starts again with the re-delivered children
    await pipeline.kill('SIGKILL');
    const restarted = Date.now(); // before the new process starts: nothing of it is parked earlier
    await pipeline.restart();
    const letters = await deadLetters((all) => !!letterFor(all, 'Opportunity', ext(order)), PARENT_TIMEOUT_MS + 90_000);
    assert.ok(letterFor(letters, 'Opportunity', ext(order))!.reason.startsWith(`parent Account ${ext(customer)} never arrived`));
    assert.ok(Date.now() - restarted >= PARENT_TIMEOUT_MS - 1_000, 'the timeout ran from the re-delivery');
    assert.equal((await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).totalSize, 0);

    // the letter settled the parked offset: one more restart must neither park nor dead-letter the order again.
    // Another never-arriving order, inserted after it, times out behind any second letter of the first.
    await pipeline.stop();
    await pipeline.restart();
    const later = `O-${run}-TIMEOUT-2`;
    await insertOrder(`C-${run}-TIMEOUT-2`, later, tooLong);
    await deadLetters((all) => !!letterFor(all, 'Opportunity', ext(later)), PARENT_TIMEOUT_MS + 90_000);
    const all = await allDeadLetters();
    assert.equal(all.filter((d) => d.command.sobject === 'Opportunity' && d.command.externalId === ext(order)).length, 1,
      'the order was dead-lettered once: its offset was committed once it settled');
  });

  test('orders behind a parked child on its partition keep reaching Salesforce while it waits', async () => {
    const customer = `C-${run}-HOLD`;
    const order = `O-${run}-HOLD`;
    await parkOrder(customer, order);
    // unrelated orders until some of them share the parked order's partition of sync.out.salesforce
    const commandsTopic = `${config.kafka.topicNamespace}.sync.out.salesforce`;
    const partitionOf = async (keys: string[]) => new Map((await collectThroughSentinel(stack.kafka.brokers, [commandsTopic],
      { match: (m) => keys.includes(m.key ?? ''), count: 0, raw: true })).messages.map((m) => [m.key!, m.partition]));
    const keyOf = (o: string) => `${config.shopId}|${o}`;
    const others: string[] = [];
    let behind: string[] = [];
    for (let batch = 0; behind.length === 0 && batch < 4; batch++) {
      for (let i = others.length, end = others.length + 12; i < end; i++) {
        others.push(`O-${run}-FLOW-${i}`);
        await insertOrder(`C-${run}-FLOW-${i}`, others[i]!, null);
      }
      const partitions = await eventually(() => partitionOf([keyOf(order), ...others.map(keyOf)]), (p) => p.size === others.length + 1, 60_000);
      behind = others.filter((o) => partitions.get(keyOf(o)) === partitions.get(keyOf(order)));
    }
    for (const o of behind) await eventually(async () => (await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(o)}'`)).totalSize, (n) => n === 1, 60_000);
    assert.ok(behind.length >= 1, `of ${others.length} unrelated orders, some share the parked order's partition (${behind.length})`);
    // they are in Salesforce (checked above) while the order still waits
    assert.equal((await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).totalSize, 0);
    assert.ok(metric(await pipeline.metrics(), 'shopforce_sf_sink_parked') >= 4, 'the order is still parked');
    // a crash now re-delivers the parked order (its offset held the partition's commit) and it still lands
    await pipeline.kill('SIGKILL');
    await pipeline.restart();
    await db.query('update customers set company_name = $1 where customer_number = $2', [`Babbage ${run}`, customer]);
    await eventually(async () => (await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).totalSize, (n) => n === 1, 60_000);
    for (const o of behind) assert.equal((await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(o)}'`)).totalSize, 1);
  });

  test('a parked order whose write fails with a retryable error once its parent lands is read again and lands; its offset is committed', async () => {
    const customer = `C-${run}-RETRY`;
    const order = `O-${run}-RETRY`;
    await parkOrder(customer, order);
    const before = await pipeline.metrics();
    // every try of the released Opportunity's write is answered 503, past the sink's retries: its outcome is retryable
    const attempts = config.sink.maxRetries + 1;
    t.sb.admin.setFaults({ failNext: { count: attempts, status: 503, method: 'PATCH', path: '/composite/sobjects/Opportunity/Shop_Order_Id__c' } });
    await db.query('update customers set company_name = $1 where customer_number = $2', [`Jacquard Looms ${run}`, customer]);
    await eventually(async () => t.sb.admin.faults().failNext, (f) => f === null, 120_000);
    const opp = await eventually(
      async () => (await sf.query<any>(`SELECT Id, Account.Shop_Customer_Id__c FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).records,
      (r) => r.length === 1, 120_000);
    assert.equal(opp[0].Account?.Shop_Customer_Id__c, ext(customer));
    await eventually(async () => (await sf.query(`SELECT Id FROM OpportunityLineItem WHERE OpportunityId = '${opp[0].Id}'`)).totalSize, (n) => n === 2, 60_000);
    const after = await pipeline.metrics();
    const pendingRetries = (text: string) => metric(text, 'shopforce_retries_total\\{processor="sf-sink",error_class="pending"\\}') || 0;
    assert.ok(pendingRetries(after) > pendingRetries(before), 'the parked order was handed back and read again from its offset');
    const kafka = testKafka(stack.kafka.brokers);
    await runtimeEventually(() => groupCaughtUp(kafka, `${config.kafka.groupIdPrefix}.sf-sink`, `${config.kafka.topicNamespace}.sync.out.salesforce`),
      'the Salesforce sink committed every command, the retried order included (no lag)', 60_000);
    assert.equal(letterFor(await allDeadLetters(), 'Opportunity', ext(order)), undefined, 'the retried order never went to the DLQ');
  });

  test('with the daily API quota nearly spent the sink slows down, says so, and still writes', async () => {
    // 9 % of the allowance left, under the 10 % reserve of the example config
    t.sb.admin.setQuota({ max: 100_000, used: 91_000 });
    try {
      const customer = `C-${run}-QUOTA`;
      const order = `O-${run}-QUOTA`;
      await insertOrder(customer, order, null);
      await eventually(async () => (await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).totalSize, (n) => n === 1, 120_000, 1_000);
      await eventually(async () => pipeline.output(), (out) => out.includes('Salesforce daily API quota under the reserve: slowing down the sink'), 30_000);
      const remaining = metric(await pipeline.metrics(), 'shopforce_sf_sink_quota_remaining_percent');
      assert.ok(remaining < config.sink.quotaReservePercent, `the quota gauge shows the low quota: ${remaining} %`);
    } finally {
      t.sb.admin.setQuota({ used: 0 });
    }
  });
});
