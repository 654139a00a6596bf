import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type { Logger } from '../observability/logger.ts';
import { fixedAssigner } from './assigner.ts';
import { fetchTopicOffsetsSettled, subscribeWhenKnown } from './topics.ts';

/** How state values become changelog bytes and back. */
export interface StateCodec<V> {
  encode(value: V): Buffer;
  decode(bytes: Buffer): V;
}

export const jsonCodec: StateCodec<unknown> = {
  encode: (value) => Buffer.from(JSON.stringify(value)),
  decode: (bytes) => JSON.parse(bytes.toString('utf8')) as unknown,
};

/** What a handler sees of its partition's state. */
export interface StateView<V = unknown> {
  get(key: string): V | undefined;
  has(key: string): boolean;
  set(key: string, value: V): void;
  delete(key: string): void;
  /** Number of keys (committed plus pending writes). */
  readonly size: number;
  /** The keys (committed plus pending writes, deleted ones left out); writes while iterating are safe. */
  keys(): IterableIterator<string>;
  /** The entries (committed plus pending writes, deleted ones left out); writes while iterating are safe. */
  entries(): IterableIterator<[string, V]>;
}

/** A pending write: the value, or `undefined` for a delete (a tombstone on the changelog). */
type Pending<V> = Map<string, { value: V | undefined }>;

/** A changelog record to produce: key = state key, value = encoded value or null (tombstone). */
export interface ChangelogWrite { key: string; value: Buffer | null }

/**
 * The key→value state of one input partition. Writes are layered: a record's writes are kept
 * apart until the record succeeds (so a retried or dead-lettered record leaves no trace), then
 * join the batch's writes, which become committed state only when the runtime has made them
 * durable on the changelog (in the same Kafka transaction as the outputs and offsets, or before
 * the offsets are committed).
 */
export class PartitionStore<V = unknown> implements StateView<V> {
  private readonly committed = new Map<string, V>();
  private readonly batch: Pending<V> = new Map();
  private readonly record: Pending<V> = new Map();

  constructor(readonly partition: number, private readonly codec: StateCodec<V>) {}

  get(key: string): V | undefined {
    const r = this.record.get(key) ?? this.batch.get(key);
    return r ? r.value : this.committed.get(key);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  set(key: string, value: V): void {
    if (value === undefined) throw new Error(`state value for key '${key}' is undefined: use delete()`);
    this.record.set(key, { value });
  }

  delete(key: string): void {
    this.record.set(key, { value: undefined });
  }

  get size(): number {
    let n = 0;
    for (const k of this.allKeys()) if (this.get(k) !== undefined) n++;
    return n;
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *entries(): IterableIterator<[string, V]> {
    for (const k of this.allKeys()) {
      const v = this.get(k);
      if (v !== undefined) yield [k, v];
    }
  }

  /** Every key with a value or a pending write, as a snapshot (iteration may write). */
  private allKeys(): Set<string> {
    return new Set([...this.committed.keys(), ...this.batch.keys(), ...this.record.keys()]);
  }

  /** Committed entries (as restored or last made durable). */
  committedEntries(): IterableIterator<[string, V]> {
    return this.committed.entries();
  }

  /** The current record succeeded: its writes join the batch. */
  acceptRecord(): void {
    for (const [k, v] of this.record) this.batch.set(k, v);
    this.record.clear();
  }

  /** The current record failed: forget its writes. */
  discardRecord(): void {
    this.record.clear();
  }

  /** The batch's writes as changelog records (last write per key wins). */
  pendingChangelog(): ChangelogWrite[] {
    return [...this.batch].map(([key, { value }]) => ({ key, value: value === undefined ? null : this.codec.encode(value) }));
  }

  hasPendingWrites(): boolean {
    return this.batch.size > 0;
  }

  /** The batch's writes are durable: make them the committed state. */
  commitBatch(): void {
    this.acceptRecord();
    for (const [k, { value }] of this.batch) {
      if (value === undefined) this.committed.delete(k);
      else this.committed.set(k, value);
    }
    this.batch.clear();
  }

  /** The batch's transaction was aborted: forget its writes. */
  abortBatch(): void {
    this.record.clear();
    this.batch.clear();
  }

  /** Applies one changelog record during restore. */
  applyChangelog(key: string, value: Buffer | null): void {
    if (value === null) this.committed.delete(key);
    else this.committed.set(key, this.codec.decode(value));
  }
}

/**
 * Rebuilds the stores of the given partitions by reading their changelog partitions from the
 * beginning to the current end (read_committed, so aborted transactions leave no trace). Call it
 * only after the partitions' previous writers are fenced, so the end cannot move underneath.
 * Uses a short-lived consumer group whose assigner hands it exactly these partitions.
 */
export async function restorePartitions<V>(
  kafka: Kafka,
  changelogTopic: string,
  partitions: number[],
  codec: StateCodec<V>,
  logger?: Logger,
): Promise<Map<number, PartitionStore<V>>> {
  const stores = new Map(partitions.map((p) => [p, new PartitionStore<V>(p, codec)]));
  if (partitions.length === 0) return stores;
  const admin = kafka.admin();
  await admin.connect();
  const started = Date.now();
  try {
    const offsets = await fetchTopicOffsetsSettled(admin, changelogTopic);
    const remaining = new Map<number, bigint>();
    for (const p of partitions) {
      const o = offsets.find((x) => x.partition === p);
      if (!o) throw new Error(`changelog topic ${changelogTopic} has no partition ${p}: it needs at least as many partitions as the input topics`);
      if (BigInt(o.high) > BigInt(o.low)) remaining.set(p, BigInt(o.high));
    }
    if (remaining.size === 0) return stores;
    const wanted = [...remaining.keys()];
    const groupId = `shopforce-restore-${randomUUID()}`;
    const consumer = kafka.consumer({
      groupId,
      partitionAssigners: [fixedAssigner({ [changelogTopic]: wanted })],
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 200,
    });
    await consumer.connect();
    try {
      await subscribeWhenKnown(consumer, { topics: [changelogTopic], fromBeginning: true });
      let records = 0;
      await new Promise<void>((resolve, reject) => {
        const progress = (partition: number, lastOffset: string) => {
          const end = remaining.get(partition);
          if (end !== undefined && BigInt(lastOffset) + 1n >= end) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        };
        consumer.on(consumer.events.END_BATCH_PROCESS, (e) => progress(e.payload.partition, e.payload.lastOffset));
        consumer.on(consumer.events.CRASH, (e) => reject(new Error(`restoring ${changelogTopic} failed: ${e.payload.error.message}`)));
        consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const store = stores.get(batch.partition);
            if (!store) return;
            for (const m of batch.messages) {
              if (m.key === null) continue;
              store.applyChangelog(m.key.toString('utf8'), m.value);
              records++;
            }
          },
        }).catch(reject);
      });
      logger?.info({ changelogTopic, partitions: wanted, records, ms: Date.now() - started }, 'state restored from changelog');
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return stores;
  } finally {
    await admin.disconnect();
  }
}

