import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { adminCall } from '../sandbox/sandbox-helpers.ts';
import { account, priceEntry, product, startSinkHarness, statuses, type SinkHarness } from './sink-fixtures.ts';

/** The sink gives a call 1.5 s; the emulator holds the answer of the next matching call 5 s after handling it. */
const TIMEOUT_MS = 1_500;
const HELD_MS = 5_000;

describe('Salesforce sink: calls that time out', () => {
  let h: SinkHarness;
  beforeEach(async () => {
    h = await startSinkHarness({ lingerMs: 20 }, { tuning: { requestTimeoutMs: TIMEOUT_MS } });
  });
  afterEach(async () => { await h.cleanup(); });

  async function holdNext(hold: Record<string, unknown>): Promise<void> {
    const set = await adminCall(h.t.sb, 'PUT', '/faults', { holdNext: { count: 1, ms: HELD_MS, ...hold } });
    assert.equal(set.status, 200, `the emulator takes the holdNext fault: ${JSON.stringify(set.body)}`);
  }

  it('a price book entry create retried after a timeout, when the first try landed, makes no second entry: the retry updates it', async () => {
    assert.deepEqual(statuses(await h.sink.write([product('PB-1')])), { applied: 1 });
    // the create lands, its answer comes after the sink gave up: the sink sends the create again
    await holdNext({ api: 'collections', method: 'POST' });
    const [o] = await h.sink.write([priceEntry('PB-1', '12.50')]);
    assert.equal(o!.status, 'applied', JSON.stringify(o));
    const entries = await h.conn.query<{ Id: string; UnitPrice: number }>("SELECT Id, UnitPrice FROM PricebookEntry WHERE Product2.Sku__c = 'PB-1'");
    assert.equal(entries.totalSize, 1, 'one price book entry for the product, not two');
    assert.equal(entries.records[0]!.UnitPrice, 12.5);
  });

  it('a call that times out is aborted before it is sent again: the emulator sees the first request closed, the record written once', async () => {
    await holdNext({ api: 'collections' });
    const [o] = await h.sink.write([account('T-1')]);
    assert.equal(o!.status, 'applied', JSON.stringify(o));
    await new Promise((r) => setTimeout(r, HELD_MS + 500)); // the held answer is due by now
    const counters = h.t.sb.admin.counters();
    assert.equal(counters.abandoned, 1, 'the timed-out request was closed by the sink, not left running');
    assert.equal((await h.conn.query("SELECT Id FROM Account WHERE Shop_Customer_Id__c = 'T-1'")).totalSize, 1);
  });
});

describe('Salesforce sink: Bulk API jobs that outlive their wait', () => {
  const POLL_TIMEOUT_MS = 1_500;
  const JOB_HELD_MS = 6_000;
  let h: SinkHarness;
  beforeEach(async () => {
    h = await startSinkHarness({ lingerMs: 20, bulkThreshold: 5 }, { tuning: { bulkPollTimeoutMs: POLL_TIMEOUT_MS, bulkPollIntervalMs: 100 } });
  });
  afterEach(async () => { await h.cleanup(); });

  it('a job not done within the poll timeout is aborted before its rows go again: the held job never runs, every record is written once', async () => {
    const set = await adminCall(h.t.sb, 'PUT', '/faults', { holdJobs: { count: 1, ms: JOB_HELD_MS } });
    assert.equal(set.status, 200, `the emulator takes the holdJobs fault: ${JSON.stringify(set.body)}`);
    const accounts = Array.from({ length: 10 }, (_, i) => account(`BULK-HOLD-${i}`));
    const outcomes = await h.sink.write(accounts);
    assert.deepEqual(statuses(outcomes), { applied: 10 });
    assert.ok(outcomes.every((o) => o.status === 'applied' && o.api === 'bulk'), 'written by the retry\'s Bulk job');
    await new Promise((r) => setTimeout(r, JOB_HELD_MS + 1_000)); // the held job's wait is over by now: it would have run
    const jobs = (await h.conn.request<{ records: Array<{ id: string; state: string; numberRecordsProcessed: number }> }>(`/services/data/v${h.conn.version}/jobs/ingest`)).records;
    assert.deepEqual(jobs.map((j) => j.state).sort(), ['Aborted', 'JobComplete'], 'the held job was aborted, its retry completed');
    assert.equal(jobs.find((j) => j.state === 'Aborted')!.numberRecordsProcessed, 0, 'the aborted job processed nothing');
    assert.equal(h.t.sb.admin.counters().writesByApi.bulk?.Account?.written, 10, 'every record written once');
  });
});
