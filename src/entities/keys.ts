/**
 * Canonical keys: the shop id and the business key parts joined by '|' (e.g. "shop-1|SKU-1|WH-1").
 *
 * The external ids we write on Salesforce records have the same form (docs/design.md, "Several shops,
 * one org"): "shop-1|C-0001042" on an Account, "shop-1|SO-00000007|2" on a line item. Two shops
 * syncing into one org therefore never upsert onto each other's records, and a Salesforce change is
 * routed back by reading its shop and business key out of the external id.
 */
import { ValueError } from './values.ts';

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

/** The external id we write for a record of a shop: its shop id, then its business key parts. */
export function externalIdOf(shopId: string, ...parts: string[]): string {
  return entityKey(shopId, ...parts);
}

/** The shop and business key parts of an external id we wrote; undefined for any other value. */
export function readExternalId(value: unknown): { shopId: string; parts: string[] } | undefined {
  if (typeof value !== 'string' || !value.includes(KEY_SEPARATOR)) return undefined;
  const { shopId, parts } = parseKey(value);
  if (shopId === '' || parts.some((p) => p === '')) return undefined;
  return { shopId, parts };
}

/** The business key parts of an external id we wrote (`count` of them), or a ValueError naming the field. */
export function requiredKeyParts(field: string, value: unknown, count: number): string[] {
  const id = readExternalId(value);
  if (!id || id.parts.length !== count) {
    throw new ValueError(field, value, `is not an external id of the form "<shop>${KEY_SEPARATOR}${Array.from({ length: count }, (_, i) => `<key ${i + 1}>`).join(KEY_SEPARATOR)}"`);
  }
  return id.parts;
}
