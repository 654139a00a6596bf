import type { FieldType } from '../model/types.ts';
import type { DateLiteral } from './ast.ts';
import { parseDateTime } from './parser.ts';

const DAY_MS = 86_400_000;

export type ValueClass = 'string' | 'id' | 'number' | 'boolean' | 'date' | 'datetime';

/** How a field's values compare (what literal types it accepts). */
export function valueClass(type: FieldType): ValueClass {
  switch (type) {
    case 'id':
    case 'reference':
      return 'id';
    case 'int':
    case 'double':
    case 'currency':
    case 'percent':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'date':
      return 'date';
    case 'datetime':
      return 'datetime';
    default:
      return 'string';
  }
}

/** The Salesforce type name used in "must be of type X" messages. */
export function soapTypeName(type: FieldType): string {
  switch (type) {
    case 'int': return 'int';
    case 'double': case 'currency': case 'percent': return 'double';
    case 'boolean': return 'boolean';
    case 'date': return 'date';
    case 'datetime': return 'dateTime';
    case 'id': case 'reference': return 'id';
    default: return 'string';
  }
}

export function isNull(value: unknown): boolean {
  return value === null || value === undefined;
}

/** A stored value brought to a comparable form for its class; undefined when null or unreadable. */
export function normalize(value: unknown, cls: ValueClass): string | number | boolean | undefined {
  if (isNull(value)) return undefined;
  switch (cls) {
    case 'number': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isNaN(n) ? undefined : n;
    }
    case 'boolean':
      return value === true || value === 1 || value === 'true' || value === '1';
    case 'date': {
      // epoch ms of the day's midnight UTC, so date fields compare with date ranges numerically
      const ms = typeof value === 'number' ? value : Date.parse(`${String(value).slice(0, 10)}T00:00:00Z`);
      return Number.isNaN(ms) ? undefined : ms;
    }
    case 'datetime': {
      const ms = typeof value === 'number' ? value : value instanceof Date ? value.getTime() : parseDateTime(String(value));
      return Number.isNaN(ms) ? undefined : ms;
    }
    case 'id':
      return String(value);
    default:
      return String(value).toLowerCase();
  }
}

/** [start, end) in epoch ms of a relative date literal, in UTC. */
export function dateLiteralRange(literal: DateLiteral, now: Date): [number, number] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  switch (literal.name) {
    case 'TODAY':
      return [today, today + DAY_MS];
    case 'YESTERDAY':
      return [today - DAY_MS, today];
    case 'LAST_N_DAYS':
      // Salesforce: starts today and goes back n days, so today is included.
      return [today - (literal.n ?? 0) * DAY_MS, today + DAY_MS];
  }
}

/** Compares two normalized values of the same class; strings compare case-insensitively (already lowered). */
export function compareValues(a: string | number | boolean, b: string | number | boolean): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** Ids compare on their first 15 characters when either side is the 15-char form. */
export function sameId(stored: string, literal: string): boolean {
  if (stored.length === literal.length) return stored.length === 18 ? stored.toLowerCase() === literal.toLowerCase() : stored === literal;
  return stored.slice(0, 15) === literal.slice(0, 15);
}

/** Removes LIKE-only escapes (\_ \% \\) for plain comparisons. */
export function unescapeLikeEscapes(text: string): string {
  return text.replace(/\\([\\_%])/g, '$1');
}

/** A case-insensitive matcher for a SOQL LIKE pattern (% any run, _ one char, backslash escapes). */
export function likeMatcher(pattern: string): (value: string) => boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\' && i + 1 < pattern.length) {
      source += escapeRegex(pattern[++i]);
    } else if (ch === '%') {
      source += '[\\s\\S]*';
    } else if (ch === '_') {
      source += '[\\s\\S]';
    } else {
      source += escapeRegex(ch);
    }
  }
  const re = new RegExp(`^${source}$`, 'i');
  return (value) => re.test(value);
}

function escapeRegex(ch: string): string {
  return ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
