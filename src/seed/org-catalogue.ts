/**
 * The org's catalogue, as a catalogue manager or an ERP loads it: Product2 by its SKU (Sku__c, the
 * org's own key) and its entry in the standard price book, through Bulk API 2.0. Loading it again
 * changes nothing: products are upserted by SKU, and only products without a standard entry get one.
 */
import type { Connection } from 'jsforce';
import type { Row } from '../shop/seed/index.ts';
import { loadRows, queryRows } from './org-load.ts';

export interface CatalogueResult { products: number; entriesCreated: number }

/** Product2 + standard PricebookEntry for the generated products (their SKU, name, description, price, active flag). */
export async function loadCatalogue(conn: Connection, products: Row[]): Promise<CatalogueResult> {
  const upserted = await loadRows(conn, { object: 'Product2', operation: 'upsert', externalIdField: 'Sku__c' }, products.map((p) => ({
    Sku__c: p.sku, ProductCode: p.sku, Name: p.name, Description: p.description, IsActive: p.active,
  })));
  const book = (await conn.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')).records[0]?.Id;
  if (!book) throw new Error('the org has no standard price book');
  const priced = new Set<string>();
  for await (const page of queryRows(conn, 'SELECT Product2.Sku__c FROM PricebookEntry WHERE Pricebook2.IsStandard = true')) {
    for (const r of page) priced.add(r['Product2.Sku__c']!);
  }
  const missing = products.filter((p) => !priced.has(String(p.sku)));
  await loadRows(conn, { object: 'PricebookEntry', operation: 'insert' }, missing.map((p) => ({
    'Product2.Sku__c': p.sku, Pricebook2Id: book, UnitPrice: p.price, Currency__c: p.currency, IsActive: true,
  })));
  return { products: upserted, entriesCreated: missing.length };
}
