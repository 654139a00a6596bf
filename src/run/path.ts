/**
 * The router and the reconciler as `run` wires them: raw changes -> sync.in.<entity> -> sync.<entity>,
 * sync.out.*, sync.audit, each a transactional processor with its state on a compacted changelog.
 * `run` (pipeline.ts) and the path benchmark (bench/router-reconciler.ts) build them here, so both
 * measure and run the same thing.
 */
import type { Kafka } from 'kafkajs';
import type { ShopforceConfig } from '../config/schema.ts';
import type { TopicNames } from '../flows/topic-names.ts';
import { compressedJsonCodec } from '../kafka/compressed-codec.ts';
import type { ProcessorOptions } from '../kafka/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { RuntimeMetrics } from '../observability/metrics.ts';
import { createReconciler, type EntityState, type Encode, type OnAlert } from '../processors/reconciler/index.ts';
import { createRouter, type RouterLookups } from '../processors/router.ts';

export interface PathDeps {
  config: ShopforceConfig;
  kafka: Kafka;
  names: TopicNames;
  metrics: RuntimeMetrics;
  log: Logger;
  /** Avro encoding of the reconciler's outputs (registry subject, value). */
  encode: Encode;
  onAlert: OnAlert;
  /** The router's lookups outside Kafka: parent fields in Salesforce, own shop transactions. */
  lookups: RouterLookups;
}

export interface PathProcessors {
  router: ProcessorOptions<unknown, string>;
  reconciler: ProcessorOptions<unknown, EntityState>;
}

/** A raw or routed change as JSON; a null value is a tombstone (Debezium writes one after each delete): nothing to route. */
const json = (m: { value: Buffer | null }): unknown => (m.value ? JSON.parse(m.value.toString('utf8')) : null);

/** The options of the router and the reconciler processors (createProcessor makes them). */
export function pathProcessors(deps: PathDeps): PathProcessors {
  const { config, kafka, names, metrics, log } = deps;
  const group = (name: string) => `${config.kafka.groupIdPrefix}.${name}`;
  const router = createRouter(config, deps.lookups);
  const reconciler = createReconciler(config, deps.encode, deps.onAlert);
  return {
    router: {
      name: 'router', kafka, groupId: group('router'), topics: router.topics, handle: router.handle, prefetch: router.prefetch, decode: json,
      state: {}, transactional: true, dlqTopic: names.dlq, metrics, logger: log.child({ processor: 'router' }),
      maxRecordsPerCommit: config.processing.router.recordsPerTransaction,
      partitionsConsumedConcurrently: config.processing.router.partitionsInParallel,
    },
    reconciler: {
      name: 'reconciler', kafka, groupId: group('reconciler'), topics: reconciler.topics, handle: reconciler.handle, decode: json,
      // a key's images and records can be large (a segment of thousands of members): compressed on the changelog
      state: { codec: compressedJsonCodec<EntityState>() }, transactional: true, dlqTopic: names.dlq, metrics, logger: log.child({ processor: 'reconciler' }),
      maxRecordsPerCommit: config.processing.reconciler.recordsPerTransaction,
      partitionsConsumedConcurrently: config.processing.reconciler.partitionsInParallel,
      // stock windows end on the clock, not on a record: due windows are written by punctuation
      punctuate: reconciler.punctuateIntervalMs === null ? undefined : { intervalMs: reconciler.punctuateIntervalMs, handle: (ctx) => reconciler.punctuate(ctx) },
    },
  };
}
