import { randomUUID } from 'node:crypto';
import { logLevel, type Admin, type Kafka } from 'kafkajs';
import pRetry, { AbortError } from 'p-retry';
import { createKafka, type KafkaSection } from '../kafka/client.ts';
import { parseDlqMessage, REPLAYED_HEADER, type DlqEntry } from '../kafka/dlq.ts';
import { fetchTopicOffsetsSettled } from '../kafka/topics.ts';

export interface DlqRecord extends DlqEntry {
  partition: number;
  offset: string;
}

/** The group whose offsets on a dead-letter topic mark what `dlq replay` sent back (before 2 December 2026: of every topic). */
export const DLQ_REPLAY_GROUP = 'shopforce.dlq-replay';

/**
 * The group keeping one dead-letter topic's replay marks. One group per topic: Kafka sets a group's
 * offsets only while no member runs, and kafkajs sets them through a short-lived member of its own, so
 * replays of two topics sharing one group refused each other.
 */
export const replayGroup = (topic: string) => `${DLQ_REPLAY_GROUP}.${topic}`;

/**
 * Records the replay marks (the topic's replay group's offsets). A replay of the same topic marking at the
 * same moment makes the group busy for a moment, so it is tried again; after that the error says the
 * records went back but are not marked (a second replay would send them again).
 */
async function markReplayed(admin: Admin, topic: string, upTo: Map<number, bigint>, sent: number): Promise<void> {
  const partitions = [...upTo].map(([partition, offset]) => ({ partition, offset: String(offset) }));
  try {
    await pRetry(async () => {
      try {
        await admin.setOffsets({ groupId: replayGroup(topic), topic, partitions });
      } catch (err) {
        if (!/no running instances/.test((err as Error).message)) throw new AbortError(err as Error);
        throw err;
      }
    }, { retries: 8, minTimeout: 250, maxTimeout: 4_000 });
  } catch (err) {
    throw new Error(`sent ${sent} dead letter(s) of ${topic} back, but could not mark them as replayed in group ${replayGroup(topic)} (${(err as Error).message}); another \`shopforce dlq replay\` may be running: a replay started again now would send them a second time`, { cause: err });
  }
}

/** No new dead letter for this long after the last one read: the end of the topic was reached. */
const IDLE_END_MS = 2_000;

/** The offsets `shopforce dlq replay` has already replayed, per DLQ partition (-1: none yet). */
export async function replayedUpTo(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // marks made before the group per topic count too
    const upTo = new Map<number, bigint>();
    for (const groupId of [DLQ_REPLAY_GROUP, replayGroup(topic)]) {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      for (const p of committed?.partitions ?? []) {
        const offset = BigInt(p.offset);
        if (offset > (upTo.get(p.partition) ?? -1n)) upTo.set(p.partition, offset);
      }
    }
    return upTo;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads the whole dead-letter topic (up to its current end, then stops): every record with its
 * reason and source coordinates, and whether `dlq replay` already sent it back.
 */
export async function readDlq(cluster: KafkaSection, topic: string): Promise<Array<DlqRecord & { replayed: boolean }>> {
  const kafka = createKafka(cluster, 'shopforce-dlq', { logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let ends: Map<number, bigint>;
  try {
    if (!(await admin.listTopics()).includes(topic)) throw new Error(`dead-letter topic ${topic} does not exist (nothing has failed yet, or a wrong --topic / namespace)`);
    ends = new Map((await fetchTopicOffsetsSettled(admin, topic)).filter((o) => BigInt(o.high) > BigInt(o.low)).map((o) => [o.partition, BigInt(o.high)]));
  } finally {
    await admin.disconnect();
  }
  const done = await replayedUpTo(kafka, topic);
  const records: Array<DlqRecord & { replayed: boolean }> = [];
  if (ends.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `shopforce-dlq-read-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const remaining = new Map(ends);
      // dead letters written inside transactions leave commit markers at the end of a partition, so
      // the last offset may never be a record: quiet for a while also means "read to the end"
      let idle = setTimeout(resolve, IDLE_END_MS * 3);
      // a reading group commits nothing, so Kafka forgets it once it leaves (`status` and the status page read often)
      consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          clearTimeout(idle);
          idle = setTimeout(resolve, IDLE_END_MS);
          const entry = parseDlqMessage(message);
          records.push({ ...entry, partition, offset: message.offset, replayed: BigInt(message.offset) < (done.get(partition) ?? 0n) });
          if (BigInt(message.offset) + 1n >= (remaining.get(partition) ?? 0n)) remaining.delete(partition);
          if (remaining.size === 0) {
            clearTimeout(idle);
            resolve();
          }
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records.sort((a, b) => a.failedAt.localeCompare(b.failedAt));
}

/**
 * Sends not-yet-replayed dead letters back to the topic they came from (original key, value and
 * headers, plus `shopforce-replayed-from`), then records them as replayed. `filter` picks which.
 */
export async function replayDlq(cluster: KafkaSection, topic: string, filter: (r: DlqRecord) => boolean): Promise<DlqRecord[]> {
  const pending = (await readDlq(cluster, topic)).filter((r) => !r.replayed);
  const chosen = pending.filter(filter);
  const kafka = createKafka(cluster, 'shopforce-dlq', { logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (const r of chosen) {
      if (!r.source.topic) throw new Error(`dead letter ${topic}[${r.partition}]@${r.offset} names no source topic`);
      await producer.send({
        topic: r.source.topic, acks: -1,
        messages: [{ key: r.key, value: r.value, headers: { ...r.headers, [REPLAYED_HEADER]: `${topic}[${r.partition}]@${r.offset}` } }],
      });
    }
  } finally {
    await producer.disconnect();
  }
  // everything up to the last chosen record of each partition counts as handled; records skipped by
  // the filter before it stay listed as not replayed only if they come after the committed offset
  const admin = kafka.admin();
  await admin.connect();
  try {
    const upTo = new Map<number, bigint>();
    for (const r of chosen) upTo.set(r.partition, BigInt(r.offset) + 1n > (upTo.get(r.partition) ?? 0n) ? BigInt(r.offset) + 1n : upTo.get(r.partition)!);
    const skippedBefore = pending.filter((r) => !filter(r) && BigInt(r.offset) < (upTo.get(r.partition) ?? 0n));
    if (skippedBefore.length > 0) {
      // do not mark unreplayed records as replayed: commit only up to the first skipped one
      for (const r of skippedBefore) if (BigInt(r.offset) < upTo.get(r.partition)!) upTo.set(r.partition, BigInt(r.offset));
    }
    if (upTo.size > 0) await markReplayed(admin, topic, upTo, chosen.length);
  } finally {
    await admin.disconnect();
  }
  return chosen;
}
