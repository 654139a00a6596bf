import type { Connection } from 'jsforce';

export interface PricedProduct { sku: string; name: string; price: number }

/**
 * Creates products in the org the way a catalogue manager would: Product2 with its SKU and an
 * active entry in the standard price book. Returns the PricebookEntry ids, in order.
 */
export async function createPricedProducts(sf: Connection, products: PricedProduct[]): Promise<string[]> {
  const pricebookId = (await sf.query<{ Id: string }>('SELECT Id FROM Pricebook2 WHERE IsStandard = true')).records[0]!.Id;
  const entryIds: string[] = [];
  for (const p of products) {
    const product = (await sf.sobject('Product2').create({ Name: p.name, Sku__c: p.sku, ProductCode: p.sku, IsActive: true })) as { id: string };
    const entry = (await sf.sobject('PricebookEntry').create({ Product2Id: product.id, Pricebook2Id: pricebookId, UnitPrice: p.price, IsActive: true })) as { id: string };
    entryIds.push(entry.id);
  }
  return entryIds;
}
