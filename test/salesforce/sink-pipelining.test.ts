import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WriteOutcome } from '../../src/salesforce/sink/index.ts';
import { CallSlots } from '../../src/salesforce/sink/slots.ts';
import { account, opportunity, startSinkHarness, statuses, type SinkHarness } from './sink-fixtures.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Salesforce sink: flushes side by side (pipelining)', () => {
  let h: SinkHarness;
  before(async () => { h = await startSinkHarness({ lingerMs: 20 }); });
  after(async () => { await h.cleanup(); });

  /** Writes with a slow org (1.5 s a call), waits until the org serves that call, then makes the org fast again. */
  const slowWrite = async (label: string, commands: Parameters<SinkHarness['sink']['write']>[0], order: string[]) => {
    h.t.sb.admin.setLatency({ baseMs: 1_500, perRecordMs: 0, jitterRatio: 0 });
    const done = h.sink.write(commands).then((o) => { order.push(label); return o; });
    while (h.t.sb.admin.latency().peakCallsInFlight < 1) await sleep(10);
    h.t.sb.admin.setLatency('none');
    return { done };
  };
  const fastWrite = (label: string, commands: Parameters<SinkHarness['sink']['write']>[0], order: string[]) =>
    h.sink.write(commands).then((o) => { order.push(label); return o; });

  it('a record written while a slow call is in flight goes out beside it, not after it', async () => {
    const order: string[] = [];
    const slow = await slowWrite('slow', [account('PL-A')], order);
    const fast = fastWrite('fast', [account('PL-B')], order);
    const outcomes: WriteOutcome[] = [...(await slow.done), ...(await fast)];
    assert.deepEqual(order, ['fast', 'slow']);
    assert.deepEqual(statuses(outcomes), { applied: 2 });
  });

  it('a record whose earlier write is in flight waits for it: the later value lands last', async () => {
    const order: string[] = [];
    h.t.sb.admin.resetCounters();
    const first = await slowWrite('first', [account('PL-K', { BillingCity: 'First' })], order);
    const second = fastWrite('second', [account('PL-K', { BillingCity: 'Second' })], order);
    const outcomes = [...(await first.done), ...(await second)];
    assert.deepEqual(order, ['first', 'second']);
    assert.deepEqual(statuses(outcomes), { applied: 2 });
    assert.equal(h.calls().collections, 2);
    const found = await h.conn.query<{ BillingCity: string }>("SELECT BillingCity FROM Account WHERE Shop_Customer_Id__c = 'PL-K'");
    assert.deepEqual(found.records.map((r) => r.BillingCity), ['Second']);
  });

  it('a child whose parent is being written waits for that flush instead of being parked', async () => {
    const order: string[] = [];
    const parent = await slowWrite('parent', [account('PL-P')], order);
    const child = fastWrite('child', [opportunity('PL-O1', 'PL-P')], order);
    const outcomes = [...(await parent.done), ...(await child)];
    assert.deepEqual(order, ['parent', 'child']);
    assert.deepEqual(outcomes.map((o) => o.status), ['applied', 'applied']);
    assert.deepEqual(h.sink.parked(), []);
  });
});

describe('Salesforce sink: Bulk API 2.0 jobs side by side', () => {
  it('splits 450 records (threshold 100, 2 jobs at once) into 2 jobs of 225, each record written once', async () => {
    const h = await startSinkHarness({ lingerMs: 20, bulkThreshold: 100, bulkJobsInFlight: 2 });
    try {
      const outcomes = await h.sink.write(Array.from({ length: 450 }, (_, i) => account(`BJ-${i}`, { BillingCity: 'Jobville' })));
      assert.deepEqual(statuses(outcomes), { applied: 450 });
      assert.ok(outcomes.every((o) => o.status === 'applied' && o.api === 'bulk'));
      const jobs = (await h.conn.request<{ records: Array<{ state: string; numberRecordsProcessed: number }> }>(`/services/data/v${h.conn.version}/jobs/ingest`)).records;
      assert.deepEqual(jobs.map((j) => [j.state, j.numberRecordsProcessed]), [['JobComplete', 225], ['JobComplete', 225]]);
      assert.equal(h.t.sb.admin.counters().recordsByObject.Account, 450);
      assert.equal((await h.conn.query("SELECT Id FROM Account WHERE BillingCity = 'Jobville'")).totalSize, 450);
    } finally {
      await h.cleanup();
    }
  });
});

describe('Salesforce sink: call slots', () => {
  const peak = async (slots: CallSlots) => {
    let running = 0;
    let most = 0;
    await Promise.all(Array.from({ length: 6 }, () => slots.run(async () => {
      most = Math.max(most, ++running);
      await sleep(20);
      running--;
    })));
    return most;
  };

  it('runs at most `limit` calls at once', async () => {
    assert.equal(await peak(new CallSlots({ limit: 3, maxLongRequests: 25, slowCallMs: 60_000 })), 3);
    assert.equal(await peak(new CallSlots({ limit: 1, maxLongRequests: 25, slowCallMs: 60_000 })), 1);
  });

  it('starts no call beyond maxLongRequests while a running one has taken slowCallMs (it may become a long request)', async () => {
    assert.equal(await peak(new CallSlots({ limit: 3, maxLongRequests: 1, slowCallMs: 0 })), 1);
    assert.equal(await peak(new CallSlots({ limit: 3, maxLongRequests: 1, slowCallMs: 60_000 })), 3);
  });
});
