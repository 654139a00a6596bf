import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { createProcessor } from '../../src/kafka/processor.ts';
import { runProcessors } from '../../src/kafka/runtime.ts';
import { SOURCE_TIME_HEADER } from '../../src/kafka/types.ts';
import { startHealthServer } from '../../src/observability/health.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';
import { getTestStack } from '../support/stack.ts';
import { createTestTopics, deleteTestTopics, eventually, startCollector, testKafka } from '../support/runtime-kafka.ts';

let kafka: Kafka;
const cleanup: string[] = [];

before(async () => {
  kafka = testKafka((await getTestStack()).kafka.brokers);
});

after(async () => {
  await deleteTestTopics(kafka, cleanup);
});

test('/healthz, /readyz and /metrics report a processor\'s state and counters', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'hz-in', partitions: 2 }, { prefix: 'hz-out', partitions: 2 }]);
  const groupId = `hz-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.state-changelog`, `${groupId}.dlq`);
  const registry = createMetricsRegistry();
  const processor = createProcessor({
    name: 'health-test',
    kafka,
    groupId,
    topics: [input],
    transactional: true,
    state: {},
    dlqTopic: `${groupId}.dlq`,
    metrics: registry,
    logger: createLogger('test.health', 'warn'),
    async handle(ctx) {
      if (ctx.value?.toString() === 'bad') throw new Error('cannot handle "bad"');
      return [{ topic: output, key: ctx.key, value: ctx.value }];
    },
  });
  const server = await startHealthServer({ registry, checks: [processor] });
  const outputs = await startCollector(kafka, [output]);
  try {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    const before = await fetch(`${server.url}/readyz`);
    assert.equal(before.status, 503, 'not ready before joining the group');
    assert.deepEqual(await before.json(), { ready: false, checks: { 'health-test': false } });

    await processor.start();
    await eventually(async () => (await fetch(`${server.url}/readyz`)).status === 200, '/readyz turns 200');

    const producer = kafka.producer();
    await producer.connect();
    const sourceTs = String(Date.now());
    await producer.send({
      topic: input,
      messages: [
        { key: 'k1', value: 'a', headers: { [SOURCE_TIME_HEADER]: sourceTs } },
        { key: 'k1', value: 'bad' },
        { key: 'k1', value: 'c', headers: { [SOURCE_TIME_HEADER]: sourceTs } },
      ],
    });
    await producer.disconnect();
    await outputs.waitFor(2);
    assert.equal(outputs.messages[0].headers[SOURCE_TIME_HEADER], sourceTs, 'outputs carry the source time on');

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const line = (name: string) => metrics.split('\n').find((l) => l.startsWith(name))?.split(' ').pop();
    assert.equal(line(`shopforce_records_consumed_total{processor="health-test",topic="${input}"}`), '3');
    assert.equal(line(`shopforce_records_produced_total{processor="health-test",topic="${output}"}`), '2');
    assert.equal(line('shopforce_dlq_records_total{processor="health-test",reason="non-retryable"}'), '1');
    assert.equal(line('shopforce_processing_errors_total{processor="health-test",error_class="fatal"}'), '1');
    assert.equal(line('shopforce_end_to_end_latency_seconds_count{processor="health-test"}'), '2');
    assert.equal(line('shopforce_assigned_partitions{processor="health-test"}'), '2');
    assert.match(metrics, new RegExp(`shopforce_consumer_lag\\{processor="health-test",topic="${input}",partition="\\d"\\} 0`));
    assert.match(metrics, /shopforce_process_cpu_seconds_total/, 'default process metrics are served');

    await processor.stop();
    assert.equal((await fetch(`${server.url}/readyz`)).status, 503, 'not ready after stopping');
  } finally {
    await processor.stop();
    await outputs.stop();
    await server.close();
  }
});

test('a processor whose input or output topic does not exist fails to start, naming the topic, and leaves nothing running', async () => {
  const [existing] = await createTestTopics(kafka, [{ prefix: 'present', partitions: 1 }]);
  cleanup.push(existing);
  const missing = `no-such-topic-${randomUUID()}`;
  for (const [topics, outputTopics] of [[[missing], []], [[existing], [missing]]]) {
    const processor = createProcessor({
      name: 'missing-topic', kafka, groupId: `missing-${randomUUID()}`, topics, outputTopics, transactional: false,
      logger: createLogger('test.missing', 'fatal'), handle: async () => [],
    });
    await assert.rejects(processor.start(), new RegExp(missing));
    assert.equal(processor.ready(), false);
  }
});

test('runProcessors serves health for its processors and stops them and the server together', async () => {
  const [input] = await createTestTopics(kafka, [{ prefix: 'run-in', partitions: 1 }]);
  const groupId = `run-group-${randomUUID()}`;
  cleanup.push(input, `${groupId}.dlq`);
  const registry = createMetricsRegistry();
  const logger = createLogger('test.run', 'warn');
  const processor = createProcessor({
    name: 'run-test', kafka, groupId, topics: [input], transactional: false, dlqTopic: `${groupId}.dlq`, metrics: registry, logger,
    handle: async () => [],
  });
  const running = await runProcessors([processor], { registry, logger, handleSignals: false });
  await eventually(async () => (await fetch(`${running.health.url}/readyz`)).status === 200, '/readyz turns 200');
  await running.stop();
  assert.equal(processor.ready(), false);
  await assert.rejects(fetch(`${running.health.url}/healthz`), 'the server is closed');
});
