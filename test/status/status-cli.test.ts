import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { topicNames } from '../../src/flows/topic-names.ts';
import { buildDlqMessage } from '../../src/kafka/dlq.ts';
import { ensureTopics } from '../../src/kafka/topics.ts';
import { startHealthServer, type HealthServer } from '../../src/observability/health.ts';
import { createMetricsRegistry } from '../../src/observability/metrics.ts';
import { REPO_DIR } from '../../src/stack/context.ts';
import type { StackAddresses } from '../../src/stack/stack.ts';
import { testPipelineConfig, writeConfigFile } from '../support/pipeline.ts';
import { getTestStack } from '../support/stack.ts';
import type { ShopforceConfig } from '../../src/config/schema.ts';

// `shopforce status` against the real Kafka: a pipeline namespace of its own with a known backlog,
// two dead letters and a running process's health endpoint (with its access token).
let stack: StackAddresses;
let kafka: Kafka;
let config: ShopforceConfig;
let server: HealthServer;
let dir: string;
let configFile: string;
const TOKEN = 'status-test-token-0123456';
const names = () => topicNames(config.kafka.topicNamespace);

before(async () => {
  stack = await getTestStack();
  kafka = new Kafka({ brokers: stack.kafka.brokers, clientId: 'status-test', logLevel: logLevel.NOTHING });
  server = await startHealthServer({
    registry: createMetricsRegistry(), accessToken: TOKEN,
    checks: [{ name: 'router', ready: () => true }, { name: 'reconciler', ready: () => false }],
  });
  config = testPipelineConfig(stack, {
    SF_LOGIN_URL: 'http://127.0.0.1:9/', SF_CLIENT_ID: 'c', SF_USERNAME: 'u', SF_PRIVATE_KEY_PATH: '/dev/null',
  }, (c) => { c.observability.metricsPort = server.port; });
  dir = mkdtempSync(join(tmpdir(), 'shopforce-status-'));
  configFile = join(dir, 'shopforce.json');
  writeConfigFile(configFile, config);

  // the reconciler's input: 5 records on partition 0, 3 on partition 1; its group committed 2 on partition 0
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [{ topic: names().routed('customer'), partitions: 2 }, { topic: names().dlq, partitions: 1 }]);
    const producer = kafka.producer();
    await producer.connect();
    const routed = names().routed('customer');
    await producer.send({ topic: routed, messages: [...Array(5)].map((_, i) => ({ key: `k${i}`, value: 'x', partition: 0 })) });
    await producer.send({ topic: routed, messages: [...Array(3)].map((_, i) => ({ key: `j${i}`, value: 'y', partition: 1 })) });
    const failed = (offset: string, reason: string, at: string) => buildDlqMessage({
      processor: 'reconciler', groupId: `${config.kafka.groupIdPrefix}.reconciler`, failure: 'non-retryable', error: new Error(reason),
      errorClass: 'poison', attempts: 1, topic: routed, partition: 0, now: new Date(at),
      message: { key: Buffer.from(`k${offset}`), value: Buffer.from('x'), headers: {}, offset, timestamp: String(Date.now()), attributes: 0 } as KafkaMessage,
    });
    await producer.send({ topic: names().dlq, messages: [failed('0', 'customer without a key', '2026-01-01T10:00:00.000Z'), failed('1', 'no enabled flow for entity gizmo', '2026-01-01T11:00:00.000Z')] });
    await producer.disconnect();
    await admin.setOffsets({ groupId: `${config.kafka.groupIdPrefix}.reconciler`, topic: routed, partitions: [{ partition: 0, offset: '2' }] });
  } finally {
    await admin.disconnect();
  }
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteGroups([`${config.kafka.groupIdPrefix}.reconciler`]).catch(() => undefined);
  await admin.deleteTopics({ topics: [names().routed('customer'), names().dlq] }).catch(() => undefined);
  await admin.disconnect();
});

/** Runs the CLI asynchronously: the health server it asks lives in this process. */
function cli(args: string[], token = TOKEN): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/shopforce.js', 'status', '--config', configFile, ...args], {
      cwd: REPO_DIR, encoding: 'utf8', env: { ...process.env, SHOP_DATABASE_URL: config.shop.databaseUrl, METRICS_TOKEN: token, LOG_LEVEL: 'warn' },
    }, (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}
const status = (...args: string[]) => cli(args);

test('status --json: each stage\'s group and lag, the process\'s readiness, the dead letters newest first', async () => {
  const out = await status('--json');
  assert.equal(out.status, 3, `not healthy: the reconciler is not ready and Salesforce does not answer\n${out.stderr}`);
  const s = JSON.parse(out.stdout);
  const reconciler = s.stages.find((g: any) => g.stage === 'reconciler');
  assert.equal(reconciler.groupId, `${config.kafka.groupIdPrefix}.reconciler`);
  assert.equal(reconciler.state, 'Empty', 'a group with offsets and no running member');
  assert.equal(reconciler.members, 0);
  assert.deepEqual(reconciler.topics, [{ topic: names().routed('customer'), lag: 6, partitions: 2, committed: true }], '(5 - 2) + (3 - 0)');
  assert.equal(reconciler.lag, 6);
  assert.deepEqual(s.stages.map((g: any) => g.stage), ['router', 'reconciler', 'shop-sink', 'sf-sink']);
  assert.equal(s.stages.find((g: any) => g.stage === 'router').state, 'Dead', 'a group that never ran');

  assert.equal(s.process.reachable, true);
  assert.equal(s.process.ready, false);
  assert.deepEqual(s.process.checks, { router: true, reconciler: false });

  assert.equal(s.deadLetters.total, 2);
  assert.equal(s.deadLetters.notReplayed, 2);
  assert.deepEqual(s.deadLetters.latest.map((d: any) => [d.reason, d.key]), [['no enabled flow for entity gizmo', 'k1'], ['customer without a key', 'k0']]);
  assert.equal(s.deadLetters.latest[0].source, `${names().routed('customer')}[0]@1`);

  const deps = Object.fromEntries(s.dependencies.map((d: any) => [d.name, d.healthy]));
  assert.deepEqual(deps, { registry: true, 'shop database': true, salesforce: false });
  assert.ok(!out.stdout.includes('shopforce:shopforce@'), 'the database password is not printed');
});

test('status as a table: components, stages, dead letters', async () => {
  const out = await status('--dead-letters', '1');
  const text = out.stdout;
  assert.match(text, /^component\s+health\s+address/m);
  assert.match(text, /^shopforce run\s+NOT READY\s+http:\/\/127\.0\.0\.1:\d+\/readyz\s+router, reconciler \(not ready\)$/m);
  assert.match(text, /^reconciler\s+\S+\.reconciler\s+Empty\s+0\s+6$/m);
  assert.match(text, /^dead letters: 2 in \S+sync\.dlq, 2 not replayed/m);
  assert.match(text, /non-retryable\/poison: no enabled flow for entity gizmo/);
  assert.ok(!text.includes('customer without a key'), '--dead-letters 1 shows the latest only');
});

test('a wrong access token is said as such', async () => {
  const out = await cli(['--json'], 'not-the-token-at-all-000');
  assert.match(JSON.parse(out.stdout).process.error, /401/);
});
