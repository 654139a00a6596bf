/**
 * Prefetch: before a chunk's records are handled the processor gets their values at once, so a
 * handler that asks something outside Kafka per record (the router's parent lookups) asks once per
 * chunk. A value that does not decode is left out (its record is dead-lettered as before); a prefetch
 * that throws is ignored (each handler then looks up for itself).
 */
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { createProcessor } from '../../src/kafka/processor.ts';
import type { Processor } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { getTestStack } from '../support/stack.ts';
import { createTestTopics, deleteTestTopics, eventually, groupCaughtUp, startCollector, testKafka } from '../support/runtime-kafka.ts';

let kafka: Kafka;
const cleanup: string[] = [];

before(async () => {
  kafka = testKafka((await getTestStack()).kafka.brokers);
});

after(async () => {
  await deleteTestTopics(kafka, cleanup);
});

async function produce(topic: string, values: string[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: values.map((value, i) => ({ key: `k${i % 7}`, value })) });
  await producer.disconnect();
}

/**
 * A processor whose handler needs a "lookup" of its record's value: it outputs `hit` when a prefetch
 * of its chunk fetched it, `miss` (one lookup of its own) otherwise. `failing` prefetches throw.
 */
function lookupProcessor(groupId: string, input: string, output: string, failing = false): { processor: Processor; calls: string[][] } {
  const fetched = new Set<string>();
  const calls: string[][] = [];
  const processor = createProcessor<string, never>({
    name: 'prefetch-test', kafka, groupId, topics: [input], transactional: true, dlqTopic: `${groupId}.dlq`,
    maxRecordsPerCommit: 50, logger: createLogger('test.prefetch', 'error'),
    decode: (m) => {
      const v = m.value!.toString();
      if (v === 'bad') throw new Error('not a value');
      return v;
    },
    async prefetch(ctx) {
      calls.push(ctx.values);
      if (failing) throw new Error('the lookup service is down');
      for (const v of ctx.values) fetched.add(v);
    },
    async handle(ctx) {
      return [{ topic: output, key: ctx.key, value: `${ctx.value}:${fetched.has(ctx.value) ? 'hit' : 'miss'}` }];
    },
  });
  return { processor, calls };
}

test('each record finds its value fetched by its chunk\'s one prefetch; a value that does not decode is left out', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'pre-in', partitions: 1 }, { prefix: 'pre-out', partitions: 1 }]);
  const groupId = `pre-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.dlq`);
  const values = Array.from({ length: 300 }, (_, i) => `v${i}`);
  await produce(input, [...values.slice(0, 150), 'bad', ...values.slice(150)]);
  const { processor, calls } = lookupProcessor(groupId, input, output);
  const out = await startCollector(kafka, [output]);
  try {
    await processor.start();
    await out.waitFor(300);
    await eventually(() => groupCaughtUp(kafka, groupId, input), 'every input committed');
    const results = out.messages.map((m) => m.value!.toString());
    assert.deepEqual(results, values.map((v) => `${v}:hit`), 'every record was prefetched before it was handled');
    assert.ok(calls.every((c) => c.length <= 50), 'one prefetch per chunk of at most maxRecordsPerCommit records');
    assert.ok(calls.length <= 20, `${calls.length} prefetches for 301 records`);
    assert.ok(!calls.flat().includes('bad'), 'the value that does not decode is not prefetched');
    const dlq = await startCollector(kafka, [`${groupId}.dlq`]);
    await dlq.waitFor(1);
    assert.equal(dlq.messages[0]!.value!.toString(), 'bad', 'it is dead-lettered when handled, as before');
    await dlq.stop();
  } finally {
    await processor.stop();
    await out.stop();
  }
});

test('a prefetch that throws is ignored: every record is still handled, looking up for itself', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'pre-in', partitions: 1 }, { prefix: 'pre-out', partitions: 1 }]);
  const groupId = `pre-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.dlq`);
  const values = Array.from({ length: 80 }, (_, i) => `w${i}`);
  await produce(input, values);
  const { processor, calls } = lookupProcessor(groupId, input, output, true);
  const out = await startCollector(kafka, [output]);
  try {
    await processor.start();
    await out.waitFor(80);
    assert.deepEqual(out.messages.map((m) => m.value!.toString()), values.map((v) => `${v}:miss`));
    assert.ok(calls.length >= 2, 'a prefetch was tried for each chunk');
  } finally {
    await processor.stop();
    await out.stop();
  }
});
