/**
 * The `drift` section: how drift checks read the two sides, and the checks `shopforce run` makes on
 * a schedule. Referenced from src/config/schema.ts; docs/configuration.md lists it.
 */
import { z } from 'zod';
import { ENTITY_NAMES, type EntitiesConfig } from '../entities/index.ts';

export const driftSchema = z.strictObject({
  schedule: z.strictObject({
    enabled: z.boolean().default(false)
      .describe('Check the entities on a schedule from `shopforce run` (one copy of run does it: the one the <groupIdPrefix>.drift group elects).'),
    intervalMs: z.number().int().min(60_000).max(7 * 86_400_000).default(21_600_000)
      .describe('Time from the start of one check of an entity to the start of the next (ms; at least one minute).'),
    entities: z.array(z.enum(ENTITY_NAMES as [string, ...string[]])).default([]).describe('Entities checked; empty: every enabled entity.'),
    repair: z.boolean().default(false)
      .describe('Repair what a scheduled check finds (the master\'s values re-sent through the pipeline); false: DRIFT records, a metric and an alert only.'),
  }).prefault({}).describe('Scheduled checks: each writes a DRIFT record per drifted key on sync.audit, sets shopforce_drift_records, and raises a drift alert when it finds drift.'),
  samples: z.number().int().min(0).max(1_000).default(10).describe('Sample keys per kind (missing, different, extra) in a report.'),
  sortBufferRecords: z.number().int().min(1_000).max(5_000_000).default(50_000)
    .describe('Salesforce records sorted in memory before a sorted run goes to a temporary file (memory of a check is about this many records).'),
  bulkPageSize: z.number().int().min(1).max(1_000_000).default(50_000).describe('Records per Bulk API 2.0 results page (maxRecords); at most sortBufferRecords, so a page never holds more than the sort buffer.'),
  bulkPollTimeoutMs: z.number().int().min(1_000).default(600_000).describe('How long a check waits for a Bulk API 2.0 query job to complete.'),
}).describe('Drift checks: do both sides still agree.');

export type DriftConfig = z.infer<typeof driftSchema>;

/** The entities a scheduled check covers: the configured ones, else every enabled one. */
export function scheduledEntities(drift: DriftConfig, entities: EntitiesConfig): string[] {
  const enabled = Object.entries(entities).filter(([, e]) => e.enabled).map(([name]) => name);
  return drift.schedule.entities.length > 0 ? drift.schedule.entities : enabled;
}

/** A scheduled entity that is not enabled, as a config issue at drift.schedule.entities.<i>. */
export function driftEntityIssues(drift: DriftConfig, entities: EntitiesConfig): Array<{ path: (string | number)[]; message: string }> {
  const enabled = new Set(Object.entries(entities).filter(([, e]) => e.enabled).map(([name]) => name));
  return drift.schedule.entities.flatMap((name, i) => (enabled.has(name) ? [] : [{ path: ['drift', 'schedule', 'entities', i], message: `${name} is not enabled (entities.${name}.enabled): it cannot be checked` }]));
}
