import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withClient } from '../../src/shop/db.ts';
import { generateSeedData, resolveSeedOptions, seedShop, type SeedResult } from '../../src/shop/seed/index.ts';
import { centsToDecimal } from '../../src/shop/seed/money.ts';
import { SYNCED_TABLES } from '../../src/shop/tables.ts';
import { createTestDatabase, type TestDatabase } from './support.ts';

const SMALL = { customers: 30, products: 20, warehouses: 2, orders: 60, seed: 7 };

describe('seed data generation', () => {
  it('gives the same rows for the same options, other rows for another seed', () => {
    const a = generateSeedData(resolveSeedOptions(SMALL));
    const b = generateSeedData(resolveSeedOptions(SMALL));
    assert.deepEqual(a, b);
    const c = generateSeedData(resolveSeedOptions({ ...SMALL, seed: 8 }));
    assert.notDeepEqual(a.customers, c.customers);
  });

  it('keeps the first customers and products the same when asking for more', () => {
    const small = generateSeedData(resolveSeedOptions({ ...SMALL, customers: 10 }));
    const large = generateSeedData(resolveSeedOptions({ ...SMALL, customers: 25 }));
    assert.deepEqual(large.customers.slice(0, 10), small.customers);
    assert.deepEqual(large.products, small.products);
  });

  it('writes money as exact two-decimal strings whose sums add up to the cent', () => {
    const data = generateSeedData(resolveSeedOptions(SMALL));
    const cents = (s: unknown) => Math.round(Number(String(s)) * 100);
    for (const order of data.orders) {
      for (const k of ['subtotal_amount', 'total_amount', 'tax_amount']) assert.match(String(order[k]), /^\d+\.\d{2}$/);
      const lines = data.order_lines.filter((l) => l.order_number === order.order_number);
      assert.equal(lines.reduce((n, l) => n + cents(l.line_total), 0), cents(order.subtotal_amount), `${order.order_number} subtotal`);
      assert.equal(cents(order.subtotal_amount) - cents(order.discount_amount) + cents(order.shipping_amount) + cents(order.tax_amount),
        cents(order.total_amount), `${order.order_number} total`);
    }
    assert.equal(centsToDecimal(1999 + 1), '20.00');
    assert.equal(centsToDecimal(5), '0.05');
    assert.equal(centsToDecimal(-1234), '-12.34');
  });

  it('names the bad option', () => {
    assert.throws(() => resolveSeedOptions({ customers: -1 }), /customers: customers must not be negative/);
    assert.throws(() => resolveSeedOptions({ orders: 5, customers: 0 }), /orders: orders need at least one customer/);
  });
});

describe('seeding the shop database', () => {
  let db: TestDatabase;
  let first: SeedResult;
  before(async () => {
    db = await createTestDatabase('seed');
    first = await seedShop(db.appUrl, SMALL);
  });
  after(async () => {
    await db?.drop();
  });

  it('inserts every generated row, and nothing (not even a version bump) on a second run', async () => {
    const generated = generateSeedData(resolveSeedOptions(SMALL));
    for (const table of SYNCED_TABLES) {
      assert.equal(first.tables[table].inserted, generated[table].length, `${table} inserted`);
      assert.ok(generated[table].length > 0, `${table} has seed rows`);
    }
    const second = await seedShop(db.appUrl, SMALL);
    for (const table of SYNCED_TABLES) assert.equal(second.tables[table].inserted, 0, `${table} on the second run`);
    await withClient(db.appUrl, async (c) => {
      for (const table of SYNCED_TABLES) {
        const { rows } = await c.query<{ n: string; bumped: string }>(
          `SELECT count(*) AS n, count(*) FILTER (WHERE version <> 1) AS bumped FROM ${table}`);
        assert.equal(Number(rows[0]!.n), generated[table].length, `${table} row count`);
        assert.equal(rows[0]!.bumped, '0', `${table} versions`);
      }
    });
  });

  it('stores the same rows for the same options in another database', async () => {
    const other = await createTestDatabase('seed2');
    try {
      await seedShop(other.appUrl, SMALL);
      const dump = (url: string) => withClient(url, async (c) =>
        (await c.query('SELECT order_number, customer_number, status, total_amount::text, placed_at FROM orders ORDER BY order_number')).rows);
      assert.deepEqual(await dump(other.appUrl), await dump(db.appUrl));
    } finally {
      await other.drop();
    }
  });

  it('fills only the tables asked for (the story seed leaves the org-mastered ones to the org)', async () => {
    const other = await createTestDatabase('seed3');
    try {
      const result = await seedShop(other.appUrl, { ...SMALL, shopId: 'shop-3' }, undefined, ['customers', 'addresses']);
      const generated = generateSeedData(resolveSeedOptions({ ...SMALL, shopId: 'shop-3' }));
      assert.deepEqual(Object.entries(result.tables).filter(([, c]) => c.inserted > 0).map(([t, c]) => [t, c.inserted]),
        [['customers', generated.customers.length], ['addresses', generated.addresses.length]]);
      await withClient(other.appUrl, async (c) => {
        assert.equal((await c.query("SELECT 1 FROM products WHERE shop_id = 'shop-3'")).rowCount, 0);
      });
    } finally {
      await other.drop();
    }
  });

  it('keeps money exact in the database: stored sums match to the cent', async () => {
    await withClient(db.appUrl, async (c) => {
      const mismatched = await c.query(`
        SELECT o.order_number FROM orders o JOIN order_lines l USING (shop_id, order_number)
         GROUP BY o.order_number, o.subtotal_amount HAVING sum(l.line_total) <> o.subtotal_amount`);
      assert.equal(mismatched.rowCount, 0);
      const { rows } = await c.query<{ price: string }>(`
        INSERT INTO products (sku, name, price) VALUES ('SKU-EXACT', 'Exact', 19.99) RETURNING price`);
      assert.equal(rows[0]!.price, '19.99');
      const bumped = await c.query<{ price: string }>(
        "UPDATE products SET price = price + 0.01 WHERE sku = 'SKU-EXACT' RETURNING price");
      assert.equal(bumped.rows[0]!.price, '20.00');
      const tenth = await c.query<{ total: string }>(
        "SELECT sum(x)::text AS total FROM (SELECT 0.10::numeric(12,2) AS x FROM generate_series(1, 10)) s");
      assert.equal(tenth.rows[0]!.total, '1.00');
    });
  });

  it('rejects a duplicate order number in the same shop but allows it in another shop', async () => {
    await withClient(db.appUrl, async (c) => {
      await assert.rejects(
        c.query("INSERT INTO orders (order_number, customer_number) VALUES ('SO-00000001', 'C-0000001')"),
        (err: Error & { code?: string; constraint?: string }) => {
          assert.equal(err.code, '23505');
          assert.equal(err.constraint, 'orders_business_key');
          return true;
        });
      await c.query(`INSERT INTO customers (shop_id, customer_number, email, first_name, last_name)
                     VALUES ('shop-2', 'C-0000001', 'other@example.com', 'Other', 'Shop')`);
      await c.query("INSERT INTO orders (shop_id, order_number, customer_number) VALUES ('shop-2', 'SO-00000001', 'C-0000001')");
    });
  });

  it('enforces the realistic constraints: unique payment transaction ids, known customers, valid statuses', async () => {
    await withClient(db.appUrl, async (c) => {
      const { rows } = await c.query<{ provider_transaction_id: string }>('SELECT provider_transaction_id FROM payments LIMIT 1');
      await assert.rejects(c.query(
        `INSERT INTO payments (provider_transaction_id, provider, order_number, amount)
         VALUES ($1, 'stripe', 'SO-00000001', 1.00)`, [rows[0]!.provider_transaction_id]), /payments_business_key/);
      await assert.rejects(c.query("INSERT INTO orders (order_number, customer_number) VALUES ('SO-NEW', 'C-UNKNOWN')"),
        /orders_customer_fk/);
      await assert.rejects(c.query("UPDATE orders SET status = 'lost' WHERE order_number = 'SO-00000002'"), /orders_status_valid/);
      await assert.rejects(c.query("INSERT INTO products (sku, name, price, currency) VALUES ('SKU-NEG', 'n', -1, 'EUR')"),
        /products_price_not_negative/);
      await assert.rejects(c.query(`INSERT INTO order_lines (order_number, line_number, sku, product_name, quantity, unit_price, line_total)
         VALUES ('SO-00000001', 99, 'SKU-000001', 'x', 2, 10.00, 25.00)`), /order_lines_total_consistent/);
    });
  });
});
