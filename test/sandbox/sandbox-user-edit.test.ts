import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'jsforce';
import { adminCall, jwtConnection, startTestSandbox, waitFor, withCometdEvents, type TestSandbox } from './sandbox-helpers.ts';

/** A person's "adjust by" in the UI (an ERP's stock adjustment): POST /user-edit with increment. */

type Rec = Record<string, unknown>;
const KEY = { field: 'Stock_Key__c', value: 'SKU-1|main' };

describe('user edits: an atomic increment of number fields', () => {
  let t: TestSandbox;
  let conn: Connection;
  let levelId: string;
  before(async () => {
    t = await startTestSandbox();
    conn = await jwtConnection(t.sb);
    const level = await conn.sobject('Stock_Level__c').create({ Name: 'SKU-1 @ main', Warehouse__c: 'main', Stock_Key__c: KEY.value, Quantity__c: 100, Reserved__c: 0 });
    levelId = level.id!;
  });
  after(async () => { await t.cleanup(); });

  it('adds each increment to the value current at that moment, whatever API writes run at the same time', async () => {
    const adjustments = Array.from({ length: 20 }, () => adminCall(t.sb, 'POST', '/user-edit', { object: 'Stock_Level__c', externalId: KEY, increment: { Quantity__c: -3 } }));
    const apiWrites = Array.from({ length: 20 }, (_, i) => conn.sobject('Stock_Level__c').update({ Id: levelId, Reserved__c: i }));
    const [adjusted] = await Promise.all([Promise.all(adjustments), Promise.all(apiWrites)]);
    assert.ok(adjusted.every((r) => r.status === 200), JSON.stringify(adjusted.find((r) => r.status !== 200)?.body));
    const seen = adjusted.map((r) => r.body.values.Quantity__c as number).sort((a, b) => b - a);
    assert.deepEqual(seen, Array.from({ length: 20 }, (_, i) => 97 - 3 * i), 'each adjustment saw the one before it');
    const rec = await conn.sobject('Stock_Level__c').retrieve(levelId) as Rec;
    assert.equal(rec.Quantity__c, 40);
  });

  it('tells CDC subscribers as a user edit (changeOrigin empty), with the new value', async () => {
    const res = await adminCall(t.sb, 'POST', '/user-edit', { object: 'Stock_Level__c', id: levelId, increment: { Quantity__c: 5 }, fields: { Reserved__c: 2 } });
    assert.deepEqual(res.body, { id: levelId, created: false, values: { Quantity__c: 45 } });
    const event = await withCometdEvents(conn, '/data/Stock_Level__ChangeEvent', async (events) => {
      await waitFor(() => events.some((e) => e.payload.Quantity__c === 45), 'the change event of the increment');
      return events.find((e) => e.payload.Quantity__c === 45);
    });
    assert.equal(event.payload.ChangeEventHeader.changeType, 'UPDATE');
    assert.equal(event.payload.ChangeEventHeader.changeOrigin, '');
    assert.deepEqual([...event.payload.ChangeEventHeader.changedFields].sort(), ['LastModifiedDate', 'Quantity__c', 'Reserved__c']);
    assert.equal(event.payload.Reserved__c, 2);
  });

  it('adds decimals exactly, counts null as 0, and works in process too', async () => {
    const opp = await conn.sobject('Opportunity').create({ Name: 'Adjusted', StageName: 'Prospecting', CloseDate: '2026-03-04', Amount: 10.1 });
    const res = t.sb.admin.userEdit({ object: 'Opportunity', id: opp.id!, increment: { Amount: 0.2, Probability: 10 } });
    assert.deepEqual(res.values, { Amount: 10.3, Probability: 10 });
    assert.equal((await conn.sobject('Opportunity').retrieve(opp.id!) as Rec).Amount, 10.3);
  });

  it('refuses what cannot be incremented, and changes nothing then', async () => {
    const refusals: Array<[Rec, number, string]> = [
      [{ object: 'Stock_Level__c', id: levelId, increment: { Name: 1 } }, 400, 'INVALID_FIELD'],
      [{ object: 'Stock_Level__c', id: levelId, increment: { Nope__c: 1 } }, 400, 'INVALID_FIELD'],
      [{ object: 'Stock_Level__c', id: levelId, increment: { Quantity__c: 1 }, fields: { Quantity__c: 3 } }, 400, 'INVALID_FIELD'],
      [{ object: 'Stock_Level__c', id: levelId, increment: { Quantity__c: 1e18 } }, 400, 'NUMBER_OUTSIDE_VALID_RANGE'],
      [{ object: 'Stock_Level__c', externalId: { field: 'Stock_Key__c', value: 'no-such-key' }, increment: { Quantity__c: 1 } }, 404, 'NOT_FOUND'],
    ];
    for (const [edit, status, errorCode] of refusals) {
      const res = await adminCall(t.sb, 'POST', '/user-edit', edit);
      assert.deepEqual([res.status, res.body.errorCode], [status, errorCode], JSON.stringify(edit));
    }
    const both = await adminCall(t.sb, 'POST', '/user-edit', { object: 'Stock_Level__c', id: levelId, increment: { Quantity__c: 1 }, delete: true });
    assert.equal(both.status, 400);
    assert.match(both.body.error, /delete and increment/);
    assert.equal((await conn.sobject('Stock_Level__c').retrieve(levelId) as Rec).Quantity__c, 45);
  });
});
