import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import { parseDlqMessage } from '../kafka/dlq.ts';
import { latestEntry, type DeadLetterSummary } from '../status/status.ts';
import { replayedUpTo, type DlqRecord } from './dlq-reader.ts';
import { subscribeWhenKnown } from '../kafka/topics.ts';

/**
 * Follows the dead-letter topic from its beginning with one long-lived consumer and keeps what the
 * status page shows: how many there are, which offsets (to tell the replayed ones), and the
 * newest `keep` with their reasons. Reading the whole topic again on every refresh (what
 * `shopforce status` does once) would cost a group join and the whole topic each time.
 */
export class DlqTail {
  /** Per partition, the offsets of its dead letters, ascending. */
  private readonly offsets = new Map<number, number[]>();
  /** The newest dead letters, newest first. */
  private latest: DlqRecord[] = [];
  private consumer?: Consumer;

  /** `onRead` is called after each dead letter read. */
  constructor(private readonly kafka: Kafka, readonly topic: string, private readonly keep: number, private readonly onRead: () => void = () => undefined) {}

  /** Starts following; rejects (naming the topic) when the topic does not exist yet. */
  async start(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      if (!(await admin.listTopics()).includes(this.topic)) throw new Error(`dead-letter topic ${this.topic} does not exist`);
    } finally {
      await admin.disconnect();
    }
    // a reading group commits nothing, so Kafka forgets it once it leaves
    const consumer = this.kafka.consumer({ groupId: `shopforce-dlq-tail-${randomUUID()}`, maxWaitTimeInMs: 1_000 });
    await consumer.connect();
    try {
      await subscribeWhenKnown(consumer, { topics: [this.topic], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachMessage: async ({ partition, message }) => this.add({ ...parseDlqMessage(message), partition, offset: message.offset }) });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    this.consumer = consumer;
  }

  get started(): boolean {
    return this.consumer !== undefined;
  }

  /** What was read so far, with the replayed ones told apart by `dlq replay`'s committed offsets. */
  async summary(): Promise<DeadLetterSummary> {
    const done = await replayedUpTo(this.kafka, this.topic);
    let total = 0;
    let notReplayed = 0;
    for (const [partition, offsets] of this.offsets) {
      total += offsets.length;
      notReplayed += offsets.length - countBelow(offsets, Number(done.get(partition) ?? 0n));
    }
    return { topic: this.topic, exists: true, total, notReplayed, latest: this.latest.map(latestEntry) };
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
    this.consumer = undefined;
  }

  private add(record: DlqRecord): void {
    const offset = Number(record.offset);
    const list = this.offsets.get(record.partition) ?? [];
    // a rebalance of the tail's own group delivers again from the start: each offset counts once
    if (list.length > 0 && offset <= list[list.length - 1]!) return;
    list.push(offset);
    this.offsets.set(record.partition, list);
    const at = this.latest.findIndex((r) => r.failedAt < record.failedAt);
    this.latest.splice(at === -1 ? this.latest.length : at, 0, record);
    if (this.latest.length > this.keep) this.latest.length = this.keep;
    this.onRead();
  }
}

/** How many of the ascending `offsets` are below `offset`. */
function countBelow(offsets: number[], offset: number): number {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid]! < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
