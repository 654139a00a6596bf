/** Salesforce record ids: 15 case-sensitive chars + a 3-char suffix that makes them case-safe. */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** The 3-char checksum: for each 5-char chunk, a bit per upper-case letter, as one char. */
export function idSuffix(id15: string): string {
  let out = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    out += SUFFIX_CHARS[bits];
  }
  return out;
}

/** Builds an 18-char id from a 3-char key prefix and a sequence number. */
export function makeId(prefix: string, seq: number, pod = '5g'): string {
  let n = seq;
  let body = '';
  while (n > 0) {
    body = BASE62[n % 62] + body;
    n = Math.floor(n / 62);
  }
  const id15 = prefix + pod + body.padStart(10, '0');
  return id15 + idSuffix(id15);
}

/** Normalizes a 15- or 18-char id to 18 chars; undefined when it is not a well-formed id. */
export function normalizeId(id: string): string | undefined {
  if (!/^[a-zA-Z0-9]{15}([a-zA-Z0-5]{3})?$/.test(id)) return undefined;
  const id15 = id.slice(0, 15);
  const suffix = idSuffix(id15);
  if (id.length === 18 && id.slice(15).toUpperCase() !== suffix) return undefined;
  return id15 + suffix;
}
