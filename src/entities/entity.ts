import type { WriteContext } from './commands.ts';
import type { SalesforceWrite, ShopWrite } from './types.ts';

export interface WriteOptions<T> {
  /** Canonical top-level fields to write (identity and required fields are always written); all when absent. */
  fields?: ReadonlySet<string>;
  /** The record as last written/known on the target side: lets an order delete line items that went away. */
  previous?: T | null;
  /**
   * The record both sides agreed on before this change: what the target holds once our earlier writes
   * land. A list of thousands (a campaign's members) writes only what differs from it. Undefined when
   * that is not to be trusted (a re-assertion: the target changed on its own): write the whole list.
   */
  base?: T | null;
}

/**
 * An entity is a mapping plus a policy, no plumbing: pure functions from raw images to the canonical
 * record and from the canonical record to write commands. Built from its configuration section.
 */
export interface EntityMapping<T, ShopInput, SalesforceInput> {
  readonly name: string;
  /** Canonical key of a record: shop id + business key. */
  key(record: T): string;
  /** Debezium after-image(s) -> canonical. `previous` supplies what the image does not carry. */
  fromShopRow(input: ShopInput, previous?: T | null): T;
  /** Full Salesforce image(s) -> canonical. `previous` supplies what Salesforce does not hold. */
  fromSalesforce(input: SalesforceInput, previous?: T | null): T;
  /**
   * Top-level canonical fields an input actually carries (for CanonicalChange.knownFields): with no
   * `previous`, fields of images not at hand (a Contact when only the Account event came) are defaults
   * and must not be compared. Empty = all.
   */
  knownFromShop(input: ShopInput, previous?: T | null): string[];
  knownFromSalesforce(input: SalesforceInput, previous?: T | null): string[];
  /** Canonical -> Salesforce upserts (parents first) or deletes. */
  toSalesforce(record: T, ctx: WriteContext, op: 'UPSERT' | 'DELETE', opts?: WriteOptions<T>): SalesforceWrite[];
  /** Canonical -> shop row upserts (parent rows first) or deletes. */
  toShop(record: T, ctx: WriteContext, op: 'UPSERT' | 'DELETE', opts?: WriteOptions<T>): ShopWrite[];
}

export type AnyEntityMapping = EntityMapping<any, any, any>;

/** Sorted, de-duplicated field list; [] (all) when a previous record fills the gaps. */
export function known(previous: unknown, fields: string[]): string[] {
  return previous ? [] : [...new Set(fields)].sort();
}

/** True when the write should include the canonical field. */
export function wants(opts: WriteOptions<unknown> | undefined, ...fields: string[]): boolean {
  return !opts?.fields || fields.some((f) => opts.fields!.has(f));
}
