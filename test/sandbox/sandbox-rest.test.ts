import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Connection } from 'jsforce';
import { jwtConnection, rejectionOf, startTestSandbox, type TestSandbox } from './sandbox-helpers.ts';

describe('sandbox REST API (real jsforce)', () => {
  let t: TestSandbox;
  let conn: Connection;
  before(async () => {
    t = await startTestSandbox();
    conn = await jwtConnection(t.sb);
  });
  after(async () => { await t.cleanup(); });

  it('creates, retrieves, updates and deletes a record with 18-char ids of the right prefix', async () => {
    const created = await conn.sobject('Account').create({ Name: 'Acme', Type: 'Prospect', Lifetime_Value__c: 12.5 });
    assert.equal(created.success, true);
    assert.match(created.id!, /^001[A-Za-z0-9]{12}[A-Z0-5]{3}$/);
    const rec = await conn.sobject('Account').retrieve(created.id!);
    assert.equal(rec.Name, 'Acme');
    assert.equal(rec.Lifetime_Value__c, 12.5);
    assert.match(String(rec.CreatedDate), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$/);
    const updated = await conn.sobject('Account').update({ Id: created.id!, Name: 'Acme Corp', Type: null });
    assert.equal(updated.success, true);
    const again = await conn.sobject('Account').retrieve(created.id!);
    assert.equal(again.Name, 'Acme Corp');
    assert.equal(again.Type, null);
    await conn.sobject('Account').destroy(created.id!);
    const gone = await rejectionOf(conn.sobject('Account').retrieve(created.id!));
    assert.equal(gone.errorCode, 'NOT_FOUND');
    const twice = await rejectionOf(conn.sobject('Account').destroy(created.id!));
    assert.equal(twice.errorCode, 'ENTITY_IS_DELETED');
    const all = await conn.query(`SELECT Id, IsDeleted FROM Account WHERE Id = '${created.id}'`, { scanAll: true });
    assert.equal(all.records[0]?.IsDeleted, true);
  });

  it('upserts one record by external id: created, then updated', async () => {
    const first = await conn.sobject('Product2').upsert({ Sku__c: 'SKU-1', Name: 'Mug', IsActive: true }, 'Sku__c');
    assert.equal(first.success, true);
    assert.equal((first as { created?: boolean }).created, true);
    const second = await conn.sobject('Product2').upsert({ Sku__c: 'SKU-1', Name: 'Big Mug' }, 'Sku__c');
    assert.equal((second as { created?: boolean }).created, false);
    assert.equal(second.id, first.id);
    const found = await conn.query("SELECT Name FROM Product2 WHERE Sku__c = 'SKU-1'");
    assert.deepEqual(found.records.map((r) => r.Name), ['Big Mug']);
  });

  it('upserts arrays through sObject Collections with per-record results in order', async () => {
    const rows = Array.from({ length: 150 }, (_, i) => ({ Shop_Customer_Id__c: `cust-${i}`, Name: `Customer ${i}` }));
    const res = await conn.sobject('Account').upsert(rows, 'Shop_Customer_Id__c');
    assert.equal(res.length, 150);
    assert.ok(res.every((r) => r.success && (r as { created?: boolean }).created === true));
    const again = await conn.sobject('Account').upsert([{ Shop_Customer_Id__c: 'cust-3', Name: 'Renamed' }, { Shop_Customer_Id__c: 'cust-new', Name: 'New' }], 'Shop_Customer_Id__c');
    assert.deepEqual(again.map((r) => (r as { created?: boolean }).created), [false, true]);
    assert.equal(again[0]!.id, res[3]!.id);
  });

  it('creates, updates and deletes arrays, with allOrNone rolling back every record', async () => {
    const created = await conn.sobject('Contact').create([{ LastName: 'A' }, { LastName: 'B' }]);
    assert.ok(created.every((r) => r.success));
    const partial = await conn.sobject('Contact').create([{ LastName: 'C' }, { FirstName: 'no last name' }], { allOrNone: false });
    assert.equal(partial[0]!.success, true);
    assert.equal(partial[1]!.success, false);
    const rolled = await conn.sobject('Contact').create([{ LastName: 'D' }, { FirstName: 'no last name' }], { allOrNone: true });
    assert.equal(rolled[0]!.success, false);
    assert.equal((rolled[0]!.errors[0] as unknown as { statusCode: string }).statusCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
    assert.equal((rolled[1]!.errors[0] as unknown as { statusCode: string }).statusCode, 'REQUIRED_FIELD_MISSING');
    const ds = await conn.query("SELECT Id FROM Contact WHERE LastName = 'D'");
    assert.equal(ds.totalSize, 0);
    const ids = created.map((r) => r.id!);
    const updated = await conn.sobject('Contact').update(ids.map((Id) => ({ Id, Email: 'x@example.com' })));
    assert.ok(updated.every((r) => r.success));
    const deleted = await conn.sobject('Contact').destroy(ids);
    assert.ok(deleted.every((r) => r.success));
  });

  it('rejects more than 200 records in one collections call, writing nothing', async () => {
    const rows = Array.from({ length: 201 }, (_, i) => ({ Sku__c: `BULKY-${i}`, Name: `P${i}` }));
    const err = await rejectionOf(conn.sobject('Product2').upsert(rows, 'Sku__c'));
    assert.equal(err.errorCode, 'EXCEEDED_ID_LIMIT');
    const count = await conn.query("SELECT COUNT() FROM Product2 WHERE Sku__c LIKE 'BULKY-%'");
    assert.equal(count.totalSize, 0);
  });

  it('resolves lookups given by external id and reports an unknown one', async () => {
    await conn.sobject('Account').upsert({ Shop_Customer_Id__c: 'lookup-1', Name: 'Parent' }, 'Shop_Customer_Id__c');
    const c = await conn.sobject('Contact').create({ LastName: 'Child', Account: { Shop_Customer_Id__c: 'lookup-1' } } as Record<string, unknown>);
    const q = await conn.query(`SELECT Account.Name, Account.Shop_Customer_Id__c FROM Contact WHERE Id = '${c.id}'`);
    assert.equal((q.records[0] as { Account: { Name: string } }).Account.Name, 'Parent');
    const err = await rejectionOf(conn.sobject('Contact').create({ LastName: 'Orphan', Account: { Shop_Customer_Id__c: 'missing' } } as Record<string, unknown>));
    assert.equal(err.errorCode, 'INVALID_FIELD');
    const p = await conn.sobject('Product2').create({ Name: 'Lamp', Sku__c: 'LAMP' });
    const s = await conn.sobject('Stock_Level__c').create({ Product__r: { Sku__c: 'LAMP' }, Warehouse__c: 'W1', Quantity__c: 4, Stock_Key__c: 'LAMP|W1' } as Record<string, unknown>);
    const sq = await conn.query(`SELECT Product__c, Product__r.Sku__c FROM Stock_Level__c WHERE Id = '${s.id}'`);
    assert.equal(sq.records[0]!.Product__c, p.id);
  });

  it('follows the price book rules: standard price first, line items priced from their entry', async () => {
    const std = (await conn.query('SELECT Id FROM Pricebook2 WHERE IsStandard = true')).records[0]!.Id as string;
    const shopBook = await conn.sobject('Pricebook2').create({ Name: 'Shop EUR', IsActive: true });
    const product = await conn.sobject('Product2').create({ Name: 'Kettle', Sku__c: 'KETTLE', IsActive: true });
    const early = await rejectionOf(conn.sobject('PricebookEntry').create({ Pricebook2Id: shopBook.id, Product2Id: product.id, UnitPrice: 30, IsActive: true }));
    assert.equal(early.errorCode, 'STANDARD_PRICE_NOT_DEFINED');
    await conn.sobject('PricebookEntry').create({ Pricebook2Id: std, Product2Id: product.id, UnitPrice: 25, IsActive: true });
    const twice = await rejectionOf(conn.sobject('PricebookEntry').create({ Pricebook2Id: std, Product2Id: product.id, UnitPrice: 26 }));
    assert.equal(twice.errorCode, 'DUPLICATE_VALUE');
    const opp = await conn.sobject('Opportunity').create({ Name: 'Order 1', StageName: 'Prospecting', CloseDate: '2026-12-01', Pricebook2Id: std });
    const line = await conn.sobject('OpportunityLineItem').create({ OpportunityId: opp.id, Product2Id: product.id, Quantity: 3 });
    const rec = await conn.sobject('OpportunityLineItem').retrieve(line.id!);
    assert.equal(rec.UnitPrice, 25);
    assert.equal(rec.TotalPrice, 75);
    assert.match(String(rec.PricebookEntryId), /^01u/);
    const noPrice = await rejectionOf(conn.sobject('OpportunityLineItem').create({ OpportunityId: opp.id, Quantity: 1 }));
    assert.equal(noPrice.errorCode, 'REQUIRED_FIELD_MISSING');
  });

  it('runs a composite request with @{ref} references in one transaction', async () => {
    const res = await conn.requestPost<{ compositeResponse: Array<{ httpStatusCode: number; body: any; referenceId: string }> }>('/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v60.0/sobjects/Account', referenceId: 'acct', body: { Name: 'Composite Co' } },
        { method: 'POST', url: '/services/data/v60.0/sobjects/Contact', referenceId: 'ct', body: { LastName: 'Ref', AccountId: '@{acct.id}' } },
        { method: 'GET', url: '/services/data/v60.0/sobjects/Contact/@{ct.id}?fields=AccountId', referenceId: 'read' },
      ],
    });
    assert.deepEqual(res.compositeResponse.map((r) => r.httpStatusCode), [201, 201, 200]);
    assert.equal(res.compositeResponse[2]!.body.AccountId, res.compositeResponse[0]!.body.id);

    const failed = await conn.requestPost<{ compositeResponse: Array<{ httpStatusCode: number; body: any }> }>('/composite', {
      allOrNone: true,
      compositeRequest: [
        { method: 'POST', url: '/services/data/v60.0/sobjects/Account', referenceId: 'a', body: { Name: 'Should Vanish' } },
        { method: 'POST', url: '/services/data/v60.0/sobjects/Contact', referenceId: 'c', body: { FirstName: 'no last name', AccountId: '@{a.id}' } },
      ],
    });
    assert.equal(failed.compositeResponse[0]!.body[0].errorCode, 'PROCESSING_HALTED');
    assert.equal(failed.compositeResponse[1]!.body[0].errorCode, 'REQUIRED_FIELD_MISSING');
    const vanished = await conn.query("SELECT Id FROM Account WHERE Name = 'Should Vanish'");
    assert.equal(vanished.totalSize, 0);
  });

  it('refuses a composite request of more than 25 subrequests, and lists API versions', async () => {
    const many = Array.from({ length: 26 }, (_, i) => ({ method: 'GET', url: '/services/data/v60.0/limits', referenceId: `r${i}` }));
    const err = await rejectionOf(conn.requestPost('/composite', { compositeRequest: many }));
    assert.equal(err.errorCode, 'INVALID_BATCH_REQUEST');
    const versions = await conn.request<Array<{ version: string; url: string }>>('/services/data');
    assert.ok(versions.some((v) => v.version === '60.0' && v.url === '/services/data/v60.0'));
  });

  it('pages a query past 2,000 records with queryMore (nextRecordsUrl)', async () => {
    for (let i = 0; i < 13; i++) {
      const rows = Array.from({ length: 200 }, (_, j) => ({ Stock_Key__c: `K-${i * 200 + j}`, Warehouse__c: 'W9', Quantity__c: j }));
      await conn.sobject('Stock_Level__c').upsert(rows, 'Stock_Key__c');
    }
    const first = await conn.query("SELECT Id, Stock_Key__c FROM Stock_Level__c WHERE Warehouse__c = 'W9'");
    assert.equal(first.totalSize, 2600);
    assert.equal(first.records.length, 2000);
    assert.equal(first.done, false);
    assert.ok(first.nextRecordsUrl);
    const more = await conn.queryMore(first.nextRecordsUrl!);
    assert.equal(more.records.length, 600);
    assert.equal(more.done, true);
    const all = await conn.query("SELECT Id FROM Stock_Level__c WHERE Warehouse__c = 'W9'").run({ autoFetch: true, maxFetch: 5000 });
    assert.equal(all.records.length, 2600);
  });

  it('describes objects with types, external ids, lookups and key prefixes', async () => {
    const global = await conn.describeGlobal();
    const names = global.sobjects.map((s) => s.name);
    for (const n of ['Account', 'Contact', 'Opportunity', 'OpportunityLineItem', 'Product2', 'Pricebook2', 'PricebookEntry', 'Case', 'Campaign', 'CampaignMember', 'Stock_Level__c', 'Payment__c', 'Invoice__c']) {
      assert.ok(names.includes(n), n);
    }
    const d = await conn.sobject('Stock_Level__c').describe();
    assert.equal(d.keyPrefix, 'a0A');
    const key = d.fields.find((f) => f.name === 'Stock_Key__c')!;
    assert.equal(key.externalId, true);
    const product = d.fields.find((f) => f.name === 'Product__c')!;
    assert.deepEqual(product.referenceTo, ['Product2']);
    assert.equal(product.relationshipName, 'Product__r');
    const opp = await conn.sobject('Opportunity').describe();
    const stage = opp.fields.find((f) => f.name === 'StageName')!;
    assert.ok(stage.picklistValues!.some((p) => p.value === 'Closed Won'));
  });

  it('reports API usage in Sforce-Limit-Info (conn.limitInfo) and /limits', async () => {
    await conn.query('SELECT Id FROM Account LIMIT 1');
    const usage = conn.limitInfo.apiUsage!;
    assert.ok(usage.used > 0);
    assert.equal(usage.limit, 100_000);
    const limits = await conn.limits();
    assert.equal(limits.DailyApiRequests.Max, 100_000);
    assert.ok(limits.DailyApiRequests.Remaining <= 100_000 - usage.used);
  });

  it('answers 300 when an external id matches several records (non-unique external id field)', async () => {
    // Shop_Id__c is not an external id: Sforce refuses it as an upsert key
    const err = await rejectionOf(conn.sobject('Account').upsert({ Shop_Id__c: 's1', Name: 'x' }, 'Shop_Id__c'));
    assert.equal(err.errorCode, 'NOT_FOUND');
  });
});
