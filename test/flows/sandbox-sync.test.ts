import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { externalIdOf } from '../../src/entities/keys.ts';
import { salesforcePosition } from '../../src/flows/routed-change.ts';
import { startPipeline, type Pipeline } from '../../src/run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../src/run/salesforce-stages.ts';
import { restParentLookup } from '../../src/processors/router.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { skipShopHistory, testPipelineConfig } from '../support/pipeline.ts';
import { waitForCommands } from '../support/commands.ts';
import { collectThroughSentinel, topicEnds } from '../support/kafka.ts';
import { eventually } from '../support/eventually.ts';
import { createPricedProducts } from '../support/catalogue.ts';

// The whole pipeline on the real stack against the Salesforce emulator: the flows of the issue,
// observed where a user would look — the emulator's records and the shop's rows.
describe('sync between the shop and the sandbox org', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let config: ShopforceConfig;
  let pipeline: Pipeline;
  const run = randomUUID().slice(0, 6).toUpperCase();
  const skus = ['A', 'B', 'C'].map((s) => `T${run}-${s}`);
  const customer = `C-${run}`;
  const order = `O-${run}`;

  /** The external id of a record of the example config's shop (keys.ts). */
  const ext = (...parts: string[]) => externalIdOf(config.shopId, ...parts);
  const productRow = async (sku: string) => (await db.query('SELECT name, price::text AS price, active FROM products WHERE sku = $1', [sku])).rows[0];
  /** The product row the pipeline made from Salesforce's catalogue (tests after the first wait for it). */
  const syncedProduct = (i: number) => eventually(() => productRow(skus[i]!), (r) => r?.price === `${10 + i}.00`, 60_000);

  /** A shop customer and an order of one line of skus[0], synced: each test that needs one makes its own. */
  async function syncedOrder(name: string): Promise<{ customer: string; order: string; email: string; contactId: string }> {
    const customer = `C-${run}-${name}`;
    const order = `O-${run}-${name}`;
    const email = `${name.toLowerCase()}.${run.toLowerCase()}@example.com`;
    await db.query('begin');
    await db.query(`insert into customers (customer_number, email, first_name, last_name) values ($1, $2, 'Ada', 'Lovelace')`, [customer, email]);
    await db.query(`insert into orders (order_number, customer_number, status, currency, total_amount) values ($1, $2, 'pending', 'EUR', 10.00)`, [order, customer]);
    await db.query(`insert into order_lines (order_number, line_number, sku, product_name, quantity, unit_price, line_total) values ($1, 1, $2, 'Mug', 1, 10, 10)`, [order, skus[0]]);
    await db.query('commit');
    await eventually(async () => (await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).totalSize, (n) => n === 1, 60_000);
    const contact = await eventually(async () => (await sf.query<{ Id: string }>(`SELECT Id FROM Contact WHERE Shop_Customer_Id__c = '${ext(customer)}'`)).records, (r) => r.length === 1, 60_000);
    return { customer, order, email, contactId: contact[0]!.Id };
  }

  before(async () => {
    stack = await getTestStack();
    t = await startTestSandbox();
    sf = await jwtConnection(t.sb);
    // the catalogue is mastered in Salesforce: three products with standard prices
    await createPricedProducts(sf, skus.map((sku, i) => ({ sku, name: `Mug ${sku}`, price: 10 + i })));
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    config = testPipelineConfig(stack, {
      SF_LOGIN_URL: t.sb.loginUrl, SF_CLIENT_ID: t.sb.credentials.clientId, SF_USERNAME: t.sb.credentials.username,
      SF_PRIVATE_KEY_PATH: t.sb.credentials.jwtPrivateKeyPath, SF_PUBSUB_ENDPOINT: t.sb.pubSubEndpoint, SF_CA_CERT_PATH: t.sb.caCertPath,
    }, (c) => {
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
    });
    const conn = lazyConnection(config);
    await skipShopHistory(config);
    pipeline = await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) });
  });
  after(async () => {
    await pipeline?.stop();
    await db?.end();
    await t?.cleanup();
  });

  test('products and prices created in Salesforce appear in the shop', async () => {
    for (const [i, sku] of skus.entries()) {
      const row = await eventually(() => productRow(sku), (r) => r?.price === `${10 + i}.00`, 60_000);
      assert.equal(row.name, `Mug ${sku}`);
      assert.equal(row.active, true);
    }
  });

  test('a customer and an order with three lines → one Account, one Contact, one Opportunity with three line items', async () => {
    await db.query('begin');
    await db.query(`insert into customers (customer_number, email, first_name, last_name) values ($1, $2, 'Ada', 'Lovelace')`, [customer, `ada.${run.toLowerCase()}@example.com`]);
    await db.query(`insert into orders (order_number, customer_number, status, currency, total_amount) values ($1, $2, 'pending', 'EUR', 33.00)`, [order, customer]);
    for (const [i, sku] of skus.entries()) {
      await db.query(`insert into order_lines (order_number, line_number, sku, product_name, quantity, unit_price, line_total) values ($1, $2, $3, 'Mug', 1, $4, $4)`, [order, i + 1, sku, 10 + i]);
    }
    await db.query('commit');

    const opp = await eventually(
      async () => (await sf.query<any>(`SELECT Id, StageName, Amount, Account.Shop_Customer_Id__c FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).records,
      (r) => r.length === 1, 60_000);
    assert.equal(opp[0].StageName, 'Prospecting');
    assert.equal(opp[0].Account?.Shop_Customer_Id__c, ext(customer));
    const items = await eventually(
      async () => (await sf.query<any>(`SELECT Shop_Line_Id__c, Quantity, UnitPrice FROM OpportunityLineItem WHERE OpportunityId = '${opp[0].Id}'`)).records,
      (r) => r.length === 3, 60_000);
    assert.deepEqual(items.map((i) => i.Shop_Line_Id__c).sort(), skus.map((_, i) => ext(order, String(i + 1))));
    assert.equal((await sf.query(`SELECT Id FROM Account WHERE Shop_Customer_Id__c = '${ext(customer)}'`)).totalSize, 1);
    const contacts = (await sf.query<any>(`SELECT Email FROM Contact WHERE Shop_Customer_Id__c = '${ext(customer)}'`)).records;
    assert.equal(contacts.length, 1);
    assert.equal(contacts[0].Email, `ada.${run.toLowerCase()}@example.com`);
  });

  test('an e-mail changed in Salesforce (the shop is its master) is audited as a conflict and the shop\'s value re-asserted', async () => {
    const { customer, email, contactId } = await syncedOrder('MAIL');
    t.sb.admin.userEdit({ object: 'Contact', id: contactId, fields: { Email: 'someone.else@example.com' } });
    const audits = await waitForCommands<any>(stack, `${config.kafka.topicNamespace}.sync.audit`, (m) => m.key === `shop-1|${customer}`,
      (all) => all.some((a) => a.decision === 'CONFLICT'));
    assert.ok(audits.find((a) => a.decision === 'CONFLICT').conflictFields.includes('email'));
    // the sink sends the re-assertion although it equals its own last write: the record changed since
    const restored = await eventually(
      async () => (await sf.query<any>(`SELECT Email FROM Contact WHERE Id = '${contactId}'`)).records[0],
      (r) => r?.Email === email, 60_000);
    assert.equal(restored.Email, email);
  });

  test('an e-mail edited on both sides at once ends with the shop\'s value on both sides (the shop is its master)', async () => {
    const { customer, contactId } = await syncedOrder('BOTH');
    const shopValue = `both.shop.${run.toLowerCase()}@example.com`;
    // genuinely concurrent: neither edit has reached the pipeline when the other is made
    await Promise.all([
      db.query('update customers set email = $1 where customer_number = $2', [shopValue, customer]),
      Promise.resolve().then(() => t.sb.admin.userEdit({ object: 'Contact', id: contactId, fields: { Email: `both.crm.${run.toLowerCase()}@example.com` } })),
    ]);
    await eventually(async () => (await sf.query<any>(`SELECT Email FROM Contact WHERE Id = '${contactId}'`)).records[0]?.Email, (e) => e === shopValue, 60_000);
    const audits = await waitForCommands<any>(stack, `${config.kafka.topicNamespace}.sync.audit`, (m) => m.key === `shop-1|${customer}`,
      (all) => all.some((a) => a.origin === 'SALESFORCE' && a.decision === 'CONFLICT'));
    assert.ok(audits.find((a) => a.origin === 'SALESFORCE' && a.decision === 'CONFLICT').conflictFields.includes('email'));
    // and it stays so: the shop row kept its value (the CRM's value was never taken into the shop)
    assert.equal((await db.query('select email from customers where customer_number = $1', [customer])).rows[0].email, shopValue);
  });

  test('a person\'s Salesforce edit equal to a write of ours still in flight is the person\'s, not its echo', async () => {
    const { customer, contactId } = await syncedOrder('SAME');
    const value = `same.new.${run.toLowerCase()}@example.com`;
    const audit = `${config.kafka.topicNamespace}.sync.audit`;
    const contactTopic = `${config.kafka.topicNamespace}.sf.cdc.Contact`;
    const decisionsOf = async (done: (all: any[]) => boolean) => waitForCommands<any>(stack, audit, (m) => m.key === `${config.shopId}|${customer}`,
      (all) => done(all.filter((a) => a.stage === 'DECISION')));
    // Salesforce answers 30 s late the calls made until the person's edit is on Kafka: our write of the new
    // e-mail lands after the person's edit, which is made once the decision to write is on the audit topic.
    // Were our write first all the same, the order check below fails the test.
    t.sb.admin.setFaults({ latencyMs: 30_000 });
    try {
      const from = await topicEnds(stack.kafka.brokers, [audit]);
      await db.query('update customers set email = $1 where customer_number = $2', [value, customer]);
      // the decision that sends the e-mail: the key's first audit record after the update (the sink's
      // results come after its delayed calls), read as soon as it is there
      await collectThroughSentinel(stack.kafka.brokers, [audit], { from, raw: true, timeoutMs: 60_000, sentinel: (m) => m.key === `${config.shopId}|${customer}` });
      t.sb.admin.userEdit({ object: 'Contact', id: contactId, fields: { Email: value } });
      // calls made from here on come after the person's edit anyway: the latency ends once its event is on Kafka
      await collectThroughSentinel(stack.kafka.brokers, [contactTopic], { timeoutMs: 60_000, sentinel: (m) => m.key === contactId && m.headers['sf-change-origin'] === '' && m.value?.record?.Email === value });
    } finally {
      t.sb.admin.clearFaults();
    }
    // on Kafka, the person's event (change origin '') comes before our write's
    const { messages, sentinels } = await collectThroughSentinel(stack.kafka.brokers, [contactTopic], {
      sentinel: (m) => m.key === contactId && m.headers['sf-change-origin'] !== '' && m.headers['sf-change-type'] === 'UPDATE' && m.value?.record?.Email === value,
      match: (m) => m.key === contactId && m.headers['sf-change-origin'] === '' && m.value?.record?.Email === value,
      timeoutMs: 90_000,
    });
    assert.equal(messages.length, 1, 'the person\'s edit is on Kafka, before our write');
    assert.ok(Number(messages[0]!.offset) < Number(sentinels[0]!.offset));
    const personal = salesforcePosition('Contact', messages[0]!.value.position);
    const ours = salesforcePosition('Contact', sentinels[0]!.value.position);
    const decisions = await decisionsOf((all) => all.some((a) => a.sourcePosition === personal) && all.some((a) => a.sourcePosition === ours));
    const person = decisions.find((a) => a.sourcePosition === personal);
    assert.notEqual(person.decision, 'ECHO', 'the person\'s edit is not taken for our write');
    assert.equal(person.details, null, 'it acknowledges none of our writes');
    assert.equal(decisions.find((a) => a.sourcePosition === ours).decision, 'ECHO', 'our write is acknowledged by its own event');
    // both sides hold the value
    assert.equal((await sf.query<any>(`SELECT Email FROM Contact WHERE Id = '${contactId}'`)).records[0].Email, value);
    assert.equal((await db.query('select email from customers where customer_number = $1', [customer])).rows[0].email, value);
  });

  test('updating the order status moves the Opportunity stage', async () => {
    const { order } = await syncedOrder('PAID');
    await db.query(`update orders set status = 'paid' where order_number = $1`, [order]);
    const opp = await eventually(
      async () => (await sf.query<any>(`SELECT StageName FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).records[0],
      (r) => r?.StageName === 'Closed Won', 60_000);
    assert.equal(opp.StageName, 'Closed Won');
  });

  test('a price changed by a person in Salesforce updates the shop, and the shop\'s CDC of that write is not sent back', async () => {
    await syncedProduct(0);
    const entry = (await sf.query<any>(`SELECT Id, SystemModstamp FROM PricebookEntry WHERE Product2.Sku__c = '${skus[0]}'`)).records[0];
    t.sb.admin.userEdit({ object: 'PricebookEntry', id: entry.Id, fields: { UnitPrice: 24.5 } });
    await eventually(() => productRow(skus[0]!), (r) => r?.price === '24.50', 60_000);
    const stamp = (await sf.query<any>(`SELECT SystemModstamp FROM PricebookEntry WHERE Id = '${entry.Id}'`)).records[0].SystemModstamp;
    // the shop row's own change event comes back through Debezium: an echo, acknowledged, never written to Salesforce
    const audits = await waitForCommands<any>(stack, `${config.kafka.topicNamespace}.sync.audit`, (m) => m.key === `shop-1|${skus[0]}`,
      (all) => all.some((a) => a.origin === 'SHOP' && a.decision === 'ECHO'));
    assert.ok(audits.some((a) => a.origin === 'SALESFORCE' && a.decision === 'APPLY'));
    // the echo decision and any command it made are one Kafka transaction: with its audit seen, such a
    // command is on sync.out.salesforce already; the topic is read to its end (errors fail the test)
    const { messages: commands } = await collectThroughSentinel(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sync.out.salesforce`],
      { match: (m) => m.key === `shop-1|${skus[0]}`, count: 0, raw: true });
    assert.deepEqual(commands.map((m) => m.offset), [], 'no write command for the product went to Salesforce');
    assert.equal((await sf.query<any>(`SELECT SystemModstamp FROM PricebookEntry WHERE Id = '${entry.Id}'`)).records[0].SystemModstamp, stamp);
  });

  test('a price edited in the shop (not its master) is audited as a conflict and Salesforce\'s price is re-asserted', async () => {
    await syncedProduct(1);
    await db.query(`update products set price = 1.00 where sku = $1`, [skus[1]]);
    const audits = await waitForCommands<any>(stack, `${config.kafka.topicNamespace}.sync.audit`, (m) => m.key === `shop-1|${skus[1]}`,
      (all) => all.some((a) => a.decision === 'CONFLICT'));
    const conflict = audits.find((a) => a.decision === 'CONFLICT');
    assert.equal(conflict.alert, true);
    assert.deepEqual(conflict.conflictFields, ['price']);
    assert.equal(conflict.policy, 'reassert-master');
    await eventually(() => productRow(skus[1]!), (r) => r?.price === '11.00', 60_000);
    const metrics = await (await fetch(`${pipeline.health.url}/metrics`)).text();
    assert.match(metrics, /shopforce_reconcile_alerts_total\{entity="product",kind="conflict"\} [1-9]/);
  });

  test('deleting the order deletes the Opportunity (delete policy: propagate)', async () => {
    const { order } = await syncedOrder('DEL');
    await db.query(`delete from orders where order_number = $1`, [order]);
    await eventually(async () => (await sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${ext(order)}'`)).totalSize, (n) => n === 0, 60_000);
  });
});
