import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { staleReplays } from '../../src/salesforce/sink/replay-guard.ts';
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

  test('a record changed in the same second as the replayed write\'s change counts as changed since: Salesforce keeps whole seconds', async () => {
    const created = await sandbox.conn.sobject('Account').create({ Name: 'Changed within the second', Shop_Customer_Id__c: `RG-sec-${Date.now()}`, Phone: '444' });
    const [row] = (await sandbox.conn.query<{ Shop_Customer_Id__c: string; LastModifiedDate: string }>(`SELECT Shop_Customer_Id__c, LastModifiedDate FROM Account WHERE Id = '${(created as { id: string }).id}'`)).records;
    const second = Date.parse(row!.LastModifiedDate);
    assert.equal(second % 1000, 0, 'the org keeps whole seconds');
    // the replayed change happened 900 ms into the second the record was last changed in: which came last is unknown
    const sameSecond = account(row!.Shop_Customer_Id__c, { Phone: '555' });
    sameSecond.eventTime = second + 900;
    const before = account(row!.Shop_Customer_Id__c, { Phone: '666' });
    before.eventTime = second - 100;
    const stale = await staleReplays(sandbox.conn, [sameSecond, before]);
    assert.deepEqual([...stale].sort(), [sameSecond.commandId, before.commandId].sort(), 'both are dropped: neither is known to be newer');
  });
});
