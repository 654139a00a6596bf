import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { counterValue, sourceRig, waitUntil } from './source-fixtures.ts';

describe('Salesforce source over the Streaming API (CometD) delivers the same', () => {
  let t: TestSandbox;

  before(async () => {
    t = await startTestSandbox({ cometdLongPollSeconds: 2 });
  });
  after(async () => {
    await t.cleanup();
  });

  it('publishes creates and one-field updates with full images, as the Pub/Sub mode does', async () => {
    const rig = await sourceRig(t, 'streaming', ['Product2']);
    const source = rig.make();
    await source.start();
    try {
      await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
      const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-CM-1' }, fields: { Name: 'Kettle', Family: 'Kitchen', Description: 'Steel' } });
      t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: null } });
      t.sb.admin.userEdit({ object: 'Product2', id, fields: { Family: 'Appliances' } });
      const msgs = await rig.readAll('Product2');
      assert.deepEqual(msgs.map((m) => m.value.changeType), ['CREATE', 'UPDATE', 'UPDATE'], 'each change once, nothing more');
      assert.ok(msgs.every((m) => m.key === id && m.value.origin === 'streaming'));
      const [created, nulled, changed] = msgs.map((m) => m.value);
      assert.equal(created.record.Name, 'Kettle');
      assert.equal(nulled.record.Description, null, 'a field set to null is null in the image');
      assert.equal(nulled.record.Name, 'Kettle');
      assert.deepEqual(changed.record, { ...nulled.record, Family: 'Appliances', LastModifiedDate: changed.record.LastModifiedDate });
      assert.match(changed.record.LastModifiedDate, /Z$/);
      assert.equal(await counterValue(rig.registry, 'shopforce_sf_source_rest_calls_total'), 0);
    } finally {
      await source.stop();
    }
  });

  it('resumes after the server forgets its CometD client and across a restart, losing and repeating nothing', async () => {
    const rig = await sourceRig(t, 'streaming', ['Product2']);
    let source = rig.make();
    await source.start();
    try {
      await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
      const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-CM-2' }, fields: { Name: 'Toaster' } });
      for (let i = 0; i < 20; i++) t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: `a${i}` } });
      await waitUntil(() => source.status().channels[0].messages >= 21, 'the first changes');
      assert.ok(t.sb.admin.dropCometdClients() >= 1);
      for (let i = 0; i < 20; i++) t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: `b${i}` } });
      await waitUntil(() => source.status().channels[0].messages >= 41, 'the changes after the drop', 20_000);
      await source.stop();
      for (let i = 0; i < 20; i++) t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: `c${i}` } });
      source = rig.make();
      await source.start();
      // the sentinel is published after the changes made while the source was down (replayed from the checkpoint)
      const msgs = await rig.readAll('Product2');
      assert.equal(msgs.length, 61, 'the create and the 60 updates, nothing more');
      assert.equal(new Set(msgs.map((m) => m.value.replayId)).size, 61, 'no replay id twice');
      assert.deepEqual(msgs.slice(1).map((m) => m.value.record.Description), [
        ...Array.from({ length: 20 }, (_, i) => `a${i}`), ...Array.from({ length: 20 }, (_, i) => `b${i}`), ...Array.from({ length: 20 }, (_, i) => `c${i}`),
      ]);
    } finally {
      await source.stop();
    }
  });
});
