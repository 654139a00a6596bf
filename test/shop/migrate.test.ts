import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { withClient } from '../../src/shop/db.ts';
import { loadMigrations, migrate, MIGRATIONS_DIR } from '../../src/shop/migrate.ts';
import { PUBLICATION_NAME, SYNCED_TABLES } from '../../src/shop/tables.ts';
import { createTestDatabase, type TestDatabase } from './support.ts';

describe('shop migrations', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('migrate');
  });
  after(async () => {
    await db?.drop();
  });

  it('records every migration once, in order, with its checksum; a second run applies nothing', async () => {
    const files = await loadMigrations();
    const rows = await withClient(db.adminUrl, async (c) =>
      (await c.query<{ version: string; checksum: string }>('SELECT version, checksum FROM schema_migrations ORDER BY version')).rows);
    assert.deepEqual(rows.map((r) => r.version), files.map((m) => m.version));
    assert.deepEqual(rows.map((r) => r.checksum), files.map((m) => m.checksum));
    const again = await migrate(db.adminUrl);
    assert.deepEqual(again.applied, []);
    assert.equal(again.alreadyApplied.length, files.length);
  });

  it('gives every synced table shop_id (default shop-1), timestamps, version, full replica identity and a place in the publication', async () => {
    await withClient(db.adminUrl, async (c) => {
      for (const table of SYNCED_TABLES) {
        const { rows } = await c.query<{ column_name: string; data_type: string; column_default: string | null }>(
          `SELECT column_name, data_type, column_default FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = $1`, [table]);
        const col = (n: string) => rows.find((r) => r.column_name === n);
        assert.match(col('shop_id')?.column_default ?? '', /'shop-1'/, `${table}.shop_id default`);
        assert.equal(col('created_at')?.data_type, 'timestamp with time zone', `${table}.created_at`);
        assert.equal(col('updated_at')?.data_type, 'timestamp with time zone', `${table}.updated_at`);
        assert.equal(col('version')?.data_type, 'bigint', `${table}.version`);
      }
      const identity = await c.query<{ relname: string; relreplident: string }>(
        'SELECT relname, relreplident FROM pg_class WHERE relname = ANY($1)', [SYNCED_TABLES]);
      assert.equal(identity.rows.length, SYNCED_TABLES.length);
      for (const r of identity.rows) assert.equal(r.relreplident, 'f', `${r.relname} replica identity`);
      const published = await c.query<{ tablename: string }>(
        'SELECT tablename FROM pg_publication_tables WHERE pubname = $1', [PUBLICATION_NAME]);
      assert.deepEqual(published.rows.map((r) => r.tablename).sort(), [...SYNCED_TABLES].sort());
    });
  });

  it('bumps version and updated_at on every update, through the application role', async () => {
    await withClient(db.appUrl, async (c) => {
      const inserted = await c.query<{ version: string; updated_at: Date }>(
        `INSERT INTO customers (customer_number, email, first_name, last_name)
         VALUES ('C-VERSION', 'ver@example.com', 'Vera', 'Sion') RETURNING version, updated_at`);
      assert.equal(inserted.rows[0]!.version, '1');
      const first = await c.query<{ version: string; updated_at: Date }>(
        "UPDATE customers SET first_name = 'Veronika' WHERE customer_number = 'C-VERSION' RETURNING version, updated_at");
      const second = await c.query<{ version: string }>(
        "UPDATE customers SET phone = '+49 30 1234' WHERE customer_number = 'C-VERSION' RETURNING version");
      assert.equal(first.rows[0]!.version, '2');
      assert.equal(second.rows[0]!.version, '3');
      assert.ok(first.rows[0]!.updated_at.getTime() >= inserted.rows[0]!.updated_at.getTime());
      await c.query("DELETE FROM customers WHERE customer_number = 'C-VERSION'");
    });
  });

  it('lets debezium read the synced tables but not write them, and keeps it away from schema_migrations', async () => {
    await withClient(db.debeziumUrl, async (c) => {
      const { rows } = await c.query<{ n: string }>('SELECT count(*) AS n FROM orders');
      assert.equal(rows[0]!.n, '0');
      await assert.rejects(c.query("INSERT INTO warehouses (warehouse_code, name, country) VALUES ('WH-X', 'x', 'DE')"),
        /permission denied for table warehouses/);
      await assert.rejects(c.query('SELECT * FROM schema_migrations'), /permission denied/);
      const role = await c.query<{ rolreplication: boolean }>('SELECT rolreplication FROM pg_roles WHERE rolname = current_user');
      assert.equal(role.rows[0]!.rolreplication, true);
    });
  });

  it('refuses to run when an applied migration file was edited, naming the file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'shopforce-migrations-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      const edited = path.join(dir, '003_catalog.sql');
      await writeFile(edited, `${await readFile(edited, 'utf8')}\n-- edited after the fact\n`);
      await assert.rejects(migrate(db.adminUrl, { dir }), /migration 003_catalog\.sql was changed after it was applied/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rolls back a failing migration entirely and reports which file failed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'shopforce-migrations-'));
    try {
      await cp(MIGRATIONS_DIR, dir, { recursive: true });
      await writeFile(path.join(dir, '999_broken.sql'),
        'CREATE TABLE half_done (id int);\nALTER TABLE no_such_table ADD COLUMN x int;\n');
      await assert.rejects(migrate(db.adminUrl, { dir }), (err: Error) => {
        assert.match(err.message, /migration 999_broken\.sql failed and was rolled back/);
        assert.match(err.message, /no_such_table/);
        return true;
      });
      await withClient(db.adminUrl, async (c) => {
        const table = await c.query("SELECT to_regclass('public.half_done') AS t");
        assert.equal(table.rows[0].t, null);
        const recorded = await c.query("SELECT 1 FROM schema_migrations WHERE version = '999'");
        assert.equal(recorded.rowCount, 0);
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects migration files that are not named NNN_name.sql', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'shopforce-migrations-'));
    try {
      await writeFile(path.join(dir, 'add-things.sql'), 'SELECT 1;');
      await assert.rejects(loadMigrations(dir), /add-things\.sql .* is not named NNN_name\.sql/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with the redacted URL when the database cannot be reached', async () => {
    const url = new URL(db.appUrl);
    url.port = '1';
    await assert.rejects(migrate(url.toString()), (err: Error) => {
      assert.match(err.message, /cannot connect to PostgreSQL at postgres:\/\/shopforce:\*\*\*@127\.0\.0\.1:1\//);
      assert.ok(!err.message.includes(':shopforce@'));
      return true;
    });
  });
});

