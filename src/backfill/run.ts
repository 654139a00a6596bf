/** What both directions of a backfill share: the entity, the connections, the checkpoint and the progress. */
import type { Connection } from 'jsforce';
import type { Registry } from 'prom-client';
import type { SchemaCatalogClient } from '../avro/registry.ts';
import type { ShopforceConfig } from '../config/schema.ts';
import type { EnabledEntity } from '../entities/index.ts';
import type { TopicNames } from '../flows/topic-names.ts';
import type { Logger } from '../observability/logger.ts';
import type { CallPolicy } from '../salesforce/sink/call.ts';
import type { BackfillCheckpoints, Checkpoint } from './checkpoints.ts';
import type { HandOver } from './handover.ts';
import type { Progress } from './progress.ts';

export interface BackfillRun {
  config: ShopforceConfig;
  entity: EnabledEntity;
  names: TopicNames;
  conn: Connection;
  /** Retries, quota and call counting (the Salesforce sink's policy). */
  policy: CallPolicy;
  /** Where the policy counts calls (shopforce_sf_sink_api_calls_total). */
  metrics: Registry;
  registry: SchemaCatalogClient;
  handover: HandOver;
  checkpoints: BackfillCheckpoints;
  /** The run's checkpoint: updated in place and written after each chunk or page. */
  checkpoint: Checkpoint;
  progress: Progress;
  log: Logger;
  /** Aborted: stop after the chunk or page in hand (its checkpoint is written, the run resumes from it). */
  signal: AbortSignal;
}

/** What a run handed over and what it could not sync. */
export interface RunCounts {
  handedOver: number;
  deadLetters: number;
  /** Records skipped: not of this shop, or without their business key. */
  skipped: number;
}
