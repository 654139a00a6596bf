/**
 * product: Salesforce Product2 + its entry in the configured price book (standard by default) -> shop
 * products (name, description, price, currency, active). Salesforce is the master by default.
 */
import { salesforceWrite, shopWrite } from '../commands.ts';
import { known, wants, type EntityMapping } from '../entity.ts';
import { entityKey } from '../keys.ts';
import { fieldsMappedFrom, mergeMappings, readSalesforceImage, readShopRow, salesforceFields, shopColumns, type FieldMapping } from '../mapping.ts';
import type { FieldValue, SalesforceWrite } from '../types.ts';
import { bool, requiredStr, str } from '../values.ts';
import type { ProductConfig } from './config.ts';
import { emptyProduct, PRODUCT_KINDS as K, type Product } from './record.ts';
import { clonePlain } from '../clone.ts';

export const PRODUCT_FIELDS: FieldMapping[] = [
  { canonical: 'name', shop: 'name', salesforce: 'Product2.Name', transform: 'none' },
  { canonical: 'description', shop: 'description', salesforce: 'Product2.Description', transform: 'none' },
  { canonical: 'family', salesforce: 'Product2.Family', transform: 'none' },
  { canonical: 'price', shop: 'price', salesforce: 'PricebookEntry.UnitPrice', transform: 'none' },
  { canonical: 'currency', shop: 'currency', salesforce: 'PricebookEntry.Currency__c', transform: 'uppercase' },
  { canonical: 'active', shop: 'active', transform: 'none' },
  { canonical: 'updatedAt', shop: 'updated_at', transform: 'none' },
];

export interface ProductSalesforceInput {
  Product2: Record<string, unknown>;
  /** The product's entry in the configured price book, when known; otherwise price and currency are kept. */
  PricebookEntry?: Record<string, unknown> | null;
}

export function createProductMapping(cfg: ProductConfig, shopId: string): EntityMapping<Product, Record<string, unknown>, ProductSalesforceInput> {
  const mappings = mergeMappings(PRODUCT_FIELDS, cfg.fields);
  const [productObj, entryObj] = cfg.salesforceObjects;
  const productExt = cfg.externalIds[productObj];
  const [productsTable] = cfg.shopTables;

  return {
    name: 'product',
    key: (p) => entityKey(shopId, p.sku),

    fromShopRow(row, previous) {
      const sku = requiredStr(`${productsTable}.sku`, row.sku);
      const p: Product = previous ? clonePlain(previous) : emptyProduct(sku, cfg.defaultCurrency);
      p.sku = sku;
      readShopRow(K, mappings, row, p, productsTable);
      return p;
    },

    fromSalesforce({ Product2: product, PricebookEntry: entry }, previous) {
      const sku = requiredStr(`${productObj}.${productExt}`, product[productExt]);
      const p: Product = previous ? clonePlain(previous) : emptyProduct(sku, cfg.defaultCurrency);
      p.sku = sku;
      readSalesforceImage(K, mappings, productObj, product, p);
      const productActive = 'IsActive' in product ? bool(`${productObj}.IsActive`, product.IsActive) : null;
      let entryActive: boolean | null = null;
      if (entry && entryObj) {
        readSalesforceImage(K, mappings, entryObj, entry, p);
        entryActive = 'IsActive' in entry ? bool(`${entryObj}.IsActive`, entry.IsActive) : null;
        if (!p.currency) p.currency = cfg.defaultCurrency;
      }
      if (productActive !== null || entryActive !== null) p.active = (productActive ?? true) && (entryActive ?? true);
      if (!p.name) p.name = str(`${productObj}.Name`, product.Name) ?? sku;
      return p;
    },

    knownFromShop(_row, previous) {
      return known(previous, ['sku', ...fieldsMappedFrom(mappings, { shop: true })]);
    },

    knownFromSalesforce({ Product2: product, PricebookEntry: entry }, previous) {
      const objects = [productObj, ...(entry && entryObj ? [entryObj] : [])];
      const active = 'IsActive' in product || (entry && 'IsActive' in entry) ? ['active'] : [];
      return known(previous, ['sku', 'name', ...active, ...fieldsMappedFrom(mappings, { objects })]);
    },

    toSalesforce(p, ctx, op, opts) {
      const prod = { sobject: productObj, externalIdField: productExt, externalId: p.sku };
      if (op === 'DELETE') return [salesforceWrite(ctx, 'DELETE', 0, prod)];
      const writes: SalesforceWrite[] = [];
      const pf = salesforceFields(K, mappings, productObj, p, opts?.fields);
      pf.fields.Name = p.name;
      pf.fields.ProductCode = p.sku;
      if (wants(opts, 'active')) pf.fields.IsActive = p.active;
      writes.push(salesforceWrite(ctx, 'UPSERT', 0, { ...prod, ...pf }));
      if (entryObj && wants(opts, 'price', 'currency', 'active') && p.price !== null) {
        // No usable external id on a user-made PricebookEntry: the sink resolves the entry of this product in
        // the configured price book (pricebookEntry.field 'Id') and updates it, creating it when absent.
        const ef = salesforceFields(K, mappings, entryObj, p, opts?.fields);
        if (wants(opts, 'active')) ef.fields.IsActive = p.active;
        writes.push(salesforceWrite(ctx, 'UPSERT', 1, {
          sobject: entryObj, externalIdField: 'Id', externalId: `${p.sku}|${cfg.pricebook}|${p.currency}`, ...ef,
          pricebookEntry: { field: 'Id', sku: p.sku, currency: p.currency, pricebook: cfg.pricebook },
          parentKeys: [entityKey(shopId, p.sku)],
        }));
      }
      return writes;
    },

    toShop(p, ctx, op, opts) {
      const key = { shop_id: shopId, sku: p.sku };
      if (op === 'DELETE') return [shopWrite(ctx, 'DELETE', 0, { table: productsTable, keyColumns: ['shop_id', 'sku'], row: key })];
      const row: Record<string, FieldValue> = { ...key, ...shopColumns(K, mappings, p, opts?.fields) };
      if (row.price === null) delete row.price; // no price known yet: keep the shop's (the column is NOT NULL)
      return [shopWrite(ctx, 'UPSERT', 0, { table: productsTable, keyColumns: ['shop_id', 'sku'], row })];
    },
  };
}
