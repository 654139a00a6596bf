/**
 * A shop row of the wrong shape on a raw CDC topic: the router reads it as its entity will and refuses
 * it there, so its dead letter names the raw record and every bad column (never a value).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { jsonCodec, PartitionStore } from '../../src/kafka/state-store.ts';
import type { RecordContext } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createRouter } from '../../src/processors/router.ts';

const config = configSchema.parse({
  shopId: 'shop-s', kafka: { brokers: ['127.0.0.1:59092'] }, registry: { url: 'http://127.0.0.1:58081' }, shop: { databaseUrl: 'postgres://x/y' },
  salesforce: { loginUrl: 'https://127.0.0.1:58443', authType: 'client_credentials', clientId: 'c', clientSecret: 's' },
  entities: { customer: { enabled: true }, order: { enabled: true } },
});
const log = createLogger('test.router-shape', 'error');

function debezium(topic: string, after: Record<string, unknown>): RecordContext<unknown, string> {
  const value = { before: null, after: { shop_id: 'shop-s', ...after }, op: 'c', source: { schema: 'public', table: topic.split('.').pop(), lsn: 7 }, ts_ms: 1 };
  return {
    topic, partition: 0, offset: '0', timestamp: '0', key: null, value, headers: {}, message: {} as any,
    state: new PartitionStore<string>(0, jsonCodec as never), attempt: 1, signal: new AbortController().signal, log, setSourceTime: () => {},
  };
}

test('a customer row with an object for its e-mail and a word for its opt-in is refused naming both columns, without their values', async () => {
  const router = createRouter(config);
  await assert.rejects(
    router.handle(debezium('shop.public.customers', { id: 1, customer_number: 'C-1', email: { secret: 'ada@example.com' }, marketing_opt_in: 'perhaps' })),
    (err: Error) => {
      assert.equal(err.message, 'field "customers.email": expected text (got an object); field "customers.marketing_opt_in": expected a boolean (got text of 7 characters)');
      return true;
    },
  );
});

test('a well-formed customer row is routed, and an order line (read with its order later) is not refused by the router', async () => {
  const router = createRouter(config);
  const [out] = await router.handle(debezium('shop.public.customers', { id: 2, customer_number: 'C-2', email: 'ada@example.com', first_name: 'Ada', last_name: 'L', marketing_opt_in: true }));
  assert.equal(out!.key, 'shop-s|C-2');
  const lines = await router.handle(debezium('shop.public.order_lines', { id: 3, order_number: 'O-1', line_number: 1, sku: 'S', quantity: 'many' }));
  assert.equal(lines.length, 1);
});
