/**
 * Stock after an expired replay id (docs/chaos.md, replay-expired): a merged quantity `run` wrote to
 * the org lands, but its change event never reaches `run` before it is killed, and every event of the
 * org expires while it is down. Started again, `run` re-reads the stock levels changed since its
 * checkpoint by SOQL: what it reads includes its own write (and a restock made after it). Or the
 * write was still waiting in `run` and lands after that read. Either way the sale behind the write
 * counts once, the restock once, on both sides.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitForCommands } from '../support/commands.ts';
import { eventually } from '../support/eventually.ts';
import { openStockShop, type StockShop } from '../support/stock-shop.ts';

const START = 1_000;

describe('stock: our write landed, its event expired before `run` saw it', () => {
  let shop: StockShop;
  const shopId = `stx-${randomUUID().slice(0, 6)}`;
  const skus = ['A', 'B', 'C'].map((s) => `X${shopId.slice(4)}-${s}`.toUpperCase());
  const stockKey = (sku: string) => `${shopId}|${sku}|WH-1`;

  const levels = async (sku: string) => {
    const inShop = (await shop.db.query<{ quantity: number }>("SELECT quantity FROM stock_levels WHERE shop_id = $1 AND sku = $2 AND warehouse_code = 'WH-1'", [shopId, sku])).rows[0]?.quantity;
    const org = (await shop.sf.query<{ Quantity__c: number }>(`SELECT Quantity__c FROM Stock_Level__c WHERE Stock_Key__c = '${stockKey(sku)}'`)).records[0]?.Quantity__c;
    return { shop: inShop, org: org === undefined ? undefined : Number(org) };
  };
  const sale = (sku: string, n: number) => shop.db.query("UPDATE stock_levels SET quantity = quantity - $3 WHERE shop_id = $1 AND sku = $2 AND warehouse_code = 'WH-1'", [shopId, sku, n]);
  const restock = (sku: string, n: number) => shop.t.sb.admin.userEdit({ object: 'Stock_Level__c', externalId: { field: 'Stock_Key__c', value: stockKey(sku) }, increment: { Quantity__c: n } });
  const echoes = (sku: string, n: number) => waitForCommands<{ key: string; decision: string; origin: string }>(shop.stack, `${shop.config.kafka.topicNamespace}.sync.audit`,
    () => true, (events) => events.filter((e) => e.key === stockKey(sku) && e.decision === 'ECHO' && e.origin === 'SALESFORCE').length >= n, 120_000);

  before(async () => {
    shop = await openStockShop(shopId, skus, ['WH-1'], 500);
    for (const sku of skus) await shop.db.query("INSERT INTO stock_levels (shop_id, sku, warehouse_code, quantity) VALUES ($1, $2, 'WH-1', $3)", [shopId, sku, START]);
    // created in the org, and the creation came back: the org holds START as far as `run` knows
    for (const sku of skus) await echoes(sku, 1);
  });
  after(async () => {
    await shop?.cleanup();
  });

  test('the re-read shows our own write (and a later restock): each sale and restock counts once on both sides', async () => {
    const [quiet, restocked] = skus as [string, string];
    // a sale of 4 on each key; the org takes the merged 996, and its change event is never published
    for (const sku of [quiet, restocked]) {
      shop.t.sb.admin.setFaults({ dropChangeEvents: { count: 1, object: 'Stock_Level__c' } });
      await sale(sku, 4);
      await eventually(() => levels(sku), (l) => l.org === START - 4, 60_000);
    }
    await shop.pipeline.kill('SIGKILL');
    // while `run` is down: a warehouse user restocks one key, then every event leaves the retention window
    restock(restocked, 5);
    assert.ok(shop.t.sb.admin.expireEvents() > 0, 'the org expired its change events');
    await shop.pipeline.restart();
    const want = { [quiet]: START - 4, [restocked]: START - 4 + 5 };
    await settlesAt(want);
  });

  test('our write still waiting when `run` was killed lands after the re-read: the sale counts once, the restock once', async () => {
    const held = skus[2]!;
    // the org refuses every write for now (503): the merged 996 waits in `run`
    shop.t.sb.admin.setFaults({ failNext: { count: 1_000_000, status: 503, api: 'collections' } });
    await sale(held, 4);
    await eventually(async () => shop.t.sb.admin.faults().failNext?.count ?? 0, (left) => left < 1_000_000, 60_000);
    await shop.pipeline.kill('SIGKILL');
    shop.t.sb.admin.clearFaults();
    restock(held, 5);
    shop.t.sb.admin.expireEvents();
    // started again, the re-read shows 1005 before the held write (996) lands; its change event then comes
    await shop.pipeline.restart();
    await settlesAt({ [held]: START - 4 + 5 });
  });

  /** Both sides of each key reach what is wanted (read once more when they never do, to show where they are). */
  async function settlesAt(want: Record<string, number>): Promise<void> {
    const keys = Object.keys(want);
    const read = () => Promise.all(keys.map(levels));
    const seen = await eventually(read, (ls) => ls.every((l, i) => l.shop === want[keys[i]!] && l.org === want[keys[i]!]), 120_000).catch(read);
    assert.deepEqual(seen, keys.map((sku) => ({ shop: want[sku], org: want[sku] })));
  }
});
