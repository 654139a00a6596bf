import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import jsforce from 'jsforce';
import { StreamingExtension } from 'jsforce/api/streaming';
import {
  API_VERSION, GOOD_TOKEN, accountCreate, accountUpdate, recordId, startTestOrg, stubCheckToken, tx, waitFor,
  type TestOrg,
} from './cdc-fixtures.ts';

import { jwtConnection, startTestSandbox, type TestSandbox } from './sandbox-helpers.ts';

const faye = createRequire(import.meta.url)('faye');
const CHANNEL = '/data/AccountChangeEvent';

interface Watched {
  client: any;
  metas: any[];
  events: any[];
}

/** A faye client the way jsforce configures it (OAuth header, long polling), recording meta replies. */
function fayeClient(org: TestOrg, token = GOOD_TOKEN, replay?: number): Watched {
  const client = new faye.Client(`${org.baseUrl}/cometd/${API_VERSION}`, { retry: 0.2 });
  client.setHeader('Authorization', `OAuth ${token}`);
  client.disable('websocket');
  const w: Watched = { client, metas: [], events: [] };
  client.addExtension({
    incoming(message: any, callback: (m: any) => void) {
      if (message.channel.startsWith('/meta/')) w.metas.push(message);
      callback(message);
    },
    outgoing(message: any, callback: (m: any) => void) {
      if (message.channel === '/meta/subscribe' && replay !== undefined) {
        message.ext = { ...message.ext, replay: { [message.subscription]: replay } };
      }
      callback(message);
    },
  });
  return w;
}

function subscribe(w: Watched, channel = CHANNEL): Promise<void> {
  return new Promise((resolve, reject) => {
    w.client.subscribe(channel, (m: any) => w.events.push(m)).then(() => resolve(), (err: any) => reject(err));
  });
}

/** Waits until the server answered a /meta/connect after the first `from` meta replies: the client polls. */
function connectedAfter(w: Watched, from: number): Promise<void> {
  return waitFor(() => w.metas.slice(from).some((m) => m.channel === '/meta/connect' && m.successful), 'a successful connect');
}

/** Disconnects a faye client and waits for the server's answer (nothing to do if never connected). */
function disconnect(client: any): Promise<void> {
  return new Promise((resolve) => {
    const done = client.disconnect();
    if (done) done.then(() => resolve(), () => resolve());
    else resolve();
  });
}

describe('Streaming API (CometD) with faye and jsforce', () => {
  let org: TestOrg;
  const open: any[] = [];

  before(async () => {
    org = await startTestOrg();
  });
  after(async () => {
    await Promise.all(open.map((c) => disconnect(c)));
    await org.stop();
  });

  it('handshakes with the replay extension on and delivers change events in the CometD shape', async () => {
    const w = fayeClient(org);
    open.push(w.client);
    await subscribe(w);
    const handshake = w.metas.find((m) => m.channel === '/meta/handshake');
    assert.equal(handshake.successful, true);
    assert.deepEqual(handshake.ext, { replay: true, 'payload.format': true });

    const id = recordId();
    org.hub.publish(tx([accountCreate(id, 'Globex', { Industry: 'Retail', NumberOfEmployees: null })]));
    org.hub.publish(tx([accountUpdate(id, { Industry: null, AnnualRevenue: 99 })]));
    await waitFor(() => w.events.length === 2, 'two events');

    const [created, updated] = w.events;
    assert.equal(typeof created.schema, 'string');
    assert.equal(typeof created.event.replayId, 'number');
    assert.equal(created.payload.Name, 'Globex');
    assert.ok(!('NumberOfEmployees' in created.payload), 'null fields are left out');
    assert.match(created.payload.CreatedDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const header = created.payload.ChangeEventHeader;
    assert.equal(header.changeType, 'CREATE');
    assert.deepEqual(header.recordIds, [id]);
    assert.ok(!('nulledFields' in header) && !('diffFields' in header));
    assert.equal(updated.payload.ChangeEventHeader.changeType, 'UPDATE');
    assert.deepEqual(updated.payload.ChangeEventHeader.changedFields.sort(), ['AnnualRevenue', 'Industry', 'LastModifiedDate']);
    assert.equal(updated.payload.AnnualRevenue, 99);
    assert.ok(!('Name' in updated.payload) && !('Industry' in updated.payload), 'unchanged and nulled fields are left out');
    assert.ok(updated.event.replayId > created.event.replayId);
  });

  it('replays every retained event with -2 and events after a replay id', async () => {
    const first = recordId();
    const second = recordId();
    org.hub.publish(tx([accountCreate(first, 'Replay One')]));
    const afterFirst = org.hub.latestReplayId();
    org.hub.publish(tx([accountCreate(second, 'Replay Two')]));

    const all = fayeClient(org, GOOD_TOKEN, -2);
    open.push(all.client);
    await subscribe(all);
    await waitFor(() => all.events.some((e) => e.payload.ChangeEventHeader.recordIds[0] === second), 'the retained events');
    const names = all.events.map((e) => e.payload.Name).filter(Boolean);
    assert.ok(names.indexOf('Replay One') < names.indexOf('Replay Two') && names.includes('Replay One'));

    const fromId = fayeClient(org, GOOD_TOKEN, afterFirst);
    open.push(fromId.client);
    await subscribe(fromId);
    await waitFor(() => fromId.events.length >= 1, 'events after the replay id');
    assert.deepEqual(fromId.events.map((e) => e.payload.Name), ['Replay Two']);
  });

  it('answers an invalid replay id with a 400 subscribe error', async () => {
    const w = fayeClient(org, GOOD_TOKEN, org.hub.latestReplayId() + 12345);
    open.push(w.client);
    await assert.rejects(subscribe(w));
    const reply = w.metas.find((m) => m.channel === '/meta/subscribe');
    assert.equal(reply.successful, false);
    assert.match(reply.error, /^400::The replayId \{\d+\} you provided was invalid/);
  });

  it('refuses an unknown token with 401::Authentication invalid and no reconnect', async () => {
    const w = fayeClient(org, 'not-a-token');
    open.push(w.client);
    const subscribed = subscribe(w);
    subscribed.catch(() => {});
    await waitFor(() => w.metas.some((m) => m.channel === '/meta/handshake'), 'handshake reply');
    const reply = w.metas.find((m) => m.channel === '/meta/handshake');
    assert.equal(reply.successful, false);
    assert.equal(reply.error, '401::Authentication invalid');
    assert.equal(reply.advice.reconnect, 'none');
  });

  it('answers the next connect with 401::Authentication invalid once the session expired', async () => {
    let valid = true;
    const own = await startTestOrg({ checkToken: (t) => (valid ? stubCheckToken(t) : undefined) });
    const w = fayeClient(own);
    try {
      await subscribe(w);
      await connectedAfter(w, 0);
      valid = false;
      own.hub.publish(tx([accountCreate(recordId(), 'Wakes the long poll')]));
      await waitFor(() => w.metas.some((m) => m.error === '401::Authentication invalid'), 'auth error on connect');
      const reply = w.metas.find((m) => m.error === '401::Authentication invalid');
      assert.equal(reply.channel, '/meta/connect');
      assert.equal(reply.advice.reconnect, 'none');
    } finally {
      valid = true;
      await disconnect(w.client);
      await own.stop();
    }
  });

  it('sends 403::Unknown client after clients are dropped; the client re-handshakes and resubscribes', async () => {
    const w = fayeClient(org);
    open.push(w.client);
    await subscribe(w);
    assert.ok(org.hub.cometd.dropClients() >= 1);
    await waitFor(() => w.metas.some((m) => m.error === '403::Unknown client'), 'unknown client error');
    const unknown = w.metas.find((m) => m.error === '403::Unknown client');
    assert.equal(unknown.advice.reconnect, 'handshake');
    // the server registers the subscription as it answers it: an event published now is delivered
    await waitFor(() => w.metas.filter((m) => m.channel === '/meta/subscribe' && m.successful).length >= 2, 'resubscribe');
    const id = recordId();
    org.hub.publish(tx([accountCreate(id, 'After drop')]));
    await waitFor(() => w.events.some((e) => e.payload.Name === 'After drop'), 'event after re-handshake');
    assert.equal(w.metas.filter((m) => m.channel === '/meta/handshake' && m.successful).length, 2);
  });

  it('jsforce streaming with the Replay extension (-2) receives the events of earlier changes', async () => {
    const id = recordId();
    org.hub.publish(tx([accountCreate(id, 'Initech via jsforce')]));
    const conn = new jsforce.Connection({ instanceUrl: org.baseUrl, accessToken: GOOD_TOKEN, version: API_VERSION });
    const client = conn.streaming.createClient([new StreamingExtension.Replay('/data/ChangeEvents', -2)]);
    open.push(client);
    const received: any[] = [];
    client.subscribe('/data/ChangeEvents', (m: any) => { received.push(m); });
    await waitFor(() => received.some((m) => m.payload.Name === 'Initech via jsforce'), 'the earlier change');
    const event = received.find((m) => m.payload.Name === 'Initech via jsforce');
    assert.equal(event.payload.ChangeEventHeader.entityName, 'Account');
    assert.ok(event.event.replayId > 0);
  });
});

// The same clients against the whole emulator: the session comes from the JWT bearer flow on its
// OAuth endpoint, and CometD checks it in the org's session store (above, a stub token check).
describe('Streaming API (CometD) through the emulator\'s real OAuth flow', () => {
  let t: TestSandbox;
  const clients: any[] = [];
  before(async () => { t = await startTestSandbox({ cometdLongPollSeconds: 2 }); });
  after(async () => {
    for (const c of clients) await disconnect(c);
    await t.cleanup();
  });
  const sandboxOrg = () => ({ baseUrl: t.sb.loginUrl }) as TestOrg;

  it('a session from the JWT bearer flow receives a person\'s edit; after it expires the next connect is refused', async () => {
    const conn = await jwtConnection(t.sb);
    const w = fayeClient(sandboxOrg(), conn.accessToken!);
    clients.push(w.client);
    await subscribe(w);
    const { id } = t.sb.admin.userEdit({ object: 'Account', externalId: { field: 'Shop_Customer_Id__c', value: 'OAUTH-CM-1' }, fields: { Name: 'Through OAuth' } });
    await waitFor(() => w.events.some((e) => e.payload.ChangeEventHeader.recordIds.includes(id)), 'the change event');
    assert.ok(t.sb.admin.expireSessions() >= 1);
    t.sb.admin.userEdit({ object: 'Account', id, fields: { Name: 'Wakes the long poll' } });
    await waitFor(() => w.metas.some((m) => m.error === '401::Authentication invalid'), 'auth error on connect', 10_000);
  });

  it('a forged access token is refused at the handshake', async () => {
    const conn = await jwtConnection(t.sb);
    const w = fayeClient(sandboxOrg(), `${conn.accessToken!.split('!')[0]}!forged`);
    clients.push(w.client);
    void subscribe(w).catch(() => undefined);
    await waitFor(() => w.metas.some((m) => m.channel === '/meta/handshake' && m.successful === false), 'the refused handshake');
    assert.equal(w.metas.find((m) => m.channel === '/meta/handshake')!.error, '401::Authentication invalid');
    assert.equal(w.events.length, 0);
  });
});
