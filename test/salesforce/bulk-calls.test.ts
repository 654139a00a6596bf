/**
 * Bulk API 2.0 jobs through trouble, against the emulator's deterministic faults: an upload answered
 * 408 or 503 goes again in a new job (the failed one aborted) and its rows land once; a results page
 * answered 503 is read again; every attempt is counted. And a call that does not answer in time is
 * cancelled before its retry is sent (a local server that never answers the first request).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import jsforce, { type Connection } from 'jsforce';
import { Registry } from 'prom-client';
import { createLogger } from '../../src/observability/logger.ts';
import { bulkCall, oneOffCallPolicy } from '../../src/salesforce/bulk-call.ts';
import { bulkIngestJob } from '../../src/salesforce/bulk-ingest.ts';
import { bulkQueryPages } from '../../src/salesforce/bulk-query.ts';
import type { CallPolicy } from '../../src/salesforce/sink/call.ts';
import { useTestSandbox } from '../sandbox/sandbox-helpers.ts';

const log = createLogger('test-bulk-calls', 'silent');
const PACE = { minPollMs: 20, maxPollMs: 200, timeoutMs: 30_000 };
const UPLOAD = '/jobs/ingest/*/batches';

function policy(conn: Connection, registry = new Registry()): CallPolicy {
  return oneOffCallPolicy(conn, log, registry, { maxRetries: 3, minDelayMs: 10, maxDelayMs: 50, timeoutMs: 10_000 });
}

/** Attempts the policy counted, by operation. */
async function attempts(p: CallPolicy): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await p.metrics!.apiCalls.get()).values) out[String(v.labels.operation)] = (out[String(v.labels.operation)] ?? 0) + v.value;
  return out;
}

const accounts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ Shop_Customer_Id__c: `${prefix}-${i}`, Name: `Customer ${prefix} ${i}` }));

describe('Bulk API 2.0 jobs under faults (emulator)', () => {
  const org = useTestSandbox();

  for (const status of [408, 503]) {
    it(`an upload answered ${status} goes again in a new job, the failed one aborted; the rows land once`, async () => {
      const prefix = `up${status}`;
      const p = policy(org.conn);
      org.t.sb.admin.resetCounters();
      org.t.sb.admin.setFaults({ failNext: { count: 1, status, method: 'PUT', path: UPLOAD } });
      const res = await bulkIngestJob(org.conn, p, { object: 'Account', operation: 'upsert', externalIdField: 'Shop_Customer_Id__c' }, accounts(prefix, 300), PACE);

      assert.equal(org.t.sb.admin.setFaults({}).failNext, null, 'the fault was spent on the upload');
      assert.equal(res.failed.size, 0);
      assert.equal(res.abortedJobs.length, 1, 'one job aborted after its upload failed');
      assert.notEqual(res.abortedJobs[0], res.jobId);
      const aborted = await org.conn.request<{ state: string }>(`/services/data/v${org.conn.version}/jobs/ingest/${res.abortedJobs[0]}`);
      assert.equal(aborted.state, 'Aborted');
      // create, upload (failed), abort, create, upload, close, check(s), failed results: each attempt counted
      const counted = await attempts(p);
      assert.deepEqual({ create: counted['create-job'], upload: counted.upload, abort: counted['abort-job'] }, { create: 2, upload: 2, abort: 1 });
      assert.equal(res.calls, Object.values(counted).reduce((a, b) => a + b, 0), 'the job reports every call it made');
      const written = org.t.sb.admin.counters().writesByApi.bulk?.Account;
      assert.equal(written?.written, 300, 'each row written once');
      const rows = (await org.conn.query<{ Shop_Customer_Id__c: string }>(`SELECT Shop_Customer_Id__c FROM Account WHERE Shop_Customer_Id__c LIKE '${prefix}-%'`)).records;
      assert.equal(rows.length, 300);
    });
  }

  it('an upload that keeps failing gives up after the policy\'s retries, every job aborted', async () => {
    const p = policy(org.conn);
    org.t.sb.admin.setFaults({ failNext: { count: 10, status: 503, method: 'PUT', path: UPLOAD } });
    await assert.rejects(bulkIngestJob(org.conn, p, { object: 'Account', operation: 'upsert', externalIdField: 'Shop_Customer_Id__c' }, accounts('never', 5), PACE), /SERVER_UNAVAILABLE|503/);
    org.t.sb.admin.setFaults({ failNext: null });
    const counted = await attempts(p);
    assert.equal(counted.upload, 4, 'the first upload and 3 retries');
    assert.equal(counted['abort-job'], 4);
    assert.equal((await org.conn.query(`SELECT Id FROM Account WHERE Shop_Customer_Id__c LIKE 'never-%'`)).totalSize, 0);
  });

  it('a job not done within the pace\'s timeout is aborted before the error: held past it, it never runs', async () => {
    const HELD_MS = 4_000;
    org.t.sb.admin.setFaults({ holdJobs: { count: 1, ms: HELD_MS } });
    org.t.sb.admin.resetCounters();
    const err = await bulkIngestJob(org.conn, policy(org.conn), { object: 'Account', operation: 'upsert', externalIdField: 'Shop_Customer_Id__c' }, accounts('held', 5), { ...PACE, timeoutMs: 500 })
      .then(() => assert.fail('the held job cannot be done in time'), (e: Error) => e);
    assert.match(err.message, /not done after 500 ms.*; aborted$/);
    const jobId = /Bulk API job (\w+)/.exec(err.message)![1]!;
    await new Promise((r) => setTimeout(r, HELD_MS + 500)); // the hold is over: a job left running would be processed by now
    const job = await org.conn.request<{ state: string; numberRecordsProcessed: number }>(`/services/data/v${org.conn.version}/jobs/ingest/${jobId}`);
    assert.deepEqual([job.state, job.numberRecordsProcessed], ['Aborted', 0]);
    assert.equal(org.t.sb.admin.counters().writesByApi.bulk?.Account?.written ?? 0, 0, 'nothing written by the aborted job');
    assert.equal((await org.conn.query(`SELECT Id FROM Account WHERE Shop_Customer_Id__c LIKE 'held-%'`)).totalSize, 0);
  });

  it('a job past its timeout that cannot be aborted is waited out, never sent again beside itself: its rows land once', async () => {
    const HELD_MS = 3_000;
    org.t.sb.admin.setFaults({ holdJobs: { count: 1, ms: HELD_MS } });
    org.t.sb.admin.resetCounters();
    const p = policy(org.conn);
    let refusing = false;
    // once the job is closed and polled, every PATCH of it (the abort) is answered 503
    const onProgress = () => {
      if (refusing) return;
      refusing = true;
      org.t.sb.admin.setFaults({ failNext: { count: 20, status: 503, method: 'PATCH', path: '/jobs/ingest/*' } });
    };
    const res = await bulkIngestJob(org.conn, p, { object: 'Account', operation: 'upsert', externalIdField: 'Shop_Customer_Id__c' }, accounts('unabortable', 5), { ...PACE, timeoutMs: 500 }, onProgress);
    org.t.sb.admin.setFaults({ failNext: null });
    assert.equal(res.failed.size, 0, 'the job ran to its end and every row was taken');
    assert.equal((await attempts(p))['abort-job'], 4, 'the abort was tried, and retried by the policy');
    const job = await org.conn.request<{ state: string; numberRecordsProcessed: number }>(`/services/data/v${org.conn.version}/jobs/ingest/${res.jobId}`);
    assert.deepEqual([job.state, job.numberRecordsProcessed], ['JobComplete', 5]);
    assert.equal(org.t.sb.admin.counters().writesByApi.bulk?.Account?.written, 5, 'each row written once, by the one job');
  });

  it('a results page answered 503 is read again: every record once, the retry counted', async () => {
    await bulkIngestJob(org.conn, policy(org.conn), { object: 'Account', operation: 'upsert', externalIdField: 'Shop_Customer_Id__c' }, accounts('page', 250), PACE);
    const p = policy(org.conn);
    org.t.sb.admin.setFaults({ failNext: { count: 1, status: 503, method: 'GET', path: '/jobs/query/*/results' } });
    const seen: string[] = [];
    for await (const page of bulkQueryPages(org.conn, p, "SELECT Shop_Customer_Id__c FROM Account WHERE Shop_Customer_Id__c LIKE 'page-%'", { pageSize: 100, pollIntervalMs: 20, pollTimeoutMs: 10_000 })) {
      seen.push(...page.map((r) => r.Shop_Customer_Id__c!));
    }
    assert.equal(org.t.sb.admin.setFaults({}).failNext, null);
    assert.equal(seen.length, 250);
    assert.equal(new Set(seen).size, 250);
    assert.equal((await attempts(p))['query-results'], 4, '3 pages and one retry');
  });
});

describe('a call that does not answer in time', () => {
  it('is cancelled before its retry is sent', async () => {
    const events: string[] = [];
    let n = 0;
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const i = ++n;
      events.push(`request ${i}`);
      if (i === 1) {
        // never answers: only the client can end it
        req.socket.on('close', () => events.push(`request ${i} cancelled`));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: '750x', state: 'JobComplete' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const conn = new jsforce.Connection({ instanceUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, accessToken: 'token', version: '60.0' });
      const p = oneOffCallPolicy(conn, log, new Registry(), { maxRetries: 2, minDelayMs: 200, maxDelayMs: 200, timeoutMs: 500 });
      const res = await bulkCall<{ state: string }>(conn, p, { api: 'bulk', sobject: 'Account', operation: 'check-job' }, { method: 'GET', path: '/jobs/ingest/750x' });
      assert.equal(res.body.state, 'JobComplete');
      assert.deepEqual(events, ['request 1', 'request 1 cancelled', 'request 2'], 'the first request ended before the second was sent');
      assert.equal((await attempts(p))['check-job'], 2);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
