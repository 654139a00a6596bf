import { createLogger } from '../../observability/logger.ts';
import { withClient } from '../db.ts';
import { SYNCED_TABLES, type SyncedTable } from '../tables.ts';
import { generateSeedData, type SeedData } from './generate.ts';
import { resolveSeedOptions, type SeedOptions, type SeedOptionsInput } from './options.ts';
import { insertRows } from './insert.ts';

const log = createLogger('shop.seed');

export interface SeedProgress {
  /** Rows written so far, over all tables. */
  done: number;
  total: number;
  table: SyncedTable;
}

export interface SeedResult {
  options: SeedOptions;
  /** Per table: rows generated, and how many of them were new (the rest existed already). */
  tables: Record<SyncedTable, { generated: number; inserted: number }>;
  ms: number;
}

/** Tables in an order that satisfies the foreign keys. */
const INSERT_ORDER: SyncedTable[] = [
  'warehouses', 'products', 'stock_levels', 'customers', 'addresses', 'customer_segments',
  'segment_members', 'orders', 'order_lines', 'payments', 'invoices', 'support_tickets',
];

/**
 * Fills the shop database with deterministic plausible data (see generateSeedData), in one
 * transaction; rows whose business key exists are skipped, so seeding twice changes nothing.
 * `only` limits it to some tables (the others are reported with nothing generated).
 */
export async function seedShop(
  pgUrl: string,
  input: SeedOptionsInput = {},
  onProgress?: (p: SeedProgress) => void,
  only: readonly SyncedTable[] = SYNCED_TABLES,
): Promise<SeedResult> {
  const started = Date.now();
  const options = resolveSeedOptions(input);
  const generated: SeedData = generateSeedData(options);
  const data = Object.fromEntries(SYNCED_TABLES.map((t) => [t, only.includes(t) ? generated[t] : []])) as SeedData;
  const total = SYNCED_TABLES.reduce((n, t) => n + data[t].length, 0);
  const tables = {} as SeedResult['tables'];
  await withClient(pgUrl, async (client) => {
    await client.query('BEGIN');
    try {
      let done = 0;
      for (const table of INSERT_ORDER) {
        const inserted = await insertRows(client, table, data[table], (n) => {
          done += n;
          onProgress?.({ done, total, table });
        });
        tables[table] = { generated: data[table].length, inserted };
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
  const ms = Date.now() - started;
  log.info({ ...options, rows: total, ms }, 'shop seeded');
  return { options, tables, ms };
}
