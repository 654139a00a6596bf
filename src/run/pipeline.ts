import { logLevel, type Kafka } from 'kafkajs';
import pg from 'pg';
import { Counter } from 'prom-client';
import type { ShopforceConfig } from '../config/schema.ts';
import { createAuditProducer, type AuditProducer } from '../audit/audit-producer.ts';
import { shopWriteResult, writeResultEvent } from '../audit/write-results.ts';
import { registryClient, type SchemaCatalogClient } from '../avro/registry.ts';
import { createKafka, verifyKafkaAccess } from '../kafka/client.ts';
import type { ShopWrite } from '../entities/types.ts';
import { createProcessor } from '../kafka/processor.ts';
import { applyConfiguredLogLevel, createLogger, type Logger } from '../observability/logger.ts';
import { kafkajsLogCreator } from '../observability/kafkajs-logger.ts';
import { createMetricsRegistry, runtimeMetrics } from '../observability/metrics.ts';
import { flowLatencyMetric, observeApplied } from '../observability/flow-latency.ts';
import { startHealthServer, type HealthServer } from '../observability/health.ts';
import { replicationSlotMetrics } from '../observability/replication-slot.ts';
import { createAlertDispatcher } from '../observability/alerts/dispatcher.ts';
import { createStatusPage, RecentAlerts } from '../observability/status-page/index.ts';
import type { SalesforceSourceStatus } from '../salesforce/source/index.ts';
import { createBatchSink } from '../kafka/sink/batch-sink.ts';
import { isInfrastructure, StagePause, type PauseState } from '../kafka/stage-pause.ts';
import { isSalesforceOutage } from '../salesforce/sink/errors.ts';
import type { Alert } from '../reconcile/types.ts';
import { topicNames, type TopicNames } from '../flows/topic-names.ts';
import type { ParentLookup } from '../processors/router.ts';
import { OwnTransactions } from '../shop/sink/own-transactions.ts';
import { ShopSink } from '../shop/sink/shop-sink.ts';
import { pathProcessors } from './path.ts';
import { preparePipelineTopics } from './topics.ts';

/**
 * A part of the running pipeline, reported by /readyz. Started in order; stopped upstream first:
 * sources, then processors (their last punctuation writes what windows hold to the command
 * topics), then the sinks (what they have not written yet, the next start writes).
 */
export interface Stage {
  name: string;
  role: 'source' | 'processor' | 'sink';
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): boolean;
  /** False when the stage is dead (its consumer crashed for good): /healthz fails. */
  live?(): boolean;
  /** Why the stage is paused (an error of its environment), if it is. */
  paused?(): PauseState | undefined;
  /** The Salesforce source's channels (subscription state, replay position), for the status page. */
  sourceStatus?(): SalesforceSourceStatus;
}

export interface Pipeline {
  stages: Stage[];
  health: HealthServer;
  kafka: Kafka;
  stop(): Promise<void>;
}

export interface PipelineExtras {
  /** Stages built by the caller from the shared pieces (the Salesforce source and sink). */
  stages?: (shared: SharedPieces) => Promise<Stage[]>;
  /** Parent lookups of the router (PricebookEntry -> Product2.Sku__c, CampaignMember -> Contact.Shop_Customer_Id__c): by SOQL with Salesforce. */
  lookupParent?: ParentLookup;
  metricsPort?: number;
  /** Listen address of /metrics, /healthz, /readyz (overrides observability.metricsHost). */
  metricsHost?: string;
}


export interface SharedPieces {
  config: ShopforceConfig;
  kafka: Kafka;
  registry: SchemaCatalogClient;
  metrics: ReturnType<typeof runtimeMetrics>;
  log: Logger;
  names: TopicNames;
  /** sync.audit outside the reconciler's transactions: the sinks' write results. */
  audit: AuditProducer;
  /** Counts an alert (the reconciler's, a drift check's). */
  onAlert: (entity: string, alert: Alert) => void;
  /** The pause of a stage for errors of its environment: alerts when it pauses, shopforce_stage_paused. */
  pauseFor: (stage: string, pausesOn?: (err: unknown) => boolean) => StagePause;
}

/** The stage, not ready and reported paused while `pause` holds; stopping it ends the pause's waits. */
export function withPause(stage: Stage, pause: StagePause): Stage {
  return {
    ...stage,
    ready: () => stage.ready() && !pause.state(),
    paused: () => pause.state(),
    async stop() {
      // the stage's own stop first marks it stopping, so a write the pause lets go is not taken for a failure
      const stopping = stage.stop();
      pause.stop();
      await stopping;
    },
  };
}

/**
 * `shopforce run`: every processor of the enabled flows in one process, each its own consumer
 * group member, so N copies of the process share the partitions of every stage:
 * router (raw CDC -> sync.in.<entity>), reconciler (-> sync.<entity>, sync.out.*, sync.audit),
 * shop sink (sync.out.shop -> PostgreSQL), and the Salesforce stages given by the caller.
 */
export async function startPipeline(config: ShopforceConfig, extras: PipelineExtras = {}): Promise<Pipeline> {
  // observability.logLevel, unless the person chose one (--log-level, LOG_LEVEL)
  applyConfiguredLogLevel(config.observability.logLevel);
  const log = createLogger('pipeline');
  const kafka = createKafka(config.kafka, config.kafka.clientId, { logLevel: logLevel.WARN, logCreator: kafkajsLogCreator(log) });
  const registry = registryClient(config.registry);
  const registryMetrics = createMetricsRegistry();
  const metrics = runtimeMetrics(registryMetrics);
  const flowLatency = flowLatencyMetric(registryMetrics);
  const alerts = new Counter({ name: 'shopforce_reconcile_alerts_total', help: 'Conflicts and other reconcile alerts, by entity and kind.', labelNames: ['entity', 'kind'], registers: [registryMetrics] });

  // a wrong password or CA fails here, naming the setting, rather than as a broker error mid-start
  await verifyKafkaAccess(kafka, config.kafka);
  await preparePipelineTopics(config, kafka, registry);

  const names = topicNames(config.kafka.topicNamespace);
  const group = (name: string) => `${config.kafka.groupIdPrefix}.${name}`;
  // a reconcile alert: logged by the reconciler, counted here, and delivered to the configured webhooks
  const dispatcher = createAlertDispatcher(config.observability.alerts, { shopId: config.shopId, log: log.child({ component: 'alerts' }), registry: registryMetrics });
  const recentAlerts = new RecentAlerts();
  const onAlert = (entity: string, alert: Alert) => {
    alerts.inc({ entity, kind: alert.kind });
    recentAlerts.add({ entity, kind: alert.kind, key: alert.key, message: alert.message });
    dispatcher.notify({ entity, kind: alert.kind, key: alert.key, message: alert.message, fields: alert.fields });
  };
  const pauseFor = (stage: string, pausesOn?: (err: unknown) => boolean) => new StagePause({
    stage, pausesOn, log: log.child({ component: 'pause' }), registry: registryMetrics,
    onPause: (state) => onAlert(stage, { kind: 'stage-paused', key: stage, message: `${stage} paused: ${state.reason}`, fields: [] }),
  });
  const pool = new pg.Pool({ connectionString: config.shop.databaseUrl, max: 4 });
  // Debezium's slot: how much WAL it holds back, and whether max_slot_wal_keep_size is about to drop it
  replicationSlotMetrics(registryMetrics, pool);
  // an idle connection the server ends (a PostgreSQL restart or failover) is an 'error' on the pool:
  // unheard, it ends the process; the pool drops that connection and the next query opens a new one
  pool.on('error', (err) => log.warn({ err }, 'shop database: an idle connection was closed by the server; the next query reconnects'));
  const ownTransactions = new OwnTransactions(pool);
  // a lookup the org does not answer (5xx, network, session) holds the router: it never routes a change without its parent
  const routerPause = pauseFor('router', (err) => isInfrastructure(err) || isSalesforceOutage(err));
  const lookupParent: ParentLookup | undefined = extras.lookupParent && ((object, field, ids) => routerPause.run(() => extras.lookupParent!(object, field, ids)));
  const shopPause = pauseFor('shop-sink');
  // the shop database down holds the router too: a change is never routed without knowing whether it was our own write
  const path = pathProcessors({
    config, kafka, names, metrics, log, onAlert, encode: (subject, value) => registry.encode(subject, value),
    lookups: {
      lookupParent, isShopSinkTransaction: (txId) => routerPause.run(() => ownTransactions.isOurs(txId)),
      // a chunk's transactions in one query; if it fails (the database down), each change asks, holding the router paused
      learnShopTransactions: (txIds) => ownTransactions.learn(txIds),
    },
  });
  const shopSink = new ShopSink(pool, config.shop.schema, { statementTimeoutMs: config.shop.statementTimeoutMs });
  const audit = createAuditProducer({ kafka, topic: names.audit, encode: (subject, value) => registry.encode(subject, value), registry: registryMetrics });

  const stages: Stage[] = [
    createProcessor(path.router),
    createProcessor(path.reconciler),
    createBatchSink<ShopWrite>({
      name: 'shop-sink', kafka, groupId: group('shop-sink'), topic: names.shopCommands, dlqTopic: names.dlq, metrics, log: log.child({ processor: 'shop-sink' }),
      decode: (m) => shopPause.run(() => registry.decode<ShopWrite>(m.value!)),
      chunkSize: config.sink.shopBatchSize,
      write: (commands) => shopPause.run(async () => {
        const outcomes = await shopSink.write(commands);
        // each command's outcome on sync.audit before its offset is committed
        const at = Date.now();
        await audit.send(outcomes.map((o, i) => {
          const details = shopWriteResult(commands[i]!, o);
          observeApplied(flowLatency, commands[i]!, details, at);
          return writeResultEvent(commands[i]!, details, { processor: 'shop-sink', at });
        }));
        return outcomes.map((o) => (o.status === 'failed' ? { ok: false as const, reason: o.reason } : { ok: true as const }));
      }),
    }),
  ].map((p): Stage => ({
    name: p.name, role: p.name === 'shop-sink' ? 'sink' : 'processor', start: () => p.start(), stop: () => p.stop(), ready: () => p.ready(), live: () => p.live(),
  })).map((stage) => (stage.name === 'router' ? withPause(stage, routerPause) : stage.name === 'shop-sink' ? withPause(stage, shopPause) : stage));
  if (extras.stages) stages.push(...(await extras.stages({ config, kafka, registry, metrics, log, names, audit, onAlert, pauseFor })));

  const statusPage = createStatusPage({ config, registry: registryMetrics, stages, alerts: recentAlerts, log: log.child({ component: 'status-page' }) });
  const health = await startHealthServer({
    registry: registryMetrics, checks: stages, accessToken: config.observability.accessToken,
    host: extras.metricsHost ?? config.observability.metricsHost, port: extras.metricsPort ?? config.observability.metricsPort,
    routes: [statusPage.routes],
  });
  const pipeline: Pipeline = {
    stages, health, kafka,
    async stop() {
      const stopOne = (stage: Stage) => stage.stop().catch((err) => log.error({ err, stage: stage.name }, 'stop failed'));
      for (const role of ['source', 'processor'] as const) for (const stage of stages.filter((s) => s.role === role)) await stopOne(stage);
      for (const stage of stages.filter((s) => s.role === 'sink')) await stopOne(stage);
      await audit.stop().catch((err) => log.warn({ err }, 'closing the audit producer failed'));
      await dispatcher.close();
      await statusPage.stop();
      await health.close();
      await pool.end();
    },
  };
  statusPage.start();
  try {
    for (const stage of stages) {
      await stage.start();
      log.info({ stage: stage.name }, 'stage started');
    }
  } catch (err) {
    // the stages started so far would keep the process alive after the error: stop them, then report
    await pipeline.stop();
    throw err;
  }
  return pipeline;
}
