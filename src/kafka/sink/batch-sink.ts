import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { Logger } from '../../observability/logger.ts';
import type { RuntimeMetrics } from '../../observability/metrics.ts';
import { buildDlqMessage, type DlqFailure } from '../dlq.ts';
import { classifyError, errorMessage, isRecordTransient } from '../errors.ts';
import { withKeepalive } from '../keepalive.ts';
import { onMarkerBatches } from '../markers.ts';
import { parseRetryPolicy, RetriesExhaustedError, withRetry, type RetryPolicyInput } from '../retry.ts';
import { PartitionProgress, type PendingToken, type Settled } from './progress.ts';
import { subscribeWhenKnown } from '../topics.ts';

export type { Settled } from './progress.ts';

/**
 * What happened to one item of a batch: done, refused for good (it goes to the DLQ), or not
 * settled yet (a child waiting for its parent): its offset is not committed until `settled`
 * resolves, so a crash meanwhile re-delivers it instead of losing it. `settled` may end in
 * 'retry': the partition is then read again from that item on (see createBatchSink). `drop` is
 * called when the sink lets go of the item unsettled (its partition revoked, the group rejoined,
 * the sink stopping, its partition read again from an earlier item): whoever holds it must not
 * write it any more, it is delivered again to the partition's owner.
 */
export type ItemResult = { ok: true } | { ok: false; reason: string } | { ok: 'pending'; settled: Promise<Settled>; drop?: () => void };

export interface BatchSinkOptions<T> {
  name: string;
  kafka: Kafka;
  groupId: string;
  topic: string;
  dlqTopic: string;
  decode(message: KafkaMessage): Promise<T>;
  /**
   * Applies the items (one result per item, in order); throws for a transient failure (retried).
   * A RecordTransientError that outlasts the retry budget splits the items to isolate the record.
   */
  write(items: T[]): Promise<ItemResult[]>;
  metrics: RuntimeMetrics;
  log: Logger;
  retry?: RetryPolicyInput;
  /** Items per write call (default 500). */
  chunkSize?: number;
  /** Consumer heartbeat interval, and how often the group is heartbeaten while write() runs (default 3000 ms). */
  heartbeatInterval?: number;
  /** Consumer session timeout (default 30000 ms). */
  sessionTimeout?: number;
  /** A pending item not settled after this is settled as 'retry' and delivered again (default 15 min). */
  pendingTimeoutMs?: number;
}

/** One item's result after the write, or its retry budget spent on a record-level transient failure. */
type WriteResult = ItemResult | { ok: 'exhausted'; error: RetriesExhaustedError };

export interface BatchSink {
  readonly name: string;
  start(): Promise<void>;
  /** Stops fetching, lets the write in hand finish and commits it, leaves the group; pending items stay uncommitted. */
  stop(): Promise<void>;
  ready(): boolean;
  /** False once the consumer crashed and kafkajs will not restart it (/healthz). */
  live(): boolean;
}

/**
 * A sink that writes outside Kafka (Salesforce, the shop database): reads its command topic in
 * batches, hands each chunk to `write`, sends refused items to the DLQ with the reason, and commits
 * the offsets only after the effects — at-least-once, made exactly-once by idempotent writes
 * (upserts by external id / guarded upserts). A transient failure is retried with backoff and
 * never skips a record, except a record-level one (RecordTransientError): when it outlasts the
 * retry budget the chunk is split in halves, each written with a fresh budget, until the failing
 * record is alone; it goes to the DLQ with the reason (failure `retries-exhausted`), its
 * neighbours land and the partition flows on.
 *
 * - The group is heartbeaten every heartbeatInterval while a write runs (quota holds, Bulk
 *   polling, retries). A heartbeat error (rebalance, lost membership) ends the batch after the
 *   chunk in hand; that chunk's commit carries the generation it was fetched in, so the broker
 *   refuses it if the partition may have moved on. Settles commit only for partitions owned in
 *   the current generation.
 * - The committed offset of a partition is the lowest pending item, else the end of the last
 *   handled chunk, and never moves backwards.
 * - A pending item whose `settled` ends in 'retry' (or rejects, or does not settle within
 *   pendingTimeoutMs) is delivered again: the consumer seeks back to it, so it and every later
 *   record of its partition are written again (idempotent writes, in order). Nothing stays
 *   uncommitted for the life of the process.
 * - A pending item let go unsettled (its partition revoked, the group rejoined, the sink
 *   stopping, a rewind past it) is dropped by its holder (`drop`): a member writes nothing of a
 *   partition it lost, parked items included; the partition's new owner reads them again.
 */
export function createBatchSink<T>(opts: BatchSinkOptions<T>): BatchSink {
  const policy = parseRetryPolicy(opts.retry ?? {});
  const label = { processor: opts.name };
  const heartbeatInterval = opts.heartbeatInterval ?? 3_000;
  const pendingTimeoutMs = opts.pendingTimeoutMs ?? 15 * 60_000;
  const log = opts.log;
  let abort = new AbortController();
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  /** Joined once (readiness). */
  let joined = false;
  /** A member of the current generation (no rebalance under way): late commits only then. */
  let inGroup = false;
  let running = false;
  /** The consumer crashed and kafkajs gave up restarting it. */
  let dead = false;
  /** The partitions owned since the last group join. */
  const progress = new Map<number, PartitionProgress>();

  function progressOf(partition: number): PartitionProgress {
    let p = progress.get(partition);
    if (!p) {
      p = new PartitionProgress(opts.topic, partition);
      progress.set(partition, p);
    }
    return p;
  }

  /** Runs `work` in the partition's turn (after its batch in hand, settles before it). */
  function inTurn(p: PartitionProgress, work: () => Promise<void>): Promise<void> {
    const run = p.busy.then(work);
    p.busy = run.catch(() => undefined);
    return run;
  }

  async function toDlq(message: KafkaMessage, partition: number, error: unknown, failure: DlqFailure, attempts = 1): Promise<void> {
    await producer!.send({
      topic: opts.dlqTopic,
      acks: -1,
      messages: [buildDlqMessage({ processor: opts.name, groupId: opts.groupId, failure, error, errorClass: classifyError(error), attempts, topic: opts.topic, partition, message })],
    });
    opts.metrics.dlq.inc({ ...label, reason: failure });
  }

  /** Commits the partition's commit point outside a batch (settles moved it), if still owned; one queued at a time. */
  function commitLate(p: PartitionProgress): void {
    if (p.lateCommitQueued) return;
    p.lateCommitQueued = true;
    void inTurn(p, async () => {
      p.lateCommitQueued = false;
      const target = p.toCommit();
      if (target === undefined || !p.live || !inGroup || !running) return;
      try {
        await consumer!.commitOffsets([{ topic: p.topic, partition: p.partition, offset: String(target) }]);
        p.committedTo(target);
        opts.metrics.transactions.inc({ ...label, result: 'committed' });
      } catch (err) {
        log.warn({ partition: p.partition, offset: String(target), err: errorMessage(err) }, 'committing after a settle failed; the next commit of the partition carries it');
      }
    });
  }

  /** A pending item's outcome arrived: DLQ it, or deliver it again, then move the commit point. */
  function onSettled(p: PartitionProgress, message: KafkaMessage, token: PendingToken, result: Settled): void {
    const offset = BigInt(message.offset);
    if (!p.isPending(offset, token)) return;
    void inTurn(p, async () => {
      // revoked, rejoined or rewound meanwhile: it is delivered again anyway
      if (!p.isPending(offset, token) || !running) return;
      if (result.ok === false) {
        try {
          await toDlq(message, p.partition, new Error(result.reason), 'non-retryable');
        } catch (err) {
          result = { ok: 'retry', reason: `could not dead-letter it: ${errorMessage(err)}` };
        }
        if (!p.isPending(offset, token) || !running) return;
      }
      if (result.ok === 'retry') {
        opts.metrics.retries.inc({ ...label, error_class: 'pending' });
        log.warn({ partition: p.partition, offset: message.offset, reason: result.reason }, 'a pending item will be delivered again: reading the partition again from it');
        p.settle(offset);
        p.rewind(offset);
        consumer!.seek({ topic: p.topic, partition: p.partition, offset: message.offset });
      } else {
        p.settle(offset);
      }
      commitLate(p);
    });
  }

  /**
   * Writes the items under the retry policy. A record-level transient failure past its budget
   * halves them (each half with a fresh budget) until the failing record is alone: it comes back
   * as 'exhausted', its neighbours with their own results, in order.
   */
  async function writeChunk(items: T[], partition: number): Promise<WriteResult[] | 'stopped'> {
    try {
      return await withRetry(() => opts.write(items), policy, {
        signal: abort.signal,
        onRetry: ({ error, errorClass, delayMs }) => {
          opts.metrics.retries.inc({ ...label, error_class: errorClass });
          log.warn({ err: String(error), errorClass, delayMs, partition }, 'sink write failed; retrying');
        },
      });
    } catch (err) {
      if (abort.signal.aborted) return 'stopped';
      if (!(err instanceof RetriesExhaustedError) || !isRecordTransient(err)) throw err;
      if (items.length === 1) return [{ ok: 'exhausted', error: err }];
      const half = Math.ceil(items.length / 2);
      log.warn({ partition, items: items.length, err: errorMessage(err) }, 'a record keeps failing: splitting the write to isolate it');
      opts.metrics.retries.inc({ ...label, error_class: 'split' });
      const first = await writeChunk(items.slice(0, half), partition);
      if (first === 'stopped') return first;
      const second = await writeChunk(items.slice(half), partition);
      if (second === 'stopped') return second;
      return [...first, ...second];
    }
  }

  async function handleBatch(p: PartitionProgress, payload: EachBatchPayload, groupTrouble: () => boolean): Promise<void> {
    const { batch, resolveOffset, commitOffsetsIfNecessary, isRunning, isStale } = payload;
    const size = opts.chunkSize ?? 500;
    for (let i = 0; i < batch.messages.length; i += size) {
      if (!running || !p.live || !isRunning() || isStale() || groupTrouble()) return;
      const chunk = batch.messages.slice(i, i + size);
      const decoded: Array<{ message: KafkaMessage; item: T }> = [];
      for (const message of chunk) {
        opts.metrics.consumed.inc({ ...label, topic: opts.topic });
        try {
          decoded.push({ message, item: await opts.decode(message) });
        } catch (err) {
          if (abort.signal.aborted) return; // stopping (a paused decode let go): not committed, read again
          await toDlq(message, batch.partition, err, 'decode');
        }
      }
      const results = decoded.length === 0 ? [] : await writeChunk(decoded.map((d) => d.item), batch.partition);
      if (results === 'stopped') return; // not committed: delivered again on the next start
      for (let j = 0; j < decoded.length; j++) {
        const r = results[j];
        const message = decoded[j]!.message;
        if (r?.ok === false) await toDlq(message, batch.partition, new Error(r.reason), 'non-retryable');
        else if (r?.ok === 'exhausted') await toDlq(message, batch.partition, r.error, 'retries-exhausted', r.error.attempts);
        else if (r?.ok === 'pending') p.park(BigInt(message.offset), r.settled, pendingTimeoutMs, (token, final) => onSettled(p, message, token, final), r.drop);
      }
      // the batch's last chunk goes past the transaction markers that end it: a caught-up sink shows no lag
      const through = i + size >= batch.messages.length ? batch.lastOffset() : chunk[chunk.length - 1]!.offset;
      resolveOffset(through);
      p.handled(through);
      const target = p.toCommit();
      if (target !== undefined) {
        // the generation this batch was fetched in: refused by the broker if the group moved on
        await commitOffsetsIfNecessary({ topics: [{ topic: opts.topic, partitions: [{ partition: batch.partition, offset: String(target) }] }] });
        p.committedTo(target);
      }
      opts.metrics.transactions.inc({ ...label, result: 'committed' });
    }
  }

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const p = progressOf(payload.batch.partition);
    // heartbeats go on while write() runs; one failing ends the batch after the chunk in hand
    await withKeepalive(payload.heartbeat, heartbeatInterval, (groupTrouble) => inTurn(p, () => handleBatch(p, payload, groupTrouble)));
  }

  function onGroupJoin(assignment: Record<string, number[]>, member: string): void {
    // after any join kafkajs reads every partition again from its committed offset: what this
    // member tracked (positions, pending items) is delivered again, so start afresh
    for (const p of progress.values()) p.close();
    progress.clear();
    joined = true;
    inGroup = true;
    log.info({ partitions: assignment[opts.topic] ?? [], memberId: member }, 'joined the group');
  }

  return {
    name: opts.name,
    ready: () => joined,
    live: () => !dead,
    async start(): Promise<void> {
      abort = new AbortController();
      producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      consumer = opts.kafka.consumer({ groupId: opts.groupId, allowAutoTopicCreation: false, heartbeatInterval, sessionTimeout: opts.sessionTimeout ?? 30_000 });
      // a caught-up sink commits past the transaction markers ending its input, so it shows no lag
      onMarkerBatches(consumer, (m) => {
        const p = progressOf(m.partition);
        if (p.live && p.passedMarkers(m.firstOffset, m.lastOffset)) commitLate(p);
      });
      consumer.on(consumer.events.GROUP_JOIN, (e) => onGroupJoin(e.payload.memberAssignment, e.payload.memberId));
      consumer.on(consumer.events.REBALANCING, () => { inGroup = false; });
      consumer.on(consumer.events.STOP, () => { inGroup = false; });
      consumer.on(consumer.events.CRASH, (e) => {
        inGroup = false;
        if (!e.payload.restart) {
          dead = true;
          log.error({ err: errorMessage(e.payload.error) }, 'consumer crashed for good');
        }
      });
      await consumer.connect();
      await subscribeWhenKnown(consumer, { topics: [opts.topic], fromBeginning: true });
      running = true;
      await consumer.run({ eachBatchAutoResolve: false, autoCommit: false, eachBatch });
    },
    async stop(): Promise<void> {
      running = false;
      abort.abort(new Error(`${opts.name} stopping`));
      await consumer?.disconnect();
      for (const p of progress.values()) p.close();
      progress.clear();
      await producer?.disconnect();
    },
  };
}
