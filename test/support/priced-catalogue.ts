import type { Connection } from 'jsforce';
import pg from 'pg';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { jwtConnection, startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { createPricedProducts } from './catalogue.ts';
import { testPipelineConfig } from './pipeline.ts';
import { sandboxEnv } from './pipeline-process.ts';
import { getTestStack } from './stack.ts';

/** A sandbox org with priced products (5.00 each), the shop database, and a pipeline config for them. */
export interface PricedCatalogue {
  stack: StackAddresses;
  t: TestSandbox;
  sf: Connection;
  db: pg.Client;
  config: ShopforceConfig;
  /** The PricebookEntry ids, in the order of the SKUs. */
  entryIds: string[];
  /** The shop's price of each SKU (as PostgreSQL prints it, e.g. '5.00'). */
  shopPrices(): Promise<Record<string, string>>;
  cleanup(): Promise<void>;
}

/** Price-edit tests: the org's catalogue of `skus`, and the config of a pipeline that syncs it to the shop. */
export async function pricedCatalogue(skus: string[], configure: (c: ShopforceConfig) => void = () => {}): Promise<PricedCatalogue> {
  const stack = await getTestStack();
  const t = await startTestSandbox();
  const sf = await jwtConnection(t.sb);
  const entryIds = await createPricedProducts(sf, skus.map((sku) => ({ sku, name: `Plate ${sku}`, price: 5 })));
  const db = new pg.Client({ connectionString: stack.postgres.url });
  await db.connect();
  const config = testPipelineConfig(stack, sandboxEnv(t), (c) => {
    c.salesforce.apiVersion = '60.0';
    c.sink.lingerMs = 100;
    configure(c);
  });
  return {
    stack, t, sf, db, config, entryIds,
    async shopPrices() {
      const rows = (await db.query<{ sku: string; price: string }>('SELECT sku, price::text AS price FROM products WHERE sku = ANY($1)', [skus])).rows;
      return Object.fromEntries(rows.map((r) => [r.sku, r.price]));
    },
    async cleanup() {
      await db.end();
      await t.cleanup();
    },
  };
}
