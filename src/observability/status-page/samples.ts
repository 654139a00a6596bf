import type { Registry } from 'prom-client';
import { FLOW_LATENCY } from '../flow-latency.ts';
import { bucketsBy, metricValues, quantileBetween, sumBy } from './metric-values.ts';
import type { Series, StatusSnapshot } from './types.ts';

const CONSUMED = 'shopforce_records_consumed_total';
/** A latency series' name: the entity and the side it is written to. */
const flowName = (labels: Record<string, string>) => `${labels.entity} → ${labels.target}`;

/** A flow the page charts, and the reconciler's input topic that measures it (sync.in.<entity>). */
export interface ChartedFlow {
  name: string;
  topic: string;
}

interface Sample {
  at: number;
  throughput: Map<string, number>;
  p50: Map<string, number | null>;
  p95: Map<string, number | null>;
}

/**
 * The status page's charts over time: every `everyMs` it reads the process's metrics and keeps,
 * for the last `windowMs`, each flow's records per second into the reconciler and, per entity and
 * side written, the latency from the source commit to the applied write (median and 95th
 * percentile of the writes applied in the interval).
 */
export class MetricSampler {
  private readonly samples: Sample[] = [];
  private previous?: { at: number; consumed: Map<string, number>; buckets: Map<string, Array<{ le: number; count: number }>> };

  constructor(private readonly registry: Registry, private readonly flows: ChartedFlow[], readonly everyMs: number, private readonly windowMs: number) {}

  /** Takes one sample (the first only sets the starting point). */
  async sample(now = Date.now()): Promise<void> {
    const consumed = sumBy(await metricValues(this.registry, CONSUMED), 'topic', (v) => v.labels.processor === 'reconciler');
    const buckets = bucketsBy(await metricValues(this.registry, FLOW_LATENCY), FLOW_LATENCY, flowName);
    const before = this.previous;
    this.previous = { at: now, consumed, buckets };
    if (!before) return;
    const seconds = Math.max(0.001, (now - before.at) / 1000);
    const throughput = new Map(this.flows.map((f) => [f.name, Math.max(0, (consumed.get(f.topic) ?? 0) - (before.consumed.get(f.topic) ?? 0)) / seconds]));
    const p50 = new Map<string, number | null>();
    const p95 = new Map<string, number | null>();
    for (const [flow, after] of buckets) {
      p50.set(flow, quantileBetween(before.buckets.get(flow), after, 0.5));
      p95.set(flow, quantileBetween(before.buckets.get(flow), after, 0.95));
    }
    this.samples.push({ at: now, throughput, p50, p95 });
    while (this.samples.length > 0 && this.samples[0]!.at < now - this.windowMs) this.samples.shift();
  }

  window(): StatusSnapshot['window'] {
    const written = [...new Set(this.samples.flatMap((s) => [...s.p50.keys()]))].sort();
    const series = (names: string[], pick: (s: Sample) => Map<string, number | null>): Series[] =>
      names.map((name) => ({ name, values: this.samples.map((s) => pick(s).get(name) ?? null) }));
    return {
      sampleEveryMs: this.everyMs,
      t: this.samples.map((s) => s.at / 1000),
      throughput: series(this.flows.map((f) => f.name), (s) => s.throughput),
      latencyP50: series(written, (s) => s.p50),
      latencyP95: series(written, (s) => s.p95),
    };
  }
}
