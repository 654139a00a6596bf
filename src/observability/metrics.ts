import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the processor runtime. One set per registry, shared by its processors. */
export interface RuntimeMetrics {
  registry: Registry;
  consumed: Counter<'processor' | 'topic'>;
  produced: Counter<'processor' | 'topic'>;
  errors: Counter<'processor' | 'error_class'>;
  retries: Counter<'processor' | 'error_class'>;
  dlq: Counter<'processor' | 'reason'>;
  transactions: Counter<'processor' | 'result'>;
  lag: Gauge<'processor' | 'topic' | 'partition'>;
  assignedPartitions: Gauge<'processor'>;
  endToEndLatency: Histogram<'processor'>;
  restoreSeconds: Histogram<'processor'>;
  commitSeconds: Histogram<'processor'>;
}

const byRegistry = new WeakMap<Registry, RuntimeMetrics>();

/** A registry with Node's default process metrics, for a process that serves /metrics. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shopforce_' });
  return registry;
}

/** The runtime metrics registered on `registry` (created on first call, then reused). */
export function runtimeMetrics(registry: Registry): RuntimeMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: RuntimeMetrics = {
    registry,
    consumed: new Counter({ name: 'shopforce_records_consumed_total', help: 'Records read by a processor.', labelNames: ['processor', 'topic'], registers }),
    produced: new Counter({ name: 'shopforce_records_produced_total', help: 'Records written by a processor (outputs, DLQ, not state).', labelNames: ['processor', 'topic'], registers }),
    errors: new Counter({ name: 'shopforce_processing_errors_total', help: 'Failed handler attempts, by error class.', labelNames: ['processor', 'error_class'], registers }),
    retries: new Counter({ name: 'shopforce_retries_total', help: 'Retries scheduled, by error class.', labelNames: ['processor', 'error_class'], registers }),
    dlq: new Counter({ name: 'shopforce_dlq_records_total', help: 'Records sent to the dead-letter topic, by reason.', labelNames: ['processor', 'reason'], registers }),
    transactions: new Counter({ name: 'shopforce_transactions_total', help: 'Kafka transactions / offset commits, by result.', labelNames: ['processor', 'result'], registers }),
    lag: new Gauge({ name: 'shopforce_consumer_lag', help: 'Records behind the end of the partition after the last processed batch.', labelNames: ['processor', 'topic', 'partition'], registers }),
    assignedPartitions: new Gauge({ name: 'shopforce_assigned_partitions', help: 'Partitions this member owns.', labelNames: ['processor'], registers }),
    endToEndLatency: new Histogram({
      name: 'shopforce_end_to_end_latency_seconds',
      help: 'From the source commit time of a record to the commit of its outputs.',
      labelNames: ['processor'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900],
      registers,
    }),
    restoreSeconds: new Histogram({
      name: 'shopforce_state_restore_seconds', help: 'Time to restore partitions\' state from the changelog.',
      labelNames: ['processor'], buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120], registers,
    }),
    commitSeconds: new Histogram({
      name: 'shopforce_commit_seconds', help: 'Time to make a chunk durable: produce outputs and changelog, commit offsets (one transaction).',
      labelNames: ['processor'], buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
