import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KafkaMessage } from 'kafkajs';
import { DLQ_REPLAY_GROUP } from '../../src/dlq/dlq-reader.ts';
import { DlqTail } from '../../src/dlq/dlq-tail.ts';
import { buildDlqMessage } from '../../src/kafka/dlq.ts';
import { createTestTopics, eventually, useTestKafka } from '../support/runtime-kafka.ts';

// The status page follows the dead-letter topic with one consumer instead of reading it whole on
// every refresh: its counts and newest reasons must match the topic as it grows.
const t = useTestKafka();

const deadLetter = (n: number, reason: string) => buildDlqMessage({
  processor: 'sf-sink', groupId: 'g', failure: 'non-retryable', error: new Error(reason), errorClass: 'poison', attempts: 1,
  topic: 'sync.out.salesforce', partition: 0, now: new Date(Date.UTC(2026, 0, 1, 10, n)),
  message: { key: Buffer.from(`shop-1|C-${n}`), value: Buffer.from('{}'), headers: {}, offset: String(n), timestamp: '1', attributes: 0 } as KafkaMessage,
});

test('the tail counts every dead letter once, keeps the newest reasons, and tells the replayed ones', async () => {
  const [topic] = await createTestTopics(t.kafka, [{ prefix: 'dlq-tail', partitions: 1 }]);
  t.cleanup.push(topic);
  const producer = t.kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [deadLetter(0, 'first'), deadLetter(1, 'second'), deadLetter(2, 'third')] });
  let reads = 0;
  const tail = new DlqTail(t.kafka, topic, 2, () => { reads++; });
  try {
    await tail.start();
    await eventually(async () => (await tail.summary()).total === 3, 'the three dead letters were read');
    let summary = await tail.summary();
    assert.deepEqual(summary.latest.map((l) => l.reason), ['third', 'second'], 'the newest two, newest first');
    assert.equal(summary.notReplayed, 3);
    assert.equal(summary.latest[0]!.key, 'shop-1|C-2');

    // one more, written in a transaction as the stages do (it ends with a marker)
    const txProducer = t.kafka.producer({ transactionalId: `dlq-tail-${topic}`, idempotent: true, maxInFlightRequests: 1 });
    await txProducer.connect();
    const tx = await txProducer.transaction();
    await tx.send({ topic, messages: [deadLetter(3, 'fourth')] });
    await tx.commit();
    await txProducer.disconnect();
    await eventually(async () => (await tail.summary()).total === 4, 'the fourth dead letter was read');
    summary = await tail.summary();
    assert.deepEqual(summary.latest.map((l) => l.reason), ['fourth', 'third']);
    assert.equal(reads, 4, 'each dead letter read once');

    // `dlq replay` sent back the first two
    const admin = t.kafka.admin();
    await admin.connect();
    await admin.setOffsets({ groupId: DLQ_REPLAY_GROUP, topic, partitions: [{ partition: 0, offset: '2' }] });
    await admin.disconnect();
    summary = await tail.summary();
    assert.equal(summary.total, 4);
    assert.equal(summary.notReplayed, 2, 'the two replayed are not counted as waiting');
  } finally {
    await tail.stop();
    await producer.disconnect();
  }
});

test('a tail of a topic that does not exist yet says so by name', async () => {
  const tail = new DlqTail(t.kafka, 'no-such-dlq-topic', 5);
  await assert.rejects(tail.start(), /dead-letter topic no-such-dlq-topic does not exist/);
  assert.equal(tail.started, false);
});
