/**
 * The order a drift check walks both sides in: entity keys compared part by part (shop id, then the
 * business key parts), each part by Unicode code point — the byte order of UTF-8 text, which is how
 * PostgreSQL sorts with COLLATE "C", so the shop's cursors and the locally sorted Salesforce records
 * agree on one order.
 */
import { KEY_SEPARATOR } from '../entities/keys.ts';

/** Code point order of two strings (JavaScript's < compares UTF-16 units, which puts U+E000..U+FFFF after astral characters). */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // surrogates (astral code points) sort after every other BMP unit
    if (x >= 0xd800 && x < 0xe000) x += 0x2000; else if (x >= 0xe000) x -= 0x800;
    if (y >= 0xd800 && y < 0xe000) y += 0x2000; else if (y >= 0xe000) y -= 0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** Entity keys in drift order: part by part, so "1|Z" comes before "1-B|A" as ("1","Z") < ("1-B","A"). */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const pa = a.split(KEY_SEPARATOR);
  const pb = b.split(KEY_SEPARATOR);
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const c = compareText(pa[i]!, pb[i]!);
    if (c !== 0) return c;
  }
  return pa.length - pb.length;
}
