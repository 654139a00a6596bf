import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { bootstrapShop } from '../../src/shop/bootstrap.ts';
import { withClient, withDatabase } from '../../src/shop/db.ts';

interface TestStackLike {
  postgres: { url: string; adminUrl: string };
  kafka: { brokers: string[] };
  connect: { url: string };
}

const STACK_SUPPORT = new URL('../support/stack.ts', import.meta.url);

/** The shared test stack (test/support/stack.ts) when it exists, else undefined. */
export async function testStack(): Promise<TestStackLike | undefined> {
  if (!existsSync(STACK_SUPPORT)) return undefined;
  const mod = (await import(STACK_SUPPORT.href)) as { getTestStack: () => Promise<TestStackLike> };
  return mod.getTestStack();
}

/** Superuser URL of a PostgreSQL server for tests: SHOPFORCE_TEST_PG_URL, else the test stack's. */
export async function adminServerUrl(): Promise<string> {
  if (process.env.SHOPFORCE_TEST_PG_URL) return process.env.SHOPFORCE_TEST_PG_URL;
  const stack = await testStack();
  if (stack) return stack.postgres.adminUrl;
  throw new Error(
    'no PostgreSQL for the shop tests: run them through the test stack (test/support/stack.ts) or set ' +
    'SHOPFORCE_TEST_PG_URL to a superuser URL of a server with wal_level=logical',
  );
}

export interface TestDatabase {
  name: string;
  /** Superuser. */
  adminUrl: string;
  /** The shopforce application role. */
  appUrl: string;
  /** The debezium role. */
  debeziumUrl: string;
  drop(): Promise<void>;
}

function roleUrl(adminUrl: string, user: string, password: string): string {
  const u = new URL(adminUrl);
  u.username = user;
  u.password = password;
  return u.toString();
}

/** A fresh database with roles, migrations and grants applied; drop() removes it and its slots. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const server = await adminServerUrl();
  const name = `sf_test_${label}_${randomBytes(4).toString('hex')}`;
  const adminUrl = withDatabase(server, name);
  await bootstrapShop(adminUrl);
  return {
    name,
    adminUrl,
    appUrl: roleUrl(adminUrl, 'shopforce', 'shopforce'),
    debeziumUrl: roleUrl(adminUrl, 'debezium', 'debezium'),
    async drop() {
      await withClient(withDatabase(server, 'postgres'), async (client) => {
        const { rows } = await client.query<{ slot_name: string; active_pid: number | null }>(
          'SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1', [name],
        );
        for (const slot of rows) {
          if (slot.active_pid) await client.query('SELECT pg_terminate_backend($1)', [slot.active_pid]);
          for (let i = 0; i < 50; i++) {
            try {
              await client.query('SELECT pg_drop_replication_slot($1)', [slot.slot_name]);
              break;
            } catch (err) {
              if (i === 49) throw err;
              await new Promise((r) => setTimeout(r, 200));
            }
          }
        }
        await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      });
    },
  };
}
