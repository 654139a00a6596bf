import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { counterValue, sourceRig, waitUntil, type SourceRig } from './source-fixtures.ts';

describe('Salesforce source over the Pub/Sub API: user edits to sf.cdc.<Object> with full images', () => {
  let t: TestSandbox;
  let rig: SourceRig;

  before(async () => {
    t = await startTestSandbox({ pubSubKeepaliveMs: 500 });
    rig = await sourceRig(t, 'pubsub', ['Product2', 'Account']);
  });
  after(async () => {
    await t.cleanup();
  });

  it('publishes a create and a one-field update, the update carrying every field, without a REST read', async () => {
    const source = rig.make();
    await source.start();
    try {
      await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
      const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-FULL-1' }, fields: { Name: 'Lamp', Family: 'Lighting', IsActive: true, Description: 'A lamp' } });
      t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: 'A brighter lamp' } });
      t.sb.admin.userEdit({ object: 'Product2', id, fields: { Family: null } });
      t.sb.admin.userEdit({ object: 'Product2', id, delete: true });
      const account = t.sb.admin.userEdit({ object: 'Account', externalId: { field: 'Shop_Customer_Id__c', value: 'C-1' }, fields: { Name: 'Acme' } });
      const msgs = await rig.readAll('Product2');
      assert.equal(msgs.length, 4, 'create, update, update, delete: nothing more');
      const [created, updated, nulled, deleted] = msgs.map((m) => m.value);
      assert.equal(nulled.record.Family, null, 'a nulled field is null in the image');
      assert.equal(nulled.record.Description, 'A brighter lamp');
      assert.deepEqual(nulled.changed.Family, null);
      assert.equal(deleted.changeType, 'DELETE');
      assert.equal(deleted.record, null);
      const accounts = await rig.readAll('Account');
      assert.equal(accounts.length, 1);
      assert.equal(accounts[0].key, account.id);
      assert.equal(accounts[0].value.record.Name, 'Acme');
      assert.equal(msgs[0].key, id);
      assert.equal(created.changeType, 'CREATE');
      assert.equal(created.record.Name, 'Lamp');
      assert.equal(updated.changeType, 'UPDATE');
      assert.deepEqual(updated.changed.Description, 'A brighter lamp');
      assert.equal(updated.record.Description, 'A brighter lamp');
      assert.equal(updated.record.Name, 'Lamp', 'unchanged fields are in the image');
      assert.equal(updated.record.Family, 'Lighting');
      assert.equal(updated.record.Sku__c, 'SKU-FULL-1');
      assert.equal(updated.imageSource, 'image');
      assert.ok(Number(updated.replayId) > Number(created.replayId));
      assert.equal(msgs[1].headers['sf-replay-id'], updated.replayId);
      assert.equal(msgs[1].headers['sf-transaction-key'], updated.ChangeEventHeader.transactionKey);
      assert.equal(msgs[1].headers['sf-commit-timestamp'], String(updated.ChangeEventHeader.commitTimestamp));
      assert.equal(await counterValue(rig.registry, 'shopforce_sf_source_rest_calls_total'), 0, 'no REST read when the image is known');
    } finally {
      await source.stop();
    }
  });

  it('reads a record by REST once when an UPDATE arrives for a record it has no image of', async () => {
    const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-NOIMG-1' }, fields: { Name: 'Chair', Family: 'Seating' } });
    // fresh topics: no checkpoint, so the source starts from LATEST and never saw the create
    const fresh = await sourceRig(t, 'pubsub', ['Product2']);
    const source = fresh.make();
    await source.start();
    try {
      await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
      t.sb.admin.userEdit({ object: 'Product2', id, fields: { Family: 'Office' } });
      const msgs = await fresh.read('Product2', (all) => all.some((m) => m.key === id));
      assert.equal(msgs.length, 1);
      const update = msgs[0].value;
      assert.equal(update.changeType, 'UPDATE');
      assert.equal(update.imageSource, 'rest');
      assert.equal(update.record.Name, 'Chair');
      assert.equal(update.record.Family, 'Office');
      assert.equal(await counterValue(fresh.registry, 'shopforce_sf_source_rest_calls_total', { kind: 'retrieve' }), 1);
    } finally {
      await source.stop();
    }
  });

  it('answers a gap event with a REST re-read and publishes the fresh image, with an alert', async () => {
    const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-GAP-1' }, fields: { Name: 'Desk', Family: 'Tables' } });
    const source = rig.make();
    await source.start();
    try {
      await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
      const alertsBefore = await counterValue(rig.registry, 'shopforce_sf_source_alerts_total', { kind: 'gap' });
      t.sb.admin.emitGap('Product2', [id], 'GAP_UPDATE');
      const msgs = await rig.read('Product2', (all) => all.some((m) => m.key === id && m.value.changeType === 'GAP_UPDATE'));
      const gap = msgs.find((m) => m.key === id && m.value.changeType === 'GAP_UPDATE')!.value;
      assert.equal(gap.imageSource, 'rest');
      assert.equal(gap.record.Name, 'Desk');
      assert.equal(gap.record.Sku__c, 'SKU-GAP-1');
      assert.equal(await counterValue(rig.registry, 'shopforce_sf_source_alerts_total', { kind: 'gap' }) - alertsBefore, 1);
      assert.ok(source.status().alerts.some((a) => a.kind === 'gap'));
    } finally {
      await source.stop();
    }
  });

  it('answers GAP_OVERFLOW with a SOQL re-read of the records changed since the last commit', async () => {
    const source = rig.make();
    await source.start();
    try {
      await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
      const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-OVF-1' }, fields: { Name: 'Shelf' } });
      await waitUntil(() => source.status().channels[0].messages >= 1, 'the create written');
      t.sb.admin.emitOverflow('Product2');
      const msgs = await rig.read('Product2', (all) => all.some((m) => m.key === id && m.value.changeType === 'GAP_OVERFLOW'));
      const overflow = msgs.find((m) => m.key === id && m.value.changeType === 'GAP_OVERFLOW')!.value;
      assert.equal(overflow.record.Name, 'Shelf');
      assert.equal(overflow.rereadReason, 'gap-overflow');
      assert.ok(await counterValue(rig.registry, 'shopforce_sf_source_rest_calls_total', { kind: 'query' }) >= 1);
      assert.ok(await counterValue(rig.registry, 'shopforce_sf_source_alerts_total', { kind: 'gap-overflow' }) >= 1);
    } finally {
      await source.stop();
    }
  });
});
