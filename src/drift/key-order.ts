/**
 * The order a drift check walks both sides in: entity keys compared part by part (shop id, then the
 * business key parts), each part by Unicode code point — the byte order of UTF-8 text, which is how
 * PostgreSQL sorts with COLLATE "C", so the shop's cursors and the locally sorted Salesforce records
 * agree on one order.
 */
import { KEY_SEPARATOR } from '../entities/keys.ts';

const SEPARATOR = KEY_SEPARATOR.charCodeAt(0);

/** A UTF-16 unit moved so units compare in code point order: surrogates (astral code points) after U+E000..U+FFFF. */
function codePointRank(unit: number): number {
  if (unit >= 0xd800 && unit < 0xe000) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

/**
 * Entity keys in drift order: part by part, so "1|Z" comes before "1-B|A" as ("1","Z") < ("1-B","A").
 * One pass, no splitting: at the first unit that differs, a part that ended there (the separator) is
 * the smaller; else the code points decide; a key that is a prefix of the other is the smaller.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x === SEPARATOR) return -1;
    if (y === SEPARATOR) return 1;
    return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}
