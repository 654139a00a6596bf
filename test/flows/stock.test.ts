/**
 * Stock per SKU and warehouse, changed on both sides: the shop sells, warehouse users restock in
 * Salesforce. `shopforce run` (a child process, killed with SIGKILL in the middle) merges the
 * changes by delta and writes once per key per side per window; both sides end at the starting
 * level plus the sum of every change made on either side.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { ShopWrite } from '../../src/entities/types.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { getTestStack } from '../support/stack.ts';
import { testPipelineConfig } from '../support/pipeline.ts';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { queryAll, sandboxEnv, startPipelineProcess, type PipelineProcess } from '../support/pipeline-process.ts';
import { openStockShop } from '../support/stock-shop.ts';
import { createPricedProducts } from '../support/catalogue.ts';

const WINDOW_MS = 2_000;
const START = 1_000;

describe('stock, both ways, merged by delta', () => {
  let stack: StackAddresses;
  let t: TestSandbox;
  let sf: Connection;
  let db: pg.Client;
  let config: ShopforceConfig;
  let pipeline: PipelineProcess;
  const shopId = `stk-${randomUUID().slice(0, 6)}`;
  const skus = ['A', 'B', 'C'].map((s) => `S${shopId.slice(4)}-${s}`.toUpperCase());
  const warehouses = ['WH-1', 'WH-2'];
  // Stock_Key__c, the external id, is the shop id, the SKU and the warehouse (keys.ts)
  const keys = skus.flatMap((sku) => warehouses.map((wh) => ({ sku, wh, stockKey: `${shopId}|${sku}|${wh}` })));

  const shopLevels = async () => Object.fromEntries((await db.query<{ sku: string; warehouse_code: string; quantity: number }>(
    'SELECT sku, warehouse_code, quantity FROM stock_levels WHERE shop_id = $1', [shopId])).rows.map((r) => [`${shopId}|${r.sku}|${r.warehouse_code}`, r.quantity]));
  const orgLevels = async () => Object.fromEntries((await queryAll<{ Stock_Key__c: string; Quantity__c: number }>(sf,
    'SELECT Stock_Key__c, Quantity__c FROM Stock_Level__c')).map((r) => [r.Stock_Key__c, Number(r.Quantity__c)]));
  const shopSale = (k: { sku: string; wh: string }, n: number) =>
    db.query('UPDATE stock_levels SET quantity = quantity - $4 WHERE shop_id = $1 AND sku = $2 AND warehouse_code = $3', [shopId, k.sku, k.wh, n]);
  const orgRestock = (k: { stockKey: string }, n: number) =>
    t.sb.admin.userEdit({ object: 'Stock_Level__c', externalId: { field: 'Stock_Key__c', value: k.stockKey }, increment: { Quantity__c: n } });

  before(async () => {
    ({ stack, t, sf, db, config, pipeline } = await openStockShop(shopId, skus, warehouses, WINDOW_MS));
    // rows that appear in the shop are created in the org
    for (const k of keys) await db.query('INSERT INTO stock_levels (shop_id, sku, warehouse_code, quantity) VALUES ($1, $2, $3, $4)', [shopId, k.sku, k.wh, START]);
    await eventually(orgLevels, (l) => keys.every((k) => l[k.stockKey] === START), 120_000);
  });
  after(async () => {
    await pipeline?.cleanup();
    await db?.end();
    await t?.cleanup();
  });

  test('a sale in the shop and a restock in Salesforce within one window are both reflected on both sides, one write per side', async () => {
    const k = keys[0]!;
    const countersBefore = t.sb.admin.counters().recordsByObject.Stock_Level__c ?? 0;
    await shopSale(k, 3);
    await orgRestock(k, 20);
    const expected = START - 3 + 20;
    await eventually(async () => [(await shopLevels())[k.stockKey], (await orgLevels())[k.stockKey]], ([s, o]) => s === expected && o === expected, 60_000);
    // the org's API received one write for the window (the person's restock is a UI edit, not an API write)
    const writes = (t.sb.admin.counters().recordsByObject.Stock_Level__c ?? 0) - countersBefore;
    assert.equal(writes, 1, 'one merged write from the pipeline');
    const shopWrites = await waitForCommands<ShopWrite>(stack, `${config.kafka.topicNamespace}.sync.out.shop`,
      () => true, (c) => c.some((w) => w.row.quantity === expected), 30_000);
    assert.equal(shopWrites.filter((w) => w.key === `${shopId}|${k.sku}|${k.wh}`).length, 1, 'one write to the shop for the window');
  });

  test('a stock row made in Salesforce is created in the shop', async () => {
    await db.query("INSERT INTO warehouses (shop_id, warehouse_code, name, country) VALUES ($1, 'WH-9', 'WH-9', 'DE')", [shopId]);
    // a warehouse user adds the SKU to a new warehouse of this shop, through the API of another integration
    await sf.sobject('Stock_Level__c').create({ Stock_Key__c: `${shopId}|${skus[0]}|WH-9`, Sku__c: skus[0], Warehouse__c: 'WH-9', Quantity__c: 40, Product__r: { Sku__c: skus[0] } } as any);
    await eventually(shopLevels, (l) => l[`${shopId}|${skus[0]}|WH-9`] === 40, 60_000);
  });

  test('1,000 random changes on both sides with a SIGKILL of `shopforce run` in the middle: both sides end at start + every delta', async (ctx) => {
    // this test's keys (the test before added a warehouse on both sides)
    const onlyOurs = (levels: Record<string, number>) => Object.fromEntries(Object.entries(levels).filter(([k]) => keys.some((x) => x.stockKey === k)));
    const expected = onlyOurs(await shopLevels());
    assert.deepEqual(expected, onlyOurs(await eventually(orgLevels, (l) => keys.every((k) => l[k.stockKey] === expected[k.stockKey]), 60_000)));
    let seed = 42;
    const random = () => { seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31; return seed / 2 ** 31; };
    const windowsBefore = t.sb.admin.counters().recordsByObject.Stock_Level__c ?? 0;
    let orgEdits = 0;
    let killedAt = -1;
    const started = Date.now();
    for (let i = 0; i < 1_000; i++) {
      if (i === 500) { await pipeline.kill('SIGKILL'); killedAt = i; }
      if (i === 600) await pipeline.restart();
      const k = keys[Math.floor(random() * keys.length)]!;
      const delta = Math.floor(random() * 9) - 4 || 1;
      if (random() < 0.5) await shopSale(k, -delta);
      else { await orgRestock(k, delta); orgEdits++; }
      expected[k.stockKey] = expected[k.stockKey]! + delta;
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(killedAt, 500);
    const [shop, org] = await eventually(async () => [await shopLevels(), await orgLevels()],
      ([s, o]) => keys.every((k) => s[k.stockKey] === expected[k.stockKey] && o[k.stockKey] === expected[k.stockKey]), 180_000);
    for (const k of keys) assert.deepEqual([shop[k.stockKey], org[k.stockKey]], [expected[k.stockKey], expected[k.stockKey]], k.stockKey);
    const windows = Math.ceil((Date.now() - started) / WINDOW_MS);
    const ours = (t.sb.admin.counters().recordsByObject.Stock_Level__c ?? 0) - windowsBefore;
    ctx.diagnostic(`1,000 changes (${orgEdits} in the org, ${1_000 - orgEdits} in the shop) on ${keys.length} keys over ${windows} windows of ${WINDOW_MS} ms: ${ours} stock writes to the org by the pipeline`);
    // at most one write per key per window (a window replayed after the SIGKILL may be written once more)
    assert.ok(ours <= keys.length * (windows + 1), `the org got ${ours} writes for ${keys.length} keys in ${windows} windows`);
    assert.ok(ours < (1_000 - orgEdits) / 2, `the org got ${ours} writes for ${1_000 - orgEdits} shop changes: merged per window, not one per change`);
  });
});

describe('stock windows on a graceful stop', () => {
  test('SIGTERM writes the open windows to the command topics before `shopforce run` exits; the next start delivers them', async () => {
    const stack = await getTestStack();
    const t = await startTestSandbox();
    const db = new pg.Client({ connectionString: stack.postgres.url });
    await db.connect();
    const shopId = `stk-${randomUUID().slice(0, 6)}`;
    const sku = `W${shopId.slice(4)}`.toUpperCase();
    let pipeline: PipelineProcess | undefined;
    try {
      const sf = await jwtConnection(t.sb);
      await createPricedProducts(sf, [{ sku, name: `Crate ${sku}`, price: 9 }]);
      await db.query('INSERT INTO products (shop_id, sku, name, price) VALUES ($1, $2, $3, 9)', [shopId, sku, `Crate ${sku}`]);
      await db.query("INSERT INTO warehouses (shop_id, warehouse_code, name, country) VALUES ($1, 'WH-1', 'WH-1', 'DE')", [shopId]);
      const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
        c.shopId = shopId;
        c.salesforce.apiVersion = '60.0';
        for (const e of ['customer', 'order', 'product'] as const) c.entities[e].enabled = false;
        c.entities.stock.enabled = true;
        c.entities.stock.windowMs = 600_000;
      });
      pipeline = await startPipelineProcess(config);
      await db.query("INSERT INTO stock_levels (shop_id, sku, warehouse_code, quantity) VALUES ($1, $2, 'WH-1', 25)", [shopId, sku]);
      // the change is in the window (10 minutes): wait until the reconciler has decided it
      await waitForCommands<{ key: string; decision: string }>(stack, `${config.kafka.topicNamespace}.sync.audit`, () => true,
        (events) => events.some((e) => e.key === `${shopId}|${sku}|WH-1` && e.decision === 'APPLY'), 60_000);
      assert.equal((await sf.query('SELECT COUNT() FROM Stock_Level__c')).totalSize, 0, 'nothing written before the window ends');
      assert.equal(await pipeline.stop(), 0);
      // the last punctuation wrote the open window to the command topic: the next start delivers it at
      // once, not when the 10-minute window would have ended
      const restarted = Date.now();
      await pipeline.restart();
      const rows = await eventually(async () => (await sf.query<{ Quantity__c: number }>(`SELECT Quantity__c FROM Stock_Level__c WHERE Stock_Key__c = '${shopId}|${sku}|WH-1'`)).records,
        (r) => r.length === 1, 120_000);
      assert.deepEqual(rows.map((r) => Number(r.Quantity__c)), [25]);
      assert.ok(Date.now() - restarted < 300_000, 'delivered from the flushed window, long before the window would end');
    } finally {
      await pipeline?.cleanup();
      await db.end();
      await t.cleanup();
    }
  });
});
