import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createLogger } from '../observability/logger.ts';
import { withClient } from './db.ts';

const log = createLogger('shop.migrate');

/** Folder holding NNN_name.sql files. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;
/** Arbitrary constant: serialises concurrent migrate() calls against one database. */
const ADVISORY_LOCK_KEY = 7_311_402_117;

export interface Migration {
  version: string;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** Versions applied by this call, in order. */
  applied: string[];
  /** Versions that were already applied before this call. */
  alreadyApplied: string[];
}

export interface MigrateOptions {
  dir?: string;
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads and orders the migration files; rejects stray names and duplicate versions. */
export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const seen = new Map<string, string>();
  const migrations: Migration[] = [];
  for (const file of entries) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`migration file ${file} in ${dir} is not named NNN_name.sql (lower case, digits, underscores)`);
    const [, version, name] = match as unknown as [string, string, string];
    const clash = seen.get(version);
    if (clash) throw new Error(`migrations ${clash} and ${file} share version ${version}`);
    seen.set(version, file);
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version, name, file, sql, checksum: checksumOf(sql) });
  }
  return migrations;
}

/**
 * Applies every migration not yet recorded in schema_migrations, each in its own transaction, in
 * version order. A recorded migration whose file changed since (checksum mismatch) stops the run
 * before anything is applied. Run as the role that should own the tables (the stack: postgres).
 */
export async function migrate(pgUrl: string, options: MigrateOptions = {}): Promise<MigrateResult> {
  const migrations = await loadMigrations(options.dir);
  return withClient(pgUrl, async (client) => {
    await client.query('SELECT pg_advisory_lock($1)', [ADVISORY_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version     text PRIMARY KEY,
        name        text NOT NULL,
        checksum    text NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now(),
        duration_ms integer NOT NULL
      )`);
      const { rows } = await client.query<{ version: string; checksum: string; name: string }>(
        'SELECT version, name, checksum FROM schema_migrations',
      );
      const recorded = new Map(rows.map((r) => [r.version, r]));
      const known = new Set(migrations.map((m) => m.version));
      for (const row of rows) {
        if (!known.has(row.version)) {
          log.warn({ version: row.version, name: row.name }, 'database has a migration this code does not know (newer code ran here?)');
        }
      }
      for (const m of migrations) {
        const done = recorded.get(m.version);
        if (done && done.checksum !== m.checksum) {
          throw new Error(
            `migration ${m.file} was changed after it was applied (recorded checksum ${done.checksum.slice(0, 12)}…, ` +
            `file now ${m.checksum.slice(0, 12)}…); add a new migration instead of editing an applied one`,
          );
        }
      }
      const result: MigrateResult = { applied: [], alreadyApplied: [] };
      for (const m of migrations) {
        if (recorded.has(m.version)) {
          result.alreadyApplied.push(m.version);
          continue;
        }
        const started = Date.now();
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(
            'INSERT INTO schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)',
            [m.version, m.name, m.checksum, Date.now() - started],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          const e = err as Error & { position?: string; detail?: string };
          throw new Error(
            `migration ${m.file} failed and was rolled back: ${e.message}` +
            (e.detail ? ` (${e.detail})` : '') + (e.position ? ` at character ${e.position}` : ''),
            { cause: err },
          );
        }
        log.info({ version: m.version, name: m.name, ms: Date.now() - started }, 'migration applied');
        result.applied.push(m.version);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [ADVISORY_LOCK_KEY]).catch(() => undefined);
    }
  });
}
