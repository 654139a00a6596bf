/**
 * The topics `run` creates on a fresh cluster: every one once (createTopics refuses a list that names a
 * topic twice), the raw topics of tables that several entities read included.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { pipelineTopics } from '../../src/run/topics.ts';

const root = join(import.meta.dirname, '../..');
const env = {
  SHOPFORCE_KAFKA_BROKERS: '127.0.0.1:59092', SHOPFORCE_REGISTRY_URL: 'http://127.0.0.1:58081/apis/ccompat/v7',
  SHOP_DATABASE_URL: 'postgres://shopforce:shopforce@127.0.0.1:55432/shop',
  SF_LOGIN_URL: 'https://127.0.0.1:58443', SF_AUTH_TYPE: 'jwt', SF_CLIENT_ID: 'id', SF_USERNAME: 'u@example.com',
  SF_PRIVATE_KEY_PATH: '/dev/null', SF_PUBSUB_ENDPOINT: '127.0.0.1:58444',
};

test('with every flow of the sandbox example on, each topic is listed once, the shared payments table too', () => {
  const config = loadConfig(join(root, 'examples/shopforce.sandbox.yaml'), env);
  const topics = pipelineTopics(config).map((t) => t.topic);
  assert.deepEqual(topics.filter((t, i) => topics.indexOf(t) !== i), [], 'no topic twice');
  assert.ok(topics.includes('shop.public.payments'), 'the payments table, read by the order and the payment flows');
  assert.ok(topics.includes('sync.in.campaign_segment') && topics.includes('sf.cdc.CampaignMember'));
});

test('the dead-letter topic keeps its records until purged by default, or as long as kafka.dlqRetentionMs says', () => {
  const dlq = (c: ReturnType<typeof loadConfig>) => pipelineTopics(c).find((t) => t.topic === 'sync.dlq')!;
  const config = loadConfig(join(root, 'examples/shopforce.sandbox.yaml'), env);
  assert.equal(dlq(config).configs?.['retention.ms'], '-1', 'kept by default');
  config.kafka.dlqRetentionMs = 30 * 86_400_000;
  assert.equal(dlq(config).configs?.['retention.ms'], String(30 * 86_400_000));
  assert.equal(pipelineTopics(config).find((t) => t.topic === 'sync.audit')!.configs?.['retention.ms'], undefined, 'other topics keep the broker\'s retention');
});
