import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { changeEventChannel } from '../../src/salesforce/source/index.ts';
import { counterValue, sourceRig, waitUntil } from './source-fixtures.ts';
import { ensureTopics } from '../../src/kafka/topics.ts';

describe('Salesforce source: a checkpoint whose replay id Salesforce refuses', () => {
  let t: TestSandbox;

  before(async () => {
    t = await startTestSandbox({ pubSubKeepaliveMs: 500 });
  });
  after(async () => {
    await t.cleanup();
  });

  for (const mode of ['pubsub', 'streaming'] as const) {
    it(`${mode}: alerts, re-reads the records changed since the checkpoint by SOQL, then follows new changes`, async () => {
      const rig = await sourceRig(t, mode, ['Product2']);
      const checkpointTime = Date.now() - 1000;
      // a checkpoint from "before the retention window": an id the org does not know
      // the topic the source would create (brokers do not create topics on first write)
      const admin = rig.kafka.admin();
      await admin.connect();
      await ensureTopics(admin, [{ topic: rig.topics.checkpoints, partitions: 1, compacted: true }]);
      await admin.disconnect();
      const producer = rig.kafka.producer();
      await producer.connect();
      await producer.send({
        topic: rig.topics.checkpoints,
        messages: [{ key: changeEventChannel('Product2'), value: JSON.stringify({ channel: changeEventChannel('Product2'), object: 'Product2', replayId: '987654321', commitTimestamp: checkpointTime, writtenAt: new Date().toISOString() }) }],
      });
      await producer.disconnect();
      const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: `SKU-EXPIRED-${mode}` }, fields: { Name: 'Missed while away', Family: 'Lost' } });

      const source = rig.make();
      await source.start();
      try {
        const reread = await rig.read('Product2', (all) => all.some((m) => m.key === id));
        const m = reread.find((x) => x.key === id)!.value;
        assert.equal(m.origin, 'reread');
        assert.equal(m.rereadReason, 'replay-id-invalid');
        assert.equal(m.replayId, null);
        assert.equal(m.record.Name, 'Missed while away');
        assert.match(m.position, /^reread:\d+:/);
        assert.equal(await counterValue(rig.registry, 'shopforce_sf_source_alerts_total', { kind: 'replay-id-invalid' }), 1);

        await waitUntil(() => source.status().channels[0].state === 'live', 'the new subscription');
        t.sb.admin.userEdit({ object: 'Product2', id, fields: { Family: 'Found' } });
        const all = await rig.read('Product2', (msgs) => msgs.some((x) => x.value.changeType === 'UPDATE'));
        const update = all.find((x) => x.value.changeType === 'UPDATE')!.value;
        assert.equal(update.record.Family, 'Found');
        assert.equal(update.record.Name, 'Missed while away', 'the image of the re-read record is kept');
        await waitUntil(() => source.status().channels[0].checkpoint?.replayId === update.replayId, 'the checkpoint to move on');
      } finally {
        await source.stop();
      }
    });

    it(`${mode}: a channel that never saw an event, restarted after the org expired every event, re-reads what changed meanwhile`, async () => {
      const rig = await sourceRig(t, mode, ['Account']);
      t.sb.admin.expireEvents();
      const first = rig.make({ initialReplay: 'EARLIEST' });
      await first.start();
      try {
        await waitUntil(() => first.status().channels[0].state === 'live', 'the first subscription');
      } finally {
        await first.stop();
      }
      // while `run` is away: a customer is created in the org, and days pass (its event expires)
      const { id } = t.sb.admin.userEdit({ object: 'Account', externalId: { field: 'Shop_Customer_Id__c', value: `C-AWAY-${mode}` }, fields: { Name: 'Created while away' } });
      assert.ok(t.sb.admin.expireEvents() > 0, 'the org expired the event of the new Account');

      const second = rig.make({ initialReplay: 'EARLIEST' });
      await second.start();
      try {
        const all = await rig.read('Account', (msgs) => msgs.some((m) => m.key === id));
        const m = all.find((x) => x.key === id)?.value;
        assert.ok(m, 'the Account created while away is on Kafka');
        assert.equal(m.origin, 'reread');
        assert.equal(m.rereadReason, 'resume-after-reread');
        assert.equal(m.record.Name, 'Created while away');
        assert.equal(await counterValue(rig.registry, 'shopforce_sf_source_alerts_total'), 0, 'a planned resume raises no alert');
        await waitUntil(() => second.status().channels[0].state === 'live', 'the second subscription');
        t.sb.admin.userEdit({ object: 'Account', id, fields: { Name: 'Renamed after the restart' } });
        const later = await rig.read('Account', (msgs) => msgs.some((x) => x.value.changeType === 'UPDATE' && x.key === id));
        assert.equal(later.find((x) => x.value.changeType === 'UPDATE' && x.key === id)?.value.record.Name, 'Renamed after the restart');
      } finally {
        await second.stop();
      }
    });
  }
});
