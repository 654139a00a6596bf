import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import jsforce from 'jsforce';
import { createLogger } from '../../src/observability/logger.ts';
import type { OrgModel } from '../../src/sandbox/model/types.ts';
import { makeBulkQuery, registerBulkRoutes, type BulkDeps, type BulkJobContext, type BulkRow, type BulkRowResult, type BulkRoutes } from '../../src/sandbox/bulk/index.ts';
import { eventually } from '../support/eventually.ts';

/**
 * Bulk API 2.0 through the real jsforce client. The org behind the routes is a small in-memory
 * stand-in for the emulator's store (required Name, external id upserts, deletes), so these
 * tests exercise the Bulk protocol, not the store's validation.
 */

const model = JSON.parse(readFileSync(new URL('../../src/sandbox/model/org-model.json', import.meta.url), 'utf8')) as OrgModel;
const TOKEN = '00D000000000001AAA!test-token';

type Rec = Record<string, unknown>;

class MemoryOrg {
  readonly data = new Map<string, Map<string, Rec>>();
  private seq = 0;

  records = (object: string): Iterable<Rec> => this.table(object).values();

  table(object: string): Map<string, Rec> {
    let table = this.data.get(object);
    if (!table) this.data.set(object, (table = new Map()));
    return table;
  }

  insert(object: string, fields: Rec): string {
    const prefix = model.objects.find((o) => o.name === object)!.keyPrefix;
    const id = `${prefix}${String(++this.seq).padStart(12, '0')}AAA`;
    this.table(object).set(id, { Id: id, IsDeleted: false, CreatedDate: new Date().toISOString(), ...fields });
    return id;
  }

  async applyBulk(object: string, operation: string, ext: string | undefined, rows: BulkRow[]): Promise<BulkRowResult[]> {
    const table = this.table(object);
    return rows.map((row): BulkRowResult => {
      const live = (id: string | null | undefined) => (id ? table.get(id) : undefined);
      switch (operation) {
        case 'insert':
          if (object === 'Account' && !row.Name) return { error: 'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --' };
          return { id: this.insert(object, row), created: true };
        case 'update': {
          const rec = live(row.Id);
          if (!rec || rec.IsDeleted) return { error: `ENTITY_IS_DELETED:entity is deleted or does not exist:Id --` };
          Object.assign(rec, row);
          return { id: rec.Id as string, created: false };
        }
        case 'upsert': {
          const key = row[ext!];
          const rec = [...table.values()].find((r) => !r.IsDeleted && r[ext!] === key);
          if (rec) {
            Object.assign(rec, row);
            return { id: rec.Id as string, created: false };
          }
          if (object === 'Account' && !row.Name) return { error: 'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --' };
          return { id: this.insert(object, row), created: true };
        }
        default: {
          const rec = live(row.Id);
          if (!rec || rec.IsDeleted) return { error: 'ENTITY_IS_DELETED:entity is deleted:-- --', ...(row.Id ? { id: row.Id } : {}) };
          rec.IsDeleted = true;
          return { id: rec.Id as string, created: false };
        }
      }
    });
  }
}

interface Harness {
  app: FastifyInstance;
  routes: BulkRoutes;
  conn: jsforce.Connection;
  org: MemoryOrg;
  resultPages: string[];
  /** The job context of every applyBulk call. */
  batches: BulkJobContext[];
}

async function startHarness(dataDir: string, org = new MemoryOrg()): Promise<Harness> {
  const app = Fastify();
  const resultPages: string[] = [];
  const batches: BulkJobContext[] = [];
  app.addHook('onResponse', async (req, reply) => {
    if (req.url.includes('/results')) resultPages.push(String(reply.getHeader('sforce-locator')));
  });
  const deps: BulkDeps = {
    checkAuth: (req) => {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        throw Object.assign(new Error('Session expired or invalid'), { statusCode: 401, errorCode: 'INVALID_SESSION_ID' });
      }
      return { userId: '005000000000001AAA' };
    },
    model,
    applyBulk: (object, operation, ext, rows, job) => {
      batches.push(job);
      return org.applyBulk(object, operation, ext, rows);
    },
    query: makeBulkQuery(model, org.records),
    dataDir,
    logger: createLogger('bulk-test', 'silent'),
  };
  const routes = registerBulkRoutes(app, deps);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  const conn = new jsforce.Connection({ instanceUrl: `http://127.0.0.1:${port}`, accessToken: TOKEN, version: '60.0' });
  conn.bulk2.pollInterval = 20;
  conn.bulk2.pollTimeout = 10_000;
  return { app, routes, conn, org, resultPages, batches };
}

/** jsforce types result rows as its schema; the tests read them as plain records. */
function rows(results: unknown): Rec[] {
  return results as Rec[];
}

async function collect(stream: AsyncIterable<unknown>): Promise<Rec[]> {
  const out: Rec[] = [];
  for await (const record of stream) out.push(record as Rec);
  return out;
}

describe('Bulk API 2.0 with jsforce', () => {
  let dataDir: string;
  let h: Harness;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'bulk-jobs-'));
    h = await startHarness(dataDir);
  });

  after(async () => {
    await h.app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('inserts rows and reports a failed row with its error and original columns', async () => {
    const results = await h.conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'insert',
      input: [
        { Name: 'Acme', Shop_Customer_Id__c: 'c-1', Industry: 'Retail' },
        { Name: 'Beta', Shop_Customer_Id__c: 'c-2', Industry: 'Food' },
        { Name: '', Shop_Customer_Id__c: 'c-3', Industry: 'Toys' },
      ],
    });
    const ok = rows(results.successfulResults);
    const failed = rows(results.failedResults);
    assert.equal(ok.length, 2);
    for (const row of ok) {
      assert.match(String(row.sf__Id), /^001\w{15}$/);
      assert.equal(row.sf__Created, 'true');
    }
    assert.deepEqual(ok.map((r) => r.Name), ['Acme', 'Beta']);
    assert.equal(failed.length, 1);
    assert.match(String(failed[0].sf__Error), /^REQUIRED_FIELD_MISSING:/);
    assert.equal(failed[0].Shop_Customer_Id__c, 'c-3');
    assert.deepEqual(results.unprocessedRecords, []);
    assert.equal(h.org.table('Account').size, 2);
  });

  it('reports the job counts on the job info', async () => {
    const jobs = await h.conn.request<{ records: Array<Record<string, unknown>> }>('/services/data/v60.0/jobs/ingest');
    const last = jobs.records.at(-1)!;
    assert.equal(last.state, 'JobComplete');
    assert.equal(last.numberRecordsProcessed, 3);
    assert.equal(last.numberRecordsFailed, 1);
    assert.equal(last.object, 'Account');
    assert.equal(last.createdById, '005000000000001AAA');
  });

  it('upserts by external id: updates a match, creates the rest, #N/A sets null', async () => {
    const results = await h.conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'upsert',
      externalIdFieldName: 'Shop_Customer_Id__c',
      input: [
        { Shop_Customer_Id__c: 'c-1', Name: 'Acme Renamed', Industry: null },
        { Shop_Customer_Id__c: 'c-9', Name: 'Gamma' },
      ],
    });
    assert.equal(results.failedResults.length, 0);
    const byKey = new Map(rows(results.successfulResults).map((r) => [r.Shop_Customer_Id__c, r]));
    assert.equal(byKey.get('c-1')!.sf__Created, 'false');
    assert.equal(byKey.get('c-9')!.sf__Created, 'true');
    const acme = h.org.table('Account').get(String(byKey.get('c-1')!.sf__Id))!;
    assert.equal(acme.Name, 'Acme Renamed');
    assert.equal(acme.Industry, null);
    assert.equal(h.org.table('Account').size, 3);
    assert.equal(h.batches.at(-1)!.client, '');
  });

  it('deletes by id and fails an unknown id', async () => {
    const [victim] = [...h.org.table('Account').values()].filter((r) => r.Name === 'Beta');
    const results = await h.conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'delete',
      input: [{ Id: String(victim.Id) }, { Id: '001999999999999AAA' }],
    });
    assert.deepEqual(results.successfulResults.map((r) => r.sf__Id), [victim.Id]);
    assert.equal(results.failedResults.length, 1);
    assert.match(String(results.failedResults[0].sf__Error), /^ENTITY_IS_DELETED/);
    assert.equal(victim.IsDeleted, true);
  });

  it('hands the Sforce-Call-Options client of the job to the store, for changeOrigin', async () => {
    const tagged = new jsforce.Connection({ instanceUrl: h.conn.instanceUrl, accessToken: TOKEN, version: '60.0', callOptions: { client: 'shopforce-sync' } });
    tagged.bulk2.pollInterval = 20;
    h.batches.length = 0;
    await tagged.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: [{ Name: 'Tagged' }] });
    assert.deepEqual(h.batches.map((b) => [b.client, b.apiVersion]), [['shopforce-sync', '60.0']]);
  });

  it('reads pipe-delimited CRLF uploads', async () => {
    const job = h.conn.bulk2.createJob({ object: 'Contact', operation: 'insert', columnDelimiter: 'PIPE', lineEnding: 'CRLF' });
    await job.open();
    await job.uploadData('LastName|Email\r\nPipe|pipe@example.com\r\n"Quoted|Name"|#N/A\r\n');
    await job.close();
    await job.poll(20, 10_000);
    const ok = rows(await job.getSuccessfulResults());
    assert.deepEqual(ok.map((r) => r.LastName), ['Pipe', 'Quoted|Name']);
    const contacts = [...h.org.table('Contact').values()];
    assert.equal(contacts.find((c) => c.LastName === 'Quoted|Name')!.Email, null);
  });

  it('fails the whole job on an unknown column, leaving every row unprocessed', async () => {
    const job = h.conn.bulk2.createJob({ object: 'Account', operation: 'insert' });
    await job.open();
    await job.uploadData('Name,Nope__c\nX,1\n');
    await job.close();
    await assert.rejects(job.poll(20, 10_000), /Field name not found : Nope__c/);
    const info = await job.check();
    assert.equal(info.state, 'Failed');
    assert.deepEqual(await job.getUnprocessedRecords(), [{ Name: 'X', Nope__c: '1' }]);
  });

  it('keeps aborted job data as unprocessed records', async () => {
    const job = h.conn.bulk2.createJob({ object: 'Account', operation: 'insert' });
    await job.open();
    await job.uploadData([{ Name: 'Never' }]);
    await job.abort();
    assert.equal((await job.check()).state, 'Aborted');
    assert.deepEqual(await job.getUnprocessedRecords(), [{ Name: 'Never' }]);
    await assert.rejects(job.close(), (err: Error & { errorCode?: string }) => err.errorCode === 'INVALIDJOBSTATE');
  });

  it('returns a query of many rows through jsforce (one page by default)', async () => {
    for (let i = 0; i < 250; i++) h.org.insert('Product2', { Name: `P${i}`, Sku__c: `SKU-${String(i).padStart(3, '0')}` });
    h.resultPages.length = 0;
    const rows = await collect(await h.conn.bulk2.query('SELECT Id, Name, Sku__c FROM Product2 ORDER BY Sku__c'));
    assert.equal(rows.length, 250);
    assert.equal(rows[0].Sku__c, 'SKU-000');
    assert.equal(rows[249].Sku__c, 'SKU-249');
    assert.equal(new Set(rows.map((r) => r.Id)).size, 250);
    assert.deepEqual(h.resultPages, ['null']);
  });

  it('pages query results by maxRecords with Sforce-Locator until "null"', async () => {
    const job = await h.conn.request<{ id: string }>({
      method: 'POST',
      url: '/services/data/v60.0/jobs/query',
      body: JSON.stringify({ operation: 'query', query: 'SELECT Sku__c FROM Product2 ORDER BY Sku__c DESC' }),
      headers: { 'Content-Type': 'application/json' },
    });
    // the pages are read once the job says it is complete (a job that never completes fails here)
    await eventually(() => h.conn.request<{ state: string }>(`/services/data/v60.0/jobs/query/${job.id}`), (info) => info.state === 'JobComplete', 30_000, 10);
    // Pages are fetched by hand: jsforce 3's QueryJobV2.result() pipes every page into one stream
    // and fails with "write after end" on the second page (jsforce issues #1546, #1693), against
    // Salesforce as here. The emulator therefore only splits results when asked with maxRecords.
    const pages: Array<{ locator: string | null; count: string | null; body: string }> = [];
    let locator = '';
    do {
      const query = `maxRecords=100${locator ? `&locator=${locator}` : ''}`;
      const res = await fetch(`${h.conn.instanceUrl}/services/data/v60.0/jobs/query/${job.id}/results?${query}`, {
        headers: { Authorization: `Bearer ${TOKEN}`, Accept: 'text/csv' },
      });
      assert.equal(res.status, 200);
      pages.push({ locator: res.headers.get('sforce-locator'), count: res.headers.get('sforce-numberofrecords'), body: await res.text() });
      locator = res.headers.get('sforce-locator') ?? 'null';
    } while (locator !== 'null' && pages.length < 10);
    assert.deepEqual(pages.map((p) => p.count), ['100', '100', '50']);
    assert.equal(pages.at(-1)!.locator, 'null');
    const lines = pages.flatMap((p) => p.body.trim().split('\n'));
    assert.equal(lines.filter((l) => l === '"Sku__c"').length, 3); // every page starts with the header
    const skus = lines.filter((l) => l !== '"Sku__c"');
    assert.equal(skus.length, 250);
    assert.equal(skus[0], '"SKU-249"');
    assert.equal(skus[249], '"SKU-000"');
  });

  it('returns parent fields as dotted columns and deleted rows only for queryAll', async () => {
    const acme = [...h.org.table('Account').values()].find((r) => r.Name === 'Acme Renamed')!;
    h.org.insert('Contact', { LastName: 'Child', AccountId: acme.Id });
    const rows = await collect(await h.conn.bulk2.query("SELECT LastName, Account.Name FROM Contact WHERE LastName = 'Child'"));
    assert.deepEqual(rows, [{ LastName: 'Child', 'Account.Name': 'Acme Renamed' }]);
    const live = await collect(await h.conn.bulk2.query("SELECT Name FROM Account WHERE Name = 'Beta'"));
    assert.equal(live.length, 0);
    const all = await collect(await h.conn.bulk2.query("SELECT Name FROM Account WHERE Name = 'Beta'", { scanAll: true }));
    assert.deepEqual(all, [{ Name: 'Beta' }]);
  });

  it('answers errors the way Salesforce does', async () => {
    await assert.rejects(h.conn.bulk2.query('SELECT Nope FROM Account'), (err: Error & { errorCode?: string }) =>
      err.errorCode === 'INVALID_FIELD' && /No such column 'Nope' on entity 'Account'/.test(err.message));
    await assert.rejects(h.conn.bulk2.query('SELECT Id FROM Acount'), (err: Error & { errorCode?: string }) => err.errorCode === 'INVALID_TYPE');
    await assert.rejects(h.conn.bulk2.query('SELECT Id FROM'), (err: Error & { errorCode?: string }) => err.errorCode === 'MALFORMED_QUERY');
    await assert.rejects(h.conn.bulk2.createJob({ object: 'Nope__c', operation: 'insert' }).open(),
      (err: Error & { errorCode?: string }) => err.errorCode === 'INVALIDJOB' && /Unable to find object: Nope__c/.test(err.message));
    await assert.rejects(h.conn.bulk2.createJob({ object: 'Account', operation: 'upsert' }).open(),
      (err: Error & { errorCode?: string }) => err.errorCode === 'INVALIDJOB' && /External ID/.test(err.message));
    await assert.rejects(h.conn.bulk2.job('ingest', { id: '750000000000000AAA' }).check(),
      (err: Error & { errorCode?: string }) => err.errorCode === 'NOT_FOUND');
    const stale = new jsforce.Connection({ instanceUrl: h.conn.instanceUrl, accessToken: 'expired', version: '60.0' });
    await assert.rejects(stale.bulk2.createJob({ object: 'Account', operation: 'insert' }).open(),
      (err: Error & { errorCode?: string }) => err.errorCode === 'INVALID_SESSION_ID');
  });

  it('keeps jobs and their results across a restart', async () => {
    const before = await h.conn.request<{ records: Array<{ id: string; state: string }> }>('/services/data/v60.0/jobs/ingest');
    const firstJob = before.records[0];
    await h.app.close();
    h = await startHarness(dataDir, h.org);
    const afterRestart = await h.conn.request<{ records: Array<{ id: string; state: string }> }>('/services/data/v60.0/jobs/ingest');
    assert.deepEqual(afterRestart.records.map((j) => [j.id, j.state]), before.records.map((j) => [j.id, j.state]));
    const ok = rows(await h.conn.bulk2.job('ingest', { id: firstJob.id }).getSuccessfulResults());
    assert.deepEqual(ok.map((r) => r.Name), ['Acme', 'Beta']);
  });

  it('deletes a job', async () => {
    const job = h.conn.bulk2.createJob({ object: 'Account', operation: 'insert' });
    await job.open();
    await job.delete();
    await assert.rejects(job.check(), (err: Error & { errorCode?: string }) => err.errorCode === 'NOT_FOUND');
    await h.routes.idle();
  });
});
