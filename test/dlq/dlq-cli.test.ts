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
import type { StackAddresses } from '../../src/stack/stack.ts';
import { collectMessages } from '../support/kafka.ts';
import { getTestStack } from '../support/stack.ts';

const run = promisify(execFile);
const cli = (args: string[]) => run(process.execPath, [join(REPO_DIR, 'bin/shopforce.js'), ...args], { timeout: 120_000 });

// `shopforce dlq list|replay` as an operator uses it: see why records failed, fix the cause, send
// them back where they came from — once.
describe('shopforce dlq', () => {
  let stack: StackAddresses;
  const id = randomUUID().slice(0, 8);
  const dlqTopic = `test-${id}.sync.dlq`;
  const sourceTopic = `test-${id}.sync.out.shop`;

  /** A dead-letter topic holding one dead letter of `source`. */
  async function deadLetterTopic(dlq: string, source: string): Promise<void> {
    const kafka = new Kafka({ brokers: stack.kafka.brokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic: dlq, partitions: 1 }, { topic: source, partitions: 1 }]);
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic: dlq,
      messages: [buildDlqMessage({
        processor: 'shop-sink', groupId: 'g', failure: 'non-retryable', error: new Error('SQLSTATE 23514: price must not be negative'),
        errorClass: 'fatal', attempts: 1, topic: source, partition: 0,
        message: { key: Buffer.from('shop-1|SKU-1'), value: Buffer.from('{"price":"-1"}'), headers: { trace: Buffer.from('abc') }, offset: '41', timestamp: '1', attributes: 0, size: 0 } as any,
      })],
    });
    await producer.disconnect();
  }

  before(async () => {
    stack = await getTestStack();
    await deadLetterTopic(dlqTopic, sourceTopic);
  });

  test('list shows each dead letter with its processor, source coordinates and reason', async () => {
    const { stdout } = await cli(['dlq', '--topic', dlqTopic, 'list']);
    assert.match(stdout, new RegExp(`shop-sink\\s+${sourceTopic.replace(/\./g, '\\.')}\\[0\\]@41\\s+key=shop-1\\|SKU-1`));
    assert.match(stdout, /non-retryable\/fatal: SQLSTATE 23514: price must not be negative/);
    assert.match(stdout, /1 dead letter\(s\), 1 not replayed/);
  });

  test('replay sends the record back to its source topic unchanged, once', async () => {
    const first = await cli(['dlq', '--topic', dlqTopic, 'replay']);
    assert.match(first.stdout, new RegExp(`replayed 1 dead letter\\(s\\): ${sourceTopic.replace(/\./g, '\\.')}`));
    const [back] = await collectMessages(stack.kafka.brokers, [sourceTopic], { until: (all) => all.length >= 1, timeoutMs: 30_000 });
    assert.equal(back?.key, 'shop-1|SKU-1');
    assert.deepEqual(back?.value, { price: '-1' });
    assert.equal(back?.headers.trace, 'abc', 'original headers kept');
    assert.equal(back?.headers['shopforce-replayed-from'], `${dlqTopic}[0]@0`);
    assert.ok(!Object.keys(back?.headers ?? {}).some((h) => h.startsWith('dlq.')), 'no dlq.* headers on the replayed record');

    const second = await cli(['dlq', '--topic', dlqTopic, 'replay']);
    assert.match(second.stdout, /replayed 0 dead letter\(s\)/);
    assert.match((await cli(['dlq', '--topic', dlqTopic, 'list'])).stdout, /\(replayed\)/);
  });

  test('replays of several dead-letter topics at once each send their record back and mark it replayed', async () => {
    // the replay marks of every topic are one consumer group's offsets, which Kafka sets only while nobody else sets them
    const topics = Array.from({ length: 4 }, (_, i) => ({ dlq: `test-${id}-${i}.sync.dlq`, source: `test-${id}-${i}.sync.out.shop` }));
    for (const t of topics) await deadLetterTopic(t.dlq, t.source);
    const outputs = await Promise.all(topics.map((t) => cli(['dlq', '--topic', t.dlq, 'replay'])));
    for (const [i, out] of outputs.entries()) assert.match(out.stdout, /replayed 1 dead letter\(s\)/, `replay of ${topics[i]!.dlq}`);
    for (const t of topics) assert.match((await cli(['dlq', '--topic', t.dlq, 'list'])).stdout, /\(replayed\)/, `${t.dlq} marked replayed`);
  });

  test('a missing dead-letter topic is a clear error', async () => {
    await assert.rejects(cli(['dlq', '--topic', `nope-${id}`, 'list']), (err: any) => {
      assert.match(err.stderr, /dead-letter topic nope-\w+ does not exist/);
      return true;
    });
  });
});
