/**
 * The data-driven part of an entity: flat canonical fields mapped to a shop column and/or a Salesforce
 * Object.Field, typed by the canonical field's kind (src/entities/fields.ts). Built-in mappings come from
 * each entity module; configuration adds to them or replaces them by canonical name.
 */
import type { FieldMappingConfig } from './config-section.ts';
import { fieldKind, VOLATILE_FIELDS, type FieldKinds } from './fields.ts';
import { normalizeMoneyOrNull } from './money.ts';
import type { FieldValue } from './types.ts';
import { bool, date, int, isoTimestamp, readingAll, str, timestamp } from './values.ts';

export type FieldMapping = FieldMappingConfig;

/** Built-in mappings with configured ones added; a configured mapping replaces a built-in one of the same canonical field. */
export function mergeMappings(builtIn: FieldMapping[], configured: FieldMapping[]): FieldMapping[] {
  const replaced = new Set(configured.map((m) => m.canonical));
  return [...builtIn.filter((m) => !replaced.has(m.canonical)), ...configured];
}

export function sfObjectOf(m: FieldMapping): string | undefined {
  return m.salesforce?.split('.')[0];
}
export function sfFieldOf(m: FieldMapping): string | undefined {
  return m.salesforce?.split('.')[1];
}

type Side = 'shop' | 'salesforce';

/**
 * Reads one raw value into its canonical form; `label` names the source field in errors. A value map
 * may send several shop values to one Salesforce value (resolved and closed -> Closed): reading it
 * back gives `current` (the record's value) when that maps to it, else the first that does.
 */
export function readValue(kinds: FieldKinds, m: FieldMapping, raw: unknown, from: Side, label: string, current?: unknown): unknown {
  let v: unknown = raw;
  if (from === 'salesforce' && m.valueMap && typeof v === 'string') {
    const back = typeof current === 'string' && m.valueMap[current] === v ? current : Object.entries(m.valueMap).find(([, sf]) => sf === v)?.[0];
    if (back !== undefined) v = back;
  }
  switch (fieldKind(kinds, m.canonical)) {
    case 'money': return normalizeMoneyOrNull(v);
    case 'int': return int(label, v);
    case 'timestamp': return timestamp(label, v);
    case 'date': return date(label, v);
    case 'boolean': {
      const b = bool(label, v);
      return b !== null && m.transform === 'negate' && from === 'salesforce' ? !b : b;
    }
    default: {
      const s = str(label, v);
      if (s === null) return null;
      if (m.transform === 'trim') return s.trim();
      if (m.transform === 'lowercase') return s.trim().toLowerCase();
      if (m.transform === 'uppercase') return s.trim().toUpperCase();
      return s;
    }
  }
}

/** Writes a canonical value for one side. Decimals stay strings (exact); timestamps become ISO-8601 text. */
export function writeValue(kinds: FieldKinds, m: FieldMapping, value: unknown, to: Side): FieldValue {
  if (value === null || value === undefined) return null;
  const kind = fieldKind(kinds, m.canonical);
  if (kind === 'timestamp') return isoTimestamp(value as number);
  if (kind === 'boolean' && m.transform === 'negate' && to === 'salesforce') return !(value as boolean);
  if (to === 'salesforce' && m.valueMap && typeof value === 'string') return m.valueMap[value] ?? value;
  return value as FieldValue;
}

export function getCanonical(record: object, field: string): unknown {
  const r = record as Record<string, unknown>;
  if (field.startsWith('extra.')) return (r.extra as Record<string, string | null> | undefined)?.[field.slice(6)] ?? null;
  return r[field];
}

export function setCanonical(record: object, field: string, value: unknown): void {
  const r = record as Record<string, unknown>;
  if (field.startsWith('extra.')) {
    const extra = (r.extra ??= {}) as Record<string, string | null>;
    extra[field.slice(6)] = value === null || value === undefined ? null : String(value);
  } else {
    r[field] = value;
  }
}

/** Copies every mapped column present in the row onto the record (absent columns leave the field alone). */
export function readShopRow(kinds: FieldKinds, mappings: FieldMapping[], row: Record<string, unknown>, record: object, table: string): void {
  readingAll(mappings.filter((m) => m.shop && m.shop in row).map((m) => () => {
    setCanonical(record, m.canonical, readValue(kinds, m, row[m.shop!], 'shop', `${table}.${m.shop}`));
  }));
}

/** Copies every mapped field of the Salesforce object present in the image onto the record. */
export function readSalesforceImage(kinds: FieldKinds, mappings: FieldMapping[], object: string, image: Record<string, unknown>, record: object): void {
  for (const m of mappings) {
    if (sfObjectOf(m) !== object) continue;
    const field = sfFieldOf(m) as string;
    if (!(field in image)) continue;
    setCanonical(record, m.canonical, readValue(kinds, m, image[field], 'salesforce', `${object}.${field}`, getCanonical(record, m.canonical)));
  }
}

/** Salesforce fields of one object for the record; `only` restricts to those canonical fields. */
export function salesforceFields(kinds: FieldKinds, mappings: FieldMapping[], object: string, record: object, only?: ReadonlySet<string>): { fields: Record<string, FieldValue>; decimalFields: string[] } {
  const fields: Record<string, FieldValue> = {};
  const decimalFields: string[] = [];
  for (const m of mappings) {
    if (sfObjectOf(m) !== object || (only && !only.has(topField(m.canonical)))) continue;
    const field = sfFieldOf(m) as string;
    fields[field] = writeValue(kinds, m, getCanonical(record, m.canonical), 'salesforce');
    if (fieldKind(kinds, m.canonical) === 'money') decimalFields.push(field);
  }
  return { fields, decimalFields };
}

/** Shop columns of the main table for the record; `only` restricts to those canonical fields. Never
 * created_at/updated_at: the shop's defaults and version trigger own them. */
export function shopColumns(kinds: FieldKinds, mappings: FieldMapping[], record: object, only?: ReadonlySet<string>): Record<string, FieldValue> {
  const row: Record<string, FieldValue> = {};
  for (const m of mappings) {
    if (!m.shop || (only && !only.has(topField(m.canonical))) || VOLATILE_FIELDS.includes(m.canonical)) continue;
    row[m.shop] = writeValue(kinds, m, getCanonical(record, m.canonical), 'shop');
  }
  return row;
}

/** Canonical top-level fields mapped from the given Salesforce objects (or, with `shop`, from shop columns). */
export function fieldsMappedFrom(mappings: FieldMapping[], from: { objects?: string[]; shop?: boolean }): string[] {
  return mappings
    .filter((m) => (from.shop && m.shop) || (m.salesforce && from.objects?.includes(sfObjectOf(m) as string)))
    .map((m) => topField(m.canonical));
}

/** Top-level canonical field a (possibly extra.*) mapping belongs to. */
export function topField(canonical: string): string {
  return canonical.startsWith('extra.') ? 'extra' : canonical;
}
