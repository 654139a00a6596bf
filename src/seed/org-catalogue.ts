/**
 * The org's catalogue, as a catalogue manager or an ERP loads it: Product2 by its SKU (Sku__c, the
 * org's own key) and its entry in the standard price book, through Bulk API 2.0. Loading it again
 * changes nothing: products are upserted by SKU, and only products without a standard entry get one.
 */
import type { Connection } from 'jsforce';
import type { Row } from '../shop/seed/index.ts';
import { bulkQueryPages, ONE_OFF_QUERY } from '../salesforce/bulk-query-pages.ts';

export interface CatalogueResult { products: number; entriesCreated: number }

async function load(conn: Connection, object: string, operation: 'upsert' | 'insert', input: Record<string, unknown>[], externalIdFieldName?: string): Promise<Array<Record<string, string>>> {
  if (input.length === 0) return [];
  const res = await conn.bulk2.loadAndWaitForResults({ object, operation, externalIdFieldName, input, pollTimeout: 600_000 } as Parameters<Connection['bulk2']['loadAndWaitForResults']>[0]);
  const failed = res.failedResults as unknown as Array<Record<string, string>>;
  if (failed.length > 0) throw new Error(`${failed.length} ${object} rows refused by the org, e.g. ${failed[0]!.sf__Error}`);
  return res.successfulResults as unknown as Array<Record<string, string>>;
}

/** Product2 + standard PricebookEntry for the generated products (their SKU, name, description, price, active flag). */
export async function loadCatalogue(conn: Connection, products: Row[]): Promise<CatalogueResult> {
  const upserted = await load(conn, 'Product2', 'upsert', products.map((p) => ({
    Sku__c: p.sku, ProductCode: p.sku, Name: p.name, Description: p.description, IsActive: p.active,
  })), 'Sku__c');
  const ids = new Map(upserted.map((r) => [r.Sku__c, r.sf__Id]));
  const book = (await conn.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')).records[0]?.Id;
  if (!book) throw new Error('the org has no standard price book');
  const priced = new Set<string>();
  for await (const page of bulkQueryPages(conn, 'SELECT Product2.Sku__c FROM PricebookEntry WHERE Pricebook2.IsStandard = true', ONE_OFF_QUERY)) {
    for (const r of page) priced.add(r['Product2.Sku__c']!);
  }
  const missing = products.filter((p) => !priced.has(String(p.sku)));
  await load(conn, 'PricebookEntry', 'insert', missing.map((p) => ({
    Product2Id: ids.get(String(p.sku)), Pricebook2Id: book, UnitPrice: p.price, Currency__c: p.currency, IsActive: true,
  })));
  return { products: upserted.length, entriesCreated: missing.length };
}
