/**
 * Salesforce -> shop backfill of a 5,000-product catalogue with prices (Product2 + standard
 * PricebookEntry), made in the org before the shop's pipeline ever ran and older than the org keeps its
 * change events: only the backfill brings it. Each test is a shop of its own (shop id, topics and
 * groups) syncing from the same org, as several shops share one catalogue.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { SchemaCatalogClient } from '../../src/avro/registry.ts';
import { lineProgress, runBackfill, type BackfillReport } from '../../src/backfill/index.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { RoutedChange } from '../../src/flows/routed-change.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { restParentLookup } from '../../src/processors/router.ts';
import { startPipeline, type Pipeline } from '../../src/run/pipeline.ts';
import { lazyConnection, salesforceStages } from '../../src/run/salesforce-stages.ts';
import { REPO_DIR } from '../../src/stack/context.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { eventually } from '../support/eventually.ts';
import { collectMessages } from '../support/kafka.ts';
import { skipShopHistory, testPipelineConfig } from '../support/pipeline.ts';
import { queryAll, sandboxEnv } from '../support/pipeline-process.ts';
import { getTestStack } from '../support/stack.ts';

const PRODUCTS = 5_000;
const priceOf = (i: number) => Number((5 + (i % 400) + (i % 7) / 10).toFixed(2));
const skuOf = (i: number) => `BF-${String(i).padStart(5, '0')}`;

let stack: StackAddresses;
let t: TestSandbox;
let sf: Connection;
let db: pg.Client;
const pipelines: Pipeline[] = [];

/** The catalogue as a catalogue manager loads it: Product2 rows, then their standard prices, through Bulk API 2.0. */
async function loadCatalogue(): Promise<void> {
  const products = await sf.bulk2.loadAndWaitForResults({
    object: 'Product2', operation: 'insert', pollTimeout: 120_000,
    input: Array.from({ length: PRODUCTS }, (_, i) => ({ Name: `Lamp ${i}`, Sku__c: skuOf(i), ProductCode: skuOf(i), IsActive: true })),
  } as any);
  assert.equal(products.successfulResults.length, PRODUCTS);
  const book = (await sf.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')).records[0]!.Id;
  const ids = new Map((products.successfulResults as any[]).map((r) => [r.Sku__c, r.sf__Id]));
  const entries = await sf.bulk2.loadAndWaitForResults({
    object: 'PricebookEntry', operation: 'insert', pollTimeout: 120_000,
    input: Array.from({ length: PRODUCTS }, (_, i) => ({ Product2Id: ids.get(skuOf(i)), Pricebook2Id: book, UnitPrice: priceOf(i), IsActive: true })),
  } as any);
  assert.equal(entries.successfulResults.length, PRODUCTS);
}

/** A shop of its own syncing the product flow from the org, its pipeline running in this process. */
async function startShop(pageRecords: number): Promise<ShopforceConfig> {
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = `bf-${randomUUID().slice(0, 6)}`;
    c.salesforce.apiVersion = '60.0';
    for (const e of ['customer', 'order'] as const) c.entities[e].enabled = false;
    c.backfill.pageRecords = pageRecords;
  });
  const conn = lazyConnection(config);
  await skipShopHistory(config);
  pipelines.push(await startPipeline(config, { lookupParent: restParentLookup(conn), stages: (shared) => salesforceStages(shared, conn) }));
  return config;
}

const shopPrices = async (shopId: string) => new Map((await db.query<{ sku: string; price: string }>(
  'SELECT sku, price::text AS price FROM products WHERE shop_id = $1', [shopId])).rows.map((r) => [r.sku, Number(r.price)]));

const backfill = (config: ShopforceConfig, progress: (done: number) => void = () => {}, signal?: AbortSignal): Promise<BackfillReport> => {
  const log = createLogger('test-backfill', 'warn');
  const pool = new pg.Pool({ connectionString: config.shop.databaseUrl, max: 2 });
  return runBackfill({
    config, log, pool, signal, registry: new SchemaCatalogClient(config.registry.url), conn: lazyConnection(config),
    kafka: new Kafka({ brokers: config.kafka.brokers, clientId: 'test-backfill', logLevel: logLevel.NOTHING }),
    progress: (label) => {
      const lines = lineProgress(label, () => {}, 0);
      return { ...lines, update: (done, phase) => { lines.update(done, phase); progress(done); } };
    },
  }, { entity: 'product', to: 'shop', since: null }).finally(() => pool.end());
};

/** The backfill's hand-overs on sync.in.product, by source position. */
async function handedOver(config: ShopforceConfig): Promise<Map<string, number>> {
  const messages = await collectMessages(stack.kafka.brokers, [`${config.kafka.topicNamespace}.sync.in.product`], {
    match: (m) => (m.value as RoutedChange).backfill === 'read', until: (all) => all.length >= 2 * PRODUCTS + 1, timeoutMs: 20_000,
  });
  const count = new Map<string, number>();
  for (const m of messages) count.set((m.value as RoutedChange).sourcePosition, (count.get((m.value as RoutedChange).sourcePosition) ?? 0) + 1);
  return count;
}

describe('backfill of the org\'s catalogue into the shop', () => {
  before(async () => {
    stack = await getTestStack();
    // change events are kept 3 s: the catalogue is older than what the org still streams
    t = await startTestSandbox({ cdcRetentionMs: 3_000 });
    sf = await jwtConnection(t.sb);
    db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    await loadCatalogue();
    await new Promise((r) => setTimeout(r, 3_500));
  });
  after(async () => {
    for (const p of pipelines) await p.stop();
    await db?.end();
    await t?.cleanup();
  });

  test('`shopforce backfill product --to shop`: 5,000 products with their prices reach the shop, each once', async (ctx) => {
    const config = await startShop(50_000);
    const dir = mkdtempSync(join(tmpdir(), 'backfill-cli-'));
    const file = join(dir, 'shopforce.json');
    writeFileSync(file, JSON.stringify({ ...config, shop: { ...config.shop, databaseUrl: '${SHOP_DATABASE_URL}' } }));
    t.sb.admin.resetCounters();
    const child = spawn(process.execPath, ['bin/shopforce.js', 'backfill', 'product', '--to', 'shop', '--config', file], {
      cwd: REPO_DIR, env: { ...process.env, SHOP_DATABASE_URL: config.shop.databaseUrl, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const [code] = await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `exit code; stderr: ${err.slice(-2000)}`);
    assert.match(out, new RegExp(`${2 * PRODUCTS} records in .* s \\(\\d+ records/s\\); ${2 * PRODUCTS} handed over`), out);
    assert.match(err, /backfill product -> shop: \d+\/10000 .*records\/s/, 'plain progress lines when stderr is not a terminal');
    const counters = t.sb.admin.counters();
    ctx.diagnostic(out.trim());
    ctx.diagnostic(`emulator calls ${JSON.stringify(counters.byApi)}`);

    const shop = await eventually(() => shopPrices(config.shopId), (m) => m.size === PRODUCTS && [...m.values()].every((p) => p > 0), 240_000, 1_000);
    const wrong = Array.from({ length: PRODUCTS }, (_, i) => i).filter((i) => shop.get(skuOf(i)) !== priceOf(i));
    assert.deepEqual(wrong.slice(0, 5).map((i) => [skuOf(i), shop.get(skuOf(i)), priceOf(i)]), [], `${wrong.length} products with a price other than the org's`);
    const positions = await handedOver(config);
    assert.equal(positions.size, 2 * PRODUCTS, 'every Product2 and PricebookEntry handed over');
    assert.ok([...positions.values()].every((n) => n === 1), 'each once');
  });

  test('an interrupted backfill resumes from its checkpoint: every product once, none handed over twice', async () => {
    const config = await startShop(1_000);
    const stop = new AbortController();
    const first = await backfill(config, (done) => { if (done >= 2_000) stop.abort(); }, stop.signal);
    assert.equal(first.state, 'interrupted');
    assert.ok(first.records >= 2_000 && first.records < 2 * PRODUCTS, `stopped part way (${first.records})`);
    const second = await backfill(config);
    assert.deepEqual([second.state, second.run, second.resumedFrom], ['done', first.run, first.records], 'the same run, resumed where it stopped');
    assert.equal(first.handedOver + second.handedOver, 2 * PRODUCTS);
    const positions = await handedOver(config);
    assert.equal(positions.size, 2 * PRODUCTS);
    assert.ok([...positions.values()].every((n) => n === 1), 'no record handed over twice');
    const shop = await eventually(() => shopPrices(config.shopId), (m) => m.size === PRODUCTS, 240_000, 1_000);
    assert.equal(shop.get(skuOf(PRODUCTS - 1)), priceOf(PRODUCTS - 1));
  });

  test('prices edited in the org during the backfill end with the edited value, before and after their page was handed over', async () => {
    const config = await startShop(1_000);
    const entries = new Map((await queryAll<{ Id: string; Product2: { Sku__c: string } }>(sf,
      `SELECT Id, Product2.Sku__c FROM PricebookEntry WHERE Product2.Sku__c IN ('${skuOf(0)}', '${skuOf(PRODUCTS - 1)}')`)).map((e) => [e.Product2.Sku__c, e.Id]));
    let edited = false;
    const report = await backfill(config, (done) => {
      // after the first page of prices went to the reconciler, before the last: a person edits a price of each
      if (edited || done < PRODUCTS + 1_000) return;
      edited = true;
      for (const sku of [skuOf(0), skuOf(PRODUCTS - 1)]) t.sb.admin.userEdit({ object: 'PricebookEntry', id: entries.get(sku)!, fields: { UnitPrice: 999.5 } });
    });
    assert.equal(report.state, 'done');
    assert.ok(edited, 'the edits happened while the backfill ran');
    const shop = await eventually(() => shopPrices(config.shopId),
      (m) => m.size === PRODUCTS && m.get(skuOf(0)) === 999.5 && m.get(skuOf(PRODUCTS - 1)) === 999.5, 240_000, 1_000);
    assert.equal(shop.get(skuOf(1)), priceOf(1), 'the others keep the org\'s price');
    // settled: the old prices the backfill read do not come back later
    await new Promise((r) => setTimeout(r, 5_000));
    const settled = await shopPrices(config.shopId);
    assert.deepEqual([settled.get(skuOf(0)), settled.get(skuOf(PRODUCTS - 1))], [999.5, 999.5]);
  });
});
