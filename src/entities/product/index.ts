/**
 * product: Salesforce Product2 (external id Sku__c) + its entry in the configured price book ->
 * shop products, owned by Salesforce. A deleted product is deactivated in the shop.
 *
 * Sku__c is the org's own SKU, not an external id we write: the org masters its catalogue and every
 * shop syncing into it sells from the same Product2 records, so the key carries no shop id on the
 * Salesforce side (docs/design.md, "Several shops, one org"); each shop keeps its own products row.
 */
import { soqlString } from '../../salesforce/sink/soql.ts';
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { keyedBy, single } from '../parts.ts';
import { productConfig } from './config.ts';
import { createProductMapping, PRODUCT_FIELDS } from './mapping.ts';
import { PRODUCT_KINDS } from './record.ts';

export const product = defineEntity({
  name: 'product',
  description: 'Salesforce Product2 + standard PricebookEntry -> shop products.',
  kinds: PRODUCT_KINDS,
  config: productConfig,
  fieldMappings: (cfg) => mergeMappings(PRODUCT_FIELDS, cfg.fields),
  flow(cfg) {
    const [products] = cfg.shopTables;
    const [product2, entry] = cfg.salesforceObjects;
    const skuField = cfg.externalIds[product2!]!;
    return {
      entity: 'product',
      shop: { [products!]: { as: 'product', many: false, ...keyedBy('sku') } },
      salesforce: {
        [product2!]: { as: 'Product2', many: false, ...keyedBy(skuField) },
        // a price book entry's key is its product's SKU
        ...(entry ? {
          [entry]: {
            as: 'PricebookEntry', many: false, parentKey: { viaField: 'Product2Id', object: product2!, keyField: skuField },
            // the entries of the configured price book carry the shop price
            filter: cfg.pricebook === 'standard' ? 'Pricebook2.IsStandard = true' : `Pricebook2.Name = ${soqlString(cfg.pricebook)}`,
          },
        } : {}),
      },
      shopInput: (p) => single(p, 'product'),
      // a shop product needs its price: a Product2 waits for its price book entry (and vice versa)
      salesforceInput: (p) => (entry ? single(p, 'Product2') && single(p, 'PricebookEntry') : single(p, 'Product2'))
        && { Product2: single(p, 'Product2'), PricebookEntry: single(p, 'PricebookEntry') ?? null },
    };
  },
  mapping: (cfg, shopId) => createProductMapping(cfg, shopId),
  policy: () => ({ deactivateField: 'active' }),
});
