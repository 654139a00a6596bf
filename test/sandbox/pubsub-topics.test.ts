import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import avro from 'avsc';
import PubSubApiClient from 'salesforce-pubsub-api-client';
import { pubSubProtoPath } from '../../src/sandbox/cdc/pubsub-server.ts';
import { decodeReplayId } from '../../src/sandbox/cdc/replay-id.ts';
import {
  GOOD_TOKEN, ORG_ID, USERNAME, accountCreate, jwtKeys, quietLogger, recordId, startTestOrg, tx, waitFor,
  type TestOrg,
} from './cdc-fixtures.ts';

/** A bare gRPC stub for the protocol corners the node client cannot reach (topic change, raw schemas). */
function rawStub(org: TestOrg): any {
  const proto = grpc.loadPackageDefinition(protoLoader.loadSync(pubSubProtoPath(), {})) as any;
  const meta = (_: unknown, cb: (err: Error | null, m: grpc.Metadata) => void) => {
    const m = new grpc.Metadata();
    m.add('accesstoken', GOOD_TOKEN);
    m.add('instanceurl', org.baseUrl);
    m.add('tenantid', ORG_ID);
    cb(null, m);
  };
  const creds = grpc.credentials.combineChannelCredentials(
    grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false }),
    grpc.credentials.createFromMetadataGenerator(meta),
  );
  return new proto.eventbus.v1.PubSub(org.pubSubEndpoint, creds);
}

function unary<T>(stub: any, method: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => stub[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

describe('Pub/Sub API topics, schemas and publishing', () => {
  let org: TestOrg;
  let stub: any;
  const clients: PubSubApiClient[] = [];

  before(async () => {
    org = await startTestOrg({ keepaliveMs: 200 });
    stub = rawStub(org);
  });
  after(async () => {
    for (const c of clients) c.close();
    stub.close();
    await org.stop();
  });

  it('GetTopic and GetSchema describe a change event with a bitmap-friendly Avro schema', async () => {
    const topic = await unary<any>(stub, 'GetTopic', { topicName: '/data/Stock_Level__ChangeEvent' });
    assert.equal(topic.topicName, '/data/Stock_Level__ChangeEvent');
    assert.equal(topic.tenantGuid, ORG_ID);
    assert.equal(topic.canSubscribe, true);
    assert.equal(topic.canPublish, false);
    const info = await unary<any>(stub, 'GetSchema', { schemaId: topic.schemaId });
    const schema = JSON.parse(info.schemaJson);
    assert.equal(schema.name, 'Stock_Level__ChangeEvent');
    assert.equal(schema.fields[0].name, 'ChangeEventHeader');
    const names = schema.fields.map((f: { name: string }) => f.name);
    assert.ok(names.includes('Sku__c') && names.includes('LastModifiedDate'));
    assert.ok(!names.includes('Id') && !names.includes('SystemModstamp'));
    await assert.rejects(unary(stub, 'GetSchema', { schemaId: 'nope' }), (err: any) => err.code === grpc.status.NOT_FOUND);
    await assert.rejects(unary(stub, 'GetTopic', { topicName: '/data/NopeChangeEvent' }), (err: any) => err.code === grpc.status.NOT_FOUND);
  });

  it('encodes changedFields as an uppercase hex bitmap over the schema fields', async () => {
    const from = org.hub.latestReplayId();
    const id = recordId('a01');
    org.hub.publish(tx([{
      entityName: 'Stock_Level__c', recordIds: [id], changeType: 'UPDATE', fields: { Quantity__c: 7, Last_Counted__c: '2026-11-27' },
      changedFields: ['Quantity__c', 'Last_Counted__c'], nulledFields: [], diffFields: [],
    }]));
    const call = stub.Subscribe();
    const responses: any[] = [];
    call.on('data', (r: any) => responses.push(r));
    call.on('error', () => {});
    call.write({ topicName: '/data/Stock_Level__ChangeEvent', replayPreset: 1, numRequested: 1 });
    await waitFor(() => responses.some((r) => r.events?.length), 'one event');
    call.cancel();
    const event = responses.find((r) => r.events?.length).events[0];
    const info = await unary<any>(stub, 'GetSchema', { schemaId: event.event.schemaId });
    const schema = JSON.parse(info.schemaJson);
    const value = avro.Type.forSchema(schema).fromBuffer(event.event.payload) as any;
    const names: string[] = schema.fields.map((f: { name: string }) => f.name);
    const expected = (1n << BigInt(names.indexOf('Quantity__c'))) | (1n << BigInt(names.indexOf('Last_Counted__c')));
    assert.deepEqual(value.ChangeEventHeader.changedFields, [`0x${expected.toString(16).toUpperCase()}`]);
    assert.equal(value.Quantity__c, 7);
    assert.equal(value.Last_Counted__c, Math.floor(Date.UTC(2026, 10, 27) / 86_400_000), 'dates are days since epoch');
    assert.ok((decodeReplayId(event.replayId) ?? 0) > from);
  });

  it('rejects a topic change within one Subscribe stream with INVALID_ARGUMENT', async () => {
    const call = stub.Subscribe();
    const failure = new Promise<any>((resolve) => call.on('error', resolve));
    call.on('data', () => {});
    call.write({ topicName: '/data/AccountChangeEvent', numRequested: 1 });
    call.write({ topicName: '/data/Stock_Level__ChangeEvent', numRequested: 1 });
    const err = await failure;
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  });

  it('publishes a platform event with the node client and delivers it to a subscriber', async () => {
    const client = new PubSubApiClient({
      authType: 'oauth-jwt-bearer', loginUrl: org.baseUrl, clientId: 'shopforce-test', username: USERNAME,
      privateKey: jwtKeys.privateKey, pubSubEndpoint: org.pubSubEndpoint, rejectUnauthorizedSsl: false,
    } as any, quietLogger as any);
    clients.push(client);
    await client.connect();
    const received: any[] = [];
    const types: string[] = [];
    client.subscribe('/event/Order_Shipped__e', (_i, type, data) => { types.push(type); if (type === 'event') received.push(data); }, 1);
    // the server keeps alive only streams whose subscription it registered: the first keepalive says so
    await waitFor(() => types.includes('grpcKeepAlive'), 'the subscription (a keepalive)');
    const result = await client.publish('/event/Order_Shipped__e', {
      CreatedDate: Date.now(), CreatedById: '0055g000000XyZaAAB', EventUuid: null,
      Order_Number__c: { string: 'SO-1001' }, Shipped_At__c: { long: Date.UTC(2026, 10, 27, 8, 0) },
    });
    assert.ok(result.replayId > 0);
    await waitFor(() => received.length === 1, 'the published event');
    assert.equal(received[0].payload.Order_Number__c, 'SO-1001');
    assert.equal(received[0].payload.Shipped_At__c, Date.UTC(2026, 10, 27, 8, 0));
  });

  it('answers a PublishStream batch with one result per event', async () => {
    const client = new PubSubApiClient({
      authType: 'user-supplied', accessToken: GOOD_TOKEN, instanceUrl: 'https://127.0.0.1', organizationId: ORG_ID,
      pubSubEndpoint: org.pubSubEndpoint, rejectUnauthorizedSsl: false,
    } as any, quietLogger as any);
    clients.push(client);
    await client.connect();
    const responses: any[] = [];
    const event = (n: string) => ({ id: crypto.randomUUID(), payload: { CreatedDate: Date.now(), CreatedById: '0055g000000XyZaAAB', EventUuid: null, Order_Number__c: { string: n }, Shipped_At__c: null } });
    await client.publishBatch('/event/Order_Shipped__e', [event('SO-1'), event('SO-2')], (_i, type, data) => {
      if (type === 'publishResponse') responses.push(data);
    });
    await waitFor(() => responses.length === 1, 'publish response');
    assert.equal(responses[0].results.length, 2);
    assert.ok(responses[0].results[1].replayId > responses[0].results[0].replayId);
  });

  it('refuses to publish on a change event channel', async () => {
    await assert.rejects(unary(stub, 'Publish', { topicName: '/data/AccountChangeEvent', events: [] }),
      (err: any) => err.code === grpc.status.PERMISSION_DENIED);
  });

  it('keeps the event log across an emulator restart', async () => {
    const own = await startTestOrg();
    const id = recordId();
    own.hub.publish(tx([accountCreate(id, 'Before restart')]));
    const replayBefore = own.hub.latestReplayId();
    await own.stop(true);
    const again = await startTestOrg({ dataDir: own.dataDir });
    try {
      assert.equal(again.hub.latestReplayId(), replayBefore);
      const client = new PubSubApiClient({
        authType: 'oauth-jwt-bearer', loginUrl: again.baseUrl, clientId: 'shopforce-test', username: USERNAME,
        privateKey: jwtKeys.privateKey, pubSubEndpoint: again.pubSubEndpoint, rejectUnauthorizedSsl: false,
      } as any, quietLogger as any);
      clients.push(client);
      await client.connect();
      const received: any[] = [];
      client.subscribeFromEarliestEvent('/data/ChangeEvents', (_i, type, data) => { if (type === 'event') received.push(data); }, 1);
      await waitFor(() => received.length === 1, 'the event from before the restart');
      assert.deepEqual(received[0].payload.ChangeEventHeader.recordIds, [id]);
      assert.equal(received[0].replayId, replayBefore);
    } finally {
      await again.stop();
    }
  });
});
