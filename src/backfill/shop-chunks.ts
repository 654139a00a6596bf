/**
 * An entity's rows in the shop, a chunk at a time: rows of its main table in id order (keyset paging,
 * so a resumed run starts after the last id done), with the rows of its other tables that belong to
 * them (by the key columns of each part), as the router would have routed them.
 */
import pg from 'pg';
import type { FlowSpec, PartSpec } from '../entities/parts.ts';

/** One shop row of one part of an entity. */
export interface ShopImage { part: string; spec: PartSpec; row: Record<string, unknown> }

export interface ShopChunk {
  /** The images of each entity key, main part first. */
  byKey: Map<string, ShopImage[]>;
  /** Main table rows in the chunk, and the id of the last (the cursor after it). */
  rows: number;
  lastId: string | null;
}

/** Rows as Debezium shows them: dates as 'YYYY-MM-DD' text, 64-bit integers as numbers. */
const TYPES = {
  getTypeParser: (oid: number, format?: string) => {
    if (oid === 1082) return (v: string) => v;
    if (oid === 20) return (v: string) => (Number.isSafeInteger(Number(v)) ? Number(v) : v);
    return pg.types.getTypeParser(oid, format as any);
  },
};

export class ShopChunks {
  private readonly main: [string, PartSpec];
  private readonly children: Array<[string, PartSpec & { keyFields: string[] }]>;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly shopId: string,
    flow: FlowSpec,
    private readonly keyOf: (parts: string[]) => string,
    private readonly since: Date | null,
  ) {
    const parts = Object.entries(flow.shop);
    this.main = parts[0]!;
    this.children = parts.slice(1).map(([table, spec]) => {
      if (!spec.keyFields) throw new Error(`the ${flow.entity} flow's table ${table} names no key fields (PartSpec.keyFields): a backfill cannot find its rows`);
      return [table, spec as PartSpec & { keyFields: string[] }];
    });
    if (since && this.children.length > 0 && !this.main[1].keyFields) {
      throw new Error(`the ${flow.entity} flow's table ${this.main[0]} names no key fields (PartSpec.keyFields): --since cannot follow its other tables`);
    }
  }

  private table(name: string): string {
    return `${pg.escapeIdentifier(this.schema)}.${pg.escapeIdentifier(name)}`;
  }

  /** Main rows changed since `since`, or whose rows in another table were (an address edited). */
  private sinceFilter(first: number): string {
    if (!this.since) return '';
    const mainKey = (this.main[1].keyFields ?? []).map((c) => pg.escapeIdentifier(c)).join(', ');
    const viaChildren = this.children.map(([table, spec]) =>
      ` OR (${mainKey}) IN (SELECT ${spec.keyFields.map((c) => pg.escapeIdentifier(c)).join(', ')} FROM ${this.table(table)} WHERE shop_id = $1 AND updated_at >= $${first})`);
    return ` AND (updated_at >= $${first}${viaChildren.join('')})`;
  }

  /** How many main rows the backfill goes through after `afterId`. */
  async count(afterId: string | null): Promise<number> {
    const { rows } = await this.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.table(this.main[0])} WHERE shop_id = $1 AND id > $2${this.sinceFilter(3)}`,
      this.since ? [this.shopId, afterId ?? -1, this.since] : [this.shopId, afterId ?? -1]);
    return Number(rows[0]!.n);
  }

  /** The next chunk of at most `limit` main rows after `afterId`, with their other tables' rows. */
  async next(afterId: string | null, limit: number): Promise<ShopChunk> {
    const [mainTable, mainSpec] = this.main;
    const params: unknown[] = [this.shopId, afterId ?? -1, limit];
    if (this.since) params.push(this.since);
    const main = await this.pool.query({
      text: `SELECT * FROM ${this.table(mainTable)} WHERE shop_id = $1 AND id > $2${this.sinceFilter(4)} ORDER BY id LIMIT $3`,
      values: params, types: TYPES,
    });
    const byKey = new Map<string, ShopImage[]>();
    const keys: string[][] = [];
    for (const row of main.rows as Record<string, unknown>[]) {
      const parts = mainSpec.key?.(row);
      if (!parts) continue;
      byKey.set(this.keyOf(parts), [{ part: mainTable, spec: mainSpec, row }]);
      keys.push(parts);
    }
    for (const [table, spec] of this.children) {
      if (keys.length === 0) break;
      const res = await this.pool.query({
        text: `SELECT * FROM ${this.table(table)} WHERE shop_id = $1 AND ${keysMatch(spec.keyFields)} ORDER BY id`,
        values: [this.shopId, ...spec.keyFields.map((_, i) => keys.map((k) => k[i]))], types: TYPES,
      });
      for (const row of res.rows as Record<string, unknown>[]) {
        const parts = spec.key?.(row);
        if (parts) byKey.get(this.keyOf(parts))?.push({ part: table, spec, row });
      }
    }
    const last = main.rows.at(-1) as Record<string, unknown> | undefined;
    return { byKey, rows: main.rows.length, lastId: last ? String(last.id) : null };
  }
}

/**
 * The condition "the row's key is one of the page's keys" ($2… hold one array per key column). A one-column
 * key is `= ANY`, which PostgreSQL always answers through the key's index; the `IN (unnest…)` form of a
 * composite key can get a plan that reads the table once per key when the table's statistics are older than
 * a bulk load (a backfill right after 100,000 customers were imported ran one page for more than 15 minutes).
 */
function keysMatch(keyFields: string[]): string {
  if (keyFields.length === 1) return `${pg.escapeIdentifier(keyFields[0]!)} = ANY($2::text[])`;
  const columns = keyFields.map((c) => pg.escapeIdentifier(c)).join(', ');
  const arrays = keyFields.map((_, i) => `$${i + 2}::text[]`).join(', ');
  return `(${columns}) IN (SELECT * FROM unnest(${arrays}))`;
}
