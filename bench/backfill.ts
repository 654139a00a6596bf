/**
 * Backfill figures: API calls, wall time and records/s of
 *  (a) shop -> Salesforce: N customers with their addresses (seeded in the shared shop database under a
 *      shop id of this run) into a fresh in-process emulator, through Bulk API 2.0;
 *  (b) Salesforce -> shop: a catalogue of P products with standard prices made in the emulator, read with
 *      Bulk API 2.0 queries and handed over to a running pipeline (product flow, in this process), until
 *      every product is in the shop with its price.
 * The seeded shop rows are deleted at the end.
 *
 *   node --import tsx bench/backfill.ts [--customers 100000] [--products 5000]
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import type { Connection } from 'jsforce';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { SchemaCatalogClient } from '../src/avro/registry.ts';
import { lineProgress, runBackfill, type BackfillReport } from '../src/backfill/index.ts';
import type { ShopforceConfig } from '../src/config/schema.ts';
import { createLogger } from '../src/observability/logger.ts';
import { restParentLookup } from '../src/processors/router.ts';
import { startPipeline } from '../src/run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../src/run/salesforce-stages.ts';
import { seedShop } from '../src/shop/seed/index.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../test/sandbox/sandbox-helpers.ts';
import { skipShopHistory, testPipelineConfig } from '../test/support/pipeline.ts';
import { sandboxEnv } from '../test/support/pipeline-process.ts';
import { getTestStack } from '../test/support/stack.ts';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '100000' }, products: { type: 'string', default: '5000' } } });
const CUSTOMERS = Number(values.customers);
const PRODUCTS = Number(values.products);
const stack = await getTestStack();
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

function configFor(t: TestSandbox, shopId: string, tune: (c: ShopforceConfig) => void = () => {}): ShopforceConfig {
  return testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = shopId;
    c.salesforce.apiVersion = '60.0';
    tune(c);
  });
}

async function backfill(config: ShopforceConfig, pool: pg.Pool | undefined, entity: string, to: 'salesforce' | 'shop'): Promise<BackfillReport> {
  return runBackfill({
    config, pool, log: createLogger('bench-backfill', 'warn'), registry: new SchemaCatalogClient(config.registry.url), conn: lazyConnection(config),
    kafka: new Kafka({ brokers: config.kafka.brokers, clientId: 'bench-backfill', logLevel: logLevel.NOTHING }),
    progress: (label) => lineProgress(label, (line) => console.log(`  ${line}`), 10_000),
  }, { entity, to, since: null });
}

function line(r: BackfillReport, what: string, emulator: Record<string, number>): string {
  const seconds = r.ms / 1000;
  return `${what}: ${r.records} records in ${seconds.toFixed(1)} s = ${Math.round(r.records / seconds)} records/s; ${r.apiCalls} Salesforce API calls ${JSON.stringify(r.callsByOperation)}; emulator calls by API ${JSON.stringify(emulator)}; ${r.handedOver} handed over, ${r.deadLetters} dead letters`;
}

console.log(`backfill: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'cpu'}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}; load avg before ${load()}`);

// (a) shop -> Salesforce
{
  const shopId = `bench-${randomUUID().slice(0, 6)}`;
  const pool = new pg.Pool({ connectionString: stack.postgres.url, max: 2 });
  const t = await startTestSandbox();
  try {
    const seeded = Date.now();
    await seedShop(stack.postgres.url, { shopId, customers: CUSTOMERS, products: 0, warehouses: 0, orders: 0 }, undefined, ['customers', 'addresses']);
    console.log(`(a) ${CUSTOMERS} customers seeded in the shop in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);
    const report = await backfill(configFor(t, shopId), pool, 'customer', 'salesforce');
    console.log(line(report, `(a) shop -> Salesforce, ${CUSTOMERS} customers (Account + Contact each, addresses on both)`, t.sb.admin.counters().byApi));
  } finally {
    await pool.query('DELETE FROM customers WHERE shop_id = $1', [shopId]).catch(() => undefined);
    await pool.end();
    await t.cleanup();
  }
}

// (b) Salesforce -> shop
{
  const t = await startTestSandbox({ cdcRetentionMs: 3_000 });
  const sf: Connection = await jwtConnection(t.sb);
  sf.bulk2.pollTimeout = 300_000;
  const db = new pg.Client({ connectionString: stack.postgres.url });
  await db.connect();
  const shopId = `bench-${randomUUID().slice(0, 6)}`;
  try {
    const sku = (i: number) => `BB-${String(i).padStart(6, '0')}`;
    const products = await sf.bulk2.loadAndWaitForResults({ object: 'Product2', operation: 'insert', pollTimeout: 300_000,
      input: Array.from({ length: PRODUCTS }, (_, i) => ({ Name: `Bench lamp ${i}`, Sku__c: sku(i), ProductCode: sku(i), IsActive: true })) } as any);
    const book = (await sf.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')).records[0]!.Id;
    await sf.bulk2.loadAndWaitForResults({ object: 'PricebookEntry', operation: 'insert', pollTimeout: 300_000,
      input: (products.successfulResults as any[]).map((r) => ({ Product2Id: r.sf__Id, Pricebook2Id: book, UnitPrice: 10 + (Number(r.Sku__c.slice(3)) % 90), IsActive: true })) } as any);
    await new Promise((r) => setTimeout(r, 3_500)); // older than the org's change events
    const config = configFor(t, shopId, (c) => { for (const e of ['customer', 'order'] as const) c.entities[e].enabled = false; });
    const conn = lazyConnection(config);
    await skipShopHistory(config);
    const pipeline = await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) });
    try {
      t.sb.admin.resetCounters();
      const started = Date.now();
      const report = await backfill(config, undefined, 'product', 'shop');
      const byApi = t.sb.admin.counters().byApi;
      let inShop = 0;
      while (inShop < PRODUCTS && Date.now() - started < 900_000) {
        inShop = Number((await db.query('SELECT count(*) FROM products WHERE shop_id = $1 AND price > 0', [shopId])).rows[0].count);
        if (inShop < PRODUCTS) await new Promise((r) => setTimeout(r, 500));
      }
      const seconds = (Date.now() - started) / 1000;
      console.log(line(report, `(b) Salesforce -> shop, ${PRODUCTS} products (Product2 + PricebookEntry each)`, byApi));
      console.log(`(b) ${inShop}/${PRODUCTS} products with their price in the shop ${seconds.toFixed(1)} s after the backfill started = ${Math.round(inShop / seconds)} products/s end to end (backfill, reconciler, shop sink)`);
    } finally {
      await pipeline.stop();
    }
  } finally {
    await db.query('DELETE FROM products WHERE shop_id = $1', [shopId]).catch(() => undefined);
    await db.end();
    await t.cleanup();
  }
}
console.log(`load avg after ${load()} (machine shared with other work)`);
process.exit(0);
