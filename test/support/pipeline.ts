import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfigText } from '../../src/config/load.ts';
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
  overrides(config);
  return config;
}
