import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin, type Consumer, type KafkaMessage } from 'kafkajs';

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

/** How long a collecting consumer may take to join its group before its reading time starts anyway. */
const JOIN_PATIENCE_MS = 60_000;

/**
 * Reads topics from the beginning with a fresh consumer group and collects the messages that
 * match, until `until(collected)` is true or the timeout (counted from joining the group) passes; then
 * it returns what it has.
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
      // the reading time counts from joining the group: on a loaded machine the join alone can take
      // seconds, and a window that started before it would end having read nothing
      const readMs = opts.timeoutMs ?? 30_000;
      let timer = setTimeout(resolve, readMs + JOIN_PATIENCE_MS);
      consumer.on(consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        timer = setTimeout(resolve, readMs);
      });
      void consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          const m = toCollected(topic, partition, message, opts.raw);
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

function toCollected(topic: string, partition: number, message: KafkaMessage, raw?: boolean): CollectedMessage {
  const text = message.value?.toString('utf8');
  return {
    topic, partition, offset: message.offset,
    key: message.key?.toString('utf8') ?? null,
    value: text === undefined || raw ? null : JSON.parse(text),
    rawValue: message.value,
    headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
  };
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

/**
 * Reads topics from the beginning until `sentinel` matched `count` messages (written after what the
 * test looks at), then on to the end each partition had at that moment, so nothing written before
 * the sentinels is left unread: a test asserts what arrived, extra copies included, instead of
 * stopping at the N it expects. Returns the matching messages and the sentinels apart; fails with
 * what it saw when the sentinels do not come within the timeout. With count 0 (a topic nobody writes
 * to any more), it reads to the current end.
 */
export async function collectThroughSentinel(
  brokers: string[],
  topics: string[],
  opts: {
    match?: (m: CollectedMessage) => boolean; sentinel?: (m: CollectedMessage) => boolean; count?: number; timeoutMs?: number; raw?: boolean; readUncommitted?: boolean;
    /** Start at these offsets ("topic/partition" → offset, from topicEnds() before the test wrote) instead of each partition's beginning. */
    from?: Map<string, bigint>;
  },
): Promise<{ messages: CollectedMessage[]; sentinels: CollectedMessage[] }> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const want = opts.count ?? 1;
  const kafka = new Kafka({ brokers, clientId: 'shopforce-test', logLevel: logLevel.NOTHING });
  await waitForTopics(kafka, topics, timeoutMs);
  const admin = kafka.admin();
  const consumer: Consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, allowAutoTopicCreation: false, maxWaitTimeInMs: 200, readUncommitted: opts.readUncommitted ?? false });
  const messages: CollectedMessage[] = [];
  const sentinels: CollectedMessage[] = [];
  const delivered = new Set<string>();
  /** Last offset read per topic/partition (control records included). */
  const read = new Map<string, bigint>([...opts.from ?? []].map(([tp, offset]) => [tp, offset - 1n]));
  let ends: Map<string, bigint> | undefined;
  let fetchingEnds = false;
  let running: Promise<void> | undefined;
  await admin.connect();
  try {
    // nothing written yet: nothing to read (and no consumer to start)
    if (want === 0 && (await endsOf(admin, topics)).size === 0) return { messages, sentinels };
    await consumer.connect();
    for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(
        `${topics.join(', ')}: ${sentinels.length} of ${want} sentinel(s) seen${ends ? ', not read to the end' : ''} in ${timeoutMs} ms; ` +
        `read ${messages.length} matching: ${JSON.stringify(messages.map((m) => [m.partition, m.offset, m.key])).slice(0, 1000)}`)), timeoutMs);
      const check = () => {
        if (!ends) return;
        for (const [tp, end] of ends) if ((read.get(tp) ?? -1n) < end - 1n) return;
        clearTimeout(timer);
        resolve();
      };
      const sentinelsSeen = async () => {
        if (fetchingEnds || ends) return;
        fetchingEnds = true;
        ends = await endsOf(admin, topics);
        check();
      };
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const tp = `${payload.topic}/${payload.partition}`;
        const last = BigInt(payload.lastOffset);
        if (last > (read.get(tp) ?? -1n)) read.set(tp, last);
        check();
      });
      running = consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          // a rebalance of this reader's own group delivers a partition again from its start (nothing
          // is committed): an offset read before is that, not a second copy on the topic
          const at = `${topic}/${partition}/${message.offset}`;
          if (delivered.has(at)) return;
          delivered.add(at);
          const m = toCollected(topic, partition, message, opts.raw);
          if (opts.sentinel?.(m)) sentinels.push(m);
          else if (!opts.match || opts.match(m)) messages.push(m);
          if (sentinels.length >= want) await sentinelsSeen().catch(reject);
        },
      });
      running.catch(reject);
      for (const [tp, offset] of opts.from ?? []) {
        const cut = tp.lastIndexOf('/');
        consumer.seek({ topic: tp.slice(0, cut), partition: Number(tp.slice(cut + 1)), offset: String(offset) });
      }
      if (want === 0) sentinelsSeen().catch(reject);
    });
  } finally {
    // a consumer told to disconnect while its run() is still joining the group joins afterwards and
    // stays connected (the test process then never exits): let the start finish first
    await running?.catch(() => undefined);
    await consumer.disconnect();
    await admin.disconnect();
  }
  return { messages, sentinels };
}

/** Where each partition of `topics` ends now: a later read can start there (collectThroughSentinel's `from`). */
export async function topicEnds(brokers: string[], topics: string[]): Promise<Map<string, bigint>> {
  const admin = new Kafka({ brokers, clientId: 'shopforce-test', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    // a topic not there yet (Debezium makes its topics with their first event) is read from its beginning
    const existing = new Set(await admin.listTopics());
    const all = new Map<string, bigint>();
    for (const topic of topics.filter((t) => existing.has(t))) for (const o of await admin.fetchTopicOffsets(topic)) all.set(`${topic}/${o.partition}`, BigInt(o.high));
    return all;
  } finally {
    await admin.disconnect();
  }
}

/** The end offset of each partition of `topics` that holds anything. */
async function endsOf(admin: Admin, topics: string[]): Promise<Map<string, bigint>> {
  const all = new Map<string, bigint>();
  for (const topic of topics) {
    for (const o of await admin.fetchTopicOffsets(topic)) if (BigInt(o.high) > BigInt(o.low)) all.set(`${topic}/${o.partition}`, BigInt(o.high));
  }
  return all;
}
