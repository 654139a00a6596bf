import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { channelsReady } from '../../src/run/salesforce-stages.ts';
import { startTestSandbox, type TestSandbox } from '../sandbox/sandbox-helpers.ts';
import { counterValue, sourceRig, waitUntil } from './source-fixtures.ts';

/** Replay ids that occur more than once among the messages. */
function repeated(replayIds: string[]): string[] {
  const seen = new Set<string>();
  return replayIds.filter((r) => (seen.has(r) ? true : (seen.add(r), false)));
}

describe('Salesforce source: restarts, stream resets and the watchdog lose and repeat nothing', () => {
  let t: TestSandbox;

  before(async () => {
    t = await startTestSandbox({ pubSubKeepaliveMs: 500 });
  });
  after(async () => {
    await t.cleanup();
  });

  it('restarted in the middle of 500 changes: all 500 on Kafka, none twice by replay id', async () => {
    const rig = await sourceRig(t, 'pubsub', ['Product2']);
    let source = rig.make();
    await source.start();
    await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
    const ids: string[] = [];
    for (let p = 0; p < 10; p++) {
      ids.push(t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: `SKU-R-${p}` }, fields: { Name: `Restart ${p}` } }).id);
    }
    for (let i = 0; i < 500; i++) {
      t.sb.admin.userEdit({ object: 'Product2', id: ids[i % ids.length], fields: { Description: `change ${i}` } });
      if (i === 200) await source.stop();
      if (i === 350) {
        source = rig.make();
        await source.start();
      }
      if (i % 5 === 0) await sleep(2);
    }
    try {
      const msgs = await rig.readAll('Product2', 90_000);
      const updates = msgs.filter((m) => m.value.changeType === 'UPDATE');
      assert.equal(updates.length, 500, 'each change once: none lost, none repeated');
      assert.equal(msgs.length, 510, 'the 10 creates and the 500 updates, nothing more');
      assert.deepEqual(repeated(msgs.map((m) => m.value.replayId)), []);
      const descriptions = new Set(updates.map((m) => m.value.record.Description));
      for (let i = 0; i < 500; i++) assert.ok(descriptions.has(`change ${i}`), `change ${i} is on Kafka`);
      // per record, the changes keep their order
      for (const id of ids) {
        const seq = updates.filter((m) => m.key === id).map((m) => Number(m.value.record.Description.split(' ')[1]));
        assert.deepEqual(seq, [...seq].sort((a, b) => a - b));
      }
      // every update carries the full image, from the restored image topic after the restart
      assert.ok(updates.every((m) => m.value.record.Name?.startsWith('Restart ')));
      assert.ok(updates.every((m) => m.value.imageSource === 'image'), 'images restored from the image topic: no REST read');
      assert.equal(await counterValue(rig.registry, 'shopforce_sf_source_rest_calls_total', { kind: 'retrieve' }), 0);
    } finally {
      await source.stop();
    }
  });

  it('resumes after the server resets the stream, losing and repeating nothing', async () => {
    const rig = await sourceRig(t, 'pubsub', ['Product2']);
    const source = rig.make();
    await source.start();
    try {
      await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
      const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-RESET-1' }, fields: { Name: 'Reset' } });
      for (let i = 0; i < 30; i++) t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: `before ${i}` } });
      await waitUntil(() => source.status().channels[0].messages >= 10, 'some events written');
      assert.ok(t.sb.admin.resetPubSubStreams() >= 1);
      for (let i = 0; i < 30; i++) t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: `after ${i}` } });
      const msgs = await rig.readAll('Product2');
      assert.equal(msgs.length, 61, 'the create and the 60 updates, nothing more');
      assert.deepEqual(repeated(msgs.map((m) => m.value.replayId)), []);
      assert.equal(msgs.at(-1)!.value.record.Description, 'after 29');
      assert.ok(await counterValue(rig.registry, 'shopforce_sf_source_resubscribes_total', { reason: 'stream-lost' }) >= 1);
    } finally {
      await source.stop();
    }
  });

  it('logs in again when the session expires under a live subscription, losing nothing', async () => {
    const rig = await sourceRig(t, 'pubsub', ['Product2']);
    const source = rig.make();
    await source.start();
    try {
      await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
      const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-SESSION-1' }, fields: { Name: 'Session' } });
      await waitUntil(() => source.status().channels[0].messages >= 1, 'the create written');
      assert.ok(t.sb.admin.expireSessions() >= 1);
      for (let i = 0; i < 5; i++) {
        t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: `after expiry ${i}` } });
        await sleep(100);
      }
      const msgs = await rig.readAll('Product2');
      assert.equal(msgs.length, 6, 'the create and the 5 updates, nothing more');
      assert.equal(msgs.at(-1)!.value.record.Description, 'after expiry 4');
      assert.deepEqual(repeated(msgs.map((m) => m.value.replayId)), []);
    } finally {
      await source.stop();
    }
  });

  for (const mode of ['pubsub', 'streaming'] as const) {
    it(`${mode}: backs off while the session cannot be renewed: a few login attempts and log lines, not ready; logins allowed again: the change made meanwhile arrives once`, async () => {
      const rig = await sourceRig(t, mode, ['Product2']);
      const warnings: { msg: string; retryInMs?: number }[] = [];
      const sink = new Writable({ write(chunk, _enc, done) { const line = JSON.parse(String(chunk)); if (line.level >= 40) warnings.push(line); done(); } });
      const source = rig.make({ logger: pino({ level: 'info' }, sink) });
      await source.start();
      try {
        await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription');
        const { id } = t.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: `SKU-REFUSED-${mode}` }, fields: { Name: 'Refused' } });
        await waitUntil(() => source.status().channels[0].messages >= 1, 'the create written');
        // the integration user deactivated: the session ends and no login renews it
        t.sb.admin.setFaults({ refuseLogins: true });
        t.sb.admin.resetCounters();
        assert.ok(t.sb.admin.expireSessions() >= 1);
        // the server ends the stream: every resubscribe now needs a session nobody can renew
        if (mode === 'pubsub') t.sb.admin.resetPubSubStreams();
        else t.sb.admin.dropCometdClients();
        t.sb.admin.userEdit({ object: 'Product2', id, fields: { Description: 'changed while refused' } });
        await waitUntil(() => source.status().channels[0].state === 'backoff', 'the subscription refused');
        await sleep(30_000);
        const logins = t.sb.admin.counters().byApi.oauth ?? 0;
        assert.ok(logins >= 1, 'the source did try to log in');
        assert.ok(logins <= 10, `${logins} login attempts in 30 s: the source backs off`);
        assert.ok(warnings.length <= 10, `${warnings.length} warnings in 30 s: ${warnings.map((w) => w.msg).join(' | ')}`);
        assert.match(warnings.at(-1)!.msg, /retrying in \d+ s/);
        assert.equal(channelsReady(source.status()), false, 'not ready while the subscription is refused');

        t.sb.admin.setFaults({ refuseLogins: false });
        await waitUntil(() => source.status().channels[0].state === 'live', 'the subscription back', 120_000);
        assert.equal(channelsReady(source.status()), true);
        const msgs = await rig.readAll('Product2');
        assert.deepEqual(msgs.map((m) => m.value.record.Description ?? null), [null, 'changed while refused'], 'the create, then the change made meanwhile, once');
      } finally {
        t.sb.admin.setFaults({ refuseLogins: false });
        await source.stop();
      }
    });
  }

  it('tears down a subscription silent past the keepalive timeout and resumes from the checkpoint', async () => {
    const quiet = await startTestSandbox({ pubSubKeepaliveMs: 120_000 });
    try {
      const rig = await sourceRig(quiet, 'pubsub', ['Product2'], 1000);
      const source = rig.make();
      await source.start();
      try {
        await waitUntil(async () => await counterValue(rig.registry, 'shopforce_sf_source_resubscribes_total', { reason: 'stalled' }) >= 1, 'the watchdog', 10_000);
        assert.ok(source.status().alerts.some((a) => a.kind === 'stream-stalled'));
        quiet.sb.admin.userEdit({ object: 'Product2', externalId: { field: 'Sku__c', value: 'SKU-QUIET-1' }, fields: { Name: 'Quiet' } });
        const msgs = await rig.readAll('Product2');
        assert.deepEqual(msgs.map((m) => m.value.record.Name), ['Quiet'], 'the change once, nothing more');
      } finally {
        await source.stop();
      }
    } finally {
      await quiet.cleanup();
    }
  });
});
