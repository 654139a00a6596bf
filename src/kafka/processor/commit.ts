import type { Consumer, EachBatchPayload, Message, Producer, TopicMessages, Transaction } from 'kafkajs';
import type { MarkerBatch } from '../markers.ts';
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
 * Produces `topicMessages` in one transaction on the task's producer; `beforeCommit` adds to it
 * (offsets, test hooks). On failure: aborted, the pending state writes dropped, the partition
 * released (its producer's state is unknown: it is taken over again), and an error naming `what`
 * thrown.
 */
async function inTransaction<S>(deps: CommitDeps<S>, task: Task<S>, topicMessages: TopicMessages[], beforeCommit: (tx: Transaction) => Promise<void>, what: string, logContext: Record<string, unknown>): Promise<void> {
  const { s } = deps;
  const tx = await task.producer!.transaction();
  try {
    if (topicMessages.length > 0) await tx.sendBatch({ topicMessages, acks: -1 });
    await beforeCommit(tx);
    await tx.commit();
  } catch (err) {
    await tx.abort().catch(() => undefined);
    task.store.abortBatch();
    const fenced = isFenced(err);
    s.metrics.transactions.inc({ ...s.label, result: fenced ? 'fenced' : 'aborted' });
    s.log.warn({ ...logContext, fenced, err: errorMessage(err), type: (err as { type?: string }).type },
      fenced ? 'fenced by a newer owner of this partition: transaction aborted, taking the partition over again' : 'transaction aborted');
    // the producer's state is unknown now: take the partition over again before its next work
    await deps.release(task.partition);
    throw new Error(`processor ${s.name}: transaction for ${what} failed: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Produces `topicMessages` (acks=all, idempotent), then runs `after` (the offset commit). On
 * failure the pending state writes are dropped and the partition released (part of the
 * changelog may be written: the state is restored from it before going on).
 */
async function produceThen<S>(deps: CommitDeps<S>, task: Task<S>, topicMessages: TopicMessages[], after: () => Promise<void>, what: string, logContext: Record<string, unknown>, logMessage: string): Promise<void> {
  const { s } = deps;
  try {
    if (topicMessages.length > 0) await deps.producer()!.sendBatch({ topicMessages, acks: -1 });
    await after();
  } catch (err) {
    task.store.abortBatch();
    s.metrics.transactions.inc({ ...s.label, result: 'failed' });
    s.log.warn({ ...logContext, err: errorMessage(err) }, logMessage);
    await deps.release(task.partition);
    throw new Error(`processor ${s.name}: committing ${what} failed: ${errorMessage(err)}`, { cause: err });
  }
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
  const offsets = { topics: [{ topic, partitions: [{ partition, offset: (BigInt(lastOffset) + 1n).toString() }] }] };
  const topicMessages = withChangelog(deps, task, out);
  const what = `${topic}[${partition}] up to offset ${lastOffset}`;
  if (s.transactional) {
    await inTransaction(deps, task, topicMessages, async (tx) => {
      await tx.sendOffsets({ consumerGroupId: s.groupId, ...offsets });
      await s.hooks?.beforeCommit?.({ topic, partition, records, lastOffset });
    }, what, { topic, partition, lastOffset });
  } else {
    await produceThen(deps, task, topicMessages, () => payload.commitOffsetsIfNecessary(offsets), what, { topic, partition, lastOffset },
      'producing or committing offsets failed: the chunk will be handled again');
  }
  committed(deps, task, out, started);
}

/**
 * Commits the group's offset past a batch of transaction markers that follows what this member
 * handled (in a transaction of its own in transactional mode), so that a caught-up processor
 * shows no lag. A batch below what was handled or committed already is left alone; a failure
 * only means the marker is committed with the next chunk.
 */
export async function commitPastMarkers<S>(deps: CommitDeps<S>, task: Task<S>, markers: MarkerBatch, consumer: Consumer): Promise<void> {
  const { s } = deps;
  const { topic, partition, firstOffset, lastOffset } = markers;
  const next = task.handledTo.get(topic) ?? task.floors.get(topic);
  if (next !== undefined && firstOffset < next) return;
  const offset = (lastOffset + 1n).toString();
  try {
    if (s.transactional) {
      await inTransaction(deps, task, [], (tx) => tx.sendOffsets({ consumerGroupId: s.groupId, topics: [{ topic, partitions: [{ partition, offset }] }] }),
        `${topic}[${partition}] past its transaction markers up to ${lastOffset}`, { topic, partition, lastOffset: lastOffset.toString() });
    } else {
      await consumer.commitOffsets([{ topic, partition, offset }]);
    }
    task.handledTo.set(topic, lastOffset + 1n);
  } catch (err) {
    s.log.debug({ topic, partition, offset, err: errorMessage(err) }, 'committing past transaction markers failed; the next chunk commits past them');
  }
}

/**
 * Makes a punctuation durable: its outputs and the task's pending state writes, in one Kafka
 * transaction without input offsets (transactional mode), or produced (otherwise). Nothing to
 * write: nothing done. Failures as commitChunk.
 */
export async function commitPunctuation<S>(deps: CommitDeps<S>, task: Task<S>, messages: TopicMessages[], final: boolean): Promise<void> {
  const { s } = deps;
  const started = Date.now();
  const out = new Map<string, Message[]>();
  merge(out, messages);
  const topicMessages = withChangelog(deps, task, out);
  if (topicMessages.length === 0) return;
  const partition = task.partition;
  const what = `the punctuation of partition ${partition}`;
  const outputs = messages.reduce((n, tm) => n + tm.messages.length, 0);
  if (s.transactional) {
    await inTransaction(deps, task, topicMessages, async () => {
      await s.hooks?.beforePunctuationCommit?.({ partition, final, outputs });
    }, what, { partition, punctuation: true, final });
  } else {
    await produceThen(deps, task, topicMessages, async () => undefined, what, { partition, punctuation: true, final },
      'producing a punctuation\'s outputs failed: it runs again on the next tick');
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
