import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { sandboxEnv, startPipelineProcess, untilDoneOrIdle, type PipelineProcess } from '../support/pipeline-process.ts';

const CUSTOMERS = 4_000;
const PER_STATEMENT = 500;

// `shopforce run` is down (maintenance, a crash) while the shop keeps working; started again, it
// catches up on the backlog: each reconciler partition then reads big batches at once.
describe('catching up after downtime', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let pipeline: PipelineProcess;
  /** External ids in the org start with the shop id (the example config's shop, the rows' default). */
  let shopId: string;
  const run = randomUUID().slice(0, 6).toUpperCase();

  before(async () => {
    stack = await getTestStack();
    t = await startTestSandbox();
    sf = await jwtConnection(t.sb);
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.salesforce.apiVersion = '60.0';
    });
    shopId = config.shopId;
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  test(`${CUSTOMERS.toLocaleString('en')} customers created while the pipeline was stopped all reach Salesforce after its restart`, async (ctx) => {
    assert.equal(await pipeline.stop(), 0);
    for (let from = 0; from < CUSTOMERS; from += PER_STATEMENT) {
      const rows = Array.from({ length: Math.min(PER_STATEMENT, CUSTOMERS - from) }, (_, k) => from + k);
      await db.query(
        `insert into customers (customer_number, email, first_name, last_name, phone)
         select 'B-${run}-' || n, 'b' || n || '.${run.toLowerCase()}@example.com', 'Charles', 'Babbage ' || n, '+44 20 7946 ' || lpad(n::text, 4, '0')
         from unnest($1::int[]) as n`, [rows]);
    }
    await pipeline.restart();
    const started = Date.now();
    const accounts = await untilDoneOrIdle(
      async () => (await sf.query(`SELECT COUNT() FROM Account WHERE Shop_Customer_Id__c LIKE '${shopId}|B-${run}-%'`)).totalSize, CUSTOMERS);
    ctx.diagnostic(`${accounts} Accounts ${Math.round((Date.now() - started) / 1000)} s after the restart`);
    const stuck = pipeline.output().match(/.*MESSAGE_TOO_LARGE.*transaction aborted.*/)?.[0];
    assert.equal(accounts, CUSTOMERS, `every customer has its Account${stuck ? ` (the pipeline logged: ${stuck.slice(0, 400)})` : ''}`);
    // Contacts are written after their Accounts (parents first): they may still be on their way
    const contacts = await untilDoneOrIdle(
      async () => (await sf.query(`SELECT COUNT() FROM Contact WHERE Shop_Customer_Id__c LIKE '${shopId}|B-${run}-%'`)).totalSize, CUSTOMERS, 30_000);
    assert.equal(contacts, CUSTOMERS);
  });
});
