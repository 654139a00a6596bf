import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jsforce from 'jsforce';
import { API_VERSION, jwtConnection, startTestSandbox } from './sandbox-helpers.ts';

describe('sandbox persistence across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-persist-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps records, deletions, credentials, sessions and the id sequence; one standard price book', async () => {
    const first = await startTestSandbox({}, dir);
    const conn = await jwtConnection(first.sb);
    const kept = await conn.sobject('Product2').create({ Name: 'Kept', Sku__c: 'KEEP-1' });
    const removed = await conn.sobject('Product2').create({ Name: 'Removed', Sku__c: 'GONE-1' });
    await conn.sobject('Product2').destroy(removed.id!);
    const token = conn.accessToken!;
    const creds = first.sb.credentials;
    await first.cleanup();

    const second = await startTestSandbox({}, dir);
    try {
      assert.deepEqual(second.sb.credentials, creds);
      const again = new jsforce.Connection({ instanceUrl: second.sb.loginUrl, accessToken: token, version: API_VERSION });
      const rec = await again.sobject('Product2').retrieve(kept.id!);
      assert.equal(rec.Name, 'Kept');
      const live = await again.query('SELECT Sku__c FROM Product2');
      assert.deepEqual(live.records.map((r) => r.Sku__c), ['KEEP-1']);
      // the deleted record's external id is free again, and new ids do not reuse old ones
      const reused = await again.sobject('Product2').create({ Name: 'Back', Sku__c: 'GONE-1' });
      assert.ok(![kept.id, removed.id].includes(reused.id));
      const books = await again.query('SELECT Id FROM Pricebook2 WHERE IsStandard = true');
      assert.equal(books.totalSize, 1);
    } finally {
      await second.cleanup();
    }
  });
});
