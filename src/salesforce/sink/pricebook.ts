import type { Connection } from 'jsforce';
import type { PricebookEntryReference } from '../../entities/types.ts';
import { callSalesforce, type CallPolicy } from './call.ts';
import { Lru } from './lru.ts';
import { inChunks, pathValue, soqlString } from './soql.ts';

export function pricebookKey(ref: PricebookEntryReference): string {
  return `${ref.pricebook}\u0001${ref.sku}\u0001${ref.currency ?? ''}`;
}

/**
 * PricebookEntry ids by product SKU and price book: one SOQL per price book for the SKUs not
 * cached (`... WHERE Pricebook2.IsStandard = true AND Product2.Sku__c IN (...)`). Only hits are
 * cached: a missing entry is asked again on a later flush (its product may have landed since).
 */
export class PricebookResolver {
  private readonly cache: Lru<string>;
  private readonly pricebookIds = new Map<string, string>();

  constructor(
    private readonly conn: Connection,
    private readonly policy: CallPolicy,
    size: number,
    private readonly skuField: string,
    private readonly currencyField: string | undefined,
  ) {
    this.cache = new Lru(size);
  }

  remember(ref: PricebookEntryReference, id: string): void {
    this.cache.set(pricebookKey(ref), id);
  }

  forget(ref: PricebookEntryReference): void {
    this.cache.delete(pricebookKey(ref));
  }

  private bookFilter(pricebook: string): string {
    return pricebook === 'standard' ? 'Pricebook2.IsStandard = true' : `Pricebook2.Name = ${soqlString(pricebook)}`;
  }

  /** Entry ids by pricebookKey; absent = no such entry (yet). */
  async resolve(refs: PricebookEntryReference[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const todo = new Map<string, PricebookEntryReference[]>();
    for (const ref of refs) {
      const hit = this.cache.get(pricebookKey(ref));
      if (hit) { out.set(pricebookKey(ref), hit); continue; }
      todo.set(ref.pricebook, [...(todo.get(ref.pricebook) ?? []), ref]);
    }
    for (const [pricebook, group] of todo) {
      for (const chunk of inChunks([...new Set(group.map((r) => r.sku))])) {
        const cur = this.currencyField ? `, ${this.currencyField}` : '';
        const soql = `SELECT Id, Product2.${this.skuField}${cur} FROM PricebookEntry WHERE ${this.bookFilter(pricebook)} AND Product2.${this.skuField} IN (${chunk.map(soqlString).join(', ')})`;
        const res = await callSalesforce(this.policy, { api: 'query', sobject: 'PricebookEntry', operation: 'resolve-pricebook' },
          () => this.conn.query<Record<string, unknown>>(soql).run({ autoFetch: true, maxFetch: 10_000 }));
        for (const ref of group.filter((r) => chunk.includes(r.sku))) {
          const entries = res.records.filter((rec) => pathValue(rec, `Product2.${this.skuField}`) === ref.sku);
          const pick = (this.currencyField && ref.currency
            ? entries.find((e) => e[this.currencyField!] === ref.currency) ?? entries.find((e) => e[this.currencyField!] == null)
            : undefined) ?? entries[0];
          if (pick) {
            this.cache.set(pricebookKey(ref), String(pick.Id));
            out.set(pricebookKey(ref), String(pick.Id));
          }
        }
      }
    }
    return out;
  }

  /** Id of a price book ("standard" or by name), cached; for creating entries. */
  async pricebookId(pricebook: string): Promise<string | undefined> {
    const hit = this.pricebookIds.get(pricebook);
    if (hit) return hit;
    const where = pricebook === 'standard' ? 'IsStandard = true' : `Name = ${soqlString(pricebook)}`;
    const res = await callSalesforce(this.policy, { api: 'query', sobject: 'Pricebook2', operation: 'resolve-pricebook' },
      () => this.conn.query<Record<string, unknown>>(`SELECT Id FROM Pricebook2 WHERE ${where} LIMIT 1`).run());
    const id = res.records[0]?.Id;
    if (typeof id === 'string') this.pricebookIds.set(pricebook, id);
    return typeof id === 'string' ? id : undefined;
  }
}
