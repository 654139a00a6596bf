/** Prometheus metrics of scheduled drift checks (one set per registry). */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DriftReport } from './check.ts';

export interface DriftMetrics {
  /** What the last check of an entity found, by kind. */
  records: Gauge<'entity' | 'kind'>;
  runs: Counter<'entity' | 'result'>;
  lastRunSeconds: Gauge<'entity'>;
  lastRunTimestamp: Gauge<'entity'>;
  repaired: Counter<'entity'>;
}

const byRegistry = new WeakMap<Registry, DriftMetrics>();
const KINDS = ['missing', 'different', 'extra', 'kept', 'unreadable'] as const;

export function driftMetrics(registry: Registry): DriftMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const m: DriftMetrics = {
    records: new Gauge({ name: 'shopforce_drift_records', help: 'Records the last drift check of an entity found apart, by kind (missing, different, extra; kept and unreadable for information).', labelNames: ['entity', 'kind'], registers }),
    runs: new Counter({ name: 'shopforce_drift_runs_total', help: 'Drift checks, by result: clean, drift (found some), failed.', labelNames: ['entity', 'result'], registers }),
    lastRunSeconds: new Gauge({ name: 'shopforce_drift_last_run_seconds', help: 'How long the last drift check of an entity took.', labelNames: ['entity'], registers }),
    lastRunTimestamp: new Gauge({ name: 'shopforce_drift_last_run_timestamp_seconds', help: 'When the last drift check of an entity finished (Unix time).', labelNames: ['entity'], registers }),
    repaired: new Counter({ name: 'shopforce_drift_repaired_total', help: 'Records a scheduled drift check sent a repair for.', labelNames: ['entity'], registers }),
  };
  byRegistry.set(registry, m);
  return m;
}

export function recordDriftRun(m: DriftMetrics, report: DriftReport, repaired: number): void {
  const entity = report.entity;
  for (const kind of KINDS) m.records.set({ entity, kind }, report.counts[kind]);
  m.runs.inc({ entity, result: report.drift > 0 ? 'drift' : 'clean' });
  m.lastRunSeconds.set({ entity }, report.seconds);
  m.lastRunTimestamp.set({ entity }, Date.now() / 1000);
  if (repaired > 0) m.repaired.inc({ entity }, repaired);
}
