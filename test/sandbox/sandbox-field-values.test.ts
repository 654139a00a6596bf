import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'jsforce';
import { collect, jwtConnection, rejectionOf, startTestSandbox, waitFor, withCometdEvents, withPubSubEvents, type TestSandbox } from './sandbox-helpers.ts';

/**
 * What a user's code reads back after writing values through the real clients: dateTimes to the
 * second in UTC, dates without a time, numbers as sent within precision − scale integer digits,
 * strings within their length. Read back by REST, SOQL, Bulk query CSV and change events (CometD
 * JSON through jsforce, Pub/Sub Avro through salesforce-pubsub-api-client).
 */

type Rec = Record<string, unknown>;

const opportunity = (extra: Rec): Rec => ({ Name: 'Values', StageName: 'Prospecting', CloseDate: '2026-03-04', ...extra });

describe('field values are stored as Salesforce stores them (jsforce, Pub/Sub client)', () => {
  let t: TestSandbox;
  let conn: Connection;
  before(async () => {
    t = await startTestSandbox();
    conn = await jwtConnection(t.sb);
  });
  after(async () => { await t.cleanup(); });

  it('keeps a dateTime to the second in UTC: REST, SOQL, Bulk query CSV, CometD and Pub/Sub events', async () => {
    const created = await conn.sobject('Opportunity').create(opportunity({ Shop_Order_Id__c: 'dt-1', Ordered_At__c: '2026-03-04T12:11:12.345+02:00', Amount: 1234.567 }));
    assert.ok(created.success);
    const stored = '2026-03-04T10:11:12.000+0000';

    const rest = await conn.sobject('Opportunity').retrieve(created.id!) as Rec;
    assert.equal(rest.Ordered_At__c, stored, 'milliseconds dropped, +02:00 converted to UTC');
    assert.match(String(rest.CreatedDate), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000\+0000$/, 'system dateTimes have no milliseconds either');
    assert.match(String(rest.LastModifiedDate), /\.000\+0000$/);
    assert.equal(rest.CloseDate, '2026-03-04');
    assert.equal(rest.Amount, 1234.567, 'API writes keep the decimals beyond the scale');

    const soql = await conn.query<Rec>("SELECT Ordered_At__c, CloseDate, Amount FROM Opportunity WHERE Shop_Order_Id__c = 'dt-1'");
    assert.deepEqual([soql.records[0]!.Ordered_At__c, soql.records[0]!.CloseDate, soql.records[0]!.Amount], [stored, '2026-03-04', 1234.567]);

    const csv = await collect(await conn.bulk2.query("SELECT Ordered_At__c, CloseDate, Amount FROM Opportunity WHERE Shop_Order_Id__c = 'dt-1'"));
    assert.deepEqual(csv, [{ Ordered_At__c: stored, CloseDate: '2026-03-04', Amount: '1234.567' }]);

    // .999 is dropped, not rounded up to the next second
    await conn.sobject('Opportunity').update({ Id: created.id!, Ordered_At__c: '2026-03-04T10:11:59.999Z' });
    assert.equal((await conn.sobject('Opportunity').retrieve(created.id!) as Rec).Ordered_At__c, '2026-03-04T10:11:59.000+0000');

    const channel = '/data/OpportunityChangeEvent';
    const cometd = await withCometdEvents(conn, channel, async (events) => {
      await waitFor(() => events.length >= 2, 'the create and update events (CometD)');
      return events;
    });
    assert.equal(cometd[0].payload.Ordered_At__c, '2026-03-04T10:11:12.000Z');
    assert.equal(cometd[0].payload.CloseDate, '2026-03-04');
    assert.equal(cometd[0].payload.Amount, 1234.567);
    assert.match(cometd[0].payload.CreatedDate, /\.000Z$/);
    assert.equal(cometd[1].payload.Ordered_At__c, '2026-03-04T10:11:59.000Z');

    const events = await withPubSubEvents(t.sb, channel, async (received) => {
      await waitFor(() => received.length >= 2, 'the create and update events (Pub/Sub)');
      return received;
    });
    assert.equal(events[0].payload.Ordered_At__c, Date.UTC(2026, 2, 4, 10, 11, 12), 'epoch ms of the stored second');
    assert.equal(events[0].payload.CreatedDate % 1000, 0);
    assert.equal(events[0].payload.CloseDate, Date.UTC(2026, 2, 4) / 86_400_000, 'days since epoch');
    assert.equal(events[0].payload.Amount, 1234.567);
    assert.equal(events[1].payload.Ordered_At__c, Date.UTC(2026, 2, 4, 10, 11, 59));
  });

  it('refuses a date with a time part or an offset, and a day that does not exist', async () => {
    for (const value of ['2026-03-04T23:00:00Z', '2026-03-04T00:00:00.000+0000', '2026-03-04Z', '2026-02-30']) {
      const err = await rejectionOf(conn.sobject('Opportunity').create(opportunity({ CloseDate: value })));
      assert.equal(err.errorCode, 'JSON_PARSER_ERROR', value);
      assert.match(err.message, /Cannot deserialize instance of date/);
    }
    const bulk = await conn.bulk2.loadAndWaitForResults({
      object: 'Opportunity', operation: 'insert',
      input: [opportunity({ Shop_Order_Id__c: 'd-ok' }), opportunity({ Shop_Order_Id__c: 'd-bad', CloseDate: '2026-03-04T23:00:00Z' })] as Array<Record<string, string>>,
    });
    assert.deepEqual((bulk.successfulResults as Rec[]).map((r) => r.Shop_Order_Id__c), ['d-ok']);
    assert.match(String((bulk.failedResults as Rec[])[0]!.sf__Error), /^INVALID_TYPE_ON_FIELD_IN_RECORD:.*2026-03-04T23:00:00Z/);
  });

  it('refuses a number whose integer part is longer than precision − scale (NUMBER_OUTSIDE_VALID_RANGE)', async () => {
    const describe = await conn.sobject('Opportunity').describe();
    const amount = describe.fields.find((f) => f.name === 'Amount')!;
    assert.deepEqual([amount.precision, amount.scale], [18, 2]);
    const fits = await conn.sobject('Opportunity').create(opportunity({ Amount: 1_234_567_890_123_456 }));
    assert.ok(fits.success, '16 integer digits fit in (18, 2)');
    for (const Amount of [1e16, -1e16, 1e21]) {
      const err = await rejectionOf(conn.sobject('Opportunity').create(opportunity({ Amount })));
      assert.equal(err.errorCode, 'NUMBER_OUTSIDE_VALID_RANGE', String(Amount));
    }
    // an integer-like custom number (18, 0): 18 integer digits at most, decimals kept as sent
    const level = await conn.sobject('Stock_Level__c').create({ Name: 'SKU-1 @ main', Warehouse__c: 'main', Quantity__c: 3.5 });
    assert.equal((await conn.sobject('Stock_Level__c').retrieve(level.id!) as Rec).Quantity__c, 3.5);
    const tooBig = await rejectionOf(conn.sobject('Stock_Level__c').create({ Name: 'too many', Warehouse__c: 'main', Quantity__c: 1e18 }));
    assert.equal(tooBig.errorCode, 'NUMBER_OUTSIDE_VALID_RANGE');
  });

  it('keeps the length limit of text areas and email fields (STRING_TOO_LONG)', async () => {
    const street = await rejectionOf(conn.sobject('Account').create({ Name: 'Long street', BillingStreet: 'x'.repeat(256) }));
    assert.equal(street.errorCode, 'STRING_TOO_LONG');
    assert.ok((await conn.sobject('Account').create({ Name: 'Street ok', BillingStreet: 'x'.repeat(255) })).success);
    const email = `${'a'.repeat(70)}@example.com`; // 82 characters, a well-formed address
    const long = await rejectionOf(conn.sobject('Contact').create({ LastName: 'Long mail', Email: email }));
    assert.equal(long.errorCode, 'STRING_TOO_LONG');
    assert.ok((await conn.sobject('Contact').create({ LastName: 'Mail ok', Email: email.slice(2) })).success);
  });
});
