import { randomUUID } from 'node:crypto';
import { fork } from 'node:child_process';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { collectMessages, collectThroughSentinel } from '../support/kafka.ts';
import { exited } from '../support/runtime-process.ts';
import { sandboxSfConfig, sourceRig, waitUntil } from './source-fixtures.ts';

// kill -9 of the source between Kafka's acknowledgement of a batch and the checkpoint of its replay
// id (the test hook betweenKafkaWriteAndCheckpoint): the restarted source replays that batch, so
// nothing is lost, and the copies carry the replay ids (positions) of the first writes, which is what
// the reconciler drops them by. The checkpoint is never ahead of what Kafka holds.
describe('Salesforce source: kill -9 between the Kafka write and the checkpoint', () => {
  let t: TestSandbox;
  before(async () => { t = await startTestSandbox({ pubSubKeepaliveMs: 500 }); });
  after(async () => { await t.cleanup(); });

  for (const mode of ['pubsub', 'streaming'] as const) {
    it(`${mode}: replays the batch it had not checkpointed, with the same replay ids; loses nothing`, async () => {
      const rig = await sourceRig(t, mode, ['Product2']);
      const cdcTopic = `${rig.topics.prefix}.Product2`;
      const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: `SKU-CRASH-${randomUUID()}` }, fields: { Name: 'Crash' } });
      for (let i = 0; i < 5; i++) t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: `before ${i}` } });

      const worker = fork(new URL('../support/source-worker.ts', import.meta.url).pathname, [], {
        execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: {
          ...process.env, CRASH_BETWEEN_KAFKA_WRITE_AND_CHECKPOINT: '2',
          SOURCE_CONFIG: JSON.stringify({
            brokers: rig.brokers, sfConfig: sandboxSfConfig(t, mode), objects: ['Product2'], topicPrefix: rig.topics.prefix,
            imageTopic: rig.topics.images, checkpointTopic: rig.topics.checkpoints, partitions: 2, initialReplay: 'EARLIEST',
          }),
        },
      });
      const ended = exited(worker);
      try {
        // the first batch is checkpointed; the changes after it make the second batch, the one it dies in
        await collectMessages(rig.brokers, [rig.topics.checkpoints], { until: (all) => all.some((m) => m.value?.replayId), timeoutMs: 60_000 });
        for (let i = 0; i < 5; i++) t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: `after ${i}` } });
        assert.deepEqual(await ended, { code: null, signal: 'SIGKILL' }, 'the worker died in the hook');
      } finally {
        worker.kill('SIGKILL');
      }

      const { messages: checkpoints } = await collectThroughSentinel(rig.brokers, [rig.topics.checkpoints], { count: 0 });
      const checkpoint = BigInt(checkpoints.at(-1)!.value.replayId);
      const { messages: beforeRestart } = await collectThroughSentinel(rig.brokers, [cdcTopic], { count: 0 });
      const replayIds = beforeRestart.map((m) => BigInt(m.value.replayId));
      assert.ok(replayIds.some((r) => r > checkpoint), `Kafka holds events past the checkpoint ${checkpoint} (the unchecked batch): ${replayIds.join(', ')}`);
      assert.ok(replayIds.some((r) => r === checkpoint), 'the checkpointed event is on Kafka');

      const source = rig.make({ initialReplay: 'EARLIEST' });
      await source.start();
      try {
        await waitUntil(() => source.status().channels[0]!.state === 'live', 'the subscription');
        const all = await rig.readAll('Product2');
        const descriptions = all.filter((m) => m.key === id).map((m) => m.value.record.Description ?? null);
        const want = [null, ...Array.from({ length: 5 }, (_, i) => `before ${i}`), ...Array.from({ length: 5 }, (_, i) => `after ${i}`)];
        assert.deepEqual([...new Set(descriptions)], want, 'every change is on Kafka, in order');
        // after the restart (the topic has two partitions: compared by replay id, not by offset): the events
        // up to the checkpoint once, the events past it exactly twice and alike (same replay id and
        // position), the events the dead worker never wrote once
        const shape = (m: { key: string | null; value: any }) => JSON.stringify([m.key, m.value.position, m.value.changeType, m.value.record?.Description ?? null]);
        const copies = new Map<string, string[]>();
        for (const m of all) copies.set(m.value.replayId, [...(copies.get(m.value.replayId) ?? []), shape(m)]);
        const written = new Set(beforeRestart.map((m) => m.value.replayId));
        const wrong = [...copies].filter(([r, shapes]) => {
          const twice = written.has(r) && BigInt(r) > checkpoint;
          return shapes.length !== (twice ? 2 : 1) || (twice && shapes[0] !== shapes[1]);
        });
        assert.deepEqual(wrong, [], `only the unchecked events (past replay id ${checkpoint}) come twice, as they were`);
        assert.ok([...written].every((r) => copies.has(r)));
      } finally {
        await source.stop();
      }
    });
  }
});
