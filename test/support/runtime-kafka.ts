import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { getTestStack } from './stack.ts';
import { Kafka, logLevel, type Consumer, type IHeaders, type KafkaMessage } from 'kafkajs';

/** A kafkajs client that stays quiet in test output. */
export function testKafka(brokers: string[], clientId = 'shopforce-runtime-test'): Kafka {
  return new Kafka({ brokers, clientId, logLevel: logLevel.NOTHING });
}

/** Creates topics with unique names (prefix-uuid) and the given partition counts. */
export async function createTestTopics(kafka: Kafka, specs: { prefix: string; partitions: number }[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const names = specs.map((s) => `${s.prefix}-${randomUUID()}`);
    await admin.createTopics({ waitForLeaders: true, topics: specs.map((s, i) => ({ topic: names[i], numPartitions: s.partitions, replicationFactor: 1 })) });
    return names;
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTestTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}

export interface Collected { topic: string; partition: number; offset: string; key: string | null; value: Buffer | null; headers: Record<string, string> }

export interface Collector {
  messages: Collected[];
  /** Resolves when at least n messages arrived; rejects after the timeout with what it has. */
  waitFor(n: number, timeoutMs?: number): Promise<Collected[]>;
  stop(): Promise<void>;
}

/** Reads topics from the beginning (read_committed unless readUncommitted) into `messages`. */
export async function startCollector(kafka: Kafka, topics: string[], opts: { readUncommitted?: boolean } = {}): Promise<Collector> {
  const consumer: Consumer = kafka.consumer({ groupId: `collector-${randomUUID()}`, readUncommitted: opts.readUncommitted ?? false, maxWaitTimeInMs: 100 });
  const messages: Collected[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  // a rebalance of the collector's own group delivers again from its last commit: each offset counts once
  const delivered = new Set<string>();
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const at = `${topic}/${partition}/${message.offset}`;
      if (delivered.has(at)) return;
      delivered.add(at);
      messages.push(toCollected(topic, partition, message));
      for (const w of waiters.filter((x) => messages.length >= x.n)) w.resolve();
    },
  });
  return {
    messages,
    async waitFor(n, timeoutMs = 60_000) {
      if (messages.length >= n) return messages;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`expected ${n} messages on ${topics.join(', ')}, got ${messages.length} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
      });
      return messages;
    },
    stop: () => consumer.disconnect(),
  };
}

function toCollected(topic: string, partition: number, m: KafkaMessage): Collected {
  return {
    topic, partition, offset: m.offset, key: m.key?.toString('utf8') ?? null, value: m.value,
    headers: Object.fromEntries(Object.entries(m.headers ?? {} as IHeaders).map(([k, v]) => [k, String(v)])),
  };
}

/**
 * Polls until `check` is true or the timeout passes. A check that throws counts as not yet (a busy
 * broker may answer a topic created a moment ago with UNKNOWN_TOPIC_OR_PARTITION); the last
 * error is named if time runs out.
 */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const last = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}${last}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** True when the group has committed every partition of `topic` up to its end. */
export async function groupCaughtUp(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return ends.every((e) => {
      const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
      return BigInt(e.high) === BigInt(e.low) || BigInt(c) >= BigInt(e.high);
    });
  } finally {
    await admin.disconnect();
  }
}

/** The group's committed offset of one partition (-1 when none). */
export async function committedOffset(kafka: Kafka, groupId: string, topic: string, partition: number): Promise<bigint> {
  let offset = -1n;
  await eventually(async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
      offset = BigInt(committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
      return true;
    } finally {
      await admin.disconnect();
    }
  }, `the committed offset of ${groupId} on ${topic}[${partition}]`, 10_000);
  return offset;
}

/** Records every value the group's committed offset of `topic`[partition] takes, polling until stop(). */
export function watchCommitted(kafka: Kafka, groupId: string, topic: string, partition = 0): { values: bigint[]; stop(): Promise<void> } {
  const values: bigint[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const v = await committedOffset(kafka, groupId, topic, partition).catch(() => undefined);
      if (v !== undefined && v >= 0n && values[values.length - 1] !== v) values.push(v);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return { values, async stop() { stopped = true; await loop; } };
}

/**
 * For a test file of its own topics: a quiet kafkajs client on the test stack (set in a `before`
 * hook) and a list of topics deleted in an `after` hook.
 */
export function useTestKafka(): { readonly kafka: Kafka; cleanup: string[] } {
  let kafka: Kafka | undefined;
  const cleanup: string[] = [];
  before(async () => {
    kafka = testKafka((await getTestStack()).kafka.brokers);
  });
  after(async () => {
    if (kafka) await deleteTestTopics(kafka, cleanup);
  });
  return {
    get kafka() {
      if (!kafka) throw new Error('useTestKafka: the client is set in the before hook');
      return kafka;
    },
    cleanup,
  };
}
