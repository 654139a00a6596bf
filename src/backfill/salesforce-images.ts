/**
 * Records of a Bulk API 2.0 query (CSV text) as the change-event source shows them: typed values
 * (booleans, numbers, null for an empty cell), datetimes as ISO-8601 UTC, every field of the object.
 */
import type { Connection } from 'jsforce';
import type { PartSpec } from '../entities/parts.ts';
import { callSalesforce, type CallPolicy } from '../salesforce/sink/call.ts';
import { normalizeRecord, type ObjectFields } from '../salesforce/source/field-types.ts';

const NUMBERS = new Set(['int', 'double', 'currency', 'percent', 'long']);
/** Compound and binary fields: Bulk API 2.0 queries do not return them (their parts are fields of their own). */
const NOT_QUERIED = new Set(['address', 'location', 'base64']);

export interface QueriedObject {
  object: string;
  /** The SELECT list: every field, plus the parent's key through its relationship for a part keyed by its parent. */
  select: string[];
  /** The column holding a parent-keyed part's key (e.g. "Product2.Sku__c"), taken out of the image. */
  parentKeyColumn: string | null;
  types: Map<string, string>;
  fields: ObjectFields;
}

/** One describe call: what to select from `object` and how to read it back. */
export async function describeQueried(conn: Connection, policy: CallPolicy, object: string, spec: PartSpec): Promise<QueriedObject> {
  const d = await callSalesforce(policy, { api: 'query', sobject: object, operation: 'describe' }, () => conn.sobject(object).describe());
  const queried = d.fields.filter((f) => !NOT_QUERIED.has(f.type));
  let parentKeyColumn: string | null = null;
  if (spec.parentKey) {
    const via = d.fields.find((f) => f.name === spec.parentKey!.viaField);
    if (!via?.relationshipName) throw new Error(`${object}.${spec.parentKey.viaField} is not a lookup with a relationship name: the backfill cannot read its parent's key`);
    parentKeyColumn = `${via.relationshipName}.${spec.parentKey.keyField}`;
  }
  return {
    object,
    select: [...queried.map((f) => f.name), ...(parentKeyColumn ? [parentKeyColumn] : [])],
    parentKeyColumn,
    types: new Map(queried.map((f) => [f.name, f.type])),
    fields: {
      object, names: queried.map((f) => f.name),
      dates: new Set(queried.filter((f) => f.type === 'date').map((f) => f.name)),
      datetimes: new Set(queried.filter((f) => f.type === 'datetime').map((f) => f.name)),
    },
  };
}

/** A CSV record as an image, and the parent's key when the part is keyed by its parent. */
export function imageOf(q: QueriedObject, row: Record<string, string>): { image: Record<string, unknown>; parentKey: string | undefined } {
  const typed: Record<string, unknown> = {};
  for (const [name, text] of Object.entries(row)) {
    if (name === q.parentKeyColumn) continue;
    const type = q.types.get(name);
    if (text === '' || text === undefined) typed[name] = null;
    else if (type === 'boolean') typed[name] = text === 'true';
    else if (type && NUMBERS.has(type)) typed[name] = Number(text);
    else typed[name] = text;
  }
  const parentKey = q.parentKeyColumn ? row[q.parentKeyColumn] || undefined : undefined;
  return { image: normalizeRecord(q.fields, typed), parentKey };
}
