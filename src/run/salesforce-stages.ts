import type { Connection } from 'jsforce';
import { salesforceWriteResult, writeResultEvent } from '../audit/write-results.ts';
import { createDriftScheduler } from '../drift/schedule.ts';
import type { AuditEvent } from '../reconcile/audit.ts';
import type { SalesforceWrite } from '../entities/types.ts';
import { enabledEntities } from '../entities/index.ts';
import { InfraError, isInfrastructureSalesforceCode, RecordTransientError, TransientError } from '../kafka/errors.ts';
import { flowLatencyMetric, observeApplied } from '../observability/flow-latency.ts';
import { createBatchSink, type ItemResult, type Settled } from '../kafka/sink/batch-sink.ts';
import { connectSalesforce } from '../salesforce/auth/connection.ts';
import { createSalesforceSink, type SalesforceSink, type WriteOutcome } from '../salesforce/sink/index.ts';
import { isRecordTransient } from '../salesforce/sink/errors.ts';
import { ReplayGuard } from '../salesforce/sink/replay-guard.ts';
import { REPLAYED_HEADER } from '../kafka/dlq.ts';
import { createSalesforceSource, type SalesforceSourceStatus } from '../salesforce/source/index.ts';
import { initialLoadStage } from './initial-load.ts';
import { killPoint } from './kill-point.ts';
import { untilOrgRead } from './org-read-gate.ts';
import { withPause, type SharedPieces, type Stage } from './pipeline.ts';

/** One logged-in Salesforce connection per process, made on first use (jsforce re-logs in itself). */
export function lazyConnection(config: SharedPieces['config']): () => Promise<Connection> {
  let pending: Promise<Connection> | undefined;
  return () => {
    pending ??= connectSalesforce(config.salesforce).catch((err) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

/** The Salesforce objects of the enabled flows (what the source subscribes to). */
export function salesforceObjects(config: SharedPieces['config']): string[] {
  return [...new Set(enabledEntities(config).flatMap((e) => Object.keys(e.flow.salesforce)))];
}

/**
 * The objects both sides change and we write as absolute values (merged by delta, stock): a write of
 * ours to one of them must not land before the org's changes to it are read, or they are lost.
 */
export function deltaMergedObjects(config: SharedPieces['config']): Set<string> {
  return new Set(enabledEntities(config).filter((e) => e.hooks.deltaField).flatMap((e) => Object.keys(e.flow.salesforce)));
}

/**
 * The source is ready while it runs and none of its channels is failing to subscribe (backoff) or
 * stopped: a channel that cannot subscribe (CDC switched off, access refused) makes it unready.
 */
export function channelsReady(status: SalesforceSourceStatus): boolean {
  return status.running && status.channels.every((c) => c.state !== 'backoff' && c.state !== 'stopped');
}

type Final = { ok: true } | { ok: false; reason: string };

/**
 * The error a chunk with retryable outcomes is retried with: the org's set-up at fault (a field
 * unknown or read-only, no access, no session) pauses the stage; a record-level one (the batch sink
 * isolates the record once its budget is spent) only when every retryable outcome is the record's
 * own trouble; otherwise the whole chunk is retried.
 */
function retryError(outcomes: WriteOutcome[]): Error | undefined {
  const retryable = outcomes.flatMap((o) => (o.status === 'retryable' ? [o] : []));
  if (retryable.length === 0) return undefined;
  const first = retryable[0]!;
  const message = `${first.command.sobject} ${first.command.externalId}: ${first.error.errorCode} ${first.error.message}${retryable.length > 1 ? ` (and ${retryable.length - 1} more)` : ''}`;
  if (retryable.some((o) => isInfrastructureSalesforceCode(o.error.errorCode))) return new InfraError(message);
  return retryable.every((o) => isRecordTransient(o.error)) ? new RecordTransientError(message) : new TransientError(message);
}

/** A final sink outcome: done, retry the batch, or refused (DLQ). */
function finalResult(outcome: WriteOutcome): Final {
  switch (outcome.status) {
    case 'applied':
    case 'skipped':
    case 'coalesced':
      return { ok: true };
    case 'retryable': {
      const what = `${outcome.command.sobject} ${outcome.command.externalId}: ${outcome.error.errorCode} ${outcome.error.message}`;
      // a field unknown or read-only, no access, no session: the stage pauses (the org's set-up is at fault, not the record)
      if (isInfrastructureSalesforceCode(outcome.error.errorCode)) throw new InfraError(what);
      throw new TransientError(what);
    }
    case 'failed':
      return { ok: false, reason: `${outcome.reason} (${outcome.error.errorCode}: ${outcome.error.message}${outcome.error.fields.length ? ` [${outcome.error.fields.join(', ')}]` : ''})` };
    case 'parked':
      throw new Error('a parked outcome is not final');
  }
}

/**
 * The Salesforce stages: the change-event source (Salesforce -> sf.cdc.<Object>), the sink
 * (sync.out.salesforce -> Salesforce through sObject Collections / Bulk API 2.0), the initial load
 * of the org's records at the first start (backfill.initialLoad), and, when configured, the scheduled
 * drift checks (they read Salesforce with Bulk API 2.0 queries).
 */
export async function salesforceStages(shared: SharedPieces, conn: () => Promise<Connection>): Promise<Stage[]> {
  const { config, kafka, registry, metrics, log, names, audit, onAlert, pauseFor } = shared;
  const sinkPause = pauseFor('sf-sink');
  const source = createSalesforceSource({
    sfConfig: config.salesforce, objects: salesforceObjects(config), kafka, logger: log.child({ stage: 'sf-source' }),
    metrics: metrics.registry, initialReplay: 'EARLIEST', partitions: config.kafka.partitions, replication: config.kafka.replication,
    topicPrefix: names.sfCdcPrefix, checkpointTopic: names.sfCheckpoints, imageTopic: names.sfImagePrefix,
    betweenKafkaWriteAndCheckpoint: killPoint('sf-source-between-kafka-write-and-checkpoint'),
    // several copies of run: each channel is read by one of them, the others take it over if it goes
    sharing: { groupId: `${config.kafka.groupIdPrefix}.sf-source`, topic: names.sfChannels },
  });
  const merged = deltaMergedObjects(config);
  const betweenSalesforceWriteAndCommit = killPoint('sf-sink-between-salesforce-write-and-commit');

  let sink: SalesforceSink | undefined;
  const flowLatency = flowLatencyMetric(metrics.registry);
  const auditOf = (outcomes: WriteOutcome[]): AuditEvent[] => {
    const at = Date.now();
    return outcomes.flatMap((o) => {
      const details = salesforceWriteResult(o);
      if (!details) return [];
      observeApplied(flowLatency, o.command, details, at);
      return [writeResultEvent(o.command, details, { processor: 'sf-sink', at })];
    });
  };
  // a dead letter replayed after its record changed in Salesforce would put an old value back
  const replays = new ReplayGuard();
  const noteLanded = (outcome: WriteOutcome) => {
    if (outcome.status === 'applied' || (outcome.status === 'skipped' && outcome.reason === 'unchanged')) replays.landed(outcome.command);
  };
  // a parked child (its parent has not landed): its offset stays uncommitted until its final outcome
  const waiting = new Map<string, (r: Settled) => void>();
  let closing = false;
  const lateOutcome = (outcome: WriteOutcome) => {
    const settle = waiting.get(outcome.command.commandId);
    if (!settle || outcome.status === 'parked') return;
    waiting.delete(outcome.command.commandId);
    noteLanded(outcome);
    // a parked child that later fails with a retryable error is handed back: the sink re-delivers it;
    // one released because the stage is closing stays uncommitted, for the next run to read again
    if (outcome.status === 'retryable' && closing) return;
    if (outcome.status === 'retryable') settle({ ok: 'retry', reason: `${outcome.error.errorCode}: ${outcome.error.message}` });
    // its outcome is on sync.audit before its offset may be committed; if that fails, it is delivered again
    else audit.send(auditOf([outcome])).then(() => settle(finalResult(outcome)), (err: unknown) => settle({ ok: 'retry', reason: `its write result could not be audited: ${(err as Error).message}` }));
  };
  const itemResult = (outcome: WriteOutcome): ItemResult => {
    if (outcome.status !== 'parked') return finalResult(outcome);
    const id = outcome.command.commandId;
    let settle: ((r: Settled) => void) | undefined;
    const settled = new Promise<Settled>((resolve) => { settle = resolve; waiting.set(id, resolve); });
    // let go (partition revoked, group rejoined, stopping): this member writes it no more, the partition's owner reads it again
    const drop = () => {
      if (waiting.get(id) !== settle) return;
      waiting.delete(id);
      sink?.abandon(id);
    };
    return { ok: 'pending', settled, drop };
  };
  const writer = createBatchSink<SalesforceWrite>({
    name: 'sf-sink', kafka, groupId: `${config.kafka.groupIdPrefix}.sf-sink`, topic: names.salesforceCommands, dlqTopic: names.dlq,
    metrics, log: log.child({ processor: 'sf-sink' }), chunkSize: 2_000,
    // a parked child settles within parentTimeoutMs (plus its retries); one that never does is delivered again
    pendingTimeoutMs: 2 * config.sink.parentTimeoutMs + 5 * 60_000,
    decode: (m) => sinkPause.run(async () => {
      const command = await registry.decode<SalesforceWrite>(m.value!);
      replays.noteRead(command, m.headers?.[REPLAYED_HEADER] !== undefined);
      return command;
    }),
    write: (commands) => sinkPause.run(async () => {
      await untilOrgRead(commands.map((c) => c.sobject).filter((o) => merged.has(o)), (o) => source.caughtUp(o), () => closing, log);
      const { live, stale } = await replays.split(conn, commands);
      if (stale.size > 0) log.warn({ commandIds: [...stale] }, 'replayed dead letters older than their record\'s last change in Salesforce: not written, the newer value stays');
      sink ??= createSalesforceSink({ conn: await conn(), config: config.sink, logger: log.child({ stage: 'sf-sink' }), registry: metrics.registry, onLateOutcome: lateOutcome });
      const outcomes = live.length > 0 ? await sink.write(live) : [];
      replays.settled(commands);
      for (const outcome of outcomes) noteLanded(outcome);
      betweenSalesforceWriteAndCommit?.(live.map((c) => c.externalId));
      await audit.send(auditOf(outcomes));
      const retry = retryError(outcomes);
      if (retry) throw retry;
      let next = 0;
      return commands.map((c): ItemResult => (stale.has(c.commandId) ? { ok: true } : itemResult(outcomes[next++]!)));
    }),
  });

  // scheduled drift checks read Salesforce too; they send commands, so they stop before the sinks
  const drift = config.drift.schedule.enabled
    ? createDriftScheduler({ config, kafka, encode: (subject, value) => registry.encode(subject, value), conn, registry: metrics.registry, log: log.child({ stage: 'drift' }), onAlert })
    : undefined;
  return [
    { name: 'sf-source', role: 'source', start: () => source.start(), stop: () => source.stop(), ready: () => channelsReady(source.status()), sourceStatus: () => source.status() },
    ...(drift ? [{ name: 'drift', role: 'source' as const, start: () => drift.start(), stop: () => drift.stop(), ready: () => drift.ready() }] : []),
    withPause({
      name: 'sf-sink',
      role: 'sink',
      start: () => writer.start(),
      async stop() {
        closing = true;
        await writer.stop();
        // parked children were never committed: the next run reads them again
        await sink?.close();
      },
      ready: () => writer.ready(),
      live: () => writer.live(),
    }, sinkPause),
    initialLoadStage(shared, conn),
  ];
}
