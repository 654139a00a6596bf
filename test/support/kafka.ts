import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface CollectedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: any;
  headers: Record<string, string>;
  /** The value bytes (with opts.raw: value is then not parsed as JSON). */
  rawValue?: Buffer | null;
}

/**
 * Reads topics from the beginning with a fresh consumer group and collects the messages that
 * match, until `until(collected)` is true or the timeout passes (then it returns what it has).
 */
export async function collectMessages(
  brokers: string[],
  topics: string[],
  opts: { match?: (m: CollectedMessage) => boolean; until: (all: CollectedMessage[]) => boolean; timeoutMs?: number; raw?: boolean },
): Promise<CollectedMessage[]> {
  const kafka = new Kafka({ brokers, clientId: 'shopforce-test', logLevel: logLevel.NOTHING });
  await waitForTopics(kafka, topics, opts.timeoutMs ?? 30_000);
  const consumer: Consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, allowAutoTopicCreation: false });
  const collected: CollectedMessage[] = [];
  await consumer.connect();
  try {
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, opts.timeoutMs ?? 30_000);
      void consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const text = message.value?.toString('utf8');
          const m: CollectedMessage = {
            topic, partition, offset: message.offset,
            key: message.key?.toString('utf8') ?? null,
            value: text === undefined || opts.raw ? null : JSON.parse(text),
            rawValue: message.value,
            headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
          };
          if (opts.match && !opts.match(m)) return;
          collected.push(m);
          if (opts.until(collected)) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return collected;
}

/** Topics such as Debezium's appear with their first event: wait for them rather than auto-create. */
export async function waitForTopics(kafka: Kafka, topics: string[], timeoutMs: number): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const existing = new Set(await admin.listTopics());
      const missing = topics.filter((t) => !existing.has(t));
      if (missing.length === 0) return;
      if (Date.now() > deadline) throw new Error(`topics never appeared: ${missing.join(', ')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await admin.disconnect();
  }
}
