/**
 * Shop change events as Debezium's PostgreSQL connector writes them with the project's connector
 * settings (connectors/shop-postgres.json: JSON without the schema wrapper, decimals as strings,
 * timestamps with time zone as ISO strings, transaction metadata on), for the rows of the seed
 * generator: one transaction per customer with its addresses, per order with its lines, per product.
 */
import { generateSeedData, type Row } from '../../src/shop/seed/generate.ts';
import { resolveSeedOptions } from '../../src/shop/seed/options.ts';

/** One change event: its raw topic's table, the Debezium key and value (JSON text), and its source transaction. */
export interface ShopEvent {
  table: 'customers' | 'addresses' | 'products' | 'orders' | 'order_lines';
  key: string;
  value: string;
  txId: number;
}

export interface ShopEventsPlan {
  customers: number;
  products: number;
  orders: number;
  shopId: string;
  /** The first transaction id (xid) used; each transaction takes the next. */
  firstTxId: number;
}

/** Counts of customers, products and orders that give about `events` change events (3 per customer, 1 per product, about 4 per order). */
export function planFor(events: number, shopId: string, firstTxId: number): ShopEventsPlan {
  const customers = Math.max(1, Math.round((events * 0.15) / 3));
  const products = Math.max(1, Math.round(events * 0.05));
  const orders = Math.max(1, Math.round((events - customers * 3 - products) / 4));
  return { customers, products, orders, shopId, firstTxId };
}

/**
 * The events of the plan, in the order a shop makes them: each customer's transaction, then the
 * catalogue's, then the orders'. `productsOurs` receives the transaction ids of the products (a shop's
 * catalogue is the org's, written by our shop sink: its changes come back as our own).
 */
export function shopEvents(plan: ShopEventsPlan, productsOurs: (txId: number) => void = () => {}): ShopEvent[] {
  const data = generateSeedData(resolveSeedOptions({ customers: plan.customers, products: plan.products, orders: plan.orders, warehouses: 1, shopId: plan.shopId }));
  const events: ShopEvent[] = [];
  let txId = plan.firstTxId;
  let lsn = 40_000_000;
  let rowId = 1;
  const now = Date.now();
  const byCustomer = new Map<string, Row[]>();
  for (const a of data.addresses) byCustomer.set(String(a.customer_number), [...(byCustomer.get(String(a.customer_number)) ?? []), a]);
  const byOrder = new Map<string, Row[]>();
  for (const l of data.order_lines) {
    const list = byOrder.get(String(l.order_number)) ?? [];
    list.push(l);
    byOrder.set(String(l.order_number), list);
  }

  const transaction = (rows: Array<[ShopEvent['table'], Row]>) => {
    txId++;
    const commitMs = now - 60_000 + events.length;
    rows.forEach(([table, row], i) => {
      lsn += 120;
      const id = rowId++;
      const after = { id, ...row, version: 1 };
      const value = {
        before: null, after, op: 'c', ts_ms: commitMs + 5,
        source: {
          version: '2.7.3.Final', connector: 'postgresql', name: 'shop', ts_ms: commitMs, snapshot: 'false', db: 'shop', sequence: `["${lsn - 120}","${lsn}"]`,
          schema: 'public', table, txId, lsn, xmin: null,
        },
        transaction: { id: `${txId}:${lsn}`, total_order: i + 1, data_collection_order: i + 1 },
      };
      events.push({ table, key: JSON.stringify({ id }), value: JSON.stringify(value), txId });
    });
  };

  for (const c of data.customers) transaction([['customers', c], ...(byCustomer.get(String(c.customer_number)) ?? []).map((a): [ShopEvent['table'], Row] => ['addresses', a])]);
  for (const p of data.products) {
    transaction([['products', p]]);
    productsOurs(txId);
  }
  for (const o of data.orders) transaction([['orders', o], ...(byOrder.get(String(o.order_number)) ?? []).map((l): [ShopEvent['table'], Row] => ['order_lines', l])]);
  return events;
}
