/**
 * The types every entity shares: the envelope of a canonical change and the write commands (TypeScript
 * mirror of schemas/*.avsc). Each entity's own record lives in its folder (e.g. customer/record.ts).
 * Money is a decimal string, instants are epoch ms, calendar dates are 'YYYY-MM-DD' strings.
 */
export type Origin = 'SHOP' | 'SALESFORCE';
export type Op = 'UPSERT' | 'DELETE';
export type Extra = Record<string, string | null>;

/** The envelope of every sync.<entity> value (schemas/<entity>.avsc). */
export interface CanonicalChange<T extends object = object> {
  shopId: string;
  entity: string;
  key: string;
  origin: Origin;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  op: Op;
  sourceRecordId: string | null;
  sourceVersion: number | null;
  changeOrigin: string | null;
  record: T | null;
  /** Top-level canonical fields the source knew for this change; empty = all. */
  knownFields: string[];
}

export type FieldValue = string | number | boolean | null;

/** A value of sync.out.salesforce (schemas/salesforce_write.avsc). */
export interface SalesforceReference {
  field: string;
  relationshipName: string;
  sobject: string;
  externalIdField: string;
  externalId: string;
}
export interface PricebookEntryReference {
  field: string;
  sku: string;
  currency: string | null;
  pricebook: string;
}
export interface SalesforceWrite {
  commandId: string;
  shopId: string;
  entity: string;
  key: string;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  operation: Op;
  sequence: number;
  sobject: string;
  externalIdField: string;
  externalId: string;
  fields: Record<string, FieldValue>;
  decimalFields: string[];
  references: SalesforceReference[];
  pricebookEntry: PricebookEntryReference | null;
  parentKeys: string[];
  /** A re-assertion of the master's value: written even if equal to our last write (the record changed since). */
  reassert: boolean;
}

/** A value of sync.out.shop (schemas/shop_write.avsc). */
export interface ShopWrite {
  commandId: string;
  shopId: string;
  entity: string;
  key: string;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  operation: Op;
  sequence: number;
  table: string;
  keyColumns: string[];
  row: Record<string, FieldValue>;
  sourceVersion: number | null;
  parentKeys: string[];
}
