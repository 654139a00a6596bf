import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { collectThroughSentinel } from '../support/kafka.ts';
import { getTestStack } from '../support/stack.ts';
import { exited, startWorker } from '../support/runtime-process.ts';
import { createTestTopics, deleteTestTopics, eventually, groupCaughtUp, startCollector, testKafka } from '../support/runtime-kafka.ts';

let kafka: Kafka;
let brokers: string[];
const cleanup: string[] = [];

before(async () => {
  const stack = await getTestStack();
  brokers = stack.kafka.brokers;
  kafka = testKafka(brokers);
});

after(async () => {
  await deleteTestTopics(kafka, cleanup);
});

test('a transactional processor killed between produce and commit yields exactly one output per input after restart', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'eos-in', partitions: 3 }, { prefix: 'eos-out', partitions: 3 }]);
  const group = `eos-group-${randomUUID()}`;
  cleanup.push(input, output, `${group}.state-changelog`, `${group}.dlq`);
  const keys = Array.from({ length: 10 }, (_, i) => `sku-${i}`);
  const inputs = keys.flatMap((key) => Array.from({ length: 30 }, (_, i) => ({ key, value: `${key}#${i}` })));
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: input, messages: inputs });
  await producer.disconnect();

  const env = { BROKERS: brokers.join(','), INPUT: input, OUTPUT: output, GROUP: group };
  const first = startWorker({ ...env, CRASH_AT_COMMIT: '4' });
  const firstEnd = await exited(first);
  assert.equal(firstEnd.signal, 'SIGKILL', 'the first worker died inside a transaction');

  const second = startWorker(env);
  const committed = await startCollector(kafka, [output]);
  const uncommitted = await startCollector(kafka, [output], { readUncommitted: true });
  try {
    await committed.waitFor(inputs.length, 90_000);
    await eventually(() => groupCaughtUp(kafka, group, input), 'the group committed every input', 60_000);
    second.kill('SIGTERM');
    await exited(second);
    // every committed output, read to the end of the topic (no drain window)
    const seen = (await collectThroughSentinel(brokers, [output], { count: 0 })).messages.map((m) => m.value as { key: string; input: string; count: number });
    const perInput = new Map<string, number>();
    for (const s of seen) perInput.set(s.input, (perInput.get(s.input) ?? 0) + 1);
    assert.equal(perInput.size, inputs.length, 'every input produced an output');
    assert.deepEqual([...perInput.values()].filter((n) => n !== 1), [], 'no input produced two committed outputs');
    for (const key of keys) {
      const counts = seen.filter((s) => s.key === key).map((s) => s.count).sort((a, b) => a - b);
      assert.deepEqual(counts, Array.from({ length: 30 }, (_, i) => i + 1), `state of ${key} counted each input once`);
    }
    assert.ok(uncommitted.messages.length > inputs.length, 'the killed transaction had written outputs that read_committed consumers never saw');
  } finally {
    if (second.exitCode === null && second.signalCode === null) second.kill('SIGKILL');
    await committed.stop();
    await uncommitted.stop();
  }
});

test('a member frozen inside a transaction past its session timeout is fenced by the new owner: still exactly one output per input', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'zombie-in', partitions: 1 }, { prefix: 'zombie-out', partitions: 1 }]);
  const group = `zombie-group-${randomUUID()}`;
  cleanup.push(input, output, `${group}.state-changelog`, `${group}.dlq`);
  const dir = mkdtempSync(join(tmpdir(), 'shopforce-zombie-'));
  const marker = join(dir, 'blocked');
  const env = { BROKERS: brokers.join(','), INPUT: input, OUTPUT: output, GROUP: group, DELAY_MS: '2', BLOCK_AT_COMMIT: '3', BLOCK_MS: '10000', BLOCK_MARKER: marker };
  const workers = [startWorker(env), startWorker(env)];
  const committed = await startCollector(kafka, [output]);
  const uncommitted = await startCollector(kafka, [output], { readUncommitted: true });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await eventually(async () => {
      const { groups } = await admin.describeGroups([group]);
      return groups[0]?.state === 'Stable' && groups[0].members.length === 2;
    }, 'both workers joined the group', 60_000);
    const inputs = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 5}`, value: `in-${i}` }));
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: input, messages: inputs });
    await producer.disconnect();

    await committed.waitFor(inputs.length, 120_000);
    await eventually(() => groupCaughtUp(kafka, group, input), 'the group committed every input', 60_000);
    assert.ok(existsSync(marker), 'a worker froze inside a transaction');
    // the zombie wakes up and goes on to commit: a read_committed read to the end of the topic waits for
    // its transaction to be resolved, so what it could have committed is counted
    await eventually(() => existsSync(`${marker}.woke`), 'the frozen member woke up', 30_000);
    const seen = (await collectThroughSentinel(brokers, [output], { count: 0 })).messages.map((m) => m.value as { key: string; input: string; count: number });
    assert.equal(seen.length, inputs.length, 'exactly one committed output per input');
    assert.equal(new Set(seen.map((s) => s.input)).size, inputs.length);
    for (let k = 0; k < 5; k++) {
      assert.deepEqual(seen.filter((s) => s.key === `k${k}`).map((s) => s.count), Array.from({ length: 60 }, (_, i) => i + 1), `state of k${k}`);
    }
    assert.ok(uncommitted.messages.length > inputs.length, 'the frozen member\'s transaction was written and aborted');
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    await Promise.all(workers.map(exited));
    await admin.disconnect();
    await committed.stop();
    await uncommitted.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
