import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { parseConfigText } from '../../src/config/load.ts';
import { fetchTopicOffsetsSettled } from '../../src/kafka/topics.ts';
import { routerTopics } from '../../src/processors/router.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';
import { REPO_DIR } from '../../src/stack/context.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';

/**
 * The example sandbox config pointed at the test stack, with consumer groups and derived topics of
 * its own (a test run shares no offsets, state or commands with another; the raw shop CDC topics
 * are the shared input) and Salesforce settings from `sf`.
 */
export function testPipelineConfig(stack: StackAddresses, sf: Record<string, string>, overrides: (c: ShopforceConfig) => void = () => {}): ShopforceConfig {
  const text = readFileSync(join(REPO_DIR, 'examples/shopforce.sandbox.yaml'), 'utf8');
  const config = parseConfigText(text, {
    SHOPFORCE_KAFKA_BROKERS: stack.kafka.brokers.join(','),
    SHOPFORCE_REGISTRY_URL: stack.registry.url,
    SHOP_DATABASE_URL: stack.postgres.url,
    ...sf,
  }, 'examples/shopforce.sandbox.yaml');
  const run = `test-${randomUUID().slice(0, 8)}`;
  config.kafka.groupIdPrefix = run;
  config.kafka.topicNamespace = run;
  config.observability.metricsPort = 0;
  // the example runs the stock, payment, invoice, ticket and segment flows; a test turns one on when
  // it is about it (test/flows/stock, payments, invoices, support-tickets, campaign-segments)
  config.entities.stock.enabled = false;
  config.entities.payment.enabled = false;
  config.entities.invoice.enabled = false;
  config.entities.support_ticket.enabled = false;
  config.entities.campaign_segment.enabled = false;
  // and loads the org's catalogue at the first start; a test turns it on when it is about that
  config.backfill.initialLoad = [];
  overrides(config);
  return config;
}

/**
 * Starts the test pipeline's router at the current end of the shared raw shop CDC topics, so it
 * handles only the rows this test writes, not every row earlier tests and benchmarks left there
 * (a fresh group otherwise reads them all from the beginning). Call before the pipeline starts.
 */
export async function skipShopHistory(config: ShopforceConfig): Promise<void> {
  const kafka = new Kafka({ brokers: config.kafka.brokers, clientId: 'shopforce-test', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of routerTopics(config).shop.keys()) {
      if (!existing.has(topic)) continue;
      const offsets = await fetchTopicOffsetsSettled(admin, topic);
      await admin.setOffsets({ groupId: `${config.kafka.groupIdPrefix}.router`, topic, partitions: offsets.map((o) => ({ partition: o.partition, offset: o.high })) });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Writes `config` as a CLI config file at `file`, its secrets as references to the environment (a
 * file holding them is refused): the database URL as ${SHOP_DATABASE_URL}, the access token as
 * ${METRICS_TOKEN}. Returns the environment that fills them in.
 */
export function writeConfigFile(file: string, config: ShopforceConfig): Record<string, string> {
  writeFileSync(file, JSON.stringify({
    ...config, shop: { ...config.shop, databaseUrl: '${SHOP_DATABASE_URL}' },
    observability: { ...config.observability, accessToken: '${METRICS_TOKEN}' },
  }, null, 2));
  return { SHOP_DATABASE_URL: config.shop.databaseUrl, METRICS_TOKEN: config.observability.accessToken ?? '' };
}
