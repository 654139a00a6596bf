import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { parseDlqMessage } from '../../src/kafka/dlq.ts';
import { PoisonRecordError, TransientError } from '../../src/kafka/errors.ts';
import { createProcessor } from '../../src/kafka/processor.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { getTestStack } from '../support/stack.ts';
import { createTestTopics, deleteTestTopics, startCollector, testKafka } from '../support/runtime-kafka.ts';

let kafka: Kafka;
const cleanup: string[] = [];

before(async () => {
  kafka = testKafka((await getTestStack()).kafka.brokers);
});

after(async () => {
  await deleteTestTopics(kafka, cleanup);
});

interface Order { kind: 'ok' | 'invalid' | 'flaky' | 'slow-start'; n: number }

for (const transactional of [true, false]) {
  test(`poison records go to the DLQ with reason and source coordinates and the partition goes on (${transactional ? 'transactional' : 'at-least-once'})`, async () => {
    const [input, output, dlq] = await createTestTopics(kafka, [{ prefix: 'dlq-in', partitions: 1 }, { prefix: 'dlq-out', partitions: 1 }, { prefix: 'dlq', partitions: 1 }]);
    cleanup.push(input, output, dlq);
    const attemptsOfSlowStart: number[] = [];
    const processor = createProcessor<Order>({
      name: 'dlq-test',
      kafka,
      groupId: `dlq-group-${randomUUID()}`,
      topics: [input],
      transactional,
      dlqTopic: dlq,
      logger: createLogger('test.dlq', 'error'),
      retry: { classes: { transient: { retries: 2, minDelayMs: 10, maxDelayMs: 20 } } },
      decode: (m) => JSON.parse(m.value!.toString()) as Order,
      async handle(ctx) {
        const order = ctx.value;
        if (order.kind === 'invalid') throw new PoisonRecordError(`order ${order.n}: amount is negative`);
        if (order.kind === 'flaky') throw new TransientError(`order ${order.n}: upstream 503`);
        if (order.kind === 'slow-start') {
          attemptsOfSlowStart.push(ctx.attempt);
          if (ctx.attempt < 2) throw new TransientError('first attempt times out');
        }
        return [{ topic: output, key: ctx.key, value: JSON.stringify({ n: order.n }) }];
      },
    });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: input,
      messages: [
        { key: 'o1', value: JSON.stringify({ kind: 'ok', n: 1 }) },
        { key: 'o2', value: 'not json {', headers: { 'trace-id': 'abc-123' } },
        { key: 'o3', value: JSON.stringify({ kind: 'invalid', n: 3 }) },
        { key: 'o4', value: JSON.stringify({ kind: 'flaky', n: 4 }) },
        { key: 'o5', value: JSON.stringify({ kind: 'slow-start', n: 5 }) },
        { key: 'o6', value: JSON.stringify({ kind: 'ok', n: 6 }) },
      ],
    });
    await producer.disconnect();

    const outputs = await startCollector(kafka, [output]);
    const dead = await startCollector(kafka, [dlq]);
    try {
      await processor.start();
      await outputs.waitFor(3);
      await dead.waitFor(3);
      assert.deepEqual(outputs.messages.map((m) => JSON.parse(m.value!.toString()).n), [1, 5, 6], 'records after the poison ones were processed');
      assert.deepEqual(attemptsOfSlowStart, [1, 2], 'a transient failure was retried');

      const entries = dead.messages.map((m) => parseDlqMessage({ key: Buffer.from(m.key!), value: m.value, headers: m.headers }));
      const byKey = new Map(dead.messages.map((m, i) => [m.key, entries[i]]));
      const decode = byKey.get('o2')!;
      assert.equal(decode.failure, 'decode');
      assert.equal(decode.errorName, 'DecodeError');
      assert.match(decode.reason, /cannot decode/);
      assert.deepEqual(decode.source, { topic: input, partition: 0, offset: '1', timestamp: decode.source.timestamp });
      assert.equal(decode.headers['trace-id'], 'abc-123', 'original headers kept');
      assert.equal(decode.value!.toString(), 'not json {', 'original value kept');

      const invalid = byKey.get('o3')!;
      assert.equal(invalid.failure, 'non-retryable');
      assert.equal(invalid.errorClass, 'poison');
      assert.equal(invalid.reason, 'order 3: amount is negative');
      assert.equal(invalid.source.offset, '2');
      assert.match(invalid.stack, /PoisonRecordError: order 3/);

      const flaky = byKey.get('o4')!;
      assert.equal(flaky.failure, 'retries-exhausted');
      assert.equal(flaky.errorClass, 'transient');
      assert.equal(flaky.attempts, 3);
      assert.equal(flaky.reason, 'order 4: upstream 503');
      assert.equal(flaky.processor, 'dlq-test');
    } finally {
      await processor.stop();
      await outputs.stop();
      await dead.stop();
    }
  });
}
