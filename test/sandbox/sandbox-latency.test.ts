import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminCall, useTestSandbox } from './sandbox-helpers.ts';
import { Latency, REAL_ORG_LATENCY } from '../../src/sandbox/admin/latency.ts';

const accounts = (tag: string, n: number) => Array.from({ length: n }, (_, i) => ({ attributes: { type: 'Account' }, Name: `${tag}-${i}` }));

describe('the emulator\'s latency model (a real org\'s answer times, for benchmarks)', () => {
  const sandbox = useTestSandbox();

  it('the real-org preset takes a Collections call of 200 records about 5.7 s: 350 records/s with 10 calls in flight', () => {
    const exact = new Latency({ ...REAL_ORG_LATENCY, jitterRatio: 0 });
    assert.equal(exact.durationMs(200), 5_700);
    assert.equal(Math.round((10 * 200) / (exact.durationMs(200) / 1000)), 351);
    assert.equal(exact.durationMs(1), 177.75);
  });

  it('refuses a bad setting naming the field, and takes a preset by name', async () => {
    const bad = await adminCall(sandbox.t.sb, 'PUT', '/latency', { perRecordMs: -1 });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /latency\.perRecordMs/);
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
