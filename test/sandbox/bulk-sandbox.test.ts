import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'jsforce';
import { collect, jwtConnection, rejectionOf, startTestSandbox, type TestSandbox } from './sandbox-helpers.ts';

/**
 * Bulk API 2.0 end to end against the whole emulator (startSandbox: OAuth, the SQLite store and
 * its validation, counters), through the real jsforce client logged in with the JWT bearer flow.
 */

type Rec = Record<string, unknown>;
const rows = (results: unknown): Rec[] => results as Rec[];

describe('Bulk API 2.0 on the sandbox org (jsforce)', () => {
  let t: TestSandbox;
  let conn: Connection;

  before(async () => {
    t = await startTestSandbox();
    conn = await jwtConnection(t.sb);
  });

  after(async () => {
    await t.cleanup();
  });

  // First on purpose: after a failed query jsforce sends a DELETE for the job without awaiting it,
  // and retries it for ~15 s if the server is already gone when the suite ends.
  it('answers a bad query job with the SOQL error code', async () => {
    const err = await rejectionOf(conn.bulk2.query('SELECT Bogus__c FROM Account'));
    assert.equal(err.errorCode, 'INVALID_FIELD');
    assert.match(err.message, /No such column 'Bogus__c' on entity 'Account'/);
  });

  it('upserts accounts by external id, failing the row the store refuses', async () => {
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'Shop_Customer_Id__c',
      input: [
        { Shop_Customer_Id__c: 'cust-1', Name: 'Acme' },
        { Shop_Customer_Id__c: 'cust-2', Name: 'Beta' },
        { Shop_Customer_Id__c: 'cust-3', Name: 'x'.repeat(300) },
      ],
    });
    assert.deepEqual(rows(results.successfulResults).map((r) => [r.Shop_Customer_Id__c, r.sf__Created]), [['cust-1', 'true'], ['cust-2', 'true']]);
    const failed = rows(results.failedResults);
    assert.equal(failed.length, 1);
    assert.equal(failed[0].Shop_Customer_Id__c, 'cust-3');
    assert.match(String(failed[0].sf__Error), /^STRING_TOO_LONG:/);

    const again = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'Shop_Customer_Id__c',
      input: [{ Shop_Customer_Id__c: 'cust-1', Name: 'Acme Renamed' }],
    });
    assert.equal(rows(again.successfulResults)[0].sf__Created, 'false');
    const found = await conn.query<{ Name: string }>("SELECT Name FROM Account WHERE Shop_Customer_Id__c = 'cust-1'");
    assert.deepEqual(found.records.map((r) => r.Name), ['Acme Renamed']);
  });

  it('inserts contacts linked by the parent external id column and reads them back with their parent', async () => {
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Contact',
      operation: 'insert',
      input: 'LastName,Shop_Customer_Id__c,Account.Shop_Customer_Id__c\nAnn,p-1,cust-1\nBob,p-2,cust-2\n',
    });
    assert.equal(rows(results.successfulResults).length, 2, JSON.stringify(results.failedResults));
    const got = await collect(await conn.bulk2.query('SELECT LastName, Account.Name FROM Contact ORDER BY LastName'));
    assert.deepEqual(got, [{ LastName: 'Ann', 'Account.Name': 'Acme Renamed' }, { LastName: 'Bob', 'Account.Name': 'Beta' }]);
  });

  it('deletes by id, reports an unknown id, and queryAll still sees the deleted row', async () => {
    const [beta] = (await conn.query<{ Id: string }>("SELECT Id FROM Account WHERE Name = 'Beta'")).records;
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'delete',
      input: [{ Id: beta.Id }, { Id: '001000000000000AAA' }],
    });
    assert.deepEqual(rows(results.successfulResults).map((r) => r.sf__Id), [beta.Id]);
    assert.equal(rows(results.failedResults).length, 1);
    assert.equal((await collect(await conn.bulk2.query("SELECT Id FROM Account WHERE Name = 'Beta'"))).length, 0);
    const all = await collect(await conn.bulk2.query("SELECT Id, IsDeleted FROM Account WHERE Name = 'Beta'", { scanAll: true }));
    assert.deepEqual(all, [{ Id: beta.Id, IsDeleted: 'true' }]);
  });

  it('loads and queries more rows than a REST query page (2,000), counted as bulk calls', async () => {
    await t.sb.admin.resetCounters();
    const input = Array.from({ length: 2500 }, (_, i) => ({ Name: `Prod ${i}`, Sku__c: `SKU-${String(i).padStart(4, '0')}`, IsActive: true }));
    const results = await conn.bulk2.loadAndWaitForResults({ object: 'Product2', operation: 'upsert', externalIdFieldName: 'Sku__c', input });
    assert.equal(rows(results.successfulResults).length, 2500);
    const got = await collect(await conn.bulk2.query("SELECT Sku__c, Name FROM Product2 WHERE Sku__c LIKE 'SKU-%' ORDER BY Sku__c"));
    assert.equal(got.length, 2500);
    assert.deepEqual(got[2499], { Sku__c: 'SKU-2499', Name: 'Prod 2499' });
    const counters = t.sb.admin.counters();
    assert.ok((counters.byApi.bulk ?? 0) >= 6, JSON.stringify(counters.byApi));
    assert.equal(counters.recordsByObject.Product2, 2500);
  });

  it('refreshes an expired session in the middle of a bulk load', async () => {
    const before = conn.accessToken;
    assert.ok(t.sb.admin.expireSessions() >= 1);
    const results = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: [{ Name: 'After Expiry' }] });
    assert.equal(rows(results.successfulResults).length, 1);
    assert.notEqual(conn.accessToken, before);
  });
});
