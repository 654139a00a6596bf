import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { jwtConnection, startTestSandbox, type TestSandbox } from './sandbox-helpers.ts';
import {
  ORG_ID, USERNAME, accountCreate, accountUpdate, jwtKeys, quietLogger, recordId, startTestOrg, stubCheckToken, tx,
  waitFor,
  type TestOrg,
} from './cdc-fixtures.ts';

const TOPIC = '/data/AccountChangeEvent';

interface Received {
  events: any[];
  errors: any[];
  types: string[];
  callback: (info: unknown, type: string, data?: any) => void;
}

function receiver(): Received {
  const r: Received = {
    events: [], errors: [], types: [],
    callback: (_info, type, data) => {
      r.types.push(type);
      if (type === 'event') r.events.push(data);
      if (type === 'error') r.errors.push(data);
    },
  };
  return r;
}

/** Waits for the next keepalive: the server had nothing more to send the stream. */
async function keepaliveAfter(r: Received): Promise<void> {
  const seen = r.types.length;
  await waitFor(() => r.types.slice(seen).includes('grpcKeepAlive'), 'a keepalive after the events', 5_000);
}

/** Subscribes with a given access token (user-supplied auth) and waits for the stream's error. */
async function subscribeWithToken(pubSubEndpoint: string, accessToken: string, instanceUrl: string, clients: PubSubApiClient[]): Promise<Received> {
  const c = new PubSubApiClient({
    authType: 'user-supplied', accessToken, instanceUrl, organizationId: accessToken.split('!')[0], pubSubEndpoint, rejectUnauthorizedSsl: false,
  } as any, quietLogger as any);
  clients.push(c);
  await c.connect();
  const r = receiver();
  c.subscribe(TOPIC, r.callback, 1);
  await waitFor(() => r.errors.length > 0, 'auth error');
  return r;
}

async function connectClient(org: TestOrg): Promise<PubSubApiClient> {
  const client = new PubSubApiClient({
    authType: 'oauth-jwt-bearer', loginUrl: org.baseUrl, clientId: 'shopforce-test', username: USERNAME,
    privateKey: jwtKeys.privateKey, pubSubEndpoint: org.pubSubEndpoint, rejectUnauthorizedSsl: false,
  } as any, quietLogger as any);
  await client.connect();
  return client;
}

describe('Pub/Sub API Subscribe with salesforce-pubsub-api-client', () => {
  let org: TestOrg;
  const clients: PubSubApiClient[] = [];
  const client = async () => {
    const c = await connectClient(org);
    clients.push(c);
    return c;
  };

  before(async () => {
    org = await startTestOrg({ keepaliveMs: 200 });
  });
  after(async () => {
    for (const c of clients) c.close();
    await org.stop();
  });

  it('delivers earlier changes from EARLIEST with decoded fields and header', async () => {
    const id = recordId();
    org.hub.publish(tx([accountCreate(id, 'Acme Corp', { Industry: 'Retail', AnnualRevenue: 1250.5, VIP__c: true })]));
    org.hub.publish(tx([accountUpdate(id, { Industry: 'Energy', NumberOfEmployees: 42, AnnualRevenue: null })]));
    const c = await client();
    const r = receiver();
    c.subscribeFromEarliestEvent(TOPIC, r.callback, 2);
    await waitFor(() => r.events.length === 2, 'two change events');

    const [created, updated] = r.events;
    assert.equal(created.payload.ChangeEventHeader.changeType, 'CREATE');
    assert.deepEqual(created.payload.ChangeEventHeader.recordIds, [id]);
    assert.equal(created.payload.ChangeEventHeader.entityName, 'Account');
    assert.equal(created.payload.ChangeEventHeader.commitUser.slice(0, 3), '005');
    assert.equal(created.payload.Name, 'Acme Corp');
    assert.equal(created.payload.Industry, 'Retail');
    assert.equal(created.payload.AnnualRevenue, 1250.5);
    assert.equal(created.payload.VIP__c, true);
    assert.equal(typeof created.payload.CreatedDate, 'number', 'datetimes are epoch ms in Pub/Sub');

    const header = updated.payload.ChangeEventHeader;
    assert.equal(header.changeType, 'UPDATE');
    assert.deepEqual([...header.changedFields].sort(), ['AnnualRevenue', 'Industry', 'LastModifiedDate', 'NumberOfEmployees']);
    assert.deepEqual(header.nulledFields, ['AnnualRevenue']);
    assert.deepEqual(header.diffFields, []);
    assert.equal(updated.payload.Industry, 'Energy');
    assert.equal(updated.payload.NumberOfEmployees, 42);
    assert.equal(updated.payload.Name, null, 'unchanged fields are null in Pub/Sub');
    assert.ok(updated.replayId > created.replayId, 'replay ids increase');
    assert.ok(r.types.includes('lastEvent'), 'the client saw the last requested event');
  });

  it('resumes after a replay id when a new client subscribes from it', async () => {
    const first = await client();
    const r1 = receiver();
    first.subscribe(TOPIC, r1.callback, 1);
    const a = recordId();
    const b = recordId();
    // the server keeps alive only streams whose subscription it registered: the first keepalive says so
    await waitFor(() => r1.types.includes('grpcKeepAlive'), 'the subscription (a keepalive)');
    org.hub.publish(tx([accountCreate(a, 'First')]));
    await waitFor(() => r1.events.length === 1, 'first event');
    const checkpoint = r1.events[0].replayId;
    first.close();

    org.hub.publish(tx([accountCreate(b, 'Second')]));
    const second = await client();
    const r2 = receiver();
    second.subscribeFromReplayId(TOPIC, r2.callback, 1, checkpoint);
    await waitFor(() => r2.events.length === 1, 'event after the checkpoint');
    assert.deepEqual(r2.events[0].payload.ChangeEventHeader.recordIds, [b]);
  });

  it('never sends more events than requested', async () => {
    const c = await client();
    const before = org.hub.latestReplayId();
    for (let i = 0; i < 10; i++) org.hub.publish(tx([accountCreate(recordId(), `Flow ${i}`)]));
    const r = receiver();
    c.subscribeFromReplayId(TOPIC, r.callback, 3, before);
    await waitFor(() => r.types.includes('lastEvent'), 'last requested event');
    // an event past the request would be pumped at once, before the next idle keepalive: read up to it
    await keepaliveAfter(r);
    assert.equal(r.events.length, 3);
    assert.deepEqual(r.events.map((e) => e.payload.Name), ['Flow 0', 'Flow 1', 'Flow 2']);
    c.requestAdditionalEvents(TOPIC, 2);
    await waitFor(() => r.events.length === 5, 'two more events');
    await keepaliveAfter(r);
    assert.equal(r.events.length, 5);
    assert.equal(r.events[4].payload.Name, 'Flow 4');
  });

  it('rejects an unknown replay id with the replayid error code', async () => {
    const c = await client();
    const r = receiver();
    c.subscribeFromReplayId(TOPIC, r.callback, 1, org.hub.latestReplayId() + 1_000_000);
    await waitFor(() => r.errors.length > 0, 'subscription error');
    const err = r.errors[0];
    assert.equal(err.code, 3, 'INVALID_ARGUMENT');
    assert.equal(err.metadata.get('error-code')[0], 'sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted');
    assert.match(err.details, /rpcId: /);
  });

  it('sends empty keepalives with the latest replay id while idle', async () => {
    const c = await client();
    const r = receiver();
    c.subscribe('/data/Stock_Level__ChangeEvent', r.callback, 5);
    await waitFor(() => r.types.includes('grpcKeepAlive'), 'a keepalive', 3000);
    assert.equal(r.events.length, 0);
  });

  it('ends active streams with UNAVAILABLE when the server resets them', async () => {
    // Own org: streams of clients closed by earlier tests have no listeners left to see the reset.
    const own = await startTestOrg({ keepaliveMs: 200 });
    const c = await connectClient(own);
    try {
      const r = receiver();
      c.subscribe(TOPIC, r.callback, 5);
      await waitFor(() => r.types.includes('grpcKeepAlive'), 'the subscription (a keepalive)');
      assert.equal(own.hub.pubsub.resetStreams(), 1);
      await waitFor(() => r.errors.length > 0, 'stream error');
      assert.equal(r.errors[0].code, 14, 'UNAVAILABLE');
      assert.equal(r.errors[0].metadata.get('error-code')[0], 'sfdc.platform.eventbus.grpc.service.unavailable');
    } finally {
      c.close();
      await own.stop();
    }
  });

  it('ends the stream with UNAUTHENTICATED at the next request once the session expired', async () => {
    let valid = true;
    const own = await startTestOrg({ keepaliveMs: 200, checkToken: (t) => (valid ? stubCheckToken(t) : undefined) });
    const c = await connectClient(own);
    try {
      const r = receiver();
      c.subscribe(TOPIC, r.callback, 1);
      await waitFor(() => r.types.includes('grpcKeepAlive'), 'the subscription (a keepalive)');
      own.hub.publish(tx([accountCreate(recordId(), 'Before expiry')]));
      await waitFor(() => r.events.length === 1, 'first event');
      valid = false;
      c.requestAdditionalEvents(TOPIC, 1);
      await waitFor(() => r.errors.length > 0, 'auth error');
      assert.equal(r.errors[0].code, 16, 'UNAUTHENTICATED');
    } finally {
      c.close();
      await own.stop();
    }
  });

  it('refuses a token it does not know', async () => {
    const r = await subscribeWithToken(org.pubSubEndpoint, `${ORG_ID}!revoked`, 'https://127.0.0.1', clients);
    assert.equal(r.errors[0].code, 16, 'UNAUTHENTICATED');
    assert.equal(r.errors[0].metadata.get('error-code')[0], 'sfdc.platform.eventbus.grpc.service.auth.error');
  });
});

// The same client against the whole emulator: it logs in by itself with the JWT bearer flow on the
// emulator's OAuth endpoint, and the Pub/Sub server checks that session in the org's session store
// (above, a stub token check stands in for both).
describe('Pub/Sub API Subscribe through the emulator\'s real OAuth flow', () => {
  let t: TestSandbox;
  const clients: PubSubApiClient[] = [];
  before(async () => { t = await startTestSandbox({ pubSubKeepaliveMs: 200 }); });
  after(async () => {
    for (const c of clients) c.close();
    await t.cleanup();
  });

  it('a session from the JWT bearer flow receives a person\'s edit; once the session expires the stream ends UNAUTHENTICATED', async () => {
    const client = new PubSubApiClient({
      authType: 'oauth-jwt-bearer', loginUrl: t.sb.loginUrl, clientId: t.sb.credentials.clientId, username: t.sb.credentials.username,
      privateKey: readFileSync(t.sb.credentials.jwtPrivateKeyPath, 'utf8'), pubSubEndpoint: t.sb.pubSubEndpoint, rejectUnauthorizedSsl: false,
    } as any, quietLogger as any);
    clients.push(client);
    const oauthBefore = t.sb.admin.counters().byApi.oauth ?? 0;
    await client.connect();
    assert.ok((t.sb.admin.counters().byApi.oauth ?? 0) > oauthBefore, 'the client logged in on the emulator\'s OAuth endpoint');
    const r = receiver();
    client.subscribe(TOPIC, r.callback, 1);
    await waitFor(() => r.types.includes('grpcKeepAlive'), 'the subscription (a keepalive)');
    const { id } = t.sb.admin.userEdit({ object: 'Account', externalId: { field: 'Shop_Customer_Id__c', value: 'OAUTH-PS-1' }, fields: { Name: 'Through OAuth' } });
    await waitFor(() => r.events.length === 1, 'the change event');
    assert.deepEqual(r.events[0].payload.ChangeEventHeader.recordIds, [id]);
    assert.ok(t.sb.admin.expireSessions() >= 1);
    client.requestAdditionalEvents(TOPIC, 1);
    await waitFor(() => r.errors.length > 0, 'the auth error');
    assert.equal(r.errors[0].code, 16, 'UNAUTHENTICATED');
  });

  it('a forged access token is refused', async () => {
    const conn = await jwtConnection(t.sb);
    const r = await subscribeWithToken(t.sb.pubSubEndpoint, `${conn.accessToken!.split('!')[0]}!forged`, t.sb.httpsUrl, clients);
    assert.equal(r.errors[0].code, 16, 'UNAUTHENTICATED');
    assert.equal(r.events.length, 0);
  });
});
