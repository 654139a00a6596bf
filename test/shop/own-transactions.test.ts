/**
 * The router's question "was this shop transaction our shop sink's?", asked for a whole chunk of
 * changes at once: one query for the transactions not known yet, then every answer from memory.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { OwnTransactions } from '../../src/shop/sink/own-transactions.ts';
import { getTestStack } from '../support/stack.ts';

let pool: pg.Pool;
let queries = 0;
/** The pool with its queries counted. */
let counted: pg.Pool;
// transaction ids far above what the test database uses: this test's own
const ours = String(4_100_000_000 + Math.floor(Math.random() * 100_000_000));
const others = String(Number(ours) + 1);

before(async () => {
  pool = new pg.Pool({ connectionString: (await getTestStack()).postgres.url, max: 2 });
  await pool.query('INSERT INTO shopforce_sink_transactions (xid) VALUES ($1)', [ours]);
  counted = new Proxy(pool, {
    get: (target, prop, receiver) => (prop === 'query' ? (...a: unknown[]) => { queries++; return (target.query as (...x: unknown[]) => unknown)(...a); } : Reflect.get(target, prop, receiver)),
  });
});
after(async () => {
  await pool?.query('DELETE FROM shopforce_sink_transactions WHERE xid = ANY($1::bigint[])', [[ours]]);
  await pool?.end();
});

test('a chunk\'s transactions are looked up in one query; then each answer comes from memory', async () => {
  const own = new OwnTransactions(counted);
  queries = 0;
  await own.learn([ours, others, ours, 'lsn:42']);
  const lookups = queries;
  assert.ok(lookups >= 1 && lookups <= 2, `one lookup query (and at most the hourly purge), got ${lookups}`);
  assert.equal(await own.isOurs(ours), true);
  assert.equal(await own.isOurs(others), false);
  assert.equal(await own.isOurs('lsn:42'), false, 'a change without a transaction id is not ours');
  await own.learn([ours, others]);
  assert.equal(queries, lookups, 'what is known is not asked again');
});

test('answers learned for a chunk are the ones asked one by one', async () => {
  const one = new OwnTransactions(pool);
  const chunk = new OwnTransactions(pool);
  await chunk.learn([ours, others]);
  for (const id of [ours, others]) assert.equal(await chunk.isOurs(id), await one.isOurs(id), id);
});
