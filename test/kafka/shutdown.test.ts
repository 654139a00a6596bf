import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
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
  brokers = (await getTestStack()).kafka.brokers;
  kafka = testKafka(brokers);
});

after(async () => {
  await deleteTestTopics(kafka, cleanup);
});

test('SIGTERM mid-stream commits what was done: an at-least-once processor restarts without repeating a record', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'sd-in', partitions: 2 }, { prefix: 'sd-out', partitions: 2 }]);
  const group = `sd-group-${randomUUID()}`;
  cleanup.push(input, output, `${group}.state-changelog`, `${group}.dlq`);
  const inputs = Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 8}`, value: `in-${i}` }));
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic: input, messages: inputs });
  await producer.disconnect();

  const outputs = await startCollector(kafka, [output]);
  const env = { BROKERS: brokers.join(','), INPUT: input, OUTPUT: output, GROUP: group, TRANSACTIONAL: 'false', DELAY_MS: '10' };
  const first = startWorker(env);
  let second: ChildProcess | undefined;
  try {
    await outputs.waitFor(30, 60_000);
    first.kill('SIGTERM');
    assert.deepEqual(await exited(first), { code: 0, signal: null }, 'the worker stopped cleanly');
    const beforeRestart = outputs.messages.length;
    assert.ok(beforeRestart < inputs.length, 'stopped mid-stream');

    second = startWorker({ ...env, DELAY_MS: '0' });
    await outputs.waitFor(inputs.length, 60_000);
    await eventually(() => groupCaughtUp(kafka, group, input), 'the group committed every input', 60_000);
    second.kill('SIGTERM');
    assert.equal((await exited(second)).code, 0);
    // every output, read to the end of the topic (no drain window)
    const seen = (await collectThroughSentinel(brokers, [output], { count: 0 })).messages.map((m) => m.value as { input: string; key: string; count: number });
    assert.equal(new Set(seen.map((s) => s.input)).size, inputs.length, 'every input was processed');
    assert.equal(seen.length, inputs.length, 'no input was processed twice across the restart');
    for (let k = 0; k < 8; k++) {
      assert.equal(Math.max(...seen.filter((s) => s.key === `k${k}`).map((s) => s.count)), 25, `count of k${k} continued from its state`);
    }
  } finally {
    for (const child of [first, second]) if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await outputs.stop();
  }
});
