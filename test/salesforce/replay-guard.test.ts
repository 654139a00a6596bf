import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReplayGuard, staleReplays } from '../../src/salesforce/sink/replay-guard.ts';
import { useTestSandbox } from '../sandbox/sandbox-helpers.ts';
import { account } from './sink-fixtures.ts';

// A dead-lettered write replayed after its record changed in Salesforce must not put its old value
// back: the guard tells it by the record's LastModifiedDate against the write's event time.
describe('the replay guard of the Salesforce sink', () => {
  const sandbox = useTestSandbox();

  test('a replayed write older than the record\'s last change is stale; one newer, or of a new record, is not', async () => {
    const old = account(`RG-${Date.now()}`, { Phone: '111' });
    old.eventTime = Date.now() - 60_000;
    await sandbox.conn.sobject('Account').create({ Name: 'A person typed this', Shop_Customer_Id__c: old.externalId, Phone: '222' });
    const fresh = account(old.externalId, { Phone: '333' });
    fresh.eventTime = Date.now() + 60_000;
    const unknown = account(`RG-new-${Date.now()}`);
    unknown.eventTime = 0;
    const stale = await staleReplays(sandbox.conn, [old, fresh, unknown]);
    assert.deepEqual([...stale], [old.commandId], 'only the write older than the record\'s change is dropped');
  });

  test('within the org\'s second, a replay older than a write this sink landed is stale; one newer than the record\'s last change is written', async () => {
    const created = await sandbox.conn.sobject('Account').create({ Name: 'Changed within the second', Shop_Customer_Id__c: `RG-sec-${Date.now()}`, Phone: '444' });
    const [row] = (await sandbox.conn.query<{ Shop_Customer_Id__c: string; LastModifiedDate: string }>(`SELECT Shop_Customer_Id__c, LastModifiedDate FROM Account WHERE Id = '${(created as { id: string }).id}'`)).records;
    const second = Date.parse(row!.LastModifiedDate);
    assert.equal(second % 1000, 0, 'the org keeps whole seconds');
    const guard = new ReplayGuard();
    // our write of a change 900 ms into that second landed; a dead letter of a change at 500 ms is replayed
    const ours = account(row!.Shop_Customer_Id__c, { Phone: '555' });
    ours.eventTime = second + 900;
    guard.landed(ours);
    const older = account(row!.Shop_Customer_Id__c, { Phone: '666' });
    older.eventTime = second + 500;
    guard.noteRead(older, true);
    // the same replay for a guard that wrote nothing of the record: the org's date says nothing newer
    const fresh = new ReplayGuard();
    const unsure = account(row!.Shop_Customer_Id__c, { Phone: '777' });
    unsure.eventTime = second + 500;
    fresh.noteRead(unsure, true);
    const conn = async () => sandbox.conn;
    assert.deepEqual([...(await guard.split(conn, [older])).stale], [older.commandId], 'older than our landed write: dropped');
    assert.deepEqual((await fresh.split(conn, [unsure])).live.map((c) => c.commandId), [unsure.commandId], 'nothing known newer: written');
  });
});
