import type { Kafka } from 'kafkajs';
import { loadCanonicalSchemas } from '../avro/catalog.ts';
import type { SchemaCatalogClient } from '../avro/registry.ts';
import type { ShopforceConfig } from '../config/schema.ts';
import { enabledEntities } from '../entities/index.ts';
import { topicNames } from '../flows/topic-names.ts';
import { changelogTopicFor, ensureTopics, type TopicSpec } from '../kafka/topics.ts';

/**
 * Every topic the pipeline reads or writes, with the same partition count, so the router's inputs
 * (Debezium's and the Salesforce source's) are co-partitioned and exist before anyone subscribes.
 * Debezium creates its topics with topic.creation.default.partitions = the same count.
 */
export function pipelineTopics(config: ShopforceConfig): TopicSpec[] {
  const partitions = config.kafka.partitions;
  const names = topicNames(config.kafka.topicNamespace);
  const flows = enabledEntities(config).map((e) => e.flow);
  // a table may be a part of several entities (payments: the payment's own, and its order's status)
  const raw = [...new Set(flows.flatMap((f) => [
    ...Object.keys(f.shop).map((t) => `${config.kafka.shopTopicPrefix}.${config.shop.schema}.${t}`),
    ...Object.keys(f.salesforce).map((o) => `${names.sfCdcPrefix}.${o}`),
  ]))];
  const entities = flows.map((f) => f.entity);
  // a transaction carries up to maxRecordsPerCommit records per partition: one producer batch can
  // pass the 1 MB default, so the topics shopforce writes accept larger batches
  const configs = { 'max.message.bytes': String(MAX_BATCH_BYTES) };
  const rf = config.kafka.replication;
  const written = (topic: string, replicationFactor: number): TopicSpec => ({ topic, partitions, configs, replicationFactor });
  const changelogs = ['router', 'reconciler'].map((stage) => changelogTopicFor(`${config.kafka.groupIdPrefix}.${stage}`));
  return [
    // scheduled drift checks: one partition, so one member of the drift group is the one that checks
    ...(config.drift.schedule.enabled ? [{ topic: names.driftRuns, partitions: 1, compacted: true, replicationFactor: rf.state }] : []),
    ...raw.map((topic) => ({ topic, partitions, replicationFactor: rf.source })),
    ...entities.flatMap((e) => [names.routed(e), names.canonical(e)]).map((topic) => written(topic, rf.changes)),
    written(names.salesforceCommands, rf.commands), written(names.shopCommands, rf.commands),
    written(names.audit, rf.audit),
    // dead letters wait for a person: kept as configured (by default until purged), not the broker's 7 days
    { ...written(names.dlq, rf.dlq), configs: { ...configs, 'retention.ms': String(config.kafka.dlqRetentionMs) } },
    ...changelogs.map((topic) => ({ topic, partitions, compacted: true, configs, replicationFactor: rf.state })),
    // one key per entity and direction: a single partition keeps them in one place
    { topic: names.backfillCheckpoints, partitions: 1, compacted: true, replicationFactor: rf.state },
  ];
}

/** Largest record batch accepted on shopforce's own topics (16 MiB). */
export const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/** The canonical schemas registered and every pipeline topic created (both idempotent): what writing to the pipeline's topics needs. */
export async function preparePipelineTopics(config: ShopforceConfig, kafka: Kafka, registry: SchemaCatalogClient): Promise<void> {
  await registry.registerAll(loadCanonicalSchemas());
  await ensurePipelineTopics(kafka, config);
}

/** Creates the pipeline's topics that do not exist yet (`run`, `backfill` and `drift` need them). */
export async function ensurePipelineTopics(kafka: Kafka, config: ShopforceConfig): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, pipelineTopics(config));
  } finally {
    await admin.disconnect();
  }
}
