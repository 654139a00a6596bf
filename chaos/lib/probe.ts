/**
 * Has the pipeline recovered? A change made on each side right after a fault is healed — a shop order,
 * a price edit in the org — and the time until both landed on the other side.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { externalIdOf } from '../../src/entities/keys.ts';
import type { Crash, World } from './world.ts';

export async function recoveryMs(w: World, probeSku: string, entryId: string, n: number, timeoutMs: number, crashes: Crash[]): Promise<number | undefined> {
  const started = Date.now();
  const customer = `${w.run}-probe-C${n}`;
  const order = `${w.run}-probe-O${n}`;
  const price = 50 + n;
  // the shop may itself be coming back (a PostgreSQL restart): the probe waits for it
  for (;;) {
    try {
      const c = await w.db.connect();
      try {
        await c.query('BEGIN');
        await c.query("INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Probe', 'Probe') ON CONFLICT DO NOTHING", [w.shopId, customer, `${customer.toLowerCase()}@example.com`]);
        await c.query("INSERT INTO orders (shop_id, order_number, customer_number, status, currency, total_amount) VALUES ($1, $2, $3, 'pending', 'EUR', 1) ON CONFLICT DO NOTHING", [w.shopId, order, customer]);
        await c.query('COMMIT');
        c.release();
        break;
      } catch (err) {
        c.release(err as Error);
      }
    } catch { /* not up yet */ }
    if (Date.now() - started > timeoutMs) return undefined;
    await sleep(500);
  }
  for (;;) {
    try {
      w.t.sb.admin.userEdit({ object: 'PricebookEntry', id: entryId, fields: { UnitPrice: price } });
      break;
    } catch { /* the emulator is restarting */ }
    if (Date.now() - started > timeoutMs) return undefined;
    await sleep(500);
  }
  const landed = async () => {
    const opp = (await w.sf.query(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${externalIdOf(w.shopId, order)}'`)).totalSize === 1;
    const row = (await w.db.query<{ price: string }>('SELECT price FROM products WHERE shop_id = $1 AND sku = $2', [w.shopId, probeSku])).rows[0];
    return opp && Number(row?.price) === price;
  };
  while (Date.now() - started < timeoutMs) {
    const crash = await w.restartIfCrashed();
    if (crash) crashes.push(crash);
    if (await landed().catch(() => false)) return Date.now() - started;
    await sleep(500);
  }
  return undefined;
}
