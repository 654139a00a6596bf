import type { ShopforceConfig } from '../config/schema.ts';
import type { EntityName } from '../entities/types.ts';

/** A Salesforce image whose entity key lives on a parent record (e.g. PricebookEntry -> Product2.Sku__c). */
export interface ParentKeyLookup {
  viaField: string;     // lookup field on this object, e.g. Product2Id
  object: string;       // parent object, e.g. Product2
  keyField: string;     // parent's field holding the business key, e.g. Sku__c
}

/** One source table or Salesforce object of an entity: how its images find their entity and fit in. */
export interface PartSpec {
  /** Name of this part in the mapping's input, e.g. "addresses", "Contact". */
  as: string;
  /** Several images per entity (order lines, line items), kept by record id. */
  many: boolean;
  /** For a many-part: the canonical field its images make up together (e.g. "lines"). */
  field?: string;
  /** Business key parts of the entity, read from an image of this part; undefined when absent. */
  key?: (image: Record<string, unknown>) => string[] | undefined;
  /** Or: the key is on a parent record, looked up by id (cached). */
  parentKey?: ParentKeyLookup;
}

/**
 * How an entity's raw changes become one mapping input per key: which shop tables and Salesforce
 * objects it reads (the first of each is the main part: its delete is the entity's delete), and how
 * the parts assemble into the mapping's input. Data, not plumbing: one entry per entity.
 */
export interface FlowSpec {
  entity: EntityName;
  shop: Record<string, PartSpec>;
  salesforce: Record<string, PartSpec>;
  /** Mapping input from the kept parts; undefined while the main part is missing. */
  shopInput(parts: Parts): unknown;
  salesforceInput(parts: Parts): unknown;
}

/** Kept images of one entity key: single parts by name, many-parts as record id -> image. */
export type Parts = Record<string, Record<string, unknown> | Record<string, Record<string, unknown>> | null | undefined>;

const text = (v: unknown): string | undefined => (v === null || v === undefined || v === '' ? undefined : String(v));
const one = (field: string) => (image: Record<string, unknown>) => {
  const v = text(image[field]);
  return v === undefined ? undefined : [v];
};
/** The images of a many-part, or undefined before the first one arrived (so "no lines known" is not "no lines"). */
const list = (parts: Parts, name: string) => {
  const images = Object.values((parts[name] as Record<string, Record<string, unknown>> | undefined) ?? {});
  return parts[name] === undefined ? undefined : images;
};
const single = (parts: Parts, name: string) => (parts[name] as Record<string, unknown> | null | undefined) ?? undefined;

/** The flow specs of the entities this issue builds (customer, order, product), from the config. */
export function flowSpecs(config: ShopforceConfig): Partial<Record<EntityName, FlowSpec>> {
  const e = config.entities;
  const specs: Partial<Record<EntityName, FlowSpec>> = {};
  if (e.customer.enabled) {
    const [customers, addresses] = e.customer.shopTables;
    const [account, contact] = e.customer.salesforceObjects;
    specs.customer = {
      entity: 'customer',
      shop: {
        [customers!]: { as: 'customer', many: false, key: one('customer_number') },
        [addresses!]: { as: 'addresses', many: true, key: one('customer_number') },
      },
      salesforce: {
        [account!]: { as: 'Account', many: false, key: one(e.customer.externalIds[account!]!) },
        [contact!]: { as: 'Contact', many: false, key: one(e.customer.externalIds[contact!]!) },
      },
      shopInput: (p) => single(p, 'customer') && { customer: single(p, 'customer'), addresses: list(p, 'addresses') },
      salesforceInput: (p) => (single(p, 'Account') || single(p, 'Contact')) && { Account: single(p, 'Account'), Contact: single(p, 'Contact') },
    };
  }
  if (e.order.enabled) {
    const [orders, lines] = e.order.shopTables;
    const [opportunity, lineItem] = e.order.salesforceObjects;
    const lineExt = e.order.externalIds[lineItem!]!;
    specs.order = {
      entity: 'order',
      shop: {
        [orders!]: { as: 'order', many: false, key: one('order_number') },
        [lines!]: { as: 'lines', many: true, key: one('order_number') },
      },
      salesforce: {
        [opportunity!]: { as: 'Opportunity', many: false, key: one(e.order.externalIds[opportunity!]!) },
        // line external ids are "<order number>-<line number>"
        [lineItem!]: { as: 'lineItems', many: true, field: 'lines', key: (img) => { const v = text(img[lineExt]); return v?.includes('-') ? [v.slice(0, v.lastIndexOf('-'))] : undefined; } },
      },
      shopInput: (p) => single(p, 'order') && { order: single(p, 'order'), lines: list(p, 'lines') },
      salesforceInput: (p) => single(p, 'Opportunity') && { Opportunity: single(p, 'Opportunity'), lineItems: list(p, 'lineItems') },
    };
  }
  if (e.product.enabled) {
    const [products] = e.product.shopTables;
    const [product2, entry] = e.product.salesforceObjects;
    const skuField = e.product.externalIds[product2!]!;
    specs.product = {
      entity: 'product',
      shop: { [products!]: { as: 'product', many: false, key: one('sku') } },
      salesforce: {
        [product2!]: { as: 'Product2', many: false, key: one(skuField) },
        ...(entry ? { [entry]: { as: 'PricebookEntry', many: false, parentKey: { viaField: 'Product2Id', object: product2!, keyField: skuField } } } : {}),
      },
      shopInput: (p) => single(p, 'product'),
      // a shop product needs its price: a Product2 waits for its price book entry (and vice versa)
      salesforceInput: (p) => (entry ? single(p, 'Product2') && single(p, 'PricebookEntry') : single(p, 'Product2'))
        && { Product2: single(p, 'Product2'), PricebookEntry: single(p, 'PricebookEntry') ?? null },
    };
  }
  return specs;
}
