/**
 * Invoices made in the org (by a billing integration) reach the shop: `shopforce run` (a child process)
 * against the real stack and the emulator. The invoice is placed on the shop order its Opportunity is
 * for; status and paid amount follow; a voided invoice is void in the shop.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { eventually } from '../support/eventually.ts';
import { collectMessages } from '../support/kafka.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { sandboxEnv, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';
import { getTestStack } from '../support/stack.ts';

interface ShopInvoice {
  order_number: string | null; status: string; currency: string; total_amount: string; tax_amount: string; net_amount: string;
  paid_amount: string; issued_at: string | null; due_date: string | null;
}

describe('invoices, from the org to the shop', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let billing: Connection;
  let db: pg.Client;
  let config: ShopforceConfig;
  let pipeline: PipelineProcess;
  let opportunityId: string;
  let invoiceId: string;
  const shopId = `inv-${randomUUID().slice(0, 6)}`;
  const number = `INV-${shopId}-1`;

  const shopInvoice = async (invoiceNumber = number) => (await db.query<ShopInvoice>(
    `SELECT order_number, status, currency, total_amount::text, tax_amount::text, net_amount::text, paid_amount::text,
            to_char(issued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS issued_at, to_char(due_date, 'YYYY-MM-DD') AS due_date
       FROM invoices WHERE shop_id = $1 AND invoice_number = $2`, [shopId, invoiceNumber])).rows[0];

  before(async () => {
    stack = await getTestStack();
    t = await startTestSandbox();
    // the billing system is another integration: its writes are no echo of ours
    billing = await jwtConnection(t.sb);
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.shopId = shopId;
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
      c.entities.product.enabled = false;
      c.entities.invoice.enabled = true;
    });
    pipeline = await startPipelineProcess(config);
    // an order of the shop, in the org as an Opportunity
    await db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, 'C-1', 'grace@example.com', 'Grace', 'Billed')`, [shopId]);
    await db.query(`INSERT INTO orders (shop_id, order_number, customer_number, status, subtotal_amount, total_amount) VALUES ($1, 'O-1', 'C-1', 'paid', 119, 119)`, [shopId]);
    const opp = await eventually(async () => (await billing.query<{ Id: string }>(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${shopId}|O-1'`)).records[0], (o) => !!o, 90_000);
    opportunityId = opp!.Id;
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  test('create: an invoice on the order\'s Opportunity appears in the shop on that order, net + tax = total', async () => {
    const res = await billing.sobject('Invoice__c').create({
      Invoice_Number__c: number, Opportunity__c: opportunityId, Amount__c: 119, Tax_Amount__c: 19, Paid_Amount__c: 0,
      Currency__c: 'EUR', Status__c: 'Issued', Issued_Date__c: '2026-11-27', Due_Date__c: '2026-12-11', Pdf_Url__c: 'https://billing.example.com/1.pdf',
    } as any) as unknown as { id: string; success: boolean };
    assert.ok(res.success);
    invoiceId = res.id;
    const row = await eventually(() => shopInvoice(), (r) => !!r, 60_000);
    assert.deepEqual(row, {
      order_number: 'O-1', status: 'issued', currency: 'EUR', total_amount: '119.00', tax_amount: '19.00', net_amount: '100.00',
      paid_amount: '0.00', issued_at: '2026-11-27T00:00:00Z', due_date: '2026-12-11',
    });
  });

  test('update: payment recorded in the org -> the shop invoice is paid, with the paid amount', async () => {
    await billing.sobject('Invoice__c').update({ Id: invoiceId, Paid_Amount__c: 119, Status__c: 'Paid' } as any);
    const row = await eventually(() => shopInvoice(), (r) => r?.status === 'paid', 60_000);
    assert.deepEqual([row!.status, row!.paid_amount, row!.total_amount], ['paid', '119.00', '119.00']);
  });

  test('void: an invoice voided in the org is void in the shop', async () => {
    await billing.sobject('Invoice__c').update({ Id: invoiceId, Status__c: 'Void' } as any);
    const row = await eventually(() => shopInvoice(), (r) => r?.status === 'void', 60_000);
    assert.deepEqual([row!.status, row!.order_number, row!.total_amount], ['void', 'O-1', '119.00']);
  });

  test('an invoice on an Opportunity that is no shop order goes to the dead-letter topic, saying so', async () => {
    const other = await billing.sobject('Opportunity').create({ Name: 'Consulting deal', StageName: 'Prospecting', CloseDate: '2026-12-31' } as any) as unknown as { id: string };
    await billing.sobject('Invoice__c').create({ Invoice_Number__c: `${number}-X`, Opportunity__c: other.id, Amount__c: 10, Currency__c: 'EUR', Status__c: 'Issued' } as any);
    // (the Opportunity itself is no shop order either: the order flow dead-letters it too)
    const [dead] = await collectMessages(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sync.dlq`], {
      match: (m) => /Invoice__c/.test(m.headers['dlq.reason'] ?? ''), until: (all) => all.length > 0, timeoutMs: 60_000,
    });
    assert.match(dead?.headers['dlq.reason'] ?? '', /Invoice__c\.Opportunity__c -> Opportunity\.Shop_Order_Id__c/);
    assert.equal(await shopInvoice(`${number}-X`), undefined);
  });
});
