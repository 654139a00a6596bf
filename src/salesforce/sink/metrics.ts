import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Prometheus metrics of the Salesforce sink (one set per registry). */
export interface SinkMetrics {
  apiCalls: Counter<'api' | 'sobject' | 'operation'>;
  /** Record writes not sent: coalesced inside the linger window, or unchanged since the last write. */
  callsSaved: Counter<'reason'>;
  outcomes: Counter<'status' | 'sobject'>;
  retries: Counter<'error_code'>;
  parked: Gauge;
  quotaRemaining: Gauge;
  flushSeconds: Histogram;
  recordsPerCall: Histogram<'api'>;
}

const byRegistry = new WeakMap<Registry, SinkMetrics>();

export function sinkMetrics(registry: Registry): SinkMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const m: SinkMetrics = {
    apiCalls: new Counter({ name: 'shopforce_sf_sink_api_calls_total', help: 'Salesforce API calls made by the sink (attempts included).', labelNames: ['api', 'sobject', 'operation'], registers }),
    callsSaved: new Counter({ name: 'shopforce_sf_sink_api_calls_saved_total', help: 'Record writes not sent to Salesforce: coalesced in the linger window, or unchanged since the last write.', labelNames: ['reason'], registers }),
    outcomes: new Counter({ name: 'shopforce_sf_sink_outcomes_total', help: 'Write commands by outcome.', labelNames: ['status', 'sobject'], registers }),
    retries: new Counter({ name: 'shopforce_sf_sink_retries_total', help: 'Retried Salesforce calls or records, by error code.', labelNames: ['error_code'], registers }),
    parked: new Gauge({ name: 'shopforce_sf_sink_parked', help: 'Child records waiting for their parent.', registers }),
    quotaRemaining: new Gauge({ name: 'shopforce_sf_sink_quota_remaining_percent', help: 'Share of the daily API quota left (Sforce-Limit-Info).', registers }),
    flushSeconds: new Histogram({ name: 'shopforce_sf_sink_flush_seconds', help: 'Duration of a sink flush.', buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120], registers }),
    recordsPerCall: new Histogram({ name: 'shopforce_sf_sink_records_per_call', help: 'Records carried by one write call.', labelNames: ['api'], buckets: [1, 2, 5, 10, 25, 50, 100, 200, 1000, 10000], registers }),
  };
  byRegistry.set(registry, m);
  return m;
}
