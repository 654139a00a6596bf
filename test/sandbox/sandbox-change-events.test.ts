import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'jsforce';
import { adminCall, jwtConnection, startTestSandbox, waitFor, withCometdEvents, withPubSubEvents, type TestSandbox } from './sandbox-helpers.ts';

/** The Name of every change event of a channel (Pub/Sub, from the earliest kept), once `last` is among them. */
async function pubSubNames(t: TestSandbox, channel: string, last: string): Promise<unknown[]> {
  return withPubSubEvents(t.sb, channel, async (events) => {
    await waitFor(() => events.some((e) => e.payload.Name === last), `the event of ${last} (Pub/Sub)`);
    return events.map((e) => e.payload.Name);
  });
}

describe('every commit becomes a change event (store → CDC hub → jsforce streaming)', () => {
  let t: TestSandbox;
  let conn: Connection;
  before(async () => {
    t = await startTestSandbox();
    conn = await jwtConnection(t.sb, { callOptions: { client: 'shopforce-sink' } });
  });
  after(async () => { await t.cleanup(); });

  it('delivers REST, collections and user-edit commits with their change origin, one transaction per call', async () => {
    const a = await conn.sobject('Account').create({ Name: 'Streamed', Shop_Customer_Id__c: 'st-1' });
    await conn.sobject('Account').upsert([{ Shop_Customer_Id__c: 'st-1', Name: 'Streamed 2' }, { Shop_Customer_Id__c: 'st-2', Name: 'Other' }], 'Shop_Customer_Id__c');
    await adminCall(t.sb, 'POST', '/user-edit', { object: 'Account', id: a.id, fields: { Name: 'Edited in the UI', Type: null } });

    await withCometdEvents(conn, '/data/AccountChangeEvent', async (events) => {
      await waitFor(() => events.length >= 4, 'four Account change events');
      const headers = events.map((e) => e.payload.ChangeEventHeader);
      assert.deepEqual(headers.map((h) => h.changeType), ['CREATE', 'UPDATE', 'CREATE', 'UPDATE']);
      assert.equal(headers[0].changeOrigin, 'com/salesforce/api/rest/60.0;client=shopforce-sink');
      assert.equal(headers[1].transactionKey, headers[2].transactionKey, 'one collections call = one transaction');
      assert.notEqual(headers[0].transactionKey, headers[1].transactionKey);
      assert.deepEqual([headers[1].sequenceNumber, headers[2].sequenceNumber], [1, 2]);
      assert.deepEqual(headers[1].recordIds, [a.id]);
      assert.ok(headers[1].changedFields.includes('Name'));
      assert.ok(headers[1].changedFields.includes('LastModifiedDate'));
      assert.equal(headers[3].changeOrigin, '');
      assert.equal(events[3].payload.Name, 'Edited in the UI');

      await adminCall(t.sb, 'POST', '/faults/gap', { entityName: 'Account', recordIds: [a.id], changeType: 'GAP_UPDATE' });
      await adminCall(t.sb, 'POST', '/faults/overflow', { entityName: 'Account' });
      await waitFor(() => events.length >= 6, 'the gap and overflow events');
      assert.deepEqual(events.slice(4).map((e) => e.payload.ChangeEventHeader.changeType), ['GAP_UPDATE', 'GAP_OVERFLOW']);
      assert.deepEqual(events[4].payload.ChangeEventHeader.recordIds, [a.id]);
    });
  });

  it('publishes no change event for an object taken out of the Change Data Capture selection, on CometD and Pub/Sub alike', async () => {
    const off = await adminCall(t.sb, 'POST', '/org/cdc', { object: 'Opportunity', enabled: false });
    assert.deepEqual(off.body, { object: 'Opportunity', enabled: false });
    const opportunity = (name: string) => ({ Name: name, StageName: 'Prospecting', CloseDate: '2026-01-01' });
    const unselected = await conn.sobject('Opportunity').create(opportunity('While unselected'));
    await conn.sobject('Opportunity').update({ Id: unselected.id!, Amount: 5 });
    await conn.sobject('Account').create({ Name: 'Account while Opportunity is unselected' });
    assert.equal((await conn.sobject('Opportunity').retrieve(unselected.id!)).Amount, 5, 'the record changed all the same');
    await adminCall(t.sb, 'POST', '/org/cdc', { object: 'Opportunity', enabled: true });
    await conn.sobject('Opportunity').create(opportunity('Selected again'));

    const channel = '/data/OpportunityChangeEvent';
    await withCometdEvents(conn, channel, async (events) => {
      await waitFor(() => events.some((e) => e.payload.Name === 'Selected again'), 'the event of the selected object (CometD)');
      assert.deepEqual(events.map((e) => e.payload.Name), ['Selected again'], 'nothing of the writes made while it was unselected');
    });
    assert.deepEqual(await pubSubNames(t, channel, 'Selected again'), ['Selected again']);
    // other objects publish as before
    assert.ok((await pubSubNames(t, '/data/AccountChangeEvent', 'Account while Opportunity is unselected')).length > 0);
  });
});
