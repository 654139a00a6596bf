/**
 * The configuration of a secured cluster: TLS and SASL to Kafka, basic auth to the registry, and the
 * replication factor of each class of topic, validated at start with every mistake named.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig, parseConfigText } from '../../src/config/load.ts';
import { topicNames } from '../../src/flows/topic-names.ts';
import { kafkaClientConfig } from '../../src/kafka/client.ts';
import { pipelineTopics } from '../../src/run/topics.ts';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'shopforce-security-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const base = (kafkaExtra: string, registryExtra = '') => `
kafka: { brokers: ["127.0.0.1:59094"]${kafkaExtra} }
registry: { url: "http://127.0.0.1:58081"${registryExtra} }
shop: { databaseUrl: "\${SHOP_DATABASE_URL}" }
salesforce: { loginUrl: "https://login.salesforce.com", authType: client_credentials, clientId: abc, clientSecret: "\${SF_CLIENT_SECRET}" }
`;
const env = { SHOP_DATABASE_URL: 'postgres://u:p@127.0.0.1:55432/shop', SF_CLIENT_SECRET: 's3cret', KAFKA_PASSWORD: 'kafka-pw', REGISTRY_PASSWORD: 'registry-pw' };

function issuesOf(text: string): string[] {
  try {
    parseConfigText(text, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues.map((i) => `${i.path}: ${i.message}`);
  }
  assert.fail('expected the configuration to be rejected');
}

describe('a secured cluster in the configuration', () => {
  test('the production example: SASL_SSL with SCRAM, registry basic auth, every topic class replicated 3 times', () => {
    const cfg = loadConfig(join(root, 'examples/shopforce.production.yaml'), {
      ...env, SCHEMA_REGISTRY_URL: 'https://registry.internal', SCHEMA_REGISTRY_USER: 'shopforce', SCHEMA_REGISTRY_PASSWORD: 'registry-pw',
      SF_CLIENT_ID: 'id', SF_USERNAME: 'integration@acme.com', SF_PRIVATE_KEY_PATH: '/etc/shopforce/jwt.key',
      SLACK_ALERTS_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x', ALERTS_WEBHOOK_URL: 'https://incidents.acme.com/hook', ALERTS_WEBHOOK_AUTHORIZATION: 'Bearer t',
    });
    assert.equal(cfg.kafka.ssl.enabled, true);
    assert.equal(cfg.kafka.sasl?.mechanism, 'scram-sha-512');
    assert.equal(cfg.kafka.sasl?.password, 'kafka-pw', 'the password comes from KAFKA_PASSWORD');
    assert.deepEqual([cfg.registry.username, cfg.registry.password], ['shopforce', 'registry-pw']);
    const factors = pipelineTopics(cfg).map((t) => `${t.topic}=${t.replicationFactor}`);
    assert.deepEqual(factors.filter((f) => !f.endsWith('=3')), [], 'every topic the pipeline creates has 3 replicas');
  });

  test('each class of topic gets its own replication factor; unset classes stay at 1 (the local single broker)', () => {
    const cfg = parseConfigText(`${base(', replication: { dlq: 2, state: 3, commands: 3, changes: 2 }')}entities: { customer: { enabled: true } }\n`, env);
    const byTopic = new Map(pipelineTopics(cfg).map((t) => [t.topic, t.replicationFactor]));
    const names = topicNames('');
    assert.equal(byTopic.get(names.dlq), 2);
    assert.equal(byTopic.get('shopforce.reconciler.state-changelog'), 3);
    assert.equal(byTopic.get(names.backfillCheckpoints), 3);
    assert.equal(byTopic.get(names.salesforceCommands), 3);
    assert.equal(byTopic.get(names.shopCommands), 3);
    assert.equal(byTopic.get(names.audit), 1);
    assert.equal(byTopic.get(names.canonical('customer')), 2);
    assert.equal(byTopic.get(names.routed('customer')), 2);
    assert.equal(byTopic.get('shop.public.customers'), 1);
  });

  test('the Kafka and registry passwords are secrets: written into the file they are refused', () => {
    const issues = issuesOf(base(', ssl: { enabled: true }, sasl: { mechanism: plain, username: u, password: hunter2 }', ', username: r, password: hunter3'));
    assert.ok(issues.some((i) => i.startsWith('kafka.sasl.password: is a secret')), issues.join('\n'));
    assert.ok(issues.some((i) => i.startsWith('registry.password: is a secret')), issues.join('\n'));
  });

  test('half-given or contradictory security settings are named at start', () => {
    const issues = issuesOf(base(', ssl: { caPath: /etc/ca.pem, certPath: /etc/client.pem }, sasl: { mechanism: gssapi, username: u, password: "${KAFKA_PASSWORD}" }', ', username: r'));
    for (const expected of [
      /^kafka\.ssl\.caPath: has no effect unless kafka\.ssl\.enabled is true/,
      /^kafka\.ssl\.keyPath: certPath and keyPath go together/,
      /^kafka\.sasl\.mechanism: .*scram-sha-256/,
      /^registry\.password: required when registry\.username is set/,
    ]) assert.ok(issues.some((i) => expected.test(i)), `${expected} in\n${issues.join('\n')}`);
  });

  test('the client gets TLS with the configured CA and the SASL login; without them, a plain connection', () => {
    const ca = join(tmp, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n');
    const secured = parseConfigText(base(`, ssl: { enabled: true, caPath: "${ca}" }, sasl: { mechanism: scram-sha-256, username: shopforce, password: "\${KAFKA_PASSWORD}" }`), env);
    const options = kafkaClientConfig(secured.kafka, 'test');
    assert.deepEqual(options.ssl, { rejectUnauthorized: true, ca: ['-----BEGIN CERTIFICATE-----\nfake\n-----END CERTIFICATE-----\n'] });
    assert.deepEqual(options.sasl, { mechanism: 'scram-sha-256', username: 'shopforce', password: 'kafka-pw' });
    const plain = kafkaClientConfig(parseConfigText(base(''), env).kafka, 'test');
    assert.equal(plain.ssl, undefined);
    assert.equal(plain.sasl, undefined);
  });

  test('an unreadable CA file is an error naming kafka.ssl.caPath', () => {
    const cfg = parseConfigText(base(`, ssl: { enabled: true, caPath: "${join(tmp, 'missing.pem')}" }`), env);
    assert.throws(() => kafkaClientConfig(cfg.kafka, 'test'), /cannot read kafka\.ssl\.caPath .*missing\.pem.*ENOENT/);
  });
});
