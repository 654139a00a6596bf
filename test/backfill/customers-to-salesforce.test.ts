/**
 * Shop -> Salesforce backfill at size (the heavier test: a few minutes): 100,000 customers with their
 * addresses, seeded in the shop, backfilled into a fresh org with Bulk API 2.0 — at most 20 API calls
 * for the data, every customer's Account and Contact present once, every record handed over to the
 * reconciler.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Connection } from 'jsforce';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { SchemaCatalogClient } from '../../src/avro/registry.ts';
import { bulkQueryPages } from '../../src/salesforce/bulk-query.ts';
import { oneOffCallPolicy } from '../../src/salesforce/bulk-call.ts';
import { lineProgress, runBackfill } from '../../src/backfill/index.ts';
import { fetchTopicOffsetsSettled } from '../../src/kafka/topics.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { lazyConnection } from '../../src/run/salesforce-stages.ts';
import { seedShop } from '../../src/shop/seed/index.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { sandboxEnv } from '../support/pipeline-process.ts';
import { getTestStack } from '../support/stack.ts';

const CUSTOMERS = 100_000;

let stack: StackAddresses;
let t: TestSandbox;
let sf: Connection;
let pool: pg.Pool;
const shopId = `bfc-${randomUUID().slice(0, 6)}`;

before(async () => {
  stack = await getTestStack();
  t = await startTestSandbox();
  sf = await jwtConnection(t.sb);
  sf.bulk2.pollTimeout = 300_000;
  pool = new pg.Pool({ connectionString: stack.postgres.url, max: 2 });
  await seedShop(stack.postgres.url, { shopId, customers: CUSTOMERS, products: 0, warehouses: 0, orders: 0 }, undefined, ['customers', 'addresses']);
});

after(async () => {
  // the 100,000 rows of this run's shop leave the shared database (their addresses go with them)
  await pool?.query('DELETE FROM customers WHERE shop_id = $1', [shopId]).catch(() => undefined);
  await pool?.end();
  await t?.cleanup();
});

test('100,000 customers backfilled into the org: at most 20 API calls for the data, each Account and Contact once, all handed over', async (ctx) => {
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = shopId;
    c.salesforce.apiVersion = '60.0';
  });
  t.sb.admin.resetCounters();
  const lines: string[] = [];
  const report = await runBackfill({
    config, pool, log: createLogger('test-backfill', 'warn'), registry: new SchemaCatalogClient(config.registry.url), conn: lazyConnection(config),
    kafka: new Kafka({ brokers: config.kafka.brokers, clientId: 'test-backfill', logLevel: logLevel.NOTHING }),
    progress: (label) => lineProgress(label, (l) => lines.push(l), 2_000),
  }, { entity: 'customer', to: 'salesforce', since: null });
  const counters = t.sb.admin.counters();
  ctx.diagnostic(`${report.records} customers in ${(report.ms / 1000).toFixed(1)} s (${Math.round(report.records / (report.ms / 1000))}/s); ${report.apiCalls} API calls ${JSON.stringify(report.callsByOperation)}; emulator: ${JSON.stringify(counters.byApi)}`);
  ctx.diagnostic(lines.join('\n'));

  assert.equal(report.state, 'done');
  assert.equal(report.records, CUSTOMERS);
  assert.equal(report.deadLetters, 0);
  assert.ok((counters.byApi.bulk ?? 0) <= 20, `${counters.byApi.bulk} Bulk API calls for the data`);
  assert.deepEqual(Object.keys(counters.writesByApi), ['bulk'], 'every record went through Bulk API 2.0');
  assert.deepEqual(Object.fromEntries(Object.entries(counters.writesByApi.bulk!).map(([o, c]) => [o, c.written])), { Account: CUSTOMERS, Contact: CUSTOMERS });

  // each customer once: one Account and one Contact per customer number, under its own Account
  // read page by page, as the product does: jsforce's bulk2.query() mis-parses results of several pages
  const everything = async (soql: string) => {
    const rows: Array<Record<string, string>> = [];
    for await (const page of bulkQueryPages(sf, oneOffCallPolicy(sf, createLogger('test-backfill', 'warn')), soql, { pageSize: 50_000, pollIntervalMs: 500, pollTimeoutMs: 300_000 })) rows.push(...page);
    return rows;
  };
  const accounts = await everything('SELECT Shop_Customer_Id__c FROM Account');
  const contacts = await everything('SELECT Shop_Customer_Id__c, Account.Shop_Customer_Id__c FROM Contact');
  const numbers = (await pool.query<{ n: string }>('SELECT customer_number AS n FROM customers WHERE shop_id = $1', [shopId])).rows.map((r) => `${shopId}|${r.n}`).sort();
  assert.equal(accounts.length, CUSTOMERS);
  assert.deepEqual(accounts.map((a) => a.Shop_Customer_Id__c).sort(), numbers);
  assert.equal(contacts.length, CUSTOMERS);
  assert.ok(contacts.every((c) => c['Account.Shop_Customer_Id__c'] === c.Shop_Customer_Id__c), 'each Contact under its customer\'s Account');

  // every customer row and address row handed over to the reconciler, once
  const rows = (await pool.query<{ n: string }>('SELECT (SELECT count(*) FROM customers WHERE shop_id = $1) + (SELECT count(*) FROM addresses WHERE shop_id = $1) AS n', [shopId])).rows[0]!.n;
  const admin = new Kafka({ brokers: stack.kafka.brokers, clientId: 'test', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const offsets = await fetchTopicOffsetsSettled(admin, `${config.kafka.topicNamespace}.sync.in.customer`).finally(() => admin.disconnect());
  assert.equal(offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0), Number(rows));
});
