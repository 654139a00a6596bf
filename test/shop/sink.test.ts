import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ShopSink } from '../../src/shop/sink/shop-sink.ts';
import type { ShopWrite } from '../../src/entities/types.ts';
import { StagePause, type PauseState } from '../../src/kafka/stage-pause.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';
import { createTestDatabase, type TestDatabase } from './support.ts';

// The shop sink writes Salesforce-mastered values (here: product prices) into the shop database as
// the application role: exactly once per command, never older over newer, a bad row alone refused.
describe('shop sink', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let sink: ShopSink;
  let n = 0;
  const write = (sku: string, price: string, eventTime: number, over: Partial<ShopWrite> = {}): ShopWrite => ({
    commandId: `cmd-${++n}`, shopId: 'shop-1', entity: 'product', key: `shop-1|${sku}`, sourcePosition: `replay:${n}`,
    transactionId: `tx-${n}`, eventTime, operation: 'UPSERT', sequence: 0, table: 'products', keyColumns: ['shop_id', 'sku'],
    row: { shop_id: 'shop-1', sku, name: `Product ${sku}`, price, currency: 'EUR', active: true },
    sourceVersion: null, parentKeys: [], ...over,
  });
  const priceOf = async (sku: string) => (await pool.query('SELECT price::text AS price FROM products WHERE sku = $1', [sku])).rows[0]?.price;

  before(async () => {
    db = await createTestDatabase('sink');
    pool = new pg.Pool({ connectionString: db.appUrl, max: 4 });
    sink = new ShopSink(pool);
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  test('an upsert creates the row, a newer one updates it with exact money', async () => {
    const [created] = await sink.write([write('SINK-1', '19.99', 1_000)]);
    assert.equal(created?.status, 'applied');
    assert.equal(await priceOf('SINK-1'), '19.99');
    const [updated] = await sink.write([write('SINK-1', '1234567890.01', 2_000)]);
    assert.equal(updated?.status, 'applied');
    assert.equal(await priceOf('SINK-1'), '1234567890.01');
  });

  test('the same command replayed (at-least-once delivery) is applied once', async () => {
    const cmd = write('SINK-2', '5.00', 1_000);
    assert.equal((await sink.write([cmd]))[0]?.status, 'applied');
    await pool.query(`UPDATE products SET name = 'edited meanwhile' WHERE sku = 'SINK-2'`);
    const [again] = await sink.write([cmd]);
    assert.equal(again?.status, 'duplicate');
    const { rows } = await pool.query(`SELECT name FROM products WHERE sku = 'SINK-2'`);
    assert.equal(rows[0].name, 'edited meanwhile', 'the replay did not write the row again');
  });

  test('an older change arriving late never overwrites a newer one', async () => {
    await sink.write([write('SINK-3', '30.00', 3_000, { sourceVersion: 3 })]);
    const [late] = await sink.write([write('SINK-3', '10.00', 1_000, { sourceVersion: 1 })]);
    assert.equal(late?.status, 'stale');
    assert.match((late as any).reason, /newer change/);
    assert.equal(await priceOf('SINK-3'), '30.00');
  });

  test('a bad row is refused alone; the rest of the batch lands', async () => {
    const outcomes = await sink.write([
      write('SINK-4', '4.00', 1_000),
      write('SINK-5', '-1.00', 1_000), // violates products_price_not_negative
      write('SINK-6', '6.00', 1_000),
    ]);
    assert.deepEqual(outcomes.map((o) => o.status), ['applied', 'failed', 'applied']);
    assert.match((outcomes[1] as any).reason, /SQLSTATE 23514/);
    assert.equal((outcomes[1] as any).permanent, true);
    assert.equal(await priceOf('SINK-4'), '4.00');
    assert.equal(await priceOf('SINK-5'), undefined);
    assert.equal(await priceOf('SINK-6'), '6.00');
  });

  test('many rows of one entity in one batch (a segment\'s members): each lands; the entity\'s last applied write guards the next batch', async () => {
    const key = 'shop-1|BULK';
    const rows = Array.from({ length: 50 }, (_, i) => write(`BULK-${i}`, `${i + 1}.00`, 5_000, { key, sourceVersion: 7 }));
    rows.splice(25, 0, write('BULK-BAD', '-1.00', 5_000, { key, sourceVersion: 7 }));
    const outcomes = await sink.write(rows);
    assert.deepEqual(outcomes.map((o) => o.status).filter((s) => s !== 'applied'), ['failed']);
    assert.equal(await priceOf('BULK-49'), '50.00');
    const last = rows.at(-1)!;
    const [again, older] = await sink.write([last, write('BULK-0', '9.99', 4_000, { key, sourceVersion: 6 })]);
    assert.equal(again?.status, 'duplicate', 'the batch\'s last command is remembered');
    assert.equal(older?.status, 'stale', 'an older change of the entity does not overwrite it');
    assert.equal(await priceOf('BULK-0'), '1.00');
  });

  test('a delete removes the row; a later replay of an older upsert does not bring it back', async () => {
    await sink.write([write('SINK-7', '7.00', 1_000)]);
    const del = write('SINK-7', '7.00', 2_000, { operation: 'DELETE' });
    assert.equal((await sink.write([del]))[0]?.status, 'applied');
    assert.equal(await priceOf('SINK-7'), undefined);
    assert.equal((await sink.write([write('SINK-7', '7.00', 1_500)]))[0]?.status, 'stale');
    assert.equal(await priceOf('SINK-7'), undefined);
  });

  test('a write of only the other side\'s columns updates an existing row and leaves the rest', async () => {
    await sink.write([write('SINK-8', '8.00', 1_000)]);
    const partial = write('SINK-8', '8.00', 2_000, { row: { shop_id: 'shop-1', sku: 'SINK-8', price: '8.50' } });
    assert.equal((await sink.write([partial]))[0]?.status, 'applied');
    const { rows } = await pool.query(`SELECT name, price::text AS price FROM products WHERE sku = 'SINK-8'`);
    assert.deepEqual(rows[0], { name: 'Product SINK-8', price: '8.50' });
    // the same partial write for a row the shop does not have cannot create it: refused with the reason
    const orphan = write('SINK-9', '9.00', 2_000, { row: { shop_id: 'shop-1', sku: 'SINK-9', price: '9.00' } });
    const [refused] = await sink.write([orphan]);
    assert.equal(refused?.status, 'failed');
    assert.match((refused as any).reason, /SQLSTATE 23502.*null value in column "name"/);
  });

  test('a write stuck behind another session\'s row lock is cancelled by the server; the stage pauses, and the record lands once when the lock goes', async () => {
    const app = 'shop-sink-timeout-proof';
    const timeoutMs = 300;
    const sinkPool = new pg.Pool({ connectionString: db.appUrl, max: 2, application_name: app });
    const admin = new pg.Client({ connectionString: db.adminUrl });
    const locker = new pg.Client({ connectionString: db.appUrl });
    await admin.connect();
    await locker.connect();
    const registry = createMetricsRegistry();
    const paused: PauseState[] = [];
    const stage = new StagePause({ stage: 'shop-sink', log: createLogger('test.shop-sink'), registry, minDelayMs: 200, maxDelayMs: 1_000, onPause: (s) => paused.push(s) });
    let landed: Promise<unknown> | undefined;
    try {
      const slow = new ShopSink(sinkPool, 'public', { statementTimeoutMs: timeoutMs });
      assert.equal((await slow.write([write('SINK-LOCK', '1.00', 1_000)]))[0]?.status, 'applied');
      const transactions = async () => Number((await pool.query('SELECT count(*) AS n FROM shopforce_sink_transactions')).rows[0].n);
      const transactionsBefore = await transactions();
      // the sink's statements as the server sees them: how many are active, and for how long the oldest has run
      const sinkActivity = async () => (await admin.query(
        `SELECT count(*)::int AS active, coalesce(max(extract(epoch FROM clock_timestamp() - query_start) * 1000), 0)::float AS oldest_ms
         FROM pg_stat_activity WHERE application_name = $1 AND state = 'active'`, [app])).rows[0] as { active: number; oldest_ms: number };

      await locker.query('BEGIN');
      await locker.query(`SELECT 1 FROM products WHERE sku = 'SINK-LOCK' FOR UPDATE`);
      const cmd = write('SINK-LOCK', '2.00', 2_000);
      let settled = false;
      landed = stage.run(() => slow.write([cmd])).finally(() => { settled = true; });
      // held past the timeout twice over: each attempt is cancelled by the server, none stays beside its retry
      while (!settled && (stage.state()?.attempts ?? 0) < 2) {
        const seen = await sinkActivity();
        assert.ok(seen.active <= 1, `at most the current attempt runs, saw ${seen.active} sink statements`);
        // the server's own clock: a statement far past its statement_timeout was never given one
        assert.ok(seen.oldest_ms < timeoutMs * 30, `a sink statement has waited ${Math.round(seen.oldest_ms)} ms on the lock`);
        await sleep(50);
      }
      assert.equal(settled, false, 'the write waited for the lock inside the pause, it did not end as an outcome of the record');
      assert.equal(paused.length, 1, 'one pause for the whole wait');
      assert.match(paused[0]!.reason, /57014/);
      const gauge = await registry.getSingleMetric('shopforce_stage_paused')!.get();
      assert.equal(gauge.values.find((v) => v.labels.stage === 'shop-sink')?.value, 1, 'the stage reports paused');

      await locker.query('COMMIT');
      const outcomes = (await landed) as Array<{ status: string }>;
      assert.equal(outcomes[0]?.status, 'applied');
      assert.equal(stage.state(), undefined, 'resumed by itself');
      assert.equal(await priceOf('SINK-LOCK'), '2.00');
      assert.equal(await transactions(), transactionsBefore + 1, 'the cancelled attempts left nothing: one transaction landed');
      assert.equal((await slow.write([cmd]))[0]?.status, 'duplicate', 'and it is known as applied');
      assert.equal((await sinkActivity()).active, 0, 'no statement of the sink left running');
    } finally {
      stage.stop();
      await locker.query('ROLLBACK').catch(() => undefined);
      await landed?.catch(() => undefined);
      await locker.end();
      await admin.end();
      await sinkPool.end();
    }
  });
});
