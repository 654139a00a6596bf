import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics of the Salesforce source. */
export interface SourceMetrics {
  events: Counter<'object' | 'change_type'>;
  messages: Counter<'object'>;
  restFetches: Counter<'object' | 'kind'>;
  restRecords: Counter<'object' | 'kind'>;
  alerts: Counter<'object' | 'kind'>;
  resubscribes: Counter<'object' | 'reason'>;
  commitToKafka: Histogram<'object'>;
  owned: Gauge<'object' | 'channel'>;
}

const byRegistry = new WeakMap<Registry, SourceMetrics>();

/** The source's metrics on `registry` (a private registry when none is given). */
export function sourceMetrics(registry: Registry = new Registry()): SourceMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const m: SourceMetrics = {
    events: new Counter({ name: 'shopforce_sf_source_events_total', help: 'Change events received, by object and change type.', labelNames: ['object', 'change_type'], registers }),
    messages: new Counter({ name: 'shopforce_sf_source_messages_total', help: 'Messages written to sf.cdc.<Object> (one per record id).', labelNames: ['object'], registers }),
    restFetches: new Counter({ name: 'shopforce_sf_source_rest_calls_total', help: 'REST calls made to read records (retrieve: no image or gap; query: re-reads).', labelNames: ['object', 'kind'], registers }),
    restRecords: new Counter({ name: 'shopforce_sf_source_rest_records_total', help: 'Records read by REST.', labelNames: ['object', 'kind'], registers }),
    alerts: new Counter({ name: 'shopforce_sf_source_alerts_total', help: 'Alerts: gap, overflow, replay id invalid, parse errors, stalled streams.', labelNames: ['object', 'kind'], registers }),
    resubscribes: new Counter({ name: 'shopforce_sf_source_resubscribes_total', help: 'Subscriptions torn down and resumed, by reason.', labelNames: ['object', 'reason'], registers }),
    owned: new Gauge({ name: 'shopforce_sf_source_channel_owned', help: 'Whether this copy reads the channel (1) or another copy of run does (0): each channel has one owner among the copies.', labelNames: ['object', 'channel'], registers }),
    commitToKafka: new Histogram({
      name: 'shopforce_sf_source_commit_to_kafka_seconds', help: 'From the Salesforce commit of a change to Kafka acknowledging its message.',
      labelNames: ['object'], buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers,
    }),
  };
  byRegistry.set(registry, m);
  return m;
}
