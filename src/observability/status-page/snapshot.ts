import type { Registry } from 'prom-client';
import type { SalesforceSourceStatus } from '../../salesforce/source/index.ts';
import { safeReady } from '../health.ts';
import type { KafkaView } from './kafka-view.ts';
import { metricValues } from './metric-values.ts';
import type { RecentAlerts } from './recent-alerts.ts';
import type { MetricSampler } from './samples.ts';
import type { StatusSnapshot } from './types.ts';

/** A stage of the running process as the page shows it; the Salesforce source tells its channels. */
export interface ShownStage {
  name: string;
  role: string;
  ready(): boolean;
  sourceStatus?(): SalesforceSourceStatus;
}

export interface SnapshotSources {
  shopId: string;
  registry: Registry;
  stages: ShownStage[];
  sampler: MetricSampler;
  kafka: KafkaView;
  alerts: RecentAlerts;
}

const total = (values: Array<{ value: number }>) => values.reduce((n, v) => n + v.value, 0);

/** Everything the status page draws, read now from the process's metrics, stages and the background Kafka view. */
export async function buildSnapshot(s: SnapshotSources): Promise<StatusSnapshot> {
  const lag = await metricValues(s.registry, 'shopforce_consumer_lag');
  const apiCalls = total(await metricValues(s.registry, 'shopforce_sf_sink_api_calls_total'));
  const [quota] = await metricValues(s.registry, 'shopforce_sf_sink_quota_remaining_percent');
  const sent = total(await metricValues(s.registry, 'shopforce_dlq_records_total'));
  const source = s.stages.find((stage) => stage.sourceStatus)?.sourceStatus?.() ?? null;
  const kafka = s.kafka.current();
  return {
    at: new Date().toISOString(),
    shopId: s.shopId,
    stages: s.stages.map((stage) => ({ name: stage.name, role: stage.role, ready: safeReady(stage) })),
    window: s.sampler.window(),
    partitions: lag
      .map((v) => ({ stage: v.labels.processor ?? '', topic: v.labels.topic ?? '', partition: Number(v.labels.partition), lag: v.value }))
      .sort((a, b) => a.stage.localeCompare(b.stage) || a.topic.localeCompare(b.topic) || a.partition - b.partition),
    groups: kafka.groups,
    deadLetters: { ...kafka.deadLetters, sentByThisProcess: sent },
    alerts: s.alerts.latest(),
    // the gauge reads 0 until Salesforce first answered with its Sforce-Limit-Info: unknown, not empty
    quota: { remainingPercent: apiCalls > 0 && quota ? quota.value : null, apiCalls },
    source,
    parked: total(await metricValues(s.registry, 'shopforce_sf_sink_parked')),
  };
}
