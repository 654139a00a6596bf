/**
 * stock: shop stock_levels (sku, warehouse_code, quantity) <-> Salesforce Stock_Level__c (Stock_Key__c =
 * "<shop>|<sku>|<warehouse>" (keys.ts), Sku__c, Warehouse__c, Quantity__c, Product__c by Sku__c). Owned by
 * both sides; the reconciler merges quantities by delta.
 */
import { salesforceWrite, shopWrite } from '../commands.ts';
import type { EntityMapping } from '../entity.ts';
import { entityKey, externalIdOf, requiredKeyParts } from '../keys.ts';
import { mergeMappings, readSalesforceImage, readShopRow, salesforceFields, shopColumns, type FieldMapping } from '../mapping.ts';
import { requiredStr } from '../values.ts';
import type { StockConfig } from './config.ts';
import { emptyStock, STOCK_KINDS as K, type StockLevel } from './record.ts';
import { clonePlain } from '../clone.ts';

export const STOCK_FIELDS: FieldMapping[] = [
  { canonical: 'quantity', shop: 'quantity', salesforce: 'Stock_Level__c.Quantity__c', transform: 'none' },
  { canonical: 'updatedAt', shop: 'updated_at', transform: 'none' },
];

export function createStockMapping(cfg: StockConfig, shopId: string): EntityMapping<StockLevel, Record<string, unknown>, Record<string, unknown>> {
  const mappings = mergeMappings(STOCK_FIELDS, cfg.fields);
  const [obj] = cfg.salesforceObjects;
  const ext = cfg.externalIds[obj];
  const [table] = cfg.shopTables;

  return {
    name: 'stock',
    key: (s) => entityKey(shopId, s.sku, s.warehouseCode),
    fromShopRow(row, previous) {
      const sku = requiredStr(`${table}.sku`, row.sku);
      const wh = requiredStr(`${table}.warehouse_code`, row.warehouse_code);
      const s = previous ? clonePlain(previous) : emptyStock(sku, wh);
      readShopRow(K, mappings, row, s, table);
      return s;
    },
    fromSalesforce(image, previous) {
      const [sku, wh] = requiredKeyParts(`${obj}.${ext}`, image[ext], 2);
      const s = previous ? clonePlain(previous) : emptyStock(sku!, wh!);
      readSalesforceImage(K, mappings, obj, image, s);
      return s;
    },
    knownFromShop: () => [],
    knownFromSalesforce: () => [],
    toSalesforce(s, ctx, op, opts) {
      const target = { sobject: obj, externalIdField: ext, externalId: externalIdOf(shopId, s.sku, s.warehouseCode) };
      const productRef = [{ field: 'Product__c', relationshipName: 'Product__r', sobject: 'Product2', externalIdField: 'Sku__c', externalId: s.sku }];
      // a delete keeps its lookup: the sink deletes the stock level before its product
      if (op === 'DELETE') return [salesforceWrite(ctx, 'DELETE', 0, { ...target, references: productRef })];
      const { fields, decimalFields } = salesforceFields(K, mappings, obj, s, opts?.fields);
      return [salesforceWrite(ctx, 'UPSERT', 0, {
        ...target, fields: { ...fields, Sku__c: s.sku, Warehouse__c: s.warehouseCode, Shop_Id__c: shopId }, decimalFields,
        references: productRef,
        parentKeys: [entityKey(shopId, s.sku)],
      })];
    },
    toShop(s, ctx, op, opts) {
      const key = { shop_id: shopId, sku: s.sku, warehouse_code: s.warehouseCode };
      const keyColumns = ['shop_id', 'sku', 'warehouse_code'];
      if (op === 'DELETE') return [shopWrite(ctx, 'DELETE', 0, { table, keyColumns, row: key })];
      return [shopWrite(ctx, 'UPSERT', 0, { table, keyColumns, row: { ...key, ...shopColumns(K, mappings, s, opts?.fields) } })];
    },
  };
}
