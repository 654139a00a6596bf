import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { sandboxEnv, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';
import { createPricedProducts } from '../support/catalogue.ts';

const CHANGES = 500;
const PRODUCTS = 5;

interface AuditRecord { key: string; origin: string | null; decision: string | null; sourcePosition: string | null }

// 500 price edits by people in Salesforce while `shopforce run` is stopped (SIGTERM) and killed
// (SIGKILL) and started again: the shop ends with Salesforce's last price of every product, and
// no Salesforce change is applied twice (a replay after the restart is a DUPLICATE).
describe('crash safety: the Salesforce source restarted across 500 price changes', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let config: ShopforceConfig;
  let pipeline: PipelineProcess;
  const run = randomUUID().slice(0, 6).toUpperCase();
  const skus = Array.from({ length: PRODUCTS }, (_, i) => `P${run}-${i}`);
  const entryIds: string[] = [];

  const shopPrices = async () => {
    const rows = (await db.query<{ sku: string; price: string }>('SELECT sku, price::text AS price FROM products WHERE sku = ANY($1)', [skus])).rows;
    return Object.fromEntries(rows.map((r) => [r.sku, r.price]));
  };

  before(async () => {
    stack = await getTestStack();
    t = await startTestSandbox();
    sf = await jwtConnection(t.sb);
    entryIds.push(...(await createPricedProducts(sf, skus.map((sku) => ({ sku, name: `Plate ${sku}`, price: 5 })))));
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
      c.salesforce.apiVersion = '60.0';
      c.sink.lingerMs = 100;
    });
    pipeline = await startPipelineProcess(config);
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  test('every product ends with Salesforce\'s last price, and no Salesforce change is applied twice', async (ctx) => {
    await eventually(shopPrices, (p) => skus.every((s) => p[s] === '5.00'), 90_000);

    const last = new Map<string, string>();
    const edit = (i: number) => {
      const p = i % PRODUCTS;
      const cents = 2_000 + i;
      t.sb.admin.userEdit({ object: 'PricebookEntry', id: entryIds[p]!, fields: { UnitPrice: cents / 100 } });
      last.set(skus[p]!, (cents / 100).toFixed(2));
    };
    const pause = () => new Promise((r) => setTimeout(r, 25));
    const exits: Array<number | null> = [];
    for (let i = 0; i < CHANGES; i++) {
      if (i === 150) exits.push(await pipeline.stop());
      if (i === 250) await pipeline.restart();
      if (i === 350) exits.push(await pipeline.kill('SIGKILL'));
      if (i === 420) await pipeline.restart();
      edit(i);
      await pause();
    }
    assert.deepEqual(exits, [0, null], 'SIGTERM ends the process cleanly (exit 0), SIGKILL kills it');

    const want = Object.fromEntries(skus.map((s) => [s, last.get(s)!]));
    const sfPrices = await sf.query<{ UnitPrice: number; Product2: { Sku__c: string } }>(
      `SELECT UnitPrice, Product2.Sku__c FROM PricebookEntry WHERE Product2.Sku__c LIKE 'P${run}-%'`);
    assert.deepEqual(Object.fromEntries(sfPrices.records.map((r) => [r.Product2.Sku__c, r.UnitPrice.toFixed(2)])), want, 'the emulator holds the last edits');
    await eventually(shopPrices, (p) => skus.every((s) => p[s] === want[s]), 180_000, 500);
    assert.deepEqual(await shopPrices(), want);

    const keys = new Set(skus.map((s) => `${config.shopId}|${s}`));
    const salesforceDecisions = (all: AuditRecord[]) => all.filter((a) => a.origin === 'SALESFORCE' && a.decision !== null);
    const audits = await waitForCommands<AuditRecord>(stack, `${config.kafka.topicNamespace}.sync.audit`, (m) => keys.has(m.key ?? ''),
      (all) => new Set(salesforceDecisions(all).map((a) => a.sourcePosition)).size >= CHANGES, 120_000);
    const decisions = salesforceDecisions(audits);
    const applies = new Map<string, number>();
    for (const a of decisions.filter((d) => d.decision === 'APPLY')) applies.set(a.sourcePosition ?? '', (applies.get(a.sourcePosition ?? '') ?? 0) + 1);
    const twice = [...applies].filter(([, n]) => n > 1).map(([pos, n]) => `${pos} ×${n}`);
    const byDecision = Object.fromEntries(['APPLY', 'DUPLICATE', 'NOOP', 'ECHO', 'CONFLICT'].map((d) => [d, decisions.filter((a) => a.decision === d).length]));
    ctx.diagnostic(`Salesforce decisions on the ${PRODUCTS} products: ${JSON.stringify(byDecision)}; distinct positions applied ${applies.size}`);
    assert.deepEqual(twice, [], 'no Salesforce source position applied twice');
    assert.ok(applies.size >= CHANGES, `every price change applied once: ${applies.size} positions applied for ${CHANGES} edits`);
  });
});
