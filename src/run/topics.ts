import type { ShopforceConfig } from '../config/schema.ts';
import type { EntityName } from '../entities/types.ts';
import { flowSpecs } from '../flows/flow-spec.ts';
import { canonicalTopic, routedTopic } from '../flows/routed-change.ts';
import { DLQ_TOPIC, type TopicSpec } from '../kafka/topics.ts';
import { SF_CDC_PREFIX } from '../processors/router.ts';
import { AUDIT_TOPIC, SALESFORCE_COMMANDS_TOPIC, SHOP_COMMANDS_TOPIC } from '../processors/reconciler.ts';

/**
 * Every topic the pipeline reads or writes, with the same partition count, so the router's inputs
 * (Debezium's and the Salesforce source's) are co-partitioned and exist before anyone subscribes.
 * Debezium creates its topics with topic.creation.default.partitions = the same count.
 */
export function pipelineTopics(config: ShopforceConfig): TopicSpec[] {
  const partitions = config.kafka.partitions;
  const specs = Object.values(flowSpecs(config));
  const raw = specs.flatMap((f) => [
    ...Object.keys(f!.shop).map((t) => `${config.kafka.shopTopicPrefix}.${config.shop.schema}.${t}`),
    ...Object.keys(f!.salesforce).map((o) => `${SF_CDC_PREFIX}.${o}`),
  ]);
  const entities = specs.map((f) => f!.entity as EntityName);
  const topics = [
    ...raw,
    ...entities.map(routedTopic),
    ...entities.map(canonicalTopic),
    SALESFORCE_COMMANDS_TOPIC, SHOP_COMMANDS_TOPIC, AUDIT_TOPIC, DLQ_TOPIC,
  ];
  return topics.map((topic) => ({ topic, partitions }));
}
