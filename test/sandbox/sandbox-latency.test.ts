import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminCall, useTestSandbox } from './sandbox-helpers.ts';
import { Latency, REAL_ORG_LATENCY } from '../../src/sandbox/admin/latency.ts';

const accounts = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ attributes: { type: 'Account' }, Name: `${tag}-${i}` }));

describe('the emulator\'s latency model (a real org\'s answer times, for benchmarks)', () => {
  const sandbox = useTestSandbox();

  /** A Bulk API 2.0 job inserting `n` accounts named `<tag>-<i>`, uploaded and closed. */
  const closedInsertJob = async (tag: string, n: number) => {
    const job = sandbox.conn.bulk2.createJob({ object: 'Account', operation: 'insert', lineEnding: 'LF' });
    await job.open();
    await job.uploadData(`Name\n${Array.from({ length: n }, (_, i) => `${tag}-${i}`).join('\n')}\n`);
    await job.close();
    return job;
  };

  it('the real-org preset takes a Collections call of 200 records about 5.7 s: 350 records/s with 10 calls in flight', () => {
    const exact = new Latency({ ...REAL_ORG_LATENCY, jitterRatio: 0 });
    assert.equal(exact.durationMs(200), 5_700);
    assert.equal(Math.round((10 * 200) / (exact.durationMs(200) / 1000)), 351);
    assert.equal(exact.durationMs(1), 177.75);
  });

  it('the real-org preset takes a Bulk API 2.0 job of 10,000 records 8 s from close to JobComplete: with its calls, ~1,066 records/s one job at a time', () => {
    const exact = new Latency({ ...REAL_ORG_LATENCY, jitterRatio: 0, bulkJitterRatio: 0 });
    const { queueMs, perRecordMs } = exact.bulkJob();
    const processing = queueMs + perRecordMs * 10_000;
    assert.equal(processing, 8_000);
    // create, upload, close, one status check and the results: five calls of one record each, and half a 1 s poll interval
    const calls = 5 * exact.durationMs(1) + 500;
    const recordsPerS = 10_000 / ((processing + calls) / 1000);
    assert.ok(Math.abs(recordsPerS - 1_066) / 1_066 < 0.005, `${recordsPerS.toFixed(1)} records/s`);
  });

  it('a Bulk API 2.0 job under the model waits in the queue, is InProgress with nothing written, then lands (jsforce)', async () => {
    // 1.5 s queued and 1.5 s in progress: each state outlasts a status check even on a loaded machine
    await adminCall(sandbox.t.sb, 'PUT', '/latency', { bulkJobBaseMs: 1_500, bulkPerRecordMs: 5, bulkJitterRatio: 0 });
    const tag = `bulk-lat-${Date.now()}`;
    const job = await closedInsertJob(tag, 300);
    const seen: Array<{ state: string; processed: number; visible: number }> = [];
    for (;;) {
      // read first, state second: rows seen mean the job had landed them before its state was read
      const visible = (await sandbox.conn.query(`SELECT Id FROM Account WHERE Name LIKE '${tag}-%'`)).totalSize;
      const info = await job.check();
      seen.push({ state: info.state, processed: Number(info.numberRecordsProcessed ?? 0), visible });
      if (info.state === 'JobComplete' || info.state === 'Failed' || info.state === 'Aborted') break;
      await new Promise((r) => setTimeout(r, 40));
    }
    await adminCall(sandbox.t.sb, 'DELETE', '/latency');
    const states = seen.map((s) => s.state).filter((s, i, all) => i === 0 || all[i - 1] !== s);
    assert.deepEqual(states, ['UploadComplete', 'InProgress', 'JobComplete'], JSON.stringify(seen));
    for (const s of seen.filter((x) => x.state !== 'JobComplete')) {
      assert.deepEqual([s.processed, s.visible], [0, 0], `nothing written before the job's time has passed: ${JSON.stringify(s)}`);
    }
    assert.deepEqual([seen.at(-1)?.state, seen.at(-1)?.processed], ['JobComplete', 300]);
    assert.equal((await sandbox.conn.query(`SELECT Id FROM Account WHERE Name LIKE '${tag}-%'`)).totalSize, 300);
  });

  it('a Bulk API 2.0 job aborted while InProgress under the model writes none of its rows', async () => {
    await adminCall(sandbox.t.sb, 'PUT', '/latency', { bulkJobBaseMs: 0, bulkPerRecordMs: 10, bulkJitterRatio: 0 });
    const tag = `bulk-abort-${Date.now()}`;
    const job = await closedInsertJob(tag, 300);
    let state = (await job.check()).state;
    while (state === 'UploadComplete') state = (await job.check()).state;
    assert.equal(state, 'InProgress');
    await job.abort();
    await adminCall(sandbox.t.sb, 'DELETE', '/latency');
    // past the 3 s the job was given: its batch would have landed by now had it gone on
    await new Promise((r) => setTimeout(r, 3_500));
    const info = await job.check();
    assert.deepEqual([info.state, Number(info.numberRecordsProcessed)], ['Aborted', 0]);
    assert.equal((await sandbox.conn.query(`SELECT Id FROM Account WHERE Name LIKE '${tag}-%'`)).totalSize, 0);
  });

  it('refuses a bad setting naming the field, and takes a preset by name', async () => {
    const bad = await adminCall(sandbox.t.sb, 'PUT', '/latency', { perRecordMs: -1 });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /latency\.perRecordMs/);
    const badBulk = await adminCall(sandbox.t.sb, 'PUT', '/latency', { bulkJitterRatio: 2 });
    assert.equal(badBulk.status, 400);
    assert.match(JSON.stringify(badBulk.body), /latency\.bulkJitterRatio/);
    const unknown = await adminCall(sandbox.t.sb, 'PUT', '/latency', { preset: 'mars' });
    assert.match(JSON.stringify(unknown.body), /none, real-org/);
    const preset = await adminCall(sandbox.t.sb, 'PUT', '/latency', { preset: 'real-org' });
    assert.deepEqual(preset.body, REAL_ORG_LATENCY);
    await adminCall(sandbox.t.sb, 'DELETE', '/latency');
  });

  it('a write becomes visible when its call ends, not when it arrives', async () => {
    await adminCall(sandbox.t.sb, 'PUT', '/latency', { baseMs: 1_500, perRecordMs: 0, jitterRatio: 0 });
    const tag = `lat-${Date.now()}`;
    const write = sandbox.conn.request({ method: 'POST', url: `/services/data/v60.0/composite/sobjects`, body: JSON.stringify({ allOrNone: false, records: accounts(tag, 3) }), headers: { 'content-type': 'application/json' } });
    await new Promise((r) => setTimeout(r, 300));
    // back to loopback speed for the reads: the write keeps the 1.5 s it was given when it arrived
    await adminCall(sandbox.t.sb, 'DELETE', '/latency');
    const before = await sandbox.conn.query(`SELECT Id FROM Account WHERE Name LIKE '${tag}-%'`);
    const results = await write as Array<{ success: boolean }>;
    const afterEnd = await sandbox.conn.query(`SELECT Id FROM Account WHERE Name LIKE '${tag}-%'`);
    assert.equal(before.totalSize, 0, 'nothing written while the call is served');
    assert.deepEqual(results.map((r) => r.success), [true, true, true]);
    assert.equal(afterEnd.totalSize, 3);
  });

  it('serves at most maxLongRequests long-running calls at once: one more is refused with REQUEST_LIMIT_EXCEEDED', async () => {
    await adminCall(sandbox.t.sb, 'PUT', '/latency', { baseMs: 2_000, perRecordMs: 0, jitterRatio: 0, longRequestMs: 1_000, maxLongRequests: 2 });
    const tag = `long-${Date.now()}`;
    const call = (i: number) => sandbox.conn.request({ method: 'POST', url: `/services/data/v60.0/composite/sobjects`, body: JSON.stringify({ allOrNone: false, records: accounts(`${tag}-${i}`, 1) }), headers: { 'content-type': 'application/json' } })
      .then(() => 'served', (err: { errorCode?: string; name?: string }) => err.errorCode ?? err.name ?? 'error');
    const first = [call(0), call(1)];
    await new Promise((r) => setTimeout(r, 500));
    const third = await call(2);
    const outcomes = [...(await Promise.all(first)), third];
    assert.deepEqual(outcomes, ['served', 'served', 'REQUEST_LIMIT_EXCEEDED']);
    const state = (await adminCall(sandbox.t.sb, 'GET', '/latency')).body as { refusedLongRequests: number; longRunning: number };
    assert.equal(state.refusedLongRequests, 1);
    assert.equal(state.longRunning, 0);
    await adminCall(sandbox.t.sb, 'DELETE', '/latency');
  });
});
