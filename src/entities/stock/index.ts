/**
 * stock: shop stock_levels <-> Salesforce Stock_Level__c (Stock_Key__c = "<shop>|<sku>|<warehouse>",
 * linked to Product2 by SKU). Both sides change it (the shop sells, warehouse users restock or
 * correct): the reconciler merges quantities by delta and writes once per window.
 */
import { defineEntity } from '../definition.ts';
import { mergeMappings } from '../mapping.ts';
import { byExternalId, keyedBy, single } from '../parts.ts';
import { stockConfig } from './config.ts';
import { createStockMapping, STOCK_FIELDS } from './mapping.ts';
import { STOCK_KINDS } from './record.ts';

export const stock = defineEntity({
  name: 'stock',
  description: 'Stock per SKU and warehouse, both sides, delta merge.',
  kinds: STOCK_KINDS,
  config: stockConfig,
  fieldMappings: (cfg) => mergeMappings(STOCK_FIELDS, cfg.fields),
  flow(cfg) {
    const [table] = cfg.shopTables;
    const [object] = cfg.salesforceObjects;
    return {
      entity: 'stock',
      shop: { [table!]: { as: 'stock', many: false, ...keyedBy('sku', 'warehouse_code') } },
      salesforce: { [object!]: { as: 'Stock_Level__c', many: false, ...byExternalId(cfg.externalIds[object!]!) } },
      shopInput: (p) => single(p, 'stock'),
      salesforceInput: (p) => single(p, 'Stock_Level__c'),
    };
  },
  mapping: (cfg, shopId) => createStockMapping(cfg, shopId),
  policy: (cfg) => ({ deltaField: 'quantity', windowMs: cfg.windowMs, belowZero: cfg.belowZero }),
});
