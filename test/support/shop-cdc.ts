import { Kafka, logLevel } from 'kafkajs';
import { partitionEnds, readRanges } from '../../src/trace/partition-reader.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';

/**
 * Waits until Debezium has put `count` change events matching `match` (the parsed JSON value) on a
 * shop CDC topic since `sinceMs`: the changes are in Kafka, where a router would read them. Reads only
 * what was written since then, on every partition.
 */
export async function waitForShopChanges(stack: StackAddresses, topic: string, sinceMs: number, match: (value: any) => boolean, count: number, timeoutMs = 90_000): Promise<void> {
  const kafka = new Kafka({ brokers: stack.kafka.brokers, clientId: 'shopforce-test', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    const starts = await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs);
    for (;;) {
      const ends = await partitionEnds(kafka, topic);
      let seen = 0;
      await readRanges(kafka, starts.map((s) => ({ topic, partition: s.partition, from: BigInt(s.offset), to: ends.get(s.partition) ?? 0n })), (_t, _p, m) => {
        if (m.value && match(JSON.parse(m.value.toString('utf8')))) seen++;
      });
      if (seen >= count) return;
      if (Date.now() > deadline) throw new Error(`${topic}: ${seen} of ${count} expected change events since ${new Date(sinceMs).toISOString()} after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await admin.disconnect();
  }
}
