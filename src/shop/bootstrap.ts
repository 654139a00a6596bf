import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '../observability/logger.ts';
import { databaseOf, withClient, withDatabase } from './db.ts';
import { migrate, type MigrateResult } from './migrate.ts';

const log = createLogger('shop.bootstrap');

export const ROLES_SQL = fileURLToPath(new URL('./bootstrap/roles.sql', import.meta.url));
export const GRANTS_SQL = fileURLToPath(new URL('./bootstrap/grants.sql', import.meta.url));

/**
 * Prepares the shop database of a fresh cluster, as a superuser; every step is idempotent:
 * 1. creates the database named in adminUrl if missing (connecting to `postgres` for that),
 * 2. roles.sql: roles `shopforce` and `debezium`,
 * 3. the migrations (tables owned by the superuser, publication shopforce_publication),
 * 4. grants.sql: shopforce may write the shop tables, debezium may only SELECT them.
 */
export async function bootstrapShop(adminUrl: string): Promise<MigrateResult> {
  const database = databaseOf(adminUrl);
  await withClient(withDatabase(adminUrl, 'postgres'), async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
      log.info({ database }, 'database created');
    }
  });
  await runSqlFile(adminUrl, ROLES_SQL);
  const result = await migrate(adminUrl);
  await runSqlFile(adminUrl, GRANTS_SQL);
  return result;
}

export async function runSqlFile(url: string, file: string): Promise<void> {
  const sql = await readFile(file, 'utf8');
  await withClient(url, async (client) => {
    try {
      await client.query(sql);
    } catch (err) {
      throw new Error(`${file} failed: ${(err as Error).message}`, { cause: err });
    }
  });
}
