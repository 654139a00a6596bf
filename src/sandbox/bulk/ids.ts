import { randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';

/** An 18-char Bulk job id (key prefix 750, like Salesforce's AsyncApexJob/job ids). */
export function newJobId(): string {
  const bytes = randomBytes(12);
  let body = '';
  for (const byte of bytes) body += BASE62[byte % 62];
  const id15 = `750${body}`;
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i);
      if (c >= 65 && c <= 90) bits |= 1 << i;
    }
    suffix += SUFFIX_CHARS[bits];
  }
  return id15 + suffix;
}
