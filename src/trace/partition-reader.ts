/**
 * Reads chosen offset ranges of chosen partitions, and nothing else: one consumer in a group of its
 * own (no offsets committed, so the group leaves nothing behind) that pauses every partition it was
 * not asked for and seeks each asked one to the start of its range.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset read. */
  from: bigint;
  /** First offset not read (the partition's end when the read began). */
  to: bigint;
}

export type OnMessage = (topic: string, partition: number, message: KafkaMessage) => void;

/** Resolves once every range was read to its end; fails after `timeoutMs`. */
export async function readRanges(kafka: Kafka, ranges: PartitionRange[], onMessage: OnMessage, timeoutMs = 120_000): Promise<void> {
  const wanted = ranges.filter((r) => r.from < r.to);
  if (wanted.length === 0) return;
  const id = (topic: string, partition: number) => `${topic}\u0000${partition}`;
  const byPartition = new Map(wanted.map((r) => [id(r.topic, r.partition), r]));
  const open = new Set(byPartition.keys());
  const consumer = kafka.consumer({ groupId: `shopforce-read-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  let finish!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => { finish = resolve; fail = reject; });
  const timer = setTimeout(() => fail(new Error(`reading ${wanted.map((r) => `${r.topic}[${r.partition}]`).join(', ')} took longer than ${timeoutMs} ms`)), timeoutMs);
  try {
    await consumer.connect();
    const topics = [...new Set(wanted.map((r) => r.topic))];
    // from the beginning: a fetch made before the seek then starts at or before the range, never past it
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        const others = partitions.filter((p) => !byPartition.has(id(topic, p)));
        if (others.length) consumer.pause([{ topic, partitions: others }]);
      }
      for (const r of wanted) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.from) });
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => fail(payload.error));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const key = id(batch.topic, batch.partition);
        const range = byPartition.get(key);
        if (!range || !open.has(key)) return;
        for (const message of batch.messages) {
          const offset = BigInt(message.offset);
          if (offset >= range.from && offset < range.to) onMessage(batch.topic, batch.partition, message);
        }
        // the batch's last offset counts transaction markers too, which are never handed out as messages
        if (BigInt(batch.lastOffset()) + 1n >= range.to) {
          open.delete(key);
          consumer.pause([{ topic: batch.topic, partitions: [batch.partition] }]);
          if (open.size === 0) finish();
        }
      },
    });
    await done;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

/** Each partition's current end (the offset the next message gets). */
export async function partitionEnds(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
}
