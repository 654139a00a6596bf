import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { account, startSinkHarness, statuses, type SinkHarness } from './sink-fixtures.ts';

describe('Salesforce sink: batching, coalescing, skipping unchanged writes', () => {
  let h: SinkHarness;
  const registry = new Registry();
  before(async () => { h = await startSinkHarness({ lingerMs: 50 }, { registry }); });
  after(async () => { await h.cleanup(); });
  const savedSkipped = async () => (await registry.getSingleMetric('shopforce_sf_sink_api_calls_saved_total')!.get()).values.find((v) => v.labels.reason === 'skipped')?.value ?? 0;

  it('writes 450 account upserts in 3 sObject Collections calls', async () => {
    h.t.sb.admin.resetCounters();
    const commands = Array.from({ length: 450 }, (_, i) => account(`C${i}`, { BillingCity: 'Lyon' }));
    const outcomes = await h.sink.write(commands);
    assert.deepEqual(statuses(outcomes), { applied: 450 });
    assert.equal(outcomes.filter((o) => o.status === 'applied' && o.created).length, 450);
    const counters = h.t.sb.admin.counters();
    assert.equal(counters.byApi.collections, 3);
    assert.equal(counters.recordsByObject.Account, 450);
    const res = await h.conn.query<{ Id: string }>("SELECT Id FROM Account WHERE BillingCity = 'Lyon'");
    assert.equal(res.totalSize, 450);
  });

  it('sends nothing when the same data comes again (skipped as unchanged)', async () => {
    const commands = () => Array.from({ length: 450 }, (_, i) => account(`S${i}`, { BillingCity: 'Lyon' }));
    assert.deepEqual(statuses(await h.sink.write(commands())), { applied: 450 });
    const skippedSoFar = await savedSkipped();
    h.t.sb.admin.resetCounters();
    const outcomes = await h.sink.write(commands());
    assert.deepEqual(statuses(outcomes), { skipped: 450 });
    assert.equal(h.t.sb.admin.counters().byApi.collections ?? 0, 0);
    assert.equal(await savedSkipped() - skippedSoFar, 450);
  });

  it('sends only the changed records of a batch', async () => {
    const commands = (changed: number) => Array.from({ length: 10 }, (_, i) => account(`N${i}`, { BillingCity: i < changed ? 'Nantes' : 'Lyon' }));
    assert.deepEqual(statuses(await h.sink.write(commands(0))), { applied: 10 });
    h.t.sb.admin.resetCounters();
    const outcomes = await h.sink.write(commands(3));
    assert.deepEqual(statuses(outcomes), { applied: 3, skipped: 7 });
    assert.deepEqual(outcomes.filter((o) => o.status === 'applied').map((o) => o.command.externalId), ['N0', 'N1', 'N2']);
    assert.equal(h.t.sb.admin.counters().recordsByObject.Account, 3);
  });

  it('coalesces 10 updates of one key in the linger window into one record write, fields merged', async () => {
    h.t.sb.admin.resetCounters();
    const writes = Array.from({ length: 10 }, (_, i) => h.sink.write([account('K1', i === 0 ? { Phone: '+33 1 00 00 00 00', BillingCity: 'v0' } : { BillingCity: `v${i}` })]));
    const outcomes = (await Promise.all(writes)).flat();
    assert.deepEqual(statuses(outcomes), { coalesced: 9, applied: 1 });
    const applied = outcomes.find((o) => o.status === 'applied')!;
    for (const o of outcomes) if (o.status === 'coalesced') assert.equal(o.supersededBy, applied.command.commandId);
    const counters = h.t.sb.admin.counters();
    assert.equal(counters.recordsByObject.Account, 1);
    assert.equal(counters.byApi.collections, 1);
    const rec = (await h.conn.query<{ BillingCity: string; Phone: string }>("SELECT BillingCity, Phone FROM Account WHERE Shop_Customer_Id__c = 'K1'")).records[0]!;
    assert.equal(rec.BillingCity, 'v9');
    assert.equal(rec.Phone, '+33 1 00 00 00 00');
  });

  it('drain() flushes now and returns once earlier writes have their outcomes (per-record handlers)', async () => {
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) void h.sink.write([account(`D${i}`)]).then(([o]) => { seen.push(o!.status); });
    await h.sink.drain();
    await Promise.resolve();
    assert.deepEqual(seen, ['applied', 'applied', 'applied', 'applied', 'applied']);
  });

  it('sends a write again after forget() (the record was changed in Salesforce)', async () => {
    assert.equal((await h.sink.write([account('FG1', { BillingCity: 'Nantes' })]))[0]!.status, 'applied');
    h.t.sb.admin.userEdit({ object: 'Account', externalId: { field: 'Shop_Customer_Id__c', value: 'FG1' }, fields: { BillingCity: 'Paris' } });
    h.sink.forget('Account', 'Shop_Customer_Id__c', 'FG1');
    const [o] = await h.sink.write([account('FG1', { BillingCity: 'Nantes' })]);
    assert.equal(o!.status, 'applied');
    const rec = (await h.conn.query<{ BillingCity: string }>("SELECT BillingCity FROM Account WHERE Shop_Customer_Id__c = 'FG1'")).records[0]!;
    assert.equal(rec.BillingCity, 'Nantes');
  });
});

describe('Salesforce sink: Bulk API 2.0 above the threshold', () => {
  let h: SinkHarness;
  before(async () => { h = await startSinkHarness({ bulkThreshold: 300, lingerMs: 50 }, { tuning: { bulkPollIntervalMs: 100 } }); });
  after(async () => { await h.cleanup(); });

  /** The org's Bulk API 2.0 ingest jobs (GET /jobs/ingest). */
  const ingestJobs = async () => (await h.conn.request<{ records: Array<{ id: string; object: string; operation: string; state: string; numberRecordsProcessed: number; numberRecordsFailed: number }> }>(
    `/services/data/v${h.conn.version}/jobs/ingest`)).records;

  it('sends 500 pending records of one object as one bulk job, not collections', async () => {
    const jobsBefore = new Set((await ingestJobs()).map((j) => j.id));
    h.t.sb.admin.resetCounters();
    const outcomes = await h.sink.write(Array.from({ length: 500 }, (_, i) => account(`B${i}`, { BillingCity: 'Bulkville', Lifetime_Value__c: null })));
    assert.deepEqual(statuses(outcomes), { applied: 500 });
    assert.ok(outcomes.every((o) => o.status === 'applied' && o.api === 'bulk'));
    const counters = h.t.sb.admin.counters();
    assert.equal(counters.byApi.collections ?? 0, 0);
    const jobs = (await ingestJobs()).filter((j) => !jobsBefore.has(j.id));
    assert.deepEqual(jobs.map((j) => [j.object, j.operation, j.state, j.numberRecordsProcessed, j.numberRecordsFailed]), [['Account', 'upsert', 'JobComplete', 500, 0]], 'one bulk job');
    assert.equal((await h.conn.query("SELECT Id FROM Account WHERE BillingCity = 'Bulkville'")).totalSize, 500);
  });

  it('reports per-row validation errors of a bulk job as permanent failures', async () => {
    const commands = Array.from({ length: 310 }, (_, i) => account(`BV${i}`, { BillingPostalCode: i === 7 ? 'x'.repeat(30) : '69000' }));
    const outcomes = await h.sink.write(commands);
    assert.deepEqual(statuses(outcomes), { applied: 309, failed: 1 });
    const failed = outcomes.find((o) => o.status === 'failed');
    assert.ok(failed && failed.status === 'failed');
    assert.equal(failed.command.externalId, 'BV7');
    assert.equal(failed.error.errorCode, 'STRING_TOO_LONG');
  });
});

describe('Salesforce sink: Collections calls in flight', () => {
  // a real org takes seconds for a call of 200 records: a flush of many records of one object sends up
  // to callsInFlight calls at once rather than one after the other
  for (const callsInFlight of [1, 3]) {
    it(`a flush of 1,000 records of one object keeps ${callsInFlight} call(s) in flight at most, and each record lands once`, async () => {
      const h = await startSinkHarness({ callsInFlight, lingerMs: 50 });
      try {
        h.t.sb.admin.setLatency({ baseMs: 400, perRecordMs: 0, jitterRatio: 0 });
        const outcomes = await h.sink.write(Array.from({ length: 1_000 }, (_, i) => account(`IF${callsInFlight}-${i}`, { BillingCity: 'Inflight' })));
        assert.deepEqual(statuses(outcomes), { applied: 1_000 });
        assert.equal(h.calls().collections, 5, 'five calls of 200');
        assert.equal(h.t.sb.admin.latency().peakCallsInFlight, callsInFlight);
        assert.equal((await h.conn.query(`SELECT Id FROM Account WHERE Shop_Customer_Id__c LIKE 'IF${callsInFlight}-%'`)).totalSize, 1_000);
      } finally {
        await h.cleanup();
      }
    });
  }
});
