import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import jsforce, { type Connection } from 'jsforce';
import { API_VERSION, adminCall, jwtConnection, rejectionOf, startTestSandbox, type TestSandbox } from './sandbox-helpers.ts';

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
    let rec: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && !rec; i++) {
      rec = await conn.sobject('Account').retrieve(created.id!).catch(() => undefined);
      if (!rec) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(rec?.Name, 'Survives restart');
  });
});
