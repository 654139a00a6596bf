/**
 * One drift check of one entity with its findings sent on: DRIFT records on sync.audit and, when
 * repairing, the repair through the pipeline's topics (src/drift/drift-output.ts). What `shopforce
 * drift` and the schedule in `shopforce run` both run.
 */
import type { Connection } from 'jsforce';
import type { Kafka } from 'kafkajs';
import type { ShopforceConfig } from '../config/schema.ts';
import { topicNames } from '../flows/topic-names.ts';
import { checkDrift, type DriftReport } from './check.ts';
import { createDriftOutput, type DriftOutputTotals } from './drift-output.ts';

export interface DriftJobOptions {
  /** Send the repair of each drifted key through the pipeline. */
  repair: boolean;
  /** Write a DRIFT record per drifted key on sync.audit (always with repair). */
  audit: boolean;
  signal?: AbortSignal;
}

export interface DriftJobDeps {
  conn: Connection;
  /** Needed to audit or repair. */
  kafka?: Kafka;
  encode?: (subject: string, value: unknown) => Promise<Buffer>;
}

export async function runDriftJob(config: ShopforceConfig, entity: string, deps: DriftJobDeps, opts: DriftJobOptions): Promise<{ report: DriftReport; output?: DriftOutputTotals }> {
  const writes = opts.repair || opts.audit;
  if (writes && (!deps.kafka || !deps.encode)) throw new Error('drift: auditing or repairing needs Kafka and the schema registry');
  const output = writes ? createDriftOutput({ kafka: deps.kafka!, names: topicNames(config.kafka.topicNamespace), encode: deps.encode!, repair: opts.repair }) : undefined;
  try {
    const report = await checkDrift(config, entity, deps.conn, {
      samples: config.drift.samples, sortBufferRecords: config.drift.sortBufferRecords, signal: opts.signal,
      bulk: { pageSize: config.drift.bulkPageSize, pollIntervalMs: 1_000, pollTimeoutMs: config.drift.bulkPollTimeoutMs },
      onDrift: output ? (flow, c, run) => output.add(flow, c, run) : undefined,
    });
    return { report, output: await output?.flush() };
  } finally {
    await output?.close();
  }
}
