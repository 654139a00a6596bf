/**
 * Salesforce's side of a drift check: each object of the entity read with one Bulk API 2.0 query
 * (every field a describe lists, as a change event's full image has them), keyed as the router keys
 * change events, then sorted by key on this machine. The query has no ORDER BY: that would turn off
 * Salesforce's PK chunking for large objects, and SOQL sorts text by the user's locale, case
 * insensitively, not in the order the shop's cursors give.
 */
import type { Connection } from 'jsforce';
import type { EnabledEntity } from '../entities/index.ts';
import { entityKey } from '../entities/keys.ts';
import { parentFieldName, type ParentKeyLookup, type PartSpec } from '../entities/parts.ts';
import { normalizeValue, type ObjectFields } from '../salesforce/source/field-types.ts';
import { bulkQueryPages, type BulkQueryOptions } from '../salesforce/bulk-query.ts';
import type { CallPolicy } from '../salesforce/sink/call.ts';
import { sortItems } from './external-sort.ts';
import { compareImages, groupByKey, type PartImage, type SideRecord } from './side-images.ts';

/** Field types Bulk API 2.0 cannot query (compound fields; their parts are queried instead) or CSV cannot carry. */
const NOT_QUERIED = new Set(['address', 'location', 'base64']);
const NUMBER_TYPES = new Set(['int', 'double', 'currency', 'percent', 'long']);

interface ObjectQuery {
  soql: string;
  fields: ObjectFields;
  booleans: Set<string>;
  numbers: Set<string>;
  /** The query column holding the parent's key field (PricebookEntry: Product2.Sku__c). */
  parentKeyColumn?: string;
  /** Parent fields the mapping reads, as the router adds them to a change's image: query column -> image field. */
  parentFieldColumns: Array<{ column: string; as: string }>;
}

async function objectQuery(conn: Connection, object: string, spec: PartSpec): Promise<ObjectQuery> {
  const d = await conn.sobject(object).describe();
  const fields = d.fields.filter((f) => !NOT_QUERIED.has(f.type));
  const names = fields.map((f) => f.name);
  const parentColumn = (lookup: ParentKeyLookup) => {
    const via = d.fields.find((f) => f.name === lookup.viaField);
    if (!via?.relationshipName) throw new Error(`drift: ${object}.${lookup.viaField} is not a lookup with a relationship name`);
    return `${via.relationshipName}.${lookup.keyField}`;
  };
  const parentKeyColumn = spec.parentKey ? parentColumn(spec.parentKey) : undefined;
  const parentFieldColumns = (spec.parentFields ?? []).map((lookup) => ({ column: parentColumn(lookup), as: parentFieldName(lookup) }));
  const conditions = [...(spec.keyFields ?? []).map((f) => `${f} != null`), ...(spec.filter ? [`(${spec.filter})`] : [])];
  return {
    soql: `SELECT ${[...names, ...(parentKeyColumn ? [parentKeyColumn] : []), ...parentFieldColumns.map((p) => p.column)].join(', ')} FROM ${object}${conditions.length ? ` WHERE ${conditions.join(' AND ')}` : ''}`,
    fields: {
      object, names,
      dates: new Set(fields.filter((f) => f.type === 'date').map((f) => f.name)),
      datetimes: new Set(fields.filter((f) => f.type === 'datetime').map((f) => f.name)),
    },
    booleans: new Set(fields.filter((f) => f.type === 'boolean').map((f) => f.name)),
    numbers: new Set(fields.filter((f) => NUMBER_TYPES.has(f.type)).map((f) => f.name)),
    parentKeyColumn,
    parentFieldColumns,
  };
}

/** A CSV row as a change event's image carries the record: typed values, null for empty. */
function asImage(q: ObjectQuery, row: Record<string, string>): Record<string, unknown> {
  const image: Record<string, unknown> = {};
  for (const name of q.fields.names) {
    const text = row[name];
    if (text === undefined || text === '') image[name] = null;
    else if (q.booleans.has(name)) image[name] = text === 'true';
    else if (q.numbers.has(name)) image[name] = Number(text);
    else image[name] = normalizeValue(q.fields, name, text);
  }
  for (const { column, as } of q.parentFieldColumns) image[as] = row[column] || null;
  return image;
}

export interface SalesforceSideOptions extends BulkQueryOptions {
  shopId: string;
  /** Records sorted in memory before a sorted run goes to a temporary file. */
  sortBufferRecords: number;
  tmpDir?: string;
}

export interface SalesforceSide {
  records: AsyncIterable<SideRecord>;
  /** Records read per object. */
  rows: Record<string, number>;
  /** Records whose key could not be read (no external id, or a parent without one). */
  unkeyed: number;
  /** Sorted runs written to disk. */
  sortRuns: number;
}

/** Reads every object of the entity (this is where the time goes), then yields its keys in drift order. */
export async function readSalesforceSide(conn: Connection, policy: CallPolicy, entity: EnabledEntity, opts: SalesforceSideOptions): Promise<SalesforceSide> {
  const rows: Record<string, number> = {};
  let unkeyed = 0;
  // a results page is parsed whole (every column of every row, as text) while its images join the
  // sort buffer: past the buffer's size, the page and not the buffer would set the memory it takes
  const bulk = { ...opts, pageSize: Math.min(opts.pageSize, opts.sortBufferRecords) };
  async function* images(): AsyncGenerator<PartImage> {
    for (const [object, spec] of Object.entries(entity.flow.salesforce)) {
      const q = await objectQuery(conn, object, spec);
      rows[object] = 0;
      for await (const page of bulkQueryPages(conn, policy, q.soql, bulk)) {
        rows[object] += page.length;
        for (const row of page) {
          const image = asImage(q, row);
          // another shop's record in the same org (its external id names that shop): not ours to compare
          const owner = spec.shop?.(image);
          if (owner !== undefined && owner !== opts.shopId) continue;
          const parts = q.parentKeyColumn ? (row[q.parentKeyColumn] ? [row[q.parentKeyColumn]!] : undefined) : spec.key?.(image);
          let key: string | undefined;
          try {
            key = parts && entityKey(opts.shopId, ...parts);
          } catch {
            key = undefined;
          }
          if (!key) unkeyed++;
          else yield { key, part: object, recordId: String(image.Id), image };
        }
      }
    }
  }
  const sorted = await sortItems(images(), { compare: compareImages, bufferSize: opts.sortBufferRecords, dir: opts.tmpDir });
  return { records: groupByKey(sorted, 'salesforce'), rows, unkeyed, sortRuns: sorted.runs };
}
