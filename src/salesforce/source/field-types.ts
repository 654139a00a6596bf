import type { Connection } from 'jsforce';

/** Field names and the date/datetime fields of an object, from one REST describe. */
export interface ObjectFields {
  object: string;
  names: string[];
  dates: Set<string>;
  datetimes: Set<string>;
}

/** One describe call per object (jsforce caches it on the connection as well). */
export async function describeFields(conn: Connection, object: string): Promise<ObjectFields> {
  let d;
  try {
    d = await conn.sobject(object).describe();
  } catch (err) {
    throw new Error(`describe of ${object} failed: ${(err as Error).message}`, { cause: err });
  }
  const names = d.fields.map((f) => f.name);
  return {
    object,
    names,
    dates: new Set(d.fields.filter((f) => f.type === 'date').map((f) => f.name)),
    datetimes: new Set(d.fields.filter((f) => f.type === 'datetime').map((f) => f.name)),
  };
}

const DAY_MS = 86_400_000;

/**
 * One value as the source publishes it: datetimes as ISO-8601 UTC strings, dates as YYYY-MM-DD
 * (Pub/Sub sends epoch ms / epoch days, CometD and REST send strings), bigint as number.
 */
export function normalizeValue(fields: ObjectFields | undefined, name: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') value = Number(value);
  if (!fields) return value;
  if (fields.datetimes.has(name)) {
    const ms = typeof value === 'number' ? value : Date.parse(String(value));
    return Number.isNaN(ms) ? value : new Date(ms).toISOString();
  }
  if (fields.dates.has(name)) {
    if (typeof value === 'number') return new Date(value * DAY_MS).toISOString().slice(0, 10);
    return String(value).slice(0, 10);
  }
  return value;
}

/**
 * Compound fields arrive nested in change events (Name: {FirstName, LastName}, BillingAddress:
 * {Street, City, ...}) but flat in REST records (FirstName, BillingStreet). Flattens the first
 * into the second so events merge into REST images.
 */
export function flattenCompound(name: string, value: Record<string, unknown>): [string, unknown][] {
  const prefix = name.endsWith('Address') ? name.slice(0, -'Address'.length) : '';
  return Object.entries(value).map(([sub, v]) => [`${prefix}${sub}`, v]);
}

/**
 * Normalized copy of a REST record: drops `attributes` and compound values (BillingAddress,
 * whose parts REST also returns flat as BillingStreet etc.), so REST images and events agree.
 */
export function normalizeRecord(fields: ObjectFields | undefined, record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (k === 'attributes' || (v !== null && typeof v === 'object' && !Array.isArray(v))) continue;
    out[k] = normalizeValue(fields, k, v);
  }
  return out;
}
