import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import type { SalesforceWrite } from '../../src/entities/types.ts';
import { startPipeline, type Pipeline } from '../../src/run/pipeline.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { getTestStack } from '../support/stack.ts';
import { waitForCommands } from '../support/commands.ts';
import { skipShopHistory, testPipelineConfig } from '../support/pipeline.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';

// The shop half of the pipeline on the real stack: rows written in the shop database travel through
// Debezium, the router and the reconciler, and come out as Salesforce write commands (Avro) in
// parent-first order — before any Salesforce sink is involved.
describe('shop changes become Salesforce write commands', () => {
  let stack: StackAddresses;
  let pipeline: Pipeline;
  let db: pg.Client;
  let config: ShopforceConfig;
  const run = randomUUID().slice(0, 8);
  const customer = `C-P-${run}`;
  const order = `O-P-${run}`;

  before(async () => {
    stack = await getTestStack();
    config = testPipelineConfig(stack, { SF_LOGIN_URL: 'http://127.0.0.1:9', SF_CLIENT_ID: 'unused', SF_USERNAME: 'unused', SF_PRIVATE_KEY_PATH: '/unused' });
    await skipShopHistory(config);
    pipeline = await startPipeline(config);
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await pipeline?.stop();
  });

  test('a customer and an order with three lines → Account, Contact, Opportunity and three line items', async () => {
    await db.query('begin');
    await db.query(`insert into customers (customer_number, email, first_name, last_name) values ($1, $2, 'Grace', 'Hopper')`, [customer, `grace.${run}@example.com`]);
    await db.query(`insert into orders (order_number, customer_number, status, currency, total_amount) values ($1, $2, 'pending', 'EUR', 59.97)`, [order, customer]);
    for (const n of [1, 2, 3]) {
      await db.query(
        `insert into order_lines (order_number, line_number, sku, product_name, quantity, unit_price, line_total) values ($1, $2, $3, 'Mug', 1, 19.99, 19.99)`,
        [order, n, `SKU-${n}`],
      );
    }
    await db.query('commit');

    const wanted = new Set([`shop-1|${customer}`, `shop-1|${order}`]);
    // the external ids we write carry the shop: <shop>|<order>|<line>, <shop>|<customer>
    const lineIds = [1, 2, 3].map((n) => `shop-1|${order}|${n}`);
    const commands = await waitForCommands(stack, `${config.kafka.topicNamespace}.sync.out.salesforce`, (m) => wanted.has(m.key ?? ''), (cmds: SalesforceWrite[]) =>
      cmds.filter((c) => c.sobject === 'Contact').length >= 1 && lineIds.every((id) => cmds.some((c) => c.externalId === id)));
    const customerCmds = commands.filter((c) => c.key === `shop-1|${customer}`);
    assert.deepEqual(customerCmds.map((c) => c.sobject), ['Account', 'Contact']);
    assert.equal(customerCmds[1]!.fields.Email, `grace.${run}@example.com`);
    assert.equal(customerCmds[0]!.externalId, `shop-1|${customer}`);

    const orderCmds = commands.filter((c) => c.key === `shop-1|${order}`);
    // the order row and each line are separate row changes, routed onto the order's key: the
    // Opportunity is commanded before any of its line items, and every line gets its line item
    assert.equal(orderCmds[0]!.sobject, 'Opportunity');
    const lineCmds = orderCmds.filter((c) => c.sobject === 'OpportunityLineItem');
    assert.deepEqual([...new Set(lineCmds.map((c) => c.externalId))].sort(), lineIds);
    assert.equal(orderCmds[0]!.fields.StageName, 'Prospecting');
    assert.equal(orderCmds[0]!.fields.Amount, '59.97', 'money stays an exact decimal string');
    assert.ok(orderCmds[0]!.decimalFields.includes('Amount'));
    assert.ok(lineCmds.every((c) => c.pricebookEntry?.sku?.startsWith('SKU-')), 'line items resolve their price book entry by SKU');
  });
});
