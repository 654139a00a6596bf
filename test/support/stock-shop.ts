/**
 * A shop of its own for the stock flow tests: its products in both places, its warehouses, and
 * `shopforce run` (a child process) with only the stock entity enabled.
 */
import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { startTestSandbox, jwtConnection, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { createPricedProducts } from './catalogue.ts';
import { sandboxEnv, startPipelineProcess, type PipelineProcess } from './pipeline-process.ts';
import { testPipelineConfig } from './pipeline.ts';
import { getTestStack } from './stack.ts';

export interface StockShop {
  stack: StackAddresses;
  t: TestSandbox;
  sf: Connection;
  db: pg.Client;
  config: ShopforceConfig;
  pipeline: PipelineProcess;
  cleanup(): Promise<void>;
}

export async function openStockShop(shopId: string, skus: string[], warehouses: string[], windowMs: number): Promise<StockShop> {
  const stack = await getTestStack();
  const t = await startTestSandbox();
  const sf = await jwtConnection(t.sb);
  await createPricedProducts(sf, skus.map((sku) => ({ sku, name: `Crate ${sku}`, price: 9 })));
  const db = new pg.Client({ connectionString: stack.postgres.url });
  await db.connect();
  for (const sku of skus) await db.query('INSERT INTO products (shop_id, sku, name, price) VALUES ($1, $2, $3, 9)', [shopId, sku, `Crate ${sku}`]);
  for (const wh of warehouses) await db.query("INSERT INTO warehouses (shop_id, warehouse_code, name, country) VALUES ($1, $2, $2, 'DE')", [shopId, wh]);
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.shopId = shopId;
    c.salesforce.apiVersion = '60.0';
    c.sink.lingerMs = 100;
    for (const e of ['customer', 'order', 'product'] as const) c.entities[e].enabled = false;
    c.entities.stock.enabled = true;
    c.entities.stock.windowMs = windowMs;
  });
  const pipeline = await startPipelineProcess(config);
  return {
    stack, t, sf, db, config, pipeline,
    async cleanup() {
      await pipeline.cleanup();
      await db.end();
      await t.cleanup();
    },
  };
}
