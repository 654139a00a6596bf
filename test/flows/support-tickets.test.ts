/**
 * Support tickets, both ways, against the real stack and the emulator: a shop ticket becomes a Case
 * linked to its customer's Contact and to its order's Opportunity; an agent closing the Case (a person's
 * edit, changeOrigin '') moves the shop ticket's status; an agent editing the Subject, which the shop
 * owns, is a conflict: audited, alerted and the shop's subject written back.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { AuditEvent } from '../../src/reconcile/audit.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { collectMessages } from '../support/kafka.ts';
import { sandboxEnv, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';

interface CaseRow { Id: string; Subject: string; Description: string | null; Status: string; Priority: string; Origin: string; ContactId: string | null; AccountId: string | null; Order__c: string | null }

describe('support tickets: shop -> Case, the status back', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let config: ShopforceConfig;
  let pipeline: PipelineProcess;
  const shopId = `tkt-${randomUUID().slice(0, 6)}`;
  const tag = shopId.slice(4).toUpperCase();
  const customer = `C-${tag}`;
  const order = `O-${tag}`;
  const ticket = `T-${tag}-1`;

  const caseOf = async (ticketId: string) => (await sf.query<CaseRow>(
    `SELECT Id, Subject, Description, Status, Priority, Origin, ContactId, AccountId, Order__c FROM Case WHERE Shop_Ticket_Id__c = '${shopId}|${ticketId}'`)).records[0];
  const shopTicket = async (ticketId: string) => (await db.query<{ subject: string; status: string; description: string }>(
    'SELECT subject, status, description FROM support_tickets WHERE shop_id = $1 AND ticket_number = $2', [shopId, ticketId])).rows[0];
  // the external ids we write carry the shop: "<shop>|<number>"
  const idOf = async (object: string, field: string, value: string) => (await sf.query<{ Id: string }>(`SELECT Id FROM ${object} WHERE ${field} = '${shopId}|${value}'`)).records[0]?.Id;

  before(async () => {
    stack = await getTestStack();
    t = await startTestSandbox();
    sf = await jwtConnection(t.sb);
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.shopId = shopId;
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
      c.entities.product.enabled = false; // the tickets' orders have no lines: no catalogue needed
      c.entities.support_ticket.enabled = true;
    });
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  test('a ticket becomes a Case linked to the customer\'s Contact and the order\'s Opportunity', async () => {
    // the customer, the order and the ticket in one go: the Case waits for its parents to land
    await db.query('BEGIN');
    await db.query("INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Ada', 'Lovelace')", [shopId, customer, `${tag.toLowerCase()}@example.com`]);
    await db.query("INSERT INTO orders (shop_id, order_number, customer_number, status, total_amount) VALUES ($1, $2, $3, 'paid', 19.90)", [shopId, order, customer]);
    await db.query(`INSERT INTO support_tickets (shop_id, ticket_number, customer_number, order_number, subject, description, status, priority, channel)
      VALUES ($1, $2, $3, $4, 'Mug arrived broken', 'The handle came off.', 'open', 'urgent', 'chat')`, [shopId, ticket, customer, order]);
    await db.query('COMMIT');
    const c = await eventually(() => caseOf(ticket), (x) => !!x && !!x.ContactId && !!x.Order__c, 120_000);
    assert.deepEqual([c!.Subject, c!.Description, c!.Status, c!.Priority, c!.Origin], ['Mug arrived broken', 'The handle came off.', 'Working', 'High', 'Web'],
      'open -> Working, urgent -> High, chat -> Web');
    assert.equal(c!.ContactId, await idOf('Contact', 'Shop_Customer_Id__c', customer));
    assert.equal(c!.AccountId, await idOf('Account', 'Shop_Customer_Id__c', customer));
    assert.equal(c!.Order__c, await idOf('Opportunity', 'Shop_Order_Id__c', order));
    // our own Case coming back changes nothing in the shop
    await new Promise((r) => setTimeout(r, 2_000));
    assert.deepEqual(await shopTicket(ticket), { subject: 'Mug arrived broken', status: 'open', description: 'The handle came off.' });
  });

  test('the shop edits the description: the Case follows', async () => {
    await db.query("UPDATE support_tickets SET description = 'The handle came off; photo attached.' WHERE shop_id = $1 AND ticket_number = $2", [shopId, ticket]);
    await eventually(() => caseOf(ticket), (c) => c?.Description === 'The handle came off; photo attached.', 60_000);
  });

  test('an agent closes the Case: the shop ticket is closed', async () => {
    t.sb.admin.userEdit({ object: 'Case', externalId: { field: 'Shop_Ticket_Id__c', value: `${shopId}|${ticket}` }, fields: { Status: 'Closed' } });
    const row = await eventually(() => shopTicket(ticket), (r) => r?.status === 'closed', 60_000);
    assert.equal(row!.subject, 'Mug arrived broken', 'only the status moved');
  });

  test('an agent edits the Subject, which the shop owns: a conflict, alerted, and the shop\'s subject written back', async () => {
    t.sb.admin.userEdit({ object: 'Case', externalId: { field: 'Shop_Ticket_Id__c', value: `${shopId}|${ticket}` }, fields: { Subject: 'Customer is angry' } });
    const audit = await waitForCommands<AuditEvent>(stack, `${config.kafka.topicNamespace}.sync.audit`, () => true,
      (events) => events.some((e) => e.key === `${shopId}|${ticket}` && e.decision === 'CONFLICT'), 60_000);
    const conflict = audit.find((e) => e.key === `${shopId}|${ticket}` && e.decision === 'CONFLICT')!;
    assert.deepEqual([conflict.origin, conflict.conflictFields, conflict.policy, conflict.alert], ['SALESFORCE', ['subject'], 'reassert-master', true]);
    await eventually(() => caseOf(ticket), (c) => c?.Subject === 'Mug arrived broken', 60_000);
    assert.equal((await shopTicket(ticket))!.subject, 'Mug arrived broken', 'the shop keeps its subject');
    const metrics = await pipeline.metrics();
    assert.match(metrics, /shopforce_reconcile_alerts_total\{entity="support_ticket",kind="conflict"\} [1-9]/);
    assert.equal((await caseOf(ticket))!.Status, 'Closed', 'the agent\'s status stays');
  });

  test('a ticket about no order gets a Case with no Opportunity; a Case made in Salesforce for no shop ticket is left alone', async () => {
    const second = `T-${tag}-2`;
    await db.query("INSERT INTO support_tickets (shop_id, ticket_number, customer_number, subject, status, priority, channel) VALUES ($1, $2, $3, 'Invoice address', 'resolved', 'low', 'email')", [shopId, second, customer]);
    const c = await eventually(() => caseOf(second), (x) => !!x, 60_000);
    assert.deepEqual([c!.Status, c!.Priority, c!.Origin, c!.Order__c], ['Closed', 'Low', 'Email', null]);
    await sf.sobject('Case').create({ Subject: 'Phone call', Status: 'New', Origin: 'Phone' });
    await new Promise((r) => setTimeout(r, 3_000));
    // resolved -> Closed came back as our own write: the shop keeps "resolved"
    assert.equal((await shopTicket(second))!.status, 'resolved');
    const dead = await collectMessages(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sync.dlq`], { until: () => false, timeoutMs: 3_000, raw: true });
    assert.deepEqual(dead.map((m) => m.headers['dlq.reason']), [], 'nothing dead-lettered');
  });
});
