import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { ensureTopics, partitionCounts } from '../../src/kafka/topics.ts';
import { getTestStack } from '../support/stack.ts';
import { deleteTestTopics, testKafka } from '../support/runtime-kafka.ts';

const { ConfigResourceTypes } = kafkajs;
let kafka: Kafka;
let admin: Admin;
const cleanup: string[] = [];

before(async () => {
  kafka = testKafka((await getTestStack()).kafka.brokers);
  admin = kafka.admin();
  await admin.connect();
});

after(async () => {
  await admin.disconnect();
  await deleteTestTopics(kafka, cleanup);
});

test('ensureTopics creates missing topics once, compacted where asked, and accepts them on the next run', async () => {
  const state = `topics-state-${randomUUID()}`;
  const stream = `topics-stream-${randomUUID()}`;
  cleanup.push(state, stream);
  const specs = [{ topic: state, partitions: 4, compacted: true }, { topic: stream, partitions: 2, configs: { 'retention.ms': '86400000' } }];
  assert.deepEqual(await ensureTopics(admin, specs), { created: [state, stream], existing: [] });
  assert.deepEqual(await ensureTopics(admin, specs), { created: [], existing: [state, stream] });

  const { topics } = await admin.fetchTopicMetadata({ topics: [state, stream] });
  assert.deepEqual(topics.map((t) => [t.name, t.partitions.length]).sort(), [[state, 4], [stream, 2]].sort());
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [state, stream].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['cleanup.policy', 'retention.ms'] })),
  });
  const config = (name: string, key: string) => resources.find((r) => r.resourceName === name)!.configEntries.find((e) => e.configName === key)!.configValue;
  assert.equal(config(state, 'cleanup.policy'), 'compact');
  assert.equal(config(stream, 'cleanup.policy'), 'delete');
  assert.equal(config(stream, 'retention.ms'), '86400000');
});

test('an existing topic with too few partitions is an error that says how to fix it', async () => {
  const topic = `topics-small-${randomUUID()}`;
  cleanup.push(topic);
  await ensureTopics(admin, [{ topic, partitions: 1 }]);
  await assert.rejects(ensureTopics(admin, [{ topic, partitions: 6, compacted: true }]), new RegExp(`topic ${topic} exists with 1 partition\\(s\\) but 6 are needed`));
});

test('copies starting together on a new cluster: each sees every topic served once ensureTopics returns', async () => {
  // as two `run` copies (or three test files) starting at once: one creates the topics, the others find
  // them listed before the broker serves them, and must still wait for their leaders
  const specs = Array.from({ length: 12 }, (_, i) => ({ topic: `topics-race-${i}-${randomUUID()}`, partitions: 6 }));
  cleanup.push(...specs.map((s) => s.topic));
  const copies = await Promise.all([0, 1, 2].map(async () => {
    const a = kafka.admin();
    await a.connect();
    return a;
  }));
  try {
    const results = await Promise.all(copies.map(async (a) => {
      const result = await ensureTopics(a, specs);
      return { result, counts: await partitionCounts(a, specs.map((s) => s.topic)) };
    }));
    const created = results.flatMap((r) => r.result.created);
    assert.equal(new Set(created).size, specs.length, 'every topic created by one of the copies');
    for (const { counts } of results) assert.deepEqual([...counts.values()], specs.map(() => 6));
  } finally {
    await Promise.all(copies.map((a) => a.disconnect()));
  }
});
