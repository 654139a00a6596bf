import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrgModel } from '../../src/sandbox/model/load.ts';
import { idSuffix, makeId, normalizeId } from '../../src/sandbox/store/ids.ts';
import { jwtConnection, startTestSandbox } from './sandbox-helpers.ts';

describe('org model file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sbx-model-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has the synced objects with their key prefixes and external ids, plus system fields', () => {
    const model = loadOrgModel();
    const prefixes = Object.fromEntries(model.objects.map((o) => [o.name, o.keyPrefix]));
    assert.deepEqual(
      [prefixes.Account, prefixes.Contact, prefixes.Opportunity, prefixes.OpportunityLineItem, prefixes.Product2, prefixes.Pricebook2, prefixes.PricebookEntry, prefixes.Case, prefixes.Campaign, prefixes.CampaignMember],
      ['001', '003', '006', '00k', '01t', '01s', '01u', '500', '701', '00v'],
    );
    const ext = (o: string) => model.objects.find((x) => x.name === o)!.fields.filter((f) => f.externalId).map((f) => f.name);
    assert.deepEqual(ext('Account'), ['Shop_Customer_Id__c']);
    assert.deepEqual(ext('Opportunity'), ['Shop_Order_Id__c']);
    assert.deepEqual(ext('Payment__c'), ['Provider_Transaction_Id__c']);
    const stock = model.objects.find((o) => o.name === 'Stock_Level__c')!;
    for (const f of ['Id', 'Name', 'IsDeleted', 'CreatedDate', 'LastModifiedDate', 'SystemModstamp']) assert.ok(stock.fields.some((x) => x.name === f), f);
  });

  it('merges a user file of extra fields and objects, usable over REST', async () => {
    const file = join(dir, 'extra.json');
    writeFileSync(file, JSON.stringify({ objects: [
      { name: 'Account', fields: [{ name: 'Loyalty_Tier__c', type: 'picklist', picklistValues: ['Gold', 'Silver'] }] },
      { name: 'Warehouse__c', label: 'Warehouse', keyPrefix: 'a0W', custom: true, fields: [{ name: 'Code__c', type: 'string', length: 10, externalId: true, unique: true }] },
    ] }));
    const t = await startTestSandbox({ modelFile: file });
    try {
      const conn = await jwtConnection(t.sb);
      const a = await conn.sobject('Account').create({ Name: 'Tiered', Loyalty_Tier__c: 'Gold' });
      assert.equal((await conn.sobject('Account').retrieve(a.id!)).Loyalty_Tier__c, 'Gold');
      const w = await conn.sobject('Warehouse__c').upsert({ Code__c: 'W-1', Name: 'Main' }, 'Code__c');
      assert.match(w.id!, /^a0W/);
    } finally {
      await t.cleanup();
    }
  });

  it('names the bad path of an invalid user file', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ objects: [{ name: 'Account', fields: [{ name: 'Oops__c', type: 'varchar' }] }] }));
    assert.throws(() => loadOrgModel(file), (err: Error) => /bad\.json/.test(err.message) && /objects\[0\]\(Account\)\.fields\[0\]\(Oops__c\)\.type/.test(err.message));
    writeFileSync(file, JSON.stringify({ objects: [{ name: 'Thing__c', fields: [] }] }));
    assert.throws(() => loadOrgModel(file), /needs label and keyPrefix/);
  });
});

describe('record ids', () => {
  it('are 18 chars: 15 + the case-safe checksum Salesforce computes', () => {
    assert.equal(idSuffix('001A0000006Vm9r'), 'IAC');
    const id = makeId('003', 12345);
    assert.equal(id.length, 18);
    assert.equal(normalizeId(id.slice(0, 15)), id);
    assert.match(id.slice(0, 15), /[A-Z]/);
    assert.equal(normalizeId(id.slice(0, 15).toLowerCase() + id.slice(15)), undefined, 'a case-mangled id fails its checksum');
    assert.equal(normalizeId('001-bad'), undefined);
  });
});
