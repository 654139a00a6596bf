/**
 * An entity's parts on each side: the shop tables and Salesforce objects it reads, how an image of
 * each finds its entity key, and how the kept images assemble into the mapping's input.
 */
import { readExternalId } from './keys.ts';

/**
 * A field of a parent record, reached through a lookup field of a Salesforce image: the entity key
 * of a PricebookEntry (Product2Id -> Product2.Sku__c), or the shop customer id of a CampaignMember
 * (ContactId -> Contact.Shop_Customer_Id__c).
 */
export interface ParentKeyLookup {
  viaField: string;     // lookup field on this object, e.g. Product2Id
  object: string;       // parent object, e.g. Product2
  keyField: string;     // parent's field holding the value, e.g. Sku__c
}

/** Where the router puts a looked-up parent field in the image: "<viaField>.<keyField>" (e.g. "ContactId.Shop_Customer_Id__c"). */
export function parentFieldName(lookup: ParentKeyLookup): string {
  return `${lookup.viaField}.${lookup.keyField}`;
}

/** One source table or Salesforce object of an entity: how its images find their entity and fit in. */
export interface PartSpec {
  /** Name of this part in the mapping's input, e.g. "addresses", "Contact". */
  as: string;
  /** Several images per entity (order lines, line items), kept by record id. */
  many: boolean;
  /** For a many-part: the canonical field its images make up together (e.g. "lines"). */
  field?: string;
  /** Business key parts of the entity, read from an image of this part; undefined when absent. */
  key?: (image: Record<string, unknown>) => string[] | undefined;
  /**
   * The image fields `key` reads, in key order (set by keyedBy, byExternalId): a drift check asks a
   * side for this part's records in key order by them (shop) or for those that have them (Salesforce);
   * the backfill reads a chunk's shop rows by them.
   */
  keyFields?: string[];
  /** Or: the key is on a parent record, looked up by id (cached). */
  parentKey?: ParentKeyLookup;
  /**
   * An image without a key is not this entity's and is skipped (a Campaign that is not a shop
   * segment); otherwise it is dead-lettered.
   */
  keyOptional?: boolean;
  /** Parent fields the mapping reads, looked up by the router (cached) and added to the image (parentFieldName). */
  parentFields?: ParentKeyLookup[];
  /**
   * The image fields the pipeline keeps (after the parent fields are added): what the mapping reads.
   * A many-part of thousands of images (a campaign's members) then stays small in the reconciler's
   * per-key state. All fields when absent.
   */
  fields?: string[];
  /**
   * A Salesforce part keyed by an external id we wrote: the shop the image belongs to (keys.ts), so a
   * pipeline skips the records another shop syncs into the same org.
   */
  shop?: (image: Record<string, unknown>) => string | undefined;
  /**
   * Salesforce parts: a SOQL condition the part's records meet (e.g. the entries of one price book),
   * for a drift check reading the object.
   */
  filter?: string;
}

/**
 * How an entity's raw changes become one mapping input per key: which shop tables and Salesforce
 * objects it reads (the first of each is the main part: its delete is the entity's delete), and how
 * the parts assemble into the mapping's input. Data, not plumbing: one entry per entity.
 */
export interface FlowSpec {
  entity: string;
  shop: Record<string, PartSpec>;
  salesforce: Record<string, PartSpec>;
  /** Mapping input from the kept parts; undefined while the main part is missing. */
  shopInput(parts: Parts): unknown;
  salesforceInput(parts: Parts): unknown;
}

/** Kept images of one entity key: single parts by name, many-parts as record id -> image. */
export type Parts = Record<string, Record<string, unknown> | Record<string, Record<string, unknown>> | null | undefined>;

export const text = (v: unknown): string | undefined => (v === null || v === undefined || v === '' ? undefined : String(v));
/** The key is one field of the image. */
export const one = (field: string) => (image: Record<string, unknown>) => {
  const v = text(image[field]);
  return v === undefined ? undefined : [v];
};
/** The key is these fields of the image, in order (shop key columns, or a Salesforce field that holds the key as it is). */
export const keyedBy = (...fields: string[]): Pick<PartSpec, 'key' | 'keyFields'> => ({
  keyFields: fields,
  key: (image) => {
    const values = fields.map((f) => text(image[f]));
    return values.every((v) => v !== undefined) ? (values as string[]) : undefined;
  },
});
/**
 * The key is read back out of an external id we wrote ("<shop>|<parts>", keys.ts), and so is the shop
 * the record belongs to. `pick` keeps the parts that make the entity key (a line item's external id holds
 * its order number and its line number; its entity is the order).
 */
export const byExternalId = (field: string, pick: (parts: string[]) => string[] = (p) => p): Pick<PartSpec, 'key' | 'shop' | 'keyFields'> => ({
  keyFields: [field],
  key: (image) => {
    const id = readExternalId(image[field]);
    return id ? pick(id.parts) : undefined;
  },
  shop: (image) => readExternalId(image[field])?.shopId,
});
/** The images of a many-part, or undefined before the first one arrived (so "no lines known" is not "no lines"). */
export const list = (parts: Parts, name: string) => {
  const images = Object.values((parts[name] as Record<string, Record<string, unknown>> | undefined) ?? {});
  return parts[name] === undefined ? undefined : images;
};
/** The image of a single part, or undefined. */
export const single = (parts: Parts, name: string) => (parts[name] as Record<string, unknown> | null | undefined) ?? undefined;

