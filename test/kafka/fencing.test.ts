import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { createProcessor } from '../../src/kafka/processor.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { collectThroughSentinel } from '../support/kafka.ts';
import { getTestStack } from '../support/stack.ts';
import { createTestTopics, deleteTestTopics, eventually, groupCaughtUp, startCollector, testKafka } from '../support/runtime-kafka.ts';

let kafka: Kafka;
let brokers: string[];
const cleanup: string[] = [];

before(async () => {
  brokers = (await getTestStack()).kafka.brokers;
  kafka = testKafka(brokers);
});

after(async () => {
  await deleteTestTopics(kafka, cleanup);
});

test('a member fenced mid-transaction by a newer owner of its partition loses that transaction, takes over again and stays exactly-once', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'fence-in', partitions: 1 }, { prefix: 'fence-out', partitions: 1 }]);
  const groupId = `fence-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.state-changelog`, `${groupId}.dlq`);
  let commits = 0;
  let fenced = false;
  const usurperErrors: string[] = [];
  const registry = new Registry();
  const processor = createProcessor<Buffer | null, number>({
    name: 'fence-test',
    kafka,
    groupId,
    topics: [input],
    transactional: true,
    state: {},
    dlqTopic: `${groupId}.dlq`,
    maxRecordsPerCommit: 10,
    logger: createLogger('test.fence', 'error'),
    metrics: registry,
    hooks: {
      async beforeCommit() {
        if (fenced || ++commits < 3) return;
        // another process starts with this partition's transactional id: ours is now a zombie. Its
        // start may meet CONCURRENT_TRANSACTIONS while ours is open (the broker aborts it first): it
        // retries; should it still fail, the next commit tries again (never a failure of this hook)
        const usurper = kafka.producer({ transactionalId: `${groupId}.0`, idempotent: true, maxInFlightRequests: 1, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 2_000 } });
        try {
          await usurper.connect();
          await (await usurper.transaction()).abort();
          fenced = true;
        } catch (err) {
          usurperErrors.push((err as Error).message);
        } finally {
          await usurper.disconnect().catch(() => undefined);
        }
      },
    },
    async handle(ctx) {
      const count = (ctx.state.get('total') ?? 0) + 1;
      ctx.state.set('total', count);
      return [{ topic: output, key: ctx.key, value: JSON.stringify({ input: ctx.value!.toString(), count }) }];
    },
  });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: input, messages: Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: `in-${i}` })) });
  await producer.disconnect();
  const outputs = await startCollector(kafka, [output]);
  try {
    await processor.start();
    await outputs.waitFor(60, 60_000);
    await eventually(() => groupCaughtUp(kafka, groupId, input), 'all inputs committed');
    assert.ok(fenced, `the usurper took the transactional id over (errors: ${usurperErrors.join('; ') || 'none'})`);
    const transactions = await registry.getSingleMetricAsString('shopforce_transactions_total');
    assert.match(transactions, /result="fenced"[^\n]* [1-9]/, `the processor saw its transaction fenced:\n${transactions}`);
    // every committed output, read to the end of the topic (no drain window); then every record, aborted ones too
    const seen = (await collectThroughSentinel(brokers, [output], { count: 0 })).messages.map((m) => m.value as { input: string; count: number });
    const { messages: all } = await collectThroughSentinel(brokers, [output], { count: 0, readUncommitted: true });
    assert.ok(all.length > 60, `the fenced transaction had written outputs (${all.length} records in all)`);
    assert.equal(seen.length, 60, 'one committed output per input');
    assert.deepEqual(seen.map((s) => s.count), Array.from({ length: 60 }, (_, i) => i + 1), 'state restored after the fence: the count never repeats');
  } finally {
    await processor.stop();
    await outputs.stop();
  }
});
