/**
 * Readers for raw column/field values as Debezium and Salesforce deliver them. Each throws a
 * ValueError naming the field and the kind of value it got, so a bad record goes to the DLQ with a
 * reason. The value itself is customer data: it stays out of the message (logs, dead-letter headers).
 */
export class ValueError extends Error {
  constructor(readonly field: string, value: unknown, reason: string) {
    super(`field "${field}": ${reason} (got ${kindOf(value)})`);
    this.name = 'ValueError';
  }
}

/** Several fields of one record are bad: each is named, with the kind of value it got (never the value). */
export class RecordValueError extends Error {
  constructor(readonly errors: ValueError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ValueError';
  }
}

/**
 * Runs each read, then throws every ValueError they threw at once (one: as it is), so a record's dead
 * letter names all its bad fields, not the first only. Other errors pass through.
 */
export function readingAll(reads: Array<() => void>): void {
  const bad: ValueError[] = [];
  for (const read of reads) {
    try {
      read();
    } catch (err) {
      if (!(err instanceof ValueError)) throw err;
      bad.push(err);
    }
  }
  if (bad.length === 1) throw bad[0]!;
  if (bad.length > 1) throw new RecordValueError(bad);
}

/** What a value is, without what it says: "text of 12 characters", "a number", "an object". */
export function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'string') return value === '' ? 'empty text' : `text of ${[...value].length} characters`;
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value instanceof Date) return 'a date';
  return 'an object';
}

export function str(field: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  throw new ValueError(field, v, 'expected text');
}

export function requiredStr(field: string, v: unknown): string {
  const s = str(field, v);
  if (s === null || s === '') throw new ValueError(field, v, 'is required');
  return s;
}

export function bool(field: string, v: unknown): boolean | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 't' || v === 'true' || v === 'TRUE' || v === '1') return true;
  if (v === 0 || v === 'f' || v === 'false' || v === 'FALSE' || v === '0') return false;
  throw new ValueError(field, v, 'expected a boolean');
}

export function int(field: string, v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new ValueError(field, v, 'expected an integer');
  return n;
}

export function requiredInt(field: string, v: unknown): number {
  const n = int(field, v);
  if (n === null) throw new ValueError(field, v, 'is required');
  return n;
}

/**
 * An instant as epoch ms. Accepts ISO-8601 strings (Debezium ZonedTimestamp, Salesforce datetimes, pg text),
 * epoch numbers in ms (time.precision.mode=connect), µs (adaptive MicroTimestamp) or ns (NanoTimestamp),
 * told apart by magnitude, and Date objects (node-postgres).
 */
export function timestamp(field: string, v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'number' || typeof v === 'bigint') {
    const n = Number(v);
    const abs = Math.abs(n);
    if (abs >= 1e17) return Math.trunc(n / 1e6);
    if (abs >= 1e14) return Math.trunc(n / 1e3);
    return n;
  }
  if (typeof v === 'string') {
    const normalized = /[zZ]|[+-]\d\d:?\d\d$/.test(v) || !/T|\s\d/.test(v) ? v : `${v}Z`;
    const ms = Date.parse(normalized.replace(' ', 'T'));
    if (Number.isNaN(ms)) throw new ValueError(field, v, 'expected an ISO-8601 timestamp');
    return ms;
  }
  throw new ValueError(field, v, 'expected a timestamp');
}

/**
 * A calendar date as 'YYYY-MM-DD'. Accepts 'YYYY-MM-DD…' strings, Debezium io.debezium.time.Date /
 * connect Date (days since epoch, small integers), epoch ms, and Date objects.
 */
export function date(field: string, v: unknown): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return v.toISOString().slice(0, 10);
  if (typeof v === 'number') {
    const ms = Math.abs(v) < 1e6 ? v * 86_400_000 : v;
    return new Date(ms).toISOString().slice(0, 10);
  }
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v)) {
    if (v.length === 10) return v;
    const ms = timestamp(field, v);
    return ms === null ? null : new Date(ms).toISOString().slice(0, 10);
  }
  throw new ValueError(field, v, 'expected a date (YYYY-MM-DD)');
}

export function isoTimestamp(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
