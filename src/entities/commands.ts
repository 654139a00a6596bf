/** Builders of write commands (sync.out.salesforce / sync.out.shop) with deterministic ids. */
import { createHash } from 'node:crypto';
import type { FieldValue, Op, PricebookEntryReference, SalesforceReference, SalesforceWrite, ShopWrite } from './types.ts';

/** Where a write comes from: the change that caused it. */
export interface WriteContext {
  shopId: string;
  entity: string;
  key: string;
  sourcePosition: string;
  transactionId: string;
  eventTime: number;
  /** Shop sink guard: version of the change at its source (Salesforce commit number / timestamp). */
  sourceVersion?: number | null;
}

/** Same change + same target record → same id, so a replayed command is recognised downstream. */
export function commandId(ctx: WriteContext, target: string, operation: Op): string {
  return createHash('sha256')
    .update([ctx.key, ctx.sourcePosition, ctx.transactionId, target, operation].join('\u0000'))
    .digest('hex').slice(0, 32);
}

export interface SalesforceWriteSpec {
  sobject: string;
  externalIdField: string;
  externalId: string;
  fields?: Record<string, FieldValue>;
  decimalFields?: string[];
  references?: SalesforceReference[];
  pricebookEntry?: PricebookEntryReference | null;
  parentKeys?: string[];
}

export function salesforceWrite(ctx: WriteContext, operation: Op, sequence: number, spec: SalesforceWriteSpec): SalesforceWrite {
  const fields = { ...(spec.fields ?? {}) };
  delete fields[spec.externalIdField];
  return {
    commandId: commandId(ctx, `sf:${spec.sobject}:${spec.externalIdField}:${spec.externalId}`, operation),
    shopId: ctx.shopId, entity: ctx.entity, key: ctx.key, sourcePosition: ctx.sourcePosition,
    transactionId: ctx.transactionId, eventTime: ctx.eventTime, operation, sequence,
    sobject: spec.sobject, externalIdField: spec.externalIdField, externalId: spec.externalId,
    fields: operation === 'DELETE' ? {} : fields,
    decimalFields: operation === 'DELETE' ? [] : (spec.decimalFields ?? []).filter((f) => f in fields),
    // a DELETE keeps its lookups: no field is written, but they tell the sink its parents, so children are deleted first
    references: spec.references ?? [],
    pricebookEntry: spec.pricebookEntry ?? null,
    parentKeys: spec.parentKeys ?? [],
    reassert: false,
  };
}

export interface ShopWriteSpec {
  table: string;
  keyColumns: string[];
  row: Record<string, FieldValue>;
  parentKeys?: string[];
}

export function shopWrite(ctx: WriteContext, operation: Op, sequence: number, spec: ShopWriteSpec): ShopWrite {
  const keyValues = spec.keyColumns.map((c) => {
    if (spec.row[c] === undefined || spec.row[c] === null) throw new Error(`shop write to ${spec.table}: key column ${c} has no value`);
    return String(spec.row[c]);
  });
  return {
    commandId: commandId(ctx, `shop:${spec.table}:${keyValues.join('\u0001')}`, operation),
    shopId: ctx.shopId, entity: ctx.entity, key: ctx.key, sourcePosition: ctx.sourcePosition,
    transactionId: ctx.transactionId, eventTime: ctx.eventTime, operation, sequence,
    table: spec.table, keyColumns: spec.keyColumns,
    row: operation === 'DELETE' ? Object.fromEntries(spec.keyColumns.map((c) => [c, spec.row[c]])) : spec.row,
    sourceVersion: ctx.sourceVersion ?? null,
    parentKeys: spec.parentKeys ?? [],
  };
}
