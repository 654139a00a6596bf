import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { adminCall } from '../sandbox/sandbox-helpers.ts';
import { account, eventually, opportunity, startSinkHarness, statuses, type SinkHarness } from './sink-fixtures.ts';

describe('Salesforce sink: errors, retries, quota', () => {
  let h: SinkHarness;
  beforeEach(async () => {
    h = await startSinkHarness({ lingerMs: 20 }, { tuning: { throttleMaxDelayMs: 3000, quotaProbeIntervalMs: 1000 } });
  });
  afterEach(async () => { await h.cleanup(); });

  it('reports a validation error as permanent with Salesforce\'s code, without retrying', async () => {
    const outcomes = await h.sink.write([account('V1', { BillingPostalCode: 'x'.repeat(40) }), account('V2')]);
    const [bad, good] = outcomes;
    assert.ok(bad!.status === 'failed');
    assert.equal(bad.error.errorCode, 'STRING_TOO_LONG');
    assert.deepEqual(bad.error.fields, ['BillingPostalCode']);
    assert.match(bad.reason, /^STRING_TOO_LONG: /);
    assert.equal(good!.status, 'applied');
    assert.equal(h.calls().collections, 1);
  });

  it('reports a missing required field as permanent (REQUIRED_FIELD_MISSING)', async () => {
    const [o] = await h.sink.write([account('V3', { Name: null })]);
    assert.ok(o!.status === 'failed');
    assert.equal(o.error.errorCode, 'REQUIRED_FIELD_MISSING');
    assert.equal(h.calls().collections, 1);
  });

  it('retries 503 answers with backoff until the write lands', async () => {
    await h.cleanup();
    const registry = new Registry();
    h = await startSinkHarness({ lingerMs: 20 }, { registry });
    // deterministic: the next two sObject Collections calls are answered 503 SERVER_UNAVAILABLE
    // (the emulator's failNext fault, admin PUT /faults, from branch h-emulator)
    const set = await adminCall(h.t.sb, 'PUT', '/faults', { failNext: { count: 2, status: 503, api: 'collections' } });
    assert.equal(set.status, 200, `the emulator takes the failNext fault: ${JSON.stringify(set.body)}`);
    const outcomes = await h.sink.write(Array.from({ length: 30 }, (_, i) => account(`F${i}`)));
    assert.deepEqual(statuses(outcomes), { applied: 30 });
    assert.equal(h.calls().collections, 3, 'one call refused twice, then accepted: two retries, no more');
    const retries = (await registry.getSingleMetric('shopforce_sf_sink_retries_total')!.get()).values;
    assert.equal(retries.find((v) => v.labels.error_code === 'SERVER_UNAVAILABLE')?.value, 2, 'the sink counted both retries');
    assert.equal(h.t.sb.admin.counters().recordsByObject.Account, 30, 'each record written once');
    assert.equal((await h.conn.query("SELECT Id FROM Account WHERE Shop_Customer_Id__c LIKE 'F%'")).totalSize, 30);
  });

  it('re-sends records refused with UNABLE_TO_LOCK_ROW until they land', async () => {
    // deterministic: every record of the next collections call is refused with UNABLE_TO_LOCK_ROW
    const set = await adminCall(h.t.sb, 'PUT', '/faults', { failNext: { count: 1, errorCode: 'UNABLE_TO_LOCK_ROW', api: 'collections' } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const outcomes = await h.sink.write(Array.from({ length: 100 }, (_, i) => account(`L${i}`)));
    assert.deepEqual(statuses(outcomes), { applied: 100 });
    assert.equal(h.calls().collections, 2, 'refused once, then all 100 went again in one call');
    assert.equal(h.t.sb.admin.counters().recordsByObject.Account, 100, 'each record written once');
    assert.equal((await h.conn.query("SELECT Id FROM Account WHERE Shop_Customer_Id__c LIKE 'L%'")).totalSize, 100);
  });

  it('reports retryable after maxRetries when the server stays unavailable', async () => {
    await h.cleanup();
    h = await startSinkHarness({ lingerMs: 20, maxRetries: 2 });
    h.t.sb.admin.setFaults({ http503Ratio: 1 });
    const [o] = await h.sink.write([account('D1')]);
    h.t.sb.admin.clearFaults();
    assert.ok(o!.status === 'retryable');
    assert.equal(o.error.errorCode, 'SERVER_UNAVAILABLE');
    assert.equal(h.calls().collections, 3);
  });

  it('slows down under the quota reserve: quotaState shows throttling and the next flush is held', async () => {
    h.t.sb.admin.setQuota({ max: 1000, used: 950 });
    const [first] = await h.sink.write([account('Q1')]);
    assert.equal(first!.status, 'applied');
    const state = h.sink.quotaState();
    assert.equal(state.mode, 'throttled');
    assert.ok(state.remainingPercent! < 10);
    assert.ok(state.delayMs > 0);
    const callsBefore = h.calls().collections;
    const second = h.sink.write([account('Q2')]);
    await eventually(() => h.sink.quotaState().heldUntil !== undefined, 5000, 'the flush to be held');
    assert.equal(h.calls().collections, callsBefore, 'no call while the flush is held');
    const [o] = await second;
    assert.equal(o!.status, 'applied');
    assert.equal(h.calls().collections, callsBefore! + 1);
  });

  it('stops calling on REQUEST_LIMIT_EXCEEDED and writes after the probe once the quota is back', async () => {
    h.t.sb.admin.setQuota({ exhausted: true });
    const pending = h.sink.write([account('X1')]);
    await eventually(() => h.sink.quotaState().mode === 'exhausted', 5000, 'the exhausted state');
    assert.ok(h.sink.quotaState().nextProbeAt! > Date.now() - 1000);
    h.t.sb.admin.setQuota({ max: 100_000, used: 0 });
    const [o] = await pending;
    assert.equal(o!.status, 'applied');
    assert.equal(h.sink.quotaState().mode, 'normal');
    assert.equal((await h.conn.query("SELECT Id FROM Account WHERE Shop_Customer_Id__c = 'X1'")).totalSize, 1);
  });

  it('on close, flushes what is pending and reports children still parked as retryable', async () => {
    const [parked] = await h.sink.write([opportunity('Z1', 'NOBODY')]);
    assert.equal(parked!.status, 'parked');
    const pending = h.sink.write([account('Z2')]);
    await h.sink.close();
    assert.equal((await pending)[0]!.status, 'applied');
    const late = h.late.find((o) => o.command.externalId === 'Z1');
    assert.ok(late && late.status === 'retryable');
    assert.equal(late.error.errorCode, 'SINK_CLOSED');
    const [after] = await h.sink.write([account('Z3')]);
    assert.equal(after!.status, 'retryable');
  });
});
