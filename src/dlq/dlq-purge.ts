import { logLevel } from 'kafkajs';
import { createKafka, type KafkaSection } from '../kafka/client.ts';
import { fetchTopicOffsetsSettled } from '../kafka/topics.ts';
import { readDlq, type DlqRecord } from './dlq-reader.ts';

export interface PurgeResult {
  /** Dead letters deleted from the topic. */
  purged: DlqRecord[];
  /** Dead letters that matched but stay: an older one on their partition does not match. */
  kept: DlqRecord[];
}

/**
 * Deletes the dead letters `matches` picks, the way Kafka can: a partition is cut at its front only
 * (Admin deleteRecords, kafkajs deleteTopicRecords, moves its start offset), so each partition is cut just before its oldest dead
 * letter that does not match; matching ones behind that stay, and are reported as kept. Nothing is
 * rewritten: the records that stay keep their offsets, and `dlq replay`'s marks stay valid.
 */
export async function purgeDlq(cluster: KafkaSection, topic: string, matches: (r: DlqRecord) => Promise<boolean>): Promise<PurgeResult> {
  const records = await readDlq(cluster, topic);
  const byPartition = new Map<number, Array<{ r: DlqRecord; match: boolean }>>();
  for (const r of records) {
    const list = byPartition.get(r.partition) ?? [];
    list.push({ r, match: await matches(r) });
    byPartition.set(r.partition, list);
  }
  const kafka = createKafka(cluster, 'shopforce-dlq', { logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const result: PurgeResult = { purged: [], kept: [] };
  try {
    const ends = new Map((await fetchTopicOffsetsSettled(admin, topic)).map((o) => [o.partition, o.high]));
    const cuts: Array<{ partition: number; offset: string }> = [];
    for (const [partition, list] of byPartition) {
      list.sort((a, b) => (BigInt(a.r.offset) < BigInt(b.r.offset) ? -1 : 1));
      const firstKept = list.findIndex((x) => !x.match);
      const front = firstKept === -1 ? list : list.slice(0, firstKept);
      result.purged.push(...front.map((x) => x.r));
      result.kept.push(...list.slice(front.length).filter((x) => x.match).map((x) => x.r));
      if (front.length === 0) continue;
      // all of the partition: up to its end (past the transaction markers after the last record)
      cuts.push({ partition, offset: firstKept === -1 ? ends.get(partition)! : list[firstKept]!.r.offset });
    }
    if (cuts.length > 0) await admin.deleteTopicRecords({ topic, partitions: cuts });
  } finally {
    await admin.disconnect();
  }
  return result;
}
