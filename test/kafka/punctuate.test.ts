import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Kafka } from 'kafkajs';
import { createProcessor } from '../../src/kafka/processor.ts';
import type { Processor, ProcessorOptions, Punctuation } from '../../src/kafka/types.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { getTestStack } from '../support/stack.ts';
import { exited, startWorker } from '../support/runtime-process.ts';
import { createTestTopics, deleteTestTopics, eventually, groupCaughtUp, startCollector, testKafka, type Collected } from '../support/runtime-kafka.ts';

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

interface WindowOut { key: string; window: number; seq: number; final: boolean }

/** Every open window `w:<key>`: written as {key, window, seq, final}, then deleted; state `seq` counts the punctuations that wrote. */
function windowPunctuation(output: string, intervalMs: number): Punctuation<number> {
  return {
    intervalMs,
    async handle(ctx) {
      const open = [...ctx.state.entries()].filter(([k]) => k.startsWith('w:'));
      if (open.length === 0) return [];
      const seq = (ctx.state.get('seq') ?? 0) + 1;
      ctx.state.set('seq', seq);
      for (const k of ctx.state.keys()) if (k.startsWith('w:')) ctx.state.delete(k);
      return open.map(([k, window]) => ({ topic: output, key: k.slice(2), value: JSON.stringify({ key: k.slice(2), window, seq, final: ctx.final }) }));
    },
  };
}

/** A tumbling window per key: records count into state `w:<key>`, punctuations write and close the windows. */
function windowCounter(groupId: string, input: string, output: string, intervalMs: number, extra: Partial<ProcessorOptions<Buffer | null, number>> = {}): Processor {
  return createProcessor<Buffer | null, number>({
    name: 'window-test',
    kafka,
    groupId,
    topics: [input],
    transactional: true,
    state: {},
    dlqTopic: `${groupId}.dlq`,
    maxRecordsPerCommit: 10,
    logger: createLogger('test.punctuate', 'error'),
    async handle(ctx) {
      const k = `w:${ctx.key!.toString()}`;
      ctx.state.set(k, (ctx.state.get(k) ?? 0) + 1);
      return [];
    },
    punctuate: windowPunctuation(output, intervalMs),
    ...extra,
  });
}

async function produce(topic: string, messages: { key: string; value: string }[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
}

const windowsOf = (messages: Collected[]): WindowOut[] => messages.map((m) => JSON.parse(m.value!.toString()) as WindowOut);
const sumByKey = (ws: WindowOut[]) => ws.reduce((m, w) => m.set(w.key, (m.get(w.key) ?? 0) + w.window), new Map<string, number>());

test('punctuations see the state records set, and their outputs appear exactly once read_committed', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'pn-in', partitions: 2 }, { prefix: 'pn-out', partitions: 2 }]);
  const groupId = `pn-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.state-changelog`, `${groupId}.dlq`);
  const keys = Array.from({ length: 6 }, (_, i) => `sku-${i}`);
  const processor = windowCounter(groupId, input, output, 300);
  const committed = await startCollector(kafka, [output]);
  try {
    await processor.start();
    for (let round = 0; round < 5; round++) {
      await produce(input, keys.flatMap((key) => Array.from({ length: 4 }, (_, i) => ({ key, value: `${round}.${i}` }))));
      await new Promise((r) => setTimeout(r, 400));
    }
    await eventually(() => [...sumByKey(windowsOf(committed.messages)).values()].reduce((a, b) => a + b, 0) >= 120, 'every record counted in a window', 60_000);
    await eventually(() => groupCaughtUp(kafka, groupId, input), 'every input committed');
    await new Promise((r) => setTimeout(r, 1_000)); // later punctuations have nothing left to write
    const ws = windowsOf(committed.messages);
    assert.deepEqual(Object.fromEntries(sumByKey(ws)), Object.fromEntries(keys.map((k) => [k, 20])), 'each record counted exactly once across the windows');
    assert.ok(new Set(ws.map((w) => w.seq)).size > 1, 'several punctuations wrote windows');
    const perKeySeq = ws.map((w) => `${w.key}#${w.seq}`);
    assert.equal(new Set(perKeySeq).size, perKeySeq.length, 'no window written twice');
  } finally {
    await processor.stop();
    await committed.stop();
  }
});

test('stop() runs a final punctuation before leaving the group; a punctuation\'s state changes survive a restart', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'pf-in', partitions: 1 }, { prefix: 'pf-out', partitions: 1 }]);
  const groupId = `pf-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.state-changelog`, `${groupId}.dlq`);
  const committed = await startCollector(kafka, [output]);
  try {
    // an interval no test waits for: only the final punctuations write
    const first = windowCounter(groupId, input, output, 600_000);
    await first.start();
    await produce(input, [...Array.from({ length: 10 }, (_, i) => ({ key: 'a', value: `${i}` })), ...Array.from({ length: 7 }, (_, i) => ({ key: 'b', value: `${i}` }))]);
    await eventually(() => groupCaughtUp(kafka, groupId, input), 'the first inputs committed');
    assert.equal(committed.messages.length, 0, 'no punctuation yet');
    await first.stop();
    await committed.waitFor(2, 30_000);
    assert.deepEqual(windowsOf(committed.messages).sort((x, y) => x.key.localeCompare(y.key)), [
      { key: 'a', window: 10, seq: 1, final: true },
      { key: 'b', window: 7, seq: 1, final: true },
    ]);

    const second = windowCounter(groupId, input, output, 600_000);
    await second.start();
    await produce(input, [{ key: 'a', value: 'x' }, { key: 'c', value: 'y' }, { key: 'c', value: 'z' }]);
    await eventually(() => groupCaughtUp(kafka, groupId, input), 'the later inputs committed');
    await second.stop();
    await committed.waitFor(4, 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(windowsOf(committed.messages.slice(2)).sort((x, y) => x.key.localeCompare(y.key)), [
      { key: 'a', window: 1, seq: 2, final: true },
      { key: 'c', window: 2, seq: 2, final: true },
    ], 'seq went on and the flushed windows stayed deleted: both restored from the changelog');
    assert.equal(committed.messages.length, 4);
  } finally {
    await committed.stop();
  }
});

test('a processor killed between a punctuation\'s produce and commit leaves no committed duplicate output', async () => {
  const [input, output, windows] = await createTestTopics(kafka, [{ prefix: 'pk-in', partitions: 3 }, { prefix: 'pk-out', partitions: 3 }, { prefix: 'pk-win', partitions: 3 }]);
  const group = `pk-group-${randomUUID()}`;
  cleanup.push(input, output, windows, `${group}.state-changelog`, `${group}.dlq`);
  const keys = Array.from({ length: 5 }, (_, i) => `k${i}`);
  await produce(input, keys.flatMap((key) => Array.from({ length: 40 }, (_, i) => ({ key, value: `${key}#${i}` }))));

  const env = { BROKERS: brokers.join(','), INPUT: input, OUTPUT: output, GROUP: group, PUNCTUATE_OUTPUT: windows, PUNCTUATE_MS: '300', DELAY_MS: '2' };
  const first = startWorker({ ...env, CRASH_AT_PUNCTUATION: '1' });
  assert.equal((await exited(first)).signal, 'SIGKILL', 'the first worker died inside a punctuation transaction');

  const committed = await startCollector(kafka, [windows]);
  const uncommitted = await startCollector(kafka, [windows], { readUncommitted: true });
  const second = startWorker(env);
  try {
    await eventually(() => [...sumByKey(windowsOf(committed.messages)).values()].reduce((a, b) => a + b, 0) >= 200, 'every record counted in a committed window', 90_000);
    await eventually(() => groupCaughtUp(kafka, group, input), 'the group committed every input', 60_000);
    second.kill('SIGTERM');
    assert.equal((await exited(second)).code, 0);
    await new Promise((r) => setTimeout(r, 500));
    const ws = windowsOf(committed.messages);
    assert.deepEqual(Object.fromEntries(sumByKey(ws)), Object.fromEntries(keys.map((k) => [k, 40])), 'each record in exactly one committed window');
    assert.ok(uncommitted.messages.length > committed.messages.length, 'the killed punctuation had written outputs that read_committed consumers never saw');
  } finally {
    if (second.exitCode === null && second.signalCode === null) second.kill('SIGKILL');
    await committed.stop();
    await uncommitted.stop();
  }
});

test('a failing punctuation loses its state writes and runs again on the next tick; a fenced one is aborted and its partition taken over again', async () => {
  const [input, output] = await createTestTopics(kafka, [{ prefix: 'pe-in', partitions: 1 }, { prefix: 'pe-out', partitions: 1 }]);
  const groupId = `pe-group-${randomUUID()}`;
  cleanup.push(input, output, `${groupId}.state-changelog`, `${groupId}.dlq`);
  let calls = 0;
  let fenced = false;
  let sawPoison = false;
  const windows = windowPunctuation(output, 300);
  const processor = windowCounter(groupId, input, output, 300, {
    hooks: {
      async beforePunctuationCommit() {
        if (fenced) return;
        // another process starts with this partition's transactional id: this punctuation's transaction is a zombie's
        const usurper = kafka.producer({ transactionalId: `${groupId}.0`, idempotent: true, maxInFlightRequests: 1 });
        await usurper.connect();
        await (await usurper.transaction()).abort();
        await usurper.disconnect();
        fenced = true;
      },
    },
    punctuate: {
      intervalMs: 300,
      async handle(ctx) {
        if (ctx.state.has('poison')) sawPoison = true;
        if ([...ctx.state.keys()].length === 0) return [];
        if (++calls === 1) {
          ctx.state.set('poison', 1);
          throw new Error('the first punctuation with open windows fails');
        }
        return windows.handle(ctx);
      },
    },
  });
  const committed = await startCollector(kafka, [output]);
  const uncommitted = await startCollector(kafka, [output], { readUncommitted: true });
  try {
    await processor.start();
    await produce(input, Array.from({ length: 12 }, (_, i) => ({ key: `k${i % 3}`, value: `${i}` })));
    await eventually(() => [...sumByKey(windowsOf(committed.messages)).values()].reduce((a, b) => a + b, 0) >= 12, 'the windows written after the failure and the fence', 60_000);
    await new Promise((r) => setTimeout(r, 1_000));
    assert.ok(calls >= 3, `failed, fenced, then committed (${calls} calls)`);
    assert.ok(fenced);
    assert.equal(sawPoison, false, 'the failed punctuation\'s state write was dropped');
    assert.deepEqual(Object.fromEntries(sumByKey(windowsOf(committed.messages))), { k0: 4, k1: 4, k2: 4 }, 'each record in exactly one committed window');
    assert.ok(uncommitted.messages.length > committed.messages.length, 'the fenced punctuation had written outputs');
    assert.ok(windowsOf(committed.messages).every((w) => w.seq === 1), 'the fenced punctuation\'s seq was rolled back with its partition\'s state');
  } finally {
    await processor.stop();
    await committed.stop();
    await uncommitted.stop();
  }
});
