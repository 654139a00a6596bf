import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { buildDlqMessage } from '../../src/kafka/dlq.ts';
import { ensureTopics } from '../../src/kafka/topics.ts';
import { REPO_DIR } from '../../src/stack/context.ts';
import { getTestStack } from '../support/stack.ts';

const run = promisify(execFile);
const cli = (args: string[]) => run(process.execPath, [join(REPO_DIR, 'bin/shopforce.js'), ...args], { timeout: 120_000 });

// `shopforce dlq show|purge --entity|--key`: an operator looks at one entity's or one key's dead
// letters, and removes those dealt with. Kafka deletes a partition's oldest records only: a matching
// dead letter behind one that does not match stays, and purge says so.
describe('shopforce dlq show and purge', () => {
  const id = randomUUID().slice(0, 8);
  const ns = `test-${id}`;
  const dlqTopic = `${ns}.sync.dlq`;
  const letters = [
    { entity: 'customer', key: 'shop-1|C-1' },
    { entity: 'order', key: 'shop-1|O-1' },
    { entity: 'customer', key: 'shop-1|C-2' },
  ];
  const dlq = (...args: string[]) => cli(['dlq', '--topic', dlqTopic, ...args]).then((r) => r.stdout);

  before(async () => {
    const stack = await getTestStack();
    const kafka = new Kafka({ brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: dlqTopic, partitions: 1 }]);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: dlqTopic,
      messages: letters.map((l, i) => buildDlqMessage({
        processor: 'reconciler', groupId: 'g', failure: 'non-retryable', error: new Error(`bad ${l.key}`), errorClass: 'fatal', attempts: 1,
        topic: `${ns}.sync.in.${l.entity}`, partition: 0,
        message: { key: Buffer.from(l.key), value: Buffer.from(JSON.stringify({ entity: l.entity, key: l.key })), headers: {}, offset: String(i), timestamp: '1', attributes: 0, size: 0 } as any,
      })),
    });
    await producer.disconnect();
  });

  test('show picks the dead letters of an entity, or of a key (with or without its shop id)', async () => {
    const customers = await dlq('show', '--entity', 'customer');
    assert.match(customers, /key=shop-1\|C-1/);
    assert.match(customers, /key=shop-1\|C-2/);
    assert.doesNotMatch(customers, /O-1/);
    assert.match(customers, /2 dead letter\(s\) match/);
    const order = await dlq('show', '--key', 'O-1');
    assert.match(order, /key=shop-1\|O-1/);
    assert.match(order, /1 dead letter\(s\) match/);
    assert.match(await dlq('show', '--entity', 'customer', '--key', 'shop-1|C-2'), /1 dead letter\(s\) match/);
  });

  test('purge deletes the matching dead letters at the front of their partition, and names those that stay', async () => {
    const first = await dlq('purge', '--entity', 'customer');
    assert.match(first, /purged 1 dead letter\(s\)/);
    assert.match(first, /1 matching dead letter\(s\) stay: an older dead letter on their partition does not match/);
    assert.match(first, /key=shop-1\|C-2/);
    const left = await dlq('list');
    assert.doesNotMatch(left, /C-1/, 'the purged one is gone from the topic');
    assert.match(left, /2 dead letter\(s\), 2 not replayed/);

    assert.match(await dlq('purge', '--key', 'O-1'), /purged 1 dead letter\(s\)/);
    assert.match(await dlq('purge', '--entity', 'customer'), /purged 1 dead letter\(s\)/);
    assert.match(await dlq('list'), /no dead letters/);
  });
});
