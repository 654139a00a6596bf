/**
 * `shopforce backfill <entity> --to salesforce|shop`: loads what one side already holds into the other,
 * generic over the entity definitions (src/entities/index.ts), resumable from its checkpoint, handing
 * every record over to the reconciler with its own position (docs/design.md, "Backfill").
 */
import { randomUUID } from 'node:crypto';
import type { Connection } from 'jsforce';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { Registry } from 'prom-client';
import type { SchemaCatalogClient } from '../avro/registry.ts';
import type { ShopforceConfig } from '../config/schema.ts';
import { sidesMastering } from '../entities/config-section.ts';
import { enabledEntities, ENTITY_NAMES } from '../entities/index.ts';
import { topicNames } from '../flows/topic-names.ts';
import type { Logger } from '../observability/logger.ts';
import { ensurePipelineTopics } from '../run/topics.ts';
import type { CallPolicy } from '../salesforce/sink/call.ts';
import { sinkMetrics } from '../salesforce/sink/metrics.ts';
import { QuotaGuard } from '../salesforce/sink/quota.ts';
import { BackfillCheckpoints, type Checkpoint, type Direction } from './checkpoints.ts';
import { HandOver } from './handover.ts';
import type { Progress } from './progress.ts';
import type { BackfillRun, RunCounts } from './run.ts';
import { backfillToSalesforce } from './to-salesforce.ts';
import { backfillToShop } from './to-shop.ts';

export type { Direction } from './checkpoints.ts';
export { BackfillCheckpoints } from './checkpoints.ts';
export { progressFor, lineProgress, type Progress } from './progress.ts';

export interface BackfillRequest {
  entity: string;
  to: Direction;
  /** Only records changed since (epoch ms); null: all. A running backfill resumes with its own. */
  since: number | null;
  /** Drop a running backfill's checkpoint and start again. */
  restart?: boolean;
}

export interface BackfillDeps {
  config: ShopforceConfig;
  kafka: Kafka;
  registry: SchemaCatalogClient;
  conn: () => Promise<Connection>;
  /** The shop database (shop -> Salesforce). */
  pool?: pg.Pool;
  log: Logger;
  progress: (label: string) => Progress;
  signal?: AbortSignal;
}

export interface BackfillReport extends RunCounts {
  entity: string;
  to: Direction;
  run: string;
  /** Records gone through (main rows, or Salesforce records), and where a resumed run started. */
  records: number;
  resumedFrom: number;
  state: 'done' | 'interrupted';
  /** Salesforce API calls, by API ("bulk", "query") and operation. */
  apiCalls: number;
  callsByOperation: Record<string, number>;
  ms: number;
}

/** Why `entity` cannot be backfilled `to` that side, or undefined when it can. */
export function refusal(config: ShopforceConfig, entity: string, to: Direction): string | undefined {
  if (!(ENTITY_NAMES as readonly string[]).includes(entity)) return `unknown entity "${entity}" (known: ${ENTITY_NAMES.join(', ')})`;
  const section = (config.entities as Record<string, Parameters<typeof sidesMastering>[0]>)[entity]!;
  if (!section.enabled) return `entities.${entity}.enabled is false: no reconciler would take over what the backfill hands over`;
  const from = to === 'salesforce' ? 'shop' : 'salesforce';
  if (!sidesMastering(section).has(from)) return `the ${from} masters no field of ${entity}: a backfill to ${to} would write over its master's values`;
  return undefined;
}

export async function runBackfill(deps: BackfillDeps, req: BackfillRequest): Promise<BackfillReport> {
  const started = Date.now();
  const { config, kafka, log } = deps;
  const refused = refusal(config, req.entity, req.to);
  if (refused) throw new Error(`backfill ${req.entity} --to ${req.to}: ${refused}`);
  const entity = enabledEntities(config).find((e) => e.name === req.entity)!;
  const names = topicNames(config.kafka.topicNamespace);

  await ensurePipelineTopics(kafka, config);
  const checkpoints = await new BackfillCheckpoints(kafka, names.backfillCheckpoints).load();
  const previous = checkpoints.get(req.entity, req.to);
  const resume = previous?.state === 'running' && !req.restart;
  const checkpoint: Checkpoint = resume ? previous : {
    entity: req.entity, to: req.to, run: randomUUID().slice(0, 8), since: req.since, startedAt: Date.now(), updatedAt: Date.now(),
    state: 'running', done: 0, total: null,
  };
  const resumedFrom = resume ? previous.done : 0;
  if (resume) log.info({ entity: req.entity, to: req.to, run: checkpoint.run, done: resumedFrom }, 'resuming the backfill from its checkpoint');

  const conn = await deps.conn();
  const metrics = new Registry();
  const policy: CallPolicy = {
    quota: new QuotaGuard(conn, { reservePercent: config.sink.quotaReservePercent, throttleMaxDelayMs: 30_000, probeIntervalMs: 60_000 }, log),
    metrics: sinkMetrics(metrics), log, maxRetries: config.sink.maxRetries, minDelayMs: 500, maxDelayMs: 30_000,
    // an upload of a large chunk takes its time
    timeoutMs: 600_000,
  };
  const handover = await HandOver.connect(kafka, names, `backfill-${req.entity}`);
  const progress = deps.progress(`backfill ${req.entity} -> ${req.to}`);
  const run: BackfillRun = {
    config, entity, names, conn, policy, metrics, registry: deps.registry, handover, checkpoints, checkpoint, progress, log,
    signal: deps.signal ?? new AbortController().signal,
  };
  let counts: RunCounts;
  try {
    await checkpoints.write(handover.kafkaProducer, checkpoint);
    if (req.to === 'salesforce' && !deps.pool) throw new Error('a backfill to Salesforce reads the shop database: no pool given');
    counts = req.to === 'salesforce' ? await backfillToSalesforce(run, deps.pool!) : await backfillToShop(run);
    if (!run.signal.aborted) {
      checkpoint.state = 'done';
      await checkpoints.write(handover.kafkaProducer, checkpoint);
    }
    progress.stop(run.signal.aborted ? 'interrupted: run it again to resume' : 'done');
  } catch (err) {
    progress.stop(`failed: ${(err as Error).message}`);
    throw err;
  } finally {
    policy.quota.close();
    await handover.close();
  }
  const calls = await policy.metrics!.apiCalls.get();
  const callsByOperation: Record<string, number> = {};
  for (const v of calls.values) {
    const label = `${v.labels.api} ${v.labels.operation}`;
    callsByOperation[label] = (callsByOperation[label] ?? 0) + v.value;
  }
  return {
    entity: req.entity, to: req.to, run: checkpoint.run, records: checkpoint.done, resumedFrom,
    state: checkpoint.state === 'done' ? 'done' : 'interrupted', ...counts,
    apiCalls: Object.values(callsByOperation).reduce((a, b) => a + b, 0), callsByOperation, ms: Date.now() - started,
  };
}
