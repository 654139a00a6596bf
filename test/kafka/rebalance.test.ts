import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { createProcessor } from '../../src/kafka/processor.ts';
import type { Processor } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { getTestStack } from '../support/stack.ts';
import { createTestTopics, deleteTestTopics, eventually, startCollector, testKafka } from '../support/runtime-kafka.ts';

let kafka: Kafka;
const cleanup: string[] = [];

before(async () => {
  const stack = await getTestStack();
  kafka = testKafka(stack.kafka.brokers);
});

after(async () => {
  await deleteTestTopics(kafka, cleanup);
});

/** A running count per key, kept in the processor's state; each input yields {key, count, member}. */
function counter(member: string, groupId: string, input: string, output: string, registry: Registry): Processor {
  return createProcessor<Buffer | null, number>({
    name: `count-${member}`,
    kafka,
    groupId,
    topics: [input],
    transactional: true,
    state: {},
    dlqTopic: `${groupId}.dlq`,
    metrics: registry,
    logger: createLogger(`test.${member}`, 'warn'),
    heartbeatInterval: 500,
    async handle(ctx) {
      const key = ctx.key!.toString();
      const count = (ctx.state.get(key) ?? 0) + 1;
      ctx.state.set(key, count);
      return [{ topic: output, key, value: JSON.stringify({ key, count, member }) }];
    },
  });
}

async function produceRound(input: string, keys: string[], perKey: number): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  const messages = keys.flatMap((key) => Array.from({ length: perKey }, (_, i) => ({ key, value: `v${i}` })));
  await producer.send({ topic: input, messages });
  await producer.disconnect();
}

test('two members split six partitions; after one leaves the other owns all and counts continue from the restored state', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'rt-in', partitions: 6 }, { prefix: 'rt-out', partitions: 6 }]);
  const groupId = `rt-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.state-changelog`, `${groupId}.dlq`);
  const registry = new Registry();
  const a = counter('a', groupId, input, output, registry);
  const b = counter('b', groupId, input, output, registry);
  const collector = await startCollector(kafka, [output]);
  try {
    await a.start();
    await b.start();
    await eventually(() => a.ready() && b.ready() && a.assignedPartitions().length === 3 && b.assignedPartitions().length === 3, 'both members own 3 partitions');
    assert.deepEqual([...a.assignedPartitions(), ...b.assignedPartitions()].sort(), [0, 1, 2, 3, 4, 5]);

    const keys = Array.from({ length: 24 }, (_, i) => `customer-${i}`);
    await produceRound(input, keys, 5);
    await collector.waitFor(keys.length * 5);
    const firstRound = collector.messages.map((m) => JSON.parse(m.value!.toString()) as { key: string; count: number; member: string });
    assert.ok(firstRound.some((r) => r.member === 'a') && firstRound.some((r) => r.member === 'b'), 'both members processed records');
    const keysOfB = new Set(firstRound.filter((r) => r.member === 'b').map((r) => r.key));

    await b.stop();
    await eventually(() => a.ready() && a.assignedPartitions().length === 6, 'a owns all 6 partitions');

    await produceRound(input, keys, 5);
    const all = (await collector.waitFor(keys.length * 10)).map((m) => JSON.parse(m.value!.toString()) as { key: string; count: number; member: string });
    assert.equal(all.length, keys.length * 10, 'one output per input');
    for (const key of keys) {
      const counts = all.filter((r) => r.key === key).map((r) => r.count).sort((x, y) => x - y);
      assert.deepEqual(counts, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `counts of ${key}`);
    }
    const secondRoundOfB = all.slice(keys.length * 5).filter((r) => keysOfB.has(r.key));
    assert.ok(secondRoundOfB.length > 0 && secondRoundOfB.every((r) => r.member === 'a' && r.count > 5), 'a continued b\'s keys from b\'s state');
  } finally {
    await collector.stop();
    await b.stop();
    await a.stop();
  }
});

test('with two co-partitioned input topics, a partition number and its state belong to one member', async () => {
  const [orders, payments] = await createTestTopics(kafka, [{ prefix: 'rt-orders', partitions: 4 }, { prefix: 'rt-payments', partitions: 4 }]);
  const groupId = `rt-copart-${randomUUID()}`;
  cleanup.push(orders, payments, `${groupId}.state-changelog`, `${groupId}.dlq`);
  const handled: { member: string; topic: string; partition: number; paidOrderSeen: boolean }[] = [];
  const member = (name: string) => createProcessor<Buffer | null, boolean>({
    name: `copart-${name}`, kafka, groupId, topics: [orders, payments], transactional: true, state: {},
    dlqTopic: `${groupId}.dlq`, metrics: new Registry(), logger: createLogger(`test.${name}`, 'warn'), heartbeatInterval: 500,
    async handle(ctx) {
      const order = ctx.key!.toString();
      if (ctx.topic === orders) ctx.state.set(order, true);
      handled.push({ member: name, topic: ctx.topic, partition: ctx.partition, paidOrderSeen: ctx.topic === payments && ctx.state.get(order) === true });
      return [];
    },
  });
  const a = member('a');
  const b = member('b');
  try {
    await a.start();
    await b.start();
    await eventually(() => a.ready() && b.ready() && a.assignedPartitions().length === 2 && b.assignedPartitions().length === 2, 'each member owns 2 partition numbers');
    const producer = kafka.producer();
    await producer.connect();
    const perPartition = [0, 1, 2, 3].map((p) => ({ key: `order-${p}`, partition: p, value: 'x' }));
    await producer.send({ topic: orders, messages: perPartition });
    await eventually(() => handled.length === 4, 'orders handled');
    await producer.send({ topic: payments, messages: perPartition });
    await producer.disconnect();
    await eventually(() => handled.length === 8, 'payments handled');
    for (let p = 0; p < 4; p++) {
      const owners = new Set(handled.filter((h) => h.partition === p).map((h) => h.member));
      assert.equal(owners.size, 1, `partition ${p} of both topics went to one member`);
    }
    assert.ok(handled.filter((h) => h.topic === payments).every((h) => h.paidOrderSeen), 'each payment saw the state its order wrote');
  } finally {
    await b.stop();
    await a.stop();
  }
});
