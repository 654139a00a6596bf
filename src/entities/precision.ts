/**
 * The precision a side stores a canonical field at. Values are compared at the precision of the side a
 * change comes from, so our own write reads back equal: Salesforce keeps dateTime values to the
 * second (no milliseconds) and currency at its field's scale (2 for the standard currency fields).
 */
import { fieldKind, type FieldKinds } from './fields.ts';
import { sfObjectOf, topField, type FieldMapping } from './mapping.ts';
import { roundMoney } from './money.ts';

export type Precision = { kind: 'second' } | { kind: 'scale'; scale: number };

/** Canonical field -> the precision one side stores it at (absent: exact). */
export type FieldPrecision = Readonly<Record<string, Precision>>;

/** The precision of each canonical field mapped to a Salesforce field. */
export function salesforcePrecision(kinds: FieldKinds, mappings: FieldMapping[]): FieldPrecision {
  const out: Record<string, Precision> = {};
  for (const m of mappings) {
    if (!sfObjectOf(m) || m.canonical.startsWith('extra.')) continue;
    const kind = fieldKind(kinds, m.canonical);
    if (kind === 'timestamp') out[topField(m.canonical)] = { kind: 'second' };
    if (kind === 'money') out[topField(m.canonical)] = { kind: 'scale', scale: 2 };
  }
  return out;
}

/** A canonical value as the side stores it. */
export function atPrecision(precision: Precision | undefined, value: unknown): unknown {
  if (!precision || value === null || value === undefined) return value;
  if (precision.kind === 'second' && typeof value === 'number') return Math.floor(value / 1000) * 1000;
  if (precision.kind === 'scale' && typeof value === 'string') return roundMoney(value, precision.scale);
  return value;
}
