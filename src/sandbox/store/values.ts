import type { FieldDef } from '../model/types.ts';
import { SfError } from './errors.ts';
import { normalizeId } from './ids.ts';

/** How a value arrived: JSON (REST: typed) or text (Bulk CSV: everything is a string). */
export type InputMode = 'json' | 'text';

const STRINGISH = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist']);
const NUMERIC = new Set(['int', 'double', 'currency', 'percent']);

/**
 * Salesforce's REST datetime form, 2026-01-02T03:04:05.000+0000. Salesforce keeps dateTimes to
 * the second: the milliseconds are dropped (truncated, not rounded).
 */
export function formatDateTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('Z', '+0000');
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch ms of a calendar day at UTC midnight, or undefined when the day does not exist (2026-02-30). */
function utcDay(y: string, m: string, d: string): number | undefined {
  const ms = Date.UTC(Number(y), Number(m) - 1, Number(d));
  const back = new Date(ms);
  return back.getUTCFullYear() === Number(y) && back.getUTCMonth() === Number(m) - 1 && back.getUTCDate() === Number(d) ? ms : undefined;
}

/**
 * A dateTime as written to the API (yyyy-MM-ddTHH:mm:ss.SSS with Z or a +/-HH:mm offset; a bare
 * date is midnight UTC, no offset is UTC) as epoch ms in UTC, offset applied, milliseconds
 * dropped; undefined when invalid.
 */
export function parseDateTime(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const day = utcDay(m[1]!, m[2]!, m[3]!);
  const [h, min, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (day === undefined || h > 23 || min > 59 || sec > 59) return undefined;
  let offsetMin = 0;
  const zone = m[7];
  if (zone && zone !== 'Z') {
    const digits = zone.replace(':', '');
    const oh = Number(digits.slice(1, 3));
    const om = Number(digits.slice(3, 5));
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  return day + ((h * 60 + min - offsetMin) * 60 + sec) * 1000;
}

/** Digits after the decimal point of a number as JavaScript writes it (1e-7 → 7). */
function decimalsOf(n: number): number {
  const [mantissa = '', exponent = '0'] = String(n).toLowerCase().split('e');
  const fraction = mantissa.split('.')[1]?.length ?? 0;
  return Math.max(0, fraction - Number(exponent));
}

/** a + b without binary noise (10.1 + 0.2 = 10.3, not 10.299999999999999), as decimal fields add. */
export function addDecimal(a: number, b: number): number {
  const digits = Math.max(decimalsOf(a), decimalsOf(b));
  const sum = a + b;
  return digits > 0 && digits <= 20 ? Number(sum.toFixed(digits)) : sum;
}

function parserError(field: FieldDef, kind: string, value: unknown): SfError {
  const javaType = field.type === 'boolean' ? 'boolean' : NUMERIC.has(field.type) ? (field.type === 'int' ? 'int' : 'double')
    : field.type === 'date' ? 'date' : field.type === 'datetime' ? 'datetime' : 'string';
  return new SfError(
    'JSON_PARSER_ERROR',
    `Cannot deserialize instance of ${javaType} from ${kind} value ${typeof value === 'object' ? JSON.stringify(value) : String(value)} or request may be missing a required field`,
    [field.name],
  );
}

function typeError(field: FieldDef, value: unknown): SfError {
  return new SfError('INVALID_TYPE_ON_FIELD_IN_RECORD', `${field.label ?? field.name}: value not of required type: ${String(value)}`, [field.name]);
}

function jsonKind(value: unknown): string {
  if (typeof value === 'string') return 'VALUE_STRING';
  if (typeof value === 'number') return Number.isInteger(value) ? 'VALUE_NUMBER_INT' : 'VALUE_NUMBER_FLOAT';
  if (typeof value === 'boolean') return value ? 'VALUE_TRUE' : 'VALUE_FALSE';
  if (Array.isArray(value)) return 'START_ARRAY';
  return 'START_OBJECT';
}

/** NUMBER_OUTSIDE_VALID_RANGE when the integer part has more digits than precision − scale. */
export function checkRange(field: FieldDef, n: number): void {
  if (field.precision === undefined) return;
  if (Math.abs(n) >= 10 ** (field.precision - (field.scale ?? 0))) {
    throw new SfError('NUMBER_OUTSIDE_VALID_RANGE', `${field.label ?? field.name}: value outside of valid range on numeric field: ${n}`, [field.name]);
  }
}

/**
 * Checks and converts one incoming value to its stored form (strings, numbers, booleans,
 * "YYYY-MM-DD" dates, "...+0000" datetimes in UTC to the second, 18-char ids), or throws the
 * Salesforce error.
 * null means "set to null". Reference existence is checked by the store.
 */
export function coerceValue(field: FieldDef, value: unknown, mode: InputMode): unknown {
  if (value === null || value === undefined) return null;
  const fail = () => (mode === 'json' ? parserError(field, jsonKind(value), value) : typeError(field, value));
  if (typeof value === 'object') throw fail();
  if (STRINGISH.has(field.type)) {
    const text = String(value);
    if (field.length !== undefined && text.length > field.length) {
      throw new SfError('STRING_TOO_LONG', `${field.label ?? field.name}: data value too large: ${text.slice(0, 80)} (max length=${field.length})`, [field.name]);
    }
    if (field.type === 'picklist' && field.picklistValues && !field.picklistValues.includes(text)) {
      throw new SfError('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${field.label ?? field.name}: bad value for restricted picklist field: ${text}`, [field.name]);
    }
    if (field.type === 'email' && text !== '' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text)) {
      throw new SfError('INVALID_EMAIL_ADDRESS', `${field.label ?? field.name}: invalid email address: ${text}`, [field.name]);
    }
    return text === '' ? null : text;
  }
  if (field.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    if (mode === 'text' && (value === '1' || value === '0')) return value === '1';
    throw fail();
  }
  if (NUMERIC.has(field.type)) {
    let n: number;
    if (typeof value === 'number') n = value;
    else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) n = Number(value);
    else throw fail();
    if (field.type === 'int' && !Number.isInteger(n)) throw fail();
    checkRange(field, n);
    // Kept as given, decimals beyond the field's scale included: Salesforce rounds to the scale
    // only in its own edit pages, API writes are stored as sent.
    return n;
  }
  if (field.type === 'date') {
    // yyyy-MM-dd only: Salesforce takes no time part and no offset for a date.
    const m = typeof value === 'string' ? DATE.exec(value) : null;
    if (!m || utcDay(m[1]!, m[2]!, m[3]!) === undefined) throw fail();
    return value;
  }
  if (field.type === 'datetime') {
    const ms = typeof value === 'string' ? parseDateTime(value) : undefined;
    if (ms === undefined) throw fail();
    return formatDateTime(ms);
  }
  if (field.type === 'reference' || field.type === 'id') {
    if (typeof value !== 'string') throw fail();
    if (value === '') return null;
    const id = normalizeId(value);
    if (!id) throw new SfError('MALFORMED_ID', `${field.label ?? field.name}: id value of incorrect type: ${value}`, [field.name]);
    return id;
  }
  return value;
}
