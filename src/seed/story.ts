/**
 * `shopforce seed`: a sandbox that tells the whole story. Each side gets what it masters, in the order a
 * real business would make it (docs/design.md, "Flows and masters"):
 *
 * 1. the org's catalogue: Product2 + standard PricebookEntry;
 * 2. the shop receives it through the product flow (the seed waits for it): the shop never creates a
 *    product itself, so no `unmastered-create` alert, and every order line finds its price book entry
 *    (nothing parked);
 * 3. the shop's own records: warehouses and stock, customers and addresses, orders with lines,
 *    payments, support tickets;
 * 4. once the sync has brought them to the org (the seed waits for the Opportunities, Contacts and stock
 *    levels), what the org's people and its ERP add: invoices of the paid orders, campaigns with members,
 *    stock corrections.
 *
 * The rows are those of the deterministic generator (src/shop/seed): the same options give the same story.
 */
import type { Connection } from 'jsforce';
import pg from 'pg';
import { generateSeedData, resolveSeedOptions, seedShop, type SeedOptions, type SeedOptionsInput, type SeedResult } from '../shop/seed/index.ts';
import type { SyncedTable } from '../shop/tables.ts';
import { loadCatalogue, type CatalogueResult } from './org-catalogue.ts';
import { correctStock, loadCampaigns, loadInvoices, type AdjustStock } from './org-records.ts';

/** The shop tables the shop masters: the seed writes them; the others come from the org. */
export const SHOP_MASTERED: SyncedTable[] = [
  'warehouses', 'stock_levels', 'customers', 'addresses', 'orders', 'order_lines', 'payments', 'support_tickets',
];

export interface StoryDeps {
  /** The shop database (the writer role). */
  shopUrl: string;
  /** The org, logged in. */
  conn: Connection;
  /** The org's "adjust by" on stock levels; absent: no stock corrections (a real org has no sandbox admin API). */
  adjustStock?: AdjustStock;
  /** How long to wait for the sync at each step. */
  waitMs?: number;
  /** One line per step. */
  say?: (line: string) => void;
}

export interface StoryReport {
  options: SeedOptions;
  catalogue: CatalogueResult;
  shop: SeedResult;
  invoices: number;
  campaigns: number;
  members: number;
  stockCorrections: Array<{ key: string; delta: number }>;
  ms: number;
}

export async function seedStory(deps: StoryDeps, input: SeedOptionsInput = {}): Promise<StoryReport> {
  const started = Date.now();
  const say = deps.say ?? (() => {});
  const waitMs = deps.waitMs ?? 300_000;
  // the org masters the customers' credit status: the shop's customers start without one
  const options = resolveSeedOptions({ ...input, creditStatus: false });
  const data = generateSeedData(options);
  const shopId = options.shopId;
  const pool = new pg.Pool({ connectionString: deps.shopUrl, max: 1 });
  const count = async (sql: string, params: unknown[]) => Number((await pool.query<{ n: string }>(sql, params)).rows[0]!.n);
  const orgCount = async (soql: string) => (await deps.conn.query(soql)).totalSize;
  try {
    say(`1/4 the org's catalogue: ${data.products.length} products with their standard prices`);
    const catalogue = await loadCatalogue(deps.conn, data.products);

    const skus = data.products.map((p) => p.sku);
    await waitFor(say, `the catalogue in the shop (the product flow of \`shopforce run\`)`, waitMs, skus.length,
      () => count('SELECT count(*) AS n FROM products WHERE shop_id = $1 AND sku = ANY($2)', [shopId, skus]));

    say(`2/4 the shop's records: ${data.customers.length} customers, ${data.orders.length} orders with ${data.order_lines.length} lines, ${data.payments.length} payments, ${data.support_tickets.length} tickets, ${data.stock_levels.length} stock levels`);
    const shop = await seedShop(deps.shopUrl, options, undefined, SHOP_MASTERED);

    const like = `'${shopId}|%'`;
    await waitFor(say, 'the orders in the org', waitMs, data.orders.length, () => orgCount(`SELECT COUNT() FROM Opportunity WHERE Shop_Order_Id__c LIKE ${like}`));
    await waitFor(say, 'the customers\' Contacts in the org', waitMs, data.customers.length, () => orgCount(`SELECT COUNT() FROM Contact WHERE Shop_Customer_Id__c LIKE ${like}`));
    await waitFor(say, 'the stock levels in the org (one stock window)', waitMs, data.stock_levels.length, () => orgCount(`SELECT COUNT() FROM Stock_Level__c WHERE Stock_Key__c LIKE ${like}`));

    say(`3/4 the org's records: ${data.invoices.length} invoices, ${data.customer_segments.length} campaigns with ${data.segment_members.length} members`);
    const invoices = await loadInvoices(deps.conn, shopId, data.invoices);
    const { campaigns, members } = await loadCampaigns(deps.conn, shopId, data.customer_segments, data.segment_members);

    const stockCorrections = deps.adjustStock ? await correctStock(deps.adjustStock, shopId, data.stock_levels) : [];
    say(deps.adjustStock ? `4/4 ${stockCorrections.length} stock corrections in the org` : '4/4 no stock corrections: the org has no sandbox admin API');
    return { options, catalogue, shop, invoices, campaigns, members, stockCorrections, ms: Date.now() - started };
  } finally {
    await pool.end();
  }
}

/** Polls `have` until it reaches `want`; fails naming what did not arrive and what to check. */
async function waitFor(say: (line: string) => void, what: string, timeoutMs: number, want: number, have: () => Promise<number>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  for (;;) {
    const n = await have();
    if (n >= want) return;
    if (n !== last) say(`    waiting for ${what}: ${n}/${want}`);
    last = n;
    if (Date.now() > deadline) throw new Error(`${what}: ${n} of ${want} after ${Math.round(timeoutMs / 1000)} s — is \`shopforce run\` running against this shop and org?`);
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
