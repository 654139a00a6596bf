import type { EachBatchPayload, Message, Producer, TopicMessages } from 'kafkajs';
import { errorMessage } from '../errors.ts';
import { isFenced } from './fencing.ts';
import type { ProcessorSettings } from './settings.ts';
import type { Task } from './task.ts';

/** The records of one batch handled since the last commit, and what they produce. */
export interface Chunk {
  topic: string;
  partition: number;
  /** Offset of the chunk's last record. */
  lastOffset: string;
  records: number;
  /** Outputs and DLQ records by topic. */
  out: Map<string, Message[]>;
}

/** What committing needs besides the task. */
export interface CommitDeps<S> {
  s: Pick<ProcessorSettings<unknown, S>, 'hooks' | 'name' | 'groupId' | 'transactional' | 'changelogTopic' | 'log' | 'metrics' | 'label'>;
  /** The non-transactional producer (non-transactional mode). */
  producer: () => Producer | undefined;
  /** Drops the partition's task: it is taken over afresh (fenced, restored) before its next work. */
  release: (partition: number) => Promise<void>;
}

/** Adds topic messages to the per-topic lists of `into`. */
export function merge(into: Map<string, Message[]>, messages: TopicMessages[]): void {
  for (const tm of messages) {
    const list = into.get(tm.topic) ?? [];
    list.push(...tm.messages);
    into.set(tm.topic, list);
  }
}

/** The outputs plus the task's pending state writes as changelog records (to its own partition). */
function withChangelog<S>(deps: CommitDeps<S>, task: Task<S>, out: Map<string, Message[]>): TopicMessages[] {
  const topicMessages: TopicMessages[] = [...out].map(([t, messages]) => ({ topic: t, messages }));
  const { changelogTopic } = deps.s;
  if (changelogTopic && task.store.hasPendingWrites()) {
    topicMessages.push({
      topic: changelogTopic,
      messages: task.store.pendingChangelog().map((w) => ({ key: w.key, value: w.value, partition: task.partition })),
    });
  }
  return topicMessages;
}

/**
 * Makes a chunk durable. Transactional: its outputs, DLQ records, changelog writes and the
 * consumed offset in one Kafka transaction on the partition's producer. Otherwise: outputs and
 * changelog produced (acks=all), then the offset committed. On failure the pending state writes
 * are dropped, the partition released (to be taken over again) and the error rethrown.
 */
export async function commitChunk<S>(deps: CommitDeps<S>, task: Task<S>, chunk: Chunk, payload: EachBatchPayload): Promise<void> {
  const { s } = deps;
  const { topic, partition, lastOffset, records, out } = chunk;
  const started = Date.now();
  const next = (BigInt(lastOffset) + 1n).toString();
  const topicMessages = withChangelog(deps, task, out);
  if (s.transactional) {
    const tx = await task.producer!.transaction();
    try {
      if (topicMessages.length > 0) await tx.sendBatch({ topicMessages, acks: -1 });
      await tx.sendOffsets({ consumerGroupId: s.groupId, topics: [{ topic, partitions: [{ partition, offset: next }] }] });
      await s.hooks?.beforeCommit?.({ topic, partition, records, lastOffset });
      await tx.commit();
    } catch (err) {
      await tx.abort().catch(() => undefined);
      task.store.abortBatch();
      const fenced = isFenced(err);
      s.metrics.transactions.inc({ ...s.label, result: fenced ? 'fenced' : 'aborted' });
      s.log.warn({ topic, partition, lastOffset, fenced, err: errorMessage(err), type: (err as { type?: string }).type },
        fenced ? 'fenced by a newer owner of this partition: transaction aborted, taking the partition over again' : 'transaction aborted');
      // the producer's state is unknown now: take the partition over again on the next batch
      await deps.release(partition);
      throw new Error(`processor ${s.name}: transaction for ${topic}[${partition}] up to offset ${lastOffset} failed: ${errorMessage(err)}`, { cause: err });
    }
  } else {
    try {
      if (topicMessages.length > 0) await deps.producer()!.sendBatch({ topicMessages, acks: -1 });
      await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
    } catch (err) {
      task.store.abortBatch();
      s.metrics.transactions.inc({ ...s.label, result: 'failed' });
      s.log.warn({ topic, partition, lastOffset, err: errorMessage(err) }, 'producing or committing offsets failed: the chunk will be handled again');
      // part of the changelog may be written: restore the state from it before going on
      await deps.release(partition);
      throw new Error(`processor ${s.name}: committing ${topic}[${partition}] up to offset ${lastOffset} failed: ${errorMessage(err)}`, { cause: err });
    }
  }
  committed(deps, task, out, started);
}

/** The writes are durable: they become the task's state; count the commit and the outputs. */
function committed<S>(deps: CommitDeps<S>, task: Task<S>, out: Map<string, Message[]>, started: number): void {
  const { metrics, label } = deps.s;
  task.store.commitBatch();
  metrics.commitSeconds.observe(label, (Date.now() - started) / 1000);
  metrics.transactions.inc({ ...label, result: 'committed' });
  for (const [t, msgs] of out) metrics.produced.inc({ ...label, topic: t }, msgs.length);
}
