import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { ShopforceConfig } from '../../config/schema.ts';
import { enabledEntities } from '../../entities/index.ts';
import { topicNames } from '../../flows/topic-names.ts';
import type { Logger } from '../logger.ts';
import { KafkaView } from './kafka-view.ts';
import { metricValues } from './metric-values.ts';
import { RecentAlerts } from './recent-alerts.ts';
import { statusPageRoutes } from './routes.ts';
import { MetricSampler } from './samples.ts';
import { buildSnapshot, type ShownStage } from './snapshot.ts';

export { RecentAlerts } from './recent-alerts.ts';
export type { ShownStage } from './snapshot.ts';
export type { StatusSnapshot } from './types.ts';

export interface StatusPageOptions {
  config: ShopforceConfig;
  registry: Registry;
  stages: ShownStage[];
  alerts: RecentAlerts;
  log: Logger;
  /** How often the charts take a sample (default 2 s) and how far back they go (default 10 minutes). */
  sampleEveryMs?: number;
  windowMs?: number;
  /** How often consumer groups and dead letters are read from Kafka when no new dead letter asks sooner (default 30 s). */
  kafkaEveryMs?: number;
}

export interface StatusPage {
  /** The routes to mount on the /metrics server (same address, same token). */
  routes: FastifyPluginAsync;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The live status page of `shopforce run` at /status: each flow's throughput and each stage's
 * latency over the last minutes, lag per partition and per consumer group, recent conflicts and
 * dead letters with their reasons, the Salesforce API quota and the change-event channels.
 */
export function createStatusPage(opts: StatusPageOptions): StatusPage {
  const names = topicNames(opts.config.kafka.topicNamespace);
  const flows = enabledEntities(opts.config).map((e) => ({ name: e.name, topic: names.routed(e.name) }));
  const sampler = new MetricSampler(opts.registry, flows, opts.sampleEveryMs ?? 2_000, opts.windowMs ?? 10 * 60_000);
  const kafka = new KafkaView(opts.config, opts.log, { everyMs: opts.kafkaEveryMs ?? 30_000, latestDeadLetters: 20 });
  let deadLettersSent = 0;
  let timer: NodeJS.Timeout | undefined;

  const tick = async () => {
    await sampler.sample();
    // a record this process dead-lettered: show it with its reason without waiting for the next read
    const sent = (await metricValues(opts.registry, 'shopforce_dlq_records_total')).reduce((n, v) => n + v.value, 0);
    if (sent > deadLettersSent) kafka.refresh();
    deadLettersSent = sent;
  };
  const sampleNow = () => tick().catch((err) => opts.log.debug({ err }, 'the status page could not sample the metrics'));
  const snapshot = () => buildSnapshot({ shopId: opts.config.shopId, registry: opts.registry, stages: opts.stages, sampler, kafka, alerts: opts.alerts });

  return {
    routes: statusPageRoutes(snapshot),
    start() {
      kafka.start();
      void sampleNow();
      timer = setInterval(sampleNow, sampler.everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await kafka.stop();
    },
  };
}
