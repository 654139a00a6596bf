/**
 * State restore speed: fills a compacted changelog (6 partitions) with N keys written in
 * transactions, as a transactional processor does, then times restorePartitions for all of them
 * (what a member does when it takes partitions over).
 *   node --import tsx bench/runtime-restore.ts [--keys 100000] [--updates 2]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { jsonCodec, restorePartitions } from '../src/kafka/state-store.ts';
import { ensureTopics } from '../src/kafka/topics.ts';
import { createStackContext } from '../src/stack/context.ts';
import { stackStatus } from '../src/stack/stack.ts';

const { values: args } = parseArgs({ options: { keys: { type: 'string', default: '100000' }, updates: { type: 'string', default: '2' } } });
const KEYS = Number(args.keys);
const UPDATES = Number(args.updates);
const PARTITIONS = 6;

const status = await stackStatus(createStackContext({ quiet: true }));
if (!status.healthy) throw new Error('the local stack is not running: start it with `shopforce stack up`');
const kafka = new Kafka({ brokers: status.addresses.kafka.brokers, clientId: 'bench-restore', logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const topic = `bench-restore-${randomUUID().slice(0, 8)}.state-changelog`;
await ensureTopics(admin, [{ topic, partitions: PARTITIONS, compacted: true }]);

const producer = kafka.producer({ transactionalId: `bench-restore-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
await producer.connect();
const value = { base: { quantity: 10, price: '19.90' }, lastShop: { position: '0/16B3748', quantity: 9 }, inFlight: [] };
const t0 = Date.now();
for (let round = 0; round < UPDATES; round++) {
  for (let start = 0; start < KEYS; start += 5000) {
    const tx = await producer.transaction();
    const messages = Array.from({ length: Math.min(5000, KEYS - start) }, (_, i) => {
      const k = start + i;
      return { key: `shop-1|sku-${k}|w1`, value: jsonCodec.encode({ ...value, round }), partition: k % PARTITIONS };
    });
    await tx.send({ topic, messages, acks: -1 });
    await tx.commit();
  }
}
console.log(`wrote ${KEYS * UPDATES} changelog records (${KEYS} keys x ${UPDATES}) in ${Date.now() - t0} ms`);
await producer.disconnect();

const t1 = Date.now();
const stores = await restorePartitions(kafka, topic, [0, 1, 2, 3, 4, 5], jsonCodec);
const ms = Date.now() - t1;
const restored = [...stores.values()].reduce((n, s) => n + s.size, 0);
console.log(`restored ${restored} keys from ${KEYS * UPDATES} records in ${ms} ms = ${Math.round((KEYS * UPDATES) / (ms / 1000))} records/s (incl. joining a private consumer group)`);
if (restored !== KEYS) throw new Error(`expected ${KEYS} keys, restored ${restored}`);

await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
await admin.disconnect();
