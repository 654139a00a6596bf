/** Canonical keys: the shop id and the business key parts joined by '|' (e.g. "shop-1|SKU-1|WH-1"). */
export const KEY_SEPARATOR = '|';

export function entityKey(shopId: string, ...parts: string[]): string {
  for (const p of [shopId, ...parts]) {
    if (p.includes(KEY_SEPARATOR)) throw new Error(`key part "${p}" must not contain "${KEY_SEPARATOR}"`);
    if (p === '') throw new Error('key parts must not be empty');
  }
  return [shopId, ...parts].join(KEY_SEPARATOR);
}

export function parseKey(key: string): { shopId: string; parts: string[] } {
  const [shopId, ...parts] = key.split(KEY_SEPARATOR);
  return { shopId, parts };
}
