import type { Consumer, EachBatchPayload, KafkaMessage, Message } from 'kafkajs';
import { withKeepalive } from '../keepalive.ts';
import { commitChunk, merge, type CommitDeps } from './commit.ts';
import { prefetchChunk } from './prefetch.ts';
import { processRecord } from './record.ts';
import type { ProcessorSettings } from './settings.ts';
import type { Task, Tasks } from './task.ts';

/** What the batch loop needs of its processor. */
export interface BatchLoopDeps<T, S> {
  s: ProcessorSettings<T, S>;
  tasks: Tasks<S>;
  commit: CommitDeps<S>;
  consumer: () => Consumer;
  /** False once stop() was called. */
  running: () => boolean;
  /** Aborted by stop(): retry waits end. */
  signal: () => AbortSignal;
}

/**
 * kafkajs' eachBatch: waits for the partition's task (taken over if needed), then handles the
 * batch in the task's turn (after a punctuation in hand), in chunks of at most
 * maxRecordsPerCommit records, each prefetched (prefetchChunk), handled and committed
 * (commitChunk) before the next starts.
 */
export function batchLoop<T, S>(deps: BatchLoopDeps<T, S>): (payload: EachBatchPayload) => Promise<void> {
  return async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const task = await deps.tasks.get(payload.batch.partition);
    // keep the membership alive while handlers run, and while a punctuation of the partition
    // finishes (kafkajs heartbeats only between batches); a heartbeat error (rebalance, lost
    // membership) ends the batch after committing what is done
    await withKeepalive(payload.heartbeat, deps.s.heartbeatInterval, (groupTrouble) => {
      const run = task.busy.then(() => processBatch(deps, task, payload, groupTrouble));
      task.busy = run.catch(() => undefined);
      return run;
    });
  };
}

async function processBatch<T, S>(deps: BatchLoopDeps<T, S>, task: Task<S>, payload: EachBatchPayload, groupTrouble: () => boolean): Promise<void> {
  const { batch, resolveOffset } = payload;
  const { topic, partition } = batch;
  let messages = batch.messages;
  const floor = task.floors.get(topic);
  if (floor !== undefined) {
    messages = messages.filter((m) => BigInt(m.offset) >= floor);
    if (messages.length === 0) {
      // everything here was committed by a previous owner after our fetch position was set
      if (BigInt(batch.lastOffset()) < floor) deps.consumer().seek({ topic, partition, offset: floor.toString() });
      else resolveOffset(batch.lastOffset());
      return;
    }
    if (messages.length < batch.messages.length) resolveOffset((floor - 1n).toString());
  }

  await processRecords(deps, task, payload, messages, groupTrouble);
}

async function processRecords<T, S>(deps: BatchLoopDeps<T, S>, task: Task<S>, payload: EachBatchPayload, messages: KafkaMessage[], groupTrouble: () => boolean): Promise<void> {
  const { s } = deps;
  const { batch, resolveOffset, isRunning, isStale } = payload;
  const { topic, partition } = batch;
  let i = 0;
  let stop = false;
  while (i < messages.length && !stop) {
    const out = new Map<string, Message[]>();
    const sourceTimes: number[] = [];
    let last: KafkaMessage | undefined;
    let records = 0;
    await prefetchChunk(s, task, topic, partition, messages.slice(i, i + s.maxPerCommit), deps.signal());
    let read = 0;
    for (; i < messages.length && records < s.maxPerCommit; i++) {
      if (!deps.running() || !isRunning() || isStale() || groupTrouble()) { stop = true; break; }
      read++;
      const result = await processRecord(s, task, topic, partition, messages[i], deps.signal());
      if (result === 'stopped') { stop = true; break; }
      merge(out, result.messages);
      if (result.sourceTime !== undefined) sourceTimes.push(result.sourceTime);
      last = messages[i];
      records++;
    }
    // counted once a chunk (a labelled increment per record cost more than some handlers)
    if (read > 0) s.metrics.consumed.inc({ ...s.label, topic }, read);
    if (!last) break;
    // the batch's last chunk commits past the transaction markers that end it: a caught-up
    // processor shows no lag
    const through = !stop && i === messages.length ? batch.lastOffset() : last.offset;
    await commitChunk(deps.commit, task, { topic, partition, lastOffset: through, records, out }, payload);
    resolveOffset(through);
    task.handledTo.set(topic, BigInt(through) + 1n);
    task.floors.delete(topic); // past the takeover point: later seeks (e.g. a reset) are not second-guessed
    const now = Date.now();
    for (const t of sourceTimes) s.metrics.endToEndLatency.observe(s.label, Math.max(0, now - t) / 1000);
    s.metrics.lag.set({ ...s.label, topic, partition: String(partition) }, Math.max(0, Number(batch.highWatermark) - Number(through) - 1));
  }
}
