/**
 * Sustained mixed traffic on every flow, on the side that masters each: the shop sells (customers,
 * orders with lines, payments, tickets, stock sales), the org's people and its ERP work (price edits,
 * restocks, invoices, campaign members). Each phase of a chaos run has its own products and stock
 * keys, so its counts are its own. Org writes go through the emulator's admin userEdit (a person in
 * the UI: no API fault or quota touches them); shop writes through a pool (a PostgreSQL restart
 * fails some, which are retried or checked).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { externalIdOf } from '../../src/entities/keys.ts';
import { loadCatalogue } from '../../src/seed/org-catalogue.ts';
import { Ledger } from './ledger.ts';
import type { World } from './world.ts';

export const WAREHOUSE = 'WH-CX';
export const START_QTY = 1_000;
const SKUS_PER_PHASE = 3;
const BASE_PRICE = 10;

type Op = (phase: number, i: number) => Promise<void>;

/** Is a pg error one where the COMMIT may have gone through (the connection died while it was sent)? */
const connectionLost = (err: unknown) => /terminat|Connection|ECONNRE|EPIPE|shutdown|closed/i.test(String((err as Error)?.message ?? err));

export class Traffic {
  readonly ledger = new Ledger();
  phase = 0;
  private stopped = true;
  private loop?: Promise<void>;
  private i = 0;
  /** PricebookEntry id per SKU. */
  private entries = new Map<string, string>();
  /** Errors of the traffic itself (a write refused while a fault is on), by kind. */
  readonly skipped = new Map<string, number>();

  constructor(private readonly w: World, private readonly phases: number, private readonly ratePerSecond: number) {}

  sku(phase: number, j: number): string { return `${this.w.run}-${phase}-P${j}`; }
  stockKey(phase: number, j: number): string { return `${this.sku(phase, j)}|${WAREHOUSE}`; }
  private tag(phase: number): string { return `${this.w.run}-${phase}`; }

  /** The catalogue of every phase (org → shop), a warehouse and a stock level per SKU (shop → org). */
  async setup(): Promise<void> {
    const { w } = this;
    const skus = Array.from({ length: this.phases }, (_, k) => Array.from({ length: SKUS_PER_PHASE }, (_, j) => this.sku(k, j))).flat();
    await loadCatalogue(w.sf, skus.map((sku) => ({ sku, name: `Chaos ${sku}`, description: null, price: BASE_PRICE, currency: 'EUR', active: true })));
    await this.until('the catalogue in the shop', async () => Number((await w.db.query('SELECT count(*) FROM products WHERE shop_id = $1', [w.shopId])).rows[0].count) >= skus.length);
    await w.db.query("INSERT INTO warehouses (shop_id, warehouse_code, name, country) VALUES ($1, $2, $2, 'DE')", [w.shopId, WAREHOUSE]);
    await w.db.query('INSERT INTO stock_levels (shop_id, sku, warehouse_code, quantity) SELECT $1, s, $2, $3 FROM unnest($4::text[]) AS s', [w.shopId, WAREHOUSE, START_QTY, skus]);
    await this.until('the stock levels in the org', async () => (await w.sf.query(`SELECT COUNT() FROM Stock_Level__c WHERE Stock_Key__c LIKE '${w.shopId}|%'`)).totalSize >= skus.length);
    const rows = (await w.sf.query<{ Id: string; Product2: { Sku__c: string } }>(`SELECT Id, Product2.Sku__c FROM PricebookEntry WHERE Product2.Sku__c LIKE '${w.run}-%'`).run({ autoFetch: true, maxFetch: 100_000 })).records;
    this.entries = new Map(rows.map((r) => [r.Product2.Sku__c, r.Id]));
  }

  private async until(what: string, done: () => Promise<boolean>, timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await done().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`setup: ${what} did not arrive in ${timeoutMs / 1000} s`);
      await sleep(1_000);
    }
  }

  start(): void {
    this.stopped = false;
    this.loop = (async () => {
      const ops = this.ops();
      while (!this.stopped) {
        const started = Date.now();
        const op = ops[this.i % ops.length]!;
        const phase = this.phase;
        try {
          await op(phase, this.i);
        } catch (err) {
          const kind = String((err as Error)?.message ?? err).slice(0, 60);
          this.skipped.set(kind, (this.skipped.get(kind) ?? 0) + 1);
        }
        this.i++;
        await sleep(Math.max(0, 1_000 / this.ratePerSecond - (Date.now() - started)));
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** A shop transaction; on a cut connection, `check` says whether it was committed after all (undefined: unknown). */
  private async shopTx(body: (c: pg.PoolClient) => Promise<void>, check: () => Promise<boolean | undefined>): Promise<boolean | undefined> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.w.db.connect();
    } catch {
      return false; // PostgreSQL is down: nothing was written
    }
    try {
      await client.query('BEGIN');
      await body(client);
      await client.query('COMMIT');
      client.release();
      return true;
    } catch (err) {
      client.release(err as Error);
      if (!connectionLost(err)) throw err;
      for (let k = 0; k < 120; k++) {
        const known = await check().catch(() => null);
        if (known !== null) return known;
        await sleep(1_000);
      }
      return undefined;
    }
  }

  private exists(sql: string, args: unknown[]): () => Promise<boolean> {
    return async () => (await this.w.db.query(sql, args)).rowCount! > 0;
  }

  private orderFor(phase: number, i: number) {
    const mine = this.ledger.orders.filter((o) => o.phase === phase);
    return mine.length ? mine[i % mine.length] : undefined;
  }

  /** One change per tick, round robin over every flow and both directions of stock. */
  private ops(): Op[] {
    const { w, ledger } = this;
    const order: Op = async (phase, i) => {
      const tag = this.tag(phase);
      const customer = `${tag}-C${i}`;
      const orderNo = `${tag}-O${i}`;
      const n = 1 + (i % 3);
      const lines = Array.from({ length: n }, (_, j) => ({ sku: this.sku(phase, j), price: BASE_PRICE + j }));
      const total = lines.reduce((a, l) => a + l.price, 0);
      const ok = await this.shopTx(async (c) => {
        await c.query("INSERT INTO customers (shop_id, customer_number, email, first_name, last_name) VALUES ($1, $2, $3, 'Chaos', $4)",
          [w.shopId, customer, `${customer.toLowerCase()}@example.com`, `Customer ${i}`]);
        await c.query("INSERT INTO orders (shop_id, order_number, customer_number, status, currency, subtotal_amount, total_amount) VALUES ($1, $2, $3, 'pending', 'EUR', $4, $4)",
          [w.shopId, orderNo, customer, total]);
        for (const [j, l] of lines.entries()) {
          await c.query('INSERT INTO order_lines (shop_id, order_number, line_number, sku, product_name, quantity, unit_price, line_total) VALUES ($1, $2, $3, $4, $5, 1, $6, $6)',
            [w.shopId, orderNo, j + 1, l.sku, `Chaos ${l.sku}`, l.price]);
        }
      }, this.exists('SELECT 1 FROM orders WHERE shop_id = $1 AND order_number = $2', [w.shopId, orderNo]));
      if (ok) {
        ledger.customers.push({ customer, phase });
        ledger.orders.push({ order: orderNo, customer, lines: n, total, phase });
        ledger.count(phase);
      }
    };
    const payment: Op = async (phase, i) => {
      const o = this.orderFor(phase, i);
      if (!o || ledger.payments.some((p) => p.order === o.order)) return;
      const txn = `pi_${this.tag(phase)}_${i}`;
      const ok = await this.shopTx(async (c) => {
        await c.query(`INSERT INTO payments (shop_id, provider_transaction_id, provider, order_number, amount, status, processed_at)
          VALUES ($1, $2, 'stripe', $3, $4, 'captured', now())`, [w.shopId, txn, o.order, o.total]);
      }, this.exists('SELECT 1 FROM payments WHERE shop_id = $1 AND provider_transaction_id = $2', [w.shopId, txn]));
      if (ok) { ledger.payments.push({ txn, order: o.order, phase }); ledger.count(phase); }
    };
    const ticket: Op = async (phase, i) => {
      const o = this.orderFor(phase, i);
      if (!o) return;
      const ticketNo = `${this.tag(phase)}-T${i}`;
      const ok = await this.shopTx(async (c) => {
        await c.query(`INSERT INTO support_tickets (shop_id, ticket_number, customer_number, order_number, subject, status, priority, channel)
          VALUES ($1, $2, $3, $4, 'Parcel late', 'open', 'medium', 'email')`, [w.shopId, ticketNo, o.customer, o.order]);
      }, this.exists('SELECT 1 FROM support_tickets WHERE shop_id = $1 AND ticket_number = $2', [w.shopId, ticketNo]));
      if (ok) { ledger.tickets.push({ ticket: ticketNo, phase }); ledger.count(phase); }
    };
    const sale: Op = async (phase, i) => {
      const j = i % SKUS_PER_PHASE;
      const qty = 1 + (i % 4);
      const key = this.stockKey(phase, j);
      const ok = await this.shopTx(async (c) => {
        await c.query('UPDATE stock_levels SET quantity = quantity - $4 WHERE shop_id = $1 AND sku = $2 AND warehouse_code = $3', [w.shopId, this.sku(phase, j), WAREHOUSE, qty]);
      }, async () => undefined);
      if (ok) ledger.stock(key, -qty, phase);
      else if (ok === undefined) ledger.stockUnknown.add(key);
    };
    const restock: Op = async (phase, i) => {
      const j = (i + 1) % SKUS_PER_PHASE;
      const qty = 2 + (i % 5);
      w.t.sb.admin.userEdit({ object: 'Stock_Level__c', externalId: { field: 'Stock_Key__c', value: externalIdOf(w.shopId, this.sku(phase, j), WAREHOUSE) }, increment: { Quantity__c: qty } });
      ledger.stock(this.stockKey(phase, j), qty, phase);
    };
    const price: Op = async (phase, i) => {
      const sku = this.sku(phase, i % SKUS_PER_PHASE);
      const newPrice = BASE_PRICE + 1 + (i % 97) / 100;
      w.t.sb.admin.userEdit({ object: 'PricebookEntry', id: this.entries.get(sku)!, fields: { UnitPrice: newPrice } });
      ledger.prices.set(sku, { price: newPrice, phase });
      ledger.count(phase);
    };
    const invoice: Op = async (phase, i) => {
      const o = this.orderFor(phase, i);
      if (!o || ledger.invoices.some((v) => v.invoice.endsWith(o.order))) return;
      const opp = (await w.sf.query<{ Id: string }>(`SELECT Id FROM Opportunity WHERE Shop_Order_Id__c = '${externalIdOf(w.shopId, o.order)}'`)).records[0];
      if (!opp) return; // not in the org yet: another tick
      const invoiceNo = `INV-${o.order}`;
      w.t.sb.admin.userEdit({ object: 'Invoice__c', externalId: { field: 'Invoice_Number__c', value: invoiceNo }, fields: {
        Opportunity__c: opp.Id, Amount__c: o.total, Tax_Amount__c: 0, Paid_Amount__c: o.total, Currency__c: 'EUR', Status__c: 'Paid', Issued_Date__c: '2026-12-01',
      } });
      ledger.invoices.push({ invoice: invoiceNo, phase });
      ledger.count(phase);
    };
    const member: Op = async (phase, i) => {
      const o = this.orderFor(phase, i);
      const segment = `SEG-${this.tag(phase)}`;
      if (!o || ledger.members.some((m) => m.customer === o.customer)) return;
      const contact = (await w.sf.query<{ Id: string }>(`SELECT Id FROM Contact WHERE Shop_Customer_Id__c = '${externalIdOf(w.shopId, o.customer)}'`)).records[0];
      if (!contact) return;
      const campaign = w.t.sb.admin.userEdit({ object: 'Campaign', externalId: { field: 'Shop_Segment_Id__c', value: segment }, fields: { Name: `Chaos ${segment}`, IsActive: true } });
      w.t.sb.admin.userEdit({ object: 'CampaignMember', externalId: { field: 'Shop_Member_Key__c', value: `${segment}|${o.customer}` }, fields: { CampaignId: campaign.id, ContactId: contact.Id, Status: 'Sent' } });
      ledger.members.push({ segment, customer: o.customer, phase });
      ledger.count(phase);
    };
    return [order, sale, price, restock, payment, order, ticket, invoice, sale, restock, member];
  }
}
