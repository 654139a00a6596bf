import type { FieldValue, SalesforceWrite } from '../../entities/types.ts';

export type RecordBody = Record<string, unknown>;

/** A decimal string sent as a JSON number (Salesforce currency/number fields). */
function decimal(cmd: SalesforceWrite, field: string, value: FieldValue): FieldValue {
  if (typeof value !== 'string') return value;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) {
    throw new Error(`${cmd.sobject} ${cmd.externalId}: field ${field} is listed as decimal but holds "${value}"`);
  }
  return n;
}

/**
 * The body of an upsert by external id: field values (decimals as numbers), lookups as nested
 * external-id references (`Account: { Shop_Customer_Id__c: 'x' }`), the resolved PricebookEntryId.
 */
export function upsertBody(cmd: SalesforceWrite, pricebookEntryId?: string): RecordBody {
  const body: RecordBody = {};
  const decimals = new Set(cmd.decimalFields);
  for (const [field, value] of Object.entries(cmd.fields)) {
    if (field === cmd.externalIdField) continue;
    body[field] = decimals.has(field) ? decimal(cmd, field, value) : value;
  }
  for (const ref of cmd.references) {
    delete body[ref.field];
    body[ref.relationshipName] = { [ref.externalIdField]: ref.externalId };
  }
  if (cmd.pricebookEntry && cmd.pricebookEntry.field !== 'Id' && pricebookEntryId) body[cmd.pricebookEntry.field] = pricebookEntryId;
  if (cmd.externalIdField !== 'Id') body[cmd.externalIdField] = cmd.externalId;
  return body;
}

/**
 * What a command sets, as comparable strings (field → JSON value, lookup → parent key): the
 * last written signature of a record tells whether a new command would change anything.
 */
export function signature(cmd: SalesforceWrite): Map<string, string> {
  const sig = new Map<string, string>();
  const decimals = new Set(cmd.decimalFields);
  for (const [field, value] of Object.entries(cmd.fields)) {
    const v = decimals.has(field) && typeof value === 'string' && Number.isFinite(Number(value)) ? Number(value) : value;
    sig.set(field, JSON.stringify(v));
  }
  for (const ref of cmd.references) sig.set(ref.field, `@${ref.sobject}.${ref.externalIdField}=${ref.externalId}`);
  const pbe = cmd.pricebookEntry;
  if (pbe && pbe.field !== 'Id') sig.set(pbe.field, `@PricebookEntry:${pbe.pricebook}|${pbe.sku}|${pbe.currency ?? ''}`);
  return sig;
}

/** True when every value of `next` equals the remembered one. */
export function unchanged(remembered: Map<string, string> | undefined, next: Map<string, string>): boolean {
  if (!remembered) return false;
  for (const [k, v] of next) if (remembered.get(k) !== v) return false;
  return true;
}

/** Flattens nested references for CSV (`Account.Shop_Customer_Id__c`), as Bulk API 2.0 expects. */
export function flatten(body: RecordBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (v !== null && typeof v === 'object') {
      for (const [pk, pv] of Object.entries(v as Record<string, unknown>)) out[`${k}.${pk}`] = pv;
    } else {
      out[k] = v;
    }
  }
  return out;
}

/** The body without the given lookup fields (direct or as external-id references); undefined when none was there. */
export function withoutFields(cmd: SalesforceWrite, body: RecordBody, fields: string[]): RecordBody | undefined {
  if (fields.length === 0) return undefined;
  const drop = new Set(fields);
  for (const ref of cmd.references) if (drop.has(ref.field)) drop.add(ref.relationshipName);
  if (![...drop].some((f) => f in body)) return undefined;
  return Object.fromEntries(Object.entries(body).filter(([k]) => !drop.has(k)));
}
