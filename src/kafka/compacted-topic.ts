import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { fixedAssigner } from './assigner.ts';
import { fetchTopicOffsetsSettled, subscribeWhenKnown } from './topics.ts';

/**
 * Reads every partition of a (compacted) topic from the beginning to its current end and hands
 * each key's latest value to `onRecord` (null value = tombstone). A missing or empty topic reads
 * as nothing. Uses a throwaway consumer group that commits nothing.
 */
export async function readCompactedTopic(
  kafka: Kafka,
  topic: string,
  onRecord: (key: string, value: Buffer | null) => void,
  timeoutMs = 120_000,
): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  let offsets: { partition: number; high: string; low: string }[];
  try {
    if (!(await admin.listTopics()).includes(topic)) return 0;
    offsets = await fetchTopicOffsetsSettled(admin, topic);
  } finally {
    await admin.disconnect();
  }
  const remaining = new Map<number, bigint>();
  for (const o of offsets) if (BigInt(o.high) > BigInt(o.low)) remaining.set(o.partition, BigInt(o.high));
  if (remaining.size === 0) return 0;
  const groupId = `shopforce-compacted-read-${randomUUID()}`;
  const consumer = kafka.consumer({
    groupId,
    partitionAssigners: [fixedAssigner({ [topic]: [...remaining.keys()] })],
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 200,
  });
  let records = 0;
  await consumer.connect();
  try {
    await subscribeWhenKnown(consumer, { topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} to its end took over ${timeoutMs} ms (partitions left: ${[...remaining.keys()].join(', ')})`)), timeoutMs);
      const done = () => { clearTimeout(timer); resolve(); };
      consumer.on(consumer.events.CRASH, (e) => reject(new Error(`reading ${topic} failed: ${e.payload.error.message}`)));
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            if (m.key !== null) {
              onRecord(m.key.toString('utf8'), m.value);
              records++;
            }
          }
          const end = remaining.get(batch.partition);
          if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
          if (remaining.size === 0) done();
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect().then(() => cleanup.deleteGroups([groupId])).catch(() => undefined).finally(() => cleanup.disconnect());
  }
  return records;
}
