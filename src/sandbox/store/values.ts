import type { FieldDef } from '../model/types.ts';
import { SfError } from './errors.ts';
import { normalizeId } from './ids.ts';

/** How a value arrived: JSON (REST: typed) or text (Bulk CSV: everything is a string). */
export type InputMode = 'json' | 'text';

const STRINGISH = new Set(['string', 'textarea', 'email', 'phone', 'url', 'picklist']);
const NUMERIC = new Set(['int', 'double', 'currency', 'percent']);

/** Salesforce's REST datetime form: 2026-01-02T03:04:05.000+0000 */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
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

/**
 * Checks and converts one incoming value to its stored form (strings, numbers, booleans,
 * "YYYY-MM-DD" dates, "...+0000" datetimes, 18-char ids), or throws the Salesforce error.
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
    if (field.precision !== undefined) {
      const intDigits = Math.trunc(Math.abs(n)).toString().length;
      if (intDigits > field.precision - (field.scale ?? 0)) {
        throw new SfError('NUMBER_OUTSIDE_VALID_RANGE', `${field.label ?? field.name}: value outside of valid range on numeric field: ${n}`, [field.name]);
      }
    }
    return n;
  }
  if (field.type === 'date') {
    if (typeof value !== 'string') throw fail();
    const m = /^(\d{4}-\d{2}-\d{2})(T.*)?$/.exec(value);
    if (!m || Number.isNaN(Date.parse(m[1]!))) throw fail();
    return m[1];
  }
  if (field.type === 'datetime') {
    if (typeof value !== 'string') throw fail();
    const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw fail();
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
