import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jsforce, { type Connection } from 'jsforce';
import { API_VERSION, adminCall, jwtConnection, rejectionOf, startTestSandbox, waitFor, withCometdEvents, type TestSandbox } from './sandbox-helpers.ts';
import { eventually } from '../support/eventually.ts';

describe('sandbox faults, as the client sees them', () => {
  let t: TestSandbox;
  let conn: Connection;
  before(async () => {
    t = await startTestSandbox();
    conn = await jwtConnection(t.sb);
  });
  afterEach(async () => {
    await adminCall(t.sb, 'DELETE', '/faults');
    await adminCall(t.sb, 'POST', '/faults/quota', { max: 100_000, used: 0 });
  });
  after(async () => { await t.cleanup(); });

  it('refuses the admin API without the admin token', async () => {
    const res = await adminCall(t.sb, 'GET', '/faults', undefined, 'wrong-token');
    assert.equal(res.status, 401);
    const bad = await adminCall(t.sb, 'PUT', '/faults', { http500Ratio: 2 });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /http500Ratio/);
  });

  it('adds latency to every call (the call still succeeds, no sooner than the delay)', async () => {
    await adminCall(t.sb, 'PUT', '/faults', { latencyMs: 150 });
    const started = Date.now();
    const res = await conn.query('SELECT Id FROM Account LIMIT 1');
    assert.equal(res.done, true);
    assert.ok(Date.now() - started >= 150);
  });

  it('holds back the answer of the next call after handling it; a client that gives up is counted as abandoned', async () => {
    const set = await adminCall(t.sb, 'PUT', '/faults', { holdNext: { count: 1, ms: 1_500, api: 'collections', method: 'POST' } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    t.sb.admin.resetCounters();
    const url = `${conn.instanceUrl}/services/data/v${API_VERSION}/composite/sobjects`;
    const body = JSON.stringify({ allOrNone: false, records: [{ attributes: { type: 'Account' }, Name: 'Held answer' }] });
    const gaveUp = await fetch(url, {
      method: 'POST', headers: { authorization: `Bearer ${conn.accessToken}`, 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(300),
    }).then(() => 'answered', (err: Error) => err.name);
    assert.equal(gaveUp, 'TimeoutError', 'no answer within 300 ms');
    await eventually(async () => t.sb.admin.counters().abandoned, (n) => n === 1, 10_000);
    const held = await conn.query<{ Id: string }>("SELECT Id FROM Account WHERE Name = 'Held answer'");
    assert.equal(held.totalSize, 1, 'the call was handled all the same');
    await conn.sobject('Account').destroy(held.records[0]!.Id); // the later tests count the org's Accounts
    assert.equal((await adminCall(t.sb, 'GET', '/faults')).body.holdNext, null, 'the hold is spent');
  });

  it('answers 500 UNKNOWN_EXCEPTION and 503 SERVER_UNAVAILABLE by ratio', async () => {
    await adminCall(t.sb, 'PUT', '/faults', { http500Ratio: 1 });
    const e500 = await rejectionOf(conn.sobject('Account').create({ Name: 'x' }));
    assert.equal(e500.errorCode, 'UNKNOWN_EXCEPTION');
    await adminCall(t.sb, 'PUT', '/faults', { http500Ratio: 0, http503Ratio: 1 });
    // POSTs are not retried by jsforce (GETs are, 5 times with backoff), so the client sees the 503 at once
    const e503 = await rejectionOf(conn.sobject('Account').create({ Name: 'y' }));
    assert.equal(e503.errorCode, 'SERVER_UNAVAILABLE');
    await adminCall(t.sb, 'DELETE', '/faults');
    assert.equal((await conn.query('SELECT COUNT() FROM Account')).totalSize, 0);
  });

  it('refuses record writes with UNABLE_TO_LOCK_ROW (single: error; collections: per record)', async () => {
    await adminCall(t.sb, 'PUT', '/faults', { lockRowRatio: 1 });
    const single = await rejectionOf(conn.sobject('Account').create({ Name: 'locked' }));
    assert.equal(single.errorCode, 'UNABLE_TO_LOCK_ROW');
    const many = await conn.sobject('Account').upsert([{ Shop_Customer_Id__c: 'l1', Name: 'a' }, { Shop_Customer_Id__c: 'l2', Name: 'b' }], 'Shop_Customer_Id__c');
    assert.deepEqual(many.map((r) => (r.errors[0] as unknown as { statusCode: string } | undefined)?.statusCode), ['UNABLE_TO_LOCK_ROW', 'UNABLE_TO_LOCK_ROW']);
    await adminCall(t.sb, 'DELETE', '/faults');
    const retried = await conn.sobject('Account').upsert([{ Shop_Customer_Id__c: 'l1', Name: 'a' }], 'Shop_Customer_Id__c');
    assert.equal(retried[0]!.success, true);
  });

  it('fails the next N calls, of one API when asked, so a test sees the retry in the counters', async () => {
    await adminCall(t.sb, 'POST', '/counters/reset');
    // jsforce retries a GET answered 503: two failed tries, then the query goes through
    const set = await adminCall(t.sb, 'PUT', '/faults', { failNext: { count: 2, status: 503, api: 'query' } });
    assert.equal(set.status, 200);
    assert.deepEqual(set.body.failNext, { count: 2, status: 503, api: 'query' });
    assert.equal((await conn.query('SELECT Id FROM Account LIMIT 1')).done, true);
    assert.equal((await adminCall(t.sb, 'GET', '/counters')).body.byApi.query, 3, 'two failed tries and the retry');
    assert.equal((await adminCall(t.sb, 'GET', '/faults')).body.failNext, null, 'spent');

    // a POST is not retried by jsforce: the caller sees the 503 and retries; other APIs are not touched
    await adminCall(t.sb, 'PUT', '/faults', { failNext: { count: 1, status: 503, api: 'collections' } });
    assert.ok((await conn.sobject('Account').create({ Name: 'REST is not collections' })).success);
    const refused = await rejectionOf(conn.sobject('Account').create([{ Name: 'c1' }, { Name: 'c2' }]));
    assert.equal(refused.errorCode, 'SERVER_UNAVAILABLE');
    assert.ok((await conn.sobject('Account').create([{ Name: 'c1' }, { Name: 'c2' }])).every((r) => r.success));
    let counters = (await adminCall(t.sb, 'GET', '/counters')).body;
    assert.equal(counters.byApi.collections, 2, 'the refused call and its retry');
    assert.deepEqual(counters.writesByApi.collections.Account, { calls: 1, received: 2, written: 2 }, 'a call refused whole wrote nothing');

    // an error code alone: every record of the next write call is refused, the call itself answers 200
    await adminCall(t.sb, 'POST', '/counters/reset');
    await adminCall(t.sb, 'PUT', '/faults', { failNext: { count: 1, errorCode: 'UNABLE_TO_LOCK_ROW' } });
    const input = [{ Shop_Customer_Id__c: 'fn-1', Name: 'a' }, { Shop_Customer_Id__c: 'fn-2', Name: 'b' }];
    const locked = await conn.sobject('Account').upsert(input, 'Shop_Customer_Id__c');
    assert.deepEqual(locked.map((r) => (r.errors[0] as unknown as { statusCode: string } | undefined)?.statusCode), ['UNABLE_TO_LOCK_ROW', 'UNABLE_TO_LOCK_ROW']);
    assert.ok((await conn.sobject('Account').upsert(input, 'Shop_Customer_Id__c')).every((r) => r.success));
    counters = (await adminCall(t.sb, 'GET', '/counters')).body;
    assert.deepEqual(counters.writesByApi.collections.Account, { calls: 2, received: 4, written: 2 });

    const bad = await adminCall(t.sb, 'PUT', '/faults', { failNext: { count: 1, status: 418 } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /errorCode is required/);
    assert.equal((await adminCall(t.sb, 'PUT', '/faults', { failNext: { count: 0, status: 503 } })).status, 400);
  });

  it('a record-level failNext with a method and path refuses the writes of that call only; other writes pass and leave it pending', async () => {
    await adminCall(t.sb, 'PUT', '/faults', { failNext: { count: 1, errorCode: 'UNABLE_TO_LOCK_ROW', method: 'PATCH', path: '/sobjects/Account/*' } });
    const created = await conn.sobject('Account').create({ Name: 'Path filter' });
    assert.ok(created.success, 'a POST is not the filtered call');
    const upserted = await conn.sobject('Account').upsert([{ Shop_Customer_Id__c: 'fp-1', Name: 'a' }], 'Shop_Customer_Id__c');
    assert.ok(upserted.every((r) => r.success), 'a PATCH of another path (collections upsert) is not the filtered call');
    assert.equal((await adminCall(t.sb, 'GET', '/faults')).body.failNext?.count, 1, 'still pending');
    const refused = await rejectionOf(conn.sobject('Account').update({ Id: created.id, Name: 'Path filter, renamed' }));
    assert.equal(refused.errorCode, 'UNABLE_TO_LOCK_ROW');
    assert.equal((await adminCall(t.sb, 'GET', '/faults')).body.failNext, null, 'spent');
    assert.ok((await conn.sobject('Account').update({ Id: created.id, Name: 'Path filter, renamed' })).success);

    // a Bulk job's rows are written after the call that closes it (PATCH /jobs/ingest/<id>)
    t.sb.admin.setFaults({ failNext: { count: 1, errorCode: 'UNABLE_TO_LOCK_ROW', method: 'PATCH', path: '/jobs/ingest/*' } });
    const other = await conn.sobject('Account').create({ Name: 'Path filter 2' });
    assert.ok(other.success, 'a REST create is not the job');
    const job = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: [{ Name: 'fp-b1' }] });
    assert.deepEqual((job.failedResults as Array<Record<string, unknown>>).map((r) => String(r.sf__Error).split(':')[0]), ['UNABLE_TO_LOCK_ROW']);
    await conn.sobject('Account').destroy([created.id, other.id, upserted[0]!.id!]); // the later tests count the org's Accounts
  });

  it('takes the same failNext in process (startSandbox().admin), Bulk batches included', async () => {
    t.sb.admin.setFaults({ failNext: { count: 1, status: 500, api: 'rest' } });
    assert.deepEqual(t.sb.admin.faults().failNext, { count: 1, status: 500, api: 'rest' });
    const failed = await rejectionOf(conn.sobject('Account').create({ Name: 'x' }));
    assert.equal(failed.errorCode, 'UNKNOWN_EXCEPTION');
    assert.equal(t.sb.admin.faults().failNext, null);
    assert.ok((await conn.sobject('Account').create({ Name: 'x' })).success);

    t.sb.admin.setFaults({ failNext: { count: 1, errorCode: 'UNABLE_TO_LOCK_ROW', api: 'bulk' } });
    const first = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: [{ Name: 'b1' }, { Name: 'b2' }] });
    assert.deepEqual((first.failedResults as Array<Record<string, unknown>>).map((r) => String(r.sf__Error).split(':')[0]), ['UNABLE_TO_LOCK_ROW', 'UNABLE_TO_LOCK_ROW']);
    const second = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: [{ Name: 'b1' }, { Name: 'b2' }] });
    assert.equal(second.successfulResults.length, 2);
    assert.throws(() => t.sb.admin.setFaults({ failNext: { count: 1, status: 418 } }), /errorCode is required/);
  });

  it('expires every session now: a client without refresh gets INVALID_SESSION_ID, one with refreshFn carries on', async () => {
    const plain = new jsforce.Connection({ instanceUrl: t.sb.loginUrl, accessToken: conn.accessToken!, version: API_VERSION });
    const res = await adminCall(t.sb, 'POST', '/faults/expire-sessions');
    assert.ok(res.body.expired >= 1);
    const err = await rejectionOf(plain.query('SELECT Id FROM Account'));
    assert.equal(err.errorCode, 'INVALID_SESSION_ID');
    const ok = await conn.query('SELECT Id FROM Account');
    assert.equal(ok.done, true);
  });

  it('spends the daily quota: 403 REQUEST_LIMIT_EXCEEDED, and Sforce-Limit-Info shows it', async () => {
    await adminCall(t.sb, 'POST', '/faults/quota', { max: 1000, used: 998 });
    await conn.query('SELECT Id FROM Account LIMIT 1');
    assert.deepEqual(conn.limitInfo.apiUsage, { used: 999, limit: 1000 });
    await conn.query('SELECT Id FROM Account LIMIT 1');
    const err = await rejectionOf(conn.query('SELECT Id FROM Account LIMIT 1'));
    assert.equal(err.errorCode, 'REQUEST_LIMIT_EXCEEDED');
    await adminCall(t.sb, 'POST', '/faults/quota', { exhausted: true });
    const again = await rejectionOf(conn.sobject('Account').create({ Name: 'x' }));
    assert.equal(again.errorCode, 'REQUEST_LIMIT_EXCEEDED');
  });

  it('counts calls by API and by object, and resets the counters', async () => {
    await adminCall(t.sb, 'POST', '/counters/reset');
    await conn.sobject('Product2').upsert(Array.from({ length: 10 }, (_, i) => ({ Sku__c: `C-${i}`, Name: `p${i}` })), 'Sku__c');
    await conn.sobject('Product2').create({ Name: 'one' });
    await conn.query('SELECT Id FROM Product2');
    const { body } = await adminCall(t.sb, 'GET', '/counters');
    assert.equal(body.byApi.collections, 1);
    assert.equal(body.byApi.rest, 1);
    assert.equal(body.byApi.query, 1);
    assert.equal(body.byObject.Product2, 3);
    assert.equal(body.recordsByObject.Product2, 11);
  });

  it('counts write calls, received and written records by API and object (REST, collections, composite, Bulk)', async () => {
    await adminCall(t.sb, 'POST', '/counters/reset');
    const upserted = await conn.sobject('Product2').upsert([{ Sku__c: 'W-1', Name: 'kept' }, { Sku__c: 'W-2', Name: 'x'.repeat(256) }], 'Sku__c');
    assert.deepEqual(upserted.map((r) => r.success), [true, false]);
    await conn.sobject('Product2').create({ Name: 'single' });
    await rejectionOf(conn.sobject('Product2').create({ Name: 'x'.repeat(256) }));
    const composite = await conn.requestPost<{ compositeResponse: Array<{ httpStatusCode: number }> }>(`/services/data/v${API_VERSION}/composite`, {
      allOrNone: false,
      compositeRequest: [
        { method: 'POST', url: `/services/data/v${API_VERSION}/sobjects/Account`, referenceId: 'acc', body: { Name: 'Composite' } },
        { method: 'POST', url: `/services/data/v${API_VERSION}/sobjects/Contact`, referenceId: 'con', body: { LastName: 'Composite', AccountId: '@{acc.id}' } },
      ],
    });
    assert.deepEqual(composite.compositeResponse.map((r) => r.httpStatusCode), [201, 201]);
    const bulk = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: [{ Name: 'b1' }, { Name: 'b2' }, { Name: 'x'.repeat(256) }] });
    assert.equal(bulk.successfulResults.length, 2);

    const { body } = await adminCall(t.sb, 'GET', '/counters');
    assert.deepEqual(body.writesByApi, {
      collections: { Product2: { calls: 1, received: 2, written: 1 } },
      rest: { Product2: { calls: 2, received: 2, written: 1 } },
      composite: { Account: { calls: 1, received: 1, written: 1 }, Contact: { calls: 1, received: 1, written: 1 } },
      bulk: { Account: { calls: 1, received: 3, written: 2 } },
    });
    assert.deepEqual(body.recordsByObject, { Product2: 2, Account: 3, Contact: 1 });
    assert.deepEqual(t.sb.admin.counters().writesByApi, body.writesByApi, 'the in-process admin sees the same');
  });

  it('applies a user edit like a person in the UI (visible to API clients)', async () => {
    const created = await conn.sobject('Product2').create({ Name: 'Edited later', Sku__c: 'UI-1' });
    const res = await adminCall(t.sb, 'POST', '/user-edit', { object: 'Product2', externalId: { field: 'Sku__c', value: 'UI-1' }, fields: { Name: 'Edited by a person' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.id, created.id);
    const rec = await conn.sobject('Product2').retrieve(created.id!);
    assert.equal(rec.Name, 'Edited by a person');
    const bad = await adminCall(t.sb, 'POST', '/user-edit', { object: 'Product2', id: created.id, fields: { Nope__c: 1 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errorCode, 'INVALID_FIELD');
  });

  it('drops the change events of the next writes of an object when told, and only those', async () => {
    const channel = '/data/OpportunityChangeEvent';
    const before = await conn.sobject('Opportunity').create({ Name: 'Seen', StageName: 'Prospecting', CloseDate: '2026-01-01' });
    const set = await adminCall(t.sb, 'PUT', '/faults', { dropChangeEvents: { count: 2, object: 'Opportunity' } });
    assert.deepEqual(set.body.dropChangeEvents, { count: 2, object: 'Opportunity' });
    // a write of another object takes none of the count and publishes as usual
    const account = await conn.sobject('Account').create({ Name: 'Still seen' });
    const hidden = await conn.sobject('Opportunity').create({ Name: 'Hidden', StageName: 'Prospecting', CloseDate: '2026-01-01' });
    await conn.sobject('Opportunity').update({ Id: before.id!, Amount: 99 });
    assert.equal((await adminCall(t.sb, 'GET', '/faults')).body.dropChangeEvents, null, 'both drops spent');
    const after = await conn.sobject('Opportunity').update({ Id: before.id!, Amount: 100 });
    // the records changed all the same
    assert.equal((await conn.sobject('Opportunity').retrieve(hidden.id!)).Name, 'Hidden');
    // a last write as a sentinel: every event published before it is read when it is
    await conn.sobject('Opportunity').update({ Id: before.id!, Amount: 101 });
    await withCometdEvents(conn, channel, async (events) => {
      await waitFor(() => events.some((e) => e.payload.Amount === 101), 'the sentinel event');
      const seen = events.map((e) => [e.payload.ChangeEventHeader.changeType, e.payload.ChangeEventHeader.recordIds[0], e.payload.Amount ?? null]);
      assert.deepEqual(seen, [['CREATE', before.id, null], ['UPDATE', after.id, 100], ['UPDATE', before.id, 101]], 'the hidden create and the update to 99 published nothing');
    });
    // earlier tests of this org made Accounts too: the one made here is among the Account events
    await withCometdEvents(conn, '/data/AccountChangeEvent', async (events) => {
      await waitFor(() => events.some((e) => e.payload.ChangeEventHeader.recordIds[0] === account.id), 'the Account event');
    });
  });

  it('restarts the emulator on demand: the client sees the outage, then its data and session again', async () => {
    const created = await conn.sobject('Account').create({ Name: 'Survives restart' });
    const res = await adminCall(t.sb, 'POST', '/faults/restart', { downMs: 3_000 });
    assert.equal(res.status, 202);
    // the outage begins when the port stops answering
    const down = async () => fetch(`${t.sb.loginUrl}/services/data`).then(() => false, () => true);
    for (const until = Date.now() + 2_500; Date.now() < until && !(await down());) await new Promise((r) => setTimeout(r, 10));
    assert.ok(await down(), 'the emulator went down');
    const during = await rejectionOf(conn.sobject('Account').create({ Name: 'during the outage' }));
    assert.match(`${during.message} ${(during as { cause?: { code?: string } }).cause?.code ?? ''}`, /ECONNREFUSED|fetch failed|socket|ECONNRESET/i);
    // back when it answers again (however long the restart takes on a busy machine)
    const rec = await eventually(() => conn.sobject('Account').retrieve(created.id!) as Promise<Record<string, unknown>>, (r) => r !== undefined, 60_000, 100);
    assert.equal(rec.Name, 'Survives restart');
  });
});
