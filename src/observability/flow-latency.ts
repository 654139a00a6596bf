import { Histogram, type Registry } from 'prom-client';
import type { WriteResultDetails } from '../audit/write-results.ts';

export const FLOW_LATENCY = 'shopforce_flow_latency_seconds';

/** Per flow (entity and the side written): from a change's commit at its source to its write on the other side. */
export type FlowLatency = Histogram<'entity' | 'target'>;

/** The flow latency histogram of `registry` (registered on first use). */
export function flowLatencyMetric(registry: Registry): FlowLatency {
  const existing = registry.getSingleMetric(FLOW_LATENCY) as FlowLatency | undefined;
  return existing ?? new Histogram({
    name: 'shopforce_flow_latency_seconds',
    help: 'From a change\'s commit at its source (shop or Salesforce) to its write applied on the other side, per entity and target.',
    labelNames: ['entity', 'target'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900],
    registers: [registry],
  });
}

/** Observes a sink's write result when it applied the change (skipped, parked, refused ones are not a flow's latency). */
export function observeApplied(metric: FlowLatency, command: { entity: string; eventTime: number }, details: WriteResultDetails, at: number): void {
  if (details.status !== 'applied' || !(command.eventTime > 0)) return;
  metric.observe({ entity: command.entity, target: details.target.toLowerCase() }, Math.max(0, at - command.eventTime) / 1000);
}
