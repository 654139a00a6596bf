/**
 * Exact decimal money: values travel as strings ("19.99") and are added with integer arithmetic,
 * never as binary floats. Canonical form: optional '-', digits, '.', at least two decimals, no
 * trailing zeros beyond two ("19.9" -> "19.90", "1200" -> "1200.00", "0.125" stays).
 */
export interface Decimal { units: bigint; scale: number }

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d*))?$/;
const EXP_RE = /^([+-])?(\d+)(?:\.(\d*))?[eE]([+-]?\d+)$/;

export class MoneyError extends Error {}

/** Parses a decimal from a string, a JS number (shortest round-trip text), a bigint, or Debezium's
 * VariableScaleDecimal struct {scale, value(base64)}; `bytesScale` decodes decimal.handling.mode=precise
 * base64 bytes (two's complement, big-endian) when the column's scale is known. */
export function parseDecimal(value: unknown, bytesScale?: number): Decimal {
  if (typeof value === 'bigint') return { units: value, scale: 0 };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new MoneyError(`not a finite number: ${value}`);
    return parseDecimal(numberToPlainString(value));
  }
  if (value && typeof value === 'object' && 'scale' in value && 'value' in value) {
    const v = value as { scale: number; value: string };
    return { units: bytesToBigInt(Buffer.from(v.value, 'base64')), scale: v.scale };
  }
  if (typeof value !== 'string') throw new MoneyError(`not a decimal: ${JSON.stringify(value)}`);
  const text = value.trim();
  const m = DECIMAL_RE.exec(text);
  if (m) {
    const frac = m[3] ?? '';
    const units = BigInt(m[2] + frac) * (m[1] === '-' ? -1n : 1n);
    return { units, scale: frac.length };
  }
  const e = EXP_RE.exec(text);
  if (e) {
    const frac = e[3] ?? '';
    const exp = Number(e[4]);
    let units = BigInt(e[2] + frac) * (e[1] === '-' ? -1n : 1n);
    let scale = frac.length - exp;
    if (scale < 0) { units *= 10n ** BigInt(-scale); scale = 0; }
    return { units, scale };
  }
  if (bytesScale !== undefined && /^[A-Za-z0-9+/]+=*$/.test(text)) {
    return { units: bytesToBigInt(Buffer.from(text, 'base64')), scale: bytesScale };
  }
  throw new MoneyError(`not a decimal: "${value}"`);
}

function numberToPlainString(n: number): string {
  const s = String(n);
  if (!/[eE]/.test(s)) return s;
  const d = parseDecimal(s);
  return formatDecimal(d);
}

function bytesToBigInt(buf: Buffer): bigint {
  if (buf.length === 0) return 0n;
  let n = 0n;
  for (const b of buf) n = (n << 8n) | BigInt(b);
  if (buf[0] & 0x80) n -= 1n << BigInt(buf.length * 8);
  return n;
}

function rescale(d: Decimal, scale: number): bigint {
  if (scale < d.scale) throw new MoneyError('cannot rescale down without rounding');
  return d.units * 10n ** BigInt(scale - d.scale);
}

/** Plain text of a decimal at its own scale. */
export function formatDecimal(d: Decimal): string {
  const neg = d.units < 0n;
  const digits = (neg ? -d.units : d.units).toString().padStart(d.scale + 1, '0');
  const int = digits.slice(0, digits.length - d.scale);
  const frac = d.scale > 0 ? '.' + digits.slice(digits.length - d.scale) : '';
  return (neg ? '-' : '') + int + frac;
}

/** Canonical money text (see module doc). */
export function normalizeMoney(value: unknown, bytesScale?: number): string {
  const d = parseDecimal(value, bytesScale);
  let { units, scale } = d;
  while (scale > 2 && units % 10n === 0n) { units /= 10n; scale -= 1; }
  if (scale < 2) { units *= 10n ** BigInt(2 - scale); scale = 2; }
  return formatDecimal({ units, scale });
}

/** Null-tolerant normalizeMoney. */
export function normalizeMoneyOrNull(value: unknown, bytesScale?: number): string | null {
  return value === null || value === undefined || value === '' ? null : normalizeMoney(value, bytesScale);
}

export function addMoney(...values: string[]): string {
  const ds = values.map((v) => parseDecimal(v));
  const scale = Math.max(2, ...ds.map((d) => d.scale));
  const sum = ds.reduce((acc, d) => acc + rescale(d, scale), 0n);
  return normalizeMoney(formatDecimal({ units: sum, scale }));
}

export function subtractMoney(a: string, b: string): string {
  return addMoney(a, b.startsWith('-') ? b.slice(1) : `-${b}`);
}

export function multiplyMoney(value: string, quantity: number): string {
  if (!Number.isInteger(quantity)) throw new MoneyError(`quantity must be an integer: ${quantity}`);
  const d = parseDecimal(value);
  return normalizeMoney(formatDecimal({ units: d.units * BigInt(quantity), scale: d.scale }));
}

/** -1, 0, 1 — numeric comparison ("19.9" equals "19.90"). */
export function compareMoney(a: string, b: string): number {
  const da = parseDecimal(a);
  const db = parseDecimal(b);
  const scale = Math.max(da.scale, db.scale);
  const x = rescale(da, scale);
  const y = rescale(db, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A JSON number whose text is exactly the decimal (for Salesforce's REST body); exact up to 15 significant digits. */
export function moneyToNumber(value: string): number {
  const n = Number(value);
  const d = parseDecimal(value);
  const significant = (d.units < 0n ? -d.units : d.units).toString().replace(/^0+/, '').length;
  if (significant > 15) throw new MoneyError(`decimal ${value} has more than 15 significant digits; not exact as a JSON number`);
  return n;
}

/** Money rounded half up (away from zero) to `scale` decimals, in canonical text: what a currency field of that scale stores. */
export function roundMoney(value: string, scale: number): string {
  const d = parseDecimal(value);
  if (d.scale <= scale) return normalizeMoney(value);
  const factor = 10n ** BigInt(d.scale - scale);
  const neg = d.units < 0n;
  const abs = neg ? -d.units : d.units;
  const rounded = (abs + factor / 2n) / factor;
  return normalizeMoney(formatDecimal({ units: neg ? -rounded : rounded, scale }));
}
