import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { Registry } from 'prom-client';
import { replicationSlotMetrics } from '../../src/observability/replication-slot.ts';
import { MAX_SLOT_WAL_KEEP_SIZE } from '../../src/stack/components/postgres.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { getTestStack } from '../support/stack.ts';

/** The value of a sample of `name` with these labels in Prometheus text (undefined when absent). */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

// A logical slot nobody reads, as Debezium's is while Kafka Connect is down: the WAL written since is
// its lag in bytes, exported by `run` (as the shop's application role) and capped by the stack.
describe('the replication slot\'s WAL: capped by the stack, its lag exported', () => {
  let stack: StackAddresses;
  let admin: pg.Client;
  let pool: pg.Pool;
  const slot = `test_slot_${randomUUID().slice(0, 8)}`;
  const table = `slot_lag_${randomUUID().slice(0, 8)}`;

  before(async () => {
    stack = await getTestStack();
    admin = new pg.Client({ connectionString: stack.postgres.adminUrl });
    await admin.connect();
    await admin.query(`SELECT pg_create_logical_replication_slot($1, 'test_decoding')`, [slot]);
    await admin.query(`CREATE TABLE ${table} (id int, filler text)`);
    pool = new pg.Pool({ connectionString: stack.postgres.url, max: 1 });
  });
  after(async () => {
    await admin?.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => {});
    await admin?.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
    await admin?.end();
    await pool?.end();
  });

  test('the stack\'s PostgreSQL caps the WAL a slot holds back', async () => {
    const { rows } = await admin.query<{ max_slot_wal_keep_size: string }>('SHOW max_slot_wal_keep_size');
    assert.equal(rows[0]!.max_slot_wal_keep_size, MAX_SLOT_WAL_KEEP_SIZE);
  });

  test('the slot\'s lag grows with the WAL written while nobody reads it, and falls when it is confirmed', async () => {
    const registry = new Registry();
    replicationSlotMetrics(registry, pool);
    const lag = async () => sample(await registry.metrics(), 'shopforce_replication_slot_lag_bytes', `slot="${slot}"`);
    const first = await lag();
    assert.ok(first !== undefined && first >= 0, `a lag for ${slot}: ${first}`);

    await admin.query(`INSERT INTO ${table} SELECT g, repeat('x', 1000) FROM generate_series(1, 2000) g`);
    await new Promise((r) => setTimeout(r, 1_100)); // past the scrape's shared reading
    const grown = (await lag())!;
    assert.ok(grown - first! > 2_000_000, `2,000 rows of 1 kB add over 2 MB of WAL to the lag: ${first} → ${grown}`);

    const text = await registry.metrics();
    assert.equal(sample(text, 'shopforce_replication_slot_wal_status', `slot="${slot}",status="reserved"`), 1, 'a slot within max_wal_size is reserved');
    assert.equal(sample(text, 'shopforce_replication_slot_wal_status', `slot="${slot}",status="lost"`), 0);
    assert.ok(sample(text, 'shopforce_replication_slot_safe_wal_bytes', `slot="${slot}"`)! > 0, 'with the cap, PostgreSQL tells how much WAL may still come');

    // the consumer confirms everything (as Debezium does after Kafka took the changes)
    await admin.query('SELECT pg_replication_slot_advance($1, pg_current_wal_lsn())', [slot]);
    await new Promise((r) => setTimeout(r, 1_100));
    const confirmed = (await lag())!;
    assert.ok(confirmed < grown - 2_000_000, `the confirmed WAL leaves the lag: ${grown} → ${confirmed}`);
  });
});
