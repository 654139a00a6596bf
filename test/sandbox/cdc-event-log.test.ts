import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { changeEventsOf } from '../../src/sandbox/cdc/change-events.ts';
import { EventLog } from '../../src/sandbox/cdc/event-log.ts';
import {
  GOOD_TOKEN, ORG_ID, accountCreate, accountUpdate, quietLogger, recordId, startTestOrg, tx, waitFor,
} from './cdc-fixtures.ts';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'shopforce-cdc-log-'));
}

function userClient(endpoint: string): PubSubApiClient {
  return new PubSubApiClient({
    authType: 'user-supplied', accessToken: GOOD_TOKEN, instanceUrl: 'https://127.0.0.1', organizationId: ORG_ID,
    pubSubEndpoint: endpoint, rejectUnauthorizedSsl: false,
  } as any, quietLogger as any);
}

describe('CDC event log', () => {
  it('turns each change of a transaction into an event with the transaction header and sequence numbers', () => {
    const a = recordId();
    const b = recordId();
    const t = tx([accountCreate(a, 'One'), accountUpdate(b, { Name: 'Two' })], 'com/salesforce/api/rest/60.0;client=shop');
    const events = changeEventsOf(t);
    assert.equal(events.length, 2);
    assert.deepEqual(events.map((e) => e.body.header?.sequenceNumber), [1, 2]);
    for (const e of events) {
      assert.equal(e.topic, '/data/AccountChangeEvent');
      assert.equal(e.body.header?.transactionKey, t.transactionKey);
      assert.equal(e.body.header?.commitNumber, t.commitNumber);
      assert.equal(e.body.header?.changeOrigin, 'com/salesforce/api/rest/60.0;client=shop');
    }
  });

  it('replaces the changes past 100,000 records of one entity with a single GAP_OVERFLOW', () => {
    const ids = (n: number, from: number) => Array.from({ length: n }, (_, i) => `a015g0000${String(from + i).padStart(9, '0')}`);
    const change = (recordIds: string[]) => ({
      entityName: 'Stock_Level__c', recordIds, changeType: 'UPDATE' as const, fields: { Quantity__c: 1 },
      changedFields: ['Quantity__c'], nulledFields: [], diffFields: [],
    });
    const events = changeEventsOf(tx([change(ids(60_000, 0)), change(ids(60_000, 60_000)), change(ids(10, 120_000))]));
    assert.deepEqual(events.map((e) => e.body.header?.changeType), ['UPDATE', 'GAP_OVERFLOW']);
    assert.deepEqual(events[1].body.fields, {});
  });

  it('issues increasing, non-contiguous replay ids and keeps them across a reopen', () => {
    const dir = tempDir();
    try {
      const log = new EventLog({ dataDir: dir, retentionMs: 60_000 });
      const stored = log.append(Array.from({ length: 50 }, (_, i) => ({
        kind: 'cdc' as const, topic: '/data/AccountChangeEvent', entity: 'Account', body: { fields: { Name: `n${i}` } },
      })));
      const ids = stored.map((s) => s.replayId);
      assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]));
      assert.ok(ids.some((id, i) => i > 0 && id - ids[i - 1] > 1), 'not contiguous');
      log.close();
      const reopened = new EventLog({ dataDir: dir, retentionMs: 60_000 });
      assert.equal(reopened.latestReplayId(), ids[49]);
      assert.deepEqual(reopened.readAfter({ topic: '/data/AccountChangeEvent' }, ids[47], 10).map((e) => e.body.fields.Name), ['n48', 'n49']);
      reopened.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('drops events past the retention window and reports their replay ids as expired', () => {
    const dir = tempDir();
    let now = 1_000_000;
    const log = new EventLog({ dataDir: dir, retentionMs: 5_000, now: () => now });
    try {
      const [old] = log.append([{ kind: 'cdc', topic: '/data/AccountChangeEvent', entity: 'Account', body: { fields: {} } }]);
      now += 3_000;
      const [recent] = log.append([{ kind: 'cdc', topic: '/data/AccountChangeEvent', entity: 'Account', body: { fields: {} } }]);
      now += 3_000;
      assert.equal(log.checkReplayId(old.replayId), 'expired');
      assert.equal(log.checkReplayId(recent.replayId), 'ok');
      assert.equal(log.checkReplayId(recent.replayId + 100), 'unknown');
      assert.deepEqual(log.readAfter({ kind: 'cdc' }, log.earliestCursor(), 10).map((e) => e.replayId), [recent.replayId]);
      assert.equal(log.size(), 1);
    } finally {
      log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('expires every event issued so far on demand (the expire-events fault): their replay ids are refused as expired, later ones are not', () => {
    const dir = tempDir();
    const log = new EventLog({ dataDir: dir, retentionMs: 3_600_000 });
    try {
      const [a] = log.append([{ kind: 'cdc', topic: '/data/AccountChangeEvent', entity: 'Account', body: { fields: {} } }]);
      const [b] = log.append([{ kind: 'cdc', topic: '/data/AccountChangeEvent', entity: 'Account', body: { fields: {} } }]);
      assert.equal(log.expireAll(), 2);
      assert.equal(log.checkReplayId(a.replayId), 'expired');
      assert.equal(log.checkReplayId(b.replayId), 'expired');
      const [c] = log.append([{ kind: 'cdc', topic: '/data/AccountChangeEvent', entity: 'Account', body: { fields: {} } }]);
      assert.equal(log.checkReplayId(c.replayId), 'ok');
      assert.deepEqual(log.readAfter({ kind: 'cdc' }, log.earliestCursor(), 10).map((e) => e.replayId), [c.replayId]);
    } finally {
      log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers a subscription from an expired replay id with the validation error (short retention)', async () => {
    const org = await startTestOrg({ retentionMs: 1000 });
    const client = userClient(org.pubSubEndpoint);
    try {
      org.hub.publish(tx([accountCreate(recordId(), 'Soon gone')]));
      const expired = org.hub.latestReplayId();
      await new Promise((r) => setTimeout(r, 1200));
      await client.connect();
      const errors: any[] = [];
      client.subscribeFromReplayId('/data/AccountChangeEvent', (_i, type, data) => { if (type === 'error') errors.push(data); }, 1, expired);
      await waitFor(() => errors.length > 0, 'replay id error');
      assert.equal(errors[0].code, 3);
      assert.equal(errors[0].metadata.get('error-code')[0], 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.validation.failed');
    } finally {
      client.close();
      await org.stop();
    }
  });

  it('emits gap and overflow events with no field data on demand', async () => {
    const org = await startTestOrg();
    const client = userClient(org.pubSubEndpoint);
    try {
      const id = recordId();
      org.hub.emitGap('Account', [id], 'GAP_UPDATE');
      org.hub.emitOverflow('Account');
      await client.connect();
      const events: any[] = [];
      client.subscribeFromEarliestEvent('/data/AccountChangeEvent', (_i, type, data) => { if (type === 'event') events.push(data); }, 2);
      await waitFor(() => events.length === 2, 'gap events');
      assert.equal(events[0].payload.ChangeEventHeader.changeType, 'GAP_UPDATE');
      assert.deepEqual(events[0].payload.ChangeEventHeader.recordIds, [id]);
      assert.equal(events[0].payload.Name, null);
      assert.deepEqual(events[0].payload.ChangeEventHeader.changedFields, []);
      assert.equal(events[1].payload.ChangeEventHeader.changeType, 'GAP_OVERFLOW');
      assert.equal(org.hub.counters()['pubsub.eventsDelivered'], 2);
    } finally {
      client.close();
      await org.stop();
    }
  });
});
