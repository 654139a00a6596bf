import pg from 'pg';
import { BUSINESS_KEYS, type SyncedTable } from '../tables.ts';
import type { Row } from './generate.ts';

export const BATCH_ROWS = 5_000;

/** Column name → SQL type (as format_type prints it) of a table, from the catalog. */
export async function columnTypes(client: pg.ClientBase, table: string): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; type: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
    [table],
  );
  if (rows.length === 0) throw new Error(`table ${table} not found (run \`shopforce migrate\` first)`);
  return new Map(rows.map((r) => [r.name, r.type]));
}

/**
 * Inserts rows in batches of BATCH_ROWS, one statement per batch: each column travels as one typed
 * array and unnest() turns them back into rows, so a batch costs one round trip whatever its size.
 * Rows whose business key already exists are left untouched (ON CONFLICT DO NOTHING), which makes
 * seeding idempotent. Returns how many rows were new.
 */
export async function insertRows(
  client: pg.ClientBase,
  table: SyncedTable,
  rows: Row[],
  onBatch?: (rowsDone: number) => void,
): Promise<number> {
  if (rows.length === 0) return 0;
  const types = await columnTypes(client, table);
  const columns = Object.keys(rows[0]!);
  for (const c of columns) {
    if (!types.has(c)) throw new Error(`seed row for ${table} has column ${c}, which the table lacks`);
  }
  const casts = columns.map((c, i) => `$${i + 1}::${types.get(c)}[]`);
  const sql =
    `INSERT INTO ${pg.escapeIdentifier(table)} (${columns.map((c) => pg.escapeIdentifier(c)).join(', ')}) ` +
    `SELECT * FROM unnest(${casts.join(', ')}) ` +
    `ON CONFLICT (${BUSINESS_KEYS[table].map((c) => pg.escapeIdentifier(c)).join(', ')}) DO NOTHING`;
  let inserted = 0;
  for (let offset = 0; offset < rows.length; offset += BATCH_ROWS) {
    const batch = rows.slice(offset, offset + BATCH_ROWS);
    const params = columns.map((c) => batch.map((r) => r[c] ?? null));
    try {
      const res = await client.query(sql, params);
      inserted += res.rowCount ?? 0;
    } catch (err) {
      const e = err as Error & { detail?: string; constraint?: string };
      throw new Error(
        `seeding ${table} (rows ${offset + 1}-${offset + batch.length}) failed: ${e.message}` +
        (e.constraint ? ` [constraint ${e.constraint}]` : '') + (e.detail ? ` (${e.detail})` : ''),
        { cause: err },
      );
    }
    onBatch?.(batch.length);
  }
  return inserted;
}
