/**
 * Drift checks on a schedule, inside `shopforce run`. Among the copies of run, the one that owns the
 * single partition of sync.drift.runs in the <groupIdPrefix>.drift group checks; the others wait (a
 * copy that stops hands the partition, and the schedule, to another). Each check's start and result
 * go to that compacted topic keyed by entity, so the next owner knows when each entity was last
 * checked. A check writes a DRIFT record per drifted key on sync.audit (and its repair, when
 * configured), sets shopforce_drift_records, and raises a drift alert when the sides are apart.
 */
import type { Connection } from 'jsforce';
import { Partitioners, type Consumer, type Kafka, type Producer } from 'kafkajs';
import type { Registry } from 'prom-client';
import type { ShopforceConfig } from '../config/schema.ts';
import { topicNames } from '../flows/topic-names.ts';
import type { Logger } from '../observability/logger.ts';
import type { Alert } from '../reconcile/types.ts';
import { scheduledEntities } from './config.ts';
import { runDriftJob } from './drift-job.ts';
import { driftMetrics, recordDriftRun } from './metrics.ts';
import { subscribeWhenKnown } from '../kafka/topics.ts';

/** The value of a record on sync.drift.runs (key: entity). */
export interface DriftRunRecord {
  entity: string;
  runId: string | null;
  startedAt: number;
  finishedAt: number | null;
  result: 'running' | 'clean' | 'drift' | 'failed';
  drift: number | null;
  error?: string;
}

export interface DriftSchedulerOptions {
  config: ShopforceConfig;
  kafka: Kafka;
  encode: (subject: string, value: unknown) => Promise<Buffer>;
  conn: () => Promise<Connection>;
  registry: Registry;
  log: Logger;
  onAlert: (entity: string, alert: Alert) => void;
  /** How often due checks are looked for (default: a tenth of the interval, at most 30 s). */
  tickMs?: number;
}

export interface DriftScheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Joined the group (owning the schedule or not). */
  ready(): boolean;
  /** This copy owns the schedule. */
  owner(): boolean;
}

export function createDriftScheduler(opts: DriftSchedulerOptions): DriftScheduler {
  const { config, kafka, log } = opts;
  const schedule = config.drift.schedule;
  const topic = topicNames(config.kafka.topicNamespace).driftRuns;
  const entities = scheduledEntities(config.drift, config.entities);
  const metrics = driftMetrics(opts.registry);
  const tickMs = opts.tickMs ?? Math.min(30_000, Math.max(1_000, schedule.intervalMs / 10));
  const lastStart = new Map<string, number>();
  let consumer: Consumer | undefined;
  let producer: Producer | undefined;
  let joined = false;
  let owning = false;
  /** The runs topic was read to where it ended when this copy got the partition. */
  let caughtUpTo: bigint | undefined;
  let readTo = -1n;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let abort = new AbortController();

  async function endOfRuns(): Promise<bigint> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return BigInt((await admin.fetchTopicOffsets(topic)).find((o) => o.partition === 0)?.high ?? '0');
    } finally {
      await admin.disconnect();
    }
  }

  async function record(r: DriftRunRecord): Promise<void> {
    await producer!.send({ topic, acks: -1, messages: [{ key: r.entity, value: JSON.stringify(r) }] });
  }

  async function check(entity: string): Promise<void> {
    const startedAt = Date.now();
    lastStart.set(entity, startedAt);
    await record({ entity, runId: null, startedAt, finishedAt: null, result: 'running', drift: null });
    try {
      const { report, output } = await runDriftJob(config, entity, { conn: await opts.conn(), kafka, encode: opts.encode }, { repair: schedule.repair, audit: true, signal: abort.signal });
      recordDriftRun(metrics, report, output?.repaired ?? 0);
      await record({ entity, runId: report.runId, startedAt, finishedAt: Date.now(), result: report.drift > 0 ? 'drift' : 'clean', drift: report.drift });
      const summary = `${report.counts.missing} missing, ${report.counts.different} different, ${report.counts.extra} extra`;
      if (report.drift === 0) {
        log.info({ entity, runId: report.runId, seconds: report.seconds, counts: report.counts }, `drift check of ${entity}: both sides agree`);
        return;
      }
      const message = `drift of ${entity}: ${summary} (run ${report.runId})${schedule.repair ? `; repair sent for ${output?.repaired ?? 0}` : '; see `shopforce drift` and the DRIFT records on sync.audit'}`;
      log.warn({ entity, runId: report.runId, counts: report.counts, fields: report.fields }, message);
      opts.onAlert(entity, { kind: 'drift', key: report.samples[0]?.key ?? '', message, fields: Object.keys(report.fields) });
    } catch (err) {
      if (abort.signal.aborted) return;
      metrics.runs.inc({ entity, result: 'failed' });
      log.error({ err, entity }, `drift check of ${entity} failed`);
      await record({ entity, runId: null, startedAt, finishedAt: Date.now(), result: 'failed', drift: null, error: (err as Error).message }).catch(() => undefined);
    }
  }

  function tick(): void {
    if (!owning || running || caughtUpTo === undefined || readTo + 1n < caughtUpTo) return;
    const due = entities.find((e) => Date.now() - (lastStart.get(e) ?? 0) >= schedule.intervalMs);
    if (!due) return;
    running = check(due).finally(() => { running = undefined; });
  }

  return {
    ready: () => joined,
    owner: () => owning,
    async start() {
      abort = new AbortController();
      producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      consumer = kafka.consumer({ groupId: `${config.kafka.groupIdPrefix}.drift`, allowAutoTopicCreation: false });
      consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
        joined = true;
        owning = (payload.memberAssignment[topic] ?? []).includes(0);
        caughtUpTo = undefined;
        if (!owning) return;
        // schedule only once the runs recorded so far are read: a restart does not check again at once
        void endOfRuns().then((end) => { caughtUpTo = end; },
          (err: unknown) => log.warn({ err }, 'could not read where the drift runs topic ends; the schedule waits for the next join'));
        log.info({ entities, intervalMs: schedule.intervalMs, repair: schedule.repair }, 'this copy runs the scheduled drift checks');
      });
      consumer.on(consumer.events.REBALANCING, () => { owning = false; });
      await consumer.connect();
      await subscribeWhenKnown(consumer, { topics: [topic], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            if (!m.value) continue;
            const r = JSON.parse(m.value.toString('utf8')) as DriftRunRecord;
            lastStart.set(r.entity, Math.max(lastStart.get(r.entity) ?? 0, r.startedAt));
          }
          readTo = BigInt(batch.lastOffset());
        },
      });
      timer = setInterval(tick, tickMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      abort.abort(new Error('stopping'));
      await running;
      owning = false;
      await consumer?.disconnect();
      await producer?.disconnect();
    },
  };
}
