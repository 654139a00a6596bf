import type { Admin, Consumer, ConsumerSubscribeTopics, ITopicConfig } from 'kafkajs';

/** A topic shopforce owns. `compacted` for state, changelog, xref and checkpoint topics. */
export interface TopicSpec {
  topic: string;
  partitions: number;
  compacted?: boolean;
  /** Defaults to 1 (single-broker local stack); production config gives 3. */
  replicationFactor?: number;
  /** Extra topic configs, e.g. { 'retention.ms': '-1' }. */
  configs?: Record<string, string>;
}

/** Broker answers that mean "not yet" for a topic that was just created (its metadata still spreading). */
const NOT_YET = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE']);

export interface EnsureResult { created: string[]; existing: string[] }

/**
 * The largest record a shop topic or a shopforce topic takes (16 MiB; Kafka's default is 1 MB): a shop
 * row with a text column of several MB travels whole, to land or be dead-lettered with its reason.
 * The broker of the stack, Debezium's producer (max.request.size) and the topics it and we create say the same.
 */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** Topic configs for a spec: compaction for compacted topics, plus the spec's own entries. */
export function topicConfigs(spec: TopicSpec): Record<string, string> {
  return {
    'max.message.bytes': String(MAX_MESSAGE_BYTES),
    ...(spec.compacted ? { 'cleanup.policy': 'compact', 'min.cleanable.dirty.ratio': '0.1', 'segment.ms': String(6 * 3600_000) } : {}),
    ...spec.configs,
  };
}

/**
 * Creates the topics that do not exist yet (idempotent, safe when several processes race) and
 * checks the ones that do: a topic with fewer partitions than asked for is an error, because
 * state changelogs must have a partition for every input partition.
 */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<EnsureResult> {
  const seen = new Set<string>();
  for (const s of specs) {
    if (!s.topic) throw new Error('ensureTopics: a topic spec has an empty name');
    if (seen.has(s.topic)) throw new Error(`ensureTopics: ${s.topic} is listed twice`);
    seen.add(s.topic);
    if (!Number.isInteger(s.partitions) || s.partitions < 1) throw new Error(`ensureTopics: ${s.topic}: partitions must be a positive integer, got ${s.partitions}`);
  }
  const existingNames = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existingNames.has(s.topic));
  const created: string[] = [];
  if (missing.length > 0) {
    const topics: ITopicConfig[] = missing.map((s) => ({
      topic: s.topic,
      numPartitions: s.partitions,
      replicationFactor: s.replicationFactor ?? 1,
      configEntries: Object.entries(topicConfigs(s)).map(([name, value]) => ({ name, value })),
    }));
    // a busy broker may answer the leader wait with UNKNOWN_TOPIC_OR_PARTITION before its metadata
    // caught up: try again a few times (creating an existing topic is harmless: it is skipped)
    for (let attempt = 1; ; attempt++) {
      try {
        // false: all of them appeared meanwhile (another process raced us)
        if (await admin.createTopics({ topics, waitForLeaders: true })) created.push(...missing.map((s) => s.topic));
        break;
      } catch (err) {
        // the call may have failed after the broker created them (a leader wait that timed out on a
        // loaded broker), or another process created some between listTopics and createTopics: the
        // ones there now were made at our request or alongside it, and count as created
        const now = new Set(await admin.listTopics());
        const absent = missing.filter((s) => !now.has(s.topic)).map((s) => s.topic);
        if (absent.length === 0) {
          created.push(...missing.map((s) => s.topic));
          break;
        }
        if (attempt >= 5) throw new Error(`creating topics ${absent.join(', ')} failed: ${(err as Error).message}`, { cause: err });
        await new Promise((r) => setTimeout(r, 300 * attempt));
      }
    }
  }
  // topics another process created a moment ago are listed before the broker serves them: wait for
  // every partition's leader, not only of the topics made here (two copies of run starting together)
  await awaitLeaders(admin, specs.map((s) => s.topic));
  const present = specs.filter((s) => existingNames.has(s.topic));
  if (present.length > 0) {
    const { topics } = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
    for (const s of present) {
      const have = topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
      if (have < s.partitions) {
        throw new Error(`topic ${s.topic} exists with ${have} partition(s) but ${s.partitions} are needed; grow it with \`shopforce kafka topics --alter --topic ${s.topic} --partitions ${s.partitions}\` (keys will move partitions)`);
      }
    }
  }
  return { created, existing: present.map((s) => s.topic) };
}

/**
 * Waits (up to a minute) until the broker serves the topics' metadata with a leader for every partition:
 * a loaded broker may still answer "does not host this topic-partition" just after creating them, and a
 * consumer that subscribes then fails its start.
 */
async function awaitLeaders(admin: Admin, topics: string[], patienceMs = TOPIC_PATIENCE_MS): Promise<void> {
  const deadline = Date.now() + patienceMs;
  for (let attempt = 1; ; attempt++) {
    let why = 'a partition has no leader';
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.length === topics.length && meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      why = (err as Error).message;
    }
    if (Date.now() >= deadline) throw new Error(`topics ${topics.join(', ')} are not served by the broker yet (${why})`);
    await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2_000)));
  }
}

/** How long a call about a topic asks again while the broker does not know the topic yet. */
const TOPIC_PATIENCE_MS = 60_000;

/**
 * Runs a call about topics, asking again while the broker answers that it does not know them yet (a busy
 * broker, a topic another process just created: seen to take over 7 s on a loaded 2-core machine).
 */
async function whileTopicUnknown<T>(call: () => Promise<T>, patienceMs: number): Promise<T> {
  const deadline = Date.now() + patienceMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (!NOT_YET.has((err as { type?: string }).type ?? '') || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, Math.min(250 * attempt, 2_000)));
    }
  }
}

/** Partition count of each topic (0 when absent); a topic the broker is still learning of is asked again. */
export async function partitionCounts(admin: Admin, topics: string[], patienceMs = TOPIC_PATIENCE_MS): Promise<Map<string, number>> {
  const { topics: meta } = await whileTopicUnknown(() => admin.fetchTopicMetadata({ topics }), patienceMs);
  return new Map(topics.map((t) => [t, meta.find((m) => m.name === t)?.partitions.length ?? 0]));
}

/** The changelog topic of a processor's state, by convention. */
export function changelogTopicFor(groupId: string): string {
  return `${groupId}.state-changelog`;
}

export const DLQ_TOPIC = 'sync.dlq';

/**
 * The offsets of a topic's partitions; right after a topic is created a broker may not yet lead
 * its partitions (NOT_LEADER / LEADER_NOT_AVAILABLE / UNKNOWN_TOPIC): such answers are retried.
 */
export async function fetchTopicOffsetsSettled(admin: Admin, topic: string, attempts = 10): Promise<Array<{ partition: number; offset: string; high: string; low: string }>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (err) {
      const retriable = (err as { retriable?: boolean }).retriable === true;
      if (!retriable || attempt >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}

/** Subscribes the consumer, asking again for up to a minute while the broker does not know the topics yet; a failure names the topics. */
export async function subscribeWhenKnown(consumer: Consumer, subscription: ConsumerSubscribeTopics, patienceMs = TOPIC_PATIENCE_MS): Promise<void> {
  await whileTopicUnknown(() => consumer.subscribe(subscription), patienceMs).catch((err: unknown) => {
    throw new Error(`subscribing to ${subscription.topics.join(', ')}: ${(err as Error).message}`, { cause: err });
  });
}
