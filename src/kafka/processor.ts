import { Partitioners, type Admin, type Consumer, type Producer } from 'kafkajs';
import { coPartitionedAssigner } from './assigner.ts';
import { errorMessage } from './errors.ts';
import { onMarkerBatches } from './markers.ts';
import { batchLoop } from './processor/batch-loop.ts';
import { commitPastMarkers, type CommitDeps } from './processor/commit.ts';
import { Punctuator } from './processor/punctuate.ts';
import { resolveSettings } from './processor/settings.ts';
import { Tasks } from './processor/task.ts';
import { ensureTopics, partitionCounts, type TopicSpec, subscribeWhenKnown } from './topics.ts';
import type { Processor, ProcessorOptions } from './types.ts';

/** How often an owned partition whose takeover failed is taken over again. */
const RETAKE_INTERVAL_MS = 2_000;

/**
 * Creates a stream processor: a kafkajs consumer-group member that hands each record to
 * `handle` and produces what it returns. See ProcessorOptions for delivery modes.
 *
 * Partitions are assigned by number across all input topics (co-partitioned). When this member
 * takes a partition number over it (1) fences the previous owner by initialising the
 * transactional producer `<prefix>.<partition>` (transactional mode), (2) restores the
 * partition's state from its changelog partition, (3) re-reads the group's committed offsets
 * and skips records below them, and only then processes. Revoked partitions drop their state.
 *
 * The parts, in src/kafka/processor/: settings.ts (options and defaults), fencing.ts (the
 * transactional producer per partition), task.ts (take over / release a partition), record.ts
 * and dead-letter.ts (one record), commit.ts (one chunk, one punctuation), batch-loop.ts
 * (eachBatch), punctuate.ts (punctuations). This file is the lifecycle: start, stop, ready,
 * group membership, the punctuation ticker.
 */
export function createProcessor<T = Buffer | null, S = unknown>(opts: ProcessorOptions<T, S>): Processor {
  const s = resolveSettings(opts);
  const { log, metrics, label } = s;

  let abort = new AbortController();
  let owned: number[] = [];
  let joined = false;
  /** The consumer crashed and kafkajs gave up restarting it. */
  let dead = false;
  let running = false;
  let consumer: Consumer | undefined;
  let producer: Producer | undefined; // non-transactional outputs
  let admin: Admin | undefined;
  const tasks = new Tasks<S>(s, () => admin!);
  const commit: CommitDeps<S> = { s, producer: () => producer, release: (p) => tasks.release(p) };
  const eachBatch = batchLoop({ s, tasks, commit, consumer: () => consumer!, running: () => running, signal: () => abort.signal });
  const punctuator = opts.punctuate ? new Punctuator<S>({ s, punctuation: opts.punctuate, tasks, commit, running: () => running }) : undefined;
  let ticker: NodeJS.Timeout | undefined;
  let retaker: NodeJS.Timeout | undefined;

  async function start(): Promise<void> {
    if (running) return;
    try {
      await startNow();
    } catch (err) {
      running = false;
      clearInterval(ticker);
      clearInterval(retaker);
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
      const specs: TopicSpec[] = [{ topic: s.dlqTopic, partitions: 1, replicationFactor: opts.replicationFactor }];
      if (s.changelogTopic) specs.push({ topic: s.changelogTopic, partitions: maxPartitions, compacted: true, replicationFactor: opts.replicationFactor });
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
      heartbeatInterval: s.heartbeatInterval,
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
      for (const p of tasks.partitions()) if (rejoined || !assigned.includes(p)) void tasks.release(p);
      const fresh = assigned.filter((p) => !tasks.has(p));
      if (fresh.length > 0) tasks.takeOver(fresh);
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
      if (!e.payload.restart) {
        dead = true;
        opts.onFatalError?.(e.payload.error);
      }
    });
    onMarkerBatches(c, (markers) => {
      const task = tasks.current(markers.partition);
      if (!task || !running) return;
      task.busy = task.busy.then(() => commitPastMarkers(commit, task, markers, c));
    });
    await c.connect();
    await subscribeWhenKnown(c, { topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
    running = true;
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch,
    });
    if (punctuator) ticker = setInterval(() => { if (running && joined) punctuator.tick(owned); }, opts.punctuate!.intervalMs);
    // an owned partition whose takeover failed (its coordinator not elected yet) is taken over again
    // without waiting for a record: an idle partition must not leave the processor unready
    retaker = setInterval(() => {
      if (!running || !joined) return;
      const missing = owned.filter((p) => !tasks.has(p));
      if (missing.length > 0) tasks.takeOver(missing);
    }, RETAKE_INTERVAL_MS);
    log.info({ topics: opts.topics, groupId: opts.groupId, transactional: opts.transactional }, 'processor started');
  }

  async function stop(): Promise<void> {
    if (!running) return;
    running = false;
    abort.abort(new Error(`processor ${opts.name} is stopping`));
    clearInterval(ticker);
    clearInterval(retaker);
    if (punctuator && consumer) {
      // no new batches; the batch in hand commits what it did, then each partition's final
      // punctuation runs in its turn, before the group is left
      try {
        consumer.pause(opts.topics.map((topic) => ({ topic })));
      } catch (err) {
        log.debug({ err: errorMessage(err) }, 'pausing before the final punctuation failed');
      }
      await punctuator.final(owned);
    }
    // disconnect() stops fetching, waits for the batch in hand (which commits what it did) and leaves the group
    await consumer?.disconnect();
    await Promise.all(tasks.partitions().map((p) => tasks.release(p)));
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
    ready: () => running && joined && owned.every((p) => tasks.isRestored(p)),
    live: () => !dead,
    assignedPartitions: () => [...owned],
  };
}
