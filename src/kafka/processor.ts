import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type KafkaMessage, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { Registry } from 'prom-client';
import { createLogger, type Logger } from '../observability/logger.ts';
import { runtimeMetrics, type RuntimeMetrics } from '../observability/metrics.ts';
import { coPartitionedAssigner } from './assigner.ts';
import { buildDlqMessage, headerText, type DlqFailure } from './dlq.ts';
import { classifyError, DecodeError, errorMessage } from './errors.ts';
import { parseRetryPolicy, RetriesExhaustedError, withRetry, type RetryPolicy } from './retry.ts';
import { jsonCodec, PartitionStore, restorePartitions, type StateCodec, type StateView } from './state-store.ts';
import { changelogTopicFor, DLQ_TOPIC, ensureTopics, partitionCounts, type TopicSpec } from './topics.ts';
import { SOURCE_TIME_HEADER, type Output, type Processor, type ProcessorOptions, type RecordContext } from './types.ts';

/** What one partition number ("task") needs while this member owns it. */
interface Task<S> {
  partition: number;
  /** Transactional producer with id `<prefix>.<partition>` (transactional mode only). */
  producer?: Producer;
  store: PartitionStore<S>;
  /** Committed offset per input topic read after fencing: records below it are done already. */
  floors: Map<string, bigint>;
  /** Serializes batches of the same partition number from different input topics. */
  busy: Promise<void>;
}

/** The outcome of one record: what to produce, or a stop request (processor shutting down). */
type RecordResult = { messages: TopicMessages[]; sourceTime?: number } | 'stopped';

class NoState implements StateView<never> {
  constructor(private readonly name: string) {}
  private fail(): never {
    throw new Error(`processor ${this.name} has no state: pass \`state\` to createProcessor to use ctx.state`);
  }
  get(): undefined { return this.fail(); }
  has(): boolean { return this.fail(); }
  set(): void { this.fail(); }
  delete(): void { this.fail(); }
  get size(): number { return this.fail(); }
}

/** Errors that mean another member took this partition's transactional id over. */
function isFenced(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = err as { type?: string; cause?: unknown } | undefined; e && !seen.has(e); e = e.cause as typeof e) {
    seen.add(e);
    if (e.type === 'INVALID_PRODUCER_EPOCH' || e.type === 'PRODUCER_FENCED' || e.type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED') return true;
  }
  return false;
}

/**
 * Creates a stream processor: a kafkajs consumer-group member that hands each record to
 * `handle` and produces what it returns. See ProcessorOptions for delivery modes.
 *
 * Partitions are assigned by number across all input topics (co-partitioned). When this member
 * takes a partition number over it (1) fences the previous owner by initialising the
 * transactional producer `<prefix>.<partition>` (transactional mode), (2) restores the
 * partition's state from its changelog partition, (3) re-reads the group's committed offsets
 * and skips records below them, and only then processes. Revoked partitions drop their state.
 */
export function createProcessor<T = Buffer | null, S = unknown>(opts: ProcessorOptions<T, S>): Processor {
  if (opts.topics.length === 0) throw new Error(`processor ${opts.name}: no input topics`);
  const log: Logger = opts.logger ?? createLogger(`processor.${opts.name}`);
  const metrics: RuntimeMetrics = opts.metrics instanceof Registry ? runtimeMetrics(opts.metrics)
    : opts.metrics ?? runtimeMetrics(new Registry());
  const policy: RetryPolicy = parseRetryPolicy(opts.retry ?? {});
  const classify = opts.classifyError ?? classifyError;
  const decode = opts.decode ?? ((m: KafkaMessage) => m.value as T);
  const dlqTopic = opts.dlqTopic ?? DLQ_TOPIC;
  const changelogTopic = opts.state ? opts.state.changelogTopic ?? changelogTopicFor(opts.groupId) : undefined;
  const codec = (opts.state?.codec ?? jsonCodec) as StateCodec<S>;
  const maxPerCommit = opts.maxRecordsPerCommit ?? 500;
  const heartbeatInterval = opts.heartbeatInterval ?? 3_000;
  const txPrefix = opts.transactionalIdPrefix ?? opts.groupId;
  const label = { processor: opts.name };
  const noState = new NoState(opts.name);

  let abort = new AbortController();
  const tasks = new Map<number, Promise<Task<S>>>();
  const restored = new Set<number>();
  let owned: number[] = [];
  let joined = false;
  let running = false;
  let consumer: Consumer | undefined;
  let producer: Producer | undefined; // non-transactional outputs
  let admin: Admin | undefined;

  // ---- partition takeover / release -------------------------------------------------------

  async function fence(partition: number): Promise<Producer> {
    const p = opts.kafka.producer({
      transactionalId: `${txPrefix}.${partition}`,
      createPartitioner: Partitioners.DefaultPartitioner, // murmur2, as Java clients (Debezium, Connect) partition keys
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // starting a transaction right after the previous commit often meets CONCURRENT_TRANSACTIONS
      // while the broker writes the commit markers; kafkajs' default 300 ms first retry would add
      // that much latency to every such batch, so retry sooner (and more often)
      retry: { initialRetryTime: 20, retries: 12, maxRetryTime: 5_000 },
    });
    await p.connect();
    // the first transaction() runs InitProducerId for the transactional id: it bumps the epoch,
    // which fences any older producer with this id and aborts (or waits out) its open transaction
    const tx = await p.transaction();
    await tx.abort();
    return p;
  }

  async function fetchFloors(partitions: number[]): Promise<Map<number, Map<string, bigint>>> {
    const result = new Map(partitions.map((p) => [p, new Map<string, bigint>()]));
    const committed = await admin!.fetchOffsets({ groupId: opts.groupId, topics: opts.topics });
    for (const { topic, partitions: ps } of committed) {
      for (const { partition, offset } of ps) {
        const floors = result.get(partition);
        if (floors && Number(offset) >= 0) floors.set(topic, BigInt(offset));
      }
    }
    return result;
  }

  async function takeOverNow(partitions: number[]): Promise<Map<number, Task<S>>> {
    const started = Date.now();
    const fenced = opts.transactional ? await Promise.allSettled(partitions.map(fence)) : [];
    const producers = fenced.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      const failed = fenced.find((r) => r.status === 'rejected');
      if (failed) throw new Error(`processor ${opts.name}: fencing partitions ${partitions.join(', ')} failed: ${errorMessage(failed.reason)}`, { cause: failed.reason });
      const stores = changelogTopic
        ? await restorePartitions(opts.kafka, changelogTopic, partitions, codec, log)
        : new Map(partitions.map((p) => [p, new PartitionStore<S>(p, codec)]));
      const floors = opts.transactional ? await fetchFloors(partitions) : new Map<number, Map<string, bigint>>();
      metrics.restoreSeconds.observe(label, (Date.now() - started) / 1000);
      log.info({ partitions, ms: Date.now() - started }, 'partitions taken over');
      return new Map(partitions.map((p, i) => [p, {
        partition: p,
        producer: producers[i],
        store: stores.get(p)!,
        floors: floors.get(p) ?? new Map(),
        busy: Promise.resolve(),
      }]));
    } catch (err) {
      await Promise.all(producers.map((p) => p.disconnect().catch(() => undefined)));
      throw err;
    }
  }

  /** Starts taking the partitions over; each gets its own promise in `tasks`. */
  function takeOver(partitions: number[]): void {
    const all = takeOverNow(partitions);
    for (const p of partitions) {
      const one = all.then((m) => m.get(p)!);
      tasks.set(p, one);
      one.then(() => { if (tasks.get(p) === one) restored.add(p); }, (err: unknown) => {
        if (tasks.get(p) === one) tasks.delete(p);
        log.warn({ partition: p, err: errorMessage(err) }, 'taking a partition over failed; the next batch retries');
      });
    }
  }

  function taskFor(partition: number): Promise<Task<S>> {
    if (!tasks.has(partition)) takeOver([partition]);
    return tasks.get(partition)!;
  }

  async function release(partition: number): Promise<void> {
    const pending = tasks.get(partition);
    tasks.delete(partition);
    restored.delete(partition);
    if (!pending) return;
    const task = await pending.catch(() => undefined);
    await task?.producer?.disconnect().catch(() => undefined);
  }

  // ---- one record ---------------------------------------------------------------------------

  function toMessages(outputs: Output[], sourceTime: number | undefined): TopicMessages[] {
    const byTopic = new Map<string, Message[]>();
    for (const o of outputs) {
      if (!o.topic) throw new Error(`processor ${opts.name}: an output has no topic`);
      const headers = { ...(o.headers ?? {}) };
      if (sourceTime !== undefined && headers[SOURCE_TIME_HEADER] === undefined) headers[SOURCE_TIME_HEADER] = String(sourceTime);
      const list = byTopic.get(o.topic) ?? [];
      list.push({ key: o.key ?? null, value: o.value, headers, partition: o.partition, timestamp: o.timestamp });
      byTopic.set(o.topic, list);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  function deadLetter(topic: string, partition: number, message: KafkaMessage, failure: DlqFailure, err: unknown, attempts: number): RecordResult {
    const errorClass = err instanceof RetriesExhaustedError ? err.errorClass : classify(err);
    metrics.dlq.inc({ ...label, reason: failure });
    const cause = err instanceof RetriesExhaustedError ? err.lastError : err;
    log.warn({ topic, partition, offset: message.offset, failure, errorClass, attempts, err: errorMessage(cause) }, 'record sent to the dead-letter topic');
    const dlq = buildDlqMessage({ processor: opts.name, groupId: opts.groupId, failure, error: err, errorClass, attempts, topic, partition, message });
    return { messages: [{ topic: dlqTopic, messages: [dlq] }] };
  }

  async function processRecord(task: Task<S>, topic: string, partition: number, message: KafkaMessage): Promise<RecordResult> {
    metrics.consumed.inc({ ...label, topic });
    const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, headerText(v)]));
    const onRetry = ({ errorClass, retry, delayMs, error }: { errorClass: string; retry: number; delayMs: number; error: unknown }) => {
      metrics.retries.inc({ ...label, error_class: errorClass });
      log.debug({ topic, partition, offset: message.offset, errorClass, retry, delayMs, err: errorMessage(error) }, 'retrying record');
    };
    const retryHooks = { classify, onRetry, signal: abort.signal };

    let value: T;
    try {
      value = await withRetry(async () => {
        try {
          return await decode(message, topic);
        } catch (err) {
          const cls = classify(err);
          metrics.errors.inc({ ...label, error_class: cls === 'fatal' ? 'decode' : cls });
          throw policy.classes[cls] ? err : new DecodeError(`cannot decode ${topic}[${partition}]@${message.offset}: ${errorMessage(err)}`, { cause: err });
        }
      }, policy, retryHooks);
    } catch (err) {
      if (abort.signal.aborted) return 'stopped';
      const attempts = err instanceof RetriesExhaustedError ? err.attempts : 1;
      return deadLetter(topic, partition, message, 'decode', err, attempts);
    }

    const hinted = Number(headers[SOURCE_TIME_HEADER]);
    let sourceTime: number | undefined = Number.isFinite(hinted) && hinted > 0 ? hinted : undefined;
    const state: StateView<S> = changelogTopic ? task.store : noState as StateView<S>;
    try {
      const outputs = await withRetry(async (attempt) => {
        const ctx: RecordContext<T, S> = {
          topic, partition, offset: message.offset, timestamp: message.timestamp, key: message.key, value, headers, message,
          state, attempt, signal: abort.signal, log,
          setSourceTime: (ms) => { sourceTime = ms; },
        };
        try {
          return (await opts.handle(ctx)) ?? [];
        } catch (err) {
          task.store.discardRecord();
          metrics.errors.inc({ ...label, error_class: classify(err) });
          throw err;
        }
      }, policy, retryHooks);
      const messages = toMessages(outputs, sourceTime);
      task.store.acceptRecord();
      return { messages, sourceTime };
    } catch (err) {
      task.store.discardRecord();
      if (abort.signal.aborted) return 'stopped';
      const exhausted = err instanceof RetriesExhaustedError ? err : undefined;
      const errorClass = exhausted ? exhausted.errorClass : classify(err);
      const failure: DlqFailure = policy.classes[errorClass] ? 'retries-exhausted' : 'non-retryable';
      return deadLetter(topic, partition, message, failure, err, exhausted?.attempts ?? 1);
    }
  }

  // ---- commit a chunk ----------------------------------------------------------------------

  function merge(into: Map<string, Message[]>, messages: TopicMessages[]): void {
    for (const tm of messages) {
      const list = into.get(tm.topic) ?? [];
      list.push(...tm.messages);
      into.set(tm.topic, list);
    }
  }

  async function commitChunk(task: Task<S>, topic: string, partition: number, lastOffset: string, out: Map<string, Message[]>, payload: EachBatchPayload, records: number): Promise<void> {
    const started = Date.now();
    const next = (BigInt(lastOffset) + 1n).toString();
    const topicMessages: TopicMessages[] = [...out].map(([t, messages]) => ({ topic: t, messages }));
    if (changelogTopic && task.store.hasPendingWrites()) {
      topicMessages.push({
        topic: changelogTopic,
        messages: task.store.pendingChangelog().map((w) => ({ key: w.key, value: w.value, partition: task.partition })),
      });
    }
    if (opts.transactional) {
      const tx = await task.producer!.transaction();
      try {
        if (topicMessages.length > 0) await tx.sendBatch({ topicMessages, acks: -1 });
        await tx.sendOffsets({ consumerGroupId: opts.groupId, topics: [{ topic, partitions: [{ partition, offset: next }] }] });
        await opts.hooks?.beforeCommit?.({ topic, partition, records, lastOffset });
        await tx.commit();
      } catch (err) {
        await tx.abort().catch(() => undefined);
        task.store.abortBatch();
        const fenced = isFenced(err);
        metrics.transactions.inc({ ...label, result: fenced ? 'fenced' : 'aborted' });
        log.warn({ topic, partition, lastOffset, fenced, err: errorMessage(err), type: (err as { type?: string }).type },
          fenced ? 'fenced by a newer owner of this partition: transaction aborted, taking the partition over again' : 'transaction aborted');
        // the producer's state is unknown now: take the partition over again on the next batch
        await release(partition);
        throw new Error(`processor ${opts.name}: transaction for ${topic}[${partition}] up to offset ${lastOffset} failed: ${errorMessage(err)}`, { cause: err });
      }
    } else {
      try {
        if (topicMessages.length > 0) await producer!.sendBatch({ topicMessages, acks: -1 });
        await payload.commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: next }] }] });
      } catch (err) {
        task.store.abortBatch();
        metrics.transactions.inc({ ...label, result: 'failed' });
        log.warn({ topic, partition, lastOffset, err: errorMessage(err) }, 'producing or committing offsets failed: the chunk will be handled again');
        // part of the changelog may be written: restore the state from it before going on
        await release(partition);
        throw new Error(`processor ${opts.name}: committing ${topic}[${partition}] up to offset ${lastOffset} failed: ${errorMessage(err)}`, { cause: err });
      }
    }
    task.store.commitBatch();
    metrics.commitSeconds.observe(label, (Date.now() - started) / 1000);
    metrics.transactions.inc({ ...label, result: 'committed' });
    for (const [t, msgs] of out) metrics.produced.inc({ ...label, topic: t }, msgs.length);
  }

  // ---- the batch loop ----------------------------------------------------------------------

  async function eachBatch(payload: EachBatchPayload): Promise<void> {
    const task = await taskFor(payload.batch.partition);
    const run = task.busy.then(() => processBatch(task, payload));
    task.busy = run.catch(() => undefined);
    await run;
  }

  async function processBatch(task: Task<S>, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat } = payload;
    const { topic, partition } = batch;
    let messages = batch.messages;
    const floor = task.floors.get(topic);
    if (floor !== undefined) {
      messages = messages.filter((m) => BigInt(m.offset) >= floor);
      if (messages.length === 0) {
        // everything here was committed by a previous owner after our fetch position was set
        if (BigInt(batch.lastOffset()) < floor) consumer!.seek({ topic, partition, offset: floor.toString() });
        else resolveOffset(batch.lastOffset());
        return;
      }
      if (messages.length < batch.messages.length) resolveOffset((floor - 1n).toString());
    }

    // keep the membership alive while handlers run (kafkajs heartbeats only between batches);
    // a heartbeat error (rebalance, lost membership) ends the batch after committing what is done
    let groupError: unknown;
    const keepalive = setInterval(() => {
      heartbeat().catch((err: unknown) => { groupError ??= err; });
    }, heartbeatInterval);
    try {
      await processRecords(task, payload, messages, () => groupError !== undefined);
    } finally {
      clearInterval(keepalive);
    }
    if (groupError !== undefined) throw groupError;
  }

  async function processRecords(task: Task<S>, payload: EachBatchPayload, messages: KafkaMessage[], groupTrouble: () => boolean): Promise<void> {
    const { batch, resolveOffset, isRunning, isStale } = payload;
    const { topic, partition } = batch;
    let i = 0;
    let stop = false;
    while (i < messages.length && !stop) {
      const out = new Map<string, Message[]>();
      const sourceTimes: number[] = [];
      let last: KafkaMessage | undefined;
      let records = 0;
      for (; i < messages.length && records < maxPerCommit; i++) {
        if (!running || !isRunning() || isStale() || groupTrouble()) { stop = true; break; }
        const result = await processRecord(task, topic, partition, messages[i]);
        if (result === 'stopped') { stop = true; break; }
        merge(out, result.messages);
        if (result.sourceTime !== undefined) sourceTimes.push(result.sourceTime);
        last = messages[i];
        records++;
      }
      if (!last) break;
      await commitChunk(task, topic, partition, last.offset, out, payload, records);
      resolveOffset(last.offset);
      task.floors.delete(topic); // past the takeover point: later seeks (e.g. a reset) are not second-guessed
      const now = Date.now();
      for (const t of sourceTimes) metrics.endToEndLatency.observe(label, Math.max(0, now - t) / 1000);
      metrics.lag.set({ ...label, topic, partition: String(partition) }, Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1));
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async function start(): Promise<void> {
    if (running) return;
    try {
      await startNow();
    } catch (err) {
      running = false;
      await consumer?.disconnect().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      await admin?.disconnect().catch(() => undefined);
      throw err;
    }
  }

  async function startNow(): Promise<void> {
    abort = new AbortController();
    admin = opts.kafka.admin();
    await admin.connect();
    const counts = await partitionCounts(admin, opts.topics).catch((err: unknown) => {
      throw new Error(`processor ${opts.name}: cannot read input topics ${opts.topics.join(', ')}: ${errorMessage(err)}`, { cause: err });
    });
    const missing = opts.topics.filter((t) => !counts.get(t));
    if (missing.length > 0) throw new Error(`processor ${opts.name}: input topic(s) missing: ${missing.join(', ')}`);
    if (opts.outputTopics?.length) {
      const existing = new Set(await admin.listTopics());
      const absent = opts.outputTopics.filter((t) => !existing.has(t));
      if (absent.length > 0) throw new Error(`processor ${opts.name}: output topic(s) missing: ${absent.join(', ')} (create them first, e.g. with ensureTopics)`);
    }
    const maxPartitions = Math.max(...counts.values());
    if (opts.createTopics ?? true) {
      const specs: TopicSpec[] = [{ topic: dlqTopic, partitions: 1, replicationFactor: opts.replicationFactor }];
      if (changelogTopic) specs.push({ topic: changelogTopic, partitions: maxPartitions, compacted: true, replicationFactor: opts.replicationFactor });
      await ensureTopics(admin, specs);
    }
    if (!opts.transactional) {
      producer = opts.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
    }
    consumer = opts.kafka.consumer({
      groupId: opts.groupId,
      partitionAssigners: [coPartitionedAssigner],
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: opts.sessionTimeout ?? 30_000,
      heartbeatInterval,
      maxWaitTimeInMs: 500,
    });
    const c = consumer;
    let memberId: string | undefined;
    c.on(c.events.GROUP_JOIN, (e) => {
      const assigned = [...new Set(Object.values(e.payload.memberAssignment).flat())].sort((a, b) => a - b);
      // a new member id means we were out of the group (session expired, consumer restarted):
      // another member may have owned our partitions meanwhile, so nothing we hold is trusted
      const rejoined = memberId !== undefined && memberId !== e.payload.memberId;
      memberId = e.payload.memberId;
      for (const p of [...tasks.keys()]) if (rejoined || !assigned.includes(p)) void release(p);
      const fresh = assigned.filter((p) => !tasks.has(p));
      if (fresh.length > 0) takeOver(fresh);
      owned = assigned;
      joined = true;
      metrics.assignedPartitions.set(label, assigned.length);
      log.info({ partitions: assigned, memberId: e.payload.memberId }, 'joined the group');
    });
    c.on(c.events.REBALANCING, () => { joined = false; });
    c.on(c.events.STOP, () => { joined = false; });
    c.on(c.events.CRASH, (e) => {
      joined = false;
      log.error({ err: errorMessage(e.payload.error), restart: e.payload.restart }, e.payload.restart ? 'consumer crashed; kafkajs restarts it' : 'consumer crashed for good');
      if (!e.payload.restart) opts.onFatalError?.(e.payload.error);
    });
    await c.connect();
    await c.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
    running = true;
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch,
    });
    log.info({ topics: opts.topics, groupId: opts.groupId, transactional: opts.transactional }, 'processor started');
  }

  async function stop(): Promise<void> {
    if (!running) return;
    running = false;
    abort.abort(new Error(`processor ${opts.name} is stopping`));
    // disconnect() stops fetching, waits for the batch in hand (which commits what it did) and leaves the group
    await consumer?.disconnect();
    await Promise.all([...tasks.keys()].map(release));
    await producer?.disconnect();
    await admin?.disconnect();
    owned = [];
    metrics.assignedPartitions.set(label, 0);
    log.info('processor stopped');
  }

  return {
    name: opts.name,
    start,
    stop,
    ready: () => running && joined && owned.every((p) => restored.has(p)),
    assignedPartitions: () => [...owned],
  };
}
