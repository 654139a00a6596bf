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

  // The protocol cases of bulk-jobs.test.ts (there against an in-memory stand-in), once against the
  // real store: its validation, its nulls, its ids. Each makes its own records.
  it('store: an upsert sets #N/A columns to null and the job info counts the rows', async () => {
    await conn.sobject('Account').create({ Name: 'Nulls', Shop_Customer_Id__c: 'na-1', Industry: 'Retail', Phone: '+33 1' });
    const results = await conn.bulk2.loadAndWaitForResults({
      object: 'Account', operation: 'upsert', externalIdFieldName: 'Shop_Customer_Id__c',
      input: 'Shop_Customer_Id__c,Name,Industry,Phone\nna-1,Nulls Renamed,#N/A,#N/A\nna-2,,Food,\n',
    });
    assert.deepEqual(rows(results.successfulResults).map((r) => [r.Shop_Customer_Id__c, r.sf__Created]), [['na-1', 'false']]);
    assert.match(String(rows(results.failedResults)[0]?.sf__Error), /^REQUIRED_FIELD_MISSING:/);
    const [rec] = (await conn.query<Rec>("SELECT Name, Industry, Phone FROM Account WHERE Shop_Customer_Id__c = 'na-1'")).records;
    assert.deepEqual([rec!.Name, rec!.Industry, rec!.Phone], ['Nulls Renamed', null, null]);
    const jobs = await conn.request<{ records: Rec[] }>(`/services/data/v${conn.version}/jobs/ingest`);
    const job = jobs.records.at(-1)!;
    assert.deepEqual([job.state, job.numberRecordsProcessed, job.numberRecordsFailed, job.operation], ['JobComplete', 2, 1, 'upsert']);
  });

  it('store: reads pipe-delimited CRLF uploads, quoted delimiters included', async () => {
    const job = conn.bulk2.createJob({ object: 'Contact', operation: 'insert', columnDelimiter: 'PIPE', lineEnding: 'CRLF' });
    await job.open();
    await job.uploadData('LastName|Email\r\nPiped|piped@example.com\r\n"Quoted|Pipe"|#N/A\r\n');
    await job.close();
    await job.poll(20, 10_000);
    assert.deepEqual(rows(await job.getSuccessfulResults()).map((r) => r.LastName), ['Piped', 'Quoted|Pipe']);
    const stored = (await conn.query<Rec>("SELECT LastName, Email FROM Contact WHERE LastName IN ('Piped', 'Quoted|Pipe') ORDER BY LastName")).records;
    assert.deepEqual(stored.map((c) => [c.LastName, c.Email]), [['Piped', 'piped@example.com'], ['Quoted|Pipe', null]]);
  });

  it('store: an unknown column fails the whole job and leaves every row unprocessed', async () => {
    const job = conn.bulk2.createJob({ object: 'Account', operation: 'insert' });
    await job.open();
    await job.uploadData('Name,Nope__c\nNever Stored,1\n');
    await job.close();
    await assert.rejects(job.poll(20, 10_000), /Field name not found : Nope__c/);
    assert.equal((await job.check()).state, 'Failed');
    assert.deepEqual(await job.getUnprocessedRecords(), [{ Name: 'Never Stored', Nope__c: '1' }]);
    assert.equal((await conn.query("SELECT Id FROM Account WHERE Name = 'Never Stored'")).totalSize, 0);
  });

  it('store: an aborted job writes nothing and keeps its data as unprocessed records', async () => {
    const job = conn.bulk2.createJob({ object: 'Account', operation: 'insert' });
    await job.open();
    await job.uploadData([{ Name: 'Aborted Row' }]);
    await job.abort();
    assert.equal((await job.check()).state, 'Aborted');
    assert.deepEqual(await job.getUnprocessedRecords(), [{ Name: 'Aborted Row' }]);
    assert.equal((await conn.query("SELECT Id FROM Account WHERE Name = 'Aborted Row'")).totalSize, 0);
  });

  it('store: query results page by maxRecords with Sforce-Locator until "null"', async () => {
    const input = Array.from({ length: 250 }, (_, i) => ({ Name: `Page ${i}`, Sku__c: `PG-${String(i).padStart(3, '0')}` }));
    assert.equal(rows((await conn.bulk2.loadAndWaitForResults({ object: 'Product2', operation: 'insert', input })).successfulResults).length, 250);
    const job = await conn.request<{ id: string }>({
      method: 'POST', url: `/services/data/v${conn.version}/jobs/query`, headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ operation: 'query', query: "SELECT Sku__c FROM Product2 WHERE Sku__c LIKE 'PG-%' ORDER BY Sku__c DESC" }),
    });
    await conn.bulk2.job('query', { id: job.id }).poll(20, 10_000);
    const counts: Array<string | null> = [];
    const skus: string[] = [];
    for (let locator = ''; locator !== 'null' && counts.length < 10;) {
      const res = await fetch(`${conn.instanceUrl}/services/data/v${conn.version}/jobs/query/${job.id}/results?maxRecords=100${locator ? `&locator=${locator}` : ''}`,
        { headers: { Authorization: `Bearer ${conn.accessToken}`, Accept: 'text/csv' } });
      assert.equal(res.status, 200);
      counts.push(res.headers.get('sforce-numberofrecords'));
      skus.push(...(await res.text()).trim().split('\n').slice(1));
      locator = res.headers.get('sforce-locator') ?? 'null';
    }
    assert.deepEqual(counts, ['100', '100', '50']);
    assert.deepEqual([skus.length, skus[0], skus.at(-1)], [250, '"PG-249"', '"PG-000"']);
  });

  it('refreshes an expired session in the middle of a bulk load', async () => {
    const before = conn.accessToken;
    assert.ok(t.sb.admin.expireSessions() >= 1);
    const results = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: [{ Name: 'After Expiry' }] });
    assert.equal(rows(results.successfulResults).length, 1);
    assert.notEqual(conn.accessToken, before);
  });
});
