/**
 * The router tells our shop sink's writes coming back from a person's edits by their transaction: a
 * chunk's transactions are looked up at once (prefetch), and each change then carries the answer.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import type { RoutedChange } from '../../src/flows/routed-change.ts';
import { jsonCodec, PartitionStore } from '../../src/kafka/state-store.ts';
import type { RecordContext } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRouter } from '../../src/processors/router.ts';

const config = configSchema.parse({
  shopId: 'shop-o', kafka: { brokers: ['127.0.0.1:59092'] }, registry: { url: 'http://127.0.0.1:58081' }, shop: { databaseUrl: 'postgres://x/y' },
  salesforce: { loginUrl: 'https://127.0.0.1:58443', authType: 'client_credentials', clientId: 'c', clientSecret: 's' },
  entities: { customer: { enabled: true } },
});
const log = createLogger('test.router-own-writes', 'error');
const topic = 'shop.public.customers';

function change(id: number, txId: number): unknown {
  return {
    before: null, op: 'u', ts_ms: 1, source: { schema: 'public', table: 'customers', lsn: 100 + id, txId, ts_ms: 1 },
    after: { id, shop_id: 'shop-o', customer_number: `C-${id}`, email: `c${id}@example.com`, first_name: 'A', last_name: 'B', marketing_opt_in: false },
  };
}

test('one lookup for the chunk\'s transactions, and each change routed with its answer', async () => {
  const sink = new Set(['501']);
  const learned: string[][] = [];
  const known = new Set<string>();
  const router = createRouter(config, {
    learnShopTransactions: async (ids) => { learned.push(ids); for (const id of ids) known.add(id); },
    isShopSinkTransaction: async (id) => {
      assert.ok(known.has(id), `transaction ${id} was looked up with its chunk`);
      return sink.has(id);
    },
  });
  const values = [change(1, 500), change(2, 501), null, change(3, 500)];
  const store = new PartitionStore<string>(0, jsonCodec as never);
  await router.prefetch({ topic, partition: 0, values, state: store, signal: new AbortController().signal, log });
  assert.deepEqual(learned, [['500', '501', '500']], 'one call with the chunk\'s transactions (a tombstone has none)');
  const routed: RoutedChange[] = [];
  for (const value of values) {
    const ctx: RecordContext<unknown, string> = {
      topic, partition: 0, offset: '0', timestamp: '0', key: null, value, headers: {}, message: {} as never,
      state: store, attempt: 1, signal: new AbortController().signal, log, setSourceTime: () => {},
    };
    routed.push(...(await router.handle(ctx)).map((o) => JSON.parse(String(o.value)) as RoutedChange));
  }
  assert.deepEqual(routed.map((r) => [r.key, r.ours]), [['shop-o|C-1', false], ['shop-o|C-2', true], ['shop-o|C-3', false]]);
});
