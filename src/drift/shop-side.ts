/**
 * The shop's side of a drift check: each table of the entity read through a server-side cursor in
 * key order (ORDER BY the part's key fields, COLLATE "C"), a batch of rows at a time, all cursors in
 * one read-only REPEATABLE READ transaction, so the tables are read as of one moment.
 */
import pg from 'pg';
import { entityKey } from '../entities/keys.ts';
import type { EnabledEntity } from '../entities/index.ts';
import { groupByKey, mergeInKeyOrder, type PartImage, type SideRecord } from './side-images.ts';

/** Rows per FETCH. */
const FETCH_ROWS = 2_000;

/** A row as Debezium's JSON would carry it (dates as 'YYYY-MM-DD', instants as ISO-8601 text), so the entity mappings read it alike. */
function asImage(row: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) if (v instanceof Date) row[k] = v.toISOString();
  return row;
}

export interface ShopSide {
  records: AsyncIterable<SideRecord>;
  /** Rows read per table so far. */
  rows: Record<string, number>;
  /** Rows whose key could not be read (the router would dead-letter them). */
  unkeyed: number;
  close(): Promise<void>;
}

/** Opens the cursors; `records` yields the entity's keys in drift order. */
export async function openShopSide(entity: EnabledEntity, opts: { databaseUrl: string; schema: string; shopId: string }): Promise<ShopSide> {
  const client = new pg.Client({
    connectionString: opts.databaseUrl,
    // calendar dates as the text PostgreSQL stores, not a Date at local midnight
    types: { getTypeParser: ((oid: number, format?: string) => (oid === pg.types.builtins.DATE ? (v: string) => v : pg.types.getTypeParser(oid, format as never))) as never },
  });
  await client.connect();
  const side: ShopSide = {
    records: (async function* () {})(), rows: {}, unkeyed: 0,
    async close() { await client.query('ROLLBACK').catch(() => undefined); await client.end(); },
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const streams: AsyncIterable<PartImage>[] = [];
    let n = 0;
    for (const [table, spec] of Object.entries(entity.flow.shop)) {
      if (!spec.keyFields?.length) throw new Error(`drift of ${entity.name}: its shop part ${table} names no key fields (keyedBy) to read it in key order`);
      const relation = `${client.escapeIdentifier(opts.schema)}.${client.escapeIdentifier(table)}`;
      const columns = new Set((await client.query<{ attname: string }>(
        'SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped', [relation])).rows.map((r) => r.attname));
      if (columns.size === 0) throw new Error(`drift of ${entity.name}: table ${opts.schema}.${table} does not exist`);
      const missing = spec.keyFields.filter((f) => !columns.has(f));
      if (missing.length) throw new Error(`drift of ${entity.name}: ${opts.schema}.${table} has no column ${missing.join(', ')}`);
      const cursor = `drift_${n++}`;
      // a shop database may hold several shops: this pipeline's rows only, as the router routes them
      const where = columns.has('shop_id') ? ` WHERE shop_id = ${client.escapeLiteral(opts.shopId)}` : '';
      // as text, byte by byte: the order the Salesforce side is sorted in (src/drift/key-order.ts)
      const order = [...spec.keyFields.map((f) => `${client.escapeIdentifier(f)}::text COLLATE "C"`), ...(columns.has('id') ? ['id'] : [])].join(', ');
      await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT * FROM ${relation}${where} ORDER BY ${order}`);
      side.rows[table] = 0;
      streams.push((async function* () {
        for (;;) {
          const { rows } = await client.query<Record<string, unknown>>(`FETCH FORWARD ${FETCH_ROWS} FROM ${cursor}`);
          if (rows.length === 0) return;
          side.rows[table]! += rows.length;
          for (const row of rows) {
            const parts = spec.key?.(row);
            let key: string | undefined;
            try {
              key = parts && entityKey(opts.shopId, ...parts);
            } catch {
              key = undefined;
            }
            if (!key) {
              side.unkeyed++;
              continue;
            }
            yield { key, part: table, recordId: String(row.id ?? parts!.join('|')), image: asImage(row) };
          }
        }
      })());
    }
    side.records = groupByKey(mergeInKeyOrder(streams), 'shop');
    return side;
  } catch (err) {
    await side.close();
    throw err;
  }
}
