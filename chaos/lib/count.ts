/**
 * Counting on both sides once the pipeline settled: for each change the ledger holds, is its record
 * on the other side (lost when not), is it there more than once (doubled), does each stock key hold
 * the start quantity plus the sum of its deltas on both sides; per phase of the run.
 */
import { externalIdOf } from '../../src/entities/keys.ts';
import type { Ledger } from './ledger.ts';
import { START_QTY } from './traffic.ts';
import type { World } from './world.ts';

export interface PhaseCount {
  /** Records (or last values) missing on the other side, by kind. */
  lost: Record<string, number>;
  /** Records there more than once, by kind. */
  doubled: Record<string, number>;
  /** Stock keys whose quantity on either side differs from start + Σ deltas. */
  stockOff: string[];
  /** Stock keys left out: a delta of unknown fate (its COMMIT was cut). */
  stockUnknown: number;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
export const totalLost = (c: PhaseCount) => sum(c.lost) + c.stockOff.filter((s) => s.includes('lost')).length;
export const totalDoubled = (c: PhaseCount) => sum(c.doubled) + c.stockOff.filter((s) => s.includes('doubled')).length;

/** Occurrences per value of a list: how many keys are missing from it and how many are there twice. */
function tally(expected: string[], found: string[]): { lost: number; doubled: number } {
  const seen = new Map<string, number>();
  for (const f of found) seen.set(f, (seen.get(f) ?? 0) + 1);
  return {
    lost: expected.filter((e) => !seen.has(e)).length,
    doubled: expected.reduce((n, e) => n + Math.max(0, (seen.get(e) ?? 0) - 1), 0),
  };
}

async function soqlColumn(w: World, object: string, field: string): Promise<string[]> {
  const records = (await w.sf.query<Record<string, string>>(`SELECT ${field} FROM ${object} WHERE ${field} LIKE '${w.shopId}|%'`).run({ autoFetch: true, maxFetch: 10_000_000 })).records;
  return records.map((r) => r[field]!);
}

async function shopColumn(w: World, sql: string): Promise<string[]> {
  return (await w.db.query<{ k: string }>(sql, [w.shopId])).rows.map((r) => r.k);
}

/** Reads both sides once and counts every phase. */
export async function countAll(w: World, ledger: Ledger, phases: number): Promise<PhaseCount[]> {
  const ext = (...parts: string[]) => externalIdOf(w.shopId, ...parts);
  const org = {
    Account: await soqlColumn(w, 'Account', 'Shop_Customer_Id__c'),
    Contact: await soqlColumn(w, 'Contact', 'Shop_Customer_Id__c'),
    Opportunity: await soqlColumn(w, 'Opportunity', 'Shop_Order_Id__c'),
    OpportunityLineItem: await soqlColumn(w, 'OpportunityLineItem', 'Shop_Line_Id__c'),
    Payment__c: await soqlColumn(w, 'Payment__c', 'Provider_Transaction_Id__c'),
    Case: await soqlColumn(w, 'Case', 'Shop_Ticket_Id__c'),
  };
  const stockOrg = new Map((await w.sf.query<{ Stock_Key__c: string; Quantity__c: number }>(`SELECT Stock_Key__c, Quantity__c FROM Stock_Level__c WHERE Stock_Key__c LIKE '${w.shopId}|%'`)
    .run({ autoFetch: true, maxFetch: 1_000_000 })).records.map((r) => [r.Stock_Key__c.slice(w.shopId.length + 1), Number(r.Quantity__c)]));
  const shop = {
    invoices: await shopColumn(w, 'SELECT invoice_number AS k FROM invoices WHERE shop_id = $1'),
    members: await shopColumn(w, "SELECT segment_code || '|' || customer_number AS k FROM segment_members WHERE shop_id = $1"),
  };
  const prices = new Map((await w.db.query<{ sku: string; price: string }>('SELECT sku, price FROM products WHERE shop_id = $1', [w.shopId])).rows.map((r) => [r.sku, Number(r.price)]));
  const stockShop = new Map((await w.db.query<{ k: string; quantity: number }>("SELECT sku || '|' || warehouse_code AS k, quantity FROM stock_levels WHERE shop_id = $1", [w.shopId])).rows.map((r) => [r.k, r.quantity]));

  return Array.from({ length: phases }, (_, phase) => {
    const of = <T extends { phase: number }>(list: T[]) => list.filter((x) => x.phase === phase);
    const lost: Record<string, number> = {};
    const doubled: Record<string, number> = {};
    const add = (kind: string, r: { lost: number; doubled: number }) => {
      if (r.lost) lost[kind] = r.lost;
      if (r.doubled) doubled[kind] = r.doubled;
    };
    const customers = of(ledger.customers).map((c) => ext(c.customer));
    add('Account', tally(customers, org.Account));
    add('Contact', tally(customers, org.Contact));
    const orders = of(ledger.orders);
    add('Opportunity', tally(orders.map((o) => ext(o.order)), org.Opportunity));
    add('OpportunityLineItem', tally(orders.flatMap((o) => Array.from({ length: o.lines }, (_, j) => ext(o.order, String(j + 1)))), org.OpportunityLineItem));
    add('Payment__c', tally(of(ledger.payments).map((p) => ext('stripe', p.txn)), org.Payment__c));
    add('Case', tally(of(ledger.tickets).map((t) => ext(t.ticket)), org.Case));
    add('invoice', tally(of(ledger.invoices).map((v) => v.invoice), shop.invoices));
    add('segment member', tally(of(ledger.members).map((m) => `${m.segment}|${m.customer}`), shop.members));
    const stalePrices = [...ledger.prices].filter(([sku, p]) => p.phase === phase && prices.get(sku) !== p.price);
    if (stalePrices.length) lost.price = stalePrices.length;
    const stockOff: string[] = [];
    let stockUnknown = 0;
    for (const [key, d] of ledger.stockDeltas) {
      if (d.phase !== phase) continue;
      if (ledger.stockUnknown.has(key)) { stockUnknown++; continue; }
      const want = START_QTY + d.sum;
      for (const [side, have] of [['shop', stockShop.get(key)], ['org', stockOrg.get(key)]] as const) {
        if (have !== want) stockOff.push(`${key} ${side} ${have} want ${want} (${(have ?? 0) < want ? 'lost' : 'doubled'})`);
      }
    }
    return { lost, doubled, stockOff, stockUnknown };
  });
}
