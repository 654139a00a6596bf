import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createProcessor } from '../../src/kafka/processor.ts';
import { createBatchSink, type Settled } from '../../src/kafka/sink/batch-sink.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { createMetricsRegistry, runtimeMetrics } from '../../src/observability/metrics.ts';
import { committedOffset, createTestTopics, eventually, startCollector, useTestKafka } from '../support/runtime-kafka.ts';

// Every write of a transactional producer (the router, the reconciler) ends with a transaction
// marker that takes an offset of its own. A stage that has read everything must commit past it:
// otherwise `shopforce status` and kafka-consumer-groups show a lag of one per partition on an
// idle pipeline, a false alarm.
const t = useTestKafka();
const { cleanup } = t;

/** Writes `transactions` transactions of `perTransaction` records to each partition of `topic`. */
async function writeInTransactions(topic: string, partitions: number, transactions: number, perTransaction: number, end: 'commit' | 'abort' = 'commit'): Promise<void> {
  const producer = t.kafka.producer({ transactionalId: `markers-test-${randomUUID()}`, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let t = 0; t < transactions; t++) {
      const tx = await producer.transaction();
      for (let p = 0; p < partitions; p++) {
        await tx.send({ topic, messages: Array.from({ length: perTransaction }, (_, i) => ({ key: `k${p}-${t}-${i}`, value: `v${t}-${i}`, partition: p })) });
      }
      await (end === 'commit' ? tx.commit() : tx.abort());
    }
  } finally {
    await producer.disconnect();
  }
}

/** Per partition: [end offset, group's committed offset]. */
async function endsAndCommitted(topic: string, groupId: string, partitions: number): Promise<Array<[bigint, bigint]>> {
  const admin = t.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const out: Array<[bigint, bigint]> = [];
    for (let p = 0; p < partitions; p++) {
      out.push([BigInt(ends.find((e) => e.partition === p)!.high), await committedOffset(t.kafka, groupId, topic, p)]);
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

const caughtUp = (pairs: Array<[bigint, bigint]>) => pairs.every(([end, committed]) => end === committed);

test('a transactional processor that has read a transactional topic commits past its last marker: no lag left', async () => {
  const [input, output] = await createTestTopics(t.kafka, [{ prefix: 'mk-in', partitions: 2 }, { prefix: 'mk-out', partitions: 2 }]);
  const groupId = `mk-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.state-changelog`, `${groupId}.dlq`);
  await writeInTransactions(input, 2, 3, 5);
  const processor = createProcessor({
    name: 'markers-test', kafka: t.kafka, groupId, topics: [input], transactional: true, state: {}, dlqTopic: `${groupId}.dlq`,
    metrics: createMetricsRegistry(), logger: createLogger('test.markers', 'warn'),
    handle: async (ctx) => [{ topic: output, key: ctx.key, value: ctx.value, partition: ctx.partition }],
  });
  const outputs = await startCollector(t.kafka, [output]);
  try {
    await processor.start();
    await outputs.waitFor(30, 90_000);
    // each partition: 3 × (5 records + 1 marker) = 18 offsets
    await eventually(async () => caughtUp(await endsAndCommitted(input, groupId, 2)), 'the group committed up to the end of each partition, markers included', 60_000);
    assert.deepEqual(await endsAndCommitted(input, groupId, 2), [[18n, 18n], [18n, 18n]]);
    assert.equal(outputs.messages.length, 30, 'every record handled once');

    // more work after the catch-up lands and is committed past its marker too
    await writeInTransactions(input, 2, 1, 2);
    await outputs.waitFor(34, 60_000);
    await eventually(async () => caughtUp(await endsAndCommitted(input, groupId, 2)), 'caught up again after one more transaction', 60_000);
    assert.deepEqual(await endsAndCommitted(input, groupId, 2), [[21n, 21n], [21n, 21n]]);

    // an aborted transaction at the end (a crashed or fenced writer) is nothing to handle, and passed over
    await writeInTransactions(input, 2, 1, 3, 'abort');
    await eventually(async () => caughtUp(await endsAndCommitted(input, groupId, 2)), 'committed past an aborted transaction', 60_000);
    assert.deepEqual(await endsAndCommitted(input, groupId, 2), [[25n, 25n], [25n, 25n]]);
    assert.equal(outputs.messages.length, 34, 'the aborted records were not handled');
  } finally {
    await processor.stop();
    await outputs.stop();
  }
});

test('a batch sink commits past the markers, but never past an item it still holds', async () => {
  const [topic, dlq] = await createTestTopics(t.kafka, [{ prefix: 'mk-sink-in', partitions: 1 }, { prefix: 'mk-sink-dlq', partitions: 1 }]);
  const groupId = `mk-sink-${randomUUID()}`;
  cleanup.push(topic, dlq);
  await writeInTransactions(topic, 1, 2, 4); // offsets 0-3, marker 4, 5-8, marker 9
  const written: string[] = [];
  let release: (s: Settled) => void = () => undefined;
  const held = new Promise<Settled>((resolve) => { release = resolve; });
  const sink = createBatchSink<string>({
    name: 'markers-sink', kafka: t.kafka, groupId, topic, dlqTopic: dlq,
    metrics: runtimeMetrics(new Registry()), log: createLogger('test.markers-sink', 'warn'),
    decode: async (m) => m.value!.toString(), pendingTimeoutMs: 600_000,
    write: async (items) => items.map((item) => {
      written.push(item);
      // the second transaction's first record waits for its parent
      return item === 'v1-0' ? { ok: 'pending' as const, settled: held } : { ok: true as const };
    }),
  });
  try {
    await sink.start();
    await eventually(() => written.length === 8, 'the sink wrote all eight items');
    await eventually(async () => (await committedOffset(t.kafka, groupId, topic, 0)) === 5n, 'committed up to the held item (offset 5)', 30_000);
    // the marker after the held item has been passed over by the time a later transaction is read
    await writeInTransactions(topic, 1, 1, 1); // offset 10, marker 11
    await eventually(() => written.length === 9, 'the later record was written');
    assert.equal(await committedOffset(t.kafka, groupId, topic, 0), 5n, 'the held item keeps the commit point, markers or not');

    await writeInTransactions(topic, 1, 1, 2, 'abort'); // offsets 12-13 aborted, marker 14
    release({ ok: true });
    await eventually(async () => (await committedOffset(t.kafka, groupId, topic, 0)) === 15n, 'committed past the last marker once the item settled', 30_000);
    assert.deepEqual(await endsAndCommitted(topic, groupId, 1), [[15n, 15n]]);
    assert.equal(written.length, 9, 'the aborted records were not written');
  } finally {
    await sink.stop();
  }
});
