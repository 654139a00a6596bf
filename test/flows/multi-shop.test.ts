/**
 * Several shops, one org (docs/design.md): two pipelines, each with its own shop id, sync into the same
 * Salesforce org. Both shops have a customer with the same customer number; every external id carries
 * the shop id, so they become two Accounts, and each shop's edits touch only its own.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { restParentLookup } from '../../src/processors/router.ts';
import type { AuditEvent } from '../../src/reconcile/audit.ts';
import { startPipeline, type Pipeline } from '../../src/run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../src/run/salesforce-stages.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { skipShopHistory, testPipelineConfig } from '../support/pipeline.ts';
import { sandboxEnv } from '../support/pipeline-process.ts';
import { getTestStack } from '../support/stack.ts';

interface AccountRow { Id: string; Shop_Customer_Id__c: string; Shop_Id__c: string; Name: string; SystemModstamp: string }

let stack: StackAddresses;
let t: TestSandbox;
let sf: Connection;
let db: pg.Client;
const run = randomUUID().slice(0, 6);
const shops = [`ma-${run}`, `mb-${run}`];
const configs: ShopforceConfig[] = [];
const pipelines: Pipeline[] = [];
const CUSTOMER = 'C-0000001';

const accounts = async () => (await sf.query<AccountRow>(
  `SELECT Id, Shop_Customer_Id__c, Shop_Id__c, Name, SystemModstamp FROM Account WHERE Shop_Customer_Id__c LIKE '%|${CUSTOMER}' ORDER BY Shop_Id__c`)).records;

before(async () => {
  stack = await getTestStack();
  t = await startTestSandbox();
  sf = await jwtConnection(t.sb);
  db = new pg.Client({ connectionString: stack.postgres.url });
  await db.connect();
  for (const shopId of shops) {
    const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.shopId = shopId;
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
      for (const e of ['order', 'product'] as const) c.entities[e].enabled = false;
    });
    const conn = lazyConnection(config);
    await skipShopHistory(config);
    configs.push(config);
    pipelines.push(await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) }));
  }
});

after(async () => {
  for (const p of pipelines) await p.stop();
  await db?.end();
  await t?.cleanup();
});

test('two shops, one org: the same customer number gives two Accounts, and each shop\'s edit touches only its own', async () => {
  for (const [i, shopId] of shops.entries()) {
    await db.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, $4, 'Lee')`,
      [shopId, CUSTOMER, `lee.${run}.${i}@example.com`, i === 0 ? 'Ann' : 'Bob']);
  }
  const both = await eventually(accounts, (a) => a.length === 2, 120_000);
  assert.deepEqual(both.map((a) => [a.Shop_Customer_Id__c, a.Shop_Id__c, a.Name]), [
    [`${shops[0]}|${CUSTOMER}`, shops[0], 'Ann Lee'],
    [`${shops[1]}|${CUSTOMER}`, shops[1], 'Bob Lee'],
  ]);
  const contacts = await eventually(async () => (await sf.query<{ Shop_Customer_Id__c: string; Account: { Shop_Id__c: string } }>(
    `SELECT Shop_Customer_Id__c, Account.Shop_Id__c FROM Contact WHERE Shop_Customer_Id__c LIKE '%|${CUSTOMER}' ORDER BY Shop_Customer_Id__c`)).records,
  (c) => c.length === 2, 60_000);
  assert.deepEqual(contacts.map((c) => [c.Shop_Customer_Id__c, c.Account.Shop_Id__c]), shops.map((s) => [`${s}|${CUSTOMER}`, s]), 'each Contact under its own shop\'s Account');

  // shop A renames its customer: A's Account follows, B's is not written at all
  const bBefore = both[1]!;
  await db.query(`UPDATE customers SET company_name = 'Lee Lamps' WHERE shop_id = $1 AND customer_number = $2`, [shops[0], CUSTOMER]);
  const after = await eventually(accounts, (a) => a[0]?.Name === 'Lee Lamps', 60_000);
  assert.equal(after[1]!.Name, 'Bob Lee');
  assert.equal(after[1]!.SystemModstamp, bBefore.SystemModstamp, 'shop B\'s Account was not written');

  // a person changes B's Contact e-mail in the org (the shop owns it): only B's pipeline sees a conflict and writes it back
  const bContact = (await sf.query<{ Id: string }>(`SELECT Id FROM Contact WHERE Shop_Customer_Id__c = '${shops[1]}|${CUSTOMER}'`)).records[0]!;
  t.sb.admin.userEdit({ object: 'Contact', id: bContact.Id, fields: { Email: 'someone.else@example.com' } });
  await eventually(async () => (await sf.query<{ Email: string }>(`SELECT Email FROM Contact WHERE Id = '${bContact.Id}'`)).records[0]?.Email,
    (e) => e === `lee.${run}.1@example.com`, 60_000);

  const auditOf = (i: number) => waitForCommands<AuditEvent>(stack, `${configs[i]!.kafka.topicNamespace}.sync.audit`, () => true,
    (events) => events.some((e) => e.key === `${shops[i]}|${CUSTOMER}` && e.stage === 'DECISION' && e.origin === 'SALESFORCE'), 60_000);
  const [auditA, auditB] = [await auditOf(0), await auditOf(1)];
  assert.deepEqual([...new Set(auditA.map((e) => e.key))], [`${shops[0]}|${CUSTOMER}`], 'pipeline A decided only about shop A\'s customer');
  assert.deepEqual([...new Set(auditB.map((e) => e.key))], [`${shops[1]}|${CUSTOMER}`], 'pipeline B decided only about shop B\'s customer');
  assert.deepEqual(auditA.filter((e) => e.decision === 'CONFLICT').map((e) => e.message), [], 'shop A saw no conflict');
  assert.equal(auditB.filter((e) => e.decision === 'CONFLICT').length, 1, 'shop B saw the e-mail change as one conflict');
});
